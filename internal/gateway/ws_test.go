package gateway

import (
	"bufio"
	"bytes"
	"compress/flate"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// echoServer runs the WebSocket layer alone: every data message is echoed
// back as text (a message over soft is answered "too big <size>").
func echoServer(t *testing.T, soft, hard int64) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, herr := checkHandshake(r)
		if herr != nil {
			for k, v := range herr.header {
				w.Header()[k] = v
			}
			http.Error(w, herr.msg, herr.status)
			return
		}
		proto := ""
		if headerHasToken(r.Header, "Sec-WebSocket-Protocol", "ocpp1.6") {
			proto = "ocpp1.6"
		}
		c, err := upgrade(w, r, key, proto, deflateResponse(r.Header), time.Second)
		if err != nil {
			return
		}
		go func() {
			defer c.closeNow()
			for {
				m, err := c.readMessage(soft, hard)
				if err != nil {
					return
				}
				out := append([]byte(nil), m.data...)
				if m.size > soft {
					out = []byte("too big " + itoa(int(m.size)))
				}
				if err := c.writeFrame(opText, out); err != nil {
					return
				}
			}
		}()
	}))
	t.Cleanup(srv.Close)
	return srv
}

func dialCoder(t *testing.T, url string, opts *websocket.DialOptions) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(url, "http"), opts)
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadLimit(8 << 20)
	t.Cleanup(func() { c.CloseNow() })
	return c
}

func roundTrip(t *testing.T, c *websocket.Conn, msg []byte) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Write(ctx, websocket.MessageText, msg); err != nil {
		t.Fatal(err)
	}
	_, got, err := c.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestWebSocketEchoWithAnIndependentClient(t *testing.T) {
	srv := echoServer(t, 1<<20, 4<<20)
	for _, mode := range []websocket.CompressionMode{websocket.CompressionDisabled, websocket.CompressionNoContextTakeover, websocket.CompressionContextTakeover} {
		c := dialCoder(t, srv.URL, &websocket.DialOptions{Subprotocols: []string{"ocpp1.6"}, CompressionMode: mode, CompressionThreshold: 1})
		if c.Subprotocol() != "ocpp1.6" {
			t.Fatalf("subprotocol %q", c.Subprotocol())
		}
		for _, size := range []int{0, 1, 125, 126, 127, 4095, 4096, 4097, 65535, 65536, 300_000} {
			msg := bytes.Repeat([]byte("é-ocpp-"), size/8+1)[:size]
			if !bytesUTF8Safe(msg) {
				msg = bytes.Repeat([]byte("x"), size)
			}
			for range 2 { // twice: the second one reuses the compression state
				if got := roundTrip(t, c, msg); !bytes.Equal(got, msg) {
					t.Fatalf("mode %v size %d: echo differs (%d bytes back)", mode, size, len(got))
				}
			}
		}
		// The client's own pings are answered.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		go c.Reader(ctx) // a reader must run for pongs to be seen
		if err := c.Ping(ctx); err != nil {
			t.Fatalf("mode %v ping: %v", mode, err)
		}
		cancel()
	}
}

func bytesUTF8Safe(b []byte) bool { return bytes.Equal(bytes.ToValidUTF8(b, nil), b) }

// rawClient speaks WebSocket frames by hand, to send what no library would.
type rawClient struct {
	t  *testing.T
	nc net.Conn
	br *bufio.Reader
}

func dialRaw(t *testing.T, url string, extra string) *rawClient {
	t.Helper()
	nc, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	io.WriteString(nc, "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"+extra+"\r\n")
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 101 || resp.Header.Get("Sec-WebSocket-Accept") != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("handshake: %d %v", resp.StatusCode, resp.Header)
	}
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	return &rawClient{t: t, nc: nc, br: br}
}

func frame(fin bool, rsv, op byte, masked bool, payload []byte) []byte {
	b := []byte{op | rsv<<4, 0}
	if fin {
		b[0] |= 0x80
	}
	switch l := len(payload); {
	case l < 126:
		b[1] = byte(l)
	case l <= 0xFFFF:
		b[1] = 126
		b = binary.BigEndian.AppendUint16(b, uint16(l))
	default:
		b[1] = 127
		b = binary.BigEndian.AppendUint64(b, uint64(l))
	}
	p := append([]byte(nil), payload...)
	if masked {
		b[1] |= 0x80
		var key [4]byte
		rand.Read(key[:])
		b = append(b, key[:]...)
		for i := range p {
			p[i] ^= key[i&3]
		}
	}
	return append(b, p...)
}

func (c *rawClient) send(frames ...[]byte) {
	for _, f := range frames {
		if _, err := c.nc.Write(f); err != nil {
			c.t.Fatal(err)
		}
	}
}

