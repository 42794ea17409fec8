package conformance

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chargestar/chargestar/internal/servertest"
)

// OCPP 2.0.1 Core, block B (provisioning): boot, device model, reset,
// network profiles.

func TestTC_B_01_CSMS(t *testing.T) { t.Parallel(); tcB01(t, servertest.Options{}) }

func tcB01(t *testing.T, opts servertest.Options) {
	opts.HeartbeatInterval = 90 * time.Second
	e := newEnv(t, opts)
	e.addStation("CS-B01")
	st := e.connect201("CS-B01")

	m := call201(t, st, "BootNotification", obj{"reason": "PowerUp", "chargingStation": obj{
		"vendorName": "OCTT-Vendor", "model": "OCTT-Model", "serialNumber": "CSSN-B01", "firmwareVersion": "2.0.1-a",
		"modem": obj{"iccid": "89310410106543789301", "imsi": "204043728391234"}}})
	if m["status"] != "Accepted" || m["interval"] != float64(90) {
		t.Fatalf("BootNotificationResponse %v, want Accepted with interval 90 (the configured heartbeat interval)", m)
	}
	wantNow(t, "BootNotificationResponse currentTime", m["currentTime"])
	// The OCTT notifies the state of all connectors: StatusNotification,
	// and NotifyEvent AvailabilityState as stations with monitoring do.
	for evse := 1; evse <= 2; evse++ {
		status201(t, st, evse, 1, "Available")
		notifyAvailability(t, st, evse, 1, "Available")
	}
	heartbeat201(t, st)

	v := e.station("CS-B01")
	if !v.Connected || v.Protocol == nil || *v.Protocol != ocpp201 || v.Vendor != "OCTT-Vendor" || v.Model != "OCTT-Model" ||
		v.SerialNumber != "CSSN-B01" || v.FirmwareVersion != "2.0.1-a" || v.RegistrationStatus == nil ||
		*v.RegistrationStatus != "Accepted" || v.HeartbeatInterval != 90 || v.LastBootAt == nil {
		t.Fatalf("station after boot: %+v", v)
	}
	if len(v.Connectors) != 2 || v.Connectors[0].Status != "Available" || v.Connectors[1].Status != "Available" {
		t.Fatalf("connectors: %+v, want EVSE 1 and 2 Available", v.Connectors)
	}
}

// addHeldStation registers a station that the operator holds at boot
// (registration_status Pending or Rejected), through the API: the OCTT's
// prerequisite "the CSMS is configured to first respond … with Pending".
func (e *env) addHeldStation(id, registration string) {
	e.t.Helper()
	r := e.do("POST", "/api/v1/stations", fmt.Sprintf(`{"id":%q,"operator_id":%q,"registration_status":%q}`, id, e.op.ID, registration))
	if r.Err != nil || r.Code != http.StatusCreated {
		e.t.Fatalf("POST /api/v1/stations (%s): %d %s %v", registration, r.Code, r.Body, r.Err)
	}
}

// accept lets a held station in, as the operator does.
func (e *env) accept(id string) {
	e.t.Helper()
	r := e.do("PATCH", "/api/v1/stations/"+id, `{"registration_status":"Accepted"}`)
	if r.Err != nil || r.Code != http.StatusOK {
		e.t.Fatalf("PATCH registration_status Accepted: %d %s %v", r.Code, r.Body, r.Err)
	}
}

func TestTC_B_02_CSMS(t *testing.T) { t.Parallel(); tcB02(t, servertest.Options{}) }

