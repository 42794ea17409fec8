package store

import (
	"context"
	"database/sql"

	"github.com/chargestar/chargestar/internal/model"
)

// LiveSession is an active session as a live view shows it: the session
// (its energy read from its latest meter value, see sessionCols) and the
// active import power of its latest meter value that has one.
type LiveSession struct {
	model.Session
	PowerW *float64 // nil when the station reported no power
}

// ActiveSessionsOf returns the active sessions of the stations, by
// station id: one query per 512 stations, with each session's energy and
// power found through the (session_id, ts) index of meter_values.
func (s *Store) ActiveSessionsOf(ctx context.Context, stationIDs []string) (map[string][]LiveSession, error) {
	return byStation(ctx, s, stationIDs, func(in string) string {
		return `SELECT ` + sessionCols + `,
			(SELECT mv.power_w FROM meter_values mv WHERE mv.session_id = s.id AND mv.power_w IS NOT NULL
				ORDER BY mv.ts DESC LIMIT 1)
			FROM sessions s WHERE s.status = 'active' AND s.station_id IN (` + in + `)
			ORDER BY s.station_id, s.connector_id`
	}, scanLiveSession, func(x LiveSession) string { return x.StationID }, "active sessions")
}

func scanLiveSession(sc interface{ Scan(...any) error }) (LiveSession, error) {
	var power sql.NullFloat64
	sess, err := scanSession(scanTail{sc, &power})
	if err != nil {
		return LiveSession{}, err
	}
	x := LiveSession{Session: sess}
	if power.Valid {
		p := power.Float64
		x.PowerW = &p
	}
	return x, nil
}

// scanTail scans a row whose columns are another scanner's followed by
// more: it appends the extra destinations.
type scanTail struct {
	sc    interface{ Scan(...any) error }
	extra any
}

func (t scanTail) Scan(dest ...any) error { return t.sc.Scan(append(dest, t.extra)...) }
