// Package nodepeer runs the npm ocpp-rpc peers of interop/node against a
// test server: a second OCPP implementation we did not write, which in
// strict mode validates every message both ways against JSON schemas —
// its own copy of the 1.6 and 2.0.1 schemas, and for 2.1 the official
// schemas from the shared specification folder (its bundled 2.1
// validator cannot be used; see interop/node/scenario2x.mjs).
//
// This file is the runner, exported so that the mixed-fleet test of the
// parent package can drive a node station beside ocpp-go ones; the
// scenarios' assertions are in this package's tests.
package nodepeer

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chargestar/chargestar/internal/testutil"
)

const installHint = "install Node.js (≥ 18) and the pinned peer with `npm ci --prefix interop/node` from the repository root"

// NodeDir returns the node binary and interop/node, or skips (fails under
// CHARGESTAR_TEST_STRICT=1) when node or the installed ocpp-rpc package is
// missing.
func NodeDir(t testing.TB) (node, dir string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		testutil.SkipOrFail(t, "node not found in PATH: "+installHint)
	}
	dir = filepath.Join(testutil.RepoRoot(), "interop", "node")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "ocpp-rpc", "package.json")); err != nil {
		testutil.SkipOrFail(t, "interop/node/node_modules/ocpp-rpc is missing: "+installHint)
	}
	return node, dir
}

// Schemas21 returns the folder of the official OCPP 2.1 JSON schemas
// (<shared>/ocpp-spec/v21-json), read by the 2.1 node peer at run time;
// it skips (fails under CHARGESTAR_TEST_STRICT=1) when the shared
// specification folder is absent. The schemas are not copied into this
// repository: they are the OCA's, under CC BY-ND 4.0.
func Schemas21(t testing.TB) string {
	t.Helper()
	shared := testutil.SharedDir()
	if shared == "" {
		testutil.SkipOrFail(t, "the shared specification folder (../shared, or CHARGESTAR_SHARED_DIR) is absent: "+
			"the OCPP 2.1 node peer validates against the official 2.1 JSON schemas in <shared>/ocpp-spec/v21-json")
	}
	dir := filepath.Join(shared, "ocpp-spec", "v21-json")
	if _, err := os.Stat(filepath.Join(dir, "TransactionEventRequest.json")); err != nil {
		testutil.SkipOrFail(t, "the OCPP 2.1 JSON schemas are missing from "+dir+": "+err.Error())
	}
	return dir
}

// Script is a running node scenario. It prints one JSON object per line
// ({"event": …}); the Go side reads them in order with Expect and lets
// the scenario go on by writing lines to its stdin (Next).
type Script struct {
	t       testing.TB
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	events  chan map[string]json.RawMessage
	stderr  *syncBuffer
	exited  chan struct{} // closed when node has exited; then waitErr is set
	waitErr error
}

// Run starts `node file` in dir with cfg (JSON) in INTEROP_CONFIG. The
// process is stopped when the test ends.
func Run(t testing.TB, node, dir, file string, cfg any) *Script {
	t.Helper()
	conf, _ := json.Marshal(cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, node, file)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "INTEROP_CONFIG="+string(conf))
	s := &Script{t: t, cmd: cmd, events: make(chan map[string]json.RawMessage, 16), stderr: &syncBuffer{}, exited: make(chan struct{})}
	cmd.Stderr = s.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if s.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting node: %v", err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
		for sc.Scan() {
			var ev map[string]json.RawMessage
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				ev = map[string]json.RawMessage{"event": json.RawMessage(`"stdout"`), "line": mustJSON(sc.Text())}
			}
			s.events <- ev
		}
		close(s.events)
		s.waitErr = cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		s.stdin.Close()
		select {
		case <-s.exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-s.exited
		}
	})
	return s
}

// syncBuffer collects node's stderr while the test may read it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func mustJSON(v any) json.RawMessage { b, _ := json.Marshal(v); return b }

// Expect waits for the event of a name; any other event is a failure.
func (s *Script) Expect(name string, timeout time.Duration) map[string]json.RawMessage {
	s.t.Helper()
	select {
	case ev, ok := <-s.events:
		if !ok {
			s.t.Fatalf("node exited before %q; stderr:\n%s", name, s.stderr)
		}
		var got string
		json.Unmarshal(ev["event"], &got)
		s.t.Logf("node event %s at %s ms", got, ev["elapsedMs"])
		if got != name {
			s.t.Fatalf("node scenario: expected event %q, got %s; stderr:\n%s", name, mustJSON(ev), s.stderr)
		}
		return ev
	case <-time.After(timeout):
		s.t.Fatalf("node scenario: no %q event within %s; stderr:\n%s", name, timeout, s.stderr)
	}
	return nil
}

// Next lets the scenario go on to its next step.
func (s *Script) Next() {
	s.t.Helper()
	if _, err := io.WriteString(s.stdin, "next\n"); err != nil {
		s.t.Fatalf("writing to node: %v; stderr:\n%s", err, s.stderr)
	}
}

// Stderr returns what node wrote to stderr so far.
func (s *Script) Stderr() string { return s.stderr.String() }

// WaitExit fails the test unless node exits successfully within timeout.
func (s *Script) WaitExit(timeout time.Duration) {
	s.t.Helper()
	select {
	case <-s.exited:
		if s.waitErr != nil {
			s.t.Errorf("node exited with %v; stderr:\n%s", s.waitErr, s.stderr)
		}
	case <-time.After(timeout):
		s.t.Errorf("node did not exit after the scenario; stderr:\n%s", s.stderr)
	}
}

// Decode unmarshals an event field, failing the test on error.
func Decode(t testing.TB, raw json.RawMessage, v any) {
	t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("decoding %s: %v", raw, err)
	}
}
