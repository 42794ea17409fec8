package conformance

import (
	"testing"
	"time"

	"github.com/chargestar/chargestar/internal/servertest"
)

// OCPP 2.0.1 Core, block E (transactions). The OCTT plays a station whose
// TxStartPoint and TxStopPoint are what each case names; the CSMS must
// answer every TransactionEventRequest (with idTokenInfo for a token) and
// keep one correct session per transaction, whatever point it starts and
// stops at.

// newE starts a case on a booted station with the standard tokens.
func newE(t *testing.T, id string, evses int) (*env, *servertest.Station) {
	t.Helper()
	return newEWith(t, servertest.Options{}, id, evses)
}

// newEWith is newE on a server with options (PostgreSQL, say).
func newEWith(t *testing.T, opts servertest.Options, id string, evses int) (*env, *servertest.Station) {
	t.Helper()
	e := newEnv(t, opts)
	e.addTokens()
	return e, e.booted201(id, evses)
}

// accepted requires a TransactionEventResponse to accept the token.
func accepted(t *testing.T, what string, m map[string]any) {
	t.Helper()
	wantTokenStatus(t, what, tokenInfo(t, what, m), "Accepted")
}

func TestTC_E_01_CSMS(t *testing.T) {
	t.Parallel()
	e, st := newE(t, "CS-E01", 1)
	// TxStartPoint PowerPathClosed: plugged in and authorised first, the
	// transaction starts when the power path closes.
	status201(t, st, 1, 1, "Occupied")
	wantTokenStatus(t, "AuthorizeResponse", authorize201(t, st, validTag), "Accepted")
	x := newTx(t, st, "TX-E01", 1)
	accepted(t, "TransactionEventResponse (Started)", x.send(txe{typ: "Started", trigger: "ChargingStateChanged", state: "SuspendedEV",
		evse: true, token: validTag, meter: []any{energyMV201(time.Now(), 1500, "Transaction.Begin")}}))
	x.send(txe{typ: "Updated", trigger: "ChargingStateChanged", state: "Charging"})
	e.waitConnector("CS-E01", 1, "Charging")
	s := e.session201("CS-E01", "TX-E01")
	wantOpen(t, s, 1, validTag)
	if s.MeterStartWh != 1500 {
		t.Fatalf("meter_start_wh %d, want 1500 (the Transaction.Begin reading)", s.MeterStartWh)
	}
}

func TestTC_E_02_CSMS(t *testing.T) {
	t.Parallel()
	e, st := newE(t, "CS-E02", 1)
	// TxStartPoint EnergyTransfer: the transaction starts with the energy.
	status201(t, st, 1, 1, "Occupied")
	wantTokenStatus(t, "AuthorizeResponse", authorize201(t, st, validTag), "Accepted")
	x := newTx(t, st, "TX-E02", 1)
	accepted(t, "TransactionEventResponse (Started)", x.send(txe{typ: "Started", trigger: "ChargingStateChanged", state: "Charging",
		evse: true, token: validTag, meter: []any{energyMV201(time.Now(), 2000, "Transaction.Begin")}}))
	e.waitConnector("CS-E02", 1, "Charging")
	wantOpen(t, e.session201("CS-E02", "TX-E02"), 1, validTag)
}

func TestTC_E_03_CSMS(t *testing.T) {
	t.Parallel()
	e, st := newE(t, "CS-E03", 1)
	// EVConnectedPreSession, Authorized, EnergyTransferStarted.
	x := charging201(t, st, "TX-E03", 1, validTag, 1000)
	e.waitConnector("CS-E03", 1, "Charging")
	x.send(txe{typ: "Updated", trigger: "MeterValuePeriodic", state: "Charging",
		meter: []any{energyMV201(time.Now(), 3500, "Sample.Periodic")}})
	s := e.session201("CS-E03", "TX-E03")
	wantOpen(t, s, 1, validTag)
	if s.MeterStartWh != 1000 || s.EnergyWh != 2500 {
		t.Fatalf("session %v: want meter_start_wh 1000 and live energy_wh 2500", s)
	}
}

