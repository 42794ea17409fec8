package billing

import (
	"testing"
	"time"
)

// A 2-hour session sampled every minute (121 samples) across a
// time-of-day boundary, with a grace period and idle at the end: the
// pricing a live session's CostUpdated or a stop runs.
func BenchmarkPrice2h1min(b *testing.B) {
	loc := mustLoc(b, "Australia/Sydney")
	tariff := auTariff(b, `[
		{"price_components":[{"type":"ENERGY","price":0.60,"step_size":1},{"type":"FLAT","price":1.00,"step_size":1},{"type":"PARKING_TIME","price":6.00,"step_size":60}],"restrictions":{"start_time":"07:00","end_time":"22:00"}},
		{"price_components":[{"type":"ENERGY","price":0.30,"step_size":1},{"type":"FLAT","price":1.00,"step_size":1},{"type":"PARKING_TIME","price":3.00,"step_size":60}]}]`,
		`"chargestar":{"tax":{"name":"GST","rate":0.1,"included":true},"parking_grace_seconds":900}`)
	u := newTimeline(time.Date(2025, 3, 3, 21, 0, 0, 0, loc)).sampledEvery(time.Minute).
		charge(100*time.Minute, 36_000).idle(20 * time.Minute).stop()
	if len(u.Samples) != 121 {
		b.Fatalf("%d samples", len(u.Samples))
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Price(tariff, loc, u); err != nil {
			b.Fatal(err)
		}
	}
}

// The same shape under the OCPI complex tariff (current restrictions,
// weekday elements, per-component VAT).
func BenchmarkPrice2h1minOCPIComplex(b *testing.B) {
	loc := mustLoc(b, "Europe/Amsterdam")
	tariff := exampleTariff(b, "tariff_4_complex.json")
	u := newTimeline(time.Date(2015, 6, 29, 16, 30, 0, 0, loc)).sampledEvery(time.Minute).
		charge(100*time.Minute, 36_000, 16_000).idle(20 * time.Minute).stop()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Price(tariff, loc, u); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseTariff(b *testing.B) {
	js := []byte(`{"currency":"AUD","elements":[
		{"price_components":[{"type":"ENERGY","price":0.60,"step_size":1}],"restrictions":{"start_time":"07:00","end_time":"22:00"}},
		{"price_components":[{"type":"ENERGY","price":0.30,"step_size":1},{"type":"FLAT","price":1.00,"step_size":1}]}],
		"chargestar":{"tax":{"name":"GST","rate":0.1,"included":true},"parking_grace_seconds":900}}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseTariff(js); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDescribe(b *testing.B) {
	tariff := touTariff(b)
	loc := mustLoc(b, "Australia/Sydney")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Describe(tariff, DescribeOptions{Location: loc}); err != nil {
			b.Fatal(err)
		}
	}
}
