package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/chargestar/chargestar/internal/payments"
	"github.com/chargestar/chargestar/internal/store"
)

// Name is the provider's configuration name.
const Name = "sandbox"

// Defaults of Options.
const (
	DefaultHoldTTL            = 7 * 24 * time.Hour
	DefaultCheckoutTTL        = 30 * time.Minute
	MaxCheckoutTTL            = 24 * time.Hour
	DefaultWebhookTolerance   = 5 * time.Minute
	DefaultWebhookMaxAttempts = 12
	DefaultWebhookRetryBase   = 2 * time.Second
	DefaultWebhookRetryMax    = time.Hour
	DefaultPollInterval       = time.Second
	webhookTimeout            = 10 * time.Second
)

// Options configures a sandbox provider.
type Options struct {
	// BaseURL is the absolute URL Handler is mounted at, such as
	// "http://localhost:8080/pay/sandbox"; hosted page URLs are built from
	// it and Handler serves the paths under its path. Required.
	BaseURL string

	// WebhookSecret keys the webhook signatures. Empty: a random secret for
	// this process, which is enough when ParseWebhook runs in the process
	// that delivers (each attempt is signed afresh); a receiver elsewhere
	// needs the secret configured on both sides.
	WebhookSecret string
	// WebhookURL receives events by HTTP POST, or WebhookFunc is called with
	// the same body and headers (in-process delivery; the server can hand
	// both to its own webhook handler). With neither, events wait in the
	// outbox.
	WebhookURL  string
	WebhookFunc func(ctx context.Context, payload []byte, header http.Header) error
	// WebhookTolerance is ParseWebhook's replay window (default 5 minutes).
	WebhookTolerance time.Duration
	// WebhookMaxAttempts bounds the delivery attempts of one event
	// (default 12); WebhookRetryBase is the first retry delay, doubled
	// after each failure up to WebhookRetryMax (defaults 2 s and 1 h).
	WebhookMaxAttempts int
	WebhookRetryBase   time.Duration
	WebhookRetryMax    time.Duration
	// HTTPClient sends webhooks (default: a client without a timeout of
	// its own; each attempt has a 10 s deadline).
	HTTPClient *http.Client

	// HoldTTL is how long an authorisation stays capturable (default 7 days).
	HoldTTL time.Duration
	// CheckoutTTL is how long a hosted page stays usable unless the request
	// says otherwise (default 30 minutes; at most 24 hours).
	CheckoutTTL time.Duration
	// PollInterval is how often Run looks for expired holds and due
	// webhooks (default 1 s); new events are delivered at once.
	PollInterval time.Duration

	Logger *slog.Logger
	// Now is the clock (tests); nil: time.Now.
	Now func() time.Time
}

// Provider is the sandbox acquirer. It implements payments.Provider; its
// methods are safe for concurrent use.
type Provider struct {
	st       *store.Store
	opts     Options
	secret   []byte
	basePath string // the path of BaseURL, without a trailing slash
	log      *slog.Logger

	wake      chan struct{} // a new event is waiting (capacity 1)
	deliverMu sync.Mutex    // one delivery pass at a time
}

var _ payments.Provider = (*Provider)(nil)

// New returns a sandbox provider keeping its state in st (migrated to at
// least 00004). Call Run to expire holds and deliver webhooks.
func New(st *store.Store, opts Options) (*Provider, error) {
	if st == nil {
		return nil, errors.New("sandbox: a store is required")
	}
	u, err := url.Parse(opts.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("sandbox: BaseURL must be an absolute http(s) URL, got %q", opts.BaseURL)
	}
	if opts.WebhookURL != "" {
		if w, err := url.Parse(opts.WebhookURL); err != nil || (w.Scheme != "http" && w.Scheme != "https") || w.Host == "" {
			return nil, fmt.Errorf("sandbox: WebhookURL must be an absolute http(s) URL, got %q", opts.WebhookURL)
		}
	}
	opts.BaseURL = strings.TrimSuffix(opts.BaseURL, "/")
	setDefault(&opts.WebhookTolerance, DefaultWebhookTolerance)
	setDefault(&opts.WebhookMaxAttempts, DefaultWebhookMaxAttempts)
	setDefault(&opts.WebhookRetryBase, DefaultWebhookRetryBase)
	setDefault(&opts.WebhookRetryMax, DefaultWebhookRetryMax)
	setDefault(&opts.HoldTTL, DefaultHoldTTL)
	setDefault(&opts.CheckoutTTL, DefaultCheckoutTTL)
	setDefault(&opts.PollInterval, DefaultPollInterval)
	opts.CheckoutTTL = min(opts.CheckoutTTL, MaxCheckoutTTL)
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	secret := []byte(opts.WebhookSecret)
	if len(secret) == 0 {
		secret = []byte(newID("whsec_"))
	}
	return &Provider{
		st:       st,
		opts:     opts,
		secret:   secret,
		basePath: strings.TrimSuffix(u.EscapedPath(), "/"),
		log:      opts.Logger,
		wake:     make(chan struct{}, 1),
	}, nil
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// Name returns "sandbox".
func (p *Provider) Name() string { return Name }

// now is the provider's clock at store precision (what a read returns).
func (p *Provider) now() time.Time { return p.opts.Now().UTC().Truncate(time.Microsecond) }

// Identifier prefixes. "sbx" keeps sandbox ids apart from any real
// provider's in logs and databases.
const (
	prefixPayment  = "sbx_pay_"
	prefixCheckout = "sbx_chk_"
	prefixRefund   = "sbx_re_"
	prefixEvent    = "sbx_evt_"
	prefixCustomer = "sbx_cus_"
	prefixMethod   = "sbx_pm_"
)

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// newID returns prefix and 120 random bits: ids are capabilities (a hosted
// page's URL is all a driver needs to pay), so they must not be guessable.
func newID(prefix string) string {
	var b [15]byte
	_, _ = rand.Read(b[:]) // never fails (Go ≥ 1.24)
	return prefix + idEncoding.EncodeToString(b[:])
}

// checkoutURL is the hosted page of a checkout.
func (p *Provider) checkoutURL(id string) string { return p.opts.BaseURL + "/checkout/" + id }

// storeErr turns a store failure into the error a provider returns: the
// "acquirer" could not be reached, retry with the same idempotency key.
func storeErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var pe *payments.Error
	if errors.As(err, &pe) {
		return pe
	}
	return &payments.Error{Kind: payments.ErrUnavailable, Code: "sandbox_store", Err: err}
}
