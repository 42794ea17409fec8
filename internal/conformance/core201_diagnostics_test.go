package conformance

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/chargestar/chargestar/internal/servertest"
)

// OCPP 2.0.1 Core, block N (diagnostics): log retrieval and customer
// information.

func getLog(logType string, requestID int) string {
	return fmt.Sprintf(`{"logType":%q,"requestId":%d,"retries":1,"retryInterval":30,"log":{"remoteLocation":"https://logs.example.com/upload/CS","oldestTimestamp":%q}}`,
		logType, requestID, ts(time.Now().Add(-24*time.Hour)))
}

// logStatus sends LogStatusNotifications of a request.
func logStatus(t *testing.T, st *servertest.Station, requestID int, statuses ...string) {
	t.Helper()
	for _, s := range statuses {
		call201(t, st, "LogStatusNotification", obj{"status": s, "requestId": requestID})
	}
}

func (e *env) wantLogStatus(id, status string) {
	e.t.Helper()
	e.wantStation(id, func(v stationView) bool { return v.DiagnosticsStatus != nil && *v.DiagnosticsStatus == status }, "diagnostics_status "+status)
}

func retrieveLog(t *testing.T, id, logType string) {
	e, st := newE(t, id, 1)
	e.remoteStatus201(st, "GetLog", getLog(logType, 25), `{"status":"Accepted","filename":"`+id+`-log.tar.gz"}`, "Accepted")
	logStatus(t, st, 25, "Uploading")
	e.wantLogStatus(id, "Uploading")
	logStatus(t, st, 25, "Uploaded")
	e.wantLogStatus(id, "Uploaded")
}

func TestTC_N_25_CSMS(t *testing.T) { t.Parallel(); retrieveLog(t, "CS-N25", "DiagnosticsLog") }

func TestTC_N_35_CSMS(t *testing.T) { t.Parallel(); retrieveLog(t, "CS-N35", "SecurityLog") }

func TestTC_N_34_CSMS(t *testing.T) {
	t.Parallel()
	e, st := newE(t, "CS-N34", 1)
	e.remoteStatus201(st, "GetLog", getLog("DiagnosticsLog", 34), `{"status":"Rejected"}`, "Rejected")
	heartbeat201(t, st)
}

func TestTC_N_36_CSMS(t *testing.T) {
	t.Parallel()
	e, st := newE(t, "CS-N36", 1)
	e.remoteStatus201(st, "GetLog", getLog("DiagnosticsLog", 361), `{"status":"Accepted","filename":"first.tar.gz"}`, "Accepted")
	logStatus(t, st, 361, "Uploading")
	// A second request while the first uploads: the first is canceled.
	e.remoteStatus201(st, "GetLog", getLog("DiagnosticsLog", 362), `{"status":"AcceptedCanceled","filename":"second.tar.gz"}`, "AcceptedCanceled")
	logStatus(t, st, 361, "AcceptedCanceled")
	logStatus(t, st, 362, "Uploading", "Uploaded")
	e.wantLogStatus("CS-N36", "Uploaded")
}

// customerInformation plays TC_N_27–TC_N_32 and TC_N_62: the operator asks
// for (and/or clears) what the station holds about a customer; the
// station answers and reports with NotifyCustomerInformation, which the
// CSMS acknowledges and keeps for the operator (message log).
func customerInformation(t *testing.T, id, request, answer, data string) {
	e, st := newE(t, id, 1)
	e.remoteStatus201(st, "CustomerInformation", request, fmt.Sprintf(`{"status":%q}`, answer), answer)
	if data == "" {
		heartbeat201(t, st)
		return
	}
	var req struct {
		RequestID int `json:"requestId"`
	}
	if err := json.Unmarshal([]byte(request), &req); err != nil {
		t.Fatal(err)
	}
	now := ts(time.Now())
	call201(t, st, "NotifyCustomerInformation", obj{"data": data, "tbc": true, "seqNo": 0, "generatedAt": now, "requestId": req.RequestID})
	call201(t, st, "NotifyCustomerInformation", obj{"data": "end of report", "seqNo": 1, "generatedAt": now, "requestId": req.RequestID})
	e.waitMessage(id, "NotifyCustomerInformation", "in", data)
}

func customerByToken(requestID int, report, clear bool) string {
	return fmt.Sprintf(`{"requestId":%d,"report":%t,"clear":%t,"idToken":{"idToken":%q,"type":%q}}`, requestID, report, clear, validTag, tokType)
}

func TestTC_N_27_CSMS(t *testing.T) {
	t.Parallel()
	customerInformation(t, "CS-N27", customerByToken(27, true, false), "Accepted", "idToken VALID-TAG-1: in authorization cache, 3 transactions")
}

func TestTC_N_28_CSMS(t *testing.T) {
	t.Parallel()
	customerInformation(t, "CS-N28", customerByToken(28, true, false), "Accepted", "No data found")
}

func TestTC_N_29_CSMS(t *testing.T) {
	t.Parallel()
	customerInformation(t, "CS-N29", customerByToken(29, true, false), "Rejected", "")
}

func TestTC_N_30_CSMS(t *testing.T) {
	t.Parallel()
	customerInformation(t, "CS-N30", customerByToken(30, true, true), "Accepted", "idToken VALID-TAG-1: cleared from authorization cache")
}

func TestTC_N_31_CSMS(t *testing.T) {
	t.Parallel()
	customerInformation(t, "CS-N31", customerByToken(31, true, true), "Accepted", "No data found")
}

func TestTC_N_32_CSMS(t *testing.T) {
	t.Parallel()
	customerInformation(t, "CS-N32", customerByToken(32, false, true), "Accepted", "")
}

func TestTC_N_62_CSMS(t *testing.T) {
	t.Parallel()
	customerInformation(t, "CS-N62", `{"requestId":62,"report":true,"clear":true,"customerIdentifier":"CUSTOMER-0062"}`, "Accepted",
		"customer CUSTOMER-0062: cleared")
}
