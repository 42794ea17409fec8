package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chargestar/chargestar/internal/payments"
	"github.com/chargestar/chargestar/internal/store"
)

func TestSignatureVerify(t *testing.T) {
	secret := []byte("whsec_test")
	body := []byte(`{"id":"sbx_evt_1","type":"payment.captured"}`)
	now := time.Unix(1_735_689_600, 0)
	good := Sign(secret, now, body)
	if !strings.HasPrefix(good, "t=1735689600,v1=") || len(good) != len("t=1735689600,v1=")+64 {
		t.Fatalf("header %q", good)
	}
	for _, tc := range []struct {
		name    string
		header  string
		body    []byte
		at      time.Time
		wantErr bool
	}{
		{"valid", good, body, now, false},
		{"valid within the window", good, body, now.Add(5 * time.Minute), false},
		{"rotated secret: any v1 may match", "t=1735689600,v1=" + strings.Repeat("ab", 32) + "," + strings.TrimPrefix(good, "t=1735689600,"), body, now, false},
		{"tampered body", good, []byte(`{"id":"sbx_evt_1","type":"payment.voided"}`), now, true},
		{"wrong secret", Sign([]byte("other"), now, body), body, now, true},
		{"replayed after the window", good, body, now.Add(5*time.Minute + time.Second), true},
		{"from the future", Sign(secret, now.Add(10*time.Minute), body), body, now, true},
		{"timestamp changed", strings.Replace(good, "t=1735689600", "t=1735689601", 1), body, now, true},
		{"no header", "", body, now, true},
		{"no signature", "t=1735689600", body, now, true},
		{"garbage", "v1", body, now, true},
		{"other scheme only", strings.Replace(good, "v1=", "v0=", 1), body, now, true},
	} {
		err := Verify(secret, tc.header, tc.body, tc.at, 5*time.Minute)
		if (err != nil) != tc.wantErr {
			t.Errorf("%s: err = %v", tc.name, err)
		}
		if err != nil && !errors.Is(err, payments.ErrInvalidSignature) {
			t.Errorf("%s: %v is not ErrInvalidSignature", tc.name, err)
		}
	}
}

// TestWebhookDelivery: events are POSTed, signed, to the webhook URL; a
// failing endpoint is retried with backoff; the receiver verifies them with
// ParseWebhook, which refuses tampering and replays outside the window.
func TestWebhookDelivery(t *testing.T) {
	var fail atomic.Int32
	var mu sync.Mutex
	var received []payments.Event
	var e *env
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if fail.Load() > 0 {
			fail.Add(-1)
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
			return
		}
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("delivery: %s %s", r.Method, r.Header.Get("Content-Type"))
		}
		ev, err := e.p.ParseWebhook(body, r.Header)
		if err != nil {
			t.Errorf("receiver: %v", err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		received = append(received, ev)
		mu.Unlock()
	}))
	defer hook.Close()
	e = newEnv(t, "sqlite:"+t.TempDir()+"/cs.db", Options{WebhookURL: hook.URL, WebhookMaxAttempts: 3, WebhookRetryBase: time.Minute})
	ctx := context.Background()

	p := e.authorized(5000)
	fail.Store(1) // the first attempt fails
	if n := must[int](t)(e.p.DeliverDue(ctx)); n != 1 {
		t.Fatalf("delivered %d, want 1 (the second event after the first failed)", n)
	}
	rows := must[[]store.SandboxEvent](t)(e.st.SandboxEvents(ctx, 0, 10))
	if rows[0].Status != store.SandboxEventPending || rows[0].Attempts != 1 || !strings.Contains(rows[0].LastError, "503") ||
		!rows[0].NextAttemptAt.Equal(e.clock.Now().Add(time.Minute)) || rows[1].Status != store.SandboxEventDelivered {
		t.Fatalf("after a failed attempt: %+v", rows)
	}
	if n := must[int](t)(e.p.DeliverDue(ctx)); n != 0 {
		t.Fatalf("retried before its time")
	}
	e.clock.Advance(time.Minute)
	if n := must[int](t)(e.p.DeliverDue(ctx)); n != 1 {
		t.Fatalf("retry delivered %d", n)
	}
	if len(received) != 2 || received[0].Type != payments.EventCheckoutCompleted || received[1].Type != payments.EventAuthorized ||
		received[1].PaymentID != p.ID || received[1].Amount != 5000 || received[1].Metadata["session_id"] != "ses_1" {
		t.Fatalf("received: %+v", received)
	}

	// An endpoint that stays down: 3 attempts, 1 min then 2 min apart, then failed.
	must[payments.Payment](t)(e.p.Void(ctx, payments.VoidRequest{IdempotencyKey: key(), Payment: p.Ref()}))
	fail.Store(100)
	for _, wait := range []time.Duration{0, time.Minute, 2 * time.Minute} {
		e.clock.Advance(wait)
		if n := must[int](t)(e.p.DeliverDue(ctx)); n != 0 {
			t.Fatal("delivered to a failing endpoint")
		}
	}
	rows = must[[]store.SandboxEvent](t)(e.st.SandboxEvents(ctx, 0, 10))
	if last := rows[len(rows)-1]; last.Status != store.SandboxEventFailed || last.Attempts != 3 {
		t.Errorf("gave-up event: %+v", last)
	}
	if got := fail.Load(); got != 97 {
		t.Errorf("%d attempts on the failing endpoint, want 3", 100-got)
	}

	// The receiver's checks.
	payload := rows[0].Payload
	h := http.Header{}
	h.Set(SignatureHeader, Sign([]byte("whsec_test"), e.clock.Now(), payload))
	ev := must[payments.Event](t)(e.p.ParseWebhook(payload, h))
	if ev.ID != rows[0].ID {
		t.Errorf("event id %q, want the stored %q (stable across redeliveries)", ev.ID, rows[0].ID)
	}
	tampered := []byte(strings.Replace(string(payload), `"amount":5000`, `"amount":5`, 1))
	if _, err := e.p.ParseWebhook(tampered, h); !errors.Is(err, payments.ErrInvalidSignature) {
		t.Errorf("tampered body: %v", err)
	}
	e.clock.Advance(DefaultWebhookTolerance + time.Second)
	if _, err := e.p.ParseWebhook(payload, h); !errors.Is(err, payments.ErrInvalidSignature) {
		t.Errorf("replay after the window: %v", err)
	}
	h.Set(SignatureHeader, Sign([]byte("whsec_test"), e.clock.Now(), []byte(`{"id":"x","type":"something.new"}`)))
	if ev, err := e.p.ParseWebhook([]byte(`{"id":"x","type":"something.new"}`), h); err != nil || ev.Type != payments.EventOther {
		t.Errorf("unknown event type: %+v %v", ev, err)
	}
	h.Set(SignatureHeader, Sign([]byte("whsec_test"), e.clock.Now(), []byte(`[]`)))
	if _, err := e.p.ParseWebhook([]byte(`[]`), h); !errors.Is(err, payments.ErrInvalidRequest) {
		t.Errorf("signed non-event: %v", err)
	}
}

