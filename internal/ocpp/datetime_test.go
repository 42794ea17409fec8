package ocpp

import (
	"encoding/json"
	"testing"
	"time"
)

func TestParseDateTime(t *testing.T) {
	utc := func(y int, mo time.Month, d, h, mi, s, ns int) time.Time {
		return time.Date(y, mo, d, h, mi, s, ns, time.UTC)
	}
	base := utc(2026, 11, 24, 10, 11, 12, 0)
	ok := []struct {
		in   string
		want time.Time
	}{
		{"2026-11-24T10:11:12Z", base},
		{"2026-11-24T10:11:12.345Z", utc(2026, 11, 24, 10, 11, 12, 345000000)},
		{"2026-11-24T10:11:12.3Z", utc(2026, 11, 24, 10, 11, 12, 300000000)},
		{"2026-11-24T10:11:12.123456789Z", utc(2026, 11, 24, 10, 11, 12, 123456789)},
		{"2026-11-24T10:11:12.1234567891234Z", utc(2026, 11, 24, 10, 11, 12, 123456789)}, // extra digits ignored
		{"2026-11-24T10:11:12.000001Z", utc(2026, 11, 24, 10, 11, 12, 1000)},
		{"2026-11-24T11:11:12+01:00", base},
		{"2026-11-24T11:11:12+0100", base},
		{"2026-11-24T11:11:12+01", base},
		{"2026-11-24T05:41:12-04:30", base},
		{"2026-11-24T05:41:12-0430", base},
		{"2026-11-24T10:11:12+00:00", base},
		{"2026-11-24T10:11:12-00:00", base},
		{"2026-11-24T11:11:12.5+01:00", utc(2026, 11, 24, 10, 11, 12, 500000000)},
		{"2026-11-24T10:11:12", base}, // no offset: UTC
		{"2026-11-24T10:11:12.250", utc(2026, 11, 24, 10, 11, 12, 250000000)},
		{"2026-11-24 10:11:12Z", base}, // space instead of T
		{"2026-11-24 10:11:12", base},
		{"2026-11-24t10:11:12z", base}, // lower case
		{"2026-11-24t10:11:12.345z", utc(2026, 11, 24, 10, 11, 12, 345000000)},
		{"2024-02-29T00:00:00Z", utc(2024, 2, 29, 0, 0, 0, 0)},         // leap year
		{"2000-02-29T00:00:00Z", utc(2000, 2, 29, 0, 0, 0, 0)},         // 400-year rule
		{"2026-01-01T00:30:00+01:00", utc(2025, 12, 31, 23, 30, 0, 0)}, // offset crosses the year
		{"2016-12-31T23:59:60Z", utc(2017, 1, 1, 0, 0, 0, 0)},          // leap second folds forward
		{"2017-01-01T00:59:60+01:00", utc(2017, 1, 1, 0, 0, 0, 0)},     // leap second with offset (23:59:60 UTC)
		{"0000-01-01T00:00:00Z", utc(0, 1, 1, 0, 0, 0, 0)},
		{"9999-12-31T23:59:59.999Z", utc(9999, 12, 31, 23, 59, 59, 999000000)},
	}
	for _, c := range ok {
		got, err := ParseDateTime(c.in)
		if err != nil {
			t.Errorf("ParseDateTime(%q): %v", c.in, err)
			continue
		}
		if !got.Time.Equal(c.want) || got.Location() != time.UTC {
			t.Errorf("ParseDateTime(%q) = %v (%v), want %v UTC", c.in, got.Time, got.Location(), c.want)
		}
		if got != (DateTime{c.want}) {
			t.Errorf("ParseDateTime(%q) not == to the UTC value", c.in)
		}
	}
	bad := []string{
		"", "2026", "2026-11-24", "2026-11-24T", "2026-11-24T10:11", "2026-11-24T10:11Z",
		"2026-11-24T10:11:12.", "2026-11-24T10:11:12.Z", "2026-11-24T10:11:12,5Z",
		"2026-11-24T10:11:12+1", "2026-11-24T10:11:12+01:0", "2026-11-24T10:11:12+01:", "2026-11-24T10:11:12+", "2026-11-24T10:11:12+01:00:00",
		"2026-11-24T10:11:12+24:00", "2026-11-24T10:11:12+01:60", "2026-11-24T10:11:12ZZ", "2026-11-24T10:11:12Z ",
		" 2026-11-24T10:11:12Z", "2026-11-24T10:11:12 Z", "2026-11-24T10:11:12UTC", "2026-11-24T10:11:12GMT+1",
		"2026-13-24T10:11:12Z", "2026-00-24T10:11:12Z", "2026-11-31T10:11:12Z", "2026-11-00T10:11:12Z",
		"2025-02-29T10:11:12Z", "1900-02-29T10:11:12Z", "2026-11-24T24:00:00Z", "2026-11-24T10:60:12Z",
		"2026-11-24T10:11:61Z", "2026-11-24T10:11:60Z", // leap second not at 23:59 UTC
		"2026-11-24X10:11:12Z", "2026/11/24T10:11:12Z", "26-11-24T10:11:12Z", "2026-1-24T10:11:12Z",
		"+2026-11-24T10:11:12Z", "2026-11-24T1:11:12Z", "2026-11-24T10:11:12.123a", "Tue, 24 Nov 2026 10:11:12 GMT",
		"1732443072", "2026-11-24T10:11:12\x00",
	}
	for _, s := range bad {
		if v, err := ParseDateTime(s); err == nil {
			t.Errorf("ParseDateTime(%q) = %v, want error", s, v)
		}
		if ValidDateTime(s) {
			t.Errorf("ValidDateTime(%q) = true", s)
		}
	}
}

