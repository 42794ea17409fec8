package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chargestar/chargestar/internal/ledger"
	"github.com/jackc/pgx/v5/pgconn"
)

// testLedger runs the ledger's tests, each on a fresh database of the
// harness's backend.
func testLedger(t *testing.T, h *harness) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, h *harness)
	}{
		{"BalancedOnly", testLedgerBalancedOnly},
		{"Idempotent", testLedgerIdempotent},
		{"IdempotentConcurrent", testLedgerIdempotentConcurrent},
		{"HoldResolvedOnce", testLedgerHoldResolvedOnce},
		{"PlatformSettlement", testLedgerPlatformSettlement},
		{"DirectSettlement", testLedgerDirectSettlement},
		{"Wallet", testLedgerWallet},
		{"TwoInstances", testLedgerTwoInstances},
		{"InstanceRaces", testLedgerInstanceRaces},
		{"DeadlockRetried", testLedgerDeadlockRetried},
		{"TransientErrorsRetried", testLedgerTransientErrorsRetried},
		{"AppendOnlyInSQL", testLedgerAppendOnlyInSQL},
		{"CheckDetectsCorruption", testLedgerCheckDetectsCorruption},
		{"MatchesModel", testLedgerMatchesModel},
		{"IntegerColumns", testLedgerIntegerColumns},
		{"MigrateDown", testLedgerMigrateDown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newHarness(t, h.backend))
		})
	}
}

const ldgAUD = "AUD"

var (
	ldgSandbox  = ledger.ProviderClearingAccount("sandbox", ldgAUD)
	ldgPayable  = ledger.OperatorPayableAccount("op_1", ldgAUD)
	ldgTax      = ledger.TaxPayableAccount("op_1", ldgAUD)
	ldgFees     = ledger.PlatformFeesAccount(ldgAUD)
	ldgProvFees = ledger.ProviderFeesAccount("sandbox", ldgAUD)
	ldgRefunds  = ledger.RefundsAccount(ldgAUD)
	ldgMerchant = ledger.OperatorMerchantAccount("op_1", ldgAUD)
	ldgWallet   = ledger.WalletAccount("drv_1", ldgAUD)
)

func ldgHold(t testing.TB, key string, funding ledger.Account, amount int64) ledger.Transaction {
	t.Helper()
	return must(ledger.Hold(ledger.HoldParams{Key: key, Reference: "ses_" + key, Payment: "pay_" + key, Funding: funding, Amount: amount}))(t)
}

func ldgDr(a ledger.Account, amount int64) ledger.Entry {
	return ledger.Entry{Account: a, Side: ledger.Debit, Amount: amount}
}

func ldgCr(a ledger.Account, amount int64) ledger.Entry {
	return ledger.Entry{Account: a, Side: ledger.Credit, Amount: amount}
}

func wantLedgerErr(t *testing.T, what string, err error, want ...error) {
	t.Helper()
	for _, w := range want {
		if !errors.Is(err, w) {
			t.Fatalf("%s: got %v, want %v", what, err, w)
		}
	}
}

// postedBalances returns the posted balance of each account.
func postedBalances(t *testing.T, s *Store, accts ...ledger.Account) []int64 {
	t.Helper()
	out := make([]int64, len(accts))
	for i, a := range accts {
		out[i] = must(s.LedgerBalance(context.Background(), a))(t).Posted()
	}
	return out
}

// checkLedger runs CheckLedger and, as an independent check, ledger.Check
// over a snapshot of everything stored.
func checkLedger(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	if err := s.CheckLedger(ctx); err != nil {
		t.Fatalf("CheckLedger: %v", err)
	}
	txs, bals, err := s.ledgerSnapshot(ctx)
	check(t, err)
	if err := ledger.Check(txs, bals); err != nil {
		t.Fatalf("ledger.Check: %v", err)
	}
}

func ledgerRows(t *testing.T, s *Store, table string) int {
	t.Helper()
	var n int
	check(t, s.rdb.QueryRowContext(context.Background(), `SELECT count(*) FROM `+table).Scan(&n))
	return n
}

func testLedgerBalancedOnly(t *testing.T, h *harness) {
	ctx := context.Background()
	s := h.open(Options{})
	adj := ledger.Transaction{Key: "adj:1", Kind: ledger.KindAdjustment, Status: ledger.Posted, Reference: "fix",
		Entries: []ledger.Entry{ldgDr(ldgPayable, 250), ldgCr(ldgFees, 200), ldgCr(ldgRefunds, 50)}}
	r := must(s.PostLedger(ctx, adj))(t)
	if r.Replayed || r.Tx.ID == 0 || r.Tx.CreatedAt.IsZero() {
		t.Fatalf("first post: %+v", r)
	}
	if got := postedBalances(t, s, ldgPayable, ldgFees, ldgRefunds); !slices.Equal(got, []int64{-250, 200, -50}) {
		t.Errorf("balances %v", got)
	}
	for name, mod := range map[string]func(*ledger.Transaction){
		"debits exceed credits": func(x *ledger.Transaction) { x.Entries[0].Amount = 251 },
		"one-sided":             func(x *ledger.Transaction) { x.Entries[1].Side, x.Entries[2].Side = ledger.Debit, ledger.Debit },
		"across currencies": func(x *ledger.Transaction) {
			x.Entries[2].Account = ledger.RefundsAccount("NZD")
		},
	} {
		bad := adj
		bad.Key = "adj:" + name
		bad.Entries = slices.Clone(adj.Entries)
		mod(&bad)
		_, err := s.PostLedger(ctx, bad)
		wantLedgerErr(t, name, err, ledger.ErrInvalid, ledger.ErrUnbalanced)
	}
	_, err := s.PostLedger(ctx, ledger.Transaction{Key: "adj:float", Kind: ledger.KindAdjustment, Status: ledger.Posted,
		Entries: []ledger.Entry{ldgDr(ldgPayable, 0), ldgCr(ldgFees, 0)}})
	wantLedgerErr(t, "zero amounts", err, ledger.ErrInvalid)
	if n := ledgerRows(t, s, "ledger_transactions"); n != 1 {
		t.Errorf("%d transactions stored, want 1", n)
	}
	if n := ledgerRows(t, s, "ledger_entries"); n != 3 {
		t.Errorf("%d entries stored, want 3", n)
	}
	// a capture cannot sneak in through PostLedger
	_, err = s.PostLedger(ctx, ledger.Transaction{Key: "c", Kind: ledger.KindVoid, Status: ledger.Posted, Resolves: "h"})
	wantLedgerErr(t, "void through PostLedger", err, ledger.ErrInvalid)
	checkLedger(t, s)
}

