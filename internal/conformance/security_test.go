package conformance

import (
	"encoding/hex"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/chargestar/chargestar/internal/servertest"
)

// The OCA white paper "Improved security for OCPP 1.6-J" (edition 3):
// TC_073 … TC_088. Charge Star serves plain HTTP behind a TLS-terminating
// proxy, so security profiles 2 and 3 differ from profile 1 only outside
// the server; TC_086/TC_087 (TLS) are out of scope.

// A PEM-looking certificate: the Central System passes it through untouched.
const testCertPEM = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ2hhcmdlU3RhclRlc3RDZXJ0MAoGCCqGSM49BAMCMBIx\nEDAOBgNVBAMMB09DVFQtQ0EwHhcNMjYwMTAxMDAwMDAwWhcNMzYwMTAxMDAwMDAw\n-----END CERTIFICATE-----\n"

// addStationWithPassword registers a station with Basic authentication
// through the API, as an operator does.
func (e *env) addStationWithPassword(id, password string) {
	e.t.Helper()
	r := e.do("POST", "/api/v1/stations", fmt.Sprintf(`{"id":%q,"operator_id":%q,"password":%q}`, id, e.op.ID, password))
	if r.Err != nil || r.Code != http.StatusCreated {
		e.t.Fatalf("POST /api/v1/stations: %d %s %v", r.Code, r.Body, r.Err)
	}
}

// dialBasic connects with Basic credentials and fails the test if refused.
func (e *env) dialBasic(id, user, password string) *servertest.Station {
	e.t.Helper()
	st, resp, err := e.dial(id, servertest.DialOptions{User: user, Password: password})
	if err != nil {
		code := 0
		if resp != nil {
			code = resp.StatusCode
		}
		e.t.Fatalf("connecting %s with Basic auth: HTTP %d: %v", id, code, err)
	}
	return st
}

// wantRefused requires a handshake to be refused with an HTTP status
// before the upgrade.
func (e *env) wantRefused(id string, o servertest.DialOptions, wantCode int) {
	e.t.Helper()
	st, resp, err := e.srv.Dial(e.t, id, o)
	if err == nil {
		st.Close()
		e.t.Fatalf("connecting %s with %+v: accepted, want HTTP %d before the upgrade", id, o, wantCode)
	}
	if resp == nil || resp.StatusCode != wantCode {
		code := 0
		if resp != nil {
			code = resp.StatusCode
		}
		e.t.Fatalf("connecting %s with %+v: HTTP %d (%v), want %d", id, o, code, err, wantCode)
	}
}

func TestTC_073_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	const oldPW, newPW = "Initial-Passw0rd-16x", "OCA_OCTT_admin_test1" // 20 bytes each
	e.addStationWithPassword("CP073", oldPW)
	st := e.dialBasic("CP073", "", oldPW)
	st.Boot()

	// The operator sends the new password, hex encoded, as the
	// AuthorizationKey; once the station accepts it the Central System
	// stores it by itself (no second operator action that could be
	// forgotten and lock the station out).
	key := hex.EncodeToString([]byte(newPW))
	if len(key) > 40 || len(newPW) < 16 || len(newPW) > 20 {
		t.Fatalf("bad test password %q", newPW)
	}
	e.remoteStatus(st, "ChangeConfiguration", fmt.Sprintf(`{"key":"AuthorizationKey","value":%q}`, key), `{"status":"Accepted"}`, "Accepted")

	// The Charge Point drops its connection and reconnects with the new password.
	st.Close()
	e.waitDisconnected("CP073")
	e.wantRefused("CP073", servertest.DialOptions{Password: oldPW}, http.StatusUnauthorized)
	st = e.dialBasic("CP073", "", newPW)
	heartbeatOK(t, st) // still accepted: no new boot needed
	if v := e.station("CP073"); !v.Connected || !v.PasswordSet {
		t.Fatalf("station after the password change: %+v", v)
	}

	// A key the station rejects changes nothing.
	e.remoteStatus(st, "ChangeConfiguration", `{"key":"AuthorizationKey","value":"00112233445566778899aabbccddeeff"}`, `{"status":"Rejected"}`, "Rejected")
	st.Close()
	e.waitDisconnected("CP073")
	st = e.dialBasic("CP073", "", newPW)
	heartbeatOK(t, st)
}

