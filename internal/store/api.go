package store

// This file fixes the store's public surface, which the CSMS core and the
// REST API are written against. Implementations live in the other files of
// the package.

import (
	"context"
	"errors"
	"time"

	"github.com/chargestar/chargestar/internal/model"
)

var (
	// ErrNotFound: no such row (or it belongs to another operator).
	ErrNotFound = errors.New("store: not found")
	// ErrConflict: a unique key already exists (duplicate station id, id token …).
	ErrConflict = errors.New("store: conflict")
	// ErrClosed: the store is shutting down and accepts no more writes.
	ErrClosed = errors.New("store: closed")
)

// BootRecord is what a BootNotification tells us about a station.
type BootRecord struct {
	StationID          string
	Protocol           string
	Vendor             string
	Model              string
	SerialNumber       string
	ChargeBoxSerial    string
	FirmwareVersion    string
	ICCID              string
	IMSI               string
	MeterType          string
	MeterSerialNumber  string
	RegistrationStatus string
	HeartbeatInterval  int
	At                 time.Time
}

// StartSessionParams describes a transaction start reported by a station.
type StartSessionParams struct {
	OperatorID  string
	StationID   string
	ConnectorID int
	// TransactionID is the station's id for 2.x; "" for 1.6, where the store
	// allocates the next integer transaction id.
	TransactionID string
	IDTag         string
	ReservationID *int
	StartedAt     time.Time
	MeterStartWh  int64
	// MeterStartUnknown (2.x): the station reported no energy register at
	// start. The session is stored with meter start 0 and the flag set; its
	// live energy counts from its earliest energy reading, and
	// SetSessionMeterStart or the stop fixes the start.
	MeterStartUnknown bool
	Currency          string
}

// StopSessionParams describes a transaction stop.
type StopSessionParams struct {
	StationID       string
	TransactionID   string
	StoppedAt       time.Time
	MeterStopWh     *int64 // nil: take the last energy register reading, else the start reading
	Reason          string
	IDTag           string
	Source          string // model.StopSourceStation or model.StopSourceEstimated
	TransactionData bool
}

// StopOutcome says what StopSession did.
type StopOutcome int

const (
	Stopped        StopOutcome = iota + 1 // an active session was completed
	AlreadyStopped                        // replay: the session was already completed by the station; nothing changed
	Corrected                             // an estimated stop was replaced by the station's own report
)

// SessionFilter selects sessions for listing. Zero fields do not filter.
type SessionFilter struct {
	OperatorID string
	StationID  string
	Status     string
	Limit      int    // default 100, max 1000
	Before     string // cursor: sessions created before the one with this id (newest first)
}

// StationFilter selects stations for listing.
type StationFilter struct {
	OperatorID string
	SiteID     string
	Limit      int    // default 100, max 1000
	After      string // cursor: ids greater than this (ordered by id)
}

// MessageFilter selects message-log entries, newest first.
type MessageFilter struct {
	StationID string
	Action    string
	Contains  string // substring of the payload
	Before    int64  // cursor: entries with id < Before
	Limit     int
}

// VariableFilter selects a station's device-model variables. Set fields are
// exact matches, ignoring (ASCII) case.
type VariableFilter struct {
	Component string
	Variable  string
	Limit     int // default 1000, max 10000
}

// StationEventFilter selects station events, newest first.
type StationEventFilter struct {
	StationID string
	Kind      string // model.EventSecurity, model.EventNotify, model.EventSettlement
	Before    int64  // cursor: events with id < Before
	Limit     int    // default 100, max 1000
}

