package billing

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chargestar/chargestar/internal/testutil"
)

// Every example tariff of the OCPI specification parses, validates, and
// survives a JSON round trip unchanged.
func TestOCPIExampleTariffsParse(t *testing.T) {
	dir := filepath.Join(testutil.RequireSharedDir(t), "ocpi-examples")
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		testutil.SkipOrFail(t, "no OCPI examples in "+dir)
	}
	if len(files) < 21 {
		t.Errorf("found %d example tariffs, want the 21 of the README", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			tariff, err := ParseTariff(raw)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			// Every field of the file is in the model: compare the file
			// and the re-encoded tariff as generic JSON, numbers by value.
			out, err := json.Marshal(tariff)
			if err != nil {
				t.Fatalf("marshal: %v", err)
			}
			var want, got any
			decodeNumbers(t, raw, &want)
			decodeNumbers(t, out, &got)
			if !sameJSON(want, got) {
				t.Errorf("round trip changed the tariff\nfile: %s\nout:  %s", compact(raw), out)
			}
			back, err := ParseTariff(out)
			if err != nil {
				t.Fatalf("re-parse: %v", err)
			}
			out2, _ := json.Marshal(back)
			if string(out2) != string(out) {
				t.Errorf("second round trip differs:\n%s\n%s", out, out2)
			}
			if _, err := Describe(tariff, DescribeOptions{}); err != nil {
				t.Errorf("describe: %v", err)
			}
		})
	}
}

func decodeNumbers(t *testing.T, b []byte, v *any) {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		t.Fatal(err)
	}
}

// sameJSON compares decoded JSON with numbers compared as exact decimals
// (0.50 == 0.5) and timestamps as instants.
func sameJSON(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			if !sameJSON(v, y[k]) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !sameJSON(x[i], y[i]) {
				return false
			}
		}
		return true
	case json.Number:
		y, ok := b.(json.Number)
		if !ok {
			return false
		}
		dx, err1 := ParseDecimal(x.String())
		dy, err2 := ParseDecimal(y.String())
		return err1 == nil && err2 == nil && dx.Equal(dy)
	case string:
		y, ok := b.(string)
		if !ok {
			return false
		}
		if tx, err := parseDateTime(x); err == nil {
			ty, err := parseDateTime(y)
			return err == nil && tx.Equal(ty)
		}
		return x == y
	}
	return a == b
}

func compact(b []byte) string { return strings.Join(strings.Fields(string(b)), " ") }

