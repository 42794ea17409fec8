package ocpp2

// This file is the template of v21_gen.go: gen21 copies it with v201 → v21
// and V201 → V21. Keep version-specific behaviour out of it (in v201_only.go
// and v21.go), and run `go generate ./internal/csms/ocpp2` after editing.

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/chargestar/chargestar/internal/csms"
	"github.com/chargestar/chargestar/internal/model"
	"github.com/chargestar/chargestar/internal/ocpp"
	"github.com/chargestar/chargestar/internal/ocpp/v201"
)

// checkV201 implements csms.Protocol.CheckCommand: the action must be one
// the CSMS sends, and the payload must satisfy its schema strictly.
func checkV201(action string, payload []byte) error {
	info, ok := v201.Action(action)
	if !ok || !info.ToStation {
		return csms.ErrUnknownCommand
	}
	return info.NewRequest().DecodeOCPP(payload, strictOpts)
}

func (a *Adapter) handleV201(ctx context.Context, action string, payload []byte, dst []byte) ([]byte, error) {
	svc, l := a.svc, a.link
	switch action {
	case "BootNotification":
		var req v201.BootNotificationRequest
		if err := req.DecodeOCPP(payload, decodeOpts); err != nil {
			return nil, err
		}
		cs := req.ChargingStation
		info := csms.BootInfo{Vendor: cs.VendorName, Model: cs.Model, SerialNumber: cs.SerialNumber,
			FirmwareVersion: cs.FirmwareVersion, Reason: string(req.Reason)}
		if cs.Modem != nil {
			info.ICCID, info.IMSI = cs.Modem.ICCID, cs.Modem.IMSI
		}
		res, err := svc.Boot(ctx, l, info)
		if err != nil {
			return nil, err
		}
		resp := v201.BootNotificationResponse{Status: v201.RegistrationStatus(res.Status),
			CurrentTime: ocpp.DateTime{Time: res.CurrentTime}, Interval: int(res.Interval / time.Second)}
		return resp.AppendOCPP(dst), nil

	case "Heartbeat":
		var req v201.HeartbeatRequest
		if err := req.DecodeOCPP(payload, decodeOpts); err != nil {
			return nil, err
		}
		resp := v201.HeartbeatResponse{CurrentTime: ocpp.DateTime{Time: svc.Heartbeat(ctx, l)}}
		return resp.AppendOCPP(dst), nil

	case "StatusNotification":
		var req v201.StatusNotificationRequest
		if err := req.DecodeOCPP(payload, decodeOpts); err != nil {
			return nil, err
		}
		if err := a.connectorStatus(ctx, req.EVSEID, req.ConnectorID, string(req.ConnectorStatus), req.Timestamp.Time); err != nil {
			return nil, err
		}
		return (&v201.StatusNotificationResponse{}).AppendOCPP(dst), nil

	case "Authorize":
		var req v201.AuthorizeRequest
		if err := req.DecodeOCPP(payload, decodeOpts); err != nil {
			return nil, err
		}
		res, err := a.authorize(ctx, req.IDToken.IDToken, string(req.IDToken.Type))
		if err != nil {
			return nil, err
		}
		resp := v201.AuthorizeResponse{IDTokenInfo: idTokenInfoV201(res, string(req.IDToken.Type))}
		return resp.AppendOCPP(dst), nil

	case "TransactionEvent":
		var req v201.TransactionEventRequest
		if err := req.DecodeOCPP(payload, decodeOpts); err != nil {
			return nil, err
		}
		ev := csms.TxEvent{
			TransactionID: req.TransactionInfo.TransactionID, SeqNo: req.SeqNo, EventType: string(req.EventType),
			TriggerReason: string(req.TriggerReason), ChargingState: string(req.TransactionInfo.ChargingState),
			StoppedReason: string(req.TransactionInfo.StoppedReason), Timestamp: req.Timestamp.Time,
			RemoteStartID: req.TransactionInfo.RemoteStartID, ReservationID: req.ReservationID,
			MeterValues: meterValuesV201(req.MeterValue),
		}
		if req.Offline != nil {
			ev.Offline = *req.Offline
		}
		if req.EVSE != nil {
			ev.EVSEID = req.EVSE.ID
			if req.EVSE.ConnectorID != nil {
				ev.ConnectorID = *req.EVSE.ConnectorID
			}
		}
		if req.IDToken != nil && !noToken(string(req.IDToken.Type)) {
			ev.IDToken, ev.IDTokenType = req.IDToken.IDToken, string(req.IDToken.Type)
		}
		res, err := svc.TransactionEvent(ctx, l, ev)
		if err != nil {
			return nil, err
		}
		a.transactionProgress(ctx, res.Session, ev)
		var resp v201.TransactionEventResponse
		if res.Auth != nil {
			info := idTokenInfoV201(*res.Auth, ev.IDTokenType)
			resp.IDTokenInfo = &info
		}
		if res.Cost != nil {
			total := toMajor(res.Cost.Total, res.Cost.Currency)
			resp.TotalCost = &total
		}
		txResponseV201(&resp, res)
		return resp.AppendOCPP(dst), nil

	case "MeterValues":
		var req v201.MeterValuesRequest
		if err := req.DecodeOCPP(payload, decodeOpts); err != nil {
			return nil, err
		}
		if err := svc.MeterValues(ctx, l, req.EVSEID, "", meterValuesV201(req.MeterValue)); err != nil {
			return nil, err
		}
		return (&v201.MeterValuesResponse{}).AppendOCPP(dst), nil

	case "NotifyReport":
		var req v201.NotifyReportRequest
		if err := req.DecodeOCPP(payload, decodeOpts); err != nil {
			return nil, err
		}
		if err := svc.DeviceModel(ctx, l, reportVariablesV201(req.ReportData, req.GeneratedAt.Time)); err != nil {
			return nil, err
		}
		return (&v201.NotifyReportResponse{}).AppendOCPP(dst), nil

	case "NotifyEvent":
		var req v201.NotifyEventRequest
		if err := req.DecodeOCPP(payload, decodeOpts); err != nil {
			return nil, err
		}
		evs := make([]model.StationEvent, 0, len(req.EventData))
		for _, ed := range req.EventData {
			c, v := ed.Component, ed.Variable
			if c.Name == "Connector" && v.Name == "AvailabilityState" && c.EVSE != nil {
				// A connector status reported as a monitoring event (some
				// stations do instead of StatusNotification).
				conn := 1
				if c.EVSE.ConnectorID != nil {
					conn = *c.EVSE.ConnectorID
				}
				if err := a.connectorStatus(ctx, c.EVSE.ID, conn, ed.ActualValue, ed.Timestamp.Time); err != nil {
					return nil, err
				}
			}
			info := ed.ActualValue
			if ed.TechInfo != "" {
				info += " (" + ed.TechInfo + ")"
			}
			evs = append(evs, model.StationEvent{Kind: model.EventNotify, Type: componentPathV201(c, v) + " " + string(ed.Trigger),
				Severity: -1, TechInfo: info, Payload: jsonTextV201(ed), Timestamp: ed.Timestamp.Time})
		}
		if err := svc.StationEvents(ctx, l, evs...); err != nil {
			return nil, err
		}
		return (&v201.NotifyEventResponse{}).AppendOCPP(dst), nil

	case "SecurityEventNotification":
		var req v201.SecurityEventNotificationRequest
		if err := req.DecodeOCPP(payload, decodeOpts); err != nil {
			return nil, err
		}
		if err := svc.SecurityEvent(ctx, l, req.Type, req.Timestamp.Time, req.TechInfo); err != nil {
			return nil, err
		}
		return (&v201.SecurityEventNotificationResponse{}).AppendOCPP(dst), nil

	case "FirmwareStatusNotification":
		var req v201.FirmwareStatusNotificationRequest
		if err := req.DecodeOCPP(payload, decodeOpts); err != nil {
			return nil, err
		}
		if err := svc.FirmwareStatus(ctx, l, string(req.Status)); err != nil {
			return nil, err
		}
		return (&v201.FirmwareStatusNotificationResponse{}).AppendOCPP(dst), nil

	case "LogStatusNotification":
		var req v201.LogStatusNotificationRequest
		if err := req.DecodeOCPP(payload, decodeOpts); err != nil {
			return nil, err
		}
		if err := svc.DiagnosticsStatus(ctx, l, string(req.Status)); err != nil {
			return nil, err
		}
		return (&v201.LogStatusNotificationResponse{}).AppendOCPP(dst), nil

	case "DataTransfer":
		var req v201.DataTransferRequest
		if err := req.DecodeOCPP(payload, decodeOpts); err != nil {
			return nil, err
		}
		status, reply, err := svc.DataTransfer(ctx, l, req.VendorID, req.MessageID, req.Data)
		if err != nil {
			return nil, err
		}
		resp := v201.DataTransferResponse{Status: v201.DataTransferStatus(status)}
		if len(reply) > 0 {
			resp.Data = reply
		}
		return resp.AppendOCPP(dst), nil

	case "SignCertificate":
		var req v201.SignCertificateRequest
		if err := req.DecodeOCPP(payload, decodeOpts); err != nil {
			return nil, err
		}
		// No certificate authority yet: security profile 3 is not offered.
		resp := v201.SignCertificateResponse{Status: v201.GenericStatusRejected}
		return resp.AppendOCPP(dst), nil
	}
	if out, ok, err := a.moreV201(ctx, action, payload, dst); ok {
		return out, err
	}
	if out, ok, err := acknowledgeV201(action, payload, dst); ok {
		return out, err
	}
	info, known := v201.Action(action)
	return nil, unsupported(action, known, info.FromStation)
}

