package conformance

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/chargestar/chargestar/internal/servertest"
)

// Local Auth List Management, Firmware Management, Reservation, Remote
// Trigger and Smart Charging profiles.

// ---- Local Auth List Management ----

func TestTC_042_1_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	st := e.bootedStation("CP042", 1)
	// -1: the station does not support local authorization lists.
	res := e.remote(st, "GetLocalListVersion", `{}`, `{"listVersion":-1}`)
	jsonEq(t, "GetLocalListVersion response", res.Response, `{"listVersion":-1}`)
}

func TestTC_042_2_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	st := e.bootedStation("CP042B", 1)
	e.remote(st, "GetLocalListVersion", `{}`, `{"listVersion":0}`) // supported, empty
}

// sendLocalList is the Full list of the Local Auth List cases.
var sendLocalListFull = fmt.Sprintf(`{"listVersion":1,"updateType":"Full","localAuthorizationList":[`+
	`{"idTag":%q,"idTagInfo":{"status":"Accepted","expiryDate":"2030-01-01T00:00:00.000Z"}},`+
	`{"idTag":%q,"idTagInfo":{"status":"Accepted","parentIdTag":%q}},`+
	`{"idTag":%q,"idTagInfo":{"status":"Blocked"}}]}`, validTag, validTag2, parentTag, blockedTag)

func TestTC_043_1_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	st := e.bootedStation("CP043", 1)
	e.remoteStatus(st, "SendLocalList", sendLocalListFull, `{"status":"NotSupported"}`, "NotSupported")
}

func TestTC_043_3_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	st := e.bootedStation("CP043C", 1)
	e.remoteStatus(st, "SendLocalList", sendLocalListFull, `{"status":"Failed"}`, "Failed")
}

func TestTC_043_4_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	st := e.bootedStation("CP043D", 1)
	e.remote(st, "GetLocalListVersion", `{}`, `{"listVersion":0}`)
	e.remoteStatus(st, "SendLocalList", sendLocalListFull, `{"status":"Accepted"}`, "Accepted")
	e.remote(st, "GetLocalListVersion", `{}`, `{"listVersion":1}`)
	// A Full update with an empty list clears it.
	e.remoteStatus(st, "SendLocalList", `{"listVersion":2,"updateType":"Full"}`, `{"status":"Accepted"}`, "Accepted")
}

func TestTC_043_5_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	st := e.bootedStation("CP043E", 1)
	e.remoteStatus(st, "SendLocalList", sendLocalListFull, `{"status":"Accepted"}`, "Accepted")
	// Differential: add one id, remove one (an entry without idTagInfo).
	e.remoteStatus(st, "SendLocalList", fmt.Sprintf(`{"listVersion":2,"updateType":"Differential","localAuthorizationList":[`+
		`{"idTag":"NEW-TAG-1","idTagInfo":{"status":"Accepted"}},{"idTag":%q}]}`, blockedTag), `{"status":"Accepted"}`, "Accepted")
	e.remote(st, "GetLocalListVersion", `{}`, `{"listVersion":2}`)
}

// ---- Firmware Management ----

func TestTC_044_1_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	st := e.bootedStation("CP044", 1)
	retrieve := ts(time.Now().Add(time.Minute))

	// UpdateFirmware.conf has no fields: the API answers status Accepted.
	e.remoteStatus(st, "UpdateFirmware", fmt.Sprintf(`{"location":"https://firmware.example.com/cp/fw-2.0.0.bin","retrieveDate":%q,"retries":3,"retryInterval":60}`, retrieve), `{}`, "Accepted")
	for _, s := range []string{"Downloading", "Downloaded", "Installing"} {
		st.CallOK("FirmwareStatusNotification", fmt.Sprintf(`{"status":%q}`, s))
		e.wantStation("CP044", func(v stationView) bool { return v.FirmwareStatus != nil && *v.FirmwareStatus == s }, "firmware_status "+s)
	}
	// The station reboots into the new firmware.
	st.Close()
	e.waitDisconnected("CP044")
	st = e.connect("CP044")
	m := st.CallOK("BootNotification", `{"chargePointVendor":"TestVendor","chargePointModel":"TestModel","firmwareVersion":"2.0.0"}`)
	if m["status"] != "Accepted" {
		t.Fatalf("BootNotification.conf status %v", m["status"])
	}
	st.CallOK("FirmwareStatusNotification", `{"status":"Installed"}`)
	status(t, st, 0, "Available")
	status(t, st, 1, "Available")
	e.wantStation("CP044", func(v stationView) bool {
		return v.FirmwareStatus != nil && *v.FirmwareStatus == "Installed" && v.FirmwareVersion == "2.0.0"
	}, "firmware_status Installed and firmware_version 2.0.0")
}

