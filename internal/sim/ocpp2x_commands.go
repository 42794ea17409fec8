package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/chargestar/chargestar/internal/ocpp"
	"github.com/chargestar/chargestar/internal/ocpp/ocppj"
)

// ---- the CSMS's calls, OCPP 2.0.1 and 2.1 ----

func (p ocpp2x) handle(ctx context.Context, l *link, action string, payload, dst []byte) ([]byte, error) {
	s := l.s
	info, known := p.v.action(action)
	if !known {
		return nil, ocppj.Errorf(ocppj.NotImplemented, "unknown action %q", action)
	}
	if !info.ToStation {
		return nil, ocppj.Errorf(ocppj.NotSupported, "%s is sent by a Charging Station, not by a CSMS", action)
	}
	if err := decodeReq(info.NewRequest(), payload); err != nil {
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
	resp, err := p.command(l, action, payload)
	if err != nil {
		return nil, err
	}
	if resp == nil {
		return nil, ocppj.Errorf(ocppj.NotSupported, "%s is not supported", action)
	}
	b, err := json.Marshal(resp)
	if err == nil {
		err = p.valid(action, b, false)
	}
	if err != nil {
		s.stats.Error("invalid_answer")
		s.log.Error("simulator built an invalid answer", "action", action, "err", err, "payload", string(b))
		return nil, &ocppj.CallError{Code: ocppj.InternalError, Description: "the simulator built an invalid answer"}
	}
	return append(dst, b...), nil
}

// status2 is an answer with just a status.
func status2(st string) *statusResp2 { return &statusResp2{Status: st} }

// command carries out one CSMS request (already validated against the
// schema) and returns the answer to encode; nil: not supported.
func (p ocpp2x) command(l *link, action string, payload []byte) (any, error) {
	s := l.s
	read := func(v any) error {
		if err := json.Unmarshal(payload, v); err != nil {
			return &ocppj.CallError{Code: ocppj.FormationViolation, Description: err.Error()}
		}
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.conns) - 1
	validEVSE := func(id int) bool { return id >= 1 && id <= n }

	switch action {
	case "RequestStartTransaction":
		var r requestStartReq2
		if err := read(&r); err != nil {
			return nil, err
		}
		return p.requestStartLocked(l, &r), nil

	case "RequestStopTransaction":
		var r transactionIDReq2
		if err := read(&r); err != nil {
			return nil, err
		}
		if c := s.txConnectorLocked(r.TransactionID); c != nil {
			l.after(func(ctx context.Context) { s.stopTx(ctx, c, "Remote", "", true) })
			return status2("Accepted"), nil
		}
		return status2("Rejected"), nil

	case "Reset":
		var r resetReq2
		if err := read(&r); err != nil {
			return nil, err
		}
		return status2(p.resetLocked(l, &r)), nil

	case "UnlockConnector":
		var r unlockReq2
		if err := read(&r); err != nil {
			return nil, err
		}
		switch {
		case !validEVSE(r.EVSEID) || r.ConnectorID != 1:
			return status2("UnknownConnector"), nil
		case s.conns[r.EVSEID].tx != nil:
			// 2.x does not end a transaction to unlock: RequestStopTransaction does.
			return status2("OngoingAuthorizedTransaction"), nil
		}
		return status2("Unlocked"), nil

	case "ChangeAvailability":
		var r changeAvailabilityReq2
		if err := read(&r); err != nil {
			return nil, err
		}
		id := 0
		if e := r.EVSE; e != nil {
			if e.ID != 0 && !validEVSE(e.ID) || e.ConnectorID != nil && (e.ID == 0 || *e.ConnectorID != 1) {
				return status2("Rejected"), nil
			}
			id = e.ID
		}
		if s.changeAvailabilityLocked(l, id, r.OperationalStatus == "Inoperative") {
			return status2("Scheduled"), nil
		}
		return status2("Accepted"), nil

	case "TriggerMessage":
		var r triggerReq2
		if err := read(&r); err != nil {
			return nil, err
		}
		return status2(p.triggerLocked(l, &r)), nil

	case "GetVariables":
		var r getVariablesReq2
		if err := read(&r); err != nil {
			return nil, err
		}
		return s.getVariablesLocked(&r), nil

	case "SetVariables":
		var r setVariablesReq2
		if err := read(&r); err != nil {
			return nil, err
		}
		l.step() // intervals may have changed
		return s.setVariablesLocked(&r), nil

	case "GetBaseReport":
		var r getBaseReportReq2
		if err := read(&r); err != nil {
			return nil, err
		}
		return status2(p.reportLocked(l, r.RequestID, s.baseReportLocked(r.ReportBase))), nil

	case "GetReport":
		var r getReportReq2
		if err := read(&r); err != nil {
			return nil, err
		}
		return status2(p.reportLocked(l, r.RequestID, s.customReportLocked(&r))), nil

	case "ClearCache":
		return status2("Accepted"), nil

	case "DataTransfer":
		var r dataTransferReq2
		if err := read(&r); err != nil {
			return nil, err
		}
		if r.VendorID != vendorID {
			return &dataTransferResp2{Status: "UnknownVendorId"}, nil
		}
		if r.MessageID == "" || r.MessageID == "Echo" {
			return &dataTransferResp2{Status: "Accepted", Data: r.Data}, nil
		}
		return &dataTransferResp2{Status: "UnknownMessageId"}, nil

	case "UpdateFirmware":
		var r updateFirmwareReq2
		if err := read(&r); err != nil {
			return nil, err
		}
		return status2(p.firmwareJobLocked(l, &r)), nil

	case "GetLog":
		var r getLogReq2
		if err := read(&r); err != nil {
			return nil, err
		}
		status := "Accepted"
		if s.v2.logJob {
			status = "AcceptedCanceled" // the new request replaces the running one
		}
		p.logJobLocked(l, r.RequestID)
		name := fmt.Sprintf("%s-%s-%d.log", strings.ToLower(r.LogType), s.id, r.RequestID)
		return &getLogResp2{Status: status, Filename: trunc(name, 255)}, nil

	case "SendLocalList":
		var r sendLocalListReq2
		if err := read(&r); err != nil {
			return nil, err
		}
		return status2(s.sendLocalList2Locked(&r)), nil

	case "GetLocalListVersion":
		return &localListVersionResp2{VersionNumber: s.v2.localVersion}, nil

	case "ReserveNow":
		var r reserveNowReq2
		if err := read(&r); err != nil {
			return nil, err
		}
		// ReservationCtrlr.NonEvseSpecific is false: a reservation names its EVSE.
		if r.EVSEID == nil || !validEVSE(*r.EVSEID) {
			return status2("Rejected"), nil
		}
		parent := ""
		if r.GroupIDToken != nil {
			parent = r.GroupIDToken.IDToken
		}
		return status2(s.reserveLocked(l, *r.EVSEID, r.ID, r.IDToken.IDToken, parent, r.ExpiryDateTime.Time)), nil

	case "CancelReservation":
		var r cancelReservationReq2
		if err := read(&r); err != nil {
			return nil, err
		}
		if s.cancelReservationLocked(l, r.ReservationID) {
			return status2("Accepted"), nil
		}
		return status2("Rejected"), nil

	case "SetChargingProfile":
		var r setChargingProfileReq2
		if err := read(&r); err != nil {
			return nil, err
		}
		return status2(p.setProfileLocked(l, &r)), nil

	case "ClearChargingProfile":
		var r clearChargingProfileReq2
		if err := read(&r); err != nil {
			return nil, err
		}
		before := len(s.profiles)
		s.profiles = slices.DeleteFunc(s.profiles, func(q *chargingProfile) bool {
			if r.ChargingProfileID != nil {
				return q.id == *r.ChargingProfileID
			}
			c := r.ChargingProfileCriteria
			return c == nil || (c.EVSEID == nil || q.connector == *c.EVSEID) &&
				(c.ChargingProfilePurpose == "" || purpose2(q.purpose) == c.ChargingProfilePurpose) &&
				(c.StackLevel == nil || q.stackLevel == *c.StackLevel)
		})
		if len(s.profiles) == before {
			return status2("Unknown"), nil
		}
		l.after(s.repower)
		return status2("Accepted"), nil

	case "GetChargingProfiles":
		var r getChargingProfilesReq2
		if err := read(&r); err != nil {
			return nil, err
		}
		return status2(p.reportProfilesLocked(l, &r)), nil

	case "GetCompositeSchedule":
		var r getCompositeScheduleReq2
		if err := read(&r); err != nil {
			return nil, err
		}
		if r.EVSEID < 0 || r.EVSEID > n || r.Duration <= 0 {
			return &getCompositeScheduleResp2{Status: "Rejected"}, nil
		}
		unit := "W"
		if r.ChargingRateUnit == "A" {
			unit = "A"
		}
		start, periods := s.compositeLocked(r.EVSEID, r.Duration, unit)
		sched := &compositeSchedule2{EVSEID: r.EVSEID, Duration: r.Duration, ScheduleStart: ocpp.NewDateTime(start), ChargingRateUnit: unit}
		for _, per := range periods {
			limit := per.limit
			sched.ChargingSchedulePeriod = append(sched.ChargingSchedulePeriod, schedulePeriod2{StartPeriod: per.start, Limit: &limit})
		}
		return &getCompositeScheduleResp2{Status: "Accepted", Schedule: sched}, nil

	case "CostUpdated":
		var r costUpdatedReq2
		if err := read(&r); err != nil {
			return nil, err
		}
		if c := s.txConnectorLocked(r.TransactionID); c != nil {
			cost := r.TotalCost
			c.tx.cost = &cost
			l.step() // a cost limit may have been reached
		}
		return struct{}{}, nil

	case "SetDefaultTariff": // 2.1
		var r tariffReq2
		if err := read(&r); err != nil {
			return nil, err
		}
		if r.EVSEID != 0 && !validEVSE(r.EVSEID) {
			return status2("Rejected"), nil
		}
		if s.v2.defaultTariff == nil {
			s.v2.defaultTariff = map[int]string{}
		}
		s.v2.defaultTariff[r.EVSEID] = r.Tariff.TariffID
		return status2("Accepted"), nil

	case "ChangeTransactionTariff": // 2.1
		var r tariffReq2
		if err := read(&r); err != nil {
			return nil, err
		}
		c := s.txConnectorLocked(r.TransactionID)
		if c == nil {
			return status2("TxNotFound"), nil
		}
		tx := c.tx
		tx.tariffID = r.Tariff.TariffID
		l.after(func(ctx context.Context) {
			s.mu.Lock()
			if c.tx == tx {
				s.enqueueLocked(&txMessage{kind: txEvent, tx: tx, trigger: "TariffChanged", smp: sample{at: s.cfg.Now()}})
			}
			s.mu.Unlock()
			s.flushNow(ctx)
		})
		return status2("Accepted"), nil
	}
	return nil, nil
}

// txConnectorLocked finds the connector running the transaction with a
// 2.x transactionId.
func (s *Station) txConnectorLocked(uid string) *connector {
	for _, c := range s.conns[1:] {
		if c.tx != nil && c.tx.uid == uid {
			return c
		}
	}
	return nil
}

func (p ocpp2x) requestStartLocked(l *link, r *requestStartReq2) *requestStartResp2 {
	s := l.s
	rejected := &requestStartResp2{Status: "Rejected"}
	tag := r.IDToken.IDToken
	var prof *chargingProfile
	if len(r.ChargingProfile) > 0 {
		var cp chargingProfile2
		if json.Unmarshal(r.ChargingProfile, &cp) != nil || cp.ChargingProfilePurpose != purposeTx || cp.TransactionID != "" {
			return rejected
		}
		prof = profileFrom2(&cp, r.ChargingProfile, 0, s.cfg.Now())
	}
	free := func(c *connector) bool {
		return c.tx == nil && c.phase == phaseIdle && !c.remote && (c.status == statusAvailable ||
			c.status == statusReserved && c.reservation != nil && c.reservation.idTag == tag)
	}
	var c *connector
	if r.EVSEID != nil {
		if id := *r.EVSEID; id >= 1 && id < len(s.conns) && free(s.conns[id]) {
			c = s.conns[id]
		}
	} else {
		for _, k := range s.conns[1:] {
			if free(k) {
				c = k
				break
			}
		}
	}
	if c == nil || !s.accepted {
		return rejected
	}
	c.remote = true
	c.remoteStart = &remoteStart{id: r.RemoteStartID, idType: r.IDToken.Type}
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
			s.repower(ctx)
		}
	})
	return &requestStartResp2{Status: "Accepted"}
}

