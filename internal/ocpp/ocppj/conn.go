package ocppj

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Socket carries whole messages; a WebSocket connection in production, a
// pipe in tests. Write must be safe for concurrent use.
type Socket interface {
	Write(ctx context.Context, msg []byte) error
}

// Handler answers the peer's CALLs. HandleCall appends the encoded response
// payload (a JSON object) to dst and returns it, or returns an error: a
// *CallError is sent as is, anything else as InternalError without details.
// Calls are handled one at a time, in order, on the read loop's goroutine.
type Handler interface {
	HandleCall(ctx context.Context, action string, payload []byte, dst []byte) ([]byte, error)
}

// Observer sees every frame on a connection (message log, metrics). It is
// called synchronously and must be quick; raw is only valid during the call.
type Observer interface {
	// Frame is called for each message received (in=true) or sent.
	// action is the action of the CALL a result or error answers, when known.
	Frame(in bool, typ int, id, action string, raw []byte)
	// CallHandled is called after a received CALL was answered.
	// outcome is "ok" or the wire error code.
	CallHandled(action, outcome string, took time.Duration)
	// CallCompleted is called when a CALL we sent ends: outcome "ok", the
	// peer's error code, "timeout" or "closed".
	CallCompleted(action, outcome string, took time.Duration)
}

// Options configure a Conn.
type Options struct {
	Dialect     *Dialect
	Handler     Handler
	Observer    Observer      // optional
	CallTimeout time.Duration // how long to wait for an answer to our CALL; default 30s
	// IDPrefix makes our message ids unique across reconnects; default: random.
	IDPrefix string
}

// Conn is the RPC state of one OCPP-J connection. It keeps at most one CALL
// of ours outstanding (the spec's rule); later calls wait in a queue.
type Conn struct {
	sock    Socket
	opts    Options
	nextID  atomic.Uint64
	mu      sync.Mutex
	pending *call   // our CALL awaiting an answer
	queue   []*call // our CALLs waiting to be sent
	closed  error   // set once: why the connection closed
}

type call struct {
	id      string
	action  string
	frame   []byte
	sent    time.Time
	timer   *time.Timer
	done    chan struct{}
	result  []byte
	err     error
	noReply bool // SEND: completes once written
}

// Result is the peer's answer to our CALL.
type Result struct {
	Payload []byte // the CALLRESULT payload (a JSON object), owned by the caller
}

var idSeq atomic.Uint64

// NewConn returns a Conn writing through sock.
func NewConn(sock Socket, opts Options) *Conn {
	if opts.Dialect == nil {
		opts.Dialect = Dialect16
	}
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = 30 * time.Second
	}
	if opts.IDPrefix == "" {
		// Unique within this process and, by the time component, across restarts.
		opts.IDPrefix = strconv.FormatUint(uint64(time.Now().UnixNano())&0xffffffff, 36) + "-" + strconv.FormatUint(idSeq.Add(1), 36) + "-"
	}
	return &Conn{sock: sock, opts: opts}
}

// Dialect returns the connection's OCPP-J dialect.
func (c *Conn) Dialect() *Dialect { return c.opts.Dialect }

// Call sends a CALL and waits for the answer. A CALLERROR answer is returned
// as *CallError. The ctx bounds the wait; a CALL already on the wire is
// still tracked until answered or timed out (Options.CallTimeout), so the
// one-outstanding rule holds even when the caller gives up.
func (c *Conn) Call(ctx context.Context, action string, payload []byte) (Result, error) {
	cl := c.newCall(action, payload, false)
	if err := c.enqueue(cl); err != nil {
		return Result{}, err
	}
	select {
	case <-cl.done:
		if cl.err != nil {
			return Result{}, cl.err
		}
		return Result{Payload: cl.result}, nil
	case <-ctx.Done():
		c.abandon(cl)
		return Result{}, ctx.Err()
	}
}

// Send sends a 2.1 SEND message (no answer); it is queued behind our
// outstanding CALL like any other message of ours.
func (c *Conn) Send(ctx context.Context, action string, payload []byte) error {
	if !c.opts.Dialect.Send {
		return errors.New("ocppj: SEND is not part of " + c.opts.Dialect.Version)
	}
	cl := c.newCall(action, payload, true)
	if err := c.enqueue(cl); err != nil {
		return err
	}
	select {
	case <-cl.done:
		return cl.err
	case <-ctx.Done():
		c.abandon(cl)
		return ctx.Err()
	}
}

func (c *Conn) newCall(action string, payload []byte, send bool) *call {
	id := c.opts.IDPrefix + strconv.FormatUint(c.nextID.Add(1), 36)
	var frame []byte
	if send {
		frame = AppendSend(make([]byte, 0, len(payload)+len(id)+len(action)+16), id, action, payload)
	} else {
		frame = AppendCall(make([]byte, 0, len(payload)+len(id)+len(action)+16), id, action, payload)
	}
	return &call{id: id, action: action, frame: frame, done: make(chan struct{}), noReply: send}
}

