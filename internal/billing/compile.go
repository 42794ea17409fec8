package billing

import (
	"math/big"
	"slices"
	"time"
)

// dim indexes the per-dimension arrays of the engine.
type dim int

const (
	dEnergy dim = iota
	dTime
	dParking
	dFlat
	numDims
)

func dimOf(d Dimension) (dim, bool) {
	switch d {
	case DimEnergy:
		return dEnergy, true
	case DimTime:
		return dTime, true
	case DimParkingTime:
		return dParking, true
	case DimFlat:
		return dFlat, true
	}
	return 0, false
}

// compiled is a validated tariff in the form the engine reads: restrictions
// parsed once, prices and rates as big.Rat, and the instants where
// restrictions can change collected.
type compiled struct {
	t        *Tariff
	basis    taxBasis
	cur      currency
	elements []cElement

	session     []int // elements that price a charging session, in tariff order
	resUsed     []int // elements that price a reservation that was used
	resExpired  []int // … one that expired: RESERVATION_EXPIRES first, then RESERVATION
	wallSeconds []int // local times of day where some restriction changes (sorted)
	wallClock   bool  // some restriction reads the local clock or calendar
	needPower   bool  // some restriction reads the power
	needEnergy  bool  // some restriction reads the session's energy so far
	durations   []time.Duration
	thresholds  []*big.Rat // Wh where some min_kwh/max_kwh changes (sorted)
}

type cElement struct {
	index int
	comp  [numDims]*cComponent // first component of each dimension, nil when none
	r     cRestrictions
}

type cComponent struct {
	price *big.Rat // major units per kWh / hour / fee
	rate  *big.Rat // tax rate, fraction
	step  int64    // Wh or seconds, ≥ 1
}

type cRestrictions struct {
	hasStart, hasEnd bool
	startSec, endSec int
	startDate        int // YYYYMMDD, 0 none
	endDate          int
	days             uint8 // bit per time.Weekday; 0 any day
	minWh, maxWh     *big.Rat
	minMA, maxMA     *big.Rat // milliamps
	minW, maxW       *big.Rat // watts
	minDur, maxDur   *time.Duration
	reservation      ReservationRestriction
}

// compile turns a tariff into the engine's form. The tariff must be valid.
func compile(t *Tariff) *compiled {
	c := &compiled{t: t, basis: taxBasisOf(t)}
	c.cur, _ = lookupCurrency(t.Currency)
	secs := map[int]bool{}
	durs := map[time.Duration]bool{}
	var thresholds []*big.Rat
	for i, e := range t.Elements {
		ce := cElement{index: i}
		for _, pc := range e.PriceComponents {
			d, _ := dimOf(pc.Type)
			if ce.comp[d] != nil {
				continue // validation refuses this; first wins regardless
			}
			ce.comp[d] = &cComponent{price: pc.Price.Rat(), rate: c.basis.componentRate(pc), step: max(pc.StepSize, 1)}
		}
		if r := e.Restrictions; r != nil {
			cr := &ce.r
			cr.reservation = r.Reservation
			if r.StartTime != "" {
				cr.hasStart = true
				cr.startSec, _ = parseClock(r.StartTime)
				secs[cr.startSec] = true
			}
			if r.EndTime != "" {
				cr.hasEnd = true
				cr.endSec, _ = parseClock(r.EndTime)
				secs[cr.endSec] = true
			}
			if r.StartDate != "" {
				cr.startDate, _ = parseCivilDate(r.StartDate)
				secs[0] = true
			}
			if r.EndDate != "" {
				cr.endDate, _ = parseCivilDate(r.EndDate)
				secs[0] = true
			}
			for _, name := range r.DayOfWeek {
				wd, _ := weekdayByName(name)
				cr.days |= 1 << wd
				secs[0] = true
			}
			kWh := big.NewRat(1000, 1)
			cr.minWh = scaled(r.MinKWh, kWh)
			cr.maxWh = scaled(r.MaxKWh, kWh)
			cr.minMA = scaled(r.MinCurrent, kWh) // A → mA, the same factor
			cr.maxMA = scaled(r.MaxCurrent, kWh)
			cr.minW = scaled(r.MinPower, kWh) // kW → W
			cr.maxW = scaled(r.MaxPower, kWh)
			c.needPower = c.needPower || cr.minW != nil || cr.maxW != nil
			c.needEnergy = c.needEnergy || cr.minWh != nil || cr.maxWh != nil
			for _, th := range []*big.Rat{cr.minWh, cr.maxWh} {
				if th != nil && th.Sign() > 0 {
					thresholds = append(thresholds, th)
				}
			}
			if r.MinDuration != nil {
				d := time.Duration(*r.MinDuration) * time.Second
				cr.minDur = &d
				durs[d] = true
			}
			if r.MaxDuration != nil {
				d := time.Duration(*r.MaxDuration) * time.Second
				cr.maxDur = &d
				durs[d] = true
			}
		}
		c.elements = append(c.elements, ce)
		switch ce.r.reservation {
		case "":
			c.session = append(c.session, i)
		case Reservation:
			c.resUsed = append(c.resUsed, i)
		}
	}
	for i, ce := range c.elements {
		if ce.r.reservation == ReservationExpires {
			c.resExpired = append(c.resExpired, i)
		}
	}
	c.resExpired = append(c.resExpired, c.resUsed...)
	for s := range secs {
		c.wallSeconds = append(c.wallSeconds, s)
	}
	slices.Sort(c.wallSeconds)
	c.wallClock = len(c.wallSeconds) > 0
	for d := range durs {
		if d > 0 {
			c.durations = append(c.durations, d)
		}
	}
	slices.Sort(c.durations)
	slices.SortFunc(thresholds, func(a, b *big.Rat) int { return a.Cmp(b) })
	c.thresholds = slices.CompactFunc(thresholds, func(a, b *big.Rat) bool { return a.Cmp(b) == 0 })
	return c
}

