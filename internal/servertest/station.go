package servertest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/chargestar/chargestar/internal/ocpp/ocppj"
)

// Station is a raw OCPP-J station client for tests: it sends exactly what
// the test says and hands every received frame back to the test.
type Station struct {
	t           testing.TB
	ID          string
	Subprotocol string
	ws          *websocket.Conn

	mu       sync.Mutex
	results  map[string]chan ocppj.Frame // answers to our calls, by id
	calls    chan ocppj.Frame            // the server's CALLs
	raw      chan string                 // every frame received, verbatim
	closed   chan struct{}
	closeErr error
	nextID   int
}

// DialOptions tune Dial.
type DialOptions struct {
	Subprotocols []string // default ["ocpp1.6"]
	User         string   // Basic auth user (default: the station id when Password is set)
	Password     string
	NoAuth       bool
}

// Dial connects a station; it returns the HTTP response for refused handshakes.
func (s *Server) Dial(t testing.TB, id string, o DialOptions) (*Station, *http.Response, error) {
	t.Helper()
	if o.Subprotocols == nil {
		o.Subprotocols = []string{"ocpp1.6"}
	}
	h := http.Header{}
	if o.Password != "" && !o.NoAuth {
		user := o.User
		if user == "" {
			user = id
		}
		h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(user+":"+o.Password)))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, resp, err := websocket.Dial(ctx, s.WSURL+"/"+id, &websocket.DialOptions{Subprotocols: o.Subprotocols, HTTPHeader: h})
	if err != nil {
		return nil, resp, err
	}
	ws.SetReadLimit(64 << 20)
	st := &Station{t: t, ID: id, Subprotocol: ws.Subprotocol(), ws: ws, results: map[string]chan ocppj.Frame{},
		calls: make(chan ocppj.Frame, 64), raw: make(chan string, 256), closed: make(chan struct{})}
	go st.readLoop()
	t.Cleanup(func() { ws.CloseNow() })
	return st, resp, nil
}

// Connect dials with the ocpp1.6 subprotocol and fails the test on error.
func (s *Server) Connect(t testing.TB, id string) *Station {
	t.Helper()
	st, _, err := s.Dial(t, id, DialOptions{})
	if err != nil {
		t.Fatalf("dialling %s: %v", id, err)
	}
	return st
}

func (st *Station) readLoop() {
	defer close(st.closed)
	for {
		_, b, err := st.ws.Read(context.Background())
		if err != nil {
			st.mu.Lock()
			st.closeErr = err
			st.mu.Unlock()
			return
		}
		select {
		case st.raw <- string(b):
		default:
		}
		f, perr := ocppj.Parse(b)
		if perr != nil {
			continue
		}
		switch f.Type {
		case ocppj.TypeCall:
			st.calls <- copyFrame(f)
		default:
			st.mu.Lock()
			ch := st.results[f.ID]
			st.mu.Unlock()
			if ch != nil {
				ch <- copyFrame(f)
			}
		}
	}
}

func copyFrame(f ocppj.Frame) ocppj.Frame {
	f.Payload = append([]byte(nil), f.Payload...)
	f.ErrorDetails = append([]byte(nil), f.ErrorDetails...)
	return f
}

// SendRaw writes a message verbatim.
func (st *Station) SendRaw(msg string) {
	st.t.Helper()
	if err := st.ws.Write(context.Background(), websocket.MessageText, []byte(msg)); err != nil {
		st.t.Fatalf("%s: write: %v", st.ID, err)
	}
}

// NextRaw returns the next frame received, verbatim.
func (st *Station) NextRaw(timeout time.Duration) (string, bool) {
	select {
	case m := <-st.raw:
		return m, true
	case <-time.After(timeout):
		return "", false
	}
}

// CallID sends a CALL with a given message id and waits for its answer.
func (st *Station) CallID(id, action, payload string) ocppj.Frame {
	st.t.Helper()
	ch := make(chan ocppj.Frame, 1)
	st.mu.Lock()
	st.results[id] = ch
	st.mu.Unlock()
	defer func() { st.mu.Lock(); delete(st.results, id); st.mu.Unlock() }()
	st.SendRaw(string(ocppj.AppendCall(nil, id, action, []byte(payload))))
	select {
	case f := <-ch:
		return f
	case <-st.closed:
		st.t.Fatalf("%s: connection closed waiting for the answer to %s: %v", st.ID, action, st.closeErr)
	case <-time.After(10 * time.Second):
		st.t.Fatalf("%s: no answer to %s within 10s", st.ID, action)
	}
	return ocppj.Frame{}
}

