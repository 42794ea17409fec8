package sim

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chargestar/chargestar/internal/ocpp"
	"github.com/chargestar/chargestar/internal/ocpp/v16"
)

// The simulated OCPP 2.x device model: a small set of components and
// variables, enough for a CSMS to configure the station and read its
// inventory. A variable that means what a 1.6 configuration key means
// (HeartbeatInterval, TxUpdatedInterval = MeterValueSampleInterval, ...)
// reads and writes that key, so the station logic reads one setting
// whatever the version; variables only 2.x has keep their value in
// Station.v2.vars.

// dmScope says which instances of a component there are.
type dmScope uint8

const (
	scopeStation   dmScope = iota // one; the component names no EVSE
	scopeEVSE                     // one per EVSE: evse {id}
	scopeConnector                // one per EVSE's connector: evse {id, connectorId: 1}
)

const (
	readOnly  = "ReadOnly"
	readWrite = "ReadWrite"
	writeOnly = "WriteOnly"
)

// dmVar is one variable of the device model.
type dmVar struct {
	component  string
	scope      dmScope
	name       string
	instance   string
	mutability string
	dataType   string // string, decimal, integer, boolean, dateTime, OptionList, MemberList, SequenceList
	unit       string
	values     string // valuesList
	// Where the value is: a 1.6 configuration key, a getter (and setter),
	// or else v2.vars with def as the default.
	key string
	get func(s *Station, evse int) string
	set func(s *Station, value string) string // returns a SetVariableStatus
	def string
}

const (
	availabilityStates = "Available,Occupied,Reserved,Unavailable,Faulted"
	measurands2        = "Energy.Active.Import.Register,Power.Active.Import,Power.Offered,Current.Import,Current.Offered,Voltage,SoC"
	reportItems        = 20 // reportData per NotifyReport (DeviceDataCtrlr.ItemsPerMessage[GetReport])
)

func constant(v string) func(*Station, int) string { return func(*Station, int) string { return v } }

// availabilityLocked is AvailabilityState of the station (evse 0) or an EVSE.
func (s *Station) availabilityLocked(evse int) string {
	if evse == 0 {
		if s.conns[0].inoperative {
			return statusUnavailable
		}
		return statusAvailable
	}
	return connectorStatus2(s.conns[evse].status)
}

