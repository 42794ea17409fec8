package ledger

import (
	"fmt"
	"math/rand/v2"
	"slices"
)

// Op is one ledger operation: a Post, or a Capture or Void of the hold
// HoldKey.
type Op struct {
	Post    *Transaction
	HoldKey string
	Capture *CaptureParams
	Void    *VoidParams
	// Replay: the op repeats one that succeeded, so it must be a replay.
	Replay bool
}

func (op Op) String() string {
	switch {
	case op.Post != nil:
		return "post " + op.Post.String()
	case op.Capture != nil:
		return fmt.Sprintf("capture %s %+v", op.HoldKey, *op.Capture)
	case op.Void != nil:
		return fmt.Sprintf("void %s %+v", op.HoldKey, *op.Void)
	}
	return "empty op"
}

// Apply runs op on the book.
func (b *Book) Apply(op Op) (Result, error) {
	switch {
	case op.Post != nil:
		return b.Post(*op.Post)
	case op.Capture != nil:
		return b.Capture(op.HoldKey, *op.Capture)
	case op.Void != nil:
		return b.Void(op.HoldKey, *op.Void)
	}
	return Result{}, fmt.Errorf("%w: empty op", ErrInvalid)
}

// Workload generates random ledger operations for property and
// crash-safety tests: top-ups, holds funded every way, full and partial
// captures, voids, refunds, payouts, fee collection, and operations meant
// to fail (capturing more than held or a resolved hold, overdrawing a
// wallet or a payable, reusing a key) or to be replays.
type Workload struct {
	rng  *rand.Rand
	n    int
	done []Op // ops that succeeded, for replays
}

