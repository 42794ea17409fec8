package sim

import (
	"errors"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chargestar/chargestar/internal/ocpp"
	"github.com/chargestar/chargestar/internal/ocpp/ocppj"
	"github.com/chargestar/chargestar/internal/ocpp/v16"
	"github.com/chargestar/chargestar/internal/ocpp/v201"
	"github.com/chargestar/chargestar/internal/ocpp/v21"
)

// each2x runs a test once for OCPP 2.0.1 and once for 2.1, in parallel.
func each2x(t *testing.T, fn func(t *testing.T, version string)) {
	for _, v := range versions2x {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			fn(t, v)
		})
	}
}

// txEvents decodes the TransactionEvents among calls.
func txEvents(t *testing.T, calls []frame) []*txEventReq2 {
	t.Helper()
	var out []*txEventReq2
	for _, fr := range calls {
		if fr.action == "TransactionEvent" {
			out = append(out, decode2(t, fr, &txEventReq2{}))
		}
	}
	return out
}

// waitTxEvent waits for a TransactionEvent of the test's station that
// pred accepts and returns it.
func waitTxEvent(t *testing.T, f *fakeCSMS, what string, pred func(e *txEventReq2) bool) *txEventReq2 {
	t.Helper()
	var found *txEventReq2
	f.waitFor(t, 10*time.Second, what, func(calls []frame) bool {
		for _, e := range txEvents(t, calls) {
			if pred(e) {
				found = e
				return true
			}
		}
		return false
	})
	return found
}

