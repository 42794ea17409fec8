package sim

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chargestar/chargestar/internal/ocpp"
	"github.com/chargestar/chargestar/internal/ocpp/ocppj"
	"github.com/chargestar/chargestar/internal/ocpp/v16"
)

// ocpp16 is the OCPP 1.6-J side of a station (core profiles plus the
// security whitepaper's messages). It is stateless: the station holds the
// state, in Station.v16 for what only 1.6 has.
type ocpp16 struct{}

func (ocpp16) subprotocol() string     { return "ocpp1.6" }
func (ocpp16) dialect() *ocppj.Dialect { return ocppj.Dialect16 }

// vendorID is the station's DataTransfer vendor id.
const vendorID = "ChargeStar"

var payloadPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// send validates and sends req and decodes the answer into resp.
func send16(ctx context.Context, s *Station, action string, req, resp ocpp.Message, intended time.Time) error {
	if err := req.Validate(); err != nil {
		s.stats.Error("invalid_request")
		s.log.Error("simulator built an invalid request", "action", action, "err", err)
		return err
	}
	bp := payloadPool.Get().(*[]byte)
	payload := req.AppendOCPP((*bp)[:0])
	raw, err := s.call(ctx, action, payload, intended)
	*bp = payload[:0]
	payloadPool.Put(bp)
	if err != nil {
		return err
	}
	if err := resp.DecodeOCPP(raw, ocpp.DecodeOptions{}); err != nil {
		s.stats.Error("invalid_response")
		s.log.Warn("CSMS answered with an invalid payload", "action", action, "err", err)
		return err
	}
	return nil
}

func (ocpp16) boot(ctx context.Context, s *Station) (bootResult, error) {
	s.mu.Lock()
	req := v16.BootNotificationRequest{
		ChargePointVendor: trunc(s.cfg.Vendor, 20), ChargePointModel: trunc(s.cfg.Model, 20),
		ChargePointSerialNumber: trunc(s.id, 25), ChargeBoxSerialNumber: trunc(s.id, 25),
		FirmwareVersion: trunc(s.firmware, 50), MeterType: "SimMeter", MeterSerialNumber: trunc("M-"+s.id, 25),
	}
	s.mu.Unlock()
	var resp v16.BootNotificationResponse
	if err := send16(ctx, s, "BootNotification", &req, &resp, time.Time{}); err != nil {
		return bootResult{}, err
	}
	r := bootResult{interval: secondsDur(resp.Interval)}
	switch resp.Status {
	case v16.RegistrationStatusAccepted:
		r.status = regAccepted
	case v16.RegistrationStatusPending:
		r.status = regPending
	default:
		r.status = regRejected
	}
	return r, nil
}

func (ocpp16) heartbeat(ctx context.Context, s *Station) error {
	var resp v16.HeartbeatResponse
	return send16(ctx, s, "Heartbeat", &v16.HeartbeatRequest{}, &resp, time.Time{})
}

func (ocpp16) status(ctx context.Context, s *Station, connector int, status, prev, errorCode string) error {
	if errorCode == "" {
		errorCode = string(v16.ChargePointErrorCodeNoError)
	}
	ts := ocpp.NewDateTime(s.cfg.Now())
	req := v16.StatusNotificationRequest{ConnectorID: connector, ErrorCode: v16.ChargePointErrorCode(errorCode),
		Status: v16.ChargePointStatus(status), Timestamp: &ts}
	var resp v16.StatusNotificationResponse
	return send16(ctx, s, "StatusNotification", &req, &resp, time.Time{})
}

func (ocpp16) authorize(ctx context.Context, s *Station, idTag string) (string, error) {
	var resp v16.AuthorizeResponse
	if err := send16(ctx, s, "Authorize", &v16.AuthorizeRequest{IDTag: idTag}, &resp, time.Time{}); err != nil {
		return "", err
	}
	return string(resp.IDTagInfo.Status), nil
}

func (ocpp16) localAccepted(s *Station, idTag string) bool { return s.v16.localAccepted(idTag) }

func (ocpp16) reservationExpired(context.Context, *Station, int) error { return nil }

