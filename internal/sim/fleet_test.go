package sim

import (
	"bytes"
	"context"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chargestar/chargestar/internal/ocpp/v16"
)

func TestFleetIDs(t *testing.T) {
	t.Parallel()
	ids := FleetIDs(FleetConfig{Count: 3})
	if strings.Join(ids, ",") != "SIM00001,SIM00002,SIM00003" {
		t.Errorf("ids %v", ids)
	}
	ids = FleetIDs(FleetConfig{Count: 120000, IDPrefix: "X-"})
	if ids[0] != "X-000001" || ids[len(ids)-1] != "X-120000" {
		t.Errorf("ids %s … %s", ids[0], ids[len(ids)-1])
	}
	if got := DefaultIDTag("SIM00001", 2); got != "SIM00001-2" {
		t.Errorf("tag %q", got)
	}
	if got := DefaultIDTag(strings.Repeat("long", 10), 1); len(got) > 20 || got != DefaultIDTag(strings.Repeat("long", 10), 1) {
		t.Errorf("long tag %q", got)
	}
}

func TestLocalAddrs(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		spec, target string
		n            int
		want         string
		err          bool
	}{
		{"auto", "ws://localhost:8080/ocpp", 18000, "127.0.0.2 127.0.0.3 127.0.0.4", false},
		{"auto", "ws://127.0.0.1:8080/ocpp", 500, "", false},
		{"auto", "ws://csms.example.com/ocpp", 18000, "", false},
		{"none", "ws://localhost/ocpp", 18000, "", false},
		{"2", "ws://localhost/ocpp", 1, "127.0.0.2 127.0.0.3", false},
		{"2", "ws://csms.example.com/ocpp", 1, "", true},
		{"10.0.0.1, 10.0.0.2", "ws://csms.example.com/ocpp", 1, "10.0.0.1 10.0.0.2", false},
		{"banana", "ws://localhost/ocpp", 1, "", true},
	} {
		got, err := LocalAddrs(c.spec, c.target, c.n)
		var s []string
		for _, a := range got {
			s = append(s, a.String())
		}
		if (err != nil) != c.err || strings.Join(s, " ") != c.want {
			t.Errorf("LocalAddrs(%q, %q, %d) = %v, %v", c.spec, c.target, c.n, s, err)
		}
	}
}

