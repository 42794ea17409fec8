package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// docChecker validates answers against the OpenAPI document: the status
// must be documented for the operation (500/503 fall under "default"),
// the body must match the documented schema (JSON Schema 2020-12, formats
// asserted), and every time must be RFC 3339 in UTC.
type docChecker struct {
	doc       map[string]any
	mux       *http.ServeMux // "METHOD pattern" of every documented operation
	ops       map[string]map[int]*jsonschema.Schema
	media     map[string]map[int][]string // non-JSON answers: their media types
	errSchema *jsonschema.Schema
	comps     map[string]*jsonschema.Schema
}

const schemasURL = "mem:///openapi-schemas.json"

// docOps lists the documented operations as "METHOD /path", sorted.
func (d *docChecker) docOps() []string {
	var out []string
	for path, item := range d.doc["paths"].(map[string]any) {
		for method := range item.(map[string]any) {
			out = append(out, strings.ToUpper(method)+" "+path)
		}
	}
	sort.Strings(out)
	return out
}

// muxPattern turns an OpenAPI path into the ServeMux pattern.
func muxPattern(path string) string {
	if strings.HasSuffix(path, "/") {
		return path + "{$}"
	}
	return path
}

func newDocChecker(t *testing.T, raw []byte) *docChecker {
	t.Helper()
	d := &docChecker{mux: http.NewServeMux(), ops: map[string]map[int]*jsonschema.Schema{}, media: map[string]map[int][]string{},
		comps: map[string]*jsonschema.Schema{}}
	if err := json.Unmarshal(raw, &d.doc); err != nil {
		t.Fatalf("the OpenAPI document is not JSON: %v", err)
	}
	components := d.doc["components"].(map[string]any)["schemas"].(map[string]any)
	defs := map[string]any{}
	for k, v := range components {
		defs[k] = v
	}
	type respRef struct {
		op     string
		status int
		def    string // "" for no content
	}
	var refs []respRef
	for path, item := range d.doc["paths"].(map[string]any) {
		for method, o := range item.(map[string]any) {
			key := strings.ToUpper(method) + " " + muxPattern(path)
			d.mux.HandleFunc(key, func(http.ResponseWriter, *http.Request) {})
			d.ops[key] = map[int]*jsonschema.Schema{}
			d.media[key] = map[int][]string{}
			for status, rv := range o.(map[string]any)["responses"].(map[string]any) {
				if status == "default" {
					continue
				}
				code, err := strconv.Atoi(status)
				if err != nil {
					t.Fatalf("%s: response key %q is not a status", key, status)
				}
				ref := respRef{op: key, status: code}
				if content, ok := rv.(map[string]any)["content"].(map[string]any); ok {
					if js, ok := content["application/json"].(map[string]any); ok {
						ref.def = fmt.Sprintf("resp%d", len(refs))
						defs[ref.def] = js["schema"]
					}
					// Other media types: the only answer, or alternatives of
					// the JSON one (a report as CSV).
					for mt := range content {
						if mt != "application/json" {
							d.media[key][code] = append(d.media[key][code], mt)
						}
					}
					if len(content) == 0 {
						t.Fatalf("%s %d: content without a media type", key, code)
					}
				}
				refs = append(refs, ref)
			}
		}
	}
	root, err := json.Marshal(map[string]any{"$schema": "https://json-schema.org/draft/2020-12/schema", "$defs": defs})
	if err != nil {
		t.Fatal(err)
	}
	root = bytes.ReplaceAll(root, []byte(`"#/components/schemas/`), []byte(`"#/$defs/`))
	rootDoc, err := jsonschema.UnmarshalJSON(bytes.NewReader(root))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(schemasURL, rootDoc); err != nil {
		t.Fatal(err)
	}
	compile := func(def string) *jsonschema.Schema {
		s, err := c.Compile(schemasURL + "#/$defs/" + def)
		if err != nil {
			t.Fatalf("schema %s does not compile: %v", def, err)
		}
		return s
	}
	for name := range components {
		d.comps[name] = compile(name)
	}
	d.errSchema = d.comps["Error"]
	for _, ref := range refs {
		var s *jsonschema.Schema
		if ref.def != "" {
			s = compile(ref.def)
		}
		d.ops[ref.op][ref.status] = s
	}
	return d
}

// check validates one answer to req.
func (d *docChecker) check(t *testing.T, req *http.Request, r *resp) {
	t.Helper()
	_, pattern := d.mux.Handler(req)
	if pattern == "" {
		if r.status != http.StatusNotFound && r.status != http.StatusMethodNotAllowed {
			t.Errorf("%s %s is no documented operation but answered %d", req.Method, req.URL.Path, r.status)
		}
		d.validate(t, "Error", d.errSchema, r)
		return
	}
	ct, _, _ := strings.Cut(r.header.Get("Content-Type"), ";")
	if media, ok := d.media[pattern][r.status]; ok && (strings.TrimSpace(ct) != "application/json" || d.ops[pattern][r.status] == nil) {
		found := false
		for _, m := range media {
			found = found || strings.TrimSpace(ct) == m
		}
		if !found {
			t.Errorf("%s answered %d with Content-Type %q; the document says %v", pattern, r.status, r.header.Get("Content-Type"), media)
		}
		if len(r.body) == 0 {
			t.Errorf("%s answered %d without a body", pattern, r.status)
		}
		return
	}
	statuses := d.ops[pattern]
	s, ok := statuses[r.status]
	switch {
	case ok && s == nil:
		if len(r.body) != 0 {
			t.Errorf("%s answered %d with a body, but the document says no content: %s", pattern, r.status, r.body)
		}
		return
	case ok:
		d.validate(t, pattern+" "+strconv.Itoa(r.status), s, r)
	case r.status == http.StatusInternalServerError || r.status == http.StatusServiceUnavailable:
		d.validate(t, "Error", d.errSchema, r) // documented as "default"
	default:
		t.Errorf("%s answered %d, which its OpenAPI operation does not list (%s)", pattern, r.status, r.body)
		return
	}
}

func (d *docChecker) validate(t *testing.T, what string, s *jsonschema.Schema, r *resp) {
	t.Helper()
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s: Content-Type %q, want application/json", what, ct)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(r.body))
	if err != nil {
		t.Errorf("%s: body is not JSON: %v: %s", what, err, r.body)
		return
	}
	if err := s.Validate(v); err != nil {
		t.Errorf("%s: body does not match the documented schema: %#v\nbody: %s", what, err, r.body)
	}
	checkUTC(t, what, v)
}

// checkUTC requires every time-valued field (*_at, timestamp) to be RFC 3339 UTC.
func checkUTC(t *testing.T, what string, v any) {
	t.Helper()
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if s, ok := val.(string); ok && (strings.HasSuffix(k, "_at") || k == "at" || k == "timestamp") {
				if !utcTimeRE.MatchString(s) {
					t.Errorf("%s: %s = %q is not an RFC 3339 UTC time", what, k, s)
				}
			}
			checkUTC(t, what, val)
		}
	case []any:
		for _, val := range x {
			checkUTC(t, what, val)
		}
	}
}
