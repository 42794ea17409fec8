package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/chargestar/chargestar/internal/ledger"
	"github.com/chargestar/chargestar/internal/model"
)

func TestTariffAssignments(t *testing.T) {
	for _, b := range backendNames {
		t.Run(b, func(t *testing.T) {
			s := newHarness(t, b).open(Options{})
			ctx := context.Background()
			op, st := fixture(t, s)
			other, err := s.CreateOperator(ctx, model.Operator{Name: "Other", Currency: "AUD", Country: "AU"})
			if err != nil {
				t.Fatal(err)
			}
			site, err := s.CreateSite(ctx, model.Site{OperatorID: op.ID, Name: "Level 2", Timezone: "Australia/Sydney"})
			if err != nil {
				t.Fatal(err)
			}
			st.SiteID = site.ID
			if _, err := s.UpdateStation(ctx, st); err != nil {
				t.Fatal(err)
			}
			if _, _, err := s.EffectiveTariff(ctx, st.ID); !errors.Is(err, ErrNotFound) {
				t.Fatalf("no tariff yet: %v", err)
			}
			save := func(name string) Tariff {
				tr, err := s.SaveTariff(ctx, Tariff{OperatorID: op.ID, Name: name, Body: []byte(`{"name":"` + name + `"}`)})
				if err != nil {
					t.Fatal(err)
				}
				return tr
			}
			opT, siteT, stT := save("operator"), save("site"), save("station")
			assign := func(scope, id, tariff string) {
				if _, err := s.AssignTariff(ctx, TariffAssignment{OperatorID: op.ID, Scope: scope, ScopeID: id, TariffID: tariff}); err != nil {
					t.Fatal(err)
				}
			}
			want := func(id, scope string) {
				t.Helper()
				got, sc, err := s.EffectiveTariff(ctx, st.ID)
				if err != nil || got.ID != id || sc != scope {
					t.Fatalf("effective tariff %s (%s) %v, want %s (%s)", got.ID, sc, err, id, scope)
				}
			}
			assign(ScopeOperator, "", opT.ID)
			want(opT.ID, ScopeOperator)
			assign(ScopeSite, site.ID, siteT.ID)
			want(siteT.ID, ScopeSite)
			assign(ScopeStation, st.ID, stT.ID)
			want(stT.ID, ScopeStation)
			if err := s.UnassignTariff(ctx, op.ID, ScopeStation, st.ID); err != nil {
				t.Fatal(err)
			}
			want(siteT.ID, ScopeSite)
			// Another operator can neither use nor assign these.
			if _, err := s.AssignTariff(ctx, TariffAssignment{OperatorID: other.ID, Scope: ScopeOperator, TariffID: opT.ID}); !errors.Is(err, ErrNotFound) {
				t.Fatalf("foreign tariff assigned: %v", err)
			}
			if _, err := s.AssignTariff(ctx, TariffAssignment{OperatorID: op.ID, Scope: ScopeStation, ScopeID: "NOPE", TariffID: opT.ID}); !errors.Is(err, ErrNotFound) {
				t.Fatalf("unknown station assigned: %v", err)
			}
			if _, err := s.SaveTariff(ctx, Tariff{ID: opT.ID, OperatorID: other.ID, Name: "x", Body: []byte(`{}`)}); !errors.Is(err, ErrNotFound) {
				t.Fatalf("foreign tariff overwritten: %v", err)
			}
			if err := s.DeleteTariff(ctx, op.ID, siteT.ID); !errors.Is(err, ErrConflict) {
				t.Fatalf("deleting an assigned tariff: %v", err)
			}
			if err := s.DeleteTariff(ctx, op.ID, stT.ID); err != nil {
				t.Fatal(err)
			}
			if ts, _ := s.ListTariffs(ctx, op.ID); len(ts) != 2 {
				t.Fatalf("tariffs: %d", len(ts))
			}
		})
	}
}

