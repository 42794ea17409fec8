package sim

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/chargestar/chargestar/internal/ocpp"
	"github.com/chargestar/chargestar/internal/ocpp/ocppj"
	"github.com/chargestar/chargestar/internal/ocpp/v16"
	"github.com/chargestar/chargestar/internal/ocpp/v201"
	"github.com/chargestar/chargestar/internal/ocpp/v21"
)

// version2x is all that tells OCPP 2.0.1 and 2.1 apart for the simulator:
// the names, the schemas (through the action table) and the 2.1 features.
type version2x struct {
	name    string
	dialect *ocppj.Dialect
	action  func(name string) (ocpp.ActionInfo, bool)
	v21     bool // tariffs (SetDefaultTariff, ChangeTransactionTariff) and transactionLimit
}

var (
	ocpp201 = &version2x{name: "ocpp2.0.1", dialect: ocppj.Dialect201, action: v201.Action}
	ocpp21  = &version2x{name: "ocpp2.1", dialect: ocppj.Dialect21, action: v21.Action, v21: true}
)

// ocpp2x is the OCPP 2.0.1 and 2.1 side of a station. Each connector of
// the station is an EVSE with one connector (evseId = the connector's
// number, connectorId 1); a transaction is a series of TransactionEvents
// (Started, Updated, Ended) under a transactionId the station makes up,
// numbered by seqNo. Like ocpp16 it is stateless: the station holds the
// state, in Station.v2 for what only 2.x has, and 2.x device-model
// variables that mean what a 1.6 configuration key means read and write
// that key (see devModel).
type ocpp2x struct{ v *version2x }

func (p ocpp2x) subprotocol() string     { return p.v.name }
func (p ocpp2x) dialect() *ocppj.Dialect { return p.v.dialect }

// v2State is the station state only OCPP 2.x has, guarded by Station.mu.
type v2State struct {
	bootReason   string            // the next BootNotification's reason ("" PowerUp)
	local        map[string]string // local authorisation list: idToken (lower case) → status
	localVersion int
	// TxStartedMeasurands, when changed (the others share the 1.6 keys).
	startedMeasurands []v16.Measurand
	defaultTariff     map[int]string    // 2.1 SetDefaultTariff: tariffId by EVSE (0: all)
	vars              map[string]string // device-model variables only 2.x has, when changed (see dmVar)
	resetScheduled    bool              // a Reset OnIdle waits for the transactions to end

	// Firmware update and log upload progress.
	fwStatus, logStatus       string
	fwRequestID, logRequestID int
	fwGen, logGen             int
	fwJob, logJob             bool
}

// idTypeRFID is the idToken type of the drivers' cards.
const idTypeRFID = "ISO14443"

var defaultStarted, _ = parseMeasurands("Energy.Active.Import.Register")

// send validates req against the version's schema, sends it and reads the
// CSMS's answer, checked against the schema too, into resp (may be nil).
func (p ocpp2x) send(ctx context.Context, s *Station, action string, req, resp any, intended time.Time) error {
	payload, err := json.Marshal(req)
	if err != nil {
		s.stats.Error("invalid_request")
		return err
	}
	return p.sendPayload(ctx, s, action, payload, true, resp, intended)
}

// sampledValidation: in load modes one periodic message in this many is
// checked against the schema (their shape never varies; the check would
// cost the simulator as much as encoding them).
const sampledValidation = 64

var periodicSent atomic.Uint64

// sendPayload sends an encoded request, checked against the schema when
// validate, and decodes the answer into resp.
func (p ocpp2x) sendPayload(ctx context.Context, s *Station, action string, payload []byte, validate bool, resp any, intended time.Time) error {
	if validate {
		if err := p.valid(action, payload, true); err != nil {
			s.stats.Error("invalid_request")
			s.log.Error("simulator built an invalid request", "action", action, "err", err, "payload", string(payload))
			return err
		}
	}
	raw, err := s.call(ctx, action, payload, intended)
	if err != nil {
		return err
	}
	if string(raw) == "{}" {
		return nil // the usual answer to a periodic reading: nothing to read
	}
	info, _ := p.v.action(action)
	err = info.NewResponse().DecodeOCPP(raw, ocpp.DecodeOptions{})
	if err == nil && resp != nil {
		err = json.Unmarshal(raw, resp)
	}
	if err != nil {
		s.stats.Error("invalid_response")
		s.log.Warn("CSMS answered with an invalid payload", "action", action, "err", err)
		return err
	}
	return nil
}

