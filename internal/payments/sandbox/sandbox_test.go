package sandbox

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chargestar/chargestar/internal/payments"
)

func wantErr(t *testing.T, what string, err, kind error, code string) *payments.Error {
	t.Helper()
	var pe *payments.Error
	if !errors.Is(err, kind) || !errors.As(err, &pe) {
		t.Fatalf("%s: got %v, want %v", what, err, kind)
	}
	if code != "" && pe.Code != code {
		t.Fatalf("%s: code %q, want %q (%v)", what, pe.Code, code, err)
	}
	return pe
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// TestHostedPage drives the hosted page the way a browser without
// JavaScript does: GET the form, POST it with each test card.
func TestHostedPage(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, Options{})
		ctx := context.Background()
		c := e.checkout(5000)
		if !strings.HasPrefix(c.URL, e.srv.URL+"/pay/sandbox/checkout/sbx_chk_") || c.PaymentID == "" ||
			!c.ExpiresAt.Equal(e.clock.Now().Add(DefaultCheckoutTTL)) {
			t.Fatalf("checkout: %+v", c)
		}

		resp, body := e.get(c.URL)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET page: %s", resp.Status)
		}
		csp := resp.Header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "style-src 'self'", "form-action 'self' https://app.example", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("CSP %q lacks %q", csp, want)
			}
		}
		if resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("payment page cacheable: %q", resp.Header.Get("Cache-Control"))
		}
		for _, want := range []string{`<html lang="en">`, `name="viewport"`, `<label for="card_number">`, `autocomplete="cc-number"`,
			`inputmode="numeric"`, `method="post"`, "AUD 50.00", "Charging at Acme Parking, bay 4", "4242 4242 4242 4242",
			`href="/pay/sandbox/style.css"`, `href="https://app.example/cancel"`} {
			if !strings.Contains(body, want) {
				t.Errorf("page lacks %q", want)
			}
		}
		if inline := regexp.MustCompile(`<script|<style|\sstyle=|\son[a-z]+=`).FindString(body); inline != "" {
			t.Errorf("page contains %q: inline script or style", inline)
		}
		if resp, css := e.get(e.srv.URL + "/pay/sandbox/style.css"); resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") || !strings.Contains(css, "input") {
			t.Errorf("stylesheet: %s %s", resp.Status, resp.Header.Get("Content-Type"))
		}

		// Invalid input: 422, a message per field, nothing written.
		for _, tc := range []struct{ number, exp, cvc, field, code string }{
			{"4111 1111 1111 1111", "12/30", "123", "card_number", "invalid"},      // a real-looking card: not a test card
			{"4242 4242 4242 4241", "12/30", "123", "card_number", "invalid"},      // fails Luhn
			{"", "12/30", "123", "card_number", "Enter your card number"},          //
			{"4242424242424242", "13/30", "123", "exp", "invalid"},                 // no month 13
			{"4242424242424242", "02/25", "123", "exp", "in the past"},             // ended with February 2025
			{"4242424242424242", "12/30", "12", "cvc", "security code is invalid"}, //
		} {
			resp, body := e.pay(c.URL, tc.number, tc.exp, tc.cvc)
			if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="`+tc.field+`-error"`) ||
				!strings.Contains(body, tc.code) || !strings.Contains(body, `aria-invalid="true"`) || !strings.Contains(body, `role="alert"`) {
				t.Errorf("%+v: %s\n%s", tc, resp.Status, body)
			}
			if tc.number != "" && strings.Contains(body, tc.number) {
				t.Errorf("the page echoes the card number %q", tc.number)
			}
		}
		if evs := e.events(); len(evs) != 0 {
			t.Fatalf("invalid input emitted events: %+v", evs)
		}

		// Declines: 402, the page stays open, a payment.failed event each.
		for _, tc := range []struct{ number, code, message string }{
			{"4000 0000 0000 0002", payments.DeclineGeneric, "Your card was declined."},
			{"4000000000009995", payments.DeclineInsufficientFunds, "Your card has insufficient funds."},
		} {
			resp, body := e.pay(c.URL, tc.number, "1230", "123")
			if resp.StatusCode != http.StatusPaymentRequired || !strings.Contains(body, tc.message) || strings.Contains(body, `value="4000`) {
				t.Errorf("%s: %s\n%s", tc.number, resp.Status, body)
			}
			evs := e.events()
			last := evs[len(evs)-1]
			if last.Type != payments.EventPaymentFailed || last.DeclineCode != tc.code || last.PaymentID != c.PaymentID ||
				last.Metadata["session_id"] != "ses_1" || last.InsufficientFunds() != (tc.code == payments.DeclineInsufficientFunds) {
				t.Errorf("%s: event %+v", tc.number, last)
			}
			p := must[payments.Payment](t)(e.p.GetPayment(ctx, payments.PaymentRef{ID: c.PaymentID}))
			if p.Status != payments.StatusPending || p.DeclineCode != tc.code {
				t.Errorf("%s: payment %+v", tc.number, p)
			}
		}

		// Approval: 303 to the success URL; the hold is placed.
		resp, body = e.pay(c.URL, "4242 4242 4242 4242", "12 / 2030", "123")
		wantLoc := "https://app.example/done?c=" + c.ID
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != wantLoc {
			t.Fatalf("approve: %s %q\n%s", resp.Status, resp.Header.Get("Location"), body)
		}
		p := must[payments.Payment](t)(e.p.GetPayment(ctx, payments.PaymentRef{ID: c.PaymentID}))
		if p.Status != payments.StatusAuthorized || p.Amount != 5000 || p.Card == nil || *p.Card != (payments.Card{Brand: "visa", Last4: "4242", ExpMonth: 12, ExpYear: 2030}) ||
			p.DeclineCode != "" || !p.HoldExpiresAt.Equal(e.clock.Now().Add(DefaultHoldTTL)) || p.Metadata["session_id"] != "ses_1" {
			t.Errorf("authorised payment: %+v", p)
		}
		types := e.eventTypes()
		if want := []payments.EventType{payments.EventPaymentFailed, payments.EventPaymentFailed, payments.EventAuthorized, payments.EventCheckoutCompleted}; !slices.Equal(types, want) {
			t.Errorf("events %v, want %v", types, want)
		}
		done := e.events()[3]
		if done.CheckoutID != c.ID || done.PaymentID != c.PaymentID || done.Amount != 5000 || done.Currency != "AUD" {
			t.Errorf("checkout.completed: %+v", done)
		}

		// A second submission (double click, back button) changes nothing.
		resp, _ = e.pay(c.URL, "4000 0000 0000 0002", "12/30", "123")
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != wantLoc || len(e.events()) != 4 {
			t.Errorf("resubmission: %s, %d events", resp.Status, len(e.events()))
		}
		resp, body = e.get(c.URL)
		if resp.StatusCode != 200 || !strings.Contains(body, "Payment authorised") || !strings.Contains(body, `href="https://app.example/done?c=`+c.ID) {
			t.Errorf("page after paying: %s\n%s", resp.Status, body)
		}
		if resp, _ := e.get(e.srv.URL + "/pay/sandbox/checkout/sbx_chk_nope"); resp.StatusCode != http.StatusNotFound {
			t.Errorf("unknown page: %s", resp.Status)
		}
	})
}

