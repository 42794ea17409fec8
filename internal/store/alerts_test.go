package store

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/chargestar/chargestar/internal/model"
)

func TestAlerts(t *testing.T) {
	for _, b := range backendNames {
		t.Run(b, func(t *testing.T) {
			s := newHarness(t, b).open(Options{})
			ctx := context.Background()
			op, st := fixture(t, s)
			other, _ := fixture(t, s)
			t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
			const url = "https://ops.example/hooks"

			// The operator's alert settings round-trip.
			if op.AlertOfflineMinutes != 10 || op.AlertPaymentStuckMinutes != 30 {
				t.Fatalf("defaults: %+v", op)
			}
			op.AlertWebhookURL, op.AlertWebhookSecret, op.AlertOfflineMinutes, op.AlertPaymentStuckMinutes = url, "whsec_x", 5, 45
			op = must(s.UpdateOperator(ctx, op))(t)
			if got := must(s.GetOperator(ctx, op.ID))(t); got.AlertWebhookURL != url || got.AlertWebhookSecret != "whsec_x" ||
				got.AlertOfflineMinutes != 5 || got.AlertPaymentStuckMinutes != 45 {
				t.Fatalf("settings: %+v", got)
			}

			// Opening is idempotent, also concurrently: one open alert, one delivery.
			conn := 2
			want := Alert{OperatorID: op.ID, Kind: "faulted", Subject: st.ID + "/2", StationID: st.ID, ConnectorID: &conn, Message: "m", OpenedAt: t0}
			var wg sync.WaitGroup
			results := make([]bool, 8)
			ids := make([]string, 8)
			for i := range results {
				wg.Add(1)
				go func() {
					defer wg.Done()
					a, opened, err := s.OpenAlert(ctx, want, url)
					if err != nil {
						t.Error(err)
					}
					results[i], ids[i] = opened, a.ID
				}()
			}
			wg.Wait()
			n := 0
			for i, o := range results {
				if o {
					n++
				}
				if ids[i] != ids[0] {
					t.Errorf("alert ids differ: %v", ids)
				}
			}
			if n != 1 {
				t.Fatalf("%d openings, want 1", n)
			}
			a := must(s.GetAlert(ctx, op.ID, ids[0]))(t)
			if a.Kind != "faulted" || a.StationID != st.ID || a.ConnectorID == nil || *a.ConnectorID != 2 || !a.OpenedAt.Equal(t0) || a.ResolvedAt != nil {
				t.Fatalf("alert: %+v", a)
			}
			ds := must(s.AlertDeliveries(ctx, a.ID))(t)
			if len(ds) != 1 || ds[0].Event != AlertOpened || !ds[0].NextAttemptAt.Equal(t0) {
				t.Fatalf("deliveries: %+v", ds)
			}
			// Without a webhook URL nothing is queued.
			quiet := must2(s.OpenAlert(ctx, Alert{OperatorID: other.ID, Kind: "offline", Subject: "X", OpenedAt: t0}, ""))(t)
			if ds := must(s.AlertDeliveries(ctx, quiet.ID))(t); len(ds) != 0 {
				t.Fatalf("queued without a URL: %+v", ds)
			}

			// Tenancy.
			if _, err := s.GetAlert(ctx, other.ID, a.ID); err == nil {
				t.Error("another operator reads the alert")
			}
			if _, err := s.AcknowledgeAlert(ctx, other.ID, a.ID, "evil", t0); err == nil {
				t.Error("another operator acknowledges the alert")
			}
			if ok, err := s.ResolveAlert(ctx, other.ID, a.ID, t0, url); err != nil || ok {
				t.Fatalf("another operator resolves the alert: %v %v", ok, err)
			}
			// Acknowledgement: the first stands.
			ack := must(s.AcknowledgeAlert(ctx, op.ID, a.ID, "ann@example.com", t0.Add(time.Minute)))(t)
			ack2 := must(s.AcknowledgeAlert(ctx, "", a.ID, "bob@example.com", t0.Add(2*time.Minute)))(t)
			if ack.AcknowledgedBy != "ann@example.com" || ack2.AcknowledgedBy != "ann@example.com" || !ack2.AcknowledgedAt.Equal(t0.Add(time.Minute)) {
				t.Errorf("acknowledged: %+v %+v", ack, ack2)
			}

			// Resolving: once, with its delivery; then a new alert may open.
			if ok := must(s.ResolveAlert(ctx, op.ID, a.ID, t0.Add(time.Hour), url))(t); !ok {
				t.Fatal("not resolved")
			}
			if ok := must(s.ResolveAlert(ctx, op.ID, a.ID, t0.Add(2*time.Hour), url))(t); ok {
				t.Fatal("resolved twice")
			}
			if got := must(s.GetAlert(ctx, op.ID, a.ID))(t); got.ResolvedAt == nil || !got.ResolvedAt.Equal(t0.Add(time.Hour)) {
				t.Fatalf("resolved: %+v", got)
			}
			if ds := must(s.AlertDeliveries(ctx, a.ID))(t); len(ds) != 2 || ds[1].Event != AlertResolved {
				t.Fatalf("deliveries: %+v", ds)
			}
			want.OpenedAt = t0.Add(3 * time.Hour)
			again, opened, err := s.OpenAlert(ctx, want, url)
			if err != nil || !opened || again.ID == a.ID {
				t.Fatalf("reopen: %+v %v %v", again, opened, err)
			}

			// Lists: newest first, filters, paging, tenancy.
			must2(s.OpenAlert(ctx, Alert{OperatorID: op.ID, Kind: "offline", Subject: st.ID, StationID: st.ID, OpenedAt: t0.Add(4 * time.Hour)}, ""))(t)
			all := must(s.ListAlerts(ctx, AlertFilter{OperatorID: op.ID}))(t)
			if len(all) != 3 || all[0].Kind != "offline" || all[2].ID != a.ID {
				t.Fatalf("list: %+v", all)
			}
			if open := must(s.ListAlerts(ctx, AlertFilter{OperatorID: op.ID, State: "open"}))(t); len(open) != 2 {
				t.Errorf("open: %+v", open)
			}
			if res := must(s.ListAlerts(ctx, AlertFilter{OperatorID: op.ID, State: "resolved"}))(t); len(res) != 1 || res[0].ID != a.ID {
				t.Errorf("resolved: %+v", res)
			}
			if k := must(s.ListAlerts(ctx, AlertFilter{OperatorID: op.ID, Kind: "faulted", StationID: st.ID}))(t); len(k) != 2 {
				t.Errorf("kind: %+v", k)
			}
			p1 := must(s.ListAlerts(ctx, AlertFilter{OperatorID: op.ID, Limit: 2}))(t)
			p2 := must(s.ListAlerts(ctx, AlertFilter{OperatorID: op.ID, Limit: 2, Before: p1[1].ID}))(t)
			if len(p1) != 2 || len(p2) != 1 || p2[0].ID != a.ID {
				t.Errorf("pages: %+v %+v", p1, p2)
			}
			if _, err := s.ListAlerts(ctx, AlertFilter{OperatorID: other.ID, Before: a.ID}); err == nil {
				t.Error("a cursor of another operator's alert accepted")
			}

			// Deliveries: due, claimed once, finished.
			due := must(s.DueAlertDeliveries(ctx, t0.Add(10*time.Hour), 100))(t)
			if len(due) != 3 { // opened, resolved, reopened
				t.Fatalf("due: %+v", due)
			}
			d := due[0]
			now := t0.Add(10 * time.Hour)
			if ok := must(s.ClaimAlertDelivery(ctx, d.ID, now, now.Add(time.Minute)))(t); !ok {
				t.Fatal("not claimed")
			}
			if ok := must(s.ClaimAlertDelivery(ctx, d.ID, now, now.Add(time.Minute)))(t); ok {
				t.Fatal("claimed twice")
			}
			if ok := must(s.ClaimAlertDelivery(ctx, d.ID, now.Add(2*time.Minute), now.Add(3*time.Minute)))(t); !ok {
				t.Fatal("not claimable after the lease")
			}
			check(t, s.FinishAlertDelivery(ctx, d.ID, AlertDeliveryOutcome{At: now, Error: "POST answered 500", RetryAt: now.Add(30 * time.Second)}))
			check(t, s.FinishAlertDelivery(ctx, due[1].ID, AlertDeliveryOutcome{At: now, Delivered: true}))
			check(t, s.FinishAlertDelivery(ctx, due[2].ID, AlertDeliveryOutcome{At: now, Error: "gone"}))
			if due := must(s.DueAlertDeliveries(ctx, now.Add(time.Minute), 100))(t); len(due) != 1 || due[0].ID != d.ID || due[0].Attempts != 1 || due[0].LastError != "POST answered 500" {
				t.Fatalf("due after: %+v", due)
			}
			got := must(s.AlertDeliveries(ctx, a.ID))(t)
			if got[1].DeliveredAt == nil || got[1].Attempts != 1 {
				t.Errorf("delivered: %+v", got[1])
			}
			if ds := must(s.AlertDeliveries(ctx, again.ID))(t); ds[0].FailedAt == nil || ds[0].LastError != "gone" {
				t.Errorf("failed: %+v", ds)
			}
		})
	}
}

