package api

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestCreateIDToken(t *testing.T) {
	e := newEnv(t)
	e.run(t, []scenario{
		{name: "contract fields", method: "POST", path: "/api/v1/id-tokens", token: e.admin,
			body: map[string]any{"id_token": "04A1B2C3", "operator_id": e.a.op.ID, "status": "Accepted"}, status: 201,
			check: func(t *testing.T, r *resp) {
				var tok IDToken
				e.decode(r, &tok)
				if tok.IDToken != "04A1B2C3" || tok.OperatorID != e.a.op.ID || tok.Status != "Accepted" || tok.ExpiresAt != nil || tok.ParentIDTag != nil {
					t.Errorf("token = %+v", tok)
				}
			}},
		{name: "operator token, blocked, expiry and parent", method: "POST", path: "/api/v1/id-tokens", token: e.a.token,
			body: map[string]any{"id_token": "FLEET-7", "status": "Blocked", "expires_at": "2027-01-31T10:00:00+10:00", "parent_id_tag": "FLEET"}, status: 201,
			check: func(t *testing.T, r *resp) {
				var tok IDToken
				e.decode(r, &tok)
				if tok.Status != "Blocked" || tok.ExpiresAt == nil || !tok.ExpiresAt.Equal(time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC)) ||
					tok.ParentIDTag == nil || *tok.ParentIDTag != "FLEET" || tok.OperatorID != e.a.op.ID {
					t.Errorf("token = %+v", tok)
				}
			}},
		{name: "status defaults to Accepted", method: "POST", path: "/api/v1/id-tokens", token: e.a.token, body: map[string]any{"id_token": "DEF"}, status: 201,
			check: func(t *testing.T, r *resp) {
				if s := e.object(r)["status"]; s != "Accepted" {
					t.Errorf("status = %v", s)
				}
			}},
		{name: "same value for another operator", method: "POST", path: "/api/v1/id-tokens", token: e.b.token, body: map[string]any{"id_token": "04A1B2C3"}, status: 201},
		{name: "duplicate", method: "POST", path: "/api/v1/id-tokens", token: e.a.token, body: map[string]any{"id_token": e.a.idToken}, status: 409, code: codeIDTokenExists},
		{name: "duplicate in another case", method: "POST", path: "/api/v1/id-tokens", token: e.a.token, body: map[string]any{"id_token": strings.ToLower(e.a.idToken)}, status: 409, code: codeIDTokenExists},
		{name: "status Expired not settable", method: "POST", path: "/api/v1/id-tokens", token: e.a.token, body: map[string]any{"id_token": "X1", "status": "Expired"}, status: 400, code: codeInvalidRequest, msg: "status"},
		{name: "bad expiry", method: "POST", path: "/api/v1/id-tokens", token: e.a.token, body: map[string]any{"id_token": "X1", "expires_at": "tomorrow"}, status: 400, code: codeInvalidRequest, msg: "expires_at"},
		{name: "missing value", method: "POST", path: "/api/v1/id-tokens", token: e.a.token, body: map[string]any{"status": "Accepted"}, status: 400, code: codeInvalidRequest, msg: "id_token"},
		{name: "too long", method: "POST", path: "/api/v1/id-tokens", token: e.a.token, body: map[string]any{"id_token": strings.Repeat("A", 37)}, status: 400, code: codeInvalidRequest, msg: "id_token"},
		{name: "space", method: "POST", path: "/api/v1/id-tokens", token: e.a.token, body: map[string]any{"id_token": "A B"}, status: 400, code: codeInvalidRequest, msg: "id_token"},
		{name: "bad parent", method: "POST", path: "/api/v1/id-tokens", token: e.a.token, body: map[string]any{"id_token": "X1", "parent_id_tag": "a b"}, status: 400, code: codeInvalidRequest, msg: "parent_id_tag"},
		{name: "another operator", method: "POST", path: "/api/v1/id-tokens", token: e.a.token, body: map[string]any{"id_token": "X1", "operator_id": e.b.op.ID}, status: 404, code: codeNotFound},
		{name: "admin without operator", method: "POST", path: "/api/v1/id-tokens", token: e.admin, body: map[string]any{"id_token": "X1"}, status: 400, code: codeInvalidRequest, msg: "operator_id"},
	})
}

