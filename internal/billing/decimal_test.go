package billing

import (
	"encoding/json"
	"testing"
	"time"
)

func TestParseDecimalExact(t *testing.T) {
	for _, tc := range []struct{ in, out string }{
		{"0.1", "0.1"}, {"0.10", "0.1"}, {"2.00", "2"}, {"-1.5", "-1.5"}, {"+3", "3"},
		{"2.5e-3", "0.0025"}, {"1E2", "100"}, {"0", "0"}, {"5.2", "5.2"},
	} {
		d, err := ParseDecimal(tc.in)
		if err != nil || d.String() != tc.out {
			t.Errorf("ParseDecimal(%q) = %s, %v; want %s", tc.in, d, err, tc.out)
		}
	}
	// 0.1 + 0.2 is exactly 0.3: no float ever touches a price.
	if !MustDecimal("0.1").Add(MustDecimal("0.2")).Equal(MustDecimal("0.3")) {
		t.Error("0.1 + 0.2 != 0.3")
	}
	for _, bad := range []string{"", ".5", "5.", "1/3", "1e", "0x10", "NaN", "Inf", "1e31", "1 ", "--1", "12345678901234567890123456789012345678901234567890123456789012345"} {
		if _, err := ParseDecimal(bad); err == nil {
			t.Errorf("ParseDecimal(%q) accepted", bad)
		}
	}
}

func TestDecimalRound(t *testing.T) {
	for _, tc := range []struct {
		in    string
		scale int
		mode  RoundingMode
		out   string
	}{
		{"1.005", 2, HalfUp, "1.01"}, {"1.005", 2, HalfEven, "1"}, {"1.015", 2, HalfEven, "1.02"},
		{"-1.005", 2, HalfUp, "-1.01"}, {"1.009", 2, Down, "1"}, {"1.001", 2, Up, "1.01"},
		{"-1.001", 2, Up, "-1.01"}, {"2.5", 0, HalfUp, "3"}, {"2.5", 0, HalfEven, "2"}, {"2.4999", 0, HalfUp, "2"},
	} {
		if got := MustDecimal(tc.in).Round(tc.scale, tc.mode).String(); got != tc.out {
			t.Errorf("Round(%s, %d, %s) = %s, want %s", tc.in, tc.scale, tc.mode, got, tc.out)
		}
	}
	third := DecimalFromInt(1).Quo(DecimalFromInt(3))
	if third.String() != "1/3" || third.StringFixed(4) != "0.3333" {
		t.Errorf("1/3: %s %s", third, third.StringFixed(4))
	}
	if b, err := json.Marshal(third); err != nil || string(b) != "0.333333333333333" {
		t.Errorf("1/3 marshals as %s, %v", b, err)
	}
}

func TestDecimalJSON(t *testing.T) {
	var v struct{ A, B Decimal }
	if err := json.Unmarshal([]byte(`{"A":0.55,"B":"1.10"}`), &v); err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(v)
	if string(out) != `{"A":0.55,"B":1.1}` {
		t.Errorf("marshal %s", out)
	}
	if err := json.Unmarshal([]byte(`{"A":null}`), &v); err == nil {
		t.Error("null accepted as a number")
	}
	if !NewDecimal(55, 2).Equal(MustDecimal("0.55")) || !NewDecimal(3, -2).Equal(DecimalFromInt(300)) {
		t.Error("NewDecimal")
	}
}

func TestFormatMoney(t *testing.T) {
	for _, tc := range []struct {
		amount int64
		cur    string
		out    string
	}{
		{2300, "AUD", "$23.00"}, {5, "NZD", "$0.05"}, {123456789, "USD", "$1,234,567.89"},
		{-150, "EUR", "-€1.50"}, {99, "GBP", "£0.99"}, {500, "JPY", "¥500"}, {1234567, "JPY", "¥1,234,567"},
		{100, "CHF", "CHF 1.00"}, {100, "XXX", "XXX 1.00"}, {0, "AUD", "$0.00"},
	} {
		if got := FormatMoney(tc.amount, tc.cur); got != tc.out {
			t.Errorf("FormatMoney(%d, %s) = %q, want %q", tc.amount, tc.cur, got, tc.out)
		}
	}
}

func TestFormatPrice(t *testing.T) {
	for _, tc := range []struct{ price, cur, out string }{
		{"0.55", "AUD", "$0.55"}, {"0.5", "AUD", "$0.50"}, {"0.275", "EUR", "€0.275"},
		{"0.123456", "USD", "$0.1235"}, {"12", "JPY", "¥12"}, {"12.5", "JPY", "¥12.5"}, {"2", "GBP", "£2.00"},
	} {
		if got := FormatPrice(MustDecimal(tc.price), tc.cur); got != tc.out {
			t.Errorf("FormatPrice(%s, %s) = %q, want %q", tc.price, tc.cur, got, tc.out)
		}
	}
}

func TestMinorUnits(t *testing.T) {
	for cur, want := range map[string]int{"AUD": 2, "NZD": 2, "USD": 2, "EUR": 2, "GBP": 2, "JPY": 0, "KRW": 0} {
		if got, ok := MinorUnits(cur); !ok || got != want {
			t.Errorf("MinorUnits(%s) = %d, %v", cur, got, ok)
		}
	}
	if _, ok := MinorUnits("BTC"); ok {
		t.Error("BTC is not a supported currency")
	}
}

// Yen has no minor unit: amounts are whole yen and rounding is to the yen.
func TestPricingInYen(t *testing.T) {
	tariff := mustTariff(t, `{"currency":"JPY","elements":[{"price_components":[{"type":"ENERGY","price":45.5,"step_size":1}]}],
		"chargestar":{"tax":{"name":"消費税","rate":0.1,"included":true}}}`)
	c := mustPrice(t, tariff, tokyo(t), newTimeline(sydneyMorning).charge(time1h, 10_001).stop())
	// 10.001 kWh × ¥45.5 = ¥455.0455 → ¥455; tax 455/11 = 41.36 → ¥41.
	if c.Total != 455 || c.Tax != 41 {
		t.Errorf("total %d tax %d, want ¥455 and ¥41", c.Total, c.Tax)
	}
}

const time1h = time.Hour

func tokyo(t *testing.T) *time.Location { return mustLoc(t, "Asia/Tokyo") }
