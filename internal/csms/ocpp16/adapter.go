// Package ocpp16 adapts OCPP 1.6-J to the version-neutral core: it decodes
// the station's CALLs with the generated v16 types, calls csms.Service and
// encodes the answers; and it vets remote commands against the 1.6 schemas.
package ocpp16

import (
	"context"
	"encoding/hex"
	"errors"
	"strconv"
	"time"

	"github.com/chargestar/chargestar/internal/csms"
	"github.com/chargestar/chargestar/internal/model"
	"github.com/chargestar/chargestar/internal/ocpp"
	"github.com/chargestar/chargestar/internal/ocpp/ocppj"
	"github.com/chargestar/chargestar/internal/ocpp/v16"
)

// Version is the subprotocol this adapter speaks.
const Version = "ocpp1.6"

// Adapter serves one 1.6-J station link.
type Adapter struct {
	svc  *csms.Service
	link *csms.Link
}

// New returns the adapter for a link.
func New(svc *csms.Service, l *csms.Link) *Adapter { return &Adapter{svc: svc, link: l} }

// Version implements csms.Protocol.
func (a *Adapter) Version() string { return Version }

// decodeOpts: unknown properties are skipped, not refused. Real stations
// add vendor fields, and refusing a StopTransaction over one would lose a
// billable session; every other schema rule is enforced.
var decodeOpts = ocpp.DecodeOptions{}

// CheckCommand implements csms.Protocol: the action must be one the CSMS
// sends, and the payload must satisfy its schema strictly.
func (a *Adapter) CheckCommand(action string, payload []byte) error {
	info, ok := v16.Action(action)
	if !ok || !info.ToStation {
		return csms.ErrUnknownCommand
	}
	return info.NewRequest().DecodeOCPP(payload, ocpp.DecodeOptions{DisallowUnknownFields: true})
}

// HandleCall implements ocppj.Handler.
func (a *Adapter) HandleCall(ctx context.Context, action string, payload []byte, dst []byte) ([]byte, error) {
	if action != "BootNotification" && !a.link.Accepted() {
		if _, known := v16.Action(action); known {
			return nil, csms.ErrNotAccepted
		}
	}
	out, err := a.handle(ctx, action, payload, dst)
	if err != nil {
		return nil, a.svc.AnswerError(a.link, action, err)
	}
	return out, nil
}

