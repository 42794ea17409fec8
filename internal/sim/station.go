package sim

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"

	"github.com/chargestar/chargestar/internal/ocpp/ocppj"
)

// Station is one simulated OCPP charge point. Create it with NewStation
// and run it with Run; it keeps trying to be connected until Run's context
// ends. Its state is driven by one goroutine (Run's) plus a read goroutine
// while connected; the CSMS's calls are answered on the read goroutine and
// anything they set off (a transaction, a reboot, a triggered message)
// runs on Run's goroutine once the answer is on the wire.
type Station struct {
	id    string
	cfg   *Config
	proto protocol
	stats *Stats
	sched *scheduler
	log   *slog.Logger
	gate  chan struct{} // fleet connect concurrency: held for the first connection and boot

	wake   chan struct{} // from the scheduler
	notify chan struct{} // actions posted, or dropped on purpose

	hasRules atomic.Bool

	mu          sync.Mutex
	rng         *rand.Rand
	conns       []*connector // index = connector id; 0 is the station itself
	link        *link
	accepted    bool // boot accepted on the current connection
	needBoot    bool
	bootAt      time.Time
	everBooted  bool
	mustBoot    bool // rebooted: the next connection starts with a BootNotification
	afterBoot   []func(ctx context.Context)
	rebootUntil time.Time
	dropNow     bool // the connection was dropped on purpose: reconnect at once
	nextDial    time.Time
	dialFails   int
	lastErr     string
	bootedAt    time.Time // when the current connection's boot was accepted
	connectedAt time.Time // when the current connection was made
	posted      []func(ctx context.Context)
	jobs        []*job
	queue       []*txMessage
	nextFlush   time.Time
	rules       []Rule
	hbInterval  time.Duration
	nextHB      time.Time
	firmware    string
	txSeq       int
	loadNext    time.Time    // open-loop: the next intended send
	loadTx      bool         // load modes: the transaction has been started
	loadStart   *atomic.Bool // fleet: the load streams may run (nil: at once)
	loadPhase   float64      // open-loop: where in the period this station sends (0..1); < 0: random
	v16         v16State
	v2          v2State
	profiles    []*chargingProfile
	scheduledAt time.Time // the wake we asked the scheduler for
}

// link is one WebSocket connection.
type link struct {
	s    *Station
	ws   *websocket.Conn
	nc   net.Conn
	rpc  *ocppj.Conn
	done chan struct{} // closed when the read loop ends
	err  error         // why it ended; valid after done
	post []func(ctx context.Context)
}

// NewStation returns a station; it does nothing until Run.
func NewStation(cfg Config) (*Station, error) {
	cfg.defaults()
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if cfg.Stats == nil {
		cfg.Stats = new(Stats)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = NewDialer(DialerConfig{}).Client()
	}
	return newStation(cfg.ID, cfg.Protocol, &cfg, nil, nil), nil
}

// newStation builds a station with identity id speaking subprotocol proto
// (one of Protocols), sharing cfg (already defaulted and checked; its ID
// and Protocol are not used) and, for a fleet, a scheduler and connect gate.
func newStation(id, proto string, cfg *Config, sched *scheduler, gate chan struct{}) *Station {
	h := fnv.New64a()
	h.Write([]byte(id))
	s := &Station{
		id: id, cfg: cfg, stats: cfg.Stats, sched: sched, gate: gate,
		log:       cfg.Logger.With("station_id", id),
		wake:      make(chan struct{}, 1),
		notify:    make(chan struct{}, 1),
		rng:       rand.New(rand.NewPCG(cfg.Seed, h.Sum64())),
		firmware:  cfg.Firmware,
		loadPhase: -1,
	}
	s.proto = protocolFor(proto)
	s.conns = make([]*connector, cfg.Connectors+1)
	for i := range s.conns {
		s.conns[i] = &connector{id: i, status: statusAvailable}
		if i > 0 {
			// A meter that has seen some use: up to 20 MWh.
			s.conns[i].meter.registerWh = math.Floor(s.rng.Float64() * 20e6)
		}
	}
	if len(cfg.Rules) > 0 {
		s.rules = append([]Rule(nil), cfg.Rules...)
		s.hasRules.Store(true)
	}
	return s
}

