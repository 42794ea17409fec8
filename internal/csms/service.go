// Package csms is the version-neutral core of the central system: stations,
// connectors, transactions, meter values and id tokens, expressed once. The
// OCPP version adapters (ocpp16, and later 2.0.1/2.1 and SOAP) translate
// their messages into calls on Service and translate the answers back.
//
// Service holds no per-version knowledge. It keeps the registry of live
// station links (for remote commands), writes through the Store and
// reports to the Observer (metrics and the message log).
package csms

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/chargestar/chargestar/internal/model"
	"github.com/chargestar/chargestar/internal/store"
)

// Store is what the core needs from persistence (implemented by
// *store.Store over SQLite and PostgreSQL).
type Store interface {
	GetStation(ctx context.Context, id string) (model.Station, error)
	UpdateStation(ctx context.Context, st model.Station) (model.Station, error)
	RecordBoot(ctx context.Context, b store.BootRecord) error
	RecordConnected(ctx context.Context, stationID, protocol string, at time.Time) error
	RecordDisconnected(ctx context.Context, stationID string, at time.Time) error
	TouchStations(ctx context.Context, seen map[string]time.Time) error
	RecordFirmwareStatus(ctx context.Context, stationID, status string, at time.Time) error
	RecordDiagnosticsStatus(ctx context.Context, stationID, status string, at time.Time) error
	RecordStatus(ctx context.Context, ev model.StatusEvent) error
	GetIDToken(ctx context.Context, operatorID, idToken string) (model.IDToken, error)
	CountActiveSessionsForToken(ctx context.Context, operatorID, idTag string) (int, error)
	StartSession(ctx context.Context, p store.StartSessionParams) (model.Session, bool, error)
	StopSession(ctx context.Context, p store.StopSessionParams) (model.Session, store.StopOutcome, error)
	GetSessionByTransaction(ctx context.Context, stationID, transactionID string) (model.Session, error)
	ActiveSession(ctx context.Context, stationID string, connectorID int) (model.Session, error)
	AppendMeterValues(ctx context.Context, mvs []model.MeterValue) error
	LogMessages(entries ...model.MessageLogEntry)
	GetOperator(ctx context.Context, id string) (model.Operator, error)

	// OCPP 2.x
	GetSession(ctx context.Context, operatorID, id string) (model.Session, error)
	AppendTransactionEvent(ctx context.Context, ev model.TransactionEvent, mvs []model.MeterValue, readingOnly bool) error
	TransactionSeqNos(ctx context.Context, stationID, transactionID, sessionID string) ([]int, error)
	SetSessionMeterStart(ctx context.Context, sessionID string, wh int64) (bool, error)
	SetSessionIDTag(ctx context.Context, sessionID, idTag string) error
	SetSessionConnector(ctx context.Context, sessionID string, connectorID int) error
	CorrectSessionStart(ctx context.Context, sessionID string, startedAt time.Time, meterStartWh int64) (bool, error)
	UpsertStationVariables(ctx context.Context, stationID string, vars []model.StationVariable) error
	RecordStationEvents(ctx context.Context, evs ...model.StationEvent) error
	SetRegistration(ctx context.Context, stationID, status string) error
}

// Config holds the core's tunables.
type Config struct {
	// HeartbeatInterval is told to stations in the BootNotification answer.
	HeartbeatInterval time.Duration
	// CommandTimeout bounds how long a remote command waits for the station.
	CommandTimeout time.Duration
	// LastSeenFlush is how often in-memory last-seen times are written.
	LastSeenFlush time.Duration
	// LogMeterValues includes MeterValues frames in the message log. They
	// are most of the traffic and are stored as meter values anyway.
	LogMeterValues bool
	// MaxClockSkew: station timestamps further in the future than this are
	// replaced by the receive time.
	MaxClockSkew time.Duration
	// StaleSessionGrace: when a connector reports Available while a session
	// on it is still open (the station lost the transaction in a reboot,
	// say), the session is closed as estimated if no stop arrives within
	// this time. A later stop from the station corrects it.
	StaleSessionGrace time.Duration
	// PendingInterval is when a station held Pending or Rejected is told
	// to send its BootNotification again.
	PendingInterval time.Duration
}

func (c *Config) defaults() {
	if c.HeartbeatInterval <= 0 {
		c.HeartbeatInterval = 5 * time.Minute
	}
	if c.CommandTimeout <= 0 {
		c.CommandTimeout = 30 * time.Second
	}
	if c.LastSeenFlush <= 0 {
		c.LastSeenFlush = 15 * time.Second
	}
	if c.MaxClockSkew <= 0 {
		c.MaxClockSkew = 24 * time.Hour
	}
	if c.StaleSessionGrace <= 0 {
		c.StaleSessionGrace = 2 * time.Minute
	}
	if c.PendingInterval <= 0 {
		c.PendingInterval = time.Minute
	}
}