// TestConcurrentSubmissions: many simultaneous submissions of one page
// authorise it once.
func TestConcurrentSubmissions(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, Options{})
		c := e.checkout(2500)
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				if resp, _ := e.pay(c.URL, "4242424242424242", "12/30", "123"); resp.StatusCode != http.StatusSeeOther {
					t.Errorf("submission: %s", resp.Status)
				}
			})
		}
		wg.Wait()
		if types := e.eventTypes(); !slices.Equal(types, []payments.EventType{payments.EventAuthorized, payments.EventCheckoutCompleted}) {
			t.Errorf("events: %v", types)
		}
	})
}

func TestCaptureVoidRefund(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, Options{})
		ctx := context.Background()
		p := e.authorized(5000)

		_, err := e.p.Capture(ctx, payments.CaptureRequest{IdempotencyKey: key(), Payment: p.Ref(), Amount: 5001})
		wantErr(t, "capture above the hold", err, payments.ErrInvalidRequest, "amount_too_large")
		_, err = e.p.Refund(ctx, payments.RefundRequest{IdempotencyKey: key(), Payment: p.Ref()})
		wantErr(t, "refund before capture", err, payments.ErrInvalidRequest, "payment_unexpected_state")
		_, err = e.p.Capture(ctx, payments.CaptureRequest{IdempotencyKey: key(), Payment: p.Ref(), Amount: 100, ApplicationFee: 10})
		wantErr(t, "application fee in platform mode", err, payments.ErrInvalidRequest, "application_fee_invalid")
		_, err = e.p.Capture(ctx, payments.CaptureRequest{IdempotencyKey: key(), Payment: payments.PaymentRef{ID: "sbx_pay_nope"}, Amount: 1})
		wantErr(t, "capture of an unknown payment", err, payments.ErrNotFound, "resource_missing")

		// Partial capture: 3,210 of a 5,000 hold; the rest is released.
		got := must[payments.Payment](t)(e.p.Capture(ctx, payments.CaptureRequest{IdempotencyKey: key(), Payment: p.Ref(), Amount: 3210}))
		if got.Status != payments.StatusCaptured || got.AmountCaptured != 3210 || got.Amount != 5000 {
			t.Fatalf("captured: %+v", got)
		}
		_, err = e.p.Capture(ctx, payments.CaptureRequest{IdempotencyKey: key(), Payment: p.Ref(), Amount: 10})
		wantErr(t, "second capture", err, payments.ErrInvalidRequest, "payment_unexpected_state")
		_, err = e.p.Void(ctx, payments.VoidRequest{IdempotencyKey: key(), Payment: p.Ref()})
		wantErr(t, "void after capture", err, payments.ErrInvalidRequest, "payment_unexpected_state")

		// Refunds: partial, then the rest, then nothing is left.
		r1 := must[payments.Refund](t)(e.p.Refund(ctx, payments.RefundRequest{IdempotencyKey: key(), Payment: p.Ref(), Amount: 1000, Reason: payments.RefundRequestedByCustomer}))
		if r1.Amount != 1000 || r1.PaymentID != p.ID || r1.Status != "succeeded" || r1.Currency != "AUD" {
			t.Errorf("refund: %+v", r1)
		}
		_, err = e.p.Refund(ctx, payments.RefundRequest{IdempotencyKey: key(), Payment: p.Ref(), Amount: 2211})
		wantErr(t, "refund above what is left", err, payments.ErrInvalidRequest, "amount_too_large")
		r2 := must[payments.Refund](t)(e.p.Refund(ctx, payments.RefundRequest{IdempotencyKey: key(), Payment: p.Ref()}))
		if r2.Amount != 2210 || r2.ID == r1.ID {
			t.Errorf("refund of the rest: %+v", r2)
		}
		_, err = e.p.Refund(ctx, payments.RefundRequest{IdempotencyKey: key(), Payment: p.Ref()})
		wantErr(t, "refund when nothing is left", err, payments.ErrInvalidRequest, "charge_already_refunded")
		got = must[payments.Payment](t)(e.p.GetPayment(ctx, p.Ref()))
		if got.AmountRefunded != 3210 || got.Status != payments.StatusCaptured {
			t.Errorf("after refunds: %+v", got)
		}
		if rs, err := e.st.SandboxRefunds(ctx, p.ID); err != nil || len(rs) != 2 {
			t.Errorf("refund rows: %d", len(rs))
		}

		// Void releases a hold; voiding it again is a success that changes nothing.
		v := e.authorized(4000)
		got = must[payments.Payment](t)(e.p.Void(ctx, payments.VoidRequest{IdempotencyKey: key(), Payment: v.Ref()}))
		if got.Status != payments.StatusVoided {
			t.Errorf("voided: %+v", got)
		}
		n := len(e.events())
		got = must[payments.Payment](t)(e.p.Void(ctx, payments.VoidRequest{IdempotencyKey: key(), Payment: v.Ref()}))
		if got.Status != payments.StatusVoided || len(e.events()) != n {
			t.Errorf("second void: %+v, %d new events", got, len(e.events())-n)
		}
		_, err = e.p.Capture(ctx, payments.CaptureRequest{IdempotencyKey: key(), Payment: v.Ref(), Amount: 1})
		wantErr(t, "capture after void", err, payments.ErrInvalidRequest, "payment_unexpected_state")

		// Voiding an unpaid page's payment cancels it and closes the page.
		c := e.checkout(1500)
		got = must[payments.Payment](t)(e.p.Void(ctx, payments.VoidRequest{IdempotencyKey: key(), Payment: payments.PaymentRef{ID: c.PaymentID}}))
		if got.Status != payments.StatusCanceled {
			t.Errorf("void of a pending payment: %+v", got)
		}
		if resp, _ := e.pay(c.URL, "4242424242424242", "12/30", "123"); resp.StatusCode != http.StatusGone {
			t.Errorf("paying a canceled page: %s", resp.Status)
		}

		want := []payments.EventType{payments.EventAuthorized, payments.EventCheckoutCompleted, payments.EventCaptured,
			payments.EventRefunded, payments.EventRefunded, payments.EventAuthorized, payments.EventCheckoutCompleted,
			payments.EventVoided, payments.EventVoided}
		if types := e.eventTypes(); !slices.Equal(types, want) {
			t.Errorf("events\n got %v\nwant %v", types, want)
		}
		evs := e.events()
		if evs[2].Amount != 3210 || evs[3].Amount != 1000 || evs[3].RefundID != r1.ID || evs[4].Amount != 2210 {
			t.Errorf("event amounts: %+v %+v %+v", evs[2], evs[3], evs[4])
		}
	})
}

