package sandbox

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/chargestar/chargestar/internal/payments"
	"github.com/chargestar/chargestar/internal/store"
)

//go:embed web/page.html web/style.css
var webFS embed.FS

var (
	pageTemplate = template.Must(template.ParseFS(webFS, "web/page.html"))
	styleCSS     = mustRead("web/style.css")
)

func mustRead(name string) []byte {
	b, err := webFS.ReadFile(name)
	if err != nil {
		panic(err)
	}
	return b
}

// maxFormBytes bounds a submitted card form.
const maxFormBytes = 16 << 10

// Handler serves the hosted pages under the path of Options.BaseURL (see
// the package documentation). Mount it there, e.g.
// mux.Handle("/pay/sandbox/", p.Handler()).
func (p *Provider) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+p.basePath+"/checkout/{id}", p.servePage)
	mux.HandleFunc("POST "+p.basePath+"/checkout/{id}", p.submitPage)
	mux.HandleFunc("GET "+p.basePath+"/style.css", serveStyle)
	mux.HandleFunc(p.basePath+"/", func(w http.ResponseWriter, r *http.Request) {
		p.render(w, http.StatusNotFound, pageView{State: "notfound", Title: "Not found"}, "")
	})
	return mux
}

func serveStyle(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(styleCSS)
}

// pageView is what the page template shows.
type pageView struct {
	State       string // "form", "done", "expired", "notfound"
	Title       string
	Base        string
	Action      string
	Setup       bool
	Amount      string
	Description string
	SuccessURL  string
	CancelURL   string
	Decline     string
	Errors      []fieldError
	FieldErrors map[string]string
	Exp, Name   string // echoed after an error; the card number and CVC never are
	TestCards   []TestCard
}

func (p *Provider) view(chk store.SandboxCheckout) pageView {
	v := pageView{
		Base: p.basePath, Action: p.basePath + "/checkout/" + chk.ID, Setup: chk.Kind == kindSetup,
		Amount: formatAmount(chk.Amount, chk.Currency), Description: chk.Description,
		SuccessURL: successURL(chk), CancelURL: chk.CancelURL, TestCards: TestCards,
	}
	switch {
	case chk.Status == checkoutCompleted:
		v.State = "done"
	case chk.Status == checkoutExpired:
		v.State, v.Title = "expired", "Expired"
	default:
		v.State, v.Decline = "form", chk.LastError
	}
	if v.Title == "" {
		v.Title = "Pay " + v.Amount
		if v.Setup {
			v.Title = "Save a card"
		}
	}
	return v
}

// successURL is the page's success URL with the checkout id filled in for
// "{CHECKOUT_SESSION_ID}", as Stripe does, or the shorter "{CHECKOUT_ID}".
func successURL(chk store.SandboxCheckout) string {
	id := url.QueryEscape(chk.ID)
	return strings.NewReplacer("{CHECKOUT_SESSION_ID}", id, "{CHECKOUT_ID}", id).Replace(chk.SuccessURL)
}

func (p *Provider) servePage(w http.ResponseWriter, r *http.Request) {
	chk, err := p.st.SandboxCheckout(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		p.render(w, http.StatusNotFound, pageView{State: "notfound", Title: "Not found", Base: p.basePath}, "")
		return
	}
	if err != nil {
		p.serverError(w, err)
		return
	}
	if chk.Status == checkoutOpen && !p.now().Before(chk.ExpiresAt) {
		chk.Status = checkoutExpired // the sweep will record it
	}
	status := http.StatusOK
	if chk.Status == checkoutExpired {
		status = http.StatusGone
	}
	p.render(w, status, p.view(chk), chk.SuccessURL)
}

