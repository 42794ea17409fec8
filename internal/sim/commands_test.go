package sim

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chargestar/chargestar/internal/ocpp"
	"github.com/chargestar/chargestar/internal/ocpp/ocppj"
	"github.com/chargestar/chargestar/internal/ocpp/v16"
)

func selfSignedPEM(t *testing.T, cn string) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(4242), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestEveryCommandAnswered sends every OCPP 1.6 CSMS→station action and
// checks the answer strictly against its schema.
func TestEveryCommandAnswered(t *testing.T) {
	t.Parallel()
	f := newFakeCSMS(t)
	f.bootInterval = 60
	startStation(t, f, Config{Connectors: 2})
	f.waitCount(t, 5*time.Second, "StatusNotification", 3)

	cert := jsonString(selfSignedPEM(t, "root"))
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	past := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	payloads := map[string]string{
		"CancelReservation":          `{"reservationId":1}`,
		"CertificateSigned":          `{"certificateChain":` + cert + `}`,
		"ChangeAvailability":         `{"connectorId":1,"type":"Inoperative"}`,
		"ChangeConfiguration":        `{"key":"HeartbeatInterval","value":"120"}`,
		"ClearCache":                 `{}`,
		"ClearChargingProfile":       `{"id":7}`,
		"DataTransfer":               `{"vendorId":"ChargeStar","messageId":"Echo","data":"hi"}`,
		"DeleteCertificate":          `{"certificateHashData":{"hashAlgorithm":"SHA256","issuerNameHash":"aa","issuerKeyHash":"bb","serialNumber":"1"}}`,
		"ExtendedTriggerMessage":     `{"requestedMessage":"Heartbeat"}`,
		"GetCompositeSchedule":       `{"connectorId":1,"duration":3600,"chargingRateUnit":"A"}`,
		"GetConfiguration":           `{}`,
		"GetDiagnostics":             `{"location":"ftp://example.com/upload/"}`,
		"GetInstalledCertificateIds": `{"certificateType":"CentralSystemRootCertificate"}`,
		"GetLocalListVersion":        `{}`,
		"GetLog":                     `{"log":{"remoteLocation":"https://example.com/logs"},"logType":"SecurityLog","requestId":3}`,
		"InstallCertificate":         `{"certificateType":"CentralSystemRootCertificate","certificate":` + cert + `}`,
		"RemoteStartTransaction":     `{"connectorId":2,"idTag":"REMOTE1"}`,
		"RemoteStopTransaction":      `{"transactionId":999999}`,
		"ReserveNow":                 `{"connectorId":1,"expiryDate":"` + future + `","idTag":"RES1","reservationId":5}`,
		"Reset":                      `{"type":"Soft"}`,
		"SendLocalList":              `{"listVersion":3,"updateType":"Full","localAuthorizationList":[{"idTag":"A1","idTagInfo":{"status":"Accepted"}}]}`,
		"SetChargingProfile":         `{"connectorId":0,"csChargingProfiles":{"chargingProfileId":7,"stackLevel":1,"chargingProfilePurpose":"TxDefaultProfile","chargingProfileKind":"Absolute","chargingSchedule":{"startSchedule":"` + past + `","chargingRateUnit":"W","chargingSchedulePeriod":[{"startPeriod":0,"limit":7000}]}}}`,
		"SignedUpdateFirmware":       `{"requestId":9,"firmware":{"location":"https://example.com/fw-2.0.bin","retrieveDateTime":"` + future + `","signingCertificate":` + cert + `,"signature":"c2ln"}}`,
		"TriggerMessage":             `{"requestedMessage":"StatusNotification","connectorId":1}`,
		"UnlockConnector":            `{"connectorId":1}`,
		"UpdateFirmware":             `{"location":"https://example.com/fw-1.1.bin","retrieveDate":"` + future + `"}`,
	}
	// Reset last: it takes the station away.
	var actions []string
	for _, info := range v16.Actions() {
		if !info.ToStation || info.Name == "DataTransfer" && false {
			continue
		}
		if _, ok := payloads[info.Name]; !ok {
			t.Errorf("no test payload for %s", info.Name)
			continue
		}
		if info.Name != "Reset" {
			actions = append(actions, info.Name)
		}
	}
	actions = append(actions, "Reset")
	for _, a := range actions {
		resp := f.mustCall(t, t.Name(), a, payloads[a])
		if err := resp.Validate(); err != nil {
			t.Errorf("%s: %v", a, err)
		}
		b, _ := json.Marshal(resp)
		t.Logf("%s → %s", a, b)
	}
}

