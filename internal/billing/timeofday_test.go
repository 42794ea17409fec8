package billing

import (
	"testing"
	"time"
)

// A peak/off-peak energy tariff in Sydney: $0.60/kWh 07:00–22:00, $0.30
// otherwise, GST included.
func touTariff(t testing.TB) *Tariff {
	return auTariff(t, `[
		{"price_components":[{"type":"ENERGY","price":0.60,"step_size":1}],"restrictions":{"start_time":"07:00","end_time":"22:00"}},
		{"price_components":[{"type":"ENERGY","price":0.30,"step_size":1}]}]`)
}

// Time-of-day boundaries split a sample interval; its energy is shared out
// in proportion to time.
func TestTimeOfDaySplitsInterval(t *testing.T) {
	syd := mustLoc(t, "Australia/Sydney")
	// 21:30–22:30 at 7 kW sampled only at the ends: 3.5 kWh peak ($2.10),
	// 3.5 kWh off-peak ($1.05).
	start := time.Date(2025, 3, 3, 21, 30, 0, 0, syd)
	c := mustPrice(t, touTariff(t), syd, newTimeline(start).charge(time.Hour, 7000).stop())
	if c.Total != 315 {
		t.Fatalf("total %d, want 315%s", c.Total, describeCost(c))
	}
	if len(c.Periods) != 2 || !c.Periods[0].End.Equal(time.Date(2025, 3, 3, 22, 0, 0, 0, syd)) ||
		c.Periods[0].Energy != 0 || c.Periods[1].Energy != 1 || !c.Periods[0].EnergyWh.Equal(DecimalFromInt(3500)) {
		t.Errorf("periods %+v", c.Periods)
	}
}

// The night DST ends in Sydney (Sunday 6 April 2025, 03:00 AEDT → 02:00
// AEST) is 25 hours long. Charging at 7 kW from Saturday 21:00 to Sunday
// 08:00 local is 12 hours: 1 h peak, 10 h off-peak (22:00–07:00 on the
// wall clock, one hour of it twice), 1 h peak: 14 kWh × $0.60 + 70 kWh ×
// $0.30 = $8.40 + $21.00 = $29.40.
func TestDSTEndNight(t *testing.T) {
	syd := mustLoc(t, "Australia/Sydney")
	start := time.Date(2025, 4, 5, 21, 0, 0, 0, syd)
	stop := time.Date(2025, 4, 6, 8, 0, 0, 0, syd)
	if got := stop.Sub(start); got != 12*time.Hour {
		t.Fatalf("the night is %s", got)
	}
	u := newTimeline(start).sampledEvery(15*time.Minute).charge(12*time.Hour, 84_000).stop()
	c := mustPrice(t, touTariff(t), syd, u)
	if c.Total != 2940 {
		t.Errorf("total %d, want 2940%s", c.Total, describeCost(c))
	}
}

// The night DST starts (Sunday 5 October 2025, 02:00 AEST → 03:00 AEDT) is
// 23 hours long: Saturday 21:00 to Sunday 08:00 is 10 hours, 8 of them
// off-peak. 14 kWh × $0.60 + 56 kWh × $0.30 = $8.40 + $16.80 = $25.20.
func TestDSTStartNight(t *testing.T) {
	syd := mustLoc(t, "Australia/Sydney")
	start := time.Date(2025, 10, 4, 21, 0, 0, 0, syd)
	stop := time.Date(2025, 10, 5, 8, 0, 0, 0, syd)
	if got := stop.Sub(start); got != 10*time.Hour {
		t.Fatalf("the night is %s", got)
	}
	u := newTimeline(start).sampledEvery(10*time.Minute).charge(10*time.Hour, 70_000).stop()
	c := mustPrice(t, touTariff(t), syd, u)
	if c.Total != 2520 {
		t.Errorf("total %d, want 2520%s", c.Total, describeCost(c))
	}
}