// The worked examples of the OCPI 2.2.1 Tariffs module (and the CDR
// module's example CDR), recomputed from the rules. Each case says how its
// figures follow; where the specification prints something else, the
// comment says why the rules give a different number.
//
// Tax: these tariffs carry OCPI per-component VAT on prices that exclude
// it; VAT is computed exactly per line and rounded once on the total.
func TestOCPIWorkedExamples(t *testing.T) {
	ams := mustLoc(t, "Europe/Amsterdam")
	day := func(y int, m time.Month, d, hh, mm int) time.Time { return time.Date(y, m, d, hh, mm, 0, 0, ams) }
	monday := func(hh, mm int) time.Time { return day(2015, 6, 29, hh, mm) } // 29 June 2015 was a Monday
	saturday := func(hh, mm int) time.Time { return day(2015, 7, 4, hh, mm) }
	at := monday(10, 0)

	cases := []struct {
		name, file string
		usage      Usage
		excl, incl int64
	}{
		{
			// 20 kWh × €0.25 = €5.00; VAT 10% = €0.50 → €5.50. As printed.
			name: "8: 0.25/kWh, 20 kWh", file: "tariff_8_simple_025kwh.json",
			usage: newTimeline(at).charge(time.Hour, 20_000).stop(), excl: 500, incl: 550,
		},
		{
			// €0.50 start (20% VAT €0.10) + 20 kWh × €0.25 = €5.00 (10% VAT
			// €0.50): €5.50 excl, €6.10 incl. As printed.
			name: "9: start fee, 20 kWh", file: "tariff_9_025kwh_start.json",
			usage: newTimeline(at).charge(time.Hour, 20_000).stop(), excl: 550, incl: 610,
		},
		{
			// 20 kWh: €5.00 excl, €5.50 incl, above the minimum. As printed.
			name: "12: min price, 20 kWh", file: "tariff_12_025kwh_min_price.json",
			usage: newTimeline(at).charge(time.Hour, 20_000).stop(), excl: 500, incl: 550,
		},
		{
			// 1 kWh: €0.25 excl (€0.275 incl) is below the minimum, so the
			// session costs min_price: €0.50 excl, €0.55 incl. As printed
			// ("if less than 2 kWh is charged, 0.50 … 0.55 will be billed").
			name: "12: min price, 1 kWh", file: "tariff_12_025kwh_min_price.json",
			usage: newTimeline(at).charge(10*time.Minute, 1000).stop(), excl: 50, incl: 55,
		},
		{
			// €0.50 start + 20 kWh × €0.25 + parking 40 min billed per 15 min
			// = 45 min × €2.00/h = €1.50: €7.00 excl. VAT: 0.10 + 0.50 +
			// 0.30 = €0.90 → €7.90. As printed.
			name: "10: parking fee + start fee", file: "tariff_10_025kwh_parking_start.json",
			usage: newTimeline(at).charge(time.Hour, 20_000).idle(40 * time.Minute).stop(), excl: 700, incl: 790,
		},
		{
			// 50 kWh: €0.50 + €12.50 = €13.00 excl (VAT 0.10 + 1.25 → €14.35
			// incl) is above max_price, so €10.00 excl and €11.00 incl. As
			// printed.
			name: "6: max price, 50 kWh", file: "tariff_6_025kwh_start_max_price.json",
			usage: newTimeline(at).charge(2*time.Hour, 50_000).stop(), excl: 1000, incl: 1100,
		},
		{
			// 30 kWh: €0.50 + €7.50 = €8.00 excl; VAT 0.10 + 0.75 → €8.85.
			// As printed.
			name: "6: max price, 30 kWh", file: "tariff_6_025kwh_start_max_price.json",
			usage: newTimeline(at).charge(2*time.Hour, 30_000).stop(), excl: 800, incl: 885,
		},
		{
			// 2.5 h charging × €2.00/h = €5.00; VAT 10% → €5.50. As printed.
			name: "1: 2 euro per hour", file: "tariff_1_simple_2hour.json",
			usage: newTimeline(at).charge(150*time.Minute, 11_000).stop(), excl: 500, incl: 550,
		},
		{
			// 150 min charging × €3.00/h = €7.50 (10% VAT €0.75) + 42 min
			// parking billed per 5 min = 45 min × €5.00/h = €3.75 (20% VAT
			// €0.75): €11.25 excl, €12.75 incl. As printed.
			name: "13: 3/h charging, 5/h parking", file: "tariff_13_simple_3hour_5parking.json",
			usage: newTimeline(at).charge(150*time.Minute, 20_000).idle(42 * time.Minute).stop(), excl: 1125, incl: 1275,
		},
		{
			// 2.5 h × €1.90/h = €4.75 (per 5 min: exact); VAT 5.2% =
			// €0.247 → €0.25: €5.00 incl. As printed.
			name: "2: alt text, 1.90/h", file: "tariff_2_alt_text.json",
			usage: newTimeline(at).charge(150*time.Minute, 20_000).stop(), excl: 475, incl: 500,
		},
		{
			// 20.45 kWh billed per 100 Wh is 20.5 kWh × €0.25 = €5.125 →
			// €5.13, plus the €0.50 start fee: €5.63 excl. VAT 0.10 + 0.513 =
			// €0.613 → €0.61: €6.24 incl. The specification prints €5.50 /
			// €6.05, which leaves out the start fee of the very tariff it
			// shows (and 20.5 kWh × 0.25 is 5.125, not 5.00).
			name: "3: energy per 0.1 kWh", file: "tariff_3_alt_url.json",
			usage: newTimeline(at).charge(time.Hour, 20_450).stop(), excl: 563, incl: 624,
		},
		{
			// Monday 09:30, 147 min charging at 16 A (element 2, < 32 A:
			// €1.00/h per 15 min → 150 min = €2.50, 20% VAT), then 42 min
			// parking at 11:57–12:39 (element 5, weekdays 09–18: €5.00/h per
			// 5 min → 45 min = €3.75, 10% VAT), start fee €2.50 (15% VAT):
			// €8.75 excl. VAT 0.375 + 0.50 + 0.375 = €1.25 → €10.00. As
			// printed.
			name: "4: complex, Monday", file: "tariff_4_complex.json",
			usage: newTimeline(monday(9, 30)).charge(147*time.Minute, 9_000, 16_000).idle(42 * time.Minute).stop(),
			excl:  875, incl: 1000,
		},
		{
			// Saturday 13:30, 114 min at 43 A (element 4, ≥ 32 A at weekends:
			// €1.25/h per 10 min → 120 min = €2.50), 71 min parking at
			// 15:24–16:35 (element 6, Saturday 10–17: €6.00/h per 5 min →
			// 75 min = €7.50), start fee €2.50: €12.50 excl. VAT 0.375 +
			// 0.50 + 0.75 = €1.625 → €1.63: €14.13. As printed ("14,13").
			name: "4: complex, Saturday", file: "tariff_4_complex.json",
			usage: newTimeline(saturday(13, 30)).charge(114*time.Minute, 40_000, 43_000).idle(71 * time.Minute).stop(),
			excl:  1250, incl: 1413,
		},
		{
			// Step size example #1: 16:55, 10 min charging, 2 min parking.
			// TIME: 5 min before 17:00 (€1.20/h) = €0.10; after 17:00 the
			// element's 15 min step rounds the run of 10 min up to 15, the 10
			// min after 17:00 billed at €2.40/h = €0.40. PARKING: 2 min at
			// 17:05 under the 17–20 element (€1.00/h, per 15 min) → 15 min =
			// €0.25. Total €0.75.
			//
			// The specification prints €0.50, saying the 2 parking minutes
			// are "within the extra 5 minutes of charging billed". No rule
			// says that, and the same module's complex example (above)
			// rounds charging 147→150 min *and* parking 42→45 min. We round
			// each dimension on its own; see the package documentation.
			name: "14: step size #1 (16:55)", file: "tariff_14_step_size.json",
			usage: newTimeline(monday(16, 55)).charge(10*time.Minute, 1000).idle(2 * time.Minute).stop(),
			excl:  75, incl: 75,
		},
		{
			// Step size example #2: 16:35, 35 min charging. 25 min before
			// 17:00 at €1.20/h = €0.50 (not rounded: the next element also
			// prices TIME); the run of 35 min is rounded to the last
			// element's 15 min step, 45 min, so 20 min after 17:00 at
			// €2.40/h = €0.80. €1.30. As printed.
			name: "14: step size #2 (16:35)", file: "tariff_14_step_size.json",
			usage: newTimeline(monday(16, 35)).charge(35*time.Minute, 4000).stop(), excl: 130, incl: 130,
		},
		{
			// Switching to free-of-charge: 19:55, 10 min charging, 2 min
			// parking. TIME 5 min at €2.40/h (€0.20) + the run of 10 min
			// rounded to 15 by the 20:00 element: 10 min at €2.40/h (€0.40).
			// Parking after 20:00 has no PARKING_TIME component: free.
			// €0.60. As printed.
			name: "14: step size, free after 20:00", file: "tariff_14_step_size.json",
			usage: newTimeline(monday(19, 55)).charge(10*time.Minute, 1000).idle(2 * time.Minute).stop(), excl: 60, incl: 60,
		},
		{
			// 20 kWh, then parked 2.75 h. Energy: the first kWh free
			// (max_kwh 1), 19 kWh × €0.20 = €3.80. Parking: min/max_duration
			// are the *session's* duration (OCPI: "the Charging Session MUST
			// last"); charging took 1 h, so parking runs from 1 h to 3.75 h:
			// 1 h–3 h at €2.00/h = €4.00, 3 h–3.75 h at €3.00/h = €2.25.
			// €10.05, no VAT given. The specification prints €7.30, which
			// counts the hours from the end of charging (1 h free, 1.75 h ×
			// €2.00) — as if charging 20 kWh took no time.
			name: "7: first kWh free, parking by duration", file: "tariff_7_first_hour_kwh_free.json",
			usage: newTimeline(at).charge(time.Hour, 20_000).idle(165 * time.Minute).stop(), excl: 1005, incl: 1005,
		},
		{
			// A reservation 15 min before charging (€5.00/h per minute =
			// €1.25, 20% VAT), start fee €0.50 (20%), 20 kWh × €0.25 (10%):
			// €6.75 excl, VAT 0.25 + 0.10 + 0.50 → €7.60. As printed.
			name: "15: reservation 5/h", file: "tariff_15_reservation_5_euro_per_hour.json",
			usage: withReservation(newTimeline(at).charge(time.Hour, 20_000).stop(), at.Add(-15*time.Minute), false),
			excl:  675, incl: 760,
		},
		{
			// 13 min reservation billed per 5 min: 15 min × €5.00/h = €1.25,
			// reservation fee €2.00, start fee €0.50, 20 kWh €5.00: €8.75;
			// VAT 0.25 + 0.40 + 0.10 + 0.50 → €10.00. As printed.
			name: "16: reservation fee + 5/h", file: "tariff_16_reservation_2_euro_fee_5_euro_per_hour.json",
			usage: withReservation(newTimeline(at).charge(time.Hour, 20_000).stop(), at.Add(-13*time.Minute), false),
			excl:  875, incl: 1000,
		},
		{
			// Used after 22 min, billed per 10 min: 30 min × €2.00/h =
			// €1.00, start fee €0.50, energy €5.00: €6.50; VAT 0.20 + 0.10 +
			// 0.50 → €7.30. As printed.
			name: "17: reservation used", file: "tariff_17_reservation_with_expire_fee.json",
			usage: withReservation(newTimeline(at).charge(time.Hour, 20_000).stop(), at.Add(-22*time.Minute), false),
			excl:  650, incl: 730,
		},
		{
			// Expired after 1 h: expiry fee €4.00 + 1 h × €2.00/h (the
			// RESERVATION element prices the time; the RESERVATION_EXPIRES
			// element has no TIME) = €6.00, 20% VAT → €7.20. As printed.
			name: "17: reservation expired", file: "tariff_17_reservation_with_expire_fee.json",
			usage: Usage{Reservation: &ReservationUsage{Start: at, End: at.Add(time.Hour), Expired: true}},
			excl:  600, incl: 720,
		},
		{
			// Used after 22 min: 30 min × €3.00/h = €1.50, start fee €0.50,
			// energy €5.00: €7.00; VAT 0.30 + 0.10 + 0.50 → €7.90. As
			// printed.
			name: "18: reservation used", file: "tariff_18_reservation_with_expire_time.json",
			usage: withReservation(newTimeline(at).charge(time.Hour, 20_000).stop(), at.Add(-22*time.Minute), false),
			excl:  700, incl: 790,
		},
		{
			// Expired after 1.5 h: the RESERVATION_EXPIRES element's TIME
			// (€6.00/h) wins over RESERVATION's: €9.00, 20% VAT → €10.80.
			// As printed.
			name: "18: reservation expired", file: "tariff_18_reservation_with_expire_time.json",
			usage: Usage{Reservation: &ReservationUsage{Start: at, End: at.Add(90 * time.Minute), Expired: true}},
			excl:  900, incl: 1080,
		},
		{
			// Free of charge.
			name: "5: free", file: "tariff_5_free_of_charge.json",
			usage: newTimeline(at).charge(time.Hour, 20_000).idle(time.Hour).stop(), excl: 0, incl: 0,
		},
		{
			// First kWh at 6 kW (€0.20, < 16 kW), 40 kWh at 48 kW (€0.50,
			// fallback), 0.5 kWh at 4 kW (€0.20): €0.20 + €20.00 + €0.10 =
			// €20.30 excl. As printed. VAT 20% → €24.36.
			name: "max_power restriction", file: "tariffrestriction_example_max_power.json",
			usage: newTimeline(at).charge(10*time.Minute, 1000).charge(50*time.Minute, 40_000).charge(450*time.Second, 500).stop(),
			excl:  2030, incl: 2436,
		},
		{
			// 5 kWh in the first 30 min free, 1.2 kWh in the next 10 min at
			// €0.25 = €0.30 excl. As printed. VAT 20% → €0.36.
			name: "max_duration restriction", file: "tariffrestriction_example_max_duration.json",
			usage: newTimeline(at).charge(30*time.Minute, 5000).charge(10*time.Minute, 1200).stop(),
			excl:  30, incl: 36,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tariff := exampleTariff(t, tc.file)
			c := mustPrice(t, tariff, ams, tc.usage)
			if c.ExclTax != tc.excl || c.Total != tc.incl {
				t.Errorf("cost %s excl / %s incl, want %s / %s%s",
					FormatMoney(c.ExclTax, "EUR"), FormatMoney(c.Total, "EUR"),
					FormatMoney(tc.excl, "EUR"), FormatMoney(tc.incl, "EUR"), describeCost(c))
			}
			if !c.Final {
				t.Error("a stopped session's cost is not final")
			}
		})
	}
}

