// Package gateway is the OCPP-J front door: the WebSocket endpoint at
// /ocpp/{stationId}. It refuses unknown stations before the upgrade,
// checks HTTP Basic credentials (security profile 1), negotiates the
// subprotocol in the server's order of preference, and runs one read loop
// per connection that feeds an ocppj.Conn bound to the version adapter.
//
// Idle connections are kept cheap (the goal is ≤ 16 KiB per station; see
// ws.go for the WebSocket side): no buffers are held while a station is
// silent, messages are handled on a pool of worker goroutines so that the
// read loop's own stack stays small, and liveness is one sweeper for all
// connections rather than a timer per connection.
package gateway

import (
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
	workers  workers
}

// New returns a gateway; call Run to start its liveness sweeper.
func New(svc *csms.Service, stations Stations, cfg Config, log *slog.Logger) *Gateway {
	cfg.defaults()
	g := &Gateway{svc: svc, stations: stations, cfg: cfg, log: log, byName: map[string]Protocol{},
		conns: map[*conn]struct{}{}, stop: make(chan struct{}), workers: workers{jobs: make(chan func()), idle: 30 * time.Second}}
	for _, p := range cfg.Protocols {
		g.names = append(g.names, p.Name)
		g.byName[p.Name] = p
	}
	return g
}

