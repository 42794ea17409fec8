package store

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chargestar/chargestar/internal/model"
)

func testTransactionEvents(t *testing.T, h *harness) {
	ctx := context.Background()
	s := h.open(Options{})
	_, st := fixture(t, s)
	_, st2 := fixture(t, s)
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	recv := t0.Add(90 * time.Second)
	ev := func(seq int, typ string) model.TransactionEvent {
		return model.TransactionEvent{StationID: st.ID, TransactionID: "trx-1", SeqNo: seq, EventType: typ,
			TriggerReason: "MeterValuePeriodic", Timestamp: t0.Add(time.Duration(seq) * time.Minute), ReceivedAt: recv}
	}
	record := func(e model.TransactionEvent) bool {
		t.Helper()
		dup, err := s.RecordTransactionEvent(ctx, e)
		check(t, err)
		return dup
	}
	started := ev(0, "Started")
	started.TriggerReason, started.ChargingState = "Authorized", "EVConnected"
	ended := ev(2, "Ended")
	ended.Offline = true
	updated := ev(1, "Updated")
	updated.ChargingState = "Charging"
	for _, e := range []model.TransactionEvent{started, ended, updated} { // seqNo 2 delivered before 1
		if record(e) {
			t.Errorf("first delivery of seqNo %d reported as a replay", e.SeqNo)
		}
	}
	// replays: same key, whatever the rest says; nothing changes
	replay := updated
	replay.EventType, replay.TriggerReason, replay.Timestamp = "Ended", "Deauthorized", t0.Add(time.Hour)
	if !record(replay) || !record(started) {
		t.Error("replay not recognised")
	}
	// the same seqNo of another transaction or another station is no replay
	other := ev(1, "Started")
	other.TransactionID = "trx-2"
	if record(other) {
		t.Error("seqNo of another transaction taken as a replay")
	}
	other = ev(1, "Started")
	other.StationID = st2.ID
	if record(other) {
		t.Error("seqNo of another station taken as a replay")
	}

	got := must(s.ListTransactionEvents(ctx, st.ID, "trx-1"))(t)
	want := []model.TransactionEvent{started, updated, ended}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ListTransactionEvents =\n%+v\nwant\n%+v", got, want)
	}
	if l := must(s.ListTransactionEvents(ctx, st.ID, "trx-2"))(t); len(l) != 1 {
		t.Errorf("trx-2: %+v", l)
	}
	if l := must(s.ListTransactionEvents(ctx, st.ID, "trx-none"))(t); len(l) != 0 {
		t.Errorf("unknown transaction: %+v", l)
	}

	// defaults: received now, timestamp = received
	before := time.Now().Add(-time.Second)
	record(model.TransactionEvent{StationID: st.ID, TransactionID: "trx-3", EventType: "Started"})
	l := must(s.ListTransactionEvents(ctx, st.ID, "trx-3"))(t)
	if len(l) != 1 || l[0].ReceivedAt.Before(before) || !l[0].Timestamp.Equal(l[0].ReceivedAt) {
		t.Errorf("defaults: %+v", l)
	}
	if _, err := s.RecordTransactionEvent(ctx, model.TransactionEvent{StationID: st.ID}); err == nil {
		t.Error("event without transaction id accepted")
	}

	// concurrent deliveries of one event (in one batch or several): exactly
	// one is new
	var wg sync.WaitGroup
	dups := make([]bool, 16)
	for i := range dups {
		wg.Go(func() {
			var err error
			if dups[i], err = s.RecordTransactionEvent(ctx, ev(7, "Updated")); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	fresh := 0
	for _, d := range dups {
		if !d {
			fresh++
		}
	}
	if fresh != 1 {
		t.Errorf("%d of %d concurrent deliveries were new, want 1", fresh, len(dups))
	}
}

func testStationVariables(t *testing.T, h *harness) {
	ctx := context.Background()
	s := h.open(Options{})
	_, st := fixture(t, s)
	_, st2 := fixture(t, s)
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	if got, want := strings.Join(stationVariableTable.cols, ", "), strings.Join(strings.Fields(stationVariableCols), " "); got != want {
		t.Fatalf("stationVariableTable columns %q ≠ stationVariableCols %q", got, want)
	}

	// a full report (NotifyReport)
	hb := model.StationVariable{Component: "OCPPCommCtrlr", Variable: "HeartbeatInterval", Value: "300",
		Mutability: "ReadWrite", Persistent: true, DataType: "integer", Unit: "s", UpdatedAt: t0}
	maxPower := model.StationVariable{Component: "EVSE", EVSEID: 1, Variable: "Power", AttributeType: "MaxSet", Value: "22000",
		Mutability: "ReadOnly", Constant: true, DataType: "decimal", Unit: "W", UpdatedAt: t0}
	power := model.StationVariable{Component: "EVSE", EVSEID: 1, Variable: "Power", Value: "0", // Actual by default
		Mutability: "ReadOnly", DataType: "decimal", Unit: "W", UpdatedAt: t0}
	connType := model.StationVariable{Component: "Connector", EVSEID: 1, ConnectorID: 1, Variable: "ConnectorType", Value: "cType2",
		Mutability: "ReadOnly", DataType: "OptionList", ValuesList: "cType2,sType2", UpdatedAt: t0}
	conn2 := connType
	conn2.ConnectorID, conn2.Value = 2, "sType2"
	pw := model.StationVariable{Component: "SecurityCtrlr", ComponentInstance: "main", Variable: "BasicAuthPassword",
		VariableInstance: "x", AttributeType: "Actual", Mutability: "WriteOnly", DataType: "string", UpdatedAt: t0}
	check(t, s.UpsertStationVariables(ctx, st.ID, []model.StationVariable{hb, maxPower, power, conn2, connType, pw}))
	check(t, s.UpsertStationVariables(ctx, st.ID, nil))

	norm := func(vs ...model.StationVariable) []model.StationVariable {
		out := make([]model.StationVariable, len(vs))
		for i, v := range vs {
			v.StationID = st.ID
			if v.AttributeType == "" {
				v.AttributeType = "Actual"
			}
			out[i] = v
		}
		return out
	}
	all := must(s.ListStationVariables(ctx, st.ID, VariableFilter{}))(t)
	// key order: component, instance, evse, connector, variable, instance, attribute type
	want := norm(connType, conn2, power, maxPower, hb, pw)
	if !reflect.DeepEqual(all, want) {
		t.Fatalf("ListStationVariables =\n%+v\nwant\n%+v", all, want)
	}

	// a GetVariables result carries a value and a status only: the
	// characteristics stay
	t1 := t0.Add(time.Hour)
	check(t, s.UpsertStationVariables(ctx, st.ID, []model.StationVariable{
		{Component: "OCPPCommCtrlr", Variable: "HeartbeatInterval", Value: "600", Status: "Accepted", UpdatedAt: t1},
		{Component: "OCPPCommCtrlr", Variable: "WebSocketPingInterval", AttributeType: "Actual", Value: "30", Status: "Accepted"}, // new, no characteristics
	}))
	got := must(s.ListStationVariables(ctx, st.ID, VariableFilter{Component: "OCPPCommCtrlr"}))(t)
	hb1 := hb
	hb1.Value, hb1.Status, hb1.UpdatedAt = "600", "Accepted", t1
	if len(got) != 2 || !reflect.DeepEqual(got[0], norm(hb1)[0]) {
		t.Fatalf("after GetVariables: %+v", got)
	}
	if g := got[1]; g.Variable != "WebSocketPingInterval" || g.Value != "30" || g.Status != "Accepted" ||
		g.Mutability != "" || g.DataType != "" || g.Persistent || g.UpdatedAt.IsZero() {
		t.Errorf("new variable from GetVariables: %+v", g)
	}
	// a later full report overwrites everything, the status too
	hb2 := hb
	hb2.Value, hb2.Mutability, hb2.Persistent, hb2.Unit, hb2.UpdatedAt = "900", "ReadOnly", false, "", t1.Add(time.Hour)
	check(t, s.UpsertStationVariables(ctx, st.ID, []model.StationVariable{hb2}))
	if got := must(s.ListStationVariables(ctx, st.ID, VariableFilter{Variable: "HeartbeatInterval"}))(t); !reflect.DeepEqual(got, norm(hb2)) {
		t.Errorf("full report after GetVariables: %+v", got)
	}
	// DataType alone also marks a full report
	dt := model.StationVariable{Component: "OCPPCommCtrlr", Variable: "HeartbeatInterval", Value: "901", DataType: "decimal", UpdatedAt: t1}
	check(t, s.UpsertStationVariables(ctx, st.ID, []model.StationVariable{dt}))
	if got := must(s.ListStationVariables(ctx, st.ID, VariableFilter{Variable: "HeartbeatInterval"}))(t); !reflect.DeepEqual(got, norm(dt)) {
		t.Errorf("report with a data type only: %+v", got)
	}

	// the same key twice in one call applies in order
	check(t, s.UpsertStationVariables(ctx, st.ID, []model.StationVariable{
		{Component: "EVSE", EVSEID: 1, Variable: "Power", Value: "7000", Mutability: "ReadWrite", DataType: "integer", UpdatedAt: t1},
		{Component: "EVSE", EVSEID: 1, Variable: "Power", Value: "7400", Status: "Accepted", UpdatedAt: t1},
		{Component: "Connector", EVSEID: 1, ConnectorID: 1, Variable: "ConnectorType", Value: "cCCS2", Status: "Accepted", UpdatedAt: t1},
		{Component: "Connector", EVSEID: 1, ConnectorID: 1, Variable: "ConnectorType", Value: "cCCS1", Mutability: "ReadOnly", DataType: "OptionList", UpdatedAt: t1},
	}))
	got = must(s.ListStationVariables(ctx, st.ID, VariableFilter{}))(t)
	byKey := map[string]model.StationVariable{}
	for _, v := range got {
		byKey[fmt.Sprint(v.Component, v.ConnectorID, v.Variable, v.AttributeType)] = v
	}
	if v := byKey["EVSE0PowerActual"]; v.Value != "7400" || v.Status != "Accepted" || v.Mutability != "ReadWrite" || v.DataType != "integer" || v.Unit != "" {
		t.Errorf("full then value in one call: %+v", v)
	}
	if v := byKey["Connector1ConnectorTypeActual"]; v.Value != "cCCS1" || v.Status != "" || v.ValuesList != "" || v.DataType != "OptionList" {
		t.Errorf("value then full in one call: %+v", v)
	}
	if v := byKey["EVSE0PowerMaxSet"]; !reflect.DeepEqual(v, norm(maxPower)[0]) {
		t.Errorf("another attribute type changed: %+v", v)
	}

	// filters: exact, case-insensitive
	count := func(f VariableFilter) int { return len(must(s.ListStationVariables(ctx, st.ID, f))(t)) }
	for _, c := range []struct {
		f    VariableFilter
		want int
	}{
		{VariableFilter{Component: "ocppcommctrlr"}, 2},
		{VariableFilter{Component: "OCPPComm"}, 0}, // not a prefix match
		{VariableFilter{Variable: "power"}, 2},
		{VariableFilter{Component: "evse", Variable: "POWER"}, 2},
		{VariableFilter{Component: "Connector", Variable: "Power"}, 0},
		{VariableFilter{Limit: 3}, 3},
		{VariableFilter{}, 7},
	} {
		if n := count(c.f); n != c.want {
			t.Errorf("filter %+v: %d rows, want %d", c.f, n, c.want)
		}
	}
	if l := must(s.ListStationVariables(ctx, st2.ID, VariableFilter{}))(t); len(l) != 0 {
		t.Errorf("another station's variables: %+v", l)
	}

	mustNotFound(t, "variables of an unknown station", s.UpsertStationVariables(ctx, "CP-nope", []model.StationVariable{hb}))
	if err := s.UpsertStationVariables(ctx, st.ID, []model.StationVariable{{Component: "X"}}); err == nil {
		t.Error("variable without a name accepted")
	}

	// a large report: one write, several statements
	const n = 500
	report := make([]model.StationVariable, n)
	for i := range report {
		report[i] = model.StationVariable{Component: "Batch", EVSEID: i % 3, Variable: fmt.Sprintf("V%03d", i), Value: "r",
			Mutability: "ReadWrite", Persistent: true, DataType: "string", Unit: "u", ValuesList: "a,b"}
	}
	before := s.Stats().Submitted
	check(t, s.UpsertStationVariables(ctx, st2.ID, report))
	if w := s.Stats().Submitted - before; w != 1 {
		t.Errorf("%d writes for one report, want 1", w)
	}
	values := make([]model.StationVariable, n)
	for i := range values {
		values[i] = model.StationVariable{Component: "Batch", EVSEID: i % 3, Variable: fmt.Sprintf("V%03d", i), Value: fmt.Sprint(i), Status: "Accepted"}
	}
	check(t, s.UpsertStationVariables(ctx, st2.ID, values))
	got = must(s.ListStationVariables(ctx, st2.ID, VariableFilter{Component: "batch"}))(t)
	if len(got) != n {
		t.Fatalf("%d batch variables, want %d", len(got), n)
	}
	for i, v := range got {
		if i > 0 && compareVariableKey(&got[i-1], &v) >= 0 {
			t.Fatalf("not in key order at %d: %+v after %+v", i, v, got[i-1])
		}
		if v.Value == "r" || v.Status != "Accepted" || v.Mutability != "ReadWrite" || !v.Persistent || v.DataType != "string" ||
			v.Unit != "u" || v.ValuesList != "a,b" {
			t.Fatalf("batch variable %+v", v)
		}
	}
	if l := must(s.ListStationVariables(ctx, st2.ID, VariableFilter{Limit: 100000}))(t); len(l) != n {
		t.Errorf("limit above the maximum: %d rows", len(l))
	}
}

func testStationEvents(t *testing.T, h *harness) {
	ctx := context.Background()
	s := h.open(Options{})
	_, st := fixture(t, s)
	_, st2 := fixture(t, s)
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	ev := func(station, kind, typ string, i int) model.StationEvent {
		return model.StationEvent{StationID: station, Kind: kind, Type: typ, Severity: -1, TechInfo: fmt.Sprint("info ", i),
			Payload: fmt.Sprintf(`{"n":%d}`, i), Timestamp: t0.Add(time.Duration(i) * time.Minute), ReceivedAt: t0.Add(time.Hour)}
	}
	sent := []model.StationEvent{
		ev(st.ID, model.EventSecurity, "FirmwareUpdated", 0),
		ev(st.ID, model.EventNotify, "EVSE/Power", 1),
		ev(st2.ID, model.EventSecurity, "StartupOfTheDevice", 2),
		ev(st.ID, model.EventSecurity, "InvalidCsmsCertificate", 3),
		ev(st.ID, model.EventSettlement, "Settled", 4),
	}
	sent[1].Severity = 0
	check(t, s.RecordStationEvents(ctx, sent[:3]...)) // one write, two stations
	check(t, s.RecordStationEvents(ctx, sent[3]))
	check(t, s.RecordStationEvents(ctx, sent[4]))
	check(t, s.RecordStationEvents(ctx))

	all := must(s.ListStationEvents(ctx, StationEventFilter{}))(t)
	if len(all) != len(sent) {
		t.Fatalf("%d events, want %d", len(all), len(sent))
	}
	for i, e := range all { // newest first, as sent
		w := sent[len(sent)-1-i]
		w.ID = e.ID
		if e != w {
			t.Errorf("event %d = %+v, want %+v", i, e, w)
		}
		if i > 0 && e.ID >= all[i-1].ID {
			t.Errorf("not newest first: %d after %d", e.ID, all[i-1].ID)
		}
	}
	ids := func(f StationEventFilter) []string {
		var out []string
		for _, e := range must(s.ListStationEvents(ctx, f))(t) {
			out = append(out, e.TechInfo)
		}
		return out
	}
	for _, c := range []struct {
		f    StationEventFilter
		want string
	}{
		{StationEventFilter{StationID: st.ID}, "info 4,info 3,info 1,info 0"},
		{StationEventFilter{StationID: st2.ID}, "info 2"},
		{StationEventFilter{Kind: model.EventSecurity}, "info 3,info 2,info 0"},
		{StationEventFilter{StationID: st.ID, Kind: model.EventSecurity}, "info 3,info 0"},
		{StationEventFilter{StationID: st.ID, Kind: model.EventNotify}, "info 1"},
		{StationEventFilter{Limit: 2}, "info 4,info 3"},
		{StationEventFilter{Before: all[1].ID}, "info 2,info 1,info 0"},
		{StationEventFilter{StationID: "CP-nope"}, ""},
	} {
		if got := strings.Join(ids(c.f), ","); got != c.want {
			t.Errorf("filter %+v: %s, want %s", c.f, got, c.want)
		}
	}
	// paging through a station's events with the cursor
	var paged []string
	f := StationEventFilter{StationID: st.ID, Limit: 3}
	for range 10 {
		page := must(s.ListStationEvents(ctx, f))(t)
		for _, e := range page {
			paged = append(paged, e.TechInfo)
		}
		if len(page) < f.Limit {
			break
		}
		f.Before = page[len(page)-1].ID
	}
	if got := strings.Join(paged, ","); got != "info 4,info 3,info 1,info 0" {
		t.Errorf("paged: %s", got)
	}

	// an unknown station: ErrNotFound, and nothing of the call is stored
	mustNotFound(t, "event of an unknown station", s.RecordStationEvents(ctx, ev(st.ID, model.EventSecurity, "X", 9), ev("CP-nope", model.EventSecurity, "X", 9)))
	if n := len(must(s.ListStationEvents(ctx, StationEventFilter{}))(t)); n != len(sent) {
		t.Errorf("%d events after a rejected call, want %d", n, len(sent))
	}
	if err := s.RecordStationEvents(ctx, model.StationEvent{StationID: st.ID}); err == nil {
		t.Error("event without a kind accepted")
	}
	// defaults: received now, timestamp = received
	check(t, s.RecordStationEvents(ctx, model.StationEvent{StationID: st2.ID, Kind: model.EventNotify, Payload: "{\"bad\":\"\x00\"}"}))
	last := must(s.ListStationEvents(ctx, StationEventFilter{Limit: 1}))(t)
	if len(last) != 1 || last[0].ReceivedAt.IsZero() || !last[0].Timestamp.Equal(last[0].ReceivedAt) || strings.Contains(last[0].Payload, "\x00") {
		t.Errorf("defaults: %+v", last)
	}
}

func testMeterStartUnknown(t *testing.T, h *harness) {
	ctx := context.Background()
	s := h.open(Options{})
	_, st := fixture(t, s)
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	start := func(conn int, trx string) model.Session {
		t.Helper()
		x, created, err := s.StartSession(ctx, StartSessionParams{StationID: st.ID, ConnectorID: conn, TransactionID: trx,
			StartedAt: t0, MeterStartWh: 123, MeterStartUnknown: true})
		check(t, err)
		if !created || !x.MeterStartUnknown || x.MeterStartWh != 0 {
			t.Fatalf("started %+v", x)
		}
		return x
	}
	mv := func(ses model.Session, at time.Duration, wh *float64) model.MeterValue {
		return model.MeterValue{StationID: st.ID, ConnectorID: ses.ConnectorID, SessionID: ses.ID, TransactionID: ses.TransactionID,
			Timestamp: t0.Add(at), EnergyWh: wh}
	}
	energy := func(id string) int64 { t.Helper(); return must(s.GetSession(ctx, "", id))(t).EnergyWh }

	// live energy: latest − earliest reading
	a := start(1, "trx-a")
	if got := must(s.GetSession(ctx, "", a.ID))(t); !reflect.DeepEqual(got, a) {
		t.Errorf("GetSession = %+v, want %+v", got, a)
	}
	if e := energy(a.ID); e != 0 {
		t.Errorf("live energy without readings = %d", e)
	}
	check(t, s.AppendMeterValues(ctx, []model.MeterValue{
		mv(a, 2*time.Minute, ptr(5200.4)),
		mv(a, time.Minute, ptr(5000.0)), // the earliest, delivered late
		mv(a, 3*time.Minute, nil),
	}))
	if e := energy(a.ID); e != 200 {
		t.Errorf("live energy = %d, want 200", e)
	}
	if l := must(s.ListActiveSessions(ctx, st.ID))(t); len(l) != 1 || l[0].EnergyWh != 200 || !l[0].MeterStartUnknown {
		t.Errorf("ListActiveSessions = %+v", l)
	}
	if x := must(s.ActiveSession(ctx, st.ID, 1))(t); x.EnergyWh != 200 {
		t.Errorf("ActiveSession = %+v", x)
	}

	// SetSessionMeterStart: only while unknown
	if !must(s.SetSessionMeterStart(ctx, a.ID, 4900))(t) {
		t.Error("SetSessionMeterStart changed nothing")
	}
	if must(s.SetSessionMeterStart(ctx, a.ID, 1))(t) {
		t.Error("SetSessionMeterStart changed a known start")
	}
	if must(s.SetSessionMeterStart(ctx, "ses_nope", 1))(t) {
		t.Error("SetSessionMeterStart changed an unknown session")
	}
	got := must(s.GetSession(ctx, "", a.ID))(t)
	if got.MeterStartUnknown || got.MeterStartWh != 4900 || got.EnergyWh != 300 {
		t.Errorf("after SetSessionMeterStart: %+v", got)
	}
	x, _, err := s.StopSession(ctx, StopSessionParams{StationID: st.ID, TransactionID: a.TransactionID, StoppedAt: t0.Add(time.Hour)})
	check(t, err)
	if x.MeterStartWh != 4900 || *x.MeterStopWh != 5200 || x.EnergyWh != 300 || x.MeterStartUnknown {
		t.Errorf("stop after SetSessionMeterStart: %+v", x)
	}
	known, _, err := s.StartSession(ctx, StartSessionParams{StationID: st.ID, ConnectorID: 9, StartedAt: t0, MeterStartWh: 10})
	check(t, err)
	if known.MeterStartUnknown || must(s.SetSessionMeterStart(ctx, known.ID, 1))(t) {
		t.Errorf("a known start: %+v", known)
	}

	// stop with readings: the start becomes the earliest reading
	b := start(2, "trx-b")
	check(t, s.AppendMeterValues(ctx, []model.MeterValue{mv(b, 5*time.Minute, ptr(7400.0)), mv(b, time.Minute, ptr(7000.0))}))
	x, outcome, err := s.StopSession(ctx, StopSessionParams{StationID: st.ID, TransactionID: b.TransactionID, StoppedAt: t0.Add(time.Hour), MeterStopWh: ptr(int64(7500))})
	check(t, err)
	if outcome != Stopped || x.MeterStartUnknown || x.MeterStartWh != 7000 || *x.MeterStopWh != 7500 || x.EnergyWh != 500 {
		t.Errorf("stop with readings: %+v", x)
	}
	if got := must(s.GetSession(ctx, "", b.ID))(t); !reflect.DeepEqual(got, x) {
		t.Errorf("GetSession after stop = %+v, want %+v", got, x)
	}
	c := start(3, "trx-c")
	check(t, s.AppendMeterValues(ctx, []model.MeterValue{mv(c, time.Minute, ptr(100.0)), mv(c, 5*time.Minute, ptr(400.0))}))
	x, _, err = s.StopSession(ctx, StopSessionParams{StationID: st.ID, TransactionID: c.TransactionID, StoppedAt: t0.Add(time.Hour)})
	check(t, err)
	if x.MeterStartUnknown || x.MeterStartWh != 100 || *x.MeterStopWh != 400 || x.EnergyWh != 300 {
		t.Errorf("stop with readings, nil meter stop: %+v", x)
	}

	// stop without readings: the start becomes the meter stop, energy 0
	d := start(4, "trx-d")
	x, _, err = s.StopSession(ctx, StopSessionParams{StationID: st.ID, TransactionID: d.TransactionID, StoppedAt: t0.Add(time.Hour), MeterStopWh: ptr(int64(9000))})
	check(t, err)
	if x.MeterStartUnknown || x.MeterStartWh != 9000 || *x.MeterStopWh != 9000 || x.EnergyWh != 0 {
		t.Errorf("stop without readings: %+v", x)
	}
	if must(s.SetSessionMeterStart(ctx, d.ID, 1))(t) {
		t.Error("SetSessionMeterStart after the stop fixed the start")
	}

	// an estimated stop knowing nothing leaves the start unknown, so that
	// the station's own stop still works it out
	e := start(5, "trx-e")
	x, _, err = s.StopSession(ctx, StopSessionParams{StationID: st.ID, TransactionID: e.TransactionID, StoppedAt: t0.Add(time.Hour), Source: model.StopSourceEstimated})
	check(t, err)
	if !x.MeterStartUnknown || x.EnergyWh != 0 || x.Status != model.SessionCompleted {
		t.Errorf("estimated stop without readings: %+v", x)
	}
	check(t, s.AppendMeterValues(ctx, []model.MeterValue{mv(e, 10*time.Minute, ptr(11000.0))})) // delivered late
	x, outcome, err = s.StopSession(ctx, StopSessionParams{StationID: st.ID, TransactionID: e.TransactionID, StoppedAt: t0.Add(30 * time.Minute), MeterStopWh: ptr(int64(12000))})
	check(t, err)
	if outcome != Corrected || x.MeterStartUnknown || x.MeterStartWh != 11000 || x.EnergyWh != 1000 {
		t.Errorf("correction of an estimated stop: %v %+v", outcome, x)
	}
	// … or SetSessionMeterStart does (the placeholder stop moves along)
	f := start(6, "trx-f")
	_, _, err = s.StopSession(ctx, StopSessionParams{StationID: st.ID, TransactionID: f.TransactionID, StoppedAt: t0.Add(time.Hour), Source: model.StopSourceEstimated})
	check(t, err)
	if !must(s.SetSessionMeterStart(ctx, f.ID, 3000))(t) {
		t.Error("SetSessionMeterStart on a completed session with an unknown start")
	}
	x, outcome, err = s.StopSession(ctx, StopSessionParams{StationID: st.ID, TransactionID: f.TransactionID, StoppedAt: t0.Add(time.Hour), MeterStopWh: ptr(int64(3250))})
	check(t, err)
	if outcome != Corrected || x.MeterStartWh != 3000 || x.EnergyWh != 250 {
		t.Errorf("correction after SetSessionMeterStart: %v %+v", outcome, x)
	}

	// superseded by a new start on the connector: closed as estimated from
	// its readings
	g := start(7, "trx-g")
	check(t, s.AppendMeterValues(ctx, []model.MeterValue{mv(g, time.Minute, ptr(300.0)), mv(g, 2*time.Minute, ptr(800.0))}))
	_, _, err = s.StartSession(ctx, StartSessionParams{StationID: st.ID, ConnectorID: 7, TransactionID: "trx-g2", StartedAt: t0.Add(time.Hour), MeterStartUnknown: true})
	check(t, err)
	got = must(s.GetSession(ctx, "", g.ID))(t)
	if got.Status != model.SessionCompleted || got.StopSource != model.StopSourceEstimated || got.MeterStartUnknown ||
		got.MeterStartWh != 300 || *got.MeterStopWh != 800 || got.EnergyWh != 500 {
		t.Errorf("superseded: %+v", got)
	}
}

// testMigrateDown takes the schema back to version 1 and up again, with
// data in it, on a store in use.
func testMigrateDown(t *testing.T, h *harness) {
	ctx := context.Background()
	s := h.open(Options{})
	_, st := fixture(t, s)
	ses, _, err := s.StartSession(ctx, StartSessionParams{StationID: st.ID, ConnectorID: 1, TransactionID: "trx", MeterStartUnknown: true})
	check(t, err)
	check(t, s.UpsertStationVariables(ctx, st.ID, []model.StationVariable{{Component: "C", Variable: "V", Value: "1"}}))
	check(t, s.RecordStationEvents(ctx, model.StationEvent{StationID: st.ID, Kind: model.EventSecurity}))
	_, err = s.RecordTransactionEvent(ctx, model.TransactionEvent{StationID: st.ID, TransactionID: "trx", EventType: "Started"})
	check(t, err)

	p := must(s.migrations())(t)
	must(p.DownTo(ctx, 1))(t)
	if v := must(p.GetDBVersion(ctx))(t); v != 1 {
		t.Fatalf("version after DownTo(1) = %d", v)
	}
	for _, q := range []string{`SELECT meter_start_unknown FROM sessions`, `SELECT 1 FROM transaction_events`,
		`SELECT 1 FROM station_variables`, `SELECT 1 FROM station_events`} {
		if _, err := s.wdb.ExecContext(ctx, q); err == nil {
			t.Errorf("%s: still there after the down migration", q)
		}
	}
	var n int
	check(t, s.wdb.QueryRowContext(ctx, `SELECT count(*) FROM sessions WHERE id = $1`, ses.ID).Scan(&n))
	if n != 1 {
		t.Errorf("session lost by the down migration")
	}

	must(p.Up(ctx))(t)
	// Up re-applies 00002 and every later migration.
	srcs := p.ListSources()
	if v := must(p.GetDBVersion(ctx))(t); v != srcs[len(srcs)-1].Version {
		t.Fatalf("version after Up = %d", v)
	}
	got := must(s.GetSession(ctx, "", ses.ID))(t)
	if got.MeterStartUnknown {
		t.Errorf("the re-added column is not false: %+v", got)
	}
	if l := must(s.ListStationVariables(ctx, st.ID, VariableFilter{}))(t); len(l) != 0 {
		t.Errorf("variables survived the down migration: %+v", l)
	}
	dup, err := s.RecordTransactionEvent(ctx, model.TransactionEvent{StationID: st.ID, TransactionID: "trx", EventType: "Started"})
	check(t, err)
	if dup {
		t.Error("transaction events survived the down migration")
	}
}

func testAppendTransactionEvent(t *testing.T, h *harness) {
	ctx := context.Background()
	s := h.open(Options{})
	_, st := fixture(t, s)
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	wh := func(v float64) *float64 { return &v }
	mv := func(min int, e float64) model.MeterValue {
		return model.MeterValue{StationID: st.ID, ConnectorID: 1, TransactionID: "trx-a", Timestamp: t0.Add(time.Duration(min) * time.Minute),
			EnergyWh: wh(e), Samples: []model.SampledValue{{Value: strconv.FormatFloat(e, 'f', -1, 64), Measurand: "Energy.Active.Import.Register"}}}
	}
	ev := model.TransactionEvent{StationID: st.ID, TransactionID: "trx-a", SeqNo: 1, EventType: "Updated",
		TriggerReason: "MeterValuePeriodic", ChargingState: "Charging", Timestamp: t0}
	// Many stations' events at once share batches with plain meter values.
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e := ev
			e.TransactionID = "trx-" + strconv.Itoa(i)
			m := mv(i, float64(1000+i))
			m.TransactionID = e.TransactionID
			check(t, s.AppendTransactionEvent(ctx, e, []model.MeterValue{m}, false))
			check(t, s.AppendMeterValues(ctx, []model.MeterValue{mv(i, 5)}))
		}()
	}
	wg.Wait()
	check(t, s.AppendTransactionEvent(ctx, ev, []model.MeterValue{mv(1, 1500), mv(2, 1600)}, false))
	// The event row is a replay-safe append: a second copy is skipped.
	check(t, s.AppendTransactionEvent(ctx, ev, nil, false))
	evs := must(s.ListTransactionEvents(ctx, st.ID, "trx-a"))(t)
	if len(evs) != 1 || evs[0].SeqNo != 1 || evs[0].ChargingState != "Charging" {
		t.Fatalf("events: %+v", evs)
	}
	for i := range 20 {
		if evs := must(s.ListTransactionEvents(ctx, st.ID, "trx-"+strconv.Itoa(i)))(t); len(evs) != 1 {
			t.Fatalf("trx-%d: %d events", i, len(evs))
		}
	}
	// A periodic reading is stored as its meter values only, with the seqNo.
	sess, _, err := s.StartSession(ctx, StartSessionParams{StationID: st.ID, ConnectorID: 1, TransactionID: "trx-p", StartedAt: t0})
	check(t, err)
	periodic := ev
	periodic.TransactionID, periodic.SeqNo = "trx-p", 7
	m := mv(3, 2000)
	m.TransactionID, m.SessionID = "trx-p", sess.ID
	check(t, s.AppendTransactionEvent(ctx, periodic, []model.MeterValue{m}, true))
	if evs := must(s.ListTransactionEvents(ctx, st.ID, "trx-p"))(t); len(evs) != 0 {
		t.Errorf("a periodic reading was recorded as an event: %+v", evs)
	}
	started := ev
	started.TransactionID, started.SeqNo, started.EventType = "trx-p", 0, "Started"
	check(t, s.AppendTransactionEvent(ctx, started, nil, false))
	seqs := must(s.TransactionSeqNos(ctx, st.ID, "trx-p", sess.ID))(t)
	slices.Sort(seqs)
	if !slices.Equal(seqs, []int{0, 7}) {
		t.Errorf("seqNos %v, want [0 7]", seqs)
	}
	if err := s.AppendTransactionEvent(ctx, model.TransactionEvent{StationID: st.ID}, nil, false); err == nil {
		t.Error("an event without a transaction id was accepted")
	}
}