// TestDirectSettlement: a payment on an operator's account is named with
// that account; the platform's fee is taken at capture.
func TestDirectSettlement(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, Options{})
		ctx := context.Background()
		p := e.authorized(8000, direct("acct_operator1"))
		if p.Settlement != (payments.Settlement{Mode: payments.SettlementDirect, Account: "acct_operator1"}) {
			t.Fatalf("settlement: %+v", p.Settlement)
		}
		_, err := e.p.GetPayment(ctx, payments.PaymentRef{ID: p.ID})
		wantErr(t, "direct payment read without its account", err, payments.ErrNotFound, "")
		_, err = e.p.Capture(ctx, payments.CaptureRequest{IdempotencyKey: key(), Payment: payments.PaymentRef{ID: p.ID, Account: "acct_other"}, Amount: 1})
		wantErr(t, "capture on another account", err, payments.ErrNotFound, "")
		_, err = e.p.Capture(ctx, payments.CaptureRequest{IdempotencyKey: key(), Payment: p.Ref(), Amount: 100, ApplicationFee: 101})
		wantErr(t, "fee above the capture", err, payments.ErrInvalidRequest, "application_fee_invalid")
		got := must[payments.Payment](t)(e.p.Capture(ctx, payments.CaptureRequest{IdempotencyKey: key(), Payment: p.Ref(), Amount: 6000, ApplicationFee: 450}))
		if got.AmountCaptured != 6000 || got.ApplicationFee != 450 {
			t.Errorf("direct capture: %+v", got)
		}
		_, err = e.p.CreateCheckout(ctx, payments.CheckoutRequest{IdempotencyKey: key(), Amount: 1, Currency: "AUD", SuccessURL: "https://x/",
			Settlement: payments.Settlement{Mode: payments.SettlementDirect}})
		wantErr(t, "direct without an account", err, payments.ErrInvalidRequest, "settlement_invalid")
	})
}

