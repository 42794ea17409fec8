package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// jv is an order-preserving JSON value (the generator needs schema property
// order; encoding/json maps lose it).
type jv struct {
	kind byte // 'o' object, 'a' array, 's' string, 'n' number, 'b' bool, 'z' null
	keys []string
	vals []*jv
	arr  []*jv
	str  string // string value or number literal
	b    bool
}

func (v *jv) get(k string) *jv {
	if v == nil || v.kind != 'o' {
		return nil
	}
	for i, kk := range v.keys {
		if kk == k {
			return v.vals[i]
		}
	}
	return nil
}

func parseJSON(data []byte) (*jv, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := parseValue(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("data after top-level value")
	}
	return v, nil
}

func parseValue(dec *json.Decoder) (*jv, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			v := &jv{kind: 'o'}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k := kt.(string)
				for _, existing := range v.keys {
					if existing == k {
						return nil, fmt.Errorf("duplicate key %q", k)
					}
				}
				val, err := parseValue(dec)
				if err != nil {
					return nil, err
				}
				v.keys = append(v.keys, k)
				v.vals = append(v.vals, val)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return v, nil
		case '[':
			v := &jv{kind: 'a'}
			for dec.More() {
				val, err := parseValue(dec)
				if err != nil {
					return nil, err
				}
				v.arr = append(v.arr, val)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return v, nil
		}
	case string:
		return &jv{kind: 's', str: t}, nil
	case json.Number:
		return &jv{kind: 'n', str: string(t)}, nil
	case bool:
		return &jv{kind: 'b', b: t}, nil
	case nil:
		return &jv{kind: 'z'}, nil
	}
	return nil, fmt.Errorf("unexpected token %v", tok)
}

// schema is the subset of JSON Schema (draft-04/06) used by the OCPP schemas.
type schema struct {
	loc         string // "<File>#<location>" for messages and override keys
	ref         string
	typ         string
	format      string
	enum        []string
	props       []*prop
	required    []string
	addlProps   *bool // nil: keyword absent (additional properties allowed)
	items       *schema
	minItems    int // -1 when absent
	maxItems    int
	minLength   int
	maxLength   int
	minimum     string // literal, "" when absent
	maximum     string
	multipleOf  string
	pattern     string
	definitions map[string]*schema
	defOrder    []string
}

type prop struct {
	name string
	s    *schema
}

// ignoredKeywords carry documentation or tool hints only.
var ignoredKeywords = map[string]bool{
	"$schema": true, "id": true, "$id": true, "title": true, "comment": true,
	"description": true, "javaType": true, "default": true,
	// With "items" holding a single schema, additionalItems has no effect.
	"additionalItems": true,
}

func intKeyword(v *jv, name string) (int, error) {
	if v.kind != 'n' {
		return 0, fmt.Errorf("%s is not a number", name)
	}
	n, err := strconv.Atoi(v.str)
	if err != nil {
		return 0, fmt.Errorf("%s: %v", name, err)
	}
	return n, nil
}

func toSchema(v *jv, loc string) (*schema, error) {
	if v.kind != 'o' {
		return nil, fmt.Errorf("%s: schema is not an object", loc)
	}
	s := &schema{loc: loc, minItems: -1, maxItems: -1, minLength: -1, maxLength: -1}
	var err error
	for i, k := range v.keys {
		val := v.vals[i]
		switch k {
		case "$ref":
			s.ref = val.str
		case "type":
			if val.kind != 's' {
				return nil, fmt.Errorf("%s: only single-string \"type\" is supported", loc)
			}
			s.typ = val.str
		case "format":
			s.format = val.str
		case "enum":
			for _, e := range val.arr {
				if e.kind != 's' {
					return nil, fmt.Errorf("%s: non-string enum value", loc)
				}
				s.enum = append(s.enum, e.str)
			}
		case "properties":
			for j, pk := range val.keys {
				ps, err := toSchema(val.vals[j], loc+"/"+pk)
				if err != nil {
					return nil, err
				}
				s.props = append(s.props, &prop{name: pk, s: ps})
			}
		case "required":
			for _, e := range val.arr {
				s.required = append(s.required, e.str)
			}
		case "additionalProperties":
			if val.kind != 'b' {
				return nil, fmt.Errorf("%s: only boolean additionalProperties is supported", loc)
			}
			b := val.b
			s.addlProps = &b
		case "items":
			if s.items, err = toSchema(val, loc+"[]"); err != nil {
				return nil, err
			}
		case "minItems":
			if s.minItems, err = intKeyword(val, k); err != nil {
				return nil, err
			}
		case "maxItems":
			if s.maxItems, err = intKeyword(val, k); err != nil {
				return nil, err
			}
		case "minLength":
			if s.minLength, err = intKeyword(val, k); err != nil {
				return nil, err
			}
		case "maxLength":
			if s.maxLength, err = intKeyword(val, k); err != nil {
				return nil, err
			}
		case "minimum":
			s.minimum = val.str
		case "maximum":
			s.maximum = val.str
		case "multipleOf":
			s.multipleOf = val.str
		case "pattern":
			s.pattern = val.str
		case "definitions":
			s.definitions = map[string]*schema{}
			for j, dk := range val.keys {
				ds, err := toSchema(val.vals[j], loc[:strings.IndexByte(loc, '#')+1]+"/definitions/"+dk)
				if err != nil {
					return nil, err
				}
				s.definitions[dk] = ds
				s.defOrder = append(s.defOrder, dk)
			}
			sort.Strings(s.defOrder)
		default:
			if !ignoredKeywords[k] {
				return nil, fmt.Errorf("%s: unsupported keyword %q", loc, k)
			}
		}
	}
	if s.pattern != "" {
		// ECMA-262 and RE2 differ; no OCPP schema uses pattern today.
		return nil, fmt.Errorf("%s: \"pattern\" is not supported by ocppgen", loc)
	}
	return s, nil
}
