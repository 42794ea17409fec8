package ocppgo_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/lorenzodonini/ocpp-go/ocpp"
	ocpp16 "github.com/lorenzodonini/ocpp-go/ocpp1.6"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/certificates"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/core"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/extendedtriggermessage"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/firmware"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/localauth"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/logging"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/remotetrigger"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/reservation"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/securefirmware"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/security"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/smartcharging"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/types"
	"github.com/lorenzodonini/ocpp-go/ocppj"
	"github.com/lorenzodonini/ocpp-go/ws"

	"github.com/chargestar/chargestar/internal/servertest"
)

// tap records every byte the peer's WebSocket client reads from the
// server: the HTTP handshake answer followed by the WebSocket frames. It
// lets a test see exactly what ocpp-go received (the negotiated
// subprotocol, a close frame) without reaching into ocpp-go's internals.
type tap struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

type tapConn struct {
	net.Conn
	t *tap
}

func (c tapConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.t.mu.Lock()
		c.t.buf.Write(p[:n])
		c.t.mu.Unlock()
	}
	return n, err
}

// dialOption returns an ocpp-go ws.Client option that routes the
// connection through the tap.
func (tp *tap) dialOption() func(*websocket.Dialer) {
	return func(d *websocket.Dialer) {
		var nd net.Dialer
		d.NetDialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := nd.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return tapConn{Conn: c, t: tp}, nil
		}
	}
}

func (tp *tap) bytes() []byte {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return append([]byte(nil), tp.buf.Bytes()...)
}

// handshake returns the HTTP status line and headers of the upgrade answer.
func (tp *tap) handshake() (status string, header http.Header, ok bool) {
	b := tp.bytes()
	end := bytes.Index(b, []byte("\r\n\r\n"))
	if end < 0 {
		return "", nil, false
	}
	lines := strings.Split(string(b[:end]), "\r\n")
	header = http.Header{}
	for _, l := range lines[1:] {
		if k, v, found := strings.Cut(l, ":"); found {
			header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
		}
	}
	return lines[0], header, true
}

// closeFrame returns the code and reason of the first close frame the
// server sent (frames from a server are never masked).
func (tp *tap) closeFrame() (code int, reason string, ok bool) {
	b := tp.bytes()
	end := bytes.Index(b, []byte("\r\n\r\n"))
	if end < 0 {
		return 0, "", false
	}
	b = b[end+4:]
	for len(b) >= 2 {
		op := b[0] & 0x0f
		n := int(b[1] & 0x7f)
		h := 2
		switch n {
		case 126:
			if len(b) < 4 {
				return 0, "", false
			}
			n, h = int(binary.BigEndian.Uint16(b[2:4])), 4
		case 127:
			if len(b) < 10 {
				return 0, "", false
			}
			n, h = int(binary.BigEndian.Uint64(b[2:10])), 10
		}
		if len(b) < h+n {
			return 0, "", false
		}
		payload := b[h : h+n]
		if op == 0x8 {
			if len(payload) < 2 {
				return 1005, "", true // no status code
			}
			return int(binary.BigEndian.Uint16(payload)), string(payload[2:]), true
		}
		b = b[h+n:]
	}
	return 0, "", false
}

// peer is an ocpp-go 1.6 charge point connected to the test server. Its
// handlers record every request the Central System sends and answer with
// what the test configured; follow-up messages a real charge point sends
// after answering (status notifications, a transaction start, …) are sent
// from their own goroutine, as ocpp-go handles incoming calls on its read
// loop.
type peer struct {
	t   *testing.T
	id  string
	cp  ocpp16.ChargePoint
	tap *tap

	stopOnce sync.Once

	mu        sync.Mutex
	requests  []ocpp.Request // CSMS→CP requests, in order of arrival
	followErr []error
	follow    sync.WaitGroup

	// answers, by feature name; the handler's default is used when unset.
	answers map[string]ocpp.Response
	// onRequest, when set for a feature, runs (in its own goroutine)
	// after the answer is sent.
	onRequest map[string]func(req ocpp.Request)
}

type peerOptions struct {
	password     string   // Basic auth password (user = station id)
	subprotocols []string // offered before ocpp1.6 (ocpp-go always adds ocpp1.6)
}

