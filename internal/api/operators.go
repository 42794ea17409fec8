package api

import (
	"errors"
	"net/http"
	"regexp"
	"strings"
	"time"

	"golang.org/x/text/currency"
	"golang.org/x/text/language"

	"github.com/chargestar/chargestar/internal/model"
	"github.com/chargestar/chargestar/internal/store"
)

// Operator is a tenant.
type Operator struct {
	ID        string    `json:"id" example:"op_abcdefghijklmnopqrstuvwx"`
	Name      string    `json:"name"`
	Currency  string    `json:"currency" pattern:"^[A-Z]{3}$" doc:"ISO 4217 code of the operator's prices." example:"AUD"`
	Country   string    `json:"country" pattern:"^[A-Z]{2}$" doc:"ISO 3166-1 alpha-2 country code." example:"AU"`
	CreatedAt time.Time `json:"created_at"`

	// The seller on receipts, and who collects drivers' payments.
	LegalName       string `json:"legal_name" doc:"Legal entity name printed on receipts; \"\" when unset."`
	TaxID           string `json:"tax_id" doc:"Tax registration number printed on receipts (for AU operators the ABN, as \"51 824 753 556\"); \"\" when unset."`
	Address         string `json:"address" doc:"The seller's address printed on receipts; \"\" when unset."`
	SettlementMode  string `json:"settlement_mode" enum:"platform,direct" doc:"platform: the platform collects drivers' payments and pays the operator out; direct: the operator's own merchant account collects them."`
	MerchantAccount string `json:"merchant_account" doc:"The operator's merchant account at the payment provider (direct settlement); \"\" when unset."`

	// Alert settings (internal/alerts).
	AlertWebhookURL          string `json:"alert_webhook_url" doc:"Where alert.opened and alert.resolved webhooks are POSTed; \"\" when off."`
	AlertWebhookSecret       string `json:"alert_webhook_secret,omitempty" doc:"The secret signing the webhooks (X-Chargestar-Signature: t=<unix>,v1=<hex HMAC-SHA256 of \"<t>.<body>\">). Only in the answer of the PATCH that turned the webhook on and of POST …/alert-webhook-secret; never in a GET."`
	AlertOfflineMinutes      int    `json:"alert_offline_minutes" doc:"A station not connected for longer than this opens an offline alert."`
	AlertPaymentStuckMinutes int    `json:"alert_payment_stuck_minutes" doc:"A session payment authorised without a start, or stopped and not settled, for longer than this opens a payment_stuck alert."`
}

// CreateOperatorRequest is the body of POST /api/v1/operators.
type CreateOperatorRequest struct {
	Name     string `json:"name" minLength:"1" maxLength:"200"`
	Currency string `json:"currency" pattern:"^[A-Z]{3}$" doc:"ISO 4217 currency code (upper case), e.g. AUD, EUR." example:"AUD"`
	Country  string `json:"country" pattern:"^[A-Z]{2}$" doc:"ISO 3166-1 alpha-2 country code (upper case), e.g. AU." example:"AU"`
}

// UpdateOperatorRequest is the body of PATCH /api/v1/operators/{operatorId}.
type UpdateOperatorRequest struct {
	Name            Optional[string] `json:"name,omitzero" nullable:"false" minLength:"1" maxLength:"200"`
	LegalName       Optional[string] `json:"legal_name,omitzero" maxLength:"200" doc:"null or \"\" clears it."`
	TaxID           Optional[string] `json:"tax_id,omitzero" maxLength:"50" doc:"For an AU operator an ABN: 11 digits (spaces allowed) with a valid ABN checksum (400 invalid_abn otherwise); stored as \"51 824 753 556\". null or \"\" clears it."`
	Address         Optional[string] `json:"address,omitzero" maxLength:"500" doc:"null or \"\" clears it."`
	SettlementMode  Optional[string] `json:"settlement_mode,omitzero" nullable:"false" enum:"platform,direct" doc:"direct requires a merchant_account (in this request or already set)."`
	MerchantAccount Optional[string] `json:"merchant_account,omitzero" maxLength:"200" doc:"The operator's merchant account at the payment provider, e.g. a Stripe connected account id (acct_…). null or \"\" clears it (not while settlement_mode is direct)."`

	AlertWebhookURL          Optional[string] `json:"alert_webhook_url,omitzero" maxLength:"2000" doc:"An absolute http(s) URL receiving alert webhooks; null or \"\" turns them off (and forgets the secret). Turning them on generates a signing secret, returned once in alert_webhook_secret."`
	AlertOfflineMinutes      Optional[int]    `json:"alert_offline_minutes,omitzero" nullable:"false" minimum:"1" maximum:"1440"`
	AlertPaymentStuckMinutes Optional[int]    `json:"alert_payment_stuck_minutes,omitzero" nullable:"false" minimum:"1" maximum:"1440"`
}

