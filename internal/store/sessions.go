package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/chargestar/chargestar/internal/model"
)

// sessionCols are the sessions columns (alias s) in scanSession's order,
// followed by the live energy register of an active session: the energy
// reading of its latest meter value, found through the (session_id, ts)
// index of meter_values; and, for an active session whose meter start is
// unknown (2.x), the reading of its earliest meter value, which stands in
// for the start. The CASE keeps the second subquery off every other read.
var sessionCols = func() string {
	cols := []string{"id", "operator_id", "station_id", "connector_id", "transaction_id", "id_tag", "reservation_id",
		"status", "started_at", "stopped_at", "meter_start_wh", "meter_stop_wh", "energy_wh", "stop_reason",
		"stop_id_tag", "stop_source", "transaction_data", "amount_total", "amount_tax", "currency",
		"payment_status", "created_at", "updated_at", "meter_start_unknown"}
	for i, c := range cols {
		cols[i] = "s." + c
	}
	return strings.Join(cols, ", ") + `,
	CASE WHEN s.status = 'active' THEN (SELECT mv.energy_wh FROM meter_values mv
		WHERE mv.session_id = s.id AND mv.energy_wh IS NOT NULL ORDER BY mv.ts DESC LIMIT 1) END,
	CASE WHEN s.status = 'active' AND s.meter_start_unknown THEN (SELECT mv.energy_wh FROM meter_values mv
		WHERE mv.session_id = s.id AND mv.energy_wh IS NOT NULL ORDER BY mv.ts LIMIT 1) END`
}()

func scanSession(sc interface{ Scan(...any) error }) (model.Session, error) {
	var (
		x        model.Session
		resID    sql.NullInt64
		stop     sql.NullInt64
		liveWh   sql.NullFloat64
		firstWh  sql.NullFloat64
		trxData  bool
		energyWh int64
	)
	err := sc.Scan(&x.ID, &x.OperatorID, &x.StationID, &x.ConnectorID, &x.TransactionID, &x.IDTag, &resID,
		&x.Status, tsCol(&x.StartedAt), ntsCol(&x.StoppedAt), &x.MeterStartWh, &stop, &energyWh, &x.StopReason,
		&x.StopIDTag, &x.StopSource, &trxData, &x.AmountTotal, &x.AmountTax, &x.Currency, &x.PaymentStatus,
		tsCol(&x.CreatedAt), tsCol(&x.UpdatedAt), &x.MeterStartUnknown, &liveWh, &firstWh)
	if err != nil {
		return model.Session{}, err
	}
	if resID.Valid {
		r := int(resID.Int64)
		x.ReservationID = &r
	}
	if stop.Valid {
		v := stop.Int64
		x.MeterStopWh = &v
	}
	x.TransactionData = trxData
	x.EnergyWh = energyWh
	if x.Status == model.SessionActive {
		x.EnergyWh = 0
		if liveWh.Valid {
			start := x.MeterStartWh
			if x.MeterStartUnknown && firstWh.Valid {
				start = roundWh(firstWh.Float64)
			}
			x.EnergyWh = energyBetween(start, roundWh(liveWh.Float64))
		}
	}
	return x, nil
}

func roundWh(f float64) int64 { return int64(math.Round(f)) }

// energyBetween is stop − start, never negative (a replaced meter, a bad
// reading).
func energyBetween(start, stop int64) int64 { return max(0, stop-start) }

// lastEnergy returns the energy register (Wh) of the session's latest meter
// value that has one.
func lastEnergy(ctx context.Context, q dbtx, sessionID string) (int64, bool, error) {
	return energyReading(ctx, q, `SELECT energy_wh FROM meter_values WHERE session_id = $1 AND energy_wh IS NOT NULL
		ORDER BY ts DESC LIMIT 1`, sessionID)
}

// firstEnergy returns the energy register (Wh) of the session's earliest
// meter value that has one.
func firstEnergy(ctx context.Context, q dbtx, sessionID string) (int64, bool, error) {
	return energyReading(ctx, q, `SELECT energy_wh FROM meter_values WHERE session_id = $1 AND energy_wh IS NOT NULL
		ORDER BY ts LIMIT 1`, sessionID)
}

