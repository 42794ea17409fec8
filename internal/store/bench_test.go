package store

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chargestar/chargestar/internal/model"
)

// Benchmarks run against SQLite (synchronous FULL and NORMAL) and, when
// CHARGESTAR_TEST_POSTGRES_URL is set, PostgreSQL; each with the three ways
// the committer can gather a batch: drain (take what is queued), wait=2ms
// (a fixed wait after the first write) and linger<=2ms (the default: take
// what callers queue while it yields, until a round brings nothing):
//
//	go test -run '^$' -bench . -benchtime 3s ./internal/store/
//
// They report rows/s (committed writes per second across all callers) and
// ops/batch (the mean number of writes per transaction).

// benchParallelism × GOMAXPROCS is the number of concurrent callers.
const benchParallelism = 32

type benchConfig struct {
	name    string
	backend string
	opts    Options
}

func benchConfigs() []benchConfig {
	var out []benchConfig
	for _, be := range []struct {
		name, backend, sync string
	}{
		{"sqlite-full", "sqlite", "FULL"},
		{"sqlite-normal", "sqlite", "NORMAL"},
		{"postgres", "postgres", ""},
	} {
		for _, d := range []struct {
			name  string
			delay time.Duration
			timer bool
		}{
			{"drain", -1, false},
			{"wait=2ms", 2 * time.Millisecond, true},
			{"linger<=2ms", 2 * time.Millisecond, false},
		} {
			out = append(out, benchConfig{
				name:    be.name + "/" + d.name,
				backend: be.backend,
				opts:    Options{SQLiteSynchronous: be.sync, BatchMaxDelay: d.delay, gatherTimer: d.timer},
			})
		}
	}
	return out
}

func reportBatching(b *testing.B, s *Store, rows int64, start time.Time) {
	st := s.Stats()
	elapsed := time.Since(start).Seconds()
	b.ReportMetric(float64(rows)/elapsed, "rows/s")
	if st.Batches > 0 {
		b.ReportMetric(float64(st.BatchedOps)/float64(st.Batches), "ops/batch")
	}
}

func benchSamples() []model.SampledValue {
	var out []model.SampledValue
	for i, m := range []string{"Energy.Active.Import.Register", "Power.Active.Import", "Current.Import", "Voltage", "SoC",
		"Current.Offered", "Power.Offered", "Temperature", "Frequency", "Power.Factor"} {
		out = append(out, model.SampledValue{Value: strconv.Itoa(1000 + i), Context: "Sample.Periodic", Measurand: m, Location: "Outlet", Unit: "W"})
	}
	return out
}

// BenchmarkAppendMeterValues measures the group-commit ingest rate: many
// concurrent callers, each call one meter value of 10 samples that returns
// once committed.
func BenchmarkAppendMeterValues(b *testing.B) {
	samples := benchSamples()
	for _, cfg := range benchConfigs() {
		b.Run(cfg.name, func(b *testing.B) {
			s := newHarness(b, cfg.backend).open(cfg.opts)
			ctx := context.Background()
			var callers atomic.Int64
			b.SetParallelism(benchParallelism)
			b.ReportAllocs()
			start := time.Now()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				n := callers.Add(1)
				station, session := fmt.Sprintf("CP-%d", n), fmt.Sprintf("ses_bench%d", n)
				e := 0.0
				for pb.Next() {
					e += 10
					energy, power := e, 7200.0
					mv := model.MeterValue{StationID: station, ConnectorID: 1, SessionID: session, TransactionID: "1",
						Timestamp: time.Now(), Context: "Sample.Periodic", EnergyWh: &energy, PowerW: &power, Samples: samples}
					if err := s.AppendMeterValues(ctx, []model.MeterValue{mv}); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			reportBatching(b, s, int64(b.N), start)
		})
	}
}

// BenchmarkStartStopSession measures a 1.6 StartTransaction followed by its
// StopTransaction (two batched writes per iteration) from many callers.
func BenchmarkStartStopSession(b *testing.B) {
	for _, cfg := range benchConfigs() {
		b.Run(cfg.name, func(b *testing.B) {
			s := newHarness(b, cfg.backend).open(cfg.opts)
			ctx := context.Background()
			op := must(s.CreateOperator(ctx, model.Operator{Name: "bench", Currency: "AUD"}))(b)
			var callers atomic.Int64
			b.SetParallelism(benchParallelism)
			b.ReportAllocs()
			start := time.Now()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				station := fmt.Sprintf("CP-%d", callers.Add(1))
				if _, err := s.CreateStation(ctx, model.Station{ID: station, OperatorID: op.ID}); err != nil {
					b.Error(err)
					return
				}
				conn := 0
				for pb.Next() {
					conn++
					t0 := time.Now()
					ses, _, err := s.StartSession(ctx, StartSessionParams{StationID: station, ConnectorID: conn, IDTag: "TAG", StartedAt: t0, MeterStartWh: 100})
					if err != nil {
						b.Error(err)
						return
					}
					if _, _, err := s.StopSession(ctx, StopSessionParams{StationID: station, TransactionID: ses.TransactionID,
						StoppedAt: t0.Add(time.Second), MeterStopWh: ptr(int64(200)), Reason: "Local"}); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			reportBatching(b, s, 2*int64(b.N), start)
		})
	}
}

// BenchmarkActiveSessionRead measures reading an active session whose
// EnergyWh comes from the latest of many meter values.
func BenchmarkActiveSessionRead(b *testing.B) {
	for _, backend := range backendNames {
		b.Run(backend, func(b *testing.B) {
			s := newHarness(b, backend).open(Options{SQLiteSynchronous: "NORMAL"})
			ctx := context.Background()
			_, st := fixture(b, s)
			t0 := time.Now().Add(-24 * time.Hour)
			ses, _, err := s.StartSession(ctx, StartSessionParams{StationID: st.ID, ConnectorID: 1, StartedAt: t0})
			if err != nil {
				b.Fatal(err)
			}
			mvs := make([]model.MeterValue, 10000)
			for i := range mvs {
				mvs[i] = model.MeterValue{StationID: st.ID, ConnectorID: 1, SessionID: ses.ID, Timestamp: t0.Add(time.Duration(i) * time.Second), EnergyWh: ptr(float64(i))}
			}
			if err := s.AppendMeterValues(ctx, mvs); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				x, err := s.ActiveSession(ctx, st.ID, 1)
				if err != nil || x.EnergyWh != 9999 {
					b.Fatal(x.EnergyWh, err)
				}
			}
		})
	}
}
