package crashtest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// buildBinary builds cmd/chargestar into dir. The module root is two
// levels up from the test's directory.
func buildBinary(dir string) (string, error) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		return "", fmt.Errorf("module root not found at %s: %w", root, err)
	}
	bin := filepath.Join(dir, "chargestar")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/chargestar")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build ./cmd/chargestar: %w\n%s", err, out)
	}
	return bin, nil
}

// freePort returns a loopback address with a port free at the time.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// logSink is the server's stderr: every instance appends to one file; the
// last line is kept to say what the server was doing when it was killed.
type logSink struct {
	mu   sync.Mutex
	f    *os.File
	part []byte
	last string
}

func (l *logSink) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n, err := l.f.Write(b)
	l.part = append(l.part, b...)
	if i := bytes.LastIndexByte(l.part, '\n'); i >= 0 {
		lines := bytes.Split(l.part[:i], []byte("\n"))
		l.last = string(lines[len(lines)-1])
		l.part = append([]byte(nil), l.part[i+1:]...)
	}
	return n, err
}

func (l *logSink) mark(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.f, "=== crashtest %s: "+format+"\n", append([]any{time.Now().UTC().Format("15:04:05.000")}, args...)...)
}

func (l *logSink) lastLine() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last
}

// server is the chargestar process under test.
type server struct {
	logf func(format string, args ...any)
	bin  string
	addr string
	db   string
	log  *logSink

	lastStart atomic.Int64 // UnixNano of the latest start

	mu       sync.Mutex
	cmd      *exec.Cmd
	exited   chan struct{}
	started  time.Time
	starts   int
	expect   bool     // the test is stopping the running instance
	unwanted []string // exits the test did not cause
}

func (s *server) baseURL() string { return "http://" + s.addr }

// start starts a new instance (the previous one must have exited).
func (s *server) start() error {
	cmd := exec.Command(s.bin, "serve", "--addr", s.addr, "--db", "sqlite:"+s.db, "--log-format", "json", "--log-level", "debug")
	// Nothing of the caller's CHARGESTAR_* settings: the sandbox provider
	// and the defaults are what is tested.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CHARGESTAR_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "CHARGESTAR_ADMIN_TOKEN=crashtest-admin-token")
	cmd.Stdout = s.log
	cmd.Stderr = s.log
	s.mu.Lock()
	defer s.mu.Unlock()
	s.starts++
	s.log.mark("starting instance %d", s.starts)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting the server: %w", err)
	}
	exited := make(chan struct{})
	s.cmd, s.exited, s.started, s.expect = cmd, exited, time.Now(), false
	s.lastStart.Store(s.started.UnixNano())
	n := s.starts
	go func() {
		err := cmd.Wait()
		s.mu.Lock()
		if !s.expect {
			s.unwanted = append(s.unwanted, fmt.Sprintf("instance %d exited on its own: %v", n, err))
		}
		s.mu.Unlock()
		s.log.mark("instance %d exited: %v", n, err)
		close(exited)
	}()
	return nil
}

func killedBy(cmd *exec.Cmd, sig syscall.Signal) bool {
	if cmd.ProcessState == nil {
		return false
	}
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == sig
}

// recoveryDeadline is when whatever was under way at t0 must be done:
// recovery after t0, or after the server's latest start if that is later.
func (s *server) recoveryDeadline(t0 time.Time, bound time.Duration) time.Time {
	last := time.Unix(0, s.lastStart.Load())
	if last.After(t0) {
		t0 = last
	}
	return t0.Add(bound)
}

// waitHealthy waits until /healthz answers 200.
func (s *server) waitHealthy(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: time.Second}
	s.mu.Lock()
	exited := s.exited
	s.mu.Unlock()
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("server exited before it was healthy")
		default:
		}
		resp, err := client.Get(s.baseURL() + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		sleep(ctx, 20*time.Millisecond)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return fmt.Errorf("server not healthy within %s", timeout)
}

// kill SIGKILLs the running instance and waits for it to exit; it returns
// how long the instance had run.
func (s *server) kill() time.Duration {
	s.mu.Lock()
	cmd, exited, started := s.cmd, s.exited, s.started
	s.expect = true
	s.mu.Unlock()
	s.log.mark("SIGKILL pid %d", cmd.Process.Pid)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		s.logf("SIGKILL: %v", err)
	}
	<-exited
	return time.Since(started)
}

// stop stops the running instance gracefully (SIGTERM).
func (s *server) stop() error {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.expect = true
	s.mu.Unlock()
	if cmd == nil {
		return nil
	}
	select {
	case <-exited:
		return nil
	default:
	}
	s.log.mark("SIGTERM pid %d", cmd.Process.Pid)
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-exited
		return fmt.Errorf("server did not stop within 30 s of SIGTERM; killed")
	}
	if cmd.ProcessState != nil && !cmd.ProcessState.Success() && !killedBy(cmd, syscall.SIGTERM) {
		return fmt.Errorf("server exited with %v after SIGTERM", cmd.ProcessState)
	}
	return nil
}

func (s *server) unexpectedExits() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.unwanted...)
}

// tail returns the last n lines of the server's log.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
