package main

import (
	"reflect"
	"testing"
)

func TestGoName(t *testing.T) {
	cases := map[string]string{
		"idTag": "IDTag", "connectorId": "ConnectorID", "chargePointVendor": "ChargePointVendor",
		"evseId": "EVSEID", "iccid": "ICCID", "imsi": "IMSI", "url": "URL", "id": "ID",
		"IdTagInfo": "IDTagInfo", "IdToken": "IDToken", "EVSE": "EVSE", "ocppCsmsUrl": "OCPPCSMSURL",
		"evseIds": "EVSEIDs", "limit_L2": "LimitL2", "dischargeLimit_L3": "DischargeLimitL3",
		"ACChargingParameters": "ACChargingParameters", "V2XChargingParameters": "V2XChargingParameters",
		"iso15118SchemaVersion": "ISO15118SchemaVersion", "prioritizedEMAIDs": "PrioritizedEMAIDs",
		"soC": "SoC", "t": "T", "address1": "Address1", "hv10MinMeanValue": "HV10MinMeanValue",
		"priceScheduleID": "PriceScheduleID", "responderURL": "ResponderURL",
	}
	for in, want := range cases {
		if got := goName(in); got != want {
			t.Errorf("goName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSplitWords(t *testing.T) {
	cases := map[string][]string{
		"ACCharging":  {"AC", "Charging"},
		"idTagInfo":   {"id", "Tag", "Info"},
		"iso15118Foo": {"iso", "15118", "Foo"},
		"limit_L2":    {"limit", "L", "2"},
		"EVSE":        {"EVSE"},
	}
	for in, want := range cases {
		if got := splitWords(in); !reflect.DeepEqual(got, want) {
			t.Errorf("splitWords(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestConstSuffix(t *testing.T) {
	cases := map[string]string{
		"Accepted": "Accepted", "Energy.Active.Import.Register": "EnergyActiveImportRegister", "L1-N": "L1N",
		"kWh": "KWh", "eMAID": "EMAID", "ISO15118-2": "ISO15118_2", "Sample.Clock": "SampleClock", "cCCS1": "CCCS1",
	}
	for in, want := range cases {
		if got := constSuffix(in); got != want {
			t.Errorf("constSuffix(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLowerFirst(t *testing.T) {
	for in, want := range map[string]string{"IDTagInfo": "idTagInfo", "EVSE": "evse", "Measurand": "measurand", "V2XFoo": "v2XFoo", "x": "x"} {
		if got := lowerFirst(in); got != want {
			t.Errorf("lowerFirst(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTenthPlaces(t *testing.T) {
	for in, want := range map[string]int{"0.1": 1, "0.01": 2, "1": 0, "0.10": 1} {
		if got, ok := tenthPlaces(in); !ok || got != want {
			t.Errorf("tenthPlaces(%s) = %d, %v", in, got, ok)
		}
	}
	for _, in := range []string{"0.2", "5", "0.15"} {
		if _, ok := tenthPlaces(in); ok {
			t.Errorf("tenthPlaces(%s) accepted", in)
		}
	}
}

func TestSchemaRejectsUnsupported(t *testing.T) {
	for _, src := range []string{
		`{"type":"object","properties":{"a":{"type":"string","pattern":"x"}}}`,
		`{"type":"object","properties":{"a":{"type":["string","null"]}}}`,
		`{"type":"object","properties":{"a":{"oneOf":[]}}}`,
	} {
		j, err := parseJSON([]byte(src))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := toSchema(j, "X#"); err == nil {
			t.Errorf("%s: accepted", src)
		}
	}
	if _, err := parseJSON([]byte(`{"a":1,"a":2}`)); err == nil {
		t.Error("duplicate keys accepted")
	}
}
