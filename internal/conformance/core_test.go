package conformance

import (
	"fmt"
	"testing"
	"time"

	"github.com/chargestar/chargestar/internal/servertest"
)

// Core profile: the OCTT's OCPP 1.6 CSMS cases TC_001 … TC_064.

func TestTC_001_CSMS(t *testing.T) {
	t.Parallel()
	tc001ColdBoot(t, servertest.Options{})
}

// tc001ColdBoot: BootNotification Accepted with the configured interval,
// StatusNotification Available per connector and for connector 0, then
// Heartbeats; the station is stored as the boot described it.
func tc001ColdBoot(t *testing.T, opts servertest.Options) {
	opts.HeartbeatInterval = 90 * time.Second
	e := newEnv(t, opts)
	e.addStation("CP001")
	st := e.connect("CP001")

	m := st.CallOK("BootNotification", `{"chargePointVendor":"OCTT-Vendor","chargePointModel":"OCTT-Model","chargePointSerialNumber":"CPSN-001",`+
		`"chargeBoxSerialNumber":"CBSN-001","firmwareVersion":"1.2.3","iccid":"89310410106543789301","imsi":"204043728391234",`+
		`"meterType":"DZG","meterSerialNumber":"MSN-001"}`)
	if m["status"] != "Accepted" {
		t.Fatalf("BootNotification.conf status %v, want Accepted", m["status"])
	}
	if m["interval"] != float64(90) {
		t.Fatalf("BootNotification.conf interval %v, want 90 (the configured heartbeat interval)", m["interval"])
	}
	wantNow(t, "BootNotification.conf currentTime", m["currentTime"])

	for c := 0; c <= 2; c++ {
		status(t, st, c, "Available")
	}
	for range 2 { // "every x seconds"
		hb := st.CallOK("Heartbeat", `{}`)
		wantNow(t, "Heartbeat.conf currentTime", hb["currentTime"])
	}

	v := e.station("CP001")
	if !v.Connected || v.Protocol == nil || *v.Protocol != "ocpp1.6" || v.Vendor != "OCTT-Vendor" || v.Model != "OCTT-Model" ||
		v.SerialNumber != "CPSN-001" || v.FirmwareVersion != "1.2.3" || v.RegistrationStatus == nil || *v.RegistrationStatus != "Accepted" ||
		v.HeartbeatInterval != 90 || v.LastBootAt == nil {
		t.Fatalf("station after boot: %+v", v)
	}
	if len(v.Connectors) != 2 {
		t.Fatalf("connectors: %+v, want 1 and 2 (connector 0 is not listed)", v.Connectors)
	}
	for i, c := range v.Connectors {
		if c.ConnectorID != i+1 || c.Status != "Available" || c.ErrorCode != "NoError" {
			t.Fatalf("connector %d: %+v, want Available NoError", i+1, c)
		}
	}
}

// wantNow requires a date-time close to the present.
func wantNow(t *testing.T, what string, v any) {
	t.Helper()
	s, _ := v.(string)
	got, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || got.Before(time.Now().Add(-time.Minute)) || got.After(time.Now().Add(time.Minute)) {
		t.Fatalf("%s = %v: want the current time in RFC 3339", what, v)
	}
}

func TestTC_003_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	e.addTokens()
	st := e.bootedStation("CP003", 1)
	t0 := base()

	status(t, st, 1, "Preparing") // EV driver plugs in the cable
	e.wantConnector("CP003", 1, "Preparing", "")
	if s := authorize(t, st, validTag); s != "Accepted" {
		t.Fatalf("Authorize.conf idTagInfo.status %s, want Accepted", s)
	}
	txID, m := startTx(t, st, 1, validTag, 1000, t0, "")
	if s := idTagStatus(t, m); s != "Accepted" {
		t.Fatalf("StartTransaction.conf idTagInfo.status %s, want Accepted", s)
	}
	status(t, st, 1, "Charging")
	energyMV(t, st, 1, txID, 3500, t0.Add(5*time.Minute))

	s := e.sessionOf("CP003", txID)
	wantActive(t, s, 1, validTag, t0, 1000)
	if s.EnergyWh != 2500 {
		t.Fatalf("active session energy_wh %d, want 2500 (latest register − meter start)", s.EnergyWh)
	}
	e.wantConnector("CP003", 1, "Charging", "NoError")
}

