package ocppgo_test

import (
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/availability"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/diagnostics"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/provisioning"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/security"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/transactions"
	types2 "github.com/lorenzodonini/ocpp-go/ocpp2.0.1/types"
	"github.com/lorenzodonini/ocpp-go/ws"

	"github.com/chargestar/chargestar/internal/model"
	"github.com/chargestar/chargestar/interop/ocppgo/harness"
)

// TestOCPP201Session drives a whole charging session with ocpp-go's OCPP
// 2.0.1 charging station: negotiation, boot, connector statuses, heartbeat,
// the authorisation outcomes, a transaction reported through
// TransactionEvent (Started with the id token and the register at begin,
// Updated with the charging state and periodic meter values, Ended with
// the stop reason and the register at end), meter values outside a
// transaction, a blocked token, a device-model report, a security event
// and monitoring events; then checks what the REST API reports.
func TestOCPP201Session(t *testing.T) {
	harness.Backends(t, func(t *testing.T, pg bool) {
		srv := harness.Start(t, pg)
		op := srv.Operator(t, "Interop Op")
		const id = "OCPPGO-201-1"
		srv.Station(t, op.ID, id, "")
		past := time.Now().Add(-24 * time.Hour)
		srv.IDToken(t, op.ID, "GO2-ACCEPTED", model.TokenAccepted, nil)
		srv.IDToken(t, op.ID, "GO2-BLOCKED", model.TokenBlocked, nil)
		srv.IDToken(t, op.ID, "GO2-EXPIRED", model.TokenAccepted, &past)

		p := connect201(t, srv, id, station201Options{})
		if status, h, ok := p.tap.handshake(); !ok || !strings.Contains(status, " 101 ") || h.Get("Sec-WebSocket-Protocol") != "ocpp2.0.1" {
			t.Fatalf("handshake answer: %q, subprotocol %q; want 101 with ocpp2.0.1", status, h.Get("Sec-WebSocket-Protocol"))
		}
		cs := p.cs

		// Boot.
		before := time.Now().Add(-time.Second)
		boot, err := cs.BootNotification(provisioning.BootReasonPowerUp, "Go201Model", "GoVendor", func(r *provisioning.BootNotificationRequest) {
			r.ChargingStation.SerialNumber = "GO2-SN-1"
			r.ChargingStation.FirmwareVersion = "ocpp-go-0.19.0"
		})
		if err != nil {
			t.Fatalf("BootNotification: %v", err)
		}
		if boot.Status != provisioning.RegistrationStatusAccepted || boot.Interval != 300 || boot.CurrentTime == nil ||
			boot.CurrentTime.Before(before) || boot.CurrentTime.After(time.Now().Add(time.Second)) {
			t.Fatalf("BootNotification answer: %s", harness.JSON(boot))
		}

		// Status of both EVSEs (one connector each). The station's clock
		// runs an hour behind (every timestamp below is before now).
		t0 := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
		for evse := 1; evse <= 2; evse++ {
			if _, err := cs.StatusNotification(dt2(t0.Add(-time.Minute)), availability.ConnectorStatusAvailable, evse, 1); err != nil {
				t.Fatalf("StatusNotification EVSE %d: %v", evse, err)
			}
		}
		hb, err := cs.Heartbeat()
		if err != nil || hb.CurrentTime.Sub(time.Now()).Abs() > 5*time.Second {
			t.Fatalf("Heartbeat: %s %v", harness.JSON(hb), err)
		}
		st := harness.GetStation(t, srv, id)
		if !st.Connected || st.Protocol == nil || *st.Protocol != "ocpp2.0.1" || st.Vendor != "GoVendor" || st.Model != "Go201Model" ||
			st.SerialNumber != "GO2-SN-1" || st.FirmwareVersion != "ocpp-go-0.19.0" || st.LastSeenAt == nil {
			t.Fatalf("station after boot: %s", harness.JSON(st))
		}
		if len(st.Connectors) != 2 || st.ConnectorStatus(1) != "Available" || st.ConnectorStatus(2) != "Available" {
			t.Fatalf("connectors after status notifications: %s, want EVSE 1 and 2 Available", harness.JSON(st.Connectors))
		}

		// Authorisation outcomes.
		for tag, want := range map[string]types2.AuthorizationStatus{
			"GO2-ACCEPTED": types2.AuthorizationStatusAccepted,
			"GO2-BLOCKED":  types2.AuthorizationStatusBlocked,
			"GO2-EXPIRED":  types2.AuthorizationStatusExpired,
			"GO2-UNKNOWN":  types2.AuthorizationStatusInvalid,
		} {
			res, err := cs.Authorize(tag, types2.IdTokenTypeISO14443)
			if err != nil {
				t.Fatalf("Authorize %s: %v", tag, err)
			}
			if res.IdTokenInfo.Status != want {
				t.Errorf("Authorize %s: got %s, want %s", tag, harness.JSON(res.IdTokenInfo), want)
			}
		}

		// The driver plugs in: Occupied without a transaction is Preparing.
		if _, err := cs.StatusNotification(dt2(t0), availability.ConnectorStatusOccupied, 1, 1); err != nil {
			t.Fatalf("StatusNotification Occupied: %v", err)
		}
		if st := harness.GetStation(t, srv, id); st.ConnectorStatus(1) != "Preparing" {
			t.Fatalf("EVSE 1 after Occupied: %s, want Preparing", harness.JSON(st.Connectors))
		}

		// Started: the id token, the EVSE and the register at begin.
		const tx = "GO2-TX-0001"
		started, err := p.txEvent(transactions.TransactionEventStarted, t0, transactions.TriggerReasonAuthorized, 0,
			transactions.Transaction{TransactionID: tx, ChargingState: transactions.ChargingStateEVConnected},
			func(r *transactions.TransactionEventRequest) {
				r.IDToken = &types2.IdToken{IdToken: "GO2-ACCEPTED", Type: types2.IdTokenTypeISO14443}
				r.Evse = evse2(1, 1)
				r.MeterValue = []types2.MeterValue{energy2(t0, 12345, "Wh", nil, types2.ReadingContextTransactionBegin)}
			})
		if err != nil {
			t.Fatalf("TransactionEvent Started: %v", err)
		}
		if started.IDTokenInfo == nil || started.IDTokenInfo.Status != types2.AuthorizationStatusAccepted {
			t.Fatalf("TransactionEvent Started answer: %s, want idTokenInfo Accepted", harness.JSON(started))
		}
		s, ok := harness.SessionByTx(t, srv, id, tx)
		if !ok || s.Status != "active" || s.ConnectorID != 1 || s.IDTag != "GO2-ACCEPTED" || s.MeterStartWh != 12345 ||
			s.EnergyWh != 0 || !harness.SameInstant(s.StartedAt, t0) {
			t.Fatalf("session after Started: %v (found %v), want active on EVSE 1, GO2-ACCEPTED, meter start 12345, started %s",
				s, ok, harness.RFC3339(t0))
		}

		// Updated: energy flows.
		if _, err := p.txEvent(transactions.TransactionEventUpdated, t0.Add(time.Minute), transactions.TriggerReasonChargingStateChanged, 1,
			transactions.Transaction{TransactionID: tx, ChargingState: transactions.ChargingStateCharging}); err != nil {
			t.Fatalf("TransactionEvent Updated (Charging): %v", err)
		}
		if st := harness.GetStation(t, srv, id); st.ConnectorStatus(1) != "Charging" || st.ConnectorStatus(2) != "Available" {
			t.Fatalf("connectors while charging: %s, want EVSE 1 Charging, 2 Available", harness.JSON(st.Connectors))
		}
		meter := []struct {
			at        time.Duration
			mv        types2.MeterValue
			wantSoFar int64
		}{
			{5 * time.Minute, energy2(t0.Add(5*time.Minute), 13345, "Wh", nil, types2.ReadingContextSamplePeriodic), 1000},
			{10 * time.Minute, energy2(t0.Add(10*time.Minute), 14.845, "kWh", nil, types2.ReadingContextSamplePeriodic), 2500},
			// A register in Wh with a multiplier of 10³ (a meter counting kWh).
			{15 * time.Minute, energy2(t0.Add(15*time.Minute), 16.345, "Wh", intp(3), types2.ReadingContextSamplePeriodic), 4000},
		}
		meter[2].mv.SampledValue = append(meter[2].mv.SampledValue, types2.SampledValue{
			Value: 7400, Measurand: types2.MeasurandPowerActiveImport, Context: types2.ReadingContextSamplePeriodic,
			UnitOfMeasure: &types2.UnitOfMeasure{Unit: "W"}})
		for i, m := range meter {
			if _, err := p.txEvent(transactions.TransactionEventUpdated, t0.Add(m.at), transactions.TriggerReasonMeterValuePeriodic, 2+i,
				transactions.Transaction{TransactionID: tx, ChargingState: transactions.ChargingStateCharging},
				func(r *transactions.TransactionEventRequest) { r.MeterValue = []types2.MeterValue{m.mv} }); err != nil {
				t.Fatalf("TransactionEvent Updated at +%s: %v", m.at, err)
			}
			s, ok := harness.SessionByTx(t, srv, id, tx)
			if !ok || s.Status != "active" || s.EnergyWh != m.wantSoFar {
				t.Fatalf("after the meter value at +%s: session %v (found %v), want active with energy_wh %d", m.at, s, ok, m.wantSoFar)
			}
		}
		if st := harness.GetStation(t, srv, id); st.ConnectorStatus(1) != "Charging" {
			t.Errorf("EVSE 1 while metering: %s, want Charging", harness.JSON(st.Connectors))
		}

		// Meter values outside a transaction (the station's main meter,
		// and the idle EVSE 2): accepted, and no session comes of them.
		for _, evse := range []int{0, 2} {
			if _, err := cs.MeterValues(evse, []types2.MeterValue{energy2(t0.Add(16*time.Minute), 500, "Wh", nil, types2.ReadingContextSampleClock)}); err != nil {
				t.Fatalf("MeterValues on EVSE %d: %v", evse, err)
			}
		}
		if got := harness.Sessions(t, srv, id); len(got) != 1 || got[0].EnergyWh != 4000 {
			t.Fatalf("sessions after meter values outside the transaction: %v, want the one session at 4000 Wh", got)
		}

		// Ended: the driver unplugs.
		t1 := t0.Add(20 * time.Minute)
		ended, err := p.txEvent(transactions.TransactionEventEnded, t1, transactions.TriggerReasonEVCommunicationLost, 5,
			transactions.Transaction{TransactionID: tx, ChargingState: transactions.ChargingStateIdle, StoppedReason: transactions.ReasonEVDisconnected},
			func(r *transactions.TransactionEventRequest) {
				r.MeterValue = []types2.MeterValue{energy2(t1, 17.345, "kWh", nil, types2.ReadingContextTransactionEnd)}
			})
		if err != nil {
			t.Fatalf("TransactionEvent Ended: %v", err)
		}
		if ended.IDTokenInfo != nil {
			t.Errorf("TransactionEvent Ended without an idToken answered with idTokenInfo %s (2.0.1: only when the request had an idToken)", harness.JSON(ended.IDTokenInfo))
		}
		sessions := harness.Sessions(t, srv, id)
		if len(sessions) != 1 {
			t.Fatalf("sessions: %v", sessions)
		}
		s = sessions[0]
		if s.Status != "completed" || s.StationID != id || s.ConnectorID != 1 || s.TransactionID != tx || s.IDTag != "GO2-ACCEPTED" ||
			s.EnergyWh != 5000 || s.MeterStartWh != 12345 || s.MeterStopWh == nil || *s.MeterStopWh != 17345 ||
			s.StopReason == nil || *s.StopReason != "EVDisconnected" || s.StopSource == nil || *s.StopSource != "station" ||
			!harness.SameInstant(s.StartedAt, t0) || s.StoppedAt == nil || !harness.SameInstant(*s.StoppedAt, t1) || s.Currency != "AUD" {
			t.Fatalf("completed session: %v\nwant transaction %s, EVSE 1, GO2-ACCEPTED, 5000 Wh (12345→17345), EVDisconnected, %s → %s",
				s, tx, harness.RFC3339(t0), harness.RFC3339(t1))
		}
		var got []float64
		for _, mv := range harness.MeterValues(t, srv, s.ID) {
			if mv.TransactionID != tx {
				t.Errorf("meter value of the session with transaction id %q", mv.TransactionID)
			}
			if mv.EnergyWh != nil {
				got = append(got, *mv.EnergyWh)
			}
			// The API has no multiplier field: a sample with a multiplier
			// must be listed with it applied, exactly.
			if harness.SameInstant(mv.Timestamp, t0.Add(15*time.Minute)) && len(mv.Samples) > 0 {
				if v, err := strconv.ParseFloat(mv.Samples[0].Value, 64); err != nil || v != 16345 || mv.Samples[0].Unit != "Wh" {
					t.Errorf("the sample sent as 16.345 Wh × 10³ is listed as %q %s, want 16345 Wh", mv.Samples[0].Value, mv.Samples[0].Unit)
				}
			}
		}
		// Each reading exactly as the meter said it, in Wh: 16.345 × 10³ Wh
		// is 16345 Wh, not the nearest binary product.
		for _, want := range []float64{12345, 13345, 14845, 16345, 17345} {
			found, near := false, 0.0
			for _, g := range got {
				found = found || g == want
				if g != want && math.Abs(g-want) < 0.01 {
					near = g
				}
			}
			switch {
			case !found && near != 0:
				t.Errorf("meter values of the session: the reading of %v Wh is reported as %v Wh (the unit multiplier is applied in binary floating point)", want, near)
			case !found:
				t.Errorf("meter values of the session: energy %v Wh missing from %v", want, got)
			}
		}
		if len(got) != 5 {
			t.Errorf("meter values of the session: %v, want the five readings of the transaction only", got)
		}

		// After Ended the cable is still in: Finishing; then unplugged.
		if st := harness.GetStation(t, srv, id); st.ConnectorStatus(1) != "Finishing" {
			t.Errorf("EVSE 1 after Ended (still Occupied): %s, want Finishing", harness.JSON(st.Connectors))
		}
		if _, err := cs.StatusNotification(dt2(t1.Add(time.Minute)), availability.ConnectorStatusAvailable, 1, 1); err != nil {
			t.Fatalf("StatusNotification Available: %v", err)
		}
		if st := harness.GetStation(t, srv, id); st.ConnectorStatus(1) != "Available" {
			t.Errorf("EVSE 1 after unplugging: %s, want Available", harness.JSON(st.Connectors))
		}

		// A blocked token at start: the station is told Blocked and ends
		// the transaction (E05: Deauthorized).
		const tx2 = "GO2-TX-0002"
		res, err := p.txEvent(transactions.TransactionEventStarted, t1.Add(2*time.Minute), transactions.TriggerReasonAuthorized, 0,
			transactions.Transaction{TransactionID: tx2},
			func(r *transactions.TransactionEventRequest) {
				r.IDToken = &types2.IdToken{IdToken: "GO2-BLOCKED", Type: types2.IdTokenTypeISO14443}
				r.Evse = evse2(2, 1)
			})
		if err != nil || res.IDTokenInfo == nil || res.IDTokenInfo.Status != types2.AuthorizationStatusBlocked {
			t.Fatalf("TransactionEvent Started with a blocked token: %s %v, want idTokenInfo Blocked", harness.JSON(res), err)
		}
		if _, err := p.txEvent(transactions.TransactionEventEnded, t1.Add(3*time.Minute), transactions.TriggerReasonDeAuthorized, 1,
			transactions.Transaction{TransactionID: tx2, StoppedReason: transactions.ReasonDeAuthorized}); err != nil {
			t.Fatalf("TransactionEvent Ended DeAuthorized: %v", err)
		}
		if s2, ok := harness.SessionByTx(t, srv, id, tx2); !ok || s2.Status != "completed" || s2.ConnectorID != 2 || s2.EnergyWh != 0 ||
			s2.StopReason == nil || *s2.StopReason != "DeAuthorized" {
			t.Fatalf("session of the blocked token: %v (found %v)", s2, ok)
		}

		// The device model: a report (as after GetBaseReport).
		if _, err := cs.NotifyReport(0, dt2(time.Now()), 0, func(r *provisioning.NotifyReportRequest) {
			r.ReportData = []provisioning.ReportData{
				{Component: types2.Component{Name: "OCPPCommCtrlr"}, Variable: types2.Variable{Name: "HeartbeatInterval"},
					VariableAttribute:       []provisioning.VariableAttribute{{Type: types2.AttributeActual, Value: "300", Mutability: provisioning.MutabilityReadWrite}},
					VariableCharacteristics: &provisioning.VariableCharacteristics{DataType: provisioning.TypeInteger, Unit: "s"}},
				{Component: types2.Component{Name: "EVSE", EVSE: &types2.EVSE{ID: 1}}, Variable: types2.Variable{Name: "Power"},
					VariableAttribute: []provisioning.VariableAttribute{
						{Type: types2.AttributeActual, Value: "7400", Mutability: provisioning.MutabilityReadOnly},
						{Type: types2.AttributeMaxSet, Value: "22000", Mutability: provisioning.MutabilityReadOnly}},
					VariableCharacteristics: &provisioning.VariableCharacteristics{DataType: provisioning.TypeDecimal, Unit: "W", SupportsMonitoring: true}},
			}
		}); err != nil {
			t.Fatalf("NotifyReport: %v", err)
		}
		vars := harness.Variables(t, srv, id)
		if v := vars["OCPPCommCtrlr.HeartbeatInterval.Actual"]; v.Value != "300" || v.Mutability != "ReadWrite" || v.DataType != "integer" || v.Unit != "s" {
			t.Errorf("OCPPCommCtrlr.HeartbeatInterval from the report: %+v", v)
		}
		if v := vars["EVSE/evse1.Power.MaxSet"]; v.Value != "22000" || v.Mutability != "ReadOnly" || v.DataType != "decimal" {
			t.Errorf("EVSE 1 Power MaxSet from the report: %+v (all: %v)", v, vars)
		}

		// Security event and monitoring events.
		if _, err := cs.SecurityEventNotification("SettingSystemTime", dt2(time.Now()), func(r *security.SecurityEventNotificationRequest) {
			r.TechInfo = "clock set by NTP"
		}); err != nil {
			t.Fatalf("SecurityEventNotification: %v", err)
		}
		if _, err := cs.NotifyEvent(dt2(time.Now()), 0, []diagnostics.EventData{
			{EventID: 1, Timestamp: dt2(time.Now()), Trigger: diagnostics.EventTriggerAlerting, ActualValue: "true", TechInfo: "door open",
				EventNotificationType: diagnostics.EventHardWiredNotification,
				Component:             types2.Component{Name: "ChargingStation"}, Variable: types2.Variable{Name: "Problem"}},
			// A connector status reported as a monitoring event.
			{EventID: 2, Timestamp: dt2(time.Now()), Trigger: diagnostics.EventTriggerDelta, ActualValue: "Faulted",
				EventNotificationType: diagnostics.EventHardWiredNotification,
				Component:             types2.Component{Name: "Connector", EVSE: evse2(2, 1)}, Variable: types2.Variable{Name: "AvailabilityState"}},
		}); err != nil {
			t.Fatalf("NotifyEvent: %v", err)
		}
		var secEvent, problem, availabilityEvent bool
		for _, ev := range harness.StationEvents(t, srv, id) {
			switch {
			case ev.Kind == "security" && ev.Type == "SettingSystemTime" && strings.Contains(ev.TechInfo, "clock set by NTP"):
				secEvent = true
			case ev.Kind == "notify" && strings.Contains(ev.Type, "ChargingStation.Problem") && strings.Contains(ev.TechInfo, "door open"):
				problem = true
			case ev.Kind == "notify" && strings.Contains(ev.Type, "AvailabilityState") && strings.Contains(ev.TechInfo, "Faulted"):
				availabilityEvent = true
			}
		}
		if !secEvent || !problem || !availabilityEvent {
			t.Errorf("station events: security %v, Problem %v, AvailabilityState %v; got %s", secEvent, problem, availabilityEvent,
				harness.JSON(harness.StationEvents(t, srv, id)))
		}
		if st := harness.GetStation(t, srv, id); st.ConnectorStatus(2) != "Faulted" {
			t.Errorf("EVSE 2 after a Faulted AvailabilityState event: %s", harness.JSON(st.Connectors))
		}

		// The history keeps the 2.x status beside its 1.6 name.
		var occupied bool
		for _, ev := range harness.StatusEvents(t, srv, id) {
			occupied = occupied || ev.ConnectorID == 1 && ev.Status == "Preparing" && strings.Contains(ev.Info, "Occupied")
		}
		if !occupied {
			t.Errorf("status history of EVSE 1 lacks the Occupied notification (as Preparing): %s", harness.JSON(harness.StatusEvents(t, srv, id)))
		}

		p.stop()
		harness.Eventually(t, 5*time.Second, func() string {
			if st := harness.GetStation(t, srv, id); st.Connected {
				return "station still connected after ocpp-go stopped"
			}
			return ""
		})
	})
}

