package v16

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/chargestar/chargestar/internal/ocpp"
	"github.com/chargestar/chargestar/internal/ocpp/jsonx"
)

func decodeErr(t *testing.T, m ocpp.Message, in string, opts ocpp.DecodeOptions) *ocpp.ValidationError {
	t.Helper()
	err := m.DecodeOCPP([]byte(in), opts)
	if err == nil {
		return nil
	}
	var ve *ocpp.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("DecodeOCPP returned %T %v", err, err)
	}
	return ve
}

func TestActions(t *testing.T) {
	all := Actions()
	if len(all) != 39 {
		t.Fatalf("%d actions, want 28 core + 11 security", len(all))
	}
	for i := 1; i < len(all); i++ {
		if all[i-1].Name >= all[i].Name {
			t.Fatalf("Actions not sorted: %s, %s", all[i-1].Name, all[i].Name)
		}
	}
	dir := func(name string) (bool, bool) {
		a, ok := Action(name)
		if !ok {
			t.Fatalf("no action %s", name)
		}
		if a.Name != name || a.NewRequest == nil || a.NewResponse == nil {
			t.Fatalf("bad ActionInfo %+v", a)
		}
		return a.FromStation, a.ToStation
	}
	for _, n := range []string{"Authorize", "BootNotification", "DiagnosticsStatusNotification", "FirmwareStatusNotification", "Heartbeat", "MeterValues", "StartTransaction", "StatusNotification", "StopTransaction", "LogStatusNotification", "SecurityEventNotification", "SignCertificate", "SignedFirmwareStatusNotification"} {
		if f, ts := dir(n); !f || ts {
			t.Errorf("%s should be CP→CSMS only", n)
		}
	}
	for _, n := range []string{"RemoteStartTransaction", "Reset", "GetConfiguration", "TriggerMessage", "CertificateSigned", "ExtendedTriggerMessage", "GetLog", "SignedUpdateFirmware", "InstallCertificate"} {
		if f, ts := dir(n); f || !ts {
			t.Errorf("%s should be CSMS→CP only", n)
		}
	}
	if f, ts := dir("DataTransfer"); !f || !ts {
		t.Error("DataTransfer is bidirectional")
	}
	if _, ok := Action("TransactionEvent"); ok {
		t.Error("TransactionEvent is not 1.6")
	}
	a, _ := Action("BootNotification")
	if _, ok := a.NewRequest().(*BootNotificationRequest); !ok {
		t.Error("NewRequest type")
	}
	if _, ok := a.NewResponse().(*BootNotificationResponse); !ok {
		t.Error("NewResponse type")
	}
	if ProtocolVersion != ocpp.V16 {
		t.Error("ProtocolVersion")
	}
}

func TestBootNotificationRoundTrip(t *testing.T) {
	in := `{ "chargePointVendor": "ACME", "chargePointModel": "Wallbox \u00e9", "iccid": null, "firmwareVersion": "1.2.3" }`
	var m BootNotificationRequest
	if err := m.DecodeOCPP([]byte(in), ocpp.DecodeOptions{}); err != nil {
		t.Fatal(err)
	}
	want := BootNotificationRequest{ChargePointVendor: "ACME", ChargePointModel: "Wallbox é", FirmwareVersion: "1.2.3"}
	if m != want {
		t.Fatalf("got %+v", m)
	}
	if got := string(m.AppendOCPP(nil)); got != `{"chargePointVendor":"ACME","chargePointModel":"Wallbox é","firmwareVersion":"1.2.3"}` {
		t.Errorf("encoding: %s", got)
	}
	resp := BootNotificationResponse{Status: RegistrationStatusAccepted, CurrentTime: ocpp.NewDateTime(time.Date(2026, 11, 24, 11, 11, 12, 345678000, time.FixedZone("CET", 3600))), Interval: 0}
	if err := resp.Validate(); err != nil {
		t.Fatal(err)
	}
	// required fields are always encoded, even when zero
	if got := string(resp.AppendOCPP(nil)); got != `{"status":"Accepted","currentTime":"2026-11-24T10:11:12.345Z","interval":0}` {
		t.Errorf("encoding: %s", got)
	}
	b, err := json.Marshal(resp)
	if err != nil || string(b) != `{"status":"Accepted","currentTime":"2026-11-24T10:11:12.345Z","interval":0}` {
		t.Errorf("json.Marshal: %s %v", b, err)
	}
	var back BootNotificationResponse
	if err := json.Unmarshal(b, &back); err != nil || back.Status != RegistrationStatusAccepted || back.CurrentTime.String() != "2026-11-24T10:11:12.345Z" {
		t.Errorf("json.Unmarshal: %+v %v", back, err)
	}
}

