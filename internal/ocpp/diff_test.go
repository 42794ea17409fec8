package ocpp_test

// Differential tests of the generated decoders against an independent JSON
// Schema validator (github.com/santhosh-tekuri/jsonschema/v6), over every
// schema of OCPP 1.6 (core + security, errata StopTransaction), 2.0.1 and 2.1.
//
// Deliberate divergences (documented in internal/ocpp/ocppgen/README.md) and
// how they are handled here:
//   - null for an optional property is accepted as absent: single-fault
//     mutations expect acceptance (and check the validator rejects);
//     random mutations normalise such nulls away before asking the oracle.
//   - date-time is parsed leniently: single-fault "lenient" mutations expect
//     acceptance; random mutations rewrite accepted date-times to strict
//     RFC 3339 before asking the oracle.
//   - duplicate keys are rejected (KindFormation): byte-level mutations that
//     produce them are not compared.
//   - integers outside int64 and numbers outside float64 are rejected
//     (KindType): never generated here.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chargestar/chargestar/internal/ocpp"
)

type mutation struct {
	name      string
	doc       any            // the mutated document (see materialize)
	raw       []byte         // when set, used instead of marshal(doc)
	kind      ocpp.ErrorKind // 0: must be accepted
	path      string
	divergent bool // the independent validator rejects by design

	// lazily applied change: set (or delete) the value at at in a copy of base
	base any
	at   []step
	val  func() any
	del  bool
}

// materialize applies the mutation to a copy of its base document.
func (m mutation) materialize() mutation {
	if m.doc == nil && m.raw == nil && m.base != nil {
		var v any
		if m.val != nil {
			v = m.val()
		}
		m.doc = set(deepCopy(m.base), m.at, v, m.del)
	}
	return m
}

func matchesType(v any, typ string) bool {
	switch typ {
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "integer":
		n, ok := v.(json.Number)
		if !ok {
			return false
		}
		_, err := strconv.Atoi(string(n))
		return err == nil
	case "number":
		_, ok := v.(json.Number)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	}
	return true
}

func typeOf(s map[string]any) string {
	t, _ := s["type"].(string)
	return t
}

var wrongTypeValues = map[string][]any{
	"string":  {json.Number("12"), true, map[string]any{}, []any{}},
	"integer": {"1", true, map[string]any{}, []any{json.Number("1")}, json.Number("2.5"), json.Number("-0.1"), json.Number("1e-1")},
	"number":  {"1.5", false, map[string]any{"a": json.Number("1")}, []any{}},
	"boolean": {"true", json.Number("1"), map[string]any{}, []any{}},
	"object":  {"{}", json.Number("1"), true, []any{map[string]any{}}},
	"array":   {"[]", json.Number("0"), false, map[string]any{}},
}

// wrongTypeValue returns a value of a JSON type the schema does not allow.
func wrongTypeValue(r *rand.Rand, typ string) any {
	cands := wrongTypeValues[typ]
	return cands[r.Intn(len(cands))]
}

// singleFaults lists mutations of doc that each break (or, for the
// divergences, relax) exactly one rule, with the expected error.
func (c *schemaCase) singleFaults(r *rand.Rand, doc any) []mutation {
	var out []mutation
	for _, st := range c.sites(doc) {
		out = c.faultsAt(r, doc, st, out)
	}
	out = append(out, mutation{name: "root-array", doc: []any{}, kind: ocpp.KindFormation})
	out = append(out, mutation{name: "root-string", doc: "x", kind: ocpp.KindFormation})
	raw := marshal(doc)
	out = append(out, mutation{name: "truncated", raw: raw[:r.Intn(len(raw))], kind: ocpp.KindFormation})
	out = append(out, mutation{name: "trailing-garbage", raw: append(append([]byte(nil), raw...), " x"...), kind: ocpp.KindFormation})
	out = append(out, mutation{name: "trailing-comma", raw: append(append([]byte(nil), raw[:len(raw)-1]...), ",}"...), kind: ocpp.KindFormation})
	return out
}