// TestOCPP201BasicAuth connects ocpp-go's 2.0.1 charging station with HTTP
// Basic authentication (security profile 1) to a station provisioned with
// a password through the REST API.
func TestOCPP201BasicAuth(t *testing.T) {
	harness.Backends(t, func(t *testing.T, pg bool) {
		srv := harness.Start(t, pg)
		op := srv.Operator(t, "Interop Op")
		const id, password = "OCPPGO-201-AUTH", "s3cret-Passw0rd-201chars"
		code, body := harness.API(t, srv, "POST", "/api/v1/stations", map[string]any{"id": id, "operator_id": op.ID, "password": password}, nil)
		if code != 201 {
			t.Fatalf("POST /api/v1/stations with a password: %d %s", code, body)
		}
		for _, pw := range []string{"wrong-password-201", ""} {
			p := newStation201(t, id, station201Options{password: pw})
			err := p.cs.Start(srv.WSURL)
			if err == nil {
				p.cs.Stop()
				t.Fatalf("password %q: connection accepted", pw)
			}
			var he ws.HttpConnectionError
			if !errors.As(err, &he) || he.HttpCode != 401 {
				t.Fatalf("password %q: want HTTP 401 before the upgrade, got %v", pw, err)
			}
		}
		if st := harness.GetStation(t, srv, id); st.Connected || st.Protocol != nil {
			t.Fatalf("station after refused connections: %s", harness.JSON(st))
		}

		p := connect201(t, srv, id, station201Options{password: password})
		boot, err := p.cs.BootNotification(provisioning.BootReasonPowerUp, "Go201Model", "GoVendor")
		if err != nil || boot.Status != provisioning.RegistrationStatusAccepted {
			t.Fatalf("BootNotification over Basic auth: %s %v", harness.JSON(boot), err)
		}
		if st := harness.GetStation(t, srv, id); !st.Connected || st.Protocol == nil || *st.Protocol != "ocpp2.0.1" {
			t.Fatalf("station: %s", harness.JSON(st))
		}
	})
}

