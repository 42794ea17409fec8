package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	netmail "net/mail"
	"os"
	"strings"
	"time"

	"github.com/chargestar/chargestar/internal/config"
	"github.com/chargestar/chargestar/internal/mail"
	"github.com/chargestar/chargestar/internal/server"
	"github.com/chargestar/chargestar/internal/sessionbilling"
	"github.com/chargestar/chargestar/internal/store"
	"github.com/chargestar/chargestar/internal/version"
)

// serverFlags are the flags shared by serve and demo.
type serverFlags struct {
	addr              string
	db                string
	payments          string
	heartbeatInterval time.Duration
	pingInterval      time.Duration
	callTimeout       time.Duration
	maxMessageSize    int
	logMeterValues    bool
	logLevel          string
	logFormat         string
	debugAddr         string
	logRetention      time.Duration
	publicURL         string
	stripeKey         string
	stripeWebhook     string
	stripeAPIURL      string
	startTimeout      time.Duration
	offlineDeadline   time.Duration
	smtpAddr          string
	smtpUser          string
	smtpPassword      string
	mailFrom          string
}

func (f *serverFlags) register(fs *flag.FlagSet, defaultDB, defaultLogFormat string) {
	fs.StringVar(&f.addr, "addr", ":8080", "the one HTTP listener for OCPP, the API, /healthz and /metrics")
	fs.StringVar(&f.db, "db", defaultDB, "database: sqlite:PATH (embedded) or a postgres:// URL")
	fs.StringVar(&f.payments, "payments", "sandbox", "payment provider: sandbox (built in, offline) or stripe")
	fs.StringVar(&f.publicURL, "public-url", "", "the server's URL as drivers' browsers reach it, e.g. https://charge.example (default: the listener's address); payment pages return there")
	fs.StringVar(&f.stripeKey, "stripe-secret-key", "", "--payments stripe: the platform's Stripe secret key (sk_…)")
	fs.StringVar(&f.stripeWebhook, "stripe-webhook-secret", "", "--payments stripe: signing secrets (whsec_…) of the webhook endpoints delivering to /webhooks/stripe, comma separated (platform and Connect)")
	fs.StringVar(&f.stripeAPIURL, "stripe-api-url", "", "--payments stripe: Stripe API base URL (default https://api.stripe.com; stripe-mock for testing)")
	fs.StringVar(&f.smtpAddr, "smtp-addr", "", "SMTP server (host:port) for receipts and sign-in codes; unset: emails are written to the log")
	fs.StringVar(&f.smtpUser, "smtp-username", "", "SMTP user name (PLAIN authentication, after STARTTLS)")
	fs.StringVar(&f.smtpPassword, "smtp-password", "", "SMTP password (prefer CHARGESTAR_SMTP_PASSWORD)")
	fs.StringVar(&f.mailFrom, "mail-from", "NextCharge <receipts@nextcharge.example>", "sender of drivers' emails")
	fs.DurationVar(&f.startTimeout, "start-timeout", 3*time.Minute, "release a paid hold when the station has not started charging within this time")
	fs.DurationVar(&f.offlineDeadline, "offline-stop-deadline", 2*time.Hour, "finish a paid session from its last meter reading when its station has been offline this long")
	fs.DurationVar(&f.heartbeatInterval, "heartbeat-interval", 5*time.Minute, "heartbeat interval told to stations at boot")
	fs.DurationVar(&f.pingInterval, "ping-interval", time.Minute, "WebSocket ping after this much silence from a station; an unanswered ping closes the connection")
	fs.DurationVar(&f.callTimeout, "call-timeout", 30*time.Second, "how long a station may take to answer a command")
	fs.IntVar(&f.maxMessageSize, "max-message-size", 256<<10, "largest OCPP message accepted, in bytes (larger ones get a CALLERROR)")
	fs.BoolVar(&f.logMeterValues, "log-meter-values", false, "keep MeterValues frames in the per-station message log (they are stored as meter values regardless)")
	fs.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.StringVar(&f.logFormat, "log-format", defaultLogFormat, "log format: json or text")
	fs.DurationVar(&f.logRetention, "message-log-retention", 7*24*time.Hour, "keep the per-station OCPP message log this long (0: forever)")
	fs.StringVar(&f.debugAddr, "debug-addr", "", "when set, serve Go's pprof profiles on this separate address (e.g. 127.0.0.1:6060); keep it private")
}

