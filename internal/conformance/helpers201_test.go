package conformance

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chargestar/chargestar/internal/ocpp"
	"github.com/chargestar/chargestar/internal/ocpp/ocppj"
	"github.com/chargestar/chargestar/internal/ocpp/v201"
	"github.com/chargestar/chargestar/internal/servertest"
)

// The OCPP 2.0.1 suite plays the OCTT's CSMS cases of Part 6 (certification
// profile Core) the way the 1.6 suite does: a raw servertest.Station plays
// the Charging Station, every "the CSMS sends X" step is an operator's
// command through the REST API, and the stored state is read back through
// the API. Two checks run on every message besides the case's own ones:
// what the CSMS answers the station must satisfy the 2.0.1 response schema
// strictly, and what a command puts on the wire must satisfy the request
// schema. The station's own messages are checked against their schema
// before they are sent, so that a failure is never a bad script.
//
// The station side answers as a conformant station does; in particular a
// Get/SetVariablesRequest without attributeType is answered with
// attributeType Actual in every result (B05.FR.12, B06.FR.11).

// Configured values of the 2.0.1 suite, in the OCTT's terms (the id tokens
// of the 1.6 suite serve as <Configured valid_idtoken_idtoken> and so on).
const (
	ocpp201         = "ocpp2.0.1"
	tokType         = "ISO14443"         // <Configured valid_idtoken_type>
	groupTag        = "GROUP-ID-1"       // <Configured groupIdToken> of TC_C_39
	groupTagA       = "GROUP-MEMBER-A"   // valid_idtoken of TC_C_39
	groupTagB       = "GROUP-MEMBER-B"   // valid_idtoken2 of TC_C_39
	masterPassTag   = "MASTERPASS-1"     // <Configured masterpass_idtoken_idtoken>
	masterPassGroup = "MASTERPASS-GROUP" // <Configured MasterPassGroupId>
	stationPW201    = "OCTT-basic-auth-pw-2.0.1"
)

// strict201 is how the suite reads OCPP 2.0.1 payloads: every schema rule,
// including additionalProperties:false.
var strict201 = ocpp.DecodeOptions{DisallowUnknownFields: true}

// check201 validates a 2.0.1 payload of an action strictly; request says
// which side of the action.
func check201(action string, payload []byte, request bool) error {
	info, ok := v201.Action(action)
	if !ok {
		return fmt.Errorf("%s is not an OCPP 2.0.1 action", action)
	}
	m := info.NewResponse()
	if request {
		m = info.NewRequest()
	}
	return m.DecodeOCPP(payload, strict201)
}

// dial201 connects a station with the ocpp2.0.1 subprotocol (Basic auth
// when password is set) and waits until the server has registered it.
func (e *env) dial201(id, password string) *servertest.Station {
	e.t.Helper()
	st, resp, err := e.dial(id, servertest.DialOptions{Subprotocols: []string{ocpp201}, Password: password})
	if err != nil {
		code := 0
		if resp != nil {
			code = resp.StatusCode
		}
		e.t.Fatalf("connecting %s with ocpp2.0.1: HTTP %d: %v", id, code, err)
	}
	if st.Subprotocol != ocpp201 {
		e.t.Fatalf("connecting %s: subprotocol %q negotiated, want %s", id, st.Subprotocol, ocpp201)
	}
	return st
}

// connect201 is dial201 without Basic authentication.
func (e *env) connect201(id string) *servertest.Station { e.t.Helper(); return e.dial201(id, "") }

