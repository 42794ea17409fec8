// Package server assembles Charge Star: the store, the CSMS core, the OCPP
// gateway and the HTTP surface (one listener: /ocpp, /api/v1, /healthz,
// /metrics), and runs them until told to stop, then shuts down in order so
// no in-flight write is lost.
package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/chargestar/chargestar/internal/alerts"
	"github.com/chargestar/chargestar/internal/api"
	"github.com/chargestar/chargestar/internal/console"
	"github.com/chargestar/chargestar/internal/csms"
	"github.com/chargestar/chargestar/internal/csms/ocpp16"
	"github.com/chargestar/chargestar/internal/csms/ocpp2"
	"github.com/chargestar/chargestar/internal/driverapp"
	"github.com/chargestar/chargestar/internal/gateway"
	"github.com/chargestar/chargestar/internal/live"
	"github.com/chargestar/chargestar/internal/ocpp/ocppj"
	"github.com/chargestar/chargestar/internal/payments"
	"github.com/chargestar/chargestar/internal/payments/sandbox"
	stripeprovider "github.com/chargestar/chargestar/internal/payments/stripe"
	"github.com/chargestar/chargestar/internal/sessionbilling"
	"github.com/chargestar/chargestar/internal/store"
	"github.com/chargestar/chargestar/internal/version"
)

// Config is everything `chargestar serve` can be told.
type Config struct {
	Addr     string // listen address, e.g. ":8080"
	DB       string // "sqlite:PATH" or a postgres:// URL
	Payments string // payment provider: "sandbox" or "stripe"
	// PublicURL is the server's URL as drivers' browsers reach it
	// ("https://charge.example"); "" is the listener's own address.
	PublicURL string
	// StripeSecretKey and StripeWebhookSecrets configure --payments stripe;
	// StripeAPIURL points at stripe-mock in tests.
	StripeSecretKey      string
	StripeWebhookSecrets []string
	StripeAPIURL         string
	// SandboxWebhookSecret keys the sandbox's webhook signatures ("": a
	// random secret per process, enough for its in-process delivery).
	SandboxWebhookSecret string
	// Billing tunes session billing (deadlines, margins).
	Billing             sessionbilling.Config
	AdminToken          string        // CHARGESTAR_ADMIN_TOKEN
	HeartbeatInterval   time.Duration // told to stations at boot
	PingInterval        time.Duration // WebSocket ping after this much silence
	CallTimeout         time.Duration // how long a station may take to answer us
	MaxMessageSize      int           // bytes; larger OCPP messages get a CALLERROR
	LogMeterValues      bool          // keep MeterValues frames in the message log
	StaleSessionGrace   time.Duration // close a session its station forgot after this (see csms.Config)
	ShutdownTimeout     time.Duration // how long a graceful shutdown may take
	DebugAddr           string        // when set, pprof is served on this separate listener
	MessageLogRetention time.Duration // message-log entries older than this are deleted hourly; 0 keeps them
	// CSMSOptions customise the core (billing plugs its cost provider and
	// authorizer in here; tests their fakes).
	CSMSOptions []csms.Option
	Logger      *slog.Logger
	// Listener, when set, is used instead of listening on Addr (tests, demo).
	Listener net.Listener
}

// Server is a running Charge Star instance.
type Server struct {
	cfg     Config
	log     *slog.Logger
	Store   *store.Store
	CSMS    *csms.Service
	Gateway *gateway.Gateway
	Billing *sessionbilling.Service
	sandbox *sandbox.Provider
	http    *http.Server
	ln      net.Listener
}

// Protocols returns the OCPP-J subprotocols served, in order of preference:
// the newest first, so that a station offering several speaks the richest.
func Protocols() []gateway.Protocol {
	return []gateway.Protocol{
		{Name: ocpp2.Version21, Dialect: ocppj.Dialect21, New: func(svc *csms.Service, l *csms.Link) gateway.Adapter { return ocpp2.New21(svc, l) }},
		{Name: ocpp2.Version201, Dialect: ocppj.Dialect201, New: func(svc *csms.Service, l *csms.Link) gateway.Adapter { return ocpp2.New201(svc, l) }},
		{Name: "ocpp1.6", Dialect: ocppj.Dialect16, New: func(svc *csms.Service, l *csms.Link) gateway.Adapter { return ocpp16.New(svc, l) }},
	}
}

