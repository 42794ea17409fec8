package sim

import (
	"strconv"
	"strings"

	"github.com/chargestar/chargestar/internal/ocpp/v16"
)

// The OCPP 1.6 configuration keys the station acts on.
const (
	keyAuthorizationKey                = "AuthorizationKey"
	keyAuthorizeRemoteTxRequests       = "AuthorizeRemoteTxRequests"
	keyHeartbeatInterval               = "HeartbeatInterval"
	keyLocalAuthListEnabled            = "LocalAuthListEnabled"
	keyLocalAuthorizeOffline           = "LocalAuthorizeOffline"
	keyMeterValueSampleInterval        = "MeterValueSampleInterval"
	keyMeterValuesSampledData          = "MeterValuesSampledData"
	keyStopTxnSampledData              = "StopTxnSampledData"
	keyNumberOfConnectors              = "NumberOfConnectors"
	keySecurityProfile                 = "SecurityProfile"
	keyTransactionMessageAttempts      = "TransactionMessageAttempts"
	keyTransactionMessageRetryInterval = "TransactionMessageRetryInterval"
	keyChargeProfileMaxStackLevel      = "ChargeProfileMaxStackLevel"
	keyChargingScheduleMaxPeriods      = "ChargingScheduleMaxPeriods"
	keyMaxChargingProfilesInstalled    = "MaxChargingProfilesInstalled"
	keySendLocalListMaxLength          = "SendLocalListMaxLength"
	keyLocalAuthListMaxLength          = "LocalAuthListMaxLength"
	keyCertificateStoreMaxLength       = "CertificateStoreMaxLength"
	keyReserveConnectorZeroSupported   = "ReserveConnectorZeroSupported"
)

type keyKind uint8

const (
	kindBool keyKind = iota
	kindInt
	kindMeasurands // comma-separated measurands, at most 10
	kindString
	kindList // comma-separated, read-only
)

// keyDef is one standard OCPP 1.6 configuration key.
type keyDef struct {
	name      string
	readonly  bool
	writeOnly bool // never reported by GetConfiguration (AuthorizationKey)
	kind      keyKind
	def       string // default; "" with dynamic for values derived from the station
	dynamic   bool
	min, max  int // kindInt bounds (max 0: none)
}

// keyDefs are the keys of the Core, Local Auth List Management,
// Reservation and Smart Charging profiles and of the security whitepaper.
var keyDefs = []keyDef{
	{name: "AllowOfflineTxForUnknownId", kind: kindBool, def: "false"},
	{name: "AuthorizationCacheEnabled", kind: kindBool, def: "false"},
	{name: keyAuthorizeRemoteTxRequests, kind: kindBool, def: "false"},
	{name: "BlinkRepeat", kind: kindInt, def: "3"},
	{name: "ClockAlignedDataInterval", kind: kindInt, def: "0"},
	{name: "ConnectionTimeOut", kind: kindInt, def: "60"},
	{name: "ConnectorPhaseRotation", kind: kindString, dynamic: true},
	{name: "ConnectorPhaseRotationMaxLength", readonly: true, kind: kindInt, def: "10"},
	{name: "GetConfigurationMaxKeys", readonly: true, kind: kindInt, def: "100"},
	{name: keyHeartbeatInterval, kind: kindInt, dynamic: true, min: 1},
	{name: "LightIntensity", kind: kindInt, def: "50", max: 100},
	{name: keyLocalAuthorizeOffline, kind: kindBool, def: "true"},
	{name: "LocalPreAuthorize", kind: kindBool, def: "false"},
	{name: "MaxEnergyOnInvalidId", kind: kindInt, def: "0"},
	{name: "MeterValuesAlignedData", kind: kindMeasurands, def: "Energy.Active.Import.Register"},
	{name: "MeterValuesAlignedDataMaxLength", readonly: true, kind: kindInt, def: "10"},
	{name: keyMeterValuesSampledData, kind: kindMeasurands, def: "Energy.Active.Import.Register,Power.Active.Import,Voltage,Current.Import,SoC"},
	{name: "MeterValuesSampledDataMaxLength", readonly: true, kind: kindInt, def: "10"},
	{name: keyMeterValueSampleInterval, kind: kindInt, dynamic: true, min: 1},
	{name: "MinimumStatusDuration", kind: kindInt, def: "0"},
	{name: keyNumberOfConnectors, readonly: true, kind: kindInt, dynamic: true},
	{name: "ResetRetries", kind: kindInt, def: "3"},
	{name: "StopTransactionOnEVSideDisconnect", kind: kindBool, def: "true"},
	{name: "StopTransactionOnInvalidId", kind: kindBool, def: "true"},
	{name: "StopTxnAlignedData", kind: kindMeasurands, def: ""},
	{name: "StopTxnAlignedDataMaxLength", readonly: true, kind: kindInt, def: "10"},
	{name: keyStopTxnSampledData, kind: kindMeasurands, def: "Energy.Active.Import.Register"},
	{name: "StopTxnSampledDataMaxLength", readonly: true, kind: kindInt, def: "10"},
	{name: "SupportedFeatureProfiles", readonly: true, kind: kindList, def: "Core,FirmwareManagement,LocalAuthListManagement,Reservation,SmartCharging,RemoteTrigger"},
	{name: "SupportedFeatureProfilesMaxLength", readonly: true, kind: kindInt, def: "6"},
	{name: keyTransactionMessageAttempts, kind: kindInt, def: "3", min: 1, max: 100},
	{name: keyTransactionMessageRetryInterval, kind: kindInt, def: "10", min: 1},
	{name: "UnlockConnectorOnEVSideDisconnect", kind: kindBool, def: "true"},
	{name: "WebSocketPingInterval", kind: kindInt, def: "0"},
	// Local Auth List Management
	{name: keyLocalAuthListEnabled, kind: kindBool, def: "true"},
	{name: keyLocalAuthListMaxLength, readonly: true, kind: kindInt, def: "1000"},
	{name: keySendLocalListMaxLength, readonly: true, kind: kindInt, def: "100"},
	// Reservation
	{name: keyReserveConnectorZeroSupported, readonly: true, kind: kindBool, def: "false"},
	// Smart Charging
	{name: keyChargeProfileMaxStackLevel, readonly: true, kind: kindInt, def: "10"},
	{name: "ChargingScheduleAllowedChargingRateUnit", readonly: true, kind: kindList, def: "Current,Power"},
	{name: keyChargingScheduleMaxPeriods, readonly: true, kind: kindInt, def: "24"},
	{name: "ConnectorSwitch3to1PhaseSupported", readonly: true, kind: kindBool, def: "false"},
	{name: keyMaxChargingProfilesInstalled, readonly: true, kind: kindInt, def: "20"},
	// Security whitepaper
	{name: "AdditionalRootCertificateCheck", readonly: true, kind: kindBool, def: "false"},
	{name: keyAuthorizationKey, writeOnly: true, kind: kindString},
	{name: "CertificateSignedMaxChainSize", readonly: true, kind: kindInt, def: "10000"},
	{name: keyCertificateStoreMaxLength, readonly: true, kind: kindInt, def: "10"},
	{name: "CpoName", kind: kindString, def: ""},
	{name: keySecurityProfile, kind: kindInt, dynamic: true, max: 3},
}