// ID returns the station's identity.
func (s *Station) ID() string { return s.id }

// Protocol returns the OCPP-J subprotocol the station speaks.
func (s *Station) Protocol() string { return s.proto.subprotocol() }

// Stats returns the station's counters (shared with its fleet).
func (s *Station) Stats() *Stats { return s.stats }

// Script adds rules for answering the CSMS (see Rule).
func (s *Station) Script(rules ...Rule) {
	s.mu.Lock()
	s.rules = append(s.rules, rules...)
	s.hasRules.Store(len(s.rules) > 0)
	s.mu.Unlock()
}

// takeRule returns the first rule for action and uses it up.
func (s *Station) takeRule(action string, noAnswer bool) (Rule, bool) {
	if !s.hasRules.Load() {
		return Rule{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, r := range s.rules {
		if r.Action != action || r.NoAnswer != noAnswer {
			continue
		}
		if r.Times > 0 {
			if r.Times == 1 {
				s.rules = append(s.rules[:i], s.rules[i+1:]...)
				s.hasRules.Store(len(s.rules) > 0)
			} else {
				s.rules[i].Times--
			}
		}
		return r, true
	}
	return Rule{}, false
}

// Online reports whether the station is connected and accepted.
func (s *Station) Online() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.link != nil && s.accepted
}

// BootedAt returns when the current connection's BootNotification was
// accepted (zero when not online).
func (s *Station) BootedAt() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.link == nil || !s.accepted {
		return time.Time{}
	}
	return s.bootedAt
}

// since returns when the station's current connection was made and
// booted, if after t0 (zero otherwise).
func (s *Station) since(t0 time.Time) (connected, booted time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.link == nil {
		return
	}
	if !s.connectedAt.Before(t0) {
		connected = s.connectedAt
	}
	if s.accepted && !s.bootedAt.Before(t0) {
		booted = s.bootedAt
	}
	return
}

// LastError returns the last connection or call error ("" none).
func (s *Station) LastError() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastErr
}

// ConnectorStatus returns a connector's current status (1.6 names, also
// for a 2.x station, whose EVSE statuses map from them).
func (s *Station) ConnectorStatus(connector int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if connector < 0 || connector >= len(s.conns) {
		return ""
	}
	return s.conns[connector].status
}

// Drop closes the connection abruptly, at the TCP level, as a network
// failure would; the station reconnects at once rather than after a backoff.
func (s *Station) Drop() {
	s.mu.Lock()
	l := s.link
	if l != nil {
		s.dropNow = true
	}
	s.mu.Unlock()
	switch {
	case l == nil:
	case l.nc != nil:
		l.nc.Close() // the read loop notices and ends
	default:
		l.ws.CloseNow()
	}
}

