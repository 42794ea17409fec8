package billing

import (
	"strings"
	"testing"
	"time"
)

// €2/h charging, €4/h idle: makes charging versus idle visible in euros.
func chargeIdleTariff(t testing.TB) *Tariff {
	return eurTariff(t, `[{"price_components":[
		{"type":"TIME","price":2.00,"step_size":1},
		{"type":"PARKING_TIME","price":4.00,"step_size":1}]}]`)
}

func sampleAt(min int, wh int64) Sample {
	return Sample{At: sydneyMorning.Add(time.Duration(min) * time.Minute), EnergyWh: wh}
}

// Without charging flags, an interval is charging when energy flowed.
func TestChargingDerivedFromEnergy(t *testing.T) {
	u := Usage{Start: sydneyMorning, Stop: sydneyMorning.Add(90 * time.Minute), Samples: []Sample{
		sampleAt(0, 1000), sampleAt(30, 5000), sampleAt(60, 5000), sampleAt(90, 5000),
	}}
	c := mustPrice(t, chargeIdleTariff(t), time.UTC, u)
	if c.Quantities.ChargingTime != 30*time.Minute || c.Quantities.ParkingTime != time.Hour || c.Quantities.EnergyWh != 4000 {
		t.Errorf("quantities %+v", c.Quantities)
	}
	if c.Total != 500 { // 0.5 h × €2 + 1 h × €4
		t.Errorf("total %d, want 500", c.Total)
	}
}

// A reported power at or above the threshold marks an interval charging
// even when a coarse register did not move; standby power does not.
func TestChargingDerivedFromPower(t *testing.T) {
	s := []Sample{sampleAt(0, 0), sampleAt(30, 0), sampleAt(60, 0)}
	s[1].PowerW = ptr[int64](7000)
	s[2].PowerW = ptr[int64](ChargingPowerThresholdW - 1)
	c := mustPrice(t, chargeIdleTariff(t), time.UTC, Usage{Start: sydneyMorning, Stop: sydneyMorning.Add(time.Hour), Samples: s})
	if c.Quantities.ChargingTime != 30*time.Minute || c.Quantities.ParkingTime != 30*time.Minute {
		t.Errorf("quantities %+v", c.Quantities)
	}
}

// An explicit flag holds from its sample until the next flag, and wins
// over the energy: energy that trickles in while the EV reports suspended
// is still billed as energy, but the time is idle.
func TestExplicitChargingFlag(t *testing.T) {
	s := []Sample{sampleAt(0, 0), sampleAt(30, 5000), sampleAt(60, 5010), sampleAt(90, 5020)}
	s[0].Charging = ptr(true)
	s[1].Charging = ptr(false)
	c := mustPrice(t, chargeIdleTariff(t), time.UTC, Usage{Start: sydneyMorning, Stop: sydneyMorning.Add(90 * time.Minute), Samples: s})
	if c.Quantities.ChargingTime != 30*time.Minute || c.Quantities.ParkingTime != time.Hour || c.Quantities.EnergyWh != 5020 {
		t.Errorf("quantities %+v", c.Quantities)
	}
}

// A register that goes backwards (meter replaced) counts as no energy, and
// counting resumes from the new value.
func TestRegisterReset(t *testing.T) {
	u := Usage{Start: sydneyMorning, Stop: sydneyMorning.Add(30 * time.Minute), Samples: []Sample{
		sampleAt(0, 90_000), sampleAt(10, 91_000), sampleAt(20, 10), sampleAt(30, 1010),
	}}
	c := mustPrice(t, eurTariff(t, `[{"price_components":[{"type":"ENERGY","price":1,"step_size":1}]}]`), time.UTC, u)
	if c.Quantities.EnergyWh != 2000 {
		t.Errorf("energy %d, want 2000", c.Quantities.EnergyWh)
	}
}

// A stop after the last sample extends the last state to the stop.
func TestStopAfterLastSample(t *testing.T) {
	u := Usage{Start: sydneyMorning, Stop: sydneyMorning.Add(time.Hour), Samples: []Sample{sampleAt(0, 0), sampleAt(30, 5000)}}
	c := mustPrice(t, chargeIdleTariff(t), time.UTC, u)
	if c.Quantities.ChargingTime != time.Hour {
		t.Errorf("charging %s, want the charging state carried to the stop", c.Quantities.ChargingTime)
	}
	live := u
	live.Stop = time.Time{}
	if c := mustPrice(t, chargeIdleTariff(t), time.UTC, live); c.Quantities.ChargingTime != 30*time.Minute {
		t.Errorf("live: charging %s, want the timeline to end at the last sample", c.Quantities.ChargingTime)
	}
}

