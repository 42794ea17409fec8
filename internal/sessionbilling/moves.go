package sessionbilling

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/chargestar/chargestar/internal/billing"
	"github.com/chargestar/chargestar/internal/ledger"
	"github.com/chargestar/chargestar/internal/model"
	"github.com/chargestar/chargestar/internal/payments"
	"github.com/chargestar/chargestar/internal/receipt"
	"github.com/chargestar/chargestar/internal/store"
)

// Outbox job kinds.
const (
	jobRemoteStart = "remote_start"
	jobRemoteStop  = "remote_stop"
	jobCapture     = "capture"
	jobVoid        = "void"
	// jobReceiptEmail mails the receipt (at least once: a crash between
	// the send and its record sends it again).
	jobReceiptEmail = "receipt_email"
)

// editFunc fills in a move: the payment's new fields, and the ledger
// transaction and jobs that go with it.
type editFunc func(p *store.SessionPayment, c *store.SessionPaymentChange) error

// move applies ev to the payment: the state machine decides the new state,
// edit the rest, and the store writes it all at once. A concurrent move
// (the version changed) is retried on a fresh read, so the decision is
// always made on the current state. ErrStale: ev changes nothing (it
// is acknowledged; a webhook is not recorded then, a redelivery is as
// stale).
func (s *Service) move(ctx context.Context, id string, ev Event, wh *store.WebhookRecord, edit editFunc) (store.SessionPayment, error) {
	for attempt := 0; ; attempt++ {
		p, err := s.store.GetSessionPayment(ctx, id)
		if err != nil {
			return p, err
		}
		to, err := Next(State(p.State), ev)
		if err != nil {
			return p, err
		}
		c := store.SessionPaymentChange{Payment: p, Webhook: wh}
		c.Payment.State = string(to)
		if edit != nil {
			if err := edit(&c.Payment, &c); err != nil {
				return p, err
			}
		}
		if c.Payment.SessionID != "" {
			c.SessionStatus = SessionPaymentStatus(to)
		}
		out, err := s.store.ChangeSessionPayment(ctx, c)
		if errors.Is(err, store.ErrPaymentChanged) && attempt < 10 {
			continue
		}
		if err == nil {
			s.log.Info("payment moved", "payment_id", id, "from", p.State, "to", to, "event", ev, "session_id", out.SessionID)
			if len(c.Jobs) > 0 {
				s.wake()
			}
		}
		return out, err
	}
}

// moveIgnoringStale is move for callers to whom a stale event is success.
func (s *Service) moveIgnoringStale(ctx context.Context, id string, ev Event, wh *store.WebhookRecord, edit editFunc) (store.SessionPayment, error) {
	p, err := s.move(ctx, id, ev, wh, edit)
	if errors.Is(err, ErrStale) {
		return s.store.GetSessionPayment(ctx, id)
	}
	return p, err
}

// edit changes a payment without moving its state.
func (s *Service) edit(ctx context.Context, id string, edit editFunc) (store.SessionPayment, error) {
	for attempt := 0; ; attempt++ {
		p, err := s.store.GetSessionPayment(ctx, id)
		if err != nil {
			return p, err
		}
		c := store.SessionPaymentChange{Payment: p}
		if err := edit(&c.Payment, &c); err != nil {
			return p, err
		}
		out, err := s.store.ChangeSessionPayment(ctx, c)
		if errors.Is(err, store.ErrPaymentChanged) && attempt < 10 {
			continue
		}
		return out, err
	}
}