// valid checks a payload the simulator built against the version's
// schema, strictly (no field the schema lacks).
func (p ocpp2x) valid(action string, payload []byte, request bool) error {
	info, ok := p.v.action(action)
	if !ok {
		return fmt.Errorf("%s is not an OCPP %s action", action, p.v.name)
	}
	m := info.NewResponse
	if request {
		m = info.NewRequest
	}
	return m().DecodeOCPP(payload, ocpp.DecodeOptions{DisallowUnknownFields: true})
}

func (p ocpp2x) boot(ctx context.Context, s *Station) (bootResult, error) {
	s.mu.Lock()
	reason := s.v2.bootReason
	if reason == "" {
		reason = "PowerUp"
	}
	req := bootReq2{Reason: reason, ChargingStation: chargingStation2{SerialNumber: trunc(s.id, 25), Model: trunc(s.cfg.Model, 20),
		VendorName: trunc(s.cfg.Vendor, 50), FirmwareVersion: trunc(s.firmware, 50)}}
	s.mu.Unlock()
	var resp bootResp2
	if err := p.send(ctx, s, "BootNotification", &req, &resp, time.Time{}); err != nil {
		return bootResult{}, err
	}
	r := bootResult{interval: secondsDur(resp.Interval)}
	switch resp.Status {
	case "Accepted":
		r.status = regAccepted
		s.mu.Lock()
		s.v2.bootReason = ""
		s.mu.Unlock()
	case "Pending":
		r.status = regPending
	default:
		r.status = regRejected
	}
	return r, nil
}

func (p ocpp2x) heartbeat(ctx context.Context, s *Station) error {
	return p.send(ctx, s, "Heartbeat", struct{}{}, nil, time.Time{})
}

// connectorStatus2 maps a 1.6 status onto 2.x's ConnectorStatus: a
// connector with a cable in is Occupied, whatever the EV does.
func connectorStatus2(st string) string {
	switch st {
	case statusAvailable, statusReserved, statusUnavailable, statusFaulted:
		return st
	}
	return "Occupied"
}

// chargingState2 is the 2.x chargingState of a 1.6 status within a
// transaction ("" none).
func chargingState2(st string) string {
	switch st {
	case statusCharging, statusSuspendedEV, statusSuspendedEVSE:
		return st
	}
	return ""
}

func (p ocpp2x) status(ctx context.Context, s *Station, connector int, status, prev, errorCode string) error {
	if connector == 0 {
		return nil // 2.x has no station-wide status: the EVSEs show it
	}
	if prev != "" {
		// Within a transaction, Charging ↔ Suspended is the transaction's
		// chargingState; the connector stays Occupied.
		if cs, was := chargingState2(status), chargingState2(prev); cs != "" && was != "" && cs != was {
			s.mu.Lock()
			if tx := s.conns[connector].tx; tx != nil {
				s.enqueueLocked(&txMessage{kind: txEvent, tx: tx, trigger: "ChargingStateChanged", chargingState: cs, smp: sample{at: s.cfg.Now()}})
			}
			s.mu.Unlock()
			s.flushNow(ctx)
		}
		if connectorStatus2(prev) == connectorStatus2(status) {
			return nil
		}
	}
	req := statusNotificationReq2{Timestamp: ocpp.NewDateTime(s.cfg.Now()), ConnectorStatus: connectorStatus2(status), EVSEID: connector, ConnectorID: 1}
	return p.send(ctx, s, "StatusNotification", &req, nil, time.Time{})
}

func (p ocpp2x) authorize(ctx context.Context, s *Station, idTag string) (string, error) {
	var resp authorizeResp2
	err := p.send(ctx, s, "Authorize", &authorizeReq2{IDToken: idToken2{IDToken: idTag, Type: idTypeRFID}}, &resp, time.Time{})
	return resp.IDTokenInfo.Status, err
}

func (p ocpp2x) localAccepted(s *Station, idTag string) bool {
	return s.v16.boolKey(keyLocalAuthListEnabled) && s.v2.local[strings.ToLower(idTag)] == authAccepted
}

func (p ocpp2x) securityEvent(ctx context.Context, s *Station, kind, info string) error {
	req := securityEventReq2{Type: kind, Timestamp: ocpp.NewDateTime(s.cfg.Now()), TechInfo: trunc(info, 255)}
	return p.send(ctx, s, "SecurityEventNotification", &req, nil, time.Time{})
}

