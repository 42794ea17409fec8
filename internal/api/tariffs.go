package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/chargestar/chargestar/internal/billing"
	"github.com/chargestar/chargestar/internal/model"
	"github.com/chargestar/chargestar/internal/sessionbilling"
	"github.com/chargestar/chargestar/internal/store"
)

// Tariff is an operator's price list: an OCPI tariff object with a name.
type Tariff struct {
	ID          string            `json:"id" example:"trf_abcdefghijklmnopqrstuvwx"`
	OperatorID  string            `json:"operator_id"`
	Name        string            `json:"name"`
	Tariff      json.RawMessage   `json:"tariff" doc:"The OCPI 2.2.1 Tariff object as stored (canonical form), with Charge Star's extensions under \"chargestar\" (tax, parking_grace_seconds, hold_amount, charge_zero_energy)."`
	Description TariffDescription `json:"description"`
	CreatedAt   time.Time         `json:"created_at"`
	UpdatedAt   time.Time         `json:"updated_at"`
}

// TariffDescription is a tariff in plain words, as drivers see it.
type TariffDescription struct {
	Summary string   `json:"summary" doc:"The parts joined with \" · \"." example:"$0.55 per kWh · $1.00 session fee · prices include GST"`
	Parts   []string `json:"parts" doc:"Phrases in the order energy, charging time, fees, idle, reservation, bounds, tax; every price tax-inclusive."`
	Example string   `json:"example" doc:"A worked example priced by the billing engine." example:"a 40 kWh, 1 h session costs $23.00"`
}

// CreateTariffRequest is the body of POST /api/v1/tariffs.
type CreateTariffRequest struct {
	OperatorID string          `json:"operator_id,omitempty" doc:"The owning operator. An operator token may omit it (its own); an administrator token must give it."`
	Name       string          `json:"name" minLength:"1" maxLength:"200"`
	Tariff     json.RawMessage `json:"tariff" doc:"An OCPI 2.2.1 (or 2.3) Tariff object, optionally with Charge Star's extensions under \"chargestar\". Its currency must be the operator's."`
}

// UpdateTariffRequest is the body of PUT /api/v1/tariffs/{tariffId}.
type UpdateTariffRequest struct {
	Name   string          `json:"name" minLength:"1" maxLength:"200"`
	Tariff json.RawMessage `json:"tariff" doc:"The new OCPI Tariff object (replaces the old one). Sessions already started keep the tariff they started with."`
}

// TariffAssignment says which tariff applies to an operator's stations,
// a site's or one station's.
type TariffAssignment struct {
	OperatorID string    `json:"operator_id"`
	Scope      string    `json:"scope" enum:"operator,site,station" doc:"The most specific assignment applies: station, then site, then operator."`
	ScopeID    string    `json:"scope_id" doc:"The operator, site or station id."`
	TariffID   string    `json:"tariff_id"`
	CreatedAt  time.Time `json:"created_at"`
}

// AssignTariffRequest is the body of PUT /api/v1/tariff-assignments.
type AssignTariffRequest struct {
	OperatorID string `json:"operator_id,omitempty" doc:"The operator. An operator token may omit it (its own); an administrator token may omit it too (the tariff's operator)."`
	Scope      string `json:"scope" enum:"operator,site,station"`
	ScopeID    string `json:"scope_id,omitempty" doc:"The site or station id; for scope operator omit it (or give the operator id)."`
	TariffID   string `json:"tariff_id"`
}

// StationTariff is the tariff in force at a station and what a session
// there would hold.
type StationTariff struct {
	StationID   string            `json:"station_id"`
	ConnectorID int               `json:"connector_id" doc:"The connector (2.x: EVSE) the quote is for."`
	TariffID    string            `json:"tariff_id"`
	Scope       string            `json:"scope" enum:"operator,site,station" doc:"Where the tariff is assigned: to the station itself, its site, or its operator."`
	Currency    string            `json:"currency" example:"AUD"`
	HoldAmount  int64             `json:"hold_amount" doc:"The pre-authorisation for the budget (or the tariff's hold amount without one), minor units, tax included."`
	StopAtCost  *int64            `json:"stop_at_cost" doc:"The session is stopped when its running cost reaches this, minor units; null when the tariff's max_price already keeps every session within the hold."`
	Description TariffDescription `json:"description" doc:"In the site's time zone."`
	Tariff      json.RawMessage   `json:"tariff" doc:"The OCPI Tariff object."`
}