func tcB02(t *testing.T, opts servertest.Options) {
	e := newEnv(t, opts)
	e.addHeldStation("CS-B02", "Pending")
	st := e.connect201("CS-B02")

	m := boot201(t, st, "PowerUp")
	if m["status"] != "Pending" {
		t.Fatalf("BootNotificationResponse %v, want status Pending", m)
	}
	if iv, _ := m["interval"].(float64); iv <= 0 {
		t.Fatalf("Pending BootNotificationResponse interval %v, want > 0 (when to boot again)", m["interval"])
	}
	// During the interval the CSMS may read and set the configuration
	// (B05, B06); the OCTT answers.
	e.remoteStatus201(st, "GetVariables", `{"getVariableData":[{"component":{"name":"OCPPCommCtrlr"},"variable":{"name":"OfflineThreshold"}}]}`,
		`{"getVariableResult":[{"attributeStatus":"Accepted","attributeType":"Actual","attributeValue":"60","component":{"name":"OCPPCommCtrlr"},"variable":{"name":"OfflineThreshold"}}]}`, "Accepted")
	e.remoteStatus201(st, "SetVariables", `{"setVariableData":[{"attributeValue":"120","component":{"name":"OCPPCommCtrlr"},"variable":{"name":"OfflineThreshold"}}]}`,
		`{"setVariableResult":[{"attributeStatus":"Accepted","attributeType":"Actual","component":{"name":"OCPPCommCtrlr"},"variable":{"name":"OfflineThreshold"}}]}`, "Accepted")

	// The operator accepts the station. The CSMS may ask it to boot again
	// at once (TriggerMessage BootNotification); the OCTT accepts.
	e.accept("CS-B02")
	call := st.ExpectCall("TriggerMessage", wait)
	jsonEq(t, "TriggerMessageRequest", call.Payload, `{"requestedMessage":"BootNotification"}`)
	st.Reply(call, `{"status":"Accepted"}`)
	// The OCTT boots again after the interval (here: at once).
	bootAccepted201(t, st, "PowerUp")
	status201(t, st, 1, 1, "Available")
	notifyAvailability(t, st, 1, 1, "Available")
	if v := e.station("CS-B02"); v.RegistrationStatus == nil || *v.RegistrationStatus != "Accepted" {
		t.Fatalf("registration_status after acceptance: %+v", v.RegistrationStatus)
	}
	// What was read and set during pending is what the operator sees.
	e.wantVariable("CS-B02", "OCPPCommCtrlr", "OfflineThreshold", "120")
}

func TestTC_B_30_CSMS(t *testing.T) {
	t.Parallel()
	for _, held := range []string{"Pending", "Rejected"} {
		t.Run(held, func(t *testing.T) {
			e := newEnv(t, servertest.Options{})
			id := "CS-B30-" + strings.ToUpper(held[:1])
			e.addHeldStation(id, held)
			st := e.connect201(id)
			if m := boot201(t, st, "PowerUp"); m["status"] != held {
				t.Fatalf("BootNotificationResponse %v, want status %s", m, held)
			}
			// The OCTT reports its connectors though it may not: SecurityError.
			for _, c := range []struct {
				action  string
				payload obj
			}{
				{"StatusNotification", obj{"timestamp": ts(time.Now()), "connectorStatus": "Available", "evseId": 1, "connectorId": 1}},
				{"NotifyEvent", obj{"generatedAt": ts(time.Now()), "seqNo": 0, "eventData": []any{obj{"eventId": 1, "timestamp": ts(time.Now()),
					"trigger": "Delta", "actualValue": "Available", "eventNotificationType": "HardWiredNotification",
					"component": obj{"name": "Connector", "evse": obj{"id": 1, "connectorId": 1}}, "variable": obj{"name": "AvailabilityState"}}}}},
				{"Heartbeat", obj{}},
			} {
				callError201(t, st, c.action, c.payload, "SecurityError")
			}
			if cs := e.station(id).Connectors; len(cs) != 0 {
				t.Fatalf("connector statuses stored from a %s station: %+v", held, cs)
			}
		})
	}
}

// TC_B_31_CSMS is played with Pending (the OCTT accepts Pending or
// Rejected; Charge Star holds a station Pending to configure it).
func TestTC_B_31_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	e.addHeldStation("CS-B31", "Pending")
	st := e.connect201("CS-B31")
	if m := boot201(t, st, "PowerUp"); m["status"] != "Pending" {
		t.Fatalf("BootNotificationResponse %v, want status Pending", m)
	}
	// Before the interval expires the CSMS triggers a new boot: here
	// because the operator accepts the station.
	e.accept("CS-B31")
	call := st.ExpectCall("TriggerMessage", wait)
	if err := check201("TriggerMessage", call.Payload, true); err != nil {
		t.Fatalf("TriggerMessageRequest %s: %v", call.Payload, err)
	}
	jsonEq(t, "TriggerMessageRequest", call.Payload, `{"requestedMessage":"BootNotification"}`)
	st.Reply(call, `{"status":"Accepted"}`)
	bootAccepted201(t, st, "Triggered")
	status201(t, st, 1, 1, "Available")
	notifyAvailability(t, st, 1, 1, "Available")
	e.wantConnector("CS-B31", 1, "Available", "")
}

