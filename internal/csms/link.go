package csms

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chargestar/chargestar/internal/model"
	"github.com/chargestar/chargestar/internal/ocpp/ocppj"
)

// Caller sends a CALL to a station and waits for its answer.
type Caller interface {
	Call(ctx context.Context, action string, payload []byte) (ocppj.Result, error)
}

// Protocol is what the core needs from a version adapter for remote
// commands: checking an outbound payload against the version's schema.
type Protocol interface {
	// Version is the negotiated protocol, e.g. "ocpp1.6".
	Version() string
	// CheckCommand validates a CSMS→station request payload for action.
	// It returns ErrUnknownCommand when the version has no such action
	// (or the station, not the CSMS, sends it), else a descriptive error.
	CheckCommand(action string, payload []byte) error
}

// CommandObserver is implemented by adapters that must act on a command
// the station accepted (e.g. a new Basic-auth password set through
// ChangeConfiguration AuthorizationKey must be stored, or the station is
// locked out at its next connection).
type CommandObserver interface {
	CommandAnswered(ctx context.Context, action string, request, response []byte)
}

// ErrUnknownCommand: the action is not a command of the station's protocol.
var ErrUnknownCommand = errors.New("csms: not a command of this protocol")

// Link is one live connection of a station, whatever its protocol. It is
// created by the gateway when a station connects and dropped when it leaves.
type Link struct {
	StationID  string
	OperatorID string
	Currency   string

	svc    *Service
	proto  Protocol
	caller Caller
	closer func(reason string)

	// accepted: the station's last BootNotification was accepted, so it
	// may send other messages (B02.FR.09 / 1.6 §4.2).
	accepted atomic.Bool
	// registration is what the station gets at its next BootNotification
	// (RegistrationAccepted, Pending, Rejected): read at connection, kept up
	// to date by SetRegistration, so a boot needs no database read (18,000
	// stations boot at once after an outage).
	registration atomic.Pointer[string]
	// seen is the unix-nano time of the last message, 0 once flushed.
	seen atomic.Int64
	// skipLogID is the message id of the station's CALL last left out of
	// the message log (meter traffic): its answer is left out too.
	skipLogID atomic.Pointer[string]

	// txOutlivesStatus: a transaction may stay open while its connector is
	// Available (2.x, where the transaction start and stop points are
	// configurable), so Available does not hint at a forgotten session.
	txOutlivesStatus bool

	// connRecorded is closed once the connection is stored, so the
	// disconnection is stored after it (the connection is written in the
	// background).
	connRecorded chan struct{}

	mu sync.Mutex
	// txs caches transaction id → session for the station's open sessions,
	// so meter values need no database read.
	txs map[string]txRef
	// seqs holds the sequence numbers seen of 2.x transactions (TxEvent).
	seqs map[string]*seqSet
}

type txRef struct {
	sessionID         string
	connectorID       int
	meterStartWh      int64
	active            bool
	hasIDTag          bool
	meterStartUnknown bool
}

// refOf is the cached summary of a session: enough for the ingest path to
// go without reading the session back for every message.
func refOf(sess model.Session) txRef {
	return txRef{sessionID: sess.ID, connectorID: sess.ConnectorID, meterStartWh: sess.MeterStartWh,
		active: sess.Status == model.SessionActive, hasIDTag: sess.IDTag != "", meterStartUnknown: sess.MeterStartUnknown}
}

// NewLink returns a link for a station record. The adapter sets the
// protocol and caller with Bind before the link is registered with Connect.
func (s *Service) NewLink(st model.Station, closer func(reason string)) *Link {
	l := &Link{StationID: st.ID, OperatorID: st.OperatorID, svc: s, closer: closer}
	l.accepted.Store(st.RegistrationStatus == "Accepted")
	reg := st.RegistrationStatus
	l.registration.Store(&reg)
	return l
}

// Bind attaches the version adapter and the RPC caller.
func (l *Link) Bind(p Protocol, c Caller) { l.proto, l.caller = p, c }

// TransactionsOutliveStatus tells the core that, on this link, a
// connector reported Available may still have an open transaction (OCPP
// 2.x); call it before Connect.
func (l *Link) TransactionsOutliveStatus() { l.txOutlivesStatus = true }

// Protocol returns the link's protocol adapter.
func (l *Link) Protocol() Protocol { return l.proto }

// Accepted reports whether the station may send messages other than BootNotification.
func (l *Link) Accepted() bool { return l.accepted.Load() }

// Touch records that the station was heard from now.
func (l *Link) Touch(now time.Time) { l.seen.Store(now.UnixNano()) }

