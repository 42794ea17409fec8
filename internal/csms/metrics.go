package csms

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the core's Prometheus collectors. They live on a registry
// of their own (no package globals) which the HTTP layer serves at /metrics.
type Metrics struct {
	Registry            *prometheus.Registry
	StationsConnected   prometheus.Gauge
	Messages            *prometheus.CounterVec   // direction, action, outcome
	CallDuration        *prometheus.HistogramVec // action: time to handle a station's CALL
	CommandDuration     *prometheus.HistogramVec // action: time for a station to answer our CALL
	SessionsStarted     prometheus.Counter
	SessionsStopped     prometheus.Counter
	UnknownTransactions prometheus.Counter
	Rejected            *prometheus.CounterVec // reason: connections refused at the door
	StoreBatch          prometheus.Histogram   // seconds per group-commit transaction
	StoreBatchWrites    prometheus.Histogram   // writes per group-commit transaction
	StoreBatchFailures  prometheus.Counter

	// Resolved children, so the per-message path does no label hashing.
	mu       sync.RWMutex
	handled  map[[2]string]prometheus.Counter
	duration map[string]prometheus.Observer
}

// NewMetrics creates the collectors and registers them on reg (a new
// registry when nil).
func NewMetrics(reg *prometheus.Registry) *Metrics {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m := &Metrics{
		Registry: reg,
		StationsConnected: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "chargestar_stations_connected", Help: "Stations with a live OCPP connection.",
		}),
		Messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chargestar_ocpp_messages_total",
			Help: "OCPP CALLs handled (direction=in: from stations) or sent (direction=out), by action and outcome (ok or the error code).",
		}, []string{"direction", "action", "outcome"}),
		CallDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "chargestar_ocpp_call_duration_seconds",
			Help:    "Time to handle a CALL from a station, from receipt to answer written, by action.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"action"}),
		CommandDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "chargestar_ocpp_command_duration_seconds",
			Help:    "Time for a station to answer a CALL we sent, by action.",
			Buckets: []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"action"}),
		SessionsStarted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chargestar_sessions_started_total", Help: "Transaction starts reported by stations (replays included).",
		}),
		SessionsStopped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chargestar_sessions_stopped_total", Help: "Sessions completed by a station's stop report.",
		}),
		UnknownTransactions: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chargestar_unknown_transactions_total", Help: "Stops or meter values for transactions never seen started.",
		}),
		Rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chargestar_ocpp_connections_rejected_total", Help: "OCPP connection attempts refused, by reason.",
		}, []string{"reason"}),
		StoreBatch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "chargestar_store_batch_duration_seconds",
			Help:    "Time to run and commit one group-commit transaction.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
		}),
		StoreBatchWrites: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "chargestar_store_batch_writes",
			Help:    "Writes (meter values, status changes, session starts and stops, …) committed per transaction.",
			Buckets: []float64{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000},
		}),
		StoreBatchFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chargestar_store_batch_failures_total", Help: "Group-commit transactions that failed (their writes were retried one by one).",
		}),
		handled:  map[[2]string]prometheus.Counter{},
		duration: map[string]prometheus.Observer{},
	}
	reg.MustRegister(m.StationsConnected, m.Messages, m.CallDuration, m.CommandDuration,
		m.SessionsStarted, m.SessionsStopped, m.UnknownTransactions, m.Rejected,
		m.StoreBatch, m.StoreBatchWrites, m.StoreBatchFailures)
	return m
}

// ObserveBatch records one group-commit transaction (store.Options.OnBatch).
func (m *Metrics) ObserveBatch(writes, _ int, took time.Duration, err error) {
	m.StoreBatch.Observe(took.Seconds())
	m.StoreBatchWrites.Observe(float64(writes))
	if err != nil {
		m.StoreBatchFailures.Inc()
	}
}

// maxActions bounds label cardinality: a station sending random action
// names must not grow the metrics without limit.
const maxActions = 256

func (m *Metrics) inCall(action, outcome string, took time.Duration) {
	key := [2]string{action, outcome}
	m.mu.RLock()
	c, ok := m.handled[key]
	h, hok := m.duration[action]
	m.mu.RUnlock()
	if !ok || !hok {
		m.mu.Lock()
		if len(m.duration) >= maxActions {
			action, key = "other", [2]string{"other", outcome}
		}
		if c, ok = m.handled[key]; !ok {
			c = m.Messages.WithLabelValues("in", action, outcome)
			m.handled[key] = c
		}
		if h, hok = m.duration[action]; !hok {
			h = m.CallDuration.WithLabelValues(action)
			m.duration[action] = h
		}
		m.mu.Unlock()
	}
	c.Inc()
	h.Observe(took.Seconds())
}

func (m *Metrics) outCall(action, outcome string, took time.Duration) {
	m.Messages.WithLabelValues("out", action, outcome).Inc()
	m.CommandDuration.WithLabelValues(action).Observe(took.Seconds())
}
