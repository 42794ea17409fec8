package api

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/chargestar/chargestar/internal/model"
)

func TestSessionShape(t *testing.T) {
	e := newEnv(t)
	r := e.mustDo("GET", "/api/v1/sessions?station_id="+e.a.station, e.a.token, nil, 200)
	var page struct {
		Items []map[string]any `json:"items"`
	}
	e.decode(r, &page)
	if len(page.Items) != 2 {
		t.Fatalf("got %d sessions, want 2", len(page.Items))
	}
	for _, s := range page.Items {
		for _, k := range []string{"id", "station_id", "connector_id", "transaction_id", "status", "started_at", "stopped_at", "energy_wh",
			"stop_reason", "amount_total", "amount_tax", "currency", "payment_status", "id_tag", "meter_start_wh", "meter_stop_wh", "stop_source"} {
			if _, ok := s[k]; !ok {
				t.Errorf("session lacks %q: %v", k, s)
			}
		}
	}
	done, act := e.a.session, e.a.active
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	if done.Status != "completed" || done.EnergyWh != 7000 || done.MeterStartWh != 1000 || done.MeterStopWh == nil || *done.MeterStopWh != 8000 ||
		!done.StartedAt.Equal(t0) || done.StoppedAt == nil || !done.StoppedAt.Equal(t0.Add(time.Hour)) || done.StopReason == nil ||
		*done.StopReason != "Local" || done.StopSource == nil || *done.StopSource != "station" || done.Currency != "AUD" ||
		done.PaymentStatus != "none" || done.IDTag != e.a.idToken || done.ConnectorID != 1 || done.TransactionID == "" {
		t.Errorf("completed session = %+v", done)
	}
	if act.Status != "active" || act.StoppedAt != nil || act.StopReason != nil || act.StopSource != nil || act.MeterStopWh != nil || act.EnergyWh != 0 {
		t.Errorf("active session = %+v", act)
	}
	// An active session's energy comes from its latest meter value.
	e1, e2 := 900.0, 2500.0
	if err := e.st.AppendMeterValues(e.ctx, []model.MeterValue{
		{StationID: e.a.station, ConnectorID: 2, SessionID: act.ID, TransactionID: act.TransactionID, Timestamp: act.StartedAt.Add(time.Minute), EnergyWh: &e1,
			Samples: []model.SampledValue{{Value: "900", Measurand: "Energy.Active.Import.Register", Unit: "Wh"}}},
		{StationID: e.a.station, ConnectorID: 2, SessionID: act.ID, TransactionID: act.TransactionID, Timestamp: act.StartedAt.Add(2 * time.Minute), EnergyWh: &e2,
			Samples: []model.SampledValue{{Value: "2.5", Measurand: "Energy.Active.Import.Register", Unit: "kWh", Context: "Sample.Periodic"}}},
	}); err != nil {
		t.Fatal(err)
	}
	var now Session
	e.decode(e.mustDo("GET", "/api/v1/sessions/"+act.ID, e.a.token, nil, 200), &now)
	if now.EnergyWh != 2000 {
		t.Errorf("active energy_wh = %d, want 2000", now.EnergyWh)
	}
	var mvs List[MeterValue]
	e.decode(e.mustDo("GET", "/api/v1/sessions/"+act.ID+"/meter-values", e.a.token, nil, 200), &mvs)
	if len(mvs.Items) != 2 || *mvs.Items[1].EnergyWh != 2500 || mvs.Items[1].Samples[0].Unit != "kWh" || mvs.Items[1].Samples[0].Context != "Sample.Periodic" ||
		mvs.Items[0].ConnectorID != 2 || mvs.Items[0].TransactionID != act.TransactionID || mvs.NextCursor != "" {
		t.Errorf("meter values = %+v", mvs)
	}
}

