package reports

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

// The status report: how much of a period each station was connected
// (uptime), how much of it each connector could have been used
// (availability), the faults stations reported and the periods they were
// offline. Pure: the store reads the rows (StatusInput), Status computes.
//
// Each station is observed from max(from, its registration) to min(to,
// now, its retirement): time before a station existed, after it was
// retired or still in the future is neither up nor down.
//
// A connector is usable while its station is connected and neither it
// nor connector 0 (the whole station, in OCPP 1.6) last reported Faulted
// or Unavailable. Before a connector's first status the state is unknown
// and counts as usable: only what the station said takes time away. A
// station that never reported a connector is measured as one connector,
// connector 0, so that its availability is not a meaningless 0.

// StatusStation is a registered station, as the status report needs it.
type StatusStation struct {
	StationID string
	SiteID    string
	// CreatedAt is when the station was registered; zero: long ago.
	CreatedAt time.Time
	RetiredAt *time.Time
	// Connectors are the connector ids the station has reported (0
	// included or not; 0 is never measured when others exist).
	Connectors []int
}

// Connection is one period a station was connected.
type Connection struct {
	StationID   string
	ConnectedAt time.Time
	// DisconnectedAt nil: still connected (up to now).
	DisconnectedAt *time.Time
}

// StatusChange is one status notification.
type StatusChange struct {
	ID          int64 // orders notifications with the same timestamp
	StationID   string
	ConnectorID int
	Status      string
	ErrorCode   string
	At          time.Time // the station's timestamp
}

// StatusInput is what Status needs: the stations, their connection
// periods overlapping [From, To), and their status notifications in
// [From, To) plus, per connector, the last one before From (so the state
// at From is known).
type StatusInput struct {
	From, To time.Time
	// Now ends open connection periods; nothing after it is counted.
	Now    time.Time
	Period Period
	By     GroupBy // rows by site or station as well (ByNone: network)
	Loc    *time.Location

	Stations    []StatusStation
	Connections []Connection
	Changes     []StatusChange
}

// StatusReport is the outcome of Status.
type StatusReport struct {
	Rows     []StatusRow     `json:"rows" doc:"Per period (and site or station with by), oldest first."`
	Stations []StationStatus `json:"stations" doc:"Per station over the whole range, by station id."`
	Totals   StatusTotals    `json:"totals"`
}

// StatusRow is one period of the status report.
type StatusRow struct {
	Start    time.Time `json:"start" doc:"The period's start, in the report's time zone."`
	Key      string    `json:"key,omitempty" doc:"The site or station id (with by)."`
	Stations int       `json:"stations" doc:"Stations observed in the period."`
	// ObservedSeconds is station time in the period (see the package
	// comment on what is observed).
	ObservedSeconds  int64   `json:"observed_seconds" doc:"Station-seconds observed in the period."`
	ConnectedSeconds int64   `json:"connected_seconds" doc:"Station-seconds connected."`
	UptimePct        float64 `json:"uptime_pct" doc:"connected_seconds / observed_seconds × 100."`
	ConnectorSeconds int64   `json:"connector_seconds" doc:"Connector-seconds observed."`
	AvailableSeconds int64   `json:"available_seconds" doc:"Connector-seconds usable: station connected, connector neither Faulted nor Unavailable."`
	AvailabilityPct  float64 `json:"availability_pct" doc:"available_seconds / connector_seconds × 100."`
	Faults           int     `json:"faults" doc:"Fault notifications (status Faulted or an error code other than NoError) in the period."`
}

// StationStatus is one station over the whole report range.
type StationStatus struct {
	StationID        string            `json:"station_id"`
	SiteID           string            `json:"site_id,omitempty"`
	ObservedSeconds  int64             `json:"observed_seconds" doc:"Seconds observed: the range cut to the station's registration, retirement and now."`
	ConnectedSeconds int64             `json:"connected_seconds"`
	OfflineSeconds   int64             `json:"offline_seconds" doc:"observed_seconds − connected_seconds: the sum of offline_periods."`
	UptimePct        float64           `json:"uptime_pct"`
	ConnectorSeconds int64             `json:"connector_seconds"`
	AvailableSeconds int64             `json:"available_seconds"`
	AvailabilityPct  float64           `json:"availability_pct" doc:"Over all its connectors."`
	Faults           int               `json:"faults"`
	FaultsByCode     []FaultCount      `json:"faults_by_code" doc:"Fault notifications by error code, most frequent first."`
	OfflinePeriods   []OfflinePeriod   `json:"offline_periods" doc:"When the station was not connected, oldest first, cut to the observed time."`
	Connectors       []ConnectorStatus `json:"connectors"`
}

// ConnectorStatus is one connector over the whole report range.
type ConnectorStatus struct {
	ConnectorID      int          `json:"connector_id" doc:"0 only for a station that never reported a connector: the station as a whole."`
	ObservedSeconds  int64        `json:"observed_seconds"`
	AvailableSeconds int64        `json:"available_seconds"`
	AvailabilityPct  float64      `json:"availability_pct"`
	Faults           int          `json:"faults"`
	FaultsByCode     []FaultCount `json:"faults_by_code"`
}

// FaultCount is the number of fault notifications with one error code.
type FaultCount struct {
	ErrorCode string `json:"error_code" example:"GroundFailure"`
	Count     int    `json:"count"`
}

// OfflinePeriod is a time the station was not connected, [start, end).
type OfflinePeriod struct {
	Start   time.Time `json:"start" doc:"UTC."`
	End     time.Time `json:"end" doc:"UTC; now when ongoing."`
	Seconds int64     `json:"seconds"`
	Ongoing bool      `json:"ongoing" doc:"Still offline at the time of the report."`
}

// StatusTotals add every station up.
type StatusTotals struct {
	Stations         int          `json:"stations"`
	ObservedSeconds  int64        `json:"observed_seconds"`
	ConnectedSeconds int64        `json:"connected_seconds"`
	UptimePct        float64      `json:"uptime_pct"`
	ConnectorSeconds int64        `json:"connector_seconds"`
	AvailableSeconds int64        `json:"available_seconds"`
	AvailabilityPct  float64      `json:"availability_pct"`
	Faults           int          `json:"faults"`
	FaultsByCode     []FaultCount `json:"faults_by_code"`
	OfflinePeriods   int          `json:"offline_periods"`
	OfflineSeconds   int64        `json:"offline_seconds"`
}

// IsFault reports whether a status notification reports a fault.
func IsFault(status, errorCode string) bool {
	return status == "Faulted" || (errorCode != "" && errorCode != "NoError")
}

// unusable reports whether a connector status takes the connector out of
// use.
func unusable(status string) bool { return status == "Faulted" || status == "Unavailable" }

// Status computes the status report.
func Status(in StatusInput) (StatusReport, error) {
	loc := in.Loc
	if loc == nil {
		loc = time.UTC
	}
	if _, err := bucket(in.From.In(loc), in.Period); err != nil {
		return StatusReport{}, err
	}
	switch in.By {
	case ByNone, BySite, ByStation:
	default:
		return StatusReport{}, fmt.Errorf("reports: unknown grouping %q", in.By)
	}
	conns := map[string][]span{}
	for _, c := range in.Connections {
		end := in.Now
		if c.DisconnectedAt != nil {
			end = *c.DisconnectedAt
		}
		conns[c.StationID] = append(conns[c.StationID], span{c.ConnectedAt, end})
	}
	changes := map[string][]StatusChange{}
	for _, c := range in.Changes {
		changes[c.StationID] = append(changes[c.StationID], c)
	}

	type rowKey struct {
		start time.Time
		key   string
	}
	rows := map[rowKey]*StatusRow{}
	rowSeen := map[rowKey]map[string]bool{}
	row := func(start time.Time, key, stationID string) *StatusRow {
		k := rowKey{start, key}
		r := rows[k]
		if r == nil {
			r = &StatusRow{Start: start, Key: key}
			rows[k] = r
			rowSeen[k] = map[string]bool{}
		}
		if !rowSeen[k][stationID] {
			rowSeen[k][stationID] = true
			r.Stations++
		}
		return r
	}

	rep := StatusReport{Stations: []StationStatus{}, Rows: []StatusRow{}}
	totalCodes := map[string]int{}
	stations := slices.Clone(in.Stations)
	slices.SortFunc(stations, func(a, b StatusStation) int { return cmp.Compare(a.StationID, b.StationID) })
	for _, st := range stations {
		lo, hi := in.From, minTime(in.To, in.Now)
		if !st.CreatedAt.IsZero() {
			lo = maxTime(lo, st.CreatedAt)
		}
		if st.RetiredAt != nil {
			hi = minTime(hi, *st.RetiredAt)
		}
		if !lo.Before(hi) {
			continue // not registered, or retired, during the range
		}
		key := ""
		switch in.By {
		case BySite:
			key = st.SiteID
		case ByStation:
			key = st.StationID
		}
		observed := []span{{lo, hi}}
		connected := clipSpans(mergeSpans(conns[st.StationID]), lo, hi)
		offline := complementSpans(connected, lo, hi)

		// Status notifications in time order (stations deliver queued
		// ones late, so arrival order is not time order).
		evs := slices.Clone(changes[st.StationID])
		slices.SortStableFunc(evs, func(a, b StatusChange) int {
			if c := a.At.Compare(b.At); c != 0 {
				return c
			}
			return cmp.Compare(a.ID, b.ID)
		})
		connectorIDs := map[int]bool{}
		for _, id := range st.Connectors {
			if id > 0 {
				connectorIDs[id] = true
			}
		}
		for _, e := range evs {
			if e.ConnectorID > 0 {
				connectorIDs[e.ConnectorID] = true
			}
		}
		ids := make([]int, 0, len(connectorIDs))
		for id := range connectorIDs {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		if len(ids) == 0 {
			ids = []int{0}
		}
		down0 := downSpans(evs, 0, lo, hi)

		ss := StationStatus{StationID: st.StationID, SiteID: st.SiteID, FaultsByCode: []FaultCount{},
			OfflinePeriods: []OfflinePeriod{}, Connectors: []ConnectorStatus{}}
		ss.ObservedSeconds = seconds(hi.Sub(lo))
		ss.ConnectedSeconds = seconds(totalSpans(connected))
		ss.OfflineSeconds = ss.ObservedSeconds - ss.ConnectedSeconds
		ss.UptimePct = pct(ss.ConnectedSeconds, ss.ObservedSeconds)
		for _, o := range offline {
			ss.OfflinePeriods = append(ss.OfflinePeriods, OfflinePeriod{Start: o.start.UTC(), End: o.end.UTC(),
				Seconds: seconds(o.end.Sub(o.start)), Ongoing: o.end.Equal(in.Now) && in.Now.Before(in.To)})
		}
		if err := eachBucket(observed, in.Period, loc, func(b time.Time, d time.Duration) {
			row(b, key, st.StationID).ObservedSeconds += seconds(d)
		}); err != nil {
			return StatusReport{}, err
		}
		if err := eachBucket(connected, in.Period, loc, func(b time.Time, d time.Duration) {
			row(b, key, st.StationID).ConnectedSeconds += seconds(d)
		}); err != nil {
			return StatusReport{}, err
		}

		stationCodes := map[string]int{}
		for _, id := range ids {
			cs := ConnectorStatus{ConnectorID: id, FaultsByCode: []FaultCount{}}
			down := down0
			if id != 0 {
				down = mergeSpans(append(downSpans(evs, id, lo, hi), down0...))
			}
			available := intersectSpans(connected, complementSpans(down, lo, hi))
			cs.ObservedSeconds = ss.ObservedSeconds
			cs.AvailableSeconds = seconds(totalSpans(available))
			cs.AvailabilityPct = pct(cs.AvailableSeconds, cs.ObservedSeconds)
			if err := eachBucket(observed, in.Period, loc, func(b time.Time, d time.Duration) {
				row(b, key, st.StationID).ConnectorSeconds += seconds(d)
			}); err != nil {
				return StatusReport{}, err
			}
			if err := eachBucket(available, in.Period, loc, func(b time.Time, d time.Duration) {
				row(b, key, st.StationID).AvailableSeconds += seconds(d)
			}); err != nil {
				return StatusReport{}, err
			}
			codes := map[string]int{}
			for _, e := range evs {
				if e.ConnectorID != id || e.At.Before(lo) || !e.At.Before(hi) || !IsFault(e.Status, e.ErrorCode) {
					continue
				}
				codes[faultCode(e.ErrorCode)]++
			}
			cs.FaultsByCode, cs.Faults = faultCounts(codes)
			ss.ConnectorSeconds += cs.ObservedSeconds
			ss.AvailableSeconds += cs.AvailableSeconds
			ss.Connectors = append(ss.Connectors, cs)
		}
		// Faults of the station: every connector's, connector 0's
		// included (also when connector 0 is not measured).
		for _, e := range evs {
			if e.At.Before(lo) || !e.At.Before(hi) || !IsFault(e.Status, e.ErrorCode) {
				continue
			}
			stationCodes[faultCode(e.ErrorCode)]++
			totalCodes[faultCode(e.ErrorCode)]++
			b, err := bucket(e.At.In(loc), in.Period)
			if err != nil {
				return StatusReport{}, err
			}
			row(b, key, st.StationID).Faults++
		}
		ss.FaultsByCode, ss.Faults = faultCounts(stationCodes)
		ss.AvailabilityPct = pct(ss.AvailableSeconds, ss.ConnectorSeconds)
		rep.Stations = append(rep.Stations, ss)

		t := &rep.Totals
		t.Stations++
		t.ObservedSeconds += ss.ObservedSeconds
		t.ConnectedSeconds += ss.ConnectedSeconds
		t.ConnectorSeconds += ss.ConnectorSeconds
		t.AvailableSeconds += ss.AvailableSeconds
		t.OfflinePeriods += len(ss.OfflinePeriods)
		t.OfflineSeconds += ss.OfflineSeconds
	}
	t := &rep.Totals
	t.UptimePct = pct(t.ConnectedSeconds, t.ObservedSeconds)
	t.AvailabilityPct = pct(t.AvailableSeconds, t.ConnectorSeconds)
	t.FaultsByCode, t.Faults = faultCounts(totalCodes)

	for _, r := range rows {
		r.UptimePct = pct(r.ConnectedSeconds, r.ObservedSeconds)
		r.AvailabilityPct = pct(r.AvailableSeconds, r.ConnectorSeconds)
		rep.Rows = append(rep.Rows, *r)
	}
	slices.SortFunc(rep.Rows, func(a, b StatusRow) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		return cmp.Compare(a.Key, b.Key)
	})
	return rep, nil
}

// faultCode names a fault's error code for grouping.
func faultCode(code string) string {
	if code == "" {
		return "Unknown"
	}
	return code
}

// faultCounts lists codes most frequent first (then by code) and their sum.
func faultCounts(codes map[string]int) ([]FaultCount, int) {
	out := make([]FaultCount, 0, len(codes))
	n := 0
	for c, k := range codes {
		out = append(out, FaultCount{ErrorCode: c, Count: k})
		n += k
	}
	slices.SortFunc(out, func(a, b FaultCount) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return cmp.Compare(a.ErrorCode, b.ErrorCode)
	})
	return out, n
}

// seconds is d in whole seconds (durations in the report are truncated,
// consistently, so that sums of rows equal the totals only up to the
// truncation of each part; parts are whole seconds in practice).
func seconds(d time.Duration) int64 { return int64(d / time.Second) }

// pct is part/whole in percent, 0 when whole is 0.
func pct(part, whole int64) float64 {
	if whole <= 0 {
		return 0
	}
	return float64(part) / float64(whole) * 100
}

// span is a half-open time interval [start, end).
type span struct{ start, end time.Time }

// mergeSpans sorts spans and merges those that overlap or touch; empty
// and inverted spans are dropped.
func mergeSpans(in []span) []span {
	s := make([]span, 0, len(in))
	for _, x := range in {
		if x.start.Before(x.end) {
			s = append(s, x)
		}
	}
	slices.SortFunc(s, func(a, b span) int { return a.start.Compare(b.start) })
	out := s[:0]
	for _, x := range s {
		if n := len(out); n > 0 && !x.start.After(out[n-1].end) {
			if x.end.After(out[n-1].end) {
				out[n-1].end = x.end
			}
			continue
		}
		out = append(out, x)
	}
	return out
}

// clipSpans cuts sorted disjoint spans to [lo, hi).
func clipSpans(in []span, lo, hi time.Time) []span {
	var out []span
	for _, x := range in {
		s, e := maxTime(x.start, lo), minTime(x.end, hi)
		if s.Before(e) {
			out = append(out, span{s, e})
		}
	}
	return out
}

// complementSpans is [lo, hi) minus sorted disjoint spans.
func complementSpans(in []span, lo, hi time.Time) []span {
	var out []span
	cur := lo
	for _, x := range clipSpans(in, lo, hi) {
		if cur.Before(x.start) {
			out = append(out, span{cur, x.start})
		}
		cur = maxTime(cur, x.end)
	}
	if cur.Before(hi) {
		out = append(out, span{cur, hi})
	}
	return out
}

// intersectSpans intersects two lists of sorted disjoint spans.
func intersectSpans(a, b []span) []span {
	var out []span
	for i, j := 0, 0; i < len(a) && j < len(b); {
		s, e := maxTime(a[i].start, b[j].start), minTime(a[i].end, b[j].end)
		if s.Before(e) {
			out = append(out, span{s, e})
		}
		if a[i].end.Before(b[j].end) {
			i++
		} else {
			j++
		}
	}
	return out
}

func totalSpans(in []span) time.Duration {
	var d time.Duration
	for _, x := range in {
		d += x.end.Sub(x.start)
	}
	return d
}

// downSpans returns, within [lo, hi), when connector id's last status was
// Faulted or Unavailable; evs are the station's notifications in time
// order, those before lo included (the last of them is the state at lo).
func downSpans(evs []StatusChange, id int, lo, hi time.Time) []span {
	var out []span
	var downSince *time.Time
	for _, e := range evs {
		if e.ConnectorID != id {
			continue
		}
		at := e.At
		switch {
		case unusable(e.Status) && downSince == nil:
			downSince = &at
		case !unusable(e.Status) && downSince != nil:
			out = append(out, span{*downSince, at})
			downSince = nil
		}
	}
	if downSince != nil {
		out = append(out, span{*downSince, hi})
	}
	return clipSpans(out, lo, hi)
}

// eachBucket splits spans at the period boundaries (in loc) and calls fn
// with each part's bucket start and duration.
func eachBucket(spans []span, p Period, loc *time.Location, fn func(bucket time.Time, d time.Duration)) error {
	for _, x := range spans {
		for s := x.start; s.Before(x.end); {
			b, err := bucket(s.In(loc), p)
			if err != nil {
				return err
			}
			end := minTime(x.end, nextBucket(b, p))
			fn(b, end.Sub(s))
			s = end
		}
	}
	return nil
}