func energyReading(ctx context.Context, q dbtx, query, sessionID string) (int64, bool, error) {
	var wh float64
	err := q.QueryRowContext(ctx, query, sessionID).Scan(&wh)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	return roundWh(wh), true, nil
}

// closingMeter works out the meter start and stop of a session being closed
// (stopped, superseded or corrected). The stop is meterStop if given, else
// the session's last energy reading, else its start. A start that is still
// unknown (2.x) becomes the session's earliest energy reading, else the
// stop (energy 0). With neither a reading nor a meter stop nothing is known:
// the start stays unknown (stop = start, energy 0), so that a correcting
// stop from the station can still work it out.
func closingMeter(ctx context.Context, q dbtx, sessionID string, start int64, startUnknown bool, meterStop *int64) (startWh, stopWh int64, stillUnknown bool, err error) {
	if startUnknown {
		first, ok, err := firstEnergy(ctx, q, sessionID)
		if err != nil {
			return 0, 0, false, err
		}
		switch {
		case ok:
			start, startUnknown = first, false
		case meterStop != nil:
			start, startUnknown = *meterStop, false
		}
	}
	stop := start
	if meterStop != nil {
		stop = *meterStop
	} else {
		last, ok, err := lastEnergy(ctx, q, sessionID)
		if err != nil {
			return 0, 0, false, err
		}
		if ok {
			stop = last
		}
	}
	return start, stop, startUnknown, nil
}

