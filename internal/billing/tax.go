package billing

import (
	"encoding/json"
	"fmt"
	"math/big"
)

// Tax is an operator's tax rule (a Charge Star extension of the tariff):
// one rate for the whole session, whether the tariff's component prices
// already include it, and how the tax amount is rounded.
//
// Tax is computed once, on the session total, never per line: for
// tax-inclusive prices tax = total × rate/(1+rate) (total/11 for 10% GST),
// for tax-exclusive prices tax = subtotal × rate; either is rounded to a
// whole minor unit with Rounding. That is the ATO's rule for GST on a
// tax invoice (the GST for the total, rounded to the nearest cent, half a
// cent rounded up), and a receipt's tax then never disagrees with its
// total.
type Tax struct {
	// Name is what receipts and descriptions call the tax: "GST", "VAT".
	Name string `json:"name"`
	// Rate is the rate as a fraction: 0.1 for 10%.
	Rate Decimal `json:"rate"`
	// Included reports whether component prices include the tax
	// (Australian operators quote GST-inclusive prices); when false the tax
	// is added on top.
	Included bool `json:"included"`
	// Rounding of the tax amount, and of every other rounding to minor
	// units in the session; "" is HalfUp.
	Rounding RoundingMode `json:"rounding,omitempty"`
}

// AustralianGST is the rule most Charge Star operators use: GST 10%,
// included in the quoted prices, rounded to the nearest cent half up.
func AustralianGST() Tax {
	return Tax{Name: "GST", Rate: NewDecimal(1, 1), Included: true, Rounding: HalfUp}
}

// UnmarshalJSON requires the rate, so that a missing rate is an error
// rather than a silent 0%.
func (t *Tax) UnmarshalJSON(b []byte) error {
	type plain Tax
	var w struct {
		plain
		Rate *Decimal `json:"rate"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	if w.Rate == nil {
		return fmt.Errorf("tax: rate is required (a fraction: 0.1 for 10%%)")
	}
	*t = Tax(w.plain)
	t.Rate = *w.Rate
	return nil
}

// basis says which side of tax the tariff's component prices are on and at
// what rate each component is taxed.
type taxBasis struct {
	included bool     // component prices include tax
	unknown  bool     // prices are taxed (OCPI 2.3 YES/NO) at rates the tariff does not give
	name     string   // "GST", "VAT", "" unknown
	single   *big.Rat // the one rate (fraction) when Tax is set, else nil
	rounding RoundingMode
}

// taxBasisOf decides how the tariff's prices are taxed:
//
//   - Tax set: one rate, included or not per Tax.Included.
//   - tax_included "N/A": no tax.
//   - tax_included "YES"/"NO" without Tax: prices include/exclude taxes at
//     each component's vat when given; when no component gives one the
//     rate is unknown and the session is priced as untaxed with
//     Cost.TaxUnknown set.
//   - otherwise (OCPI 2.2.1): prices exclude VAT and each component's vat
//     percentage is added; a component without vat has none.
func taxBasisOf(t *Tariff) taxBasis {
	if t.Tax != nil {
		return taxBasis{
			included: t.Tax.Included,
			name:     t.Tax.Name,
			single:   t.Tax.Rate.Rat(),
			rounding: t.Tax.Rounding.orDefault(),
		}
	}
	b := taxBasis{name: "VAT", rounding: HalfUp}
	switch t.TaxIncluded {
	case TaxIncludedNA:
		return taxBasis{rounding: HalfUp}
	case TaxIncludedYes, TaxIncludedNo:
		b.included = t.TaxIncluded == TaxIncludedYes
		b.name = "tax"
		if !anyVAT(t) {
			b.unknown = true
		}
	}
	return b
}

func anyVAT(t *Tariff) bool {
	for _, e := range t.Elements {
		for _, c := range e.PriceComponents {
			if c.VAT != nil {
				return true
			}
		}
	}
	return false
}

// componentRate returns the tax rate (fraction) of a component under the
// basis.
func (b taxBasis) componentRate(c PriceComponent) *big.Rat {
	switch {
	case b.single != nil:
		return b.single
	case b.unknown || c.VAT == nil:
		return new(big.Rat)
	}
	return new(big.Rat).Quo(c.VAT.rat(), big.NewRat(100, 1))
}

// exactTaxOf returns the exact tax carried by an amount on the price basis
// at rate: amount×rate for exclusive prices, amount×rate/(1+rate) for
// inclusive ones.
func (b taxBasis) exactTaxOf(amount *big.Rat, rate *big.Rat) *big.Rat {
	x := new(big.Rat).Mul(amount, rate)
	if b.included {
		x.Quo(x, new(big.Rat).Add(big.NewRat(1, 1), rate))
	}
	return x
}

// boundRate is the fixed rate at which a min/max price given on one side
// only (excl or incl) is carried to the other: the Tax's rate, else the
// lowest rate of the tariff's components (a component without VAT counts
// as 0%), which reads a bound in the driver's favour.
func boundRate(t *Tariff) *big.Rat {
	b := taxBasisOf(t)
	if b.single != nil {
		return b.single
	}
	var lowest *big.Rat
	for _, e := range t.Elements {
		for _, c := range e.PriceComponents {
			if r := b.componentRate(c); lowest == nil || r.Cmp(lowest) < 0 {
				lowest = r
			}
		}
	}
	if lowest == nil {
		return new(big.Rat)
	}
	return lowest
}

// exactSides returns a bound's excl and incl sides exactly (major units),
// carrying a missing side at rate.
func (p *PriceBound) exactSides(rate *big.Rat) (excl, incl *big.Rat) {
	onePlus := new(big.Rat).Add(big.NewRat(1, 1), rate)
	switch {
	case p.ExclVAT != nil && p.InclVAT != nil:
		return p.ExclVAT.Rat(), p.InclVAT.Rat()
	case p.ExclVAT != nil:
		return p.ExclVAT.Rat(), new(big.Rat).Mul(p.ExclVAT.rat(), onePlus)
	case p.InclVAT != nil:
		return new(big.Rat).Quo(p.InclVAT.rat(), onePlus), p.InclVAT.Rat()
	}
	return nil, nil
}
