package ledger

import "fmt"

// Settlement says where a card payment's money goes.
type Settlement string

const (
	// Platform: the platform collects the payment (merchant of record),
	// owes the operator its net and tax, and pays out at intervals.
	Platform Settlement = "platform"
	// Direct: the payment goes to the operator's own merchant account; the
	// platform books only its fee, which it is owed.
	Direct Settlement = "direct"
)

// SettlementOf is a hold's settlement mode, which its funding account
// determines: the operator's merchant account means Direct, the provider
// or a wallet Platform.
func SettlementOf(hold Transaction) Settlement {
	if f, _, ok := hold.holdLegs(); ok && f.Account.Kind == OperatorMerchant {
		return Direct
	}
	return Platform
}

// Split divides a gross amount between the parties:
// Gross = Tax + PlatformFee + ProviderFee + Net.
type Split struct {
	Tax         int64 // tax (GST) in the price; the operator is the seller and owes it
	PlatformFee int64 // the platform's fee
	ProviderFee int64 // the payment provider's fee, recovered through the price
	Net         int64 // what the operator keeps
}

// Gross is the sum of the shares; every share must be ≥ 0 and the sum at
// most MaxAmount.
func (s Split) Gross() (int64, error) {
	var sum int64
	for _, v := range []int64{s.Tax, s.PlatformFee, s.ProviderFee, s.Net} {
		if v < 0 || v > MaxAmount {
			return 0, fmt.Errorf("%w: split share %d is not in 0..%d", ErrInvalid, v, MaxAmount)
		}
		sum += v
	}
	if sum > MaxAmount {
		return 0, fmt.Errorf("%w: split gross %d exceeds %d", ErrInvalid, sum, MaxAmount)
	}
	return sum, nil
}

// entries collects a transaction's lines, dropping zero amounts.
type entries []Entry

func (es *entries) dr(a Account, amt int64) {
	if amt != 0 {
		*es = append(*es, Entry{a, Debit, amt})
	}
}

func (es *entries) cr(a Account, amt int64) {
	if amt != 0 {
		*es = append(*es, Entry{a, Credit, amt})
	}
}

// finish validates t.
func finish(t Transaction) (Transaction, error) {
	if err := t.Validate(); err != nil {
		return Transaction{}, err
	}
	return t, nil
}

// HoldParams describes an authorisation.
type HoldParams struct {
	Key       string
	Reference string
	// Payment owns the in_flight account: the provider's payment
	// (authorisation) id, or the id of a wallet hold.
	Payment string
	// Funding is where the held money is: ProviderClearingAccount (a card
	// payment the platform settles), OperatorMerchantAccount (a card
	// payment settled directly to the operator) or WalletAccount. Its
	// currency is the hold's.
	Funding Account
	Amount  int64
}

// Hold builds a pending transaction: Dr funding / Cr in_flight[payment].
// A wallet hold is guarded: it needs the wallet's available balance.
func Hold(p HoldParams) (Transaction, error) {
	if !p.Funding.Kind.Funding() {
		return Transaction{}, fmt.Errorf("%w: %s: a hold cannot be funded by a %s account", ErrInvalid, p.Key, p.Funding.Kind)
	}
	if p.Amount <= 0 || p.Amount > MaxAmount {
		return Transaction{}, fmt.Errorf("%w: %s: hold amount %d is not in 1..%d", ErrInvalid, p.Key, p.Amount, MaxAmount)
	}
	var es entries
	es.dr(p.Funding, p.Amount)
	es.cr(InFlightAccount(p.Payment, p.Funding.Currency), p.Amount)
	return finish(Transaction{Key: p.Key, Kind: KindHold, Reference: p.Reference, Status: Pending, Entries: es})
}

// CaptureParams describes the capture of a hold.
type CaptureParams struct {
	Key       string
	Reference string // "" takes the hold's
	// Operator is the seller. Platform settlement: owner of the
	// operator_payable and tax_payable accounts credited (required).
	// Direct settlement: "" or the owner of the hold's merchant account.
	Operator string
	// Split is the captured gross amount, at most the hold's amount;
	// capturing 0 is a Void. In direct settlement only PlatformFee is
	// booked; the other shares are the operator's business.
	Split Split
}

