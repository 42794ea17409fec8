package ocpp

import "strconv"

// ErrorKind classifies a payload problem independent of OCPP version; the RPC
// layer maps it to the version's error code name (see ErrorKind.Code).
type ErrorKind int

// Error kinds, in the order of the OCPP-J RPC framework error codes.
const (
	KindFormation  ErrorKind = iota + 1 // not JSON, not an object, wrong structure, unknown property when disallowed (1.6 FormationViolation / 2.x FormatViolation)
	KindType                            // wrong JSON type, e.g. "connectorId":"1" (TypeConstraintViolation)
	KindOccurrence                      // required property missing, minItems/maxItems (1.6 OccurenceConstraintViolation / 2.x OccurrenceConstraintViolation)
	KindProperty                        // enum value, maxLength, minimum/maximum, pattern, date-time format (PropertyConstraintViolation)
)

// String returns a short English name: "formation", "type", "occurrence",
// "property" (or "ErrorKind(n)" for other values).
func (k ErrorKind) String() string {
	switch k {
	case KindFormation:
		return "formation"
	case KindType:
		return "type"
	case KindOccurrence:
		return "occurrence"
	case KindProperty:
		return "property"
	}
	return "ErrorKind(" + strconv.Itoa(int(k)) + ")"
}

// Code returns the OCPP-J CALLERROR error code for the kind in version v,
// e.g. KindOccurrence.Code(V16) == "OccurenceConstraintViolation" (the 1.6
// spelling) and KindFormation.Code(V201) == "FormatViolation". It returns ""
// for an unknown kind.
func (k ErrorKind) Code(v Version) string {
	v16 := v == V16
	switch k {
	case KindFormation:
		if v16 {
			return "FormationViolation"
		}
		return "FormatViolation"
	case KindType:
		return "TypeConstraintViolation"
	case KindOccurrence:
		if v16 {
			return "OccurenceConstraintViolation"
		}
		return "OccurrenceConstraintViolation"
	case KindProperty:
		return "PropertyConstraintViolation"
	}
	return ""
}

// ValidationError describes the first schema violation found.
type ValidationError struct {
	Kind ErrorKind
	Path string // JSON path of the offending value, e.g. "meterValue[0].sampledValue[2].unit"; "" for the root
	Msg  string // human text, e.g. `value "Kwh" is not one of Wh, kWh, ...`
}

// Error implements error: `ocpp: property violation at meterValue[0].sampledValue[2].unit: value "Kwh" is not one of ...`.
func (e *ValidationError) Error() string {
	p := e.Path
	if p == "" {
		p = "(root)"
	}
	return "ocpp: " + e.Kind.String() + " violation at " + p + ": " + e.Msg
}
