package api

import (
	"bytes"
	"errors"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/chargestar/chargestar/internal/payments"
	"github.com/chargestar/chargestar/internal/receipt"
	"github.com/chargestar/chargestar/internal/sessionbilling"
	"github.com/chargestar/chargestar/internal/store"
)

// Payment is the payment of a charging session, or of a NextCharge
// wallet top-up.
type Payment struct {
	ID                string     `json:"id" example:"pay_abcdefghijklmnopqrstuvwx"`
	OperatorID        *string    `json:"operator_id" doc:"The seller; null for a wallet top-up."`
	Purpose           string     `json:"purpose" enum:"session,topup"`
	Method            string     `json:"method" enum:"card,saved_card,wallet" doc:"card: the hosted payment page; saved_card: a NextCharge account's card, held at the tap; wallet: a NextCharge prepaid wallet."`
	State             string     `json:"state" enum:"quote,authorized,charging,stopped,captured,voided,receivable,failed,canceled" doc:"quote: payment page open; authorized: hold placed, waiting for the start; charging; stopped: settling; then one of the final states captured, voided (hold released, nothing taken), receivable (the capture failed), failed (declined), canceled (page abandoned)."`
	PaymentStatus     string     `json:"payment_status" enum:"none,authorized,captured,voided,failed" doc:"The session's payment_status for this state."`
	StationID         *string    `json:"station_id" doc:"null for a top-up."`
	ConnectorID       *int       `json:"connector_id" doc:"null for a top-up."`
	SessionID         *string    `json:"session_id" doc:"The session, once the station started it."`
	TariffID          *string    `json:"tariff_id" doc:"The tariff the session is priced with (frozen when the payment was made)."`
	Provider          string     `json:"provider" doc:"The payment provider, e.g. sandbox, stripe."`
	ProviderPaymentID *string    `json:"provider_payment_id" doc:"The provider's payment (authorisation) id."`
	Currency          string     `json:"currency" example:"AUD"`
	HoldAmount        int64      `json:"hold_amount" doc:"The pre-authorisation (for a top-up, its amount), minor units."`
	AmountTotal       int64      `json:"amount_total" doc:"The session's price, tax included, minor units."`
	AmountTax         int64      `json:"amount_tax" doc:"Tax part of amount_total."`
	AmountCaptured    int64      `json:"amount_captured" doc:"What was taken: amount_total capped at the hold."`
	AmountRefunded    int64      `json:"amount_refunded"`
	CardBrand         *string    `json:"card_brand" example:"visa"`
	CardLast4         *string    `json:"card_last4" example:"4242"`
	DeclineCode       *string    `json:"decline_code" doc:"Why the card was declined, e.g. insufficient_funds."`
	EndReason         *string    `json:"end_reason" doc:"Why the session or payment ended, e.g. driver, station, canceled, no_start."`
	ReceiptCode       *string    `json:"receipt_code" doc:"The receipt's code once settled (GET …/receipt)." example:"7K3M-Q9XD"`
	CreatedAt         time.Time  `json:"created_at"`
	UpdatedAt         time.Time  `json:"updated_at"`
	AuthorizedAt      *time.Time `json:"authorized_at"`
	StartedAt         *time.Time `json:"started_at"`
	StoppedAt         *time.Time `json:"stopped_at"`
	SettledAt         *time.Time `json:"settled_at"`
}

var paymentStates = []string{"quote", "authorized", "charging", "stopped", "captured", "voided", "receivable", "failed", "canceled"}