func TestTC_074_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	st := e.bootedStation("CP074", 1)

	e.remoteStatus(st, "ExtendedTriggerMessage", `{"requestedMessage":"SignChargePointCertificate"}`, `{"status":"Accepted"}`, "Accepted")
	// The Charge Point sends its CSR. Charge Star runs no certificate
	// authority: the answer must be a valid SignCertificate.conf, and the
	// request must be in the message log for the operator's CA.
	csr := "-----BEGIN CERTIFICATE REQUEST-----\nMIIBCjCBsQIBADBPMQswCQYDVQQGEwJBVTEPMA0GA1UECgwGT0NUVC1DUDEvMC0G\n-----END CERTIFICATE REQUEST-----\n"
	m := st.CallOK("SignCertificate", fmt.Sprintf(`{"csr":%q}`, csr))
	if s := m["status"]; s != "Accepted" && s != "Rejected" {
		t.Fatalf("SignCertificate.conf status %v", s)
	}
	e.waitMessage("CP074", "SignCertificate", "in", "BEGIN CERTIFICATE REQUEST")
	// The certificate signed elsewhere is installed through the command API.
	e.remoteStatus(st, "CertificateSigned", fmt.Sprintf(`{"certificateChain":%q}`, testCertPEM), `{"status":"Accepted"}`, "Accepted")
}

func TestTC_075_1_CSMS(t *testing.T) {
	t.Parallel()
	installCertificate(t, "CP075A", "ManufacturerRootCertificate")
}

func TestTC_075_2_CSMS(t *testing.T) {
	t.Parallel()
	installCertificate(t, "CP075B", "CentralSystemRootCertificate")
}

func installCertificate(t *testing.T, id, certType string) {
	e := newEnv(t, servertest.Options{})
	st := e.bootedStation(id, 1)
	e.remoteStatus(st, "InstallCertificate", fmt.Sprintf(`{"certificateType":%q,"certificate":%q}`, certType, testCertPEM), `{"status":"Accepted"}`, "Accepted")
	e.remote(st, "GetInstalledCertificateIds", fmt.Sprintf(`{"certificateType":%q}`, certType),
		`{"status":"Accepted","certificateHashData":[{"hashAlgorithm":"SHA256","issuerNameHash":"a1b2","issuerKeyHash":"c3d4","serialNumber":"01"}]}`)
}

func TestTC_076_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	st := e.bootedStation("CP076", 1)
	hash := `{"hashAlgorithm":"SHA256","issuerNameHash":"0f1e2d3c4b5a69788796a5b4c3d2e1f0","issuerKeyHash":"00112233445566778899aabbccddeeff","serialNumber":"7a3b"}`
	e.remoteStatus(st, "GetInstalledCertificateIds", `{"certificateType":"CentralSystemRootCertificate"}`,
		`{"status":"Accepted","certificateHashData":[`+hash+`]}`, "Accepted")
	e.remoteStatus(st, "DeleteCertificate", `{"certificateHashData":`+hash+`}`, `{"status":"Accepted"}`, "Accepted")
	e.remoteStatus(st, "DeleteCertificate", `{"certificateHashData":`+hash+`}`, `{"status":"NotFound"}`, "NotFound")
}

// securityEvent sends a SecurityEventNotification and requires it in the
// message log.
func (e *env) securityEvent(st *servertest.Station, typ, techInfo string) {
	e.t.Helper()
	m := st.CallOK("SecurityEventNotification", fmt.Sprintf(`{"type":%q,"timestamp":%q,"techInfo":%q}`, typ, ts(time.Now()), techInfo))
	if len(m) != 0 {
		e.t.Fatalf("SecurityEventNotification.conf: %v, want {}", m)
	}
	e.waitMessage(st.ID, "SecurityEventNotification", "in", typ)
}

func TestTC_077_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	st := e.bootedStation("CP077", 1)
	e.remoteStatus(st, "ExtendedTriggerMessage", `{"requestedMessage":"SignChargePointCertificate"}`, `{"status":"Accepted"}`, "Accepted")
	st.CallOK("SignCertificate", `{"csr":"-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n"}`)
	// The certificate does not match the station's key: rejected, and reported.
	e.remoteStatus(st, "CertificateSigned", `{"certificateChain":"-----BEGIN CERTIFICATE-----\nINVALID\n-----END CERTIFICATE-----\n"}`, `{"status":"Rejected"}`, "Rejected")
	e.securityEvent(st, "InvalidChargePointCertificate", "certificate does not match the private key")
}

