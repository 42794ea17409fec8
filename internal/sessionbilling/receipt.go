package sessionbilling

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/chargestar/chargestar/internal/billing"
	"github.com/chargestar/chargestar/internal/mail"
	"github.com/chargestar/chargestar/internal/receipt"
	"github.com/chargestar/chargestar/internal/store"
)

// ErrNoReceipt: the payment has no receipt (not settled, or nothing was
// ever held).
var ErrNoReceipt = errors.New("sessionbilling: no receipt for this payment")

// Receipt builds the receipt (tax invoice) of a settled session payment.
// Everything on it is what was decided at settlement: the frozen cost, the
// captured amount, the seller's details as stored.
func (s *Service) Receipt(ctx context.Context, p store.SessionPayment) (receipt.Receipt, error) {
	if p.ReceiptCode == "" || p.SettledAt == nil || p.Purpose != "session" {
		return receipt.Receipt{}, ErrNoReceipt
	}
	op, err := s.store.GetOperator(ctx, p.OperatorID)
	if err != nil {
		return receipt.Receipt{}, err
	}
	r := receipt.Receipt{
		Code: p.ReceiptCode, IssuedAt: *p.SettledAt, Location: time.UTC,
		Seller:    receipt.Party{Name: op.Name, LegalName: op.LegalName, TaxID: op.TaxID, Address: op.Address},
		StationID: p.StationID, ConnectorID: p.ConnectorID, Currency: p.Currency,
		HoldAmount: p.HoldAmount, Refunded: p.AmountRefunded,
	}
	if loc, err := time.LoadLocation(p.Timezone); err == nil && p.Timezone != "" {
		r.Location = loc
	}
	if st, err := s.store.GetStation(ctx, p.StationID); err == nil && st.SiteID != "" {
		if site, err := s.store.GetSite(ctx, st.OperatorID, st.SiteID); err == nil {
			r.SiteName, r.SiteAddress = site.Name, site.Address
			// A car park run by its own entity sells under its own
			// name and ABN; empty fields are the operator's.
			if site.LegalName != "" {
				r.Seller.LegalName = site.LegalName
			}
			if site.TaxID != "" {
				r.Seller.TaxID = site.TaxID
			}
		}
	}
	if op.Country == "AU" && r.Seller.TaxID != "" {
		r.Seller.TaxIDLabel = "ABN"
	}
	if p.SessionID != "" {
		if sess, err := s.store.GetSession(ctx, "", p.SessionID); err == nil {
			r.StartedAt = sess.StartedAt
			if sess.StoppedAt != nil {
				r.StoppedAt = *sess.StoppedAt
			}
			r.MeterStartWh, r.EnergyWh = sess.MeterStartWh, sess.EnergyWh
			if sess.MeterStopWh != nil {
				r.MeterStopWh = *sess.MeterStopWh
			} else {
				r.MeterStopWh = sess.MeterStartWh + sess.EnergyWh
			}
		}
	}
	if len(p.Cost) > 0 && p.AmountCaptured > 0 {
		var c billing.Cost
		if err := json.Unmarshal(p.Cost, &c); err != nil {
			return receipt.Receipt{}, fmt.Errorf("payment %s cost: %w", p.ID, err)
		}
		r.PricesIncludeTax, r.TaxName = c.PricesIncludeTax, c.TaxName
		for _, l := range c.Lines {
			r.Lines = append(r.Lines, receiptLine(l, p.Currency))
		}
		if t, err := billing.ParseTariff(p.Tariff); err == nil && t.Tax != nil {
			r.TaxRate = t.Tax.Rate.Mul(billing.DecimalFromInt(100)).String() + "%"
		}
		if p.AmountCaptured < c.Total {
			// Capped at the hold: one line says so, so the lines add up.
			basis := c.Total
			if !c.PricesIncludeTax {
				basis = c.ExclTax
			}
			capped := p.AmountCaptured
			if !c.PricesIncludeTax {
				capped = p.AmountCaptured - p.AmountTax
			}
			r.Lines = append(r.Lines, receipt.Line{Description: "Limited to the amount authorised", Quantity: "1",
				Amount: capped - basis})
		}
	}
	r.Total, r.Tax = p.AmountCaptured, p.AmountTax
	if p.AmountCaptured == 0 {
		r.Tax = 0
	}
	r.ExclTax = r.Total - r.Tax
	r.PaymentMethod = paymentMethodText(p)
	switch State(p.State) {
	case StateCaptured:
		r.Status = "Paid"
		if p.AmountRefunded > 0 {
			r.Status = "Paid, partly refunded"
		}
	case StateVoided:
		r.Status = "No charge — hold released"
	case StateReceivable:
		r.Status = "Amount owing"
		r.Total, r.Tax = p.AmountTotal, p.AmountTax
		r.ExclTax = r.Total - r.Tax
	default:
		r.Status = string(p.State)
	}
	return r, nil
}

