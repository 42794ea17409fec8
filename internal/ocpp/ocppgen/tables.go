package main

// This file holds the knowledge the schemas do not carry: message directions,
// names for 1.6's anonymous (inline) enums and objects, name overrides that
// resolve clashes, and the Go initialisms used for identifiers.

// direction of an action's request.
type direction int

const (
	fromStation direction = 1 << iota // CP→CSMS
	toStation                         // CSMS→CP
	both        = fromStation | toStation
)

// versionConfig describes one OCPP version.
type versionConfig struct {
	pkg        string // Go package name
	constName  string // ocpp.Version constant, e.g. "ocpp.V16"
	title      string // human name for comments
	specSubdir string // default folder under <shared>/ocpp-spec
	// requestSuffix is the file-name suffix of requests ("" for 1.6, "Request" for 2.x).
	requestSuffix string
	// overlays are sub-folders of the spec folder whose files replace the
	// same-named files of the spec folder (1.6: the 2025-04 errata).
	overlays []string
	// directions lists every action of the version.
	directions map[string]direction
	// sendOnly lists actions that have no response (2.1 SEND messages);
	// their schema file is "<Action>.json".
	sendOnly map[string]bool
	// names maps "<File>#<location>" of an inline enum/object or a
	// definition to its type name (spec spelling; initialisms are applied
	// afterwards). Inline enums and objects must be listed.
	names map[string]string
	// enumExtra adds accepted values to an enum (by final spec name).
	enumExtra map[string][]string
}

var versions = map[string]*versionConfig{
	"v16": {
		pkg:           "v16",
		constName:     "ocpp.V16",
		title:         "OCPP 1.6-J (core + security whitepaper edition 3)",
		specSubdir:    "v16-json",
		requestSuffix: "",
		overlays:      []string{"errata-2025-04"},
		directions:    v16Directions,
		names:         v16Names,
		enumExtra: map[string][]string{
			// OCPP-J 1.6 errata 2025-04: accept both spellings wherever the
			// unit enum is used (already true for the errata StopTransaction
			// and MeterValues schemas; kept as a guard).
			"UnitOfMeasure": {"Celcius", "Celsius"},
		},
	},
	"v201": {
		pkg:           "v201",
		constName:     "ocpp.V201",
		title:         "OCPP 2.0.1",
		specSubdir:    "v201-json",
		requestSuffix: "Request",
		directions:    v201Directions,
	},
	"v21": {
		pkg:           "v21",
		constName:     "ocpp.V21",
		title:         "OCPP 2.1",
		specSubdir:    "v21-json",
		requestSuffix: "Request",
		directions:    v21Directions(),
		sendOnly:      map[string]bool{"NotifyPeriodicEventStream": true},
	},
}

// OCPP 1.6 core (OCPP 1.6 edition 2, section 4 "Operations initiated by
// Charge Point" and 5 "Operations initiated by Central System") plus the
// "Improved security for OCPP 1.6-J" whitepaper (edition 3).
var v16Directions = map[string]direction{
	// core, Charge Point → Central System
	"Authorize":                     fromStation,
	"BootNotification":              fromStation,
	"DataTransfer":                  both,
	"DiagnosticsStatusNotification": fromStation,
	"FirmwareStatusNotification":    fromStation,
	"Heartbeat":                     fromStation,
	"MeterValues":                   fromStation,
	"StartTransaction":              fromStation,
	"StatusNotification":            fromStation,
	"StopTransaction":               fromStation,
	// core, Central System → Charge Point
	"CancelReservation":      toStation,
	"ChangeAvailability":     toStation,
	"ChangeConfiguration":    toStation,
	"ClearCache":             toStation,
	"ClearChargingProfile":   toStation,
	"GetCompositeSchedule":   toStation,
	"GetConfiguration":       toStation,
	"GetDiagnostics":         toStation,
	"GetLocalListVersion":    toStation,
	"RemoteStartTransaction": toStation,
	"RemoteStopTransaction":  toStation,
	"ReserveNow":             toStation,
	"Reset":                  toStation,
	"SendLocalList":          toStation,
	"SetChargingProfile":     toStation,
	"TriggerMessage":         toStation,
	"UnlockConnector":        toStation,
	"UpdateFirmware":         toStation,
	// security whitepaper
	"CertificateSigned":                toStation,
	"DeleteCertificate":                toStation,
	"ExtendedTriggerMessage":           toStation,
	"GetInstalledCertificateIds":       toStation,
	"GetLog":                           toStation,
	"InstallCertificate":               toStation,
	"SignedUpdateFirmware":             toStation,
	"LogStatusNotification":            fromStation,
	"SecurityEventNotification":        fromStation,
	"SignCertificate":                  fromStation,
	"SignedFirmwareStatusNotification": fromStation,
}

