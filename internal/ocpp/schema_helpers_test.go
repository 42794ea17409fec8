package ocpp_test

// Helpers for the differential tests: loading the official schemas into
// github.com/santhosh-tekuri/jsonschema/v6 (the independent validator),
// generating valid instances from a schema, enumerating mutation sites, and
// normalising documents for the documented divergences.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/chargestar/chargestar/internal/ocpp"
	"github.com/chargestar/chargestar/internal/ocpp/v16"
	"github.com/chargestar/chargestar/internal/ocpp/v201"
	"github.com/chargestar/chargestar/internal/ocpp/v21"
	"github.com/chargestar/chargestar/internal/testutil"
)

type schemaCase struct {
	version string
	file    string // schema file base name
	root    map[string]any
	sch     *jsonschema.Schema
	newMsg  func() ocpp.Message
}

func (c *schemaCase) name() string { return c.version + "/" + c.file }

var versionDirs = []struct {
	version string
	dir     string
	actions []ocpp.ActionInfo
	reqSfx  string
}{
	{"v16", "v16-json", v16.Actions(), ""},
	{"v201", "v201-json", v201.Actions(), "Request"},
	{"v21", "v21-json", v21.Actions(), "Request"},
}

// loadCases compiles every schema of every version and pairs it with the
// generated Go type (via the action registry).
func loadCases(t testing.TB) []*schemaCase {
	t.Helper()
	shared := testutil.RequireSharedDir(t)
	var out []*schemaCase
	for _, vd := range versionDirs {
		dir := filepath.Join(shared, "ocpp-spec", vd.dir)
		bind := map[string]func() ocpp.Message{}
		for _, a := range vd.actions {
			if a.NewResponse == nil {
				bind[a.Name] = a.NewRequest // SEND-only: file is <Action>.json
			} else {
				bind[a.Name+vd.reqSfx] = a.NewRequest
			}
			if a.NewResponse != nil {
				bind[a.Name+"Response"] = a.NewResponse
			}
		}
		files, err := filepath.Glob(filepath.Join(dir, "*.json"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no schemas in %s", dir)
		}
		if len(files) != len(bind) {
			t.Fatalf("%s: %d schema files but %d registered messages", vd.version, len(files), len(bind))
		}
		for _, f := range files {
			base := strings.TrimSuffix(filepath.Base(f), ".json")
			if vd.version == "v16" && base == "StopTransaction" {
				f = filepath.Join(dir, "errata-2025-04", "StopTransaction.json")
			}
			newMsg := bind[base]
			if newMsg == nil {
				t.Fatalf("%s: no generated message for %s", vd.version, base)
			}
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			c := jsonschema.NewCompiler()
			url := "file:///" + vd.version + "/" + base + ".json"
			if err := c.AddResource(url, doc); err != nil {
				t.Fatal(err)
			}
			sch, err := c.Compile(url)
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			out = append(out, &schemaCase{version: vd.version, file: base, root: doc.(map[string]any), sch: sch, newMsg: newMsg})
		}
	}
	return out
}

// jsValid runs the independent validator on JSON bytes.
func (c *schemaCase) jsValid(data []byte) (bool, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return false, err
	}
	return c.sch.Validate(doc) == nil, nil
}

// ---- schema access ----

func (c *schemaCase) resolve(s map[string]any) map[string]any {
	if ref, ok := s["$ref"].(string); ok {
		name := strings.TrimPrefix(ref, "#/definitions/")
		return c.root["definitions"].(map[string]any)[name].(map[string]any)
	}
	return s
}

func numKW(s map[string]any, k string) (float64, bool) {
	v, ok := s[k]
	if !ok {
		return 0, false
	}
	f, err := v.(json.Number).Float64()
	if err != nil {
		panic(err)
	}
	return f, true
}

func intKW(s map[string]any, k string) (int, bool) {
	f, ok := numKW(s, k)
	return int(f), ok
}

func props(s map[string]any) (map[string]any, []string) {
	p, _ := s["properties"].(map[string]any)
	names := make([]string, 0, len(p))
	for n := range p {
		names = append(names, n)
	}
	sort.Strings(names)
	return p, names
}

func requiredSet(s map[string]any) map[string]bool {
	r := map[string]bool{}
	if l, ok := s["required"].([]any); ok {
		for _, v := range l {
			r[v.(string)] = true
		}
	}
	return r
}

func closed(s map[string]any) bool {
	b, ok := s["additionalProperties"].(bool)
	return ok && !b
}

// ---- instance generation ----

type igen struct {
	c *schemaCase
	r *rand.Rand
}