// A time window inside the repeated hour applies at both occurrences:
// 02:30–03:00 happens twice the night DST ends, so an element for it
// prices a full hour. $10/h in the window, $1/h otherwise; charging
// 01:00 AEDT to 04:00 AEST is 4 h: 1 h × $10 + 3 h × $1 = $13.00.
func TestDSTRepeatedHourWindow(t *testing.T) {
	syd := mustLoc(t, "Australia/Sydney")
	tariff := auTariff(t, `[
		{"price_components":[{"type":"TIME","price":10.00,"step_size":1}],"restrictions":{"start_time":"02:30","end_time":"03:00"}},
		{"price_components":[{"type":"TIME","price":1.00,"step_size":1}]}]`)
	start := time.Date(2025, 4, 5, 14, 0, 0, 0, time.UTC) // 01:00 AEDT
	stop := time.Date(2025, 4, 5, 18, 0, 0, 0, time.UTC)  // 04:00 AEST
	c := mustPrice(t, tariff, syd, newTimeline(start).charge(stop.Sub(start), 4000).stop())
	if c.Total != 1300 {
		t.Errorf("total %d, want 1300%s", c.Total, describeCost(c))
	}
	var inWindow time.Duration
	for _, p := range c.Periods {
		if p.Time == 0 {
			inWindow += p.End.Sub(p.Start)
		}
	}
	if inWindow != time.Hour {
		t.Errorf("window priced for %s, want 1h: %+v", inWindow, c.Periods)
	}
}

// A window starting inside the skipped hour starts at the clock change:
// 02:30–04:00 on the night DST starts runs from 03:00 AEDT (the instant
// the clock jumps past 02:30) to 04:00 AEDT, one hour. Charging 01:00 AEST
// to 05:00 AEDT (3 h): 1 h × $10 + 2 h × $1 = $12.00.
func TestDSTSkippedHourWindow(t *testing.T) {
	syd := mustLoc(t, "Australia/Sydney")
	tariff := auTariff(t, `[
		{"price_components":[{"type":"TIME","price":10.00,"step_size":1}],"restrictions":{"start_time":"02:30","end_time":"04:00"}},
		{"price_components":[{"type":"TIME","price":1.00,"step_size":1}]}]`)
	start := time.Date(2025, 10, 5, 1, 0, 0, 0, syd)
	stop := time.Date(2025, 10, 5, 5, 0, 0, 0, syd)
	if stop.Sub(start) != 3*time.Hour {
		t.Fatalf("span %s", stop.Sub(start))
	}
	c := mustPrice(t, tariff, syd, newTimeline(start).charge(stop.Sub(start), 3000).stop())
	if c.Total != 1200 {
		t.Errorf("total %d, want 1200%s", c.Total, describeCost(c))
	}
}

// day_of_week is the site's local day: Friday 23:00 to Saturday 01:00 in
// Sydney is Friday 12:00–14:00 UTC, but half of it is a local Saturday.
// Weekend $2/h, weekdays $1/h: $1 + $2 = $3.00.
func TestDayOfWeekIsLocal(t *testing.T) {
	syd := mustLoc(t, "Australia/Sydney")
	tariff := auTariff(t, `[
		{"price_components":[{"type":"TIME","price":2.00,"step_size":60}],"restrictions":{"day_of_week":["SATURDAY","SUNDAY"]}},
		{"price_components":[{"type":"TIME","price":1.00,"step_size":60}]}]`)
	start := time.Date(2025, 3, 7, 23, 0, 0, 0, syd) // a Friday
	c := mustPrice(t, tariff, syd, newTimeline(start).charge(2*time.Hour, 10_000).stop())
	if c.Total != 300 {
		t.Errorf("total %d, want 300%s", c.Total, describeCost(c))
	}
}