func (p ocpp16) txMessage(ctx context.Context, s *Station, m *txMessage) error {
	tx := m.tx
	switch m.kind {
	case txStart:
		req := v16.StartTransactionRequest{ConnectorID: tx.connector, IDTag: tx.idTag, MeterStart: int(tx.meterStart),
			ReservationID: tx.reservID, Timestamp: ocpp.NewDateTime(tx.started)}
		var resp v16.StartTransactionResponse
		if err := send16(ctx, s, "StartTransaction", &req, &resp, time.Time{}); err != nil {
			return err
		}
		s.mu.Lock()
		tx.id = resp.TransactionID
		s.mu.Unlock()
		m.authStatus = string(resp.IDTagInfo.Status)
		return nil
	case txMeter:
		return p.meterValues(ctx, s, tx.connector, tx, &m.smp, time.Time{})
	case txStop:
		s.mu.Lock()
		ms := s.stopTxnMeasurandsLocked()
		var data []v16.MeterValue
		if len(ms) > 0 {
			data = []v16.MeterValue{meterValue16(&tx.begin, ms), meterValue16(&m.smp, ms)}
		}
		s.mu.Unlock()
		req := v16.StopTransactionRequest{IDTag: m.idTag, MeterStop: int(m.smp.energyWh), Timestamp: ocpp.NewDateTime(m.smp.at),
			TransactionID: tx.id, Reason: v16.Reason(m.reason), TransactionData: data}
		var resp v16.StopTransactionResponse
		return send16(ctx, s, "StopTransaction", &req, &resp, time.Time{})
	}
	return nil
}

func (ocpp16) meterValues(ctx context.Context, s *Station, connector int, tx *transaction, smp *sample, intended time.Time) error {
	s.mu.Lock()
	ms := s.sampledMeasurandsLocked()
	req := v16.MeterValuesRequest{ConnectorID: connector, MeterValue: []v16.MeterValue{meterValue16(smp, ms)}}
	if tx != nil {
		id := tx.id
		req.TransactionID = &id
	}
	s.mu.Unlock()
	var resp v16.MeterValuesResponse
	return send16(ctx, s, "MeterValues", &req, &resp, intended)
}

func (ocpp16) securityEvent(ctx context.Context, s *Station, kind, info string) error {
	req := v16.SecurityEventNotificationRequest{Type: kind, Timestamp: ocpp.NewDateTime(s.cfg.Now()), TechInfo: trunc(info, 255)}
	var resp v16.SecurityEventNotificationResponse
	return send16(ctx, s, "SecurityEventNotification", &req, &resp, time.Time{})
}

// meterValue16 encodes a reading with the given measurands.
func meterValue16(smp *sample, ms []v16.Measurand) v16.MeterValue {
	ctx := v16.ReadingContext(smp.context)
	svs := make([]v16.SampledValue, 0, measurandCount(smp, ms))
	eachReading(smp, ms, func(r reading) {
		svs = append(svs, v16.SampledValue{Value: strconv.FormatFloat(r.value, 'f', r.prec, 64), Context: ctx, Measurand: r.measurand,
			Unit: r.unit, Phase: r.phase, Location: r.location})
	})
	return v16.MeterValue{Timestamp: ocpp.NewDateTime(smp.at), SampledValue: svs}
}