func TestHoldAndPageExpiry(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, Options{HoldTTL: 7 * 24 * time.Hour})
		ctx := context.Background()
		a := e.authorized(1000)
		b := e.authorized(2000)
		e.clock.Advance(7*24*time.Hour - time.Second)
		if got := must[payments.Payment](t)(e.p.GetPayment(ctx, a.Ref())); got.Status != payments.StatusAuthorized {
			t.Fatalf("hold expired early: %+v", got)
		}
		if n := must[int](t)(e.p.ExpireDue(ctx)); n != 0 {
			t.Fatalf("expired %d early", n)
		}
		e.clock.Advance(time.Second)
		// Read before the sweep: expired already.
		if got := must[payments.Payment](t)(e.p.GetPayment(ctx, a.Ref())); got.Status != payments.StatusExpired {
			t.Errorf("GetPayment past expiry: %+v", got)
		}
		// A capture past expiry fails and records the expiry itself.
		_, err := e.p.Capture(ctx, payments.CaptureRequest{IdempotencyKey: key(), Payment: a.Ref(), Amount: 1000})
		wantErr(t, "capture of an expired hold", err, payments.ErrInvalidRequest, "hold_expired")
		// The sweep expires the other one.
		c := e.checkout(3000)
		if n := must[int](t)(e.p.ExpireDue(ctx)); n != 1 {
			t.Errorf("sweep expired %d, want 1", n)
		}
		if got := must[payments.Payment](t)(e.p.Void(ctx, payments.VoidRequest{IdempotencyKey: key(), Payment: b.Ref()})); got.Status != payments.StatusExpired {
			t.Errorf("void of an expired hold: %+v", got)
		}
		expired := 0
		for _, ev := range e.events() {
			if ev.Type == payments.EventExpired {
				expired++
			}
		}
		if expired != 2 {
			t.Errorf("%d payment.expired events, want 2", expired)
		}

		// Pages expire after CheckoutTTL: 410, then the sweep cancels the payment.
		e.clock.Advance(DefaultCheckoutTTL)
		if resp, body := e.get(c.URL); resp.StatusCode != http.StatusGone || !strings.Contains(body, "expired") {
			t.Errorf("expired page: %s", resp.Status)
		}
		if n := must[int](t)(e.p.ExpireDue(ctx)); n != 1 {
			t.Errorf("page sweep expired %d, want 1", n)
		}
		if got := must[payments.Payment](t)(e.p.GetPayment(ctx, payments.PaymentRef{ID: c.PaymentID})); got.Status != payments.StatusCanceled {
			t.Errorf("payment of an expired page: %+v", got)
		}
		evs := e.events()
		if last := evs[len(evs)-1]; last.Type != payments.EventCheckoutExpired || last.CheckoutID != c.ID || last.Metadata["session_id"] != "ses_1" {
			t.Errorf("last event: %+v", last)
		}
		if resp, _ := e.pay(c.URL, "4242424242424242", "12/30", "123"); resp.StatusCode != http.StatusGone {
			t.Errorf("paying an expired page: %s", resp.Status)
		}
		_, err = e.p.CreateCheckout(ctx, payments.CheckoutRequest{IdempotencyKey: key(), Amount: 1, Currency: "AUD", SuccessURL: "https://x/",
			ExpiresAt: e.clock.Now().Add(25 * time.Hour)})
		wantErr(t, "page expiring after 24 h", err, payments.ErrInvalidRequest, "expires_at_invalid")
	})
}

