package conformance

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chargestar/chargestar/internal/csms"
	"github.com/chargestar/chargestar/internal/model"
	"github.com/chargestar/chargestar/internal/ocpp/ocppj"
	"github.com/chargestar/chargestar/internal/servertest"
)

// Configured values of the suite, in the OCTT's terms.
const (
	validTag   = "VALID-TAG-1"   // <Configured valid IdTag>
	validTag2  = "VALID-TAG-2"   // <Configured valid IdTag 2>
	parentTag  = "PARENT-TAG-1"  // <Configured ParentId>
	invalidTag = "UNKNOWN-TAG-9" // never registered: Invalid
	blockedTag = "BLOCKED-TAG-1"
	expiredTag = "EXPIRED-TAG-1"
)

// wait bounds every wait for a frame or an API answer in the suite.
const wait = 5 * time.Second

// env is one test's server with one operator.
type env struct {
	t   *testing.T
	srv *servertest.Server
	op  model.Operator
}

func newEnv(t *testing.T, opts servertest.Options) *env {
	t.Helper()
	srv := servertest.Start(t, opts)
	return &env{t: t, srv: srv, op: srv.Operator(t, "Conformance Operator")}
}

// with returns the env for a subtest.
func (e *env) with(t *testing.T) *env { c := *e; c.t = t; return &c }

// addStation registers a station without Basic authentication.
func (e *env) addStation(id string) { e.t.Helper(); e.srv.Station(e.t, e.op.ID, id, "") }

// addToken registers an id token of the operator.
func (e *env) addToken(tag, status string) {
	e.t.Helper()
	e.srv.IDToken(e.t, e.op.ID, tag, status, nil)
}

// addTokens registers the suite's standard tokens.
func (e *env) addTokens() {
	e.t.Helper()
	e.addToken(validTag, model.TokenAccepted)
	e.addToken(validTag2, model.TokenAccepted)
	e.addToken(blockedTag, model.TokenBlocked)
	past := time.Now().Add(-24 * time.Hour)
	e.srv.IDToken(e.t, e.op.ID, expiredTag, model.TokenAccepted, &past)
}

// connect dials a station with the ocpp1.6 subprotocol and waits until the
// server has registered the connection.
//
// The wait is deliberate: a station frame that reaches the server in the
// instant between the 101 answer and the hijack of the connection loses its
// first byte (see TestHandshakeFirstFrameRightAfterUpgrade); the other tests
// are about other things and must not flake on that defect.
func (e *env) connect(id string) *servertest.Station {
	e.t.Helper()
	prev, _ := e.srv.CSMS.Link(id)
	st := e.srv.Connect(e.t, id)
	e.waitLinked(id, prev)
	return st
}

// dial is connect with options; on success it waits like connect.
func (e *env) dial(id string, o servertest.DialOptions) (*servertest.Station, *http.Response, error) {
	e.t.Helper()
	prev, _ := e.srv.CSMS.Link(id)
	st, resp, err := e.srv.Dial(e.t, id, o)
	if err == nil && st.Subprotocol != "" {
		e.waitLinked(id, prev)
	}
	return st, resp, err
}

func (e *env) waitLinked(id string, prev *csms.Link) {
	e.t.Helper()
	servertest.Eventually(e.t, wait, "the server to register the connection of "+id, func() bool {
		l, ok := e.srv.CSMS.Link(id)
		return ok && l != prev
	})
}

// waitDisconnected waits until the server has no live connection of id.
func (e *env) waitDisconnected(id string) {
	e.t.Helper()
	servertest.Eventually(e.t, wait, "the server to drop the connection of "+id, func() bool { return !e.srv.CSMS.Connected(id) })
}

// bootedStation registers, connects and boots a station with n connectors,
// each reported Available (connector 0 too): the OCTT's cold boot.
func (e *env) bootedStation(id string, n int) *servertest.Station {
	e.t.Helper()
	e.addStation(id)
	st := e.connect(id)
	st.Boot()
	for c := 0; c <= n; c++ {
		status(e.t, st, c, "Available")
	}
	return st
}

