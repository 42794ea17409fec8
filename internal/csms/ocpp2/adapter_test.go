package ocpp2_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chargestar/chargestar/internal/csms"
	"github.com/chargestar/chargestar/internal/model"
	"github.com/chargestar/chargestar/internal/servertest"
)

const wait = 5 * time.Second

type env struct {
	t   *testing.T
	srv *servertest.Server
	op  model.Operator
	st  *servertest.Station
}

// connect starts a server (SQLite, or PostgreSQL when pg) with one station
// speaking version, booted, and the standard tokens.
func connect(t *testing.T, pg bool, version string) *env {
	t.Helper()
	srv := servertest.Start(t, servertest.Options{Postgres: pg})
	op := srv.Operator(t, "Op 2x")
	id := "CS2-" + strings.ReplaceAll(version, ".", "")
	srv.Station(t, op.ID, id, "")
	srv.IDToken(t, op.ID, "GOOD-1", "Accepted", nil)
	srv.IDToken(t, op.ID, "BLOCKED-1", "Blocked", nil)
	st, _, err := srv.Dial(t, id, servertest.DialOptions{Subprotocols: []string{version}})
	if err != nil {
		t.Fatal(err)
	}
	if st.Subprotocol != version {
		t.Fatalf("negotiated %q, want %q", st.Subprotocol, version)
	}
	st.Boot2()
	return &env{t: t, srv: srv, op: op, st: st}
}

func (e *env) api(method, path, body string) map[string]any {
	e.t.Helper()
	code, out := e.srv.API(e.t, method, path, body)
	if code/100 != 2 {
		e.t.Fatalf("%s %s: %d %s", method, path, code, out)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		e.t.Fatalf("%s %s: %v in %s", method, path, err, out)
	}
	return m
}

func (e *env) station() map[string]any { return e.api("GET", "/api/v1/stations/"+e.st.ID, "") }

func (e *env) connectorStatus(evse int) string {
	for _, c := range e.station()["connectors"].([]any) {
		c := c.(map[string]any)
		if int(c["connector_id"].(float64)) == evse {
			return c["status"].(string)
		}
	}
	return ""
}

func (e *env) waitStatus(evse int, want string) {
	e.t.Helper()
	var got string
	servertest.Eventually(e.t, wait, fmt.Sprintf("EVSE %d %s", evse, want), func() bool {
		got = e.connectorStatus(evse)
		return got == want
	})
}

func (e *env) sessions() []map[string]any {
	items := e.api("GET", "/api/v1/sessions?station_id="+e.st.ID, "")["items"].([]any)
	out := make([]map[string]any, len(items))
	for i, it := range items {
		out[i] = it.(map[string]any)
	}
	return out
}

func (e *env) session(txID string) map[string]any {
	e.t.Helper()
	for _, s := range e.sessions() {
		if s["transaction_id"] == txID {
			return s
		}
	}
	e.t.Fatalf("no session for transaction %s", txID)
	return nil
}

func ts(min int) string {
	return time.Date(2026, 11, 24, 10, min, 0, 0, time.UTC).Format(time.RFC3339)
}

func energy(wh int, context string) string {
	return fmt.Sprintf(`{"timestamp":%q,"sampledValue":[{"value":%d,"context":%q,"measurand":"Energy.Active.Import.Register","unitOfMeasure":{"unit":"Wh"}},{"value":7200,"measurand":"Power.Active.Import","context":%q}]}`,
		ts(wh/100), wh, context, context)
}

func txEvent(typ string, seq int, txID, extra string) string {
	return fmt.Sprintf(`{"eventType":%q,"timestamp":%q,"triggerReason":"MeterValuePeriodic","seqNo":%d,"transactionInfo":{"transactionId":%q%s}`,
		typ, ts(seq), seq, txID, extra)
}

func both(t *testing.T, f func(t *testing.T, version string)) {
	for _, v := range []string{"ocpp2.0.1", "ocpp2.1"} {
		t.Run(v, func(t *testing.T) { f(t, v) })
	}
}