func TestTC_004_1_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	e.addTokens()
	st := e.bootedStation("CP004", 1)
	t0 := base()

	// Reusable state Authorized, then the cable is plugged in.
	if s := authorize(t, st, validTag); s != "Accepted" {
		t.Fatalf("Authorize.conf idTagInfo.status %s, want Accepted", s)
	}
	status(t, st, 1, "Preparing")
	// The StartTransaction and the Charging status may come in either order:
	// this station reports Charging first.
	status(t, st, 1, "Charging")
	txID, m := startTx(t, st, 1, validTag, 0, t0, "")
	if s := idTagStatus(t, m); s != "Accepted" {
		t.Fatalf("StartTransaction.conf idTagInfo.status %s, want Accepted", s)
	}
	wantActive(t, e.sessionOf("CP004", txID), 1, validTag, t0, 0)
	e.wantConnector("CP004", 1, "Charging", "")
}

func TestTC_004_2_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	e.addTokens()
	st := e.bootedStation("CP004B", 1)

	if s := authorize(t, st, validTag); s != "Accepted" {
		t.Fatalf("Authorize.conf idTagInfo.status %s, want Accepted", s)
	}
	status(t, st, 1, "Preparing")
	e.wantConnector("CP004B", 1, "Preparing", "")
	// ConnectionTimeOut expires without a cable: back to Available.
	status(t, st, 1, "Available")
	e.wantConnector("CP004B", 1, "Available", "NoError")
	if ss := e.sessions("CP004B"); len(ss) != 0 {
		t.Fatalf("no transaction was started, but sessions exist: %v", ss)
	}
	// The token may still be used: no session blocks it.
	if s := authorize(t, st, validTag); s != "Accepted" {
		t.Fatalf("Authorize after the timeout: %s, want Accepted", s)
	}
}

func TestTC_005_1_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	e.addTokens()
	st := e.bootedStation("CP005", 1)
	t0 := base()
	txID := charging(t, st, 1, validTag, 12000, t0)
	energyMV(t, st, 1, txID, 15000, t0.Add(15*time.Minute))

	// The EV driver disconnects the cable on the EV side.
	status(t, st, 1, "SuspendedEV")
	stop := stopTx(t, st, txID, 18250, t0.Add(30*time.Minute), validTag, "EVDisconnected",
		fmt.Sprintf(`,"transactionData":[{"timestamp":%q,"sampledValue":[{"value":"18250","context":"Transaction.End","measurand":"Energy.Active.Import.Register","unit":"Wh"}]}]`, ts(t0.Add(30*time.Minute))))
	if s := idTagStatus(t, stop); s != "Accepted" {
		t.Fatalf("StopTransaction.conf idTagInfo.status %s, want Accepted", s)
	}
	status(t, st, 1, "Finishing")
	// The driver unplugs the cable at the Charge Point.
	status(t, st, 1, "Available")

	wantCompleted(t, e.sessionOf("CP005", txID), t0, t0.Add(30*time.Minute), 6250, "EVDisconnected")
	e.wantConnector("CP005", 1, "Available", "NoError")
}

func TestTC_007_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	e.addTokens()
	st := e.bootedStation("CP007", 1)
	t0 := base()

	status(t, st, 1, "Preparing")
	// The id is in the station's authorization cache: no Authorize.req.
	txID, m := startTx(t, st, 1, validTag, 500, t0, "")
	if s := idTagStatus(t, m); s != "Accepted" {
		t.Fatalf("StartTransaction.conf idTagInfo.status %s, want Accepted", s)
	}
	status(t, st, 1, "Charging")
	wantActive(t, e.sessionOf("CP007", txID), 1, validTag, t0, 500)
	e.wantConnector("CP007", 1, "Charging", "")
}