// ts formats a time as stations usually send it.
func ts(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// base returns a whole-second time some hours ago: the start of a scenario
// whose station-side timestamps must be in the past.
func base() time.Time { return time.Now().UTC().Add(-3 * time.Hour).Truncate(time.Second) }

// status sends a StatusNotification (errorCode NoError, timestamp now).
func status(t *testing.T, st *servertest.Station, connector int, s string) {
	t.Helper()
	statusAt(t, st, connector, s, "NoError", time.Now())
}

// statusAt sends a StatusNotification with an error code and timestamp.
func statusAt(t *testing.T, st *servertest.Station, connector int, s, errorCode string, at time.Time) {
	t.Helper()
	st.CallOK("StatusNotification", fmt.Sprintf(`{"connectorId":%d,"errorCode":%q,"status":%q,"timestamp":%q}`, connector, errorCode, s, ts(at)))
}

// idTagStatus returns idTagInfo.status of an answer.
func idTagStatus(t *testing.T, m map[string]any) string {
	t.Helper()
	info, ok := m["idTagInfo"].(map[string]any)
	if !ok {
		t.Fatalf("answer has no idTagInfo: %v", m)
	}
	s, _ := info["status"].(string)
	return s
}

// authorize sends an Authorize and returns idTagInfo.status.
func authorize(t *testing.T, st *servertest.Station, tag string) string {
	t.Helper()
	return idTagStatus(t, st.CallOK("Authorize", fmt.Sprintf(`{"idTag":%q}`, tag)))
}

// startTx sends a StartTransaction and returns the transaction id and
// idTagInfo.status. extra is appended to the payload (e.g. `,"reservationId":5`).
func startTx(t *testing.T, st *servertest.Station, connector int, tag string, meterStart int, at time.Time, extra string) (int, map[string]any) {
	t.Helper()
	m := st.CallOK("StartTransaction", fmt.Sprintf(`{"connectorId":%d,"idTag":%q,"meterStart":%d,"timestamp":%q%s}`, connector, tag, meterStart, ts(at), extra))
	f, ok := m["transactionId"].(float64)
	if !ok || f != float64(int(f)) {
		t.Fatalf("StartTransaction.conf has no integer transactionId: %v", m)
	}
	return int(f), m
}

// stopTx sends a StopTransaction; reason "" leaves it out, extra is appended.
func stopTx(t *testing.T, st *servertest.Station, txID, meterStop int, at time.Time, tag, reason, extra string) map[string]any {
	t.Helper()
	p := fmt.Sprintf(`{"transactionId":%d,"meterStop":%d,"timestamp":%q`, txID, meterStop, ts(at))
	if tag != "" {
		p += fmt.Sprintf(`,"idTag":%q`, tag)
	}
	if reason != "" {
		p += fmt.Sprintf(`,"reason":%q`, reason)
	}
	return st.CallOK("StopTransaction", p+extra+"}")
}

// energyMV sends a MeterValues with the energy register (Wh) of a transaction.
func energyMV(t *testing.T, st *servertest.Station, connector, txID int, wh int, at time.Time) {
	t.Helper()
	st.CallOK("MeterValues", fmt.Sprintf(`{"connectorId":%d,"transactionId":%d,"meterValue":[{"timestamp":%q,"sampledValue":[{"value":"%d","context":"Sample.Periodic","measurand":"Energy.Active.Import.Register","unit":"Wh"}]}]}`,
		connector, txID, ts(at), wh))
}

// charging brings a booted station's connector into the OCTT's reusable
// state "Charging": Preparing, Authorize, StartTransaction, Charging. It
// returns the transaction id.
func charging(t *testing.T, st *servertest.Station, connector int, tag string, meterStart int, at time.Time) int {
	t.Helper()
	status(t, st, connector, "Preparing")
	if s := authorize(t, st, tag); s != "Accepted" {
		t.Fatalf("Authorize %s: idTagInfo.status %s, want Accepted", tag, s)
	}
	txID, m := startTx(t, st, connector, tag, meterStart, at, "")
	if s := idTagStatus(t, m); s != "Accepted" {
		t.Fatalf("StartTransaction %s: idTagInfo.status %s, want Accepted", tag, s)
	}
	status(t, st, connector, "Charging")
	return txID
}

// ---- REST API ----

// apiResp is an API answer; it is safe to produce on any goroutine.
type apiResp struct {
	Code int
	Body string
	Err  error
}

var httpClient = &http.Client{Timeout: 30 * time.Second}

// do performs an API request with the administrator token. It never calls
// t, so it may run on a goroutine of its own.
func (e *env) do(method, path, body string) apiResp {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, e.srv.URL+path, r)
	if err != nil {
		return apiResp{Err: err}
	}
	req.Header.Set("Authorization", "Bearer "+servertest.AdminToken)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return apiResp{Err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return apiResp{Code: resp.StatusCode, Body: string(b), Err: err}
}

// getJSON GETs path, requires 200 and decodes the answer into v.
func (e *env) getJSON(path string, v any) {
	e.t.Helper()
	r := e.do("GET", path, "")
	if r.Err != nil || r.Code != http.StatusOK {
		e.t.Fatalf("GET %s: %d %s %v", path, r.Code, r.Body, r.Err)
	}
	if err := json.Unmarshal([]byte(r.Body), v); err != nil {
		e.t.Fatalf("GET %s: decoding %s: %v", path, r.Body, err)
	}
}

// command posts a remote command on a goroutine; the answer arrives on the channel.
func (e *env) command(stationID, action, payload string) <-chan apiResp {
	ch := make(chan apiResp, 1)
	go func() { ch <- e.do("POST", "/api/v1/stations/"+url.PathEscape(stationID)+"/commands/"+action, payload) }()
	return ch
}

// await waits for an API answer.
func (e *env) await(ch <-chan apiResp) apiResp {
	e.t.Helper()
	select {
	case r := <-ch:
		if r.Err != nil {
			e.t.Fatalf("API request failed: %v", r.Err)
		}
		return r
	case <-time.After(20 * time.Second):
		e.t.Fatalf("the API did not answer within 20s")
	}
	return apiResp{}
}

// cmdResult is the API's answer to a command that the station answered.
type cmdResult struct {
	Status   string          `json:"status"`
	Response json.RawMessage `json:"response"`
}

// remote plays one "Central System sends <action>" step: the operator posts
// the command through the API, the station must receive exactly that action
// and payload, answers reply, and the API must answer 200 with the
// station's reply. It returns the API's answer.
func (e *env) remote(st *servertest.Station, action, payload, reply string) cmdResult {
	e.t.Helper()
	ch := e.command(st.ID, action, payload)
	call := st.ExpectCall(action, wait)
	jsonEq(e.t, action+".req at the station", call.Payload, payload)
	st.Reply(call, reply)
	r := e.await(ch)
	if r.Code != http.StatusOK {
		e.t.Fatalf("POST commands/%s: %d %s, want 200", action, r.Code, r.Body)
	}
	var res cmdResult
	if err := json.Unmarshal([]byte(r.Body), &res); err != nil {
		e.t.Fatalf("POST commands/%s: %s: %v", action, r.Body, err)
	}
	jsonEq(e.t, action+".conf in the API answer", res.Response, reply)
	return res
}

// remoteStatus is remote that also requires the API's status field.
func (e *env) remoteStatus(st *servertest.Station, action, payload, reply, wantStatus string) cmdResult {
	e.t.Helper()
	res := e.remote(st, action, payload, reply)
	if res.Status != wantStatus {
		e.t.Fatalf("POST commands/%s: status %q, want %q", action, res.Status, wantStatus)
	}
	return res
}

// jsonEq requires two JSON texts to be equal as values.
func jsonEq(t *testing.T, what string, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s: not JSON: %s", what, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("%s: bad expectation %s", what, want)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("%s:\n got %s\nwant %s", what, got, want)
	}
}

