package ocppgo_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/lorenzodonini/ocpp-go/ocpp"
	ocpp2 "github.com/lorenzodonini/ocpp-go/ocpp2.0.1"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/authorization"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/availability"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/data"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/diagnostics"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/display"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/firmware"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/iso15118"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/localauth"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/meter"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/provisioning"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/remotecontrol"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/reservation"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/security"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/smartcharging"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/tariffcost"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/transactions"
	types2 "github.com/lorenzodonini/ocpp-go/ocpp2.0.1/types"
	"github.com/lorenzodonini/ocpp-go/ocppj"
	"github.com/lorenzodonini/ocpp-go/ws"

	"github.com/chargestar/chargestar/internal/servertest"
)

// station201 is an ocpp-go OCPP 2.0.1 charging station connected to the
// test server, with a handler for every CSMS→station action ocpp-go
// supports. Each handler records the request and answers with the JSON
// the test configured for the action (default201Answers otherwise),
// decoded into ocpp-go's response type, so that what the station sends is
// exactly what ocpp-go makes of that JSON. As in the 1.6 peer, follow-up
// messages (status notifications, transaction events, reports) are sent
// from their own goroutine after the answer.
type station201 struct {
	t   *testing.T
	id  string
	cs  ocpp2.ChargingStation
	tap *tap

	stopOnce sync.Once

	mu        sync.Mutex
	requests  []ocpp.Request           // CSMS→station requests, in order of arrival
	answered  map[string]ocpp.Response // the last answer given, by action
	answers   map[string]string        // JSON answer by action; default201Answers when unset
	failures  map[string]*ocpp.Error   // actions answered with a CALLERROR instead
	onRequest map[string]func(req ocpp.Request)
	followErr []error
	follow    sync.WaitGroup
}

type station201Options struct {
	password     string   // Basic auth password (user = station id)
	subprotocols []string // offered before ocpp2.0.1 (ocpp-go always adds ocpp2.0.1 last)
}

// default201Answers are schema-valid answers with some content beyond the
// required status, so that the test sees them arrive whole at the API.
var default201Answers = map[string]string{
	"CancelReservation":          `{"status":"Accepted"}`,
	"CertificateSigned":          `{"status":"Rejected","statusInfo":{"reasonCode":"NoCSR","additionalInfo":"no CSR pending"}}`,
	"ChangeAvailability":         `{"status":"Accepted"}`,
	"ClearCache":                 `{"status":"Accepted"}`,
	"ClearChargingProfile":       `{"status":"Accepted"}`,
	"ClearDisplayMessage":        `{"status":"Unknown"}`,
	"ClearVariableMonitoring":    `{"clearMonitoringResult":[{"status":"Accepted","id":3},{"status":"NotFound","id":99}]}`,
	"CostUpdated":                `{}`,
	"CustomerInformation":        `{"status":"Accepted"}`,
	"DataTransfer":               `{"status":"Accepted","data":{"echo":"pong","n":2}}`,
	"DeleteCertificate":          `{"status":"NotFound"}`,
	"GetBaseReport":              `{"status":"Accepted"}`,
	"GetChargingProfiles":        `{"status":"NoProfiles"}`,
	"GetCompositeSchedule":       `{"status":"Rejected"}`,
	"GetDisplayMessages":         `{"status":"Unknown"}`,
	"GetInstalledCertificateIds": `{"status":"NotFound"}`,
	"GetLocalListVersion":        `{"versionNumber":0}`,
	"GetLog":                     `{"status":"Accepted","filename":"diagnostics-1.log"}`,
	"GetMonitoringReport":        `{"status":"EmptyResultSet"}`,
	"GetReport":                  `{"status":"Accepted"}`,
	"GetTransactionStatus":       `{"messagesInQueue":false}`,
	"GetVariables":               `{"getVariableResult":[]}`,
	"InstallCertificate":         `{"status":"Rejected"}`,
	"PublishFirmware":            `{"status":"Accepted"}`,
	"RequestStartTransaction":    `{"status":"Accepted"}`,
	"RequestStopTransaction":     `{"status":"Accepted"}`,
	"ReserveNow":                 `{"status":"Accepted"}`,
	"Reset":                      `{"status":"Scheduled"}`,
	"SendLocalList":              `{"status":"Accepted"}`,
	"SetChargingProfile":         `{"status":"Accepted"}`,
	"SetDisplayMessage":          `{"status":"Accepted"}`,
	"SetMonitoringBase":          `{"status":"Accepted"}`,
	"SetMonitoringLevel":         `{"status":"Accepted"}`,
	"SetNetworkProfile":          `{"status":"Accepted"}`,
	"SetVariableMonitoring":      `{"setMonitoringResult":[]}`,
	"SetVariables":               `{"setVariableResult":[]}`,
	"TriggerMessage":             `{"status":"Accepted"}`,
	"UnlockConnector":            `{"status":"Unlocked"}`,
	"UnpublishFirmware":          `{"status":"NoFirmware"}`,
	"UpdateFirmware":             `{"status":"Accepted"}`,
}