func TestTC_044_2_CSMS(t *testing.T) {
	t.Parallel()
	firmwareFailure(t, "CP044B", []string{"Downloading", "DownloadFailed"})
}

func TestTC_044_3_CSMS(t *testing.T) {
	t.Parallel()
	firmwareFailure(t, "CP044C", []string{"Downloading", "Downloaded", "Installing", "InstallationFailed"})
}

func firmwareFailure(t *testing.T, id string, statuses []string) {
	e := newEnv(t, servertest.Options{})
	st := e.bootedStation(id, 1)
	e.remoteStatus(st, "UpdateFirmware", fmt.Sprintf(`{"location":"https://firmware.example.com/cp/fw-2.0.0.bin","retrieveDate":%q}`, ts(time.Now())), `{}`, "Accepted")
	for _, s := range statuses {
		st.CallOK("FirmwareStatusNotification", fmt.Sprintf(`{"status":%q}`, s))
	}
	last := statuses[len(statuses)-1]
	e.wantStation(id, func(v stationView) bool {
		return v.FirmwareStatus != nil && *v.FirmwareStatus == last && v.FirmwareVersion == "1.0.0"
	},
		"firmware_status "+last+" with the old firmware_version")
	// The station stays usable.
	st.CallOK("FirmwareStatusNotification", `{"status":"Idle"}`)
	heartbeatOK(t, st)
}

func TestTC_045_1_CSMS(t *testing.T) {
	t.Parallel()
	diagnostics(t, "CP045", "Uploaded")
}

func TestTC_045_2_CSMS(t *testing.T) {
	t.Parallel()
	diagnostics(t, "CP045B", "UploadFailed")
}

func diagnostics(t *testing.T, id, outcome string) {
	e := newEnv(t, servertest.Options{})
	st := e.bootedStation(id, 1)
	start, stop := ts(time.Now().Add(-24*time.Hour)), ts(time.Now())
	res := e.remoteStatus(st, "GetDiagnostics",
		fmt.Sprintf(`{"location":"ftp://diagnostics.example.com/upload/","retries":1,"retryInterval":30,"startTime":%q,"stopTime":%q}`, start, stop),
		`{"fileName":"diagnostics-`+id+`.zip"}`, "Accepted")
	var r struct {
		FileName string `json:"fileName"`
	}
	json.Unmarshal(res.Response, &r)
	if r.FileName != "diagnostics-"+id+".zip" {
		t.Fatalf("GetDiagnostics fileName in the API answer: %s", res.Response)
	}
	for _, s := range []string{"Uploading", outcome} {
		st.CallOK("DiagnosticsStatusNotification", fmt.Sprintf(`{"status":%q}`, s))
		e.wantStation(id, func(v stationView) bool { return v.DiagnosticsStatus != nil && *v.DiagnosticsStatus == s }, "diagnostics_status "+s)
	}
}

