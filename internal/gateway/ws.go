package gateway

// A WebSocket server connection (RFC 6455, with RFC 7692 permessage-deflate
// for incoming messages) built for many mostly idle connections:
//
//   - No per-connection buffers while idle. The read loop waits for the
//     socket to become readable through syscall.RawConn and takes a pooled
//     buffer only when there is something to read; leftover bytes of a
//     following frame keep it until they are consumed.
//   - One write system call per message (writev of header and payload).
//   - Liveness is a sweep over all connections (ping after silence, close
//     when the pong does not come), not a timer per connection.
//
// A general-purpose library (coder/websocket) costs about 24 KiB per idle
// connection here, mostly its two bufio buffers and a read goroutine whose
// stack grew handling messages; this costs a fraction of that (see
// docs/benchmarks.md). Only the server side is implemented: clients of our
// own (simulator, tests) use coder/websocket, which also tests this code
// against an independent implementation.

import (
	"bytes"
	"compress/flate"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"
)

// WebSocket opcodes.
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xA
)

// Close status codes used here.
const (
	closeNormal          = 1000
	closeGoingAway       = 1001
	closeProtocolError   = 1002
	closeUnsupportedData = 1003
	closeInvalidPayload  = 1007
	closePolicyViolation = 1008
	closeMessageTooBig   = 1009
	closeInternalError   = 1011
)

// closeError is how a connection ended, as a WebSocket close status.
type closeError struct {
	code   int
	reason string
	remote bool // the peer sent the close frame
}

func (e *closeError) Error() string {
	who := "we"
	if e.remote {
		who = "the station"
	}
	return fmt.Sprintf("websocket closed by %s: %d %s", who, e.code, e.reason)
}

var errReadTimeout = errors.New("websocket: read timed out")

const (
	readBufSize     = 4096
	maxControlFrame = 125
	websocketGUID   = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
)

var readBufs = sync.Pool{New: func() any { b := make([]byte, readBufSize); return &b }}

// wsConn is a server-side WebSocket connection.
type wsConn struct {
	nc      net.Conn
	rc      syscall.RawConn // nil when nc is not a *net.TCPConn (tests): plain reads then
	deflate bool            // permessage-deflate negotiated: RSV1 marks compressed messages

	// Read side, used only by the read loop.
	in         *[]byte // pooled buffer holding unread bytes in [rpos:rend], nil when none
	rpos, rend int
	msg        []byte // the message being assembled (reused while small)

	// Write side.
	wmu       sync.Mutex
	closeSent bool

	pingSent atomic.Int64 // unix nanos of our unanswered ping, 0 when none
	lastRead atomic.Int64 // unix nanos of the last frame received (pongs included)
}

// handshakeError is a refused opening handshake.
type handshakeError struct {
	status int
	msg    string
	header http.Header
}

func (e *handshakeError) Error() string { return "websocket handshake: " + e.msg }

// checkHandshake validates the client's opening handshake (RFC 6455 §4.2.1).
func checkHandshake(r *http.Request) (key string, err *handshakeError) {
	switch {
	case r.Method != http.MethodGet:
		return "", &handshakeError{status: http.StatusMethodNotAllowed, msg: "method must be GET"}
	case !r.ProtoAtLeast(1, 1):
		return "", &handshakeError{status: http.StatusBadRequest, msg: "HTTP/1.1 or later required"}
	case !headerHasToken(r.Header, "Upgrade", "websocket"):
		return "", &handshakeError{status: http.StatusUpgradeRequired, msg: "this is an OCPP-J WebSocket endpoint: Upgrade: websocket required",
			header: http.Header{"Upgrade": {"websocket"}, "Connection": {"Upgrade"}}}
	case !headerHasToken(r.Header, "Connection", "upgrade"):
		return "", &handshakeError{status: http.StatusBadRequest, msg: "Connection: Upgrade required"}
	case r.Header.Get("Sec-WebSocket-Version") != "13":
		return "", &handshakeError{status: http.StatusUpgradeRequired, msg: "unsupported WebSocket version",
			header: http.Header{"Sec-WebSocket-Version": {"13"}}}
	}
	key = strings.TrimSpace(r.Header.Get("Sec-WebSocket-Key"))
	if b, err := base64.StdEncoding.DecodeString(key); err != nil || len(b) != 16 {
		return "", &handshakeError{status: http.StatusBadRequest, msg: "bad Sec-WebSocket-Key"}
	}
	return key, nil
}

