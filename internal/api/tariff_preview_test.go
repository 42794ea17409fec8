package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chargestar/chargestar/internal/access"
	"github.com/chargestar/chargestar/internal/billing"
)

const previewPath = "/api/v1/tariff-preview"

func tariffPreviewProbes(e *env) map[string][]probe {
	return map[string][]probe{
		"POST " + previewPath: {
			// Another operator's stored tariff, and another operator's currency and sites.
			{method: "POST", path: previewPath, body: map[string]any{"tariff_id": e.b.tariff.ID}},
			{method: "POST", path: previewPath, body: map[string]any{"operator_id": e.b.op.ID, "tariff": json.RawMessage(testTariff)}},
		},
	}
}

func tariffPreviewBodyPaths(e *env) map[string]string {
	return map[string]string{previewPath: previewPath}
}

// tariffPreviewContractRoutes lists this file's routes for TestOpenAPIDocumentListsExactlyTheServedRoutes.
var tariffPreviewContractRoutes = []string{"POST " + previewPath}

// TestTariffPreviewPricesLikeBilling: a 40 kWh, one-hour session previewed
// under the test tariff costs what billing.Price charges for the same
// timeline — $0.55 × 40 + $1.00 = $23.00, GST 1/11 — whether the tariff is
// sent or stored; idle time past the grace is itemised; the answer
// describes the tariff in the operator's site's time zone.
func TestTariffPreviewPricesLikeBilling(t *testing.T) {
	e := newEnv(t)
	start := "2026-03-02T10:00:00+11:00"
	sessions := []map[string]any{
		{"energy_wh": 40000, "duration_s": 3600, "start": start},
		{"energy_wh": 60000, "minutes": 180, "idle_s": 2400, "start": start},
	}
	var sent, stored TariffPreview
	e.decode(e.mustDo("POST", previewPath, e.a.token, map[string]any{"tariff": json.RawMessage(testTariff), "sessions": sessions}, 200), &sent)
	e.decode(e.mustDo("POST", previewPath, e.a.token, map[string]any{"tariff_id": e.a.tariff.ID, "sessions": sessions}, 200), &stored)

	// The same timeline priced by the billing package directly.
	tariff, err := billing.ParseTariff([]byte(testTariff))
	if err != nil {
		t.Fatal(err)
	}
	sydney, _ := time.LoadLocation("Australia/Sydney")
	t0, _ := time.Parse(time.RFC3339, start)
	yes, no := true, false
	direct, err := billing.Price(tariff, sydney, billing.Usage{Start: t0, Stop: t0.Add(time.Hour), Samples: []billing.Sample{
		{At: t0, EnergyWh: 0, Charging: &yes}, {At: t0.Add(time.Hour), EnergyWh: 40000, Charging: &no}}})
	if err != nil {
		t.Fatal(err)
	}
	if direct.Total != 2300 || direct.Tax != 209 {
		t.Fatalf("billing.Price: total %d tax %d, want 2300 and 209", direct.Total, direct.Tax)
	}
	for name, p := range map[string]TariffPreview{"tariff object": sent, "tariff_id": stored} {
		if len(p.Items) != 2 || p.Currency != "AUD" || p.Timezone != "Australia/Sydney" || !p.PricesIncludeTax || p.TaxName != "GST" {
			t.Fatalf("%s: %+v", name, p)
		}
		it := p.Items[0]
		if it.Total != direct.Total || it.Tax != direct.Tax || it.ExclTax != direct.ExclTax || len(it.Lines) != len(direct.Lines) {
			t.Errorf("%s: preview %+v, billing %d/%d/%d with %d lines", name, it, direct.Total, direct.Tax, direct.ExclTax, len(direct.Lines))
		}
		for i, l := range it.Lines {
			if d := direct.Lines[i]; l.Amount != d.Amount || l.Description != d.Description || l.Kind != string(d.Kind) {
				t.Errorf("%s: line %d %+v, billing %+v", name, i, l, d)
			}
		}
		if it.Summary != "a 40 kWh, 1 h session costs $23.00" || !it.Start.Equal(t0) || !it.Stop.Equal(t0.Add(time.Hour)) {
			t.Errorf("%s: %q %v–%v", name, it.Summary, it.Start, it.Stop)
		}
		// 60 kWh × $0.55 + $1.00 + (40 − 15 free) min × $6/h = $33 + $1 + $2.50.
		idle := p.Items[1]
		if idle.Total != 3650 || idle.DurationS != 10800 || idle.Summary != "a 60 kWh, 3 h session with 40 min idle costs $36.50" {
			t.Errorf("%s: idle session %+v", name, idle)
		}
		var idleLine *TariffPreviewLine
		for i := range idle.Lines {
			if idle.Lines[i].Kind == "idle" {
				idleLine = &idle.Lines[i]
			}
		}
		if idleLine == nil || idleLine.Amount != 250 || idleLine.UnitPrice != "6" {
			t.Errorf("%s: idle line %+v", name, idleLine)
		}
		if !strings.Contains(p.Description.Summary, "$0.55 per kWh") || p.Description.Example != "a 40 kWh, 1 h session costs $23.00" {
			t.Errorf("%s: description %+v", name, p.Description)
		}
	}

	// Without sessions: the 40 kWh, one-hour example, now.
	var def TariffPreview
	e.decode(e.mustDo("POST", previewPath, e.a.token, map[string]any{"tariff_id": e.a.tariff.ID}, 200), &def)
	if len(def.Items) != 1 || def.Items[0].Total != 2300 {
		t.Errorf("default session: %+v", def.Items)
	}
	// A time zone given; max_power_w: 40 kWh at 20 kW takes 2 h, the last hour of 3 is idle (45 min billed past the grace).
	var powered TariffPreview
	e.decode(e.mustDo("POST", previewPath, e.a.token, map[string]any{"tariff_id": e.a.tariff.ID, "timezone": "UTC",
		"sessions": []map[string]any{{"energy_wh": 40000, "duration_s": 3 * 3600, "max_power_w": 20000, "start": start}}}, 200), &powered)
	if powered.Timezone != "UTC" || powered.Items[0].Total != 2300+450 {
		t.Errorf("max power: %+v", powered)
	}
	// Every role may preview (console users without price rights see the page read-only).
	cookie, csrf := e.signInAs(e.a.op.ID, access.Technician)
	if r := e.doCookie("POST", previewPath, cookie, csrf, `{"tariff_id":"`+e.a.tariff.ID+`"}`); r.StatusCode != 200 {
		t.Errorf("technician: %s", r.Status)
	}
}

