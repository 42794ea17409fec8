package console_test

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/chargestar/chargestar/internal/browsertest"
)

// consoleTariff: $0.55/kWh, a $1.00 session fee, idle $6.00/h after 15
// free minutes, GST included, a $50 hold.
const consoleTariff = `{"currency":"AUD","elements":[{"price_components":[
  {"type":"ENERGY","price":0.55,"step_size":1},{"type":"FLAT","price":1.00,"step_size":1},{"type":"PARKING_TIME","price":6.00,"step_size":60}]}],
  "chargestar":{"tax":{"name":"GST","rate":0.1,"included":true},"parking_grace_seconds":900,"hold_amount":5000}}`

// setInput replaces an input's text by typing, as a person does (the page
// hears every keystroke).
func setInput(sel, text string) chromedp.Tasks {
	return chromedp.Tasks{
		chromedp.Focus(sel, chromedp.ByQuery),
		chromedp.Evaluate(fmt.Sprintf("document.querySelector(%q).select()", sel), nil),
		chromedp.SendKeys(sel, text, chromedp.ByQuery),
	}
}

// TestTariffChangeInConsole: an owner edits the energy price of the
// operator's tariff; the live preview reprices the 40 kWh, one-hour
// example as they type (the figure expected here is worked out from the
// prices typed, not by the code under test); once saved, the API has the
// new tariff and the station's quote describes the new price.
func TestTariffChangeInConsole(t *testing.T) {
	f := newFixture(t)
	var tr struct{ ID string }
	f.mustJSON(t, f.token, "POST", "/api/v1/tariffs", `{"name":"Standard","tariff":`+consoleTariff+`}`, 201, &tr)
	f.mustJSON(t, f.token, "PUT", "/api/v1/tariff-assignments", `{"scope":"operator","tariff_id":"`+tr.ID+`"}`, 200, nil)
	f.mustJSON(t, f.token, "POST", "/api/v1/stations", `{"id":"CP-TARIFF-1"}`, 201, nil)

	ctx := browsertest.NewDesktop(t)
	f.signIn(t, ctx, f.owner)
	if err := chromedp.Run(ctx, chromedp.Navigate(f.srv.URL+"/console/tariffs")); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitText(t, ctx, "#tariff-list", "$0.55 per kWh")
	browsertest.WaitText(t, ctx, "#tariff-list", "All stations")
	if err := chromedp.Run(ctx, chromedp.Click(`button[data-edit="`+tr.ID+`"]`, chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitText(t, ctx, "#preview-items", "a 40 kWh, 1 h session costs $23.00")

	const energy, fee = "0.65", "1.00" // typed into the form
	if err := chromedp.Run(ctx, setInput("#t-energy", energy)); err != nil {
		t.Fatal(err)
	}
	// 40 kWh × $0.65 + $1.00 session fee, no idle time.
	e, _ := new(big).parse(energy)
	fe, _ := new(big).parse(fee)
	cents := int64(math.Round(e*100))*40 + int64(math.Round(fe*100))
	want := fmt.Sprintf("a 40 kWh, 1 h session costs $%d.%02d", cents/100, cents%100)
	browsertest.WaitText(t, ctx, "#preview-items", want)
	browsertest.WaitText(t, ctx, "#preview-summary", "$0.65 per kWh")
	browsertest.Screenshot(t, ctx, "console-tariffs")

	if err := chromedp.Run(ctx, chromedp.Click("#t-save", chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitText(t, ctx, "#flash", "Saved")
	browsertest.WaitText(t, ctx, "#tariff-list", "$0.65 per kWh")

	var got struct {
		Name   string
		Tariff struct {
			Currency string
			Elements []struct {
				PriceComponents []struct {
					Type  string
					Price json.Number
				} `json:"price_components"`
			}
		}
	}
	f.mustJSON(t, f.token, "GET", "/api/v1/tariffs/"+tr.ID, "", 200, &got)
	prices := map[string]string{}
	for _, el := range got.Tariff.Elements {
		for _, c := range el.PriceComponents {
			prices[c.Type] = c.Price.String()
		}
	}
	if got.Name != "Standard" || got.Tariff.Currency != "AUD" || prices["ENERGY"] != energy && prices["ENERGY"] != strings.TrimRight(energy, "0") ||
		prices["FLAT"] != "1" || prices["PARKING_TIME"] != "6" {
		t.Fatalf("stored tariff: %+v (prices %v)", got, prices)
	}
	var quote struct {
		TariffID    string `json:"tariff_id"`
		Description struct{ Summary, Example string }
	}
	f.mustJSON(t, f.token, "GET", "/api/v1/stations/CP-TARIFF-1/tariff", "", 200, &quote)
	if quote.TariffID != tr.ID || !strings.Contains(quote.Description.Summary, "$0.65 per kWh") || !strings.Contains(quote.Description.Example, want[len("a 40 kWh, 1 h session costs "):]) {
		t.Fatalf("the station's tariff: %+v", quote)
	}
}

// TestTariffsReadOnlyForTechnicians: a role without price rights sees the
// tariffs and the preview, but no way to change them.
func TestTariffsReadOnlyForTechnicians(t *testing.T) {
	f := newFixture(t)
	var tr struct{ ID string }
	f.mustJSON(t, f.token, "POST", "/api/v1/tariffs", `{"name":"Standard","tariff":`+consoleTariff+`}`, 201, &tr)
	tech := f.user(t, f.op.ID, "technician")
	ctx := browsertest.NewDesktop(t)
	f.signIn(t, ctx, tech)
	if err := chromedp.Run(ctx, chromedp.Navigate(f.srv.URL+"/console/tariffs")); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitText(t, ctx, "#tariff-list", "not assigned")
	browsertest.WaitText(t, ctx, "#tariffs-readonly", "not change them")
	if err := chromedp.Run(ctx, chromedp.Click(`button[data-edit="`+tr.ID+`"]`, chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitText(t, ctx, "#preview-items", "a 40 kWh, 1 h session costs $23.00")
	var visible []string
	if err := chromedp.Run(ctx, chromedp.Evaluate(`["#tariff-new","#t-save","#assign","[data-delete]"].filter(s => { const e = document.querySelector(s); return e && !e.hidden && e.offsetParent !== null; })`, &visible)); err != nil {
		t.Fatal(err)
	}
	var disabled bool
	if err := chromedp.Run(ctx, chromedp.Evaluate(`document.querySelector("#t-common").disabled && document.querySelector("#t-json").readOnly`, &disabled)); err != nil {
		t.Fatal(err)
	}
	if len(visible) > 0 || !disabled {
		t.Fatalf("a technician sees %v (form disabled: %v)", visible, disabled)
	}
}

// big parses a price typed into the form, as a person reads it.
type big struct{}

func (big) parse(s string) (float64, error) {
	var v float64
	_, err := fmt.Sscanf(s, "%g", &v)
	return v, err
}
