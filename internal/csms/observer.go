package csms

import "github.com/chargestar/chargestar/internal/model"

// SessionObserver is told what happens to sessions, whatever the station's
// protocol: billing follows its payments through it (stop at the budget,
// capture at the end). Its methods are called on the ingest path, after the
// change is stored, and must return quickly (hand the work to a queue).
//
// It is a nudge, not the record: a change whose call is lost (a crash just
// after the write) is still in the store, where billing's reconciliation
// finds it; so are sessions the store closes as superseded when a new one
// starts on their connector. Calls may repeat (replays, corrections).
type SessionObserver interface {
	// SessionStarted: a session was stored as started (or its start was
	// replayed), or its id token became known after the start (2.x: the
	// cable plugged in before the driver identified).
	SessionStarted(sess model.Session)
	// SessionMetered: meter values of an active session were stored.
	SessionMetered(ref SessionRef)
	// SessionStopped: a session was stored as completed — by its station,
	// estimated by the core, or corrected by a late stop.
	SessionStopped(sess model.Session)
}

// SessionRef names a session on the ingest path, where the session itself
// is not read back.
type SessionRef struct {
	SessionID     string
	StationID     string
	ConnectorID   int
	TransactionID string
}

// WithSessionObserver installs the session observer.
func WithSessionObserver(o SessionObserver) Option { return func(s *Service) { s.sessions = o } }

func (s *Service) sessionStarted(sess model.Session) {
	s.stationChanged(sess.StationID)
	if s.sessions != nil && sess.ID != "" {
		s.sessions.SessionStarted(sess)
	}
}

func (s *Service) sessionMetered(ref SessionRef) {
	s.stationChanged(ref.StationID)
	if s.sessions != nil && ref.SessionID != "" {
		s.sessions.SessionMetered(ref)
	}
}

func (s *Service) sessionStopped(sess model.Session) {
	s.stationChanged(sess.StationID)
	if s.sessions != nil && sess.ID != "" && sess.Status == model.SessionCompleted {
		s.sessions.SessionStopped(sess)
	}
}

// StationWatcher is told that something a live view shows about a station
// changed: it connected or disconnected, a connector's status, or one of
// its sessions started, was metered or stopped. Called after the change is
// stored; it must return at once (the console's live board coalesces the
// nudges and reads the station back).
type StationWatcher interface {
	StationChanged(stationID string)
}

// WithStationWatcher installs the station watcher.
func WithStationWatcher(w StationWatcher) Option { return func(s *Service) { s.watcher = w } }

func (s *Service) stationChanged(stationID string) {
	if s.watcher != nil {
		s.watcher.StationChanged(stationID)
	}
}
