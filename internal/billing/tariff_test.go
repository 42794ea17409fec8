package billing

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// Validation names the field and says what is wrong, for every problem at
// once.
func TestValidationErrors(t *testing.T) {
	base := func(elements string) string {
		return `{"currency":"AUD","elements":` + elements + `}`
	}
	ok := `[{"price_components":[{"type":"ENERGY","price":0.5,"step_size":1}]}]`
	cases := []struct {
		name, js, field string
	}{
		{"no currency", `{"elements":` + ok + `}`, "currency"},
		{"unknown currency", `{"currency":"XYZ","elements":` + ok + `}`, "currency"},
		{"no elements", base(`[]`), "elements"},
		{"no components", base(`[{"price_components":[]}]`), "elements[0].price_components"},
		{"bad type", base(`[{"price_components":[{"type":"KWH","price":1,"step_size":1}]}]`), "elements[0].price_components[0].type"},
		{"negative price", base(`[{"price_components":[{"type":"ENERGY","price":-1,"step_size":1}]}]`), "elements[0].price_components[0].price"},
		{"huge price", base(`[{"price_components":[{"type":"ENERGY","price":1e9,"step_size":1}]}]`), "elements[0].price_components[0].price"},
		{"negative step", base(`[{"price_components":[{"type":"TIME","price":1,"step_size":-5}]}]`), "elements[0].price_components[0].step_size"},
		{"vat 100", base(`[{"price_components":[{"type":"TIME","price":1,"vat":100,"step_size":1}]}]`), "elements[0].price_components[0].vat"},
		{"duplicate dimension", base(`[{"price_components":[{"type":"TIME","price":1,"step_size":1},{"type":"TIME","price":2,"step_size":1}]}]`), "elements[0].price_components[1].type"},
		{"bad start_time", base(`[{"price_components":[{"type":"TIME","price":1,"step_size":1}],"restrictions":{"start_time":"7:00"}}]`), "elements[0].restrictions.start_time"},
		{"bad end_time", base(`[{"price_components":[{"type":"TIME","price":1,"step_size":1}],"restrictions":{"end_time":"24:00"}}]`), "elements[0].restrictions.end_time"},
		{"bad date", base(`[{"price_components":[{"type":"TIME","price":1,"step_size":1}],"restrictions":{"start_date":"2025-02-30"}}]`), "elements[0].restrictions.start_date"},
		{"dates reversed", base(`[{"price_components":[{"type":"TIME","price":1,"step_size":1}],"restrictions":{"start_date":"2025-03-01","end_date":"2025-03-01"}}]`), "elements[0].restrictions.end_date"},
		{"kwh reversed", base(`[{"price_components":[{"type":"ENERGY","price":1,"step_size":1}],"restrictions":{"min_kwh":5,"max_kwh":1}}]`), "elements[0].restrictions.max_kwh"},
		{"negative power", base(`[{"price_components":[{"type":"ENERGY","price":1,"step_size":1}],"restrictions":{"min_power":-1}}]`), "elements[0].restrictions.min_power"},
		{"duration reversed", base(`[{"price_components":[{"type":"ENERGY","price":1,"step_size":1}],"restrictions":{"min_duration":600,"max_duration":60}}]`), "elements[0].restrictions.max_duration"},
		{"bad day", base(`[{"price_components":[{"type":"ENERGY","price":1,"step_size":1}],"restrictions":{"day_of_week":["FUNDAY"]}}]`), "elements[0].restrictions.day_of_week[0]"},
		{"bad reservation", base(`[{"price_components":[{"type":"TIME","price":1,"step_size":1}],"restrictions":{"reservation":"MAYBE"}}]`), "elements[0].restrictions.reservation"},
		{"energy in reservation", base(`[{"price_components":[{"type":"ENERGY","price":1,"step_size":1}],"restrictions":{"reservation":"RESERVATION"}}]`), "elements[0].price_components[0].type"},
		{"empty min_price", `{"currency":"AUD","min_price":{},"elements":` + ok + `}`, "min_price"},
		{"max below min", `{"currency":"AUD","min_price":{"excl_vat":5},"max_price":{"excl_vat":1},"elements":` + ok + `}`, "max_price"},
		{"max below min across sides", `{"currency":"EUR","min_price":{"incl_vat":27.45},"max_price":{"excl_vat":22.14},"elements":[{"price_components":[{"type":"TIME","price":1,"vat":20,"step_size":1}]}]}`, "max_price"},
		{"incl below excl", `{"currency":"AUD","max_price":{"excl_vat":5,"incl_vat":4},"elements":` + ok + `}`, "max_price.incl_vat"},
		{"sub-cent bound", `{"currency":"AUD","min_price":{"excl_vat":0.555},"elements":` + ok + `}`, "min_price.excl_vat"},
		{"sub-yen bound", `{"currency":"JPY","max_price":{"incl_vat":12.5},"elements":` + ok + `}`, "max_price.incl_vat"},
		{"bad tax_included", `{"currency":"AUD","tax_included":"MAYBE","elements":` + ok + `}`, "tax_included"},
		{"bad type", `{"currency":"AUD","type":"CHEAP","elements":` + ok + `}`, "type"},
		{"dates of tariff", `{"currency":"AUD","start_date_time":"2025-01-02T00:00:00Z","end_date_time":"2025-01-01T00:00:00Z","elements":` + ok + `}`, "end_date_time"},
		{"tax without name", `{"currency":"AUD","elements":` + ok + `,"chargestar":{"tax":{"rate":0.1,"included":true}}}`, "chargestar.tax.name"},
		{"tax rounding", `{"currency":"AUD","elements":` + ok + `,"chargestar":{"tax":{"name":"GST","rate":0.1,"included":true,"rounding":"nearest"}}}`, "chargestar.tax.rounding"},
		{"vat disagrees with tax", `{"currency":"AUD","elements":[{"price_components":[{"type":"ENERGY","price":1,"vat":15,"step_size":1}]}],"chargestar":{"tax":{"name":"GST","rate":0.1,"included":true}}}`, "elements[0].price_components[0].vat"},
		{"vat with N/A", `{"currency":"AUD","tax_included":"N/A","elements":[{"price_components":[{"type":"ENERGY","price":1,"vat":10,"step_size":1}]}]}`, "elements[0].price_components[0].vat"},
		{"negative hold", `{"currency":"AUD","elements":` + ok + `,"chargestar":{"hold_amount":-1}}`, "chargestar.hold_amount"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var tariff Tariff
			if err := json.Unmarshal([]byte(tc.js), &tariff); err != nil {
				t.Fatalf("unmarshal: %v (%s)", err, tc.js)
			}
			err := tariff.Validate()
			var v ValidationError
			if !errors.As(err, &v) {
				t.Fatalf("Validate() = %v, want a ValidationError", err)
			}
			found := false
			for _, fe := range v {
				found = found || fe.Field == tc.field
			}
			if !found {
				t.Errorf("errors %v do not name %s", err, tc.field)
			}
		})
	}
}

