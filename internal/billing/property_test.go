package billing

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/big"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"
)

// genOptions shape the generated tariffs.
type genOptions struct {
	// energyMonotone restricts tariffs to those where more energy can only
	// cost more: no min/max_kwh or power restrictions (they move later
	// energy to other, possibly cheaper, elements) and an unrestricted
	// ENERGY fallback (so an energy run never ends early and is rounded at
	// an element it would not otherwise end at).
	energyMonotone bool
}

var (
	genTimes    = []string{"00:00", "06:30", "07:00", "09:00", "12:00", "17:00", "20:00", "22:00", "02:30"}
	genDays     = []string{"MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"}
	genPrices   = []string{"0", "0.05", "0.1", "0.25", "0.3", "0.45", "0.55", "0.6", "1", "1.2", "2.4", "3", "5", "6", "12.5", "0.333", "1.9"}
	genSteps    = map[Dimension][]int64{DimEnergy: {0, 1, 1, 25, 100, 500, 1000}, DimTime: {1, 1, 60, 300, 900, 1800}, DimParkingTime: {1, 60, 60, 300, 900}, DimFlat: {0, 1}}
	genVAT      = []string{"0", "5.2", "10", "15", "20"}
	genCurrency = []string{"AUD", "AUD", "EUR", "NZD", "JPY", "GBP", "USD"}
)

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// genTariff builds a random valid tariff. Its draws are bounded, so that a
// fuzzer's exhausted input (all zeros from then on) still terminates.
func genTariff(r *rand.Rand, o genOptions) *Tariff {
	for range 20 {
		t := map[string]any{"currency": pick(r, genCurrency)}
		ext := map[string]any{}
		vat := false
		switch r.IntN(4) {
		case 0:
			ext["tax"] = map[string]any{"name": "GST", "rate": "0.1", "included": true}
		case 1:
			ext["tax"] = map[string]any{"name": "GST", "rate": "0.1", "included": false, "rounding": pick(r, []string{"half_up", "half_even", "down", "up"})}
		case 2:
			vat = true // OCPI 2.2.1 per-component VAT
		case 3:
			t["tax_included"] = pick(r, []string{"YES", "NO"})
			vat = r.IntN(2) == 0
		}
		var elements []any
		for range 1 + r.IntN(4) {
			elements = append(elements, genElement(r, o, vat))
		}
		if o.energyMonotone {
			elements = append(elements, map[string]any{"price_components": []any{comp(r, DimEnergy, "")}})
		}
		t["elements"] = elements
		if r.IntN(2) == 0 {
			ext["parking_grace_seconds"] = pick(r, []int{300, 600, 900})
		}
		if len(ext) > 0 {
			t["chargestar"] = ext
		}
		if r.IntN(3) == 0 {
			t["min_price"] = genBound(r)
		}
		if r.IntN(3) == 0 {
			t["max_price"] = genBound(r)
		}
		b, _ := json.Marshal(t)
		if tariff, err := ParseTariff(b); err == nil {
			return tariff
		}
		// e.g. max_price below min_price: draw again
	}
	return &Tariff{Currency: "AUD", Elements: []Element{{PriceComponents: []PriceComponent{{Type: DimEnergy, Price: MustDecimal("0.55"), StepSize: 1}}}}}
}

func genBound(r *rand.Rand) map[string]any {
	b := map[string]any{}
	excl := 1 + r.IntN(3000)
	switch r.IntN(3) {
	case 0:
		b["excl_vat"] = fmt.Sprintf("%d.%02d", excl/100, excl%100)
	case 1:
		b["incl_vat"] = fmt.Sprintf("%d.%02d", excl/100, excl%100)
	default:
		incl := excl + excl/10
		b["excl_vat"] = fmt.Sprintf("%d.%02d", excl/100, excl%100)
		b["incl_vat"] = fmt.Sprintf("%d.%02d", incl/100, incl%100)
	}
	return b
}

func comp(r *rand.Rand, d Dimension, vat string) map[string]any {
	c := map[string]any{"type": d, "price": pick(r, genPrices), "step_size": pick(r, genSteps[d])}
	if vat != "" {
		c["vat"] = vat
	}
	return c
}

