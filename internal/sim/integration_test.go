package sim_test

import (
	"context"
	"log/slog"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chargestar/chargestar/internal/model"
	"github.com/chargestar/chargestar/internal/server"
	"github.com/chargestar/chargestar/internal/sim"
	"github.com/chargestar/chargestar/internal/store"
)

const adminToken = "sim-test-admin-token"

// startServer runs a real in-process server on SQLite in a temporary directory.
func startServer(t *testing.T) *server.Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	if os.Getenv("CHARGESTAR_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.Open(ctx, server.Config{
		DB: "sqlite:" + t.TempDir() + "/db", Listener: ln, Logger: log, AdminToken: adminToken, Payments: "sandbox",
		HeartbeatInterval: 10 * time.Second, CallTimeout: 10 * time.Second, PingInterval: time.Minute, MaxMessageSize: 256 << 10,
		ShutdownTimeout: 10 * time.Second,
	})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server: %v", err)
		}
	})
	return srv
}

// serverSpeaks skips the test unless the server advertises every protocol.
func serverSpeaks(t *testing.T, protocols ...string) {
	t.Helper()
	var served []string
	for _, p := range server.Protocols() {
		served = append(served, p.Name)
	}
	for _, p := range protocols {
		if !slices.Contains(served, p) {
			t.Skipf("the server does not speak %s yet (server.Protocols(): %s)", p, strings.Join(served, ", "))
		}
	}
}

// TestFleetAgainstServer runs a few stations through real sessions against
// the real server and checks the stored sessions against what the
// stations metered.
func TestFleetAgainstServer(t *testing.T) { fleetAgainstServer(t, "ocpp1.6") }

// TestFleetAgainstServer201 is TestFleetAgainstServer in OCPP 2.0.1:
// sessions as TransactionEvents, connectors as EVSEs.
func TestFleetAgainstServer201(t *testing.T) {
	serverSpeaks(t, "ocpp2.0.1")
	fleetAgainstServer(t, "ocpp2.0.1")
}

// TestFleetAgainstServer21 is TestFleetAgainstServer in OCPP 2.1.
func TestFleetAgainstServer21(t *testing.T) {
	serverSpeaks(t, "ocpp2.1")
	fleetAgainstServer(t, "ocpp2.1")
}

// TestMixedFleetAgainstServer runs 1.6, 2.0.1 and 2.1 stations side by side.
func TestMixedFleetAgainstServer(t *testing.T) {
	serverSpeaks(t, sim.Protocols...)
	fleetAgainstServer(t, sim.ProtocolMixed)
}

