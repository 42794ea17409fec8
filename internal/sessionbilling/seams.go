package sessionbilling

import (
	"context"
	"errors"
	"time"

	"github.com/chargestar/chargestar/internal/billing"
	"github.com/chargestar/chargestar/internal/csms"
	"github.com/chargestar/chargestar/internal/model"
	"github.com/chargestar/chargestar/internal/payments"
	"github.com/chargestar/chargestar/internal/store"
)

// The CSMS seams: csms.CostProvider (costs and limits told to 2.x
// stations) and csms.Authorizer (one-off app tokens and NextCharge cards).

var (
	_ csms.CostProvider    = (*Service)(nil)
	_ csms.Authorizer      = (*Service)(nil)
	_ csms.SessionObserver = (*Service)(nil)
)

// SessionCost implements csms.CostProvider: the running cost of a live
// paid session as of its last priced reading, or the final amount of a
// finished one.
func (s *Service) SessionCost(ctx context.Context, sess model.Session) (csms.Cost, bool, error) {
	if sess.Status == model.SessionActive {
		if c, ok := s.costs.Load(sess.ID); ok {
			return c.(csms.Cost), true, nil
		}
		if v, ok := s.live.Load(sess.ID); ok {
			return csms.Cost{Currency: v.(live).Currency}, true, nil
		}
		return csms.Cost{}, false, nil
	}
	p, err := s.store.FindSessionPayment(ctx, store.SessionPaymentFind{SessionID: sess.ID})
	if errors.Is(err, store.ErrNotFound) {
		return csms.Cost{}, false, nil
	}
	if err != nil {
		return csms.Cost{}, false, err
	}
	if State(p.State) == StateCharging {
		// The stop is being settled now; price it the same way.
		full, err := s.store.GetSession(ctx, "", sess.ID)
		if err != nil {
			return csms.Cost{}, false, err
		}
		c, err := s.price(ctx, p, full)
		if err != nil {
			return csms.Cost{}, false, err
		}
		t, err := billing.ParseTariff(p.Tariff)
		if err != nil {
			return csms.Cost{}, false, err
		}
		return csms.Cost{Total: Settle(c, p.HoldAmount, t).Capture, Currency: p.Currency}, true, nil
	}
	return csms.Cost{Total: p.AmountTotal, Currency: p.Currency}, true, nil
}

// SessionLimit implements csms.CostProvider: a paid session may cost at
// most its stop threshold (OCPP 2.1 stations then stop themselves; others
// are stopped remotely), and use at most the driver's energy or time
// budget.
func (s *Service) SessionLimit(_ context.Context, sess model.Session) (*csms.TransactionLimit, error) {
	v, ok := s.live.Load(sess.ID)
	if !ok {
		return nil, nil
	}
	lv := v.(live)
	var lim csms.TransactionLimit
	if lv.StopAtCost > 0 {
		c := lv.StopAtCost
		lim.MaxCost = &c
	}
	if lv.BudgetWh > 0 {
		wh := lv.BudgetWh
		lim.MaxEnergyWh = &wh
	}
	if lv.BudgetSeconds > 0 {
		d := time.Duration(lv.BudgetSeconds) * time.Second
		lim.MaxTime = &d
	}
	if lim.MaxCost == nil && lim.MaxEnergyWh == nil && lim.MaxTime == nil {
		return nil, nil
	}
	return &lim, nil
}

// Authorize implements csms.Authorizer. One-off tokens of app sessions
// are accepted while their hold stands, at their station only. NextCharge
// cards are accepted when their account can hold the price of a session:
// a hold is placed on the wallet or the saved card there and then.
// Anything else is the inner authorizer's (the operator's own cards).
func (s *Service) Authorize(ctx context.Context, l *csms.Link, idTag string, purpose csms.AuthPurpose) (csms.AuthResult, error) {
	if IsStartToken(idTag) {
		p, err := s.store.FindSessionPayment(ctx, store.SessionPaymentFind{OpenToken: idTag, StationID: l.StationID})
		switch {
		case err == nil:
			return openPaymentAuth(p, purpose), nil
		case !errors.Is(err, store.ErrNotFound):
			return csms.AuthResult{}, err
		case purpose == csms.AuthForStop:
			return csms.AuthResult{Status: csms.AuthAccepted}, nil
		}
		// Not open (released, settled) or not ours: fall through, an
		// operator may have a card of that shape.
	}
	card, err := s.store.GetDriverCard(ctx, idTag)
	if err == nil {
		return s.authorizeCard(ctx, l, card, purpose)
	}
	if !errors.Is(err, store.ErrNotFound) {
		return csms.AuthResult{}, err
	}
	if s.inner != nil {
		return s.inner.Authorize(ctx, l, idTag, purpose)
	}
	return csms.AuthResult{Status: csms.AuthInvalid}, nil
}

