package conformance

import (
	"testing"
	"time"

	"github.com/chargestar/chargestar/internal/servertest"
)

// TestTransactionEvent201QueuedOutOfOrder goes beyond the OCTT cases: a
// transaction run wholly offline is delivered after the reconnection out
// of order (an Updated before its Started), with replays of events whose
// answers were lost (the same seqNo, once with other values). The CSMS
// must answer every one and keep exactly one session, started at the
// Started event's time and reading and stopped at the Ended event's; a
// replay changes nothing; the next transaction, numbered from seqNo 0
// again, is a new one.
func TestTransactionEvent201QueuedOutOfOrder(t *testing.T) {
	t.Parallel()
	queuedOutOfOrder(t, servertest.Options{})
}

func queuedOutOfOrder(t *testing.T, opts servertest.Options) {
	e, st := newEWith(t, opts, "CS-OOO", 1)
	st.Close()
	e.waitDisconnected("CS-OOO")
	t0 := base()
	st = e.connect201("CS-OOO")
	x := newTx(t, st, "TX-OOO", 1)
	started := txe{typ: "Started", trigger: "Authorized", state: "Charging", evse: true, token: validTag, offline: true, at: t0,
		meter: []any{energyMV201(t0, 1000, "Transaction.Begin")}}
	updated := txe{typ: "Updated", trigger: "MeterValuePeriodic", state: "Charging", evse: true, offline: true, at: t0.Add(10 * time.Minute),
		meter: []any{energyMV201(t0.Add(10*time.Minute), 2000, "Sample.Periodic")}}
	ended := txe{typ: "Ended", trigger: "StopAuthorized", state: "EVConnected", reason: "Local", token: validTag, offline: true, at: t0.Add(20 * time.Minute),
		meter: []any{energyMV201(t0.Add(20*time.Minute), 3500, "Transaction.End")}}

	x.sendSeq(1, updated)
	accepted(t, "TransactionEventResponse (late Started)", x.sendSeq(0, started))
	accepted(t, "TransactionEventResponse (replayed Started)", x.sendSeq(0, started))
	x.sendSeq(1, updated)
	accepted(t, "TransactionEventResponse (Ended)", x.sendSeq(2, ended))
	replay := ended
	replay.meter = []any{energyMV201(t0.Add(25*time.Minute), 9999, "Transaction.End")}
	replay.at = t0.Add(25 * time.Minute)
	x.sendSeq(2, replay)

	s := e.session201("CS-OOO", "TX-OOO")
	if !s.StartedAt.Equal(t0) || s.MeterStartWh != 1000 || s.StoppedAt == nil || !s.StoppedAt.Equal(t0.Add(20*time.Minute)) || s.IDTag != validTag {
		t.Fatalf("session %v: want started_at %s with 1000 Wh, stopped_at %s, id_tag %s", s, ts(t0), ts(t0.Add(20*time.Minute)), validTag)
	}
	wantEnded(t, s, "Local", 2500)
	if n := len(e.meterValuesOf(s.ID)); n != 3 {
		t.Fatalf("%d stored meter values, want 3 (replays add none)", n)
	}

	// The next transaction numbers its events from 0 again.
	y := charging201(t, st, "TX-OOO-2", 1, validTag, 5000)
	y.evDisconnected(5600)
	wantEnded(t, e.session201("CS-OOO", "TX-OOO-2"), "EVDisconnected", 600)
	wantEnded(t, e.session201("CS-OOO", "TX-OOO"), "Local", 2500)
}

// TestPostgres201 runs a representative subset of the 2.0.1 suite on
// PostgreSQL (skipped unless CHARGESTAR_TEST_POSTGRES_URL is set).
func TestPostgres201(t *testing.T) {
	t.Parallel()
	pg := servertest.Options{Postgres: true}
	t.Run("TC_B_01_CSMS boot", func(t *testing.T) { t.Parallel(); tcB01(t, pg) })
	t.Run("TC_B_02_CSMS pending", func(t *testing.T) { t.Parallel(); tcB02(t, pg) })
	t.Run("TC_C_39_CSMS group", func(t *testing.T) { t.Parallel(); tcC39(t, pg) })
	t.Run("TC_E_31_CSMS offline end", func(t *testing.T) { t.Parallel(); tcE31(t, pg) })
	t.Run("queued out of order", func(t *testing.T) { t.Parallel(); queuedOutOfOrder(t, pg) })
}
