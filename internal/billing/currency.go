package billing

import (
	"math/big"
	"strings"
)

// currency is what the package knows of an ISO 4217 currency: its minor
// unit exponent (2 for cents, 0 for yen) and the symbol shown to drivers.
type currency struct {
	code     string
	exponent int
	symbol   string // "" → the code and a space ("CHF 1.00")
}

// lookupCurrency returns the currencies Charge Star prices in. A switch
// rather than a map so that the table is a constant, not a mutable global.
// Symbols are the local ones: a driver in an Australian car park reads
// "$0.55", not "A$0.55"; currency is always carried beside amounts.
func lookupCurrency(code string) (currency, bool) {
	switch code {
	case "AUD", "NZD", "USD", "CAD", "SGD", "HKD":
		return currency{code, 2, "$"}, true
	case "EUR":
		return currency{code, 2, "€"}, true
	case "GBP":
		return currency{code, 2, "£"}, true
	case "JPY":
		return currency{code, 0, "¥"}, true
	case "KRW":
		return currency{code, 0, "₩"}, true
	case "CHF", "SEK", "NOK", "DKK":
		return currency{code, 2, ""}, true
	}
	return currency{}, false
}

// MinorUnits returns the ISO 4217 minor-unit exponent of a supported
// currency (2 for AUD: amounts are in cents; 0 for JPY), and false for a
// currency the package does not support.
func MinorUnits(code string) (int, bool) {
	c, ok := lookupCurrency(code)
	return c.exponent, ok
}

// FormatMoney formats an amount in minor units for a driver:
// FormatMoney(2300, "AUD") is "$23.00", FormatMoney(500, "JPY") is "¥500",
// FormatMoney(-150, "EUR") is "-€1.50", thousands grouped with commas.
// An unsupported currency is shown with its code and two decimals.
func FormatMoney(amount int64, code string) string {
	c, ok := lookupCurrency(code)
	if !ok {
		c = currency{code: code, exponent: 2}
	}
	r := new(big.Rat).SetFrac(big.NewInt(amount), pow10(c.exponent))
	return c.format(r, c.exponent)
}

// FormatPrice formats a unit price (major units, e.g. 0.55 $/kWh) for a
// driver: at least the currency's minor digits, more when the price has
// them ("$0.275"), at most two more, rounded half up beyond that.
func FormatPrice(price Decimal, code string) string {
	c, ok := lookupCurrency(code)
	if !ok {
		c = currency{code: code, exponent: 2}
	}
	places, exact := price.decimalPlaces()
	if !exact || places > c.exponent+2 {
		places = c.exponent + 2
	}
	places = max(places, c.exponent)
	return c.format(price.Round(places, HalfUp).rat(), places)
}

func (c currency) format(r *big.Rat, places int) string {
	neg := r.Sign() < 0
	s := new(big.Rat).Abs(r).FloatString(places)
	intPart, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	if c.symbol != "" {
		b.WriteString(c.symbol)
	} else {
		b.WriteString(c.code)
		b.WriteByte(' ')
	}
	b.WriteString(groupThousands(intPart))
	if frac != "" {
		b.WriteByte('.')
		b.WriteString(frac)
	}
	return b.String()
}

func groupThousands(digits string) string {
	if len(digits) <= 3 {
		return digits
	}
	var b strings.Builder
	lead := len(digits) % 3
	if lead > 0 {
		b.WriteString(digits[:lead])
	}
	for i := lead; i < len(digits); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(digits[i : i+3])
	}
	return b.String()
}