// acknowledgeV201 answers the station's informational messages that Charge
// Star validates and keeps in the message log but does not act on (yet):
// charging-limit and EV charging-needs notifications, display messages,
// customer information, monitoring reports, charging-profile reports,
// reservation updates, certificate requests (no ISO 15118 PKI).
func acknowledgeV201(action string, payload, dst []byte) ([]byte, bool, error) {
	answer, ok := acknowledgedV201[action]
	if !ok {
		return nil, false, nil
	}
	info, _ := v201.Action(action)
	if err := info.NewRequest().DecodeOCPP(payload, decodeOpts); err != nil {
		return nil, true, err
	}
	return append(dst, answer...), true, nil
}

// meterValuesV201 converts the station's meter values.
func meterValuesV201(in []v201.MeterValue) []model.MeterValue {
	if len(in) == 0 {
		return nil
	}
	out := make([]model.MeterValue, len(in))
	for i, mv := range in {
		samples := make([]model.SampledValue, len(mv.SampledValue))
		for j, sv := range mv.SampledValue {
			unit, mult := "", (*int)(nil)
			if sv.UnitOfMeasure != nil {
				unit, mult = sv.UnitOfMeasure.Unit, sv.UnitOfMeasure.Multiplier
			}
			samples[j] = sample(sv.Value, string(sv.Context), string(sv.Measurand), string(sv.Phase), string(sv.Location), unit, mult)
		}
		out[i] = model.MeterValue{Timestamp: mv.Timestamp.Time, Samples: samples}
	}
	return out
}

