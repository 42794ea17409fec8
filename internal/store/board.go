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
	out := make(map[string][]LiveSession)
	const per = 512
	for len(stationIDs) > 0 {
		n := min(len(stationIDs), per)
		// pad the IN list to a power of two (repeating the last id) so that
		// few statement texts serve every call
		m := 1
		for m < n {
			m *= 2
		}
		args := make([]any, m)
		for i := range m {
			args[i] = stationIDs[min(i, n-1)]
		}
		rows, err := s.query(ctx, `SELECT `+sessionCols+`,
			(SELECT mv.power_w FROM meter_values mv WHERE mv.session_id = s.id AND mv.power_w IS NOT NULL
				ORDER BY mv.ts DESC LIMIT 1)
			FROM sessions s WHERE s.status = 'active' AND s.station_id IN (`+s.d.placeholders(1, m)+`)
			ORDER BY s.station_id, s.connector_id`, args...)
		if err != nil {
			return nil, wrap("active sessions", err)
		}
		ls, err := collect(rows, scanLiveSession, "active sessions")
		if err != nil {
			return nil, err
		}
		for _, x := range ls {
			out[x.StationID] = append(out[x.StationID], x)
		}
		stationIDs = stationIDs[n:]
	}
	return out, nil
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
