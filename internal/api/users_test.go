package api

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chargestar/chargestar/internal/access"
	"github.com/chargestar/chargestar/internal/store"
)

// userProbes: operator A's owner token on operator B's users.
func userProbes(e *env) map[string][]probe {
	var bUser User
	e.decode(e.mustDo("POST", "/api/v1/users", e.b.token, map[string]any{"email": "owner@beta.example", "role": "owner", "password": "beta-password-1"}, 201), &bUser)
	u := "/api/v1/users/"
	return map[string][]probe{
		"GET /api/v1/me":           nil, // answers only about the caller
		"POST /api/v1/me/password": nil,
		"POST /api/v1/users": {
			{method: "POST", path: "/api/v1/users", body: map[string]any{"operator_id": e.b.op.ID, "email": "evil@example.com", "role": "owner", "password": "evil-password-1"}},
			{method: "POST", path: "/api/v1/users", body: map[string]any{"email": "evil2@example.com", "role": "admin", "password": "evil-password-1"}, status: 400},
		},
		"GET /api/v1/users": {{method: "GET", path: "/api/v1/users?operator_id=" + e.b.op.ID}},
		"GET /api/v1/users/{userId}": {
			{method: "GET", path: u + bUser.ID, unknownPath: u + "usr_nope", foreignID: bUser.ID, unknownID: "usr_nope"},
		},
		"PATCH /api/v1/users/{userId}": {
			{method: "PATCH", path: u + bUser.ID, body: map[string]any{"disabled": true}, unknownPath: u + "usr_nope", foreignID: bUser.ID, unknownID: "usr_nope"},
		},
	}
}

func userBodyPaths(e *env) map[string]string {
	var u User
	e.decode(e.mustDo("POST", "/api/v1/users", e.admin, map[string]any{"operator_id": e.a.op.ID, "email": "body@alpha.example", "role": "technician", "password": "alpha-password-1"}, 201), &u)
	return map[string]string{"/api/v1/users": "/api/v1/users", "/api/v1/users/{userId}": "/api/v1/users/" + u.ID, "/api/v1/me/password": "/api/v1/me/password"}
}