func withReservation(u Usage, start time.Time, expired bool) Usage {
	u.Reservation = &ReservationUsage{Start: start, End: u.Start, Expired: expired}
	return u
}

// The CDR module's example CDR: a TIME tariff of €2.00/h per 5 min with
// 10% VAT, session 21:39:09–23:37:32 UTC (1.973 h). 1 h 58 min 23 s is
// billed as 2 h = €4.00 excl, €4.40 incl — the CDR's total_cost.
func TestOCPICDRExample(t *testing.T) {
	tariff := mustTariff(t, `{"country_code":"BE","party_id":"BEC","id":"12","currency":"EUR",
		"elements":[{"price_components":[{"type":"TIME","price":2.00,"vat":10.0,"step_size":300}]}],
		"last_updated":"2015-02-02T14:15:01Z"}`)
	start := time.Date(2015, 6, 29, 21, 39, 9, 0, time.UTC)
	stop := time.Date(2015, 6, 29, 23, 37, 32, 0, time.UTC)
	c := mustPrice(t, tariff, time.UTC, newTimeline(start).charge(stop.Sub(start), 15_342).stop())
	if c.ExclTax != 400 || c.Total != 440 {
		t.Errorf("CDR example: %d / %d, want 400 / 440%s", c.ExclTax, c.Total, describeCost(c))
	}
	if c.Quantities.BilledChargingTime != 2*time.Hour {
		t.Errorf("billed time %s, want 2h", c.Quantities.BilledChargingTime)
	}
}