// resetLocked answers Reset: the whole station reboots (Immediate: its
// transactions end first with stoppedReason ImmediateReset; OnIdle: once
// they have ended), or one EVSE resets, which ends its transaction.
func (p ocpp2x) resetLocked(l *link, r *resetReq2) string {
	s := l.s
	if r.EVSEID != nil {
		id := *r.EVSEID
		if id < 1 || id >= len(s.conns) {
			return "Rejected"
		}
		c := s.conns[id]
		if c.tx != nil {
			if r.Type == "OnIdle" {
				return "Scheduled" // the EVSE resets unseen once the transaction ends
			}
			l.after(func(ctx context.Context) { s.stopTx(ctx, c, reasonImmediateReset, "", true) })
		}
		return "Accepted"
	}
	busy := slices.ContainsFunc(s.conns[1:], func(c *connector) bool { return c.tx != nil })
	if r.Type == "OnIdle" && busy {
		if !s.v2.resetScheduled {
			s.v2.resetScheduled = true
			s.addJob(l, time.Now(), func(ctx context.Context, s *Station) (time.Duration, bool) {
				s.mu.Lock()
				busy := slices.ContainsFunc(s.conns[1:], func(c *connector) bool { return c.tx != nil })
				s.mu.Unlock()
				if busy {
					return s.cfg.StepDelay, false
				}
				p.reboot(ctx, s)
				return 0, true
			})
		}
		return "Scheduled"
	}
	l.after(func(ctx context.Context) { p.reboot(ctx, s) })
	return "Accepted"
}

