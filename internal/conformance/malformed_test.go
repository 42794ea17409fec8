package conformance

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/chargestar/chargestar/internal/ocpp/ocppj"
	"github.com/chargestar/chargestar/internal/servertest"
)

// Bad and unusual station input: every rule of the OCPP-J 1.6 RPC
// framework the Central System must apply, and what real stations send.

// drainRaw discards the frames received so far.
func drainRaw(st *servertest.Station) {
	for {
		if _, ok := st.NextRaw(30 * time.Millisecond); !ok {
			return
		}
	}
}

// nextFrame returns the next frame received, parsed.
func nextFrame(t *testing.T, st *servertest.Station) (ocppj.Frame, string) {
	t.Helper()
	raw, ok := st.NextRaw(wait)
	if !ok {
		t.Fatalf("%s: no frame from the server within %s", st.ID, wait)
	}
	f, err := ocppj.Parse([]byte(raw))
	if err != nil {
		t.Fatalf("%s: the server sent an invalid frame %q: %v", st.ID, raw, err)
	}
	return f, raw
}

// sessionsSnapshot is the station's sessions as the API shows them.
func (e *env) sessionsSnapshot(id string) []session {
	e.t.Helper()
	ss := e.sessions(id)
	if len(ss) == 0 {
		e.t.Fatalf("no sessions to protect")
	}
	return ss
}

