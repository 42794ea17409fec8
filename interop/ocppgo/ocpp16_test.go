package ocppgo_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lorenzodonini/ocpp-go/ocpp1.6/core"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/types"
	"github.com/lorenzodonini/ocpp-go/ws"

	"github.com/chargestar/chargestar/internal/model"
	"github.com/chargestar/chargestar/interop/ocppgo/harness"
)

// TestOCPP16Session drives a whole charging session with ocpp-go's 1.6-J
// charge point: boot, status of connectors 0..2, heartbeat, the four
// authorisation outcomes, a transaction with meter values in Wh and kWh,
// and a stop with transaction data; then checks what the REST API reports.
func TestOCPP16Session(t *testing.T) {
	harness.Backends(t, func(t *testing.T, pg bool) {
		srv := harness.Start(t, pg)
		op := srv.Operator(t, "Interop Op")
		const id = "OCPPGO-16-1"
		srv.Station(t, op.ID, id, "")
		past := time.Now().Add(-24 * time.Hour)
		srv.IDToken(t, op.ID, "GO-ACCEPTED", model.TokenAccepted, nil)
		srv.IDToken(t, op.ID, "GO-BLOCKED", model.TokenBlocked, nil)
		srv.IDToken(t, op.ID, "GO-EXPIRED", model.TokenAccepted, &past)

		p := connect(t, srv, id, peerOptions{})
		if status, h, ok := p.tap.handshake(); !ok || !strings.Contains(status, "101") || h.Get("Sec-WebSocket-Protocol") != "ocpp1.6" {
			t.Fatalf("handshake answer: %q, subprotocol %q", status, h.Get("Sec-WebSocket-Protocol"))
		}
		cp := p.cp

		// Boot.
		before := time.Now().Add(-time.Second)
		boot, err := cp.BootNotification("GoModel", "GoVendor", func(r *core.BootNotificationRequest) {
			r.ChargePointSerialNumber = "GO-SN-1"
			r.FirmwareVersion = "ocpp-go-0.19.0"
			r.MeterType = "ACME-M1"
		})
		if err != nil {
			t.Fatalf("BootNotification: %v", err)
		}
		if boot.Status != core.RegistrationStatusAccepted || boot.Interval != 300 ||
			boot.CurrentTime == nil || boot.CurrentTime.Before(before) || boot.CurrentTime.After(time.Now().Add(time.Second)) {
			t.Fatalf("BootNotification answer: %s", harness.JSON(boot))
		}

		// Status of the station (0) and both connectors.
		for c := 0; c <= 2; c++ {
			if _, err := cp.StatusNotification(c, core.NoError, core.ChargePointStatusAvailable, func(r *core.StatusNotificationRequest) {
				r.Timestamp = dt(time.Now())
			}); err != nil {
				t.Fatalf("StatusNotification %d: %v", c, err)
			}
		}
		hb, err := cp.Heartbeat()
		if err != nil || hb.CurrentTime == nil || hb.CurrentTime.Sub(time.Now()).Abs() > 5*time.Second {
			t.Fatalf("Heartbeat: %s %v", harness.JSON(hb), err)
		}

		st := harness.GetStation(t, srv, id)
		if !st.Connected || st.Protocol == nil || *st.Protocol != "ocpp1.6" || st.Vendor != "GoVendor" || st.Model != "GoModel" ||
			st.SerialNumber != "GO-SN-1" || st.FirmwareVersion != "ocpp-go-0.19.0" {
			t.Fatalf("station after boot: %s", harness.JSON(st))
		}
		if len(st.Connectors) != 2 || st.ConnectorStatus(1) != "Available" || st.ConnectorStatus(2) != "Available" {
			t.Fatalf("connectors after status notifications (0 must not be listed): %s", harness.JSON(st.Connectors))
		}

		// Authorisation outcomes.
		for tag, want := range map[string]types.AuthorizationStatus{
			"GO-ACCEPTED": types.AuthorizationStatusAccepted,
			"GO-BLOCKED":  types.AuthorizationStatusBlocked,
			"GO-EXPIRED":  types.AuthorizationStatusExpired,
			"GO-UNKNOWN":  types.AuthorizationStatusInvalid,
		} {
			res, err := cp.Authorize(tag)
			if err != nil {
				t.Fatalf("Authorize %s: %v", tag, err)
			}
			if res.IdTagInfo == nil || res.IdTagInfo.Status != want {
				t.Errorf("Authorize %s: got %s, want %s", tag, harness.JSON(res.IdTagInfo), want)
			}
		}

		// The transaction.
		t0 := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
		cp.StatusNotification(1, core.NoError, core.ChargePointStatusPreparing)
		start, err := cp.StartTransaction(1, "GO-ACCEPTED", 12345, dt(t0))
		if err != nil {
			t.Fatalf("StartTransaction: %v", err)
		}
		if start.IdTagInfo == nil || start.IdTagInfo.Status != types.AuthorizationStatusAccepted || start.TransactionId <= 0 {
			t.Fatalf("StartTransaction answer: %s", harness.JSON(start))
		}
		txID := start.TransactionId
		tx := strconv.Itoa(txID)
		if _, err := cp.StatusNotification(1, core.NoError, core.ChargePointStatusCharging); err != nil {
			t.Fatalf("StatusNotification Charging: %v", err)
		}
		// Authorize for a token that is charging: Charge Star answers
		// ConcurrentTx (so it cannot start a second session elsewhere); the
		// 1.6 AuthorizationStatus table calls ConcurrentTx "only relevant for
		// a StartTransaction.req", so Accepted would conform as well.
		if res, err := cp.Authorize("GO-ACCEPTED"); err != nil ||
			res.IdTagInfo.Status != types.AuthorizationStatusConcurrentTx && res.IdTagInfo.Status != types.AuthorizationStatusAccepted {
			t.Errorf("Authorize during its own transaction: %s %v, want ConcurrentTx or Accepted", harness.JSON(res), err)
		}

		meter := []struct {
			at        time.Duration
			mv        types.MeterValue
			wantSoFar int64
		}{
			{5 * time.Minute, energy(t0.Add(5*time.Minute), "13345", "Wh", types.ReadingContextSamplePeriodic), 1000},
			{10 * time.Minute, energy(t0.Add(10*time.Minute), "14.845", "kWh", types.ReadingContextSamplePeriodic), 2500},
			{15 * time.Minute, energy(t0.Add(15*time.Minute), "16345.0", "Wh", types.ReadingContextSamplePeriodic), 4000},
		}
		// The last sample also carries power, as real meters do.
		meter[2].mv.SampledValue = append(meter[2].mv.SampledValue, types.SampledValue{
			Value: "7.4", Unit: types.UnitOfMeasureKW, Measurand: types.MeasurandPowerActiveImport, Context: types.ReadingContextSamplePeriodic})
		for _, m := range meter {
			if _, err := cp.MeterValues(1, []types.MeterValue{m.mv}, func(r *core.MeterValuesRequest) { r.TransactionId = &txID }); err != nil {
				t.Fatalf("MeterValues at +%s: %v", m.at, err)
			}
			s, ok := harness.SessionByTx(t, srv, id, tx)
			if !ok || s.Status != "active" || s.EnergyWh != m.wantSoFar {
				t.Fatalf("after the meter value at +%s: session %v (found %v), want active with energy_wh %d", m.at, s, ok, m.wantSoFar)
			}
		}

		t1 := t0.Add(20 * time.Minute)
		stop, err := cp.StopTransaction(17345, dt(t1), txID, func(r *core.StopTransactionRequest) {
			r.IdTag = "GO-ACCEPTED"
			r.Reason = core.ReasonEVDisconnected
			r.TransactionData = []types.MeterValue{
				energy(t0, "12345", "Wh", types.ReadingContextTransactionBegin),
				energy(t1, "17.345", "kWh", types.ReadingContextTransactionEnd),
			}
		})
		if err != nil {
			t.Fatalf("StopTransaction: %v", err)
		}
		if stop.IdTagInfo == nil || stop.IdTagInfo.Status != types.AuthorizationStatusAccepted {
			t.Errorf("StopTransaction answer: %s, want idTagInfo Accepted", harness.JSON(stop))
		}
		cp.StatusNotification(1, core.NoError, core.ChargePointStatusFinishing)
		cp.StatusNotification(1, core.NoError, core.ChargePointStatusAvailable)

		sessions := harness.Sessions(t, srv, id)
		if len(sessions) != 1 {
			t.Fatalf("sessions: %v", sessions)
		}
		s := sessions[0]
		if s.Status != "completed" || s.StationID != id || s.ConnectorID != 1 || s.TransactionID != tx || s.IDTag != "GO-ACCEPTED" ||
			s.EnergyWh != 5000 || s.MeterStartWh != 12345 || s.MeterStopWh == nil || *s.MeterStopWh != 17345 ||
			s.StopReason == nil || *s.StopReason != "EVDisconnected" || s.StopSource == nil || *s.StopSource != "station" ||
			!harness.SameInstant(s.StartedAt, t0) || s.StoppedAt == nil || !harness.SameInstant(*s.StoppedAt, t1) ||
			s.Currency != "AUD" {
			t.Fatalf("completed session: %v\nwant transaction %s, connector 1, energy 5000 Wh (12345→17345), EVDisconnected, %s → %s",
				s, tx, harness.RFC3339(t0), harness.RFC3339(t1))
		}

		// Every energy sample is kept, in Wh whatever unit it came in.
		var got []float64
		for _, mv := range harness.MeterValues(t, srv, s.ID) {
			if mv.EnergyWh != nil {
				got = append(got, *mv.EnergyWh)
			}
		}
		for _, want := range []float64{12345, 13345, 14845, 16345, 17345} {
			found := false
			for _, g := range got {
				found = found || g == want
			}
			if !found {
				t.Errorf("meter values of the session: energy %v Wh missing from %v", want, got)
			}
		}

		// A token refused at start: the Central System still assigns a
		// transaction id (1.6 requires one), the charge point ends it.
		start2, err := cp.StartTransaction(2, "GO-BLOCKED", 500, dt(t1))
		if err != nil || start2.IdTagInfo.Status != types.AuthorizationStatusBlocked || start2.TransactionId <= 0 || start2.TransactionId == txID {
			t.Fatalf("StartTransaction with a blocked token: %s %v", harness.JSON(start2), err)
		}
		if _, err := cp.StopTransaction(500, dt(t1.Add(time.Second)), start2.TransactionId, func(r *core.StopTransactionRequest) {
			r.Reason = core.ReasonDeAuthorized
		}); err != nil {
			t.Fatalf("StopTransaction DeAuthorized: %v", err)
		}
		s2, ok := harness.SessionByTx(t, srv, id, strconv.Itoa(start2.TransactionId))
		if !ok || s2.Status != "completed" || s2.EnergyWh != 0 || s2.StopReason == nil || *s2.StopReason != "DeAuthorized" {
			t.Fatalf("session of the blocked token: %v (found %v)", s2, ok)
		}

		st = harness.GetStation(t, srv, id)
		if st.ConnectorStatus(1) != "Available" {
			t.Errorf("connector 1 after the session: %s", harness.JSON(st.Connectors))
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

// TestOCPP16BasicAuth connects ocpp-go's charge point with HTTP Basic
// authentication (security profile 1) to a station provisioned with a
// password through the REST API.
func TestOCPP16BasicAuth(t *testing.T) {
	harness.Backends(t, func(t *testing.T, pg bool) {
		srv := harness.Start(t, pg)
		op := srv.Operator(t, "Interop Op")
		const id, password = "OCPPGO-AUTH-1", "s3cret-Passw0rd-16chars"
		code, body := harness.API(t, srv, "POST", "/api/v1/stations", map[string]any{"id": id, "operator_id": op.ID, "password": password}, nil)
		if code != 201 {
			t.Fatalf("POST /api/v1/stations with a password: %d %s", code, body)
		}

		// Wrong password, then none: refused before the upgrade with 401.
		for _, pw := range []string{"wrong-password-123", ""} {
			p, _ := newPeer(t, id, peerOptions{password: pw})
			err := p.cp.Start(srv.WSURL)
			if err == nil {
				p.cp.Stop()
				t.Fatalf("password %q: connection accepted", pw)
			}
			var he ws.HttpConnectionError
			if !errors.As(err, &he) || he.HttpCode != 401 {
				t.Fatalf("password %q: want HTTP 401 before the upgrade, got %v", pw, err)
			}
		}

		p := connect(t, srv, id, peerOptions{password: password})
		boot, err := p.cp.BootNotification("GoModel", "GoVendor")
		if err != nil || boot.Status != core.RegistrationStatusAccepted {
			t.Fatalf("BootNotification over Basic auth: %s %v", harness.JSON(boot), err)
		}
		if st := harness.GetStation(t, srv, id); !st.Connected {
			t.Fatalf("station not connected: %s", harness.JSON(st))
		}
	})
}