func TestTC_E_04_CSMS(t *testing.T) {
	t.Parallel()
	e, st := newE(t, "CS-E04", 1)
	// Authorized first (TxStartPoint Authorized: the transaction starts),
	// then EVConnectedPreSession and EnergyTransferStarted.
	wantTokenStatus(t, "AuthorizeResponse", authorize201(t, st, validTag), "Accepted")
	x := newTx(t, st, "TX-E04", 1)
	accepted(t, "TransactionEventResponse (Started)", x.send(txe{typ: "Started", trigger: "Authorized", evse: true, token: validTag}))
	status201(t, st, 1, 1, "Occupied")
	x.send(txe{typ: "Updated", trigger: "CablePluggedIn", state: "EVConnected", meter: []any{energyMV201(time.Now(), 800, "Transaction.Begin")}})
	x.energyTransferStarted()
	e.waitConnector("CS-E04", 1, "Charging")
	s := e.session201("CS-E04", "TX-E04")
	wantOpen(t, s, 1, validTag)
	if s.MeterStartWh != 800 {
		t.Fatalf("meter_start_wh %d, want 800 (the first reading, sent after the start)", s.MeterStartWh)
	}
}

func TestTC_E_09_CSMS(t *testing.T) {
	t.Parallel()
	e, st := newE(t, "CS-E09", 1)
	// TxStartPoint EVConnected: the transaction starts without a token.
	x := newTx(t, st, "TX-E09", 1)
	x.evConnectedPreSession(0)
	s := e.session201("CS-E09", "TX-E09")
	if s.Status != "active" || s.ConnectorID != 1 || s.IDTag != "" {
		t.Fatalf("session after a start without token: %v", s)
	}
	e.waitConnector("CS-E09", 1, "Preparing")
	x.authorized(validTag)
	x.energyTransferStarted()
	wantOpen(t, e.session201("CS-E09", "TX-E09"), 1, validTag)
}

func TestTC_E_10_CSMS(t *testing.T) {
	t.Parallel()
	e, st := newE(t, "CS-E10", 1)
	// TxStartPoint Authorized, local authorisation.
	wantTokenStatus(t, "AuthorizeResponse", authorize201(t, st, validTag), "Accepted")
	x := newTx(t, st, "TX-E10", 1)
	accepted(t, "TransactionEventResponse (Started)", x.send(txe{typ: "Started", trigger: "Authorized", evse: true, token: validTag}))
	wantOpen(t, e.session201("CS-E10", "TX-E10"), 1, validTag)
	status201(t, st, 1, 1, "Occupied")
	x.send(txe{typ: "Updated", trigger: "CablePluggedIn", state: "EVConnected"})
	x.energyTransferStarted()
	e.waitConnector("CS-E10", 1, "Charging")
}

func TestTC_E_11_CSMS(t *testing.T) {
	t.Parallel()
	e, st := newE(t, "CS-E11", 1)
	// TxStartPoint DataSigned: the transaction starts with the signed
	// start reading. The CSMS must accept it; it need not verify it.
	status201(t, st, 1, 1, "Occupied")
	wantTokenStatus(t, "AuthorizeResponse", authorize201(t, st, validTag), "Accepted")
	x := newTx(t, st, "TX-E11", 1)
	accepted(t, "TransactionEventResponse (Started)", x.send(txe{typ: "Started", trigger: "SignedDataReceived", state: "Charging",
		evse: true, token: validTag, meter: []any{signedMV201(time.Now(), 4200, "Transaction.Begin")}}))
	s := e.session201("CS-E11", "TX-E11")
	wantOpen(t, s, 1, validTag)
	if s.MeterStartWh != 4200 {
		t.Fatalf("meter_start_wh %d, want 4200 (the signed Transaction.Begin reading)", s.MeterStartWh)
	}
	e.waitMessage("CS-E11", "TransactionEvent", "in", "signedMeterData")
}

