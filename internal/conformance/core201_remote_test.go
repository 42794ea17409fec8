package conformance

import (
	"fmt"
	"testing"
	"time"

	"github.com/chargestar/chargestar/internal/servertest"
)

// OCPP 2.0.1 Core, block F (remote control): remote start and stop,
// TriggerMessage.

// requestStart is the RequestStartTransactionRequest an operator sends.
func requestStart(remoteStartID, evse int, tag string) string {
	return fmt.Sprintf(`{"evseId":%d,"remoteStartId":%d,"idToken":{"idToken":%q,"type":%q}}`, evse, remoteStartID, tag, tokType)
}

func TestTC_F_01_CSMS(t *testing.T) {
	t.Parallel()
	e, st := newE(t, "CS-F01", 1)
	x := newTx(t, st, "TX-F01", 1)
	x.evConnectedPreSession(0) // cable plugged in first: the transaction runs
	// The station answers with the id of the transaction it already has.
	e.remoteStatus201(st, "RequestStartTransaction", requestStart(101, 1, validTag), `{"status":"Accepted","transactionId":"TX-F01"}`, "Accepted")
	accepted(t, "TransactionEventResponse (RemoteStart)", x.send(txe{typ: "Updated", trigger: "RemoteStart", token: validTag, remoteStartID: 101}))
	x.energyTransferStarted()
	e.waitConnector("CS-F01", 1, "Charging")
	wantOpen(t, e.session201("CS-F01", "TX-F01"), 1, validTag)
}

// remoteStartFirst plays TC_F_02/TC_F_03: the remote start comes first
// (TxStartPoint Authorized), with or without the station authorising the
// remote token itself (AuthorizeRemoteStart).
func remoteStartFirst(t *testing.T, id string, authorizeRemoteStart bool) {
	e, st := newE(t, id, 1)
	e.remoteStatus201(st, "RequestStartTransaction", requestStart(202, 1, validTag), `{"status":"Accepted"}`, "Accepted")
	if authorizeRemoteStart {
		wantTokenStatus(t, "AuthorizeResponse", authorize201(t, st, validTag), "Accepted")
	}
	x := newTx(t, st, "TX-"+id, 1)
	accepted(t, "TransactionEventResponse (Started, RemoteStart)", x.send(txe{typ: "Started", trigger: "RemoteStart", evse: true,
		token: validTag, remoteStartID: 202}))
	status201(t, st, 1, 1, "Occupied")
	x.send(txe{typ: "Updated", trigger: "CablePluggedIn", state: "EVConnected", meter: []any{energyMV201(time.Now(), 300, "Transaction.Begin")}})
	x.energyTransferStarted()
	e.waitConnector(id, 1, "Charging")
	wantOpen(t, e.session201(id, "TX-"+id), 1, validTag)
}

func TestTC_F_02_CSMS(t *testing.T) { t.Parallel(); remoteStartFirst(t, "CS-F02", true) }

func TestTC_F_03_CSMS(t *testing.T) { t.Parallel(); remoteStartFirst(t, "CS-F03", false) }

func TestTC_F_04_CSMS(t *testing.T) {
	t.Parallel()
	e, st := newE(t, "CS-F04", 1)
	e.remoteStatus201(st, "RequestStartTransaction", requestStart(404, 1, validTag), `{"status":"Accepted"}`, "Accepted")
	// The transaction starts on the remote start; no EV connects, so no
	// event carries evse (E01.FR.16: only the first event after the EV has
	// connected does).
	x := newTx(t, st, "TX-F04", 1)
	accepted(t, "TransactionEventResponse (Started, RemoteStart)", x.send(txe{typ: "Started", trigger: "RemoteStart",
		token: validTag, remoteStartID: 404}))
	// No cable within EVConnectionTimeOut: the station ends the transaction.
	x.send(txe{typ: "Ended", trigger: "EVConnectTimeout", reason: "Timeout"})
	wantEnded(t, e.session201("CS-F04", "TX-F04"), "Timeout", 0)
	e.wantConnector("CS-F04", 1, "Available", "")
}

// trigger sends TriggerMessage through the API; the station accepts.
func (e *env) trigger(st *servertest.Station, payload string) {
	e.t.Helper()
	e.remoteStatus201(st, "TriggerMessage", payload, `{"status":"Accepted"}`, "Accepted")
}

func TestTC_F_11_CSMS(t *testing.T) {
	t.Parallel()
	e, st := newE(t, "CS-F11", 2)
	e.trigger(st, `{"requestedMessage":"MeterValues","evse":{"id":1}}`)
	call201(t, st, "MeterValues", obj{"evseId": 1, "meterValue": []any{energyMV201(time.Now(), 12345, "Trigger")}})
	// Meter values outside a transaction are stored, but the API shows
	// meter values per session only (and the message log leaves meter
	// traffic out): the answer is what can be checked.
	heartbeat201(t, st)
}