var devModel = []dmVar{
	{component: "ChargingStation", name: "AvailabilityState", mutability: readOnly, dataType: "OptionList", values: availabilityStates,
		get: func(s *Station, evse int) string { return s.availabilityLocked(0) }},
	{component: "ChargingStation", name: "Available", mutability: readOnly, dataType: "boolean", get: constant("true")},
	{component: "ChargingStation", name: "SupplyPhases", mutability: readOnly, dataType: "integer",
		get: func(s *Station, _ int) string { return strconv.Itoa(s.cfg.Phases) }},
	{component: "EVSE", scope: scopeEVSE, name: "AvailabilityState", mutability: readOnly, dataType: "OptionList", values: availabilityStates,
		get: (*Station).availabilityLocked},
	{component: "EVSE", scope: scopeEVSE, name: "Available", mutability: readOnly, dataType: "boolean", get: constant("true")},
	{component: "EVSE", scope: scopeEVSE, name: "Power", mutability: readOnly, dataType: "decimal", unit: "W",
		get: func(s *Station, evse int) string {
			return strconv.FormatFloat(float64(int(s.conns[evse].meter.powerW)), 'f', -1, 64)
		}},
	{component: "EVSE", scope: scopeEVSE, name: "SupplyPhases", mutability: readOnly, dataType: "integer",
		get: func(s *Station, _ int) string { return strconv.Itoa(s.cfg.Phases) }},
	{component: "Connector", scope: scopeConnector, name: "AvailabilityState", mutability: readOnly, dataType: "OptionList", values: availabilityStates,
		get: (*Station).availabilityLocked},
	{component: "Connector", scope: scopeConnector, name: "Available", mutability: readOnly, dataType: "boolean", get: constant("true")},
	{component: "Connector", scope: scopeConnector, name: "ConnectorType", mutability: readOnly, dataType: "string", get: constant("cType2")},
	{component: "Connector", scope: scopeConnector, name: "SupplyPhases", mutability: readOnly, dataType: "integer",
		get: func(s *Station, _ int) string { return strconv.Itoa(s.cfg.Phases) }},

	{component: "OCPPCommCtrlr", name: "HeartbeatInterval", mutability: readWrite, dataType: "integer", unit: "s", key: keyHeartbeatInterval},
	{component: "OCPPCommCtrlr", name: "MessageAttempts", instance: "TransactionEvent", mutability: readWrite, dataType: "integer", key: keyTransactionMessageAttempts},
	{component: "OCPPCommCtrlr", name: "MessageAttemptInterval", instance: "TransactionEvent", mutability: readWrite, dataType: "integer", unit: "s", key: keyTransactionMessageRetryInterval},
	{component: "OCPPCommCtrlr", name: "MessageTimeout", instance: "Default", mutability: readOnly, dataType: "integer", unit: "s",
		get: func(s *Station, _ int) string { return strconv.Itoa(int(s.cfg.CallTimeout / time.Second)) }},
	{component: "OCPPCommCtrlr", name: "ResetRetries", mutability: readWrite, dataType: "integer", key: "ResetRetries"},
	{component: "OCPPCommCtrlr", name: "WebSocketPingInterval", mutability: readWrite, dataType: "integer", unit: "s", key: "WebSocketPingInterval"},

	{component: "SampledDataCtrlr", name: "Enabled", mutability: readOnly, dataType: "boolean", get: constant("true")},
	{component: "SampledDataCtrlr", name: "TxUpdatedInterval", mutability: readWrite, dataType: "integer", unit: "s", key: keyMeterValueSampleInterval},
	{component: "SampledDataCtrlr", name: "TxUpdatedMeasurands", mutability: readWrite, dataType: "MemberList", values: measurands2, key: keyMeterValuesSampledData},
	{component: "SampledDataCtrlr", name: "TxEndedMeasurands", mutability: readWrite, dataType: "MemberList", values: measurands2, key: keyStopTxnSampledData},
	{component: "SampledDataCtrlr", name: "TxStartedMeasurands", mutability: readWrite, dataType: "MemberList", values: measurands2,
		get: func(s *Station, _ int) string {
			ms := s.v2.startedMeasurands
			if ms == nil {
				ms = defaultStarted
			}
			return joinMeasurands(ms)
		},
		set: func(s *Station, v string) string {
			ms, ok := parseMeasurands2(v)
			if !ok {
				return "Rejected"
			}
			s.v2.startedMeasurands = ms
			return "Accepted"
		}},
	{component: "AlignedDataCtrlr", name: "Interval", mutability: readWrite, dataType: "integer", unit: "s", key: "ClockAlignedDataInterval"},
	{component: "AlignedDataCtrlr", name: "Measurands", mutability: readWrite, dataType: "MemberList", values: measurands2, key: "MeterValuesAlignedData"},

	{component: "AuthCtrlr", name: "Enabled", mutability: readOnly, dataType: "boolean", get: constant("true")},
	{component: "AuthCtrlr", name: "AuthorizeRemoteStart", mutability: readWrite, dataType: "boolean", key: keyAuthorizeRemoteTxRequests},
	{component: "AuthCtrlr", name: "LocalAuthorizeOffline", mutability: readWrite, dataType: "boolean", key: keyLocalAuthorizeOffline},
	{component: "AuthCtrlr", name: "LocalPreAuthorize", mutability: readWrite, dataType: "boolean", key: "LocalPreAuthorize"},
	{component: "AuthCtrlr", name: "OfflineTxForUnknownIdEnabled", mutability: readWrite, dataType: "boolean", key: "AllowOfflineTxForUnknownId"},
	{component: "AuthCacheCtrlr", name: "Enabled", mutability: readWrite, dataType: "boolean", key: "AuthorizationCacheEnabled"},
	{component: "LocalAuthListCtrlr", name: "Enabled", mutability: readWrite, dataType: "boolean", key: keyLocalAuthListEnabled},
	{component: "LocalAuthListCtrlr", name: "Entries", mutability: readOnly, dataType: "integer",
		get: func(s *Station, _ int) string { return strconv.Itoa(len(s.v2.local)) }},
	{component: "LocalAuthListCtrlr", name: "ItemsPerMessage", mutability: readOnly, dataType: "integer", key: keySendLocalListMaxLength},
	{component: "LocalAuthListCtrlr", name: "BytesPerMessage", mutability: readOnly, dataType: "integer", get: constant("65536")},

	{component: "ReservationCtrlr", name: "Enabled", mutability: readOnly, dataType: "boolean", get: constant("true")},
	{component: "ReservationCtrlr", name: "NonEvseSpecific", mutability: readOnly, dataType: "boolean", get: constant("false")},
	{component: "SmartChargingCtrlr", name: "Enabled", mutability: readOnly, dataType: "boolean", get: constant("true")},
	{component: "SmartChargingCtrlr", name: "Entries", instance: "ChargingProfiles", mutability: readOnly, dataType: "integer",
		get: func(s *Station, _ int) string { return strconv.Itoa(len(s.profiles)) }},
	{component: "SmartChargingCtrlr", name: "LimitChangeSignificance", mutability: readWrite, dataType: "decimal", def: "0.1"},
	{component: "SmartChargingCtrlr", name: "PeriodsPerSchedule", mutability: readOnly, dataType: "integer", key: keyChargingScheduleMaxPeriods},
	{component: "SmartChargingCtrlr", name: "ProfileStackLevel", mutability: readOnly, dataType: "integer", key: keyChargeProfileMaxStackLevel},
	{component: "SmartChargingCtrlr", name: "RateUnit", mutability: readOnly, dataType: "MemberList", values: "A,W", get: constant("A,W")},

	{component: "SecurityCtrlr", name: "BasicAuthPassword", mutability: writeOnly, dataType: "string",
		set: func(s *Station, v string) string { return setStatus2(s.changeKeyLocked(keyAuthorizationKey, v)) }},
	{component: "SecurityCtrlr", name: "Identity", mutability: readOnly, dataType: "string", get: func(s *Station, _ int) string { return s.id }},
	{component: "SecurityCtrlr", name: "OrganizationName", mutability: readWrite, dataType: "string", key: "CpoName"},
	{component: "SecurityCtrlr", name: "SecurityProfile", mutability: readOnly, dataType: "integer", key: keySecurityProfile},

	{component: "TxCtrlr", name: "EVConnectionTimeOut", mutability: readWrite, dataType: "integer", unit: "s", key: "ConnectionTimeOut"},
	{component: "TxCtrlr", name: "StopTxOnEVSideDisconnect", mutability: readOnly, dataType: "boolean", get: constant("true")},
	{component: "TxCtrlr", name: "StopTxOnInvalidId", mutability: readWrite, dataType: "boolean", key: "StopTransactionOnInvalidId"},
	// A transaction starts once the cable is in and the driver authorised,
	// and ends when either is undone: the power path's life.
	{component: "TxCtrlr", name: "TxStartPoint", mutability: readOnly, dataType: "MemberList", values: "PowerPathClosed", get: constant("PowerPathClosed")},
	{component: "TxCtrlr", name: "TxStopPoint", mutability: readOnly, dataType: "MemberList", values: "PowerPathClosed", get: constant("PowerPathClosed")},

	{component: "DeviceDataCtrlr", name: "ItemsPerMessage", instance: "GetReport", mutability: readOnly, dataType: "integer", get: constant(strconv.Itoa(reportItems))},
	{component: "DeviceDataCtrlr", name: "ItemsPerMessage", instance: "GetVariables", mutability: readOnly, dataType: "integer", get: constant("100")},
	{component: "DeviceDataCtrlr", name: "ItemsPerMessage", instance: "SetVariables", mutability: readOnly, dataType: "integer", get: constant("100")},
	{component: "ClockCtrlr", name: "DateTime", mutability: readOnly, dataType: "dateTime",
		get: func(s *Station, _ int) string { return ocpp.NewDateTime(s.cfg.Now()).String() }},
	{component: "ClockCtrlr", name: "TimeSource", mutability: readWrite, dataType: "SequenceList", values: "Heartbeat,NTP,GPS,RealTimeClock", def: "Heartbeat"},
	{component: "TariffCostCtrlr", name: "Enabled", instance: "Tariff", mutability: readOnly, dataType: "boolean", get: constant("true")},
	{component: "TariffCostCtrlr", name: "Enabled", instance: "Cost", mutability: readOnly, dataType: "boolean", get: constant("true")},
	{component: "TariffCostCtrlr", name: "Currency", mutability: readWrite, dataType: "string", def: "EUR"},
}