// start_date is inclusive and end_date exclusive, in local dates; a window
// whose end_time is before its start_time crosses midnight.
func TestDateAndOvernightWindows(t *testing.T) {
	syd := mustLoc(t, "Australia/Sydney")
	tariff := auTariff(t, `[
		{"price_components":[{"type":"TIME","price":5.00,"step_size":1}],"restrictions":{"start_date":"2025-12-25","end_date":"2025-12-26"}},
		{"price_components":[{"type":"TIME","price":2.00,"step_size":1}],"restrictions":{"start_time":"22:00","end_time":"06:00"}},
		{"price_components":[{"type":"TIME","price":1.00,"step_size":1}]}]`)
	// 24 Dec 21:00 → 25 Dec 01:00: 1 h at $1 (21–22), 2 h at $2 (22–24),
	// 1 h Christmas at $5: $10.00.
	start := time.Date(2025, 12, 24, 21, 0, 0, 0, syd)
	c := mustPrice(t, tariff, syd, newTimeline(start).charge(4*time.Hour, 20_000).stop())
	if c.Total != 1000 {
		t.Errorf("Christmas Eve: total %d, want 1000%s", c.Total, describeCost(c))
	}
	// 25 Dec 23:00 → 26 Dec 02:00: 1 h Christmas at $5, 2 h overnight at $2: $9.00.
	start = time.Date(2025, 12, 25, 23, 0, 0, 0, syd)
	c = mustPrice(t, tariff, syd, newTimeline(start).charge(3*time.Hour, 20_000).stop())
	if c.Total != 900 {
		t.Errorf("Christmas night: total %d, want 900%s", c.Total, describeCost(c))
	}
}

// min_kwh/max_kwh thresholds are crossed inside an interval at the
// interpolated instant, and the energy on each side priced accordingly:
// the first 10 kWh at $0.50, the rest at $0.30, one sample for 25 kWh:
// $5.00 + $4.50 = $9.50.
func TestEnergyThresholdInsideInterval(t *testing.T) {
	tariff := auTariff(t, `[
		{"price_components":[{"type":"ENERGY","price":0.50,"step_size":1}],"restrictions":{"max_kwh":10}},
		{"price_components":[{"type":"ENERGY","price":0.30,"step_size":1}],"restrictions":{"min_kwh":10}}]`)
	c := mustPrice(t, tariff, time.UTC, newTimeline(sydneyMorning).charge(100*time.Minute, 25_000).stop())
	if c.Total != 950 {
		t.Fatalf("total %d, want 950%s", c.Total, describeCost(c))
	}
	// The cut is where 10 of 25 kWh were delivered: 40 of 100 minutes.
	if len(c.Periods) != 2 || c.Periods[0].End.Sub(c.Periods[0].Start) != 40*time.Minute {
		t.Errorf("periods %+v", c.Periods)
	}
}

// min_current/max_current need the current; a period without it matches no
// current-restricted element, and the next element decides.
func TestCurrentUnknown(t *testing.T) {
	tariff := auTariff(t, `[
		{"price_components":[{"type":"TIME","price":1.00,"step_size":1}],"restrictions":{"max_current":32}},
		{"price_components":[{"type":"TIME","price":3.00,"step_size":1}]}]`)
	known := mustPrice(t, tariff, time.UTC, newTimeline(sydneyMorning).charge(time.Hour, 7000, 16_000).stop())
	unknown := mustPrice(t, tariff, time.UTC, newTimeline(sydneyMorning).charge(time.Hour, 7000).stop())
	if known.Total != 100 || unknown.Total != 300 {
		t.Errorf("known current %d, unknown %d; want 100 and 300", known.Total, unknown.Total)
	}
}

// max_duration/min_duration cut the session at start + duration.
func TestDurationCut(t *testing.T) {
	tariff := auTariff(t, `[
		{"price_components":[{"type":"TIME","price":0.00,"step_size":1}],"restrictions":{"max_duration":1800}},
		{"price_components":[{"type":"TIME","price":6.00,"step_size":1}]}]`)
	c := mustPrice(t, tariff, time.UTC, newTimeline(sydneyMorning).charge(45*time.Minute, 5000).stop())
	if c.Total != 150 { // 15 min × $6/h
		t.Errorf("total %d, want 150%s", c.Total, describeCost(c))
	}
}