func TestValidationListsEveryProblem(t *testing.T) {
	var tariff Tariff
	js := `{"currency":"XYZ","elements":[{"price_components":[{"type":"TIME","price":-1,"step_size":-1}]}]}`
	if err := json.Unmarshal([]byte(js), &tariff); err != nil {
		t.Fatal(err)
	}
	var v ValidationError
	if err := tariff.Validate(); !errors.As(err, &v) || len(v) != 3 {
		t.Errorf("Validate() = %v, want three problems", err)
	}
}

func TestUnmarshalErrors(t *testing.T) {
	for _, js := range []string{
		`{"currency":"AUD","elements":[{"price_components":[{"type":"TIME","price":"abc","step_size":1}]}]}`,
		`{"currency":"AUD","elements":[{"price_components":[{"type":"TIME","price":1e999,"step_size":1}]}]}`,
		`{"currency":"AUD","last_updated":"yesterday","elements":[]}`,
		`{"currency":"AUD","elements":[],"chargestar":{"parking_grace_seconds":-5}}`,
		`{"currency":"AUD","min_price":{"excl_vat":1,"before_taxes":1},"elements":[]}`,
	} {
		if _, err := ParseTariff([]byte(js)); err == nil {
			t.Errorf("accepted %s", js)
		}
	}
}

