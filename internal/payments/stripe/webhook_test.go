package stripe

import (
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/chargestar/chargestar/internal/payments"
	"github.com/stripe/stripe-go/v85/webhook"
)

// event wraps a Stripe object in an event of type typ.
func event(id, typ, object string, extra string) string {
	return `{"id":"` + id + `","object":"event","api_version":"2024-06-20","created":1735689600,"type":"` + typ + `",` +
		extra + `"data":{"object":` + object + `}}`
}

func signed(payload, secret string, at time.Time) http.Header {
	sp := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: []byte(payload), Secret: secret, Timestamp: at})
	h := http.Header{}
	h.Set(SignatureHeader, sp.Header)
	return h
}

func TestWebhookNormalisation(t *testing.T) {
	now := time.Unix(1735689700, 0)
	p, err := New(Config{SecretKey: "sk_test_x", WebhookSecrets: []string{"whsec_platform", "whsec_connect"}, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	pi := func(status, extra string) string {
		return `{"id":"pi_1","object":"payment_intent","amount":5000,"currency":"aud","status":"` + status + `","metadata":{"session_id":"ses_1"},"customer":"cus_1"` + extra + `}`
	}
	for _, tc := range []struct {
		name    string
		payload string
		want    payments.Event
	}{
		{"checkout completed", event("evt_1", "checkout.session.completed",
			`{"id":"cs_1","object":"checkout.session","mode":"payment","status":"complete","amount_total":5000,"currency":"aud","payment_intent":"pi_1","customer":"cus_1","metadata":{"session_id":"ses_1"}}`, ""),
			payments.Event{ID: "evt_1", Type: payments.EventCheckoutCompleted, CheckoutID: "cs_1", PaymentID: "pi_1", Amount: 5000, Currency: "AUD", CustomerRef: "cus_1"}},
		{"checkout expired", event("evt_2", "checkout.session.expired",
			`{"id":"cs_1","object":"checkout.session","mode":"payment","status":"expired","amount_total":5000,"currency":"aud","metadata":{"session_id":"ses_1"}}`, ""),
			payments.Event{ID: "evt_2", Type: payments.EventCheckoutExpired, CheckoutID: "cs_1", Amount: 5000, Currency: "AUD"}},
		{"setup checkout completed is left to setup_intent events", event("evt_3", "checkout.session.completed",
			`{"id":"cs_2","object":"checkout.session","mode":"setup","status":"complete","setup_intent":"seti_1"}`, ""),
			payments.Event{ID: "evt_3", Type: payments.EventOther}},
		{"authorised", event("evt_4", "payment_intent.amount_capturable_updated", pi("requires_capture", `,"amount_capturable":5000,"payment_method":"pm_1"`), ""),
			payments.Event{ID: "evt_4", Type: payments.EventAuthorized, PaymentID: "pi_1", Amount: 5000, Currency: "AUD", CustomerRef: "cus_1", PaymentMethod: "pm_1"}},
		{"declined for insufficient funds", event("evt_5", "payment_intent.payment_failed",
			pi("requires_payment_method", `,"last_payment_error":{"type":"card_error","code":"card_declined","decline_code":"insufficient_funds","message":"Your card has insufficient funds."}`), ""),
			payments.Event{ID: "evt_5", Type: payments.EventPaymentFailed, PaymentID: "pi_1", Amount: 5000, Currency: "AUD", CustomerRef: "cus_1",
				DeclineCode: "insufficient_funds", Message: "Your card has insufficient funds."}},
		{"captured", event("evt_6", "payment_intent.succeeded", pi("succeeded", `,"amount_received":3210`), ""),
			payments.Event{ID: "evt_6", Type: payments.EventCaptured, PaymentID: "pi_1", Amount: 3210, Currency: "AUD", CustomerRef: "cus_1"}},
		{"voided", event("evt_7", "payment_intent.canceled", pi("canceled", `,"cancellation_reason":"abandoned"`), ""),
			payments.Event{ID: "evt_7", Type: payments.EventVoided, PaymentID: "pi_1", Amount: 5000, Currency: "AUD", CustomerRef: "cus_1"}},
		{"authorisation lapsed", event("evt_8", "payment_intent.canceled", pi("canceled", `,"cancellation_reason":"automatic"`), ""),
			payments.Event{ID: "evt_8", Type: payments.EventExpired, PaymentID: "pi_1", Amount: 5000, Currency: "AUD", CustomerRef: "cus_1"}},
		{"refund created succeeded", event("evt_9", "refund.created",
			`{"id":"re_1","object":"refund","amount":1000,"currency":"aud","status":"succeeded","payment_intent":"pi_1"}`, ""),
			payments.Event{ID: "evt_9", Type: payments.EventRefunded, RefundID: "re_1", PaymentID: "pi_1", Amount: 1000, Currency: "AUD"}},
		{"refund created pending", event("evt_10", "refund.created",
			`{"id":"re_2","object":"refund","amount":1000,"currency":"aud","status":"pending","payment_intent":"pi_1"}`, ""),
			payments.Event{ID: "evt_10", Type: payments.EventOther}},
		{"pending refund succeeded", `{"id":"evt_11","object":"event","created":1735689600,"type":"refund.updated","data":{"object":` +
			`{"id":"re_2","object":"refund","amount":1000,"currency":"aud","status":"succeeded","payment_intent":"pi_1"},"previous_attributes":{"status":"pending"}}}`,
			payments.Event{ID: "evt_11", Type: payments.EventRefunded, RefundID: "re_2", PaymentID: "pi_1", Amount: 1000, Currency: "AUD"}},
		{"refund metadata updated", `{"id":"evt_12","object":"event","created":1735689600,"type":"refund.updated","data":{"object":` +
			`{"id":"re_1","object":"refund","amount":1000,"currency":"aud","status":"succeeded","payment_intent":"pi_1"},"previous_attributes":{"metadata":{}}}}`,
			payments.Event{ID: "evt_12", Type: payments.EventOther}},
		{"card saved on a connected account", event("evt_13", "setup_intent.succeeded",
			`{"id":"seti_1","object":"setup_intent","status":"succeeded","customer":"cus_9","payment_method":"pm_9","metadata":{"account_id":"drv_1"}}`, `"account":"acct_op1",`),
			payments.Event{ID: "evt_13", Type: payments.EventSetupCompleted, CustomerRef: "cus_9", PaymentMethod: "pm_9", Account: "acct_op1"}},
		{"card not saved", event("evt_14", "setup_intent.setup_failed",
			`{"id":"seti_1","object":"setup_intent","status":"requires_payment_method","customer":"cus_9","last_setup_error":{"type":"card_error","code":"card_declined","decline_code":"generic_decline","message":"Your card was declined."}}`, ""),
			payments.Event{ID: "evt_14", Type: payments.EventSetupFailed, CustomerRef: "cus_9", DeclineCode: "generic_decline", Message: "Your card was declined."}},
		{"other", event("evt_15", "customer.created", `{"id":"cus_1","object":"customer"}`, ""), payments.Event{ID: "evt_15", Type: payments.EventOther}},
	} {
		secret := "whsec_platform"
		if strings.Contains(tc.payload, `"account"`) {
			secret = "whsec_connect" // Connect endpoint: the second secret
		}
		got, err := p.ParseWebhook([]byte(tc.payload), signed(tc.payload, secret, now))
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if got.CreatedAt.Unix() != 1735689600 || got.ProviderType == "" {
			t.Errorf("%s: created %v, provider type %q", tc.name, got.CreatedAt, got.ProviderType)
		}
		if strings.Contains(tc.payload, `"metadata":{"session_id":"ses_1"}`) && tc.want.Type != payments.EventOther && got.Metadata["session_id"] != "ses_1" {
			t.Errorf("%s: metadata %v", tc.name, got.Metadata)
		}
		got.CreatedAt, got.ProviderType, got.Metadata, got.Card = time.Time{}, "", nil, nil
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.name, got, tc.want)
		}
	}

	// Signature checks.
	payload := event("evt_1", "payment_intent.succeeded", pi("succeeded", `,"amount_received":3210`), "")
	for _, tc := range []struct {
		name   string
		body   string
		header http.Header
	}{
		{"tampered", strings.Replace(payload, "3210", "1", 1), signed(payload, "whsec_platform", now)},
		{"unknown secret", payload, signed(payload, "whsec_other", now)},
		{"replayed after the window", payload, signed(payload, "whsec_platform", now.Add(-5*time.Minute-time.Second))},
		{"from the future", payload, signed(payload, "whsec_platform", now.Add(6*time.Minute))},
		{"unsigned", payload, http.Header{}},
	} {
		if _, err := p.ParseWebhook([]byte(tc.body), tc.header); !errors.Is(err, payments.ErrInvalidSignature) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	if _, err := p.ParseWebhook([]byte(payload), signed(payload, "whsec_platform", now.Add(-4*time.Minute))); err != nil {
		t.Errorf("within the window: %v", err)
	}
	thin := `{"id":"evt_x","object":"v2.core.event","type":"v1.billing.meter.error_report_triggered"}`
	if _, err := p.ParseWebhook([]byte(thin), signed(thin, "whsec_platform", now)); !errors.Is(err, payments.ErrInvalidRequest) {
		t.Errorf("thin event: %v", err)
	}
}
