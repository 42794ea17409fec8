package sim

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chargestar/chargestar/internal/ocpp/v16"
)

func TestBootPendingThenAccepted(t *testing.T) {
	t.Parallel()
	f := newFakeCSMS(t)
	f.bootSeq = []v16.RegistrationStatus{v16.RegistrationStatusPending}
	st := startStation(t, f, Config{Connectors: 2})

	calls := f.waitCount(t, 5*time.Second, "Heartbeat", 1)
	_ = calls
	all := f.calls(t.Name())
	want := []string{"BootNotification", "BootNotification", "StatusNotification", "StatusNotification", "StatusNotification", "Heartbeat"}
	if len(all) < len(want) {
		t.Fatalf("calls:\n%s", describe(all))
	}
	for i, a := range want {
		if all[i].action != a {
			t.Fatalf("call %d is %s, want %s; calls:\n%s", i, all[i].action, a, describe(all))
		}
	}
	// The pending answer's interval (1s) is honoured before booting again.
	if gap := all[1].at.Sub(all[0].at); gap < 900*time.Millisecond {
		t.Errorf("second boot %v after the first, want about 1s", gap)
	}
	for i, id := range []int{0, 1, 2} {
		sn := decode(t, all[2+i], &v16.StatusNotificationRequest{})
		if sn.ConnectorID != id || sn.Status != v16.ChargePointStatusAvailable || sn.ErrorCode != v16.ChargePointErrorCodeNoError {
			t.Errorf("status notification %d: %+v", i, sn)
		}
	}
	// The heartbeat interval is the one given at boot (1s).
	if gap := all[5].at.Sub(all[4].at); gap < 900*time.Millisecond || gap > 3*time.Second {
		t.Errorf("first heartbeat %v after boot, want about 1s", gap)
	}
	hb := f.waitCount(t, 5*time.Second, "Heartbeat", 2)
	if gap := hb[1].at.Sub(hb[0].at); gap < 900*time.Millisecond || gap > 2500*time.Millisecond {
		t.Errorf("heartbeats %v apart, want 1s", gap)
	}
	if !st.Online() {
		t.Error("station not online")
	}
	boot := decode(t, all[0], &v16.BootNotificationRequest{})
	if boot.ChargePointVendor != "ChargeStar" || boot.FirmwareVersion == "" || boot.ChargePointSerialNumber == "" {
		t.Errorf("boot: %+v", boot)
	}
}

func TestBootRejectedRetriesAndSendsNothingElse(t *testing.T) {
	t.Parallel()
	f := newFakeCSMS(t)
	f.bootSeq = []v16.RegistrationStatus{v16.RegistrationStatusRejected, v16.RegistrationStatusRejected}
	startStation(t, f, Config{Connectors: 1, Mode: ModeSessions, Idle: 10 * time.Millisecond})
	f.waitCount(t, 5*time.Second, "BootNotification", 3)
	all := f.calls(t.Name())
	for i := 0; i < 3; i++ {
		if all[i].action != "BootNotification" {
			t.Fatalf("call %d while rejected: %s", i, all[i].action)
		}
	}
}