// waitStatus2 waits until an EVSE's last StatusNotification is want.
func waitStatus2(t *testing.T, f *fakeCSMS, evse int, want string) {
	t.Helper()
	f.waitFor(t, 5*time.Second, "EVSE "+strconv.Itoa(evse)+" "+want, func(calls []frame) bool {
		for i := len(calls) - 1; i >= 0; i-- {
			if calls[i].action != "StatusNotification" {
				continue
			}
			if sn := decode2(t, calls[i], &statusNotificationReq2{}); sn.EVSEID == evse {
				return sn.ConnectorStatus == want
			}
		}
		return false
	})
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestBoot2xPendingThenAccepted(t *testing.T) {
	t.Parallel()
	each2x(t, func(t *testing.T, version string) {
		f := newFakeCSMS(t)
		f.bootSeq = []v16.RegistrationStatus{v16.RegistrationStatusPending}
		st := startStation(t, f, Config{Protocol: version, Connectors: 2})
		id := testStationID(t)
		f.waitCount(t, 5*time.Second, "Heartbeat", 1)
		all := f.calls(id)
		want := []string{"BootNotification", "BootNotification", "StatusNotification", "StatusNotification", "Heartbeat"}
		if len(all) < len(want) {
			t.Fatalf("calls:\n%s", describe(all))
		}
		for i, a := range want {
			if all[i].action != a {
				t.Fatalf("call %d is %s, want %s; calls:\n%s", i, all[i].action, a, describe(all))
			}
		}
		if gap := all[1].at.Sub(all[0].at); gap < 900*time.Millisecond {
			t.Errorf("second boot %v after the first, want the pending interval (1s)", gap)
		}
		boot := decode2(t, all[0], &bootReq2{})
		if cs := boot.ChargingStation; boot.Reason != "PowerUp" || cs.VendorName != "ChargeStar" || cs.Model != "Sim-22" ||
			cs.FirmwareVersion != "1.0.0" || cs.SerialNumber != trunc(id, 25) {
			t.Errorf("boot %+v", boot)
		}
		// One notification per EVSE (connector 1 of each), none for the station.
		for i, evse := range []int{1, 2} {
			sn := decode2(t, all[2+i], &statusNotificationReq2{})
			if sn.EVSEID != evse || sn.ConnectorID != 1 || sn.ConnectorStatus != "Available" || sn.Timestamp.IsZero() {
				t.Errorf("status notification %d: %+v", i, sn)
			}
		}
		if !st.Online() || st.Protocol() != version || f.version(id) != version {
			t.Errorf("online %v, protocol %s, negotiated %s", st.Online(), st.Protocol(), f.version(id))
		}
	})
}

// TestPending2xAnswersTheCSMS: while Pending the station answers the
// device-model commands and boots again when asked to.
func TestPending2xAnswersTheCSMS(t *testing.T) {
	t.Parallel()
	each2x(t, func(t *testing.T, version string) {
		f := newFakeCSMS(t)
		f.bootSeq = []v16.RegistrationStatus{v16.RegistrationStatusPending}
		f.bootInterval = 60 // the station would wait a minute before booting again
		startStation(t, f, Config{Protocol: version, Connectors: 2})
		id := testStationID(t)
		f.waitCount(t, 5*time.Second, "BootNotification", 1)

		var gv getVariablesResp2
		f.mustCall2(t, id, "GetVariables", `{"getVariableData":[{"component":{"name":"OCPPCommCtrlr"},"variable":{"name":"HeartbeatInterval"}},
			{"component":{"name":"NoSuchCtrlr"},"variable":{"name":"X"}}]}`, &gv)
		if len(gv.GetVariableResult) != 2 || gv.GetVariableResult[0].AttributeStatus != "Accepted" || gv.GetVariableResult[0].AttributeValue != "300" ||
			gv.GetVariableResult[1].AttributeStatus != "UnknownComponent" {
			t.Errorf("GetVariables: %+v", gv)
		}
		var sv setVariablesResp2
		f.mustCall2(t, id, "SetVariables", `{"setVariableData":[{"attributeValue":"30","component":{"name":"SampledDataCtrlr"},"variable":{"name":"TxUpdatedInterval"}}]}`, &sv)
		if len(sv.SetVariableResult) != 1 || sv.SetVariableResult[0].AttributeStatus != "Accepted" {
			t.Errorf("SetVariables: %+v", sv)
		}
		var rep statusResp2
		f.mustCall2(t, id, "GetBaseReport", `{"requestId":4,"reportBase":"FullInventory"}`, &rep)
		if rep.Status != "Accepted" {
			t.Fatalf("GetBaseReport: %+v", rep)
		}
		var reports []*notifyReportReq2
		f.waitFor(t, 5*time.Second, "the whole report", func(calls []frame) bool {
			reports = nil
			for _, fr := range calls {
				if fr.action == "NotifyReport" {
					reports = append(reports, decode2(t, fr, &notifyReportReq2{}))
				}
			}
			return len(reports) > 0 && !reports[len(reports)-1].Tbc
		})
		entries := 0
		for i, r := range reports {
			if r.SeqNo != i || r.RequestID != 4 || r.Tbc != (i < len(reports)-1) || len(r.ReportData) > reportItems {
				t.Errorf("report %d: seqNo %d requestId %d tbc %v, %d entries", i, r.SeqNo, r.RequestID, r.Tbc, len(r.ReportData))
			}
			for _, d := range r.ReportData {
				entries++
				if d.Component.Name == "SampledDataCtrlr" && d.Variable.Name == "TxUpdatedInterval" && d.VariableAttribute[0].Value != "30" {
					t.Errorf("reported %+v after setting it to 30", d)
				}
				if d.Variable.Name == "BasicAuthPassword" && d.VariableAttribute[0].Value != "" {
					t.Errorf("a write-only variable's value reported: %+v", d)
				}
			}
		}
		if len(reports) < 2 || entries < 60 {
			t.Errorf("%d reports with %d entries", len(reports), entries)
		}
		for _, fr := range f.calls(id) {
			if fr.action != "BootNotification" && fr.action != "NotifyReport" {
				t.Errorf("%s sent while pending", fr.action)
			}
		}

		// A triggered boot comes at once (not after the minute), with its reason.
		var tr statusResp2
		f.mustCall2(t, id, "TriggerMessage", `{"requestedMessage":"BootNotification"}`, &tr)
		if tr.Status != "Accepted" {
			t.Errorf("TriggerMessage BootNotification while pending: %s", tr.Status)
		}
		boots := f.waitCount(t, 3*time.Second, "BootNotification", 2)
		if r := decode2(t, boots[1], &bootReq2{}).Reason; r != "Triggered" {
			t.Errorf("triggered boot's reason %s", r)
		}
		f.waitCount(t, 5*time.Second, "StatusNotification", 2)
		f.mustCall2(t, id, "TriggerMessage", `{"requestedMessage":"BootNotification"}`, &tr)
		if tr.Status != "Rejected" {
			t.Errorf("TriggerMessage BootNotification once accepted: %s", tr.Status)
		}
	})
}

// TestSession2xMessageSequence: a driver's session as TransactionEvents.
func TestSession2xMessageSequence(t *testing.T) {
	t.Parallel()
	each2x(t, func(t *testing.T, version string) {
		f := newFakeCSMS(t)
		f.bootInterval = 60
		recs := make(chan SessionRecord, 4)
		startStation(t, f, Config{
			Protocol: version, Connectors: 1, Mode: ModeSessions, PowerKW: 3600, // 1 Wh per millisecond
			Idle: 20 * time.Millisecond, SessionDuration: 800 * time.Millisecond, MeterInterval: 100 * time.Millisecond,
			OnSession: func(r SessionRecord) { recs <- r },
		})
		id := testStationID(t)
		var rec SessionRecord
		select {
		case rec = <-recs:
		case <-time.After(10 * time.Second):
			t.Fatalf("no session completed; calls:\n%s", describe(f.calls(id)))
		}
		waitStatus2(t, f, 1, "Available")

		var seq []string
		var events []*txEventReq2
		for _, fr := range f.calls(id) {
			switch fr.action {
			case "StatusNotification":
				if len(seq) > 0 || decode2(t, fr, &statusNotificationReq2{}).ConnectorStatus == "Occupied" {
					seq = append(seq, "Status:"+decode2(t, fr, &statusNotificationReq2{}).ConnectorStatus)
				}
			case "Authorize":
				seq = append(seq, "Authorize")
				if a := decode2(t, fr, &authorizeReq2{}); a.IDToken != (idToken2{IDToken: DefaultIDTag(id, 1), Type: "ISO14443"}) {
					t.Errorf("authorize %+v", a)
				}
			case "TransactionEvent":
				e := decode2(t, fr, &txEventReq2{})
				if len(events) > 0 && e.TransactionInfo.TransactionID != events[0].TransactionInfo.TransactionID {
					continue // the next session
				}
				events = append(events, e)
				if s := "Tx:" + e.EventType; seq[len(seq)-1] != s || s != "Tx:Updated" {
					seq = append(seq, s)
				}
			}
			if len(seq) > 0 && seq[len(seq)-1] == "Status:Available" {
				break
			}
		}
		want := "Status:Occupied Authorize Tx:Started Tx:Updated Tx:Ended Status:Available"
		if got := strings.Join(seq, " "); got != want {
			t.Fatalf("sequence %s, want %s", got, want)
		}
		if len(events) < 7 {
			t.Errorf("%d events in an 800ms session metered every 100ms", len(events))
		}
		start, end := events[0], events[len(events)-1]
		txID := start.TransactionInfo.TransactionID
		if !uuidRE.MatchString(txID) {
			t.Errorf("transactionId %q is not a UUID", txID)
		}
		for i, e := range events {
			if e.SeqNo != i || e.Offline || e.TransactionInfo.TransactionID != txID {
				t.Errorf("event %d: seqNo %d offline %v transaction %s", i, e.SeqNo, e.Offline, e.TransactionInfo.TransactionID)
			}
		}
		if start.TriggerReason != "Authorized" || start.EVSE == nil || start.EVSE.ID != 1 || start.EVSE.ConnectorID == nil || *start.EVSE.ConnectorID != 1 ||
			start.IDToken == nil || *start.IDToken != (idToken2{IDToken: DefaultIDTag(id, 1), Type: "ISO14443"}) ||
			start.TransactionInfo.ChargingState != "Charging" || start.NumberOfPhasesUsed == nil || *start.NumberOfPhasesUsed != 3 {
			t.Errorf("started %+v", start)
		}
		energy := func(e *txEventReq2, context string) float64 {
			t.Helper()
			if len(e.MeterValue) != 1 {
				t.Fatalf("%s event with %d meter values", e.EventType, len(e.MeterValue))
			}
			for _, sv := range e.MeterValue[0].SampledValue {
				if sv.Context != context {
					t.Errorf("%s event: sampled value with context %s, want %s", e.EventType, sv.Context, context)
				}
				if sv.Measurand == "Energy.Active.Import.Register" {
					if sv.UnitOfMeasure == nil || sv.UnitOfMeasure.Unit != "Wh" {
						t.Errorf("energy unit %+v", sv.UnitOfMeasure)
					}
					return sv.Value
				}
			}
			t.Fatalf("%s event without the energy register", e.EventType)
			return 0
		}
		last := energy(start, "Transaction.Begin")
		first := last
		for _, e := range events[1 : len(events)-1] {
			if e.EventType != "Updated" || e.TriggerReason != "MeterValuePeriodic" {
				t.Errorf("updated %+v", e)
				continue
			}
			got := map[string]int{}
			for _, sv := range e.MeterValue[0].SampledValue {
				got[sv.Measurand]++
			}
			for m, n := range map[string]int{"Energy.Active.Import.Register": 1, "Power.Active.Import": 1, "Voltage": 3, "Current.Import": 3, "SoC": 1} {
				if got[m] != n {
					t.Errorf("update %d has %d %s samples, want %d", e.SeqNo, got[m], m, n)
				}
			}
			if v := energy(e, "Sample.Periodic"); v < last {
				t.Errorf("energy register went down: %v after %v", v, last)
			} else {
				last = v
			}
		}
		stop := energy(end, "Transaction.End")
		info := end.TransactionInfo
		switch {
		case end.EventType != "Ended" || stop < last:
			t.Errorf("ended %+v, register %v after %v", end, stop, last)
		case info.StoppedReason == "Local":
			if end.TriggerReason != "StopAuthorized" || info.ChargingState != "EVConnected" || end.IDToken == nil {
				t.Errorf("local stop %+v", end)
			}
		case info.StoppedReason == "EVDisconnected":
			if end.TriggerReason != "EVDeparted" || info.ChargingState != "Idle" || end.IDToken != nil {
				t.Errorf("EV departed %+v", end)
			}
		default:
			t.Errorf("stopped reason %q", info.StoppedReason)
		}
		if rec.TxID != txID || rec.TransactionID != 0 || rec.ConnectorID != 1 || rec.IDTag != DefaultIDTag(id, 1) ||
			rec.MeterStartWh != int64(first) || rec.MeterStopWh != int64(stop) || rec.Reason != info.StoppedReason {
			t.Errorf("session record %+v", rec)
		}
		// 3.6 MW for the session's length, within jitter.
		dur := end.Timestamp.Sub(start.Timestamp.Time)
		if wantWh := 3600e3 * dur.Hours(); stop-first < wantWh*0.9 || stop-first > wantWh*1.1 {
			t.Errorf("energy %v Wh over %v, want about %v", stop-first, dur, wantWh)
		}
	})
}

// TestOffline2xQueueDeliveredInOrder: events of the offline time come
// after the reconnection, in order, numbered on, flagged offline.
func TestOffline2xQueueDeliveredInOrder(t *testing.T) {
	t.Parallel()
	each2x(t, func(t *testing.T, version string) {
		f := newFakeCSMS(t)
		f.bootInterval = 60
		st := startStation(t, f, Config{Protocol: version, Connectors: 1, SessionDuration: 900 * time.Millisecond,
			MeterInterval: 50 * time.Millisecond, Idle: time.Hour})
		id := testStationID(t)
		f.waitCount(t, 5*time.Second, "StatusNotification", 1)
		var rs requestStartResp2
		f.mustCall2(t, id, "RequestStartTransaction", `{"idToken":{"idToken":"A","type":"Central"},"remoteStartId":7}`, &rs)
		if rs.Status != "Accepted" {
			t.Fatalf("RequestStartTransaction: %+v", rs)
		}
		f.waitCount(t, 5*time.Second, "TransactionEvent", 3)

		f.refuse.Store(true)
		f.drop(id)
		down := time.Now()
		time.Sleep(1200 * time.Millisecond) // the session ends while offline
		if st.Online() {
			t.Fatal("station online while refused")
		}
		if q := st.Stats().Queued.Load(); q < 10 {
			t.Errorf("%d messages queued while offline, want > 10", q)
		}
		f.refuse.Store(false)
		end := waitTxEvent(t, f, "Ended", func(e *txEventReq2) bool { return e.EventType == "Ended" })
		up := time.Now()

		events := txEvents(t, f.calls(id))
		start := events[0]
		if start.EventType != "Started" || start.TriggerReason != "RemoteStart" || start.TransactionInfo.RemoteStartID == nil ||
			*start.TransactionInfo.RemoteStartID != 7 || start.IDToken == nil || start.IDToken.Type != "Central" {
			t.Errorf("started %+v", start)
		}
		var last time.Time
		offline, seq := 0, -1
		for i, e := range events {
			ts := e.Timestamp.Time
			// An event whose answer the drop lost is sent again, with its seqNo.
			if e.SeqNo != seq+1 && (e.SeqNo != seq || !ts.Equal(last)) || e.TransactionInfo.TransactionID != start.TransactionInfo.TransactionID || ts.Before(last) {
				t.Errorf("event %d: seqNo %d after %d, transaction %s, at %v after %v", i, e.SeqNo, seq, e.TransactionInfo.TransactionID, ts, last)
			}
			seq, last = e.SeqNo, ts
			after := ts.After(down.Add(100*time.Millisecond)) && ts.Before(up)
			if after && !e.Offline || ts.Before(down) && e.Offline {
				t.Errorf("event %d at %v (down %v, up %v): offline %v", i, ts.Format("15:04:05.000"), down.Format("15:04:05.000"), up.Format("15:04:05.000"), e.Offline)
			}
			if after {
				offline++
			}
		}
		if offline < 8 {
			t.Errorf("%d events of the offline time delivered, want about 14", offline)
		}
		if last := events[len(events)-1]; last.EventType != "Ended" || last.SeqNo != end.SeqNo || !end.Offline {
			t.Errorf("ended %+v is not the last event, or not offline", end)
		}
		// The answer to the last event is still on its way.
		for deadline := time.Now().Add(2 * time.Second); st.Stats().Queued.Load() != 0 && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
		if q := st.Stats().Queued.Load(); q != 0 {
			t.Errorf("%d still queued", q)
		}
	})
}

// TestEveryCommandAnswered2x sends every 2.x CSMS→station action and
// checks the answer strictly against its schema; what is not simulated
// is answered NotSupported.
func TestEveryCommandAnswered2x(t *testing.T) {
	t.Parallel()
	each2x(t, func(t *testing.T, version string) {
		f := newFakeCSMS(t)
		f.bootInterval = 60
		startStation(t, f, Config{Protocol: version, Connectors: 2})
		id := testStationID(t)
		f.waitCount(t, 5*time.Second, "StatusNotification", 2)
		cert := jsonString(selfSignedPEM(t, "root"))
		future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		past := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
		payloads := map[string]string{
			"CancelReservation":       `{"reservationId":1}`,
			"ChangeAvailability":      `{"evse":{"id":1},"operationalStatus":"Inoperative"}`,
			"ClearCache":              `{}`,
			"ClearChargingProfile":    `{"chargingProfileId":7}`,
			"CostUpdated":             `{"totalCost":1.25,"transactionId":"nope"}`,
			"DataTransfer":            `{"vendorId":"ChargeStar","messageId":"Echo","data":"hi"}`,
			"GetBaseReport":           `{"requestId":1,"reportBase":"ConfigurationInventory"}`,
			"GetChargingProfiles":     `{"requestId":2,"chargingProfile":{"chargingProfilePurpose":"TxDefaultProfile"}}`,
			"GetCompositeSchedule":    `{"duration":3600,"evseId":1,"chargingRateUnit":"A"}`,
			"GetLocalListVersion":     `{}`,
			"GetLog":                  `{"log":{"remoteLocation":"https://example.com/logs"},"logType":"SecurityLog","requestId":3}`,
			"GetReport":               `{"requestId":5,"componentVariable":[{"component":{"name":"OCPPCommCtrlr"}}]}`,
			"GetVariables":            `{"getVariableData":[{"component":{"name":"EVSE","evse":{"id":2}},"variable":{"name":"AvailabilityState"}}]}`,
			"RequestStartTransaction": `{"evseId":2,"idToken":{"idToken":"REMOTE1","type":"Central"},"remoteStartId":1}`,
			"RequestStopTransaction":  `{"transactionId":"no-such-transaction"}`,
			"ReserveNow":              `{"id":5,"expiryDateTime":"` + future + `","idToken":{"idToken":"RES1","type":"ISO14443"},"evseId":1}`,
			"Reset":                   `{"type":"Immediate"}`,
			"SendLocalList":           `{"versionNumber":3,"updateType":"Full","localAuthorizationList":[{"idToken":{"idToken":"A1","type":"ISO14443"},"idTokenInfo":{"status":"Accepted"}}]}`,
			"SetChargingProfile": `{"evseId":0,"chargingProfile":{"id":7,"stackLevel":1,"chargingProfilePurpose":"TxDefaultProfile","chargingProfileKind":"Absolute",` +
				`"chargingSchedule":[{"id":1,"startSchedule":"` + past + `","chargingRateUnit":"W","chargingSchedulePeriod":[{"startPeriod":0,"limit":7000}]}]}}`,
			"SetVariables":            `{"setVariableData":[{"attributeValue":"120","component":{"name":"OCPPCommCtrlr"},"variable":{"name":"HeartbeatInterval"}}]}`,
			"TriggerMessage":          `{"requestedMessage":"StatusNotification","evse":{"id":1,"connectorId":1}}`,
			"UnlockConnector":         `{"evseId":1,"connectorId":1}`,
			"UpdateFirmware":          `{"requestId":9,"firmware":{"location":"https://example.com/fw-2.0.bin","retrieveDateTime":"` + future + `","signingCertificate":` + cert + `,"signature":"c2ln"}}`,
			"SetDefaultTariff":        `{"evseId":0,"tariff":{"tariffId":"T1","currency":"EUR"}}`,
			"ChangeTransactionTariff": `{"transactionId":"nope","tariff":{"tariffId":"T2","currency":"EUR"}}`,
		}
		var unsupported []string
		var actions []string
		for _, info := range fakeVersionActions(version) {
			if !info.ToStation || info.Name == "Reset" {
				continue
			}
			if _, ok := payloads[info.Name]; ok {
				actions = append(actions, info.Name)
			} else {
				unsupported = append(unsupported, info.Name)
			}
		}
		actions = append(actions, "Reset") // last: it takes the station away
		for _, a := range actions {
			resp := f.mustCall(t, id, a, payloads[a])
			if err := resp.Validate(); err != nil {
				t.Errorf("%s: %v", a, err)
			}
		}
		// The rest are known actions the simulator does not do.
		f.waitCount(t, 5*time.Second, "BootNotification", 2)
		f.waitFor(t, 5*time.Second, "online again", func([]frame) bool { return f.version(id) != "" })
		time.Sleep(100 * time.Millisecond)
		for _, a := range unsupported {
			_, err := f.call(id, a, `{}`)
			var ce *ocppj.CallError
			if !errors.As(err, &ce) || ce.Code != ocppj.NotSupported && ce.Code != ocppj.OccurrenceConstraintViolation {
				t.Errorf("%s: %v, want NotSupported (or a schema error for the empty payload)", a, err)
			}
		}
		t.Logf("not simulated: %s", strings.Join(unsupported, " "))
		var ce *ocppj.CallError
		if _, err := f.call(id, "MakeCoffee", `{}`); !errors.As(err, &ce) || ce.Code != ocppj.NotImplemented {
			t.Errorf("unknown action: %v", err)
		}
		if _, err := f.call(id, "Heartbeat", `{}`); !errors.As(err, &ce) || ce.Code != ocppj.NotSupported {
			t.Errorf("Heartbeat sent to a station: %v", err)
		}
		if _, err := f.call(id, "Reset", `{"type":"Sideways"}`); !errors.As(err, &ce) || ce.Code != ocppj.PropertyConstraintViolation || ce.RawCode != "PropertyConstraintViolation" {
			t.Errorf("bad Reset: %v", err)
		}
		if _, err := f.call(id, "Reset", `{"type":"Immediate","evseId":"1"}`); !errors.As(err, &ce) || ce.Code != ocppj.TypeConstraintViolation {
			t.Errorf("Reset with a string evseId: %v", err)
		}
	})
}

// TestRemoteStartStop2x: RequestStart/StopTransaction, UnlockConnector.
func TestRemoteStartStop2x(t *testing.T) {
	t.Parallel()
	each2x(t, func(t *testing.T, version string) {
		f := newFakeCSMS(t)
		f.bootInterval = 60
		startStation(t, f, Config{Protocol: version, Connectors: 2, SessionDuration: time.Hour, Idle: 200 * time.Millisecond})
		id := testStationID(t)
		f.waitCount(t, 5*time.Second, "StatusNotification", 2)
		var rs requestStartResp2
		f.mustCall2(t, id, "RequestStartTransaction", `{"evseId":1,"idToken":{"idToken":"APP-42","type":"Central"},"remoteStartId":42}`, &rs)
		if rs.Status != "Accepted" {
			t.Fatalf("RequestStartTransaction: %+v", rs)
		}
		start := waitTxEvent(t, f, "Started", func(e *txEventReq2) bool { return e.EventType == "Started" })
		if start.TriggerReason != "RemoteStart" || start.TransactionInfo.RemoteStartID == nil || *start.TransactionInfo.RemoteStartID != 42 ||
			start.IDToken == nil || *start.IDToken != (idToken2{IDToken: "APP-42", Type: "Central"}) || start.EVSE.ID != 1 {
			t.Errorf("started %+v", start)
		}
		if n := len(f.calls(id, "Authorize")); n != 0 {
			t.Errorf("%d Authorize for a remote start (AuthorizeRemoteStart is false)", n)
		}
		txID := start.TransactionInfo.TransactionID
		waitStatus2(t, f, 1, "Occupied")
		f.mustCall2(t, id, "RequestStartTransaction", `{"evseId":1,"idToken":{"idToken":"APP-43","type":"Central"},"remoteStartId":43}`, &rs)
		if rs.Status != "Rejected" {
			t.Errorf("RequestStartTransaction on a busy EVSE: %s", rs.Status)
		}
		var st statusResp2
		for _, c := range []struct{ payload, want string }{
			{`{"evseId":1,"connectorId":1}`, "OngoingAuthorizedTransaction"},
			{`{"evseId":2,"connectorId":1}`, "Unlocked"},
			{`{"evseId":9,"connectorId":1}`, "UnknownConnector"},
			{`{"evseId":2,"connectorId":2}`, "UnknownConnector"},
		} {
			if f.mustCall2(t, id, "UnlockConnector", c.payload, &st); st.Status != c.want {
				t.Errorf("UnlockConnector %s: %s, want %s", c.payload, st.Status, c.want)
			}
		}
		f.mustCall2(t, id, "CostUpdated", `{"totalCost":3.5,"transactionId":"`+txID+`"}`, &struct{}{})
		if f.mustCall2(t, id, "RequestStopTransaction", `{"transactionId":"other"}`, &st); st.Status != "Rejected" {
			t.Errorf("RequestStopTransaction of an unknown transaction: %s", st.Status)
		}
		if f.mustCall2(t, id, "RequestStopTransaction", `{"transactionId":"`+txID+`"}`, &st); st.Status != "Accepted" {
			t.Errorf("RequestStopTransaction: %s", st.Status)
		}
		end := waitTxEvent(t, f, "Ended", func(e *txEventReq2) bool { return e.EventType == "Ended" })
		if end.TriggerReason != "RemoteStop" || end.TransactionInfo.StoppedReason != "Remote" || end.TransactionInfo.TransactionID != txID {
			t.Errorf("ended %+v", end)
		}
		waitStatus2(t, f, 1, "Available")
	})
}

// TestReset2x: OnIdle waits for the transaction, Immediate ends it first;
// both reboot with reason RemoteReset; an EVSE reset ends its transaction.
func TestReset2x(t *testing.T) {
	t.Parallel()
	each2x(t, func(t *testing.T, version string) {
		f := newFakeCSMS(t)
		f.bootInterval = 60
		startStation(t, f, Config{Protocol: version, Connectors: 1, SessionDuration: time.Hour})
		id := testStationID(t)
		f.waitCount(t, 5*time.Second, "StatusNotification", 1)
		remoteStart := func(n int) string {
			t.Helper()
			var rs requestStartResp2
			f.mustCall2(t, id, "RequestStartTransaction", `{"idToken":{"idToken":"A","type":"Central"},"remoteStartId":`+strconv.Itoa(n)+`}`, &rs)
			if rs.Status != "Accepted" {
				t.Fatalf("RequestStartTransaction: %+v", rs)
			}
			return waitTxEvent(t, f, "Started", func(e *txEventReq2) bool {
				return e.EventType == "Started" && *e.TransactionInfo.RemoteStartID == n
			}).TransactionInfo.TransactionID
		}
		var st statusResp2
		tx := remoteStart(1)
		if f.mustCall2(t, id, "Reset", `{"type":"OnIdle"}`, &st); st.Status != "Scheduled" {
			t.Fatalf("Reset OnIdle while charging: %s", st.Status)
		}
		time.Sleep(300 * time.Millisecond)
		if f.connects.Load() != 1 {
			t.Fatal("reset before the transaction ended")
		}
		f.mustCall2(t, id, "RequestStopTransaction", `{"transactionId":"`+tx+`"}`, &st)
		boots := f.waitCount(t, 5*time.Second, "BootNotification", 2)
		if r := decode2(t, boots[1], &bootReq2{}).Reason; r != "RemoteReset" {
			t.Errorf("boot reason after a reset: %s", r)
		}
		ev := f.waitCount(t, 5*time.Second, "SecurityEventNotification", 1)
		if e := decode2(t, ev[0], &securityEventReq2{}); e.Type != "ResetOrReboot" {
			t.Errorf("security event %+v", e)
		}
		f.waitCount(t, 5*time.Second, "StatusNotification", 2)

		tx = remoteStart(2)
		if f.mustCall2(t, id, "Reset", `{"type":"Immediate"}`, &st); st.Status != "Accepted" {
			t.Fatalf("Reset Immediate: %s", st.Status)
		}
		f.waitCount(t, 5*time.Second, "BootNotification", 3)
		calls := f.calls(id)
		boot3 := -1
		for i, fr := range calls {
			if fr.action == "BootNotification" {
				boot3 = i
			}
		}
		ended := -1
		for i, fr := range calls {
			if fr.action == "TransactionEvent" {
				if e := decode2(t, fr, &txEventReq2{}); e.TransactionInfo.TransactionID == tx && e.EventType == "Ended" {
					ended = i
					if e.TransactionInfo.StoppedReason != "ImmediateReset" || e.TriggerReason != "ResetCommand" {
						t.Errorf("ended by the reset: %+v", e)
					}
				}
			}
		}
		if ended < 0 || ended > boot3 {
			t.Errorf("Ended at %d, boot at %d:\n%s", ended, boot3, describe(calls))
		}
		f.waitCount(t, 5*time.Second, "StatusNotification", 3)

		// Resetting the EVSE ends its transaction; the station stays up.
		tx = remoteStart(3)
		if f.mustCall2(t, id, "Reset", `{"type":"Immediate","evseId":1}`, &st); st.Status != "Accepted" {
			t.Fatalf("Reset of EVSE 1: %s", st.Status)
		}
		waitTxEvent(t, f, "Ended by the EVSE reset", func(e *txEventReq2) bool {
			return e.EventType == "Ended" && e.TransactionInfo.TransactionID == tx && e.TransactionInfo.StoppedReason == "ImmediateReset"
		})
		if f.mustCall2(t, id, "Reset", `{"type":"Immediate","evseId":5}`, &st); st.Status != "Rejected" {
			t.Errorf("Reset of EVSE 5: %s", st.Status)
		}
		if n := f.connects.Load(); n != 3 {
			t.Errorf("%d connections, want 3", n)
		}
	})
}

// TestDeviceModel2x: what GetVariables, SetVariables, GetReport and
// ChangeAvailability do.
func TestDeviceModel2x(t *testing.T) {
	t.Parallel()
	each2x(t, func(t *testing.T, version string) {
		f := newFakeCSMS(t)
		f.bootInterval = 60
		st := startStation(t, f, Config{Protocol: version, Connectors: 2})
		id := testStationID(t)
		f.waitCount(t, 5*time.Second, "StatusNotification", 2)

		set := func(component, variable, value string) string {
			t.Helper()
			var r setVariablesResp2
			f.mustCall2(t, id, "SetVariables", `{"setVariableData":[{"attributeValue":`+jsonString(value)+`,"component":`+component+`,"variable":`+variable+`}]}`, &r)
			return r.SetVariableResult[0].AttributeStatus
		}
		get := func(component, variable, attr string) (string, string) {
			t.Helper()
			var r getVariablesResp2
			a := ""
			if attr != "" {
				a = `"attributeType":"` + attr + `",`
			}
			f.mustCall2(t, id, "GetVariables", `{"getVariableData":[{`+a+`"component":`+component+`,"variable":`+variable+`}]}`, &r)
			return r.GetVariableResult[0].AttributeStatus, r.GetVariableResult[0].AttributeValue
		}
		comm, hb := `{"name":"OCPPCommCtrlr"}`, `{"name":"HeartbeatInterval"}`
		for _, c := range []struct{ component, variable, value, want string }{
			{comm, hb, "soon", "Rejected"},
			{comm, hb, "1", "Accepted"},
			{comm, `{"name":"MessageAttempts","instance":"TransactionEvent"}`, "5", "Accepted"},
			{comm, `{"name":"NoSuchVariable"}`, "1", "UnknownVariable"},
			{`{"name":"NoSuchCtrlr"}`, hb, "1", "UnknownComponent"},
			{`{"name":"SecurityCtrlr"}`, `{"name":"BasicAuthPassword"}`, "0123456789abcdef", "Accepted"},
			{`{"name":"SecurityCtrlr"}`, `{"name":"Identity"}`, "other", "Rejected"},
			{`{"name":"SampledDataCtrlr"}`, `{"name":"TxUpdatedMeasurands"}`, "Energy.Active.Import.Register,Temperature", "Rejected"},
			{`{"name":"SampledDataCtrlr"}`, `{"name":"TxUpdatedMeasurands"}`, "Energy.Active.Import.Register,Power.Active.Import", "Accepted"},
			{`{"name":"ClockCtrlr"}`, `{"name":"TimeSource"}`, "NTP,Heartbeat", "Accepted"},
			{`{"name":"ClockCtrlr"}`, `{"name":"TimeSource"}`, "Sundial", "Rejected"},
			{`{"name":"authctrlr"}`, `{"name":"AuthorizeRemoteStart"}`, "true", "Accepted"},
		} {
			if got := set(c.component, c.variable, c.value); got != c.want {
				t.Errorf("SetVariables %s %s = %s: %s, want %s", c.component, c.variable, c.value, got, c.want)
			}
		}
		for _, c := range []struct{ component, variable, attr, status, value string }{
			{comm, hb, "", "Accepted", "1"},
			{comm, hb, "Target", "NotSupportedAttributeType", ""},
			{`{"name":"SecurityCtrlr"}`, `{"name":"BasicAuthPassword"}`, "", "Rejected", ""},
			{`{"name":"ClockCtrlr"}`, `{"name":"TimeSource"}`, "Actual", "Accepted", "NTP,Heartbeat"},
			{`{"name":"EVSE","evse":{"id":2}}`, `{"name":"AvailabilityState"}`, "", "Accepted", "Available"},
			{`{"name":"EVSE","evse":{"id":3}}`, `{"name":"AvailabilityState"}`, "", "UnknownComponent", ""},
			{`{"name":"EVSE"}`, `{"name":"AvailabilityState"}`, "", "UnknownComponent", ""},
			{`{"name":"Connector","evse":{"id":1,"connectorId":1}}`, `{"name":"ConnectorType"}`, "", "Accepted", "cType2"},
			{`{"name":"SampledDataCtrlr"}`, `{"name":"TxUpdatedMeasurands"}`, "", "Accepted", "Energy.Active.Import.Register,Power.Active.Import"},
			{`{"name":"AuthCtrlr"}`, `{"name":"AuthorizeRemoteStart"}`, "", "Accepted", "true"},
		} {
			if status, value := get(c.component, c.variable, c.attr); status != c.status || value != c.value {
				t.Errorf("GetVariables %s %s: %s %q, want %s %q", c.component, c.variable, status, value, c.status, c.value)
			}
		}
		// The settings take effect: heartbeats every second, the password on the next connection.
		hbs := f.waitCount(t, 5*time.Second, "Heartbeat", 2)
		if gap := hbs[1].at.Sub(hbs[0].at); gap > 2*time.Second {
			t.Errorf("heartbeats %v apart after setting 1s", gap)
		}
		st.mu.Lock()
		if p := st.v16.password; p == nil || *p != "0123456789abcdef" {
			t.Errorf("password %v", p)
		}
		st.mu.Unlock()

		// A custom report: the EVSE 1 component only.
		var rep statusResp2
		f.mustCall2(t, id, "GetReport", `{"requestId":8,"componentVariable":[{"component":{"name":"EVSE","evse":{"id":1}}}]}`, &rep)
		if rep.Status != "Accepted" {
			t.Fatalf("GetReport: %s", rep.Status)
		}
		reps := f.waitCount(t, 5*time.Second, "NotifyReport", 1)
		r := decode2(t, reps[0], &notifyReportReq2{})
		if r.RequestID != 8 || r.Tbc || len(r.ReportData) != 4 {
			t.Errorf("report %+v", r)
		}
		for _, d := range r.ReportData {
			if d.Component.Name != "EVSE" || d.Component.EVSE == nil || d.Component.EVSE.ID != 1 {
				t.Errorf("reported %+v", d.Component)
			}
		}
		if f.mustCall2(t, id, "GetReport", `{"requestId":9,"componentCriteria":["Problem"]}`, &rep); rep.Status != "EmptyResultSet" {
			t.Errorf("GetReport of problems: %s", rep.Status)
		}

		// Availability: an EVSE, then the whole station.
		var ca statusResp2
		if f.mustCall2(t, id, "ChangeAvailability", `{"evse":{"id":1},"operationalStatus":"Inoperative"}`, &ca); ca.Status != "Accepted" {
			t.Errorf("ChangeAvailability of EVSE 1: %s", ca.Status)
		}
		waitStatus2(t, f, 1, "Unavailable")
		if status, value := get(`{"name":"EVSE","evse":{"id":1}}`, `{"name":"AvailabilityState"}`, ""); value != "Unavailable" {
			t.Errorf("EVSE 1 AvailabilityState %s %s", status, value)
		}
		if f.mustCall2(t, id, "ChangeAvailability", `{"evse":{"id":7},"operationalStatus":"Inoperative"}`, &ca); ca.Status != "Rejected" {
			t.Errorf("ChangeAvailability of EVSE 7: %s", ca.Status)
		}
		f.mustCall2(t, id, "ChangeAvailability", `{"operationalStatus":"Inoperative"}`, &ca)
		waitStatus2(t, f, 2, "Unavailable")
		if _, value := get(`{"name":"ChargingStation"}`, `{"name":"AvailabilityState"}`, ""); value != "Unavailable" {
			t.Errorf("station AvailabilityState %s", value)
		}
		f.mustCall2(t, id, "ChangeAvailability", `{"operationalStatus":"Operative"}`, &ca)
		f.mustCall2(t, id, "ChangeAvailability", `{"evse":{"id":1},"operationalStatus":"Operative"}`, &ca)
		waitStatus2(t, f, 1, "Available")
		waitStatus2(t, f, 2, "Available")
	})
}

// TestTrigger2x: each message TriggerMessage can ask for, sent after the answer.
func TestTrigger2x(t *testing.T) {
	t.Parallel()
	each2x(t, func(t *testing.T, version string) {
		f := newFakeCSMS(t)
		f.bootInterval = 60
		startStation(t, f, Config{Protocol: version, Connectors: 2, SessionDuration: time.Hour})
		id := testStationID(t)
		f.waitCount(t, 5*time.Second, "StatusNotification", 2)
		var st statusResp2
		if f.mustCall2(t, id, "TriggerMessage", `{"requestedMessage":"TransactionEvent"}`, &st); st.Status != "Rejected" {
			t.Errorf("TriggerMessage TransactionEvent without a transaction: %s", st.Status)
		}
		var rs requestStartResp2
		f.mustCall2(t, id, "RequestStartTransaction", `{"evseId":2,"idToken":{"idToken":"A","type":"Central"},"remoteStartId":1}`, &rs)
		waitTxEvent(t, f, "Started", func(e *txEventReq2) bool { return e.EventType == "Started" })
		for _, c := range []struct{ payload, sent string }{
			{`{"requestedMessage":"Heartbeat"}`, "Heartbeat"},
			{`{"requestedMessage":"StatusNotification","evse":{"id":2,"connectorId":1}}`, "StatusNotification"},
			{`{"requestedMessage":"MeterValues","evse":{"id":2}}`, "MeterValues"},
			{`{"requestedMessage":"TransactionEvent","evse":{"id":2}}`, "TransactionEvent"},
			{`{"requestedMessage":"FirmwareStatusNotification"}`, "FirmwareStatusNotification"},
			{`{"requestedMessage":"LogStatusNotification"}`, "LogStatusNotification"},
		} {
			before := len(f.calls(id, c.sent))
			if f.mustCall2(t, id, "TriggerMessage", c.payload, &st); st.Status != "Accepted" {
				t.Errorf("TriggerMessage %s: %s", c.payload, st.Status)
				continue
			}
			f.waitCount(t, 5*time.Second, c.sent, before+1)
			// The triggered message follows the answer on the wire.
			frames := f.allFrames()
			answerAt, callAt := -1, -1
			for i, fr := range frames {
				if fr.station == id && fr.in && fr.typ == ocppj.TypeCallResult {
					answerAt = i
				}
				if fr.station == id && fr.in && fr.typ == ocppj.TypeCall && fr.action == c.sent {
					callAt = i
				}
			}
			if callAt < answerAt {
				t.Errorf("%s: answer at %d, triggered %s at %d", c.payload, answerAt, c.sent, callAt)
			}
			fr := f.calls(id, c.sent)[before]
			switch c.sent {
			case "StatusNotification":
				if sn := decode2(t, fr, &statusNotificationReq2{}); sn.EVSEID != 2 || sn.ConnectorStatus != "Occupied" {
					t.Errorf("triggered status %+v", sn)
				}
			case "MeterValues":
				mv := decode2(t, fr, &meterValuesReq2{})
				if mv.EVSEID != 2 || mv.MeterValue[0].SampledValue[0].Context != "Trigger" {
					t.Errorf("triggered meter values %+v", mv)
				}
			case "TransactionEvent":
				if e := decode2(t, fr, &txEventReq2{}); e.TriggerReason != "Trigger" || e.EventType != "Updated" || len(e.MeterValue) != 1 {
					t.Errorf("triggered event %+v", e)
				}
			case "FirmwareStatusNotification", "LogStatusNotification":
				if p := decode2(t, fr, &progressReq2{}); p.Status != "Idle" || p.RequestID != nil {
					t.Errorf("triggered %s %+v", c.sent, p)
				}
			}
		}
		for _, c := range []struct{ payload, want string }{
			{`{"requestedMessage":"SignChargingStationCertificate"}`, "NotImplemented"},
			{`{"requestedMessage":"StatusNotification","evse":{"id":3}}`, "Rejected"},
			{`{"requestedMessage":"BootNotification"}`, "Rejected"},
		} {
			if f.mustCall2(t, id, "TriggerMessage", c.payload, &st); st.Status != c.want {
				t.Errorf("TriggerMessage %s: %s, want %s", c.payload, st.Status, c.want)
			}
		}
	})
}

// TestFirmwareAndLog2x: the status sequences, the reboot and the new version.
func TestFirmwareAndLog2x(t *testing.T) {
	t.Parallel()
	each2x(t, func(t *testing.T, version string) {
		f := newFakeCSMS(t)
		f.bootInterval = 60
		startStation(t, f, Config{Protocol: version, Connectors: 1})
		id := testStationID(t)
		f.waitCount(t, 5*time.Second, "StatusNotification", 1)
		var st statusResp2
		f.mustCall2(t, id, "UpdateFirmware", `{"requestId":5,"firmware":{"location":"https://example.com/fw/sim-2.1.0.bin","retrieveDateTime":"`+
			time.Now().UTC().Format(time.RFC3339)+`"}}`, &st)
		if st.Status != "Accepted" {
			t.Fatalf("UpdateFirmware: %s", st.Status)
		}
		var gl getLogResp2
		f.mustCall2(t, id, "GetLog", `{"log":{"remoteLocation":"https://example.com/"},"logType":"DiagnosticsLog","requestId":12}`, &gl)
		if gl.Status != "Accepted" || gl.Filename == "" {
			t.Errorf("GetLog: %+v", gl)
		}
		f.waitFor(t, 10*time.Second, "Installed and FirmwareUpdated", func(calls []frame) bool {
			return slices.ContainsFunc(calls, func(fr frame) bool {
				return fr.action == "FirmwareStatusNotification" && strings.Contains(string(fr.payload), "Installed")
			}) && slices.ContainsFunc(calls, func(fr frame) bool { return fr.action == "SecurityEventNotification" })
		})
		var seq []string
		var boots []*bootReq2
		for _, c := range f.calls(id, "FirmwareStatusNotification", "BootNotification", "SecurityEventNotification") {
			switch c.action {
			case "FirmwareStatusNotification":
				p := decode2(t, c, &progressReq2{})
				seq = append(seq, p.Status)
				if p.RequestID == nil || *p.RequestID != 5 {
					t.Errorf("firmware status without the request id: %+v", p)
				}
			case "BootNotification":
				boots = append(boots, decode2(t, c, &bootReq2{}))
				seq = append(seq, "Boot:"+boots[len(boots)-1].Reason)
			case "SecurityEventNotification":
				seq = append(seq, decode2(t, c, &securityEventReq2{}).Type)
			}
		}
		want := "Boot:PowerUp Downloading Downloaded Installing InstallRebooting Boot:FirmwareUpdate Installed FirmwareUpdated"
		if got := strings.Join(seq, " "); got != want {
			t.Errorf("sequence %q, want %q", got, want)
		}
		if len(boots) == 2 && boots[1].ChargingStation.FirmwareVersion != "sim-2.1.0" {
			t.Errorf("firmware after the update %q", boots[1].ChargingStation.FirmwareVersion)
		}
		logs := f.waitCount(t, 5*time.Second, "LogStatusNotification", 2)
		l0, l1 := decode2(t, logs[0], &progressReq2{}), decode2(t, logs[1], &progressReq2{})
		if l0.Status != "Uploading" || l1.Status != "Uploaded" || l1.RequestID == nil || *l1.RequestID != 12 {
			t.Errorf("log %+v, %+v", l0, l1)
		}
	})
}

// TestReservationsListsProfiles2x: local list, reservations, charging
// profiles, data transfer.
func TestReservationsListsProfiles2x(t *testing.T) {
	t.Parallel()
	each2x(t, func(t *testing.T, version string) {
		f := newFakeCSMS(t)
		f.bootInterval = 60
		startStation(t, f, Config{Protocol: version, Connectors: 2, PowerKW: 22, SessionDuration: time.Hour, MeterInterval: 100 * time.Millisecond})
		id := testStationID(t)
		f.waitCount(t, 5*time.Second, "StatusNotification", 2)
		var st statusResp2

		if f.mustCall2(t, id, "SendLocalList", `{"versionNumber":3,"updateType":"Full","localAuthorizationList":[{"idToken":{"idToken":"L1","type":"ISO14443"},"idTokenInfo":{"status":"Accepted"}}]}`, &st); st.Status != "Accepted" {
			t.Errorf("SendLocalList: %s", st.Status)
		}
		if f.mustCall2(t, id, "SendLocalList", `{"versionNumber":2,"updateType":"Differential","localAuthorizationList":[{"idToken":{"idToken":"L2","type":"ISO14443"}}]}`, &st); st.Status != "VersionMismatch" {
			t.Errorf("SendLocalList with an old version: %s", st.Status)
		}
		var lv localListVersionResp2
		if f.mustCall2(t, id, "GetLocalListVersion", `{}`, &lv); lv.VersionNumber != 3 {
			t.Errorf("list version %d", lv.VersionNumber)
		}

		soon := time.Now().Add(300 * time.Millisecond).UTC().Format(time.RFC3339Nano)
		later := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		if f.mustCall2(t, id, "ReserveNow", `{"id":1,"expiryDateTime":"`+soon+`","idToken":{"idToken":"R1","type":"ISO14443"},"evseId":2}`, &st); st.Status != "Accepted" {
			t.Fatalf("ReserveNow: %s", st.Status)
		}
		waitStatus2(t, f, 2, "Reserved")
		waitStatus2(t, f, 2, "Available") // expired
		if ru := f.waitCount(t, 5*time.Second, "ReservationStatusUpdate", 1); len(ru) == 1 {
			if r := decode2(t, ru[0], &reservationStatusReq2{}); r.ReservationID != 1 || r.ReservationUpdateStatus != "Expired" {
				t.Errorf("reservation status update %+v", r)
			}
		}
		if f.mustCall2(t, id, "ReserveNow", `{"id":3,"expiryDateTime":"`+later+`","idToken":{"idToken":"R3","type":"ISO14443"}}`, &st); st.Status != "Rejected" {
			t.Errorf("ReserveNow of no particular EVSE: %s", st.Status)
		}
		if f.mustCall2(t, id, "ReserveNow", `{"id":2,"expiryDateTime":"`+later+`","idToken":{"idToken":"R2","type":"ISO14443"},"evseId":1}`, &st); st.Status != "Accepted" {
			t.Fatalf("ReserveNow: %s", st.Status)
		}
		waitStatus2(t, f, 1, "Reserved")
		var rs requestStartResp2
		if f.mustCall2(t, id, "RequestStartTransaction", `{"evseId":1,"idToken":{"idToken":"OTHER","type":"Central"},"remoteStartId":1}`, &rs); rs.Status != "Rejected" {
			t.Errorf("remote start by another token on a reserved EVSE: %s", rs.Status)
		}
		f.mustCall2(t, id, "RequestStartTransaction", `{"evseId":1,"idToken":{"idToken":"R2","type":"ISO14443"},"remoteStartId":2}`, &rs)
		start := waitTxEvent(t, f, "Started", func(e *txEventReq2) bool { return e.EventType == "Started" })
		if start.ReservationID == nil || *start.ReservationID != 2 {
			t.Errorf("started without the reservation: %+v", start)
		}
		if f.mustCall2(t, id, "CancelReservation", `{"reservationId":2}`, &st); st.Status != "Rejected" {
			t.Errorf("cancelling a used reservation: %s", st.Status)
		}
		txID := start.TransactionInfo.TransactionID

		// Charging profiles: a station-wide default of 7 kW, then 4 kW for the transaction.
		past := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
		profile := func(id int, purpose, tx string, limit int) string {
			s := `{"id":` + strconv.Itoa(id) + `,"stackLevel":1,"chargingProfilePurpose":"` + purpose + `","chargingProfileKind":"Absolute",`
			if tx != "" {
				s += `"transactionId":"` + tx + `",`
			}
			return s + `"chargingSchedule":[{"id":1,"startSchedule":"` + past + `","chargingRateUnit":"W","chargingSchedulePeriod":[{"startPeriod":0,"limit":` + strconv.Itoa(limit) + `}]}]}`
		}
		for _, c := range []struct {
			evse    int
			profile string
			want    string
		}{
			{0, profile(7, "TxDefaultProfile", "", 7000), "Accepted"},
			{1, profile(8, "TxProfile", "wrong", 4000), "Rejected"},
			{0, profile(8, "TxProfile", txID, 4000), "Rejected"},
			{1, profile(8, "ChargingStationMaxProfile", "", 4000), "Rejected"},
			{1, profile(8, "TxProfile", txID, 4000), "Accepted"},
		} {
			if f.mustCall2(t, id, "SetChargingProfile", `{"evseId":`+strconv.Itoa(c.evse)+`,"chargingProfile":`+c.profile+`}`, &st); st.Status != c.want {
				t.Errorf("SetChargingProfile %d %s: %s, want %s", c.evse, c.profile, st.Status, c.want)
			}
		}
		var cs getCompositeScheduleResp2
		for evse, want := range map[int]float64{1: 4000, 2: 7000} {
			f.mustCall2(t, id, "GetCompositeSchedule", `{"duration":600,"evseId":`+strconv.Itoa(evse)+`}`, &cs)
			if cs.Status != "Accepted" || cs.Schedule == nil || cs.Schedule.EVSEID != evse || cs.Schedule.ChargingRateUnit != "W" ||
				*cs.Schedule.ChargingSchedulePeriod[0].Limit != want {
				t.Errorf("composite schedule of EVSE %d: %+v, want %v W", evse, cs.Schedule, want)
			}
		}
		if f.mustCall2(t, id, "GetChargingProfiles", `{"requestId":11,"chargingProfile":{"chargingProfilePurpose":"ChargingStationMaxProfile"}}`, &st); st.Status != "NoProfiles" {
			t.Errorf("GetChargingProfiles of none: %s", st.Status)
		}
		if f.mustCall2(t, id, "GetChargingProfiles", `{"requestId":12,"chargingProfile":{}}`, &st); st.Status != "Accepted" {
			t.Errorf("GetChargingProfiles: %s", st.Status)
		}
		reps := f.waitCount(t, 5*time.Second, "ReportChargingProfiles", 2)
		r0, r1 := decode2(t, reps[0], &reportChargingProfilesReq2{}), decode2(t, reps[1], &reportChargingProfilesReq2{})
		if r0.RequestID != 12 || r0.EVSEID != 0 || !r0.Tbc || len(r0.ChargingProfile) != 1 || r1.EVSEID != 1 || r1.Tbc || len(r1.ChargingProfile) != 1 {
			t.Errorf("reports %+v, %+v", r0, r1)
		}
		// The power follows the transaction's profile.
		waitTxEvent(t, f, "an update at the profile's power", func(e *txEventReq2) bool {
			if e.EventType != "Updated" {
				return false
			}
			for _, sv := range e.MeterValue[0].SampledValue {
				if sv.Measurand == "Power.Active.Import" && sv.Value > 3500 && sv.Value <= 4000 {
					return true
				}
			}
			return false
		})
		if f.mustCall2(t, id, "ClearChargingProfile", `{"chargingProfileId":8}`, &st); st.Status != "Accepted" {
			t.Errorf("ClearChargingProfile: %s", st.Status)
		}
		if f.mustCall2(t, id, "ClearChargingProfile", `{"chargingProfileId":8}`, &st); st.Status != "Unknown" {
			t.Errorf("ClearChargingProfile again: %s", st.Status)
		}
		var dt dataTransferResp2
		if f.mustCall2(t, id, "DataTransfer", `{"vendorId":"Other"}`, &dt); dt.Status != "UnknownVendorId" {
			t.Errorf("DataTransfer to another vendor: %s", dt.Status)
		}
	})
}

// TestTransactionLimits21: 2.1 transaction limits set by the CSMS end the
// transaction with the matching reasons; tariffs are accepted.
func TestTransactionLimits21(t *testing.T) {
	t.Parallel()
	f := newFakeCSMS(t)
	f.bootInterval = 60
	limits := map[string]string{ // by idToken
		"ENERGY": `{"transactionLimit":{"maxEnergy":300}}`,
		"TIME":   `{"transactionLimit":{"maxTime":1}}`,
		"COST":   `{"transactionLimit":{"maxCost":2.0},"totalCost":0.5}`,
	}
	f.txAnswer = func(_ string, req *txEventReq2) string {
		if req.EventType == "Started" {
			return limits[req.IDToken.IDToken]
		}
		return ""
	}
	startStation(t, f, Config{Protocol: "ocpp2.1", Connectors: 4, PowerKW: 1800, SessionDuration: time.Hour, MeterInterval: time.Hour})
	id := testStationID(t)
	f.waitCount(t, 5*time.Second, "StatusNotification", 4)
	txOf := map[string]string{}
	for i, tag := range []string{"ENERGY", "TIME", "COST", "FREE"} {
		var rs requestStartResp2
		f.mustCall2(t, id, "RequestStartTransaction", `{"evseId":`+strconv.Itoa(i+1)+`,"idToken":{"idToken":"`+tag+`","type":"Central"},"remoteStartId":`+strconv.Itoa(i+1)+`}`, &rs)
		if rs.Status != "Accepted" {
			t.Fatalf("RequestStartTransaction %s: %s", tag, rs.Status)
		}
		txOf[tag] = waitTxEvent(t, f, "Started "+tag, func(e *txEventReq2) bool {
			return e.EventType == "Started" && e.IDToken.IDToken == tag
		}).TransactionInfo.TransactionID
	}
	ended := func(tag string) *txEventReq2 {
		t.Helper()
		return waitTxEvent(t, f, "Ended "+tag, func(e *txEventReq2) bool {
			return e.EventType == "Ended" && e.TransactionInfo.TransactionID == txOf[tag]
		})
	}
	// Every limit is confirmed with LimitSet.
	for tag := range limits {
		e := waitTxEvent(t, f, "LimitSet "+tag, func(e *txEventReq2) bool {
			return e.TriggerReason == "LimitSet" && e.TransactionInfo.TransactionID == txOf[tag]
		})
		if e.TransactionInfo.TransactionLimit == nil || e.SeqNo != 1 {
			t.Errorf("LimitSet %+v", e)
		}
	}
	// 1.8 MW: 300 Wh in 600ms.
	e := ended("ENERGY")
	if e.TriggerReason != "EnergyLimitReached" || e.TransactionInfo.StoppedReason != "EnergyLimitReached" {
		t.Errorf("energy limit: %+v", e)
	}
	e = ended("TIME")
	if e.TriggerReason != "TimeLimitReached" || e.TransactionInfo.StoppedReason != "TimeLimitReached" {
		t.Errorf("time limit: %+v", e)
	}
	var empty struct{}
	f.mustCall2(t, id, "CostUpdated", `{"totalCost":1.5,"transactionId":"`+txOf["COST"]+`"}`, &empty)
	time.Sleep(100 * time.Millisecond)
	if n := len(txEvents(t, f.calls(id))); n == 0 {
		t.Fatal("no events")
	}
	for _, e := range txEvents(t, f.calls(id)) {
		if e.TransactionInfo.TransactionID == txOf["COST"] && e.EventType == "Ended" {
			t.Fatalf("ended under the cost limit: %+v", e)
		}
	}
	f.mustCall2(t, id, "CostUpdated", `{"totalCost":2.5,"transactionId":"`+txOf["COST"]+`"}`, &empty)
	e = ended("COST")
	if e.TriggerReason != "CostLimitReached" || e.TransactionInfo.StoppedReason != "LocalOutOfCredit" {
		t.Errorf("cost limit: %+v", e)
	}

	// Tariffs.
	var st statusResp2
	if f.mustCall2(t, id, "SetDefaultTariff", `{"evseId":0,"tariff":{"tariffId":"T1","currency":"EUR"}}`, &st); st.Status != "Accepted" {
		t.Errorf("SetDefaultTariff: %s", st.Status)
	}
	if f.mustCall2(t, id, "ChangeTransactionTariff", `{"transactionId":"nope","tariff":{"tariffId":"T2","currency":"EUR"}}`, &st); st.Status != "TxNotFound" {
		t.Errorf("ChangeTransactionTariff of no transaction: %s", st.Status)
	}
	if f.mustCall2(t, id, "ChangeTransactionTariff", `{"transactionId":"`+txOf["FREE"]+`","tariff":{"tariffId":"T2","currency":"EUR"}}`, &st); st.Status != "Accepted" {
		t.Errorf("ChangeTransactionTariff: %s", st.Status)
	}
	e = waitTxEvent(t, f, "TariffChanged", func(e *txEventReq2) bool { return e.TriggerReason == "TariffChanged" })
	if e.TransactionInfo.TariffID != "T2" || e.TransactionInfo.TransactionID != txOf["FREE"] {
		t.Errorf("tariff changed %+v", e)
	}
}

// TestMixedFleet: a fleet deals the protocols out round-robin, and each
// station speaks its own; a closed loop runs over all of them.
func TestMixedFleet(t *testing.T) {
	t.Parallel()
	if got := FleetProtocols(FleetConfig{Count: 4, Station: Config{Protocol: ProtocolMixed}}); strings.Join(got, " ") != "ocpp1.6 ocpp2.0.1 ocpp2.1 ocpp1.6" {
		t.Errorf("mixed: %v", got)
	}
	if got := FleetProtocols(FleetConfig{Count: 3, Protocols: []string{"ocpp2.1", "ocpp2.1", "ocpp1.6"}}); strings.Join(got, " ") != "ocpp2.1 ocpp2.1 ocpp1.6" {
		t.Errorf("weighted: %v", got)
	}
	if got := FleetProtocols(FleetConfig{Count: 2}); strings.Join(got, " ") != "ocpp1.6 ocpp1.6" {
		t.Errorf("default: %v", got)
	}
	if _, err := NewFleet(FleetConfig{Count: 2, Protocols: []string{"ocpp1.6", "ocpp3"}, Station: Config{URL: "ws://localhost/ocpp"}}); err == nil {
		t.Error("a fleet with an unknown protocol")
	}
	if _, err := NewStation(Config{URL: "ws://localhost/ocpp", ID: "X", Protocol: ProtocolMixed}); err == nil {
		t.Error("a mixed station")
	}

	f := newFakeCSMS(t)
	f.bootInterval = 60
	res, out := runFleet(t, f, ModeClosedLoop, 6, time.Second, Config{Connectors: 1, Protocol: ProtocolMixed})
	a := res.Activity
	if a.CallsOK < 200 || a.CallsFailed != 0 || len(a.Errors) != 0 {
		t.Errorf("closed loop: %d answered, %d failed, errors %v\n%s", a.CallsOK, a.CallsFailed, a.Errors, out)
	}
	for i, id := range FleetIDs(FleetConfig{Count: 6, IDPrefix: t.Name() + "-"}) {
		want := Protocols[i%3]
		var got string
		var actions []string
		for _, fr := range f.calls(id) {
			got = fr.version
			actions = append(actions, fr.action)
		}
		if got != want {
			t.Errorf("station %s spoke %q, want %s", id, got, want)
			continue
		}
		if want == "ocpp1.6" {
			if !slices.Contains(actions, "MeterValues") {
				t.Errorf("1.6 station %s sent no MeterValues", id)
			}
			continue
		}
		// 2.x: the stream is TransactionEvent Updated, numbered on.
		events := txEvents(t, f.calls(id))
		if len(events) < 20 || events[0].EventType != "Started" {
			t.Errorf("station %s: %d events", id, len(events))
			continue
		}
		for j, e := range events {
			if e.SeqNo != j || j > 0 && j < len(events)-1 && (e.EventType != "Updated" || e.TriggerReason != "MeterValuePeriodic") {
				t.Errorf("station %s event %d: %s %s seqNo %d", id, j, e.EventType, e.TriggerReason, e.SeqNo)
				break
			}
		}
	}
}

// fakeVersionActions lists a version's actions.
func fakeVersionActions(version string) []ocpp.ActionInfo {
	if version == "ocpp2.1" {
		return v21.Actions()
	}
	return v201.Actions()
}