// NewWorkload returns a workload generator seeded with seed.
func NewWorkload(seed uint64) *Workload {
	return &Workload{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// The workload's small world.
var (
	wlCurrencies = []string{"AUD", "NZD"}
	wlOperators  = []string{"op_a", "op_b"}
	wlProviders  = []string{"sandbox", "stripe"}
	wlDrivers    = []string{"drv_1", "drv_2", "drv_3"}
)

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// Done records the outcome of an op Next returned.
func (w *Workload) Done(op Op, err error) {
	if err == nil && !op.Replay {
		w.done = append(w.done, op)
	}
}

func (w *Workload) key(prefix string) string {
	w.n++
	return fmt.Sprintf("%s:%d", prefix, w.n)
}

// Next returns an operation chosen from the state of b, which must be the
// book (or a mirror of the ledger) the workload's ops were applied to.
func (w *Workload) Next(b *Book) Op {
	r := w.rng
	txs := b.Transactions()
	var holds, captures []Transaction
	for _, t := range txs {
		switch t.Kind {
		case KindHold:
			holds = append(holds, t)
		case KindCapture:
			captures = append(captures, t)
		}
	}
	pending := slices.DeleteFunc(slices.Clone(holds), func(t Transaction) bool { return t.Status != Pending })
	cur := pick(r, wlCurrencies)
	amount := func(max int64) int64 { return 1 + r.Int64N(max) }

	// An op that needs state the book does not have yet (a hold to
	// capture) falls through to the next case that applies.
	switch x := r.IntN(100); {
	case x < 5 && len(w.done) > 0: // replay
		op := pick(r, w.done)
		op.Replay = true
		return op
	case x < 8 && len(w.done) > 0: // the same key for something else
		op := pick(r, w.done)
		key := ""
		switch {
		case op.Post != nil:
			key = op.Post.Key
		case op.Capture != nil:
			key = op.Capture.Key
		default:
			key = op.Void.Key
		}
		t, err := ProviderFee(FeeParams{Key: key, Provider: "sandbox", Currency: cur, Amount: amount(100)})
		if err != nil {
			panic(err)
		}
		return Op{Post: &t}
	case x < 22:
		t, err := WalletTopUp(TopUpParams{Key: w.key("topup"), Wallet: WalletAccount(pick(r, wlDrivers), cur),
			Provider: pick(r, wlProviders), Amount: amount(20000), ProviderFee: r.Int64N(50)})
		if err != nil {
			panic(err)
		}
		return Op{Post: &t}
	case x < 45:
		var funding Account
		switch r.IntN(4) {
		case 0:
			funding = OperatorMerchantAccount(pick(r, wlOperators), cur)
		case 1:
			funding = WalletAccount(pick(r, wlDrivers), cur)
		default:
			funding = ProviderClearingAccount(pick(r, wlProviders), cur)
		}
		key := w.key("hold")
		t, err := Hold(HoldParams{Key: key, Reference: "ses_" + key, Payment: "pay_" + key, Funding: funding, Amount: amount(10000)})
		if err != nil {
			panic(err)
		}
		return Op{Post: &t}
	case x < 70 && len(holds) > 0:
		h := pick(r, holds)
		if len(pending) > 0 && r.IntN(5) > 0 {
			h = pick(r, pending)
		}
		f, in, _ := h.holdLegs()
		gross := in.Amount - r.Int64N(in.Amount)
		if r.IntN(20) == 0 {
			gross = in.Amount + 1 // more than held
		}
		s := randomSplit(r, gross, f.Account.Kind == ProviderClearing)
		p := CaptureParams{Key: w.key("capture"), Split: s}
		if SettlementOf(h) == Platform {
			p.Operator = pick(r, wlOperators)
		}
		return Op{HoldKey: h.Key, Capture: &p}
	case x < 78 && len(holds) > 0:
		h := pick(r, holds)
		if len(pending) > 0 && r.IntN(5) > 0 {
			h = pick(r, pending)
		}
		return Op{HoldKey: h.Key, Void: &VoidParams{Key: w.key("void")}}
	case x < 88 && len(captures) > 0:
		c := pick(r, captures)
		h, _ := b.Transaction(c.Resolves)
		f, _, _ := h.holdLegs()
		p := RefundParams{Key: w.key("refund"), Reference: c.Reference, Via: f.Account}
		var captured Split
		for _, e := range c.Entries {
			switch e.Account.Kind {
			case TaxPayable:
				captured.Tax, p.Operator = e.Amount, e.Account.Owner
			case OperatorPayable:
				captured.Net, p.Operator = e.Amount, e.Account.Owner
			case PlatformFees:
				captured.PlatformFee = e.Amount
			}
		}
		if p.Operator == "" && SettlementOf(h) == Platform {
			p.Operator = pick(r, wlOperators)
		}
		p.Split = Split{Tax: r.Int64N(captured.Tax + 1), PlatformFee: r.Int64N(captured.PlatformFee + 1), Net: r.Int64N(captured.Net + 1)}
		if p.Split == (Split{}) {
			p.Split.PlatformFee = 1
		}
		t, err := Refund(p)
		if err != nil {
			return w.Next(b) // nothing to refund here
		}
		return Op{Post: &t}
	case x < 95:
		op := pick(r, wlOperators)
		owed := b.Balance(OperatorPayableAccount(op, cur)).Available()
		tax := b.Balance(TaxPayableAccount(op, cur)).Available()
		p := PayoutParams{Key: w.key("payout"), Operator: op, From: ProviderClearingAccount(pick(r, wlProviders), cur),
			Net: r.Int64N(max(owed, 0) + 2), Tax: r.Int64N(max(tax, 0) + 1)}
		if p.Net+p.Tax == 0 {
			p.Net = 1
		}
		t, err := Payout(p)
		if err != nil {
			panic(err)
		}
		return Op{Post: &t}
	default:
		op := pick(r, wlOperators)
		owed := b.Balance(OperatorMerchantAccount(op, cur)).Available()
		t, err := CollectFee(CollectFeeParams{Key: w.key("collect"), Operator: op, Provider: pick(r, wlProviders),
			Currency: cur, Amount: 1 + r.Int64N(max(owed, 0)+1)})
		if err != nil {
			panic(err)
		}
		return Op{Post: &t}
	}
}

// randomSplit divides gross at random; a provider fee only if allowed.
func randomSplit(r *rand.Rand, gross int64, providerFee bool) Split {
	var s Split
	rest := gross
	take := func() int64 {
		v := r.Int64N(rest/3 + 1)
		rest -= v
		return v
	}
	s.Tax = take()
	s.PlatformFee = take()
	if providerFee {
		s.ProviderFee = take()
	}
	s.Net = rest
	return s
}