// faultsAt appends the single-fault mutations of one site.
func (c *schemaCase) faultsAt(r *rand.Rand, doc any, st site, out []mutation) []mutation {
	add := func(name string, path []step, v any, del bool, kind ocpp.ErrorKind, errPath []step, divergent bool) {
		out = append(out, mutation{name: name, base: doc, at: path, val: func() any { return deepCopy(v) }, del: del, kind: kind, path: pathString(errPath), divergent: divergent})
	}
	{
		s := st.sch
		typ := typeOf(s)
		v := get(doc, st.path)
		if typ == "" { // untyped (raw) value: anything goes
			add("raw-any", st.path, map[string]any{"x": []any{json.Number("1"), nil}}, false, 0, nil, false)
			return out
		}
		if len(st.path) > 0 {
			add("wrong-type", st.path, wrongTypeValue(r, typ), false, ocpp.KindType, st.path, false)
			if st.prop && !st.req {
				add("null-optional", st.path, nil, false, 0, nil, true)
			} else {
				add("null-required", st.path, nil, false, ocpp.KindType, st.path, false)
			}
		}
		if !matchesType(v, typ) {
			return out // an earlier random mutation changed the type
		}
		switch typ {
		case "object":
			p, names := props(s)
			rq := requiredSet(s)
			obj := v.(map[string]any)
			for _, n := range names {
				if rq[n] {
					add("drop-required", append(append([]step(nil), st.path...), n), nil, true, ocpp.KindOccurrence, append(append([]step(nil), st.path...), n), false)
				} else if _, present := obj[n]; !present {
					if pt := typeOf(c.resolve(p[n].(map[string]any))); pt != "" {
						np := append(append([]step(nil), st.path...), n)
						add("add-wrong-optional", np, wrongTypeValue(r, pt), false, ocpp.KindType, np, false)
					}
				}
			}
			np := append(append([]step(nil), st.path...), "zzUnknown")
			if closed(s) {
				add("unknown-property", np, json.Number("1"), false, ocpp.KindFormation, np, false)
			} else {
				add("extra-property-allowed", np, []any{"x", nil}, false, 0, nil, false)
			}
		case "string":
			if e, ok := s["enum"].([]any); ok {
				first := e[0].(string)
				add("bad-enum", st.path, first+"X", false, ocpp.KindProperty, st.path, false)
				if strings.ToLower(first) != first {
					add("bad-enum-case", st.path, strings.ToLower(first), false, ocpp.KindProperty, st.path, false)
				}
				return out
			}
			if ml, ok := intKW(s, "maxLength"); ok {
				add("too-long", st.path, strings.Repeat("é", ml+1), false, ocpp.KindProperty, st.path, false)
				add("max-length-multibyte", st.path, strings.Repeat("€", ml), false, 0, nil, false)
			}
			switch s["format"] {
			case "date-time":
				bad := []string{"2026-13-01T00:00:00Z", "yesterday", "2026-11-24", "2026-02-30T10:00:00Z", "2026-11-24T10:11:12+25:00"}
				add("bad-date-time", st.path, bad[r.Intn(len(bad))], false, ocpp.KindProperty, st.path, false)
				lenient := []string{"2026-11-24 10:11:12", "2026-11-24T10:11:12+0100", "2026-11-24T10:11:12.123456789123", "2026-11-24T10:11:12+01"}
				add("lenient-date-time", st.path, lenient[r.Intn(len(lenient))], false, 0, nil, true)
				add("strict-date-time-lower", st.path, "2026-11-24t10:11:12.5z", false, 0, nil, false)
			case "uri":
				add("bad-uri", st.path, "not a uri", false, ocpp.KindProperty, st.path, false)
			}
		case "integer":
			n, _ := strconv.Atoi(string(v.(json.Number)))
			add("non-integral", st.path, json.Number(strconv.Itoa(n)+".5"), false, ocpp.KindType, st.path, false)
			add("integral-float", st.path, json.Number(strconv.Itoa(n)+".0"), false, 0, nil, false)
			add("integral-exp", st.path, json.Number(strconv.Itoa(n)+"e0"), false, 0, nil, false)
			if lo, ok := numKW(s, "minimum"); ok {
				add("below-minimum", st.path, json.Number(strconv.Itoa(int(lo)-1)), false, ocpp.KindProperty, st.path, false)
			}
			if hi, ok := numKW(s, "maximum"); ok {
				add("above-maximum", st.path, json.Number(strconv.Itoa(int(hi)+1)), false, ocpp.KindProperty, st.path, false)
			}
		case "number":
			if lo, ok := numKW(s, "minimum"); ok {
				add("below-minimum", st.path, json.Number(strconv.FormatFloat(lo-1, 'f', -1, 64)), false, ocpp.KindProperty, st.path, false)
			}
			if hi, ok := numKW(s, "maximum"); ok {
				add("above-maximum", st.path, json.Number(strconv.FormatFloat(hi+1, 'f', -1, 64)), false, ocpp.KindProperty, st.path, false)
			}
			if _, ok := s["multipleOf"]; ok {
				add("not-multiple", st.path, json.Number("10.05"), false, ocpp.KindProperty, st.path, false)
				add("multiple-exp", st.path, json.Number("1.5e1"), false, 0, nil, false)
			} else if f, err := v.(json.Number).Float64(); err == nil {
				add("exponent", st.path, json.Number(strings.ToUpper(strconv.FormatFloat(f, 'e', -1, 64))), false, 0, nil, false)
			}
		case "array":
			a := v.([]any)
			if mi, ok := intKW(s, "minItems"); ok && mi > 0 {
				add("too-few", st.path, []any{}, false, ocpp.KindOccurrence, st.path, false)
			}
			if mx, ok := intKW(s, "maxItems"); ok && len(a) > 0 && mx <= 64 {
				b := make([]any, 0, mx+1)
				for len(b) <= mx {
					b = append(b, a[len(b)%len(a)])
				}
				add("too-many", st.path, b, false, ocpp.KindOccurrence, st.path, false)
			}
		}
	}
	return out
}

