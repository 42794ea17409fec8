package csms

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chargestar/chargestar/internal/model"
	"github.com/chargestar/chargestar/internal/store"
)

// Registration statuses of a BootNotification answer.
const (
	RegistrationAccepted = "Accepted"
	RegistrationPending  = "Pending"
	RegistrationRejected = "Rejected"
)

// BootInfo is what a station says about itself when it boots.
type BootInfo struct {
	Vendor            string
	Model             string
	SerialNumber      string
	ChargeBoxSerial   string
	FirmwareVersion   string
	ICCID             string
	IMSI              string
	MeterType         string
	MeterSerialNumber string
	Reason            string // 2.x BootReason; "" for 1.6
}

// BootResult is the answer to a BootNotification.
type BootResult struct {
	Status      string
	Interval    time.Duration
	CurrentTime time.Time
}

// Boot records a BootNotification and decides the registration status.
// Stations reach this point only when registered (unknown ids are refused
// at the door), so the answer is Accepted, unless the operator holds the
// station Pending (to configure it before it may operate: the CSMS may
// send it commands, it may send nothing but BootNotification) or
// Rejected. A held station is told to boot again after PendingInterval.
func (s *Service) Boot(ctx context.Context, l *Link, info BootInfo) (BootResult, error) {
	now := s.Now()
	res := BootResult{Status: RegistrationAccepted, Interval: s.cfg.HeartbeatInterval, CurrentTime: now}
	if p := l.registration.Load(); p != nil && (*p == RegistrationPending || *p == RegistrationRejected) {
		res.Status, res.Interval = *p, s.cfg.PendingInterval
	}
	err := s.store.RecordBoot(ctx, store.BootRecord{
		StationID: l.StationID, Protocol: l.proto.Version(),
		Vendor: info.Vendor, Model: info.Model, SerialNumber: info.SerialNumber, ChargeBoxSerial: info.ChargeBoxSerial,
		FirmwareVersion: info.FirmwareVersion, ICCID: info.ICCID, IMSI: info.IMSI,
		MeterType: info.MeterType, MeterSerialNumber: info.MeterSerialNumber,
		RegistrationStatus: res.Status, HeartbeatInterval: int(res.Interval / time.Second), At: now,
	})
	if err != nil {
		return BootResult{}, fmt.Errorf("recording boot: %w", err)
	}
	l.accepted.Store(res.Status == RegistrationAccepted)
	s.log.Info("station booted", "station_id", l.StationID, "vendor", info.Vendor, "model", info.Model,
		"firmware", info.FirmwareVersion, "status", res.Status)
	return res, nil
}

// SetRegistration sets the registration a station gets at its next boot
// (RegistrationAccepted, RegistrationPending, RegistrationRejected). When
// the station is connected and the change matters now, it is asked to
// boot again (TriggerMessage BootNotification), so that an operator's
// acceptance takes effect at once.
func (s *Service) SetRegistration(ctx context.Context, stationID, status string) error {
	if err := s.store.SetRegistration(ctx, stationID, status); err != nil {
		return err
	}
	l, ok := s.Link(stationID)
	if !ok {
		return nil
	}
	l.registration.Store(&status)
	if l.Accepted() == (status == RegistrationAccepted) {
		return nil
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.CommandTimeout)
		defer cancel()
		_, res, err := s.SendNeutral(ctx, stationID, NeutralCommand{Name: CmdTrigger, Message: TriggerBoot})
		if err != nil {
			s.log.Warn("asking the station to boot again after a registration change failed; it will get the new registration at its next boot",
				"station_id", stationID, "registration", status, "err", err)
			return
		}
		s.log.Info("station asked to boot again after a registration change", "station_id", stationID,
			"registration", status, "answer", string(res.Payload))
	}()
	return nil
}

// Heartbeat answers a heartbeat with the current time.
func (s *Service) Heartbeat(_ context.Context, _ *Link) time.Time { return s.Now() }

// StatusNotification records a connector (or, for connector 0, station) status.
func (s *Service) StatusNotification(ctx context.Context, l *Link, ev model.StatusEvent) error {
	ev.StationID = l.StationID
	ev.ReceivedAt = s.Now()
	ev.Timestamp = s.stationTime(ev.Timestamp)
	if ev.ErrorCode == "" {
		ev.ErrorCode = "NoError"
	}
	if err := s.store.RecordStatus(ctx, ev); err != nil {
		return fmt.Errorf("recording status: %w", err)
	}
	s.stationChanged(l.StationID)
	if ev.ConnectorID > 0 && ev.Status == "Available" && !l.txOutlivesStatus {
		if txID, ref, open := s.txOnConnector(ctx, l, ev.ConnectorID); open {
			stationID, at := l.StationID, ev.Timestamp
			s.after(s.cfg.StaleSessionGrace, func() { s.closeStale(stationID, txID, ref, at) })
		}
	}
	if ev.ErrorCode != "NoError" || ev.Status == "Faulted" {
		s.log.Warn("connector fault reported", "station_id", l.StationID, "connector_id", ev.ConnectorID,
			"status", ev.Status, "error_code", ev.ErrorCode, "vendor_error_code", ev.VendorErrorCode, "info", ev.Info)
	}
	return nil
}