func TestTC_078_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	st := e.bootedStation("CP078", 1)
	// An invalid Central System root certificate is refused by the station,
	// which reports the security event.
	e.remoteStatus(st, "InstallCertificate", `{"certificateType":"CentralSystemRootCertificate","certificate":"-----BEGIN CERTIFICATE-----\nINVALID\n-----END CERTIFICATE-----\n"}`,
		`{"status":"Rejected"}`, "Rejected")
	e.securityEvent(st, "InvalidCentralSystemCertificate", "certificate validation failed")
	heartbeatOK(t, st)
}

func TestTC_079_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	st := e.bootedStation("CP079", 1)
	req := fmt.Sprintf(`{"logType":"SecurityLog","requestId":79,"retries":1,"retryInterval":30,"log":{"remoteLocation":"https://logs.example.com/upload",`+
		`"oldestTimestamp":%q,"latestTimestamp":%q}}`, ts(time.Now().Add(-24*time.Hour)), ts(time.Now()))
	e.remoteStatus(st, "GetLog", req, `{"status":"Accepted","filename":"security-CP079.log"}`, "Accepted")
	for _, s := range []string{"Uploading", "Uploaded"} {
		st.CallOK("LogStatusNotification", fmt.Sprintf(`{"status":%q,"requestId":79}`, s))
		e.wantStation("CP079", func(v stationView) bool { return v.DiagnosticsStatus != nil && *v.DiagnosticsStatus == s }, "diagnostics_status "+s)
	}
	e.waitMessage("CP079", "LogStatusNotification", "in", `"Uploaded"`)
}

func signedUpdateFirmware(requestID int) string {
	return fmt.Sprintf(`{"requestId":%d,"retries":2,"retryInterval":60,"firmware":{"location":"https://firmware.example.com/cp/fw-3.0.0.bin",`+
		`"retrieveDateTime":%q,"signingCertificate":%q,"signature":"MEUCIQDxSignatureBase64=="}}`, requestID, ts(time.Now()), testCertPEM)
}

func TestTC_080_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	st := e.bootedStation("CP080", 1)
	e.remoteStatus(st, "SignedUpdateFirmware", signedUpdateFirmware(80), `{"status":"Accepted"}`, "Accepted")
	for _, s := range []string{"Downloading", "Downloaded", "SignatureVerified", "Installing"} {
		st.CallOK("SignedFirmwareStatusNotification", fmt.Sprintf(`{"status":%q,"requestId":80}`, s))
		e.wantStation("CP080", func(v stationView) bool { return v.FirmwareStatus != nil && *v.FirmwareStatus == s }, "firmware_status "+s)
	}
	st.Close() // reboot into the new firmware
	e.waitDisconnected("CP080")
	st = e.connect("CP080")
	st.CallOK("BootNotification", `{"chargePointVendor":"TestVendor","chargePointModel":"TestModel","firmwareVersion":"3.0.0"}`)
	st.CallOK("SignedFirmwareStatusNotification", `{"status":"Installed","requestId":80}`)
	status(t, st, 0, "Available")
	status(t, st, 1, "Available")
	e.wantStation("CP080", func(v stationView) bool {
		return v.FirmwareStatus != nil && *v.FirmwareStatus == "Installed" && v.FirmwareVersion == "3.0.0"
	}, "firmware_status Installed, firmware_version 3.0.0")
}

func TestTC_081_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	st := e.bootedStation("CP081", 1)
	e.remoteStatus(st, "SignedUpdateFirmware", signedUpdateFirmware(81), `{"status":"Accepted"}`, "Accepted")
	for _, s := range []string{"Downloading", "Downloaded", "InvalidSignature"} {
		st.CallOK("SignedFirmwareStatusNotification", fmt.Sprintf(`{"status":%q,"requestId":81}`, s))
	}
	e.securityEvent(st, "InvalidFirmwareSignature", "signature does not verify")
	e.wantStation("CP081", func(v stationView) bool {
		return v.FirmwareStatus != nil && *v.FirmwareStatus == "InvalidSignature" && v.FirmwareVersion == "1.0.0"
	}, "firmware_status InvalidSignature, firmware_version unchanged")
}

