package billing_test

import (
	"fmt"
	"time"

	"github.com/chargestar/chargestar/internal/billing"
)

// An Australian car-park tariff: GST-inclusive prices, 15 minutes of free
// idle time, a $50 hold.
const exampleTariff = `{
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

func ExamplePrice() {
	tariff, err := billing.ParseTariff([]byte(exampleTariff))
	if err != nil {
		panic(err)
	}
	sydney, _ := time.LoadLocation("Australia/Sydney")
	start := time.Date(2025, 3, 3, 10, 0, 0, 0, sydney)
	charging, idle := true, false
	usage := billing.Usage{
		Start: start,
		Stop:  start.Add(100 * time.Minute),
		Samples: []billing.Sample{
			{At: start, EnergyWh: 120_000, Charging: &charging},
			{At: start.Add(time.Hour), EnergyWh: 160_000, Charging: &idle}, // 40 kWh, then idle for 40 min
		},
	}
	cost, err := billing.Price(tariff, sydney, usage)
	if err != nil {
		panic(err)
	}
	for _, l := range cost.Lines {
		fmt.Printf("%s: %s\n", l.Description, billing.FormatMoney(l.Amount, cost.Currency))
	}
	fmt.Printf("Total %s, including %s %s\n", billing.FormatMoney(cost.Total, cost.Currency),
		cost.TaxName, billing.FormatMoney(cost.Tax, cost.Currency))
	// Output:
	// Session fee: $1.00
	// Energy 40.000 kWh × $0.55/kWh: $22.00
	// Idle 25 min × $6.00/h: $2.50
	// Total $25.50, including GST $2.32
}

func ExampleDescribe() {
	tariff, _ := billing.ParseTariff([]byte(exampleTariff))
	sydney, _ := time.LoadLocation("Australia/Sydney")
	d, err := billing.Describe(tariff, billing.DescribeOptions{Location: sydney})
	if err != nil {
		panic(err)
	}
	fmt.Println(d.Summary)
	fmt.Println(d.Example)
	// Output:
	// $0.55 per kWh · $1.00 session fee · idle $0.10/min after 15 min · prices include GST
	// a 40 kWh, 1 h session costs $23.00
}

func ExampleHoldFor() {
	tariff, _ := billing.ParseTariff([]byte(exampleTariff))
	opts := billing.HoldOptions{MaxPowerW: 22_000} // a 22 kW AC connector
	for _, b := range []billing.Budget{{}, {Amount: 3000}, {EnergyWh: 20_000}} {
		h, err := billing.HoldFor(tariff, b, opts)
		if err != nil {
			panic(err)
		}
		fmt.Printf("hold %s, stop at %s\n", billing.FormatMoney(h.Amount, h.Currency), billing.FormatMoney(h.StopAtCost, h.Currency))
	}
	// Output:
	// hold $50.00, stop at $49.39
	// hold $30.00, stop at $29.39
	// hold $12.61, stop at $12.00
}