// authorizedEdit books the hold: the provider placed it (pay is the
// provider's payment, nil for a wallet) and, for an app session, asks the
// station to start.
func (s *Service) authorizedEdit(pay *payments.Payment) editFunc {
	return func(p *store.SessionPayment, c *store.SessionPaymentChange) error {
		now := s.now()
		if pay != nil {
			p.ProviderPaymentID = pay.ID
			if pay.Amount > 0 && pay.Amount != p.HoldAmount {
				// The provider's figure is the hold that exists.
				p.HoldAmount = pay.Amount
			}
			if pay.Card != nil {
				p.CardBrand, p.CardLast4 = pay.Card.Brand, pay.Card.Last4
			}
			if !pay.HoldExpiresAt.IsZero() {
				t := pay.HoldExpiresAt.UTC()
				p.HoldExpiresAt = &t
			}
		}
		p.AuthorizedAt = &now
		deadline := now.Add(s.cfg.StartTimeout)
		p.StartDeadline = &deadline
		if p.Purpose != "topup" {
			// A top-up's hold is a formality of the hosted page, taken
			// whole at once: the ledger books the top-up when captured.
			hold, err := ledger.Hold(ledger.HoldParams{Key: holdKey(p.ID), Reference: p.ID, Payment: paymentRefForLedger(*p),
				Funding: fundingAccount(*p), Amount: p.HoldAmount})
			if err != nil {
				return err
			}
			c.Ledger = &hold
		}
		switch {
		case p.State == string(StateStopped):
			// A hold for a page already given up on: release it.
			p.EndReason = "canceled"
			p.StoppedAt = &now
			c.Jobs = append(c.Jobs, store.PaymentJob{Kind: jobVoid, IdemKey: voidKey(p.ID)})
		case p.Purpose == "topup":
			// Nothing to wait for: a top-up is taken whole.
			c.Jobs = append(c.Jobs, store.PaymentJob{Kind: jobCapture, IdemKey: captureKey(p.ID)})
		case p.Method == "card":
			c.Jobs = append(c.Jobs, store.PaymentJob{Kind: jobRemoteStart, IdemKey: "start:" + p.ID})
		}
		return nil
	}
}

func paymentRefForLedger(p store.SessionPayment) string {
	if p.ProviderPaymentID != "" {
		return p.ProviderPaymentID
	}
	return p.ID // a wallet hold is its own payment
}

// releaseEdit ends a payment whose session never started: the hold is
// released.
func (s *Service) releaseEdit(reason string) editFunc {
	return func(p *store.SessionPayment, c *store.SessionPaymentChange) error {
		now := s.now()
		p.StoppedAt = &now
		if p.EndReason == "" {
			p.EndReason = reason
		}
		c.Jobs = append(c.Jobs, store.PaymentJob{Kind: jobVoid, IdemKey: voidKey(p.ID)})
		return nil
	}
}

// stoppedEdit settles a finished session: the final price from the frozen
// tariff and the session's meter values, then a capture of at most the
// hold, or a void.
func (s *Service) stoppedEdit(sess model.Session, c billing.Cost) editFunc {
	return func(p *store.SessionPayment, ch *store.SessionPaymentChange) error {
		t, err := billing.ParseTariff(p.Tariff)
		if err != nil {
			return err
		}
		set := Settle(c, p.HoldAmount, t)
		stopped := s.now()
		if sess.StoppedAt != nil {
			stopped = *sess.StoppedAt
		}
		p.StoppedAt = &stopped
		p.AmountTotal, p.AmountTax = set.Capture, set.Tax
		p.RunningCost = c.Total
		if p.EndReason == "" {
			p.EndReason = sess.StopReason
		}
		if set.Reason != "" {
			p.EndReason = set.Reason
		}
		if set.Capped {
			s.log.Warn("session cost above its hold: capturing the hold", "payment_id", p.ID, "cost", c.Total, "hold", p.HoldAmount)
		}
		cost, err := json.Marshal(c)
		if err != nil {
			return err
		}
		p.Cost = cost
		if set.Capture > 0 {
			ch.Jobs = append(ch.Jobs, store.PaymentJob{Kind: jobCapture, IdemKey: captureKey(p.ID)})
		} else {
			ch.Jobs = append(ch.Jobs, store.PaymentJob{Kind: jobVoid, IdemKey: voidKey(p.ID)})
		}
		return nil
	}
}

// capturedEdit books a confirmed capture of amount.
func (s *Service) capturedEdit(amount int64, jobID int64) editFunc {
	return func(p *store.SessionPayment, c *store.SessionPaymentChange) error {
		now := s.now()
		p.AmountCaptured = amount
		p.SettledAt = &now
		if p.ReceiptCode == "" {
			p.ReceiptCode = receipt.NewCode()
		}
		c.DoneJob = jobID
		if p.Purpose == "topup" {
			// The money is the wallet's from now on.
			tx, err := ledger.WalletTopUp(ledger.TopUpParams{Key: "topup:" + p.ID, Reference: p.ID,
				Wallet: ledger.WalletAccount(p.AccountID, p.Currency), Provider: p.Provider, Amount: amount})
			if err != nil {
				return err
			}
			c.Ledger = &tx
			return nil
		}
		tax := p.AmountTax
		if amount != p.AmountTotal {
			// The provider took another amount than asked (it should
			// not): the tax is of what was taken.
			var cost billing.Cost
			t, _ := billing.ParseTariff(p.Tariff)
			if err := json.Unmarshal(p.Cost, &cost); err == nil && t != nil {
				cost.Total, cost.Tax = p.AmountTotal, p.AmountTax
				tax = TaxWithin(amount, cost, t)
			} else {
				tax = scaleTax(p.AmountTax, amount, p.AmountTotal)
			}
		}
		split := ledger.Split{Tax: tax}
		if s.cfg.PlatformFeeBasisPoints > 0 {
			split.PlatformFee = (amount - tax) * s.cfg.PlatformFeeBasisPoints / 10000
		}
		split.Net = amount - tax - split.PlatformFee
		c.HoldKey = holdKey(p.ID)
		c.Capture = &ledger.CaptureParams{Key: captureKey(p.ID), Operator: p.OperatorID, Split: split}
		c.Jobs = append(c.Jobs, receiptEmailJob(p)...)
		return nil
	}
}