func TestDriverCards(t *testing.T) {
	for _, b := range backendNames {
		t.Run(b, func(t *testing.T) {
			s := newHarness(t, b).open(Options{})
			ctx := context.Background()
			a, err := s.SaveDriverAccount(ctx, DriverAccount{Email: "a@example.com", Currency: "AUD", Funding: FundingWallet})
			if err != nil {
				t.Fatal(err)
			}
			b2, _ := s.SaveDriverAccount(ctx, DriverAccount{Currency: "AUD", Funding: FundingCard})
			if _, err := s.SaveDriverCard(ctx, DriverCard{IDToken: "04AbCd", AccountID: a.ID, Status: "Accepted"}); err != nil {
				t.Fatal(err)
			}
			if c, err := s.GetDriverCard(ctx, "04ABCD"); err != nil || c.AccountID != a.ID || c.IDToken != "04AbCd" {
				t.Fatalf("card by folded token: %+v %v", c, err)
			}
			if _, err := s.SaveDriverCard(ctx, DriverCard{IDToken: "04abcd", AccountID: b2.ID, Status: "Accepted"}); !errors.Is(err, ErrConflict) {
				t.Fatalf("another account's card: %v", err)
			}
			if c, err := s.SaveDriverCard(ctx, DriverCard{IDToken: "04abcd", AccountID: a.ID, Status: "Blocked"}); err != nil || c.Status != "Blocked" {
				t.Fatalf("blocking: %+v %v", c, err)
			}
			if _, err := s.SaveDriverCard(ctx, DriverCard{IDToken: "X", AccountID: "acc_nope", Status: "Accepted"}); !errors.Is(err, ErrNotFound) {
				t.Fatalf("unknown account: %v", err)
			}
		})
	}
}

