package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/chargestar/chargestar/internal/model"
)

// Alerts and their webhook outbox (migration 00006). internal/alerts
// decides which alerts should be open; the store keeps them, at most one
// open per operator, kind and subject (the partial unique index
// alerts_open), and writes each opening or resolution together with its
// webhook delivery in one transaction, so a crash never loses the
// delivery of an alert that changed, nor queues one for a change that did
// not happen.

// Alert is a condition an operator should look at.
type Alert struct {
	ID             string // "alr_…"
	OperatorID     string
	Kind           string // offline | faulted | payment_stuck
	Subject        string // station id, "station/connector", or payment id
	StationID      string // "" when not about a station
	ConnectorID    *int
	PaymentID      string
	Message        string
	OpenedAt       time.Time
	ResolvedAt     *time.Time
	AcknowledgedAt *time.Time
	AcknowledgedBy string
}

// Alert webhook events.
const (
	AlertOpened   = "alert.opened"
	AlertResolved = "alert.resolved"
)

const alertCols = `id, operator_id, kind, subject, station_id, connector_id, payment_id, message, opened_at, resolved_at, acknowledged_at, acknowledged_by`

func scanAlert(sc interface{ Scan(...any) error }) (Alert, error) {
	var a Alert
	err := sc.Scan(&a.ID, &a.OperatorID, &a.Kind, &a.Subject, nstrCol(&a.StationID), &a.ConnectorID, nstrCol(&a.PaymentID), &a.Message,
		tsCol(&a.OpenedAt), ntsCol(&a.ResolvedAt), ntsCol(&a.AcknowledgedAt), &a.AcknowledgedBy)
	return a, err
}

