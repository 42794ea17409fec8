package receipt

import (
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // Australia/Sydney on machines without a zone database
)

func sydney(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Australia/Sydney")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// sampleReceipt is a typical GST-inclusive Australian session: 20.45 kWh
// at $0.55, a session fee and an idle fee, paid by card under a $50 hold.
func sampleReceipt(t testing.TB) Receipt {
	loc := sydney(t)
	return Receipt{
		Code:     "K7QM-4XPD",
		IssuedAt: time.Date(2026, 3, 3, 14, 5, 0, 0, loc),
		Location: loc,
		Seller: Party{
			Name:      "Acme Parking",
			LegalName: "Acme Parking Pty Ltd",
			TaxID:     "51 824 753 556",
			Address:   "Level 2, 10 Smith Street\nSydney NSW 2000",
		},
		SiteName:     "Darling Harbour car park",
		SiteAddress:  "1 Wheat Road, Sydney NSW 2000",
		StationID:    "CS-DH-001",
		ConnectorID:  2,
		StartedAt:    time.Date(2026, 3, 3, 12, 58, 30, 0, loc),
		StoppedAt:    time.Date(2026, 3, 3, 14, 3, 10, 0, loc),
		MeterStartWh: 12_345_678,
		MeterStopWh:  12_366_128,
		EnergyWh:     20_450,
		Currency:     "AUD",
		Lines: []Line{
			{Description: "Energy", Quantity: "20.450 kWh", UnitPrice: "$0.55/kWh", Amount: 1125},
			{Description: "Session fee", Quantity: "1", UnitPrice: "$1.00", Amount: 100},
			{Description: "Idle fee", Quantity: "10 min", UnitPrice: "$0.20/min", Amount: 200},
		},
		PricesIncludeTax: true,
		TaxName:          "GST",
		TaxRate:          "10%",
		ExclTax:          1295,
		Tax:              130,
		Total:            1425,
		HoldAmount:       5000,
		PaymentMethod:    "Visa •••• 4242",
		Status:           "Paid",
	}
}

// exclusiveReceipt is the same sale priced excluding GST.
func exclusiveReceipt(t testing.TB) Receipt {
	r := sampleReceipt(t)
	r.PricesIncludeTax = false
	r.Lines = []Line{
		{Description: "Energy", Quantity: "20.450 kWh", UnitPrice: "$0.50/kWh", Amount: 1023},
		{Description: "Session fee", Quantity: "1", UnitPrice: "$0.91", Amount: 91},
	}
	r.ExclTax, r.Tax, r.Total = 1114, 111, 1225
	return r
}

// sampleText is what every rendering of sampleReceipt must say, as text.
var sampleText = []string{
	"Tax invoice",
	"K7QM-4XPD",
	"Acme Parking",
	"Acme Parking Pty Ltd",
	"ABN 51 824 753 556",
	"Level 2, 10 Smith Street",
	"Sydney NSW 2000",
	"Date of issue", "3 Mar 2026 14:05 AEDT",
	"Darling Harbour car park", "1 Wheat Road, Sydney NSW 2000",
	"CS-DH-001",
	"Connector",
	"Started", "3 Mar 2026 12:58 AEDT",
	"Stopped", "3 Mar 2026 14:03 AEDT",
	"1 h 05 min",
	"Meter start", "12,345.678 kWh",
	"Meter stop", "12,366.128 kWh",
	"Energy delivered", "20.450 kWh",
	"Description", "Quantity", "Unit price", "Amount",
	"Energy", "$0.55/kWh", "$11.25",
	"Session fee", "$1.00",
	"Idle fee", "10 min", "$0.20/min", "$2.00",
	"Total (AUD)", "$14.25",
	"GST (10%) included", "$1.30",
	"Total price includes GST",
	"Pre-authorised hold", "$50.00",
	"Released", "$35.75",
	"Payment method", "Visa •••• 4242",
	"Status", "Paid",
}

func TestTitle(t *testing.T) {
	r := sampleReceipt(t)
	if got := r.Title(); got != "Tax invoice" {
		t.Errorf("with ABN and GST: %q", got)
	}
	noABN := r
	noABN.Seller.TaxID = ""
	if got := noABN.Title(); got != "Receipt" {
		t.Errorf("without ABN: %q", got)
	}
	noTax := r
	noTax.TaxName = ""
	if got := noTax.Title(); got != "Receipt" {
		t.Errorf("without tax: %q", got)
	}
}

func TestValidate(t *testing.T) {
	if err := sampleReceipt(t).Validate(); err != nil {
		t.Fatalf("sample: %v", err)
	}
	if err := exclusiveReceipt(t).Validate(); err != nil {
		t.Fatalf("exclusive: %v", err)
	}
	cases := []struct {
		name   string
		change func(*Receipt)
		want   string
	}{
		{"code", func(r *Receipt) { r.Code = "k7qm4xpd" }, "canonical"},
		{"issued", func(r *Receipt) { r.IssuedAt = time.Time{} }, "date of issue"},
		{"seller", func(r *Receipt) { r.Seller.Name, r.Seller.LegalName = "", "" }, "seller"},
		{"currency", func(r *Receipt) { r.Currency = "XXX" }, "currency"},
		{"lines", func(r *Receipt) { r.Lines[0].Amount++ }, "lines add up to 1426, the total is 1425"},
		{"tax split", func(r *Receipt) { r.Tax++ }, "is not the total"},
		{"tax name", func(r *Receipt) { r.TaxName = "" }, "without a tax name"},
		{"times", func(r *Receipt) { r.StartedAt, r.StoppedAt = r.StoppedAt, r.StartedAt }, "before it started"},
		{"meter", func(r *Receipt) { r.MeterStopWh = r.MeterStartWh - 1 }, "meter stop"},
		{"buyer", func(r *Receipt) {
			r.Lines[0].Amount += 100_000
			r.Total += 100_000
			r.ExclTax += 100_000
		}, "must identify the buyer"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := sampleReceipt(t)
			r.Lines = append([]Line(nil), r.Lines...)
			c.change(&r)
			err := r.Validate()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want an error containing %q", err, c.want)
			}
		})
	}
	// Exclusive prices: the lines add up to the subtotal, not the total.
	r := exclusiveReceipt(t)
	r.Lines[0].Amount = 1134
	if err := r.Validate(); err == nil || !strings.Contains(err.Error(), "subtotal excluding tax") {
		t.Errorf("exclusive lines adding to the total: %v", err)
	}
}