// TestCommandSemantics checks what the station does with the commands.
func TestCommandSemantics(t *testing.T) {
	t.Parallel()
	f := newFakeCSMS(t)
	f.bootInterval = 60
	st := startStation(t, f, Config{Connectors: 2, PowerKW: 22, MeterInterval: 100 * time.Millisecond, SessionDuration: time.Hour, Idle: 400 * time.Millisecond})
	id := t.Name()
	f.waitCount(t, 5*time.Second, "StatusNotification", 3)

	// Configuration.
	gc := f.mustCall(t, id, "GetConfiguration", `{"key":["HeartbeatInterval","NoSuchKey","NumberOfConnectors","AuthorizationKey"]}`).(*v16.GetConfigurationResponse)
	if len(gc.ConfigurationKey) != 2 || gc.ConfigurationKey[0].Value != "60" || gc.ConfigurationKey[1].Value != "2" || !gc.ConfigurationKey[1].Readonly ||
		len(gc.UnknownKey) != 2 {
		t.Errorf("GetConfiguration: %+v", gc)
	}
	for _, c := range []struct{ key, value, want string }{
		{"NoSuchKey", "1", "NotSupported"},
		{"NumberOfConnectors", "3", "Rejected"},
		{"HeartbeatInterval", "soon", "Rejected"},
		{"MeterValuesSampledData", "Energy.Active.Import.Register,Bogus", "Rejected"},
		{"MeterValuesSampledData", "Energy.Active.Import.Register,Power.Active.Import", "Accepted"},
		{"LocalAuthorizeOffline", "TRUE", "Accepted"},
		{"SecurityProfile", "3", "Rejected"},
		{"AuthorizationKey", "0123456789abcdef", "Accepted"},
	} {
		r := f.mustCall(t, id, "ChangeConfiguration", `{"key":"`+c.key+`","value":"`+c.value+`"}`).(*v16.ChangeConfigurationResponse)
		if string(r.Status) != c.want {
			t.Errorf("ChangeConfiguration %s=%s: %s, want %s", c.key, c.value, r.Status, c.want)
		}
	}
	gc = f.mustCall(t, id, "GetConfiguration", `{}`).(*v16.GetConfigurationResponse)
	for _, kv := range gc.ConfigurationKey {
		if kv.Key == "AuthorizationKey" {
			t.Error("GetConfiguration reveals AuthorizationKey")
		}
		if kv.Key == "LocalAuthorizeOffline" && kv.Value != "true" {
			t.Errorf("LocalAuthorizeOffline = %q", kv.Value)
		}
	}

	// Remote start on connector 1; the session runs with the changed measurands.
	rs := f.mustCall(t, id, "RemoteStartTransaction", `{"connectorId":1,"idTag":"REMOTE1"}`).(*v16.RemoteStartTransactionResponse)
	if rs.Status != v16.RemoteStartStopStatusAccepted {
		t.Fatalf("RemoteStart: %s", rs.Status)
	}
	starts := f.waitCount(t, 5*time.Second, "StartTransaction", 1)
	start := decode(t, starts[0], &v16.StartTransactionRequest{})
	if start.IDTag != "REMOTE1" || start.ConnectorID != 1 {
		t.Errorf("start %+v", start)
	}
	// A second remote start on the busy connector is rejected.
	if r := f.mustCall(t, id, "RemoteStartTransaction", `{"connectorId":1,"idTag":"REMOTE2"}`).(*v16.RemoteStartTransactionResponse); r.Status != v16.RemoteStartStopStatusRejected {
		t.Errorf("remote start on a busy connector: %s", r.Status)
	}
	mvs := f.waitCount(t, 5*time.Second, "MeterValues", 2)
	mv := decode(t, mvs[len(mvs)-1], &v16.MeterValuesRequest{})
	if n := len(mv.MeterValue[0].SampledValue); n != 2 {
		t.Errorf("%d samples after MeterValuesSampledData was cut to 2", n)
	}

	// Availability: busy connector → Scheduled; idle → Accepted and Unavailable.
	if r := f.mustCall(t, id, "ChangeAvailability", `{"connectorId":1,"type":"Inoperative"}`).(*v16.ChangeAvailabilityResponse); r.Status != v16.AvailabilityStatusScheduled {
		t.Errorf("ChangeAvailability of a busy connector: %s", r.Status)
	}
	if r := f.mustCall(t, id, "ChangeAvailability", `{"connectorId":2,"type":"Inoperative"}`).(*v16.ChangeAvailabilityResponse); r.Status != v16.AvailabilityStatusAccepted {
		t.Errorf("ChangeAvailability of an idle connector: %s", r.Status)
	}
	waitStatus(t, f, 2, v16.ChargePointStatusUnavailable)
	if r := f.mustCall(t, id, "ReserveNow", `{"connectorId":2,"expiryDate":"`+time.Now().Add(time.Hour).UTC().Format(time.RFC3339)+`","idTag":"X","reservationId":1}`).(*v16.ReserveNowResponse); r.Status != v16.ReservationStatusUnavailable {
		t.Errorf("ReserveNow on an unavailable connector: %s", r.Status)
	}

	// Smart charging: a TxProfile of 0 W suspends, clearing it resumes.
	txID := strconv.Itoa(101)
	sp := f.mustCall(t, id, "SetChargingProfile", `{"connectorId":1,"csChargingProfiles":{"chargingProfileId":3,"transactionId":`+txID+`,"stackLevel":0,"chargingProfilePurpose":"TxProfile","chargingProfileKind":"Relative","chargingSchedule":{"chargingRateUnit":"W","chargingSchedulePeriod":[{"startPeriod":0,"limit":0}]}}}`).(*v16.SetChargingProfileResponse)
	if sp.Status != v16.ChargingProfileStatusAccepted {
		t.Fatalf("SetChargingProfile: %s", sp.Status)
	}
	waitStatus(t, f, 1, v16.ChargePointStatusSuspendedEVSE)
	cs := f.mustCall(t, id, "GetCompositeSchedule", `{"connectorId":1,"duration":600}`).(*v16.GetCompositeScheduleResponse)
	if cs.Status != v16.GetCompositeScheduleStatusAccepted || cs.ChargingSchedule == nil || cs.ChargingSchedule.ChargingSchedulePeriod[0].Limit != 0 {
		t.Errorf("composite schedule %+v", cs.ChargingSchedule)
	}
	if r := f.mustCall(t, id, "ClearChargingProfile", `{"chargingProfilePurpose":"TxProfile"}`).(*v16.ClearChargingProfileResponse); r.Status != v16.ClearChargingProfileStatusAccepted {
		t.Errorf("ClearChargingProfile: %s", r.Status)
	}
	waitStatus(t, f, 1, v16.ChargePointStatusCharging)
	if r := f.mustCall(t, id, "ClearChargingProfile", `{"id":3}`).(*v16.ClearChargingProfileResponse); r.Status != v16.ClearChargingProfileStatusUnknown {
		t.Errorf("ClearChargingProfile of nothing: %s", r.Status)
	}

	// Unlock stops the transaction; the scheduled unavailability then applies.
	if r := f.mustCall(t, id, "UnlockConnector", `{"connectorId":1}`).(*v16.UnlockConnectorResponse); r.Status != v16.UnlockStatusUnlocked {
		t.Errorf("UnlockConnector: %s", r.Status)
	}
	stops := f.waitCount(t, 5*time.Second, "StopTransaction", 1)
	if stop := decode(t, stops[0], &v16.StopTransactionRequest{}); stop.Reason != v16.ReasonUnlockCommand || stop.TransactionID != 101 {
		t.Errorf("stop %+v", stop)
	}
	if r := f.mustCall(t, id, "RemoteStopTransaction", `{"transactionId":101}`).(*v16.RemoteStopTransactionResponse); r.Status != v16.RemoteStartStopStatusRejected {
		t.Errorf("RemoteStop of a finished transaction: %s", r.Status)
	}
	waitStatus(t, f, 1, v16.ChargePointStatusUnavailable)
	if got := st.ConnectorStatus(1); got != "Unavailable" {
		t.Errorf("connector 1 is %s", got)
	}

	// Local list.
	if r := f.mustCall(t, id, "SendLocalList", `{"listVersion":2,"updateType":"Full","localAuthorizationList":[{"idTag":"A","idTagInfo":{"status":"Accepted"}}]}`).(*v16.SendLocalListResponse); r.Status != v16.UpdateStatusAccepted {
		t.Errorf("SendLocalList: %s", r.Status)
	}
	if r := f.mustCall(t, id, "SendLocalList", `{"listVersion":2,"updateType":"Differential","localAuthorizationList":[{"idTag":"B"}]}`).(*v16.SendLocalListResponse); r.Status != v16.UpdateStatusVersionMismatch {
		t.Errorf("SendLocalList with an old version: %s", r.Status)
	}
	if r := f.mustCall(t, id, "GetLocalListVersion", `{}`).(*v16.GetLocalListVersionResponse); r.ListVersion != 2 {
		t.Errorf("list version %d", r.ListVersion)
	}

	// Certificates round trip.
	cert := selfSignedPEM(t, "csms-root")
	if r := f.mustCall(t, id, "InstallCertificate", `{"certificateType":"CentralSystemRootCertificate","certificate":`+jsonString(cert)+`}`).(*v16.InstallCertificateResponse); r.Status != v16.InstallCertificateStatusAccepted {
		t.Errorf("InstallCertificate: %s", r.Status)
	}
	if r := f.mustCall(t, id, "InstallCertificate", `{"certificateType":"CentralSystemRootCertificate","certificate":"junk"}`).(*v16.InstallCertificateResponse); r.Status != v16.InstallCertificateStatusRejected {
		t.Errorf("InstallCertificate of junk: %s", r.Status)
	}
	ids := f.mustCall(t, id, "GetInstalledCertificateIds", `{"certificateType":"CentralSystemRootCertificate"}`).(*v16.GetInstalledCertificateIdsResponse)
	if ids.Status != v16.GetInstalledCertificateStatusAccepted || len(ids.CertificateHashData) != 1 {
		t.Fatalf("installed: %+v", ids)
	}
	h, _ := json.Marshal(ids.CertificateHashData[0])
	if r := f.mustCall(t, id, "DeleteCertificate", `{"certificateHashData":`+string(h)+`}`).(*v16.DeleteCertificateResponse); r.Status != v16.DeleteCertificateStatusAccepted {
		t.Errorf("DeleteCertificate: %s", r.Status)
	}
	if r := f.mustCall(t, id, "GetInstalledCertificateIds", `{"certificateType":"CentralSystemRootCertificate"}`).(*v16.GetInstalledCertificateIdsResponse); r.Status != v16.GetInstalledCertificateStatusNotFound {
		t.Errorf("after delete: %s", r.Status)
	}

	// Bad payloads get the 1.6 RPC errors.
	_, err := f.call(id, "Reset", `{"type":"Sideways"}`)
	var ce *ocppj.CallError
	if !errors.As(err, &ce) || ce.Code != ocppj.PropertyConstraintViolation {
		t.Errorf("bad Reset: %v", err)
	}
	_, err = f.call(id, "Heartbeat", `{}`)
	if !errors.As(err, &ce) || ce.Code != ocppj.NotSupported {
		t.Errorf("Heartbeat sent to a station: %v", err)
	}
	_, err = f.call(id, "MakeCoffee", `{}`)
	if !errors.As(err, &ce) || ce.Code != ocppj.NotImplemented {
		t.Errorf("unknown action: %v", err)
	}
}

