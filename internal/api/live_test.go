package api

import (
	"bufio"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chargestar/chargestar/internal/csms"
	"github.com/chargestar/chargestar/internal/live"
	"github.com/chargestar/chargestar/internal/model"
	"github.com/chargestar/chargestar/internal/payments/sandbox"
	"github.com/chargestar/chargestar/internal/sessionbilling"
	"github.com/chargestar/chargestar/internal/store"
)

// liveProbes: operator A's token on operator B's board.
func liveProbes(e *env) map[string][]probe {
	b := e.b
	probes := func(path string) []probe {
		return []probe{
			{method: "GET", path: path + "?operator_id=" + b.op.ID, unknownPath: path + "?operator_id=op_nope", foreignID: b.op.ID, unknownID: "op_nope"},
			{method: "GET", path: path + "?site_id=" + b.site.ID, unknownPath: path + "?site_id=site_nope", foreignID: b.site.ID, unknownID: "site_nope"},
			{method: "GET", path: path + "?station_id=" + b.station, unknownPath: path + "?station_id=CS-NOPE", foreignID: b.station, unknownID: "CS-NOPE"},
			{method: "GET", path: path + "?station_id=" + b.idle, unknownPath: path + "?station_id=CS-NOPE", foreignID: b.idle, unknownID: "CS-NOPE"},
		}
	}
	return map[string][]probe{
		"GET /api/v1/board":        probes("/api/v1/board"),
		"GET /api/v1/board/events": probes("/api/v1/board/events"),
	}
}

// liveContractRoutes lists this file's routes for TestOpenAPIDocumentListsExactlyTheServedRoutes.
var liveContractRoutes = []string{"GET /api/v1/board", "GET /api/v1/board/events"}