func TestNegotiationPrefersNewest(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	op := srv.Operator(t, "Op")
	srv.Station(t, op.ID, "MULTI-1", "")
	st, _, err := srv.Dial(t, "MULTI-1", servertest.DialOptions{Subprotocols: []string{"ocpp1.6", "ocpp2.0.1", "ocpp2.1"}})
	if err != nil {
		t.Fatal(err)
	}
	if st.Subprotocol != "ocpp2.1" {
		t.Fatalf("negotiated %q, want ocpp2.1 (the server's first choice)", st.Subprotocol)
	}
	st.Boot2()
	servertest.Eventually(t, wait, "protocol recorded", func() bool {
		_, body := srv.API(t, "GET", "/api/v1/stations/MULTI-1", "")
		return strings.Contains(body, `"protocol":"ocpp2.1"`) && strings.Contains(body, `"vendor":"TestVendor"`)
	})
}

// TestSessionLifecycle runs a whole 2.x transaction: plug in, authorise,
// charge, replayed and out-of-order events, unplug; the session, its energy
// and the connector's 1.6-named statuses come out as for a 1.6 station.
func TestSessionLifecycle(t *testing.T) {
	both(t, func(t *testing.T, version string) {
		for _, pg := range []bool{false, true} {
			name := "sqlite"
			if pg {
				name = "postgres"
			}
			t.Run(name, func(t *testing.T) { sessionLifecycle(t, pg, version) })
		}
	})
}

