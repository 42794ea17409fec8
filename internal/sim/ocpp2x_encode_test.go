package sim

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/chargestar/chargestar/internal/ocpp"
	"github.com/chargestar/chargestar/internal/ocpp/v16"
	"github.com/chargestar/chargestar/internal/ocpp/v201"
	"github.com/chargestar/chargestar/internal/ocpp/v21"
)

// TestPeriodicTxEventEncoding: the hand-written encoder of the periodic
// TransactionEvent writes exactly what encoding/json does, and that is a
// valid 2.0.1 and 2.1 request.
func TestPeriodicTxEventEncoding(t *testing.T) {
	at := time.Date(2026, 11, 24, 10, 0, 0, 123e6, time.UTC)
	smp := &sample{at: at, context: "Sample.Periodic", energyWh: 12345.5, powerW: 7200, soc: 55, phases: 3,
		voltage: [3]float64{230.1, 229.9, 231}, current: [3]float64{10.4, 10.5, 10.3}}
	ms := []v16.Measurand{"Energy.Active.Import.Register", "Power.Active.Import", "Current.Import", "Voltage", "SoC"}
	for _, req := range []txEventReq2{
		{EventType: "Updated", Timestamp: ocpp.NewDateTime(at), TriggerReason: "MeterValuePeriodic", SeqNo: 42,
			TransactionInfo: txInfo2{TransactionID: "0f3c\"tx\\1"}, MeterValue: meterValues2(smp, ms)},
		{EventType: "Updated", Timestamp: ocpp.NewDateTime(at), TriggerReason: "MeterValuePeriodic", SeqNo: 0,
			TransactionInfo: txInfo2{TransactionID: "t"}},
	} {
		want, err := json.Marshal(&req)
		if err != nil {
			t.Fatal(err)
		}
		got := appendPeriodicTxEvent(nil, &req)
		if string(got) != string(want) {
			t.Fatalf("encoded\n%s\nwant\n%s", got, want)
		}
		strict := ocpp.DecodeOptions{DisallowUnknownFields: true}
		if err := new(v201.TransactionEventRequest).DecodeOCPP(got, strict); err != nil {
			t.Errorf("2.0.1: %v", err)
		}
		if err := new(v21.TransactionEventRequest).DecodeOCPP(got, strict); err != nil {
			t.Errorf("2.1: %v", err)
		}
	}
}