// newLiveEnv is newEnv with the live broker wired as the server wires it:
// the CSMS core nudges it, the API streams from it.
func newLiveEnv(t *testing.T) (*env, *live.Broker) {
	t.Helper()
	ctx := t.Context()
	st, err := store.Open(ctx, "sqlite:"+t.TempDir()+"/db", store.Options{Migrate: true, BatchMaxDelay: -1})
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	broker := live.New()
	t.Cleanup(broker.Close) // before the store closes: streams end first
	svc := csms.New(st, csms.Config{CommandTimeout: 5 * time.Second}, nil, nil, csms.WithStationWatcher(broker))
	provider, err := sandbox.New(st, sandbox.Options{BaseURL: "http://cs.test/pay/sandbox", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("sandbox.New: %v", err)
	}
	bill := sessionbilling.New(st, provider, nil, sessionbilling.Config{BaseURL: "http://cs.test"}, slog.New(slog.DiscardHandler))
	logs := &syncBuffer{}
	h := newHandler(Deps{Store: st, CSMS: svc, Billing: bill, Live: broker, AdminToken: adminToken,
		Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	e := &env{t: t, ctx: ctx, st: st, svc: svc, bill: bill, h: h, logs: logs, admin: adminToken}
	e.doc = newDocChecker(t, h.openapi)
	e.a = e.newTenant("Alpha Parking", "A")
	e.b = e.newTenant("Beta Charging", "B")
	return e, broker
}

func (e *env) board(path, token string) Board {
	e.t.Helper()
	var b Board
	e.decode(e.mustDo("GET", path, token, nil, 200), &b)
	return b
}

func boardIDs(b Board) []string {
	var ids []string
	for _, s := range b.Stations {
		ids = append(ids, s.ID)
	}
	return ids
}

func TestBoardShowsStationsWithConnectorStatusesAndActiveSessions(t *testing.T) {
	e := newEnv(t)
	a := e.a
	now := time.Now().UTC().Truncate(time.Second)
	for _, ev := range []model.StatusEvent{
		{StationID: a.station, ConnectorID: 1, Status: "Available", ErrorCode: "NoError", Timestamp: now, ReceivedAt: now},
		{StationID: a.station, ConnectorID: 2, Status: "Charging", ErrorCode: "NoError", Timestamp: now, ReceivedAt: now},
	} {
		if err := e.st.RecordStatus(e.ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	energy, power := 2500.0, 7400.0
	if err := e.st.AppendMeterValues(e.ctx, []model.MeterValue{{StationID: a.station, ConnectorID: 2, SessionID: a.active.ID,
		TransactionID: a.active.TransactionID, Timestamp: a.active.StartedAt.Add(time.Minute), EnergyWh: &energy, PowerW: &power,
		Samples: []model.SampledValue{{Value: "7.4", Measurand: "Power.Active.Import", Unit: "kW"}}, ReceivedAt: now}}); err != nil {
		t.Fatal(err)
	}

	b := e.board("/api/v1/board", a.token)
	if ids := boardIDs(b); !slices.Equal(ids, []string{a.station, a.idle}) {
		t.Fatalf("A's board lists %v, want [%s %s]", ids, a.station, a.idle)
	}
	st := b.Stations[0]
	if !st.Connected || st.SiteName == nil || *st.SiteName != "Site A" || st.Protocol == nil || *st.Protocol != "ocpp1.6" {
		t.Errorf("connected station: %+v", st)
	}
	if len(st.Connectors) != 2 || st.Connectors[0].Status != "Available" || st.Connectors[0].Session != nil || st.Connectors[1].Status != "Charging" {
		t.Fatalf("connectors: %+v", st.Connectors)
	}
	s := st.Connectors[1].Session
	if s == nil || s.ID != a.active.ID || s.EnergyWh != 2000 || s.PowerW == nil || *s.PowerW != 7400 || s.IDTag != a.idToken {
		t.Errorf("connector 2 session: %+v, want %s with 2000 Wh at 7400 W", s, a.active.ID)
	}
	if idle := b.Stations[1]; idle.Connected || idle.SiteID != nil || idle.SiteName != nil || len(idle.Connectors) != 0 {
		t.Errorf("idle station: %+v", idle)
	}

	// Filters.
	for _, c := range []struct {
		query string
		want  []string
	}{
		{"status=Offline", []string{a.idle}},
		{"status=Charging", []string{a.station}},
		{"status=Available", []string{a.station}},
		{"status=Faulted", nil},
		{"q=" + strings.ToLower(a.idle[3:]), []string{a.idle}},
		{"site_id=" + a.site.ID, []string{a.station}},
		{"station_id=" + a.idle, []string{a.idle}},
		{"operator_id=" + a.op.ID + "&status=Offline", []string{a.idle}},
	} {
		if got := boardIDs(e.board("/api/v1/board?"+c.query, a.token)); !slices.Equal(got, c.want) {
			t.Errorf("board?%s = %v, want %v", c.query, got, c.want)
		}
	}
	if r := e.do("GET", "/api/v1/board?status=Sleeping", a.token, nil); r.status != 400 || r.errorCode() != codeInvalidParameter {
		t.Errorf("unknown status: %s", r)
	}

	// The administrator sees every operator's stations, or one operator's.
	if got := boardIDs(e.board("/api/v1/board", e.admin)); !slices.Equal(got, []string{a.station, a.idle, e.b.station, e.b.idle}) {
		t.Errorf("admin board = %v", got)
	}
	if got := boardIDs(e.board("/api/v1/board?operator_id="+e.b.op.ID, e.admin)); !slices.Equal(got, []string{e.b.station, e.b.idle}) {
		t.Errorf("admin board of B = %v", got)
	}
	// Without a broker the stream is unavailable (after the checks).
	if r := e.do("GET", "/api/v1/board/events", a.token, nil); r.status != 503 || r.errorCode() != codeUnavailable {
		t.Errorf("events without a broker: %s", r)
	}
}

// sseStream reads a server-sent event stream.
type sseStream struct {
	t      *testing.T
	events chan sseEvent
	resp   *http.Response
}

type sseEvent struct{ name, data string }

func openStream(t *testing.T, srv *httptest.Server, token, query string) *sseStream {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/api/v1/board/events"+query, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	s := &sseStream{t: t, events: make(chan sseEvent, 100), resp: resp}
	go func() {
		defer close(s.events)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 1<<20)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.name != "" || ev.data != "" {
					s.events <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.data += strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	return s
}

// next returns the next station event, failing after timeout.
func (s *sseStream) next(timeout time.Duration) BoardStation {
	s.t.Helper()
	select {
	case ev, ok := <-s.events:
		if !ok {
			s.t.Fatal("the stream ended")
		}
		if ev.name != "station" {
			s.t.Fatalf("event %q: %s", ev.name, ev.data)
		}
		var b BoardStation
		if err := json.Unmarshal([]byte(ev.data), &b); err != nil {
			s.t.Fatalf("event data %s: %v", ev.data, err)
		}
		return b
	case <-time.After(timeout):
		s.t.Fatal("no event within", timeout)
	}
	return BoardStation{}
}

// until returns the first station event for which ok holds.
func (s *sseStream) until(what string, ok func(BoardStation) bool) BoardStation {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if b := s.next(time.Until(deadline)); ok(b) {
			return b
		}
	}
	s.t.Fatalf("the stream never showed %s", what)
	return BoardStation{}
}

func (e *env) status(stationID string, connector int, status string) {
	e.t.Helper()
	l, ok := e.svc.Link(stationID)
	if !ok {
		e.t.Fatalf("%s is not connected", stationID)
	}
	if err := e.svc.StatusNotification(e.ctx, l, model.StatusEvent{ConnectorID: connector, Status: status, Timestamp: time.Now()}); err != nil {
		e.t.Fatal(err)
	}
}

func connectorStatus(b BoardStation, id int) string {
	for _, c := range b.Connectors {
		if c.ConnectorID == id {
			return c.Status
		}
	}
	return ""
}

func TestBoardEventsStreamStatusChangesOfTheCallersStationsOnly(t *testing.T) {
	e, broker := newLiveEnv(t)
	a, b := e.a, e.b
	srv := httptest.NewServer(e.h)
	defer srv.Close()

	streamA := openStream(t, srv, a.token, "")
	streamB := openStream(t, srv, b.token, "")
	streamOne := openStream(t, srv, e.admin, "?station_id="+a.station)
	if n := broker.Subscribers(); n != 3 {
		t.Fatalf("%d subscribers, want 3 (one per open stream)", n)
	}

	e.status(a.station, 1, "Charging")
	got := streamA.until("connector 1 Charging", func(s BoardStation) bool { return connectorStatus(s, 1) == "Charging" })
	if got.ID != a.station || !got.Connected || got.OperatorID != a.op.ID {
		t.Errorf("event %+v", got)
	}
	e.status(a.station, 1, "Faulted")
	streamA.until("connector 1 Faulted", func(s BoardStation) bool { return connectorStatus(s, 1) == "Faulted" })
	streamOne.until("connector 1 Faulted (admin, station filter)", func(s BoardStation) bool { return connectorStatus(s, 1) == "Faulted" })

	// B's stream carries B's station, and never carried A's.
	e.status(b.station, 1, "Unavailable")
	got = streamB.next(10 * time.Second)
	if got.ID != b.station {
		t.Fatalf("B's stream carried %s (operator %s)", got.ID, got.OperatorID)
	}
	// A's stream does not carry B's change either (a change of A's after
	// it arrives first).
	e.status(a.station, 3, "Available")
	for {
		got := streamA.next(10 * time.Second)
		if got.ID != a.station {
			t.Fatalf("A's stream carried %s", got.ID)
		}
		if connectorStatus(got, 3) == "Available" {
			break
		}
	}
	// So does the station filter.
	for {
		got := streamOne.next(10 * time.Second)
		if got.ID != a.station {
			t.Fatalf("the stream filtered to %s carried %s", a.station, got.ID)
		}
		if connectorStatus(got, 3) == "Available" {
			break
		}
	}

	// Coalescing: a burst of changes comes as few updates, the last state last.
	for i := range 20 {
		e.status(a.station, 1, []string{"Preparing", "Charging"}[i%2])
	}
	got = streamA.until("the burst's last state", func(s BoardStation) bool { return connectorStatus(s, 1) == "Charging" })
	n := 0
	for {
		select {
		case <-streamA.events:
			n++
			continue
		case <-time.After(2 * liveInterval):
		}
		break
	}
	if n > 3 {
		t.Errorf("a burst of 20 changes came as %d+ updates", n+1)
	}

	// Shutdown (the broker closing) ends the streams.
	broker.Close()
	select {
	case _, ok := <-streamB.events:
		for ok {
			_, ok = <-streamB.events
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the stream did not end when the broker closed")
	}
}