// OCPP 2.0.1 Part 2 (messages by functional block).
var v201Directions = map[string]direction{
	// Charging Station → CSMS
	"Authorize":                         fromStation,
	"BootNotification":                  fromStation,
	"ClearedChargingLimit":              fromStation,
	"FirmwareStatusNotification":        fromStation,
	"Get15118EVCertificate":             fromStation,
	"GetCertificateStatus":              fromStation,
	"Heartbeat":                         fromStation,
	"LogStatusNotification":             fromStation,
	"MeterValues":                       fromStation,
	"NotifyChargingLimit":               fromStation,
	"NotifyCustomerInformation":         fromStation,
	"NotifyDisplayMessages":             fromStation,
	"NotifyEVChargingNeeds":             fromStation,
	"NotifyEVChargingSchedule":          fromStation,
	"NotifyEvent":                       fromStation,
	"NotifyMonitoringReport":            fromStation,
	"NotifyReport":                      fromStation,
	"PublishFirmwareStatusNotification": fromStation,
	"ReportChargingProfiles":            fromStation,
	"ReservationStatusUpdate":           fromStation,
	"SecurityEventNotification":         fromStation,
	"SignCertificate":                   fromStation,
	"StatusNotification":                fromStation,
	"TransactionEvent":                  fromStation,
	"DataTransfer":                      both,
	// CSMS → Charging Station
	"CancelReservation":          toStation,
	"CertificateSigned":          toStation,
	"ChangeAvailability":         toStation,
	"ClearCache":                 toStation,
	"ClearChargingProfile":       toStation,
	"ClearDisplayMessage":        toStation,
	"ClearVariableMonitoring":    toStation,
	"CostUpdated":                toStation,
	"CustomerInformation":        toStation,
	"DeleteCertificate":          toStation,
	"GetBaseReport":              toStation,
	"GetChargingProfiles":        toStation,
	"GetCompositeSchedule":       toStation,
	"GetDisplayMessages":         toStation,
	"GetInstalledCertificateIds": toStation,
	"GetLocalListVersion":        toStation,
	"GetLog":                     toStation,
	"GetMonitoringReport":        toStation,
	"GetReport":                  toStation,
	"GetTransactionStatus":       toStation,
	"GetVariables":               toStation,
	"InstallCertificate":         toStation,
	"PublishFirmware":            toStation,
	"RequestStartTransaction":    toStation,
	"RequestStopTransaction":     toStation,
	"ReserveNow":                 toStation,
	"Reset":                      toStation,
	"SendLocalList":              toStation,
	"SetChargingProfile":         toStation,
	"SetDisplayMessage":          toStation,
	"SetMonitoringBase":          toStation,
	"SetMonitoringLevel":         toStation,
	"SetNetworkProfile":          toStation,
	"SetVariableMonitoring":      toStation,
	"SetVariables":               toStation,
	"TriggerMessage":             toStation,
	"UnlockConnector":            toStation,
	"UnpublishFirmware":          toStation,
	"UpdateFirmware":             toStation,
}

// OCPP 2.1 = 2.0.1 plus the new 2.1 messages (OCPP 2.1 Part 2).
func v21Directions() map[string]direction {
	m := make(map[string]direction, 100)
	for k, v := range v201Directions {
		m[k] = v
	}
	for k, v := range map[string]direction{
		// Charging Station → CSMS
		"BatterySwap":               fromStation,
		"ClosePeriodicEventStream":  fromStation,
		"GetCertificateChainStatus": fromStation,
		"NotifyDERAlarm":            fromStation,
		"NotifyDERStartStop":        fromStation,
		"NotifyPeriodicEventStream": fromStation, // SEND: no response
		"NotifyPriorityCharging":    fromStation,
		"NotifySettlement":          fromStation,
		"OpenPeriodicEventStream":   fromStation,
		"PullDynamicScheduleUpdate": fromStation,
		"ReportDERControl":          fromStation,
		"VatNumberValidation":       fromStation,
		// CSMS → Charging Station
		"AFRRSignal":                  toStation,
		"AdjustPeriodicEventStream":   toStation,
		"ChangeTransactionTariff":     toStation,
		"ClearDERControl":             toStation,
		"ClearTariffs":                toStation,
		"GetDERControl":               toStation,
		"GetPeriodicEventStream":      toStation,
		"GetTariffs":                  toStation,
		"NotifyAllowedEnergyTransfer": toStation,
		"NotifyWebPaymentStarted":     toStation,
		"RequestBatterySwap":          toStation,
		"SetDERControl":               toStation,
		"SetDefaultTariff":            toStation,
		"UpdateDynamicSchedule":       toStation,
		"UsePriorityCharging":         toStation,
	} {
		m[k] = v
	}
	return m
}