func TestMalformedFrames(t *testing.T) {
	t.Parallel()
	const maxSize = 2048
	e := newEnv(t, servertest.Options{MaxMessageSize: maxSize})
	e.addTokens()
	st := e.bootedStation("CPBAD", 2)

	// Stored state to protect: a completed session and an active one.
	t0 := base()
	tx1 := charging(t, st, 1, validTag, 1000, t0)
	energyMV(t, st, 1, tx1, 1500, t0.Add(5*time.Minute))
	stopTx(t, st, tx1, 2000, t0.Add(10*time.Minute), validTag, "Local", "")
	status(t, st, 1, "Available")
	tx2 := charging(t, st, 2, validTag2, 5000, t0.Add(20*time.Minute))
	energyMV(t, st, 2, tx2, 5600, t0.Add(25*time.Minute))
	before := e.sessionsSnapshot("CPBAD")
	connBefore := e.station("CPBAD").Connectors

	long21 := strings.Repeat("X", 21)
	big := fmt.Sprintf(`[2,"oversized-1","DataTransfer",{"vendorId":"com.example","data":%q}]`, strings.Repeat("x", 2*maxSize))
	cases := []struct {
		name   string
		frame  string
		wantID string // "" : the frame must be ignored
		code   string
	}{
		// Not valid JSON: FormationViolation, answered to the id when it can be read.
		{"invalid JSON, id readable", `[2,"bad-json-1","Heartbeat",{"a":]`, "bad-json-1", "FormationViolation"},
		{"invalid JSON, truncated payload", `[2,"bad-json-2","StatusNotification",{"connectorId":1,`, "bad-json-2", "FormationViolation"},
		{"invalid JSON, id unreadable", `[2,"bad-js`, "-1", "FormationViolation"},
		{"not JSON at all", `hello, central system`, "-1", "FormationViolation"},
		{"payload not an object", `[2,"bad-payload-1","Heartbeat",["a"]]`, "bad-payload-1", "FormationViolation"},
		{"nesting too deep", `[2,"deep-1","DataTransfer",{"vendorId":"x","data":"y","z":` + strings.Repeat(`[`, 200) + strings.Repeat(`]`, 200) + `}]`, "deep-1", "FormationViolation"},
		// Valid JSON, not an OCPP-J frame: answered with "-1" when the id cannot be read.
		{"message id not a string", `[2,5,"Heartbeat",{}]`, "-1", ""},
		{"action missing", `[2,"no-action"]`, "no-action", ""},

		// Valid frames whose payload violates the action's schema.
		{"bad enum value", `[2,"prop-1","StatusNotification",{"connectorId":1,"errorCode":"NoError","status":"Charged"}]`, "prop-1", "PropertyConstraintViolation"},
		{"bad enum in a nested array", fmt.Sprintf(`[2,"prop-2","MeterValues",{"connectorId":2,"transactionId":%d,"meterValue":[{"timestamp":%q,"sampledValue":[{"value":"9999","unit":"Kwh"}]}]}]`, tx2, ts(time.Now())), "prop-2", "PropertyConstraintViolation"},
		{"string too long", `[2,"prop-3","Authorize",{"idTag":"` + long21 + `"}]`, "prop-3", "PropertyConstraintViolation"},
		{"string too long at boot", `[2,"prop-4","BootNotification",{"chargePointVendor":"` + long21 + `","chargePointModel":"M"}]`, "prop-4", "PropertyConstraintViolation"},
		{"string for an integer", `[2,"type-1","StatusNotification",{"connectorId":"1","errorCode":"NoError","status":"Available"}]`, "type-1", "TypeConstraintViolation"},
		{"string for an integer in a start", fmt.Sprintf(`[2,"type-2","StartTransaction",{"connectorId":1,"idTag":%q,"meterStart":"100","timestamp":%q}]`, validTag, ts(time.Now())), "type-2", "TypeConstraintViolation"},
		{"object for a string", `[2,"type-3","Authorize",{"idTag":{"id":"x"}}]`, "type-3", "TypeConstraintViolation"},
		{"required field missing", `[2,"occ-1","StatusNotification",{"connectorId":1,"errorCode":"NoError"}]`, "occ-1", "OccurenceConstraintViolation"},
		{"required field missing in a stop", fmt.Sprintf(`[2,"occ-2","StopTransaction",{"meterStop":1,"timestamp":%q}]`, ts(time.Now())), "occ-2", "OccurenceConstraintViolation"},
		{"required field missing at boot", `[2,"occ-3","BootNotification",{"chargePointVendor":"V"}]`, "occ-3", "OccurenceConstraintViolation"},

		// Actions.
		{"unknown action", `[2,"act-1","MakeCoffee",{}]`, "act-1", "NotImplemented"},
		{"Central System action sent by the station: Reset", `[2,"act-2","Reset",{"type":"Hard"}]`, "act-2", "NotSupported"},
		{"Central System action sent by the station: RemoteStopTransaction", fmt.Sprintf(`[2,"act-3","RemoteStopTransaction",{"transactionId":%d}]`, tx2), "act-3", "NotSupported"},

		// OCPP-J 1.6 §4.1.3: an unknown message type is ignored.
		{"unknown message type 7", `[7,"mt-7","Heartbeat",{}]`, "", ""},
		{"unknown message type 5 (2.1 only)", `[5,"mt-5","GenericError","x",{}]`, "", ""},
		// An answer to a call never made is not answered.
		{"CALLRESULT for no call", `[3,"nobody-asked",{"status":"Accepted"}]`, "", ""},
		{"CALLERROR for no call", `[4,"nobody-asked-2","GenericError","",{}]`, "", ""},

		// Larger than the server's maximum: a CALLERROR, the connection stays up.
		{"oversized message", big, "oversized-1", ""},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := e.with(t)
			drainRaw(st)
			st.SendRaw(c.frame)
			// A heartbeat right behind it: the server handles frames in
			// order, so an answer to the bad frame would come first.
			hbID := fmt.Sprintf("hb-after-%d", i)
			st.SendRaw(fmt.Sprintf(`[2,%q,"Heartbeat",{}]`, hbID))
			f, raw := nextFrame(t, st)
			if c.wantID == "" {
				if f.Type != ocppj.TypeCallResult || f.ID != hbID {
					t.Fatalf("the frame must be ignored, but the server sent %s", raw)
				}
			} else {
				if f.Type != ocppj.TypeCallError || f.ID != c.wantID || (c.code != "" && f.ErrorCode != c.code) {
					t.Fatalf("want CALLERROR %s for id %q, got %s", c.code, c.wantID, raw)
				}
				t.Logf("answered %s", raw)
				if f.ErrorDetails != nil && !json.Valid(f.ErrorDetails) {
					t.Fatalf("error details not JSON: %s", raw)
				}
				if f, raw = nextFrame(t, st); f.Type != ocppj.TypeCallResult || f.ID != hbID {
					t.Fatalf("the connection must keep working after the bad frame; got %s", raw)
				}
			}
			if st.Closed() {
				t.Fatalf("the server closed the connection")
			}
			// Nothing stored is harmed.
			if after := e.sessions("CPBAD"); !reflect.DeepEqual(after, before) {
				t.Fatalf("sessions changed:\nbefore %v\nafter  %v", before, after)
			}
			if after := e.station("CPBAD").Connectors; !reflect.DeepEqual(after, connBefore) {
				t.Fatalf("connectors changed:\nbefore %+v\nafter  %+v", connBefore, after)
			}
		})
	}
	// And the station can go on charging.
	energyMV(t, st, 2, tx2, 6000, t0.Add(30*time.Minute))
	stopTx(t, st, tx2, 6100, t0.Add(35*time.Minute), validTag2, "Local", "")
	wantCompleted(t, e.sessionOf("CPBAD", tx2), t0.Add(20*time.Minute), t0.Add(35*time.Minute), 1100, "Local")
}

