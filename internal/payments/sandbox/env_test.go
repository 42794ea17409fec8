package sandbox

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chargestar/chargestar/internal/payments"
	"github.com/chargestar/chargestar/internal/store"
	"github.com/chargestar/chargestar/internal/testutil"
	_ "github.com/jackc/pgx/v5/stdlib" // "pgx" driver for the schema admin connection
)

const postgresURLEnv = "CHARGESTAR_TEST_POSTGRES_URL"

// clock is a settable clock shared by the provider and the test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is a sandbox provider on a fresh database, its hosted pages served by
// an httptest server.
type env struct {
	t     *testing.T
	dsn   string
	st    *store.Store
	p     *Provider
	clock *clock
	srv   *httptest.Server
	opts  Options

	hmu     sync.RWMutex
	handler http.Handler // the current provider's pages
}

// forEachBackend runs fn against SQLite and, when CHARGESTAR_TEST_POSTGRES_URL
// is set, PostgreSQL (skipping, or failing under CHARGESTAR_TEST_STRICT=1,
// when it is not).
func forEachBackend(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		fn(t, "sqlite:"+filepath.Join(t.TempDir(), "cs.db"))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		base := os.Getenv(postgresURLEnv)
		if base == "" {
			testutil.SkipOrFail(t, postgresURLEnv+" is not set")
		}
		fn(t, freshSchema(t, base))
	})
}

// freshSchema creates a schema of its own for the test and returns base
// pointing at it; the schema is dropped afterwards.
func freshSchema(t *testing.T, base string) string {
	t.Helper()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "cs_sbx_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		admin.Close()
		t.Fatalf("create schema (is PostgreSQL up?): %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`); err != nil {
			t.Errorf("drop schema: %v", err)
		}
		admin.Close()
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

func newEnv(t *testing.T, dsn string, opts Options) *env {
	t.Helper()
	e := &env{t: t, dsn: dsn, clock: &clock{t: time.Date(2025, 3, 14, 10, 0, 0, 0, time.UTC)}}
	mux := http.NewServeMux()
	mux.HandleFunc("/pay/sandbox/", func(w http.ResponseWriter, r *http.Request) {
		e.hmu.RLock()
		h := e.handler
		e.hmu.RUnlock()
		h.ServeHTTP(w, r)
	})
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	opts.BaseURL = e.srv.URL + "/pay/sandbox"
	if opts.Now == nil {
		opts.Now = e.clock.Now
	}
	if opts.WebhookSecret == "" {
		opts.WebhookSecret = "whsec_test"
	}
	e.opts = opts
	e.open()
	return e
}

// open (re)opens the store and a provider on it.
func (e *env) open() {
	e.t.Helper()
	st, err := store.Open(context.Background(), e.dsn, store.Options{Migrate: true})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { st.Close() })
	p, err := New(st, e.opts)
	if err != nil {
		e.t.Fatal(err)
	}
	e.st, e.p = st, p
	e.hmu.Lock()
	e.handler = p.Handler()
	e.hmu.Unlock()
}

// client does not follow redirects, so tests see the 303.
func (e *env) client() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (e *env) get(u string) (*http.Response, string) {
	e.t.Helper()
	resp, err := e.client().Get(u)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp, readBody(e.t, resp)
}

// pay submits the hosted page's form.
func (e *env) pay(checkoutURL, number, exp, cvc string) (*http.Response, string) {
	e.t.Helper()
	resp, err := e.client().PostForm(checkoutURL, url.Values{"card_number": {number}, "exp": {exp}, "cvc": {cvc}, "name": {"A Driver"}})
	if err != nil {
		e.t.Fatal(err)
	}
	return resp, readBody(e.t, resp)
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	var sb strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return sb.String()
}

// events returns the events emitted so far, decoded.
func (e *env) events() []payments.Event {
	e.t.Helper()
	rows, err := e.st.SandboxEvents(context.Background(), 0, 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	out := make([]payments.Event, len(rows))
	for i, r := range rows {
		if err := json.Unmarshal(r.Payload, &out[i]); err != nil {
			e.t.Fatal(err)
		}
		if string(out[i].Type) != r.Type || out[i].ID != r.ID {
			e.t.Fatalf("event row %+v does not match its payload", r)
		}
	}
	return out
}

func (e *env) eventTypes() []payments.EventType {
	var ts []payments.EventType
	for _, ev := range e.events() {
		ts = append(ts, ev.Type)
	}
	return ts
}

var keyN struct {
	sync.Mutex
	n int
}

// key returns a fresh idempotency key.
func key() string {
	keyN.Lock()
	defer keyN.Unlock()
	keyN.n++
	return "key-" + time.Now().Format("150405.000000") + "-" + string(rune('a'+keyN.n%26)) + hex.EncodeToString([]byte{byte(keyN.n >> 8), byte(keyN.n)})
}

func (e *env) checkout(amount int64, mods ...func(*payments.CheckoutRequest)) payments.Checkout {
	e.t.Helper()
	req := payments.CheckoutRequest{IdempotencyKey: key(), Amount: amount, Currency: "AUD", Description: "Charging at Acme Parking, bay 4",
		SuccessURL: "https://app.example/done?c={CHECKOUT_SESSION_ID}", CancelURL: "https://app.example/cancel",
		Metadata: map[string]string{"session_id": "ses_1"}}
	for _, m := range mods {
		m(&req)
	}
	c, err := e.p.CreateCheckout(context.Background(), req)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// authorized returns a payment authorised through the hosted page.
func (e *env) authorized(amount int64, mods ...func(*payments.CheckoutRequest)) payments.Payment {
	e.t.Helper()
	c := e.checkout(amount, mods...)
	if resp, body := e.pay(c.URL, "4242 4242 4242 4242", "12/30", "123"); resp.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("pay: %s\n%s", resp.Status, body)
	}
	p, err := e.p.GetPayment(context.Background(), payments.PaymentRef{ID: c.PaymentID, Account: accountOf(mods)})
	if err != nil {
		e.t.Fatal(err)
	}
	if p.Status != payments.StatusAuthorized {
		e.t.Fatalf("payment after the page: %+v", p)
	}
	return p
}

func accountOf(mods []func(*payments.CheckoutRequest)) string {
	var req payments.CheckoutRequest
	for _, m := range mods {
		m(&req)
	}
	return req.Settlement.Account
}

func direct(account string) func(*payments.CheckoutRequest) {
	return func(r *payments.CheckoutRequest) {
		r.Settlement = payments.Settlement{Mode: payments.SettlementDirect, Account: account}
	}
}
