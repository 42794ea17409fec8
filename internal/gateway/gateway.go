// Package gateway is the OCPP-J front door: the WebSocket endpoint at
// /ocpp/{stationId}. It refuses unknown stations before the upgrade,
// checks HTTP Basic credentials (security profile 1), negotiates the
// subprotocol in the server's order of preference, and runs one read loop
// per connection that feeds an ocppj.Conn bound to the version adapter.
//
// Idle connections are kept cheap (the goal is ≤ 16 KiB per station):
// the read loop runs on a fresh goroutine rather than the HTTP server's
// (whose stack has grown serving the handshake), the connection's bufio
// buffers are 1 KiB instead of net/http's 4 KiB each, and liveness is one
// sweeper for all connections rather than a timer per connection.
package gateway

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/chargestar/chargestar/internal/csms"
	"github.com/chargestar/chargestar/internal/model"
	"github.com/chargestar/chargestar/internal/ocpp/ocppj"
	"github.com/chargestar/chargestar/internal/store"
)

// Adapter is a version adapter bound to one link: it answers the station's
// CALLs and vets our commands.
type Adapter interface {
	ocppj.Handler
	csms.Protocol
}

// Protocol is one OCPP-J subprotocol the gateway speaks.
type Protocol struct {
	Name    string // the WebSocket subprotocol, e.g. "ocpp1.6"
	Dialect *ocppj.Dialect
	New     func(svc *csms.Service, l *csms.Link) Adapter
}

// Config configures the gateway.
type Config struct {
	// Protocols in the server's order of preference.
	Protocols []Protocol
	// MaxMessageSize: a larger message is answered with a CALLERROR and
	// dropped; the connection stays up. Four times this closes the
	// connection (1009) without reading further.
	MaxMessageSize int
	// PingInterval: a connection silent this long is pinged.
	PingInterval time.Duration
	// PongTimeout: a ping unanswered this long closes the connection.
	PongTimeout time.Duration
	// WriteTimeout bounds every write to a station.
	WriteTimeout time.Duration
	// CallTimeout bounds how long our CALLs wait for an answer.
	CallTimeout time.Duration
	// BufferSize is the per-connection read and write buffer size.
	BufferSize int
	// DefaultProtocol is assumed for a station that offers no subprotocol
	// at all (some 1.6 firmware does not): its last negotiated one, else this.
	DefaultProtocol string
}

func (c *Config) defaults() {
	if c.MaxMessageSize <= 0 {
		c.MaxMessageSize = 256 << 10
	}
	if c.PingInterval <= 0 {
		c.PingInterval = 60 * time.Second
	}
	if c.PongTimeout <= 0 {
		c.PongTimeout = 15 * time.Second
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 15 * time.Second
	}
	if c.CallTimeout <= 0 {
		c.CallTimeout = 30 * time.Second
	}
	if c.BufferSize <= 0 {
		c.BufferSize = 1024
	}
	if c.DefaultProtocol == "" {
		c.DefaultProtocol = "ocpp1.6"
	}
}

// Stations is what the gateway needs to know about registered stations.
type Stations interface {
	GetStation(ctx context.Context, id string) (model.Station, error)
}

// Gateway is the OCPP-J WebSocket endpoint.
type Gateway struct {
	svc      *csms.Service
	stations Stations
	cfg      Config
	log      *slog.Logger
	names    []string // subprotocol names in order of preference
	byName   map[string]Protocol

	mu      sync.Mutex
	conns   map[*conn]struct{}
	closing atomic.Bool
	loops   sync.WaitGroup // one per read loop

	stop     chan struct{}
	stopOnce sync.Once
	sweeper  sync.WaitGroup
}

// New returns a gateway; call Run to start its liveness sweeper.
func New(svc *csms.Service, stations Stations, cfg Config, log *slog.Logger) *Gateway {
	cfg.defaults()
	g := &Gateway{svc: svc, stations: stations, cfg: cfg, log: log, byName: map[string]Protocol{},
		conns: map[*conn]struct{}{}, stop: make(chan struct{})}
	for _, p := range cfg.Protocols {
		g.names = append(g.names, p.Name)
		g.byName[p.Name] = p
	}
	return g
}

