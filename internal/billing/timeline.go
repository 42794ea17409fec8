package billing

import (
	"math/big"
	"slices"
	"time"
)

// segment is a piece of the timeline over which nothing a restriction can
// see changes: the engine's unit of pricing.
type segment struct {
	from, to   time.Time
	energy     energy   // Wh delivered in the segment
	cumWh      *big.Rat // Wh delivered before it, since the session started
	elapsed    time.Duration
	powerW     *big.Rat
	currentMA  int64
	hasCurrent bool
	charging   bool
	grace      bool // idle time inside the parking grace period

	// the site's wall clock at from
	secOfDay int
	date     int
	weekday  time.Weekday
}

func (s *segment) duration() time.Duration { return s.to.Sub(s.from) }

// segments cuts intervals into segments at every instant where a
// restriction of the tariff can change:
//
//   - the local times of day named by start_time/end_time, and local
//     midnight when a restriction reads the date or the day of the week —
//     found as instants of the site's wall clock, so a boundary inside a
//     DST-repeated hour is cut at both of its occurrences and one inside a
//     skipped hour at the clock change;
//   - the clock changes themselves (the wall clock jumps there);
//   - start + min_duration/max_duration;
//   - the end of the parking grace period in each idle stretch;
//   - the instants where the session's energy crosses a min_kwh/max_kwh,
//     interpolated linearly inside the interval (OCPI: "interpolated by the
//     CPO using the metering information before and after that moment").
//
// Energy is shared out over a cut interval in proportion to time, exactly.
func (c *compiled) segments(loc *time.Location, start time.Time, ivs []interval, grace time.Duration) []segment {
	if len(ivs) == 0 {
		return nil
	}
	from, to := ivs[0].from, ivs[len(ivs)-1].to
	var cuts []time.Time
	if c.wallClock {
		cuts = append(cuts, wallCuts(loc, from, to, c.wallSeconds)...)
		cuts = append(cuts, zoneTransitions(loc, from, to)...)
	}
	for _, d := range c.durations {
		if t := start.Add(d); t.After(from) && t.Before(to) {
			cuts = append(cuts, t)
		}
	}
	graceEnd := make([]time.Time, len(ivs)) // per idle interval: the end of its stretch's grace
	if grace > 0 {
		var stretch time.Time
		for i, iv := range ivs {
			if iv.charging {
				stretch = time.Time{}
				continue
			}
			if stretch.IsZero() {
				stretch = iv.from
				if t := stretch.Add(grace); t.After(from) && t.Before(to) {
					cuts = append(cuts, t)
				}
			}
			graceEnd[i] = stretch.Add(grace)
		}
	}
	slices.SortFunc(cuts, func(a, b time.Time) int { return a.Compare(b) })
	cuts = slices.CompactFunc(cuts, func(a, b time.Time) bool { return a.Equal(b) })

	segs := make([]segment, 0, len(ivs)+len(cuts))
	k := 0
	for i := range ivs {
		iv := &ivs[i]
		for k < len(cuts) && !cuts[k].After(iv.from) {
			k++
		}
		base := segment{
			currentMA: iv.currentMA, hasCurrent: iv.hasCurrent, charging: iv.charging,
		}
		if c.needPower {
			base.powerW = iv.power()
		}
		grace := func(from time.Time) bool { return !iv.charging && grace > 0 && from.Before(graceEnd[i]) }
		if k == len(cuts) || !cuts[k].Before(iv.to) { // not cut: the common case, no arithmetic
			s := base
			s.from, s.to, s.energy, s.grace = iv.from, iv.to, energy{wh: iv.energyWh}, grace(iv.from)
			segs = append(segs, s)
			continue
		}
		total := big.NewRat(iv.energyWh, 1)
		span := int64(iv.to.Sub(iv.from))
		prevT, prevE := iv.from, new(big.Rat)
		emit := func(t time.Time) {
			e := total
			if !t.Equal(iv.to) {
				// energy up to t, in proportion to time
				e = new(big.Rat).Mul(total, big.NewRat(int64(t.Sub(iv.from)), span))
			}
			s := base
			s.from, s.to, s.energy, s.grace = prevT, t, energyOf(new(big.Rat).Sub(e, prevE)), grace(prevT)
			segs = append(segs, s)
			prevT, prevE = t, e
		}
		for ; k < len(cuts) && cuts[k].Before(iv.to); k++ {
			emit(cuts[k])
		}
		emit(iv.to)
	}
	segs = c.splitAtThresholds(segs)
	var cum whSum
	for i := range segs {
		s := &segs[i]
		if c.needEnergy {
			s.cumWh = cum.total()
			cum.add(s.energy)
		}
		s.elapsed = s.from.Sub(start)
		if c.wallClock {
			lt := s.from.In(loc)
			h, m, sec := lt.Clock()
			s.secOfDay = h*3600 + m*60 + sec
			s.date = civilDate(lt)
			s.weekday = lt.Weekday()
		}
	}
	return segs
}

