package api

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestCreateOperator(t *testing.T) {
	e := newEnv(t)
	valid := func(over map[string]any) map[string]any {
		b := map[string]any{"name": "Gamma Energy", "currency": "EUR", "country": "DE"}
		for k, v := range over {
			if v == nil {
				delete(b, k)
			} else {
				b[k] = v
			}
		}
		return b
	}
	e.run(t, []scenario{
		{name: "created", method: "POST", path: "/api/v1/operators", token: e.admin, body: valid(nil), status: 201,
			check: func(t *testing.T, r *resp) {
				var o Operator
				e.decode(r, &o)
				if !strings.HasPrefix(o.ID, "op_") || o.Name != "Gamma Energy" || o.Currency != "EUR" || o.Country != "DE" ||
					time.Since(o.CreatedAt) > time.Minute {
					t.Errorf("operator = %+v", o)
				}
				if loc := r.header.Get("Location"); loc != "/api/v1/operators/"+o.ID {
					t.Errorf("Location = %q", loc)
				}
				var got Operator
				e.decode(e.mustDo("GET", "/api/v1/operators/"+o.ID, e.admin, nil, 200), &got)
				if got != o {
					t.Errorf("GET = %+v, want %+v", got, o)
				}
			}},
		{name: "name trimmed", method: "POST", path: "/api/v1/operators", token: e.admin, body: valid(map[string]any{"name": "  Delta  "}), status: 201,
			check: func(t *testing.T, r *resp) {
				if o := e.object(r); o["name"] != "Delta" {
					t.Errorf("name = %q", o["name"])
				}
			}},
		{name: "name missing", method: "POST", path: "/api/v1/operators", token: e.admin, body: valid(map[string]any{"name": nil}), status: 400, code: codeInvalidRequest, msg: "name: is required"},
		{name: "name blank", method: "POST", path: "/api/v1/operators", token: e.admin, body: valid(map[string]any{"name": "   "}), status: 400, code: codeInvalidRequest, msg: "name"},
		{name: "name too long", method: "POST", path: "/api/v1/operators", token: e.admin, body: valid(map[string]any{"name": strings.Repeat("n", 201)}), status: 400, code: codeInvalidRequest, msg: "name"},
		{name: "currency lower case", method: "POST", path: "/api/v1/operators", token: e.admin, body: valid(map[string]any{"currency": "eur"}), status: 400, code: codeInvalidRequest, msg: "currency"},
		{name: "currency unknown", method: "POST", path: "/api/v1/operators", token: e.admin, body: valid(map[string]any{"currency": "ABC"}), status: 400, code: codeInvalidRequest, msg: "ISO 4217"},
		{name: "currency none", method: "POST", path: "/api/v1/operators", token: e.admin, body: valid(map[string]any{"currency": "XXX"}), status: 400, code: codeInvalidRequest, msg: "currency"},
		{name: "currency missing", method: "POST", path: "/api/v1/operators", token: e.admin, body: valid(map[string]any{"currency": nil}), status: 400, code: codeInvalidRequest, msg: "currency"},
		{name: "currency too long", method: "POST", path: "/api/v1/operators", token: e.admin, body: valid(map[string]any{"currency": "EURO"}), status: 400, code: codeInvalidRequest, msg: "currency"},
		{name: "country three letters", method: "POST", path: "/api/v1/operators", token: e.admin, body: valid(map[string]any{"country": "DEU"}), status: 400, code: codeInvalidRequest, msg: "country"},
		{name: "country unknown", method: "POST", path: "/api/v1/operators", token: e.admin, body: valid(map[string]any{"country": "ZZ"}), status: 400, code: codeInvalidRequest, msg: "country"},
		{name: "country lower case", method: "POST", path: "/api/v1/operators", token: e.admin, body: valid(map[string]any{"country": "de"}), status: 400, code: codeInvalidRequest, msg: "country"},
		{name: "other currencies", method: "POST", path: "/api/v1/operators", token: e.admin, body: valid(map[string]any{"currency": "JPY", "country": "JP"}), status: 201},
	})
}

func TestListAndGetOperators(t *testing.T) {
	e := newEnv(t)
	want := []string{e.a.op.ID, e.b.op.ID}
	for i := range 5 {
		var o Operator
		e.decode(e.mustDo("POST", "/api/v1/operators", e.admin, map[string]any{"name": fmt.Sprint("Op ", i), "currency": "NZD", "country": "NZ"}, 201), &o)
		want = append(want, o.ID)
	}
	slices.Sort(want)
	for _, limit := range []int{1, 2, 3, 100} {
		all := e.listAll("/api/v1/operators", e.admin, limit, idKey)
		var got []string
		for _, o := range all {
			got = append(got, o["id"].(string))
		}
		if !slices.Equal(got, want) {
			t.Errorf("limit %d: operators %v, want %v", limit, got, want)
		}
	}
	// An operator token lists only its own operator.
	all := e.listAll("/api/v1/operators", e.a.token, 10, idKey)
	if len(all) != 1 || all[0]["id"] != e.a.op.ID {
		t.Errorf("operator A lists %v", all)
	}
	e.run(t, []scenario{
		{name: "own operator", method: "GET", path: "/api/v1/operators/" + e.a.op.ID, token: e.a.token, status: 200},
		{name: "unknown operator", method: "GET", path: "/api/v1/operators/op_nope", token: e.admin, status: 404, code: codeNotFound},
		{name: "foreign operator", method: "GET", path: "/api/v1/operators/" + e.b.op.ID, token: e.a.token, status: 404, code: codeNotFound},
	})
}

func TestCreateAPIToken(t *testing.T) {
	e := newEnv(t)
	e.run(t, []scenario{
		{name: "admin for an operator", method: "POST", path: "/api/v1/operators/" + e.b.op.ID + "/tokens", token: e.admin, body: map[string]any{"name": "export"}, status: 201,
			check: func(t *testing.T, r *resp) {
				var tok NewAPIToken
				e.decode(r, &tok)
				if tok.OperatorID != e.b.op.ID || tok.Name != "export" {
					t.Errorf("token = %+v", tok)
				}
			}},
		{name: "own operator without body", method: "POST", path: "/api/v1/operators/" + e.a.op.ID + "/tokens", token: e.a.token, status: 201},
		{name: "own operator with empty object", method: "POST", path: "/api/v1/operators/" + e.a.op.ID + "/tokens", token: e.a.token, body: "{}", status: 201},
		{name: "name too long", method: "POST", path: "/api/v1/operators/" + e.a.op.ID + "/tokens", token: e.a.token, body: map[string]any{"name": strings.Repeat("x", 101)}, status: 400, code: codeInvalidRequest, msg: "name"},
		{name: "other operator", method: "POST", path: "/api/v1/operators/" + e.b.op.ID + "/tokens", token: e.a.token, status: 404, code: codeNotFound},
		{name: "unknown operator", method: "POST", path: "/api/v1/operators/op_nope/tokens", token: e.admin, status: 404, code: codeNotFound},
	})
}
