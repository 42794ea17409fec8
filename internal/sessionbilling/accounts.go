package sessionbilling

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/chargestar/chargestar/internal/ledger"
	"github.com/chargestar/chargestar/internal/model"
	"github.com/chargestar/chargestar/internal/payments"
	"github.com/chargestar/chargestar/internal/store"
)

// NextCharge driver accounts: an RFID card is tied to an account that pays
// from a prepaid wallet (topped up through the provider's hosted page) or
// from a card saved at the provider (held off-session at each tap).

// ErrBadAccount: the account cannot do that (closed, wrong funding).
var ErrBadAccount = errors.New("sessionbilling: not possible for this account")

// WalletBalance is an account's wallet: what it holds, what is held by
// sessions in progress, and what is available for a new one.
func (s *Service) WalletBalance(ctx context.Context, acct store.DriverAccount) (ledger.Balance, error) {
	return s.store.LedgerBalance(ctx, ledger.WalletAccount(acct.ID, acct.Currency))
}

// StartTopUp opens a hosted page paying amount into the account's wallet.
func (s *Service) StartTopUp(ctx context.Context, accountID string, amount int64, successURL, cancelURL string) (Checkout, error) {
	acct, err := s.store.GetDriverAccount(ctx, accountID)
	if err != nil {
		return Checkout{}, err
	}
	if acct.Status != "active" || acct.Funding != store.FundingWallet {
		return Checkout{}, fmt.Errorf("%w: top-ups are for active wallet accounts", ErrBadAccount)
	}
	if amount <= 0 || amount > 100_000_00 {
		return Checkout{}, fmt.Errorf("%w: top-up amount %d out of range", ErrBadBudget, amount)
	}
	access := randomToken(32)
	expires := s.now().Add(s.cfg.CheckoutTTL)
	p := store.SessionPayment{Purpose: "topup", Method: "card", State: string(StateQuote), AccountID: acct.ID,
		Provider: s.provider.Name(), SettlementMode: model.SettlementPlatform, Currency: acct.Currency, HoldAmount: amount,
		Email: acct.Email, AccessHash: hashToken(access), ExpiresAt: &expires}
	p, err = s.store.ChangeSessionPayment(ctx, store.SessionPaymentChange{Payment: p})
	if err != nil {
		return Checkout{}, err
	}
	if successURL == "" {
		successURL = s.cfg.BaseURL + "/app/p/" + p.ID + "?t=" + access
	}
	if cancelURL == "" {
		cancelURL = successURL + "&canceled=1"
	}
	co, err := s.provider.CreateCheckout(ctx, payments.CheckoutRequest{IdempotencyKey: "checkout:" + p.ID, Amount: amount,
		Currency: acct.Currency, Description: "NextCharge wallet top-up", SuccessURL: successURL, CancelURL: cancelURL,
		Metadata: map[string]string{"payment_id": p.ID, "purpose": "topup", "account_id": acct.ID}, ExpiresAt: expires})
	if err != nil {
		_, _ = s.moveIgnoringStale(ctx, p.ID, EvCheckoutClosed, nil, nil)
		return Checkout{}, fmt.Errorf("opening the payment page: %w", err)
	}
	p, err = s.edit(ctx, p.ID, func(p *store.SessionPayment, _ *store.SessionPaymentChange) error {
		p.CheckoutID, p.CheckoutURL, p.ProviderPaymentID = co.ID, co.URL, co.PaymentID
		return nil
	})
	if err != nil {
		return Checkout{}, err
	}
	return Checkout{Payment: p, AccessToken: access, URL: co.URL}, nil
}

// StartCardSetup opens a hosted page on which the driver saves the card
// the account pays with.
func (s *Service) StartCardSetup(ctx context.Context, accountID, successURL, cancelURL string) (payments.Checkout, error) {
	acct, err := s.store.GetDriverAccount(ctx, accountID)
	if err != nil {
		return payments.Checkout{}, err
	}
	if acct.Status != "active" {
		return payments.Checkout{}, ErrBadAccount
	}
	if successURL == "" {
		successURL = s.cfg.BaseURL + "/app/"
	}
	if cancelURL == "" {
		cancelURL = successURL
	}
	return s.provider.CreateCardSetup(ctx, payments.CardSetupRequest{
		IdempotencyKey: "setup:" + acct.ID + ":" + randomToken(8), CustomerRef: acct.CustomerRef, Email: acct.Email,
		SuccessURL: successURL, CancelURL: cancelURL, Metadata: map[string]string{"account_id": acct.ID},
	})
}

// applySetupEvent saves the card a setup page saved on its account.
func (s *Service) applySetupEvent(ctx context.Context, ev payments.Event) error {
	id := ev.Metadata["account_id"]
	if id == "" || ev.Type != payments.EventSetupCompleted {
		return nil
	}
	acct, err := s.store.GetDriverAccount(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	acct.Funding = store.FundingCard
	acct.CustomerRef = firstNonEmpty(ev.CustomerRef, acct.CustomerRef)
	acct.PaymentMethodRef = ev.PaymentMethod
	if ev.Card != nil {
		acct.CardBrand, acct.CardLast4 = strings.ToLower(ev.Card.Brand), ev.Card.Last4
	}
	_, err = s.store.SaveDriverAccount(ctx, acct)
	return err
}