func TestTC_083_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	const pw = "Profile1-Passw0rd-xy"
	e.addStationWithPassword("CP083", pw)
	st := e.dialBasic("CP083", "", pw) // security profile 1
	st.Boot()

	e.remoteStatus(st, "ChangeConfiguration", `{"key":"SecurityProfile","value":"2"}`, `{"status":"Accepted"}`, "Accepted")
	e.remoteStatus(st, "Reset", `{"type":"Hard"}`, `{"status":"Accepted"}`, "Accepted")
	st.Close()
	e.waitDisconnected("CP083")

	// Profile 2 adds TLS, which the proxy in front terminates: the server
	// sees the same Basic credentials.
	st = e.dialBasic("CP083", "", pw)
	m := st.CallOK("BootNotification", `{"chargePointVendor":"TestVendor","chargePointModel":"TestModel"}`)
	if m["status"] != "Accepted" {
		t.Fatalf("BootNotification.conf status %v, want Accepted", m["status"])
	}
	status(t, st, 0, "Available")
	status(t, st, 1, "Available")
	e.wantConnector("CP083", 1, "Available", "")
	// A connection without credentials is still refused.
	e.wantRefused("CP083", servertest.DialOptions{}, http.StatusUnauthorized)
}

func TestTC_085_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	const pw = "Valid-Basic-Auth-pw1"
	e.addStationWithPassword("CP085", pw)
	e.addStationWithPassword("CP085-OTHER", "Other-Station-pw-123")

	t.Run("valid", func(t *testing.T) {
		e := e.with(t)
		st := e.dialBasic("CP085", "CP085", pw)
		if st.Subprotocol != "ocpp1.6" {
			t.Fatalf("subprotocol %q", st.Subprotocol)
		}
		st.Boot()
		if v := e.station("CP085"); !v.Connected || !v.PasswordSet {
			t.Fatalf("station: %+v", v)
		}
		st.Close()
		e.waitDisconnected("CP085")
	})
	t.Run("wrong password", func(t *testing.T) {
		e := e.with(t)
		e.wantRefused("CP085", servertest.DialOptions{Password: "Wrong-Basic-Auth-pw1"}, http.StatusUnauthorized)
	})
	t.Run("missing credentials", func(t *testing.T) {
		e := e.with(t)
		e.wantRefused("CP085", servertest.DialOptions{}, http.StatusUnauthorized)
	})
	t.Run("user is not the station id", func(t *testing.T) {
		e := e.with(t)
		e.wantRefused("CP085", servertest.DialOptions{User: "CP085-OTHER", Password: pw}, http.StatusUnauthorized)
		// Another station's valid credentials do not open this station either.
		e.wantRefused("CP085", servertest.DialOptions{User: "CP085-OTHER", Password: "Other-Station-pw-123"}, http.StatusUnauthorized)
	})
	if e.srv.CSMS.Connected("CP085") {
		t.Fatalf("a refused handshake left CP085 connected")
	}
}

func TestTC_088_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	e.addStation("CP088")

	t.Run("ocpp1.6 among others", func(t *testing.T) {
		e := e.with(t)
		st, _, err := e.dial("CP088", servertest.DialOptions{Subprotocols: []string{"ocpp1.5", "ocpp1.6", "ocpp9.9"}})
		if err != nil {
			t.Fatal(err)
		}
		if st.Subprotocol != "ocpp1.6" {
			t.Fatalf("negotiated subprotocol %q, want ocpp1.6", st.Subprotocol)
		}
		st.Boot()
		st.Close()
		e.waitDisconnected("CP088")
	})
	t.Run("none in common", func(t *testing.T) {
		e := e.with(t)
		st, resp, err := e.srv.Dial(t, "CP088", servertest.DialOptions{Subprotocols: []string{"ocpp1.2", "ocpp1.5"}})
		if err != nil {
			t.Fatalf("the handshake must complete (then close): %v %v", resp, err)
		}
		if st.Subprotocol != "" {
			t.Fatalf("negotiated subprotocol %q, want none", st.Subprotocol)
		}
		if code := st.WaitClosed(wait); code != websocket.StatusProtocolError {
			t.Fatalf("close status %v, want 1002 protocol error", code)
		}
		if e.srv.CSMS.Connected("CP088") {
			t.Fatalf("CP088 registered as connected without a subprotocol")
		}
	})
}
