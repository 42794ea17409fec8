package billing

import (
	"bytes"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// Decimal is an exact rational number used for prices, rates and
// quantities: a unit price such as 0.55 $/kWh, a tax rate such as 0.1, a
// restriction such as 16 kW.
//
// Why big.Rat rather than a fixed-point integer of our own: the arithmetic
// of pricing is not closed over any fixed number of decimal places. A price
// per hour applied to seconds divides by 3600, a tax-inclusive amount is
// split by dividing by 1+rate (by 11 for GST), energy is interpolated at a
// time-of-day boundary by the ratio of two durations. A fixed-point type
// would have to round after each of those steps, and those roundings would
// be undocumented, order-dependent and able to add up. With big.Rat every
// intermediate value is exact and money is rounded to minor units only at
// the points the package documentation names. A session is priced with a
// few hundred rational operations, which costs microseconds (see the
// benchmarks), so exactness is cheap here.
//
// The zero value is 0. A Decimal is immutable: every operation returns a
// new value, so Decimals can be copied and shared freely.
type Decimal struct{ r *big.Rat }

// NewDecimal returns unscaled × 10^-scale: NewDecimal(55, 2) is 0.55.
func NewDecimal(unscaled int64, scale int) Decimal {
	r := new(big.Rat).SetInt64(unscaled)
	if scale != 0 {
		p := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(scale))), nil)
		if scale > 0 {
			r.Quo(r, new(big.Rat).SetInt(p))
		} else {
			r.Mul(r, new(big.Rat).SetInt(p))
		}
	}
	return Decimal{r}
}

// DecimalFromInt returns i as a Decimal.
func DecimalFromInt(i int64) Decimal { return Decimal{new(big.Rat).SetInt64(i)} }

// DecimalFromRat returns a Decimal holding a copy of r.
func DecimalFromRat(r *big.Rat) Decimal {
	if r == nil {
		return Decimal{}
	}
	return Decimal{new(big.Rat).Set(r)}
}

// maxDecimalLen bounds the text ParseDecimal accepts, and maxDecimalExp the
// exponent, so that hostile input ("1e999999999") cannot make big.Rat
// allocate gigabytes. Real prices need neither.
const (
	maxDecimalLen = 64
	maxDecimalExp = 30
)

// ParseDecimal parses a decimal number in JSON number syntax, with an
// optional leading '+': "0.55", "-1", "2.5e-3". It never goes through a
// float, so "0.1" is exactly one tenth.
func ParseDecimal(s string) (Decimal, error) {
	if err := checkDecimalSyntax(s); err != nil {
		return Decimal{}, err
	}
	r, ok := new(big.Rat).SetString(strings.TrimPrefix(s, "+"))
	if !ok {
		return Decimal{}, fmt.Errorf("%q is not a decimal number", s)
	}
	return Decimal{r}, nil
}

// MustDecimal is ParseDecimal for constants known to be valid; it panics
// otherwise. Use it in tests and for literals, never on input.
func MustDecimal(s string) Decimal {
	d, err := ParseDecimal(s)
	if err != nil {
		panic(err)
	}
	return d
}

func checkDecimalSyntax(s string) error {
	bad := fmt.Errorf("%q is not a decimal number", s)
	if len(s) == 0 || len(s) > maxDecimalLen {
		return bad
	}
	i := 0
	if s[i] == '-' || s[i] == '+' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if digits() == 0 {
		return bad
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return bad
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '-' || s[i] == '+') {
			i++
		}
		start := i
		if digits() == 0 {
			return bad
		}
		exp := 0
		for _, c := range s[start:i] {
			exp = exp*10 + int(c-'0')
			if exp > maxDecimalExp {
				return fmt.Errorf("%q: exponent out of range", s)
			}
		}
	}
	if i != len(s) {
		return bad
	}
	return nil
}

// rat returns the value for reading. Callers must not modify it.
func (d Decimal) rat() *big.Rat {
	if d.r == nil {
		return new(big.Rat)
	}
	return d.r
}

// Rat returns a copy of the value as a big.Rat.
func (d Decimal) Rat() *big.Rat { return new(big.Rat).Set(d.rat()) }

// Sign returns -1, 0 or +1.
func (d Decimal) Sign() int {
	if d.r == nil {
		return 0
	}
	return d.r.Sign()
}

// IsZero reports whether d is 0.
func (d Decimal) IsZero() bool { return d.Sign() == 0 }

// Cmp compares d and e: -1 if d < e, 0 if equal, +1 if d > e.
func (d Decimal) Cmp(e Decimal) int { return d.rat().Cmp(e.rat()) }

// Equal reports whether d and e are the same number (0.5 equals 0.50).
func (d Decimal) Equal(e Decimal) bool { return d.Cmp(e) == 0 }

// Add returns d + e.
func (d Decimal) Add(e Decimal) Decimal { return Decimal{new(big.Rat).Add(d.rat(), e.rat())} }

// Sub returns d − e.
func (d Decimal) Sub(e Decimal) Decimal { return Decimal{new(big.Rat).Sub(d.rat(), e.rat())} }

// Mul returns d × e.
func (d Decimal) Mul(e Decimal) Decimal { return Decimal{new(big.Rat).Mul(d.rat(), e.rat())} }