// Authorize answers whether an id token may charge.
func (s *Service) Authorize(ctx context.Context, l *Link, idTag string) (AuthResult, error) {
	return s.auth.Authorize(ctx, l, normalizeIDTag(idTag), AuthForAuthorize)
}

// StartRequest is a transaction start reported by a station.
type StartRequest struct {
	ConnectorID   int
	IDTag         string
	MeterStartWh  int64
	Timestamp     time.Time
	ReservationID *int
	TransactionID string // 2.x: the station's id; "" for 1.6 (we assign one)
}

// StartTransaction records a transaction start and authorises its token.
// The session is stored (and its transaction id assigned) before this
// returns, whatever the token's status: OCPP 1.6 requires a transaction id
// in every answer, and the station ends the transaction itself when the
// token is not accepted. A replayed start returns the same session.
func (s *Service) StartTransaction(ctx context.Context, l *Link, req StartRequest) (model.Session, AuthResult, error) {
	idTag := normalizeIDTag(req.IDTag)
	auth, err := s.auth.Authorize(ctx, l, idTag, AuthForStart)
	if err != nil {
		return model.Session{}, AuthResult{}, err
	}
	sess, created, err := s.store.StartSession(ctx, store.StartSessionParams{
		OperatorID: l.OperatorID, StationID: l.StationID, ConnectorID: req.ConnectorID,
		TransactionID: req.TransactionID, IDTag: idTag, ReservationID: req.ReservationID,
		StartedAt: s.stationTime(req.Timestamp), MeterStartWh: req.MeterStartWh, Currency: l.Currency,
	})
	if err != nil {
		return model.Session{}, AuthResult{}, fmt.Errorf("starting session: %w", err)
	}
	if !created && auth.Status == AuthConcurrentTx {
		// The open session counted against the token was this very one.
		auth, err = s.auth.Authorize(ctx, l, idTag, AuthForStop)
		if err != nil {
			return model.Session{}, AuthResult{}, err
		}
	}
	// Sessions superseded by this start were closed by the store; the cache
	// only needs the new one.
	l.mu.Lock()
	for id, r := range l.txs {
		if r.connectorID == req.ConnectorID && id != sess.TransactionID {
			delete(l.txs, id)
		}
	}
	l.mu.Unlock()
	l.rememberTx(sess.TransactionID, refOf(sess))
	s.sessionStarted(sess)
	s.metrics.SessionsStarted.Inc()
	if created {
		s.log.Info("transaction started", "station_id", l.StationID, "connector_id", req.ConnectorID,
			"transaction_id", sess.TransactionID, "session_id", sess.ID, "auth", auth.Status)
	}
	return sess, auth, nil
}

// MeterValues stores meter values of a connector, tied to the transaction
// when one is given (or, when none is, to the connector's open session).
func (s *Service) MeterValues(ctx context.Context, l *Link, connectorID int, transactionID string, values []model.MeterValue) error {
	if len(values) == 0 {
		return nil
	}
	var sessionID string
	if transactionID != "" {
		if ref, ok := s.sessionFor(ctx, l, transactionID); ok {
			sessionID = ref.sessionID
		}
	} else if connectorID > 0 {
		if id, ref, ok := s.txOnConnector(ctx, l, connectorID); ok {
			sessionID, transactionID = ref.sessionID, id
		}
	}
	s.prepareMeterValues(l, connectorID, sessionID, transactionID, values)
	if err := s.store.AppendMeterValues(ctx, values); err != nil {
		return fmt.Errorf("storing meter values: %w", err)
	}
	s.sessionMetered(SessionRef{SessionID: sessionID, StationID: l.StationID, ConnectorID: connectorID, TransactionID: transactionID})
	return nil
}

// prepareMeterValues ties meter values to their station, connector and
// session, stamps them and extracts the readings billing uses.
func (s *Service) prepareMeterValues(l *Link, connectorID int, sessionID, transactionID string, values []model.MeterValue) {
	now := s.Now()
	for i := range values {
		mv := &values[i]
		mv.StationID = l.StationID
		mv.ConnectorID = connectorID
		mv.SessionID = sessionID
		mv.TransactionID = transactionID
		mv.Timestamp = s.stationTime(mv.Timestamp)
		mv.ReceivedAt = now
		ExtractReadings(mv)
	}
}