func (p ocpp2x) reservationExpired(ctx context.Context, s *Station, reservationID int) error {
	req := reservationStatusReq2{ReservationID: reservationID, ReservationUpdateStatus: "Expired"}
	return p.send(ctx, s, "ReservationStatusUpdate", &req, nil, time.Time{})
}

// meterValues2 encodes a reading with the given measurands.
func meterValues2(smp *sample, ms []v16.Measurand) []meterValue2 {
	svs := make([]sampledValue2, 0, measurandCount(smp, ms))
	eachReading(smp, ms, func(r reading) {
		svs = append(svs, sampledValue2{Value: r.value, Context: smp.context, Measurand: string(r.measurand),
			Phase: string(r.phase), Location: string(r.location), UnitOfMeasure: &unitOfMeasure2{Unit: string(r.unit)}})
	})
	return []meterValue2{{Timestamp: ocpp.NewDateTime(smp.at), SampledValue: svs}}
}

// stopReasons2 maps a stop reason onto 2.x's stoppedReason and the
// triggerReason of the Ended event.
func stopReasons2(reason string) (stopped, trigger string) {
	switch reason {
	case "Local":
		return "Local", "StopAuthorized"
	case "EVDisconnected":
		return "EVDisconnected", "EVDeparted"
	case "Remote":
		return "Remote", "RemoteStop"
	case "DeAuthorized":
		return "DeAuthorized", "Deauthorized"
	case reasonImmediateReset, "SoftReset", "HardReset":
		return reasonImmediateReset, "ResetCommand"
	case "Reboot":
		return "Reboot", "ResetCommand"
	case reasonEnergyLimit, reasonTimeLimit:
		return reason, reason
	case reasonSoCLimit:
		return reasonSoCLimit, "SoCLimitReached"
	case reasonCostLimit:
		// 2.1 has a CostLimitReached trigger but no such stoppedReason; a
		// credit limit the station enforces is what LocalOutOfCredit means.
		return "LocalOutOfCredit", "CostLimitReached"
	}
	return "Other", "AbnormalCondition"
}

func (p ocpp2x) txMessage(ctx context.Context, s *Station, m *txMessage) error {
	tx := m.tx
	s.mu.Lock()
	if !m.hasSeq {
		m.seqNo, m.hasSeq = tx.seqNo, true
		tx.seqNo++
	}
	req := txEventReq2{EventType: "Updated", Timestamp: ocpp.NewDateTime(m.smp.at), SeqNo: m.seqNo, Offline: m.offline,
		TransactionInfo: txInfo2{TransactionID: tx.uid}}
	switch m.kind {
	case txStart:
		one, phases := 1, s.cfg.Phases
		req.EventType, req.TriggerReason = "Started", "Authorized"
		if tx.remote {
			req.TriggerReason = "RemoteStart"
		}
		req.TransactionInfo.ChargingState = "Charging"
		req.TransactionInfo.RemoteStartID = tx.remoteID
		req.EVSE = &evse2{ID: tx.connector, ConnectorID: &one}
		req.IDToken = &idToken2{IDToken: tx.idTag, Type: orDefault(tx.idType, idTypeRFID)}
		req.ReservationID = tx.reservID
		req.NumberOfPhasesUsed = &phases
		ms := s.v2.startedMeasurands
		if ms == nil {
			ms = defaultStarted
		}
		req.MeterValue = meterValues2(&m.smp, ms)
	case txMeter:
		req.TriggerReason = "MeterValuePeriodic"
		req.MeterValue = meterValues2(&m.smp, s.sampledMeasurandsLocked())
	case txEvent:
		req.TriggerReason = m.trigger
		req.TransactionInfo.ChargingState = m.chargingState
		switch m.trigger {
		case "TariffChanged":
			req.TransactionInfo.TariffID = tx.tariffID
		case "LimitSet":
			req.TransactionInfo.TransactionLimit = limitTo2(tx.limit)
		case "Trigger":
			req.MeterValue = meterValues2(&m.smp, s.sampledMeasurandsLocked())
		}
	case txStop:
		stopped, trigger := stopReasons2(m.reason)
		m.sentReason = stopped
		req.EventType, req.TriggerReason = "Ended", trigger
		req.TransactionInfo.StoppedReason = stopped
		req.TransactionInfo.ChargingState = "EVConnected"
		if m.reason == "EVDisconnected" {
			req.TransactionInfo.ChargingState = "Idle"
		}
		if m.idTag != "" {
			req.IDToken = &idToken2{IDToken: m.idTag, Type: orDefault(tx.idType, idTypeRFID)}
		}
		req.MeterValue = meterValues2(&m.smp, s.stopTxnMeasurandsLocked())
	}
	s.mu.Unlock()
	var resp txEventResp2
	if err := p.send(ctx, s, "TransactionEvent", &req, &resp, time.Time{}); err != nil {
		return err
	}
	s.mu.Lock()
	if m.kind == txStart {
		tx.id = tx.seq // acknowledged
		m.authStatus = authAccepted
		if resp.IDTokenInfo != nil {
			m.authStatus = resp.IDTokenInfo.Status
		}
	}
	p.answeredLocked(s, tx, &resp)
	s.mu.Unlock()
	return nil
}