func TestMalformedBeforeBootNotification(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	e.addTokens()
	e.addStation("CPNEW")
	st := e.connect("CPNEW") // registered, never booted

	for _, c := range []struct{ action, payload string }{
		{"Heartbeat", `{}`},
		{"StatusNotification", `{"connectorId":1,"errorCode":"NoError","status":"Available"}`},
		{"Authorize", fmt.Sprintf(`{"idTag":%q}`, validTag)},
		{"StartTransaction", fmt.Sprintf(`{"connectorId":1,"idTag":%q,"meterStart":0,"timestamp":%q}`, validTag, ts(time.Now()))},
		{"MeterValues", fmt.Sprintf(`{"connectorId":1,"meterValue":[{"timestamp":%q,"sampledValue":[{"value":"1"}]}]}`, ts(time.Now()))},
		{"DataTransfer", `{"vendorId":"com.example"}`},
	} {
		st.CallError(c.action, c.payload, "SecurityError")
	}
	if ss := e.sessions("CPNEW"); len(ss) != 0 {
		t.Fatalf("a StartTransaction before the boot created sessions: %v", ss)
	}
	if v := e.station("CPNEW"); len(v.Connectors) != 0 {
		t.Fatalf("a StatusNotification before the boot was stored: %+v", v.Connectors)
	}
	st.Boot()
	heartbeatOK(t, st)
	status(t, st, 1, "Available")
	e.wantConnector("CPNEW", 1, "Available", "")
}

func TestMalformedCelsiusSpellings(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	e.addTokens()
	st := e.bootedStation("CPTEMP", 1)
	t0 := base()
	txID := charging(t, st, 1, validTag, 100, t0)

	sample := func(unit string, at time.Time, wh int) string {
		return fmt.Sprintf(`{"timestamp":%q,"sampledValue":[{"value":"%d","measurand":"Energy.Active.Import.Register","unit":"Wh"},`+
			`{"value":"31.5","measurand":"Temperature","location":"Body","unit":%q}]}`, ts(at), wh, unit)
	}
	for i, unit := range []string{"Celsius", "Celcius"} {
		st.CallOK("MeterValues", fmt.Sprintf(`{"connectorId":1,"transactionId":%d,"meterValue":[%s]}`, txID, sample(unit, t0.Add(time.Duration(i+1)*time.Minute), 200+100*i)))
	}
	stopTx(t, st, txID, 900, t0.Add(10*time.Minute), validTag, "Local",
		`,"transactionData":[`+sample("Celcius", t0.Add(9*time.Minute), 800)+`,`+sample("Celsius", t0.Add(10*time.Minute), 900)+`]`)
	s := e.sessionOf("CPTEMP", txID)
	wantCompleted(t, s, t0, t0.Add(10*time.Minute), 800, "Local")

	var mvs struct {
		Items []struct {
			EnergyWh *float64 `json:"energy_wh"`
			Samples  []struct {
				Unit string `json:"unit"`
			} `json:"samples"`
		} `json:"items"`
	}
	e.getJSON("/api/v1/sessions/"+s.ID+"/meter-values", &mvs)
	units := map[string]int{}
	for _, mv := range mvs.Items {
		for _, sv := range mv.Samples {
			units[sv.Unit]++
		}
	}
	if len(mvs.Items) != 4 || units["Celsius"] != 2 || units["Celcius"] != 2 {
		t.Fatalf("stored meter values: %d, units %v; want 4 with both spellings kept twice", len(mvs.Items), units)
	}
}

