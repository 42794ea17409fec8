package v201

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/chargestar/chargestar/internal/testutil"
)

// TestGeneratedCodeIsUpToDate regenerates the package into a temporary
// folder and compares it byte for byte with the committed files.
func TestGeneratedCodeIsUpToDate(t *testing.T) {
	shared := testutil.RequireSharedDir(t)
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	tmp := t.TempDir()
	cmd := exec.Command(goBin, "run", "../ocppgen", "-version", "v201",
		"-spec", filepath.Join(shared, "ocpp-spec", "v201-json"), "-out", tmp)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ocppgen: %v\n%s", err, out)
	}
	want, _ := filepath.Glob(filepath.Join(tmp, "*_gen.go"))
	have, _ := filepath.Glob("*_gen.go")
	if len(want) == 0 || len(want) != len(have) {
		t.Fatalf("generated files %v, committed files %v", want, have)
	}
	for _, w := range want {
		gen, err := os.ReadFile(w)
		if err != nil {
			t.Fatal(err)
		}
		cur, err := os.ReadFile(filepath.Base(w))
		if err != nil {
			t.Fatalf("%s is not committed: %v", filepath.Base(w), err)
		}
		if !bytes.Equal(gen, cur) {
			t.Errorf("%s is stale: run go generate ./internal/ocpp/...", filepath.Base(w))
		}
	}
}