var (
	tariffScopes = []string{store.ScopeOperator, store.ScopeSite, store.ScopeStation}
	quoteParams  = []param{
		{name: "connector_id", desc: "The connector (2.x: EVSE) to quote for (default 1).",
			schema: map[string]any{"type": "integer", "minimum": 1, "maximum": maxConnectorID, "default": 1}},
		{name: "budget_amount", desc: "Spend at most this much, minor units, tax included. At most one budget may be given; without one the tariff's hold amount applies.",
			schema: map[string]any{"type": "integer", "minimum": 1, "maximum": maxBudgetAmount}},
		{name: "budget_wh", desc: "Charge at most this much energy, Wh.", schema: map[string]any{"type": "integer", "minimum": 1, "maximum": maxBudgetWh}},
		{name: "budget_minutes", desc: "Charge for at most this many minutes.", schema: map[string]any{"type": "integer", "minimum": 1, "maximum": maxBudgetMinutes}},
	}
	assignmentQuery = []param{
		{name: "scope", desc: "The scope whose assignment is removed.", required: true, schema: map[string]any{"type": "string", "enum": tariffScopes}},
		{name: "scope_id", desc: "The site or station id; for scope operator omit it (or give the operator id).", schema: map[string]any{"type": "string"}},
		{name: "operator_id", desc: "The operator. An operator token may omit it (its own); an administrator token must give it unless scope is operator and scope_id names it.", schema: map[string]any{"type": "string"}},
	}
)

// describe is the API's form of a tariff description.
func describe(d billing.Description) TariffDescription {
	parts := d.Parts
	if parts == nil {
		parts = []string{}
	}
	return TariffDescription{Summary: d.Summary, Parts: parts, Example: d.Example}
}

func tariffOut(t store.Tariff) (Tariff, error) {
	parsed, err := billing.ParseTariff(t.Body)
	if err != nil {
		return Tariff{}, err
	}
	d, err := billing.Describe(parsed, billing.DescribeOptions{})
	if err != nil {
		return Tariff{}, err
	}
	return Tariff{ID: t.ID, OperatorID: t.OperatorID, Name: t.Name, Tariff: json.RawMessage(t.Body), Description: describe(d),
		CreatedAt: utc(t.CreatedAt), UpdatedAt: utc(t.UpdatedAt)}, nil
}

func assignmentOut(a store.TariffAssignment) TariffAssignment {
	return TariffAssignment{OperatorID: a.OperatorID, Scope: a.Scope, ScopeID: a.ScopeID, TariffID: a.TariffID, CreatedAt: utc(a.CreatedAt)}
}

// checkTariff parses and validates a tariff object for operator o and
// returns its canonical JSON.
func checkTariff(raw json.RawMessage, o model.Operator) ([]byte, error) {
	trimmed := strings.TrimSpace(string(raw))
	if trimmed == "" || trimmed == "null" {
		return nil, invalid("tariff", "is required")
	}
	if trimmed[0] != '{' {
		return nil, errorf(http.StatusBadRequest, codeInvalidTariff, "tariff: must be an OCPI Tariff object")
	}
	t, err := billing.ParseTariff(raw)
	if err != nil {
		return nil, errorf(http.StatusBadRequest, codeInvalidTariff, "tariff: %s", strings.TrimPrefix(err.Error(), "billing: "))
	}
	if t.Currency != o.Currency {
		return nil, errorf(http.StatusBadRequest, codeInvalidTariff,
			"tariff: currency %q is not the operator's currency %s", t.Currency, o.Currency)
	}
	if _, err := billing.Describe(t, billing.DescribeOptions{}); err != nil {
		return nil, errorf(http.StatusBadRequest, codeInvalidTariff, "tariff: %s", strings.TrimPrefix(err.Error(), "billing: "))
	}
	return json.Marshal(t)
}

