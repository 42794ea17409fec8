// Package ocppj implements the OCPP-J RPC framework shared by OCPP 1.6, 2.0.1
// and 2.1 over WebSocket: frame parsing and encoding, error codes per
// version, and a connection that tracks calls in both directions (one
// outstanding CALL each way, an outbound queue, timeouts). It knows nothing
// of WebSocket libraries or of message payloads: the read loop hands it raw
// messages, it hands payloads to a Handler and writes through a Socket.
package ocppj

import (
	"github.com/chargestar/chargestar/internal/ocpp/jsonx"
	"strconv"
	"unicode/utf8"
)

// Message type numbers.
const (
	TypeCall            = 2
	TypeCallResult      = 3
	TypeCallError       = 4
	TypeCallResultError = 5 // 2.1: an error about a received CALLRESULT
	TypeSend            = 6 // 2.1: a call that gets no answer
)

// maxDepth bounds JSON nesting so hostile input cannot exhaust the stack.
const maxDepth = 64

// Frame is one parsed OCPP-J message. Payload and Details alias the input.
type Frame struct {
	Type             int
	ID               string
	Action           string // CALL and SEND
	Payload          []byte // CALL, CALLRESULT, SEND: the raw JSON object
	ErrorCode        string // CALLERROR, CALLRESULTERROR
	ErrorDescription string
	ErrorDetails     []byte
}

// FrameError says why a message is not a valid frame. ID is set when the
// message id could be read, so the peer can be answered.
type FrameError struct {
	ID     string
	HasID  bool
	Type   int  // the message type, when it could be read
	Syntax bool // the message is not valid JSON (else: valid JSON, wrong structure)
	// UnknownType: a well-formed frame with a message type number we do not know.
	UnknownType bool
	Msg         string
}

func (e *FrameError) Error() string { return "ocppj: " + e.Msg }

// Parse parses one OCPP-J message.
func Parse(data []byte) (Frame, error) {
	var f Frame
	p := parser{b: data}
	p.ws()
	if !p.eat('[') {
		return f, p.fail(&f, "message is not a JSON array")
	}
	p.ws()
	typ, ok := p.int()
	if !ok {
		return f, p.fail(&f, "first element must be the message type number")
	}
	f.Type = typ
	if !p.comma() {
		return f, p.fail(&f, "message id missing")
	}
	id, ok := p.str()
	if !ok {
		return f, p.fail(&f, "message id must be a string")
	}
	if id == "" {
		return f, p.fail(&f, "message id is empty")
	}
	f.ID = id
	switch typ {
	case TypeCall, TypeSend:
		if !p.comma() {
			return f, p.failID(&f, "action missing")
		}
		a, ok := p.str()
		if !ok || a == "" {
			return f, p.failID(&f, "action must be a non-empty string")
		}
		f.Action = a
		if !p.comma() {
			return f, p.failID(&f, "payload missing")
		}
		if f.Payload, ok = p.object(); !ok {
			return f, p.failID(&f, p.why("payload must be a JSON object"))
		}
	case TypeCallResult:
		if !p.comma() {
			return f, p.failID(&f, "payload missing")
		}
		if f.Payload, ok = p.object(); !ok {
			return f, p.failID(&f, p.why("payload must be a JSON object"))
		}
	case TypeCallError, TypeCallResultError:
		if !p.comma() {
			return f, p.failID(&f, "error code missing")
		}
		if f.ErrorCode, ok = p.str(); !ok {
			return f, p.failID(&f, "error code must be a string")
		}
		if !p.comma() {
			return f, p.failID(&f, "error description missing")
		}
		if f.ErrorDescription, ok = p.str(); !ok {
			return f, p.failID(&f, "error description must be a string")
		}
		// Details are mandatory in the spec but often left out; tolerate that.
		if p.comma() {
			if f.ErrorDetails, ok = p.object(); !ok {
				return f, p.failID(&f, p.why("error details must be a JSON object"))
			}
		}
	default:
		// Skip the rest so a well-formed unknown frame is told apart from garbage.
		for p.comma() {
			if _, ok := p.value(0); !ok {
				return f, p.failID(&f, "malformed element")
			}
		}
		p.ws()
		if !p.eat(']') {
			return f, p.failID(&f, "malformed message")
		}
		return f, &FrameError{ID: id, HasID: true, Type: typ, UnknownType: true, Msg: "unknown message type " + strconv.Itoa(typ)}
	}
	p.ws()
	if !p.eat(']') {
		return f, p.failID(&f, p.why("too many elements or missing closing bracket"))
	}
	p.ws()
	if p.i != len(p.b) {
		return f, p.failID(&f, "trailing data after the message")
	}
	return f, nil
}

type parser struct {
	b      []byte
	i      int
	syntax bool // a JSON syntax error (not just structure) was seen
}

func (p *parser) why(structural string) string {
	if p.syntax {
		return "invalid JSON at byte " + strconv.Itoa(p.i)
	}
	return structural
}

