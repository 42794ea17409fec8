package billing

import (
	"fmt"
	"testing"
	"time"
)

// auTariff is a typical Australian car-park tariff: GST-inclusive prices.
func auTariff(t testing.TB, elements string, extra ...string) *Tariff {
	t.Helper()
	ext := `"chargestar":{"tax":{"name":"GST","rate":0.1,"included":true,"rounding":"half_up"}}`
	if len(extra) > 0 {
		ext = extra[0]
	}
	return mustTariff(t, fmt.Sprintf(`{"id":"au","currency":"AUD","elements":%s,%s}`, elements, ext))
}

func flatTariff(t testing.TB, price string, tax string) *Tariff {
	return auTariff(t, `[{"price_components":[{"type":"FLAT","price":`+price+`,"step_size":1}]}]`,
		`"chargestar":{"tax":`+tax+`}`)
}

var sydneyMorning = time.Date(2025, 3, 3, 10, 0, 0, 0, time.UTC)

// Tax-inclusive GST is total/11, rounded to the nearest cent half up, on
// the total (ATO). With 10% no inclusive total ever lands exactly on half a
// cent (total/11 = n + ½ would need total = 11n + 5.5 cents), so "half up"
// shows only in exclusive pricing.
func TestGSTInclusive(t *testing.T) {
	gst := `{"name":"GST","rate":0.1,"included":true}`
	cases := []struct {
		price          string
		total, tax, ex int64
	}{
		{"10.05", 1005, 91, 914}, // 10.05/11 = 0.9136… → $0.91
		{"11.00", 1100, 100, 1000},
		{"23.00", 2300, 209, 2091}, // 2.0909… → $2.09
		{"0.05", 5, 0, 5},          // 0.0045… → $0.00
		{"0.06", 6, 1, 5},          // 0.0054… → $0.01
		{"1.10", 110, 10, 100},
		{"0.16", 16, 1, 15}, // 0.01454… → $0.01
		{"0.17", 17, 2, 15}, // 0.01545… → $0.02
	}
	for _, tc := range cases {
		tariff := flatTariff(t, tc.price, gst)
		c := mustPrice(t, tariff, time.UTC, newTimeline(sydneyMorning).idle(time.Minute).stop())
		if c.Total != tc.total || c.Tax != tc.tax || c.ExclTax != tc.ex {
			t.Errorf("$%s incl: total %d GST %d excl %d, want %d %d %d", tc.price, c.Total, c.Tax, c.ExclTax, tc.total, tc.tax, tc.ex)
		}
		if !c.PricesIncludeTax || c.TaxName != "GST" {
			t.Errorf("$%s: inclusive=%v name=%q", tc.price, c.PricesIncludeTax, c.TaxName)
		}
	}
}

// Tax-exclusive operators: GST = 10% of the subtotal, rounded per the
// configured mode. $10.05 + 10% = $1.005: half up gives $1.01 (ATO),
// half even $1.00, down $1.00, up $1.01.
func TestGSTExclusiveRounding(t *testing.T) {
	cases := []struct {
		mode     RoundingMode
		price    string
		tax, tot int64
	}{
		{HalfUp, "10.05", 101, 1106},
		{"", "10.05", 101, 1106}, // default is half up
		{HalfEven, "10.05", 100, 1105},
		{HalfEven, "10.15", 102, 1117}, // 1.015 → 1.02 (2 is even)
		{Down, "10.05", 100, 1105},
		{Up, "10.01", 101, 1102}, // 1.001 → 1.01
		{HalfUp, "0.05", 1, 6},   // half a cent → a cent
		{HalfUp, "0.04", 0, 4},   // 0.4 cent → none
	}
	for _, tc := range cases {
		tax := fmt.Sprintf(`{"name":"GST","rate":0.1,"included":false,"rounding":%q}`, tc.mode)
		if tc.mode == "" {
			tax = `{"name":"GST","rate":0.1,"included":false}`
		}
		c := mustPrice(t, flatTariff(t, tc.price, tax), time.UTC, newTimeline(sydneyMorning).idle(time.Minute).stop())
		if c.Tax != tc.tax || c.Total != tc.tot {
			t.Errorf("%s $%s excl: GST %d total %d, want %d %d", tc.mode, tc.price, c.Tax, c.Total, tc.tax, tc.tot)
		}
	}
}

