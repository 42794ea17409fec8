package api

import (
	"crypto/sha256"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/chargestar/chargestar/internal/model"
)

// Every route but the two public ones answers 401 without a valid token,
// whatever the token's defect.
func TestEveryProtectedRouteNeedsAValidToken(t *testing.T) {
	e := newEnv(t)
	// A revoked token of operator A.
	var revoked NewAPIToken
	e.decode(e.mustDo("POST", "/api/v1/operators/"+e.a.op.ID+"/tokens", e.a.token, nil, 201), &revoked)
	e.mustDo("DELETE", "/api/v1/operators/"+e.a.op.ID+"/tokens/"+revoked.ID, e.admin, nil, 204)

	bad := map[string]func(*http.Request){
		"no header":        func(*http.Request) {},
		"empty bearer":     func(r *http.Request) { r.Header.Set("Authorization", "Bearer ") },
		"basic scheme":     func(r *http.Request) { r.Header.Set("Authorization", "Basic "+e.a.token) },
		"unknown cs_token": func(r *http.Request) { r.Header.Set("Authorization", "Bearer cs_"+strings.Repeat("A", 43)) },
		"garbage":          func(r *http.Request) { r.Header.Set("Authorization", "Bearer nonsense") },
		"admin token typo": func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+adminToken+"x") },
		"revoked":          func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+revoked.Token) },
	}
	for _, op := range e.doc.docOps() {
		method, path, _ := strings.Cut(op, " ")
		if path == "/api/v1/" || path == "/api/v1/openapi.json" {
			continue
		}
		for name, set := range bad {
			req := httptest.NewRequestWithContext(e.ctx, method, strings.ReplaceAll(concretePath(path), "x1", e.a.station), strings.NewReader("{}"))
			set(req)
			rec := httptest.NewRecorder()
			e.h.ServeHTTP(rec, req)
			r := &resp{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
			e.doc.check(t, req, r)
			if r.status != 401 || r.errorCode() != codeUnauthorized {
				t.Errorf("%s with %s: got %s, want 401 unauthorized", op, name, r)
			}
			if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s with %s: WWW-Authenticate = %q", op, name, r.header.Get("WWW-Authenticate"))
			}
		}
	}
	// The revoked token's answer does not say more than an unknown one's.
	r1 := e.do("GET", "/api/v1/stations", revoked.Token, nil)
	r2 := e.do("GET", "/api/v1/stations", "cs_"+strings.Repeat("B", 43), nil)
	if string(r1.body) != string(r2.body) {
		t.Errorf("revoked and unknown tokens answer differently: %s vs %s", r1, r2)
	}
}

func TestAPITokensAreRandomReturnedOnceAndStoredHashed(t *testing.T) {
	e := newEnv(t)
	format := regexp.MustCompile(`^cs_[A-Za-z0-9_-]{43}$`)
	seen := map[string]bool{}
	for range 5 {
		var tok NewAPIToken
		e.decode(e.mustDo("POST", "/api/v1/operators/"+e.a.op.ID+"/tokens", e.a.token, map[string]any{"name": "ci"}, 201), &tok)
		if !format.MatchString(tok.Token) {
			t.Fatalf("token %q does not look like cs_ + base64url(32 bytes)", tok.Token)
		}
		if seen[tok.Token] {
			t.Fatal("token repeated")
		}
		seen[tok.Token] = true
		if tok.OperatorID != e.a.op.ID || tok.Name != "ci" || !strings.HasPrefix(tok.ID, "tok_") {
			t.Errorf("token = %+v", tok)
		}
		sum := sha256.Sum256([]byte(tok.Token))
		stored, err := e.st.GetAPITokenByHash(e.ctx, sum[:])
		if err != nil || stored.ID != tok.ID || strings.Contains(string(stored.Hash), tok.Token) {
			t.Fatalf("stored token = %+v, %v", stored, err)
		}
		// The new token works and sees its operator.
		var ops List[Operator]
		e.decode(e.mustDo("GET", "/api/v1/operators", tok.Token, nil, 200), &ops)
		if len(ops.Items) != 1 || ops.Items[0].ID != e.a.op.ID {
			t.Errorf("operators seen by the new token = %+v", ops)
		}
	}
}

func TestAdministratorTokens(t *testing.T) {
	e := newEnv(t)
	// CHARGESTAR_ADMIN_TOKEN sees every operator.
	var ops List[Operator]
	e.decode(e.mustDo("GET", "/api/v1/operators", e.admin, nil, 200), &ops)
	if len(ops.Items) != 2 {
		t.Errorf("admin sees %d operators, want 2", len(ops.Items))
	}
	// A stored token without an operator is an administrator too.
	tok, hash := newAPIToken()
	if _, err := e.st.CreateAPIToken(e.ctx, model.APIToken{Name: "platform", Hash: hash}); err != nil {
		t.Fatal(err)
	}
	e.decode(e.mustDo("GET", "/api/v1/operators", tok, nil, 200), &ops)
	if len(ops.Items) != 2 {
		t.Errorf("stored admin token sees %d operators, want 2", len(ops.Items))
	}
	// An operator token may not create operators.
	e.run(t, []scenario{
		{name: "operator token cannot create operators", method: "POST", path: "/api/v1/operators", token: e.a.token,
			body: map[string]any{"name": "X", "currency": "EUR", "country": "DE"}, status: 403, code: codeForbidden},
	})
}

func TestNoAdministratorWhenAdminTokenUnset(t *testing.T) {
	e := newEnv(t)
	h := newHandler(Deps{Store: e.st, CSMS: e.svc}) // AdminToken ""
	for _, tok := range []string{"", " ", adminToken} {
		req := httptest.NewRequest("GET", "/api/v1/operators", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 401 {
			t.Errorf("token %q with no admin token configured: %d %s", tok, rec.Code, rec.Body)
		}
	}
}

func TestRevokedTokenStopsWorkingAtOnce(t *testing.T) {
	e := newEnv(t)
	var tok NewAPIToken
	e.decode(e.mustDo("POST", "/api/v1/operators/"+e.a.op.ID+"/tokens", e.a.token, nil, 201), &tok)
	e.mustDo("GET", "/api/v1/stations", tok.Token, nil, 200)
	// A token may revoke itself.
	e.mustDo("DELETE", "/api/v1/operators/"+e.a.op.ID+"/tokens/"+tok.ID, tok.Token, nil, 204)
	e.run(t, []scenario{
		{name: "revoked token", method: "GET", path: "/api/v1/stations", token: tok.Token, status: 401, code: codeUnauthorized},
		{name: "revoking again succeeds", method: "DELETE", path: "/api/v1/operators/" + e.a.op.ID + "/tokens/" + tok.ID, token: e.admin, status: 204},
		{name: "unknown token id", method: "DELETE", path: "/api/v1/operators/" + e.a.op.ID + "/tokens/tok_nope", token: e.a.token, status: 404, code: codeNotFound},
		{name: "token of B through A's path", method: "DELETE", path: "/api/v1/operators/" + e.a.op.ID + "/tokens/" + e.b.tokenID, token: e.admin, status: 404, code: codeNotFound},
		{name: "other tokens still work", method: "GET", path: "/api/v1/stations", token: e.a.token, status: 200},
	})
	// B's token was not revoked through A's path.
	e.mustDo("GET", "/api/v1/stations", e.b.token, nil, 200)
}
