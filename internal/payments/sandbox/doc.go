// Package sandbox is Charge Star's built-in payment provider: an offline
// stand-in for a card acquirer with a hosted payment page. It is the default
// provider (--payments sandbox), used by the demo and the tests, and behaves
// like the real thing where Charge Star can tell the difference:
//
//   - a hosted payment page (Handler): a small HTML card form that works
//     without JavaScript, under a strict Content-Security-Policy (no inline
//     script or style), usable on a phone and with a screen reader;
//   - the well-known test cards: 4242 4242 4242 4242 approves,
//     4000 0000 0000 0002 is declined (generic_decline),
//     4000 0000 0000 9995 is declined for insufficient funds; any other number
//     is an invalid card. Expiry (MM/YY, not in the past) and CVC (3 digits)
//     are checked;
//   - holds (authorisations) that are captured for at most the held amount,
//     the rest released, or voided, and that expire after HoldTTL (7 days by
//     default); refunds, partial or full;
//   - saved cards for off-session holds: a card saved with 4242 approves
//     later holds, one saved with 9995 is declined for insufficient funds,
//     and 0002 cannot be saved;
//   - idempotency keys: the same key and parameters return the first result
//     (declines included), the same key with other parameters is
//     payments.ErrIdempotencyConflict, and concurrent calls with one key have
//     one effect;
//   - signed webhooks with retries, delivered to a URL or an in-process
//     function.
//
// Its state lives in its own tables (migration 00004, store.SandboxWrite), so
// holds, pages and undelivered webhooks survive our server being killed, as
// they would at a real acquirer. Card numbers are never stored or logged:
// only brand, last four digits and expiry.
//
// # HTTP surface
//
// Handler serves, under the path of Options.BaseURL (e.g. /pay/sandbox):
//
//	GET  {base}/checkout/{id}   the hosted page (card form; or "authorised",
//	                            "card saved" or "expired", 410)
//	POST {base}/checkout/{id}   form fields card_number, exp (MM/YY, MMYY or
//	                            MM/YYYY), cvc, name (optional). Approved: 303
//	                            to the success URL ("{CHECKOUT_SESSION_ID}" or
//	                            "{CHECKOUT_ID}" in it replaced by the page's
//	                            id); declined: 402 with
//	                            the page and the reason; invalid input: 422
//	                            with the page and a message per field;
//	                            already completed: 303 to the success URL
//	                            again (a double submit has no second effect)
//	GET  {base}/style.css       the page's stylesheet
//
// # Webhooks
//
// Every state change adds an event to an outbox in the same transaction. Run
// delivers pending events in order, one POST each, to Options.WebhookURL
// (or calls Options.WebhookFunc with the same body and headers):
//
//	POST <WebhookURL>
//	Content-Type: application/json
//	Sandbox-Signature: t=1735689600,v1=5f1c…(hex)
//
//	{"id":"sbx_evt_…","type":"payment.captured","created_at":"2025-01-01T00:00:00Z",
//	 "provider_type":"payment.captured","payment_id":"sbx_pay_…","amount":1234,
//	 "currency":"AUD","metadata":{"session_id":"ses_…"}}
//
// The body is a payments.Event as JSON. v1 is the lower-case hex
// HMAC-SHA256, keyed with the webhook secret, of the decimal Unix time t, a
// ".", and the raw body, as Stripe signs; t is the time of the attempt, so a
// retry is signed afresh. ParseWebhook accepts a signature only within
// Options.WebhookTolerance (5 minutes) of its own clock, so a captured
// delivery cannot be replayed later; within the window, the event id is what
// de-duplicates. A 2xx answer delivers the event; anything else, or no answer
// in 10 s, is retried after 2 s, 4 s, 8 s … (at most an hour apart) until
// WebhookMaxAttempts, after which the event is marked failed.
package sandbox