func TestTC_010_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	e.addTokens()
	st := e.bootedStation("CP010", 1)
	t0 := base()

	status(t, st, 1, "Preparing") // cable plugged in first
	e.remoteStatus(st, "RemoteStartTransaction", fmt.Sprintf(`{"connectorId":1,"idTag":%q}`, validTag), `{"status":"Accepted"}`, "Accepted")
	if s := authorize(t, st, validTag); s != "Accepted" {
		t.Fatalf("Authorize.conf idTagInfo.status %s, want Accepted", s)
	}
	txID, m := startTx(t, st, 1, validTag, 0, t0, "")
	if s := idTagStatus(t, m); s != "Accepted" {
		t.Fatalf("StartTransaction.conf idTagInfo.status %s, want Accepted", s)
	}
	status(t, st, 1, "Charging")
	wantActive(t, e.sessionOf("CP010", txID), 1, validTag, t0, 0)
	e.wantConnector("CP010", 1, "Charging", "")
}

func TestTC_011_1_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	e.addTokens()
	st := e.bootedStation("CP011", 1)
	t0 := base()

	e.remoteStatus(st, "RemoteStartTransaction", fmt.Sprintf(`{"connectorId":1,"idTag":%q}`, validTag), `{"status":"Accepted"}`, "Accepted")
	if s := authorize(t, st, validTag); s != "Accepted" {
		t.Fatalf("Authorize.conf idTagInfo.status %s, want Accepted", s)
	}
	status(t, st, 1, "Preparing")
	txID, m := startTx(t, st, 1, validTag, 0, t0, "")
	if s := idTagStatus(t, m); s != "Accepted" {
		t.Fatalf("StartTransaction.conf idTagInfo.status %s, want Accepted", s)
	}
	status(t, st, 1, "Charging")
	wantActive(t, e.sessionOf("CP011", txID), 1, validTag, t0, 0)
}

func TestTC_011_2_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	e.addTokens()
	st := e.bootedStation("CP011B", 1)

	e.remoteStatus(st, "RemoteStartTransaction", fmt.Sprintf(`{"connectorId":1,"idTag":%q}`, validTag), `{"status":"Accepted"}`, "Accepted")
	if s := authorize(t, st, validTag); s != "Accepted" {
		t.Fatalf("Authorize.conf idTagInfo.status %s, want Accepted", s)
	}
	status(t, st, 1, "Preparing")
	status(t, st, 1, "Available") // the connection timeout is reached
	e.wantConnector("CP011B", 1, "Available", "")
	if ss := e.sessions("CP011B"); len(ss) != 0 {
		t.Fatalf("no transaction was started, but sessions exist: %v", ss)
	}
}

func TestTC_012_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	e.addTokens()
	st := e.bootedStation("CP012", 1)
	t0 := base()
	txID := charging(t, st, 1, validTag, 100, t0)

	e.remoteStatus(st, "RemoteStopTransaction", fmt.Sprintf(`{"transactionId":%d}`, txID), `{"status":"Accepted"}`, "Accepted")
	stop := stopTx(t, st, txID, 7100, t0.Add(40*time.Minute), "", "Remote", "")
	if _, ok := stop["idTagInfo"]; ok {
		t.Fatalf("StopTransaction.conf without an idTag carries idTagInfo: %v", stop)
	}
	status(t, st, 1, "Finishing")
	wantCompleted(t, e.sessionOf("CP012", txID), t0, t0.Add(40*time.Minute), 7000, "Remote")
	e.wantConnector("CP012", 1, "Finishing", "")
}

func TestTC_013_CSMS(t *testing.T) { t.Parallel(); resetCase(t, "CP013", "Hard") }