func TestIdempotency(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, Options{})
		ctx := context.Background()
		req := payments.CheckoutRequest{IdempotencyKey: "ses_1/hold", Amount: 5000, Currency: "AUD", SuccessURL: "https://app.example/ok",
			Metadata: map[string]string{"session_id": "ses_1", "b": "2", "a": "1"}}
		c1 := must[payments.Checkout](t)(e.p.CreateCheckout(ctx, req))
		req.Metadata = map[string]string{"a": "1", "b": "2", "session_id": "ses_1"} // same map, built in another order
		c2 := must[payments.Checkout](t)(e.p.CreateCheckout(ctx, req))
		if c1 != c2 {
			t.Errorf("replay returned another checkout: %+v vs %+v", c1, c2)
		}
		req.Amount = 5001
		_, err := e.p.CreateCheckout(ctx, req)
		wantErr(t, "same key, other amount", err, payments.ErrIdempotencyConflict, "idempotency_key_reused")
		_, err = e.p.Void(ctx, payments.VoidRequest{IdempotencyKey: "ses_1/hold", Payment: payments.PaymentRef{ID: c1.PaymentID}})
		wantErr(t, "same key, other operation", err, payments.ErrIdempotencyConflict, "")
		_, err = e.p.CreateCheckout(ctx, payments.CheckoutRequest{Amount: 1, Currency: "AUD", SuccessURL: "https://x/"})
		wantErr(t, "no key", err, payments.ErrInvalidRequest, "idempotency_key_missing")

		// Concurrent captures with one key: one effect, every caller the same answer.
		p := e.authorized(5000)
		var wg sync.WaitGroup
		results := make([]payments.Payment, 16)
		for i := range results {
			wg.Go(func() {
				var err error
				results[i], err = e.p.Capture(ctx, payments.CaptureRequest{IdempotencyKey: "ses_2/capture", Payment: p.Ref(), Amount: 4321})
				if err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		for _, r := range results {
			if r.Status != payments.StatusCaptured || r.AmountCaptured != 4321 {
				t.Errorf("concurrent capture answer: %+v", r)
			}
		}
		captured := 0
		for _, ev := range e.events() {
			if ev.Type == payments.EventCaptured {
				captured++
			}
		}
		if captured != 1 {
			t.Errorf("%d capture events, want 1", captured)
		}

		// Concurrent page creation with one key: one page.
		ids := make([]string, 8)
		for i := range ids {
			wg.Go(func() {
				c, err := e.p.CreateCheckout(ctx, payments.CheckoutRequest{IdempotencyKey: "ses_3/hold", Amount: 700, Currency: "EUR", SuccessURL: "https://x/"})
				if err != nil {
					t.Error(err)
				}
				ids[i] = c.ID
			})
		}
		wg.Wait()
		if ids[0] == "" || slices.ContainsFunc(ids, func(id string) bool { return id != ids[0] }) {
			t.Errorf("concurrent page creation: %v", ids)
		}

		// Failures are remembered too: a refund refused for the payment's
		// state is refused again for the same key even after it would pass.
		q := e.authorized(900)
		_, err = e.p.Refund(ctx, payments.RefundRequest{IdempotencyKey: "ses_4/refund", Payment: q.Ref(), Amount: 100})
		wantErr(t, "refund before capture", err, payments.ErrInvalidRequest, "payment_unexpected_state")
		must[payments.Payment](t)(e.p.Capture(ctx, payments.CaptureRequest{IdempotencyKey: key(), Payment: q.Ref(), Amount: 900}))
		_, err = e.p.Refund(ctx, payments.RefundRequest{IdempotencyKey: "ses_4/refund", Payment: q.Ref(), Amount: 100})
		wantErr(t, "replayed refund", err, payments.ErrInvalidRequest, "payment_unexpected_state")
		// Validation errors are not remembered: the key stays free.
		_, err = e.p.Capture(ctx, payments.CaptureRequest{IdempotencyKey: "ses_5/capture", Payment: p.Ref(), Amount: -1})
		wantErr(t, "invalid capture", err, payments.ErrInvalidRequest, "amount_invalid")
		r := e.authorized(300)
		must[payments.Payment](t)(e.p.Capture(ctx, payments.CaptureRequest{IdempotencyKey: "ses_5/capture", Payment: r.Ref(), Amount: 300}))
	})
}

