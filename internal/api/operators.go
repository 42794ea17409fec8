package api

import (
	"errors"
	"net/http"
	"regexp"
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
}

// CreateOperatorRequest is the body of POST /api/v1/operators.
type CreateOperatorRequest struct {
	Name     string `json:"name" minLength:"1" maxLength:"200"`
	Currency string `json:"currency" pattern:"^[A-Z]{3}$" doc:"ISO 4217 currency code (upper case), e.g. AUD, EUR." example:"AUD"`
	Country  string `json:"country" pattern:"^[A-Z]{2}$" doc:"ISO 3166-1 alpha-2 country code (upper case), e.g. AU." example:"AU"`
}

func operatorOut(o model.Operator) Operator {
	return Operator{ID: o.ID, Name: o.Name, Currency: o.Currency, Country: o.Country, CreatedAt: utc(o.CreatedAt)}
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
