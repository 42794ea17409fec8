package conformance

import (
	"testing"
	"time"
)

// OCPP 2.0.1 Core, block P (DataTransfer, CustomData).

func TestTC_P_02_CSMS(t *testing.T) {
	t.Parallel()
	_, st := newE(t, "CS-P02", 1)
	for _, p := range []obj{
		{"vendorId": "com.octt.unknown"},
		{"vendorId": "com.octt.unknown", "messageId": "OCTT-Message"},
		{"vendorId": "com.octt.unknown", "messageId": "OCTT-Message", "data": obj{"key": "value", "n": 1}},
	} {
		m := call201(t, st, "DataTransfer", p)
		switch m["status"] {
		case "Rejected", "UnknownVendorId", "UnknownMessageId":
		default:
			t.Fatalf("DataTransferResponse to %v: %v, want Rejected, UnknownVendorId or UnknownMessageId", p, m)
		}
	}
	heartbeat201(t, st)
}

func TestTC_P_03_CSMS(t *testing.T) {
	t.Parallel()
	e, st := newE(t, "CS-P03", 1)
	custom := obj{"vendorId": "com.octt.vendor", "customKey": "customValue", "nested": obj{"n": 3}}
	call201(t, st, "StatusNotification", obj{"timestamp": ts(time.Now()), "connectorStatus": "Occupied", "evseId": 1, "connectorId": 1,
		"customData": custom})
	e.wantConnector("CS-P03", 1, "Preparing", "")
	x := newTx(t, st, "TX-P03", 1)
	x.send(txe{typ: "Started", trigger: "CablePluggedIn", state: "EVConnected", evse: true,
		info: obj{"customData": custom}, more: obj{"customData": custom},
		meter: []any{energyMV201(time.Now(), 100, "Transaction.Begin")}})
	s := e.session201("CS-P03", "TX-P03")
	if s.Status != "active" || s.MeterStartWh != 100 {
		t.Fatalf("session from an event with customData: %v", s)
	}
}