func sessionLifecycle(t *testing.T, pg bool, version string) {
	e := connect(t, pg, version)
	st := e.st
	st.CallOK("StatusNotification", `{"timestamp":"`+ts(0)+`","connectorStatus":"Available","evseId":1,"connectorId":1}`)
	e.waitStatus(1, "Available")
	st.CallOK("StatusNotification", `{"timestamp":"`+ts(1)+`","connectorStatus":"Occupied","evseId":1,"connectorId":1}`)
	e.waitStatus(1, "Preparing")

	if got := st.CallOK("Authorize", `{"idToken":{"idToken":"GOOD-1","type":"ISO14443"}}`); got["idTokenInfo"].(map[string]any)["status"] != "Accepted" {
		t.Fatalf("authorize: %v", got)
	}
	if got := st.CallOK("Authorize", `{"idToken":{"idToken":"NOPE","type":"ISO14443"}}`); got["idTokenInfo"].(map[string]any)["status"] != "Invalid" {
		t.Fatalf("authorize unknown: %v", got)
	}

	// Started, with the register at 10,000 Wh.
	got := st.CallOK("TransactionEvent", txEvent("Started", 0, "TX-A", `,"chargingState":"EVConnected"},"evse":{"id":1,"connectorId":1},"idToken":{"idToken":"GOOD-1","type":"ISO14443"},"meterValue":[`+energy(10000, "Transaction.Begin")+`]`))
	if got["idTokenInfo"].(map[string]any)["status"] != "Accepted" {
		t.Fatalf("started: %v", got)
	}
	s := e.session("TX-A")
	if s["status"] != "active" || s["id_tag"] != nil && s["id_tag"] != "GOOD-1" {
		t.Fatalf("session after start: %v", s)
	}
	updated := txEvent("Updated", 1, "TX-A", `,"chargingState":"Charging"},"meterValue":[`+energy(12500, "Sample.Periodic")+`]`)
	st.CallOK("TransactionEvent", updated)
	e.waitStatus(1, "Charging")
	if s := e.session("TX-A"); s["energy_wh"].(float64) != 2500 {
		t.Fatalf("live energy %v, want 2500", s["energy_wh"])
	}
	// A replay changes nothing (no second meter value).
	st.CallOK("TransactionEvent", updated)
	mv := e.api("GET", "/api/v1/sessions/"+e.session("TX-A")["id"].(string)+"/meter-values", "")["items"].([]any)
	if len(mv) != 2 {
		t.Fatalf("%d meter values after a replay, want 2", len(mv))
	}
	st.CallOK("TransactionEvent", txEvent("Updated", 2, "TX-A", `,"chargingState":"SuspendedEV"}`))
	e.waitStatus(1, "SuspendedEV")

	// The driver unplugs: Ended with EVDisconnected.
	st.CallOK("TransactionEvent", txEvent("Ended", 3, "TX-A", `,"stoppedReason":"EVDisconnected","chargingState":"Idle"},"meterValue":[`+energy(13100, "Transaction.End")+`]`))
	s = e.session("TX-A")
	if s["status"] != "completed" || s["energy_wh"].(float64) != 3100 || s["stop_reason"] != "EVDisconnected" {
		t.Fatalf("completed session: %v", s)
	}
	e.waitStatus(1, "Finishing")
	st.CallOK("StatusNotification", `{"timestamp":"`+ts(9)+`","connectorStatus":"Available","evseId":1,"connectorId":1}`)
	e.waitStatus(1, "Available")

	// Out of order: the Updated (seqNo 1) arrives before the Started (seqNo 0);
	// both still make one session, whose start reading is the earliest.
	st.CallOK("TransactionEvent", txEvent("Updated", 1, "TX-B", `,"chargingState":"Charging"},"evse":{"id":1},"offline":true,"meterValue":[`+energy(20500, "Sample.Periodic")+`]`))
	st.CallOK("TransactionEvent", txEvent("Started", 0, "TX-B", `},"evse":{"id":1},"offline":true,"meterValue":[`+energy(20000, "Transaction.Begin")+`]`))
	st.CallOK("TransactionEvent", txEvent("Ended", 2, "TX-B", `,"stoppedReason":"Local"},"meterValue":[`+energy(21000, "Transaction.End")+`]`))
	n := 0
	for _, s := range e.sessions() {
		if s["transaction_id"] == "TX-B" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d sessions for TX-B, want 1", n)
	}
	if s := e.session("TX-B"); s["status"] != "completed" || s["energy_wh"].(float64) != 1000 || s["started_at"] != ts(0) {
		t.Fatalf("TX-B: %v", s)
	}

	// Authorised before plugging in: the first event names no EVSE
	// (E01.FR.16); the session waits on connector 0 and moves to the EVSE
	// the next event names.
	got = st.CallOK("TransactionEvent", txEvent("Started", 0, "TX-C", `},"idToken":{"idToken":"GOOD-1","type":"ISO14443"}`))
	if got["idTokenInfo"].(map[string]any)["status"] != "Accepted" {
		t.Fatalf("start without EVSE: %v", got)
	}
	if s := e.session("TX-C"); s["connector_id"].(float64) != 0 || s["status"] != "active" {
		t.Fatalf("session before its EVSE is known: %v", s)
	}
	st.CallOK("TransactionEvent", txEvent("Updated", 1, "TX-C", `,"chargingState":"EVConnected"},"evse":{"id":3,"connectorId":1},"meterValue":[`+energy(30000, "Sample.Periodic")+`]`))
	if s := e.session("TX-C"); s["connector_id"].(float64) != 3 {
		t.Fatalf("session after its EVSE is known: %v", s)
	}
	e.waitStatus(3, "Preparing")
	st.CallOK("TransactionEvent", txEvent("Ended", 2, "TX-C", `,"stoppedReason":"EVDisconnected"},"meterValue":[`+energy(30400, "Transaction.End")+`]`))
	if s := e.session("TX-C"); s["energy_wh"].(float64) != 400 || s["connector_id"].(float64) != 3 {
		t.Fatalf("TX-C completed: %v", s)
	}

	// Periodic readings stay out of the message log (they are stored as
	// meter values); starts and ends are in it.
	servertest.Eventually(t, wait, "transaction events in the message log", func() bool {
		code, body := e.srv.API(t, "GET", "/api/v1/stations/"+st.ID+"/messages?action=TransactionEvent&limit=500", "")
		return code == 200 && strings.Contains(body, `\"eventType\":\"Started\"`) && strings.Contains(body, `\"eventType\":\"Ended\"`)
	})
	if _, body := e.srv.API(t, "GET", "/api/v1/stations/"+st.ID+"/messages?action=TransactionEvent&limit=500", ""); strings.Contains(body, `\"triggerReason\":\"MeterValuePeriodic\",\"seqNo\":1`) && strings.Contains(body, `\"eventType\":\"Updated\"`) {
		t.Errorf("periodic updates in the message log: %s", body)
	}

	// A blocked token is answered Blocked.
	got = st.CallOK("TransactionEvent", txEvent("Started", 0, "TX-D", `},"evse":{"id":2},"idToken":{"idToken":"BLOCKED-1","type":"ISO14443"}`))
	if got["idTokenInfo"].(map[string]any)["status"] != "Blocked" {
		t.Fatalf("blocked token: %v", got)
	}
}

