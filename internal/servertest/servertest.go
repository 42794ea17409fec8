// Package servertest runs a real Charge Star server for tests — on SQLite,
// or on PostgreSQL when CHARGESTAR_TEST_POSTGRES_URL is set and the test
// asks for it — and provides a raw OCPP-J station client that sends exactly
// the frames a test writes, for conformance and malformed-input tests.
package servertest

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/chargestar/chargestar/internal/csms"
	"github.com/chargestar/chargestar/internal/model"
	"github.com/chargestar/chargestar/internal/server"
	"github.com/chargestar/chargestar/internal/sessionbilling"
	"github.com/chargestar/chargestar/internal/testutil"
)

// AdminToken is the platform-administrator token of every test server.
const AdminToken = "test-admin-token"

// Options tune a test server.
type Options struct {
	Postgres          bool // run on PostgreSQL (skips, or fails under strict mode, when not configured)
	HeartbeatInterval time.Duration
	CallTimeout       time.Duration
	PingInterval      time.Duration
	MaxMessageSize    int
	StaleSessionGrace time.Duration
	Logger            *slog.Logger
	DB                string // explicit database; overrides Postgres
	CSMSOptions       []csms.Option
	Billing           sessionbilling.Config
	// Payments "stripe" runs the Stripe provider against StripeAPIURL
	// (stripe-mock), with StripeTestKey and StripeWebhookSecret.
	Payments     string
	StripeAPIURL string
}

// Server is a running test server.
type Server struct {
	*server.Server
	URL      string // http://127.0.0.1:port
	WSURL    string // ws://127.0.0.1:port/ocpp
	cancel   context.CancelFunc
	done     chan error
	stopOnce sync.Once
}

// SandboxWebhookSecret keys the test servers' sandbox webhooks, so tests
// can sign deliveries of their own.
const SandboxWebhookSecret = "whsec_test_sandbox"

// StripeTestKey and StripeWebhookSecret configure Options.Payments "stripe".
const (
	StripeTestKey       = "sk_test_123"
	StripeWebhookSecret = "whsec_test_stripe"
)

// Start starts a server for the test and stops it when the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	db := opts.DB
	if db == "" {
		db = "sqlite:" + t.TempDir() + "/chargestar.db"
		if opts.Postgres {
			db = PostgresDSN(t)
		}
	}
	log := opts.Logger
	if log == nil {
		if os.Getenv("CHARGESTAR_TEST_LOG") != "" {
			log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
		} else {
			log = slog.New(slog.DiscardHandler)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := server.Config{
		DB: db, Payments: "sandbox", AdminToken: AdminToken, Logger: log, Listener: ln,
		HeartbeatInterval: opts.HeartbeatInterval, CallTimeout: opts.CallTimeout,
		PingInterval: opts.PingInterval, MaxMessageSize: opts.MaxMessageSize, ShutdownTimeout: 10 * time.Second,
		StaleSessionGrace: opts.StaleSessionGrace, CSMSOptions: opts.CSMSOptions,
		Billing: opts.Billing, SandboxWebhookSecret: SandboxWebhookSecret,
	}
	if opts.Payments == "stripe" {
		cfg.Payments, cfg.StripeAPIURL = "stripe", opts.StripeAPIURL
		cfg.StripeSecretKey, cfg.StripeWebhookSecrets = StripeTestKey, []string{StripeWebhookSecret}
	}
	if cfg.HeartbeatInterval == 0 {
		cfg.HeartbeatInterval = 300 * time.Second
	}
	if cfg.CallTimeout == 0 {
		cfg.CallTimeout = 5 * time.Second
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.Open(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatalf("starting server: %v", err)
	}
	s := &Server{Server: srv, URL: "http://" + ln.Addr().String(), WSURL: "ws://" + ln.Addr().String() + "/ocpp", cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- srv.Run(ctx) }()
	t.Cleanup(func() { s.Stop(t) })
	return s
}

// Stop shuts the server down gracefully (idempotent).
func (s *Server) Stop(t testing.TB) {
	s.stopOnce.Do(func() {
		s.cancel()
		select {
		case err := <-s.done:
			if err != nil {
				t.Errorf("server stopped with error: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("server did not stop within 30s")
		}
	})
}

// PostgresDSN returns a DSN for a fresh schema on the test PostgreSQL
// server (dropped when the test ends), or skips the test.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv("CHARGESTAR_TEST_POSTGRES_URL")
	if base == "" {
		testutil.SkipOrFail(t, "CHARGESTAR_TEST_POSTGRES_URL not set: PostgreSQL tests skipped")
	}
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	schema := fmt.Sprintf("t_%d_%d", time.Now().UnixNano(), os.Getpid())
	if _, err := db.Exec("CREATE SCHEMA " + schema); err != nil {
		testutil.SkipOrFail(t, "PostgreSQL not reachable at CHARGESTAR_TEST_POSTGRES_URL: "+err.Error())
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", base)
		if err == nil {
			db.Exec("DROP SCHEMA " + schema + " CASCADE")
			db.Close()
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Operator creates an operator (AUD, AU).
func (s *Server) Operator(t testing.TB, name string) model.Operator {
	t.Helper()
	op, err := s.Store.CreateOperator(context.Background(), model.Operator{Name: name, Currency: "AUD", Country: "AU"})
	if err != nil {
		t.Fatal(err)
	}
	return op
}

// Station registers a station of an operator; password "" means no Basic auth.
func (s *Server) Station(t testing.TB, operatorID, id, password string) model.Station {
	t.Helper()
	st := model.Station{ID: id, OperatorID: operatorID}
	if password != "" {
		st.PasswordHash = csms.HashStationPassword(password)
	}
	st, err := s.Store.CreateStation(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// IDToken registers an id token of an operator with a status.
func (s *Server) IDToken(t testing.TB, operatorID, tag, status string, expires *time.Time) {
	t.Helper()
	if _, err := s.Store.CreateIDToken(context.Background(), model.IDToken{OperatorID: operatorID, IDToken: tag, Status: status, ExpiresAt: expires}); err != nil {
		t.Fatal(err)
	}
}

// API performs an API request with the admin token and returns status and body.
func (s *Server) API(t testing.TB, method, path, body string) (int, string) {
	t.Helper()
	return s.APIWithToken(t, AdminToken, method, path, body)
}

// APIWithToken performs an API request with a bearer token.
func (s *Server) APIWithToken(t testing.TB, token, method, path, body string) (int, string) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.URL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// Eventually polls cond until it returns true or the timeout passes.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
