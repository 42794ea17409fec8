package v21

import (
	"testing"

	"github.com/chargestar/chargestar/internal/ocpp"
)

func TestActions(t *testing.T) {
	all := Actions()
	if len(all) != 91 {
		t.Fatalf("%d actions, want 91", len(all))
	}
	send, ok := Action("NotifyPeriodicEventStream")
	if !ok || send.NewResponse != nil || !send.FromStation || send.ToStation {
		t.Errorf("NotifyPeriodicEventStream: %+v", send)
	}
	if _, ok := send.NewRequest().(*NotifyPeriodicEventStreamRequest); !ok {
		t.Error("NotifyPeriodicEventStream request type")
	}
	for _, a := range all {
		if a.Name != "NotifyPeriodicEventStream" && a.NewResponse == nil {
			t.Errorf("%s has no response", a.Name)
		}
		if a.FromStation == a.ToStation && a.Name != "DataTransfer" {
			t.Errorf("%s: direction %+v", a.Name, a)
		}
	}
	for name, fromStation := range map[string]bool{
		"BatterySwap": true, "PullDynamicScheduleUpdate": true, "NotifyDERAlarm": true, "VatNumberValidation": true, "OpenPeriodicEventStream": true,
		"AFRRSignal": false, "SetDERControl": false, "UpdateDynamicSchedule": false, "UsePriorityCharging": false, "SetDefaultTariff": false, "NotifyWebPaymentStarted": false,
	} {
		a, ok := Action(name)
		if !ok || a.FromStation != fromStation || a.ToStation == fromStation {
			t.Errorf("%s: %+v", name, a)
		}
	}
	if ProtocolVersion != ocpp.V21 {
		t.Error("ProtocolVersion")
	}
}

func TestEnumObjectNameClash(t *testing.T) {
	// CostDimensionType (object) keeps the name, CostDimensionEnumType becomes CostDimensionEnum.
	var c CostDimension
	c.Type = CostDimensionEnumEnergy
	c.Volume = 1.5
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
	if got := string(mustMarshal(t, c)); got != `{"type":"Energy","volume":1.5}` {
		t.Errorf("encoding %s", got)
	}
}

func mustMarshal(t *testing.T, v interface{ MarshalJSON() ([]byte, error) }) []byte {
	t.Helper()
	b, err := v.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return b
}