// idTokenInfoV201 answers an id token. Unlike 1.6, 2.x allows ConcurrentTx
// in every answer, so the core's status passes as is.
func idTokenInfoV201(r csms.AuthResult, tokenType string) v201.IDTokenInfo {
	info := v201.IDTokenInfo{Status: v201.AuthorizationStatus(r.Status)}
	if r.ExpiresAt != nil && r.Status == csms.AuthAccepted {
		info.CacheExpiryDateTime = &ocpp.DateTime{Time: *r.ExpiresAt}
	}
	if r.ParentIDTag != "" {
		// The group token has no type of its own in Charge Star: it is
		// reported as the type of the token it groups.
		if tokenType == "" {
			tokenType = "Central"
		}
		info.GroupIDToken = &v201.IDToken{IDToken: r.ParentIDTag, Type: tokenTypeV201(tokenType)}
	}
	return info
}

func jsonTextV201(ed v201.EventData) string {
	b, _ := ed.MarshalJSON()
	return string(b)
}

// componentPathV201 names a device-model variable the way the console shows it:
// Component[instance]/EVSE/connector.Variable[instance].
func componentPathV201(c v201.Component, v v201.Variable) string {
	var b strings.Builder
	b.WriteString(c.Name)
	if c.Instance != "" {
		b.WriteString("[" + c.Instance + "]")
	}
	if c.EVSE != nil {
		b.WriteString("/evse" + strconv.Itoa(c.EVSE.ID))
		if c.EVSE.ConnectorID != nil {
			b.WriteString("/connector" + strconv.Itoa(*c.EVSE.ConnectorID))
		}
	}
	b.WriteString("." + v.Name)
	if v.Instance != "" {
		b.WriteString("[" + v.Instance + "]")
	}
	return b.String()
}

