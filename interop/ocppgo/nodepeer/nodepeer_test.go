package nodepeer

// The ocpp-rpc 1.6 scenario (interop/node/scenario.mjs).

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chargestar/chargestar/internal/model"
	"github.com/chargestar/chargestar/internal/servertest"
	"github.com/chargestar/chargestar/interop/ocppgo/harness"
)

// TestOCPPRPCPeer runs the ocpp-rpc scenario on every backend.
func TestOCPPRPCPeer(t *testing.T) {
	node, dir := NodeDir(t)
	harness.Backends(t, func(t *testing.T, pg bool) {
		srv := harness.Start(t, pg)
		op := srv.Operator(t, "Node Op")
		const station, rawStation, password = "NODE-RPC-1", "NODE-RAW-1", "node-peer-password-1234"
		if code, body := harness.API(t, srv, "POST", "/api/v1/stations", map[string]any{"id": station, "operator_id": op.ID, "password": password}, nil); code != 201 {
			t.Fatalf("creating %s: %d %s", station, code, body)
		}
		srv.Station(t, op.ID, rawStation, "")
		if code, body := harness.API(t, srv, "POST", "/api/v1/id-tokens", map[string]any{"id_token": "NODE-OK", "operator_id": op.ID, "status": "Accepted"}, nil); code != 201 {
			t.Fatalf("creating a token: %d %s", code, body)
		}
		if code, body := harness.API(t, srv, "POST", "/api/v1/id-tokens", map[string]any{"id_token": "NODE-BLOCKED", "operator_id": op.ID, "status": "Blocked"}, nil); code != 201 {
			t.Fatalf("creating a token: %d %s", code, body)
		}
		srv.IDToken(t, op.ID, "NODE-EXPIRED", model.TokenAccepted, ptr(time.Now().Add(-time.Hour)))

		s := Run(t, node, dir, "scenario.mjs", map[string]any{
			"url": srv.WSURL, "station": station, "password": password, "rawStation": rawStation,
			"tags": map[string]string{"accepted": "NODE-OK", "blocked": "NODE-BLOCKED", "expired": "NODE-EXPIRED", "unknown": "NODE-NOBODY"},
		})

		ev := s.Expect("connected", 20*time.Second)
		var proto string
		Decode(t, ev["protocol"], &proto)
		if proto != "ocpp1.6" {
			t.Fatalf("ocpp-rpc negotiated %q", proto)
		}

		ev = s.Expect("charging", 20*time.Second)
		var txID int
		Decode(t, ev["transactionId"], &txID)
		tx := strconv.Itoa(txID)

		st := harness.GetStation(t, srv, station)
		if !st.Connected || st.Protocol == nil || *st.Protocol != "ocpp1.6" || st.Vendor != "NodeVendor" || st.Model != "ocpp-rpc" ||
			st.FirmwareVersion != "ocpp-rpc-2.2.1" || st.ConnectorStatus(1) != "Charging" || st.ConnectorStatus(2) != "Available" {
			t.Errorf("station while charging: %s", harness.JSON(st))
		}
		if sess, ok := harness.SessionByTx(t, srv, station, tx); !ok || sess.Status != "active" || sess.EnergyWh != 2500 {
			t.Errorf("active session %s: %v (found %v), want energy_wh 2500 (20000 → 22.5 kWh)", tx, sess, ok)
		}

		// Commands while the peer is charging. ocpp-rpc validates each
		// one against the 1.6 schemas before its handler sees it.
		if r := harness.Command(t, srv, station, "GetConfiguration", map[string]any{"key": []string{"HeartbeatInterval", "Nope"}}); r.Status != "Accepted" ||
			!strings.Contains(string(r.Response), `"unknownKey":["Nope"]`) || !strings.Contains(string(r.Response), `"key":"HeartbeatInterval"`) {
			t.Errorf("GetConfiguration: %s %s", r.Status, r.Response)
		}
		if r := harness.Command(t, srv, station, "ChangeConfiguration", map[string]any{"key": "MeterValueSampleInterval", "value": "30"}); r.Status != "Accepted" {
			t.Errorf("ChangeConfiguration: %s %s", r.Status, r.Response)
		}
		if r := harness.Command(t, srv, station, "ChangeConfiguration", map[string]any{"key": "NoSuchKey", "value": "1"}); r.Status != "NotSupported" {
			t.Errorf("ChangeConfiguration of an unknown key: %s %s", r.Status, r.Response)
		}
		if r := harness.Command(t, srv, station, "DataTransfer", map[string]any{"vendorId": "com.chargestar", "data": "ping"}); r.Status != "Accepted" ||
			!strings.Contains(string(r.Response), `"data":"node:ping"`) {
			t.Errorf("DataTransfer: %s %s", r.Status, r.Response)
		}
		// Several commands at once through the API: the server must send
		// them to the station one at a time (OCPP-J 1.6 §4.1.1), and each
		// answer must go back to its own API request.
		const burst = 5
		var wg sync.WaitGroup
		answers := make([]string, burst)
		for i := range burst {
			wg.Add(1)
			go func() {
				defer wg.Done()
				answers[i] = postCommand(srv.URL, station, "DataTransfer", fmt.Sprintf(`{"vendorId":"com.chargestar","data":"burst-%d"}`, i))
			}()
		}
		wg.Wait()
		for i, a := range answers {
			if !strings.HasPrefix(a, "200 ") || !strings.Contains(a, fmt.Sprintf(`"data":"node:burst-%d"`, i)) {
				t.Errorf("concurrent DataTransfer %d: %s", i, a)
			}
		}
		if r := harness.Command(t, srv, station, "UnlockConnector", map[string]any{"connectorId": 2}); r.Status != "NotSupported" {
			t.Errorf("UnlockConnector: %s %s", r.Status, r.Response)
		}
		// A command the peer has no handler for: ocpp-rpc answers NotImplemented.
		if code, body := harness.API(t, srv, "POST", "/api/v1/stations/"+station+"/commands/ClearCache", nil, nil); code != 502 || !strings.Contains(body, "NotImplemented") {
			t.Errorf("ClearCache to a peer without a handler: %d %s, want 502 naming NotImplemented", code, body)
		}
		if r := harness.Command(t, srv, station, "TriggerMessage", map[string]any{"requestedMessage": "MeterValues", "connectorId": 1}); r.Status != "Accepted" {
			t.Errorf("TriggerMessage: %s %s", r.Status, r.Response)
		}
		harness.Eventually(t, 5*time.Second, func() string {
			if sess, _ := harness.SessionByTx(t, srv, station, tx); sess.EnergyWh != 4000 {
				return fmt.Sprintf("energy after the triggered MeterValues: %d, want 4000", sess.EnergyWh)
			}
			return ""
		})
		if r := harness.Command(t, srv, station, "RemoteStopTransaction", map[string]any{"transactionId": txID}); r.Status != "Accepted" {
			t.Errorf("RemoteStopTransaction: %s %s", r.Status, r.Response)
		}
		harness.Eventually(t, 10*time.Second, func() string {
			if sess, _ := harness.SessionByTx(t, srv, station, tx); sess.Status != "completed" {
				return "session not completed after RemoteStopTransaction: " + sess.String()
			}
			return ""
		})
		s.Next()
		s.Expect("strictDone", 20*time.Second)
		ev = s.Expect("done", 40*time.Second)

		var strict struct {
			Steps struct {
				Boot struct {
					Status      string
					Interval    int
					CurrentTime string
				} `json:"boot"`
				Heartbeat struct{ CurrentTime string } `json:"heartbeat"`
				Authorize map[string]struct {
					IDTagInfo struct{ Status string } `json:"idTagInfo"`
				} `json:"authorize"`
				Start struct {
					TransactionID int                     `json:"transactionId"`
					IDTagInfo     struct{ Status string } `json:"idTagInfo"`
				} `json:"start"`
				Stop struct {
					IDTagInfo *struct{ Status string } `json:"idTagInfo"`
				} `json:"stop"`
				MeterStop      int64                        `json:"meterStop"`
				StopAt         string                       `json:"stopAt"`
				DataTransfer   struct{ Status string }      `json:"dataTransfer"`
				FinalHeartbeat struct{ CurrentTime string } `json:"finalHeartbeat"`
			} `json:"steps"`
			Received []struct {
				Method string
				Params json.RawMessage
			} `json:"received"`
			StrictFailures []json.RawMessage `json:"strictFailures"`
			BadMessages    []json.RawMessage `json:"badMessages"`
			FollowUpErrors []string          `json:"followUpErrors"`
			MaxInFlight    int               `json:"maxInFlight"`
		}
		Decode(t, ev["strict"], &strict)
		for _, f := range strict.StrictFailures {
			t.Errorf("ocpp-rpc strict mode rejected a message against the OCPP 1.6 schema: %s", f)
		}
		for _, b := range strict.BadMessages {
			t.Errorf("ocpp-rpc received a non-conforming RPC frame: %s", b)
		}
		for _, e := range strict.FollowUpErrors {
			t.Errorf("follow-up message failed: %s", e)
		}
		if strict.MaxInFlight != 1 {
			t.Errorf("the server had %d calls in flight to the station at once; OCPP-J 1.6 §4.1.1 allows one", strict.MaxInFlight)
		}
		steps := strict.Steps
		if steps.Boot.Status != "Accepted" || steps.Boot.Interval != 300 || steps.Boot.CurrentTime == "" || steps.Heartbeat.CurrentTime == "" || steps.FinalHeartbeat.CurrentTime == "" {
			t.Errorf("boot/heartbeat answers: %+v %+v", steps.Boot, steps.Heartbeat)
		}
		for name, want := range map[string]string{"accepted": "Accepted", "blocked": "Blocked", "expired": "Expired", "unknown": "Invalid"} {
			if got := steps.Authorize[name].IDTagInfo.Status; got != want {
				t.Errorf("Authorize %s token: %q, want %q", name, got, want)
			}
		}
		if steps.Start.IDTagInfo.Status != "Accepted" || steps.Start.TransactionID != txID {
			t.Errorf("StartTransaction answer: %+v", steps.Start)
		}
		if steps.Stop.IDTagInfo == nil || steps.Stop.IDTagInfo.Status != "Accepted" {
			t.Errorf("StopTransaction answer: %+v", steps.Stop)
		}
		if steps.DataTransfer.Status != "UnknownVendorId" {
			t.Errorf("DataTransfer with an unknown vendor: %+v, want UnknownVendorId", steps.DataTransfer)
		}
		var methods []string
		for _, r := range strict.Received {
			methods = append(methods, r.Method)
		}
		if want := "GetConfiguration ChangeConfiguration ChangeConfiguration DataTransfer" + strings.Repeat(" DataTransfer", burst) +
			" UnlockConnector ClearCache TriggerMessage RemoteStopTransaction"; strings.Join(methods, " ") != want {
			t.Errorf("calls the peer received: %v, want %s", methods, want)
		}

		sess, _ := harness.SessionByTx(t, srv, station, tx)
		if sess.Status != "completed" || sess.EnergyWh != steps.MeterStop-20000 || sess.MeterStartWh != 20000 ||
			sess.MeterStopWh == nil || *sess.MeterStopWh != steps.MeterStop || sess.StopReason == nil || *sess.StopReason != "Remote" ||
			sess.StoppedAt == nil || *sess.StoppedAt != steps.StopAt || sess.IDTag != "NODE-OK" || sess.ConnectorID != 1 {
			t.Errorf("completed session: %v, want %d Wh, stopped %s, Remote", sess, steps.MeterStop-20000, steps.StopAt)
		}
		if st := harness.GetStation(t, srv, station); st.ConnectorStatus(1) != "Available" {
			t.Errorf("connector 1 after the session: %s", harness.JSON(st.Connectors))
		}

		var malformed struct {
			Results []struct {
				Name   string
				Sent   string
				Answer []any
			}
			Closed *struct {
				Code   int
				Reason string
			}
		}
		Decode(t, ev["malformed"], &malformed)
		checkMalformed(t, malformed.Results)
		if malformed.Closed != nil {
			t.Errorf("the server closed the malformed-message connection: %+v", *malformed.Closed)
		}
		s.WaitExit(10 * time.Second)
	})
}