// StartSession records a transaction start, batched with other writes.
//
// It is idempotent: a replayed start (the same station, connector, id tag,
// start time and meter start; for 2.x the same station and transaction id)
// returns the stored session with created=false. Otherwise, in the same
// transaction, any other active session on the connector is closed as
// estimated (stop reason Other, stopped at the new start, meter stop its last
// energy reading or its start), and the new session is inserted with a fresh
// "ses_…" id, a newly allocated 1.6 transaction id when p.TransactionID is
// "", status active and payment status none. MeterStartUnknown stores meter
// start 0 with the flag set (see SetSessionMeterStart and StopSession).
//
// OperatorID "" takes the station's operator; another operator's station is
// ErrNotFound, as is an unknown station. Currency "" takes the operator's.
func (s *Store) StartSession(ctx context.Context, p StartSessionParams) (model.Session, bool, error) {
	if p.StationID == "" {
		return model.Session{}, false, fmt.Errorf("store: start session: station id is required")
	}
	if p.StartedAt.IsZero() {
		p.StartedAt = time.Now()
	}
	p.StartedAt = normTime(p.StartedAt)
	if p.MeterStartUnknown {
		p.MeterStartWh = 0
	}
	id := newID(prefixSession)
	var (
		out     model.Session
		created bool
	)
	d := s.d
	err := s.write(ctx, func(ctx context.Context, w *wtx) error {
		out, created = model.Session{}, false
		var operatorID, currency string
		err := w.queryRow(ctx, `SELECT st.operator_id, o.currency FROM stations st
			JOIN operators o ON o.id = st.operator_id WHERE st.id = $1`, p.StationID).Scan(&operatorID, &currency)
		if err != nil {
			return rejectNoRows(err)
		}
		if p.OperatorID != "" && p.OperatorID != operatorID {
			return reject(ErrNotFound)
		}
		if p.Currency != "" {
			currency = p.Currency
		}

		// A replay?
		var row *sql.Row
		if p.TransactionID != "" {
			row = w.queryRow(ctx, `SELECT `+sessionCols+` FROM sessions s WHERE s.station_id = $1 AND s.transaction_id = $2`,
				p.StationID, p.TransactionID)
		} else {
			row = w.queryRow(ctx, `SELECT `+sessionCols+` FROM sessions s
				WHERE s.station_id = $1 AND s.connector_id = $2 AND s.started_at = $3 AND s.meter_start_wh = $4 AND s.id_tag_key = $5
				ORDER BY s.created_at LIMIT 1`,
				p.StationID, p.ConnectorID, d.ts(p.StartedAt), p.MeterStartWh, tokenKey(p.IDTag))
		}
		existing, err := scanSession(row)
		switch {
		case err == nil:
			out = existing
			return nil
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}

		now := normTime(time.Now())
		status := model.SessionActive
		var stoppedAt *time.Time
		var meterStop *int64
		stopSource, stopReason := "", ""

		// The connector's active session, if any, is superseded: it ended at
		// the latest when this one started. If it started after this one (the
		// station delivered starts out of order), this one is the session
		// that ended: it is stored closed as estimated, at that start.
		var activeID string
		var activeStart time.Time
		var activeMeterStart int64
		var activeStartUnknown bool
		// Connector 0 is a 2.x transaction whose EVSE is not known yet (the
		// driver identified before plugging in): it supersedes nothing.
		err = w.queryRow(ctx, `SELECT id, started_at, meter_start_wh, meter_start_unknown FROM sessions
			WHERE station_id = $1 AND connector_id = $2 AND connector_id > 0 AND status = 'active'`, p.StationID, p.ConnectorID).
			Scan(&activeID, tsCol(&activeStart), &activeMeterStart, &activeStartUnknown)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		case activeStart.After(p.StartedAt):
			t := activeStart
			stoppedAt, meterStop = &t, &p.MeterStartWh
			status, stopSource, stopReason = model.SessionCompleted, model.StopSourceEstimated, "Other"
		default:
			start, stop, unknown, err := closingMeter(ctx, w, activeID, activeMeterStart, activeStartUnknown, nil)
			if err != nil {
				return err
			}
			if _, err := w.exec(ctx, `UPDATE sessions SET status = 'completed', stopped_at = $2, meter_stop_wh = $3,
				energy_wh = $4, stop_reason = 'Other', stop_source = $5, updated_at = $6,
				meter_start_wh = $7, meter_start_unknown = $8 WHERE id = $1`,
				activeID, d.ts(p.StartedAt), stop, energyBetween(start, stop),
				model.StopSourceEstimated, d.ts(now), start, unknown); err != nil {
				return err
			}
		}

		trxID := p.TransactionID
		if trxID == "" {
			n, err := d.nextTransactionID(ctx, w)
			if err != nil {
				return err
			}
			trxID = strconv.FormatInt(n, 10)
		}
		x := model.Session{
			ID:            id,
			OperatorID:    operatorID,
			StationID:     p.StationID,
			ConnectorID:   p.ConnectorID,
			TransactionID: trxID,
			IDTag:         p.IDTag,
			Status:        status,
			StartedAt:     p.StartedAt,
			StoppedAt:     stoppedAt,
			MeterStartWh:  p.MeterStartWh,
			MeterStopWh:   meterStop,
			StopReason:    stopReason,
			StopSource:    stopSource,
			Currency:      currency,
			PaymentStatus: model.PaymentNone,
			CreatedAt:     now,
			UpdatedAt:     now,
		}
		// (stored closed because it started out of order, it keeps the flag:
		// nothing is known about its readings; a correcting stop decides)
		x.MeterStartUnknown = p.MeterStartUnknown
		if p.ReservationID != nil {
			r := *p.ReservationID
			x.ReservationID = &r
		}
		if _, err := w.exec(ctx, `INSERT INTO sessions (id, operator_id, station_id, connector_id, transaction_id,
			id_tag, id_tag_key, reservation_id, status, started_at, stopped_at, meter_start_wh, meter_stop_wh,
			stop_reason, stop_source, currency, payment_status, created_at, updated_at, meter_start_unknown)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)`,
			x.ID, x.OperatorID, x.StationID, x.ConnectorID, x.TransactionID, x.IDTag, tokenKey(x.IDTag),
			nullInt(x.ReservationID), x.Status, d.ts(x.StartedAt), d.nts(x.StoppedAt), x.MeterStartWh,
			nullInt64(x.MeterStopWh), x.StopReason, x.StopSource, x.Currency, x.PaymentStatus,
			d.ts(x.CreatedAt), d.ts(x.UpdatedAt), x.MeterStartUnknown); err != nil {
			return err
		}
		out, created = x, true
		return nil
	})
	if err != nil {
		return model.Session{}, false, wrap("start session", err)
	}
	return out, created, nil
}

