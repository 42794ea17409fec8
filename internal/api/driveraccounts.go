package api

import (
	"context"
	"errors"
	"net/http"
	"net/mail"
	"net/url"
	"strings"
	"time"

	"github.com/chargestar/chargestar/internal/model"
	"github.com/chargestar/chargestar/internal/store"
)

// NextCharge driver accounts are the platform's, not an operator's: only
// the platform administrator sees them. To an operator token they do not
// exist (404), like any resource it may not see.

// DriverAccount is a NextCharge account: RFID cards paying from a prepaid
// wallet or a saved card.
type DriverAccount struct {
	ID        string    `json:"id" example:"acc_abcdefghijklmnopqrstuvwx"`
	Email     string    `json:"email" example:"driver@example.com"`
	Currency  string    `json:"currency" example:"AUD"`
	Funding   string    `json:"funding" enum:"wallet,card" doc:"wallet: sessions are paid from the prepaid wallet (top-ups); card: from the card saved at the provider (card-setup), held at each tap."`
	Status    string    `json:"status" enum:"active,closed"`
	CardBrand *string   `json:"card_brand" doc:"The saved card's brand; null when none is saved." example:"visa"`
	CardLast4 *string   `json:"card_last4" doc:"The saved card's last four digits; null when none is saved." example:"4242"`
	Wallet    *Wallet   `json:"wallet" doc:"The wallet's balance; null when the server runs without session billing."`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Wallet is a driver account's prepaid balance, minor units of the
// account's currency.
type Wallet struct {
	Balance   int64 `json:"balance" doc:"Money in the wallet (posted)."`
	Available int64 `json:"available" doc:"What a new session may hold: balance less pending."`
	Pending   int64 `json:"pending" doc:"The part of balance held by sessions in progress."`
}

// CreateDriverAccountRequest is the body of POST /api/v1/driver-accounts.
type CreateDriverAccountRequest struct {
	Email    string `json:"email" maxLength:"254" doc:"Where receipts go."`
	Currency string `json:"currency" pattern:"^[A-Z]{3}$" doc:"ISO 4217 currency of the wallet and of the operators the account may charge with." example:"AUD"`
	Funding  string `json:"funding,omitempty" enum:"wallet,card" doc:"Default wallet. A card account needs a card saved through card-setup before it can charge."`
}

// DriverCard is an RFID card of a driver account.
type DriverCard struct {
	IDToken   string    `json:"id_token" example:"04A2B3C4D5E6F7"`
	AccountID string    `json:"account_id"`
	Status    string    `json:"status" enum:"Accepted,Blocked"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// CreateDriverCardRequest is the body of POST /api/v1/driver-accounts/{accountId}/cards.
type CreateDriverCardRequest struct {
	IDToken string `json:"id_token" minLength:"1" maxLength:"36" pattern:"^[!-~]{1,36}$" doc:"The card's token as stations send it (matched case-insensitively)."`
	Status  string `json:"status,omitempty" enum:"Accepted,Blocked" doc:"Default Accepted. Posting a card the account already has changes its status."`
}

// TopUpRequest is the body of POST /api/v1/driver-accounts/{accountId}/top-ups.
type TopUpRequest struct {
	Amount     int64  `json:"amount" minimum:"1" maximum:"10000000" doc:"Minor units of the account's currency."`
	SuccessURL string `json:"success_url,omitempty" format:"uri" doc:"Where the hosted payment page returns after paying; default the driver app."`
	CancelURL  string `json:"cancel_url,omitempty" format:"uri" doc:"Where it returns when the driver gives up; default success_url."`
}

// TopUp is an opened top-up.
type TopUp struct {
	PaymentID   string `json:"payment_id" doc:"The top-up's payment (GET /api/v1/payments/{paymentId})."`
	CheckoutURL string `json:"checkout_url" doc:"The hosted payment page to send the driver to."`
}

// CardSetupRequest is the (optional) body of POST /api/v1/driver-accounts/{accountId}/card-setup.
type CardSetupRequest struct {
	SuccessURL string `json:"success_url,omitempty" format:"uri" doc:"Where the hosted page returns after saving the card; default the driver app."`
	CancelURL  string `json:"cancel_url,omitempty" format:"uri" doc:"Where it returns when the driver gives up; default success_url."`
}

// CardSetup is an opened card-setup page.
type CardSetup struct {
	CheckoutURL string `json:"checkout_url" doc:"The hosted page on which the driver saves the card the account pays with."`
}

const maxTopUp = 100_000_00

// driverAccountsHidden is the answer to an operator token on the
// collection routes.
func driverAccountsHidden() error {
	return errorf(http.StatusNotFound, codeNotFound, "driver accounts not found: NextCharge accounts are the platform's; only a platform administrator token sees them")
}

func (h *handler) driverAccountOut(ctx context.Context, a store.DriverAccount) (DriverAccount, error) {
	out := DriverAccount{ID: a.ID, Email: a.Email, Currency: a.Currency, Funding: a.Funding, Status: a.Status,
		CardBrand: strPtr(a.CardBrand), CardLast4: strPtr(a.CardLast4), CreatedAt: utc(a.CreatedAt), UpdatedAt: utc(a.UpdatedAt)}
	if h.billing != nil {
		b, err := h.billing.WalletBalance(ctx, a)
		if err != nil {
			return DriverAccount{}, err
		}
		out.Wallet = &Wallet{Balance: b.Posted(), Available: b.Available(), Pending: b.Posted() - b.Available()}
	}
	return out, nil
}

// accountFor returns the path's {accountId} account to the administrator.
func (h *handler) accountFor(r *http.Request, p principal) (store.DriverAccount, error) {
	id := r.PathValue("accountId")
	if !p.admin {
		return store.DriverAccount{}, notFound("driver account", id)
	}
	a, err := h.store.GetDriverAccount(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return a, notFound("driver account", id)
	}
	return a, err
}

func checkEmail(field, v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", invalid(field, "is required")
	}
	if len(v) > 254 {
		return "", invalid(field, "must have at most 254 characters")
	}
	a, err := mail.ParseAddress(v)
	if err != nil || a.Address != v || a.Name != "" {
		return "", invalid(field, "%q is not an email address", v)
	}
	return v, nil
}

// checkReturnURL accepts an absolute http(s) URL, or "".
func checkReturnURL(field, v string) error {
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(v) > 2000 {
		return invalid(field, "must be an absolute http or https URL")
	}
	return nil
}

func (h *handler) createDriverAccount(w http.ResponseWriter, r *http.Request, p principal) error {
	if !p.admin {
		return driverAccountsHidden()
	}
	var req CreateDriverAccountRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		return err
	}
	email, err := checkEmail("email", req.Email)
	if err != nil {
		return err
	}
	if err := checkCurrency("currency", req.Currency); err != nil {
		return err
	}
	switch req.Funding {
	case "":
		req.Funding = store.FundingWallet
	case store.FundingWallet, store.FundingCard:
	default:
		return invalid("funding", "must be wallet or card")
	}
	a, err := h.store.SaveDriverAccount(r.Context(), store.DriverAccount{Email: email, Currency: req.Currency, Funding: req.Funding, Status: "active"})
	if err != nil {
		return err
	}
	out, err := h.driverAccountOut(r.Context(), a)
	if err != nil {
		return err
	}
	w.Header().Set("Location", Prefix+"driver-accounts/"+a.ID)
	writeJSON(w, http.StatusCreated, out)
	return nil
}

func (h *handler) listDriverAccounts(w http.ResponseWriter, r *http.Request, p principal) error {
	if !p.admin {
		return driverAccountsHidden()
	}
	pg, err := parsePage(r)
	if err != nil {
		return err
	}
	as, err := h.store.ListDriverAccounts(r.Context())
	if err != nil {
		return err
	}
	as, next := paginate(as, func(a store.DriverAccount) string { return a.ID }, pg)
	out := make([]DriverAccount, len(as))
	for i, a := range as {
		if out[i], err = h.driverAccountOut(r.Context(), a); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, newList(out, next))
	return nil
}

func (h *handler) getDriverAccount(w http.ResponseWriter, r *http.Request, p principal) error {
	a, err := h.accountFor(r, p)
	if err != nil {
		return err
	}
	out, err := h.driverAccountOut(r.Context(), a)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func driverCardOut(c store.DriverCard) DriverCard {
	return DriverCard{IDToken: c.IDToken, AccountID: c.AccountID, Status: c.Status, CreatedAt: utc(c.CreatedAt), UpdatedAt: utc(c.UpdatedAt)}
}

func (h *handler) createDriverCard(w http.ResponseWriter, r *http.Request, p principal) error {
	a, err := h.accountFor(r, p)
	if err != nil {
		return err
	}
	var req CreateDriverCardRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		return err
	}
	if err := checkIDTokenValue("id_token", req.IDToken, true); err != nil {
		return err
	}
	if req.Status == "" {
		req.Status = model.TokenAccepted
	}
	if err := checkTokenStatus("status", req.Status); err != nil {
		return err
	}
	c, err := h.store.SaveDriverCard(r.Context(), store.DriverCard{IDToken: req.IDToken, AccountID: a.ID, Status: req.Status})
	switch {
	case errors.Is(err, store.ErrConflict):
		return errorf(http.StatusConflict, codeIDTokenExists, "id token %q belongs to another driver account (id tokens match case-insensitively)", req.IDToken)
	case errors.Is(err, store.ErrNotFound):
		return notFound("driver account", a.ID)
	case err != nil:
		return err
	}
	writeJSON(w, http.StatusCreated, driverCardOut(c))
	return nil
}

func (h *handler) listDriverCards(w http.ResponseWriter, r *http.Request, p principal) error {
	a, err := h.accountFor(r, p)
	if err != nil {
		return err
	}
	pg, err := parsePage(r)
	if err != nil {
		return err
	}
	cs, err := h.store.ListDriverCards(r.Context(), a.ID)
	if err != nil {
		return err
	}
	cs, next := paginate(cs, func(c store.DriverCard) string { return strings.ToLower(c.IDToken) }, pg)
	out := make([]DriverCard, len(cs))
	for i, c := range cs {
		out[i] = driverCardOut(c)
	}
	writeJSON(w, http.StatusOK, newList(out, next))
	return nil
}

func (h *handler) createTopUp(w http.ResponseWriter, r *http.Request, p principal) error {
	a, err := h.accountFor(r, p)
	if err != nil {
		return err
	}
	bs, err := h.billingService()
	if err != nil {
		return err
	}
	var req TopUpRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		return err
	}
	if req.Amount < 1 || req.Amount > maxTopUp {
		return invalid("amount", "must be from 1 to %d (minor units)", maxTopUp)
	}
	if err := checkReturnURL("success_url", req.SuccessURL); err != nil {
		return err
	}
	if err := checkReturnURL("cancel_url", req.CancelURL); err != nil {
		return err
	}
	if a.Status != "active" || a.Funding != store.FundingWallet {
		return errorf(http.StatusConflict, codeAccountIneligible, "driver account %q is not an active wallet account: only those are topped up", a.ID)
	}
	cancel := req.CancelURL
	if cancel == "" {
		cancel = req.SuccessURL
	}
	co, err := bs.StartTopUp(r.Context(), a.ID, req.Amount, req.SuccessURL, cancel)
	if err != nil {
		return billingError(err, "driver account", a.ID)
	}
	w.Header().Set("Location", Prefix+"payments/"+co.Payment.ID)
	writeJSON(w, http.StatusCreated, TopUp{PaymentID: co.Payment.ID, CheckoutURL: co.URL})
	return nil
}

func (h *handler) createCardSetup(w http.ResponseWriter, r *http.Request, p principal) error {
	a, err := h.accountFor(r, p)
	if err != nil {
		return err
	}
	bs, err := h.billingService()
	if err != nil {
		return err
	}
	var req CardSetupRequest
	if err := decodeJSON(w, r, &req, true); err != nil {
		return err
	}
	if err := checkReturnURL("success_url", req.SuccessURL); err != nil {
		return err
	}
	if err := checkReturnURL("cancel_url", req.CancelURL); err != nil {
		return err
	}
	if a.Status != "active" {
		return errorf(http.StatusConflict, codeAccountIneligible, "driver account %q is closed", a.ID)
	}
	co, err := bs.StartCardSetup(r.Context(), a.ID, req.SuccessURL, req.CancelURL)
	if err != nil {
		return billingError(err, "driver account", a.ID)
	}
	writeJSON(w, http.StatusCreated, CardSetup{CheckoutURL: co.URL})
	return nil
}
