// Package sessionbilling runs the money side of every charging session:
// the quote and the hold before charging, the running cost and the stop at
// the hold's limit, the capture of exactly what was used (or the release of
// the hold) when the session ends however it ends, the ledger entries, and
// the receipt.
//
// The state machine (lifecycle.go) and the settlement rules (settle.go) are
// pure; Service drives them from three sources — the station (as csms's
// SessionObserver, Authorizer and CostProvider), the payment provider
// (webhooks) and the clock (the sweep) — and performs their effects through
// an outbox (store.PaymentJob): a state move and the calls it needs are one
// database transaction, and every call carries an idempotency key derived
// from the payment, so a crash between a call and its record repeats the
// call with the same key and has one effect.
package sessionbilling

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/chargestar/chargestar/internal/billing"
	"github.com/chargestar/chargestar/internal/csms"
	"github.com/chargestar/chargestar/internal/ledger"
	"github.com/chargestar/chargestar/internal/mail"
	"github.com/chargestar/chargestar/internal/model"
	"github.com/chargestar/chargestar/internal/payments"
	"github.com/chargestar/chargestar/internal/store"
)

// Stations is what billing needs of the CSMS: to start and stop sessions
// and to know whether a station is online.
type Stations interface {
	SendNeutral(ctx context.Context, stationID string, c csms.NeutralCommand) (string, csms.CommandResult, error)
	Connected(stationID string) bool
}

// Config tunes the service; zero values take the defaults.
type Config struct {
	// BaseURL is the public URL of the server ("https://charge.example"),
	// for the provider's return links.
	BaseURL string
	// StartTimeout: a hold whose station has not started the session by
	// then is released (default 3 minutes).
	StartTimeout time.Duration
	// OfflineStopDeadline: a session whose station has been offline this
	// long is finished from its last meter value and settled (default 2
	// hours). A late stop report from the station then changes nothing:
	// the driver is never charged more than that estimate.
	OfflineStopDeadline time.Duration
	// HoldMargin: a session still open this long before its hold expires
	// is finished the same way, so the capture lands while the hold is
	// good (default 12 hours).
	HoldMargin time.Duration
	// CheckoutTTL is how long the hosted payment page stays open (default
	// 15 minutes).
	CheckoutTTL time.Duration
	// MaxPowerW is the power assumed for the hold's margin when the
	// station does not say (default 22 kW).
	MaxPowerW int64
	// MeterInterval is the stations' meter value interval, for the hold's
	// margin (default 60 s).
	MeterInterval time.Duration
	// SweepInterval is how often deadlines are checked (default 5 s).
	SweepInterval time.Duration
	// PlatformFeeBasisPoints is the platform's fee per captured payment in
	// hundredths of a percent (default 0: the platform charges per
	// station, not per session).
	PlatformFeeBasisPoints int64
	// Mailer sends receipts to drivers who gave an address (default: the
	// log).
	Mailer mail.Mailer
	Now    func() time.Time
}

