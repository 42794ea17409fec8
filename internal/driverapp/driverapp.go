// Package driverapp serves NextCharge, the driver's side of Charge Star,
// under /app/: what a station's QR code opens. This is its JSON interface
// and the receipt pages; the HTML screens build on it.
//
// Drivers are anonymous. A session's pages open with the session's own
// access token (given once, when the checkout is created, and carried in
// the return link); only its hash is stored. Receipts open with their
// receipt code.
package driverapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/chargestar/chargestar/internal/billing"
	"github.com/chargestar/chargestar/internal/model"
	"github.com/chargestar/chargestar/internal/receipt"
	"github.com/chargestar/chargestar/internal/sessionbilling"
	"github.com/chargestar/chargestar/internal/store"
)

// Deps are the app's collaborators.
type Deps struct {
	Store   *store.Store
	Billing *sessionbilling.Service
	Logger  *slog.Logger
	// Done is closed when the server shuts down: live session streams end
	// then instead of holding the shutdown until its timeout. nil: never.
	Done <-chan struct{}
}

type app struct {
	Deps
	mux     *http.ServeMux
	limiter *rateLimiter
}

// New returns the /app/ handler.
func New(d Deps) http.Handler {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	a := &app{Deps: d, mux: http.NewServeMux(), limiter: newRateLimiter(checkoutBurst, checkoutEvery)}
	a.mux.HandleFunc("GET /app/api/stations/{stationId}/connectors/{connectorId}", a.quote)
	a.mux.HandleFunc("POST /app/api/checkouts", a.checkout)
	a.mux.HandleFunc("GET /app/api/payments/{paymentId}", a.payment)
	a.mux.HandleFunc("POST /app/api/payments/{paymentId}/stop", a.stop)
	a.mux.HandleFunc("GET /app/{$}", a.home)
	a.mux.HandleFunc("GET /app/go", a.goToStation)
	a.mux.HandleFunc("GET /app/s/{stationId}/{connectorId}", a.stationPage)
	a.mux.HandleFunc("POST /app/s/{stationId}/{connectorId}/pay", a.pay)
	a.mux.HandleFunc("GET /app/p/{paymentId}", a.sessionPage)
	a.mux.HandleFunc("GET /app/p/{paymentId}/events", a.events)
	a.mux.HandleFunc("POST /app/p/{paymentId}/stop", a.stopForm)
	a.mux.HandleFunc("GET /app/r", a.receiptLookup)
	a.mux.HandleFunc("GET /app/account", a.account)
	a.mux.HandleFunc("POST /app/account/sign-in", a.signIn)
	a.mux.HandleFunc("POST /app/account/verify", a.verify)
	a.mux.HandleFunc("POST /app/account/top-up", a.topUp)
	a.mux.HandleFunc("POST /app/account/card-setup", a.cardSetup)
	a.mux.HandleFunc("POST /app/account/funding", a.funding)
	a.mux.HandleFunc("POST /app/account/cards", a.addCard)
	a.mux.HandleFunc("POST /app/account/cards/block", a.blockCard)
	a.mux.HandleFunc("POST /app/account/sign-out", a.signOut)
	a.mux.HandleFunc("GET /app/r/{code}", a.receipt)
	a.mux.Handle("GET /app/static/", http.StripPrefix("/app/static/", staticHandler()))
	a.mux.HandleFunc("/app/", a.notFoundPage)
	return a
}

func (a *app) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "no-referrer") // access tokens travel in links
	a.mux.ServeHTTP(w, r)
}

type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	var e apiError
	e.Error.Code, e.Error.Message = code, msg
	writeJSON(w, status, e)
}

// billingError answers a billing error with a message a driver can act on.
func (a *app) billingError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", "No such station, connector or session.")
	case errors.Is(err, sessionbilling.ErrNoTariff):
		writeError(w, http.StatusConflict, "no_tariff", "This station has no price set, so it cannot be paid for here. Please ask the car park operator.")
	case errors.Is(err, sessionbilling.ErrStationOffline):
		writeError(w, http.StatusConflict, "station_offline", "This station is offline at the moment. Nothing has been charged. Please try another station.")
	case errors.Is(err, sessionbilling.ErrBadConnector):
		writeError(w, http.StatusBadRequest, "bad_connector", "That connector number is not valid.")
	case errors.Is(err, sessionbilling.ErrBadBudget):
		writeError(w, http.StatusBadRequest, "bad_budget", err.Error())
	case errors.Is(err, sessionbilling.ErrNotCancelable):
		writeError(w, http.StatusConflict, "started", err.Error())
	default:
		a.Logger.Error("driver app", "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "Something went wrong on our side. Nothing extra has been charged; please try again.")
	}
}

