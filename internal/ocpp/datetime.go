package ocpp

import (
	"errors"
	"strconv"
	"time"
)

// DateTime is an OCPP dateTime. Decoding is lenient because real stations send
// many shapes: RFC 3339 with or without fractional seconds (any number of
// digits; digits beyond nanoseconds are ignored), "Z" or "+hh:mm" or "+hhmm"
// or "+hh" offsets, no offset at all (taken as UTC), a space instead of "T",
// lower-case t/z. A leap second (ss = 60) is accepted where RFC 3339 allows it
// (23:59:60 UTC) and folds into the next second. Encoding is always UTC RFC
// 3339 with milliseconds: "2026-11-24T10:11:12.345Z" (sub-millisecond digits
// are truncated). The zero value means absent.
//
// Parsed values are always in UTC (Location() == time.UTC), so two DateTimes
// parsed from equal instants compare equal with ==.
type DateTime struct{ time.Time }

// NewDateTime returns t as a DateTime in UTC (monotonic clock reading dropped).
func NewDateTime(t time.Time) DateTime { return DateTime{t.Round(0).UTC()} }

var errDateTime = errors.New("ocpp: invalid date-time")

// ParseDateTime parses s leniently (see DateTime). The result is in UTC.
func ParseDateTime(s string) (DateTime, error) {
	t, ok := parseDateTime(s)
	if !ok {
		return DateTime{}, errDateTime
	}
	return DateTime{t}, nil
}

// ValidDateTime reports whether ParseDateTime accepts s.
func ValidDateTime(s string) bool {
	_, ok := parseDateTime(s)
	return ok
}

func d2(s string, i int) (int, bool) {
	a, b := s[i], s[i+1]
	if a < '0' || a > '9' || b < '0' || b > '9' {
		return 0, false
	}
	return int(a-'0')*10 + int(b-'0'), true
}

func daysIn(m, y int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// parseDateTime implements the lenient grammar without allocating:
//
//	YYYY-MM-DD ('T'|'t'|' ') hh:mm:ss ['.' digit+] [ 'Z' | 'z' | ('+'|'-') hh [[':'] mm] ]
func parseDateTime(s string) (time.Time, bool) {
	if len(s) < 19 || s[4] != '-' || s[7] != '-' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	switch s[10] {
	case 'T', 't', ' ':
	default:
		return time.Time{}, false
	}
	yh, ok1 := d2(s, 0)
	yl, ok2 := d2(s, 2)
	mo, ok3 := d2(s, 5)
	dd, ok4 := d2(s, 8)
	hh, ok5 := d2(s, 11)
	mi, ok6 := d2(s, 14)
	ss, ok7 := d2(s, 17)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7) {
		return time.Time{}, false
	}
	y := yh*100 + yl
	if mo < 1 || mo > 12 || dd < 1 || dd > daysIn(mo, y) || hh > 23 || mi > 59 || ss > 60 {
		return time.Time{}, false
	}
	i := 19
	ns := 0
	if i < len(s) && s[i] == '.' {
		i++
		start := i
		scale := 100000000
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			ns += int(s[i]-'0') * scale
			scale /= 10
			i++
		}
		if i == start {
			return time.Time{}, false
		}
	}
	off := 0 // offset east of UTC in minutes
	if i < len(s) {
		switch s[i] {
		case 'Z', 'z':
			i++
		case '+', '-':
			sign := 1
			if s[i] == '-' {
				sign = -1
			}
			i++
			if i+2 > len(s) {
				return time.Time{}, false
			}
			oh, ok := d2(s, i)
			if !ok || oh > 23 {
				return time.Time{}, false
			}
			i += 2
			om := 0
			if i < len(s) {
				if s[i] == ':' {
					i++
				}
				if i+2 > len(s) {
					return time.Time{}, false
				}
				om, ok = d2(s, i)
				if !ok || om > 59 {
					return time.Time{}, false
				}
				i += 2
			}
			off = sign * (oh*60 + om)
		default:
			return time.Time{}, false
		}
		if i != len(s) {
			return time.Time{}, false
		}
	}
	if ss == 60 {
		// RFC 3339 leap second: only valid at 23:59:60 UTC.
		um := ((hh*60+mi-off)%1440 + 1440) % 1440
		if um != 23*60+59 {
			return time.Time{}, false
		}
	}
	t := time.Date(y, time.Month(mo), dd, hh, mi, ss, ns, time.UTC)
	if off != 0 {
		t = t.Add(-time.Duration(off) * time.Minute)
	}
	return t, true
}

// AppendFormat appends the canonical OCPP encoding of d, without quotes:
// "2026-11-24T10:11:12.345Z" (UTC, milliseconds). Years outside 0..9999
// cannot be represented in RFC 3339; Validate in the generated packages
// rejects them.
func (d DateTime) AppendFormat(b []byte) []byte {
	t := d.Time.UTC()
	y, mo, dd := t.Date()
	hh, mi, ss := t.Clock()
	ms := t.Nanosecond() / 1e6
	if y < 0 || y > 9999 {
		return t.AppendFormat(b, "2006-01-02T15:04:05.000Z")
	}
	b = append(b,
		byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+int(mo)/10), byte('0'+int(mo)%10), '-',
		byte('0'+dd/10), byte('0'+dd%10), 'T',
		byte('0'+hh/10), byte('0'+hh%10), ':',
		byte('0'+mi/10), byte('0'+mi%10), ':',
		byte('0'+ss/10), byte('0'+ss%10), '.',
		byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10), 'Z')
	return b
}

// InRange reports whether d can be encoded as RFC 3339 (year 0..9999 in UTC).
func (d DateTime) InRange() bool {
	y := d.Time.UTC().Year()
	return y >= 0 && y <= 9999
}

// String returns the canonical encoding ("2026-11-24T10:11:12.345Z"), or ""
// for the zero value.
func (d DateTime) String() string {
	if d.IsZero() {
		return ""
	}
	return string(d.AppendFormat(make([]byte, 0, 24)))
}

// MarshalJSON encodes d as a JSON string in the canonical form ("null" for
// the zero value).
func (d DateTime) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte("null"), nil
	}
	b := make([]byte, 0, 26)
	b = append(b, '"')
	b = d.AppendFormat(b)
	return append(b, '"'), nil
}

// UnmarshalJSON decodes a JSON string leniently (see DateTime); null yields
// the zero value.
func (d *DateTime) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		*d = DateTime{}
		return nil
	}
	if len(data) < 2 || data[0] != '"' || data[len(data)-1] != '"' {
		return errDateTime
	}
	s := string(data[1 : len(data)-1])
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' { // escapes never occur in a valid date-time; be exact anyway
			u, err := strconv.Unquote(string(data))
			if err != nil {
				return errDateTime
			}
			s = u
			break
		}
	}
	v, err := ParseDateTime(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalText implements encoding.TextMarshaler (canonical form).
func (d DateTime) MarshalText() ([]byte, error) { return d.AppendFormat(nil), nil }

// UnmarshalText implements encoding.TextUnmarshaler (lenient).
func (d *DateTime) UnmarshalText(b []byte) error {
	v, err := ParseDateTime(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}