func TestMalformedTimestampShapes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	e.addTokens()
	st := e.bootedStation("CPTIME", 6)
	at := time.Now().UTC().Add(-2 * time.Hour).Truncate(time.Second)
	d, c := at.Format("2006-01-02"), at.Format("15:04:05")
	plus1 := at.Add(time.Hour).Format("15:04:05") // the same instant at +01:00
	shapes := []struct {
		text string
		want time.Time
	}{
		{d + "T" + c, at},                // no zone: UTC
		{d + "T" + plus1 + "+0100", at},  // +hhmm offset
		{d + "T" + plus1 + "+01:00", at}, // +hh:mm offset
		{d + "T" + c + ".5Z", at.Add(500 * time.Millisecond)},
		{d + "T" + c + ".123456789123Z", at.Add(123456789 * time.Nanosecond)}, // more digits than nanoseconds
		{d + " " + c + "Z", at},                                               // space separator
	}
	for i, s := range shapes {
		connector := i + 1
		tag := fmt.Sprintf("TIME-TAG-%d", i)
		e.addToken(tag, "Accepted")
		status(t, st, connector, "Preparing")
		m := st.CallOK("StartTransaction", fmt.Sprintf(`{"connectorId":%d,"idTag":%q,"meterStart":0,"timestamp":%q}`, connector, tag, s.text))
		txID := int(m["transactionId"].(float64))
		st.CallOK("MeterValues", fmt.Sprintf(`{"connectorId":%d,"transactionId":%d,"meterValue":[{"timestamp":%q,"sampledValue":[{"value":"10"}]}]}`, connector, txID, s.text))
		st.CallOK("StatusNotification", fmt.Sprintf(`{"connectorId":%d,"errorCode":"NoError","status":"Charging","timestamp":%q}`, connector, s.text))
		stop := st.CallOK("StopTransaction", fmt.Sprintf(`{"transactionId":%d,"meterStop":20,"timestamp":%q}`, txID, s.text))
		if stop == nil {
			t.Fatalf("shape %q: no stop answer", s.text)
		}
		got := e.sessionOf("CPTIME", txID)
		if !got.StartedAt.Equal(s.want.Truncate(time.Microsecond)) && !got.StartedAt.Equal(s.want) {
			t.Errorf("timestamp %q: started_at %s, want %s", s.text, got.StartedAt.Format(time.RFC3339Nano), s.want.Format(time.RFC3339Nano))
		}
		if got.StoppedAt == nil || got.StoppedAt.Sub(s.want).Abs() > time.Millisecond {
			t.Errorf("timestamp %q: stopped_at %v, want %s", s.text, got.StoppedAt, s.want.Format(time.RFC3339Nano))
		}
	}
}

func TestMalformedReplays(t *testing.T) {
	t.Parallel()
	replayScenario(t, servertest.Options{})
}

// replayScenario: a station that did not get an answer sends the same
// StartTransaction again (new message id); the Central System answers the
// same transactionId and keeps one session. A StopTransaction sent twice,
// even with different values, is accepted and changes nothing.
func replayScenario(t *testing.T, opts servertest.Options) {
	e := newEnv(t, opts)
	e.addTokens()
	st := e.bootedStation("CPREPLAY", 1)
	t0 := base()
	status(t, st, 1, "Preparing")
	start := fmt.Sprintf(`{"connectorId":1,"idTag":%q,"meterStart":700,"timestamp":%q}`, validTag, ts(t0))
	a := st.CallOK("StartTransaction", start)
	b := st.CallOK("StartTransaction", start)
	if a["transactionId"] != b["transactionId"] {
		t.Fatalf("replayed StartTransaction: transactionId %v then %v, want the same", a["transactionId"], b["transactionId"])
	}
	if idTagStatus(t, a) != "Accepted" || idTagStatus(t, b) != "Accepted" {
		t.Fatalf("replayed StartTransaction: %v then %v; want Accepted both times (not ConcurrentTx)", a, b)
	}
	txID := int(a["transactionId"].(float64))
	// The same message id again, as some stations retry.
	c := st.CallID("replay-same-id", "StartTransaction", start)
	d := st.CallID("replay-same-id", "StartTransaction", start)
	for _, f := range []ocppj.Frame{c, d} {
		var m map[string]any
		if f.Type != ocppj.TypeCallResult || json.Unmarshal(f.Payload, &m) != nil || m["transactionId"] != float64(txID) {
			t.Fatalf("replayed StartTransaction with the same message id: %d %s %s", f.Type, f.ErrorCode, f.Payload)
		}
	}
	if ss := e.sessions("CPREPLAY"); len(ss) != 1 {
		t.Fatalf("sessions after replayed starts: %v, want one", ss)
	}
	status(t, st, 1, "Charging")
	energyMV(t, st, 1, txID, 1700, t0.Add(10*time.Minute))

	stop := fmt.Sprintf(`{"transactionId":%d,"idTag":%q,"meterStop":2700,"timestamp":%q,"reason":"Local"}`, txID, validTag, ts(t0.Add(20*time.Minute)))
	st.CallOK("StopTransaction", stop)
	first := e.sessionOf("CPREPLAY", txID)
	wantCompleted(t, first, t0, t0.Add(20*time.Minute), 2000, "Local")
	if m := st.CallOK("StopTransaction", stop); idTagStatus(t, m) != "Accepted" {
		t.Fatalf("replayed StopTransaction: %v", m)
	}
	st.CallOK("StopTransaction", fmt.Sprintf(`{"transactionId":%d,"meterStop":9999,"timestamp":%q,"reason":"Other"}`, txID, ts(t0.Add(50*time.Minute))))
	if again := e.sessionOf("CPREPLAY", txID); !reflect.DeepEqual(again, first) {
		t.Fatalf("a repeated stop changed the session:\nbefore %v\nafter  %v", first, again)
	}
	// A replay of the start after the stop does not reopen the session.
	if m := st.CallOK("StartTransaction", start); m["transactionId"] != float64(txID) {
		t.Fatalf("start replayed after the stop: %v, want transactionId %d", m, txID)
	}
	if again := e.sessionOf("CPREPLAY", txID); again.Status != "completed" || len(e.sessions("CPREPLAY")) != 1 {
		t.Fatalf("a start replayed after the stop changed the sessions: %v", e.sessions("CPREPLAY"))
	}
}

