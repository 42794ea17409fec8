package billing

import (
	"errors"
	"fmt"
	"math/big"
	"time"
)

// Usage is a session's usage as a timeline: when it started, when it
// stopped (zero while it is live), and the meter samples in between.
//
// Pricing a live session is pricing a prefix of its timeline: the same
// Usage with fewer samples and no Stop. The timeline of a live session ends
// at its last sample; a caller that wants idle time to keep counting
// between samples adds a sample at "now" repeating the last register.
type Usage struct {
	// Start is when the charging session started (the transaction's start).
	// It may be zero only for a reservation that expired unused.
	Start time.Time
	// Stop is when the session stopped; zero while it is live.
	Stop time.Time
	// Samples in time order. The first sample's register is the session's
	// starting register (OCPP meterStart / Transaction.Begin): give one at
	// Start. Samples before Start count as at Start, after Stop as at Stop.
	Samples []Sample
	// Reservation, if the session was reserved (or the reservation expired
	// unused), is priced with the tariff's reservation elements.
	Reservation *ReservationUsage
}

// Sample is one meter reading. Each pair of consecutive samples bounds an
// interval of the timeline:
//
//   - its energy is the difference of the two registers (never negative: a
//     register that goes backwards — a replaced or reset meter — counts as
//     no energy, and counting resumes from the new value);
//   - its power is the average power the energy implies, ΔWh·3600/Δs; when
//     the register did not move, the closing sample's PowerW if reported,
//     else 0;
//   - its current is the closing sample's CurrentMilliA, if reported;
//   - it is charging per the last explicit Charging flag at or before its
//     start; with no flag given yet, it is charging when energy flowed or
//     the reported power was at least ChargingPowerThresholdW.
type Sample struct {
	At time.Time
	// EnergyWh is the active energy import register (cumulative Wh).
	EnergyWh int64
	// PowerW is the active import power at At, if the station reported it.
	PowerW *int64
	// CurrentMilliA is the import current summed over phases, in mA, if
	// reported (min_current/max_current restrictions need it).
	CurrentMilliA *int64
	// Charging, when set, is the charging state from At on, until a later
	// sample sets it again: OCPP 2.x chargingState Charging (true) versus
	// SuspendedEV/SuspendedEVSE/EVConnected (false), or the 1.6 connector
	// status. When no sample sets it, it is derived from the energy.
	Charging *bool
}

// ReservationUsage is the reservation that preceded a session.
type ReservationUsage struct {
	Start time.Time // when the reservation was made
	End   time.Time // when the session started on it, or when it expired
	// Expired is true when no session followed; RESERVATION_EXPIRES
	// elements then apply first.
	Expired bool
}

// ChargingPowerThresholdW is the reported power at or above which an
// interval whose register did not move still counts as charging (a meter
// with a coarse register). Below it is standby draw, not charging.
const ChargingPowerThresholdW = 100

// interval is the stretch between two samples (or a sample and Stop).
type interval struct {
	from, to   time.Time
	energyWh   int64
	reportedW  int64    // the closing sample's reported power, 0 if none
	powerW     *big.Rat // fixed power (a tail carrying the last interval's), else see power
	currentMA  int64
	hasCurrent bool
	charging   bool
	explicit   bool // charging came from a flag, not derived
}

func (u Usage) check() error {
	if u.Start.IsZero() {
		if u.Reservation == nil {
			return errors.New("billing: usage has no start")
		}
		if len(u.Samples) > 0 || !u.Stop.IsZero() {
			return errors.New("billing: usage has samples or a stop but no start")
		}
	}
	if !u.Stop.IsZero() && u.Stop.Before(u.Start) {
		return fmt.Errorf("billing: usage stops (%s) before it starts (%s)", u.Stop.Format(time.RFC3339), u.Start.Format(time.RFC3339))
	}
	for i := 1; i < len(u.Samples); i++ {
		if u.Samples[i].At.Before(u.Samples[i-1].At) {
			return fmt.Errorf("billing: samples are not in time order (sample %d at %s is before sample %d)", i, u.Samples[i].At.Format(time.RFC3339Nano), i-1)
		}
		if d := u.Samples[i].EnergyWh - u.Samples[i-1].EnergyWh; u.Samples[i].EnergyWh > u.Samples[i-1].EnergyWh && (d > maxEnergyStep || d < 0) {
			return fmt.Errorf("billing: sample %d's register jumps by more than %d Wh", i, int64(maxEnergyStep))
		}
	}
	if r := u.Reservation; r != nil {
		if r.Start.IsZero() || r.End.Before(r.Start) {
			return errors.New("billing: reservation needs a start and an end after it")
		}
		if !r.Expired && u.Start.IsZero() {
			return errors.New("billing: a reservation that did not expire needs the session it was used for")
		}
	}
	return nil
}

// final reports whether the usage is complete (the session stopped, or
// there is only an expired reservation).
func (u Usage) final() bool { return !u.Stop.IsZero() || u.Start.IsZero() }

// end is where the session's timeline ends: Stop, or the last sample while
// live.
func (u Usage) end() time.Time {
	if !u.Stop.IsZero() {
		return u.Stop
	}
	end := u.Start
	if n := len(u.Samples); n > 0 && u.Samples[n-1].At.After(end) {
		end = u.Samples[n-1].At
	}
	return end
}