func TestTC_B_06_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	st := e.booted201("CS-B06", 1)
	e.remoteStatus201(st, "GetVariables", `{"getVariableData":[{"component":{"name":"OCPPCommCtrlr"},"variable":{"name":"OfflineThreshold"}}]}`,
		`{"getVariableResult":[{"attributeStatus":"Accepted","attributeType":"Actual","attributeValue":"60","component":{"name":"OCPPCommCtrlr"},"variable":{"name":"OfflineThreshold"}}]}`,
		"Accepted")
	// The operator can see what was read.
	e.wantVariable("CS-B06", "OCPPCommCtrlr", "OfflineThreshold", "60")
}

func TestTC_B_07_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	st := e.booted201("CS-B07", 1)
	e.remote201(st, "GetVariables",
		`{"getVariableData":[{"component":{"name":"OCPPCommCtrlr"},"variable":{"name":"OfflineThreshold"}},{"component":{"name":"AuthCtrlr"},"variable":{"name":"AuthorizeRemoteStart"}}]}`,
		`{"getVariableResult":[{"attributeStatus":"Accepted","attributeType":"Actual","attributeValue":"60","component":{"name":"OCPPCommCtrlr"},"variable":{"name":"OfflineThreshold"}},`+
			`{"attributeStatus":"Accepted","attributeType":"Actual","attributeValue":"true","component":{"name":"AuthCtrlr"},"variable":{"name":"AuthorizeRemoteStart"}}]}`)
	e.wantVariable("CS-B07", "OCPPCommCtrlr", "OfflineThreshold", "60")
	e.wantVariable("CS-B07", "AuthCtrlr", "AuthorizeRemoteStart", "true")
}

func TestTC_B_09_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	st := e.booted201("CS-B09", 1)
	e.remoteStatus201(st, "SetVariables", `{"setVariableData":[{"attributeValue":"123","component":{"name":"OCPPCommCtrlr"},"variable":{"name":"OfflineThreshold"}}]}`,
		`{"setVariableResult":[{"attributeStatus":"Accepted","attributeType":"Actual","component":{"name":"OCPPCommCtrlr"},"variable":{"name":"OfflineThreshold"}}]}`,
		"Accepted")
	e.wantVariable("CS-B09", "OCPPCommCtrlr", "OfflineThreshold", "123")
}

func TestTC_B_10_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	st := e.booted201("CS-B10", 1)
	e.remote201(st, "SetVariables",
		`{"setVariableData":[{"attributeValue":"123","component":{"name":"OCPPCommCtrlr"},"variable":{"name":"OfflineThreshold"}},{"attributeValue":"false","component":{"name":"AuthCtrlr"},"variable":{"name":"AuthorizeRemoteStart"}}]}`,
		`{"setVariableResult":[{"attributeStatus":"Accepted","attributeType":"Actual","component":{"name":"OCPPCommCtrlr"},"variable":{"name":"OfflineThreshold"}},`+
			`{"attributeStatus":"Accepted","attributeType":"Actual","component":{"name":"AuthCtrlr"},"variable":{"name":"AuthorizeRemoteStart"}}]}`)
	e.wantVariable("CS-B10", "OCPPCommCtrlr", "OfflineThreshold", "123")
	e.wantVariable("CS-B10", "AuthCtrlr", "AuthorizeRemoteStart", "false")
}

