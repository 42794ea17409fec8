package sim

import (
	"context"
	"time"

	"github.com/chargestar/chargestar/internal/ocpp/ocppj"
)

// protocol is the seam between the station (what happens: a driver
// arrives, a transaction starts, the meter reads) and one OCPP version
// (how it is said on the wire, and how the CSMS's commands are read).
// OCPP 1.6 is ocpp16; 2.0.1 and 2.1 are ocpp2x, which maps transactions
// onto TransactionEvent and connectors onto EVSEs.
type protocol interface {
	subprotocol() string
	dialect() *ocppj.Dialect

	boot(ctx context.Context, s *Station) (bootResult, error)
	heartbeat(ctx context.Context, s *Station) error
	// status reports a connector's status (1.6 names). prev is the status
	// reported before when this is a change, "" for a full report (boot,
	// trigger): a version with fewer connector states (2.x) skips changes
	// it cannot tell apart.
	status(ctx context.Context, s *Station, connector int, status, prev, errorCode string) error
	authorize(ctx context.Context, s *Station, idTag string) (string, error)
	// localAccepted reports whether the local authorisation list accepts
	// a tag (for starting offline). Called with s.mu held.
	localAccepted(s *Station, idTag string) bool
	// txMessage delivers a queued transaction message; for a start it
	// marks the transaction acknowledged (m.tx.id != 0) and sets
	// m.authStatus.
	txMessage(ctx context.Context, s *Station, m *txMessage) error
	// meterValues sends a reading outside the queue (load modes,
	// triggers); tx may be nil. intended: see Station.call.
	meterValues(ctx context.Context, s *Station, connector int, tx *transaction, smp *sample, intended time.Time) error
	securityEvent(ctx context.Context, s *Station, kind, info string) error
	// reservationExpired tells the CSMS that a reservation lapsed unused
	// (2.x; 1.6 has no message for it).
	reservationExpired(ctx context.Context, s *Station, reservationID int) error

	// handle answers one CALL from the CSMS on link l (on its read
	// goroutine); follow-up work goes through l.after.
	handle(ctx context.Context, l *link, action string, payload, dst []byte) ([]byte, error)
}

// protocolFor returns the implementation of a subprotocol named in
// Protocols.
func protocolFor(name string) protocol {
	switch name {
	case ocpp201.name:
		return ocpp2x{ocpp201}
	case ocpp21.name:
		return ocpp2x{ocpp21}
	}
	return ocpp16{}
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
