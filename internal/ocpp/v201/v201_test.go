package v201

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/chargestar/chargestar/internal/ocpp"
)

const transactionEvent = `{"eventType":"Updated","timestamp":"2026-11-24T10:11:12.345Z","triggerReason":"MeterValuePeriodic","seqNo":17,` +
	`"transactionInfo":{"transactionId":"8f2b6c1e-6a0e-4a8e-9d6b-2b8c1f0e7a11","chargingState":"Charging"},` +
	`"evse":{"id":1,"connectorId":1},"idToken":{"idToken":"04A2B3C4D5E6F7","type":"ISO14443"},` +
	`"meterValue":[{"timestamp":"2026-11-24T10:11:12.000Z","sampledValue":[` +
	`{"value":12345.67,"measurand":"Energy.Active.Import.Register","unitOfMeasure":{"unit":"kWh"}},` +
	`{"value":11040,"measurand":"Power.Active.Import","unitOfMeasure":{"unit":"W"}},` +
	`{"value":16.01,"measurand":"Current.Import","phase":"L1"},` +
	`{"value":16.02,"measurand":"Current.Import","phase":"L2"},` +
	`{"value":15.98,"measurand":"Current.Import","phase":"L3"},` +
	`{"value":230.1,"measurand":"Voltage","phase":"L1-N"},` +
	`{"value":55,"measurand":"SoC","location":"EV","unitOfMeasure":{"unit":"Percent"}},` +
	`{"value":50.02,"context":"Sample.Periodic","measurand":"Frequency","location":"Body","unitOfMeasure":{"unit":"Hz","multiplier":0}}]}]}`

func TestActions(t *testing.T) {
	all := Actions()
	if len(all) != 64 {
		t.Fatalf("%d actions, want 64", len(all))
	}
	for _, a := range all {
		if a.NewRequest == nil || a.NewResponse == nil || a.FromStation == a.ToStation && a.Name != "DataTransfer" {
			t.Errorf("bad ActionInfo %+v", a)
		}
	}
	if a, _ := Action("TransactionEvent"); !a.FromStation || a.ToStation {
		t.Error("TransactionEvent direction")
	}
	if a, _ := Action("RequestStartTransaction"); a.FromStation || !a.ToStation {
		t.Error("RequestStartTransaction direction")
	}
	if a, _ := Action("DataTransfer"); !a.FromStation || !a.ToStation {
		t.Error("DataTransfer direction")
	}
	if ProtocolVersion != ocpp.V201 {
		t.Error("ProtocolVersion")
	}
}

func TestTransactionEvent(t *testing.T) {
	var m TransactionEventRequest
	if err := m.DecodeOCPP([]byte(transactionEvent), ocpp.DecodeOptions{DisallowUnknownFields: true}); err != nil {
		t.Fatal(err)
	}
	if m.EventType != TransactionEventUpdated || m.TriggerReason != TriggerReasonMeterValuePeriodic || m.EVSE.ID != 1 || *m.EVSE.ConnectorID != 1 ||
		m.IDToken.Type != IDTokenEnumISO14443 || m.TransactionInfo.ChargingState != ChargingStateCharging || len(m.MeterValue[0].SampledValue) != 8 {
		t.Fatalf("got %+v", m)
	}
	sv := m.MeterValue[0].SampledValue[7]
	if sv.Value != 50.02 || sv.UnitOfMeasure.Unit != "Hz" || *sv.UnitOfMeasure.Multiplier != 0 || sv.Location != LocationBody {
		t.Errorf("sampled value %+v", sv)
	}
	enc := m.AppendOCPP(nil)
	var back TransactionEventRequest
	if err := back.DecodeOCPP(enc, ocpp.DecodeOptions{DisallowUnknownFields: true}); err != nil || !reflect.DeepEqual(m, back) {
		t.Errorf("round trip: %v\n%s", err, enc)
	}
	// meterValue has minItems 1
	var ve *ocpp.ValidationError
	err := back.DecodeOCPP([]byte(`{"eventType":"Started","timestamp":"2026-11-24T10:11:12Z","triggerReason":"Authorized","seqNo":0,"transactionInfo":{"transactionId":"t"},"meterValue":[]}`), ocpp.DecodeOptions{})
	if !errors.As(err, &ve) || ve.Kind != ocpp.KindOccurrence || ve.Path != "meterValue" {
		t.Errorf("got %v", err)
	}
	err = back.DecodeOCPP([]byte(`{"eventType":"Started","timestamp":"2026-11-24T10:11:12Z","triggerReason":"Authorized","seqNo":0,"transactionInfo":{"transactionId":"t"},"evse":{"id":"1"}}`), ocpp.DecodeOptions{})
	if !errors.As(err, &ve) || ve.Kind != ocpp.KindType || ve.Path != "evse.id" {
		t.Errorf("got %v", err)
	}
}

