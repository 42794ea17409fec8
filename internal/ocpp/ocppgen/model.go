package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

type kind int

const (
	kString kind = iota
	kEnum
	kInt
	kFloat
	kBool
	kDateTime
	kRaw
	kStruct
	kArray
)

// typ is the Go-side type of a property or array item, with its constraints.
type typ struct {
	kind       kind
	n          *named // kEnum, kStruct (an occurrence; use canon())
	elem       *typ   // kArray
	minLen     int
	maxLen     int
	min, max   string // number literals
	multipleOf string
	places     int // multipleOf as 10^-places
	minItems   int
	maxItems   int
	uri        bool
}

func newTyp(k kind, n *named) *typ {
	return &typ{kind: k, n: n, minLen: -1, maxLen: -1, minItems: -1, maxItems: -1}
}

type field struct {
	json     string
	goName   string
	required bool
	t        *typ
	bit      int
}

// named is one occurrence of a named type (an enum or object reached at one
// schema location), or a message. Occurrences with the same final name and
// the same structure collapse into one canonical type.
type named struct {
	loc      string // "<File>#<location>"
	action   string
	isEnum   bool
	proposed string // Go name before clash resolution
	explicit bool   // named by the override table
	final    string
	canon    *named

	// enum
	values []string
	// struct
	fields []*field
	extra  bool // additional properties allowed (kept in Extra)

	// message
	isMessage  bool
	isResponse bool
	schemaID   string

	sig     string
	actions map[string]bool // canonical only: actions using the type
}

func (n *named) c() *named {
	for n.canon != nil && n.canon != n {
		n = n.canon
	}
	return n
}

type message struct {
	action   string
	request  *named
	response *named
}

type model struct {
	cfg      *versionConfig
	messages []*message // sorted by action
	occ      []*named   // all type occurrences (not messages), creation order
	enums    []*named   // canonical, sorted by final name
	structs  []*named   // canonical non-message structs, sorted
	report   []string   // notes about clash resolutions
}

type fileCtx struct {
	name   string // file base name without .json
	action string
	root   *schema
	defs   map[string]*named
}

// load reads the version's schema files (with overlays) and builds the model.
func load(cfg *versionConfig, specDir string) (*model, error) {
	files := map[string]string{} // base name → path
	ents, err := os.ReadDir(specDir)
	if err != nil {
		return nil, err
	}
	for _, e := range ents {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".json") {
			files[strings.TrimSuffix(e.Name(), ".json")] = filepath.Join(specDir, e.Name())
		}
	}
	for _, ov := range cfg.overlays {
		dir := filepath.Join(specDir, ov)
		oents, err := os.ReadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("overlay %s: %w", ov, err)
		}
		for _, e := range oents {
			base := strings.TrimSuffix(e.Name(), ".json")
			if _, ok := files[base]; !ok || !strings.HasSuffix(e.Name(), ".json") {
				return nil, fmt.Errorf("overlay file %s/%s replaces no schema", ov, e.Name())
			}
			files[base] = filepath.Join(dir, e.Name())
		}
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)

	m := &model{cfg: cfg}
	msgs := map[string]*message{}
	for _, base := range names {
		action, isResp, err := cfg.classify(base)
		if err != nil {
			return nil, err
		}
		data, err := os.ReadFile(files[base])
		if err != nil {
			return nil, err
		}
		j, err := parseJSON(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", files[base], err)
		}
		s, err := toSchema(j, base+"#")
		if err != nil {
			return nil, err
		}
		id := ""
		if v := j.get("$id"); v != nil {
			id = v.str
		} else if v := j.get("id"); v != nil {
			id = v.str
		}
		fc := &fileCtx{name: base, action: action, root: s, defs: map[string]*named{}}
		suffix := "Request"
		if isResp {
			suffix = "Response"
		}
		msg := &named{loc: base + "#", action: action, proposed: action + suffix, isMessage: true, isResponse: isResp, schemaID: id}
		msg.canon = msg
		if s.typ != "object" {
			return nil, fmt.Errorf("%s: root is not an object schema", base)
		}
		if err := m.buildStruct(msg, s, fc); err != nil {
			return nil, err
		}
		mm := msgs[action]
		if mm == nil {
			mm = &message{action: action}
			msgs[action] = mm
		}
		if isResp {
			mm.response = msg
		} else {
			mm.request = msg
		}
	}
	for a := range cfg.directions {
		if msgs[a] == nil {
			return nil, fmt.Errorf("direction table lists %s but no schema exists", a)
		}
	}
	for a, mm := range msgs {
		if _, ok := cfg.directions[a]; !ok {
			return nil, fmt.Errorf("action %s has no entry in the direction table", a)
		}
		if mm.request == nil {
			return nil, fmt.Errorf("action %s has no request schema", a)
		}
		if mm.response == nil && !cfg.sendOnly[a] {
			return nil, fmt.Errorf("action %s has no response schema", a)
		}
		m.messages = append(m.messages, mm)
	}
	sort.Slice(m.messages, func(i, j int) bool { return m.messages[i].action < m.messages[j].action })
	for key := range cfg.names {
		found := false
		for _, o := range m.occ {
			if o.loc == key {
				found = true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("name override %q matches no schema location", key)
		}
	}
	if err := m.resolve(); err != nil {
		return nil, err
	}
	return m, nil
}

