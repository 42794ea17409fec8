package sessionbilling_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chargestar/chargestar/internal/servertest"
	"github.com/chargestar/chargestar/internal/sessionbilling"
	"github.com/chargestar/chargestar/internal/testutil"
	"github.com/stripe/stripe-go/v85/webhook"
)

// TestStripeWiring runs the server with --payments stripe against
// stripe-mock: the checkout opens a Stripe Checkout Session, and Stripe's
// webhooks reach billing through POST /webhooks/stripe, verified (a bad
// signature is 400) and applied once. stripe-mock answers with fixtures
// (its PaymentIntent is never authorised), so the payment stays a quote;
// the Stripe state machine itself is covered by the provider's tests.
func TestStripeWiring(t *testing.T) {
	mock := testutil.StartStripeMock(t)
	e := newEnv(t, servertest.Options{Payments: "stripe", StripeAPIURL: mock})
	st := e.station("ST-STRIPE", "ocpp1.6")
	c := e.checkout(st.ID, "")
	p := e.payment(c.PaymentID)
	if p.Provider != "stripe" || p.CheckoutID == "" || !strings.HasPrefix(c.CheckoutURL, "http") || p.State != string(sessionbilling.StateQuote) {
		t.Fatalf("stripe checkout: %+v (url %q)", p, c.CheckoutURL)
	}
	ev := fmt.Sprintf(`{"id":"evt_wiring_1","object":"event","api_version":"2024-06-20","created":%d,"type":"checkout.session.completed",`+
		`"data":{"object":{"id":%q,"object":"checkout.session","mode":"payment","status":"complete","amount_total":%d,"currency":"aud",`+
		`"payment_intent":"pi_wiring","metadata":{"payment_id":%q}}}}`, time.Now().Unix(), p.CheckoutID, p.HoldAmount, p.ID)
	post := func(path, sig string) int {
		req, _ := http.NewRequest("POST", e.srv.URL+path, strings.NewReader(ev))
		req.Header.Set("Stripe-Signature", sig)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	good := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: []byte(ev), Secret: servertest.StripeWebhookSecret, Timestamp: time.Now()}).Header
	bad := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: []byte(ev), Secret: "whsec_someone_else", Timestamp: time.Now()}).Header
	if code := post("/webhooks/stripe", bad); code != http.StatusBadRequest {
		t.Fatalf("bad signature: %d", code)
	}
	for i := range 2 { // a redelivery is acknowledged too
		if code := post("/webhooks/stripe", good); code != http.StatusNoContent {
			t.Fatalf("delivery %d: %d", i, code)
		}
	}
	if code := post("/webhooks/sandbox", good); code != http.StatusNotFound {
		t.Fatalf("another provider's endpoint: %d", code)
	}
	if got := e.payment(p.ID); got.State != string(sessionbilling.StateQuote) {
		t.Fatalf("a payment stripe-mock never authorised moved to %s", got.State)
	}
	if err := e.srv.Store.CheckLedger(context.Background()); err != nil {
		t.Fatal(err)
	}
}