// TestOCPPSubprotocolPreference: a station offering several versions gets
// the server's preferred one among them (ocpp2.1, then ocpp2.0.1, then
// ocpp1.6), whatever the order of its offer, and versions the server does
// not serve over JSON are passed over.
func TestOCPPSubprotocolPreference(t *testing.T) {
	srv := harness.Start(t, false)
	op := srv.Operator(t, "Interop Op")

	// ocpp-go's 2.0.1 station offering "ocpp1.6, ocpp2.0.1" (a station able
	// to speak both, preferring 1.6).
	const dual = "OCPPGO-DUAL-1"
	srv.Station(t, op.ID, dual, "")
	p := connect201(t, srv, dual, station201Options{subprotocols: []string{"ocpp1.6"}})
	if _, h, _ := p.tap.handshake(); h.Get("Sec-WebSocket-Protocol") != "ocpp2.0.1" {
		t.Fatalf("offer ocpp1.6, ocpp2.0.1: negotiated %q, want ocpp2.0.1 (the newest version both speak)", h.Get("Sec-WebSocket-Protocol"))
	}
	if boot, err := p.cs.BootNotification(provisioning.BootReasonPowerUp, "GoModel", "GoVendor"); err != nil || boot.Status != provisioning.RegistrationStatusAccepted {
		t.Fatalf("BootNotification: %s %v", harness.JSON(boot), err)
	}
	if st := harness.GetStation(t, srv, dual); st.Protocol == nil || *st.Protocol != "ocpp2.0.1" || !st.Connected {
		t.Fatalf("station: %s", harness.JSON(st))
	}

	// ocpp-go's 1.6 charge point offering "ocpp1.5, ocpp1.6": 1.5 is SOAP
	// only, so 1.6.
	const old = "OCPPGO-DUAL-2"
	srv.Station(t, op.ID, old, "")
	p16 := connect(t, srv, old, peerOptions{subprotocols: []string{"ocpp1.5"}})
	if _, h, _ := p16.tap.handshake(); h.Get("Sec-WebSocket-Protocol") != "ocpp1.6" {
		t.Fatalf("offer ocpp1.5, ocpp1.6: negotiated %q, want ocpp1.6", h.Get("Sec-WebSocket-Protocol"))
	}
	if _, err := p16.cp.BootNotification("GoModel", "GoVendor"); err != nil {
		t.Fatalf("BootNotification: %v", err)
	}
	if st := harness.GetStation(t, srv, old); st.Protocol == nil || *st.Protocol != "ocpp1.6" || !st.Connected {
		t.Fatalf("station: %s", harness.JSON(st))
	}
}

