package ocppgo_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/lorenzodonini/ocpp-go/ocpp1.6/core"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/types"
	"github.com/lorenzodonini/ocpp-go/ws"

	"github.com/chargestar/chargestar/internal/model"
	"github.com/chargestar/chargestar/internal/servertest"
	"github.com/chargestar/chargestar/interop/ocppgo/harness"
)

// TestOCPP16Reconnect: a charge point loses its connection during a
// transaction and reconnects (a new ocpp-go instance, as after a modem
// reset); it reports the stop on the new connection and the session is
// completed. A second connection with the same identity replaces the first.
func TestOCPP16Reconnect(t *testing.T) {
	harness.Backends(t, func(t *testing.T, pg bool) {
		srv := harness.Start(t, pg)
		op := srv.Operator(t, "Interop Op")
		const id = "OCPPGO-16-RECON"
		srv.Station(t, op.ID, id, "")
		srv.IDToken(t, op.ID, "GO-ACCEPTED", model.TokenAccepted, nil)

		p1 := connect(t, srv, id, peerOptions{})
		if _, err := p1.cp.BootNotification("GoModel", "GoVendor"); err != nil {
			t.Fatalf("BootNotification: %v", err)
		}
		t0 := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
		// OCPP 1.6 id tags are CiString20Type: case-insensitive.
		start, err := p1.cp.StartTransaction(1, "go-accepted", 1000, dt(t0))
		if err != nil || start.IdTagInfo.Status != types.AuthorizationStatusAccepted {
			t.Fatalf("StartTransaction with the tag in lower case: %s %v, want Accepted", harness.JSON(start), err)
		}
		txID := start.TransactionId

		// The same identity connects again while the first connection is
		// up: the new one replaces the old, which the server closes.
		p2 := connect(t, srv, id, peerOptions{})
		var code int
		harness.Eventually(t, 5*time.Second, func() string {
			var ok bool
			if code, _, ok = p1.tap.closeFrame(); !ok {
				return "the first connection was not closed when the second arrived"
			}
			return ""
		})
		if code != 1008 && code != 1000 && code != 1001 {
			t.Errorf("the replaced connection was closed with %d", code)
		}
		p1.stop()

		if _, err := p2.cp.BootNotification("GoModel", "GoVendor"); err != nil {
			t.Fatalf("BootNotification on the new connection: %v", err)
		}
		// Meter values and the stop of the transaction begun on the old connection.
		if _, err := p2.cp.MeterValues(1, []types.MeterValue{energy(t0.Add(10*time.Minute), "1.8", "kWh", types.ReadingContextSamplePeriodic)},
			func(r *core.MeterValuesRequest) { r.TransactionId = &txID }); err != nil {
			t.Fatalf("MeterValues on the new connection: %v", err)
		}
		if s, _ := harness.SessionByTx(t, srv, id, strconv.Itoa(txID)); s.Status != "active" || s.EnergyWh != 800 {
			t.Fatalf("session after meter values on the new connection: %v, want active with 800 Wh", s)
		}
		if _, err := p2.cp.StopTransaction(2200, dt(t0.Add(20*time.Minute)), txID, func(r *core.StopTransactionRequest) { r.Reason = core.ReasonPowerLoss }); err != nil {
			t.Fatalf("StopTransaction on the new connection: %v", err)
		}
		s, _ := harness.SessionByTx(t, srv, id, strconv.Itoa(txID))
		if s.Status != "completed" || s.EnergyWh != 1200 || s.StopReason == nil || *s.StopReason != "PowerLoss" || s.IDTag == "" {
			t.Fatalf("session stopped on the new connection: %v, want completed, 1200 Wh, PowerLoss", s)
		}
		if st := harness.GetStation(t, srv, id); !st.Connected {
			t.Fatalf("station not connected after the reconnection: %s", harness.JSON(st))
		}
	})
}

// TestOCPP16KeepAlive: ocpp-go pings the server and expects a pong within
// its PongWait (it drops the connection otherwise), and the server pings a
// silent station; with both at a short interval the connection survives
// several rounds without any OCPP traffic.
func TestOCPP16KeepAlive(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{PingInterval: time.Second})
	op := srv.Operator(t, "Interop Op")
	const id = "OCPPGO-16-PING"
	srv.Station(t, op.ID, id, "")

	p, wsc := newPeer(t, id, peerOptions{})
	cfg := ws.NewClientTimeoutConfig()
	cfg.RetryBackOffWaitMinimum = time.Hour
	cfg.RetryBackOffRandomRange = 0
	cfg.PingPeriod = 300 * time.Millisecond
	cfg.PongWait = 1500 * time.Millisecond
	wsc.SetTimeoutConfig(cfg)
	if err := p.cp.Start(srv.WSURL); err != nil {
		t.Fatalf("connecting: %v", err)
	}
	t.Cleanup(p.stop)
	if _, err := p.cp.BootNotification("GoModel", "GoVendor"); err != nil {
		t.Fatalf("BootNotification: %v", err)
	}
	time.Sleep(2500 * time.Millisecond) // two server pings, eight client pings, no OCPP message
	if !p.cp.IsConnected() {
		t.Fatalf("ocpp-go dropped the connection: pongs missing")
	}
	if _, err := p.cp.Heartbeat(); err != nil {
		t.Fatalf("Heartbeat after the idle period: %v", err)
	}
	if st := harness.GetStation(t, srv, id); !st.Connected {
		t.Fatalf("the server dropped the station: %s", harness.JSON(st))
	}
}