// classify maps a schema file base name to its action.
func (cfg *versionConfig) classify(base string) (action string, isResp bool, err error) {
	if a, ok := strings.CutSuffix(base, "Response"); ok {
		return a, true, nil
	}
	if cfg.requestSuffix == "" {
		return base, false, nil
	}
	if a, ok := strings.CutSuffix(base, cfg.requestSuffix); ok {
		return a, false, nil
	}
	if cfg.sendOnly[base] {
		return base, false, nil
	}
	return "", false, fmt.Errorf("schema file %s.json is neither a request nor a response (add it to sendOnly?)", base)
}

func (m *model) buildStruct(n *named, s *schema, fc *fileCtx) error {
	req := map[string]bool{}
	for _, r := range s.required {
		req[r] = true
	}
	seen := map[string]bool{}
	goNames := map[string]string{}
	for i, p := range s.props {
		t, err := m.typeOf(p.s, fc)
		if err != nil {
			return err
		}
		f := &field{json: p.name, goName: goName(p.name), required: req[p.name], t: t, bit: i}
		if other, dup := goNames[f.goName]; dup {
			return fmt.Errorf("%s: properties %q and %q both map to Go name %s", s.loc, other, p.name, f.goName)
		}
		goNames[f.goName] = p.name
		seen[p.name] = true
		n.fields = append(n.fields, f)
	}
	for _, r := range s.required {
		if !seen[r] {
			return fmt.Errorf("%s: required property %q is not defined", s.loc, r)
		}
	}
	if len(n.fields) > 64 {
		return fmt.Errorf("%s: more than 64 properties are not supported", s.loc)
	}
	n.extra = s.addlProps == nil || *s.addlProps
	if n.extra {
		if _, clash := goNames["Extra"]; clash {
			return fmt.Errorf("%s: property maps to Go name Extra, which holds additional properties", s.loc)
		}
	}
	return nil
}

func defaultDefName(def string) string {
	if b, ok := strings.CutSuffix(def, "EnumType"); ok {
		return b
	}
	if b, ok := strings.CutSuffix(def, "Type"); ok {
		return b
	}
	return def
}

func (m *model) newNamed(loc, action, defaultName string, isEnum bool) (*named, error) {
	n := &named{loc: loc, action: action, isEnum: isEnum}
	if o, ok := m.cfg.names[loc]; ok {
		n.proposed, n.explicit = goName(o), true
	} else if defaultName != "" {
		n.proposed = goName(defaultName)
	} else {
		return nil, fmt.Errorf("%s: anonymous (inline) enum or object needs a name in the override table", loc)
	}
	m.occ = append(m.occ, n)
	return n, nil
}

