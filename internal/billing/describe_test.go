package billing

import (
	"strings"
	"testing"
	"time"
)

// The console's live preview and the driver app show this.
func TestDescribeAustralianTariff(t *testing.T) {
	tariff := auTariff(t, `[{"price_components":[
		{"type":"ENERGY","price":0.55,"step_size":1},
		{"type":"FLAT","price":1.00,"step_size":1},
		{"type":"PARKING_TIME","price":6.00,"step_size":60}]}]`,
		`"chargestar":{"tax":{"name":"GST","rate":0.1,"included":true},"parking_grace_seconds":900}`)
	d, err := Describe(tariff, DescribeOptions{Location: mustLoc(t, "Australia/Sydney")})
	if err != nil {
		t.Fatal(err)
	}
	if want := "$0.55 per kWh · $1.00 session fee · idle $0.10/min after 15 min · prices include GST"; d.Summary != want {
		t.Errorf("summary\n got %q\nwant %q", d.Summary, want)
	}
	if want := "a 40 kWh, 1 h session costs $23.00"; d.Example != want {
		t.Errorf("example %q, want %q", d.Example, want)
	}
	if d.ExampleCost.Total != 2300 {
		t.Errorf("example cost %d", d.ExampleCost.Total)
	}
	d, err = Describe(tariff, DescribeOptions{ExampleEnergyWh: 7500, ExampleDuration: 90 * time.Minute, ExampleIdle: 30 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	// 7.5 × $0.55 = $4.125 → $4.13, fee $1.00, idle 15 min × $0.10 = $1.50: $6.63.
	if want := "a 7.5 kWh, 1 h 30 min session with 30 min idle costs $6.63"; d.Example != want {
		t.Errorf("example %q, want %q", d.Example, want)
	}
}

// Prices that exclude tax are shown with it; ladders of first-match
// restrictions read as the ranges they price.
func TestDescribeOCPITariffs(t *testing.T) {
	cases := []struct{ file, summary string }{
		{"tariff_9_025kwh_start.json", "€0.275 per kWh · €0.60 session fee · prices include VAT"},
		{"tariff_13_simple_3hour_5parking.json", "€3.30 per hour charging · idle €0.10/min, billed per 5 min · prices include VAT"},
		{"tariff_6_025kwh_start_max_price.json", "€0.275 per kWh · €0.60 session fee · capped at €11.00 · prices include VAT"},
		{"tariff_12_025kwh_min_price.json", "€0.275 per kWh · minimum €0.55 · prices include VAT"},
		{"tariff_2_alt_text.json", "€2.00 per hour charging, billed per 5 min · prices include VAT"},
		{"tariff_5_free_of_charge.json", "free of charge"},
		{"tariffrestriction_example_max_power.json", "€0.24 per kWh below 16 kW · €0.42 per kWh at 16–32 kW · €0.60 per kWh at 32 kW or more · prices include VAT"},
		{"tariffrestriction_example_max_duration.json", "energy free in the first 30 min · €0.30 per kWh from 30 min to 1 h · €0.48 per kWh after 1 h · prices include VAT"},
		{"tariff_7_first_hour_kwh_free.json", "energy free for the first 1 kWh · €0.20 per kWh after 1 kWh · idle free in the first 1 h · idle €2.00 per hour from 1 h to 3 h · idle €3.00 per hour after 3 h"},
		{"tariff_18_reservation_with_expire_time.json", "€0.275 per kWh · €0.60 session fee · €0.12/min expired reservation, billed per 10 min · €0.06/min reservation, billed per 10 min · prices include VAT"},
		{"tariff_19_simple_north_american_exclusive.json", "$2.00 per hour charging · plus taxes"},
	}
	for _, tc := range cases {
		d, err := Describe(exampleTariff(t, tc.file), DescribeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if d.Summary != tc.summary {
			t.Errorf("%s\n got %q\nwant %q", tc.file, d.Summary, tc.summary)
		}
	}
	d, _ := Describe(exampleTariff(t, "tariff_4_complex.json"), DescribeOptions{})
	for _, want := range []string{"€1.20 per hour charging below 32 A, billed per 15 min", "Sat, Sun at 32 A or more", "€2.88 session fee", "idle €5.50 per hour Mon–Fri 09:00–18:00"} {
		if !strings.Contains(d.Summary, want) {
			t.Errorf("tariff 4: %q lacks %q", d.Summary, want)
		}
	}
}

// The worked example is priced by the engine, time of day included.
func TestDescribeExampleUsesTimeOfDay(t *testing.T) {
	syd := mustLoc(t, "Australia/Sydney")
	tariff := touTariff(t)
	night, err := Describe(tariff, DescribeOptions{Location: syd, ExampleStart: time.Date(2025, 3, 3, 23, 0, 0, 0, syd)})
	if err != nil {
		t.Fatal(err)
	}
	day, _ := Describe(tariff, DescribeOptions{Location: syd})
	if night.Example != "a 40 kWh, 1 h session costs $12.00" || day.Example != "a 40 kWh, 1 h session costs $24.00" {
		t.Errorf("night %q, day %q", night.Example, day.Example)
	}
	if !strings.HasPrefix(day.Summary, "$0.60 per kWh 07:00–22:00 · $0.30 per kWh otherwise") {
		t.Errorf("summary %q", day.Summary)
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		15 * time.Minute: "15 min", time.Hour: "1 h", 147 * time.Minute: "2 h 27 min", 45 * time.Second: "45 s",
		0: "0 s", 90*time.Minute + 5*time.Second: "1 h 30 min 5 s",
	} {
		if got := FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%s) = %q, want %q", d, got, want)
		}
	}
}

func TestDayWords(t *testing.T) {
	for in, want := range map[string]string{
		"MONDAY,TUESDAY,WEDNESDAY,THURSDAY,FRIDAY":                 "Mon–Fri",
		"SATURDAY,SUNDAY":                                          "Sat, Sun",
		"MONDAY,WEDNESDAY":                                         "Mon, Wed",
		"MONDAY,TUESDAY,WEDNESDAY,THURSDAY,FRIDAY,SATURDAY,SUNDAY": "",
	} {
		if got := dayWords(strings.Split(in, ",")); got != want {
			t.Errorf("dayWords(%s) = %q, want %q", in, got, want)
		}
	}
}

// Receipt lines describe themselves in the tariff's price basis.
func TestLineDescriptions(t *testing.T) {
	ams := mustLoc(t, "Europe/Amsterdam")
	c := mustPrice(t, exampleTariff(t, "tariff_4_complex.json"), ams,
		newTimeline(time.Date(2015, 6, 29, 9, 30, 0, 0, ams)).charge(147*time.Minute, 9000, 16_000).idle(42*time.Minute).stop())
	want := []string{
		"Session fee",
		"Charging 2 h 30 min × €1.00/h (below 32 A)",
		"Idle 45 min × €5.00/h (Mon–Fri 09:00–18:00)",
	}
	if len(c.Lines) != len(want) {
		t.Fatalf("lines %+v", c.Lines)
	}
	for i, l := range c.Lines {
		if l.Description != want[i] {
			t.Errorf("line %d: %q, want %q", i, l.Description, want[i])
		}
	}
}
