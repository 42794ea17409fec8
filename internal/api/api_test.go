package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chargestar/chargestar/internal/csms"
	"github.com/chargestar/chargestar/internal/model"
	"github.com/chargestar/chargestar/internal/ocpp"
	"github.com/chargestar/chargestar/internal/ocpp/ocppj"
	"github.com/chargestar/chargestar/internal/payments/sandbox"
	"github.com/chargestar/chargestar/internal/sessionbilling"
	"github.com/chargestar/chargestar/internal/store"
)

// The test harness: a real store on a temporary SQLite database, a real
// CSMS service with fake station links, a real session billing service on
// the offline sandbox payment provider (its worker not running), and the
// API handler. Every answer
// that goes through env.do is checked against the OpenAPI document the
// handler serves (status documented, body valid against the schema, times
// in UTC), so the document and the behaviour cannot drift apart.

const adminToken = "test-admin-token-0123456789"

type env struct {
	t     *testing.T
	ctx   context.Context
	st    *store.Store
	svc   *csms.Service
	bill  *sessionbilling.Service
	h     *handler
	doc   *docChecker
	logs  *syncBuffer
	admin string
	a, b  *tenant
	// account is a NextCharge wallet account (AUD) with one card.
	account DriverAccount
	card    string
}

// tenant is one operator with a token and one of each resource.
type tenant struct {
	op      Operator
	token   string
	tokenID string
	site    Site
	station string // registered and connected (fake link)
	idle    string // registered, never connected
	idToken string
	session Session // completed
	active  Session
	fake    *fakeStation
	// Billing: a tariff assigned at operator scope, and the completed
	// session's settled (captured) payment with its receipt.
	tariff  Tariff
	payment store.SessionPayment
}

type envOption func(*envConfig)

type envConfig struct {
	commandTimeout time.Duration
	wrapStore      func(Store) Store
	noBilling      bool
}

func withCommandTimeout(d time.Duration) envOption {
	return func(c *envConfig) { c.commandTimeout = d }
}

func withStore(wrap func(Store) Store) envOption { return func(c *envConfig) { c.wrapStore = wrap } }

// withoutBilling builds the handler without a billing service.
func withoutBilling() envOption { return func(c *envConfig) { c.noBilling = true } }