// wantStation polls the station through the API until cond holds.
func (e *env) wantStation(id string, cond func(stationView) bool, what string) {
	e.t.Helper()
	var last stationView
	deadline := time.Now().Add(wait)
	for {
		last = e.station(id)
		if cond(last) {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("station %s: want %s, got %+v", id, what, last)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ---- Reservation ----

func reserveNow(connector int, tag string, reservationID int, extra string) string {
	return fmt.Sprintf(`{"connectorId":%d,"expiryDate":%q,"idTag":%q,"reservationId":%d%s}`,
		connector, ts(time.Now().Add(30*time.Minute)), tag, reservationID, extra)
}

func TestTC_046_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	e.addTokens()
	st := e.bootedStation("CP046", 1)
	t0 := base()

	e.remoteStatus(st, "ReserveNow", reserveNow(1, validTag, 4601, ""), `{"status":"Accepted"}`, "Accepted")
	status(t, st, 1, "Reserved")
	e.wantConnector("CP046", 1, "Reserved", "")

	// Reusable state Charging, on the reservation.
	if s := authorize(t, st, validTag); s != "Accepted" {
		t.Fatalf("Authorize.conf idTagInfo.status %s", s)
	}
	status(t, st, 1, "Preparing")
	txID, m := startTx(t, st, 1, validTag, 0, t0, `,"reservationId":4601`)
	if s := idTagStatus(t, m); s != "Accepted" {
		t.Fatalf("StartTransaction.conf idTagInfo.status %s", s)
	}
	status(t, st, 1, "Charging")
	s := e.sessionOf("CP046", txID)
	wantActive(t, s, 1, validTag, t0, 0)
	if s.ReservationID == nil || *s.ReservationID != 4601 {
		t.Fatalf("session reservation_id %v, want 4601", s.ReservationID)
	}
	e.wantConnector("CP046", 1, "Charging", "")
}

func TestTC_047_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	e.addTokens()
	st := e.bootedStation("CP047", 1)
	e.remoteStatus(st, "ReserveNow", reserveNow(1, validTag, 4701, ""), `{"status":"Accepted"}`, "Accepted")
	status(t, st, 1, "Reserved")
	e.wantConnector("CP047", 1, "Reserved", "")
	// The driver does not come before the expiry date.
	status(t, st, 1, "Available")
	e.wantConnector("CP047", 1, "Available", "")
	if ss := e.sessions("CP047"); len(ss) != 0 {
		t.Fatalf("sessions after an expired reservation: %v", ss)
	}
}

func TestTC_048_1_CSMS(t *testing.T) { t.Parallel(); reservationRefused(t, "CP048A", "Faulted", nil) }

func TestTC_048_2_CSMS(t *testing.T) {
	t.Parallel()
	reservationRefused(t, "CP048B", "Occupied", func(e *env, st *servertest.Station) {
		status(t, st, 1, "Preparing") // the EV driver plugs in the cable
	})
}

func TestTC_048_3_CSMS(t *testing.T) {
	t.Parallel()
	reservationRefused(t, "CP048C", "Unavailable", func(e *env, st *servertest.Station) {
		e.remoteStatus(st, "ChangeAvailability", `{"connectorId":1,"type":"Inoperative"}`, `{"status":"Accepted"}`, "Accepted")
		status(t, st, 1, "Unavailable")
		e.wantConnector(st.ID, 1, "Unavailable", "")
	})
}

func TestTC_048_4_CSMS(t *testing.T) { t.Parallel(); reservationRefused(t, "CP048D", "Rejected", nil) }

// reservationRefused: the Charge Point answers ReserveNow with a status
// other than Accepted; the API passes it on and nothing is reserved.
func reservationRefused(t *testing.T, id, answer string, before func(*env, *servertest.Station)) {
	e := newEnv(t, servertest.Options{})
	e.addTokens()
	st := e.bootedStation(id, 1)
	if before != nil {
		before(e, st)
	}
	prev := e.connector(id, 1).Status
	e.remoteStatus(st, "ReserveNow", reserveNow(1, validTag, 4800, ""), fmt.Sprintf(`{"status":%q}`, answer), answer)
	e.wantConnector(id, 1, prev, "")
	heartbeatOK(t, st)
}

func TestTC_049_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	e.addTokens()
	st := e.bootedStation("CP049", 2)
	t0 := base()

	// Connector 0: the Charge Point, not a particular connector.
	e.remoteStatus(st, "ReserveNow", reserveNow(0, validTag, 4901, ""), `{"status":"Accepted"}`, "Accepted")
	status(t, st, 1, "Reserved")
	status(t, st, 2, "Reserved")
	e.wantConnector("CP049", 2, "Reserved", "")

	status(t, st, 2, "Preparing")
	txID, m := startTx(t, st, 2, validTag, 0, t0, `,"reservationId":4901`)
	if s := idTagStatus(t, m); s != "Accepted" {
		t.Fatalf("StartTransaction.conf idTagInfo.status %s", s)
	}
	status(t, st, 2, "Charging")
	status(t, st, 1, "Available") // the reservation is used up
	s := e.sessionOf("CP049", txID)
	wantActive(t, s, 2, validTag, t0, 0)
	if s.ReservationID == nil || *s.ReservationID != 4901 {
		t.Fatalf("session reservation_id %v, want 4901", s.ReservationID)
	}
	e.wantConnector("CP049", 1, "Available", "")
}

