package reports

import (
	"fmt"
	"slices"
	"time"
)

// Use is one charging session, as usage reports need it.
type Use struct {
	SessionID   string
	StationID   string
	SiteID      string
	ConnectorID int
	Start, Stop time.Time // Stop: the session's end, or now while it is live
	EnergyWh    int64
}

// UsageRow is one line of a usage report.
type UsageRow struct {
	Start    time.Time `json:"start"`
	Key      string    `json:"key,omitempty"`
	Sessions int       `json:"sessions" doc:"Sessions that started in the period."`
	EnergyWh int64     `json:"energy_wh"`
	// Occupied is the connector time in sessions within the period
	// (sessions are cut at the period's edges).
	OccupiedSeconds int64 `json:"occupied_seconds"`
	// Utilisation is Occupied over the connectors' time in the period, in
	// percent (0 when the number of connectors is not known).
	Utilisation float64 `json:"utilisation_pct"`
}

// Heatmap is occupied connector-minutes by weekday (Monday 0) and hour of
// day, in the report's time zone.
type Heatmap [7][24]int64

// Usage aggregates sessions over [from, to): per period (and key) the
// sessions started, their energy, the occupied time and the utilisation
// of the connectors (connectors gives their number per key; "" is the
// whole network when by is ByNone), and the week heat map.
func Usage(uses []Use, from, to time.Time, period Period, by GroupBy, loc *time.Location, connectors map[string]int) ([]UsageRow, Heatmap, error) {
	var heat Heatmap
	if loc == nil {
		loc = time.UTC
	}
	type k struct {
		start time.Time
		key   string
	}
	acc := map[k]*UsageRow{}
	row := func(start time.Time, key string) *UsageRow {
		id := k{start, key}
		r := acc[id]
		if r == nil {
			r = &UsageRow{Start: start, Key: key}
			acc[id] = r
		}
		return r
	}
	for _, u := range uses {
		key := ""
		switch by {
		case BySite:
			key = u.SiteID
		case ByStation:
			key = u.StationID
		case ByNone:
		default:
			return nil, heat, fmt.Errorf("reports: unknown grouping %q", by)
		}
		if !u.Start.Before(from) && u.Start.Before(to) {
			b, err := bucket(u.Start.In(loc), period)
			if err != nil {
				return nil, heat, err
			}
			r := row(b, key)
			r.Sessions++
			r.EnergyWh += u.EnergyWh
		}
		// Occupied time, cut at the report's and the periods' edges.
		s, e := maxTime(u.Start, from), minTime(u.Stop, to)
		for s.Before(e) {
			b, err := bucket(s.In(loc), period)
			if err != nil {
				return nil, heat, err
			}
			next := nextBucket(b, period)
			end := minTime(e, next)
			row(b, key).OccupiedSeconds += int64(end.Sub(s) / time.Second)
			s = end
		}
		// The heat map, minute by minute (sessions last hours, not years).
		for m := maxTime(u.Start, from).In(loc).Truncate(time.Minute); m.Before(minTime(u.Stop, to)); m = m.Add(time.Minute) {
			heat[(int(m.Weekday())+6)%7][m.Hour()]++
		}
	}
	out := make([]UsageRow, 0, len(acc))
	for _, r := range acc {
		if n := connectors[r.Key]; n > 0 {
			span := minTime(nextBucket(r.Start, period), to).Sub(maxTime(r.Start, from))
			if span > 0 {
				r.Utilisation = float64(r.OccupiedSeconds) / (float64(n) * span.Seconds()) * 100
			}
		}
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b UsageRow) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		switch {
		case a.Key < b.Key:
			return -1
		case a.Key > b.Key:
			return 1
		}
		return 0
	})
	return out, heat, nil
}

func nextBucket(start time.Time, p Period) time.Time {
	switch p {
	case Week:
		return start.AddDate(0, 0, 7)
	case Month:
		return start.AddDate(0, 1, 0)
	}
	return start.AddDate(0, 0, 1)
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
