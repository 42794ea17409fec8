package ocppgo_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/lorenzodonini/ocpp-go/ocpp"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/core"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/types"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/availability"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/provisioning"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/remotecontrol"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/transactions"
	types2 "github.com/lorenzodonini/ocpp-go/ocpp2.0.1/types"

	"github.com/chargestar/chargestar/internal/model"
	"github.com/chargestar/chargestar/interop/ocppgo/harness"
	"github.com/chargestar/chargestar/interop/ocppgo/nodepeer"
)

// TestMixedFleet connects three stations of three OCPP versions and three
// implementations at once — ocpp-go's 1.6-J charge point, ocpp-go's 2.0.1
// charging station and ocpp-rpc as a 2.1 charging station (strict, against
// the official 2.1 schemas) — runs the same session on each (register at
// 20000 Wh, readings of 21000 Wh and 22.5 kWh, stopped remotely through
// the version-neutral "stop" command at 23000 Wh), and checks that the
// REST API shows all three the same way: the same session fields with
// the same values, the same connector statuses (1.6 names; for 2.x the
// EVSE), the same status history, and each station's own protocol.
func TestMixedFleet(t *testing.T) {
	node, dir := nodepeer.NodeDir(t)
	schemas := nodepeer.Schemas21(t)
	harness.Backends(t, func(t *testing.T, pg bool) {
		srv := harness.Start(t, pg)
		op := srv.Operator(t, "Fleet Op")
		const (
			id16, id201, id21 = "FLEET-16", "FLEET-201", "FLEET-21"
			tx201, tx21       = "FLEET-201-TX", "FLEET-21-TX"
			password21        = "fleet-node-password-2024"
		)
		srv.Station(t, op.ID, id16, "")
		srv.Station(t, op.ID, id201, "")
		if code, body := harness.API(t, srv, "POST", "/api/v1/stations", map[string]any{"id": id21, "operator_id": op.ID, "password": password21}, nil); code != 201 {
			t.Fatalf("creating %s: %d %s", id21, code, body)
		}
		tag := map[string]string{id16: "FLEET-TAG-16", id201: "FLEET-TAG-201", id21: "FLEET-TAG-21"}
		for _, tg := range tag {
			srv.IDToken(t, op.ID, tg, model.TokenAccepted, nil)
		}
		srv.IDToken(t, op.ID, "FLEET-BLOCKED", model.TokenBlocked, nil)
		srv.IDToken(t, op.ID, "FLEET-EXPIRED", model.TokenAccepted, ptr(time.Now().Add(-time.Hour)))

		// The 2.1 station: ocpp-rpc, to its "charging" event.
		script := nodepeer.Run(t, node, dir, "scenario2x.mjs", map[string]any{
			"url": srv.WSURL, "station": id21, "password": password21, "version": "ocpp2.1", "schemaDir": schemas, "transactionId": tx21,
			"tags": map[string]string{"accepted": tag[id21], "blocked": "FLEET-BLOCKED", "expired": "FLEET-EXPIRED", "unknown": "FLEET-NOBODY"},
		})
		script.Expect("connected", 20*time.Second)

		t0 := time.Now().UTC().Add(-30 * time.Minute).Truncate(time.Second)
		stopAt := t0.Add(20 * time.Minute)
		startedAt := map[string]time.Time{id16: t0, id201: t0}

		// The 1.6 station.
		p16 := connect(t, srv, id16, peerOptions{})
		cp := p16.cp
		if _, err := cp.BootNotification("GoModel", "GoVendor"); err != nil {
			t.Fatalf("1.6 BootNotification: %v", err)
		}
		if _, err := cp.StatusNotification(1, core.NoError, core.ChargePointStatusAvailable); err != nil {
			t.Fatalf("1.6 StatusNotification: %v", err)
		}
		cp.StatusNotification(1, core.NoError, core.ChargePointStatusPreparing)
		start, err := cp.StartTransaction(1, tag[id16], 20000, dt(t0))
		if err != nil || start.IdTagInfo.Status != types.AuthorizationStatusAccepted {
			t.Fatalf("1.6 StartTransaction: %s %v", harness.JSON(start), err)
		}
		tx16 := start.TransactionId
		cp.StatusNotification(1, core.NoError, core.ChargePointStatusCharging)
		for _, mv := range []types.MeterValue{
			energy(t0.Add(5*time.Minute), "21000", "Wh", types.ReadingContextSamplePeriodic),
			energy(t0.Add(10*time.Minute), "22.5", "kWh", types.ReadingContextSamplePeriodic),
		} {
			if _, err := cp.MeterValues(1, []types.MeterValue{mv}, func(r *core.MeterValuesRequest) { r.TransactionId = &tx16 }); err != nil {
				t.Fatalf("1.6 MeterValues: %v", err)
			}
		}
		p16.then(core.RemoteStopTransactionFeatureName, func(ocpp.Request) {
			_, err := cp.StopTransaction(23000, dt(stopAt), tx16, func(r *core.StopTransactionRequest) {
				r.IdTag = tag[id16]
				r.Reason = core.ReasonRemote
			})
			p16.followUp("StopTransaction", err)
			_, err = cp.StatusNotification(1, core.NoError, core.ChargePointStatusFinishing)
			p16.followUp("StatusNotification Finishing", err)
			_, err = cp.StatusNotification(1, core.NoError, core.ChargePointStatusAvailable)
			p16.followUp("StatusNotification Available", err)
		})

		// The 2.0.1 station.
		p201 := connect201(t, srv, id201, station201Options{})
		cs := p201.cs
		if _, err := cs.BootNotification(provisioning.BootReasonPowerUp, "Go201Model", "GoVendor"); err != nil {
			t.Fatalf("2.0.1 BootNotification: %v", err)
		}
		if _, err := cs.StatusNotification(dt2(t0.Add(-time.Minute)), availability.ConnectorStatusAvailable, 1, 1); err != nil {
			t.Fatalf("2.0.1 StatusNotification: %v", err)
		}
		cs.StatusNotification(dt2(t0), availability.ConnectorStatusOccupied, 1, 1)
		if res, err := p201.txEvent(transactions.TransactionEventStarted, t0, transactions.TriggerReasonAuthorized, 0,
			transactions.Transaction{TransactionID: tx201, ChargingState: transactions.ChargingStateEVConnected},
			func(r *transactions.TransactionEventRequest) {
				r.IDToken = &types2.IdToken{IdToken: tag[id201], Type: types2.IdTokenTypeISO14443}
				r.Evse = evse2(1, 1)
				r.MeterValue = []types2.MeterValue{energy2(t0, 20000, "Wh", nil, types2.ReadingContextTransactionBegin)}
			}); err != nil || res.IDTokenInfo == nil || res.IDTokenInfo.Status != types2.AuthorizationStatusAccepted {
			t.Fatalf("2.0.1 TransactionEvent Started: %s %v", harness.JSON(res), err)
		}
		p201.txEvent(transactions.TransactionEventUpdated, t0.Add(time.Minute), transactions.TriggerReasonChargingStateChanged, 1,
			transactions.Transaction{TransactionID: tx201, ChargingState: transactions.ChargingStateCharging})
		for i, mv := range []types2.MeterValue{
			energy2(t0.Add(5*time.Minute), 21000, "Wh", nil, types2.ReadingContextSamplePeriodic),
			energy2(t0.Add(10*time.Minute), 22.5, "kWh", nil, types2.ReadingContextSamplePeriodic),
		} {
			if _, err := p201.txEvent(transactions.TransactionEventUpdated, mv.Timestamp.Time, transactions.TriggerReasonMeterValuePeriodic, 2+i,
				transactions.Transaction{TransactionID: tx201, ChargingState: transactions.ChargingStateCharging},
				func(r *transactions.TransactionEventRequest) { r.MeterValue = []types2.MeterValue{mv} }); err != nil {
				t.Fatalf("2.0.1 TransactionEvent Updated: %v", err)
			}
		}
		p201.then("RequestStopTransaction", func(r ocpp.Request) {
			if id := r.(*remotecontrol.RequestStopTransactionRequest).TransactionID; id != tx201 {
				p201.followUp("RequestStopTransaction", fmt.Errorf("transaction %q, want %q", id, tx201))
				return
			}
			_, err := p201.txEvent(transactions.TransactionEventEnded, stopAt, transactions.TriggerReasonRemoteStop, 4,
				transactions.Transaction{TransactionID: tx201, ChargingState: transactions.ChargingStateEVConnected, StoppedReason: transactions.ReasonRemote},
				func(e *transactions.TransactionEventRequest) {
					e.MeterValue = []types2.MeterValue{energy2(stopAt, 23, "kWh", nil, types2.ReadingContextTransactionEnd)}
				})
			p201.followUp("TransactionEvent Ended", err)
			_, err = cs.StatusNotification(dt2(stopAt.Add(time.Minute)), availability.ConnectorStatusAvailable, 1, 1)
			p201.followUp("StatusNotification Available", err)
		})

		ev := script.Expect("charging", 20*time.Second)
		var node21 struct {
			T0 string `json:"t0"`
		}
		nodepeer.Decode(t, mustRaw(ev), &node21)
		nt0, err := time.Parse(time.RFC3339, node21.T0)
		if err != nil {
			t.Fatalf("node t0 %q: %v", node21.T0, err)
		}
		startedAt[id21] = nt0

		// All three charging at once, shown the same way.
		txOf := map[string]string{id16: fmt.Sprint(tx16), id201: tx201, id21: tx21}
		protocol := map[string]string{id16: "ocpp1.6", id201: "ocpp2.0.1", id21: "ocpp2.1"}
		ids := []string{id16, id201, id21}
		var stationKeys, connectorKeys []string
		for _, id := range ids {
			raw := rawJSON(t, srv, "/api/v1/stations/"+id)
			st := harness.GetStation(t, srv, id)
			if !st.Connected || st.Protocol == nil || *st.Protocol != protocol[id] || st.ConnectorStatus(1) != "Charging" {
				t.Errorf("%s while charging: %s, want connected over %s with connector 1 Charging", id, harness.JSON(st), protocol[id])
			}
			keys := keysOf(raw)
			if stationKeys == nil {
				stationKeys = keys
			} else if !slices.Equal(keys, stationKeys) {
				t.Errorf("%s: station fields %v differ from %s's %v", id, keys, id16, stationKeys)
			}
			conns, _ := raw["connectors"].([]any)
			for _, c := range conns {
				k := keysOf(c.(map[string]any))
				if connectorKeys == nil {
					connectorKeys = k
				} else if !slices.Equal(k, connectorKeys) {
					t.Errorf("%s: connector fields %v differ from %v", id, k, connectorKeys)
				}
			}
			s, ok := harness.SessionByTx(t, srv, id, txOf[id])
			if !ok || s.Status != "active" || s.EnergyWh != 2500 || s.MeterStartWh != 20000 || s.ConnectorID != 1 || s.IDTag != tag[id] ||
				!harness.SameInstant(s.StartedAt, startedAt[id]) || s.StoppedAt != nil || s.StopReason != nil {
				t.Errorf("%s: active session %v (found %v), want connector 1, %s, 2500 Wh so far from 20000, started %s",
					id, s, ok, tag[id], harness.RFC3339(startedAt[id]))
			}
		}
		var list struct {
			Items []map[string]any `json:"items"`
		}
		harness.API(t, srv, "GET", "/api/v1/sessions?status=active", nil, &list)
		if len(list.Items) != 3 {
			t.Errorf("active sessions of the fleet: %d, want 3: %s", len(list.Items), harness.JSON(list.Items))
		}

		// Stop all three with the same version-neutral command.
		for _, id := range ids {
			s, _ := harness.SessionByTx(t, srv, id, txOf[id])
			r := harness.Command(t, srv, id, "stop", map[string]any{"session_id": s.ID})
			want := map[string]string{id16: "RemoteStopTransaction", id201: "RequestStopTransaction", id21: "RequestStopTransaction"}[id]
			if r.Status != "Accepted" || r.Action != want {
				t.Errorf("%s: neutral stop answered %+v, want Accepted through %s", id, r, want)
			}
		}
		p16.settle()
		p201.settle()
		harness.Eventually(t, 10*time.Second, func() string {
			for _, id := range ids {
				if s, _ := harness.SessionByTx(t, srv, id, txOf[id]); s.Status != "completed" {
					return id + ": session not completed after the neutral stop: " + s.String()
				}
			}
			return ""
		})
		script.Next()
		done := script.Expect("done", 30*time.Second)
		script.WaitExit(10 * time.Second)
		var res struct {
			StrictFailures []json.RawMessage `json:"strictFailures"`
			BadMessages    []json.RawMessage `json:"badMessages"`
			FollowUpErrors []string          `json:"followUpErrors"`
			Steps          struct {
				MeterStop int64 `json:"meterStop"`
			} `json:"steps"`
		}
		nodepeer.Decode(t, done["result"], &res)
		for _, f := range res.StrictFailures {
			t.Errorf("%s: ocpp-rpc rejected a message against the OCPP 2.1 schema: %s", id21, f)
		}
		for _, b := range res.BadMessages {
			t.Errorf("%s: ocpp-rpc received a non-conforming frame: %s", id21, b)
		}
		for _, e := range res.FollowUpErrors {
			t.Errorf("%s: follow-up message failed: %s", id21, e)
		}
		if res.Steps.MeterStop != 23000 {
			t.Fatalf("the node station stopped at %d Wh; the fleet test expects 23000", res.Steps.MeterStop)
		}

		// The completed sessions: the same fields, the same values.
		var sessionKeys []string
		for _, id := range ids {
			var list struct {
				Items []map[string]any `json:"items"`
			}
			harness.API(t, srv, "GET", "/api/v1/sessions?station_id="+id, nil, &list)
			if len(list.Items) != 1 {
				t.Errorf("%s: %d sessions, want 1", id, len(list.Items))
				continue
			}
			keys := keysOf(list.Items[0])
			if sessionKeys == nil {
				sessionKeys = keys
			} else if !slices.Equal(keys, sessionKeys) {
				t.Errorf("%s: session fields %v differ from %s's %v", id, keys, id16, sessionKeys)
			}
			s, _ := harness.SessionByTx(t, srv, id, txOf[id])
			if s.Status != "completed" || s.StationID != id || s.ConnectorID != 1 || s.IDTag != tag[id] || s.EnergyWh != 3000 ||
				s.MeterStartWh != 20000 || s.MeterStopWh == nil || *s.MeterStopWh != 23000 ||
				s.StopReason == nil || *s.StopReason != "Remote" || s.StopSource == nil || *s.StopSource != "station" ||
				!harness.SameInstant(s.StartedAt, startedAt[id]) || s.StoppedAt == nil || !harness.SameInstant(*s.StoppedAt, startedAt[id].Add(20*time.Minute)) ||
				s.Currency != "AUD" || s.PaymentStatus != "none" {
				t.Errorf("%s (%s): completed session %v\nwant connector 1, %s, 3000 Wh (20000 → 23000), Remote by the station, %s → %s",
					id, protocol[id], s, tag[id], harness.RFC3339(startedAt[id]), harness.RFC3339(startedAt[id].Add(20*time.Minute)))
			}
			var energies []float64
			for _, mv := range harness.MeterValues(t, srv, s.ID) {
				if mv.EnergyWh != nil {
					energies = append(energies, *mv.EnergyWh)
				}
			}
			for _, want := range []float64{20000, 21000, 22500, 23000} {
				if id == id16 && want == 20000 || id == id16 && want == 23000 {
					continue // 1.6: meterStart and meterStop are not meter values (no transactionData sent)
				}
				if !slices.Contains(energies, want) {
					t.Errorf("%s: meter values %v lack %v Wh", id, energies, want)
				}
			}

			// The connector's life in 1.6 words, whatever the version.
			var history []string
			for _, ev := range harness.StatusEvents(t, srv, id) {
				if ev.ConnectorID == 1 && (len(history) == 0 || history[len(history)-1] != ev.Status) {
					history = append(history, ev.Status)
				}
			}
			if want := "Available Preparing Charging Finishing Available"; strings.Join(history, " ") != want {
				t.Errorf("%s (%s): connector 1 went %v, want %s", id, protocol[id], history, want)
			}
			if st := harness.GetStation(t, srv, id); st.ConnectorStatus(1) != "Available" || st.Protocol == nil || *st.Protocol != protocol[id] {
				t.Errorf("%s after the session: %s", id, harness.JSON(st))
			}
		}
	})
}

func ptr[T any](v T) *T { return &v }

// mustRaw turns a node event back into JSON.
func mustRaw(ev map[string]json.RawMessage) json.RawMessage {
	b, _ := json.Marshal(ev)
	return b
}

// rawJSON reads an API resource as a JSON object.
func rawJSON(t *testing.T, srv interface {
	API(testing.TB, string, string, string) (int, string)
}, path string) map[string]any {
	t.Helper()
	code, body := srv.API(t, "GET", path, "")
	var m map[string]any
	if code != 200 || json.Unmarshal([]byte(body), &m) != nil {
		t.Fatalf("GET %s: %d %s", path, code, body)
	}
	return m
}

// keysOf returns an object's field names, sorted.
func keysOf(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
