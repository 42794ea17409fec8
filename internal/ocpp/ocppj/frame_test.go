package ocppj

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestParseValidFrames(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Frame
	}{
		{"call", `[2,"19223201","BootNotification",{"chargePointVendor":"VendorX","chargePointModel":"SingleSocketCharger"}]`,
			Frame{Type: 2, ID: "19223201", Action: "BootNotification", Payload: []byte(`{"chargePointVendor":"VendorX","chargePointModel":"SingleSocketCharger"}`)}},
		{"call with whitespace", " [ 2 ,\n\"a\" ,\t\"Heartbeat\" , { } ] ",
			Frame{Type: 2, ID: "a", Action: "Heartbeat", Payload: []byte(`{ }`)}},
		{"call null payload taken as empty", `[2,"a","Heartbeat",null]`,
			Frame{Type: 2, ID: "a", Action: "Heartbeat", Payload: []byte(`{}`)}},
		{"result", `[3,"19223201",{"status":"Accepted","currentTime":"2013-02-01T20:53:32.486Z","heartbeatInterval":300}]`,
			Frame{Type: 3, ID: "19223201", Payload: []byte(`{"status":"Accepted","currentTime":"2013-02-01T20:53:32.486Z","heartbeatInterval":300}`)}},
		{"error", `[4,"162376037","NotSupported","SetDisplayMessageRequest not implemented",{}]`,
			Frame{Type: 4, ID: "162376037", ErrorCode: "NotSupported", ErrorDescription: "SetDisplayMessageRequest not implemented", ErrorDetails: []byte(`{}`)}},
		{"error without details", `[4,"1","GenericError",""]`,
			Frame{Type: 4, ID: "1", ErrorCode: "GenericError"}},
		{"escaped id", `[2,"a\"b\u00e9\ud83d\ude00","Heartbeat",{}]`,
			Frame{Type: 2, ID: "a\"bé😀", Action: "Heartbeat", Payload: []byte(`{}`)}},
		{"send", `[6,"x","NotifyPeriodicEventStream",{"id":1}]`,
			Frame{Type: 6, ID: "x", Action: "NotifyPeriodicEventStream", Payload: []byte(`{"id":1}`)}},
		{"nested payload", `[2,"1","DataTransfer",{"vendorId":"v","data":"[1,{\"a\":[]}]","x":[1,2,{"b":null}]}]`,
			Frame{Type: 2, ID: "1", Action: "DataTransfer", Payload: []byte(`{"vendorId":"v","data":"[1,{\"a\":[]}]","x":[1,2,{"b":null}]}`)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.in))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got.Type != tt.want.Type || got.ID != tt.want.ID || got.Action != tt.want.Action ||
				string(got.Payload) != string(tt.want.Payload) || got.ErrorCode != tt.want.ErrorCode ||
				got.ErrorDescription != tt.want.ErrorDescription || string(got.ErrorDetails) != string(tt.want.ErrorDetails) {
				t.Fatalf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseInvalidFrames(t *testing.T) {
	tests := []struct {
		name        string
		in          string
		hasID       bool
		id          string
		syntax      bool
		unknownType bool
	}{
		{"empty", ``, false, "", true, false},
		{"not json", `hello`, false, "", true, false},
		{"object", `{"a":1}`, false, "", false, false},
		{"truncated", `[2,"1","Heartbeat",{`, true, "1", true, false},
		{"bad payload json", `[2,"42","Heartbeat",{"a":}]`, true, "42", true, false},
		{"payload not object", `[2,"42","Heartbeat",[]]`, true, "42", false, false},
		{"payload string", `[2,"42","Heartbeat","x"]`, true, "42", false, false},
		{"numeric id", `[2,42,"Heartbeat",{}]`, false, "", false, false},
		{"empty id", `[2,"","Heartbeat",{}]`, false, "", false, false},
		{"missing action", `[2,"7"]`, true, "7", false, false},
		{"action not string", `[2,"7",5,{}]`, true, "7", false, false},
		{"too many elements", `[2,"7","Heartbeat",{},1]`, true, "7", false, false},
		{"trailing data", `[2,"7","Heartbeat",{}] x`, true, "7", true, false},
		{"unknown type", `[9,"7","X",{}]`, true, "7", false, true},
		{"type not number", `["2","7","Heartbeat",{}]`, false, "", false, false},
		{"bad escape", `[2,"a\x","Heartbeat",{}]`, false, "", true, false},
		{"raw control char", "[2,\"a\x01\",\"Heartbeat\",{}]", false, "", true, false},
		{"invalid utf8", "[2,\"a\xff\",\"Heartbeat\",{}]", false, "", true, false},
		{"deep nesting", `[2,"1","X",` + deep(200) + `]`, true, "1", true, false},
		{"leading zero number", `[2,"1","X",{"a":01}]`, true, "1", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.in))
			var fe *FrameError
			if !errors.As(err, &fe) {
				t.Fatalf("want *FrameError, got %v", err)
			}
			if fe.HasID != tt.hasID || fe.ID != tt.id || fe.Syntax != tt.syntax || fe.UnknownType != tt.unknownType {
				t.Fatalf("got %+v, want hasID=%v id=%q syntax=%v unknown=%v", fe, tt.hasID, tt.id, tt.syntax, tt.unknownType)
			}
			if fe.Error() == "" {
				t.Fatal("empty error text")
			}
		})
	}
}