func openPaymentAuth(p store.SessionPayment, purpose csms.AuthPurpose) csms.AuthResult {
	if State(p.State) == StateCharging && purpose == csms.AuthForStart {
		// The token started its session already (csms asks again as for
		// a stop when the start is that session's own replay).
		return csms.AuthResult{Status: csms.AuthConcurrentTx}
	}
	res := csms.AuthResult{Status: csms.AuthAccepted}
	if p.StartDeadline != nil && State(p.State) == StateAuthorized {
		t := *p.StartDeadline
		res.ExpiresAt = &t
	}
	return res
}

// authorizeCard answers for a NextCharge card, placing its hold.
func (s *Service) authorizeCard(ctx context.Context, l *csms.Link, card store.DriverCard, purpose csms.AuthPurpose) (csms.AuthResult, error) {
	if card.Status != model.TokenAccepted {
		return csms.AuthResult{Status: csms.AuthBlocked}, nil
	}
	acct, err := s.store.GetDriverAccount(ctx, card.AccountID)
	if err != nil {
		return csms.AuthResult{}, err
	}
	if acct.Status != "active" {
		return csms.AuthResult{Status: csms.AuthBlocked}, nil
	}
	if purpose == csms.AuthForStop {
		return csms.AuthResult{Status: csms.AuthAccepted}, nil
	}
	open, err := s.store.FindSessionPayment(ctx, store.SessionPaymentFind{OpenToken: card.IDToken})
	switch {
	case err == nil && State(open.State) == StateCharging:
		if purpose == csms.AuthForStart {
			return csms.AuthResult{Status: csms.AuthConcurrentTx}, nil
		}
		return csms.AuthResult{Status: csms.AuthAccepted}, nil
	case err == nil && open.StationID == l.StationID:
		return openPaymentAuth(open, purpose), nil
	case err == nil:
		// Held at another station and never started there: the driver
		// moved on. Release that hold and hold here.
		if _, err := s.moveIgnoringStale(ctx, open.ID, EvNoStart, nil, s.releaseEdit("moved_station")); err != nil {
			return csms.AuthResult{}, err
		}
	case !errors.Is(err, store.ErrNotFound):
		return csms.AuthResult{}, err
	}
	q, err := s.Quote(ctx, l.StationID, 0, billing.Budget{})
	if errors.Is(err, ErrNoTariff) {
		// The operator prices nothing here: nothing to hold.
		return csms.AuthResult{Status: csms.AuthAccepted}, nil
	}
	if err != nil {
		return csms.AuthResult{}, err
	}
	if q.Hold.Currency != acct.Currency {
		s.log.Info("card refused: account currency differs from the tariff's", "account_id", acct.ID, "station_id", l.StationID)
		return csms.AuthResult{Status: csms.AuthBlocked}, nil
	}
	now := s.now()
	deadline := now.Add(s.cfg.StartTimeout)
	p := store.SessionPayment{
		OperatorID: q.Operator.ID, Purpose: "session", Method: "wallet", State: string(StateAuthorized),
		StationID: l.StationID, AccountID: acct.ID, IDToken: card.IDToken,
		Provider: s.provider.Name(), SettlementMode: model.SettlementPlatform,
		Currency: q.Hold.Currency, HoldAmount: q.Hold.Amount, TariffID: q.TariffID, Tariff: q.TariffJSON,
		Timezone: q.Location.String(), Email: acct.Email, AuthorizedAt: &now, StartDeadline: &deadline,
	}
	if q.Hold.StopOnCost {
		p.StopAtCost = q.Hold.StopAtCost
	}
	if acct.Funding == store.FundingWallet {
		p.ID = newPaymentID()
		hold, err := ledgerHold(p)
		if err != nil {
			return csms.AuthResult{}, err
		}
		_, err = s.store.ChangeSessionPayment(ctx, store.SessionPaymentChange{Payment: p, Ledger: &hold})
		if isInsufficient(err) {
			s.log.Info("card refused: wallet balance below the hold", "account_id", acct.ID, "hold", p.HoldAmount)
			return csms.AuthResult{Status: csms.AuthBlocked}, nil
		}
		if err != nil {
			return csms.AuthResult{}, err
		}
		return csms.AuthResult{Status: csms.AuthAccepted, ExpiresAt: &deadline}, nil
	}
	// A saved card: hold on it, off-session, now.
	if acct.PaymentMethodRef == "" {
		return csms.AuthResult{Status: csms.AuthBlocked}, nil
	}
	p.Method, p.State = "saved_card", string(StateQuote)
	p.SettlementMode, p.MerchantAccount = settlementMode(q.Operator), q.Operator.MerchantAccount
	p.AuthorizedAt, p.StartDeadline = nil, nil
	p.CardBrand, p.CardLast4 = acct.CardBrand, acct.CardLast4
	// Should we die between the hold and its record, the sweep asks the
	// provider again (same key, same answer) once this has passed.
	p.ExpiresAt = &deadline
	p, err = s.store.ChangeSessionPayment(ctx, store.SessionPaymentChange{Payment: p})
	if err != nil {
		return csms.AuthResult{}, err
	}
	pay, err := s.provider.AuthorizeOffSession(ctx, offSessionRequest(p, acct))
	if err != nil {
		_, merr := s.moveIgnoringStale(ctx, p.ID, EvDeclined, nil, func(p *store.SessionPayment, _ *store.SessionPaymentChange) error {
			p.DeclineCode = firstNonEmpty(payments.DeclineCode(err), "provider_error")
			return nil
		})
		if merr != nil {
			s.log.Warn("recording a declined card hold", "payment_id", p.ID, "err", merr)
		}
		s.log.Info("card refused: the saved card's hold was declined", "account_id", acct.ID, "err", err)
		return csms.AuthResult{Status: csms.AuthBlocked}, nil
	}
	p, err = s.moveIgnoringStale(ctx, p.ID, EvAuthorized, nil, s.authorizedEdit(&pay))
	if err != nil {
		return csms.AuthResult{}, err
	}
	return openPaymentAuth(p, purpose), nil
}

