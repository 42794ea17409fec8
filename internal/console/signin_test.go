package console_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/chargestar/chargestar/internal/browsertest"
	"github.com/chargestar/chargestar/internal/servertest"
)

// client is a browser-like HTTP client: cookies, no automatic redirects.
func client(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

var tokenField = regexp.MustCompile(`name="token" value="([^"]+)"`)

// postSignIn loads the sign-in form (for its CSRF token) and posts it.
func postSignIn(t *testing.T, c *http.Client, base, email, pw string) *http.Response {
	t.Helper()
	r, err := c.Get(base + "/console/sign-in")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r.Body)
	r.Body.Close()
	m := tokenField.FindStringSubmatch(string(b))
	if m == nil {
		t.Fatalf("no token in the sign-in form: %s", b)
	}
	r, err = c.PostForm(base+"/console/sign-in", url.Values{"email": {email}, "password": {pw}, "token": {m[1]}, "next": {"/console/network"}})
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, r.Body)
	r.Body.Close()
	return r
}

func TestSignInWithPasswordOpensTheConsoleAndTheAPI(t *testing.T) {
	f := newFixture(t)
	c := client(t)
	// Pages need a session.
	r, _ := c.Get(f.srv.URL + "/console/board")
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/console/sign-in?next=") {
		t.Fatalf("board without a session: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	if r := postSignIn(t, c, f.srv.URL, f.owner.Email, "wrong-password!"); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d", r.StatusCode)
	}
	if r := postSignIn(t, c, f.srv.URL, "nobody@example.com", "whatever-password"); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unknown user: %d", r.StatusCode)
	}
	r = postSignIn(t, c, f.srv.URL, strings.ToUpper(f.owner.Email), f.owner.Password)
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/console/network" {
		t.Fatalf("sign-in: %d → %s", r.StatusCode, r.Header.Get("Location"))
	}
	var session *http.Cookie
	for _, ck := range r.Cookies() {
		if ck.Name == "chargestar_console" {
			session = ck
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode {
		t.Fatalf("session cookie %+v", session)
	}
	r, _ = c.Get(f.srv.URL + "/console/board")
	b, _ := io.ReadAll(r.Body)
	if r.StatusCode != 200 || !strings.Contains(string(b), f.owner.Email) || !strings.Contains(r.Header.Get("Content-Security-Policy"), "script-src 'self'") {
		t.Fatalf("board: %d", r.StatusCode)
	}
	// The same browser session calls the API.
	r, _ = c.Get(f.srv.URL + "/api/v1/me")
	b, _ = io.ReadAll(r.Body)
	if r.StatusCode != 200 || !strings.Contains(string(b), `"kind":"user"`) || !strings.Contains(string(b), f.op.ID) {
		t.Fatalf("me: %d %s", r.StatusCode, b)
	}
	// A form post from another site, without the form's token, is refused.
	r, _ = client(t).PostForm(f.srv.URL+"/console/sign-in", url.Values{"email": {f.owner.Email}, "password": {f.owner.Password}})
	if r.StatusCode != http.StatusForbidden {
		t.Fatalf("sign-in without the form token: %d", r.StatusCode)
	}
	// Signing out needs the session's CSRF token and ends the session.
	r, _ = c.PostForm(f.srv.URL+"/console/sign-out", url.Values{"csrf": {"wrong"}})
	if r.StatusCode != http.StatusForbidden {
		t.Fatalf("sign-out without the CSRF token: %d", r.StatusCode)
	}
	page, _ := c.Get(f.srv.URL + "/console/board")
	pb, _ := io.ReadAll(page.Body)
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(string(pb))
	r, _ = c.PostForm(f.srv.URL+"/console/sign-out", url.Values{"csrf": {csrf[1]}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", r.StatusCode)
	}
	jar := client(t)
	jar.Jar.SetCookies(mustURL(f.srv.URL), []*http.Cookie{session})
	if r, _ := jar.Get(f.srv.URL + "/api/v1/me"); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the signed-out session still works: %d", r.StatusCode)
	}
}

func mustURL(s string) *url.URL { u, _ := url.Parse(s); return u }

func TestSignInIsRateLimitedPerEmail(t *testing.T) {
	f := newFixture(t)
	c := client(t)
	for i := 0; i < 5; i++ {
		if r := postSignIn(t, c, f.srv.URL, f.owner.Email, "wrong-password!"); r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i, r.StatusCode)
		}
	}
	// Even the right password waits now: guessing gets nowhere.
	if r := postSignIn(t, c, f.srv.URL, f.owner.Email, f.owner.Password); r.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("after 5 failures: %d", r.StatusCode)
	}
}

func TestRolePagesAndDisabledUsers(t *testing.T) {
	f := newFixture(t)
	tech := f.user(t, f.op.ID, "technician")
	c := client(t)
	postSignIn(t, c, f.srv.URL, tech.Email, tech.Password)
	r, _ := c.Get(f.srv.URL + "/console/users")
	if r.StatusCode != http.StatusForbidden {
		t.Fatalf("a technician opening the users page: %d", r.StatusCode)
	}
	r, _ = c.Get(f.srv.URL + "/console/board")
	b, _ := io.ReadAll(r.Body)
	if r.StatusCode != 200 || strings.Contains(string(b), `href="/console/users"`) {
		t.Fatalf("a technician's navigation lists the users page")
	}
	f.mustJSON(t, f.token, "PATCH", "/api/v1/users/"+tech.ID, `{"disabled":true}`, 200, nil)
	if r, _ := c.Get(f.srv.URL + "/console/board"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("a disabled user's session still opens pages: %d", r.StatusCode)
	}
	if r := postSignIn(t, client(t), f.srv.URL, tech.Email, tech.Password); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a disabled user signs in: %d", r.StatusCode)
	}
}

