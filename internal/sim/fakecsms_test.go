package sim

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/chargestar/chargestar/internal/ocpp"
	"github.com/chargestar/chargestar/internal/ocpp/ocppj"
	"github.com/chargestar/chargestar/internal/ocpp/v16"
)

// fakeCSMS is a minimal OCPP 1.6 central system for testing the station:
// it records every frame, checks every request of the station strictly
// against the schema, answers with fixed, valid payloads and can call the
// station, drop it and refuse it.
type fakeCSMS struct {
	t   testing.TB
	srv *httptest.Server

	mu      sync.Mutex
	frames  []frame // every frame in and out, in wire order per connection
	conns   map[string]*fakeConn
	bootSeq []v16.RegistrationStatus // answers to the first boots; then Accepted
	nextTx  int

	bootInterval int // seconds
	authStatus   v16.AuthorizationStatus
	refuse       atomic.Bool
	connects     atomic.Int64
	password     string
}

// frame is one message seen by the fake.
type frame struct {
	station string
	in      bool // from the station
	typ     int
	id      string
	action  string
	payload json.RawMessage
	at      time.Time
}

type fakeConn struct {
	ws   *websocket.Conn
	rpc  *ocppj.Conn
	done chan struct{}
}

func newFakeCSMS(t testing.TB) *fakeCSMS {
	f := &fakeCSMS{t: t, conns: map[string]*fakeConn{}, bootInterval: 1, authStatus: v16.AuthorizationStatusAccepted, nextTx: 100}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(func() {
		f.mu.Lock()
		for _, c := range f.conns {
			c.ws.CloseNow()
		}
		f.mu.Unlock()
		f.srv.Close()
	})
	return f
}

// url returns the OCPP endpoint for Config.URL.
func (f *fakeCSMS) url() string { return "ws" + strings.TrimPrefix(f.srv.URL, "http") + "/ocpp" }

func (f *fakeCSMS) serve(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimPrefix(r.URL.Path, "/ocpp/")
	if f.refuse.Load() {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	if f.password != "" {
		u, p, ok := r.BasicAuth()
		if !ok || u != id || p != f.password {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
	}
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{"ocpp1.6"}})
	if err != nil {
		return
	}
	if ws.Subprotocol() != "ocpp1.6" {
		ws.Close(websocket.StatusProtocolError, "no subprotocol")
		return
	}
	f.connects.Add(1)
	c := &fakeConn{ws: ws, done: make(chan struct{})}
	c.rpc = ocppj.NewConn(fakeSocket{ws}, ocppj.Options{Handler: &fakeHandler{f: f, station: id}, Observer: &fakeObserver{f: f, station: id}, CallTimeout: 2 * time.Second})
	f.mu.Lock()
	if old := f.conns[id]; old != nil {
		old.ws.CloseNow()
	}
	f.conns[id] = c
	f.mu.Unlock()
	defer close(c.done)
	defer c.rpc.Close()
	ctx := context.Background()
	for {
		_, msg, err := ws.Read(ctx)
		if err != nil {
			return
		}
		if err := c.rpc.HandleMessage(ctx, msg); err != nil {
			return
		}
	}
}

type fakeSocket struct{ ws *websocket.Conn }

func (s fakeSocket) Write(ctx context.Context, msg []byte) error {
	return s.ws.Write(ctx, websocket.MessageText, msg)
}

type fakeObserver struct {
	f       *fakeCSMS
	station string
}

func (o *fakeObserver) Frame(in bool, typ int, id, action string, raw []byte) {
	fr := frame{station: o.station, in: in, typ: typ, id: id, action: action, at: time.Now()}
	if f, err := ocppj.Parse(raw); err == nil {
		fr.payload = append(json.RawMessage(nil), f.Payload...)
	}
	o.f.mu.Lock()
	o.f.frames = append(o.f.frames, fr)
	o.f.mu.Unlock()
}
func (o *fakeObserver) CallHandled(action, outcome string, took time.Duration)   {}
func (o *fakeObserver) CallCompleted(action, outcome string, took time.Duration) {}

type fakeHandler struct {
	f       *fakeCSMS
	station string
}

func (h *fakeHandler) HandleCall(ctx context.Context, action string, payload []byte, dst []byte) ([]byte, error) {
	f := h.f
	info, ok := v16.Action(action)
	if !ok || !info.FromStation {
		f.t.Errorf("station sent unknown or wrong-way action %q", action)
		return nil, ocppj.Errorf(ocppj.NotImplemented, "no")
	}
	req := info.NewRequest()
	if err := req.DecodeOCPP(payload, ocpp.DecodeOptions{DisallowUnknownFields: true}); err != nil {
		f.t.Errorf("station sent an invalid %s: %v\n%s", action, err, payload)
		return nil, ocppj.Errorf(ocppj.FormationViolation, "%v", err)
	}
	now := ocpp.NewDateTime(time.Now())
	var resp ocpp.Message
	f.mu.Lock()
	defer f.mu.Unlock()
	switch action {
	case "BootNotification":
		st := v16.RegistrationStatusAccepted
		if len(f.bootSeq) > 0 {
			st, f.bootSeq = f.bootSeq[0], f.bootSeq[1:]
		}
		resp = &v16.BootNotificationResponse{Status: st, CurrentTime: now, Interval: f.bootInterval}
	case "Heartbeat":
		resp = &v16.HeartbeatResponse{CurrentTime: now}
	case "Authorize":
		resp = &v16.AuthorizeResponse{IDTagInfo: v16.IDTagInfo{Status: f.authStatus}}
	case "StartTransaction":
		f.nextTx++
		resp = &v16.StartTransactionResponse{TransactionID: f.nextTx, IDTagInfo: v16.IDTagInfo{Status: f.authStatus}}
	case "StopTransaction":
		resp = &v16.StopTransactionResponse{IDTagInfo: &v16.IDTagInfo{Status: v16.AuthorizationStatusAccepted}}
	case "DataTransfer":
		resp = &v16.DataTransferResponse{Status: v16.DataTransferStatusAccepted}
	case "SignCertificate":
		resp = &v16.SignCertificateResponse{Status: v16.GenericStatusAccepted}
	default:
		resp = info.NewResponse() // the empty answers
	}
	return resp.AppendOCPP(dst), nil
}