var strictOpts = ocpp.DecodeOptions{DisallowUnknownFields: true}

func decodeErr(c *schemaCase, data []byte) (ocpp.Message, *ocpp.ValidationError, error) {
	m := c.newMsg()
	err := m.DecodeOCPP(data, strictOpts)
	if err == nil {
		return m, nil, nil
	}
	var ve *ocpp.ValidationError
	if !errors.As(err, &ve) {
		return m, nil, err
	}
	return m, ve, nil
}

// roundTrip checks decode(encode(x)) == x and that the encoding is strictly
// valid for the independent validator.
func roundTrip(t *testing.T, c *schemaCase, m ocpp.Message, what string) {
	t.Helper()
	if err := m.Validate(); err != nil {
		t.Errorf("%s: %s: Validate() of a decoded value: %v", c.name(), what, err)
	}
	enc := m.AppendOCPP(nil)
	if ok, err := c.jsValid(enc); err != nil || !ok {
		t.Errorf("%s: %s: encoding rejected by jsonschema (%v): %s", c.name(), what, err, enc)
		return
	}
	// encoding keeps milliseconds: compare with m truncated likewise
	truncateTimes(reflect.ValueOf(m))
	m2 := c.newMsg()
	if err := m2.DecodeOCPP(enc, strictOpts); err != nil {
		t.Errorf("%s: %s: re-decode: %v\n%s", c.name(), what, err, enc)
		return
	}
	if !reflect.DeepEqual(m, m2) {
		t.Errorf("%s: %s: round trip differs:\n%#v\n%#v", c.name(), what, m, m2)
	}
	if enc2 := m2.AppendOCPP(nil); !bytes.Equal(enc, enc2) {
		t.Errorf("%s: %s: encoding not stable:\n%s\n%s", c.name(), what, enc, enc2)
	}
	// encoding/json wrappers (json.Marshal would HTML-escape the output)
	var jb bytes.Buffer
	je := json.NewEncoder(&jb)
	je.SetEscapeHTML(false)
	err := je.Encode(m)
	js := bytes.TrimSuffix(jb.Bytes(), []byte("\n"))
	if err != nil || !bytes.Equal(js, enc) {
		t.Errorf("%s: %s: json.Marshal = %s, %v; want %s", c.name(), what, js, err, enc)
	}
	m3 := c.newMsg()
	if err := json.Unmarshal(enc, m3); err != nil || !reflect.DeepEqual(m, m3) {
		t.Errorf("%s: %s: json.Unmarshal: %v", c.name(), what, err)
	}
}

