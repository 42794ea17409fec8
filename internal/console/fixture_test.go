package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/chargestar/chargestar/internal/browsertest"
	"github.com/chargestar/chargestar/internal/model"
	"github.com/chargestar/chargestar/internal/servertest"
)

// fixture is a running server with one operator ("Harbour Parking"), its
// API token and an owner user; tests add users, stations and sessions.
type fixture struct {
	srv   *servertest.Server
	op    model.Operator
	token string // the operator's API token
	owner user
}

type user struct{ ID, Email, Password string }

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{srv: servertest.Start(t, servertest.Options{})}
	var op struct{ ID string }
	f.mustJSON(t, servertest.AdminToken, "POST", "/api/v1/operators", `{"name":"Harbour Parking","currency":"AUD","country":"AU"}`, 201, &op)
	f.op = f.operator(t, op.ID)
	var tok struct{ Token string }
	f.mustJSON(t, servertest.AdminToken, "POST", "/api/v1/operators/"+op.ID+"/tokens", `{"name":"tests"}`, 201, &tok)
	f.token = tok.Token
	f.owner = f.user(t, op.ID, "owner")
	return f
}

func (f *fixture) operator(t *testing.T, id string) model.Operator {
	op, err := f.srv.Store.GetOperator(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return op
}

// user creates a console user of role at operator opID ("" and role admin:
// a platform administrator).
func (f *fixture) user(t *testing.T, opID, role string) user {
	t.Helper()
	u := user{Email: fmt.Sprintf("%s-%d@example.com", role, time.Now().UnixNano()), Password: "a-long-password-" + role}
	body := map[string]any{"email": u.Email, "role": role, "password": u.Password}
	if opID != "" {
		body["operator_id"] = opID
	}
	js, _ := json.Marshal(body)
	var out struct{ ID string }
	f.mustJSON(t, servertest.AdminToken, "POST", "/api/v1/users", string(js), 201, &out)
	u.ID = out.ID
	return u
}

// mustJSON calls the API with token, checks the status and decodes the answer into out (if not nil).
func (f *fixture) mustJSON(t *testing.T, token, method, path, body string, status int, out any) {
	t.Helper()
	got, b := f.srv.APIWithToken(t, token, method, path, body)
	if got != status {
		t.Fatalf("%s %s: %d %s, want %d", method, path, got, b, status)
	}
	if out != nil {
		if err := json.Unmarshal([]byte(b), out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
}

// signIn opens the sign-in page in the browser and signs u in; it returns
// once the live board (the landing page) is shown.
func (f *fixture) signIn(t *testing.T, ctx context.Context, u user) {
	t.Helper()
	if err := chromedp.Run(ctx,
		chromedp.Navigate(f.srv.URL+"/console/"),
		chromedp.WaitVisible("#email", chromedp.ByQuery),
		chromedp.SendKeys("#email", u.Email, chromedp.ByQuery),
		chromedp.SendKeys("#password", u.Password, chromedp.ByQuery),
		chromedp.Click("#sign-in", chromedp.ByQuery),
	); err != nil {
		t.Fatalf("signing in: %v", err)
	}
	browsertest.WaitText(t, ctx, "#user-role", "")
	var loc string
	_ = chromedp.Run(ctx, chromedp.Location(&loc))
	if !strings.Contains(loc, "/console/") || strings.Contains(loc, "sign-in") {
		t.Fatalf("after signing in the browser is at %s", loc)
	}
}
