package api

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chargestar/chargestar/internal/access"
	"github.com/chargestar/chargestar/internal/alerts"
	"github.com/chargestar/chargestar/internal/model"
	"github.com/chargestar/chargestar/internal/store"
)

// alertContractRoutes lists this file's routes for TestOpenAPIDocumentListsExactlyTheServedRoutes.
var alertContractRoutes = []string{"GET /api/v1/alerts", "GET /api/v1/alerts/{alertId}", "POST /api/v1/alerts/{alertId}/acknowledge",
	"POST /api/v1/operators/{operatorId}/alert-webhook-secret"}

func alertProbes(e *env) map[string][]probe {
	b := e.b
	a, _, err := e.st.OpenAlert(e.ctx, store.Alert{OperatorID: b.op.ID, Kind: "offline", Subject: b.idle, StationID: b.idle, Message: "B's"}, "")
	if err != nil {
		e.t.Fatal(err)
	}
	al := "/api/v1/alerts/"
	return map[string][]probe{
		"GET /api/v1/alerts": {
			{method: "GET", path: "/api/v1/alerts?operator_id=" + b.op.ID},
			{method: "GET", path: "/api/v1/alerts?station_id=" + b.idle, unknownPath: "/api/v1/alerts?station_id=CS-NOPE", foreignID: b.idle, unknownID: "CS-NOPE"},
		},
		"GET /api/v1/alerts/{alertId}": {
			{method: "GET", path: al + a.ID, unknownPath: al + "alr_nope", foreignID: a.ID, unknownID: "alr_nope"},
		},
		"POST /api/v1/alerts/{alertId}/acknowledge": {
			{method: "POST", path: al + a.ID + "/acknowledge", unknownPath: al + "alr_nope/acknowledge", foreignID: a.ID, unknownID: "alr_nope"},
		},
		"POST /api/v1/operators/{operatorId}/alert-webhook-secret": {
			{method: "POST", path: "/api/v1/operators/" + b.op.ID + "/alert-webhook-secret", unknownPath: "/api/v1/operators/op_nope/alert-webhook-secret",
				foreignID: b.op.ID, unknownID: "op_nope"},
		},
	}
}

// alertBodyPaths maps the alert routes with a body (optional, {}) to paths
// the administrator can reach.
func alertBodyPaths(e *env) map[string]string {
	a, _, err := e.st.OpenAlert(e.ctx, store.Alert{OperatorID: e.a.op.ID, Kind: "offline", Subject: e.a.idle, StationID: e.a.idle}, "")
	if err != nil {
		e.t.Fatal(err)
	}
	return map[string]string{
		"/api/v1/alerts/{alertId}/acknowledge":                "/api/v1/alerts/" + a.ID + "/acknowledge",
		"/api/v1/operators/{operatorId}/alert-webhook-secret": "/api/v1/operators/" + e.a.op.ID + "/alert-webhook-secret",
	}
}

// hookReceiver records the webhooks an operator's endpoint receives.
type hookReceiver struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []hookCall
}

type hookCall struct {
	sig  string
	body []byte
	ev   alerts.Event
}

func newHookReceiver(t *testing.T) *hookReceiver {
	r := &hookReceiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		var ev alerts.Event
		_ = json.Unmarshal(body, &ev)
		r.mu.Lock()
		r.got = append(r.got, hookCall{sig: req.Header.Get(alerts.SignatureHeader), body: body, ev: ev})
		r.mu.Unlock()
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *hookReceiver) take() []hookCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.got
	r.got = nil
	return out
}

