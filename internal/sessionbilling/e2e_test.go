package sessionbilling_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chargestar/chargestar/internal/billing"
	"github.com/chargestar/chargestar/internal/ledger"
	"github.com/chargestar/chargestar/internal/mail"
	"github.com/chargestar/chargestar/internal/model"
	"github.com/chargestar/chargestar/internal/payments/sandbox"
	"github.com/chargestar/chargestar/internal/reports"
	"github.com/chargestar/chargestar/internal/servertest"
	"github.com/chargestar/chargestar/internal/sessionbilling"
	"github.com/chargestar/chargestar/internal/store"
)

// End-to-end: a real server (sandbox provider, in-process webhooks), a
// station driven frame by frame, and the driver's side through /app/ and
// the sandbox's hosted page.

// testTariff: $0.50/kWh and a $1.00 session fee, GST included; hold $50.
const testTariff = `{"country_code":"AU","party_id":"CST","id":"T1","currency":"AUD","type":"AD_HOC_PAYMENT",
 "elements":[{"price_components":[{"type":"ENERGY","price":0.50,"step_size":1},{"type":"FLAT","price":1.00,"step_size":1}]}],
 "last_updated":"2026-01-01T00:00:00Z",
 "chargestar":{"tax":{"name":"GST","rate":0.1,"included":true},"hold_amount":5000}}`

type env struct {
	t   testing.TB
	srv *servertest.Server
	op  model.Operator
}

func newEnv(t testing.TB, opts servertest.Options) *env {
	t.Helper()
	srv := servertest.Start(t, opts)
	op := srv.Operator(t, "Acme Parking")
	ctx := context.Background()
	op.LegalName, op.TaxID, op.Address = "Acme Parking Pty Ltd", "51 824 753 556", "1 Car Park Lane, Sydney NSW 2000"
	if _, err := srv.Store.UpdateOperator(ctx, op); err != nil {
		t.Fatal(err)
	}
	tr, err := srv.Store.SaveTariff(ctx, store.Tariff{OperatorID: op.ID, Name: "Standard", Body: []byte(testTariff)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Store.AssignTariff(ctx, store.TariffAssignment{OperatorID: op.ID, Scope: store.ScopeOperator, TariffID: tr.ID}); err != nil {
		t.Fatal(err)
	}
	return &env{t: t, srv: srv, op: op}
}

// station connects a station of the protocol ("ocpp1.6", "ocpp2.0.1",
// "ocpp2.1"), boots it and reports connector 1 available.
func (e *env) station(id, protocol string) *servertest.Station {
	e.t.Helper()
	e.srv.Station(e.t, e.op.ID, id, "")
	st, _, err := e.srv.Dial(e.t, id, servertest.DialOptions{Subprotocols: []string{protocol}})
	if err != nil {
		e.t.Fatal(err)
	}
	if protocol == "ocpp1.6" {
		st.Boot()
		st.CallOK("StatusNotification", `{"connectorId":1,"errorCode":"NoError","status":"Available"}`)
	} else {
		st.Boot2()
		st.CallOK("StatusNotification", `{"timestamp":"`+ts(time.Now())+`","connectorStatus":"Available","evseId":1,"connectorId":1}`)
	}
	return st
}

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339) }

type checkout struct {
	PaymentID   string `json:"payment_id"`
	AccessToken string `json:"access_token"`
	CheckoutURL string `json:"checkout_url"`
	HoldAmount  int64  `json:"hold_amount"`
}

// checkout starts a guest session through the app's API.
func (e *env) checkout(stationID string, extra string) checkout {
	e.t.Helper()
	body := fmt.Sprintf(`{"station_id":%q,"connector_id":1%s}`, stationID, extra)
	resp, err := http.Post(e.srv.URL+"/app/api/checkouts", "application/json", strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		e.t.Fatalf("checkout: %s %s", resp.Status, b)
	}
	var c checkout
	if err := json.Unmarshal(b, &c); err != nil {
		e.t.Fatal(err)
	}
	return c
}