// reboot restarts the station for a Reset: its transactions end (the
// Ended events sent first), and it boots again with reason RemoteReset.
func (p ocpp2x) reboot(ctx context.Context, s *Station) {
	s.mu.Lock()
	s.v2.bootReason = "RemoteReset"
	s.v2.resetScheduled = false
	s.mu.Unlock()
	s.reboot(ctx, reasonImmediateReset, true, "ResetOrReboot")
}

// triggerLocked answers TriggerMessage and sends the requested message
// once the answer is out.
func (p ocpp2x) triggerLocked(l *link, r *triggerReq2) string {
	s := l.s
	var ids []int // the EVSEs concerned
	if e := r.EVSE; e != nil {
		if e.ID < 1 || e.ID >= len(s.conns) || e.ConnectorID != nil && *e.ConnectorID != 1 {
			return "Rejected"
		}
		ids = []int{e.ID}
	} else {
		for i := 1; i < len(s.conns); i++ {
			ids = append(ids, i)
		}
	}
	switch r.RequestedMessage {
	case "BootNotification":
		if s.accepted {
			return "Rejected" // only a station not yet accepted boots on request
		}
		s.v2.bootReason = "Triggered"
		s.bootAt = time.Time{}
		l.step() // the boot is due
	case "Heartbeat":
		l.after(func(ctx context.Context) { p.heartbeat(ctx, s) })
	case "StatusNotification":
		l.after(func(ctx context.Context) {
			for _, id := range ids {
				s.sendStatus(ctx, id)
			}
		})
	case "MeterValues":
		l.after(func(ctx context.Context) {
			for _, id := range ids {
				s.mu.Lock()
				c := s.conns[id]
				s.updateMeterLocked(c, time.Now())
				smp := s.sampleLocked(c, "Trigger")
				s.mu.Unlock()
				p.meterValues(ctx, s, id, nil, &smp, time.Time{})
			}
		})
	case "TransactionEvent":
		if !slices.ContainsFunc(ids, func(id int) bool { return s.conns[id].tx != nil }) {
			return "Rejected" // no transaction to tell about
		}
		l.after(func(ctx context.Context) {
			s.mu.Lock()
			for _, id := range ids {
				if c := s.conns[id]; c.tx != nil {
					s.updateMeterLocked(c, time.Now())
					smp := s.sampleLocked(c, "Trigger")
					s.enqueueLocked(&txMessage{kind: txEvent, tx: c.tx, trigger: "Trigger", smp: smp})
				}
			}
			s.mu.Unlock()
			s.flushNow(ctx)
		})
	case "FirmwareStatusNotification":
		st, rid := s.v2.fwStatus, s.v2.fwRequestID
		l.after(func(ctx context.Context) { p.progress(ctx, s, "FirmwareStatusNotification", st, rid) })
	case "LogStatusNotification":
		st, rid := s.v2.logStatus, s.v2.logRequestID
		l.after(func(ctx context.Context) { p.progress(ctx, s, "LogStatusNotification", st, rid) })
	default:
		return "NotImplemented"
	}
	return "Accepted"
}

