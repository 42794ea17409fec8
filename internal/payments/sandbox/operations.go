package sandbox

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/chargestar/chargestar/internal/payments"
	"github.com/chargestar/chargestar/internal/store"
)

// Payment and checkout states as stored.
const (
	checkoutOpen      = "open"
	checkoutCompleted = "completed"
	checkoutExpired   = "expired"

	kindPayment = "payment"
	kindSetup   = "setup"
)

// outcome is what an operation answered, as remembered under its
// idempotency key and replayed for the same key.
type outcome struct {
	Payment  *payments.Payment  `json:"payment,omitempty"`
	Checkout *payments.Checkout `json:"checkout,omitempty"`
	Refund   *payments.Refund   `json:"refund,omitempty"`
	Failure  *failure           `json:"error,omitempty"`
}

// failure is a business failure (decline, invalid for the payment's state,
// not found): remembered and replayed like a success, unlike validation
// errors and store failures.
type failure struct {
	Kind      string `json:"kind"`
	Code      string `json:"code,omitempty"`
	Message   string `json:"message,omitempty"`
	PaymentID string `json:"payment_id,omitempty"`
}

var failureKinds = map[string]error{
	"declined":           payments.ErrDeclined,
	"insufficient_funds": payments.ErrInsufficientFunds,
	"invalid_request":    payments.ErrInvalidRequest,
	"not_found":          payments.ErrNotFound,
}

func fail(kind, code, paymentID, format string, args ...any) outcome {
	return outcome{Failure: &failure{Kind: kind, Code: code, PaymentID: paymentID, Message: fmt.Sprintf(format, args...)}}
}

func (o outcome) err() error {
	f := o.Failure
	if f == nil {
		return nil
	}
	kind, ok := failureKinds[f.Kind]
	if !ok {
		kind = payments.ErrInvalidRequest
	}
	return &payments.Error{Kind: kind, Code: f.Code, Message: f.Message, PaymentID: f.PaymentID}
}

// op is one operation's transaction.
type op struct {
	p       *Provider
	tx      *store.SandboxTx
	now     time.Time
	emitted int
}

// emit adds a webhook event to the outbox, in the operation's transaction.
func (o *op) emit(ev payments.Event) error {
	ev.ID = newID(prefixEvent)
	ev.CreatedAt = o.now
	ev.ProviderType = string(ev.Type)
	payload, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	o.emitted++
	return o.tx.InsertEvent(store.SandboxEvent{ID: ev.ID, Type: string(ev.Type), Payload: payload, CreatedAt: o.now})
}

// write runs fn in one store transaction and wakes the deliverer if fn
// emitted events.
func (p *Provider) write(ctx context.Context, fn func(o *op) error) error {
	now := p.now()
	emitted := false
	// Not abandoned when the caller gives up (a driver closing the page
	// mid-payment): an acquirer finishes what it started, and the
	// functions here leave their results in the caller's variables, which
	// must not be read while the write may still run.
	err := p.st.SandboxWrite(context.WithoutCancel(ctx), func(tx *store.SandboxTx) error {
		o := &op{p: p, tx: tx, now: now}
		err := fn(o)
		emitted = o.emitted > 0
		return err
	})
	if err == nil && emitted {
		p.notify()
	}
	return storeErr(err)
}

// idempotent runs an operation under an idempotency key: the first call with
// key runs fn and remembers its outcome with a fingerprint of operation and
// params; later calls replay it, or fail with ErrIdempotencyConflict when
// their fingerprint differs. The check, fn's writes and the record commit in
// one transaction, and the store's committer runs such transactions one at
// a time, so concurrent calls with one key have one effect.
func (p *Provider) idempotent(ctx context.Context, operation, key string, params any, fn func(o *op) (outcome, error)) (outcome, error) {
	fp, err := fingerprint(operation, params)
	if err != nil {
		return outcome{}, err
	}
	var out outcome
	err = p.write(ctx, func(o *op) error {
		out = outcome{}
		prev, err := o.tx.Idempotency(key)
		switch {
		case err == nil:
			if prev.Operation != operation || prev.Fingerprint != fp {
				return payments.Errorf(payments.ErrIdempotencyConflict, "idempotency_key_reused",
					"idempotency key %q was used for a different %s request", key, prev.Operation)
			}
			return json.Unmarshal(prev.Response, &out)
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		if out, err = fn(o); err != nil {
			return err
		}
		resp, err := json.Marshal(out)
		if err != nil {
			return err
		}
		return o.tx.InsertIdempotency(store.SandboxIdempotency{Key: key, Operation: operation, Fingerprint: fp, Response: resp, CreatedAt: o.now})
	})
	if err != nil {
		return outcome{}, err
	}
	return out, out.err()
}

// fingerprint identifies a request: its operation and its parameters (the
// request without its idempotency key) as JSON, whose map keys are sorted.
func fingerprint(operation string, params any) (string, error) {
	b, err := json.Marshal(params)
	if err != nil {
		return "", fmt.Errorf("sandbox: fingerprint: %w", err)
	}
	h := sha256.New()
	h.Write([]byte(operation))
	h.Write([]byte{0})
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil)), nil
}

