package store

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"
)

// testSandboxPayments covers the sandbox acquirer's tables: rows round-trip,
// optimistic versions, the expiry work lists, idempotency keys under
// concurrency, the webhook outbox, and rejection of a failing function.
func testSandboxPayments(t *testing.T, h *harness) {
	ctx := context.Background()
	s := h.open(Options{})
	t0 := time.Date(2025, 7, 1, 9, 30, 0, 123456000, time.UTC)
	exp := t0.Add(7 * 24 * time.Hour)

	pay := SandboxPayment{ID: "sbx_pay_1", Status: "authorized", Amount: 5000, Currency: "AUD", Description: "Bay 4",
		Metadata: map[string]string{"session_id": "ses_1"}, SettlementMode: "direct", Account: "acct_1",
		CustomerRef: "cus_1", PaymentMethod: "pm_1", CheckoutID: "sbx_chk_1", CardBrand: "visa", CardLast4: "4242",
		CardExpMonth: 12, CardExpYear: 2030, CreatedAt: t0, UpdatedAt: t0, AuthorizedAt: &t0, HoldExpiresAt: &exp}
	chk := SandboxCheckout{ID: "sbx_chk_1", Kind: "payment", Status: "open", Amount: 5000, Currency: "AUD",
		SuccessURL: "https://app.example/ok", Metadata: map[string]string{"a": "b"}, SettlementMode: "direct",
		Account: "acct_1", SaveCard: true, CustomerRef: "cus_1", PaymentID: "sbx_pay_1", CreatedAt: t0, ExpiresAt: t0.Add(30 * time.Minute)}
	check(t, s.SandboxWrite(ctx, func(tx *SandboxTx) error {
		if err := tx.InsertPayment(pay); err != nil {
			return err
		}
		if err := tx.InsertCheckout(chk); err != nil {
			return err
		}
		if err := tx.InsertPaymentMethod(SandboxPaymentMethod{ID: "pm_1", CustomerRef: "cus_1", CardBrand: "visa",
			CardLast4: "4242", ExpMonth: 12, ExpYear: 2030, Outcome: "approve", CreatedAt: t0}); err != nil {
			return err
		}
		return tx.InsertEvent(SandboxEvent{ID: "evt_1", Type: "payment.authorized", Payload: []byte(`{"id":"evt_1"}`), CreatedAt: t0})
	}))

	gotPay := must(s.SandboxPayment(ctx, pay.ID))(t)
	pay.Version = 1
	if !reflect.DeepEqual(gotPay, pay) {
		t.Errorf("payment round trip:\n got %+v\nwant %+v", gotPay, pay)
	}
	gotChk := must(s.SandboxCheckout(ctx, chk.ID))(t)
	chk.Version = 1
	if !reflect.DeepEqual(gotChk, chk) {
		t.Errorf("checkout round trip:\n got %+v\nwant %+v", gotChk, chk)
	}
	_, err := s.SandboxPayment(ctx, "nope")
	mustNotFound(t, "unknown payment", err)

	// Updates apply to the version read; a stale version is a conflict.
	captured := t0.Add(time.Hour)
	gotPay.Status, gotPay.AmountCaptured, gotPay.ApplicationFee, gotPay.CapturedAt, gotPay.UpdatedAt = "captured", 4000, 300, &captured, captured
	check(t, s.SandboxWrite(ctx, func(tx *SandboxTx) error { return tx.UpdatePayment(gotPay) }))
	err = s.SandboxWrite(ctx, func(tx *SandboxTx) error { return tx.UpdatePayment(gotPay) })
	mustConflict(t, "stale update", err)
	if p := must(s.SandboxPayment(ctx, pay.ID))(t); p.Version != 2 || p.Status != "captured" || p.AmountCaptured != 4000 || !p.CapturedAt.Equal(captured) {
		t.Errorf("after update: %+v", p)
	}
	gotChk.Status, gotChk.PaymentMethod, gotChk.CompletedAt = "completed", "pm_1", &captured
	check(t, s.SandboxWrite(ctx, func(tx *SandboxTx) error { return tx.UpdateCheckout(gotChk) }))
	if c := must(s.SandboxCheckout(ctx, chk.ID))(t); c.Status != "completed" || c.PaymentMethod != "pm_1" || c.Version != 2 {
		t.Errorf("after checkout update: %+v", c)
	}

	// Refunds reference their payment.
	check(t, s.SandboxWrite(ctx, func(tx *SandboxTx) error {
		return tx.InsertRefund(SandboxRefund{ID: "re_1", PaymentID: pay.ID, Amount: 1000, Currency: "AUD", Reason: "duplicate", CreatedAt: captured})
	}))
	if rs := must(s.SandboxRefunds(ctx, pay.ID))(t); len(rs) != 1 || rs[0].Amount != 1000 || rs[0].Metadata != nil {
		t.Errorf("refunds: %+v", rs)
	}
	if err := s.SandboxWrite(ctx, func(tx *SandboxTx) error {
		return tx.InsertRefund(SandboxRefund{ID: "re_2", PaymentID: "nope", Amount: 1, Currency: "AUD", CreatedAt: captured})
	}); err == nil {
		t.Error("refund of an unknown payment accepted")
	}

	// Expiry work lists: only open pages and authorised holds past their time.
	check(t, s.SandboxWrite(ctx, func(tx *SandboxTx) error {
		for i, st := range []string{"authorized", "authorized", "voided"} {
			e := t0.Add(time.Duration(i) * time.Minute)
			p := SandboxPayment{ID: "hold_" + string(rune('a'+i)), Status: st, Amount: 1, Currency: "AUD", SettlementMode: "platform",
				CreatedAt: t0, UpdatedAt: t0, HoldExpiresAt: &e}
			if err := tx.InsertPayment(p); err != nil {
				return err
			}
			c := SandboxCheckout{ID: "page_" + string(rune('a'+i)), Kind: "payment", Status: map[string]string{"authorized": "open", "voided": "expired"}[st],
				SuccessURL: "https://x/", SettlementMode: "platform", CreatedAt: t0, ExpiresAt: e}
			if err := tx.InsertCheckout(c); err != nil {
				return err
			}
		}
		return nil
	}))
	check(t, s.SandboxWrite(ctx, func(tx *SandboxTx) error {
		holds, err := tx.HoldsExpiredBy(t0.Add(30*time.Second), 10)
		if err != nil {
			return err
		}
		if len(holds) != 1 || holds[0].ID != "hold_a" {
			t.Errorf("expired holds: %+v", holds)
		}
		pages, err := tx.CheckoutsExpiredBy(t0.Add(2*time.Minute), 10)
		if err != nil {
			return err
		}
		if len(pages) != 2 || pages[0].ID != "page_a" || pages[1].ID != "page_b" {
			t.Errorf("expired pages: %+v", pages)
		}
		return nil
	}))

	// Idempotency: concurrent writers with the same key; exactly one finds
	// it unused and records it (the committer runs them one at a time).
	var wg sync.WaitGroup
	var mu sync.Mutex
	firsts := 0
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.SandboxWrite(ctx, func(tx *SandboxTx) error {
				if _, err := tx.Idempotency("key-1"); !errors.Is(err, ErrNotFound) {
					return err // used (nil) or a failure
				}
				if err := tx.InsertIdempotency(SandboxIdempotency{Key: "key-1", Operation: "capture", Fingerprint: "fp",
					Response: []byte(`{"ok":true}`), CreatedAt: t0}); err != nil {
					return err
				}
				mu.Lock()
				firsts++ // a re-run after a failed batch would count twice; none fails here
				mu.Unlock()
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if firsts != 1 {
		t.Errorf("%d writers found the key unused, want 1", firsts)
	}
	check(t, s.SandboxWrite(ctx, func(tx *SandboxTx) error {
		r, err := tx.Idempotency("key-1")
		if err == nil && (r.Operation != "capture" || string(r.Response) != `{"ok":true}` || !r.CreatedAt.Equal(t0.Truncate(time.Microsecond))) {
			t.Errorf("idempotency record: %+v", r)
		}
		return err
	}))
	err = s.SandboxWrite(ctx, func(tx *SandboxTx) error {
		return tx.InsertIdempotency(SandboxIdempotency{Key: "key-1", Operation: "x", Fingerprint: "y", Response: []byte("{}"), CreatedAt: t0})
	})
	mustConflict(t, "reused idempotency key", err)

	// A function failing before it writes is rejected alone; one failing
	// after writing rolls its writes back.
	boom := errors.New("boom")
	if err := s.SandboxWrite(ctx, func(tx *SandboxTx) error { return boom }); err != boom {
		t.Errorf("rejection: got %v, want the function's own error", err)
	}
	if err := s.SandboxWrite(ctx, func(tx *SandboxTx) error {
		if err := tx.InsertEvent(SandboxEvent{ID: "evt_rolled_back", Type: "x", Payload: []byte("{}"), CreatedAt: t0}); err != nil {
			return err
		}
		return boom
	}); !errors.Is(err, boom) {
		t.Errorf("failure after a write: got %v", err)
	}

	// Outbox: due events in order; deliveries, retries and giving up.
	check(t, s.SandboxWrite(ctx, func(tx *SandboxTx) error {
		return tx.InsertEvent(SandboxEvent{ID: "evt_2", Type: "payment.captured", Payload: []byte(`{"id":"evt_2"}`), CreatedAt: t0.Add(time.Second)})
	}))
	due := must(s.DueSandboxEvents(ctx, t0.Add(time.Second), 10))(t)
	if len(due) != 2 || due[0].ID != "evt_1" || due[1].ID != "evt_2" || string(due[1].Payload) != `{"id":"evt_2"}` || due[0].Status != SandboxEventPending {
		t.Fatalf("due events: %+v", due)
	}
	check(t, s.RecordSandboxDelivery(ctx, "evt_1", SandboxDelivery{At: t0.Add(2 * time.Second), Delivered: true}))
	check(t, s.RecordSandboxDelivery(ctx, "evt_2", SandboxDelivery{At: t0.Add(2 * time.Second), NextAttemptAt: t0.Add(time.Minute), Error: "503"}))
	if due := must(s.DueSandboxEvents(ctx, t0.Add(30*time.Second), 10))(t); len(due) != 0 {
		t.Errorf("events due before their retry time: %+v", due)
	}
	due = must(s.DueSandboxEvents(ctx, t0.Add(time.Minute), 10))(t)
	if len(due) != 1 || due[0].Attempts != 1 || due[0].LastError != "503" {
		t.Fatalf("retry: %+v", due)
	}
	check(t, s.RecordSandboxDelivery(ctx, "evt_2", SandboxDelivery{At: t0.Add(time.Minute), Error: "still 503"}))
	all := must(s.SandboxEvents(ctx, 0, 10))(t)
	if len(all) != 2 || all[0].Status != SandboxEventDelivered || all[0].DeliveredAt == nil ||
		all[1].Status != SandboxEventFailed || all[1].Attempts != 2 || all[0].Seq >= all[1].Seq {
		t.Errorf("events after delivery: %+v", all)
	}
	if rest := must(s.SandboxEvents(ctx, all[0].Seq, 10))(t); len(rest) != 1 || rest[0].ID != "evt_2" {
		t.Errorf("events after seq: %+v", rest)
	}
	// A late attempt report on a finished event changes nothing.
	check(t, s.RecordSandboxDelivery(ctx, "evt_1", SandboxDelivery{At: t0.Add(time.Hour), Error: "late"}))
	if e := must(s.SandboxEvents(ctx, 0, 1))(t); e[0].Status != SandboxEventDelivered || e[0].Attempts != 1 {
		t.Errorf("finished event changed: %+v", e[0])
	}
}