// v16Names names 1.6's anonymous enums and objects with the OCPP 1.6 spec's
// type names (OCPP 1.6 edition 2, section 7 "Types"), and resolves the two
// clashes between the security whitepaper's definitions and core types of
// the same name but different values.
var v16Names = map[string]string{
	"AuthorizeResponse#/idTagInfo":                                                      "IdTagInfo",
	"AuthorizeResponse#/idTagInfo/status":                                               "AuthorizationStatus",
	"StartTransactionResponse#/idTagInfo":                                               "IdTagInfo",
	"StartTransactionResponse#/idTagInfo/status":                                        "AuthorizationStatus",
	"StopTransactionResponse#/idTagInfo":                                                "IdTagInfo",
	"StopTransactionResponse#/idTagInfo/status":                                         "AuthorizationStatus",
	"SendLocalList#/localAuthorizationList[]":                                           "AuthorizationData",
	"SendLocalList#/localAuthorizationList[]/idTagInfo":                                 "IdTagInfo",
	"SendLocalList#/localAuthorizationList[]/idTagInfo/status":                          "AuthorizationStatus",
	"SendLocalList#/updateType":                                                         "UpdateType",
	"SendLocalListResponse#/status":                                                     "UpdateStatus",
	"BootNotificationResponse#/status":                                                  "RegistrationStatus",
	"CancelReservationResponse#/status":                                                 "CancelReservationStatus",
	"ChangeAvailability#/type":                                                          "AvailabilityType",
	"ChangeAvailabilityResponse#/status":                                                "AvailabilityStatus",
	"ChangeConfigurationResponse#/status":                                               "ConfigurationStatus",
	"ClearCacheResponse#/status":                                                        "ClearCacheStatus",
	"ClearChargingProfile#/chargingProfilePurpose":                                      "ChargingProfilePurposeType",
	"ClearChargingProfileResponse#/status":                                              "ClearChargingProfileStatus",
	"DataTransferResponse#/status":                                                      "DataTransferStatus",
	"DiagnosticsStatusNotification#/status":                                             "DiagnosticsStatus",
	"FirmwareStatusNotification#/status":                                                "FirmwareStatus",
	"GetCompositeSchedule#/chargingRateUnit":                                            "ChargingRateUnitType",
	"GetCompositeScheduleResponse#/status":                                              "GetCompositeScheduleStatus",
	"GetCompositeScheduleResponse#/chargingSchedule":                                    "ChargingSchedule",
	"GetCompositeScheduleResponse#/chargingSchedule/chargingRateUnit":                   "ChargingRateUnitType",
	"GetCompositeScheduleResponse#/chargingSchedule/chargingSchedulePeriod[]":           "ChargingSchedulePeriod",
	"GetConfigurationResponse#/configurationKey[]":                                      "KeyValue",
	"MeterValues#/meterValue[]":                                                         "MeterValue",
	"MeterValues#/meterValue[]/sampledValue[]":                                          "SampledValue",
	"MeterValues#/meterValue[]/sampledValue[]/context":                                  "ReadingContext",
	"MeterValues#/meterValue[]/sampledValue[]/format":                                   "ValueFormat",
	"MeterValues#/meterValue[]/sampledValue[]/measurand":                                "Measurand",
	"MeterValues#/meterValue[]/sampledValue[]/phase":                                    "Phase",
	"MeterValues#/meterValue[]/sampledValue[]/location":                                 "Location",
	"MeterValues#/meterValue[]/sampledValue[]/unit":                                     "UnitOfMeasure",
	"StopTransaction#/transactionData[]":                                                "MeterValue",
	"StopTransaction#/transactionData[]/sampledValue[]":                                 "SampledValue",
	"StopTransaction#/transactionData[]/sampledValue[]/context":                         "ReadingContext",
	"StopTransaction#/transactionData[]/sampledValue[]/format":                          "ValueFormat",
	"StopTransaction#/transactionData[]/sampledValue[]/measurand":                       "Measurand",
	"StopTransaction#/transactionData[]/sampledValue[]/phase":                           "Phase",
	"StopTransaction#/transactionData[]/sampledValue[]/location":                        "Location",
	"StopTransaction#/transactionData[]/sampledValue[]/unit":                            "UnitOfMeasure",
	"StopTransaction#/reason":                                                           "Reason",
	"RemoteStartTransaction#/chargingProfile":                                           "ChargingProfile",
	"RemoteStartTransaction#/chargingProfile/chargingProfilePurpose":                    "ChargingProfilePurposeType",
	"RemoteStartTransaction#/chargingProfile/chargingProfileKind":                       "ChargingProfileKindType",
	"RemoteStartTransaction#/chargingProfile/recurrencyKind":                            "RecurrencyKindType",
	"RemoteStartTransaction#/chargingProfile/chargingSchedule":                          "ChargingSchedule",
	"RemoteStartTransaction#/chargingProfile/chargingSchedule/chargingRateUnit":         "ChargingRateUnitType",
	"RemoteStartTransaction#/chargingProfile/chargingSchedule/chargingSchedulePeriod[]": "ChargingSchedulePeriod",
	"SetChargingProfile#/csChargingProfiles":                                            "ChargingProfile",
	"SetChargingProfile#/csChargingProfiles/chargingProfilePurpose":                     "ChargingProfilePurposeType",
	"SetChargingProfile#/csChargingProfiles/chargingProfileKind":                        "ChargingProfileKindType",
	"SetChargingProfile#/csChargingProfiles/recurrencyKind":                             "RecurrencyKindType",
	"SetChargingProfile#/csChargingProfiles/chargingSchedule":                           "ChargingSchedule",
	"SetChargingProfile#/csChargingProfiles/chargingSchedule/chargingRateUnit":          "ChargingRateUnitType",
	"SetChargingProfile#/csChargingProfiles/chargingSchedule/chargingSchedulePeriod[]":  "ChargingSchedulePeriod",
	"RemoteStartTransactionResponse#/status":                                            "RemoteStartStopStatus",
	"RemoteStopTransactionResponse#/status":                                             "RemoteStartStopStatus",
	"ReserveNowResponse#/status":                                                        "ReservationStatus",
	"Reset#/type":                                                                       "ResetType",
	"ResetResponse#/status":                                                             "ResetStatus",
	"SetChargingProfileResponse#/status":                                                "ChargingProfileStatus",
	"StatusNotification#/errorCode":                                                     "ChargePointErrorCode",
	"StatusNotification#/status":                                                        "ChargePointStatus",
	"TriggerMessage#/requestedMessage":                                                  "MessageTrigger",
	"TriggerMessageResponse#/status":                                                    "TriggerMessageStatus",
	"UnlockConnectorResponse#/status":                                                   "UnlockStatus",

	// Security whitepaper definitions whose natural name (definition name
	// without "EnumType") is already taken by a core 1.6 type with other
	// values: core keeps the spec name, the whitepaper type is renamed.
	"ExtendedTriggerMessage#/definitions/MessageTriggerEnumType":           "ExtendedMessageTrigger", // core MessageTrigger lacks LogStatusNotification, SignChargePointCertificate
	"SignedFirmwareStatusNotification#/definitions/FirmwareStatusEnumType": "SignedFirmwareStatus",   // core FirmwareStatus lacks the signature/scheduling states
}

// initialisms are words written in upper case in Go identifiers (matched
// case-insensitively on camelCase words of JSON and definition names).
var initialisms = map[string]string{
	"ac": "AC", "apn": "APN", "csms": "CSMS", "csr": "CSR", "dc": "DC", "der": "DER",
	"ev": "EV", "evse": "EVSE", "exi": "EXI", "http": "HTTP", "hv": "HV",
	"iccid": "ICCID", "id": "ID", "ids": "IDs", "imsi": "IMSI", "ip": "IP", "iso": "ISO",
	"json": "JSON", "ocpp": "OCPP", "ocsp": "OCSP", "psp": "PSP", "sim": "SIM",
	"tls": "TLS", "uri": "URI", "url": "URL", "urls": "URLs", "uuid": "UUID",
	"vat": "VAT", "vpn": "VPN",
}
