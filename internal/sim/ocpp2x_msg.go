package sim

import (
	"encoding/json"
	"github.com/chargestar/chargestar/internal/ocpp/jsonx"
	"strconv"

	"github.com/chargestar/chargestar/internal/ocpp"
)

// The OCPP 2.x payloads the simulator sends and reads, written once for
// 2.0.1 and 2.1: the two versions spell these messages alike (2.1 adds
// optional fields), but the generated types live in two packages. These
// shapes are encoded with encoding/json and every payload is then checked
// against the negotiated version's schema (ocpp2x.send, ocpp2x.answer),
// so a field one version lacks cannot slip through. Incoming payloads are
// validated by the version's decoder first and only then read into these.
// Only the fields the simulator uses are here; reading ignores the rest.

type idToken2 struct {
	IDToken string `json:"idToken"`
	Type    string `json:"type"`
}

type idTokenInfo2 struct {
	Status string `json:"status"`
}

type evse2 struct {
	ID          int  `json:"id"`
	ConnectorID *int `json:"connectorId,omitempty"`
}

type statusInfo2 struct {
	ReasonCode     string `json:"reasonCode"`
	AdditionalInfo string `json:"additionalInfo,omitempty"`
}

// statusResp2 is the answer of most commands: a status and why.
type statusResp2 struct {
	Status     string       `json:"status"`
	StatusInfo *statusInfo2 `json:"statusInfo,omitempty"`
}

// ---- the station's messages ----

type chargingStation2 struct {
	SerialNumber    string `json:"serialNumber,omitempty"`
	Model           string `json:"model"`
	VendorName      string `json:"vendorName"`
	FirmwareVersion string `json:"firmwareVersion,omitempty"`
}

type bootReq2 struct {
	ChargingStation chargingStation2 `json:"chargingStation"`
	Reason          string           `json:"reason"`
}

type bootResp2 struct {
	Status   string `json:"status"`
	Interval int    `json:"interval"`
}

type statusNotificationReq2 struct {
	Timestamp       ocpp.DateTime `json:"timestamp"`
	ConnectorStatus string        `json:"connectorStatus"`
	EVSEID          int           `json:"evseId"`
	ConnectorID     int           `json:"connectorId"`
}

type authorizeReq2 struct {
	IDToken idToken2 `json:"idToken"`
}

type authorizeResp2 struct {
	IDTokenInfo idTokenInfo2 `json:"idTokenInfo"`
}

type unitOfMeasure2 struct {
	Unit string `json:"unit,omitempty"`
}

type sampledValue2 struct {
	Value         float64         `json:"value"`
	Context       string          `json:"context,omitempty"`
	Measurand     string          `json:"measurand,omitempty"`
	Phase         string          `json:"phase,omitempty"`
	Location      string          `json:"location,omitempty"`
	UnitOfMeasure *unitOfMeasure2 `json:"unitOfMeasure,omitempty"`
}

type meterValue2 struct {
	Timestamp    ocpp.DateTime   `json:"timestamp"`
	SampledValue []sampledValue2 `json:"sampledValue"`
}

// txLimit2 is 2.1's TransactionLimitType.
type txLimit2 struct {
	MaxCost   *float64 `json:"maxCost,omitempty"`
	MaxEnergy *float64 `json:"maxEnergy,omitempty"`
	MaxTime   *int     `json:"maxTime,omitempty"`
	MaxSoC    *int     `json:"maxSoC,omitempty"`
}

type txInfo2 struct {
	TransactionID    string    `json:"transactionId"`
	ChargingState    string    `json:"chargingState,omitempty"`
	StoppedReason    string    `json:"stoppedReason,omitempty"`
	RemoteStartID    *int      `json:"remoteStartId,omitempty"`
	TariffID         string    `json:"tariffId,omitempty"`         // 2.1
	TransactionLimit *txLimit2 `json:"transactionLimit,omitempty"` // 2.1
}

type txEventReq2 struct {
	EventType          string        `json:"eventType"`
	Timestamp          ocpp.DateTime `json:"timestamp"`
	TriggerReason      string        `json:"triggerReason"`
	SeqNo              int           `json:"seqNo"`
	Offline            bool          `json:"offline,omitempty"`
	NumberOfPhasesUsed *int          `json:"numberOfPhasesUsed,omitempty"`
	ReservationID      *int          `json:"reservationId,omitempty"`
	TransactionInfo    txInfo2       `json:"transactionInfo"`
	EVSE               *evse2        `json:"evse,omitempty"`
	IDToken            *idToken2     `json:"idToken,omitempty"`
	MeterValue         []meterValue2 `json:"meterValue,omitempty"`
}

