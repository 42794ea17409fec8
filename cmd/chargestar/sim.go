package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/chargestar/chargestar/internal/config"
	"github.com/chargestar/chargestar/internal/sim"
)

const simSynopsis = `Usage: chargestar sim [flags]

Simulates OCPP-J charging stations — 1.6, 2.0.1, 2.1 or a mix — against a
CSMS, as a realistic fleet or as a load generator. Station ids are
<id-prefix><n>, zero-padded (SIM00001, SIM00002, …); each connector's
drivers use the RFID tag <station id>-<connector> (e.g. SIM00001-1).

Protocols (--protocol):
  ocpp1.6      the default
  ocpp2.0.1    each connector is an EVSE with one connector (evseId = the
  ocpp2.1      connector number); sessions are TransactionEvent Started /
               Updated / Ended under a station-made transactionId; the CSMS
               can configure the station through a small device model
               (GetVariables, SetVariables, GetBaseReport). 2.1 also obeys
               transaction limits (maxEnergy, maxTime, maxCost) and tariffs.
  mixed        stations dealt out round-robin over the three (SIM00001 1.6,
               SIM00002 2.0.1, SIM00003 2.1, SIM00004 1.6, …)
  a list       e.g. ocpp1.6,ocpp1.6,ocpp2.1: dealt out round-robin over the
               list; repeat a protocol to weight it (here two thirds 1.6)

Modes:
  sessions     drivers arrive, authorise, charge and leave (idle gaps between);
               runs for --duration, or until interrupted when 0
  closed-loop  each station runs one transaction and sends MeterValues as fast
               as the answers come back (one call in flight per station);
               2.x stations send TransactionEvent Updated (MeterValuePeriodic)
  open-loop    each station sends MeterValues (2.x: TransactionEvent Updated)
               at --rate per second whatever the answers do; latency counts
               from the intended send time
  storm        connect all, drop all connections at once, and time until every
               station is connected and booted again (--duration: how long to wait)

Every --report-interval a progress line is printed; at the end a summary:
messages/s, latency p50/p95/p99/max, errors by kind and, with --metrics-url,
the server's CPU per message and memory per connected station.

Examples:
  CHARGESTAR_ADMIN_TOKEN=secret chargestar serve &
  chargestar sim --provision --api-token secret --stations 50
  chargestar sim --stations 1000 --mode closed-loop --duration 30s \
      --metrics-url http://localhost:8080/metrics
  chargestar sim --stations 300 --protocol mixed
  chargestar sim --stations 10000 --mode open-loop --rate 1 --duration 60s
  chargestar sim --stations 18000 --mode storm --concurrency 500`

// parseProtocols reads --protocol: one protocol, "mixed", or a
// comma-separated list the stations are dealt out over.
func parseProtocols(v string) ([]string, error) {
	if v == sim.ProtocolMixed {
		return sim.Protocols, nil
	}
	var out []string
	for _, p := range strings.Split(v, ",") {
		p = strings.TrimSpace(p)
		if !slices.Contains(sim.Protocols, p) {
			return nil, fmt.Errorf("%q is not simulated; use %s, %s or a comma-separated list of them", p, strings.Join(sim.Protocols, ", "), sim.ProtocolMixed)
		}
		out = append(out, p)
	}
	return out, nil
}

// protocolMix describes how many stations speak each protocol, e.g.
// "ocpp1.6" or "ocpp1.6 ×34, ocpp2.0.1 ×33, ocpp2.1 ×33".
func protocolMix(per []string) string {
	counts := map[string]int{}
	var order []string
	for _, p := range per {
		if counts[p] == 0 {
			order = append(order, p)
		}
		counts[p]++
	}
	if len(order) == 1 {
		return order[0]
	}
	parts := make([]string, len(order))
	for i, p := range order {
		parts[i] = fmt.Sprintf("%s ×%d", p, counts[p])
	}
	return strings.Join(parts, ", ")
}

func simCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	var (
		target     = fs.String("url", "ws://localhost:8080/ocpp", "the CSMS's OCPP-J endpoint; each station dials <url>/<station id>")
		stations   = fs.Int("stations", 10, "number of stations")
		idPrefix   = fs.String("id-prefix", "SIM", "station id prefix")
		connectors = fs.Int("connectors", 2, "connectors per station")
		protocol   = fs.String("protocol", "ocpp1.6", "OCPP-J subprotocol: "+strings.Join(sim.Protocols, ", ")+"; "+sim.ProtocolMixed+
			" (round-robin over all three); or a comma-separated list to deal the stations out over (repeat one to weight it)")
		password        = fs.String("password", "", "HTTP Basic password of every station (security profile 1); empty: none")
		mode            = fs.String("mode", "sessions", "sessions, closed-loop, open-loop or storm")
		rate            = fs.Float64("rate", 1, "open-loop: MeterValues (2.x: TransactionEvent Updated) per second per station")
		duration        = fs.Duration("duration", 0, "sessions: run time (0: until interrupted); closed-/open-loop: measurement window (0: 30s); storm: longest wait for reconnection (0: 5m)")
		meterInterval   = fs.Duration("meter-interval", time.Minute, "sessions: MeterValues interval during a transaction")
		powerKW         = fs.Float64("power-kw", 11, "maximum charging power of a connector, kW")
		sessionDuration = fs.Duration("session-duration", 30*time.Minute, "sessions: mean session length (±25%)")
		idle            = fs.Duration("idle", 10*time.Minute, "sessions: mean gap between sessions on a connector (exponential)")
		concurrency     = fs.Int("concurrency", 100, "how many stations connect and boot at once at start")
		localAddrs      = fs.String("local-addrs", "auto", "source addresses to spread connections over: auto (loopback target and over 1,000 stations: one 127.0.0.x per 8,000 stations), none, a count K (127.0.0.2…), or a comma-separated list")
		metricsURL      = fs.String("metrics-url", "", "the server's /metrics URL; scraped to report its CPU per message and memory per station")
		provision       = fs.Bool("provision", false, "create the operator, stations and id tags through the REST API first (409: exists, fine)")
		apiURL          = fs.String("api-url", "", "REST API base URL for --provision (default: from --url, e.g. http://localhost:8080)")
		apiToken        = fs.String("api-token", "", "administrator API token for --provision (e.g. the server's CHARGESTAR_ADMIN_TOKEN)")
		seed            = fs.Uint64("seed", 1, "random seed; the same seed repeats the same run")
		reportInterval  = fs.Duration("report-interval", 5*time.Second, "time between progress lines")
		logLevel        = fs.String("log-level", "warn", "log level: debug (every frame), info, warn, error")
	)
	if err := parseOrHelp(fs, args, stdout, simSynopsis); err != nil {
		return err
	}

	// Check everything before doing anything.
	u, err := url.Parse(*target)
	if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
		return config.Usagef("--url / CHARGESTAR_URL must be a ws:// or wss:// URL, got %q", *target)
	}
	protocols, err := parseProtocols(*protocol)
	if err != nil {
		return config.Usagef("--protocol / CHARGESTAR_PROTOCOL: %v", err)
	}
	m := sim.Mode(*mode)
	switch m {
	case sim.ModeSessions, sim.ModeClosedLoop, sim.ModeOpenLoop, sim.ModeStorm:
	default:
		return config.Usagef("--mode / CHARGESTAR_MODE must be sessions, closed-loop, open-loop or storm, got %q", *mode)
	}
	switch {
	case *stations < 1:
		return config.Usagef("--stations / CHARGESTAR_STATIONS must be at least 1")
	case *connectors < 1 || *connectors > 32:
		return config.Usagef("--connectors / CHARGESTAR_CONNECTORS must be 1 to 32")
	case *rate <= 0 || *rate > 1000:
		return config.Usagef("--rate / CHARGESTAR_RATE must be above 0 and at most 1000 per second")
	case *duration < 0:
		return config.Usagef("--duration / CHARGESTAR_DURATION must not be negative")
	case *meterInterval < 10*time.Millisecond:
		return config.Usagef("--meter-interval / CHARGESTAR_METER_INTERVAL must be at least 10ms")
	case *powerKW <= 0 || *powerKW > 1000:
		return config.Usagef("--power-kw / CHARGESTAR_POWER_KW must be above 0 and at most 1000")
	case *sessionDuration < 10*time.Millisecond:
		return config.Usagef("--session-duration / CHARGESTAR_SESSION_DURATION must be at least 10ms")
	case *idle < time.Millisecond:
		return config.Usagef("--idle / CHARGESTAR_IDLE must be at least 1ms")
	case *concurrency < 1:
		return config.Usagef("--concurrency / CHARGESTAR_CONCURRENCY must be at least 1")
	case *reportInterval < 100*time.Millisecond:
		return config.Usagef("--report-interval / CHARGESTAR_REPORT_INTERVAL must be at least 100ms")
	case len(*idPrefix) > 40 || strings.ContainsAny(*idPrefix, "/?# "):
		return config.Usagef("--id-prefix / CHARGESTAR_ID_PREFIX must be at most 40 characters without / ? # or spaces")
	case *password != "" && (len(*password) < 8 || len(*password) > 40):
		return config.Usagef("--password / CHARGESTAR_PASSWORD must be 8 to 40 characters (OCPP security profile 1)")
	}
	if *metricsURL != "" {
		if mu, err := url.Parse(*metricsURL); err != nil || (mu.Scheme != "http" && mu.Scheme != "https") {
			return config.Usagef("--metrics-url / CHARGESTAR_METRICS_URL must be an http:// URL, got %q", *metricsURL)
		}
	}
	addrs, err := sim.LocalAddrs(*localAddrs, *target, *stations)
	if err != nil {
		return config.Usagef("--local-addrs / CHARGESTAR_LOCAL_ADDRS: %v", err)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return config.Usagef("--log-level / CHARGESTAR_LOG_LEVEL must be debug, info, warn or error, got %q", *logLevel)
	}
	if *provision {
		if *apiToken == "" {
			return config.Usagef("--provision needs --api-token / CHARGESTAR_API_TOKEN (an administrator token, such as the server's CHARGESTAR_ADMIN_TOKEN)")
		}
		if *apiURL == "" {
			scheme := "http"
			if u.Scheme == "wss" {
				scheme = "https"
			}
			*apiURL = scheme + "://" + u.Host
		} else if au, err := url.Parse(*apiURL); err != nil || (au.Scheme != "http" && au.Scheme != "https") {
			return config.Usagef("--api-url / CHARGESTAR_API_URL must be an http:// URL, got %q", *apiURL)
		}
	}
	// One connection is one open file; the process limit is hard.
	if soft, hard, err := sim.FDLimit(); err == nil {
		need := uint64(*stations) + 64
		if need > soft {
			return config.Usagef("--stations / CHARGESTAR_STATIONS: %d stations need about %d open files, but this process may open only %d (ulimit -n; hard limit %d). Run fewer stations per process, or raise the limit",
				*stations, need, soft, hard)
		}
	}
	if len(addrs) == 0 && *stations > 25000 && strings.HasPrefix(u.Hostname(), "127.") {
		fmt.Fprintf(stderr, "warning: %d connections from one source address to one server port may run out of ephemeral ports; see --local-addrs\n", *stations)
	}

	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	fleet := sim.FleetConfig{
		Count: *stations, IDPrefix: *idPrefix, Concurrency: *concurrency, LocalAddrs: addrs, Protocols: protocols,
		Station: sim.Config{
			URL: strings.TrimRight(*target, "/"), Password: *password, Connectors: *connectors,
			PowerKW: *powerKW, MeterInterval: *meterInterval, SessionDuration: *sessionDuration, Idle: *idle,
			Rate: *rate, Seed: *seed, Logger: log,
		},
	}
	ids := sim.FleetIDs(fleet)

	if *provision {
		fmt.Fprintf(stdout, "provisioning %d stations and %d id tags through %s …\n", len(ids), len(ids)**connectors, *apiURL)
		pr, err := sim.Provision(ctx, sim.ProvisionConfig{APIURL: *apiURL, Token: *apiToken, StationIDs: ids,
			Password: *password, Connectors: *connectors})
		if err != nil {
			return fmt.Errorf("provisioning: %w", err)
		}
		verb := "reused"
		if pr.OperatorCreated {
			verb = "created"
		}
		fmt.Fprintf(stdout, "operator %s %s; stations: %d created, %d existed; id tags: %d created, %d existed\n",
			pr.OperatorID, verb, pr.StationsCreated, pr.StationsExisted, pr.TokensCreated, pr.TokensExisted)
	}

	src := "system-chosen source address"
	if len(addrs) > 0 {
		src = fmt.Sprintf("%d source addresses (%s…)", len(addrs), addrs[0])
	}
	fmt.Fprintf(stdout, "chargestar sim: %d stations %s…%s (%s) → %s, mode %s, %s, %d connectors each\n",
		len(ids), ids[0], ids[len(ids)-1], protocolMix(sim.FleetProtocols(fleet)), *target, m, src, *connectors)

	res, err := sim.Run(ctx, sim.RunConfig{Fleet: fleet, Mode: m, Duration: *duration, ReportInterval: *reportInterval,
		MetricsURL: *metricsURL, Out: stdout})
	if err != nil {
		return err
	}
	switch {
	case res.Storm != nil && len(res.Storm.Stuck) > 0:
		return fmt.Errorf("%d of %d stations did not come back after the storm", len(res.Storm.Stuck), res.Stations)
	case (m == sim.ModeClosedLoop || m == sim.ModeOpenLoop) && res.Activity.CallsOK == 0 && ctx.Err() == nil:
		return errors.New("no message was answered in the measurement window")
	case res.Booted == 0 && ctx.Err() == nil:
		return errors.New("no station could connect and boot; see the errors above")
	}
	return nil
}