type diffStats struct {
	valid, single, random, bytesMut, accepted, divergent int
	byName                                               map[string]int
}

func TestDifferentialAgainstJSONSchema(t *testing.T) {
	cases := loadCases(t)
	// Per schema: instances valid documents, up to singlePer single-fault
	// mutations of each, and randomPer random (multi/byte-level) mutations.
	// CHARGESTAR_OCPP_DIFF_SCALE=n multiplies the amounts (e.g. 4 for a soak run).
	instances, singlePer, randomPer := 12, 60, 1700
	if testing.Short() {
		instances, singlePer, randomPer = 4, 40, 100
	}
	if f, err := strconv.Atoi(os.Getenv("CHARGESTAR_OCPP_DIFF_SCALE")); err == nil && f > 0 {
		instances, randomPer = instances*f, randomPer*f
	}
	total := map[string]*diffStats{}
	for _, c := range cases {
		st := &diffStats{byName: map[string]int{}}
		total[c.name()] = st
		t.Run(c.name(), func(t *testing.T) {
			t.Parallel()
			seed := int64(0)
			for _, ch := range c.name() {
				seed = seed*31 + int64(ch)
			}
			r := rand.New(rand.NewSource(seed))
			g := &igen{c: c, r: r}
			var docs []any
			for i := 0; i < instances; i++ {
				doc := g.value(c.root, 0)
				data := marshal(doc)
				if ok, err := c.jsValid(data); err != nil || !ok {
					t.Fatalf("generated instance rejected by jsonschema: %s", data)
				}
				m, ve, err := decodeErr(c, data)
				if err != nil || ve != nil {
					t.Fatalf("valid instance rejected: %v %v\n%s", err, ve, data)
				}
				roundTrip(t, c, m, "valid instance")
				docs = append(docs, doc)
				st.valid++
			}
			// single-fault mutations: exact kind and path
			for _, doc := range docs {
				muts := c.singleFaults(r, doc)
				r.Shuffle(len(muts), func(i, j int) { muts[i], muts[j] = muts[j], muts[i] })
				if len(muts) > singlePer {
					muts = muts[:singlePer]
				}
				for _, mu := range muts {
					mu = mu.materialize()
					data := mu.raw
					if data == nil {
						data = marshal(mu.doc)
					}
					st.single++
					st.byName[mu.name]++
					jsOK, _ := c.jsValid(data)
					m, ve, err := decodeErr(c, data)
					if err != nil {
						t.Fatalf("%s: non-ValidationError %v", mu.name, err)
					}
					if mu.kind == 0 {
						if ve != nil {
							t.Errorf("%s: rejected: %v\n%s", mu.name, ve, data)
							continue
						}
						if jsOK == mu.divergent {
							t.Errorf("%s: jsonschema verdict %v, expected divergent=%v\n%s", mu.name, jsOK, mu.divergent, data)
						}
						if mu.divergent {
							st.divergent++
						} else {
							roundTrip(t, c, m, mu.name)
						}
						continue
					}
					if jsOK {
						t.Errorf("%s: jsonschema accepts a mutation expected to fail\n%s", mu.name, data)
					}
					if ve == nil {
						t.Errorf("%s: accepted, want %v at %q\n%s", mu.name, mu.kind, mu.path, data)
						continue
					}
					if ve.Kind != mu.kind || (mu.kind != ocpp.KindFormation || mu.path != "") && ve.Path != mu.path {
						t.Errorf("%s: got %v at %q (%s), want %v at %q\n%s", mu.name, ve.Kind, ve.Path, ve.Msg, mu.kind, mu.path, data)
					}
				}
			}
			// random multi-mutations: accept/reject must agree with the oracle
			for i := 0; i < randomPer; i++ {
				doc := deepCopy(docs[r.Intn(len(docs))])
				var data []byte
				if r.Intn(5) == 0 {
					data = byteMutation(r, marshal(doc))
					st.bytesMut++
				} else {
					for k := 1 + r.Intn(3); k > 0; k-- {
						sites := c.sites(doc)
						st := sites[r.Intn(len(sites))]
						var pick []mutation
						for _, mu := range c.faultsAt(r, doc, st, nil) {
							if !mu.divergent || mu.name == "null-optional" {
								pick = append(pick, mu)
							}
						}
						pick = c.benign(r, doc, st, pick)
						if len(pick) > 0 {
							doc = pick[r.Intn(len(pick))].materialize().doc
						}
					}
					data = marshal(doc)
				}
				st.random++
				c.compareOracle(t, r, data, st)
			}
		})
	}
	t.Cleanup(func() {
		var sum diffStats
		sum.byName = map[string]int{}
		for _, st := range total {
			sum.valid += st.valid
			sum.single += st.single
			sum.random += st.random
			sum.bytesMut += st.bytesMut
			sum.accepted += st.accepted
			sum.divergent += st.divergent
			for k, v := range st.byName {
				sum.byName[k] += v
			}
		}
		t.Logf("%d schemas: %d valid instances, %d single-fault mutations (%d divergent accepts), %d random mutations (%d byte-level, %d accepted by both)",
			len(total), sum.valid, sum.single, sum.divergent, sum.random, sum.bytesMut, sum.accepted)
		t.Logf("single-fault mutations by type: %v", sum.byName)
	})
}