// variableV201 is the neutral key of a component's variable attribute.
func variableV201(c v201.Component, v v201.Variable, attr string) model.StationVariable {
	sv := model.StationVariable{Component: c.Name, ComponentInstance: c.Instance, Variable: v.Name,
		VariableInstance: v.Instance, AttributeType: attr}
	if sv.AttributeType == "" {
		sv.AttributeType = "Actual"
	}
	if c.EVSE != nil {
		sv.EVSEID = c.EVSE.ID
		if c.EVSE.ConnectorID != nil {
			sv.ConnectorID = *c.EVSE.ConnectorID
		}
	}
	return sv
}

// reportVariablesV201 flattens a NotifyReport into variable attributes.
func reportVariablesV201(data []v201.ReportData, at time.Time) []model.StationVariable {
	var out []model.StationVariable
	for _, rd := range data {
		for _, va := range rd.VariableAttribute {
			sv := variableV201(rd.Component, rd.Variable, string(va.Type))
			sv.Value = va.Value
			sv.Mutability = string(va.Mutability)
			if sv.Mutability == "" {
				sv.Mutability = "ReadWrite" // the schema's default
			}
			sv.Persistent = va.Persistent != nil && *va.Persistent
			sv.Constant = va.Constant != nil && *va.Constant
			if vc := rd.VariableCharacteristics; vc != nil {
				sv.DataType, sv.Unit, sv.ValuesList = string(vc.DataType), vc.Unit, vc.ValuesList
			}
			sv.UpdatedAt = at
			out = append(out, sv)
		}
	}
	return out
}

// answeredV201 keeps the device model in step with the commands a station
// accepted: values read (GetVariables) and written (SetVariables), and a
// new Basic-auth password (SecurityCtrlr.BasicAuthPassword).
func (a *Adapter) answeredV201(ctx context.Context, action string, request, response []byte) {
	switch action {
	case "GetVariables":
		var resp v201.GetVariablesResponse
		if resp.DecodeOCPP(response, decodeOpts) != nil {
			return
		}
		var vars []model.StationVariable
		for _, r := range resp.GetVariableResult {
			if r.AttributeStatus != "Accepted" {
				continue
			}
			sv := variableV201(r.Component, r.Variable, string(r.AttributeType))
			sv.Value, sv.Status = r.AttributeValue, string(r.AttributeStatus)
			vars = append(vars, sv)
		}
		a.storeVariables(ctx, vars)

	case "SetVariables":
		var req v201.SetVariablesRequest
		var resp v201.SetVariablesResponse
		if req.DecodeOCPP(request, decodeOpts) != nil || resp.DecodeOCPP(response, decodeOpts) != nil {
			return
		}
		var vars []model.StationVariable
		for _, r := range resp.SetVariableResult {
			if r.AttributeStatus != "Accepted" && r.AttributeStatus != "RebootRequired" {
				continue
			}
			for _, d := range req.SetVariableData {
				// An absent attribute type is Actual, on either side (B05.FR.12
				// has the station name it in its answer).
				if d.Component.Name != r.Component.Name || d.Component.Instance != r.Component.Instance ||
					d.Variable.Name != r.Variable.Name || d.Variable.Instance != r.Variable.Instance ||
					attributeType(string(d.AttributeType)) != attributeType(string(r.AttributeType)) {
					continue
				}
				if d.Component.Name == "SecurityCtrlr" && d.Variable.Name == "BasicAuthPassword" {
					a.svc.StationPasswordChanged(ctx, a.link.StationID, d.AttributeValue)
					break // the password itself is never stored in the device model
				}
				sv := variableV201(d.Component, d.Variable, string(d.AttributeType))
				sv.Value, sv.Status = d.AttributeValue, string(r.AttributeStatus)
				vars = append(vars, sv)
				break
			}
		}
		a.storeVariables(ctx, vars)
	}
}