// TestStartWithoutTokenThenAuthorized: the cable is plugged in first (no
// token, no start reading), the driver identifies later.
func TestStartWithoutTokenThenAuthorized(t *testing.T) {
	both(t, func(t *testing.T, version string) {
		e := connect(t, false, version)
		e.st.CallOK("TransactionEvent", txEvent("Started", 0, "TX-P", `,"chargingState":"EVConnected"},"evse":{"id":1,"connectorId":1}`))
		if s := e.session("TX-P"); s["energy_wh"].(float64) != 0 {
			t.Fatalf("energy before any reading: %v", s["energy_wh"])
		}
		got := e.st.CallOK("TransactionEvent", txEvent("Updated", 1, "TX-P", `,"chargingState":"Charging"},"idToken":{"idToken":"GOOD-1","type":"ISO14443"},"meterValue":[`+energy(5000, "Sample.Periodic")+`]`))
		if got["idTokenInfo"].(map[string]any)["status"] != "Accepted" {
			t.Fatalf("authorized later: %v", got)
		}
		e.st.CallOK("TransactionEvent", txEvent("Ended", 2, "TX-P", `},"meterValue":[`+energy(5800, "Transaction.End")+`]`))
		s := e.session("TX-P")
		if s["energy_wh"].(float64) != 800 || s["stop_reason"] != "Local" {
			t.Fatalf("session: %v", s)
		}
		code, body := e.srv.API(t, "GET", "/api/v1/sessions?station_id="+e.st.ID, "")
		if code != http.StatusOK || !strings.Contains(body, `"GOOD-1"`) {
			t.Fatalf("token not recorded on the session: %s", body)
		}
	})
}

func TestNotAcceptedBeforeBoot(t *testing.T) {
	both(t, func(t *testing.T, version string) {
		srv := servertest.Start(t, servertest.Options{})
		op := srv.Operator(t, "Op")
		srv.Station(t, op.ID, "NEW-1", "")
		st, _, err := srv.Dial(t, "NEW-1", servertest.DialOptions{Subprotocols: []string{version}})
		if err != nil {
			t.Fatal(err)
		}
		st.CallError("Heartbeat", `{}`, "SecurityError")
		st.Boot2()
		st.CallOK("Heartbeat", `{}`)
	})
}

