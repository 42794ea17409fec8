package csms

import (
	"bytes"
	"context"
	"log/slog"
	"time"

	"github.com/chargestar/chargestar/internal/model"
)

// Link implements ocppj.Observer: every frame goes to the message log and
// every call to the metrics.

// Frame implements ocppj.Observer.
func (l *Link) Frame(in bool, typ int, id, action string, raw []byte) {
	s := l.svc
	if s == nil {
		return
	}
	if in {
		l.Touch(s.now())
	}
	if !s.cfg.LogMeterValues && l.isMeterTraffic(in, typ, id, action, raw) {
		return
	}
	dir := model.DirectionOut
	if in {
		dir = model.DirectionIn
	}
	s.store.LogMessages(model.MessageLogEntry{
		StationID: l.StationID, At: s.Now(), Direction: dir, MessageType: typ,
		MessageID: id, Action: action, Payload: string(raw),
	})
	if s.log.Enabled(context.Background(), slog.LevelDebug) {
		s.log.Debug("ocpp frame", "station_id", l.StationID, "direction", dir, "message_id", id, "action", action, "frame", string(raw))
	}
}

// CallHandled implements ocppj.Observer.
func (l *Link) CallHandled(action, outcome string, took time.Duration) {
	if l.svc != nil {
		l.svc.metrics.inCall(action, outcome, took)
		if outcome != "ok" {
			l.svc.log.Info("call answered with an error", "station_id", l.StationID, "action", action, "error_code", outcome)
		}
	}
}

// CallCompleted implements ocppj.Observer.
func (l *Link) CallCompleted(action, outcome string, took time.Duration) {
	if l.svc != nil {
		l.svc.metrics.outCall(action, outcome, took)
	}
}

// isMeterTraffic tells the frames that are only meter readings — 1.6
// MeterValues and their answers, 2.x MeterValues, and 2.x TransactionEvent
// Updated sent for a periodic or clock-aligned reading, with their answers
// — which are most of the traffic and stored as meter values anyway. Other
// transaction events (start, end, a change of state) stay in the log.
func (l *Link) isMeterTraffic(in bool, typ int, id, action string, raw []byte) bool {
	switch action {
	case "MeterValues":
		return true
	case "TransactionEvent":
	default:
		return false
	}
	if in && typ == 2 {
		periodic := bytes.Contains(raw, []byte(`"eventType":"Updated"`)) &&
			(bytes.Contains(raw, []byte(`"triggerReason":"MeterValuePeriodic"`)) || bytes.Contains(raw, []byte(`"triggerReason":"MeterValueClock"`)))
		if periodic {
			l.skipLogID.Store(&id)
		}
		return periodic
	}
	if p := l.skipLogID.Load(); p != nil && *p == id {
		l.skipLogID.Store(nil)
		return true
	}
	return false
}