func TestTC_E_12_CSMS(t *testing.T) {
	t.Parallel()
	e, st := newE(t, "CS-E12", 1)
	// TxStartPoint ParkingBayOccupancy: the EV is detected in the bay.
	x := newTx(t, st, "TX-E12", 1)
	x.send(txe{typ: "Started", trigger: "EVDetected", evse: true})
	s := e.session201("CS-E12", "TX-E12")
	if s.Status != "active" || s.ConnectorID != 1 {
		t.Fatalf("session after EVDetected: %v", s)
	}
	status201(t, st, 1, 1, "Occupied")
	x.send(txe{typ: "Updated", trigger: "CablePluggedIn", state: "EVConnected", meter: []any{energyMV201(time.Now(), 0, "Transaction.Begin")}})
	x.authorized(validTag)
	x.energyTransferStarted()
	e.waitConnector("CS-E12", 1, "Charging")
	wantOpen(t, e.session201("CS-E12", "TX-E12"), 1, validTag)
}

// evDisconnect plays TC_E_14/TC_E_20: charging, the cable is unplugged
// (at the station or the EV); TxStopPoint EVConnected ends the transaction.
func evDisconnect(t *testing.T, id string) {
	e, st := newE(t, id, 1)
	x := charging201(t, st, "TX-"+id, 1, validTag, 10000)
	x.send(txe{typ: "Ended", trigger: "EVCommunicationLost", state: "Idle", reason: "EVDisconnected",
		meter: []any{energyMV201(time.Now(), 16000, "Transaction.End")}})
	status201(t, st, 1, 1, "Available")
	wantEnded(t, e.session201(id, "TX-"+id), "EVDisconnected", 6000)
	e.wantConnector(id, 1, "Available", "")
}

func TestTC_E_14_CSMS(t *testing.T) { t.Parallel(); evDisconnect(t, "CS-E14") }

func TestTC_E_20_CSMS(t *testing.T) { t.Parallel(); evDisconnect(t, "CS-E20") }

func TestTC_E_15_CSMS(t *testing.T) {
	t.Parallel()
	e, st := newE(t, "CS-E15", 1)
	x := charging201(t, st, "TX-E15", 1, validTag, 500)
	// The driver presents the token again (TxStopPoint Authorized).
	wantTokenStatus(t, "AuthorizeResponse", authorize201(t, st, validTag), "Accepted")
	accepted(t, "TransactionEventResponse (Ended)", x.send(txe{typ: "Ended", trigger: "StopAuthorized", state: "EVConnected", reason: "Local",
		token: validTag, meter: []any{energyMV201(time.Now(), 4500, "Transaction.End")}}))
	wantEnded(t, e.session201("CS-E15", "TX-E15"), "Local", 4000)
	e.waitConnector("CS-E15", 1, "Finishing")
	status201(t, st, 1, 1, "Available")
	e.wantConnector("CS-E15", 1, "Available", "")
}

func TestTC_E_21_CSMS(t *testing.T) {
	t.Parallel()
	e, st := newE(t, "CS-E21", 1)
	x := charging201(t, st, "TX-E21", 1, validTag, 500)
	// The operator stops the transaction (F03).
	e.remoteStatus201(st, "RequestStopTransaction", `{"transactionId":"TX-E21"}`, `{"status":"Accepted"}`, "Accepted")
	x.send(txe{typ: "Ended", trigger: "RemoteStop", state: "EVConnected", reason: "Remote",
		meter: []any{energyMV201(time.Now(), 1700, "Transaction.End")}})
	wantEnded(t, e.session201("CS-E21", "TX-E21"), "Remote", 1200)
}

func TestTC_E_16_CSMS(t *testing.T) {
	t.Parallel()
	e, st := newE(t, "CS-E16", 1)
	status201(t, st, 1, 1, "Occupied")
	x := newTx(t, st, "TX-E16", 1)
	m := x.send(txe{typ: "Started", trigger: "Authorized", evse: true, token: invalidTag})
	wantTokenStatus(t, "TransactionEventResponse (Started)", tokenInfo(t, "TransactionEventResponse", m), "Invalid", "Unknown")
	// E05: the station ends the transaction itself.
	x.send(txe{typ: "Ended", trigger: "Deauthorized", reason: "DeAuthorized"})
	wantEnded(t, e.session201("CS-E16", "TX-E16"), "DeAuthorized", 0)
}