// next reads one frame from the server (which must not mask).
func (c *rawClient) next() (op byte, payload []byte) {
	c.t.Helper()
	var h [2]byte
	if _, err := io.ReadFull(c.br, h[:]); err != nil {
		c.t.Fatalf("reading frame: %v", err)
	}
	if h[1]&0x80 != 0 {
		c.t.Fatal("server frames must not be masked")
	}
	n := int(h[1] & 0x7F)
	switch n {
	case 126:
		var l [2]byte
		io.ReadFull(c.br, l[:])
		n = int(binary.BigEndian.Uint16(l[:]))
	case 127:
		var l [8]byte
		io.ReadFull(c.br, l[:])
		n = int(binary.BigEndian.Uint64(l[:]))
	}
	payload = make([]byte, n)
	if _, err := io.ReadFull(c.br, payload); err != nil {
		c.t.Fatal(err)
	}
	return h[0] & 0xF, payload
}

func (c *rawClient) expectClose(code int) {
	c.t.Helper()
	op, p := c.next()
	if op != opClose || len(p) < 2 || int(binary.BigEndian.Uint16(p)) != code {
		c.t.Fatalf("want close %d, got op %d %q", code, op, p)
	}
}

func TestWebSocketFramingRules(t *testing.T) {
	srv := echoServer(t, 1000, 4000)
	t.Run("fragments with a ping between", func(t *testing.T) {
		c := dialRaw(t, srv.URL, "")
		c.send(frame(false, 0, opText, true, []byte("[2,")), frame(true, 0, opPing, true, []byte("hi")),
			frame(false, 0, opContinuation, true, []byte(`"1",`)), frame(true, 0, opContinuation, true, []byte(`"A",{}]`)))
		if op, p := c.next(); op != opPong || string(p) != "hi" {
			t.Fatalf("pong: %d %q", op, p)
		}
		if op, p := c.next(); op != opText || string(p) != `[2,"1","A",{}]` {
			t.Fatalf("message: %d %q", op, p)
		}
	})
	t.Run("first frame right behind the handshake", func(t *testing.T) {
		nc, _ := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
		defer nc.Close()
		// Handshake and a frame in one write: the frame lands in net/http's buffer.
		nc.Write(append([]byte("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"),
			frame(true, 0, opText, true, []byte("early"))...))
		br := bufio.NewReader(nc)
		if resp, err := http.ReadResponse(br, nil); err != nil || resp.StatusCode != 101 {
			t.Fatalf("handshake: %v", err)
		}
		c := &rawClient{t: t, nc: nc, br: br}
		nc.SetDeadline(time.Now().Add(5 * time.Second))
		if op, p := c.next(); op != opText || string(p) != "early" {
			t.Fatalf("got %d %q", op, p)
		}
	})
	tests := []struct {
		name   string
		frames [][]byte
		code   int
	}{
		{"unmasked client frame", [][]byte{frame(true, 0, opText, false, []byte("x"))}, closeProtocolError},
		{"reserved bit without an extension", [][]byte{frame(true, 2, opText, true, []byte("x"))}, closeProtocolError},
		{"compressed bit not negotiated", [][]byte{frame(true, 4, opText, true, []byte("x"))}, closeProtocolError},
		{"unknown opcode", [][]byte{frame(true, 0, 0x3, true, []byte("x"))}, closeProtocolError},
		{"continuation first", [][]byte{frame(true, 0, opContinuation, true, []byte("x"))}, closeProtocolError},
		{"new message inside a fragmented one", [][]byte{frame(false, 0, opText, true, []byte("a")), frame(true, 0, opText, true, []byte("b"))}, closeProtocolError},
		{"fragmented ping", [][]byte{frame(false, 0, opPing, true, nil)}, closeProtocolError},
		{"long ping", [][]byte{frame(true, 0, opPing, true, make([]byte, 126))}, closeProtocolError},
		{"invalid UTF-8 text", [][]byte{frame(true, 0, opText, true, []byte{0xff, 0xfe})}, closeInvalidPayload},
		{"over the hard limit", [][]byte{frame(true, 0, opText, true, make([]byte, 4001))}, closeMessageTooBig},
		{"bad close code", [][]byte{frame(true, 0, opClose, true, []byte{0x03, 0xE7})}, closeProtocolError},
		{"one-byte close", [][]byte{frame(true, 0, opClose, true, []byte{0x03})}, closeProtocolError},
		{"client close is echoed", [][]byte{frame(true, 0, opClose, true, []byte{0x03, 0xE8, 'b', 'y', 'e'})}, closeNormal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dialRaw(t, srv.URL, "")
			c.send(tt.frames...)
			c.expectClose(tt.code)
		})
	}
	t.Run("over the soft limit: answered, connection kept", func(t *testing.T) {
		c := dialRaw(t, srv.URL, "")
		c.send(frame(false, 0, opText, true, make([]byte, 900)), frame(true, 0, opContinuation, true, bytes.Repeat([]byte("a"), 900)))
		if op, p := c.next(); op != opText || string(p) != "too big 1800" {
			t.Fatalf("got %d %q", op, p)
		}
		c.send(frame(true, 0, opText, true, []byte("still here")))
		if _, p := c.next(); string(p) != "still here" {
			t.Fatalf("got %q", p)
		}
	})
	t.Run("compressed message by hand", func(t *testing.T) {
		c := dialRaw(t, srv.URL, "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n")
		var buf bytes.Buffer
		fw, _ := flate.NewWriter(&buf, flate.BestCompression)
		fw.Write(bytes.Repeat([]byte(`{"a":1}`), 50))
		fw.Flush()
		p := bytes.TrimSuffix(buf.Bytes(), []byte{0, 0, 0xff, 0xff})
		c.send(frame(true, 4, opText, true, p))
		if _, got := c.next(); string(got) != strings.Repeat(`{"a":1}`, 50) {
			t.Fatalf("got %q", got)
		}
		// A compression bomb is refused by the hard limit.
		buf.Reset()
		fw.Reset(&buf)
		fw.Write(make([]byte, 1<<20))
		fw.Flush()
		c.send(frame(true, 4, opText, true, bytes.TrimSuffix(buf.Bytes(), []byte{0, 0, 0xff, 0xff})))
		c.expectClose(closeMessageTooBig)
	})
}