func (h *handler) getOperatorByID(ctx context.Context, id string) (model.Operator, error) {
	o, err := h.store.GetOperator(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return o, notFound("operator", id)
	}
	return o, err
}

func (h *handler) writeTariff(w http.ResponseWriter, status int, t store.Tariff) error {
	out, err := tariffOut(t)
	if err != nil {
		return err
	}
	writeJSON(w, status, out)
	return nil
}

func (h *handler) createTariff(w http.ResponseWriter, r *http.Request, p principal) error {
	var req CreateTariffRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		return err
	}
	opID, err := p.ownerFor(req.OperatorID)
	if err != nil {
		return err
	}
	name, err := checkText("name", req.Name, 1, 200)
	if err != nil {
		return err
	}
	o, err := h.getOperatorByID(r.Context(), opID)
	if err != nil {
		return err
	}
	body, err := checkTariff(req.Tariff, o)
	if err != nil {
		return err
	}
	t, err := h.store.SaveTariff(r.Context(), store.Tariff{OperatorID: opID, Name: name, Body: body})
	if err != nil {
		return err
	}
	w.Header().Set("Location", Prefix+"tariffs/"+t.ID)
	return h.writeTariff(w, http.StatusCreated, t)
}

func (h *handler) listTariffs(w http.ResponseWriter, r *http.Request, p principal) error {
	pg, err := parsePage(r)
	if err != nil {
		return err
	}
	opID, err := h.filterOperator(r, p)
	if err != nil {
		return err
	}
	ts, err := h.store.ListTariffs(r.Context(), opID)
	if err != nil {
		return err
	}
	ts, next := paginate(ts, func(t store.Tariff) string { return t.ID }, pg)
	out := make([]Tariff, len(ts))
	for i, t := range ts {
		if out[i], err = tariffOut(t); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, newList(out, next))
	return nil
}

// tariffFor returns the path's {tariffId} tariff when p may see it.
func (h *handler) tariffFor(r *http.Request, p principal) (store.Tariff, error) {
	id := r.PathValue("tariffId")
	t, err := h.store.GetTariff(r.Context(), p.scope(), id)
	if errors.Is(err, store.ErrNotFound) {
		return t, notFound("tariff", id)
	}
	return t, err
}

func (h *handler) getTariff(w http.ResponseWriter, r *http.Request, p principal) error {
	t, err := h.tariffFor(r, p)
	if err != nil {
		return err
	}
	return h.writeTariff(w, http.StatusOK, t)
}

func (h *handler) updateTariff(w http.ResponseWriter, r *http.Request, p principal) error {
	t, err := h.tariffFor(r, p)
	if err != nil {
		return err
	}
	var req UpdateTariffRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		return err
	}
	name, err := checkText("name", req.Name, 1, 200)
	if err != nil {
		return err
	}
	o, err := h.getOperatorByID(r.Context(), t.OperatorID)
	if err != nil {
		return err
	}
	body, err := checkTariff(req.Tariff, o)
	if err != nil {
		return err
	}
	t, err = h.store.SaveTariff(r.Context(), store.Tariff{ID: t.ID, OperatorID: t.OperatorID, Name: name, Body: body})
	if errors.Is(err, store.ErrNotFound) {
		return notFound("tariff", r.PathValue("tariffId"))
	}
	if err != nil {
		return err
	}
	return h.writeTariff(w, http.StatusOK, t)
}

