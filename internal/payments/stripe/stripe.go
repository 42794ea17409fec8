// Package stripe is the Stripe payment provider (--payments stripe), on
// stripe-go v85:
//
//   - a hold through the hosted page is a Checkout Session in payment mode
//     whose PaymentIntent has capture_method=manual; an off-session hold is a
//     PaymentIntent confirmed off_session on a saved card;
//   - Capture is PaymentIntent capture with amount_to_capture (the rest of
//     the authorisation is released) and application_fee_amount; Void is
//     PaymentIntent cancel; Refund creates a Refund;
//   - a card is saved through a Checkout Session in setup mode (a
//     SetupIntent), for a customer created on the fly when none is given;
//   - "direct" settlement makes every call with the Stripe-Account header of
//     the operator's connected account (Connect direct charges), so the
//     payment, its customer and card live on that account and the platform
//     takes its fee at capture;
//   - every mutating call carries the caller's idempotency key (a customer
//     created for a card setup uses the key + "/customer");
//   - webhooks are verified with stripe-go's webhook package against one or
//     more endpoint secrets (the platform endpoint's and the Connect
//     endpoint's) and normalised to payments.Event.
//
// Stripe errors become *payments.Error: card_error → ErrDeclined (decline
// code in Code; insufficient_funds → ErrInsufficientFunds), idempotency_error
// → ErrIdempotencyConflict, 404 → ErrNotFound, 5xx, 429, lock timeouts,
// authentication failures and network errors → ErrUnavailable, anything else
// → ErrInvalidRequest.
package stripe

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/chargestar/chargestar/internal/payments"
	stripego "github.com/stripe/stripe-go/v85"
)

// Name is the provider's configuration name.
const Name = "stripe"

// Config configures the Stripe provider.
type Config struct {
	// SecretKey is the platform's secret (or restricted) API key.
	SecretKey string
	// WebhookSecrets are the signing secrets ("whsec_…") of the webhook
	// endpoints that deliver here: the platform's, and for direct
	// settlement the Connect endpoint's. A delivery must match one.
	WebhookSecrets []string
	// WebhookTolerance is the replay window of webhook signatures
	// (default 5 minutes, stripe-go's).
	WebhookTolerance time.Duration
	// APIURL overrides https://api.stripe.com (stripe-mock, test servers).
	APIURL string
	// HTTPClient makes the API calls (default: stripe-go's, 80 s timeout).
	HTTPClient *http.Client
	// MaxNetworkRetries is how often stripe-go itself retries a request that
	// failed on the network, with 409, 429 or 5xx, with the same idempotency
	// key (default 2; negative: never).
	MaxNetworkRetries int
	// ProductName names the line item on the hosted page when a checkout
	// has no description (default "EV charging").
	ProductName string
	// Now is the clock used for webhook replay windows (tests); nil: time.Now.
	Now func() time.Time
}

// Provider is the Stripe provider. It implements payments.Provider.
type Provider struct {
	sc  *stripego.Client
	cfg Config
}

var _ payments.Provider = (*Provider)(nil)