func receiptLine(l billing.Line, currency string) receipt.Line {
	desc := string(l.Kind)
	switch {
	case strings.Contains(desc, "energy"):
		desc = "Energy"
	case strings.Contains(desc, "parking"), strings.Contains(desc, "idle"):
		desc = "Parking (idle)"
	case strings.Contains(desc, "time"):
		desc = "Charging time"
	case strings.Contains(desc, "fee"):
		desc = "Session fee"
	case strings.Contains(desc, "reservation"):
		desc = "Reservation"
	default:
		desc = strings.ToUpper(desc[:1]) + strings.ReplaceAll(desc[1:], "_", " ")
	}
	qty := l.Quantity.String() + " " + l.Unit
	switch l.Unit {
	case "kWh":
		qty = l.Quantity.StringFixed(3) + " kWh"
	case "h":
		qty = formatDuration(l.Duration)
	case "fee":
		qty = l.Quantity.String()
	}
	unit := ""
	if !l.UnitPrice.IsZero() {
		unit = billing.FormatPrice(l.UnitPrice, currency)
		if l.Unit != "fee" {
			unit += "/" + l.Unit
		}
	}
	if l.Element < 0 {
		desc, qty, unit = "Price adjustment (minimum/maximum)", "1", ""
	}
	return receipt.Line{Description: desc, Quantity: qty, UnitPrice: unit, Amount: l.Amount}
}

func formatDuration(d time.Duration) string {
	d = d.Round(time.Second)
	h, m, sec := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	if h > 0 {
		return fmt.Sprintf("%d h %02d min", h, m)
	}
	if m > 0 {
		return fmt.Sprintf("%d min %02d s", m, sec)
	}
	return fmt.Sprintf("%d s", sec)
}

func paymentMethodText(p store.SessionPayment) string {
	switch p.Method {
	case "wallet":
		return "NextCharge wallet"
	}
	return CardText(p.CardBrand, p.CardLast4)
}

// CardText names a card as receipts and pages show it: "Visa •••• 4242".
func CardText(brand, last4 string) string {
	if last4 == "" {
		return "Card"
	}
	if brand == "" {
		brand = "Card"
	} else {
		brand = strings.ToUpper(brand[:1]) + brand[1:]
	}
	return brand + " •••• " + last4
}

// FindReceipt finds a settled session's payment by its receipt code (as
// typed by a driver: case and dashes do not matter).
func (s *Service) FindReceipt(ctx context.Context, code string) (store.SessionPayment, error) {
	c, ok := receipt.NormalizeCode(code)
	if !ok {
		return store.SessionPayment{}, store.ErrNotFound
	}
	return s.store.FindSessionPayment(ctx, store.SessionPaymentFind{ReceiptCode: c})
}

// emailReceipt mails a settled session's receipt: a short text with the
// link, and the PDF.
func (s *Service) emailReceipt(ctx context.Context, p store.SessionPayment) error {
	r, err := s.Receipt(ctx, p)
	if err != nil {
		return err
	}
	var pdf bytes.Buffer
	if err := receipt.WritePDF(&pdf, r); err != nil {
		return err
	}
	where := r.Seller.Name
	if r.SiteName != "" {
		where = r.SiteName
	}
	subject := fmt.Sprintf("Your charging receipt — %s at %s", billing.FormatMoney(r.Total, r.Currency), where)
	text := fmt.Sprintf("Thank you for charging with NextCharge.\n\n%s\nStation %s, connector %d\nTotal: %s\nStatus: %s\n\n"+
		"Your receipt %s is attached, and online at %s/app/r/%s\n",
		where, r.StationID, r.ConnectorID, billing.FormatMoney(r.Total, r.Currency), r.Status, r.Code, s.cfg.BaseURL, r.Code)
	return s.cfg.Mailer.Send(ctx, mail.Message{To: p.Email, Subject: subject, Text: text,
		Attachments: []mail.Attachment{{Name: "receipt-" + r.Code + ".pdf", ContentType: "application/pdf", Data: pdf.Bytes()}}})
}
