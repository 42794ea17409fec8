package billing

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func holdTariff(t testing.TB, extra string) *Tariff {
	return auTariff(t, `[{"price_components":[
		{"type":"ENERGY","price":0.55,"step_size":1},
		{"type":"FLAT","price":1.00,"step_size":1},
		{"type":"PARKING_TIME","price":6.00,"step_size":60}]}]`,
		extra+`"chargestar":{"tax":{"name":"GST","rate":0.1,"included":true},"parking_grace_seconds":900,"hold_amount":5000}`)
}

// The margin for a 22 kW connector, 1 min meter interval, 30 s stop
// latency: 90 s at 22 kW is 0.55 kWh × $0.55 = $0.3025; the higher of
// charging time ($0) and idle ($6.00/h) for 90 s is $0.15; one step of
// each dimension: 1 Wh × $0.55/kWh = $0.00055 and 60 s × $6.00/h = $0.10.
// $0.55305 → 56c, plus 3 components + 2 for rounding: 61c.
func TestHoldFor(t *testing.T) {
	tariff := holdTariff(t, "")
	opts := HoldOptions{MaxPowerW: 22_000}
	cases := []struct {
		name   string
		budget Budget
		want   Hold
	}{
		{"no budget: the tariff's hold", Budget{},
			Hold{Currency: "AUD", Amount: 5000, StopOnCost: true, StopAtCost: 4939, Margin: 61}},
		{"amount", Budget{Amount: 3000},
			Hold{Currency: "AUD", Amount: 3000, StopOnCost: true, StopAtCost: 2939, Margin: 61}},
		// 20 kWh × $0.55 + $1.00 fee = $12.00, plus the margin.
		{"energy", Budget{EnergyWh: 20_000},
			Hold{Currency: "AUD", Amount: 1261, StopOnCost: true, StopAtCost: 1200, Margin: 61, StopAtEnergyWh: 20_000}},
		// 1 h: 22 kWh × $0.55 = $12.10 + 1 h × $6.00 + $1.00 = $19.10, plus the margin.
		{"time", Budget{Duration: time.Hour},
			Hold{Currency: "AUD", Amount: 1971, StopOnCost: true, StopAtCost: 1910, Margin: 61, StopAfter: time.Hour}},
	}
	for _, tc := range cases {
		got, err := HoldFor(tariff, tc.budget, opts)
		if err != nil || got != tc.want {
			t.Errorf("%s: %+v, %v\nwant %+v", tc.name, got, err, tc.want)
		}
	}
}

func TestHoldForLimits(t *testing.T) {
	opts := HoldOptions{MaxPowerW: 22_000}
	// A budget that cannot cover the session fee and the margin.
	if _, err := HoldFor(holdTariff(t, ""), Budget{Amount: 150}, opts); !errors.Is(err, ErrBudgetTooSmall) {
		t.Errorf("tiny budget: %v", err)
	}
	// max_price keeps every session within the hold: no stop needed.
	h, err := HoldFor(holdTariff(t, `"max_price":{"incl_vat":30.00},`), Budget{}, opts)
	if err != nil || h.Amount != 3000 || h.StopOnCost {
		t.Errorf("max price: %+v, %v", h, err)
	}
	// A budget below min_price is refused; a hold below it is raised above
	// it ...
	if _, err := HoldFor(holdTariff(t, `"min_price":{"incl_vat":20.00},`), Budget{Amount: 1500}, opts); !errors.Is(err, ErrBudgetTooSmall) {
		t.Errorf("budget below min: %v", err)
	}
	h, err = HoldFor(holdTariff(t, `"min_price":{"incl_vat":20.00},`), Budget{EnergyWh: 1000}, opts)
	if err != nil || h.Amount != 2001+h.Margin || h.StopAtCost != 2001 {
		t.Errorf("hold below min: %+v, %v", h, err)
	}
	// ... so that a session under it is not stopped at its first sample:
	// its running cost is min_price, $20.00, below the threshold.
	start := time.Date(2025, 3, 3, 10, 0, 0, 0, time.UTC)
	c := mustPrice(t, holdTariff(t, `"min_price":{"incl_vat":20.00},`), time.UTC, newTimeline(start).charge(time.Minute, 100).live())
	if c.Total >= h.StopAtCost {
		t.Errorf("running cost %d at the first sample already reaches the stop threshold %d", c.Total, h.StopAtCost)
	}
	// No hold amount and no budget.
	noHold := auTariff(t, `[{"price_components":[{"type":"ENERGY","price":0.55,"step_size":1}]}]`)
	if _, err := HoldFor(noHold, Budget{}, opts); !errors.Is(err, ErrNoHoldAmount) {
		t.Errorf("no hold: %v", err)
	}
	if _, err := HoldFor(noHold, Budget{Amount: 1000, EnergyWh: 1000}, opts); err == nil {
		t.Error("two budgets accepted")
	}
	if _, err := HoldFor(noHold, Budget{Amount: 1000}, HoldOptions{}); err == nil {
		t.Error("missing MaxPowerW accepted")
	}
}