// benign appends mutations of a site that keep the document valid.
func (c *schemaCase) benign(r *rand.Rand, doc any, st site, out []mutation) []mutation {
	g := &igen{c: c, r: r}
	{
		if len(st.path) == 0 {
			return out
		}
		if st.prop && !st.req {
			out = append(out, mutation{name: "drop-optional", base: doc, at: st.path, del: true})
		}
		sch := st.sch
		out = append(out, mutation{name: "regenerate", base: doc, at: st.path, val: func() any { return g.value(sch, 5) }})
	}
	return out
}

// byteMutation corrupts serialized JSON: truncation, deletion or insertion
// of a structural character.
func byteMutation(r *rand.Rand, data []byte) []byte {
	i := r.Intn(len(data))
	switch r.Intn(3) {
	case 0:
		return data[:i]
	case 1:
		return append(append([]byte(nil), data[:i]...), data[i+1:]...)
	}
	ins := []byte(`{}[],:"\ 0-.e`)
	c := ins[r.Intn(len(ins))]
	return append(append(append([]byte(nil), data[:i]...), c), data[i:]...)
}

func (c *schemaCase) compareOracle(t *testing.T, r *rand.Rand, data []byte, st *diffStats) {
	t.Helper()
	m, ve, err := decodeErr(c, data)
	if err != nil {
		t.Fatalf("non-ValidationError %v", err)
	}
	if !json.Valid(data) {
		if ve == nil || ve.Kind != ocpp.KindFormation {
			t.Errorf("invalid JSON: got %v, want KindFormation\n%s", ve, data)
		}
		return
	}
	if ve != nil && ve.Msg == "duplicate property" && hasDuplicateKeys(data) {
		return // divergence: duplicate keys are a KindFormation error for us
	}
	if ve != nil && ve.Kind == ocpp.KindType && strings.Contains(ve.Msg, "out of range") {
		return // divergence: integers beyond int64 / numbers beyond float64
	}
	doc, _ := jsonschemaParse(data)
	doc = c.normalize(doc, c.root)
	jsOK := c.sch.Validate(doc) == nil
	if jsOK != (ve == nil) {
		t.Errorf("verdict differs: jsonschema %v, ours %v\n%s", jsOK, ve, data)
		return
	}
	if jsOK {
		st.accepted++
		if r.Intn(4) == 0 {
			roundTrip(t, c, m, "random")
		}
	}
}

// ---- Validate() against the oracle ----

// TestValidateAgainstJSONSchema mutates decoded Go values through reflection
// and checks that Validate() accepts exactly when the independent validator
// accepts the encoding, and reports the mutated field's path.
func TestValidateAgainstJSONSchema(t *testing.T) {
	cases := loadCases(t)
	per := 8
	if testing.Short() {
		per = 3
	}
	var count atomic.Int64
	t.Cleanup(func() { t.Logf("%d Validate() mutations compared", count.Load()) })
	for _, c := range cases {
		t.Run(c.name(), func(t *testing.T) {
			t.Parallel()
			validateCase(t, c, per, &count)
		})
	}
}

