package api

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestCommands(t *testing.T) {
	e := newEnv(t, withCommandTimeout(300*time.Millisecond))
	cmd := func(station, action string) string { return "/api/v1/stations/" + station + "/commands/" + action }
	e.run(t, []scenario{
		{name: "accepted", method: "POST", path: cmd(e.a.station, "Reset"), token: e.a.token, body: `{"type":"Hard"}`, status: 200,
			check: func(t *testing.T, r *resp) {
				var res CommandResult
				e.decode(r, &res)
				if res.Status != "Accepted" || string(res.Response) != `{"status":"Accepted"}` {
					t.Errorf("result = %s", r.body)
				}
				calls := e.a.fake.Calls()
				if last := calls[len(calls)-1]; last.action != "Reset" || last.payload != `{"type":"Hard"}` {
					t.Errorf("station got %+v", last)
				}
			}},
		{name: "station's own status passed through", method: "POST", path: cmd(e.a.station, "ChangeAvailability"), token: e.a.token,
			body: `{"connectorId":0,"type":"Inoperative"}`, status: 200,
			check: func(t *testing.T, r *resp) {
				if s := e.object(r)["status"]; s != "Rejected" {
					t.Errorf("status = %v", s)
				}
			}},
		{name: "answer without status is Accepted, response verbatim", method: "POST", path: cmd(e.a.station, "GetConfiguration"), token: e.a.token,
			body: `{}`, status: 200,
			check: func(t *testing.T, r *resp) {
				var res CommandResult
				e.decode(r, &res)
				if res.Status != "Accepted" || !strings.Contains(string(res.Response), `"configurationKey":[{"key":"HeartbeatInterval"`) {
					t.Errorf("result = %s", r.body)
				}
			}},
		{name: "empty body is {}", method: "POST", path: cmd(e.a.station, "ClearCache"), token: e.a.token, status: 200,
			check: func(t *testing.T, r *resp) {
				calls := e.a.fake.Calls()
				if last := calls[len(calls)-1]; last.action != "ClearCache" || last.payload != `{}` {
					t.Errorf("station got %+v", last)
				}
			}},
		{name: "admin may command any station", method: "POST", path: cmd(e.b.station, "Reset"), token: e.admin, body: `{"type":"Soft"}`, status: 200},
		{name: "missing required field", method: "POST", path: cmd(e.a.station, "Reset"), token: e.a.token, body: `{}`, status: 400, code: codeInvalidPayload, msg: "at type"},
		{name: "bad enum value", method: "POST", path: cmd(e.a.station, "Reset"), token: e.a.token, body: `{"type":"Warm"}`, status: 400, code: codeInvalidPayload, msg: `type: value "Warm"`},
		{name: "unknown command", method: "POST", path: cmd(e.a.station, "RequestStartTransaction"), token: e.a.token, body: `{}`, status: 400, code: codeUnknownCommand, msg: "ocpp1.6"},
		{name: "station-sent action is no command", method: "POST", path: cmd(e.a.station, "BootNotification"), token: e.a.token, body: `{}`, status: 400, code: codeUnknownCommand},
		{name: "not an action name", method: "POST", path: cmd(e.a.station, "Re-set"), token: e.a.token, body: `{}`, status: 400, code: codeUnknownCommand},
		{name: "malformed JSON", method: "POST", path: cmd(e.a.station, "Reset"), token: e.a.token, body: `{"type":`, status: 400, code: codeInvalidJSON},
		{name: "not an object", method: "POST", path: cmd(e.a.station, "Reset"), token: e.a.token, body: `"Hard"`, status: 400, code: codeInvalidJSON},
		{name: "too large", method: "POST", path: cmd(e.a.station, "Reset"), token: e.a.token, body: `{"type":"` + strings.Repeat("H", maxBodyBytes) + `"}`, status: 413, code: codeBodyTooLarge},
		{name: "not connected", method: "POST", path: cmd(e.a.idle, "Reset"), token: e.a.token, body: `{"type":"Hard"}`, status: 409, code: codeNotConnected},
		{name: "CALLERROR", method: "POST", path: cmd(e.a.station, "UnlockConnector"), token: e.a.token, body: `{"connectorId":1}`, status: 502, code: codeStationError,
			check: func(t *testing.T, r *resp) {
				if m := r.errorMessage(); !strings.Contains(m, "NotSupported") || !strings.Contains(m, "unlocking is not supported") {
					t.Errorf("message %q lacks the station's code and description", m)
				}
			}},
		{name: "no answer in time", method: "POST", path: cmd(e.a.station, "TriggerMessage"), token: e.a.token, body: `{"requestedMessage":"Heartbeat"}`, status: 504, code: codeStationTimeout},
		{name: "unknown station", method: "POST", path: cmd("CS-NOPE", "Reset"), token: e.a.token, body: `{"type":"Hard"}`, status: 404, code: codeNotFound},
	})
}

// A command to another operator's station answers 404 and never reaches it.
func TestCommandToForeignStationIsNotSent(t *testing.T) {
	e := newEnv(t)
	before := len(e.b.fake.Calls())
	r := e.do("POST", "/api/v1/stations/"+e.b.station+"/commands/Reset", e.a.token, `{"type":"Hard"}`)
	if r.status != 404 || r.errorCode() != codeNotFound {
		t.Fatalf("got %s", r)
	}
	unknown := e.do("POST", "/api/v1/stations/CS-NOPE/commands/Reset", e.a.token, `{"type":"Hard"}`)
	if strings.ReplaceAll(string(r.body), e.b.station, "X") != strings.ReplaceAll(string(unknown.body), "CS-NOPE", "X") {
		t.Errorf("foreign and unknown answers differ: %s / %s", r.body, unknown.body)
	}
	if len(e.b.fake.Calls()) != before {
		t.Error("the command reached the foreign station")
	}
}

func TestCommandResultShape(t *testing.T) {
	e := newEnv(t)
	r := e.mustDo("POST", "/api/v1/stations/"+e.a.station+"/commands/Reset", e.a.token, `{"type":"Soft"}`, 200)
	var m map[string]json.RawMessage
	e.decode(r, &m)
	if len(m) != 2 || string(m["status"]) != `"Accepted"` || string(m["response"]) != `{"status":"Accepted"}` {
		t.Errorf("answer = %s", r.body)
	}
}
