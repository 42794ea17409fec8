package store

import (
	"encoding/json"
	"testing"

	"github.com/chargestar/chargestar/internal/model"
)

func TestAppendSamplesMatchesEncodingJSON(t *testing.T) {
	cases := [][]model.SampledValue{
		nil,
		{},
		{{Value: "12.5"}},
		{{Value: "1", Context: "Sample.Periodic", Format: "Raw", Measurand: "Energy.Active.Import.Register", Phase: "L1-N", Location: "Outlet", Unit: "kWh"}},
		{{Value: "quote\" backslash\\ newline\n tab\t ctl\x01 é 😀 <>&"}, {Value: "x", Unit: "Celsius"}},
	}
	for _, c := range cases {
		want := []model.SampledValue{}
		if c != nil {
			want = c
		}
		exp, _ := json.Marshal(want)
		got := appendSamples(nil, c)
		var back, expBack []model.SampledValue
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("%s: %v", got, err)
		}
		json.Unmarshal(exp, &expBack)
		if len(back) != len(expBack) {
			t.Fatalf("got %s want %s", got, exp)
		}
		for i := range back {
			if back[i] != expBack[i] {
				t.Fatalf("got %s want %s", got, exp)
			}
		}
	}
	// Invalid UTF-8 becomes U+FFFD (written as the \ufffd escape, as
	// encoding/json writes it).
	got := appendSamples(nil, []model.SampledValue{{Value: "a\xffb"}})
	var back []model.SampledValue
	if err := json.Unmarshal(got, &back); err != nil || len(back) != 1 || back[0].Value != "a\ufffdb" {
		t.Fatalf("invalid UTF-8: %s (%v)", got, err)
	}
}
