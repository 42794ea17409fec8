package billing

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chargestar/chargestar/internal/testutil"
)

// exampleTariff reads one of the OCPI example tariffs from ../shared.
func exampleTariff(t testing.TB, name string) *Tariff {
	t.Helper()
	dir := filepath.Join(testutil.RequireSharedDir(t), "ocpi-examples")
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		testutil.SkipOrFail(t, "OCPI example missing: "+err.Error())
	}
	tariff, err := ParseTariff(b)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return tariff
}

func mustTariff(t testing.TB, js string) *Tariff {
	t.Helper()
	tariff, err := ParseTariff([]byte(js))
	if err != nil {
		t.Fatalf("tariff: %v\n%s", err, js)
	}
	return tariff
}

func mustLoc(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		testutil.SkipOrFail(t, "time zone database: "+err.Error())
	}
	return loc
}

func ptr[T any](v T) *T { return &v }

// timeline builds a usage sample by sample with explicit charging flags:
// charge and idle append a stretch, stop/live finish it.
type timeline struct {
	start   time.Time
	at      time.Time
	wh      int64
	every   time.Duration // split stretches into samples this far apart (0: one sample)
	samples []Sample
}

func newTimeline(start time.Time) *timeline {
	return &timeline{start: start, at: start, samples: []Sample{{At: start}}}
}

// sampledEvery makes later stretches report a sample every d.
func (b *timeline) sampledEvery(d time.Duration) *timeline { b.every = d; return b }

// charge adds d of charging delivering wh at a constant rate; current, when
// given, is reported on every sample of the stretch.
func (b *timeline) charge(d time.Duration, wh int64, currentMA ...int64) *timeline {
	return b.stretch(true, d, wh, currentMA)
}

// idle adds d plugged in and not charging.
func (b *timeline) idle(d time.Duration) *timeline { return b.stretch(false, d, 0, nil) }

func (b *timeline) stretch(charging bool, d time.Duration, wh int64, currentMA []int64) *timeline {
	b.samples[len(b.samples)-1].Charging = ptr(charging)
	n := int64(1)
	if b.every > 0 && d > b.every {
		n = int64((d + b.every - 1) / b.every)
	}
	startWh, startAt := b.wh, b.at
	for i := int64(1); i <= n; i++ {
		at := startAt.Add(time.Duration(int64(d) * i / n))
		s := Sample{At: at, EnergyWh: startWh + wh*i/n}
		if len(currentMA) > 0 {
			s.CurrentMilliA = ptr(currentMA[0])
		}
		b.samples = append(b.samples, s)
	}
	b.at, b.wh = startAt.Add(d), startWh+wh
	return b
}

func (b *timeline) stop() Usage {
	return Usage{Start: b.start, Stop: b.at, Samples: append([]Sample(nil), b.samples...)}
}

func (b *timeline) live() Usage {
	return Usage{Start: b.start, Samples: append([]Sample(nil), b.samples...)}
}

func mustPrice(t testing.TB, tariff *Tariff, loc *time.Location, u Usage) Cost {
	t.Helper()
	c, err := Price(tariff, loc, u)
	if err != nil {
		t.Fatalf("Price: %v", err)
	}
	checkConsistent(t, c)
	return c
}

// checkConsistent checks the invariants every Cost keeps: the breakdown
// adds up, the lines add up, nothing is negative.
func checkConsistent(t testing.TB, c Cost) {
	t.Helper()
	var excl, tax, incl int64
	for _, m := range []Money{c.Flat, c.Energy, c.Time, c.Parking, c.Reservation, c.Adjustment} {
		if m.ExclTax+m.Tax != m.InclTax {
			t.Errorf("money %+v does not add up", m)
		}
		excl += m.ExclTax
		tax += m.Tax
		incl += m.InclTax
	}
	if excl != c.ExclTax || tax != c.Tax || incl != c.Total || c.ExclTax+c.Tax != c.Total {
		t.Errorf("totals excl %d + tax %d != total %d (breakdown %d + %d = %d)", c.ExclTax, c.Tax, c.Total, excl, tax, incl)
	}
	var lines int64
	for _, l := range c.Lines {
		lines += l.Amount
		if l.Amount < 0 && l.Kind != LineMaximumPrice {
			t.Errorf("line %+v is negative", l)
		}
	}
	want := c.ExclTax
	if c.PricesIncludeTax {
		want = c.Total
	}
	if lines != want {
		t.Errorf("lines add up to %d, want %d", lines, want)
	}
	if c.Total < 0 || c.Tax < 0 || c.ExclTax < 0 {
		t.Errorf("negative cost: %+v", c)
	}
}

func describeCost(c Cost) string {
	s := ""
	for _, l := range c.Lines {
		s += "\n  " + l.Description + " = " + FormatMoney(l.Amount, c.Currency)
	}
	return s
}