// progress sends a FirmwareStatusNotification or LogStatusNotification;
// the request id goes with every status but Idle.
func (p ocpp2x) progress(ctx context.Context, s *Station, action, status string, requestID int) {
	req := progressReq2{Status: orDefault(status, "Idle")}
	if req.Status != "Idle" {
		req.RequestID = &requestID
	}
	p.send(ctx, s, action, &req, nil, time.Time{})
}

// firmwareJobLocked runs an UpdateFirmware from its retrieve time:
// download, (verify the signature,) install once no transaction runs,
// reboot, and report Installed after the new boot (reason FirmwareUpdate).
// A newer request cancels a running one.
func (p ocpp2x) firmwareJobLocked(l *link, r *updateFirmwareReq2) string {
	s := l.s
	fw := r.Firmware
	if fw.SigningCertificate != "" {
		if _, err := parseCerts(fw.SigningCertificate); err != nil {
			return "InvalidCertificate"
		}
	}
	status := "Accepted"
	if s.v2.fwJob {
		status = "AcceptedCanceled"
	}
	steps := []string{"Downloading", "Downloaded", "Installing", "InstallRebooting"}
	if fw.Signature != "" {
		steps = []string{"Downloading", "Downloaded", "SignatureVerified", "Installing", "InstallRebooting"}
	}
	s.v2.fwGen++
	gen, rid := s.v2.fwGen, r.RequestID
	s.v2.fwJob, s.v2.fwRequestID = true, rid
	send := func(ctx context.Context, st string) {
		s.mu.Lock()
		s.v2.fwStatus = st
		s.mu.Unlock()
		p.progress(ctx, s, "FirmwareStatusNotification", st, rid)
	}
	i := 0
	s.addJob(l, time.Now().Add(max(fw.RetrieveDateTime.Sub(s.cfg.Now()), 0)), func(ctx context.Context, s *Station) (time.Duration, bool) {
		s.mu.Lock()
		cancelled := s.v2.fwGen != gen
		busy := slices.ContainsFunc(s.conns[1:], func(c *connector) bool { return c.tx != nil })
		s.mu.Unlock()
		switch {
		case cancelled:
			return 0, true
		case i < len(steps) && steps[i] == "Installing" && busy:
			return s.cfg.StepDelay, false // installs wait for the transactions to end
		case i < len(steps):
			send(ctx, steps[i])
			i++
			return s.cfg.StepDelay, false
		}
		s.mu.Lock()
		s.firmware = newFirmwareVersion(fw.Location)
		s.v2.fwJob = false
		s.v2.bootReason = "FirmwareUpdate"
		s.afterBoot = append(s.afterBoot, func(ctx context.Context) { send(ctx, "Installed") })
		s.mu.Unlock()
		s.reboot(ctx, "Reboot", true, "FirmwareUpdated")
		return 0, true
	})
	return status
}