// TestCommands: a command goes out checked against the version's schema,
// and the station's answer comes back; GetVariables/SetVariables answers
// and NotifyReport keep the device model.
func TestCommands(t *testing.T) {
	both(t, func(t *testing.T, version string) {
		e := connect(t, false, version)
		path := "/api/v1/stations/" + e.st.ID + "/commands/"
		type result struct {
			code int
			body string
		}
		do := func(action, body string) chan result {
			ch := make(chan result, 1)
			go func() { c, b := e.srv.API(t, "POST", path+action, body); ch <- result{c, b} }()
			return ch
		}
		ch := do("Reset", `{"type":"Immediate"}`)
		call := e.st.ExpectCall("Reset", wait)
		e.st.Reply(call, `{"status":"Accepted"}`)
		if r := <-ch; r.code != 200 || !strings.Contains(r.body, `"status":"Accepted"`) {
			t.Fatalf("Reset: %d %s", r.code, r.body)
		}
		if c, b := e.srv.API(t, "POST", path+"Reset", `{"type":"Sideways"}`); c != 400 {
			t.Fatalf("invalid Reset: %d %s", c, b)
		}
		if c, b := e.srv.API(t, "POST", path+"RemoteStartTransaction", `{"connectorId":1,"idTag":"X"}`); c != 400 && c != 404 {
			t.Fatalf("a 1.6 command on a 2.x station: %d %s", c, b)
		}

		ch = do("GetVariables", `{"getVariableData":[{"component":{"name":"OCPPCommCtrlr"},"variable":{"name":"HeartbeatInterval"}}]}`)
		call = e.st.ExpectCall("GetVariables", wait)
		e.st.Reply(call, `{"getVariableResult":[{"attributeStatus":"Accepted","attributeValue":"300","component":{"name":"OCPPCommCtrlr"},"variable":{"name":"HeartbeatInterval"}}]}`)
		if r := <-ch; r.code != 200 {
			t.Fatalf("GetVariables: %d %s", r.code, r.body)
		}

		e.st.CallOK("NotifyReport", `{"requestId":1,"generatedAt":"`+ts(0)+`","seqNo":0,"reportData":[
			{"component":{"name":"SampledDataCtrlr"},"variable":{"name":"TxUpdatedInterval"},
			 "variableAttribute":[{"type":"Actual","value":"60","mutability":"ReadWrite"}],
			 "variableCharacteristics":{"dataType":"integer","unit":"s","supportsMonitoring":false}},
			{"component":{"name":"EVSE","evse":{"id":1}},"variable":{"name":"Power"},
			 "variableAttribute":[{"type":"Actual","value":"22000","mutability":"ReadOnly"},{"type":"MaxSet","value":"22000"}],
			 "variableCharacteristics":{"dataType":"decimal","unit":"W","supportsMonitoring":true}}]}`)

		ch = do("SetVariables", `{"setVariableData":[{"attributeValue":"30","component":{"name":"SampledDataCtrlr"},"variable":{"name":"TxUpdatedInterval"}}]}`)
		call = e.st.ExpectCall("SetVariables", wait)
		e.st.Reply(call, `{"setVariableResult":[{"attributeStatus":"Accepted","component":{"name":"SampledDataCtrlr"},"variable":{"name":"TxUpdatedInterval"}}]}`)
		if r := <-ch; r.code != 200 {
			t.Fatalf("SetVariables: %d %s", r.code, r.body)
		}

		vars := e.api("GET", "/api/v1/stations/"+e.st.ID+"/variables", "")["items"].([]any)
		byKey := map[string]map[string]any{}
		for _, v := range vars {
			v := v.(map[string]any)
			byKey[fmt.Sprintf("%s.%s.%s", v["component"], v["variable"], v["attribute_type"])] = v
		}
		if v := byKey["OCPPCommCtrlr.HeartbeatInterval.Actual"]; v == nil || v["value"] != "300" {
			t.Errorf("GetVariables value not kept: %v", vars)
		}
		if v := byKey["SampledDataCtrlr.TxUpdatedInterval.Actual"]; v == nil || v["value"] != "30" || v["data_type"] != "integer" || v["mutability"] != "ReadWrite" {
			t.Errorf("SetVariables value not kept over the report: %v", v)
		}
		if v := byKey["EVSE.Power.MaxSet"]; v == nil || v["value"] != "22000" || v["evse_id"].(float64) != 1 {
			t.Errorf("report not kept: %v", v)
		}
	})
}