// setStatus2 maps a 1.6 ChangeConfiguration outcome onto SetVariableStatus.
func setStatus2(st v16.ConfigurationStatus) string {
	switch st {
	case v16.ConfigurationStatusAccepted, v16.ConfigurationStatusRebootRequired:
		return string(st)
	}
	return "Rejected"
}

// parseMeasurands2 parses a measurand list for 2.x, which has no Temperature.
func parseMeasurands2(v string) ([]v16.Measurand, bool) {
	ms, ok := parseMeasurands(v)
	for _, m := range ms {
		ok = ok && m != v16.MeasurandTemperature
	}
	return ms, ok
}

func joinMeasurands(ms []v16.Measurand) string {
	var b strings.Builder
	for i, m := range ms {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(string(m))
	}
	return b.String()
}

func (v *dmVar) id() string { return v.component + "/" + v.name + "/" + v.instance }

// valueLocked reads a variable of the station (evse: its instance).
func (v *dmVar) valueLocked(s *Station, evse int) string {
	switch {
	case v.get != nil:
		return v.get(s, evse)
	case v.key != "":
		k, _ := lookupKey(v.key)
		return s.keyValueLocked(k)
	}
	if val, ok := s.v2.vars[v.id()]; ok {
		return val
	}
	return v.def
}

