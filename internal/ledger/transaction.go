package ledger

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

var (
	// ErrInvalid: a transaction or its parameters break a rule (wrapped
	// with the details).
	ErrInvalid = errors.New("ledger: invalid transaction")
	// ErrUnbalanced: debits differ from credits in some currency (also
	// ErrInvalid).
	ErrUnbalanced = errors.New("ledger: unbalanced")
	// ErrUnknownHold: a capture or void names a hold the ledger does not have.
	ErrUnknownHold = errors.New("ledger: no such hold")
	// ErrNotPending: the hold was already captured or voided.
	ErrNotPending = errors.New("ledger: hold is not pending")
	// ErrKeyReused: the idempotency key was already used for a different
	// transaction.
	ErrKeyReused = errors.New("ledger: idempotency key already used for a different transaction")
	// ErrInsufficientFunds: a guarded account would go below zero.
	ErrInsufficientFunds = errors.New("ledger: insufficient funds")
)

// Limits that keep every sum far from overflowing int64.
const (
	MaxAmount  int64 = 1_000_000_000_000_000 // 10^15 minor units per entry
	MaxEntries       = 64                    // entries per transaction
)

// Status is a transaction's status, which is also the status of its entries.
type Status string

const (
	Pending Status = "pending" // a hold, not yet captured or voided
	Posted  Status = "posted"
	Voided  Status = "voided" // a hold that was voided
)

// TxKind says what business event a transaction records.
type TxKind string

const (
	KindHold        TxKind = "hold"
	KindCapture     TxKind = "capture"
	KindVoid        TxKind = "void"
	KindRefund      TxKind = "refund"
	KindPayout      TxKind = "payout"
	KindFee         TxKind = "fee"
	KindWalletTopUp TxKind = "wallet_topup"
	KindAdjustment  TxKind = "adjustment"
)

// Valid reports whether k is a known transaction kind.
func (k TxKind) Valid() bool {
	switch k {
	case KindHold, KindCapture, KindVoid, KindRefund, KindPayout, KindFee, KindWalletTopUp, KindAdjustment:
		return true
	}
	return false
}

// Entry is one line of a transaction.
type Entry struct {
	Account Account
	Side    Side
	Amount  int64 // minor units, > 0
}

// Signed is the amount with debits positive and credits negative.
func (e Entry) Signed() int64 { return int64(e.Side) * e.Amount }

// Transaction is a balanced set of entries recording one business event.
type Transaction struct {
	ID        int64  // assigned when stored
	Key       string // idempotency key, unique in the ledger
	Kind      TxKind
	Reference string // what it is about: a session id, a payment id
	// Status is Pending for a new hold and Posted for anything else. A
	// stored hold reads as Pending, Posted (captured) or Voided.
	Status Status
	// Resolves is the key of the hold a capture posts or a void voids.
	Resolves  string
	CreatedAt time.Time // assigned when stored
	Entries   []Entry
	// Guard lists accounts whose available balance must not go below zero
	// once this transaction is applied (wallets debited are always
	// guarded). Checked when posting, not stored.
	Guard []Account
}

// Result is what posting a transaction did.
type Result struct {
	// Tx is the transaction as stored, with its ID and CreatedAt. For a
	// replay it is the transaction first stored under the key, with its
	// current status.
	Tx Transaction
	// Replayed: the key was already in the ledger; nothing was written.
	Replayed bool
}

// Posting is an entry as listed by account, with its transaction.
type Posting struct {
	EntryID   int64
	TxID      int64
	Key       string
	Kind      TxKind
	Reference string
	Status    Status
	CreatedAt time.Time
	Entry
}

// Validate checks a transaction about to be posted: valid text, accounts
// and amounts, balanced in every currency, and the rules of its kind.
func (t Transaction) Validate() error { return t.validate(false) }