func TestAlertSettings(t *testing.T) {
	e := newEnv(t)
	a := e.a
	op := "/api/v1/operators/" + a.op.ID
	var o Operator
	e.decode(e.mustDo("GET", op, a.token, nil, 200), &o)
	if o.AlertWebhookURL != "" || o.AlertWebhookSecret != "" || o.AlertOfflineMinutes != 10 || o.AlertPaymentStuckMinutes != 30 {
		t.Fatalf("defaults: %+v", o)
	}
	e.run(t, []scenario{
		{name: "not a URL", method: "PATCH", path: op, token: a.token, body: map[string]any{"alert_webhook_url": "hooks.example.com/x"}, status: 400, code: codeInvalidRequest, msg: "alert_webhook_url"},
		{name: "not http", method: "PATCH", path: op, token: a.token, body: map[string]any{"alert_webhook_url": "ftp://hooks.example.com/x"}, status: 400, code: codeInvalidRequest},
		{name: "credentials", method: "PATCH", path: op, token: a.token, body: map[string]any{"alert_webhook_url": "https://u:p@hooks.example.com/x"}, status: 400, code: codeInvalidRequest},
		{name: "0 minutes", method: "PATCH", path: op, token: a.token, body: map[string]any{"alert_offline_minutes": 0}, status: 400, code: codeInvalidRequest, msg: "alert_offline_minutes"},
		{name: "a day and a minute", method: "PATCH", path: op, token: a.token, body: map[string]any{"alert_payment_stuck_minutes": 1441}, status: 400, code: codeInvalidRequest},
		{name: "null minutes", method: "PATCH", path: op, token: a.token, body: map[string]any{"alert_offline_minutes": nil}, status: 400, code: codeInvalidRequest},
		{name: "rotate without a webhook", method: "POST", path: op + "/alert-webhook-secret", token: a.token, status: 409, code: codeWebhookOff},
	})

	// Turning the webhook on shows a new secret, once.
	e.decode(e.mustDo("PATCH", op, a.token, map[string]any{"alert_webhook_url": "https://hooks.example.com/cs", "alert_offline_minutes": 5,
		"alert_payment_stuck_minutes": 1440}, 200), &o)
	secret := o.AlertWebhookSecret
	if !strings.HasPrefix(secret, "whsec_") || o.AlertWebhookURL != "https://hooks.example.com/cs" || o.AlertOfflineMinutes != 5 || o.AlertPaymentStuckMinutes != 1440 {
		t.Fatalf("turned on: %+v", o)
	}
	if r := e.mustDo("GET", op, a.token, nil, 200); strings.Contains(string(r.body), "alert_webhook_secret") || strings.Contains(string(r.body), secret) {
		t.Fatalf("GET shows the secret: %s", r.body)
	}
	for _, r := range e.listAll("/api/v1/operators", e.admin, 100, idKey) {
		if _, ok := r["alert_webhook_secret"]; ok {
			t.Fatalf("the list shows a secret: %v", r)
		}
	}
	// Another change (even of the URL) keeps the secret and does not show it.
	o = Operator{}
	e.decode(e.mustDo("PATCH", op, a.token, map[string]any{"alert_webhook_url": "http://hooks.example.com/v2"}, 200), &o)
	if o.AlertWebhookSecret != "" || o.AlertWebhookURL != "http://hooks.example.com/v2" {
		t.Fatalf("changed URL: %+v", o)
	}
	if got, _ := e.st.GetOperator(e.ctx, a.op.ID); got.AlertWebhookSecret != secret {
		t.Fatalf("the secret changed: %q", got.AlertWebhookSecret)
	}
	// Rotating shows a new one.
	o = Operator{}
	e.decode(e.mustDo("POST", op+"/alert-webhook-secret", a.token, nil, 200), &o)
	if o.AlertWebhookSecret == secret || !strings.HasPrefix(o.AlertWebhookSecret, "whsec_") {
		t.Fatalf("rotated: %+v", o)
	}
	if got, _ := e.st.GetOperator(e.ctx, a.op.ID); got.AlertWebhookSecret != o.AlertWebhookSecret {
		t.Fatal("the rotated secret is not stored")
	}
	// Turning it off forgets the secret; turning it on again makes another.
	o = Operator{}
	e.decode(e.mustDo("PATCH", op, a.token, map[string]any{"alert_webhook_url": ""}, 200), &o)
	if o.AlertWebhookSecret != "" {
		t.Fatalf("turned off: %+v", o)
	}
	if got, _ := e.st.GetOperator(e.ctx, a.op.ID); got.AlertWebhookURL != "" || got.AlertWebhookSecret != "" {
		t.Fatalf("turned off: %+v", got)
	}
	e.decode(e.mustDo("PATCH", op, a.token, map[string]any{"alert_webhook_url": "https://hooks.example.com/cs"}, 200), &o)
	if o.AlertWebhookSecret == "" || o.AlertWebhookSecret == secret {
		t.Fatalf("turned on again: %+v", o)
	}
	// An empty body rotates too; the thresholds survive an unrelated change.
	e.mustDo("POST", op+"/alert-webhook-secret", a.token, map[string]any{}, 200)
	e.decode(e.mustDo("PATCH", op, a.token, map[string]any{"name": "Alpha"}, 200), &o)
	if o.AlertOfflineMinutes != 5 || o.AlertPaymentStuckMinutes != 1440 {
		t.Fatalf("thresholds: %+v", o)
	}
}