func (a *Adapter) handle(ctx context.Context, action string, payload []byte, dst []byte) ([]byte, error) {
	svc, l := a.svc, a.link
	switch action {
	case "BootNotification":
		var req v16.BootNotificationRequest
		if err := req.DecodeOCPP(payload, decodeOpts); err != nil {
			return nil, err
		}
		res, err := svc.Boot(ctx, l, csms.BootInfo{
			Vendor: req.ChargePointVendor, Model: req.ChargePointModel, SerialNumber: req.ChargePointSerialNumber,
			ChargeBoxSerial: req.ChargeBoxSerialNumber, FirmwareVersion: req.FirmwareVersion, ICCID: req.ICCID,
			IMSI: req.IMSI, MeterType: req.MeterType, MeterSerialNumber: req.MeterSerialNumber,
		})
		if err != nil {
			return nil, err
		}
		resp := v16.BootNotificationResponse{Status: v16.RegistrationStatus(res.Status), CurrentTime: ocpp.DateTime{Time: res.CurrentTime}, Interval: int(res.Interval / time.Second)}
		return resp.AppendOCPP(dst), nil

	case "Heartbeat":
		var req v16.HeartbeatRequest
		if err := req.DecodeOCPP(payload, decodeOpts); err != nil {
			return nil, err
		}
		resp := v16.HeartbeatResponse{CurrentTime: ocpp.DateTime{Time: svc.Heartbeat(ctx, l)}}
		return resp.AppendOCPP(dst), nil

	case "StatusNotification":
		var req v16.StatusNotificationRequest
		if err := req.DecodeOCPP(payload, decodeOpts); err != nil {
			return nil, err
		}
		if err := connectorID(req.ConnectorID, 0); err != nil {
			return nil, err
		}
		ev := model.StatusEvent{ConnectorID: req.ConnectorID, Status: string(req.Status), ErrorCode: string(req.ErrorCode),
			Info: req.Info, VendorID: req.VendorID, VendorErrorCode: req.VendorErrorCode}
		if req.Timestamp != nil {
			ev.Timestamp = req.Timestamp.Time
		}
		if err := svc.StatusNotification(ctx, l, ev); err != nil {
			return nil, err
		}
		return (&v16.StatusNotificationResponse{}).AppendOCPP(dst), nil

	case "Authorize":
		var req v16.AuthorizeRequest
		if err := req.DecodeOCPP(payload, decodeOpts); err != nil {
			return nil, err
		}
		res, err := svc.Authorize(ctx, l, req.IDTag)
		if err != nil {
			return nil, err
		}
		resp := v16.AuthorizeResponse{IDTagInfo: idTagInfo(res)}
		return resp.AppendOCPP(dst), nil

	case "StartTransaction":
		var req v16.StartTransactionRequest
		if err := req.DecodeOCPP(payload, decodeOpts); err != nil {
			return nil, err
		}
		if err := connectorID(req.ConnectorID, 1); err != nil {
			return nil, err
		}
		sess, res, err := svc.StartTransaction(ctx, l, csms.StartRequest{
			ConnectorID: req.ConnectorID, IDTag: req.IDTag, MeterStartWh: int64(req.MeterStart),
			Timestamp: req.Timestamp.Time, ReservationID: req.ReservationID,
		})
		if err != nil {
			return nil, err
		}
		txID, err := strconv.Atoi(sess.TransactionID)
		if err != nil {
			return nil, errors.New("ocpp16: session has a non-integer transaction id " + sess.TransactionID)
		}
		resp := v16.StartTransactionResponse{IDTagInfo: idTagInfo(res), TransactionID: txID}
		return resp.AppendOCPP(dst), nil

	case "MeterValues":
		var req v16.MeterValuesRequest
		if err := req.DecodeOCPP(payload, decodeOpts); err != nil {
			return nil, err
		}
		if err := connectorID(req.ConnectorID, 0); err != nil {
			return nil, err
		}
		txID := ""
		if req.TransactionID != nil {
			txID = strconv.Itoa(*req.TransactionID)
		}
		if err := svc.MeterValues(ctx, l, req.ConnectorID, txID, meterValues(req.MeterValue)); err != nil {
			return nil, err
		}
		return (&v16.MeterValuesResponse{}).AppendOCPP(dst), nil

	case "StopTransaction":
		var req v16.StopTransactionRequest
		if err := req.DecodeOCPP(payload, decodeOpts); err != nil {
			return nil, err
		}
		meterStop := int64(req.MeterStop)
		_, res, err := svc.StopTransaction(ctx, l, csms.StopRequest{
			TransactionID: strconv.Itoa(req.TransactionID), IDTag: req.IDTag, MeterStopWh: &meterStop,
			Timestamp: req.Timestamp.Time, Reason: string(req.Reason), TransactionData: meterValues(req.TransactionData),
		})
		// A stop for a transaction we never saw is still acknowledged:
		// a CALLERROR would make the station resend it forever.
		if err != nil && !errors.Is(err, csms.ErrUnknownTransaction) {
			return nil, err
		}
		var resp v16.StopTransactionResponse
		if res != nil {
			info := idTagInfo(*res)
			resp.IDTagInfo = &info
		}
		return resp.AppendOCPP(dst), nil

	case "DataTransfer":
		var req v16.DataTransferRequest
		if err := req.DecodeOCPP(payload, decodeOpts); err != nil {
			return nil, err
		}
		status, data, err := svc.DataTransfer(ctx, l, req.VendorID, req.MessageID, []byte(req.Data))
		if err != nil {
			return nil, err
		}
		resp := v16.DataTransferResponse{Status: v16.DataTransferStatus(status), Data: string(data)}
		return resp.AppendOCPP(dst), nil

	case "FirmwareStatusNotification":
		var req v16.FirmwareStatusNotificationRequest
		if err := req.DecodeOCPP(payload, decodeOpts); err != nil {
			return nil, err
		}
		if err := svc.FirmwareStatus(ctx, l, string(req.Status)); err != nil {
			return nil, err
		}
		return (&v16.FirmwareStatusNotificationResponse{}).AppendOCPP(dst), nil

	case "DiagnosticsStatusNotification":
		var req v16.DiagnosticsStatusNotificationRequest
		if err := req.DecodeOCPP(payload, decodeOpts); err != nil {
			return nil, err
		}
		if err := svc.DiagnosticsStatus(ctx, l, string(req.Status)); err != nil {
			return nil, err
		}
		return (&v16.DiagnosticsStatusNotificationResponse{}).AppendOCPP(dst), nil

	// The "Improved security for OCPP 1.6-J" messages.
	case "SecurityEventNotification":
		var req v16.SecurityEventNotificationRequest
		if err := req.DecodeOCPP(payload, decodeOpts); err != nil {
			return nil, err
		}
		if err := svc.SecurityEvent(ctx, l, req.Type, req.Timestamp.Time, req.TechInfo); err != nil {
			return nil, err
		}
		return (&v16.SecurityEventNotificationResponse{}).AppendOCPP(dst), nil

	case "LogStatusNotification":
		var req v16.LogStatusNotificationRequest
		if err := req.DecodeOCPP(payload, decodeOpts); err != nil {
			return nil, err
		}
		if err := svc.DiagnosticsStatus(ctx, l, string(req.Status)); err != nil {
			return nil, err
		}
		return (&v16.LogStatusNotificationResponse{}).AppendOCPP(dst), nil

	case "SignedFirmwareStatusNotification":
		var req v16.SignedFirmwareStatusNotificationRequest
		if err := req.DecodeOCPP(payload, decodeOpts); err != nil {
			return nil, err
		}
		if err := svc.FirmwareStatus(ctx, l, string(req.Status)); err != nil {
			return nil, err
		}
		return (&v16.SignedFirmwareStatusNotificationResponse{}).AppendOCPP(dst), nil

	case "SignCertificate":
		var req v16.SignCertificateRequest
		if err := req.DecodeOCPP(payload, decodeOpts); err != nil {
			return nil, err
		}
		// Charge Star runs no certificate authority yet: security profile 3
		// (client certificates) is not offered, so signing requests are refused.
		resp := v16.SignCertificateResponse{Status: v16.GenericStatusRejected}
		return resp.AppendOCPP(dst), nil
	}
	if info, ok := v16.Action(action); ok && !info.FromStation {
		return nil, ocppj.Errorf(ocppj.NotSupported, "%s is sent by the Central System, not by a Charge Point", action)
	}
	return nil, ocppj.Errorf(ocppj.NotImplemented, "unknown action %q", action)
}