func (p *Provider) submitPage(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	id := r.PathValue("id")
	c, fieldErrs := parseCard(r.PostForm.Get("card_number"), r.PostForm.Get("exp"), r.PostForm.Get("cvc"), p.now())
	if len(fieldErrs) > 0 {
		// Invalid input never reaches the "issuer": nothing is written,
		// as a real page validates before it submits.
		chk, err := p.st.SandboxCheckout(r.Context(), id)
		if errors.Is(err, store.ErrNotFound) {
			p.render(w, http.StatusNotFound, pageView{State: "notfound", Title: "Not found", Base: p.basePath}, "")
			return
		}
		if err != nil {
			p.serverError(w, err)
			return
		}
		if chk.Status == checkoutOpen && p.now().Before(chk.ExpiresAt) {
			v := p.view(chk)
			v.Decline, v.Errors, v.FieldErrors = "", fieldErrs, map[string]string{}
			for _, fe := range fieldErrs {
				v.FieldErrors[fe.Field] = fe.Message
			}
			v.Exp, v.Name = r.PostForm.Get("exp"), r.PostForm.Get("name")
			p.render(w, http.StatusUnprocessableEntity, v, chk.SuccessURL)
			return
		}
		// A closed page answers as it does to any submission, below.
	}
	chk, decline, err := p.completeCheckout(r.Context(), id, c, len(fieldErrs) > 0)
	switch {
	case errors.Is(err, store.ErrNotFound):
		p.render(w, http.StatusNotFound, pageView{State: "notfound", Title: "Not found", Base: p.basePath}, "")
	case err != nil:
		p.serverError(w, err)
	case chk.Status == checkoutCompleted:
		// 303 turns the POST into a GET of the success page; a repeated
		// submission lands there too, with no second effect.
		http.Redirect(w, r, successURL(chk), http.StatusSeeOther)
	case chk.Status == checkoutExpired:
		p.render(w, http.StatusGone, p.view(chk), chk.SuccessURL)
	default:
		v := p.view(chk)
		v.Decline = declineMessage(decline)
		v.Exp, v.Name = r.PostForm.Get("exp"), r.PostForm.Get("name")
		p.render(w, http.StatusPaymentRequired, v, chk.SuccessURL)
	}
}

// completeCheckout submits a card to an open hosted page and returns the
// page as it is afterwards, and the decline code if the card was declined.
// A page that is no longer open is returned as it is (inspectOnly: the
// caller only wants that).
func (p *Provider) completeCheckout(ctx context.Context, id string, c card, inspectOnly bool) (store.SandboxCheckout, string, error) {
	var chk store.SandboxCheckout
	var decline string
	err := p.write(ctx, func(o *op) error {
		decline = ""
		var err error
		if chk, err = o.tx.Checkout(id); err != nil {
			return err
		}
		if chk.Status == checkoutOpen && !o.now.Before(chk.ExpiresAt) {
			if err := o.expireCheckout(chk); err != nil {
				return err
			}
			chk.Status = checkoutExpired
			return nil
		}
		if chk.Status != checkoutOpen || inspectOnly {
			return nil
		}
		if chk.Kind == kindSetup {
			decline, err = o.saveCard(&chk, c)
		} else {
			decline, err = o.payCheckout(&chk, c)
		}
		return err
	})
	return chk, decline, err
}

// payCheckout authorises a payment page's hold with card c, or records its
// decline (the page stays open for another card).
func (o *op) payCheckout(chk *store.SandboxCheckout, c card) (string, error) {
	pay, err := o.tx.Payment(chk.PaymentID)
	if err != nil {
		return "", err
	}
	pay.CardBrand, pay.CardLast4, pay.CardExpMonth, pay.CardExpYear = c.brand, c.last4, c.expMonth, c.expYear
	pay.UpdatedAt = o.now
	if c.outcome != outcomeApprove {
		code := payments.DeclineGeneric
		if c.outcome == outcomeInsufficientFunds {
			code = payments.DeclineInsufficientFunds
		}
		pay.DeclineCode = code
		if err := o.tx.UpdatePayment(pay); err != nil {
			return "", err
		}
		chk.LastError = declineMessage(code)
		if err := o.tx.UpdateCheckout(*chk); err != nil {
			return "", err
		}
		chk.Version++
		ev := paymentEvent(payments.EventPaymentFailed, pay)
		ev.DeclineCode, ev.Message = code, declineMessage(code)
		return code, o.emit(ev)
	}
	if chk.SaveCard {
		pm, err := o.insertCard(chk, c)
		if err != nil {
			return "", err
		}
		pay.PaymentMethod, chk.PaymentMethod = pm, pm
	}
	o.authorize(&pay)
	if err := o.tx.UpdatePayment(pay); err != nil {
		return "", err
	}
	if err := o.finish(chk); err != nil {
		return "", err
	}
	if err := o.emit(paymentEvent(payments.EventAuthorized, pay)); err != nil {
		return "", err
	}
	return "", o.emit(paymentEvent(payments.EventCheckoutCompleted, pay))
}