// TestDialerSpreadsSourceAddresses: connections use the loopback sources in turn.
func TestDialerSpreadsSourceAddresses(t *testing.T) {
	t.Parallel()
	f := newFakeCSMS(t)
	addrs := []netip.Addr{netip.MustParseAddr("127.0.0.2"), netip.MustParseAddr("127.0.0.3")}
	fl, err := NewFleet(FleetConfig{Count: 4, IDPrefix: t.Name(), LocalAddrs: addrs, Station: Config{URL: "ws://127.0.0.1:" + f.srv.URL[strings.LastIndexByte(f.srv.URL, ':')+1:] + "/ocpp", Mode: ModeIdle}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { fl.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
	defer wcancel()
	if err := fl.WaitBooted(wctx, 4); err != nil {
		t.Fatalf("%v; errors %v", err, fl.Stats().Errors())
	}
	seen := map[string]int{}
	for _, st := range fl.Stations() {
		st.mu.Lock()
		if st.link != nil && st.link.nc != nil {
			a, _ := netip.ParseAddrPort(st.link.nc.LocalAddr().String())
			seen[a.Addr().String()]++
		}
		st.mu.Unlock()
	}
	if seen["127.0.0.2"] != 2 || seen["127.0.0.3"] != 2 {
		t.Errorf("source addresses %v", seen)
	}
}

func runFleet(t *testing.T, f *fakeCSMS, mode Mode, n int, d time.Duration, station Config) (*Result, string) {
	t.Helper()
	station.URL = f.url()
	station.ReconnectMin, station.ReconnectMax = 20*time.Millisecond, 100*time.Millisecond
	var out bytes.Buffer
	res, err := Run(context.Background(), RunConfig{Fleet: FleetConfig{Count: n, IDPrefix: t.Name() + "-", Station: station},
		Mode: mode, Duration: d, ReportInterval: 200 * time.Millisecond, Out: &out})
	if err != nil {
		t.Fatal(err)
	}
	return res, out.String()
}

func TestClosedLoop(t *testing.T) {
	t.Parallel()
	f := newFakeCSMS(t)
	f.bootInterval = 60
	res, out := runFleet(t, f, ModeClosedLoop, 5, time.Second, Config{Connectors: 1})
	a := res.Activity
	if a.CallsOK < 200 || a.CallsFailed != 0 || len(a.Errors) != 0 {
		t.Errorf("closed loop: %d answered, %d failed, errors %v\n%s", a.CallsOK, a.CallsFailed, a.Errors, out)
	}
	// The two counters are read one after the other: at most one call per station apart.
	if d := int64(a.Latency.Count()) - a.CallsOK; d < -5 || d > 5 {
		t.Errorf("%d latency samples for %d answers", a.Latency.Count(), a.CallsOK)
	}
	if res.Booted != 5 || !strings.Contains(out, "== closed-loop: 5 stations") || !strings.Contains(out, "latency: p50") {
		t.Errorf("report:\n%s", out)
	}
	// Every station's meter values belong to its transaction, and the register only grows.
	for i := 1; i <= 5; i++ {
		id := t.Name() + "-0000" + string(rune('0'+i))
		mvs := f.calls(id, "MeterValues")
		if len(mvs) < 20 {
			t.Errorf("%s sent %d meter values", id, len(mvs))
			continue
		}
		last := -1.0
		for _, fr := range mvs {
			mv := decode(t, fr, &v16.MeterValuesRequest{})
			if mv.TransactionID == nil {
				t.Fatalf("%s: meter value without transaction", id)
			}
			e := energyOf(mv)
			if e < last {
				t.Fatalf("%s: register went down", id)
			}
			last = e
		}
		stops := f.calls(id, "StopTransaction")
		if len(stops) != 1 {
			t.Errorf("%s: %d stops at the end", id, len(stops))
		}
	}
}

func energyOf(mv *v16.MeterValuesRequest) float64 {
	for _, sv := range mv.MeterValue[0].SampledValue {
		if sv.Measurand == v16.MeasurandEnergyActiveImportRegister {
			var v float64
			for _, c := range sv.Value {
				v = v*10 + float64(c-'0')
			}
			return v
		}
	}
	return math.NaN()
}

func TestOpenLoop(t *testing.T) {
	t.Parallel()
	f := newFakeCSMS(t)
	f.bootInterval = 60
	res, out := runFleet(t, f, ModeOpenLoop, 10, 2*time.Second, Config{Connectors: 1, Rate: 20})
	a := res.Activity
	want := 10 * 20 * res.Window.Seconds()
	if got := float64(a.CallsOK); got < want*0.85 || got > want*1.15 {
		t.Errorf("open loop at 20/s × 10 stations for %v: %v answers, want about %v\n%s", res.Window, got, want, out)
	}
	if a.Service.Count() == 0 || a.Latency.Quantile(0.5) < a.Service.Quantile(0.5) {
		t.Errorf("latency from intended time %v below latency from sending %v", a.Latency.Quantile(0.5), a.Service.Quantile(0.5))
	}
	if !strings.Contains(out, "from the intended send time") {
		t.Errorf("report:\n%s", out)
	}
}

func TestStorm(t *testing.T) {
	t.Parallel()
	f := newFakeCSMS(t)
	f.bootInterval = 60
	res, out := runFleet(t, f, ModeStorm, 20, 10*time.Second, Config{Connectors: 1})
	s := res.Storm
	if s == nil || s.Dropped != 20 || s.Booted != 20 || len(s.Stuck) != 0 || s.AllBooted <= 0 || s.AllBooted < s.AllConnected {
		t.Fatalf("storm %+v\n%s", s, out)
	}
	if f.connects.Load() != 40 {
		t.Errorf("%d connections, want 40", f.connects.Load())
	}
	if !strings.Contains(out, "all booted after") {
		t.Errorf("report:\n%s", out)
	}
}

func TestStormReportsStuckStations(t *testing.T) {
	t.Parallel()
	f := newFakeCSMS(t)
	f.bootInterval = 60
	fl, err := NewFleet(FleetConfig{Count: 3, IDPrefix: t.Name(), Station: Config{URL: f.url(), Mode: ModeIdle, ReconnectMin: 20 * time.Millisecond, ReconnectMax: 50 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { fl.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
	defer wcancel()
	if err := fl.WaitBooted(wctx, 3); err != nil {
		t.Fatal(err)
	}
	f.refuse.Store(true)
	res := fl.Storm(ctx, 500*time.Millisecond)
	if len(res.Stuck) != 3 || res.AllBooted != 0 || !strings.Contains(res.Stuck[0].LastError, "503") {
		t.Errorf("storm against a refusing server: %+v", res)
	}
}

func TestHistogram(t *testing.T) {
	t.Parallel()
	var h Histogram
	rng := rand.New(rand.NewPCG(1, 2))
	var samples []time.Duration
	for i := 0; i < 100000; i++ {
		d := time.Duration(rng.ExpFloat64() * float64(5*time.Millisecond))
		samples = append(samples, d)
		h.Record(d)
	}
	h.Record(-time.Second) // counts as 0
	samples = append(samples, 0)
	slices.Sort(samples)
	s := h.Snapshot()
	if s.Count() != uint64(len(samples)) {
		t.Fatalf("count %d", s.Count())
	}
	for _, q := range []float64{0.5, 0.9, 0.95, 0.99, 0.999} {
		exact := samples[int(math.Ceil(q*float64(len(samples))))-1]
		got := s.Quantile(q)
		if math.Abs(float64(got-exact)) > 0.01*float64(exact)+1 {
			t.Errorf("p%v = %v, exact %v", q*100, got, exact)
		}
	}
	if got, exact := s.Max(), samples[len(samples)-1]; got < exact || float64(got) > float64(exact)*1.01 {
		t.Errorf("max %v, exact %v", got, exact)
	}
	// Exact below 256ns; every value lands in a bucket whose range holds it.
	for _, v := range []uint64{0, 1, 255, 256, 257, 1000, 1 << 20, 123456789, 1 << 41, 1<<42 - 1} {
		b := bucketOf(v)
		if bucketHigh(b) < v || b > 0 && bucketHigh(b-1) >= v {
			t.Errorf("value %d in bucket %d [.., %d], previous high %d", v, b, bucketHigh(b), bucketHigh(b-1))
		}
	}
	if bucketOf(1<<62) != histBuckets-1 {
		t.Error("huge value not in the last bucket")
	}
	// Differences of snapshots and concurrent recording.
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 1000; i++ {
				h.Record(time.Millisecond)
			}
		}()
	}
	wg.Wait()
	d := h.Snapshot().Sub(s)
	if d.Count() != 8000 || d.Quantile(0.5) < time.Millisecond || d.Quantile(0.5) > time.Millisecond*101/100 || d.Max() != d.Quantile(1) {
		t.Errorf("difference: %d samples, p50 %v, max %v", d.Count(), d.Quantile(0.5), d.Max())
	}
	var empty HistogramSnapshot
	if empty.Quantile(0.5) != 0 || empty.Max() != 0 || empty.Mean() != 0 {
		t.Error("empty snapshot not zero")
	}
}

func TestParseMetrics(t *testing.T) {
	t.Parallel()
	page := `# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.
# TYPE process_cpu_seconds_total counter
process_cpu_seconds_total 12.5
process_resident_memory_bytes 1.2345e+08
go_goroutines 18042
go_memstats_heap_inuse_bytes 9.9e+07
go_gc_duration_seconds{quantile="0.5"} 0.0001
chargestar_stations_connected 18000
`
	m, err := parseMetrics(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	if m.CPUSeconds != 12.5 || m.RSSBytes != 1.2345e8 || m.Goroutines != 18042 || m.HeapInuse != 9.9e7 || m.Values["chargestar_stations_connected"] != 18000 {
		t.Errorf("%+v", m)
	}
	if _, ok := m.Values["go_gc_duration_seconds"]; ok {
		t.Error("labelled sample read as unlabelled")
	}
}
