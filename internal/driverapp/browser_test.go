package driverapp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/chargestar/chargestar/internal/browsertest"
	"github.com/chargestar/chargestar/internal/mail"
	"github.com/chargestar/chargestar/internal/servertest"
	"github.com/chargestar/chargestar/internal/sessionbilling"
	"github.com/chargestar/chargestar/internal/store"
)

// The guest journey in a real browser (Chromium, phone-sized): scan (open
// the station page), choose a budget, pay on the sandbox's hosted page,
// watch the station start and the session update live, stop from the app
// or at the station, and read the receipt. The stations are driven frame
// by frame, in OCPP 1.6 and 2.0.1.

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// guestStation plays a station's side of a remote-started session.
type guestStation struct {
	t     *testing.T
	st    *servertest.Station
	proto string
	tx    any // 1.6: int transaction id; 2.x: string
	seq   int
	token string
}

func newGuestStation(t *testing.T, f fixture, id, proto string) *guestStation {
	f.srv.Station(t, f.op.ID, id, "")
	st, _, err := f.srv.Dial(t, id, servertest.DialOptions{Subprotocols: []string{proto}})
	if err != nil {
		t.Fatal(err)
	}
	g := &guestStation{t: t, st: st, proto: proto}
	if proto == "ocpp1.6" {
		st.Boot()
		st.CallOK("StatusNotification", `{"connectorId":1,"errorCode":"NoError","status":"Available"}`)
	} else {
		st.Boot2()
		st.CallOK("StatusNotification", `{"timestamp":"`+ts(time.Now())+`","connectorStatus":"Available","evseId":1,"connectorId":1}`)
	}
	return g
}

// acceptStart answers the remote start and starts the transaction.
func (g *guestStation) acceptStart(start time.Time) {
	if g.proto == "ocpp1.6" {
		call := g.st.ExpectCall("RemoteStartTransaction", 20*time.Second)
		var req struct {
			IDTag string `json:"idTag"`
		}
		_ = json.Unmarshal(call.Payload, &req)
		g.st.Reply(call, `{"status":"Accepted"}`)
		g.token = req.IDTag
		m := g.st.CallOK("StartTransaction", fmt.Sprintf(`{"connectorId":1,"idTag":%q,"meterStart":0,"timestamp":%q}`, g.token, ts(start)))
		g.tx = int(m["transactionId"].(float64))
		g.st.CallOK("StatusNotification", `{"connectorId":1,"errorCode":"NoError","status":"Charging"}`)
		return
	}
	call := g.st.ExpectCall("RequestStartTransaction", 20*time.Second)
	var req struct {
		IDToken struct {
			IDToken string `json:"idToken"`
		} `json:"idToken"`
		RemoteStartID int `json:"remoteStartId"`
	}
	_ = json.Unmarshal(call.Payload, &req)
	g.st.Reply(call, `{"status":"Accepted"}`)
	g.token, g.tx = req.IDToken.IDToken, fmt.Sprintf("TX-%d", time.Now().UnixNano())
	g.event("Started", "RemoteStart", start, 0, 0, fmt.Sprintf(`,"chargingState":"Charging","remoteStartId":%d`, req.RemoteStartID), true)
}

func (g *guestStation) event(typ, trigger string, at time.Time, wh, w int64, info string, token bool) {
	g.seq++
	p := fmt.Sprintf(`{"eventType":%q,"timestamp":%q,"triggerReason":%q,"seqNo":%d,"transactionInfo":{"transactionId":%q%s},"evse":{"id":1,"connectorId":1},
		"meterValue":[{"timestamp":%q,"sampledValue":[{"value":%d,"measurand":"Energy.Active.Import.Register","unitOfMeasure":{"unit":"Wh"}},
		{"value":%d,"measurand":"Power.Active.Import","unitOfMeasure":{"unit":"W"}}]}]`, typ, ts(at), trigger, g.seq, g.tx, info, ts(at), wh, w)
	if token {
		p += fmt.Sprintf(`,"idToken":{"idToken":%q,"type":"Central"}`, g.token)
	}
	g.st.CallOK("TransactionEvent", p+"}")
}

func (g *guestStation) meter(at time.Time, wh, w int64) {
	if g.proto == "ocpp1.6" {
		g.st.CallOK("MeterValues", fmt.Sprintf(`{"connectorId":1,"transactionId":%d,"meterValue":[{"timestamp":%q,"sampledValue":[`+
			`{"value":"%d","measurand":"Energy.Active.Import.Register","unit":"Wh"},{"value":"%d","measurand":"Power.Active.Import","unit":"W"}]}]}`,
			g.tx, ts(at), wh, w))
		return
	}
	g.event("Updated", "MeterValuePeriodic", at, wh, w, "", false)
}

