package stripe

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/chargestar/chargestar/internal/payments"
	stripego "github.com/stripe/stripe-go/v85"
	"github.com/stripe/stripe-go/v85/webhook"
)

// SignatureHeader is the header Stripe signs webhooks in.
const SignatureHeader = "Stripe-Signature"

// ParseWebhook verifies a Stripe webhook against the configured endpoint
// secrets and normalises its event:
//
//	checkout.session.completed (payment mode)  → checkout.completed
//	checkout.session.expired                   → checkout.expired
//	payment_intent.amount_capturable_updated   → payment.authorized
//	payment_intent.payment_failed              → payment.failed (decline code)
//	payment_intent.succeeded                   → payment.captured
//	payment_intent.canceled                    → payment.expired when Stripe
//	                                             cancelled a lapsed authorisation
//	                                             (reason "automatic"), else payment.voided
//	refund.created / refund.updated, once the refund succeeded → payment.refunded
//	setup_intent.succeeded                     → setup.completed
//	setup_intent.setup_failed                  → setup.failed
//	anything else                              → other
//
// A refund that is created pending and succeeds later produces one
// payment.refunded (from its update); one created succeeded produces one
// from its creation. Event.Account is the connected account of a Connect
// event (direct settlement).
func (p *Provider) ParseWebhook(payload []byte, header http.Header) (payments.Event, error) {
	sig := header.Get(SignatureHeader)
	if sig == "" || len(p.cfg.WebhookSecrets) == 0 {
		return payments.Event{}, &payments.Error{Kind: payments.ErrInvalidSignature, Message: "no " + SignatureHeader + " header or no webhook secret configured"}
	}
	var secret string
	var err error
	for _, s := range p.cfg.WebhookSecrets {
		if err = p.verify(payload, sig, s); err == nil {
			secret = s
			break
		}
	}
	if secret == "" {
		return payments.Event{}, &payments.Error{Kind: payments.ErrInvalidSignature, Err: err}
	}
	// Verified (and within the window); now decode. Our endpoint's API
	// version need not match stripe-go's: the few fields read below are
	// stable across versions.
	ev, err := webhook.ConstructEventWithOptions(payload, sig, secret,
		webhook.ConstructEventOptions{IgnoreTolerance: true, IgnoreAPIVersionMismatch: true})
	if err != nil || ev.Data == nil {
		return payments.Event{}, &payments.Error{Kind: payments.ErrInvalidRequest, Code: "event_invalid", Message: "signed webhook body is not an event", Err: err}
	}
	return normalize(ev)
}

// verify checks the signature at our own clock (stripe-go's helpers read
// the wall clock, which tests cannot move).
func (p *Provider) verify(payload []byte, sig, secret string) error {
	if err := webhook.ValidatePayloadIgnoringTolerance(payload, sig, secret); err != nil {
		return err
	}
	t, ok := signatureTime(sig)
	if !ok {
		return webhook.ErrInvalidHeader
	}
	if age := p.cfg.Now().Sub(t); age > p.cfg.WebhookTolerance || age < -p.cfg.WebhookTolerance {
		return webhook.ErrTooOld
	}
	return nil
}

