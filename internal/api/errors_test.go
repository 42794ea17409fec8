package api

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"strings"
	"testing"

	"github.com/chargestar/chargestar/internal/model"
	"github.com/chargestar/chargestar/internal/store"
)

func TestUnknownRoutesAndMethodsAnswerJSONErrors(t *testing.T) {
	e := newEnv(t)
	e.run(t, []scenario{
		{name: "unknown path", method: "GET", path: "/api/v1/nope", token: e.admin, status: 404, code: codeRouteNotFound},
		{name: "unknown path without token", method: "GET", path: "/api/v1/nope", status: 404, code: codeRouteNotFound},
		{name: "unknown nested path", method: "GET", path: "/api/v1/stations/" + e.a.station + "/nope", token: e.admin, status: 404, code: codeRouteNotFound},
		{name: "trailing slash", method: "GET", path: "/api/v1/stations/", token: e.admin, status: 404, code: codeRouteNotFound},
		{name: "wrong method", method: "DELETE", path: "/api/v1/stations", token: e.admin, status: 405, code: codeMethodNotAllowed,
			check: func(t *testing.T, r *resp) {
				if a := r.header.Get("Allow"); !strings.Contains(a, "GET") || !strings.Contains(a, "POST") {
					t.Errorf("Allow = %q", a)
				}
			}},
		{name: "wrong method without token", method: "PUT", path: "/api/v1/operators", status: 405, code: codeMethodNotAllowed},
		{name: "GET on a command", method: "GET", path: "/api/v1/stations/" + e.a.station + "/commands/Reset", token: e.admin, status: 405, code: codeMethodNotAllowed},
	})
}

// Every route with a JSON body rejects malformed JSON, non-objects,
// unknown fields and oversized bodies with the error shape.
func TestEveryBodyRouteRejectsBadJSON(t *testing.T) {
	e := newEnv(t)
	paths := map[string]string{ // documented path → a path the admin can reach
		"/api/v1/operators":                              "/api/v1/operators",
		"/api/v1/operators/{operatorId}/tokens":          "/api/v1/operators/" + e.a.op.ID + "/tokens",
		"/api/v1/sites":                                  "/api/v1/sites",
		"/api/v1/stations":                               "/api/v1/stations",
		"/api/v1/stations/{stationId}":                   "/api/v1/stations/" + e.a.station,
		"/api/v1/stations/{stationId}/commands/{action}": "/api/v1/stations/" + e.a.station + "/commands/Reset",
		"/api/v1/id-tokens":                              "/api/v1/id-tokens",
		"/api/v1/id-tokens/{idToken}":                    "/api/v1/id-tokens/" + e.a.idToken + "?operator_id=" + e.a.op.ID,
		"/api/v1/operators/{operatorId}":                 "/api/v1/operators/" + e.a.op.ID,
		"/api/v1/tariffs":                                "/api/v1/tariffs",
		"/api/v1/tariffs/{tariffId}":                     "/api/v1/tariffs/" + e.a.tariff.ID,
		"/api/v1/tariff-assignments":                     "/api/v1/tariff-assignments",
		"/api/v1/driver-accounts":                        "/api/v1/driver-accounts",
		"/api/v1/driver-accounts/{accountId}/cards":      "/api/v1/driver-accounts/" + e.account.ID + "/cards",
		"/api/v1/driver-accounts/{accountId}/top-ups":    "/api/v1/driver-accounts/" + e.account.ID + "/top-ups",
		"/api/v1/driver-accounts/{accountId}/card-setup": "/api/v1/driver-accounts/" + e.account.ID + "/card-setup",
		"/api/v1/payments/{paymentId}/refunds":           "/api/v1/payments/" + e.a.payment.ID + "/refunds",
	}
	for _, more := range []map[string]string{userBodyPaths(e), alertBodyPaths(e), tariffPreviewBodyPaths(e), networkBodyPaths(e)} {
		maps.Copy(paths, more)
	}
	for path, item := range e.doc.doc["paths"].(map[string]any) {
		for method, o := range item.(map[string]any) {
			if o.(map[string]any)["requestBody"] == nil {
				continue
			}
			target, ok := paths[path]
			if !ok {
				t.Errorf("%s %s has a body but no case here", method, path)
				continue
			}
			m := strings.ToUpper(method)
			isCommand := strings.Contains(path, "/commands/")
			cases := []scenario{
				{name: "malformed", body: `{"name":`, code: codeInvalidJSON, status: 400},
				{name: "not JSON", body: `hello`, code: codeInvalidJSON, status: 400},
				{name: "array", body: `[1,2]`, code: codeInvalidJSON, status: 400},
				{name: "trailing data", body: `{} {}`, code: codeInvalidJSON, status: 400},
				{name: "too large", body: `{"x":"` + strings.Repeat("a", maxBodyBytes) + `"}`, code: codeBodyTooLarge, status: 413},
			}
			if !isCommand {
				cases = append(cases,
					scenario{name: "unknown field", body: `{"no_such_field":1}`, code: codeInvalidJSON, status: 400, msg: `unknown field "no_such_field"`},
					scenario{name: "null", body: `null`, code: codeInvalidJSON, status: 400},
				)
			}
			for _, c := range cases {
				c.name = m + " " + path + " " + c.name
				c.method, c.path, c.token = m, target, e.admin
				e.run(t, []scenario{c})
			}
		}
	}
}

