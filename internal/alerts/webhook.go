package alerts

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/chargestar/chargestar/internal/store"
	"github.com/chargestar/chargestar/internal/webhooksig"
)

// Webhooks: each alert opening and resolution is queued in the store
// (alert_deliveries, written in the transaction that opened or resolved
// the alert) and POSTed to the operator's alert_webhook_url as an Event,
// signed like Stripe's: X-Chargestar-Signature: t=<unix>,v1=<hex
// HMAC-SHA256 of "<t>.<body>" keyed with the operator's
// alert_webhook_secret>. A 2xx answer delivers it; anything else is
// retried with exponential backoff until MaxAge after the event, then the
// delivery is marked failed. A delivery is claimed (a lease) before each
// attempt, so two workers never send one at the same time; a worker that
// dies mid-attempt leaves it to be retried when the lease ends, so the
// receiver may see an event twice and should deduplicate on its id.

// SignatureHeader carries the signature of a webhook.
const SignatureHeader = "X-Chargestar-Signature"

// Alert is an alert as the API and webhooks show it.
type Alert struct {
	ID             string     `json:"id" example:"alr_abcdefghijklmnopqrstuvwx"`
	OperatorID     string     `json:"operator_id"`
	Kind           string     `json:"kind" enum:"offline,faulted,payment_stuck" doc:"offline: a station not connected for longer than the operator's alert_offline_minutes; faulted: a connector whose status is Faulted; payment_stuck: a session payment authorised without a start, or stopped and not settled, for longer than alert_payment_stuck_minutes."`
	Subject        string     `json:"subject" doc:"What it is about: the station id (offline), \"stationId/connectorId\" (faulted) or the payment id (payment_stuck). At most one alert per operator, kind and subject is open."`
	StationID      *string    `json:"station_id"`
	ConnectorID    *int       `json:"connector_id"`
	PaymentID      *string    `json:"payment_id"`
	Message        string     `json:"message" doc:"What happened, in plain words."`
	State          string     `json:"state" enum:"open,resolved"`
	OpenedAt       time.Time  `json:"opened_at"`
	ResolvedAt     *time.Time `json:"resolved_at" doc:"When the condition ended; null while open."`
	AcknowledgedAt *time.Time `json:"acknowledged_at" doc:"When someone first acknowledged it; null until then."`
	AcknowledgedBy string     `json:"acknowledged_by" doc:"Who acknowledged it: the console user's email, or \"api token\"; \"\" until acknowledged."`
}

// View is the API and webhook form of a stored alert.
func View(a store.Alert) Alert {
	str := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	utc := func(t *time.Time) *time.Time {
		if t == nil {
			return nil
		}
		u := t.UTC()
		return &u
	}
	v := Alert{ID: a.ID, OperatorID: a.OperatorID, Kind: a.Kind, Subject: a.Subject, StationID: str(a.StationID),
		ConnectorID: a.ConnectorID, PaymentID: str(a.PaymentID), Message: a.Message, State: "open", OpenedAt: a.OpenedAt.UTC(),
		ResolvedAt: utc(a.ResolvedAt), AcknowledgedAt: utc(a.AcknowledgedAt), AcknowledgedBy: a.AcknowledgedBy}
	if a.ResolvedAt != nil {
		v.State = "resolved"
	}
	return v
}

// Event is the body of a webhook.
type Event struct {
	// ID identifies the delivery; retries of it carry the same id.
	ID   string `json:"id"`
	Type string `json:"type"` // alert.opened | alert.resolved
	// Alert is the alert as it is when the attempt is made.
	Alert     Alert     `json:"alert"`
	CreatedAt time.Time `json:"created_at"` // when the alert opened or resolved
}

// NewSecret returns a fresh webhook signing secret.
func NewSecret() string {
	var b [24]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	return "whsec_" + hex.EncodeToString(b[:])
}

// Sign returns the signature header value of body sent at t: the
// Stripe-style scheme of internal/webhooksig, so receivers can verify it
// with any Stripe-compatible code.
func Sign(secret string, t time.Time, body []byte) string {
	return webhooksig.Sign([]byte(secret), t, body)
}

// ErrBadSignature: a webhook's signature does not verify.
var ErrBadSignature = webhooksig.ErrInvalid