type txEventResp2 struct {
	TotalCost        *float64      `json:"totalCost,omitempty"`
	IDTokenInfo      *idTokenInfo2 `json:"idTokenInfo,omitempty"`
	TransactionLimit *txLimit2     `json:"transactionLimit,omitempty"` // 2.1
}

type meterValuesReq2 struct {
	EVSEID     int           `json:"evseId"`
	MeterValue []meterValue2 `json:"meterValue"`
}

type securityEventReq2 struct {
	Type      string        `json:"type"`
	Timestamp ocpp.DateTime `json:"timestamp"`
	TechInfo  string        `json:"techInfo,omitempty"`
}

type reservationStatusReq2 struct {
	ReservationID           int    `json:"reservationId"`
	ReservationUpdateStatus string `json:"reservationUpdateStatus"`
}

// progressReq2 is FirmwareStatusNotification and LogStatusNotification.
type progressReq2 struct {
	Status    string `json:"status"`
	RequestID *int   `json:"requestId,omitempty"`
}

type notifyReportReq2 struct {
	RequestID   int           `json:"requestId"`
	GeneratedAt ocpp.DateTime `json:"generatedAt"`
	ReportData  []reportData2 `json:"reportData,omitempty"`
	Tbc         bool          `json:"tbc,omitempty"`
	SeqNo       int           `json:"seqNo"`
}

type reportChargingProfilesReq2 struct {
	RequestID           int               `json:"requestId"`
	ChargingLimitSource string            `json:"chargingLimitSource"`
	ChargingProfile     []json.RawMessage `json:"chargingProfile"`
	Tbc                 bool              `json:"tbc,omitempty"`
	EVSEID              int               `json:"evseId"`
}

// ---- the CSMS's commands ----

type requestStartReq2 struct {
	EVSEID          *int            `json:"evseId,omitempty"`
	IDToken         idToken2        `json:"idToken"`
	RemoteStartID   int             `json:"remoteStartId"`
	ChargingProfile json.RawMessage `json:"chargingProfile,omitempty"`
}

type requestStartResp2 struct {
	Status        string `json:"status"`
	TransactionID string `json:"transactionId,omitempty"`
}

type transactionIDReq2 struct {
	TransactionID string `json:"transactionId"`
}

type resetReq2 struct {
	Type   string `json:"type"`
	EVSEID *int   `json:"evseId,omitempty"`
}

type unlockReq2 struct {
	EVSEID      int `json:"evseId"`
	ConnectorID int `json:"connectorId"`
}

type changeAvailabilityReq2 struct {
	EVSE              *evse2 `json:"evse,omitempty"`
	OperationalStatus string `json:"operationalStatus"`
}

type triggerReq2 struct {
	EVSE             *evse2 `json:"evse,omitempty"`
	RequestedMessage string `json:"requestedMessage"`
}

type component2 struct {
	Name     string `json:"name"`
	Instance string `json:"instance,omitempty"`
	EVSE     *evse2 `json:"evse,omitempty"`
}

type variable2 struct {
	Name     string `json:"name"`
	Instance string `json:"instance,omitempty"`
}

type getVariablesReq2 struct {
	GetVariableData []struct {
		AttributeType string     `json:"attributeType,omitempty"`
		Component     component2 `json:"component"`
		Variable      variable2  `json:"variable"`
	} `json:"getVariableData"`
}

type getVariableResult2 struct {
	AttributeStatus string     `json:"attributeStatus"`
	AttributeType   string     `json:"attributeType,omitempty"`
	AttributeValue  string     `json:"attributeValue,omitempty"`
	Component       component2 `json:"component"`
	Variable        variable2  `json:"variable"`
}

type getVariablesResp2 struct {
	GetVariableResult []getVariableResult2 `json:"getVariableResult"`
}

type setVariablesReq2 struct {
	SetVariableData []struct {
		AttributeType  string     `json:"attributeType,omitempty"`
		AttributeValue string     `json:"attributeValue"`
		Component      component2 `json:"component"`
		Variable       variable2  `json:"variable"`
	} `json:"setVariableData"`
}

type setVariableResult2 struct {
	AttributeType   string     `json:"attributeType,omitempty"`
	AttributeStatus string     `json:"attributeStatus"`
	Component       component2 `json:"component"`
	Variable        variable2  `json:"variable"`
}

type setVariablesResp2 struct {
	SetVariableResult []setVariableResult2 `json:"setVariableResult"`
}

type getBaseReportReq2 struct {
	RequestID  int    `json:"requestId"`
	ReportBase string `json:"reportBase"`
}

