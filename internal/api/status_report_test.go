package api

import (
	"encoding/csv"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chargestar/chargestar/internal/csms"
	"github.com/chargestar/chargestar/internal/model"
	"github.com/chargestar/chargestar/internal/reports"
)

// statusReportContractRoutes lists this file's routes for TestOpenAPIDocumentListsExactlyTheServedRoutes.
var statusReportContractRoutes = []string{"GET /api/v1/reports/status"}

func statusReportProbes(e *env) map[string][]probe {
	b := e.b
	const path = "/api/v1/reports/status"
	return map[string][]probe{
		"GET /api/v1/reports/status": {
			{method: "GET", path: path + "?operator_id=" + b.op.ID},
			{method: "GET", path: path + "?station_id=" + b.station, unknownPath: path + "?station_id=CS-NOPE", foreignID: b.station, unknownID: "CS-NOPE"},
			{method: "GET", path: path + "?site_id=" + b.site.ID, unknownPath: path + "?site_id=site_nope", foreignID: b.site.ID, unknownID: "site_nope"},
		},
	}
}

// clock is a settable fake clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// TestStatusReportReconciles drives a station through the central
// system's own connect, status and disconnect paths on a fake clock, and
// checks that the report's uptime, availability, faults and offline
// periods are exactly what those events imply, and that its parts add up.
func TestStatusReportReconciles(t *testing.T) {
	e := newEnv(t)
	a := e.a
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	h := func(n float64) time.Time { return day.Add(time.Duration(n * float64(time.Hour))) }
	if _, err := e.st.CreateStation(e.ctx, model.Station{ID: "CS-UP", OperatorID: a.op.ID, SiteID: a.site.ID, CreatedAt: h(-24)}); err != nil {
		t.Fatal(err)
	}
	clk := &clock{}
	svc := csms.New(e.st, csms.Config{}, nil, nil, csms.WithClock(clk.Now))
	st, err := e.st.GetStation(e.ctx, "CS-UP")
	if err != nil {
		t.Fatal(err)
	}
	var link *csms.Link
	connect := func(at float64) {
		clk.Set(h(at))
		f := &fakeStation{version: "ocpp1.6"}
		link = svc.NewLink(st, nil)
		link.Bind(f, f)
		if err := svc.Connect(e.ctx, link); err != nil {
			t.Fatal(err)
		}
	}
	status := func(at float64, conn int, s, code string) {
		clk.Set(h(at))
		if err := svc.StatusNotification(e.ctx, link, model.StatusEvent{ConnectorID: conn, Status: s, ErrorCode: code, Timestamp: h(at)}); err != nil {
			t.Fatal(err)
		}
	}
	connect(1)
	status(2, 1, "Available", "NoError")
	status(2, 2, "Available", "NoError")
	status(3, 1, "Faulted", "GroundFailure")
	status(5, 1, "Available", "NoError")
	clk.Set(h(6))
	svc.Disconnect(link) // recorded in the background, in any order with the next connection
	connect(8)
	status(9, 2, "Charging", "HighTemperature") // an error code while charging: a fault, not downtime
	svc.Stop(e.ctx)                             // waits for the background connection and disconnection writes
	now := h(30)
	e.h.now = func() time.Time { return now }

	var rep StatusReport
	e.decode(e.mustDo("GET", "/api/v1/reports/status?from=2026-03-02&to=2026-03-04&timezone=UTC&station_id=CS-UP", a.token, nil, 200), &rep)
	if len(rep.Stations) != 1 {
		t.Fatalf("stations: %+v", rep.Stations)
	}
	s := rep.Stations[0]
	// Observed 00:00 to now (30 h); connected 01–06 and 08–now.
	if s.ObservedSeconds != 30*3600 || s.ConnectedSeconds != 27*3600 || s.UptimePct != 90 || s.OfflineSeconds != 3*3600 {
		t.Errorf("uptime: %+v", s)
	}
	want := []reports.OfflinePeriod{{Start: h(0), End: h(1), Seconds: 3600}, {Start: h(6), End: h(8), Seconds: 7200}}
	if len(s.OfflinePeriods) != 2 || s.OfflinePeriods[0] != want[0] || s.OfflinePeriods[1] != want[1] {
		t.Errorf("offline periods: %+v", s.OfflinePeriods)
	}
	// Connector 1 faulted 03–05 while connected; connector 2 never down.
	if len(s.Connectors) != 2 || s.Connectors[0].AvailableSeconds != 25*3600 || s.Connectors[1].AvailableSeconds != 27*3600 ||
		s.AvailableSeconds != 52*3600 || s.ConnectorSeconds != 60*3600 {
		t.Errorf("availability: %+v", s)
	}
	if s.Faults != 2 || len(s.FaultsByCode) != 2 || s.Connectors[0].Faults != 1 || s.Connectors[0].FaultsByCode[0].ErrorCode != "GroundFailure" ||
		s.Connectors[1].FaultsByCode[0].ErrorCode != "HighTemperature" {
		t.Errorf("faults: %+v", s)
	}
	// The faults are the stored fault notifications in the range.
	evs, err := e.st.ListStatusEvents(e.ctx, "CS-UP", day, 1000)
	if err != nil {
		t.Fatal(err)
	}
	stored := 0
	for _, ev := range evs {
		if reports.IsFault(ev.Status, ev.ErrorCode) && ev.Timestamp.Before(now) {
			stored++
		}
	}
	if stored != s.Faults || rep.Totals.Faults != stored {
		t.Errorf("faults %d (totals %d), stored %d", s.Faults, rep.Totals.Faults, stored)
	}
	// The day rows add up to the station; the totals are the station.
	var obs, conn, avail int64
	for _, r := range rep.Rows {
		obs += r.ObservedSeconds
		conn += r.ConnectedSeconds
		avail += r.AvailableSeconds
	}
	if len(rep.Rows) != 2 || obs != s.ObservedSeconds || conn != s.ConnectedSeconds || avail != s.AvailableSeconds {
		t.Errorf("rows: %+v", rep.Rows)
	}
	if rep.Rows[0].UptimePct != 87.5 || rep.Rows[1].ConnectedSeconds != 6*3600 {
		t.Errorf("days: %+v", rep.Rows)
	}
	if tot := rep.Totals; tot.Stations != 1 || tot.ConnectedSeconds != s.ConnectedSeconds || tot.OfflinePeriods != 2 || tot.UptimePct != 90 {
		t.Errorf("totals: %+v", tot)
	}
	if !rep.GeneratedAt.Equal(now) || rep.StationID != "CS-UP" || rep.Timezone != "UTC" {
		t.Errorf("header: %+v", rep)
	}

	// The whole network (the tenants' other stations were registered
	// after the range, so they are not observed) and the site agree.
	var all, site StatusReport
	e.decode(e.mustDo("GET", "/api/v1/reports/status?from=2026-03-02&to=2026-03-04&timezone=UTC", a.token, nil, 200), &all)
	e.decode(e.mustDo("GET", "/api/v1/reports/status?from=2026-03-02&to=2026-03-04&timezone=UTC&by=station&site_id="+a.site.ID, e.admin, nil, 200), &site)
	if all.Totals.Stations != 1 || all.Totals.ConnectedSeconds != rep.Totals.ConnectedSeconds || all.Totals.AvailableSeconds != rep.Totals.AvailableSeconds ||
		site.Totals.ConnectedSeconds != rep.Totals.ConnectedSeconds || len(site.Rows) != 2 || site.Rows[0].Key != "CS-UP" {
		t.Errorf("network %+v / site %+v, want %+v", all.Totals, site.Totals, rep.Totals)
	}
	// Another operator sees none of it.
	var other StatusReport
	e.decode(e.mustDo("GET", "/api/v1/reports/status?from=2026-03-02&to=2026-03-04", e.b.token, nil, 200), &other)
	if len(other.Stations) != 0 || other.Totals.Stations != 0 {
		t.Errorf("B sees %+v", other.Stations)
	}

	// CSV, by format or by Accept.
	for _, r := range []*resp{
		e.mustDo("GET", "/api/v1/reports/status?from=2026-03-02&to=2026-03-04&timezone=UTC&station_id=CS-UP&format=csv", a.token, nil, 200),
		e.doHeader("GET", "/api/v1/reports/status?from=2026-03-02&to=2026-03-04&timezone=UTC&station_id=CS-UP", a.token, http.Header{"Accept": {"text/csv"}}),
	} {
		if !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") {
			t.Fatalf("not CSV: %s", r)
		}
		lines, err := csv.NewReader(strings.NewReader(string(r.body))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(lines) != 5 || lines[1][0] != "CS-UP" || lines[1][5] != "90.00" || lines[1][8] != "2" || lines[1][10] != "2" ||
			lines[2][1] != "1" || lines[2][6] != "25.00" || lines[4][0] != "total" || lines[1][11] != "GroundFailure=1 HighTemperature=1" {
			t.Errorf("CSV: %q", lines)
		}
	}
	if r := e.doHeader("GET", "/api/v1/reports/status?station_id=CS-UP", a.token, http.Header{"Accept": {"text/csv;q=0.5, application/json"}}); !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
		t.Errorf("JSON preferred, got %s", r.header.Get("Content-Type"))
	}
	if r := e.mustDo("GET", "/api/v1/reports/status?from=2026-03-02&to=2026-03-04&timezone=UTC&format=pdf", a.token, nil, 200); r.header.Get("Content-Type") != "application/pdf" ||
		!strings.HasPrefix(string(r.body), "%PDF-") {
		t.Errorf("PDF: %s %.20q", r.header.Get("Content-Type"), r.body)
	}

	// Bad parameters.
	e.run(t, []scenario{
		{name: "bad period", method: "GET", path: "/api/v1/reports/status?period=year", token: a.token, status: 400, code: codeInvalidRequest},
		{name: "bad format", method: "GET", path: "/api/v1/reports/status?format=xml", token: a.token, status: 400, code: codeInvalidRequest},
		{name: "unknown station", method: "GET", path: "/api/v1/reports/status?station_id=CS-NOPE", token: a.token, status: 404, code: codeNotFound},
		{name: "station of another operator than asked", method: "GET", path: "/api/v1/reports/status?station_id=CS-UP&operator_id=" + e.b.op.ID, token: e.admin, status: 404, code: codeNotFound},
	})
}