// budgetOf reads a budget from query or body fields: an amount (minor
// units), an energy (Wh) or a duration (minutes); at most one.
func budgetOf(amount, wh, minutes int64) (billing.Budget, error) {
	n := 0
	for _, v := range []int64{amount, wh, minutes} {
		if v < 0 {
			return billing.Budget{}, fmt.Errorf("%w: must not be negative", sessionbilling.ErrBadBudget)
		}
		if v > 0 {
			n++
		}
	}
	if n > 1 {
		return billing.Budget{}, fmt.Errorf("%w: give an amount, an energy or a time, not several", sessionbilling.ErrBadBudget)
	}
	return billing.Budget{Amount: amount, EnergyWh: wh, Duration: time.Duration(minutes) * time.Minute}, nil
}

func queryInt(r *http.Request, name string) (int64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %s must be a whole number", sessionbilling.ErrBadBudget, name)
	}
	return n, nil
}

// quoteJSON is what a driver sees before paying.
type quoteJSON struct {
	StationID       string   `json:"station_id"`
	ConnectorID     int      `json:"connector_id"`
	Online          bool     `json:"online"`
	ConnectorStatus string   `json:"connector_status"`
	Operator        string   `json:"operator"`
	Site            string   `json:"site,omitempty"`
	Currency        string   `json:"currency"`
	HoldAmount      int64    `json:"hold_amount"`
	Price           string   `json:"price"`
	PriceParts      []string `json:"price_parts"`
	Example         string   `json:"example"`
}

func (a *app) quote(w http.ResponseWriter, r *http.Request) {
	conn, err := strconv.Atoi(r.PathValue("connectorId"))
	if err != nil || conn < 1 {
		a.billingError(w, sessionbilling.ErrBadConnector)
		return
	}
	amount, err1 := queryInt(r, "budget_amount")
	wh, err2 := queryInt(r, "budget_wh")
	mins, err3 := queryInt(r, "budget_minutes")
	if err := errors.Join(err1, err2, err3); err != nil {
		a.billingError(w, err)
		return
	}
	budget, err := budgetOf(amount, wh, mins)
	if err != nil {
		a.billingError(w, err)
		return
	}
	q, err := a.Billing.Quote(r.Context(), r.PathValue("stationId"), conn, budget)
	if err != nil {
		a.billingError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, a.quoteView(r.Context(), q, conn))
}

// quoteView is a quote as the driver sees it, with the connector's state
// now ("Unknown" before the station reported it).
func (a *app) quoteView(ctx context.Context, q sessionbilling.Quote, conn int) quoteJSON {
	out := quoteJSON{StationID: q.Station.ID, ConnectorID: conn, Operator: q.Operator.Name, Currency: q.Hold.Currency,
		HoldAmount: q.Hold.Amount, Price: q.Description.Summary, PriceParts: q.Description.Parts, Example: q.Description.Example,
		Online: a.Billing.StationOnline(q.Station.ID), ConnectorStatus: "Unknown"}
	if q.Site != nil {
		out.Site = q.Site.Name
	}
	if cs, err := a.Store.ListConnectors(ctx, q.Station.ID); err == nil {
		for _, c := range cs {
			if c.ConnectorID == conn {
				out.ConnectorStatus = c.Status
			}
		}
	}
	return out
}

type checkoutRequest struct {
	StationID     string `json:"station_id"`
	ConnectorID   int    `json:"connector_id"`
	BudgetAmount  int64  `json:"budget_amount,omitempty"`
	BudgetWh      int64  `json:"budget_wh,omitempty"`
	BudgetMinutes int64  `json:"budget_minutes,omitempty"`
	Email         string `json:"email,omitempty"`
}

type checkoutResponse struct {
	PaymentID   string `json:"payment_id"`
	AccessToken string `json:"access_token"`
	CheckoutURL string `json:"checkout_url"`
	HoldAmount  int64  `json:"hold_amount"`
	Currency    string `json:"currency"`
	SessionURL  string `json:"session_url"`
}

// checkout opens the hosted payment page for a session. JSON only: a
// cross-site form cannot send it without a CORS preflight, which is
// refused, so no CSRF token is needed for this endpoint.
func (a *app) checkout(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		writeError(w, http.StatusUnsupportedMediaType, "json_required", "Send the request as application/json.")
		return
	}
	var req checkoutRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 8<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", "The request is not valid JSON of the expected shape: "+err.Error())
		return
	}
	if len(req.Email) > 254 || (req.Email != "" && !strings.Contains(req.Email, "@")) {
		writeError(w, http.StatusBadRequest, "bad_email", "That email address does not look right.")
		return
	}
	budget, err := budgetOf(req.BudgetAmount, req.BudgetWh, req.BudgetMinutes)
	if err != nil {
		a.billingError(w, err)
		return
	}
	if !a.limiter.allow(clientKey(r)) {
		writeError(w, http.StatusTooManyRequests, "rate_limited", "Too many payment attempts from here. Please wait a minute and try again.")
		return
	}
	co, err := a.Billing.StartCheckout(r.Context(), sessionbilling.CheckoutParams{StationID: req.StationID, ConnectorID: req.ConnectorID,
		Budget: budget, Email: req.Email})
	if err != nil {
		a.billingError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, checkoutResponse{PaymentID: co.Payment.ID, AccessToken: co.AccessToken, CheckoutURL: co.URL,
		HoldAmount: co.Payment.HoldAmount, Currency: co.Payment.Currency, SessionURL: "/app/p/" + co.Payment.ID + "?t=" + co.AccessToken})
}