func (m *model) typeOf(s *schema, fc *fileCtx) (*typ, error) {
	if s.ref != "" {
		name, ok := strings.CutPrefix(s.ref, "#/definitions/")
		if !ok {
			return nil, fmt.Errorf("%s: unsupported $ref %q", s.loc, s.ref)
		}
		def := fc.root.definitions[name]
		if def == nil {
			return nil, fmt.Errorf("%s: unresolved $ref %q", s.loc, s.ref)
		}
		if n := fc.defs[name]; n != nil {
			if n.isEnum {
				return newTyp(kEnum, n), nil
			}
			return newTyp(kStruct, n), nil
		}
		switch {
		case len(def.enum) > 0:
			n, err := m.newNamed(def.loc, fc.action, defaultDefName(name), true)
			if err != nil {
				return nil, err
			}
			fc.defs[name] = n
			if err := m.buildEnum(n, def); err != nil {
				return nil, err
			}
			return newTyp(kEnum, n), nil
		case def.typ == "object":
			n, err := m.newNamed(def.loc, fc.action, defaultDefName(name), false)
			if err != nil {
				return nil, err
			}
			fc.defs[name] = n // before building: guards recursion
			if err := m.buildStruct(n, def, fc); err != nil {
				return nil, err
			}
			return newTyp(kStruct, n), nil
		default:
			// a definition of a plain scalar: inline it
			return m.typeOf(def, fc)
		}
	}
	t := &typ{minLen: s.minLength, maxLen: s.maxLength, minItems: s.minItems, maxItems: s.maxItems, min: s.minimum, max: s.maximum, multipleOf: s.multipleOf}
	if s.multipleOf != "" {
		p, ok := tenthPlaces(s.multipleOf)
		if !ok {
			return nil, fmt.Errorf("%s: multipleOf %s is not a power of ten (unsupported)", s.loc, s.multipleOf)
		}
		t.places = p
	}
	switch s.typ {
	case "string":
		if len(s.enum) > 0 {
			n, err := m.newNamed(s.loc, fc.action, "", true)
			if err != nil {
				return nil, err
			}
			if err := m.buildEnum(n, s); err != nil {
				return nil, err
			}
			t.kind, t.n = kEnum, n
			return t, nil
		}
		t.kind = kString
		switch s.format {
		case "":
		case "date-time":
			t.kind = kDateTime
		case "uri":
			t.uri = true
		default:
			return nil, fmt.Errorf("%s: unsupported format %q", s.loc, s.format)
		}
	case "integer":
		t.kind = kInt
	case "number":
		t.kind = kFloat
	case "boolean":
		t.kind = kBool
	case "object":
		n, err := m.newNamed(s.loc, fc.action, "", false)
		if err != nil {
			return nil, err
		}
		if err := m.buildStruct(n, s, fc); err != nil {
			return nil, err
		}
		t.kind, t.n = kStruct, n
	case "array":
		if s.items == nil {
			return nil, fmt.Errorf("%s: array without items", s.loc)
		}
		e, err := m.typeOf(s.items, fc)
		if err != nil {
			return nil, err
		}
		if e.kind == kArray {
			return nil, fmt.Errorf("%s: nested arrays are not supported", s.loc)
		}
		t.kind, t.elem = kArray, e
	case "":
		if len(s.enum) > 0 || len(s.props) > 0 || s.items != nil {
			return nil, fmt.Errorf("%s: schema without type but with constraints", s.loc)
		}
		t.kind = kRaw
	default:
		return nil, fmt.Errorf("%s: unsupported type %q", s.loc, s.typ)
	}
	if (s.format != "" && s.typ != "string") || (s.maxLength >= 0 && s.typ != "string") {
		return nil, fmt.Errorf("%s: string constraint on %s", s.loc, s.typ)
	}
	return t, nil
}

func tenthPlaces(lit string) (int, bool) {
	switch {
	case lit == "1" || lit == "1.0":
		return 0, true
	case strings.HasPrefix(lit, "0."):
		frac := strings.TrimRight(lit[2:], "0")
		if strings.HasSuffix(frac, "1") && strings.Trim(frac[:len(frac)-1], "0") == "" {
			return len(frac), true
		}
	}
	return 0, false
}

func (m *model) buildEnum(n *named, s *schema) error {
	if s.typ != "string" {
		return fmt.Errorf("%s: only string enums are supported", s.loc)
	}
	seen := map[string]bool{}
	for _, v := range s.enum {
		if seen[v] {
			return fmt.Errorf("%s: duplicate enum value %q", s.loc, v)
		}
		seen[v] = true
		n.values = append(n.values, v)
	}
	// extras are keyed by the spec name of the type
	for spec, extra := range m.cfg.enumExtra {
		if goName(spec) != n.proposed {
			continue
		}
		for _, v := range extra {
			if !seen[v] {
				seen[v] = true
				n.values = append(n.values, v)
			}
		}
	}
	return nil
}

// ---- signatures and clash resolution ----

func (m *model) sigOf(n *named, visiting map[*named]bool) (string, error) {
	if n.sig != "" {
		return n.sig, nil
	}
	if visiting[n] {
		return "", fmt.Errorf("%s: recursive types are not supported", n.loc)
	}
	visiting[n] = true
	defer delete(visiting, n)
	var b strings.Builder
	if n.isEnum {
		vals := append([]string(nil), n.values...)
		sort.Strings(vals)
		b.WriteString("E[" + strings.Join(vals, "|") + "]")
	} else {
		b.WriteString("S{")
		for _, f := range n.fields {
			ts, err := m.typeSig(f.t, visiting)
			if err != nil {
				return "", err
			}
			fmt.Fprintf(&b, "%s:%v:%s;", f.json, f.required, ts)
		}
		fmt.Fprintf(&b, "extra=%v}", n.extra)
	}
	n.sig = b.String()
	return n.sig, nil
}

func (m *model) typeSig(t *typ, visiting map[*named]bool) (string, error) {
	s := fmt.Sprintf("k%d(%d,%d,%s,%s,%s,%d,%d,%v)", t.kind, t.minLen, t.maxLen, t.min, t.max, t.multipleOf, t.minItems, t.maxItems, t.uri)
	switch t.kind {
	case kEnum, kStruct:
		ns, err := m.sigOf(t.n, visiting)
		if err != nil {
			return "", err
		}
		s += ns
	case kArray:
		es, err := m.typeSig(t.elem, visiting)
		if err != nil {
			return "", err
		}
		s += "[" + es + "]"
	}
	return s, nil
}

