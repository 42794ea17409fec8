package console_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/chargestar/chargestar/internal/browsertest"
	"github.com/chargestar/chargestar/internal/model"
	"github.com/chargestar/chargestar/internal/store"
)

func TestAlertsPageShowsOpenAlert(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	st := f.srv.Store
	f.mustJSON(t, f.token, "POST", "/api/v1/stations", `{"id":"CP-ALR-1"}`, 201, nil)
	// The condition, so the alerts worker keeps the alert open: connector 1 faulted.
	if err := st.RecordStatus(ctx, model.StatusEvent{StationID: "CP-ALR-1", ConnectorID: 1, Status: "Faulted", ErrorCode: "GroundFailure"}); err != nil {
		t.Fatal(err)
	}
	one := 1
	open, _, err := st.OpenAlert(ctx, store.Alert{OperatorID: f.op.ID, Kind: "faulted", Subject: "CP-ALR-1/1", StationID: "CP-ALR-1",
		ConnectorID: &one, Message: "Connector 1 of station CP-ALR-1 is faulted (GroundFailure).", OpenedAt: time.Now().Add(-95 * time.Minute)}, "")
	if err != nil {
		t.Fatal(err)
	}
	// And one from the past, resolved.
	old, _, err := st.OpenAlert(ctx, store.Alert{OperatorID: f.op.ID, Kind: "payment_stuck", Subject: "pay_old", StationID: "CP-ALR-1",
		PaymentID: "pay_old", Message: "Payment pay_old at station CP-ALR-1 was stuck.", OpenedAt: time.Now().Add(-48 * time.Hour)}, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.ResolveAlert(ctx, f.op.ID, old.ID, time.Now().Add(-47*time.Hour), ""); err != nil {
		t.Fatal(err)
	}
	// Another operator's alert is not shown.
	other, err := st.CreateOperator(ctx, model.Operator{Name: "Other Parking", Currency: "AUD", Country: "AU"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.OpenAlert(ctx, store.Alert{OperatorID: other.ID, Kind: "offline", Subject: "CP-OTHER", StationID: "CP-OTHER",
		Message: "Station CP-OTHER is offline."}, ""); err != nil {
		t.Fatal(err)
	}

	tech := f.user(t, f.op.ID, "technician")
	bctx := browsertest.NewDesktop(t)
	f.signIn(t, bctx, tech)
	run(t, bctx, "opening the alerts page", chromedp.Navigate(f.srv.URL+"/console/alerts"))
	browsertest.WaitText(t, bctx, "#open-count", "1 open")
	browsertest.WaitText(t, bctx, "#nav-alert-count", "1") // every page's navigation shows the count
	row := `#open-table tr[data-alert="` + open.ID + `"]`
	browsertest.WaitText(t, bctx, row, "Faulted")
	browsertest.WaitText(t, bctx, row, "GroundFailure")
	browsertest.WaitText(t, bctx, row, "1 h 35 min")
	browsertest.WaitText(t, bctx, `#resolved-table tr[data-alert="`+old.ID+`"]`, "Payment stuck")
	var href string
	var ok bool
	run(t, bctx, "reading the station link", chromedp.AttributeValue(row+" a", "href", &href, &ok, chromedp.ByQuery))
	if href != "/console/stations/CP-ALR-1" {
		t.Errorf("station link %q", href)
	}
	var text string
	run(t, bctx, "reading the page", chromedp.Text("#main", &text, chromedp.ByQuery))
	if strings.Contains(text, "CP-OTHER") {
		t.Error("another operator's alert is shown")
	}

	// A finance user sees the alerts but cannot acknowledge.
	fin := f.user(t, f.op.ID, "finance")
	fctx := browsertest.NewDesktop(t)
	f.signIn(t, fctx, fin)
	run(t, fctx, "opening the alerts page", chromedp.Navigate(f.srv.URL+"/console/alerts"))
	browsertest.WaitText(t, fctx, row, "not yet")
	var buttons int
	run(t, fctx, "counting buttons", chromedp.Evaluate(`document.querySelectorAll("#open-table button").length`, &buttons))
	if buttons != 0 {
		t.Errorf("a finance user sees %d acknowledge buttons", buttons)
	}

	run(t, bctx, "acknowledging", chromedp.Click(row+" button.ack", chromedp.ByQuery))
	browsertest.WaitText(t, bctx, "#flash", "acknowledged")
	browsertest.WaitText(t, bctx, row, tech.Email)
	got, err := st.GetAlert(ctx, f.op.ID, open.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.AcknowledgedAt == nil || got.AcknowledgedBy != tech.Email || got.ResolvedAt != nil {
		t.Fatalf("the alert after acknowledging: %+v", got)
	}
	browsertest.WaitText(t, bctx, "#open-count", "1 open") // acknowledged is still open
	browsertest.Screenshot(t, bctx, "console-alerts")

}
