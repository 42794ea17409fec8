package stripe

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chargestar/chargestar/internal/payments"
)

// fakeStripe is an httptest Stripe API: it records each request and answers
// with the canned reply of its method and path.
type fakeStripe struct {
	t       *testing.T
	srv     *httptest.Server
	mu      sync.Mutex
	reqs    []recorded
	replies map[string]reply // "POST /v1/refunds"
}

type recorded struct {
	method, path string
	form         url.Values
	header       http.Header
}

type reply struct {
	status int
	body   string
}

func newFake(t *testing.T) (*fakeStripe, *Provider) {
	f := &fakeStripe{t: t, replies: map[string]reply{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	p, err := New(Config{SecretKey: "sk_test_fake", APIURL: f.srv.URL, MaxNetworkRetries: -1, WebhookSecrets: []string{"whsec_platform", "whsec_connect"}})
	if err != nil {
		t.Fatal(err)
	}
	return f, p
}

func (f *fakeStripe) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(body))
	if r.Method == http.MethodGet {
		form = r.URL.Query()
	}
	f.mu.Lock()
	f.reqs = append(f.reqs, recorded{r.Method, r.URL.Path, form, r.Header.Clone()})
	rep, ok := f.replies[r.Method+" "+r.URL.Path]
	f.mu.Unlock()
	if !ok {
		rep = reply{404, `{"error":{"type":"invalid_request_error","code":"resource_missing","message":"No such route"}}`}
	}
	if u, _, _ := r.BasicAuth(); u != "sk_test_fake" && r.Header.Get("Authorization") != "Bearer sk_test_fake" {
		f.t.Errorf("request without the API key: %v", r.Header)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(rep.status)
	io.WriteString(w, rep.body)
}

func (f *fakeStripe) on(route string, status int, body string) {
	f.replies[route] = reply{status, body}
}

func (f *fakeStripe) last() recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.reqs) == 0 {
		f.t.Fatal("no request made")
	}
	return f.reqs[len(f.reqs)-1]
}

func wantForm(t *testing.T, r recorded, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got := r.form.Get(k); got != v {
			t.Errorf("%s %s: %s = %q, want %q", r.method, r.path, k, got, v)
		}
	}
}

func wantHeader(t *testing.T, r recorded, name, want string) {
	t.Helper()
	if got := r.header.Get(name); got != want {
		t.Errorf("%s %s: header %s = %q, want %q", r.method, r.path, name, got, want)
	}
}

const piAuthorized = `{"id":"pi_1","object":"payment_intent","amount":5000,"amount_capturable":5000,"currency":"aud",
	"status":"requires_capture","capture_method":"manual","created":1735689600,"customer":"cus_1","payment_method":"pm_1",
	"metadata":{"session_id":"ses_1"},
	"latest_charge":{"id":"ch_1","object":"charge","amount_refunded":0,"payment_method_details":{"type":"card",
		"card":{"brand":"visa","last4":"4242","exp_month":12,"exp_year":2030,"capture_before":1736294400}}}}`

