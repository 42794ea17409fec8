// Package harness holds what the interoperability tests share: running a
// test on every database backend, and small JSON helpers over the REST API
// of a servertest server.
package harness

import (
	"encoding/json"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/chargestar/chargestar/internal/servertest"
)

// Backends runs f as a subtest on SQLite and on PostgreSQL. The PostgreSQL
// subtest skips when CHARGESTAR_TEST_POSTGRES_URL is not set (and fails
// instead under CHARGESTAR_TEST_STRICT=1).
func Backends(t *testing.T, f func(t *testing.T, postgres bool)) {
	t.Helper()
	for _, pg := range []bool{false, true} {
		name := "sqlite"
		if pg {
			name = "postgres"
		}
		t.Run(name, func(t *testing.T) { f(t, pg) })
	}
}

// Start starts a test server. CallTimeout is how long a remote command
// waits for the station (kept short so a lost answer fails fast).
func Start(t *testing.T, postgres bool) *servertest.Server {
	t.Helper()
	return servertest.Start(t, servertest.Options{Postgres: postgres, CallTimeout: 5 * time.Second})
}

// API performs a request with the admin token and decodes the JSON body
// into out (when out is not nil and the body is not empty). It returns
// the status code and the raw body.
func API(t testing.TB, srv *servertest.Server, method, path string, body any, out any) (int, string) {
	t.Helper()
	var b string
	switch v := body.(type) {
	case nil:
	case string:
		b = v
	case []byte:
		b = string(v)
	default:
		j, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("encoding %s %s body: %v", method, path, err)
		}
		b = string(j)
	}
	code, resp := srv.API(t, method, path, b)
	if out != nil && resp != "" {
		if err := json.Unmarshal([]byte(resp), out); err != nil {
			t.Fatalf("%s %s: answer is not JSON (%v): %d %s", method, path, err, code, resp)
		}
	}
	return code, resp
}

// CommandResult is the answer of POST /api/v1/stations/{id}/commands/{action}.
type CommandResult struct {
	Status   string          `json:"status"`
	Response json.RawMessage `json:"response"`
	Action   string          `json:"action"` // version-neutral commands: the OCPP action sent
}

// Command sends a remote command through the API and requires 200.
func Command(t testing.TB, srv *servertest.Server, stationID, action string, payload any) CommandResult {
	t.Helper()
	var res CommandResult
	code, body := API(t, srv, "POST", "/api/v1/stations/"+url.PathEscape(stationID)+"/commands/"+action, payload, &res)
	if code != 200 {
		t.Fatalf("command %s to %s: HTTP %d %s", action, stationID, code, body)
	}
	return res
}

// Station is the part of GET /api/v1/stations/{id} the tests look at.
type Station struct {
	ID                string  `json:"id"`
	OperatorID        string  `json:"operator_id"`
	Connected         bool    `json:"connected"`
	Protocol          *string `json:"protocol"`
	Vendor            string  `json:"vendor"`
	Model             string  `json:"model"`
	SerialNumber      string  `json:"serial_number"`
	FirmwareVersion   string  `json:"firmware_version"`
	FirmwareStatus    *string `json:"firmware_status"`
	DiagnosticsStatus *string `json:"diagnostics_status"`
	LastSeenAt        *string `json:"last_seen_at"`
	Connectors        []struct {
		ConnectorID int    `json:"connector_id"`
		Status      string `json:"status"`
		ErrorCode   string `json:"error_code"`
		Info        string `json:"info"`
	} `json:"connectors"`
}

// ConnectorStatus returns the status of a connector, or "" when not listed.
func (s Station) ConnectorStatus(id int) string {
	for _, c := range s.Connectors {
		if c.ConnectorID == id {
			return c.Status
		}
	}
	return ""
}

// GetStation reads a station through the API.
func GetStation(t testing.TB, srv *servertest.Server, id string) Station {
	t.Helper()
	var st Station
	code, body := API(t, srv, "GET", "/api/v1/stations/"+url.PathEscape(id), nil, &st)
	if code != 200 {
		t.Fatalf("GET station %s: HTTP %d %s", id, code, body)
	}
	return st
}

// Session is the part of a session of GET /api/v1/sessions the tests look at.
type Session struct {
	ID            string  `json:"id"`
	StationID     string  `json:"station_id"`
	ConnectorID   int     `json:"connector_id"`
	TransactionID string  `json:"transaction_id"`
	IDTag         string  `json:"id_tag"`
	Status        string  `json:"status"`
	StartedAt     string  `json:"started_at"`
	StoppedAt     *string `json:"stopped_at"`
	MeterStartWh  int64   `json:"meter_start_wh"`
	MeterStopWh   *int64  `json:"meter_stop_wh"`
	EnergyWh      int64   `json:"energy_wh"`
	StopReason    *string `json:"stop_reason"`
	StopSource    *string `json:"stop_source"`
	AmountTotal   int64   `json:"amount_total"`
	AmountTax     int64   `json:"amount_tax"`
	Currency      string  `json:"currency"`
	PaymentStatus string  `json:"payment_status"`
}

func (s Session) String() string {
	b, _ := json.Marshal(s)
	return string(b)
}

// Sessions lists a station's sessions through the API.
func Sessions(t testing.TB, srv *servertest.Server, stationID string) []Session {
	t.Helper()
	var list struct {
		Items []Session `json:"items"`
	}
	code, body := API(t, srv, "GET", "/api/v1/sessions?station_id="+url.QueryEscape(stationID), nil, &list)
	if code != 200 {
		t.Fatalf("GET sessions of %s: HTTP %d %s", stationID, code, body)
	}
	return list.Items
}

