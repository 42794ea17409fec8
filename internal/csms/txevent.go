package csms

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chargestar/chargestar/internal/model"
	"github.com/chargestar/chargestar/internal/store"
)

// Transaction event types (OCPP 2.x TransactionEventEnumType).
const (
	TxStarted = "Started"
	TxUpdated = "Updated"
	TxEnded   = "Ended"
)

// TxEvent is an OCPP 2.x TransactionEvent in version-neutral form. In 2.x
// the station names the transaction and reports its whole life through
// these events; each carries a sequence number, so a replay is recognised
// and events delivered out of order still make one correct session.
type TxEvent struct {
	TransactionID string
	SeqNo         int
	EventType     string // TxStarted, TxUpdated, TxEnded
	TriggerReason string
	ChargingState string // "" when not reported
	StoppedReason string // Ended only; "" means Local
	Offline       bool   // the station queued the event while offline
	Timestamp     time.Time
	EVSEID        int // 0 when the event did not say (the transaction's EVSE is known from earlier)
	ConnectorID   int
	IDToken       string // "" when the event carries none
	IDTokenType   string
	RemoteStartID *int
	ReservationID *int
	MeterValues   []model.MeterValue
}

// TxEventResult is what the station is told back.
type TxEventResult struct {
	// Auth answers the event's id token; nil when it carried none.
	Auth *AuthResult
	// Session is the session the event belongs to (zero if it could not be
	// stored).
	Session model.Session
	// Cost is the running (or, for Ended, final) cost, when billing knows it.
	Cost *Cost
	// Limit is the transaction limit billing imposes (OCPP 2.1), if any.
	Limit *TransactionLimit
	// Duplicate: the event was a replay and changed nothing.
	Duplicate bool
}

// Cost is a session's cost as told to a station: minor units, tax
// included, in the session's currency.
type Cost struct {
	Total    int64
	Currency string
}

// TransactionLimit is what a session may use at most (OCPP 2.1
// TransactionLimitType): the station stops the transaction itself when it
// reaches one. Nil fields are not limited.
type TransactionLimit struct {
	MaxCost     *int64 // minor units, tax included
	MaxEnergyWh *int64
	MaxTime     *time.Duration
}

// CostProvider supplies the cost and limits of live sessions. Billing
// implements it; without one, stations are told no cost and no limit.
type CostProvider interface {
	// SessionCost returns the session's running cost (final once the
	// session is completed); ok=false when the session is not priced.
	SessionCost(ctx context.Context, sess model.Session) (c Cost, ok bool, err error)
	// SessionLimit returns the limit to impose on the session, if any.
	SessionLimit(ctx context.Context, sess model.Session) (*TransactionLimit, error)
}

// WithCostProvider installs the billing seam for costs and limits.
func WithCostProvider(p CostProvider) Option { return func(s *Service) { s.costs = p } }

