package driverapp

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chargestar/chargestar/internal/billing"
	"github.com/chargestar/chargestar/internal/mail"
	"github.com/chargestar/chargestar/internal/model"
	"github.com/chargestar/chargestar/internal/sessionbilling"
	"github.com/chargestar/chargestar/internal/store"
)

// NextCharge accounts, for drivers who want them: passwordless sign-in by
// an emailed code, RFID cards (add, block a lost one), a prepaid wallet
// topped up on the provider's hosted page or a saved card, and the history
// of sessions with their receipts.

const (
	sessionCookie    = "nc_session"
	signInTTL        = 15 * time.Minute
	signInAttempts   = 5
	webSessionTTL    = 30 * 24 * time.Hour
	defaultCurrency  = "AUD"
	maxCardTokenLen  = 20
	signInCodeDigits = 6
)

func hashOf(parts ...string) []byte {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return h.Sum(nil)
}

type signInView struct {
	pageData
	CSRF, Email, SignInID, Error string
}

type historyItem struct{ When, Where, Amount, Receipt string }

type accountView struct {
	pageData
	A                   store.DriverAccount
	CSRF, Notice, Error string
	Balance, Held, Card string
	Cards               []store.DriverCard
	History             []historyItem
}

// signedIn returns the account of the browser's session cookie.
func (a *app) signedIn(r *http.Request) (store.DriverAccount, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return store.DriverAccount{}, false
	}
	id, err := a.Store.DriverWebSession(r.Context(), hashOf(c.Value), time.Now())
	if err != nil {
		return store.DriverAccount{}, false
	}
	acct, err := a.Store.GetDriverAccount(r.Context(), id)
	return acct, err == nil && acct.Status == "active"
}

func (a *app) account(w http.ResponseWriter, r *http.Request) {
	acct, ok := a.signedIn(r)
	if !ok {
		a.render(w, http.StatusOK, "signin", signInView{pageData: basePage("Sign in"), CSRF: csrfToken(w, r)})
		return
	}
	a.renderAccount(w, r, acct, r.URL.Query().Get("notice"), "", http.StatusOK)
}

func (a *app) renderAccount(w http.ResponseWriter, r *http.Request, acct store.DriverAccount, notice, errMsg string, status int) {
	v := accountView{pageData: basePage("Your account"), A: acct, CSRF: csrfToken(w, r), Notice: notices[notice], Error: errMsg}
	if b, err := a.Billing.WalletBalance(r.Context(), acct); err == nil {
		v.Balance = billing.FormatMoney(b.Available(), acct.Currency)
		if held := b.Pending(); held > 0 {
			v.Held = billing.FormatMoney(held, acct.Currency)
		}
	}
	if acct.CardLast4 != "" {
		v.Card = sessionbilling.CardText(acct.CardBrand, acct.CardLast4)
	}
	v.Cards, _ = a.Store.ListDriverCards(r.Context(), acct.ID)
	ps, _ := a.Store.ListSessionPayments(r.Context(), store.SessionPaymentFilter{AccountID: acct.ID, Limit: 500})
	slices.SortFunc(ps, func(x, y store.SessionPayment) int { return y.CreatedAt.Compare(x.CreatedAt) })
	for _, p := range ps {
		if p.Purpose != "session" || p.SessionID == "" {
			continue
		}
		amount := billing.FormatMoney(p.AmountCaptured, p.Currency)
		if !sessionbilling.State(p.State).Final() {
			amount = "in progress"
		}
		v.History = append(v.History, historyItem{When: p.CreatedAt.Format("2 Jan 2006 15:04"), Where: p.StationID, Amount: amount, Receipt: p.ReceiptCode})
		if len(v.History) == 50 {
			break
		}
	}
	a.render(w, status, "account", v)
}

var notices = map[string]string{
	"topup":    "Thank you. Your top-up shows here once the payment is confirmed (usually at once).",
	"card":     "Card saved. Your NextCharge cards can now pay with it.",
	"added":    "Card added.",
	"blocked":  "Card blocked: it can no longer start a charge.",
	"funding":  "Saved.",
	"signedin": "You are signed in.",
}