// toPayment is the provider-neutral view of a stored payment at now: a
// hold past its expiry reads as expired before the sweep has marked it.
func toPayment(sp store.SandboxPayment, now time.Time) payments.Payment {
	p := payments.Payment{
		ID: sp.ID, Status: payments.PaymentStatus(sp.Status), Amount: sp.Amount,
		AmountCaptured: sp.AmountCaptured, AmountRefunded: sp.AmountRefunded, ApplicationFee: sp.ApplicationFee,
		Currency: sp.Currency, Description: sp.Description,
		Settlement:  payments.Settlement{Mode: payments.SettlementMode(sp.SettlementMode), Account: sp.Account},
		CustomerRef: sp.CustomerRef, PaymentMethod: sp.PaymentMethod, DeclineCode: sp.DeclineCode,
		Metadata: sp.Metadata, CreatedAt: sp.CreatedAt,
	}
	if sp.CardLast4 != "" {
		p.Card = &payments.Card{Brand: sp.CardBrand, Last4: sp.CardLast4, ExpMonth: sp.CardExpMonth, ExpYear: sp.CardExpYear}
	}
	if sp.HoldExpiresAt != nil {
		p.HoldExpiresAt = *sp.HoldExpiresAt
		if p.Status == payments.StatusAuthorized && !now.Before(p.HoldExpiresAt) {
			p.Status = payments.StatusExpired
		}
	}
	return p
}

func paymentEvent(t payments.EventType, sp store.SandboxPayment) payments.Event {
	ev := payments.Event{Type: t, PaymentID: sp.ID, CheckoutID: sp.CheckoutID, Amount: sp.Amount, Currency: sp.Currency,
		CustomerRef: sp.CustomerRef, PaymentMethod: sp.PaymentMethod, Account: sp.Account, Metadata: sp.Metadata}
	if sp.CardLast4 != "" {
		ev.Card = &payments.Card{Brand: sp.CardBrand, Last4: sp.CardLast4, ExpMonth: sp.CardExpMonth, ExpYear: sp.CardExpYear}
	}
	return ev
}

// checkoutExpiry is when a new hosted page expires.
func (p *Provider) checkoutExpiry(requested, now time.Time) (time.Time, error) {
	if requested.IsZero() {
		return now.Add(p.opts.CheckoutTTL), nil
	}
	requested = requested.UTC().Truncate(time.Microsecond)
	if !requested.After(now) || requested.After(now.Add(MaxCheckoutTTL)) {
		return time.Time{}, payments.Errorf(payments.ErrInvalidRequest, "expires_at_invalid",
			"a hosted page must expire within %s from now", MaxCheckoutTTL)
	}
	return requested, nil
}