func TestTC_014_CSMS(t *testing.T) { t.Parallel(); resetCase(t, "CP014", "Soft") }

// resetCase: the Central System sends Reset; the Charge Point accepts,
// reboots (a new connection and BootNotification) and reports its
// connectors. A second run with a transaction ongoing: the station stops it
// with reason HardReset/SoftReset, and the session ends complete.
func resetCase(t *testing.T, id, typ string) {
	e := newEnv(t, servertest.Options{})
	e.addTokens()
	st := e.bootedStation(id, 1)

	reboot := func(st *servertest.Station) *servertest.Station {
		t.Helper()
		st.Close()
		e.waitDisconnected(id)
		st = e.connect(id)
		st.Boot()
		status(t, st, 0, "Available")
		status(t, st, 1, "Available")
		return st
	}

	e.remoteStatus(st, "Reset", fmt.Sprintf(`{"type":%q}`, typ), `{"status":"Accepted"}`, "Accepted")
	st = reboot(st)
	v := e.station(id)
	if !v.Connected || v.RegistrationStatus == nil || *v.RegistrationStatus != "Accepted" {
		t.Fatalf("station after reboot: %+v", v)
	}
	e.wantConnector(id, 1, "Available", "")

	// With a transaction ongoing.
	t0 := base()
	txID := charging(t, st, 1, validTag, 0, t0)
	e.remoteStatus(st, "Reset", fmt.Sprintf(`{"type":%q}`, typ), `{"status":"Accepted"}`, "Accepted")
	stopTx(t, st, txID, 2000, t0.Add(10*time.Minute), "", typ+"Reset", "")
	reboot(st)
	wantCompleted(t, e.sessionOf(id, txID), t0, t0.Add(10*time.Minute), 2000, typ+"Reset")
	e.wantConnector(id, 1, "Available", "")
}

func TestTC_017_1_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	st := e.bootedStation("CP017", 1)
	e.remoteStatus(st, "UnlockConnector", `{"connectorId":1}`, `{"status":"Unlocked"}`, "Unlocked")
	e.wantConnector("CP017", 1, "Available", "")
}

func TestTC_017_2_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	st := e.bootedStation("CP017B", 1)
	// A fixed cable cannot be unlocked.
	e.remoteStatus(st, "UnlockConnector", `{"connectorId":1}`, `{"status":"NotSupported"}`, "NotSupported")
}

func TestTC_018_1_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	e.addTokens()
	st := e.bootedStation("CP018", 1)
	t0 := base()
	txID := charging(t, st, 1, validTag, 300, t0)

	e.remoteStatus(st, "UnlockConnector", `{"connectorId":1}`, `{"status":"Unlocked"}`, "Unlocked")
	stopTx(t, st, txID, 1300, t0.Add(20*time.Minute), "", "UnlockCommand", "")
	status(t, st, 1, "Finishing")
	status(t, st, 1, "Available") // cable removed
	wantCompleted(t, e.sessionOf("CP018", txID), t0, t0.Add(20*time.Minute), 1000, "UnlockCommand")
	e.wantConnector("CP018", 1, "Available", "")
}

func TestTC_019_1_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	st := e.bootedStation("CP019", 1)
	reply := `{"configurationKey":[{"key":"HeartbeatInterval","readonly":false,"value":"300"},` +
		`{"key":"MeterValueSampleInterval","readonly":false,"value":"60"},{"key":"NumberOfConnectors","readonly":true,"value":"1"}]}`
	// All keys: no "key" in the request.
	e.remoteStatus(st, "GetConfiguration", `{}`, reply, "Accepted")
}

func TestTC_019_2_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	st := e.bootedStation("CP019B", 1)
	e.remoteStatus(st, "GetConfiguration", `{"key":["HeartbeatInterval"]}`,
		`{"configurationKey":[{"key":"HeartbeatInterval","readonly":false,"value":"300"}]}`, "Accepted")
}