// OCPI 2.3's North American examples state whether prices include tax
// (tax_included) but not the rate; Charge Star's Tax supplies it. With
// Ontario's 13% HST on a 1 h 30 min session billed per second:
//
//   - tariff 19, CA$2.00/h before tax: CA$3.00 + 13% = CA$0.39 → CA$3.39;
//   - tariff 20, CA$2.10/h tax included: CA$3.15, of which HST is
//     3.15 × 13/113 = CA$0.362 → CA$0.36, CA$2.79 before tax.
//
// Without a Tax the rate is unknown: the total is the priced amount and
// TaxUnknown says so.
func TestOCPI23TaxIncluded(t *testing.T) {
	start := time.Date(2024, 12, 5, 9, 0, 0, 0, time.UTC)
	u := newTimeline(start).charge(90*time.Minute, 30_000).stop()
	hst := func(included bool) *Tax {
		return &Tax{Name: "HST", Rate: MustDecimal("0.13"), Included: included}
	}
	cases := []struct {
		file                string
		tax                 *Tax
		excl, taxAmt, total int64
		unknown, inclusive  bool
	}{
		{"tariff_19_simple_north_american_exclusive.json", hst(false), 300, 39, 339, false, false},
		{"tariff_20_simple_north_american_inclusive.json", hst(true), 279, 36, 315, false, true},
		{"tariff_19_simple_north_american_exclusive.json", nil, 300, 0, 300, true, false},
		{"tariff_20_simple_north_american_inclusive.json", nil, 315, 0, 315, true, true},
	}
	for _, tc := range cases {
		tariff := exampleTariff(t, tc.file)
		tariff.Tax = tc.tax
		c := mustPrice(t, tariff, time.UTC, u)
		if c.ExclTax != tc.excl || c.Tax != tc.taxAmt || c.Total != tc.total || c.TaxUnknown != tc.unknown || c.PricesIncludeTax != tc.inclusive {
			t.Errorf("%s (tax %v): excl %d tax %d total %d unknown %v inclusive %v, want %d %d %d %v %v",
				tc.file, tc.tax != nil, c.ExclTax, c.Tax, c.Total, c.TaxUnknown, c.PricesIncludeTax,
				tc.excl, tc.taxAmt, tc.total, tc.unknown, tc.inclusive)
		}
	}
	// A Tax that contradicts tax_included is refused.
	tariff := exampleTariff(t, "tariff_20_simple_north_american_inclusive.json")
	tariff.Tax = hst(false)
	if err := tariff.Validate(); err == nil || !strings.Contains(err.Error(), "tax_included is YES") {
		t.Errorf("contradicting tax: %v", err)
	}
}