func deep(n int) string {
	s := ""
	for i := 0; i < n; i++ {
		s += `{"a":`
	}
	s += "1"
	for i := 0; i < n; i++ {
		s += "}"
	}
	return s
}

func TestAppendFramesAreValidJSON(t *testing.T) {
	frames := [][]byte{
		AppendCall(nil, "id\"1", "Reset", []byte(`{"type":"Hard"}`)),
		AppendCallResult(nil, "1", nil),
		AppendCallError(nil, TypeCallError, "1", "FormationViolation", "bad \"thing\"\n\x01 \xff", nil),
		AppendSend(nil, "1", "NotifyPeriodicEventStream", []byte(`{}`)),
	}
	for _, f := range frames {
		var v []any
		if err := json.Unmarshal(f, &v); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if _, err := Parse(f); err != nil {
			t.Fatalf("%s does not parse back: %v", f, err)
		}
	}
	got := string(AppendCallError(nil, TypeCallError, "1", "GenericError", "x", nil))
	if got != `[4,"1","GenericError","x",{}]` {
		t.Fatalf("got %s", got)
	}
}

func TestDialectNames(t *testing.T) {
	if got := Dialect16.Name(OccurrenceConstraintViolation); got != "OccurenceConstraintViolation" {
		t.Fatalf("1.6 spelling: %s", got)
	}
	if got := Dialect201.Name(OccurrenceConstraintViolation); got != "OccurrenceConstraintViolation" {
		t.Fatalf("2.0.1 spelling: %s", got)
	}
	if got := Dialect16.Name(FormationViolation); got != "FormationViolation" {
		t.Fatal(got)
	}
	if got := Dialect21.Name(FormationViolation); got != "FormatViolation" {
		t.Fatal(got)
	}
	if got := Dialect16.Name(RPCFrameworkError); got != "ProtocolError" {
		t.Fatalf("1.6 has no RpcFrameworkError: %s", got)
	}
	if Dialect201.Code("OccurenceConstraintViolation") != OccurrenceConstraintViolation || Dialect16.Code("Bogus") != GenericError {
		t.Fatal("Code parsing")
	}
}

func BenchmarkParseCall(b *testing.B) {
	msg := []byte(`[2,"1234567","MeterValues",{"connectorId":1,"transactionId":12,"meterValue":[{"timestamp":"2026-11-24T10:00:00.000Z","sampledValue":[{"value":"12345.6","measurand":"Energy.Active.Import.Register","unit":"Wh","context":"Sample.Periodic"},{"value":"7200","measurand":"Power.Active.Import","unit":"W"},{"value":"230.1","measurand":"Voltage","phase":"L1-N","unit":"V"},{"value":"31.2","measurand":"Current.Import","phase":"L1","unit":"A"}]}]}]`)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(msg); err != nil {
			b.Fatal(err)
		}
	}
}