func newPeer(t *testing.T, id string, o peerOptions) (*peer, *ws.Client) {
	t.Helper()
	wsc := ws.NewClient()
	cfg := ws.NewClientTimeoutConfig()
	// ocpp-go reconnects on its own after a lost connection; the tests
	// look at single connections, so keep it from retrying meanwhile.
	cfg.RetryBackOffWaitMinimum = time.Hour
	cfg.RetryBackOffRandomRange = 0
	wsc.SetTimeoutConfig(cfg)
	if o.password != "" {
		wsc.SetBasicAuth(id, o.password)
	}
	for _, sp := range o.subprotocols {
		wsc.SetRequestedSubProtocol(sp)
	}
	p := &peer{t: t, id: id, tap: &tap{}, answers: map[string]ocpp.Response{}, onRequest: map[string]func(ocpp.Request){}}
	wsc.AddOption(p.tap.dialOption())
	// The endpoint ocpp16.NewChargePoint would build, with a shorter
	// request timeout so that an unanswered call fails the test quickly.
	dispatcher := ocppj.NewDefaultClientDispatcher(ocppj.NewFIFOClientQueue(0))
	dispatcher.SetTimeout(10 * time.Second)
	endpoint := ocppj.NewClient(id, wsc, dispatcher, nil,
		core.Profile, localauth.Profile, firmware.Profile, reservation.Profile, remotetrigger.Profile, smartcharging.Profile,
		logging.Profile, security.Profile, extendedtriggermessage.Profile, certificates.Profile, securefirmware.Profile)
	p.cp = ocpp16.NewChargePoint(id, endpoint, wsc)
	p.cp.SetCoreHandler(p)
	p.cp.SetFirmwareManagementHandler(p)
	p.cp.SetLocalAuthListHandler(p)
	p.cp.SetReservationHandler(p)
	p.cp.SetRemoteTriggerHandler(p)
	p.cp.SetSmartChargingHandler(p)
	return p, wsc
}

// connect starts the charge point against the server and fails the test
// if the connection is refused.
func connect(t *testing.T, srv *servertest.Server, id string, o peerOptions) *peer {
	t.Helper()
	p, _ := newPeer(t, id, o)
	if err := p.cp.Start(srv.WSURL); err != nil {
		t.Fatalf("%s: ocpp-go charge point could not connect: %v", id, err)
	}
	t.Cleanup(p.stop)
	return p
}

// stop disconnects the charge point (once: ocpp-go panics on a second Stop).
func (p *peer) stop() {
	p.stopOnce.Do(func() {
		p.follow.Wait()
		p.cp.Stop()
	})
}

// record notes a request and returns the configured answer (or def).
func record[T ocpp.Response](p *peer, req ocpp.Request, def T) (T, error) {
	p.mu.Lock()
	p.requests = append(p.requests, req)
	answer, hasAnswer := p.answers[req.GetFeatureName()]
	after := p.onRequest[req.GetFeatureName()]
	p.mu.Unlock()
	if after != nil {
		p.follow.Add(1)
		go func() {
			defer p.follow.Done()
			time.Sleep(10 * time.Millisecond) // let the answer go out first
			after(req)
		}()
	}
	if hasAnswer {
		if a, ok := answer.(T); ok {
			return a, nil
		}
	}
	return def, nil
}

// answer sets the answer of a feature.
func (p *peer) answer(feature string, r ocpp.Response) {
	p.mu.Lock()
	p.answers[feature] = r
	p.mu.Unlock()
}

// then sets what the charge point does after answering a feature.
func (p *peer) then(feature string, f func(req ocpp.Request)) {
	p.mu.Lock()
	p.onRequest[feature] = f
	p.mu.Unlock()
}

// followUp records the error of a follow-up message.
func (p *peer) followUp(what string, err error) {
	if err != nil {
		p.mu.Lock()
		p.followErr = append(p.followErr, fmt.Errorf("%s: %w", what, err))
		p.mu.Unlock()
	}
}

// settle waits for the follow-up messages and fails on their errors.
func (p *peer) settle() {
	p.t.Helper()
	p.follow.Wait()
	p.mu.Lock()
	errs := p.followErr
	p.followErr = nil
	p.mu.Unlock()
	for _, err := range errs {
		p.t.Errorf("%s: follow-up message failed: %v", p.id, err)
	}
}

// last returns the last request received for a feature.
func (p *peer) last(feature string) ocpp.Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := len(p.requests) - 1; i >= 0; i-- {
		if p.requests[i].GetFeatureName() == feature {
			return p.requests[i]
		}
	}
	return nil
}

// Core profile.

func (p *peer) OnChangeAvailability(r *core.ChangeAvailabilityRequest) (*core.ChangeAvailabilityConfirmation, error) {
	return record(p, r, core.NewChangeAvailabilityConfirmation(core.AvailabilityStatusAccepted))
}

func (p *peer) OnChangeConfiguration(r *core.ChangeConfigurationRequest) (*core.ChangeConfigurationConfirmation, error) {
	return record(p, r, core.NewChangeConfigurationConfirmation(core.ConfigurationStatusAccepted))
}

func (p *peer) OnClearCache(r *core.ClearCacheRequest) (*core.ClearCacheConfirmation, error) {
	return record(p, r, core.NewClearCacheConfirmation(core.ClearCacheStatusAccepted))
}