func TestMalformedStatusOutOfOrder(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	st := e.bootedStation("CPORDER", 1)
	t1 := time.Now().UTC().Truncate(time.Millisecond)

	statusAt(t, st, 1, "Charging", "NoError", t1)
	// A queued notification from before arrives late: it must not win.
	statusAt(t, st, 1, "Preparing", "NoError", t1.Add(-time.Minute))
	cv := e.connector("CPORDER", 1)
	if cv.Status != "Charging" || !cv.StatusAt.Equal(t1) {
		t.Fatalf("connector after a late older status: %+v, want Charging at %s", cv, ts(t1))
	}
	statusAt(t, st, 1, "Faulted", "GroundFailure", t1.Add(-30*time.Second))
	e.wantConnector("CPORDER", 1, "Charging", "NoError")
	statusAt(t, st, 1, "Finishing", "NoError", t1.Add(time.Second))
	e.wantConnector("CPORDER", 1, "Finishing", "NoError")

	// Every notification is kept in the history, in station time order.
	var evs struct {
		Items []struct {
			ConnectorID int    `json:"connector_id"`
			Status      string `json:"status"`
		} `json:"items"`
	}
	e.getJSON("/api/v1/stations/CPORDER/status-events?since="+ts(t1.Add(-time.Hour)), &evs)
	var got []string
	for _, ev := range evs.Items {
		if ev.ConnectorID == 1 {
			got = append(got, ev.Status)
		}
	}
	// Available is the boot's report, just before t1.
	want := []string{"Preparing", "Faulted", "Available", "Charging", "Finishing"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("status history of connector 1: %v, want %v", got, want)
	}
}

func TestMalformedDisconnectDuringCommand(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{CallTimeout: 2 * time.Second})
	st := e.bootedStation("CPDROP", 1)

	ch := e.command("CPDROP", "Reset", `{"type":"Soft"}`)
	st.ExpectCall("Reset", wait)
	began := time.Now()
	st.Drop() // the station loses its network instead of answering
	r := e.await(ch)
	if r.Code != http.StatusConflict && r.Code != http.StatusGatewayTimeout {
		t.Fatalf("API answer when the station drops mid-call: %d %s, want 409 or 504", r.Code, r.Body)
	}
	if took := time.Since(began); took > 3*time.Second {
		t.Fatalf("the API took %s to notice the station had gone", took)
	}
	t.Logf("API answered %d after %s", r.Code, time.Since(began).Round(time.Millisecond))
	e.waitDisconnected("CPDROP")
	if v := e.station("CPDROP"); v.Connected {
		t.Fatalf("station still shown connected")
	}
	// Not connected: 409 at once.
	if r := e.await(e.command("CPDROP", "Reset", `{"type":"Soft"}`)); r.Code != http.StatusConflict {
		t.Fatalf("command to a disconnected station: %d %s, want 409", r.Code, r.Body)
	}
}