func TestHandshakeRefusals(t *testing.T) {
	srv := echoServer(t, 1000, 4000)
	for _, tt := range []struct {
		name   string
		header string
		status int
	}{
		{"not a websocket request", "Connection: keep-alive\r\n", http.StatusUpgradeRequired},
		{"old version", "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n", http.StatusUpgradeRequired},
		{"bad key", "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n", http.StatusBadRequest},
		{"no Connection: Upgrade", "Upgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n", http.StatusBadRequest},
	} {
		t.Run(tt.name, func(t *testing.T) {
			nc, _ := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
			defer nc.Close()
			io.WriteString(nc, "GET / HTTP/1.1\r\nHost: x\r\n"+tt.header+"\r\n")
			resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
			if err != nil || resp.StatusCode != tt.status {
				t.Fatalf("got %v %v, want %d", resp.StatusCode, err, tt.status)
			}
		})
	}
}

func TestDeflateNegotiation(t *testing.T) {
	for _, tt := range []struct{ offer, want string }{
		{"", ""},
		{"x-webkit-deflate-frame", ""},
		{"permessage-deflate", "permessage-deflate; server_no_context_takeover; client_no_context_takeover"},
		{"permessage-deflate; client_max_window_bits", "permessage-deflate; server_no_context_takeover; client_no_context_takeover"},
		{"permessage-deflate; server_max_window_bits=10", "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10"},
		{"permessage-deflate; server_max_window_bits=99, permessage-deflate", "permessage-deflate; server_no_context_takeover; client_no_context_takeover"},
		{"permessage-deflate; mystery=1", ""},
	} {
		h := http.Header{}
		if tt.offer != "" {
			h.Set("Sec-WebSocket-Extensions", tt.offer)
		}
		if got := deflateResponse(h); got != tt.want {
			t.Errorf("%q: got %q want %q", tt.offer, got, tt.want)
		}
	}
}

func TestUnmaskMatchesByteByByte(t *testing.T) {
	key := [4]byte{0x12, 0x34, 0x56, 0x78}
	for n := range 70 {
		p := make([]byte, n)
		rand.Read(p)
		want := append([]byte(nil), p...)
		for i := range want {
			want[i] ^= key[i&3]
		}
		unmask(p, key, 0)
		if !bytes.Equal(p, want) {
			t.Fatalf("length %d", n)
		}
	}
}

// FuzzReadMessage feeds arbitrary client bytes to the frame reader: it
// must never panic, and whatever it accepts obeys the limits.
func FuzzReadMessage(f *testing.F) {
	f.Add(frame(true, 0, opText, true, []byte(`[2,"1","Heartbeat",{}]`)))
	f.Add(append(frame(false, 0, opText, true, []byte("a")), frame(true, 0, opContinuation, true, []byte("b"))...))
	f.Add(frame(true, 4, opText, true, []byte{0x4a, 0x04, 0x00}))
	f.Add(frame(true, 0, opPing, true, []byte("p")))
	f.Fuzz(func(t *testing.T, data []byte) {
		server, client := net.Pipe()
		defer server.Close()
		go func() {
			client.Write(data)
			client.Close()
		}()
		go io.Copy(io.Discard, client) // pongs and closes
		c := &wsConn{nc: server, deflate: true}
		for range 10 {
			m, err := c.readMessage(256, 1024)
			if err != nil {
				var ce *closeError
				if errors.As(err, &ce) && ce.code == 0 {
					t.Fatal("close error without a code")
				}
				return
			}
			if int64(len(m.data)) > 257 || m.size > 1024 {
				t.Fatalf("limits broken: kept %d of %d", len(m.data), m.size)
			}
		}
	})
}