func trunc(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// ---- the CSMS's calls ----

// decodeReq decodes a request, turning schema violations into the 1.6 RPC error.
func decodeReq(m ocpp.Message, payload []byte) error {
	err := m.DecodeOCPP(payload, ocpp.DecodeOptions{})
	if err == nil {
		return nil
	}
	var ve *ocpp.ValidationError
	if errors.As(err, &ve) {
		code := ocppj.FormationViolation
		switch ve.Kind {
		case ocpp.KindType:
			code = ocppj.TypeConstraintViolation
		case ocpp.KindOccurrence:
			code = ocppj.OccurrenceConstraintViolation
		case ocpp.KindProperty:
			code = ocppj.PropertyConstraintViolation
		}
		return &ocppj.CallError{Code: code, Description: ve.Error()}
	}
	return &ocppj.CallError{Code: ocppj.FormationViolation, Description: err.Error()}
}

// answer validates a response and appends it to dst.
func answer(s *Station, action string, resp ocpp.Message, dst []byte) ([]byte, error) {
	if err := resp.Validate(); err != nil {
		s.stats.Error("invalid_answer")
		s.log.Error("simulator built an invalid answer", "action", action, "err", err)
		return nil, &ocppj.CallError{Code: ocppj.InternalError, Description: "the simulator built an invalid answer"}
	}
	return resp.AppendOCPP(dst), nil
}

func (p ocpp16) handle(ctx context.Context, l *link, action string, payload, dst []byte) ([]byte, error) {
	s := l.s
	info, known := v16.Action(action)
	if !known {
		return nil, ocppj.Errorf(ocppj.NotImplemented, "unknown action %q", action)
	}
	if !info.ToStation {
		return nil, ocppj.Errorf(ocppj.NotSupported, "%s is sent by a Charge Point, not by a Central System", action)
	}
	req := info.NewRequest()
	if err := decodeReq(req, payload); err != nil {
		return nil, err
	}
	if r, ok := s.takeRule(action, false); ok {
		resp := info.NewResponse()
		if err := resp.DecodeOCPP([]byte(r.Response), ocpp.DecodeOptions{DisallowUnknownFields: true}); err != nil {
			s.log.Error("scripted answer does not fit the schema", "action", action, "err", err)
			return nil, &ocppj.CallError{Code: ocppj.InternalError, Description: "scripted answer is invalid: " + err.Error()}
		}
		return answer(s, action, resp, dst)
	}
	resp := p.command(ctx, l, req)
	if resp == nil {
		return nil, ocppj.Errorf(ocppj.NotSupported, "%s is not supported", action)
	}
	return answer(s, action, resp, dst)
}

// command carries out one CSMS request and returns the answer.
func (p ocpp16) command(ctx context.Context, l *link, req ocpp.Message) ocpp.Message {
	s := l.s
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.conns) - 1
	validConnector := func(id int) bool { return id >= 1 && id <= n }

	switch r := req.(type) {
	case *v16.ResetRequest:
		reason, event := "SoftReset", "ResetOrReboot"
		if r.Type == v16.ResetTypeHard {
			reason = "HardReset"
		}
		l.after(func(ctx context.Context) { s.reboot(ctx, reason, reason == "SoftReset", event) })
		return &v16.ResetResponse{Status: v16.ResetStatusAccepted}

	case *v16.RemoteStartTransactionRequest:
		var prof *chargingProfile
		if r.ChargingProfile != nil {
			if r.ChargingProfile.ChargingProfilePurpose != v16.ChargingProfilePurposeTypeTxProfile {
				return &v16.RemoteStartTransactionResponse{Status: v16.RemoteStartStopStatusRejected}
			}
			prof = profileFrom16(r.ChargingProfile, 0, s.cfg.Now())
		}
		var c *connector
		free := func(c *connector) bool {
			return c.tx == nil && c.phase == phaseIdle && !c.remote && (c.status == statusAvailable ||
				c.status == statusReserved && c.reservation != nil && c.reservation.idTag == r.IDTag)
		}
		if r.ConnectorID != nil {
			if validConnector(*r.ConnectorID) && free(s.conns[*r.ConnectorID]) {
				c = s.conns[*r.ConnectorID]
			}
		} else {
			for _, k := range s.conns[1:] {
				if free(k) {
					c = k
					break
				}
			}
		}
		if c == nil {
			return &v16.RemoteStartTransactionResponse{Status: v16.RemoteStartStopStatusRejected}
		}
		c.remote = true
		tag := r.IDTag
		l.after(func(ctx context.Context) {
			if prof != nil {
				prof.connector = c.id
			}
			if s.beginSession(ctx, c, tag, true, prof) && prof != nil {
				s.mu.Lock()
				if c.tx != nil {
					prof.tx = c.tx
					s.setProfileLocked(prof)
				}
				s.mu.Unlock()
			}
		})
		return &v16.RemoteStartTransactionResponse{Status: v16.RemoteStartStopStatusAccepted}

	case *v16.RemoteStopTransactionRequest:
		for _, c := range s.conns[1:] {
			if c.tx != nil && c.tx.id == r.TransactionID && c.tx.id != 0 {
				l.after(func(ctx context.Context) { s.stopTx(ctx, c, "Remote", "", true) })
				return &v16.RemoteStopTransactionResponse{Status: v16.RemoteStartStopStatusAccepted}
			}
		}
		return &v16.RemoteStopTransactionResponse{Status: v16.RemoteStartStopStatusRejected}

	case *v16.UnlockConnectorRequest:
		if !validConnector(r.ConnectorID) {
			return &v16.UnlockConnectorResponse{Status: v16.UnlockStatusNotSupported}
		}
		c := s.conns[r.ConnectorID]
		if c.tx != nil {
			l.after(func(ctx context.Context) { s.stopTx(ctx, c, "UnlockCommand", "", true) })
		}
		return &v16.UnlockConnectorResponse{Status: v16.UnlockStatusUnlocked}

	case *v16.ChangeAvailabilityRequest:
		if r.ConnectorID < 0 || r.ConnectorID > n {
			return &v16.ChangeAvailabilityResponse{Status: v16.AvailabilityStatusRejected}
		}
		if s.changeAvailabilityLocked(l, r.ConnectorID, r.Type == v16.AvailabilityTypeInoperative) {
			return &v16.ChangeAvailabilityResponse{Status: v16.AvailabilityStatusScheduled}
		}
		return &v16.ChangeAvailabilityResponse{Status: v16.AvailabilityStatusAccepted}

	case *v16.GetConfigurationRequest:
		var resp v16.GetConfigurationResponse
		if len(r.Key) == 0 {
			for i := range keyDefs {
				if k := &keyDefs[i]; !k.writeOnly {
					resp.ConfigurationKey = append(resp.ConfigurationKey, v16.KeyValue{Key: k.name, Readonly: k.readonly, Value: s.keyValueLocked(k)})
				}
			}
			return &resp
		}
		for _, name := range r.Key {
			k, ok := lookupKey(name)
			if !ok || k.writeOnly {
				resp.UnknownKey = append(resp.UnknownKey, name)
				continue
			}
			resp.ConfigurationKey = append(resp.ConfigurationKey, v16.KeyValue{Key: k.name, Readonly: k.readonly, Value: s.keyValueLocked(k)})
		}
		return &resp

	case *v16.ChangeConfigurationRequest:
		return &v16.ChangeConfigurationResponse{Status: s.changeKeyLocked(r.Key, r.Value)}

	case *v16.ClearCacheRequest:
		return &v16.ClearCacheResponse{Status: v16.ClearCacheStatusAccepted}

	case *v16.DataTransferRequest:
		if r.VendorID != vendorID {
			return &v16.DataTransferResponse{Status: v16.DataTransferStatusUnknownVendorId}
		}
		switch r.MessageID {
		case "", "Echo":
			return &v16.DataTransferResponse{Status: v16.DataTransferStatusAccepted, Data: r.Data}
		}
		return &v16.DataTransferResponse{Status: v16.DataTransferStatusUnknownMessageId}

	case *v16.GetLocalListVersionRequest:
		if !s.v16.boolKey(keyLocalAuthListEnabled) {
			return &v16.GetLocalListVersionResponse{ListVersion: -1}
		}
		return &v16.GetLocalListVersionResponse{ListVersion: s.v16.localVersion}

	case *v16.SendLocalListRequest:
		return &v16.SendLocalListResponse{Status: s.sendLocalListLocked(r)}

	case *v16.ReserveNowRequest:
		return &v16.ReserveNowResponse{Status: p.reserveLocked(l, r)}

	case *v16.CancelReservationRequest:
		if s.cancelReservationLocked(l, r.ReservationID) {
			return &v16.CancelReservationResponse{Status: v16.CancelReservationStatusAccepted}
		}
		return &v16.CancelReservationResponse{Status: v16.CancelReservationStatusRejected}

	case *v16.TriggerMessageRequest:
		return &v16.TriggerMessageResponse{Status: p.triggerLocked(l, string(r.RequestedMessage), r.ConnectorID, false)}

	case *v16.ExtendedTriggerMessageRequest:
		return &v16.ExtendedTriggerMessageResponse{Status: p.triggerLocked(l, string(r.RequestedMessage), r.ConnectorID, true)}

	case *v16.SetChargingProfileRequest:
		return &v16.SetChargingProfileResponse{Status: p.setProfileLocked(l, r)}

	case *v16.ClearChargingProfileRequest:
		before := len(s.profiles)
		s.profiles = slices.DeleteFunc(s.profiles, func(q *chargingProfile) bool {
			if r.ID != nil {
				return q.id == *r.ID
			}
			return (r.ConnectorID == nil || q.connector == *r.ConnectorID) &&
				(r.ChargingProfilePurpose == "" || q.purpose == string(r.ChargingProfilePurpose)) &&
				(r.StackLevel == nil || q.stackLevel == *r.StackLevel)
		})
		if len(s.profiles) == before {
			return &v16.ClearChargingProfileResponse{Status: v16.ClearChargingProfileStatusUnknown}
		}
		l.after(s.repower)
		return &v16.ClearChargingProfileResponse{Status: v16.ClearChargingProfileStatusAccepted}

	case *v16.GetCompositeScheduleRequest:
		if r.ConnectorID < 0 || r.ConnectorID > n || r.Duration <= 0 {
			return &v16.GetCompositeScheduleResponse{Status: v16.GetCompositeScheduleStatusRejected}
		}
		unit := v16.ChargingRateUnitTypeW
		if r.ChargingRateUnit == v16.ChargingRateUnitTypeA {
			unit = v16.ChargingRateUnitTypeA
		}
		start, periods := s.compositeLocked(r.ConnectorID, r.Duration, string(unit))
		sched := v16.ChargingSchedule{Duration: &r.Duration, ChargingRateUnit: unit}
		for _, per := range periods {
			sched.ChargingSchedulePeriod = append(sched.ChargingSchedulePeriod, v16.ChargingSchedulePeriod{StartPeriod: per.start, Limit: per.limit})
		}
		st := ocpp.NewDateTime(start)
		sched.StartSchedule = &st
		id := r.ConnectorID
		return &v16.GetCompositeScheduleResponse{Status: v16.GetCompositeScheduleStatusAccepted, ConnectorID: &id, ScheduleStart: &st, ChargingSchedule: &sched}

	case *v16.UpdateFirmwareRequest:
		p.firmwareJobLocked(l, r.RetrieveDate.Time, r.Location, nil)
		return &v16.UpdateFirmwareResponse{}

	case *v16.SignedUpdateFirmwareRequest:
		if _, err := parseCerts(r.Firmware.SigningCertificate); err != nil {
			return &v16.SignedUpdateFirmwareResponse{Status: v16.UpdateFirmwareStatusInvalidCertificate}
		}
		id := r.RequestID
		status := v16.UpdateFirmwareStatusAccepted
		if s.v16.fwJob {
			status = v16.UpdateFirmwareStatusAcceptedCanceled // the new request replaces the running one
		}
		p.firmwareJobLocked(l, r.Firmware.RetrieveDateTime.Time, r.Firmware.Location, &id)
		return &v16.SignedUpdateFirmwareResponse{Status: status}

	case *v16.GetDiagnosticsRequest:
		name := fmt.Sprintf("diagnostics-%s-%s.log", s.id, s.cfg.Now().UTC().Format("20060102T150405Z"))
		p.uploadJobLocked(l, nil)
		return &v16.GetDiagnosticsResponse{FileName: trunc(name, 255)}

	case *v16.GetLogRequest:
		name := fmt.Sprintf("%s-%s-%d.log", strings.ToLower(string(r.LogType)), s.id, r.RequestID)
		status := v16.LogStatusAccepted
		if s.v16.logJob {
			status = v16.LogStatusAcceptedCanceled
		}
		id := r.RequestID
		p.uploadJobLocked(l, &id)
		return &v16.GetLogResponse{Status: status, Filename: trunc(name, 255)}

	case *v16.InstallCertificateRequest:
		certs, err := parseCerts(r.Certificate)
		if err != nil || len(certs) != 1 {
			return &v16.InstallCertificateResponse{Status: v16.InstallCertificateStatusRejected}
		}
		if len(s.v16.certs) >= s.v16.intKey(keyCertificateStoreMaxLength, 10) {
			return &v16.InstallCertificateResponse{Status: v16.InstallCertificateStatusFailed}
		}
		h := hashOf(certs[0])
		s.v16.certs = slices.DeleteFunc(s.v16.certs, func(c installedCert) bool { return c.hash == h })
		s.v16.certs = append(s.v16.certs, installedCert{use: string(r.CertificateType), hash: h})
		return &v16.InstallCertificateResponse{Status: v16.InstallCertificateStatusAccepted}

	case *v16.DeleteCertificateRequest:
		h := certHash{issuerNameHash: strings.ToLower(r.CertificateHashData.IssuerNameHash),
			issuerKeyHash: strings.ToLower(r.CertificateHashData.IssuerKeyHash), serialNumber: strings.ToLower(strings.TrimLeft(r.CertificateHashData.SerialNumber, "0"))}
		before := len(s.v16.certs)
		s.v16.certs = slices.DeleteFunc(s.v16.certs, func(c installedCert) bool {
			return c.hash.issuerNameHash == h.issuerNameHash && c.hash.issuerKeyHash == h.issuerKeyHash && strings.TrimLeft(c.hash.serialNumber, "0") == h.serialNumber
		})
		if len(s.v16.certs) == before {
			return &v16.DeleteCertificateResponse{Status: v16.DeleteCertificateStatusNotFound}
		}
		return &v16.DeleteCertificateResponse{Status: v16.DeleteCertificateStatusAccepted}

	case *v16.GetInstalledCertificateIdsRequest:
		var resp v16.GetInstalledCertificateIdsResponse
		for _, c := range s.v16.certs {
			if c.use == string(r.CertificateType) {
				resp.CertificateHashData = append(resp.CertificateHashData, v16.CertificateHashData{HashAlgorithm: v16.HashAlgorithmSHA256,
					IssuerNameHash: c.hash.issuerNameHash, IssuerKeyHash: c.hash.issuerKeyHash, SerialNumber: c.hash.serialNumber})
			}
		}
		resp.Status = v16.GetInstalledCertificateStatusAccepted
		if len(resp.CertificateHashData) == 0 {
			resp.Status = v16.GetInstalledCertificateStatusNotFound
		}
		return &resp

	case *v16.CertificateSignedRequest:
		certs, err := parseCerts(r.CertificateChain)
		if err != nil || len(r.CertificateChain) > s.v16.intKey("CertificateSignedMaxChainSize", 10000) {
			return &v16.CertificateSignedResponse{Status: v16.CertificateSignedStatusRejected}
		}
		s.v16.stationCert = certs[0].Subject.CommonName
		return &v16.CertificateSignedResponse{Status: v16.CertificateSignedStatusAccepted}
	}
	return nil
}

