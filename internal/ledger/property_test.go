package ledger

import (
	"errors"
	"slices"
	"testing"
)

// TestWorkloadKeepsInvariants runs random operations on a Book and checks
// the invariants after every one, that replays change nothing, and that
// once every hold is voided or captured nothing is pending and nothing is
// left in flight.
func TestWorkloadKeepsInvariants(t *testing.T) {
	for seed := range uint64(10) {
		b := NewBook(nil)
		w := NewWorkload(seed)
		outcomes := map[string]int{}
		for i := range 300 {
			op := w.Next(b)
			before := b.Balances()
			r, err := b.Apply(op)
			w.Done(op, err)
			switch {
			case err == nil && r.Replayed:
				outcomes["replayed"]++
				if !slices.Equal(before, b.Balances()) {
					t.Fatalf("seed %d op %d: replay changed balances: %v", seed, i, op)
				}
			case err == nil:
				outcomes["applied"]++
			case errors.Is(err, ErrInvalid), errors.Is(err, ErrNotPending), errors.Is(err, ErrInsufficientFunds),
				errors.Is(err, ErrKeyReused):
				outcomes["refused"]++
				if !slices.Equal(before, b.Balances()) {
					t.Fatalf("seed %d op %d: refused op changed balances: %v: %v", seed, i, op, err)
				}
			default:
				t.Fatalf("seed %d op %d: %v: unexpected error %v", seed, i, op, err)
			}
			if op.Replay && (err != nil || !r.Replayed) {
				t.Fatalf("seed %d op %d: replay of %v: %+v, %v", seed, i, op, r, err)
			}
			if err := b.Check(); err != nil {
				t.Fatalf("seed %d op %d (%v): %v", seed, i, op, err)
			}
		}
		if outcomes["applied"] < 80 || outcomes["refused"] == 0 || outcomes["replayed"] == 0 {
			t.Errorf("seed %d: a weak workload: %v", seed, outcomes)
		}
		// resolve every hold: nothing pending, nothing in flight
		for _, h := range b.Transactions() {
			if h.Kind == KindHold && h.Status == Pending {
				must(b.Void(h.Key, VoidParams{Key: "final-void:" + h.Key}))(t)
			}
		}
		for _, bal := range b.Balances() {
			if bal.DebitsPending != 0 || bal.CreditsPending != 0 {
				t.Errorf("seed %d: %s still pending: %+v", seed, bal.Account, bal)
			}
			if bal.Account.Kind == InFlight && (bal.Posted() != 0) {
				t.Errorf("seed %d: money left in flight: %+v", seed, bal)
			}
		}
		if err := b.Check(); err != nil {
			t.Fatal(err)
		}
	}
}