// pay fills in the sandbox's hosted page with a card.
func (e *env) pay(c checkout, card string) *http.Response {
	e.t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.PostForm(c.CheckoutURL, url.Values{"card_number": {card}, "exp": {"12/30"}, "cvc": {"123"}, "name": {"A Driver"}})
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func (e *env) payment(id string) store.SessionPayment {
	e.t.Helper()
	p, err := e.srv.Store.GetSessionPayment(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

func (e *env) waitState(id string, want sessionbilling.State) store.SessionPayment {
	e.t.Helper()
	servertest.Eventually(e.t, 15*time.Second, "payment "+id+" "+string(want), func() bool {
		return e.payment(id).State == string(want)
	})
	return e.payment(id)
}

// checkLedger asserts the ledger's invariants hold.
func (e *env) checkLedger() {
	e.t.Helper()
	if err := e.srv.Store.CheckLedger(context.Background()); err != nil {
		e.t.Fatalf("ledger: %v", err)
	}
}

// A driver's session as one station protocol plays it.
type stationSession interface {
	acceptRemoteStart() string // returns the id token
	start(token string, at time.Time, meterWh int64)
	meter(at time.Time, wh int64)
	stop(at time.Time, wh int64, reason string)
	expectRemoteStop()
}

type session16 struct {
	t  testing.TB
	st *servertest.Station
	tx int
}

func (s *session16) acceptRemoteStart() string {
	call := s.st.ExpectCall("RemoteStartTransaction", 10*time.Second)
	var req struct {
		IDTag       string `json:"idTag"`
		ConnectorID int    `json:"connectorId"`
	}
	_ = json.Unmarshal(call.Payload, &req)
	if req.ConnectorID != 1 {
		s.t.Fatalf("remote start on connector %d", req.ConnectorID)
	}
	s.st.Reply(call, `{"status":"Accepted"}`)
	return req.IDTag
}

func (s *session16) start(token string, at time.Time, wh int64) {
	m := s.st.CallOK("StartTransaction", fmt.Sprintf(`{"connectorId":1,"idTag":%q,"meterStart":%d,"timestamp":%q}`, token, wh, ts(at)))
	if info := m["idTagInfo"].(map[string]any); info["status"] != "Accepted" {
		s.t.Fatalf("start: idTagInfo %v", info)
	}
	s.tx = int(m["transactionId"].(float64))
}

func (s *session16) meter(at time.Time, wh int64) {
	s.st.CallOK("MeterValues", fmt.Sprintf(`{"connectorId":1,"transactionId":%d,"meterValue":[{"timestamp":%q,"sampledValue":[{"value":"%d","measurand":"Energy.Active.Import.Register","unit":"Wh"}]}]}`, s.tx, ts(at), wh))
}

func (s *session16) stop(at time.Time, wh int64, reason string) {
	s.st.CallOK("StopTransaction", fmt.Sprintf(`{"transactionId":%d,"meterStop":%d,"timestamp":%q,"reason":%q}`, s.tx, wh, ts(at), reason))
}

func (s *session16) expectRemoteStop() {
	call := s.st.ExpectCall("RemoteStopTransaction", 10*time.Second)
	s.st.Reply(call, `{"status":"Accepted"}`)
}

type session2 struct {
	t     *testing.T
	st    *servertest.Station
	tx    string
	seq   int
	token string
	rsID  int
}

func (s *session2) acceptRemoteStart() string {
	call := s.st.ExpectCall("RequestStartTransaction", 10*time.Second)
	var req struct {
		IDToken struct {
			IDToken string `json:"idToken"`
		} `json:"idToken"`
		EVSEID        int `json:"evseId"`
		RemoteStartID int `json:"remoteStartId"`
	}
	_ = json.Unmarshal(call.Payload, &req)
	if req.EVSEID != 1 {
		s.t.Fatalf("remote start on EVSE %d", req.EVSEID)
	}
	s.rsID = req.RemoteStartID
	s.st.Reply(call, `{"status":"Accepted"}`)
	return req.IDToken.IDToken
}

func (s *session2) event(typ, trigger string, at time.Time, wh int64, extra string) map[string]any {
	s.seq++
	p := fmt.Sprintf(`{"eventType":%q,"timestamp":%q,"triggerReason":%q,"seqNo":%d,"transactionInfo":{"transactionId":%q%s},"evse":{"id":1,"connectorId":1},
		"meterValue":[{"timestamp":%q,"sampledValue":[{"value":%d,"measurand":"Energy.Active.Import.Register","unitOfMeasure":{"unit":"Wh"}}]}]`,
		typ, ts(at), trigger, s.seq, s.tx, extra, ts(at), wh)
	if typ == "Started" && s.token != "" {
		p += fmt.Sprintf(`,"idToken":{"idToken":%q,"type":"Central"}`, s.token)
	}
	return s.st.CallOK("TransactionEvent", p+"}")
}

func (s *session2) start(token string, at time.Time, wh int64) {
	s.token, s.tx = token, fmt.Sprintf("TX-%d", time.Now().UnixNano())
	m := s.event("Started", "RemoteStart", at, wh, fmt.Sprintf(`,"chargingState":"Charging","remoteStartId":%d`, s.rsID))
	if info := m["idTokenInfo"].(map[string]any); info["status"] != "Accepted" {
		s.t.Fatalf("start: idTokenInfo %v", info)
	}
}

func (s *session2) meter(at time.Time, wh int64) {
	s.event("Updated", "MeterValuePeriodic", at, wh, "")
}

func (s *session2) stop(at time.Time, wh int64, reason string) {
	s.event("Ended", "EVCommunicationLost", at, wh, fmt.Sprintf(`,"stoppedReason":%q`, reason))
}

func (s *session2) expectRemoteStop() {
	call := s.st.ExpectCall("RequestStopTransaction", 10*time.Second)
	s.st.Reply(call, `{"status":"Accepted"}`)
}

func newSession(t *testing.T, st *servertest.Station, protocol string) stationSession {
	if protocol == "ocpp1.6" {
		return &session16{t: t, st: st}
	}
	return &session2{t: t, st: st}
}

var protocols = []string{"ocpp1.6", "ocpp2.0.1", "ocpp2.1"}

// TestGuestSessionTapToReceipt: scan, pay with 4242, the station starts,
// meters, and the driver unplugs: exactly the tariff's price is captured,
// the rest released, the ledger balances and the receipt is a tax invoice.
func TestGuestSessionTapToReceipt(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		for _, proto := range protocols {
			t.Run(db+"/"+proto, func(t *testing.T) { testTapToReceipt(t, db == "postgres", proto) })
		}
	}
}

func testTapToReceipt(t *testing.T, postgres bool, proto string) {
	{
		{
			e := newEnv(t, servertest.Options{Postgres: postgres})
			st := e.station("ST-"+strings.ReplaceAll(proto, ".", ""), proto)
			c := e.checkout(st.ID, "")
			if c.HoldAmount != 5000 {
				t.Fatalf("hold %d, want the tariff's 5000", c.HoldAmount)
			}
			if resp := e.pay(c, "4242 4242 4242 4242"); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("paying: %s", resp.Status)
			}
			s := newSession(t, st, proto)
			token := s.acceptRemoteStart()
			p := e.waitState(c.PaymentID, sessionbilling.StateAuthorized)
			if p.CardLast4 != "4242" || token != p.IDToken {
				t.Fatalf("authorised payment: %+v (token %q)", p, token)
			}
			start := time.Now().Add(-time.Hour).Truncate(time.Second)
			s.start(token, start, 1000)
			e.waitState(c.PaymentID, sessionbilling.StateCharging)
			s.meter(start.Add(30*time.Minute), 11000)
			s.stop(start.Add(time.Hour), 21000, "EVDisconnected")
			p = e.waitState(c.PaymentID, sessionbilling.StateCaptured)
			// 20 kWh × $0.50 + $1.00 = $11.00, GST $1.00 (1/11 of it).
			if p.AmountCaptured != 1100 || p.AmountTotal != 1100 || p.AmountTax != 100 {
				t.Fatalf("captured %d (total %d, tax %d), want 1100 with 100 GST", p.AmountCaptured, p.AmountTotal, p.AmountTax)
			}
			sb, err := e.srv.Store.SandboxPayment(context.Background(), p.ProviderPaymentID)
			if err != nil || sb.Status != "captured" || sb.AmountCaptured != 1100 || sb.Amount != 5000 {
				t.Fatalf("at the acquirer: %+v %v", sb, err)
			}
			sess, err := e.srv.Store.GetSession(context.Background(), "", p.SessionID)
			if err != nil || sess.PaymentStatus != model.PaymentCaptured || sess.AmountTotal != 1100 || sess.AmountTax != 100 {
				t.Fatalf("session: %+v %v", sess, err)
			}
			e.checkLedger()
			payable, _ := e.srv.Store.LedgerBalance(context.Background(), ledger.OperatorPayableAccount(e.op.ID, "AUD"))
			tax, _ := e.srv.Store.LedgerBalance(context.Background(), ledger.TaxPayableAccount(e.op.ID, "AUD"))
			if payable.Posted() != 1000 || tax.Posted() != 100 {
				t.Fatalf("operator payable %+v, tax payable %+v; want 1000 and 100", payable, tax)
			}
			e.checkReceipt(p, "$11.00", "Tax invoice", "51 824 753 556", "Total price includes GST")
		}
	}
}

func (e *env) checkReceipt(p store.SessionPayment, want ...string) {
	e.t.Helper()
	if p.ReceiptCode == "" {
		e.t.Fatal("no receipt code")
	}
	rc, err := e.srv.Billing.Receipt(context.Background(), p)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := rc.Validate(); err != nil {
		e.t.Fatalf("receipt does not validate: %v\n%+v", err, rc)
	}
	resp, err := http.Get(e.srv.URL + "/app/r/" + strings.ToLower(strings.ReplaceAll(p.ReceiptCode, "-", "")))
	if err != nil {
		e.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		e.t.Fatalf("receipt: %s %s", resp.Status, b)
	}
	for _, w := range want {
		if !bytes.Contains(b, []byte(w)) {
			e.t.Errorf("receipt lacks %q:\n%s", w, b)
		}
	}
	resp, err = http.Get(e.srv.URL + "/app/r/" + p.ReceiptCode + ".pdf")
	if err != nil {
		e.t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.HasPrefix(b, []byte("%PDF-")) || resp.Header.Get("Content-Type") != "application/pdf" {
		e.t.Fatalf("receipt PDF: %s %q", resp.Status, b[:min(len(b), 20)])
	}
}

// TestStopFromApp: the driver presses Stop; the station is told to stop
// and the capture follows its stop report.
func TestStopFromApp(t *testing.T) {
	for _, proto := range protocols {
		t.Run(proto, func(t *testing.T) {
			e := newEnv(t, servertest.Options{})
			st := e.station("ST-APPSTOP", proto)
			c := e.checkout(st.ID, "")
			e.pay(c, "4242424242424242")
			s := newSession(t, st, proto)
			token := s.acceptRemoteStart()
			start := time.Now().Add(-20 * time.Minute).Truncate(time.Second)
			s.start(token, start, 0)
			e.waitState(c.PaymentID, sessionbilling.StateCharging)
			req, _ := http.NewRequest("POST", e.srv.URL+"/app/api/payments/"+c.PaymentID+"/stop", nil)
			req.Header.Set("Authorization", "Bearer "+c.AccessToken)
			resp, err := http.DefaultClient.Do(req)
			if err != nil || resp.StatusCode != http.StatusAccepted {
				t.Fatalf("stop: %v %v", resp.Status, err)
			}
			s.expectRemoteStop()
			s.stop(start.Add(20*time.Minute), 5000, "Remote")
			p := e.waitState(c.PaymentID, sessionbilling.StateCaptured)
			if p.AmountCaptured != 350 { // 5 kWh × $0.50 + $1.00
				t.Fatalf("captured %d, want 350", p.AmountCaptured)
			}
			e.checkLedger()
		})
	}
}

// TestDeclinedCard: a declined card leaves the driver on the page with
// nothing held; the station is never asked to start.
func TestDeclinedCard(t *testing.T) {
	e := newEnv(t, servertest.Options{})
	st := e.station("ST-DECL", "ocpp1.6")
	c := e.checkout(st.ID, "")
	for _, card := range []string{"4000 0000 0000 0002", "4000 0000 0000 9995"} {
		e.pay(c, card)
	}
	req, _ := http.NewRequest("GET", e.srv.URL+"/app/api/payments/"+c.PaymentID, nil)
	req.Header.Set("Authorization", "Bearer "+c.AccessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var v struct{ State, DeclineCode, Message string }
	var raw map[string]any
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	_ = json.Unmarshal(b, &raw)
	v.State, _ = raw["state"].(string)
	v.DeclineCode, _ = raw["decline_code"].(string)
	v.Message, _ = raw["message"].(string)
	if v.State != "quote" || v.DeclineCode != "insufficient_funds" || !strings.Contains(v.Message, "declined") {
		t.Fatalf("after declines: %s", b)
	}
	for {
		f, ok := st.NextRaw(300 * time.Millisecond)
		if !ok {
			break
		}
		if strings.HasPrefix(f, "[2,") {
			t.Fatalf("station was called after a decline: %s", f)
		}
	}
	// The wrong token opens nothing.
	req.Header.Set("Authorization", "Bearer nope")
	resp, _ = http.DefaultClient.Do(req)
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("foreign token: %s", resp.Status)
	}
	resp.Body.Close()
	e.checkLedger()
}

// TestNoStartReleasesHold: the station accepts the remote start but no
// transaction begins: the hold is released at the start deadline.
func TestNoStartReleasesHold(t *testing.T) {
	e := newEnv(t, servertest.Options{Billing: sessionbilling.Config{StartTimeout: time.Second, SweepInterval: 200 * time.Millisecond}})
	st := e.station("ST-NOSTART", "ocpp2.0.1")
	c := e.checkout(st.ID, "")
	e.pay(c, "4242424242424242")
	s := newSession(t, st, "ocpp2.0.1")
	s.acceptRemoteStart()
	p := e.waitState(c.PaymentID, sessionbilling.StateVoided)
	if p.EndReason != sessionbilling.ReasonNoStart || p.AmountCaptured != 0 {
		t.Fatalf("voided payment: %+v", p)
	}
	sb, _ := e.srv.Store.SandboxPayment(context.Background(), p.ProviderPaymentID)
	if sb.Status != "voided" {
		t.Fatalf("at the acquirer: %s", sb.Status)
	}
	e.checkLedger()
}

// TestRemoteStartRejected: the station refuses the remote start: the hold
// is released at once.
func TestRemoteStartRejected(t *testing.T) {
	e := newEnv(t, servertest.Options{})
	st := e.station("ST-REJ", "ocpp1.6")
	c := e.checkout(st.ID, "")
	e.pay(c, "4242424242424242")
	call := st.ExpectCall("RemoteStartTransaction", 10*time.Second)
	st.Reply(call, `{"status":"Rejected"}`)
	p := e.waitState(c.PaymentID, sessionbilling.StateVoided)
	if p.EndReason != "station_rejected" {
		t.Fatalf("end reason %q", p.EndReason)
	}
	e.checkLedger()
}

// TestZeroEnergyVoided: plugged in, nothing flowed: nothing is charged.
func TestZeroEnergyVoided(t *testing.T) {
	e := newEnv(t, servertest.Options{})
	st := e.station("ST-ZERO", "ocpp1.6")
	c := e.checkout(st.ID, "")
	e.pay(c, "4242424242424242")
	s := newSession(t, st, "ocpp1.6")
	token := s.acceptRemoteStart()
	start := time.Now().Add(-5 * time.Minute)
	s.start(token, start, 7000)
	e.waitState(c.PaymentID, sessionbilling.StateCharging)
	s.stop(start.Add(5*time.Minute), 7000, "EVDisconnected")
	p := e.waitState(c.PaymentID, sessionbilling.StateVoided)
	if p.EndReason != sessionbilling.ReasonZeroEnergy {
		t.Fatalf("end reason %q", p.EndReason)
	}
	e.checkReceipt(p, "No charge")
	e.checkLedger()
}

// TestDuplicateStopAndWebhook: the station repeats its stop and the
// provider redelivers its events: one capture, one booking.
func TestDuplicateStopAndWebhook(t *testing.T) {
	e := newEnv(t, servertest.Options{})
	st := e.station("ST-DUP", "ocpp1.6")
	c := e.checkout(st.ID, "")
	e.pay(c, "4242424242424242")
	s := newSession(t, st, "ocpp1.6").(*session16)
	token := s.acceptRemoteStart()
	start := time.Now().Add(-time.Hour)
	s.start(token, start, 0)
	e.waitState(c.PaymentID, sessionbilling.StateCharging)
	s.stop(start.Add(time.Hour), 10000, "Local")
	s.stop(start.Add(time.Hour), 10000, "Local")
	p := e.waitState(c.PaymentID, sessionbilling.StateCaptured)
	// Redeliver every sandbox event to the webhook endpoint.
	evs, err := e.srv.Store.SandboxEvents(context.Background(), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		if err := e.srv.Billing.HandleWebhook(context.Background(), ev.Payload, signed(ev.Payload)); err != nil {
			t.Fatalf("redelivery: %v", err)
		}
	}
	txs, err := e.srv.Store.LedgerByReference(context.Background(), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[ledger.TxKind]int{}
	for _, tx := range txs {
		kinds[tx.Kind]++
	}
	if kinds[ledger.KindHold] != 1 || kinds[ledger.KindCapture] != 1 || len(txs) != 2 {
		t.Fatalf("ledger for the payment: %v", kinds)
	}
	if p2 := e.payment(p.ID); p2.AmountCaptured != 600 || p2.Version != p.Version {
		t.Fatalf("after redeliveries: %+v", p2)
	}
	e.checkLedger()
}

// TestOfflineStopFinishedFromLastReading: the station drops off during
// the session and stays away past the deadline: the session is finished
// from its last reading and captured; the late stop changes nothing.
func TestOfflineStopFinishedFromLastReading(t *testing.T) {
	e := newEnv(t, servertest.Options{Billing: sessionbilling.Config{OfflineStopDeadline: time.Millisecond}})
	st := e.station("ST-OFF", "ocpp1.6")
	c := e.checkout(st.ID, "")
	e.pay(c, "4242424242424242")
	s := newSession(t, st, "ocpp1.6").(*session16)
	token := s.acceptRemoteStart()
	start := time.Now().Add(-time.Hour)
	s.start(token, start, 0)
	e.waitState(c.PaymentID, sessionbilling.StateCharging)
	s.meter(start.Add(30*time.Minute), 8000)
	st.Drop()
	servertest.Eventually(t, 5*time.Second, "station offline", func() bool { return !e.srv.CSMS.Connected(st.ID) })
	time.Sleep(10 * time.Millisecond)
	if err := e.srv.Billing.Sweep(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	p := e.waitState(c.PaymentID, sessionbilling.StateCaptured)
	if p.AmountCaptured != 500 || p.EndReason != "station_offline" { // 8 kWh × $0.50 + $1.00
		t.Fatalf("finished offline: captured %d, reason %q", p.AmountCaptured, p.EndReason)
	}
	// The station comes back with its real stop: the session is corrected,
	// the payment stays as captured.
	st2, _, err := e.srv.Dial(t, st.ID, servertest.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	st2.Boot()
	(&session16{t: t, st: st2, tx: s.tx}).stop(start.Add(time.Hour), 16000, "EVDisconnected")
	time.Sleep(200 * time.Millisecond)
	if p2 := e.payment(p.ID); p2.AmountCaptured != 500 || p2.State != string(sessionbilling.StateCaptured) {
		t.Fatalf("after the late stop: %+v", p2)
	}
	e.checkLedger()
}

// TestHoldLimitStopsSession: a $5 budget: the session is stopped when its
// running cost reaches the hold minus the margin, and the capture never
// exceeds the hold.
func TestHoldLimitStopsSession(t *testing.T) {
	for _, proto := range []string{"ocpp1.6", "ocpp2.1"} {
		t.Run(proto, func(t *testing.T) {
			e := newEnv(t, servertest.Options{Billing: sessionbilling.Config{MaxPowerW: 7000}})
			st := e.station("ST-LIMIT", proto)
			c := e.checkout(st.ID, `,"budget_amount":1000`)
			p := e.payment(c.PaymentID)
			if p.HoldAmount < 1000 || p.StopAtCost == 0 || p.StopAtCost > p.HoldAmount {
				t.Fatalf("budget hold %d, stop at %d", p.HoldAmount, p.StopAtCost)
			}
			e.pay(c, "4242424242424242")
			s := newSession(t, st, proto)
			token := s.acceptRemoteStart()
			start := time.Now().Add(-time.Hour)
			s.start(token, start, 0)
			e.waitState(c.PaymentID, sessionbilling.StateCharging)
			// Enough energy to pass the threshold.
			wh := (p.StopAtCost - 100) * 1000 / 50 // Wh at $0.50/kWh after the $1 fee
			if proto == "ocpp2.1" {
				// 2.1: the transaction limit travels in the answers.
				m := s.(*session2).event("Updated", "MeterValuePeriodic", start.Add(30*time.Minute), wh, "")
				if lim, ok := m["transactionLimit"].(map[string]any); !ok || lim["maxCost"] == nil {
					t.Fatalf("no transactionLimit in %v", m)
				}
			} else {
				s.meter(start.Add(30*time.Minute), wh)
			}
			s.expectRemoteStop()
			s.stop(start.Add(31*time.Minute), wh+50, "Remote")
			p = e.waitState(c.PaymentID, sessionbilling.StateCaptured)
			if p.AmountCaptured > p.HoldAmount || p.AmountCaptured < p.StopAtCost {
				t.Fatalf("captured %d of hold %d (stop at %d)", p.AmountCaptured, p.HoldAmount, p.StopAtCost)
			}
			e.checkLedger()
		})
	}
}

func signed(payload []byte) http.Header {
	h := http.Header{}
	h.Set(sandbox.SignatureHeader, sandbox.Sign([]byte(servertest.SandboxWebhookSecret), time.Now(), payload))
	return h
}

// TestCappedReceiptAddsUp: a session priced above its hold is captured
// for the hold; its receipt says so in a line, and its lines, GST and total
// still add up (receipt.Validate).
func TestCappedReceiptAddsUp(t *testing.T) {
	e := newEnv(t, servertest.Options{})
	ctx := context.Background()
	st := e.station("ST-CAP", "ocpp1.6")
	tr, err := billing.ParseTariff([]byte(testTariff))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(-2 * time.Hour).Truncate(time.Second)
	c, err := billing.Price(tr, time.UTC, billing.Usage{Start: start, Stop: start.Add(2 * time.Hour),
		Samples: []billing.Sample{{At: start, EnergyWh: 0}, {At: start.Add(2 * time.Hour), EnergyWh: 118000}}})
	if err != nil || c.Total != 6000 {
		t.Fatalf("price %d %v", c.Total, err)
	}
	costJSON, _ := json.Marshal(c)
	settled := time.Now()
	set := sessionbilling.Settle(c, 5000, tr)
	p, err := e.srv.Store.ChangeSessionPayment(ctx, store.SessionPaymentChange{Payment: store.SessionPayment{
		OperatorID: e.op.ID, Purpose: "session", Method: "card", State: "captured", StationID: st.ID, ConnectorID: 1,
		Currency: "AUD", HoldAmount: 5000, AmountTotal: set.Capture, AmountTax: set.Tax, AmountCaptured: set.Capture,
		Tariff: []byte(testTariff), Cost: costJSON, ReceiptCode: "K7QM-4XPD", SettledAt: &settled, CardBrand: "visa", CardLast4: "4242"}})
	if err != nil {
		t.Fatal(err)
	}
	rc, err := e.srv.Billing.Receipt(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if err := rc.Validate(); err != nil {
		t.Fatalf("capped receipt: %v\n%+v", err, rc)
	}
	if set.Tax != 455 || rc.Total != 5000 || rc.Tax != 455 || !strings.Contains(fmt.Sprint(rc.Lines), "Limited to the amount authorised") {
		t.Fatalf("capped receipt: %+v", rc)
	}
}

// TestPluggedInBeforePaying: a 2.x station whose transaction began when
// the cable went in (no id token yet) learns the driver from the remote
// start; the payment is tied then (not by the sweep, which is off here)
// and the session billed from its true start.
func TestPluggedInBeforePaying(t *testing.T) {
	e := newEnv(t, servertest.Options{Billing: sessionbilling.Config{SweepInterval: time.Hour}})
	st := e.station("ST-PLUG", "ocpp2.0.1")
	s := &session2{t: t, st: st, tx: "TX-PLUG"}
	start := time.Now().Add(-time.Hour).Truncate(time.Second)
	s.event("Started", "CablePluggedIn", start, 0, `,"chargingState":"EVConnected"`)
	c := e.checkout(st.ID, "")
	e.pay(c, "4242424242424242")
	s.token = s.acceptRemoteStart()
	s.seq++
	m := st.CallOK("TransactionEvent", fmt.Sprintf(`{"eventType":"Updated","timestamp":%q,"triggerReason":"RemoteStart","seqNo":%d,`+
		`"transactionInfo":{"transactionId":"TX-PLUG","chargingState":"Charging","remoteStartId":%d},"evse":{"id":1,"connectorId":1},`+
		`"idToken":{"idToken":%q,"type":"Central"}}`, ts(start.Add(time.Minute)), s.seq, s.rsID, s.token))
	if info, _ := m["idTokenInfo"].(map[string]any); info["status"] != "Accepted" {
		t.Fatalf("token after the start: %v", m)
	}
	e.waitState(c.PaymentID, sessionbilling.StateCharging)
	s.stop(start.Add(time.Hour), 12000, "EVDisconnected")
	p := e.waitState(c.PaymentID, sessionbilling.StateCaptured)
	if p.AmountCaptured != 700 { // 12 kWh × $0.50 + $1.00
		t.Fatalf("captured %d, want 700", p.AmountCaptured)
	}
	e.checkLedger()
}

// TestEnergyAndTimeTariff: a station-level tariff that also prices
// charging time (most specific assignment wins): 20 kWh in one hour of
// charging at $0.40/kWh + $6.00/h + $1.00 = $15.00 on a 2.1 station.
func TestEnergyAndTimeTariff(t *testing.T) {
	e := newEnv(t, servertest.Options{})
	ctx := context.Background()
	st := e.station("ST-TIME", "ocpp2.1")
	tr, err := e.srv.Store.SaveTariff(ctx, store.Tariff{OperatorID: e.op.ID, Name: "time", Body: []byte(`{"country_code":"AU","party_id":"CST","id":"T2",
		"currency":"AUD","type":"AD_HOC_PAYMENT","elements":[{"price_components":[{"type":"ENERGY","price":0.40,"step_size":1},
		{"type":"TIME","price":6.00,"step_size":60},{"type":"FLAT","price":1.00,"step_size":1}]}],"last_updated":"2026-01-01T00:00:00Z",
		"chargestar":{"tax":{"name":"GST","rate":0.1,"included":true},"hold_amount":6000}}`)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.srv.Store.AssignTariff(ctx, store.TariffAssignment{OperatorID: e.op.ID, Scope: store.ScopeStation, ScopeID: st.ID, TariffID: tr.ID}); err != nil {
		t.Fatal(err)
	}
	c := e.checkout(st.ID, "")
	if c.HoldAmount != 6000 {
		t.Fatalf("hold %d: the station's tariff should apply", c.HoldAmount)
	}
	e.pay(c, "4242424242424242")
	s := newSession(t, st, "ocpp2.1")
	token := s.acceptRemoteStart()
	start := time.Now().Add(-time.Hour).Truncate(time.Second)
	s.start(token, start, 0)
	e.waitState(c.PaymentID, sessionbilling.StateCharging)
	for i := 1; i <= 4; i++ {
		s.meter(start.Add(time.Duration(i)*12*time.Minute), int64(i)*4000)
	}
	s.stop(start.Add(time.Hour), 20000, "EVDisconnected")
	p := e.waitState(c.PaymentID, sessionbilling.StateCaptured)
	if p.AmountCaptured != 1500 || p.AmountTax != 136 {
		t.Fatalf("captured %d (GST %d), want 1500 (136)", p.AmountCaptured, p.AmountTax)
	}
	e.checkReceipt(p, "Charging time", "Energy", "Session fee", "$15.00")
}

// TestRefunds: an operator refunds part of a captured session, then the
// rest; the acquirer, the payment and the ledger agree, and nothing more
// can be refunded.
func TestRefunds(t *testing.T) {
	e := newEnv(t, servertest.Options{})
	ctx := context.Background()
	st := e.station("ST-REFUND", "ocpp1.6")
	c := e.checkout(st.ID, "")
	e.pay(c, "4242424242424242")
	s := newSession(t, st, "ocpp1.6")
	token := s.acceptRemoteStart()
	start := time.Now().Add(-time.Hour)
	s.start(token, start, 0)
	e.waitState(c.PaymentID, sessionbilling.StateCharging)
	s.stop(start.Add(time.Hour), 20000, "Local")
	p := e.waitState(c.PaymentID, sessionbilling.StateCaptured)
	if _, err := e.srv.Billing.Refund(ctx, p.ID, 1200, ""); !errors.Is(err, sessionbilling.ErrNotRefundable) {
		t.Fatalf("refund beyond the capture: %v", err)
	}
	if _, err := e.srv.Billing.Refund(ctx, p.ID, 500, "requested_by_customer"); err != nil {
		t.Fatal(err)
	}
	servertest.Eventually(t, 10*time.Second, "first refund", func() bool { return e.payment(p.ID).AmountRefunded == 500 })
	r2, err := e.srv.Billing.Refund(ctx, p.ID, 0, "")
	if err != nil || r2.Amount != 600 || r2.Tax != 55 {
		t.Fatalf("the rest: %+v %v", r2, err)
	}
	servertest.Eventually(t, 10*time.Second, "second refund", func() bool { return e.payment(p.ID).AmountRefunded == 1100 })
	if _, err := e.srv.Billing.Refund(ctx, p.ID, 0, ""); !errors.Is(err, sessionbilling.ErrNotRefundable) {
		t.Fatalf("refund of a fully refunded payment: %v", err)
	}
	refunds, _ := e.srv.Store.PaymentRefunds(ctx, p.ID)
	if len(refunds) != 2 || refunds[0].Tax != 45 || refunds[0].State != "succeeded" || refunds[1].State != "succeeded" || refunds[0].ProviderRefundID == "" {
		t.Fatalf("refunds: %+v", refunds)
	}
	sb, _ := e.srv.Store.SandboxPayment(ctx, p.ProviderPaymentID)
	if sb.AmountRefunded != 1100 {
		t.Fatalf("refunded at the acquirer: %d", sb.AmountRefunded)
	}
	payable, _ := e.srv.Store.LedgerBalance(ctx, ledger.OperatorPayableAccount(e.op.ID, "AUD"))
	tax, _ := e.srv.Store.LedgerBalance(ctx, ledger.TaxPayableAccount(e.op.ID, "AUD"))
	if payable.Posted() != 0 || tax.Posted() != 0 {
		t.Fatalf("after a full refund: payable %d, tax %d", payable.Posted(), tax.Posted())
	}
	e.checkLedger()
	e.checkReceipt(e.payment(p.ID), "Refunded")
}

// TestReceiptEmailed: a driver who gave an address gets the receipt, with
// its PDF, once.
func TestReceiptEmailed(t *testing.T) {
	mailer := &mail.LogMailer{}
	e := newEnv(t, servertest.Options{Billing: sessionbilling.Config{Mailer: mailer}})
	st := e.station("ST-MAIL", "ocpp1.6")
	c := e.checkout(st.ID, `,"email":"driver@example.com"`)
	e.pay(c, "4242424242424242")
	s := newSession(t, st, "ocpp1.6")
	token := s.acceptRemoteStart()
	start := time.Now().Add(-time.Hour)
	s.start(token, start, 0)
	e.waitState(c.PaymentID, sessionbilling.StateCharging)
	s.stop(start.Add(time.Hour), 20000, "Local")
	p := e.waitState(c.PaymentID, sessionbilling.StateCaptured)
	servertest.Eventually(t, 10*time.Second, "receipt email", func() bool { return len(mailer.Sent()) > 0 })
	time.Sleep(100 * time.Millisecond)
	sent := mailer.Sent()
	if len(sent) != 1 {
		t.Fatalf("%d emails", len(sent))
	}
	m := sent[0]
	if m.To != "driver@example.com" || !strings.Contains(m.Subject, "$11.00") || !strings.Contains(m.Text, p.ReceiptCode) ||
		len(m.Attachments) != 1 || !bytes.HasPrefix(m.Attachments[0].Data, []byte("%PDF-")) {
		t.Fatalf("email: %+v", m)
	}
}

// TestRevenueReconcilesWithLedger: the revenue report's totals are what
// the ledger booked to the operator — net to its payable account, GST to
// its tax account — refunds included.
func TestRevenueReconcilesWithLedger(t *testing.T) {
	e := newEnv(t, servertest.Options{})
	ctx := context.Background()
	st := e.station("ST-REPORT", "ocpp1.6")
	var paid []string
	for _, wh := range []int64{20000, 5000} {
		c := e.checkout(st.ID, "")
		e.pay(c, "4242424242424242")
		s := newSession(t, st, "ocpp1.6")
		token := s.acceptRemoteStart()
		start := time.Now().Add(-time.Hour)
		s.start(token, start, 0)
		e.waitState(c.PaymentID, sessionbilling.StateCharging)
		s.stop(start.Add(time.Hour), wh, "Local")
		e.waitState(c.PaymentID, sessionbilling.StateCaptured)
		paid = append(paid, c.PaymentID)
	}
	if _, err := e.srv.Billing.Refund(ctx, paid[0], 500, ""); err != nil {
		t.Fatal(err)
	}
	servertest.Eventually(t, 10*time.Second, "refund", func() bool { return e.payment(paid[0]).AmountRefunded == 500 })
	sales, err := e.srv.Store.Sales(ctx, e.op.ID, time.Now().Add(-24*time.Hour), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := reports.Revenue(sales, reports.Day, reports.ByStation, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	tot := reports.Totals(rows)
	payable, _ := e.srv.Store.LedgerBalance(ctx, ledger.OperatorPayableAccount(e.op.ID, "AUD"))
	tax, _ := e.srv.Store.LedgerBalance(ctx, ledger.TaxPayableAccount(e.op.ID, "AUD"))
	if tot.Sessions != 2 || tot.Gross != 1100+350 || tot.Refunds != 500 || tot.Net != payable.Posted() || tot.Tax != tax.Posted() {
		t.Fatalf("report %+v; ledger payable %d, tax %d", tot, payable.Posted(), tax.Posted())
	}
}
