package billing

import (
	"errors"
	"fmt"
	"math/big"
	"slices"
	"time"
)

// Cost is what a session costs under a tariff: quantities, amounts per
// dimension, tax, total, receipt lines and the periods that explain them.
// Every amount is in minor units of Currency.
type Cost struct {
	Currency string
	// Final is true for a stopped session (and an expired reservation);
	// false for the running cost of a live one (see Price).
	Final bool
	// PricesIncludeTax: line amounts are tax-inclusive (the tariff quotes
	// tax-inclusive prices); otherwise they exclude tax.
	PricesIncludeTax bool
	// TaxName is "GST", "VAT", …; "" when no tax applies.
	TaxName string
	// TaxUnknown: the tariff says its prices are taxed (OCPI 2.3
	// tax_included YES/NO) but not at what rate, so Tax is 0 and ExclTax
	// equals Total. A tariff with a Tax never has this.
	TaxUnknown bool

	Quantities Quantities

	// Per dimension. Adjustment is the min_price/max_price correction.
	Flat        Money
	Energy      Money
	Time        Money
	Parking     Money
	Reservation Money
	Adjustment  Money

	ExclTax int64 // total excluding tax
	Tax     int64
	Total   int64 // including tax: what the driver pays

	// Lines itemise the cost for a receipt, in the tariff's price basis
	// (tax-inclusive when PricesIncludeTax); their Amounts add up to Total
	// (tax-inclusive basis) or ExclTax (tax-exclusive basis).
	Lines []Line
	// Periods say which tariff element priced each dimension when.
	Periods []Period
}

// Money is one dimension's share of a cost. ExclTax + Tax == InclTax.
type Money struct {
	ExclTax int64
	Tax     int64
	InclTax int64
}

// Quantities are what the session used and what was billed of it.
type Quantities struct {
	EnergyWh int64 // measured
	// BilledEnergyWh is the energy priced: measured energy under a priced
	// ENERGY component, rounded up to step sizes. Exact; whole Wh once
	// Final.
	BilledEnergyWh     Decimal
	ChargingTime       time.Duration // measured
	BilledChargingTime time.Duration
	ParkingTime        time.Duration // measured idle time, grace included
	GraceTime          time.Duration // idle time inside the grace period
	BilledParkingTime  time.Duration
	ReservationTime    time.Duration
	BilledReservation  time.Duration
	Fees               int // FLAT fees charged (session and reservation)
}

// LineKind names a receipt line.
type LineKind string

// Receipt line kinds.
const (
	LineSessionFee      LineKind = "session_fee"      // FLAT
	LineEnergy          LineKind = "energy"           // ENERGY
	LineChargingTime    LineKind = "charging_time"    // TIME
	LineIdle            LineKind = "idle"             // PARKING_TIME
	LineReservationFee  LineKind = "reservation_fee"  // FLAT of a reservation element
	LineReservationTime LineKind = "reservation_time" // TIME of a reservation element
	LineMinimumPrice    LineKind = "minimum_price"    // raised to min_price
	LineMaximumPrice    LineKind = "maximum_price"    // capped at max_price
)

// Line is one receipt line: a dimension priced by one tariff element.
type Line struct {
	Kind LineKind
	// Element is the index of the tariff element whose component priced
	// the line; -1 for min/max price adjustments.
	Element int
	// Quantity billed (after step_size rounding) in Unit: kWh for energy,
	// hours for time, the number of fees.
	Quantity Decimal
	Unit     string        // "kWh", "h", "fee"
	Duration time.Duration // the same quantity as a duration, for time lines
	// UnitPrice is the component's price, in major units, in the tariff's
	// price basis.
	UnitPrice Decimal
	TaxRate   Decimal // fraction: 0.1 for 10%
	// Amount in minor units, in the tariff's price basis.
	Amount      int64
	Description string // e.g. "Energy 20.450 kWh × $0.55/kWh"
}

// Period is a stretch of the timeline over which the same tariff elements
// priced the session.
type Period struct {
	Start, End  time.Time
	Reservation bool // reservation time, before the session
	Charging    bool
	Grace       bool // idle within the parking grace period
	EnergyWh    Decimal
	// Elements pricing each dimension over the period: the index of the
	// tariff element, or -1 when the dimension accrued nothing or nothing
	// priced it. Time is the reservation's time in a reservation period.
	Energy, Time, Parking int
}