// New returns a Stripe provider.
func New(cfg Config) (*Provider, error) {
	if cfg.SecretKey == "" {
		return nil, errors.New("stripe: a secret API key is required")
	}
	if cfg.WebhookTolerance == 0 {
		cfg.WebhookTolerance = 5 * time.Minute
	}
	if cfg.ProductName == "" {
		cfg.ProductName = "EV charging"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	retries := int64(2)
	if cfg.MaxNetworkRetries != 0 {
		retries = int64(max(cfg.MaxNetworkRetries, 0))
	}
	bc := &stripego.BackendConfig{
		HTTPClient:        cfg.HTTPClient,
		MaxNetworkRetries: stripego.Int64(retries),
		// Errors are returned to the caller, who logs them once.
		LeveledLogger: &stripego.LeveledLogger{Level: stripego.LevelNull},
	}
	if cfg.APIURL != "" {
		bc.URL = stripego.String(cfg.APIURL)
	}
	// Backends of our own rather than stripe-go's package-level defaults:
	// no global state, and a test server or stripe-mock per provider.
	api := stripego.GetBackendWithConfig(stripego.APIBackend, bc)
	backends := &stripego.Backends{API: api, Connect: api, Uploads: api, MeterEvents: api}
	return &Provider{sc: stripego.NewClient(cfg.SecretKey, stripego.WithBackends(backends)), cfg: cfg}, nil
}

// Name returns "stripe".
func (p *Provider) Name() string { return Name }

// on sets the idempotency key and, for direct settlement, the connected
// account of a request.
func on(params *stripego.Params, key, account string) {
	if key != "" {
		params.SetIdempotencyKey(key)
	}
	if account != "" {
		params.SetStripeAccount(account)
	}
}

func lower(currency string) *string { return stripego.String(strings.ToLower(currency)) }

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return stripego.String(s)
}

func metadata(md map[string]string) map[string]string {
	if len(md) == 0 {
		return nil
	}
	return md
}

// CreateCheckout creates a Checkout Session whose PaymentIntent is captured
// manually.
func (p *Provider) CreateCheckout(ctx context.Context, req payments.CheckoutRequest) (payments.Checkout, error) {
	if err := req.Validate(); err != nil {
		return payments.Checkout{}, err
	}
	name := req.Description
	if name == "" {
		name = p.cfg.ProductName
	}
	params := &stripego.CheckoutSessionCreateParams{
		Mode:       stripego.String(string(stripego.CheckoutSessionModePayment)),
		SuccessURL: stripego.String(req.SuccessURL),
		CancelURL:  optional(req.CancelURL),
		LineItems: []*stripego.CheckoutSessionCreateLineItemParams{{
			PriceData: &stripego.CheckoutSessionCreateLineItemPriceDataParams{
				Currency:    lower(req.Currency),
				UnitAmount:  stripego.Int64(req.Amount),
				ProductData: &stripego.CheckoutSessionCreateLineItemPriceDataProductDataParams{Name: stripego.String(name)},
			},
			Quantity: stripego.Int64(1),
		}},
		// Manual capture is a card feature; other methods would be
		// captured at once.
		PaymentMethodTypes: []*string{stripego.String("card")},
		PaymentIntentData: &stripego.CheckoutSessionCreatePaymentIntentDataParams{
			CaptureMethod: stripego.String(string(stripego.PaymentIntentCaptureMethodManual)),
			Description:   optional(req.Description),
			Metadata:      metadata(req.Metadata),
		},
		Metadata: metadata(req.Metadata),
		Customer: optional(req.CustomerRef),
	}
	if req.SaveCard {
		params.PaymentIntentData.SetupFutureUsage = stripego.String(string(stripego.PaymentIntentSetupFutureUsageOffSession))
	}
	if !req.ExpiresAt.IsZero() {
		params.ExpiresAt = stripego.Int64(req.ExpiresAt.Unix())
	}
	on(&params.Params, req.IdempotencyKey, req.Settlement.Account)
	cs, err := p.sc.V1CheckoutSessions.Create(ctx, params)
	if err != nil {
		return payments.Checkout{}, convertErr(err)
	}
	return toCheckout(cs), nil
}

func toCheckout(cs *stripego.CheckoutSession) payments.Checkout {
	c := payments.Checkout{ID: cs.ID, URL: cs.URL, ExpiresAt: unixTime(cs.ExpiresAt)}
	if cs.PaymentIntent != nil {
		c.PaymentID = cs.PaymentIntent.ID
	}
	if cs.Customer != nil {
		c.CustomerRef = cs.Customer.ID
	}
	return c
}

func unixTime(s int64) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(s, 0).UTC()
}