func (c *Config) defaults() {
	if c.StartTimeout <= 0 {
		c.StartTimeout = 3 * time.Minute
	}
	if c.OfflineStopDeadline <= 0 {
		c.OfflineStopDeadline = 2 * time.Hour
	}
	if c.HoldMargin <= 0 {
		c.HoldMargin = 12 * time.Hour
	}
	if c.CheckoutTTL <= 0 {
		c.CheckoutTTL = 15 * time.Minute
	}
	if c.MaxPowerW <= 0 {
		c.MaxPowerW = 22000
	}
	if c.MeterInterval <= 0 {
		c.MeterInterval = time.Minute
	}
	if c.SweepInterval <= 0 {
		c.SweepInterval = 5 * time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Service is the session billing service. It implements csms.Authorizer,
// csms.CostProvider and csms.SessionObserver.
type Service struct {
	store    *store.Store
	provider payments.Provider
	inner    csms.Authorizer
	cfg      Config
	log      *slog.Logger

	mu       sync.Mutex
	stations Stations

	// notes queues station notifications for the worker (the observer
	// must not block the ingest path). A full queue drops notes: the
	// sweep finds what they would have said in the database.
	// Notes are sharded by session, so one session's start and stop are
	// handled in order while sessions are billed in parallel.
	notes []chan note
	// metered coalesces meter notifications per session.
	meteredMu   sync.Mutex
	metered     map[string]struct{}
	meteredKick chan struct{}
	kick        chan struct{}

	// costs caches the running cost of live sessions for CostProvider,
	// which answers on the ingest path without a read.
	costs sync.Map // session id → csms.Cost
	// live maps the live paid sessions to their payments.
	live sync.Map // session id → live
}

type note struct {
	kind string // "started", "stopped"
	sess model.Session
}

// New returns a service. inner authorises tokens that are not billing's
// (the operator's own cards); it may be nil.
func New(st *store.Store, provider payments.Provider, inner csms.Authorizer, cfg Config, log *slog.Logger) *Service {
	cfg.defaults()
	if log == nil {
		log = slog.Default()
	}
	if cfg.Mailer == nil {
		cfg.Mailer = &mail.LogMailer{Log: log}
	}
	s := &Service{store: st, provider: provider, inner: inner, cfg: cfg, log: log.With("component", "billing"),
		notes: make([]chan note, noteShards), metered: map[string]struct{}{}, meteredKick: make(chan struct{}, 1), kick: make(chan struct{}, 1)}
	for i := range s.notes {
		s.notes[i] = make(chan note, 1024)
	}
	return s
}

// SetStations connects the service to the CSMS (which is built with the
// service as one of its options, hence after it).
func (s *Service) SetStations(st Stations) {
	s.mu.Lock()
	s.stations = st
	s.mu.Unlock()
}

func (s *Service) stationsOrNil() Stations {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stations
}

// StationOnline reports whether a station is connected now.
func (s *Service) StationOnline(id string) bool {
	st := s.stationsOrNil()
	return st != nil && st.Connected(id)
}

// Provider returns the payment provider.
func (s *Service) Provider() payments.Provider { return s.provider }

func (s *Service) now() time.Time { return s.cfg.Now().UTC() }

// Errors of the driver-facing operations.
var (
	ErrNoTariff       = errors.New("sessionbilling: no tariff applies to this station")
	ErrStationOffline = errors.New("sessionbilling: the station is offline")
	ErrBadConnector   = errors.New("sessionbilling: no such connector")
	ErrNotCancelable  = errors.New("sessionbilling: the session has started; stop it instead")
	ErrBadBudget      = errors.New("sessionbilling: invalid budget")
)

// Quote is what a session at a connector would cost and hold.
type Quote struct {
	Station     model.Station
	Operator    model.Operator
	Site        *model.Site
	ConnectorID int
	TariffID    string
	Tariff      *billing.Tariff
	TariffJSON  []byte
	Location    *time.Location
	Hold        billing.Hold
	Description billing.Description
}

// Quote prices a session at a station's connector for a budget (the zero
// Budget: the tariff's hold amount).
func (s *Service) Quote(ctx context.Context, stationID string, connectorID int, budget billing.Budget) (Quote, error) {
	var q Quote
	st, err := s.store.GetStation(ctx, stationID)
	if err != nil {
		return q, err
	}
	op, err := s.store.GetOperator(ctx, st.OperatorID)
	if err != nil {
		return q, err
	}
	stored, _, err := s.store.EffectiveTariff(ctx, stationID)
	if errors.Is(err, store.ErrNotFound) {
		return q, ErrNoTariff
	}
	if err != nil {
		return q, err
	}
	t, err := billing.ParseTariff(stored.Body)
	if err != nil {
		return q, fmt.Errorf("tariff %s: %w", stored.ID, err)
	}
	q = Quote{Station: st, Operator: op, ConnectorID: connectorID, TariffID: stored.ID, Tariff: t, TariffJSON: stored.Body, Location: time.UTC}
	if st.SiteID != "" {
		if site, err := s.store.GetSite(ctx, st.OperatorID, st.SiteID); err == nil {
			q.Site = &site
			if loc, err := time.LoadLocation(site.Timezone); err == nil && site.Timezone != "" {
				q.Location = loc
			}
		}
	}
	q.Hold, err = billing.HoldFor(t, budget, billing.HoldOptions{MaxPowerW: s.cfg.MaxPowerW, MeterInterval: s.cfg.MeterInterval})
	if err != nil {
		return q, fmt.Errorf("%w: %w", ErrBadBudget, err)
	}
	q.Description, err = billing.Describe(t, billing.DescribeOptions{Location: q.Location})
	if err != nil {
		return q, err
	}
	return q, nil
}

// CheckoutParams start a guest session.
type CheckoutParams struct {
	StationID   string
	ConnectorID int
	Budget      billing.Budget
	Email       string // for the receipt; optional
	// SuccessURL and CancelURL are where the hosted page returns; "" is
	// the driver app's session page.
	SuccessURL, CancelURL string
}

// Checkout is a guest session waiting for its hold.
type Checkout struct {
	Payment store.SessionPayment
	// AccessToken opens the session's page; only its hash is stored.
	AccessToken string
	URL         string
}

// StartCheckout opens the hosted payment page that places a session's
// hold. The station must be online (the driver should not pay for a
// station that cannot start).
func (s *Service) StartCheckout(ctx context.Context, p CheckoutParams) (Checkout, error) {
	if p.ConnectorID < 1 {
		return Checkout{}, ErrBadConnector
	}
	q, err := s.Quote(ctx, p.StationID, p.ConnectorID, p.Budget)
	if err != nil {
		return Checkout{}, err
	}
	if st := s.stationsOrNil(); st == nil || !st.Connected(p.StationID) {
		return Checkout{}, ErrStationOffline
	}
	access := randomToken(32)
	now := s.now()
	expires := now.Add(s.cfg.CheckoutTTL)
	pay := store.SessionPayment{
		OperatorID: q.Operator.ID, Purpose: "session", Method: "card", State: string(StateQuote),
		StationID: p.StationID, ConnectorID: p.ConnectorID, IDToken: NewStartToken(),
		Provider: s.provider.Name(), SettlementMode: settlementMode(q.Operator), MerchantAccount: q.Operator.MerchantAccount,
		Currency: q.Hold.Currency, HoldAmount: q.Hold.Amount, BudgetWh: p.Budget.EnergyWh, BudgetSeconds: int64(p.Budget.Duration / time.Second),
		TariffID: q.TariffID, Tariff: q.TariffJSON, Timezone: q.Location.String(), Email: p.Email,
		AccessHash: hashToken(access), ExpiresAt: &expires,
	}
	if q.Hold.StopOnCost {
		pay.StopAtCost = q.Hold.StopAtCost
	}
	pay, err = s.store.ChangeSessionPayment(ctx, store.SessionPaymentChange{Payment: pay})
	if err != nil {
		return Checkout{}, err
	}
	success, cancel := p.SuccessURL, p.CancelURL
	if success == "" {
		success = s.cfg.BaseURL + "/app/p/" + pay.ID + "?t=" + access
	}
	if cancel == "" {
		cancel = s.cfg.BaseURL + "/app/p/" + pay.ID + "?t=" + access + "&canceled=1"
	}
	where := q.Operator.Name
	if q.Site != nil && q.Site.Name != "" {
		where = q.Site.Name
	}
	co, err := s.provider.CreateCheckout(ctx, payments.CheckoutRequest{
		IdempotencyKey: "checkout:" + pay.ID, Amount: pay.HoldAmount, Currency: pay.Currency,
		Description: fmt.Sprintf("EV charging at %s, %s connector %d", where, p.StationID, p.ConnectorID),
		SuccessURL:  success, CancelURL: cancel,
		Metadata:   map[string]string{"payment_id": pay.ID, "purpose": "session", "station_id": p.StationID},
		Settlement: payments.Settlement{Mode: payments.SettlementMode(pay.SettlementMode), Account: pay.MerchantAccount},
		ExpiresAt:  expires,
	})
	if err != nil {
		// The page never opened: nothing can be held.
		_, _ = s.move(ctx, pay.ID, EvCheckoutClosed, nil, func(p *store.SessionPayment, _ *store.SessionPaymentChange) error {
			p.EndReason = "checkout_failed"
			return nil
		})
		return Checkout{}, fmt.Errorf("opening the payment page: %w", err)
	}
	pay, err = s.edit(ctx, pay.ID, func(p *store.SessionPayment, _ *store.SessionPaymentChange) error {
		p.CheckoutID, p.CheckoutURL = co.ID, co.URL
		if p.ProviderPaymentID == "" {
			p.ProviderPaymentID = co.PaymentID
		}
		return nil
	})
	if err != nil {
		return Checkout{}, err
	}
	return Checkout{Payment: pay, AccessToken: access, URL: co.URL}, nil
}

// CheckAccess reports whether token opens payment p's page.
func CheckAccess(p store.SessionPayment, token string) bool {
	if len(p.AccessHash) == 0 || token == "" {
		return false
	}
	h := hashToken(token)
	return subtleEqual(h, p.AccessHash)
}

// Cancel gives up a session that has not started: the page is closed, or
// the hold released. A started session is stopped with Stop instead.
func (s *Service) Cancel(ctx context.Context, paymentID string) (store.SessionPayment, error) {
	p, err := s.store.GetSessionPayment(ctx, paymentID)
	if err != nil {
		return p, err
	}
	switch State(p.State) {
	case StateQuote:
		return s.moveIgnoringStale(ctx, paymentID, EvCheckoutClosed, nil, func(p *store.SessionPayment, _ *store.SessionPaymentChange) error {
			p.EndReason = "canceled"
			return nil
		})
	case StateAuthorized:
		return s.moveIgnoringStale(ctx, paymentID, EvNoStart, nil, s.releaseEdit("canceled"))
	case StateCharging:
		return p, ErrNotCancelable
	}
	return p, nil
}

// Stop asks the station to stop a session's charging (the driver's Stop
// button). The capture follows the station's stop report.
func (s *Service) Stop(ctx context.Context, paymentID string) (store.SessionPayment, error) {
	p, err := s.store.GetSessionPayment(ctx, paymentID)
	if err != nil {
		return p, err
	}
	if State(p.State) != StateCharging {
		return s.Cancel(ctx, paymentID)
	}
	return s.requestStop(ctx, p, "driver")
}

// requestStop enqueues a remote stop of p's session (once).
func (s *Service) requestStop(ctx context.Context, p store.SessionPayment, reason string) (store.SessionPayment, error) {
	p2, err := s.edit(ctx, p.ID, func(p *store.SessionPayment, c *store.SessionPaymentChange) error {
		if p.EndReason == "" {
			p.EndReason = reason
		}
		c.Jobs = append(c.Jobs, store.PaymentJob{Kind: jobRemoteStop, IdemKey: "stop:" + p.ID})
		return nil
	})
	s.wake()
	return p2, err
}

func settlementMode(op model.Operator) string {
	if op.SettlementMode == model.SettlementDirect && op.MerchantAccount != "" {
		return model.SettlementDirect
	}
	return model.SettlementPlatform
}

// Tokens.

var tokenEncoding = base32.NewEncoding("ABCDEFGHJKMNPQRSTVWXYZ0123456789").WithPadding(base32.NoPadding)

// startTokenPrefix marks the one-off id tokens of app sessions. RFID UIDs
// are hexadecimal, so "NC" followed by letters beyond F cannot be one.
const startTokenPrefix = "NCX"

// NewStartToken returns a one-off id token for a remote start: 20
// characters, the most an OCPP 1.6 idTag holds.
func NewStartToken() string {
	var b [11]byte
	_, _ = rand.Read(b[:])
	return startTokenPrefix + tokenEncoding.EncodeToString(b[:])[:17]
}

// IsStartToken reports whether tok has the shape of a one-off token.
func IsStartToken(tok string) bool {
	return len(tok) == 20 && strings.HasPrefix(strings.ToUpper(tok), startTokenPrefix)
}

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return strings.ToLower(tokenEncoding.EncodeToString(b))
}

func hashToken(tok string) []byte {
	h := sha256.Sum256([]byte(tok))
	return h[:]
}

// Ledger keys: one per payment and purpose, so every booking is made once.
func holdKey(id string) string    { return "hold:" + id }
func captureKey(id string) string { return "capture:" + id }
func voidKey(id string) string    { return "void:" + id }

// fundingAccount is where a payment's held money sits.
func fundingAccount(p store.SessionPayment) ledger.Account {
	switch {
	case p.Method == "wallet":
		return ledger.WalletAccount(p.AccountID, p.Currency)
	case p.SettlementMode == model.SettlementDirect:
		return ledger.OperatorMerchantAccount(p.OperatorID, p.Currency)
	default:
		return ledger.ProviderClearingAccount(p.Provider, p.Currency)
	}
}

func newPaymentID() string {
	return "pay_" + strings.ToLower(tokenEncoding.EncodeToString(randomBytes(15)))
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func ledgerHold(p store.SessionPayment) (ledger.Transaction, error) {
	return ledger.Hold(ledger.HoldParams{Key: holdKey(p.ID), Reference: p.ID, Payment: paymentRefForLedger(p),
		Funding: fundingAccount(p), Amount: p.HoldAmount})
}

func isInsufficient(err error) bool { return errors.Is(err, ledger.ErrInsufficientFunds) }

// Mailer is the service's mailer (receipts), shared with sign-in codes.
func (s *Service) Mailer() mail.Mailer { return s.cfg.Mailer }