func TestTC_E_17_CSMS(t *testing.T) {
	t.Parallel()
	e, st := newE(t, "CS-E17", 1)
	x := charging201(t, st, "TX-E17", 1, validTag, 100)
	// EnergyTransferSuspended, then the EV side is disconnected.
	x.send(txe{typ: "Updated", trigger: "ChargingStateChanged", state: "SuspendedEV"})
	e.waitConnector("CS-E17", 1, "SuspendedEV")
	x.send(txe{typ: "Ended", trigger: "EVCommunicationLost", state: "Idle", reason: "EVDisconnected",
		meter: []any{energyMV201(time.Now(), 900, "Transaction.End")}})
	wantEnded(t, e.session201("CS-E17", "TX-E17"), "EVDisconnected", 800)
}

func TestTC_E_39_CSMS(t *testing.T) {
	t.Parallel()
	e, st := newE(t, "CS-E39", 1)
	// Authorized (TxStartPoint Authorized), but no EV is connected within
	// EVConnectionTimeOut. No event carries evse: it is only provided in
	// the first event after the EV has connected (E01.FR.16), and no EV
	// ever does.
	wantTokenStatus(t, "AuthorizeResponse", authorize201(t, st, validTag), "Accepted")
	x := newTx(t, st, "TX-E39", 1)
	accepted(t, "TransactionEventResponse (Started)", x.send(txe{typ: "Started", trigger: "Authorized", token: validTag}))
	x.send(txe{typ: "Ended", trigger: "EVConnectTimeout", reason: "Timeout"})
	wantEnded(t, e.session201("CS-E39", "TX-E39"), "Timeout", 0)
	// The token may start again: the timed-out session does not block it.
	wantTokenStatus(t, "AuthorizeResponse", authorize201(t, st, validTag), "Accepted")
	y := newTx(t, st, "TX-E39-2", 1)
	accepted(t, "TransactionEventResponse (Started)", y.send(txe{typ: "Started", trigger: "Authorized", evse: true, token: validTag}))
}

func TestTC_E_07_CSMS(t *testing.T) {
	t.Parallel()
	e, st := newE(t, "CS-E07", 1)
	x := charging201(t, st, "TX-E07", 1, validTag, 2000)
	// TxStopPoint PowerPathClosed: the driver stops locally, the power
	// path opens, the transaction ends with the cable still in.
	wantTokenStatus(t, "AuthorizeResponse", authorize201(t, st, validTag), "Accepted")
	accepted(t, "TransactionEventResponse (Ended)", x.send(txe{typ: "Ended", trigger: "StopAuthorized", state: "EVConnected", reason: "Local",
		token: validTag, meter: []any{energyMV201(time.Now(), 2600, "Transaction.End")}}))
	wantEnded(t, e.session201("CS-E07", "TX-E07"), "Local", 600)
	e.waitConnector("CS-E07", 1, "Finishing")
}

func TestTC_E_08_CSMS(t *testing.T) {
	t.Parallel()
	e, st := newE(t, "CS-E08", 1)
	x := charging201(t, st, "TX-E08", 1, validTag, 2000)
	// TxStopPoint EnergyTransfer: the driver stops; the energy transfer ends.
	wantTokenStatus(t, "AuthorizeResponse", authorize201(t, st, validTag), "Accepted")
	accepted(t, "TransactionEventResponse (Ended)", x.send(txe{typ: "Ended", trigger: "StopAuthorized", state: "EVConnected", reason: "Local",
		token: validTag, meter: []any{energyMV201(time.Now(), 2900, "Transaction.End")}}))
	wantEnded(t, e.session201("CS-E08", "TX-E08"), "Local", 900)
}

func TestTC_E_22_CSMS(t *testing.T) {
	t.Parallel()
	e, st := newE(t, "CS-E22", 1)
	x := charging201(t, st, "TX-E22", 1, validTag, 2000)
	// TxStopPoint EnergyTransfer: the EV stops taking energy.
	x.send(txe{typ: "Ended", trigger: "ChargingStateChanged", state: "SuspendedEV", reason: "StoppedByEV",
		meter: []any{energyMV201(time.Now(), 9000, "Transaction.End")}})
	wantEnded(t, e.session201("CS-E22", "TX-E22"), "StoppedByEV", 7000)
}