func TestSessionMessageSequence(t *testing.T) {
	t.Parallel()
	f := newFakeCSMS(t)
	f.bootInterval = 60
	var rec []SessionRecord
	recs := make(chan SessionRecord, 4)
	startStation(t, f, Config{
		Connectors: 1, Mode: ModeSessions, PowerKW: 3600, // 1 Wh per millisecond
		Idle: 20 * time.Millisecond, SessionDuration: 800 * time.Millisecond, MeterInterval: 100 * time.Millisecond,
		OnSession: func(r SessionRecord) { recs <- r },
	})
	select {
	case r := <-recs:
		rec = append(rec, r)
	case <-time.After(10 * time.Second):
		t.Fatalf("no session completed; calls:\n%s", describe(f.calls(t.Name())))
	}
	// Wait for the connector to be available again, then read the whole story.
	f.waitFor(t, 5*time.Second, "Available after Finishing", func(calls []frame) bool {
		fin := false
		for _, fr := range calls {
			if fr.action != "StatusNotification" {
				continue
			}
			sn := decode(t, fr, &v16.StatusNotificationRequest{})
			if sn.ConnectorID == 1 && sn.Status == v16.ChargePointStatusFinishing {
				fin = true
			}
			if fin && sn.ConnectorID == 1 && sn.Status == v16.ChargePointStatusAvailable {
				return true
			}
		}
		return false
	})
	all := f.calls(t.Name())
	var seq []string
	var start *v16.StartTransactionRequest
	var startAnswerTx = 101
	var meters []*v16.MeterValuesRequest
	var stop *v16.StopTransactionRequest
	begun, ended := false, false
	for _, fr := range all {
		if ended {
			break
		}
		switch fr.action {
		case "StatusNotification":
			sn := decode(t, fr, &v16.StatusNotificationRequest{})
			if sn.ConnectorID != 1 {
				continue
			}
			begun = begun || sn.Status == v16.ChargePointStatusPreparing
			if begun {
				seq = append(seq, "Status:"+string(sn.Status))
			}
			ended = stop != nil && sn.Status == v16.ChargePointStatusAvailable
		case "Authorize", "StartTransaction", "MeterValues", "StopTransaction":
			seq = append(seq, fr.action)
			switch fr.action {
			case "StartTransaction":
				start = decode(t, fr, &v16.StartTransactionRequest{})
			case "MeterValues":
				meters = append(meters, decode(t, fr, &v16.MeterValuesRequest{}))
			case "StopTransaction":
				stop = decode(t, fr, &v16.StopTransactionRequest{})
			}
		}
	}
	compact := compactSeq(seq)
	want := []string{"Status:Preparing", "Authorize", "StartTransaction", "Status:Charging", "MeterValues", "StopTransaction", "Status:Finishing", "Status:Available"}
	if strings.Join(compact, " ") != strings.Join(want, " ") {
		t.Fatalf("sequence %v, want %v", compact, want)
	}
	if len(meters) < 5 {
		t.Errorf("%d MeterValues in an 800ms session at 100ms, want about 8", len(meters))
	}
	if start.IDTag != DefaultIDTag(t.Name(), 1) {
		t.Errorf("id tag %q", start.IDTag)
	}
	// Meter values: tied to the transaction, all measurands, register increasing.
	last := float64(start.MeterStart)
	for i, mv := range meters {
		if mv.TransactionID == nil || *mv.TransactionID != startAnswerTx {
			t.Errorf("meter value %d: transaction %v", i, mv.TransactionID)
		}
		got := map[string]int{}
		var energy float64
		for _, sv := range mv.MeterValue[0].SampledValue {
			got[string(sv.Measurand)]++
			if sv.Measurand == v16.MeasurandEnergyActiveImportRegister {
				energy, _ = strconv.ParseFloat(sv.Value, 64)
				if sv.Unit != v16.UnitOfMeasureWh || sv.Context != v16.ReadingContextSamplePeriodic {
					t.Errorf("energy sample %+v", sv)
				}
			}
		}
		for m, n := range map[string]int{"Energy.Active.Import.Register": 1, "Power.Active.Import": 1, "Voltage": 3, "Current.Import": 3, "SoC": 1} {
			if got[m] != n {
				t.Errorf("meter value %d has %d %s samples, want %d", i, got[m], m, n)
			}
		}
		if energy < last {
			t.Errorf("energy register went down: %v after %v", energy, last)
		}
		last = energy
	}
	if stop.TransactionID != startAnswerTx || float64(stop.MeterStop) < last {
		t.Errorf("stop %+v after last register %v", stop, last)
	}
	if stop.Reason != v16.ReasonLocal && stop.Reason != v16.ReasonEVDisconnected {
		t.Errorf("stop reason %q", stop.Reason)
	}
	if len(stop.TransactionData) != 2 || stop.TransactionData[0].SampledValue[0].Context != v16.ReadingContextTransactionBegin ||
		stop.TransactionData[1].SampledValue[0].Context != v16.ReadingContextTransactionEnd {
		t.Errorf("transaction data %+v", stop.TransactionData)
	}
	// Energy: 3.6 MW for the session's length, within jitter.
	dur := stop.Timestamp.Sub(start.Timestamp.Time)
	wantWh := 3600e3 * dur.Hours()
	gotWh := float64(stop.MeterStop - start.MeterStart)
	if gotWh < wantWh*0.9 || gotWh > wantWh*1.1 {
		t.Errorf("energy %v Wh over %v, want about %v", gotWh, dur, wantWh)
	}
	r := rec[0]
	if r.TransactionID != startAnswerTx || r.MeterStartWh != int64(start.MeterStart) || r.MeterStopWh != int64(stop.MeterStop) {
		t.Errorf("session record %+v", r)
	}
}

