package sim

import (
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Stats are the counters of one station or of a whole fleet (the stations
// of a fleet share one). All fields are safe for concurrent use.
type Stats struct {
	Connected   atomic.Int64 // live WebSocket connections
	Booted      atomic.Int64 // stations whose BootNotification was accepted on their current connection
	Connects    atomic.Int64 // successful WebSocket handshakes
	Disconnects atomic.Int64 // connections lost or closed
	Boots       atomic.Int64 // accepted BootNotifications

	CallsSent   atomic.Int64 // CALLs sent by the stations
	CallsOK     atomic.Int64 // ... answered with a CALLRESULT
	CallsFailed atomic.Int64 // ... answered with a CALLERROR, timed out or lost
	CommandsIn  atomic.Int64 // CALLs from the CSMS answered by the stations

	SessionsStarted   atomic.Int64 // StartTransaction acknowledged
	SessionsCompleted atomic.Int64 // StopTransaction acknowledged
	EnergyWh          atomic.Int64 // energy of completed sessions
	Queued            atomic.Int64 // transaction messages waiting for a connection

	// Latency of the stations' CALLs: from sending (open-loop: from the
	// intended sending time) to the answer.
	Latency Histogram
	// Service is the open-loop latency from the actual sending time; the
	// difference to Latency is time spent waiting to send.
	Service Histogram

	mu     sync.Mutex
	errors map[string]*atomic.Int64
}

// Error counts one error of a kind ("timeout", "dial_refused", "http_404", ...).
func (s *Stats) Error(kind string) {
	s.mu.Lock()
	c := s.errors[kind]
	if c == nil {
		if s.errors == nil {
			s.errors = map[string]*atomic.Int64{}
		}
		c = new(atomic.Int64)
		s.errors[kind] = c
	}
	s.mu.Unlock()
	c.Add(1)
}

// Errors returns the error counts by kind.
func (s *Stats) Errors() map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int64, len(s.errors))
	for k, c := range s.errors {
		out[k] = c.Load()
	}
	return out
}

// Snapshot is a point-in-time copy of Stats.
type Snapshot struct {
	At time.Time
	// Span is the time a difference of snapshots covers (Sub); 0 otherwise.
	Span                               time.Duration
	Connected, Booted                  int64
	Connects, Disconnects, Boots       int64
	CallsSent, CallsOK, CallsFailed    int64
	CommandsIn                         int64
	SessionsStarted, SessionsCompleted int64
	EnergyWh, Queued                   int64
	Errors                             map[string]int64
	Latency, Service                   HistogramSnapshot
}

// Snapshot copies the counters.
func (s *Stats) Snapshot() Snapshot {
	return Snapshot{
		At: time.Now(), Connected: s.Connected.Load(), Booted: s.Booted.Load(),
		Connects: s.Connects.Load(), Disconnects: s.Disconnects.Load(), Boots: s.Boots.Load(),
		CallsSent: s.CallsSent.Load(), CallsOK: s.CallsOK.Load(), CallsFailed: s.CallsFailed.Load(),
		CommandsIn: s.CommandsIn.Load(), SessionsStarted: s.SessionsStarted.Load(),
		SessionsCompleted: s.SessionsCompleted.Load(), EnergyWh: s.EnergyWh.Load(), Queued: s.Queued.Load(),
		Errors: s.Errors(), Latency: s.Latency.Snapshot(), Service: s.Service.Snapshot(),
	}
}

// Messages returns the messages exchanged: our CALLs answered plus the
// CSMS's CALLs we answered.
func (s Snapshot) Messages() int64 { return s.CallsOK + s.CallsFailed + s.CommandsIn }

// Sub returns the activity between prev and s: counters are differences,
// gauges (Connected, Booted, Queued) are those of s.
func (s Snapshot) Sub(prev Snapshot) Snapshot {
	d := s
	d.Span = s.At.Sub(prev.At)
	d.Connects -= prev.Connects
	d.Disconnects -= prev.Disconnects
	d.Boots -= prev.Boots
	d.CallsSent -= prev.CallsSent
	d.CallsOK -= prev.CallsOK
	d.CallsFailed -= prev.CallsFailed
	d.CommandsIn -= prev.CommandsIn
	d.SessionsStarted -= prev.SessionsStarted
	d.SessionsCompleted -= prev.SessionsCompleted
	d.EnergyWh -= prev.EnergyWh
	d.Errors = map[string]int64{}
	for k, v := range s.Errors {
		if n := v - prev.Errors[k]; n != 0 {
			d.Errors[k] = n
		}
	}
	d.Latency = s.Latency.Sub(prev.Latency)
	d.Service = s.Service.Sub(prev.Service)
	return d
}

// ErrorKinds returns the error kinds in a stable order.
func (s Snapshot) ErrorKinds() []string { return slices.Sorted(maps.Keys(s.Errors)) }