// baseReport plays TC_B_12/TC_B_13: GetBaseReport through the API, the
// report in two NotifyReport parts (tbc), all of it shown afterwards.
func baseReport(t *testing.T, id, reportBase string) {
	e := newEnv(t, servertest.Options{})
	st := e.booted201(id, 1)
	e.remoteStatus201(st, "GetBaseReport", `{"requestId":1201,"reportBase":"`+reportBase+`"}`, `{"status":"Accepted"}`, "Accepted")
	now := ts(time.Now())
	call201(t, st, "NotifyReport", obj{"requestId": 1201, "generatedAt": now, "seqNo": 0, "tbc": true, "reportData": []any{
		obj{"component": obj{"name": "OCPPCommCtrlr"}, "variable": obj{"name": "OfflineThreshold"},
			"variableAttribute":       []any{obj{"type": "Actual", "value": "60", "mutability": "ReadWrite"}},
			"variableCharacteristics": obj{"dataType": "integer", "unit": "s", "supportsMonitoring": true}},
		obj{"component": obj{"name": "AuthCtrlr"}, "variable": obj{"name": "AuthorizeRemoteStart"},
			"variableAttribute":       []any{obj{"type": "Actual", "value": "true", "mutability": "ReadWrite"}},
			"variableCharacteristics": obj{"dataType": "boolean", "supportsMonitoring": false}}}})
	call201(t, st, "NotifyReport", obj{"requestId": 1201, "generatedAt": now, "seqNo": 1, "tbc": false, "reportData": []any{
		obj{"component": obj{"name": "EVSE", "evse": obj{"id": 1}}, "variable": obj{"name": "AvailabilityState"},
			"variableAttribute":       []any{obj{"type": "Actual", "value": "Available", "mutability": "ReadOnly"}},
			"variableCharacteristics": obj{"dataType": "OptionList", "valuesList": "Available,Occupied,Reserved,Unavailable,Faulted", "supportsMonitoring": true}}}})

	e.wantVariable(id, "OCPPCommCtrlr", "OfflineThreshold", "60")
	e.wantVariable(id, "AuthCtrlr", "AuthorizeRemoteStart", "true")
	v, ok := e.variable(id, "EVSE", "AvailabilityState")
	if !ok || v.Value != "Available" || v.EVSEID != 1 || v.Mutability != "ReadOnly" || v.DataType != "OptionList" {
		t.Fatalf("EVSE 1 AvailabilityState from the report's second part: %+v (found %v)", v, ok)
	}
	if v, _ := e.variable(id, "OCPPCommCtrlr", "OfflineThreshold"); v.Mutability != "ReadWrite" || v.DataType != "integer" {
		t.Fatalf("OfflineThreshold characteristics not kept: %+v", v)
	}
}

func TestTC_B_12_CSMS(t *testing.T) { t.Parallel(); baseReport(t, "CS-B12", "ConfigurationInventory") }

func TestTC_B_13_CSMS(t *testing.T) { t.Parallel(); baseReport(t, "CS-B13", "FullInventory") }

func TestTC_B_20_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	st := e.booted201("CS-B20", 1)
	before := e.station("CS-B20").LastBootAt
	e.remoteStatus201(st, "Reset", `{"type":"OnIdle"}`, `{"status":"Accepted"}`, "Accepted")
	time.Sleep(5 * time.Millisecond)
	st = e.reboot201(st, "RemoteReset", "Available")
	heartbeat201(t, st)
	v := e.station("CS-B20")
	if !v.Connected || v.LastBootAt == nil || before == nil || !v.LastBootAt.After(*before) {
		t.Fatalf("station after the reset: connected %v, last_boot_at %v (before %v)", v.Connected, v.LastBootAt, before)
	}
}

func TestTC_B_21_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	e.addTokens()
	st := e.booted201("CS-B21", 1)
	x := charging201(t, st, "TX-B21", 1, validTag, 1000)

	// OnIdle with a transaction: the station schedules the reset.
	e.remoteStatus201(st, "Reset", `{"type":"OnIdle"}`, `{"status":"Scheduled"}`, "Scheduled")
	wantOpen(t, e.session201("CS-B21", "TX-B21"), 1, validTag)
	// The transaction ends normally, then the station resets.
	x.evConnectedPostSession(validTag)
	x.evDisconnected(4000)
	st = e.reboot201(st, "ScheduledReset", "Available")
	wantEnded(t, e.session201("CS-B21", "TX-B21"), "EVDisconnected", 3000)
	e.wantConnector("CS-B21", 1, "Available", "")
}

