package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/chargestar/chargestar/internal/browsertest"
)

var (
	consoleLine = regexp.MustCompile(`Console\s+(\S+)`)
	signInLines = regexp.MustCompile(`as (\S+@\S+) / (\S+)`)
	opTokenLine = regexp.MustCompile(`Operator token\s+(\S+)`)
)

// TestDemoOperatorJourneyInConsole is the operator console's "done when":
// an operator, as a new user would, signs in to `chargestar demo`, sees
// the demo stations live, resets one, changes a price and downloads a
// revenue report whose totals match the sessions; and a second operator,
// signed in to the same demo, sees none of it.
func TestDemoOperatorJourneyInConsole(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole demo")
	}
	// Short sessions, so paid ones are captured while the test runs.
	banner := runDemo(t, "--stations", "3", "--meter-interval", "2s", "--session-duration", "8s", "--idle", "3s")
	consoleURL := consoleLine.FindStringSubmatch(banner)[1]
	base := strings.TrimSuffix(consoleURL, "/console/")
	logins := signInLines.FindAllStringSubmatch(banner, -1)
	if len(logins) != 2 {
		t.Fatalf("want two console sign-ins in the banner:\n%s", banner)
	}
	owner, other := logins[0], logins[1]
	opToken := opTokenLine.FindStringSubmatch(banner)[1]

	b := browsertest.NewDesktop(t)
	signIn := func(email, password string) {
		t.Helper()
		if err := chromedp.Run(b,
			chromedp.Navigate(consoleURL),
			chromedp.WaitVisible("#email", chromedp.ByQuery),
			chromedp.SendKeys("#email", email, chromedp.ByQuery),
			chromedp.SendKeys("#password", password, chromedp.ByQuery),
			chromedp.Click("#sign-in", chromedp.ByQuery),
		); err != nil {
			t.Fatalf("signing in as %s: %v", email, err)
		}
		browsertest.WaitText(t, b, "#user-role", "owner")
	}
	count := func(sel string) int {
		var s string
		tctx, cancel := context.WithTimeout(b, 2*time.Second)
		defer cancel()
		_ = chromedp.Run(tctx, chromedp.Text(sel, &s, chromedp.ByQuery, chromedp.NodeReady))
		n, _ := strconv.Atoi(strings.TrimSpace(s))
		return n
	}
	eventually := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(60 * time.Second); !ok(); time.Sleep(300 * time.Millisecond) {
			if time.Now().After(deadline) {
				var loc, body string
				_ = chromedp.Run(b, chromedp.Location(&loc), chromedp.Text("main", &body, chromedp.ByQuery))
				t.Fatalf("%s: not reached at %s:\n%s", what, loc, body)
			}
		}
	}

	// 1. The owner of "Demo Car Parks" signs in and sees the stations live.
	signIn(owner[1], owner[2])
	browsertest.WaitText(t, b, "#operator-name", "Demo Car Parks")
	for _, id := range []string{"DEMO00001", "DEMO00002", "DEMO00003"} {
		browsertest.WaitText(t, b, "#board", id)
	}
	eventually("all three stations online on the board", func() bool { return count("#count-online") == 3 })
	// Sessions start and stop every few seconds; the board follows them
	// without a reload: connectors charging now, and later some not.
	eventually("a connector charging", func() bool { return count("#count-charging") > 0 })
	before := count("#count-charging")
	eventually("the board changing on its own", func() bool { return count("#count-charging") != before })
	browsertest.Screenshot(t, b, "console-demo-board")

	// 2. Reset a station from its page; the station's answer is shown.
	if err := chromedp.Run(b, chromedp.Navigate(base+"/console/stations/DEMO00002")); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitText(t, b, "#station-id", "DEMO00002")
	if err := chromedp.Run(b,
		chromedp.WaitVisible("#cmd-reset", chromedp.ByQuery),
		chromedp.Click(`#cmd-reset button[type=submit]`, chromedp.ByQuery),
	); err != nil {
		t.Fatal(err)
	}
	// A 2.0.1 station that is charging schedules the reset for when its
	// sessions end; an idle one resets at once.
	browsertest.WaitText(t, b, "#cmd-reset .cmd-result", "sent as Reset")
	var answer string
	if err := chromedp.Run(b, chromedp.Text("#cmd-reset .cmd-result", &answer, chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(answer, `"status": "Accepted"`) && !strings.Contains(answer, `"status": "Scheduled"`) {
		t.Fatalf("the station's answer to Reset: %s", answer)
	}

	// 3. Change the energy price of the demo tariff (55c → 60c per kWh).
	if err := chromedp.Run(b, chromedp.Navigate(base+"/console/tariffs")); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitText(t, b, "#tariff-list", "$0.55 per kWh")
	if err := chromedp.Run(b,
		chromedp.Click(`button[data-edit]`, chromedp.ByQuery),
		chromedp.WaitVisible("#t-energy", chromedp.ByQuery),
		chromedp.Focus("#t-energy", chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelector("#t-energy").select()`, nil),
		chromedp.SendKeys("#t-energy", "0.60", chromedp.ByQuery),
	); err != nil {
		t.Fatal(err)
	}
	// 40 kWh × $0.60 + the $1.00 session fee.
	browsertest.WaitText(t, b, "#preview-items", "a 40 kWh, 1 h session costs $25.00")
	if err := chromedp.Run(b, chromedp.Click("#t-save", chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitText(t, b, "#flash", "Saved")
	if _, body := apiGet(t, opToken, base+"/api/v1/stations/DEMO00001/tariff"); !strings.Contains(body, "$0.60 per kWh") {
		t.Fatalf("the station's tariff after the change: %s", body)
	}

	// 4. The revenue report: its CSV export's totals equal the captured
	// sessions. Sessions keep settling, so the comparison is taken when
	// the session list is the same before and after the export.
	if err := chromedp.Run(b, chromedp.Navigate(base+"/console/reports")); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitText(t, b, `[data-kpi="gross"] b`, "$")
	var exportPath string
	if err := chromedp.Run(b, chromedp.Evaluate(`document.querySelector("#export-csv").dataset.path`, &exportPath)); err != nil || !strings.Contains(exportPath, "format=csv") {
		t.Fatalf("export path %q (%v)", exportPath, err)
	}
	matched := false
	for attempt := 0; attempt < 30 && !matched; attempt++ {
		sessions1, gross1 := capturedSessions(t, opToken, base)
		var csvText string
		if err := chromedp.Run(b, chromedp.Evaluate(`fetch("/api/v1`+exportPath+`", {headers: {Accept: "text/csv"}}).then(r => r.text())`, &csvText,
			func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) })); err != nil {
			t.Fatal(err)
		}
		sessions2, gross2 := capturedSessions(t, opToken, base)
		if sessions1 != sessions2 || sessions1 == 0 {
			time.Sleep(time.Second)
			continue
		}
		n, gross := csvTotals(t, csvText)
		if n != sessions1 || gross != gross1 || gross1 != gross2 {
			t.Fatalf("the revenue CSV says %d sessions, %d cents; the captured sessions are %d, %d cents:\n%s", n, gross, sessions1, gross1, csvText)
		}
		matched = true
	}
	if !matched {
		t.Fatal("no quiet moment to compare the revenue report with the sessions")
	}
	browsertest.Screenshot(t, b, "console-demo-reports")

	// 5. The second operator signs in to the same demo and sees none of it.
	if err := chromedp.Run(b, chromedp.Click("#sign-out", chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitText(t, b, "main", "Sign in")
	signIn(other[1], other[2])
	browsertest.WaitText(t, b, "#operator-name", "Harbourside EV")
	browsertest.WaitText(t, b, "#board", "HARBOUR-01")
	var boardText string
	if err := chromedp.Run(b, chromedp.Text("#board", &boardText, chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(boardText, "DEMO") {
		t.Fatalf("the other operator's board shows the demo stations:\n%s", boardText)
	}
	var status int
	if err := chromedp.Run(b, chromedp.Evaluate(`fetch("/api/v1/stations/DEMO00001").then(r => r.status)`, &status,
		func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) })); err != nil {
		t.Fatal(err)
	}
	if status != http.StatusNotFound {
		t.Fatalf("the other operator's console session reads DEMO00001: %d", status)
	}
	var otherCSV string
	if err := chromedp.Run(b, chromedp.Evaluate(`fetch("/api/v1`+exportPath+`", {headers: {Accept: "text/csv"}}).then(r => r.text())`, &otherCSV,
		func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) })); err != nil {
		t.Fatal(err)
	}
	if n, gross := csvTotals(t, otherCSV); n != 0 || gross != 0 {
		t.Fatalf("the other operator's revenue report shows %d sessions, %d cents", n, gross)
	}
	if err := chromedp.Run(b, chromedp.Navigate(base+"/console/stations/DEMO00001")); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitText(t, b, "#station-missing", "")
	var missingHidden bool
	if err := chromedp.Run(b, chromedp.Evaluate(`document.querySelector("#station-missing").hidden`, &missingHidden)); err != nil || missingHidden {
		t.Fatalf("the other operator's station page for DEMO00001 does not say it is missing (%v)", err)
	}
}

func apiGet(t *testing.T, token, url string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// capturedSessions counts the operator's completed sessions whose payment
// was captured, and sums what they cost.
func capturedSessions(t *testing.T, token, base string) (n int, gross int64) {
	t.Helper()
	cursor := ""
	for {
		status, body := apiGet(t, token, base+"/api/v1/sessions?status=completed&limit=500&cursor="+cursor)
		if status != 200 {
			t.Fatalf("sessions: %d %s", status, body)
		}
		var page struct {
			Items []struct {
				PaymentStatus string `json:"payment_status"`
				AmountTotal   *int64 `json:"amount_total"`
			} `json:"items"`
			NextCursor string `json:"next_cursor"`
		}
		if err := json.Unmarshal([]byte(body), &page); err != nil {
			t.Fatal(err)
		}
		for _, s := range page.Items {
			if s.PaymentStatus == "captured" && s.AmountTotal != nil {
				n++
				gross += *s.AmountTotal
			}
		}
		if page.NextCursor == "" {
			return n, gross
		}
		cursor = page.NextCursor
	}
}

// csvTotals sums the sessions and gross columns of a revenue CSV's period
// rows (a totals row, if any, is not counted twice).
func csvTotals(t *testing.T, text string) (sessions int, gross int64) {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(text)).ReadAll()
	if err != nil || len(rows) == 0 {
		t.Fatalf("revenue CSV: %v\n%s", err, text)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	si, ok1 := col["sessions"]
	gi, ok2 := col["gross"]
	if !ok1 || !ok2 {
		t.Fatalf("revenue CSV header %v lacks sessions or gross", rows[0])
	}
	for _, r := range rows[1:] {
		if strings.EqualFold(r[0], "total") || strings.EqualFold(r[0], "totals") {
			continue
		}
		n, _ := strconv.Atoi(r[si])
		g, err := parseCents(r[gi])
		if err != nil {
			t.Fatalf("gross %q: %v", r[gi], err)
		}
		sessions += n
		gross += g
	}
	return sessions, gross
}

// parseCents reads a CSV money cell: integer cents, or a decimal amount.
func parseCents(s string) (int64, error) {
	if !strings.Contains(s, ".") {
		return strconv.ParseInt(s, 10, 64)
	}
	whole, frac, _ := strings.Cut(s, ".")
	frac = (frac + "00")[:2]
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, err
	}
	f, err := strconv.ParseInt(frac, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q: %w", s, err)
	}
	return w*100 + f, nil
}