// CreateCheckout opens a hosted page for a hold. The payment exists from
// now on, pending, so Checkout.PaymentID is known at once.
func (p *Provider) CreateCheckout(ctx context.Context, req payments.CheckoutRequest) (payments.Checkout, error) {
	if err := req.Validate(); err != nil {
		return payments.Checkout{}, err
	}
	expires, err := p.checkoutExpiry(req.ExpiresAt, p.now())
	if err != nil {
		return payments.Checkout{}, err
	}
	key := req.IdempotencyKey
	req.IdempotencyKey = ""
	out, err := p.idempotent(ctx, "checkout", key, req, func(o *op) (outcome, error) {
		set := req.Settlement.Normalized()
		chk := store.SandboxCheckout{
			ID: newID(prefixCheckout), Kind: kindPayment, Status: checkoutOpen, Amount: req.Amount, Currency: req.Currency,
			Description: req.Description, SuccessURL: req.SuccessURL, CancelURL: req.CancelURL, Metadata: req.Metadata,
			SettlementMode: string(set.Mode), Account: set.Account, CustomerRef: req.CustomerRef, SaveCard: req.SaveCard,
			PaymentID: newID(prefixPayment), CreatedAt: o.now, ExpiresAt: expires,
		}
		pay := store.SandboxPayment{
			ID: chk.PaymentID, Status: string(payments.StatusPending), Amount: req.Amount, Currency: req.Currency,
			Description: req.Description, Metadata: req.Metadata, SettlementMode: chk.SettlementMode, Account: chk.Account,
			CustomerRef: req.CustomerRef, CheckoutID: chk.ID, CreatedAt: o.now, UpdatedAt: o.now,
		}
		if err := o.tx.InsertPayment(pay); err != nil {
			return outcome{}, err
		}
		if err := o.tx.InsertCheckout(chk); err != nil {
			return outcome{}, err
		}
		return outcome{Checkout: &payments.Checkout{ID: chk.ID, URL: p.checkoutURL(chk.ID), ExpiresAt: expires,
			PaymentID: pay.ID, CustomerRef: req.CustomerRef}}, nil
	})
	if err != nil {
		return payments.Checkout{}, err
	}
	return *out.Checkout, nil
}

// CreateCardSetup opens a hosted page that saves a card to a customer
// (created when the request names none).
func (p *Provider) CreateCardSetup(ctx context.Context, req payments.CardSetupRequest) (payments.Checkout, error) {
	if err := req.Validate(); err != nil {
		return payments.Checkout{}, err
	}
	expires, err := p.checkoutExpiry(req.ExpiresAt, p.now())
	if err != nil {
		return payments.Checkout{}, err
	}
	key := req.IdempotencyKey
	req.IdempotencyKey = ""
	out, err := p.idempotent(ctx, "setup", key, req, func(o *op) (outcome, error) {
		set := req.Settlement.Normalized()
		customer := req.CustomerRef
		if customer == "" {
			customer = newID(prefixCustomer)
		}
		chk := store.SandboxCheckout{
			ID: newID(prefixCheckout), Kind: kindSetup, Status: checkoutOpen, SuccessURL: req.SuccessURL, CancelURL: req.CancelURL,
			Metadata: req.Metadata, SettlementMode: string(set.Mode), Account: set.Account, CustomerRef: customer,
			SaveCard: true, CreatedAt: o.now, ExpiresAt: expires,
		}
		if err := o.tx.InsertCheckout(chk); err != nil {
			return outcome{}, err
		}
		return outcome{Checkout: &payments.Checkout{ID: chk.ID, URL: p.checkoutURL(chk.ID), ExpiresAt: expires, CustomerRef: customer}}, nil
	})
	if err != nil {
		return payments.Checkout{}, err
	}
	return *out.Checkout, nil
}

