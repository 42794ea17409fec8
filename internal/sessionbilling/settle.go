package sessionbilling

import (
	"math"
	"math/big"

	"github.com/chargestar/chargestar/internal/billing"
	"github.com/chargestar/chargestar/internal/model"
)

// Settlement is what to do with a session's hold once it is over.
type Settlement struct {
	// Capture is the amount to take (tax included); 0 means void the hold.
	Capture int64
	// Tax is the tax within Capture.
	Tax int64
	// Capped: the price was above the hold and only the hold is taken
	// (the stop margin was not enough; see billing.HoldFor).
	Capped bool
	// Reason says why nothing is taken when Capture is 0.
	Reason string
}

// Reasons a hold is released whole.
const (
	ReasonZeroEnergy = "zero_energy" // the session delivered no energy
	ReasonFree       = "free"        // the tariff priced it at nothing
	ReasonNoStart    = "no_start"    // the station never started
)

// Settle decides the capture of a finished session priced at c under
// tariff t, against a hold of hold. Never more than the hold: a price above
// it is capped (the driver authorised no more). A session that delivered no
// energy is free unless its tariff charges such sessions
// (billing.Tariff.ChargeZeroEnergy).
func Settle(c billing.Cost, hold int64, t *billing.Tariff) Settlement {
	if c.Quantities.EnergyWh == 0 && !t.ChargeZeroEnergy {
		return Settlement{Reason: ReasonZeroEnergy}
	}
	if c.Total <= 0 {
		return Settlement{Reason: ReasonFree}
	}
	if c.Total <= hold {
		return Settlement{Capture: c.Total, Tax: c.Tax}
	}
	return Settlement{Capture: hold, Tax: TaxWithin(hold, c, t), Capped: true}
}

// TaxWithin is the tax in amount, a part of a session priced at c under t
// (a capped capture). With one tax rate (the operator's rule, e.g. GST) it
// is the rule applied to amount — amount × rate/(1+rate), rounded as the
// rule says, which is what a tax invoice for amount must show; with OCPI
// per-component rates, c's tax in proportion, rounded half up.
func TaxWithin(amount int64, c billing.Cost, t *billing.Tariff) int64 {
	if amount == c.Total {
		return c.Tax
	}
	if t != nil && t.Tax != nil {
		rate := t.Tax.Rate.Rat()
		share := new(big.Rat).Quo(rate, new(big.Rat).Add(big.NewRat(1, 1), rate))
		tax := billing.DecimalFromRat(new(big.Rat).Mul(share, big.NewRat(amount, 1)))
		mode := t.Tax.Rounding
		if mode == "" {
			mode = billing.HalfUp
		}
		return tax.Round(0, mode).Rat().Num().Int64()
	}
	return scaleTax(c.Tax, amount, c.Total)
}

// scaleTax is the tax within part of a total whose tax is tax: the same
// proportion, rounded half up.
func scaleTax(tax, part, total int64) int64 {
	if total == 0 {
		return 0
	}
	r := new(big.Rat).SetFrac(new(big.Int).Mul(big.NewInt(tax), big.NewInt(part)), big.NewInt(total))
	// half up: floor(r + 1/2)
	r.Add(r, big.NewRat(1, 2))
	q := new(big.Int).Quo(r.Num(), r.Denom())
	return q.Int64()
}

// UsageOf builds the pricing timeline of a session from its stored meter
// values: the start register at the start, every energy reading after
// that, and, for a completed session, the stop register at the stop. A
// live session is priced up to its last reading: whether the time since
// was charging or idle is not known yet, and the next reading tells.
func UsageOf(sess model.Session, mvs []model.MeterValue) billing.Usage {
	u := billing.Usage{Start: sess.StartedAt}
	last := sess.MeterStartWh
	u.Samples = append(u.Samples, billing.Sample{At: sess.StartedAt, EnergyWh: last})
	for _, mv := range mvs {
		if mv.EnergyWh == nil && mv.PowerW == nil {
			continue
		}
		if mv.EnergyWh != nil {
			last = int64(math.Round(*mv.EnergyWh))
		}
		s := billing.Sample{At: mv.Timestamp, EnergyWh: last}
		if mv.PowerW != nil {
			p := int64(math.Round(*mv.PowerW))
			s.PowerW = &p
		}
		if s.At.Before(sess.StartedAt) {
			s.At = sess.StartedAt
		}
		u.Samples = append(u.Samples, s)
	}
	if sess.Status == model.SessionCompleted && sess.StoppedAt != nil {
		u.Stop = *sess.StoppedAt
		stop := last
		if sess.MeterStopWh != nil {
			stop = *sess.MeterStopWh
		} else if sess.EnergyWh > 0 {
			stop = sess.MeterStartWh + sess.EnergyWh
		}
		u.Samples = append(u.Samples, billing.Sample{At: u.Stop, EnergyWh: stop})
		return u
	}
	return u
}
