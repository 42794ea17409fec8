package nodepeer

// The ocpp-rpc 2.0.1 and 2.1 scenario (interop/node/scenario2x.mjs).

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chargestar/chargestar/internal/model"
	"github.com/chargestar/chargestar/interop/ocppgo/harness"
)

// TestOCPPRPCPeer201 runs ocpp-rpc as an OCPP 2.0.1 charging station in
// strict mode (its built-in 2.0.1 validator) on every backend.
func TestOCPPRPCPeer201(t *testing.T) { runPeer2x(t, "ocpp2.0.1") }

// TestOCPPRPCPeer21 runs ocpp-rpc as an OCPP 2.1 charging station with
// strict validation against the official 2.1 JSON schemas on every
// backend.
func TestOCPPRPCPeer21(t *testing.T) { runPeer2x(t, "ocpp2.1") }

// Result2x is the "done" event of scenario2x.mjs.
type Result2x struct {
	Steps struct {
		Boot struct {
			Status      string `json:"status"`
			Interval    int    `json:"interval"`
			CurrentTime string `json:"currentTime"`
		} `json:"boot"`
		Heartbeat struct {
			CurrentTime string `json:"currentTime"`
		} `json:"heartbeat"`
		Authorize map[string]struct {
			IDTokenInfo struct {
				Status string `json:"status"`
			} `json:"idTokenInfo"`
		} `json:"authorize"`
		Started         map[string]json.RawMessage   `json:"started"`
		Charging        map[string]json.RawMessage   `json:"charging"`
		Updated         []map[string]json.RawMessage `json:"updated"`
		Ended           map[string]json.RawMessage   `json:"ended"`
		Triggered       map[string]json.RawMessage   `json:"triggered"`
		NotifyReport    map[string]json.RawMessage   `json:"notifyReport"`
		IdleMeterValues map[string]json.RawMessage   `json:"idleMeterValues"`
		DataTransfer    struct {
			Status string `json:"status"`
		} `json:"dataTransfer"`
		Settlement     map[string]json.RawMessage `json:"settlement"`
		FinalHeartbeat struct {
			CurrentTime string `json:"currentTime"`
		} `json:"finalHeartbeat"`
		MeterStop int64  `json:"meterStop"`
		StopAt    string `json:"stopAt"`
	} `json:"steps"`
	Received []struct {
		Method string          `json:"method"`
		Params json.RawMessage `json:"params"`
	} `json:"received"`
	StrictFailures []json.RawMessage `json:"strictFailures"`
	BadMessages    []json.RawMessage `json:"badMessages"`
	FollowUpErrors []string          `json:"followUpErrors"`
	MaxInFlight    int               `json:"maxInFlight"`
	Setup          json.RawMessage   `json:"setup"`
}

// CheckClean fails the test for every schema violation ocpp-rpc saw in
// either direction, every non-conforming frame and every failed
// follow-up message.
func (r *Result2x) CheckClean(t testing.TB, version string) {
	t.Helper()
	for _, f := range r.StrictFailures {
		t.Errorf("ocpp-rpc strict mode rejected a message against the %s schema: %s", version, f)
	}
	for _, b := range r.BadMessages {
		t.Errorf("ocpp-rpc received a non-conforming RPC frame: %s", b)
	}
	for _, e := range r.FollowUpErrors {
		t.Errorf("follow-up message failed: %s", e)
	}
}