func genElement(r *rand.Rand, o genOptions, withVAT bool) map[string]any {
	dims := []Dimension{DimEnergy, DimTime, DimParkingTime, DimFlat}
	var comps []any
	vat := ""
	if withVAT && r.IntN(4) != 0 {
		vat = pick(r, genVAT)
	}
	for _, d := range dims {
		if r.IntN(2) == 0 {
			comps = append(comps, comp(r, d, vat))
		}
	}
	if len(comps) == 0 {
		comps = append(comps, comp(r, pick(r, dims), vat))
	}
	e := map[string]any{"price_components": comps}
	rs := map[string]any{}
	if r.IntN(3) == 0 {
		rs["start_time"] = pick(r, genTimes)
	}
	if r.IntN(3) == 0 {
		rs["end_time"] = pick(r, genTimes)
	}
	if r.IntN(5) == 0 {
		var days []string
		for _, d := range genDays {
			if r.IntN(2) == 0 {
				days = append(days, d)
			}
		}
		rs["day_of_week"] = days
	}
	if r.IntN(5) == 0 {
		rs["max_duration"] = pick(r, []int{600, 1800, 3600})
	}
	if r.IntN(5) == 0 {
		rs["min_duration"] = pick(r, []int{0, 300, 1800, 3600})
	}
	if r.IntN(6) == 0 {
		rs["max_current"] = pick(r, []int{16, 32})
	}
	if !o.energyMonotone {
		if r.IntN(5) == 0 {
			rs["max_kwh"] = pick(r, []string{"1", "5", "10.5"})
		}
		if r.IntN(5) == 0 {
			rs["min_kwh"] = pick(r, []string{"0", "0.5", "2", "20"})
		}
		if r.IntN(6) == 0 {
			rs["max_power"] = pick(r, []string{"7.4", "16", "50"})
		}
		if r.IntN(8) == 0 {
			rs["min_power"] = pick(r, []string{"3.7", "22"})
		}
	}
	if len(rs) > 0 {
		e["restrictions"] = rs
	}
	return e
}

// genUsage builds a random stopped session around the night DST ends or
// starts in Sydney (or an ordinary day), sampled irregularly, with charging
// flags explicit (always, when explicit is set) or derived.
func genUsage(r *rand.Rand, explicit bool) Usage {
	syd, _ := time.LoadLocation("Australia/Sydney")
	base := pick(r, []time.Time{
		time.Date(2025, 4, 5, 23, 0, 0, 0, syd),
		time.Date(2025, 10, 4, 23, 30, 0, 0, syd),
		time.Date(2025, 3, 7, 16, 0, 0, 0, syd),
	})
	start := base.Add(time.Duration(r.IntN(6*3600)) * time.Second)
	at, wh := start, int64(r.IntN(100_000))
	s := []Sample{{At: at, EnergyWh: wh}}
	n := r.IntN(40)
	charging := true
	for range n {
		at = at.Add(time.Duration(10+r.IntN(1800)) * time.Second)
		if r.IntN(4) == 0 {
			charging = !charging
		}
		if charging {
			wh += int64(r.IntN(12_000))
		} else if r.IntN(5) == 0 {
			wh += int64(r.IntN(5))
		}
		smp := Sample{At: at, EnergyWh: wh}
		if explicit || r.IntN(3) == 0 {
			smp.Charging = ptr(charging)
		}
		if r.IntN(2) == 0 {
			smp.CurrentMilliA = ptr(int64(r.IntN(64_000)))
		}
		if r.IntN(4) == 0 {
			smp.PowerW = ptr(int64(r.IntN(50_000)))
		}
		s = append(s, smp)
	}
	if explicit || r.IntN(3) == 0 {
		s[0].Charging = ptr(true)
	}
	stop := at.Add(time.Duration(r.IntN(3600)) * time.Second)
	return Usage{Start: start, Stop: stop, Samples: s}
}

// checkProperties checks what must hold for any tariff and usage:
//
//   - the cost is consistent (breakdown, lines and totals add up) and
//     never negative;
//   - never above max_price, never below min_price once anything is
//     priced;
//   - running costs never decrease as samples arrive, and never exceed
//     the final cost (of the same session stopped at or after the last
//     sample).
func checkProperties(t testing.TB, tariff *Tariff, loc *time.Location, u Usage) {
	t.Helper()
	final, err := Price(tariff, loc, u)
	if err != nil {
		t.Fatalf("Price: %v", err)
	}
	checkConsistent(t, final)
	checkBounds(t, tariff, final)
	prev := int64(-1)
	for k := 1; k <= len(u.Samples); k++ {
		live := Usage{Start: u.Start, Samples: u.Samples[:k]}
		c, err := Price(tariff, loc, live)
		if err != nil {
			t.Fatalf("Price(prefix %d): %v", k, err)
		}
		checkConsistent(t, c)
		checkBounds(t, tariff, c)
		if c.Total < prev {
			t.Fatalf("running cost fell from %d to %d at sample %d%s", prev, c.Total, k, describeCost(c))
		}
		if c.Total > final.Total {
			t.Fatalf("running cost %d at sample %d exceeds the final cost %d\nrunning:%s\nfinal:%s", c.Total, k, final.Total, describeCost(c), describeCost(final))
		}
		prev = c.Total
	}
}