func testLedgerIdempotent(t *testing.T, h *harness) {
	ctx := context.Background()
	s := h.open(Options{})
	hold := ldgHold(t, "hold:1", ldgSandbox, 5000)
	first := must(s.PostLedger(ctx, hold))(t)
	again := must(s.PostLedger(ctx, hold))(t)
	if first.Replayed || !again.Replayed {
		t.Fatalf("replayed: first %v, again %v", first.Replayed, again.Replayed)
	}
	if !reflect.DeepEqual(first.Tx, again.Tx) {
		t.Errorf("replay returned\n%+v\nwant the first result\n%+v", again.Tx, first.Tx)
	}
	if got := must(s.LedgerTransaction(ctx, "hold:1"))(t); !reflect.DeepEqual(got, first.Tx) {
		t.Errorf("LedgerTransaction = %+v", got)
	}
	_, err := s.PostLedger(ctx, ldgHold(t, "hold:1", ldgSandbox, 5001))
	wantLedgerErr(t, "same key, other amount", err, ErrConflict, ledger.ErrKeyReused)

	cp := ledger.CaptureParams{Key: "capture:1", Operator: "op_1", Split: ledger.Split{Tax: 100, PlatformFee: 100, Net: 800}}
	c1 := must(s.CapturePending(ctx, "hold:1", cp))(t)
	c2 := must(s.CapturePending(ctx, "hold:1", cp))(t)
	if c1.Replayed || !c2.Replayed || !reflect.DeepEqual(c1.Tx, c2.Tx) {
		t.Fatalf("capture replay:\n%+v\n%+v", c1, c2)
	}
	cp.Split.Net++
	_, err = s.CapturePending(ctx, "hold:1", cp)
	wantLedgerErr(t, "capture key reused with another amount", err, ErrConflict, ledger.ErrKeyReused)
	_, err = s.VoidPending(ctx, "hold:1", ledger.VoidParams{Key: "capture:1"})
	wantLedgerErr(t, "capture key reused for a void", err, ErrConflict, ledger.ErrKeyReused)
	// the hold's replay now reads as posted
	if r := must(s.PostLedger(ctx, hold))(t); !r.Replayed || r.Tx.Status != ledger.Posted {
		t.Errorf("hold replay after capture: %+v", r)
	}
	if got := postedBalances(t, s, ldgSandbox, ldgPayable); !slices.Equal(got, []int64{1000, 800}) {
		t.Errorf("balances after replays %v", got)
	}
	if n := ledgerRows(t, s, "ledger_transactions"); n != 2 {
		t.Errorf("%d transactions, want 2", n)
	}
	checkLedger(t, s)
}

// testLedgerIdempotentConcurrent: the same business event applied by many
// goroutines at once is one transaction, and every caller gets its result.
func testLedgerIdempotentConcurrent(t *testing.T, h *harness) {
	ctx := context.Background()
	s := h.open(Options{})
	const n = 32
	hold := ldgHold(t, "hold:c", ldgSandbox, 700)
	var (
		wg      sync.WaitGroup
		results [n]ledger.Result
		errs    [n]error
	)
	for i := range n {
		wg.Go(func() { results[i], errs[i] = s.PostLedger(ctx, hold) })
	}
	wg.Wait()
	fresh := 0
	for i := range n {
		check(t, errs[i])
		if !results[i].Replayed {
			fresh++
		}
		if results[i].Tx.ID != results[0].Tx.ID {
			t.Errorf("caller %d got transaction %d, caller 0 %d", i, results[i].Tx.ID, results[0].Tx.ID)
		}
	}
	if fresh != 1 {
		t.Errorf("%d callers applied the hold, want 1", fresh)
	}
	// the same capture, concurrently
	cp := ledger.CaptureParams{Key: "capture:c", Operator: "op_1", Split: ledger.Split{Net: 500}}
	for i := range n {
		wg.Go(func() { results[i], errs[i] = s.CapturePending(ctx, "hold:c", cp) })
	}
	wg.Wait()
	fresh = 0
	for i := range n {
		check(t, errs[i])
		if !results[i].Replayed {
			fresh++
		}
	}
	if fresh != 1 {
		t.Errorf("%d callers applied the capture, want 1", fresh)
	}
	if n := ledgerRows(t, s, "ledger_transactions"); n != 2 {
		t.Errorf("%d transactions, want 2", n)
	}
	if got := postedBalances(t, s, ldgPayable, ldgSandbox); !slices.Equal(got, []int64{500, 500}) {
		t.Errorf("balances %v", got)
	}
	checkLedger(t, s)
}