// AuthorizeOffSession places a hold on a saved card. The simulated issuer
// answers as the card saved: 4242 approves, 9995 lacks the funds; a card
// past its expiry is declined (expired_card).
func (p *Provider) AuthorizeOffSession(ctx context.Context, req payments.AuthorizeRequest) (payments.Payment, error) {
	if err := req.Validate(); err != nil {
		return payments.Payment{}, err
	}
	key := req.IdempotencyKey
	req.IdempotencyKey = ""
	out, err := p.idempotent(ctx, "authorize", key, req, func(o *op) (outcome, error) {
		set := req.Settlement.Normalized()
		pm, err := o.tx.PaymentMethod(req.PaymentMethodRef)
		if errors.Is(err, store.ErrNotFound) || (err == nil && (pm.CustomerRef != req.CustomerRef || pm.Account != set.Account)) {
			return fail("invalid_request", "resource_missing", "", "no such payment method %q for customer %q", req.PaymentMethodRef, req.CustomerRef), nil
		}
		if err != nil {
			return outcome{}, err
		}
		pay := store.SandboxPayment{
			ID: newID(prefixPayment), Amount: req.Amount, Currency: req.Currency, Description: req.Description,
			Metadata: req.Metadata, SettlementMode: string(set.Mode), Account: set.Account, CustomerRef: req.CustomerRef,
			PaymentMethod: pm.ID, CardBrand: pm.CardBrand, CardLast4: pm.CardLast4, CardExpMonth: pm.ExpMonth, CardExpYear: pm.ExpYear,
			CreatedAt: o.now, UpdatedAt: o.now,
		}
		decline := ""
		switch {
		case cardExpired(pm.ExpMonth, pm.ExpYear, o.now):
			decline = payments.DeclineExpiredCard
		case pm.Outcome == outcomeInsufficientFunds:
			decline = payments.DeclineInsufficientFunds
		case pm.Outcome != outcomeApprove:
			decline = payments.DeclineGeneric
		}
		if decline != "" {
			pay.Status, pay.DeclineCode = string(payments.StatusFailed), decline
			if err := o.tx.InsertPayment(pay); err != nil {
				return outcome{}, err
			}
			ev := paymentEvent(payments.EventPaymentFailed, pay)
			ev.DeclineCode, ev.Message = decline, declineMessage(decline)
			if err := o.emit(ev); err != nil {
				return outcome{}, err
			}
			kind := "declined"
			if decline == payments.DeclineInsufficientFunds {
				kind = "insufficient_funds"
			}
			return fail(kind, decline, pay.ID, "%s", declineMessage(decline)), nil
		}
		o.authorize(&pay)
		if err := o.tx.InsertPayment(pay); err != nil {
			return outcome{}, err
		}
		if err := o.emit(paymentEvent(payments.EventAuthorized, pay)); err != nil {
			return outcome{}, err
		}
		v := toPayment(pay, o.now)
		return outcome{Payment: &v}, nil
	})
	if err != nil {
		return payments.Payment{}, err
	}
	return *out.Payment, nil
}

// authorize makes pay an authorised hold from now.
func (o *op) authorize(pay *store.SandboxPayment) {
	expires := o.now.Add(o.p.opts.HoldTTL)
	pay.Status = string(payments.StatusAuthorized)
	pay.DeclineCode = ""
	pay.AuthorizedAt, pay.HoldExpiresAt = &o.now, &expires
	pay.UpdatedAt = o.now
}

// payment reads the payment ref names: one on another merchant account is
// not found, as at a real acquirer.
func (o *op) payment(ref payments.PaymentRef) (store.SandboxPayment, *outcome, error) {
	pay, err := o.tx.Payment(ref.ID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && pay.Account != ref.Account) {
		f := fail("not_found", "resource_missing", "", "no such payment %q", ref.ID)
		return store.SandboxPayment{}, &f, nil
	}
	return pay, nil, err
}

// expireIfDue marks an authorised hold past its expiry as expired (and says
// so with an event), before an operation looks at its state.
func (o *op) expireIfDue(pay *store.SandboxPayment) error {
	if pay.Status != string(payments.StatusAuthorized) || pay.HoldExpiresAt == nil || o.now.Before(*pay.HoldExpiresAt) {
		return nil
	}
	return o.release(pay, payments.StatusExpired, payments.EventExpired)
}

// release ends a hold (voided, expired, canceled) and emits ev.
func (o *op) release(pay *store.SandboxPayment, status payments.PaymentStatus, ev payments.EventType) error {
	pay.Status = string(status)
	pay.ReleasedAt, pay.UpdatedAt = &o.now, o.now
	if err := o.tx.UpdatePayment(*pay); err != nil {
		return err
	}
	pay.Version++
	return o.emit(paymentEvent(ev, *pay))
}

func unexpectedState(pay store.SandboxPayment, what string) outcome {
	return fail("invalid_request", "payment_unexpected_state", pay.ID, "cannot %s a payment that is %s", what, pay.Status)
}