func operatorOut(o model.Operator) Operator {
	mode := o.SettlementMode
	if mode == "" {
		mode = model.SettlementPlatform
	}
	off, stuck := o.AlertOfflineMinutes, o.AlertPaymentStuckMinutes
	if off <= 0 {
		off = model.DefaultAlertOfflineMinutes
	}
	if stuck <= 0 {
		stuck = model.DefaultAlertPaymentStuckMinutes
	}
	// The webhook secret is never shown here: see updateOperator.
	return Operator{ID: o.ID, Name: o.Name, Currency: o.Currency, Country: o.Country, CreatedAt: utc(o.CreatedAt),
		LegalName: o.LegalName, TaxID: o.TaxID, Address: o.Address, SettlementMode: mode, MerchantAccount: o.MerchantAccount,
		AlertWebhookURL: o.AlertWebhookURL, AlertOfflineMinutes: off, AlertPaymentStuckMinutes: stuck}
}

var (
	currencyRE = regexp.MustCompile(`^[A-Z]{3}$`)
	countryRE  = regexp.MustCompile(`^[A-Z]{2}$`)
)

// checkCurrency accepts an ISO 4217 currency in upper case. XXX (no
// currency) and XTS (testing) cannot price a charge.
func checkCurrency(field, v string) error {
	if !currencyRE.MatchString(v) {
		return invalid(field, "must be an ISO 4217 code of three upper-case letters, e.g. EUR")
	}
	if _, err := currency.ParseISO(v); err != nil || v == "XXX" || v == "XTS" {
		return invalid(field, "%q is not an ISO 4217 currency", v)
	}
	return nil
}

// checkCountry accepts an ISO 3166-1 alpha-2 country code in upper case.
func checkCountry(field, v string) error {
	if !countryRE.MatchString(v) {
		return invalid(field, "must be an ISO 3166-1 alpha-2 code of two upper-case letters, e.g. AU")
	}
	r, err := language.ParseRegion(v)
	if err != nil || !r.IsCountry() || r.Canonicalize().String() != v {
		return invalid(field, "%q is not an ISO 3166-1 country code", v)
	}
	return nil
}

func (h *handler) createOperator(w http.ResponseWriter, r *http.Request, p principal) error {
	if !p.admin {
		return errAdminOnly("create operators")
	}
	var req CreateOperatorRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		return err
	}
	name, err := checkText("name", req.Name, 1, 200)
	if err != nil {
		return err
	}
	if err := checkCurrency("currency", req.Currency); err != nil {
		return err
	}
	if err := checkCountry("country", req.Country); err != nil {
		return err
	}
	o, err := h.store.CreateOperator(r.Context(), model.Operator{Name: name, Currency: req.Currency, Country: req.Country, CreatedAt: h.now()})
	if err != nil {
		return err
	}
	w.Header().Set("Location", Prefix+"operators/"+o.ID)
	writeJSON(w, http.StatusCreated, operatorOut(o))
	return nil
}

func (h *handler) listOperators(w http.ResponseWriter, r *http.Request, p principal) error {
	pg, err := parsePage(r)
	if err != nil {
		return err
	}
	var ops []model.Operator
	if p.admin {
		if ops, err = h.store.ListOperators(r.Context()); err != nil {
			return err
		}
	} else {
		o, err := h.store.GetOperator(r.Context(), p.operatorID)
		if err != nil {
			return err
		}
		ops = []model.Operator{o}
	}
	ops, next := paginate(ops, func(o model.Operator) string { return o.ID }, pg)
	out := make([]Operator, len(ops))
	for i, o := range ops {
		out[i] = operatorOut(o)
	}
	writeJSON(w, http.StatusOK, newList(out, next))
	return nil
}

