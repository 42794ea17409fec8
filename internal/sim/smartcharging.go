package sim

import (
	"encoding/json"
	"math"
	"slices"
	"time"
)

// chargingProfile is a smart-charging profile as the station keeps it
// (version-neutral; 1.6 names for purpose, kind and unit).
type chargingProfile struct {
	id         int
	connector  int
	txID       *int         // TxProfile: the CSMS transaction id it was given for
	tx         *transaction // TxProfile: the transaction it belongs to
	stackLevel int
	purpose    string // ChargePointMaxProfile, TxDefaultProfile, TxProfile
	kind       string // Absolute, Recurring, Relative
	recurrency string // Daily, Weekly
	validFrom  *time.Time
	validTo    *time.Time
	start      *time.Time
	duration   *int   // seconds
	unit       string // "A" or "W"
	periods    []schedulePeriod
	minRate    *float64
	installed  time.Time
	raw        json.RawMessage // 2.x: the profile as received, for GetChargingProfiles
}

type schedulePeriod struct {
	start  int // seconds from the schedule start
	limit  float64
	phases *int
}

const (
	purposeMax       = "ChargePointMaxProfile"
	purposeTxDefault = "TxDefaultProfile"
	purposeTx        = "TxProfile"
	nominalVoltage   = 230.0
)

// scheduleStart returns when the profile's schedule starts for a period
// containing t (recurring profiles repeat), and whether it applies at all.
func (p *chargingProfile) scheduleStart(t time.Time, txStart time.Time) (time.Time, bool) {
	if p.validFrom != nil && t.Before(*p.validFrom) || p.validTo != nil && !t.Before(*p.validTo) {
		return time.Time{}, false
	}
	switch p.kind {
	case "Relative":
		if txStart.IsZero() {
			return t, true
		}
		return txStart, true
	case "Recurring":
		base := p.installed
		if p.start != nil {
			base = *p.start
		}
		step := 24 * time.Hour
		if p.recurrency == "Weekly" {
			step = 7 * step
		}
		if t.Before(base) {
			return time.Time{}, false
		}
		n := t.Sub(base) / step
		return base.Add(n * step), true
	default: // Absolute
		if p.start != nil {
			return *p.start, true
		}
		return p.installed, true
	}
}

// limitAt returns the profile's limit in W at t, and whether it has one then.
func (p *chargingProfile) limitAt(t, txStart time.Time, phases int) (float64, bool) {
	start, ok := p.scheduleStart(t, txStart)
	if !ok {
		return 0, false
	}
	off := t.Sub(start)
	if off < 0 || p.duration != nil && off >= time.Duration(*p.duration)*time.Second {
		return 0, false
	}
	secs := int(off / time.Second)
	var cur *schedulePeriod
	for i := range p.periods {
		if p.periods[i].start <= secs {
			cur = &p.periods[i]
		}
	}
	if cur == nil {
		return 0, false
	}
	if p.unit == "A" {
		n := phases
		if cur.phases != nil && *cur.phases > 0 {
			n = *cur.phases
		}
		return cur.limit * nominalVoltage * float64(n), true
	}
	return cur.limit, true
}

// boundaries returns the instants in [from, to) where the profile's limit may change.
func (p *chargingProfile) boundaries(from, to, txStart time.Time) []time.Time {
	var out []time.Time
	add := func(t time.Time) {
		if t.After(from) && t.Before(to) {
			out = append(out, t)
		}
	}
	if p.validFrom != nil {
		add(*p.validFrom)
	}
	if p.validTo != nil {
		add(*p.validTo)
	}
	for t := from; t.Before(to); {
		start, ok := p.scheduleStart(t, txStart)
		if !ok {
			break
		}
		add(start)
		for _, per := range p.periods {
			add(start.Add(time.Duration(per.start) * time.Second))
		}
		if p.duration != nil {
			add(start.Add(time.Duration(*p.duration) * time.Second))
		}
		if p.kind != "Recurring" {
			break
		}
		step := 24 * time.Hour
		if p.recurrency == "Weekly" {
			step *= 7
		}
		t = start.Add(step)
		add(t)
	}
	return out
}

// topLimitLocked returns the limit at t of the matching profile of
// highest stack level that has one then.
func (s *Station) topLimitLocked(match func(p *chargingProfile) bool, t, txStart time.Time) (float64, bool) {
	best, bestLevel, found := 0.0, -1, false
	for _, p := range s.profiles {
		if !match(p) || p.stackLevel <= bestLevel {
			continue
		}
		if l, ok := p.limitAt(t, txStart, s.cfg.Phases); ok {
			best, bestLevel, found = l, p.stackLevel, true
		}
	}
	return best, found
}