// Samples outside [Start, Stop] count at the edges; duplicates at one
// instant give their energy to the interval before.
func TestSamplesClampedAndDuplicated(t *testing.T) {
	u := Usage{Start: sydneyMorning, Stop: sydneyMorning.Add(20 * time.Minute), Samples: []Sample{
		sampleAt(-5, 100), sampleAt(10, 1100), sampleAt(10, 1200), sampleAt(25, 2200),
	}}
	c := mustPrice(t, eurTariff(t, `[{"price_components":[{"type":"ENERGY","price":1,"step_size":1}]}]`), time.UTC, u)
	if c.Quantities.EnergyWh != 2100 {
		t.Errorf("energy %d, want 2100", c.Quantities.EnergyWh)
	}
}

// Nothing is owed for a timeline with nothing on it (a session stopped the
// instant it started, or a live one before its first interval): no fee,
// no minimum price.
func TestEmptyTimelineCostsNothing(t *testing.T) {
	tariff := exampleTariff(t, "tariff_12_025kwh_min_price.json")
	for _, u := range []Usage{
		{Start: sydneyMorning, Stop: sydneyMorning},
		{Start: sydneyMorning},
		{Start: sydneyMorning, Samples: []Sample{sampleAt(0, 100)}},
	} {
		c := mustPrice(t, tariff, time.UTC, u)
		if c.Total != 0 || len(c.Lines) != 0 {
			t.Errorf("%+v: %+v", u, c)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	tariff := chargeIdleTariff(t)
	cases := []struct {
		u    Usage
		want string
	}{
		{Usage{}, "no start"},
		{Usage{Start: sydneyMorning, Stop: sydneyMorning.Add(-time.Minute)}, "stops"},
		{Usage{Start: sydneyMorning, Samples: []Sample{sampleAt(10, 0), sampleAt(5, 0)}}, "time order"},
		{Usage{Start: sydneyMorning, Reservation: &ReservationUsage{Start: sydneyMorning, End: sydneyMorning.Add(-time.Minute)}}, "reservation"},
	}
	for _, tc := range cases {
		if _, err := Price(tariff, time.UTC, tc.u); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want %q", tc.u, err, tc.want)
		}
	}
	if _, err := Price(tariff, nil, Usage{Start: sydneyMorning}); err == nil {
		t.Error("nil location accepted")
	}
	if _, err := Price(nil, time.UTC, Usage{Start: sydneyMorning}); err == nil {
		t.Error("nil tariff accepted")
	}
}

// Meter registers too large to price are an error, not an overflow.
func TestAmountOutOfRange(t *testing.T) {
	tariff := eurTariff(t, `[{"price_components":[{"type":"ENERGY","price":1000,"step_size":1}]}]`)
	u := Usage{Start: sydneyMorning, Stop: sydneyMorning.Add(time.Hour), Samples: []Sample{sampleAt(0, 0), sampleAt(60, 1<<62)}}
	if _, err := Price(tariff, time.UTC, u); err == nil {
		t.Error("an absurd register was priced")
	}
}

// A sample repeating an instant with more energy adds it to the interval
// that ended there, without taking the charging flag meant for the next.
func TestDuplicateSampleKeepsState(t *testing.T) {
	s := []Sample{sampleAt(0, 0), sampleAt(30, 5000), sampleAt(30, 5100), sampleAt(60, 5100)}
	s[0].Charging = ptr(true)
	s[1].Charging = ptr(false)
	c := mustPrice(t, chargeIdleTariff(t), time.UTC, Usage{Start: sydneyMorning, Stop: sydneyMorning.Add(time.Hour), Samples: s})
	if c.Quantities.ChargingTime != 30*time.Minute || c.Quantities.ParkingTime != 30*time.Minute || c.Quantities.EnergyWh != 5100 {
		t.Errorf("quantities %+v", c.Quantities)
	}
}

// TestZeroDurationSessionPaysItsEnergy: a station that stamps its start and
// stop with the same instant still delivered its energy: no free charge.
func TestZeroDurationSessionPaysItsEnergy(t *testing.T) {
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	tr, err := ParseTariff([]byte(`{"country_code":"AU","party_id":"CST","id":"T","currency":"AUD","type":"AD_HOC_PAYMENT",
		"elements":[{"price_components":[{"type":"ENERGY","price":0.50,"step_size":1}]}],"last_updated":"2026-01-01T00:00:00Z",
		"chargestar":{"tax":{"name":"GST","rate":0.1,"included":true}}}`))
	if err != nil {
		t.Fatal(err)
	}
	c, err := Price(tr, time.UTC, Usage{Start: at, Stop: at, Samples: []Sample{{At: at, EnergyWh: 0}, {At: at, EnergyWh: 10000}}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Quantities.EnergyWh != 10000 || c.Total != 500 {
		t.Fatalf("zero-duration session: %d Wh, total %d; want 10000 Wh, 500", c.Quantities.EnergyWh, c.Total)
	}
}