func TestCustomDataKeepsExtraMembers(t *testing.T) {
	in := `{"chargingStation":{"model":"M","vendorName":"V","customData":{"vendorId":"com.acme","fw":{"build":  42},"tags":["a", "b"],"n":null}},"reason":"PowerUp","customData":{"vendorId":"x"}}`
	var m BootNotificationRequest
	if err := m.DecodeOCPP([]byte(in), ocpp.DecodeOptions{DisallowUnknownFields: true}); err != nil {
		t.Fatal(err)
	}
	cd := m.ChargingStation.CustomData
	want := []ocpp.RawField{{Name: "fw", Value: json.RawMessage(`{"build":42}`)}, {Name: "tags", Value: json.RawMessage(`["a","b"]`)}, {Name: "n", Value: json.RawMessage(`null`)}}
	if cd == nil || cd.VendorID != "com.acme" || !reflect.DeepEqual(cd.Extra, want) {
		t.Fatalf("customData %+v", cd)
	}
	if got := string(m.AppendOCPP(nil)); got != `{"customData":{"vendorId":"x"},"chargingStation":{"customData":{"vendorId":"com.acme","fw":{"build":42},"tags":["a","b"],"n":null},"model":"M","vendorName":"V"},"reason":"PowerUp"}` {
		t.Errorf("encoding %s", got)
	}
	// the vendorId of customData is required
	var ve *ocpp.ValidationError
	if err := m.DecodeOCPP([]byte(`{"chargingStation":{"model":"M","vendorName":"V","customData":{"x":1}},"reason":"PowerUp"}`), ocpp.DecodeOptions{}); !errors.As(err, &ve) || ve.Path != "chargingStation.customData.vendorId" || ve.Kind != ocpp.KindOccurrence {
		t.Errorf("got %v", err)
	}
	m.ChargingStation.CustomData.Extra = []ocpp.RawField{{Name: "bad", Value: json.RawMessage(`{x`)}}
	if err := m.Validate(); !errors.As(err, &ve) || ve.Path != "chargingStation.customData.bad" {
		t.Errorf("Validate with invalid raw member: %v", err)
	}
}

func TestDataTransferRawData(t *testing.T) {
	var m DataTransferRequest
	if err := m.DecodeOCPP([]byte(`{"vendorId":"v","data":{ "a" : [1, 2.50, "x y"] }}`), ocpp.DecodeOptions{DisallowUnknownFields: true}); err != nil {
		t.Fatal(err)
	}
	if string(m.Data) != `{"a":[1,2.50,"x y"]}` {
		t.Errorf("data %s", m.Data)
	}
	if got := string(m.AppendOCPP(nil)); got != `{"data":{"a":[1,2.50,"x y"]},"vendorId":"v"}` {
		t.Errorf("encoding %s", got)
	}
}

func BenchmarkDecodeTransactionEvent(b *testing.B) {
	in := []byte(transactionEvent)
	var m TransactionEventRequest
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if err := m.DecodeOCPP(in, ocpp.DecodeOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeTransactionEvent(b *testing.B) {
	var m TransactionEventRequest
	if err := m.DecodeOCPP([]byte(transactionEvent), ocpp.DecodeOptions{}); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, 4096)
	b.SetBytes(int64(len(m.AppendOCPP(nil))))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf = m.AppendOCPP(buf[:0])
	}
}
