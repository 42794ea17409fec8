package ocppj

import (
	"errors"
	"fmt"
)

// ErrorCode is an RPC error code, independent of the OCPP version; a Dialect
// gives each code its name on the wire (1.6 spells some differently).
type ErrorCode int

// The RPC error codes of OCPP-J 1.6, 2.0.1 and 2.1.
const (
	NotImplemented                ErrorCode = iota + 1 // unknown action
	NotSupported                                       // known action, not supported by this side
	InternalError                                      // failure on our side
	ProtocolError                                      // payload incomplete / frame structure wrong (1.6)
	SecurityError                                      // e.g. a call before the station was accepted
	FormationViolation                                 // payload syntactically wrong (2.x: FormatViolation)
	PropertyConstraintViolation                        // a field has an invalid value
	OccurrenceConstraintViolation                      // a required field is missing (1.6: OccurenceConstraintViolation)
	TypeConstraintViolation                            // a field has the wrong type
	GenericError                                       // anything else
	MessageTypeNotSupported                            // 2.x: unknown message type number
	RPCFrameworkError                                  // 2.x: not a valid RPC frame, e.g. message id unreadable
)

// CallError is an RPC error: received in a CALLERROR, or returned by a
// handler to be sent as one.
type CallError struct {
	Code        ErrorCode
	RawCode     string // the code as received on the wire (may be unknown to us)
	Description string
	Details     []byte // JSON object; nil means {}
}

func (e *CallError) Error() string {
	code := e.RawCode
	if code == "" {
		code = Dialect16.Name(e.Code)
	}
	if e.Description == "" {
		return code
	}
	return code + ": " + e.Description
}

// Errorf builds a CallError with a formatted description.
func Errorf(code ErrorCode, format string, args ...any) *CallError {
	return &CallError{Code: code, Description: fmt.Sprintf(format, args...)}
}

var (
	// ErrTimeout: the peer did not answer a CALL in time.
	ErrTimeout = errors.New("ocppj: call timed out")
	// ErrClosed: the connection closed before the CALL was answered or sent.
	ErrClosed = errors.New("ocppj: connection closed")
)

// UnknownMessageTypePolicy says what to do with a frame whose message type
// number is not known.
type UnknownMessageTypePolicy int

const (
	// IgnoreUnknownMessageType: OCPP-J 1.6 §4.1.3 says the message SHALL be ignored.
	IgnoreUnknownMessageType UnknownMessageTypePolicy = iota
	// RejectUnknownMessageType: 2.x answers CALLERROR MessageTypeNotSupported.
	RejectUnknownMessageType
)

// Dialect holds what differs between OCPP-J versions at the RPC level.
type Dialect struct {
	Version            string // the subprotocol, e.g. "ocpp1.6"
	names              map[ErrorCode]string
	codes              map[string]ErrorCode
	UnknownMessageType UnknownMessageTypePolicy
	// CallResultError: message type 5 (CALLRESULTERROR) exists (2.1).
	CallResultError bool
	// Send: message type 6 (SEND, no answer) exists (2.1).
	Send bool
	// MaxMessageIDLen is the longest message id accepted (2.x: 36).
	MaxMessageIDLen int
}

func newDialect(name string, names map[ErrorCode]string, p UnknownMessageTypePolicy, v21 bool, maxID int) *Dialect {
	d := &Dialect{Version: name, names: names, codes: make(map[string]ErrorCode, len(names)), UnknownMessageType: p, CallResultError: v21, Send: v21, MaxMessageIDLen: maxID}
	for c, n := range names {
		d.codes[n] = c
	}
	return d
}

var names16 = map[ErrorCode]string{
	NotImplemented:                "NotImplemented",
	NotSupported:                  "NotSupported",
	InternalError:                 "InternalError",
	ProtocolError:                 "ProtocolError",
	SecurityError:                 "SecurityError",
	FormationViolation:            "FormationViolation",
	PropertyConstraintViolation:   "PropertyConstraintViolation",
	OccurrenceConstraintViolation: "OccurenceConstraintViolation", // sic, as in OCPP-J 1.6
	TypeConstraintViolation:       "TypeConstraintViolation",
	GenericError:                  "GenericError",
}

var names2x = map[ErrorCode]string{
	NotImplemented:                "NotImplemented",
	NotSupported:                  "NotSupported",
	InternalError:                 "InternalError",
	ProtocolError:                 "ProtocolError",
	SecurityError:                 "SecurityError",
	FormationViolation:            "FormatViolation",
	PropertyConstraintViolation:   "PropertyConstraintViolation",
	OccurrenceConstraintViolation: "OccurrenceConstraintViolation",
	TypeConstraintViolation:       "TypeConstraintViolation",
	GenericError:                  "GenericError",
	MessageTypeNotSupported:       "MessageTypeNotSupported",
	RPCFrameworkError:             "RpcFrameworkError",
}

// The dialects of the OCPP-J versions Charge Star speaks.
var (
	Dialect16  = newDialect("ocpp1.6", names16, IgnoreUnknownMessageType, false, 128)
	Dialect201 = newDialect("ocpp2.0.1", names2x, RejectUnknownMessageType, false, 36)
	Dialect21  = newDialect("ocpp2.1", names2x, RejectUnknownMessageType, true, 36)
)

// Name returns the wire name of code in this dialect, mapping codes the
// dialect lacks onto their closest relative.
func (d *Dialect) Name(code ErrorCode) string {
	if n, ok := d.names[code]; ok {
		return n
	}
	switch code {
	case MessageTypeNotSupported, RPCFrameworkError:
		return d.names[ProtocolError]
	}
	return d.names[GenericError]
}

// Code parses a wire error code; unknown names are GenericError.
func (d *Dialect) Code(name string) ErrorCode {
	if c, ok := d.codes[name]; ok {
		return c
	}
	// Accept the other version's spelling too: peers mix them up.
	switch name {
	case "OccurenceConstraintViolation", "OccurrenceConstraintViolation":
		return OccurrenceConstraintViolation
	case "FormationViolation", "FormatViolation":
		return FormationViolation
	}
	return GenericError
}

func (e ErrorCode) String() string { return Dialect201.Name(e) }