// The OCPI 2.3 Price shape: before_taxes plus the taxes' amounts.
func TestPrice23Shape(t *testing.T) {
	tariff := mustTariff(t, `{"currency":"CAD","tax_included":"NO","max_price":{"before_taxes":10.00,"taxes":[{"name":"GST","percentage":5,"amount":0.50},{"name":"QST","percentage":9.975,"amount":1.00}]},
		"elements":[{"price_components":[{"type":"TIME","price":2.00,"step_size":1}]}]}`)
	if !tariff.MaxPrice.ExclVAT.Equal(MustDecimal("10")) || !tariff.MaxPrice.InclVAT.Equal(MustDecimal("11.50")) {
		t.Errorf("max price %+v", tariff.MaxPrice)
	}
}

// The Charge Star extensions survive a round trip and OCPI fields are
// untouched.
func TestExtensionsRoundTrip(t *testing.T) {
	in := `{"id":"cs-1","currency":"AUD","tax_included":"YES","elements":[{"price_components":[{"type":"ENERGY","price":0.55,"step_size":1}]}],
		"last_updated":"2025-03-01T00:00:00","chargestar":{"tax":{"name":"GST","rate":"0.10","included":true,"rounding":"half_up"},"parking_grace_seconds":900,"hold_amount":5000}}`
	tariff := mustTariff(t, in)
	if tariff.Tax == nil || !tariff.Tax.Rate.Equal(MustDecimal("0.1")) || tariff.ParkingGrace != 15*time.Minute || tariff.HoldAmount != 5000 {
		t.Fatalf("extensions %+v %v %d", tariff.Tax, tariff.ParkingGrace, tariff.HoldAmount)
	}
	if !tariff.LastUpdated.Equal(time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("a date-time without zone is UTC: %s", tariff.LastUpdated)
	}
	out, err := json.Marshal(tariff)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"cs-1","currency":"AUD","elements":[{"price_components":[{"type":"ENERGY","price":0.55,"step_size":1}]}],"tax_included":"YES","last_updated":"2025-03-01T00:00:00Z","chargestar":{"tax":{"name":"GST","rate":0.1,"included":true,"rounding":"half_up"},"parking_grace_seconds":900,"hold_amount":5000}}`
	if string(out) != want {
		t.Errorf("marshal:\n got %s\nwant %s", out, want)
	}
}

func TestActiveAt(t *testing.T) {
	tariff := exampleTariff(t, "tariff_6_025kwh_start_max_price.json") // ends 2019-06-30T23:59:59Z
	if !tariff.ActiveAt(time.Date(2019, 6, 30, 23, 59, 58, 0, time.UTC)) || tariff.ActiveAt(time.Date(2019, 6, 30, 23, 59, 59, 0, time.UTC)) {
		t.Error("end_date_time is exclusive")
	}
}

func TestValidationErrorMessage(t *testing.T) {
	_, err := ParseTariff([]byte(`{"currency":"AUD","elements":[{"price_components":[{"type":"TIME","price":1,"step_size":1}],"restrictions":{"start_time":"25:00"}}]}`))
	if err == nil || !strings.Contains(err.Error(), `elements[0].restrictions.start_time: "25:00" is not a time of day`) {
		t.Errorf("message: %v", err)
	}
}
