package api

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/chargestar/chargestar/internal/access"
	"github.com/chargestar/chargestar/internal/alerts"
	"github.com/chargestar/chargestar/internal/model"
	"github.com/chargestar/chargestar/internal/store"
)

// Alerts (internal/alerts opens and resolves them) and the operator's
// alert webhook secret. An alert is read by every role and acknowledged
// by those who manage the network; acknowledging records who and when,
// and does not resolve it: only its condition ending does.

type alertStore interface {
	GetAlert(ctx context.Context, operatorID, id string) (store.Alert, error)
	ListAlerts(ctx context.Context, f store.AlertFilter) ([]store.Alert, error)
	AcknowledgeAlert(ctx context.Context, operatorID, id, by string, at time.Time) (store.Alert, error)
}

const tagAlerts = "alerts"

// AcknowledgeAlertRequest is the optional body of POST
// /api/v1/alerts/{alertId}/acknowledge: nothing to say yet but {}.
type AcknowledgeAlertRequest struct{}

// RotateAlertWebhookSecretRequest is the optional body of POST
// /api/v1/operators/{operatorId}/alert-webhook-secret: nothing but {}.
type RotateAlertWebhookSecretRequest struct{}

var alertKinds = func() []string {
	out := make([]string, len(alerts.Kinds))
	for i, k := range alerts.Kinds {
		out[i] = string(k)
	}
	return out
}()

var alertQuery = []param{operatorFilter,
	{name: "state", desc: "open (default), resolved or all.", schema: map[string]any{"type": "string", "enum": []string{"open", "resolved", "all"}}},
	{name: "kind", desc: "Only alerts of this kind.", schema: map[string]any{"type": "string", "enum": alertKinds}},
	{name: "station_id", desc: "Only alerts about this station.", schema: map[string]any{"type": "string"}},
	limitParam, cursorParam}

func (h *handler) alertRoutes() []route {
	read := []int{e400, e401, e404}
	return []route{
		{method: "GET", pattern: "/api/v1/alerts", handle: h.listAlerts,
			id: "listAlerts", tag: tagAlerts, need: access.View, summary: "List alerts, newest first",
			desc: "Alerts open while their condition lasts: offline (a station not connected for longer than the operator's alert_offline_minutes), " +
				"faulted (a connector whose status is Faulted) and payment_stuck (a session payment authorised without a start, or stopped and not " +
				"settled, for longer than alert_payment_stuck_minutes). They are checked every 30 seconds; each opening and resolution is also " +
				"POSTed to the operator's alert_webhook_url, signed.",
			query: alertQuery, ok: 200, resp: List[alerts.Alert]{}, errs: read},
		{method: "GET", pattern: "/api/v1/alerts/{alertId}", handle: h.getAlert,
			id: "getAlert", tag: tagAlerts, need: access.View, summary: "Get an alert", ok: 200, resp: alerts.Alert{}, errs: read},
		{method: "POST", pattern: "/api/v1/alerts/{alertId}/acknowledge", handle: h.acknowledgeAlert,
			id: "acknowledgeAlert", tag: tagAlerts, need: access.ManageNetwork, summary: "Acknowledge an alert",
			desc: "Records who (the console user's email, or \"api token\") and when. The first acknowledgement stands; acknowledging again " +
				"answers the alert unchanged. It stays open until its condition ends. The body may be omitted.",
			body: AcknowledgeAlertRequest{}, bodyOpt: true, ok: 200, resp: alerts.Alert{}, errs: []int{e400, e401, e404, e413}},
		{method: "POST", pattern: "/api/v1/operators/{operatorId}/alert-webhook-secret", handle: h.rotateAlertWebhookSecret,
			id: "rotateAlertWebhookSecret", tag: tagOperators, need: access.ManageOperator, summary: "Replace the secret signing alert webhooks",
			desc: "A new secret signs every webhook sent from now on, retries of earlier events included; the answer is the operator with the " +
				"new alert_webhook_secret, shown this once. 409 webhook_off while alert_webhook_url is unset. The body may be omitted.",
			body: RotateAlertWebhookSecretRequest{}, bodyOpt: true, ok: 200, resp: Operator{}, errs: []int{e400, e401, e404, e409, e413}},
	}
}