// call201 sends a station message, which must be valid 2.0.1, and
// returns the CSMS's answer, which must be a CALLRESULT valid against the
// response schema.
func call201(t *testing.T, st *servertest.Station, action string, payload any) map[string]any {
	t.Helper()
	b := payloadBytes(t, payload)
	if err := check201(action, b, true); err != nil {
		t.Fatalf("test script: %s %s is not a valid 2.0.1 request: %v", action, b, err)
	}
	f := st.Call(action, string(b))
	if f.Type != ocppj.TypeCallResult {
		t.Fatalf("%s: %s %s answered CALLERROR %s %q, want a %sResponse", st.ID, action, b, f.ErrorCode, f.ErrorDescription, action)
	}
	if err := check201(action, f.Payload, false); err != nil {
		t.Fatalf("%s: the CSMS's %sResponse %s violates the 2.0.1 schema: %v", st.ID, action, f.Payload, err)
	}
	var m map[string]any
	if err := json.Unmarshal(f.Payload, &m); err != nil {
		t.Fatalf("%s: %sResponse %s: %v", st.ID, action, f.Payload, err)
	}
	return m
}

// callError201 sends a valid station message and requires a CALLERROR.
func callError201(t *testing.T, st *servertest.Station, action string, payload any, code string) {
	t.Helper()
	b := payloadBytes(t, payload)
	if err := check201(action, b, true); err != nil {
		t.Fatalf("test script: %s %s is not a valid 2.0.1 request: %v", action, b, err)
	}
	st.CallError(action, string(b), code)
}