// conn is one live station connection.
type conn struct {
	g       *Gateway
	ws      *websocket.Conn
	nc      net.Conn
	link    *csms.Link
	rpc     *ocppj.Conn
	last    atomic.Int64 // unix nanos of the last frame or pong
	pinging atomic.Bool
	closed  atomic.Bool
}

// ServeHTTP handles GET /ocpp/{stationId}.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("stationId")
	if id == "" {
		id = strings.TrimPrefix(r.URL.Path, "/ocpp/")
	}
	if g.closing.Load() {
		g.refuse(w, "shutting_down", http.StatusServiceUnavailable, "server is shutting down")
		return
	}
	if id == "" || len(id) > 255 || strings.ContainsAny(id, "/") {
		g.refuse(w, "bad_id", http.StatusNotFound, "unknown station")
		return
	}
	st, err := g.stations.GetStation(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) || err == nil && st.RetiredAt != nil {
		g.refuse(w, "unknown_station", http.StatusNotFound, "unknown station")
		g.log.Info("connection from unknown station refused", "station_id", id, "remote", r.RemoteAddr)
		return
	}
	if err != nil {
		g.log.Error("looking up station failed", "station_id", id, "err", err)
		g.refuse(w, "internal", http.StatusServiceUnavailable, "try again later")
		return
	}
	if len(st.PasswordHash) > 0 {
		user, pass, ok := r.BasicAuth()
		if !ok || user != st.ID || !csms.CheckStationPassword(st.PasswordHash, pass) {
			w.Header().Set("WWW-Authenticate", `Basic realm="chargestar", charset="UTF-8"`)
			g.refuse(w, "unauthorized", http.StatusUnauthorized, "bad credentials")
			g.log.Warn("station failed Basic authentication", "station_id", id, "remote", r.RemoteAddr, "credentials_sent", ok)
			return
		}
	}
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		g.refuse(w, "not_websocket", http.StatusUpgradeRequired, "this is an OCPP-J WebSocket endpoint")
		return
	}

	offered := r.Header.Values("Sec-WebSocket-Protocol")
	var proto Protocol
	var found bool
	if len(offered) == 0 {
		// No subprotocol offered at all: assume the station's last one.
		name := st.Protocol
		if _, ok := g.byName[name]; !ok {
			name = g.cfg.DefaultProtocol
		}
		proto, found = g.byName[name]
	} else {
		proto, found = g.negotiate(offered)
	}

	h := &hijackSizer{ResponseWriter: w, size: g.cfg.BufferSize}
	ws, err := websocket.Accept(h, r, &websocket.AcceptOptions{
		Subprotocols:       g.names,
		InsecureSkipVerify: true, // stations send arbitrary Origin headers; they authenticate by id and password
		CompressionMode:    websocket.CompressionNoContextTakeover,
	})
	if err != nil {
		g.log.Info("WebSocket handshake failed", "station_id", id, "err", err)
		return
	}
	if !found {
		// OCPP: complete the handshake without a subprotocol, then close.
		g.svc.Metrics().Rejected.WithLabelValues("no_subprotocol").Inc()
		g.log.Warn("no OCPP subprotocol in common; closing", "station_id", id, "offered", strings.Join(offered, ","))
		ws.Close(websocket.StatusProtocolError, "no supported OCPP subprotocol offered")
		return
	}
	ws.SetReadLimit(int64(g.cfg.MaxMessageSize) * 4)

	c := &conn{g: g, ws: ws, nc: h.nc}
	c.last.Store(time.Now().UnixNano())
	c.link = g.svc.NewLink(st, c.closeWith)
	adapter := proto.New(g.svc, c.link)
	c.rpc = ocppj.NewConn(c, ocppj.Options{Dialect: proto.Dialect, Handler: adapter, Observer: c.link, CallTimeout: g.cfg.CallTimeout})
	c.link.Bind(adapter, c.rpc)

	g.mu.Lock()
	if g.closing.Load() {
		g.mu.Unlock()
		ws.Close(websocket.StatusGoingAway, "server is shutting down")
		return
	}
	g.conns[c] = struct{}{}
	g.loops.Add(1)
	g.mu.Unlock()

	if err := g.svc.Connect(context.Background(), c.link); err != nil {
		g.log.Error("registering station connection failed", "station_id", id, "err", err)
		g.forget(c)
		g.loops.Done()
		ws.Close(websocket.StatusInternalError, "try again later")
		return
	}
	// A fresh goroutine: the handler's own stack grew during the handshake
	// and would stay that size for the connection's whole life.
	go c.readLoop()
}