func TestStationEvents(t *testing.T) {
	both(t, func(t *testing.T, version string) {
		e := connect(t, false, version)
		e.st.CallOK("SecurityEventNotification", `{"type":"FirmwareUpdated","timestamp":"`+ts(1)+`","techInfo":"2.0.1"}`)
		e.st.CallOK("NotifyEvent", `{"generatedAt":"`+ts(2)+`","seqNo":0,"eventData":[{"eventId":1,"timestamp":"`+ts(2)+`","trigger":"Delta","actualValue":"Faulted","component":{"name":"Connector","evse":{"id":1,"connectorId":1}},"variable":{"name":"AvailabilityState"},"eventNotificationType":"HardWiredNotification"}]}`)
		e.waitStatus(1, "Faulted")
		evs := e.api("GET", "/api/v1/stations/"+e.st.ID+"/events", "")["items"].([]any)
		kinds := map[string]bool{}
		for _, ev := range evs {
			kinds[ev.(map[string]any)["kind"].(string)] = true
		}
		if !kinds["security"] || !kinds["notify"] {
			t.Fatalf("events: %v", evs)
		}
		// Informational messages are validated and acknowledged.
		e.st.CallOK("NotifyEVChargingNeeds", `{"evseId":1,"chargingNeeds":{"requestedEnergyTransfer":"AC_three_phase"}}`)
		e.st.CallError("NotifyEVChargingNeeds", `{"evseId":"one"}`, "TypeConstraintViolation")
		e.st.CallError("RequestStartTransaction", `{}`, "NotSupported")
		e.st.CallError("NoSuchAction", `{}`, "NotImplemented")
	})
}

// TestPendingRegistration: an operator holds a new station Pending, reads
// and sets its configuration during pending, then accepts it; the station
// is asked to boot again and is Accepted (B02, TC_B_02_CSMS's flow).
func TestPendingRegistration(t *testing.T) {
	both(t, func(t *testing.T, version string) {
		srv := servertest.Start(t, servertest.Options{})
		op := srv.Operator(t, "Op")
		if code, body := srv.API(t, "POST", "/api/v1/stations", `{"id":"PEND-1","operator_id":"`+op.ID+`","registration_status":"Pending"}`); code != 201 {
			t.Fatalf("create: %d %s", code, body)
		}
		st, _, err := srv.Dial(t, "PEND-1", servertest.DialOptions{Subprotocols: []string{version}})
		if err != nil {
			t.Fatal(err)
		}
		boot := `{"reason":"PowerUp","chargingStation":{"vendorName":"V","model":"M"}}`
		got := st.CallOK("BootNotification", boot)
		if got["status"] != "Pending" || got["interval"].(float64) <= 0 {
			t.Fatalf("boot while held: %v", got)
		}
		st.CallError("Heartbeat", `{}`, "SecurityError")
		st.CallOK("NotifyReport", `{"requestId":7,"generatedAt":"`+ts(0)+`","seqNo":0,"reportData":[{"component":{"name":"OCPPCommCtrlr"},"variable":{"name":"HeartbeatInterval"},"variableAttribute":[{"value":"300"}]}]}`)

		// Configuration during pending.
		done := make(chan int, 1)
		go func() {
			code, _ := srv.API(t, "POST", "/api/v1/stations/PEND-1/commands/set-configuration", `{"key":"OCPPCommCtrlr.HeartbeatInterval","value":"120"}`)
			done <- code
		}()
		call := st.ExpectCall("SetVariables", wait)
		st.Reply(call, `{"setVariableResult":[{"attributeStatus":"Accepted","component":{"name":"OCPPCommCtrlr"},"variable":{"name":"HeartbeatInterval"}}]}`)
		if code := <-done; code != 200 {
			t.Fatalf("set-configuration during pending: %d", code)
		}

		// Accept: the station is asked to boot again.
		if code, body := srv.API(t, "PATCH", "/api/v1/stations/PEND-1", `{"registration_status":"Accepted"}`); code != 200 {
			t.Fatalf("accept: %d %s", code, body)
		}
		call = st.ExpectCall("TriggerMessage", wait)
		if !strings.Contains(string(call.Payload), `"requestedMessage":"BootNotification"`) {
			t.Fatalf("trigger: %s", call.Payload)
		}
		st.Reply(call, `{"status":"Accepted"}`)
		if got := st.CallOK("BootNotification", boot); got["status"] != "Accepted" {
			t.Fatalf("boot after acceptance: %v", got)
		}
		st.CallOK("Heartbeat", `{}`)
		if code, _ := srv.API(t, "PATCH", "/api/v1/stations/PEND-1", `{"registration_status":"Maybe"}`); code != 400 {
			t.Fatalf("bad registration accepted: %d", code)
		}
	})
}