// Open opens the database (applying migrations), builds the services and
// binds the listener. Nothing is served until Run.
func Open(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 20 * time.Second
	}
	log := cfg.Logger
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := csms.NewMetrics(reg)
	st, err := store.Open(ctx, cfg.DB, store.Options{Logger: log, Migrate: true, OnBatch: metrics.ObserveBatch})
	if err != nil {
		return nil, fmt.Errorf("opening database: %w", err)
	}
	if n, err := st.CloseStaleConnections(ctx); err != nil {
		st.Close()
		return nil, fmt.Errorf("closing connection periods left open: %w", err)
	} else if n > 0 {
		log.Info("connection periods left open by the last run closed at the stations' last seen times", "count", n)
	}
	ln := cfg.Listener
	if ln == nil {
		ln, err = net.Listen("tcp", cfg.Addr)
		if err != nil {
			st.Close()
			return nil, fmt.Errorf("listening on %s: %w", cfg.Addr, err)
		}
	}
	s := &Server{cfg: cfg, log: log, Store: st, ln: ln}
	publicURL := strings.TrimRight(cfg.PublicURL, "/")
	if publicURL == "" {
		publicURL = s.BaseURL()
	}
	provider, err := s.openProvider(publicURL)
	if err != nil {
		ln.Close()
		st.Close()
		return nil, err
	}
	bcfg := cfg.Billing
	bcfg.BaseURL = publicURL
	s.Billing = sessionbilling.New(st, provider, &csms.TokenAuthorizer{Store: st}, bcfg, log)
	// The live board's broker: the core nudges it when a station changes.
	broker := live.New()
	// Billing's seams first, so that tests' options can replace them.
	opts := append([]csms.Option{csms.WithAuthorizer(s.Billing), csms.WithCostProvider(s.Billing), csms.WithSessionObserver(s.Billing),
		csms.WithStationWatcher(broker)}, cfg.CSMSOptions...)
	svc := csms.New(st, csms.Config{
		HeartbeatInterval: cfg.HeartbeatInterval,
		CommandTimeout:    cfg.CallTimeout,
		LogMeterValues:    cfg.LogMeterValues,
		StaleSessionGrace: cfg.StaleSessionGrace,
	}, log, metrics, opts...)
	s.Billing.SetStations(svc)
	gw := gateway.New(svc, st, gateway.Config{
		Protocols:      Protocols(),
		MaxMessageSize: cfg.MaxMessageSize,
		PingInterval:   cfg.PingInterval,
		CallTimeout:    cfg.CallTimeout,
	}, log)
	s.CSMS, s.Gateway = svc, gw

	mux := http.NewServeMux()
	mux.Handle("GET /ocpp/{stationId}", gw)
	mux.Handle("/api/v1/", api.New(api.Deps{Store: st, CSMS: svc, Billing: s.Billing, Live: broker, PublicURL: publicURL, AdminToken: cfg.AdminToken, Logger: log}))
	mux.Handle("POST /webhooks/{provider}", http.HandlerFunc(s.webhook))
	if s.sandbox != nil {
		mux.Handle("/pay/sandbox/", s.sandbox.Handler())
	}
	mux.Handle("/console/", console.New(console.Deps{Store: st, Logger: log}))
	appDone := make(chan struct{})
	mux.Handle("/app/", driverapp.New(driverapp.Deps{Store: st, Billing: s.Billing, Logger: log, Done: appDone}))
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("GET /{$}", s.index)
	s.http = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	// Live streams never go idle: end them when shutdown begins, so that it
	// need not wait for them.
	s.http.RegisterOnShutdown(broker.Close)
	s.http.RegisterOnShutdown(func() { close(appDone) })
	return s, nil
}

// Addr returns the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// BaseURL returns http://host:port for the listener, with a loopback host
// when listening on all interfaces.
func (s *Server) BaseURL() string {
	addr := s.ln.Addr().(*net.TCPAddr)
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "localhost"
	}
	return fmt.Sprintf("http://%s", net.JoinHostPort(host, fmt.Sprint(addr.Port)))
}

// Run serves until ctx is done, then shuts down gracefully: stop accepting,
// let API requests finish, close station connections (their in-flight
// calls complete first), write the last-seen times, flush queued writes and
// close the database.
func (s *Server) Run(ctx context.Context) error {
	s.CSMS.Start()
	s.Gateway.Run()
	errc := make(chan error, 1)
	go func() { errc <- s.http.Serve(s.ln) }()
	if s.cfg.DebugAddr != "" {
		dbg := http.NewServeMux()
		dbg.HandleFunc("/debug/pprof/", pprof.Index)
		dbg.HandleFunc("/debug/pprof/profile", pprof.Profile)
		dbg.HandleFunc("/debug/pprof/trace", pprof.Trace)
		dbg.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		dbg.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		dsrv := &http.Server{Addr: s.cfg.DebugAddr, Handler: dbg, ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := dsrv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Error("debug listener failed", "addr", s.cfg.DebugAddr, "err", err)
			}
		}()
		defer dsrv.Close()
		s.log.Info("pprof profiles served", "addr", s.cfg.DebugAddr)
	}
	var jobs sync.WaitGroup
	jobsCtx, stopJobs := context.WithCancel(context.Background())
	jobs.Add(1)
	go func() {
		defer jobs.Done()
		s.Billing.Run(jobsCtx)
	}()
	if s.sandbox != nil {
		jobs.Add(1)
		go func() {
			defer jobs.Done()
			s.sandbox.Run(jobsCtx)
		}()
	}
	if s.cfg.MessageLogRetention > 0 {
		jobs.Add(1)
		go func() {
			defer jobs.Done()
			s.pruneMessageLog(jobsCtx)
		}()
	}
	// Alerts (offline stations, faulted connectors, stuck payments) and
	// their webhooks, every 30 s.
	jobs.Add(1)
	go func() {
		defer jobs.Done()
		alerts.NewWorker(s.Store, alerts.Config{Logger: s.log}).Run(jobsCtx)
	}()
	defer func() { stopJobs(); jobs.Wait() }()
	s.log.Info("chargestar serving", "addr", s.ln.Addr().String(), "db", s.Store.Dialect(), "version", version.Version())

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	s.log.Info("shutting down")
	stopJobs()
	jobs.Wait()
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := s.http.Shutdown(sctx); err != nil {
		s.log.Warn("HTTP shutdown incomplete", "err", err)
	}
	if err := s.Gateway.Shutdown(sctx); err != nil {
		s.log.Warn("station connections did not all close in time", "err", err)
	}
	s.CSMS.Stop(sctx)
	if err := s.Store.Close(); err != nil {
		s.log.Error("closing database", "err", err)
		if serveErr == nil {
			serveErr = err
		}
	}
	s.log.Info("stopped")
	if errors.Is(serveErr, http.ErrServerClosed) {
		return nil
	}
	return serveErr
}