func newStation201(t *testing.T, id string, o station201Options) *station201 {
	t.Helper()
	wsc := ws.NewClient()
	cfg := ws.NewClientTimeoutConfig()
	// No reconnection attempts during a test (see newPeer).
	cfg.RetryBackOffWaitMinimum = time.Hour
	cfg.RetryBackOffRandomRange = 0
	wsc.SetTimeoutConfig(cfg)
	if o.password != "" {
		wsc.SetBasicAuth(id, o.password)
	}
	for _, sp := range o.subprotocols {
		wsc.SetRequestedSubProtocol(sp)
	}
	p := &station201{t: t, id: id, tap: &tap{}, answered: map[string]ocpp.Response{}, answers: map[string]string{},
		failures: map[string]*ocpp.Error{}, onRequest: map[string]func(ocpp.Request){}}
	wsc.AddOption(p.tap.dialOption())
	// The endpoint ocpp2.NewChargingStation would build, with a shorter
	// request timeout so that an unanswered call fails the test quickly.
	dispatcher := ocppj.NewDefaultClientDispatcher(ocppj.NewFIFOClientQueue(0))
	dispatcher.SetTimeout(10 * time.Second)
	endpoint := ocppj.NewClient(id, wsc, dispatcher, nil, authorization.Profile, availability.Profile, data.Profile,
		diagnostics.Profile, display.Profile, firmware.Profile, iso15118.Profile, localauth.Profile, meter.Profile,
		provisioning.Profile, remotecontrol.Profile, reservation.Profile, security.Profile, smartcharging.Profile,
		tariffcost.Profile, transactions.Profile)
	p.cs = ocpp2.NewChargingStation(id, endpoint, wsc)
	p.cs.SetAuthorizationHandler(p)
	p.cs.SetAvailabilityHandler(p)
	p.cs.SetDataHandler(p)
	p.cs.SetDiagnosticsHandler(p)
	p.cs.SetDisplayHandler(p)
	p.cs.SetFirmwareHandler(p)
	p.cs.SetISO15118Handler(p)
	p.cs.SetLocalAuthListHandler(p)
	p.cs.SetProvisioningHandler(p)
	p.cs.SetRemoteControlHandler(p)
	p.cs.SetReservationHandler(p)
	p.cs.SetSecurityHandler(p)
	p.cs.SetSmartChargingHandler(p)
	p.cs.SetTariffCostHandler(p)
	p.cs.SetTransactionsHandler(p)
	return p
}

// connect201 starts a 2.0.1 charging station against the server and fails
// the test if the connection is refused.
func connect201(t *testing.T, srv *servertest.Server, id string, o station201Options) *station201 {
	t.Helper()
	p := newStation201(t, id, o)
	if err := p.cs.Start(srv.WSURL); err != nil {
		t.Fatalf("%s: ocpp-go 2.0.1 charging station could not connect: %v", id, err)
	}
	t.Cleanup(p.stop)
	return p
}

// stop disconnects the station (once: ocpp-go panics on a second Stop).
func (p *station201) stop() {
	p.stopOnce.Do(func() {
		p.follow.Wait()
		p.cs.Stop()
	})
}