// receiptEmailJob sends the receipt to a driver who gave an address,
// once (its key is the payment's).
func receiptEmailJob(p *store.SessionPayment) []store.PaymentJob {
	if p.Email == "" || p.Purpose != "session" {
		return nil
	}
	return []store.PaymentJob{{Kind: jobReceiptEmail, IdemKey: "email:" + p.ID}}
}

// voidedEdit books a confirmed release of the hold.
func (s *Service) voidedEdit(jobID int64) editFunc {
	return func(p *store.SessionPayment, c *store.SessionPaymentChange) error {
		now := s.now()
		p.SettledAt = &now
		p.AmountTotal, p.AmountTax = 0, 0
		if p.ReceiptCode == "" && p.SessionID != "" {
			p.ReceiptCode = receipt.NewCode()
		}
		c.DoneJob = jobID
		if p.Purpose != "topup" {
			c.HoldKey = holdKey(p.ID)
			c.Void = &ledger.VoidParams{Key: voidKey(p.ID)}
		}
		if p.SessionID != "" {
			c.Jobs = append(c.Jobs, receiptEmailJob(p)...)
		}
		return nil
	}
}

// applyProviderEvent applies a verified provider event. Redeliveries are
// recognised by the event id.
func (s *Service) applyProviderEvent(ctx context.Context, ev payments.Event) error {
	if ev.Type == payments.EventSetupCompleted || ev.Type == payments.EventSetupFailed {
		return s.applySetupEvent(ctx, ev)
	}
	p, err := s.paymentOfEvent(ctx, ev)
	if errors.Is(err, store.ErrNotFound) {
		s.log.Debug("provider event for no payment of ours", "event_id", ev.ID, "type", ev.Type, "payment", ev.PaymentID)
		return nil
	}
	if err != nil {
		return err
	}
	wh := &store.WebhookRecord{Provider: s.provider.Name(), EventID: ev.ID, Type: string(ev.Type), PaymentID: p.ID}
	var moveErr error
	switch ev.Type {
	case payments.EventCheckoutCompleted, payments.EventAuthorized:
		pay, err := s.provider.GetPayment(ctx, payments.PaymentRef{ID: firstNonEmpty(ev.PaymentID, p.ProviderPaymentID), Account: p.MerchantAccount})
		if err != nil {
			return fmt.Errorf("reading payment %s: %w", ev.PaymentID, err)
		}
		if pay.Status != payments.StatusAuthorized {
			return nil // a later event says what became of it
		}
		_, moveErr = s.move(ctx, p.ID, EvAuthorized, wh, s.authorizedEdit(&pay))
	case payments.EventPaymentFailed:
		if p.Method == "card" && p.State == string(StateQuote) {
			// The driver is still on the page and may try another card.
			_, moveErr = s.edit(ctx, p.ID, func(p *store.SessionPayment, c *store.SessionPaymentChange) error {
				p.DeclineCode = ev.DeclineCode
				c.Webhook = wh
				return nil
			})
		} else {
			_, moveErr = s.move(ctx, p.ID, EvDeclined, wh, func(p *store.SessionPayment, _ *store.SessionPaymentChange) error {
				p.DeclineCode = ev.DeclineCode
				return nil
			})
		}
	case payments.EventCheckoutExpired:
		_, moveErr = s.move(ctx, p.ID, EvCheckoutClosed, wh, func(p *store.SessionPayment, _ *store.SessionPaymentChange) error {
			p.EndReason = "checkout_expired"
			return nil
		})
	case payments.EventExpired:
		_, moveErr = s.move(ctx, p.ID, EvHoldExpired, wh, s.holdExpiredEdit())
	case payments.EventRefunded:
		_, moveErr = s.edit(ctx, p.ID, func(p *store.SessionPayment, c *store.SessionPaymentChange) error {
			c.Webhook = wh
			return nil
		})
	default:
		// Captures and voids are confirmed by the calls that made them
		// (the outbox); their events change nothing.
		return nil
	}
	if errors.Is(moveErr, ErrStale) || errors.Is(moveErr, store.ErrDuplicateEvent) {
		return nil
	}
	if errors.Is(moveErr, ErrImpossible) {
		s.log.Warn("provider event impossible in the payment's state", "payment_id", p.ID, "event", ev.Type, "state", p.State)
		return nil
	}
	return moveErr
}

