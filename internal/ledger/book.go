package ledger

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"time"
)

// Book is an in-memory ledger with the store's semantics: idempotent
// posting by key, holds resolved once, guards, maintained balances. It is
// the reference model the store's tests compare against, and a fake for
// tests of code that uses the ledger. It is not safe for concurrent use.
type Book struct {
	txs   []Transaction // by ID-1, with current statuses
	fps   [][]byte
	byKey map[string]int
	bal   map[Account]Balance
	now   func() time.Time
}

// NewBook returns an empty book whose transactions are stamped by now (nil:
// time.Now).
func NewBook(now func() time.Time) *Book {
	if now == nil {
		now = time.Now
	}
	return &Book{byKey: map[string]int{}, bal: map[Account]Balance{}, now: now}
}

// Post applies a hold or a plain transaction (not a capture or void: see
// Capture and Void).
func (b *Book) Post(t Transaction) (Result, error) {
	if t.Resolves != "" {
		return Result{}, fmt.Errorf("%w: %s: post a capture or void with Capture or Void", ErrInvalid, t.Key)
	}
	if err := t.Validate(); err != nil {
		return Result{}, err
	}
	return b.apply(t, nil)
}

// Capture captures the hold with key holdKey.
func (b *Book) Capture(holdKey string, p CaptureParams) (Result, error) {
	h, err := b.holdFor(holdKey)
	if err != nil {
		return Result{}, err
	}
	t, err := Capture(*h, p)
	if err != nil {
		return Result{}, err
	}
	return b.apply(t, h)
}

// Void voids the hold with key holdKey.
func (b *Book) Void(holdKey string, p VoidParams) (Result, error) {
	h, err := b.holdFor(holdKey)
	if err != nil {
		return Result{}, err
	}
	t, err := Void(*h, p)
	if err != nil {
		return Result{}, err
	}
	return b.apply(t, h)
}

func (b *Book) holdFor(key string) (*Transaction, error) {
	i, ok := b.byKey[key]
	if !ok || b.txs[i].Kind != KindHold {
		return nil, fmt.Errorf("%w: %q", ErrUnknownHold, key)
	}
	return &b.txs[i], nil
}

// apply is the store's postLedger, in memory.
func (b *Book) apply(t Transaction, hold *Transaction) (Result, error) {
	fp := t.Fingerprint()
	if i, ok := b.byKey[t.Key]; ok {
		if !bytes.Equal(b.fps[i], fp) {
			return Result{}, fmt.Errorf("%w: %q", ErrKeyReused, t.Key)
		}
		return Result{Tx: b.txs[i].clone(), Replayed: true}, nil
	}
	if hold != nil && hold.Status != Pending {
		return Result{}, fmt.Errorf("%w: %s is %s", ErrNotPending, hold.Key, hold.Status)
	}
	eff, err := Effects(t, hold)
	if err != nil {
		return Result{}, err
	}
	if err := CheckFunds(t, b.Balance, eff); err != nil {
		return Result{}, err
	}
	if hold != nil {
		if t.Kind == KindCapture {
			hold.Status = Posted
		} else {
			hold.Status = Voided
		}
	}
	for _, d := range eff {
		b.bal[d.Account] = b.Balance(d.Account).Add(d)
	}
	t = t.clone()
	t.Guard = nil
	t.ID = int64(len(b.txs) + 1)
	t.CreatedAt = b.now().UTC()
	b.txs = append(b.txs, t)
	b.fps = append(b.fps, fp)
	b.byKey[t.Key] = len(b.txs) - 1
	return Result{Tx: t.clone()}, nil
}

// Transaction returns the transaction stored under key.
func (b *Book) Transaction(key string) (Transaction, bool) {
	i, ok := b.byKey[key]
	if !ok {
		return Transaction{}, false
	}
	return b.txs[i].clone(), true
}

// Transactions returns every transaction in the order posted.
func (b *Book) Transactions() []Transaction {
	out := make([]Transaction, len(b.txs))
	for i, t := range b.txs {
		out[i] = t.clone()
	}
	return out
}

// Balance returns an account's balance (zero if it has no entries).
func (b *Book) Balance(a Account) Balance {
	bal := b.bal[a]
	bal.Account = a
	return bal
}

// Balances returns every account's balance, sorted by account.
func (b *Book) Balances() []Balance {
	out := make([]Balance, 0, len(b.bal))
	for _, a := range slices.SortedFunc(maps.Keys(b.bal), Account.Compare) {
		out = append(out, b.Balance(a))
	}
	return out
}

// Check runs Check over the book.
func (b *Book) Check() error { return Check(b.txs, b.Balances()) }
