package billing

import (
	"testing"
	"time"
)

func eurTariff(t testing.TB, elements string) *Tariff {
	return mustTariff(t, `{"currency":"EUR","elements":`+elements+`}`)
}

// OCPI PriceComponent: "if type is TIME and step_size is 300, … if 6
// minutes were used, 10 minutes (2 blocks of step_size) will be billed".
func TestStepSizeTime(t *testing.T) {
	tariff := eurTariff(t, `[{"price_components":[{"type":"TIME","price":6.00,"step_size":300}]}]`)
	c := mustPrice(t, tariff, time.UTC, newTimeline(sydneyMorning).charge(6*time.Minute, 500).stop())
	if c.Quantities.BilledChargingTime != 10*time.Minute || c.Total != 100 {
		t.Errorf("billed %s total %d, want 10m and €1.00", c.Quantities.BilledChargingTime, c.Total)
	}
}

// OCPI's ENERGY step_size note, at €0.25/kWh: 115 Wh is billed as 115 Wh
// with step 1 (€0.02875 → €0.03), 125 Wh with step 25 (€0.03125 → €0.03),
// 500 Wh with step 500 (€0.125 → €0.13).
func TestStepSizeEnergy(t *testing.T) {
	for _, tc := range []struct {
		step       string
		billed     int64
		totalCents int64
	}{{"1", 115, 3}, {"25", 125, 3}, {"500", 500, 13}} {
		tariff := eurTariff(t, `[{"price_components":[{"type":"ENERGY","price":0.25,"step_size":`+tc.step+`}]}]`)
		c := mustPrice(t, tariff, time.UTC, newTimeline(sydneyMorning).charge(time.Minute, 115).stop())
		if !c.Quantities.BilledEnergyWh.Equal(DecimalFromInt(tc.billed)) || c.Total != tc.totalCents {
			t.Errorf("step %s: billed %s Wh, total %d; want %d Wh, %d", tc.step, c.Quantities.BilledEnergyWh, c.Total, tc.billed, tc.totalCents)
		}
	}
}

// A running cost leaves the open run's round-up out; the final cost adds
// it. Step example #1 (tariff 14) at 17:05, still charging: 5 min at
// €1.20/h + 5 min at €2.40/h = €0.10 + €0.20 = €0.30 running; stopped
// there, the run of 10 min is billed as 15: €0.50.
func TestRunningCostLeavesRoundUpOut(t *testing.T) {
	tariff := exampleTariff(t, "tariff_14_step_size.json")
	ams := mustLoc(t, "Europe/Amsterdam")
	b := newTimeline(time.Date(2015, 6, 29, 16, 55, 0, 0, ams)).charge(10*time.Minute, 1000)
	live := mustPrice(t, tariff, ams, b.live())
	final := mustPrice(t, tariff, ams, b.stop())
	if live.Total != 30 || live.Final || final.Total != 50 || !final.Final {
		t.Errorf("live %d (final=%v), final %d (final=%v); want 30 and 50", live.Total, live.Final, final.Total, final.Final)
	}
}

// A run ends when its dimension starts accruing under no price component:
// the round-up happens there, with that element's step. Parking at
// €4.00/h per 15 min until 10:00 and free after: idle 09:50–10:10 bills
// 10 min rounded to 15 = €1.00, even while the session is still live.
func TestRunClosedBySwitchToFree(t *testing.T) {
	tariff := eurTariff(t, `[
		{"price_components":[{"type":"PARKING_TIME","price":4.00,"step_size":900}],"restrictions":{"end_time":"10:00"}}]`)
	start := time.Date(2025, 3, 3, 9, 40, 0, 0, time.UTC)
	b := newTimeline(start).charge(10*time.Minute, 1000).idle(20 * time.Minute)
	for _, u := range []Usage{b.live(), b.stop()} {
		c := mustPrice(t, tariff, time.UTC, u)
		if c.Total != 100 || c.Quantities.BilledParkingTime != 15*time.Minute {
			t.Errorf("final=%v: total %d billed %s, want €1.00 and 15m", u.final(), c.Total, c.Quantities.BilledParkingTime)
		}
	}
}

// The grace period ends a parking run too: a short idle stretch billed
// after its grace is rounded before the next stretch's grace begins.
func TestGraceClosesParkingRun(t *testing.T) {
	tariff := auTariff(t, `[{"price_components":[{"type":"PARKING_TIME","price":6.00,"step_size":600}]}]`,
		`"chargestar":{"tax":{"name":"GST","rate":0.1,"included":true},"parking_grace_seconds":300}`)
	// idle 7 min (2 billed → 10), charge, idle 6 min (1 billed → 10): 20 min × $6/h = $2.00.
	u := newTimeline(sydneyMorning).idle(7*time.Minute).charge(10*time.Minute, 1000).idle(6 * time.Minute).stop()
	c := mustPrice(t, tariff, time.UTC, u)
	if c.Total != 200 || c.Quantities.GraceTime != 10*time.Minute {
		t.Errorf("total %d grace %s, want $2.00 and 10m%s", c.Total, c.Quantities.GraceTime, describeCost(c))
	}
}

// OCPI's step_size rule bills the round-up at the price of the element
// that ends the run, so a *final* cost can be lower for a longer session:
// €10/h per 30 min before 17:00 and €1/h per 30 min after. Stopped at
// 17:00 after one minute: 30 min × €10/h = €5.00. Stopped at 17:01: 1 min
// × €10/h + 29 min × €1/h = €0.17 + €0.48 = €0.65. Running costs do not
// have this: they never decrease and never exceed a final cost.
func TestFinalCostCanDropAtCheaperElement(t *testing.T) {
	tariff := eurTariff(t, `[
		{"price_components":[{"type":"TIME","price":10.00,"step_size":1800}],"restrictions":{"end_time":"17:00"}},
		{"price_components":[{"type":"TIME","price":1.00,"step_size":1800}],"restrictions":{"start_time":"17:00"}}]`)
	start := time.Date(2025, 3, 3, 16, 59, 0, 0, time.UTC)
	short := newTimeline(start).charge(time.Minute, 100)
	long := newTimeline(start).charge(time.Minute, 100).charge(time.Minute, 100)
	fs, fl := mustPrice(t, tariff, time.UTC, short.stop()), mustPrice(t, tariff, time.UTC, long.stop())
	rs, rl := mustPrice(t, tariff, time.UTC, short.live()), mustPrice(t, tariff, time.UTC, long.live())
	if fs.Total != 500 || fl.Total != 65 {
		t.Errorf("final costs %d and %d, want 500 and 65", fs.Total, fl.Total)
	}
	if rs.Total != 17 || rl.Total != 19 || rs.Total > rl.Total || rl.Total > fl.Total {
		t.Errorf("running costs %d and %d, want 17 and 19 (≤ final %d)", rs.Total, rl.Total, fl.Total)
	}
}

// step_size 0 (tariff 5 has it on a FLAT) and 1 mean no rounding beyond
// the unit: a second for time, a Wh for energy.
func TestStepSizeZero(t *testing.T) {
	tariff := eurTariff(t, `[{"price_components":[{"type":"TIME","price":3600,"step_size":0}]}]`)
	c := mustPrice(t, tariff, time.UTC, newTimeline(sydneyMorning).charge(1500*time.Millisecond, 1).stop())
	if c.Total != 200 || c.Quantities.BilledChargingTime != 2*time.Second { // €1 a second, 1.5 s → 2 s
		t.Errorf("total %d billed %s", c.Total, c.Quantities.BilledChargingTime)
	}
}