func (c *Conn) enqueue(cl *call) error {
	c.mu.Lock()
	if c.closed != nil {
		c.mu.Unlock()
		return ErrClosed
	}
	c.queue = append(c.queue, cl)
	c.mu.Unlock()
	c.pump()
	return nil
}

// pump sends the next queued call when none is outstanding. Only the
// goroutine that installs a call as pending writes it, so writes of our
// CALLs never overlap and stay in order.
func (c *Conn) pump() {
	for {
		c.mu.Lock()
		if c.closed != nil || c.pending != nil || len(c.queue) == 0 {
			c.mu.Unlock()
			return
		}
		cl := c.queue[0]
		c.queue[0] = nil
		c.queue = c.queue[1:]
		if len(c.queue) == 0 {
			c.queue = nil // release the backing array of an idle connection
		}
		if !cl.noReply {
			c.pending = cl
			cl.sent = time.Now()
			cl.timer = time.AfterFunc(c.opts.CallTimeout, func() { c.timeout(cl) })
		}
		c.mu.Unlock()

		if o := c.opts.Observer; o != nil {
			typ := TypeCall
			if cl.noReply {
				typ = TypeSend
			}
			o.Frame(false, typ, cl.id, cl.action, cl.frame)
		}
		err := c.sock.Write(context.Background(), cl.frame)
		if cl.noReply {
			cl.err = err
			close(cl.done)
			continue
		}
		if err != nil {
			c.finish(cl, nil, err, "closed")
		}
	}
}

// finish completes the pending call cl (if it still is) and sends the next.
func (c *Conn) finish(cl *call, result []byte, err error, outcome string) {
	c.mu.Lock()
	if c.pending != cl {
		c.mu.Unlock()
		return
	}
	c.pending = nil
	c.mu.Unlock()
	cl.timer.Stop()
	cl.result, cl.err = result, err
	close(cl.done)
	if o := c.opts.Observer; o != nil {
		o.CallCompleted(cl.action, outcome, time.Since(cl.sent))
	}
	c.pump()
}

func (c *Conn) timeout(cl *call) { c.finish(cl, nil, ErrTimeout, "timeout") }

// abandon handles a caller that stopped waiting: a queued call is dropped;
// a call on the wire stays pending until answered or timed out, so the
// one-outstanding rule holds, and its answer is then discarded.
func (c *Conn) abandon(cl *call) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, q := range c.queue {
		if q == cl {
			c.queue = append(c.queue[:i], c.queue[i+1:]...)
			return
		}
	}
}

// Close fails every call waiting on the connection; later calls get
// ErrClosed. It does not close the socket (its owner does).
func (c *Conn) Close() {
	c.mu.Lock()
	if c.closed != nil {
		c.mu.Unlock()
		return
	}
	c.closed = ErrClosed
	pending, queue := c.pending, c.queue
	c.pending, c.queue = nil, nil
	c.mu.Unlock()
	if pending != nil {
		pending.timer.Stop()
		pending.err = ErrClosed
		close(pending.done)
		if o := c.opts.Observer; o != nil {
			o.CallCompleted(pending.action, "closed", time.Since(pending.sent))
		}
	}
	for _, q := range queue {
		q.err = ErrClosed
		close(q.done)
	}
}

// Pending reports the number of our calls outstanding or queued.
func (c *Conn) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(c.queue)
	if c.pending != nil {
		n++
	}
	return n
}

// bufPool holds response buffers; most OCPP answers are well under 1 KiB.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// HandleMessage processes one message received from the peer: a CALL is
// handed to the Handler and answered; an answer completes our pending CALL.
// It returns an error only when writing to the socket failed.
func (c *Conn) HandleMessage(ctx context.Context, msg []byte) error {
	f, err := Parse(msg)
	d := c.opts.Dialect
	if err != nil {
		return c.handleBadFrame(ctx, msg, &f, err.(*FrameError))
	}
	obs := c.opts.Observer
	switch f.Type {
	case TypeCall:
		if obs != nil {
			obs.Frame(true, TypeCall, f.ID, f.Action, msg)
		}
		return c.handleCall(ctx, &f)
	case TypeSend:
		if !d.Send {
			if obs != nil {
				obs.Frame(true, f.Type, f.ID, f.Action, msg)
			}
			return c.unknownType(ctx, &f)
		}
		if obs != nil {
			obs.Frame(true, TypeSend, f.ID, f.Action, msg)
		}
		start := time.Now()
		bp := bufPool.Get().(*[]byte)
		_, herr := c.opts.Handler.HandleCall(ctx, f.Action, f.Payload, (*bp)[:0])
		bufPool.Put(bp)
		if obs != nil {
			outcome := "ok"
			if herr != nil {
				outcome = c.errorFor(herr).Code.String()
			}
			obs.CallHandled(f.Action, outcome, time.Since(start))
		}
		return nil // SEND gets no answer, not even an error
	case TypeCallResult, TypeCallError, TypeCallResultError:
		if f.Type == TypeCallResultError && !d.CallResultError {
			if obs != nil {
				obs.Frame(true, f.Type, f.ID, "", msg)
			}
			return c.unknownType(ctx, &f)
		}
		c.mu.Lock()
		cl := c.pending
		if cl == nil || cl.id != f.ID {
			cl = nil
		}
		c.mu.Unlock()
		action := ""
		if cl != nil {
			action = cl.action
		}
		if obs != nil {
			obs.Frame(true, f.Type, f.ID, action, msg)
		}
		if cl == nil {
			// A late answer to a call that timed out, or an answer to nothing:
			// nothing to do (answering an answer is not allowed).
			return nil
		}
		switch f.Type {
		case TypeCallResult:
			c.finish(cl, append([]byte(nil), f.Payload...), nil, "ok")
		default:
			ce := &CallError{Code: d.Code(f.ErrorCode), RawCode: f.ErrorCode, Description: f.ErrorDescription}
			if len(f.ErrorDetails) > 0 {
				ce.Details = append([]byte(nil), f.ErrorDetails...)
			}
			c.finish(cl, nil, ce, f.ErrorCode)
		}
		return nil
	}
	return nil
}