func TestTC_021_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	st := e.bootedStation("CP021", 1)
	e.remoteStatus(st, "ChangeConfiguration", `{"key":"MeterValueSampleInterval","value":"30"}`, `{"status":"Accepted"}`, "Accepted")
	e.remoteStatus(st, "GetConfiguration", `{"key":["MeterValueSampleInterval"]}`,
		`{"configurationKey":[{"key":"MeterValueSampleInterval","readonly":false,"value":"30"}]}`, "Accepted")
}

func TestTC_023_1_CSMS(t *testing.T) { t.Parallel(); authorizeCase(t, "CP023A", invalidTag, "Invalid") }
func TestTC_023_2_CSMS(t *testing.T) { t.Parallel(); authorizeCase(t, "CP023B", expiredTag, "Expired") }
func TestTC_023_3_CSMS(t *testing.T) { t.Parallel(); authorizeCase(t, "CP023C", blockedTag, "Blocked") }

// authorizeCase: the EV driver presents an id the Central System must refuse.
func authorizeCase(t *testing.T, id, tag, want string) {
	e := newEnv(t, servertest.Options{})
	e.addTokens()
	st := e.bootedStation(id, 1)
	status(t, st, 1, "Preparing")
	if s := authorize(t, st, tag); s != want {
		t.Fatalf("Authorize.conf idTagInfo.status %s, want %s", s, want)
	}
	status(t, st, 1, "Available")
	if ss := e.sessions(id); len(ss) != 0 {
		t.Fatalf("sessions after a refused Authorize: %v", ss)
	}
}

func TestTC_024_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	e.addTokens()
	st := e.bootedStation("CP024", 1)

	status(t, st, 1, "Preparing")
	if s := authorize(t, st, validTag); s != "Accepted" {
		t.Fatalf("Authorize.conf idTagInfo.status %s, want Accepted", s)
	}
	// The connector cannot lock the cable: no transaction, the connector is Faulted.
	statusAt(t, st, 1, "Faulted", "ConnectorLockFailure", time.Now())
	e.wantConnector("CP024", 1, "Faulted", "ConnectorLockFailure")
	if ss := e.sessions("CP024"); len(ss) != 0 {
		t.Fatalf("sessions after a lock failure: %v", ss)
	}
}

func TestTC_026_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	e.addTokens()
	st := e.bootedStation("CP026", 1)
	e.remoteStatus(st, "RemoteStartTransaction", fmt.Sprintf(`{"connectorId":1,"idTag":%q}`, validTag), `{"status":"Rejected"}`, "Rejected")
	if ss := e.sessions("CP026"); len(ss) != 0 {
		t.Fatalf("sessions after a rejected remote start: %v", ss)
	}
	e.wantConnector("CP026", 1, "Available", "")
}

func TestTC_028_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	e.addTokens()
	st := e.bootedStation("CP028", 1)
	t0 := base()
	txID := charging(t, st, 1, validTag, 0, t0)

	e.remoteStatus(st, "RemoteStopTransaction", fmt.Sprintf(`{"transactionId":%d}`, txID), `{"status":"Rejected"}`, "Rejected")
	wantActive(t, e.sessionOf("CP028", txID), 1, validTag, t0, 0)
	e.wantConnector("CP028", 1, "Charging", "")
}

func TestTC_030_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	st := e.bootedStation("CP030", 1)
	e.remoteStatus(st, "UnlockConnector", `{"connectorId":1}`, `{"status":"UnlockFailed"}`, "UnlockFailed")
}

func TestTC_031_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	st := e.bootedStation("CP031", 1)
	// Connector 7 does not exist at this station; the operator may still ask.
	e.remoteStatus(st, "UnlockConnector", `{"connectorId":7}`, `{"status":"NotSupported"}`, "NotSupported")
}