// Capture builds the transaction that posts hold for Split's gross amount
// (see the package documentation for its entries). Whether the hold is
// still pending is checked when it is posted, not here.
func Capture(hold Transaction, p CaptureParams) (Transaction, error) {
	if hold.Kind != KindHold {
		return Transaction{}, fmt.Errorf("%w: %s: %s is a %s, not a hold", ErrInvalid, p.Key, hold.Key, hold.Kind)
	}
	funding, inFlight, ok := hold.holdLegs()
	if !ok {
		return Transaction{}, fmt.Errorf("%w: %s: malformed hold %s", ErrInvalid, p.Key, hold.Key)
	}
	gross, err := p.Split.Gross()
	if err != nil {
		return Transaction{}, fmt.Errorf("%w (%s)", err, p.Key)
	}
	held := inFlight.Amount
	switch {
	case gross == 0:
		return Transaction{}, fmt.Errorf("%w: %s: capture of 0: void the hold instead", ErrInvalid, p.Key)
	case gross > held:
		return Transaction{}, fmt.Errorf("%w: %s: capture of %d exceeds the hold's %d", ErrInvalid, p.Key, gross, held)
	}
	cur := inFlight.Account.Currency
	s := p.Split
	var es entries
	// release what is not captured
	es.dr(inFlight.Account, held-gross)
	es.cr(funding.Account, held-gross)
	// allocate the captured gross
	es.dr(inFlight.Account, gross)
	switch SettlementOf(hold) {
	case Direct:
		op := funding.Account.Owner
		if p.Operator != "" && p.Operator != op {
			return Transaction{}, fmt.Errorf("%w: %s: direct settlement to %s, not %s", ErrInvalid, p.Key, op, p.Operator)
		}
		es.cr(funding.Account, gross-s.PlatformFee)
		es.cr(PlatformFeesAccount(cur), s.PlatformFee)
	default:
		if p.Operator == "" {
			return Transaction{}, fmt.Errorf("%w: %s: platform settlement needs the operator", ErrInvalid, p.Key)
		}
		es.cr(TaxPayableAccount(p.Operator, cur), s.Tax)
		es.cr(PlatformFeesAccount(cur), s.PlatformFee)
		es.cr(OperatorPayableAccount(p.Operator, cur), s.Net)
		if s.ProviderFee > 0 {
			if funding.Account.Kind != ProviderClearing {
				return Transaction{}, fmt.Errorf("%w: %s: a %s payment has no provider fee", ErrInvalid, p.Key, funding.Account.Kind)
			}
			prov := funding.Account.Owner
			es.cr(ProviderFeesAccount(prov, cur), s.ProviderFee)     // recovered through the price …
			es.dr(ProviderFeesAccount(prov, cur), s.ProviderFee)     // … charged by the provider,
			es.cr(ProviderClearingAccount(prov, cur), s.ProviderFee) // which keeps it
		}
	}
	ref := p.Reference
	if ref == "" {
		ref = hold.Reference
	}
	return finish(Transaction{Key: p.Key, Kind: KindCapture, Reference: ref, Status: Posted, Resolves: hold.Key, Entries: es})
}

// VoidParams describes the void of a hold.
type VoidParams struct {
	Key       string
	Reference string // "" takes the hold's
}

// Void builds the transaction that voids hold: it books nothing, and
// releases the hold's pending amounts.
func Void(hold Transaction, p VoidParams) (Transaction, error) {
	if hold.Kind != KindHold {
		return Transaction{}, fmt.Errorf("%w: %s: %s is a %s, not a hold", ErrInvalid, p.Key, hold.Key, hold.Kind)
	}
	ref := p.Reference
	if ref == "" {
		ref = hold.Reference
	}
	return finish(Transaction{Key: p.Key, Kind: KindVoid, Reference: ref, Status: Posted, Resolves: hold.Key})
}