// StopSession records a transaction stop, batched with other writes.
// ErrNotFound if the station has no such transaction. An active session is
// completed (Stopped); a session already stopped by the station is left as
// it is (AlreadyStopped); a session we closed as estimated takes the
// station's own report (Corrected). Energy is meter stop − meter start,
// never negative; a nil MeterStopWh takes the session's last energy register
// reading, else its meter start. A meter start still unknown (2.x) becomes
// the session's earliest energy reading, else the meter stop (energy 0), and
// the flag is cleared; only when there is neither a reading nor a meter stop
// does it stay set (energy 0), for a later correction to resolve.
func (s *Store) StopSession(ctx context.Context, p StopSessionParams) (model.Session, StopOutcome, error) {
	if p.StoppedAt.IsZero() {
		p.StoppedAt = time.Now()
	}
	if p.Source == "" {
		p.Source = model.StopSourceStation
	}
	if p.Source != model.StopSourceStation && p.Source != model.StopSourceEstimated {
		return model.Session{}, 0, fmt.Errorf("store: stop session: invalid source %q", p.Source)
	}
	var meterStop *int64
	if p.MeterStopWh != nil {
		v := *p.MeterStopWh
		meterStop = &v
	}
	d := s.d
	var (
		out     model.Session
		outcome StopOutcome
	)
	err := s.write(ctx, func(ctx context.Context, w *wtx) error {
		out, outcome = model.Session{}, 0
		cur, err := scanSession(w.queryRow(ctx, `SELECT `+sessionCols+` FROM sessions s
			WHERE s.station_id = $1 AND s.transaction_id = $2`, p.StationID, p.TransactionID))
		if err != nil {
			return rejectNoRows(err)
		}
		switch {
		case cur.Status == model.SessionActive:
			outcome = Stopped
		case cur.StopSource == model.StopSourceEstimated && p.Source == model.StopSourceStation:
			outcome = Corrected
		default:
			out, outcome = cur, AlreadyStopped
			return nil
		}
		start, stop, unknown, err := closingMeter(ctx, w, cur.ID, cur.MeterStartWh, cur.MeterStartUnknown, meterStop)
		if err != nil {
			return err
		}
		if _, err := w.exec(ctx, `UPDATE sessions SET status = 'completed', stopped_at = $2,
			meter_stop_wh = $3, energy_wh = $4, stop_reason = $5, stop_id_tag = $6, stop_source = $7,
			transaction_data = $8, updated_at = $9, meter_start_wh = $10, meter_start_unknown = $11 WHERE id = $1`,
			cur.ID, d.ts(p.StoppedAt), stop, energyBetween(start, stop), p.Reason, p.IDTag, p.Source,
			p.TransactionData, d.ts(time.Now()), start, unknown); err != nil {
			return err
		}
		x, err := scanSession(w.queryRow(ctx, `SELECT `+sessionCols+` FROM sessions s WHERE s.id = $1`, cur.ID))
		out = x
		return err
	})
	if err != nil {
		return model.Session{}, 0, wrap("stop session", err)
	}
	return out, outcome, nil
}

// SetSessionMeterStart sets the meter start of a session whose start is
// unknown (2.x: typically its first energy reading) and clears the flag. It
// changes nothing once the start is known (set, or fixed by the stop) and
// reports whether it changed the session; an unknown session is (false,
// nil). A completed session whose start is still unknown knew no reading at
// all (energy 0): its placeholder meter stop moves with the start.
func (s *Store) SetSessionMeterStart(ctx context.Context, sessionID string, wh int64) (bool, error) {
	now := s.d.ts(time.Now())
	var changed bool
	err := s.write(ctx, func(ctx context.Context, w *wtx) error {
		changed = false
		res, err := w.exec(ctx, `UPDATE sessions SET meter_start_wh = $2, meter_start_unknown = false,
			meter_stop_wh = CASE WHEN status = 'completed' THEN $2 ELSE meter_stop_wh END, updated_at = $3
			WHERE id = $1 AND meter_start_unknown`, sessionID, wh, now)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		changed = n > 0
		return err
	})
	if err != nil {
		return false, wrap("set session meter start", err)
	}
	return changed, nil
}