func TestTariffPreviewRejects(t *testing.T) {
	e := newEnv(t)
	tok := e.a.token
	one := []map[string]any{{"energy_wh": 1000, "duration_s": 60}}
	e.run(t, []scenario{
		{name: "no tariff", method: "POST", path: previewPath, token: tok, body: map[string]any{"sessions": one}, status: 400, code: codeInvalidRequest, msg: "tariff"},
		{name: "both", method: "POST", path: previewPath, token: tok, body: map[string]any{"tariff_id": e.a.tariff.ID, "tariff": json.RawMessage(testTariff)},
			status: 400, code: codeInvalidRequest, msg: "not both"},
		{name: "no elements", method: "POST", path: previewPath, token: tok, body: map[string]any{"tariff": map[string]any{"currency": "AUD", "elements": []any{}}},
			status: 400, code: codeInvalidTariff, msg: "tariff: "},
		{name: "negative price", method: "POST", path: previewPath, token: tok,
			body:   map[string]any{"tariff": json.RawMessage(strings.Replace(testTariff, `"price": 0.55`, `"price": -0.55`, 1))},
			status: 400, code: codeInvalidTariff, msg: "tariff: "},
		{name: "not an object", method: "POST", path: previewPath, token: tok, body: map[string]any{"tariff": []int{1}}, status: 400, code: codeInvalidTariff},
		{name: "other currency", method: "POST", path: previewPath, token: tok,
			body: map[string]any{"tariff": json.RawMessage(strings.Replace(testTariff, `"AUD"`, `"EUR"`, 1))}, status: 400, code: codeInvalidTariff, msg: "currency"},
		{name: "no duration", method: "POST", path: previewPath, token: tok, body: map[string]any{"tariff_id": e.a.tariff.ID, "sessions": []map[string]any{{"energy_wh": 1000}}},
			status: 400, code: codeInvalidRequest, msg: "sessions[0].duration_s"},
		{name: "bad start", method: "POST", path: previewPath, token: tok,
			body:   map[string]any{"tariff_id": e.a.tariff.ID, "sessions": []map[string]any{{"energy_wh": 1000, "duration_s": 60, "start": "tomorrow"}}},
			status: 400, code: codeInvalidRequest, msg: "sessions[0].start"},
		{name: "too fast", method: "POST", path: previewPath, token: tok,
			body:   map[string]any{"tariff_id": e.a.tariff.ID, "sessions": []map[string]any{{"energy_wh": 40000, "duration_s": 3600, "max_power_w": 7000}}},
			status: 400, code: codeInvalidRequest, msg: "max_power_w"},
		{name: "bad time zone", method: "POST", path: previewPath, token: tok, body: map[string]any{"tariff_id": e.a.tariff.ID, "timezone": "Mars/Base"},
			status: 400, code: codeInvalidRequest, msg: "timezone"},
		{name: "admin without operator", method: "POST", path: previewPath, token: e.admin, body: map[string]any{"tariff": json.RawMessage(testTariff)},
			status: 400, code: codeInvalidRequest, msg: "operator_id"},
		{name: "admin with a tariff id", method: "POST", path: previewPath, token: e.admin, body: map[string]any{"tariff_id": e.b.tariff.ID}, status: 200},
		{name: "unknown tariff", method: "POST", path: previewPath, token: tok, body: map[string]any{"tariff_id": "trf_nope"}, status: 404, code: codeNotFound},
	})
	// Another operator's tariff answers exactly as an unknown one.
	foreign := e.do("POST", previewPath, tok, map[string]any{"tariff_id": e.b.tariff.ID})
	unknown := e.do("POST", previewPath, tok, map[string]any{"tariff_id": "trf_nope"})
	if foreign.status != 404 || strings.ReplaceAll(string(foreign.body), e.b.tariff.ID, "ID") != strings.ReplaceAll(string(unknown.body), "trf_nope", "ID") {
		t.Errorf("foreign %s, unknown %s", foreign, unknown)
	}
}