// TestAlertsEndToEnd: the worker opens alerts from the stored state, the
// operator's endpoint receives them signed, the API lists, filters and
// pages them per operator, acknowledges them recording who, and shows them
// resolved once their condition ends.
func TestAlertsEndToEnd(t *testing.T) {
	e := newEnv(t)
	a, b := e.a, e.b
	rcv := newHookReceiver(t)
	var o Operator
	e.decode(e.mustDo("PATCH", "/api/v1/operators/"+a.op.ID, a.token, map[string]any{"alert_webhook_url": rcv.srv.URL, "alert_offline_minutes": 15}, 200), &o)
	secret := o.AlertWebhookSecret

	now := time.Now().UTC().Truncate(time.Second)
	if _, err := e.st.CreateStation(e.ctx, model.Station{ID: "CS-AX", OperatorID: a.op.ID, CreatedAt: now.Add(-2 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := e.st.RecordConnected(e.ctx, "CS-AX", "ocpp1.6", now.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := e.st.RecordDisconnected(e.ctx, "CS-AX", now.Add(-20*time.Minute)); err != nil {
		t.Fatal(err)
	}
	for _, ev := range []model.StatusEvent{
		{StationID: a.station, ConnectorID: 1, Status: "Faulted", ErrorCode: "GroundFailure", Timestamp: now.Add(-time.Minute)},
		{StationID: b.station, ConnectorID: 1, Status: "Faulted", ErrorCode: "GroundFailure", Timestamp: now.Add(-time.Minute)},
	} {
		if err := e.st.RecordStatus(e.ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	w := alerts.NewWorker(e.st, alerts.Config{})
	if err := w.Tick(e.ctx, now); err != nil {
		t.Fatal(err)
	}

	var list List[alerts.Alert]
	e.decode(e.mustDo("GET", "/api/v1/alerts", a.token, nil, 200), &list)
	kinds := map[string]alerts.Alert{}
	for _, x := range list.Items {
		if x.OperatorID != a.op.ID {
			t.Errorf("A lists %+v", x)
		}
		kinds[x.Kind+" "+x.Subject] = x
	}
	offline, faulted := kinds["offline CS-AX"], kinds["faulted "+a.station+"/1"]
	if len(list.Items) != 2 || offline.ID == "" || faulted.ID == "" || *faulted.ConnectorID != 1 || faulted.State != "open" {
		t.Fatalf("A's alerts: %+v", list.Items)
	}
	// Webhooks: A's two, signed with A's secret; B has no webhook.
	hooks := rcv.take()
	if len(hooks) != 2 {
		t.Fatalf("%d webhooks", len(hooks))
	}
	for _, hk := range hooks {
		if err := alerts.Verify(secret, hk.sig, hk.body, now, time.Minute); err != nil || hk.ev.Type != "alert.opened" || hk.ev.Alert.OperatorID != a.op.ID {
			t.Errorf("webhook %+v: %v", hk.ev, err)
		}
	}
	// B sees its own only.
	e.decode(e.mustDo("GET", "/api/v1/alerts?state=all", b.token, nil, 200), &list)
	if len(list.Items) != 1 || list.Items[0].OperatorID != b.op.ID {
		t.Errorf("B's alerts: %+v", list.Items)
	}

	// Filters and pages.
	count := func(path string) int {
		t.Helper()
		var l List[alerts.Alert]
		e.decode(e.mustDo("GET", path, a.token, nil, 200), &l)
		return len(l.Items)
	}
	if n := count("/api/v1/alerts?kind=faulted"); n != 1 {
		t.Errorf("kind: %d", n)
	}
	if n := count("/api/v1/alerts?station_id=CS-AX"); n != 1 {
		t.Errorf("station: %d", n)
	}
	if n := count("/api/v1/alerts?state=resolved"); n != 0 {
		t.Errorf("resolved: %d", n)
	}
	if n := count("/api/v1/alerts?operator_id=" + a.op.ID + "&state=all"); n != 2 {
		t.Errorf("all: %d", n)
	}
	if items := e.listAll("/api/v1/alerts?state=all", a.token, 1, idKey); len(items) != 2 {
		t.Errorf("paged: %v", items)
	}
	var bAlert string
	if bs, _ := e.st.ListAlerts(e.ctx, store.AlertFilter{OperatorID: b.op.ID}); len(bs) == 1 {
		bAlert = bs[0].ID
	}
	e.run(t, []scenario{
		{name: "bad state", method: "GET", path: "/api/v1/alerts?state=closed", token: a.token, status: 400, code: codeInvalidParameter},
		{name: "bad kind", method: "GET", path: "/api/v1/alerts?kind=fire", token: a.token, status: 400, code: codeInvalidParameter},
		// Another operator's alert as a cursor is as unknown as a made-up one.
		{name: "foreign cursor", method: "GET", path: "/api/v1/alerts?cursor=" + url.QueryEscape(encodeCursor(bAlert)), token: a.token, status: 400, code: codeInvalidParameter},
		{name: "unknown cursor", method: "GET", path: "/api/v1/alerts?cursor=" + url.QueryEscape(encodeCursor("alr_nope")), token: a.token, status: 400, code: codeInvalidParameter},
	})

	// Acknowledging: an API token, then (ignored) a console user; the
	// first stands. A console user's acknowledgement records the email.
	var got alerts.Alert
	e.decode(e.mustDo("POST", "/api/v1/alerts/"+offline.ID+"/acknowledge", a.token, nil, 200), &got)
	if got.AcknowledgedBy != "api token" || got.AcknowledgedAt == nil || got.State != "open" {
		t.Errorf("acknowledged: %+v", got)
	}
	ack := func(id string, p principal) alerts.Alert {
		t.Helper()
		req := httptest.NewRequestWithContext(e.ctx, "POST", "/api/v1/alerts/"+id+"/acknowledge", nil)
		req.SetPathValue("alertId", id)
		rec := httptest.NewRecorder()
		if err := e.h.acknowledgeAlert(rec, req, p); err != nil {
			t.Fatal(err)
		}
		var out alerts.Alert
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	tech := principal{operatorID: a.op.ID, userID: "usr_x", userRole: access.Technician, email: "tech@example.com"}
	if again := ack(offline.ID, tech); again.AcknowledgedBy != "api token" || !again.AcknowledgedAt.Equal(*got.AcknowledgedAt) {
		t.Errorf("acknowledged again: %+v", again)
	}
	if byUser := ack(faulted.ID, tech); byUser.AcknowledgedBy != "tech@example.com" {
		t.Errorf("acknowledged by a user: %+v", byUser)
	}
	if access.Can(access.Finance, access.ManageNetwork) {
		t.Error("finance may acknowledge alerts")
	}

	// The station comes back: its alert resolves, and shows so.
	if err := e.st.RecordConnected(e.ctx, "CS-AX", "ocpp1.6", now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := w.Tick(e.ctx, now.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	e.decode(e.mustDo("GET", "/api/v1/alerts/"+offline.ID, a.token, nil, 200), &got)
	if got.State != "resolved" || got.ResolvedAt == nil || got.AcknowledgedBy != "api token" {
		t.Errorf("resolved: %+v", got)
	}
	if n := count("/api/v1/alerts?state=resolved"); n != 1 {
		t.Errorf("resolved: %d", n)
	}
	if hooks := rcv.take(); len(hooks) != 1 || hooks[0].ev.Type != "alert.resolved" || hooks[0].ev.Alert.ID != offline.ID {
		t.Errorf("resolution webhook: %+v", hooks)
	}
	// B's alert was not acknowledged by anyone (the tenancy probes try).
	if ba, err := e.st.GetAlert(e.ctx, b.op.ID, bAlert); err != nil || ba.AcknowledgedAt != nil {
		t.Errorf("B's alert: %+v %v", ba, err)
	}
}
