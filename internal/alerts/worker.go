package alerts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/chargestar/chargestar/internal/model"
	"github.com/chargestar/chargestar/internal/sessionbilling"
	"github.com/chargestar/chargestar/internal/store"
)

// Store is what the worker needs (implemented by *store.Store).
type Store interface {
	ListOperators(ctx context.Context) ([]model.Operator, error)
	GetOperator(ctx context.Context, id string) (model.Operator, error)
	AlertInputs(ctx context.Context, operatorID string) (store.AlertInputs, error)
	ListAlerts(ctx context.Context, f store.AlertFilter) ([]store.Alert, error)
	GetAlert(ctx context.Context, operatorID, id string) (store.Alert, error)
	OpenAlert(ctx context.Context, a store.Alert, webhookURL string) (store.Alert, bool, error)
	ResolveAlert(ctx context.Context, operatorID, id string, at time.Time, webhookURL string) (bool, error)
	DueAlertDeliveries(ctx context.Context, now time.Time, limit int) ([]store.AlertDelivery, error)
	ClaimAlertDelivery(ctx context.Context, id int64, now, leaseUntil time.Time) (bool, error)
	FinishAlertDelivery(ctx context.Context, id int64, o store.AlertDeliveryOutcome) error
}

var _ Store = (*store.Store)(nil)

// Config tunes the worker; zero values take the defaults.
type Config struct {
	Interval time.Duration // between ticks (30 s)
	Timeout  time.Duration // of one webhook POST (10 s)
	// Lease is how long a claimed delivery is withheld from other
	// workers (1 min: longer than Timeout, so an attempt never outlives
	// its claim).
	Lease time.Duration
	// MaxAge ends the retries of a delivery this long after its event
	// (24 h); it is then marked failed.
	MaxAge   time.Duration
	Parallel int // webhook POSTs at a time (8)
	// Client sends webhooks (nil: a client of its own).
	Client *http.Client
	Logger *slog.Logger     // nil discards
	Now    func() time.Time // nil: time.Now
}