// headerHasToken reports whether a comma-separated header lists token.
func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// deflateResponse answers a permessage-deflate offer, or returns "" to
// decline it. We never compress what we send (OCPP answers are small), so
// any window size the client asks of us is honoured; incoming messages are
// decompressed one at a time, so the client must not keep its context.
func deflateResponse(h http.Header) string {
	for _, v := range h.Values("Sec-WebSocket-Extensions") {
		for _, offer := range strings.Split(v, ",") {
			params := strings.Split(offer, ";")
			if strings.TrimSpace(params[0]) != "permessage-deflate" {
				continue
			}
			resp := "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
			ok := true
			for _, p := range params[1:] {
				name, val, _ := strings.Cut(strings.TrimSpace(p), "=")
				val = strings.Trim(val, `"`)
				switch name {
				case "server_no_context_takeover", "client_no_context_takeover", "client_max_window_bits":
				case "server_max_window_bits":
					if n, err := strconv.Atoi(val); err != nil || n < 8 || n > 15 {
						ok = false
					} else {
						resp += "; server_max_window_bits=" + val
					}
				default:
					ok = false // a parameter we do not know: decline this offer
				}
			}
			if ok {
				return resp
			}
		}
	}
	return ""
}

// upgrade completes the opening handshake: it hijacks the connection and
// writes the 101 answer with the chosen subprotocol ("" for none) and
// extension.
func upgrade(w http.ResponseWriter, r *http.Request, key, protocol, extension string, writeTimeout time.Duration) (*wsConn, error) {
	nc, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return nil, fmt.Errorf("hijacking the connection: %w", err)
	}
	c := &wsConn{nc: nc, deflate: extension != ""}
	if tcp, ok := nc.(*net.TCPConn); ok {
		if c.rc, err = tcp.SyscallConn(); err != nil {
			nc.Close()
			return nil, err
		}
	}
	// Bytes the station sent right behind its handshake (its first frame)
	// may already sit in net/http's buffer: keep them.
	if n := brw.Reader.Buffered(); n > 0 {
		head, _ := brw.Reader.Peek(n)
		c.keep(head)
	}
	sum := sha1.Sum([]byte(key + websocketGUID))
	var b strings.Builder
	b.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ")
	b.WriteString(base64.StdEncoding.EncodeToString(sum[:]))
	if protocol != "" {
		b.WriteString("\r\nSec-WebSocket-Protocol: " + protocol)
	}
	if extension != "" {
		b.WriteString("\r\nSec-WebSocket-Extensions: " + extension)
	}
	b.WriteString("\r\n\r\n")
	nc.SetDeadline(time.Time{})
	nc.SetWriteDeadline(time.Now().Add(writeTimeout))
	if _, err := io.WriteString(nc, b.String()); err != nil {
		nc.Close()
		return nil, fmt.Errorf("writing the handshake answer: %w", err)
	}
	return c, nil
}

// keep stores bytes to be read before anything from the socket.
func (c *wsConn) keep(b []byte) {
	if len(b) == 0 {
		return
	}
	if c.in == nil {
		c.in = readBufs.Get().(*[]byte)
		c.rpos, c.rend = 0, 0
	}
	buf := *c.in
	if c.rend+len(b) > len(buf) {
		nb := make([]byte, max(readBufSize, c.rend-c.rpos+len(b)))
		n := copy(nb, buf[c.rpos:c.rend])
		c.releaseIn()
		c.in, c.rpos, c.rend = &nb, 0, n
		buf = nb
	}
	c.rend += copy(buf[c.rend:], b)
}

func (c *wsConn) releaseIn() {
	if c.in != nil && len(*c.in) == readBufSize {
		readBufs.Put(c.in)
	}
	c.in, c.rpos, c.rend = nil, 0, 0
}