func waitStatus(t *testing.T, f *fakeCSMS, connector int, want v16.ChargePointStatus) {
	t.Helper()
	f.waitFor(t, 5*time.Second, "connector "+strconv.Itoa(connector)+" "+string(want), func(calls []frame) bool {
		for i := len(calls) - 1; i >= 0; i-- {
			if calls[i].action != "StatusNotification" {
				continue
			}
			var sn v16.StatusNotificationRequest
			if sn.DecodeOCPP(calls[i].payload, ocpp.DecodeOptions{}) == nil && sn.ConnectorID == connector {
				return sn.Status == want
			}
		}
		return false
	})
}

// TestTriggerAnswersFirst: the triggered message follows the Accepted answer on the wire.
func TestTriggerAnswersFirst(t *testing.T) {
	t.Parallel()
	f := newFakeCSMS(t)
	f.bootInterval = 60
	startStation(t, f, Config{Connectors: 1})
	f.waitCount(t, 5*time.Second, "StatusNotification", 2)
	for _, c := range []struct{ action, payload, sent string }{
		{"TriggerMessage", `{"requestedMessage":"MeterValues","connectorId":1}`, "MeterValues"},
		{"TriggerMessage", `{"requestedMessage":"Heartbeat"}`, "Heartbeat"},
		{"TriggerMessage", `{"requestedMessage":"BootNotification"}`, "BootNotification"},
		{"TriggerMessage", `{"requestedMessage":"FirmwareStatusNotification"}`, "FirmwareStatusNotification"},
		{"TriggerMessage", `{"requestedMessage":"DiagnosticsStatusNotification"}`, "DiagnosticsStatusNotification"},
		{"ExtendedTriggerMessage", `{"requestedMessage":"LogStatusNotification"}`, "LogStatusNotification"},
		{"ExtendedTriggerMessage", `{"requestedMessage":"SignChargePointCertificate"}`, "SignCertificate"},
	} {
		before := len(f.calls(t.Name(), c.sent))
		f.mustCall(t, t.Name(), c.action, c.payload)
		f.waitCount(t, 5*time.Second, c.sent, before+1)
		// Find the answer and the triggered call in wire order.
		frames := f.allFrames()
		answerAt, callAt := -1, -1
		for i, fr := range frames {
			if fr.station != t.Name() {
				continue
			}
			if !fr.in && fr.typ == ocppj.TypeCall && fr.action == c.action {
				answerAt = -1 // the latest command
				for j := i + 1; j < len(frames); j++ {
					if frames[j].in && frames[j].typ == ocppj.TypeCallResult && frames[j].id == fr.id {
						answerAt = j
					}
				}
			}
		}
		for i := len(frames) - 1; i >= 0; i-- {
			if frames[i].station == t.Name() && frames[i].in && frames[i].typ == ocppj.TypeCall && frames[i].action == c.sent {
				callAt = i
				break
			}
		}
		if answerAt < 0 || callAt < answerAt {
			t.Errorf("%s %s: answer at %d, triggered %s at %d", c.action, c.payload, answerAt, c.sent, callAt)
		}
	}
	csrs := f.calls(t.Name(), "SignCertificate")
	csr := decode(t, csrs[0], &v16.SignCertificateRequest{})
	if !strings.Contains(csr.CSR, "CERTIFICATE REQUEST") {
		t.Errorf("CSR %q", csr.CSR)
	}
	// A connector that does not exist is rejected.
	if r := f.mustCall(t, t.Name(), "TriggerMessage", `{"requestedMessage":"StatusNotification","connectorId":7}`).(*v16.TriggerMessageResponse); r.Status != v16.TriggerMessageStatusRejected {
		t.Errorf("trigger for connector 7: %s", r.Status)
	}
}