func (f *serverFlags) check() error {
	if !strings.HasPrefix(f.db, "sqlite:") && !strings.HasPrefix(f.db, "postgres://") && !strings.HasPrefix(f.db, "postgresql://") {
		return config.Usagef("--db / CHARGESTAR_DB must be sqlite:PATH or a postgres:// URL, got %q", f.db)
	}
	if f.db == "sqlite:" {
		return config.Usagef("--db / CHARGESTAR_DB: sqlite: needs a file path")
	}
	switch f.payments {
	case "sandbox":
	case "stripe":
		if !strings.HasPrefix(f.stripeKey, "sk_") && !strings.HasPrefix(f.stripeKey, "rk_") {
			return config.Usagef("--stripe-secret-key / CHARGESTAR_STRIPE_SECRET_KEY must be a Stripe secret key (sk_… or rk_…) with --payments stripe")
		}
		if f.stripeWebhook == "" {
			return config.Usagef("--stripe-webhook-secret / CHARGESTAR_STRIPE_WEBHOOK_SECRET is required with --payments stripe (whsec_…)")
		}
	default:
		return config.Usagef("--payments / CHARGESTAR_PAYMENTS must be sandbox or stripe, got %q", f.payments)
	}
	if f.heartbeatInterval < time.Second {
		return config.Usagef("--heartbeat-interval / CHARGESTAR_HEARTBEAT_INTERVAL must be at least 1s")
	}
	if f.pingInterval < time.Second {
		return config.Usagef("--ping-interval / CHARGESTAR_PING_INTERVAL must be at least 1s")
	}
	if f.callTimeout < time.Second {
		return config.Usagef("--call-timeout / CHARGESTAR_CALL_TIMEOUT must be at least 1s")
	}
	if f.publicURL != "" && !strings.HasPrefix(f.publicURL, "http://") && !strings.HasPrefix(f.publicURL, "https://") {
		return config.Usagef("--public-url / CHARGESTAR_PUBLIC_URL must be an http:// or https:// URL, got %q", f.publicURL)
	}
	if f.startTimeout < 10*time.Second {
		return config.Usagef("--start-timeout / CHARGESTAR_START_TIMEOUT must be at least 10s")
	}
	if f.offlineDeadline < time.Minute {
		return config.Usagef("--offline-stop-deadline / CHARGESTAR_OFFLINE_STOP_DEADLINE must be at least 1m")
	}
	if f.smtpAddr != "" {
		if _, _, err := net.SplitHostPort(f.smtpAddr); err != nil {
			return config.Usagef("--smtp-addr / CHARGESTAR_SMTP_ADDR must be host:port, got %q", f.smtpAddr)
		}
		if _, err := netmail.ParseAddress(f.mailFrom); err != nil {
			return config.Usagef("--mail-from / CHARGESTAR_MAIL_FROM must be an email address, got %q", f.mailFrom)
		}
	}
	if f.logRetention < 0 {
		return config.Usagef("--message-log-retention / CHARGESTAR_MESSAGE_LOG_RETENTION must not be negative")
	}
	if f.maxMessageSize < 4<<10 || f.maxMessageSize > 64<<20 {
		return config.Usagef("--max-message-size / CHARGESTAR_MAX_MESSAGE_SIZE must be between 4096 and 67108864")
	}
	_, err := f.logger(io.Discard)
	return err
}

func (f *serverFlags) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		return nil, config.Usagef("--log-level / CHARGESTAR_LOG_LEVEL must be debug, info, warn or error, got %q", f.logLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch f.logFormat {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, config.Usagef("--log-format / CHARGESTAR_LOG_FORMAT must be json or text, got %q", f.logFormat)
}

func (f *serverFlags) serverConfig(log *slog.Logger) server.Config {
	return server.Config{
		Addr: f.addr, DB: f.db, Payments: f.payments, AdminToken: os.Getenv("CHARGESTAR_ADMIN_TOKEN"),
		HeartbeatInterval: f.heartbeatInterval, PingInterval: f.pingInterval, CallTimeout: f.callTimeout,
		MaxMessageSize: f.maxMessageSize, LogMeterValues: f.logMeterValues, Logger: log,
		DebugAddr: f.debugAddr, MessageLogRetention: f.logRetention,
		PublicURL: f.publicURL, StripeSecretKey: f.stripeKey, StripeAPIURL: f.stripeAPIURL,
		StripeWebhookSecrets: splitList(f.stripeWebhook),
		Billing:              sessionbilling.Config{StartTimeout: f.startTimeout, OfflineStopDeadline: f.offlineDeadline, Mailer: f.mailer()},
	}
}

// mailer is the configured SMTP mailer, or nil (billing then logs emails).
func (f *serverFlags) mailer() mail.Mailer {
	if f.smtpAddr == "" {
		return nil
	}
	return &mail.SMTPMailer{Addr: f.smtpAddr, Username: f.smtpUser, Password: f.smtpPassword, From: f.mailFrom}
}

func serveCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var f serverFlags
	f.register(fs, "sqlite:./data/chargestar.db", "json")
	if err := parseOrHelp(fs, args, stdout, "Usage: chargestar serve [flags]\n\nRuns the whole system. Creates the database and applies pending migrations itself.\nCHARGESTAR_ADMIN_TOKEN, when set, is a platform-administrator API token."); err != nil {
		return err
	}
	if err := f.check(); err != nil {
		return err
	}
	log, _ := f.logger(stderr)
	srv, err := server.Open(ctx, f.serverConfig(log))
	if err != nil {
		return err
	}
	return srv.Run(ctx)
}

func migrateCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	db := fs.String("db", "sqlite:./data/chargestar.db", "database: sqlite:PATH or a postgres:// URL")
	if err := parseOrHelp(fs, args, stdout, "Usage: chargestar migrate [flags]\n\nApplies pending database migrations and exits."); err != nil {
		return err
	}
	f := serverFlags{db: *db, payments: "sandbox", startTimeout: time.Minute, offlineDeadline: time.Hour, heartbeatInterval: time.Minute, pingInterval: time.Minute, callTimeout: time.Minute, maxMessageSize: 1 << 20, logLevel: "info", logFormat: "text"}
	if err := f.check(); err != nil {
		return err
	}
	st, err := store.Open(ctx, *db, store.Options{Logger: slog.New(slog.NewTextHandler(stderr, nil)), Migrate: true})
	if err != nil {
		return err
	}
	defer st.Close()
	fmt.Fprintf(stdout, "migrations applied (%s)\n", st.Dialect())
	return nil
}

func versionCmd(args []string, stdout io.Writer) error {
	if len(args) > 0 {
		return config.Usagef("version takes no arguments")
	}
	fmt.Fprintf(stdout, "chargestar %s (%s)\n", version.Version(), version.GoVersion())
	return nil
}

// parseOrHelp parses flags (with environment fallback) and prints help for --help.
func parseOrHelp(fs *flag.FlagSet, args []string, stdout io.Writer, synopsis string) error {
	err := config.Parse(fs, args, os.Getenv)
	if err == flag.ErrHelp {
		config.Usage(stdout, fs, synopsis)
	}
	return err
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}
