package sim

import (
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Mode is what the stations do once connected.
type Mode string

const (
	// ModeSessions: drivers arrive, authorise with their RFID card, charge
	// and leave, with idle gaps between sessions (the default).
	ModeSessions Mode = "sessions"
	// ModeClosedLoop: each station runs one transaction and sends
	// MeterValues as fast as the answers come back (one CALL in flight).
	ModeClosedLoop Mode = "closed-loop"
	// ModeOpenLoop: each station runs one transaction and sends MeterValues
	// at a fixed rate, whatever the answers do; latency is measured from
	// the intended sending time.
	ModeOpenLoop Mode = "open-loop"
	// ModeStorm: a Fleet mode; the stations only heartbeat while the fleet
	// drops every connection at once and times the reconnection.
	ModeStorm Mode = "storm"
	// ModeIdle: connect, boot, report status and heartbeat; nothing else.
	ModeIdle Mode = "idle"
)

// Modes lists the modes a fleet can run.
var Modes = []Mode{ModeSessions, ModeClosedLoop, ModeOpenLoop, ModeStorm, ModeIdle}

// Protocols lists the OCPP-J subprotocols the simulator speaks.
var Protocols = []string{"ocpp1.6", "ocpp2.0.1", "ocpp2.1"}

// ProtocolMixed, as a fleet's Station.Protocol, deals the stations out
// round-robin over all of Protocols (see FleetConfig.Protocols).
const ProtocolMixed = "mixed"

// Config configures one simulated station. Zero fields take the defaults
// given in their comments.
type Config struct {
	// URL is the CSMS's OCPP-J endpoint without the station id, e.g.
	// ws://localhost:8080/ocpp; the station dials URL + "/" + ID.
	URL string
	// ID is the station's OCPP identity.
	ID string
	// Password, when set, is sent with HTTP Basic authentication
	// (security profile 1): user name ID, this password.
	Password string
	// Protocol is the OCPP-J subprotocol, one of Protocols: "ocpp1.6"
	// (default), "ocpp2.0.1" or "ocpp2.1". In 2.x each connector is an
	// EVSE with one connector (evseId = the connector number).
	Protocol string

	// Connectors is the number of connectors (default 2).
	Connectors int
	// Phases is 1 or 3 (default 3).
	Phases int
	// PowerKW is a connector's maximum charging power (default 11 kW).
	PowerKW float64
	// MeterInterval is the MeterValues interval during a transaction
	// (1.6 MeterValueSampleInterval, 2.x TxUpdatedInterval; default 60s).
	MeterInterval time.Duration
	// SessionDuration is the mean length of a charging session (default
	// 30m); each session varies by ±25%.
	SessionDuration time.Duration
	// Idle is the mean gap between sessions on a connector (default 10m);
	// gaps are exponentially distributed.
	Idle time.Duration
	// AppConnectors keeps the last connectors of every station free of
	// simulated drivers: they charge only when the CSMS starts them
	// (a driver paying in the app). 0: every connector has drivers.
	AppConnectors int
	// IDTag returns the RFID tag the drivers of a connector present
	// (default DefaultIDTag).
	IDTag func(stationID string, connector int) string

	// Vendor, Model and Firmware are reported in BootNotification
	// (defaults "ChargeStar", "Sim-22", "1.0.0").
	Vendor, Model, Firmware string

	// Mode is the behaviour once connected (default ModeSessions).
	Mode Mode
	// Rate is the open-loop MeterValues rate per station, per second
	// (default 1); in 2.x these are TransactionEvent Updated messages.
	Rate float64

	// Seed seeds the station's random numbers (with its id), so a run can
	// be repeated. 0 is a valid seed.
	Seed uint64

	// CallTimeout bounds the wait for the CSMS's answer (default 30s).
	CallTimeout time.Duration
	// DialTimeout bounds a connection attempt including the handshake (default 10s).
	DialTimeout time.Duration
	// ReconnectMin and ReconnectMax bound the reconnection backoff: the
	// n-th retry waits a random time up to min(ReconnectMax,
	// ReconnectMin·2ⁿ) (defaults 1s and 2m).
	ReconnectMin, ReconnectMax time.Duration
	// BootRetry is the wait before repeating a Pending or Rejected
	// BootNotification when the CSMS gave interval 0 (default 30s).
	BootRetry time.Duration
	// RebootDelay is how long a reset or firmware installation keeps the
	// station offline (default 3s).
	RebootDelay time.Duration
	// StepDelay is the time between the status notifications of a firmware
	// update or a log upload (default 2s).
	StepDelay time.Duration
	// SkipBootOnReconnect: after losing the connection (not after a
	// reboot), resume without a new BootNotification, as many real
	// stations do. By default the station boots on every connection.
	SkipBootOnReconnect bool

	// Now is the station's clock for message timestamps (default
	// time.Now); scheduling always uses the real clock.
	Now func() time.Time
	// Rules script unusual answers for tests; see Rule.
	Rules []Rule
	// OnSession, when set, is called (on the station's goroutine) for every
	// transaction the CSMS acknowledged the stop of.
	OnSession func(SessionRecord)
	// Logger receives the station's log (default: discarded). At debug
	// level every frame is logged.
	Logger *slog.Logger
	// HTTPClient dials the WebSocket (default: one from NewDialer with no
	// local addresses). A fleet shares one.
	HTTPClient *http.Client
	// Stats receives the station's counters (default: its own). A fleet
	// shares one.
	Stats *Stats
}

// Rule scripts how a station answers one CSMS action, for tests: answer
// with a fixed payload (and do nothing else), or do not answer at all.
// Rules are applied in order; a rule with Times > 0 is used up after that
// many CALLs.
type Rule struct {
	Action string // the CSMS's action, e.g. "RemoteStartTransaction"
	// Times is how many CALLs the rule applies to; 0 means every one.
	Times int
	// Response is the payload to answer with, e.g. `{"status":"Rejected"}`.
	// It is checked against the action's response schema.
	Response string
	// NoAnswer: never answer (the CSMS's call times out).
	NoAnswer bool
}

// SessionRecord describes one completed transaction.
type SessionRecord struct {
	StationID   string
	ConnectorID int // 2.x: the EVSE id
	// TransactionID is the CSMS's transaction id (1.6; 0 in 2.x).
	TransactionID int
	// TxID is the transaction id as on the wire: the CSMS's number in
	// 1.6, the station's UUID in 2.x.
	TxID         string
	IDTag        string
	Started      time.Time // station clock
	Stopped      time.Time
	MeterStartWh int64
	MeterStopWh  int64
	// Reason is the stop reason as sent: 1.6 StopTransaction reason or
	// 2.x stoppedReason.
	Reason string
}

// EnergyWh returns the energy delivered in the session.
func (r SessionRecord) EnergyWh() int64 { return r.MeterStopWh - r.MeterStartWh }

// DefaultIDTag is the RFID tag of a connector's drivers: "<station id>-<connector>"
// when that fits OCPP 1.6's 20 characters, else "T" and 16 hex digits of
// its hash. Give each connector its own tag: a tag may charge at one
// place at a time.
func DefaultIDTag(stationID string, connector int) string {
	t := stationID + "-" + strconv.Itoa(connector)
	if len(t) <= 20 {
		return t
	}
	h := fnv.New64a()
	h.Write([]byte(t))
	return fmt.Sprintf("T%016X", h.Sum64())
}

func (c *Config) defaults() {
	if c.Protocol == "" {
		c.Protocol = "ocpp1.6"
	}
	if c.Connectors <= 0 {
		c.Connectors = 2
	}
	if c.Phases != 1 {
		c.Phases = 3
	}
	if c.PowerKW <= 0 {
		c.PowerKW = 11
	}
	if c.MeterInterval <= 0 {
		c.MeterInterval = time.Minute
	}
	if c.SessionDuration <= 0 {
		c.SessionDuration = 30 * time.Minute
	}
	if c.Idle <= 0 {
		c.Idle = 10 * time.Minute
	}
	if c.IDTag == nil {
		c.IDTag = DefaultIDTag
	}
	if c.Vendor == "" {
		c.Vendor = "ChargeStar"
	}
	if c.Model == "" {
		c.Model = "Sim-22"
	}
	if c.Firmware == "" {
		c.Firmware = "1.0.0"
	}
	if c.Mode == "" {
		c.Mode = ModeSessions
	}
	if c.Rate <= 0 {
		c.Rate = 1
	}
	if c.CallTimeout <= 0 {
		c.CallTimeout = 30 * time.Second
	}
	if c.DialTimeout <= 0 {
		c.DialTimeout = 10 * time.Second
	}
	if c.ReconnectMin <= 0 {
		c.ReconnectMin = time.Second
	}
	if c.ReconnectMax <= 0 {
		c.ReconnectMax = 2 * time.Minute
	}
	if c.ReconnectMax < c.ReconnectMin {
		c.ReconnectMax = c.ReconnectMin
	}
	if c.BootRetry <= 0 {
		c.BootRetry = 30 * time.Second
	}
	if c.RebootDelay <= 0 {
		c.RebootDelay = 3 * time.Second
	}
	if c.StepDelay <= 0 {
		c.StepDelay = 2 * time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

func (c *Config) check() error {
	if c.URL == "" {
		return errors.New("sim: no CSMS URL")
	}
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
		return fmt.Errorf("sim: the CSMS URL must be ws:// or wss://host/path, got %q", c.URL)
	}
	if c.ID == "" || strings.ContainsAny(c.ID, "/?# ") {
		return fmt.Errorf("sim: bad station id %q", c.ID)
	}
	if c.Protocol == ProtocolMixed {
		return errors.New(`sim: protocol "mixed" is for a fleet; a station speaks one protocol`)
	}
	if !knownProtocol(c.Protocol) {
		return fmt.Errorf("sim: protocol %q is not simulated (only %s)", c.Protocol, strings.Join(Protocols, ", "))
	}
	switch c.Mode {
	case ModeSessions, ModeClosedLoop, ModeOpenLoop, ModeIdle:
	case ModeStorm:
		c.Mode = ModeIdle // the fleet does the storming
	default:
		return fmt.Errorf("sim: unknown mode %q", c.Mode)
	}
	return nil
}

func knownProtocol(p string) bool {
	for _, q := range Protocols {
		if p == q {
			return true
		}
	}
	return false
}
