package api

import (
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"testing"
)

// probe is one attempt by operator A on operator B's resources.
type probe struct {
	method, path string
	body         any
	status       int    // 404 unless an admin-only route (403)
	unknownPath  string // the same request with an unknown id: the answer must be identical up to the id
	foreignID    string // the foreign id in path, replaced for the comparison
	unknownID    string
}

// TestTenantIsolationOnEveryRoute tries every documented operation with
// operator A's token against operator B's resources: each answers 404
// (403 for the administrator-only route), indistinguishable from an
// unknown id, and lists never show B's resources.
func TestTenantIsolationOnEveryRoute(t *testing.T) {
	e := newEnv(t)
	a, b := e.a, e.b
	st := "/api/v1/stations/"
	bOpen := e.openPayment(b, "authorized")
	var topUp TopUp
	e.decode(e.mustDo("POST", "/api/v1/driver-accounts/"+e.account.ID+"/top-ups", e.admin, map[string]any{"amount": 2000}, 201), &topUp)
	tariffBody := map[string]any{"name": "Evil", "tariff": json.RawMessage(testTariff)}
	acc := "/api/v1/driver-accounts/"
	probes := map[string][]probe{
		"GET /api/v1/":             nil, // public, nothing tenant-owned
		"GET /api/v1/openapi.json": nil,
		"POST /api/v1/operators": {
			{method: "POST", path: "/api/v1/operators", body: map[string]any{"name": "Evil", "currency": "EUR", "country": "DE"}, status: 403},
		},
		"GET /api/v1/operators": nil, // no filter to abuse; the list is checked below
		"GET /api/v1/operators/{operatorId}": {
			{method: "GET", path: "/api/v1/operators/" + b.op.ID, unknownPath: "/api/v1/operators/op_nope", foreignID: b.op.ID, unknownID: "op_nope"},
		},
		"POST /api/v1/operators/{operatorId}/tokens": {
			{method: "POST", path: "/api/v1/operators/" + b.op.ID + "/tokens", unknownPath: "/api/v1/operators/op_nope/tokens", foreignID: b.op.ID, unknownID: "op_nope"},
		},
		"DELETE /api/v1/operators/{operatorId}/tokens/{tokenId}": {
			{method: "DELETE", path: "/api/v1/operators/" + b.op.ID + "/tokens/" + b.tokenID, unknownPath: "/api/v1/operators/op_nope/tokens/" + b.tokenID, foreignID: b.op.ID, unknownID: "op_nope"},
			{method: "DELETE", path: "/api/v1/operators/" + a.op.ID + "/tokens/" + b.tokenID, unknownPath: "/api/v1/operators/" + a.op.ID + "/tokens/tok_nope", foreignID: b.tokenID, unknownID: "tok_nope"},
		},
		"POST /api/v1/sites": {
			{method: "POST", path: "/api/v1/sites", body: map[string]any{"operator_id": b.op.ID, "name": "Evil"}},
		},
		"GET /api/v1/sites": {
			{method: "GET", path: "/api/v1/sites?operator_id=" + b.op.ID},
		},
		"GET /api/v1/sites/{siteId}": {
			{method: "GET", path: "/api/v1/sites/" + b.site.ID, unknownPath: "/api/v1/sites/site_nope", foreignID: b.site.ID, unknownID: "site_nope"},
		},
		"POST /api/v1/stations": {
			{method: "POST", path: "/api/v1/stations", body: map[string]any{"id": "EVIL-1", "operator_id": b.op.ID}},
			{method: "POST", path: "/api/v1/stations", body: map[string]any{"id": "EVIL-2", "site_id": b.site.ID}},
		},
		"GET /api/v1/stations": {
			{method: "GET", path: "/api/v1/stations?operator_id=" + b.op.ID},
			{method: "GET", path: "/api/v1/stations?site_id=" + b.site.ID},
		},
		"GET /api/v1/stations/{stationId}": {
			{method: "GET", path: st + b.station, unknownPath: st + "CS-NOPE", foreignID: b.station, unknownID: "CS-NOPE"},
		},
		"PATCH /api/v1/stations/{stationId}": {
			{method: "PATCH", path: st + b.station, body: map[string]any{"retired": true}, unknownPath: st + "CS-NOPE", foreignID: b.station, unknownID: "CS-NOPE"},
			{method: "PATCH", path: st + a.idle, body: map[string]any{"site_id": b.site.ID}},
		},
		"GET /api/v1/stations/{stationId}/messages": {
			{method: "GET", path: st + b.station + "/messages", unknownPath: st + "CS-NOPE/messages", foreignID: b.station, unknownID: "CS-NOPE"},
		},
		"GET /api/v1/stations/{stationId}/status-events": {
			{method: "GET", path: st + b.station + "/status-events", unknownPath: st + "CS-NOPE/status-events", foreignID: b.station, unknownID: "CS-NOPE"},
		},
		"GET /api/v1/stations/{stationId}/variables": {
			{method: "GET", path: st + b.station + "/variables", unknownPath: st + "CS-NOPE/variables", foreignID: b.station, unknownID: "CS-NOPE"},
		},
		"GET /api/v1/stations/{stationId}/events": {
			{method: "GET", path: st + b.station + "/events", unknownPath: st + "CS-NOPE/events", foreignID: b.station, unknownID: "CS-NOPE"},
		},
		"POST /api/v1/stations/{stationId}/commands/{action}": {
			{method: "POST", path: st + b.station + "/commands/Reset", body: `{"type":"Hard"}`, unknownPath: st + "CS-NOPE/commands/Reset", foreignID: b.station, unknownID: "CS-NOPE"},
			{method: "POST", path: st + b.idle + "/commands/Reset", body: `{"type":"Hard"}`, unknownPath: st + "CS-NOPE/commands/Reset", foreignID: b.idle, unknownID: "CS-NOPE"},
		},
		"POST /api/v1/id-tokens": {
			{method: "POST", path: "/api/v1/id-tokens", body: map[string]any{"id_token": "EVIL", "operator_id": b.op.ID}},
		},
		"GET /api/v1/id-tokens": {
			{method: "GET", path: "/api/v1/id-tokens?operator_id=" + b.op.ID},
		},
		"GET /api/v1/id-tokens/{idToken}": {
			{method: "GET", path: "/api/v1/id-tokens/" + b.idToken, unknownPath: "/api/v1/id-tokens/NOPE", foreignID: b.idToken, unknownID: "NOPE"},
			{method: "GET", path: "/api/v1/id-tokens/" + b.idToken + "?operator_id=" + b.op.ID, unknownPath: "/api/v1/id-tokens/NOPE", foreignID: b.idToken, unknownID: "NOPE"},
		},
		"PATCH /api/v1/id-tokens/{idToken}": {
			{method: "PATCH", path: "/api/v1/id-tokens/" + b.idToken, body: map[string]any{"status": "Blocked"}, unknownPath: "/api/v1/id-tokens/NOPE", foreignID: b.idToken, unknownID: "NOPE"},
			{method: "PATCH", path: "/api/v1/id-tokens/" + b.idToken + "?operator_id=" + b.op.ID, body: map[string]any{"status": "Blocked"}},
		},
		"POST /api/v1/id-tokens/{idToken}/block": {
			{method: "POST", path: "/api/v1/id-tokens/" + b.idToken + "/block", unknownPath: "/api/v1/id-tokens/NOPE/block", foreignID: b.idToken, unknownID: "NOPE"},
			{method: "POST", path: "/api/v1/id-tokens/" + b.idToken + "/block?operator_id=" + b.op.ID},
		},
		"GET /api/v1/sessions": {
			{method: "GET", path: "/api/v1/sessions?operator_id=" + b.op.ID},
			{method: "GET", path: "/api/v1/sessions?station_id=" + b.station, unknownPath: "/api/v1/sessions?station_id=CS-NOPE", foreignID: b.station, unknownID: "CS-NOPE"},
		},
		"GET /api/v1/sessions/{sessionId}": {
			{method: "GET", path: "/api/v1/sessions/" + b.session.ID, unknownPath: "/api/v1/sessions/ses_nope", foreignID: b.session.ID, unknownID: "ses_nope"},
			{method: "GET", path: "/api/v1/sessions/" + b.active.ID, unknownPath: "/api/v1/sessions/ses_nope", foreignID: b.active.ID, unknownID: "ses_nope"},
		},
		"GET /api/v1/sessions/{sessionId}/meter-values": {
			{method: "GET", path: "/api/v1/sessions/" + b.active.ID + "/meter-values", unknownPath: "/api/v1/sessions/ses_nope/meter-values", foreignID: b.active.ID, unknownID: "ses_nope"},
		},
		"GET /api/v1/sessions/{sessionId}/receipt": {
			{method: "GET", path: "/api/v1/sessions/" + b.session.ID + "/receipt", unknownPath: "/api/v1/sessions/ses_nope/receipt", foreignID: b.session.ID, unknownID: "ses_nope"},
			{method: "GET", path: "/api/v1/sessions/" + b.session.ID + "/receipt?format=pdf", unknownPath: "/api/v1/sessions/ses_nope/receipt?format=pdf", foreignID: b.session.ID, unknownID: "ses_nope"},
		},
		"PATCH /api/v1/operators/{operatorId}": {
			{method: "PATCH", path: "/api/v1/operators/" + b.op.ID, body: map[string]any{"name": "Evil"}, unknownPath: "/api/v1/operators/op_nope", foreignID: b.op.ID, unknownID: "op_nope"},
		},

		"POST /api/v1/tariffs": {
			{method: "POST", path: "/api/v1/tariffs", body: map[string]any{"operator_id": b.op.ID, "name": "Evil", "tariff": json.RawMessage(testTariff)}},
		},
		"GET /api/v1/tariffs": {
			{method: "GET", path: "/api/v1/tariffs?operator_id=" + b.op.ID},
		},
		"GET /api/v1/tariffs/{tariffId}": {
			{method: "GET", path: "/api/v1/tariffs/" + b.tariff.ID, unknownPath: "/api/v1/tariffs/trf_nope", foreignID: b.tariff.ID, unknownID: "trf_nope"},
		},
		"PUT /api/v1/tariffs/{tariffId}": {
			{method: "PUT", path: "/api/v1/tariffs/" + b.tariff.ID, body: tariffBody, unknownPath: "/api/v1/tariffs/trf_nope", foreignID: b.tariff.ID, unknownID: "trf_nope"},
		},
		"DELETE /api/v1/tariffs/{tariffId}": {
			{method: "DELETE", path: "/api/v1/tariffs/" + b.tariff.ID, unknownPath: "/api/v1/tariffs/trf_nope", foreignID: b.tariff.ID, unknownID: "trf_nope"},
		},
		"PUT /api/v1/tariff-assignments": {
			{method: "PUT", path: "/api/v1/tariff-assignments", body: map[string]any{"operator_id": b.op.ID, "scope": "operator", "tariff_id": b.tariff.ID}},
			{method: "PUT", path: "/api/v1/tariff-assignments", body: map[string]any{"scope": "operator", "tariff_id": b.tariff.ID}},
			{method: "PUT", path: "/api/v1/tariff-assignments", body: map[string]any{"scope": "station", "scope_id": b.station, "tariff_id": a.tariff.ID}},
			{method: "PUT", path: "/api/v1/tariff-assignments", body: map[string]any{"scope": "site", "scope_id": b.site.ID, "tariff_id": a.tariff.ID}},
		},
		"GET /api/v1/tariff-assignments": {
			{method: "GET", path: "/api/v1/tariff-assignments?operator_id=" + b.op.ID},
		},
		"DELETE /api/v1/tariff-assignments": {
			{method: "DELETE", path: "/api/v1/tariff-assignments?scope=operator&operator_id=" + b.op.ID, unknownPath: "/api/v1/tariff-assignments?scope=operator&operator_id=op_nope", foreignID: b.op.ID, unknownID: "op_nope"},
			{method: "DELETE", path: "/api/v1/tariff-assignments?scope=station&scope_id=" + b.station, unknownPath: "/api/v1/tariff-assignments?scope=station&scope_id=CS-NOPE", foreignID: b.station, unknownID: "CS-NOPE"},
		},
		"GET /api/v1/stations/{stationId}/qr-sheet": {
			{method: "GET", path: st + b.station + "/qr-sheet", unknownPath: st + "CS-NOPE/qr-sheet", foreignID: b.station, unknownID: "CS-NOPE"},
		},
		"GET /api/v1/stations/{stationId}/tariff": {
			{method: "GET", path: st + b.station + "/tariff", unknownPath: st + "CS-NOPE/tariff", foreignID: b.station, unknownID: "CS-NOPE"},
		},

		"GET /api/v1/payments": {
			{method: "GET", path: "/api/v1/payments?operator_id=" + b.op.ID},
		},
		"GET /api/v1/reports/revenue": {
			{method: "GET", path: "/api/v1/reports/revenue?operator_id=" + b.op.ID},
		},
		"GET /api/v1/reports/usage": {
			{method: "GET", path: "/api/v1/reports/usage?operator_id=" + b.op.ID},
		},
		"GET /api/v1/payments/{paymentId}": {
			{method: "GET", path: "/api/v1/payments/" + b.payment.ID, unknownPath: "/api/v1/payments/pay_nope", foreignID: b.payment.ID, unknownID: "pay_nope"},
			{method: "GET", path: "/api/v1/payments/" + topUp.PaymentID, unknownPath: "/api/v1/payments/pay_nope", foreignID: topUp.PaymentID, unknownID: "pay_nope"},
		},
		"POST /api/v1/payments/{paymentId}/stop": {
			{method: "POST", path: "/api/v1/payments/" + bOpen.ID + "/stop", unknownPath: "/api/v1/payments/pay_nope/stop", foreignID: bOpen.ID, unknownID: "pay_nope"},
			{method: "POST", path: "/api/v1/payments/" + topUp.PaymentID + "/stop", unknownPath: "/api/v1/payments/pay_nope/stop", foreignID: topUp.PaymentID, unknownID: "pay_nope"},
		},
		"POST /api/v1/payments/{paymentId}/refunds": {
			{method: "POST", path: "/api/v1/payments/" + b.payment.ID + "/refunds", body: `{"amount":1}`, unknownPath: "/api/v1/payments/pay_nope/refunds", foreignID: b.payment.ID, unknownID: "pay_nope"},
		},
		"GET /api/v1/payments/{paymentId}/refunds": {
			{method: "GET", path: "/api/v1/payments/" + b.payment.ID + "/refunds", unknownPath: "/api/v1/payments/pay_nope/refunds", foreignID: b.payment.ID, unknownID: "pay_nope"},
		},
		"GET /api/v1/payments/{paymentId}/receipt": {
			{method: "GET", path: "/api/v1/payments/" + b.payment.ID + "/receipt", unknownPath: "/api/v1/payments/pay_nope/receipt", foreignID: b.payment.ID, unknownID: "pay_nope"},
		},

		// Driver accounts are the platform's: to an operator they do not exist.
		"POST /api/v1/driver-accounts": {
			{method: "POST", path: "/api/v1/driver-accounts", body: map[string]any{"email": "evil@example.com", "currency": "AUD"}},
		},
		"GET /api/v1/driver-accounts": {
			{method: "GET", path: "/api/v1/driver-accounts"},
		},
		"GET /api/v1/driver-accounts/{accountId}": {
			{method: "GET", path: acc + e.account.ID, unknownPath: acc + "acc_nope", foreignID: e.account.ID, unknownID: "acc_nope"},
		},
		"POST /api/v1/driver-accounts/{accountId}/cards": {
			{method: "POST", path: acc + e.account.ID + "/cards", body: map[string]any{"id_token": "EVIL"}, unknownPath: acc + "acc_nope/cards", foreignID: e.account.ID, unknownID: "acc_nope"},
		},
		"GET /api/v1/driver-accounts/{accountId}/cards": {
			{method: "GET", path: acc + e.account.ID + "/cards", unknownPath: acc + "acc_nope/cards", foreignID: e.account.ID, unknownID: "acc_nope"},
		},
		"POST /api/v1/driver-accounts/{accountId}/top-ups": {
			{method: "POST", path: acc + e.account.ID + "/top-ups", body: map[string]any{"amount": 100}, unknownPath: acc + "acc_nope/top-ups", foreignID: e.account.ID, unknownID: "acc_nope"},
		},
		"POST /api/v1/driver-accounts/{accountId}/card-setup": {
			{method: "POST", path: acc + e.account.ID + "/card-setup", unknownPath: acc + "acc_nope/card-setup", foreignID: e.account.ID, unknownID: "acc_nope"},
		},
	}
	// The console's concerns keep their probes beside their tests.
	for _, more := range []map[string][]probe{userProbes(e), liveProbes(e), alertProbes(e), statusReportProbes(e), tariffPreviewProbes(e), networkProbes(e)} {
		maps.Copy(probes, more)
	}

	for _, op := range e.doc.docOps() {
		ps, ok := probes[op]
		if !ok {
			t.Errorf("%s: no tenancy probe; add one", op)
			continue
		}
		for _, p := range ps {
			want := p.status
			if want == 0 {
				want = 404
			}
			r := e.do(p.method, p.path, a.token, p.body)
			if r.status != want {
				t.Errorf("%s %s with A's token: got %s, want %d", p.method, p.path, r, want)
				continue
			}
			if want == 404 && r.errorCode() != codeNotFound {
				t.Errorf("%s %s: code %q, want not_found", p.method, p.path, r.errorCode())
			}
			if p.unknownPath != "" {
				u := e.do(p.method, p.unknownPath, a.token, p.body)
				fb := strings.ReplaceAll(string(r.body), p.foreignID, "ID")
				ub := strings.ReplaceAll(string(u.body), p.unknownID, "ID")
				if u.status != r.status || fb != ub {
					t.Errorf("%s %s: foreign and unknown answers differ:\n foreign: %s\n unknown: %s", p.method, p.path, r, u)
				}
			}
		}
	}
	for op := range probes {
		found := false
		for _, d := range e.doc.docOps() {
			found = found || d == op
		}
		if !found {
			t.Errorf("probe for undocumented operation %s", op)
		}
	}

	// Lists with A's token never show B's resources.
	for _, path := range []string{"/api/v1/operators", "/api/v1/sites", "/api/v1/stations", "/api/v1/id-tokens", "/api/v1/sessions",
		"/api/v1/tariffs", "/api/v1/tariff-assignments", "/api/v1/payments"} {
		for _, it := range e.listAll(path, a.token, 100, keyOf(path)) {
			owner := it["operator_id"]
			if path == "/api/v1/operators" {
				owner = it["id"]
			}
			if owner != a.op.ID {
				t.Errorf("%s with A's token lists %v", path, it)
			}
		}
	}

	// Nothing of B changed, and nothing was created for B.
	e.mustDo("GET", "/api/v1/operators/"+b.op.ID, b.token, nil, 200) // B's token still works
	if s := e.object(e.mustDo("GET", "/api/v1/stations/"+b.station, b.token, nil, 200)); s["retired_at"] != nil {
		t.Error("B's station was retired")
	}
	if s := e.object(e.mustDo("GET", "/api/v1/id-tokens/"+b.idToken, b.token, nil, 200)); s["status"] != "Accepted" {
		t.Error("B's id token was blocked")
	}
	if s := e.object(e.mustDo("GET", "/api/v1/stations/"+a.idle, a.token, nil, 200)); s["site_id"] != nil {
		t.Error("A's station was put on B's site")
	}
	for _, path := range []string{"/api/v1/sites", "/api/v1/stations", "/api/v1/id-tokens?operator_id=" + b.op.ID, "/api/v1/operators"} {
		for _, it := range e.listAll(path, e.admin, 100, keyOf(path)) {
			if it["name"] == "Evil" || strings.HasPrefix(keyOf(path)(it), "EVIL") {
				t.Errorf("A created %v", it)
			}
		}
	}
	if calls := b.fake.Calls(); len(calls) != 0 {
		t.Errorf("B's station received %v", calls)
	}
	if o := e.object(e.mustDo("GET", "/api/v1/operators/"+b.op.ID, b.token, nil, 200)); o["name"] != b.op.Name {
		t.Errorf("B's operator was renamed: %v", o)
	}
	if tr := e.object(e.mustDo("GET", "/api/v1/tariffs/"+b.tariff.ID, b.token, nil, 200)); tr["name"] != b.tariff.Name {
		t.Errorf("B's tariff was changed: %v", tr)
	}
	for _, it := range e.listAll("/api/v1/tariff-assignments?operator_id="+b.op.ID, e.admin, 100, keyOf("/api/v1/tariff-assignments")) {
		if it["tariff_id"] != b.tariff.ID {
			t.Errorf("B's assignment changed: %v", it)
		}
	}
	if got := e.object(e.mustDo("GET", "/api/v1/stations/"+b.station+"/tariff", b.token, nil, 200)); got["tariff_id"] != b.tariff.ID || got["scope"] != "operator" {
		t.Errorf("B's station tariff = %v", got)
	}
	if p := e.object(e.mustDo("GET", "/api/v1/payments/"+bOpen.ID, b.token, nil, 200)); p["state"] != "authorized" {
		t.Errorf("B's payment was stopped: %v", p)
	}
	if p := e.object(e.mustDo("GET", "/api/v1/payments/"+topUp.PaymentID, e.admin, nil, 200)); p["state"] != "quote" {
		t.Errorf("the top-up was touched: %v", p)
	}
	for _, it := range e.listAll("/api/v1/driver-accounts", e.admin, 100, idKey) {
		if it["email"] == "evil@example.com" {
			t.Errorf("A created %v", it)
		}
	}
	if cards := e.listAll("/api/v1/driver-accounts/"+e.account.ID+"/cards", e.admin, 100, keyOf("/cards")); len(cards) != 1 {
		t.Errorf("the account has cards %v", cards)
	}
}

// keyOf returns the identifying field of a list's items.
func keyOf(path string) func(map[string]any) string {
	if strings.HasPrefix(path, "/api/v1/id-tokens") || strings.HasSuffix(path, "/cards") {
		return func(m map[string]any) string { return m["id_token"].(string) }
	}
	if strings.HasPrefix(path, "/api/v1/tariff-assignments") {
		return func(m map[string]any) string {
			return fmt.Sprint(m["operator_id"], " ", m["scope"], " ", m["scope_id"])
		}
	}
	return idKey
}
