// Package api is Charge Star's REST API under /api/v1/: operators and their
// API tokens, sites, stations (with their message log, status history and
// remote commands), id tokens and sessions; and billing: tariffs and where
// they apply, session payments and their receipts (HTML and PDF), and the
// platform's NextCharge driver accounts. It is described by the OpenAPI
// 3.1 document it serves at /api/v1/openapi.json.
//
// It is written on the standard library: routes are registered on an
// http.ServeMux from one route table (routes.go), and the same table, with
// the request and response types, generates the OpenAPI document
// (openapi.go, schema.go), so a route cannot be served without being
// documented. Every non-2xx answer, including unknown routes, wrong methods,
// malformed JSON and auth failures, has the body
// {"error":{"code":"snake_case_code","message":"human text"}} (errors.go).
//
// Tenancy: an operator's API token sees only that operator's resources;
// anything of another operator answers 404 exactly as if it did not exist.
// The platform administrator (CHARGESTAR_ADMIN_TOKEN, or a stored token
// without an operator) sees everything.
package api

import (
	"context"
	"crypto/sha256"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"time"
	_ "time/tzdata" // site timezones are validated with time.LoadLocation, also on hosts without zoneinfo

	"github.com/chargestar/chargestar/internal/access"
	"github.com/chargestar/chargestar/internal/billing"
	"github.com/chargestar/chargestar/internal/csms"
	"github.com/chargestar/chargestar/internal/ledger"
	"github.com/chargestar/chargestar/internal/live"
	"github.com/chargestar/chargestar/internal/model"
	"github.com/chargestar/chargestar/internal/payments"
	"github.com/chargestar/chargestar/internal/receipt"
	"github.com/chargestar/chargestar/internal/reports"
	"github.com/chargestar/chargestar/internal/sessionbilling"
	"github.com/chargestar/chargestar/internal/store"
)

// Prefix is the path prefix of every route; the server mounts the handler
// at it without stripping it.
const Prefix = "/api/v1/"

// Store is what the API needs from persistence (implemented by *store.Store).
type Store interface {
	CreateOperator(ctx context.Context, o model.Operator) (model.Operator, error)
	GetOperator(ctx context.Context, id string) (model.Operator, error)
	ListOperators(ctx context.Context) ([]model.Operator, error)
	UpdateOperator(ctx context.Context, o model.Operator) (model.Operator, error)

	CreateAPIToken(ctx context.Context, t model.APIToken) (model.APIToken, error)
	GetAPITokenByHash(ctx context.Context, hash []byte) (model.APIToken, error)
	RevokeAPIToken(ctx context.Context, operatorID, id string) error

	CreateSite(ctx context.Context, s model.Site) (model.Site, error)
	GetSite(ctx context.Context, operatorID, id string) (model.Site, error)
	ListSites(ctx context.Context, operatorID string) ([]model.Site, error)

	CreateStation(ctx context.Context, st model.Station) (model.Station, error)
	GetStation(ctx context.Context, id string) (model.Station, error)
	ListStations(ctx context.Context, f store.StationFilter) ([]model.Station, error)
	UpdateStation(ctx context.Context, st model.Station) (model.Station, error)
	ListConnectors(ctx context.Context, stationID string) ([]model.Connector, error)
	ListConnectorsOf(ctx context.Context, stationIDs []string) (map[string][]model.Connector, error)
	ListMessages(ctx context.Context, f store.MessageFilter) ([]model.MessageLogEntry, error)
	ListStatusEvents(ctx context.Context, stationID string, since time.Time, limit int) ([]model.StatusEvent, error)
	ListStationVariables(ctx context.Context, stationID string, f store.VariableFilter) ([]model.StationVariable, error)
	ListStationEvents(ctx context.Context, f store.StationEventFilter) ([]model.StationEvent, error)

	CreateIDToken(ctx context.Context, t model.IDToken) (model.IDToken, error)
	GetIDToken(ctx context.Context, operatorID, idToken string) (model.IDToken, error)
	ListIDTokens(ctx context.Context, operatorID string, limit int, after string) ([]model.IDToken, error)
	SetIDTokenStatus(ctx context.Context, operatorID, idToken, status string) (model.IDToken, error)

	GetSession(ctx context.Context, operatorID, id string) (model.Session, error)
	ListSessions(ctx context.Context, f store.SessionFilter) ([]model.Session, error)
	ListMeterValues(ctx context.Context, sessionID string, limit int) ([]model.MeterValue, error)

	SaveTariff(ctx context.Context, t store.Tariff) (store.Tariff, error)
	GetTariff(ctx context.Context, operatorID, id string) (store.Tariff, error)
	ListTariffs(ctx context.Context, operatorID string) ([]store.Tariff, error)
	DeleteTariff(ctx context.Context, operatorID, id string) error
	AssignTariff(ctx context.Context, a store.TariffAssignment) (store.TariffAssignment, error)
	UnassignTariff(ctx context.Context, operatorID, scope, scopeID string) error
	ListTariffAssignments(ctx context.Context, operatorID string) ([]store.TariffAssignment, error)
	EffectiveTariff(ctx context.Context, stationID string) (store.Tariff, string, error)

	GetSessionPayment(ctx context.Context, id string) (store.SessionPayment, error)
	PaymentRefunds(ctx context.Context, paymentID string) ([]store.PaymentRefund, error)
	Sales(ctx context.Context, operatorID string, from, to time.Time) ([]reports.Sale, error)
	Uses(ctx context.Context, operatorID string, from, to, now time.Time) ([]reports.Use, error)
	FindSessionPayment(ctx context.Context, f store.SessionPaymentFind) (store.SessionPayment, error)
	ListSessionPayments(ctx context.Context, f store.SessionPaymentFilter) ([]store.SessionPayment, error)

	SaveDriverAccount(ctx context.Context, a store.DriverAccount) (store.DriverAccount, error)
	GetDriverAccount(ctx context.Context, id string) (store.DriverAccount, error)
	ListDriverAccounts(ctx context.Context) ([]store.DriverAccount, error)
	SaveDriverCard(ctx context.Context, c store.DriverCard) (store.DriverCard, error)
	ListDriverCards(ctx context.Context, accountID string) ([]store.DriverCard, error)

	GetConsoleSession(ctx context.Context, hash []byte, now time.Time) (store.ConsoleSession, error)
	ExtendConsoleSession(ctx context.Context, hash []byte, seen, expires time.Time) error

	userStore
	alertStore
	statusReportStore
	networkStore
	liveStore
}