// Run runs the station until ctx ends. It returns ctx's error.
func (s *Station) Run(ctx context.Context) error {
	if s.sched == nil {
		s.sched = newScheduler()
		sctx, cancel := context.WithCancel(ctx)
		defer cancel()
		go s.sched.run(sctx)
	}
	if s.gate != nil {
		select {
		case s.gate <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	defer s.shutdown()
	for {
		now := time.Now()
		s.step(ctx, now)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.wait(ctx, s.nextDue(now))
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// releaseGate lets the next fleet station connect.
func (s *Station) releaseGate() {
	if s.gate != nil {
		<-s.gate
		s.gate = nil
	}
}

// shutdown ends the running transactions (reason Local, as if the drivers
// stopped) if the CSMS can still be told, and closes the connection.
func (s *Station) shutdown() {
	s.releaseGate()
	if s.Online() {
		// A generous budget: a loaded CSMS may take a while, and a lost
		// StopTransaction leaves a session open.
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		for _, c := range s.conns[1:] {
			s.stopTx(ctx, c, "Local", "", false)
		}
		s.flush(ctx, time.Now())
		cancel()
	}
	s.mu.Lock()
	l := s.link
	s.mu.Unlock()
	if l != nil {
		l.ws.Close(websocket.StatusGoingAway, "simulator stopping")
		<-l.done
		s.linkLost(l)
	}
}

// wait sleeps until the due time, a posted action, a wake or the end of
// the connection.
func (s *Station) wait(ctx context.Context, due time.Time) {
	s.mu.Lock()
	l := s.link
	s.mu.Unlock()
	var done <-chan struct{}
	if l != nil {
		done = l.done
	}
	if !due.After(time.Now()) {
		select {
		case <-s.wake:
		default:
		}
		return
	}
	if s.scheduledAt.IsZero() || due.Before(s.scheduledAt) || !s.scheduledAt.After(time.Now()) {
		s.scheduledAt = due
		s.sched.at(due, s.wake)
	}
	select {
	case <-ctx.Done():
	case <-s.wake:
	case <-s.notify:
	case <-done:
	}
}

// step does whatever is due.
func (s *Station) step(ctx context.Context, now time.Time) {
	s.mu.Lock()
	l := s.link
	s.mu.Unlock()
	if l != nil {
		select {
		case <-l.done:
			s.linkLost(l)
			l = nil
		default:
		}
	}
	if l == nil {
		s.mu.Lock()
		due := !now.Before(s.nextDial) && !now.Before(s.rebootUntil)
		s.mu.Unlock()
		if due {
			s.connect(ctx)
		}
	}
	s.mu.Lock()
	l = s.link
	boot := l != nil && s.needBoot && !now.Before(s.bootAt)
	s.mu.Unlock()
	if boot {
		s.boot(ctx)
	}
	s.runPosted(ctx)
	if s.Online() {
		s.flush(ctx, time.Now())
		s.heartbeat(ctx, time.Now())
		s.runJobs(ctx, time.Now())
	}
	switch s.cfg.Mode {
	case ModeSessions:
		for _, c := range s.conns[1:] {
			s.stepConnector(ctx, c, time.Now())
		}
	case ModeClosedLoop, ModeOpenLoop:
		s.stepLoad(ctx, time.Now())
		for _, c := range s.conns[1:] {
			s.stepConnector(ctx, c, time.Now()) // remote starts, reservations
		}
	default:
		for _, c := range s.conns[1:] {
			s.stepConnector(ctx, c, time.Now())
		}
	}
}

// nextDue returns when step should run next.
func (s *Station) nextDue(now time.Time) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	next := now.Add(time.Hour)
	min := func(t time.Time) {
		if !t.IsZero() && t.Before(next) {
			next = t
		}
	}
	if len(s.posted) > 0 {
		return now
	}
	if s.link == nil {
		if s.nextDial.After(s.rebootUntil) {
			min(s.nextDial)
		} else {
			min(s.rebootUntil)
		}
	} else if s.needBoot {
		min(s.bootAt)
	}
	online := s.link != nil && s.accepted
	if online {
		if len(s.queue) > 0 {
			min(s.nextFlush)
		}
		min(s.nextHB)
		for _, j := range s.jobs {
			min(j.at)
		}
		switch s.cfg.Mode {
		case ModeClosedLoop, ModeOpenLoop:
			switch {
			case !s.loadTx:
				return now
			case !s.loadGo():
			case s.cfg.Mode == ModeClosedLoop || s.loadNext.IsZero():
				return now
			default:
				min(s.loadNext)
			}
		}
	}
	for _, c := range s.conns[1:] {
		if c.tx != nil && c.tx.load {
			continue // the load loop meters it
		}
		min(c.nextAt)
		if c.tx != nil {
			min(c.nextMeter)
			min(s.limitDueLocked(c, now))
		}
		if c.reservation != nil {
			min(c.reservation.expiry)
		}
	}
	return next
}

// post queues an action for the main loop (from the main loop itself).
func (s *Station) post(fn func(ctx context.Context)) {
	s.mu.Lock()
	s.posted = append(s.posted, fn)
	s.mu.Unlock()
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

func (s *Station) runPosted(ctx context.Context) {
	for {
		s.mu.Lock()
		if len(s.posted) == 0 {
			s.mu.Unlock()
			return
		}
		fn := s.posted[0]
		s.posted[0] = nil
		s.posted = s.posted[1:]
		if len(s.posted) == 0 {
			s.posted = nil
		}
		s.mu.Unlock()
		fn(ctx)
	}
}

// ---- connection ----

type connHolder struct{ nc net.Conn }
type connHolderKey struct{}

// connect dials the CSMS once.
func (s *Station) connect(ctx context.Context) {
	dctx, cancel := context.WithTimeout(ctx, s.cfg.DialTimeout)
	defer cancel()
	holder := &connHolder{}
	dctx = context.WithValue(dctx, connHolderKey{}, holder)
	hdr := http.Header{}
	s.mu.Lock()
	password := s.cfg.Password
	if s.v16.password != nil {
		password = *s.v16.password
	}
	s.mu.Unlock()
	if password != "" {
		hdr.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(s.id+":"+password)))
	}
	ws, resp, err := websocket.Dial(dctx, s.cfg.URL+"/"+s.id, &websocket.DialOptions{
		HTTPClient:      s.cfg.HTTPClient,
		HTTPHeader:      hdr,
		Subprotocols:    []string{s.proto.subprotocol()},
		CompressionMode: websocket.CompressionDisabled,
	})
	if err == nil && ws.Subprotocol() != s.proto.subprotocol() {
		ws.CloseNow()
		err = fmt.Errorf("the CSMS did not agree to subprotocol %s", s.proto.subprotocol())
		resp = nil
		s.stats.Error("no_subprotocol")
	} else if err != nil {
		s.stats.Error(dialErrorKind(err, resp))
	}
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		s.mu.Lock()
		s.dialFails++
		s.nextDial = time.Now().Add(s.backoffLocked(s.dialFails))
		s.lastErr = "connect: " + err.Error()
		s.mu.Unlock()
		s.log.Debug("connection failed", "err", err)
		s.releaseGate()
		return
	}
	ws.SetReadLimit(1 << 20)
	l := &link{s: s, ws: ws, nc: holder.nc, done: make(chan struct{})}
	var obs ocppj.Observer
	if s.log.Enabled(ctx, slog.LevelDebug) {
		obs = frameLogger{s.log}
	}
	l.rpc = ocppj.NewConn(l, ocppj.Options{Dialect: s.proto.dialect(), Handler: (*linkHandler)(l), Observer: obs, CallTimeout: s.cfg.CallTimeout})
	s.mu.Lock()
	s.link = l
	s.connectedAt = time.Now()
	s.accepted = false
	s.dropNow = false
	if !s.everBooted || !s.cfg.SkipBootOnReconnect || s.mustBoot {
		s.needBoot = true
		s.bootAt = time.Time{}
	} else {
		s.accepted = true
		s.bootedAt = time.Now()
		s.stats.Booted.Add(1)
	}
	s.mu.Unlock()
	s.stats.Connected.Add(1)
	s.stats.Connects.Add(1)
	s.log.Debug("connected")
	go l.readLoop()
}

// backoffLocked returns the wait before reconnection attempt n (1-based):
// full jitter up to min(max, min·2ⁿ⁻¹).
func (s *Station) backoffLocked(n int) time.Duration {
	limit := s.cfg.ReconnectMin
	for i := 1; i < n && limit < s.cfg.ReconnectMax; i++ {
		limit *= 2
	}
	if limit > s.cfg.ReconnectMax {
		limit = s.cfg.ReconnectMax
	}
	return time.Duration(s.rng.Int64N(int64(limit)) + 1)
}

// linkLost cleans up after a connection ended.
func (s *Station) linkLost(l *link) {
	s.mu.Lock()
	if s.link != l {
		s.mu.Unlock()
		return
	}
	s.link = nil
	wasBooted := s.accepted
	s.accepted = false
	now := time.Now()
	switch {
	case s.dropNow:
		s.dropNow = false
		s.nextDial = now
		s.dialFails = 0
	default:
		s.dialFails++
		s.nextDial = now.Add(s.backoffLocked(s.dialFails))
	}
	if l.err != nil && websocket.CloseStatus(l.err) != websocket.StatusNormalClosure {
		s.lastErr = "connection: " + l.err.Error()
	}
	s.mu.Unlock()
	if wasBooted {
		s.stats.Booted.Add(-1)
	}
	s.stats.Connected.Add(-1)
	s.stats.Disconnects.Add(1)
	s.log.Debug("disconnected", "err", l.err)
}

// closeLink drops the current connection (reboot).
func (s *Station) closeLink() {
	s.mu.Lock()
	l := s.link
	s.mu.Unlock()
	if l == nil {
		return
	}
	l.ws.CloseNow()
	<-l.done
	s.linkLost(l)
}

// Write implements ocppj.Socket.
func (l *link) Write(ctx context.Context, msg []byte) error {
	if l.nc != nil {
		l.nc.SetWriteDeadline(time.Now().Add(l.s.cfg.CallTimeout))
	}
	return l.ws.Write(ctx, websocket.MessageText, msg)
}

var readBufPool = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

func (l *link) readLoop() {
	defer close(l.done)
	defer l.rpc.Close()
	ctx := context.Background()
	for {
		_, r, err := l.ws.Reader(ctx)
		if err != nil {
			l.err = err
			return
		}
		bp := readBufPool.Get().(*[]byte)
		buf, err := readAll(r, (*bp)[:0])
		if err != nil {
			l.err = err
			return
		}
		if !l.s.ignored(buf) {
			err = l.rpc.HandleMessage(ctx, buf)
		}
		if cap(buf) <= 64<<10 {
			*bp = buf[:0]
			readBufPool.Put(bp)
		}
		if len(l.post) > 0 {
			l.s.mu.Lock()
			l.s.posted = append(l.s.posted, l.post...)
			l.s.mu.Unlock()
			clear(l.post)
			l.post = l.post[:0]
			select {
			case l.s.notify <- struct{}{}:
			default:
			}
		}
		if err != nil {
			l.err = err
			l.ws.CloseNow()
			return
		}
	}
}

func readAll(r io.Reader, buf []byte) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// ignored reports whether msg is a CALL a NoAnswer rule swallows.
func (s *Station) ignored(msg []byte) bool {
	if !s.hasRules.Load() {
		return false
	}
	f, err := ocppj.Parse(msg)
	if err != nil || f.Type != ocppj.TypeCall {
		return false
	}
	if _, ok := s.takeRule(f.Action, true); ok {
		s.log.Debug("not answering, as scripted", "action", f.Action)
		return true
	}
	return false
}

// linkHandler answers the CSMS's calls on one connection.
type linkHandler link

// HandleCall implements ocppj.Handler.
func (h *linkHandler) HandleCall(ctx context.Context, action string, payload []byte, dst []byte) ([]byte, error) {
	l := (*link)(h)
	l.s.stats.CommandsIn.Add(1)
	return l.s.proto.handle(ctx, l, action, payload, dst)
}

// after queues fn to run on the station's goroutine once the answer being
// built has been sent. Only for use by command handlers.
func (l *link) after(fn func(ctx context.Context)) { l.post = append(l.post, fn) }

// step makes the station look at its timers again once the answer being
// built has been sent: a command changed a setting or a limit they follow.
func (l *link) step() { l.after(func(context.Context) {}) }

// call sends one CALL on the current connection and waits for the answer.
// intended is when the message was meant to be sent (open loop); zero
// means now. The returned payload is owned by the caller.
func (s *Station) call(ctx context.Context, action string, payload []byte, intended time.Time) ([]byte, error) {
	s.mu.Lock()
	l := s.link
	s.mu.Unlock()
	if l == nil {
		return nil, ocppj.ErrClosed
	}
	start := time.Now()
	s.stats.CallsSent.Add(1)
	res, err := l.rpc.Call(ctx, action, payload)
	end := time.Now()
	if err != nil {
		if ctx.Err() != nil {
			return nil, err // the station is stopping: not the CSMS's fault
		}
		s.stats.CallsFailed.Add(1)
		kind := callErrorKind(err)
		s.stats.Error(kind)
		s.mu.Lock()
		s.lastErr = action + ": " + err.Error()
		s.mu.Unlock()
		return nil, err
	}
	s.stats.CallsOK.Add(1)
	if intended.IsZero() {
		s.stats.Latency.Record(end.Sub(start))
	} else {
		s.stats.Latency.Record(end.Sub(intended))
		s.stats.Service.Record(end.Sub(start))
	}
	return res.Payload, nil
}

// callErrorKind names a call failure for the error counts.
func callErrorKind(err error) string {
	var ce *ocppj.CallError
	switch {
	case errors.Is(err, ocppj.ErrTimeout):
		return "timeout"
	case errors.Is(err, ocppj.ErrClosed):
		return "closed"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "canceled"
	case errors.As(err, &ce):
		code := ce.RawCode
		if code == "" {
			code = ocppj.Dialect16.Name(ce.Code)
		}
		return "callerror_" + code
	}
	return "call_other"
}

// dialErrorKind names a connection failure for the error counts.
func dialErrorKind(err error, resp *http.Response) string {
	if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
		return fmt.Sprintf("http_%d", resp.StatusCode)
	}
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "dial_refused"
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return "dial_no_local_port"
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE):
		return "dial_too_many_files"
	case errors.Is(err, syscall.ECONNRESET):
		return "dial_reset"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, syscall.ETIMEDOUT):
		return "dial_timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "dial_timeout"
	}
	return "dial_other"
}