// Service is the central system's core.
type Service struct {
	store    Store
	cfg      Config
	log      *slog.Logger
	metrics  *Metrics
	now      func() time.Time
	registry registry
	auth     Authorizer
	vendors  map[string]DataTransferHandler
	costs    CostProvider    // nil: stations are told no cost
	sessions SessionObserver // nil: nobody follows sessions
	watcher  StationWatcher  // nil: nobody watches stations live

	stop     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
	timersMu sync.Mutex
	timers   map[*time.Timer]struct{} // stale-session checks waiting to run

	currencyMu sync.RWMutex
	currency   map[string]string // operator id → currency
}

// Option customises a Service.
type Option func(*Service)

// WithClock injects the clock (tests).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithAuthorizer replaces the id-token authorizer (billing plugs in here).
func WithAuthorizer(a Authorizer) Option { return func(s *Service) { s.auth = a } }

// WithDataTransfer registers a handler for a DataTransfer vendor id.
func WithDataTransfer(vendorID string, h DataTransferHandler) Option {
	return func(s *Service) { s.vendors[vendorID] = h }
}

// New returns a Service; call Start to run its background jobs and Stop to end them.
func New(st Store, cfg Config, log *slog.Logger, m *Metrics, opts ...Option) *Service {
	cfg.defaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if m == nil {
		m = NewMetrics(nil)
	}
	s := &Service{store: st, cfg: cfg, log: log, metrics: m, now: time.Now, vendors: map[string]DataTransferHandler{},
		stop: make(chan struct{}), timers: map[*time.Timer]struct{}{}, currency: map[string]string{}}
	s.registry.links = map[string]*Link{}
	s.auth = &TokenAuthorizer{Store: st}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Config returns the service's configuration.
func (s *Service) Config() Config { return s.cfg }

// Logger returns the service's logger.
func (s *Service) Logger() *slog.Logger { return s.log }

// Metrics returns the service's metrics.
func (s *Service) Metrics() *Metrics { return s.metrics }

// Now returns the service clock's time in UTC.
func (s *Service) Now() time.Time { return s.now().UTC() }

// Start runs the background jobs (last-seen flushing).
func (s *Service) Start() {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(s.cfg.LastSeenFlush)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
				s.flushLastSeen(context.Background())
			}
		}
	}()
}

// Stop ends the background jobs and writes the last-seen times one last time.
// Close station links first (the gateway does) so nothing new arrives.
func (s *Service) Stop(ctx context.Context) {
	s.stopOnce.Do(func() { close(s.stop) })
	s.timersMu.Lock()
	for t := range s.timers {
		t.Stop()
	}
	s.timers = map[*time.Timer]struct{}{}
	s.timersMu.Unlock()
	s.wg.Wait()
	s.flushLastSeen(ctx)
}

// after runs f after d on the service's watch: Stop cancels it, and waits
// for it when it is already running.
func (s *Service) after(d time.Duration, f func()) {
	s.timersMu.Lock()
	defer s.timersMu.Unlock()
	select {
	case <-s.stop:
		return
	default:
	}
	var t *time.Timer
	t = time.AfterFunc(d, func() {
		s.timersMu.Lock()
		_, live := s.timers[t]
		delete(s.timers, t)
		if live {
			s.wg.Add(1)
		}
		s.timersMu.Unlock()
		if live {
			defer s.wg.Done()
			f()
		}
	})
	s.timers[t] = struct{}{}
}

// flushLastSeen writes the last-seen time of every link seen since the last flush.
func (s *Service) flushLastSeen(ctx context.Context) {
	seen := s.registry.collectSeen()
	if len(seen) == 0 {
		return
	}
	if err := s.store.TouchStations(ctx, seen); err != nil {
		s.log.Warn("writing last-seen times failed", "stations", len(seen), "err", err)
	}
}

// stationTime returns the station's timestamp, or now when the station sent
// none or one too far in the future to be true (clocks of unsynchronised
// stations start in 1970 or run ahead).
func (s *Service) stationTime(t time.Time) time.Time {
	now := s.Now()
	if t.IsZero() || t.Year() < 2000 || t.After(now.Add(s.cfg.MaxClockSkew)) {
		return now
	}
	return t.UTC()
}