// RefundParams describes a refund of (part of) a captured payment.
type RefundParams struct {
	Key       string
	Reference string
	Operator  string // the seller whose shares are refunded
	// Via is where the money goes back: ProviderClearingAccount (to the
	// card; platform settlement), WalletAccount (to the driver's wallet;
	// platform settlement) or OperatorMerchantAccount (direct settlement:
	// the operator refunds from its own account and the platform books
	// only the return of its fee). Its currency is the refund's.
	Via Account
	// Provider owns the provider_fees account the ProviderFee share is
	// charged to ("" takes Via's owner when Via is a provider).
	Provider string
	// Split is what each share gives back; its gross is the refund.
	// Platform settlement: Tax from tax_payable, Net from operator_payable,
	// PlatformFee from refunds (the platform's contra-revenue), ProviderFee
	// to provider_fees (the provider keeps its fee, so that part becomes an
	// unrecovered fee). Direct settlement: only PlatformFee is booked.
	Split Split
}

// Refund builds a refund.
func Refund(p RefundParams) (Transaction, error) {
	gross, err := p.Split.Gross()
	if err != nil {
		return Transaction{}, fmt.Errorf("%w (%s)", err, p.Key)
	}
	cur := p.Via.Currency
	s := p.Split
	var es entries
	switch p.Via.Kind {
	case OperatorMerchant:
		if p.Operator != "" && p.Operator != p.Via.Owner {
			return Transaction{}, fmt.Errorf("%w: %s: direct settlement to %s, not %s", ErrInvalid, p.Key, p.Via.Owner, p.Operator)
		}
		if s.PlatformFee == 0 {
			return Transaction{}, fmt.Errorf("%w: %s: a direct-settlement refund without a platform fee share books nothing", ErrInvalid, p.Key)
		}
		es.dr(RefundsAccount(cur), s.PlatformFee)
		es.cr(p.Via, s.PlatformFee)
	case ProviderClearing, Wallet:
		if p.Operator == "" {
			return Transaction{}, fmt.Errorf("%w: %s: a refund needs the operator", ErrInvalid, p.Key)
		}
		if gross == 0 {
			return Transaction{}, fmt.Errorf("%w: %s: refund of 0", ErrInvalid, p.Key)
		}
		es.dr(TaxPayableAccount(p.Operator, cur), s.Tax)
		es.dr(OperatorPayableAccount(p.Operator, cur), s.Net)
		es.dr(RefundsAccount(cur), s.PlatformFee)
		if s.ProviderFee > 0 {
			prov := p.Provider
			if prov == "" && p.Via.Kind == ProviderClearing {
				prov = p.Via.Owner
			}
			if prov == "" {
				return Transaction{}, fmt.Errorf("%w: %s: a provider fee share needs the provider", ErrInvalid, p.Key)
			}
			es.dr(ProviderFeesAccount(prov, cur), s.ProviderFee)
		}
		es.cr(p.Via, gross)
	default:
		return Transaction{}, fmt.Errorf("%w: %s: cannot refund via a %s account", ErrInvalid, p.Key, p.Via.Kind)
	}
	return finish(Transaction{Key: p.Key, Kind: KindRefund, Reference: p.Reference, Status: Posted, Entries: es})
}

// PayoutParams describes a payout to an operator (platform settlement).
type PayoutParams struct {
	Key       string
	Reference string
	Operator  string
	From      Account // the provider_clearing account paying; its currency is the payout's
	Net       int64   // from operator_payable
	Tax       int64   // from tax_payable
}

// Payout builds a payout: Dr operator_payable, Dr tax_payable / Cr From.
// Both payables are guarded: an operator is never paid more than it is owed.
func Payout(p PayoutParams) (Transaction, error) {
	if p.From.Kind != ProviderClearing {
		return Transaction{}, fmt.Errorf("%w: %s: payouts come from provider_clearing, not %s", ErrInvalid, p.Key, p.From.Kind)
	}
	if p.Net < 0 || p.Tax < 0 || p.Net > MaxAmount || p.Tax > MaxAmount || p.Net+p.Tax == 0 {
		return Transaction{}, fmt.Errorf("%w: %s: payout of net %d, tax %d", ErrInvalid, p.Key, p.Net, p.Tax)
	}
	cur := p.From.Currency
	var es entries
	var guard []Account
	es.dr(OperatorPayableAccount(p.Operator, cur), p.Net)
	es.dr(TaxPayableAccount(p.Operator, cur), p.Tax)
	es.cr(p.From, p.Net+p.Tax)
	if p.Net > 0 {
		guard = append(guard, OperatorPayableAccount(p.Operator, cur))
	}
	if p.Tax > 0 {
		guard = append(guard, TaxPayableAccount(p.Operator, cur))
	}
	return finish(Transaction{Key: p.Key, Kind: KindPayout, Reference: p.Reference, Status: Posted, Entries: es, Guard: guard})
}

