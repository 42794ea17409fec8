package store

import (
	"context"
	"time"

	"github.com/chargestar/chargestar/internal/reports"
)

// What the status report (internal/reports.Status) reads: the stations of
// an operator (optionally of one site, or one station) registered before
// the range ends and not retired before it starts, their connectors,
// their connection periods overlapping the range, and their status
// notifications in the range plus each connector's last one before it.

// StatusReportFilter selects the stations of a status report.
type StatusReportFilter struct {
	OperatorID string // "" any operator (administrator)
	SiteID     string // "" every site
	StationID  string // "" every station
	From, To   time.Time
}

// statusReportCap bounds the rows of each query, like Uses: a report over
// more than this is a mistake of the request, not something to stream.
const statusReportCap = 500000

// StatusReportInput reads what the status report of f needs.
func (s *Store) StatusReportInput(ctx context.Context, f StatusReportFilter) ([]reports.StatusStation, []reports.Connection, []reports.StatusChange, error) {
	// The stations in scope; $1 operator, $2 site, $3 station, $4 from, $5 to.
	const scope = `SELECT id FROM stations WHERE ($1 = '' OR operator_id = $1) AND ($2 = '' OR site_id = $2) AND ($3 = '' OR id = $3)
		AND created_at < $5 AND (retired_at IS NULL OR retired_at > $4)`
	args := []any{f.OperatorID, f.SiteID, f.StationID, s.d.ts(f.From), s.d.ts(f.To)}

	rows, err := s.query(ctx, `SELECT id, COALESCE(site_id, ''), created_at, retired_at FROM stations
		WHERE id IN (`+scope+`) ORDER BY id`, args...)
	if err != nil {
		return nil, nil, nil, wrap("status report stations", err)
	}
	stations, err := collect(rows, func(sc interface{ Scan(...any) error }) (reports.StatusStation, error) {
		var x reports.StatusStation
		err := sc.Scan(&x.StationID, &x.SiteID, tsCol(&x.CreatedAt), ntsCol(&x.RetiredAt))
		return x, err
	}, "status report stations")
	if err != nil {
		return nil, nil, nil, err
	}
	if len(stations) == 0 {
		return nil, nil, nil, nil
	}
	index := make(map[string]int, len(stations))
	for i, st := range stations {
		index[st.StationID] = i
	}

	rows, err = s.query(ctx, `SELECT station_id, connector_id FROM connectors WHERE station_id IN (`+scope+`)
		ORDER BY station_id, connector_id`, args...)
	if err != nil {
		return nil, nil, nil, wrap("status report connectors", err)
	}
	type conn struct {
		station string
		id      int
	}
	cs, err := collect(rows, func(sc interface{ Scan(...any) error }) (conn, error) {
		var c conn
		return c, sc.Scan(&c.station, &c.id)
	}, "status report connectors")
	if err != nil {
		return nil, nil, nil, err
	}
	for _, c := range cs {
		if i, ok := index[c.station]; ok {
			stations[i].Connectors = append(stations[i].Connectors, c.id)
		}
	}

	rows, err = s.query(ctx, `SELECT station_id, connected_at, disconnected_at FROM station_connections
		WHERE station_id IN (`+scope+`) AND connected_at < $5 AND (disconnected_at IS NULL OR disconnected_at > $4)
		ORDER BY station_id, connected_at, id LIMIT $6`, append(args, statusReportCap)...)
	if err != nil {
		return nil, nil, nil, wrap("status report connections", err)
	}
	conns, err := collect(rows, func(sc interface{ Scan(...any) error }) (reports.Connection, error) {
		var c reports.Connection
		return c, sc.Scan(&c.StationID, tsCol(&c.ConnectedAt), ntsCol(&c.DisconnectedAt))
	}, "status report connections")
	if err != nil {
		return nil, nil, nil, err
	}

	scanChange := func(sc interface{ Scan(...any) error }) (reports.StatusChange, error) {
		var c reports.StatusChange
		return c, sc.Scan(&c.ID, &c.StationID, &c.ConnectorID, &c.Status, &c.ErrorCode, tsCol(&c.At))
	}
	// Each connector's last notification before the range: one backward
	// probe of the (station_id, ts, id) index per connector.
	rows, err = s.query(ctx, `SELECT e.id, e.station_id, e.connector_id, e.status, e.error_code, e.ts
		FROM connectors c JOIN status_events e ON e.id = (
			SELECT l.id FROM status_events l WHERE l.station_id = c.station_id AND l.connector_id = c.connector_id AND l.ts < $4
			ORDER BY l.ts DESC, l.id DESC LIMIT 1)
		WHERE c.station_id IN (`+scope+`)`, args...)
	if err != nil {
		return nil, nil, nil, wrap("status report states", err)
	}
	before, err := collect(rows, scanChange, "status report states")
	if err != nil {
		return nil, nil, nil, err
	}
	rows, err = s.query(ctx, `SELECT id, station_id, connector_id, status, error_code, ts FROM status_events
		WHERE station_id IN (`+scope+`) AND ts >= $4 AND ts < $5
		ORDER BY station_id, ts, id LIMIT $6`, append(args, statusReportCap)...)
	if err != nil {
		return nil, nil, nil, wrap("status report events", err)
	}
	during, err := collect(rows, scanChange, "status report events")
	if err != nil {
		return nil, nil, nil, err
	}
	return stations, conns, append(before, during...), nil
}