func testLedgerHoldResolvedOnce(t *testing.T, h *harness) {
	ctx := context.Background()
	s := h.open(Options{})
	for _, k := range []string{"h1", "h2", "h3"} {
		must(s.PostLedger(ctx, ldgHold(t, k, ldgSandbox, 1000)))(t)
	}
	split := ledger.Split{Net: 1000}
	must(s.CapturePending(ctx, "h1", ledger.CaptureParams{Key: "c1", Operator: "op_1", Split: split}))(t)
	_, err := s.CapturePending(ctx, "h1", ledger.CaptureParams{Key: "c1b", Operator: "op_1", Split: split})
	wantLedgerErr(t, "second capture", err, ErrConflict, ledger.ErrNotPending)
	_, err = s.VoidPending(ctx, "h1", ledger.VoidParams{Key: "v1"})
	wantLedgerErr(t, "void after capture", err, ErrConflict, ledger.ErrNotPending)

	v := must(s.VoidPending(ctx, "h2", ledger.VoidParams{Key: "v2"}))(t)
	if v.Tx.Reference != "ses_h2" || len(v.Tx.Entries) != 0 {
		t.Errorf("void: %+v", v.Tx)
	}
	_, err = s.CapturePending(ctx, "h2", ledger.CaptureParams{Key: "c2", Operator: "op_1", Split: split})
	wantLedgerErr(t, "capture after void", err, ErrConflict, ledger.ErrNotPending)
	_, err = s.VoidPending(ctx, "h2", ledger.VoidParams{Key: "v2b"})
	wantLedgerErr(t, "second void", err, ErrConflict, ledger.ErrNotPending)
	if b := must(s.LedgerBalance(ctx, ledger.InFlightAccount("pay_h2", ldgAUD)))(t); b.Account.Kind != ledger.InFlight || !b.IsZero() {
		t.Errorf("voided hold left %+v", b)
	}

	_, err = s.CapturePending(ctx, "nope", ledger.CaptureParams{Key: "c3", Operator: "op_1", Split: split})
	wantLedgerErr(t, "unknown hold", err, ErrNotFound, ledger.ErrUnknownHold)
	_, err = s.VoidPending(ctx, "c1", ledger.VoidParams{Key: "v3"})
	wantLedgerErr(t, "void of a capture", err, ErrNotFound, ledger.ErrUnknownHold)
	_, err = s.CapturePending(ctx, "h3", ledger.CaptureParams{Key: "c4", Operator: "op_1", Split: ledger.Split{Net: 1001}})
	wantLedgerErr(t, "capture above the hold", err, ledger.ErrInvalid)

	// many concurrent captures and voids of one hold, each under its own
	// key: exactly one wins
	const n = 16
	var (
		wg   sync.WaitGroup
		wins atomic.Int32
		errs [n]error
	)
	for i := range n {
		wg.Go(func() {
			var err error
			if i%2 == 0 {
				_, err = s.CapturePending(ctx, "h3", ledger.CaptureParams{Key: fmt.Sprint("race-c", i), Operator: "op_1", Split: ledger.Split{Net: int64(100 + i)}})
			} else {
				_, err = s.VoidPending(ctx, "h3", ledger.VoidParams{Key: fmt.Sprint("race-v", i)})
			}
			if err == nil {
				wins.Add(1)
			}
			errs[i] = err
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Errorf("%d resolutions of one hold succeeded: %v", wins.Load(), errs)
	}
	for _, err := range errs {
		if err != nil && !errors.Is(err, ledger.ErrNotPending) {
			t.Errorf("loser: %v", err)
		}
	}
	checkLedger(t, s)
}

func testLedgerPlatformSettlement(t *testing.T, h *harness) {
	ctx := context.Background()
	s := h.open(Options{})
	must(s.PostLedger(ctx, ldgHold(t, "hold:p", ldgSandbox, 5000)))(t)
	pend := must(s.LedgerBalance(ctx, ldgSandbox))(t)
	if pend.DebitsPending != 5000 || pend.Posted() != 0 || pend.Pending() != 5000 {
		t.Fatalf("clearing during the hold: %+v", pend)
	}
	// partial capture: 3300 of 5000
	split := ledger.Split{Tax: 300, PlatformFee: 330, ProviderFee: 70, Net: 2600}
	must(s.CapturePending(ctx, "hold:p", ledger.CaptureParams{Key: "capture:p", Operator: "op_1", Split: split}))(t)
	inFlight := ledger.InFlightAccount("pay_hold:p", ldgAUD)
	got := postedBalances(t, s, inFlight, ldgSandbox, ldgTax, ldgFees, ldgPayable, ldgProvFees)
	if !slices.Equal(got, []int64{0, 3230, 300, 330, 2600, 0}) {
		t.Errorf("after partial capture %v", got)
	}
	for _, a := range []ledger.Account{inFlight, ldgSandbox} {
		if b := must(s.LedgerBalance(ctx, a))(t); b.DebitsPending != 0 || b.CreditsPending != 0 {
			t.Errorf("%s still pending: %+v", a, b)
		}
	}
	if b := must(s.LedgerBalance(ctx, ldgProvFees))(t); b.DebitsPosted != 70 || b.CreditsPosted != 70 {
		t.Errorf("provider fee charged and recovered: %+v", b)
	}
	// refund 1100 to the card
	must(s.PostLedger(ctx, must(ledger.Refund(ledger.RefundParams{Key: "refund:p", Reference: "ses_hold:p", Operator: "op_1",
		Via: ldgSandbox, Split: ledger.Split{Tax: 100, PlatformFee: 110, Net: 890}}))(t)))(t)
	// payouts: not more than owed
	_, err := s.PostLedger(ctx, must(ledger.Payout(ledger.PayoutParams{Key: "payout:1", Operator: "op_1", From: ldgSandbox, Net: 1711, Tax: 200}))(t))
	wantLedgerErr(t, "payout beyond what is owed", err, ledger.ErrInsufficientFunds)
	must(s.PostLedger(ctx, must(ledger.Payout(ledger.PayoutParams{Key: "payout:1", Operator: "op_1", From: ldgSandbox, Net: 1710, Tax: 200}))(t)))(t)
	got = postedBalances(t, s, ldgSandbox, ldgTax, ldgPayable, ldgFees, ldgRefunds)
	if !slices.Equal(got, []int64{220, 0, 0, 330, 110}) {
		t.Errorf("after refund and payout %v", got)
	}

	// queries by reference and by account
	byRef := must(s.LedgerByReference(ctx, "ses_hold:p"))(t)
	var kinds []ledger.TxKind
	for _, x := range byRef {
		kinds = append(kinds, x.Kind)
	}
	if !slices.Equal(kinds, []ledger.TxKind{ledger.KindHold, ledger.KindCapture, ledger.KindRefund}) {
		t.Errorf("by reference: %v", kinds)
	}
	if byRef[0].Status != ledger.Posted || byRef[1].Resolves != "hold:p" {
		t.Errorf("by reference: %v / %v", byRef[0], byRef[1])
	}
	posts := must(s.LedgerPostings(ctx, ldgSandbox, PostingFilter{}))(t)
	var keys []string
	for _, p := range posts {
		keys = append(keys, fmt.Sprintf("%s:%s:%d", p.Key, p.Side, p.Amount))
	}
	want := []string{"payout:1:credit:1910", "refund:p:credit:1100", "capture:p:credit:70", "capture:p:credit:1700", "hold:p:debit:5000"}
	if !slices.Equal(keys, want) {
		t.Errorf("postings\n got %v\nwant %v", keys, want)
	}
	page := must(s.LedgerPostings(ctx, ldgSandbox, PostingFilter{Before: posts[1].EntryID, Limit: 2}))(t)
	if len(page) != 2 || page[0].EntryID != posts[2].EntryID {
		t.Errorf("second page %+v", page)
	}
	bals := must(s.LedgerBalances(ctx, LedgerAccountFilter{Owner: "op_1"}))(t)
	if len(bals) != 2 || bals[0].Account != ldgPayable || bals[1].Account != ldgTax {
		t.Errorf("op_1's accounts: %+v", bals)
	}
	checkLedger(t, s)
}

func testLedgerDirectSettlement(t *testing.T, h *harness) {
	ctx := context.Background()
	s := h.open(Options{})
	must(s.PostLedger(ctx, ldgHold(t, "hold:d", ldgMerchant, 4000)))(t)
	r := must(s.CapturePending(ctx, "hold:d", ledger.CaptureParams{Key: "capture:d",
		Split: ledger.Split{Tax: 250, PlatformFee: 275, ProviderFee: 60, Net: 2165}}))(t)
	if len(r.Tx.Entries) != 5 {
		t.Errorf("direct capture: %v", r.Tx)
	}
	// the platform books only its fee, receivable from the operator's account
	got := postedBalances(t, s, ldgMerchant, ldgFees, ldgTax, ldgPayable, ldgProvFees, ldgSandbox)
	if !slices.Equal(got, []int64{275, 275, 0, 0, 0, 0}) {
		t.Errorf("after direct capture %v", got)
	}
	_, err := s.PostLedger(ctx, must(ledger.CollectFee(ledger.CollectFeeParams{Key: "collect:1", Operator: "op_1",
		Provider: "sandbox", Currency: ldgAUD, Amount: 276}))(t))
	wantLedgerErr(t, "collecting more than owed", err, ledger.ErrInsufficientFunds)
	must(s.PostLedger(ctx, must(ledger.CollectFee(ledger.CollectFeeParams{Key: "collect:1", Operator: "op_1",
		Provider: "sandbox", Currency: ldgAUD, Amount: 275}))(t)))(t)
	must(s.PostLedger(ctx, must(ledger.Refund(ledger.RefundParams{Key: "refund:d", Via: ldgMerchant,
		Split: ledger.Split{Tax: 25, PlatformFee: 27, Net: 220}}))(t)))(t)
	got = postedBalances(t, s, ldgMerchant, ldgFees, ldgSandbox, ldgRefunds)
	if !slices.Equal(got, []int64{-27, 275, 275, 27}) {
		t.Errorf("after collecting and a refund %v", got)
	}
	checkLedger(t, s)
}

func testLedgerWallet(t *testing.T, h *harness) {
	ctx := context.Background()
	s := h.open(Options{})
	_, err := s.PostLedger(ctx, ldgHold(t, "wh:0", ldgWallet, 1))
	wantLedgerErr(t, "hold on an empty wallet", err, ledger.ErrInsufficientFunds)
	must(s.PostLedger(ctx, must(ledger.WalletTopUp(ledger.TopUpParams{Key: "topup:1", Wallet: ldgWallet, Provider: "sandbox",
		Amount: 2000, ProviderFee: 40}))(t)))(t)
	must(s.PostLedger(ctx, ldgHold(t, "wh:1", ldgWallet, 1500)))(t)
	if b := must(s.LedgerBalance(ctx, ldgWallet))(t); b.Posted() != 2000 || b.Available() != 500 {
		t.Errorf("wallet during a hold: %+v", b)
	}
	_, err = s.PostLedger(ctx, ldgHold(t, "wh:2", ldgWallet, 501))
	wantLedgerErr(t, "second hold beyond what is available", err, ledger.ErrInsufficientFunds)
	must(s.CapturePending(ctx, "wh:1", ledger.CaptureParams{Key: "wc:1", Operator: "op_1", Split: ledger.Split{Tax: 100, PlatformFee: 100, Net: 900}}))(t)
	if b := must(s.LedgerBalance(ctx, ldgWallet))(t); b.Posted() != 900 || b.Available() != 900 {
		t.Errorf("wallet after capture: %+v", b)
	}
	must(s.PostLedger(ctx, must(ledger.Refund(ledger.RefundParams{Key: "wr:1", Operator: "op_1", Via: ldgWallet,
		Split: ledger.Split{Net: 100}}))(t)))(t)
	if got := postedBalances(t, s, ldgWallet, ldgPayable, ldgSandbox, ldgProvFees); !slices.Equal(got, []int64{1000, 800, 1960, 40}) {
		t.Errorf("after refund to the wallet %v", got)
	}
	// the database refuses an overdraft even if the code's guard were bypassed
	_, err = s.wdb.ExecContext(ctx, `UPDATE ledger_accounts SET debits_posted = debits_posted + 1001
		WHERE kind = 'wallet' AND owner = 'drv_1'`)
	if err == nil {
		t.Error("an overdrawn wallet was accepted by the database")
	}
	checkLedger(t, s)
}

// testLedgerTwoInstances: two stores (two server instances) on one
// database race to resolve the same hold and to post the same key; the SQL
// (conditional UPDATE, unique keys) lets exactly one win.
func testLedgerTwoInstances(t *testing.T, h *harness) {
	ctx := context.Background()
	a, b := h.open(Options{}), h.open(Options{})
	stores := []*Store{a, b}
	const holds = 8
	for i := range holds {
		must(a.PostLedger(ctx, ldgHold(t, fmt.Sprint("h", i), ldgSandbox, 1000)))(t)
	}
	var (
		wg     sync.WaitGroup
		wins   [holds]atomic.Int32
		mu     sync.Mutex
		others []error
	)
	for i := range holds {
		for j := range 4 {
			wg.Go(func() {
				s := stores[j%2]
				var err error
				if j < 2 {
					_, err = s.CapturePending(ctx, fmt.Sprint("h", i), ledger.CaptureParams{Key: fmt.Sprint("c", i, "-", j), Operator: "op_1", Split: ledger.Split{Net: 600}})
				} else {
					_, err = s.VoidPending(ctx, fmt.Sprint("h", i), ledger.VoidParams{Key: fmt.Sprint("v", i, "-", j)})
				}
				if err == nil {
					wins[i].Add(1)
				} else if !errors.Is(err, ledger.ErrNotPending) {
					mu.Lock()
					others = append(others, err)
					mu.Unlock()
				}
			})
		}
	}
	// and the same new hold posted by both instances at once
	var fresh atomic.Int32
	for j := range 8 {
		wg.Go(func() {
			r, err := stores[j%2].PostLedger(ctx, ldgHold(t, "shared", ldgSandbox, 300))
			if err != nil {
				mu.Lock()
				others = append(others, err)
				mu.Unlock()
			} else if !r.Replayed {
				fresh.Add(1)
			}
		})
	}
	wg.Wait()
	for i := range holds {
		if n := wins[i].Load(); n != 1 {
			t.Errorf("hold h%d resolved %d times", i, n)
		}
	}
	if len(others) > 0 {
		t.Errorf("unexpected errors: %v", others)
	}
	if fresh.Load() != 1 {
		t.Errorf("the shared hold was applied %d times", fresh.Load())
	}
	checkLedger(t, a)
}

// testLedgerInstanceRaces makes the races of two instances on one database
// happen for sure: instance a's write is held open after it resolved a hold
// or stored a key, instance b then tries the same, and a commits. On
// PostgreSQL b has read the state before a's commit and is decided by the
// conditional UPDATE or the unique key; on SQLite b waits for a's commit
// before it reads (BEGIN IMMEDIATE). The outcome must be the same.
func testLedgerInstanceRaces(t *testing.T, h *harness) {
	ctx := context.Background()
	a, b := h.open(Options{}), h.open(Options{})
	for _, k := range []string{"h1", "h2"} {
		must(a.PostLedger(ctx, ldgHold(t, k, ldgSandbox, 1000)))(t)
	}
	capture := func(hold, key string) func(context.Context, *wtx) (ledger.Result, error) {
		return func(ctx context.Context, w *wtx) (ledger.Result, error) {
			return a.resolveHoldIn(ctx, w, hold, func(h ledger.Transaction) (ledger.Transaction, error) {
				return ledger.Capture(h, ledger.CaptureParams{Key: key, Operator: "op_1", Split: ledger.Split{Net: 400}})
			})
		}
	}
	post := func(tx ledger.Transaction) func(context.Context, *wtx) (ledger.Result, error) {
		return func(ctx context.Context, w *wtx) (ledger.Result, error) { return a.postLedger(ctx, w, tx, nil) }
	}
	for _, tc := range []struct {
		name   string
		first  func(context.Context, *wtx) (ledger.Result, error) // on a, held open
		second func() (ledger.Result, error)                      // on b
		want   func(r ledger.Result, err error) bool
	}{
		{"capture vs capture", capture("h1", "c1"),
			func() (ledger.Result, error) {
				return b.CapturePending(ctx, "h1", ledger.CaptureParams{Key: "c1-other", Operator: "op_1", Split: ledger.Split{Net: 400}})
			},
			func(_ ledger.Result, err error) bool { return errors.Is(err, ledger.ErrNotPending) }},
		{"same capture twice", capture("h2", "c2"),
			func() (ledger.Result, error) {
				return b.CapturePending(ctx, "h2", ledger.CaptureParams{Key: "c2", Operator: "op_1", Split: ledger.Split{Net: 400}})
			},
			func(r ledger.Result, err error) bool { return err == nil && r.Replayed }},
		{"same hold twice", post(ldgHold(t, "k1", ldgSandbox, 100)),
			func() (ledger.Result, error) { return b.PostLedger(ctx, ldgHold(t, "k1", ldgSandbox, 100)) },
			func(r ledger.Result, err error) bool { return err == nil && r.Replayed }},
		{"key reused", post(ldgHold(t, "k2", ldgSandbox, 100)),
			func() (ledger.Result, error) { return b.PostLedger(ctx, ldgHold(t, "k2", ldgSandbox, 101)) },
			func(_ ledger.Result, err error) bool { return errors.Is(err, ledger.ErrKeyReused) }},
	} {
		applied, release := make(chan struct{}), make(chan struct{})
		firstDone := make(chan error, 1)
		go func() {
			firstDone <- a.write(ctx, func(ctx context.Context, w *wtx) error {
				_, err := tc.first(ctx, w)
				close(applied)
				<-release
				return err
			})
		}()
		<-applied
		type outcome struct {
			r   ledger.Result
			err error
		}
		second := make(chan outcome, 1)
		go func() {
			r, err := tc.second()
			second <- outcome{r, err}
		}()
		time.Sleep(200 * time.Millisecond) // let b read and block on a's locks
		close(release)
		if err := <-firstDone; err != nil {
			t.Fatalf("%s: first: %v", tc.name, err)
		}
		if o := <-second; !tc.want(o.r, o.err) {
			t.Errorf("%s: second: %+v, %v", tc.name, o.r, o.err)
		}
	}
	checkLedger(t, a)
}

// testLedgerDeadlockRetried: two instances deadlock for sure, and both
// writes succeed. Instance a's write locks tax_payable and is held open;
// b's write locks operator_payable, then waits for tax_payable; then a's
// write asks for operator_payable. PostgreSQL aborts one of them, and it is
// run again. (SQLite has one writer: no deadlocks.)
func testLedgerDeadlockRetried(t *testing.T, h *harness) {
	if h.backend != "postgres" {
		t.Skip("SQLite has a single writer and cannot deadlock")
	}
	ctx := context.Background()
	a, b := h.open(Options{}), h.open(Options{})
	pay, tax := ledger.OperatorPayableAccount("op_a", ldgAUD), ledger.TaxPayableAccount("op_a", ldgAUD)
	adj := func(key string, es ...ledger.Entry) ledger.Transaction {
		return ledger.Transaction{Key: key, Kind: ledger.KindAdjustment, Status: ledger.Posted, Entries: es}
	}
	other := func(name string) ledger.Account { return ledger.ProviderFeesAccount(name, ldgAUD) }
	must(a.PostLedger(ctx, adj("setup", ldgDr(ldgSandbox, 20), ldgCr(pay, 10), ldgCr(tax, 10))))(t)

	var once sync.Once
	locked, proceed := make(chan struct{}), make(chan struct{})
	aDone := make(chan error, 1)
	go func() {
		aDone <- a.ledgerWrite(ctx, func(ctx context.Context, w *wtx) error {
			if _, err := a.postLedger(ctx, w, adj("a1", ldgDr(tax, 1), ldgCr(other("a1"), 1)), nil); err != nil {
				return err
			}
			once.Do(func() { close(locked) })
			<-proceed
			_, err := a.postLedger(ctx, w, adj("a2", ldgDr(pay, 1), ldgCr(other("a2"), 1)), nil)
			return err
		})
	}()
	<-locked
	bDone := make(chan error, 1)
	go func() {
		bDone <- b.ledgerWrite(ctx, func(ctx context.Context, w *wtx) error {
			if _, err := b.postLedger(ctx, w, adj("b1", ldgDr(pay, 2), ldgCr(other("b1"), 2)), nil); err != nil {
				return err
			}
			_, err := b.postLedger(ctx, w, adj("b2", ldgDr(other("b2"), 2), ldgCr(tax, 2)), nil)
			return err
		})
	}()
	time.Sleep(300 * time.Millisecond) // b holds operator_payable and waits for tax_payable
	close(proceed)
	if err := <-aDone; err != nil {
		t.Fatalf("a: %v", err)
	}
	if err := <-bDone; err != nil {
		t.Fatalf("b: %v", err)
	}
	if got := postedBalances(t, a, pay, tax); !slices.Equal(got, []int64{10 - 1 - 2, 10 - 1 + 2}) {
		t.Errorf("balances %v", got)
	}
	checkLedger(t, a)
}

// testLedgerTransientErrorsRetried: a ledger write that PostgreSQL aborts
// (deadlock victim, serialization failure) is submitted again, up to
// ledgerWriteAttempts times; any other error is not.
func testLedgerTransientErrorsRetried(t *testing.T, h *harness) {
	ctx := context.Background()
	var logs bytes.Buffer
	var logMu sync.Mutex
	s := h.open(Options{Logger: slog.New(slog.NewTextHandler(lockedWriter{&logMu, &logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	deadlock := &pgconn.PgError{Code: "40P01", Message: "deadlock detected"}
	// The committer runs a failed write twice (in its batch, then alone),
	// so failing the first 3 runs fails one submission and half of the next.
	runs := 0
	err := s.ledgerWrite(ctx, func(ctx context.Context, w *wtx) error {
		runs++
		if runs <= 3 {
			return fmt.Errorf("update ledger accounts: %w", deadlock)
		}
		_, err := s.postLedger(ctx, w, ldgHold(t, "h", ldgSandbox, 100), nil)
		return err
	})
	check(t, err)
	if runs != 4 {
		t.Errorf("%d runs, want 4", runs)
	}
	logMu.Lock()
	if !strings.Contains(logs.String(), "submitting it again") {
		t.Errorf("no retry logged: %s", logs.String())
	}
	logMu.Unlock()
	must(s.LedgerTransaction(ctx, "h"))(t)

	runs = 0
	err = s.ledgerWrite(ctx, func(ctx context.Context, w *wtx) error { runs++; return deadlock })
	if !errors.Is(err, deadlock) || runs != 2*ledgerWriteAttempts {
		t.Errorf("always aborted: %v after %d runs", err, runs)
	}
	runs = 0
	err = s.ledgerWrite(ctx, func(ctx context.Context, w *wtx) error { runs++; return errors.New("boom") })
	if err == nil || runs != 2 {
		t.Errorf("a plain error: %v after %d runs", err, runs)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// testLedgerAppendOnlyInSQL: the database itself refuses to change or
// delete posted history, and to move a hold backwards.
func testLedgerAppendOnlyInSQL(t *testing.T, h *harness) {
	ctx := context.Background()
	s := h.open(Options{})
	must(s.PostLedger(ctx, ldgHold(t, "h", ldgSandbox, 1000)))(t)
	must(s.PostLedger(ctx, ldgHold(t, "h2", ldgSandbox, 1000)))(t)
	must(s.CapturePending(ctx, "h", ledger.CaptureParams{Key: "c", Operator: "op_1", Split: ledger.Split{Net: 900}}))(t)
	for _, q := range []string{
		`UPDATE ledger_entries SET amount = amount + 1`,
		`DELETE FROM ledger_entries`,
		`DELETE FROM ledger_transactions WHERE idempotency_key = 'c'`,
		`UPDATE ledger_transactions SET status = 'pending' WHERE idempotency_key = 'h'`,                  // backwards
		`UPDATE ledger_transactions SET status = 'voided' WHERE idempotency_key = 'h'`,                   // posted → voided
		`UPDATE ledger_transactions SET reference = 'x' WHERE idempotency_key = 'c'`,                     // posted history
		`UPDATE ledger_transactions SET status = 'posted', reference = 'x' WHERE idempotency_key = 'h2'`, // more than the status
		`UPDATE ledger_accounts SET owner = 'op_2' WHERE kind = 'operator_payable'`,
		`DELETE FROM ledger_accounts WHERE kind = 'operator_payable'`,
	} {
		if _, err := s.wdb.ExecContext(ctx, q); err == nil {
			t.Errorf("the database accepted: %s", q)
		}
	}
	if h.backend == "postgres" {
		if _, err := s.wdb.ExecContext(ctx, `TRUNCATE ledger_entries`); err == nil {
			t.Error("the database accepted TRUNCATE")
		}
	}
	checkLedger(t, s)
}

// testLedgerCheckDetectsCorruption: CheckLedger finds what slipped past
// the code (rows written by hand, as a bug or a bad restore might).
func testLedgerCheckDetectsCorruption(t *testing.T, h *harness) {
	ctx := context.Background()
	for name, corrupt := range map[string][]string{
		"unbalanced entry": {`INSERT INTO ledger_entries (tx_id, account_id, amount)
			SELECT t.id, a.id, 5 FROM ledger_transactions t, ledger_accounts a
			WHERE t.idempotency_key = 'c' AND a.kind = 'platform_fees'`},
		"account sums drifted":          {`UPDATE ledger_accounts SET credits_posted = credits_posted + 1 WHERE kind = 'operator_payable'`},
		"hold posted without a capture": {`UPDATE ledger_transactions SET status = 'posted' WHERE idempotency_key = 'h2'`},
	} {
		t.Run(name, func(t *testing.T) {
			s := newHarness(t, h.backend).open(Options{})
			must(s.PostLedger(ctx, ldgHold(t, "h", ldgSandbox, 1000)))(t)
			must(s.PostLedger(ctx, ldgHold(t, "h2", ldgSandbox, 1000)))(t)
			must(s.CapturePending(ctx, "h", ledger.CaptureParams{Key: "c", Operator: "op_1", Split: ledger.Split{PlatformFee: 100, Net: 900}}))(t)
			check(t, s.CheckLedger(ctx))
			for _, q := range corrupt {
				_, err := s.wdb.ExecContext(ctx, q)
				check(t, err)
			}
			err := s.CheckLedger(ctx)
			var ie *ledger.InvariantError
			if !errors.As(err, &ie) {
				t.Fatalf("CheckLedger = %v, want violations", err)
			}
			t.Log(err)
			txs, bals, err := s.ledgerSnapshot(ctx)
			check(t, err)
			if ledger.Check(txs, bals) == nil {
				t.Error("ledger.Check found nothing")
			}
		})
	}
}

// testLedgerMatchesModel runs a random workload on the store and on the
// in-memory reference model (ledger.Book) side by side: every operation must
// have the same outcome, and in the end the same transactions and balances,
// with every invariant holding.
func testLedgerMatchesModel(t *testing.T, h *harness) {
	ctx := context.Background()
	s := h.open(Options{})
	book := ledger.NewBook(nil)
	w := ledger.NewWorkload(42)
	outcome := func(r ledger.Result, err error) string {
		for _, e := range []error{ledger.ErrInvalid, ledger.ErrNotPending, ledger.ErrInsufficientFunds, ledger.ErrKeyReused, ledger.ErrUnknownHold} {
			if errors.Is(err, e) {
				return e.Error()
			}
		}
		if err != nil {
			return "unexpected: " + err.Error()
		}
		return fmt.Sprintf("ok replayed=%v %s", r.Replayed, r.Tx.Key)
	}
	ops := 300
	if testing.Short() {
		ops = 100
	}
	seen := map[string]int{}
	for i := range ops {
		op := w.Next(book)
		want := outcome(book.Apply(op))
		var (
			r   ledger.Result
			err error
		)
		switch {
		case op.Post != nil:
			r, err = s.PostLedger(ctx, *op.Post)
		case op.Capture != nil:
			r, err = s.CapturePending(ctx, op.HoldKey, *op.Capture)
		default:
			r, err = s.VoidPending(ctx, op.HoldKey, *op.Void)
		}
		got := outcome(r, err)
		w.Done(op, err)
		if got != want {
			t.Fatalf("op %d %v:\nstore %s\nmodel %s", i, op, got, want)
		}
		switch {
		case strings.HasPrefix(got, "ok replayed=true"):
			seen["replayed"]++
		case strings.HasPrefix(got, "ok"):
			seen["applied"]++
		default:
			seen[got]++
		}
	}
	t.Logf("outcomes: %v", seen)
	if seen["replayed"] == 0 || seen[ledger.ErrNotPending.Error()] == 0 || seen[ledger.ErrInsufficientFunds.Error()] == 0 ||
		seen[ledger.ErrKeyReused.Error()] == 0 {
		t.Errorf("the workload missed a case: %v", seen)
	}
	txs, bals, err := s.ledgerSnapshot(ctx)
	check(t, err)
	modelTxs := book.Transactions()
	if len(txs) != len(modelTxs) {
		t.Fatalf("%d transactions stored, model has %d", len(txs), len(modelTxs))
	}
	for i := range txs {
		a, b := txs[i], modelTxs[i]
		a.ID, a.CreatedAt, b.ID, b.CreatedAt = 0, time.Time{}, 0, time.Time{}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("transaction %d:\nstore %v\nmodel %v", i, a, b)
		}
	}
	if mb := book.Balances(); !reflect.DeepEqual(bals, mb) {
		t.Fatalf("balances differ:\nstore %+v\nmodel %+v", bals, mb)
	}
	checkLedger(t, s)
}

// testLedgerIntegerColumns: every money column is a 64-bit integer.
func testLedgerIntegerColumns(t *testing.T, h *harness) {
	ctx := context.Background()
	s := h.open(Options{})
	money := map[string][]string{
		"ledger_accounts": {"debits_posted", "credits_posted", "debits_pending", "credits_pending"},
		"ledger_entries":  {"amount"},
	}
	for table, cols := range money {
		for _, col := range cols {
			var typ string
			if h.backend == "sqlite" {
				check(t, s.rdb.QueryRowContext(ctx, `SELECT type FROM pragma_table_info($1) WHERE name = $2`, table, col).Scan(&typ))
				if typ != "INTEGER" {
					t.Errorf("%s.%s is %s", table, col, typ)
				}
			} else {
				check(t, s.rdb.QueryRowContext(ctx, `SELECT data_type FROM information_schema.columns
					WHERE table_schema = current_schema() AND table_name = $1 AND column_name = $2`, table, col).Scan(&typ))
				if typ != "bigint" {
					t.Errorf("%s.%s is %s", table, col, typ)
				}
			}
		}
	}
}

// testLedgerMigrateDown: the ledger's down migration works on a ledger in
// use (the append-only triggers do not stop DROP), and up again gives an
// empty, working ledger.
func testLedgerMigrateDown(t *testing.T, h *harness) {
	ctx := context.Background()
	s := h.open(Options{})
	must(s.PostLedger(ctx, ldgHold(t, "h", ldgSandbox, 1000)))(t)
	p := must(s.migrations())(t)
	must(p.DownTo(ctx, 2))(t)
	if _, err := s.wdb.ExecContext(ctx, `SELECT 1 FROM ledger_entries`); err == nil {
		t.Error("ledger_entries still there after the down migration")
	}
	must(p.Up(ctx))(t)
	if _, err := s.LedgerTransaction(ctx, "h"); !errors.Is(err, ErrNotFound) {
		t.Errorf("after down and up: %v", err)
	}
	must(s.PostLedger(ctx, ldgHold(t, "h", ldgSandbox, 1000)))(t)
	checkLedger(t, s)
}

// BenchmarkLedgerHoldCapture measures the two-phase payment path: each
// operation is a hold and its partial capture (two writes), from many
// concurrent callers, with the default committer settings.
//
//	go test -run '^$' -bench LedgerHoldCapture -benchtime 2s ./internal/store/
func BenchmarkLedgerHoldCapture(b *testing.B) {
	for _, cfg := range []struct{ name, backend string }{{"sqlite", "sqlite"}, {"postgres", "postgres"}} {
		b.Run(cfg.name, func(b *testing.B) {
			s := newHarness(b, cfg.backend).open(Options{})
			ctx := context.Background()
			var seq atomic.Int64
			b.SetParallelism(benchParallelism)
			b.ReportAllocs()
			start := time.Now()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					n := seq.Add(1)
					key := fmt.Sprint("hold:", n)
					hold, err := ledger.Hold(ledger.HoldParams{Key: key, Reference: fmt.Sprint("ses_", n), Payment: fmt.Sprint("pay_", n),
						Funding: ldgSandbox, Amount: 5000})
					if err != nil {
						b.Error(err)
						return
					}
					if _, err := s.PostLedger(ctx, hold); err != nil {
						b.Error(err)
						return
					}
					if _, err := s.CapturePending(ctx, key, ledger.CaptureParams{Key: fmt.Sprint("capture:", n), Operator: "op_1",
						Split: ledger.Split{Tax: 300, PlatformFee: 330, ProviderFee: 70, Net: 2600}}); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(seq.Load())/time.Since(start).Seconds(), "payments/s")
			st := s.Stats()
			if st.Batches > 0 {
				b.ReportMetric(float64(st.BatchedOps)/float64(st.Batches), "ops/batch")
			}
			if err := s.CheckLedger(ctx); err != nil {
				b.Fatal(err)
			}
		})
	}
}