// CreateCardSetup creates a Checkout Session in setup mode for a customer,
// creating the customer first when the request names none.
func (p *Provider) CreateCardSetup(ctx context.Context, req payments.CardSetupRequest) (payments.Checkout, error) {
	if err := req.Validate(); err != nil {
		return payments.Checkout{}, err
	}
	account := req.Settlement.Account
	customer := req.CustomerRef
	if customer == "" {
		cp := &stripego.CustomerCreateParams{Email: optional(req.Email), Metadata: metadata(req.Metadata)}
		// A key of its own, derived from the request's: a retry finds the
		// same customer.
		on(&cp.Params, req.IdempotencyKey+"/customer", account)
		c, err := p.sc.V1Customers.Create(ctx, cp)
		if err != nil {
			return payments.Checkout{}, convertErr(err)
		}
		customer = c.ID
	}
	params := &stripego.CheckoutSessionCreateParams{
		Mode:               stripego.String(string(stripego.CheckoutSessionModeSetup)),
		Customer:           stripego.String(customer),
		SuccessURL:         stripego.String(req.SuccessURL),
		CancelURL:          optional(req.CancelURL),
		PaymentMethodTypes: []*string{stripego.String("card")},
		SetupIntentData:    &stripego.CheckoutSessionCreateSetupIntentDataParams{Metadata: metadata(req.Metadata)},
		Metadata:           metadata(req.Metadata),
	}
	if !req.ExpiresAt.IsZero() {
		params.ExpiresAt = stripego.Int64(req.ExpiresAt.Unix())
	}
	on(&params.Params, req.IdempotencyKey, account)
	cs, err := p.sc.V1CheckoutSessions.Create(ctx, params)
	if err != nil {
		return payments.Checkout{}, convertErr(err)
	}
	c := toCheckout(cs)
	c.CustomerRef = customer
	return c, nil
}

// AuthorizeOffSession confirms a manual-capture PaymentIntent on a saved
// card, driver not present.
func (p *Provider) AuthorizeOffSession(ctx context.Context, req payments.AuthorizeRequest) (payments.Payment, error) {
	if err := req.Validate(); err != nil {
		return payments.Payment{}, err
	}
	params := &stripego.PaymentIntentCreateParams{
		Amount:             stripego.Int64(req.Amount),
		Currency:           lower(req.Currency),
		Customer:           stripego.String(req.CustomerRef),
		PaymentMethod:      stripego.String(req.PaymentMethodRef),
		PaymentMethodTypes: []*string{stripego.String("card")},
		CaptureMethod:      stripego.String(string(stripego.PaymentIntentCaptureMethodManual)),
		Confirm:            stripego.Bool(true),
		OffSession:         stripego.Bool(true),
		Description:        optional(req.Description),
		Metadata:           metadata(req.Metadata),
	}
	params.AddExpand("latest_charge")
	on(&params.Params, req.IdempotencyKey, req.Settlement.Account)
	pi, err := p.sc.V1PaymentIntents.Create(ctx, params)
	if err != nil {
		return payments.Payment{}, convertErr(err)
	}
	pay := toPayment(pi, req.Settlement.Account)
	if pay.Status != payments.StatusAuthorized {
		// Off-session there is nobody to pass 3-D Secure or pick another
		// card: anything but a capturable hold is a decline.
		code := pay.DeclineCode
		if code == "" {
			code = payments.DeclineAuthRequired
		}
		return pay, &payments.Error{Kind: payments.ErrDeclined, Code: code, PaymentID: pi.ID,
			Message: fmt.Sprintf("payment intent is %s", pi.Status)}
	}
	return pay, nil
}

// Capture captures a manual-capture PaymentIntent.
func (p *Provider) Capture(ctx context.Context, req payments.CaptureRequest) (payments.Payment, error) {
	if err := req.Validate(); err != nil {
		return payments.Payment{}, err
	}
	params := &stripego.PaymentIntentCaptureParams{
		AmountToCapture: stripego.Int64(req.Amount),
		Metadata:        metadata(req.Metadata),
	}
	if req.ApplicationFee > 0 {
		params.ApplicationFeeAmount = stripego.Int64(req.ApplicationFee)
	}
	params.AddExpand("latest_charge")
	on(&params.Params, req.IdempotencyKey, req.Payment.Account)
	pi, err := p.sc.V1PaymentIntents.Capture(ctx, req.Payment.ID, params)
	if err != nil {
		return payments.Payment{}, convertErr(err)
	}
	return toPayment(pi, req.Payment.Account), nil
}