// Verify checks a signature header against body, as a receiver would:
// one of its v1 signatures must match and its time must be within
// tolerance of now (against replays).
func Verify(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	return webhooksig.Verify([]byte(secret), header, body, now, tolerance)
}

// backoff is the wait after the n-th failed attempt (n ≥ 1): 30 s,
// 1 min, 2 min, … doubling, at most 4 h; MaxAge ends the retries.
func backoff(n int) time.Duration {
	d := 30 * time.Second
	for i := 1; i < n && d < 4*time.Hour; i++ {
		d *= 2
	}
	return min(d, 4*time.Hour)
}

// Deliver sends the deliveries due at now, each claimed first, at most
// Config.Parallel at a time. It returns when they are all done.
func (w *Worker) Deliver(ctx context.Context, now time.Time) error {
	due, err := w.store.DueAlertDeliveries(ctx, now, 100)
	if err != nil {
		return fmt.Errorf("alerts: due deliveries: %w", err)
	}
	sem := make(chan struct{}, w.cfg.Parallel)
	var wg sync.WaitGroup
	defer wg.Wait()
	for _, d := range due {
		claimed, err := w.store.ClaimAlertDelivery(ctx, d.ID, now, now.Add(w.cfg.Lease))
		if err != nil {
			return fmt.Errorf("alerts: claim delivery %d: %w", d.ID, err)
		}
		if !claimed {
			continue // another worker has it
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			w.attempt(ctx, d, now)
		}()
	}
	return nil
}

// attempt makes one attempt at a claimed delivery and records it.
func (w *Worker) attempt(ctx context.Context, d store.AlertDelivery, now time.Time) {
	outcome := store.AlertDeliveryOutcome{At: now}
	err := w.send(ctx, d, now)
	switch {
	case err == nil:
		outcome.Delivered = true
	case errors.Is(err, errTurnedOff):
		outcome.Error = err.Error() // give up: RetryAt zero
	default:
		outcome.Error = err.Error()
		next := now.Add(backoff(d.Attempts + 1))
		if next.Sub(d.CreatedAt) <= w.cfg.MaxAge {
			outcome.RetryAt = next
		}
	}
	if ctx.Err() != nil && !outcome.Delivered {
		// Shutting down: leave the lease to run out rather than count an
		// attempt the shutdown broke off.
		return
	}
	// Recorded even when ctx ends: the answer was received.
	if err := w.store.FinishAlertDelivery(context.WithoutCancel(ctx), d.ID, outcome); err != nil {
		w.log.Warn("alerts: recording a webhook attempt failed", "delivery_id", d.ID, "err", err)
		return
	}
	if !outcome.Delivered {
		w.log.Info("alerts: webhook not delivered", "delivery_id", d.ID, "alert_id", d.AlertID, "event", d.Event,
			"attempt", d.Attempts+1, "err", outcome.Error, "retry_at", outcome.RetryAt)
	}
}

var errTurnedOff = errors.New("the operator turned alert webhooks off")

// send POSTs the delivery's event to the operator's current webhook URL,
// signed with its current secret (so fixing a URL or rotating a secret
// applies to the retries of earlier events too).
func (w *Worker) send(ctx context.Context, d store.AlertDelivery, now time.Time) error {
	a, err := w.store.GetAlert(ctx, "", d.AlertID)
	if err != nil {
		return fmt.Errorf("reading the alert: %w", err)
	}
	op, err := w.store.GetOperator(ctx, a.OperatorID)
	if err != nil {
		return fmt.Errorf("reading the operator: %w", err)
	}
	if op.AlertWebhookURL == "" {
		return errTurnedOff
	}
	body, err := json.Marshal(Event{ID: "ald_" + strconv.FormatInt(d.ID, 10), Type: d.Event, Alert: View(a), CreatedAt: d.CreatedAt.UTC()})
	if err != nil {
		return fmt.Errorf("encoding the event: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, w.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, op.AlertWebhookURL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("building the request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "ChargeStar-Alerts/1")
	req.Header.Set(SignatureHeader, Sign(op.AlertWebhookSecret, now, body))
	res, err := w.client.Do(req)
	if err != nil {
		return fmt.Errorf("POST: %w", err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10)) // lets the connection be reused
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return fmt.Errorf("POST answered %s", res.Status)
	}
	return nil
}