func TestFormatKWh(t *testing.T) {
	for wh, want := range map[int64]string{
		0:          "0.000 kWh",
		7:          "0.007 kWh",
		20_450:     "20.450 kWh",
		999_999:    "999.999 kWh",
		1_000_000:  "1,000.000 kWh",
		12_345_678: "12,345.678 kWh",
		-1_500:     "-1.500 kWh",
	} {
		if got := formatKWh(wh); got != want {
			t.Errorf("formatKWh(%d) = %q, want %q", wh, got, want)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                               "0 s",
		45 * time.Second:                "45 s",
		time.Minute:                     "1 min",
		59*time.Minute + 59*time.Second: "59 min",
		time.Hour + 5*time.Minute:       "1 h 05 min",
		26*time.Hour + 30*time.Minute:   "26 h 30 min",
	} {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestViewOptionalRows(t *testing.T) {
	r := sampleReceipt(t)
	r.Location = nil
	r.ConnectorID = 0
	r.MeterStartWh, r.MeterStopWh = 0, 0
	r.HoldAmount = 0
	r.Refunded = 250
	r.Seller.LegalName = r.Seller.Name
	v := r.view()
	labels := map[string]string{}
	for _, f := range append(v.Session, v.Payment...) {
		labels[f.Label] = f.Value
	}
	for _, absent := range []string{"Connector", "Meter start", "Meter stop", "Pre-authorised hold", "Released"} {
		if _, ok := labels[absent]; ok {
			t.Errorf("%s shown", absent)
		}
	}
	if got := labels["Refunded"]; got != "$2.50" {
		t.Errorf("Refunded = %q", got)
	}
	if got := labels["Started"]; got != "3 Mar 2026 01:58 UTC" {
		t.Errorf("nil Location: Started = %q, want UTC", got)
	}
	if v.Seller.LegalName != "" {
		t.Errorf("legal name equal to the trading name shown twice")
	}

	// A hold fully used releases nothing.
	r = sampleReceipt(t)
	r.HoldAmount = r.Total
	for _, f := range r.view().Payment {
		if f.Label == "Released" {
			t.Errorf("Released %s of a fully used hold", f.Value)
		}
	}
}