// answer201 records a request and answers it as configured.
func answer201[T any, PT interface {
	*T
	ocpp.Response
}](p *station201, req ocpp.Request) (PT, error) {
	action := req.GetFeatureName()
	p.mu.Lock()
	p.requests = append(p.requests, req)
	js, ok := p.answers[action]
	if !ok {
		js = default201Answers[action]
	}
	failure := p.failures[action]
	after := p.onRequest[action]
	p.mu.Unlock()
	if failure != nil {
		return nil, failure
	}
	var resp T
	if err := json.Unmarshal([]byte(js), &resp); err != nil {
		p.t.Errorf("%s: the test's answer %s does not decode into ocpp-go's %T: %v", action, js, resp, err)
		return nil, ocpp.NewError(ocppj.InternalError, err.Error(), "")
	}
	p.mu.Lock()
	p.answered[action] = PT(&resp)
	p.mu.Unlock()
	if after != nil {
		p.follow.Add(1)
		go func() {
			defer p.follow.Done()
			time.Sleep(10 * time.Millisecond) // let the answer go out first
			after(req)
		}()
	}
	return &resp, nil
}

// answer sets the JSON answer of an action.
func (p *station201) answer(action, js string) {
	p.mu.Lock()
	p.answers[action] = js
	p.mu.Unlock()
}

// fail makes the station answer an action with a CALLERROR.
func (p *station201) fail(action string, code ocpp.ErrorCode, desc string) {
	p.mu.Lock()
	p.failures[action] = ocpp.NewError(code, desc, "")
	p.mu.Unlock()
}

// then sets what the station does after answering an action.
func (p *station201) then(action string, f func(req ocpp.Request)) {
	p.mu.Lock()
	p.onRequest[action] = f
	p.mu.Unlock()
}

// followUp records the error of a follow-up message.
func (p *station201) followUp(what string, err error) {
	if err != nil {
		p.mu.Lock()
		p.followErr = append(p.followErr, fmt.Errorf("%s: %w", what, err))
		p.mu.Unlock()
	}
}

// settle waits for the follow-up messages and fails on their errors.
func (p *station201) settle() {
	p.t.Helper()
	p.follow.Wait()
	p.mu.Lock()
	errs := p.followErr
	p.followErr = nil
	p.mu.Unlock()
	for _, err := range errs {
		p.t.Errorf("%s: follow-up message failed: %v", p.id, err)
	}
}

// received returns the actions received so far, in order.
func (p *station201) received() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]string, len(p.requests))
	for i, r := range p.requests {
		out[i] = r.GetFeatureName()
	}
	return out
}

// last returns the last request received for an action, or nil.
func (p *station201) last(action string) ocpp.Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := len(p.requests) - 1; i >= 0; i-- {
		if p.requests[i].GetFeatureName() == action {
			return p.requests[i]
		}
	}
	return nil
}

// lastAnswer returns the last answer given to an action, or nil.
func (p *station201) lastAnswer(action string) ocpp.Response {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.answered[action]
}

// jsonEqual reports whether two JSON texts hold the same value (object
// key order and number spelling aside).
func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// Authorization.

func (p *station201) OnClearCache(r *authorization.ClearCacheRequest) (*authorization.ClearCacheResponse, error) {
	return answer201[authorization.ClearCacheResponse](p, r)
}

// Availability.

func (p *station201) OnChangeAvailability(r *availability.ChangeAvailabilityRequest) (*availability.ChangeAvailabilityResponse, error) {
	return answer201[availability.ChangeAvailabilityResponse](p, r)
}

// Data transfer.

func (p *station201) OnDataTransfer(r *data.DataTransferRequest) (*data.DataTransferResponse, error) {
	return answer201[data.DataTransferResponse](p, r)
}

// Diagnostics.

func (p *station201) OnClearVariableMonitoring(r *diagnostics.ClearVariableMonitoringRequest) (*diagnostics.ClearVariableMonitoringResponse, error) {
	return answer201[diagnostics.ClearVariableMonitoringResponse](p, r)
}

func (p *station201) OnCustomerInformation(r *diagnostics.CustomerInformationRequest) (*diagnostics.CustomerInformationResponse, error) {
	return answer201[diagnostics.CustomerInformationResponse](p, r)
}

func (p *station201) OnGetLog(r *diagnostics.GetLogRequest) (*diagnostics.GetLogResponse, error) {
	return answer201[diagnostics.GetLogResponse](p, r)
}

func (p *station201) OnGetMonitoringReport(r *diagnostics.GetMonitoringReportRequest) (*diagnostics.GetMonitoringReportResponse, error) {
	return answer201[diagnostics.GetMonitoringReportResponse](p, r)
}

func (p *station201) OnSetMonitoringBase(r *diagnostics.SetMonitoringBaseRequest) (*diagnostics.SetMonitoringBaseResponse, error) {
	return answer201[diagnostics.SetMonitoringBaseResponse](p, r)
}

