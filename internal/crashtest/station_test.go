package crashtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// station is a simulated OCPP 1.6-J charge point with one connector. It
// keeps a connection to the server, reconnecting whenever it breaks (the
// server was killed), boots on every new connection, answers the server's
// calls (RemoteStartTransaction, RemoteStopTransaction) and lets its
// driver send transaction messages with call, which re-sends a message
// that got no answer after the next reconnection, as OCPP requires.
type station struct {
	id     string
	url    string // ws://host:port/ocpp/ID
	logf   func(format string, args ...any)
	remote chan string // new idTags of accepted RemoteStartTransactions

	inTx atomic.Bool // a transaction is open (for the StatusNotification at boot)
	// stall, when set, makes the next RemoteStartTransaction go
	// unanswered (a slow station): its idTag is sent here instead.
	stall atomic.Pointer[chan string]

	mu      sync.Mutex
	cur     *stconn       // the booted connection, nil while there is none
	ready   chan struct{} // closed when cur is set; replaced when it breaks
	seen    map[string]bool
	nextID  int
	reconns int
	resends int
	callErr int
}

// stconn is one WebSocket connection of a station.
type stconn struct {
	ws      *websocket.Conn
	closed  chan struct{}
	mu      sync.Mutex
	pending map[string]chan frame
}

// frame is an OCPP-J message: [2,id,action,payload], [3,id,payload] or
// [4,id,code,description,details].
type frame struct {
	typ     int
	id      string
	action  string
	payload json.RawMessage
	errCode string
	errDesc string
}

func parseFrame(b []byte) (frame, error) {
	var parts []json.RawMessage
	if err := json.Unmarshal(b, &parts); err != nil || len(parts) < 3 {
		return frame{}, fmt.Errorf("not an OCPP-J frame: %s", b)
	}
	var f frame
	if err := json.Unmarshal(parts[0], &f.typ); err != nil {
		return f, err
	}
	if err := json.Unmarshal(parts[1], &f.id); err != nil {
		return f, err
	}
	switch f.typ {
	case 2:
		if len(parts) < 4 {
			return f, fmt.Errorf("short CALL: %s", b)
		}
		_ = json.Unmarshal(parts[2], &f.action)
		f.payload = parts[3]
	case 3:
		f.payload = parts[2]
	case 4:
		_ = json.Unmarshal(parts[2], &f.errCode)
		if len(parts) > 3 {
			_ = json.Unmarshal(parts[3], &f.errDesc)
		}
	default:
		return f, fmt.Errorf("unknown message type %d", f.typ)
	}
	return f, nil
}

func newStation(id, baseWS string, logf func(string, ...any)) *station {
	return &station{id: id, url: baseWS + "/ocpp/" + id, logf: logf, remote: make(chan string, 64),
		ready: make(chan struct{}), seen: map[string]bool{}}
}

// errDisconnected: the connection broke before the answer came.
var errDisconnected = errors.New("connection lost")

// run keeps the station connected until ctx ends.
func (s *station) run(ctx context.Context) {
	first := true
	for ctx.Err() == nil {
		dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		ws, _, err := websocket.Dial(dctx, s.url, &websocket.DialOptions{Subprotocols: []string{"ocpp1.6"}})
		cancel()
		if err != nil {
			sleep(ctx, 50*time.Millisecond+rand.N(100*time.Millisecond))
			continue
		}
		if ws.Subprotocol() != "ocpp1.6" {
			s.logf("%s: server chose subprotocol %q", s.id, ws.Subprotocol())
		}
		ws.SetReadLimit(1 << 20)
		c := &stconn{ws: ws, closed: make(chan struct{}), pending: map[string]chan frame{}}
		go s.read(ctx, c)
		if err := s.boot(ctx, c); err != nil {
			ws.CloseNow()
			<-c.closed
			sleep(ctx, 50*time.Millisecond+rand.N(100*time.Millisecond))
			continue
		}
		s.mu.Lock()
		s.cur = c
		close(s.ready)
		if !first {
			s.reconns++
		}
		first = false
		s.mu.Unlock()
		select {
		case <-c.closed:
		case <-ctx.Done():
			ws.Close(websocket.StatusNormalClosure, "test over")
			<-c.closed
		}
		s.mu.Lock()
		s.cur = nil
		s.ready = make(chan struct{})
		s.mu.Unlock()
	}
}

// boot sends BootNotification and the connector's status on a new
// connection, before anything queued.
func (s *station) boot(ctx context.Context, c *stconn) error {
	f, err := s.send(ctx, c, "BootNotification", map[string]any{"chargePointVendor": "CrashTest", "chargePointModel": "Kill-9",
		"chargePointSerialNumber": "SN-" + s.id, "firmwareVersion": "1.0.0"})
	if err != nil {
		return err
	}
	var r struct {
		Status string `json:"status"`
	}
	if f.typ != 3 || json.Unmarshal(f.payload, &r) != nil || r.Status != "Accepted" {
		return fmt.Errorf("boot not accepted: %d %s %s %s", f.typ, f.payload, f.errCode, f.errDesc)
	}
	status := "Available"
	if s.inTx.Load() {
		status = "Charging"
	}
	f, err = s.send(ctx, c, "StatusNotification", map[string]any{"connectorId": 1, "errorCode": "NoError", "status": status})
	if err != nil {
		return err
	}
	if f.typ != 3 {
		return fmt.Errorf("status notification refused: %s %s", f.errCode, f.errDesc)
	}
	return nil
}