func TestTC_051_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	e.addTokens()
	st := e.bootedStation("CP051", 1)
	e.remoteStatus(st, "ReserveNow", reserveNow(1, validTag, 5101, ""), `{"status":"Accepted"}`, "Accepted")
	status(t, st, 1, "Reserved")
	e.remoteStatus(st, "CancelReservation", `{"reservationId":5101}`, `{"status":"Accepted"}`, "Accepted")
	status(t, st, 1, "Available")
	e.wantConnector("CP051", 1, "Available", "")
}

func TestTC_052_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	st := e.bootedStation("CP052", 1)
	// No such reservation at the Charge Point.
	e.remoteStatus(st, "CancelReservation", `{"reservationId":5299}`, `{"status":"Rejected"}`, "Rejected")
	e.wantConnector("CP052", 1, "Available", "")
}

func TestTC_053_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	// Two cards of one group, registered as an operator would.
	for _, tag := range []string{validTag, validTag2} {
		r := e.do("POST", "/api/v1/id-tokens", fmt.Sprintf(`{"id_token":%q,"operator_id":%q,"status":"Accepted","parent_id_tag":%q}`, tag, e.op.ID, parentTag))
		if r.Err != nil || r.Code != http.StatusCreated {
			t.Fatalf("POST /api/v1/id-tokens %s: %d %s %v", tag, r.Code, r.Body, r.Err)
		}
	}
	st := e.bootedStation("CP053", 1)
	t0 := base()

	e.remoteStatus(st, "ReserveNow", reserveNow(1, validTag, 5301, fmt.Sprintf(`,"parentIdTag":%q`, parentTag)), `{"status":"Accepted"}`, "Accepted")
	status(t, st, 1, "Reserved")

	// Another card of the same group uses the reservation: the Charge Point
	// learns the group from idTagInfo.parentIdTag.
	m := st.CallOK("Authorize", fmt.Sprintf(`{"idTag":%q}`, validTag2))
	info, _ := m["idTagInfo"].(map[string]any)
	if info["status"] != "Accepted" || info["parentIdTag"] != parentTag {
		t.Fatalf("Authorize.conf for %s: %v, want Accepted with parentIdTag %s", validTag2, m, parentTag)
	}
	status(t, st, 1, "Preparing")
	txID, m := startTx(t, st, 1, validTag2, 0, t0, `,"reservationId":5301`)
	info, _ = m["idTagInfo"].(map[string]any)
	if info["status"] != "Accepted" || info["parentIdTag"] != parentTag {
		t.Fatalf("StartTransaction.conf: %v, want Accepted with parentIdTag %s", m, parentTag)
	}
	status(t, st, 1, "Charging")
	s := e.sessionOf("CP053", txID)
	wantActive(t, s, 1, validTag2, t0, 0)
	if s.ReservationID == nil || *s.ReservationID != 5301 {
		t.Fatalf("session reservation_id %v, want 5301", s.ReservationID)
	}
}

// ---- Remote Trigger ----

func TestTC_054_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	e.addTokens()
	st := e.bootedStation("CP054", 1)
	txID := charging(t, st, 1, validTag, 0, base())

	triggered := []struct {
		request, action, payload string
	}{
		{`{"requestedMessage":"BootNotification"}`, "BootNotification", `{"chargePointVendor":"TestVendor","chargePointModel":"TestModel"}`},
		{`{"requestedMessage":"DiagnosticsStatusNotification"}`, "DiagnosticsStatusNotification", `{"status":"Idle"}`},
		{`{"requestedMessage":"FirmwareStatusNotification"}`, "FirmwareStatusNotification", `{"status":"Idle"}`},
		{`{"requestedMessage":"Heartbeat"}`, "Heartbeat", `{}`},
		{`{"requestedMessage":"MeterValues","connectorId":1}`, "MeterValues",
			fmt.Sprintf(`{"connectorId":1,"transactionId":%d,"meterValue":[{"timestamp":%q,"sampledValue":[{"value":"1234","context":"Trigger","measurand":"Energy.Active.Import.Register","unit":"Wh"}]}]}`, txID, ts(time.Now()))},
		{`{"requestedMessage":"StatusNotification","connectorId":1}`, "StatusNotification",
			fmt.Sprintf(`{"connectorId":1,"errorCode":"NoError","status":"Charging","timestamp":%q}`, ts(time.Now()))},
	}
	for _, tr := range triggered {
		e.remoteStatus(st, "TriggerMessage", tr.request, `{"status":"Accepted"}`, "Accepted")
		m := st.CallOK(tr.action, tr.payload)
		if tr.action == "BootNotification" && m["status"] != "Accepted" {
			t.Fatalf("triggered BootNotification.conf: %v", m)
		}
	}
	if s := e.sessionOf("CP054", txID); s.EnergyWh != 1234 {
		t.Fatalf("triggered MeterValues not stored: session %v", s)
	}
	e.wantConnector("CP054", 1, "Charging", "")
}