// Call sends a CALL and returns the answer (CALLRESULT or CALLERROR).
func (st *Station) Call(action, payload string) ocppj.Frame {
	st.t.Helper()
	st.mu.Lock()
	st.nextID++
	id := st.ID + "-" + strconv.Itoa(st.nextID)
	st.mu.Unlock()
	return st.CallID(id, action, payload)
}

// CallOK sends a CALL, requires a CALLRESULT and decodes its payload.
func (st *Station) CallOK(action, payload string) map[string]any {
	st.t.Helper()
	f := st.Call(action, payload)
	if f.Type != ocppj.TypeCallResult {
		st.t.Fatalf("%s: %s answered %s: %s", st.ID, action, f.ErrorCode, f.ErrorDescription)
	}
	var m map[string]any
	if err := json.Unmarshal(f.Payload, &m); err != nil {
		st.t.Fatalf("%s: %s answer is not a JSON object: %s", st.ID, action, f.Payload)
	}
	return m
}

// CallError sends a CALL and requires a CALLERROR with the given code.
func (st *Station) CallError(action, payload, wantCode string) ocppj.Frame {
	st.t.Helper()
	f := st.Call(action, payload)
	if f.Type != ocppj.TypeCallError || f.ErrorCode != wantCode {
		st.t.Fatalf("%s: %s: want CALLERROR %s, got type %d %s %s %s", st.ID, action, wantCode, f.Type, f.ErrorCode, f.ErrorDescription, f.Payload)
	}
	return f
}

// ExpectCall waits for the server to send a CALL of the given action.
func (st *Station) ExpectCall(action string, timeout time.Duration) ocppj.Frame {
	st.t.Helper()
	select {
	case f := <-st.calls:
		if f.Action != action {
			st.t.Fatalf("%s: expected a %s CALL, got %s %s", st.ID, action, f.Action, f.Payload)
		}
		return f
	case <-time.After(timeout):
		st.t.Fatalf("%s: no %s CALL within %s", st.ID, action, timeout)
	}
	return ocppj.Frame{}
}

// Reply answers a server CALL with a CALLRESULT.
func (st *Station) Reply(call ocppj.Frame, payload string) {
	st.t.Helper()
	st.SendRaw(string(ocppj.AppendCallResult(nil, call.ID, []byte(payload))))
}

// ReplyError answers a server CALL with a CALLERROR.
func (st *Station) ReplyError(call ocppj.Frame, code, desc string) {
	st.t.Helper()
	st.SendRaw(string(ocppj.AppendCallError(nil, ocppj.TypeCallError, call.ID, code, desc, nil)))
}

// Boot sends a BootNotification and requires Accepted.
func (st *Station) Boot() map[string]any {
	st.t.Helper()
	m := st.CallOK("BootNotification", `{"chargePointVendor":"TestVendor","chargePointModel":"TestModel","chargePointSerialNumber":"SN-`+st.ID+`","firmwareVersion":"1.0.0"}`)
	if m["status"] != "Accepted" {
		st.t.Fatalf("%s: boot status %v", st.ID, m["status"])
	}
	return m
}

// Boot2 sends an OCPP 2.x BootNotification and requires Accepted.
func (st *Station) Boot2() map[string]any {
	st.t.Helper()
	m := st.CallOK("BootNotification", `{"reason":"PowerUp","chargingStation":{"vendorName":"TestVendor","model":"TestModel2","serialNumber":"SN-`+st.ID+`","firmwareVersion":"2.0.0"}}`)
	if m["status"] != "Accepted" {
		st.t.Fatalf("%s: boot status %v", st.ID, m["status"])
	}
	return m
}

// Close closes the connection normally.
func (st *Station) Close() { st.ws.Close(websocket.StatusNormalClosure, "bye") }

// Drop closes the TCP connection without a close handshake (a station losing its network).
func (st *Station) Drop() { st.ws.CloseNow() }

// WaitClosed waits until the server closes the connection and returns the close status.
func (st *Station) WaitClosed(timeout time.Duration) websocket.StatusCode {
	st.t.Helper()
	select {
	case <-st.closed:
		st.mu.Lock()
		defer st.mu.Unlock()
		return websocket.CloseStatus(st.closeErr)
	case <-time.After(timeout):
		st.t.Fatalf("%s: connection not closed within %s", st.ID, timeout)
	}
	return -1
}

// Closed reports whether the connection is closed.
func (st *Station) Closed() bool {
	select {
	case <-st.closed:
		return true
	default:
		return false
	}
}
