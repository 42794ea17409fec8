package api

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// schemaGen derives JSON Schemas (the dialect of OpenAPI 3.1, JSON Schema
// 2020-12) from the request and response types, so the document cannot
// drift from what is encoded. Conventions:
//
//   - a field is required unless its json tag has omitempty or omitzero;
//   - a pointer (or Optional) is nullable;
//   - struct types become components named after the Go type (List[T]
//     becomes "<T>List");
//   - types named *Request reject unknown properties, as the decoder does;
//   - tags doc, enum (comma-separated), pattern, format, example,
//     minLength, maxLength, minimum and maximum add the matching keywords;
//     nullable:"false" drops null from an Optional that must not be null.
type schemaGen struct {
	defs  map[string]any
	types map[string]reflect.Type
}

// jsonSchemaer is implemented by types that describe themselves.
type jsonSchemaer interface {
	jsonSchema(g *schemaGen) map[string]any
}

var (
	timeType     = reflect.TypeFor[time.Time]()
	rawType      = reflect.TypeFor[json.RawMessage]()
	schemaerType = reflect.TypeFor[jsonSchemaer]()
)

func newSchemaGen() *schemaGen {
	return &schemaGen{defs: map[string]any{}, types: map[string]reflect.Type{}}
}

// schema returns the schema of t (a $ref for a struct).
func (g *schemaGen) schema(t reflect.Type) map[string]any {
	if t.Implements(schemaerType) {
		return reflect.Zero(t).Interface().(jsonSchemaer).jsonSchema(g)
	}
	switch t {
	case timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case rawType:
		return map[string]any{"type": "object"}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return nullable(g.schema(t.Elem()))
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int32, reflect.Int64:
		s := map[string]any{"type": "integer"}
		if t.Kind() == reflect.Int64 {
			s["format"] = "int64"
		}
		return s
	case reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice:
		return map[string]any{"type": "array", "items": g.schema(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.schema(t.Elem())}
	case reflect.Struct:
		return g.ref(t)
	}
	panic(fmt.Sprintf("api: no JSON schema for %v", t))
}

// ref registers struct type t as a component and returns a reference.
func (g *schemaGen) ref(t reflect.Type) map[string]any {
	name := schemaName(t)
	if prev, ok := g.types[name]; ok && prev != t {
		panic(fmt.Sprintf("api: schema name %s used by %v and %v", name, prev, t))
	}
	if _, ok := g.types[name]; !ok {
		g.types[name] = t
		g.defs[name] = g.object(t)
	}
	return map[string]any{"$ref": "#/components/schemas/" + name}
}

// schemaName is the component name of a struct type.
func schemaName(t reflect.Type) string {
	name := t.Name()
	if base, _, ok := strings.Cut(name, "["); ok {
		// A generic instance: List[pkg.T] → TList.
		f, _ := t.FieldByName("Items")
		return schemaName(f.Type.Elem()) + base
	}
	return name
}

func (g *schemaGen) object(t reflect.Type) map[string]any {
	props := map[string]any{}
	var required []string
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		s := cloneSchema(g.schema(f.Type))
		applyTags(s, f.Tag)
		props[name] = s
		if !strings.Contains(opts, "omitempty") && !strings.Contains(opts, "omitzero") {
			required = append(required, name)
		}
	}
	s := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		s["required"] = required
	}
	if strings.HasSuffix(t.Name(), "Request") {
		s["additionalProperties"] = false
	}
	if d, ok := typeDocs[t.Name()]; ok {
		s["description"] = d
	}
	return s
}

func cloneSchema(s map[string]any) map[string]any {
	out := make(map[string]any, len(s)+2)
	for k, v := range s {
		out[k] = v
	}
	return out
}

// nullable lets s also be null.
func nullable(s map[string]any) map[string]any {
	if _, ok := s["$ref"]; ok {
		return map[string]any{"anyOf": []any{s, map[string]any{"type": "null"}}}
	}
	out := cloneSchema(s)
	if t, ok := s["type"].(string); ok {
		out["type"] = []any{t, "null"}
	}
	return out
}

func isNullable(s map[string]any) bool {
	if ts, ok := s["type"].([]any); ok {
		for _, t := range ts {
			if t == "null" {
				return true
			}
		}
	}
	return false
}

func applyTags(s map[string]any, tag reflect.StructTag) {
	if tag.Get("nullable") == "false" {
		if ts, ok := s["type"].([]any); ok && len(ts) == 2 && ts[1] == "null" {
			s["type"] = ts[0]
		}
	}
	if v, ok := tag.Lookup("doc"); ok {
		s["description"] = v
	}
	if v, ok := tag.Lookup("enum"); ok {
		var enum []any
		for e := range strings.SplitSeq(v, ",") {
			if n, err := strconv.Atoi(e); err == nil && s["type"] == "integer" {
				enum = append(enum, n)
			} else {
				enum = append(enum, e)
			}
		}
		if isNullable(s) {
			enum = append(enum, nil)
		}
		s["enum"] = enum
	}
	for _, k := range []string{"pattern", "format"} {
		if v, ok := tag.Lookup(k); ok {
			s[k] = v
		}
	}
	if v, ok := tag.Lookup("example"); ok {
		s["examples"] = []any{v}
	}
	for _, k := range []string{"minLength", "maxLength", "minimum", "maximum"} {
		if v, ok := tag.Lookup(k); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				panic(fmt.Sprintf("api: tag %s:%q is not an integer", k, v))
			}
			s[k] = n
		}
	}
}

// jsonSchema implements jsonSchemaer: the value's schema, or null.
func (Optional[T]) jsonSchema(g *schemaGen) map[string]any {
	return nullable(g.schema(reflect.TypeFor[T]()))
}
