package conformance

import (
	"net/http"
	"testing"

	"github.com/chargestar/chargestar/internal/servertest"
)

// OCPP 2.0.1 Core, block A (security). TC_A_04 and TC_A_06 (TLS server
// certificate, TLS version) are out of scope: Charge Star serves plain
// HTTP behind a TLS-terminating proxy, as for 1.6 (TC_086).

func TestTC_A_01_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	e.addStationWithPassword("CS-A01", stationPW201)
	// The OCTT connects with <Configured ChargingStationId>:<BasicAuthPassword>,
	// the CSMS upgrades, then Reusable State Booted.
	st := e.dial201("CS-A01", stationPW201)
	bootAccepted201(t, st, "PowerUp")
	status201(t, st, 1, 1, "Available")
	if v := e.station("CS-A01"); !v.Connected || v.Protocol == nil || *v.Protocol != ocpp201 || !v.PasswordSet {
		t.Fatalf("station after a Basic-auth boot: %+v", v)
	}
}

func TestTC_A_02_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	e.addStationWithPassword("CS-A02", stationPW201)
	e.addStationWithPassword("CS-A02-OTHER", stationPW201)
	// The username is not the station id: refused before the upgrade, even
	// with the right password and even when the user names another
	// registered station with the same password.
	for _, user := range []string{"NOT-THE-ID", "CS-A02-OTHER"} {
		e.wantRefused("CS-A02", servertest.DialOptions{Subprotocols: []string{ocpp201}, User: user, Password: stationPW201}, http.StatusUnauthorized)
	}
	if e.srv.CSMS.Connected("CS-A02") {
		t.Fatal("the station is registered as connected after a refused handshake")
	}
}

func TestTC_A_03_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	e.addStationWithPassword("CS-A03", stationPW201)
	e.wantRefused("CS-A03", servertest.DialOptions{Subprotocols: []string{ocpp201}, Password: "wrong-password-123456"}, http.StatusUnauthorized)
	e.wantRefused("CS-A03", servertest.DialOptions{Subprotocols: []string{ocpp201}, NoAuth: true}, http.StatusUnauthorized)
	if e.srv.CSMS.Connected("CS-A03") {
		t.Fatal("the station is registered as connected after a refused handshake")
	}
}

func TestTC_A_09_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	const newPW = "OCTT-new-password-A09x" // 22 characters
	e.addStationWithPassword("CS-A09", stationPW201)
	st := e.dial201("CS-A09", stationPW201)
	bootAccepted201(t, st, "PowerUp")

	// The operator sets SecurityCtrlr.BasicAuthPassword; once the station
	// accepts it the CSMS must accept only the new credentials.
	e.remoteStatus201(st, "SetVariables",
		`{"setVariableData":[{"attributeValue":"`+newPW+`","component":{"name":"SecurityCtrlr"},"variable":{"name":"BasicAuthPassword"}}]}`,
		`{"setVariableResult":[{"attributeStatus":"Accepted","attributeType":"Actual","component":{"name":"SecurityCtrlr"},"variable":{"name":"BasicAuthPassword"}}]}`, "Accepted")

	st.Close()
	e.waitDisconnected("CS-A09")
	e.wantRefused("CS-A09", servertest.DialOptions{Subprotocols: []string{ocpp201}, Password: stationPW201}, http.StatusUnauthorized)
	st = e.dial201("CS-A09", newPW)
	bootAccepted201(t, st, "PowerUp")
	status201(t, st, 1, 1, "Available")
	// The password is a secret: it is not kept in the device model.
	if v, ok := e.variable("CS-A09", "SecurityCtrlr", "BasicAuthPassword"); ok {
		t.Fatalf("BasicAuthPassword stored in the device model: %+v", v)
	}
}

func TestTC_A_10_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	e.addStationWithPassword("CS-A10", stationPW201)
	st := e.dial201("CS-A10", stationPW201)
	bootAccepted201(t, st, "PowerUp")

	e.remoteStatus201(st, "SetVariables",
		`{"setVariableData":[{"attributeValue":"OCTT-rejected-password-1","component":{"name":"SecurityCtrlr"},"variable":{"name":"BasicAuthPassword"}}]}`,
		`{"setVariableResult":[{"attributeStatus":"Rejected","attributeType":"Actual","component":{"name":"SecurityCtrlr"},"variable":{"name":"BasicAuthPassword"}}]}`, "Accepted")

	// The station keeps its old password, and so must the CSMS.
	st.Close()
	e.waitDisconnected("CS-A10")
	e.wantRefused("CS-A10", servertest.DialOptions{Subprotocols: []string{ocpp201}, Password: "OCTT-rejected-password-1"}, http.StatusUnauthorized)
	st = e.dial201("CS-A10", stationPW201)
	bootAccepted201(t, st, "PowerUp")
	status201(t, st, 1, 1, "Available")
}

func TestTC_A_19_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	e.addStationWithPassword("CS-A19", stationPW201)
	st := e.dial201("CS-A19", stationPW201)
	bootAccepted201(t, st, "PowerUp")

	// 1–2: a new NetworkConnectionProfile, one security profile higher.
	e.remoteStatus201(st, "SetNetworkProfile",
		`{"configurationSlot":2,"connectionData":{"ocppVersion":"OCPP20","ocppTransport":"JSON","ocppCsmsUrl":"wss://csms.example.com/ocpp","messageTimeout":30,"securityProfile":2,"ocppInterface":"Wired0"}}`,
		`{"status":"Accepted"}`, "Accepted")
	// 3–4: NetworkConfigurationPriority naming the new slot first.
	e.remoteStatus201(st, "SetVariables",
		`{"setVariableData":[{"attributeValue":"2,1","component":{"name":"OCPPCommCtrlr"},"variable":{"name":"NetworkConfigurationPriority"}}]}`,
		`{"setVariableResult":[{"attributeStatus":"Accepted","attributeType":"Actual","component":{"name":"OCPPCommCtrlr"},"variable":{"name":"NetworkConfigurationPriority"}}]}`, "Accepted")
	// 5–6: reboot.
	e.remoteStatus201(st, "Reset", `{"type":"Immediate"}`, `{"status":"Accepted"}`, "Accepted")
	// 7–9: the station comes back with profile 2 (TLS, terminated by the
	// proxy, and the same Basic credentials) and boots.
	st = e.reboot201With(st, stationPW201, "RemoteReset", "Available")
	heartbeat201(t, st)
	// The operator sees the new priority in the device model.
	e.wantVariable("CS-A19", "OCPPCommCtrlr", "NetworkConfigurationPriority", "2,1")
	// 10–11 (refusing a profile-1 connection, i.e. plain ws://) are the TLS
	// proxy's: the server behind it cannot tell the two apart.
}