// CSMS is what the API needs from the central system core (implemented by
// *csms.Service).
type CSMS interface {
	Command(ctx context.Context, stationID, action string, payload []byte) (csms.CommandResult, error)
	SendNeutral(ctx context.Context, stationID string, c csms.NeutralCommand) (string, csms.CommandResult, error)
	SetRegistration(ctx context.Context, stationID, status string) error
	Connected(stationID string) bool
}

// Deps are the API's collaborators.
type Deps struct {
	Store Store
	CSMS  CSMS
	// Billing is session billing (tariff quotes, payments, receipts); nil
	// in tests that do not need it.
	Billing Billing
	// Live is the live-update broker the CSMS core nudges (GET
	// /board/events); nil answers that route 503.
	Live *live.Broker
	// PublicURL is the server's address as drivers reach it, for the QR
	// codes of sticker sheets; "" uses the request's host.
	PublicURL string
	// AdminToken is CHARGESTAR_ADMIN_TOKEN: a bearer token with exactly this
	// value is a platform administrator. "" disables it.
	AdminToken string
	Logger     *slog.Logger     // nil discards
	Now        func() time.Time // nil is time.Now
}

// handler is the API: the route table on a ServeMux, wrapped in logging,
// panic recovery and the JSON answers for unknown routes and methods.
type handler struct {
	store     Store
	csms      CSMS
	billing   Billing // nil: the billing routes answer 503
	live      *live.Broker
	publicURL string
	adminHash [sha256.Size]byte
	hasAdmin  bool
	log       *slog.Logger
	now       func() time.Time
	mux       *http.ServeMux
	routes    []route
	openapi   []byte // the OpenAPI document, rendered once
}

// New returns the REST API handler; it serves paths beginning with /api/v1/.
func New(d Deps) http.Handler { return newHandler(d) }

func newHandler(d Deps) *handler {
	h := &handler{store: d.Store, csms: d.CSMS, billing: d.Billing, live: d.Live, publicURL: strings.TrimRight(d.PublicURL, "/"), log: d.Logger, now: d.Now}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.now == nil {
		h.now = time.Now
	}
	if d.AdminToken != "" {
		h.hasAdmin = true
		h.adminHash = sha256.Sum256([]byte(d.AdminToken))
	}
	h.routes = h.routeTable()
	h.openapi = mustRenderOpenAPI(h.routes)
	h.mux = http.NewServeMux()
	for _, rt := range h.routes {
		h.mux.Handle(rt.method+" "+rt.pattern, h.wrap(rt))
	}
	h.mux.HandleFunc(Prefix, h.unmatched)
	return h
}

