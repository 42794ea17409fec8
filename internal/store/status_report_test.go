package store

import (
	"context"
	"testing"
	"time"

	"github.com/chargestar/chargestar/internal/model"
	"github.com/chargestar/chargestar/internal/reports"
)

// TestStatusReportInput seeds connection periods and status notifications
// and checks that what the store reads gives the report the figures the
// seeded events imply, on both databases.
func TestStatusReportInput(t *testing.T) {
	for _, b := range backendNames {
		t.Run(b, func(t *testing.T) {
			s := newHarness(t, b).open(Options{})
			ctx := context.Background()
			day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
			h := func(n int) time.Time { return day.Add(time.Duration(n) * time.Hour) }
			from, to := day, day.AddDate(0, 0, 1)

			op := must(s.CreateOperator(ctx, model.Operator{Name: "Up", Currency: "AUD", Country: "AU"}))(t)
			other := must(s.CreateOperator(ctx, model.Operator{Name: "Other", Currency: "AUD", Country: "AU"}))(t)
			site := must(s.CreateSite(ctx, model.Site{OperatorID: op.ID, Name: "L1", Timezone: "UTC"}))(t)
			station := func(id, operatorID, siteID string, created time.Time, retired *time.Time) {
				must(s.CreateStation(ctx, model.Station{ID: id, OperatorID: operatorID, SiteID: siteID, CreatedAt: created, RetiredAt: retired}))(t)
			}
			station("UP-1", op.ID, site.ID, h(-48), nil)
			station("UP-2", op.ID, "", h(-48), nil)          // never connected
			station("UP-OLD", op.ID, "", h(-48), ptr(h(-1))) // retired before the range
			station("UP-LATE", op.ID, "", h(30), nil)        // registered after it
			station("OTHER-1", other.ID, "", h(-48), nil)    // another operator's
			check(t, s.RecordConnected(ctx, "OTHER-1", "ocpp1.6", h(-1)))

			// UP-1: connected from before the range to 08:00, offline to
			// 10:00, connected since (still, at now = 20:00).
			check(t, s.RecordConnected(ctx, "UP-1", "ocpp1.6", h(-2)))
			check(t, s.RecordDisconnected(ctx, "UP-1", h(8)))
			check(t, s.RecordConnected(ctx, "UP-1", "ocpp1.6", h(10)))
			status := func(conn int, st, code string, at time.Time) {
				t.Helper()
				check(t, s.RecordStatus(ctx, model.StatusEvent{StationID: "UP-1", ConnectorID: conn, Status: st, ErrorCode: code, Timestamp: at}))
			}
			status(1, "Available", "NoError", h(-30)) // superseded before from
			status(1, "Faulted", "GroundFailure", h(-3))
			status(2, "Available", "NoError", h(-3))
			status(1, "Available", "NoError", h(4)) // faulted 00:00–04:00
			status(2, "Faulted", "HighTemperature", h(12))
			status(2, "Available", "NoError", h(14))     // faulted 12:00–14:00
			status(2, "Charging", "NoError", h(30))      // after the range
			status(1, "Faulted", "GroundFailure", h(15)) // delivered late:
			status(1, "Available", "NoError", h(16))
			check(t, s.RecordStatus(ctx, model.StatusEvent{StationID: "UP-1", ConnectorID: 1, Status: "Unavailable", ErrorCode: "NoError", Timestamp: h(18), ReceivedAt: h(19)}))
			check(t, s.RecordStatus(ctx, model.StatusEvent{StationID: "UP-1", ConnectorID: 1, Status: "Available", ErrorCode: "NoError", Timestamp: h(17), ReceivedAt: h(20)}))

			stations, conns, changes, err := s.StatusReportInput(ctx, StatusReportFilter{OperatorID: op.ID, From: from, To: to})
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, st := range stations {
				ids = append(ids, st.StationID)
			}
			if len(ids) != 2 || ids[0] != "UP-1" || ids[1] != "UP-2" {
				t.Fatalf("stations %v", ids)
			}
			if got := stations[0].Connectors; len(got) != 2 || got[0] != 1 || got[1] != 2 || stations[0].SiteID != site.ID {
				t.Fatalf("UP-1: %+v", stations[0])
			}
			if len(conns) != 2 {
				t.Fatalf("connections %+v", conns)
			}
			for _, c := range changes {
				if c.StationID != "UP-1" || c.At.Before(h(-3)) || !c.At.Before(to) {
					t.Errorf("unexpected change %+v", c)
				}
			}
			if len(changes) != 2+7 { // the last before from of connectors 1 and 2, and the seven in the range
				t.Errorf("%d changes: %+v", len(changes), changes)
			}

			rep, err := reports.Status(reports.StatusInput{From: from, To: to, Now: h(20), Period: reports.Day,
				Stations: stations, Connections: conns, Changes: changes})
			if err != nil {
				t.Fatal(err)
			}
			up1 := rep.Stations[0]
			if up1.ObservedSeconds != 20*3600 || up1.ConnectedSeconds != 18*3600 || up1.UptimePct != 90 {
				t.Errorf("UP-1 uptime: %+v", up1)
			}
			if len(up1.OfflinePeriods) != 1 || !up1.OfflinePeriods[0].Start.Equal(h(8)) || up1.OfflinePeriods[0].Seconds != 7200 {
				t.Errorf("UP-1 offline: %+v", up1.OfflinePeriods)
			}
			// Connector 1 usable: connected (18 h) minus faulted 00–04 and
			// 15–16 and unavailable 18–20 (in time order, not arrival).
			c1, c2 := up1.Connectors[0], up1.Connectors[1]
			if c1.AvailableSeconds != (18-4-1-2)*3600 || c2.AvailableSeconds != (18-2)*3600 {
				t.Errorf("connectors: %+v %+v", c1, c2)
			}
			if up1.Faults != 2 || len(up1.FaultsByCode) != 2 || up1.FaultsByCode[0] != (reports.FaultCount{ErrorCode: "GroundFailure", Count: 1}) {
				t.Errorf("faults: %d %+v", up1.Faults, up1.FaultsByCode)
			}
			if up2 := rep.Stations[1]; up2.ConnectedSeconds != 0 || len(up2.OfflinePeriods) != 1 || up2.OfflinePeriods[0].Seconds != 20*3600 || !up2.OfflinePeriods[0].Ongoing {
				t.Errorf("UP-2: %+v", up2)
			}

			// One station, one site, and tenancy.
			only, _, ch, err := s.StatusReportInput(ctx, StatusReportFilter{OperatorID: op.ID, StationID: "UP-2", From: from, To: to})
			if err != nil || len(only) != 1 || len(ch) != 0 {
				t.Errorf("one station: %+v %+v %v", only, ch, err)
			}
			bySite, _, _, err := s.StatusReportInput(ctx, StatusReportFilter{OperatorID: op.ID, SiteID: site.ID, From: from, To: to})
			if err != nil || len(bySite) != 1 || bySite[0].StationID != "UP-1" {
				t.Errorf("one site: %+v %v", bySite, err)
			}
			foreign, _, _, err := s.StatusReportInput(ctx, StatusReportFilter{OperatorID: op.ID, StationID: "OTHER-1", From: from, To: to})
			if err != nil || len(foreign) != 0 {
				t.Errorf("another operator's station: %+v %v", foreign, err)
			}
		})
	}
}