// Money is rounded once per receipt line and tax once per session, not per
// line: three lines of $0.045 GST-exclusive tax each would round to $0.15
// per line but are $0.14 on the total.
func TestTaxOnTotalNotPerLine(t *testing.T) {
	// $0.45/kWh excl. 10%: 1 kWh = $0.45 (GST 4.5c); time $0.45 for 1 h
	// (4.5c); fee $0.45 (4.5c). Per line half up: 5+5+5 = 15c. On the
	// total $1.35 × 10% = 13.5c → 14c.
	tariff := auTariff(t, `[{"price_components":[
		{"type":"FLAT","price":0.45,"step_size":1},
		{"type":"ENERGY","price":0.45,"step_size":1},
		{"type":"TIME","price":0.45,"step_size":1}]}]`,
		`"chargestar":{"tax":{"name":"GST","rate":0.1,"included":false}}`)
	c := mustPrice(t, tariff, time.UTC, newTimeline(sydneyMorning).charge(time.Hour, 1000).stop())
	if c.ExclTax != 135 || c.Tax != 14 || c.Total != 149 {
		t.Errorf("excl %d tax %d total %d, want 135 14 149", c.ExclTax, c.Tax, c.Total)
	}
	// The per-dimension shares of the 14c still add up to it.
	if got := c.Flat.Tax + c.Energy.Tax + c.Time.Tax; got != 14 {
		t.Errorf("shares add up to %d", got)
	}
}

// Each line is rounded to a whole cent half up: 0.1 kWh at $0.55 is 5.5c
// → 6c.
func TestLineRounding(t *testing.T) {
	tariff := auTariff(t, `[{"price_components":[{"type":"ENERGY","price":0.55,"step_size":1}]}]`)
	c := mustPrice(t, tariff, time.UTC, newTimeline(sydneyMorning).charge(time.Minute, 100).stop())
	if c.Total != 6 || c.Tax != 1 { // GST 6/11 = 0.545c → 1c
		t.Errorf("total %d GST %d, want 6 and 1", c.Total, c.Tax)
	}
}

// The typical Charge Star tariff: $0.55/kWh and a $1.00 fee incl. GST; a
// 40 kWh, one-hour session is $23.00, GST $2.09.
func TestAustralianSession(t *testing.T) {
	tariff := auTariff(t, `[{"price_components":[
		{"type":"FLAT","price":1.00,"step_size":1},
		{"type":"ENERGY","price":0.55,"step_size":1},
		{"type":"PARKING_TIME","price":6.00,"step_size":60}]}]`,
		`"chargestar":{"tax":{"name":"GST","rate":0.1,"included":true},"parking_grace_seconds":900}`)
	syd := mustLoc(t, "Australia/Sydney")
	start := time.Date(2025, 3, 3, 10, 0, 0, 0, syd)
	c := mustPrice(t, tariff, syd, newTimeline(start).charge(time.Hour, 40_000).stop())
	if c.Total != 2300 || c.Tax != 209 || c.ExclTax != 2091 {
		t.Fatalf("total %d GST %d excl %d, want 2300 209 2091", c.Total, c.Tax, c.ExclTax)
	}
	if c.Energy.InclTax != 2200 || c.Flat.InclTax != 100 || c.Energy.Tax+c.Flat.Tax != 209 {
		t.Errorf("breakdown energy %+v flat %+v", c.Energy, c.Flat)
	}
	// Idle 40 min with 15 min grace: 25 min × $0.10/min = $2.50.
	c = mustPrice(t, tariff, syd, newTimeline(start).charge(time.Hour, 40_000).idle(40*time.Minute).stop())
	if c.Total != 2550 || c.Quantities.GraceTime != 15*time.Minute || c.Quantities.BilledParkingTime != 25*time.Minute {
		t.Errorf("with idle: total %d grace %s billed idle %s%s", c.Total, c.Quantities.GraceTime, c.Quantities.BilledParkingTime, describeCost(c))
	}
	// Idle inside the grace period costs nothing.
	c = mustPrice(t, tariff, syd, newTimeline(start).charge(time.Hour, 40_000).idle(14*time.Minute).stop())
	if c.Total != 2300 {
		t.Errorf("idle within grace: total %d", c.Total)
	}
	// Every idle stretch gets its grace: a 10 min pause mid-session is free,
	// then 20 min idle at the end bills 5 min.
	c = mustPrice(t, tariff, syd, newTimeline(start).charge(30*time.Minute, 20_000).idle(10*time.Minute).
		charge(30*time.Minute, 20_000).idle(20*time.Minute).stop())
	if c.Total != 2350 {
		t.Errorf("two idle stretches: total %d, want 2350%s", c.Total, describeCost(c))
	}
}