// TestOCPPNoCommonSubprotocol: a client offering no subprotocol the server
// serves (here "ocpp1.5" and "ocpp3.0") gets the OCPP-J behaviour: the
// handshake completes without a Sec-WebSocket-Protocol header (RFC 6455
// §4.2.2), the server closes the connection with 1002 (protocol error),
// and the station never counts as connected.
func TestOCPPNoCommonSubprotocol(t *testing.T) {
	srv := harness.Start(t, false)
	op := srv.Operator(t, "Interop Op")
	const id = "OCPPGO-NONE-1"
	srv.Station(t, op.ID, id, "")
	d := websocket.Dialer{Subprotocols: []string{"ocpp1.5", "ocpp3.0"}, HandshakeTimeout: 5 * time.Second}
	c, resp, err := d.Dial(srv.WSURL+"/"+id, nil)
	if err != nil {
		t.Fatalf("the WebSocket handshake must complete even without a common subprotocol: %v (%v)", err, resp)
	}
	defer c.Close()
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Sec-WebSocket-Protocol") != "" {
		t.Fatalf("handshake: %d, subprotocol %q; want 101 without a subprotocol", resp.StatusCode, resp.Header.Get("Sec-WebSocket-Protocol"))
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err = c.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseProtocolError {
		t.Fatalf("after the handshake: %v, want a close frame 1002", err)
	}
	if st := harness.GetStation(t, srv, id); st.Connected || st.Protocol != nil || st.Vendor != "" {
		t.Errorf("station after the refused connection: %s, want not connected, no protocol, never booted", harness.JSON(st))
	}
}