func ptr[T any](v T) *T { return &v }

// postCommand sends a command with the admin token without failing the
// test (it runs on other goroutines) and returns "STATUS BODY".
func postCommand(baseURL, station, action, body string) string {
	req, err := http.NewRequest("POST", baseURL+"/api/v1/stations/"+station+"/commands/"+action, strings.NewReader(body))
	if err != nil {
		return err.Error()
	}
	req.Header.Set("Authorization", "Bearer "+servertest.AdminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return strconv.Itoa(resp.StatusCode) + " " + string(b)
}

// The answers OCPP-J 1.6 calls for (§4.2.3, the CallError codes):
// FormationViolation for a payload that is not of the action's PDU
// structure, OccurenceConstraintViolation (1.6 spelling) for a missing
// required field, TypeConstraintViolation for a field of the wrong data
// type, PropertyConstraintViolation for a field with an invalid value,
// NotImplemented for an unknown action, NotSupported for an action the
// receiver knows but does not support (a Central System action sent by a
// charge point), ProtocolError for an incomplete frame; a message of an
// unknown message type is ignored (§4.1.3) and answers are never answered.
// Frames whose message id cannot be read are answered with the id "-1"
// (the convention OCPP-J 2.0.1 made explicit).
var wantMalformed = map[string]struct {
	id    string   // message id of the CALLERROR ("" = no answer expected)
	codes []string // accepted error codes (first is preferred)
	ok    bool     // a CALLRESULT is expected
}{
	"callBeforeBoot":      {id: "m-preboot", codes: []string{"SecurityError"}},
	"bootMissingRequired": {id: "m-boot-missing", codes: []string{"OccurenceConstraintViolation"}},
	"bootWrongType":       {id: "m-boot-type", codes: []string{"TypeConstraintViolation"}},
	"boot":                {id: "m-boot", ok: true},
	"unknownAction":       {id: "m-unknown", codes: []string{"NotImplemented"}},
	"centralSystemAction": {id: "m-reset", codes: []string{"NotSupported"}},
	"statusWrongType":     {id: "m-status-type", codes: []string{"TypeConstraintViolation"}},
	"statusBadEnum":       {id: "m-status-enum", codes: []string{"PropertyConstraintViolation"}},
	"statusMissing":       {id: "m-status-missing", codes: []string{"OccurenceConstraintViolation"}},
	// CiString20Type: a length limit is a constraint on the value's type or property.
	"idTagTooLong":       {id: "m-long", codes: []string{"PropertyConstraintViolation", "TypeConstraintViolation"}},
	"badMeasurand":       {id: "m-measurand", codes: []string{"PropertyConstraintViolation"}},
	"badTimestamp":       {id: "m-time", codes: []string{"TypeConstraintViolation", "PropertyConstraintViolation", "FormationViolation"}},
	"payloadNotObject":   {id: "m-array", codes: []string{"FormationViolation", "TypeConstraintViolation"}},
	"missingAction":      {id: "m-noaction", codes: []string{"ProtocolError", "FormationViolation"}},
	"actionNotString":    {id: "m-action-num", codes: []string{"ProtocolError", "FormationViolation"}},
	"notJSON":            {id: "-1", codes: []string{"FormationViolation", "ProtocolError"}},
	"notArray":           {id: "-1", codes: []string{"FormationViolation", "ProtocolError"}},
	"truncatedJSON":      {id: "m-trunc|-1", codes: []string{"FormationViolation", "ProtocolError"}},
	"unknownMessageType": {},
	"resultForNothing":   {},
	"errorForNothing":    {},
	"heartbeatAfter":     {id: "m-after", ok: true},
}

func checkMalformed(t *testing.T, results []struct {
	Name   string
	Sent   string
	Answer []any
}) {
	t.Helper()
	seen := map[string]bool{}
	for _, r := range results {
		seen[r.Name] = true
		t.Logf("%-20s %s → %s", r.Name, r.Sent, mustJSON(r.Answer))
		want, known := wantMalformed[r.Name]
		if !known {
			t.Errorf("malformed case %s has no expectation", r.Name)
			continue
		}
		a := r.Answer
		switch {
		case want.id == "":
			if a != nil {
				t.Errorf("%s: sent %s, got %s, want no answer", r.Name, r.Sent, mustJSON(a))
			}
		case want.ok:
			if len(a) != 3 || a[0] != float64(3) || a[1] != want.id {
				t.Errorf("%s: sent %s, got %s, want a CALLRESULT", r.Name, r.Sent, mustJSON(a))
			}
		default:
			if len(a) != 5 || a[0] != float64(4) {
				t.Errorf("%s: sent %s, got %s, want CALLERROR %s", r.Name, r.Sent, mustJSON(a), strings.Join(want.codes, " or "))
				continue
			}
			id, _ := a[1].(string)
			code, _ := a[2].(string)
			desc, _ := a[3].(string)
			if !contains(strings.Split(want.id, "|"), id) || !contains(want.codes, code) {
				t.Errorf("%s: sent %s, got %s, want [4,%q,%s,…]", r.Name, r.Sent, mustJSON(a), want.id, strings.Join(want.codes, "|"))
			}
			if _, isObj := a[4].(map[string]any); !isObj {
				t.Errorf("%s: errorDetails must be a JSON object: %s", r.Name, mustJSON(a))
			}
			if len(desc) > 255 {
				t.Errorf("%s: errorDescription longer than 255 characters", r.Name)
			}
		}
	}
	for name := range wantMalformed {
		if !seen[name] {
			t.Errorf("malformed case %s did not run (the connection closed early?)", name)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