// The point of the margin: a session stopped when its running cost reaches
// StopAtCost — checked at each meter sample, stopped StopLatency later at
// the worst rate — never costs more than the hold. Tried on tariffs with
// large step sizes, time-of-day elements, tax-exclusive prices and
// per-component VAT.
func TestHoldCoversStoppedSession(t *testing.T) {
	tariffs := map[string]*Tariff{
		"au":        holdTariff(t, ""),
		"tou":       touTariff(t),
		"ocpi 4":    exampleTariff(t, "tariff_4_complex.json"),
		"ocpi 10":   exampleTariff(t, "tariff_10_025kwh_parking_start.json"),
		"ocpi 13":   exampleTariff(t, "tariff_13_simple_3hour_5parking.json"),
		"ocpi 14":   exampleTariff(t, "tariff_14_step_size.json"),
		"ocpi 6":    exampleTariff(t, "tariff_6_025kwh_start_max_price.json"),
		"min price": holdTariff(t, `"min_price":{"incl_vat":20.00},`),
		"exclusive": auTariff(t, `[{"price_components":[{"type":"ENERGY","price":0.5,"step_size":500},{"type":"TIME","price":3,"step_size":900},{"type":"PARKING_TIME","price":12,"step_size":1800}]}]`, `"chargestar":{"tax":{"name":"GST","rate":0.1,"included":false}}`),
	}
	loc := mustLoc(t, "Australia/Sydney")
	opts := HoldOptions{MaxPowerW: 50_000, MeterInterval: time.Minute, StopLatency: 30 * time.Second}
	for name, tariff := range tariffs {
		for _, budget := range []int64{1500, 4000, 9000} {
			for _, idleAfter := range []time.Duration{0, 5 * time.Minute, 30 * time.Minute} {
				for _, start := range []time.Time{
					time.Date(2025, 3, 3, 16, 40, 0, 0, loc), time.Date(2025, 3, 8, 21, 50, 0, 0, loc),
				} {
					t.Run(fmt.Sprintf("%s/%d/%s/%s", name, budget, idleAfter, start.Format("Mon15:04")), func(t *testing.T) {
						h, err := HoldFor(tariff, Budget{Amount: budget}, opts)
						if errors.Is(err, ErrBudgetTooSmall) {
							return // refused up front: nothing to check
						} else if err != nil {
							t.Fatal(err)
						}
						final := simulateStoppedSession(t, tariff, loc, h, opts, start, idleAfter)
						if final > h.Amount {
							t.Errorf("final cost %d exceeds the hold %d (stop at %d)", final, h.Amount, h.StopAtCost)
						}
					})
				}
			}
		}
	}
}

// simulateStoppedSession charges at full power (idle after idleAfter),
// checks the running cost at every sample, and stops StopLatency after it
// reaches the hold's StopAtCost, still at full rate. It returns the final
// cost. Running costs never decrease as samples arrive (see
// TestRunningCostMonotone), so the first sample at which the cost reaches
// StopAtCost is found by binary search rather than by pricing every prefix.
func simulateStoppedSession(t *testing.T, tariff *Tariff, loc *time.Location, h Hold, opts HoldOptions, start time.Time, idleAfter time.Duration) int64 {
	const n = 12 * 60 // samples: 12 hours at one a minute
	whPerInterval := opts.MaxPowerW * int64(opts.MeterInterval) / int64(time.Hour)
	samples := []Sample{{At: start, EnergyWh: 0, Charging: ptr(true), CurrentMilliA: ptr[int64](40_000)}}
	wh := int64(0)
	for i := 1; i <= n; i++ {
		at := start.Add(time.Duration(i) * opts.MeterInterval)
		charging := idleAfter == 0 || at.Sub(start) <= idleAfter
		if charging {
			wh += whPerInterval
		}
		samples = append(samples, Sample{At: at, EnergyWh: wh, Charging: ptr(charging), CurrentMilliA: ptr[int64](40_000)})
	}
	running := func(k int) int64 { return mustPrice(t, tariff, loc, Usage{Start: start, Samples: samples[:k+1]}).Total }
	if !h.StopOnCost || running(n) < h.StopAtCost {
		return mustPrice(t, tariff, loc, Usage{Start: start, Stop: samples[n].At, Samples: samples}).Total
	}
	lo, hi := 0, n // running(hi) ≥ StopAtCost
	for lo < hi {
		mid := (lo + hi) / 2
		if running(mid) >= h.StopAtCost {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	stopped := append([]Sample(nil), samples[:lo+1]...)
	last := stopped[lo]
	stop := last.At.Add(opts.StopLatency)
	end := Sample{At: stop, EnergyWh: last.EnergyWh}
	if *last.Charging {
		end.EnergyWh += opts.MaxPowerW * int64(opts.StopLatency) / int64(time.Hour)
	}
	stopped = append(stopped, end)
	return mustPrice(t, tariff, loc, Usage{Start: start, Stop: stop, Samples: stopped}).Total
}
