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
	"github.com/chargestar/chargestar/internal/ocpp/v201"
	"github.com/chargestar/chargestar/internal/ocpp/v21"
)

// fakeCSMS is a minimal OCPP central system for testing the station,
// speaking 1.6, 2.0.1 and 2.1 (whichever the station asks for): it
// records every frame, checks every request of the station strictly
// against its version's schema, answers with fixed, valid payloads and
// can call the station, drop it and refuse it.
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
	// txAnswer, when set, answers a 2.x TransactionEvent (a JSON payload;
	// "" for the default answer).
	txAnswer func(station string, req *txEventReq2) string
	refuse   atomic.Bool
	connects atomic.Int64
	password string
}

// frame is one message seen by the fake.
type frame struct {
	station string
	version string // the connection's subprotocol
	in      bool   // from the station
	typ     int
	id      string
	action  string
	payload json.RawMessage
	at      time.Time
}

type fakeConn struct {
	ws      *websocket.Conn
	rpc     *ocppj.Conn
	version string
	done    chan struct{}
}

// fakeVersions are the subprotocols of the fake, with their action tables
// and RPC dialects.
var fakeVersions = map[string]struct {
	action  func(string) (ocpp.ActionInfo, bool)
	dialect *ocppj.Dialect
}{
	"ocpp1.6":   {v16.Action, ocppj.Dialect16},
	"ocpp2.0.1": {v201.Action, ocppj.Dialect201},
	"ocpp2.1":   {v21.Action, ocppj.Dialect21},
}

// versions2x are the 2.x protocols; 2.x tests run once for each.
var versions2x = []string{"ocpp2.0.1", "ocpp2.1"}

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
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{"ocpp1.6", "ocpp2.0.1", "ocpp2.1"}})
	if err != nil {
		return
	}
	version := ws.Subprotocol()
	if version == "" {
		ws.Close(websocket.StatusProtocolError, "no subprotocol")
		return
	}
	f.connects.Add(1)
	c := &fakeConn{ws: ws, version: version, done: make(chan struct{})}
	c.rpc = ocppj.NewConn(fakeSocket{ws}, ocppj.Options{Dialect: fakeVersions[version].dialect, Handler: &fakeHandler{f: f, station: id, version: version},
		Observer: &fakeObserver{f: f, station: id, version: version}, CallTimeout: 2 * time.Second})
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
	version string
}

func (o *fakeObserver) Frame(in bool, typ int, id, action string, raw []byte) {
	fr := frame{station: o.station, version: o.version, in: in, typ: typ, id: id, action: action, at: time.Now()}
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
	version string
}

