package billing

import (
	"errors"
	"fmt"
	"math/big"
	"time"
)

// Budget is what a driver wants to spend or use, at most one of the three;
// the zero Budget is "no budget" (the tariff's hold amount applies).
type Budget struct {
	Amount   int64         // minor units, tax included
	EnergyWh int64         // e.g. 20000 for 20 kWh
	Duration time.Duration // charging session length
}

// HoldOptions describe the charge point the hold is for.
type HoldOptions struct {
	// MaxPowerW is the connector's maximum power; required. The margin
	// assumes the worst: energy flowing at this power.
	MaxPowerW int64
	// MeterInterval is how often the session's running cost is recomputed
	// (the station's meter value interval); 0 is one minute.
	MeterInterval time.Duration
	// StopLatency is how long a remote stop takes to end the transaction;
	// 0 is 30 seconds.
	StopLatency time.Duration
	// ExpectedPowerW estimates how long an energy budget takes to deliver,
	// for TIME-priced tariffs; 0 is MaxPowerW.
	ExpectedPowerW int64
}

// Hold is the pre-authorisation for a session and the limits that keep
// the final cost within it.
type Hold struct {
	Currency string
	// Amount to pre-authorise on the driver's card, minor units, tax
	// included. The final cost never exceeds it when the session is
	// stopped as below.
	Amount int64
	// StopOnCost: stop the session (remote stop, or the OCPP 2.1
	// transaction limit maxCost) once its running cost (Price on the live
	// usage) reaches StopAtCost. False when the tariff's max_price already
	// keeps every session within Amount.
	StopOnCost bool
	StopAtCost int64
	// Margin is Amount − StopAtCost: the most a session can add after its
	// running cost is last checked (see HoldFor).
	Margin int64
	// StopAtEnergyWh and StopAfter carry an energy or time budget (OCPP 2.1
	// maxEnergy/maxTime); 0 when none.
	StopAtEnergyWh int64
	StopAfter      time.Duration
}

// Errors of HoldFor.
var (
	ErrNoHoldAmount   = errors.New("billing: the tariff has no hold amount and the driver set no budget")
	ErrBudgetTooSmall = errors.New("billing: budget too small")
)

// HoldFor sizes the pre-authorisation for a session under the tariff and
// an optional driver budget, and says when the session must be stopped so
// that its final cost stays within it.
//
// The hold is the budget amount; or, for an energy or time budget, the
// most that budget can cost at the tariff's highest prices, plus the
// margin; or, without a budget, the tariff's HoldAmount. It is lowered to
// max_price (tax included) where the tariff has one — no stop is needed
// then — and raised, when the budget is not an amount, until the stop
// threshold lies above what every session owes from its first interval
// (the session fee, min_price); an amount budget that cannot is refused
// with ErrBudgetTooSmall.
//
// The session is stopped when its running cost reaches the hold minus a
// safety margin. The margin covers what a session can add after the last
// check before it is stopped:
//
//   - one meter interval plus the stop latency at the worst rate: energy at
//     MaxPowerW at the highest energy price, plus the higher of the
//     highest charging-time and idle prices;
//   - the pending step_size round-up of each dimension (a running cost
//     leaves it out; a final cost adds it): one step at that dimension's
//     highest price;
//   - one minor unit per price component and two more, for the rounding
//     of lines and of tax.
//
// All prices are taken tax-inclusive.
func HoldFor(t *Tariff, b Budget, opts HoldOptions) (Hold, error) {
	if t == nil {
		return Hold{}, errors.New("billing: no tariff")
	}
	if err := t.Validate(); err != nil {
		return Hold{}, err
	}
	set := 0
	for _, v := range []bool{b.Amount != 0, b.EnergyWh != 0, b.Duration != 0} {
		if v {
			set++
		}
	}
	if set > 1 {
		return Hold{}, errors.New("billing: a budget is an amount, an energy or a duration, not several")
	}
	if b.Amount < 0 || b.EnergyWh < 0 || b.Duration < 0 {
		return Hold{}, errors.New("billing: a budget cannot be negative")
	}
	if opts.MaxPowerW <= 0 {
		return Hold{}, errors.New("billing: HoldOptions.MaxPowerW is required")
	}
	if opts.MeterInterval <= 0 {
		opts.MeterInterval = time.Minute
	}
	if opts.StopLatency <= 0 {
		opts.StopLatency = 30 * time.Second
	}
	if opts.ExpectedPowerW <= 0 {
		opts.ExpectedPowerW = opts.MaxPowerW
	}
	c := compile(t)
	w := worstPrices(c)
	scale := new(big.Rat).SetInt(pow10(c.cur.exponent))
	ceilMinor := func(major *big.Rat) int64 {
		return roundRat(new(big.Rat).Mul(major, scale), Up).Int64()
	}
	hours := func(d time.Duration) *big.Rat { return big.NewRat(int64(d), int64(time.Hour)) }
	energyCost := func(wh *big.Rat) *big.Rat { // at the highest price, per kWh
		return new(big.Rat).Mul(new(big.Rat).Quo(wh, big.NewRat(1000, 1)), w.price[dEnergy])
	}
	timeRate := w.price[dTime]
	if w.price[dParking].Cmp(timeRate) > 0 {
		timeRate = w.price[dParking]
	}

	// The margin.
	window := opts.MeterInterval + opts.StopLatency
	windowWh := new(big.Rat).Mul(big.NewRat(opts.MaxPowerW, 1), hours(window))
	m := energyCost(windowWh)
	m.Add(m, new(big.Rat).Mul(timeRate, hours(window)))
	for _, x := range w.step {
		m.Add(m, x)
	}
	margin := ceilMinor(m) + int64(w.components) + 2

	h := Hold{Currency: t.Currency, Margin: margin, StopAtEnergyWh: b.EnergyWh, StopAfter: b.Duration}
	switch {
	case b.Amount > 0:
		h.Amount = b.Amount
	case b.EnergyWh > 0:
		wh := ceilToStep(big.NewRat(b.EnergyWh, 1), w.energyStep)
		est := energyCost(wh)
		est.Add(est, w.price[dFlat])
		chargeTime := time.Duration(new(big.Int).Quo(
			new(big.Int).Mul(big.NewInt(b.EnergyWh), big.NewInt(int64(time.Hour))), big.NewInt(opts.ExpectedPowerW)).Int64())
		est.Add(est, new(big.Rat).Mul(w.price[dTime], hours(chargeTime)))
		h.Amount = ceilMinor(est) + margin
	case b.Duration > 0:
		est := energyCost(new(big.Rat).Mul(big.NewRat(opts.MaxPowerW, 1), hours(b.Duration)))
		est.Add(est, new(big.Rat).Mul(timeRate, hours(b.Duration)))
		est.Add(est, w.price[dFlat])
		h.Amount = ceilMinor(est) + margin
	default:
		if t.HoldAmount <= 0 {
			return Hold{}, ErrNoHoldAmount
		}
		h.Amount = t.HoldAmount
	}

	hi, capped := inclusiveBound(c, t.MaxPrice, true)
	if capped && h.Amount >= hi {
		h.Amount = hi
		return h, nil // max_price keeps every session within the hold
	}
	// A session owes its fee and min_price from its first interval on; the
	// stop threshold must lie above that, or it would stop at once.
	floor := ceilMinor(w.price[dFlat])
	if lo, ok := inclusiveBound(c, t.MinPrice, false); ok {
		floor = max(floor, lo)
	}
	if h.Amount-margin <= floor {
		if b.Amount > 0 {
			return Hold{}, fmt.Errorf("%w: %s does not cover what every session owes (%s) and the safety margin (%s)",
				ErrBudgetTooSmall, FormatMoney(b.Amount, t.Currency), FormatMoney(floor, t.Currency), FormatMoney(margin, t.Currency))
		}
		h.Amount = floor + margin + 1
		if capped && h.Amount >= hi {
			h.Amount = hi
			return h, nil
		}
	}
	h.StopOnCost = true
	h.StopAtCost = h.Amount - margin
	return h, nil
}