// frameLogger logs every frame at debug level.
type frameLogger struct{ log *slog.Logger }

func (f frameLogger) Frame(in bool, typ int, id, action string, raw []byte) {
	dir := "out"
	if in {
		dir = "in"
	}
	f.log.Debug("frame", "dir", dir, "action", action, "frame", string(raw))
}
func (f frameLogger) CallHandled(action, outcome string, took time.Duration)   {}
func (f frameLogger) CallCompleted(action, outcome string, took time.Duration) {}

// ---- boot, heartbeat ----

// boot sends BootNotification and acts on the answer.
func (s *Station) boot(ctx context.Context) {
	res, err := s.proto.boot(ctx, s)
	now := time.Now()
	s.releaseGate()
	if err != nil {
		s.mu.Lock()
		s.bootAt = now.Add(s.backoffLocked(1))
		s.mu.Unlock()
		return
	}
	interval := res.interval
	s.mu.Lock()
	switch res.status {
	case regAccepted:
		s.needBoot = false
		s.accepted = true
		s.everBooted = true
		s.bootedAt = now
		s.dialFails = 0
		if interval > 0 {
			s.hbInterval = interval
		}
		if s.hbInterval <= 0 {
			s.hbInterval = 5 * time.Minute
		}
		s.nextHB = now.Add(s.hbInterval)
		s.nextFlush = now
	default:
		if interval <= 0 {
			interval = s.cfg.BootRetry
		}
		s.bootAt = now.Add(interval)
	}
	var after []func(ctx context.Context)
	if res.status == regAccepted {
		s.mustBoot = false
		after, s.afterBoot = s.afterBoot, nil
	}
	s.mu.Unlock()
	if res.status != regAccepted {
		s.log.Debug("boot not accepted", "status", res.status, "retry_in", interval)
		return
	}
	s.stats.Boots.Add(1)
	s.stats.Booted.Add(1)
	// Connector 0 first, then every connector, as they are now.
	for i := range s.conns {
		s.mu.Lock()
		st, code := s.conns[i].status, s.conns[i].errorCode
		s.mu.Unlock()
		if s.proto.status(ctx, s, i, st, "", code) != nil {
			return
		}
	}
	for _, fn := range after {
		fn(ctx)
	}
}