const meterValues = `{"connectorId":2,"transactionId":17,"meterValue":[{"timestamp":"2026-11-24T10:11:12Z","sampledValue":[` +
	`{"value":"1234.5","measurand":"Energy.Active.Import.Register","unit":"kWh"},` +
	`{"value":"20.5","measurand":"Temperature","unit":"Celcius","location":"Body"},` +
	`{"value":"21","measurand":"Temperature","unit":"Celsius","location":"Outlet"}]}]}`

func TestMeterValuesBothCelsiusSpellings(t *testing.T) {
	var m MeterValuesRequest
	if err := m.DecodeOCPP([]byte(meterValues), ocpp.DecodeOptions{DisallowUnknownFields: true}); err != nil {
		t.Fatal(err)
	}
	sv := m.MeterValue[0].SampledValue
	if *m.TransactionID != 17 || sv[1].Unit != UnitOfMeasureCelcius || sv[2].Unit != UnitOfMeasureCelsius || sv[0].Measurand != MeasurandEnergyActiveImportRegister {
		t.Errorf("got %+v", m)
	}
	// StopTransaction (2025-04 errata schema) accepts both spellings too
	stop := `{"transactionId":17,"meterStop":1234,"timestamp":"2026-11-24T10:12:00+01:00","reason":"EVDisconnected","transactionData":[{"timestamp":"2026-11-24T10:11:12Z","sampledValue":[{"value":"20","unit":"Celsius"},{"value":"20","unit":"Celcius"}]}]}`
	var s StopTransactionRequest
	if err := s.DecodeOCPP([]byte(stop), ocpp.DecodeOptions{DisallowUnknownFields: true}); err != nil {
		t.Fatal(err)
	}
	if s.Reason != ReasonEVDisconnected || s.Timestamp.String() != "2026-11-24T09:12:00.000Z" || len(s.TransactionData) != 1 {
		t.Errorf("got %+v", s)
	}
	// Validate agrees for Go-built values
	s.TransactionData[0].SampledValue[0].Unit = "Celsius"
	if err := s.Validate(); err != nil {
		t.Error(err)
	}
}

