package ocppgo_test

import (
	"strings"
	"testing"
	"time"

	ocpp2 "github.com/lorenzodonini/ocpp-go/ocpp2.0.1"
	"github.com/lorenzodonini/ocpp-go/ws"

	"github.com/chargestar/chargestar/interop/ocppgo/harness"
)

// TestOCPP201Negotiation connects ocpp-go's OCPP 2.0.1 charging station,
// which offers only the "ocpp2.0.1" subprotocol.
//
// Note on scope: this release of Charge Star serves OCPP-J 1.6 only
// (server.Protocols lists "ocpp1.6"); OCPP 2.0.1 arrives in a later
// release. Until then the expected behaviour is the one OCPP-J prescribes
// when client and server share no subprotocol (OCPP-J 1.6 and 2.0.1
// Part 4, on the WebSocket subprotocol; RFC 6455 §4.2.2): the server
// completes the WebSocket handshake without a Sec-WebSocket-Protocol
// header and then closes the connection (1002, protocol error), and the
// station never counts as connected. When 2.0.1
// is served, this test is replaced by a full 2.0.1 session with the same
// peer.
func TestOCPP201Negotiation(t *testing.T) {
	harness.Backends(t, func(t *testing.T, pg bool) {
		srv := harness.Start(t, pg)
		op := srv.Operator(t, "Interop Op")
		const id = "OCPPGO-201-1"
		srv.Station(t, op.ID, id, "")

		wsc := ws.NewClient()
		cfg := ws.NewClientTimeoutConfig()
		cfg.RetryBackOffWaitMinimum = time.Hour // no reconnection attempts during the test
		cfg.RetryBackOffRandomRange = 0
		wsc.SetTimeoutConfig(cfg)
		tp := &tap{}
		wsc.AddOption(tp.dialOption())
		cs := ocpp2.NewChargingStation(id, nil, wsc)
		if err := cs.Start(srv.WSURL); err != nil {
			t.Fatalf("the WebSocket handshake must complete even without a common subprotocol: %v", err)
		}
		t.Cleanup(cs.Stop)

		status, h, ok := tp.handshake()
		if !ok || !strings.Contains(status, " 101 ") {
			t.Fatalf("handshake answer: %q", status)
		}
		if sp, present := h["Sec-Websocket-Protocol"]; present {
			t.Fatalf("the server selected subprotocol %q, which the station did not offer (it offered ocpp2.0.1 only)", sp)
		}
		var code int
		var reason string
		harness.Eventually(t, 5*time.Second, func() string {
			var found bool
			if code, reason, found = tp.closeFrame(); !found {
				return "the server did not close the connection"
			}
			return ""
		})
		if code != 1002 {
			t.Errorf("close code %d (%q), want 1002 (protocol error)", code, reason)
		}
		harness.Eventually(t, 5*time.Second, func() string {
			if cs.IsConnected() {
				return "ocpp-go still sees the connection open"
			}
			return ""
		})

		st := harness.GetStation(t, srv, id)
		if st.Connected || st.Protocol != nil || st.Vendor != "" {
			t.Errorf("station after the refused 2.0.1 connection: %s, want not connected, no protocol, never booted", harness.JSON(st))
		}
	})
}

// TestOCPPSubprotocolPreference connects ocpp-go's 1.6 charge point
// offering "ocpp2.0.1, ocpp1.6" (a station able to speak both): the
// server picks the one it serves, and the session works.
func TestOCPPSubprotocolPreference(t *testing.T) {
	srv := harness.Start(t, false)
	op := srv.Operator(t, "Interop Op")
	const id = "OCPPGO-DUAL-1"
	srv.Station(t, op.ID, id, "")
	p := connect(t, srv, id, peerOptions{subprotocols: []string{"ocpp2.0.1"}})
	if _, h, _ := p.tap.handshake(); h.Get("Sec-WebSocket-Protocol") != "ocpp1.6" {
		t.Fatalf("negotiated subprotocol %q, want ocpp1.6", h.Get("Sec-WebSocket-Protocol"))
	}
	if _, err := p.cp.BootNotification("GoModel", "GoVendor"); err != nil {
		t.Fatalf("BootNotification: %v", err)
	}
	if st := harness.GetStation(t, srv, id); st.Protocol == nil || *st.Protocol != "ocpp1.6" || !st.Connected {
		t.Fatalf("station: %s", harness.JSON(st))
	}
}