func (h *fakeHandler) HandleCall(ctx context.Context, action string, payload []byte, dst []byte) ([]byte, error) {
	if h.version != "ocpp1.6" {
		return h.handle2x(action, payload, dst)
	}
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

// handle2x answers a 2.0.1 or 2.1 station.
func (h *fakeHandler) handle2x(action string, payload []byte, dst []byte) ([]byte, error) {
	f := h.f
	info, ok := fakeVersions[h.version].action(action)
	if !ok || !info.FromStation {
		f.t.Errorf("station sent unknown or wrong-way %s action %q", h.version, action)
		return nil, ocppj.Errorf(ocppj.NotImplemented, "no")
	}
	if err := info.NewRequest().DecodeOCPP(payload, ocpp.DecodeOptions{DisallowUnknownFields: true}); err != nil {
		f.t.Errorf("station sent an invalid %s %s: %v\n%s", h.version, action, err, payload)
		return nil, ocppj.Errorf(ocppj.FormationViolation, "%v", err)
	}
	now := ocpp.NewDateTime(time.Now())
	var resp any
	f.mu.Lock()
	switch action {
	case "BootNotification":
		st := v16.RegistrationStatusAccepted
		if len(f.bootSeq) > 0 {
			st, f.bootSeq = f.bootSeq[0], f.bootSeq[1:]
		}
		resp = map[string]any{"status": st, "currentTime": now, "interval": f.bootInterval}
	case "Heartbeat":
		resp = map[string]any{"currentTime": now}
	case "Authorize":
		resp = authorizeResp2{IDTokenInfo: idTokenInfo2{Status: string(f.authStatus)}}
	case "TransactionEvent":
		var req txEventReq2
		json.Unmarshal(payload, &req)
		var answer string
		if f.txAnswer != nil {
			answer = f.txAnswer(h.station, &req)
		}
		switch {
		case answer != "":
			resp = json.RawMessage(answer)
		case req.IDToken != nil:
			resp = txEventResp2{IDTokenInfo: &idTokenInfo2{Status: string(f.authStatus)}}
		default:
			resp = struct{}{}
		}
	default:
		resp = struct{}{} // the empty answers
	}
	f.mu.Unlock()
	b, _ := json.Marshal(resp)
	if err := info.NewResponse().DecodeOCPP(b, ocpp.DecodeOptions{DisallowUnknownFields: true}); err != nil {
		f.t.Errorf("the fake built an invalid %s %s answer: %v\n%s", h.version, action, err, b)
	}
	return append(dst, b...), nil
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

// version returns the subprotocol of a station's connection.
func (f *fakeCSMS) version(station string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c := f.conns[station]; c != nil {
		return c.version
	}
	return ""
}

// mustCall sends a command and decodes the answer strictly into the
// generated response type of the connection's version.
func (f *fakeCSMS) mustCall(t *testing.T, station, action, payload string) ocpp.Message {
	t.Helper()
	resp, _ := f.mustCallRaw(t, station, action, payload)
	return resp
}

// mustCall2 sends a command to a 2.x station, checks the answer strictly
// against the connection's version and reads it into out.
func (f *fakeCSMS) mustCall2(t *testing.T, station, action, payload string, out any) {
	t.Helper()
	_, raw := f.mustCallRaw(t, station, action, payload)
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("%s: %v", action, err)
	}
}

func (f *fakeCSMS) mustCallRaw(t *testing.T, station, action, payload string) (ocpp.Message, []byte) {
	t.Helper()
	version := f.version(station)
	raw, err := f.call(station, action, payload)
	if err != nil {
		t.Fatalf("%s: %v", action, err)
	}
	info, ok := fakeVersions[version].action(action)
	if !ok {
		t.Fatalf("%s is no %s action", action, version)
	}
	resp := info.NewResponse()
	if err := resp.DecodeOCPP(raw, ocpp.DecodeOptions{DisallowUnknownFields: true}); err != nil {
		t.Fatalf("%s: station answered with an invalid payload: %v\n%s", action, err, raw)
	}
	return resp, raw
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
		calls := f.calls(testStationID(t))
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
	return f.calls(testStationID(t), action)
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

// decode2 checks a recorded 2.x payload strictly against its version's
// schema and reads it into out.
func decode2[T any](t *testing.T, fr frame, out *T) *T {
	t.Helper()
	info, ok := fakeVersions[fr.version].action(fr.action)
	if !ok {
		t.Fatalf("%s is no %s action", fr.action, fr.version)
	}
	m := info.NewRequest()
	if fr.typ != ocppj.TypeCall {
		m = info.NewResponse()
	}
	if err := m.DecodeOCPP(fr.payload, ocpp.DecodeOptions{DisallowUnknownFields: true}); err != nil {
		t.Fatalf("%s: %v", fr.action, err)
	}
	if err := json.Unmarshal(fr.payload, out); err != nil {
		t.Fatalf("%s: %v", fr.action, err)
	}
	return out
}

// testStationID is the id of a test's station: its name, without the
// slashes of subtests.
func testStationID(t testing.TB) string { return strings.ReplaceAll(t.Name(), "/", "_") }

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
		cfg.ID = testStationID(t)
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