// validate: stored is true for a transaction read back from the ledger,
// whose hold may since have been posted or voided.
func (t Transaction) validate(stored bool) error {
	if t.Key == "" {
		return fmt.Errorf("%w: idempotency key is empty", ErrInvalid)
	}
	if err := checkText("idempotency key", t.Key); err != nil {
		return err
	}
	if err := checkText("reference", t.Reference); err != nil {
		return err
	}
	if !t.Kind.Valid() {
		return fmt.Errorf("%w: %s: unknown kind %q", ErrInvalid, t.Key, t.Kind)
	}
	switch {
	case t.Kind == KindHold && stored:
		if t.Status != Pending && t.Status != Posted && t.Status != Voided {
			return fmt.Errorf("%w: %s: hold status %q", ErrInvalid, t.Key, t.Status)
		}
	case t.Kind == KindHold:
		if t.Status != Pending {
			return fmt.Errorf("%w: %s: a new hold is pending, not %q", ErrInvalid, t.Key, t.Status)
		}
	case t.Status != Posted:
		return fmt.Errorf("%w: %s: only a hold can be %q", ErrInvalid, t.Key, t.Status)
	}
	resolves := t.Kind == KindCapture || t.Kind == KindVoid
	if resolves != (t.Resolves != "") {
		if resolves {
			return fmt.Errorf("%w: %s: a %s must name the hold it resolves", ErrInvalid, t.Key, t.Kind)
		}
		return fmt.Errorf("%w: %s: only a capture or a void resolves a hold", ErrInvalid, t.Key)
	}
	if t.Resolves != "" {
		if err := checkText("resolved hold key", t.Resolves); err != nil {
			return err
		}
		if t.Resolves == t.Key {
			return fmt.Errorf("%w: %s resolves itself", ErrInvalid, t.Key)
		}
	}
	if len(t.Entries) > MaxEntries {
		return fmt.Errorf("%w: %s: %d entries (at most %d)", ErrInvalid, t.Key, len(t.Entries), MaxEntries)
	}
	if t.Kind == KindVoid {
		if len(t.Entries) != 0 {
			return fmt.Errorf("%w: %s: a void books no entries", ErrInvalid, t.Key)
		}
	} else if len(t.Entries) == 0 {
		return fmt.Errorf("%w: %s has no entries", ErrInvalid, t.Key)
	}
	sums := map[string]int64{}
	for i, e := range t.Entries {
		if err := e.Account.Validate(); err != nil {
			return fmt.Errorf("%w (%s, entry %d)", err, t.Key, i)
		}
		if e.Side != Debit && e.Side != Credit {
			return fmt.Errorf("%w: %s: entry %d has no side", ErrInvalid, t.Key, i)
		}
		if e.Amount <= 0 || e.Amount > MaxAmount {
			return fmt.Errorf("%w: %s: entry %d amount %d is not in 1..%d", ErrInvalid, t.Key, i, e.Amount, MaxAmount)
		}
		if e.Account.Kind == InFlight && t.Kind != KindHold && t.Kind != KindCapture {
			return fmt.Errorf("%w: %s: a %s cannot touch in-flight account %s", ErrInvalid, t.Key, t.Kind, e.Account)
		}
		sums[e.Account.Currency] += e.Signed()
	}
	for _, c := range slices.Sorted(maps.Keys(sums)) {
		if sums[c] != 0 {
			return fmt.Errorf("%w: %w: %s: debits exceed credits by %d %s", ErrInvalid, ErrUnbalanced, t.Key, sums[c], c)
		}
	}
	if t.Kind == KindHold {
		if len(t.Entries) != 2 {
			return fmt.Errorf("%w: %s: a hold has exactly two entries", ErrInvalid, t.Key)
		}
		if _, _, ok := t.holdLegs(); !ok {
			return fmt.Errorf("%w: %s: a hold debits a funding account (provider_clearing, operator_merchant, wallet) and credits an in_flight account", ErrInvalid, t.Key)
		}
	}
	for _, a := range t.Guard {
		if err := a.Validate(); err != nil {
			return fmt.Errorf("%w (%s, guard)", err, t.Key)
		}
	}
	return nil
}

// holdLegs returns a hold's funding debit and in-flight credit.
func (t Transaction) holdLegs() (funding, inFlight Entry, ok bool) {
	if len(t.Entries) != 2 {
		return Entry{}, Entry{}, false
	}
	for _, e := range t.Entries {
		switch {
		case e.Side == Debit && e.Account.Kind.Funding():
			funding = e
		case e.Side == Credit && e.Account.Kind == InFlight:
			inFlight = e
		}
	}
	ok = funding.Amount > 0 && inFlight.Amount > 0 && funding.Amount == inFlight.Amount
	return funding, inFlight, ok
}