// newEnv builds the harness with two operators, A and B, each with a site,
// a connected station, an idle station, an id token, a completed and an
// active session.
func newEnv(t *testing.T, opts ...envOption) *env {
	t.Helper()
	cfg := envConfig{commandTimeout: 5 * time.Second}
	for _, o := range opts {
		o(&cfg)
	}
	ctx := t.Context()
	st, err := store.Open(ctx, "sqlite:"+t.TempDir()+"/db", store.Options{Migrate: true, BatchMaxDelay: -1})
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	svc := csms.New(st, csms.Config{CommandTimeout: cfg.commandTimeout}, nil, nil)
	logs := &syncBuffer{}
	var s Store = st
	if cfg.wrapStore != nil {
		s = cfg.wrapStore(st)
	}
	provider, err := sandbox.New(st, sandbox.Options{BaseURL: "http://cs.test/pay/sandbox", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("sandbox.New: %v", err)
	}
	bill := sessionbilling.New(st, provider, nil, sessionbilling.Config{BaseURL: "http://cs.test"}, slog.New(slog.DiscardHandler))
	deps := Deps{Store: s, CSMS: svc, AdminToken: adminToken,
		Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	if !cfg.noBilling {
		deps.Billing = bill
	}
	h := newHandler(deps)
	e := &env{t: t, ctx: ctx, st: st, svc: svc, bill: bill, h: h, logs: logs, admin: adminToken}
	e.doc = newDocChecker(t, h.openapi)
	e.a = e.newTenant("Alpha Parking", "A")
	e.b = e.newTenant("Beta Charging", "B")
	e.decode(e.mustDo("POST", "/api/v1/driver-accounts", e.admin, map[string]any{"email": "driver@example.com", "currency": "AUD"}, 201), &e.account)
	e.card = "NC-CARD-1"
	e.mustDo("POST", "/api/v1/driver-accounts/"+e.account.ID+"/cards", e.admin, map[string]any{"id_token": e.card}, 201)
	return e
}

func (e *env) newTenant(name, tag string) *tenant {
	t := e.t
	t.Helper()
	tn := &tenant{}
	e.decode(e.mustDo("POST", "/api/v1/operators", e.admin, map[string]any{"name": name, "currency": "AUD", "country": "AU"}, 201), &tn.op)
	var tok NewAPIToken
	e.decode(e.mustDo("POST", "/api/v1/operators/"+tn.op.ID+"/tokens", e.admin, map[string]any{"name": "tests"}, 201), &tok)
	tn.token, tn.tokenID = tok.Token, tok.ID
	e.decode(e.mustDo("POST", "/api/v1/sites", tn.token, map[string]any{"name": "Site " + tag, "timezone": "Australia/Sydney"}, 201), &tn.site)
	tn.station = "CS-" + tag + "1"
	tn.idle = "CS-" + tag + "2"
	e.mustDo("POST", "/api/v1/stations", tn.token, map[string]any{"id": tn.station, "site_id": tn.site.ID}, 201)
	e.mustDo("POST", "/api/v1/stations", tn.token, map[string]any{"id": tn.idle}, 201)
	tn.idToken = "TAG-" + tag
	e.mustDo("POST", "/api/v1/id-tokens", tn.token, map[string]any{"id_token": tn.idToken, "status": "Accepted"}, 201)
	tn.fake = e.connect(tn.station, "ocpp1.6")

	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	done := e.startSession(tn.station, 1, tn.idToken, t0, 1000)
	e.stopSession(tn.station, done.TransactionID, t0.Add(time.Hour), 8000)
	e.decode(e.mustDo("GET", "/api/v1/sessions/"+done.ID, tn.token, nil, 200), &tn.session)
	act := e.startSession(tn.station, 2, tn.idToken, t0.Add(2*time.Hour), 500)
	e.decode(e.mustDo("GET", "/api/v1/sessions/"+act.ID, tn.token, nil, 200), &tn.active)

	e.decode(e.mustDo("POST", "/api/v1/tariffs", tn.token, map[string]any{"name": "Standard " + tag, "tariff": json.RawMessage(testTariff)}, 201), &tn.tariff)
	e.mustDo("PUT", "/api/v1/tariff-assignments", tn.token, map[string]any{"scope": "operator", "tariff_id": tn.tariff.ID}, 200)
	tn.payment = e.settledPayment(tn, done, t0, t0.Add(time.Hour), 1000, 8000)
	return tn
}

func (e *env) startSession(station string, connector int, tag string, at time.Time, meterStart int64) model.Session {
	e.t.Helper()
	s, _, err := e.st.StartSession(e.ctx, store.StartSessionParams{StationID: station, ConnectorID: connector, IDTag: tag, StartedAt: at, MeterStartWh: meterStart})
	if err != nil {
		e.t.Fatalf("StartSession: %v", err)
	}
	return s
}

func (e *env) stopSession(station, txID string, at time.Time, meterStop int64) {
	e.t.Helper()
	_, _, err := e.st.StopSession(e.ctx, store.StopSessionParams{StationID: station, TransactionID: txID, StoppedAt: at,
		MeterStopWh: &meterStop, Reason: "Local", Source: model.StopSourceStation})
	if err != nil {
		e.t.Fatalf("StopSession: %v", err)
	}
}

// connect registers a fake live link for a station.
func (e *env) connect(stationID, protocol string) *fakeStation {
	e.t.Helper()
	st, err := e.st.GetStation(e.ctx, stationID)
	if err != nil {
		e.t.Fatalf("GetStation: %v", err)
	}
	f := &fakeStation{version: protocol}
	l := e.svc.NewLink(st, nil)
	l.Bind(f, f)
	if err := e.svc.Connect(e.ctx, l); err != nil {
		e.t.Fatalf("Connect: %v", err)
	}
	e.t.Cleanup(func() { e.svc.Disconnect(l) })
	return f
}

// fakeStation is a connected station's protocol adapter and RPC caller.
// Its commands: Reset needs {"type":"Hard"|"Soft"} and is Accepted;
// GetConfiguration answers without a status; UnlockConnector answers a
// CALLERROR; TriggerMessage never answers; ChangeAvailability is Rejected.
type fakeStation struct {
	version string

	mu    sync.Mutex
	calls []fakeCall
}

type fakeCall struct {
	action  string
	payload string
}

func (f *fakeStation) Version() string { return f.version }

func (f *fakeStation) CheckCommand(action string, payload []byte) error {
	switch action {
	case "Reset":
		var p struct {
			Type *string `json:"type"`
		}
		if err := json.Unmarshal(payload, &p); err != nil {
			return &ocpp.ValidationError{Kind: ocpp.KindFormation, Msg: "not a JSON object"}
		}
		if p.Type == nil {
			return &ocpp.ValidationError{Kind: ocpp.KindOccurrence, Path: "type", Msg: "required property missing"}
		}
		if *p.Type != "Hard" && *p.Type != "Soft" {
			return &ocpp.ValidationError{Kind: ocpp.KindProperty, Path: "type", Msg: fmt.Sprintf("value %q is not one of Hard, Soft", *p.Type)}
		}
		return nil
	case "GetConfiguration", "UnlockConnector", "TriggerMessage", "ChangeAvailability", "ClearCache":
		return nil
	}
	return csms.ErrUnknownCommand
}

func (f *fakeStation) Call(ctx context.Context, action string, payload []byte) (ocppj.Result, error) {
	f.mu.Lock()
	f.calls = append(f.calls, fakeCall{action, string(payload)})
	f.mu.Unlock()
	switch action {
	case "Reset", "ClearCache":
		return ocppj.Result{Payload: []byte(`{"status":"Accepted"}`)}, nil
	case "ChangeAvailability":
		return ocppj.Result{Payload: []byte(`{"status":"Rejected"}`)}, nil
	case "GetConfiguration":
		return ocppj.Result{Payload: []byte(`{"configurationKey":[{"key":"HeartbeatInterval","readonly":false,"value":"300"}],"unknownKey":[]}`)}, nil
	case "UnlockConnector":
		return ocppj.Result{}, &ocppj.CallError{Code: ocppj.NotSupported, RawCode: "NotSupported", Description: "unlocking is not supported"}
	case "TriggerMessage":
		<-ctx.Done()
		return ocppj.Result{}, ctx.Err()
	}
	return ocppj.Result{}, errors.New("unexpected call")
}

func (f *fakeStation) Calls() []fakeCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeCall(nil), f.calls...)
}