// splitAtThresholds cuts segments where the session's cumulative energy
// crosses a min_kwh/max_kwh threshold, placing the cut in time by linear
// interpolation within the segment.
func (c *compiled) splitAtThresholds(segs []segment) []segment {
	if len(c.thresholds) == 0 {
		return segs
	}
	out := make([]segment, 0, len(segs)+len(c.thresholds))
	cum := new(big.Rat)
	for _, s := range segs {
		if s.energy.sign() == 0 {
			out = append(out, s)
			continue
		}
		e := s.energy.rat()
		endE := new(big.Rat).Add(cum, e)
		for _, th := range c.thresholds {
			if th.Cmp(cum) <= 0 || th.Cmp(endE) >= 0 {
				continue
			}
			// th lies strictly inside: cut at the instant it is reached
			part := new(big.Rat).Sub(th, cum)
			frac := new(big.Rat).Quo(part, e)
			offset := new(big.Rat).Mul(frac, big.NewRat(int64(s.duration()), 1))
			at := s.from.Add(time.Duration(new(big.Int).Quo(offset.Num(), offset.Denom()).Int64()))
			head := s
			head.to, head.energy = at, energyOf(part)
			out = append(out, head)
			e = new(big.Rat).Sub(e, part)
			s.from, s.energy = at, energyOf(e)
			cum = th
		}
		out = append(out, s)
		cum = endE
	}
	return out
}

// wallCuts returns the instants in (from, to) at which the site's wall
// clock reads one of the given times of day (seconds after midnight). A
// time of day that occurs twice (the repeated hour when DST ends) yields
// both instants; one that does not occur (the hour skipped when DST
// starts) yields none — the clock change, cut separately, is where the
// wall clock passes it.
func wallCuts(loc *time.Location, from, to time.Time, secs []int) []time.Time {
	var out []time.Time
	first := from.In(loc)
	last := to.In(loc)
	// Walk the local calendar days that can hold an instant of (from, to),
	// with a day of slack on each side for the offset.
	day := time.Date(first.Year(), first.Month(), first.Day()-1, 12, 0, 0, 0, time.UTC)
	stop := time.Date(last.Year(), last.Month(), last.Day()+1, 12, 0, 0, 0, time.UTC)
	for ; !day.After(stop); day = day.AddDate(0, 0, 1) {
		y, m, d := day.Date()
		offsets := dayOffsets(loc, y, m, d)
		midnightUTC := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
		for _, sec := range secs {
			wall := midnightUTC.Add(time.Duration(sec) * time.Second)
			for _, off := range offsets {
				t := wall.Add(-time.Duration(off) * time.Second)
				if !t.After(from) || !t.Before(to) {
					continue
				}
				lt := t.In(loc)
				if lt.Year() == y && lt.Month() == m && lt.Day() == d && secondsOfDay(lt) == sec {
					out = append(out, t)
				}
			}
		}
	}
	return out
}

// dayOffsets returns the UTC offsets (seconds) in effect at some point of
// a local calendar day: one, or two on a day the clocks change.
func dayOffsets(loc *time.Location, y int, m time.Month, d int) []int {
	var offs []int
	for _, h := range []int{0, 12, 24} {
		_, off := time.Date(y, m, d, h, 0, 0, 0, loc).Zone()
		if !slices.Contains(offs, off) {
			offs = append(offs, off)
		}
	}
	return offs
}

func secondsOfDay(t time.Time) int {
	h, m, s := t.Clock()
	return h*3600 + m*60 + s
}

// zoneTransitions returns the instants in (from, to) where the site's UTC
// offset changes.
func zoneTransitions(loc *time.Location, from, to time.Time) []time.Time {
	var out []time.Time
	t := from
	for range 10_000 { // a session spanning more transitions than this is nonsense
		_, end := t.In(loc).ZoneBounds()
		if end.IsZero() || !end.Before(to) {
			break
		}
		if end.After(from) {
			out = append(out, end)
		}
		t = end
	}
	return out
}