// TestReportExportsAsPDF (reports.go's PDF export; kept here beside this
// change's other API tests): format=pdf or Accept: application/pdf gives a
// PDF download of the revenue and usage reports; JSON stays the default.
func TestReportExportsAsPDF(t *testing.T) {
	e := newEnv(t)
	day := e.a.payment.SettledAt.In(time.UTC)
	q := "?timezone=UTC&from=" + day.AddDate(0, 0, -1).Format("2006-01-02") + "&to=" + day.AddDate(0, 0, 2).Format("2006-01-02")
	for _, c := range []struct {
		path   string
		accept string
	}{
		{"/api/v1/reports/revenue" + q + "&format=pdf", ""},
		{"/api/v1/reports/revenue" + q + "&by=site", "application/json;q=0.5, application/pdf"},
		{"/api/v1/reports/usage" + q + "&format=pdf", "application/json"},
		{"/api/v1/reports/usage" + q, "application/pdf"},
	} {
		r := e.doHeader("GET", c.path, e.a.token, http.Header{"Accept": {c.accept}})
		if r.status != 200 || r.header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(string(r.body), "%PDF-1.4") ||
			!strings.Contains(r.header.Get("Content-Disposition"), ".pdf") {
			t.Errorf("%s (Accept %q): %d %s %.20q", c.path, c.accept, r.status, r.header.Get("Content-Type"), r.body)
		}
	}
	if r := e.doHeader("GET", "/api/v1/reports/revenue"+q, e.a.token, http.Header{"Accept": {"application/pdf;q=0.5, application/json"}}); !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
		t.Errorf("Accept preferring JSON got %q", r.header.Get("Content-Type"))
	}
	if r := e.doHeader("GET", "/api/v1/reports/revenue"+q, e.a.token, http.Header{"Accept": {"text/csv"}}); !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") {
		t.Errorf("Accept text/csv got %q", r.header.Get("Content-Type"))
	}
}
