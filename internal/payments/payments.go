package payments

import (
	"context"
	"net/http"
	"time"
)

// Provider is a card payment provider. Implementations are safe for
// concurrent use. Every mutating method needs an idempotency key (see the
// package documentation); all of them return *Error values that match the
// sentinel errors of this package with errors.Is.
type Provider interface {
	// Name is the provider's configuration name: "sandbox" or "stripe".
	Name() string

	// CreateCheckout opens a hosted payment page on which the driver
	// authorises a hold of req.Amount. The hold is placed when the driver
	// completes the page (EventCheckoutCompleted and EventAuthorized);
	// nothing is charged until Capture.
	CreateCheckout(ctx context.Context, req CheckoutRequest) (Checkout, error)

	// AuthorizeOffSession places a hold on a card saved earlier
	// (CreateCardSetup), without the driver present: an RFID card backed by
	// a driver account. A decline is an error (ErrDeclined,
	// ErrInsufficientFunds) whose PaymentID names the failed payment.
	AuthorizeOffSession(ctx context.Context, req AuthorizeRequest) (Payment, error)

	// Capture takes req.Amount (at most the hold) of an authorised payment
	// and releases the rest of the hold. A payment is captured once.
	Capture(ctx context.Context, req CaptureRequest) (Payment, error)

	// Void releases an authorised hold without taking anything. Voiding a
	// hold that is already released (voided or expired) succeeds and
	// returns the payment as it is.
	Void(ctx context.Context, req VoidRequest) (Payment, error)

	// Refund returns req.Amount (0: all that is left) of a captured payment.
	Refund(ctx context.Context, req RefundRequest) (Refund, error)

	// GetPayment reads a payment's current state from the provider.
	GetPayment(ctx context.Context, ref PaymentRef) (Payment, error)

	// CreateCardSetup opens a hosted page on which a driver saves a card for
	// later off-session holds, without paying now. The outcome arrives as
	// EventSetupCompleted (with the payment method) or EventSetupFailed.
	CreateCardSetup(ctx context.Context, req CardSetupRequest) (Checkout, error)

	// ParseWebhook verifies the signature of a webhook delivery (its raw
	// body and headers) and normalises it. A bad or stale signature is
	// ErrInvalidSignature (answer 400); an event of no interest to Charge
	// Star is returned with Type EventOther (acknowledge it with 2xx).
	ParseWebhook(payload []byte, header http.Header) (Event, error)
}

// SettlementMode says whose merchant account collects a payment.
type SettlementMode string

const (
	// SettlementPlatform: the platform's account collects; the operator is
	// paid out later. The zero value means platform.
	SettlementPlatform SettlementMode = "platform"
	// SettlementDirect: the payment is made on the operator's own merchant
	// account (Stripe Connect direct charge); the platform takes an
	// application fee at capture.
	SettlementDirect SettlementMode = "direct"
)

// Settlement is an operator's settlement arrangement, as a request carries it.
type Settlement struct {
	Mode SettlementMode `json:"mode,omitempty"`
	// Account is the operator's merchant account at the provider (Stripe: the
	// connected account id "acct_…"); required in direct mode, empty in
	// platform mode.
	Account string `json:"account,omitempty"`
}

// PaymentRef names a payment at its provider.
type PaymentRef struct {
	ID string `json:"id"`
	// Account is the merchant account the payment lives on: the
	// Settlement.Account of the request that created it (direct mode), or
	// "" (platform mode).
	Account string `json:"account,omitempty"`
}

// CheckoutRequest asks for a hosted payment page placing a hold.
type CheckoutRequest struct {
	IdempotencyKey string
	Amount         int64  // the hold, minor units, > 0
	Currency       string // ISO 4217, upper case
	// Description is shown to the driver on the payment page and on the
	// card statement where the provider supports it (e.g. "Charging at
	// Acme Parking, bay 4").
	Description string
	// SuccessURL is where the page sends the driver once the hold is
	// placed, CancelURL where "cancel" leads; absolute URLs. Every
	// provider replaces "{CHECKOUT_SESSION_ID}" in SuccessURL with the
	// checkout's id (Stripe's placeholder; the sandbox fills it in too).
	SuccessURL string
	CancelURL  string
	// Metadata travels with the payment and comes back in its events
	// (e.g. "session_id"); at most 20 keys of ≤ 40 bytes, values ≤ 500 bytes.
	Metadata   map[string]string
	Settlement Settlement
	// CustomerRef optionally ties the payment to a provider customer; with
	// SaveCard the card is also saved to that customer for later
	// off-session holds (the payment method arrives in the events).
	CustomerRef string
	SaveCard    bool
	// ExpiresAt bounds how long the page can be used; zero: the provider's
	// default (sandbox 30 minutes, Stripe 24 hours). Like every field it is
	// part of the request an idempotency key stands for: a retry must send
	// the same value, not one recomputed from the clock.
	ExpiresAt time.Time
}

// Checkout is an open hosted page.
type Checkout struct {
	ID        string    `json:"id"`
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expires_at"`
	// PaymentID is the payment the page authorises, when the provider knows
	// it already (the sandbox does; Stripe creates it when the driver pays
	// and tells it in EventCheckoutCompleted).
	PaymentID string `json:"payment_id,omitempty"`
	// CustomerRef is the customer a card setup saves the card to (created
	// by the provider when the request named none).
	CustomerRef string `json:"customer,omitempty"`
}