// saveCard completes a setup page with card c. A card the issuer declines
// outright is not saved; one that merely lacks funds is (its later holds
// are declined for insufficient funds).
func (o *op) saveCard(chk *store.SandboxCheckout, c card) (string, error) {
	ev := payments.Event{CheckoutID: chk.ID, CustomerRef: chk.CustomerRef, Account: chk.Account, Metadata: chk.Metadata,
		Card: &payments.Card{Brand: c.brand, Last4: c.last4, ExpMonth: c.expMonth, ExpYear: c.expYear}}
	if c.outcome == outcomeDecline {
		chk.LastError = declineMessage(payments.DeclineGeneric)
		if err := o.tx.UpdateCheckout(*chk); err != nil {
			return "", err
		}
		chk.Version++
		ev.Type, ev.DeclineCode, ev.Message = payments.EventSetupFailed, payments.DeclineGeneric, chk.LastError
		return payments.DeclineGeneric, o.emit(ev)
	}
	pm, err := o.insertCard(chk, c)
	if err != nil {
		return "", err
	}
	chk.PaymentMethod = pm
	if err := o.finish(chk); err != nil {
		return "", err
	}
	ev.Type, ev.PaymentMethod = payments.EventSetupCompleted, pm
	return "", o.emit(ev)
}

func (o *op) insertCard(chk *store.SandboxCheckout, c card) (string, error) {
	pm := store.SandboxPaymentMethod{ID: newID(prefixMethod), CustomerRef: chk.CustomerRef, Account: chk.Account,
		CardBrand: c.brand, CardLast4: c.last4, ExpMonth: c.expMonth, ExpYear: c.expYear, Outcome: c.outcome, CreatedAt: o.now}
	return pm.ID, o.tx.InsertPaymentMethod(pm)
}

// finish marks a page completed.
func (o *op) finish(chk *store.SandboxCheckout) error {
	chk.Status, chk.CompletedAt, chk.LastError = checkoutCompleted, &o.now, ""
	if err := o.tx.UpdateCheckout(*chk); err != nil {
		return err
	}
	chk.Version++
	return nil
}

// render writes a page with the security headers of a payment page: no
// script at all, styles only from our stylesheet, forms only to us (and,
// since browsers check redirects after a form submission too, to the
// success URL's origin), never framed, never cached.
func (p *Provider) render(w http.ResponseWriter, status int, v pageView, success string) {
	if v.Base == "" {
		v.Base = p.basePath
	}
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, v); err != nil {
		p.serverError(w, err)
		return
	}
	formAction := "'self'"
	if u, err := url.Parse(success); err == nil && u.Scheme != "" && u.Host != "" {
		formAction += " " + u.Scheme + "://" + u.Host
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action "+formAction+"; frame-ancestors 'none'; base-uri 'none'")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (p *Provider) serverError(w http.ResponseWriter, err error) {
	p.log.Error("sandbox: hosted page failed", "err", err)
	w.Header().Set("Retry-After", "1")
	http.Error(w, "The payment service is unavailable. Please try again.", http.StatusServiceUnavailable)
}

// minorDigits are the decimal places of currencies that do not have two
// (ISO 4217).
var minorDigits = map[string]int{
	"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
	"RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
	"BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}

// formatAmount shows minor units as "AUD 12.34".
func formatAmount(amount int64, currency string) string {
	digits, ok := minorDigits[currency]
	if !ok {
		digits = 2
	}
	neg := amount < 0
	if neg {
		amount = -amount
	}
	s := strconv.FormatInt(amount, 10)
	if digits > 0 {
		if len(s) <= digits {
			s = strings.Repeat("0", digits-len(s)+1) + s
		}
		s = s[:len(s)-digits] + "." + s[len(s)-digits:]
	}
	if neg {
		s = "-" + s
	}
	return currency + " " + s
}