// txOnConnector finds the open session of a connector, from the link's
// cache or the store.
func (s *Service) txOnConnector(ctx context.Context, l *Link, connectorID int) (string, txRef, bool) {
	if id, ref, ok := l.txOnConnector(connectorID); ok {
		return id, ref, true
	}
	sess, err := s.store.ActiveSession(ctx, l.StationID, connectorID)
	if err != nil {
		return "", txRef{}, false
	}
	ref := refOf(sess)
	l.rememberTx(sess.TransactionID, ref)
	return sess.TransactionID, ref, true
}

// sessionFor finds the session of a transaction id, from the link's cache
// or the store.
func (s *Service) sessionFor(ctx context.Context, l *Link, transactionID string) (txRef, bool) {
	if ref, ok := l.lookupTx(transactionID); ok {
		return ref, true
	}
	sess, err := s.store.GetSessionByTransaction(ctx, l.StationID, transactionID)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			s.log.Warn("looking up transaction failed", "station_id", l.StationID, "transaction_id", transactionID, "err", err)
		}
		return txRef{}, false
	}
	ref := refOf(sess)
	if sess.Status == model.SessionActive {
		l.rememberTx(transactionID, ref)
	}
	return ref, true
}

// StopRequest is a transaction stop reported by a station.
type StopRequest struct {
	TransactionID   string
	IDTag           string
	MeterStopWh     *int64
	Timestamp       time.Time
	Reason          string
	TransactionData []model.MeterValue // meter values the station attached
}

// ErrUnknownTransaction: a stop for a transaction we never saw started.
var ErrUnknownTransaction = errors.New("csms: unknown transaction")

// StopTransaction records a transaction stop. It is idempotent: a replayed
// stop changes nothing. The transaction data is stored as meter values
// first, so the session's energy can fall back on it.
func (s *Service) StopTransaction(ctx context.Context, l *Link, req StopRequest) (model.Session, *AuthResult, error) {
	var auth *AuthResult
	if idTag := normalizeIDTag(req.IDTag); idTag != "" {
		a, err := s.auth.Authorize(ctx, l, idTag, AuthForStop)
		if err != nil {
			return model.Session{}, nil, err
		}
		auth = &a
	}
	ref, known := s.sessionFor(ctx, l, req.TransactionID)
	if !known {
		s.metrics.UnknownTransactions.Inc()
		s.log.Warn("stop for an unknown transaction", "station_id", l.StationID, "transaction_id", req.TransactionID)
		return model.Session{}, auth, ErrUnknownTransaction
	}
	if len(req.TransactionData) > 0 {
		if err := s.MeterValues(ctx, l, ref.connectorID, req.TransactionID, req.TransactionData); err != nil {
			return model.Session{}, nil, err
		}
	}
	reason := req.Reason
	if reason == "" {
		reason = "Local" // the 1.6 default when the field is absent
	}
	sess, outcome, err := s.store.StopSession(ctx, store.StopSessionParams{
		StationID: l.StationID, TransactionID: req.TransactionID, StoppedAt: s.stationTime(req.Timestamp),
		MeterStopWh: req.MeterStopWh, Reason: reason, IDTag: normalizeIDTag(req.IDTag),
		Source: model.StopSourceStation, TransactionData: len(req.TransactionData) > 0,
	})
	if errors.Is(err, store.ErrNotFound) {
		return model.Session{}, auth, ErrUnknownTransaction
	}
	if err != nil {
		return model.Session{}, nil, fmt.Errorf("stopping session: %w", err)
	}
	l.forgetTx(req.TransactionID)
	switch outcome {
	case store.Stopped, store.Corrected:
		s.sessionStopped(sess)
		s.metrics.SessionsStopped.Inc()
		s.log.Info("transaction stopped", "station_id", l.StationID, "transaction_id", req.TransactionID,
			"session_id", sess.ID, "energy_wh", sess.EnergyWh, "reason", sess.StopReason, "corrected", outcome == store.Corrected)
	case store.AlreadyStopped:
		s.log.Debug("repeated stop ignored", "station_id", l.StationID, "transaction_id", req.TransactionID)
	}
	return sess, auth, nil
}