// OpenAlert opens a (an "alr_…" id is assigned; OpenedAt defaults to
// now) unless an alert of the same operator, kind and subject is open,
// and, when webhookURL is set, queues its alert.opened delivery in the
// same transaction. opened is false (and the open alert is returned) when
// one was open already.
func (s *Store) OpenAlert(ctx context.Context, a Alert, webhookURL string) (_ Alert, opened bool, err error) {
	if a.OperatorID == "" || a.Kind == "" || a.Subject == "" {
		return Alert{}, false, fmt.Errorf("store: open alert: operator, kind and subject are required")
	}
	a.ID = newID("alr_")
	if a.OpenedAt.IsZero() {
		a.OpenedAt = time.Now()
	}
	a.OpenedAt = normTime(a.OpenedAt)
	a.ResolvedAt, a.AcknowledgedAt, a.AcknowledgedBy = nil, nil, ""
	err = s.write(ctx, func(ctx context.Context, w *wtx) error {
		opened = false
		// ON CONFLICT without a target also covers the partial unique
		// index, in both databases: an open alert stays the one.
		res, err := w.exec(ctx, `INSERT INTO alerts (`+alertCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, NULL, '')
			ON CONFLICT DO NOTHING`, a.ID, a.OperatorID, a.Kind, a.Subject, nullIfEmpty(a.StationID), nullInt(a.ConnectorID),
			nullIfEmpty(a.PaymentID), a.Message, s.d.ts(a.OpenedAt))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		opened = true
		return s.queueAlertDelivery(ctx, w, a.ID, AlertOpened, webhookURL, a.OpenedAt)
	})
	if err != nil {
		return Alert{}, false, wrap("open alert", err)
	}
	if opened {
		return a, true, nil
	}
	cur, err := scanAlert(s.queryRow(ctx, `SELECT `+alertCols+` FROM alerts
		WHERE operator_id = $1 AND kind = $2 AND subject = $3 AND resolved_at IS NULL`, a.OperatorID, a.Kind, a.Subject))
	if err != nil {
		// Resolved in between: nothing is open and nothing was opened.
		return Alert{}, false, wrapRead("open alert", err)
	}
	return cur, false, nil
}

// ResolveAlert resolves the open alert id (of operatorID, "" any) at at
// and, when webhookURL is set, queues its alert.resolved delivery in the
// same transaction. False when it was resolved already.
func (s *Store) ResolveAlert(ctx context.Context, operatorID, id string, at time.Time, webhookURL string) (bool, error) {
	at = normTime(at)
	var resolved bool
	err := s.write(ctx, func(ctx context.Context, w *wtx) error {
		resolved = false
		res, err := w.exec(ctx, `UPDATE alerts SET resolved_at = $3 WHERE id = $1 AND ($2 = '' OR operator_id = $2) AND resolved_at IS NULL`,
			id, operatorID, s.d.ts(at))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		resolved = true
		return s.queueAlertDelivery(ctx, w, id, AlertResolved, webhookURL, at)
	})
	if err != nil {
		return false, wrap("resolve alert", err)
	}
	return resolved, nil
}

func (s *Store) queueAlertDelivery(ctx context.Context, w *wtx, alertID, event, webhookURL string, at time.Time) error {
	if webhookURL == "" {
		return nil
	}
	_, err := w.exec(ctx, `INSERT INTO alert_deliveries (alert_id, event, next_attempt_at, created_at) VALUES ($1, $2, $3, $3)
		ON CONFLICT (alert_id, event) DO NOTHING`, alertID, event, s.d.ts(at))
	return err
}

// AcknowledgeAlert records that someone (by) has seen alert id of
// operatorID ("" any). The first acknowledgement stands; repeating it
// changes nothing. ErrNotFound for an unknown alert or another
// operator's.
func (s *Store) AcknowledgeAlert(ctx context.Context, operatorID, id, by string, at time.Time) (Alert, error) {
	at = normTime(at)
	err := s.write(ctx, func(ctx context.Context, w *wtx) error {
		res, err := w.exec(ctx, `UPDATE alerts SET acknowledged_by = CASE WHEN acknowledged_at IS NULL THEN $3 ELSE acknowledged_by END,
			acknowledged_at = COALESCE(acknowledged_at, $4) WHERE id = $1 AND ($2 = '' OR operator_id = $2)`, id, operatorID, by, s.d.ts(at))
		if err != nil {
			return err
		}
		return rejectIfNone(res, ErrNotFound)
	})
	if err != nil {
		return Alert{}, wrap("acknowledge alert", err)
	}
	return s.GetAlert(ctx, operatorID, id)
}

// GetAlert returns alert id of operatorID ("" any).
func (s *Store) GetAlert(ctx context.Context, operatorID, id string) (Alert, error) {
	a, err := scanAlert(s.queryRow(ctx, `SELECT `+alertCols+` FROM alerts WHERE id = $1 AND ($2 = '' OR operator_id = $2)`, id, operatorID))
	return a, wrapRead("get alert", err)
}

// AlertFilter selects alerts to list.
type AlertFilter struct {
	OperatorID string // "" any
	State      string // "open", "resolved" or "" (both)
	Kind       string // "" any
	StationID  string // "" any
	Before     string // the page cursor: alerts listed after this one
	Limit      int
}

// ListAlerts lists alerts newest first (by opened_at, then id).
func (s *Store) ListAlerts(ctx context.Context, f AlertFilter) ([]Alert, error) {
	var (
		where = []string{"1 = 1"}
		args  []any
	)
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args))))
	}
	if f.OperatorID != "" {
		add("operator_id = ?", f.OperatorID)
	}
	switch f.State {
	case "open":
		where = append(where, "resolved_at IS NULL")
	case "resolved":
		where = append(where, "resolved_at IS NOT NULL")
	}
	if f.Kind != "" {
		add("kind = ?", f.Kind)
	}
	if f.StationID != "" {
		add("station_id = ?", f.StationID)
	}
	if f.Before != "" {
		var openedAt time.Time
		err := s.queryRow(ctx, `SELECT opened_at FROM alerts WHERE id = $1 AND ($2 = '' OR operator_id = $2)`, f.Before, f.OperatorID).Scan(tsCol(&openedAt))
		if err != nil {
			return nil, wrapRead("list alerts", err)
		}
		args = append(args, s.d.ts(openedAt), f.Before)
		t, id := "$"+strconv.Itoa(len(args)-1), "$"+strconv.Itoa(len(args))
		where = append(where, "(opened_at < "+t+" OR (opened_at = "+t+" AND id < "+id+"))")
	}
	args = append(args, clampLimit(f.Limit, 100, 10000))
	rows, err := s.query(ctx, `SELECT `+alertCols+` FROM alerts WHERE `+strings.Join(where, " AND ")+
		` ORDER BY opened_at DESC, id DESC LIMIT $`+strconv.Itoa(len(args)), args...)
	if err != nil {
		return nil, wrap("list alerts", err)
	}
	return collect(rows, scanAlert, "list alerts")
}

// AlertStation is a station as alert evaluation needs it.
type AlertStation struct {
	ID         string
	CreatedAt  time.Time
	RetiredAt  *time.Time
	LastSeenAt *time.Time
	// Connected: its latest connection period is open.
	Connected bool
	// DisconnectedAt is when its latest connection period ended; nil
	// while connected or when it never connected.
	DisconnectedAt *time.Time
	EverConnected  bool
}

// AlertInputs is an operator's state that alerts are evaluated on.
type AlertInputs struct {
	Stations []AlertStation
	// Faulted are the connectors whose current status is Faulted, of
	// stations not retired.
	Faulted []model.Connector
	// Payments are the operator's session payments in states that may be
	// stuck (authorized, stopped).
	Payments []SessionPayment
}

// AlertInputs reads operatorID's state for alert evaluation.
func (s *Store) AlertInputs(ctx context.Context, operatorID string) (AlertInputs, error) {
	var in AlertInputs
	// The latest connection period of each station: one probe of the
	// (station_id, connected_at) index per station, however long the
	// history.
	rows, err := s.query(ctx, `SELECT st.id, st.created_at, st.retired_at, st.last_seen_at, c.id, c.disconnected_at
		FROM stations st LEFT JOIN station_connections c ON c.id = (
			SELECT l.id FROM station_connections l WHERE l.station_id = st.id ORDER BY l.connected_at DESC, l.id DESC LIMIT 1)
		WHERE st.operator_id = $1 ORDER BY st.id`, operatorID)
	if err != nil {
		return in, wrap("alert inputs", err)
	}
	in.Stations, err = collect(rows, func(sc interface{ Scan(...any) error }) (AlertStation, error) {
		var x AlertStation
		var connID *int64
		err := sc.Scan(&x.ID, tsCol(&x.CreatedAt), ntsCol(&x.RetiredAt), ntsCol(&x.LastSeenAt), &connID, ntsCol(&x.DisconnectedAt))
		x.EverConnected = connID != nil
		x.Connected = connID != nil && x.DisconnectedAt == nil
		return x, err
	}, "alert inputs")
	if err != nil {
		return in, err
	}
	rows, err = s.query(ctx, `SELECT `+connectorCols+` FROM connectors WHERE status = 'Faulted'
		AND station_id IN (SELECT id FROM stations WHERE operator_id = $1 AND retired_at IS NULL) ORDER BY station_id, connector_id`, operatorID)
	if err != nil {
		return in, wrap("alert inputs", err)
	}
	if in.Faulted, err = collect(rows, scanConnector, "alert inputs"); err != nil {
		return in, err
	}
	for after := ""; ; {
		page, err := s.ListSessionPayments(ctx, SessionPaymentFilter{OperatorID: operatorID, States: []string{"authorized", "stopped"},
			AfterID: after, Limit: 10000})
		if err != nil {
			return in, err
		}
		for _, p := range page {
			if p.Purpose == "session" {
				in.Payments = append(in.Payments, p)
			}
		}
		if len(page) < 10000 {
			break
		}
		after = page[len(page)-1].ID
	}
	return in, nil
}

// AlertDelivery is a webhook to deliver (or delivered) for an alert event.
type AlertDelivery struct {
	ID            int64
	AlertID       string
	Event         string
	Attempts      int
	NextAttemptAt time.Time
	DeliveredAt   *time.Time
	FailedAt      *time.Time
	LastError     string
	CreatedAt     time.Time
}

const alertDeliveryCols = `id, alert_id, event, attempts, next_attempt_at, delivered_at, failed_at, last_error, created_at`

func scanAlertDelivery(sc interface{ Scan(...any) error }) (AlertDelivery, error) {
	var d AlertDelivery
	err := sc.Scan(&d.ID, &d.AlertID, &d.Event, &d.Attempts, tsCol(&d.NextAttemptAt), ntsCol(&d.DeliveredAt), ntsCol(&d.FailedAt),
		&d.LastError, tsCol(&d.CreatedAt))
	return d, err
}

// DueAlertDeliveries returns the deliveries due at now, oldest first.
func (s *Store) DueAlertDeliveries(ctx context.Context, now time.Time, limit int) ([]AlertDelivery, error) {
	rows, err := s.query(ctx, `SELECT `+alertDeliveryCols+` FROM alert_deliveries
		WHERE delivered_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT $2`,
		s.d.ts(now), clampLimit(limit, 100, 1000))
	if err != nil {
		return nil, wrap("due alert deliveries", err)
	}
	return collect(rows, scanAlertDelivery, "due alert deliveries")
}

// AlertDeliveries returns an alert's deliveries, by id.
func (s *Store) AlertDeliveries(ctx context.Context, alertID string) ([]AlertDelivery, error) {
	rows, err := s.query(ctx, `SELECT `+alertDeliveryCols+` FROM alert_deliveries WHERE alert_id = $1 ORDER BY id`, alertID)
	if err != nil {
		return nil, wrap("alert deliveries", err)
	}
	return collect(rows, scanAlertDelivery, "alert deliveries")
}

// ClaimAlertDelivery takes a due delivery for one attempt, as
// ClaimPaymentJob does: its next attempt moves to leaseUntil, so no other
// worker (of this process, or of another instance on the same database)
// sends it meanwhile; if this one dies, it is due again when the lease
// ends. False: someone else has it, or it is finished.
func (s *Store) ClaimAlertDelivery(ctx context.Context, id int64, now, leaseUntil time.Time) (bool, error) {
	var claimed bool
	err := s.write(ctx, func(ctx context.Context, w *wtx) error {
		res, err := w.exec(ctx, `UPDATE alert_deliveries SET next_attempt_at = $3
			WHERE id = $1 AND delivered_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $2`, id, s.d.ts(now), s.d.ts(leaseUntil))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		claimed = n == 1
		return err
	})
	if err != nil {
		return false, wrap("claim alert delivery", err)
	}
	return claimed, nil
}

// AlertDeliveryOutcome is how one attempt at a delivery ended.
type AlertDeliveryOutcome struct {
	At        time.Time
	Delivered bool      // a 2xx answer
	Error     string    // why not
	RetryAt   time.Time // the next attempt; zero: give up (failed_at = At)
}

// FinishAlertDelivery records an attempt.
func (s *Store) FinishAlertDelivery(ctx context.Context, id int64, o AlertDeliveryOutcome) error {
	at := s.d.ts(o.At)
	err := s.write(ctx, func(ctx context.Context, w *wtx) error {
		var err error
		switch {
		case o.Delivered:
			_, err = w.exec(ctx, `UPDATE alert_deliveries SET delivered_at = $2, attempts = attempts + 1, last_error = '' WHERE id = $1`, id, at)
		case o.RetryAt.IsZero():
			_, err = w.exec(ctx, `UPDATE alert_deliveries SET failed_at = $2, attempts = attempts + 1, last_error = $3 WHERE id = $1`, id, at, o.Error)
		default:
			_, err = w.exec(ctx, `UPDATE alert_deliveries SET next_attempt_at = $2, attempts = attempts + 1, last_error = $3 WHERE id = $1`,
				id, s.d.ts(o.RetryAt), o.Error)
		}
		return err
	})
	return wrap("finish alert delivery", err)
}