// intervals cuts the session's timeline at its samples (see Sample).
func (u Usage) intervals() []interval {
	end := u.end()
	clamp := func(t time.Time) time.Time {
		switch {
		case t.Before(u.Start):
			return u.Start
		case t.After(end):
			return end
		}
		return t
	}
	var out []interval
	if len(u.Samples) == 0 {
		if end.After(u.Start) {
			out = append(out, interval{from: u.Start, to: end})
		}
		return out
	}
	cur := u.Start
	reg := u.Samples[0].EnergyWh
	var state *bool // last explicit charging flag
	var pending int64
	for _, s := range u.Samples {
		at := clamp(s.At)
		dE := max(s.EnergyWh-reg, 0)
		if at.After(cur) {
			iv := interval{from: cur, to: at, energyWh: dE + pending}
			pending = 0
			if s.PowerW != nil {
				iv.reportedW = max(*s.PowerW, 0)
			}
			if s.CurrentMilliA != nil {
				iv.currentMA, iv.hasCurrent = max(*s.CurrentMilliA, 0), true
			}
			iv.setCharging(state)
			out = append(out, iv)
			cur = at
		} else if dE > 0 {
			// Energy without elapsed time (two samples at one instant):
			// it belongs to the interval that just ended.
			if n := len(out); n > 0 {
				out[n-1].energyWh += dE
				if !out[n-1].explicit {
					out[n-1].setCharging(nil) // the flag in force now is the next interval's
				}
			} else {
				pending += dE
			}
		}
		reg = s.EnergyWh
		if s.Charging != nil {
			state = s.Charging
		}
	}
	if end.After(cur) { // Stop after the last sample: the last state carries on
		iv := interval{from: cur, to: end, energyWh: pending}
		if n := len(out); n > 0 {
			iv.currentMA, iv.hasCurrent = out[n-1].currentMA, out[n-1].hasCurrent
			iv.charging = out[n-1].charging
			if pending == 0 {
				iv.powerW = out[n-1].power()
			}
		}
		if state != nil {
			iv.charging, iv.explicit = *state, true
		} else if pending > 0 {
			iv.charging = true
		}
		out = append(out, iv)
	} else if pending > 0 {
		// Energy, but no time at all (a station that stamps its start and
		// stop alike): the energy is still delivered, and billed, in an
		// instant.
		iv := interval{from: cur, to: cur, energyWh: pending}
		iv.setCharging(state)
		out = append(out, iv)
	}
	return out
}

func (iv *interval) setCharging(state *bool) {
	if state != nil {
		iv.charging, iv.explicit = *state, true
		return
	}
	iv.charging = iv.energyWh > 0 || iv.reportedW >= ChargingPowerThresholdW
}

// power is the interval's power for min_power/max_power, in W: the average
// its energy implies, or when no energy flowed the reported power.
func (iv *interval) power() *big.Rat {
	switch {
	case iv.powerW != nil:
		return iv.powerW
	case iv.energyWh > 0 && iv.to.After(iv.from):
		return averagePower(iv.energyWh, iv.to.Sub(iv.from))
	}
	return big.NewRat(iv.reportedW, 1)
}

// averagePower is wh delivered over d, in W.
func averagePower(wh int64, d time.Duration) *big.Rat {
	num := new(big.Int).Mul(big.NewInt(wh), big.NewInt(int64(time.Hour)))
	return new(big.Rat).SetFrac(num, big.NewInt(int64(d)))
}

// energy is an exact amount of Wh: a whole number in the common case, so
// that pricing needs no big arithmetic for it, or a rational when an
// interval's energy was shared out at a cut.
type energy struct {
	wh   int64
	frac *big.Rat // when non-nil, the amount (wh is unused)
}

func (e energy) sign() int {
	if e.frac != nil {
		return e.frac.Sign()
	}
	switch {
	case e.wh > 0:
		return 1
	case e.wh < 0:
		return -1
	}
	return 0
}

// rat returns the amount as a new big.Rat.
func (e energy) rat() *big.Rat {
	if e.frac != nil {
		return new(big.Rat).Set(e.frac)
	}
	return new(big.Rat).SetInt64(e.wh)
}

func energyOf(r *big.Rat) energy {
	if r.IsInt() && r.Num().IsInt64() {
		return energy{wh: r.Num().Int64()}
	}
	return energy{frac: r}
}

// whSum adds energies up exactly, in an int64 while they are whole.
type whSum struct {
	i int64
	r *big.Rat
}

func (s *whSum) add(e energy) {
	if e.frac == nil {
		s.i += e.wh
		return
	}
	if s.r == nil {
		s.r = new(big.Rat)
	}
	s.r.Add(s.r, e.frac)
}

func (s *whSum) addSum(o whSum) {
	s.i += o.i
	if o.r != nil {
		s.add(energy{frac: o.r})
	}
}

func (s whSum) total() *big.Rat {
	t := new(big.Rat).SetInt64(s.i)
	if s.r != nil {
		t.Add(t, s.r)
	}
	return t
}

func (s whSum) isZero() bool { return s.i == 0 && (s.r == nil || s.r.Sign() == 0) }

// maxEnergyStep bounds the energy of one interval (1 TWh): a larger register
// jump is a broken meter reading, and the bound keeps sums of Wh in int64.
const maxEnergyStep = 1_000_000_000_000