// TestFirmwareUpdateSequence: statuses, reboot, Installed after the new boot.
func TestFirmwareUpdateSequence(t *testing.T) {
	t.Parallel()
	f := newFakeCSMS(t)
	f.bootInterval = 60
	startStation(t, f, Config{Connectors: 1})
	f.waitCount(t, 5*time.Second, "StatusNotification", 2)
	f.mustCall(t, t.Name(), "UpdateFirmware", `{"location":"https://example.com/fw/sim-2.1.0.bin","retrieveDate":"`+time.Now().UTC().Format(time.RFC3339)+`"}`)
	f.waitFor(t, 10*time.Second, "Installed", func(calls []frame) bool {
		for _, c := range calls {
			if c.action == "FirmwareStatusNotification" && strings.Contains(string(c.payload), "Installed") {
				return true
			}
		}
		return false
	})
	var seq []string
	var boots []*v16.BootNotificationRequest
	for _, c := range f.calls(t.Name(), "FirmwareStatusNotification", "BootNotification", "SecurityEventNotification") {
		switch c.action {
		case "FirmwareStatusNotification":
			seq = append(seq, string(decode(t, c, &v16.FirmwareStatusNotificationRequest{}).Status))
		case "BootNotification":
			seq = append(seq, "Boot")
			boots = append(boots, decode(t, c, &v16.BootNotificationRequest{}))
		case "SecurityEventNotification":
			seq = append(seq, decode(t, c, &v16.SecurityEventNotificationRequest{}).Type)
		}
	}
	want := "Boot Downloading Downloaded Installing Boot Installed FirmwareUpdated"
	if got := strings.Join(seq, " "); got != want {
		t.Errorf("sequence %q, want %q", got, want)
	}
	if len(boots) == 2 && boots[1].FirmwareVersion != "sim-2.1.0" {
		t.Errorf("firmware after update %q", boots[1].FirmwareVersion)
	}
	if f.connects.Load() != 2 {
		t.Errorf("%d connections, want 2 (reboot)", f.connects.Load())
	}
}

