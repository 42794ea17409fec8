package jsonx

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/chargestar/chargestar/internal/ocpp"
)

// decodeAny decodes one JSON value with the Decoder API into the shapes
// encoding/json produces with UseNumber (numbers as json.Number).
func decodeAny(d *Decoder) (any, *ocpp.ValidationError) {
	d.ws()
	if d.i >= len(d.s) {
		return nil, d.unexpected()
	}
	switch c := d.s[d.i]; {
	case c == '{':
		if err := d.BeginObject(); err != nil {
			return nil, err
		}
		m := map[string]any{}
		for first := true; ; first = false {
			k, more, err := d.ObjectKey(first)
			if err != nil {
				return nil, err
			}
			if !more {
				return m, nil
			}
			v, err := decodeAny(d)
			if err != nil {
				return nil, err
			}
			m[k] = v
		}
	case c == '[':
		if err := d.BeginArray(); err != nil {
			return nil, err
		}
		a := []any{}
		for first := true; ; first = false {
			more, err := d.ArrayNext(first)
			if err != nil {
				return nil, err
			}
			if !more {
				return a, nil
			}
			v, err := decodeAny(d)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
		}
	case c == '"':
		return d.String()
	case c == 't' || c == 'f':
		return d.Bool()
	case c == 'n':
		if d.IsNull() {
			return nil, nil
		}
		return nil, d.unexpected()
	}
	start := d.i
	_, lit, err := d.Number()
	if err != nil {
		// Number rejects float64 overflow; keep the literal like encoding/json does
		if err.Kind == ocpp.KindType && strings.Contains(err.Msg, "out of range") {
			return json.Number(d.s[start:d.i]), nil
		}
		return nil, err
	}
	return json.Number(lit), nil
}

func decodeDoc(data []byte) (any, *ocpp.ValidationError) {
	var d Decoder
	d.Init(data, ocpp.DecodeOptions{})
	v, err := decodeAny(&d)
	if err == nil {
		d.ws()
		if d.i != len(d.s) {
			err = d.syntax("data after top-level value")
		}
	}
	return v, err
}