func TestDecodeErrors(t *testing.T) {
	cases := []struct {
		msg  ocpp.Message
		in   string
		kind ocpp.ErrorKind
		path string
	}{
		{&MeterValuesRequest{}, `{"connectorId":"1","meterValue":[]}`, ocpp.KindType, "connectorId"},
		{&MeterValuesRequest{}, `{"connectorId":1.5,"meterValue":[]}`, ocpp.KindType, "connectorId"},
		{&MeterValuesRequest{}, `{"connectorId":null,"meterValue":[]}`, ocpp.KindType, "connectorId"},
		{&MeterValuesRequest{}, `{"meterValue":[]}`, ocpp.KindOccurrence, "connectorId"},
		{&MeterValuesRequest{}, `{"connectorId":1,"meterValue":[{"timestamp":"2026-11-24T10:11:12Z","sampledValue":[{"value":"1"},{"value":"2"},{"value":"3","unit":"Kwh"}]}]}`, ocpp.KindProperty, "meterValue[0].sampledValue[2].unit"},
		{&MeterValuesRequest{}, `{"connectorId":1,"meterValue":[{"timestamp":"2026-11-24T10:11:12Z","sampledValue":[{"unit":"kWh"}]}]}`, ocpp.KindOccurrence, "meterValue[0].sampledValue[0].value"},
		{&MeterValuesRequest{}, `{"connectorId":1,"meterValue":[{"timestamp":"24.11.2026","sampledValue":[]}]}`, ocpp.KindProperty, "meterValue[0].timestamp"},
		{&MeterValuesRequest{}, `{"connectorId":1,"meterValue":{}}`, ocpp.KindType, "meterValue"},
		{&MeterValuesRequest{}, `{"connectorId":1,"meterValue":[null]}`, ocpp.KindType, "meterValue[0]"},
		{&MeterValuesRequest{}, `{"connectorId":1,"connectorId":2,"meterValue":[]}`, ocpp.KindFormation, "connectorId"},
		{&MeterValuesRequest{}, `{"connectorId":1,"meterValue":[],}`, ocpp.KindFormation, ""},
		{&MeterValuesRequest{}, `{"connectorId":"1","meterValue":[] x`, ocpp.KindFormation, ""}, // invalid JSON wins over the type error
		{&MeterValuesRequest{}, `[1]`, ocpp.KindFormation, ""},
		{&MeterValuesRequest{}, ``, ocpp.KindFormation, ""},
		{&MeterValuesRequest{}, `null`, ocpp.KindFormation, ""},
		{&AuthorizeRequest{}, `{"idTag":"123456789012345678901"}`, ocpp.KindProperty, "idTag"},
		{&AuthorizeRequest{}, `{"idTag":"ééééééééééééééééééééé"}`, ocpp.KindProperty, "idTag"},
		{&AuthorizeResponse{}, `{"idTagInfo":{"status":"accepted"}}`, ocpp.KindProperty, "idTagInfo.status"},
		{&AuthorizeResponse{}, `{"idTagInfo":{}}`, ocpp.KindOccurrence, "idTagInfo.status"},
		{&AuthorizeResponse{}, `{"idTagInfo":{"status":"Accepted","expiryDate":"2026-11-24T25:00:00Z"}}`, ocpp.KindProperty, "idTagInfo.expiryDate"},
		{&StatusNotificationRequest{}, `{"connectorId":1,"errorCode":"NoError","status":"Charging","extra":1}`, ocpp.KindFormation, "extra"},
		{&GetCompositeScheduleResponse{}, `{"status":"Accepted","chargingSchedule":{"chargingRateUnit":"A","chargingSchedulePeriod":[{"startPeriod":0,"limit":7.35}]}}`, ocpp.KindProperty, "chargingSchedule.chargingSchedulePeriod[0].limit"},
		{&UpdateFirmwareRequest{}, `{"location":"not a uri","retrieveDate":"2026-11-24T10:11:12Z"}`, ocpp.KindProperty, "location"},
		{&GetConfigurationRequest{}, `{"key":["a",1]}`, ocpp.KindType, "key[1]"},
		{&GetInstalledCertificateIdsResponse{}, `{"status":"Accepted","certificateHashData":[]}`, ocpp.KindOccurrence, "certificateHashData"},
	}
	for _, c := range cases {
		ve := decodeErr(t, c.msg, c.in, ocpp.DecodeOptions{DisallowUnknownFields: true})
		if ve == nil || ve.Kind != c.kind || ve.Path != c.path {
			t.Errorf("%T %s: got %v, want %v at %q", c.msg, c.in, ve, c.kind, c.path)
		}
	}
}

func TestNullOptionalIsAbsent(t *testing.T) {
	var m StatusNotificationRequest
	in := `{"connectorId":1,"errorCode":"NoError","status":"Available","info":null,"timestamp":null,"vendorId":null}`
	if err := m.DecodeOCPP([]byte(in), ocpp.DecodeOptions{DisallowUnknownFields: true}); err != nil {
		t.Fatal(err)
	}
	if m.Timestamp != nil || m.Info != "" || m.Status != ChargePointStatusAvailable {
		t.Errorf("got %+v", m)
	}
	if got := string(m.AppendOCPP(nil)); got != `{"connectorId":1,"errorCode":"NoError","status":"Available"}` {
		t.Errorf("encoding %s", got)
	}
}

