package sessionbilling

import (
	"errors"
	"testing"
	"time"

	"github.com/chargestar/chargestar/internal/billing"
	"github.com/chargestar/chargestar/internal/model"
)

var allStates = []State{StateQuote, StateAuthorized, StateCharging, StateStopped, StateCaptured, StateVoided, StateReceivable, StateFailed, StateCanceled}
var allEvents = []Event{EvAuthorized, EvDeclined, EvCheckoutClosed, EvStarted, EvStopped, EvNoStart, EvHoldExpired, EvCaptured, EvVoided, EvCaptureFailed}

// rank orders states so that "only forward" can be checked: every
// transition goes to a higher rank.
var rank = map[State]int{StateQuote: 0, StateFailed: 1, StateCanceled: 1, StateAuthorized: 2, StateCharging: 3, StateStopped: 4,
	StateCaptured: 5, StateVoided: 5, StateReceivable: 5}

func TestStateMachineOnlyMovesForward(t *testing.T) {
	for _, from := range allStates {
		for _, ev := range allEvents {
			to, err := Next(from, ev)
			switch {
			case err == nil:
				if rank[to] <= rank[from] {
					t.Errorf("%s --%s--> %s goes backwards", from, ev, to)
				}
			case errors.Is(err, ErrStale), errors.Is(err, ErrImpossible):
				if to != from {
					t.Errorf("%s --%s--> refused but changed to %s", from, ev, to)
				}
			default:
				t.Errorf("%s --%s-->: unexpected error %v", from, ev, err)
			}
		}
	}
}

func TestStateMachineFinalStates(t *testing.T) {
	for _, s := range allStates {
		for _, ev := range allEvents {
			to, err := Next(s, ev)
			if s.Final() && err == nil && !(ev == EvAuthorized && (s == StateCanceled || s == StateFailed)) {
				t.Errorf("final state %s moved to %s on %s", s, to, ev)
			}
		}
	}
	// A hold that arrives after its page was given up on is released.
	for _, s := range []State{StateCanceled, StateFailed} {
		if to, err := Next(s, EvAuthorized); err != nil || to != StateStopped {
			t.Errorf("late hold in %s: %s %v", s, to, err)
		}
	}
}

func TestStateMachinePaths(t *testing.T) {
	for _, path := range [][]Event{
		{EvAuthorized, EvStarted, EvStopped, EvCaptured},
		{EvAuthorized, EvStarted, EvStopped, EvVoided},
		{EvAuthorized, EvStarted, EvStopped, EvCaptureFailed},
		{EvAuthorized, EvNoStart, EvVoided},
		{EvAuthorized, EvHoldExpired, EvVoided},
		{EvDeclined, EvAuthorized, EvVoided},
		{EvCheckoutClosed, EvAuthorized, EvVoided},
	} {
		s := StateQuote
		for _, ev := range path {
			next, err := Next(s, ev)
			if err != nil {
				t.Fatalf("path %v: %s on %s: %v", path, ev, s, err)
			}
			// Every event repeated is stale.
			if _, err := Next(next, ev); !errors.Is(err, ErrStale) {
				t.Errorf("path %v: repeating %s in %s: %v", path, ev, next, err)
			}
			s = next
		}
		if !s.Final() {
			t.Errorf("path %v ends in %s, not final", path, s)
		}
	}
	if _, err := Next(StateQuote, EvStarted); !errors.Is(err, ErrImpossible) {
		t.Errorf("a start before the hold: %v", err)
	}
}

func TestSessionPaymentStatus(t *testing.T) {
	want := map[State]string{StateQuote: model.PaymentNone, StateAuthorized: model.PaymentAuthorized, StateCharging: model.PaymentAuthorized,
		StateStopped: model.PaymentAuthorized, StateCaptured: model.PaymentCaptured, StateVoided: model.PaymentVoided,
		StateCanceled: model.PaymentVoided, StateFailed: model.PaymentFailed, StateReceivable: model.PaymentFailed}
	for s, w := range want {
		if got := SessionPaymentStatus(s); got != w {
			t.Errorf("%s: %s, want %s", s, got, w)
		}
	}
}