var uris = []string{"https://example.com/fw/v1.2.bin", "ftp://user:pw@files.example.org/diag", "http://[2001:db8::1]:8080/x?y=1", "urn:isbn:0451450523", "https://example.com/a%20b"}

var strAlphabet = []rune("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -_./:+éüß€中😀\"\\\n\t<>&\u2028")

func (g *igen) str(maxLen int) string {
	n := g.r.Intn(12)
	if maxLen >= 0 {
		if g.r.Intn(8) == 0 {
			n = maxLen // boundary
		}
		if n > maxLen {
			n = maxLen
		}
	}
	r := make([]rune, n)
	for i := range r {
		r[i] = strAlphabet[g.r.Intn(len(strAlphabet))]
	}
	return string(r)
}

func (g *igen) dateTime() string {
	t := time.Date(2000+g.r.Intn(31), time.Month(1+g.r.Intn(12)), 1+g.r.Intn(28), g.r.Intn(24), g.r.Intn(60), g.r.Intn(60), g.r.Intn(1000)*1e6, time.UTC)
	switch g.r.Intn(4) {
	case 0:
		return t.Truncate(time.Second).Format("2006-01-02T15:04:05Z")
	case 1:
		return t.In(time.FixedZone("", (g.r.Intn(27)-12)*3600+g.r.Intn(2)*1800)).Format("2006-01-02T15:04:05.000-07:00")
	}
	return t.Format("2006-01-02T15:04:05.000Z")
}

func (g *igen) bounds(s map[string]any, defLo, defHi float64) (lo, hi float64) {
	lo, hi = defLo, defHi
	if v, ok := numKW(s, "minimum"); ok {
		lo = v
		if hi < lo {
			hi = lo + 1000
		}
	}
	if v, ok := numKW(s, "maximum"); ok {
		hi = v
		if lo > hi {
			lo = hi - 1000
		}
	}
	return lo, hi
}

func (g *igen) randomJSON(depth int) any {
	switch k := g.r.Intn(6); {
	case k == 0 && depth < 3:
		m := map[string]any{}
		for i := g.r.Intn(3); i > 0; i-- {
			m[g.str(6)] = g.randomJSON(depth + 1)
		}
		return m
	case k == 1 && depth < 3:
		var a []any
		for i := g.r.Intn(3); i > 0; i-- {
			a = append(a, g.randomJSON(depth+1))
		}
		return append([]any{}, a...)
	case k == 2:
		return json.Number(strconv.Itoa(g.r.Intn(2000) - 1000))
	case k == 3:
		return g.r.Intn(2) == 0
	case k == 4:
		return nil
	}
	return g.str(-1)
}

func (g *igen) value(s map[string]any, depth int) any {
	s = g.c.resolve(s)
	switch s["type"] {
	case "object":
		obj := map[string]any{}
		p, names := props(s)
		req := requiredSet(s)
		for _, n := range names {
			if req[n] || (depth < 3 && g.r.Intn(2) == 0) || (depth < 7 && g.r.Intn(4) == 0) {
				obj[n] = g.value(p[n].(map[string]any), depth+1)
			}
		}
		if !closed(s) && g.r.Intn(3) == 0 {
			obj["vendorExtra"] = g.randomJSON(0)
		}
		return obj
	case "array":
		lo, _ := intKW(s, "minItems")
		hi, ok := intKW(s, "maxItems")
		if !ok || hi > lo+2 {
			hi = lo + 2
		}
		if depth >= 7 {
			hi = lo
		}
		n := lo + g.r.Intn(hi-lo+1)
		a := make([]any, n)
		for i := range a {
			a[i] = g.value(s["items"].(map[string]any), depth+1)
		}
		return a
	case "string":
		if e, ok := s["enum"].([]any); ok {
			return e[g.r.Intn(len(e))]
		}
		switch s["format"] {
		case "date-time":
			return g.dateTime()
		case "uri":
			return uris[g.r.Intn(len(uris))]
		}
		ml, ok := intKW(s, "maxLength")
		if !ok {
			ml = -1
		}
		return g.str(ml)
	case "integer":
		lo, hi := g.bounds(s, -1000, 100000)
		v := int(lo) + g.r.Intn(int(hi-lo)+1)
		if g.r.Intn(6) == 0 {
			v = int(lo) // boundary
		}
		return json.Number(strconv.Itoa(v))
	case "number":
		lo, hi := g.bounds(s, -1000, 100000)
		v := float64(int(lo*10)+g.r.Intn(int((hi-lo)*10)+1)) / 10
		if v < lo {
			v = lo
		}
		if v > hi {
			v = hi
		}
		return json.Number(strconv.FormatFloat(v, 'f', -1, 64))
	case "boolean":
		return g.r.Intn(2) == 0
	case nil:
		return g.randomJSON(0)
	}
	panic(fmt.Sprintf("unsupported schema type %v", s["type"]))
}

