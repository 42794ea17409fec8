package testutil

import (
	"go/build"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// StripeMockVersion is the stripe-mock the tests are written against
// (.ci/run installs it).
const StripeMockVersion = "v0.203.0"

// StartStripeMock runs the stripe-mock binary on free loopback ports and
// returns its HTTP base URL once it answers. stripe-mock checks every
// request against Stripe's OpenAPI description (paths, parameter names,
// types, enums) and answers with fixtures: it proves our requests are ones
// Stripe accepts, not how Stripe's state machine behaves (the httptest
// fakes cover responses and errors).
func StartStripeMock(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("stripe-mock")
	if err != nil {
		gopath := os.Getenv("GOPATH")
		if gopath == "" {
			gopath = build.Default.GOPATH
		}
		bin = filepath.Join(filepath.SplitList(gopath)[0], "bin", "stripe-mock")
		if _, err := os.Stat(bin); err != nil {
			SkipOrFail(t, "stripe-mock is not installed (go install github.com/stripe/stripe-mock@"+StripeMockVersion+")")
		}
	}
	httpAddr, httpsAddr := freeAddr(t), freeAddr(t)
	// Both listeners on chosen loopback ports: by default stripe-mock also
	// serves HTTPS on :12112 of every interface.
	cmd := exec.Command(bin, "-http-addr", httpAddr, "-https-addr", httpsAddr)
	out, err := os.CreateTemp(t.TempDir(), "stripe-mock-*.log")
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start stripe-mock: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	base := "http://" + httpAddr
	deadline := time.Now().Add(30 * time.Second)
	for {
		req, _ := http.NewRequest(http.MethodGet, base+"/v1/balance", nil)
		req.SetBasicAuth("sk_test_123", "")
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base
			}
		}
		select {
		case err := <-exited:
			log, _ := os.ReadFile(out.Name())
			t.Fatalf("stripe-mock exited: %v\n%s", err, log)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(out.Name())
			t.Fatalf("stripe-mock did not answer on %s within 30 s\n%s", base, log)
		}
	}
}

// freeAddr returns a loopback address with a port free a moment ago.
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return "127.0.0.1:" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}