// Void cancels a PaymentIntent. One that is canceled already (voided, its
// authorisation lapsed, its page expired) is returned as it is.
func (p *Provider) Void(ctx context.Context, req payments.VoidRequest) (payments.Payment, error) {
	if err := req.Validate(); err != nil {
		return payments.Payment{}, err
	}
	params := &stripego.PaymentIntentCancelParams{
		CancellationReason: stripego.String(string(stripego.PaymentIntentCancellationReasonAbandoned)),
	}
	params.AddExpand("latest_charge")
	on(&params.Params, req.IdempotencyKey, req.Payment.Account)
	pi, err := p.sc.V1PaymentIntents.Cancel(ctx, req.Payment.ID, params)
	if err != nil {
		var se *stripego.Error
		if errors.As(err, &se) && se.Code == stripego.ErrorCodePaymentIntentUnexpectedState {
			if cur, gerr := p.GetPayment(ctx, req.Payment); gerr == nil && released(cur.Status) {
				return cur, nil
			}
		}
		return payments.Payment{}, convertErr(err)
	}
	return toPayment(pi, req.Payment.Account), nil
}

func released(s payments.PaymentStatus) bool {
	return s == payments.StatusVoided || s == payments.StatusExpired || s == payments.StatusCanceled
}

// Refund creates a Refund of a captured PaymentIntent.
func (p *Provider) Refund(ctx context.Context, req payments.RefundRequest) (payments.Refund, error) {
	if err := req.Validate(); err != nil {
		return payments.Refund{}, err
	}
	params := &stripego.RefundCreateParams{
		PaymentIntent: stripego.String(req.Payment.ID),
		Reason:        optional(string(req.Reason)),
		Metadata:      metadata(req.Metadata),
	}
	if req.Amount > 0 {
		params.Amount = stripego.Int64(req.Amount)
	}
	if req.RefundApplicationFee {
		params.RefundApplicationFee = stripego.Bool(true)
	}
	on(&params.Params, req.IdempotencyKey, req.Payment.Account)
	r, err := p.sc.V1Refunds.Create(ctx, params)
	if err != nil {
		return payments.Refund{}, convertErr(err)
	}
	return payments.Refund{ID: r.ID, PaymentID: req.Payment.ID, Amount: r.Amount, Currency: strings.ToUpper(string(r.Currency)),
		Status: string(r.Status), CreatedAt: unixTime(r.Created)}, nil
}

// GetPayment retrieves a PaymentIntent with its latest charge (refunds,
// card, authorisation expiry).
func (p *Provider) GetPayment(ctx context.Context, ref payments.PaymentRef) (payments.Payment, error) {
	if ref.ID == "" {
		return payments.Payment{}, payments.Errorf(payments.ErrInvalidRequest, "payment_missing", "a payment id is required")
	}
	params := &stripego.PaymentIntentRetrieveParams{}
	params.AddExpand("latest_charge")
	on(&params.Params, "", ref.Account)
	pi, err := p.sc.V1PaymentIntents.Retrieve(ctx, ref.ID, params)
	if err != nil {
		return payments.Payment{}, convertErr(err)
	}
	return toPayment(pi, ref.Account), nil
}