// TransactionEvent applies a 2.x transaction event.
//
// Replays (the same transaction and seqNo) change nothing and get the same
// kind of answer. A transaction first heard of through an Updated or Ended
// event (its Started was lost, or arrives later) is started then, at the
// event's time; a late Started finds the session and changes nothing. The
// energy at start is the Transaction.Begin (or first) register reading;
// without one it stays unknown until the first reading arrives.
func (s *Service) TransactionEvent(ctx context.Context, l *Link, ev TxEvent) (TxEventResult, error) {
	var res TxEventResult
	if ev.TransactionID == "" {
		return res, errors.New("csms: transaction event without a transaction id")
	}
	idTag := normalizeIDTag(ev.IDToken)
	ref, known := s.sessionFor(ctx, l, ev.TransactionID)
	// A replay is recognised by its sequence number. The link keeps the
	// numbers it has seen of each open transaction, loading them from the
	// store the first time (after a reconnection, say): the ingest path
	// then needs no read, and the event and its meter values are stored
	// in one append.
	dup, err := l.seqSeen(ev.TransactionID, ev.SeqNo, func() ([]int, error) {
		if !known {
			return nil, nil // events are stored only once their session is
		}
		return s.store.TransactionSeqNos(ctx, l.StationID, ev.TransactionID, ref.sessionID)
	})
	if err != nil {
		return res, fmt.Errorf("loading transaction events: %w", err)
	}
	res.Duplicate = dup
	var (
		sess    model.Session
		partial bool // sess holds only what ref knows
	)
	if !known {
		// Without an EVSE (the driver was authorised before plugging in:
		// E01.FR.16 has the station name the EVSE only once an EV is
		// connected) the session starts on connector 0 and moves to its
		// EVSE when a later event names it.
		var auth *AuthResult
		if idTag != "" {
			a, err := s.auth.Authorize(ctx, l, idTag, AuthForStart)
			if err != nil {
				return res, err
			}
			auth = &a
		}
		start, unknown := startReading(ev.MeterValues)
		var created bool
		sess, created, err = s.store.StartSession(ctx, store.StartSessionParams{
			OperatorID: l.OperatorID, StationID: l.StationID, ConnectorID: ev.EVSEID, TransactionID: ev.TransactionID,
			IDTag: idTag, ReservationID: ev.ReservationID, StartedAt: s.stationTime(ev.Timestamp),
			MeterStartWh: start, MeterStartUnknown: unknown, Currency: l.Currency,
		})
		if err != nil {
			return res, fmt.Errorf("starting session: %w", err)
		}
		ref = refOf(sess)
		l.mu.Lock()
		for id, r := range l.txs { // superseded sessions were closed by the store
			if r.connectorID == sess.ConnectorID && id != sess.TransactionID {
				delete(l.txs, id)
			}
		}
		l.mu.Unlock()
		if sess.Status == model.SessionActive {
			l.rememberTx(ev.TransactionID, ref)
		}
		res.Auth = auth
		s.sessionStarted(sess)
		if created {
			s.metrics.SessionsStarted.Inc()
			s.log.Info("transaction started", "station_id", l.StationID, "evse_id", ev.EVSEID,
				"transaction_id", ev.TransactionID, "session_id", sess.ID, "event", ev.EventType, "trigger", ev.TriggerReason,
				"offline", ev.Offline)
			if ev.EventType != TxStarted {
				s.log.Warn("transaction first heard of through a later event; started at that event", "station_id", l.StationID,
					"transaction_id", ev.TransactionID, "event", ev.EventType, "seq_no", ev.SeqNo)
			}
		}
	} else {
		// The session as far as the ingest path needs it; read back in
		// full only where more is needed (a late start, pricing).
		partial = true
		sess = model.Session{ID: ref.sessionID, OperatorID: l.OperatorID, StationID: l.StationID, ConnectorID: ref.connectorID,
			TransactionID: ev.TransactionID, Status: model.SessionCompleted, MeterStartWh: ref.meterStartWh,
			MeterStartUnknown: ref.meterStartUnknown, Currency: l.Currency}
		if ref.active {
			sess.Status = model.SessionActive
		}
		if ref.connectorID == 0 && ev.EVSEID > 0 {
			if err := s.store.SetSessionConnector(ctx, ref.sessionID, ev.EVSEID); err != nil {
				return res, fmt.Errorf("recording the session's EVSE: %w", err)
			}
			ref.connectorID, sess.ConnectorID = ev.EVSEID, ev.EVSEID
			if ref.active {
				l.rememberTx(ev.TransactionID, ref)
			}
		}
		if idTag != "" {
			purpose := AuthForStop
			if !ref.hasIDTag && ref.active {
				// The driver identified after the transaction began (cable
				// plugged in first): the token is checked as for a start
				// and recorded on the session.
				purpose = AuthForStart
			}
			a, err := s.auth.Authorize(ctx, l, idTag, purpose)
			if err != nil {
				return res, err
			}
			res.Auth = &a
			if purpose == AuthForStart && !dup {
				if err := s.store.SetSessionIDTag(ctx, sess.ID, idTag); err != nil {
					return res, fmt.Errorf("recording the session's id token: %w", err)
				}
				ref.hasIDTag = true
				l.rememberTx(ev.TransactionID, ref)
				// The session now has its driver: billing ties it to
				// the payment of that token.
				started := sess
				started.IDTag = idTag
				s.sessionStarted(started)
			}
		}
	}

	if !dup {
		s.prepareMeterValues(l, ref.connectorID, ref.sessionID, ev.TransactionID, ev.MeterValues)
		err := s.store.AppendTransactionEvent(ctx, model.TransactionEvent{
			StationID: l.StationID, TransactionID: ev.TransactionID, SeqNo: ev.SeqNo, EventType: ev.EventType,
			TriggerReason: ev.TriggerReason, ChargingState: ev.ChargingState, Offline: ev.Offline,
			Timestamp: s.stationTime(ev.Timestamp), ReceivedAt: s.Now(),
		}, ev.MeterValues, isPeriodicReading(ev))
		if err != nil {
			return res, fmt.Errorf("recording transaction event: %w", err)
		}
		l.seqAdd(ev.TransactionID, ev.SeqNo)
		if len(ev.MeterValues) > 0 && ev.EventType != TxEnded {
			s.sessionMetered(SessionRef{SessionID: ref.sessionID, StationID: l.StationID, ConnectorID: ref.connectorID, TransactionID: ev.TransactionID})
		}
	}
	if !dup && len(ev.MeterValues) > 0 {
		if sess.MeterStartUnknown {
			if wh, unknown := startReading(ev.MeterValues); !unknown {
				if _, err := s.store.SetSessionMeterStart(ctx, sess.ID, wh); err != nil {
					return res, fmt.Errorf("recording the session's start reading: %w", err)
				}
				sess.MeterStartUnknown, sess.MeterStartWh = false, wh
				ref.meterStartUnknown, ref.meterStartWh = false, wh
				if ref.active {
					l.rememberTx(ev.TransactionID, ref)
				}
			}
		}
	}

	if ev.EventType == TxStarted && known && !dup {
		// A start delivered after later events of its transaction: its
		// time and reading are the session's true beginning.
		if wh, unknown := startReading(ev.MeterValues); !unknown {
			if _, err := s.store.CorrectSessionStart(ctx, sess.ID, s.stationTime(ev.Timestamp), wh); err != nil {
				return res, fmt.Errorf("correcting the session's start: %w", err)
			}
			if sess, err = s.store.GetSession(ctx, l.OperatorID, sess.ID); err != nil {
				return res, fmt.Errorf("loading session: %w", err)
			}
			partial = false
			if sess.Status == model.SessionActive {
				l.rememberTx(ev.TransactionID, refOf(sess))
			}
		}
	}

	if ev.EventType == TxEnded && !dup {
		var meterStop *int64
		if wh, ok := endReading(ev.MeterValues); ok {
			meterStop = &wh
		}
		reason := ev.StoppedReason
		if reason == "" {
			reason = "Local" // E06: absent means a local stop
		}
		stopped, outcome, err := s.store.StopSession(ctx, store.StopSessionParams{
			StationID: l.StationID, TransactionID: ev.TransactionID, StoppedAt: s.stationTime(ev.Timestamp),
			MeterStopWh: meterStop, Reason: reason, IDTag: idTag, Source: model.StopSourceStation,
			TransactionData: len(ev.MeterValues) > 0,
		})
		if err != nil {
			return res, fmt.Errorf("stopping session: %w", err)
		}
		sess, partial = stopped, false
		l.forgetTx(ev.TransactionID)
		if outcome == store.Stopped || outcome == store.Corrected {
			s.sessionStopped(sess)
			s.metrics.SessionsStopped.Inc()
			s.log.Info("transaction stopped", "station_id", l.StationID, "transaction_id", ev.TransactionID,
				"session_id", sess.ID, "energy_wh", sess.EnergyWh, "reason", sess.StopReason, "corrected", outcome == store.Corrected)
		}
	}

	if s.costs != nil && sess.ID != "" {
		if partial || sess.Status == model.SessionActive && len(ev.MeterValues) > 0 && !dup {
			// The running cost is of the energy including this event's.
			if fresh, err := s.store.GetSession(ctx, l.OperatorID, sess.ID); err == nil {
				sess = fresh
			}
		}
		if c, ok, err := s.costs.SessionCost(ctx, sess); err != nil {
			s.log.Warn("pricing a session failed", "session_id", sess.ID, "err", err)
		} else if ok {
			res.Cost = &c
		}
		if sess.Status == model.SessionActive {
			lim, err := s.costs.SessionLimit(ctx, sess)
			if err != nil {
				s.log.Warn("computing a session limit failed", "session_id", sess.ID, "err", err)
			}
			res.Limit = lim
		}
	}
	res.Session = sess
	return res, nil
}