type getReportReq2 struct {
	RequestID         int `json:"requestId"`
	ComponentVariable []struct {
		Component component2 `json:"component"`
		Variable  *variable2 `json:"variable,omitempty"`
	} `json:"componentVariable,omitempty"`
	ComponentCriteria []string `json:"componentCriteria,omitempty"`
}

type reportData2 struct {
	Component               component2            `json:"component"`
	Variable                variable2             `json:"variable"`
	VariableAttribute       []variableAttribute2  `json:"variableAttribute"`
	VariableCharacteristics *variableCharacteris2 `json:"variableCharacteristics,omitempty"`
}

type variableAttribute2 struct {
	Type       string `json:"type,omitempty"`
	Value      string `json:"value,omitempty"`
	Mutability string `json:"mutability,omitempty"`
	Persistent bool   `json:"persistent,omitempty"`
	Constant   bool   `json:"constant,omitempty"`
}

type variableCharacteris2 struct {
	Unit               string `json:"unit,omitempty"`
	DataType           string `json:"dataType"`
	ValuesList         string `json:"valuesList,omitempty"`
	SupportsMonitoring bool   `json:"supportsMonitoring"`
}

type dataTransferReq2 struct {
	VendorID  string          `json:"vendorId"`
	MessageID string          `json:"messageId,omitempty"`
	Data      json.RawMessage `json:"data,omitempty"`
}

type dataTransferResp2 struct {
	Status string          `json:"status"`
	Data   json.RawMessage `json:"data,omitempty"`
}

type updateFirmwareReq2 struct {
	RequestID int `json:"requestId"`
	Firmware  struct {
		Location           string        `json:"location"`
		RetrieveDateTime   ocpp.DateTime `json:"retrieveDateTime"`
		SigningCertificate string        `json:"signingCertificate,omitempty"`
		Signature          string        `json:"signature,omitempty"`
	} `json:"firmware"`
}

type getLogReq2 struct {
	LogType   string `json:"logType"`
	RequestID int    `json:"requestId"`
}

type getLogResp2 struct {
	Status   string `json:"status"`
	Filename string `json:"filename,omitempty"`
}

type sendLocalListReq2 struct {
	VersionNumber          int    `json:"versionNumber"`
	UpdateType             string `json:"updateType"`
	LocalAuthorizationList []struct {
		IDToken     idToken2      `json:"idToken"`
		IDTokenInfo *idTokenInfo2 `json:"idTokenInfo,omitempty"`
	} `json:"localAuthorizationList,omitempty"`
}

type localListVersionResp2 struct {
	VersionNumber int `json:"versionNumber"`
}

type reserveNowReq2 struct {
	ID             int           `json:"id"`
	ExpiryDateTime ocpp.DateTime `json:"expiryDateTime"`
	IDToken        idToken2      `json:"idToken"`
	EVSEID         *int          `json:"evseId,omitempty"`
	GroupIDToken   *idToken2     `json:"groupIdToken,omitempty"`
}

type cancelReservationReq2 struct {
	ReservationID int `json:"reservationId"`
}

type chargingProfile2 struct {
	ID                     int                 `json:"id"`
	StackLevel             int                 `json:"stackLevel"`
	ChargingProfilePurpose string              `json:"chargingProfilePurpose"`
	ChargingProfileKind    string              `json:"chargingProfileKind"`
	RecurrencyKind         string              `json:"recurrencyKind,omitempty"`
	ValidFrom              *ocpp.DateTime      `json:"validFrom,omitempty"`
	ValidTo                *ocpp.DateTime      `json:"validTo,omitempty"`
	TransactionID          string              `json:"transactionId,omitempty"`
	ChargingSchedule       []chargingSchedule2 `json:"chargingSchedule"`
}

type chargingSchedule2 struct {
	StartSchedule          *ocpp.DateTime    `json:"startSchedule,omitempty"`
	Duration               *int              `json:"duration,omitempty"`
	ChargingRateUnit       string            `json:"chargingRateUnit"`
	ChargingSchedulePeriod []schedulePeriod2 `json:"chargingSchedulePeriod"`
	MinChargingRate        *float64          `json:"minChargingRate,omitempty"`
}

// schedulePeriod2: limit is required in 2.0.1 and optional in 2.1 (which
// may give setpoints instead).
type schedulePeriod2 struct {
	StartPeriod  int      `json:"startPeriod"`
	Limit        *float64 `json:"limit,omitempty"`
	NumberPhases *int     `json:"numberPhases,omitempty"`
}