// read reads one connection until it breaks.
func (s *station) read(ctx context.Context, c *stconn) {
	defer func() {
		c.mu.Lock()
		close(c.closed)
		c.mu.Unlock()
	}()
	for {
		_, b, err := c.ws.Read(ctx)
		if err != nil {
			return
		}
		f, err := parseFrame(b)
		if err != nil {
			s.logf("%s: %v", s.id, err)
			continue
		}
		if f.typ != 2 {
			c.mu.Lock()
			ch := c.pending[f.id]
			delete(c.pending, f.id)
			c.mu.Unlock()
			if ch != nil {
				ch <- f
			}
			continue
		}
		s.answer(ctx, c, f)
	}
}

// answer answers a CALL of the server.
func (s *station) answer(ctx context.Context, c *stconn, f frame) {
	reply := func(payload string) {
		_ = c.ws.Write(ctx, websocket.MessageText, []byte(`[3,`+strconv.Quote(f.id)+`,`+payload+`]`))
	}
	switch f.action {
	case "RemoteStartTransaction":
		var r struct {
			ConnectorID int    `json:"connectorId"`
			IDTag       string `json:"idTag"`
		}
		_ = json.Unmarshal(f.payload, &r)
		if ch := s.stall.Swap(nil); ch != nil {
			*ch <- r.IDTag
			return
		}
		// Accept first, as a station does, then start: the start is the
		// driver's business (it knows the session's energy).
		reply(`{"status":"Accepted"}`)
		s.mu.Lock()
		dup := s.seen[r.IDTag]
		s.seen[r.IDTag] = true
		s.mu.Unlock()
		if dup {
			s.logf("%s: repeated RemoteStartTransaction for %s (accepted again, ignored)", s.id, r.IDTag)
			return
		}
		select {
		case s.remote <- r.IDTag:
		default:
			s.logf("%s: remote start queue full, dropping %s", s.id, r.IDTag)
		}
	case "RemoteStopTransaction":
		reply(`{"status":"Accepted"}`)
	case "GetConfiguration":
		reply(`{"configurationKey":[]}`)
	case "ChangeConfiguration", "ClearCache", "Reset", "UnlockConnector", "ChangeAvailability":
		reply(`{"status":"Accepted"}`)
	case "TriggerMessage":
		reply(`{"status":"Rejected"}`)
	default:
		s.logf("%s: unexpected CALL %s %s: NotImplemented", s.id, f.action, f.payload)
		_ = c.ws.Write(ctx, websocket.MessageText, []byte(`[4,`+strconv.Quote(f.id)+`,"NotImplemented","",{}]`))
	}
}

// send sends one CALL on c and waits for its answer, or for c to break.
func (s *station) send(ctx context.Context, c *stconn, action string, payload any) (frame, error) {
	body, err := json.Marshal(payload)
	if err != nil {
		return frame{}, err
	}
	s.mu.Lock()
	s.nextID++
	id := s.id + "-" + strconv.Itoa(s.nextID)
	s.mu.Unlock()
	ch := make(chan frame, 1)
	c.mu.Lock()
	select {
	case <-c.closed:
		c.mu.Unlock()
		return frame{}, errDisconnected
	default:
	}
	c.pending[id] = ch
	c.mu.Unlock()
	msg := `[2,` + strconv.Quote(id) + `,` + strconv.Quote(action) + `,` + string(body) + `]`
	if err := c.ws.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
		c.ws.CloseNow()
		return frame{}, errDisconnected
	}
	t := time.NewTimer(35 * time.Second)
	defer t.Stop()
	select {
	case f := <-ch:
		return f, nil
	case <-c.closed:
		return frame{}, errDisconnected
	case <-ctx.Done():
		return frame{}, ctx.Err()
	case <-t.C:
		// No answer on a live connection: drop it, as a station would.
		c.ws.CloseNow()
		return frame{}, errDisconnected
	}
}

// conn waits for a booted connection.
func (s *station) conn(ctx context.Context) (*stconn, error) {
	for {
		s.mu.Lock()
		c, ready := s.cur, s.ready
		s.mu.Unlock()
		if c != nil {
			return c, nil
		}
		select {
		case <-ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// call sends a transaction message and returns its CALLRESULT's payload.
// A message whose connection broke before the answer is re-sent, the same
// message, on the next connection; a CALLERROR is retried a few times
// (the server may be shutting down).
func (s *station) call(ctx context.Context, action string, payload any) (json.RawMessage, error) {
	errs := 0
	for {
		c, err := s.conn(ctx)
		if err != nil {
			return nil, err
		}
		f, err := s.send(ctx, c, action, payload)
		if errors.Is(err, errDisconnected) {
			s.mu.Lock()
			s.resends++ // the same message again, after the reconnection
			s.mu.Unlock()
			continue
		}
		if err != nil {
			return nil, err
		}
		if f.typ == 3 {
			return f.payload, nil
		}
		errs++
		s.mu.Lock()
		s.callErr++
		s.mu.Unlock()
		s.logf("%s: %s answered CALLERROR %s %q (%d)", s.id, action, f.errCode, f.errDesc, errs)
		if errs >= 20 {
			return nil, fmt.Errorf("%s: %s: CALLERROR %s %s", s.id, action, f.errCode, f.errDesc)
		}
		sleep(ctx, 250*time.Millisecond)
	}
}

func (s *station) stats() (reconns, resends, callErrs int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reconns, s.resends, s.callErr
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
