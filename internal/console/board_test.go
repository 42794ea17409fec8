package console_test

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/chargestar/chargestar/internal/browsertest"
	"github.com/chargestar/chargestar/internal/servertest"
)

// liveStation registers a station of the operator whose API token is given,
// connects a simulated one, boots it and reports its connectors
// Available.
func (f *fixture) liveStation(t *testing.T, token, id string, connectors int) *servertest.Station {
	t.Helper()
	f.mustJSON(t, token, "POST", "/api/v1/stations", `{"id":"`+id+`"}`, 201, nil)
	st := f.srv.Connect(t, id)
	st.Boot()
	for c := 1; c <= connectors; c++ {
		st.CallOK("StatusNotification", liveStatus(c, "Available", "NoError"))
	}
	return st
}

func liveStatus(connector int, status, errorCode string) string {
	return `{"connectorId":` + strconv.Itoa(connector) + `,"status":"` + status + `","errorCode":"` + errorCode + `","timestamp":"` +
		time.Now().UTC().Format(time.RFC3339) + `"}`
}

// liveOperator creates another operator with an API token and an owner.
func (f *fixture) liveOperator(t *testing.T, name string) (opID, token string, owner user) {
	t.Helper()
	var op struct{ ID string }
	f.mustJSON(t, servertest.AdminToken, "POST", "/api/v1/operators", `{"name":"`+name+`","currency":"AUD","country":"AU"}`, 201, &op)
	var tok struct{ Token string }
	f.mustJSON(t, servertest.AdminToken, "POST", "/api/v1/operators/"+op.ID+"/tokens", `{"name":"tests"}`, 201, &tok)
	return op.ID, tok.Token, f.user(t, op.ID, "owner")
}

// liveEval runs a JavaScript expression in the page (bounded).
func liveEval(t *testing.T, ctx context.Context, js string, out any) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := chromedp.Run(tctx, chromedp.Evaluate(js, out, func(p *runtime.EvaluateParams) *runtime.EvaluateParams {
		return p.WithAwaitPromise(true)
	})); err != nil {
		t.Fatalf("evaluating %s: %v", js, err)
	}
}

func TestLiveBoardUpdatesWhenAStationChangesState(t *testing.T) {
	f := newFixture(t)
	cs1 := f.liveStation(t, f.token, "CS-1", 2)
	f.mustJSON(t, f.token, "POST", "/api/v1/stations", `{"id":"CS-OFF"}`, 201, nil) // registered, never connected
	_, otherToken, otherOwner := f.liveOperator(t, "Harbourside EV")
	other := f.liveStation(t, otherToken, "OTHER-1", 1)

	ctx := browsertest.NewDesktop(t)
	f.signIn(t, ctx, f.owner) // lands on the board
	browsertest.WaitText(t, ctx, "#live-text", "Live")
	browsertest.WaitText(t, ctx, `#board tr[data-station="CS-1"] .state`, "Online")
	browsertest.WaitText(t, ctx, `#board tr[data-station="CS-OFF"] .state`, "Offline")
	browsertest.WaitText(t, ctx, "#count-online", "1")
	browsertest.WaitText(t, ctx, "#count-offline", "1")
	browsertest.WaitText(t, ctx, "#count-available", "2")
	// A mark on the page: gone if the page were reloaded.
	var ok bool
	liveEval(t, ctx, `window.notReloaded = true`, &ok)

	cs1.CallOK("StatusNotification", liveStatus(1, "Charging", "NoError"))
	browsertest.WaitText(t, ctx, `#board tr[data-station="CS-1"] [data-connector="1"]`, "Charging")
	browsertest.WaitText(t, ctx, "#count-charging", "1")
	cs1.CallOK("StatusNotification", liveStatus(1, "Faulted", "GroundFailure"))
	browsertest.WaitText(t, ctx, `#board tr[data-station="CS-1"] [data-connector="1"]`, "Faulted")
	browsertest.WaitText(t, ctx, `#board tr[data-station="CS-1"] [data-connector="1"]`, "GroundFailure")
	browsertest.WaitText(t, ctx, "#count-faulted", "1")
	browsertest.WaitText(t, ctx, "#count-charging", "0")
	liveEval(t, ctx, `window.notReloaded === true`, &ok)
	if !ok {
		t.Fatal("the board reloaded the page to show the change")
	}

	// The other operator's station changes too; this board never shows it.
	other.CallOK("StatusNotification", liveStatus(1, "Faulted", "OtherError"))
	cs1.CallOK("StatusNotification", liveStatus(2, "Unavailable", "NoError"))
	browsertest.WaitText(t, ctx, `#board tr[data-station="CS-1"] [data-connector="2"]`, "Unavailable")

	// Filters: status (Offline, Faulted) and the id search.
	setFilter := func(status string) {
		t.Helper()
		var done bool
		liveEval(t, ctx, `(() => { const s = document.querySelector("#filter-status"); s.value = "`+status+`"; s.dispatchEvent(new Event("change")); return true })()`, &done)
	}
	setFilter("Faulted")
	browsertest.WaitText(t, ctx, "#board-shown", "1 of 2 stations")
	setFilter("Offline")
	var visible []string
	liveEval(t, ctx, `Array.from(document.querySelectorAll("#board tbody tr")).filter(r => !r.hidden).map(r => r.dataset.station)`, &visible)
	if strings.Join(visible, ",") != "CS-OFF" {
		t.Errorf("Offline filter shows %v", visible)
	}
	setFilter("")
	browsertest.WaitText(t, ctx, "#board-shown", "2 of 2 stations")
	browsertest.Screenshot(t, ctx, "console-board")
	var body string
	if err := chromedp.Run(ctx, chromedp.Text("body", &body, chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(body, "OTHER-1") {
		t.Error("the first operator's board shows the other operator's station")
	}

	// The other operator's owner sees its station, none of the first's.
	ctx2 := browsertest.NewDesktop(t)
	f.signIn(t, ctx2, otherOwner)
	browsertest.WaitText(t, ctx2, "#live-text", "Live")
	browsertest.WaitText(t, ctx2, `#board tr[data-station="OTHER-1"] [data-connector="1"]`, "Faulted")
	cs1.CallOK("StatusNotification", liveStatus(2, "Available", "NoError"))
	other.CallOK("StatusNotification", liveStatus(1, "Available", "NoError"))
	browsertest.WaitText(t, ctx2, `#board tr[data-station="OTHER-1"] [data-connector="1"]`, "Available")
	browsertest.WaitText(t, ctx, `#board tr[data-station="CS-1"] [data-connector="2"]`, "Available")
	if err := chromedp.Run(ctx2, chromedp.Text("body", &body, chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"CS-1", "CS-OFF"} {
		if strings.Contains(body, id) {
			t.Errorf("the other operator's board shows %s", id)
		}
	}
}

func TestLiveStreamsEndWhenTheServerShutsDown(t *testing.T) {
	f := newFixture(t)
	req, _ := http.NewRequest("GET", f.srv.URL+"/api/v1/board/events", nil)
	req.Header.Set("Authorization", "Bearer "+f.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	ended := make(chan struct{})
	go func() { io.Copy(io.Discard, resp.Body); close(ended) }()
	start := time.Now()
	f.srv.Stop(t) // a stream never goes idle: shutdown must end it, not wait for it
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("shutdown took %v with a live stream open", d)
	}
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		t.Error("the stream did not end at shutdown")
	}
}