// signIn emails a code to the address.
func (a *app) signIn(w http.ResponseWriter, r *http.Request) {
	if !a.formOK(w, r, "/app/account") {
		return
	}
	email := strings.ToLower(strings.TrimSpace(r.PostForm.Get("email")))
	v := signInView{pageData: basePage("Sign in"), CSRF: csrfToken(w, r), Email: email}
	if mail.CheckAddress(email) != nil {
		v.Error = "That email address does not look right."
		a.render(w, http.StatusBadRequest, "signin", v)
		return
	}
	if !a.limiter.allow("signin:" + clientKey(r)) {
		v.Error = "Too many sign-in attempts from here. Please wait a minute and try again."
		a.render(w, http.StatusTooManyRequests, "signin", v)
		return
	}
	n, _ := rand.Int(rand.Reader, big.NewInt(1_000_000))
	code := fmt.Sprintf("%0*d", signInCodeDigits, n.Int64())
	id := store.NewSignInID()
	in, err := a.Store.CreateDriverSignIn(r.Context(), store.DriverSignIn{ID: id, Email: email, CodeHash: hashOf(id, code), ExpiresAt: time.Now().Add(signInTTL)})
	if err == nil {
		err = a.Billing.Mailer().Send(r.Context(), mail.Message{To: email, Subject: "Your NextCharge code: " + code,
			Text: "Your NextCharge sign-in code is " + code + ". It is valid for 15 minutes.\n\nIf you did not ask for it, ignore this email."})
	}
	if err != nil {
		a.Logger.Warn("sign-in email", "err", err)
		v.Error = "We could not send the email. Please try again."
		a.render(w, http.StatusBadGateway, "signin", v)
		return
	}
	v.SignInID = in.ID
	a.render(w, http.StatusOK, "signin", v)
}

var sixDigits = regexp.MustCompile(`^\d{6}$`)