func normalize(ev stripego.Event) (payments.Event, error) {
	out := payments.Event{ID: ev.ID, Type: payments.EventOther, CreatedAt: unixTime(ev.Created), ProviderType: string(ev.Type), Account: ev.Account}
	decode := func(v any) error {
		if err := json.Unmarshal(ev.Data.Raw, v); err != nil {
			return &payments.Error{Kind: payments.ErrInvalidRequest, Code: "event_invalid", Message: "cannot decode " + string(ev.Type), Err: err}
		}
		return nil
	}
	switch ev.Type {
	case stripego.EventTypeCheckoutSessionCompleted, stripego.EventTypeCheckoutSessionExpired:
		var cs stripego.CheckoutSession
		if err := decode(&cs); err != nil {
			return out, err
		}
		if cs.Mode != stripego.CheckoutSessionModePayment {
			return out, nil // setup mode: setup_intent.* tells the outcome
		}
		out.Type = payments.EventCheckoutCompleted
		if ev.Type == stripego.EventTypeCheckoutSessionExpired {
			out.Type = payments.EventCheckoutExpired
		}
		out.CheckoutID, out.Amount, out.Currency, out.Metadata = cs.ID, cs.AmountTotal, strings.ToUpper(string(cs.Currency)), cs.Metadata
		if cs.PaymentIntent != nil {
			out.PaymentID = cs.PaymentIntent.ID
		}
		if cs.Customer != nil {
			out.CustomerRef = cs.Customer.ID
		}
	case stripego.EventTypePaymentIntentAmountCapturableUpdated, stripego.EventTypePaymentIntentPaymentFailed,
		stripego.EventTypePaymentIntentSucceeded, stripego.EventTypePaymentIntentCanceled:
		var pi stripego.PaymentIntent
		if err := decode(&pi); err != nil {
			return out, err
		}
		pay := toPayment(&pi, ev.Account)
		out.PaymentID, out.Currency, out.Metadata = pi.ID, pay.Currency, pi.Metadata
		out.CustomerRef, out.PaymentMethod, out.Card = pay.CustomerRef, pay.PaymentMethod, pay.Card
		switch ev.Type {
		case stripego.EventTypePaymentIntentAmountCapturableUpdated:
			if pi.AmountCapturable == 0 {
				return out, nil // capturable amount dropped to nothing: not an authorisation
			}
			out.Type, out.Amount = payments.EventAuthorized, pi.AmountCapturable
		case stripego.EventTypePaymentIntentPaymentFailed:
			out.Type, out.Amount, out.DeclineCode = payments.EventPaymentFailed, pi.Amount, pay.DeclineCode
			if e := pi.LastPaymentError; e != nil {
				out.Message = e.Msg
			}
		case stripego.EventTypePaymentIntentSucceeded:
			out.Type, out.Amount = payments.EventCaptured, pi.AmountReceived
		case stripego.EventTypePaymentIntentCanceled:
			out.Type, out.Amount = payments.EventVoided, pi.Amount
			if pi.CancellationReason == stripego.PaymentIntentCancellationReasonAutomatic {
				out.Type = payments.EventExpired
			}
		}
	case stripego.EventTypeRefundCreated, stripego.EventTypeRefundUpdated:
		var r stripego.Refund
		if err := decode(&r); err != nil {
			return out, err
		}
		succeeded := r.Status == stripego.RefundStatusSucceeded
		if ev.Type == stripego.EventTypeRefundUpdated {
			// Only the update that made it succeed.
			prev, changed := ev.Data.PreviousAttributes["status"]
			succeeded = succeeded && changed && prev != string(stripego.RefundStatusSucceeded)
		}
		if !succeeded {
			return out, nil
		}
		out.Type, out.RefundID, out.Amount, out.Currency, out.Metadata = payments.EventRefunded, r.ID, r.Amount, strings.ToUpper(string(r.Currency)), r.Metadata
		if r.PaymentIntent != nil {
			out.PaymentID = r.PaymentIntent.ID
		}
	case stripego.EventTypeSetupIntentSucceeded, stripego.EventTypeSetupIntentSetupFailed:
		var si stripego.SetupIntent
		if err := decode(&si); err != nil {
			return out, err
		}
		out.Type, out.Metadata = payments.EventSetupCompleted, si.Metadata
		if si.Customer != nil {
			out.CustomerRef = si.Customer.ID
		}
		if si.PaymentMethod != nil {
			out.PaymentMethod = si.PaymentMethod.ID
		}
		if ev.Type == stripego.EventTypeSetupIntentSetupFailed {
			out.Type, out.PaymentMethod = payments.EventSetupFailed, ""
			if e := si.LastSetupError; e != nil {
				out.DeclineCode, out.Message = string(e.DeclineCode), e.Msg
				if out.DeclineCode == "" {
					out.DeclineCode = string(e.Code)
				}
			}
		}
	}
	return out, nil
}

// signatureTime reads t= of a Stripe-Signature header.
func signatureTime(header string) (time.Time, bool) {
	for part := range strings.SplitSeq(header, ",") {
		if v, found := strings.CutPrefix(strings.TrimSpace(part), "t="); found {
			s, err := strconv.ParseInt(v, 10, 64)
			return time.Unix(s, 0), err == nil
		}
	}
	return time.Time{}, false
}
