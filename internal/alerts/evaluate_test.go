package alerts

import (
	"testing"
	"time"
)

func TestEvaluate(t *testing.T) {
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	ago := func(m int) time.Time { return now.Add(-time.Duration(m) * time.Minute) }
	set := Settings{OfflineAfter: 10 * time.Minute, PaymentStuckAfter: 30 * time.Minute}
	cases := []struct {
		name       string
		stations   []Station
		connectors []Connector
		payments   []Payment
		want       []string // kind subject
	}{
		{name: "nothing wrong",
			stations:   []Station{{ID: "S1", Connected: true}},
			connectors: []Connector{{StationID: "S1", ConnectorID: 1, Status: "Available"}}},
		{name: "offline longer than N alerts; exactly N does not",
			stations: []Station{{ID: "S1", OfflineSince: ago(11)}, {ID: "S2", OfflineSince: ago(10)}, {ID: "S3", OfflineSince: ago(1)}},
			want:     []string{"offline S1"}},
		{name: "never connected: no alert",
			stations: []Station{{ID: "S1"}}},
		{name: "retired stations never alert, faulted or offline",
			stations:   []Station{{ID: "S1", Retired: true, OfflineSince: ago(600)}},
			connectors: []Connector{{StationID: "S1", ConnectorID: 1, Status: "Faulted", ErrorCode: "GroundFailure"}}},
		{name: "faulted connectors, also of an offline station; an error code alone is not faulted",
			stations: []Station{{ID: "S1", Connected: true}, {ID: "S2", OfflineSince: ago(1)}},
			connectors: []Connector{{StationID: "S1", ConnectorID: 2, Status: "Faulted", ErrorCode: "GroundFailure"},
				{StationID: "S2", ConnectorID: 0, Status: "Faulted"},
				{StationID: "S1", ConnectorID: 1, Status: "Charging", ErrorCode: "HighTemperature"}},
			want: []string{"faulted S1/2", "faulted S2/0"}},
		{name: "payments stuck: authorised without a start, stopped without settling; charging and final states never",
			payments: []Payment{
				{ID: "pay_a", StationID: "S1", ConnectorID: 1, State: "authorized", Since: ago(31)},
				{ID: "pay_b", StationID: "S1", ConnectorID: 1, State: "authorized", Since: ago(29)},
				{ID: "pay_c", StationID: "S1", ConnectorID: 1, State: "stopped", Since: ago(45)},
				{ID: "pay_d", StationID: "S1", ConnectorID: 1, State: "charging", Since: ago(600)},
				{ID: "pay_e", StationID: "S1", ConnectorID: 1, State: "captured", Since: ago(600)},
				{ID: "pay_f", StationID: "S1", ConnectorID: 1, State: "quote", Since: ago(600)},
			},
			want: []string{"payment_stuck pay_a", "payment_stuck pay_c"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Evaluate(now, set, c.stations, c.connectors, c.payments)
			var keys []string
			for _, w := range got {
				keys = append(keys, string(w.Kind)+" "+w.Subject)
				if w.Message == "" || w.Since.IsZero() && w.Kind != Faulted {
					t.Errorf("%+v: no message or start", w)
				}
			}
			if len(keys) != len(c.want) {
				t.Fatalf("got %v, want %v", keys, c.want)
			}
			for i := range keys {
				if keys[i] != c.want[i] {
					t.Fatalf("got %v, want %v", keys, c.want)
				}
			}
		})
	}
	got := Evaluate(now, set, nil, []Connector{{StationID: "S1", ConnectorID: 2, Status: "Faulted", ErrorCode: "GroundFailure"}},
		[]Payment{{ID: "pay_a", StationID: "S1", ConnectorID: 1, State: "stopped", Since: ago(45)}})
	if f := got[0]; f.StationID != "S1" || f.ConnectorID == nil || *f.ConnectorID != 2 || f.Message != "Connector 2 of station S1 is faulted (GroundFailure)." {
		t.Errorf("faulted: %+v", f)
	}
	if p := got[1]; p.PaymentID != "pay_a" || p.StationID != "S1" || *p.ConnectorID != 1 {
		t.Errorf("payment: %+v", p)
	}
}
