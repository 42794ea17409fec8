package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/chargestar/chargestar/internal/model"
)

const connectorCols = `station_id, connector_id, status, error_code, info, vendor_id, vendor_error_code, status_at, updated_at`

func scanConnector(sc interface{ Scan(...any) error }) (model.Connector, error) {
	var c model.Connector
	err := sc.Scan(&c.StationID, &c.ConnectorID, &c.Status, &c.ErrorCode, &c.Info, &c.VendorID,
		&c.VendorErrorCode, tsCol(&c.StatusAt), tsCol(&c.UpdatedAt))
	return c, err
}

const statusEventCols = `id, station_id, connector_id, status, error_code, info, vendor_id, vendor_error_code, ts, received_at`

func scanStatusEvent(sc interface{ Scan(...any) error }) (model.StatusEvent, error) {
	var e model.StatusEvent
	err := sc.Scan(&e.ID, &e.StationID, &e.ConnectorID, &e.Status, &e.ErrorCode, &e.Info, &e.VendorID,
		&e.VendorErrorCode, tsCol(&e.Timestamp), tsCol(&e.ReceivedAt))
	return e, err
}

// RecordStatus stores a StatusNotification: the history row always, and the
// connector's current status unless the stored one has a later timestamp
// (stations deliver queued notifications out of order). ReceivedAt defaults
// to now and Timestamp to ReceivedAt. ErrNotFound for an unknown station.
func (s *Store) RecordStatus(ctx context.Context, e model.StatusEvent) error {
	now := time.Now()
	if e.ReceivedAt.IsZero() {
		e.ReceivedAt = now
	}
	if e.Timestamp.IsZero() {
		e.Timestamp = e.ReceivedAt
	}
	ts, recv, upd := s.d.ts(e.Timestamp), s.d.ts(e.ReceivedAt), s.d.ts(now)
	err := s.write(ctx, func(ctx context.Context, w *wtx) error {
		if err := w.requireStation(ctx, e.StationID); err != nil {
			return err
		}
		_, err := w.exec(ctx, `INSERT INTO status_events
			(station_id, connector_id, status, error_code, info, vendor_id, vendor_error_code, ts, received_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			e.StationID, e.ConnectorID, e.Status, e.ErrorCode, e.Info, e.VendorID, e.VendorErrorCode, ts, recv)
		if err != nil {
			return err
		}
		_, err = w.exec(ctx, `INSERT INTO connectors (`+connectorCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
			ON CONFLICT (station_id, connector_id) DO UPDATE SET
				status = excluded.status, error_code = excluded.error_code, info = excluded.info,
				vendor_id = excluded.vendor_id, vendor_error_code = excluded.vendor_error_code,
				status_at = excluded.status_at, updated_at = excluded.updated_at
			WHERE connectors.status_at <= excluded.status_at`,
			e.StationID, e.ConnectorID, e.Status, e.ErrorCode, e.Info, e.VendorID, e.VendorErrorCode, ts, upd)
		return err
	})
	return wrap("record status", err)
}

// ListConnectors returns the station's connectors (connector 0 included),
// ordered by connector id.
func (s *Store) ListConnectors(ctx context.Context, stationID string) ([]model.Connector, error) {
	rows, err := s.query(ctx, `SELECT `+connectorCols+` FROM connectors WHERE station_id = $1 ORDER BY connector_id`, stationID)
	if err != nil {
		return nil, wrap("list connectors", err)
	}
	return collect(rows, scanConnector, "list connectors")
}

// ListConnectorsOf returns the connectors of several stations, keyed by
// station id; stations without connectors are absent.
func (s *Store) ListConnectorsOf(ctx context.Context, stationIDs []string) (map[string][]model.Connector, error) {
	return byStation(ctx, s, stationIDs, func(in string) string {
		return `SELECT ` + connectorCols + ` FROM connectors WHERE station_id IN (` + in + `) ORDER BY station_id, connector_id`
	}, scanConnector, func(c model.Connector) string { return c.StationID }, "list connectors")
}

// byStation runs a query selecting rows of many stations, at most 512 ids
// per statement, and groups the scanned rows by station id. query gets the
// IN list's placeholders. The list is padded to a power of two (repeating
// the last id) so that few statement texts serve every call.
func byStation[T any](ctx context.Context, s *Store, stationIDs []string, query func(in string) string,
	scan func(interface{ Scan(...any) error }) (T, error), stationOf func(T) string, what string) (map[string][]T, error) {
	out := make(map[string][]T)
	const per = 512
	for len(stationIDs) > 0 {
		n := min(len(stationIDs), per)
		m := 1
		for m < n {
			m *= 2
		}
		args := make([]any, m)
		for i := range m {
			args[i] = stationIDs[min(i, n-1)]
		}
		rows, err := s.query(ctx, query(s.d.placeholders(1, m)), args...)
		if err != nil {
			return nil, wrap(what, err)
		}
		xs, err := collect(rows, scan, what)
		if err != nil {
			return nil, err
		}
		for _, x := range xs {
			out[stationOf(x)] = append(out[stationOf(x)], x)
		}
		stationIDs = stationIDs[n:]
	}
	return out, nil
}

// ListStatusEvents returns the station's status history from since on,
// oldest first (limit: default 100, max 10000).
func (s *Store) ListStatusEvents(ctx context.Context, stationID string, since time.Time, limit int) ([]model.StatusEvent, error) {
	limit = clampLimit(limit, 100, 10000)
	rows, err := s.query(ctx, `SELECT `+statusEventCols+` FROM status_events
		WHERE station_id = $1 AND ts >= $2 ORDER BY ts, id LIMIT $3`, stationID, s.d.ts(since), limit)
	if err != nil {
		return nil, wrap("list status events", err)
	}
	return collect(rows, scanStatusEvent, "list status events")
}

// requireStation rejects with ErrNotFound unless the station exists.
func (w *wtx) requireStation(ctx context.Context, id string) error {
	return w.requireRow(ctx, `SELECT 1 FROM stations WHERE id = $1`, "station", id)
}

// rejectNoRows turns sql.ErrNoRows into a rejection with ErrNotFound.
func rejectNoRows(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return reject(ErrNotFound)
	}
	return err
}
