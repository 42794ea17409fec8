package ledger

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// InvariantError lists the invariants a ledger breaks.
type InvariantError struct {
	Violations []string
}

func (e *InvariantError) Error() string {
	return fmt.Sprintf("ledger: %d invariant violation(s): %s", len(e.Violations), strings.Join(e.Violations, "; "))
}

// maxViolations bounds what an InvariantError lists.
const maxViolations = 50

type violations []string

func (v *violations) add(format string, args ...any) {
	if len(*v) < maxViolations {
		*v = append(*v, fmt.Sprintf(format, args...))
	}
}

func (v violations) err() error {
	if len(v) == 0 {
		return nil
	}
	return &InvariantError{Violations: v}
}

// Check verifies the ledger's invariants (see the package documentation)
// over all of its transactions, as stored (holds with their current
// status), and all of its account balances, as stored. It returns nil or
// an *InvariantError.
func Check(txs []Transaction, balances []Balance) error {
	var v violations
	byKey := make(map[string]*Transaction, len(txs))
	ids := make(map[int64]bool, len(txs))
	sums := map[[2]string]int64{} // (currency, status) → Σ signed amounts
	computed := map[Account]Balance{}
	for i := range txs {
		t := &txs[i]
		if err := t.validate(true); err != nil {
			v.add("%v", err)
		}
		if byKey[t.Key] != nil {
			v.add("idempotency key %q used twice", t.Key)
		}
		byKey[t.Key] = t
		if t.ID != 0 {
			if ids[t.ID] {
				v.add("transaction id %d used twice", t.ID)
			}
			ids[t.ID] = true
		}
		for _, e := range t.Entries {
			sums[[2]string{e.Account.Currency, string(t.Status)}] += e.Signed()
			b := computed[e.Account]
			b.Account = e.Account
			switch {
			case t.Status == Voided:
			case t.Status == Pending && e.Side == Debit:
				b.DebitsPending += e.Amount
			case t.Status == Pending:
				b.CreditsPending += e.Amount
			case e.Side == Debit:
				b.DebitsPosted += e.Amount
			default:
				b.CreditsPosted += e.Amount
			}
			computed[e.Account] = b
		}
	}
	for _, k := range slices.SortedFunc(maps.Keys(sums), func(a, b [2]string) int { return strings.Compare(a[0]+a[1], b[0]+b[1]) }) {
		if sums[k] != 0 {
			v.add("%s entries in %s net to %d, not 0", k[1], k[0], sums[k])
		}
	}

	// Holds move forward once, and exactly one capture or void says how.
	resolvedBy := map[string]*Transaction{}
	for i := range txs {
		r := &txs[i]
		if r.Resolves == "" {
			continue
		}
		h := byKey[r.Resolves]
		switch {
		case h == nil:
			v.add("%s %s resolves unknown hold %q", r.Kind, r.Key, r.Resolves)
		case h.Kind != KindHold:
			v.add("%s %s resolves %s, a %s", r.Kind, r.Key, h.Key, h.Kind)
		case resolvedBy[h.Key] != nil:
			v.add("hold %s resolved twice: by %s and %s", h.Key, resolvedBy[h.Key].Key, r.Key)
		}
		if resolvedBy[r.Resolves] == nil {
			resolvedBy[r.Resolves] = r
		}
	}
	for i := range txs {
		h := &txs[i]
		if h.Kind != KindHold {
			continue
		}
		r := resolvedBy[h.Key]
		switch {
		case h.Status == Pending && r != nil:
			v.add("hold %s is pending but %s %s resolved it", h.Key, r.Kind, r.Key)
		case h.Status == Posted && (r == nil || r.Kind != KindCapture):
			v.add("hold %s is posted without a capture", h.Key)
		case h.Status == Voided && (r == nil || r.Kind != KindVoid):
			v.add("hold %s is voided without a void", h.Key)
		}
	}

	// Stored balances are the sums of the entries.
	stored := map[Account]Balance{}
	for _, b := range balances {
		if _, dup := stored[b.Account]; dup {
			v.add("account %s listed twice", b.Account)
		}
		stored[b.Account] = b
		if b.DebitsPosted < 0 || b.CreditsPosted < 0 || b.DebitsPending < 0 || b.CreditsPending < 0 {
			v.add("account %s has a negative sum: %+v", b.Account, b)
		}
	}
	all := slices.SortedFunc(maps.Keys(computed), Account.Compare)
	for a := range stored {
		if _, ok := computed[a]; !ok {
			all = append(all, a)
		}
	}
	for _, a := range all {
		c, s := computed[a], stored[a]
		c.Account, s.Account = a, a
		if c != s {
			v.add("account %s: stored %s, entries sum to %s", a, sumsString(s), sumsString(c))
		}
		if a.Kind == InFlight && c.Posted() != 0 {
			v.add("in-flight account %s has posted balance %d, not 0", a, c.Posted())
		}
		if a.Kind == Wallet && c.Available() < 0 {
			v.add("wallet %s is overdrawn: available %d", a, c.Available())
		}
	}
	return v.err()
}

func sumsString(b Balance) string {
	return fmt.Sprintf("posted Dr %d Cr %d, pending Dr %d Cr %d", b.DebitsPosted, b.CreditsPosted, b.DebitsPending, b.CreditsPending)
}