// offSessionRequest is the hold on a saved card for payment p: the same
// request (and idempotency key) every time it is made for p.
func offSessionRequest(p store.SessionPayment, acct store.DriverAccount) payments.AuthorizeRequest {
	return payments.AuthorizeRequest{
		IdempotencyKey: "auth:" + p.ID, Amount: p.HoldAmount, Currency: p.Currency,
		Description: "EV charging at " + p.StationID, CustomerRef: acct.CustomerRef, PaymentMethodRef: acct.PaymentMethodRef,
		Metadata:   map[string]string{"payment_id": p.ID, "purpose": "session"},
		Settlement: payments.Settlement{Mode: payments.SettlementMode(p.SettlementMode), Account: p.MerchantAccount},
	}
}

// recoverOffSessionHold settles a saved-card payment whose hold was asked
// for but never recorded (the server died in between): the provider is
// asked again with the same key, and a hold it placed is released (the
// station has long had its answer).
func (s *Service) recoverOffSessionHold(ctx context.Context, p store.SessionPayment) error {
	acct, err := s.store.GetDriverAccount(ctx, p.AccountID)
	if err != nil {
		return err
	}
	pay, err := s.provider.AuthorizeOffSession(ctx, offSessionRequest(p, acct))
	if err != nil {
		if payments.Retryable(err) {
			return err
		}
		_, err = s.moveIgnoringStale(ctx, p.ID, EvDeclined, nil, func(p *store.SessionPayment, _ *store.SessionPaymentChange) error {
			p.DeclineCode = firstNonEmpty(payments.DeclineCode(err), "provider_error")
			return nil
		})
		return err
	}
	if _, err := s.moveIgnoringStale(ctx, p.ID, EvAuthorized, nil, s.authorizedEdit(&pay)); err != nil {
		return err
	}
	_, err = s.moveIgnoringStale(ctx, p.ID, EvNoStart, nil, s.releaseEdit("interrupted"))
	return err
}