func (p *station201) OnSetMonitoringLevel(r *diagnostics.SetMonitoringLevelRequest) (*diagnostics.SetMonitoringLevelResponse, error) {
	return answer201[diagnostics.SetMonitoringLevelResponse](p, r)
}

func (p *station201) OnSetVariableMonitoring(r *diagnostics.SetVariableMonitoringRequest) (*diagnostics.SetVariableMonitoringResponse, error) {
	return answer201[diagnostics.SetVariableMonitoringResponse](p, r)
}

// Display.

func (p *station201) OnClearDisplay(r *display.ClearDisplayRequest) (*display.ClearDisplayResponse, error) {
	return answer201[display.ClearDisplayResponse](p, r)
}

func (p *station201) OnGetDisplayMessages(r *display.GetDisplayMessagesRequest) (*display.GetDisplayMessagesResponse, error) {
	return answer201[display.GetDisplayMessagesResponse](p, r)
}

func (p *station201) OnSetDisplayMessage(r *display.SetDisplayMessageRequest) (*display.SetDisplayMessageResponse, error) {
	return answer201[display.SetDisplayMessageResponse](p, r)
}

// Firmware.

func (p *station201) OnPublishFirmware(r *firmware.PublishFirmwareRequest) (*firmware.PublishFirmwareResponse, error) {
	return answer201[firmware.PublishFirmwareResponse](p, r)
}

func (p *station201) OnUnpublishFirmware(r *firmware.UnpublishFirmwareRequest) (*firmware.UnpublishFirmwareResponse, error) {
	return answer201[firmware.UnpublishFirmwareResponse](p, r)
}

func (p *station201) OnUpdateFirmware(r *firmware.UpdateFirmwareRequest) (*firmware.UpdateFirmwareResponse, error) {
	return answer201[firmware.UpdateFirmwareResponse](p, r)
}

// ISO 15118 certificates.

func (p *station201) OnDeleteCertificate(r *iso15118.DeleteCertificateRequest) (*iso15118.DeleteCertificateResponse, error) {
	return answer201[iso15118.DeleteCertificateResponse](p, r)
}

func (p *station201) OnGetInstalledCertificateIds(r *iso15118.GetInstalledCertificateIdsRequest) (*iso15118.GetInstalledCertificateIdsResponse, error) {
	return answer201[iso15118.GetInstalledCertificateIdsResponse](p, r)
}

func (p *station201) OnInstallCertificate(r *iso15118.InstallCertificateRequest) (*iso15118.InstallCertificateResponse, error) {
	return answer201[iso15118.InstallCertificateResponse](p, r)
}

// Local authorization list.

func (p *station201) OnGetLocalListVersion(r *localauth.GetLocalListVersionRequest) (*localauth.GetLocalListVersionResponse, error) {
	return answer201[localauth.GetLocalListVersionResponse](p, r)
}

func (p *station201) OnSendLocalList(r *localauth.SendLocalListRequest) (*localauth.SendLocalListResponse, error) {
	return answer201[localauth.SendLocalListResponse](p, r)
}

// Provisioning.

func (p *station201) OnGetBaseReport(r *provisioning.GetBaseReportRequest) (*provisioning.GetBaseReportResponse, error) {
	return answer201[provisioning.GetBaseReportResponse](p, r)
}

func (p *station201) OnGetReport(r *provisioning.GetReportRequest) (*provisioning.GetReportResponse, error) {
	return answer201[provisioning.GetReportResponse](p, r)
}

func (p *station201) OnGetVariables(r *provisioning.GetVariablesRequest) (*provisioning.GetVariablesResponse, error) {
	return answer201[provisioning.GetVariablesResponse](p, r)
}

func (p *station201) OnReset(r *provisioning.ResetRequest) (*provisioning.ResetResponse, error) {
	return answer201[provisioning.ResetResponse](p, r)
}

func (p *station201) OnSetNetworkProfile(r *provisioning.SetNetworkProfileRequest) (*provisioning.SetNetworkProfileResponse, error) {
	return answer201[provisioning.SetNetworkProfileResponse](p, r)
}

func (p *station201) OnSetVariables(r *provisioning.SetVariablesRequest) (*provisioning.SetVariablesResponse, error) {
	return answer201[provisioning.SetVariablesResponse](p, r)
}

// Remote control.