// toPayment maps a PaymentIntent onto a payment.
func toPayment(pi *stripego.PaymentIntent, account string) payments.Payment {
	p := payments.Payment{
		ID: pi.ID, Amount: pi.Amount, ApplicationFee: pi.ApplicationFeeAmount, Currency: strings.ToUpper(string(pi.Currency)),
		Description: pi.Description, Metadata: pi.Metadata, CreatedAt: unixTime(pi.Created),
		Settlement: payments.Settlement{Mode: payments.SettlementPlatform},
	}
	if account != "" {
		p.Settlement = payments.Settlement{Mode: payments.SettlementDirect, Account: account}
	}
	switch pi.Status {
	case stripego.PaymentIntentStatusRequiresCapture:
		p.Status = payments.StatusAuthorized
	case stripego.PaymentIntentStatusSucceeded:
		p.Status = payments.StatusCaptured
		p.AmountCaptured = pi.AmountReceived
	case stripego.PaymentIntentStatusCanceled:
		switch {
		case pi.CancellationReason == stripego.PaymentIntentCancellationReasonAutomatic:
			p.Status = payments.StatusExpired // the authorisation lapsed
		case pi.AmountCapturable > 0 || pi.LatestCharge != nil:
			p.Status = payments.StatusVoided
		default:
			p.Status = payments.StatusCanceled // never authorised
		}
	default:
		p.Status = payments.StatusPending
	}
	if pi.Customer != nil {
		p.CustomerRef = pi.Customer.ID
	}
	if pi.PaymentMethod != nil {
		p.PaymentMethod = pi.PaymentMethod.ID
	}
	if e := pi.LastPaymentError; e != nil {
		p.DeclineCode = string(e.DeclineCode)
		if p.DeclineCode == "" {
			p.DeclineCode = string(e.Code)
		}
	}
	if ch := pi.LatestCharge; ch != nil {
		p.AmountRefunded = ch.AmountRefunded
		if ch.PaymentMethodDetails != nil && ch.PaymentMethodDetails.Card != nil {
			c := ch.PaymentMethodDetails.Card
			p.Card = &payments.Card{Brand: string(c.Brand), Last4: c.Last4, ExpMonth: int(c.ExpMonth), ExpYear: int(c.ExpYear)}
			if p.Status == payments.StatusAuthorized {
				p.HoldExpiresAt = unixTime(c.CaptureBefore)
			}
		}
	}
	return p
}

// convertErr maps a stripe-go error onto the payments error kinds.
func convertErr(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var se *stripego.Error
	if !errors.As(err, &se) {
		return &payments.Error{Kind: payments.ErrUnavailable, Code: "network", Err: err}
	}
	pe := &payments.Error{Code: string(se.Code), Message: se.Msg, Err: err}
	if se.PaymentIntent != nil {
		pe.PaymentID = se.PaymentIntent.ID
	}
	switch {
	case se.Type == stripego.ErrorTypeCard:
		if se.DeclineCode != "" {
			pe.Code = string(se.DeclineCode)
		}
		pe.Kind = payments.ErrDeclined
		if pe.Code == payments.DeclineInsufficientFunds {
			pe.Kind = payments.ErrInsufficientFunds
		}
	case se.Type == stripego.ErrorTypeIdempotency || se.Code == stripego.ErrorCodeIdempotencyKeyInUse:
		pe.Kind = payments.ErrIdempotencyConflict
	case se.Code == stripego.ErrorCodeResourceMissing || se.HTTPStatusCode == http.StatusNotFound:
		pe.Kind = payments.ErrNotFound
	case se.Type == stripego.ErrorTypeAPI || se.HTTPStatusCode >= 500 || se.HTTPStatusCode == http.StatusTooManyRequests ||
		se.Code == stripego.ErrorCodeLockTimeout || se.Code == stripego.ErrorCodeRateLimit ||
		se.HTTPStatusCode == http.StatusUnauthorized || se.HTTPStatusCode == http.StatusForbidden:
		// 401/403: our key is wrong or lacks a permission; the request
		// itself is fine and succeeds once the configuration is fixed.
		pe.Kind = payments.ErrUnavailable
	default:
		pe.Kind = payments.ErrInvalidRequest
	}
	return pe
}