// fill reads from the socket into the read buffer, blocking until at least
// one byte arrives. While it waits it holds no buffer.
func (c *wsConn) fill() error {
	if c.in != nil && c.rpos == c.rend {
		c.rpos, c.rend = 0, 0
	}
	if c.in != nil && c.rend == len(*c.in) {
		// Compact: the unread tail goes to the front.
		buf := *c.in
		c.rend = copy(buf, buf[c.rpos:c.rend])
		c.rpos = 0
	}
	if c.rc == nil {
		if c.in == nil {
			c.in = readBufs.Get().(*[]byte)
		}
		n, err := c.nc.Read((*c.in)[c.rend:])
		c.rend += n
		if n > 0 {
			return nil
		}
		if err == nil {
			err = io.ErrNoProgress
		}
		return c.readErr(err)
	}
	var n int
	var rerr error
	err := c.rc.Read(func(fd uintptr) bool {
		if c.in == nil {
			c.in = readBufs.Get().(*[]byte)
			c.rpos, c.rend = 0, 0
		}
		for {
			n, rerr = syscall.Read(int(fd), (*c.in)[c.rend:])
			if rerr != syscall.EINTR {
				break
			}
		}
		if rerr == syscall.EAGAIN {
			if c.rpos == c.rend {
				c.releaseIn() // idle: wait without a buffer
			}
			return false
		}
		return true
	})
	if err != nil {
		return c.readErr(err)
	}
	if rerr != nil {
		return c.readErr(rerr)
	}
	if n == 0 {
		return io.EOF
	}
	c.rend += n
	return nil
}

func (c *wsConn) readErr(err error) error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return errReadTimeout
	}
	return err
}

// wait blocks until there is something to read. The read loop calls it
// before readMessage so that an idle connection's goroutine waits with a
// shallow stack, which the garbage collector then shrinks to the minimum.
//
//go:noinline
func (c *wsConn) wait() error {
	if c.buffered() > 0 {
		return nil
	}
	return c.fill()
}

// buffered returns the number of unread bytes.
func (c *wsConn) buffered() int {
	if c.in == nil {
		return 0
	}
	return c.rend - c.rpos
}

// need makes at least n (≤ readBufSize) bytes available.
func (c *wsConn) need(n int) error {
	for c.buffered() < n {
		if err := c.fill(); err != nil {
			return err
		}
	}
	return nil
}

// readInto fills p from the buffer, then from the socket.
func (c *wsConn) readInto(p []byte) error {
	for len(p) > 0 {
		if c.buffered() == 0 {
			if err := c.fill(); err != nil {
				return err
			}
		}
		n := copy(p, (*c.in)[c.rpos:c.rend])
		c.rpos += n
		p = p[n:]
	}
	if c.in != nil && c.rpos == c.rend {
		c.releaseIn()
	}
	return nil
}

// discard skips n bytes.
func (c *wsConn) discard(n int64) error {
	for n > 0 {
		if c.buffered() == 0 {
			if err := c.fill(); err != nil {
				return err
			}
		}
		k := min(int64(c.buffered()), n)
		c.rpos += int(k)
		n -= k
	}
	if c.in != nil && c.rpos == c.rend {
		c.releaseIn()
	}
	return nil
}

type frameHeader struct {
	fin    bool
	rsv    byte // the three RSV bits, shifted down
	op     byte
	masked bool
	length int64
	mask   [4]byte
}

func (c *wsConn) readHeader() (frameHeader, error) {
	var h frameHeader
	if err := c.need(2); err != nil {
		return h, err
	}
	b := (*c.in)[c.rpos:]
	h.fin = b[0]&0x80 != 0
	h.rsv = (b[0] >> 4) & 0x7
	h.op = b[0] & 0xF
	h.masked = b[1]&0x80 != 0
	size := 2
	switch l := b[1] & 0x7F; l {
	case 126:
		size += 2
	case 127:
		size += 8
	default:
		h.length = int64(l)
	}
	if h.masked {
		size += 4
	}
	if err := c.need(size); err != nil {
		return h, err
	}
	b = (*c.in)[c.rpos:]
	p := 2
	switch b[1] & 0x7F {
	case 126:
		h.length = int64(binary.BigEndian.Uint16(b[2:4]))
		p = 4
	case 127:
		u := binary.BigEndian.Uint64(b[2:10])
		if u > 1<<62 {
			return h, &closeError{code: closeProtocolError, reason: "frame length out of range"}
		}
		h.length = int64(u)
		p = 10
	}
	if h.masked {
		copy(h.mask[:], b[p:p+4])
	}
	c.rpos += size
	c.lastRead.Store(time.Now().UnixNano())
	return h, nil
}

