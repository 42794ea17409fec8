// Package ocpp holds the version-independent runtime types shared by the
// generated OCPP message packages (internal/ocpp/v16, v201, v21): the Message
// interface every request/response implements, ActionInfo (the per-version
// action registry entry), DecodeOptions, ValidationError and DateTime.
//
// The generated packages decode and validate a JSON payload in one pass
// (DecodeOCPP), encode compact JSON (AppendOCPP) and validate Go-built values
// (Validate). See internal/ocpp/ocppgen/README.md for naming rules and the
// deliberate divergences from the strict JSON schemas.
package ocpp

import "encoding/json"

// Version is an OCPP-J protocol version as negotiated in the WebSocket
// subprotocol header.
type Version string

// Supported OCPP-J versions (the values are the WebSocket subprotocol names).
const (
	V16  Version = "ocpp1.6"
	V201 Version = "ocpp2.0.1"
	V21  Version = "ocpp2.1"
)

// DecodeOptions controls DecodeOCPP.
type DecodeOptions struct {
	// DisallowUnknownFields makes properties not in the schema a KindFormation
	// error (all OCPP schemas say additionalProperties:false). By default
	// unknown properties are skipped (their JSON syntax is still checked) so
	// that real stations adding a vendor field are not rejected; they are
	// reported through OnUnknownField.
	DisallowUnknownFields bool

	// OnUnknownField, if non-nil and DisallowUnknownFields is false, is called
	// once for every skipped unknown property, in document order, with the
	// JSON path of the property (e.g. "meterValue[0].vendorX"). It is called
	// while decoding, so it may also be called for a payload that later turns
	// out to be invalid. Computing the path costs a rescan of the payload
	// prefix, which only happens when an unknown property is present.
	// Properties of 2.x customData objects are never "unknown": customData
	// allows additional properties and keeps them (CustomData.Extra).
	OnUnknownField func(path string)
}

// Message is implemented by every generated request and response type
// (pointer receivers).
type Message interface {
	// DecodeOCPP decodes and validates a JSON payload in one pass. Schema
	// violations return *ValidationError; nothing else is returned for bad
	// input. The receiver is reset first.
	DecodeOCPP(data []byte, opts DecodeOptions) error
	// AppendOCPP appends the compact JSON encoding of the message to dst.
	AppendOCPP(dst []byte) []byte
	// Validate checks a value built in Go (outbound messages) against the
	// schema. It returns nil or a *ValidationError.
	Validate() error
}

// ActionInfo describes one OCPP action of a version.
type ActionInfo struct {
	Name        string         // e.g. "BootNotification"
	FromStation bool           // the station sends the request (CP→CSMS)
	ToStation   bool           // the CSMS sends the request (CSMS→CP). DataTransfer is both.
	NewRequest  func() Message // returns a new zero request value (pointer)
	NewResponse func() Message // nil for a 2.1 SEND-only message (NotifyPeriodicEventStream)
}

// RawField is one additional member of an object whose schema allows
// additional properties (the 2.x customData object). Value holds the member's
// JSON value (compacted, otherwise verbatim).
type RawField struct {
	Name  string
	Value json.RawMessage
}