// min_price and max_price apply to the tax-inclusive total of a
// tax-inclusive tariff, and GST is then total/11.
func TestAustralianMinMaxPrice(t *testing.T) {
	tariff := auTariff(t, `[{"price_components":[{"type":"ENERGY","price":0.55,"step_size":1}]}]`,
		`"min_price":{"incl_vat":2.00},"max_price":{"incl_vat":30.00},"chargestar":{"tax":{"name":"GST","rate":0.1,"included":true}}`)
	cases := []struct {
		wh           int64
		total, tax   int64
		adjust       int64
		adjustAmount LineKind
	}{
		{1000, 200, 18, 145, LineMinimumPrice},        // $0.55 → $2.00; 200/11 = 18.18 → 18c
		{10_000, 550, 50, 0, ""},                      // $5.50
		{100_000, 3000, 273, -2500, LineMaximumPrice}, // $55.00 → $30.00; 272.7 → 273
	}
	for _, tc := range cases {
		c := mustPrice(t, tariff, time.UTC, newTimeline(sydneyMorning).charge(time.Hour, tc.wh).stop())
		if c.Total != tc.total || c.Tax != tc.tax || c.Adjustment.InclTax != tc.adjust {
			t.Errorf("%d Wh: total %d GST %d adjustment %d, want %d %d %d", tc.wh, c.Total, c.Tax, c.Adjustment.InclTax, tc.total, tc.tax, tc.adjust)
		}
		if tc.adjustAmount != "" && c.Lines[len(c.Lines)-1].Kind != tc.adjustAmount {
			t.Errorf("%d Wh: last line %+v", tc.wh, c.Lines[len(c.Lines)-1])
		}
	}
}

// A min_price or max_price given on one side only is applied on that side;
// the other follows at the session's own tax rate.
func TestBoundOnOtherSide(t *testing.T) {
	// Inclusive prices, a cap of $10.00 before GST = $11.00 with it.
	tariff := auTariff(t, `[{"price_components":[{"type":"ENERGY","price":0.55,"step_size":1}]}]`,
		`"max_price":{"excl_vat":10.00},"chargestar":{"tax":{"name":"GST","rate":0.1,"included":true}}`)
	c := mustPrice(t, tariff, time.UTC, newTimeline(sydneyMorning).charge(time.Hour, 40_000).stop())
	if c.ExclTax != 1000 || c.Total != 1100 {
		t.Errorf("excl-side cap: excl %d total %d, want 1000 1100", c.ExclTax, c.Total)
	}
	// Exclusive prices, a floor of $5.50 with GST.
	tariff = auTariff(t, `[{"price_components":[{"type":"ENERGY","price":0.50,"step_size":1}]}]`,
		`"min_price":{"incl_vat":5.50},"chargestar":{"tax":{"name":"GST","rate":0.1,"included":false}}`)
	c = mustPrice(t, tariff, time.UTC, newTimeline(sydneyMorning).charge(time.Hour, 1000).stop())
	if c.ExclTax != 500 || c.Total != 550 {
		t.Errorf("incl-side floor: excl %d total %d, want 500 550", c.ExclTax, c.Total)
	}
}

func TestAustralianGSTHelper(t *testing.T) {
	g := AustralianGST()
	if g.Name != "GST" || !g.Rate.Equal(MustDecimal("0.1")) || !g.Included || g.Rounding != HalfUp {
		t.Errorf("AustralianGST() = %+v", g)
	}
}

// A tax rate is a fraction; "10" for 10% is caught.
func TestTaxRateIsAFraction(t *testing.T) {
	_, err := ParseTariff([]byte(`{"currency":"AUD","elements":[{"price_components":[{"type":"FLAT","price":1,"step_size":1}]}],
		"chargestar":{"tax":{"name":"GST","rate":10,"included":true}}}`))
	if err == nil {
		t.Fatal("rate 10 accepted")
	}
	_, err = ParseTariff([]byte(`{"currency":"AUD","elements":[{"price_components":[{"type":"FLAT","price":1,"step_size":1}]}],
		"chargestar":{"tax":{"name":"GST","included":true}}}`))
	if err == nil {
		t.Fatal("missing rate accepted")
	}
}