// answeredLocked takes in what a TransactionEventResponse says about the
// transaction beyond authorisation: its cost so far and (2.1) its limit.
// A new limit is confirmed with a LimitSet event; the station stops the
// transaction when it is reached (see Station.limitReachedLocked).
func (p ocpp2x) answeredLocked(s *Station, tx *transaction, resp *txEventResp2) {
	if resp.TotalCost != nil {
		c := *resp.TotalCost
		tx.cost = &c
	}
	if !p.v.v21 || resp.TransactionLimit == nil {
		return
	}
	l := limitFrom2(resp.TransactionLimit)
	if l.equal(tx.limit) {
		return
	}
	tx.limit = l
	if s.conns[tx.connector].tx == tx {
		s.enqueueLocked(&txMessage{kind: txEvent, tx: tx, trigger: "LimitSet", smp: sample{at: s.cfg.Now()}})
	}
}

func limitFrom2(l *txLimit2) txLimit {
	return txLimit{maxCost: l.MaxCost, maxEnergy: l.MaxEnergy, maxTime: l.MaxTime, maxSoC: l.MaxSoC}
}

func limitTo2(l txLimit) *txLimit2 {
	if !l.set() {
		return nil
	}
	return &txLimit2{MaxCost: l.maxCost, MaxEnergy: l.maxEnergy, MaxTime: l.maxTime, MaxSoC: l.maxSoC}
}

func (l txLimit) equal(o txLimit) bool {
	return eqPtr(l.maxCost, o.maxCost) && eqPtr(l.maxEnergy, o.maxEnergy) && eqPtr(l.maxTime, o.maxTime) && eqPtr(l.maxSoC, o.maxSoC)
}

func eqPtr[T comparable](a, b *T) bool {
	return a == nil && b == nil || a != nil && b != nil && *a == *b
}

// meterValues sends a reading: a TransactionEvent Updated for a
// transaction (the load modes' stream; triggerReason MeterValuePeriodic,
// or Trigger), else a MeterValues message.
func (p ocpp2x) meterValues(ctx context.Context, s *Station, connector int, tx *transaction, smp *sample, intended time.Time) error {
	s.mu.Lock()
	mv := meterValues2(smp, s.sampledMeasurandsLocked())
	if tx == nil {
		s.mu.Unlock()
		return p.send(ctx, s, "MeterValues", &meterValuesReq2{EVSEID: connector, MeterValue: mv}, nil, intended)
	}
	trigger := "MeterValuePeriodic"
	if smp.context == "Trigger" {
		trigger = "Trigger"
	}
	req := txEventReq2{EventType: "Updated", Timestamp: ocpp.NewDateTime(smp.at), TriggerReason: trigger, SeqNo: tx.seqNo,
		TransactionInfo: txInfo2{TransactionID: tx.uid}, MeterValue: mv}
	tx.seqNo++
	s.mu.Unlock()
	var resp txEventResp2
	payload := appendPeriodicTxEvent(make([]byte, 0, 1024), &req)
	validate := periodicSent.Add(1)%sampledValidation == 1
	if err := p.sendPayload(ctx, s, "TransactionEvent", payload, validate, &resp, intended); err != nil {
		return err
	}
	s.mu.Lock()
	p.answeredLocked(s, tx, &resp)
	s.mu.Unlock()
	return nil
}

// newTxIDLocked makes up a transactionId: a random (version 4) UUID from
// the station's seeded random numbers, so that a run can be repeated.
func (s *Station) newTxIDLocked() string {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], s.rng.Uint64())
	binary.LittleEndian.PutUint64(b[8:], s.rng.Uint64())
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// orDefault returns a, or def when a is empty.
func orDefault(a, def string) string {
	if a == "" {
		return def
	}
	return a
}