// Close closes the station's connection.
func (l *Link) Close(reason string) {
	if l.closer != nil {
		l.closer(reason)
	}
}

func (l *Link) rememberTx(txID string, ref txRef) {
	l.mu.Lock()
	if l.txs == nil {
		l.txs = make(map[string]txRef, 2)
	}
	l.txs[txID] = ref
	l.mu.Unlock()
}

func (l *Link) forgetTx(txID string) {
	l.mu.Lock()
	delete(l.txs, txID)
	delete(l.seqs, txID)
	if len(l.txs) == 0 {
		l.txs = nil
	}
	l.mu.Unlock()
}

func (l *Link) lookupTx(txID string) (txRef, bool) {
	l.mu.Lock()
	r, ok := l.txs[txID]
	l.mu.Unlock()
	return r, ok
}

func (l *Link) txOnConnector(connectorID int) (string, txRef, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for id, r := range l.txs {
		if r.connectorID == connectorID {
			return id, r, true
		}
	}
	return "", txRef{}, false
}

// registry holds the live links by station id.
type registry struct {
	mu    sync.RWMutex
	links map[string]*Link
}

func (r *registry) collectSeen() map[string]time.Time {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var seen map[string]time.Time
	for id, l := range r.links {
		if ns := l.seen.Swap(0); ns != 0 {
			if seen == nil {
				seen = make(map[string]time.Time)
			}
			seen[id] = time.Unix(0, ns).UTC()
		}
	}
	return seen
}

// Connect registers a link as the station's live connection. A previous
// link of the same station is closed: a station reconnecting (after a
// network change, say) replaces its old connection cleanly.
func (s *Service) Connect(ctx context.Context, l *Link) error {
	if l.proto == nil || l.caller == nil {
		return errors.New("csms: link not bound to a protocol")
	}
	now := s.Now()
	l.Currency = s.operatorCurrency(ctx, l.OperatorID)
	l.Touch(now)
	s.registry.mu.Lock()
	old := s.registry.links[l.StationID]
	s.registry.links[l.StationID] = l
	s.registry.mu.Unlock()
	if old != nil {
		old.Close("replaced by a new connection")
		s.log.Info("station reconnected; old connection replaced", "station_id", l.StationID, "protocol", l.proto.Version())
	} else {
		s.metrics.StationsConnected.Inc()
		s.log.Info("station connected", "station_id", l.StationID, "protocol", l.proto.Version())
	}
	// The protocol and connection time are written in the background: after
	// an outage thousands of stations reconnect at once, and none should
	// wait for the database before it may speak.
	l.connRecorded = make(chan struct{})
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(l.connRecorded)
		if err := s.store.RecordConnected(context.Background(), l.StationID, l.proto.Version(), now); err != nil {
			s.log.Warn("recording a station connection failed", "station_id", l.StationID, "err", err)
		}
		s.stationChanged(l.StationID)
	}()
	return nil
}

// operatorCurrency returns an operator's currency, cached: it is read on
// every connection and practically never changes.
func (s *Service) operatorCurrency(ctx context.Context, operatorID string) string {
	s.currencyMu.RLock()
	cur, ok := s.currency[operatorID]
	s.currencyMu.RUnlock()
	if ok {
		return cur
	}
	op, err := s.store.GetOperator(ctx, operatorID)
	if err != nil {
		s.log.Warn("loading operator failed", "operator_id", operatorID, "err", err)
		return ""
	}
	s.currencyMu.Lock()
	s.currency[operatorID] = op.Currency
	s.currencyMu.Unlock()
	return op.Currency
}

// Disconnect removes the link if it is still the station's live one.
func (s *Service) Disconnect(l *Link) {
	s.registry.mu.Lock()
	cur := s.registry.links[l.StationID]
	if cur == l {
		delete(s.registry.links, l.StationID)
	}
	s.registry.mu.Unlock()
	if ns := l.seen.Swap(0); ns != 0 {
		seen := map[string]time.Time{l.StationID: time.Unix(0, ns).UTC()}
		if err := s.store.TouchStations(context.Background(), seen); err != nil {
			s.log.Warn("writing last-seen time failed", "station_id", l.StationID, "err", err)
		}
	}
	if cur == l {
		s.metrics.StationsConnected.Dec()
		s.log.Info("station disconnected", "station_id", l.StationID)
		// In the background, after the connection's own record: the
		// station's socket goroutine does not wait for the database.
		at := s.Now()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if l.connRecorded != nil {
				<-l.connRecorded
			}
			if err := s.store.RecordDisconnected(context.Background(), l.StationID, at); err != nil {
				s.log.Warn("recording a station disconnection failed", "station_id", l.StationID, "err", err)
			}
			s.stationChanged(l.StationID)
		}()
	}
}