func checkBounds(t testing.TB, tariff *Tariff, c Cost) {
	t.Helper()
	exp, _ := MinorUnits(tariff.Currency)
	major := func(minor int64) Decimal { return Decimal{new(big.Rat).SetFrac(big.NewInt(minor), pow10(exp))} }
	if p := tariff.MaxPrice; p != nil {
		if p.InclVAT != nil && major(c.Total).Cmp(*p.InclVAT) > 0 {
			t.Fatalf("total %d above max_price incl %s", c.Total, p.InclVAT)
		}
		if p.ExclVAT != nil && major(c.ExclTax).Cmp(*p.ExclVAT) > 0 {
			t.Fatalf("excl %d above max_price excl %s", c.ExclTax, p.ExclVAT)
		}
	}
	if p := tariff.MinPrice; p != nil && len(c.Periods) > 0 {
		if p.InclVAT != nil && major(c.Total).Cmp(*p.InclVAT) < 0 {
			t.Fatalf("total %d below min_price incl %s", c.Total, p.InclVAT)
		}
		if p.ExclVAT != nil && major(c.ExclTax).Cmp(*p.ExclVAT) < 0 {
			t.Fatalf("excl %d below min_price excl %s", c.ExclTax, p.ExclVAT)
		}
	}
}

// Deterministic property test over generated tariffs and sessions (the
// fuzz targets below explore further with go test -fuzz).
func TestProperties(t *testing.T) {
	loc := mustLoc(t, "Australia/Sydney")
	cases := 400
	if testing.Short() {
		cases = 50
	}
	if n, err := strconv.Atoi(os.Getenv("BILLING_PROPERTY_CASES")); err == nil {
		cases = n // deeper runs: BILLING_PROPERTY_CASES=20000 go test -run TestProperties
	}
	for seed := range uint64(cases) {
		r := rand.New(rand.NewPCG(seed, 0x5eed))
		tariff := genTariff(r, genOptions{})
		u := genUsage(r, r.IntN(2) == 0)
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			defer dumpOnFailure(t, tariff, u)
			checkProperties(t, tariff, loc, u)
		})
	}
}

// More energy never costs less, for tariffs whose elements do not depend
// on the energy (see genOptions.energyMonotone), with the charging state
// given: adding energy to any one interval of a session raises its running
// cost or leaves it.
func TestMoreEnergyNeverCostsLess(t *testing.T) {
	loc := mustLoc(t, "Australia/Sydney")
	for seed := range uint64(200) {
		r := rand.New(rand.NewPCG(seed, 0xe4e7))
		tariff := genTariff(r, genOptions{energyMonotone: true})
		u := genUsage(r, true)
		u.Stop = time.Time{}
		if len(u.Samples) < 2 {
			continue
		}
		base := mustPrice(t, tariff, loc, u)
		j := 1 + r.IntN(len(u.Samples)-1)
		more := u
		more.Samples = append([]Sample(nil), u.Samples...)
		extra := int64(1 + r.IntN(5000))
		for i := j; i < len(more.Samples); i++ {
			more.Samples[i].EnergyWh += extra
		}
		c := mustPrice(t, tariff, loc, more)
		if c.Total < base.Total {
			dumpOnFailure(t, tariff, u)
			t.Fatalf("seed %d: %d Wh more in interval %d lowered the cost from %d to %d", seed, extra, j, base.Total, c.Total)
		}
	}
}

func dumpOnFailure(t testing.TB, tariff *Tariff, u Usage) {
	if !t.Failed() {
		return
	}
	tj, _ := json.Marshal(tariff)
	t.Logf("tariff: %s", tj)
	for _, s := range u.Samples {
		t.Logf("sample %s %d Wh charging=%v", s.At.Format(time.RFC3339), s.EnergyWh, s.Charging)
	}
	t.Logf("start %s stop %s", u.Start.Format(time.RFC3339), u.Stop.Format(time.RFC3339))
}