// setLocked writes a variable and returns the SetVariableStatus.
func (v *dmVar) setLocked(s *Station, value string) string {
	switch {
	case v.mutability == readOnly:
		return "Rejected"
	case v.set != nil:
		return v.set(s, value)
	case v.key != "":
		if v.dataType == "MemberList" {
			if _, ok := parseMeasurands2(value); !ok {
				return "Rejected"
			}
		}
		return setStatus2(s.changeKeyLocked(v.key, value))
	}
	switch v.dataType {
	case "decimal":
		if _, err := strconv.ParseFloat(value, 64); err != nil {
			return "Rejected"
		}
	case "SequenceList", "OptionList":
		for _, item := range strings.Split(value, ",") {
			if !strings.Contains(","+v.values+",", ","+item+",") {
				return "Rejected"
			}
		}
	}
	if s.v2.vars == nil {
		s.v2.vars = map[string]string{}
	}
	s.v2.vars[v.id()] = value
	return "Accepted"
}

// lookupVarLocked finds the variable a component and variable name, and
// the EVSE of the component's instance; when there is none, status is
// the GetVariableStatus / SetVariableStatus saying what is unknown.
func (s *Station) lookupVarLocked(c component2, vr variable2) (v *dmVar, evse int, status string) {
	status = "UnknownComponent"
	for i := range devModel {
		d := &devModel[i]
		// Names are matched case-insensitively, as CSMSs vary; no component
		// of ours has instances.
		if !strings.EqualFold(d.component, c.Name) || c.Instance != "" {
			continue
		}
		evse, ok := s.componentEVSELocked(d.scope, c.EVSE)
		if !ok {
			continue
		}
		status = "UnknownVariable"
		if strings.EqualFold(d.name, vr.Name) && strings.EqualFold(d.instance, vr.Instance) {
			return d, evse, ""
		}
	}
	return nil, 0, status
}

// componentEVSELocked checks a component's evse against a scope and
// returns the EVSE id (0 for the station).
func (s *Station) componentEVSELocked(scope dmScope, e *evse2) (int, bool) {
	switch scope {
	case scopeStation:
		return 0, e == nil
	case scopeEVSE:
		return e.orZero(), e != nil && e.ID >= 1 && e.ID < len(s.conns) && e.ConnectorID == nil
	}
	return e.orZero(), e != nil && e.ID >= 1 && e.ID < len(s.conns) && (e.ConnectorID == nil || *e.ConnectorID == 1)
}

func (e *evse2) orZero() int {
	if e == nil {
		return 0
	}
	return e.ID
}

func (s *Station) getVariablesLocked(r *getVariablesReq2) *getVariablesResp2 {
	resp := &getVariablesResp2{}
	for _, d := range r.GetVariableData {
		res := getVariableResult2{AttributeType: d.AttributeType, Component: d.Component, Variable: d.Variable}
		v, evse, status := s.lookupVarLocked(d.Component, d.Variable)
		switch {
		case v == nil:
			res.AttributeStatus = status
		case d.AttributeType != "" && d.AttributeType != "Actual":
			res.AttributeStatus = "NotSupportedAttributeType"
		case v.mutability == writeOnly:
			res.AttributeStatus = "Rejected"
		default:
			res.AttributeStatus, res.AttributeValue = "Accepted", v.valueLocked(s, evse)
		}
		resp.GetVariableResult = append(resp.GetVariableResult, res)
	}
	return resp
}

