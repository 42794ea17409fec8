package console_test

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/chargestar/chargestar/internal/browsertest"
	"github.com/chargestar/chargestar/internal/servertest"
)

// openStation signs u in with a browser of its own and opens the station page.
func (f *fixture) openStation(t *testing.T, u user, stationID string) context.Context {
	t.Helper()
	ctx := browsertest.NewDesktop(t)
	f.signIn(t, ctx, u)
	if err := chromedp.Run(ctx, chromedp.Navigate(f.srv.URL+"/console/stations/"+stationID)); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitText(t, ctx, "#station-id", stationID)
	browsertest.WaitText(t, ctx, "#station-connected", "Connected")
	browsertest.WaitText(t, ctx, "#live-text", "Live")
	return ctx
}

// clickReset picks the reset type and presses Reset; the simulated
// station must receive the Reset CALL, and the page shows its answer.
func clickReset(t *testing.T, ctx context.Context, st *servertest.Station, typ, wantOCPPType, answer string) {
	t.Helper()
	var ok bool
	liveEval(t, ctx, `(() => { document.querySelector("#cmd-reset-type").value = "`+typ+`"; return true })()`, &ok)
	tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := chromedp.Run(tctx, chromedp.Click("#cmd-reset button[type=submit]", chromedp.ByQuery, chromedp.NodeVisible)); err != nil {
		t.Fatalf("clicking Reset: %v", err)
	}
	call := st.ExpectCall("Reset", 10*time.Second)
	if got := string(call.Payload); got != `{"type":"`+wantOCPPType+`"}` {
		t.Errorf("Reset payload %s, want type %s", got, wantOCPPType)
	}
	st.Reply(call, `{"status":"`+answer+`"}`)
	browsertest.WaitText(t, ctx, "#cmd-reset .cmd-result", answer)
}

func TestRemoteResetFromStationPage(t *testing.T) {
	f := newFixture(t)
	st := f.liveStation(t, f.token, "CS-1", 2)

	// The owner resets the station from its page.
	ctx := f.openStation(t, f.owner, "CS-1")
	browsertest.WaitText(t, ctx, `#connectors tr[data-connector="2"] .status`, "Available")
	clickReset(t, ctx, st, "soft", "Soft", "Accepted")
	browsertest.WaitText(t, ctx, "#cmd-reset .cmd-result", "sent as Reset")
	// The connectors follow the station live on this page too.
	st.CallOK("StatusNotification", liveStatus(2, "Charging", "NoError"))
	browsertest.WaitText(t, ctx, `#connectors tr[data-connector="2"] .status`, "Charging")
	// The message log shows the exchange.
	browsertest.WaitText(t, ctx, "#log", "BootNotification")
	browsertest.Screenshot(t, ctx, "console-station")

	// An error answer is shown as such: the station goes away, 409.
	// (Checked with the advanced form: any action with a JSON payload.)
	var ok bool
	liveEval(t, ctx, `(() => { const f = document.querySelector("#cmd-advanced");
		f.elements.action.value = "Reset"; f.elements.payload.value = '{"type":"Sideways"}'; return true })()`, &ok)
	if err := chromedp.Run(ctx, chromedp.Click("#cmd-advanced button[type=submit]", chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitText(t, ctx, "#cmd-advanced .cmd-result", "400")

	// A technician may operate stations too.
	tech := f.user(t, f.op.ID, "technician")
	tctx := f.openStation(t, tech, "CS-1")
	clickReset(t, tctx, st, "hard", "Hard", "Rejected")

	// Finance sees the station but no controls, and the API refuses the
	// command if forced.
	fin := f.user(t, f.op.ID, "finance")
	fctx := f.openStation(t, fin, "CS-1")
	var controls int
	liveEval(t, fctx, `document.querySelectorAll("#remote, #cmd-reset, #config-read").length +
		(document.querySelector("#config-read") && !document.querySelector("#config-read").hidden ? 1 : 0)`, &controls)
	if controls != 1 { // #config-read is in the page, hidden
		t.Errorf("finance sees %d remote controls", controls-1)
	}
	var status int
	liveEval(t, fctx, `fetch("/api/v1/stations/CS-1/commands/reset", {method: "POST", credentials: "same-origin",
		headers: {"Content-Type": "application/json", "X-CSRF-Token": CS.csrf}, body: "{}"}).then(r => r.status)`, &status)
	if status != 403 {
		t.Errorf("finance forcing a reset through the API: %d, want 403", status)
	}
	// Nothing reached the station: the next CALL it gets is the owner's.
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.srv.APIWithToken(t, f.token, "POST", "/api/v1/stations/CS-1/commands/clear-cache", "{}")
	}()
	st.Reply(st.ExpectCall("ClearCache", 10*time.Second), `{"status":"Accepted"}`)
	<-done
}

func TestStationPageSpeaksOCPP2ToA2xStation(t *testing.T) {
	f := newFixture(t)
	f.mustJSON(t, f.token, "POST", "/api/v1/stations", `{"id":"CS-2X"}`, 201, nil)
	st, _, err := f.srv.Dial(t, "CS-2X", servertest.DialOptions{Subprotocols: []string{"ocpp2.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	st.Boot2()
	st.CallOK("StatusNotification", `{"timestamp":"`+time.Now().UTC().Format(time.RFC3339)+`","connectorStatus":"Available","evseId":1,"connectorId":1}`)

	ctx := f.openStation(t, f.owner, "CS-2X")
	browsertest.WaitText(t, ctx, "#remote-note", "ocpp2.0.1")
	browsertest.WaitText(t, ctx, "#config-note", "GetBaseReport") // the device model, not GetConfiguration
	browsertest.WaitText(t, ctx, "#cmd-base-report h3", "Get base report")
	// The version-neutral reset is sent as 2.x Reset.
	clickReset(t, ctx, st, "hard", "Immediate", "Accepted")
}
