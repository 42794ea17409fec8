package sim

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// FleetConfig configures a fleet of stations sharing one configuration.
type FleetConfig struct {
	// Station is the configuration every station gets; its ID, Stats and
	// HTTPClient are set by the fleet.
	Station Config
	// Count is the number of stations.
	Count int
	// IDPrefix starts every station id (default "SIM"); ids are
	// IDPrefix + the station's number, zero-padded to Digits.
	IDPrefix string
	// First is the first station's number (default 1).
	First int
	// Digits pads the numbers (default: 5, or more when Count needs it).
	Digits int
	// Concurrency bounds how many stations connect and boot at once
	// (default 100).
	Concurrency int
	// LocalAddrs are the source addresses the connections are spread over
	// (see DialerConfig and LocalAddrs).
	LocalAddrs []netip.Addr
	// Protocols mixes OCPP versions in one fleet: station i (from 0)
	// speaks Protocols[i % len(Protocols)], so the versions are dealt out
	// round-robin and evenly spread over the ids. Repeat a protocol to
	// weight it: {"ocpp1.6", "ocpp1.6", "ocpp2.0.1"} makes two thirds of
	// the fleet 1.6. Empty: every station speaks Station.Protocol, where
	// ProtocolMixed means all of Protocols.
	Protocols []string
}

// Fleet is a set of simulated stations with aggregate counters.
type Fleet struct {
	cfg       FleetConfig
	loadStart atomic.Bool
	stats     *Stats
	sched     *scheduler
	stations  []*Station
	byID      map[string]*Station
}

// FleetProtocols returns the protocol of each station of a fleet
// configuration, in id order (see FleetConfig.Protocols).
func FleetProtocols(cfg FleetConfig) []string {
	cfg.defaults()
	out := make([]string, cfg.Count)
	for i := range out {
		out[i] = cfg.Protocols[i%len(cfg.Protocols)]
	}
	return out
}

// FleetIDs returns the station ids of a fleet configuration.
func FleetIDs(cfg FleetConfig) []string {
	cfg.defaults()
	ids := make([]string, cfg.Count)
	for i := range ids {
		ids[i] = stationID(cfg, i)
	}
	return ids
}

func stationID(cfg FleetConfig, i int) string {
	n := strconv.Itoa(cfg.First + i)
	for len(n) < cfg.Digits {
		n = "0" + n
	}
	return cfg.IDPrefix + n
}

func (c *FleetConfig) defaults() {
	if c.IDPrefix == "" {
		c.IDPrefix = "SIM"
	}
	if c.First <= 0 {
		c.First = 1
	}
	if c.Digits <= 0 {
		c.Digits = max(5, len(strconv.Itoa(c.First+c.Count-1)))
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 100
	}
	if len(c.Protocols) == 0 {
		switch c.Station.Protocol {
		case ProtocolMixed:
			c.Protocols = Protocols
		case "":
			c.Protocols = Protocols[:1]
		default:
			c.Protocols = []string{c.Station.Protocol}
		}
	}
}

// NewFleet builds the stations; nothing connects until Run.
func NewFleet(cfg FleetConfig) (*Fleet, error) {
	cfg.defaults()
	if cfg.Count <= 0 {
		return nil, errors.New("sim: a fleet needs at least one station")
	}
	f := &Fleet{cfg: cfg, stats: new(Stats), sched: newScheduler(), byID: make(map[string]*Station, cfg.Count)}
	for _, p := range cfg.Protocols {
		if !knownProtocol(p) {
			return nil, fmt.Errorf("sim: protocol %q is not simulated (only %s, or %s)", p, strings.Join(Protocols, ", "), ProtocolMixed)
		}
	}
	sc := cfg.Station
	sc.ID = stationID(cfg, 0)
	sc.Protocol = cfg.Protocols[0] // checked; each station gets its own below
	sc.Stats = f.stats
	if sc.HTTPClient == nil {
		sc.HTTPClient = NewDialer(DialerConfig{LocalAddrs: cfg.LocalAddrs, Timeout: sc.DialTimeout}).Client()
	}
	sc.defaults()
	if err := sc.check(); err != nil {
		return nil, err
	}
	gate := make(chan struct{}, cfg.Concurrency)
	f.stations = make([]*Station, cfg.Count)
	shared := &sc // read-only once running: one copy for all
	for i := range f.stations {
		id := stationID(cfg, i)
		st := newStation(id, cfg.Protocols[i%len(cfg.Protocols)], shared, f.sched, gate)
		st.loadStart = &f.loadStart
		// Open-loop stations send evenly spread over the period.
		st.loadPhase = float64(i) / float64(cfg.Count)
		f.stations[i] = st
		f.byID[id] = st
	}
	return f, nil
}

