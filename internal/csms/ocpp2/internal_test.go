package ocpp2

import (
	"bytes"
	"os"
	"os/exec"
	"testing"

	"github.com/chargestar/chargestar/internal/ocpp"
	"github.com/chargestar/chargestar/internal/ocpp/v201"
	"github.com/chargestar/chargestar/internal/ocpp/v21"
)

// TestAcknowledgedAnswersAreValid: every fixed answer is a valid response
// of its action in its version, strictly.
func TestAcknowledgedAnswersAreValid(t *testing.T) {
	check := func(version string, answers map[string]string, lookup func(string) (ocpp.ActionInfo, bool)) {
		for action, answer := range answers {
			info, ok := lookup(action)
			if !ok || !info.FromStation {
				t.Errorf("%s %s: not a station message", version, action)
				continue
			}
			if info.NewResponse == nil {
				continue // a SEND: nothing is answered
			}
			if err := info.NewResponse().DecodeOCPP([]byte(answer), ocpp.DecodeOptions{DisallowUnknownFields: true}); err != nil {
				t.Errorf("%s %s answer %s: %v", version, action, answer, err)
			}
		}
	}
	check("2.0.1", acknowledgedV201, v201.Action)
	check("2.1", acknowledgedV21, v21.Action)
}

// TestEveryStationMessageAnswered: no message a station may send falls
// through to NotImplemented.
func TestEveryStationMessageAnswered(t *testing.T) {
	handled := func(src string) map[string]bool {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]bool{}
		for _, line := range bytes.Split(b, []byte("\n")) {
			line = bytes.TrimSpace(line)
			if bytes.HasPrefix(line, []byte(`case "`)) {
				m[string(bytes.Trim(bytes.TrimSuffix(bytes.TrimPrefix(line, []byte("case ")), []byte(":")), `"`))] = true
			}
		}
		return m
	}
	h201, h21 := handled("v201.go"), handled("v21.go")
	for _, info := range v201.Actions() {
		name := info.Name
		if info.FromStation && !h201[name] && acknowledgedV201[name] == "" {
			t.Errorf("2.0.1 %s is not handled", name)
		}
	}
	for _, info := range v21.Actions() {
		name := info.Name
		if info.FromStation && !h201[name] && !h21[name] && acknowledgedV21[name] == "" {
			t.Errorf("2.1 %s is not handled", name)
		}
	}
}

// TestGeneratedUpToDate: v21_gen.go is what gen21 makes of v201.go.
func TestGeneratedUpToDate(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile("v201.go")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir+"/v201.go", src, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "run", "./gen21", dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gen21: %v\n%s", err, out)
	}
	want, _ := os.ReadFile(dir + "/v21_gen.go")
	got, _ := os.ReadFile("v21_gen.go")
	if !bytes.Equal(want, got) {
		t.Fatal("v21_gen.go is stale: run go generate ./internal/csms/ocpp2")
	}
}