// CommandAnswered implements csms.CommandObserver: a new AuthorizationKey
// the station accepted becomes its Basic-auth password here too.
func (a *Adapter) CommandAnswered(ctx context.Context, action string, request, response []byte) {
	if action != "ChangeConfiguration" {
		return
	}
	var req v16.ChangeConfigurationRequest
	var resp v16.ChangeConfigurationResponse
	if req.DecodeOCPP(request, decodeOpts) != nil || req.Key != "AuthorizationKey" ||
		resp.DecodeOCPP(response, decodeOpts) != nil || resp.Status != v16.ConfigurationStatusAccepted {
		return
	}
	// The security whitepaper has the key sent hex encoded. Stations differ
	// on whether they then authenticate with the decoded bytes or the hex
	// text itself, so both are accepted.
	passwords := []string{req.Value}
	if b, err := hex.DecodeString(req.Value); err == nil && len(b) > 0 {
		passwords = append(passwords, string(b))
	}
	a.svc.StationPasswordChanged(ctx, a.link.StationID, passwords...)
}

// connectorID checks what the 1.6 text says and its schema does not:
// connector ids are ≥ 0, and a transaction runs on a connector ≥ 1.
func connectorID(id, min int) error {
	if id < min {
		return &ocpp.ValidationError{Kind: ocpp.KindProperty, Path: "connectorId", Msg: "must be at least " + strconv.Itoa(min)}
	}
	return nil
}

func idTagInfo(r csms.AuthResult) v16.IDTagInfo {
	info := v16.IDTagInfo{Status: v16.AuthorizationStatus(r.Status), ParentIDTag: r.ParentIDTag}
	if r.ExpiresAt != nil {
		info.ExpiryDate = &ocpp.DateTime{Time: *r.ExpiresAt}
	}
	return info
}

func meterValues(in []v16.MeterValue) []model.MeterValue {
	if len(in) == 0 {
		return nil
	}
	out := make([]model.MeterValue, len(in))
	for i, mv := range in {
		samples := make([]model.SampledValue, len(mv.SampledValue))
		for j, sv := range mv.SampledValue {
			samples[j] = model.SampledValue{Value: sv.Value, Context: string(sv.Context), Format: string(sv.Format),
				Measurand: string(sv.Measurand), Phase: string(sv.Phase), Location: string(sv.Location), Unit: string(sv.Unit)}
		}
		out[i] = model.MeterValue{Timestamp: mv.Timestamp.Time, Samples: samples}
	}
	return out
}
