package conformance

import (
	"net/url"
	"testing"
	"time"
)

// OCPP 2.0.1 Core, block J (meter values).

// meterValueView is a stored meter value as the API shows it.
type meterValueView struct {
	Context  string   `json:"context"`
	EnergyWh *float64 `json:"energy_wh"`
	Samples  []struct {
		Value   string `json:"value"`
		Context string `json:"context"`
	} `json:"samples"`
}

// meterValuesOf lists the stored meter values of a session.
func (e *env) meterValuesOf(sessionID string) []meterValueView {
	e.t.Helper()
	var l struct {
		Items []meterValueView `json:"items"`
	}
	e.getJSON("/api/v1/sessions/"+url.PathEscape(sessionID)+"/meter-values", &l)
	return l.Items
}

// wantMeterContexts requires the session's stored meter values to include
// readings of each context.
func (e *env) wantMeterContexts(s session, contexts ...string) {
	e.t.Helper()
	mvs := e.meterValuesOf(s.ID)
	have := map[string]bool{}
	for _, mv := range mvs {
		for _, sv := range mv.Samples {
			have[sv.Context] = true
		}
	}
	for _, c := range contexts {
		if !have[c] {
			e.t.Fatalf("session %s: no stored %s reading among %+v", s.TransactionID, c, mvs)
		}
	}
}

func TestTC_J_01_CSMS(t *testing.T) {
	t.Parallel()
	_, st := newE(t, "CS-J01", 1)
	// Clock-aligned readings of the main meter (EVSE 0) and of the EVSE,
	// without a transaction, several intervals in a row.
	for i := range 3 {
		at := time.Now().Truncate(time.Second)
		for evse := 0; evse <= 1; evse++ {
			call201(t, st, "MeterValues", obj{"evseId": evse, "meterValue": []any{energyMV201(at, float64(50000+100*i+evse), "Sample.Clock")}})
		}
	}
	heartbeat201(t, st)
}

func TestTC_J_02_CSMS(t *testing.T) {
	t.Parallel()
	e, st := newE(t, "CS-J02", 2)
	x := charging201(t, st, "TX-J02", 1, validTag, 1000)
	for i := 1; i <= 2; i++ {
		at := time.Now()
		call201(t, st, "MeterValues", obj{"evseId": 0, "meterValue": []any{energyMV201(at, float64(90000+500*i), "Sample.Clock")}})
		call201(t, st, "MeterValues", obj{"evseId": 2, "meterValue": []any{energyMV201(at, 7000, "Sample.Clock")}})
		x.send(txe{typ: "Updated", trigger: "MeterValueClock", state: "Charging", meter: []any{energyMV201(at, float64(1000+500*i), "Sample.Clock")}})
	}
	s := e.session201("CS-J02", "TX-J02")
	if s.EnergyWh != 1000 {
		t.Fatalf("energy_wh %d after clock-aligned readings, want 1000", s.EnergyWh)
	}
	e.wantMeterContexts(s, "Sample.Clock")
}

// endedWithReadings plays TC_J_03/J_04/J_10/J_11: the Ended event carries
// the readings of the transaction (clock-aligned or sampled, signed or
// not) and the Transaction.End reading.
func endedWithReadings(t *testing.T, id, context string, signed bool) {
	e, st := newE(t, id, 1)
	x := charging201(t, st, "TX-"+id, 1, validTag, 1000)
	mv := energyMV201
	if signed {
		mv = signedMV201
	}
	t0 := time.Now()
	x.send(txe{typ: "Ended", trigger: "EVCommunicationLost", state: "Idle", reason: "EVDisconnected", meter: []any{
		mv(t0.Add(-2*time.Second), 1400, context), mv(t0.Add(-time.Second), 1900, context), mv(t0, 2300, "Transaction.End")}})
	status201(t, st, 1, 1, "Available")
	s := e.session201(id, "TX-"+id)
	wantEnded(t, s, "EVDisconnected", 1300)
	e.wantMeterContexts(s, context, "Transaction.End", "Transaction.Begin")
	if signed {
		e.waitMessage(id, "TransactionEvent", "in", "signedMeterData")
	}
}

func TestTC_J_03_CSMS(t *testing.T) {
	t.Parallel()
	endedWithReadings(t, "CS-J03", "Sample.Clock", false)
}
func TestTC_J_04_CSMS(t *testing.T) {
	t.Parallel()
	endedWithReadings(t, "CS-J04", "Sample.Clock", true)
}

func TestTC_J_07_CSMS(t *testing.T) {
	t.Parallel()
	e, st := newE(t, "CS-J07", 1)
	// EVConnectedPreSession: the Started event carries Transaction.Begin.
	x := newTx(t, st, "TX-J07", 1)
	x.evConnectedPreSession(2500)
	s := e.session201("CS-J07", "TX-J07")
	if s.Status != "active" || s.MeterStartWh != 2500 {
		t.Fatalf("session %v: want active with meter_start_wh 2500", s)
	}
	e.wantMeterContexts(s, "Transaction.Begin")
}

func TestTC_J_08_CSMS(t *testing.T) {
	t.Parallel()
	e, st := newE(t, "CS-J08", 2)
	// Authorized first: the transaction starts (TxStartPoint Authorized)
	// before the driver has chosen an EVSE, so the Started event has no
	// evse. The EVSE becomes known when the cable is plugged in, and that
	// event carries evse and the Transaction.Begin reading.
	wantTokenStatus(t, "AuthorizeResponse", authorize201(t, st, validTag), "Accepted")
	x := newTx(t, st, "TX-J08", 2)
	accepted(t, "TransactionEventResponse (Started, EVSE not known)", x.send(txe{typ: "Started", trigger: "Authorized", token: validTag}))
	status201(t, st, 2, 1, "Occupied")
	x.send(txe{typ: "Updated", trigger: "CablePluggedIn", state: "EVConnected", evse: true,
		meter: []any{energyMV201(time.Now(), 3100, "Transaction.Begin")}})
	x.energyTransferStarted()
	e.waitConnector("CS-J08", 2, "Charging")
	s := e.session201("CS-J08", "TX-J08")
	wantOpen(t, s, 2, validTag)
	if s.MeterStartWh != 3100 {
		t.Fatalf("meter_start_wh %d, want 3100", s.MeterStartWh)
	}
}

func TestTC_J_09_CSMS(t *testing.T) {
	t.Parallel()
	e, st := newE(t, "CS-J09", 1)
	x := charging201(t, st, "TX-J09", 1, validTag, 1000)
	for i := 1; i <= 3; i++ {
		x.send(txe{typ: "Updated", trigger: "MeterValuePeriodic", state: "Charging",
			meter: []any{energyMV201(time.Now(), float64(1000+400*i), "Sample.Periodic")}})
	}
	s := e.session201("CS-J09", "TX-J09")
	if s.EnergyWh != 1200 {
		t.Fatalf("energy_wh %d after three periodic readings, want 1200", s.EnergyWh)
	}
	e.wantMeterContexts(s, "Transaction.Begin", "Sample.Periodic")
	if n := len(e.meterValuesOf(s.ID)); n != 4 {
		t.Fatalf("%d stored meter values, want 4 (begin and three periodic)", n)
	}
}

func TestTC_J_10_CSMS(t *testing.T) {
	t.Parallel()
	endedWithReadings(t, "CS-J10", "Sample.Periodic", false)
}
func TestTC_J_11_CSMS(t *testing.T) {
	t.Parallel()
	endedWithReadings(t, "CS-J11", "Sample.Periodic", true)
}
