package sim

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"time"
)

// RunConfig configures a simulator run: what `chargestar sim` does.
type RunConfig struct {
	Fleet FleetConfig
	Mode  Mode
	// Duration: sessions and idle: how long to run (0: until ctx ends);
	// closed-loop and open-loop: the measurement window (default 30s);
	// storm: the longest wait for the stations to come back (default 5m).
	Duration time.Duration
	// ReportInterval is the time between progress lines (default 5s).
	ReportInterval time.Duration
	// MetricsURL is the server's /metrics, scraped before connecting and
	// at both ends of the measurement window ("" none).
	MetricsURL string
	// ConnectTimeout bounds the wait for every station to boot before the
	// mode starts (default 1 minute plus 10ms per station).
	ConnectTimeout time.Duration
	// Out receives the progress lines and the summary.
	Out io.Writer
}

// Result is what a run measured.
type Result struct {
	Mode          Mode
	Stations      int
	Booted        int64         // stations online when the window ended
	Window        time.Duration // the measured time
	Activity      Snapshot      // what happened in the window
	Storm         *StormResult
	Server        *ServerReport
	SimRSS        float64 // the simulator's resident memory at the end of the window
	SimCPU        float64 // the simulator's CPU seconds in the window
	SimGoroutines int
	ConnectIn     time.Duration
}

// ServerReport holds the server-side figures of a window.
type ServerReport struct {
	Baseline, Start, End ServerMetrics
	// CPUPerMessage is the server's CPU time per message exchanged in the window.
	CPUPerMessage time.Duration
	// CPUCores is the server's average CPU use in the window, in cores.
	CPUCores float64
	// RSSPerStation is the server's resident memory at the end of the
	// window divided by the stations online; RSSDeltaPerStation counts
	// only what grew since before the stations connected.
	RSSPerStation, RSSDeltaPerStation   float64
	HeapPerStation, HeapDeltaPerStation float64
	GoroutinesPerStation                float64
}

// Run runs a fleet in a mode and reports on it.
func Run(ctx context.Context, cfg RunConfig) (*Result, error) {
	if cfg.Out == nil {
		cfg.Out = io.Discard
	}
	if cfg.ReportInterval <= 0 {
		cfg.ReportInterval = 5 * time.Second
	}
	if cfg.Mode == "" {
		cfg.Mode = ModeSessions
	}
	switch cfg.Mode {
	case ModeClosedLoop, ModeOpenLoop:
		if cfg.Duration <= 0 {
			cfg.Duration = 30 * time.Second
		}
	case ModeStorm:
		if cfg.Duration <= 0 {
			cfg.Duration = 5 * time.Minute
		}
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = time.Minute + time.Duration(cfg.Fleet.Count)*10*time.Millisecond
	}
	cfg.Fleet.Station.Mode = cfg.Mode
	f, err := NewFleet(cfg.Fleet)
	if err != nil {
		return nil, err
	}
	res := &Result{Mode: cfg.Mode, Stations: cfg.Fleet.Count}
	httpc := &http.Client{Timeout: 10 * time.Second}
	var srv *ServerReport
	if cfg.MetricsURL != "" {
		base, err := ScrapeMetrics(ctx, httpc, cfg.MetricsURL)
		if err != nil {
			return nil, err
		}
		srv = &ServerReport{Baseline: base}
	}

	out := &syncWriter{w: cfg.Out}
	fctx, stopFleet := context.WithCancel(context.Background())
	defer stopFleet()
	fleetDone := make(chan struct{})
	go func() {
		f.Run(fctx)
		close(fleetDone)
	}()
	rctx, stopReports := context.WithCancel(context.Background())
	repDone := make(chan struct{})
	go func() {
		reportLoop(rctx, out, f, cfg.ReportInterval)
		close(repDone)
	}()
	finish := func() {
		stopFleet()
		<-fleetDone
		stopReports()
		<-repDone
	}

	// Connect everything first.
	t0 := time.Now()
	cctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
	err = f.WaitBooted(cctx, f.cfg.Count)
	cancel()
	res.ConnectIn = time.Since(t0)
	booted := f.stats.Booted.Load()
	if err != nil && ctx.Err() == nil {
		fmt.Fprintf(out, "only %d of %d stations booted within %v; going on with those\n", booted, f.cfg.Count, cfg.ConnectTimeout)
		errs := f.stats.Errors()
		if errs["http_404"] > 0 {
			fmt.Fprintln(out, "hint: HTTP 404 means the CSMS does not know the station ids; register them (chargestar sim --provision) or check --id-prefix")
		}
		if errs["http_401"] > 0 {
			fmt.Fprintln(out, "hint: HTTP 401 means the stations' Basic-authentication password is wrong; check --password")
		}
	} else if ctx.Err() == nil {
		fmt.Fprintf(out, "all %d stations connected and booted in %v\n", booted, res.ConnectIn.Round(time.Millisecond))
	}
	if cfg.Mode == ModeClosedLoop || cfg.Mode == ModeOpenLoop {
		// Let the load transactions start, then a second to settle.
		deadline := time.Now().Add(30 * time.Second)
		for f.stats.SessionsStarted.Load() < f.stats.Booted.Load() && time.Now().Before(deadline) && ctx.Err() == nil {
			time.Sleep(50 * time.Millisecond)
		}
	}

	var before Snapshot
	var cpu0 float64
	start := func() {
		if srv != nil {
			if m, err := ScrapeMetrics(ctx, httpc, cfg.MetricsURL); err == nil {
				srv.Start = m
			} else {
				fmt.Fprintf(out, "metrics: %v\n", err)
			}
		}
		before = f.stats.Snapshot()
		cpu0 = selfCPU()
	}
	end := func() {
		after := f.stats.Snapshot()
		res.SimCPU = selfCPU() - cpu0
		res.SimRSS = selfRSS()
		res.SimGoroutines = runtime.NumGoroutine()
		res.Activity = after.Sub(before)
		res.Window = after.At.Sub(before.At)
		res.Booted = after.Booted
		if srv != nil && !srv.Start.At.IsZero() {
			if m, err := ScrapeMetrics(context.Background(), httpc, cfg.MetricsURL); err == nil {
				srv.End = m
				srv.compute(res)
				res.Server = srv
			} else {
				fmt.Fprintf(out, "metrics: %v\n", err)
			}
		}
	}

	switch cfg.Mode {
	case ModeClosedLoop, ModeOpenLoop:
		f.StartLoad()
		sleepCtx(ctx, time.Second) // let the streams get going
		fmt.Fprintf(out, "measuring %s for %v\n", cfg.Mode, cfg.Duration)
		start()
		sleepCtx(ctx, cfg.Duration)
		end()
	case ModeStorm:
		sleepCtx(ctx, 2*time.Second)
		start()
		fmt.Fprintf(out, "dropping all %d connections\n", f.stats.Connected.Load())
		sr := f.Storm(ctx, cfg.Duration)
		res.Storm = &sr
		end()
	default:
		start()
		if cfg.Duration > 0 {
			sleepCtx(ctx, cfg.Duration)
		} else {
			<-ctx.Done()
		}
		end()
	}
	finish()
	writeSummary(cfg.Out, res)
	return res, nil
}