// TestDiagnosticsAndLogUpload: Uploading then Uploaded.
func TestDiagnosticsAndLogUpload(t *testing.T) {
	t.Parallel()
	f := newFakeCSMS(t)
	f.bootInterval = 60
	startStation(t, f, Config{Connectors: 1})
	f.waitCount(t, 5*time.Second, "StatusNotification", 2)
	gd := f.mustCall(t, t.Name(), "GetDiagnostics", `{"location":"ftp://example.com/"}`).(*v16.GetDiagnosticsResponse)
	if gd.FileName == "" {
		t.Error("no diagnostics file name")
	}
	gl := f.mustCall(t, t.Name(), "GetLog", `{"log":{"remoteLocation":"https://example.com/"},"logType":"DiagnosticsLog","requestId":12}`).(*v16.GetLogResponse)
	if gl.Status != v16.LogStatusAccepted {
		t.Errorf("GetLog: %s", gl.Status)
	}
	diags := f.waitCount(t, 5*time.Second, "DiagnosticsStatusNotification", 2)
	logs := f.waitCount(t, 5*time.Second, "LogStatusNotification", 2)
	if a, b := decode(t, diags[0], &v16.DiagnosticsStatusNotificationRequest{}).Status, decode(t, diags[1], &v16.DiagnosticsStatusNotificationRequest{}).Status; a != "Uploading" || b != "Uploaded" {
		t.Errorf("diagnostics %s, %s", a, b)
	}
	l0, l1 := decode(t, logs[0], &v16.LogStatusNotificationRequest{}), decode(t, logs[1], &v16.LogStatusNotificationRequest{})
	if l0.Status != "Uploading" || l1.Status != "Uploaded" || l1.RequestID == nil || *l1.RequestID != 12 {
		t.Errorf("log %+v, %+v", l0, l1)
	}
}

