// Package model holds the plain data types shared by the store, the CSMS core
// and the API. They carry no behaviour and no database or JSON tags: each
// layer maps them to its own representation.
package model

import "time"

// Operator is a tenant: a car-park operator owning sites and stations.
type Operator struct {
	ID        string
	Name      string
	Currency  string // ISO 4217, e.g. "AUD"
	Country   string // ISO 3166-1 alpha-2, e.g. "AU"
	CreatedAt time.Time

	// The seller on receipts and tax invoices.
	LegalName string
	TaxID     string // Australian Business Number for AU operators
	Address   string
	// SettlementMode says whose merchant account collects drivers'
	// payments: SettlementPlatform (the platform collects and pays the
	// operator out) or SettlementDirect (the operator's own account,
	// MerchantAccount, with the platform's fee taken at capture).
	SettlementMode  string
	MerchantAccount string

	// Alerts (internal/alerts): where their webhooks go ("" none), the
	// secret that signs them, and how long a station may be offline and a
	// payment stuck before an alert opens (0: the defaults below).
	AlertWebhookURL          string
	AlertWebhookSecret       string
	AlertOfflineMinutes      int
	AlertPaymentStuckMinutes int
}

// Default alert thresholds (the database's column defaults).
const (
	DefaultAlertOfflineMinutes      = 10
	DefaultAlertPaymentStuckMinutes = 30
)

// Settlement modes of an operator.
const (
	SettlementPlatform = "platform"
	SettlementDirect   = "direct"
)

// APIToken is a bearer token for the REST API. Only the SHA-256 hash of the
// token is stored. OperatorID is "" for a platform-administrator token.
type APIToken struct {
	ID         string
	OperatorID string
	Name       string
	Hash       []byte
	CreatedAt  time.Time
	RevokedAt  *time.Time
}

// Site is a car park: a place with stations, a timezone and tax details.
type Site struct {
	ID         string
	OperatorID string
	Name       string
	Address    string
	Timezone   string // IANA name, e.g. "Australia/Sydney"
	CreatedAt  time.Time
	// LegalName and TaxID: the site's own GST/ABN details (a car park
	// owned by another entity); "" means the operator's.
	LegalName string
	TaxID     string
}

// Station is a charging station (an OCPP charge point), identified by its
// OCPP identity (the last path segment of its WebSocket URL).
type Station struct {
	ID                 string
	OperatorID         string
	SiteID             string // "" when not assigned to a site
	PasswordHash       []byte // nil when Basic authentication is off; see csms.HashStationPassword
	Protocol           string // last negotiated: "ocpp1.6", "ocpp2.0.1", "ocpp2.1", "ocpp1.5-soap", "ocpp1.6-soap"; "" before first connect
	Vendor             string
	Model              string
	SerialNumber       string // chargePointSerialNumber (1.6) / chargingStation.serialNumber (2.x)
	ChargeBoxSerial    string // 1.6 chargeBoxSerialNumber (deprecated field, still sent)
	FirmwareVersion    string
	ICCID              string
	IMSI               string
	MeterType          string
	MeterSerialNumber  string
	RegistrationStatus string // last BootNotification answer: "Accepted", "Pending", "Rejected"; "" never booted
	HeartbeatInterval  int    // seconds, as last told to the station
	LastBootAt         *time.Time
	LastSeenAt         *time.Time
	FirmwareStatus     string // last FirmwareStatusNotification status
	FirmwareStatusAt   *time.Time
	DiagnosticsStatus  string // last DiagnosticsStatusNotification / LogStatusNotification status
	DiagnosticsAt      *time.Time
	CreatedAt          time.Time
	RetiredAt          *time.Time
}

// Connector is one outlet of a station. ConnectorID 0 is the station itself
// (1.6) and is stored but not listed by the API. For 2.x stations the
// connector id is the EVSE id.
type Connector struct {
	StationID       string
	ConnectorID     int
	Status          string // OCPP 1.6 status names; 2.x statuses are mapped onto them
	ErrorCode       string // 1.6 ChargePointErrorCode ("NoError" when fine)
	Info            string
	VendorID        string
	VendorErrorCode string
	StatusAt        time.Time // the station's timestamp for the status (or receive time if it sent none)
	UpdatedAt       time.Time // when we stored it
}

// StatusEvent is one StatusNotification as received, kept as history for the
// availability and fault reports.
type StatusEvent struct {
	ID              int64
	StationID       string
	ConnectorID     int
	Status          string
	ErrorCode       string
	Info            string
	VendorID        string
	VendorErrorCode string
	Timestamp       time.Time // station's timestamp
	ReceivedAt      time.Time
}

// Token statuses an operator can give an IDToken.
const (
	TokenAccepted = "Accepted"
	TokenBlocked  = "Blocked"
	TokenExpired  = "Expired"
	TokenInvalid  = "Invalid"
)

