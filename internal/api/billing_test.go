package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chargestar/chargestar/internal/ledger"
)

// doHeader is do (no body) with extra request headers.
func (e *env) doHeader(method, path, token string, header http.Header) *resp {
	e.t.Helper()
	req := httptest.NewRequestWithContext(e.ctx, method, path, nil)
	for k, vs := range header {
		req.Header[k] = vs
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	r := &resp{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
	e.doc.check(e.t, req, r)
	return r
}

// tariffWith returns testTariff with its currency and hold amount changed.
func tariffWith(currency string, hold int) json.RawMessage {
	s := strings.Replace(testTariff, `"currency": "AUD"`, `"currency": "`+currency+`"`, 1)
	if hold == 0 {
		s = strings.Replace(s, `,
    "hold_amount": 5000`, "", 1)
	} else {
		s = strings.Replace(s, `"hold_amount": 5000`, `"hold_amount": `+itoa(hold), 1)
	}
	return json.RawMessage(s)
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestCreateTariff(t *testing.T) {
	e := newEnv(t)
	// The tenant's tariff, created in newEnv, is canonical and described.
	tr := e.a.tariff
	if !strings.HasPrefix(tr.ID, "trf_") || tr.OperatorID != e.a.op.ID || tr.Name != "Standard A" {
		t.Errorf("tariff = %+v", tr)
	}
	if want := "$0.55 per kWh · $1.00 session fee · idle $0.10/min after 15 min · prices include GST"; tr.Description.Summary != want {
		t.Errorf("summary = %q, want %q", tr.Description.Summary, want)
	}
	if len(tr.Description.Parts) != 4 || tr.Description.Example != "a 40 kWh, 1 h session costs $23.00" {
		t.Errorf("description = %+v", tr.Description)
	}
	var body map[string]any
	if err := json.Unmarshal(tr.Tariff, &body); err != nil || body["currency"] != "AUD" || body["elements"] == nil || body["chargestar"] == nil {
		t.Errorf("tariff body = %s (%v)", tr.Tariff, err)
	}
	e.run(t, []scenario{
		{name: "admin names the operator", method: "POST", path: "/api/v1/tariffs", token: e.admin,
			body: map[string]any{"operator_id": e.b.op.ID, "name": "Night", "tariff": json.RawMessage(testTariff)}, status: 201,
			check: func(t *testing.T, r *resp) {
				var got Tariff
				e.decode(r, &got)
				if got.OperatorID != e.b.op.ID || r.header.Get("Location") != "/api/v1/tariffs/"+got.ID {
					t.Errorf("tariff = %+v, Location %q", got, r.header.Get("Location"))
				}
			}},
		{name: "admin without operator", method: "POST", path: "/api/v1/tariffs", token: e.admin,
			body: map[string]any{"name": "x", "tariff": json.RawMessage(testTariff)}, status: 400, code: codeInvalidRequest, msg: "operator_id"},
		{name: "admin with unknown operator", method: "POST", path: "/api/v1/tariffs", token: e.admin,
			body: map[string]any{"operator_id": "op_nope", "name": "x", "tariff": json.RawMessage(testTariff)}, status: 404, code: codeNotFound},
		{name: "name missing", method: "POST", path: "/api/v1/tariffs", token: e.a.token,
			body: map[string]any{"tariff": json.RawMessage(testTariff)}, status: 400, code: codeInvalidRequest, msg: "name"},
		{name: "tariff missing", method: "POST", path: "/api/v1/tariffs", token: e.a.token,
			body: map[string]any{"name": "x"}, status: 400, code: codeInvalidRequest, msg: "tariff: is required"},
		{name: "tariff not an object", method: "POST", path: "/api/v1/tariffs", token: e.a.token,
			body: map[string]any{"name": "x", "tariff": []int{1}}, status: 400, code: codeInvalidTariff},
		{name: "tariff without elements", method: "POST", path: "/api/v1/tariffs", token: e.a.token,
			body: map[string]any{"name": "x", "tariff": map[string]any{"currency": "AUD", "elements": []any{}}}, status: 400, code: codeInvalidTariff, msg: "tariff: "},
		{name: "negative price", method: "POST", path: "/api/v1/tariffs", token: e.a.token,
			body:   `{"name":"x","tariff":{"currency":"AUD","elements":[{"price_components":[{"type":"ENERGY","price":-1,"step_size":1}]}]}}`,
			status: 400, code: codeInvalidTariff},
		{name: "wrong currency", method: "POST", path: "/api/v1/tariffs", token: e.a.token,
			body: map[string]any{"name": "x", "tariff": tariffWith("EUR", 5000)}, status: 400, code: codeInvalidTariff, msg: "currency"},
	})
}

func TestListGetUpdateDeleteTariffs(t *testing.T) {
	e := newEnv(t)
	var extra Tariff
	e.decode(e.mustDo("POST", "/api/v1/tariffs", e.a.token, map[string]any{"name": "Spare", "tariff": json.RawMessage(testTariff)}, 201), &extra)

	a := e.listAll("/api/v1/tariffs", e.a.token, 1, idKey)
	if len(a) != 2 {
		t.Errorf("A lists %d tariffs, want 2: %v", len(a), a)
	}
	if all := e.listAll("/api/v1/tariffs", e.admin, 1, idKey); len(all) != 3 {
		t.Errorf("admin lists %d tariffs, want 3", len(all))
	}
	if bs := e.listAll("/api/v1/tariffs?operator_id="+e.b.op.ID, e.admin, 10, idKey); len(bs) != 1 || bs[0]["id"] != e.b.tariff.ID {
		t.Errorf("admin filtered to B lists %v", bs)
	}

	cheaper := strings.Replace(testTariff, `"price": 0.55`, `"price": 0.45`, 1)
	e.run(t, []scenario{
		{name: "get own", method: "GET", path: "/api/v1/tariffs/" + extra.ID, token: e.a.token, status: 200,
			check: func(t *testing.T, r *resp) {
				var got Tariff
				e.decode(r, &got)
				if got.ID != extra.ID || got.Name != "Spare" || got.Description.Summary != extra.Description.Summary {
					t.Errorf("GET = %+v", got)
				}
			}},
		{name: "admin gets any", method: "GET", path: "/api/v1/tariffs/" + e.b.tariff.ID, token: e.admin, status: 200},
		{name: "get unknown", method: "GET", path: "/api/v1/tariffs/trf_nope", token: e.a.token, status: 404, code: codeNotFound},
		{name: "replace", method: "PUT", path: "/api/v1/tariffs/" + extra.ID, token: e.a.token,
			body: map[string]any{"name": "Cheaper", "tariff": json.RawMessage(cheaper)}, status: 200,
			check: func(t *testing.T, r *resp) {
				var got Tariff
				e.decode(r, &got)
				if got.Name != "Cheaper" || !strings.HasPrefix(got.Description.Summary, "$0.45 per kWh") || !got.CreatedAt.Equal(extra.CreatedAt) {
					t.Errorf("PUT = %+v", got)
				}
				var again Tariff
				e.decode(e.mustDo("GET", "/api/v1/tariffs/"+extra.ID, e.a.token, nil, 200), &again)
				if again.Name != "Cheaper" || again.Description.Summary != got.Description.Summary {
					t.Errorf("GET after PUT = %+v", again)
				}
			}},
		{name: "replace with an invalid tariff", method: "PUT", path: "/api/v1/tariffs/" + extra.ID, token: e.a.token,
			body: map[string]any{"name": "x", "tariff": map[string]any{"currency": "AUD"}}, status: 400, code: codeInvalidTariff},
		{name: "replace in another currency", method: "PUT", path: "/api/v1/tariffs/" + extra.ID, token: e.a.token,
			body: map[string]any{"name": "x", "tariff": tariffWith("NZD", 5000)}, status: 400, code: codeInvalidTariff, msg: "currency"},
		{name: "replace without name", method: "PUT", path: "/api/v1/tariffs/" + extra.ID, token: e.a.token,
			body: map[string]any{"tariff": json.RawMessage(testTariff)}, status: 400, code: codeInvalidRequest, msg: "name"},
		{name: "delete assigned", method: "DELETE", path: "/api/v1/tariffs/" + e.a.tariff.ID, token: e.a.token, status: 409, code: codeTariffAssigned},
		{name: "delete unassigned", method: "DELETE", path: "/api/v1/tariffs/" + extra.ID, token: e.a.token, status: 204},
		{name: "deleted is gone", method: "GET", path: "/api/v1/tariffs/" + extra.ID, token: e.a.token, status: 404, code: codeNotFound},
		{name: "delete again", method: "DELETE", path: "/api/v1/tariffs/" + extra.ID, token: e.a.token, status: 404, code: codeNotFound},
		{name: "unassign", method: "DELETE", path: "/api/v1/tariff-assignments?scope=operator", token: e.a.token, status: 204},
		{name: "delete once unassigned", method: "DELETE", path: "/api/v1/tariffs/" + e.a.tariff.ID, token: e.a.token, status: 204},
	})
}

func TestTariffAssignmentsAndStationTariff(t *testing.T) {
	e := newEnv(t)
	a := e.a
	var siteT, stationT Tariff
	e.decode(e.mustDo("POST", "/api/v1/tariffs", a.token, map[string]any{"name": "Site", "tariff": tariffWith("AUD", 3000)}, 201), &siteT)
	e.decode(e.mustDo("POST", "/api/v1/tariffs", a.token, map[string]any{"name": "Station", "tariff": tariffWith("AUD", 2000)}, 201), &stationT)
	quote := func(station, query string) StationTariff {
		t.Helper()
		var q StationTariff
		e.decode(e.mustDo("GET", "/api/v1/stations/"+station+"/tariff"+query, a.token, nil, 200), &q)
		return q
	}

	// Operator scope (from newEnv).
	q := quote(a.station, "")
	if q.TariffID != a.tariff.ID || q.Scope != "operator" || q.Currency != "AUD" || q.HoldAmount != 5000 || q.StationID != a.station ||
		q.ConnectorID != 1 || q.StopAtCost == nil || *q.StopAtCost <= 0 || *q.StopAtCost >= 5000 {
		t.Errorf("operator-scope quote = %+v", q)
	}
	if !strings.Contains(q.Description.Summary, "$0.55 per kWh") || len(q.Tariff) == 0 {
		t.Errorf("quote description/tariff = %+v", q)
	}
	if q := quote(a.station, "?budget_amount=3000&connector_id=2"); q.HoldAmount != 3000 || q.ConnectorID != 2 {
		t.Errorf("budget quote = %+v", q)
	}
	if q := quote(a.station, "?budget_wh=10000"); q.HoldAmount <= 550 {
		t.Errorf("energy budget quote = %+v", q)
	}

	// Site scope overrides the operator's; station scope the site's.
	var as TariffAssignment
	e.decode(e.mustDo("PUT", "/api/v1/tariff-assignments", a.token, map[string]any{"scope": "site", "scope_id": a.site.ID, "tariff_id": siteT.ID}, 200), &as)
	if as.OperatorID != a.op.ID || as.Scope != "site" || as.ScopeID != a.site.ID || as.TariffID != siteT.ID {
		t.Errorf("assignment = %+v", as)
	}
	if q := quote(a.station, ""); q.TariffID != siteT.ID || q.Scope != "site" || q.HoldAmount != 3000 {
		t.Errorf("site-scope quote = %+v", q)
	}
	if q := quote(a.idle, ""); q.TariffID != a.tariff.ID || q.Scope != "operator" {
		t.Errorf("the idle station (no site) = %+v", q)
	}
	// The administrator may leave operator_id out: the tariff's operator.
	e.mustDo("PUT", "/api/v1/tariff-assignments", e.admin, map[string]any{"scope": "station", "scope_id": a.station, "tariff_id": stationT.ID}, 200)
	if q := quote(a.station, ""); q.TariffID != stationT.ID || q.Scope != "station" || q.HoldAmount != 2000 {
		t.Errorf("station-scope quote = %+v", q)
	}
	// Reassigning a scope replaces its tariff.
	e.mustDo("PUT", "/api/v1/tariff-assignments", a.token, map[string]any{"scope": "station", "scope_id": a.station, "tariff_id": siteT.ID}, 200)
	if q := quote(a.station, ""); q.TariffID != siteT.ID || q.Scope != "station" {
		t.Errorf("reassigned quote = %+v", q)
	}
	list := e.listAll("/api/v1/tariff-assignments", a.token, 1, keyOf("/api/v1/tariff-assignments"))
	if len(list) != 3 {
		t.Errorf("A's assignments = %v", list)
	}
	if all := e.listAll("/api/v1/tariff-assignments", e.admin, 2, keyOf("/api/v1/tariff-assignments")); len(all) != 4 {
		t.Errorf("all assignments = %v", all)
	}

	e.run(t, []scenario{
		{name: "scope missing", method: "PUT", path: "/api/v1/tariff-assignments", token: a.token, body: map[string]any{"tariff_id": siteT.ID}, status: 400, code: codeInvalidRequest, msg: "scope"},
		{name: "scope unknown", method: "PUT", path: "/api/v1/tariff-assignments", token: a.token, body: map[string]any{"scope": "planet", "tariff_id": siteT.ID}, status: 400, code: codeInvalidRequest, msg: "scope"},
		{name: "tariff missing", method: "PUT", path: "/api/v1/tariff-assignments", token: a.token, body: map[string]any{"scope": "operator"}, status: 400, code: codeInvalidRequest, msg: "tariff_id"},
		{name: "site without scope_id", method: "PUT", path: "/api/v1/tariff-assignments", token: a.token, body: map[string]any{"scope": "site", "tariff_id": siteT.ID}, status: 400, code: codeInvalidRequest, msg: "scope_id"},
		{name: "operator scope naming another id", method: "PUT", path: "/api/v1/tariff-assignments", token: a.token, body: map[string]any{"scope": "operator", "scope_id": "op_other", "tariff_id": siteT.ID}, status: 400, code: codeInvalidRequest, msg: "scope_id"},
		{name: "unknown tariff", method: "PUT", path: "/api/v1/tariff-assignments", token: a.token, body: map[string]any{"scope": "operator", "tariff_id": "trf_nope"}, status: 404, code: codeNotFound},
		{name: "unknown station", method: "PUT", path: "/api/v1/tariff-assignments", token: a.token, body: map[string]any{"scope": "station", "scope_id": "CS-NOPE", "tariff_id": siteT.ID}, status: 404, code: codeNotFound},
		{name: "unassign without scope", method: "DELETE", path: "/api/v1/tariff-assignments", token: a.token, status: 400, code: codeInvalidParameter, msg: "scope"},
		{name: "admin unassign without operator", method: "DELETE", path: "/api/v1/tariff-assignments?scope=site&scope_id=" + a.site.ID, token: e.admin, status: 400, code: codeInvalidParameter, msg: "operator_id"},
		{name: "unassign station", method: "DELETE", path: "/api/v1/tariff-assignments?scope=station&scope_id=" + a.station, token: a.token, status: 204},
		{name: "unassign station again", method: "DELETE", path: "/api/v1/tariff-assignments?scope=station&scope_id=" + a.station, token: a.token, status: 404, code: codeNotFound},
		{name: "admin unassigns site", method: "DELETE", path: "/api/v1/tariff-assignments?scope=site&scope_id=" + a.site.ID + "&operator_id=" + a.op.ID, token: e.admin, status: 204},
		{name: "admin unassigns operator by scope_id", method: "DELETE", path: "/api/v1/tariff-assignments?scope=operator&scope_id=" + a.op.ID, token: e.admin, status: 204},
		{name: "no tariff applies", method: "GET", path: "/api/v1/stations/" + a.station + "/tariff", token: a.token, status: 404, code: codeNoTariff},
	})

	// A tariff without a hold amount needs a budget.
	var noHold Tariff
	e.decode(e.mustDo("POST", "/api/v1/tariffs", a.token, map[string]any{"name": "No hold", "tariff": tariffWith("AUD", 0)}, 201), &noHold)
	e.mustDo("PUT", "/api/v1/tariff-assignments", a.token, map[string]any{"scope": "operator", "tariff_id": noHold.ID}, 200)
	st := "/api/v1/stations/" + a.station + "/tariff"
	e.run(t, []scenario{
		{name: "no budget, no hold amount", method: "GET", path: st, token: a.token, status: 400, code: codeInvalidBudget, msg: "budget_amount"},
		{name: "budget amount", method: "GET", path: st + "?budget_amount=2500", token: a.token, status: 200},
		{name: "budget too small", method: "GET", path: st + "?budget_amount=50", token: a.token, status: 400, code: codeInvalidBudget},
		{name: "two budgets", method: "GET", path: st + "?budget_amount=2500&budget_wh=1000", token: a.token, status: 400, code: codeInvalidParameter},
		{name: "budget not a number", method: "GET", path: st + "?budget_minutes=soon", token: a.token, status: 400, code: codeInvalidParameter, msg: "budget_minutes"},
		{name: "connector zero", method: "GET", path: st + "?connector_id=0", token: a.token, status: 400, code: codeInvalidParameter, msg: "connector_id"},
		{name: "unknown station", method: "GET", path: "/api/v1/stations/CS-NOPE/tariff", token: a.token, status: 404, code: codeNotFound},
	})
}

func TestPayments(t *testing.T) {
	e := newEnv(t)
	a := e.a
	authorized := e.openPayment(a, "authorized")
	quote := e.openPayment(a, "quote")
	charging := e.openPayment(a, "charging")
	var topUp TopUp
	e.decode(e.mustDo("POST", "/api/v1/driver-accounts/"+e.account.ID+"/top-ups", e.admin, map[string]any{"amount": 2000}, 201), &topUp)

	// The settled payment, as the API shows it.
	r := e.mustDo("GET", "/api/v1/payments/"+a.payment.ID, a.token, nil, 200)
	for _, secret := range []string{"access", "id_token", "NCXSECRET", "someone@example.com", "ENERGY", "email"} {
		if bytes.Contains(r.body, []byte(secret)) {
			t.Errorf("the payment shows %q: %s", secret, r.body)
		}
	}
	var p Payment
	e.decode(r, &p)
	if p.ID != a.payment.ID || *p.OperatorID != a.op.ID || p.Purpose != "session" || p.State != "captured" || p.PaymentStatus != "captured" ||
		*p.StationID != a.station || *p.ConnectorID != 1 || *p.SessionID != a.session.ID || *p.TariffID != a.tariff.ID ||
		p.Currency != "AUD" || p.HoldAmount != 5000 || p.AmountTotal != 485 || p.AmountCaptured != 485 || p.AmountTax != 44 ||
		*p.CardLast4 != "4242" || *p.ReceiptCode != a.payment.ReceiptCode || p.SettledAt == nil || p.Provider != "sandbox" {
		t.Errorf("payment = %+v", p)
	}

	// Lists: an operator sees its own; the administrator also top-ups.
	own := e.listAll("/api/v1/payments", a.token, 1, idKey)
	if len(own) != 4 {
		t.Errorf("A lists %d payments, want 4", len(own))
	}
	all := e.listAll("/api/v1/payments", e.admin, 2, idKey)
	if len(all) != 6 {
		t.Errorf("admin lists %d payments, want 6", len(all))
	}
	foundTopUp := false
	for _, it := range all {
		if it["id"] == topUp.PaymentID {
			foundTopUp = it["purpose"] == "topup" && it["operator_id"] == nil && it["station_id"] == nil && it["connector_id"] == nil
		}
	}
	if !foundTopUp {
		t.Errorf("admin's list lacks the top-up: %v", all)
	}
	if got := e.listAll("/api/v1/payments?state=authorized", a.token, 10, idKey); len(got) != 1 || got[0]["id"] != authorized.ID {
		t.Errorf("authorized payments = %v", got)
	}
	if got := e.listAll("/api/v1/payments?operator_id="+e.b.op.ID, e.admin, 10, idKey); len(got) != 1 || got[0]["id"] != e.b.payment.ID {
		t.Errorf("B's payments = %v", got)
	}

	e.run(t, []scenario{
		{name: "bad state", method: "GET", path: "/api/v1/payments?state=paid", token: a.token, status: 400, code: codeInvalidParameter, msg: "state"},
		{name: "bad cursor", method: "GET", path: "/api/v1/payments?cursor=%%%", token: a.token, status: 400, code: codeInvalidParameter},
		{name: "unknown payment", method: "GET", path: "/api/v1/payments/pay_nope", token: a.token, status: 404, code: codeNotFound},
		{name: "operator cannot see a top-up", method: "GET", path: "/api/v1/payments/" + topUp.PaymentID, token: a.token, status: 404, code: codeNotFound},
		{name: "admin sees a top-up", method: "GET", path: "/api/v1/payments/" + topUp.PaymentID, token: e.admin, status: 200,
			check: func(t *testing.T, r *resp) {
				if m := e.object(r); m["purpose"] != "topup" || m["state"] != "quote" || m["hold_amount"] != 2000.0 {
					t.Errorf("top-up = %v", m)
				}
			}},
		{name: "stop before the start cancels", method: "POST", path: "/api/v1/payments/" + authorized.ID + "/stop", token: a.token, status: 200,
			check: func(t *testing.T, r *resp) {
				var got Payment
				e.decode(r, &got)
				if got.State != "stopped" || got.EndReason == nil || *got.EndReason != "canceled" || got.StoppedAt == nil {
					t.Errorf("stopped = %+v", got)
				}
			}},
		{name: "stop an open page", method: "POST", path: "/api/v1/payments/" + quote.ID + "/stop", token: e.admin, status: 200,
			check: func(t *testing.T, r *resp) {
				if m := e.object(r); m["state"] != "canceled" || m["payment_status"] != "voided" {
					t.Errorf("canceled = %v", m)
				}
			}},
		{name: "stop a charging session", method: "POST", path: "/api/v1/payments/" + charging.ID + "/stop", token: a.token, status: 200,
			check: func(t *testing.T, r *resp) {
				if m := e.object(r); m["state"] != "charging" || m["end_reason"] != "driver" {
					t.Errorf("stopping = %v", m)
				}
				jobs, err := e.st.PaymentJobs(e.ctx, charging.ID)
				if err != nil || len(jobs) != 1 || jobs[0].Kind != "remote_stop" {
					t.Errorf("jobs = %+v, %v", jobs, err)
				}
			}},
		{name: "stop a settled payment changes nothing", method: "POST", path: "/api/v1/payments/" + a.payment.ID + "/stop", token: a.token, status: 200,
			check: func(t *testing.T, r *resp) {
				if m := e.object(r); m["state"] != "captured" {
					t.Errorf("settled = %v", m)
				}
			}},
		{name: "stop a top-up", method: "POST", path: "/api/v1/payments/" + topUp.PaymentID + "/stop", token: e.admin, status: 409, code: codeNotASession},
		{name: "stop unknown", method: "POST", path: "/api/v1/payments/pay_nope/stop", token: a.token, status: 404, code: codeNotFound},
	})
}

func TestReceipts(t *testing.T) {
	e := newEnv(t)
	a := e.a
	e.mustDo("PATCH", "/api/v1/operators/"+a.op.ID, a.token, map[string]any{"legal_name": "Alpha Parking Pty Ltd", "tax_id": "51824753556"}, 200)
	code := a.payment.ReceiptCode
	open := e.openPayment(a, "charging")

	html := e.mustDo("GET", "/api/v1/payments/"+a.payment.ID+"/receipt", a.token, nil, 200)
	if ct := html.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	for _, want := range []string{"<!DOCTYPE html>", code, "Alpha Parking Pty Ltd", "51 824 753 556", "$4.85"} {
		if !bytes.Contains(html.body, []byte(want)) {
			t.Errorf("the HTML receipt lacks %q", want)
		}
	}
	if html.header.Get("Content-Security-Policy") == "" {
		t.Error("no Content-Security-Policy on the HTML receipt")
	}

	checkPDF := func(r *resp) {
		t.Helper()
		if r.header.Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(r.body, []byte("%PDF-")) {
			t.Errorf("not a PDF: %q %.20q", r.header.Get("Content-Type"), r.body)
		}
		if cd, want := r.header.Get("Content-Disposition"), `inline; filename="receipt-`+code+`.pdf"`; cd != want {
			t.Errorf("Content-Disposition = %q, want %q", cd, want)
		}
	}
	checkPDF(e.mustDo("GET", "/api/v1/payments/"+a.payment.ID+"/receipt?format=pdf", a.token, nil, 200))
	checkPDF(e.doHeader("GET", "/api/v1/payments/"+a.payment.ID+"/receipt", a.token, http.Header{"Accept": {"application/pdf"}}))
	checkPDF(e.doHeader("GET", "/api/v1/sessions/"+a.session.ID+"/receipt", e.admin, http.Header{"Accept": {"text/html;q=0.5, application/pdf"}}))
	if r := e.doHeader("GET", "/api/v1/payments/"+a.payment.ID+"/receipt", a.token, http.Header{"Accept": {"text/html, application/pdf;q=0.9"}}); !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
		t.Errorf("Accept preferring HTML got %q", r.header.Get("Content-Type"))
	}
	if r := e.doHeader("GET", "/api/v1/payments/"+a.payment.ID+"/receipt?format=html", a.token, http.Header{"Accept": {"application/pdf"}}); !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
		t.Errorf("format=html got %q", r.header.Get("Content-Type"))
	}
	sess := e.mustDo("GET", "/api/v1/sessions/"+a.session.ID+"/receipt", a.token, nil, 200)
	if !bytes.Contains(sess.body, []byte(code)) {
		t.Error("the session's receipt is not the payment's")
	}

	e.run(t, []scenario{
		{name: "not settled", method: "GET", path: "/api/v1/payments/" + open.ID + "/receipt", token: a.token, status: 404, code: codeNoReceipt},
		{name: "session not settled", method: "GET", path: "/api/v1/sessions/" + a.active.ID + "/receipt", token: a.token, status: 404, code: codeNoReceipt},
		{name: "unknown payment", method: "GET", path: "/api/v1/payments/pay_nope/receipt", token: a.token, status: 404, code: codeNotFound},
		{name: "unknown session", method: "GET", path: "/api/v1/sessions/ses_nope/receipt", token: a.token, status: 404, code: codeNotFound},
		{name: "foreign payment", method: "GET", path: "/api/v1/payments/" + e.b.payment.ID + "/receipt", token: a.token, status: 404, code: codeNotFound},
		{name: "foreign session", method: "GET", path: "/api/v1/sessions/" + e.b.session.ID + "/receipt", token: a.token, status: 404, code: codeNotFound},
		{name: "bad format", method: "GET", path: "/api/v1/payments/" + a.payment.ID + "/receipt?format=docx", token: a.token, status: 400, code: codeInvalidParameter, msg: "format"},
	})
	// A session without a payment (an operator's own card) has none.
	var tn Session
	s := e.startSession(a.station, 3, a.idToken, a.session.StartedAt.Add(5*time.Hour), 0)
	e.decode(e.mustDo("GET", "/api/v1/sessions/"+s.ID, a.token, nil, 200), &tn)
	if r := e.do("GET", "/api/v1/sessions/"+s.ID+"/receipt", a.token, nil); r.status != 404 || r.errorCode() != codeNoReceipt {
		t.Errorf("unpaid session's receipt: %s", r)
	}
}

func TestBillingUnavailable(t *testing.T) {
	e := newEnv(t, withoutBilling())
	a := e.a
	e.run(t, []scenario{
		{name: "quote", method: "GET", path: "/api/v1/stations/" + a.station + "/tariff", token: a.token, status: 503, code: codeBillingUnavailable},
		{name: "stop", method: "POST", path: "/api/v1/payments/" + a.payment.ID + "/stop", token: a.token, status: 503, code: codeBillingUnavailable},
		{name: "receipt", method: "GET", path: "/api/v1/payments/" + a.payment.ID + "/receipt", token: a.token, status: 503, code: codeBillingUnavailable},
		{name: "top-up", method: "POST", path: "/api/v1/driver-accounts/" + e.account.ID + "/top-ups", token: e.admin, body: map[string]any{"amount": 100}, status: 503, code: codeBillingUnavailable},
		{name: "card setup", method: "POST", path: "/api/v1/driver-accounts/" + e.account.ID + "/card-setup", token: e.admin, status: 503, code: codeBillingUnavailable},
		// What needs only the store still works.
		{name: "payment", method: "GET", path: "/api/v1/payments/" + a.payment.ID, token: a.token, status: 200},
		{name: "tariff", method: "GET", path: "/api/v1/tariffs/" + a.tariff.ID, token: a.token, status: 200},
		{name: "account without wallet", method: "GET", path: "/api/v1/driver-accounts/" + e.account.ID, token: e.admin, status: 200,
			check: func(t *testing.T, r *resp) {
				if m := e.object(r); m["wallet"] != nil {
					t.Errorf("wallet = %v", m["wallet"])
				}
			}},
	})
	// Still a foreign resource is a 404 first.
	if r := e.do("GET", "/api/v1/stations/"+e.b.station+"/tariff", a.token, nil); r.status != 404 {
		t.Errorf("foreign station without billing: %s", r)
	}
}

func TestUpdateOperator(t *testing.T) {
	e := newEnv(t)
	a := e.a
	path := "/api/v1/operators/" + a.op.ID
	var de Operator
	e.decode(e.mustDo("POST", "/api/v1/operators", e.admin, map[string]any{"name": "Gamma", "currency": "EUR", "country": "DE"}, 201), &de)
	if de.SettlementMode != "platform" || de.LegalName != "" || de.TaxID != "" {
		t.Errorf("new operator = %+v", de)
	}
	e.run(t, []scenario{
		{name: "seller details", method: "PATCH", path: path, token: a.token,
			body: map[string]any{"name": " Alpha Parking Co ", "legal_name": "Alpha Parking Pty Ltd", "tax_id": "51 824 753 556", "address": "1 George St, Sydney NSW 2000"}, status: 200,
			check: func(t *testing.T, r *resp) {
				var o Operator
				e.decode(r, &o)
				if o.Name != "Alpha Parking Co" || o.LegalName != "Alpha Parking Pty Ltd" || o.TaxID != "51 824 753 556" ||
					o.Address != "1 George St, Sydney NSW 2000" || o.SettlementMode != "platform" || o.Currency != "AUD" {
					t.Errorf("operator = %+v", o)
				}
				var got Operator
				e.decode(e.mustDo("GET", path, a.token, nil, 200), &got)
				if got != o {
					t.Errorf("GET = %+v, want %+v", got, o)
				}
				for _, it := range e.listAll("/api/v1/operators", a.token, 10, idKey) {
					if it["tax_id"] != "51 824 753 556" || it["legal_name"] != "Alpha Parking Pty Ltd" {
						t.Errorf("listed = %v", it)
					}
				}
			}},
		{name: "ABN without spaces is normalised", method: "PATCH", path: path, token: a.token, body: map[string]any{"tax_id": "51824753556"}, status: 200,
			check: func(t *testing.T, r *resp) {
				if o := e.object(r); o["tax_id"] != "51 824 753 556" || o["legal_name"] != "Alpha Parking Pty Ltd" {
					t.Errorf("operator = %v", o)
				}
			}},
		{name: "bad ABN checksum", method: "PATCH", path: path, token: a.token, body: map[string]any{"tax_id": "51 824 753 557"}, status: 400, code: codeInvalidABN},
		{name: "ABN too short", method: "PATCH", path: path, token: a.token, body: map[string]any{"tax_id": "5182475355"}, status: 400, code: codeInvalidABN},
		{name: "ABN with letters", method: "PATCH", path: path, token: a.token, body: map[string]any{"tax_id": "51 824 753 55A"}, status: 400, code: codeInvalidABN},
		{name: "a German tax id is not an ABN", method: "PATCH", path: "/api/v1/operators/" + de.ID, token: e.admin, body: map[string]any{"tax_id": "DE123456789"}, status: 200,
			check: func(t *testing.T, r *resp) {
				if o := e.object(r); o["tax_id"] != "DE123456789" {
					t.Errorf("operator = %v", o)
				}
			}},
		{name: "direct needs a merchant account", method: "PATCH", path: path, token: a.token, body: map[string]any{"settlement_mode": "direct"}, status: 400, code: codeInvalidRequest, msg: "merchant_account"},
		{name: "direct with a merchant account", method: "PATCH", path: path, token: e.admin, body: map[string]any{"settlement_mode": "direct", "merchant_account": "acct_123"}, status: 200,
			check: func(t *testing.T, r *resp) {
				if o := e.object(r); o["settlement_mode"] != "direct" || o["merchant_account"] != "acct_123" {
					t.Errorf("operator = %v", o)
				}
			}},
		{name: "cannot clear the merchant account while direct", method: "PATCH", path: path, token: a.token, body: map[string]any{"merchant_account": nil}, status: 400, code: codeInvalidRequest, msg: "merchant_account"},
		{name: "back to platform", method: "PATCH", path: path, token: a.token, body: map[string]any{"settlement_mode": "platform", "merchant_account": ""}, status: 200},
		{name: "unknown settlement", method: "PATCH", path: path, token: a.token, body: map[string]any{"settlement_mode": "barter"}, status: 400, code: codeInvalidRequest, msg: "settlement_mode"},
		{name: "null name", method: "PATCH", path: path, token: a.token, body: map[string]any{"name": nil}, status: 400, code: codeInvalidRequest, msg: "name"},
		{name: "blank name", method: "PATCH", path: path, token: a.token, body: map[string]any{"name": "  "}, status: 400, code: codeInvalidRequest, msg: "name"},
		{name: "currency is fixed", method: "PATCH", path: path, token: a.token, body: map[string]any{"currency": "EUR"}, status: 400, code: codeInvalidJSON},
		{name: "clear the tax id", method: "PATCH", path: path, token: a.token, body: map[string]any{"tax_id": nil}, status: 200,
			check: func(t *testing.T, r *resp) {
				if o := e.object(r); o["tax_id"] != "" {
					t.Errorf("operator = %v", o)
				}
			}},
		{name: "empty patch", method: "PATCH", path: path, token: a.token, body: map[string]any{}, status: 200},
		{name: "foreign operator", method: "PATCH", path: "/api/v1/operators/" + e.b.op.ID, token: a.token, body: map[string]any{"name": "x"}, status: 404, code: codeNotFound},
		{name: "unknown operator", method: "PATCH", path: "/api/v1/operators/op_nope", token: e.admin, body: map[string]any{"name": "x"}, status: 404, code: codeNotFound},
	})
}

func TestABNChecksum(t *testing.T) {
	for in, want := range map[string]string{
		"51 824 753 556": "51 824 753 556",
		"51824753556":    "51 824 753 556",
		"53 004 085 616": "53 004 085 616", // a published ABN
		"51 824 753 557": "",
		"61 824 753 556": "",
		"5182475355":     "",
		"518247535566":   "",
		"51-824-753-556": "",
		"":               "",
	} {
		got, ok := normalizeABN(in)
		if ok != (want != "") || got != want {
			t.Errorf("normalizeABN(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

func TestDriverAccounts(t *testing.T) {
	e := newEnv(t)
	acc := e.account
	if !strings.HasPrefix(acc.ID, "acc_") || acc.Email != "driver@example.com" || acc.Currency != "AUD" || acc.Funding != "wallet" ||
		acc.Status != "active" || acc.Wallet == nil || *acc.Wallet != (Wallet{}) || acc.CardLast4 != nil {
		t.Errorf("account = %+v", acc)
	}
	// Money in the wallet, some of it held by a session.
	wallet := ledger.WalletAccount(acc.ID, "AUD")
	topUp, err := ledger.WalletTopUp(ledger.TopUpParams{Key: "topup:test", Reference: "test", Wallet: wallet, Provider: "sandbox", Amount: 5000})
	if err != nil {
		t.Fatal(err)
	}
	hold, err := ledger.Hold(ledger.HoldParams{Key: "hold:test", Reference: "test", Payment: "pay_test", Funding: wallet, Amount: 1200})
	if err != nil {
		t.Fatal(err)
	}
	for _, tx := range []ledger.Transaction{topUp, hold} {
		if _, err := e.st.PostLedger(e.ctx, tx); err != nil {
			t.Fatalf("PostLedger: %v", err)
		}
	}
	var got DriverAccount
	e.decode(e.mustDo("GET", "/api/v1/driver-accounts/"+acc.ID, e.admin, nil, 200), &got)
	if got.Wallet == nil || *got.Wallet != (Wallet{Balance: 5000, Available: 3800, Pending: 1200}) {
		t.Errorf("wallet = %+v", got.Wallet)
	}

	var card DriverAccount
	e.decode(e.mustDo("POST", "/api/v1/driver-accounts", e.admin, map[string]any{"email": "fleet@example.com", "currency": "AUD", "funding": "card"}, 201), &card)
	if card.Funding != "card" {
		t.Errorf("card account = %+v", card)
	}
	if all := e.listAll("/api/v1/driver-accounts", e.admin, 1, idKey); len(all) != 2 {
		t.Errorf("accounts = %v", all)
	}

	accPath := "/api/v1/driver-accounts/" + acc.ID
	e.run(t, []scenario{
		{name: "email missing", method: "POST", path: "/api/v1/driver-accounts", token: e.admin, body: map[string]any{"currency": "AUD"}, status: 400, code: codeInvalidRequest, msg: "email"},
		{name: "email invalid", method: "POST", path: "/api/v1/driver-accounts", token: e.admin, body: map[string]any{"email": "Driver <d@example.com>", "currency": "AUD"}, status: 400, code: codeInvalidRequest, msg: "email"},
		{name: "currency invalid", method: "POST", path: "/api/v1/driver-accounts", token: e.admin, body: map[string]any{"email": "d@example.com", "currency": "aud"}, status: 400, code: codeInvalidRequest, msg: "currency"},
		{name: "funding invalid", method: "POST", path: "/api/v1/driver-accounts", token: e.admin, body: map[string]any{"email": "d@example.com", "currency": "AUD", "funding": "cash"}, status: 400, code: codeInvalidRequest, msg: "funding"},
		{name: "unknown account", method: "GET", path: "/api/v1/driver-accounts/acc_nope", token: e.admin, status: 404, code: codeNotFound},
		{name: "operator token: list", method: "GET", path: "/api/v1/driver-accounts", token: e.a.token, status: 404, code: codeNotFound},
		{name: "operator token: get", method: "GET", path: accPath, token: e.a.token, status: 404, code: codeNotFound},
		{name: "operator token: create", method: "POST", path: "/api/v1/driver-accounts", token: e.a.token, body: map[string]any{"email": "d@example.com", "currency": "AUD"}, status: 404, code: codeNotFound},

		{name: "add a card", method: "POST", path: accPath + "/cards", token: e.admin, body: map[string]any{"id_token": "NC-CARD-2", "status": "Blocked"}, status: 201,
			check: func(t *testing.T, r *resp) {
				var c DriverCard
				e.decode(r, &c)
				if c.IDToken != "NC-CARD-2" || c.AccountID != acc.ID || c.Status != "Blocked" {
					t.Errorf("card = %+v", c)
				}
			}},
		{name: "change a card's status", method: "POST", path: accPath + "/cards", token: e.admin, body: map[string]any{"id_token": "nc-card-2"}, status: 201,
			check: func(t *testing.T, r *resp) {
				if c := e.object(r); c["status"] != "Accepted" {
					t.Errorf("card = %v", c)
				}
			}},
		{name: "another account's card", method: "POST", path: "/api/v1/driver-accounts/" + card.ID + "/cards", token: e.admin, body: map[string]any{"id_token": e.card}, status: 409, code: codeIDTokenExists},
		{name: "card token invalid", method: "POST", path: accPath + "/cards", token: e.admin, body: map[string]any{"id_token": "has space"}, status: 400, code: codeInvalidRequest, msg: "id_token"},
		{name: "card status invalid", method: "POST", path: accPath + "/cards", token: e.admin, body: map[string]any{"id_token": "X1", "status": "Expired"}, status: 400, code: codeInvalidRequest, msg: "status"},
		{name: "card of unknown account", method: "POST", path: "/api/v1/driver-accounts/acc_nope/cards", token: e.admin, body: map[string]any{"id_token": "X1"}, status: 404, code: codeNotFound},

		{name: "top-up", method: "POST", path: accPath + "/top-ups", token: e.admin, body: map[string]any{"amount": 2500, "success_url": "https://app.example/done"}, status: 201,
			check: func(t *testing.T, r *resp) {
				var tu TopUp
				e.decode(r, &tu)
				if !strings.HasPrefix(tu.PaymentID, "pay_") || !strings.HasPrefix(tu.CheckoutURL, "http://cs.test/pay/sandbox/") {
					t.Errorf("top-up = %+v", tu)
				}
				var p Payment
				e.decode(e.mustDo("GET", "/api/v1/payments/"+tu.PaymentID, e.admin, nil, 200), &p)
				if p.Purpose != "topup" || p.HoldAmount != 2500 || p.Currency != "AUD" || p.OperatorID != nil || p.State != "quote" {
					t.Errorf("top-up payment = %+v", p)
				}
			}},
		{name: "top-up of nothing", method: "POST", path: accPath + "/top-ups", token: e.admin, body: map[string]any{"amount": 0}, status: 400, code: codeInvalidRequest, msg: "amount"},
		{name: "top-up too large", method: "POST", path: accPath + "/top-ups", token: e.admin, body: map[string]any{"amount": 100_000_01}, status: 400, code: codeInvalidRequest, msg: "amount"},
		{name: "top-up with a bad URL", method: "POST", path: accPath + "/top-ups", token: e.admin, body: map[string]any{"amount": 100, "success_url": "javascript:alert(1)"}, status: 400, code: codeInvalidRequest, msg: "success_url"},
		{name: "top-up of a card account", method: "POST", path: "/api/v1/driver-accounts/" + card.ID + "/top-ups", token: e.admin, body: map[string]any{"amount": 100}, status: 409, code: codeAccountIneligible},
		{name: "operator token: top-up", method: "POST", path: accPath + "/top-ups", token: e.a.token, body: map[string]any{"amount": 100}, status: 404, code: codeNotFound},

		{name: "card setup", method: "POST", path: "/api/v1/driver-accounts/" + card.ID + "/card-setup", token: e.admin, status: 201,
			check: func(t *testing.T, r *resp) {
				var cs CardSetup
				e.decode(r, &cs)
				if !strings.HasPrefix(cs.CheckoutURL, "http://cs.test/pay/sandbox/") {
					t.Errorf("card setup = %+v", cs)
				}
			}},
		{name: "card setup with URLs", method: "POST", path: accPath + "/card-setup", token: e.admin, body: map[string]any{"success_url": "https://app.example/ok", "cancel_url": "https://app.example/no"}, status: 201},
		{name: "card setup with a bad URL", method: "POST", path: accPath + "/card-setup", token: e.admin, body: map[string]any{"cancel_url": "/relative"}, status: 400, code: codeInvalidRequest, msg: "cancel_url"},
	})
	cards := e.listAll(accPath+"/cards", e.admin, 1, keyOf("/cards"))
	if len(cards) != 2 || cards[0]["id_token"] != "NC-CARD-1" || cards[1]["id_token"] != "NC-CARD-2" {
		t.Errorf("cards = %v", cards)
	}
	if r := e.do("GET", accPath+"/cards", e.b.token, nil); r.status != 404 {
		t.Errorf("operator lists an account's cards: %s", r)
	}
	// A closed account cannot be topped up or set up.
	st, err := e.st.GetDriverAccount(e.ctx, acc.ID)
	if err != nil {
		t.Fatal(err)
	}
	st.Status = "closed"
	if _, err := e.st.SaveDriverAccount(e.ctx, st); err != nil {
		t.Fatal(err)
	}
	e.run(t, []scenario{
		{name: "closed: top-up", method: "POST", path: accPath + "/top-ups", token: e.admin, body: map[string]any{"amount": 100}, status: 409, code: codeAccountIneligible},
		{name: "closed: card setup", method: "POST", path: accPath + "/card-setup", token: e.admin, status: 409, code: codeAccountIneligible},
	})
}

// TestRefunds: a refund is recorded at once (202 pending) and listed; an
// amount beyond what was captured, or a payment not captured, is 409.
// (The provider call and the booking are sessionbilling's, tested there
// end to end.)
func TestRefunds(t *testing.T) {
	e := newEnv(t)
	a := e.a
	var ref Refund
	e.decode(e.mustDo("POST", "/api/v1/payments/"+a.payment.ID+"/refunds", a.token, map[string]any{"amount": 100, "reason": "requested_by_customer"}, 202), &ref)
	if ref.PaymentID != a.payment.ID || ref.Amount != 100 || ref.Tax != 9 || ref.State != "pending" || ref.Currency != "AUD" {
		t.Fatalf("refund = %+v", ref)
	}
	r := e.mustDo("POST", "/api/v1/payments/"+a.payment.ID+"/refunds", a.token, map[string]any{"amount": 400}, 409)
	if !bytes.Contains(r.body, []byte(codeNotRefundable)) {
		t.Errorf("over-refund: %s", r.body)
	}
	e.mustDo("POST", "/api/v1/payments/"+a.payment.ID+"/refunds", a.token, map[string]any{"reason": "because"}, 409)
	e.mustDo("POST", "/api/v1/payments/"+e.openPayment(a, "charging").ID+"/refunds", a.token, nil, 409)
	var list List[Refund]
	e.decode(e.mustDo("GET", "/api/v1/payments/"+a.payment.ID+"/refunds", a.token, nil, 200), &list)
	if len(list.Items) != 1 || list.Items[0].ID != ref.ID {
		t.Fatalf("refunds = %+v", list.Items)
	}
}

// TestStationQRSheet: the sticker sheet, PDF by default or PNG, one
// sticker per connector (or as many as asked), linking to the driver app.
func TestStationQRSheet(t *testing.T) {
	e := newEnv(t)
	a := e.a
	r := e.mustDo("GET", "/api/v1/stations/"+a.station+"/qr-sheet?connectors=2", a.token, nil, 200)
	if r.header.Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(r.body, []byte("%PDF-")) ||
		!strings.Contains(r.header.Get("Content-Disposition"), "qr-") {
		t.Fatalf("pdf: %v %q", r.header, r.body[:min(len(r.body), 16)])
	}
	r = e.mustDo("GET", "/api/v1/stations/"+a.station+"/qr-sheet?format=png", a.token, nil, 200)
	if r.header.Get("Content-Type") != "image/png" || !bytes.HasPrefix(r.body, []byte("\x89PNG")) {
		t.Fatalf("png: %v", r.header)
	}
	e.mustDo("GET", "/api/v1/stations/"+a.station+"/qr-sheet?format=gif", a.token, nil, 400)
	e.mustDo("GET", "/api/v1/stations/"+a.station+"/qr-sheet?connectors=0", a.token, nil, 400)
}

// TestRevenueReport: an operator's report shows its own settled session,
// as JSON and CSV; bad parameters are 400.
func TestRevenueReport(t *testing.T) {
	e := newEnv(t)
	a := e.a
	day := a.payment.SettledAt.In(time.UTC)
	from, to := day.AddDate(0, 0, -1).Format("2006-01-02"), day.AddDate(0, 0, 2).Format("2006-01-02")
	var rep RevenueReport
	e.decode(e.mustDo("GET", "/api/v1/reports/revenue?timezone=UTC&from="+from+"&to="+to, a.token, nil, 200), &rep)
	if rep.Totals.Sessions != 1 || rep.Totals.Gross != a.payment.AmountCaptured || rep.Totals.Tax != a.payment.AmountTax ||
		rep.Totals.Net != a.payment.AmountCaptured-a.payment.AmountTax || len(rep.Rows) != 1 {
		t.Fatalf("report: %+v (payment %+v)", rep, a.payment)
	}
	r := e.mustDo("GET", "/api/v1/reports/revenue?timezone=UTC&by=station&format=csv&from="+from+"&to="+to, a.token, nil, 200)
	if r.header.Get("Content-Type") != "text/csv; charset=utf-8" || !bytes.Contains(r.body, []byte("period_start,key,currency")) ||
		!bytes.Contains(r.body, []byte(a.station)) || !bytes.Contains(r.body, []byte("total,")) {
		t.Fatalf("csv: %s", r.body)
	}
	for _, q := range []string{"period=year", "by=planet", "format=xml", "from=2026-13-01", "timezone=Mars/Base", "from=2026-03-02&to=2026-03-01"} {
		e.mustDo("GET", "/api/v1/reports/revenue?"+q, a.token, nil, 400)
	}
}

// TestUsageReport: an operator's usage report counts its own sessions and
// their occupied time, as JSON and CSV.
func TestUsageReport(t *testing.T) {
	e := newEnv(t)
	a := e.a
	day := a.session.StartedAt.In(time.UTC)
	from, to := day.AddDate(0, 0, -1).Format("2006-01-02"), day.AddDate(0, 0, 2).Format("2006-01-02")
	var rep UsageReport
	e.decode(e.mustDo("GET", "/api/v1/reports/usage?timezone=UTC&from="+from+"&to="+to, a.token, nil, 200), &rep)
	sessions, occupied := 0, int64(0)
	for _, r := range rep.Rows {
		sessions += r.Sessions
		occupied += r.OccupiedSeconds
	}
	var heat int64
	for _, d := range rep.Heatmap {
		for _, m := range d {
			heat += m
		}
	}
	if sessions < 1 || occupied <= 0 || heat <= 0 {
		t.Fatalf("usage: %+v", rep)
	}
	r := e.mustDo("GET", "/api/v1/reports/usage?timezone=UTC&format=csv&from="+from+"&to="+to, a.token, nil, 200)
	if !bytes.Contains(r.body, []byte("period_start,key,sessions,energy_kwh,occupied_hours,utilisation_pct")) {
		t.Fatalf("csv: %s", r.body)
	}
	e.mustDo("GET", "/api/v1/reports/usage?period=hour", a.token, nil, 400)
}

// A site run by its own entity sells under its own name and ABN.
func TestReceiptUsesTheSitesSellerDetails(t *testing.T) {
	e := newEnv(t)
	a := e.a
	e.mustDo("PATCH", "/api/v1/operators/"+a.op.ID, a.token, map[string]any{"legal_name": "Alpha Parking Pty Ltd", "tax_id": "51824753556"}, 200)
	e.mustDo("PATCH", "/api/v1/sites/"+a.site.ID, a.token, map[string]any{"legal_name": "Wharf Car Park Trust", "tax_id": "53004085616"}, 200)
	html := e.mustDo("GET", "/api/v1/payments/"+a.payment.ID+"/receipt", a.token, nil, 200)
	for _, want := range []string{"Wharf Car Park Trust", "53 004 085 616"} {
		if !bytes.Contains(html.body, []byte(want)) {
			t.Errorf("the receipt lacks the site's %q", want)
		}
	}
	if bytes.Contains(html.body, []byte("51 824 753 556")) {
		t.Error("the receipt still shows the operator's ABN")
	}
}