// translateV201 implements csms.CommandTranslator: the neutral commands in
// this version's words.
func translateV201(c csms.NeutralCommand) (string, []byte, error) {
	var (
		action string
		msg    ocpp.Message
	)
	switch c.Name {
	case csms.CmdStart:
		if c.IDToken == "" {
			return "", nil, csms.BadCommandf("start needs an id_token")
		}
		// The token is ours (Central): it is not the station's to check.
		req := &v201.RequestStartTransactionRequest{IDToken: v201.IDToken{IDToken: c.IDToken, Type: tokenTypeV201("Central")},
			RemoteStartID: remoteStartID()}
		if c.ConnectorID > 0 {
			req.EVSEID = &c.ConnectorID
		}
		action, msg = "RequestStartTransaction", req
	case csms.CmdStop:
		if c.TransactionID == "" {
			return "", nil, csms.BadCommandf("stop needs the transaction's id")
		}
		action, msg = "RequestStopTransaction", &v201.RequestStopTransactionRequest{TransactionID: c.TransactionID}
	case csms.CmdReset:
		t := v201.Reset("OnIdle")
		if c.Hard {
			t = v201.Reset("Immediate")
		}
		action, msg = "Reset", &v201.ResetRequest{Type: t}
	case csms.CmdUnlock:
		if c.ConnectorID < 1 {
			return "", nil, csms.BadCommandf("unlock needs a connector_id (the EVSE id) of 1 or more")
		}
		action, msg = "UnlockConnector", &v201.UnlockConnectorRequest{EVSEID: c.ConnectorID, ConnectorID: 1}
	case csms.CmdAvailability:
		req := &v201.ChangeAvailabilityRequest{OperationalStatus: v201.OperationalStatus("Inoperative")}
		if c.Operative {
			req.OperationalStatus = v201.OperationalStatus("Operative")
		}
		if c.ConnectorID > 0 {
			req.EVSE = &v201.EVSE{ID: c.ConnectorID}
		}
		action, msg = "ChangeAvailability", req
	case csms.CmdTrigger:
		what := c.Message
		if what == csms.TriggerDiagnostics {
			what = "LogStatusNotification"
		}
		req := &v201.TriggerMessageRequest{RequestedMessage: v201.MessageTrigger(what)}
		if c.ConnectorID > 0 {
			req.EVSE = &v201.EVSE{ID: c.ConnectorID}
		}
		action, msg = "TriggerMessage", req
	case csms.CmdClearCache:
		action, msg = "ClearCache", &v201.ClearCacheRequest{}
	case csms.CmdGetConfiguration:
		if len(c.Keys) == 0 {
			return "", nil, csms.BadCommandf("get-configuration on OCPP 2.x needs keys as Component.Variable (the whole device model comes with the GetBaseReport command)")
		}
		req := &v201.GetVariablesRequest{}
		for _, k := range c.Keys {
			comp, variable, ok := splitKey(k)
			if !ok {
				return "", nil, csms.BadCommandf("key %q is not Component.Variable", k)
			}
			req.GetVariableData = append(req.GetVariableData, v201.GetVariableData{
				Component: v201.Component{Name: comp}, Variable: v201.Variable{Name: variable}})
		}
		action, msg = "GetVariables", req
	case csms.CmdSetConfiguration:
		comp, variable, ok := splitKey(c.Key)
		if !ok {
			return "", nil, csms.BadCommandf("key %q is not Component.Variable", c.Key)
		}
		action, msg = "SetVariables", &v201.SetVariablesRequest{SetVariableData: []v201.SetVariableData{{
			AttributeValue: c.Value, Component: v201.Component{Name: comp}, Variable: v201.Variable{Name: variable}}}}
	default:
		return "", nil, csms.ErrUnknownCommand
	}
	if err := msg.Validate(); err != nil {
		return action, nil, err
	}
	return action, msg.AppendOCPP(nil), nil
}

// costUpdateV201 says a running cost (CostUpdated).
func costUpdateV201(transactionID string, c csms.Cost) (string, []byte, error) {
	msg := &v201.CostUpdatedRequest{TotalCost: toMajor(c.Total, c.Currency), TransactionID: transactionID}
	if err := msg.Validate(); err != nil {
		return "CostUpdated", nil, err
	}
	return "CostUpdated", msg.AppendOCPP(nil), nil
}