// authorized reads the payment if the request carries its access token
// (Authorization: Bearer, or ?t= in links). Anything else is 404, as if
// the payment did not exist.
func (a *app) authorized(w http.ResponseWriter, r *http.Request) (store.SessionPayment, bool) {
	tok := r.URL.Query().Get("t")
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
		tok = strings.TrimPrefix(h, "Bearer ")
	}
	p, err := a.Store.GetSessionPayment(r.Context(), r.PathValue("paymentId"))
	if err != nil || !sessionbilling.CheckAccess(p, tok) {
		writeError(w, http.StatusNotFound, "not_found", "This session link is not valid. Check the link, or look up your receipt by its code.")
		return p, false
	}
	return p, true
}

// PaymentView is a session as its driver sees it.
type PaymentView struct {
	PaymentID     string     `json:"payment_id"`
	State         string     `json:"state"`
	PaymentStatus string     `json:"payment_status"`
	StationID     string     `json:"station_id"`
	ConnectorID   int        `json:"connector_id"`
	Currency      string     `json:"currency"`
	HoldAmount    int64      `json:"hold_amount"`
	StopAtCost    int64      `json:"stop_at_cost,omitempty"`
	DeclineCode   string     `json:"decline_code,omitempty"`
	EndReason     string     `json:"end_reason,omitempty"`
	CheckoutURL   string     `json:"checkout_url,omitempty"`
	SessionID     string     `json:"session_id,omitempty"`
	StartedAt     *time.Time `json:"started_at,omitempty"`
	StoppedAt     *time.Time `json:"stopped_at,omitempty"`
	EnergyWh      int64      `json:"energy_wh"`
	RunningCost   int64      `json:"running_cost"`
	AmountTotal   int64      `json:"amount_total"`
	AmountTax     int64      `json:"amount_tax"`
	ReceiptCode   string     `json:"receipt_code,omitempty"`
	PowerW        int64      `json:"power_w,omitempty"`
	// Remaining is what is left of the driver's budget (or the hold), -1
	// when not meaningful.
	Remaining int64  `json:"remaining"`
	Headline  string `json:"headline"`
	Tone      string `json:"tone"` // status colour: ok, info, warn, bad
	Message   string `json:"message"`
}

func (a *app) view(r *http.Request, p store.SessionPayment) PaymentView {
	v := PaymentView{PaymentID: p.ID, State: p.State, PaymentStatus: sessionbilling.SessionPaymentStatus(sessionbilling.State(p.State)),
		StationID: p.StationID, ConnectorID: p.ConnectorID, Currency: p.Currency, HoldAmount: p.HoldAmount, StopAtCost: p.StopAtCost,
		DeclineCode: p.DeclineCode, EndReason: p.EndReason, SessionID: p.SessionID, StartedAt: p.StartedAt, StoppedAt: p.StoppedAt,
		AmountTotal: p.AmountTotal, AmountTax: p.AmountTax, ReceiptCode: p.ReceiptCode, RunningCost: p.RunningCost}
	if sessionbilling.State(p.State) == sessionbilling.StateQuote {
		v.CheckoutURL = p.CheckoutURL
	}
	v.Remaining = -1
	if p.SessionID != "" {
		if sess, err := a.Store.GetSession(r.Context(), "", p.SessionID); err == nil {
			v.EnergyWh = sess.EnergyWh
		}
		if sessionStatus(p) == model.SessionActive {
			if mvs, err := a.Store.LatestMeterValues(r.Context(), p.SessionID, 1); err == nil {
				for _, mv := range mvs {
					if mv.PowerW != nil {
						v.PowerW = int64(*mv.PowerW + 0.5)
					}
				}
			}
		}
		if c, ok, err := a.Billing.SessionCost(r.Context(), model.Session{ID: p.SessionID, Status: sessionStatus(p)}); err == nil && ok {
			v.RunningCost = c.Total
		}
	}
	if sessionbilling.State(p.State) == sessionbilling.StateCharging {
		limit := p.HoldAmount
		if p.StopAtCost > 0 {
			limit = p.StopAtCost
		}
		v.Remaining = max(limit-v.RunningCost, 0)
	}
	v.Message = message(p)
	v.Headline, v.Tone = headline(p)
	return v
}

