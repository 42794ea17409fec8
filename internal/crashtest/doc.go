// Package crashtest holds the billing crash-safety tests. The real
// chargestar binary (built by the test from ../../cmd/chargestar) runs on a
// SQLite file and is killed with SIGKILL at random points of many paid
// charging sessions — checkout, payment, remote start, StartTransaction,
// MeterValues, StopTransaction, the capture, the provider's webhooks, the
// recovery after a start — and restarted on the same database and port,
// while simulated OCPP 1.6-J stations reconnect and re-send what was not
// answered, as stations do, and simulated drivers retry what failed.
//
// Afterwards every session whose payment was authorised must be captured
// for exactly its price (each session delivers a different energy, so its
// price is known) or voided with a reason, exactly once: in the payment, in
// the ledger (one hold, one capture or void) and at the (sandbox) acquirer;
// no payment may be left authorised, charging or stopped; no replay may
// have made a second session; and the ledger must balance. Checkouts whose
// POST lost its answer in a kill leave unpaid quotes: they are counted as
// orphans and must hold nothing.
//
// Recovery must also be prompt: whatever a kill interrupted (a remote
// start, a capture) must be done within -crash.recovery (30 s) of the
// server's latest restart; a remote start that does not come by then aborts
// the run.
//
// The package has no code of its own: everything is in the tests. They are
// skipped with -short. In CI they run small (3 kills, 12 sessions, 4
// stations; a few seconds):
//
//	go test ./internal/crashtest -count=1 -v
//
// To run many:
//
//	go test ./internal/crashtest -run SIGKILL -crash.kills 50 -crash.sessions 200 -v
//
// Flags: -crash.kills, -crash.sessions, -crash.stations (stations charging
// at once), -crash.seed (0 picks one; the seed used is logged, and with it
// the kill schedule repeats as far as timing allows), -crash.recovery, and
// -crash.keep (keep the database and the server's log; their directory is
// logged). On failure the tail of the server's log is printed.
//
// TestCrashSafetyKillDuringRemoteStart is the deterministic case: a station
// holds back its answer to RemoteStartTransaction, the server is killed
// while its outbox waits for it, and the remote start must be sent again
// soon after the restart.
package crashtest
