package csms_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/chargestar/chargestar/internal/servertest"
)

// TestNeutralCommands: the same version-neutral command reaches a 1.6, a
// 2.0.1 and a 2.1 station as each one's own action and payload, and the
// answer names the action sent.
func TestNeutralCommands(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	op := srv.Operator(t, "Neutral Op")
	type expect struct{ action, payload string }
	cases := []struct {
		command, body string
		v16, v2       expect
	}{
		{"start", `{"connector_id":1,"id_token":"TAG-1"}`,
			expect{"RemoteStartTransaction", `{"connectorId":1,"idTag":"TAG-1"}`},
			expect{"RequestStartTransaction", `"evseId":1,"idToken":{"idToken":"TAG-1","type":"Central"}`}},
		{"stop", `{"transaction_id":"42"}`,
			expect{"RemoteStopTransaction", `{"transactionId":42}`},
			expect{"RequestStopTransaction", `{"transactionId":"42"}`}},
		{"reset", `{"type":"hard"}`, expect{"Reset", `{"type":"Hard"}`}, expect{"Reset", `{"type":"Immediate"}`}},
		{"reset", `{}`, expect{"Reset", `{"type":"Soft"}`}, expect{"Reset", `{"type":"OnIdle"}`}},
		{"unlock", `{"connector_id":2}`, expect{"UnlockConnector", `{"connectorId":2}`}, expect{"UnlockConnector", `{"evseId":2,"connectorId":1}`}},
		{"availability", `{"connector_id":0,"operative":false}`,
			expect{"ChangeAvailability", `{"connectorId":0,"type":"Inoperative"}`},
			expect{"ChangeAvailability", `{"operationalStatus":"Inoperative"}`}},
		{"availability", `{"connector_id":1,"operative":true}`,
			expect{"ChangeAvailability", `{"connectorId":1,"type":"Operative"}`},
			expect{"ChangeAvailability", `"evse":{"id":1}`}},
		{"trigger", `{"message":"DiagnosticsStatusNotification"}`,
			expect{"TriggerMessage", `{"requestedMessage":"DiagnosticsStatusNotification"}`},
			expect{"TriggerMessage", `{"requestedMessage":"LogStatusNotification"}`}},
		{"clear-cache", ``, expect{"ClearCache", `{}`}, expect{"ClearCache", `{}`}},
		{"get-configuration", `{"keys":["OCPPCommCtrlr.HeartbeatInterval"]}`,
			expect{"GetConfiguration", `{"key":["OCPPCommCtrlr.HeartbeatInterval"]}`},
			expect{"GetVariables", `"component":{"name":"OCPPCommCtrlr"},"variable":{"name":"HeartbeatInterval"}`}},
		{"set-configuration", `{"key":"SampledDataCtrlr.TxUpdatedInterval","value":"30"}`,
			expect{"ChangeConfiguration", `{"key":"SampledDataCtrlr.TxUpdatedInterval","value":"30"}`},
			expect{"SetVariables", `"attributeValue":"30","component":{"name":"SampledDataCtrlr"},"variable":{"name":"TxUpdatedInterval"}`}},
	}
	for _, version := range []string{"ocpp1.6", "ocpp2.0.1", "ocpp2.1"} {
		t.Run(version, func(t *testing.T) {
			id := "N-" + strings.ReplaceAll(version, ".", "")
			srv.Station(t, op.ID, id, "")
			st, _, err := srv.Dial(t, id, servertest.DialOptions{Subprotocols: []string{version}})
			if err != nil {
				t.Fatal(err)
			}
			if version == "ocpp1.6" {
				st.Boot()
			} else {
				st.Boot2()
			}
			for _, c := range cases {
				want := c.v2
				if version == "ocpp1.6" {
					want = c.v16
				}
				type result struct {
					code int
					body string
				}
				ch := make(chan result, 1)
				go func() {
					code, body := srv.API(t, "POST", "/api/v1/stations/"+id+"/commands/"+c.command, c.body)
					ch <- result{code, body}
				}()
				call := st.ExpectCall(want.action, 5*time.Second)
				if !strings.Contains(string(call.Payload), want.payload) {
					t.Errorf("%s %s: sent %s %s, want it to contain %s", c.command, c.body, call.Action, call.Payload, want.payload)
				}
				st.Reply(call, replyFor(want.action))
				r := <-ch
				var out struct{ Status, Action string }
				if r.code != 200 || json.Unmarshal([]byte(r.body), &out) != nil || out.Action != want.action {
					t.Errorf("%s: %d %s", c.command, r.code, r.body)
				}
			}
			// Bad parameters are the caller's error, before anything is sent.
			for _, bad := range []struct{ command, body string }{
				{"start", `{"connector_id":1}`},
				{"stop", `{}`},
				{"reset", `{"type":"sideways"}`},
				{"availability", `{"connector_id":1}`},
				{"trigger", `{"message":"Coffee"}`},
				{"unlock", `{"connector_id":-1}`},
				{"start", `{"id_token":"X","colour":"red"}`},
			} {
				if code, body := srv.API(t, "POST", "/api/v1/stations/"+id+"/commands/"+bad.command, bad.body); code != 400 {
					t.Errorf("%s %s: %d %s, want 400", bad.command, bad.body, code, body)
				}
			}
			if version != "ocpp1.6" {
				if code, body := srv.API(t, "POST", "/api/v1/stations/"+id+"/commands/get-configuration", `{}`); code != 400 {
					t.Errorf("get-configuration without keys on 2.x: %d %s", code, body)
				}
			}
		})
	}
	// Unknown session, offline station.
	if code, body := srv.API(t, "POST", "/api/v1/stations/N-ocpp16/commands/stop", `{"session_id":"ses_nope"}`); code != 404 {
		t.Errorf("stop of an unknown session: %d %s", code, body)
	}
	srv.Station(t, op.ID, "N-OFF", "")
	if code, body := srv.API(t, "POST", "/api/v1/stations/N-OFF/commands/reset", `{}`); code != 409 {
		t.Errorf("offline: %d %s", code, body)
	}
}

func replyFor(action string) string {
	switch action {
	case "GetConfiguration":
		return `{"configurationKey":[{"key":"OCPPCommCtrlr.HeartbeatInterval","readonly":false,"value":"300"}]}`
	case "GetVariables":
		return `{"getVariableResult":[{"attributeStatus":"Accepted","attributeValue":"300","component":{"name":"OCPPCommCtrlr"},"variable":{"name":"HeartbeatInterval"}}]}`
	case "SetVariables":
		return `{"setVariableResult":[{"attributeStatus":"Accepted","component":{"name":"SampledDataCtrlr"},"variable":{"name":"TxUpdatedInterval"}}]}`
	case "UnlockConnector":
		return `{"status":"Unlocked"}`
	}
	return `{"status":"Accepted"}`
}