func TestWrongJSONTypeNamesTheField(t *testing.T) {
	e := newEnv(t)
	e.run(t, []scenario{
		{name: "number for a string", method: "POST", path: "/api/v1/operators", token: e.admin,
			body: `{"name":1,"currency":"EUR","country":"DE"}`, status: 400, code: codeInvalidJSON, msg: "name: expected a string"},
		{name: "string for a bool", method: "PATCH", path: "/api/v1/stations/" + e.a.station, token: e.admin,
			body: `{"retired":"yes"}`, status: 400, code: codeInvalidJSON, msg: "retired"},
		{name: "empty body where one is required", method: "POST", path: "/api/v1/sites", token: e.a.token,
			body: ``, status: 400, code: codeInvalidJSON, msg: "empty"},
	})
}

// panicStore panics on ListStations and fails ListSites with an internal error.
type panicStore struct{ Store }

func (panicStore) ListStations(context.Context, store.StationFilter) ([]model.Station, error) {
	panic("boom")
}

func (panicStore) ListSites(context.Context, string) ([]model.Site, error) {
	return nil, errors.New("disk on fire at /var/secret/path")
}

func TestInternalErrorsAreJSONAndHideDetails(t *testing.T) {
	e := newEnv(t, withStore(func(s Store) Store { return panicStore{s} }))
	e.run(t, []scenario{
		{name: "panic", method: "GET", path: "/api/v1/stations", token: e.admin, status: 500, code: codeInternal},
		{name: "store error", method: "GET", path: "/api/v1/sites", token: e.admin, status: 500, code: codeInternal,
			check: func(t *testing.T, r *resp) {
				if strings.Contains(string(r.body), "secret") {
					t.Errorf("internal detail leaked: %s", r.body)
				}
			}},
	})
	if !strings.Contains(e.logs.String(), "disk on fire") || !strings.Contains(e.logs.String(), "boom") {
		t.Errorf("the server log lacks the internal errors:\n%s", e.logs.String())
	}
}

func TestEveryRequestIsLogged(t *testing.T) {
	e := newEnv(t)
	before := len(e.logs.String())
	e.mustDo("GET", "/api/v1/stations/"+e.a.station, e.a.token, nil, 200)
	e.mustDo("GET", "/api/v1/stations/"+e.b.station, e.a.token, nil, 404)
	e.mustDo("GET", "/api/v1/nope", "", nil, 404)
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(e.logs.String()[before:]), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		if m["msg"] == "api request" {
			lines = append(lines, m)
		}
	}
	if len(lines) != 3 {
		t.Fatalf("got %d request log lines, want 3: %v", len(lines), lines)
	}
	want := []struct {
		route    string
		status   float64
		operator string
	}{
		{"GET /api/v1/stations/{stationId}", 200, e.a.op.ID},
		{"GET /api/v1/stations/{stationId}", 404, e.a.op.ID},
		{"unmatched", 404, ""},
	}
	for i, w := range want {
		l := lines[i]
		if l["method"] != "GET" || l["route"] != w.route || l["status"] != w.status || l["operator_id"] != w.operator {
			t.Errorf("log line %d = %v, want route %q status %v operator %q", i, l, w.route, w.status, w.operator)
		}
		if _, ok := l["duration"]; !ok {
			t.Errorf("log line %d has no duration: %v", i, l)
		}
	}
}

func TestQueryParameterErrors(t *testing.T) {
	e := newEnv(t)
	base := "/api/v1/stations?"
	e.run(t, []scenario{
		{name: "limit zero", method: "GET", path: base + "limit=0", token: e.admin, status: 400, code: codeInvalidParameter, msg: "limit"},
		{name: "limit too big", method: "GET", path: base + "limit=501", token: e.admin, status: 400, code: codeInvalidParameter},
		{name: "limit not a number", method: "GET", path: base + "limit=ten", token: e.admin, status: 400, code: codeInvalidParameter},
		{name: "malformed query", method: "GET", path: base + "cursor=%%%", token: e.admin, status: 400, code: codeInvalidParameter},
		{name: "cursor not base64", method: "GET", path: base + "cursor=!!!", token: e.admin, status: 400, code: codeInvalidParameter},
		{name: "message cursor not a position", method: "GET", path: "/api/v1/stations/" + e.a.station + "/messages?cursor=" + encodeCursor("abc"), token: e.admin, status: 400, code: codeInvalidParameter},
		{name: "status-event cursor not a position", method: "GET", path: "/api/v1/stations/" + e.a.station + "/status-events?cursor=" + encodeCursor("abc"), token: e.admin, status: 400, code: codeInvalidParameter},
		{name: "session cursor unknown", method: "GET", path: "/api/v1/sessions?cursor=" + encodeCursor("ses_nope"), token: e.admin, status: 400, code: codeInvalidParameter},
		{name: "meter-value cursor not a number", method: "GET", path: "/api/v1/sessions/" + e.a.session.ID + "/meter-values?cursor=" + encodeCursor("x"), token: e.admin, status: 400, code: codeInvalidParameter},
		{name: "session status", method: "GET", path: "/api/v1/sessions?status=running", token: e.admin, status: 400, code: codeInvalidParameter, msg: "status"},
		{name: "since", method: "GET", path: "/api/v1/stations/" + e.a.station + "/status-events?since=yesterday", token: e.admin, status: 400, code: codeInvalidParameter, msg: "since"},
		{name: "admin lists id tokens without operator", method: "GET", path: "/api/v1/id-tokens", token: e.admin, status: 400, code: codeInvalidParameter, msg: "operator_id"},
	})
}