func TestTC_032_1_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	e.addTokens()
	st := e.bootedStation("CP032", 2)
	t0 := base()
	txID := charging(t, st, 1, validTag, 40000, t0)
	energyMV(t, st, 1, txID, 43000, t0.Add(30*time.Minute))

	// Power is cut 35 minutes in: the connection drops without a close.
	powerLoss := t0.Add(35 * time.Minute)
	st.Drop()
	e.waitDisconnected("CP032")

	// Power returns: the station boots, reports its connectors and then
	// delivers the stop it recorded when it went down.
	st = e.connect("CP032")
	st.Boot()
	status(t, st, 0, "Available")
	status(t, st, 1, "Finishing")
	status(t, st, 2, "Available")
	// The open session survives the reboot until the station's stop arrives.
	if s := e.sessionOf("CP032", txID); s.Status != "active" && (s.StopSource == nil || *s.StopSource != "estimated") {
		t.Fatalf("session after the reboot, before the station's stop: %v", s)
	} else {
		t.Logf("session after the reboot, before the station's stop: %s", s.Status)
	}
	stop := stopTx(t, st, txID, 43600, powerLoss, validTag, "PowerLoss", "")
	if s := idTagStatus(t, stop); s != "Accepted" {
		t.Fatalf("StopTransaction.conf idTagInfo.status %s, want Accepted", s)
	}
	wantCompleted(t, e.sessionOf("CP032", txID), t0, powerLoss, 3600, "PowerLoss")
	e.wantConnector("CP032", 1, "Finishing", "")
	e.wantConnector("CP032", 2, "Available", "")
	if v := e.station("CP032"); !v.Connected || v.LastBootAt == nil {
		t.Fatalf("station after the power failure: %+v", v)
	}
}

func TestTC_037_1_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	e.addTokens()
	st := e.bootedStation("CP037", 1)

	// Connectivity is lost; the driver starts a transaction offline with a
	// valid id, 20 minutes before the connection comes back.
	st.Drop()
	e.waitDisconnected("CP037")
	started := time.Now().UTC().Add(-20 * time.Minute).Truncate(time.Millisecond)

	st = e.connect("CP037") // no reboot: the station only reconnects
	txID, m := startTx(t, st, 1, validTag, 2200, started, "")
	if s := idTagStatus(t, m); s != "Accepted" {
		t.Fatalf("StartTransaction.conf idTagInfo.status %s, want Accepted", s)
	}
	// Meter values recorded while offline arrive late, in order.
	energyMV(t, st, 1, txID, 3200, started.Add(5*time.Minute))
	energyMV(t, st, 1, txID, 4200, started.Add(10*time.Minute))
	status(t, st, 1, "Charging")

	s := e.sessionOf("CP037", txID)
	wantActive(t, s, 1, validTag, started, 2200)
	if s.EnergyWh != 2000 {
		t.Fatalf("active session energy_wh %d, want 2000 from the late meter values", s.EnergyWh)
	}
	e.wantConnector("CP037", 1, "Charging", "")
}

func TestTC_037_3_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	e.addTokens()
	st := e.bootedStation("CP037C", 1)

	st.Drop()
	e.waitDisconnected("CP037C")
	started := time.Now().UTC().Add(-15 * time.Minute).Truncate(time.Millisecond)

	st = e.connect("CP037C")
	// Started offline with an id the Central System does not know.
	txID, m := startTx(t, st, 1, invalidTag, 800, started, "")
	if s := idTagStatus(t, m); s != "Invalid" {
		t.Fatalf("StartTransaction.conf idTagInfo.status %s, want Invalid", s)
	}
	// StopTransactionOnInvalidId = true: the station ends it at once.
	stopped := time.Now().UTC().Truncate(time.Millisecond)
	stopTx(t, st, txID, 950, stopped, "", "DeAuthorized", "")
	status(t, st, 1, "Finishing")

	s := e.sessionOf("CP037C", txID)
	wantCompleted(t, s, started, stopped, 150, "DeAuthorized")
	if s.IDTag != invalidTag {
		t.Fatalf("session id_tag %s, want %s", s.IDTag, invalidTag)
	}
	e.wantConnector("CP037C", 1, "Finishing", "")
}