// heartbeat sends a Heartbeat when due.
func (s *Station) heartbeat(ctx context.Context, now time.Time) {
	s.mu.Lock()
	due := !s.nextHB.IsZero() && !now.Before(s.nextHB)
	if due {
		s.nextHB = now.Add(s.hbInterval)
	}
	s.mu.Unlock()
	if due {
		s.proto.heartbeat(ctx, s)
	}
}

// setHeartbeatInterval changes the interval (ChangeConfiguration).
func (s *Station) setHeartbeatIntervalLocked(d time.Duration) {
	s.hbInterval = d
	if s.accepted {
		s.nextHB = time.Now().Add(d)
	}
}

// ---- status ----

// setStatus changes a connector's status and reports it when online.
func (s *Station) setStatus(ctx context.Context, c *connector, status string) {
	s.mu.Lock()
	if c.status == status {
		s.mu.Unlock()
		return
	}
	prev := c.status
	c.status = status
	code := c.errorCode
	online := s.link != nil && s.accepted
	s.mu.Unlock()
	if online {
		s.proto.status(ctx, s, c.id, status, prev, code)
	}
}

// sendStatus reports a connector's current status (triggered).
func (s *Station) sendStatus(ctx context.Context, id int) {
	s.mu.Lock()
	st, code := s.conns[id].status, s.conns[id].errorCode
	s.mu.Unlock()
	s.proto.status(ctx, s, id, st, "", code)
}

