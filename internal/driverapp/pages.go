package driverapp

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chargestar/chargestar/internal/billing"
	"github.com/chargestar/chargestar/internal/receipt"
	"github.com/chargestar/chargestar/internal/sessionbilling"
	"github.com/chargestar/chargestar/internal/store"
	"github.com/chargestar/chargestar/internal/version"
)

// The driver's screens: server-rendered HTML that works without
// JavaScript (forms, a self-refreshing session page), with one small
// script that makes the session page live over server-sent events.
// Everything is served from our origin under a strict
// Content-Security-Policy; card details are typed only on the provider's
// hosted page.

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static/*
var staticFS embed.FS

var pages = func() map[string]*template.Template {
	out := map[string]*template.Template{}
	for _, name := range []string{"home", "station", "session", "message", "receipt_lookup", "signin", "account"} {
		out[name] = template.Must(template.ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html"))
	}
	return out
}()

func staticHandler() http.Handler {
	sub, _ := fs.Sub(staticFS, "static")
	files := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Versioned URLs (?v=) change with every release.
		w.Header().Set("Cache-Control", "public, max-age=86400")
		files.ServeHTTP(w, r)
	})
}

// contentSecurityPolicy: our own scripts, styles and connections only;
// forms may also go on to the payment provider's hosted page (the pay
// form's answer redirects there).
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"form-action 'self' https://checkout.stripe.com; base-uri 'none'; frame-ancestors 'none'"

type pageData struct {
	Title   string
	Version string
	Refresh int  // seconds; 0: none (the no-JS fallback of live pages)
	Script  bool // include app.js
}

func (a *app) render(w http.ResponseWriter, status int, name string, data any) {
	var buf bytes.Buffer
	if err := pages[name].ExecuteTemplate(&buf, "layout", data); err != nil {
		a.Logger.Error("rendering a page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func basePage(title string) pageData {
	return pageData{Title: title, Version: version.Version()}
}

func (a *app) message(w http.ResponseWriter, status int, heading, text, link, linkText string) {
	a.render(w, status, "message", struct {
		pageData
		Heading, Text, Link, LinkText string
		IsError                       bool
	}{basePage(heading), heading, text, link, linkText, status >= 400})
}

func (a *app) notFoundPage(w http.ResponseWriter, r *http.Request) {
	a.message(w, http.StatusNotFound, "Page not found", "This page does not exist. Scan the QR code on the station again, or start from the home page.", "/app/", "Start again")
}

func (a *app) home(w http.ResponseWriter, r *http.Request) {
	a.render(w, http.StatusOK, "home", struct {
		pageData
		Code, Error string
	}{pageData: withScript(basePage("Charge your car"))})
}

func withScript(p pageData) pageData { p.Script = true; return p }

// stationCode is what is printed under a QR code: "<station>-<connector>".
var stationCode = regexp.MustCompile(`^(.+)-(\d{1,2})$`)

// goToStation turns a typed station code into the station page.
func (a *app) goToStation(w http.ResponseWriter, r *http.Request) {
	code := strings.TrimSpace(r.URL.Query().Get("code"))
	if m := stationCode.FindStringSubmatch(code); m != nil {
		if _, err := a.Store.GetStation(r.Context(), m[1]); err == nil {
			http.Redirect(w, r, "/app/s/"+url.PathEscape(m[1])+"/"+m[2], http.StatusSeeOther)
			return
		}
	}
	if _, err := a.Store.GetStation(r.Context(), code); err == nil && code != "" {
		http.Redirect(w, r, "/app/s/"+url.PathEscape(code)+"/1", http.StatusSeeOther)
		return
	}
	a.render(w, http.StatusNotFound, "home", struct {
		pageData
		Code, Error string
	}{withScript(basePage("Charge your car")), code, "We could not find that station. Check the code under the QR code (for example CP-0001-1)."})
}

// budgetChoice is one "stop at" option on the station page.
type budgetChoice struct{ Value, Label string }

var budgetChoices = []struct {
	value  string
	amount int64 // minor units
	wh     int64
}{{"a1000", 1000, 0}, {"a2000", 2000, 0}, {"a3000", 3000, 0}, {"e20000", 0, 20000}}

func budgetLabel(amount, wh int64, currency string) string {
	if wh > 0 {
		return strconv.FormatInt(wh/1000, 10) + " kWh"
	}
	return billing.FormatMoney(amount, currency)
}

func parseBudget(v string) billing.Budget {
	for _, c := range budgetChoices {
		if c.value == v {
			return billing.Budget{Amount: c.amount, EnergyWh: c.wh}
		}
	}
	return billing.Budget{}
}

type stationView struct {
	pageData
	Q                                   quoteJSON
	PathStation                         string
	StatusText, StatusHelp, StatusClass string
	CanPay                              bool
	Budgets                             []budgetChoice
	Hold                                string
	CSRF                                string
	ProviderName                        string
	Error                               string
}

func (a *app) stationView(w http.ResponseWriter, r *http.Request) (stationView, int, bool) {
	stationID := r.PathValue("stationId")
	conn, err := strconv.Atoi(r.PathValue("connectorId"))
	if err != nil || conn < 1 || conn > 99 {
		a.message(w, http.StatusNotFound, "Unknown connector", "This connector number is not valid. Scan the QR code on the station again.", "/app/", "Start again")
		return stationView{}, 0, false
	}
	q, err := a.Billing.Quote(r.Context(), stationID, conn, billing.Budget{})
	switch {
	case errors.Is(err, store.ErrNotFound):
		a.message(w, http.StatusNotFound, "Station not found", "We could not find this station. Check the code on the sticker, or try another station.", "/app/", "Enter a station code")
		return stationView{}, 0, false
	case errors.Is(err, sessionbilling.ErrNoTariff):
		a.message(w, http.StatusConflict, "Not available here", "This station cannot be paid for in the app yet. Please ask the car park operator.", "/app/", "Start again")
		return stationView{}, 0, false
	case err != nil:
		a.Logger.Error("station page", "station_id", stationID, "err", err)
		a.message(w, http.StatusInternalServerError, "Something went wrong", "Please try again in a moment. Nothing has been charged.", r.URL.Path, "Try again")
		return stationView{}, 0, false
	}
	v := stationView{pageData: basePage("Charge at " + stationID), PathStation: url.PathEscape(stationID),
		Q:    a.quoteView(r.Context(), q, conn),
		Hold: billing.FormatMoney(q.Hold.Amount, q.Hold.Currency), CSRF: csrfToken(w, r), ProviderName: providerName(a.Billing.Provider().Name())}
	for _, c := range budgetChoices {
		if c.amount == 0 || c.amount < q.Hold.Amount {
			v.Budgets = append(v.Budgets, budgetChoice{c.value, budgetLabel(c.amount, c.wh, q.Hold.Currency)})
		}
	}
	v.StatusText, v.StatusHelp, v.StatusClass, v.CanPay = connectorState(v.Q.Online, v.Q.ConnectorStatus)
	return v, http.StatusOK, true
}

// connectorState says, in words, whether the driver can start here.
func connectorState(online bool, status string) (text, help, class string, canPay bool) {
	if !online {
		return "Station offline", "it cannot start a charge right now. Nothing will be charged. Please try another station.", "bad", false
	}
	switch status {
	case "Available", "Unknown":
		return "Ready", "", "ok", true
	case "Preparing":
		return "Cable plugged in", "ready to start once you pay.", "ok", true
	case "Charging", "SuspendedEV", "SuspendedEVSE", "Finishing":
		return "In use", "another car is charging on this connector. Please choose another connector or station.", "warn", false
	case "Reserved":
		return "Reserved", "this connector is reserved for someone else.", "warn", false
	case "Unavailable":
		return "Out of service", "this connector has been taken out of service. Please try another.", "bad", false
	case "Faulted":
		return "Faulty", "this connector has reported a fault and cannot charge. The operator has been told. Please try another.", "bad", false
	}
	return status, "", "info", true
}

func providerName(p string) string {
	if p == "stripe" {
		return "Stripe"
	}
	return "our payment provider"
}

func (a *app) stationPage(w http.ResponseWriter, r *http.Request) {
	v, status, ok := a.stationView(w, r)
	if !ok {
		return
	}
	a.render(w, status, "station", v)
}

// pay is the station page's form: it opens the hosted payment page.
func (a *app) pay(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := r.ParseForm(); err != nil || !csrfValid(r) {
		a.message(w, http.StatusForbidden, "Please try again", "This form has expired. Go back to the station page and press Pay again.", "/app/s/"+url.PathEscape(r.PathValue("stationId"))+"/"+r.PathValue("connectorId"), "Back to the station")
		return
	}
	v, _, ok := a.stationView(w, r)
	if !ok {
		return
	}
	fail := func(status int, msg string) {
		v.Error = msg
		a.render(w, status, "station", v)
	}
	if !v.CanPay {
		fail(http.StatusConflict, "This connector cannot start a charge right now. Nothing has been charged.")
		return
	}
	email := strings.TrimSpace(r.PostForm.Get("email"))
	if len(email) > 254 || (email != "" && !strings.Contains(email, "@")) {
		fail(http.StatusBadRequest, "That email address does not look right. Leave it empty if you do not want a receipt by email.")
		return
	}
	if !a.limiter.allow(clientKey(r)) {
		fail(http.StatusTooManyRequests, "Too many payment attempts from here. Please wait a minute and try again.")
		return
	}
	co, err := a.Billing.StartCheckout(r.Context(), sessionbilling.CheckoutParams{StationID: v.Q.StationID, ConnectorID: v.Q.ConnectorID,
		Budget: parseBudget(r.PostForm.Get("budget")), Email: email})
	switch {
	case errors.Is(err, sessionbilling.ErrStationOffline):
		fail(http.StatusConflict, "The station went offline. Nothing has been charged. Please try another station.")
		return
	case err != nil:
		a.Logger.Warn("opening a payment page", "station_id", v.Q.StationID, "err", err)
		fail(http.StatusBadGateway, "We could not open the payment page. Nothing has been charged. Please try again.")
		return
	}
	http.Redirect(w, r, co.URL, http.StatusSeeOther)
}

type sessionPageView struct {
	pageData
	V                                       PaymentView
	Token, CSRF, Headline, StatusClass      string
	Energy, Power, Elapsed, Cost, Remaining string
	Hold, StartedISO, StoppedISO            string
	Minor                                   int
	ShowMeters, Final, CanStop              bool
}

// sessionPage is the live session page (also where the hosted payment
// page returns).
func (a *app) sessionPage(w http.ResponseWriter, r *http.Request) {
	p, ok := a.pageAccess(w, r)
	if !ok {
		return
	}
	if sessionbilling.State(p.State) == sessionbilling.StateQuote {
		// Back from the hosted page before the webhook: ask the provider.
		if q, err := a.Billing.Reconcile(r.Context(), p.ID); err == nil {
			p = q
		}
	}
	v := a.view(r, p)
	st := sessionbilling.State(p.State)
	minor, _ := billing.MinorUnits(p.Currency)
	pv := sessionPageView{pageData: withScript(basePage(v.Headline)), V: v, Token: r.URL.Query().Get("t"), CSRF: csrfToken(w, r),
		Headline: v.Headline, StatusClass: v.Tone, Minor: minor,
		Energy: fmt.Sprintf("%.2f kWh", float64(v.EnergyWh)/1000), Power: "—", Elapsed: "—",
		Hold: billing.FormatMoney(p.HoldAmount, p.Currency), ShowMeters: p.SessionID != "",
		Final:   st.Final() || st == sessionbilling.StateStopped,
		CanStop: st == sessionbilling.StateCharging || st == sessionbilling.StateAuthorized || st == sessionbilling.StateQuote}
	if v.PowerW > 0 {
		pv.Power = fmt.Sprintf("%.1f kW", float64(v.PowerW)/1000)
	}
	cost := v.RunningCost
	if st.Final() {
		cost = v.AmountTotal
	}
	pv.Cost = billing.FormatMoney(cost, p.Currency)
	if v.Remaining >= 0 {
		pv.Remaining = billing.FormatMoney(v.Remaining, p.Currency)
	}
	if p.StartedAt != nil {
		pv.StartedISO = p.StartedAt.UTC().Format(time.RFC3339)
		end := time.Now()
		if p.StoppedAt != nil {
			pv.StoppedISO = p.StoppedAt.UTC().Format(time.RFC3339)
			end = *p.StoppedAt
		}
		pv.Elapsed = end.Sub(*p.StartedAt).Round(time.Second).String()
	}
	if !st.Final() {
		pv.Refresh = 10
	}
	a.render(w, http.StatusOK, "session", pv)
}

// pageAccess is authorized for the HTML pages: an invalid link gets a page
// that says what to do.
func (a *app) pageAccess(w http.ResponseWriter, r *http.Request) (store.SessionPayment, bool) {
	p, err := a.Store.GetSessionPayment(r.Context(), r.PathValue("paymentId"))
	tok := r.URL.Query().Get("t")
	if r.Method == http.MethodPost {
		tok = r.PostForm.Get("t")
	}
	if err != nil || !sessionbilling.CheckAccess(p, tok) {
		a.message(w, http.StatusNotFound, "Link not valid", "This session link is not valid or has expired. If you have been charged, your receipt code finds your receipt.", "/app/r", "Find a receipt")
		return p, false
	}
	return p, true
}

// stopForm is the Stop button without JavaScript.
func (a *app) stopForm(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := r.ParseForm(); err != nil || !csrfValid(r) {
		a.message(w, http.StatusForbidden, "Please try again", "This form has expired. Reload your session page and press Stop again.", "/app/", "Start")
		return
	}
	p, ok := a.pageAccess(w, r)
	if !ok {
		return
	}
	if _, err := a.Billing.Stop(r.Context(), p.ID); err != nil && !errors.Is(err, sessionbilling.ErrNotCancelable) {
		a.Logger.Warn("stop from the session page", "payment_id", p.ID, "err", err)
	}
	http.Redirect(w, r, "/app/p/"+p.ID+"?t="+url.QueryEscape(r.PostForm.Get("t")), http.StatusSeeOther)
}

// events streams the session's view as server-sent events whenever it
// changes, until it is final.
func (a *app) events(w http.ResponseWriter, r *http.Request) {
	p, ok := a.authorized(w, r)
	if !ok {
		return
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	ctx := r.Context()
	// One stream lasts at most half an hour; EventSource reconnects.
	deadline := time.NewTimer(30 * time.Minute)
	defer deadline.Stop()
	tick := time.NewTicker(eventInterval)
	defer tick.Stop()
	var last []byte
	lastWrite := time.Now()
	for {
		if q, err := a.Store.GetSessionPayment(ctx, p.ID); err == nil {
			p = q
		}
		if sessionbilling.State(p.State) == sessionbilling.StateQuote {
			if q, err := a.Billing.Reconcile(ctx, p.ID); err == nil {
				p = q
			}
		}
		b, _ := json.Marshal(a.view(r, p))
		if !bytes.Equal(b, last) {
			if _, err := fmt.Fprintf(w, "data: %s\n\n", b); err != nil {
				return
			}
			flusher.Flush()
			last, lastWrite = b, time.Now()
		} else if time.Since(lastWrite) > 15*time.Second {
			// A comment keeps proxies from closing an idle stream.
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return
			}
			flusher.Flush()
			lastWrite = time.Now()
		}
		if sessionbilling.State(p.State).Final() {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-deadline.C:
			return
		case <-a.Done: // shutting down: the page reconnects to the next server
			return
		case <-tick.C:
		}
	}
}

// eventInterval is how often a live page's session is looked at.
const eventInterval = 2 * time.Second

// receiptLookup finds a receipt by its code.
func (a *app) receiptLookup(w http.ResponseWriter, r *http.Request) {
	code := strings.TrimSpace(r.URL.Query().Get("code"))
	data := struct {
		pageData
		Code, Error string
	}{basePage("Find a receipt"), code, ""}
	if code == "" {
		a.render(w, http.StatusOK, "receipt_lookup", data)
		return
	}
	if c, ok := receipt.NormalizeCode(code); ok {
		if _, err := a.Billing.FindReceipt(r.Context(), c); err == nil {
			http.Redirect(w, r, "/app/r/"+c, http.StatusSeeOther)
			return
		}
	}
	data.Error = "No receipt has that code. Receipt codes look like K7QM-4XPD; check the letters and try again."
	a.render(w, http.StatusNotFound, "receipt_lookup", data)
}

// CSRF: double submit. A random value in a SameSite=Lax cookie (which a
// cross-site form post does not carry) must come back in the form.

const csrfCookie = "nc_csrf"

func csrfToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) >= 32 {
		return c.Value
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	tok := base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: tok, Path: "/app/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: isHTTPS(r), MaxAge: 86400})
	return tok
}

func csrfValid(r *http.Request) bool {
	c, err := r.Cookie(csrfCookie)
	if err != nil || len(c.Value) < 32 {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostForm.Get("csrf"))) == 1
}

// Rate limits on opening payment pages: a token bucket per client address.

const (
	checkoutBurst = 6                // payment pages opened at once
	checkoutEvery = 20 * time.Second // one more allowed every
)

type rateLimiter struct {
	mu      sync.Mutex
	burst   float64
	every   time.Duration
	buckets map[string]*bucket
	sweep   time.Time
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newRateLimiter(burst int, every time.Duration) *rateLimiter {
	return &rateLimiter{burst: float64(burst), every: every, buckets: map[string]*bucket{}}
}

func (l *rateLimiter) allow(key string) bool {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.sweep) > time.Minute {
		for k, b := range l.buckets {
			if now.Sub(b.at) > time.Duration(l.burst)*l.every {
				delete(l.buckets, k)
			}
		}
		l.sweep = now
	}
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[key] = b
	}
	b.tokens = min(l.burst, b.tokens+now.Sub(b.at).Seconds()/l.every.Seconds())
	b.at = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// clientKey identifies a client for rate limits: its address (the
// listener's peer; a proxy in front should pass one address per client).
func clientKey(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// isHTTPS reports whether the driver reached us over HTTPS (directly, or
// through a TLS-terminating proxy that says so).
func isHTTPS(r *http.Request) bool {
	return r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https"
}