// logJobLocked runs a log upload: Uploading, then Uploaded.
func (p ocpp2x) logJobLocked(l *link, requestID int) {
	s := l.s
	s.v2.logGen++
	gen := s.v2.logGen
	s.v2.logJob, s.v2.logRequestID = true, requestID
	steps := []string{"Uploading", "Uploaded"}
	i := 0
	s.addJob(l, time.Now(), func(ctx context.Context, s *Station) (time.Duration, bool) {
		s.mu.Lock()
		if s.v2.logGen != gen {
			s.mu.Unlock()
			return 0, true
		}
		st := steps[i]
		s.v2.logStatus = st
		s.v2.logJob = i < len(steps)-1
		s.mu.Unlock()
		p.progress(ctx, s, "LogStatusNotification", st, requestID)
		i++
		return s.cfg.StepDelay, i == len(steps)
	})
}

// sendLocalList2Locked applies SendLocalList to the 2.x local list.
func (s *Station) sendLocalList2Locked(r *sendLocalListReq2) string {
	if !s.v16.boolKey(keyLocalAuthListEnabled) || len(r.LocalAuthorizationList) > s.v16.intKey(keySendLocalListMaxLength, 100) {
		return "Failed"
	}
	var list map[string]string
	if r.UpdateType == "Full" {
		list = make(map[string]string, len(r.LocalAuthorizationList))
	} else {
		if r.VersionNumber <= s.v2.localVersion {
			return "VersionMismatch"
		}
		list = make(map[string]string, len(s.v2.local)+len(r.LocalAuthorizationList))
		for k, v := range s.v2.local {
			list[k] = v
		}
	}
	for _, e := range r.LocalAuthorizationList {
		tag := strings.ToLower(e.IDToken.IDToken)
		if e.IDTokenInfo != nil {
			list[tag] = e.IDTokenInfo.Status
		} else {
			delete(list, tag)
		}
	}
	if len(list) > s.v16.intKey(keyLocalAuthListMaxLength, 1000) {
		return "Failed"
	}
	s.v2.local, s.v2.localVersion = list, r.VersionNumber
	return "Accepted"
}