// SessionByTx returns the station's session with a transaction id.
func SessionByTx(t testing.TB, srv *servertest.Server, stationID, txID string) (Session, bool) {
	t.Helper()
	for _, s := range Sessions(t, srv, stationID) {
		if s.TransactionID == txID {
			return s, true
		}
	}
	return Session{}, false
}

// MeterValue is one item of GET /api/v1/sessions/{id}/meter-values.
type MeterValue struct {
	TransactionID string   `json:"transaction_id"`
	Timestamp     string   `json:"timestamp"`
	Context       string   `json:"context"`
	EnergyWh      *float64 `json:"energy_wh"`
	PowerW        *float64 `json:"power_w"`
	Samples       []struct {
		Value     string `json:"value"`
		Measurand string `json:"measurand"`
		Unit      string `json:"unit"`
	} `json:"samples"`
}

// MeterValues lists a session's meter values through the API.
func MeterValues(t testing.TB, srv *servertest.Server, sessionID string) []MeterValue {
	t.Helper()
	var list struct {
		Items []MeterValue `json:"items"`
	}
	code, body := API(t, srv, "GET", "/api/v1/sessions/"+url.PathEscape(sessionID)+"/meter-values", nil, &list)
	if code != 200 {
		t.Fatalf("GET meter values of %s: HTTP %d %s", sessionID, code, body)
	}
	return list.Items
}

// Eventually polls cond every 20 ms until it returns "" (done) or the
// timeout passes; then the test fails with cond's last explanation.
func Eventually(t testing.TB, timeout time.Duration, cond func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		why := cond()
		if why == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", timeout, why)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// RFC3339 formats a time as the API does (UTC, seconds).
func RFC3339(tm time.Time) string { return tm.UTC().Format(time.RFC3339) }

// SameInstant reports whether an RFC 3339 text names the instant tm (to the second).
func SameInstant(text string, tm time.Time) bool {
	got, err := time.Parse(time.RFC3339Nano, text)
	return err == nil && got.Truncate(time.Second).Equal(tm.Truncate(time.Second))
}

// JSON renders v compactly for messages.
func JSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%#v", v)
	}
	return string(b)
}

// Variable is one item of GET /api/v1/stations/{id}/variables (the
// device model of a 2.x station).
type Variable struct {
	Component         string `json:"component"`
	ComponentInstance string `json:"component_instance"`
	EVSEID            int    `json:"evse_id"`
	ConnectorID       int    `json:"connector_id"`
	Variable          string `json:"variable"`
	VariableInstance  string `json:"variable_instance"`
	AttributeType     string `json:"attribute_type"`
	Value             string `json:"value"`
	Mutability        string `json:"mutability"`
	DataType          string `json:"data_type"`
	Unit              string `json:"unit"`
	Status            string `json:"status"`
}

// Variables lists a station's device model through the API, keyed
// "Component.Variable.AttributeType" (with "/evseN" after the component
// when it is on an EVSE).
func Variables(t testing.TB, srv *servertest.Server, stationID string) map[string]Variable {
	t.Helper()
	var list struct {
		Items []Variable `json:"items"`
	}
	code, body := API(t, srv, "GET", "/api/v1/stations/"+url.PathEscape(stationID)+"/variables", nil, &list)
	if code != 200 {
		t.Fatalf("GET variables of %s: HTTP %d %s", stationID, code, body)
	}
	out := make(map[string]Variable, len(list.Items))
	for _, v := range list.Items {
		c := v.Component
		if v.EVSEID != 0 {
			c += fmt.Sprintf("/evse%d", v.EVSEID)
		}
		out[c+"."+v.Variable+"."+v.AttributeType] = v
	}
	return out
}

// StationEvent is one item of GET /api/v1/stations/{id}/events.
type StationEvent struct {
	Kind      string `json:"kind"`
	Type      string `json:"type"`
	TechInfo  string `json:"tech_info"`
	Payload   string `json:"payload"`
	Timestamp string `json:"timestamp"`
}

// StationEvents lists the events a station reported, newest first.
func StationEvents(t testing.TB, srv *servertest.Server, stationID string) []StationEvent {
	t.Helper()
	var list struct {
		Items []StationEvent `json:"items"`
	}
	code, body := API(t, srv, "GET", "/api/v1/stations/"+url.PathEscape(stationID)+"/events", nil, &list)
	if code != 200 {
		t.Fatalf("GET events of %s: HTTP %d %s", stationID, code, body)
	}
	return list.Items
}

// StatusEvent is one item of GET /api/v1/stations/{id}/status-events.
type StatusEvent struct {
	ConnectorID int    `json:"connector_id"`
	Status      string `json:"status"`
	ErrorCode   string `json:"error_code"`
	Info        string `json:"info"`
	Timestamp   string `json:"timestamp"`
}

// StatusEvents lists a station's status history, oldest first.
func StatusEvents(t testing.TB, srv *servertest.Server, stationID string) []StatusEvent {
	t.Helper()
	var list struct {
		Items []StatusEvent `json:"items"`
	}
	code, body := API(t, srv, "GET", "/api/v1/stations/"+url.PathEscape(stationID)+"/status-events?limit=500", nil, &list)
	if code != 200 {
		t.Fatalf("GET status events of %s: HTTP %d %s", stationID, code, body)
	}
	return list.Items
}