// call sends a command to a station and returns the answer.
func (f *fakeCSMS) call(station, action, payload string) ([]byte, error) {
	f.mu.Lock()
	c := f.conns[station]
	f.mu.Unlock()
	if c == nil {
		return nil, ocppj.ErrClosed
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := c.rpc.Call(ctx, action, []byte(payload))
	return res.Payload, err
}

// mustCall sends a command and decodes the answer strictly.
func (f *fakeCSMS) mustCall(t *testing.T, station, action, payload string) ocpp.Message {
	t.Helper()
	raw, err := f.call(station, action, payload)
	if err != nil {
		t.Fatalf("%s: %v", action, err)
	}
	info, _ := v16.Action(action)
	resp := info.NewResponse()
	if err := resp.DecodeOCPP(raw, ocpp.DecodeOptions{DisallowUnknownFields: true}); err != nil {
		t.Fatalf("%s: station answered with an invalid payload: %v\n%s", action, err, raw)
	}
	return resp
}

// drop closes a station's connection.
func (f *fakeCSMS) drop(station string) {
	f.mu.Lock()
	c := f.conns[station]
	f.mu.Unlock()
	if c != nil {
		c.ws.CloseNow()
		<-c.done
	}
}

// calls returns the CALLs received from a station so far, optionally of some actions only.
func (f *fakeCSMS) calls(station string, actions ...string) []frame {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []frame
	for _, fr := range f.frames {
		if !fr.in || fr.typ != ocppj.TypeCall || fr.station != station {
			continue
		}
		if len(actions) > 0 {
			found := false
			for _, a := range actions {
				found = found || a == fr.action
			}
			if !found {
				continue
			}
		}
		out = append(out, fr)
	}
	return out
}

// allFrames returns a copy of every frame so far.
func (f *fakeCSMS) allFrames() []frame {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]frame(nil), f.frames...)
}

// waitFor waits until cond holds for the calls received from station.
func (f *fakeCSMS) waitFor(t *testing.T, timeout time.Duration, what string, cond func(calls []frame) bool) []frame {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		calls := f.calls(t.Name())
		if cond(calls) {
			return calls
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; calls so far:\n%s", what, describe(calls))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitCount waits for n calls of action from the test's station and returns them all.
func (f *fakeCSMS) waitCount(t *testing.T, timeout time.Duration, action string, n int) []frame {
	t.Helper()
	f.waitFor(t, timeout, fmtCount(n, action), func(calls []frame) bool {
		c := 0
		for _, fr := range calls {
			if fr.action == action {
				c++
			}
		}
		return c >= n
	})
	return f.calls(t.Name(), action)
}

func fmtCount(n int, action string) string {
	b, _ := json.Marshal(map[string]int{action: n})
	return string(b)
}

func describe(calls []frame) string {
	var b strings.Builder
	for _, c := range calls {
		b.WriteString(c.at.Format("15:04:05.000 "))
		b.WriteString(c.action)
		b.WriteByte(' ')
		p := string(c.payload)
		if len(p) > 200 {
			p = p[:200] + "…"
		}
		b.WriteString(p)
		b.WriteByte('\n')
	}
	return b.String()
}

// decode decodes a recorded payload into m (strictly).
func decode[M ocpp.Message](t *testing.T, fr frame, m M) M {
	t.Helper()
	if err := m.DecodeOCPP(fr.payload, ocpp.DecodeOptions{DisallowUnknownFields: true}); err != nil {
		t.Fatalf("%s: %v", fr.action, err)
	}
	return m
}

// startStation runs a station named after the test against the fake.
func startStation(t *testing.T, f *fakeCSMS, cfg Config) *Station {
	t.Helper()
	cfg.URL = f.url()
	if cfg.ID == "" {
		cfg.ID = t.Name()
	}
	if cfg.ReconnectMin == 0 {
		cfg.ReconnectMin = 50 * time.Millisecond
	}
	if cfg.ReconnectMax == 0 {
		cfg.ReconnectMax = 200 * time.Millisecond
	}
	if cfg.RebootDelay == 0 {
		cfg.RebootDelay = 100 * time.Millisecond
	}
	if cfg.StepDelay == 0 {
		cfg.StepDelay = 50 * time.Millisecond
	}
	if cfg.Mode == "" {
		cfg.Mode = ModeIdle
	}
	st, err := NewStation(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		st.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("station did not stop")
		}
	})
	return st
}