// negotiate picks the first of our protocols the station offered.
func (g *Gateway) negotiate(offered []string) (Protocol, bool) {
	for _, name := range g.names {
		for _, h := range offered {
			for _, o := range strings.Split(h, ",") {
				if strings.EqualFold(strings.TrimSpace(o), name) {
					return g.byName[name], true
				}
			}
		}
	}
	return Protocol{}, false
}

func (g *Gateway) refuse(w http.ResponseWriter, reason string, code int, msg string) {
	g.svc.Metrics().Rejected.WithLabelValues(reason).Inc()
	http.Error(w, msg, code)
}

func (g *Gateway) forget(c *conn) {
	g.mu.Lock()
	delete(g.conns, c)
	g.mu.Unlock()
}

// readBufPool holds message buffers for the read loops.
var readBufPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

func (c *conn) readLoop() {
	g := c.g
	defer g.loops.Done()
	defer func() {
		c.rpc.Close()
		g.svc.Disconnect(c.link)
		g.forget(c)
		c.ws.CloseNow()
	}()
	ctx := context.Background()
	max := g.cfg.MaxMessageSize
	for {
		_, r, err := c.ws.Reader(ctx)
		if err != nil {
			c.logClose(err)
			return
		}
		bp := readBufPool.Get().(*[]byte)
		buf, n, err := readMessage(r, (*bp)[:0], max)
		if err != nil {
			readBufPool.Put(bp)
			c.logClose(err)
			return
		}
		c.last.Store(time.Now().UnixNano())
		if n > max {
			err = c.tooBig(ctx, buf, n)
		} else {
			err = c.rpc.HandleMessage(ctx, buf)
		}
		if cap(buf) <= 64<<10 {
			*bp = buf[:0]
			readBufPool.Put(bp)
		}
		if err != nil {
			c.logClose(err)
			return
		}
	}
}

// readMessage reads a message into buf, keeping at most max+1 bytes and
// discarding the rest; n is the message's full length.
func readMessage(r io.Reader, buf []byte, max int) ([]byte, int, error) {
	n := 0
	for {
		if len(buf) == cap(buf) {
			if len(buf) > max {
				// Over the limit: keep the head (for the message id), count the rest.
				m, err := io.Copy(io.Discard, r)
				return buf, n + int(m), err
			}
			buf = append(buf, 0)[:len(buf)]
		}
		m, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		n += m
		if err == io.EOF {
			return buf, n, nil
		}
		if err != nil {
			return buf, n, err
		}
	}
}

// tooBig answers an oversized message with a CALLERROR when its head shows
// it is a CALL with a readable id; anything else is dropped.
func (c *conn) tooBig(ctx context.Context, head []byte, n int) error {
	c.g.log.Warn("oversized message dropped", "station_id", c.link.StationID, "bytes", n, "limit", c.g.cfg.MaxMessageSize)
	typ, id, ok := ocppj.PeekCall(head)
	if !ok || typ != ocppj.TypeCall {
		return nil
	}
	d := c.rpc.Dialect()
	msg := ocppj.AppendCallError(nil, ocppj.TypeCallError, id, d.Name(ocppj.FormationViolation),
		"message too large: limit is "+itoa(c.g.cfg.MaxMessageSize)+" bytes", nil)
	c.link.Frame(false, ocppj.TypeCallError, id, "", msg)
	return c.Write(ctx, msg)
}

// Write implements ocppj.Socket.
func (c *conn) Write(ctx context.Context, msg []byte) error {
	if c.nc != nil {
		c.nc.SetWriteDeadline(time.Now().Add(c.g.cfg.WriteTimeout))
	}
	return c.ws.Write(ctx, websocket.MessageText, msg)
}