func TestSignInInBrowser(t *testing.T) {
	f := newFixture(t)
	ctx := browsertest.NewDesktop(t)
	if err := chromedp.Run(ctx, chromedp.Navigate(f.srv.URL+"/console/")); err != nil {
		t.Fatal(err)
	}
	browsertest.Screenshot(t, ctx, "console-sign-in")
	f.signIn(t, ctx, f.owner)
	browsertest.WaitText(t, ctx, "#operator-name", "Harbour Parking")
}

// A platform administrator signs in to the console, picks an operator in
// the header and sees that operator's stations, then another's.
func TestAdministratorPicksTheOperator(t *testing.T) {
	f := newFixture(t)
	var other struct{ ID string }
	f.mustJSON(t, servertest.AdminToken, "POST", "/api/v1/operators", `{"name":"Quay Charging","currency":"AUD","country":"AU"}`, 201, &other)
	f.mustJSON(t, servertest.AdminToken, "POST", "/api/v1/stations", `{"id":"QUAY-1","operator_id":"`+other.ID+`"}`, 201, nil)
	f.mustJSON(t, f.token, "POST", "/api/v1/stations", `{"id":"HARBOUR-7"}`, 201, nil)
	admin := f.user(t, "", "admin")

	ctx := browsertest.NewDesktop(t)
	if err := chromedp.Run(ctx,
		chromedp.Navigate(f.srv.URL+"/console/"),
		chromedp.WaitVisible("#email", chromedp.ByQuery),
		chromedp.SendKeys("#email", admin.Email, chromedp.ByQuery),
		chromedp.SendKeys("#password", admin.Password, chromedp.ByQuery),
		chromedp.Click("#sign-in", chromedp.ByQuery),
	); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitText(t, ctx, "#user-role", "admin")
	for _, pick := range []struct{ id, shows, hides string }{{other.ID, "QUAY-1", "HARBOUR-7"}, {f.op.ID, "HARBOUR-7", "QUAY-1"}} {
		pctx, cancel := context.WithTimeout(ctx, 15*time.Second) // bounded: a missing option fails fast
		err := chromedp.Run(pctx,
			chromedp.WaitReady(`#operator-picker option[value="`+pick.id+`"]`, chromedp.ByQuery),
			chromedp.SetValue("#operator-picker", pick.id, chromedp.ByQuery),
			chromedp.Evaluate(`document.querySelector("#operator-picker").dispatchEvent(new Event("change"))`, nil),
		)
		cancel()
		if err != nil {
			t.Fatalf("picking %s: %v", pick.id, err)
		}
		browsertest.WaitText(t, ctx, "#board", pick.shows)
		var board string
		if err := chromedp.Run(ctx, chromedp.Text("#board", &board, chromedp.ByQuery)); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(board, pick.hides) {
			t.Errorf("with %s picked the board shows %s", pick.id, pick.hides)
		}
	}
}

// A user changes their own password on the account page; every session of
// theirs ends and the new password signs in.
func TestUserChangesOwnPassword(t *testing.T) {
	f := newFixture(t)
	tech := f.user(t, f.op.ID, "technician")
	ctx := browsertest.NewDesktop(t)
	f.signIn(t, ctx, tech)
	fill := func(current, next, confirm string) {
		t.Helper()
		if err := chromedp.Run(ctx,
			chromedp.Evaluate(`for (const id of ["current-password","new-password","confirm-password"]) document.getElementById(id).value = ""`, nil),
			chromedp.SendKeys("#current-password", current, chromedp.ByQuery),
			chromedp.SendKeys("#new-password", next, chromedp.ByQuery),
			chromedp.SendKeys("#confirm-password", confirm, chromedp.ByQuery),
			chromedp.Click("#change-password", chromedp.ByQuery),
		); err != nil {
			t.Fatal(err)
		}
	}
	if err := chromedp.Run(ctx, chromedp.Click("a.user", chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitText(t, ctx, "#account-details", tech.Email)
	fill(tech.Password, "a-new-password-1", "a-new-password-2")
	browsertest.WaitText(t, ctx, "#password-error", "differ")
	fill("not-my-password", "a-new-password-1", "a-new-password-1")
	browsertest.WaitText(t, ctx, "#password-error", "current password is wrong")
	fill(tech.Password, "a-new-password-1", "a-new-password-1")
	browsertest.WaitText(t, ctx, "#signin-notice", "password was changed")
	f.signIn(t, ctx, user{ID: tech.ID, Email: tech.Email, Password: "a-new-password-1"})
	if r := postSignIn(t, client(t), f.srv.URL, tech.Email, tech.Password); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the old password still signs in: %d", r.StatusCode)
	}
}