// fakeBilling prices energy at 50 cents per kWh and limits every session
// to $20, 30 kWh and 2 hours.
type fakeBilling struct{}

func (fakeBilling) SessionCost(_ context.Context, s model.Session) (csms.Cost, bool, error) {
	return csms.Cost{Total: s.EnergyWh * 50 / 1000, Currency: s.Currency}, true, nil
}

func (fakeBilling) SessionLimit(context.Context, model.Session) (*csms.TransactionLimit, error) {
	cost, wh, d := int64(2000), int64(30000), 2*time.Hour
	return &csms.TransactionLimit{MaxCost: &cost, MaxEnergyWh: &wh, MaxTime: &d}, nil
}

// TestBillingSeam: the running cost goes back in every TransactionEvent
// answer (totalCost), the 2.1 answer carries the transaction limit, and
// costs and tariffs can be pushed to the station.
func TestBillingSeam(t *testing.T) {
	both(t, func(t *testing.T, version string) {
		srv := servertest.Start(t, servertest.Options{CSMSOptions: []csms.Option{csms.WithCostProvider(fakeBilling{})}})
		op := srv.Operator(t, "Op")
		srv.Station(t, op.ID, "BILL-1", "")
		st, _, err := srv.Dial(t, "BILL-1", servertest.DialOptions{Subprotocols: []string{version}})
		if err != nil {
			t.Fatal(err)
		}
		st.Boot2()
		st.CallOK("TransactionEvent", txEvent("Started", 0, "TX-1", `},"evse":{"id":1},"meterValue":[`+energy(10000, "Transaction.Begin")+`]`))
		got := st.CallOK("TransactionEvent", txEvent("Updated", 1, "TX-1", `,"chargingState":"Charging"},"meterValue":[`+energy(14000, "Sample.Periodic")+`]`))
		if got["totalCost"] != 2.0 {
			t.Errorf("totalCost %v, want 2 (4 kWh at $0.50)", got["totalCost"])
		}
		lim, _ := got["transactionLimit"].(map[string]any)
		if version == "ocpp2.1" {
			if lim["maxCost"] != 20.0 || lim["maxEnergy"] != 30000.0 || lim["maxTime"] != 7200.0 {
				t.Errorf("2.1 transaction limit: %v", got)
			}
		} else if lim != nil {
			t.Errorf("2.0.1 answer has a transaction limit: %v", got)
		}
		got = st.CallOK("TransactionEvent", txEvent("Ended", 2, "TX-1", `},"meterValue":[`+energy(16000, "Transaction.End")+`]`))
		if got["totalCost"] != 3.0 || got["transactionLimit"] != nil {
			t.Errorf("final answer: %v", got)
		}

		svc := srv.CSMS
		done := make(chan error, 1)
		go func() {
			_, err := svc.SendCostUpdate(context.Background(), "BILL-1", "TX-1", csms.Cost{Total: 1234, Currency: "AUD"})
			done <- err
		}()
		call := st.ExpectCall("CostUpdated", wait)
		if !strings.Contains(string(call.Payload), `"totalCost":12.34`) {
			t.Errorf("CostUpdated: %s", call.Payload)
		}
		st.Reply(call, `{}`)
		if err := <-done; err != nil {
			t.Fatal(err)
		}

		tariff := csms.StationTariff{ID: "T1", Currency: "AUD", Description: "$0.55/kWh incl. GST", EnergyPerKWh: 50,
			IdlePerMinute: 10, TaxPercent: 10, TaxName: "GST"}
		go func() {
			_, err := svc.SendDefaultTariff(context.Background(), "BILL-1", 0, tariff)
			done <- err
		}()
		if version == "ocpp2.1" {
			call := st.ExpectCall("SetDefaultTariff", wait)
			for _, want := range []string{`"tariffId":"T1"`, `"priceKwh":0.5`, `"priceMinute":0.1`, `{"type":"GST","tax":10}`} {
				if !strings.Contains(string(call.Payload), want) {
					t.Errorf("SetDefaultTariff %s lacks %s", call.Payload, want)
				}
			}
			st.Reply(call, `{"status":"Accepted"}`)
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		} else if err := <-done; !errors.Is(err, csms.ErrUnknownCommand) {
			t.Fatalf("tariff to a 2.0.1 station: %v", err)
		}
	})
}

