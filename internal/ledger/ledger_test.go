package ledger

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

const aud = "AUD"

var (
	sandbox  = ProviderClearingAccount("sandbox", aud)
	opPay    = OperatorPayableAccount("op_1", aud)
	opTax    = TaxPayableAccount("op_1", aud)
	fees     = PlatformFeesAccount(aud)
	provFees = ProviderFeesAccount("sandbox", aud)
	refunds  = RefundsAccount(aud)
	merchant = OperatorMerchantAccount("op_1", aud)
	wallet   = WalletAccount("drv_1", aud)
	inFlight = InFlightAccount("pay_1", aud)
)

// must(f())(t) returns f's value, failing the test if f failed.
func must[T any](v T, err error) func(testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got %v, want %v", what, err, want)
	}
}

// posted returns the posted balance of each account in b, by account.
func posted(b *Book, accts ...Account) []int64 {
	out := make([]int64, len(accts))
	for i, a := range accts {
		out[i] = b.Balance(a).Posted()
	}
	return out
}

func TestAccountValidate(t *testing.T) {
	for _, tc := range []struct {
		a  Account
		ok bool
	}{
		{opPay, true},
		{fees, true},
		{Account{PlatformFees, "op_1", aud}, false}, // the platform's account has no owner
		{Account{OperatorPayable, "", aud}, false},  // an operator's account needs one
		{Account{"cash", "x", aud}, false},
		{Account{Wallet, "d", "aud"}, false},
		{Account{Wallet, "d", "AU"}, false},
		{Account{Wallet, "d", "AUDD"}, false},
		{Account{Wallet, "d\x00", aud}, false},
		{Account{Wallet, "d\xff", aud}, false},
		{Account{Wallet, strings.Repeat("d", MaxTextLen+1), aud}, false},
	} {
		if err := tc.a.Validate(); (err == nil) != tc.ok {
			t.Errorf("%v: Validate() = %v, want ok=%v", tc.a, err, tc.ok)
		}
	}
	for _, k := range Kinds() {
		if !k.Valid() {
			t.Errorf("%s not valid", k)
		}
	}
}

func TestBalanceSides(t *testing.T) {
	// a credit-normal wallet: 100 in, 30 held
	w := Balance{Account: wallet, CreditsPosted: 100, DebitsPending: 30}
	if w.Posted() != 100 || w.Pending() != -30 || w.Available() != 70 {
		t.Errorf("wallet: posted %d pending %d available %d", w.Posted(), w.Pending(), w.Available())
	}
	// a debit-normal clearing account: 100 captured, 20 fee taken, 50 on hold coming in
	c := Balance{Account: sandbox, DebitsPosted: 100, CreditsPosted: 20, DebitsPending: 50}
	if c.Posted() != 80 || c.Pending() != 50 || c.Available() != 80 {
		t.Errorf("clearing: posted %d pending %d available %d", c.Posted(), c.Pending(), c.Available())
	}
}

