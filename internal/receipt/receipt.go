// Package receipt renders the receipt for one charging session — an
// Australian tax invoice when the seller has an ABN and charges GST — as a
// standalone HTML page, as an HTML fragment to embed in the driver web
// app, and as an A4 PDF.
//
// The package is pure: a Receipt carries every fact already decided
// (amounts priced by billing, the payment's state), and the writers only
// lay them out, writing nothing but their io.Writer and reading no clock,
// so a receipt re-issued later is byte for byte the one first issued.
//
// # What a receipt shows
//
// Both formats show the same content, built once by Receipt.view. For a
// sale under $1,000 the ATO requires a tax invoice to show: that it is
// intended as a tax invoice (the title "Tax invoice"); the seller's
// identity and ABN; the date of issue; a brief description of each thing
// sold with its quantity and price; the GST payable, and the extent to
// which each sale is taxable (lines marked TaxFree carry a note); and the
// total, with "Total price includes GST" when prices include it (else a
// subtotal excluding GST, the GST and the total). Beyond that a driver
// sees the receipt code, the site, station and connector, start and stop
// in the site's time zone, the meter readings and energy delivered, the
// card hold and what of it was released, the payment method, the status,
// and any refund.
//
// A tax invoice of $1,000 or more must also identify the buyer; this
// package does not render buyers, and Validate reports such a receipt.
package receipt

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/chargestar/chargestar/internal/billing"
)

// Party is a business named on a receipt: the seller, i.e. the operator
// of the site.
type Party struct {
	Name       string // trading name, e.g. "Acme Parking"
	LegalName  string // optional; shown when it differs from Name
	TaxID      string // e.g. ABN "51 824 753 556"; "" when none
	TaxIDLabel string // "ABN" by default when TaxID is set
	Address    string // lines separated by "\n"
}

// taxIDLine is the seller's tax identifier as printed: "ABN 51 824 753 556".
func (p Party) taxIDLine() string {
	if p.TaxID == "" {
		return ""
	}
	label := p.TaxIDLabel
	if label == "" {
		label = "ABN"
	}
	return label + " " + p.TaxID
}

// Line is one thing sold: energy, a session fee, idle time.
type Line struct {
	Description string // e.g. "Energy"
	Quantity    string // e.g. "20.450 kWh", "1 h 05 min", "1"
	UnitPrice   string // e.g. "$0.55/kWh" (already formatted)
	Amount      int64  // minor units, in the receipt's price basis
	// TaxFree marks a line that is not a taxable sale (GST-free or input
	// taxed); a tax invoice must show the extent to which each sale is
	// taxable, so such lines are marked and explained.
	TaxFree bool
}

// Receipt is everything one session's receipt says. Amounts are in minor
// units of Currency; Lines are in the price basis PricesIncludeTax says.
// The writers render what they are given: call Validate before issuing.
type Receipt struct {
	Code     string         // short lookup code, e.g. "K7QM-4XPD" (see NewCode)
	IssuedAt time.Time      // date of issue
	Location *time.Location // the site's time zone; times are shown in it (nil: UTC)

	Seller      Party
	SiteName    string
	SiteAddress string // lines separated by "\n"
	StationID   string
	ConnectorID int // 0: not shown

	StartedAt, StoppedAt time.Time

	// Meter register at start and stop (both 0: no readings, not shown)
	// and energy delivered, in Wh.
	MeterStartWh, MeterStopWh, EnergyWh int64

	Currency         string // ISO 4217, e.g. "AUD"
	Lines            []Line
	PricesIncludeTax bool   // lines are tax-inclusive amounts
	TaxName          string // "GST"; "" = no tax
	TaxRate          string // "10%"; "" = not shown
	ExclTax, Tax     int64  // total excluding tax, and the tax in it
	Total            int64  // what the driver pays, tax included

	HoldAmount    int64  // amount pre-authorised; Released = HoldAmount-Total is shown when > 0
	PaymentMethod string // "Visa •••• 4242", "NextCharge wallet"
	Status        string // human: "Paid", "No charge — hold released", "Amount owing"
	Refunded      int64  // shown when > 0
}

// Title is what the document calls itself: "Tax invoice" when the seller
// has a tax identifier and the sale carries a tax — the ATO requires the
// document to say it is intended as a tax invoice — else "Receipt".
func (r Receipt) Title() string {
	if r.Seller.TaxID != "" && r.TaxName != "" {
		return "Tax invoice"
	}
	return "Receipt"
}

// buyerThreshold is the tax-inclusive total, in cents, from which an
// Australian tax invoice must also show the buyer's identity or ABN.
const buyerThreshold = 1000_00