// unmask XORs p with the mask key, starting at key offset off.
func unmask(p []byte, key [4]byte, off int) {
	if len(p) >= 8 {
		var k [8]byte
		for i := range k {
			k[i] = key[(off+i)&3]
		}
		k64 := binary.LittleEndian.Uint64(k[:])
		for len(p) >= 8 {
			binary.LittleEndian.PutUint64(p, binary.LittleEndian.Uint64(p)^k64)
			p = p[8:]
		}
		// off advances by multiples of 8, which keeps (off & 3) unchanged.
	}
	for i := range p {
		p[i] ^= key[(off+i)&3]
	}
}

// message is one received data message.
type message struct {
	data   []byte // valid until the next readMessage
	size   int64  // the full size; > len(data) when the message was too big and cut
	binary bool
}

// readMessage reads the next data message, answering pings and handling
// pongs and close frames on the way. A message larger than soft is read
// only up to soft+1 bytes (the rest is discarded) so it can be refused
// politely; one larger than hard closes the connection (1009).
func (c *wsConn) readMessage(soft, hard int64) (message, error) {
	var m message
	started := false
	compressed := false
	c.msg = c.msg[:0]
	for {
		h, err := c.readHeader()
		if err != nil {
			return m, err
		}
		if !h.masked {
			return m, c.fail(closeProtocolError, "client frames must be masked")
		}
		if h.rsv&^0x4 != 0 || h.rsv&0x4 != 0 && (!c.deflate || h.op >= opClose || h.op == opContinuation) {
			return m, c.fail(closeProtocolError, "reserved bits set")
		}
		if h.op >= opClose {
			if !h.fin || h.length > maxControlFrame {
				return m, c.fail(closeProtocolError, "bad control frame")
			}
			var buf [maxControlFrame]byte
			p := buf[:h.length]
			if err := c.readInto(p); err != nil {
				return m, err
			}
			unmask(p, h.mask, 0)
			if err := c.control(h.op, p); err != nil {
				return m, err
			}
			continue
		}
		switch {
		case h.op != opContinuation && h.op != opText && h.op != opBinary:
			return m, c.fail(closeProtocolError, "unknown opcode")
		case h.op == opContinuation && !started:
			return m, c.fail(closeProtocolError, "continuation without a message")
		case h.op != opContinuation && started:
			return m, c.fail(closeProtocolError, "new message inside a fragmented one")
		}
		if !started {
			started = true
			m.binary = h.op == opBinary
			compressed = h.rsv&0x4 != 0
		}
		if m.size+h.length > hard {
			return m, c.fail(closeMessageTooBig, "message too big")
		}
		// Keep what fits under the soft limit (plus one byte, to tell the
		// message was too big); a compressed message is kept whole (hard
		// bounds it) since it can only be judged once inflated.
		limit := soft + 1
		if compressed {
			limit = hard
		}
		keepN := min(h.length, max(0, limit-int64(len(c.msg))))
		if keepN > 0 {
			start := len(c.msg)
			c.msg = append(c.msg, make([]byte, keepN)...)
			if err := c.readInto(c.msg[start:]); err != nil {
				return m, err
			}
			unmask(c.msg[start:], h.mask, 0)
		}
		if rest := h.length - keepN; rest > 0 {
			if err := c.discard(rest); err != nil {
				return m, err
			}
		}
		m.size += h.length
		if h.fin {
			break
		}
	}
	m.data = c.msg
	if compressed {
		out, err := inflate(m.data, hard)
		if err != nil {
			if errors.Is(err, errTooBig) {
				return m, c.fail(closeMessageTooBig, "message too big")
			}
			return m, c.fail(closeInvalidPayload, "bad compressed data")
		}
		m.data, m.size = out, int64(len(out))
		if m.size > soft {
			m.data = m.data[:soft+1]
		}
	}
	if !m.binary && m.size == int64(len(m.data)) && !utf8.Valid(m.data) {
		return m, c.fail(closeInvalidPayload, "text message is not valid UTF-8")
	}
	if cap(c.msg) > 64<<10 {
		c.msg = nil // do not keep a big buffer on an idle connection
	}
	return m, nil
}