// verify checks a typed code and opens the browser session.
func (a *app) verify(w http.ResponseWriter, r *http.Request) {
	if !a.formOK(w, r, "/app/account") {
		return
	}
	id, code := r.PostForm.Get("id"), strings.TrimSpace(r.PostForm.Get("code"))
	in, err := a.Store.GetDriverSignIn(r.Context(), id)
	v := signInView{pageData: basePage("Sign in"), CSRF: csrfToken(w, r), Email: in.Email, SignInID: in.ID}
	if err != nil || in.UsedAt != nil || time.Now().After(in.ExpiresAt) || in.Attempts >= signInAttempts {
		v.SignInID, v.Error = "", "This code has expired. Ask for a new one."
		a.render(w, http.StatusBadRequest, "signin", v)
		return
	}
	match := sixDigits.MatchString(code) && subtle.ConstantTimeCompare(hashOf(in.ID, code), in.CodeHash) == 1
	ok, err := a.Store.RecordDriverSignInAttempt(r.Context(), in.ID, signInAttempts, match)
	if err != nil || !ok || !match {
		v.Error = "That code is not right. Check the latest email from us."
		if in.Attempts+1 >= signInAttempts {
			v.SignInID, v.Error = "", "Too many wrong codes. Ask for a new one."
		}
		a.render(w, http.StatusBadRequest, "signin", v)
		return
	}
	acct, err := a.Store.DriverAccountByEmail(r.Context(), in.Email)
	if errors.Is(err, store.ErrNotFound) {
		acct, err = a.Store.SaveDriverAccount(r.Context(), store.DriverAccount{Email: in.Email, Currency: defaultCurrency, Funding: store.FundingWallet})
	}
	if err != nil {
		a.Logger.Error("sign-in account", "err", err)
		v.Error = "Something went wrong. Please try again."
		a.render(w, http.StatusInternalServerError, "signin", v)
		return
	}
	tok := make([]byte, 32)
	_, _ = rand.Read(tok)
	value := base64.RawURLEncoding.EncodeToString(tok)
	if err := a.Store.CreateDriverWebSession(r.Context(), hashOf(value), acct.ID, time.Now().Add(webSessionTTL)); err != nil {
		a.Logger.Error("sign-in session", "err", err)
		v.Error = "Something went wrong. Please try again."
		a.render(w, http.StatusInternalServerError, "signin", v)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: value, Path: "/app/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: isHTTPS(r), MaxAge: int(webSessionTTL / time.Second)})
	http.Redirect(w, r, "/app/account?notice=signedin", http.StatusSeeOther)
}

// formOK parses a POSTed form and checks its CSRF token.
func (a *app) formOK(w http.ResponseWriter, r *http.Request, back string) bool {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := r.ParseForm(); err != nil || !csrfValid(r) {
		a.message(w, http.StatusForbidden, "Please try again", "This form has expired. Go back and try again.", back, "Back")
		return false
	}
	return true
}

// accountForm is a signed-in account's form post.
func (a *app) accountForm(w http.ResponseWriter, r *http.Request) (store.DriverAccount, bool) {
	if !a.formOK(w, r, "/app/account") {
		return store.DriverAccount{}, false
	}
	acct, ok := a.signedIn(r)
	if !ok {
		http.Redirect(w, r, "/app/account", http.StatusSeeOther)
	}
	return acct, ok
}

func (a *app) topUp(w http.ResponseWriter, r *http.Request) {
	acct, ok := a.accountForm(w, r)
	if !ok {
		return
	}
	amount, _ := strconv.ParseInt(r.PostForm.Get("amount"), 10, 64)
	if amount != 2000 && amount != 5000 && amount != 10000 {
		a.renderAccount(w, r, acct, "", "Choose an amount to top up.", http.StatusBadRequest)
		return
	}
	if acct.Funding != store.FundingWallet {
		acct.Funding = store.FundingWallet // topping up means paying from the wallet
		if _, err := a.Store.SaveDriverAccount(r.Context(), acct); err != nil {
			a.renderAccount(w, r, acct, "", "Something went wrong. Please try again.", http.StatusInternalServerError)
			return
		}
	}
	back := a.baseURL(r) + "/app/account?notice=topup"
	co, err := a.Billing.StartTopUp(r.Context(), acct.ID, amount, back, a.baseURL(r)+"/app/account")
	if err != nil {
		a.Logger.Warn("top-up", "err", err)
		a.renderAccount(w, r, acct, "", "We could not open the payment page. Nothing has been charged. Please try again.", http.StatusBadGateway)
		return
	}
	http.Redirect(w, r, co.URL, http.StatusSeeOther)
}

func (a *app) cardSetup(w http.ResponseWriter, r *http.Request) {
	acct, ok := a.accountForm(w, r)
	if !ok {
		return
	}
	co, err := a.Billing.StartCardSetup(r.Context(), acct.ID, a.baseURL(r)+"/app/account?notice=card", a.baseURL(r)+"/app/account")
	if err != nil {
		a.Logger.Warn("card setup", "err", err)
		a.renderAccount(w, r, acct, "", "We could not open the card page. Please try again.", http.StatusBadGateway)
		return
	}
	http.Redirect(w, r, co.URL, http.StatusSeeOther)
}

func (a *app) funding(w http.ResponseWriter, r *http.Request) {
	acct, ok := a.accountForm(w, r)
	if !ok {
		return
	}
	switch f := r.PostForm.Get("funding"); {
	case f == store.FundingWallet, f == store.FundingCard && acct.PaymentMethodRef != "":
		acct.Funding = f
	default:
		a.renderAccount(w, r, acct, "", "Save a card first.", http.StatusBadRequest)
		return
	}
	if _, err := a.Store.SaveDriverAccount(r.Context(), acct); err != nil {
		a.renderAccount(w, r, acct, "", "Something went wrong. Please try again.", http.StatusInternalServerError)
		return
	}
	http.Redirect(w, r, "/app/account?notice=funding", http.StatusSeeOther)
}

var cardToken = regexp.MustCompile(`^[A-Za-z0-9]{4,20}$`)

func (a *app) addCard(w http.ResponseWriter, r *http.Request) {
	acct, ok := a.accountForm(w, r)
	if !ok {
		return
	}
	tok := strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(r.PostForm.Get("id_token")), " ", ""))
	if !cardToken.MatchString(tok) {
		a.renderAccount(w, r, acct, "", "A card number is 4 to 20 letters and digits, as printed on the card.", http.StatusBadRequest)
		return
	}
	if _, err := a.Store.SaveDriverCard(r.Context(), store.DriverCard{IDToken: tok, AccountID: acct.ID, Status: model.TokenAccepted}); err != nil {
		msg := "Something went wrong. Please try again."
		if errors.Is(err, store.ErrConflict) {
			msg = "That card belongs to another account."
		}
		a.renderAccount(w, r, acct, "", msg, http.StatusConflict)
		return
	}
	http.Redirect(w, r, "/app/account?notice=added", http.StatusSeeOther)
}

func (a *app) blockCard(w http.ResponseWriter, r *http.Request) {
	acct, ok := a.accountForm(w, r)
	if !ok {
		return
	}
	card, err := a.Store.GetDriverCard(r.Context(), r.PostForm.Get("id_token"))
	if err != nil || card.AccountID != acct.ID {
		a.renderAccount(w, r, acct, "", "No such card on your account.", http.StatusNotFound)
		return
	}
	card.Status = model.TokenBlocked
	if _, err := a.Store.SaveDriverCard(r.Context(), card); err != nil {
		a.renderAccount(w, r, acct, "", "Something went wrong. Please try again.", http.StatusInternalServerError)
		return
	}
	http.Redirect(w, r, "/app/account?notice=blocked", http.StatusSeeOther)
}

func (a *app) signOut(w http.ResponseWriter, r *http.Request) {
	if !a.formOK(w, r, "/app/account") {
		return
	}
	if c, err := r.Cookie(sessionCookie); err == nil {
		_ = a.Store.DeleteDriverWebSession(r.Context(), hashOf(c.Value))
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/app/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/app/", http.StatusSeeOther)
}

// baseURL is the address the driver reached us at, for return links.
func (a *app) baseURL(r *http.Request) string {
	if isHTTPS(r) {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}