// Stations returns the stations in id order.
func (f *Fleet) Stations() []*Station { return f.stations }

// Station returns a station by id.
func (f *Fleet) Station(id string) *Station { return f.byID[id] }

// Stats returns the fleet's counters.
func (f *Fleet) Stats() *Stats { return f.stats }

// Run runs every station until ctx ends; the first connections are made
// at most Concurrency at a time. It returns when all stations have
// stopped (each ends its running transactions first, if it can).
func (f *Fleet) Run(ctx context.Context) error {
	sctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go f.sched.run(sctx)
	var wg sync.WaitGroup
	for _, st := range f.stations {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st.Run(ctx)
		}()
	}
	wg.Wait()
	return ctx.Err()
}

// StartLoad starts the closed- or open-loop message streams. Until then
// the stations of a load mode connect, boot and start their transaction,
// so that connecting is not slowed by the load and the load starts at once.
func (f *Fleet) StartLoad() {
	f.loadStart.Store(true)
	for _, st := range f.stations {
		select {
		case st.notify <- struct{}{}:
		default:
		}
	}
}

// WaitBooted waits until n stations are online (connected and accepted).
func (f *Fleet) WaitBooted(ctx context.Context, n int) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for f.stats.Booted.Load() < int64(n) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	return nil
}

// StormResult is the outcome of a reconnection storm.
type StormResult struct {
	Stations      int
	Dropped       int           // connections dropped at once
	DropTook      time.Duration // how long dropping them took
	AllConnected  time.Duration // from the drop until every station was connected again (0: not all)
	AllBooted     time.Duration // ... and booted
	Booted        int           // stations booted again by the end
	P50, P90, P99 time.Duration // per-station time to boot again
	Stuck         []StuckStation
}

// StuckStation is a station that did not come back.
type StuckStation struct {
	ID        string
	LastError string
}

// Storm drops every connection at once and waits (up to timeout) until
// every station is connected and booted again.
func (f *Fleet) Storm(ctx context.Context, timeout time.Duration) StormResult {
	res := StormResult{Stations: len(f.stations)}
	for _, st := range f.stations {
		if st.Online() {
			res.Dropped++
		}
	}
	// Closing a socket waits for its reader to let go, so the drops run in
	// parallel to happen at (nearly) the same moment.
	t0 := time.Now()
	var wg sync.WaitGroup
	for _, st := range f.stations {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st.Drop()
		}()
	}
	wg.Wait()
	res.DropTook = time.Since(t0)
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	back := make([]time.Duration, len(f.stations))
	for {
		conn, booted := 0, 0
		for i, st := range f.stations {
			c, b := st.since(t0)
			if !c.IsZero() {
				conn++
			}
			if !b.IsZero() {
				booted++
				back[i] = b.Sub(t0)
			}
		}
		if conn == len(f.stations) && res.AllConnected == 0 {
			res.AllConnected = time.Since(t0)
		}
		res.Booted = booted
		if booted == len(f.stations) {
			res.AllBooted = time.Since(t0)
			break
		}
		select {
		case <-ctx.Done():
		case <-deadline.C:
		case <-tick.C:
			continue
		}
		break
	}
	var times []time.Duration
	for i, st := range f.stations {
		if back[i] > 0 {
			times = append(times, back[i])
		} else {
			res.Stuck = append(res.Stuck, StuckStation{ID: st.ID(), LastError: st.LastError()})
		}
	}
	slices.Sort(times)
	q := func(p float64) time.Duration {
		if len(times) == 0 {
			return 0
		}
		return times[min(len(times)-1, int(p*float64(len(times))))]
	}
	res.P50, res.P90, res.P99 = q(0.5), q(0.9), q(0.99)
	return res
}

// String summarises the storm.
func (r StormResult) String() string {
	s := fmt.Sprintf("storm: %d stations, %d connections dropped in %v; ", r.Stations, r.Dropped, r.DropTook.Round(time.Millisecond))
	if r.AllBooted > 0 {
		s += fmt.Sprintf("all connected again after %v, all booted after %v (from the first drop; %v and %v after the last drop)",
			r.AllConnected.Round(time.Millisecond), r.AllBooted.Round(time.Millisecond),
			(r.AllConnected - r.DropTook).Round(time.Millisecond), (r.AllBooted - r.DropTook).Round(time.Millisecond))
	} else {
		s += fmt.Sprintf("%d of %d booted again; %d stuck", r.Booted, r.Stations, len(r.Stuck))
	}
	s += fmt.Sprintf("; per station p50 %v p90 %v p99 %v", r.P50.Round(time.Millisecond), r.P90.Round(time.Millisecond), r.P99.Round(time.Millisecond))
	return s
}
