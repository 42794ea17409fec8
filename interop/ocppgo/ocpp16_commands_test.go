package ocppgo_test

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lorenzodonini/ocpp-go/ocpp"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/core"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/firmware"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/localauth"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/remotetrigger"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/reservation"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/smartcharging"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/types"

	"github.com/chargestar/chargestar/internal/model"
	"github.com/chargestar/chargestar/internal/servertest"
	"github.com/chargestar/chargestar/interop/ocppgo/harness"
)

// sameJSON reports whether two JSON texts hold the same value.
func sameJSON(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// command sends a command through the REST API and checks that the
// charge point's answer comes back as the API's response, with the
// status the API derives from it.
func command(t *testing.T, srv *servertest.Server, p *peer, action string, payload any, answer ocpp.Response, wantStatus string) harness.CommandResult {
	t.Helper()
	if answer != nil {
		p.answer(action, answer)
	}
	res := harness.Command(t, srv, p.id, action, payload)
	if res.Status != wantStatus {
		t.Errorf("%s: API status %q, want %q (response %s)", action, res.Status, wantStatus, res.Response)
	}
	if answer != nil {
		want, _ := json.Marshal(answer)
		if !sameJSON(res.Response, want) {
			t.Errorf("%s: API response %s, but the charge point answered %s", action, res.Response, want)
		}
	}
	if p.last(action) == nil {
		t.Fatalf("%s: the ocpp-go charge point's handler was not called", action)
	}
	return res
}

// TestOCPP16Commands sends every CSMS→charge point command of the 1.6
// profiles through POST /api/v1/stations/{id}/commands/{action} to
// ocpp-go's charge point, checks what its handlers received and that
// their answers come back in the API response, and that the messages a
// charge point sends in consequence (status and firmware notifications,
// triggered messages, a remotely started and stopped transaction) are
// handled.
func TestOCPP16Commands(t *testing.T) {
	harness.Backends(t, func(t *testing.T, pg bool) {
		srv := harness.Start(t, pg)
		op := srv.Operator(t, "Interop Op")
		const id = "OCPPGO-16-CMD"
		srv.Station(t, op.ID, id, "")
		srv.IDToken(t, op.ID, "GO-ACCEPTED", model.TokenAccepted, nil)

		p := connect(t, srv, id, peerOptions{})
		cp := p.cp
		if _, err := cp.BootNotification("GoModel", "GoVendor"); err != nil {
			t.Fatalf("BootNotification: %v", err)
		}
		for c := 0; c <= 2; c++ {
			cp.StatusNotification(c, core.NoError, core.ChargePointStatusAvailable)
		}
		connector := func(c int) string { return harness.GetStation(t, srv, id).ConnectorStatus(c) }
		waitConnector := func(c int, want string) {
			t.Helper()
			p.settle()
			harness.Eventually(t, 3*time.Second, func() string {
				if got := connector(c); got != want {
					return "connector " + strconv.Itoa(c) + " is " + got + ", want " + want
				}
				return ""
			})
		}

		t.Run("Core", func(t *testing.T) {
			command(t, srv, p, "Reset", map[string]any{"type": "Hard"}, core.NewResetConfirmation(core.ResetStatusRejected), "Rejected")
			if r := p.last(core.ResetFeatureName).(*core.ResetRequest); r.Type != core.ResetTypeHard {
				t.Errorf("Reset received %s", harness.JSON(r))
			}

			command(t, srv, p, "UnlockConnector", map[string]any{"connectorId": 2}, core.NewUnlockConnectorConfirmation(core.UnlockStatusUnlockFailed), "UnlockFailed")
			if r := p.last(core.UnlockConnectorFeatureName).(*core.UnlockConnectorRequest); r.ConnectorId != 2 {
				t.Errorf("UnlockConnector received %s", harness.JSON(r))
			}

			// ChangeAvailability, with the status notification that follows.
			p.then(core.ChangeAvailabilityFeatureName, func(r ocpp.Request) {
				req := r.(*core.ChangeAvailabilityRequest)
				status := core.ChargePointStatusAvailable
				if req.Type == core.AvailabilityTypeInoperative {
					status = core.ChargePointStatusUnavailable
				}
				_, err := cp.StatusNotification(req.ConnectorId, core.NoError, status)
				p.followUp("StatusNotification after ChangeAvailability", err)
			})
			command(t, srv, p, "ChangeAvailability", map[string]any{"connectorId": 1, "type": "Inoperative"}, core.NewChangeAvailabilityConfirmation(core.AvailabilityStatusAccepted), "Accepted")
			if r := p.last(core.ChangeAvailabilityFeatureName).(*core.ChangeAvailabilityRequest); r.ConnectorId != 1 || r.Type != core.AvailabilityTypeInoperative {
				t.Errorf("ChangeAvailability received %s", harness.JSON(r))
			}
			waitConnector(1, "Unavailable")
			command(t, srv, p, "ChangeAvailability", map[string]any{"connectorId": 1, "type": "Operative"}, core.NewChangeAvailabilityConfirmation(core.AvailabilityStatusScheduled), "Scheduled")
			waitConnector(1, "Available")
			p.then(core.ChangeAvailabilityFeatureName, nil)

			// GetConfiguration answers have no status: the API says Accepted.
			hb := "300"
			command(t, srv, p, "GetConfiguration", map[string]any{"key": []string{"HeartbeatInterval", "NoSuchKey"}},
				&core.GetConfigurationConfirmation{
					ConfigurationKey: []core.ConfigurationKey{{Key: "HeartbeatInterval", Readonly: false, Value: &hb}},
					UnknownKey:       []string{"NoSuchKey"},
				}, "Accepted")
			if r := p.last(core.GetConfigurationFeatureName).(*core.GetConfigurationRequest); !reflect.DeepEqual(r.Key, []string{"HeartbeatInterval", "NoSuchKey"}) {
				t.Errorf("GetConfiguration received %s", harness.JSON(r))
			}
			// Without keys: all of them.
			command(t, srv, p, "GetConfiguration", map[string]any{}, &core.GetConfigurationConfirmation{
				ConfigurationKey: []core.ConfigurationKey{{Key: "HeartbeatInterval", Value: &hb}, {Key: "NumberOfConnectors", Readonly: true, Value: strPtr("2")}},
			}, "Accepted")

			command(t, srv, p, "ChangeConfiguration", map[string]any{"key": "MeterValueSampleInterval", "value": "60"},
				core.NewChangeConfigurationConfirmation(core.ConfigurationStatusRebootRequired), "RebootRequired")
			if r := p.last(core.ChangeConfigurationFeatureName).(*core.ChangeConfigurationRequest); r.Key != "MeterValueSampleInterval" || r.Value != "60" {
				t.Errorf("ChangeConfiguration received %s", harness.JSON(r))
			}

			command(t, srv, p, "ClearCache", nil, core.NewClearCacheConfirmation(core.ClearCacheStatusAccepted), "Accepted")

			dtAnswer := core.NewDataTransferConfirmation(core.DataTransferStatusAccepted)
			dtAnswer.Data = "hello back"
			command(t, srv, p, "DataTransfer", map[string]any{"vendorId": "com.chargestar.interop", "messageId": "echo", "data": "hello"}, dtAnswer, "Accepted")
			if r := p.last(core.DataTransferFeatureName).(*core.DataTransferRequest); r.VendorId != "com.chargestar.interop" || r.MessageId != "echo" || r.Data != "hello" {
				t.Errorf("DataTransfer received %s", harness.JSON(r))
			}
		})

		t.Run("RemoteStartStop", func(t *testing.T) {
			var mu sync.Mutex
			remoteTx := 0
			started := time.Now().UTC().Add(-10 * time.Minute).Truncate(time.Second)
			p.then(core.RemoteStartTransactionFeatureName, func(r ocpp.Request) {
				req := r.(*core.RemoteStartTransactionRequest)
				c := 1
				if req.ConnectorId != nil {
					c = *req.ConnectorId
				}
				_, err := cp.StatusNotification(c, core.NoError, core.ChargePointStatusPreparing)
				p.followUp("StatusNotification Preparing", err)
				res, err := cp.StartTransaction(c, req.IdTag, 1000, dt(started))
				p.followUp("StartTransaction after RemoteStartTransaction", err)
				if err == nil {
					mu.Lock()
					remoteTx = res.TransactionId
					mu.Unlock()
				}
				_, err = cp.StatusNotification(c, core.NoError, core.ChargePointStatusCharging)
				p.followUp("StatusNotification Charging", err)
			})
			command(t, srv, p, "RemoteStartTransaction", map[string]any{
				"connectorId": 1, "idTag": "GO-ACCEPTED",
				"chargingProfile": map[string]any{
					"chargingProfileId": 7, "stackLevel": 0, "chargingProfilePurpose": "TxProfile", "chargingProfileKind": "Relative",
					"chargingSchedule": map[string]any{"chargingRateUnit": "A", "chargingSchedulePeriod": []any{map[string]any{"startPeriod": 0, "limit": 16}}},
				},
			}, core.NewRemoteStartTransactionConfirmation(types.RemoteStartStopStatusAccepted), "Accepted")
			r := p.last(core.RemoteStartTransactionFeatureName).(*core.RemoteStartTransactionRequest)
			if r.IdTag != "GO-ACCEPTED" || r.ConnectorId == nil || *r.ConnectorId != 1 || r.ChargingProfile == nil ||
				r.ChargingProfile.ChargingProfilePurpose != types.ChargingProfilePurposeTxProfile || r.ChargingProfile.ChargingSchedule.ChargingSchedulePeriod[0].Limit != 16 {
				t.Errorf("RemoteStartTransaction received %s", harness.JSON(r))
			}
			waitConnector(1, "Charging")
			mu.Lock()
			tx := remoteTx
			mu.Unlock()
			s, ok := harness.SessionByTx(t, srv, id, strconv.Itoa(tx))
			if !ok || s.Status != "active" || s.IDTag != "GO-ACCEPTED" {
				t.Fatalf("session of the remotely started transaction %d: %v (found %v)", tx, s, ok)
			}

			stopped := started.Add(5 * time.Minute)
			p.then(core.RemoteStopTransactionFeatureName, func(r ocpp.Request) {
				req := r.(*core.RemoteStopTransactionRequest)
				_, err := cp.StopTransaction(3500, dt(stopped), req.TransactionId, func(s *core.StopTransactionRequest) {
					s.Reason = core.ReasonRemote
					s.IdTag = "GO-ACCEPTED"
				})
				p.followUp("StopTransaction after RemoteStopTransaction", err)
				_, err = cp.StatusNotification(1, core.NoError, core.ChargePointStatusFinishing)
				p.followUp("StatusNotification Finishing", err)
			})
			command(t, srv, p, "RemoteStopTransaction", map[string]any{"transactionId": tx},
				core.NewRemoteStopTransactionConfirmation(types.RemoteStartStopStatusAccepted), "Accepted")
			if r := p.last(core.RemoteStopTransactionFeatureName).(*core.RemoteStopTransactionRequest); r.TransactionId != tx {
				t.Errorf("RemoteStopTransaction received %s, want transaction %d", harness.JSON(r), tx)
			}
			waitConnector(1, "Finishing")
			s, _ = harness.SessionByTx(t, srv, id, strconv.Itoa(tx))
			if s.Status != "completed" || s.EnergyWh != 2500 || s.StopReason == nil || *s.StopReason != "Remote" ||
				!harness.SameInstant(s.StartedAt, started) || s.StoppedAt == nil || !harness.SameInstant(*s.StoppedAt, stopped) {
				t.Errorf("remotely stopped session: %v, want completed, 2500 Wh, Remote", s)
			}
			cp.StatusNotification(1, core.NoError, core.ChargePointStatusAvailable)
		})

		t.Run("Firmware", func(t *testing.T) {
			retrieve := time.Now().UTC().Add(time.Minute).Truncate(time.Second)
			p.then(firmware.UpdateFirmwareFeatureName, func(ocpp.Request) {
				for _, s := range []firmware.FirmwareStatus{firmware.FirmwareStatusDownloading, firmware.FirmwareStatusDownloaded, firmware.FirmwareStatusInstalling, firmware.FirmwareStatusInstalled} {
					_, err := cp.FirmwareStatusNotification(s)
					p.followUp("FirmwareStatusNotification "+string(s), err)
				}
			})
			command(t, srv, p, "UpdateFirmware", map[string]any{
				"location": "https://firmware.example.com/cp-2.0.bin", "retrieveDate": harness.RFC3339(retrieve), "retries": 3, "retryInterval": 60,
			}, firmware.NewUpdateFirmwareConfirmation(), "Accepted")
			if r := p.last(firmware.UpdateFirmwareFeatureName).(*firmware.UpdateFirmwareRequest); r.Location != "https://firmware.example.com/cp-2.0.bin" ||
				r.RetrieveDate == nil || !r.RetrieveDate.Equal(retrieve) || r.Retries == nil || *r.Retries != 3 || r.RetryInterval == nil || *r.RetryInterval != 60 {
				t.Errorf("UpdateFirmware received %s", harness.JSON(r))
			}
			p.settle()
			if st := harness.GetStation(t, srv, id); st.FirmwareStatus == nil || *st.FirmwareStatus != "Installed" {
				t.Errorf("firmware_status after the notifications: %v, want Installed", harness.JSON(st.FirmwareStatus))
			}

			p.then(firmware.GetDiagnosticsFeatureName, func(ocpp.Request) {
				for _, s := range []firmware.DiagnosticsStatus{firmware.DiagnosticsStatusUploading, firmware.DiagnosticsStatusUploaded} {
					_, err := cp.DiagnosticsStatusNotification(s)
					p.followUp("DiagnosticsStatusNotification "+string(s), err)
				}
			})
			from := time.Now().UTC().Add(-24 * time.Hour).Truncate(time.Second)
			diag := firmware.NewGetDiagnosticsConfirmation()
			diag.FileName = "diagnostics-" + id + ".zip"
			command(t, srv, p, "GetDiagnostics", map[string]any{
				"location": "ftp://diagnostics.example.com/upload/", "retries": 1, "retryInterval": 30,
				"startTime": harness.RFC3339(from), "stopTime": harness.RFC3339(from.Add(23 * time.Hour)),
			}, diag, "Accepted")
			if r := p.last(firmware.GetDiagnosticsFeatureName).(*firmware.GetDiagnosticsRequest); r.Location != "ftp://diagnostics.example.com/upload/" ||
				r.StartTime == nil || !r.StartTime.Equal(from) || r.StopTime == nil || !r.StopTime.Equal(from.Add(23*time.Hour)) {
				t.Errorf("GetDiagnostics received %s", harness.JSON(r))
			}
			p.settle()
			if st := harness.GetStation(t, srv, id); st.DiagnosticsStatus == nil || *st.DiagnosticsStatus != "Uploaded" {
				t.Errorf("diagnostics_status after the notifications: %v, want Uploaded", harness.JSON(st.DiagnosticsStatus))
			}
		})

		t.Run("LocalList", func(t *testing.T) {
			command(t, srv, p, "GetLocalListVersion", nil, localauth.NewGetLocalListVersionConfirmation(7), "Accepted")
			command(t, srv, p, "SendLocalList", map[string]any{
				"listVersion": 8, "updateType": "Full",
				"localAuthorizationList": []any{
					map[string]any{"idTag": "GO-ACCEPTED", "idTagInfo": map[string]any{"status": "Accepted", "expiryDate": harness.RFC3339(time.Now().Add(24 * time.Hour))}},
					map[string]any{"idTag": "GO-BLOCKED", "idTagInfo": map[string]any{"status": "Blocked"}},
					map[string]any{"idTag": "GO-REMOVED"},
				},
			}, localauth.NewSendLocalListConfirmation(localauth.UpdateStatusVersionMismatch), "VersionMismatch")
			r := p.last(localauth.SendLocalListFeatureName).(*localauth.SendLocalListRequest)
			if r.ListVersion != 8 || r.UpdateType != localauth.UpdateTypeFull || len(r.LocalAuthorizationList) != 3 ||
				r.LocalAuthorizationList[1].IdTagInfo == nil || r.LocalAuthorizationList[1].IdTagInfo.Status != types.AuthorizationStatusBlocked ||
				r.LocalAuthorizationList[2].IdTagInfo != nil {
				t.Errorf("SendLocalList received %s", harness.JSON(r))
			}
		})

		t.Run("Reservation", func(t *testing.T) {
			p.then(reservation.ReserveNowFeatureName, func(r ocpp.Request) {
				_, err := cp.StatusNotification(r.(*reservation.ReserveNowRequest).ConnectorId, core.NoError, core.ChargePointStatusReserved)
				p.followUp("StatusNotification Reserved", err)
			})
			expiry := time.Now().UTC().Add(time.Hour).Truncate(time.Second)
			command(t, srv, p, "ReserveNow", map[string]any{"connectorId": 2, "expiryDate": harness.RFC3339(expiry), "idTag": "GO-ACCEPTED", "reservationId": 42},
				reservation.NewReserveNowConfirmation(reservation.ReservationStatusAccepted), "Accepted")
			if r := p.last(reservation.ReserveNowFeatureName).(*reservation.ReserveNowRequest); r.ConnectorId != 2 || r.ReservationId != 42 ||
				r.IdTag != "GO-ACCEPTED" || r.ExpiryDate == nil || !r.ExpiryDate.Equal(expiry) {
				t.Errorf("ReserveNow received %s", harness.JSON(r))
			}
			waitConnector(2, "Reserved")

			p.then(reservation.CancelReservationFeatureName, func(ocpp.Request) {
				_, err := cp.StatusNotification(2, core.NoError, core.ChargePointStatusAvailable)
				p.followUp("StatusNotification Available", err)
			})
			command(t, srv, p, "CancelReservation", map[string]any{"reservationId": 42},
				reservation.NewCancelReservationConfirmation(reservation.CancelReservationStatusAccepted), "Accepted")
			if r := p.last(reservation.CancelReservationFeatureName).(*reservation.CancelReservationRequest); r.ReservationId != 42 {
				t.Errorf("CancelReservation received %s", harness.JSON(r))
			}
			waitConnector(2, "Available")
			// Rejected variants pass through as well.
			command(t, srv, p, "ReserveNow", map[string]any{"connectorId": 1, "expiryDate": harness.RFC3339(expiry), "idTag": "GO-ACCEPTED", "reservationId": 43},
				reservation.NewReserveNowConfirmation(reservation.ReservationStatusOccupied), "Occupied")
		})

		t.Run("TriggerMessage", func(t *testing.T) {
			// The charge point answers Accepted and then sends the requested
			// message, which the server must handle like any other.
			triggered := map[remotetrigger.MessageTrigger]func(r *remotetrigger.TriggerMessageRequest) error{
				core.BootNotificationFeatureName: func(*remotetrigger.TriggerMessageRequest) error {
					res, err := cp.BootNotification("GoModel", "GoVendor", func(b *core.BootNotificationRequest) { b.FirmwareVersion = "ocpp-go-triggered" })
					if err == nil && res.Status != core.RegistrationStatusAccepted {
						t.Errorf("triggered BootNotification answered %s", harness.JSON(res))
					}
					return err
				},
				firmware.DiagnosticsStatusNotificationFeatureName: func(*remotetrigger.TriggerMessageRequest) error {
					_, err := cp.DiagnosticsStatusNotification(firmware.DiagnosticsStatusIdle)
					return err
				},
				firmware.FirmwareStatusNotificationFeatureName: func(*remotetrigger.TriggerMessageRequest) error {
					_, err := cp.FirmwareStatusNotification(firmware.FirmwareStatusIdle)
					return err
				},
				core.HeartbeatFeatureName: func(*remotetrigger.TriggerMessageRequest) error {
					_, err := cp.Heartbeat()
					return err
				},
				core.MeterValuesFeatureName: func(r *remotetrigger.TriggerMessageRequest) error {
					c := 1
					if r.ConnectorId != nil {
						c = *r.ConnectorId
					}
					_, err := cp.MeterValues(c, []types.MeterValue{energy(time.Now(), "3500", "Wh", types.ReadingContextTrigger)})
					return err
				},
				core.StatusNotificationFeatureName: func(r *remotetrigger.TriggerMessageRequest) error {
					_, err := cp.StatusNotification(*r.ConnectorId, core.NoError, core.ChargePointStatusAvailable, func(s *core.StatusNotificationRequest) {
						s.Info = "triggered"
					})
					return err
				},
			}
			p.then(remotetrigger.TriggerMessageFeatureName, func(r ocpp.Request) {
				req := r.(*remotetrigger.TriggerMessageRequest)
				if send := triggered[req.RequestedMessage]; send != nil {
					p.followUp("triggered "+string(req.RequestedMessage), send(req))
				}
			})
			for _, m := range []remotetrigger.MessageTrigger{
				core.BootNotificationFeatureName, firmware.DiagnosticsStatusNotificationFeatureName, firmware.FirmwareStatusNotificationFeatureName,
				core.HeartbeatFeatureName, core.MeterValuesFeatureName, core.StatusNotificationFeatureName,
			} {
				payload := map[string]any{"requestedMessage": string(m)}
				if m == core.MeterValuesFeatureName || m == core.StatusNotificationFeatureName {
					payload["connectorId"] = 2
				}
				command(t, srv, p, "TriggerMessage", payload, remotetrigger.NewTriggerMessageConfirmation(remotetrigger.TriggerMessageStatusAccepted), "Accepted")
				if r := p.last(remotetrigger.TriggerMessageFeatureName).(*remotetrigger.TriggerMessageRequest); r.RequestedMessage != m {
					t.Errorf("TriggerMessage received %s, want %s", harness.JSON(r), m)
				}
				p.settle()
			}
			st := harness.GetStation(t, srv, id)
			if st.FirmwareVersion != "ocpp-go-triggered" || st.FirmwareStatus == nil || *st.FirmwareStatus != "Idle" ||
				st.DiagnosticsStatus == nil || *st.DiagnosticsStatus != "Idle" {
				t.Errorf("station after the triggered messages: %s", harness.JSON(st))
			}
			for _, c := range st.Connectors {
				if c.ConnectorID == 2 && c.Info != "triggered" {
					t.Errorf("connector 2 after the triggered StatusNotification: %s", harness.JSON(c))
				}
			}
			command(t, srv, p, "TriggerMessage", map[string]any{"requestedMessage": "MeterValues", "connectorId": 9},
				remotetrigger.NewTriggerMessageConfirmation(remotetrigger.TriggerMessageStatusRejected), "Rejected")
			p.then(remotetrigger.TriggerMessageFeatureName, nil)
		})

		t.Run("SmartCharging", func(t *testing.T) {
			startSchedule := time.Now().UTC().Truncate(24 * time.Hour)
			command(t, srv, p, "SetChargingProfile", map[string]any{
				"connectorId": 1,
				"csChargingProfiles": map[string]any{
					"chargingProfileId": 11, "stackLevel": 1, "chargingProfilePurpose": "TxDefaultProfile",
					"chargingProfileKind": "Recurring", "recurrencyKind": "Daily",
					"chargingSchedule": map[string]any{
						"duration": 86400, "startSchedule": harness.RFC3339(startSchedule), "chargingRateUnit": "W", "minChargingRate": 1380.5,
						"chargingSchedulePeriod": []any{
							map[string]any{"startPeriod": 0, "limit": 11000},
							map[string]any{"startPeriod": 28800, "limit": 7400.5, "numberPhases": 3},
						},
					},
				},
			}, smartcharging.NewSetChargingProfileConfirmation(smartcharging.ChargingProfileStatusAccepted), "Accepted")
			r := p.last(smartcharging.SetChargingProfileFeatureName).(*smartcharging.SetChargingProfileRequest)
			prof := r.ChargingProfile
			if r.ConnectorId != 1 || prof == nil || prof.ChargingProfileId != 11 || prof.StackLevel != 1 ||
				prof.ChargingProfilePurpose != types.ChargingProfilePurposeTxDefaultProfile || prof.ChargingProfileKind != types.ChargingProfileKindRecurring ||
				prof.RecurrencyKind != types.RecurrencyKindDaily || prof.ChargingSchedule == nil ||
				prof.ChargingSchedule.StartSchedule == nil || !prof.ChargingSchedule.StartSchedule.Equal(startSchedule) ||
				prof.ChargingSchedule.MinChargingRate == nil || *prof.ChargingSchedule.MinChargingRate != 1380.5 ||
				len(prof.ChargingSchedule.ChargingSchedulePeriod) != 2 || prof.ChargingSchedule.ChargingSchedulePeriod[1].Limit != 7400.5 ||
				prof.ChargingSchedule.ChargingSchedulePeriod[1].NumberPhases == nil || *prof.ChargingSchedule.ChargingSchedulePeriod[1].NumberPhases != 3 {
				t.Errorf("SetChargingProfile received %s", harness.JSON(r))
			}

			dur := 3600
			composite := smartcharging.NewGetCompositeScheduleConfirmation(smartcharging.GetCompositeScheduleStatusAccepted)
			one := 1
			composite.ConnectorId = &one
			composite.ScheduleStart = dt(time.Now())
			composite.ChargingSchedule = &types.ChargingSchedule{Duration: &dur, ChargingRateUnit: types.ChargingRateUnitWatts,
				ChargingSchedulePeriod: []types.ChargingSchedulePeriod{{StartPeriod: 0, Limit: 11000}, {StartPeriod: 1800, Limit: 7400.5}}}
			command(t, srv, p, "GetCompositeSchedule", map[string]any{"connectorId": 1, "duration": 3600, "chargingRateUnit": "W"}, composite, "Accepted")
			if r := p.last(smartcharging.GetCompositeScheduleFeatureName).(*smartcharging.GetCompositeScheduleRequest); r.ConnectorId != 1 || r.Duration != 3600 || r.ChargingRateUnit != types.ChargingRateUnitWatts {
				t.Errorf("GetCompositeSchedule received %s", harness.JSON(r))
			}

			command(t, srv, p, "ClearChargingProfile", map[string]any{"id": 11},
				smartcharging.NewClearChargingProfileConfirmation(smartcharging.ClearChargingProfileStatusAccepted), "Accepted")
			if r := p.last(smartcharging.ClearChargingProfileFeatureName).(*smartcharging.ClearChargingProfileRequest); r.Id == nil || *r.Id != 11 {
				t.Errorf("ClearChargingProfile received %s", harness.JSON(r))
			}
			command(t, srv, p, "ClearChargingProfile", map[string]any{"connectorId": 1, "chargingProfilePurpose": "TxDefaultProfile", "stackLevel": 1},
				smartcharging.NewClearChargingProfileConfirmation(smartcharging.ClearChargingProfileStatusUnknown), "Unknown")
		})

		t.Run("Refusals", func(t *testing.T) {
			// ocpp-go answers a profile it has no handler for with a
			// CALLERROR NotSupported: the API reports the station's refusal.
			code, body := harness.API(t, srv, "POST", "/api/v1/stations/"+id+"/commands/ExtendedTriggerMessage", map[string]any{"requestedMessage": "Heartbeat"}, nil)
			if code != 502 || !strings.Contains(body, "NotSupported") {
				t.Errorf("ExtendedTriggerMessage to a charge point without the extension: %d %s, want 502 naming NotSupported", code, body)
			}
			// An invalid payload is refused by the API and never reaches the charge point.
			p.mu.Lock()
			n := len(p.requests)
			p.mu.Unlock()
			code, body = harness.API(t, srv, "POST", "/api/v1/stations/"+id+"/commands/Reset", map[string]any{"type": "Medium"}, nil)
			if code != 400 {
				t.Errorf("Reset with an invalid type: %d %s, want 400", code, body)
			}
			// A charge point → Central System action is not a command.
			code, body = harness.API(t, srv, "POST", "/api/v1/stations/"+id+"/commands/Heartbeat", nil, nil)
			if code != 400 {
				t.Errorf("Heartbeat as a command: %d %s, want 400", code, body)
			}
			p.mu.Lock()
			extra := p.requests[n:]
			p.mu.Unlock()
			if len(extra) != 0 {
				t.Errorf("refused commands reached the charge point: %v", extra)
			}
		})
	})
}

func strPtr(s string) *string { return &s }