func (c *Conn) handleCall(ctx context.Context, f *Frame) error {
	start := time.Now()
	bp := bufPool.Get().(*[]byte)
	buf := AppendCallResultPrefix((*bp)[:0], f.ID)
	prefix := len(buf)
	out, err := c.opts.Handler.HandleCall(ctx, f.Action, f.Payload, buf)
	outcome := "ok"
	if err != nil {
		ce := c.errorFor(err)
		outcome = c.opts.Dialect.Name(ce.Code)
		out = AppendCallError(buf[:0], TypeCallError, f.ID, outcome, ce.Description, ce.Details)
	} else {
		if len(out) == prefix {
			out = append(out, "{}"...)
		}
		out = append(out, ']')
	}
	werr := c.write(ctx, out, TypeCall+1+boolInt(err != nil), f.ID, f.Action)
	if cap(out) <= 64<<10 {
		*bp = out[:0]
		bufPool.Put(bp)
	}
	if o := c.opts.Observer; o != nil {
		o.CallHandled(f.Action, outcome, time.Since(start))
	}
	return werr
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// errorFor turns a handler error into the CallError to send.
func (c *Conn) errorFor(err error) *CallError {
	var ce *CallError
	if errors.As(err, &ce) {
		return ce
	}
	return &CallError{Code: InternalError, Description: "internal error"}
}

func (c *Conn) write(ctx context.Context, frame []byte, typ int, id, action string) error {
	if o := c.opts.Observer; o != nil {
		o.Frame(false, typ, id, action, frame)
	}
	return c.sock.Write(ctx, frame)
}

// handleBadFrame answers a message that is not a valid frame, when it can.
func (c *Conn) handleBadFrame(ctx context.Context, msg []byte, f *Frame, fe *FrameError) error {
	d := c.opts.Dialect
	if o := c.opts.Observer; o != nil {
		o.Frame(true, fe.Type, fe.ID, f.Action, msg)
	}
	if fe.UnknownType {
		return c.unknownType(ctx, f)
	}
	// Never answer an answer: a broken CALLRESULT/CALLERROR is dropped
	// (its call will time out), as the spec forbids replying to one.
	if fe.Type == TypeCallResult || fe.Type == TypeCallError || fe.Type == TypeCallResultError {
		return nil
	}
	id := fe.ID
	code := FormationViolation
	switch {
	case !fe.HasID:
		// OCPP 2.x: a CALLERROR whose message id could not be read uses "-1".
		id = "-1"
		if !fe.Syntax && d.Version != Dialect16.Version {
			code = RPCFrameworkError
		} else if !fe.Syntax {
			code = ProtocolError
		}
	case !fe.Syntax && fe.Type == TypeCall && f.Action == "":
		code = ProtocolError
		if d.Version != Dialect16.Version {
			code = RPCFrameworkError
		}
	case !fe.Syntax:
		code = FormationViolation
	}
	if len(id) > d.MaxMessageIDLen {
		id = "-1"
	}
	out := AppendCallError(nil, TypeCallError, id, d.Name(code), fe.Msg, nil)
	return c.write(ctx, out, TypeCallError, id, f.Action)
}

// unknownType applies the dialect's rule for unknown message types.
func (c *Conn) unknownType(ctx context.Context, f *Frame) error {
	d := c.opts.Dialect
	if d.UnknownMessageType == IgnoreUnknownMessageType || f.ID == "" {
		return nil
	}
	out := AppendCallError(nil, TypeCallError, f.ID, d.Name(MessageTypeNotSupported), "message type "+strconv.Itoa(f.Type)+" is not supported", nil)
	return c.write(ctx, out, TypeCallError, f.ID, "")
}
