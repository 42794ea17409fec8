package store

import (
	"context"
	"time"
)

// SetSessionIDTag records the id token of a session that began without one
// (OCPP 2.x: the cable was plugged in first, the driver identified later).
// A session that already has a token keeps it.
func (s *Store) SetSessionIDTag(ctx context.Context, sessionID, idTag string) error {
	now := s.d.ts(time.Now())
	err := s.write(ctx, func(ctx context.Context, w *wtx) error {
		_, err := w.exec(ctx, `UPDATE sessions SET id_tag = $2, id_tag_key = $3, updated_at = $4
			WHERE id = $1 AND id_tag = ''`, sessionID, idTag, tokenKey(idTag), now)
		return err
	})
	if err != nil {
		return wrap("set session id tag", err)
	}
	return nil
}

// CorrectSessionStart moves a session's start back to what its station's
// start event says, when that event arrived after later ones (OCPP 2.x
// events delivered out of order): the start time and the meter start are
// taken when earlier, and a completed session's energy is recomputed.
// It returns whether anything changed.
func (s *Store) CorrectSessionStart(ctx context.Context, sessionID string, startedAt time.Time, meterStartWh int64) (bool, error) {
	d := s.d
	now := d.ts(time.Now())
	var changed bool
	err := s.write(ctx, func(ctx context.Context, w *wtx) error {
		changed = false
		res, err := w.exec(ctx, `UPDATE sessions SET
				started_at = CASE WHEN started_at > $2 THEN $2 ELSE started_at END,
				meter_start_wh = $3, meter_start_unknown = false,
				energy_wh = CASE WHEN status = 'completed' AND meter_stop_wh IS NOT NULL AND meter_stop_wh > $3
					THEN meter_stop_wh - $3 ELSE energy_wh END,
				updated_at = $4
			WHERE id = $1 AND (meter_start_unknown OR meter_start_wh > $3)`,
			sessionID, d.ts(normTime(startedAt)), meterStartWh, now)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		changed = n > 0
		return err
	})
	if err != nil {
		return false, wrap("correct session start", err)
	}
	return changed, nil
}

// SetSessionConnector records the connector (2.x: EVSE) of a session that
// began without one, and its meter values stored meanwhile follow. Any other
// active session on that connector is left alone: the station reported both.
func (s *Store) SetSessionConnector(ctx context.Context, sessionID string, connectorID int) error {
	now := s.d.ts(time.Now())
	err := s.write(ctx, func(ctx context.Context, w *wtx) error {
		res, err := w.exec(ctx, `UPDATE sessions SET connector_id = $2, updated_at = $3 WHERE id = $1 AND connector_id = 0`,
			sessionID, connectorID, now)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		_, err = w.exec(ctx, `UPDATE meter_values SET connector_id = $2 WHERE session_id = $1 AND connector_id = 0`, sessionID, connectorID)
		return err
	})
	if err != nil {
		return wrap("set session connector", err)
	}
	return nil
}