// signInAs makes a console session for a new user of role at operator
// opID and returns its cookie value and CSRF token.
func (e *env) signInAs(opID string, role access.Role) (cookie, csrf string) {
	e.t.Helper()
	email := strings.ToLower(string(role)) + "-" + newToken()[:8] + "@example.com"
	body := map[string]any{"email": email, "role": string(role), "password": "a-long-password"}
	if role != access.Admin {
		body["operator_id"] = opID
	}
	var u User
	e.decode(e.mustDo("POST", "/api/v1/users", e.admin, body, 201), &u)
	stored, err := e.st.GetUser(e.ctx, "", u.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	cookie, csrf = newToken(), newToken()
	if err := e.st.CreateConsoleSession(e.ctx, store.ConsoleSession{Hash: hashToken(cookie), User: stored, CSRFToken: csrf,
		ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		e.t.Fatal(err)
	}
	return cookie, csrf
}

func newToken() string { t, _ := newAPIToken(); return strings.TrimPrefix(t, tokenPrefix) }

func (e *env) doCookie(method, path, cookie, csrf string, body string) *http.Response {
	e.t.Helper()
	req, _ := http.NewRequest(method, "http://cs.test"+path, strings.NewReader(body))
	req.AddCookie(&http.Cookie{Name: ConsoleCookie, Value: cookie})
	if csrf != "" {
		req.Header.Set(CSRFHeader, csrf)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return rec.Result()
}

func errCode(t *testing.T, r *http.Response) string {
	t.Helper()
	var b struct {
		Error struct{ Code string } `json:"error"`
	}
	raw, _ := io.ReadAll(r.Body)
	_ = json.Unmarshal(raw, &b)
	return b.Error.Code
}

// A console session authenticates API calls with its cookie; a change
// also needs the session's CSRF token in a header.
func TestConsoleSessionCookieNeedsCSRFHeaderForChanges(t *testing.T) {
	e := newEnv(t)
	cookie, csrf := e.signInAs(e.a.op.ID, access.Owner)
	if r := e.doCookie("GET", "/api/v1/stations", cookie, "", ""); r.StatusCode != 200 {
		t.Fatalf("GET with the cookie: %d", r.StatusCode)
	}
	body := `{"name":"Depot"}`
	if r := e.doCookie("POST", "/api/v1/sites", cookie, "", body); r.StatusCode != 403 || errCode(t, r) != codeCSRF {
		t.Fatalf("POST without the CSRF header: %d", r.StatusCode)
	}
	if r := e.doCookie("POST", "/api/v1/sites", cookie, "wrong", body); r.StatusCode != 403 {
		t.Fatalf("POST with a wrong CSRF header: %d", r.StatusCode)
	}
	if r := e.doCookie("POST", "/api/v1/sites", cookie, csrf, body); r.StatusCode != 201 {
		t.Fatalf("POST with the CSRF header: %d", r.StatusCode)
	}
	if r := e.doCookie("GET", "/api/v1/stations", "not-a-session", "", ""); r.StatusCode != 401 {
		t.Fatalf("unknown cookie: %d", r.StatusCode)
	}
	// The session sees only its operator: B's station is not found.
	if r := e.doCookie("GET", "/api/v1/stations/"+e.b.station, cookie, "", ""); r.StatusCode != 404 {
		t.Fatalf("B's station through A's console session: %d", r.StatusCode)
	}
}

// Each role reaches what its job needs and gets 403 elsewhere, before
// anything is looked up.
func TestRolesLimitWhatConsoleUsersMayDo(t *testing.T) {
	e := newEnv(t)
	type call struct {
		method, path, body string
		ok                 map[access.Role]bool
	}
	st := "/api/v1/stations/" + e.a.station
	calls := []call{
		{"GET", "/api/v1/stations", "", map[access.Role]bool{access.Owner: true, access.Technician: true, access.Finance: true}},
		{"PATCH", st, `{"retired":false}`, map[access.Role]bool{access.Owner: true, access.Technician: true}},
		{"GET", "/api/v1/payments?operator_id=" + e.a.op.ID, "", map[access.Role]bool{access.Owner: true, access.Finance: true}},
		{"GET", "/api/v1/reports/revenue?from=2026-03-01&to=2026-04-01", "", map[access.Role]bool{access.Owner: true, access.Finance: true}},
		{"POST", "/api/v1/tariffs", `{"name":"X","tariff":` + string(testTariff) + `}`, map[access.Role]bool{access.Owner: true, access.Finance: true}},
		{"GET", "/api/v1/users", "", map[access.Role]bool{access.Owner: true}},
		{"POST", "/api/v1/operators/" + e.a.op.ID + "/tokens", `{}`, map[access.Role]bool{access.Owner: true}},
	}
	for _, role := range access.OperatorRoles {
		cookie, csrf := e.signInAs(e.a.op.ID, role)
		for _, c := range calls {
			r := e.doCookie(c.method, c.path, cookie, csrf, c.body)
			if c.ok[role] {
				if r.StatusCode == 403 {
					t.Errorf("%s %s %s: 403, want allowed", role, c.method, c.path)
				}
				continue
			}
			if r.StatusCode != 403 || errCode(t, r) != codeForbidden {
				t.Errorf("%s %s %s: %d, want 403 forbidden", role, c.method, c.path, r.StatusCode)
			}
		}
	}
	// A technician's command attempt on a foreign station is 403 as well,
	// never 404: the role check comes first and says nothing about B.
}

func TestUsersLifecycle(t *testing.T) {
	e := newEnv(t)
	var owner, tech User
	e.decode(e.mustDo("POST", "/api/v1/users", e.a.token, map[string]any{"email": "Owner@Alpha.example", "name": "Olive", "role": "owner", "password": "owner-password"}, 201), &owner)
	if owner.Email != "owner@alpha.example" || owner.OperatorID == nil || *owner.OperatorID != e.a.op.ID {
		t.Fatalf("created %+v", owner)
	}
	e.mustDo("POST", "/api/v1/users", e.b.token, map[string]any{"email": "owner@alpha.example", "role": "owner", "password": "another-password"}, 409)
	e.mustDo("POST", "/api/v1/users", e.a.token, map[string]any{"email": "t@alpha.example", "role": "owner", "password": "short"}, 400)
	e.mustDo("POST", "/api/v1/users", e.a.token, map[string]any{"email": "not-an-email", "role": "owner", "password": "owner-password"}, 400)
	e.mustDo("POST", "/api/v1/users", e.a.token, map[string]any{"email": "t@alpha.example", "role": "boss", "password": "owner-password"}, 400)
	e.decode(e.mustDo("POST", "/api/v1/users", e.a.token, map[string]any{"email": "tech@alpha.example", "role": "technician", "password": "tech-password"}, 201), &tech)
	stored, _ := e.st.GetUser(e.ctx, "", tech.ID)
	if !access.CheckPassword(stored.PasswordHash, "tech-password") || strings.Contains(stored.PasswordHash, "tech-password") {
		t.Fatal("the stored hash does not check the password, or holds it")
	}
	// The last owner cannot be demoted or disabled.
	e.mustDo("PATCH", "/api/v1/users/"+owner.ID, e.a.token, map[string]any{"role": "finance"}, 409)
	e.mustDo("PATCH", "/api/v1/users/"+owner.ID, e.a.token, map[string]any{"disabled": true}, 409)
	e.mustDo("PATCH", "/api/v1/users/"+tech.ID, e.a.token, map[string]any{"role": "owner"}, 200)
	var got User
	e.decode(e.mustDo("PATCH", "/api/v1/users/"+owner.ID, e.a.token, map[string]any{"disabled": true}, 200), &got)
	if got.DisabledAt == nil {
		t.Fatal("not disabled")
	}
	// A disabled user's or a re-passworded user's sessions end.
	cookie, _ := e.signInAs(e.a.op.ID, access.Finance)
	var list List[User]
	e.decode(e.mustDo("GET", "/api/v1/users", e.a.token, nil, 200), &list)
	var fin User
	for _, u := range list.Items {
		if u.Role == "finance" {
			fin = u
		}
	}
	e.mustDo("PATCH", "/api/v1/users/"+fin.ID, e.a.token, map[string]any{"password": "a-new-long-password"}, 200)
	if r := e.doCookie("GET", "/api/v1/stations", cookie, "", ""); r.StatusCode != 401 {
		t.Fatalf("a session after a password change: %d", r.StatusCode)
	}
	var me Me
	e.decode(e.mustDo("GET", "/api/v1/me", e.a.token, nil, 200), &me)
	if me.Kind != "token" || me.Role != "owner" {
		t.Fatalf("me: %+v", me)
	}
}

var userContractRoutes = []string{"GET /api/v1/me", "POST /api/v1/me/password", "POST /api/v1/users", "GET /api/v1/users", "GET /api/v1/users/{userId}", "PATCH /api/v1/users/{userId}"}

func TestUsersChangeTheirOwnPassword(t *testing.T) {
	e := newEnv(t)
	cookie, csrf := e.signInAs(e.a.op.ID, access.Technician)
	other, _ := e.signInAs(e.a.op.ID, access.Finance)
	// signInAs gives every user the password "a-long-password".
	if r := e.doCookie("POST", "/api/v1/me/password", cookie, csrf, `{"current_password":"wrong","password":"a-brand-new-password"}`); r.StatusCode != 400 || errCode(t, r) != codeWrongPassword {
		t.Fatalf("wrong current password: %d", r.StatusCode)
	}
	if r := e.doCookie("POST", "/api/v1/me/password", cookie, csrf, `{"current_password":"a-long-password","password":"short"}`); r.StatusCode != 400 {
		t.Fatalf("weak new password: %d", r.StatusCode)
	}
	if r := e.doCookie("POST", "/api/v1/me/password", cookie, "", `{"current_password":"a-long-password","password":"a-brand-new-password"}`); r.StatusCode != 403 {
		t.Fatalf("without the CSRF header: %d", r.StatusCode)
	}
	if r := e.doCookie("POST", "/api/v1/me/password", cookie, csrf, `{"current_password":"a-long-password","password":"a-brand-new-password"}`); r.StatusCode != 204 {
		t.Fatalf("change: %d", r.StatusCode)
	}
	// The session that changed it ends too; another user's does not.
	if r := e.doCookie("GET", "/api/v1/me", cookie, "", ""); r.StatusCode != 401 {
		t.Fatalf("the session after the change: %d", r.StatusCode)
	}
	if r := e.doCookie("GET", "/api/v1/me", other, "", ""); r.StatusCode != 200 {
		t.Fatalf("another user's session: %d", r.StatusCode)
	}
	e.mustDo("POST", "/api/v1/me/password", e.a.token, map[string]any{"current_password": "x", "password": "a-brand-new-password"}, 400)
}