// connectorLimitLocked is connector id's limit in W at t from the profiles
// (TxProfile over TxDefaultProfile, capped by ChargePointMaxProfile);
// max when none applies.
func (s *Station) connectorLimitLocked(id int, tx *transaction, t time.Time, max float64) float64 {
	var txStart time.Time
	if tx != nil {
		txStart = tx.started // the station clock, like t
	}
	limit := max
	if id > 0 {
		found := false
		if tx != nil {
			var l float64
			l, found = s.topLimitLocked(func(p *chargingProfile) bool {
				return p.purpose == purposeTx && p.connector == id && (p.tx == tx || p.tx == nil && p.txID != nil && *p.txID == tx.id)
			}, t, txStart)
			if found {
				limit = math.Min(limit, l)
			}
		}
		if !found {
			l, ok := s.topLimitLocked(func(p *chargingProfile) bool { return p.purpose == purposeTxDefault && p.connector == id }, t, txStart)
			if !ok {
				l, ok = s.topLimitLocked(func(p *chargingProfile) bool { return p.purpose == purposeTxDefault && p.connector == 0 }, t, txStart)
			}
			if ok {
				limit = math.Min(limit, l)
			}
		}
	}
	if l, ok := s.topLimitLocked(func(p *chargingProfile) bool { return p.purpose == purposeMax }, t, txStart); ok {
		limit = math.Min(limit, l)
	}
	return limit
}

// limitWLocked is the power a connector may draw now: its profile limit,
// with the station maximum shared among the charging connectors.
func (s *Station) limitWLocked(c *connector, now time.Time, max float64) float64 {
	if len(s.profiles) == 0 {
		return max
	}
	t := s.cfg.Now()
	limit := s.connectorLimitLocked(c.id, c.tx, t, max)
	if l, ok := s.topLimitLocked(func(p *chargingProfile) bool { return p.purpose == purposeMax }, t, time.Time{}); ok {
		n := 0
		for _, k := range s.conns[1:] {
			if k.tx != nil {
				n++
			}
		}
		if n > 1 {
			limit = math.Min(limit, l/float64(n))
		}
	}
	return limit
}

// compositeLocked returns connector id's composite schedule for the next
// duration seconds, in unit ("A" or "W"): periods where the limit changes.
func (s *Station) compositeLocked(id int, duration int, unit string) (time.Time, []schedulePeriod) {
	now := s.cfg.Now()
	end := now.Add(time.Duration(duration) * time.Second)
	var tx *transaction
	if id > 0 {
		tx = s.conns[id].tx
	}
	var txStart time.Time
	if tx != nil {
		txStart = tx.started
	}
	points := []time.Time{now}
	for _, p := range s.profiles {
		if p.connector == id || p.connector == 0 || id == 0 {
			points = append(points, p.boundaries(now, end, txStart)...)
		}
	}
	slices.SortFunc(points, func(a, b time.Time) int { return a.Compare(b) })
	points = slices.Compact(points)
	max := s.cfg.PowerKW * 1000
	var out []schedulePeriod
	for _, t := range points {
		w := s.connectorLimitLocked(id, tx, t, max)
		v := w
		if unit == "A" {
			v = w / nominalVoltage / float64(s.cfg.Phases)
		}
		v = math.Floor(v*10) / 10
		start := int(t.Sub(now) / time.Second)
		if n := len(out); n > 0 && out[n-1].start == start {
			out = out[:n-1] // two changes within a second: the later one holds
		}
		if n := len(out); n > 0 && out[n-1].limit == v {
			continue
		}
		out = append(out, schedulePeriod{start: start, limit: v})
	}
	return now, out
}

// removeTxProfilesLocked drops the TxProfiles of a finished transaction.
func (s *Station) removeTxProfilesLocked(tx *transaction) {
	s.profiles = slices.DeleteFunc(s.profiles, func(p *chargingProfile) bool {
		return p.purpose == purposeTx && (p.tx == tx || p.txID != nil && *p.txID == tx.id && tx.id != 0)
	})
}

// setProfileLocked installs a profile, replacing one with the same id or
// the same purpose, connector and stack level.
func (s *Station) setProfileLocked(p *chargingProfile) {
	s.profiles = slices.DeleteFunc(s.profiles, func(q *chargingProfile) bool {
		return q.id == p.id || q.connector == p.connector && q.purpose == p.purpose && q.stackLevel == p.stackLevel
	})
	s.profiles = append(s.profiles, p)
}