// Capture takes up to the hold and releases the rest.
func (p *Provider) Capture(ctx context.Context, req payments.CaptureRequest) (payments.Payment, error) {
	if err := req.Validate(); err != nil {
		return payments.Payment{}, err
	}
	key := req.IdempotencyKey
	req.IdempotencyKey = ""
	out, err := p.idempotent(ctx, "capture", key, req, func(o *op) (outcome, error) {
		pay, missing, err := o.payment(req.Payment)
		if missing != nil || err != nil {
			return deref(missing), err
		}
		if err := o.expireIfDue(&pay); err != nil {
			return outcome{}, err
		}
		switch {
		case pay.Status == string(payments.StatusExpired):
			return fail("invalid_request", "hold_expired", pay.ID, "the hold expired at %s", pay.HoldExpiresAt.Format(time.RFC3339)), nil
		case pay.Status != string(payments.StatusAuthorized):
			return unexpectedState(pay, "capture"), nil
		case req.Amount > pay.Amount:
			return fail("invalid_request", "amount_too_large", pay.ID, "capture of %d exceeds the hold of %d", req.Amount, pay.Amount), nil
		}
		pay.Status = string(payments.StatusCaptured)
		pay.AmountCaptured, pay.ApplicationFee = req.Amount, req.ApplicationFee
		pay.CapturedAt, pay.UpdatedAt = &o.now, o.now
		if err := o.tx.UpdatePayment(pay); err != nil {
			return outcome{}, err
		}
		ev := paymentEvent(payments.EventCaptured, pay)
		ev.Amount = pay.AmountCaptured
		if err := o.emit(ev); err != nil {
			return outcome{}, err
		}
		v := toPayment(pay, o.now)
		return outcome{Payment: &v}, nil
	})
	if err != nil {
		return payments.Payment{}, err
	}
	return *out.Payment, nil
}

// Void releases a hold. A hold already released (voided, expired, or a page
// that was never paid) is returned as it is; a pending page's payment is
// canceled and its page closed.
func (p *Provider) Void(ctx context.Context, req payments.VoidRequest) (payments.Payment, error) {
	if err := req.Validate(); err != nil {
		return payments.Payment{}, err
	}
	key := req.IdempotencyKey
	req.IdempotencyKey = ""
	out, err := p.idempotent(ctx, "void", key, req, func(o *op) (outcome, error) {
		pay, missing, err := o.payment(req.Payment)
		if missing != nil || err != nil {
			return deref(missing), err
		}
		if err := o.expireIfDue(&pay); err != nil {
			return outcome{}, err
		}
		switch payments.PaymentStatus(pay.Status) {
		case payments.StatusAuthorized:
			if err := o.release(&pay, payments.StatusVoided, payments.EventVoided); err != nil {
				return outcome{}, err
			}
		case payments.StatusPending:
			if err := o.release(&pay, payments.StatusCanceled, payments.EventVoided); err != nil {
				return outcome{}, err
			}
			if err := o.closeCheckout(pay.CheckoutID); err != nil {
				return outcome{}, err
			}
		case payments.StatusVoided, payments.StatusExpired, payments.StatusCanceled:
			// already released
		default:
			return unexpectedState(pay, "void"), nil
		}
		v := toPayment(pay, o.now)
		return outcome{Payment: &v}, nil
	})
	if err != nil {
		return payments.Payment{}, err
	}
	return *out.Payment, nil
}

// closeCheckout expires an open hosted page whose payment was canceled.
func (o *op) closeCheckout(id string) error {
	chk, err := o.tx.Checkout(id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && chk.Status != checkoutOpen) {
		return nil
	}
	if err != nil {
		return err
	}
	chk.Status = checkoutExpired
	return o.tx.UpdateCheckout(chk)
}