// holdExpiredEdit: the provider let the hold lapse. A session not yet
// started is released; a live one is finished now from its last reading
// (the capture will fail and leave it receivable).
func (s *Service) holdExpiredEdit() editFunc {
	return func(p *store.SessionPayment, c *store.SessionPaymentChange) error {
		now := s.now()
		p.StoppedAt = &now
		p.EndReason = "hold_expired"
		c.Jobs = append(c.Jobs, store.PaymentJob{Kind: jobVoid, IdemKey: voidKey(p.ID)})
		return nil
	}
}

func (s *Service) paymentOfEvent(ctx context.Context, ev payments.Event) (store.SessionPayment, error) {
	if id := ev.Metadata["payment_id"]; id != "" {
		p, err := s.store.GetSessionPayment(ctx, id)
		if err == nil && (p.ProviderPaymentID == "" || ev.PaymentID == "" || p.ProviderPaymentID == ev.PaymentID) {
			return p, nil
		}
	}
	if ev.PaymentID != "" {
		if p, err := s.store.FindSessionPayment(ctx, store.SessionPaymentFind{Provider: s.provider.Name(), ProviderPayment: ev.PaymentID}); err == nil {
			return p, nil
		}
	}
	if ev.CheckoutID != "" {
		return s.store.FindSessionPayment(ctx, store.SessionPaymentFind{Provider: s.provider.Name(), CheckoutID: ev.CheckoutID})
	}
	return store.SessionPayment{}, store.ErrNotFound
}

// Reconcile reads a payment's state at the provider and applies it, as a
// webhook would: the driver's return from the hosted page does not wait for
// the webhook, and the sweep recovers from lost ones.
func (s *Service) Reconcile(ctx context.Context, paymentID string) (store.SessionPayment, error) {
	p, err := s.store.GetSessionPayment(ctx, paymentID)
	if err != nil {
		return p, err
	}
	if p.ProviderPaymentID == "" || (p.Method != "card") {
		return p, nil
	}
	pay, err := s.provider.GetPayment(ctx, payments.PaymentRef{ID: p.ProviderPaymentID, Account: p.MerchantAccount})
	if err != nil {
		return p, err
	}
	switch pay.Status {
	case payments.StatusAuthorized, payments.StatusCaptured:
		if State(p.State) == StateQuote || State(p.State) == StateCanceled {
			_, err = s.moveIgnoringStale(ctx, p.ID, EvAuthorized, nil, s.authorizedEdit(&pay))
		}
	case payments.StatusCanceled:
		_, err = s.moveIgnoringStale(ctx, p.ID, EvCheckoutClosed, nil, func(p *store.SessionPayment, _ *store.SessionPaymentChange) error {
			p.EndReason = "checkout_expired"
			return nil
		})
	case payments.StatusPending:
		if pay.DeclineCode != "" && pay.DeclineCode != p.DeclineCode {
			_, err = s.edit(ctx, p.ID, func(p *store.SessionPayment, _ *store.SessionPaymentChange) error {
				p.DeclineCode = pay.DeclineCode
				return nil
			})
		}
	}
	if err != nil && !errors.Is(err, ErrImpossible) {
		return p, err
	}
	return s.store.GetSessionPayment(ctx, paymentID)
}

// HandleWebhook verifies and applies a provider webhook delivery.
// payments.ErrInvalidSignature means answer 400; other errors 500 (the
// provider retries).
func (s *Service) HandleWebhook(ctx context.Context, payload []byte, header map[string][]string) error {
	ev, err := s.provider.ParseWebhook(payload, header)
	if err != nil {
		return err
	}
	return s.applyProviderEvent(ctx, ev)
}

func firstNonEmpty(a ...string) string {
	for _, s := range a {
		if s != "" {
			return s
		}
	}
	return ""
}

func subtleEqual(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }

var _ = time.Second
