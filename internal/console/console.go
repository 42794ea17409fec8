// Package console is the operator console under /console/: sign-in with a
// password, and the pages operators run their network from (live board,
// stations, network, tariffs, reports, alerts, users, settings).
//
// The pages are server-rendered shells; their scripts read and change
// everything through the REST API (/api/v1/), authenticated by the console
// session cookie plus the session's CSRF token in a header. So the console
// can do nothing the API cannot (API parity), and one place, the API,
// enforces tenancy and roles for both.
package console

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/chargestar/chargestar/internal/access"
	"github.com/chargestar/chargestar/internal/api"
	"github.com/chargestar/chargestar/internal/model"
	"github.com/chargestar/chargestar/internal/store"
	"github.com/chargestar/chargestar/internal/version"
)

// Prefix is where the console is mounted.
const Prefix = "/console/"

// Store is what the console needs from persistence.
type Store interface {
	GetUserByEmail(ctx context.Context, email string) (store.User, error)
	CreateConsoleSession(ctx context.Context, cs store.ConsoleSession) error
	GetConsoleSession(ctx context.Context, hash []byte, now time.Time) (store.ConsoleSession, error)
	DeleteConsoleSession(ctx context.Context, hash []byte) error
	GetOperator(ctx context.Context, id string) (model.Operator, error)
}

// Deps are the console's collaborators.
type Deps struct {
	Store  Store
	Logger *slog.Logger     // nil discards
	Now    func() time.Time // nil is time.Now
}

type console struct {
	Deps
	mux     *http.ServeMux
	limiter *limiter
	// checks bounds concurrent password checks: each argon2id check holds
	// 19 MiB for ~20 ms, so a flood of sign-ins waits here instead of
	// exhausting memory.
	checks chan struct{}
}

// New returns the console's handler, to be mounted at Prefix.
func New(d Deps) http.Handler {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	c := &console{Deps: d, mux: http.NewServeMux(), limiter: newLimiter(), checks: make(chan struct{}, 2*runtime.GOMAXPROCS(0))}
	c.mux.Handle("GET /console/static/", http.StripPrefix("/console/static/", staticHandler()))
	c.mux.HandleFunc("GET /console/{$}", c.home)
	c.mux.HandleFunc("GET /console/sign-in", c.signInPage)
	c.mux.HandleFunc("POST /console/sign-in", c.signIn)
	c.mux.HandleFunc("POST /console/sign-out", c.signOut)
	for _, p := range pageList {
		c.mux.HandleFunc("GET /console/"+p.path, c.page(p))
	}
	c.mux.HandleFunc("/console/", c.notFound)
	return c.mux
}

// page is one console page: a template and its script.
type page struct {
	name  string // template templates/<name>.html, script static/<name>.js
	path  string // ServeMux pattern under /console/
	title string
	nav   bool              // listed in the navigation
	need  access.Permission // shown to roles with this permission
}

// pageList lists the console's pages, in navigation order.
var pageList = []page{
	{name: "board", path: "board", title: "Live board", nav: true, need: access.View},
	{name: "station", path: "stations/{stationId}", title: "Station", need: access.View},
	{name: "network", path: "network", title: "Network", nav: true, need: access.View},
	{name: "tariffs", path: "tariffs", title: "Tariffs", nav: true, need: access.View},
	{name: "reports", path: "reports", title: "Reports", nav: true, need: access.View},
	{name: "alerts", path: "alerts", title: "Alerts", nav: true, need: access.View},
	{name: "users", path: "users", title: "Users", nav: true, need: access.ManageOperator},
	{name: "settings", path: "settings", title: "Settings", nav: true, need: access.ManageOperator},
	{name: "account", path: "account", title: "Your account", need: access.View},
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

var templates = func() map[string]*template.Template {
	out := map[string]*template.Template{}
	for _, name := range []string{"signin", "message"} {
		out[name] = template.Must(template.ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html"))
	}
	for _, p := range pageList {
		out[p.name] = template.Must(template.ParseFS(templateFS, "templates/layout.html", "templates/"+p.name+".html"))
	}
	return out
}()

func staticHandler() http.Handler {
	sub, _ := fs.Sub(staticFS, "static")
	files := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// URLs carry ?v=<version>, so a release changes them.
		w.Header().Set("Cache-Control", "public, max-age=86400")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		files.ServeHTTP(w, r)
	})
}

// contentSecurityPolicy: our own scripts, styles and API calls only; no
// inline script or style; never framed.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// viewData is what every template gets.
type viewData struct {
	Title   string
	Version string
	Page    string // the page's name: its script is static/<Page>.js
	User    *store.User
	Role    string
	// OperatorID and OperatorName: the user's operator; "" for a platform
	// administrator, whose pages pick one.
	OperatorID   string
	OperatorName string
	CSRF         string
	Nav          []navItem
	Data         any
}

