package server_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/chargestar/chargestar/internal/model"
	"github.com/chargestar/chargestar/internal/servertest"
)

func TestSmokeSessionEndToEnd(t *testing.T) {
	for _, pg := range []bool{false, true} {
		name := "sqlite"
		if pg {
			name = "postgres"
		}
		t.Run(name, func(t *testing.T) {
			srv := servertest.Start(t, servertest.Options{Postgres: pg})
			op := srv.Operator(t, "Op")
			srv.Station(t, op.ID, "CP1", "")
			srv.IDToken(t, op.ID, "TAG1", model.TokenAccepted, nil)

			st := srv.Connect(t, "CP1")
			st.Boot()
			st.CallOK("StatusNotification", `{"connectorId":1,"errorCode":"NoError","status":"Available"}`)
			if m := st.CallOK("Authorize", `{"idTag":"TAG1"}`); m["idTagInfo"].(map[string]any)["status"] != "Accepted" {
				t.Fatalf("authorize: %v", m)
			}
			start := st.CallOK("StartTransaction", `{"connectorId":1,"idTag":"TAG1","meterStart":1000,"timestamp":"2026-11-24T10:00:00Z"}`)
			txID := int(start["transactionId"].(float64))
			st.CallOK("MeterValues", `{"connectorId":1,"transactionId":`+itoa(txID)+`,"meterValue":[{"timestamp":"2026-11-24T10:05:00Z","sampledValue":[{"value":"2.5","unit":"kWh","measurand":"Energy.Active.Import.Register"},{"value":"7200","measurand":"Power.Active.Import","unit":"W"}]}]}`)

			code, body := srv.API(t, "GET", "/api/v1/sessions?station_id=CP1", "")
			if code != 200 || !strings.Contains(body, `"status":"active"`) || !strings.Contains(body, `"energy_wh":1500`) {
				t.Fatalf("active session via API: %d %s", code, body)
			}
			stop := st.CallOK("StopTransaction", `{"transactionId":`+itoa(txID)+`,"meterStop":4000,"timestamp":"2026-11-24T10:30:00Z","reason":"EVDisconnected","idTag":"TAG1"}`)
			if stop["idTagInfo"].(map[string]any)["status"] != "Accepted" {
				t.Fatalf("stop: %v", stop)
			}
			// A replayed stop changes nothing.
			st.CallOK("StopTransaction", `{"transactionId":`+itoa(txID)+`,"meterStop":9999,"timestamp":"2026-11-24T11:30:00Z","reason":"Local"}`)

			code, body = srv.API(t, "GET", "/api/v1/sessions?station_id=CP1", "")
			var list struct {
				Items []map[string]any `json:"items"`
			}
			json.Unmarshal([]byte(body), &list)
			if code != 200 || len(list.Items) != 1 {
				t.Fatalf("sessions: %d %s", code, body)
			}
			s := list.Items[0]
			if s["status"] != "completed" || s["energy_wh"].(float64) != 3000 || s["stop_reason"] != "EVDisconnected" ||
				s["transaction_id"] != itoa(txID) || s["started_at"] != "2026-11-24T10:00:00Z" || s["stopped_at"] != "2026-11-24T10:30:00Z" {
				t.Fatalf("session: %v", s)
			}
			code, body = srv.API(t, "GET", "/api/v1/stations/CP1", "")
			if code != 200 || !strings.Contains(body, `"connected":true`) || !strings.Contains(body, `"vendor":"TestVendor"`) || !strings.Contains(body, `"protocol":"ocpp1.6"`) {
				t.Fatalf("station: %d %s", code, body)
			}
			mvs, err := srv.Store.ListMeterValues(context.Background(), s["id"].(string), 10)
			if err != nil || len(mvs) != 1 || mvs[0].EnergyWh == nil || *mvs[0].EnergyWh != 2500 || *mvs[0].PowerW != 7200 {
				t.Fatalf("meter values: %+v %v", mvs, err)
			}
			st.Close()
			servertest.Eventually(t, 5*time.Second, "disconnect", func() bool { return !srv.CSMS.Connected("CP1") })
		})
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

// A station that reboots mid-transaction and forgets it (never sends the
// stop) still ends with a complete session: closed as estimated from its
// last meter value once the connector is reported free, and corrected if
// the station's own stop turns up later.
func TestForgottenSessionIsClosedThenCorrected(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{StaleSessionGrace: 200 * time.Millisecond})
	op := srv.Operator(t, "Op")
	srv.Station(t, op.ID, "CP9", "")
	srv.IDToken(t, op.ID, "TAG9", model.TokenAccepted, nil)

	st := srv.Connect(t, "CP9")
	st.Boot()
	start := st.CallOK("StartTransaction", `{"connectorId":1,"idTag":"TAG9","meterStart":500,"timestamp":"2026-11-24T10:00:00Z"}`)
	tx := itoa(int(start["transactionId"].(float64)))
	st.CallOK("MeterValues", `{"connectorId":1,"transactionId":`+tx+`,"meterValue":[{"timestamp":"2026-11-24T10:10:00Z","sampledValue":[{"value":"1700"}]}]}`)
	st.Drop()

	// Power cut: the station comes back without the transaction.
	servertest.Eventually(t, 5*time.Second, "disconnect", func() bool { return !srv.CSMS.Connected("CP9") })
	st = srv.Connect(t, "CP9")
	st.Boot()
	st.CallOK("StatusNotification", `{"connectorId":1,"errorCode":"NoError","status":"Available","timestamp":"2026-11-24T10:20:00Z"}`)

	var sess model.Session
	servertest.Eventually(t, 5*time.Second, "estimated close", func() bool {
		var err error
		sess, err = srv.Store.GetSessionByTransaction(context.Background(), "CP9", tx)
		return err == nil && sess.Status == model.SessionCompleted
	})
	if sess.StopSource != model.StopSourceEstimated || sess.EnergyWh != 1200 || sess.StopReason != "Reboot" ||
		!sess.StoppedAt.Equal(time.Date(2026, 11, 24, 10, 20, 0, 0, time.UTC)) {
		t.Fatalf("estimated session: %+v", sess)
	}

	// The station finds the transaction in its queue after all.
	st.CallOK("StopTransaction", `{"transactionId":`+tx+`,"meterStop":1800,"timestamp":"2026-11-24T10:12:00Z","reason":"PowerLoss"}`)
	sess, _ = srv.Store.GetSessionByTransaction(context.Background(), "CP9", tx)
	if sess.StopSource != model.StopSourceStation || sess.EnergyWh != 1300 || sess.StopReason != "PowerLoss" {
		t.Fatalf("corrected session: %+v", sess)
	}
}

// A connector reported Available while its session is open, followed in
// time by the station's stop, is not closed as estimated.
func TestAvailableBeforeQueuedStopDoesNotEstimate(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{StaleSessionGrace: 300 * time.Millisecond})
	op := srv.Operator(t, "Op")
	srv.Station(t, op.ID, "CP8", "")
	srv.IDToken(t, op.ID, "TAG8", model.TokenAccepted, nil)
	st := srv.Connect(t, "CP8")
	st.Boot()
	start := st.CallOK("StartTransaction", `{"connectorId":1,"idTag":"TAG8","meterStart":0,"timestamp":"2026-11-24T10:00:00Z"}`)
	tx := itoa(int(start["transactionId"].(float64)))
	st.CallOK("StatusNotification", `{"connectorId":1,"errorCode":"NoError","status":"Available"}`)
	st.CallOK("StopTransaction", `{"transactionId":`+tx+`,"meterStop":900,"timestamp":"2026-11-24T10:30:00Z","reason":"EVDisconnected"}`)
	time.Sleep(500 * time.Millisecond)
	sess, _ := srv.Store.GetSessionByTransaction(context.Background(), "CP8", tx)
	if sess.StopSource != model.StopSourceStation || sess.EnergyWh != 900 || sess.StopReason != "EVDisconnected" {
		t.Fatalf("session: %+v", sess)
	}
}

// A station that loses its network and reconnects without rebooting does
// not boot again (1.6 stations only boot on power-up): it stays accepted.
func TestReconnectWithoutBootStaysAccepted(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	op := srv.Operator(t, "Op")
	srv.Station(t, op.ID, "CP7", "")
	st := srv.Connect(t, "CP7")
	st.CallError("Heartbeat", `{}`, "SecurityError") // never booted
	st.Boot()
	st.Drop()
	servertest.Eventually(t, 5*time.Second, "disconnect", func() bool { return !srv.CSMS.Connected("CP7") })
	st = srv.Connect(t, "CP7")
	st.CallOK("Heartbeat", `{}`)
	st.CallOK("StatusNotification", `{"connectorId":1,"errorCode":"NoError","status":"Available"}`)
}