func TestTC_055_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	st := e.bootedStation("CP055", 1)
	e.remoteStatus(st, "TriggerMessage", `{"requestedMessage":"MeterValues","connectorId":1}`, `{"status":"Rejected"}`, "Rejected")
	e.remoteStatus(st, "TriggerMessage", `{"requestedMessage":"DiagnosticsStatusNotification"}`, `{"status":"NotImplemented"}`, "NotImplemented")
	heartbeatOK(t, st)
}

// ---- Smart Charging ----

func TestTC_056_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	st := e.bootedStation("CP056", 1)
	profile := fmt.Sprintf(`{"connectorId":0,"csChargingProfiles":{"chargingProfileId":56,"stackLevel":0,"chargingProfilePurpose":"TxDefaultProfile",`+
		`"chargingProfileKind":"Recurring","recurrencyKind":"Daily","chargingSchedule":{"startSchedule":%q,"duration":86400,"chargingRateUnit":"A",`+
		`"chargingSchedulePeriod":[{"startPeriod":0,"limit":16.0,"numberPhases":3},{"startPeriod":28800,"limit":32.5}]}}}`, ts(time.Now().Truncate(24*time.Hour)))
	e.remoteStatus(st, "SetChargingProfile", profile, `{"status":"Accepted"}`, "Accepted")
}

func TestTC_057_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	e.addTokens()
	st := e.bootedStation("CP057", 1)
	txID := charging(t, st, 1, validTag, 0, base())
	// A Relative TxProfile for the running transaction (no startSchedule).
	profile := fmt.Sprintf(`{"connectorId":1,"csChargingProfiles":{"chargingProfileId":57,"transactionId":%d,"stackLevel":1,"chargingProfilePurpose":"TxProfile",`+
		`"chargingProfileKind":"Relative","chargingSchedule":{"duration":3600,"chargingRateUnit":"W","chargingSchedulePeriod":[{"startPeriod":0,"limit":7400}]}}}`, txID)
	e.remoteStatus(st, "SetChargingProfile", profile, `{"status":"Accepted"}`, "Accepted")
	// And an Absolute one with validFrom/validTo and startSchedule.
	now := time.Now()
	profile = fmt.Sprintf(`{"connectorId":1,"csChargingProfiles":{"chargingProfileId":58,"transactionId":%d,"stackLevel":2,"chargingProfilePurpose":"TxProfile",`+
		`"chargingProfileKind":"Absolute","validFrom":%q,"validTo":%q,"chargingSchedule":{"startSchedule":%q,"duration":1800,"chargingRateUnit":"A",`+
		`"chargingSchedulePeriod":[{"startPeriod":0,"limit":10}],"minChargingRate":6.5}}}`, txID, ts(now), ts(now.Add(time.Hour)), ts(now))
	e.remoteStatus(st, "SetChargingProfile", profile, `{"status":"Accepted"}`, "Accepted")
	if s := e.sessionOf("CP057", txID); s.Status != "active" {
		t.Fatalf("session after SetChargingProfile: %v", s)
	}
}

