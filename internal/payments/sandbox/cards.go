package sandbox

import (
	"strconv"
	"strings"
	"time"

	"github.com/chargestar/chargestar/internal/payments"
)

// How the simulated issuer answers a card (stored with a saved card: it is
// the sandbox's simulation, not card data).
const (
	outcomeApprove           = "approve"
	outcomeDecline           = "decline"
	outcomeInsufficientFunds = "insufficient_funds"
)

// TestCard is one of the card numbers the sandbox knows.
type TestCard struct {
	Number  string // as printed, in groups of four
	Outcome string // what it does
}

// TestCards are the sandbox's cards, as the contract fixes them; any other
// number is an invalid card.
var TestCards = []TestCard{
	{"4242 4242 4242 4242", "approved"},
	{"4000 0000 0000 0002", "declined (generic_decline)"},
	{"4000 0000 0000 9995", "declined: insufficient funds (insufficient_funds)"},
}

var testCardOutcomes = map[string]string{
	"4242424242424242": outcomeApprove,
	"4000000000000002": outcomeDecline,
	"4000000000009995": outcomeInsufficientFunds,
}

// card is a validated card entry: its number is used to decide the outcome
// and then forgotten; only brand, last four and expiry are kept.
type card struct {
	brand    string
	last4    string
	expMonth int
	expYear  int
	outcome  string
}

// fieldError is a problem with one form field, shown beside it.
type fieldError struct {
	Field   string // the input's id and name
	Code    string // Stripe's code for the same problem
	Message string
}

// parseCard validates the hosted page's form fields at now. Every field is
// checked, so the driver sees all problems at once.
func parseCard(number, exp, cvc string, now time.Time) (card, []fieldError) {
	var c card
	var errs []fieldError
	digits := stripSeparators(number)
	switch {
	case digits == "":
		errs = append(errs, fieldError{"card_number", "incomplete_number", "Enter your card number."})
	case !allDigits(digits) || len(digits) < 12 || len(digits) > 19 || !luhn(digits):
		errs = append(errs, fieldError{"card_number", "invalid_number", "Your card number is invalid."})
	default:
		outcome, known := testCardOutcomes[digits]
		if !known {
			// Only the test cards exist in the sandbox: a real card
			// number is refused, and never kept.
			errs = append(errs, fieldError{"card_number", "invalid_number", "Your card number is invalid. This is a test page: use a test card."})
			break
		}
		c.brand, c.last4, c.outcome = brand(digits), digits[len(digits)-4:], outcome
	}

	month, year, ok := parseExpiry(exp)
	switch {
	case strings.TrimSpace(exp) == "":
		errs = append(errs, fieldError{"exp", "incomplete_expiry", "Enter your card's expiry date."})
	case !ok:
		errs = append(errs, fieldError{"exp", "invalid_expiry", "Your card's expiry date is invalid: use MM/YY."})
	case cardExpired(month, year, now):
		errs = append(errs, fieldError{"exp", "invalid_expiry_year", "Your card's expiry date is in the past."})
	case year > now.Year()+20:
		errs = append(errs, fieldError{"exp", "invalid_expiry_year", "Your card's expiry year is invalid."})
	default:
		c.expMonth, c.expYear = month, year
	}

	cvc = strings.TrimSpace(cvc)
	wantLen := 3
	if c.brand == "amex" {
		wantLen = 4
	}
	switch {
	case cvc == "":
		errs = append(errs, fieldError{"cvc", "incomplete_cvc", "Enter your card's security code."})
	case !allDigits(cvc) || len(cvc) != wantLen:
		errs = append(errs, fieldError{"cvc", "invalid_cvc", "Your card's security code is invalid."})
	}
	return c, errs
}

func stripSeparators(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\u00a0' {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
}

func allDigits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// luhn reports whether the digits pass the Luhn check (ISO/IEC 7812).
func luhn(digits string) bool {
	sum := 0
	double := false
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

// brand names a card's network from its leading digits.
func brand(digits string) string {
	switch {
	case strings.HasPrefix(digits, "4"):
		return "visa"
	case strings.HasPrefix(digits, "34"), strings.HasPrefix(digits, "37"):
		return "amex"
	case digits[0] == '5' && digits[1] >= '1' && digits[1] <= '5':
		return "mastercard"
	case len(digits) >= 4 && digits[:4] >= "2221" && digits[:4] <= "2720":
		return "mastercard"
	}
	return "unknown"
}

// parseExpiry reads "MM/YY", "MM / YY", "MMYY" or "MM/YYYY".
func parseExpiry(s string) (month, year int, ok bool) {
	s = strings.ReplaceAll(strings.TrimSpace(s), " ", "")
	var mm, yy string
	if i := strings.IndexAny(s, "/-"); i >= 0 {
		mm, yy = s[:i], s[i+1:]
	} else if len(s) == 4 || len(s) == 6 {
		mm, yy = s[:2], s[2:]
	} else {
		return 0, 0, false
	}
	if !allDigits(mm) || !allDigits(yy) || len(mm) > 2 || (len(yy) != 2 && len(yy) != 4) {
		return 0, 0, false
	}
	month, _ = strconv.Atoi(mm)
	year, _ = strconv.Atoi(yy)
	if len(yy) == 2 {
		year += 2000
	}
	return month, year, month >= 1 && month <= 12
}

// cardExpired reports whether a card valid through month/year has expired
// at now (it is valid until the end of that month).
func cardExpired(month, year int, now time.Time) bool {
	return !now.Before(time.Date(year, time.Month(month)+1, 1, 0, 0, 0, 0, time.UTC))
}

// declineMessage is what a driver is told about a decline.
func declineMessage(code string) string {
	switch code {
	case payments.DeclineInsufficientFunds:
		return "Your card has insufficient funds."
	case payments.DeclineExpiredCard:
		return "Your card has expired."
	}
	return "Your card was declined."
}