// ---- jobs: timed sequences set off by commands ----

type job struct {
	at   time.Time
	step func(ctx context.Context, s *Station) (next time.Duration, done bool)
}

// addJob starts a job once the answer being built on link l is sent.
func (s *Station) addJob(l *link, at time.Time, step func(ctx context.Context, s *Station) (time.Duration, bool)) {
	l.after(func(context.Context) {
		s.mu.Lock()
		s.jobs = append(s.jobs, &job{at: at, step: step})
		s.mu.Unlock()
	})
}

func (s *Station) runJobs(ctx context.Context, now time.Time) {
	s.mu.Lock()
	var due []*job
	for _, j := range s.jobs {
		if !now.Before(j.at) {
			due = append(due, j)
		}
	}
	s.mu.Unlock()
	for _, j := range due {
		next, done := j.step(ctx, s)
		s.mu.Lock()
		if done {
			for i, k := range s.jobs {
				if k == j {
					s.jobs = append(s.jobs[:i], s.jobs[i+1:]...)
					break
				}
			}
		} else {
			j.at = time.Now().Add(next)
		}
		s.mu.Unlock()
	}
}

// reboot takes the station down for RebootDelay: transactions are stopped
// with reason (their StopTransaction sent first when graceful, else
// queued for after the reboot), the connection dropped, and the station
// boots again.
func (s *Station) reboot(ctx context.Context, reason string, graceful bool, event string) {
	for _, c := range s.conns[1:] {
		s.stopTx(ctx, c, reason, "", false)
	}
	if graceful && s.Online() {
		s.flush(ctx, time.Now())
	}
	s.closeLink()
	s.mu.Lock()
	now := time.Now()
	s.rebootUntil = now.Add(s.cfg.RebootDelay)
	s.nextDial = s.rebootUntil
	s.dialFails = 0
	s.needBoot = true
	s.mustBoot = true
	if event != "" {
		s.afterBoot = append(s.afterBoot, func(ctx context.Context) { s.proto.securityEvent(ctx, s, event, reason) })
	}
	s.jobs = nil
	// What waited in a job is dropped with it.
	s.v2.resetScheduled, s.v2.fwJob, s.v2.logJob = false, false, false
	s.hbInterval = 0
	s.nextHB = time.Time{}
	s.loadTx = false
	s.loadNext = time.Time{}
	for _, c := range s.conns[1:] {
		c.reservation = nil
		c.remote = false
		c.phase = phaseIdle
		c.nextAt = s.rebootUntil.Add(s.idleGapLocked())
		if c.pendingInoperative != nil {
			c.inoperative = *c.pendingInoperative
			c.pendingInoperative = nil
		}
		c.status = c.restingStatus(s.conns[0])
	}
	s.mu.Unlock()
	s.log.Debug("rebooting", "reason", reason)
}