func TestTC_039_CSMS(t *testing.T) {
	t.Parallel()
	tc039OfflineTransaction(t, servertest.Options{})
}

// tc039OfflineTransaction: a whole transaction happens while the station is
// offline; after reconnecting it delivers the queued StartTransaction,
// MeterValues and StopTransaction in order, with their original times.
func tc039OfflineTransaction(t *testing.T, opts servertest.Options) {
	e := newEnv(t, opts)
	e.addTokens()
	st := e.bootedStation("CP039", 1)

	st.Drop()
	e.waitDisconnected("CP039")
	t0 := base()

	st = e.connect("CP039")
	txID, m := startTx(t, st, 1, validTag, 10000, t0, "")
	if s := idTagStatus(t, m); s != "Accepted" {
		t.Fatalf("StartTransaction.conf idTagInfo.status %s, want Accepted", s)
	}
	energyMV(t, st, 1, txID, 11000, t0.Add(10*time.Minute))
	energyMV(t, st, 1, txID, 12000, t0.Add(20*time.Minute))
	stop := stopTx(t, st, txID, 12500, t0.Add(25*time.Minute), validTag, "Local",
		fmt.Sprintf(`,"transactionData":[{"timestamp":%q,"sampledValue":[{"value":"10000","context":"Transaction.Begin","unit":"Wh"}]},`+
			`{"timestamp":%q,"sampledValue":[{"value":"12500","context":"Transaction.End","unit":"Wh"}]}]`, ts(t0), ts(t0.Add(25*time.Minute))))
	if s := idTagStatus(t, stop); s != "Accepted" {
		t.Fatalf("StopTransaction.conf idTagInfo.status %s, want Accepted", s)
	}
	status(t, st, 1, "Available") // the cable was unplugged while offline

	ss := e.sessions("CP039")
	if len(ss) != 1 {
		t.Fatalf("sessions: %v, want exactly the offline one", ss)
	}
	wantCompleted(t, ss[0], t0, t0.Add(25*time.Minute), 2500, "Local")
	if ss[0].MeterStartWh != 10000 || ss[0].MeterStopWh == nil || *ss[0].MeterStopWh != 12500 {
		t.Fatalf("session meter readings: %v", ss[0])
	}
	e.wantConnector("CP039", 1, "Available", "")
}

func TestTC_040_1_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	st := e.bootedStation("CP040", 1)
	e.remoteStatus(st, "ChangeConfiguration", `{"key":"OCTTUnknownKey","value":"1"}`, `{"status":"NotSupported"}`, "NotSupported")
}

func TestTC_040_2_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	st := e.bootedStation("CP040B", 1)
	e.remoteStatus(st, "ChangeConfiguration", `{"key":"MeterValueSampleInterval","value":"-1"}`, `{"status":"Rejected"}`, "Rejected")
}

func TestTC_061_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	st := e.bootedStation("CP061", 1)
	e.remoteStatus(st, "ClearCache", `{}`, `{"status":"Accepted"}`, "Accepted")
}

func TestTC_064_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	st := e.bootedStation("CP064", 1)
	// A vendor the Central System has no implementation for.
	m := st.CallOK("DataTransfer", `{"vendorId":"com.octt.test","messageId":"TestMessage","data":"hello"}`)
	if m["status"] != "UnknownVendorId" {
		t.Fatalf("DataTransfer.conf status %v, want UnknownVendorId", m["status"])
	}
	// Without messageId and data too.
	if m := st.CallOK("DataTransfer", `{"vendorId":"com.octt.test"}`); m["status"] != "UnknownVendorId" {
		t.Fatalf("DataTransfer.conf status %v, want UnknownVendorId", m["status"])
	}
	heartbeatOK(t, st)
}