// Price prices a session's usage under the tariff that was frozen when it
// started, in the site's time zone.
//
// With usage.Stop set it returns the final cost. Without, it returns the
// running cost of the live session up to its last sample: the same rules,
// except that the step_size round-up of each dimension's still-open run is
// not added yet (it is decided by the element in force when the run ends,
// which is not known yet). That makes running costs never decrease as the
// session goes on and never exceed the final cost; a driver may owe up to
// one step of each dimension more at stop, which HoldFor's margin covers.
func Price(t *Tariff, loc *time.Location, u Usage) (Cost, error) {
	if t == nil {
		return Cost{}, errors.New("billing: no tariff")
	}
	if loc == nil {
		return Cost{}, errors.New("billing: the site's time zone is required")
	}
	if err := t.Validate(); err != nil {
		return Cost{}, err
	}
	if err := u.check(); err != nil {
		return Cost{}, err
	}
	c := compile(t)
	e := &engine{c: c, loc: loc, index: map[lineKey]*lineAcc{}}
	if r := u.Reservation; r != nil {
		candidates := c.resUsed
		if r.Expired {
			candidates = c.resExpired
		}
		var ivs []interval
		if r.End.After(r.Start) {
			ivs = []interval{{from: r.Start, to: r.End, charging: true}}
		}
		e.pricePhase(true, candidates, c.segments(loc, r.Start, ivs, 0), true)
	}
	if !u.Start.IsZero() {
		e.pricePhase(false, c.session, c.segments(loc, u.Start, u.intervals(), t.ParkingGrace), u.final())
	}
	return e.cost(u.final())
}

type engine struct {
	c        *compiled
	loc      *time.Location
	lines    []*lineAcc
	index    map[lineKey]*lineAcc
	q        Quantities
	measured whSum
	periods  []period
	priced   bool // some part of the timeline had non-zero length or energy
}

type lineKey struct {
	reservation bool
	d           dim
	element     int
}

type lineAcc struct {
	key  lineKey
	comp *cComponent
	wh   whSum // energy lines
	ns   int64 // time lines: nanoseconds
	fees int64 // fee lines
}

func (e *engine) line(reservation bool, d dim, element int) *lineAcc {
	k := lineKey{reservation, d, element}
	if l, ok := e.index[k]; ok {
		return l
	}
	l := &lineAcc{key: k, comp: e.c.elements[element].comp[d]}
	e.index[k] = l
	e.lines = append(e.lines, l)
	return l
}

// run is a dimension's volume billed without interruption since the last
// time it was rounded. OCPI's step_size rule: a dimension's volume is
// rounded up once, to the step of the element that priced its last part,
// and the round-up is billed at that element's price — when the session
// ends, or earlier when the dimension's volume starts accruing under no
// price component (its element switched to one without that dimension, or
// the parking grace period began).
type run struct {
	wh   whSum // energy runs
	ns   int64 // time runs
	last *lineAcc
}

func (r *run) addEnergy(e *engine, element int, wh energy) {
	if wh.sign() <= 0 {
		return
	}
	if element < 0 {
		r.close()
		return
	}
	l := e.line(false, dEnergy, element)
	l.wh.add(wh)
	r.wh.add(wh)
	r.last = l
}

func (r *run) addTime(e *engine, reservation bool, d dim, element int, ns time.Duration) {
	if ns <= 0 {
		return
	}
	if element < 0 {
		r.close()
		return
	}
	l := e.line(reservation, d, element)
	l.ns += int64(ns)
	r.ns += int64(ns)
	r.last = l
}

func (r *run) close() {
	l := r.last
	switch {
	case l == nil:
	case l.key.d == dEnergy: // steps of Wh
		total := r.wh.total()
		extra := ceilToStep(total, l.comp.step)
		extra.Sub(extra, total)
		l.wh.add(energyOf(extra))
	case r.ns > 0: // time: steps of seconds
		step := l.comp.step * int64(time.Second)
		l.ns += (step - r.ns%step) % step
	}
	*r = run{}
}