func TestSavedCardsOffSession(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, Options{})
		ctx := context.Background()
		setup := func(number string, status int) (payments.Checkout, payments.Event) {
			t.Helper()
			c := must[payments.Checkout](t)(e.p.CreateCardSetup(ctx, payments.CardSetupRequest{IdempotencyKey: key(),
				SuccessURL: "https://app.example/card-saved", Metadata: map[string]string{"account_id": "drv_1"}}))
			if c.CustomerRef == "" || c.PaymentID != "" {
				t.Fatalf("setup page: %+v", c)
			}
			resp, body := e.get(c.URL)
			if resp.StatusCode != 200 || !strings.Contains(body, "Save card") || strings.Contains(body, "Hold") {
				t.Errorf("setup page: %s\n%s", resp.Status, body)
			}
			if resp, body := e.pay(c.URL, number, "12/30", "123"); resp.StatusCode != status {
				t.Fatalf("setup with %s: %s\n%s", number, resp.Status, body)
			}
			evs := e.events()
			return c, evs[len(evs)-1]
		}

		good, ev := setup("4242 4242 4242 4242", http.StatusSeeOther)
		if ev.Type != payments.EventSetupCompleted || ev.CustomerRef != good.CustomerRef || ev.PaymentMethod == "" ||
			ev.Card.Last4 != "4242" || ev.Metadata["account_id"] != "drv_1" {
			t.Fatalf("setup.completed: %+v", ev)
		}
		auth := payments.AuthorizeRequest{IdempotencyKey: key(), Amount: 3000, Currency: "AUD", CustomerRef: good.CustomerRef,
			PaymentMethodRef: ev.PaymentMethod, Metadata: map[string]string{"session_id": "ses_rfid"}}
		p := must[payments.Payment](t)(e.p.AuthorizeOffSession(ctx, auth))
		if p.Status != payments.StatusAuthorized || p.PaymentMethod != ev.PaymentMethod || p.Card.Last4 != "4242" {
			t.Errorf("off-session hold: %+v", p)
		}
		if again := must[payments.Payment](t)(e.p.AuthorizeOffSession(ctx, auth)); again.ID != p.ID {
			t.Errorf("replayed hold is another payment: %s vs %s", again.ID, p.ID)
		}

		poor, ev := setup("4000 0000 0000 9995", http.StatusSeeOther)
		if ev.Type != payments.EventSetupCompleted {
			t.Fatalf("a card without funds is saved: %+v", ev)
		}
		auth = payments.AuthorizeRequest{IdempotencyKey: key(), Amount: 3000, Currency: "AUD", CustomerRef: poor.CustomerRef, PaymentMethodRef: ev.PaymentMethod}
		_, err := e.p.AuthorizeOffSession(ctx, auth)
		pe := wantErr(t, "hold on a card without funds", err, payments.ErrInsufficientFunds, payments.DeclineInsufficientFunds)
		if !errors.Is(err, payments.ErrDeclined) || payments.DeclineCode(err) != payments.DeclineInsufficientFunds || pe.PaymentID == "" || payments.Retryable(err) {
			t.Errorf("insufficient funds error: %#v", pe)
		}
		_, err2 := e.p.AuthorizeOffSession(ctx, auth)
		if pe2 := wantErr(t, "replayed decline", err2, payments.ErrInsufficientFunds, ""); pe2.PaymentID != pe.PaymentID {
			t.Errorf("replayed decline names another payment")
		}
		if got := must[payments.Payment](t)(e.p.GetPayment(ctx, payments.PaymentRef{ID: pe.PaymentID})); got.Status != payments.StatusFailed {
			t.Errorf("declined payment: %+v", got)
		}
		evs := e.events()
		if last := evs[len(evs)-1]; last.Type != payments.EventPaymentFailed || !last.InsufficientFunds() || last.PaymentID != pe.PaymentID {
			t.Errorf("failure event: %+v", last)
		}

		_, ev = setup("4000 0000 0000 0002", http.StatusPaymentRequired)
		if ev.Type != payments.EventSetupFailed || ev.DeclineCode != payments.DeclineGeneric {
			t.Errorf("declined setup: %+v", ev)
		}

		_, err = e.p.AuthorizeOffSession(ctx, payments.AuthorizeRequest{IdempotencyKey: key(), Amount: 1, Currency: "AUD",
			CustomerRef: poor.CustomerRef, PaymentMethodRef: p.PaymentMethod})
		wantErr(t, "another customer's card", err, payments.ErrInvalidRequest, "resource_missing")

		// Pay now and keep the card: the payment page saves it to the customer.
		c := e.checkout(1200, func(r *payments.CheckoutRequest) { r.CustomerRef, r.SaveCard = good.CustomerRef, true })
		e.pay(c.URL, "4242424242424242", "12/30", "123")
		got := must[payments.Payment](t)(e.p.GetPayment(ctx, payments.PaymentRef{ID: c.PaymentID}))
		if got.PaymentMethod == "" || got.CustomerRef != good.CustomerRef {
			t.Fatalf("payment with a saved card: %+v", got)
		}
		must[payments.Payment](t)(e.p.AuthorizeOffSession(ctx, payments.AuthorizeRequest{IdempotencyKey: key(), Amount: 10, Currency: "AUD",
			CustomerRef: good.CustomerRef, PaymentMethodRef: got.PaymentMethod}))
	})
}