func TestMalformedCommandAnswers(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{CallTimeout: 500 * time.Millisecond})
	st := e.bootedStation("CPCMD", 1)

	t.Run("station does not answer: 504", func(t *testing.T) {
		e := e.with(t)
		ch := e.command("CPCMD", "ClearCache", `{}`)
		st.ExpectCall("ClearCache", wait)
		if r := e.await(ch); r.Code != http.StatusGatewayTimeout {
			t.Fatalf("API: %d %s, want 504", r.Code, r.Body)
		}
	})
	t.Run("station answers CALLERROR: 502", func(t *testing.T) {
		e := e.with(t)
		ch := e.command("CPCMD", "ClearCache", `{}`)
		call := st.ExpectCall("ClearCache", wait)
		st.ReplyError(call, "NotImplemented", "no cache here")
		if r := e.await(ch); r.Code != http.StatusBadGateway || !strings.Contains(r.Body, "NotImplemented") {
			t.Fatalf("API: %d %s, want 502 naming NotImplemented", r.Code, r.Body)
		}
	})
	t.Run("invalid payload: 400, nothing sent", func(t *testing.T) {
		e := e.with(t)
		for _, c := range []struct{ action, body string }{
			{"Reset", `{"type":"Medium"}`},             // bad enum
			{"Reset", `{}`},                            // required field missing
			{"UnlockConnector", `{"connectorId":"1"}`}, // wrong type
			{"Reset", `{"type":"Hard","extra":true}`},  // unknown field
			{"Reset", `{"type":`},                      // not JSON
			{"BootNotification", `{}`},                 // sent by stations, not a command
			{"MakeCoffee", `{}`},                       // no such action
			{"ChangeConfiguration", `{"key":"` + strings.Repeat("k", 51) + `","value":"1"}`}, // too long
		} {
			if r := e.await(e.command("CPCMD", c.action, c.body)); r.Code != http.StatusBadRequest {
				t.Fatalf("%s %s: API %d %s, want 400", c.action, c.body, r.Code, r.Body)
			}
		}
		heartbeatOK(t, st) // nothing reached the station in between
		e.remoteStatus(st, "ClearCache", `{}`, `{"status":"Accepted"}`, "Accepted")
	})
	t.Run("late answer after a timeout is dropped", func(t *testing.T) {
		e := e.with(t)
		ch := e.command("CPCMD", "ClearCache", `{}`)
		call := st.ExpectCall("ClearCache", wait)
		if r := e.await(ch); r.Code != http.StatusGatewayTimeout {
			t.Fatalf("API: %d %s, want 504", r.Code, r.Body)
		}
		st.Reply(call, `{"status":"Accepted"}`)
		heartbeatOK(t, st)
		e.remoteStatus(st, "ClearCache", `{}`, `{"status":"Rejected"}`, "Rejected")
	})
}

func TestMalformedReconnectReplacesConnection(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	e.addTokens()
	old := e.bootedStation("CPTWICE", 1)
	t0 := base()
	txID := charging(t, old, 1, validTag, 0, t0)

	// The station reconnects (a new network path) while the server still
	// holds the old connection.
	st := e.connect("CPTWICE")
	old.WaitClosed(wait)
	heartbeatOK(t, st)
	if v := e.station("CPTWICE"); !v.Connected {
		t.Fatalf("station not shown connected after the reconnect")
	}
	// Commands go to the new connection.
	e.remoteStatus(st, "RemoteStopTransaction", fmt.Sprintf(`{"transactionId":%d}`, txID), `{"status":"Accepted"}`, "Accepted")
	// The open transaction is still known on the new connection.
	stopTx(t, st, txID, 500, t0.Add(time.Hour), "", "Remote", "")
	wantCompleted(t, e.sessionOf("CPTWICE", txID), t0, t0.Add(time.Hour), 500, "Remote")
	// The old connection's end did not unregister the new one.
	time.Sleep(50 * time.Millisecond)
	if !e.srv.CSMS.Connected("CPTWICE") {
		t.Fatalf("the old connection's close unregistered the new one")
	}
	heartbeatOK(t, st)
}
