package conformance

import (
	"fmt"
	"testing"
	"time"

	"github.com/chargestar/chargestar/internal/servertest"
)

// OCPP 2.0.1 Core, block G (availability).

// changeAvailability is a ChangeAvailabilityRequest: evse 0 is the whole
// station, connector 0 the whole EVSE.
func changeAvailability(status string, evse, connector int) string {
	switch {
	case evse == 0:
		return fmt.Sprintf(`{"operationalStatus":%q}`, status)
	case connector == 0:
		return fmt.Sprintf(`{"operationalStatus":%q,"evse":{"id":%d}}`, status, evse)
	}
	return fmt.Sprintf(`{"operationalStatus":%q,"evse":{"id":%d,"connectorId":%d}}`, status, evse, connector)
}

// unavailable reports EVSEs out of service, as StatusNotification and NotifyEvent.
func unavailable(t *testing.T, st *servertest.Station, state string, evses ...int) {
	t.Helper()
	for _, evse := range evses {
		status201(t, st, evse, 1, state)
		notifyAvailability(t, st, evse, 1, state)
	}
}

// availability plays TC_G_03–TC_G_08: Operative to Inoperative and back,
// for an EVSE, the whole station or a connector.
func availability(t *testing.T, id string, evse, connector int, back bool) {
	e, st := newE(t, id, 2)
	affected := []int{evse}
	if evse == 0 {
		affected = []int{1, 2}
	}
	// To Inoperative (for "back" cases, the reusable precondition).
	e.remoteStatus201(st, "ChangeAvailability", changeAvailability("Inoperative", evse, connector), `{"status":"Accepted"}`, "Accepted")
	unavailable(t, st, "Unavailable", affected...)
	for _, a := range affected {
		e.wantConnector(id, a, "Unavailable", "")
	}
	if evse != 0 {
		e.wantConnector(id, 3-evse, "Available", "") // the other EVSE is untouched
	}
	if !back {
		return
	}
	e.remoteStatus201(st, "ChangeAvailability", changeAvailability("Operative", evse, connector), `{"status":"Accepted"}`, "Accepted")
	unavailable(t, st, "Available", affected...)
	for _, a := range affected {
		e.wantConnector(id, a, "Available", "")
	}
}

func TestTC_G_03_CSMS(t *testing.T) { t.Parallel(); availability(t, "CS-G03", 1, 0, false) }
func TestTC_G_04_CSMS(t *testing.T) { t.Parallel(); availability(t, "CS-G04", 1, 0, true) }
func TestTC_G_05_CSMS(t *testing.T) { t.Parallel(); availability(t, "CS-G05", 0, 0, false) }
func TestTC_G_06_CSMS(t *testing.T) { t.Parallel(); availability(t, "CS-G06", 0, 0, true) }
func TestTC_G_07_CSMS(t *testing.T) { t.Parallel(); availability(t, "CS-G07", 1, 1, false) }
func TestTC_G_08_CSMS(t *testing.T) { t.Parallel(); availability(t, "CS-G08", 1, 1, true) }

// availabilityDuringTransaction plays TC_G_11/TC_G_14/TC_G_17: the
// station schedules the change until the transaction on EVSE 1 ends.
func availabilityDuringTransaction(t *testing.T, id string, evse, connector int) {
	e, st := newE(t, id, 2)
	x := charging201(t, st, "TX-"+id, 1, validTag, 1000)
	e.remoteStatus201(st, "ChangeAvailability", changeAvailability("Inoperative", evse, connector), `{"status":"Scheduled"}`, "Scheduled")
	if evse == 0 {
		unavailable(t, st, "Unavailable", 2) // the idle EVSE goes at once
		e.wantConnector(id, 2, "Unavailable", "")
	}
	// The transaction goes on until the driver ends it.
	e.waitConnector(id, 1, "Charging")
	wantOpen(t, e.session201(id, "TX-"+id), 1, validTag)
	x.evConnectedPostSession(validTag)
	x.send(txe{typ: "Ended", trigger: "EVCommunicationLost", state: "Idle", reason: "EVDisconnected",
		meter: []any{energyMV201(time.Now(), 1800, "Transaction.End")}})
	unavailable(t, st, "Unavailable", 1)
	wantEnded(t, e.session201(id, "TX-"+id), "EVDisconnected", 800)
	e.wantConnector(id, 1, "Unavailable", "")
}

func TestTC_G_11_CSMS(t *testing.T) { t.Parallel(); availabilityDuringTransaction(t, "CS-G11", 1, 0) }
func TestTC_G_14_CSMS(t *testing.T) { t.Parallel(); availabilityDuringTransaction(t, "CS-G14", 0, 0) }
func TestTC_G_17_CSMS(t *testing.T) { t.Parallel(); availabilityDuringTransaction(t, "CS-G17", 1, 1) }

func TestTC_G_20_CSMS(t *testing.T) {
	t.Parallel()
	e, st := newE(t, "CS-G20", 1)
	status201(t, st, 1, 1, "Occupied")
	// The connector cannot be locked: ConnectorPlugRetentionLock.Problem.
	call201(t, st, "NotifyEvent", obj{"generatedAt": ts(time.Now()), "seqNo": 0, "eventData": []any{obj{
		"eventId": 7, "timestamp": ts(time.Now()), "trigger": "Delta", "actualValue": "true", "techInfo": "lock motor stalled",
		"eventNotificationType": "HardWiredNotification",
		"component":             obj{"name": "ConnectorPlugRetentionLock", "evse": obj{"id": 1, "connectorId": 1}},
		"variable":              obj{"name": "Problem"}}}})
	ev := e.waitEvent("CS-G20", "notify", "ConnectorPlugRetentionLock")
	if ev.TechInfo == "" {
		t.Fatalf("lock failure event stored without its value: %+v", ev)
	}
	heartbeat201(t, st)
}