// repower re-reads the limits after a profile change.
func (s *Station) repower(ctx context.Context) {
	now := time.Now()
	var changes []*connector
	var statuses []string
	s.mu.Lock()
	for _, c := range s.conns[1:] {
		if c.tx != nil {
			if st := s.updateMeterLocked(c, now); st != "" {
				changes = append(changes, c)
				statuses = append(statuses, st)
			}
		}
	}
	s.mu.Unlock()
	for i, c := range changes {
		s.setStatus(ctx, c, statuses[i])
	}
}

func (s *Station) sendLocalListLocked(r *v16.SendLocalListRequest) v16.UpdateStatus {
	if !s.v16.boolKey(keyLocalAuthListEnabled) {
		return v16.UpdateStatusNotSupported
	}
	if len(r.LocalAuthorizationList) > s.v16.intKey(keySendLocalListMaxLength, 100) {
		return v16.UpdateStatusFailed
	}
	max := s.v16.intKey(keyLocalAuthListMaxLength, 1000)
	switch r.UpdateType {
	case v16.UpdateTypeFull:
		list := make(map[string]v16.IDTagInfo, len(r.LocalAuthorizationList))
		for _, e := range r.LocalAuthorizationList {
			if e.IDTagInfo != nil {
				list[strings.ToLower(e.IDTag)] = *e.IDTagInfo
			}
		}
		if len(list) > max {
			return v16.UpdateStatusFailed
		}
		s.v16.local = list
	default:
		if r.ListVersion <= s.v16.localVersion {
			return v16.UpdateStatusVersionMismatch
		}
		list := maps16Clone(s.v16.local)
		for _, e := range r.LocalAuthorizationList {
			if e.IDTagInfo != nil {
				list[strings.ToLower(e.IDTag)] = *e.IDTagInfo
			} else {
				delete(list, strings.ToLower(e.IDTag))
			}
		}
		if len(list) > max {
			return v16.UpdateStatusFailed
		}
		s.v16.local = list
	}
	s.v16.localVersion = r.ListVersion
	return v16.UpdateStatusAccepted
}