func (h *handler) listAlerts(w http.ResponseWriter, r *http.Request, p principal) error {
	pg, err := parsePage(r)
	if err != nil {
		return err
	}
	opID, err := h.filterOperator(r, p)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := store.AlertFilter{OperatorID: opID, Kind: q.Get("kind"), StationID: q.Get("station_id"), Before: pg.cursor, Limit: pg.limit + 1}
	switch st := q.Get("state"); st {
	case "", "open":
		f.State = "open"
	case "resolved":
		f.State = "resolved"
	case "all":
	default:
		return badParam("state", "must be open, resolved or all")
	}
	if f.Kind != "" && !slices.Contains(alertKinds, f.Kind) {
		return badParam("kind", "must be one of offline, faulted, payment_stuck")
	}
	if f.StationID != "" {
		st, err := h.store.GetStation(r.Context(), f.StationID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && !p.canSee(st.OperatorID)) {
			return notFound("station", f.StationID)
		}
		if err != nil {
			return err
		}
	}
	as, err := h.store.ListAlerts(r.Context(), f)
	if errors.Is(err, store.ErrNotFound) {
		return errBadCursor() // the cursor's alert is unknown, or another operator's
	}
	if err != nil {
		return err
	}
	as, next := trimPage(as, pg.limit, func(a store.Alert) string { return a.ID })
	out := make([]alerts.Alert, len(as))
	for i, a := range as {
		out[i] = alerts.View(a)
	}
	writeJSON(w, http.StatusOK, newList(out, next))
	return nil
}

func (h *handler) getAlert(w http.ResponseWriter, r *http.Request, p principal) error {
	id := r.PathValue("alertId")
	a, err := h.store.GetAlert(r.Context(), p.scope(), id)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("alert", id)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, alerts.View(a))
	return nil
}

func (h *handler) acknowledgeAlert(w http.ResponseWriter, r *http.Request, p principal) error {
	if err := decodeJSON(w, r, &AcknowledgeAlertRequest{}, true); err != nil {
		return err
	}
	id := r.PathValue("alertId")
	by := p.email
	if by == "" {
		by = "api token"
	}
	a, err := h.store.AcknowledgeAlert(r.Context(), p.scope(), id, by, h.now())
	if errors.Is(err, store.ErrNotFound) {
		return notFound("alert", id)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, alerts.View(a))
	return nil
}

const codeWebhookOff = "webhook_off" // 409: no alert webhook URL to sign for

func (h *handler) rotateAlertWebhookSecret(w http.ResponseWriter, r *http.Request, p principal) error {
	if err := decodeJSON(w, r, &RotateAlertWebhookSecretRequest{}, true); err != nil {
		return err
	}
	o, err := h.operatorFor(r, p)
	if err != nil {
		return err
	}
	if o.AlertWebhookURL == "" {
		return errorf(http.StatusConflict, codeWebhookOff, "the operator has no alert_webhook_url; set one first (PATCH the operator)")
	}
	o.AlertWebhookSecret = alerts.NewSecret()
	o, err = h.store.UpdateOperator(r.Context(), o)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("operator", r.PathValue("operatorId"))
	}
	if err != nil {
		return err
	}
	out := operatorOut(o)
	out.AlertWebhookSecret = o.AlertWebhookSecret
	writeJSON(w, http.StatusOK, out)
	return nil
}

// applyAlertSettings applies a PATCH's alert settings to o. newSecret:
// the webhook was turned on and a signing secret generated, which the
// answer shows this once.
func applyAlertSettings(req UpdateOperatorRequest, o *model.Operator) (newSecret bool, err error) {
	if u := req.AlertWebhookURL; u.Set {
		v := ""
		if !u.Null {
			if v, err = checkText("alert_webhook_url", u.Value, 0, 2000); err != nil {
				return false, err
			}
		}
		if v != "" {
			pu, err := url.Parse(v)
			if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" || pu.User != nil {
				return false, invalid("alert_webhook_url", "must be an absolute http or https URL without credentials, or \"\" to turn webhooks off")
			}
		}
		o.AlertWebhookURL = v
		if v == "" {
			o.AlertWebhookSecret = ""
		} else if o.AlertWebhookSecret == "" {
			o.AlertWebhookSecret = alerts.NewSecret()
			newSecret = true
		}
	}
	minutes := func(field string, v Optional[int], dst *int) error {
		if !v.Set {
			return nil
		}
		if v.Null || v.Value < 1 || v.Value > 1440 {
			return invalid(field, "must be a whole number of minutes from 1 to 1440")
		}
		*dst = v.Value
		return nil
	}
	if err := minutes("alert_offline_minutes", req.AlertOfflineMinutes, &o.AlertOfflineMinutes); err != nil {
		return false, err
	}
	if err := minutes("alert_payment_stuck_minutes", req.AlertPaymentStuckMinutes, &o.AlertPaymentStuckMinutes); err != nil {
		return false, err
	}
	return newSecret, nil
}