// closeWith closes the connection with a close frame, without blocking the caller.
func (c *conn) closeWith(reason string) {
	if !c.closed.CompareAndSwap(false, true) {
		return
	}
	code := websocket.StatusPolicyViolation
	if strings.Contains(reason, "shutting down") {
		code = websocket.StatusGoingAway
	}
	go c.ws.Close(code, reason)
}

func (c *conn) logClose(err error) {
	status := websocket.CloseStatus(err)
	switch {
	case status == websocket.StatusNormalClosure || status == websocket.StatusGoingAway:
		c.g.log.Debug("station closed the connection", "station_id", c.link.StationID, "status", int(status))
	case errors.Is(err, net.ErrClosed) || c.closed.Load():
	default:
		c.g.log.Info("station connection ended", "station_id", c.link.StationID, "err", err)
	}
}

// Run runs the liveness sweeper until Shutdown.
func (g *Gateway) Run() {
	g.sweeper.Add(1)
	go func() {
		defer g.sweeper.Done()
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-g.stop:
				return
			case now := <-tick.C:
				g.sweep(now)
			}
		}
	}()
}

// sweep pings every connection silent for PingInterval. A ping runs on a
// short-lived goroutine: live stations answer within a round trip, so few
// exist at once; a dead one is closed when its pong does not come.
func (g *Gateway) sweep(now time.Time) {
	idle := now.Add(-g.cfg.PingInterval).UnixNano()
	var due []*conn
	g.mu.Lock()
	for c := range g.conns {
		if c.last.Load() < idle && !c.pinging.Load() {
			due = append(due, c)
		}
	}
	g.mu.Unlock()
	for _, c := range due {
		c.pinging.Store(true)
		go func() {
			defer c.pinging.Store(false)
			ctx, cancel := context.WithTimeout(context.Background(), g.cfg.PongTimeout)
			defer cancel()
			if err := c.ws.Ping(ctx); err != nil {
				g.log.Info("station did not answer ping; closing", "station_id", c.link.StationID, "err", err)
				c.closed.Store(true)
				c.ws.CloseNow()
				return
			}
			c.last.Store(time.Now().UnixNano())
		}()
	}
}

// Shutdown refuses new connections, closes every station connection with
// 1001 Going Away and waits for the read loops (and the calls they are
// handling) to finish, or for ctx.
func (g *Gateway) Shutdown(ctx context.Context) error {
	g.mu.Lock()
	g.closing.Store(true)
	conns := make([]*conn, 0, len(g.conns))
	for c := range g.conns {
		conns = append(conns, c)
	}
	g.mu.Unlock()
	g.stopOnce.Do(func() { close(g.stop) })
	g.sweeper.Wait()
	for _, c := range conns {
		c.closeWith("server shutting down")
	}
	done := make(chan struct{})
	go func() { g.loops.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		for _, c := range conns {
			c.ws.CloseNow()
		}
		return ctx.Err()
	}
}

// Connections returns the number of open connections.
func (g *Gateway) Connections() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.conns)
}

// hijackSizer makes the hijacked connection's bufio buffers small: net/http
// hands over 4 KiB each for reading and writing, which would be most of an
// idle station's memory.
type hijackSizer struct {
	http.ResponseWriter
	size int
	nc   net.Conn
}

func (h *hijackSizer) Unwrap() http.ResponseWriter { return h.ResponseWriter }

func (h *hijackSizer) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	h.nc = nc
	n := brw.Reader.Buffered()
	if n == 0 {
		return nc, bufio.NewReadWriter(bufio.NewReaderSize(nc, h.size), bufio.NewWriterSize(nc, h.size)), nil
	}
	// The station sent its first frame right behind the handshake and
	// net/http has read part of it already. websocket.Accept keeps only what
	// our reader has buffered, so those bytes must be in its buffer, not
	// merely readable from it.
	head, _ := brw.Reader.Peek(n)
	br := bufio.NewReaderSize(io.MultiReader(bytes.NewReader(bytes.Clone(head)), nc), max(h.size, n))
	if _, err := br.Peek(n); err != nil {
		nc.Close()
		return nil, nil, err
	}
	return nc, bufio.NewReadWriter(br, bufio.NewWriterSize(nc, h.size)), nil
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for n >= 10 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	i--
	b[i] = byte('0' + n)
	return string(b[i:])
}
