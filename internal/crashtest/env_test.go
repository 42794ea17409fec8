package crashtest

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
	buildTime time.Duration
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// binary builds cmd/chargestar once for the package's tests.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		began := time.Now()
		binDir, buildErr = os.MkdirTemp("", "crashtest-bin-")
		if buildErr == nil {
			binPath, buildErr = buildBinary(binDir)
		}
		buildTime = time.Since(began)
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// env is a server process on a fresh database with its operator, tariff
// and stations, and the stations connected to it.
type env struct {
	t          *testing.T
	began      time.Time
	dir        string
	dbPath     string
	logPath    string
	srv        *server
	stationIDs []string
	stations   []*station
	logf       func(format string, args ...any)
}

func newEnv(t *testing.T, nStations int) *env {
	t.Helper()
	e := &env{t: t, began: time.Now()}
	var logMu sync.Mutex
	e.logf = func(format string, args ...any) {
		logMu.Lock()
		defer logMu.Unlock()
		t.Logf("%7.3fs "+format, append([]any{time.Since(e.began).Seconds()}, args...)...)
	}
	bin := binary(t)
	e.logf("server built in %s", buildTime.Round(time.Millisecond))
	e.dir = t.TempDir()
	if *keepFlag {
		d, err := os.MkdirTemp("", "crashtest-")
		if err != nil {
			t.Fatal(err)
		}
		e.dir = d
		t.Logf("keeping the database and log in %s", e.dir)
	}
	e.dbPath = filepath.Join(e.dir, "chargestar.db")
	e.logPath = filepath.Join(e.dir, "server.log")
	e.stationIDs = setup(t, e.dbPath, nStations)

	lf, err := os.Create(e.logPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log (%s), last 80 lines:\n%s", e.logPath, tail(e.logPath, 80))
		}
		lf.Close()
	})
	e.srv = &server{bin: bin, addr: freePort(t), db: e.dbPath, log: &logSink{f: lf}, logf: e.logf}
	if err := e.srv.start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.srv.stop() })
	if err := e.srv.waitHealthy(context.Background(), 30*time.Second); err != nil {
		t.Fatal(err)
	}

	stCtx, stopStations := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, id := range e.stationIDs {
		st := newStation(id, "ws://"+e.srv.addr, e.logf)
		e.stations = append(e.stations, st)
		wg.Add(1)
		go func() { defer wg.Done(); st.run(stCtx) }()
	}
	t.Cleanup(func() { stopStations(); wg.Wait() })
	return e
}