func (s *Station) setVariablesLocked(r *setVariablesReq2) *setVariablesResp2 {
	resp := &setVariablesResp2{}
	for _, d := range r.SetVariableData {
		res := setVariableResult2{AttributeType: d.AttributeType, Component: d.Component, Variable: d.Variable}
		v, _, status := s.lookupVarLocked(d.Component, d.Variable)
		switch {
		case v == nil:
			res.AttributeStatus = status
		case d.AttributeType != "" && d.AttributeType != "Actual":
			res.AttributeStatus = "NotSupportedAttributeType"
		default:
			res.AttributeStatus = v.setLocked(s, d.AttributeValue)
		}
		resp.SetVariableResult = append(resp.SetVariableResult, res)
	}
	return resp
}

// reportDataLocked collects the report entries of every instance of the
// variables keep selects.
func (s *Station) reportDataLocked(keep func(v *dmVar, c component2) bool) []reportData2 {
	var out []reportData2
	one := 1
	for i := range devModel {
		v := &devModel[i]
		comps := []component2{{Name: v.component}}
		if v.scope != scopeStation {
			comps = comps[:0]
			for e := 1; e < len(s.conns); e++ {
				ev := &evse2{ID: e}
				if v.scope == scopeConnector {
					ev.ConnectorID = &one
				}
				comps = append(comps, component2{Name: v.component, EVSE: ev})
			}
		}
		for _, c := range comps {
			if !keep(v, c) {
				continue
			}
			attr := variableAttribute2{Type: "Actual", Mutability: v.mutability, Persistent: v.mutability != readOnly}
			if v.mutability != writeOnly {
				attr.Value = v.valueLocked(s, c.EVSE.orZero())
			}
			out = append(out, reportData2{Component: c, Variable: variable2{Name: v.name, Instance: v.instance},
				VariableAttribute:       []variableAttribute2{attr},
				VariableCharacteristics: &variableCharacteris2{Unit: v.unit, DataType: v.dataType, ValuesList: v.values}})
		}
	}
	return out
}

// baseReportLocked is the content of GetBaseReport: everything
// (FullInventory), what can be set (ConfigurationInventory), or the
// availability of the station and its EVSEs (SummaryInventory).
func (s *Station) baseReportLocked(base string) []reportData2 {
	return s.reportDataLocked(func(v *dmVar, _ component2) bool {
		switch base {
		case "ConfigurationInventory":
			return v.mutability != readOnly
		case "SummaryInventory":
			return v.name == "AvailabilityState"
		}
		return true
	})
}

// customReportLocked is the content of GetReport: the variables named,
// of the components meeting the criteria (all of ours are active,
// available and enabled, none has a problem).
func (s *Station) customReportLocked(r *getReportReq2) []reportData2 {
	if len(r.ComponentCriteria) > 0 && !slices.ContainsFunc(r.ComponentCriteria, func(c string) bool { return c != "Problem" }) {
		return nil
	}
	return s.reportDataLocked(func(v *dmVar, c component2) bool {
		if len(r.ComponentVariable) == 0 {
			return true
		}
		for _, cv := range r.ComponentVariable {
			if !strings.EqualFold(cv.Component.Name, c.Name) || cv.Component.Instance != "" {
				continue
			}
			if e := cv.Component.EVSE; e != nil && (c.EVSE == nil || e.ID != c.EVSE.ID ||
				e.ConnectorID != nil && (c.EVSE.ConnectorID == nil || *e.ConnectorID != *c.EVSE.ConnectorID)) {
				continue
			}
			if cv.Variable == nil || strings.EqualFold(cv.Variable.Name, v.name) &&
				(cv.Variable.Instance == "" || strings.EqualFold(cv.Variable.Instance, v.instance)) {
				return true
			}
		}
		return false
	})
}

// reportLocked answers GetBaseReport / GetReport: Accepted, then the
// entries in NotifyReport messages of reportItems each, numbered by seqNo
// from 0, all but the last with tbc; EmptyResultSet when nothing matched.
func (p ocpp2x) reportLocked(l *link, requestID int, data []reportData2) string {
	if len(data) == 0 {
		return "EmptyResultSet"
	}
	s := l.s
	at := ocpp.NewDateTime(s.cfg.Now())
	l.after(func(ctx context.Context) {
		for seq := 0; seq*reportItems < len(data); seq++ {
			chunk := data[seq*reportItems : min(len(data), (seq+1)*reportItems)]
			req := notifyReportReq2{RequestID: requestID, GeneratedAt: at, ReportData: chunk, SeqNo: seq,
				Tbc: (seq+1)*reportItems < len(data)}
			if p.send(ctx, s, "NotifyReport", &req, nil, time.Time{}) != nil {
				return
			}
		}
	})
	return "Accepted"
}
