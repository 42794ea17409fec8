package ledger

import (
	"cmp"
	"fmt"
	"unicode/utf8"
)

// Side is the side of an entry: Debit or Credit.
type Side int8

const (
	Debit  Side = 1
	Credit Side = -1
)

func (s Side) String() string {
	switch s {
	case Debit:
		return "debit"
	case Credit:
		return "credit"
	}
	return fmt.Sprintf("Side(%d)", int8(s))
}

// Kind is an account's kind; see the package documentation.
type Kind string

const (
	InFlight         Kind = "in_flight"
	ProviderClearing Kind = "provider_clearing"
	OperatorMerchant Kind = "operator_merchant"
	OperatorPayable  Kind = "operator_payable"
	TaxPayable       Kind = "tax_payable"
	PlatformFees     Kind = "platform_fees"
	ProviderFees     Kind = "provider_fees"
	Refunds          Kind = "refunds"
	Wallet           Kind = "wallet"
)

// Kinds lists every account kind.
func Kinds() []Kind {
	return []Kind{InFlight, ProviderClearing, OperatorMerchant, OperatorPayable, TaxPayable, PlatformFees, ProviderFees, Refunds, Wallet}
}

// Normal is the side on which the kind's balance grows: debit for assets
// and expenses, credit for liabilities and revenue. 0 for an unknown kind.
func (k Kind) Normal() Side {
	switch k {
	case ProviderClearing, OperatorMerchant, ProviderFees, Refunds:
		return Debit
	case InFlight, OperatorPayable, TaxPayable, PlatformFees, Wallet:
		return Credit
	}
	return 0
}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { return k.Normal() != 0 }

// Owned reports whether accounts of kind k belong to an owner (a payment,
// provider, operator or driver account); the platform's own accounts
// (platform_fees, refunds) have none.
func (k Kind) Owned() bool { return k != PlatformFees && k != Refunds }

// Funding reports whether a hold may take its money from an account of kind
// k: the provider (platform settlement), the operator's merchant account
// (direct settlement) or a wallet.
func (k Kind) Funding() bool { return k == ProviderClearing || k == OperatorMerchant || k == Wallet }

// Account identifies an account.
type Account struct {
	Kind     Kind
	Owner    string // "" for the platform's own accounts
	Currency string // ISO 4217, e.g. "AUD"
}

// Account constructors, one per kind.

func InFlightAccount(payment, currency string) Account { return Account{InFlight, payment, currency} }
func ProviderClearingAccount(prov, currency string) Account {
	return Account{ProviderClearing, prov, currency}
}
func OperatorMerchantAccount(op, currency string) Account {
	return Account{OperatorMerchant, op, currency}
}
func OperatorPayableAccount(op, currency string) Account {
	return Account{OperatorPayable, op, currency}
}
func TaxPayableAccount(op, currency string) Account     { return Account{TaxPayable, op, currency} }
func PlatformFeesAccount(currency string) Account       { return Account{PlatformFees, "", currency} }
func ProviderFeesAccount(prov, currency string) Account { return Account{ProviderFees, prov, currency} }
func RefundsAccount(currency string) Account            { return Account{Refunds, "", currency} }
func WalletAccount(driver, currency string) Account     { return Account{Wallet, driver, currency} }

func (a Account) String() string { return string(a.Kind) + ":" + a.Owner + ":" + a.Currency }

// Compare orders accounts by kind, owner and currency.
func (a Account) Compare(b Account) int {
	if c := cmp.Compare(a.Kind, b.Kind); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Owner, b.Owner); c != 0 {
		return c
	}
	return cmp.Compare(a.Currency, b.Currency)
}

// MaxTextLen bounds owners, keys and references (bytes).
const MaxTextLen = 200

// Validate checks the kind, the owner (required for owned kinds, empty for
// the platform's) and the currency (three upper-case ASCII letters).
func (a Account) Validate() error {
	if !a.Kind.Valid() {
		return fmt.Errorf("%w: unknown account kind %q", ErrInvalid, a.Kind)
	}
	switch {
	case a.Kind.Owned() && a.Owner == "":
		return fmt.Errorf("%w: %s account needs an owner", ErrInvalid, a.Kind)
	case !a.Kind.Owned() && a.Owner != "":
		return fmt.Errorf("%w: %s is the platform's account and has no owner (got %q)", ErrInvalid, a.Kind, a.Owner)
	}
	if err := checkText("account owner", a.Owner); err != nil {
		return err
	}
	if !ValidCurrency(a.Currency) {
		return fmt.Errorf("%w: currency %q is not an ISO 4217 code", ErrInvalid, a.Currency)
	}
	return nil
}

// ValidCurrency reports whether c has the form of an ISO 4217 code.
func ValidCurrency(c string) bool {
	if len(c) != 3 {
		return false
	}
	for i := range 3 {
		if c[i] < 'A' || c[i] > 'Z' {
			return false
		}
	}
	return true
}

// checkText accepts valid UTF-8 of at most MaxTextLen bytes without control
// characters (PostgreSQL text cannot hold NUL).
func checkText(what, s string) error {
	if len(s) > MaxTextLen {
		return fmt.Errorf("%w: %s is longer than %d bytes", ErrInvalid, what, MaxTextLen)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w: %s is not valid UTF-8", ErrInvalid, what)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%w: %s contains a control character", ErrInvalid, what)
		}
	}
	return nil
}

// Balance is an account's balance, or a change to one. The four sums are
// of entry amounts by side and status; as a balance they are never
// negative, as a change (Effects) the pending ones may be.
type Balance struct {
	Account        Account
	DebitsPosted   int64
	CreditsPosted  int64
	DebitsPending  int64
	CreditsPending int64
}

// Posted is the posted balance, positive on the account's normal side.
func (b Balance) Posted() int64 {
	if b.Account.Kind.Normal() == Debit {
		return b.DebitsPosted - b.CreditsPosted
	}
	return b.CreditsPosted - b.DebitsPosted
}

// Pending is the net of the pending entries, positive on the account's
// normal side.
func (b Balance) Pending() int64 {
	if b.Account.Kind.Normal() == Debit {
		return b.DebitsPending - b.CreditsPending
	}
	return b.CreditsPending - b.DebitsPending
}

// Available is the posted balance less the pending entries against the
// normal side: what can be spent or paid out now. Pending entries on the
// normal side (money on its way in) do not count until posted.
func (b Balance) Available() int64 {
	if b.Account.Kind.Normal() == Debit {
		return b.Posted() - b.CreditsPending
	}
	return b.Posted() - b.DebitsPending
}

// IsZero reports whether nothing was ever booked (or nothing changes).
func (b Balance) IsZero() bool {
	return b.DebitsPosted == 0 && b.CreditsPosted == 0 && b.DebitsPending == 0 && b.CreditsPending == 0
}

// Add returns b changed by d (d's Account is ignored).
func (b Balance) Add(d Balance) Balance {
	b.DebitsPosted += d.DebitsPosted
	b.CreditsPosted += d.CreditsPosted
	b.DebitsPending += d.DebitsPending
	b.CreditsPending += d.CreditsPending
	return b
}