// ---- smart charging ----

// purpose2 is a profile purpose's 2.x name (the station keeps 1.6's).
func purpose2(purpose string) string {
	if purpose == purposeMax {
		return "ChargingStationMaxProfile"
	}
	return purpose
}

// profileFrom2 converts a 2.x charging profile (its first schedule: the
// simulated EV takes AC power, for which one schedule is what counts) for
// EVSE evse; raw is kept to report it back as received.
func profileFrom2(cp *chargingProfile2, raw json.RawMessage, evse int, now time.Time) *chargingProfile {
	purpose := cp.ChargingProfilePurpose
	if purpose == "ChargingStationMaxProfile" {
		purpose = purposeMax
	}
	p := &chargingProfile{id: cp.ID, connector: evse, stackLevel: cp.StackLevel, purpose: purpose, kind: cp.ChargingProfileKind,
		recurrency: cp.RecurrencyKind, installed: now, raw: slices.Clone(raw)}
	if cp.ValidFrom != nil {
		t := cp.ValidFrom.Time
		p.validFrom = &t
	}
	if cp.ValidTo != nil {
		t := cp.ValidTo.Time
		p.validTo = &t
	}
	if len(cp.ChargingSchedule) == 0 {
		return p
	}
	sc := cp.ChargingSchedule[0]
	p.duration, p.unit, p.minRate = sc.Duration, sc.ChargingRateUnit, sc.MinChargingRate
	if sc.StartSchedule != nil {
		t := sc.StartSchedule.Time
		p.start = &t
	}
	for _, per := range sc.ChargingSchedulePeriod {
		limit := math.Inf(1) // 2.1: a period may give setpoints only, no limit
		if per.Limit != nil {
			limit = *per.Limit
		}
		p.periods = append(p.periods, schedulePeriod{start: per.StartPeriod, limit: limit, phases: per.NumberPhases})
	}
	slices.SortFunc(p.periods, func(a, b schedulePeriod) int { return a.start - b.start })
	return p
}