var keyIndex = func() map[string]int {
	m := make(map[string]int, len(keyDefs))
	for i, k := range keyDefs {
		m[strings.ToLower(k.name)] = i
	}
	return m
}()

// lookupKey finds a key by name (case-insensitively, as some CSMSs send them).
func lookupKey(name string) (*keyDef, bool) {
	i, ok := keyIndex[strings.ToLower(name)]
	if !ok {
		return nil, false
	}
	return &keyDefs[i], true
}

// supportedMeasurands are the measurands the simulated meter can sample.
var supportedMeasurands = map[v16.Measurand]bool{
	v16.MeasurandEnergyActiveImportRegister: true,
	v16.MeasurandPowerActiveImport:          true,
	v16.MeasurandPowerOffered:               true,
	v16.MeasurandCurrentImport:              true,
	v16.MeasurandCurrentOffered:             true,
	v16.MeasurandVoltage:                    true,
	v16.MeasurandSoC:                        true,
	v16.MeasurandTemperature:                true,
}

// parseMeasurands parses a measurand list; ok is false when an item is unsupported.
func parseMeasurands(v string) ([]v16.Measurand, bool) {
	if strings.TrimSpace(v) == "" {
		return []v16.Measurand{}, true
	}
	parts := strings.Split(v, ",")
	if len(parts) > 10 {
		return nil, false
	}
	out := make([]v16.Measurand, 0, len(parts))
	for _, p := range parts {
		m := v16.Measurand(strings.TrimSpace(p))
		if !supportedMeasurands[m] {
			return nil, false
		}
		out = append(out, m)
	}
	return out, true
}

var (
	defaultSampled, _ = parseMeasurands("Energy.Active.Import.Register,Power.Active.Import,Voltage,Current.Import,SoC")
	defaultStopTxn, _ = parseMeasurands("Energy.Active.Import.Register")
)

// v16State is the station state only OCPP 1.6 has: configuration keys as
// changed by the CSMS (nil until the first change), the local
// authorisation list and the installed certificates. The keys are the
// station's settings whatever its version: a 2.x station's device-model
// variables that mean the same (see devModel) read and write them. Everything is
// guarded by Station.mu and allocated on first use, so a station that is
// never managed costs nothing here.
type v16State struct {
	keys         map[string]string // changed values by canonical key name
	sampled      []v16.Measurand   // MeterValuesSampledData, when changed
	stopTxn      []v16.Measurand   // StopTxnSampledData, when changed
	local        map[string]v16.IDTagInfo
	localVersion int
	certs        []installedCert
	stationCert  string  // subject of the certificate last signed for the station
	password     *string // AuthorizationKey, when changed

	// Firmware update, diagnostics and log upload progress.
	fwStatus, diagStatus, logStatus string
	fwSigned, fwJob, logJob         bool
	fwRequestID, logRequestID       int
	fwGen, logGen                   int
}