func runPeer2x(t *testing.T, version string) {
	node, dir := NodeDir(t)
	var schemas string
	if version == "ocpp2.1" {
		schemas = Schemas21(t)
	}
	harness.Backends(t, func(t *testing.T, pg bool) {
		srv := harness.Start(t, pg)
		op := srv.Operator(t, "Node Op")
		station := "NODE-" + strings.ToUpper(strings.ReplaceAll(strings.TrimPrefix(version, "ocpp"), ".", "")) + "-1"
		const password = "node-peer-2x-password-1234"
		txID := "NODE-TX-" + strings.ReplaceAll(version, ".", "")
		if code, body := harness.API(t, srv, "POST", "/api/v1/stations", map[string]any{"id": station, "operator_id": op.ID, "password": password}, nil); code != 201 {
			t.Fatalf("creating %s: %d %s", station, code, body)
		}
		srv.IDToken(t, op.ID, "NODE2-OK", model.TokenAccepted, nil)
		srv.IDToken(t, op.ID, "NODE2-BLOCKED", model.TokenBlocked, nil)
		srv.IDToken(t, op.ID, "NODE2-EXPIRED", model.TokenAccepted, ptr(time.Now().Add(-time.Hour)))

		s := Run(t, node, dir, "scenario2x.mjs", map[string]any{
			"url": srv.WSURL, "station": station, "password": password, "version": version, "schemaDir": schemas,
			"transactionId": txID,
			"tags":          map[string]string{"accepted": "NODE2-OK", "blocked": "NODE2-BLOCKED", "expired": "NODE2-EXPIRED", "unknown": "NODE2-NOBODY"},
		})
		ev := s.Expect("connected", 20*time.Second)
		var proto string
		Decode(t, ev["protocol"], &proto)
		if proto != version {
			t.Fatalf("ocpp-rpc negotiated %q, want %q", proto, version)
		}
		t.Logf("validator: %s", ev["setup"])
		var setup struct{ SelfCheck string }
		Decode(t, ev["setup"], &setup)
		if setup.SelfCheck != "PropertyConstraintViolation" {
			t.Fatalf("ocpp-rpc strict validation is not active for %s: a Heartbeat with an unknown property gave %q", version, setup.SelfCheck)
		}

		ev = s.Expect("charging", 20*time.Second)
		st := harness.GetStation(t, srv, station)
		if !st.Connected || st.Protocol == nil || *st.Protocol != version || st.Vendor != "NodeVendor" || st.Model != "ocpp-rpc" ||
			st.SerialNumber != "NODE-SN-2X" || st.FirmwareVersion != "ocpp-rpc-2.2.1" ||
			st.ConnectorStatus(1) != "Charging" || st.ConnectorStatus(2) != "Available" {
			t.Errorf("station while charging: %s", harness.JSON(st))
		}
		if sess, ok := harness.SessionByTx(t, srv, station, txID); !ok || sess.Status != "active" || sess.EnergyWh != 2500 ||
			sess.MeterStartWh != 20000 || sess.IDTag != "NODE2-OK" || sess.ConnectorID != 1 {
			t.Errorf("active session %s: %v (found %v), want EVSE 1, NODE2-OK, energy_wh 2500 (20000 → 22.5 kWh)", txID, sess, ok)
		}
		if n := len(harness.Sessions(t, srv, station)); n != 1 {
			t.Errorf("%d sessions; the meter values of the idle EVSE 2 must not make one", n)
		}

		// Commands while the peer charges. ocpp-rpc validates each one
		// against the version's schema before its handler sees it; an
		// invalid one would come back as a CALLERROR (HTTP 502).
		var sent []string
		command := func(action string, payload any) harness.CommandResult {
			t.Helper()
			sent = append(sent, action)
			return harness.Command(t, srv, station, action, payload)
		}
		r := command("GetVariables", map[string]any{"getVariableData": []any{
			map[string]any{"component": map[string]any{"name": "OCPPCommCtrlr"}, "variable": map[string]any{"name": "HeartbeatInterval"}},
			map[string]any{"component": map[string]any{"name": "NoSuchCtrlr"}, "variable": map[string]any{"name": "Nope"}},
		}})
		if resp := string(r.Response); !strings.Contains(resp, `"attributeValue":"300"`) || !strings.Contains(resp, `"attributeStatus":"UnknownComponent"`) {
			t.Errorf("GetVariables: %s %s", r.Status, resp)
		}
		if r := command("SetVariables", map[string]any{"setVariableData": []any{map[string]any{"attributeValue": "30",
			"component": map[string]any{"name": "SampledDataCtrlr"}, "variable": map[string]any{"name": "TxUpdatedInterval"}}}}); !strings.Contains(string(r.Response), `"attributeStatus":"Accepted"`) {
			t.Errorf("SetVariables: %s", r.Response)
		}
		if r := command("GetBaseReport", map[string]any{"requestId": 77, "reportBase": "ConfigurationInventory"}); r.Status != "Accepted" {
			t.Errorf("GetBaseReport: %s %s", r.Status, r.Response)
		}
		harness.Eventually(t, 5*time.Second, func() string {
			vars := harness.Variables(t, srv, station)
			if vars["AuthCtrlr.AuthorizeRemoteStart.Actual"].Value != "true" || vars["SampledDataCtrlr.TxUpdatedInterval.Actual"].Value != "30" ||
				vars["OCPPCommCtrlr.HeartbeatInterval.Actual"].Value != "300" {
				return "device model after GetVariables, SetVariables and the report: " + harness.JSON(vars)
			}
			return ""
		})
		if r := command("DataTransfer", map[string]any{"vendorId": "com.chargestar", "messageId": "ping", "data": "ping"}); r.Status != "Accepted" ||
			!strings.Contains(string(r.Response), `"data":"node:ping"`) {
			t.Errorf("DataTransfer: %s %s", r.Status, r.Response)
		}
		// Several commands at once: one call in flight at a time (OCPP-J
		// Part 4 §4.1.1), and each answer to its own request.
		const burst = 4
		var wg sync.WaitGroup
		answers := make([]string, burst)
		for i := range burst {
			sent = append(sent, "DataTransfer")
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
		if r := command("UnlockConnector", map[string]any{"evseId": 1, "connectorId": 1}); r.Status != "OngoingAuthorizedTransaction" {
			t.Errorf("UnlockConnector during the transaction: %s %s", r.Status, r.Response)
		}
		if r := command("Reset", map[string]any{"type": "OnIdle"}); r.Status != "Scheduled" {
			t.Errorf("Reset: %s %s", r.Status, r.Response)
		}
		if r := command("GetTransactionStatus", map[string]any{"transactionId": txID}); !strings.Contains(string(r.Response), `"ongoingIndicator":true`) {
			t.Errorf("GetTransactionStatus: %s", r.Response)
		}
		if r := command("CostUpdated", map[string]any{"totalCost": 1.23, "transactionId": txID}); string(r.Response) != "{}" {
			t.Errorf("CostUpdated: %s", r.Response)
		}
		// A command the peer has no handler for: ocpp-rpc answers NotImplemented.
		sent = append(sent, "ClearCache")
		if code, body := harness.API(t, srv, "POST", "/api/v1/stations/"+station+"/commands/ClearCache", nil, nil); code != 502 || !strings.Contains(body, "NotImplemented") {
			t.Errorf("ClearCache to a peer without a handler: %d %s, want 502 naming NotImplemented", code, body)
		}
		// The neutral get-configuration, said as GetVariables.
		sent = append(sent, "GetVariables")
		if r := harness.Command(t, srv, station, "get-configuration", map[string]any{"keys": []string{"OCPPCommCtrlr.HeartbeatInterval"}}); r.Action != "GetVariables" ||
			!strings.Contains(string(r.Response), `"attributeValue":"300"`) {
			t.Errorf("neutral get-configuration: %+v", r)
		}
		if version == "ocpp2.1" {
			tariff := map[string]any{"evseId": 1, "tariff": map[string]any{"tariffId": "T-NODE-1", "currency": "EUR",
				"description": []any{map[string]any{"format": "UTF8", "language": "en", "content": "0.30 EUR/kWh"}},
				"energy":      map[string]any{"prices": []any{map[string]any{"priceKwh": 0.3}}, "taxRates": []any{map[string]any{"type": "VAT", "tax": 21}}}}}
			if r := command("SetDefaultTariff", tariff); r.Status != "Accepted" {
				t.Errorf("SetDefaultTariff: %s %s", r.Status, r.Response)
			}
			if r := command("GetTariffs", map[string]any{"evseId": 1}); r.Status != "Accepted" || !strings.Contains(string(r.Response), `"tariffId":"T-NODE-1"`) {
				t.Errorf("GetTariffs: %s %s", r.Status, r.Response)
			}
		}
		if r := command("TriggerMessage", map[string]any{"requestedMessage": "TransactionEvent", "evse": map[string]any{"id": 1}}); r.Status != "Accepted" {
			t.Errorf("TriggerMessage: %s %s", r.Status, r.Response)
		}
		harness.Eventually(t, 5*time.Second, func() string {
			if sess, _ := harness.SessionByTx(t, srv, station, txID); sess.EnergyWh != 4000 {
				return fmt.Sprintf("energy after the triggered TransactionEvent: %d, want 4000", sess.EnergyWh)
			}
			return ""
		})
		if r := command("RequestStopTransaction", map[string]any{"transactionId": txID}); r.Status != "Accepted" {
			t.Errorf("RequestStopTransaction: %s %s", r.Status, r.Response)
		}
		harness.Eventually(t, 10*time.Second, func() string {
			if sess, _ := harness.SessionByTx(t, srv, station, txID); sess.Status != "completed" {
				return "session not completed after RequestStopTransaction: " + sess.String()
			}
			return ""
		})
		s.Next()
		ev = s.Expect("done", 30*time.Second)
		s.WaitExit(10 * time.Second)

		var res Result2x
		Decode(t, ev["result"], &res)
		res.CheckClean(t, version)
		if res.MaxInFlight != 1 {
			t.Errorf("the server had %d calls in flight to the station at once; OCPP-J allows one", res.MaxInFlight)
		}
		steps := res.Steps
		if steps.Boot.Status != "Accepted" || steps.Boot.Interval != 300 || steps.Boot.CurrentTime == "" ||
			steps.Heartbeat.CurrentTime == "" || steps.FinalHeartbeat.CurrentTime == "" {
			t.Errorf("boot/heartbeat answers: %+v %+v %+v", steps.Boot, steps.Heartbeat, steps.FinalHeartbeat)
		}
		for name, want := range map[string]string{"accepted": "Accepted", "blocked": "Blocked", "expired": "Expired", "unknown": "Invalid"} {
			if got := steps.Authorize[name].IDTokenInfo.Status; got != want {
				t.Errorf("Authorize %s token: %q, want %q", name, got, want)
			}
		}
		// The transaction events' answers: idTokenInfo when the request
		// had an idToken, and nothing a free session does not have.
		var startInfo struct{ Status string }
		if err := json.Unmarshal(steps.Started["idTokenInfo"], &startInfo); err != nil || startInfo.Status != "Accepted" {
			t.Errorf("TransactionEvent Started answer: %s, want idTokenInfo Accepted", harness.JSON(steps.Started))
		}
		for name, answer := range map[string]map[string]json.RawMessage{"Updated (Charging)": steps.Charging, "Updated (triggered)": steps.Triggered, "Ended": steps.Ended} {
			if answer == nil {
				t.Errorf("TransactionEvent %s: no answer recorded", name)
			} else if _, has := answer["idTokenInfo"]; has {
				t.Errorf("TransactionEvent %s answer %s has idTokenInfo, but the request had no idToken", name, harness.JSON(answer))
			}
		}
		if len(steps.Updated) != 2 || steps.IdleMeterValues == nil || steps.NotifyReport == nil {
			t.Errorf("answers to the metering and the report: %s %s %s", harness.JSON(steps.Updated), harness.JSON(steps.IdleMeterValues), harness.JSON(steps.NotifyReport))
		}
		if steps.DataTransfer.Status != "UnknownVendorId" {
			t.Errorf("DataTransfer with an unknown vendor: %+v, want UnknownVendorId", steps.DataTransfer)
		}
		var methods []string
		for _, r := range res.Received {
			methods = append(methods, r.Method)
		}
		if strings.Join(methods, " ") != strings.Join(sent, " ") {
			t.Errorf("calls the peer received:\n  %v\nwant\n  %v", methods, sent)
		}

		sess, _ := harness.SessionByTx(t, srv, station, txID)
		if sess.Status != "completed" || sess.EnergyWh != steps.MeterStop-20000 || sess.MeterStartWh != 20000 ||
			sess.MeterStopWh == nil || *sess.MeterStopWh != steps.MeterStop || sess.StopReason == nil || *sess.StopReason != "Remote" ||
			sess.StoppedAt == nil || !sameTime(*sess.StoppedAt, steps.StopAt) || sess.IDTag != "NODE2-OK" || sess.ConnectorID != 1 {
			t.Errorf("completed session: %v, want %d Wh (20000 → %d), stopped %s, Remote", sess, steps.MeterStop-20000, steps.MeterStop, steps.StopAt)
		}
		if st := harness.GetStation(t, srv, station); st.ConnectorStatus(1) != "Available" || st.ConnectorStatus(2) != "Available" {
			t.Errorf("connectors after the session: %s", harness.JSON(st.Connectors))
		}
		if version == "ocpp2.1" {
			if steps.Settlement == nil {
				t.Errorf("NotifySettlement: no answer recorded")
			}
			var found bool
			for _, e := range harness.StationEvents(t, srv, station) {
				found = found || e.Kind == "settlement" && e.Type == "Settled" && strings.Contains(e.TechInfo, "PSP-REF-0001")
			}
			if !found {
				t.Errorf("the settlement is not among the station's events: %s", harness.JSON(harness.StationEvents(t, srv, station)))
			}
		}
	})
}

// sameTime compares two RFC 3339 texts as instants.
func sameTime(a, b string) bool {
	x, err1 := time.Parse(time.RFC3339Nano, a)
	y, err2 := time.Parse(time.RFC3339Nano, b)
	return err1 == nil && err2 == nil && x.Equal(y)
}