func TestTC_B_22_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	e.addTokens()
	st := e.booted201("CS-B22", 1)
	x := charging201(t, st, "TX-B22", 1, validTag, 1000)

	e.remoteStatus201(st, "Reset", `{"type":"Immediate"}`, `{"status":"Accepted"}`, "Accepted")
	x.send(txe{typ: "Ended", trigger: "ResetCommand", state: "EVConnected", reason: "ImmediateReset",
		meter: []any{energyMV201(time.Now(), 2500, "Transaction.End")}})
	st = e.reboot201(st, "RemoteReset", "Occupied") // the cable is still in
	wantEnded(t, e.session201("CS-B22", "TX-B22"), "ImmediateReset", 1500)
	if c := e.connector("CS-B22", 1); c.Status == "Charging" || c.Status == "Available" {
		t.Fatalf("EVSE 1 after the reboot with the cable in: %s, want an occupied status without a transaction", c.Status)
	}
}

func TestTC_B_25_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	st := e.booted201("CS-B25", 2)
	e.remoteStatus201(st, "Reset", `{"type":"OnIdle","evseId":1}`, `{"status":"Accepted"}`, "Accepted")
	// The EVSE resets: briefly Unavailable, then Available again.
	status201(t, st, 1, 1, "Unavailable")
	status201(t, st, 1, 1, "Available")
	e.wantConnector("CS-B25", 1, "Available", "")
	heartbeat201(t, st)
}

func TestTC_B_26_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	e.addTokens()
	st := e.booted201("CS-B26", 2)
	x := charging201(t, st, "TX-B26", 1, validTag, 500)

	e.remoteStatus201(st, "Reset", `{"type":"OnIdle","evseId":1}`, `{"status":"Scheduled"}`, "Scheduled")
	x.evConnectedPostSession(validTag)
	x.evDisconnected(2500)
	wantEnded(t, e.session201("CS-B26", "TX-B26"), "EVDisconnected", 2000)
	// The EVSE resets once idle.
	status201(t, st, 1, 1, "Unavailable")
	status201(t, st, 1, 1, "Available")
	e.wantConnector("CS-B26", 1, "Available", "")
}

func TestTC_B_27_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	e.addTokens()
	st := e.booted201("CS-B27", 2)
	x := charging201(t, st, "TX-B27", 1, validTag, 500)

	e.remoteStatus201(st, "Reset", `{"type":"Immediate","evseId":1}`, `{"status":"Accepted"}`, "Accepted")
	x.send(txe{typ: "Ended", trigger: "ResetCommand", state: "EVConnected", reason: "ImmediateReset",
		meter: []any{energyMV201(time.Now(), 1300, "Transaction.End")}})
	wantEnded(t, e.session201("CS-B27", "TX-B27"), "ImmediateReset", 800)
	status201(t, st, 1, 1, "Unavailable")
	status201(t, st, 1, 1, "Occupied")
	heartbeat201(t, st)
}

func TestTC_B_42_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	st := e.booted201("CS-B42", 1)
	e.remoteStatus201(st, "SetNetworkProfile",
		`{"configurationSlot":1,"connectionData":{"ocppVersion":"OCPP20","ocppTransport":"JSON","ocppCsmsUrl":"wss://csms.example.com/ocpp","messageTimeout":30,"securityProfile":1,"ocppInterface":"Wired0"}}`,
		`{"status":"Accepted"}`, "Accepted")
}

func TestTC_B_44_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	st := e.booted201("CS-B44", 1)
	e.remoteStatus201(st, "SetNetworkProfile",
		`{"configurationSlot":1,"connectionData":{"ocppVersion":"OCPP20","ocppTransport":"JSON","ocppCsmsUrl":"wss://csms.example.com/ocpp","messageTimeout":30,"securityProfile":1,"ocppInterface":"Wired0"}}`,
		`{"status":"Failed"}`, "Failed")
	heartbeat201(t, st)
}