func TestAlertInputs(t *testing.T) {
	for _, b := range backendNames {
		t.Run(b, func(t *testing.T) {
			s := newHarness(t, b).open(Options{})
			ctx := context.Background()
			op, up := fixture(t, s)
			t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
			add := func(id string, retired *time.Time) {
				must(s.CreateStation(ctx, model.Station{ID: id, OperatorID: op.ID, CreatedAt: t0.Add(-time.Hour), RetiredAt: retired}))(t)
			}
			add("DOWN", nil)
			add("NEVER", nil)
			add("GONE", ptr(t0))
			check(t, s.RecordConnected(ctx, up.ID, "ocpp1.6", t0.Add(-50*time.Minute)))
			check(t, s.RecordConnected(ctx, "DOWN", "ocpp1.6", t0.Add(-50*time.Minute)))
			check(t, s.RecordDisconnected(ctx, "DOWN", t0.Add(-40*time.Minute)))
			check(t, s.RecordConnected(ctx, "DOWN", "ocpp1.6", t0.Add(-30*time.Minute)))
			check(t, s.RecordDisconnected(ctx, "DOWN", t0.Add(-20*time.Minute)))
			check(t, s.RecordStatus(ctx, model.StatusEvent{StationID: up.ID, ConnectorID: 1, Status: "Faulted", ErrorCode: "GroundFailure", Timestamp: t0}))
			check(t, s.RecordStatus(ctx, model.StatusEvent{StationID: up.ID, ConnectorID: 2, Status: "Available", ErrorCode: "NoError", Timestamp: t0}))
			check(t, s.RecordStatus(ctx, model.StatusEvent{StationID: "GONE", ConnectorID: 1, Status: "Faulted", ErrorCode: "GroundFailure", Timestamp: t0}))

			in := must(s.AlertInputs(ctx, op.ID))(t)
			byID := map[string]AlertStation{}
			for _, x := range in.Stations {
				byID[x.ID] = x
			}
			if len(byID) != 4 {
				t.Fatalf("stations %+v", in.Stations)
			}
			if x := byID[up.ID]; !x.Connected || !x.EverConnected || x.DisconnectedAt != nil {
				t.Errorf("up: %+v", x)
			}
			if x := byID["DOWN"]; x.Connected || !x.EverConnected || x.DisconnectedAt == nil || !x.DisconnectedAt.Equal(t0.Add(-20*time.Minute)) {
				t.Errorf("down: %+v", x)
			}
			if x := byID["NEVER"]; x.Connected || x.EverConnected || x.DisconnectedAt != nil {
				t.Errorf("never: %+v", x)
			}
			if x := byID["GONE"]; x.RetiredAt == nil {
				t.Errorf("gone: %+v", x)
			}
			if len(in.Faulted) != 1 || in.Faulted[0].StationID != up.ID || in.Faulted[0].ConnectorID != 1 {
				t.Errorf("faulted (retired stations left out): %+v", in.Faulted)
			}
		})
	}
}

// must2 is must for functions returning (T, bool, error).
func must2[T any](v T, _ bool, err error) func(testing.TB) T {
	return must(v, err)
}