// pricePhase prices the segments of a reservation or of a charging session
// with the candidate elements, first match per dimension per segment.
func (e *engine) pricePhase(reservation bool, candidates []int, segs []segment, final bool) {
	c := e.c
	var runs [numDims]run
	flatDone := false
	for i := range segs {
		s := &segs[i]
		dur := s.duration()
		if dur <= 0 && s.energy.sign() == 0 {
			continue
		}
		e.priced = true
		if !flatDone {
			if el := c.first(candidates, dFlat, s); el >= 0 {
				e.line(reservation, dFlat, el).fees++
				e.q.Fees++
				flatDone = true
			}
		}
		p := period{Period: Period{Start: s.from, End: s.to, Reservation: reservation, Charging: s.charging, Grace: s.grace,
			Energy: -1, Time: -1, Parking: -1}}
		p.wh.add(s.energy)
		switch {
		case reservation:
			p.Time = c.first(candidates, dTime, s)
			runs[dTime].addTime(e, true, dTime, p.Time, dur)
			e.q.ReservationTime += dur
		default:
			if s.energy.sign() > 0 {
				p.Energy = c.first(candidates, dEnergy, s)
				runs[dEnergy].addEnergy(e, p.Energy, s.energy)
				e.measured.add(s.energy)
			}
			switch {
			case s.charging:
				p.Time = c.first(candidates, dTime, s)
				runs[dTime].addTime(e, false, dTime, p.Time, dur)
				e.q.ChargingTime += dur
			case s.grace:
				runs[dParking].addTime(e, false, dParking, -1, dur) // free: ends the parking run
				e.q.ParkingTime += dur
				e.q.GraceTime += dur
			default:
				p.Parking = c.first(candidates, dParking, s)
				runs[dParking].addTime(e, false, dParking, p.Parking, dur)
				e.q.ParkingTime += dur
			}
		}
		e.addPeriod(p)
	}
	if final {
		for d := range runs {
			runs[d].close()
		}
	}
}

// period is a Period being built, its energy summed exactly.
type period struct {
	Period
	wh whSum
}

func (e *engine) addPeriod(p period) {
	if n := len(e.periods); n > 0 {
		last := &e.periods[n-1]
		if last.End.Equal(p.Start) && last.Reservation == p.Reservation && last.Charging == p.Charging &&
			last.Grace == p.Grace && last.Energy == p.Energy && last.Time == p.Time && last.Parking == p.Parking {
			last.End = p.End
			last.wh.addSum(p.wh)
			return
		}
	}
	e.periods = append(e.periods, p)
}

// Buckets of the per-dimension breakdown.
const (
	bFlat = iota
	bEnergy
	bTime
	bParking
	bReservation
	bAdjustment
	numBuckets
)

func bucketOf(k lineKey) int {
	if k.reservation {
		return bReservation
	}
	switch k.d {
	case dEnergy:
		return bEnergy
	case dTime:
		return bTime
	case dParking:
		return bParking
	}
	return bFlat
}

// amountLimit bounds any one amount (10^15 minor units): far beyond any
// session, far from int64 overflow when amounts are added up.
const amountLimit = 1_000_000_000_000_000