// paymentOut renders a payment. The access hash, the id token, the email
// and the frozen tariff body are never shown.
func paymentOut(p store.SessionPayment) Payment {
	out := Payment{
		ID: p.ID, OperatorID: strPtr(p.OperatorID), Purpose: p.Purpose, Method: p.Method, State: p.State,
		PaymentStatus: sessionbilling.SessionPaymentStatus(sessionbilling.State(p.State)),
		StationID:     strPtr(p.StationID), SessionID: strPtr(p.SessionID), TariffID: strPtr(p.TariffID),
		Provider: p.Provider, ProviderPaymentID: strPtr(p.ProviderPaymentID), Currency: p.Currency,
		HoldAmount: p.HoldAmount, AmountTotal: p.AmountTotal, AmountTax: p.AmountTax,
		AmountCaptured: p.AmountCaptured, AmountRefunded: p.AmountRefunded,
		CardBrand: strPtr(p.CardBrand), CardLast4: strPtr(p.CardLast4), DeclineCode: strPtr(p.DeclineCode),
		EndReason: strPtr(p.EndReason), ReceiptCode: strPtr(p.ReceiptCode),
		CreatedAt: utc(p.CreatedAt), UpdatedAt: utc(p.UpdatedAt), AuthorizedAt: utcPtr(p.AuthorizedAt),
		StartedAt: utcPtr(p.StartedAt), StoppedAt: utcPtr(p.StoppedAt), SettledAt: utcPtr(p.SettledAt),
	}
	if p.StationID != "" {
		c := p.ConnectorID
		out.ConnectorID = &c
	}
	return out
}

var paymentQuery = []param{operatorFilter,
	{name: "state", desc: "Only payments in this state.", schema: map[string]any{"type": "string", "enum": paymentStates}},
	limitParam, cursorParam}

func (h *handler) listPayments(w http.ResponseWriter, r *http.Request, p principal) error {
	pg, err := parsePage(r)
	if err != nil {
		return err
	}
	opID, err := h.filterOperator(r, p)
	if err != nil {
		return err
	}
	var states []string
	if s := r.URL.Query().Get("state"); s != "" {
		ok := false
		for _, v := range paymentStates {
			ok = ok || v == s
		}
		if !ok {
			return badParam("state", "must be one of %s", strings.Join(paymentStates, ", "))
		}
		states = []string{s}
	}
	ps, err := h.store.ListSessionPayments(r.Context(), store.SessionPaymentFilter{
		OperatorID: opID, States: states, AfterID: pg.cursor, Limit: pg.limit + 1})
	if err != nil {
		return err
	}
	ps, next := trimPage(ps, pg.limit, func(p store.SessionPayment) string { return p.ID })
	out := make([]Payment, 0, len(ps))
	for _, x := range ps {
		if p.canSee(x.OperatorID) { // operator tokens never see top-ups (operator "")
			out = append(out, paymentOut(x))
		}
	}
	writeJSON(w, http.StatusOK, newList(out, next))
	return nil
}

// paymentFor returns the path's {paymentId} payment when p may see it:
// an operator sees its sessions' payments, the administrator every
// payment, top-ups included.
func (h *handler) paymentFor(r *http.Request, p principal) (store.SessionPayment, error) {
	id := r.PathValue("paymentId")
	pay, err := h.store.GetSessionPayment(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !p.canSee(pay.OperatorID)) {
		return store.SessionPayment{}, notFound("payment", id)
	}
	return pay, err
}

func (h *handler) getPayment(w http.ResponseWriter, r *http.Request, p principal) error {
	pay, err := h.paymentFor(r, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, paymentOut(pay))
	return nil
}

func (h *handler) stopPayment(w http.ResponseWriter, r *http.Request, p principal) error {
	pay, err := h.paymentFor(r, p)
	if err != nil {
		return err
	}
	bs, err := h.billingService()
	if err != nil {
		return err
	}
	if pay.Purpose != "session" {
		return errorf(http.StatusConflict, codeNotASession, "payment %q is a wallet top-up: it has no session to stop", pay.ID)
	}
	pay, err = bs.Stop(r.Context(), pay.ID)
	if err != nil {
		return billingError(err, "payment", r.PathValue("paymentId"))
	}
	writeJSON(w, http.StatusOK, paymentOut(pay))
	return nil
}

