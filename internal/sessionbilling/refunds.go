package sessionbilling

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/chargestar/chargestar/internal/billing"
	"github.com/chargestar/chargestar/internal/ledger"
	"github.com/chargestar/chargestar/internal/model"
	"github.com/chargestar/chargestar/internal/payments"
	"github.com/chargestar/chargestar/internal/store"
)

// Refunds: an operator gives back (part of) a captured session payment. A
// request is recorded with its outbox job in one move; the job makes the
// provider call under the refund's own key and books the refund, so a
// retried or crashed refund is paid back once.

// ErrNotRefundable: the payment is not captured, or the amount is more
// than is left to refund.
var ErrNotRefundable = errors.New("sessionbilling: not refundable")

const jobRefund = "refund"

// Refund reasons (the providers' vocabulary).
var refundReasons = map[string]bool{"": true, string(payments.RefundRequestedByCustomer): true,
	string(payments.RefundDuplicate): true, string(payments.RefundFraudulent): true}

// Refund requests a refund of amount (0: all that is left) of a captured
// session payment. It returns the pending refund; the provider call
// follows from the outbox.
func (s *Service) Refund(ctx context.Context, paymentID string, amount int64, reason string) (store.PaymentRefund, error) {
	if !refundReasons[reason] {
		return store.PaymentRefund{}, fmt.Errorf("%w: reason must be requested_by_customer, duplicate or fraudulent", ErrNotRefundable)
	}
	for attempt := 0; ; attempt++ {
		p, err := s.store.GetSessionPayment(ctx, paymentID)
		if err != nil {
			return store.PaymentRefund{}, err
		}
		if State(p.State) != StateCaptured || p.Purpose != "session" {
			return store.PaymentRefund{}, fmt.Errorf("%w: only a captured session payment can be refunded (this one is %s)", ErrNotRefundable, p.State)
		}
		refunds, err := s.store.PaymentRefunds(ctx, p.ID)
		if err != nil {
			return store.PaymentRefund{}, err
		}
		var committed, committedTax int64
		for _, r := range refunds {
			if r.State != "failed" {
				committed += r.Amount
				committedTax += r.Tax
			}
		}
		left := p.AmountCaptured - committed
		amt := amount
		if amt == 0 {
			amt = left
		}
		if amt <= 0 || amt > left {
			return store.PaymentRefund{}, fmt.Errorf("%w: %s can be refunded, %s asked", ErrNotRefundable,
				billing.FormatMoney(left, p.Currency), billing.FormatMoney(amt, p.Currency))
		}
		tax := p.AmountTax - committedTax
		if amt < left {
			var c billing.Cost
			_ = json.Unmarshal(p.Cost, &c)
			c.Total, c.Tax = p.AmountCaptured, p.AmountTax
			t, _ := billing.ParseTariff(p.Tariff)
			tax = min(TaxWithin(amt, c, t), p.AmountTax-committedTax)
		}
		r := store.PaymentRefund{ID: store.NewRefundID(), PaymentID: p.ID, Amount: amt, Tax: tax, Reason: reason, State: "pending"}
		_, err = s.store.ChangeSessionPayment(ctx, store.SessionPaymentChange{Payment: p, Refund: &r,
			Jobs: []store.PaymentJob{{Kind: jobRefund, IdemKey: "refund:" + r.ID}}})
		if errors.Is(err, store.ErrPaymentChanged) && attempt < 10 {
			continue // another refund was asked meanwhile: count it
		}
		if err != nil {
			return store.PaymentRefund{}, err
		}
		s.log.Info("refund requested", "payment_id", p.ID, "refund_id", r.ID, "amount", amt)
		s.wake()
		return r, nil
	}
}

// refund runs a refund job: the provider call, then the booking.
func (s *Service) refund(ctx context.Context, p store.SessionPayment, j store.PaymentJob) error {
	id := strings.TrimPrefix(j.IdemKey, "refund:")
	refunds, err := s.store.PaymentRefunds(ctx, p.ID)
	if err != nil {
		return err
	}
	var r *store.PaymentRefund
	for i := range refunds {
		if refunds[i].ID == id {
			r = &refunds[i]
		}
	}
	if r == nil || r.State != "pending" {
		return s.store.FinishPaymentJob(ctx, j.ID, "", zeroTime)
	}
	via := ledger.ProviderClearingAccount(p.Provider, p.Currency)
	switch {
	case p.Method == "wallet":
		via = ledger.WalletAccount(p.AccountID, p.Currency)
	case p.SettlementMode == model.SettlementDirect:
		via = ledger.OperatorMerchantAccount(p.OperatorID, p.Currency)
	}
	if p.Method != "wallet" {
		ref, err := s.provider.Refund(ctx, payments.RefundRequest{IdempotencyKey: "refund:" + r.ID,
			Payment: payments.PaymentRef{ID: p.ProviderPaymentID, Account: p.MerchantAccount}, Amount: r.Amount,
			Reason: payments.RefundReason(r.Reason), RefundApplicationFee: p.SettlementMode == model.SettlementDirect,
			Metadata: map[string]string{"payment_id": p.ID, "refund_id": r.ID}})
		if err != nil {
			if payments.Retryable(err) {
				return err
			}
			s.log.Error("refund refused by the provider", "payment_id", p.ID, "refund_id", r.ID, "err", err)
			failed := *r
			failed.State, failed.Error = "failed", err.Error()
			now := s.now()
			failed.SettledAt = &now
			_, err = s.edit(ctx, p.ID, func(_ *store.SessionPayment, c *store.SessionPaymentChange) error {
				c.Refund, c.DoneJob = &failed, j.ID
				return nil
			})
			return err
		}
		r.ProviderRefundID = ref.ID
	}
	tx, err := ledger.Refund(ledger.RefundParams{Key: "refund:" + r.ID, Reference: p.ID, Operator: p.OperatorID, Via: via,
		Split: ledger.Split{Tax: r.Tax, Net: r.Amount - r.Tax}})
	if err != nil {
		return err
	}
	done := *r
	now := s.now()
	done.State, done.SettledAt = "succeeded", &now
	_, err = s.edit(ctx, p.ID, func(p *store.SessionPayment, c *store.SessionPaymentChange) error {
		p.AmountRefunded += done.Amount
		c.Refund, c.Ledger, c.DoneJob = &done, &tx, j.ID
		return nil
	})
	if err == nil {
		s.log.Info("refunded", "payment_id", p.ID, "refund_id", r.ID, "amount", r.Amount)
	}
	return err
}