// cost turns the priced volumes into money, rounding at the points the
// package documentation lists: (1) each line's amount, volume × unit
// price, to minor units; (2) the session's tax, once, from the exact tax
// of the rounded lines (GST: total × rate/(1+rate) for inclusive prices,
// subtotal × rate for exclusive ones); (3) min_price/max_price, converted
// to minor units and applied to both totals. Per-dimension tax is the
// session's tax shared out (largest remainder), so the breakdown always
// adds up to the total.
func (e *engine) cost(final bool) (Cost, error) {
	c := e.c
	b := c.basis
	out := Cost{
		Currency:         c.t.Currency,
		Final:            final,
		PricesIncludeTax: b.included,
		TaxName:          b.name,
		TaxUnknown:       b.unknown,
		Quantities:       e.q,
	}
	if c.t.TaxIncluded == TaxIncludedNA || (b.single == nil && !b.unknown && !anyPositiveVAT(c.t)) {
		out.TaxName = "" // no tax applies
	}
	slices.SortStableFunc(e.lines, func(x, y *lineAcc) int {
		if x.key.reservation != y.key.reservation {
			if x.key.reservation {
				return -1
			}
			return 1
		}
		if o := lineOrder(x.key.d) - lineOrder(y.key.d); o != 0 {
			return o
		}
		return x.key.element - y.key.element
	})
	scale := new(big.Rat).SetInt(pow10(c.cur.exponent))
	var amounts [numBuckets]int64
	var shares [numBuckets]*big.Rat
	for i := range shares {
		shares[i] = new(big.Rat)
	}
	var primary int64
	var billed whSum
	exactTax := new(big.Rat)
	for _, l := range e.lines {
		var major, qty *big.Rat
		line := Line{Element: l.key.element, UnitPrice: DecimalFromRat(l.comp.price), TaxRate: DecimalFromRat(l.comp.rate)}
		switch l.key.d {
		case dEnergy:
			wh := l.wh.total()
			qty = new(big.Rat).Quo(wh, big.NewRat(1000, 1))
			major = new(big.Rat).Mul(qty, l.comp.price)
			line.Kind, line.Unit = LineEnergy, "kWh"
			billed.addSum(l.wh)
		case dTime, dParking:
			qty = big.NewRat(l.ns, int64(time.Hour))
			major = new(big.Rat).Mul(qty, l.comp.price)
			line.Unit = "h"
			line.Duration = time.Duration(l.ns)
			switch {
			case l.key.reservation:
				line.Kind = LineReservationTime
				out.Quantities.BilledReservation += line.Duration
			case l.key.d == dTime:
				line.Kind = LineChargingTime
				out.Quantities.BilledChargingTime += line.Duration
			default:
				line.Kind = LineIdle
				out.Quantities.BilledParkingTime += line.Duration
			}
		default:
			qty = big.NewRat(l.fees, 1)
			major = new(big.Rat).Mul(qty, l.comp.price)
			line.Unit = "fee"
			line.Kind = LineSessionFee
			if l.key.reservation {
				line.Kind = LineReservationFee
			}
		}
		amount, err := toMinor(major, scale, b.rounding)
		if err != nil {
			return Cost{}, err
		}
		line.Quantity = Decimal{qty}
		line.Amount = amount
		line.Description = e.describeLine(line, c.elements[l.key.element])
		out.Lines = append(out.Lines, line)
		primary += amount
		bk := bucketOf(l.key)
		amounts[bk] += amount
		x := b.exactTaxOf(big.NewRat(amount, 1), l.comp.rate)
		shares[bk].Add(shares[bk], x)
		exactTax.Add(exactTax, x)
	}
	out.Quantities.EnergyWh = ratToInt64(e.measured.total())
	out.Quantities.BilledEnergyWh = Decimal{billed.total()}
	out.Periods = make([]Period, len(e.periods))
	for i, p := range e.periods {
		out.Periods[i] = p.Period
		out.Periods[i].EnergyWh = Decimal{p.wh.total()}
	}
	if !e.priced {
		return out, nil // nothing happened yet: nothing is owed, not even min_price
	}

	bounded, tax, err := e.applyBounds(primary, exactTax, scale)
	if err != nil {
		return Cost{}, err
	}
	adjust := bounded - primary
	amounts[bAdjustment] = adjust
	if adjust != 0 || tax.Cmp(big.NewRat(roundRat(exactTax, b.rounding).Int64(), 1)) != 0 {
		// The bounds moved the total or its tax: the adjustment carries the
		// difference in tax too, so that the shares still add up.
		shares[bAdjustment] = new(big.Rat).Sub(tax, exactTax)
	}
	if adjust != 0 {
		kind, desc := LineMinimumPrice, "Minimum price"
		if adjust < 0 {
			kind, desc = LineMaximumPrice, "Price cap"
		}
		out.Lines = append(out.Lines, Line{Kind: kind, Element: -1, Quantity: DecimalFromInt(1), Unit: "fee", Amount: adjust, Description: desc})
	}
	totalTax := tax.Num().Int64()
	taxes := apportion(shares[:], totalTax)
	moneys := [numBuckets]*Money{&out.Flat, &out.Energy, &out.Time, &out.Parking, &out.Reservation, &out.Adjustment}
	for i, m := range moneys {
		m.Tax = taxes[i]
		if b.included {
			m.InclTax = amounts[i]
			m.ExclTax = amounts[i] - taxes[i]
		} else {
			m.ExclTax = amounts[i]
			m.InclTax = amounts[i] + taxes[i]
		}
		out.ExclTax += m.ExclTax
		out.Tax += m.Tax
		out.Total += m.InclTax
	}
	return out, nil
}

func lineOrder(d dim) int {
	switch d {
	case dFlat:
		return 0
	case dEnergy:
		return 1
	case dTime:
		return 2
	}
	return 3
}