// billingError maps the billing service's errors; store.ErrNotFound is
// the 404 of the resource kind id.
func billingError(err error, kind, id string) error {
	var pe *payments.Error
	switch {
	case errors.Is(err, store.ErrNotFound):
		return notFound(kind, id)
	case errors.Is(err, sessionbilling.ErrNoReceipt):
		return errorf(http.StatusNotFound, codeNoReceipt, "%s %q has no receipt: receipts exist once a session's payment is settled", kind, id)
	case errors.Is(err, sessionbilling.ErrNotCancelable):
		return errorf(http.StatusConflict, codeConflict, "%s", cleanErr(err))
	case errors.Is(err, sessionbilling.ErrBadAccount):
		return errorf(http.StatusConflict, codeAccountIneligible, "%s", cleanErr(err))
	case errors.Is(err, sessionbilling.ErrBadBudget):
		return errorf(http.StatusBadRequest, codeInvalidRequest, "amount: %s", cleanErr(err))
	case errors.As(err, &pe):
		msg := pe.Kind.Error()
		if pe.Code != "" {
			msg += " (" + pe.Code + ")"
		}
		return errorf(http.StatusBadGateway, codePaymentProvider, "the payment provider did not accept the request: %s", strings.TrimPrefix(msg, "payments: "))
	}
	return err
}

// Receipts.

// receiptMedia are the media types of a receipt.
var receiptMedia = []string{"text/html", "application/pdf"}

var receiptQuery = []param{{name: "format", desc: "html (default) or pdf. Without it, Accept: application/pdf (preferred over text/html) asks for the PDF.",
	schema: map[string]any{"type": "string", "enum": []string{"html", "pdf"}}}}

const receiptDoc = "The receipt (tax invoice) of a settled session: a standalone HTML document (text/html), or a PDF " +
	"(application/pdf, Content-Disposition inline with filename receipt-CODE.pdf) with ?format=pdf or Accept: application/pdf. " +
	"404 no_receipt until the payment is settled (captured, voided or receivable) and for top-ups."

// wantsPDF decides the receipt's format: ?format wins, else Accept.
func wantsPDF(r *http.Request) (bool, error) {
	switch f := r.URL.Query().Get("format"); f {
	case "pdf":
		return true, nil
	case "html":
		return false, nil
	case "":
	default:
		return false, badParam("format", "must be html or pdf")
	}
	pdf, html := -1.0, -1.0
	for part := range strings.SplitSeq(r.Header.Get("Accept"), ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			if q, err = strconv.ParseFloat(v, 64); err != nil {
				q = 0
			}
		}
		switch mt {
		case "application/pdf":
			pdf = max(pdf, q)
		case "text/html":
			html = max(html, q)
		}
	}
	return pdf > 0 && pdf >= html, nil
}