func TestIDTokenReadAndChange(t *testing.T) {
	e := newEnv(t)
	// A value with URL-special characters, and a value both operators have.
	e.mustDo("POST", "/api/v1/id-tokens", e.a.token, map[string]any{"id_token": "a/b?c%d"}, 201)
	e.mustDo("POST", "/api/v1/id-tokens", e.a.token, map[string]any{"id_token": "SHARED"}, 201)
	e.mustDo("POST", "/api/v1/id-tokens", e.b.token, map[string]any{"id_token": "SHARED"}, 201)
	tokPath := "/api/v1/id-tokens/" + e.a.idToken
	e.run(t, []scenario{
		{name: "get", method: "GET", path: tokPath, token: e.a.token, status: 200},
		{name: "get case-insensitively", method: "GET", path: "/api/v1/id-tokens/" + strings.ToLower(e.a.idToken), token: e.a.token, status: 200,
			check: func(t *testing.T, r *resp) {
				if v := e.object(r)["id_token"]; v != e.a.idToken {
					t.Errorf("id_token = %v", v)
				}
			}},
		{name: "percent-encoded value", method: "GET", path: "/api/v1/id-tokens/" + url.PathEscape("a/b?c%d"), token: e.a.token, status: 200},
		{name: "block", method: "POST", path: tokPath + "/block", token: e.a.token, status: 200,
			check: func(t *testing.T, r *resp) {
				if s := e.object(e.mustDo("GET", tokPath, e.a.token, nil, 200))["status"]; s != "Blocked" {
					t.Errorf("status after block = %v", s)
				}
			}},
		{name: "patch back to Accepted", method: "PATCH", path: tokPath, token: e.a.token, body: map[string]any{"status": "Accepted"}, status: 200,
			check: func(t *testing.T, r *resp) {
				if s := e.object(r)["status"]; s != "Accepted" {
					t.Errorf("status = %v", s)
				}
			}},
		{name: "patch bad status", method: "PATCH", path: tokPath, token: e.a.token, body: map[string]any{"status": "Maybe"}, status: 400, code: codeInvalidRequest},
		{name: "patch without status", method: "PATCH", path: tokPath, token: e.a.token, body: map[string]any{}, status: 400, code: codeInvalidRequest, msg: "status"},
		{name: "patch other field", method: "PATCH", path: tokPath, token: e.a.token, body: map[string]any{"expires_at": "2030-01-01T00:00:00Z"}, status: 400, code: codeInvalidJSON},
		{name: "unknown", method: "GET", path: "/api/v1/id-tokens/NOPE", token: e.a.token, status: 404, code: codeNotFound},
		{name: "admin: unique without operator_id", method: "GET", path: tokPath, token: e.admin, status: 200},
		{name: "admin: ambiguous without operator_id", method: "GET", path: "/api/v1/id-tokens/SHARED", token: e.admin, status: 400, code: codeAmbiguousIDToken, msg: "operator_id"},
		{name: "admin: ambiguous with operator_id", method: "GET", path: "/api/v1/id-tokens/SHARED?operator_id=" + e.b.op.ID, token: e.admin, status: 200,
			check: func(t *testing.T, r *resp) {
				if op := e.object(r)["operator_id"]; op != e.b.op.ID {
					t.Errorf("operator = %v", op)
				}
			}},
		{name: "admin: block with operator_id", method: "POST", path: "/api/v1/id-tokens/SHARED/block?operator_id=" + e.b.op.ID, token: e.admin, status: 200},
		{name: "admin: unknown", method: "GET", path: "/api/v1/id-tokens/NOPE", token: e.admin, status: 404, code: codeNotFound},
		{name: "operator names its own operator", method: "GET", path: tokPath + "?operator_id=" + e.a.op.ID, token: e.a.token, status: 200},
	})
	// Blocking B's SHARED left A's alone.
	if s := e.object(e.mustDo("GET", "/api/v1/id-tokens/SHARED", e.a.token, nil, 200))["status"]; s != "Accepted" {
		t.Errorf("A's SHARED = %v", s)
	}
}

func TestListIDTokens(t *testing.T) {
	e := newEnv(t)
	want := []string{e.a.idToken}
	for i := range 6 {
		v := fmt.Sprintf("card-%d", i)
		if i%2 == 0 {
			v = strings.ToUpper(v)
		}
		want = append(want, v)
		e.mustDo("POST", "/api/v1/id-tokens", e.a.token, map[string]any{"id_token": v}, 201)
	}
	slices.SortFunc(want, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	key := func(m map[string]any) string { return m["id_token"].(string) }
	for _, limit := range []int{1, 2, 5, 100} {
		var got []string
		for _, it := range e.listAll("/api/v1/id-tokens", e.a.token, limit, key) {
			got = append(got, key(it))
		}
		if !slices.Equal(got, want) {
			t.Errorf("limit %d: %v, want %v", limit, got, want)
		}
	}
	if b := e.listAll("/api/v1/id-tokens?operator_id="+e.b.op.ID, e.admin, 10, key); len(b) != 1 || b[0]["id_token"] != e.b.idToken {
		t.Errorf("admin lists B's: %v", b)
	}
}