// compactSeq collapses runs of MeterValues.
func compactSeq(seq []string) []string {
	var out []string
	for _, s := range seq {
		if len(out) > 0 && out[len(out)-1] == s && s == "MeterValues" {
			continue
		}
		out = append(out, s)
	}
	return out
}

// afterIndex returns the index of the first call at or after from with the action.
func indexOf(calls []frame, from int, action string) int {
	for i := from; i < len(calls); i++ {
		if calls[i].action == action {
			return i
		}
	}
	return -1
}

func TestResetSoftStopsThenReboots(t *testing.T) {
	t.Parallel()
	f := newFakeCSMS(t)
	f.bootInterval = 60
	startStation(t, f, Config{Connectors: 1, SessionDuration: time.Hour})
	f.waitCount(t, 5*time.Second, "StatusNotification", 2)
	f.mustCall(t, t.Name(), "RemoteStartTransaction", `{"idTag":"A"}`)
	f.waitCount(t, 5*time.Second, "StartTransaction", 1)
	if r := f.mustCall(t, t.Name(), "Reset", `{"type":"Soft"}`).(*v16.ResetResponse); r.Status != v16.ResetStatusAccepted {
		t.Fatalf("reset: %s", r.Status)
	}
	f.waitCount(t, 5*time.Second, "SecurityEventNotification", 1)
	calls := f.calls(t.Name())
	stop := indexOf(calls, 0, "StopTransaction")
	boot2 := indexOf(calls, 1, "BootNotification")
	if stop < 0 || boot2 < 0 || stop > boot2 {
		t.Fatalf("soft reset: stop at %d, second boot at %d:\n%s", stop, boot2, describe(calls))
	}
	if r := decode(t, calls[stop], &v16.StopTransactionRequest{}); r.Reason != v16.ReasonSoftReset {
		t.Errorf("stop reason %s", r.Reason)
	}
	if ev := decode(t, calls[indexOf(calls, 0, "SecurityEventNotification")], &v16.SecurityEventNotificationRequest{}); ev.Type != "ResetOrReboot" {
		t.Errorf("security event %q", ev.Type)
	}
	if f.connects.Load() != 2 {
		t.Errorf("%d connections", f.connects.Load())
	}
	// After the reboot the connector is Available again.
	sn := decode(t, calls[boot2+2], &v16.StatusNotificationRequest{})
	if sn.ConnectorID != 1 || sn.Status != v16.ChargePointStatusAvailable {
		t.Errorf("after reboot: %+v", sn)
	}
}

func TestResetHardDeliversStopAfterBoot(t *testing.T) {
	t.Parallel()
	f := newFakeCSMS(t)
	f.bootInterval = 60
	startStation(t, f, Config{Connectors: 1, SessionDuration: time.Hour})
	f.waitCount(t, 5*time.Second, "StatusNotification", 2)
	f.mustCall(t, t.Name(), "RemoteStartTransaction", `{"idTag":"A"}`)
	f.waitCount(t, 5*time.Second, "StartTransaction", 1)
	f.mustCall(t, t.Name(), "Reset", `{"type":"Hard"}`)
	stops := f.waitCount(t, 5*time.Second, "StopTransaction", 1)
	calls := f.calls(t.Name())
	boot2 := indexOf(calls, 1, "BootNotification")
	stop := indexOf(calls, 0, "StopTransaction")
	if boot2 < 0 || stop < boot2 {
		t.Fatalf("hard reset: stop at %d, second boot at %d:\n%s", stop, boot2, describe(calls))
	}
	if r := decode(t, stops[0], &v16.StopTransactionRequest{}); r.Reason != v16.ReasonHardReset || r.TransactionID != 101 {
		t.Errorf("stop %+v", r)
	}
}