func stdDecode(data []byte) (any, error) {
	if !json.Valid(data) {
		return nil, &json.SyntaxError{}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

func maxDepth(data []byte) int {
	depth, max := 0, 0
	inStr := false
	for i := 0; i < len(data); i++ {
		c := data[i]
		if inStr {
			if c == '\\' {
				i++
			} else if c == '"' {
				inStr = false
			}
			continue
		}
		switch c {
		case '"':
			inStr = true
		case '{', '[':
			depth++
			if depth > max {
				max = depth
			}
		case '}', ']':
			depth--
		}
	}
	return max
}

// checkAgainstStdlib compares the lexer with encoding/json on arbitrary input.
func checkAgainstStdlib(t *testing.T, data []byte) {
	ours, oerr := decodeDoc(data)
	std, serr := stdDecode(data)
	if oerr != nil && oerr.Kind != ocpp.KindFormation {
		t.Fatalf("decode error of kind %v: %v", oerr.Kind, oerr)
	}
	valid := Valid(data)
	if valid != (oerr == nil) {
		t.Fatalf("Valid = %v but decode error %v for %q", valid, oerr, data)
	}
	if json.Valid(data) != (serr == nil) {
		t.Fatalf("stdlib disagrees with itself on %q", data)
	}
	if serr == nil && oerr != nil {
		if maxDepth(data) > MaxDepth && strings.Contains(oerr.Msg, "nesting") {
			return
		}
		t.Fatalf("we reject valid JSON %q: %v", data, oerr)
	}
	if serr != nil && oerr == nil {
		t.Fatalf("we accept invalid JSON %q (stdlib: %v)", data, serr)
	}
	if serr == nil && !reflect.DeepEqual(ours, std) {
		t.Fatalf("value differs for %q:\nours %#v\nstd  %#v", data, ours, std)
	}
	if serr == nil {
		// re-encode every string we decoded and let encoding/json read it back
		var walk func(v any)
		walk = func(v any) {
			switch x := v.(type) {
			case string:
				enc := AppendString(nil, x)
				var back string
				if err := json.Unmarshal(enc, &back); err != nil || back != x || !utf8.Valid(enc) {
					t.Fatalf("AppendString(%q) = %s: %v %q", x, enc, err, back)
				}
			case map[string]any:
				for k, e := range x {
					walk(k)
					walk(e)
				}
			case []any:
				for _, e := range x {
					walk(e)
				}
			}
		}
		walk(ours)
		// Raw compaction keeps the value
		var d Decoder
		d.Init(data, ocpp.DecodeOptions{})
		if raw, err := d.Raw(); err == nil {
			rv, rerr := stdDecode(raw)
			if rerr != nil || !reflect.DeepEqual(rv, std) || bytes.ContainsAny(raw, "\n\t\r") && !bytes.Contains(data, []byte(`"`)) {
				t.Fatalf("Raw(%q) = %q (%v)", data, raw, rerr)
			}
		}
	}
}

var lexerCorpus = []string{
	`{}`, `[]`, `""`, `0`, `-0`, `-0.0e+0`, `1e400`, `true`, `false`, `null`, ` {"a" : [1, 2.5, -3e-2, "x\n", {"b":null}] } `,
	`"\u00e9\ud83d\ude00\u2028"`, `"\ud83d"`, `"\ude00x"`, `"\ud83d\u0041"`, `"\ud83dx"`, "\"\xff\xfe\"", "\"a\xc3\"", `"\/\b\f\n\r\t\\\""`,
	`{"a":1,"a":2}`, `[1,]`, `{"a":1,}`, `{,}`, `[,1]`, `01`, `1.`, `.5`, `-`, `1e`, `+1`, `"abc`, `"\x"`, `"\u12"`, "\"a\x01\"",
	`nul`, `tru`, `[`, `{"a"`, `{"a":`, `{"a" 1}`, `{1:2}`, `[1 2]`, `1 2`, `"x" "y"`, "\ufeff{}",
	strings.Repeat("[", 64) + strings.Repeat("]", 64), strings.Repeat("[", 65) + strings.Repeat("]", 65),
	`{"connectorId":1,"meterValue":[{"timestamp":"2026-11-24T10:11:12Z","sampledValue":[{"value":"1"}]}]}`,
}

func TestLexerAgainstStdlib(t *testing.T) {
	for _, s := range lexerCorpus {
		checkAgainstStdlib(t, []byte(s))
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range lexerCorpus {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkAgainstStdlib(t, data)
		// typed readers never panic and leave sane state
		var d Decoder
		d.Init(data, ocpp.DecodeOptions{})
		d.Int()
		d.Init(data, ocpp.DecodeOptions{})
		d.DateTime()
		d.Init(data, ocpp.DecodeOptions{})
		if v, err := d.Int(); err == nil {
			// an accepted integer literal is integral and exact
			var std json.Number
			if json.Unmarshal(data[:d.Offset()], &std) == nil {
				if f, ferr := std.Float64(); ferr == nil && math.Abs(f) < 1<<53 && float64(v) != f {
					t.Fatalf("Int(%q) = %d, want %v", data, v, f)
				}
			}
		}
		_ = PathAt(string(data), len(data)/2)
	})
}

func TestInt(t *testing.T) {
	ok := map[string]int{
		"0": 0, "-0": 0, "7": 7, "-12": -12, "3.0": 3, "3.000": 3, "3e0": 3, "3E2": 300, "3e+2": 300, "1.5e1": 15,
		"250e-1": 25, "0.0e5": 0, "123456789012345678": 123456789012345678, "9223372036854775807": math.MaxInt64,
		"-9223372036854775808": math.MinInt64, "9.223372036854775807e18": math.MaxInt64, "1000000000000000000": 1e18,
	}
	for in, want := range ok {
		var d Decoder
		d.InitString(in, ocpp.DecodeOptions{})
		got, err := d.Int()
		if err != nil || got != want || d.Offset() != len(in) {
			t.Errorf("Int(%s) = %d, %v; want %d", in, got, err, want)
		}
	}
	bad := map[string]ocpp.ErrorKind{
		"3.5": ocpp.KindType, "1e-1": ocpp.KindType, "0.1e1": 0, `"1"`: ocpp.KindType, "true": ocpp.KindType, "null": ocpp.KindType,
		"9223372036854775808": ocpp.KindType, "-9223372036854775809": ocpp.KindType, "1e19": ocpp.KindType, "1e400": ocpp.KindType,
		"3.0000000000000000001": ocpp.KindType, "-": ocpp.KindFormation, "1.": ocpp.KindFormation, "x": ocpp.KindFormation,
	}
	for in, kind := range bad {
		var d Decoder
		d.InitString(in, ocpp.DecodeOptions{})
		v, err := d.Int()
		if kind == 0 {
			if err != nil || v != 1 {
				t.Errorf("Int(%s) = %d, %v", in, v, err)
			}
			continue
		}
		if err == nil || err.Kind != kind {
			t.Errorf("Int(%s) = %d, %v; want kind %v", in, v, err, kind)
		}
	}
}

func TestStringUnescape(t *testing.T) {
	cases := map[string]string{
		`"plain"`:                 "plain",
		`"tab\there"`:             "tab\there",
		`"\u0041\u00e9\u20ac"`:    "Aé€",
		`"\ud83d\ude00"`:          "😀",
		`"\ud83d"`:                "\uFFFD",
		`"\ude00"`:                "\uFFFD",
		`"\ud83d\u0041"`:          "\uFFFDA",
		"\"raw é 😀\"":             "raw é 😀",
		"\"bad \xff byte\"":       "bad \uFFFD byte",
		"\"trunc \xe2\x82\"":      "trunc \uFFFD\uFFFD",
		`"\"\\\/\b\f\n\r"`:        "\"\\/\b\f\n\r",
		"\"\\u00e9\xc3\xa9\xff\"": "éé\uFFFD",
	}
	for in, want := range cases {
		var d Decoder
		d.InitString(in, ocpp.DecodeOptions{})
		got, err := d.String()
		if err != nil || got != want {
			t.Errorf("String(%s) = %q, %v; want %q", in, got, err, want)
		}
		var std string
		if json.Unmarshal([]byte(in), &std) == nil && std != got {
			t.Errorf("String(%s) = %q, encoding/json says %q", in, got, std)
		}
	}
}

func TestAppendString(t *testing.T) {
	cases := map[string]string{
		"":               `""`,
		"a<b>&c":         `"a<b>&c"`,
		"q\"b\\s/":       `"q\"b\\s/"`,
		"\n\r\t\b\f\x01": `"\n\r\t\b\f\u0001"`,
		"é€😀":            `"é€😀"`,
		"\u2028\u2029":   `"\u2028\u2029"`,
		"a\xffb":         `"a\ufffdb"`,
		"\x7f":           "\"\x7f\"",
	}
	for in, want := range cases {
		if got := string(AppendString(nil, in)); got != want {
			t.Errorf("AppendString(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestAppendFloat(t *testing.T) {
	cases := map[float64]string{0: "0", 1.5: "1.5", -0.1: "-0.1", 1e21: "1000000000000000000000", 123456.7: "123456.7", 1e-7: "0.0000001"}
	for in, want := range cases {
		if got := string(AppendFloat(nil, in)); got != want {
			t.Errorf("AppendFloat(%v) = %s, want %s", in, got, want)
		}
	}
	if got := string(AppendFloat(nil, math.NaN())); got != "null" {
		t.Errorf("NaN: %s", got)
	}
}

func TestDecimalPlaces(t *testing.T) {
	cases := map[string]int{"15": 0, "1.50": 1, "2e-3": 3, "2.5e-3": 4, "1.25e1": 1, "1.25e2": 0, "-0.1": 1, "0.10000": 1, "1e-400": 400, "1.5E+1": 0}
	for in, want := range cases {
		if got := DecimalPlaces(in); got != want {
			t.Errorf("DecimalPlaces(%s) = %d, want %d", in, got, want)
		}
	}
	a, b := 0.1, 0.2
	for f, want := range map[float64]int{0.3: 1, a + b: 17, 12: 0, 1250: 0, 0.125: 3} {
		if got := FloatDecimalPlaces(f); got != want {
			t.Errorf("FloatDecimalPlaces(%v) = %d, want %d", f, got, want)
		}
	}
}

func TestPathAt(t *testing.T) {
	s := `{"a":1,"meterValue":[{"t":2},{"sampledValue":[{"value":"1"},{"vendorX":{"k":1}}]}],"z":3}`
	for key, want := range map[string]string{`"a"`: "a", `"vendorX"`: "meterValue[1].sampledValue[1].vendorX", `"k"`: "meterValue[1].sampledValue[1].vendorX.k", `"z"`: "z", `"t"`: "meterValue[0].t"} {
		off := strings.Index(s, key)
		if got := PathAt(s, off); got != want {
			t.Errorf("PathAt(%s) = %q, want %q", key, got, want)
		}
	}
	if got := PathAt(s, 3); got != "" {
		t.Errorf("PathAt(non-key) = %q", got)
	}
}

func TestIsURI(t *testing.T) {
	for s, want := range map[string]bool{
		"https://example.com/x": true, "ftp://a/b": true, "urn:isbn:1": true, "http://[::1]:80/": true,
		"not a uri": false, "/relative/path": false, "": false, "http://[fe80::1%25en0]/": false, "http://::1/": false, "http://a b/": false,
	} {
		if got := IsURI(s); got != want {
			t.Errorf("IsURI(%q) = %v", s, got)
		}
	}
}

func TestFieldIndexPaths(t *testing.T) {
	e := Missing("unit")
	e = Field(Index(Field(Index(e, 2), "sampledValue"), 0), "meterValue")
	if e.Path != "meterValue[0].sampledValue[2].unit" || e.Kind != ocpp.KindOccurrence {
		t.Errorf("path = %q", e.Path)
	}
	e = Index(Index(&ocpp.ValidationError{}, 1), 0)
	if e.Path != "[0][1]" {
		t.Errorf("path = %q", e.Path)
	}
}

func TestDecoderNoAllocs(t *testing.T) {
	data := []byte(`{"k":"value","n":12,"f":1.5,"b":true,"t":"2026-11-24T10:11:12.345Z","z":null,"a":[1,2]}`)
	var d Decoder
	d.Init(data, ocpp.DecodeOptions{})
	n := testing.AllocsPerRun(200, func() {
		d.i, d.depth = 0, 0
		if err := d.Skip(); err != nil {
			t.Fatal(err)
		}
		d.i, d.depth = 0, 0
		d.BeginObject()
		for first := true; ; first = false {
			k, more, err := d.ObjectKey(first)
			if err != nil || !more {
				break
			}
			switch k {
			case "k":
				d.String()
			case "n":
				d.Int()
			case "f":
				d.Float()
			case "b":
				d.Bool()
			case "t":
				d.DateTime()
			default:
				d.Skip()
			}
		}
	})
	if n != 0 {
		t.Errorf("%v allocations per decode", n)
	}
}