// closeStale closes a session its station forgot: the connector became
// Available and no stop came within the grace time. The energy is the last
// reading; the stop time is when the connector was reported free. Should
// the station still report the stop later, the store corrects the session.
func (s *Service) closeStale(stationID, txID string, ref txRef, freeAt time.Time) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sess, err := s.store.GetSessionByTransaction(ctx, stationID, txID)
	if err != nil || sess.Status != model.SessionActive || sess.ID != ref.sessionID {
		return
	}
	reason := "Other"
	if st, err := s.store.GetStation(ctx, stationID); err == nil && st.LastBootAt != nil && st.LastBootAt.After(sess.CreatedAt) {
		reason = "Reboot"
	}
	if freeAt.Before(sess.StartedAt) {
		freeAt = sess.StartedAt
	}
	sess, _, err = s.store.StopSession(ctx, store.StopSessionParams{
		StationID: stationID, TransactionID: txID, StoppedAt: freeAt, Reason: reason, Source: model.StopSourceEstimated,
	})
	if err != nil {
		s.log.Error("closing a forgotten session failed", "station_id", stationID, "transaction_id", txID, "err", err)
		return
	}
	if l, ok := s.Link(stationID); ok {
		l.forgetTx(txID)
	}
	s.sessionStopped(sess)
	s.log.Warn("session closed without a stop from the station (estimated from its last meter value)",
		"station_id", stationID, "transaction_id", txID, "session_id", sess.ID, "energy_wh", sess.EnergyWh, "reason", reason)
}

// FirmwareStatus records a firmware status notification.
func (s *Service) FirmwareStatus(ctx context.Context, l *Link, status string) error {
	s.log.Info("firmware status", "station_id", l.StationID, "status", status)
	return s.store.RecordFirmwareStatus(ctx, l.StationID, status, s.Now())
}

// DiagnosticsStatus records a diagnostics (1.6) or log upload (security) status.
func (s *Service) DiagnosticsStatus(ctx context.Context, l *Link, status string) error {
	s.log.Info("diagnostics status", "station_id", l.StationID, "status", status)
	return s.store.RecordDiagnosticsStatus(ctx, l.StationID, status, s.Now())
}

// SecurityEvent records a security event a station reported.
func (s *Service) SecurityEvent(ctx context.Context, l *Link, kind string, at time.Time, techInfo string) error {
	s.log.Warn("station security event", "station_id", l.StationID, "type", kind, "at", s.stationTime(at), "tech_info", techInfo)
	return s.StationEvents(ctx, l, model.StationEvent{Kind: model.EventSecurity, Type: kind, Severity: -1, TechInfo: techInfo, Timestamp: at})
}

// StationEvents records events a station reported (security events, 2.x
// NotifyEvent, 2.1 NotifySettlement), stamped with the receive time.
func (s *Service) StationEvents(ctx context.Context, l *Link, evs ...model.StationEvent) error {
	now := s.Now()
	for i := range evs {
		evs[i].StationID = l.StationID
		evs[i].ReceivedAt = now
		evs[i].Timestamp = s.stationTime(evs[i].Timestamp)
	}
	if err := s.store.RecordStationEvents(ctx, evs...); err != nil {
		return fmt.Errorf("recording station events: %w", err)
	}
	return nil
}

// DeviceModel stores a 2.x station's device-model variables, as reported
// (NotifyReport) or read and written by commands (Get/SetVariables).
func (s *Service) DeviceModel(ctx context.Context, l *Link, vars []model.StationVariable) error {
	return s.DeviceModelOf(ctx, l.StationID, vars)
}

// DeviceModelOf is DeviceModel by station id.
func (s *Service) DeviceModelOf(ctx context.Context, stationID string, vars []model.StationVariable) error {
	if len(vars) == 0 {
		return nil
	}
	now := s.Now()
	for i := range vars {
		vars[i].StationID = stationID
		if vars[i].UpdatedAt.IsZero() {
			vars[i].UpdatedAt = now
		}
	}
	if err := s.store.UpsertStationVariables(ctx, stationID, vars); err != nil {
		return fmt.Errorf("storing device model: %w", err)
	}
	return nil
}

// DataTransfer statuses.
const (
	DataTransferAccepted         = "Accepted"
	DataTransferRejected         = "Rejected"
	DataTransferUnknownMessageID = "UnknownMessageId"
	DataTransferUnknownVendorID  = "UnknownVendorId"
)

// DataTransferHandler handles the DataTransfer messages of one vendor id.
type DataTransferHandler func(ctx context.Context, l *Link, messageID string, data []byte) (status string, reply []byte, err error)

// DataTransfer dispatches a vendor-specific message.
func (s *Service) DataTransfer(ctx context.Context, l *Link, vendorID, messageID string, data []byte) (string, []byte, error) {
	h, ok := s.vendors[vendorID]
	if !ok {
		return DataTransferUnknownVendorID, nil, nil
	}
	return h(ctx, l, messageID, data)
}

// Seen marks the link as heard from; adapters call it for every message.
func (s *Service) Seen(l *Link) { l.Touch(s.now()) }