func TestTC_E_19_CSMS(t *testing.T) {
	t.Parallel()
	e, st := newE(t, "CS-E19", 1)
	x := charging201(t, st, "TX-E19", 1, validTag, 0)
	// TxStopPoint ParkingBayOccupancy: unplugged, then the EV leaves the bay.
	x.send(txe{typ: "Updated", trigger: "EVCommunicationLost", state: "Idle"})
	status201(t, st, 1, 1, "Available")
	wantOpen(t, e.session201("CS-E19", "TX-E19"), 1, validTag)
	x.send(txe{typ: "Ended", trigger: "EVDeparted", reason: "EVDisconnected", meter: []any{energyMV201(time.Now(), 3300, "Transaction.End")}})
	wantEnded(t, e.session201("CS-E19", "TX-E19"), "EVDisconnected", 3300)
	e.wantConnector("CS-E19", 1, "Available", "")
}

func TestTC_E_26_CSMS(t *testing.T) {
	t.Parallel()
	e, st := newE(t, "CS-E26", 1)
	x := charging201(t, st, "TX-E26", 1, validTag, 100)
	x.send(txe{typ: "Updated", trigger: "ChargingStateChanged", state: "SuspendedEV"})
	// StopTxOnEVSideDisconnect false: the EV side is unplugged, the
	// transaction is suspended, the connector reports Available.
	x.send(txe{typ: "Updated", trigger: "EVCommunicationLost", state: "Idle"})
	status201(t, st, 1, 1, "Available")
	notifyAvailability(t, st, 1, 1, "Available")
	wantOpen(t, e.session201("CS-E26", "TX-E26"), 1, validTag)
	// The EV is plugged in again and charging resumes in the same transaction.
	status201(t, st, 1, 1, "Occupied")
	x.send(txe{typ: "Updated", trigger: "CablePluggedIn", state: "EVConnected"})
	x.send(txe{typ: "Updated", trigger: "ChargingStateChanged", state: "Charging", meter: []any{energyMV201(time.Now(), 600, "Sample.Periodic")}})
	e.waitConnector("CS-E26", 1, "Charging")
	s := e.session201("CS-E26", "TX-E26")
	wantOpen(t, s, 1, validTag)
	if s.EnergyWh != 500 {
		t.Fatalf("energy_wh %d after resuming, want 500", s.EnergyWh)
	}
}

// TC_E_29–TC_E_34: GetTransactionStatus through the command API, with or
// without a transaction id, with or without messages in the station's
// queue; queued messages are then delivered (offline = true) and must make
// the same session as if sent live.

func TestTC_E_29_CSMS(t *testing.T) {
	t.Parallel()
	e, st := newE(t, "CS-E29", 1)
	x := charging201(t, st, "TX-E29", 1, validTag, 1000)
	// The station loses its connection; meter values are queued.
	st.Close()
	e.waitDisconnected("CS-E29")
	offlineAt := time.Now()
	st = e.connect201("CS-E29") // reconnected, no reboot
	x.st = st
	e.remoteStatus201(st, "GetTransactionStatus", `{"transactionId":"TX-E29"}`, `{"ongoingIndicator":true,"messagesInQueue":true}`, "Accepted")
	x.send(txe{typ: "Updated", trigger: "MeterValuePeriodic", state: "Charging", offline: true, at: offlineAt,
		meter: []any{energyMV201(offlineAt, 2500, "Sample.Periodic")}})
	s := e.session201("CS-E29", "TX-E29")
	wantOpen(t, s, 1, validTag)
	if s.EnergyWh != 1500 {
		t.Fatalf("energy_wh %d after the queued meter value, want 1500", s.EnergyWh)
	}
}