// isPeriodicReading tells an event that only brings a meter reading (the
// bulk of a 2.x station's traffic): it is stored as its meter values alone.
func isPeriodicReading(ev TxEvent) bool {
	return ev.EventType == TxUpdated && len(ev.MeterValues) > 0 && ev.ChargingState == "" && ev.IDToken == "" &&
		(ev.TriggerReason == "MeterValuePeriodic" || ev.TriggerReason == "MeterValueClock")
}

// startReading returns the energy register (Wh) at the start of a
// transaction: from a Transaction.Begin sample, else the earliest reading.
// unknown is true when the values hold no register reading at all.
func startReading(values []model.MeterValue) (wh int64, unknown bool) {
	return pickReading(values, "Transaction.Begin", false)
}

// endReading returns the register at the end: from a Transaction.End
// sample, else the latest reading.
func endReading(values []model.MeterValue) (int64, bool) {
	wh, unknown := pickReading(values, "Transaction.End", true)
	return wh, !unknown
}

func pickReading(values []model.MeterValue, context string, latest bool) (int64, bool) {
	var (
		best     *model.MeterValue
		fallback *model.MeterValue
	)
	for i := range values {
		mv := values[i]
		if mv.EnergyWh == nil {
			// Not prepared yet (a start is read before its session exists):
			// extract into the copy; the values are prepared when stored.
			ExtractReadings(&mv)
		}
		if mv.EnergyWh == nil {
			continue
		}
		for _, sv := range mv.Samples {
			if sv.Context == context {
				best = &mv
				break
			}
		}
		if fallback == nil || latest && !mv.Timestamp.Before(fallback.Timestamp) || !latest && mv.Timestamp.Before(fallback.Timestamp) {
			fallback = &mv
		}
	}
	if best == nil {
		best = fallback
	}
	if best == nil {
		return 0, true
	}
	return roundWh(*best.EnergyWh), false
}