func TestValidateRejects(t *testing.T) {
	ok := Transaction{Key: "k", Kind: KindAdjustment, Status: Posted, Entries: []Entry{{opPay, Debit, 5}, {fees, Credit, 5}}}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	mod := func(f func(*Transaction)) Transaction {
		tx := ok.clone()
		f(&tx)
		return tx
	}
	for name, tc := range map[string]struct {
		tx   Transaction
		want error
	}{
		"unbalanced": {mod(func(t *Transaction) { t.Entries[1].Amount = 4 }), ErrUnbalanced},
		"one-sided":  {mod(func(t *Transaction) { t.Entries[1].Side = Debit }), ErrUnbalanced},
		"balanced across currencies is not balanced": {mod(func(t *Transaction) {
			t.Entries = append(t.Entries, Entry{PlatformFeesAccount("NZD"), Debit, 7}, Entry{fees, Credit, 7})
		}), ErrUnbalanced},
		"no key":              {mod(func(t *Transaction) { t.Key = "" }), ErrInvalid},
		"no entries":          {mod(func(t *Transaction) { t.Entries = nil }), ErrInvalid},
		"zero amount":         {mod(func(t *Transaction) { t.Entries[0].Amount, t.Entries[1].Amount = 0, 0 }), ErrInvalid},
		"negative amount":     {mod(func(t *Transaction) { t.Entries[0].Amount, t.Entries[1].Amount = -5, -5 }), ErrInvalid},
		"too large":           {mod(func(t *Transaction) { t.Entries[0].Amount, t.Entries[1].Amount = MaxAmount+1, MaxAmount+1 }), ErrInvalid},
		"no side":             {mod(func(t *Transaction) { t.Entries[0].Side = 0 }), ErrInvalid},
		"bad account":         {mod(func(t *Transaction) { t.Entries[0].Account.Currency = "xx" }), ErrInvalid},
		"unknown kind":        {mod(func(t *Transaction) { t.Kind = "gift" }), ErrInvalid},
		"pending non-hold":    {mod(func(t *Transaction) { t.Status = Pending }), ErrInvalid},
		"resolves non-void":   {mod(func(t *Transaction) { t.Resolves = "h" }), ErrInvalid},
		"void without a hold": {Transaction{Key: "v", Kind: KindVoid, Status: Posted}, ErrInvalid},
		"in flight outside a payment": {mod(func(t *Transaction) {
			t.Entries[0].Account = inFlight
		}), ErrInvalid},
		"hold of three entries": {Transaction{Key: "h", Kind: KindHold, Status: Pending, Entries: []Entry{
			{sandbox, Debit, 10}, {inFlight, Credit, 5}, {InFlightAccount("pay_2", aud), Credit, 5}}}, ErrInvalid},
		"hold from operator payable": {Transaction{Key: "h", Kind: KindHold, Status: Pending, Entries: []Entry{
			{opPay, Debit, 10}, {inFlight, Credit, 10}}}, ErrInvalid},
		"posted hold": {Transaction{Key: "h", Kind: KindHold, Status: Posted, Entries: []Entry{
			{sandbox, Debit, 10}, {inFlight, Credit, 10}}}, ErrInvalid},
		"too many entries": {mod(func(t *Transaction) {
			t.Entries = nil
			for range MaxEntries/2 + 1 {
				t.Entries = append(t.Entries, Entry{opPay, Debit, 1}, Entry{fees, Credit, 1})
			}
		}), ErrInvalid},
	} {
		t.Run(name, func(t *testing.T) {
			err := tc.tx.Validate()
			if !errors.Is(err, tc.want) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("Validate() = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestCapturePlatformSettlement(t *testing.T) {
	b := NewBook(nil)
	hold := must(Hold(HoldParams{Key: "hold:pay_1", Reference: "ses_1", Payment: "pay_1", Funding: sandbox, Amount: 5000}))(t)
	must(b.Post(hold))(t)
	if got := b.Balance(inFlight); got.CreditsPending != 5000 || got.Posted() != 0 {
		t.Fatalf("in flight after hold: %+v", got)
	}
	if got := b.Balance(sandbox); got.DebitsPending != 5000 || got.Posted() != 0 {
		t.Fatalf("clearing after hold: %+v", got)
	}
	// 3300 captured: 300 GST, 330 platform fee, 70 provider fee, 2600 net
	split := Split{Tax: 300, PlatformFee: 330, ProviderFee: 70, Net: 2600}
	r := must(b.Capture("hold:pay_1", CaptureParams{Key: "capture:pay_1", Operator: "op_1", Split: split}))(t)
	if r.Tx.Reference != "ses_1" || r.Tx.Resolves != "hold:pay_1" || r.Tx.Status != Posted {
		t.Errorf("capture: %v", r.Tx)
	}
	want := []Entry{
		{inFlight, Debit, 1700}, {sandbox, Credit, 1700}, // release
		{inFlight, Debit, 3300},
		{opTax, Credit, 300}, {fees, Credit, 330}, {opPay, Credit, 2600},
		{provFees, Credit, 70}, {provFees, Debit, 70}, {sandbox, Credit, 70},
	}
	if !slices.Equal(r.Tx.Entries, want) {
		t.Errorf("capture entries:\n got %v\nwant %v", r.Tx, Transaction{Entries: want})
	}
	h, _ := b.Transaction("hold:pay_1")
	if h.Status != Posted {
		t.Errorf("hold status %s", h.Status)
	}
	got := posted(b, inFlight, sandbox, opTax, fees, opPay, provFees)
	if !slices.Equal(got, []int64{0, 3300 - 70, 300, 330, 2600, 0}) {
		t.Errorf("posted balances %v", got)
	}
	for _, a := range []Account{inFlight, sandbox} {
		if p := b.Balance(a); p.DebitsPending != 0 || p.CreditsPending != 0 {
			t.Errorf("%s still pending: %+v", a, p)
		}
	}
	if err := b.Check(); err != nil {
		t.Fatal(err)
	}

	// refund 1100 to the card: 100 tax, 110 of the fee, 890 from the operator;
	// the provider keeps its fee, so 0 comes back from it
	must(b.Post(must(Refund(RefundParams{Key: "refund:1", Reference: "ses_1", Operator: "op_1", Via: sandbox,
		Split: Split{Tax: 100, PlatformFee: 110, Net: 890}}))(t)))(t)
	got = posted(b, sandbox, opTax, fees, refunds, opPay)
	if !slices.Equal(got, []int64{3230 - 1100, 200, 330, 110, 1710}) {
		t.Errorf("after refund %v", got)
	}
	// pay the operator out: all it is owed, and no more
	_, err := b.Post(must(Payout(PayoutParams{Key: "payout:1", Operator: "op_1", From: sandbox, Net: 1711, Tax: 200}))(t))
	wantErr(t, "payout beyond what is owed", err, ErrInsufficientFunds)
	must(b.Post(must(Payout(PayoutParams{Key: "payout:1", Operator: "op_1", From: sandbox, Net: 1710, Tax: 200}))(t)))(t)
	got = posted(b, sandbox, opTax, opPay, fees, refunds)
	if !slices.Equal(got, []int64{2130 - 1910, 0, 0, 330, 110}) {
		t.Errorf("after payout %v", got)
	}
	// what is left at the provider is the platform's margin: fee − refunded fee
	if got[0] != 330-110 {
		t.Errorf("platform keeps %d", got[0])
	}
	if err := b.Check(); err != nil {
		t.Fatal(err)
	}
}

func TestCaptureDirectSettlement(t *testing.T) {
	b := NewBook(nil)
	must(b.Post(must(Hold(HoldParams{Key: "h", Payment: "pay_1", Funding: merchant, Amount: 4000}))(t)))(t)
	h, _ := b.Transaction("h")
	if SettlementOf(h) != Direct {
		t.Fatalf("settlement %s", SettlementOf(h))
	}
	_, err := b.Capture("h", CaptureParams{Key: "c", Operator: "op_2", Split: Split{PlatformFee: 1, Net: 1}})
	wantErr(t, "capture to another operator", err, ErrInvalid)
	r := must(b.Capture("h", CaptureParams{Key: "c", Split: Split{Tax: 250, PlatformFee: 275, ProviderFee: 60, Net: 2165}}))(t)
	want := []Entry{
		{inFlight, Debit, 1250}, {merchant, Credit, 1250},
		{inFlight, Debit, 2750}, {merchant, Credit, 2475}, {fees, Credit, 275},
	}
	if !slices.Equal(r.Tx.Entries, want) {
		t.Errorf("direct capture:\n got %v\nwant %v", r.Tx, Transaction{Entries: want})
	}
	// the platform books only its fee: receivable from the operator's account
	if got := posted(b, merchant, fees, inFlight, opTax, opPay); !slices.Equal(got, []int64{275, 275, 0, 0, 0}) {
		t.Errorf("posted %v", got)
	}
	_, err = b.Post(must(CollectFee(CollectFeeParams{Key: "fee", Operator: "op_1", Provider: "sandbox", Currency: aud, Amount: 276}))(t))
	wantErr(t, "collect more than owed", err, ErrInsufficientFunds)
	must(b.Post(must(CollectFee(CollectFeeParams{Key: "fee", Operator: "op_1", Provider: "sandbox", Currency: aud, Amount: 275}))(t)))(t)
	if got := posted(b, merchant, sandbox, fees); !slices.Equal(got, []int64{0, 275, 275}) {
		t.Errorf("after collecting %v", got)
	}
	// a refund in direct settlement returns only the platform's fee share
	must(b.Post(must(Refund(RefundParams{Key: "r", Via: merchant, Split: Split{Tax: 25, PlatformFee: 27, Net: 220}}))(t)))(t)
	if got := posted(b, merchant, refunds); !slices.Equal(got, []int64{-27, 27}) {
		t.Errorf("after refund %v", got)
	}
	_, err = Refund(RefundParams{Key: "r2", Via: merchant, Split: Split{Net: 10}})
	wantErr(t, "direct refund without fee", err, ErrInvalid)
	if err := b.Check(); err != nil {
		t.Fatal(err)
	}
}

func TestWallet(t *testing.T) {
	b := NewBook(nil)
	_, err := b.Post(must(Hold(HoldParams{Key: "h0", Payment: "wh_0", Funding: wallet, Amount: 1}))(t))
	wantErr(t, "hold on an empty wallet", err, ErrInsufficientFunds)
	must(b.Post(must(WalletTopUp(TopUpParams{Key: "top", Wallet: wallet, Provider: "sandbox", Amount: 2000, ProviderFee: 40}))(t)))(t)
	if got := posted(b, wallet, sandbox, provFees); !slices.Equal(got, []int64{2000, 1960, 40}) {
		t.Errorf("after top-up %v", got)
	}
	must(b.Post(must(Hold(HoldParams{Key: "h1", Payment: "wh_1", Funding: wallet, Amount: 1500}))(t)))(t)
	if got := b.Balance(wallet); got.Available() != 500 || got.Posted() != 2000 {
		t.Errorf("wallet during hold: %+v", got)
	}
	_, err = b.Post(must(Hold(HoldParams{Key: "h2", Payment: "wh_2", Funding: wallet, Amount: 501}))(t))
	wantErr(t, "second hold beyond available", err, ErrInsufficientFunds)
	_, err = b.Capture("h1", CaptureParams{Key: "c1", Operator: "op_1", Split: Split{ProviderFee: 1, Net: 1}})
	wantErr(t, "provider fee on a wallet payment", err, ErrInvalid)
	must(b.Capture("h1", CaptureParams{Key: "c1", Operator: "op_1", Split: Split{Tax: 100, PlatformFee: 100, Net: 900}}))(t)
	if got := b.Balance(wallet); got.Available() != 900 || got.Posted() != 900 || got.DebitsPending != 0 {
		t.Errorf("wallet after capture: %+v", got)
	}
	// refund to the wallet
	must(b.Post(must(Refund(RefundParams{Key: "r", Operator: "op_1", Via: wallet, Split: Split{Net: 100}}))(t)))(t)
	if got := b.Balance(wallet).Available(); got != 1000 {
		t.Errorf("wallet after refund %d", got)
	}
	if err := b.Check(); err != nil {
		t.Fatal(err)
	}
}

func TestHoldMovesForwardOnce(t *testing.T) {
	b := NewBook(nil)
	for _, k := range []string{"h1", "h2"} {
		must(b.Post(must(Hold(HoldParams{Key: k, Payment: "pay_" + k, Funding: sandbox, Amount: 1000}))(t)))(t)
	}
	split := Split{Net: 1000}
	must(b.Capture("h1", CaptureParams{Key: "c1", Operator: "op_1", Split: split}))(t)
	_, err := b.Capture("h1", CaptureParams{Key: "c1b", Operator: "op_1", Split: split})
	wantErr(t, "second capture", err, ErrNotPending)
	_, err = b.Void("h1", VoidParams{Key: "v1"})
	wantErr(t, "void after capture", err, ErrNotPending)

	must(b.Void("h2", VoidParams{Key: "v2"}))(t)
	_, err = b.Capture("h2", CaptureParams{Key: "c2", Operator: "op_1", Split: split})
	wantErr(t, "capture after void", err, ErrNotPending)
	_, err = b.Void("h2", VoidParams{Key: "v2b"})
	wantErr(t, "second void", err, ErrNotPending)
	if got := b.Balance(InFlightAccount("pay_h2", aud)); !got.IsZero() {
		t.Errorf("voided hold left %+v", got)
	}
	_, err = b.Capture("nope", CaptureParams{Key: "c3", Operator: "op_1", Split: split})
	wantErr(t, "unknown hold", err, ErrUnknownHold)
	_, err = b.Capture("c1", CaptureParams{Key: "c4", Operator: "op_1", Split: split})
	wantErr(t, "capture of a capture", err, ErrUnknownHold)
	must(b.Post(must(Hold(HoldParams{Key: "h3", Payment: "pay_3", Funding: sandbox, Amount: 1000}))(t)))(t)
	_, err = b.Capture("h3", CaptureParams{Key: "c5", Operator: "op_1", Split: Split{Net: 1001}})
	wantErr(t, "capture above the hold", err, ErrInvalid)
	_, err = b.Capture("h3", CaptureParams{Key: "c5", Operator: "op_1"})
	wantErr(t, "capture of 0", err, ErrInvalid)
	_, err = b.Capture("h3", CaptureParams{Key: "c5", Split: split})
	wantErr(t, "platform capture without operator", err, ErrInvalid)
	if err := b.Check(); err != nil {
		t.Fatal(err)
	}
}

func TestIdempotency(t *testing.T) {
	b := NewBook(nil)
	hold := must(Hold(HoldParams{Key: "h", Reference: "ses", Payment: "pay", Funding: sandbox, Amount: 100}))(t)
	first := must(b.Post(hold))(t)
	again := must(b.Post(hold))(t)
	if first.Replayed || !again.Replayed || again.Tx.ID != first.Tx.ID {
		t.Fatalf("first %+v again %+v", first, again)
	}
	other := must(Hold(HoldParams{Key: "h", Reference: "ses", Payment: "pay", Funding: sandbox, Amount: 101}))(t)
	_, err := b.Post(other)
	wantErr(t, "same key, other content", err, ErrKeyReused)

	c := CaptureParams{Key: "c", Operator: "op_1", Split: Split{Net: 60}}
	first = must(b.Capture("h", c))(t)
	again = must(b.Capture("h", c))(t) // replay: not ErrNotPending
	if !again.Replayed || again.Tx.ID != first.Tx.ID {
		t.Fatalf("capture replay %+v", again)
	}
	// the hold's replay reports its current status
	if r := must(b.Post(hold))(t); r.Tx.Status != Posted || !r.Replayed {
		t.Errorf("hold replay after capture: %+v", r)
	}
	_, err = b.Capture("h", CaptureParams{Key: "c", Operator: "op_1", Split: Split{Net: 61}})
	wantErr(t, "capture key reused with another amount", err, ErrKeyReused)
	_, err = b.Void("h", VoidParams{Key: "c"})
	wantErr(t, "capture key reused for a void", err, ErrKeyReused)
	if n := len(b.Transactions()); n != 2 {
		t.Errorf("%d transactions", n)
	}
}

func TestCheckDetects(t *testing.T) {
	b := NewBook(nil)
	must(b.Post(must(Hold(HoldParams{Key: "h", Payment: "pay_1", Funding: sandbox, Amount: 100}))(t)))(t)
	must(b.Capture("h", CaptureParams{Key: "c", Operator: "op_1", Split: Split{Net: 100}}))(t)
	must(b.Post(must(Hold(HoldParams{Key: "h2", Payment: "pay_2", Funding: sandbox, Amount: 100}))(t)))(t)
	txs, bals := b.Transactions(), b.Balances()
	if err := Check(txs, bals); err != nil {
		t.Fatal(err)
	}
	find := func(txs []Transaction, key string) *Transaction {
		return &txs[slices.IndexFunc(txs, func(t Transaction) bool { return t.Key == key })]
	}
	for name, corrupt := range map[string]func(txs []Transaction, bals []Balance) ([]Transaction, []Balance){
		"amount changed": func(txs []Transaction, bals []Balance) ([]Transaction, []Balance) {
			find(txs, "c").Entries[0].Amount++
			return txs, bals
		},
		"hold posted and voided": func(txs []Transaction, bals []Balance) ([]Transaction, []Balance) {
			return append(txs, Transaction{Key: "v", Kind: KindVoid, Status: Posted, Resolves: "h"}), bals
		},
		"hold back to pending": func(txs []Transaction, bals []Balance) ([]Transaction, []Balance) {
			find(txs, "h").Status = Pending
			return txs, bals
		},
		"hold voided without void": func(txs []Transaction, bals []Balance) ([]Transaction, []Balance) {
			find(txs, "h2").Status = Voided
			return txs, bals
		},
		"entry deleted": func(txs []Transaction, bals []Balance) ([]Transaction, []Balance) {
			c := find(txs, "c")
			c.Entries = c.Entries[:len(c.Entries)-1]
			return txs, bals
		},
		"balance drifted": func(txs []Transaction, bals []Balance) ([]Transaction, []Balance) {
			bals[0].CreditsPosted++
			return txs, bals
		},
		"duplicate key": func(txs []Transaction, bals []Balance) ([]Transaction, []Balance) {
			return append(txs, txs[0]), bals
		},
		"pending adjustment": func(txs []Transaction, bals []Balance) ([]Transaction, []Balance) {
			return append(txs, Transaction{Key: "adj", Kind: KindAdjustment, Status: Pending,
				Entries: []Entry{{opPay, Debit, 1}, {fees, Credit, 1}}}), bals
		},
		"money resting in flight": func(txs []Transaction, bals []Balance) ([]Transaction, []Balance) {
			c := find(txs, "c")
			c.Entries = []Entry{{sandbox, Debit, 1}, {opPay, Credit, 1}} // the capture allocated nothing
			return txs, bals
		},
	} {
		t.Run(name, func(t *testing.T) {
			txs, bals := corrupt(b.Transactions(), b.Balances())
			err := Check(txs, bals)
			var ie *InvariantError
			if !errors.As(err, &ie) || len(ie.Violations) == 0 {
				t.Fatalf("Check() = %v, want violations", err)
			}
			t.Log(err)
		})
	}
}