func (h *handler) deleteTariff(w http.ResponseWriter, r *http.Request, p principal) error {
	t, err := h.tariffFor(r, p)
	if err != nil {
		return err
	}
	err = h.store.DeleteTariff(r.Context(), t.OperatorID, t.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return notFound("tariff", t.ID)
	case errors.Is(err, store.ErrConflict):
		return errorf(http.StatusConflict, codeTariffAssigned,
			"tariff %q is assigned; remove its assignments (DELETE %stariff-assignments) first", t.ID, Prefix)
	case err != nil:
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// Assignments.

func checkScope(field, scope string) error {
	for _, s := range tariffScopes {
		if scope == s {
			return nil
		}
	}
	if scope == "" {
		return invalid(field, "is required")
	}
	return invalid(field, "must be operator, site or station")
}

// scopeTarget checks that the scope's site or station is the operator's
// and returns the scope id to store.
func (h *handler) scopeTarget(r *http.Request, opID, scope, scopeID string, badField func(string, string, ...any) *apiError) (string, error) {
	ctx := r.Context()
	switch scope {
	case store.ScopeOperator:
		if scopeID != "" && scopeID != opID {
			return "", badField("scope_id", "for scope operator must be omitted or be the operator id %q", opID)
		}
		return opID, nil
	case store.ScopeSite:
		if scopeID == "" {
			return "", badField("scope_id", "is required for scope site")
		}
		if _, err := h.store.GetSite(ctx, opID, scopeID); errors.Is(err, store.ErrNotFound) {
			return "", notFound("site", scopeID)
		} else if err != nil {
			return "", err
		}
	case store.ScopeStation:
		if scopeID == "" {
			return "", badField("scope_id", "is required for scope station")
		}
		st, err := h.store.GetStation(ctx, scopeID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && st.OperatorID != opID) {
			return "", notFound("station", scopeID)
		}
		if err != nil {
			return "", err
		}
	}
	return scopeID, nil
}

func (h *handler) assignTariff(w http.ResponseWriter, r *http.Request, p principal) error {
	var req AssignTariffRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		return err
	}
	if err := checkScope("scope", req.Scope); err != nil {
		return err
	}
	if req.TariffID == "" {
		return invalid("tariff_id", "is required")
	}
	ctx := r.Context()
	var opID string
	if p.admin && req.OperatorID == "" {
		// The tariff says whose it is.
		t, err := h.store.GetTariff(ctx, "", req.TariffID)
		if errors.Is(err, store.ErrNotFound) {
			return notFound("tariff", req.TariffID)
		}
		if err != nil {
			return err
		}
		opID = t.OperatorID
	} else {
		var err error
		if opID, err = p.ownerFor(req.OperatorID); err != nil {
			return err
		}
		if err := h.requireOperator(r, opID); err != nil {
			return err
		}
		if _, err := h.store.GetTariff(ctx, opID, req.TariffID); errors.Is(err, store.ErrNotFound) {
			return notFound("tariff", req.TariffID)
		} else if err != nil {
			return err
		}
	}
	scopeID, err := h.scopeTarget(r, opID, req.Scope, req.ScopeID, invalid)
	if err != nil {
		return err
	}
	a, err := h.store.AssignTariff(ctx, store.TariffAssignment{OperatorID: opID, Scope: req.Scope, ScopeID: scopeID, TariffID: req.TariffID})
	if errors.Is(err, store.ErrNotFound) {
		// Deleted meanwhile.
		return notFound("tariff", req.TariffID)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, assignmentOut(a))
	return nil
}

func assignmentKey(a store.TariffAssignment) string {
	return a.OperatorID + "\x00" + a.Scope + "\x00" + a.ScopeID
}

func (h *handler) listAssignments(w http.ResponseWriter, r *http.Request, p principal) error {
	pg, err := parsePage(r)
	if err != nil {
		return err
	}
	opID, err := h.filterOperator(r, p)
	if err != nil {
		return err
	}
	as, err := h.store.ListTariffAssignments(r.Context(), opID)
	if err != nil {
		return err
	}
	as, next := paginate(as, assignmentKey, pg)
	out := make([]TariffAssignment, len(as))
	for i, a := range as {
		out[i] = assignmentOut(a)
	}
	writeJSON(w, http.StatusOK, newList(out, next))
	return nil
}

func (h *handler) unassignTariff(w http.ResponseWriter, r *http.Request, p principal) error {
	q := r.URL.Query()
	scope, scopeID, opID := q.Get("scope"), q.Get("scope_id"), q.Get("operator_id")
	if err := checkScope("scope", scope); err != nil {
		return badParam("scope", "must be operator, site or station")
	}
	switch {
	case !p.admin && opID != "" && opID != p.operatorID:
		return notFound("operator", opID)
	case !p.admin:
		opID = p.operatorID
	case opID == "" && scope == store.ScopeOperator && scopeID != "":
		opID = scopeID
	case opID == "":
		return badParam("operator_id", "is required with an administrator token")
	}
	if err := h.requireOperator(r, opID); err != nil {
		return err
	}
	scopeID, err := h.scopeTarget(r, opID, scope, scopeID, badParam)
	if err != nil {
		return err
	}
	err = h.store.UnassignTariff(r.Context(), opID, scope, scopeID)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("tariff assignment", scope+" "+scopeID)
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// The effective tariff of a station.

// queryInt reads an optional integer query parameter within [min, max]
// (0: absent).
func queryInt(r *http.Request, name string, min, max int64) (int64, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < min || n > max {
		return 0, badParam(name, "must be an integer from %d to %d", min, max)
	}
	return n, nil
}

// Bounds of the quote's parameters.
const (
	maxConnectorID   = 1 << 16
	maxBudgetAmount  = 100_000_00 // minor units
	maxBudgetWh      = 1_000_000  // 1 MWh
	maxBudgetMinutes = 7 * 24 * 60
)

func (h *handler) stationTariff(w http.ResponseWriter, r *http.Request, p principal) error {
	st, err := h.stationFor(r, p)
	if err != nil {
		return err
	}
	bs, err := h.billingService()
	if err != nil {
		return err
	}
	connector, err := queryInt(r, "connector_id", 1, maxConnectorID)
	if err != nil {
		return err
	}
	if connector == 0 {
		connector = 1
	}
	var budget billing.Budget
	if budget.Amount, err = queryInt(r, "budget_amount", 1, maxBudgetAmount); err != nil {
		return err
	}
	if budget.EnergyWh, err = queryInt(r, "budget_wh", 1, maxBudgetWh); err != nil {
		return err
	}
	minutes, err := queryInt(r, "budget_minutes", 1, maxBudgetMinutes)
	if err != nil {
		return err
	}
	budget.Duration = time.Duration(minutes) * time.Minute
	set := 0
	for _, v := range []bool{budget.Amount != 0, budget.EnergyWh != 0, budget.Duration != 0} {
		if v {
			set++
		}
	}
	if set > 1 {
		return badParam("budget_amount", "give at most one of budget_amount, budget_wh and budget_minutes")
	}
	ctx := r.Context()
	eff, scope, err := h.store.EffectiveTariff(ctx, st.ID)
	if errors.Is(err, store.ErrNotFound) {
		return errNoTariff(st.ID)
	}
	if err != nil {
		return err
	}
	q, err := bs.Quote(ctx, st.ID, int(connector), budget)
	switch {
	case errors.Is(err, sessionbilling.ErrNoTariff):
		return errNoTariff(st.ID)
	case errors.Is(err, store.ErrNotFound):
		return notFound("station", st.ID)
	case errors.Is(err, sessionbilling.ErrBadBudget):
		msg := cleanErr(err)
		if set == 0 {
			msg += "; give budget_amount, budget_wh or budget_minutes"
		}
		return errorf(http.StatusBadRequest, codeInvalidBudget, "%s", msg)
	case err != nil:
		return err
	}
	if q.TariffID != eff.ID {
		// Reassigned between the two reads: the scope of the quoted one.
		if again, s, err := h.store.EffectiveTariff(ctx, st.ID); err == nil && again.ID == q.TariffID {
			scope = s
		}
	}
	out := StationTariff{StationID: st.ID, ConnectorID: int(connector), TariffID: q.TariffID, Scope: scope,
		Currency: q.Hold.Currency, HoldAmount: q.Hold.Amount, Description: describe(q.Description), Tariff: json.RawMessage(q.TariffJSON)}
	if q.Hold.StopOnCost {
		v := q.Hold.StopAtCost
		out.StopAtCost = &v
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func errNoTariff(stationID string) error {
	return errorf(http.StatusNotFound, codeNoTariff, "no tariff applies to station %q: assign one to the station, its site or its operator (PUT %stariff-assignments)", stationID, Prefix)
}

// cleanErr is an error's text without the package prefixes of the
// billing layers, for a client.
func cleanErr(err error) string {
	s := err.Error()
	for _, prefix := range []string{"sessionbilling: ", "billing: "} {
		s = strings.ReplaceAll(s, prefix, "")
	}
	return s
}