func TestCreateCheckoutRequest(t *testing.T) {
	f, p := newFake(t)
	f.on("POST /v1/checkout/sessions", 200, `{"id":"cs_test_1","object":"checkout.session","url":"https://checkout.stripe.com/c/pay/cs_test_1","expires_at":1735693200,"mode":"payment"}`)
	c, err := p.CreateCheckout(context.Background(), payments.CheckoutRequest{
		IdempotencyKey: "ses_1/hold", Amount: 5000, Currency: "AUD", Description: "Charging at Acme, bay 4",
		SuccessURL: "https://app.example/ok?c={CHECKOUT_SESSION_ID}", CancelURL: "https://app.example/cancel",
		Metadata: map[string]string{"session_id": "ses_1"}, Settlement: payments.Settlement{Mode: payments.SettlementDirect, Account: "acct_op1"},
		CustomerRef: "cus_1", SaveCard: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.ID != "cs_test_1" || c.URL != "https://checkout.stripe.com/c/pay/cs_test_1" || !c.ExpiresAt.Equal(time.Unix(1735693200, 0)) {
		t.Errorf("checkout: %+v", c)
	}
	r := f.last()
	if r.path != "/v1/checkout/sessions" {
		t.Fatalf("path %s", r.path)
	}
	wantForm(t, r, map[string]string{
		"mode":                                "payment",
		"payment_intent_data[capture_method]": "manual",
		"payment_intent_data[setup_future_usage]":       "off_session",
		"payment_intent_data[metadata][session_id]":     "ses_1",
		"payment_intent_data[description]":              "Charging at Acme, bay 4",
		"line_items[0][price_data][currency]":           "aud",
		"line_items[0][price_data][unit_amount]":        "5000",
		"line_items[0][price_data][product_data][name]": "Charging at Acme, bay 4",
		"line_items[0][quantity]":                       "1",
		"payment_method_types[0]":                       "card",
		"success_url":                                   "https://app.example/ok?c={CHECKOUT_SESSION_ID}",
		"cancel_url":                                    "https://app.example/cancel",
		"metadata[session_id]":                          "ses_1",
		"customer":                                      "cus_1",
	})
	wantHeader(t, r, "Idempotency-Key", "ses_1/hold")
	wantHeader(t, r, "Stripe-Account", "acct_op1")
	if r.form.Has("payment_intent_data[application_fee_amount]") {
		t.Error("the application fee belongs to the capture")
	}

	// Platform settlement: no Stripe-Account header.
	_, err = p.CreateCheckout(context.Background(), payments.CheckoutRequest{IdempotencyKey: "k2", Amount: 100, Currency: "EUR", SuccessURL: "https://x/"})
	if err != nil {
		t.Fatal(err)
	}
	wantHeader(t, f.last(), "Stripe-Account", "")
	if _, err := p.CreateCheckout(context.Background(), payments.CheckoutRequest{Amount: 100, Currency: "EUR", SuccessURL: "https://x/"}); !errors.Is(err, payments.ErrInvalidRequest) {
		t.Errorf("no idempotency key: %v", err)
	}
}

func TestCaptureVoidRefundRequests(t *testing.T) {
	f, p := newFake(t)
	ctx := context.Background()
	ref := payments.PaymentRef{ID: "pi_1", Account: "acct_op1"}

	f.on("POST /v1/payment_intents/pi_1/capture", 200, `{"id":"pi_1","object":"payment_intent","amount":5000,"amount_received":3210,
		"application_fee_amount":150,"currency":"aud","status":"succeeded","latest_charge":{"id":"ch_1","amount_refunded":0}}`)
	got, err := p.Capture(ctx, payments.CaptureRequest{IdempotencyKey: "ses_1/capture", Payment: ref, Amount: 3210, ApplicationFee: 150})
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != payments.StatusCaptured || got.AmountCaptured != 3210 || got.ApplicationFee != 150 || got.Currency != "AUD" ||
		got.Settlement != (payments.Settlement{Mode: payments.SettlementDirect, Account: "acct_op1"}) {
		t.Errorf("captured: %+v", got)
	}
	r := f.last()
	wantForm(t, r, map[string]string{"amount_to_capture": "3210", "application_fee_amount": "150", "expand[0]": "latest_charge"})
	wantHeader(t, r, "Idempotency-Key", "ses_1/capture")
	wantHeader(t, r, "Stripe-Account", "acct_op1")

	f.on("POST /v1/payment_intents/pi_1/cancel", 200, `{"id":"pi_1","object":"payment_intent","amount":5000,"amount_capturable":5000,"currency":"aud","status":"canceled","cancellation_reason":"abandoned"}`)
	got, err = p.Void(ctx, payments.VoidRequest{IdempotencyKey: "ses_1/void", Payment: ref})
	if err != nil || got.Status != payments.StatusVoided {
		t.Errorf("void: %+v %v", got, err)
	}
	wantForm(t, f.last(), map[string]string{"cancellation_reason": "abandoned"})
	wantHeader(t, f.last(), "Idempotency-Key", "ses_1/void")

	// Voiding what Stripe already cancelled (the authorisation lapsed) is
	// not an error.
	f.on("POST /v1/payment_intents/pi_1/cancel", 400, `{"error":{"type":"invalid_request_error","code":"payment_intent_unexpected_state","message":"You cannot cancel this PaymentIntent because it has a status of canceled."}}`)
	f.on("GET /v1/payment_intents/pi_1", 200, `{"id":"pi_1","object":"payment_intent","amount":5000,"currency":"aud","status":"canceled","cancellation_reason":"automatic"}`)
	got, err = p.Void(ctx, payments.VoidRequest{IdempotencyKey: "ses_1/void2", Payment: ref})
	if err != nil || got.Status != payments.StatusExpired {
		t.Errorf("void of a lapsed hold: %+v %v", got, err)
	}
	wantHeader(t, f.last(), "Stripe-Account", "acct_op1")
	// …but voiding a captured payment is.
	f.on("GET /v1/payment_intents/pi_1", 200, `{"id":"pi_1","object":"payment_intent","amount":5000,"currency":"aud","status":"succeeded","amount_received":5000}`)
	_, err = p.Void(ctx, payments.VoidRequest{IdempotencyKey: "ses_1/void3", Payment: ref})
	if !errors.Is(err, payments.ErrInvalidRequest) {
		t.Errorf("void of a captured payment: %v", err)
	}

	f.on("POST /v1/refunds", 200, `{"id":"re_1","object":"refund","amount":1000,"currency":"aud","status":"succeeded","created":1735700000,"payment_intent":"pi_1"}`)
	rf, err := p.Refund(ctx, payments.RefundRequest{IdempotencyKey: "ses_1/refund/1", Payment: ref, Amount: 1000, Reason: payments.RefundRequestedByCustomer, RefundApplicationFee: true})
	if err != nil || rf != (payments.Refund{ID: "re_1", PaymentID: "pi_1", Amount: 1000, Currency: "AUD", Status: "succeeded", CreatedAt: time.Unix(1735700000, 0).UTC()}) {
		t.Errorf("refund: %+v %v", rf, err)
	}
	wantForm(t, f.last(), map[string]string{"payment_intent": "pi_1", "amount": "1000", "reason": "requested_by_customer", "refund_application_fee": "true"})
	wantHeader(t, f.last(), "Idempotency-Key", "ses_1/refund/1")
	if _, err = p.Refund(ctx, payments.RefundRequest{IdempotencyKey: "ses_1/refund/2", Payment: ref}); err != nil {
		t.Fatal(err)
	}
	if f.last().form.Has("amount") {
		t.Error("a full refund sends no amount")
	}

	f.on("GET /v1/payment_intents/pi_1", 200, piAuthorized)
	got, err = p.GetPayment(ctx, payments.PaymentRef{ID: "pi_1"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != payments.StatusAuthorized || got.Card == nil || *got.Card != (payments.Card{Brand: "visa", Last4: "4242", ExpMonth: 12, ExpYear: 2030}) ||
		!got.HoldExpiresAt.Equal(time.Unix(1736294400, 0)) || got.CustomerRef != "cus_1" || got.PaymentMethod != "pm_1" || got.Metadata["session_id"] != "ses_1" {
		t.Errorf("payment: %+v", got)
	}
	wantForm(t, f.last(), map[string]string{"expand[0]": "latest_charge"})
	wantHeader(t, f.last(), "Stripe-Account", "")
}

func TestOffSessionAndSetupRequests(t *testing.T) {
	f, p := newFake(t)
	ctx := context.Background()
	f.on("POST /v1/payment_intents", 200, piAuthorized)
	got, err := p.AuthorizeOffSession(ctx, payments.AuthorizeRequest{IdempotencyKey: "ses_9/hold", Amount: 5000, Currency: "AUD",
		CustomerRef: "cus_1", PaymentMethodRef: "pm_1", Metadata: map[string]string{"session_id": "ses_9"}})
	if err != nil || got.Status != payments.StatusAuthorized || got.ID != "pi_1" {
		t.Fatalf("off-session: %+v %v", got, err)
	}
	wantForm(t, f.last(), map[string]string{"amount": "5000", "currency": "aud", "customer": "cus_1", "payment_method": "pm_1",
		"confirm": "true", "off_session": "true", "capture_method": "manual", "metadata[session_id]": "ses_9"})
	wantHeader(t, f.last(), "Idempotency-Key", "ses_9/hold")

	// A PaymentIntent that needs the customer (3-D Secure) cannot be held off-session.
	f.on("POST /v1/payment_intents", 200, `{"id":"pi_2","object":"payment_intent","amount":5000,"currency":"aud","status":"requires_action"}`)
	_, err = p.AuthorizeOffSession(ctx, payments.AuthorizeRequest{IdempotencyKey: "k", Amount: 5000, Currency: "AUD", CustomerRef: "cus_1", PaymentMethodRef: "pm_1"})
	var pe *payments.Error
	if !errors.As(err, &pe) || !errors.Is(err, payments.ErrDeclined) || pe.Code != payments.DeclineAuthRequired || pe.PaymentID != "pi_2" {
		t.Errorf("requires_action: %v", err)
	}

	f.on("POST /v1/customers", 200, `{"id":"cus_new","object":"customer"}`)
	f.on("POST /v1/checkout/sessions", 200, `{"id":"cs_setup","object":"checkout.session","url":"https://checkout.stripe.com/c/pay/cs_setup","expires_at":1735693200,"mode":"setup","customer":"cus_new"}`)
	c, err := p.CreateCardSetup(ctx, payments.CardSetupRequest{IdempotencyKey: "drv_1/card", Email: "driver@example.com",
		SuccessURL: "https://app.example/card", Metadata: map[string]string{"account_id": "drv_1"}, Settlement: payments.Settlement{Mode: payments.SettlementDirect, Account: "acct_op1"}})
	if err != nil || c.CustomerRef != "cus_new" || c.ID != "cs_setup" {
		t.Fatalf("setup: %+v %v", c, err)
	}
	f.mu.Lock()
	cust := f.reqs[len(f.reqs)-2]
	f.mu.Unlock()
	if cust.path != "/v1/customers" {
		t.Fatalf("customer request: %+v", cust)
	}
	wantForm(t, cust, map[string]string{"email": "driver@example.com"})
	wantHeader(t, cust, "Idempotency-Key", "drv_1/card/customer")
	wantHeader(t, cust, "Stripe-Account", "acct_op1")
	wantForm(t, f.last(), map[string]string{"mode": "setup", "customer": "cus_new", "setup_intent_data[metadata][account_id]": "drv_1", "payment_method_types[0]": "card"})
	wantHeader(t, f.last(), "Idempotency-Key", "drv_1/card")
	wantHeader(t, f.last(), "Stripe-Account", "acct_op1")
}

// TestErrors maps Stripe's error replies onto the payments error kinds.
func TestErrors(t *testing.T) {
	f, p := newFake(t)
	for _, tc := range []struct {
		name      string
		status    int
		body      string
		kind      error
		code      string
		paymentID string
	}{
		{"generic decline", 402, `{"error":{"type":"card_error","code":"card_declined","decline_code":"generic_decline","message":"Your card was declined.","payment_intent":{"id":"pi_d","object":"payment_intent"}}}`,
			payments.ErrDeclined, "generic_decline", "pi_d"},
		{"insufficient funds", 402, `{"error":{"type":"card_error","code":"card_declined","decline_code":"insufficient_funds","message":"Your card has insufficient funds.","payment_intent":{"id":"pi_f"}}}`,
			payments.ErrInsufficientFunds, "insufficient_funds", "pi_f"},
		{"expired card", 402, `{"error":{"type":"card_error","code":"expired_card","message":"Your card has expired."}}`, payments.ErrDeclined, "expired_card", ""},
		{"authentication required", 402, `{"error":{"type":"card_error","code":"authentication_required","decline_code":"authentication_required","message":"This transaction requires authentication."}}`,
			payments.ErrDeclined, "authentication_required", ""},
		{"invalid request", 400, `{"error":{"type":"invalid_request_error","code":"amount_too_large","message":"Amount must be no more than 5000"}}`, payments.ErrInvalidRequest, "amount_too_large", ""},
		{"unexpected state", 400, `{"error":{"type":"invalid_request_error","code":"payment_intent_unexpected_state","message":"already captured"}}`, payments.ErrInvalidRequest, "payment_intent_unexpected_state", ""},
		{"no such payment", 404, `{"error":{"type":"invalid_request_error","code":"resource_missing","message":"No such payment_intent: 'pi_x'"}}`, payments.ErrNotFound, "resource_missing", ""},
		{"idempotency conflict", 400, `{"error":{"type":"idempotency_error","message":"Keys for idempotent requests can only be used with the same parameters they were first used with."}}`, payments.ErrIdempotencyConflict, "", ""},
		{"key in use", 409, `{"error":{"type":"invalid_request_error","code":"idempotency_key_in_use","message":"in use"}}`, payments.ErrIdempotencyConflict, "idempotency_key_in_use", ""},
		{"server error", 500, `{"error":{"type":"api_error","message":"Something went wrong"}}`, payments.ErrUnavailable, "", ""},
		{"rate limited", 429, `{"error":{"type":"invalid_request_error","code":"rate_limit","message":"Too many requests"}}`, payments.ErrUnavailable, "rate_limit", ""},
		{"bad key", 401, `{"error":{"type":"invalid_request_error","message":"Invalid API Key provided"}}`, payments.ErrUnavailable, "", ""},
	} {
		f.on("POST /v1/payment_intents/pi_x/capture", tc.status, tc.body)
		_, err := p.Capture(context.Background(), payments.CaptureRequest{IdempotencyKey: "k", Payment: payments.PaymentRef{ID: "pi_x"}, Amount: 100})
		var pe *payments.Error
		if !errors.As(err, &pe) || !errors.Is(err, tc.kind) || pe.Code != tc.code || pe.PaymentID != tc.paymentID {
			t.Errorf("%s: got %#v (%v), want %v code %q payment %q", tc.name, pe, err, tc.kind, tc.code, tc.paymentID)
			continue
		}
		if payments.Retryable(err) != (tc.kind == payments.ErrUnavailable) {
			t.Errorf("%s: Retryable = %v", tc.name, payments.Retryable(err))
		}
		if (tc.kind == payments.ErrDeclined || tc.kind == payments.ErrInsufficientFunds) && payments.DeclineCode(err) != tc.code {
			t.Errorf("%s: DeclineCode = %q", tc.name, payments.DeclineCode(err))
		}
	}

	// The network: nothing listens any more.
	f.srv.Close()
	_, err := p.GetPayment(context.Background(), payments.PaymentRef{ID: "pi_x"})
	if !errors.Is(err, payments.ErrUnavailable) || !payments.Retryable(err) {
		t.Errorf("network failure: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.GetPayment(ctx, payments.PaymentRef{ID: "pi_x"}); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled context: %v", err)
	}
}

func TestNewNeedsAKey(t *testing.T) {
	if _, err := New(Config{}); err == nil || !strings.Contains(err.Error(), "key") {
		t.Errorf("New without a key: %v", err)
	}
}