// byteSource feeds math/rand from fuzz input, so that the fuzzer steers
// the generators; past the input's end it continues with a PCG seeded from
// the input (rand.IntN rejection-samples, so a constant source would never
// return).
type byteSource struct {
	b    []byte
	rest *rand.PCG
}

func newByteSource(b []byte) *byteSource {
	var seed uint64 = 0x9e3779b97f4a7c15
	for _, c := range b {
		seed = (seed ^ uint64(c)) * 0x100000001b3
	}
	return &byteSource{b: b, rest: rand.NewPCG(seed, uint64(len(b)))}
}

func (s *byteSource) Uint64() uint64 {
	if len(s.b) == 0 {
		return s.rest.Uint64()
	}
	var buf [8]byte
	n := copy(buf[:], s.b)
	s.b = s.b[n:]
	return binary.LittleEndian.Uint64(buf[:])
}

// FuzzPrice checks the properties on tariffs and sessions generated from
// fuzz input.
func FuzzPrice(f *testing.F) {
	loc := mustLoc(f, "Australia/Sydney")
	for _, seed := range []string{"", "\x01\x02\x03\x04\x05\x06\x07\x08", "charging station", "\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7\xf6\xf5\xf4\xf3\xf2\xf1\xf0"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := rand.New(newByteSource(data))
		tariff := genTariff(r, genOptions{})
		u := genUsage(r, r.IntN(2) == 0)
		defer dumpOnFailure(t, tariff, u)
		checkProperties(t, tariff, loc, u)
	})
}

// FuzzParseTariff feeds arbitrary JSON to the tariff parser: it never
// panics, a tariff it accepts re-encodes to the same tariff, and pricing
// and describing it never panic and keep the cost invariants.
func FuzzParseTariff(f *testing.F) {
	f.Add([]byte(`{"currency":"AUD","elements":[{"price_components":[{"type":"ENERGY","price":0.55,"step_size":1}]}]}`))
	f.Add([]byte(`{"currency":"EUR","min_price":{"excl_vat":0.5,"incl_vat":0.55},"elements":[{"price_components":[{"type":"TIME","price":1.2,"step_size":1800}],"restrictions":{"start_time":"00:00","end_time":"17:00"}},{"price_components":[{"type":"PARKING_TIME","price":2,"vat":20,"step_size":900}],"restrictions":{"day_of_week":["SATURDAY"],"min_kwh":1,"max_power":16}}]}`))
	f.Add([]byte(`{"currency":"CAD","tax_included":"YES","max_price":{"before_taxes":10,"taxes":[{"name":"GST","amount":0.5}]},"elements":[{"price_components":[{"type":"FLAT","price":1,"step_size":0}],"restrictions":{"reservation":"RESERVATION"}}],"chargestar":{"tax":{"name":"GST","rate":"0.05","included":true},"parking_grace_seconds":60,"hold_amount":100}}`))
	loc := mustLoc(f, "Australia/Sydney")
	start := time.Date(2025, 4, 5, 22, 0, 0, 0, loc)
	u := newTimeline(start).sampledEvery(20*time.Minute).charge(3*time.Hour, 30_000, 20_000).idle(time.Hour).stop()
	u.Reservation = &ReservationUsage{Start: start.Add(-20 * time.Minute), End: start}
	f.Fuzz(func(t *testing.T, data []byte) {
		tariff, err := ParseTariff(data)
		if err != nil {
			return
		}
		out, err := json.Marshal(tariff)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		back, err := ParseTariff(out)
		if err != nil {
			t.Fatalf("re-parse of %s: %v", out, err)
		}
		out2, _ := json.Marshal(back)
		if string(out) != string(out2) {
			t.Fatalf("round trip:\n%s\n%s", out, out2)
		}
		c, err := Price(tariff, loc, u)
		if err == nil {
			checkConsistent(t, c)
			checkBounds(t, tariff, c)
		}
		_, _ = Describe(tariff, DescribeOptions{Location: loc})
		_, _ = HoldFor(tariff, Budget{EnergyWh: 20_000}, HoldOptions{MaxPowerW: 22_000})
	})
}

// FuzzParseDecimal: whatever parses prints back to the same number.
func FuzzParseDecimal(f *testing.F) {
	for _, s := range []string{"0.55", "-1e-3", "10", "1.005", "+0.10"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDecimal(s)
		if err != nil {
			return
		}
		back, err := ParseDecimal(d.String())
		if err != nil || !back.Equal(d) {
			t.Fatalf("%q → %s → %v", s, d, err)
		}
	})
}