func maps16Clone(m map[string]v16.IDTagInfo) map[string]v16.IDTagInfo {
	out := make(map[string]v16.IDTagInfo, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func (p ocpp16) reserveLocked(l *link, r *v16.ReserveNowRequest) v16.ReservationStatus {
	s := l.s
	if r.ConnectorID == 0 {
		if !s.v16.boolKey(keyReserveConnectorZeroSupported) {
			return v16.ReservationStatusRejected
		}
	}
	if r.ConnectorID < 0 || r.ConnectorID >= len(s.conns) || r.ConnectorID == 0 {
		return v16.ReservationStatusRejected
	}
	return v16.ReservationStatus(s.reserveLocked(l, r.ConnectorID, r.ReservationID, r.IDTag, r.ParentIDTag, r.ExpiryDate.Time))
}

// triggerLocked answers TriggerMessage / ExtendedTriggerMessage and sends
// the requested message once the answer is out.
func (p ocpp16) triggerLocked(l *link, what string, connector *int, extended bool) v16.TriggerMessageStatus {
	s := l.s
	if connector != nil && (*connector < 0 || *connector >= len(s.conns)) {
		return v16.TriggerMessageStatusRejected
	}
	var ids []int
	if connector != nil {
		ids = []int{*connector}
	}
	switch what {
	case "BootNotification":
		l.after(func(ctx context.Context) {
			if res, err := p.boot(ctx, s); err == nil && res.status == regAccepted && res.interval > 0 {
				s.mu.Lock()
				s.setHeartbeatIntervalLocked(res.interval)
				s.mu.Unlock()
			}
		})
	case "Heartbeat":
		l.after(func(ctx context.Context) { p.heartbeat(ctx, s) })
	case "StatusNotification":
		if ids == nil {
			for i := range s.conns {
				ids = append(ids, i)
			}
		}
		l.after(func(ctx context.Context) {
			for _, id := range ids {
				s.sendStatus(ctx, id)
			}
		})
	case "MeterValues":
		if ids == nil || ids[0] == 0 {
			ids = nil
			for i := 1; i < len(s.conns); i++ {
				ids = append(ids, i)
			}
		}
		l.after(func(ctx context.Context) {
			for _, id := range ids {
				s.mu.Lock()
				c := s.conns[id]
				s.updateMeterLocked(c, time.Now())
				smp := s.sampleLocked(c, "Trigger")
				tx := c.tx
				if tx != nil && tx.id == 0 {
					tx = nil
				}
				s.mu.Unlock()
				p.meterValues(ctx, s, id, tx, &smp, time.Time{})
			}
		})
	case "FirmwareStatusNotification":
		l.after(func(ctx context.Context) {
			s.mu.Lock()
			st, signed, rid := s.v16.fwStatus, s.v16.fwSigned, s.v16.fwRequestID
			s.mu.Unlock()
			if st == "" {
				st = "Idle"
			}
			if signed && extended {
				p.signedFirmwareStatus(ctx, s, st, rid)
			} else {
				p.firmwareStatus(ctx, s, st)
			}
		})
	case "DiagnosticsStatusNotification":
		l.after(func(ctx context.Context) {
			s.mu.Lock()
			st := s.v16.diagStatus
			s.mu.Unlock()
			if st == "" {
				st = "Idle"
			}
			var resp v16.DiagnosticsStatusNotificationResponse
			send16(ctx, s, "DiagnosticsStatusNotification", &v16.DiagnosticsStatusNotificationRequest{Status: v16.DiagnosticsStatus(st)}, &resp, time.Time{})
		})
	case "LogStatusNotification":
		l.after(func(ctx context.Context) {
			s.mu.Lock()
			st, rid := s.v16.logStatus, s.v16.logRequestID
			s.mu.Unlock()
			if st == "" {
				st = "Idle"
			}
			p.logStatus(ctx, s, st, rid)
		})
	case "SignChargePointCertificate":
		l.after(func(ctx context.Context) {
			s.mu.Lock()
			org := s.v16.keys["CpoName"]
			s.mu.Unlock()
			csr, err := newCSR(s.id, org)
			if err != nil {
				s.log.Error("making a CSR failed", "err", err)
				return
			}
			var resp v16.SignCertificateResponse
			send16(ctx, s, "SignCertificate", &v16.SignCertificateRequest{CSR: csr}, &resp, time.Time{})
		})
	default:
		return v16.TriggerMessageStatusNotImplemented
	}
	return v16.TriggerMessageStatusAccepted
}

func (p ocpp16) setProfileLocked(l *link, r *v16.SetChargingProfileRequest) v16.ChargingProfileStatus {
	s := l.s
	cp := &r.CsChargingProfiles
	id := r.ConnectorID
	if id < 0 || id >= len(s.conns) ||
		cp.StackLevel < 0 || cp.StackLevel > s.v16.intKey(keyChargeProfileMaxStackLevel, 10) ||
		len(cp.ChargingSchedule.ChargingSchedulePeriod) == 0 ||
		len(cp.ChargingSchedule.ChargingSchedulePeriod) > s.v16.intKey(keyChargingScheduleMaxPeriods, 24) ||
		cp.ChargingProfileKind == v16.ChargingProfileKindTypeRecurring && cp.RecurrencyKind == "" {
		return v16.ChargingProfileStatusRejected
	}
	prof := profileFrom16(cp, id, s.cfg.Now())
	switch cp.ChargingProfilePurpose {
	case v16.ChargingProfilePurposeTypeChargePointMaxProfile:
		if id != 0 {
			return v16.ChargingProfileStatusRejected
		}
	case v16.ChargingProfilePurposeTypeTxProfile:
		if id == 0 {
			return v16.ChargingProfileStatusRejected
		}
		tx := s.conns[id].tx
		if tx == nil || cp.TransactionID != nil && *cp.TransactionID != tx.id {
			return v16.ChargingProfileStatusRejected
		}
		prof.tx = tx
	}
	replaces := slices.ContainsFunc(s.profiles, func(q *chargingProfile) bool {
		return q.id == prof.id || q.connector == prof.connector && q.purpose == prof.purpose && q.stackLevel == prof.stackLevel
	})
	if !replaces && len(s.profiles) >= s.v16.intKey(keyMaxChargingProfilesInstalled, 20) {
		return v16.ChargingProfileStatusRejected
	}
	s.setProfileLocked(prof)
	l.after(s.repower)
	return v16.ChargingProfileStatusAccepted
}

// profileFrom16 converts a 1.6 charging profile.
func profileFrom16(cp *v16.ChargingProfile, connector int, now time.Time) *chargingProfile {
	p := &chargingProfile{id: cp.ChargingProfileID, connector: connector, txID: cp.TransactionID, stackLevel: cp.StackLevel,
		purpose: string(cp.ChargingProfilePurpose), kind: string(cp.ChargingProfileKind), recurrency: string(cp.RecurrencyKind),
		duration: cp.ChargingSchedule.Duration, unit: string(cp.ChargingSchedule.ChargingRateUnit),
		minRate: cp.ChargingSchedule.MinChargingRate, installed: now}
	if cp.ValidFrom != nil {
		t := cp.ValidFrom.Time
		p.validFrom = &t
	}
	if cp.ValidTo != nil {
		t := cp.ValidTo.Time
		p.validTo = &t
	}
	if cp.ChargingSchedule.StartSchedule != nil {
		t := cp.ChargingSchedule.StartSchedule.Time
		p.start = &t
	}
	for _, per := range cp.ChargingSchedule.ChargingSchedulePeriod {
		p.periods = append(p.periods, schedulePeriod{start: per.StartPeriod, limit: per.Limit, phases: per.NumberPhases})
	}
	slices.SortFunc(p.periods, func(a, b schedulePeriod) int { return a.start - b.start })
	return p
}

// ---- firmware and log jobs ----

func (ocpp16) firmwareStatus(ctx context.Context, s *Station, st string) {
	s.mu.Lock()
	s.v16.fwStatus = st
	s.mu.Unlock()
	var resp v16.FirmwareStatusNotificationResponse
	send16(ctx, s, "FirmwareStatusNotification", &v16.FirmwareStatusNotificationRequest{Status: v16.FirmwareStatus(st)}, &resp, time.Time{})
}

func (ocpp16) signedFirmwareStatus(ctx context.Context, s *Station, st string, requestID int) {
	s.mu.Lock()
	s.v16.fwStatus = st
	s.mu.Unlock()
	id := requestID
	var resp v16.SignedFirmwareStatusNotificationResponse
	send16(ctx, s, "SignedFirmwareStatusNotification", &v16.SignedFirmwareStatusNotificationRequest{Status: v16.SignedFirmwareStatus(st), RequestID: &id}, &resp, time.Time{})
}

func (ocpp16) logStatus(ctx context.Context, s *Station, st string, requestID int) {
	id := requestID
	req := v16.LogStatusNotificationRequest{Status: v16.UploadLogStatus(st)}
	if requestID != 0 || st != "Idle" {
		req.RequestID = &id
	}
	var resp v16.LogStatusNotificationResponse
	send16(ctx, s, "LogStatusNotification", &req, &resp, time.Time{})
}

// firmwareJobLocked runs a firmware update from retrieveAt (station
// clock): download, install once no transaction runs, reboot, and report
// Installed after the new boot. requestID is set for a signed update. A
// newer request cancels a running one.
func (p ocpp16) firmwareJobLocked(l *link, retrieveAt time.Time, location string, requestID *int) {
	s := l.s
	signed := requestID != nil
	rid := 0
	steps := []string{"Downloading", "Downloaded", "Installing"}
	if signed {
		rid = *requestID
		steps = []string{"Downloading", "Downloaded", "SignatureVerified", "Installing", "InstallRebooting"}
	}
	s.v16.fwGen++
	gen := s.v16.fwGen
	s.v16.fwSigned, s.v16.fwRequestID, s.v16.fwJob = signed, rid, true
	delay := retrieveAt.Sub(s.cfg.Now())
	if delay < 0 {
		delay = 0
	}
	send := func(ctx context.Context, st string) {
		if signed {
			p.signedFirmwareStatus(ctx, s, st, rid)
		} else {
			p.firmwareStatus(ctx, s, st)
		}
	}
	i := 0
	s.addJob(l, time.Now().Add(delay), func(ctx context.Context, s *Station) (time.Duration, bool) {
		s.mu.Lock()
		cancelled := s.v16.fwGen != gen
		busy := false
		for _, c := range s.conns[1:] {
			busy = busy || c.tx != nil
		}
		s.mu.Unlock()
		if cancelled {
			return 0, true
		}
		if i < len(steps) {
			if steps[i] == "Installing" && busy {
				return s.cfg.StepDelay, false // installs wait for the transactions to end
			}
			send(ctx, steps[i])
			i++
			return s.cfg.StepDelay, false
		}
		if busy {
			return s.cfg.StepDelay, false
		}
		s.mu.Lock()
		s.firmware = newFirmwareVersion(location)
		s.v16.fwJob = false
		s.afterBoot = append(s.afterBoot, func(ctx context.Context) { send(ctx, "Installed") })
		s.mu.Unlock()
		s.reboot(ctx, "Reboot", true, "FirmwareUpdated")
		return 0, true
	})
}

// uploadJobLocked runs a diagnostics upload (requestID nil) or a log
// upload: Uploading, then Uploaded.
func (p ocpp16) uploadJobLocked(l *link, requestID *int) {
	s := l.s
	isLog := requestID != nil
	rid := 0
	if isLog {
		rid = *requestID
		s.v16.logGen++
		s.v16.logJob, s.v16.logRequestID = true, rid
	}
	gen := s.v16.logGen
	steps := []string{"Uploading", "Uploaded"}
	i := 0
	s.addJob(l, time.Now(), func(ctx context.Context, s *Station) (time.Duration, bool) {
		s.mu.Lock()
		if isLog && s.v16.logGen != gen {
			s.mu.Unlock()
			return 0, true
		}
		st := steps[i]
		if isLog {
			s.v16.logStatus = st
			if i == len(steps)-1 {
				s.v16.logJob = false
			}
		} else {
			s.v16.diagStatus = st
		}
		s.mu.Unlock()
		if isLog {
			p.logStatus(ctx, s, st, rid)
		} else {
			var resp v16.DiagnosticsStatusNotificationResponse
			send16(ctx, s, "DiagnosticsStatusNotification", &v16.DiagnosticsStatusNotificationRequest{Status: v16.DiagnosticsStatus(st)}, &resp, time.Time{})
		}
		i++
		return s.cfg.StepDelay, i == len(steps)
	})
}

// newFirmwareVersion names the firmware a location installs.
func newFirmwareVersion(location string) string {
	base := path.Base(location)
	if i := strings.LastIndexByte(base, '.'); i > 0 {
		base = base[:i]
	}
	if base == "" || base == "." || base == "/" {
		base = "updated"
	}
	return trunc(base, 50)
}
