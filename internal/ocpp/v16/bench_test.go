package v16

import (
	"encoding/json"
	"testing"

	"github.com/chargestar/chargestar/internal/ocpp"
)

// benchMeterValues is a typical 1.6 MeterValues payload: one meterValue with
// ten sampledValues (~600 bytes).
const benchMeterValues = `{"connectorId":1,"transactionId":4711,"meterValue":[{"timestamp":"2026-11-24T10:11:12.345Z","sampledValue":[` +
	`{"value":"12345.67","measurand":"Energy.Active.Import.Register","unit":"kWh"},` +
	`{"value":"11040","measurand":"Power.Active.Import"},` +
	`{"value":"16.01","measurand":"Current.Import","phase":"L1"},` +
	`{"value":"16.02","measurand":"Current.Import","phase":"L2"},` +
	`{"value":"15.98","measurand":"Current.Import","phase":"L3"},` +
	`{"value":"230.1","measurand":"Voltage","phase":"L1-N"},` +
	`{"value":"229.8","measurand":"Voltage"},` +
	`{"value":"231.0","measurand":"Voltage"},` +
	`{"value":"55","measurand":"SoC"},` +
	`{"value":"31.5","measurand":"Temperature","unit":"Celsius"}]}]}`

const benchBoot = `{"chargePointVendor":"ACME Charging","chargePointModel":"Wallbox 22","chargePointSerialNumber":"WB22-000123456",` +
	`"firmwareVersion":"4.12.7-rc1","iccid":"8931440400012345678","imsi":"262011234567890","meterType":"EEM-350-D-MCB","meterSerialNumber":"M-99887766"}`

func benchDecode(b *testing.B, data string, m ocpp.Message) {
	in := []byte(data)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if err := m.DecodeOCPP(in, ocpp.DecodeOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func benchEncode(b *testing.B, data string, m ocpp.Message) {
	if err := m.DecodeOCPP([]byte(data), ocpp.DecodeOptions{}); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, 2048)
	b.SetBytes(int64(len(m.AppendOCPP(nil))))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf = m.AppendOCPP(buf[:0])
	}
}

func BenchmarkDecodeMeterValues(b *testing.B) {
	benchDecode(b, benchMeterValues, &MeterValuesRequest{})
}

func BenchmarkEncodeMeterValues(b *testing.B) {
	benchEncode(b, benchMeterValues, &MeterValuesRequest{})
}

func BenchmarkValidateMeterValues(b *testing.B) {
	var m MeterValuesRequest
	if err := m.DecodeOCPP([]byte(benchMeterValues), ocpp.DecodeOptions{}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if err := m.Validate(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeBootNotification(b *testing.B) {
	benchDecode(b, benchBoot, &BootNotificationRequest{})
}

func BenchmarkEncodeBootNotification(b *testing.B) {
	benchEncode(b, benchBoot, &BootNotificationRequest{})
}

// Baseline: encoding/json into equivalent plain structs, without any validation.
type stdSampledValue struct {
	Value     string `json:"value"`
	Context   string `json:"context,omitempty"`
	Format    string `json:"format,omitempty"`
	Measurand string `json:"measurand,omitempty"`
	Phase     string `json:"phase,omitempty"`
	Location  string `json:"location,omitempty"`
	Unit      string `json:"unit,omitempty"`
}

type stdMeterValues struct {
	ConnectorID   int  `json:"connectorId"`
	TransactionID *int `json:"transactionId,omitempty"`
	MeterValue    []struct {
		Timestamp    string            `json:"timestamp"`
		SampledValue []stdSampledValue `json:"sampledValue"`
	} `json:"meterValue"`
}

func BenchmarkDecodeMeterValuesEncodingJSONBaseline(b *testing.B) {
	in := []byte(benchMeterValues)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		var m stdMeterValues
		if err := json.Unmarshal(in, &m); err != nil {
			b.Fatal(err)
		}
	}
}

func TestBenchPayloadsValid(t *testing.T) {
	if n := len(benchMeterValues); n < 550 || n > 650 {
		t.Errorf("MeterValues benchmark payload is %d bytes", n)
	}
	var m MeterValuesRequest
	if err := m.DecodeOCPP([]byte(benchMeterValues), ocpp.DecodeOptions{DisallowUnknownFields: true}); err != nil || len(m.MeterValue[0].SampledValue) != 10 {
		t.Fatal(err)
	}
	var boot BootNotificationRequest
	if err := boot.DecodeOCPP([]byte(benchBoot), ocpp.DecodeOptions{DisallowUnknownFields: true}); err != nil {
		t.Fatal(err)
	}
}
