package sessionbilling

import (
	"errors"
	"fmt"

	"github.com/chargestar/chargestar/internal/model"
)

// State is where a payment is in its life. It only moves forward:
//
//	quote ──authorized──▶ authorized ──started──▶ charging ──stopped──▶ stopped ──captured──▶ captured
//	  │                      │                                            │ └──voided────▶ voided
//	  │                      └─no start / canceled / hold expired─▶ stopped └──capture failed─▶ receivable
//	  ├──declined (off-session)──▶ failed ─────────┐
//	  └──page expired / canceled──▶ canceled ──────┴─a hold arrives after all─▶ stopped (void)
//
// stopped means the session is over and the money is being settled: the
// capture or void is in the outbox. captured, voided, receivable, failed
// and canceled are final.
type State string

const (
	StateQuote      State = "quote"      // hosted page open; nothing held
	StateAuthorized State = "authorized" // hold placed; waiting for the station to start
	StateCharging   State = "charging"   // the station started the session
	StateStopped    State = "stopped"    // ended; capture or void under way
	StateCaptured   State = "captured"   // the cost taken, the rest of the hold released
	StateVoided     State = "voided"     // the hold released, nothing taken
	StateReceivable State = "receivable" // the capture failed: the driver owes the amount
	StateFailed     State = "failed"     // the authorisation was declined; nothing held
	StateCanceled   State = "canceled"   // the page expired or was abandoned; nothing held
)

// Final reports whether no event moves the state any more.
func (s State) Final() bool {
	switch s {
	case StateCaptured, StateVoided, StateReceivable, StateFailed, StateCanceled:
		return true
	}
	return false
}

// Open lists the states the sweep watches.
var Open = []string{string(StateQuote), string(StateAuthorized), string(StateCharging), string(StateStopped)}

// Event is something that happened to a payment.
type Event string

const (
	EvAuthorized     Event = "authorized"      // the provider placed the hold (or a wallet hold was booked)
	EvDeclined       Event = "declined"        // an off-session authorisation was declined
	EvCheckoutClosed Event = "checkout_closed" // the hosted page expired unpaid or the driver canceled it
	EvStarted        Event = "started"         // the station started the session
	EvStopped        Event = "stopped"         // the station (or the offline deadline) ended the session
	EvNoStart        Event = "no_start"        // the station did not start in time, or the driver canceled
	EvHoldExpired    Event = "hold_expired"    // the provider released the hold on its own
	EvCaptured       Event = "captured"        // the capture is confirmed
	EvVoided         Event = "voided"          // the void is confirmed
	EvCaptureFailed  Event = "capture_failed"  // the provider refused the capture for good
)

// ErrStale: the event is a repeat or arrives after the state moved past it
// (a duplicate webhook, a late start after a void). Nothing changes; the
// caller acknowledges it.
var ErrStale = errors.New("sessionbilling: event does not apply any more")

// ErrImpossible: the event cannot happen in this state (a start before the
// hold). Nothing changes; the caller logs it.
var ErrImpossible = errors.New("sessionbilling: event impossible in this state")

// transitions is the state machine: from → event → to.
var transitions = map[State]map[Event]State{
	StateQuote: {
		EvAuthorized:     StateAuthorized,
		EvDeclined:       StateFailed,
		EvCheckoutClosed: StateCanceled,
	},
	StateAuthorized: {
		// A top-up has no session: it is complete once authorised.
		EvStopped:     StateStopped,
		EvStarted:     StateCharging,
		EvNoStart:     StateStopped,
		EvHoldExpired: StateStopped,
	},
	StateCharging: {
		EvStopped:     StateStopped,
		EvHoldExpired: StateStopped,
	},
	// A hold that arrives after its page was given up on (the driver paid
	// in the last second, a webhook raced the expiry sweep) is released.
	StateCanceled: {EvAuthorized: StateStopped},
	StateFailed:   {EvAuthorized: StateStopped},
	StateStopped: {
		EvCaptured:      StateCaptured,
		EvVoided:        StateVoided,
		EvCaptureFailed: StateReceivable,
	},
}

// stale lists, per state, the events that may still arrive after it was
// reached and change nothing.
var stale = map[State][]Event{
	StateAuthorized: {EvAuthorized, EvCheckoutClosed, EvDeclined},
	StateCharging:   {EvAuthorized, EvStarted, EvNoStart, EvCheckoutClosed, EvDeclined},
	StateStopped:    {EvAuthorized, EvStarted, EvStopped, EvNoStart, EvHoldExpired, EvCheckoutClosed},
	StateCaptured:   {EvAuthorized, EvStarted, EvStopped, EvNoStart, EvHoldExpired, EvCaptured, EvCheckoutClosed},
	StateVoided:     {EvAuthorized, EvStarted, EvStopped, EvNoStart, EvHoldExpired, EvVoided, EvCheckoutClosed},
	StateReceivable: {EvAuthorized, EvStarted, EvStopped, EvNoStart, EvHoldExpired, EvCaptureFailed, EvCheckoutClosed},
	StateFailed:     {EvDeclined, EvCheckoutClosed},
	StateCanceled:   {EvCheckoutClosed, EvDeclined},
}

// Next returns the state after ev. ErrStale: ev changes nothing any more;
// ErrImpossible: ev cannot happen in from.
func Next(from State, ev Event) (State, error) {
	if to, ok := transitions[from][ev]; ok {
		return to, nil
	}
	for _, e := range stale[from] {
		if e == ev {
			return from, ErrStale
		}
	}
	return from, fmt.Errorf("%w: %s in %s", ErrImpossible, ev, from)
}

// SessionPaymentStatus is the session's payment_status (the contract's
// vocabulary) for a payment state.
func SessionPaymentStatus(s State) string {
	switch s {
	case StateAuthorized, StateCharging, StateStopped:
		return model.PaymentAuthorized
	case StateCaptured:
		return model.PaymentCaptured
	case StateVoided, StateCanceled:
		return model.PaymentVoided
	case StateFailed, StateReceivable:
		return model.PaymentFailed
	}
	return model.PaymentNone
}
