package csms

import (
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
	if action == "MeterValues" && !s.cfg.LogMeterValues {
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