// TopUpParams describes money paid into a wallet through a provider.
type TopUpParams struct {
	Key         string
	Reference   string
	Wallet      Account // WalletAccount(driver, currency)
	Provider    string
	Amount      int64
	ProviderFee int64 // the provider's fee on the top-up, which the platform bears
}

// WalletTopUp builds Dr provider_clearing / Cr wallet, and the provider's
// fee (Dr provider_fees / Cr provider_clearing) if any.
func WalletTopUp(p TopUpParams) (Transaction, error) {
	if p.Wallet.Kind != Wallet {
		return Transaction{}, fmt.Errorf("%w: %s: top-up of a %s account", ErrInvalid, p.Key, p.Wallet.Kind)
	}
	if p.Amount <= 0 || p.ProviderFee < 0 || p.ProviderFee > MaxAmount {
		return Transaction{}, fmt.Errorf("%w: %s: top-up of %d with fee %d", ErrInvalid, p.Key, p.Amount, p.ProviderFee)
	}
	cur := p.Wallet.Currency
	var es entries
	es.dr(ProviderClearingAccount(p.Provider, cur), p.Amount)
	es.cr(p.Wallet, p.Amount)
	es.dr(ProviderFeesAccount(p.Provider, cur), p.ProviderFee)
	es.cr(ProviderClearingAccount(p.Provider, cur), p.ProviderFee)
	return finish(Transaction{Key: p.Key, Kind: KindWalletTopUp, Reference: p.Reference, Status: Posted, Entries: es})
}

// FeeParams describes a provider fee charged outside a capture (on a
// refund, a dispute, a top-up, or the difference between the fee priced
// and the fee charged).
type FeeParams struct {
	Key       string
	Reference string
	Provider  string
	Currency  string
	Amount    int64
}

// ProviderFee builds Dr provider_fees / Cr provider_clearing.
func ProviderFee(p FeeParams) (Transaction, error) {
	if p.Amount <= 0 {
		return Transaction{}, fmt.Errorf("%w: %s: fee of %d", ErrInvalid, p.Key, p.Amount)
	}
	var es entries
	es.dr(ProviderFeesAccount(p.Provider, p.Currency), p.Amount)
	es.cr(ProviderClearingAccount(p.Provider, p.Currency), p.Amount)
	return finish(Transaction{Key: p.Key, Kind: KindFee, Reference: p.Reference, Status: Posted, Entries: es})
}

// CollectFeeParams describes the platform fee of direct-settlement
// payments arriving at the platform's provider balance (an application fee
// the provider transfers from the operator's merchant account).
type CollectFeeParams struct {
	Key       string
	Reference string
	Operator  string
	Provider  string
	Currency  string
	Amount    int64
}

// CollectFee builds Dr provider_clearing / Cr operator_merchant; the
// merchant account is guarded: no more is collected than is owed.
func CollectFee(p CollectFeeParams) (Transaction, error) {
	if p.Amount <= 0 {
		return Transaction{}, fmt.Errorf("%w: %s: fee of %d", ErrInvalid, p.Key, p.Amount)
	}
	om := OperatorMerchantAccount(p.Operator, p.Currency)
	var es entries
	es.dr(ProviderClearingAccount(p.Provider, p.Currency), p.Amount)
	es.cr(om, p.Amount)
	return finish(Transaction{Key: p.Key, Kind: KindFee, Reference: p.Reference, Status: Posted, Entries: es, Guard: []Account{om}})
}