// Validate reports, all at once, whatever makes r unfit to issue: a
// non-canonical code, a missing date of issue, seller, or currency,
// amounts that do not add up (the lines to the total or to the subtotal
// excluding tax, the subtotal and tax to the total), tax without a tax
// name, a stop before the start or a meter running backwards, and a tax
// invoice of A$1,000 or more, which would need the buyer's identity.
func (r Receipt) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c, ok := NormalizeCode(r.Code); !ok || c != r.Code {
		bad("receipt: code %q is not a canonical receipt code", r.Code)
	}
	if r.IssuedAt.IsZero() {
		bad("receipt: no date of issue")
	}
	if r.Seller.Name == "" && r.Seller.LegalName == "" {
		bad("receipt: no seller name")
	}
	if _, ok := billing.MinorUnits(r.Currency); !ok {
		bad("receipt: unsupported currency %q", r.Currency)
	}
	var sum int64
	for _, l := range r.Lines {
		sum += l.Amount
	}
	basis, want := "total", r.Total
	if !r.PricesIncludeTax {
		basis, want = "subtotal excluding tax", r.ExclTax
	}
	if sum != want {
		bad("receipt: lines add up to %d, the %s is %d", sum, basis, want)
	}
	if r.ExclTax+r.Tax != r.Total {
		bad("receipt: %d excluding tax + %d tax is not the total %d", r.ExclTax, r.Tax, r.Total)
	}
	if r.TaxName == "" && r.Tax != 0 {
		bad("receipt: tax of %d without a tax name", r.Tax)
	}
	if !r.StartedAt.IsZero() && !r.StoppedAt.IsZero() && r.StoppedAt.Before(r.StartedAt) {
		bad("receipt: stopped at %v, before it started at %v", r.StoppedAt, r.StartedAt)
	}
	if r.MeterStopWh < r.MeterStartWh {
		bad("receipt: meter stop %d Wh is below meter start %d Wh", r.MeterStopWh, r.MeterStartWh)
	}
	if r.EnergyWh < 0 {
		bad("receipt: negative energy %d Wh", r.EnergyWh)
	}
	if r.Title() == "Tax invoice" && r.Currency == "AUD" && r.Total >= buyerThreshold {
		bad("receipt: a tax invoice of %s or more must identify the buyer", billing.FormatMoney(buyerThreshold, "AUD"))
	}
	return errors.Join(errs...)
}

// view is a receipt as both formats show it: every value formatted, every
// optional row already decided, so HTML and PDF cannot drift apart.
type view struct {
	Title  string
	Code   string
	Seller sellerView
	Issued field // date of issue
	// Session: site, station, connector, times, meter, energy.
	Session []field
	Lines   []lineView
	Totals  []totalRow
	// TaxNote is "Total price includes GST" for tax-inclusive prices.
	TaxNote string
	// TaxFreeNote explains the mark on TaxFree lines; "" when none.
	TaxFreeNote string
	// Payment: hold, released, method, status, refund.
	Payment []field
}

type sellerView struct {
	Name      string
	LegalName string // "" when the same as Name
	TaxID     string // "ABN 51 824 753 556"
	Address   string
}

// field is one labelled value. DateTime, for a time, is its RFC 3339 form
// for HTML's <time datetime>.
type field struct {
	Label, Value, DateTime string
}

type lineView struct {
	Description, Quantity, UnitPrice, Amount string
	TaxFree                                  bool
}

type totalRow struct {
	Label, Amount string
	Strong        bool // the total itself
}

// taxFreeMark follows the description of a TaxFree line.
const taxFreeMark = " *"