// Quo returns d ÷ e; it panics if e is zero, like integer division.
func (d Decimal) Quo(e Decimal) Decimal { return Decimal{new(big.Rat).Quo(d.rat(), e.rat())} }

// Neg returns −d.
func (d Decimal) Neg() Decimal { return Decimal{new(big.Rat).Neg(d.rat())} }

// Round returns d rounded to scale decimal places with the given mode.
func (d Decimal) Round(scale int, mode RoundingMode) Decimal {
	p := pow10(scale)
	x := new(big.Rat).Mul(d.rat(), new(big.Rat).SetInt(p))
	q := roundRat(x, mode)
	return Decimal{new(big.Rat).SetFrac(q, p)}
}

// decimalPlaces returns how many digits after the point d needs to be
// written exactly, and false when its expansion does not terminate (1/3).
func (d Decimal) decimalPlaces() (int, bool) {
	den := new(big.Int).Set(d.rat().Denom())
	var twos, fives int
	two, five := big.NewInt(2), big.NewInt(5)
	m := new(big.Int)
	for {
		q, r := new(big.Int).QuoRem(den, two, m)
		if r.Sign() != 0 {
			break
		}
		den = q
		twos++
	}
	for {
		q, r := new(big.Int).QuoRem(den, five, m)
		if r.Sign() != 0 {
			break
		}
		den = q
		fives++
	}
	if den.Cmp(big.NewInt(1)) != 0 {
		return 0, false
	}
	return max(twos, fives), true
}

// String returns the exact decimal expansion ("0.55", "12", "-0.125") when
// it terminates, and the fraction ("1/3") otherwise.
func (d Decimal) String() string {
	places, ok := d.decimalPlaces()
	if !ok {
		return d.rat().RatString()
	}
	return d.rat().FloatString(places)
}

// StringFixed returns d rounded half up to exactly places decimals.
func (d Decimal) StringFixed(places int) string {
	return d.Round(places, HalfUp).rat().FloatString(places)
}

// MarshalJSON writes d as a JSON number: exactly when its decimal
// expansion terminates (every value parsed from JSON, every price and
// rate), otherwise rounded half-even to 15 decimal places (a computed
// quantity such as 10 s = 1/360 h).
func (d Decimal) MarshalJSON() ([]byte, error) {
	places, ok := d.decimalPlaces()
	if !ok {
		s := d.Round(15, HalfEven).String()
		return []byte(s), nil
	}
	return []byte(d.rat().FloatString(places)), nil
}

// UnmarshalJSON reads a JSON number, or a string holding one, exactly.
func (d *Decimal) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		return errors.New("a number is required, not null")
	}
	s := string(b)
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		s = string(b[1 : len(b)-1])
	}
	v, err := ParseDecimal(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// RoundingMode says how an exact amount becomes a whole number of minor
// units.
type RoundingMode string

const (
	// HalfUp rounds to the nearest unit, halves away from zero: the ATO's
	// rule for GST ("round to the nearest cent, rounding 0.5 cents up").
	// It is the default.
	HalfUp RoundingMode = "half_up"
	// HalfEven rounds to the nearest unit, halves to the even neighbour
	// (banker's rounding).
	HalfEven RoundingMode = "half_even"
	// Down truncates toward zero.
	Down RoundingMode = "down"
	// Up rounds away from zero.
	Up RoundingMode = "up"
)

func (m RoundingMode) valid() bool {
	switch m {
	case "", HalfUp, HalfEven, Down, Up:
		return true
	}
	return false
}

// orDefault maps the zero RoundingMode to HalfUp.
func (m RoundingMode) orDefault() RoundingMode {
	if m == "" {
		return HalfUp
	}
	return m
}

// roundRat rounds x to an integer with mode.
func roundRat(x *big.Rat, mode RoundingMode) *big.Int {
	num, den := x.Num(), x.Denom() // den > 0
	q, r := new(big.Int).QuoRem(num, den, new(big.Int))
	if r.Sign() == 0 {
		return q
	}
	away := func() { // one unit further from zero
		if x.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	twice := new(big.Int).Abs(r)
	twice.Lsh(twice, 1)
	half := twice.Cmp(den) // <0 below half, 0 exactly half, >0 above
	switch mode.orDefault() {
	case HalfUp:
		if half >= 0 {
			away()
		}
	case HalfEven:
		if half > 0 || (half == 0 && q.Bit(0) == 1) {
			away()
		}
	case Up:
		away()
	case Down:
	}
	return q
}

// ceilToStep returns ⌈x / step⌉ × step for x ≥ 0, exactly (a step below 1
// counts as 1).
func ceilToStep(x *big.Rat, step int64) *big.Rat {
	if step <= 1 && x.IsInt() {
		return new(big.Rat).Set(x)
	}
	s := new(big.Rat).SetInt64(max(step, 1))
	n := new(big.Rat).Quo(x, s)
	q := new(big.Int).Quo(n.Num(), n.Denom()) // floor for n ≥ 0
	if !n.IsInt() {
		q.Add(q, big.NewInt(1))
	}
	return new(big.Rat).Mul(new(big.Rat).SetInt(q), s)
}

func pow10(n int) *big.Int {
	return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil)
}

func abs(i int) int {
	if i < 0 {
		return -i
	}
	return i
}