func (c *Config) defaults() {
	if c.Interval <= 0 {
		c.Interval = 30 * time.Second
	}
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Second
	}
	if c.Lease <= 0 {
		c.Lease = time.Minute
	}
	if c.Lease < c.Timeout {
		c.Lease = c.Timeout + 5*time.Second
	}
	if c.MaxAge <= 0 {
		c.MaxAge = 24 * time.Hour
	}
	if c.Parallel <= 0 {
		c.Parallel = 8
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Worker keeps every operator's open alerts in step with its state and
// delivers their webhooks.
type Worker struct {
	store  Store
	cfg    Config
	client *http.Client
	log    *slog.Logger
}

// NewWorker returns a worker; Run runs it, or tests call Tick.
func NewWorker(st Store, cfg Config) *Worker {
	cfg.defaults()
	w := &Worker{store: st, cfg: cfg, client: cfg.Client, log: cfg.Logger}
	if w.client == nil {
		w.client = &http.Client{}
	}
	if w.log == nil {
		w.log = slog.New(slog.DiscardHandler)
	}
	return w
}

// Run ticks every Interval until ctx ends.
func (w *Worker) Run(ctx context.Context) {
	t := time.NewTicker(w.cfg.Interval)
	defer t.Stop()
	for {
		if err := w.Tick(ctx, w.cfg.Now()); err != nil && ctx.Err() == nil {
			w.log.Warn("alerts: tick failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Tick evaluates every operator's alerts at now and then delivers the
// webhooks due. An operator whose evaluation fails does not stop the
// others; the errors are joined.
func (w *Worker) Tick(ctx context.Context, now time.Time) error {
	ops, err := w.store.ListOperators(ctx)
	if err != nil {
		return fmt.Errorf("alerts: listing operators: %w", err)
	}
	var errs []error
	for _, op := range ops {
		if err := w.CheckOperator(ctx, op, now); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			errs = append(errs, err)
		}
	}
	if err := w.Deliver(ctx, now); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// CheckOperator opens the alerts op should have at now and resolves the
// open ones whose condition has ended. Each opening and resolution is
// idempotent (the store keeps one open alert per kind and subject), so
// two workers, or a retry after a failure, do no harm.
func (w *Worker) CheckOperator(ctx context.Context, op model.Operator, now time.Time) error {
	in, err := w.store.AlertInputs(ctx, op.ID)
	if err != nil {
		return fmt.Errorf("alerts: reading operator %s: %w", op.ID, err)
	}
	wants := Evaluate(now, SettingsOf(op), stationsOf(in.Stations, now), connectorsOf(in.Faulted), paymentsOf(in.Payments))

	var open []store.Alert
	for before := ""; ; {
		page, err := w.store.ListAlerts(ctx, store.AlertFilter{OperatorID: op.ID, State: "open", Before: before, Limit: 10000})
		if err != nil {
			return fmt.Errorf("alerts: listing open alerts of %s: %w", op.ID, err)
		}
		open = append(open, page...)
		if len(page) < 10000 {
			break
		}
		before = page[len(page)-1].ID
	}
	type key struct{ kind, subject string }
	isOpen := make(map[key]bool, len(open))
	for _, a := range open {
		isOpen[key{a.Kind, a.Subject}] = true
	}
	wanted := make(map[key]bool, len(wants))
	for _, x := range wants {
		k := key{string(x.Kind), x.Subject}
		wanted[k] = true
		if isOpen[k] {
			continue
		}
		a, opened, err := w.store.OpenAlert(ctx, store.Alert{OperatorID: op.ID, Kind: string(x.Kind), Subject: x.Subject,
			StationID: x.StationID, ConnectorID: x.ConnectorID, PaymentID: x.PaymentID, Message: x.Message, OpenedAt: now}, op.AlertWebhookURL)
		if err != nil {
			return fmt.Errorf("alerts: opening %s %s of %s: %w", x.Kind, x.Subject, op.ID, err)
		}
		if opened {
			w.log.Info("alert opened", "operator_id", op.ID, "alert_id", a.ID, "kind", x.Kind, "subject", x.Subject)
		}
	}
	for _, a := range open {
		if wanted[key{a.Kind, a.Subject}] {
			continue
		}
		resolved, err := w.store.ResolveAlert(ctx, op.ID, a.ID, now, op.AlertWebhookURL)
		if err != nil {
			return fmt.Errorf("alerts: resolving %s: %w", a.ID, err)
		}
		if resolved {
			w.log.Info("alert resolved", "operator_id", op.ID, "alert_id", a.ID, "kind", a.Kind, "subject", a.Subject)
		}
	}
	return nil
}

// SettingsOf returns op's thresholds (the defaults where unset).
func SettingsOf(op model.Operator) Settings {
	off, stuck := op.AlertOfflineMinutes, op.AlertPaymentStuckMinutes
	if off <= 0 {
		off = model.DefaultAlertOfflineMinutes
	}
	if stuck <= 0 {
		stuck = model.DefaultAlertPaymentStuckMinutes
	}
	return Settings{OfflineAfter: time.Duration(off) * time.Minute, PaymentStuckAfter: time.Duration(stuck) * time.Minute}
}

func stationsOf(in []store.AlertStation, now time.Time) []Station {
	out := make([]Station, len(in))
	for i, s := range in {
		st := Station{ID: s.ID, Retired: s.RetiredAt != nil && !s.RetiredAt.After(now), Connected: s.Connected}
		switch {
		case s.DisconnectedAt != nil:
			st.OfflineSince = *s.DisconnectedAt
		case !s.EverConnected && s.LastSeenAt != nil:
			// Seen before connection periods were recorded.
			st.OfflineSince = *s.LastSeenAt
		}
		out[i] = st
	}
	return out
}

func connectorsOf(in []model.Connector) []Connector {
	out := make([]Connector, len(in))
	for i, c := range in {
		out[i] = Connector{StationID: c.StationID, ConnectorID: c.ConnectorID, Status: c.Status, ErrorCode: c.ErrorCode, Since: c.StatusAt}
	}
	return out
}

func paymentsOf(in []store.SessionPayment) []Payment {
	out := make([]Payment, 0, len(in))
	for _, p := range in {
		since := p.UpdatedAt
		switch sessionbilling.State(p.State) {
		case sessionbilling.StateAuthorized:
			if p.AuthorizedAt != nil {
				since = *p.AuthorizedAt
			}
		case sessionbilling.StateStopped:
			if p.StoppedAt != nil {
				since = *p.StoppedAt
			}
		}
		out = append(out, Payment{ID: p.ID, StationID: p.StationID, ConnectorID: p.ConnectorID, State: p.State, Since: since})
	}
	return out
}