func TestTC_E_30_CSMS(t *testing.T) {
	t.Parallel()
	e, st := newE(t, "CS-E30", 1)
	charging201(t, st, "TX-E30", 1, validTag, 1000)
	e.remoteStatus201(st, "GetTransactionStatus", `{"transactionId":"TX-E30"}`, `{"ongoingIndicator":true,"messagesInQueue":false}`, "Accepted")
	wantOpen(t, e.session201("CS-E30", "TX-E30"), 1, validTag)
}

func TestTC_E_31_CSMS(t *testing.T) { t.Parallel(); tcE31(t, servertest.Options{}) }

func tcE31(t *testing.T, opts servertest.Options) {
	e, st := newEWith(t, opts, "CS-E31", 1)
	x := charging201(t, st, "TX-E31", 1, validTag, 1000)
	// Offline, the driver stops and unplugs; the station queues the events.
	st.Close()
	e.waitDisconnected("CS-E31")
	stopAt := time.Now().Add(-time.Second).Truncate(time.Millisecond)
	st = e.connect201("CS-E31")
	x.st = st
	e.remoteStatus201(st, "GetTransactionStatus", `{"transactionId":"TX-E31"}`, `{"ongoingIndicator":false,"messagesInQueue":true}`, "Accepted")
	accepted(t, "TransactionEventResponse (queued StopAuthorized)", x.send(txe{typ: "Updated", trigger: "StopAuthorized", state: "EVConnected",
		token: validTag, offline: true, at: stopAt.Add(-time.Second)}))
	x.send(txe{typ: "Ended", trigger: "EVCommunicationLost", state: "Idle", reason: "EVDisconnected", offline: true, at: stopAt,
		meter: []any{energyMV201(stopAt, 4000, "Transaction.End")}})
	status201(t, st, 1, 1, "Available")
	s := e.session201("CS-E31", "TX-E31")
	wantEnded(t, s, "EVDisconnected", 3000)
	if !s.StoppedAt.Equal(stopAt) {
		t.Fatalf("stopped_at %s, want %s (the station's time of the queued Ended event)", s.StoppedAt, ts(stopAt))
	}
}

func TestTC_E_33_CSMS(t *testing.T) {
	t.Parallel()
	e, st := newE(t, "CS-E33", 1)
	x := charging201(t, st, "TX-E33", 1, validTag, 1000)
	st.Close()
	e.waitDisconnected("CS-E33")
	at := time.Now()
	st = e.connect201("CS-E33")
	x.st = st
	e.remoteStatus201(st, "GetTransactionStatus", `{}`, `{"messagesInQueue":true}`, "Accepted")
	x.send(txe{typ: "Updated", trigger: "MeterValuePeriodic", state: "Charging", offline: true, at: at,
		meter: []any{energyMV201(at, 1800, "Sample.Periodic")}})
	if s := e.session201("CS-E33", "TX-E33"); s.EnergyWh != 800 {
		t.Fatalf("energy_wh %d after the queued meter value, want 800", s.EnergyWh)
	}
}

func TestTC_E_34_CSMS(t *testing.T) {
	t.Parallel()
	e, st := newE(t, "CS-E34", 1)
	charging201(t, st, "TX-E34", 1, validTag, 1000)
	e.remoteStatus201(st, "GetTransactionStatus", `{}`, `{"messagesInQueue":false}`, "Accepted")
	heartbeat201(t, st)
}

func TestTC_E_53_CSMS(t *testing.T) {
	t.Parallel()
	e, st := newE(t, "CS-E53", 1)
	// Two transactions on the same EVSE, each numbered from seqNo 0.
	for i, id := range []string{"TX-E53-1", "TX-E53-2"} {
		x := charging201(t, st, id, 1, validTag, float64(1000*i))
		if x.seq != 3 {
			t.Fatalf("test script: seqNo %d after the start, want 3", x.seq)
		}
		x.evDisconnected(float64(1000*i + 700))
	}
	for _, id := range []string{"TX-E53-1", "TX-E53-2"} {
		wantEnded(t, e.session201("CS-E53", id), "EVDisconnected", 700)
	}
	if ss := e.sessions("CS-E53"); len(ss) != 2 {
		t.Fatalf("%d sessions, want 2: %v", len(ss), ss)
	}
}