// conn is one live station connection.
type conn struct {
	g      *Gateway
	ws     *wsConn
	link   *csms.Link
	rpc    *ocppj.Conn
	last   atomic.Int64 // unix nanos of the last message
	closed atomic.Bool
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
	key, herr := checkHandshake(r)
	if herr != nil {
		for k, v := range herr.header {
			w.Header()[k] = v
		}
		g.refuse(w, "bad_handshake", herr.status, herr.msg)
		return
	}

	offered := r.Header.Values("Sec-WebSocket-Protocol")
	var proto Protocol
	var found bool
	answer := ""
	if len(offered) == 0 {
		// No subprotocol offered at all: assume the station's last one.
		name := st.Protocol
		if _, ok := g.byName[name]; !ok {
			name = g.cfg.DefaultProtocol
		}
		proto, found = g.byName[name]
	} else if proto, found = g.negotiate(offered); found {
		answer = proto.Name
	}

	ws, err := upgrade(w, r, key, answer, deflateResponse(r.Header), g.cfg.WriteTimeout)
	if err != nil {
		g.log.Info("WebSocket handshake failed", "station_id", id, "err", err)
		return
	}
	if !found {
		// OCPP: complete the handshake without a subprotocol, then close.
		g.svc.Metrics().Rejected.WithLabelValues("no_subprotocol").Inc()
		g.log.Warn("no OCPP subprotocol in common; closing", "station_id", id, "offered", strings.Join(offered, ","))
		ws.sendClose(closeProtocolError, "no supported OCPP subprotocol offered")
		ws.closeNow()
		return
	}

	c := &conn{g: g, ws: ws}
	c.last.Store(time.Now().UnixNano())
	c.link = g.svc.NewLink(st, c.closeWith)
	adapter := proto.New(g.svc, c.link)
	c.rpc = ocppj.NewConn(c, ocppj.Options{Dialect: proto.Dialect, Handler: adapter, Observer: c.link, CallTimeout: g.cfg.CallTimeout})
	c.link.Bind(adapter, c.rpc)

	g.mu.Lock()
	if g.closing.Load() {
		g.mu.Unlock()
		ws.sendClose(closeGoingAway, "server is shutting down")
		ws.closeNow()
		return
	}
	g.conns[c] = struct{}{}
	g.loops.Add(1)
	g.mu.Unlock()

	if err := g.svc.Connect(context.Background(), c.link); err != nil {
		g.log.Error("registering station connection failed", "station_id", id, "err", err)
		g.forget(c)
		g.loops.Done()
		ws.sendClose(closeInternalError, "try again later")
		ws.closeNow()
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

func (c *conn) readLoop() {
	g := c.g
	defer g.loops.Done()
	defer func() {
		c.rpc.Close()
		g.svc.Disconnect(c.link)
		g.forget(c)
		c.ws.closeNow()
		c.ws.release()
	}()
	ctx := context.Background()
	soft := int64(g.cfg.MaxMessageSize)
	for {
		if err := c.ws.wait(); err != nil {
			c.logClose(err)
			return
		}
		m, err := c.ws.readMessage(soft, 4*soft)
		if err != nil {
			c.logClose(err)
			return
		}
		c.last.Store(time.Now().UnixNano())
		if m.size > soft {
			err = c.tooBig(ctx, m.data, m.size)
		} else {
			// The handler runs on a worker: its stack grows deep (decoding,
			// the database) and should not stay with an idle connection.
			g.workers.do(func() { err = c.rpc.HandleMessage(ctx, m.data) })
		}
		if err != nil {
			c.logClose(err)
			return
		}
	}
}

// tooBig answers an oversized message with a CALLERROR when its head shows
// it is a CALL with a readable id; anything else is dropped.
func (c *conn) tooBig(ctx context.Context, head []byte, n int64) error {
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
func (c *conn) Write(_ context.Context, msg []byte) error {
	c.ws.setWriteDeadline(time.Now().Add(c.g.cfg.WriteTimeout))
	return c.ws.writeFrame(opText, msg)
}

// closeWith closes the connection with a close frame, without blocking the caller.
func (c *conn) closeWith(reason string) {
	if !c.closed.CompareAndSwap(false, true) {
		return
	}
	code := closePolicyViolation
	if strings.Contains(reason, "shutting down") {
		code = closeGoingAway
	}
	go c.ws.close(code, reason)
}

func (c *conn) logClose(err error) {
	var ce *closeError
	switch {
	case errors.As(err, &ce) && ce.remote && (ce.code == closeNormal || ce.code == closeGoingAway):
		c.g.log.Debug("station closed the connection", "station_id", c.link.StationID, "status", ce.code)
	case errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || c.closed.Load():
		c.g.log.Debug("station connection ended", "station_id", c.link.StationID, "err", err)
	default:
		c.g.log.Info("station connection ended", "station_id", c.link.StationID, "err", err)
	}
}

// workers runs message handlers on a pool of goroutines that grows with
// demand and shrinks when idle.
type workers struct {
	jobs chan func()
	idle time.Duration
}

// do runs f on a worker and waits for it.
func (w *workers) do(f func()) {
	var wg sync.WaitGroup
	wg.Add(1)
	job := func() { defer wg.Done(); f() }
	select {
	case w.jobs <- job:
	default:
		go w.work(job)
	}
	wg.Wait()
}

func (w *workers) work(job func()) {
	job()
	t := time.NewTimer(w.idle)
	defer t.Stop()
	for {
		select {
		case job := <-w.jobs:
			job()
			t.Reset(w.idle)
		case <-t.C:
			return
		}
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

// sweep pings every connection silent for PingInterval and closes those
// whose ping went unanswered for PongTimeout. Pings are written on a
// short-lived goroutine each, so one stuck connection cannot hold the sweep.
func (g *Gateway) sweep(now time.Time) {
	idle := now.Add(-g.cfg.PingInterval).UnixNano()
	dead := now.Add(-g.cfg.PongTimeout).UnixNano()
	var ping, kill []*conn
	g.mu.Lock()
	for c := range g.conns {
		sent := c.ws.pingSent.Load()
		switch {
		case sent != 0 && sent < dead:
			kill = append(kill, c)
		case sent == 0 && c.last.Load() < idle && c.ws.lastRead.Load() < idle:
			ping = append(ping, c)
		}
	}
	g.mu.Unlock()
	for _, c := range kill {
		g.log.Info("station did not answer ping; closing", "station_id", c.link.StationID)
		c.closed.Store(true)
		c.ws.closeNow()
	}
	for _, c := range ping {
		c.ws.pingSent.Store(now.UnixNano())
		go func() {
			c.ws.setWriteDeadline(time.Now().Add(g.cfg.WriteTimeout))
			if err := c.ws.writeFrame(opPing, nil); err != nil {
				c.ws.closeNow()
			}
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
			c.ws.closeNow()
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