// pruneMessageLog deletes old message-log entries a minute after start and
// then hourly, until ctx ends.
func (s *Server) pruneMessageLog(ctx context.Context) {
	t := time.NewTimer(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		before := time.Now().Add(-s.cfg.MessageLogRetention)
		if n, err := s.Store.PruneMessages(ctx, before); err != nil {
			if ctx.Err() == nil {
				s.log.Warn("pruning the message log failed", "err", err)
			}
		} else if n > 0 {
			s.log.Info("message log pruned", "deleted", n, "before", before.UTC().Format(time.RFC3339))
		}
		// Expired console sign-ins are refused anyway; this only keeps
		// the table small.
		if err := s.Store.PruneConsoleSessions(ctx, time.Now()); err != nil && ctx.Err() == nil {
			s.log.Warn("pruning console sessions failed", "err", err)
		}
		t.Reset(time.Hour)
	}
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if err := s.Store.Ping(ctx); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		json.NewEncoder(w).Encode(map[string]string{"status": "unavailable", "error": "database not answering"})
		return
	}
	json.NewEncoder(w).Encode(map[string]string{"status": "ok"})
}

func (s *Server) index(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"name":    "Charge Star",
		"version": version.Version(),
		"links": map[string]string{
			"api":     "/api/v1/",
			"openapi": "/api/v1/openapi.json",
			"ocpp":    "/ocpp/{stationId}",
			"health":  "/healthz",
			"metrics": "/metrics",
		},
	})
}

// openProvider builds the configured payment provider. The sandbox delivers
// its webhooks in-process, straight to billing (through the same
// verification as a delivery over HTTP).
func (s *Server) openProvider(publicURL string) (payments.Provider, error) {
	switch s.cfg.Payments {
	case "", "sandbox":
		sb, err := sandbox.New(s.Store, sandbox.Options{
			BaseURL:       publicURL + "/pay/sandbox",
			WebhookSecret: s.cfg.SandboxWebhookSecret,
			WebhookFunc: func(ctx context.Context, payload []byte, header http.Header) error {
				return s.Billing.HandleWebhook(ctx, payload, header)
			},
			Logger: s.log,
		})
		if err != nil {
			return nil, fmt.Errorf("payments: %w", err)
		}
		s.sandbox = sb
		return sb, nil
	case "stripe":
		p, err := stripeprovider.New(stripeprovider.Config{SecretKey: s.cfg.StripeSecretKey, WebhookSecrets: s.cfg.StripeWebhookSecrets, APIURL: s.cfg.StripeAPIURL})
		if err != nil {
			return nil, fmt.Errorf("payments: %w", err)
		}
		return p, nil
	}
	return nil, fmt.Errorf("payments: unknown provider %q", s.cfg.Payments)
}

// maxWebhookBody bounds a webhook delivery (Stripe's events are a few KiB).
const maxWebhookBody = 1 << 20

// webhook receives the payment provider's webhooks: verified, applied once
// (redeliveries are recognised by event id), answered 2xx so the provider
// stops retrying, or 5xx so it retries later.
func (s *Server) webhook(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("provider") != s.Billing.Provider().Name() {
		http.Error(w, "unknown payment provider", http.StatusNotFound)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBody))
	if err != nil {
		http.Error(w, "body too large or unreadable", http.StatusBadRequest)
		return
	}
	err = s.Billing.HandleWebhook(r.Context(), body, r.Header)
	switch {
	case err == nil:
		w.WriteHeader(http.StatusNoContent)
	case errors.Is(err, payments.ErrInvalidSignature):
		http.Error(w, "invalid signature", http.StatusBadRequest)
	default:
		s.log.Warn("webhook not applied; the provider will retry", "err", err)
		http.Error(w, "not applied, retry later", http.StatusInternalServerError)
	}
}