// TestOCPP201Reconnect: the connection drops during a transaction and the
// station (a new ocpp-go instance, same identity) reconnects without
// rebooting. OCPP 2.0.1 asks for a BootNotification after a (re)boot
// (B01), not after a reconnection, so the station goes on where it was:
// it delivers the transaction events it queued while offline (offline
// true) and ends the transaction on the new connection.
func TestOCPP201Reconnect(t *testing.T) {
	harness.Backends(t, func(t *testing.T, pg bool) {
		srv := harness.Start(t, pg)
		op := srv.Operator(t, "Interop Op")
		const id, tx = "OCPPGO-201-RECON", "GO2-RECON-TX"
		srv.Station(t, op.ID, id, "")
		srv.IDToken(t, op.ID, "GO2-ACCEPTED", model.TokenAccepted, nil)
		t0 := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)

		p1 := connect201(t, srv, id, station201Options{})
		if _, err := p1.cs.BootNotification(provisioning.BootReasonPowerUp, "Go201Model", "GoVendor"); err != nil {
			t.Fatalf("BootNotification: %v", err)
		}
		if _, err := p1.txEvent(transactions.TransactionEventStarted, t0, transactions.TriggerReasonAuthorized, 0,
			transactions.Transaction{TransactionID: tx, ChargingState: transactions.ChargingStateCharging},
			func(r *transactions.TransactionEventRequest) {
				r.IDToken = &types2.IdToken{IdToken: "go2-accepted", Type: types2.IdTokenTypeISO14443} // id tokens are case-insensitive
				r.Evse = evse2(1, 1)
				r.MeterValue = []types2.MeterValue{energy2(t0, 1000, "Wh", nil, types2.ReadingContextTransactionBegin)}
			}); err != nil {
			t.Fatalf("TransactionEvent Started: %v", err)
		}
		p1.stop()
		harness.Eventually(t, 5*time.Second, func() string {
			if harness.GetStation(t, srv, id).Connected {
				return "station still connected after the first connection dropped"
			}
			return ""
		})

		p2 := connect201(t, srv, id, station201Options{})
		if _, err := p2.txEvent(transactions.TransactionEventUpdated, t0.Add(10*time.Minute), transactions.TriggerReasonMeterValuePeriodic, 1,
			transactions.Transaction{TransactionID: tx, ChargingState: transactions.ChargingStateCharging},
			func(r *transactions.TransactionEventRequest) {
				r.Offline = true
				r.MeterValue = []types2.MeterValue{energy2(t0.Add(10*time.Minute), 1.8, "kWh", nil, types2.ReadingContextSamplePeriodic)}
			}); err != nil {
			t.Fatalf("TransactionEvent Updated (queued while offline) on the new connection, without a new boot: %v", err)
		}
		if s, _ := harness.SessionByTx(t, srv, id, tx); s.Status != "active" || s.EnergyWh != 800 {
			t.Fatalf("session after the queued Updated: %v, want active with 800 Wh", s)
		}
		if _, err := p2.txEvent(transactions.TransactionEventEnded, t0.Add(20*time.Minute), transactions.TriggerReasonStopAuthorized, 2,
			transactions.Transaction{TransactionID: tx, StoppedReason: transactions.ReasonLocal},
			func(r *transactions.TransactionEventRequest) {
				r.IDToken = &types2.IdToken{IdToken: "GO2-ACCEPTED", Type: types2.IdTokenTypeISO14443}
				r.MeterValue = []types2.MeterValue{energy2(t0.Add(20*time.Minute), 2200, "Wh", nil, types2.ReadingContextTransactionEnd)}
			}); err != nil {
			t.Fatalf("TransactionEvent Ended on the new connection: %v", err)
		}
		s, _ := harness.SessionByTx(t, srv, id, tx)
		if s.Status != "completed" || s.EnergyWh != 1200 || s.StopReason == nil || *s.StopReason != "Local" || s.IDTag == "" ||
			!strings.EqualFold(s.IDTag, "GO2-ACCEPTED") {
			t.Fatalf("session ended on the new connection: %v, want completed, 1200 Wh, Local, GO2-ACCEPTED", s)
		}
		if st := harness.GetStation(t, srv, id); !st.Connected || st.Protocol == nil || *st.Protocol != "ocpp2.0.1" {
			t.Fatalf("station after the reconnection: %s", harness.JSON(st))
		}
	})
}
