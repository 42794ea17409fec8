package api

import (
	"fmt"
	"testing"
)

func TestCreateSite(t *testing.T) {
	e := newEnv(t)
	e.run(t, []scenario{
		{name: "operator token, default timezone", method: "POST", path: "/api/v1/sites", token: e.a.token,
			body: map[string]any{"name": "Car park 2", "address": "1 Main St"}, status: 201,
			check: func(t *testing.T, r *resp) {
				var s Site
				e.decode(r, &s)
				if s.OperatorID != e.a.op.ID || s.Timezone != "UTC" || s.Address != "1 Main St" || s.Name != "Car park 2" {
					t.Errorf("site = %+v", s)
				}
				var got Site
				e.decode(e.mustDo("GET", "/api/v1/sites/"+s.ID, e.a.token, nil, 200), &got)
				if got != s {
					t.Errorf("GET = %+v, want %+v", got, s)
				}
			}},
		{name: "admin names the operator", method: "POST", path: "/api/v1/sites", token: e.admin,
			body: map[string]any{"operator_id": e.b.op.ID, "name": "B2", "timezone": "Europe/Berlin"}, status: 201,
			check: func(t *testing.T, r *resp) {
				if s := e.object(r); s["operator_id"] != e.b.op.ID || s["timezone"] != "Europe/Berlin" {
					t.Errorf("site = %v", s)
				}
			}},
		{name: "operator names itself", method: "POST", path: "/api/v1/sites", token: e.a.token, body: map[string]any{"operator_id": e.a.op.ID, "name": "A3"}, status: 201},
		{name: "operator names another", method: "POST", path: "/api/v1/sites", token: e.a.token, body: map[string]any{"operator_id": e.b.op.ID, "name": "x"}, status: 404, code: codeNotFound},
		{name: "admin without operator", method: "POST", path: "/api/v1/sites", token: e.admin, body: map[string]any{"name": "x"}, status: 400, code: codeInvalidRequest, msg: "operator_id"},
		{name: "admin with unknown operator", method: "POST", path: "/api/v1/sites", token: e.admin, body: map[string]any{"operator_id": "op_nope", "name": "x"}, status: 404, code: codeNotFound},
		{name: "bad timezone", method: "POST", path: "/api/v1/sites", token: e.a.token, body: map[string]any{"name": "x", "timezone": "Mars/Olympus"}, status: 400, code: codeInvalidRequest, msg: "timezone"},
		{name: "Local is no timezone", method: "POST", path: "/api/v1/sites", token: e.a.token, body: map[string]any{"name": "x", "timezone": "Local"}, status: 400, code: codeInvalidRequest, msg: "timezone"},
		{name: "name missing", method: "POST", path: "/api/v1/sites", token: e.a.token, body: map[string]any{"address": "x"}, status: 400, code: codeInvalidRequest, msg: "name"},
		{name: "control character", method: "POST", path: "/api/v1/sites", token: e.a.token, body: map[string]any{"name": "a\u0007b"}, status: 400, code: codeInvalidRequest, msg: "name"},
	})
}

func TestListSites(t *testing.T) {
	e := newEnv(t)
	for i := range 4 {
		e.mustDo("POST", "/api/v1/sites", e.a.token, map[string]any{"name": fmt.Sprint("A-extra-", i)}, 201)
	}
	a := e.listAll("/api/v1/sites", e.a.token, 2, idKey)
	if len(a) != 5 {
		t.Errorf("operator A lists %d sites, want 5", len(a))
	}
	for _, s := range a {
		if s["operator_id"] != e.a.op.ID {
			t.Errorf("operator A sees %v", s)
		}
	}
	if all := e.listAll("/api/v1/sites", e.admin, 3, idKey); len(all) != 6 {
		t.Errorf("admin lists %d sites, want 6", len(all))
	}
	if bs := e.listAll("/api/v1/sites?operator_id="+e.b.op.ID, e.admin, 3, idKey); len(bs) != 1 || bs[0]["id"] != e.b.site.ID {
		t.Errorf("admin filtered to B lists %v", bs)
	}
	e.run(t, []scenario{
		{name: "filter by foreign operator", method: "GET", path: "/api/v1/sites?operator_id=" + e.b.op.ID, token: e.a.token, status: 404, code: codeNotFound},
		{name: "admin filter by unknown operator", method: "GET", path: "/api/v1/sites?operator_id=op_nope", token: e.admin, status: 404, code: codeNotFound},
		{name: "get foreign site", method: "GET", path: "/api/v1/sites/" + e.b.site.ID, token: e.a.token, status: 404, code: codeNotFound},
		{name: "get unknown site", method: "GET", path: "/api/v1/sites/site_nope", token: e.a.token, status: 404, code: codeNotFound},
		{name: "admin gets any site", method: "GET", path: "/api/v1/sites/" + e.b.site.ID, token: e.admin, status: 200},
	})
}