func (r Receipt) view() view {
	loc := r.Location
	if loc == nil {
		loc = time.UTC
	}
	money := func(v int64) string { return billing.FormatMoney(v, r.Currency) }
	v := view{
		Title: r.Title(),
		Code:  r.Code,
		Seller: sellerView{
			Name:    r.Seller.Name,
			TaxID:   r.Seller.taxIDLine(),
			Address: r.Seller.Address,
		},
		Issued: timeField("Date of issue", r.IssuedAt, loc),
	}
	if r.Seller.LegalName != r.Seller.Name {
		v.Seller.LegalName = r.Seller.LegalName
	}
	if v.Seller.Name == "" {
		v.Seller.Name, v.Seller.LegalName = r.Seller.LegalName, ""
	}

	add := func(rows *[]field, label, value string) {
		if value != "" {
			*rows = append(*rows, field{Label: label, Value: value})
		}
	}
	add(&v.Session, "Site", r.SiteName)
	add(&v.Session, "Site address", r.SiteAddress)
	add(&v.Session, "Station", r.StationID)
	if r.ConnectorID > 0 {
		add(&v.Session, "Connector", strconv.Itoa(r.ConnectorID))
	}
	if !r.StartedAt.IsZero() {
		v.Session = append(v.Session, timeField("Started", r.StartedAt, loc))
	}
	if !r.StoppedAt.IsZero() {
		v.Session = append(v.Session, timeField("Stopped", r.StoppedAt, loc))
	}
	if !r.StartedAt.IsZero() && !r.StoppedAt.IsZero() && !r.StoppedAt.Before(r.StartedAt) {
		// From the times as shown (to the minute), so that the duration
		// agrees with the clock times beside it.
		d := r.StoppedAt.Truncate(time.Minute).Sub(r.StartedAt.Truncate(time.Minute))
		add(&v.Session, "Duration", formatDuration(d))
	}
	if r.MeterStartWh != 0 || r.MeterStopWh != 0 {
		add(&v.Session, "Meter start", formatKWh(r.MeterStartWh))
		add(&v.Session, "Meter stop", formatKWh(r.MeterStopWh))
	}
	add(&v.Session, "Energy delivered", formatKWh(r.EnergyWh))

	for _, l := range r.Lines {
		v.Lines = append(v.Lines, lineView{
			Description: l.Description,
			Quantity:    l.Quantity,
			UnitPrice:   l.UnitPrice,
			Amount:      money(l.Amount),
			TaxFree:     l.TaxFree,
		})
		if l.TaxFree && r.TaxName != "" {
			v.TaxFreeNote = fmt.Sprintf("* No %s is payable on items marked *.", r.TaxName)
		}
	}

	totalLabel := "Total"
	if r.Currency != "" {
		// "$" alone does not say which dollar.
		totalLabel += " (" + r.Currency + ")"
	}
	taxLabel := r.TaxName
	if r.TaxRate != "" {
		taxLabel += " (" + r.TaxRate + ")"
	}
	switch {
	case r.TaxName == "":
		v.Totals = []totalRow{{totalLabel, money(r.Total), true}}
	case r.PricesIncludeTax:
		v.Totals = []totalRow{
			{totalLabel, money(r.Total), true},
			{taxLabel + " included", money(r.Tax), false},
		}
		v.TaxNote = "Total price includes " + r.TaxName
	default:
		v.Totals = []totalRow{
			{"Subtotal excl. " + r.TaxName, money(r.ExclTax), false},
			{taxLabel, money(r.Tax), false},
			{totalLabel, money(r.Total), true},
		}
	}

	if r.HoldAmount > 0 {
		add(&v.Payment, "Pre-authorised hold", money(r.HoldAmount))
		if released := r.HoldAmount - r.Total; released > 0 {
			add(&v.Payment, "Released", money(released))
		}
	}
	add(&v.Payment, "Payment method", r.PaymentMethod)
	add(&v.Payment, "Status", r.Status)
	if r.Refunded > 0 {
		add(&v.Payment, "Refunded", money(r.Refunded))
	}
	return v
}

// timeField shows t in loc with its zone abbreviation ("AEDT"): a driver
// comparing the receipt with their own clock needs to know which clock.
func timeField(label string, t time.Time, loc *time.Location) field {
	if t.IsZero() {
		return field{Label: label}
	}
	t = t.In(loc)
	return field{
		Label:    label,
		Value:    t.Format("2 Jan 2006 15:04 MST"),
		DateTime: t.Format(time.RFC3339),
	}
}

// formatDuration says a session's length as a driver reads it: "45 s",
// "42 min", "1 h 05 min".
func formatDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", int64(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%d min", int64(d/time.Minute))
	}
	return fmt.Sprintf("%d h %02d min", int64(d/time.Hour), int64(d%time.Hour/time.Minute))
}

// formatKWh shows watt-hours as kWh to the watt-hour, integer digits
// grouped: 12345678 → "12,345.678 kWh". Integer arithmetic, so a meter
// reading is shown exactly as recorded.
func formatKWh(wh int64) string {
	sign := ""
	u := uint64(wh)
	if wh < 0 {
		sign, u = "-", -u
	}
	return fmt.Sprintf("%s%s.%03d kWh", sign, groupThousands(strconv.FormatUint(u/1000, 10)), u%1000)
}

// groupThousands puts commas between groups of three digits.
func groupThousands(digits string) string {
	var b strings.Builder
	for i, c := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