// IDToken is an RFID card or other identifier an operator authorises directly.
type IDToken struct {
	OperatorID  string
	IDToken     string // as the station sends it (case-insensitive match, stored as given)
	Status      string // TokenAccepted, TokenBlocked, TokenExpired, TokenInvalid
	ExpiresAt   *time.Time
	ParentIDTag string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Session statuses.
const (
	SessionActive    = "active"
	SessionCompleted = "completed"
)

// Payment statuses of a session (the billing issue fills these in).
const (
	PaymentNone       = "none"
	PaymentAuthorized = "authorized"
	PaymentCaptured   = "captured"
	PaymentVoided     = "voided"
	PaymentFailed     = "failed"
)

// How a session's stop was learnt.
const (
	StopSourceStation   = "station"   // the station reported the stop (StopTransaction / TransactionEvent Ended)
	StopSourceEstimated = "estimated" // closed by us (superseded, station rebooted without reporting); a later station report corrects it
)

// Session is one charging transaction.
type Session struct {
	ID              string // public id, "ses_…"
	OperatorID      string
	StationID       string
	ConnectorID     int
	TransactionID   string // the station-facing transaction id: 1.6 integer as decimal text, 2.x the station's string
	IDTag           string
	ReservationID   *int
	Status          string // SessionActive, SessionCompleted
	StartedAt       time.Time
	StoppedAt       *time.Time
	MeterStartWh    int64
	MeterStopWh     *int64
	EnergyWh        int64 // final energy once completed; for an active session the store fills it from the latest meter value
	StopReason      string
	StopIDTag       string
	StopSource      string // StopSourceStation, StopSourceEstimated, "" while active
	TransactionData bool   // the stop carried transactionData (stored as meter values)
	AmountTotal     int64  // minor units, tax included
	AmountTax       int64
	Currency        string
	PaymentStatus   string
	CreatedAt       time.Time
	UpdatedAt       time.Time

	// 2.x: the station reported no energy register at start; the first reading becomes the start
	MeterStartUnknown bool
}

// SampledValue is one OCPP sampled value as received, normalised to the 1.6
// vocabulary (2.x values are mapped by their adapter).
type SampledValue struct {
	Value     string `json:"value"` // as sent, not parsed, so nothing is lost
	Context   string `json:"context,omitempty"`
	Format    string `json:"format,omitempty"`
	Measurand string `json:"measurand,omitempty"`
	Phase     string `json:"phase,omitempty"`
	Location  string `json:"location,omitempty"`
	Unit      string `json:"unit,omitempty"`
}

// MeterValue is one timestamped group of sampled values from a station.
// EnergyWh, PowerW and SoC are extracted from the samples (the import energy
// register in Wh, active import power in W, state of charge in %) so reports
// and live pages need not parse Samples.
type MeterValue struct {
	ID            int64
	StationID     string
	ConnectorID   int
	SessionID     string // "" when not tied to a session
	TransactionID string
	Timestamp     time.Time
	Context       string // the first sample's context, for filtering (e.g. "Transaction.End")
	EnergyWh      *float64
	PowerW        *float64
	SoC           *float64
	Samples       []SampledValue
	ReceivedAt    time.Time
	// SeqNo is the seqNo of the 2.x TransactionEvent the value came in,
	// when HasSeqNo.
	SeqNo    int
	HasSeqNo bool
}

// Message log directions.
const (
	DirectionIn  = "in"  // station → CSMS
	DirectionOut = "out" // CSMS → station
)

// MessageLogEntry is one OCPP frame exchanged with a station.
type MessageLogEntry struct {
	ID          int64
	StationID   string
	At          time.Time
	Direction   string // DirectionIn, DirectionOut
	MessageType int    // 2 CALL, 3 CALLRESULT, 4 CALLERROR, 5 CALLRESULTERROR, 6 SEND
	MessageID   string
	Action      string // for results and errors: the action of the call they answer
	Payload     string // the whole frame as sent on the wire
}

// TransactionEvent is one OCPP 2.x TransactionEventRequest as received,
// kept so that a replay (the same station, transaction and seqNo) is
// recognised and answered without being applied twice, and so that the
// order the station meant (seqNo) can be reconstructed.
type TransactionEvent struct {
	StationID     string
	TransactionID string
	SeqNo         int
	EventType     string // "Started", "Updated", "Ended"
	TriggerReason string
	ChargingState string // "" when the event carried none
	Offline       bool
	Timestamp     time.Time // the station's
	ReceivedAt    time.Time
}

// StationVariable is one attribute of one variable of a 2.x station's device
// model (Component/Variable/attribute type), as last reported by the station
// (NotifyReport, GetVariables) or set by us (SetVariables accepted).
type StationVariable struct {
	StationID         string
	Component         string
	ComponentInstance string
	EVSEID            int // 0: none
	ConnectorID       int // 0: none
	Variable          string
	VariableInstance  string
	AttributeType     string // "Actual", "Target", "MinSet", "MaxSet"
	Value             string
	Mutability        string // "ReadOnly", "WriteOnly", "ReadWrite", "" unknown
	Persistent        bool
	Constant          bool
	DataType          string // characteristics.dataType, "" unknown
	Unit              string
	ValuesList        string
	Status            string // last Get/SetVariables attribute status; "" from a report
	UpdatedAt         time.Time
}

// Kinds of station events.
const (
	EventSecurity   = "security"   // SecurityEventNotification
	EventNotify     = "notify"     // 2.x NotifyEvent (monitoring, alerts)
	EventSettlement = "settlement" // 2.1 NotifySettlement (payment terminal)
)

// StationEvent is a noteworthy event a station reported, kept for the
// console and alerts: security events, 2.x monitoring events, 2.1
// settlements.
type StationEvent struct {
	ID         int64
	StationID  string
	Kind       string    // EventSecurity, EventNotify, EventSettlement
	Type       string    // security event type, "Component/Variable" trigger, settlement status
	Severity   int       // 2.x severity (0 danger … 9 debug); -1 when not given
	TechInfo   string    // human text from the station
	Payload    string    // the event's JSON, as received
	Timestamp  time.Time // the station's
	ReceivedAt time.Time
}