// AuthorizeRequest asks for a hold on a saved card, driver not present.
type AuthorizeRequest struct {
	IdempotencyKey   string
	Amount           int64
	Currency         string
	Description      string
	CustomerRef      string // required
	PaymentMethodRef string // required: a card saved to CustomerRef
	Metadata         map[string]string
	Settlement       Settlement
}

// CaptureRequest captures an authorised payment.
type CaptureRequest struct {
	IdempotencyKey string
	Payment        PaymentRef
	// Amount to take, > 0 and ≤ the hold; the rest is released. A session
	// that used nothing is voided instead.
	Amount int64
	// ApplicationFee is the platform's fee out of Amount in direct mode
	// (0 ≤ fee ≤ Amount); must be 0 in platform mode.
	ApplicationFee int64
	Metadata       map[string]string
}

// VoidRequest releases a hold.
type VoidRequest struct {
	IdempotencyKey string
	Payment        PaymentRef
}

// RefundReason is why money is returned.
type RefundReason string

const (
	RefundRequestedByCustomer RefundReason = "requested_by_customer"
	RefundDuplicate           RefundReason = "duplicate"
	RefundFraudulent          RefundReason = "fraudulent"
)

// RefundRequest returns money of a captured payment.
type RefundRequest struct {
	IdempotencyKey string
	Payment        PaymentRef
	Amount         int64        // 0: everything not yet refunded
	Reason         RefundReason // optional
	// RefundApplicationFee (direct mode) also returns the platform's fee
	// in proportion to the refund.
	RefundApplicationFee bool
	Metadata             map[string]string
}

// CardSetupRequest asks for a hosted page that saves a card.
type CardSetupRequest struct {
	IdempotencyKey string
	// CustomerRef is the customer to save the card to; "" creates one
	// (returned in Checkout.CustomerRef).
	CustomerRef string
	Email       string // optional, for a newly created customer
	SuccessURL  string
	CancelURL   string
	Metadata    map[string]string
	// Settlement: a card saved for direct-mode holds must live on the
	// operator's account.
	Settlement Settlement
	ExpiresAt  time.Time
}

// PaymentStatus is where a payment is in its life.
type PaymentStatus string

const (
	// StatusPending: waiting for the driver on the hosted page (a decline
	// there leaves it pending, with DeclineCode set, so the driver can
	// try another card).
	StatusPending PaymentStatus = "pending"
	// StatusAuthorized: the hold is placed and can be captured or voided.
	StatusAuthorized PaymentStatus = "authorized"
	// StatusCaptured: money taken (AmountCaptured; AmountRefunded of it
	// returned since).
	StatusCaptured PaymentStatus = "captured"
	// StatusVoided: the hold was released on request.
	StatusVoided PaymentStatus = "voided"
	// StatusExpired: the hold lapsed before it was captured.
	StatusExpired PaymentStatus = "expired"
	// StatusFailed: an off-session authorisation was declined.
	StatusFailed PaymentStatus = "failed"
	// StatusCanceled: the hosted page expired before the driver paid.
	StatusCanceled PaymentStatus = "canceled"
)

// Payment is a payment's state at the provider.
type Payment struct {
	ID             string            `json:"id"`
	Status         PaymentStatus     `json:"status"`
	Amount         int64             `json:"amount"` // the hold
	AmountCaptured int64             `json:"amount_captured"`
	AmountRefunded int64             `json:"amount_refunded"`
	ApplicationFee int64             `json:"application_fee"`
	Currency       string            `json:"currency"`
	Description    string            `json:"description,omitempty"`
	Settlement     Settlement        `json:"settlement"`
	CustomerRef    string            `json:"customer,omitempty"`
	PaymentMethod  string            `json:"payment_method,omitempty"`
	Card           *Card             `json:"card,omitempty"`
	DeclineCode    string            `json:"decline_code,omitempty"` // of the last failed attempt
	Metadata       map[string]string `json:"metadata,omitempty"`
	CreatedAt      time.Time         `json:"created_at"`
	// HoldExpiresAt is when an authorised hold lapses (zero when unknown).
	HoldExpiresAt time.Time `json:"hold_expires_at,omitzero"`
}

// Ref returns the reference later calls use for p.
func (p Payment) Ref() PaymentRef { return PaymentRef{ID: p.ID, Account: p.Settlement.Account} }

// Card is what may be kept about a card: never its number.
type Card struct {
	Brand    string `json:"brand"` // "visa", "mastercard", "amex", …
	Last4    string `json:"last4"`
	ExpMonth int    `json:"exp_month"`
	ExpYear  int    `json:"exp_year"`
}

// Refund is money returned.
type Refund struct {
	ID        string    `json:"id"`
	PaymentID string    `json:"payment_id"`
	Amount    int64     `json:"amount"`
	Currency  string    `json:"currency"`
	Status    string    `json:"status"` // "succeeded", "pending" or "failed"
	CreatedAt time.Time `json:"created_at"`
}