// TestOfflineQueueDeliveredInOrder: transaction messages produced while
// the connection is down arrive, in order, after the reconnection.
func TestOfflineQueueDeliveredInOrder(t *testing.T) {
	t.Parallel()
	f := newFakeCSMS(t)
	f.bootInterval = 60
	st := startStation(t, f, Config{Connectors: 1, SessionDuration: 900 * time.Millisecond, MeterInterval: 50 * time.Millisecond, Idle: time.Hour})
	f.waitCount(t, 5*time.Second, "StatusNotification", 2)
	f.mustCall(t, t.Name(), "RemoteStartTransaction", `{"idTag":"A"}`)
	f.waitCount(t, 5*time.Second, "MeterValues", 2)

	f.refuse.Store(true)
	f.drop(t.Name())
	down := time.Now()
	time.Sleep(1200 * time.Millisecond) // the session ends while offline
	if st.Online() {
		t.Fatal("station online while refused")
	}
	if q := st.Stats().Queued.Load(); q < 10 {
		t.Errorf("%d messages queued while offline, want > 10", q)
	}
	f.refuse.Store(false)
	f.waitCount(t, 5*time.Second, "StopTransaction", 1)
	up := time.Now()

	calls := f.calls(t.Name())
	boot2 := indexOf(calls, 1, "BootNotification")
	var last time.Time
	offline := 0
	stopAt := -1
	for i := boot2; i < len(calls); i++ {
		switch calls[i].action {
		case "MeterValues":
			mv := decode(t, calls[i], &v16.MeterValuesRequest{})
			ts := mv.MeterValue[0].Timestamp.Time
			if stopAt >= 0 {
				t.Errorf("meter value after the stop")
			}
			if ts.Before(last) {
				t.Errorf("meter values out of order: %v after %v", ts, last)
			}
			last = ts
			if ts.After(down) && ts.Before(up) {
				offline++
			}
			if mv.TransactionID == nil || *mv.TransactionID != 101 {
				t.Errorf("queued meter value without its transaction: %v", mv.TransactionID)
			}
		case "StopTransaction":
			stopAt = i
			stop := decode(t, calls[i], &v16.StopTransactionRequest{})
			if stop.Timestamp.Before(last) || !stop.Timestamp.Before(up) {
				t.Errorf("stop at %v, last meter value %v, back up at %v", stop.Timestamp, last, up)
			}
		}
	}
	if offline < 8 {
		t.Errorf("%d meter values from the offline time delivered, want about 14", offline)
	}
	if q := st.Stats().Queued.Load(); q != 0 {
		t.Errorf("%d still queued", q)
	}
}

func TestBasicAuthAndReconnectBackoff(t *testing.T) {
	t.Parallel()
	f := newFakeCSMS(t)
	f.password = "s3cret-password"
	f.bootInterval = 60
	st := startStation(t, f, Config{Connectors: 1, Password: "wrong-password"})
	time.Sleep(300 * time.Millisecond)
	if st.Online() || f.connects.Load() != 0 {
		t.Fatal("connected with the wrong password")
	}
	if e := st.Stats().Errors()["http_401"]; e < 1 {
		t.Errorf("errors %v", st.Stats().Errors())
	}
	f2 := newFakeCSMS(t)
	f2.password = "s3cret-password"
	startStation(t, f2, Config{Connectors: 1, Password: "s3cret-password"})
	f2.waitCount(t, 5*time.Second, "BootNotification", 1)
}