// TestScriptedAnswers: rules for tests.
func TestScriptedAnswers(t *testing.T) {
	t.Parallel()
	f := newFakeCSMS(t)
	f.bootInterval = 60
	st := startStation(t, f, Config{Connectors: 1, SessionDuration: time.Hour, Rules: []Rule{
		{Action: "RemoteStartTransaction", Times: 1, Response: `{"status":"Rejected"}`},
	}})
	f.waitCount(t, 5*time.Second, "StatusNotification", 2)
	id := t.Name()
	if r := f.mustCall(t, id, "RemoteStartTransaction", `{"idTag":"A"}`).(*v16.RemoteStartTransactionResponse); r.Status != v16.RemoteStartStopStatusRejected {
		t.Errorf("first remote start: %s", r.Status)
	}
	if r := f.mustCall(t, id, "RemoteStartTransaction", `{"idTag":"A"}`).(*v16.RemoteStartTransactionResponse); r.Status != v16.RemoteStartStopStatusAccepted {
		t.Errorf("second remote start: %s", r.Status)
	}
	f.waitCount(t, 5*time.Second, "StartTransaction", 1)

	st.Script(Rule{Action: "UnlockConnector", Response: `{"status":"UnlockFailed"}`}, Rule{Action: "GetConfiguration", Times: 1, NoAnswer: true})
	for i := 0; i < 2; i++ {
		if r := f.mustCall(t, id, "UnlockConnector", `{"connectorId":1}`).(*v16.UnlockConnectorResponse); r.Status != v16.UnlockStatusUnlockFailed {
			t.Errorf("unlock %d: %s", i, r.Status)
		}
	}
	if n := len(f.calls(id, "StopTransaction")); n != 0 {
		t.Errorf("a failed unlock stopped the transaction (%d stops)", n)
	}
	if _, err := f.call(id, "GetConfiguration", `{}`); !errors.Is(err, ocppj.ErrTimeout) {
		t.Errorf("unanswered GetConfiguration: %v", err)
	}
	if _, err := f.call(id, "GetConfiguration", `{}`); err != nil {
		t.Errorf("GetConfiguration after the rule was used up: %v", err)
	}
}

