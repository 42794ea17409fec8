package sim

import (
	"context"
	"math"
	"time"

	"github.com/chargestar/chargestar/internal/ocpp/v16"
)

// What the CSMS's commands do to the station, whatever the OCPP version
// that carried them; the protocols decode the command, call these with
// s.mu held and encode the outcome.

// changeAvailabilityLocked makes connector id (0: the whole station)
// inoperative or operative. Idle connectors follow at once, busy ones
// when their transaction ends; it reports whether any change had to be
// scheduled so. The status notifications follow the answer.
func (s *Station) changeAvailabilityLocked(l *link, id int, inop bool) (scheduled bool) {
	var now []*connector // whose status may change now
	if id == 0 {
		// The whole station: a busy connector's resting status reflects
		// the station's once its transaction ends.
		s.conns[0].inoperative = inop
		now = append(now, s.conns[0])
		for _, c := range s.conns[1:] {
			if c.tx != nil {
				scheduled = true
			} else {
				now = append(now, c)
			}
		}
	} else if c := s.conns[id]; c.tx != nil {
		c.pendingInoperative = &inop
		scheduled = true
	} else {
		c.inoperative = inop
		c.pendingInoperative = nil
		now = append(now, c)
	}
	l.after(func(ctx context.Context) {
		for _, c := range now {
			s.mu.Lock()
			st := c.status
			if c.id == 0 {
				st = statusAvailable
				if c.inoperative {
					st = statusUnavailable
				}
			} else if c.phase == phaseIdle {
				st = c.restingStatus(s.conns[0])
			}
			s.mu.Unlock()
			s.setStatus(ctx, c, st)
		}
	})
	return scheduled
}

// reserveLocked reserves connector id (≥ 1) for a tag until expiry
// (station clock) and returns the outcome with its 1.6 name, which 2.x
// shares: Accepted, Faulted, Occupied, Unavailable.
func (s *Station) reserveLocked(l *link, id, reservationID int, tag, parent string, expiry time.Time) string {
	// A reservation with the same id is replaced.
	for _, c := range s.conns[1:] {
		if c.reservation != nil && c.reservation.id == reservationID {
			c.reservation = nil
		}
	}
	c := s.conns[id]
	switch {
	case c.status == statusFaulted:
		return "Faulted"
	case c.inoperative || s.conns[0].inoperative:
		return "Unavailable"
	case c.tx != nil || c.phase != phaseIdle || c.remote || c.reservation != nil:
		return "Occupied"
	}
	c.reservation = &reservation{id: reservationID, idTag: tag, parentID: parent, expiry: time.Now().Add(expiry.Sub(s.cfg.Now()))}
	s.restAfter(l, c)
	return "Accepted"
}

// cancelReservationLocked cancels a reservation; false when there is none
// with that id.
func (s *Station) cancelReservationLocked(l *link, reservationID int) bool {
	for _, c := range s.conns[1:] {
		if c.reservation != nil && c.reservation.id == reservationID {
			c.reservation = nil
			s.restAfter(l, c)
			return true
		}
	}
	return false
}

// restAfter reports an idle connector's resting status once the answer
// being built is sent.
func (s *Station) restAfter(l *link, c *connector) {
	l.after(func(ctx context.Context) {
		s.mu.Lock()
		st := c.status
		idle := c.phase == phaseIdle && c.tx == nil
		if idle {
			st = c.restingStatus(s.conns[0])
		}
		s.mu.Unlock()
		if idle {
			s.setStatus(ctx, c, st)
		}
	})
}

// reading is one sampled value of a meter reading, version-neutral: the
// names are 1.6's, which 2.x shares.
type reading struct {
	value     float64 // rounded to prec decimals
	prec      int
	measurand v16.Measurand
	unit      v16.UnitOfMeasure
	phase     v16.Phase
	location  v16.Location
}

// eachReading calls fn for every value of smp the measurands ask for,
// in their order; with no measurand (or none the meter has), the energy
// register alone, as a reading without values would be invalid.
func eachReading(smp *sample, ms []v16.Measurand, fn func(r reading)) {
	n := 0
	add := func(v float64, prec int, m v16.Measurand, unit v16.UnitOfMeasure, ph v16.Phase, loc v16.Location) {
		p := math.Pow10(prec)
		fn(reading{value: math.Round(v*p) / p, prec: prec, measurand: m, unit: unit, phase: ph, location: loc})
		n++
	}
	phasesN := [3]v16.Phase{v16.PhaseL1N, v16.PhaseL2N, v16.PhaseL3N}
	phases := [3]v16.Phase{v16.PhaseL1, v16.PhaseL2, v16.PhaseL3}
	for _, m := range ms {
		switch m {
		case v16.MeasurandEnergyActiveImportRegister:
			add(smp.energyWh, 0, m, v16.UnitOfMeasureWh, "", v16.LocationOutlet)
		case v16.MeasurandPowerActiveImport:
			add(smp.powerW, 0, m, v16.UnitOfMeasureW, "", v16.LocationOutlet)
		case v16.MeasurandPowerOffered:
			add(smp.offeredW, 0, m, v16.UnitOfMeasureW, "", v16.LocationOutlet)
		case v16.MeasurandCurrentOffered:
			add(float64(int(smp.offeredW/nominalVoltage/float64(smp.phases)*10))/10, 1, m, v16.UnitOfMeasureA, "", v16.LocationOutlet)
		case v16.MeasurandVoltage:
			for p := 0; p < smp.phases; p++ {
				add(smp.voltage[p], 1, m, v16.UnitOfMeasureV, phasesN[p], v16.LocationOutlet)
			}
		case v16.MeasurandCurrentImport:
			for p := 0; p < smp.phases; p++ {
				add(smp.current[p], 1, m, v16.UnitOfMeasureA, phases[p], v16.LocationOutlet)
			}
		case v16.MeasurandSoC:
			if smp.soc >= 0 {
				add(smp.soc, 0, m, v16.UnitOfMeasurePercent, "", v16.LocationEV)
			}
		case v16.MeasurandTemperature:
			add(smp.tempC, 0, m, v16.UnitOfMeasureCelsius, "", v16.LocationBody)
		}
	}
	if n == 0 {
		add(smp.energyWh, 0, v16.MeasurandEnergyActiveImportRegister, v16.UnitOfMeasureWh, "", v16.LocationOutlet)
	}
}

// measurandCount is how many values eachReading gives at most.
func measurandCount(smp *sample, ms []v16.Measurand) int {
	n := 0
	for _, m := range ms {
		switch m {
		case v16.MeasurandVoltage, v16.MeasurandCurrentImport:
			n += smp.phases
		default:
			n++
		}
	}
	return max(n, 1)
}