func (m *model) resolve() error {
	for _, n := range m.occ {
		if _, err := m.sigOf(n, map[*named]bool{}); err != nil {
			return err
		}
	}
	msgNames := map[string]bool{}
	for _, mm := range m.messages {
		for _, n := range []*named{mm.request, mm.response} {
			if n != nil {
				n.final = n.proposed
				msgNames[n.final] = true
			}
		}
	}
	// group occurrences by proposed name
	groups := map[string][]*named{}
	var order []string
	for _, n := range m.occ {
		if groups[n.proposed] == nil {
			order = append(order, n.proposed)
		}
		groups[n.proposed] = append(groups[n.proposed], n)
	}
	sort.Strings(order)
	for _, name := range order {
		list := groups[name]
		variants := distinctSigs(list)
		if len(variants) == 1 && !msgNames[name] {
			for _, n := range list {
				n.final = name
			}
			continue
		}
		// Rule 1: an enum and an object share the name (2.x "IdTokenEnumType"
		// vs "IdTokenType"): the object keeps it, the enum gets an "Enum" suffix.
		var enums, structs []*named
		for _, n := range list {
			if n.isEnum {
				enums = append(enums, n)
			} else {
				structs = append(structs, n)
			}
		}
		if len(enums) > 0 && len(structs) > 0 && len(distinctSigs(enums)) == 1 && len(distinctSigs(structs)) == 1 && !msgNames[name] {
			for _, n := range structs {
				n.final = name
			}
			for _, n := range enums {
				n.final = name + "Enum"
			}
			m.report = append(m.report, fmt.Sprintf("%s: enum %s and object %s share the name; the object keeps %s, the enum is %sEnum",
				name, enums[0].loc, structs[0].loc, name, name))
			continue
		}
		// Rule 2: same name, different content: every variant is prefixed
		// with the action of its first occurrence.
		var parts []string
		for _, v := range variants {
			final := v[0].action + name
			for _, n := range v {
				n.final = final
			}
			parts = append(parts, fmt.Sprintf("%s (%s)", final, v[0].loc))
		}
		m.report = append(m.report, fmt.Sprintf("%s: %d different definitions share the name; renamed to %s", name, len(variants), strings.Join(parts, ", ")))
	}
	// collapse identical occurrences with the same final name
	canon := map[string]*named{}
	for _, n := range m.occ {
		if c, ok := canon[n.final]; ok {
			if c.sig != n.sig {
				return fmt.Errorf("type name %s still denotes different types (%s, %s); add an override", n.final, c.loc, n.loc)
			}
			n.canon = c
			c.actions[n.action] = true
			continue
		}
		n.canon = n
		n.actions = map[string]bool{n.action: true}
		canon[n.final] = n
		if n.isEnum {
			m.enums = append(m.enums, n)
		} else {
			m.structs = append(m.structs, n)
		}
	}
	sort.Slice(m.enums, func(i, j int) bool { return m.enums[i].final < m.enums[j].final })
	sort.Slice(m.structs, func(i, j int) bool { return m.structs[i].final < m.structs[j].final })
	return m.checkIdentifiers()
}

func distinctSigs(list []*named) [][]*named {
	idx := map[string]int{}
	var out [][]*named
	for _, n := range list {
		i, ok := idx[n.sig]
		if !ok {
			i = len(out)
			idx[n.sig] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], n)
	}
	return out
}

// checkIdentifiers makes sure no two package-level identifiers collide.
func (m *model) checkIdentifiers() error {
	ids := map[string]string{}
	add := func(id, what string) error {
		if prev, ok := ids[id]; ok {
			return fmt.Errorf("identifier %s is generated twice (%s and %s)", id, prev, what)
		}
		ids[id] = what
		return nil
	}
	for _, id := range []string{"Action", "Actions", "ProtocolVersion"} {
		if err := add(id, "API"); err != nil {
			return err
		}
	}
	for _, mm := range m.messages {
		for _, n := range []*named{mm.request, mm.response} {
			if n != nil {
				if err := add(n.final, "message "+n.loc); err != nil {
					return err
				}
			}
		}
	}
	for _, n := range m.structs {
		if err := add(n.final, "type "+n.loc); err != nil {
			return err
		}
	}
	for _, n := range m.enums {
		if err := add(n.final, "enum "+n.loc); err != nil {
			return err
		}
		for _, v := range n.values {
			if err := add(n.final+constSuffix(v), fmt.Sprintf("value %q of %s", v, n.final)); err != nil {
				return err
			}
		}
	}
	return nil
}