// resp is a recorded answer.
type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r *resp) String() string { return fmt.Sprintf("%d %s", r.status, r.body) }

// errorCode returns the error code of an error answer ("" if none).
func (r *resp) errorCode() string {
	var e Error
	_ = json.Unmarshal(r.body, &e)
	return e.Error.Code
}

func (r *resp) errorMessage() string {
	var e Error
	_ = json.Unmarshal(r.body, &e)
	return e.Error.Message
}

// do sends a request to the handler and checks the answer against the
// OpenAPI document. body: nil (none), string or []byte (raw), or a value
// marshalled as JSON.
func (e *env) do(method, path, token string, body any) *resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		js, err := json.Marshal(b)
		if err != nil {
			e.t.Fatalf("marshal body: %v", err)
		}
		rd = bytes.NewReader(js)
	}
	req := httptest.NewRequestWithContext(e.ctx, method, path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	r := &resp{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
	e.doc.check(e.t, req, r)
	return r
}

// mustDo is do that fails the test unless the status is want.
func (e *env) mustDo(method, path, token string, body any, want int) *resp {
	e.t.Helper()
	r := e.do(method, path, token, body)
	if r.status != want {
		e.t.Fatalf("%s %s: got %s, want status %d", method, path, r, want)
	}
	return r
}

func (e *env) decode(r *resp, v any) {
	e.t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		e.t.Fatalf("decoding %s: %v", r, err)
	}
}

// object decodes an answer as a generic JSON object.
func (e *env) object(r *resp) map[string]any {
	e.t.Helper()
	var m map[string]any
	e.decode(r, &m)
	return m
}

// scenario is one table-driven API case.
type scenario struct {
	name   string
	method string
	path   string
	token  string
	body   any
	status int
	code   string // expected error code for a non-2xx answer
	msg    string // a substring the error message must contain
	check  func(t *testing.T, r *resp)
}