// operatorFor returns the operator of the path's {operatorId} when p may see it.
func (h *handler) operatorFor(r *http.Request, p principal) (model.Operator, error) {
	id := r.PathValue("operatorId")
	if !p.canSee(id) {
		return model.Operator{}, notFound("operator", id)
	}
	o, err := h.store.GetOperator(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return model.Operator{}, notFound("operator", id)
	}
	return o, err
}

func (h *handler) getOperator(w http.ResponseWriter, r *http.Request, p principal) error {
	o, err := h.operatorFor(r, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, operatorOut(o))
	return nil
}

// normalizeABN checks an Australian Business Number: 11 digits once spaces
// are removed, whose checksum holds (subtract 1 from the first digit,
// weight the digits 10, 1, 3, 5, …, 19, and the sum is a multiple of 89).
// It returns the ABN in its usual grouping, "51 824 753 556".
func normalizeABN(s string) (string, bool) {
	digits := strings.Map(func(r rune) rune {
		if r == ' ' {
			return -1
		}
		return r
	}, s)
	if len(digits) != 11 {
		return "", false
	}
	weights := [11]int{10, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19}
	sum := 0
	for i := range 11 {
		c := digits[i]
		if c < '0' || c > '9' {
			return "", false
		}
		d := int(c - '0')
		if i == 0 {
			d--
		}
		sum += d * weights[i]
	}
	if sum%89 != 0 {
		return "", false
	}
	return digits[:2] + " " + digits[2:5] + " " + digits[5:8] + " " + digits[8:], true
}

// optionalText applies a PATCH text field: null and "" clear it.
func optionalText(field string, o Optional[string], cur *string, max int) error {
	if !o.Set {
		return nil
	}
	if o.Null {
		*cur = ""
		return nil
	}
	v, err := checkText(field, o.Value, 0, max)
	if err != nil {
		return err
	}
	*cur = v
	return nil
}

func (h *handler) updateOperator(w http.ResponseWriter, r *http.Request, p principal) error {
	o, err := h.operatorFor(r, p)
	if err != nil {
		return err
	}
	var req UpdateOperatorRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		return err
	}
	if req.Name.Set {
		if req.Name.Null {
			return invalid("name", "must not be null")
		}
		if o.Name, err = checkText("name", req.Name.Value, 1, 200); err != nil {
			return err
		}
	}
	if err := optionalText("legal_name", req.LegalName, &o.LegalName, 200); err != nil {
		return err
	}
	if err := optionalText("tax_id", req.TaxID, &o.TaxID, 50); err != nil {
		return err
	}
	if req.TaxID.Set && o.TaxID != "" && o.Country == "AU" {
		abn, ok := normalizeABN(o.TaxID)
		if !ok {
			return errorf(http.StatusBadRequest, codeInvalidABN,
				"tax_id: %q is not a valid Australian Business Number (11 digits with a valid ABN checksum)", o.TaxID)
		}
		o.TaxID = abn
	}
	if err := optionalText("address", req.Address, &o.Address, 500); err != nil {
		return err
	}
	if err := optionalText("merchant_account", req.MerchantAccount, &o.MerchantAccount, 200); err != nil {
		return err
	}
	if req.SettlementMode.Set {
		switch {
		case req.SettlementMode.Null:
			return invalid("settlement_mode", "must be platform or direct")
		case req.SettlementMode.Value == model.SettlementPlatform, req.SettlementMode.Value == model.SettlementDirect:
			o.SettlementMode = req.SettlementMode.Value
		default:
			return invalid("settlement_mode", "must be platform or direct")
		}
	}
	if o.SettlementMode == model.SettlementDirect && o.MerchantAccount == "" {
		return invalid("merchant_account", "is required with settlement_mode direct")
	}
	newSecret, err := applyAlertSettings(req, &o)
	if err != nil {
		return err
	}
	o, err = h.store.UpdateOperator(r.Context(), o)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("operator", r.PathValue("operatorId"))
	}
	if err != nil {
		return err
	}
	out := operatorOut(o)
	if newSecret {
		out.AlertWebhookSecret = o.AlertWebhookSecret
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
