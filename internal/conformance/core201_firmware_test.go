package conformance

import (
	"fmt"
	"testing"
	"time"

	"github.com/chargestar/chargestar/internal/servertest"
)

// OCPP 2.0.1 Core, block L (secure firmware update). The CSMS relays the
// operator's UpdateFirmwareRequest (the firmware, its signing certificate
// and signature come from the operator) and records what the station
// reports.

// updateFirmware is an UpdateFirmwareRequest; install, when not zero, is
// the installDateTime.
func updateFirmware(requestID int, retrieve, install time.Time) string {
	fw := fmt.Sprintf(`"location":"https://firmware.example.com/octt-2.0.0.bin","retrieveDateTime":%q,"signingCertificate":%q,"signature":"MEUCIQDfirmwaresignature"`,
		ts(retrieve), testCertPEM)
	if !install.IsZero() {
		fw += fmt.Sprintf(`,"installDateTime":%q`, ts(install))
	}
	return fmt.Sprintf(`{"requestId":%d,"retries":2,"retryInterval":60,"firmware":{%s}}`, requestID, fw)
}

// firmwareStatus sends FirmwareStatusNotifications of a request.
func firmwareStatus(t *testing.T, st *servertest.Station, requestID int, statuses ...string) {
	t.Helper()
	for _, s := range statuses {
		call201(t, st, "FirmwareStatusNotification", obj{"status": s, "requestId": requestID})
	}
}

// wantFirmware requires the station's stored firmware status and version.
func (e *env) wantFirmware(id, status, version string) {
	e.t.Helper()
	e.wantStation(id, func(v stationView) bool {
		return v.FirmwareStatus != nil && *v.FirmwareStatus == status && v.FirmwareVersion == version
	}, fmt.Sprintf("firmware_status %s and firmware_version %s", status, version))
}

// installed finishes an installation: the station reboots with the new
// firmware, reports Installed and the FirmwareUpdated security event.
func (e *env) installed(st *servertest.Station, requestID int) *servertest.Station {
	e.t.Helper()
	firmwareStatus(e.t, st, requestID, "InstallRebooting")
	st.Close()
	e.waitDisconnected(st.ID)
	st = e.connect201(st.ID)
	m := call201(e.t, st, "BootNotification", obj{"reason": "FirmwareUpdate", "chargingStation": obj{
		"vendorName": "OCTT-Vendor", "model": "OCTT-Model", "serialNumber": "SN-" + st.ID, "firmwareVersion": "2.0.0"}})
	if m["status"] != "Accepted" {
		e.t.Fatalf("BootNotificationResponse after the update: %v", m)
	}
	status201(e.t, st, 1, 1, "Available")
	firmwareStatus(e.t, st, requestID, "Installed")
	e.securityEvent201(st, "FirmwareUpdated", "2.0.0")
	e.wantFirmware(st.ID, "Installed", "2.0.0")
	return st
}

func TestTC_L_01_CSMS(t *testing.T) {
	t.Parallel()
	e, st := newE(t, "CS-L01", 1)
	e.remoteStatus201(st, "UpdateFirmware", updateFirmware(1, time.Now(), time.Time{}), `{"status":"Accepted"}`, "Accepted")
	firmwareStatus(t, st, 1, "Downloading", "Downloaded", "SignatureVerified", "Installing")
	e.wantFirmware("CS-L01", "Installing", "1.0.0")
	e.installed(st, 1)
}

func TestTC_L_02_CSMS(t *testing.T) {
	t.Parallel()
	e, st := newE(t, "CS-L02", 1)
	e.remoteStatus201(st, "UpdateFirmware", updateFirmware(2, time.Now(), time.Now().Add(time.Minute)), `{"status":"Accepted"}`, "Accepted")
	firmwareStatus(t, st, 2, "Downloading", "Downloaded", "SignatureVerified", "InstallScheduled")
	e.wantFirmware("CS-L02", "InstallScheduled", "1.0.0")
	firmwareStatus(t, st, 2, "Installing")
	e.installed(st, 2)
}

func TestTC_L_03_CSMS(t *testing.T) {
	t.Parallel()
	e, st := newE(t, "CS-L03", 1)
	e.remoteStatus201(st, "UpdateFirmware", updateFirmware(3, time.Now().Add(time.Minute), time.Time{}), `{"status":"Accepted"}`, "Accepted")
	firmwareStatus(t, st, 3, "DownloadScheduled")
	e.wantFirmware("CS-L03", "DownloadScheduled", "1.0.0")
	firmwareStatus(t, st, 3, "Downloading", "Downloaded", "SignatureVerified", "Installing")
	e.installed(st, 3)
}

func TestTC_L_04_CSMS(t *testing.T) {
	t.Parallel()
	e, st := newE(t, "CS-L04", 1)
	e.remoteStatus201(st, "UpdateFirmware", updateFirmware(4, time.Now(), time.Time{}), `{"status":"RevokedCertificate"}`, "RevokedCertificate")
	e.securityEvent201(st, "InvalidFirmwareSigningCertificate", "certificate revoked")
	e.wantStation("CS-L04", func(v stationView) bool { return v.FirmwareVersion == "1.0.0" }, "firmware_version unchanged")
}