func (g *guestStation) expectRemoteStop() {
	action := "RemoteStopTransaction"
	if g.proto != "ocpp1.6" {
		action = "RequestStopTransaction"
	}
	call := g.st.ExpectCall(action, 20*time.Second)
	g.st.Reply(call, `{"status":"Accepted"}`)
}

func (g *guestStation) stop(at time.Time, wh int64, reason string) {
	if g.proto == "ocpp1.6" {
		g.st.CallOK("StopTransaction", fmt.Sprintf(`{"transactionId":%d,"meterStop":%d,"timestamp":%q,"reason":%q}`, g.tx, wh, ts(at), reason))
		return
	}
	g.event("Ended", "EVCommunicationLost", at, wh, 0, fmt.Sprintf(`,"stoppedReason":%q`, reason), false)
}

// payOnHostedPage fills in the sandbox's card form.
func payOnHostedPage(t *testing.T, ctx context.Context, card string) {
	t.Helper()
	if err := chromedp.Run(ctx,
		chromedp.WaitVisible("#card_number", chromedp.ByQuery),
		chromedp.SendKeys("#card_number", card, chromedp.ByQuery),
		chromedp.SendKeys("#exp", "12/30", chromedp.ByQuery),
		chromedp.SendKeys("#cvc", "123", chromedp.ByQuery),
		chromedp.SendKeys("#name", "A Driver", chromedp.ByQuery),
	); err != nil {
		t.Fatal(err)
	}
}

func TestGuestJourneyInBrowser(t *testing.T) {
	for _, proto := range []string{"ocpp1.6", "ocpp2.0.1"} {
		t.Run(proto, func(t *testing.T) {
			f := setup(t, true)
			site := "Wynyard Car Park"
			ctx := browsertest.New(t)
			id := "CP-" + strings.ReplaceAll(proto, ".", "")
			g := newGuestStation(t, f, id, proto)
			_ = site
			shots := proto == "ocpp1.6"

			// Scan: the station page.
			if err := chromedp.Run(ctx, chromedp.Navigate(f.srv.URL+"/app/s/"+id+"/1")); err != nil {
				t.Fatal(err)
			}
			browsertest.WaitText(t, ctx, ".status", "Ready")
			browsertest.WaitText(t, ctx, ".price", "$0.55 per kWh")
			browsertest.WaitText(t, ctx, ".hold", "$40.00")
			if shots {
				browsertest.Screenshot(t, ctx, "1-station")
			}
			// A $20 budget and an email, then pay.
			if err := chromedp.Run(ctx,
				chromedp.Click(`input[name=budget][value=a2000]`, chromedp.ByQuery),
				chromedp.SendKeys("#email", "driver@example.com", chromedp.ByQuery),
				chromedp.Click(`form[action$="/pay"] button[type=submit]`, chromedp.ByQuery),
			); err != nil {
				t.Fatal(err)
			}
			payOnHostedPage(t, ctx, "4242 4242 4242 4242")
			if shots {
				browsertest.Screenshot(t, ctx, "2-hosted-payment-page")
			}
			// The hosted page sends the driver back to the session page.
			if err := chromedp.Run(ctx, chromedp.Click(`button[type=submit]`, chromedp.ByQuery)); err != nil {
				t.Fatal(err)
			}
			browsertest.WaitText(t, ctx, "#headline", "Plug in your car")
			if shots {
				browsertest.Screenshot(t, ctx, "3-plug-in")
			}

			// The station starts; the page follows live.
			start := time.Now().Add(-20 * time.Minute).Truncate(time.Second)
			g.acceptStart(start)
			g.meter(start.Add(10*time.Minute), 7400, 11000)
			browsertest.WaitText(t, ctx, "#headline", "Charging")
			browsertest.WaitText(t, ctx, "#energy", "7.40 kWh")
			browsertest.WaitText(t, ctx, "#power", "11.0 kW")
			browsertest.WaitText(t, ctx, "#cost", "$5.07") // 7.4 kWh × $0.55 + $1.00
			if shots {
				browsertest.Screenshot(t, ctx, "4-charging")
			}

			// Stop from the app.
			if err := chromedp.Run(ctx, chromedp.Click("#stop", chromedp.ByQuery)); err != nil {
				t.Fatal(err)
			}
			g.expectRemoteStop()
			g.stop(start.Add(20*time.Minute), 10000, "Remote")
			browsertest.WaitText(t, ctx, "#headline", "Charging complete")
			browsertest.WaitText(t, ctx, "#cost", "$6.50") // 10 kWh × $0.55 + $1.00
			if shots {
				browsertest.Screenshot(t, ctx, "5-complete")
			}
			if err := chromedp.Run(ctx, chromedp.Click("#receipt-link", chromedp.ByQuery, chromedp.NodeVisible)); err != nil {
				t.Fatal(err)
			}
			browsertest.WaitText(t, ctx, "body", "Total price includes GST")
			if shots {
				browsertest.Screenshot(t, ctx, "6-receipt")
			}
		})
	}
}