func (p *station201) OnRequestStartTransaction(r *remotecontrol.RequestStartTransactionRequest) (*remotecontrol.RequestStartTransactionResponse, error) {
	return answer201[remotecontrol.RequestStartTransactionResponse](p, r)
}

func (p *station201) OnRequestStopTransaction(r *remotecontrol.RequestStopTransactionRequest) (*remotecontrol.RequestStopTransactionResponse, error) {
	return answer201[remotecontrol.RequestStopTransactionResponse](p, r)
}

func (p *station201) OnTriggerMessage(r *remotecontrol.TriggerMessageRequest) (*remotecontrol.TriggerMessageResponse, error) {
	return answer201[remotecontrol.TriggerMessageResponse](p, r)
}

func (p *station201) OnUnlockConnector(r *remotecontrol.UnlockConnectorRequest) (*remotecontrol.UnlockConnectorResponse, error) {
	return answer201[remotecontrol.UnlockConnectorResponse](p, r)
}

// Reservation.

func (p *station201) OnCancelReservation(r *reservation.CancelReservationRequest) (*reservation.CancelReservationResponse, error) {
	return answer201[reservation.CancelReservationResponse](p, r)
}

func (p *station201) OnReserveNow(r *reservation.ReserveNowRequest) (*reservation.ReserveNowResponse, error) {
	return answer201[reservation.ReserveNowResponse](p, r)
}

// Security.

func (p *station201) OnCertificateSigned(r *security.CertificateSignedRequest) (*security.CertificateSignedResponse, error) {
	return answer201[security.CertificateSignedResponse](p, r)
}

// Smart charging.

func (p *station201) OnClearChargingProfile(r *smartcharging.ClearChargingProfileRequest) (*smartcharging.ClearChargingProfileResponse, error) {
	return answer201[smartcharging.ClearChargingProfileResponse](p, r)
}

func (p *station201) OnGetChargingProfiles(r *smartcharging.GetChargingProfilesRequest) (*smartcharging.GetChargingProfilesResponse, error) {
	return answer201[smartcharging.GetChargingProfilesResponse](p, r)
}

func (p *station201) OnGetCompositeSchedule(r *smartcharging.GetCompositeScheduleRequest) (*smartcharging.GetCompositeScheduleResponse, error) {
	return answer201[smartcharging.GetCompositeScheduleResponse](p, r)
}

func (p *station201) OnSetChargingProfile(r *smartcharging.SetChargingProfileRequest) (*smartcharging.SetChargingProfileResponse, error) {
	return answer201[smartcharging.SetChargingProfileResponse](p, r)
}

// Tariff and cost.

func (p *station201) OnCostUpdated(r *tariffcost.CostUpdatedRequest) (*tariffcost.CostUpdatedResponse, error) {
	return answer201[tariffcost.CostUpdatedResponse](p, r)
}

// Transactions.

func (p *station201) OnGetTransactionStatus(r *transactions.GetTransactionStatusRequest) (*transactions.GetTransactionStatusResponse, error) {
	return answer201[transactions.GetTransactionStatusResponse](p, r)
}

// Helpers for messages the station sends.

func dt2(tm time.Time) *types2.DateTime { return types2.NewDateTime(tm.UTC().Truncate(time.Second)) }

func intp(v int) *int { return &v }

// energy2 is an energy register reading; multiplier (10^n) may be nil.
func energy2(tm time.Time, value float64, unit string, multiplier *int, ctx types2.ReadingContext) types2.MeterValue {
	return types2.MeterValue{Timestamp: *dt2(tm), SampledValue: []types2.SampledValue{{
		Value: value, Context: ctx, Measurand: types2.MeasurandEnergyActiveImportRegister, Location: types2.LocationOutlet,
		UnitOfMeasure: &types2.UnitOfMeasure{Unit: unit, Multiplier: multiplier},
	}}}
}

// evse2 names an EVSE and connector.
func evse2(id, connector int) *types2.EVSE { return &types2.EVSE{ID: id, ConnectorID: intp(connector)} }

// txEvent2 sends a TransactionEvent.
func (p *station201) txEvent(typ transactions.TransactionEvent, at time.Time, reason transactions.TriggerReason, seq int,
	info transactions.Transaction, props ...func(*transactions.TransactionEventRequest)) (*transactions.TransactionEventResponse, error) {
	return p.cs.TransactionEvent(typ, dt2(at), reason, seq, info, props...)
}