func TestListSessions(t *testing.T) {
	e := newEnv(t)
	// Five more completed sessions on A's idle station.
	base := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	for i := range 5 {
		s := e.startSession(e.a.idle, 1, e.a.idToken, base.Add(time.Duration(i)*time.Hour), 0)
		e.stopSession(e.a.idle, s.TransactionID, base.Add(time.Duration(i)*time.Hour+time.Minute), int64(100*(i+1)))
	}
	all := e.listAll("/api/v1/sessions", e.a.token, 2, idKey)
	if len(all) != 7 {
		t.Fatalf("A lists %d sessions, want 7", len(all))
	}
	var created []string
	for _, s := range all {
		if s["operator_id"] != e.a.op.ID {
			t.Errorf("A sees %v", s)
		}
		created = append(created, s["created_at"].(string))
	}
	if !slices.IsSortedFunc(created, func(a, b string) int { return -compareTimes(a, b) }) {
		t.Errorf("not newest first: %v", created)
	}
	if idle := e.listAll("/api/v1/sessions?station_id="+e.a.idle, e.a.token, 3, idKey); len(idle) != 5 {
		t.Errorf("station filter: %d, want 5", len(idle))
	}
	if act := e.listAll("/api/v1/sessions?status=active", e.a.token, 3, idKey); len(act) != 1 || act[0]["id"] != e.a.active.ID {
		t.Errorf("status=active: %v", act)
	}
	if done := e.listAll("/api/v1/sessions?status=completed&station_id="+e.a.station, e.a.token, 3, idKey); len(done) != 1 || done[0]["id"] != e.a.session.ID {
		t.Errorf("status=completed: %v", done)
	}
	if every := e.listAll("/api/v1/sessions", e.admin, 4, idKey); len(every) != 9 {
		t.Errorf("admin lists %d, want 9", len(every))
	}
	if bs := e.listAll("/api/v1/sessions?operator_id="+e.b.op.ID, e.admin, 4, idKey); len(bs) != 2 {
		t.Errorf("admin filtered to B: %d", len(bs))
	}
	e.run(t, []scenario{
		{name: "foreign station filter", method: "GET", path: "/api/v1/sessions?station_id=" + e.b.station, token: e.a.token, status: 404, code: codeNotFound},
		{name: "unknown station filter", method: "GET", path: "/api/v1/sessions?station_id=CS-NOPE", token: e.a.token, status: 404, code: codeNotFound},
		{name: "foreign operator filter", method: "GET", path: "/api/v1/sessions?operator_id=" + e.b.op.ID, token: e.a.token, status: 404, code: codeNotFound},
		{name: "foreign cursor", method: "GET", path: "/api/v1/sessions?cursor=" + encodeCursor(e.b.session.ID), token: e.a.token, status: 400, code: codeInvalidParameter},
		{name: "get unknown", method: "GET", path: "/api/v1/sessions/ses_nope", token: e.a.token, status: 404, code: codeNotFound},
	})
}

func compareTimes(a, b string) int {
	ta, _ := time.Parse(time.RFC3339Nano, a)
	tb, _ := time.Parse(time.RFC3339Nano, b)
	return ta.Compare(tb)
}

func TestMeterValuePages(t *testing.T) {
	e := newEnv(t)
	act := e.a.active
	var mvs []model.MeterValue
	for i := range 11 {
		wh := float64(500 + 100*i)
		mvs = append(mvs, model.MeterValue{StationID: e.a.station, ConnectorID: 2, SessionID: act.ID, TransactionID: act.TransactionID,
			Timestamp: act.StartedAt.Add(time.Duration(i) * time.Minute), EnergyWh: &wh,
			Samples: []model.SampledValue{{Value: fmt.Sprint(wh)}}})
	}
	if err := e.st.AppendMeterValues(e.ctx, mvs); err != nil {
		t.Fatal(err)
	}
	for _, limit := range []int{1, 3, 11, 500} {
		all := e.listAll("/api/v1/sessions/"+act.ID+"/meter-values", e.a.token, limit, idKey)
		if len(all) != 11 {
			t.Fatalf("limit %d: %d meter values, want 11", limit, len(all))
		}
		for i, mv := range all {
			if mv["energy_wh"] != float64(500+100*i) {
				t.Errorf("limit %d: value %d = %v (oldest first)", limit, i, mv["energy_wh"])
			}
		}
	}
	e.run(t, []scenario{
		{name: "foreign session's meter values", method: "GET", path: "/api/v1/sessions/" + act.ID + "/meter-values", token: e.b.token, status: 404, code: codeNotFound},
	})
}