// TestSessionPaymentChange: a move writes the row, the ledger, the jobs and
// the webhook record at once; a stale version, a replayed webhook and a
// refused ledger booking change nothing.
func TestSessionPaymentChange(t *testing.T) {
	for _, b := range backendNames {
		t.Run(b, func(t *testing.T) {
			s := newHarness(t, b).open(Options{})
			ctx := context.Background()
			op, st := fixture(t, s)
			p, err := s.ChangeSessionPayment(ctx, SessionPaymentChange{Payment: SessionPayment{OperatorID: op.ID, Purpose: "session",
				Method: "card", State: "quote", StationID: st.ID, ConnectorID: 1, IDToken: "NCXTOKEN", Currency: "AUD", HoldAmount: 5000, Provider: "sandbox",
				Tariff: []byte(`{"x":1}`), AccessHash: []byte{1, 2, 3}}})
			if err != nil {
				t.Fatal(err)
			}
			if p.Version != 1 || p.State != "quote" || string(p.Tariff) != `{"x":1}` || len(p.AccessHash) != 3 {
				t.Fatalf("created: %+v", p)
			}
			hold, _ := ledger.Hold(ledger.HoldParams{Key: "hold:" + p.ID, Reference: p.ID, Payment: "pi_1",
				Funding: ledger.ProviderClearingAccount("sandbox", "AUD"), Amount: 5000})
			next := p
			next.State, next.ProviderPaymentID = "authorized", "pi_1"
			wh := &WebhookRecord{Provider: "sandbox", EventID: "evt_1", Type: "payment.authorized", PaymentID: p.ID}
			p2, err := s.ChangeSessionPayment(ctx, SessionPaymentChange{Payment: next, Webhook: wh, Ledger: &hold,
				Jobs: []PaymentJob{{Kind: "remote_start", IdemKey: "start:" + p.ID}}})
			if err != nil || p2.Version != 2 || p2.State != "authorized" {
				t.Fatalf("authorised: %+v %v", p2, err)
			}
			// The same webhook again: nothing.
			if _, err := s.ChangeSessionPayment(ctx, SessionPaymentChange{Payment: p2, Webhook: wh}); !errors.Is(err, ErrDuplicateEvent) {
				t.Fatalf("replayed webhook: %v", err)
			}
			// A move decided on the old version: refused.
			if _, err := s.ChangeSessionPayment(ctx, SessionPaymentChange{Payment: next}); !errors.Is(err, ErrPaymentChanged) {
				t.Fatalf("stale version: %v", err)
			}
			// The same job key again: one job.
			if _, err := s.ChangeSessionPayment(ctx, SessionPaymentChange{Payment: p2, Jobs: []PaymentJob{{Kind: "remote_start", IdemKey: "start:" + p.ID}}}); err != nil {
				t.Fatal(err)
			}
			jobs, _ := s.PaymentJobs(ctx, p.ID)
			if len(jobs) != 1 {
				t.Fatalf("jobs: %+v", jobs)
			}
			now := time.Now()
			if ok, err := s.ClaimPaymentJob(ctx, jobs[0].ID, now, now.Add(time.Minute)); !ok || err != nil {
				t.Fatalf("claim: %v %v", ok, err)
			}
			if ok, _ := s.ClaimPaymentJob(ctx, jobs[0].ID, now, now.Add(time.Minute)); ok {
				t.Fatal("claimed twice")
			}
			if due, _ := s.DuePaymentJobs(ctx, now, 10); len(due) != 0 {
				t.Fatalf("a leased job is due: %+v", due)
			}
			if err := s.FinishPaymentJob(ctx, jobs[0].ID, "", time.Time{}); err != nil {
				t.Fatal(err)
			}
			if due, _ := s.DuePaymentJobs(ctx, now.Add(time.Hour), 10); len(due) != 0 {
				t.Fatalf("a done job is due: %+v", due)
			}
			// Finding it.
			for _, f := range []SessionPaymentFind{{Provider: "sandbox", ProviderPayment: "pi_1"}, {OpenToken: "ncxtoken", StationID: st.ID}} {
				if got, err := s.FindSessionPayment(ctx, f); err != nil || got.ID != p.ID {
					t.Fatalf("find %+v: %v %v", f, got.ID, err)
				}
			}
			if _, err := s.FindSessionPayment(ctx, SessionPaymentFind{OpenToken: "ncxtoken", StationID: "OTHER"}); !errors.Is(err, ErrNotFound) {
				t.Fatalf("token at another station: %v", err)
			}
			// Capture through the hold, with the session's status.
			sess, _, err := s.StartSession(ctx, StartSessionParams{OperatorID: op.ID, StationID: st.ID, ConnectorID: 1, TransactionID: "1",
				IDTag: "NCXTOKEN", StartedAt: now, Currency: "AUD"})
			if err != nil {
				t.Fatal(err)
			}
			p3 := p2
			p3.Version = 3
			p3.State, p3.SessionID, p3.AmountTotal, p3.AmountTax, p3.AmountCaptured = "captured", sess.ID, 1100, 100, 1100
			p4, err := s.ChangeSessionPayment(ctx, SessionPaymentChange{Payment: p3, HoldKey: "hold:" + p.ID,
				Capture: &ledger.CaptureParams{Key: "capture:" + p.ID, Operator: op.ID, Split: ledger.Split{Tax: 100, Net: 1000}}, SessionStatus: model.PaymentCaptured})
			if err != nil || p4.State != "captured" {
				t.Fatalf("capture: %+v %v", p4, err)
			}
			if got, _ := s.GetSession(ctx, "", sess.ID); got.PaymentStatus != model.PaymentCaptured || got.AmountTotal != 1100 || got.AmountTax != 100 {
				t.Fatalf("session after capture: %+v", got)
			}
			if err := s.CheckLedger(ctx); err != nil {
				t.Fatal(err)
			}
			// p3 was never given a settlement time: not a sale yet.
			p5 := p4
			settled := time.Now()
			p5.SettledAt = &settled
			if _, err := s.ChangeSessionPayment(ctx, SessionPaymentChange{Payment: p5, Refund: &PaymentRefund{ID: NewRefundID(), Amount: 110, Tax: 10, State: "succeeded"}}); err != nil {
				t.Fatal(err)
			}
			sales, err := s.Sales(ctx, op.ID, now.Add(-time.Hour), now.Add(time.Hour))
			if err != nil || len(sales) != 1 || sales[0].Gross != 1100 || sales[0].Tax != 100 || sales[0].RefundTax != 10 || sales[0].StationID != st.ID {
				t.Fatalf("sales: %+v %v", sales, err)
			}
			uses, err := s.Uses(ctx, op.ID, now.Add(-time.Hour), now.Add(time.Hour), now.Add(time.Minute))
			if err != nil || len(uses) != 1 || uses[0].SessionID != sess.ID || !uses[0].Stop.Equal(now.Add(time.Minute)) {
				t.Fatalf("uses: %+v %v", uses, err)
			}
			if other, _ := s.Sales(ctx, "op_other", now.Add(-time.Hour), now.Add(time.Hour)); len(other) != 0 {
				t.Fatalf("another operator's sales: %+v", other)
			}
			// A wallet hold beyond the balance is refused and writes nothing.
			w := SessionPayment{OperatorID: op.ID, Purpose: "session", Method: "wallet", State: "authorized", StationID: st.ID,
				AccountID: "acc_1", IDToken: "CARD", Currency: "AUD", HoldAmount: 100}
			w.ID = "pay_wallet"
			wh2, _ := ledger.Hold(ledger.HoldParams{Key: "hold:pay_wallet", Reference: w.ID, Payment: w.ID,
				Funding: ledger.WalletAccount("acc_1", "AUD"), Amount: 100})
			if _, err := s.ChangeSessionPayment(ctx, SessionPaymentChange{Payment: w, Ledger: &wh2}); !errors.Is(err, ledger.ErrInsufficientFunds) {
				t.Fatalf("unfunded wallet hold: %v", err)
			}
			if _, err := s.GetSessionPayment(ctx, "pay_wallet"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("refused payment stored: %v", err)
			}
		})
	}
}