// Refund returns money of a captured payment.
func (p *Provider) Refund(ctx context.Context, req payments.RefundRequest) (payments.Refund, error) {
	if err := req.Validate(); err != nil {
		return payments.Refund{}, err
	}
	key := req.IdempotencyKey
	req.IdempotencyKey = ""
	out, err := p.idempotent(ctx, "refund", key, req, func(o *op) (outcome, error) {
		pay, missing, err := o.payment(req.Payment)
		if missing != nil || err != nil {
			return deref(missing), err
		}
		if pay.Status != string(payments.StatusCaptured) {
			return unexpectedState(pay, "refund"), nil
		}
		left := pay.AmountCaptured - pay.AmountRefunded
		amount := req.Amount
		if amount == 0 {
			amount = left
		}
		switch {
		case left == 0:
			return fail("invalid_request", "charge_already_refunded", pay.ID, "the payment is refunded in full"), nil
		case amount > left:
			return fail("invalid_request", "amount_too_large", pay.ID, "refund of %d exceeds the %d not yet refunded", amount, left), nil
		}
		ref := store.SandboxRefund{ID: newID(prefixRefund), PaymentID: pay.ID, Amount: amount, Currency: pay.Currency,
			Reason: string(req.Reason), Metadata: req.Metadata, CreatedAt: o.now}
		if err := o.tx.InsertRefund(ref); err != nil {
			return outcome{}, err
		}
		pay.AmountRefunded += amount
		pay.UpdatedAt = o.now
		if err := o.tx.UpdatePayment(pay); err != nil {
			return outcome{}, err
		}
		ev := paymentEvent(payments.EventRefunded, pay)
		ev.RefundID, ev.Amount = ref.ID, amount
		if err := o.emit(ev); err != nil {
			return outcome{}, err
		}
		return outcome{Refund: &payments.Refund{ID: ref.ID, PaymentID: pay.ID, Amount: amount, Currency: pay.Currency,
			Status: "succeeded", CreatedAt: o.now}}, nil
	})
	if err != nil {
		return payments.Refund{}, err
	}
	return *out.Refund, nil
}

// GetPayment reads a payment.
func (p *Provider) GetPayment(ctx context.Context, ref payments.PaymentRef) (payments.Payment, error) {
	if ref.ID == "" {
		return payments.Payment{}, payments.Errorf(payments.ErrInvalidRequest, "payment_missing", "a payment id is required")
	}
	sp, err := p.st.SandboxPayment(ctx, ref.ID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && sp.Account != ref.Account) {
		return payments.Payment{}, payments.Errorf(payments.ErrNotFound, "resource_missing", "no such payment %q", ref.ID)
	}
	if err != nil {
		return payments.Payment{}, storeErr(err)
	}
	return toPayment(sp, p.now()), nil
}

func deref(o *outcome) outcome {
	if o == nil {
		return outcome{}
	}
	return *o
}

// ExpireDue marks holds past HoldTTL as expired and hosted pages past their
// expiry as expired (their pending payments canceled), with an event each.
// Run calls it every PollInterval; it returns how many it expired.
func (p *Provider) ExpireDue(ctx context.Context) (int, error) {
	const batch = 100
	total := 0
	for {
		n := 0
		err := p.write(ctx, func(o *op) error {
			n = 0
			holds, err := o.tx.HoldsExpiredBy(o.now, batch)
			if err != nil {
				return err
			}
			for _, pay := range holds {
				if err := o.release(&pay, payments.StatusExpired, payments.EventExpired); err != nil {
					return err
				}
			}
			pages, err := o.tx.CheckoutsExpiredBy(o.now, batch)
			if err != nil {
				return err
			}
			for _, chk := range pages {
				if err := o.expireCheckout(chk); err != nil {
					return err
				}
			}
			n = len(holds) + len(pages)
			return nil
		})
		if err != nil {
			// n is not read: after a canceled write the op may still be
			// running in the committer.
			return total, err
		}
		total += n
		if n < batch {
			return total, nil
		}
	}
}

// expireCheckout closes an unused hosted page and cancels its payment.
func (o *op) expireCheckout(chk store.SandboxCheckout) error {
	chk.Status = checkoutExpired
	if err := o.tx.UpdateCheckout(chk); err != nil {
		return err
	}
	if chk.Kind == kindPayment {
		pay, err := o.tx.Payment(chk.PaymentID)
		if err != nil {
			return err
		}
		if pay.Status == string(payments.StatusPending) {
			pay.Status = string(payments.StatusCanceled)
			pay.ReleasedAt, pay.UpdatedAt = &o.now, o.now
			if err := o.tx.UpdatePayment(pay); err != nil {
				return err
			}
		}
	}
	return o.emit(payments.Event{Type: payments.EventCheckoutExpired, CheckoutID: chk.ID, PaymentID: chk.PaymentID,
		Amount: chk.Amount, Currency: chk.Currency, CustomerRef: chk.CustomerRef, Account: chk.Account, Metadata: chk.Metadata})
}