func scaled(d *Decimal, f *big.Rat) *big.Rat {
	if d == nil {
		return nil
	}
	return new(big.Rat).Mul(d.rat(), f)
}

// matches reports whether the restrictions hold over the segment. The
// segment never straddles a point where one of them changes (the timeline
// is cut there), so evaluating at its start is evaluating all of it.
func (r *cRestrictions) matches(s *segment) bool {
	if r.hasStart || r.hasEnd {
		x := s.secOfDay
		switch {
		case r.hasStart && r.hasEnd && r.startSec < r.endSec:
			if x < r.startSec || x >= r.endSec {
				return false
			}
		case r.hasStart && r.hasEnd && r.startSec > r.endSec: // crosses midnight
			if x < r.startSec && x >= r.endSec {
				return false
			}
		case r.hasStart && r.hasEnd: // equal: the whole day
		case r.hasStart:
			if x < r.startSec {
				return false
			}
		default:
			if x >= r.endSec {
				return false
			}
		}
	}
	if r.startDate != 0 && s.date < r.startDate {
		return false
	}
	if r.endDate != 0 && s.date >= r.endDate {
		return false
	}
	if r.days != 0 && r.days&(1<<s.weekday) == 0 {
		return false
	}
	if r.minWh != nil && s.cumWh.Cmp(r.minWh) < 0 {
		return false
	}
	if r.maxWh != nil && s.cumWh.Cmp(r.maxWh) >= 0 {
		return false
	}
	if r.minW != nil && s.powerW.Cmp(r.minW) < 0 {
		return false
	}
	if r.maxW != nil && s.powerW.Cmp(r.maxW) >= 0 {
		return false
	}
	if r.minMA != nil || r.maxMA != nil {
		// A current restriction on a period whose current the station did
		// not report cannot be shown to hold; the next element decides.
		if !s.hasCurrent {
			return false
		}
		ma := new(big.Rat).SetInt64(s.currentMA)
		if r.minMA != nil && ma.Cmp(r.minMA) < 0 {
			return false
		}
		if r.maxMA != nil && ma.Cmp(r.maxMA) >= 0 {
			return false
		}
	}
	if r.minDur != nil && s.elapsed < *r.minDur {
		return false
	}
	if r.maxDur != nil && s.elapsed >= *r.maxDur {
		return false
	}
	return true
}

// first returns the first of the candidate elements that has a component of
// dimension d and whose restrictions hold over the segment, or -1.
func (c *compiled) first(candidates []int, d dim, s *segment) int {
	for _, i := range candidates {
		e := &c.elements[i]
		if e.comp[d] != nil && e.r.matches(s) {
			return i
		}
	}
	return -1
}