// Guards returns the accounts whose available balance must not go below
// zero after t: t.Guard and every wallet t debits, sorted, without
// duplicates.
func (t Transaction) Guards() []Account {
	out := slices.Clone(t.Guard)
	for _, e := range t.Entries {
		if e.Account.Kind == Wallet && e.Side == Debit {
			out = append(out, e.Account)
		}
	}
	slices.SortFunc(out, Account.Compare)
	return slices.Compact(out)
}

// Fingerprint identifies the content of t: its key, kind, reference,
// status (as posted), resolved hold and entries in order. Posting under a
// used key is a replay only if the fingerprints are equal.
func (t Transaction) Fingerprint() []byte {
	h := sha256.New()
	var buf []byte
	str := func(s string) {
		buf = binary.AppendUvarint(buf[:0], uint64(len(s)))
		buf = append(buf, s...)
		h.Write(buf)
	}
	str("ledger-v1")
	str(t.Key)
	str(string(t.Kind))
	str(t.Reference)
	status := t.Status
	if t.Kind == KindHold {
		status = Pending // a stored hold may have moved on; it was posted pending
	}
	str(string(status))
	str(t.Resolves)
	for _, e := range t.Entries {
		str(string(e.Account.Kind))
		str(e.Account.Owner)
		str(e.Account.Currency)
		buf = binary.AppendVarint(buf[:0], e.Signed())
		h.Write(buf)
	}
	return h.Sum(nil)
}

// Effects returns how applying t changes the balance of each account it
// touches, sorted by account. hold is the stored hold that t resolves (nil
// unless t is a capture or a void): a capture moves the hold's entries from
// pending to posted, a void removes them from pending.
func Effects(t Transaction, hold *Transaction) ([]Balance, error) {
	if (hold != nil) != (t.Resolves != "") || (hold != nil && hold.Key != t.Resolves) {
		return nil, fmt.Errorf("%w: %s: effects need exactly the hold it resolves", ErrInvalid, t.Key)
	}
	byAcct := map[Account]*Balance{}
	get := func(a Account) *Balance {
		b := byAcct[a]
		if b == nil {
			b = &Balance{Account: a}
			byAcct[a] = b
		}
		return b
	}
	add := func(e Entry, st Status, sign int64) {
		b := get(e.Account)
		amt := sign * e.Amount
		switch {
		case st == Pending && e.Side == Debit:
			b.DebitsPending += amt
		case st == Pending:
			b.CreditsPending += amt
		case e.Side == Debit:
			b.DebitsPosted += amt
		default:
			b.CreditsPosted += amt
		}
	}
	if hold != nil {
		for _, e := range hold.Entries {
			add(e, Pending, -1)
			if t.Kind == KindCapture {
				add(e, Posted, 1)
			}
		}
	}
	for _, e := range t.Entries {
		add(e, t.Status, 1)
	}
	out := make([]Balance, 0, len(byAcct))
	for _, b := range byAcct {
		out = append(out, *b)
	}
	slices.SortFunc(out, func(a, b Balance) int { return a.Account.Compare(b.Account) })
	return out, nil
}

// CheckFunds checks t's guards (Guards): with before returning an
// account's current balance and effects from Effects, no guarded account
// may end with a negative available balance. A guarded account t does not
// change is not checked.
func CheckFunds(t Transaction, before func(Account) Balance, effects []Balance) error {
	for _, a := range t.Guards() {
		i := slices.IndexFunc(effects, func(b Balance) bool { return b.Account == a })
		if i < 0 {
			continue
		}
		after := before(a).Add(effects[i])
		after.Account = a
		if avail := after.Available(); avail < 0 {
			return fmt.Errorf("%w: %s: %s would be short by %d %s", ErrInsufficientFunds, t.Key, a, -avail, a.Currency)
		}
	}
	return nil
}

// clone returns a deep copy of t.
func (t Transaction) clone() Transaction {
	t.Entries = slices.Clone(t.Entries)
	t.Guard = slices.Clone(t.Guard)
	return t
}

// String renders t on one line, for logs and test failures.
func (t Transaction) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s", t.Kind, t.Key, t.Status)
	if t.Reference != "" {
		fmt.Fprintf(&b, " ref=%s", t.Reference)
	}
	if t.Resolves != "" {
		fmt.Fprintf(&b, " resolves=%s", t.Resolves)
	}
	for _, e := range t.Entries {
		d := "Dr"
		if e.Side == Credit {
			d = "Cr"
		}
		fmt.Fprintf(&b, " [%s %s %d]", d, e.Account, e.Amount)
	}
	return b.String()
}
