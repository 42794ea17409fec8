package ocppj

import (
	"encoding/json"
	"errors"
	"testing"
	"unicode/utf8"
)

// FuzzParse checks that Parse never panics, that what it accepts is valid
// JSON of the right shape, and that what it accepts re-encodes to a frame
// that parses to the same thing.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`[2,"1","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}]`,
		`[3,"1",{"status":"Accepted"}]`,
		`[4,"1","NotImplemented","",{}]`,
		`[5,"1","GenericError","x",{}]`,
		`[6,"1","NotifyPeriodicEventStream",{}]`,
		`[2,"\u00e9","X",null]`,
		`[9,"1"]`, `[`, `]`, `"`, `[2,"1","A",{"a":[1,2,{"b":"\ud83d\ude00"}]}]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fr, err := Parse(data)
		if err != nil {
			var fe *FrameError
			if !errors.As(err, &fe) {
				t.Fatalf("error is not a FrameError: %T", err)
			}
			if fe.Syntax && json.Valid(data) && utf8.Valid(data) {
				t.Fatalf("valid JSON reported as syntax error: %q", data)
			}
			return
		}
		if !json.Valid(data) {
			t.Fatalf("accepted invalid JSON: %q", data)
		}
		var out []byte
		switch fr.Type {
		case TypeCall:
			out = AppendCall(nil, fr.ID, fr.Action, fr.Payload)
		case TypeSend:
			out = AppendSend(nil, fr.ID, fr.Action, fr.Payload)
		case TypeCallResult:
			out = AppendCallResult(nil, fr.ID, fr.Payload)
		case TypeCallError, TypeCallResultError:
			out = AppendCallError(nil, fr.Type, fr.ID, fr.ErrorCode, fr.ErrorDescription, fr.ErrorDetails)
		default:
			t.Fatalf("accepted unknown type %d", fr.Type)
		}
		back, err := Parse(out)
		if err != nil {
			t.Fatalf("re-encoded frame %q does not parse: %v", out, err)
		}
		if back.Type != fr.Type || back.Action != fr.Action || string(back.Payload) != string(fr.Payload) ||
			back.ErrorCode != fr.ErrorCode || back.ErrorDescription != fr.ErrorDescription {
			t.Fatalf("round trip changed the frame: %+v -> %+v", fr, back)
		}
		// Ids with invalid UTF-8 are replaced on encoding; others survive.
		if back.ID != fr.ID && jsonValidString(fr.ID) {
			t.Fatalf("id changed: %q -> %q", fr.ID, back.ID)
		}
	})
}

func jsonValidString(s string) bool {
	b, _ := json.Marshal(s)
	var back string
	return json.Unmarshal(b, &back) == nil && back == s
}