// session is a session as the API shows it.
type session struct {
	ID            string     `json:"id"`
	StationID     string     `json:"station_id"`
	ConnectorID   int        `json:"connector_id"`
	TransactionID string     `json:"transaction_id"`
	IDTag         string     `json:"id_tag"`
	ReservationID *int       `json:"reservation_id"`
	Status        string     `json:"status"`
	StartedAt     time.Time  `json:"started_at"`
	StoppedAt     *time.Time `json:"stopped_at"`
	MeterStartWh  int64      `json:"meter_start_wh"`
	MeterStopWh   *int64     `json:"meter_stop_wh"`
	EnergyWh      int64      `json:"energy_wh"`
	StopReason    *string    `json:"stop_reason"`
	StopSource    *string    `json:"stop_source"`
	Currency      string     `json:"currency"`
	PaymentStatus string     `json:"payment_status"`
	UpdatedAt     time.Time  `json:"updated_at"`
}

func (s session) String() string {
	b, _ := json.Marshal(s)
	return string(b)
}

// sessions lists a station's sessions, newest first.
func (e *env) sessions(stationID string) []session {
	e.t.Helper()
	var l struct {
		Items []session `json:"items"`
	}
	e.getJSON("/api/v1/sessions?station_id="+url.QueryEscape(stationID), &l)
	return l.Items
}

// sessionOf returns the station's session of a 1.6 transaction id.
func (e *env) sessionOf(stationID string, txID int) session {
	e.t.Helper()
	for _, s := range e.sessions(stationID) {
		if s.TransactionID == strconv.Itoa(txID) {
			return s
		}
	}
	e.t.Fatalf("no session of transaction %d at %s", txID, stationID)
	return session{}
}

// wantActive checks an active session.
func wantActive(t *testing.T, s session, connector int, tag string, startedAt time.Time, meterStart int64) {
	t.Helper()
	if s.Status != "active" || s.ConnectorID != connector || s.IDTag != tag || !s.StartedAt.Equal(startedAt) ||
		s.MeterStartWh != meterStart || s.StoppedAt != nil || s.StopReason != nil {
		t.Fatalf("session: got %v\nwant active on connector %d, id_tag %s, started_at %s, meter_start_wh %d",
			s, connector, tag, ts(startedAt), meterStart)
	}
}