func (p *peer) OnDataTransfer(r *core.DataTransferRequest) (*core.DataTransferConfirmation, error) {
	return record(p, r, core.NewDataTransferConfirmation(core.DataTransferStatusUnknownVendorId))
}

func (p *peer) OnGetConfiguration(r *core.GetConfigurationRequest) (*core.GetConfigurationConfirmation, error) {
	return record(p, r, core.NewGetConfigurationConfirmation(nil))
}

func (p *peer) OnRemoteStartTransaction(r *core.RemoteStartTransactionRequest) (*core.RemoteStartTransactionConfirmation, error) {
	return record(p, r, core.NewRemoteStartTransactionConfirmation(types.RemoteStartStopStatusAccepted))
}

func (p *peer) OnRemoteStopTransaction(r *core.RemoteStopTransactionRequest) (*core.RemoteStopTransactionConfirmation, error) {
	return record(p, r, core.NewRemoteStopTransactionConfirmation(types.RemoteStartStopStatusAccepted))
}

func (p *peer) OnReset(r *core.ResetRequest) (*core.ResetConfirmation, error) {
	return record(p, r, core.NewResetConfirmation(core.ResetStatusAccepted))
}

func (p *peer) OnUnlockConnector(r *core.UnlockConnectorRequest) (*core.UnlockConnectorConfirmation, error) {
	return record(p, r, core.NewUnlockConnectorConfirmation(core.UnlockStatusUnlocked))
}

// Firmware management profile.

func (p *peer) OnGetDiagnostics(r *firmware.GetDiagnosticsRequest) (*firmware.GetDiagnosticsConfirmation, error) {
	return record(p, r, firmware.NewGetDiagnosticsConfirmation())
}

func (p *peer) OnUpdateFirmware(r *firmware.UpdateFirmwareRequest) (*firmware.UpdateFirmwareConfirmation, error) {
	return record(p, r, firmware.NewUpdateFirmwareConfirmation())
}

// Local authorization list profile.

func (p *peer) OnGetLocalListVersion(r *localauth.GetLocalListVersionRequest) (*localauth.GetLocalListVersionConfirmation, error) {
	return record(p, r, localauth.NewGetLocalListVersionConfirmation(0))
}

func (p *peer) OnSendLocalList(r *localauth.SendLocalListRequest) (*localauth.SendLocalListConfirmation, error) {
	return record(p, r, localauth.NewSendLocalListConfirmation(localauth.UpdateStatusAccepted))
}

// Reservation profile.

func (p *peer) OnReserveNow(r *reservation.ReserveNowRequest) (*reservation.ReserveNowConfirmation, error) {
	return record(p, r, reservation.NewReserveNowConfirmation(reservation.ReservationStatusAccepted))
}

func (p *peer) OnCancelReservation(r *reservation.CancelReservationRequest) (*reservation.CancelReservationConfirmation, error) {
	return record(p, r, reservation.NewCancelReservationConfirmation(reservation.CancelReservationStatusAccepted))
}

// Remote trigger profile.

func (p *peer) OnTriggerMessage(r *remotetrigger.TriggerMessageRequest) (*remotetrigger.TriggerMessageConfirmation, error) {
	return record(p, r, remotetrigger.NewTriggerMessageConfirmation(remotetrigger.TriggerMessageStatusAccepted))
}

// Smart charging profile.

func (p *peer) OnSetChargingProfile(r *smartcharging.SetChargingProfileRequest) (*smartcharging.SetChargingProfileConfirmation, error) {
	return record(p, r, smartcharging.NewSetChargingProfileConfirmation(smartcharging.ChargingProfileStatusAccepted))
}

func (p *peer) OnClearChargingProfile(r *smartcharging.ClearChargingProfileRequest) (*smartcharging.ClearChargingProfileConfirmation, error) {
	return record(p, r, smartcharging.NewClearChargingProfileConfirmation(smartcharging.ClearChargingProfileStatusAccepted))
}

func (p *peer) OnGetCompositeSchedule(r *smartcharging.GetCompositeScheduleRequest) (*smartcharging.GetCompositeScheduleConfirmation, error) {
	return record(p, r, smartcharging.NewGetCompositeScheduleConfirmation(smartcharging.GetCompositeScheduleStatusRejected))
}

// Helpers for messages the charge point sends.

func dt(tm time.Time) *types.DateTime { return types.NewDateTime(tm.UTC().Truncate(time.Second)) }

func energy(tm time.Time, value, unit string, ctx types.ReadingContext) types.MeterValue {
	return types.MeterValue{Timestamp: dt(tm), SampledValue: []types.SampledValue{{
		Value: value, Unit: types.UnitOfMeasure(unit), Measurand: types.MeasurandEnergyActiveImportRegister,
		Context: ctx, Location: types.LocationOutlet,
	}}}
}
