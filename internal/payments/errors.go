package payments

import (
	"errors"
	"fmt"
)

// Kinds of failure. Every error a Provider returns matches exactly one of
// these with errors.Is (ErrInsufficientFunds also matches ErrDeclined),
// except context errors, which are returned as they are.
var (
	// ErrDeclined: the card issuer refused the authorisation; DeclineCode
	// says why. Not retryable with the same card.
	ErrDeclined = errors.New("payments: card declined")
	// ErrInsufficientFunds: declined because the card lacks the funds for
	// the hold (decline code "insufficient_funds"); a smaller hold may work.
	ErrInsufficientFunds = errors.New("payments: insufficient funds")
	// ErrInvalidRequest: the request is wrong, or wrong for the payment's
	// state (capturing more than the hold, capturing twice, refunding more
	// than was captured, …). Retrying it cannot help.
	ErrInvalidRequest = errors.New("payments: invalid request")
	// ErrNotFound: no such payment (on that account).
	ErrNotFound = errors.New("payments: not found")
	// ErrUnavailable: the provider could not be reached or failed
	// (network error, 5xx, rate limit). Retry with the same idempotency key.
	ErrUnavailable = errors.New("payments: provider unavailable")
	// ErrIdempotencyConflict: the idempotency key was used before with
	// different parameters (or is still in use by a concurrent request).
	ErrIdempotencyConflict = errors.New("payments: idempotency key conflict")
	// ErrInvalidSignature: a webhook's signature is missing, wrong, or
	// outside the replay window.
	ErrInvalidSignature = errors.New("payments: invalid webhook signature")
)

// Well-known decline codes (Stripe's vocabulary, which the sandbox shares).
const (
	DeclineGeneric           = "generic_decline"
	DeclineInsufficientFunds = "insufficient_funds"
	DeclineExpiredCard       = "expired_card"
	DeclineAuthRequired      = "authentication_required"
)

// Error is a provider failure.
type Error struct {
	// Kind is one of the sentinel errors above.
	Kind error
	// Code is the provider's code: the decline code for declines
	// ("generic_decline", "insufficient_funds"), an error code otherwise
	// ("amount_too_large", "hold_expired", …); may be empty.
	Code string
	// Message is a human-readable explanation (safe to show a driver for
	// declines).
	Message string
	// PaymentID names the payment the failure concerns, when there is one
	// (a declined off-session authorisation still creates a payment).
	PaymentID string
	// Err is the underlying error (e.g. *stripe.Error), if any.
	Err error
}

func (e *Error) Error() string {
	s := e.Kind.Error()
	if e.Code != "" {
		s += " (" + e.Code + ")"
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Err != nil && e.Message == "" {
		s += ": " + e.Err.Error()
	}
	return s
}

// Is makes errors.Is(err, ErrDeclined) hold for insufficient funds too.
func (e *Error) Is(target error) bool {
	return target == e.Kind || (target == ErrDeclined && e.Kind == ErrInsufficientFunds)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error of kind with code and a formatted message.
func Errorf(kind error, code, format string, args ...any) *Error {
	return &Error{Kind: kind, Code: code, Message: fmt.Sprintf(format, args...)}
}

// DeclineCode returns the decline code of a declined authorisation, or "".
func DeclineCode(err error) string {
	var e *Error
	if errors.As(err, &e) && errors.Is(e, ErrDeclined) {
		return e.Code
	}
	return ""
}

// Retryable reports whether repeating the same request (same idempotency
// key) may succeed: the provider was unavailable.
func Retryable(err error) bool { return errors.Is(err, ErrUnavailable) }