func TestTC_059_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	e.addTokens()
	st := e.bootedStation("CP059", 1)
	t0 := base()
	req := fmt.Sprintf(`{"connectorId":1,"idTag":%q,"chargingProfile":{"chargingProfileId":59,"stackLevel":0,"chargingProfilePurpose":"TxProfile",`+
		`"chargingProfileKind":"Relative","chargingSchedule":{"chargingRateUnit":"A","chargingSchedulePeriod":[{"startPeriod":0,"limit":16}]}}}`, validTag)
	e.remoteStatus(st, "RemoteStartTransaction", req, `{"status":"Accepted"}`, "Accepted")
	if s := authorize(t, st, validTag); s != "Accepted" {
		t.Fatalf("Authorize.conf idTagInfo.status %s", s)
	}
	status(t, st, 1, "Preparing")
	txID, _ := startTx(t, st, 1, validTag, 0, t0, "")
	status(t, st, 1, "Charging")
	wantActive(t, e.sessionOf("CP059", txID), 1, validTag, t0, 0)

	// The profile's purpose must be TxProfile: the API refuses a bad enum before sending.
	bad := fmt.Sprintf(`{"connectorId":1,"idTag":%q,"chargingProfile":{"chargingProfileId":1,"stackLevel":0,"chargingProfilePurpose":"Nonsense",`+
		`"chargingProfileKind":"Relative","chargingSchedule":{"chargingRateUnit":"A","chargingSchedulePeriod":[{"startPeriod":0,"limit":16}]}}}`, validTag)
	if r := e.await(e.command("CP059", "RemoteStartTransaction", bad)); r.Code != http.StatusBadRequest {
		t.Fatalf("invalid RemoteStartTransaction: API %d %s, want 400", r.Code, r.Body)
	}
}

func TestTC_066_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	st := e.bootedStation("CP066", 1)
	reply := fmt.Sprintf(`{"status":"Accepted","connectorId":1,"scheduleStart":%q,"chargingSchedule":{"duration":3600,"chargingRateUnit":"W",`+
		`"chargingSchedulePeriod":[{"startPeriod":0,"limit":11000},{"startPeriod":1800,"limit":7400}]}}`, ts(time.Now()))
	e.remoteStatus(st, "GetCompositeSchedule", `{"connectorId":1,"duration":3600,"chargingRateUnit":"W"}`, reply, "Accepted")
}

func TestTC_067_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	e.addTokens()
	st := e.bootedStation("CP067", 1)
	txID := charging(t, st, 1, validTag, 0, base())

	profiles := []string{
		`{"connectorId":0,"csChargingProfiles":{"chargingProfileId":1,"stackLevel":0,"chargingProfilePurpose":"ChargePointMaxProfile","chargingProfileKind":"Relative",` +
			`"chargingSchedule":{"chargingRateUnit":"A","chargingSchedulePeriod":[{"startPeriod":0,"limit":32}]}}}`,
		`{"connectorId":1,"csChargingProfiles":{"chargingProfileId":2,"stackLevel":0,"chargingProfilePurpose":"TxDefaultProfile","chargingProfileKind":"Relative",` +
			`"chargingSchedule":{"chargingRateUnit":"A","chargingSchedulePeriod":[{"startPeriod":0,"limit":16}]}}}`,
		fmt.Sprintf(`{"connectorId":1,"csChargingProfiles":{"chargingProfileId":3,"transactionId":%d,"stackLevel":0,"chargingProfilePurpose":"TxProfile",`+
			`"chargingProfileKind":"Relative","chargingSchedule":{"chargingRateUnit":"A","chargingSchedulePeriod":[{"startPeriod":0,"limit":10}]}}}`, txID),
	}
	for _, p := range profiles {
		e.remoteStatus(st, "SetChargingProfile", p, `{"status":"Accepted"}`, "Accepted")
	}
	e.remoteStatus(st, "ClearChargingProfile", `{"id":1}`, `{"status":"Accepted"}`, "Accepted")
	e.remoteStatus(st, "ClearChargingProfile", `{"connectorId":1,"chargingProfilePurpose":"TxDefaultProfile","stackLevel":0}`, `{"status":"Accepted"}`, "Accepted")
	e.remoteStatus(st, "ClearChargingProfile", `{}`, `{"status":"Accepted"}`, "Accepted")
	// Nothing left to clear.
	e.remoteStatus(st, "ClearChargingProfile", `{}`, `{"status":"Unknown"}`, "Unknown")
}
