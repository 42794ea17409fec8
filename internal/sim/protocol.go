package sim

import (
	"context"
	"time"

	"github.com/chargestar/chargestar/internal/ocpp/ocppj"
)

// protocol is the seam between the station (what happens: a driver
// arrives, a transaction starts, the meter reads) and one OCPP version
// (how it is said on the wire, and how the CSMS's commands are read).
// OCPP 1.6 is ocpp16; 2.0.1 and 2.1 would be two more implementations,
// mapping transactions onto TransactionEvent and connectors onto EVSEs.
type protocol interface {
	subprotocol() string
	dialect() *ocppj.Dialect

	boot(ctx context.Context, s *Station) (bootResult, error)
	heartbeat(ctx context.Context, s *Station) error
	status(ctx context.Context, s *Station, connector int, status, errorCode string) error
	authorize(ctx context.Context, s *Station, idTag string) (string, error)
	// txMessage delivers a queued transaction message; for a start it
	// sets m.tx.id and m.authStatus.
	txMessage(ctx context.Context, s *Station, m *txMessage) error
	// meterValues sends a reading outside the queue (load modes,
	// triggers); tx may be nil. intended: see Station.call.
	meterValues(ctx context.Context, s *Station, connector int, tx *transaction, smp *sample, intended time.Time) error
	securityEvent(ctx context.Context, s *Station, kind, info string) error

	// handle answers one CALL from the CSMS on link l (on its read
	// goroutine); follow-up work goes through l.after.
	handle(ctx context.Context, l *link, action string, payload, dst []byte) ([]byte, error)
}

type registration uint8

const (
	regAccepted registration = iota
	regPending
	regRejected
)

func (r registration) String() string {
	return [...]string{"Accepted", "Pending", "Rejected"}[r]
}

type bootResult struct {
	status   registration
	interval time.Duration
}

func secondsDur(n int) time.Duration { return time.Duration(n) * time.Second }