type navItem struct {
	Title, Href string
	Active      bool
}

func (c *console) render(w http.ResponseWriter, status int, name string, data viewData) {
	data.Version = version.Version()
	var buf bytes.Buffer
	if err := templates[name].ExecuteTemplate(&buf, "layout", data); err != nil {
		c.Logger.Error("rendering a console page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (c *console) message(w http.ResponseWriter, status int, title, text string, cs *store.ConsoleSession) {
	d := viewData{Title: title, Data: text}
	if cs != nil {
		d = c.signedIn(cs, "")
		d.Title, d.Data = title, text
	}
	c.render(w, status, "message", d)
}

func (c *console) notFound(w http.ResponseWriter, r *http.Request) {
	cs, _ := c.session(r)
	c.message(w, http.StatusNotFound, "Page not found", "There is no console page here.", cs)
}

// session returns the signed-in console session of r, or nil.
func (c *console) session(r *http.Request) (*store.ConsoleSession, error) {
	ck, err := r.Cookie(api.ConsoleCookie)
	if err != nil || ck.Value == "" {
		return nil, nil
	}
	cs, err := c.Store.GetConsoleSession(r.Context(), hashToken(ck.Value), c.Now())
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, err
	case cs.User.DisabledAt != nil:
		return nil, nil
	}
	return &cs, nil
}

func (c *console) signedIn(cs *store.ConsoleSession, active string) viewData {
	u := cs.User
	d := viewData{User: &u, Role: u.Role, OperatorID: u.OperatorID, CSRF: cs.CSRFToken}
	if u.OperatorID != "" {
		if op, err := c.Store.GetOperator(context.Background(), u.OperatorID); err == nil {
			d.OperatorName = op.Name
		}
	}
	for _, p := range pageList {
		if p.nav && access.Can(access.Role(u.Role), p.need) {
			d.Nav = append(d.Nav, navItem{Title: p.title, Href: Prefix + p.path, Active: p.name == active})
		}
	}
	return d
}

func (c *console) page(p page) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		cs, err := c.session(r)
		if err != nil {
			c.Logger.Error("reading a console session", "err", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		if cs == nil {
			http.Redirect(w, r, Prefix+"sign-in?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		if !access.Can(access.Role(cs.User.Role), p.need) {
			c.message(w, http.StatusForbidden, "Not for your role", "Your role ("+cs.User.Role+") cannot open this page. Ask your account's owner.", cs)
			return
		}
		d := c.signedIn(cs, p.name)
		d.Title, d.Page = p.title, p.name
		c.render(w, http.StatusOK, p.name, d)
	}
}

func (c *console) home(w http.ResponseWriter, r *http.Request) {
	cs, err := c.session(r)
	if err != nil || cs == nil {
		http.Redirect(w, r, Prefix+"sign-in", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, Prefix+"board", http.StatusSeeOther)
}

// loginCookie carries the sign-in form's CSRF token (double submit): a
// page of another site cannot sign a browser in to an account of its own.
const loginCookie = "chargestar_console_login"

type signInData struct {
	Email, Next, Error, Notice, Token string
}

func (c *console) signInPage(w http.ResponseWriter, r *http.Request) {
	if cs, _ := c.session(r); cs != nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	d := signInData{Next: r.URL.Query().Get("next")}
	if r.URL.Query().Get("changed") == "1" {
		d.Notice = "Your password was changed. Sign in with the new one."
	}
	c.renderSignIn(w, r, http.StatusOK, d)
}

func (c *console) renderSignIn(w http.ResponseWriter, r *http.Request, status int, d signInData) {
	d.Token = newToken()
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: d.Token, Path: Prefix + "sign-in", HttpOnly: true,
		Secure: isHTTPS(r), SameSite: http.SameSiteStrictMode, MaxAge: 3600})
	c.render(w, status, "signin", viewData{Title: "Sign in", Data: d})
}

func (c *console) signIn(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := r.ParseForm(); err != nil {
		c.renderSignIn(w, r, http.StatusBadRequest, signInData{Error: "The form could not be read. Try again."})
		return
	}
	email := strings.TrimSpace(r.PostForm.Get("email"))
	pw := r.PostForm.Get("password")
	next := r.PostForm.Get("next")
	d := signInData{Email: email, Next: next}
	ck, err := r.Cookie(loginCookie)
	if err != nil || ck.Value == "" || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(r.PostForm.Get("token"))) != 1 {
		d.Error = "The sign-in page expired. Try again."
		c.renderSignIn(w, r, http.StatusForbidden, d)
		return
	}
	now := c.Now()
	if !c.limiter.allow(clientIP(r), strings.ToLower(email), now) {
		c.Logger.Warn("console sign-in rate limited", "email", strings.ToLower(email), "remote_ip", clientIP(r))
		d.Error = "Too many attempts. Wait 15 minutes and try again."
		c.renderSignIn(w, r, http.StatusTooManyRequests, d)
		return
	}
	select {
	case c.checks <- struct{}{}:
		defer func() { <-c.checks }()
	case <-r.Context().Done():
		return
	}
	u, err := c.Store.GetUserByEmail(r.Context(), email)
	switch {
	case errors.Is(err, store.ErrNotFound):
		access.DummyCheck(pw) // as slow as a wrong password: emails cannot be probed by timing
	case err != nil:
		c.Logger.Error("console sign-in", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if err != nil || u.DisabledAt != nil || !access.CheckPassword(u.PasswordHash, pw) {
		c.limiter.fail(clientIP(r), strings.ToLower(email), now)
		c.Logger.Info("console sign-in refused", "email", strings.ToLower(email), "remote_ip", clientIP(r))
		d.Error = "Wrong email or password."
		c.renderSignIn(w, r, http.StatusUnauthorized, d)
		return
	}
	token := newToken()
	cs := store.ConsoleSession{Hash: hashToken(token), User: u, CSRFToken: newToken(), ExpiresAt: now.Add(api.ConsoleSessionTTL)}
	if err := c.Store.CreateConsoleSession(r.Context(), cs); err != nil {
		c.Logger.Error("creating a console session", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	c.Logger.Info("console sign-in", "user_id", u.ID, "operator_id", u.OperatorID, "role", u.Role)
	http.SetCookie(w, &http.Cookie{Name: api.ConsoleCookie, Value: token, Path: "/", HttpOnly: true,
		Secure: isHTTPS(r), SameSite: http.SameSiteLaxMode})
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: "", Path: Prefix + "sign-in", MaxAge: -1})
	http.Redirect(w, r, safeNext(next), http.StatusSeeOther)
}

func (c *console) signOut(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	_ = r.ParseForm()
	cs, err := c.session(r)
	if err == nil && cs != nil {
		if subtle.ConstantTimeCompare([]byte(r.PostForm.Get("csrf")), []byte(cs.CSRFToken)) != 1 {
			c.message(w, http.StatusForbidden, "Not signed out", "The page was too old. Reload it and sign out again.", cs)
			return
		}
		if err := c.Store.DeleteConsoleSession(r.Context(), cs.Hash); err != nil {
			c.Logger.Error("deleting a console session", "err", err)
		}
	}
	http.SetCookie(w, &http.Cookie{Name: api.ConsoleCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true})
	http.Redirect(w, r, Prefix+"sign-in", http.StatusSeeOther)
}

// safeNext keeps a post-sign-in redirect inside the console.
func safeNext(next string) string {
	if !strings.HasPrefix(next, Prefix) || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return Prefix + "board"
	}
	return next
}

func newToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func hashToken(t string) []byte {
	s := sha256.Sum256([]byte(t))
	return s[:]
}

func isHTTPS(r *http.Request) bool {
	return r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https"
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// limiter bounds failed sign-ins: 5 per email and 20 per address in 15
// minutes. Password guessing against one account, or across many from
// one address, stops there; it is in memory (per node), which is enough to
// make online guessing useless.
type limiter struct {
	mu    sync.Mutex
	fails map[string][]time.Time
}

const (
	limitWindow   = 15 * time.Minute
	limitPerEmail = 5
	limitPerIP    = 20
)

func newLimiter() *limiter { return &limiter{fails: map[string][]time.Time{}} }

func (l *limiter) recent(key string, now time.Time) []time.Time {
	ts := l.fails[key]
	i := 0
	for i < len(ts) && now.Sub(ts[i]) >= limitWindow {
		i++
	}
	ts = ts[i:]
	if len(ts) == 0 {
		delete(l.fails, key)
	} else {
		l.fails[key] = ts
	}
	return ts
}

func (l *limiter) allow(ip, email string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.recent("e:"+email, now)) < limitPerEmail && len(l.recent("a:"+ip, now)) < limitPerIP
}

func (l *limiter) fail(ip, email string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.fails) > 100_000 { // bounded memory under a flood of distinct keys
		l.fails = map[string][]time.Time{}
	}
	l.fails["e:"+email] = append(l.recent("e:"+email, now), now)
	l.fails["a:"+ip] = append(l.recent("a:"+ip, now), now)
}