// GetSession returns the session id; operatorID "" matches any operator,
// otherwise another operator's session is ErrNotFound.
func (s *Store) GetSession(ctx context.Context, operatorID, id string) (model.Session, error) {
	x, err := scanSession(s.queryRow(ctx, `SELECT `+sessionCols+` FROM sessions s
		WHERE s.id = $1 AND ($2 = '' OR s.operator_id = $2)`, id, operatorID))
	return x, wrapRead("get session", err)
}

// GetSessionByTransaction returns the station's session with that
// station-facing transaction id.
func (s *Store) GetSessionByTransaction(ctx context.Context, stationID, transactionID string) (model.Session, error) {
	x, err := scanSession(s.queryRow(ctx, `SELECT `+sessionCols+` FROM sessions s
		WHERE s.station_id = $1 AND s.transaction_id = $2`, stationID, transactionID))
	return x, wrapRead("get session", err)
}

// ActiveSession returns the active session on the connector, or ErrNotFound.
func (s *Store) ActiveSession(ctx context.Context, stationID string, connectorID int) (model.Session, error) {
	x, err := scanSession(s.queryRow(ctx, `SELECT `+sessionCols+` FROM sessions s
		WHERE s.station_id = $1 AND s.connector_id = $2 AND s.status = 'active'`, stationID, connectorID))
	return x, wrapRead("get active session", err)
}

// ListActiveSessions returns the station's active sessions by connector.
func (s *Store) ListActiveSessions(ctx context.Context, stationID string) ([]model.Session, error) {
	rows, err := s.query(ctx, `SELECT `+sessionCols+` FROM sessions s
		WHERE s.station_id = $1 AND s.status = 'active' ORDER BY s.connector_id`, stationID)
	if err != nil {
		return nil, wrap("list active sessions", err)
	}
	return collect(rows, scanSession, "list active sessions")
}

// CountActiveSessionsForToken counts the operator's active sessions started
// with idTag (matched case-insensitively).
func (s *Store) CountActiveSessionsForToken(ctx context.Context, operatorID, idTag string) (int, error) {
	var n int
	err := s.queryRow(ctx, `SELECT count(*) FROM sessions
		WHERE operator_id = $1 AND id_tag_key = $2 AND status = 'active'`, operatorID, tokenKey(idTag)).Scan(&n)
	return n, wrap("count active sessions", err)
}

// ListSessions returns sessions newest first (by creation).
func (s *Store) ListSessions(ctx context.Context, f SessionFilter) ([]model.Session, error) {
	limit := clampLimit(f.Limit, 100, 1000)
	var (
		where []string
		args  []any
	)
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args))))
	}
	if f.OperatorID != "" {
		add("s.operator_id = ?", f.OperatorID)
	}
	if f.StationID != "" {
		add("s.station_id = ?", f.StationID)
	}
	if f.Status != "" {
		add("s.status = ?", f.Status)
	}
	if f.Before != "" {
		var createdAt time.Time
		err := s.queryRow(ctx, `SELECT created_at FROM sessions WHERE id = $1 AND ($2 = '' OR operator_id = $2)`,
			f.Before, f.OperatorID).Scan(tsCol(&createdAt))
		if err != nil {
			return nil, wrapRead("list sessions", err)
		}
		args = append(args, s.d.ts(createdAt), f.Before)
		t, id := "$"+strconv.Itoa(len(args)-1), "$"+strconv.Itoa(len(args))
		where = append(where, "(s.created_at < "+t+" OR (s.created_at = "+t+" AND s.id < "+id+"))")
	}
	q := `SELECT ` + sessionCols + ` FROM sessions s`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	args = append(args, limit)
	q += ` ORDER BY s.created_at DESC, s.id DESC LIMIT $` + strconv.Itoa(len(args))
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, wrap("list sessions", err)
	}
	return collect(rows, scanSession, "list sessions")
}