func validateCase(t *testing.T, c *schemaCase, per int, count *atomic.Int64) {
	{
		seed := int64(len(c.name())) * 7919
		for _, ch := range c.name() {
			seed = seed*131 + int64(ch)
		}
		r := rand.New(rand.NewSource(seed))
		g := &igen{c: c, r: r}
		for i := 0; i < per; i++ {
			data := marshal(g.value(c.root, 0))
			m, ve, err := decodeErr(c, data)
			if err != nil || ve != nil {
				t.Fatalf("%s: %v %v", c.name(), err, ve)
			}
			var leaves []leaf
			collectLeaves(reflect.ValueOf(m).Elem(), nil, &leaves)
			for _, lf := range leaves {
				for _, mut := range leafMutations(lf) {
					m2 := c.newMsg()
					if err := m2.DecodeOCPP(data, strictOpts); err != nil {
						t.Fatal(err)
					}
					target := reflect.ValueOf(m2).Elem()
					for _, ix := range lf.index {
						target = walkIndex(target, ix)
					}
					mut.apply(target)
					verr := m2.Validate()
					enc := m2.AppendOCPP(nil)
					jsOK, perr := c.jsValid(enc)
					if perr != nil {
						// only a Go-built raw value that is not JSON may break the encoding
						jsOK = false
						if mut.name != "raw-invalid" {
							t.Errorf("%s: %s: encoding is not JSON: %s", c.name(), mut.name, enc)
						}
					}
					count.Add(1)
					if (verr == nil) != jsOK {
						t.Errorf("%s: %s at %s: Validate() = %v, jsonschema accepts = %v\n%s", c.name(), mut.name, lf.path, verr, jsOK, enc)
						continue
					}
					if verr != nil {
						var v *ocpp.ValidationError
						if !errors.As(verr, &v) {
							t.Errorf("%s: Validate returned %T", c.name(), verr)
						} else if v.Path != lf.path || (mut.kind != 0 && v.Kind != mut.kind) {
							t.Errorf("%s: %s: Validate() = %v at %q, want %v at %q", c.name(), mut.name, v.Kind, v.Path, mut.kind, lf.path)
						}
					}
				}
			}
		}
	}
}

type leaf struct {
	index [][]int // reflect path: field index, or {-1, i} for slice element
	path  string
	v     reflect.Value
}

func walkIndex(v reflect.Value, ix []int) reflect.Value {
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	if ix[0] == -1 {
		return v.Index(ix[1])
	}
	return v.FieldByIndex(ix)
}

func jsonName(f reflect.StructField) string {
	tag := f.Tag.Get("json")
	name, _, _ := strings.Cut(tag, ",")
	return name
}

var dateTimeType = reflect.TypeOf(ocpp.DateTime{})

func collectLeaves(v reflect.Value, idx [][]int, out *[]leaf) {
	var rec func(v reflect.Value, idx [][]int, path string)
	rec = func(v reflect.Value, idx [][]int, path string) {
		if v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return
			}
			if v.Type().Elem() != dateTimeType && v.Type().Elem().Kind() == reflect.Struct {
				v = v.Elem()
			}
		}
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name := jsonName(f)
			if name == "" || name == "-" {
				continue
			}
			p := name
			if path != "" {
				p = path + "." + name
			}
			fv := v.Field(i)
			fidx := append(append([][]int(nil), idx...), []int{i})
			*out = append(*out, leaf{index: fidx, path: p, v: fv})
			switch {
			case fv.Kind() == reflect.Struct && fv.Type() != dateTimeType:
				rec(fv, fidx, p)
			case fv.Kind() == reflect.Pointer && !fv.IsNil() && fv.Type().Elem().Kind() == reflect.Struct && fv.Type().Elem() != dateTimeType:
				rec(fv.Elem(), fidx, p)
			case fv.Kind() == reflect.Slice && fv.Type().Elem().Kind() != reflect.Uint8:
				for j := 0; j < fv.Len(); j++ {
					eidx := append(append([][]int(nil), fidx...), []int{-1, j})
					ep := fmt.Sprintf("%s[%d]", p, j)
					ev := fv.Index(j)
					if ev.Kind() == reflect.Struct {
						rec(ev, eidx, ep)
					} else {
						*out = append(*out, leaf{index: eidx, path: ep, v: ev})
					}
				}
			}
		}
	}
	rec(v, idx, "")
}