// TestStationEndsSessionInBrowser: the driver unplugs; the page says the
// session ended and shows the final price.
func TestStationEndsSessionInBrowser(t *testing.T) {
	f := setup(t, true)
	ctx := browsertest.New(t)
	g := newGuestStation(t, f, "CP-UNPLUG", "ocpp1.6")
	if err := chromedp.Run(ctx,
		chromedp.Navigate(f.srv.URL+"/app/s/CP-UNPLUG/1"),
		chromedp.Click(`form[action$="/pay"] button[type=submit]`, chromedp.ByQuery, chromedp.NodeVisible),
	); err != nil {
		t.Fatal(err)
	}
	payOnHostedPage(t, ctx, "4242424242424242")
	if err := chromedp.Run(ctx, chromedp.Click(`button[type=submit]`, chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(-time.Hour)
	g.acceptStart(start)
	browsertest.WaitText(t, ctx, "#headline", "Charging")
	g.stop(start.Add(time.Hour), 20000, "EVDisconnected")
	browsertest.WaitText(t, ctx, "#headline", "Charging complete")
	browsertest.WaitText(t, ctx, "#cost", "$12.00")
	browsertest.WaitText(t, ctx, "#message", "the rest of the hold is released")
}

// TestDeclinedCardInBrowser: a declined card: the hosted page says so, and
// the session page says nothing was charged; no station is asked to start.
func TestDeclinedCardInBrowser(t *testing.T) {
	f := setup(t, true)
	ctx := browsertest.New(t)
	newGuestStation(t, f, "CP-DECLINE", "ocpp1.6")
	if err := chromedp.Run(ctx,
		chromedp.Navigate(f.srv.URL+"/app/s/CP-DECLINE/1"),
		chromedp.Click(`form[action$="/pay"] button[type=submit]`, chromedp.ByQuery, chromedp.NodeVisible),
	); err != nil {
		t.Fatal(err)
	}
	payOnHostedPage(t, ctx, "4000 0000 0000 0002")
	if err := chromedp.Run(ctx, chromedp.Click(`button[type=submit]`, chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitText(t, ctx, "body", "declined")
	browsertest.Screenshot(t, ctx, "7-declined")
	ps, _ := f.srv.Store.ListSessionPayments(context.Background(), store.SessionPaymentFilter{})
	if len(ps) != 1 || ps[0].State != string(sessionbilling.StateQuote) || ps[0].DeclineCode == "" {
		t.Fatalf("payments: %+v", ps)
	}
}

// TestStationNeverStartsInBrowser: paid, the station accepts but never
// starts: the page says the hold was released.
func TestStationNeverStartsInBrowser(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{Billing: sessionbilling.Config{StartTimeout: 2 * time.Second, SweepInterval: 200 * time.Millisecond}})
	f := fixture{srv: srv, op: srv.Operator(t, "Acme Parking")}
	assignTariff(t, f)
	ctx := browsertest.New(t)
	g := newGuestStation(t, f, "CP-NOSTART", "ocpp1.6")
	if err := chromedp.Run(ctx,
		chromedp.Navigate(f.srv.URL+"/app/s/CP-NOSTART/1"),
		chromedp.Click(`form[action$="/pay"] button[type=submit]`, chromedp.ByQuery, chromedp.NodeVisible),
	); err != nil {
		t.Fatal(err)
	}
	payOnHostedPage(t, ctx, "4242424242424242")
	if err := chromedp.Run(ctx, chromedp.Click(`button[type=submit]`, chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	call := g.st.ExpectCall("RemoteStartTransaction", 20*time.Second)
	g.st.Reply(call, `{"status":"Accepted"}`)
	browsertest.WaitText(t, ctx, "#headline", "Nothing charged")
	browsertest.WaitText(t, ctx, "#message", "did not start")
	browsertest.Screenshot(t, ctx, "8-did-not-start")
}

// TestAccountWalletCardInBrowser: a driver signs in with an emailed code,
// tops up the wallet on the hosted page, adds a NextCharge card, charges
// with it at a station (the wallet pays the price), sees the session and
// its receipt in the history, and blocks the card.
func TestAccountWalletCardInBrowser(t *testing.T) {
	mailer := &mail.LogMailer{}
	srv := servertest.Start(t, servertest.Options{Billing: sessionbilling.Config{Mailer: mailer}})
	f := fixture{srv: srv, op: srv.Operator(t, "Acme Parking")}
	assignTariff(t, f)
	ctx := browsertest.New(t)
	g := newGuestStation(t, f, "CP-RFID", "ocpp1.6")

	if err := chromedp.Run(ctx,
		chromedp.Navigate(f.srv.URL+"/app/account"),
		chromedp.SendKeys("#email", "driver@example.com", chromedp.ByQuery, chromedp.NodeVisible),
		chromedp.Click(`form[action$="/sign-in"] button`, chromedp.ByQuery),
		chromedp.WaitVisible("#code", chromedp.ByQuery),
	); err != nil {
		t.Fatal(err)
	}
	sent := mailer.Sent()
	if len(sent) != 1 || !strings.HasPrefix(sent[0].Subject, "Your NextCharge code: ") {
		t.Fatalf("sign-in email: %+v", sent)
	}
	code := strings.TrimPrefix(sent[0].Subject, "Your NextCharge code: ")
	if err := chromedp.Run(ctx,
		chromedp.SendKeys("#code", code, chromedp.ByQuery),
		chromedp.Click(`form[action$="/verify"] button`, chromedp.ByQuery),
	); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitText(t, ctx, "main", "You are signed in")
	browsertest.WaitText(t, ctx, "#balance", "$0.00")

	// Top up $50 on the hosted page.
	if err := chromedp.Run(ctx, chromedp.Click(`form[action$="/top-up"] button`, chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	payOnHostedPage(t, ctx, "4242 4242 4242 4242")
	if err := chromedp.Run(ctx, chromedp.Click(`button[type=submit]`, chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitText(t, ctx, "main", "top-up")
	deadline := time.Now().Add(20 * time.Second)
	for {
		var bal string
		_ = chromedp.Run(ctx, chromedp.Navigate(f.srv.URL+"/app/account"), chromedp.Text("#balance", &bal, chromedp.ByQuery))
		if bal == "$50.00" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("balance after the top-up: %q", bal)
		}
		time.Sleep(300 * time.Millisecond)
	}

	// Add a card and charge with it.
	if err := chromedp.Run(ctx,
		chromedp.SendKeys("#id_token", "04aabbcc", chromedp.ByQuery),
		chromedp.Click(`form[action$="/cards"] button`, chromedp.ByQuery),
	); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitText(t, ctx, ".cards", "04AABBCC")
	if m := g.st.CallOK("Authorize", `{"idTag":"04AABBCC"}`); m["idTagInfo"].(map[string]any)["status"] != "Accepted" {
		t.Fatalf("authorize: %v", m)
	}
	start := time.Now().Add(-time.Hour)
	m := g.st.CallOK("StartTransaction", fmt.Sprintf(`{"connectorId":1,"idTag":"04AABBCC","meterStart":0,"timestamp":%q}`, ts(start)))
	g.tx = int(m["transactionId"].(float64))
	g.stop(start.Add(time.Hour), 20000, "EVDisconnected")
	deadline = time.Now().Add(20 * time.Second)
	for {
		// "main": the history list exists only once there is a session.
		var hist string
		_ = chromedp.Run(ctx, chromedp.Navigate(f.srv.URL+"/app/account"), chromedp.Text("main", &hist, chromedp.ByQuery))
		if strings.Contains(hist, "$12.00") && strings.Contains(hist, "receipt") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("history: %q", hist)
		}
		time.Sleep(300 * time.Millisecond)
	}
	browsertest.WaitText(t, ctx, "#balance", "$38.00")
	browsertest.Screenshot(t, ctx, "9-account")

	// A lost card is blocked.
	if err := chromedp.Run(ctx, chromedp.Click(`form[action$="/cards/block"] button`, chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitText(t, ctx, ".cards", "blocked")
	if m := g.st.CallOK("Authorize", `{"idTag":"04AABBCC"}`); m["idTagInfo"].(map[string]any)["status"] != "Blocked" {
		t.Fatalf("authorize a blocked card: %v", m)
	}
}
