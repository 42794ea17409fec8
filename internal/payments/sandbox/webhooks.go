package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/chargestar/chargestar/internal/payments"
	"github.com/chargestar/chargestar/internal/store"
	"github.com/chargestar/chargestar/internal/webhooksig"
)

// SignatureHeader carries a webhook's signature: "t=<unix seconds>,v1=<hex>".
const SignatureHeader = "Sandbox-Signature"

// Sign returns the signature header value for payload signed at t with
// secret: v1 is HMAC-SHA256(secret, "<t>.<payload>") in lower-case hex, the
// scheme Stripe uses (internal/webhooksig).
func Sign(secret []byte, t time.Time, payload []byte) string {
	return webhooksig.Sign(secret, t, payload)
}

// Verify checks a signature header against payload at now (see
// webhooksig.Verify), answering payments.ErrInvalidSignature.
func Verify(secret []byte, header string, payload []byte, now time.Time, tolerance time.Duration) error {
	if err := webhooksig.Verify(secret, header, payload, now, tolerance); err != nil {
		return payments.Errorf(payments.ErrInvalidSignature, "", "%s: %v", SignatureHeader, err)
	}
	return nil
}

// ParseWebhook verifies a sandbox webhook delivery and decodes its event.
func (p *Provider) ParseWebhook(payload []byte, header http.Header) (payments.Event, error) {
	if err := Verify(p.secret, header.Get(SignatureHeader), payload, p.opts.Now(), p.opts.WebhookTolerance); err != nil {
		return payments.Event{}, err
	}
	var ev payments.Event
	if err := json.Unmarshal(payload, &ev); err != nil || ev.ID == "" || ev.Type == "" {
		return payments.Event{}, payments.Errorf(payments.ErrInvalidRequest, "event_invalid", "signed webhook body is not an event")
	}
	switch ev.Type {
	case payments.EventCheckoutCompleted, payments.EventCheckoutExpired, payments.EventAuthorized, payments.EventPaymentFailed,
		payments.EventCaptured, payments.EventVoided, payments.EventExpired, payments.EventRefunded,
		payments.EventSetupCompleted, payments.EventSetupFailed:
	default:
		ev.Type = payments.EventOther
	}
	return ev, nil
}

// notify wakes Run to deliver a new event now rather than at its next poll.
func (p *Provider) notify() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Run expires holds and pages and delivers webhooks until ctx ends. It is
// the provider's only goroutine; the caller owns it.
func (p *Provider) Run(ctx context.Context) error {
	t := time.NewTicker(p.opts.PollInterval)
	defer t.Stop()
	for {
		if _, err := p.ExpireDue(ctx); err != nil && ctx.Err() == nil {
			p.log.Warn("sandbox: expiring holds failed", "err", err)
		}
		if _, err := p.DeliverDue(ctx); err != nil && ctx.Err() == nil {
			p.log.Warn("sandbox: webhook delivery failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-p.wake:
		}
	}
}

// DeliverDue sends the webhooks that are due, oldest first, and records
// each attempt; it returns how many were delivered. Without a webhook
// target it does nothing: events wait.
func (p *Provider) DeliverDue(ctx context.Context) (int, error) {
	if p.opts.WebhookURL == "" && p.opts.WebhookFunc == nil {
		return 0, nil
	}
	p.deliverMu.Lock()
	defer p.deliverMu.Unlock()
	delivered := 0
	for {
		due, err := p.st.DueSandboxEvents(ctx, p.now(), 100)
		if err != nil {
			return delivered, err
		}
		for _, ev := range due {
			attemptErr := p.deliver(ctx, ev)
			if ctx.Err() != nil {
				return delivered, ctx.Err()
			}
			rec := store.SandboxDelivery{At: p.now(), Delivered: attemptErr == nil}
			if attemptErr != nil {
				rec.Error = truncate(attemptErr.Error(), 500)
				if ev.Attempts+1 < p.opts.WebhookMaxAttempts {
					rec.NextAttemptAt = rec.At.Add(p.retryDelay(ev.Attempts + 1))
				}
				p.log.Warn("sandbox: webhook not delivered", "event", ev.ID, "type", ev.Type, "attempt", ev.Attempts+1,
					"retry_at", rec.NextAttemptAt, "err", attemptErr)
			} else {
				delivered++
			}
			if err := p.st.RecordSandboxDelivery(ctx, ev.ID, rec); err != nil {
				return delivered, err
			}
		}
		if len(due) < 100 {
			return delivered, nil
		}
	}
}

// retryDelay is the wait after the n-th failed attempt: base, 2·base,
// 4·base, … at most WebhookRetryMax.
func (p *Provider) retryDelay(n int) time.Duration {
	d := p.opts.WebhookRetryBase
	for i := 1; i < n && d < p.opts.WebhookRetryMax; i++ {
		d *= 2
	}
	return min(d, p.opts.WebhookRetryMax)
}

// deliver makes one attempt, signed now.
func (p *Provider) deliver(ctx context.Context, ev store.SandboxEvent) error {
	ctx, cancel := context.WithTimeout(ctx, webhookTimeout)
	defer cancel()
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set(SignatureHeader, Sign(p.secret, p.opts.Now(), ev.Payload))
	if f := p.opts.WebhookFunc; f != nil {
		return f(ctx, ev.Payload, h)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.opts.WebhookURL, bytes.NewReader(ev.Payload))
	if err != nil {
		return err
	}
	req.Header = h
	req.Header.Set("User-Agent", "chargestar-sandbox-webhooks/1")
	resp, err := p.opts.HTTPClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("webhook endpoint answered %s", resp.Status)
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