// ---- documents ----

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		a := make([]any, len(x))
		for i, e := range x {
			a[i] = deepCopy(e)
		}
		return a
	}
	return v
}

func marshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

type step = any // string key or int index

func pathString(p []step) string {
	var b strings.Builder
	for _, s := range p {
		switch x := s.(type) {
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(x)
		case int:
			b.WriteString("[" + strconv.Itoa(x) + "]")
		}
	}
	return b.String()
}

// set replaces (or with del, removes) the value at path in doc and returns the new doc.
func set(doc any, path []step, v any, del bool) any {
	if len(path) == 0 {
		return v
	}
	cur := doc
	for _, s := range path[:len(path)-1] {
		switch x := s.(type) {
		case string:
			cur = cur.(map[string]any)[x]
		case int:
			cur = cur.([]any)[x]
		}
	}
	switch x := path[len(path)-1].(type) {
	case string:
		if del {
			delete(cur.(map[string]any), x)
		} else {
			cur.(map[string]any)[x] = v
		}
	case int:
		cur.([]any)[x] = v
	}
	return doc
}

func get(doc any, path []step) any {
	cur := doc
	for _, s := range path {
		switch x := s.(type) {
		case string:
			cur = cur.(map[string]any)[x]
		case int:
			cur = cur.([]any)[x]
		}
	}
	return cur
}

// site is a value in a document together with its schema.
type site struct {
	path []step
	sch  map[string]any // resolved schema of the value
	req  bool           // a required property
	prop bool           // an object property (false: array element or root)
}

func (c *schemaCase) sites(doc any) []site {
	var out []site
	var walk func(v any, s map[string]any, path []step, req, prop bool)
	walk = func(v any, s map[string]any, path []step, req, prop bool) {
		s = c.resolve(s)
		out = append(out, site{path: append([]step(nil), path...), sch: s, req: req, prop: prop})
		switch x := v.(type) {
		case map[string]any:
			if s["type"] != "object" {
				return
			}
			p, names := props(s)
			rq := requiredSet(s)
			for _, n := range names {
				if e, ok := x[n]; ok {
					walk(e, p[n].(map[string]any), append(path, n), rq[n], true)
				}
			}
		case []any:
			if s["type"] != "array" {
				return
			}
			for i, e := range x {
				walk(e, s["items"].(map[string]any), append(path, i), false, false)
			}
		}
	}
	walk(doc, c.root, nil, true, false)
	return out
}

// normalize applies the documented divergences to a parsed document so that
// the independent validator can serve as the oracle: optional properties that
// are null are removed (we treat them as absent), and date-time strings that
// our lenient parser accepts are rewritten in strict RFC 3339.
func (c *schemaCase) normalize(v any, s map[string]any) any {
	s = c.resolve(s)
	switch x := v.(type) {
	case map[string]any:
		if s["type"] != "object" {
			return v
		}
		p, _ := props(s)
		rq := requiredSet(s)
		for k, e := range x {
			ps, ok := p[k]
			if !ok {
				continue
			}
			if e == nil && !rq[k] {
				delete(x, k)
				continue
			}
			x[k] = c.normalize(e, ps.(map[string]any))
		}
	case []any:
		if s["type"] != "array" {
			return v
		}
		for i, e := range x {
			x[i] = c.normalize(e, s["items"].(map[string]any))
		}
	case string:
		if s["format"] == "date-time" {
			if t, err := ocpp.ParseDateTime(x); err == nil {
				return t.Time.Format(time.RFC3339Nano)
			}
		}
	}
	return v
}

// hasDuplicateKeys reports whether some object in data repeats a key (our
// decoder rejects that, encoding/json keeps the last one).
func hasDuplicateKeys(data []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(data))
	var walk func() bool
	walk = func() bool {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		switch tok {
		case json.Delim('{'):
			seen := map[string]bool{}
			for dec.More() {
				k, _ := dec.Token()
				ks, _ := k.(string)
				if seen[ks] {
					return true
				}
				seen[ks] = true
				if walk() {
					return true
				}
			}
			dec.Token()
		case json.Delim('['):
			for dec.More() {
				if walk() {
					return true
				}
			}
			dec.Token()
		}
		return false
	}
	return walk()
}

func jsonschemaParse(data []byte) (any, error) {
	return jsonschema.UnmarshalJSON(bytes.NewReader(data))
}

func nan() float64 { return math.NaN() }
func inf() float64 { return math.Inf(1) }