// applyBounds applies min_price and max_price to the session total and
// returns the bounded total on the price basis and its tax (an integer,
// as a Rat).
//
// OCPI: "the total cost excluding VAT can never be lower than min_price
// excl_vat; the total including VAT can never be lower than min_price
// incl_vat" (and likewise for max_price): both rules apply, so the totals
// excluding and including tax are clamped independently and the tax is
// their difference. A bound given on one side only is carried to the
// other at a fixed rate — the Tax's rate, or for OCPI per-component VAT
// the tariff's lowest rate (the reading that favours the driver) —
// computing its tax as any other: excl + tax(excl), or incl − tax(incl).
// A fixed rate, rather than the session's own mix of rates, keeps costs
// monotone: a bounded total never moves because the mix did.
func (e *engine) applyBounds(total int64, exactTax *big.Rat, scale *big.Rat) (int64, *big.Rat, error) {
	c, b := e.c, e.c.basis
	mode := b.rounding
	t0 := roundRat(exactTax, mode).Int64()
	excl, incl := total, total+t0
	if b.included {
		excl, incl = total-t0, total
	}
	rate := boundRate(c.t)
	onePlus := new(big.Rat).Add(big.NewRat(1, 1), rate)
	// A bound finer than the minor unit rounds inwards: a minimum up, a
	// maximum down, so that "never below" and "never above" still hold.
	minor := func(d *Decimal, upper bool) int64 {
		m := Up
		if upper {
			m = Down
		}
		return roundRat(new(big.Rat).Mul(d.rat(), scale), m).Int64()
	}
	// sides returns a bound's excl and incl sides in minor units.
	sides := func(p *PriceBound, upper bool) (*int64, *int64) {
		if p == nil {
			return nil, nil
		}
		var ex, in int64
		switch {
		case p.ExclVAT != nil && p.InclVAT != nil:
			ex, in = minor(p.ExclVAT, upper), minor(p.InclVAT, upper)
		case p.ExclVAT != nil:
			ex = minor(p.ExclVAT, upper)
			in = ex + roundRat(new(big.Rat).Mul(big.NewRat(ex, 1), rate), mode).Int64()
		default:
			in = minor(p.InclVAT, upper)
			x := new(big.Rat).Mul(big.NewRat(in, 1), rate)
			ex = in - roundRat(x.Quo(x, onePlus), mode).Int64()
		}
		return &ex, &in
	}
	minE, minI := sides(c.t.MinPrice, false)
	maxE, maxI := sides(c.t.MaxPrice, true)
	excl = clampInt(excl, minE, maxE)
	incl = clampInt(incl, minI, maxI)
	excl = min(excl, incl) // bounds that contradict each other never make tax negative
	if excl > amountLimit || incl > amountLimit {
		return 0, nil, fmt.Errorf("billing: total %d is out of range", incl)
	}
	basis := excl
	if b.included {
		basis = incl
	}
	return basis, big.NewRat(incl-excl, 1), nil
}

func clampInt(v int64, lo, hi *int64) int64 {
	if lo != nil && v < *lo {
		v = *lo
	}
	if hi != nil && v > *hi {
		v = *hi
	}
	return v
}

// toMinor rounds an amount in major units to minor units.
func toMinor(major *big.Rat, scale *big.Rat, mode RoundingMode) (int64, error) {
	q := roundRat(new(big.Rat).Mul(major, scale), mode)
	if !q.IsInt64() || q.Int64() > amountLimit || q.Int64() < -amountLimit {
		return 0, errors.New("billing: amount out of range (check the usage's meter registers)")
	}
	return q.Int64(), nil
}

func ratToInt64(r *big.Rat) int64 {
	q := new(big.Int).Quo(r.Num(), r.Denom())
	if !q.IsInt64() {
		return 0
	}
	return q.Int64()
}

// apportion shares an integer total out over exact shares that add up to
// about it: each gets the floor of its share, and the units left over go
// to the largest fractional parts (earlier buckets first on ties). The
// result always adds up to total.
func apportion(shares []*big.Rat, total int64) []int64 {
	out := make([]int64, len(shares))
	fracs := make([]*big.Rat, len(shares))
	var sum int64
	for i, s := range shares {
		f := new(big.Int).Div(s.Num(), s.Denom()) // Euclidean: floor for a positive denominator
		out[i] = f.Int64()
		fracs[i] = new(big.Rat).Sub(s, new(big.Rat).SetInt(f))
		sum += out[i]
	}
	left := total - sum
	if left < 0 || left > int64(len(shares)) {
		// Shares that do not add up to the total (cannot happen with the
		// callers' shares): give the difference to the largest bucket.
		largest := 0
		for i := range out {
			if shares[i].Cmp(shares[largest]) > 0 {
				largest = i
			}
		}
		out[largest] += left
		return out
	}
	order := make([]int, len(shares))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return fracs[b].Cmp(fracs[a]) })
	for _, i := range order[:left] {
		out[i]++
	}
	return out
}