// API is the store's method set, as the CSMS core and the REST API use it
// (for fakes in their tests). *Store implements it; the assertion below
// keeps the signatures fixed.
type API interface {
	Ping(ctx context.Context) error
	Dialect() string

	CreateOperator(ctx context.Context, o model.Operator) (model.Operator, error)
	GetOperator(ctx context.Context, id string) (model.Operator, error)
	ListOperators(ctx context.Context) ([]model.Operator, error)
	CreateAPIToken(ctx context.Context, t model.APIToken) (model.APIToken, error)
	GetAPITokenByHash(ctx context.Context, hash []byte) (model.APIToken, error)
	RevokeAPIToken(ctx context.Context, operatorID, id string) error

	CreateSite(ctx context.Context, s model.Site) (model.Site, error)
	GetSite(ctx context.Context, operatorID, id string) (model.Site, error)
	ListSites(ctx context.Context, operatorID string) ([]model.Site, error)

	CreateStation(ctx context.Context, st model.Station) (model.Station, error)
	GetStation(ctx context.Context, id string) (model.Station, error)
	ListStations(ctx context.Context, f StationFilter) ([]model.Station, error)
	UpdateStation(ctx context.Context, st model.Station) (model.Station, error)
	RecordBoot(ctx context.Context, b BootRecord) error
	RecordConnected(ctx context.Context, stationID, protocol string, at time.Time) error
	TouchStations(ctx context.Context, seen map[string]time.Time) error
	RecordFirmwareStatus(ctx context.Context, stationID, status string, at time.Time) error
	RecordDiagnosticsStatus(ctx context.Context, stationID, status string, at time.Time) error

	RecordStatus(ctx context.Context, e model.StatusEvent) error
	ListConnectors(ctx context.Context, stationID string) ([]model.Connector, error)
	ListConnectorsOf(ctx context.Context, stationIDs []string) (map[string][]model.Connector, error)
	ListStatusEvents(ctx context.Context, stationID string, since time.Time, limit int) ([]model.StatusEvent, error)

	CreateIDToken(ctx context.Context, t model.IDToken) (model.IDToken, error)
	GetIDToken(ctx context.Context, operatorID, idToken string) (model.IDToken, error)
	ListIDTokens(ctx context.Context, operatorID string, limit int, after string) ([]model.IDToken, error)
	SetIDTokenStatus(ctx context.Context, operatorID, idToken, status string) (model.IDToken, error)

	StartSession(ctx context.Context, p StartSessionParams) (s model.Session, created bool, err error)
	StopSession(ctx context.Context, p StopSessionParams) (model.Session, StopOutcome, error)
	GetSession(ctx context.Context, operatorID, id string) (model.Session, error)
	GetSessionByTransaction(ctx context.Context, stationID, transactionID string) (model.Session, error)
	ActiveSession(ctx context.Context, stationID string, connectorID int) (model.Session, error)
	ListActiveSessions(ctx context.Context, stationID string) ([]model.Session, error)
	CountActiveSessionsForToken(ctx context.Context, operatorID, idTag string) (int, error)
	ListSessions(ctx context.Context, f SessionFilter) ([]model.Session, error)
	SetSessionMeterStart(ctx context.Context, sessionID string, wh int64) (bool, error)

	RecordTransactionEvent(ctx context.Context, ev model.TransactionEvent) (dup bool, err error)
	ListTransactionEvents(ctx context.Context, stationID, transactionID string) ([]model.TransactionEvent, error)
	UpsertStationVariables(ctx context.Context, stationID string, vars []model.StationVariable) error
	ListStationVariables(ctx context.Context, stationID string, f VariableFilter) ([]model.StationVariable, error)
	RecordStationEvents(ctx context.Context, evs ...model.StationEvent) error
	ListStationEvents(ctx context.Context, f StationEventFilter) ([]model.StationEvent, error)

	AppendMeterValues(ctx context.Context, mvs []model.MeterValue) error
	ListMeterValues(ctx context.Context, sessionID string, limit int) ([]model.MeterValue, error)

	LogMessages(entries ...model.MessageLogEntry)
	DroppedLogMessages() int64
	ListMessages(ctx context.Context, f MessageFilter) ([]model.MessageLogEntry, error)
	PruneMessages(ctx context.Context, before time.Time) (int64, error)
}

var _ API = (*Store)(nil)