// reqInfo collects what the access log reports about a request.
type reqInfo struct {
	operatorID string
	admin      bool
}

type reqInfoKey struct{}

// statusWriter remembers the status written.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// ServeHTTP logs each request (method, route, status, duration, operator)
// and turns a panic into a 500 answer.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	info := &reqInfo{}
	r = r.WithContext(context.WithValue(r.Context(), reqInfoKey{}, info))
	sw := &statusWriter{ResponseWriter: w}
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			h.log.Error("api: handler panicked", "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
			if sw.status == 0 {
				writeError(sw, errInternal())
			}
		}
		route := r.Pattern
		if route == "" || route == Prefix {
			route = "unmatched"
		}
		level := slog.LevelInfo
		if sw.status >= 500 {
			level = slog.LevelWarn
		}
		h.log.LogAttrs(r.Context(), level, "api request",
			slog.String("method", r.Method),
			slog.String("route", route),
			slog.String("path", r.URL.Path),
			slog.Int("status", sw.status),
			slog.Duration("duration", time.Since(start)),
			slog.String("operator_id", info.operatorID),
			slog.Bool("admin", info.admin),
		)
	}()
	h.mux.ServeHTTP(sw, r)
}

// wrap authenticates (unless the route is public), runs the route's
// handler and writes its error, if any, as the JSON error body.
func (h *handler) wrap(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		var p principal
		if !rt.public {
			var err error
			if p, err = h.authenticate(r); err != nil {
				h.fail(w, r, err)
				return
			}
			if info, ok := r.Context().Value(reqInfoKey{}).(*reqInfo); ok {
				info.operatorID, info.admin = p.operatorID, p.admin
			}
			// The role is checked before anything is looked up, so a 403
			// says nothing about whether a resource exists.
			if !access.Can(p.role(), rt.need) {
				h.fail(w, r, errorf(http.StatusForbidden, codeForbidden, "your role (%s) may not %s", p.role(), rt.need))
				return
			}
			// url.Values drops malformed pairs silently; refuse them instead
			// of answering for a filter the client did not get.
			if _, err := url.ParseQuery(r.URL.RawQuery); err != nil {
				h.fail(w, r, errorf(http.StatusBadRequest, codeInvalidParameter, "the query string is malformed: %v", err))
				return
			}
		}
		if err := rt.handle(w, r, p); err != nil {
			h.fail(w, r, err)
		}
	})
}

// unmatched answers requests no route matched: 405 when the path exists
// with other methods, else 404.
func (h *handler) unmatched(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := h.mux.Handler(probe); pattern != "" && pattern != Prefix {
			allowed = append(allowed, m)
		}
	}
	if len(allowed) > 0 {
		if allowed[0] == http.MethodGet {
			allowed = append(allowed, http.MethodHead)
		}
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		writeError(w, errorf(http.StatusMethodNotAllowed, codeMethodNotAllowed,
			"method %s is not allowed on %s; allowed: %s", r.Method, r.URL.Path, strings.Join(allowed, ", ")))
		return
	}
	writeError(w, errorf(http.StatusNotFound, codeRouteNotFound,
		"no API route %s %s; the routes are listed in %sopenapi.json", r.Method, r.URL.Path, Prefix))
}

// Billing is what the API needs of session billing
// (*sessionbilling.Service).
type Billing interface {
	// Quote prices a session at a station's connector for a budget.
	Quote(ctx context.Context, stationID string, connectorID int, budget billing.Budget) (sessionbilling.Quote, error)
	// Stop stops a session's charging, or cancels a session that has not
	// started.
	Stop(ctx context.Context, paymentID string) (store.SessionPayment, error)
	// Refund requests a refund of a captured session payment.
	Refund(ctx context.Context, paymentID string, amount int64, reason string) (store.PaymentRefund, error)
	// Receipt builds a settled session's receipt.
	Receipt(ctx context.Context, p store.SessionPayment) (receipt.Receipt, error)
	WalletBalance(ctx context.Context, acct store.DriverAccount) (ledger.Balance, error)
	StartTopUp(ctx context.Context, accountID string, amount int64, successURL, cancelURL string) (sessionbilling.Checkout, error)
	StartCardSetup(ctx context.Context, accountID, successURL, cancelURL string) (payments.Checkout, error)
}

var _ Billing = (*sessionbilling.Service)(nil)

// billingService returns the billing service, or the 503 when the server
// runs without one.
func (h *handler) billingService() (Billing, error) {
	if h.billing == nil {
		return nil, errorf(http.StatusServiceUnavailable, codeBillingUnavailable, "session billing is not available on this server")
	}
	return h.billing, nil
}