func TestTC_L_05_CSMS(t *testing.T) {
	t.Parallel()
	e, st := newE(t, "CS-L05", 1)
	e.remoteStatus201(st, "UpdateFirmware", updateFirmware(5, time.Now(), time.Time{}), `{"status":"InvalidCertificate"}`, "InvalidCertificate")
	e.securityEvent201(st, "InvalidFirmwareSigningCertificate", "not signed by a manufacturer root")
	e.wantStation("CS-L05", func(v stationView) bool { return v.FirmwareVersion == "1.0.0" }, "firmware_version unchanged")
}

// firmwareFails plays TC_L_06–TC_L_09: the update is accepted and fails
// at a step; the station keeps its firmware and keeps working.
func firmwareFails(t *testing.T, id string, statuses []string, securityEvent string) {
	e, st := newE(t, id, 1)
	e.remoteStatus201(st, "UpdateFirmware", updateFirmware(6, time.Now(), time.Time{}), `{"status":"Accepted"}`, "Accepted")
	firmwareStatus(t, st, 6, statuses...)
	if securityEvent != "" {
		e.securityEvent201(st, securityEvent, "")
	}
	e.wantFirmware(id, statuses[len(statuses)-1], "1.0.0")
	heartbeat201(t, st)
}

func TestTC_L_06_CSMS(t *testing.T) {
	t.Parallel()
	firmwareFails(t, "CS-L06", []string{"Downloading", "Downloaded", "InvalidSignature"}, "InvalidFirmwareSignature")
}

func TestTC_L_07_CSMS(t *testing.T) {
	t.Parallel()
	firmwareFails(t, "CS-L07", []string{"Downloading", "DownloadFailed"}, "")
}

func TestTC_L_08_CSMS(t *testing.T) {
	t.Parallel()
	firmwareFails(t, "CS-L08", []string{"Downloading", "Downloaded", "SignatureVerified", "Installing", "InstallVerificationFailed"}, "")
}

func TestTC_L_09_CSMS(t *testing.T) {
	t.Parallel()
	firmwareFails(t, "CS-L09", []string{"Downloading", "Downloaded", "SignatureVerified", "Installing", "InstallationFailed"}, "")
}

func TestTC_L_10_CSMS(t *testing.T) {
	t.Parallel()
	e, st := newE(t, "CS-L10", 1)
	e.remoteStatus201(st, "UpdateFirmware", updateFirmware(10, time.Now(), time.Time{}), `{"status":"Accepted"}`, "Accepted")
	firmwareStatus(t, st, 10, "Downloading")
	// A second update while the first downloads: the station cancels the first.
	e.remoteStatus201(st, "UpdateFirmware", updateFirmware(11, time.Now(), time.Time{}), `{"status":"AcceptedCanceled"}`, "AcceptedCanceled")
	firmwareStatus(t, st, 11, "Downloading", "Downloaded", "SignatureVerified", "Installing")
	e.installed(st, 11)
}

func TestTC_L_11_CSMS(t *testing.T) {
	t.Parallel()
	e, st := newE(t, "CS-L11", 1)
	e.remoteStatus201(st, "UpdateFirmware", updateFirmware(12, time.Now(), time.Time{}), `{"status":"Accepted"}`, "Accepted")
	firmwareStatus(t, st, 12, "Downloading")
	// The station cannot cancel the running update: the second is rejected.
	e.remoteStatus201(st, "UpdateFirmware", updateFirmware(13, time.Now(), time.Time{}), `{"status":"Rejected"}`, "Rejected")
	firmwareStatus(t, st, 12, "Downloaded", "SignatureVerified", "Installing")
	e.installed(st, 12)
}

func TestTC_L_13_CSMS(t *testing.T) {
	t.Parallel()
	e, st := newE(t, "CS-L13", 2)
	x := charging201(t, st, "TX-L13", 1, validTag, 1000)
	e.remoteStatus201(st, "UpdateFirmware", updateFirmware(14, time.Now(), time.Time{}), `{"status":"Accepted"}`, "Accepted")
	firmwareStatus(t, st, 14, "Downloading", "Downloaded", "SignatureVerified")
	// AllowNewSessionsPendingFirmwareUpdate false: the idle EVSE is taken
	// out of service; the transaction runs to its end.
	unavailable(t, st, "Unavailable", 2)
	firmwareStatus(t, st, 14, "InstallScheduled")
	e.wantConnector("CS-L13", 2, "Unavailable", "")
	wantOpen(t, e.session201("CS-L13", "TX-L13"), 1, validTag)
	x.evConnectedPostSession(validTag)
	x.evDisconnected(2500)
	unavailable(t, st, "Unavailable", 1)
	wantEnded(t, e.session201("CS-L13", "TX-L13"), "EVDisconnected", 1500)
	firmwareStatus(t, st, 14, "Installing")
	e.installed(st, 14)
}