func fleetAgainstServer(t *testing.T, protocol string) {
	srv := startServer(t)
	base := srv.BaseURL()
	fc := sim.FleetConfig{
		Count: 3, IDPrefix: "IT",
		Station: sim.Config{
			URL: "ws" + base[len("http"):] + "/ocpp", Protocol: protocol, Connectors: 2, Mode: sim.ModeSessions,
			PowerKW:         360, // 100 Wh per second: energies large enough to compare exactly
			SessionDuration: 1500 * time.Millisecond, Idle: 200 * time.Millisecond, MeterInterval: 250 * time.Millisecond,
			CallTimeout: 10 * time.Second, Seed: 7,
		},
	}
	ctx := context.Background()
	pr, err := sim.Provision(ctx, sim.ProvisionConfig{APIURL: base, Token: adminToken, StationIDs: sim.FleetIDs(fc), Connectors: 2})
	if err != nil {
		t.Fatal(err)
	}
	if !pr.OperatorCreated || pr.StationsCreated != 3 || pr.TokensCreated != 6 {
		t.Fatalf("provisioning: %+v", pr)
	}
	// Provisioning again finds everything in place.
	pr2, err := sim.Provision(ctx, sim.ProvisionConfig{APIURL: base, Token: adminToken, StationIDs: sim.FleetIDs(fc), Connectors: 2})
	if err != nil || pr2.OperatorID != pr.OperatorID || pr2.StationsExisted != 3 || pr2.TokensExisted != 6 {
		t.Fatalf("provisioning again: %+v, %v", pr2, err)
	}

	var mu sync.Mutex
	records := map[string]sim.SessionRecord{} // by station/transaction
	fc.Station.OnSession = func(r sim.SessionRecord) {
		mu.Lock()
		records[r.StationID+"/"+r.TxID] = r
		mu.Unlock()
	}
	fleet, err := sim.NewFleet(fc)
	if err != nil {
		t.Fatal(err)
	}
	for i, st := range fleet.Stations() {
		if want := sim.FleetProtocols(fc)[i]; st.Protocol() != want {
			t.Fatalf("station %s speaks %s, want %s", st.ID(), st.Protocol(), want)
		}
	}
	fctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		fleet.Run(fctx)
		close(done)
	}()
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	if err := fleet.WaitBooted(wctx, 3); err != nil {
		t.Fatalf("stations did not boot: %v (errors %v)", err, fleet.Stats().Errors())
	}
	cancel()
	time.Sleep(5 * time.Second)
	stop() // running sessions are stopped (reason Local) before the stations leave
	<-done

	stats := fleet.Stats().Snapshot()
	if stats.SessionsCompleted < 6 {
		t.Errorf("%d sessions completed in 5s on 6 connectors, want more", stats.SessionsCompleted)
	}
	if len(stats.Errors) > 0 {
		t.Errorf("errors: %v", stats.Errors)
	}
	var stored []model.Session
	for _, id := range sim.FleetIDs(fc) {
		ss, err := srv.Store.ListSessions(ctx, store.SessionFilter{StationID: id, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		stored = append(stored, ss...)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(stored) != len(records) || int64(len(records)) != stats.SessionsCompleted {
		t.Errorf("%d sessions stored, %d completed by the stations (%d counted)", len(stored), len(records), stats.SessionsCompleted)
	}
	var total int64
	for _, s := range stored {
		r, ok := records[s.StationID+"/"+s.TransactionID]
		if !ok {
			t.Errorf("stored session %s/%s the stations do not know", s.StationID, s.TransactionID)
			continue
		}
		if s.Status != model.SessionCompleted || s.StopSource != model.StopSourceStation {
			t.Errorf("session %s: status %s, stop source %s", s.ID, s.Status, s.StopSource)
		}
		if s.MeterStartWh != r.MeterStartWh || s.MeterStopWh == nil || *s.MeterStopWh != r.MeterStopWh || s.EnergyWh != r.EnergyWh() {
			t.Errorf("session %s: stored start %d stop %v energy %d; station metered %d → %d (%d Wh)",
				s.ID, s.MeterStartWh, s.MeterStopWh, s.EnergyWh, r.MeterStartWh, r.MeterStopWh, r.EnergyWh())
		}
		if s.StopReason != r.Reason || s.ConnectorID != r.ConnectorID || s.IDTag != r.IDTag {
			t.Errorf("session %s: reason %q connector %d tag %q; station said %q %d %q", s.ID, s.StopReason, s.ConnectorID, s.IDTag, r.Reason, r.ConnectorID, r.IDTag)
		}
		// 360 kW: 100 Wh per second of charging, within the meter's jitter.
		secs := r.Stopped.Sub(r.Started).Seconds()
		if want := 100 * secs; float64(s.EnergyWh) < want*0.9-2 || float64(s.EnergyWh) > want*1.1+2 {
			t.Errorf("session %s: %d Wh in %.2fs, want about %.0f", s.ID, s.EnergyWh, secs, want)
		}
		total += s.EnergyWh
	}
	if total != stats.EnergyWh {
		t.Errorf("stored energy %d Wh, stations delivered %d Wh", total, stats.EnergyWh)
	}
}