var errTooBig = errors.New("too big")

var inflaters sync.Pool

// inflate decompresses a permessage-deflate message (RFC 7692 §7.2.2).
func inflate(p []byte, limit int64) ([]byte, error) {
	src := io.MultiReader(bytes.NewReader(p), bytes.NewReader([]byte{0x00, 0x00, 0xff, 0xff}))
	fr, _ := inflaters.Get().(io.ReadCloser)
	if fr == nil {
		fr = flate.NewReader(src)
	} else {
		fr.(flate.Resetter).Reset(src, nil)
	}
	defer inflaters.Put(fr)
	out, err := io.ReadAll(io.LimitReader(fr, limit+1))
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, err
	}
	if int64(len(out)) > limit {
		return nil, errTooBig
	}
	return out, nil
}

// control handles a control frame.
func (c *wsConn) control(op byte, p []byte) error {
	switch op {
	case opPing:
		return c.writeFrame(opPong, p)
	case opPong:
		c.pingSent.Store(0)
		return nil
	case opClose:
		code, reason := closeNormal, ""
		switch {
		case len(p) == 1:
			return c.fail(closeProtocolError, "bad close frame")
		case len(p) >= 2:
			code = int(binary.BigEndian.Uint16(p))
			reason = string(p[2:])
			if !validCloseCode(code) || !utf8.ValidString(reason) {
				return c.fail(closeProtocolError, "bad close frame")
			}
		}
		c.sendClose(code, "")
		return &closeError{code: code, reason: reason, remote: true}
	}
	return nil
}

func validCloseCode(code int) bool {
	switch {
	case code >= 3000 && code <= 4999:
		return true
	case code >= 1000 && code <= 1011 && code != 1004 && code != 1005 && code != 1006:
		return true
	}
	return false
}

// fail sends a close frame for a protocol violation and returns the error
// that ends the read loop.
func (c *wsConn) fail(code int, reason string) error {
	c.sendClose(code, reason)
	return &closeError{code: code, reason: reason}
}

// writeFrame writes one unfragmented frame.
func (c *wsConn) writeFrame(op byte, payload []byte) error {
	var hdr [10]byte
	hdr[0] = 0x80 | op
	n := 2
	switch l := len(payload); {
	case l < 126:
		hdr[1] = byte(l)
	case l <= 0xFFFF:
		hdr[1] = 126
		binary.BigEndian.PutUint16(hdr[2:], uint16(l))
		n = 4
	default:
		hdr[1] = 127
		binary.BigEndian.PutUint64(hdr[2:], uint64(l))
		n = 10
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closeSent {
		return net.ErrClosed
	}
	if op == opClose {
		c.closeSent = true
	}
	bufs := net.Buffers{hdr[:n], payload}
	_, err := bufs.WriteTo(c.nc)
	return err
}

// setWriteDeadline bounds the next writes.
func (c *wsConn) setWriteDeadline(t time.Time) { c.nc.SetWriteDeadline(t) }

// sendClose sends a close frame once; later calls do nothing.
func (c *wsConn) sendClose(code int, reason string) {
	if len(reason) > maxControlFrame-2 {
		reason = reason[:maxControlFrame-2]
	}
	p := make([]byte, 2+len(reason))
	binary.BigEndian.PutUint16(p, uint16(code))
	copy(p[2:], reason)
	c.nc.SetWriteDeadline(time.Now().Add(2 * time.Second))
	c.writeFrame(opClose, p)
}

// close closes with a close frame and gives the peer a moment to answer
// before the read loop gives up.
func (c *wsConn) close(code int, reason string) {
	c.sendClose(code, reason)
	c.nc.SetReadDeadline(time.Now().Add(3 * time.Second))
}

// closeNow drops the TCP connection.
func (c *wsConn) closeNow() { c.nc.Close() }

// release returns the read buffer (the connection is finished).
func (c *wsConn) release() {
	c.releaseIn()
	c.msg = nil
}