func (p *parser) fail(f *Frame, msg string) error {
	return &FrameError{Type: f.Type, Syntax: p.syntax || !p.validJSON(), Msg: p.why(msg)}
}

func (p *parser) failID(f *Frame, msg string) error {
	return &FrameError{ID: f.ID, HasID: true, Type: f.Type, Syntax: p.syntax || !p.validJSON(), Msg: msg}
}

// validJSON reports whether the whole input is one valid JSON value, to tell
// a syntax error from a structural one.
func (p *parser) validJSON() bool {
	q := parser{b: p.b}
	q.ws()
	if _, ok := q.value(0); !ok {
		return false
	}
	q.ws()
	return q.i == len(q.b)
}

func (p *parser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *parser) eat(c byte) bool {
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *parser) comma() bool {
	p.ws()
	if !p.eat(',') {
		return false
	}
	p.ws()
	return true
}

// int reads a JSON number that is a small non-negative integer.
func (p *parser) int() (int, bool) {
	start := p.i
	if _, ok := p.number(); !ok {
		return 0, false
	}
	n, err := strconv.Atoi(string(p.b[start:p.i]))
	if err != nil || n < 0 || n > 1000 {
		return 0, false
	}
	return n, true
}

// object reads a JSON object (or null, taken as {}) and returns its bytes.
func (p *parser) object() ([]byte, bool) {
	start := p.i
	if p.i+4 <= len(p.b) && string(p.b[p.i:p.i+4]) == "null" {
		p.i += 4
		return []byte("{}"), true
	}
	if p.i >= len(p.b) || p.b[p.i] != '{' {
		if _, ok := p.value(0); !ok {
			p.syntax = true
		}
		return nil, false
	}
	if _, ok := p.value(0); !ok {
		p.syntax = true
		return nil, false
	}
	return p.b[start:p.i], true
}

// str reads a JSON string and returns it unescaped.
func (p *parser) str() (string, bool) {
	if p.i >= len(p.b) || p.b[p.i] != '"' {
		if p.i < len(p.b) {
			if _, ok := p.value(0); !ok {
				p.syntax = true
			}
		}
		return "", false
	}
	start := p.i + 1
	raw, ok := p.stringToken()
	if !ok {
		p.syntax = true
		return "", false
	}
	if !raw {
		return string(p.b[start : p.i-1]), true
	}
	return unescape(p.b[start : p.i-1]), true
}

// stringToken skips a string starting at p.b[p.i]=='"'. escaped reports
// whether it contains escapes.
func (p *parser) stringToken() (escaped bool, ok bool) {
	p.i++
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			p.i++
			return escaped, true
		case c == '\\':
			escaped = true
			p.i++
			if p.i >= len(p.b) {
				return escaped, false
			}
			switch p.b[p.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				p.i++
			case 'u':
				if p.i+5 > len(p.b) {
					return escaped, false
				}
				for _, h := range p.b[p.i+1 : p.i+5] {
					if !isHex(h) {
						return escaped, false
					}
				}
				p.i += 5
			default:
				return escaped, false
			}
		case c < 0x20:
			return escaped, false
		case c < utf8.RuneSelf:
			p.i++
		default:
			r, size := utf8.DecodeRune(p.b[p.i:])
			if r == utf8.RuneError && size == 1 {
				return escaped, false
			}
			p.i += size
		}
	}
	return escaped, false
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// number skips a JSON number.
func (p *parser) number() (int, bool) {
	start := p.i
	p.eat('-')
	if p.i >= len(p.b) {
		return 0, false
	}
	if p.b[p.i] == '0' {
		p.i++
	} else if '1' <= p.b[p.i] && p.b[p.i] <= '9' {
		for p.i < len(p.b) && '0' <= p.b[p.i] && p.b[p.i] <= '9' {
			p.i++
		}
	} else {
		return 0, false
	}
	if p.eat('.') {
		d := p.i
		for p.i < len(p.b) && '0' <= p.b[p.i] && p.b[p.i] <= '9' {
			p.i++
		}
		if p.i == d {
			return 0, false
		}
	}
	if p.i < len(p.b) && (p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		p.i++
		if !p.eat('+') {
			p.eat('-')
		}
		d := p.i
		for p.i < len(p.b) && '0' <= p.b[p.i] && p.b[p.i] <= '9' {
			p.i++
		}
		if p.i == d {
			return 0, false
		}
	}
	return p.i - start, true
}

