package payments

import "time"

// EventType is a normalised webhook event type.
type EventType string

const (
	// EventCheckoutCompleted: the driver completed a hosted payment page;
	// the payment (PaymentID) is authorised for Amount.
	EventCheckoutCompleted EventType = "checkout.completed"
	// EventCheckoutExpired: a hosted payment page expired unpaid.
	EventCheckoutExpired EventType = "checkout.expired"
	// EventAuthorized: a hold of Amount is placed on PaymentID.
	EventAuthorized EventType = "payment.authorized"
	// EventPaymentFailed: an authorisation was declined; DeclineCode and
	// Message say why ("insufficient_funds": see InsufficientFunds).
	EventPaymentFailed EventType = "payment.failed"
	// EventCaptured: Amount was captured (the rest of the hold released).
	EventCaptured EventType = "payment.captured"
	// EventVoided: the hold was released on request.
	EventVoided EventType = "payment.voided"
	// EventExpired: the hold lapsed uncaptured.
	EventExpired EventType = "payment.expired"
	// EventRefunded: RefundID returned Amount of the payment.
	EventRefunded EventType = "payment.refunded"
	// EventSetupCompleted: a card was saved: PaymentMethod of CustomerRef.
	EventSetupCompleted EventType = "setup.completed"
	// EventSetupFailed: saving a card failed (DeclineCode, Message).
	EventSetupFailed EventType = "setup.failed"
	// EventOther: a verified event Charge Star does not act on; acknowledge
	// it.
	EventOther EventType = "other"
)

// Event is a normalised provider event. Which fields are set depends on
// Type. Its JSON form is also the sandbox's webhook body.
type Event struct {
	// ID is the provider's event id, the same on every redelivery.
	ID        string    `json:"id"`
	Type      EventType `json:"type"`
	CreatedAt time.Time `json:"created_at"`
	// ProviderType is the provider's own event type ("payment_intent.succeeded").
	ProviderType string `json:"provider_type,omitempty"`

	PaymentID  string `json:"payment_id,omitempty"`
	CheckoutID string `json:"checkout_id,omitempty"`
	RefundID   string `json:"refund_id,omitempty"`
	Amount     int64  `json:"amount,omitempty"`
	Currency   string `json:"currency,omitempty"`
	// DeclineCode and Message explain EventPaymentFailed / EventSetupFailed.
	DeclineCode   string `json:"decline_code,omitempty"`
	Message       string `json:"message,omitempty"`
	CustomerRef   string `json:"customer,omitempty"`
	PaymentMethod string `json:"payment_method,omitempty"`
	Card          *Card  `json:"card,omitempty"`
	// Account is the merchant account the object lives on (direct mode).
	Account  string            `json:"account,omitempty"`
	Metadata map[string]string `json:"metadata,omitempty"`
}

// InsufficientFunds reports whether a failure event is a decline for
// insufficient funds.
func (e Event) InsufficientFunds() bool { return e.DeclineCode == DeclineInsufficientFunds }