// TestRPCErrorsPerVersion: bad frames and payloads are answered with the
// 2.x error codes, and the connection stays up.
func TestRPCErrorsPerVersion(t *testing.T) {
	both(t, func(t *testing.T, version string) {
		e := connect(t, false, version)
		st := e.st
		for { // what came before: the boot's answer
			if _, ok := st.NextRaw(50 * time.Millisecond); !ok {
				break
			}
		}
		expect := func(raw, wantCode string) {
			t.Helper()
			st.SendRaw(raw)
			got, ok := st.NextRaw(wait)
			if !ok || !strings.HasPrefix(got, "[4,") || !strings.Contains(got, `"`+wantCode+`"`) {
				t.Errorf("%s: got %q, want a CALLERROR %s", raw, got, wantCode)
			}
		}
		expect(`[2,"m1","Heartbeat",{]`, "FormatViolation")
		expect(`[2,"m1b",{}]`, "RpcFrameworkError")
		expect(`[7,"m2","Heartbeat",{}]`, "MessageTypeNotSupported")
		expect(`[2,"m3","StatusNotification",{"timestamp":"`+ts(0)+`","connectorStatus":"Sleeping","evseId":1,"connectorId":1}]`, "PropertyConstraintViolation")
		expect(`[2,"m4","StatusNotification",{"timestamp":"`+ts(0)+`","connectorStatus":"Available","evseId":"1","connectorId":1}]`, "TypeConstraintViolation")
		expect(`[2,"m5","StatusNotification",{"timestamp":"`+ts(0)+`","evseId":1,"connectorId":1}]`, "OccurrenceConstraintViolation")
		expect(`[2,"m6","StatusNotification","notanobject"]`, "FormatViolation")
		expect(`[2,"m7","NoSuchThing",{}]`, "NotImplemented")
		if version == "ocpp2.1" {
			// SEND (type 6) gets no answer; the next call is answered normally.
			st.SendRaw(`[6,"s1","NotifyPeriodicEventStream",{"id":1,"pending":0,"basetime":"` + ts(0) + `","data":[{"t":1,"v":"7"}]}]`)
		}
		st.CallOK("Heartbeat", `{}`)
	})
}

// TestPeriodicReplayAfterReconnect: a periodic reading is stored as meter
// values only, yet its replay on a new connection is still recognised.
func TestPeriodicReplayAfterReconnect(t *testing.T) {
	both(t, func(t *testing.T, version string) {
		e := connect(t, false, version)
		e.st.CallOK("TransactionEvent", txEvent("Started", 0, "TX-R", `},"evse":{"id":1},"meterValue":[`+energy(1000, "Transaction.Begin")+`]`))
		periodic := txEvent("Updated", 1, "TX-R", `},"meterValue":[`+energy(1500, "Sample.Periodic")+`]`)
		e.st.CallOK("TransactionEvent", periodic)
		count := func() int {
			return len(e.api("GET", "/api/v1/sessions/"+e.session("TX-R")["id"].(string)+"/meter-values", "")["items"].([]any))
		}
		if n := count(); n != 2 {
			t.Fatalf("%d meter values, want 2", n)
		}
		e.st.Drop()
		st, _, err := e.srv.Dial(t, e.st.ID, servertest.DialOptions{Subprotocols: []string{version}})
		if err != nil {
			t.Fatal(err)
		}
		st.Boot2()
		st.CallOK("TransactionEvent", periodic) // the answer was lost: sent again
		if n := count(); n != 2 {
			t.Fatalf("%d meter values after the replay, want 2", n)
		}
		st.CallOK("TransactionEvent", txEvent("Updated", 2, "TX-R", `},"meterValue":[`+energy(1800, "Sample.Periodic")+`]`))
		if n := count(); n != 3 {
			t.Fatalf("%d meter values after a new reading, want 3", n)
		}
	})
}