// wantCompleted checks a completed session: times, energy and stop reason.
func wantCompleted(t *testing.T, s session, startedAt, stoppedAt time.Time, energyWh int64, reason string) {
	t.Helper()
	if s.Status != "completed" || !s.StartedAt.Equal(startedAt) || s.StoppedAt == nil || !s.StoppedAt.Equal(stoppedAt) ||
		s.EnergyWh != energyWh || s.StopReason == nil || *s.StopReason != reason {
		t.Fatalf("session: got %v\nwant completed, started_at %s, stopped_at %s, energy_wh %d, stop_reason %s",
			s, ts(startedAt), ts(stoppedAt), energyWh, reason)
	}
	if s.StopSource != nil && *s.StopSource != model.StopSourceStation {
		t.Fatalf("session: stop_source %s, want %s (the station reported the stop): %v", *s.StopSource, model.StopSourceStation, s)
	}
}

// stationView is a station as the API shows it.
type stationView struct {
	ID                 string          `json:"id"`
	Connected          bool            `json:"connected"`
	Protocol           *string         `json:"protocol"`
	Vendor             string          `json:"vendor"`
	Model              string          `json:"model"`
	SerialNumber       string          `json:"serial_number"`
	FirmwareVersion    string          `json:"firmware_version"`
	RegistrationStatus *string         `json:"registration_status"`
	HeartbeatInterval  int             `json:"heartbeat_interval"`
	LastBootAt         *time.Time      `json:"last_boot_at"`
	FirmwareStatus     *string         `json:"firmware_status"`
	DiagnosticsStatus  *string         `json:"diagnostics_status"`
	PasswordSet        bool            `json:"password_set"`
	Connectors         []connectorView `json:"connectors"`
}

type connectorView struct {
	ConnectorID     int       `json:"connector_id"`
	Status          string    `json:"status"`
	ErrorCode       string    `json:"error_code"`
	Info            string    `json:"info"`
	VendorErrorCode string    `json:"vendor_error_code"`
	StatusAt        time.Time `json:"status_at"`
}

func (e *env) station(id string) stationView {
	e.t.Helper()
	var v stationView
	e.getJSON("/api/v1/stations/"+url.PathEscape(id), &v)
	return v
}

// connector returns a connector of a station as the API shows it.
func (e *env) connector(id string, c int) connectorView {
	e.t.Helper()
	v := e.station(id)
	for _, cv := range v.Connectors {
		if cv.ConnectorID == c {
			return cv
		}
	}
	e.t.Fatalf("station %s: connector %d not listed: %+v", id, c, v.Connectors)
	return connectorView{}
}

// wantConnector requires a connector's status (and error code when given).
func (e *env) wantConnector(id string, c int, wantStatus, wantError string) {
	e.t.Helper()
	cv := e.connector(id, c)
	if cv.Status != wantStatus || wantError != "" && cv.ErrorCode != wantError {
		e.t.Fatalf("station %s connector %d: status %s error_code %s, want %s %s", id, c, cv.Status, cv.ErrorCode, wantStatus, wantError)
	}
}

// message is a message-log entry.
type message struct {
	Direction   string `json:"direction"`
	MessageType int    `json:"message_type"`
	MessageID   string `json:"message_id"`
	Action      string `json:"action"`
	Frame       string `json:"frame"`
}

// waitMessage waits until the station's message log holds a frame of the
// action in the direction containing the text (the log is written in batches).
func (e *env) waitMessage(stationID, action, direction, contains string) message {
	e.t.Helper()
	var found message
	servertest.Eventually(e.t, wait, fmt.Sprintf("a %s %s frame containing %q in the message log of %s", direction, action, contains, stationID), func() bool {
		var l struct {
			Items []message `json:"items"`
		}
		e.getJSON("/api/v1/stations/"+url.PathEscape(stationID)+"/messages?action="+url.QueryEscape(action), &l)
		for _, m := range l.Items {
			if m.Direction == direction && strings.Contains(m.Frame, contains) {
				found = m
				return true
			}
		}
		return false
	})
	return found
}

// wantCallError requires a frame to be a CALLERROR with a code.
func wantCallError(t *testing.T, f ocppj.Frame, code string) {
	t.Helper()
	if f.Type != ocppj.TypeCallError || f.ErrorCode != code {
		t.Fatalf("want CALLERROR %s, got type %d %s %q %s", code, f.Type, f.ErrorCode, f.ErrorDescription, f.Payload)
	}
}

// heartbeatOK checks the connection still works.
func heartbeatOK(t *testing.T, st *servertest.Station) {
	t.Helper()
	m := st.CallOK("Heartbeat", `{}`)
	if _, ok := m["currentTime"].(string); !ok {
		t.Fatalf("Heartbeat.conf without currentTime: %v", m)
	}
}