func (e *env) run(t *testing.T, cases []scenario) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			saved := e.t
			e.t = t
			defer func() { e.t = saved }()
			r := e.do(c.method, c.path, c.token, c.body)
			if r.status != c.status {
				t.Fatalf("%s %s: got %s, want status %d", c.method, c.path, r, c.status)
			}
			if c.code != "" && r.errorCode() != c.code {
				t.Errorf("error code = %q, want %q (%s)", r.errorCode(), c.code, r)
			}
			if c.msg != "" && !strings.Contains(r.errorMessage(), c.msg) {
				t.Errorf("error message %q does not contain %q", r.errorMessage(), c.msg)
			}
			if c.check != nil {
				c.check(t, r)
			}
		})
	}
}

// listAll follows next_cursor from path (which may have a query) with the
// given page size and returns every item; it fails on a repeated item.
func (e *env) listAll(path, token string, limit int, key func(map[string]any) string) []map[string]any {
	e.t.Helper()
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	var all []map[string]any
	seen := map[string]bool{}
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 1000 {
			e.t.Fatalf("%s: pagination does not end", path)
		}
		url := fmt.Sprintf("%s%slimit=%d", path, sep, limit)
		if cursor != "" {
			url += "&cursor=" + cursor
		}
		var page struct {
			Items      []map[string]any `json:"items"`
			NextCursor string           `json:"next_cursor"`
		}
		e.decode(e.mustDo("GET", url, token, nil, 200), &page)
		if len(page.Items) > limit {
			e.t.Fatalf("%s: %d items in a page of %d", url, len(page.Items), limit)
		}
		for _, it := range page.Items {
			k := key(it)
			if seen[k] {
				e.t.Fatalf("%s: item %s repeated", url, k)
			}
			seen[k] = true
			all = append(all, it)
		}
		if page.NextCursor == "" {
			return all
		}
		if len(page.Items) == 0 {
			e.t.Fatalf("%s: empty page with a next cursor", url)
		}
		cursor = page.NextCursor
	}
}

func idKey(m map[string]any) string { return fmt.Sprint(m["id"]) }

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var utcTimeRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$`)

// Values with every optional field set, to check the schemas' nullable
// and enum branches.

var tFull = time.Date(2026, 5, 6, 7, 8, 9, 123456000, time.FixedZone("AEST", 10*3600))

func stationWithEverything() model.Station {
	t := tFull
	return model.Station{ID: "CP-1", OperatorID: "op_x", SiteID: "site_x", PasswordHash: []byte("h"), Protocol: "ocpp2.0.1",
		Vendor: "V", Model: "M", SerialNumber: "S", ChargeBoxSerial: "C", FirmwareVersion: "1.0", ICCID: "I", IMSI: "J",
		MeterType: "MT", MeterSerialNumber: "MS", RegistrationStatus: "Pending", HeartbeatInterval: 300, LastBootAt: &t,
		LastSeenAt: &t, FirmwareStatus: "Installed", FirmwareStatusAt: &t, DiagnosticsStatus: "Uploaded", DiagnosticsAt: &t,
		CreatedAt: t, RetiredAt: &t}
}

func sessionWithEverything() model.Session {
	t := tFull
	res, stop := 7, int64(9000)
	return model.Session{ID: "ses_x", OperatorID: "op_x", StationID: "CP-1", ConnectorID: 1, TransactionID: "42", IDTag: "T",
		ReservationID: &res, Status: model.SessionCompleted, StartedAt: t, StoppedAt: &t, MeterStartWh: 1, MeterStopWh: &stop,
		EnergyWh: 8999, StopReason: "EVDisconnected", StopSource: model.StopSourceEstimated, AmountTotal: 1234, AmountTax: 112,
		Currency: "AUD", PaymentStatus: model.PaymentCaptured, CreatedAt: t, UpdatedAt: t}
}

func idTokenWithEverything() model.IDToken {
	t := tFull
	return model.IDToken{OperatorID: "op_x", IDToken: "ABC", Status: model.TokenExpired, ExpiresAt: &t, ParentIDTag: "P", CreatedAt: t, UpdatedAt: t}
}

func operatorWithEverything() model.Operator {
	return model.Operator{ID: "op_x", Name: "N", Currency: "EUR", Country: "DE", CreatedAt: tFull,
		LegalName: "N GmbH", TaxID: "DE123456789", Address: "1 Hauptstraße, Berlin", SettlementMode: model.SettlementDirect, MerchantAccount: "acct_1"}
}