func (srv *ServerReport) compute(res *Result) {
	msgs := float64(res.Activity.Messages())
	cpu := srv.End.CPUSeconds - srv.Start.CPUSeconds
	if msgs > 0 {
		srv.CPUPerMessage = time.Duration(cpu / msgs * 1e9)
	}
	if w := srv.End.At.Sub(srv.Start.At).Seconds(); w > 0 {
		srv.CPUCores = cpu / w
	}
	if n := float64(res.Booted); n > 0 {
		srv.RSSPerStation = srv.End.RSSBytes / n
		srv.HeapPerStation = srv.End.HeapInuse / n
		srv.GoroutinesPerStation = srv.End.Goroutines / n
		if !srv.Baseline.At.IsZero() {
			srv.RSSDeltaPerStation = (srv.End.RSSBytes - srv.Baseline.RSSBytes) / n
			srv.HeapDeltaPerStation = (srv.End.HeapInuse - srv.Baseline.HeapInuse) / n
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// reportLoop prints a progress line every interval.
func reportLoop(ctx context.Context, w io.Writer, f *Fleet, every time.Duration) {
	t0 := time.Now()
	prev := f.stats.Snapshot()
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		cur := f.stats.Snapshot()
		d := cur.Sub(prev)
		prev = cur
		fmt.Fprintln(w, progressLine(cur.At.Sub(t0), len(f.stations), d))
	}
}

func progressLine(elapsed time.Duration, n int, d Snapshot) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[%6s] connected %d/%d booted %d | %.0f msg/s", elapsed.Round(time.Second), d.Connected, n, d.Booted, perSecond(d))
	if d.Latency.Count() > 0 {
		fmt.Fprintf(&b, " | latency p50 %s p95 %s p99 %s max %s", fmtDur(d.Latency.Quantile(0.5)), fmtDur(d.Latency.Quantile(0.95)),
			fmtDur(d.Latency.Quantile(0.99)), fmtDur(d.Latency.Max()))
	}
	if d.SessionsStarted > 0 || d.SessionsCompleted > 0 {
		fmt.Fprintf(&b, " | sessions +%d -%d", d.SessionsStarted, d.SessionsCompleted)
	}
	if d.Queued > 0 {
		fmt.Fprintf(&b, " | queued %d", d.Queued)
	}
	if len(d.Errors) > 0 {
		b.WriteString(" | errors")
		for _, k := range d.ErrorKinds() {
			fmt.Fprintf(&b, " %s=%d", k, d.Errors[k])
		}
	}
	return b.String()
}

// perSecond is the message rate of a difference of snapshots.
func perSecond(d Snapshot) float64 {
	if d.Span <= 0 {
		return 0
	}
	return float64(d.Messages()) / d.Span.Seconds()
}

// writeSummary prints the final report.
func writeSummary(w io.Writer, r *Result) {
	a := r.Activity
	fmt.Fprintf(w, "\n== %s: %d stations, %d online at the end, window %v ==\n", r.Mode, r.Stations, r.Booted, r.Window.Round(time.Millisecond))
	fmt.Fprintf(w, "connect+boot of all stations: %v\n", r.ConnectIn.Round(time.Millisecond))
	if r.Storm != nil {
		fmt.Fprintln(w, r.Storm.String())
		for i, s := range r.Storm.Stuck {
			if i == 20 {
				fmt.Fprintf(w, "  … and %d more\n", len(r.Storm.Stuck)-20)
				break
			}
			fmt.Fprintf(w, "  stuck: %s (%s)\n", s.ID, s.LastError)
		}
	}
	fmt.Fprintf(w, "messages: %d (%.0f/s); calls sent %d, answered %d, failed %d; CSMS commands answered %d\n",
		a.Messages(), perSecond(a), a.CallsSent, a.CallsOK, a.CallsFailed, a.CommandsIn)
	if a.SessionsStarted > 0 || a.SessionsCompleted > 0 {
		fmt.Fprintf(w, "sessions: %d started, %d completed, %.1f kWh delivered\n", a.SessionsStarted, a.SessionsCompleted, float64(a.EnergyWh)/1000)
	}
	if a.Latency.Count() > 0 {
		label := "latency"
		if r.Mode == ModeOpenLoop {
			label = "latency (from the intended send time)"
		}
		fmt.Fprintf(w, "%s: p50 %s p95 %s p99 %s max %s mean %s (%d samples)\n", label, fmtDur(a.Latency.Quantile(0.5)), fmtDur(a.Latency.Quantile(0.95)),
			fmtDur(a.Latency.Quantile(0.99)), fmtDur(a.Latency.Max()), fmtDur(a.Latency.Mean()), a.Latency.Count())
	}
	if a.Service.Count() > 0 {
		fmt.Fprintf(w, "latency (from the actual send time): p50 %s p95 %s p99 %s max %s\n", fmtDur(a.Service.Quantile(0.5)), fmtDur(a.Service.Quantile(0.95)),
			fmtDur(a.Service.Quantile(0.99)), fmtDur(a.Service.Max()))
	}
	if len(a.Errors) == 0 {
		fmt.Fprintln(w, "errors: none")
	} else {
		fmt.Fprint(w, "errors:")
		for _, k := range a.ErrorKinds() {
			fmt.Fprintf(w, " %s=%d", k, a.Errors[k])
		}
		fmt.Fprintln(w)
	}
	if s := r.Server; s != nil {
		if r.Storm != nil {
			cpu := s.End.CPUSeconds - s.Start.CPUSeconds
			fmt.Fprintf(w, "server CPU: %.2f s for the storm = %.0f µs per reconnected station (%.2f cores busy on average)\n",
				cpu, cpu/float64(max(r.Storm.Booted, 1))*1e6, s.CPUCores)
		} else {
			fmt.Fprintf(w, "server CPU: %.1f µs per message (%.2f cores busy on average)\n", float64(s.CPUPerMessage)/1e3, s.CPUCores)
		}
		fmt.Fprintf(w, "server memory: RSS %s = %s per online station", fmtBytes(s.End.RSSBytes), fmtBytes(s.RSSPerStation))
		if !s.Baseline.At.IsZero() {
			fmt.Fprintf(w, " (%s per station above the %s before connecting)", fmtBytes(s.RSSDeltaPerStation), fmtBytes(s.Baseline.RSSBytes))
		}
		fmt.Fprintf(w, "; Go heap in use %s = %s per station", fmtBytes(s.End.HeapInuse), fmtBytes(s.HeapPerStation))
		if !s.Baseline.At.IsZero() {
			fmt.Fprintf(w, " (%s above baseline)", fmtBytes(s.HeapDeltaPerStation))
		}
		fmt.Fprintf(w, "; %.0f goroutines (%.2f per station)\n", s.End.Goroutines, s.GoroutinesPerStation)
	}
	if r.Booted > 0 && r.SimRSS > 0 {
		fmt.Fprintf(w, "simulator: RSS %s (%s per station), %.2f cores, %d goroutines\n", fmtBytes(r.SimRSS), fmtBytes(r.SimRSS/float64(r.Stations)),
			r.SimCPU/max(r.Window.Seconds(), 1e-9), r.SimGoroutines)
	}
}

func fmtDur(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return d.Round(100 * time.Millisecond).String()
	case d >= time.Millisecond:
		return fmt.Sprintf("%.2fms", float64(d)/1e6)
	default:
		return fmt.Sprintf("%.0fµs", float64(d)/1e3)
	}
}

func fmtBytes(b float64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.2f GiB", b/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MiB", b/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.1f KiB", b/(1<<10))
	}
	return fmt.Sprintf("%.0f B", b)
}

// syncWriter serialises writes from the reporter and the run.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
