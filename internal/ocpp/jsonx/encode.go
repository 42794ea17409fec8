package jsonx

import (
	"encoding/json"
	"math"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/chargestar/chargestar/internal/ocpp"
)

// noEscape[c] is true for ASCII bytes that appear verbatim inside a JSON string.
var noEscape = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string. Invalid UTF-8 bytes are written as
// \ufffd, control characters and U+2028/U+2029 are escaped; '<', '>' and '&'
// are not.
func AppendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if noEscape[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// AppendKey appends `"name":` (name must not need escaping).
func AppendKey(b []byte, name string) []byte {
	b = append(b, '"')
	b = append(b, name...)
	return append(b, '"', ':')
}

// AppendInt appends v in decimal.
func AppendInt(b []byte, v int) []byte { return strconv.AppendInt(b, int64(v), 10) }

// AppendFloat appends f in the shortest decimal form without exponent
// (strconv 'f', -1). NaN and ±Inf, which JSON cannot represent, are written
// as null (Validate reports them).
func AppendFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	return strconv.AppendFloat(b, f, 'f', -1, 64)
}

// AppendBool appends true or false.
func AppendBool(b []byte, v bool) []byte {
	if v {
		return append(b, "true"...)
	}
	return append(b, "false"...)
}

// AppendDateTime appends t as a JSON string in the canonical OCPP form.
func AppendDateTime(b []byte, t ocpp.DateTime) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b)
	return append(b, '"')
}

// AppendRaw appends a raw JSON value verbatim ("null" when empty).
func AppendRaw(b []byte, v json.RawMessage) []byte {
	if len(v) == 0 {
		return append(b, "null"...)
	}
	return append(b, v...)
}

// AppendExtra appends additional members (",name:value" each).
func AppendExtra(b []byte, extra []ocpp.RawField, comma bool) []byte {
	for _, f := range extra {
		if comma {
			b = append(b, ',')
		}
		comma = true
		b = AppendString(b, f.Name)
		b = append(b, ':')
		b = AppendRaw(b, f.Value)
	}
	return b
}

// ValidRaw reports whether a Go-built raw value is one valid JSON value.
func ValidRaw(v json.RawMessage) bool { return len(v) == 0 || Valid(v) }

// RuneCount counts characters the way JSON Schema maxLength does (code
// points; an invalid UTF-8 byte counts as one, as it is encoded as U+FFFD).
func RuneCount(s string) int { return utf8.RuneCountInString(s) }

// IsURI reports whether s is an absolute URI, with the same rules as the
// "uri" format of github.com/santhosh-tekuri/jsonschema (net/url parsing,
// bracketed valid IPv6 hosts, a scheme present).
func IsURI(s string) bool {
	u, err := url.Parse(s)
	if err != nil {
		return false
	}
	host := u.Hostname()
	if strings.Contains(host, ":") {
		if !strings.Contains(u.Host, "[") || !strings.Contains(u.Host, "]") {
			return false
		}
		a, err := netip.ParseAddr(host)
		if err != nil || a.Zone() != "" {
			return false
		}
	}
	return u.IsAbs()
}

// Finite reports whether f is neither NaN nor ±Inf.
func Finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }
