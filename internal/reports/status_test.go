package reports

import (
	"reflect"
	"testing"
	"time"
)

func TestStatus(t *testing.T) {
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC) // a Monday
	from, to := day, day.AddDate(0, 0, 2)
	h := func(n float64) time.Time { return day.Add(time.Duration(n * float64(time.Hour))) }
	at := func(n float64) *time.Time { t := h(n); return &t }
	later := to.Add(24 * time.Hour) // now, after the range
	const dayS = 86400

	type connector struct {
		id                  int
		observed, available int64
		faults              int
		codes               []FaultCount
	}
	type want struct {
		observed, connected, offline int64
		offlinePeriods               []OfflinePeriod
		faults                       int
		codes                        []FaultCount
		connectors                   []connector
		excluded                     bool
	}
	cases := []struct {
		name    string
		now     time.Time
		station StatusStation
		conns   []Connection
		changes []StatusChange
		want    want
	}{
		{
			name:    "never connected: 0% uptime, one offline period over the whole range",
			now:     later,
			station: StatusStation{StationID: "S", Connectors: []int{1}},
			want: want{observed: 2 * dayS, connected: 0, offline: 2 * dayS,
				offlinePeriods: []OfflinePeriod{{Start: from, End: to, Seconds: 2 * dayS}},
				codes:          []FaultCount{},
				connectors:     []connector{{id: 1, observed: 2 * dayS, available: 0, codes: []FaultCount{}}}},
		},
		{
			name:    "connected before the range and still connected: 100%",
			now:     later,
			station: StatusStation{StationID: "S", Connectors: []int{1, 2}},
			conns:   []Connection{{StationID: "S", ConnectedAt: h(-5)}},
			want: want{observed: 2 * dayS, connected: 2 * dayS, offlinePeriods: []OfflinePeriod{}, codes: []FaultCount{},
				connectors: []connector{{id: 1, observed: 2 * dayS, available: 2 * dayS, codes: []FaultCount{}},
					{id: 2, observed: 2 * dayS, available: 2 * dayS, codes: []FaultCount{}}}},
		},
		{
			name:    "periods crossing both edges, a gap inside, overlapping duplicates",
			now:     later,
			station: StatusStation{StationID: "S", Connectors: []int{1}},
			conns: []Connection{
				{StationID: "S", ConnectedAt: h(-3), DisconnectedAt: at(10)},
				{StationID: "S", ConnectedAt: h(5), DisconnectedAt: at(9)}, // inside the first: no double count
				{StationID: "S", ConnectedAt: h(12), DisconnectedAt: at(60)},
			},
			want: want{observed: 2 * dayS, connected: (10 + 36) * 3600, offline: 2 * 3600,
				offlinePeriods: []OfflinePeriod{{Start: h(10), End: h(12), Seconds: 7200}}, codes: []FaultCount{},
				connectors: []connector{{id: 1, observed: 2 * dayS, available: (10 + 36) * 3600, codes: []FaultCount{}}}},
		},
		{
			name:    "open period ends at now; the future is not counted",
			now:     h(30),
			station: StatusStation{StationID: "S", Connectors: []int{1}},
			conns:   []Connection{{StationID: "S", ConnectedAt: h(2), DisconnectedAt: at(20)}, {StationID: "S", ConnectedAt: h(22)}},
			want: want{observed: 30 * 3600, connected: (18 + 8) * 3600, offline: 4 * 3600,
				offlinePeriods: []OfflinePeriod{{Start: h(0), End: h(2), Seconds: 7200}, {Start: h(20), End: h(22), Seconds: 7200}},
				codes:          []FaultCount{},
				connectors:     []connector{{id: 1, observed: 30 * 3600, available: 26 * 3600, codes: []FaultCount{}}}},
		},
		{
			name:    "disconnected now: the offline period is ongoing",
			now:     h(30),
			station: StatusStation{StationID: "S", Connectors: []int{1}},
			conns:   []Connection{{StationID: "S", ConnectedAt: h(-1), DisconnectedAt: at(29)}},
			want: want{observed: 30 * 3600, connected: 29 * 3600, offline: 3600,
				offlinePeriods: []OfflinePeriod{{Start: h(29), End: h(30), Seconds: 3600, Ongoing: true}},
				codes:          []FaultCount{},
				connectors:     []connector{{id: 1, observed: 30 * 3600, available: 29 * 3600, codes: []FaultCount{}}}},
		},
		{
			name:    "faulted before from (state known at from), out-of-order events, connector 0 takes all down",
			now:     later,
			station: StatusStation{StationID: "S", Connectors: []int{0, 1, 2}},
			conns:   []Connection{{StationID: "S", ConnectedAt: h(-10)}},
			changes: []StatusChange{
				// Connector 1: Faulted since before the range until 06:00.
				{ID: 1, StationID: "S", ConnectorID: 1, Status: "Faulted", ErrorCode: "GroundFailure", At: h(-2)},
				// Delivered late (a higher id) but earlier in time than id 2.
				{ID: 3, StationID: "S", ConnectorID: 1, Status: "Available", ErrorCode: "NoError", At: h(6)},
				{ID: 2, StationID: "S", ConnectorID: 1, Status: "Faulted", ErrorCode: "GroundFailure", At: h(4)},
				// Connector 2 unavailable 10:00–12:00 (not a fault).
				{ID: 4, StationID: "S", ConnectorID: 2, Status: "Unavailable", ErrorCode: "NoError", At: h(10)},
				{ID: 5, StationID: "S", ConnectorID: 2, Status: "Available", ErrorCode: "NoError", At: h(12)},
				// Connector 2 reports an error while still usable: a fault, not downtime.
				{ID: 6, StationID: "S", ConnectorID: 2, Status: "Charging", ErrorCode: "HighTemperature", At: h(13)},
				// The whole station (connector 0) faulted 30:00–31:00.
				{ID: 7, StationID: "S", ConnectorID: 0, Status: "Faulted", ErrorCode: "PowerMeterFailure", At: h(30)},
				{ID: 8, StationID: "S", ConnectorID: 0, Status: "Available", ErrorCode: "NoError", At: h(31)},
			},
			want: want{observed: 2 * dayS, connected: 2 * dayS, offlinePeriods: []OfflinePeriod{},
				faults: 3, // GroundFailure at 04:00 (the one before from is not counted), HighTemperature, PowerMeterFailure
				codes:  []FaultCount{{"GroundFailure", 1}, {"HighTemperature", 1}, {"PowerMeterFailure", 1}},
				connectors: []connector{
					{id: 1, observed: 2 * dayS, available: 2*dayS - 6*3600 - 3600, faults: 1, codes: []FaultCount{{"GroundFailure", 1}}},
					{id: 2, observed: 2 * dayS, available: 2*dayS - 2*3600 - 3600, faults: 1, codes: []FaultCount{{"HighTemperature", 1}}},
				}},
		},
		{
			name:    "retired before from: excluded",
			now:     later,
			station: StatusStation{StationID: "S", RetiredAt: at(-1)},
			want:    want{excluded: true},
		},
		{
			name:    "registered and retired within the range: observed only then",
			now:     later,
			station: StatusStation{StationID: "S", CreatedAt: h(6), RetiredAt: at(18), Connectors: []int{1}},
			conns:   []Connection{{StationID: "S", ConnectedAt: h(8), DisconnectedAt: at(20)}},
			want: want{observed: 12 * 3600, connected: 10 * 3600, offline: 2 * 3600,
				offlinePeriods: []OfflinePeriod{{Start: h(6), End: h(8), Seconds: 7200}}, codes: []FaultCount{},
				connectors: []connector{{id: 1, observed: 12 * 3600, available: 10 * 3600, codes: []FaultCount{}}}},
		},
		{
			name:    "no connector ever reported: the station is measured as connector 0",
			now:     later,
			station: StatusStation{StationID: "S"},
			conns:   []Connection{{StationID: "S", ConnectedAt: h(0), DisconnectedAt: at(24)}},
			want: want{observed: 2 * dayS, connected: dayS, offline: dayS,
				offlinePeriods: []OfflinePeriod{{Start: h(24), End: h(48), Seconds: dayS}}, codes: []FaultCount{},
				connectors: []connector{{id: 0, observed: 2 * dayS, available: dayS, codes: []FaultCount{}}}},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rep, err := Status(StatusInput{From: from, To: to, Now: c.now, Period: Day, Loc: time.UTC,
				Stations: []StatusStation{c.station}, Connections: c.conns, Changes: c.changes})
			if err != nil {
				t.Fatal(err)
			}
			if c.want.excluded {
				if len(rep.Stations) != 0 || len(rep.Rows) != 0 || rep.Totals.Stations != 0 {
					t.Fatalf("retired station reported: %+v", rep)
				}
				return
			}
			if len(rep.Stations) != 1 {
				t.Fatalf("stations: %+v", rep.Stations)
			}
			s := rep.Stations[0]
			w := c.want
			if w.offline == 0 {
				w.offline = w.observed - w.connected
			}
			if s.ObservedSeconds != w.observed || s.ConnectedSeconds != w.connected || s.OfflineSeconds != w.offline {
				t.Errorf("observed/connected/offline = %d/%d/%d, want %d/%d/%d", s.ObservedSeconds, s.ConnectedSeconds, s.OfflineSeconds, w.observed, w.connected, w.offline)
			}
			if want := pct(w.connected, w.observed); s.UptimePct != want {
				t.Errorf("uptime %v, want %v", s.UptimePct, want)
			}
			if !reflect.DeepEqual(s.OfflinePeriods, w.offlinePeriods) {
				t.Errorf("offline periods %+v, want %+v", s.OfflinePeriods, w.offlinePeriods)
			}
			var sum int64
			for _, o := range s.OfflinePeriods {
				sum += o.Seconds
			}
			if sum != s.OfflineSeconds {
				t.Errorf("offline periods add up to %d, not %d", sum, s.OfflineSeconds)
			}
			if s.Faults != w.faults || !reflect.DeepEqual(s.FaultsByCode, w.codes) {
				t.Errorf("faults %d %+v, want %d %+v", s.Faults, s.FaultsByCode, w.faults, w.codes)
			}
			if len(s.Connectors) != len(w.connectors) {
				t.Fatalf("connectors %+v, want %+v", s.Connectors, w.connectors)
			}
			var avail, cobs int64
			for i, wc := range w.connectors {
				g := s.Connectors[i]
				if g.ConnectorID != wc.id || g.ObservedSeconds != wc.observed || g.AvailableSeconds != wc.available ||
					g.Faults != wc.faults || !reflect.DeepEqual(g.FaultsByCode, wc.codes) {
					t.Errorf("connector %+v, want %+v", g, wc)
				}
				avail += wc.available
				cobs += wc.observed
			}
			if s.AvailableSeconds != avail || s.ConnectorSeconds != cobs || s.AvailabilityPct != pct(avail, cobs) {
				t.Errorf("station availability %d/%d %v", s.AvailableSeconds, s.ConnectorSeconds, s.AvailabilityPct)
			}
			// The day rows add up to the station's figures.
			var rObs, rConn, rCObs, rAvail int64
			var rFaults int
			for _, r := range rep.Rows {
				rObs += r.ObservedSeconds
				rConn += r.ConnectedSeconds
				rCObs += r.ConnectorSeconds
				rAvail += r.AvailableSeconds
				rFaults += r.Faults
			}
			if rObs != s.ObservedSeconds || rConn != s.ConnectedSeconds || rCObs != s.ConnectorSeconds || rAvail != s.AvailableSeconds || rFaults != s.Faults {
				t.Errorf("rows %+v do not add up to %+v", rep.Rows, s)
			}
			tot := rep.Totals
			if tot.Stations != 1 || tot.ObservedSeconds != s.ObservedSeconds || tot.ConnectedSeconds != s.ConnectedSeconds ||
				tot.Faults != s.Faults || tot.OfflinePeriods != len(s.OfflinePeriods) || tot.OfflineSeconds != s.OfflineSeconds {
				t.Errorf("totals %+v vs station %+v", tot, s)
			}
		})
	}
}

func TestStatusFaultCodes(t *testing.T) {
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	ch := func(id int64, conn int, status, code string, hour int) StatusChange {
		return StatusChange{ID: id, StationID: "S", ConnectorID: conn, Status: status, ErrorCode: code, At: day.Add(time.Duration(hour) * time.Hour)}
	}
	rep, err := Status(StatusInput{From: day, To: day.AddDate(0, 0, 1), Now: day.AddDate(0, 0, 5), Period: Day,
		Stations: []StatusStation{{StationID: "S", Connectors: []int{1, 2}}},
		Changes: []StatusChange{
			ch(1, 1, "Faulted", "GroundFailure", -1), // before from: state only
			ch(2, 1, "Faulted", "GroundFailure", 1),
			ch(3, 2, "Faulted", "GroundFailure", 2),
			ch(4, 2, "Charging", "OverCurrentFailure", 3),
			ch(5, 0, "Faulted", "", 4), // no code given
			ch(6, 1, "Available", "NoError", 5),
			ch(7, 1, "Faulted", "NoError", 6), // faulted without an error code
		}})
	if err != nil {
		t.Fatal(err)
	}
	want := []FaultCount{{"GroundFailure", 2}, {"NoError", 1}, {"OverCurrentFailure", 1}, {"Unknown", 1}}
	if s := rep.Stations[0]; s.Faults != 5 || !reflect.DeepEqual(s.FaultsByCode, want) {
		t.Errorf("station faults %d %+v, want 5 %+v", s.Faults, s.FaultsByCode, want)
	}
	if !reflect.DeepEqual(rep.Totals.FaultsByCode, want) || rep.Totals.Faults != 5 {
		t.Errorf("total faults %+v", rep.Totals)
	}
	if c1 := rep.Stations[0].Connectors[0]; c1.Faults != 2 {
		t.Errorf("connector 1 faults %+v", c1)
	}
}

func TestStatusRowsByPeriodAndStation(t *testing.T) {
	syd, _ := time.LoadLocation("Australia/Sydney")
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, syd) // Monday in Sydney
	from, to := day, day.AddDate(0, 0, 7)
	at := func(h int) time.Time { return day.Add(time.Duration(h) * time.Hour) }
	end := at(36)
	in := StatusInput{From: from, To: to, Now: to.AddDate(0, 1, 0), Period: Day, By: ByStation, Loc: syd,
		Stations: []StatusStation{{StationID: "B", SiteID: "X", Connectors: []int{1}}, {StationID: "A", SiteID: "X", Connectors: []int{1}}},
		Connections: []Connection{
			{StationID: "A", ConnectedAt: at(12), DisconnectedAt: &end}, // Monday 12:00 – Tuesday 12:00 local
		},
	}
	rep, err := Status(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rows) != 14 {
		t.Fatalf("rows: %d", len(rep.Rows))
	}
	mon, tue := rep.Rows[0], rep.Rows[2]
	if mon.Key != "A" || !mon.Start.Equal(day) || mon.ConnectedSeconds != 12*3600 || mon.ObservedSeconds != 86400 || mon.UptimePct != 50 {
		t.Errorf("Monday A: %+v", mon)
	}
	if tue.Key != "A" || tue.ConnectedSeconds != 12*3600 {
		t.Errorf("Tuesday A: %+v", tue)
	}
	if b := rep.Rows[1]; b.Key != "B" || b.ConnectedSeconds != 0 || b.Stations != 1 {
		t.Errorf("Monday B: %+v", b)
	}
	if rep.Stations[0].StationID != "A" || rep.Stations[1].StationID != "B" {
		t.Errorf("stations not by id: %+v", rep.Stations)
	}
	in.Period, in.By = Week, ByNone
	rep, err = Status(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rows) != 1 || rep.Rows[0].Stations != 2 || rep.Rows[0].ConnectedSeconds != 24*3600 || rep.Rows[0].ObservedSeconds != 2*7*86400 {
		t.Errorf("week: %+v", rep.Rows)
	}
	if _, err := Status(StatusInput{From: from, To: to, Now: to, Period: "year"}); err == nil {
		t.Error("unknown period accepted")
	}
}