type setChargingProfileReq2 struct {
	EVSEID          int             `json:"evseId"`
	ChargingProfile json.RawMessage `json:"chargingProfile"`
}

type clearChargingProfileReq2 struct {
	ChargingProfileID       *int `json:"chargingProfileId,omitempty"`
	ChargingProfileCriteria *struct {
		EVSEID                 *int   `json:"evseId,omitempty"`
		ChargingProfilePurpose string `json:"chargingProfilePurpose,omitempty"`
		StackLevel             *int   `json:"stackLevel,omitempty"`
	} `json:"chargingProfileCriteria,omitempty"`
}

type getChargingProfilesReq2 struct {
	RequestID       int  `json:"requestId"`
	EVSEID          *int `json:"evseId,omitempty"`
	ChargingProfile struct {
		ChargingProfilePurpose string   `json:"chargingProfilePurpose,omitempty"`
		StackLevel             *int     `json:"stackLevel,omitempty"`
		ChargingProfileID      []int    `json:"chargingProfileId,omitempty"`
		ChargingLimitSource    []string `json:"chargingLimitSource,omitempty"`
	} `json:"chargingProfile"`
}

type getCompositeScheduleReq2 struct {
	Duration         int    `json:"duration"`
	ChargingRateUnit string `json:"chargingRateUnit,omitempty"`
	EVSEID           int    `json:"evseId"`
}

type compositeSchedule2 struct {
	EVSEID                 int               `json:"evseId"`
	Duration               int               `json:"duration"`
	ScheduleStart          ocpp.DateTime     `json:"scheduleStart"`
	ChargingRateUnit       string            `json:"chargingRateUnit"`
	ChargingSchedulePeriod []schedulePeriod2 `json:"chargingSchedulePeriod"`
}

type getCompositeScheduleResp2 struct {
	Status   string              `json:"status"`
	Schedule *compositeSchedule2 `json:"schedule,omitempty"`
}

type costUpdatedReq2 struct {
	TotalCost     float64 `json:"totalCost"`
	TransactionID string  `json:"transactionId"`
}

type tariffReq2 struct {
	EVSEID        int    `json:"evseId"`        // SetDefaultTariff
	TransactionID string `json:"transactionId"` // ChangeTransactionTariff
	Tariff        struct {
		TariffID string `json:"tariffId"`
	} `json:"tariff"`
}

// appendPeriodicTxEvent encodes the TransactionEvent Updated a station
// sends for each periodic reading, the bulk of a 2.x station's traffic,
// without reflection: in load modes the simulator shares the machine with
// the server it measures, and encoding/json costs it several times what
// the 1.6 generated encoder does. The output is what json.Marshal makes of
// the same txEventReq2 (checked by TestPeriodicTxEventEncoding).
func appendPeriodicTxEvent(b []byte, req *txEventReq2) []byte {
	b = append(b, `{"eventType":"Updated","timestamp":`...)
	b = append(b, '"')
	b = req.Timestamp.AppendFormat(b)
	b = append(b, `","triggerReason":`...)
	b = jsonx.AppendString(b, req.TriggerReason)
	b = append(b, `,"seqNo":`...)
	b = strconv.AppendInt(b, int64(req.SeqNo), 10)
	b = append(b, `,"transactionInfo":{"transactionId":`...)
	b = jsonx.AppendString(b, req.TransactionInfo.TransactionID)
	b = append(b, '}')
	if len(req.MeterValue) > 0 {
		b = append(b, `,"meterValue":[`...)
		for i, mv := range req.MeterValue {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"timestamp":"`...)
			b = mv.Timestamp.AppendFormat(b)
			b = append(b, `","sampledValue":[`...)
			for j, sv := range mv.SampledValue {
				if j > 0 {
					b = append(b, ',')
				}
				b = append(b, `{"value":`...)
				b = strconv.AppendFloat(b, sv.Value, 'f', -1, 64)
				for _, f := range [...]struct{ k, v string }{{`,"context":`, sv.Context}, {`,"measurand":`, sv.Measurand},
					{`,"phase":`, sv.Phase}, {`,"location":`, sv.Location}} {
					if f.v != "" {
						b = append(b, f.k...)
						b = jsonx.AppendString(b, f.v)
					}
				}
				if sv.UnitOfMeasure != nil {
					b = append(b, `,"unitOfMeasure":{`...)
					if sv.UnitOfMeasure.Unit != "" {
						b = append(b, `"unit":`...)
						b = jsonx.AppendString(b, sv.UnitOfMeasure.Unit)
					}
					b = append(b, '}')
				}
				b = append(b, '}')
			}
			b = append(b, "]}"...)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}