type leafMut struct {
	name  string
	kind  ocpp.ErrorKind
	apply func(v reflect.Value)
}

func leafMutations(lf leaf) []leafMut {
	v := lf.v
	t := v.Type()
	var out []leafMut
	isEnum := t.Kind() == reflect.String && t.Name() != "string"
	switch {
	case isEnum:
		out = append(out, leafMut{"enum-bogus", ocpp.KindProperty, func(v reflect.Value) { v.SetString("Bogus") }})
	case t.Kind() == reflect.String:
		out = append(out, leafMut{"string-long", ocpp.KindProperty, func(v reflect.Value) { v.SetString(strings.Repeat("é", 6000)) }})
		out = append(out, leafMut{"string-invalid-utf8", 0, func(v reflect.Value) { v.SetString("a\xffb\"\\\x01") }})
	case t.Kind() == reflect.Int:
		out = append(out, leafMut{"int-negative", ocpp.KindProperty, func(v reflect.Value) { v.SetInt(-5) }})
		out = append(out, leafMut{"int-large", ocpp.KindProperty, func(v reflect.Value) { v.SetInt(1 << 40) }})
	case t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Int:
		out = append(out, leafMut{"int-negative", ocpp.KindProperty, func(v reflect.Value) { x := -7; v.Set(reflect.ValueOf(&x)) }})
	case t.Kind() == reflect.Float64:
		out = append(out, leafMut{"float-nan", ocpp.KindProperty, func(v reflect.Value) { v.SetFloat(nan()) }})
		out = append(out, leafMut{"float-fraction", ocpp.KindProperty, func(v reflect.Value) { v.SetFloat(-0.05) }})
	case t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Float64:
		out = append(out, leafMut{"float-inf", ocpp.KindProperty, func(v reflect.Value) { x := inf(); v.Set(reflect.ValueOf(&x)) }})
		out = append(out, leafMut{"float-fraction", ocpp.KindProperty, func(v reflect.Value) { x := 1e6 + 0.25; v.Set(reflect.ValueOf(&x)) }})
	case t == dateTimeType || (t.Kind() == reflect.Pointer && t.Elem() == dateTimeType):
		out = append(out, leafMut{"date-time-year-10000", ocpp.KindProperty, func(v reflect.Value) {
			d, _ := ocpp.ParseDateTime("9999-12-31T23:00:00Z")
			d.Time = d.Time.AddDate(1, 0, 0)
			if v.Kind() == reflect.Pointer {
				v.Set(reflect.ValueOf(&d))
			} else {
				v.Set(reflect.ValueOf(d))
			}
		}})
	case t.Kind() == reflect.Slice && t.Elem().Kind() != reflect.Uint8:
		out = append(out, leafMut{"slice-nil", ocpp.KindOccurrence, func(v reflect.Value) { v.Set(reflect.Zero(v.Type())) }})
	case t == reflect.TypeOf(json.RawMessage(nil)):
		out = append(out, leafMut{"raw-invalid", ocpp.KindFormation, func(v reflect.Value) { v.SetBytes([]byte("{x")) }})
	}
	return out
}

// truncateTimes truncates every DateTime reachable from v to milliseconds.
func truncateTimes(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			truncateTimes(v.Elem())
		}
	case reflect.Struct:
		if v.Type() == dateTimeType {
			d := v.Interface().(ocpp.DateTime)
			d.Time = d.Time.Truncate(time.Millisecond)
			v.Set(reflect.ValueOf(d))
			return
		}
		for i := 0; i < v.NumField(); i++ {
			truncateTimes(v.Field(i))
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() != reflect.Uint8 {
			for i := 0; i < v.Len(); i++ {
				truncateTimes(v.Index(i))
			}
		}
	}
}
