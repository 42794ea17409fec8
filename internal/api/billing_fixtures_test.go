package api

import (
	"encoding/json"
	"time"

	"github.com/chargestar/chargestar/internal/billing"
	"github.com/chargestar/chargestar/internal/model"
	"github.com/chargestar/chargestar/internal/receipt"
	"github.com/chargestar/chargestar/internal/store"
)

// Billing fixtures.

// testTariff is an Australian car-park tariff: GST-inclusive prices, 15
// minutes of free idle time, a $50 hold.
const testTariff = `{
  "id": "car-park-1", "currency": "AUD",
  "elements": [{"price_components": [
    {"type": "ENERGY", "price": 0.55, "step_size": 1},
    {"type": "FLAT", "price": 1.00, "step_size": 1},
    {"type": "PARKING_TIME", "price": 6.00, "step_size": 60}
  ]}],
  "chargestar": {
    "tax": {"name": "GST", "rate": 0.1, "included": true},
    "parking_grace_seconds": 900,
    "hold_amount": 5000
  }
}`

// settledPayment stores the captured payment of the completed session
// sess, priced with the tenant's tariff, as billing leaves it once settled.
func (e *env) settledPayment(tn *tenant, sess model.Session, start, stop time.Time, meterStart, meterStop int64) store.SessionPayment {
	e.t.Helper()
	body := []byte(tn.tariff.Tariff)
	t, err := billing.ParseTariff(body)
	if err != nil {
		e.t.Fatalf("ParseTariff: %v", err)
	}
	sydney, _ := time.LoadLocation("Australia/Sydney")
	cost, err := billing.Price(t, sydney, billing.Usage{Start: start, Stop: stop, Samples: []billing.Sample{
		{At: start, EnergyWh: meterStart}, {At: stop, EnergyWh: meterStop}}})
	if err != nil {
		e.t.Fatalf("Price: %v", err)
	}
	costJSON, err := json.Marshal(cost)
	if err != nil {
		e.t.Fatal(err)
	}
	authorized, settled := start.Add(-time.Minute), stop.Add(time.Minute)
	return e.storePayment(store.SessionPayment{
		OperatorID: tn.op.ID, Purpose: "session", Method: "card", State: "captured",
		StationID: sess.StationID, ConnectorID: sess.ConnectorID, SessionID: sess.ID, IDToken: "NCXSECRETTOKEN000001",
		Provider: "sandbox", ProviderPaymentID: "sbx_pi_" + sess.ID, SettlementMode: model.SettlementPlatform,
		Currency: "AUD", HoldAmount: 5000, TariffID: tn.tariff.ID, Tariff: body, Timezone: "Australia/Sydney",
		AmountTotal: cost.Total, AmountTax: cost.Tax, AmountCaptured: cost.Total, Cost: costJSON,
		CardBrand: "visa", CardLast4: "4242", EndReason: "station", Email: "someone@example.com",
		AccessHash: []byte("secret-access-hash"), ReceiptCode: receipt.NewCode(),
		AuthorizedAt: &authorized, StartedAt: &start, StoppedAt: &stop, SettledAt: &settled,
	})
}

// openPayment stores a payment of tn in state (quote, authorized or
// charging) at its connected station.
func (e *env) openPayment(tn *tenant, state string) store.SessionPayment {
	e.t.Helper()
	now := time.Now()
	p := store.SessionPayment{
		OperatorID: tn.op.ID, Purpose: "session", Method: "card", State: state,
		StationID: tn.station, ConnectorID: 1, IDToken: "NCX" + state, Provider: "sandbox",
		SettlementMode: model.SettlementPlatform, Currency: "AUD", HoldAmount: 5000, StopAtCost: 4700,
		TariffID: tn.tariff.ID, Tariff: []byte(tn.tariff.Tariff), Timezone: "UTC",
	}
	if state != "quote" {
		p.AuthorizedAt = &now
		p.ProviderPaymentID = "sbx_pi_open_" + state
	}
	if state == "charging" {
		p.StartedAt = &now
		p.SessionID = tn.active.ID
	}
	return e.storePayment(p)
}

func (e *env) storePayment(p store.SessionPayment) store.SessionPayment {
	e.t.Helper()
	p, err := e.st.ChangeSessionPayment(e.ctx, store.SessionPaymentChange{Payment: p})
	if err != nil {
		e.t.Fatalf("ChangeSessionPayment: %v", err)
	}
	return p
}

func paymentWithEverything() store.SessionPayment {
	t := tFull
	return store.SessionPayment{ID: "pay_x", OperatorID: "op_x", Purpose: "session", Method: "saved_card", State: "receivable",
		StationID: "CP-1", ConnectorID: 2, AccountID: "acc_x", IDToken: "T", SessionID: "ses_x", Provider: "stripe",
		ProviderPaymentID: "pi_x", Currency: "AUD", HoldAmount: 5000, TariffID: "trf_x", Tariff: []byte(testTariff),
		AmountTotal: 6000, AmountTax: 545, AmountCaptured: 0, AmountRefunded: 0, CardBrand: "visa", CardLast4: "4242",
		DeclineCode: "insufficient_funds", EndReason: "station", ReceiptCode: "ABCD-EFGH", AccessHash: []byte("h"),
		CreatedAt: t, UpdatedAt: t, AuthorizedAt: &t, StartedAt: &t, StoppedAt: &t, SettledAt: &t}
}