// TestPersistence: the sandbox stands in for an external acquirer, so its
// holds, pages and undelivered webhooks survive a restart of our server.
func TestPersistence(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		e := newEnv(t, dsn, Options{})
		p := e.authorized(5000)
		c := e.checkout(700)
		must[payments.Payment](t)(e.p.Capture(ctx, payments.CaptureRequest{IdempotencyKey: "k/capture", Payment: p.Ref(), Amount: 4000}))
		if err := e.st.Close(); err != nil {
			t.Fatal(err)
		}

		var got []payments.Event
		var mu sync.Mutex
		e.opts.WebhookFunc = func(_ context.Context, payload []byte, h http.Header) error {
			ev, err := e.p.ParseWebhook(payload, h)
			if err != nil {
				return err
			}
			mu.Lock()
			got = append(got, ev)
			mu.Unlock()
			return nil
		}
		e.open()
		if q := must[payments.Payment](t)(e.p.GetPayment(ctx, p.Ref())); q.Status != payments.StatusCaptured || q.AmountCaptured != 4000 || q.Card.Last4 != "4242" {
			t.Errorf("after reopening: %+v", q)
		}
		// The idempotency key is remembered across the restart.
		if q := must[payments.Payment](t)(e.p.Capture(ctx, payments.CaptureRequest{IdempotencyKey: "k/capture", Payment: p.Ref(), Amount: 4000})); q.AmountCaptured != 4000 {
			t.Errorf("replay after reopening: %+v", q)
		}
		// So is the open page.
		if resp, _ := e.pay(c.URL, "4242424242424242", "12/30", "123"); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("paying a page after the restart: %s", resp.Status)
		}
		// Events queued before the restart are delivered after it.
		if n := must[int](t)(e.p.DeliverDue(ctx)); n != 5 {
			t.Errorf("delivered %d events, want 5", n)
		}
		var types []payments.EventType
		for _, ev := range got {
			types = append(types, ev.Type)
		}
		want := []payments.EventType{payments.EventAuthorized, payments.EventCheckoutCompleted, payments.EventCaptured,
			payments.EventAuthorized, payments.EventCheckoutCompleted}
		if !slices.Equal(types, want) {
			t.Errorf("delivered %v, want %v", types, want)
		}
	})
}

func TestNewValidatesOptions(t *testing.T) {
	e := newEnv(t, "sqlite:"+t.TempDir()+"/x.db", Options{})
	for _, o := range []Options{{}, {BaseURL: "/pay/sandbox"}, {BaseURL: "ftp://x/"}, {BaseURL: "http://x/", WebhookURL: "not a url"}} {
		if _, err := New(e.st, o); err == nil {
			t.Errorf("New(%+v) accepted", o)
		}
	}
	if _, err := New(nil, Options{BaseURL: "http://x/"}); err == nil {
		t.Error("New without a store accepted")
	}
}