// TestRunDeliversInProcess: Run delivers new events to an in-process
// function promptly, and stops with its context.
func TestRunDeliversInProcess(t *testing.T) {
	got := make(chan payments.Event, 10)
	var p *Provider
	e := newEnv(t, "sqlite:"+t.TempDir()+"/cs.db", Options{
		Now:          time.Now,
		PollInterval: time.Hour, // delivery must come from the wake-up, not the poll
		WebhookFunc: func(_ context.Context, payload []byte, h http.Header) error {
			ev, err := p.ParseWebhook(payload, h)
			if err != nil {
				return err
			}
			got <- ev
			return nil
		},
	})
	p = e.p
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- p.Run(ctx) }()

	c := e.checkout(999)
	e.pay(c.URL, "4000 0000 0000 9995", "12/30", "123")
	select {
	case ev := <-got:
		if ev.Type != payments.EventPaymentFailed || !ev.InsufficientFunds() || ev.PaymentID != c.PaymentID {
			t.Errorf("event: %+v", ev)
		}
		raw, _ := json.Marshal(ev)
		if !strings.Contains(string(raw), `"decline_code":"insufficient_funds"`) {
			t.Errorf("wire form: %s", raw)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no event delivered")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not stop")
	}
}

func TestParseCard(t *testing.T) {
	now := time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		number, exp, cvc string
		outcome          string
		errFields        string
	}{
		{"4242 4242 4242 4242", "12/30", "123", outcomeApprove, ""},
		{"4242-4242-4242-4242", "1230", "123", outcomeApprove, ""},
		{"4000000000000002", "03/25", "123", outcomeDecline, ""}, // valid through March 2025
		{"4000 0000 0000 9995", "12 / 2030", "999", outcomeInsufficientFunds, ""},
		{"5555 5555 5555 4444", "12/30", "123", "", "card_number"}, // valid card, not a sandbox one
		{"4242 4242 4242", "12/30", "123", "", "card_number"},
		{"abcd", "12/30", "123", "", "card_number"},
		{"4242424242424242", "02/25", "123", "", "exp"},
		{"4242424242424242", "00/30", "123", "", "exp"},
		{"4242424242424242", "1/2", "123", "", "exp"},
		{"4242424242424242", "12/99", "123", "", "exp"}, // 2099: more than 20 years out
		{"4242424242424242", "12/30", "1234", "", "cvc"},
		{"4242424242424242", "12/30", "12a", "", "cvc"},
		{"", "", "", "", "card_number,exp,cvc"},
	} {
		c, errs := parseCard(tc.number, tc.exp, tc.cvc, now)
		var fields []string
		for _, e := range errs {
			fields = append(fields, e.Field)
		}
		if got := strings.Join(fields, ","); got != tc.errFields || (tc.errFields == "" && c.outcome != tc.outcome) {
			t.Errorf("%q %q %q: outcome %q, errors %q; want %q, %q", tc.number, tc.exp, tc.cvc, c.outcome, got, tc.outcome, tc.errFields)
		}
		if tc.errFields == "" && (c.last4 != stripSeparators(tc.number)[12:] || c.brand != "visa") {
			t.Errorf("%q: %+v", tc.number, c)
		}
	}
	if brand("5555555555554444") != "mastercard" || brand("2223003122003222") != "mastercard" || brand("378282246310005") != "amex" {
		t.Error("brands")
	}
}

func TestFormatAmount(t *testing.T) {
	for _, tc := range []struct {
		amount   int64
		currency string
		want     string
	}{
		{5000, "AUD", "AUD 50.00"}, {5, "EUR", "EUR 0.05"}, {0, "USD", "USD 0.00"}, {1234, "JPY", "JPY 1234"}, {1234, "KWD", "KWD 1.234"},
	} {
		if got := formatAmount(tc.amount, tc.currency); got != tc.want {
			t.Errorf("formatAmount(%d, %s) = %q, want %q", tc.amount, tc.currency, got, tc.want)
		}
	}
}