// worst are a tariff's highest tax-inclusive session prices.
type worst struct {
	price      [numDims]*big.Rat // per kWh, per hour, per fee
	step       [numDims]*big.Rat // one step's cost at the highest price of the dimension
	energyStep int64             // the largest energy step, Wh
	components int
}

func worstPrices(c *compiled) worst {
	var w worst
	for d := range w.price {
		w.price[d], w.step[d] = new(big.Rat), new(big.Rat)
	}
	w.energyStep = 1
	for _, i := range c.session {
		for d, cp := range c.elements[i].comp {
			if cp == nil {
				continue
			}
			w.components++
			p := new(big.Rat).Set(cp.price)
			if !c.basis.included {
				p.Mul(p, new(big.Rat).Add(big.NewRat(1, 1), cp.rate))
			}
			if p.Cmp(w.price[d]) > 0 {
				w.price[d] = p
			}
			var step *big.Rat
			switch dim(d) {
			case dEnergy:
				step = new(big.Rat).Mul(p, big.NewRat(cp.step, 1000))
				w.energyStep = max(w.energyStep, cp.step)
			case dTime, dParking:
				step = new(big.Rat).Mul(p, big.NewRat(cp.step, 3600))
			default:
				continue
			}
			if step.Cmp(w.step[d]) > 0 {
				w.step[d] = step
			}
		}
	}
	return w
}

// inclusiveBound returns a min_price/max_price as minor units including
// tax: incl_vat when given; else excl_vat with the tariff's tax (its
// single rate, or for OCPI per-component VAT the highest rate for a max
// and none for a min, so that the bound stays on the safe side).
func inclusiveBound(c *compiled, p *PriceBound, upper bool) (int64, bool) {
	if p == nil {
		return 0, false
	}
	scale := new(big.Rat).SetInt(pow10(c.cur.exponent))
	mode := Down
	if upper {
		mode = Up
	}
	if p.InclVAT != nil {
		return roundRat(new(big.Rat).Mul(p.InclVAT.rat(), scale), mode).Int64(), true
	}
	v := new(big.Rat).Mul(p.ExclVAT.rat(), scale)
	rate := c.basis.single
	if rate == nil && upper {
		rate = new(big.Rat)
		for _, e := range c.elements {
			for _, cp := range e.comp {
				if cp != nil && cp.rate.Cmp(rate) > 0 {
					rate = cp.rate
				}
			}
		}
	}
	if rate != nil {
		v.Mul(v, new(big.Rat).Add(big.NewRat(1, 1), rate))
	}
	return roundRat(v, mode).Int64(), true
}