func payloadBytes(t *testing.T, payload any) []byte {
	t.Helper()
	switch p := payload.(type) {
	case string:
		return []byte(p)
	case []byte:
		return p
	}
	b, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// obj is a JSON object under construction.
type obj = map[string]any

// remote201 is remote for a 2.0.1 station: besides the exact payload, the
// request at the station must be valid 2.0.1.
func (e *env) remote201(st *servertest.Station, action, payload, reply string) cmdResult {
	e.t.Helper()
	if err := check201(action, []byte(reply), false); err != nil {
		e.t.Fatalf("test script: %s reply %s is not valid 2.0.1: %v", action, reply, err)
	}
	ch := e.command(st.ID, action, payload)
	call := st.ExpectCall(action, wait)
	if err := check201(action, call.Payload, true); err != nil {
		e.t.Fatalf("%sRequest at the station %s violates the 2.0.1 schema: %v", action, call.Payload, err)
	}
	jsonEq(e.t, action+"Request at the station", call.Payload, payload)
	st.Reply(call, reply)
	r := e.await(ch)
	if r.Code != http.StatusOK {
		e.t.Fatalf("POST commands/%s: %d %s, want 200", action, r.Code, r.Body)
	}
	var res cmdResult
	if err := json.Unmarshal([]byte(r.Body), &res); err != nil {
		e.t.Fatalf("POST commands/%s: %s: %v", action, r.Body, err)
	}
	jsonEq(e.t, action+"Response in the API answer", res.Response, reply)
	return res
}

// remoteStatus201 is remote201 that also requires the API's status field.
func (e *env) remoteStatus201(st *servertest.Station, action, payload, reply, wantStatus string) cmdResult {
	e.t.Helper()
	res := e.remote201(st, action, payload, reply)
	if res.Status != wantStatus {
		e.t.Fatalf("POST commands/%s: status %q, want %q", action, res.Status, wantStatus)
	}
	return res
}

// ---- Boot and connector states ----

// boot201 sends a BootNotification with a reason and returns the answer.
func boot201(t *testing.T, st *servertest.Station, reason string) map[string]any {
	t.Helper()
	return call201(t, st, "BootNotification", obj{"reason": reason, "chargingStation": obj{
		"vendorName": "OCTT-Vendor", "model": "OCTT-Model", "serialNumber": "SN-" + st.ID, "firmwareVersion": "1.0.0"}})
}

// bootAccepted201 boots and requires Accepted with an interval and the current time.
func bootAccepted201(t *testing.T, st *servertest.Station, reason string) map[string]any {
	t.Helper()
	m := boot201(t, st, reason)
	if m["status"] != "Accepted" {
		t.Fatalf("%s: BootNotificationResponse status %v, want Accepted: %v", st.ID, m["status"], m)
	}
	if iv, _ := m["interval"].(float64); iv <= 0 {
		t.Fatalf("%s: BootNotificationResponse interval %v, want > 0", st.ID, m["interval"])
	}
	wantNow(t, "BootNotificationResponse currentTime", m["currentTime"])
	return m
}

// status201 sends a StatusNotification (timestamp now).
func status201(t *testing.T, st *servertest.Station, evse, connector int, status string) {
	t.Helper()
	call201(t, st, "StatusNotification", obj{"timestamp": ts(time.Now()), "connectorStatus": status, "evseId": evse, "connectorId": connector})
}

// notifyAvailability sends the NotifyEvent a station may send beside (or
// instead of) a StatusNotification: Connector.AvailabilityState, Delta.
func notifyAvailability(t *testing.T, st *servertest.Station, evse, connector int, state string) {
	t.Helper()
	call201(t, st, "NotifyEvent", obj{"generatedAt": ts(time.Now()), "seqNo": 0, "eventData": []any{obj{
		"eventId": 1, "timestamp": ts(time.Now()), "trigger": "Delta", "actualValue": state,
		"eventNotificationType": "HardWiredNotification",
		"component":             obj{"name": "Connector", "evse": obj{"id": evse, "connectorId": connector}},
		"variable":              obj{"name": "AvailabilityState"}}}})
}

// booted201 registers, connects and boots a 2.0.1 station whose EVSEs
// 1…n have one connector each, all reported Available: the OCTT's
// reusable state Booted.
func (e *env) booted201(id string, evses int) *servertest.Station {
	e.t.Helper()
	e.addStation(id)
	st := e.connect201(id)
	bootAccepted201(e.t, st, "PowerUp")
	for evse := 1; evse <= evses; evse++ {
		status201(e.t, st, evse, 1, "Available")
	}
	return st
}

// reboot201 plays a station rebooting: the connection drops, a new one
// boots with the reason and reports its connectors.
func (e *env) reboot201(st *servertest.Station, reason string, statuses ...string) *servertest.Station {
	e.t.Helper()
	return e.reboot201With(st, "", reason, statuses...)
}

// reboot201With is reboot201 for a station with a Basic-auth password.
func (e *env) reboot201With(st *servertest.Station, password, reason string, statuses ...string) *servertest.Station {
	e.t.Helper()
	st.Close()
	e.waitDisconnected(st.ID)
	st = e.dial201(st.ID, password)
	bootAccepted201(e.t, st, reason)
	for i, s := range statuses {
		status201(e.t, st, i+1, 1, s)
	}
	return st
}

// ---- Authorization ----

// authorize201 sends an AuthorizeRequest and returns idTokenInfo.
func authorize201(t *testing.T, st *servertest.Station, tag string) map[string]any {
	t.Helper()
	m := call201(t, st, "Authorize", obj{"idToken": obj{"idToken": tag, "type": tokType}})
	return tokenInfo(t, "AuthorizeResponse", m)
}

// tokenInfo returns the idTokenInfo of an answer.
func tokenInfo(t *testing.T, what string, m map[string]any) map[string]any {
	t.Helper()
	info, ok := m["idTokenInfo"].(map[string]any)
	if !ok {
		t.Fatalf("%s has no idTokenInfo: %v", what, m)
	}
	return info
}

// wantTokenStatus requires idTokenInfo.status to be one of want.
func wantTokenStatus(t *testing.T, what string, info map[string]any, want ...string) {
	t.Helper()
	for _, w := range want {
		if info["status"] == w {
			return
		}
	}
	t.Fatalf("%s idTokenInfo %v: status %v, want %s", what, info, info["status"], strings.Join(want, " or "))
}

// wantGroup requires idTokenInfo.groupIdToken.idToken.
func wantGroup(t *testing.T, what string, info map[string]any, group string) {
	t.Helper()
	g, _ := info["groupIdToken"].(map[string]any)
	if g == nil || g["idToken"] != group {
		t.Fatalf("%s idTokenInfo %v: groupIdToken.idToken %v, want %s", what, info, g, group)
	}
}

// addGroupToken registers an Accepted id token belonging to a group
// (parent id tag), through the API as an operator does.
func (e *env) addGroupToken(tag, group string) {
	e.t.Helper()
	r := e.do("POST", "/api/v1/id-tokens", fmt.Sprintf(`{"id_token":%q,"operator_id":%q,"status":"Accepted","parent_id_tag":%q}`, tag, e.op.ID, group))
	if r.Err != nil || r.Code != http.StatusCreated {
		e.t.Fatalf("POST /api/v1/id-tokens %s: %d %s %v", tag, r.Code, r.Body, r.Err)
	}
}

// ---- Transactions ----

// tx201 is one transaction as the station runs it: its id, its EVSE and
// the next sequence number.
type tx201 struct {
	t    *testing.T
	st   *servertest.Station
	id   string
	evse int
	seq  int
}

func newTx(t *testing.T, st *servertest.Station, id string, evse int) *tx201 {
	return &tx201{t: t, st: st, id: id, evse: evse}
}

// txe is the content of one TransactionEventRequest beyond the
// transaction id and seqNo.
type txe struct {
	typ, trigger  string
	state, reason string    // chargingState, stoppedReason ("" leaves out)
	evse          bool      // send evse {id, connectorId 1}
	token         string    // idToken ("" leaves out)
	meter         []any     // meterValue
	offline       bool      // the event was queued while offline
	at            time.Time // zero: now
	remoteStartID int       // 0 leaves out
	info, more    obj       // extra transactionInfo / top-level fields
}

// payload builds the request with the given seqNo.
func (x *tx201) payload(seq int, ev txe) obj {
	at := ev.at
	if at.IsZero() {
		at = time.Now()
	}
	info := obj{"transactionId": x.id}
	if ev.state != "" {
		info["chargingState"] = ev.state
	}
	if ev.reason != "" {
		info["stoppedReason"] = ev.reason
	}
	if ev.remoteStartID != 0 {
		info["remoteStartId"] = ev.remoteStartID
	}
	for k, v := range ev.info {
		info[k] = v
	}
	p := obj{"eventType": ev.typ, "timestamp": ts(at), "triggerReason": ev.trigger, "seqNo": seq, "transactionInfo": info}
	if ev.evse {
		p["evse"] = obj{"id": x.evse, "connectorId": 1}
	}
	if ev.token != "" {
		p["idToken"] = obj{"idToken": ev.token, "type": tokType}
	}
	if len(ev.meter) > 0 {
		p["meterValue"] = ev.meter
	}
	if ev.offline {
		p["offline"] = true
	}
	for k, v := range ev.more {
		p[k] = v
	}
	return p
}

// send sends the next event of the transaction and returns the answer.
func (x *tx201) send(ev txe) map[string]any {
	x.t.Helper()
	m := x.sendSeq(x.seq, ev)
	x.seq++
	return m
}

// sendSeq sends an event with an explicit seqNo (a replay, or events
// delivered out of order); it does not advance the sequence.
func (x *tx201) sendSeq(seq int, ev txe) map[string]any {
	x.t.Helper()
	return call201(x.t, x.st, "TransactionEvent", x.payload(seq, ev))
}

// energyMV201 is a meter value with the energy register in Wh.
func energyMV201(at time.Time, wh float64, context string) obj {
	return obj{"timestamp": ts(at), "sampledValue": []any{obj{"value": wh, "context": context,
		"measurand": "Energy.Active.Import.Register", "unitOfMeasure": obj{"unit": "Wh"}}}}
}

// signedMV201 is energyMV201 with a signedMeterValue (OCMF), which the
// CSMS must accept without having to verify it.
func signedMV201(at time.Time, wh float64, context string) obj {
	return obj{"timestamp": ts(at), "sampledValue": []any{obj{"value": wh, "context": context,
		"measurand": "Energy.Active.Import.Register", "unitOfMeasure": obj{"unit": "Wh"},
		"signedMeterValue": obj{"signedMeterData": "T0NNRnx7IkZWIjoiMS4wIn18eyJTQSI6IkVDRFNBLXNlY3AyNTZyMS1TSEEyNTYifQ==",
			"signingMethod": "ECDSA-secp256r1-SHA256", "encodingMethod": "OCMF",
			"publicKey": "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE"}}}}
}

// Reusable states of the OCTT (Part 6), with TxStartPoint EVConnected,
// Authorized and TxStopPoint EVConnected, Authorized as OCTT's defaults.

// Every message of a live scenario carries the time it is sent, as the
// OCTT's do: connector statuses and transaction events then arrive in
// the order of their timestamps.

// evConnectedPreSession: the cable is plugged in; the transaction starts.
func (x *tx201) evConnectedPreSession(meterStart float64) {
	x.t.Helper()
	status201(x.t, x.st, x.evse, 1, "Occupied")
	x.send(txe{typ: "Started", trigger: "CablePluggedIn", state: "EVConnected", evse: true,
		meter: []any{energyMV201(time.Now(), meterStart, "Transaction.Begin")}})
}

// authorized: the driver presents a valid token; the transaction is
// authorised (Updated, triggerReason Authorized).
func (x *tx201) authorized(tag string) {
	x.t.Helper()
	wantTokenStatus(x.t, "AuthorizeResponse", authorize201(x.t, x.st, tag), "Accepted")
	m := x.send(txe{typ: "Updated", trigger: "Authorized", token: tag})
	wantTokenStatus(x.t, "TransactionEventResponse (Authorized)", tokenInfo(x.t, "TransactionEventResponse", m), "Accepted")
}

// energyTransferStarted: charging begins.
func (x *tx201) energyTransferStarted() {
	x.t.Helper()
	x.send(txe{typ: "Updated", trigger: "ChargingStateChanged", state: "Charging"})
}

// evConnectedPostSession: the driver stops with the token; with TxStopPoint
// EVConnected the transaction goes on until the cable is out.
func (x *tx201) evConnectedPostSession(tag string) {
	x.t.Helper()
	m := x.send(txe{typ: "Updated", trigger: "StopAuthorized", state: "EVConnected", token: tag})
	wantTokenStatus(x.t, "TransactionEventResponse (StopAuthorized)", tokenInfo(x.t, "TransactionEventResponse", m), "Accepted")
}

// evDisconnected: the cable is unplugged; the transaction ends.
func (x *tx201) evDisconnected(meterStop float64) {
	x.t.Helper()
	status201(x.t, x.st, x.evse, 1, "Available")
	x.send(txe{typ: "Ended", trigger: "EVCommunicationLost", state: "Idle", reason: "EVDisconnected",
		meter: []any{energyMV201(time.Now(), meterStop, "Transaction.End")}})
}

// charging201 runs the reusable states up to EnergyTransferStarted on an
// EVSE: cable in (register at meterStart Wh), authorised with tag, charging.
func charging201(t *testing.T, st *servertest.Station, txID string, evse int, tag string, meterStart float64) *tx201 {
	t.Helper()
	x := newTx(t, st, txID, evse)
	x.evConnectedPreSession(meterStart)
	x.authorized(tag)
	x.energyTransferStarted()
	return x
}

// session201 returns the station's session of a 2.x transaction id.
func (e *env) session201(stationID, txID string) session {
	e.t.Helper()
	var found []session
	for _, s := range e.sessions(stationID) {
		if s.TransactionID == txID {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		e.t.Fatalf("station %s: %d sessions of transaction %s, want 1: %v", stationID, len(found), txID, found)
	}
	return found[0]
}

// wantEnded requires a completed session with a stop reason and energy.
func wantEnded(t *testing.T, s session, reason string, energyWh int64) {
	t.Helper()
	if s.Status != "completed" || s.StoppedAt == nil || s.StopReason == nil || *s.StopReason != reason || s.EnergyWh != energyWh {
		t.Fatalf("session: got %v\nwant completed, stop_reason %s, energy_wh %d", s, reason, energyWh)
	}
}

// wantOpen requires an active session on an EVSE with an id tag.
func wantOpen(t *testing.T, s session, evse int, tag string) {
	t.Helper()
	if s.Status != "active" || s.ConnectorID != evse || s.IDTag != tag || s.StoppedAt != nil {
		t.Fatalf("session: got %v\nwant active on EVSE %d with id_tag %q", s, evse, tag)
	}
}

// waitConnector waits until an EVSE shows a status (statuses derived from
// transaction events are recorded after the answer).
func (e *env) waitConnector(id string, evse int, want string) {
	e.t.Helper()
	var got string
	servertest.Eventually(e.t, wait, fmt.Sprintf("station %s EVSE %d to be %s", id, evse, want), func() bool {
		for _, c := range e.station(id).Connectors {
			if c.ConnectorID == evse {
				got = c.Status
			}
		}
		return got == want
	})
}

// ---- Device model and events ----

// variableView is a device-model attribute as the API shows it.
type variableView struct {
	Component     string `json:"component"`
	EVSEID        int    `json:"evse_id"`
	Variable      string `json:"variable"`
	Instance      string `json:"variable_instance"`
	AttributeType string `json:"attribute_type"`
	Value         string `json:"value"`
	Mutability    string `json:"mutability"`
	DataType      string `json:"data_type"`
	Status        string `json:"status"`
}

// variable returns a device-model variable's Actual attribute as stored.
func (e *env) variable(stationID, component, variable string) (variableView, bool) {
	e.t.Helper()
	var l struct {
		Items []variableView `json:"items"`
	}
	e.getJSON("/api/v1/stations/"+url.PathEscape(stationID)+"/variables?component="+url.QueryEscape(component)+"&variable="+url.QueryEscape(variable), &l)
	for _, v := range l.Items {
		if v.AttributeType == "Actual" {
			return v, true
		}
	}
	return variableView{}, false
}

// wantVariable requires a stored device-model value.
func (e *env) wantVariable(stationID, component, variable, value string) {
	e.t.Helper()
	deadline := time.Now().Add(wait)
	for {
		v, ok := e.variable(stationID, component, variable)
		if ok && v.Value == value {
			return
		}
		if time.Now().After(deadline) {
			got := "no Actual attribute stored"
			if ok {
				got = fmt.Sprintf("stored %+v", v)
			}
			e.t.Fatalf("device model of %s after %s: %s.%s: %s, want value %q", stationID, wait, component, variable, got, value)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stationEventView is a station event as the API shows it.
type stationEventView struct {
	Kind     string `json:"kind"`
	Type     string `json:"type"`
	TechInfo string `json:"tech_info"`
}

// waitEvent waits for a station event of a kind whose type contains text.
func (e *env) waitEvent(stationID, kind, typeContains string) stationEventView {
	e.t.Helper()
	var found stationEventView
	servertest.Eventually(e.t, wait, fmt.Sprintf("a %s event %q of %s", kind, typeContains, stationID), func() bool {
		var l struct {
			Items []stationEventView `json:"items"`
		}
		e.getJSON("/api/v1/stations/"+url.PathEscape(stationID)+"/events?kind="+kind, &l)
		for _, ev := range l.Items {
			if strings.Contains(ev.Type, typeContains) {
				found = ev
				return true
			}
		}
		return false
	})
	return found
}

// securityEvent201 sends a SecurityEventNotification and waits until it
// is recorded.
func (e *env) securityEvent201(st *servertest.Station, typ, techInfo string) {
	e.t.Helper()
	call201(e.t, st, "SecurityEventNotification", obj{"type": typ, "timestamp": ts(time.Now()), "techInfo": techInfo})
	e.waitEvent(st.ID, "security", typ)
}

// heartbeat201 checks the connection still works.
func heartbeat201(t *testing.T, st *servertest.Station) {
	t.Helper()
	m := call201(t, st, "Heartbeat", obj{})
	wantNow(t, "HeartbeatResponse currentTime", m["currentTime"])
}