// TestFixedClock: timestamps come from the injected clock.
func TestFixedClock(t *testing.T) {
	t.Parallel()
	f := newFakeCSMS(t)
	f.bootInterval = 60
	fixed := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	startStation(t, f, Config{Connectors: 1, Now: func() time.Time { return fixed }})
	f.waitCount(t, 5*time.Second, "StatusNotification", 2)
	f.mustCall(t, t.Name(), "RemoteStartTransaction", `{"idTag":"A"}`)
	starts := f.waitCount(t, 5*time.Second, "StartTransaction", 1)
	if got := decode(t, starts[0], &v16.StartTransactionRequest{}).Timestamp.Time; !got.Equal(fixed) {
		t.Errorf("start timestamp %v, want %v", got, fixed)
	}
	sn := decode(t, f.calls(t.Name(), "StatusNotification")[0], &v16.StatusNotificationRequest{})
	if !sn.Timestamp.Time.Equal(fixed) {
		t.Errorf("status timestamp %v", sn.Timestamp)
	}
}

// TestReservationAndStationAvailability: a reservation holds the connector
// for its tag and is used by its transaction; a station-wide Inoperative
// waits for the running transaction.
func TestReservationAndStationAvailability(t *testing.T) {
	t.Parallel()
	f := newFakeCSMS(t)
	f.bootInterval = 60
	startStation(t, f, Config{Connectors: 2, SessionDuration: time.Hour, Idle: 200 * time.Millisecond})
	id := t.Name()
	f.waitCount(t, 5*time.Second, "StatusNotification", 3)
	soon := time.Now().Add(300 * time.Millisecond).UTC().Format(time.RFC3339Nano)
	later := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)

	// A reservation that expires makes the connector Reserved, then Available.
	if r := f.mustCall(t, id, "ReserveNow", `{"connectorId":2,"expiryDate":"`+soon+`","idTag":"R1","reservationId":1}`).(*v16.ReserveNowResponse); r.Status != v16.ReservationStatusAccepted {
		t.Fatalf("ReserveNow: %s", r.Status)
	}
	waitStatus(t, f, 2, v16.ChargePointStatusReserved)
	waitStatus(t, f, 2, v16.ChargePointStatusAvailable)

	// Reserved for R2: another tag cannot start there, R2 can, with the reservation id.
	if r := f.mustCall(t, id, "ReserveNow", `{"connectorId":1,"expiryDate":"`+later+`","idTag":"R2","reservationId":2}`).(*v16.ReserveNowResponse); r.Status != v16.ReservationStatusAccepted {
		t.Fatalf("ReserveNow: %s", r.Status)
	}
	if r := f.mustCall(t, id, "ReserveNow", `{"connectorId":1,"expiryDate":"`+later+`","idTag":"R3","reservationId":3}`).(*v16.ReserveNowResponse); r.Status != v16.ReservationStatusOccupied {
		t.Errorf("second reservation of a connector: %s", r.Status)
	}
	if r := f.mustCall(t, id, "ReserveNow", `{"connectorId":0,"expiryDate":"`+later+`","idTag":"R3","reservationId":3}`).(*v16.ReserveNowResponse); r.Status != v16.ReservationStatusRejected {
		t.Errorf("reservation of connector 0: %s", r.Status)
	}
	waitStatus(t, f, 1, v16.ChargePointStatusReserved)
	if r := f.mustCall(t, id, "RemoteStartTransaction", `{"connectorId":1,"idTag":"OTHER"}`).(*v16.RemoteStartTransactionResponse); r.Status != v16.RemoteStartStopStatusRejected {
		t.Errorf("remote start by another tag on a reserved connector: %s", r.Status)
	}
	if r := f.mustCall(t, id, "RemoteStartTransaction", `{"connectorId":1,"idTag":"R2"}`).(*v16.RemoteStartTransactionResponse); r.Status != v16.RemoteStartStopStatusAccepted {
		t.Fatalf("remote start by the reserving tag: %s", r.Status)
	}
	starts := f.waitCount(t, 5*time.Second, "StartTransaction", 1)
	if st := decode(t, starts[0], &v16.StartTransactionRequest{}); st.ReservationID == nil || *st.ReservationID != 2 {
		t.Errorf("start without the reservation id: %+v", st)
	}
	if r := f.mustCall(t, id, "CancelReservation", `{"reservationId":2}`).(*v16.CancelReservationResponse); r.Status != v16.CancelReservationStatusRejected {
		t.Errorf("cancelling a used reservation: %s", r.Status)
	}

	// Station-wide Inoperative: Scheduled; the idle connector and the
	// station go Unavailable now, the busy one when its transaction ends.
	if r := f.mustCall(t, id, "ChangeAvailability", `{"connectorId":0,"type":"Inoperative"}`).(*v16.ChangeAvailabilityResponse); r.Status != v16.AvailabilityStatusScheduled {
		t.Errorf("station-wide Inoperative while charging: %s", r.Status)
	}
	waitStatus(t, f, 0, v16.ChargePointStatusUnavailable)
	waitStatus(t, f, 2, v16.ChargePointStatusUnavailable)
	if r := f.mustCall(t, id, "RemoteStopTransaction", `{"transactionId":101}`).(*v16.RemoteStopTransactionResponse); r.Status != v16.RemoteStartStopStatusAccepted {
		t.Errorf("RemoteStop: %s", r.Status)
	}
	stops := f.waitCount(t, 5*time.Second, "StopTransaction", 1)
	if st := decode(t, stops[0], &v16.StopTransactionRequest{}); st.Reason != v16.ReasonRemote {
		t.Errorf("stop reason %s", st.Reason)
	}
	waitStatus(t, f, 1, v16.ChargePointStatusUnavailable)
	// Operative again: everything Available.
	if r := f.mustCall(t, id, "ChangeAvailability", `{"connectorId":0,"type":"Operative"}`).(*v16.ChangeAvailabilityResponse); r.Status != v16.AvailabilityStatusAccepted {
		t.Errorf("station-wide Operative: %s", r.Status)
	}
	for _, c := range []int{0, 1, 2} {
		waitStatus(t, f, c, v16.ChargePointStatusAvailable)
	}
}