func TestUnknownFields(t *testing.T) {
	in := `{"connectorId":1,"vendorA":{"x":[1,2]},"meterValue":[{"timestamp":"2026-11-24T10:11:12Z","sampledValue":[{"value":"1","vendorB":null}]}]}`
	var m MeterValuesRequest
	var paths []string
	if err := m.DecodeOCPP([]byte(in), ocpp.DecodeOptions{OnUnknownField: func(p string) { paths = append(paths, p) }}); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(paths, []string{"vendorA", "meterValue[0].sampledValue[0].vendorB"}) {
		t.Errorf("unknown paths %v", paths)
	}
	if m.MeterValue[0].SampledValue[0].Value != "1" {
		t.Errorf("got %+v", m)
	}
	// unknown values are still syntax-checked
	ve := decodeErr(t, &m, `{"connectorId":1,"vendorA":{"x":[1,}],"meterValue":[]}`, ocpp.DecodeOptions{})
	if ve == nil || ve.Kind != ocpp.KindFormation {
		t.Errorf("got %v", ve)
	}
	// hostile nesting in an unknown field is refused
	deep := `{"connectorId":1,"v":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `,"meterValue":[]}`
	ve = decodeErr(t, &m, deep, ocpp.DecodeOptions{})
	if ve == nil || ve.Kind != ocpp.KindFormation || !strings.Contains(ve.Msg, "nesting") {
		t.Errorf("got %v", ve)
	}
}

func TestEscapes(t *testing.T) {
	var m AuthorizeRequest
	if err := m.DecodeOCPP([]byte(`{"\u0069dTag":"\ud83d\ude00\"\\\u0041"}`), ocpp.DecodeOptions{DisallowUnknownFields: true}); err != nil {
		t.Fatal(err)
	}
	if m.IDTag != "😀\"\\A" {
		t.Errorf("IDTag %q", m.IDTag)
	}
	if got := string(m.AppendOCPP(nil)); got != `{"idTag":"😀\"\\A"}` {
		t.Errorf("encoding %s", got)
	}
}

func TestValidateGoValues(t *testing.T) {
	var resp AuthorizeResponse
	err := resp.Validate()
	var ve *ocpp.ValidationError
	if !errors.As(err, &ve) || ve.Kind != ocpp.KindOccurrence || ve.Path != "idTagInfo.status" {
		t.Errorf("empty response: %v", err)
	}
	resp.IDTagInfo.Status = "Bogus"
	if err := resp.Validate(); !errors.As(err, &ve) || ve.Kind != ocpp.KindProperty || ve.Path != "idTagInfo.status" {
		t.Errorf("bad enum: %v", err)
	}
	resp.IDTagInfo.Status = AuthorizationStatusAccepted
	if err := resp.Validate(); err != nil {
		t.Error(err)
	}
	limit := 7.35
	req := SetChargingProfileRequest{ConnectorID: 1, CsChargingProfiles: ChargingProfile{
		ChargingProfileID: 1, StackLevel: 0, ChargingProfilePurpose: ChargingProfilePurposeTypeTxDefaultProfile, ChargingProfileKind: ChargingProfileKindTypeAbsolute,
		ChargingSchedule: ChargingSchedule{ChargingRateUnit: ChargingRateUnitTypeA, ChargingSchedulePeriod: []ChargingSchedulePeriod{{StartPeriod: 0, Limit: 16}}, MinChargingRate: &limit},
	}}
	if err := req.Validate(); !errors.As(err, &ve) || ve.Path != "csChargingProfiles.chargingSchedule.minChargingRate" || ve.Kind != ocpp.KindProperty {
		t.Errorf("multipleOf: %v", err)
	}
	limit = 7.3
	if err := req.Validate(); err != nil {
		t.Error(err)
	}
	var start StartTransactionRequest
	start.IDTag = "tag"
	if err := start.Validate(); !errors.As(err, &ve) || ve.Path != "timestamp" || ve.Kind != ocpp.KindOccurrence {
		t.Errorf("zero required DateTime: %v", err)
	}
}

// ---- fuzzing ----

func truncateTimes(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			truncateTimes(v.Elem())
		}
	case reflect.Struct:
		if d, ok := v.Interface().(ocpp.DateTime); ok {
			d.Time = d.Time.Truncate(time.Millisecond)
			v.Set(reflect.ValueOf(d))
			return
		}
		for i := 0; i < v.NumField(); i++ {
			truncateTimes(v.Field(i))
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() != reflect.Uint8 {
			for i := 0; i < v.Len(); i++ {
				truncateTimes(v.Index(i))
			}
		}
	}
}

// FuzzDecode feeds arbitrary bytes to every 1.6 message decoder: decoding
// never panics, errors are always *ocpp.ValidationError, and an accepted
// payload validates, re-encodes to valid JSON and decodes to the same value.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		meterValues,
		`{"chargePointVendor":"ACME","chargePointModel":"X","iccid":null}`,
		`{"status":"Accepted","currentTime":"2026-11-24T10:11:12.345Z","interval":300}`,
		`{"connectorId":1,"errorCode":"NoError","status":"Available","timestamp":"2026-11-24 10:11:12+0100"}`,
		`{"connectorId":1,"idTag":"ABC","meterStart":0,"timestamp":"2026-11-24T10:11:12Z","reservationId":3.0}`,
		`{"idTagInfo":{"status":"Accepted","expiryDate":"2027-01-01T00:00:00Z","parentIdTag":"P"},"transactionId":5}`,
		`{"vendorId":"v","messageId":"m","data":"{\"x\":1}"}`,
		`{"status":"Accepted","chargingSchedule":{"chargingRateUnit":"A","chargingSchedulePeriod":[{"startPeriod":0,"limit":7.3,"numberPhases":3}],"minChargingRate":1.5e0}}`,
		`{"configurationKey":[{"key":"k","readonly":true,"value":"v"}],"unknownKey":["x"]}`,
		`{"listVersion":1,"updateType":"Full","localAuthorizationList":[{"idTag":"a","idTagInfo":{"status":"Blocked"}}]}`,
		`{"certificateHashData":{"hashAlgorithm":"SHA256","issuerNameHash":"a","issuerKeyHash":"b","serialNumber":"c"}}`,
	} {
		f.Add([]byte(s))
	}
	actions := Actions()
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, a := range actions {
			for _, newMsg := range []func() ocpp.Message{a.NewRequest, a.NewResponse} {
				m := newMsg()
				err := m.DecodeOCPP(data, ocpp.DecodeOptions{})
				if err != nil {
					var ve *ocpp.ValidationError
					if !errors.As(err, &ve) || ve.Kind < ocpp.KindFormation || ve.Kind > ocpp.KindProperty {
						t.Fatalf("%T: bad error %T %v", m, err, err)
					}
					if !jsonx.Valid(data) && ve.Kind != ocpp.KindFormation {
						t.Fatalf("%T: invalid JSON reported as %v", m, ve.Kind)
					}
					continue
				}
				if !jsonx.Valid(data) {
					t.Fatalf("%T accepted invalid JSON %q", m, data)
				}
				if err := m.Validate(); err != nil {
					t.Fatalf("%T: decoded value does not validate: %v\n%q", m, err, data)
				}
				enc := m.AppendOCPP(nil)
				if !json.Valid(enc) {
					t.Fatalf("%T: encoding is not JSON: %s", m, enc)
				}
				m2 := newMsg()
				if err := m2.DecodeOCPP(enc, ocpp.DecodeOptions{DisallowUnknownFields: true}); err != nil {
					t.Fatalf("%T: re-decode of %s: %v", m, enc, err)
				}
				truncateTimes(reflect.ValueOf(m))
				if !reflect.DeepEqual(m, m2) {
					t.Fatalf("%T: round trip differs\n%#v\n%#v", m, m, m2)
				}
			}
		}
	})
}
