package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chargestar/chargestar/internal/model"
)

func TestActiveSessionsOfGivesEachStationsActiveSessionsWithPower(t *testing.T) {
	for _, b := range backendNames {
		t.Run(b, func(t *testing.T) {
			s := newHarness(t, b).open(Options{})
			ctx := context.Background()
			op, st := fixture(t, s)
			other, err := s.CreateStation(ctx, model.Station{ID: st.ID + "-B", OperatorID: op.ID})
			if err != nil {
				t.Fatal(err)
			}
			t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
			start := func(station string, conn int, at time.Time) model.Session {
				sess, _, err := s.StartSession(ctx, StartSessionParams{StationID: station, ConnectorID: conn, IDTag: "TAG", StartedAt: at, MeterStartWh: 1000})
				if err != nil {
					t.Fatal(err)
				}
				return sess
			}
			a1 := start(st.ID, 1, t0)
			done := start(st.ID, 2, t0)
			if _, _, err := s.StopSession(ctx, StopSessionParams{StationID: st.ID, TransactionID: done.TransactionID, StoppedAt: t0.Add(time.Minute),
				MeterStopWh: ptr(int64(2000)), Reason: "Local", Source: model.StopSourceStation}); err != nil {
				t.Fatal(err)
			}
			b1 := start(other.ID, 1, t0)
			mv := func(sess model.Session, at time.Time, energy, power *float64) model.MeterValue {
				return model.MeterValue{StationID: sess.StationID, ConnectorID: sess.ConnectorID, SessionID: sess.ID, TransactionID: sess.TransactionID,
					Timestamp: at, EnergyWh: energy, PowerW: power, Samples: []model.SampledValue{{Value: "1"}}, ReceivedAt: at}
			}
			if err := s.AppendMeterValues(ctx, []model.MeterValue{
				mv(a1, t0.Add(time.Minute), ptr(1500.0), ptr(7000.0)),
				mv(a1, t0.Add(2*time.Minute), ptr(2500.0), ptr(7200.0)),
				mv(a1, t0.Add(3*time.Minute), ptr(2600.0), nil), // no power in the latest: the one before counts
			}); err != nil {
				t.Fatal(err)
			}
			got, err := s.ActiveSessionsOf(ctx, []string{st.ID, other.ID, "CP-NOPE"})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 2 || len(got[st.ID]) != 1 || len(got[other.ID]) != 1 {
				t.Fatalf("ActiveSessionsOf = %+v", got)
			}
			a := got[st.ID][0]
			if a.ID != a1.ID || a.EnergyWh != 1600 || a.PowerW == nil || *a.PowerW != 7200 {
				t.Errorf("station 1 session %s energy %d power %v; want %s 1600 Wh 7200 W", a.ID, a.EnergyWh, a.PowerW, a1.ID)
			}
			if x := got[other.ID][0]; x.ID != b1.ID || x.PowerW != nil || x.EnergyWh != 0 {
				t.Errorf("station 2 session %+v, want %s without power", x, b1.ID)
			}
			if got, err := s.ActiveSessionsOf(ctx, nil); err != nil || len(got) != 0 {
				t.Errorf("no stations: %v %v", got, err)
			}
		})
	}
}

// BenchmarkBoardReads measures what GET /api/v1/board reads for an
// operator of 300 stations with 2 connectors each, half of them charging
// with 60 meter values each: the stations, their connectors and their
// active sessions with energy and power.
//
//	go test -run '^$' -bench BoardReads ./internal/store/
func BenchmarkBoardReads(b *testing.B) {
	for _, backend := range backendNames {
		b.Run(backend, func(b *testing.B) {
			s := newHarness(b, backend).open(Options{})
			ctx := context.Background()
			op, err := s.CreateOperator(ctx, model.Operator{Name: "Big", Currency: "AUD", Country: "AU"})
			if err != nil {
				b.Fatal(err)
			}
			const stations = 300
			t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
			var mvs []model.MeterValue
			for i := range stations {
				id := fmt.Sprintf("BIG-%03d", i)
				if _, err := s.CreateStation(ctx, model.Station{ID: id, OperatorID: op.ID}); err != nil {
					b.Fatal(err)
				}
				for c := 1; c <= 2; c++ {
					status := "Available"
					if c == 1 && i%2 == 0 {
						status = "Charging"
					}
					if err := s.RecordStatus(ctx, model.StatusEvent{StationID: id, ConnectorID: c, Status: status, ErrorCode: "NoError", Timestamp: t0, ReceivedAt: t0}); err != nil {
						b.Fatal(err)
					}
				}
				if i%2 == 0 {
					sess, _, err := s.StartSession(ctx, StartSessionParams{StationID: id, ConnectorID: 1, IDTag: "TAG", StartedAt: t0, MeterStartWh: 0})
					if err != nil {
						b.Fatal(err)
					}
					for k := range 60 {
						e, p := float64(k*100), 7000.0
						mvs = append(mvs, model.MeterValue{StationID: id, ConnectorID: 1, SessionID: sess.ID, TransactionID: sess.TransactionID,
							Timestamp: t0.Add(time.Duration(k) * time.Minute), EnergyWh: &e, PowerW: &p, Samples: []model.SampledValue{{Value: "1"}}, ReceivedAt: t0})
					}
				}
			}
			if err := s.AppendMeterValues(ctx, mvs); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				var ids []string
				after := ""
				for {
					sts, err := s.ListStations(ctx, StationFilter{OperatorID: op.ID, Limit: 1000, After: after})
					if err != nil {
						b.Fatal(err)
					}
					for _, st := range sts {
						ids = append(ids, st.ID)
					}
					if len(sts) < 1000 {
						break
					}
					after = sts[len(sts)-1].ID
				}
				if _, err := s.ListConnectorsOf(ctx, ids); err != nil {
					b.Fatal(err)
				}
				live, err := s.ActiveSessionsOf(ctx, ids)
				if err != nil {
					b.Fatal(err)
				}
				if len(live) != stations/2 {
					b.Fatalf("%d stations charging", len(live))
				}
			}
		})
	}
}
