package ocppgo_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lorenzodonini/ocpp-go/ocpp"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/availability"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/diagnostics"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/display"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/firmware"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/provisioning"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/remotecontrol"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/reservation"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/smartcharging"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/transactions"
	types2 "github.com/lorenzodonini/ocpp-go/ocpp2.0.1/types"
	"github.com/lorenzodonini/ocpp-go/ocppj"

	"github.com/chargestar/chargestar/internal/model"
	"github.com/chargestar/chargestar/interop/ocppgo/harness"
)

// stationClock is a 2.0.1 station's clock in the tests: an hour behind,
// one second further at every reading, so that every status and event
// the station reports is strictly later than the one before.
type stationClock struct {
	mu sync.Mutex
	t  time.Time
}

func newStationClock() *stationClock {
	return &stationClock{t: time.Now().UTC().Add(-time.Hour).Truncate(time.Second)}
}

func (c *stationClock) next() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second)
	return c.t
}

// remoteTx is a transaction the station started on a remote request.
type remoteTx struct {
	id    string
	evse  int
	seq   int
	meter float64
}

// TestOCPP201Commands sends every CSMS→station action of OCPP 2.0.1 that
// ocpp-go's charging station handles through
// POST /api/v1/stations/{id}/commands/{Action}, and the version-neutral
// commands. For each, the station's handler must see exactly the payload
// given to the API (ocpp-go decodes and validates it against its own
// reading of the 2.0.1 schemas first), and the API must return the
// handler's answer verbatim with its status. Where a real station follows
// up (transaction events after a remote start or stop, status
// notifications after ChangeAvailability or ReserveNow, firmware and log
// status notifications, reports), it does, and the API must show the
// result. Refusals: payloads that break the schema, 1.6 and station-side
// action names, a CALLERROR from the station, and a station offline.
func TestOCPP201Commands(t *testing.T) {
	harness.Backends(t, func(t *testing.T, pg bool) {
		srv := harness.Start(t, pg)
		op := srv.Operator(t, "Interop Op")
		const id = "OCPPGO-201-CMD"
		srv.Station(t, op.ID, id, "")
		srv.IDToken(t, op.ID, "GO2-REMOTE", model.TokenAccepted, nil)

		p := connect201(t, srv, id, station201Options{})
		cs := p.cs
		clock := newStationClock()
		if boot, err := cs.BootNotification(provisioning.BootReasonPowerUp, "Go201Model", "GoVendor"); err != nil || boot.Status != provisioning.RegistrationStatusAccepted {
			t.Fatalf("BootNotification: %s %v", harness.JSON(boot), err)
		}
		for evse := 1; evse <= 2; evse++ {
			if _, err := cs.StatusNotification(dt2(clock.next()), availability.ConnectorStatusAvailable, evse, 1); err != nil {
				t.Fatalf("StatusNotification: %v", err)
			}
		}

		// What the station does after answering, as a real one would.
		var (
			txMu sync.Mutex
			txs  = map[int]*remoteTx{} // by EVSE
		)
		status := func(evse int, s availability.ConnectorStatus) {
			_, err := cs.StatusNotification(dt2(clock.next()), s, evse, 1)
			p.followUp("StatusNotification "+string(s), err)
		}
		p.then("RequestStartTransaction", func(r ocpp.Request) {
			req := r.(*remotecontrol.RequestStartTransactionRequest)
			evse := 1
			if req.EvseID != nil {
				evse = *req.EvseID
			}
			tx := &remoteTx{id: fmt.Sprintf("GO2-RS-%d", req.RemoteStartID), evse: evse, meter: 1000}
			txMu.Lock()
			txs[evse] = tx
			txMu.Unlock()
			status(evse, availability.ConnectorStatusOccupied)
			tok := req.IDToken
			_, err := p.txEvent(transactions.TransactionEventStarted, clock.next(), transactions.TriggerReasonRemoteStart, tx.seq,
				transactions.Transaction{TransactionID: tx.id, ChargingState: transactions.ChargingStateEVConnected, RemoteStartID: intp(req.RemoteStartID)},
				func(e *transactions.TransactionEventRequest) {
					e.IDToken = &tok
					e.Evse = evse2(evse, 1)
					e.MeterValue = []types2.MeterValue{energy2(clock.next(), tx.meter, "Wh", nil, types2.ReadingContextTransactionBegin)}
				})
			p.followUp("TransactionEvent Started", err)
			tx.seq++
			_, err = p.txEvent(transactions.TransactionEventUpdated, clock.next(), transactions.TriggerReasonChargingStateChanged, tx.seq,
				transactions.Transaction{TransactionID: tx.id, ChargingState: transactions.ChargingStateCharging})
			p.followUp("TransactionEvent Updated", err)
			tx.seq++
		})
		p.then("RequestStopTransaction", func(r ocpp.Request) {
			req := r.(*remotecontrol.RequestStopTransactionRequest)
			txMu.Lock()
			var tx *remoteTx
			for evse, x := range txs {
				if x.id == req.TransactionID {
					tx = x
					delete(txs, evse)
				}
			}
			txMu.Unlock()
			if tx == nil {
				p.followUp("RequestStopTransaction", fmt.Errorf("unknown transaction %q", req.TransactionID))
				return
			}
			tx.meter += 500
			_, err := p.txEvent(transactions.TransactionEventEnded, clock.next(), transactions.TriggerReasonRemoteStop, tx.seq,
				transactions.Transaction{TransactionID: tx.id, ChargingState: transactions.ChargingStateEVConnected, StoppedReason: transactions.ReasonRemote},
				func(e *transactions.TransactionEventRequest) {
					e.MeterValue = []types2.MeterValue{energy2(clock.next(), tx.meter, "Wh", nil, types2.ReadingContextTransactionEnd)}
				})
			p.followUp("TransactionEvent Ended", err)
			status(tx.evse, availability.ConnectorStatusAvailable)
		})
		p.then("ChangeAvailability", func(r ocpp.Request) {
			req := r.(*availability.ChangeAvailabilityRequest)
			s := availability.ConnectorStatusAvailable
			if req.OperationalStatus == availability.OperationalStatusInoperative {
				s = availability.ConnectorStatusUnavailable
			}
			if req.Evse != nil {
				status(req.Evse.ID, s)
			}
		})
		p.then("ReserveNow", func(r ocpp.Request) {
			if req := r.(*reservation.ReserveNowRequest); req.EvseID != nil {
				status(*req.EvseID, availability.ConnectorStatusReserved)
			}
		})
		p.then("CancelReservation", func(ocpp.Request) { status(2, availability.ConnectorStatusAvailable) })
		p.then("UpdateFirmware", func(r ocpp.Request) {
			rid := r.(*firmware.UpdateFirmwareRequest).RequestID
			for _, s := range []firmware.FirmwareStatus{firmware.FirmwareStatusDownloading, firmware.FirmwareStatusDownloaded,
				firmware.FirmwareStatusInstalling, firmware.FirmwareStatusInstalled} {
				_, err := cs.FirmwareStatusNotification(s, func(n *firmware.FirmwareStatusNotificationRequest) { n.RequestID = intp(rid) })
				p.followUp("FirmwareStatusNotification "+string(s), err)
			}
		})
		p.then("PublishFirmware", func(r ocpp.Request) {
			rid := r.(*firmware.PublishFirmwareRequest).RequestID
			_, err := cs.PublishFirmwareStatusNotification(firmware.PublishFirmwareStatusPublished, func(n *firmware.PublishFirmwareStatusNotificationRequest) {
				n.RequestID = intp(rid)
				n.Location = []string{"http://192.168.1.10/fw.bin"}
			})
			p.followUp("PublishFirmwareStatusNotification", err)
		})
		p.then("GetLog", func(r ocpp.Request) {
			rid := r.(*diagnostics.GetLogRequest).RequestID
			for _, s := range []diagnostics.UploadLogStatus{diagnostics.UploadLogStatusUploading, diagnostics.UploadLogStatusUploaded} {
				_, err := cs.LogStatusNotification(s, rid)
				p.followUp("LogStatusNotification "+string(s), err)
			}
		})
		report := func(rid int, parts ...[]provisioning.ReportData) {
			for i, part := range parts {
				_, err := cs.NotifyReport(rid, dt2(clock.next()), i, func(n *provisioning.NotifyReportRequest) {
					n.ReportData = part
					n.Tbc = i < len(parts)-1
				})
				p.followUp(fmt.Sprintf("NotifyReport %d/%d", i+1, len(parts)), err)
			}
		}
		attr := func(comp, variable, value string, mut provisioning.Mutability, dataType provisioning.DataType) provisioning.ReportData {
			return provisioning.ReportData{Component: types2.Component{Name: comp}, Variable: types2.Variable{Name: variable},
				VariableAttribute:       []provisioning.VariableAttribute{{Type: types2.AttributeActual, Value: value, Mutability: mut}},
				VariableCharacteristics: &provisioning.VariableCharacteristics{DataType: dataType}}
		}
		p.then("GetBaseReport", func(r ocpp.Request) {
			report(r.(*provisioning.GetBaseReportRequest).RequestID,
				[]provisioning.ReportData{attr("OCPPCommCtrlr", "HeartbeatInterval", "300", provisioning.MutabilityReadWrite, provisioning.TypeInteger),
					attr("SampledDataCtrlr", "TxUpdatedInterval", "60", provisioning.MutabilityReadWrite, provisioning.TypeInteger)},
				[]provisioning.ReportData{attr("SecurityCtrlr", "SecurityProfile", "1", provisioning.MutabilityReadOnly, provisioning.TypeInteger)})
		})
		p.then("GetReport", func(r ocpp.Request) {
			rid := r.(*provisioning.GetReportRequest).RequestID
			if rid == nil {
				p.followUp("GetReport", fmt.Errorf("ocpp-go saw no requestId"))
				return
			}
			report(*rid,
				[]provisioning.ReportData{attr("AuthCtrlr", "AuthorizeRemoteStart", "true", provisioning.MutabilityReadWrite, provisioning.TypeBoolean)})
		})
		p.then("GetMonitoringReport", func(r ocpp.Request) {
			rid := r.(*diagnostics.GetMonitoringReportRequest).RequestID
			if rid == nil {
				p.followUp("GetMonitoringReport", fmt.Errorf("ocpp-go saw no requestId"))
				return
			}
			_, err := cs.NotifyMonitoringReport(*rid, 0, dt2(clock.next()), []diagnostics.MonitoringData{{
				Component: types2.Component{Name: "EVSE", EVSE: &types2.EVSE{ID: 1}}, Variable: types2.Variable{Name: "Power"},
				VariableMonitoring: []diagnostics.VariableMonitoring{{ID: 3, Value: 80, Type: diagnostics.MonitorUpperThreshold, Severity: 4}},
			}})
			p.followUp("NotifyMonitoringReport", err)
		})
		p.then("CustomerInformation", func(r ocpp.Request) {
			_, err := cs.NotifyCustomerInformation("no data held for cust-1", 0, *dt2(clock.next()), r.(*diagnostics.CustomerInformationRequest).RequestID)
			p.followUp("NotifyCustomerInformation", err)
		})
		p.then("GetDisplayMessages", func(r ocpp.Request) {
			_, err := cs.NotifyDisplayMessages(r.(*display.GetDisplayMessagesRequest).RequestID)
			p.followUp("NotifyDisplayMessages", err)
		})
		p.then("GetChargingProfiles", func(r ocpp.Request) {
			_, err := cs.ReportChargingProfiles(r.(*smartcharging.GetChargingProfilesRequest).RequestID, types2.ChargingLimitSourceCSO, 0,
				[]types2.ChargingProfile{{ID: 10, StackLevel: 0, ChargingProfilePurpose: types2.ChargingProfilePurposeTxDefaultProfile,
					ChargingProfileKind: types2.ChargingProfileKindAbsolute, ChargingSchedule: []types2.ChargingSchedule{{
						ID: 1, ChargingRateUnit: types2.ChargingRateUnitWatts, ChargingSchedulePeriod: []types2.ChargingSchedulePeriod{{StartPeriod: 0, Limit: 11000}}}}}})
			p.followUp("ReportChargingProfiles", err)
		})
		p.then("TriggerMessage", func(r ocpp.Request) {
			req := r.(*remotecontrol.TriggerMessageRequest)
			var err error
			switch req.RequestedMessage {
			case remotecontrol.MessageTriggerBootNotification:
				_, err = cs.BootNotification(provisioning.BootReasonTriggered, "Go201Model", "GoVendor")
			case remotecontrol.MessageTriggerHeartbeat:
				_, err = cs.Heartbeat()
			case remotecontrol.MessageTriggerStatusNotification:
				_, err = cs.StatusNotification(dt2(clock.next()), availability.ConnectorStatusAvailable, req.Evse.ID, 1)
			case remotecontrol.MessageTriggerMeterValues:
				_, err = cs.MeterValues(req.Evse.ID, []types2.MeterValue{energy2(clock.next(), 777, "Wh", nil, types2.ReadingContextTrigger)})
			case remotecontrol.MessageTriggerFirmwareStatusNotification:
				_, err = cs.FirmwareStatusNotification(firmware.FirmwareStatusIdle)
			case remotecontrol.MessageTriggerLogStatusNotification:
				_, err = cs.LogStatusNotification(diagnostics.UploadLogStatusIdle, 0)
			case remotecontrol.MessageTriggerSignChargingStationCertificate:
				var res ocpp.Response
				res, err = cs.SignCertificate("-----BEGIN CERTIFICATE REQUEST-----\nMIIBCSR\n-----END CERTIFICATE REQUEST-----")
				if err == nil && harness.JSON(res) != `{"status":"Rejected"}` {
					err = fmt.Errorf("SignCertificate answer %s, want Rejected (no certificate authority)", harness.JSON(res))
				}
			case remotecontrol.MessageTriggerTransactionEvent:
				txMu.Lock()
				tx := txs[req.Evse.ID]
				txMu.Unlock()
				tx.meter += 1500
				_, err = p.txEvent(transactions.TransactionEventUpdated, clock.next(), transactions.TriggerReasonTrigger, tx.seq,
					transactions.Transaction{TransactionID: tx.id, ChargingState: transactions.ChargingStateCharging},
					func(e *transactions.TransactionEventRequest) {
						e.MeterValue = []types2.MeterValue{energy2(clock.next(), tx.meter, "Wh", nil, types2.ReadingContextTrigger)}
					})
				tx.seq++
			}
			p.followUp("triggered "+string(req.RequestedMessage), err)
		})

		// command sends an action through the API and checks both ends.
		var sent []string
		command := func(action, payload string) harness.CommandResult {
			t.Helper()
			n := len(p.received())
			res := harness.Command(t, srv, id, action, json.RawMessage(payload))
			sent = append(sent, action)
			p.settle()
			if got := p.received(); len(got) != n+1 || got[n] != action {
				t.Fatalf("%s: the station received %v after the command, want exactly %s", action, got[n:], action)
			}
			req, _ := json.Marshal(p.last(action))
			if !jsonEqual(req, []byte(payload)) {
				t.Errorf("%s: the station's handler got\n  %s\nthe API was given\n  %s", action, req, payload)
			}
			answer, _ := json.Marshal(p.lastAnswer(action))
			if !jsonEqual(res.Response, answer) {
				t.Errorf("%s: the API answered %s, the station answered %s", action, res.Response, answer)
			}
			var st struct{ Status string }
			json.Unmarshal(answer, &st)
			if st.Status == "" {
				st.Status = "Accepted"
			}
			if res.Status != st.Status {
				t.Errorf("%s: API status %q, want %q (the answer's status)", action, res.Status, st.Status)
			}
			return res
		}
		station := func() harness.Station { return harness.GetStation(t, srv, id) }
		future := harness.RFC3339(time.Now().Add(2 * time.Hour))

		// Provisioning.
		command("Reset", `{"type":"OnIdle"}`)
		p.answer("Reset", `{"status":"Rejected","statusInfo":{"reasonCode":"TxInProgress"}}`)
		command("Reset", `{"type":"Immediate","evseId":2}`)
		p.answer("GetVariables", `{"getVariableResult":[
			{"attributeStatus":"Accepted","attributeType":"Actual","attributeValue":"300","component":{"name":"OCPPCommCtrlr"},"variable":{"name":"HeartbeatInterval"}},
			{"attributeStatus":"UnknownComponent","component":{"name":"NoSuchCtrlr"},"variable":{"name":"Whatever"}}]}`)
		command("GetVariables", `{"getVariableData":[{"component":{"name":"OCPPCommCtrlr"},"variable":{"name":"HeartbeatInterval"}},
			{"attributeType":"Actual","component":{"name":"NoSuchCtrlr"},"variable":{"name":"Whatever"}}]}`)
		if v := harness.Variables(t, srv, id)["OCPPCommCtrlr.HeartbeatInterval.Actual"]; v.Value != "300" || v.Status != "Accepted" {
			t.Errorf("device model after GetVariables: %+v, want 300 (Accepted)", v)
		}
		p.answer("SetVariables", `{"setVariableResult":[
			{"attributeStatus":"Accepted","attributeType":"Actual","component":{"name":"SampledDataCtrlr"},"variable":{"name":"TxUpdatedInterval"}},
			{"attributeStatus":"Rejected","attributeType":"Actual","component":{"name":"OCPPCommCtrlr"},"variable":{"name":"NetworkProfileConnectionAttempts"}}]}`)
		command("SetVariables", `{"setVariableData":[
			{"attributeType":"Actual","attributeValue":"15","component":{"name":"SampledDataCtrlr"},"variable":{"name":"TxUpdatedInterval"}},
			{"attributeType":"Actual","attributeValue":"9","component":{"name":"OCPPCommCtrlr"},"variable":{"name":"NetworkProfileConnectionAttempts"}}]}`)
		vars := harness.Variables(t, srv, id)
		if v := vars["SampledDataCtrlr.TxUpdatedInterval.Actual"]; v.Value != "15" || v.Status != "Accepted" {
			t.Errorf("device model after SetVariables: %+v, want 15 (Accepted)", v)
		}
		if v, ok := vars["OCPPCommCtrlr.NetworkProfileConnectionAttempts.Actual"]; ok {
			t.Errorf("a value the station rejected was stored: %+v", v)
		}
		command("GetBaseReport", `{"requestId":13,"reportBase":"FullInventory"}`)
		command("GetReport", `{"requestId":14,"componentVariable":[{"component":{"name":"AuthCtrlr"},"variable":{"name":"AuthorizeRemoteStart"}}],"componentCriteria":["Active","Enabled"]}`)
		vars = harness.Variables(t, srv, id)
		for key, want := range map[string]string{
			"OCPPCommCtrlr.HeartbeatInterval.Actual": "300", "SecurityCtrlr.SecurityProfile.Actual": "1",
			"AuthCtrlr.AuthorizeRemoteStart.Actual": "true", "SampledDataCtrlr.TxUpdatedInterval.Actual": "60",
		} {
			if vars[key].Value != want {
				t.Errorf("device model after the reports: %s = %+v, want %q", key, vars[key], want)
			}
		}
		command("SetNetworkProfile", `{"configurationSlot":2,"connectionData":{"ocppVersion":"OCPP20","ocppTransport":"JSON",
			"ocppCsmsUrl":"wss://csms.example.com/ocpp","messageTimeout":30,"securityProfile":1,"ocppInterface":"Wired0"}}`)

		// Availability and reservations, seen in the connector statuses.
		command("ChangeAvailability", `{"operationalStatus":"Inoperative","evse":{"id":2}}`)
		if s := station().ConnectorStatus(2); s != "Unavailable" {
			t.Errorf("EVSE 2 after ChangeAvailability Inoperative: %s", s)
		}
		command("ChangeAvailability", `{"operationalStatus":"Operative","evse":{"id":2,"connectorId":1}}`)
		if s := station().ConnectorStatus(2); s != "Available" {
			t.Errorf("EVSE 2 after ChangeAvailability Operative: %s", s)
		}
		command("ReserveNow", `{"id":7,"expiryDateTime":"`+future+`","idToken":{"idToken":"GO2-REMOTE","type":"ISO14443"},"evseId":2,"connectorType":"cType2"}`)
		if s := station().ConnectorStatus(2); s != "Reserved" {
			t.Errorf("EVSE 2 after ReserveNow: %s", s)
		}
		command("CancelReservation", `{"reservationId":7}`)
		if s := station().ConnectorStatus(2); s != "Available" {
			t.Errorf("EVSE 2 after CancelReservation: %s", s)
		}
		command("UnlockConnector", `{"evseId":1,"connectorId":1}`)
		command("ClearCache", `{}`)

		// A remote start with a charging profile, and what the CSMS may ask
		// about the transaction while it runs.
		command("RequestStartTransaction", `{"idToken":{"idToken":"GO2-REMOTE","type":"ISO14443"},"remoteStartId":4711,"evseId":1,
			"chargingProfile":{"id":20,"stackLevel":1,"chargingProfilePurpose":"TxProfile","chargingProfileKind":"Relative",
			"chargingSchedule":[{"id":2,"chargingRateUnit":"A","chargingSchedulePeriod":[{"startPeriod":0,"limit":16,"numberPhases":3}]}]}}`)
		const rtx = "GO2-RS-4711"
		s, ok := harness.SessionByTx(t, srv, id, rtx)
		if !ok || s.Status != "active" || s.ConnectorID != 1 || s.IDTag != "GO2-REMOTE" || s.MeterStartWh != 1000 {
			t.Fatalf("session after RequestStartTransaction: %v (found %v)", s, ok)
		}
		if st := station(); st.ConnectorStatus(1) != "Charging" {
			t.Errorf("EVSE 1 after the remote start: %s", harness.JSON(st.Connectors))
		}
		p.answer("GetTransactionStatus", `{"ongoingIndicator":true,"messagesInQueue":false}`)
		command("GetTransactionStatus", `{"transactionId":"`+rtx+`"}`)
		command("CostUpdated", `{"totalCost":3.57,"transactionId":"`+rtx+`"}`)
		command("TriggerMessage", `{"requestedMessage":"TransactionEvent","evse":{"id":1}}`)
		if s, _ := harness.SessionByTx(t, srv, id, rtx); s.EnergyWh != 1500 {
			t.Errorf("energy after the triggered TransactionEvent: %v, want 1500", s)
		}
		command("RequestStopTransaction", `{"transactionId":"`+rtx+`"}`)
		s, _ = harness.SessionByTx(t, srv, id, rtx)
		if s.Status != "completed" || s.EnergyWh != 2000 || s.MeterStopWh == nil || *s.MeterStopWh != 3000 ||
			s.StopReason == nil || *s.StopReason != "Remote" {
			t.Errorf("session after RequestStopTransaction: %v, want completed, 2000 Wh, Remote", s)
		}
		if st := station(); st.ConnectorStatus(1) != "Available" {
			t.Errorf("EVSE 1 after the remote stop: %s", harness.JSON(st.Connectors))
		}

		// Every other trigger, each followed by the triggered message.
		for _, m := range []string{`"BootNotification"`, `"Heartbeat"`, `"StatusNotification","evse":{"id":1,"connectorId":1}`,
			`"MeterValues","evse":{"id":2}`, `"FirmwareStatusNotification"`, `"LogStatusNotification"`, `"SignChargingStationCertificate"`} {
			command("TriggerMessage", `{"requestedMessage":`+m+`}`)
		}
		if st := station(); st.FirmwareStatus == nil || *st.FirmwareStatus != "Idle" || st.DiagnosticsStatus == nil || *st.DiagnosticsStatus != "Idle" {
			t.Errorf("station after the triggered status notifications: %s, want firmware and diagnostics status Idle", harness.JSON(st))
		}

		// Firmware and diagnostics, with their status notifications.
		command("UpdateFirmware", `{"requestId":11,"retries":2,"retryInterval":60,"firmware":{"location":"https://fw.example.com/v2.bin",
			"retrieveDateTime":"`+harness.RFC3339(time.Now())+`","signature":"c2lnbmF0dXJl"}}`)
		if st := station(); st.FirmwareStatus == nil || *st.FirmwareStatus != "Installed" {
			t.Errorf("firmware status after UpdateFirmware: %s", harness.JSON(st))
		}
		command("PublishFirmware", `{"location":"https://fw.example.com/v2.bin","checksum":"0123456789abcdef0123456789abcdef","requestId":9,"retries":1}`)
		command("UnpublishFirmware", `{"checksum":"0123456789abcdef0123456789abcdef"}`)
		command("GetLog", `{"requestId":12,"logType":"DiagnosticsLog","log":{"remoteLocation":"ftp://logs.example.com/",
			"oldestTimestamp":"2026-01-01T00:00:00Z"},"retries":1}`)
		if st := station(); st.DiagnosticsStatus == nil || *st.DiagnosticsStatus != "Uploaded" {
			t.Errorf("diagnostics status after GetLog: %s", harness.JSON(st))
		}
		command("CustomerInformation", `{"requestId":6,"report":true,"clear":false,"customerIdentifier":"cust-1"}`)

		// Monitoring and display messages.
		command("SetMonitoringBase", `{"monitoringBase":"FactoryDefault"}`)
		command("SetMonitoringLevel", `{"severity":5}`)
		p.answer("SetVariableMonitoring", `{"setMonitoringResult":[{"id":3,"status":"Accepted","type":"UpperThreshold","severity":4,
			"component":{"name":"EVSE","evse":{"id":1}},"variable":{"name":"Power"}}]}`)
		command("SetVariableMonitoring", `{"setMonitoringData":[{"value":80,"type":"UpperThreshold","severity":4,
			"component":{"name":"EVSE","evse":{"id":1}},"variable":{"name":"Power"}}]}`)
		p.answer("GetMonitoringReport", `{"status":"Accepted"}`)
		command("GetMonitoringReport", `{"requestId":7,"monitoringCriteria":["ThresholdMonitoring"]}`)
		command("ClearVariableMonitoring", `{"id":[3,99]}`)
		command("SetDisplayMessage", `{"message":{"id":1,"priority":"NormalCycle","state":"Idle","message":{"format":"UTF8","language":"en","content":"Welcome"}}}`)
		p.answer("GetDisplayMessages", `{"status":"Accepted"}`)
		command("GetDisplayMessages", `{"requestId":8,"priority":"NormalCycle"}`)
		command("ClearDisplayMessage", `{"id":1}`)

		// Local list, smart charging, certificates, data transfer.
		command("SendLocalList", `{"versionNumber":3,"updateType":"Full","localAuthorizationList":[
			{"idToken":{"idToken":"LOCAL-1","type":"ISO14443"},"idTokenInfo":{"status":"Accepted"}},
			{"idToken":{"idToken":"LOCAL-2","type":"ISO14443"},"idTokenInfo":{"status":"Blocked"}}]}`)
		p.answer("GetLocalListVersion", `{"versionNumber":3}`)
		command("GetLocalListVersion", `{}`)
		command("SetChargingProfile", `{"evseId":0,"chargingProfile":{"id":10,"stackLevel":0,"chargingProfilePurpose":"TxDefaultProfile",
			"chargingProfileKind":"Recurring","recurrencyKind":"Daily","chargingSchedule":[{"id":1,"startSchedule":"2026-01-01T00:00:00Z",
			"duration":86400,"chargingRateUnit":"W","chargingSchedulePeriod":[{"startPeriod":0,"limit":11000},{"startPeriod":28800,"limit":7400,"numberPhases":3}]}]}}`)
		p.answer("GetChargingProfiles", `{"status":"Accepted"}`)
		command("GetChargingProfiles", `{"requestId":5,"chargingProfile":{"chargingProfilePurpose":"TxDefaultProfile"}}`)
		p.answer("GetCompositeSchedule", `{"status":"Accepted","schedule":{"evseId":1,"duration":3600,"scheduleStart":"2026-01-01T08:00:00Z",
			"chargingRateUnit":"W","chargingSchedulePeriod":[{"startPeriod":0,"limit":7400}]}}`)
		command("GetCompositeSchedule", `{"duration":3600,"evseId":1,"chargingRateUnit":"W"}`)
		command("ClearChargingProfile", `{"chargingProfileId":10}`)
		command("ClearChargingProfile", `{"chargingProfileCriteria":{"evseId":1,"chargingProfilePurpose":"TxProfile","stackLevel":1}}`)
		command("InstallCertificate", `{"certificateType":"CSMSRootCertificate","certificate":"-----BEGIN CERTIFICATE-----\nMIIBroot\n-----END CERTIFICATE-----"}`)
		p.answer("GetInstalledCertificateIds", `{"status":"Accepted","certificateHashDataChain":[{"certificateType":"CSMSRootCertificate",
			"certificateHashData":{"hashAlgorithm":"SHA256","issuerNameHash":"aa11","issuerKeyHash":"bb22","serialNumber":"01"}}]}`)
		command("GetInstalledCertificateIds", `{"certificateType":["CSMSRootCertificate","V2GRootCertificate"]}`)
		command("DeleteCertificate", `{"certificateHashData":{"hashAlgorithm":"SHA256","issuerNameHash":"aa11","issuerKeyHash":"bb22","serialNumber":"01"}}`)
		command("CertificateSigned", `{"certificateChain":"-----BEGIN CERTIFICATE-----\nMIIBleaf\n-----END CERTIFICATE-----","certificateType":"ChargingStationCertificate"}`)
		command("DataTransfer", `{"vendorId":"com.chargestar","messageId":"ping","data":{"n":1,"list":[1,"two",true]}}`)

		// Version-neutral commands said in 2.0.1.
		neutral := func(name, body, wantAction string) harness.CommandResult {
			t.Helper()
			n := len(p.received())
			res := harness.Command(t, srv, id, name, json.RawMessage(body))
			sent = append(sent, wantAction)
			p.settle()
			if got := p.received(); len(got) != n+1 || got[n] != wantAction || res.Action != wantAction {
				t.Fatalf("neutral %s: the station received %v, API action %q; want %s", name, got[n:], res.Action, wantAction)
			}
			answer, _ := json.Marshal(p.lastAnswer(wantAction))
			if !jsonEqual(res.Response, answer) {
				t.Errorf("neutral %s: the API answered %s, the station answered %s", name, res.Response, answer)
			}
			return res
		}
		neutral("start", `{"connector_id":2,"id_token":"GO2-REMOTE"}`, "RequestStartTransaction")
		start := p.last("RequestStartTransaction").(*remotecontrol.RequestStartTransactionRequest)
		if start.EvseID == nil || *start.EvseID != 2 || start.IDToken.IdToken != "GO2-REMOTE" || start.IDToken.Type != types2.IdTokenTypeCentral || start.RemoteStartID <= 0 {
			t.Errorf("neutral start was said as %s", harness.JSON(start))
		}
		ntx := fmt.Sprintf("GO2-RS-%d", start.RemoteStartID)
		s, ok = harness.SessionByTx(t, srv, id, ntx)
		if !ok || s.Status != "active" || s.ConnectorID != 2 {
			t.Fatalf("session after the neutral start: %v (found %v)", s, ok)
		}
		neutral("stop", `{"session_id":"`+s.ID+`"}`, "RequestStopTransaction")
		if req := p.last("RequestStopTransaction").(*remotecontrol.RequestStopTransactionRequest); req.TransactionID != ntx {
			t.Errorf("neutral stop was said as %s, want transaction %s", harness.JSON(req), ntx)
		}
		if s, _ := harness.SessionByTx(t, srv, id, ntx); s.Status != "completed" || s.StopReason == nil || *s.StopReason != "Remote" {
			t.Errorf("session after the neutral stop: %v", s)
		}
		for _, c := range []struct{ name, body, action, want string }{
			{"reset", `{"type":"hard"}`, "Reset", `{"type":"Immediate"}`},
			{"unlock", `{"connector_id":1}`, "UnlockConnector", `{"evseId":1,"connectorId":1}`},
			{"availability", `{"connector_id":2,"operative":false}`, "ChangeAvailability", `{"operationalStatus":"Inoperative","evse":{"id":2}}`},
			{"availability", `{"connector_id":2,"operative":true}`, "ChangeAvailability", `{"operationalStatus":"Operative","evse":{"id":2}}`},
			{"trigger", `{"message":"StatusNotification","connector_id":1}`, "TriggerMessage", `{"requestedMessage":"StatusNotification","evse":{"id":1}}`},
			{"trigger", `{"message":"DiagnosticsStatusNotification"}`, "TriggerMessage", `{"requestedMessage":"LogStatusNotification"}`},
			{"clear-cache", `{}`, "ClearCache", `{}`},
			{"get-configuration", `{"keys":["OCPPCommCtrlr.HeartbeatInterval"]}`, "GetVariables",
				`{"getVariableData":[{"component":{"name":"OCPPCommCtrlr"},"variable":{"name":"HeartbeatInterval"}}]}`},
			{"set-configuration", `{"key":"OCPPCommCtrlr.HeartbeatInterval","value":"120"}`, "SetVariables",
				`{"setVariableData":[{"attributeValue":"120","component":{"name":"OCPPCommCtrlr"},"variable":{"name":"HeartbeatInterval"}}]}`},
		} {
			neutral(c.name, c.body, c.action)
			if got, _ := json.Marshal(p.last(c.action)); !jsonEqual(got, []byte(c.want)) {
				t.Errorf("neutral %s %s was said as %s %s, want %s", c.name, c.body, c.action, got, c.want)
			}
		}
		if s := station().ConnectorStatus(2); s != "Available" {
			t.Errorf("EVSE 2 after the neutral availability commands: %s", s)
		}

		// Refusals: nothing reaches the station.
		n := len(p.received())
		for _, c := range []struct{ action, body, why string }{
			{"Reset", `{"type":"Sideways"}`, "a value outside the enum"},
			{"Reset", `{}`, "a required property missing"},
			{"UnlockConnector", `{"evseId":1}`, "a required property missing"},
			{"UnlockConnector", `{"evseId":"1","connectorId":1}`, "a string for an integer"},
			{"SetVariables", `{"setVariableData":[]}`, "an empty array where one item is required"},
			{"DataTransfer", `{"vendorId":"com.chargestar","bogus":1}`, "an unknown property"},
			{"RequestStartTransaction", `{"idToken":{"idToken":"X","type":"Bogus"},"remoteStartId":1}`, "an id token type outside the enum"},
			{"RequestStopTransaction", `{"transactionId":"` + strings.Repeat("x", 37) + `"}`, "a transaction id longer than 36"},
			{"ReserveNow", `{"id":1,"expiryDateTime":"tomorrow","idToken":{"idToken":"X","type":"ISO14443"}}`, "a date-time that is not one"},
			{"Reset", `[]`, "a payload that is not an object"},
			{"RemoteStartTransaction", `{"connectorId":1,"idTag":"GO2-REMOTE"}`, "the 1.6 name of the action"},
			{"ChangeConfiguration", `{"key":"HeartbeatInterval","value":"60"}`, "a 1.6 action"},
			{"GetConfiguration", `{}`, "a 1.6 action"},
			{"BootNotification", `{"reason":"PowerUp","chargingStation":{"model":"M","vendorName":"V"}}`, "an action of the station"},
			{"TransactionEvent", `{}`, "an action of the station"},
			{"SetDefaultTariff", `{"evseId":1,"tariff":{"tariffId":"T","currency":"EUR"}}`, "an OCPP 2.1 action"},
			{"NoSuchAction", `{}`, "an unknown action"},
		} {
			code, body := harness.API(t, srv, "POST", "/api/v1/stations/"+url.PathEscape(id)+"/commands/"+c.action, c.body, nil)
			if code != 400 && code != 404 {
				t.Errorf("%s %s (%s): HTTP %d %s, want 400", c.action, c.body, c.why, code, body)
			} else if !strings.Contains(body, `"error"`) {
				t.Errorf("%s (%s): error body %s", c.action, c.why, body)
			}
		}
		if got := p.received(); len(got) != n {
			t.Errorf("refused commands reached the station: %v", got[n:])
		}

		// The station refuses with a CALLERROR: 502 naming its code.
		p.fail("ClearCache", ocppj.NotSupported, "the cache is not supported here")
		code, body := harness.API(t, srv, "POST", "/api/v1/stations/"+id+"/commands/ClearCache", `{}`, nil)
		sent = append(sent, "ClearCache")
		if code != 502 || !strings.Contains(body, "NotSupported") {
			t.Errorf("ClearCache answered with a CALLERROR: HTTP %d %s, want 502 naming NotSupported", code, body)
		}

		// Every action ocpp-go's charging station handles was sent.
		for action := range default201Answers {
			if !slices.Contains(sent, action) {
				t.Errorf("%s, a CSMS→station action ocpp-go handles, was not sent", action)
			}
		}
		if got := strings.Join(p.received(), " "); got != strings.Join(sent, " ") {
			t.Errorf("requests the station received:\n  %s\nwant (the commands sent, in order):\n  %s", got, strings.Join(sent, " "))
		}

		// Offline: 409, and the API says so.
		p.stop()
		harness.Eventually(t, 5*time.Second, func() string {
			if station().Connected {
				return "station still connected after ocpp-go stopped"
			}
			return ""
		})
		if code, body := harness.API(t, srv, "POST", "/api/v1/stations/"+id+"/commands/Reset", `{"type":"OnIdle"}`, nil); code != 409 {
			t.Errorf("Reset to a disconnected station: HTTP %d %s, want 409", code, body)
		}
		if code, body := harness.API(t, srv, "POST", "/api/v1/stations/"+id+"/commands/reset", `{}`, nil); code != 409 {
			t.Errorf("neutral reset to a disconnected station: HTTP %d %s, want 409", code, body)
		}
	})
}