// Link returns the live link of a station.
func (s *Service) Link(stationID string) (*Link, bool) {
	s.registry.mu.RLock()
	l, ok := s.registry.links[stationID]
	s.registry.mu.RUnlock()
	return l, ok
}

// Connected reports whether a station has a live connection.
func (s *Service) Connected(stationID string) bool {
	_, ok := s.Link(stationID)
	return ok
}

// ConnectedCount returns the number of live links.
func (s *Service) ConnectedCount() int {
	s.registry.mu.RLock()
	defer s.registry.mu.RUnlock()
	return len(s.registry.links)
}

// CloseAll closes every live link (shutdown).
func (s *Service) CloseAll(reason string) {
	s.registry.mu.RLock()
	links := make([]*Link, 0, len(s.registry.links))
	for _, l := range s.registry.links {
		links = append(links, l)
	}
	s.registry.mu.RUnlock()
	for _, l := range links {
		l.Close(reason)
	}
}

// Errors of remote commands.
var (
	ErrNotConnected = errors.New("csms: station not connected")
	ErrTimeout      = errors.New("csms: station did not answer in time")
)

// CommandResult is a station's answer to a remote command.
type CommandResult struct {
	Payload []byte // the CALLRESULT payload
}

// Command sends a remote-management command (an OCPP action of the
// station's protocol, with its request payload) and returns the answer.
// Errors: ErrNotConnected, ErrUnknownCommand, a validation error (bad
// payload), ErrTimeout, or *ocppj.CallError when the station refused.
func (s *Service) Command(ctx context.Context, stationID, action string, payload []byte) (CommandResult, error) {
	l, ok := s.Link(stationID)
	if !ok {
		return CommandResult{}, ErrNotConnected
	}
	if err := l.proto.CheckCommand(action, payload); err != nil {
		return CommandResult{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.CommandTimeout)
	defer cancel()
	res, err := l.caller.Call(ctx, action, payload)
	switch {
	case err == nil:
		if obs, ok := l.proto.(CommandObserver); ok {
			obs.CommandAnswered(ctx, action, payload, res.Payload)
		}
		return CommandResult{Payload: res.Payload}, nil
	case errors.Is(err, ocppj.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return CommandResult{}, ErrTimeout
	case errors.Is(err, ocppj.ErrClosed):
		return CommandResult{}, ErrNotConnected
	}
	return CommandResult{}, err
}

// seqSet is the set of sequence numbers seen of one transaction: every
// number below next, and the ones above it that came early. Stations send
// in order, so above is almost always empty and the set costs two words.
type seqSet struct {
	next  int
	above map[int]struct{}
}

func (q *seqSet) has(n int) bool {
	if n < q.next {
		return true
	}
	_, ok := q.above[n]
	return ok
}

func (q *seqSet) add(n int) {
	switch {
	case n < q.next:
	case n == q.next:
		q.next++
		for {
			if _, ok := q.above[q.next]; !ok {
				break
			}
			delete(q.above, q.next)
			q.next++
		}
		if len(q.above) == 0 {
			q.above = nil
		}
	default:
		if q.above == nil {
			q.above = make(map[int]struct{}, 1)
		}
		q.above[n] = struct{}{}
	}
}

// seqSeen reports whether seq was seen of the transaction, loading the
// numbers already stored (load) the first time the transaction is met.
// Calls of one station are handled one at a time, so seqSeen followed by
// seqAdd once the event is stored is race-free.
func (l *Link) seqSeen(txID string, seq int, load func() ([]int, error)) (bool, error) {
	l.mu.Lock()
	q := l.seqs[txID]
	l.mu.Unlock()
	if q == nil {
		stored, err := load()
		if err != nil {
			return false, err
		}
		q = &seqSet{}
		for _, n := range stored {
			q.add(n)
		}
		l.mu.Lock()
		if l.seqs == nil {
			l.seqs = make(map[string]*seqSet, 2)
		}
		l.seqs[txID] = q
		l.mu.Unlock()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return q.has(seq), nil
}

// seqAdd records that seq of the transaction is stored.
func (l *Link) seqAdd(txID string, seq int) {
	l.mu.Lock()
	if q := l.seqs[txID]; q != nil {
		q.add(seq)
	}
	l.mu.Unlock()
}