func TestSettle(t *testing.T) {
	gst := billing.AustralianGST()
	cost := func(total, tax, wh int64) billing.Cost {
		return billing.Cost{Total: total, Tax: tax, Quantities: billing.Quantities{EnergyWh: wh}}
	}
	for _, c := range []struct {
		name       string
		c          billing.Cost
		hold       int64
		chargeZero bool
		want       Settlement
	}{
		{"within the hold", cost(1100, 100, 20000), 5000, false, Settlement{Capture: 1100, Tax: 100}},
		{"exactly the hold", cost(5000, 455, 90000), 5000, false, Settlement{Capture: 5000, Tax: 455}},
		{"above the hold is capped: GST of the capped amount", cost(5500, 500, 99000), 5000, false, Settlement{Capture: 5000, Tax: 455, Capped: true}},
		{"capped, 1/11 rounding half up", cost(6000, 545, 99000), 5000, false, Settlement{Capture: 5000, Tax: 455, Capped: true}},
		{"zero energy is free", cost(100, 9, 0), 5000, false, Settlement{Reason: ReasonZeroEnergy}},
		{"zero energy pays the fee when the tariff says so", cost(100, 9, 0), 5000, true, Settlement{Capture: 100, Tax: 9}},
		{"free tariff", cost(0, 0, 1000), 5000, false, Settlement{Reason: ReasonFree}},
	} {
		tr := &billing.Tariff{ChargeZeroEnergy: c.chargeZero, Tax: &gst}
		if got := Settle(c.c, c.hold, tr); got != c.want {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
}

func TestUsageOf(t *testing.T) {
	start := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	stop := start.Add(time.Hour)
	e1, p1 := 11000.0, 7000.0
	stopWh := int64(21000)
	sess := model.Session{StartedAt: start, StoppedAt: &stop, Status: model.SessionCompleted, MeterStartWh: 1000, MeterStopWh: &stopWh}
	mvs := []model.MeterValue{
		{Timestamp: start.Add(-time.Minute), EnergyWh: &e1}, // before the start: counted at the start
		{Timestamp: start.Add(30 * time.Minute), PowerW: &p1},
		{Timestamp: start.Add(40 * time.Minute)}, // no energy, no power: skipped
	}
	u := UsageOf(sess, mvs)
	if len(u.Samples) != 4 || !u.Samples[1].At.Equal(start) || u.Samples[2].EnergyWh != 11000 || *u.Samples[2].PowerW != 7000 ||
		u.Samples[3].EnergyWh != 21000 || !u.Stop.Equal(stop) {
		t.Fatalf("usage: %+v", u)
	}
	sess.Status, sess.StoppedAt = model.SessionActive, nil
	if u := UsageOf(sess, mvs); !u.Stop.IsZero() || len(u.Samples) != 3 {
		t.Fatalf("live usage: %+v", u)
	}
}

func TestStartTokens(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		tok := NewStartToken()
		if len(tok) != 20 || !IsStartToken(tok) || seen[tok] {
			t.Fatalf("token %q", tok)
		}
		seen[tok] = true
	}
	for _, tok := range []string{"04A1B2C3D4", "NCX", "ABCDEFGHIJKLMNOPQRST"} {
		if IsStartToken(tok) {
			t.Errorf("%q taken for a start token", tok)
		}
	}
}

// TestTaxWithinPerComponentRates: without one tax rule (OCPI per-component
// VAT) a capped amount carries the cost's tax in proportion.
func TestTaxWithinPerComponentRates(t *testing.T) {
	c := billing.Cost{Total: 6000, Tax: 545}
	if got := TaxWithin(5000, c, &billing.Tariff{}); got != 454 {
		t.Fatalf("proportional tax %d, want 454", got)
	}
	if got := TaxWithin(6000, c, &billing.Tariff{}); got != 545 {
		t.Fatalf("whole amount %d", got)
	}
}