// headline is the session page's title and status colour.
func headline(p store.SessionPayment) (string, string) {
	switch sessionbilling.State(p.State) {
	case sessionbilling.StateQuote:
		if p.DeclineCode != "" {
			return "Card declined", "bad"
		}
		return "Waiting for payment", "info"
	case sessionbilling.StateAuthorized:
		return "Plug in your car", "info"
	case sessionbilling.StateCharging:
		return "Charging", "ok"
	case sessionbilling.StateStopped:
		return "Finishing", "info"
	case sessionbilling.StateCaptured:
		return "Charging complete", "ok"
	case sessionbilling.StateVoided:
		return "Nothing charged", "warn"
	case sessionbilling.StateFailed:
		return "Card declined", "bad"
	case sessionbilling.StateCanceled:
		return "Payment not completed", "warn"
	case sessionbilling.StateReceivable:
		return "Payment problem", "bad"
	}
	return "Your session", "info"
}

func sessionStatus(p store.SessionPayment) string {
	if sessionbilling.State(p.State) == sessionbilling.StateCharging {
		return model.SessionActive
	}
	return model.SessionCompleted
}

// message says where the driver is, in plain words.
func message(p store.SessionPayment) string {
	switch sessionbilling.State(p.State) {
	case sessionbilling.StateQuote:
		if p.DeclineCode != "" {
			return "Your card was declined. Nothing has been charged. You can try another card."
		}
		return "Waiting for payment."
	case sessionbilling.StateAuthorized:
		return "Payment approved. Plug in your car — the station is starting."
	case sessionbilling.StateCharging:
		return "Charging. Stop whenever you like: you pay only for what you use."
	case sessionbilling.StateStopped:
		return "Charging has ended. Finalising your payment…"
	case sessionbilling.StateCaptured:
		return "Charging has ended. You have been charged the amount shown; the rest of the hold is released."
	case sessionbilling.StateVoided:
		switch p.EndReason {
		case sessionbilling.ReasonNoStart, "station_rejected":
			return "The station did not start. Your hold has been released; nothing was charged."
		case sessionbilling.ReasonZeroEnergy:
			return "No energy was delivered, so nothing was charged. Your hold has been released."
		}
		return "Nothing was charged. Your hold has been released."
	case sessionbilling.StateFailed:
		return "Your card was declined. Nothing has been charged."
	case sessionbilling.StateCanceled:
		return "This payment was not completed. Nothing has been charged."
	case sessionbilling.StateReceivable:
		return "We could not take the payment for this session."
	}
	return ""
}

func (a *app) payment(w http.ResponseWriter, r *http.Request) {
	p, ok := a.authorized(w, r)
	if !ok {
		return
	}
	if sessionbilling.State(p.State) == sessionbilling.StateQuote {
		// Back from the hosted page before the webhook: ask the provider.
		if q, err := a.Billing.Reconcile(r.Context(), p.ID); err == nil {
			p = q
		}
	}
	writeJSON(w, http.StatusOK, a.view(r, p))
}

func (a *app) stop(w http.ResponseWriter, r *http.Request) {
	p, ok := a.authorized(w, r)
	if !ok {
		return
	}
	p, err := a.Billing.Stop(r.Context(), p.ID)
	if err != nil {
		a.billingError(w, err)
		return
	}
	writeJSON(w, http.StatusAccepted, a.view(r, p))
}

// receipt serves /app/r/{code} (HTML) and /app/r/{code}.pdf.
func (a *app) receipt(w http.ResponseWriter, r *http.Request) {
	code := r.PathValue("code")
	pdf := strings.HasSuffix(code, ".pdf")
	code = strings.TrimSuffix(code, ".pdf")
	p, err := a.Billing.FindReceipt(r.Context(), code)
	if err != nil {
		writeError(w, http.StatusNotFound, "not_found", "No receipt has that code. Check it and try again.")
		return
	}
	rc, err := a.Billing.Receipt(r.Context(), p)
	if err != nil {
		a.billingError(w, err)
		return
	}
	w.Header().Set("Cache-Control", "private, max-age=300")
	if pdf {
		w.Header().Set("Content-Type", "application/pdf")
		w.Header().Set("Content-Disposition", `inline; filename="receipt-`+rc.Code+`.pdf"`)
		if err := receipt.WritePDF(w, rc); err != nil {
			a.Logger.Error("writing a receipt PDF", "code", rc.Code, "err", err)
		}
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'")
	if err := receipt.WriteHTML(w, rc); err != nil {
		a.Logger.Error("writing a receipt", "code", rc.Code, "err", err)
	}
}