func (h *handler) writeReceipt(w http.ResponseWriter, r *http.Request, pay store.SessionPayment, kind, id string) error {
	bs, err := h.billingService()
	if err != nil {
		return err
	}
	pdf, err := wantsPDF(r)
	if err != nil {
		return err
	}
	rc, err := bs.Receipt(r.Context(), pay)
	if err != nil {
		return billingError(err, kind, id)
	}
	var buf bytes.Buffer
	if pdf {
		err = receipt.WritePDF(&buf, rc)
	} else {
		err = receipt.WriteHTML(&buf, rc)
	}
	if err != nil {
		return err
	}
	hd := w.Header()
	hd.Set("Vary", "Accept")
	if pdf {
		hd.Set("Content-Type", "application/pdf")
		hd.Set("Content-Disposition", `inline; filename="receipt-`+rc.Code+`.pdf"`)
	} else {
		hd.Set("Content-Type", "text/html; charset=utf-8")
		hd.Set("Content-Disposition", `inline; filename="receipt-`+rc.Code+`.html"`)
		hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'")
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
	return nil
}

func (h *handler) paymentReceipt(w http.ResponseWriter, r *http.Request, p principal) error {
	pay, err := h.paymentFor(r, p)
	if err != nil {
		return err
	}
	return h.writeReceipt(w, r, pay, "payment", pay.ID)
}

func (h *handler) sessionReceipt(w http.ResponseWriter, r *http.Request, p principal) error {
	s, err := h.sessionFor(r, p)
	if err != nil {
		return err
	}
	pay, err := h.store.FindSessionPayment(r.Context(), store.SessionPaymentFind{SessionID: s.ID})
	if errors.Is(err, store.ErrNotFound) || (err == nil && !p.canSee(pay.OperatorID)) {
		return errorf(http.StatusNotFound, codeNoReceipt, "session %q has no receipt: it was not paid through Charge Star billing", s.ID)
	}
	if err != nil {
		return err
	}
	return h.writeReceipt(w, r, pay, "session", s.ID)
}

// Refund is a refund of (part of) a captured session payment.
type Refund struct {
	ID               string     `json:"id" example:"ref_abcdefghijklmnopqrstuvwx"`
	PaymentID        string     `json:"payment_id"`
	Amount           int64      `json:"amount" doc:"Minor units, tax included."`
	Tax              int64      `json:"tax" doc:"The tax (GST) within amount, returned to the driver with it."`
	Currency         string     `json:"currency"`
	Reason           string     `json:"reason,omitempty" enum:"requested_by_customer,duplicate,fraudulent"`
	State            string     `json:"state" enum:"pending,succeeded,failed" doc:"pending: the provider is being asked; succeeded: the money is on its way back; failed: the provider refused (error says why)."`
	ProviderRefundID string     `json:"provider_refund_id,omitempty"`
	Error            string     `json:"error,omitempty"`
	CreatedAt        time.Time  `json:"created_at"`
	SettledAt        *time.Time `json:"settled_at"`
}

// CreateRefundRequest asks for a refund.
type CreateRefundRequest struct {
	Amount int64  `json:"amount,omitempty" doc:"Minor units; omit (or 0) to refund everything not yet refunded."`
	Reason string `json:"reason,omitempty" enum:"requested_by_customer,duplicate,fraudulent"`
}

func refundOut(r store.PaymentRefund, currency string) Refund {
	return Refund{ID: r.ID, PaymentID: r.PaymentID, Amount: r.Amount, Tax: r.Tax, Currency: currency, Reason: r.Reason, State: r.State,
		ProviderRefundID: r.ProviderRefundID, Error: r.Error, CreatedAt: r.CreatedAt.UTC(), SettledAt: utcPtr(r.SettledAt)}
}

func (h *handler) createRefund(w http.ResponseWriter, r *http.Request, p principal) error {
	pay, err := h.paymentFor(r, p)
	if err != nil {
		return err
	}
	var req CreateRefundRequest
	if err := decodeJSON(w, r, &req, true); err != nil {
		return err
	}
	if req.Amount < 0 {
		return errorf(http.StatusBadRequest, codeInvalidRequest, "amount must not be negative")
	}
	bs, err := h.billingService()
	if err != nil {
		return err
	}
	ref, err := bs.Refund(r.Context(), pay.ID, req.Amount, req.Reason)
	if errors.Is(err, sessionbilling.ErrNotRefundable) {
		return errorf(http.StatusConflict, codeNotRefundable, "%s", cleanErr(err))
	}
	if err != nil {
		return billingError(err, "payment", pay.ID)
	}
	w.Header().Set("Location", Prefix+"payments/"+pay.ID+"/refunds")
	writeJSON(w, http.StatusAccepted, refundOut(ref, pay.Currency))
	return nil
}

func (h *handler) listRefunds(w http.ResponseWriter, r *http.Request, p principal) error {
	pay, err := h.paymentFor(r, p)
	if err != nil {
		return err
	}
	refunds, err := h.store.PaymentRefunds(r.Context(), pay.ID)
	if err != nil {
		return err
	}
	out := List[Refund]{Items: make([]Refund, 0, len(refunds))}
	for _, ref := range refunds {
		out.Items = append(out.Items, refundOut(ref, pay.Currency))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