// value returns a key's current value.
func (s *Station) keyValueLocked(k *keyDef) string {
	if v, ok := s.v16.keys[k.name]; ok {
		return v
	}
	if !k.dynamic {
		return k.def
	}
	switch k.name {
	case keyHeartbeatInterval:
		if s.hbInterval > 0 {
			return strconv.Itoa(int(s.hbInterval.Seconds()))
		}
		return "300"
	case keyMeterValueSampleInterval:
		return strconv.Itoa(int(s.cfg.MeterInterval.Seconds()))
	case keyNumberOfConnectors:
		return strconv.Itoa(s.cfg.Connectors)
	case keySecurityProfile:
		if s.cfg.Password != "" {
			return "1"
		}
		return "0"
	case "ConnectorPhaseRotation":
		var b strings.Builder
		for i := 0; i <= s.cfg.Connectors && i < 10; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.Itoa(i))
			if s.cfg.Phases == 3 {
				b.WriteString(".RST")
			} else {
				b.WriteString(".NotApplicable")
			}
		}
		return b.String()
	}
	return ""
}

// boolKey returns a boolean key's value.
func (v *v16State) boolKey(name string) bool {
	if s, ok := v.keys[name]; ok {
		return strings.EqualFold(s, "true")
	}
	k, _ := lookupKey(name)
	return k != nil && k.def == "true"
}

// intKey returns an integer key's value, or def when it was never changed
// and has no static default.
func (v *v16State) intKey(name string, def int) int {
	s, ok := v.keys[name]
	if !ok {
		k, _ := lookupKey(name)
		if k == nil || k.dynamic {
			return def
		}
		s = k.def
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return def
	}
	return n
}

// localAccepted reports whether the local list accepts a tag.
func (v *v16State) localAccepted(tag string) bool {
	if !v.boolKey(keyLocalAuthListEnabled) {
		return false
	}
	info, ok := v.local[strings.ToLower(tag)]
	return ok && info.Status == v16.AuthorizationStatusAccepted
}

// changeKeyLocked applies ChangeConfiguration.
func (s *Station) changeKeyLocked(name, value string) v16.ConfigurationStatus {
	k, ok := lookupKey(name)
	if !ok {
		return v16.ConfigurationStatusNotSupported
	}
	if k.readonly {
		return v16.ConfigurationStatusRejected
	}
	switch k.kind {
	case kindBool:
		switch strings.ToLower(value) {
		case "true", "false":
			value = strings.ToLower(value)
		default:
			return v16.ConfigurationStatusRejected
		}
	case kindInt:
		n, err := strconv.Atoi(value)
		if err != nil || n < k.min || k.max > 0 && n > k.max {
			return v16.ConfigurationStatusRejected
		}
		value = strconv.Itoa(n)
	case kindMeasurands:
		if _, ok := parseMeasurands(value); !ok {
			return v16.ConfigurationStatusRejected
		}
	}
	status := v16.ConfigurationStatusAccepted
	switch k.name {
	case keyHeartbeatInterval:
		n, _ := strconv.Atoi(value)
		s.setHeartbeatIntervalLocked(secondsDur(n))
	case keyMeterValuesSampledData:
		s.v16.sampled, _ = parseMeasurands(value)
	case keyStopTxnSampledData:
		s.v16.stopTxn, _ = parseMeasurands(value)
	case keyAuthorizationKey:
		if len(value) < 8 || len(value) > 40 {
			return v16.ConfigurationStatusRejected
		}
		v := value
		s.v16.password = &v
		value = "" // never kept in the readable key set
	case keySecurityProfile:
		n, _ := strconv.Atoi(value)
		cur, _ := strconv.Atoi(s.keyValueLocked(k))
		wss := strings.HasPrefix(s.cfg.URL, "wss:")
		if n < cur || n > 1 && !wss {
			return v16.ConfigurationStatusRejected // never lower; 2 and 3 need TLS
		}
		if n != cur {
			status = v16.ConfigurationStatusRebootRequired
		}
	}
	if s.v16.keys == nil {
		s.v16.keys = map[string]string{}
	}
	s.v16.keys[k.name] = value
	return status
}

// sampledMeasurandsLocked returns MeterValuesSampledData.
func (s *Station) sampledMeasurandsLocked() []v16.Measurand {
	if s.v16.sampled != nil {
		return s.v16.sampled
	}
	return defaultSampled
}

func (s *Station) stopTxnMeasurandsLocked() []v16.Measurand {
	if s.v16.stopTxn != nil {
		return s.v16.stopTxn
	}
	return defaultStopTxn
}
