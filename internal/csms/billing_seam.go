package csms

import (
	"context"
	"time"
)

// The seam billing drives stations through: running costs shown on the
// station (2.x CostUpdated), and tariffs the station itself applies (2.1
// SetDefaultTariff, ChangeTransactionTariff). Costs and limits flow the
// other way through CostProvider (txevent.go).

// StationTariff is a tariff in the form a station can apply: prices in
// minor units, excluding tax, with one tax rate. Billing derives it from
// its richer tariff model.
type StationTariff struct {
	ID             string
	Currency       string
	Description    string // shown to the driver, e.g. "$0.55/kWh incl. GST"
	Language       string // of Description, e.g. "en"
	EnergyPerKWh   int64  // minor units per kWh, 0 none
	TimePerMinute  int64  // minor units per minute charging, 0 none
	IdlePerMinute  int64  // minor units per minute plugged in and not charging, 0 none
	FixedFee       int64  // minor units per session, 0 none
	TaxPercent     float64
	TaxName        string // e.g. "GST"
	MaxCostInclTax int64  // 0 none
	ValidFrom      time.Time
}

// BillingTranslator is implemented by adapters whose protocol can carry
// costs and tariffs to the station. Each method returns the action and
// payload to send, or ErrUnknownCommand when the protocol cannot say it.
type BillingTranslator interface {
	CostUpdate(transactionID string, c Cost) (string, []byte, error)
	DefaultTariff(evseID int, t StationTariff) (string, []byte, error)
	TransactionTariff(transactionID string, t StationTariff) (string, []byte, error)
}

func (s *Service) sendBilling(ctx context.Context, stationID string, build func(BillingTranslator) (string, []byte, error)) (CommandResult, error) {
	_, res, err := s.sendTranslated(ctx, stationID, func(p Protocol) (string, []byte, error) {
		bt, ok := p.(BillingTranslator)
		if !ok {
			return "", nil, ErrUnknownCommand
		}
		return build(bt)
	})
	return res, err
}

// SendCostUpdate shows a transaction's running cost on the station (2.x).
func (s *Service) SendCostUpdate(ctx context.Context, stationID, transactionID string, c Cost) (CommandResult, error) {
	return s.sendBilling(ctx, stationID, func(bt BillingTranslator) (string, []byte, error) { return bt.CostUpdate(transactionID, c) })
}

// SendDefaultTariff installs the tariff a station applies to new sessions
// on an EVSE (0: all) (2.1).
func (s *Service) SendDefaultTariff(ctx context.Context, stationID string, evseID int, t StationTariff) (CommandResult, error) {
	return s.sendBilling(ctx, stationID, func(bt BillingTranslator) (string, []byte, error) { return bt.DefaultTariff(evseID, t) })
}

// SendTransactionTariff changes the tariff of a running transaction (2.1).
func (s *Service) SendTransactionTariff(ctx context.Context, stationID, transactionID string, t StationTariff) (CommandResult, error) {
	return s.sendBilling(ctx, stationID, func(bt BillingTranslator) (string, []byte, error) { return bt.TransactionTariff(transactionID, t) })
}