func TestDateTimeFormat(t *testing.T) {
	cases := []struct {
		t    time.Time
		want string
	}{
		{time.Date(2026, 11, 24, 10, 11, 12, 345678901, time.UTC), "2026-11-24T10:11:12.345Z"},
		{time.Date(2026, 11, 24, 11, 11, 12, 0, time.FixedZone("CET", 3600)), "2026-11-24T10:11:12.000Z"},
		{time.Date(5, 1, 2, 3, 4, 5, 6000000, time.UTC), "0005-01-02T03:04:05.006Z"},
	}
	for _, c := range cases {
		d := NewDateTime(c.t)
		if got := string(d.AppendFormat(nil)); got != c.want {
			t.Errorf("AppendFormat(%v) = %s, want %s", c.t, got, c.want)
		}
		if got := d.String(); got != c.want {
			t.Errorf("String() = %s", got)
		}
		j, _ := json.Marshal(d)
		if string(j) != `"`+c.want+`"` {
			t.Errorf("MarshalJSON = %s", j)
		}
		if d.Location() != time.UTC {
			t.Errorf("NewDateTime not UTC")
		}
	}
	if (DateTime{}).String() != "" {
		t.Error("zero DateTime String() should be empty")
	}
	if j, _ := json.Marshal(DateTime{}); string(j) != "null" {
		t.Errorf("zero MarshalJSON = %s", j)
	}
	if !(DateTime{time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)}).InRange() || (DateTime{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}).InRange() {
		t.Error("InRange wrong")
	}
}

func TestDateTimeJSON(t *testing.T) {
	var v struct {
		A DateTime  `json:"a"`
		B *DateTime `json:"b"`
		C DateTime  `json:"c"`
	}
	if err := json.Unmarshal([]byte(`{"a":"2026-11-24 10:11:12+0100","b":"2026-11-24T10:11:12.5z","c":null}`), &v); err != nil {
		t.Fatal(err)
	}
	if v.A.String() != "2026-11-24T09:11:12.000Z" || v.B.String() != "2026-11-24T10:11:12.500Z" || !v.C.IsZero() {
		t.Errorf("got %v %v %v", v.A, v.B, v.C)
	}
	if err := json.Unmarshal([]byte(`{"a":"2026-11-24\u005410:11:12Z"}`), &v); err != nil || v.A.String() != "2026-11-24T10:11:12.000Z" {
		t.Errorf("escaped: %v %v", err, v.A)
	}
	for _, bad := range []string{`{"a":"x"}`, `{"a":12}`, `{"a":"2026-11-24T10:11:12Q"}`} {
		if err := json.Unmarshal([]byte(bad), &v); err == nil {
			t.Errorf("%s: want error", bad)
		}
	}
	var d DateTime
	if err := d.UnmarshalText([]byte("2026-11-24T10:11:12Z")); err != nil || d.String() != "2026-11-24T10:11:12.000Z" {
		t.Errorf("UnmarshalText: %v %v", err, d)
	}
	if b, _ := d.MarshalText(); string(b) != "2026-11-24T10:11:12.000Z" {
		t.Errorf("MarshalText: %s", b)
	}
}

func TestParseDateTimeNoAlloc(t *testing.T) {
	n := testing.AllocsPerRun(100, func() {
		if _, err := ParseDateTime("2026-11-24T11:11:12.345+01:00"); err != nil {
			t.Fatal(err)
		}
	})
	if n != 0 {
		t.Errorf("ParseDateTime allocates %v times", n)
	}
}

func TestErrorKind(t *testing.T) {
	cases := []struct {
		k          ErrorKind
		s, c16, c2 string
	}{
		{KindFormation, "formation", "FormationViolation", "FormatViolation"},
		{KindType, "type", "TypeConstraintViolation", "TypeConstraintViolation"},
		{KindOccurrence, "occurrence", "OccurenceConstraintViolation", "OccurrenceConstraintViolation"},
		{KindProperty, "property", "PropertyConstraintViolation", "PropertyConstraintViolation"},
	}
	for _, c := range cases {
		if c.k.String() != c.s || c.k.Code(V16) != c.c16 || c.k.Code(V201) != c.c2 || c.k.Code(V21) != c.c2 {
			t.Errorf("%d: %s %s %s", c.k, c.k, c.k.Code(V16), c.k.Code(V201))
		}
	}
	if ErrorKind(0).String() != "ErrorKind(0)" || ErrorKind(9).Code(V16) != "" {
		t.Error("unknown kind")
	}
	e := &ValidationError{Kind: KindProperty, Path: "meterValue[0].sampledValue[2].unit", Msg: `value "Kwh" is not one of Wh, kWh`}
	if got := e.Error(); got != `ocpp: property violation at meterValue[0].sampledValue[2].unit: value "Kwh" is not one of Wh, kWh` {
		t.Errorf("Error() = %s", got)
	}
	if got := (&ValidationError{Kind: KindFormation, Msg: "x"}).Error(); got != "ocpp: formation violation at (root): x" {
		t.Errorf("Error() = %s", got)
	}
}