// setProfileLocked answers SetChargingProfile: the checks of 1.6's, with
// 2.x's names (a TxProfile names the running transaction of its EVSE).
func (p ocpp2x) setProfileLocked(l *link, r *setChargingProfileReq2) string {
	s := l.s
	var cp chargingProfile2
	if json.Unmarshal(r.ChargingProfile, &cp) != nil {
		return "Rejected"
	}
	id := r.EVSEID
	if id < 0 || id >= len(s.conns) || len(cp.ChargingSchedule) == 0 ||
		cp.StackLevel < 0 || cp.StackLevel > s.v16.intKey(keyChargeProfileMaxStackLevel, 10) ||
		len(cp.ChargingSchedule[0].ChargingSchedulePeriod) > s.v16.intKey(keyChargingScheduleMaxPeriods, 24) ||
		cp.ChargingProfileKind == "Recurring" && cp.RecurrencyKind == "" {
		return "Rejected"
	}
	prof := profileFrom2(&cp, r.ChargingProfile, id, s.cfg.Now())
	switch cp.ChargingProfilePurpose {
	case "ChargingStationMaxProfile":
		if id != 0 {
			return "Rejected"
		}
	case purposeTxDefault:
	case purposeTx:
		if id == 0 {
			return "Rejected"
		}
		tx := s.conns[id].tx
		if tx == nil || cp.TransactionID != tx.uid {
			return "Rejected"
		}
		prof.tx = tx
	default:
		return "Rejected" // external constraints are the station's own; 2.1's priority and local generation are not simulated
	}
	replaces := slices.ContainsFunc(s.profiles, func(q *chargingProfile) bool {
		return q.id == prof.id || q.connector == prof.connector && q.purpose == prof.purpose && q.stackLevel == prof.stackLevel
	})
	if !replaces && len(s.profiles) >= s.v16.intKey(keyMaxChargingProfilesInstalled, 20) {
		return "Rejected"
	}
	s.setProfileLocked(prof)
	l.after(s.repower)
	return "Accepted"
}

// reportProfilesLocked answers GetChargingProfiles and sends the matching
// profiles, one ReportChargingProfiles per EVSE, once the answer is out.
func (p ocpp2x) reportProfilesLocked(l *link, r *getChargingProfilesReq2) string {
	s := l.s
	crit := r.ChargingProfile
	if len(crit.ChargingLimitSource) > 0 && !slices.Contains(crit.ChargingLimitSource, "CSO") {
		return "NoProfiles" // every profile here came from the CSMS
	}
	byEVSE := map[int][]json.RawMessage{}
	var evses []int
	for _, q := range s.profiles {
		if q.raw == nil || r.EVSEID != nil && q.connector != *r.EVSEID ||
			crit.ChargingProfilePurpose != "" && purpose2(q.purpose) != crit.ChargingProfilePurpose ||
			crit.StackLevel != nil && q.stackLevel != *crit.StackLevel ||
			len(crit.ChargingProfileID) > 0 && !slices.Contains(crit.ChargingProfileID, q.id) {
			continue
		}
		if _, ok := byEVSE[q.connector]; !ok {
			evses = append(evses, q.connector)
		}
		byEVSE[q.connector] = append(byEVSE[q.connector], q.raw)
	}
	if len(evses) == 0 {
		return "NoProfiles"
	}
	slices.Sort(evses)
	l.after(func(ctx context.Context) {
		for i, e := range evses {
			req := reportChargingProfilesReq2{RequestID: r.RequestID, ChargingLimitSource: "CSO", ChargingProfile: byEVSE[e],
				EVSEID: e, Tbc: i < len(evses)-1}
			if p.send(ctx, s, "ReportChargingProfiles", &req, nil, time.Time{}) != nil {
				return
			}
		}
	})
	return "Accepted"
}