func TestTC_F_12_CSMS(t *testing.T) {
	t.Parallel()
	e, st := newE(t, "CS-F12", 2)
	e.trigger(st, `{"requestedMessage":"MeterValues"}`)
	for evse := 1; evse <= 2; evse++ {
		call201(t, st, "MeterValues", obj{"evseId": evse, "meterValue": []any{energyMV201(time.Now(), float64(1000*evse+11), "Trigger")}})
	}
	heartbeat201(t, st)
}

func TestTC_F_13_CSMS(t *testing.T) {
	t.Parallel()
	e, st := newE(t, "CS-F13", 2)
	x := charging201(t, st, "TX-F13", 1, validTag, 1000)
	e.trigger(st, `{"requestedMessage":"TransactionEvent","evse":{"id":1}}`)
	x.send(txe{typ: "Updated", trigger: "Trigger", state: "Charging", evse: true, meter: []any{energyMV201(time.Now(), 1900, "Trigger")}})
	if s := e.session201("CS-F13", "TX-F13"); s.EnergyWh != 900 {
		t.Fatalf("energy_wh %d after the triggered event, want 900", s.EnergyWh)
	}
}

func TestTC_F_14_CSMS(t *testing.T) {
	t.Parallel()
	e, st := newE(t, "CS-F14", 2)
	x1 := charging201(t, st, "TX-F14-1", 1, validTag, 1000)
	x2 := charging201(t, st, "TX-F14-2", 2, validTag2, 5000)
	e.trigger(st, `{"requestedMessage":"TransactionEvent"}`)
	x1.send(txe{typ: "Updated", trigger: "Trigger", state: "Charging", evse: true, meter: []any{energyMV201(time.Now(), 1100, "Trigger")}})
	x2.send(txe{typ: "Updated", trigger: "Trigger", state: "Charging", evse: true, meter: []any{energyMV201(time.Now(), 5200, "Trigger")}})
	if s := e.session201("CS-F14", "TX-F14-1"); s.EnergyWh != 100 {
		t.Fatalf("EVSE 1 energy_wh %d, want 100", s.EnergyWh)
	}
	if s := e.session201("CS-F14", "TX-F14-2"); s.EnergyWh != 200 {
		t.Fatalf("EVSE 2 energy_wh %d, want 200", s.EnergyWh)
	}
}

func TestTC_F_15_CSMS(t *testing.T) {
	t.Parallel()
	e, st := newE(t, "CS-F15", 1)
	e.trigger(st, `{"requestedMessage":"LogStatusNotification"}`)
	call201(t, st, "LogStatusNotification", obj{"status": "Idle"})
	e.wantStation("CS-F15", func(v stationView) bool { return v.DiagnosticsStatus != nil && *v.DiagnosticsStatus == "Idle" }, "diagnostics_status Idle")
}

func TestTC_F_18_CSMS(t *testing.T) {
	t.Parallel()
	e, st := newE(t, "CS-F18", 1)
	e.trigger(st, `{"requestedMessage":"FirmwareStatusNotification"}`)
	call201(t, st, "FirmwareStatusNotification", obj{"status": "Idle"})
	e.wantStation("CS-F18", func(v stationView) bool { return v.FirmwareStatus != nil && *v.FirmwareStatus == "Idle" }, "firmware_status Idle")
}

func TestTC_F_20_CSMS(t *testing.T) {
	t.Parallel()
	e, st := newE(t, "CS-F20", 1)
	e.trigger(st, `{"requestedMessage":"Heartbeat"}`)
	heartbeat201(t, st)
}

func TestTC_F_23_CSMS(t *testing.T) {
	t.Parallel()
	e, st := newE(t, "CS-F23", 2)
	e.trigger(st, `{"requestedMessage":"StatusNotification","evse":{"id":1,"connectorId":1}}`)
	status201(t, st, 1, 1, "Available")
	e.wantConnector("CS-F23", 1, "Available", "")
}

func TestTC_F_24_CSMS(t *testing.T) {
	t.Parallel()
	e, st := newE(t, "CS-F24", 2)
	status201(t, st, 1, 1, "Occupied")
	e.trigger(st, `{"requestedMessage":"StatusNotification","evse":{"id":1,"connectorId":1}}`)
	status201(t, st, 1, 1, "Occupied")
	e.wantConnector("CS-F24", 1, "Preparing", "") // 2.x Occupied without a transaction
}

func TestTC_F_27_CSMS(t *testing.T) {
	t.Parallel()
	e, st := newE(t, "CS-F27", 1)
	e.remoteStatus201(st, "TriggerMessage", `{"requestedMessage":"SignCombinedCertificate"}`, `{"status":"NotImplemented"}`, "NotImplemented")
	heartbeat201(t, st)
}