// value skips any JSON value, validating its syntax.
func (p *parser) value(depth int) (int, bool) {
	if depth > maxDepth {
		return 0, false
	}
	start := p.i
	if p.i >= len(p.b) {
		return 0, false
	}
	switch c := p.b[p.i]; {
	case c == '"':
		if _, ok := p.stringToken(); !ok {
			return 0, false
		}
	case c == '{':
		p.i++
		p.ws()
		if p.eat('}') {
			break
		}
		for {
			p.ws()
			if p.i >= len(p.b) || p.b[p.i] != '"' {
				return 0, false
			}
			if _, ok := p.stringToken(); !ok {
				return 0, false
			}
			p.ws()
			if !p.eat(':') {
				return 0, false
			}
			p.ws()
			if _, ok := p.value(depth + 1); !ok {
				return 0, false
			}
			p.ws()
			if p.eat('}') {
				break
			}
			if !p.eat(',') {
				return 0, false
			}
		}
	case c == '[':
		p.i++
		p.ws()
		if p.eat(']') {
			break
		}
		for {
			p.ws()
			if _, ok := p.value(depth + 1); !ok {
				return 0, false
			}
			p.ws()
			if p.eat(']') {
				break
			}
			if !p.eat(',') {
				return 0, false
			}
		}
	case c == '-' || '0' <= c && c <= '9':
		if _, ok := p.number(); !ok {
			return 0, false
		}
	default:
		for _, lit := range [...]string{"true", "false", "null"} {
			if p.i+len(lit) <= len(p.b) && string(p.b[p.i:p.i+len(lit)]) == lit {
				p.i += len(lit)
				return p.i - start, true
			}
		}
		return 0, false
	}
	return p.i - start, true
}

// unescape decodes a JSON string body already checked by stringToken.
func unescape(b []byte) string {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		switch b[i] {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r := hex4(b[i+1 : i+5])
			i += 4
			if 0xD800 <= r && r < 0xDC00 && i+6 < len(b) && b[i+1] == '\\' && b[i+2] == 'u' {
				r2 := hex4(b[i+3 : i+7])
				if 0xDC00 <= r2 && r2 < 0xE000 {
					r = (r-0xD800)<<10 + (r2 - 0xDC00) + 0x10000
					i += 6
				}
			}
			if 0xD800 <= r && r < 0xE000 {
				r = utf8.RuneError
			}
			out = utf8.AppendRune(out, r)
		default: // '"', '\\', '/'
			out = append(out, b[i])
		}
	}
	return string(out)
}

func hex4(b []byte) rune {
	var r rune
	for _, c := range b {
		r <<= 4
		switch {
		case '0' <= c && c <= '9':
			r |= rune(c - '0')
		case 'a' <= c && c <= 'f':
			r |= rune(c-'a') + 10
		default:
			r |= rune(c-'A') + 10
		}
	}
	return r
}

// AppendCall appends [2,"id","action",payload].
func AppendCall(dst []byte, id, action string, payload []byte) []byte {
	dst = append(dst, "[2,"...)
	dst = jsonx.AppendString(dst, id)
	dst = append(dst, ',')
	dst = jsonx.AppendString(dst, action)
	dst = append(dst, ',')
	dst = appendPayload(dst, payload)
	return append(dst, ']')
}

// AppendSend appends [6,"id","action",payload] (2.1).
func AppendSend(dst []byte, id, action string, payload []byte) []byte {
	dst = append(dst, "[6,"...)
	dst = jsonx.AppendString(dst, id)
	dst = append(dst, ',')
	dst = jsonx.AppendString(dst, action)
	dst = append(dst, ',')
	dst = appendPayload(dst, payload)
	return append(dst, ']')
}

// AppendCallResultPrefix appends `[3,"id",`; the caller appends the payload
// and then a closing ']'. This lets handlers encode straight into the frame.
func AppendCallResultPrefix(dst []byte, id string) []byte {
	dst = append(dst, "[3,"...)
	dst = jsonx.AppendString(dst, id)
	return append(dst, ',')
}

// AppendCallResult appends [3,"id",payload].
func AppendCallResult(dst []byte, id string, payload []byte) []byte {
	dst = AppendCallResultPrefix(dst, id)
	dst = appendPayload(dst, payload)
	return append(dst, ']')
}

// AppendCallError appends [4,"id","code","description",details]
// (or type 5 for a CALLRESULTERROR).
func AppendCallError(dst []byte, typ int, id, code, description string, details []byte) []byte {
	dst = append(dst, '[')
	dst = strconv.AppendInt(dst, int64(typ), 10)
	dst = append(dst, ',')
	dst = jsonx.AppendString(dst, id)
	dst = append(dst, ',')
	dst = jsonx.AppendString(dst, code)
	dst = append(dst, ',')
	dst = jsonx.AppendString(dst, description)
	dst = append(dst, ',')
	dst = appendPayload(dst, details)
	return append(dst, ']')
}

func appendPayload(dst, payload []byte) []byte {
	if len(payload) == 0 {
		return append(dst, "{}"...)
	}
	return append(dst, payload...)
}

// AppendString appends s as a JSON string (exported for other encoders).
func AppendString(dst []byte, s string) []byte { return jsonx.AppendString(dst, s) }

// PeekCall reads the message type and id from the head of a message that
// may be cut short (an oversized message is only partly kept).
func PeekCall(head []byte) (typ int, id string, ok bool) {
	p := parser{b: head}
	p.ws()
	if !p.eat('[') {
		return 0, "", false
	}
	p.ws()
	if typ, ok = p.int(); !ok || !p.comma() {
		return 0, "", false
	}
	if id, ok = p.str(); !ok || id == "" {
		return 0, "", false
	}
	return typ, id, true
}
