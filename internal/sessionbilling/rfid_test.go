package sessionbilling_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/chargestar/chargestar/internal/ledger"
	"github.com/chargestar/chargestar/internal/servertest"
	"github.com/chargestar/chargestar/internal/sessionbilling"
	"github.com/chargestar/chargestar/internal/store"
)

func (e *env) account(funding string) store.DriverAccount {
	e.t.Helper()
	a, err := e.srv.Store.SaveDriverAccount(context.Background(), store.DriverAccount{Email: "d@example.com", Currency: "AUD", Funding: funding})
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

func (e *env) card(acct store.DriverAccount, token, status string) {
	e.t.Helper()
	if _, err := e.srv.Store.SaveDriverCard(context.Background(), store.DriverCard{IDToken: token, AccountID: acct.ID, Status: status}); err != nil {
		e.t.Fatal(err)
	}
}

func authorizeStatus(st *servertest.Station, token string) string {
	m := st.CallOK("Authorize", `{"idTag":"`+token+`"}`)
	return m["idTagInfo"].(map[string]any)["status"].(string)
}

// TestRFIDWalletSession: a NextCharge card on a prepaid wallet: top-up
// through the hosted page, tap, charge, and the wallet pays exactly the
// price. Unknown, blocked and unfunded cards are refused.
func TestRFIDWalletSession(t *testing.T) {
	e := newEnv(t, servertest.Options{})
	ctx := context.Background()
	acct := e.account(store.FundingWallet)
	e.card(acct, "04A1B2C3D4", "Accepted")
	co, err := e.srv.Billing.StartTopUp(ctx, acct.ID, 6000, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if resp := e.pay(checkout{CheckoutURL: co.URL}, "4242424242424242"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("top-up page: %s", resp.Status)
	}
	e.waitState(co.Payment.ID, sessionbilling.StateCaptured)
	if b, _ := e.srv.Billing.WalletBalance(ctx, acct); b.Available() != 6000 {
		t.Fatalf("wallet after top-up: %+v", b)
	}

	st := e.station("ST-RFID", "ocpp1.6")
	if got := authorizeStatus(st, "04A1B2C3D4"); got != "Accepted" {
		t.Fatalf("funded card: %s", got)
	}
	if b, _ := e.srv.Billing.WalletBalance(ctx, acct); b.Available() != 1000 {
		t.Fatalf("wallet with a $50 hold: %+v (available %d)", b, b.Available())
	}
	s := &session16{t: t, st: st}
	start := time.Now().Add(-time.Hour)
	s.start("04A1B2C3D4", start, 0)
	p, err := e.srv.Store.FindSessionPayment(ctx, store.SessionPaymentFind{OpenToken: "04a1b2c3d4"})
	if err != nil {
		t.Fatal(err)
	}
	e.waitState(p.ID, sessionbilling.StateCharging)
	// A second tap while charging is a concurrent transaction.
	if m := st.CallOK("StartTransaction", `{"connectorId":2,"idTag":"04A1B2C3D4","meterStart":0,"timestamp":"`+ts(time.Now())+`"}`); m["idTagInfo"].(map[string]any)["status"] != "ConcurrentTx" {
		t.Fatalf("second start: %v", m)
	}
	s.stop(start.Add(time.Hour), 20000, "Local")
	p = e.waitState(p.ID, sessionbilling.StateCaptured)
	if p.AmountCaptured != 1100 || p.Method != "wallet" {
		t.Fatalf("wallet session: %+v", p)
	}
	if b, _ := e.srv.Billing.WalletBalance(ctx, acct); b.Available() != 4900 || b.Pending() != 0 {
		t.Fatalf("wallet after the session: available %d pending %d", b.Available(), b.Pending())
	}
	payable, _ := e.srv.Store.LedgerBalance(ctx, ledger.OperatorPayableAccount(e.op.ID, "AUD"))
	if payable.Posted() != 1000 {
		t.Fatalf("operator payable %d", payable.Posted())
	}

	if got := authorizeStatus(st, "DEADBEEF"); got != "Invalid" {
		t.Fatalf("unknown card: %s", got)
	}
	e.card(acct, "0BADCAFE", "Blocked")
	if got := authorizeStatus(st, "0BADCAFE"); got != "Blocked" {
		t.Fatalf("blocked card: %s", got)
	}
	poor := e.account(store.FundingWallet)
	e.card(poor, "0E0E0E0E", "Accepted")
	if got := authorizeStatus(st, "0E0E0E0E"); got != "Blocked" {
		t.Fatalf("unfunded card: %s", got)
	}
	e.checkLedger()
}

// TestRFIDSavedCardSession: a card saved through the hosted setup page is
// held off-session at the tap and captured for the price; a card saved
// with the insufficient-funds number is refused at the tap.
func TestRFIDSavedCardSession(t *testing.T) {
	for _, proto := range []string{"ocpp1.6", "ocpp2.0.1"} {
		t.Run(proto, func(t *testing.T) {
			e := newEnv(t, servertest.Options{})
			ctx := context.Background()
			acct := e.account(store.FundingCard)
			e.card(acct, "0CAFE123", "Accepted")
			co, err := e.srv.Billing.StartCardSetup(ctx, acct.ID, "", "")
			if err != nil {
				t.Fatal(err)
			}
			e.pay(checkout{CheckoutURL: co.URL}, "4242424242424242")
			servertest.Eventually(t, 10*time.Second, "card saved", func() bool {
				a, _ := e.srv.Store.GetDriverAccount(ctx, acct.ID)
				return a.PaymentMethodRef != ""
			})
			st := e.station("ST-CARD", proto)
			start := time.Now().Add(-time.Hour)
			var s stationSession
			if proto == "ocpp1.6" {
				if got := authorizeStatus(st, "0CAFE123"); got != "Accepted" {
					t.Fatalf("saved card: %s", got)
				}
				s = &session16{t: t, st: st}
			} else {
				m := st.CallOK("Authorize", `{"idToken":{"idToken":"0CAFE123","type":"ISO14443"}}`)
				if m["idTokenInfo"].(map[string]any)["status"] != "Accepted" {
					t.Fatalf("saved card (2.x): %v", m)
				}
				s = &session2{t: t, st: st}
			}
			s.start("0CAFE123", start, 0)
			p, err := e.srv.Store.FindSessionPayment(ctx, store.SessionPaymentFind{OpenToken: "0CAFE123"})
			if err != nil {
				t.Fatal(err)
			}
			e.waitState(p.ID, sessionbilling.StateCharging)
			s.stop(start.Add(time.Hour), 20000, "Local")
			p = e.waitState(p.ID, sessionbilling.StateCaptured)
			if p.AmountCaptured != 1100 || p.Method != "saved_card" || p.CardLast4 != "4242" {
				t.Fatalf("saved-card session: %+v", p)
			}
			e.checkLedger()

			poor := e.account(store.FundingCard)
			e.card(poor, "0DEAD999", "Accepted")
			co, _ = e.srv.Billing.StartCardSetup(ctx, poor.ID, "", "")
			e.pay(checkout{CheckoutURL: co.URL}, "4000000000009995")
			servertest.Eventually(t, 10*time.Second, "card saved", func() bool {
				a, _ := e.srv.Store.GetDriverAccount(ctx, poor.ID)
				return a.PaymentMethodRef != ""
			})
			if proto == "ocpp1.6" {
				if got := authorizeStatus(st, "0DEAD999"); got != "Blocked" {
					t.Fatalf("card without funds: %s", got)
				}
			}
		})
	}
}

// TestSavedCardHoldLostInCrash: the server died between the saved card's
// hold and its record (the payment is still a quote). The sweep asks the
// provider again with the same key and releases the hold it finds.
func TestSavedCardHoldLostInCrash(t *testing.T) {
	e := newEnv(t, servertest.Options{Billing: sessionbilling.Config{SweepInterval: time.Hour}})
	ctx := context.Background()
	acct := e.account(store.FundingCard)
	co, err := e.srv.Billing.StartCardSetup(ctx, acct.ID, "", "")
	if err != nil {
		t.Fatal(err)
	}
	e.pay(checkout{CheckoutURL: co.URL}, "4242424242424242")
	servertest.Eventually(t, 10*time.Second, "card saved", func() bool {
		a, _ := e.srv.Store.GetDriverAccount(ctx, acct.ID)
		acct = a
		return a.PaymentMethodRef != ""
	})
	st := e.station("ST-LOST", "ocpp1.6")
	past := time.Now().Add(-time.Minute)
	p, err := e.srv.Store.ChangeSessionPayment(ctx, store.SessionPaymentChange{Payment: store.SessionPayment{
		OperatorID: e.op.ID, Purpose: "session", Method: "saved_card", State: "quote", StationID: st.ID, AccountID: acct.ID,
		IDToken: "0LOST", Provider: "sandbox", SettlementMode: "platform", Currency: "AUD", HoldAmount: 5000,
		Tariff: []byte(testTariff), ExpiresAt: &past}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Billing.Sweep(ctx, false); err != nil {
		t.Fatal(err)
	}
	p = e.waitState(p.ID, sessionbilling.StateVoided)
	sb, err := e.srv.Store.SandboxPayment(ctx, p.ProviderPaymentID)
	if err != nil || sb.Status != "voided" {
		t.Fatalf("the lost hold at the acquirer: %+v %v", sb, err)
	}
	e.checkLedger()
}
