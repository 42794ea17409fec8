// Package payments is the seam between Charge Star and card payment
// providers. Drivers pay up front, per charging session: the platform places
// a hold (an authorisation with manual capture) before charging starts and,
// when the session ends, captures exactly what was used (never more than the
// hold) or voids the hold. Card data never reaches our servers: a driver
// enters it on the provider's hosted payment page, or it is a card the
// provider saved earlier (an RFID card backed by a driver account).
//
// Provider is the one interface; two implementations exist:
//
//   - payments/sandbox, the default: a built-in, fully offline card acquirer
//     with a hosted payment page, the well-known test cards, holds that
//     expire, idempotency keys and signed webhooks, persisted in its own
//     tables so that it survives our server being killed;
//   - payments/stripe: Stripe Checkout and PaymentIntents with
//     capture_method=manual, Connect direct charges, SetupIntents.
//
// # Money
//
// Amounts are int64 minor units of an ISO 4217 currency (upper case in this
// package, e.g. 1234 "AUD" is A$12.34), never floats.
//
// # Idempotency
//
// Every mutating request carries an IdempotencyKey, which is required: the
// session payment lifecycle calls providers from an outbox and retries with
// the same deterministic key, so a retry after a timeout or a crash never
// holds, captures or refunds twice. The same key with the same parameters
// returns the first result (including a decline); the same key with other
// parameters fails with ErrIdempotencyConflict. Requests that fail
// validation are not remembered.
//
// # Settlement
//
// Settlement says whose merchant account takes the money. In "platform" mode
// the platform's account collects and the operator is paid out later; in
// "direct" mode the payment is made on the operator's own merchant account
// (Stripe Connect direct charges with the connected account id) and the
// platform takes an application fee at capture. A payment made in direct mode
// lives on that account, so later calls name it again (PaymentRef.Account).
//
// # Webhooks
//
// ParseWebhook verifies a delivery's signature and turns it into one
// normalised Event. Event.ID is the provider's event id, stable across
// redeliveries, for de-duplication by the caller. Providers deliver at least
// once and not necessarily in order, and several events may describe the same
// transition (Stripe sends both checkout.session.completed and
// payment_intent.amount_capturable_updated for a hosted checkout; so does the
// sandbox, as EventCheckoutCompleted and EventAuthorized): a consumer applies
// each event as a state transition that is a no-op when already made.
package payments
