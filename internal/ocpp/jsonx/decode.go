// Package jsonx is the small JSON runtime used by the code that ocppgen
// generates: a single-pass lexer/decoder that reports schema violations as
// *ocpp.ValidationError, plus encoding helpers. It uses no reflection and no
// encoding/json on the hot path.
//
// Design notes:
//   - Init copies the payload once into a string; every string value without
//     escapes (the common case) is returned as a substring of that copy, so
//     decoding allocates one block for all strings. Enum values and keys are
//     compared without allocating.
//   - Errors carry a path relative to the value being decoded; callers prefix
//     it with Field/Index while unwinding, so the success path never builds
//     paths.
//   - Strings are fully unescaped (\uXXXX including surrogate pairs); invalid
//     UTF-8 bytes and lone surrogates become U+FFFD, exactly like
//     encoding/json. Raw control characters are a syntax error.
//   - Nesting is limited to MaxDepth.
package jsonx

import (
	"encoding/json"
	"math"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/chargestar/chargestar/internal/ocpp"
)

// MaxDepth is the maximum nesting of arrays and objects accepted.
const MaxDepth = 64

// Decoder is a cursor over one JSON payload. The zero value is not usable;
// call Init.
type Decoder struct {
	s      string
	i      int
	depth  int
	keyOff int // offset of the opening quote of the last key read
	opts   ocpp.DecodeOptions
	buf    []byte
}

// Init prepares d to decode data (copied once).
func (d *Decoder) Init(data []byte, opts ocpp.DecodeOptions) {
	d.s = string(data)
	d.i = 0
	d.depth = 0
	d.opts = opts
}

// InitString prepares d to decode s (not copied).
func (d *Decoder) InitString(s string, opts ocpp.DecodeOptions) {
	d.s = s
	d.i = 0
	d.depth = 0
	d.opts = opts
}

// Offset returns the current read offset.
func (d *Decoder) Offset() int { return d.i }

func (d *Decoder) ws() {
	for d.i < len(d.s) {
		switch d.s[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// ---- errors ----

func newErr(k ocpp.ErrorKind, msg string) *ocpp.ValidationError {
	return &ocpp.ValidationError{Kind: k, Msg: msg}
}

func (d *Decoder) syntax(msg string) *ocpp.ValidationError {
	return newErr(ocpp.KindFormation, "invalid JSON: "+msg+" at offset "+strconv.Itoa(d.i))
}

func (d *Decoder) unexpected() *ocpp.ValidationError {
	if d.i >= len(d.s) {
		return d.syntax("unexpected end of input")
	}
	return d.syntax("unexpected character " + strconv.QuoteRune(rune(d.s[d.i])))
}

// kindAt names the JSON type of the value starting at the current offset.
func (d *Decoder) kindAt() string {
	if d.i >= len(d.s) {
		return "end of input"
	}
	switch c := d.s[d.i]; {
	case c == '"':
		return "string"
	case c == '{':
		return "object"
	case c == '[':
		return "array"
	case c == 't' || c == 'f':
		return "boolean"
	case c == 'n':
		return "null"
	case c == '-' || (c >= '0' && c <= '9'):
		return "number"
	}
	return ""
}

// typeErr reports a value of the wrong JSON type, or the syntax error if the
// value at the cursor is not valid JSON (so that invalid JSON is always
// KindFormation). Error path only.
func (d *Decoder) typeErr(want string) *ocpp.ValidationError {
	got := d.kindAt()
	if got == "" {
		return d.unexpected()
	}
	probe := Decoder{s: d.s, i: d.i, depth: d.depth}
	if err := probe.Skip(); err != nil {
		d.i = probe.i
		return err
	}
	return newErr(ocpp.KindType, "expected "+want+", got "+got)
}

// Field prefixes e.Path with the property name and returns e.
func Field(e *ocpp.ValidationError, name string) *ocpp.ValidationError {
	switch {
	case e.Path == "":
		e.Path = name
	case e.Path[0] == '[':
		e.Path = name + e.Path
	default:
		e.Path = name + "." + e.Path
	}
	return e
}

// Index prefixes e.Path with an array index and returns e.
func Index(e *ocpp.ValidationError, i int) *ocpp.ValidationError {
	p := "[" + strconv.Itoa(i) + "]"
	switch {
	case e.Path == "":
		e.Path = p
	case e.Path[0] == '[':
		e.Path = p + e.Path
	default:
		e.Path = p + "." + e.Path
	}
	return e
}

// Missing reports a missing required property (KindOccurrence) at path name.
func Missing(name string) *ocpp.ValidationError {
	return &ocpp.ValidationError{Kind: ocpp.KindOccurrence, Path: name, Msg: "required property is missing"}
}

// Duplicate reports a property that occurs twice in one object (KindFormation).
func Duplicate(name string) *ocpp.ValidationError {
	return &ocpp.ValidationError{Kind: ocpp.KindFormation, Path: name, Msg: "duplicate property"}
}

// BadEnum reports a value outside an enumeration (KindProperty); list is the
// comma separated list of allowed values.
func BadEnum(v, list string) *ocpp.ValidationError {
	return newErr(ocpp.KindProperty, "value "+strconv.Quote(v)+" is not one of "+list)
}

// TooLong reports a string longer than maxLength (KindProperty).
func TooLong(s string, max int) *ocpp.ValidationError {
	return newErr(ocpp.KindProperty, "string of "+strconv.Itoa(utf8.RuneCountInString(s))+" characters exceeds maxLength "+strconv.Itoa(max))
}

// TooShort reports a string shorter than minLength (KindProperty).
func TooShort(s string, min int) *ocpp.ValidationError {
	return newErr(ocpp.KindProperty, "string of "+strconv.Itoa(utf8.RuneCountInString(s))+" characters is shorter than minLength "+strconv.Itoa(min))
}

// Below reports a number below minimum (KindProperty).
func Below(v float64, min string) *ocpp.ValidationError {
	return newErr(ocpp.KindProperty, "value "+strconv.FormatFloat(v, 'g', -1, 64)+" is less than minimum "+min)
}

// Above reports a number above maximum (KindProperty).
func Above(v float64, max string) *ocpp.ValidationError {
	return newErr(ocpp.KindProperty, "value "+strconv.FormatFloat(v, 'g', -1, 64)+" is greater than maximum "+max)
}

// NotMultiple reports a multipleOf violation (KindProperty).
func NotMultiple(v float64, of string) *ocpp.ValidationError {
	return newErr(ocpp.KindProperty, "value "+strconv.FormatFloat(v, 'g', -1, 64)+" is not a multiple of "+of)
}

// NotFinite reports NaN or ±Inf in a Go-built number (KindProperty).
func NotFinite(v float64) *ocpp.ValidationError {
	return newErr(ocpp.KindProperty, "value "+strconv.FormatFloat(v, 'g', -1, 64)+" is not a finite number")
}

// TooFew reports an array with fewer than minItems items (KindOccurrence).
func TooFew(n, min int) *ocpp.ValidationError {
	return newErr(ocpp.KindOccurrence, "array has "+strconv.Itoa(n)+" items, minItems is "+strconv.Itoa(min))
}

// TooMany reports an array with more than maxItems items (KindOccurrence).
func TooMany(n, max int) *ocpp.ValidationError {
	return newErr(ocpp.KindOccurrence, "array has "+strconv.Itoa(n)+" items, maxItems is "+strconv.Itoa(max))
}

// BadDateTime reports an unparsable date-time (KindProperty).
func BadDateTime(s string) *ocpp.ValidationError {
	return newErr(ocpp.KindProperty, "value "+strconv.Quote(s)+" is not a valid date-time")
}

// DateTimeRange reports a Go-built DateTime that cannot be encoded (KindProperty).
func DateTimeRange(t ocpp.DateTime) *ocpp.ValidationError {
	return newErr(ocpp.KindProperty, "date-time year "+strconv.Itoa(t.UTC().Year())+" is outside 0..9999")
}

// BadURI reports a string that is not an absolute URI (KindProperty).
func BadURI(s string) *ocpp.ValidationError {
	return newErr(ocpp.KindProperty, "value "+strconv.Quote(s)+" is not an absolute URI")
}

// BadRaw reports a Go-built raw JSON value that is not valid JSON (KindFormation).
func BadRaw() *ocpp.ValidationError {
	return newErr(ocpp.KindFormation, "raw value is not valid JSON")
}

// ---- entry and exit ----

// Root checks that the payload is a JSON object (KindFormation otherwise).
// It does not consume anything.
func (d *Decoder) Root() *ocpp.ValidationError {
	d.ws()
	if d.i < len(d.s) && d.s[d.i] == '{' {
		return nil
	}
	if k := d.kindAt(); k != "" && k != "end of input" {
		return newErr(ocpp.KindFormation, "payload is not a JSON object (got "+k+")")
	}
	return d.unexpected()
}

// Finish completes a decode: with e == nil it checks that only whitespace
// follows; with e != nil it checks the whole payload's syntax so that a
// syntax error anywhere wins over a schema violation (invalid JSON is always
// KindFormation). The returned error is nil or a *ocpp.ValidationError.
func (d *Decoder) Finish(e *ocpp.ValidationError) error {
	if e == nil {
		d.ws()
		if d.i != len(d.s) {
			return d.syntax("data after top-level value")
		}
		return nil
	}
	if e.Kind != ocpp.KindFormation || e.Path != "" {
		var v Decoder
		v.s = d.s
		if se := v.validDoc(); se != nil {
			return se
		}
	}
	return e
}

func (d *Decoder) validDoc() *ocpp.ValidationError {
	if e := d.Skip(); e != nil {
		return e
	}
	d.ws()
	if d.i != len(d.s) {
		return d.syntax("data after top-level value")
	}
	return nil
}

// Valid reports whether data is one syntactically valid JSON value
// (surrounded by optional whitespace) nested at most MaxDepth deep.
func Valid(data []byte) bool {
	var d Decoder
	d.s = string(data)
	return d.validDoc() == nil
}

// ValidString is Valid for a string.
func ValidString(s string) bool {
	var d Decoder
	d.s = s
	return d.validDoc() == nil
}

// ---- structure ----

// IsNull consumes a null literal if one is next.
func (d *Decoder) IsNull() bool {
	d.ws()
	if len(d.s)-d.i >= 4 && d.s[d.i:d.i+4] == "null" {
		d.i += 4
		return true
	}
	return false
}

// BeginObject consumes '{' (KindType if another value is next).
func (d *Decoder) BeginObject() *ocpp.ValidationError {
	d.ws()
	if d.i < len(d.s) && d.s[d.i] == '{' {
		d.i++
		d.depth++
		if d.depth > MaxDepth {
			return d.syntax("nesting deeper than " + strconv.Itoa(MaxDepth))
		}
		return nil
	}
	return d.typeErr("object")
}

// ObjectKey reads the next key and the following ':'. more is false (and the
// closing '}' consumed) at the end of the object. first must be true for the
// first call after BeginObject.
func (d *Decoder) ObjectKey(first bool) (key string, more bool, err *ocpp.ValidationError) {
	d.ws()
	if d.i >= len(d.s) {
		return "", false, d.unexpected()
	}
	c := d.s[d.i]
	if c == '}' && first {
		d.i++
		d.depth--
		return "", false, nil
	}
	if !first {
		if c == '}' {
			d.i++
			d.depth--
			return "", false, nil
		}
		if c != ',' {
			return "", false, d.unexpected()
		}
		d.i++
		d.ws()
		if d.i >= len(d.s) {
			return "", false, d.unexpected()
		}
		c = d.s[d.i]
	}
	if c != '"' {
		return "", false, d.unexpected()
	}
	d.keyOff = d.i
	key, err = d.str()
	if err != nil {
		return "", false, err
	}
	d.ws()
	if d.i >= len(d.s) || d.s[d.i] != ':' {
		return "", false, d.unexpected()
	}
	d.i++
	return key, true, nil
}

// BeginArray consumes '[' (KindType if another value is next).
func (d *Decoder) BeginArray() *ocpp.ValidationError {
	d.ws()
	if d.i < len(d.s) && d.s[d.i] == '[' {
		d.i++
		d.depth++
		if d.depth > MaxDepth {
			return d.syntax("nesting deeper than " + strconv.Itoa(MaxDepth))
		}
		return nil
	}
	return d.typeErr("array")
}

// ArrayNext advances to the next element; more is false (and ']' consumed)
// at the end of the array. first must be true for the first call.
func (d *Decoder) ArrayNext(first bool) (more bool, err *ocpp.ValidationError) {
	d.ws()
	if d.i >= len(d.s) {
		return false, d.unexpected()
	}
	c := d.s[d.i]
	if c == ']' {
		d.i++
		d.depth--
		return false, nil
	}
	if first {
		return true, nil
	}
	if c != ',' {
		return false, d.unexpected()
	}
	d.i++
	d.ws()
	if d.i < len(d.s) && d.s[d.i] == ']' {
		return false, d.unexpected()
	}
	return true, nil
}

// Unknown handles a property that is not in the schema: KindFormation (path =
// key) when unknown fields are disallowed, otherwise the value is skipped and
// reported to DecodeOptions.OnUnknownField.
func (d *Decoder) Unknown(key string) *ocpp.ValidationError {
	if d.opts.DisallowUnknownFields {
		return &ocpp.ValidationError{Kind: ocpp.KindFormation, Path: key, Msg: "unknown property"}
	}
	if d.opts.OnUnknownField != nil {
		d.opts.OnUnknownField(PathAt(d.s, d.keyOff))
	}
	return d.Skip()
}

// ---- scalars ----

// String reads a string value (KindType for other values).
func (d *Decoder) String() (string, *ocpp.ValidationError) {
	d.ws()
	if d.i < len(d.s) && d.s[d.i] == '"' {
		return d.str()
	}
	return "", d.typeErr("string")
}

// str reads a string starting at the opening quote.
func (d *Decoder) str() (string, *ocpp.ValidationError) {
	s := d.s
	start := d.i + 1
	i := start
	for i < len(s) && noEscape[s[i]] {
		i++
	}
	if i < len(s) && s[i] == '"' {
		d.i = i + 1
		return s[start:i], nil
	}
	return d.strSlow(start)
}

func hexVal(c byte) rune {
	switch {
	case c >= '0' && c <= '9':
		return rune(c - '0')
	case c >= 'a' && c <= 'f':
		return rune(c - 'a' + 10)
	case c >= 'A' && c <= 'F':
		return rune(c - 'A' + 10)
	}
	return -1
}

func (d *Decoder) hex4(i int) rune {
	if i+4 > len(d.s) {
		return -1
	}
	var r rune
	for j := 0; j < 4; j++ {
		h := hexVal(d.s[i+j])
		if h < 0 {
			return -1
		}
		r = r<<4 | h
	}
	return r
}

// strSlow handles escapes, non-ASCII and errors. Strings with no escapes and
// valid UTF-8 are still returned as substrings.
func (d *Decoder) strSlow(start int) (string, *ocpp.ValidationError) {
	s := d.s
	copied := false
	b := d.buf[:0]
	i := start
	for i < len(s) {
		c := s[i]
		switch {
		case c == '"':
			d.i = i + 1
			if !copied {
				return s[start:i], nil
			}
			d.buf = b
			return string(b), nil
		case c < 0x20:
			d.i = i
			return "", d.syntax("control character in string")
		case c == '\\':
			if !copied {
				b = append(b, s[start:i]...)
				copied = true
			}
			if i+1 >= len(s) {
				d.i = len(s)
				return "", d.syntax("unterminated string")
			}
			e := s[i+1]
			switch e {
			case '"', '\\', '/':
				b = append(b, e)
				i += 2
			case 'b':
				b = append(b, '\b')
				i += 2
			case 'f':
				b = append(b, '\f')
				i += 2
			case 'n':
				b = append(b, '\n')
				i += 2
			case 'r':
				b = append(b, '\r')
				i += 2
			case 't':
				b = append(b, '\t')
				i += 2
			case 'u':
				r := d.hex4(i + 2)
				if r < 0 {
					d.i = i
					return "", d.syntax("invalid \\u escape")
				}
				i += 6
				if utf16.IsSurrogate(r) {
					r2 := rune(-1)
					if i+1 < len(s) && s[i] == '\\' && s[i+1] == 'u' {
						r2 = d.hex4(i + 2)
						if r2 < 0 {
							d.i = i
							return "", d.syntax("invalid \\u escape")
						}
					}
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						r = dec
						i += 6
					} else {
						r = utf8.RuneError
					}
				}
				b = utf8.AppendRune(b, r)
			default:
				d.i = i
				return "", d.syntax("invalid escape")
			}
		case c < 0x80:
			if copied {
				b = append(b, c)
			}
			i++
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				if !copied {
					b = append(b, s[start:i]...)
					copied = true
				}
				b = append(b, "\uFFFD"...)
			} else if copied {
				b = append(b, s[i:i+size]...)
			}
			i += size
		}
	}
	d.i = len(s)
	return "", d.syntax("unterminated string")
}

// numberEnd scans a JSON number starting at d.i and returns its end offset;
// frac reports whether it has a fraction or exponent.
func (d *Decoder) numberEnd() (end int, frac bool, err *ocpp.ValidationError) {
	s := d.s
	i := d.i
	if i < len(s) && s[i] == '-' {
		i++
	}
	if i >= len(s) {
		d.i = i
		return 0, false, d.unexpected()
	}
	switch c := s[i]; {
	case c == '0':
		i++
	case c >= '1' && c <= '9':
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	default:
		d.i = i
		return 0, false, d.unexpected()
	}
	if i < len(s) && s[i] == '.' {
		frac = true
		i++
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == j {
			d.i = i
			return 0, false, d.unexpected()
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		frac = true
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == j {
			d.i = i
			return 0, false, d.unexpected()
		}
	}
	return i, frac, nil
}

func (d *Decoder) isNumberStart() bool {
	if d.i >= len(d.s) {
		return false
	}
	c := d.s[d.i]
	return c == '-' || (c >= '0' && c <= '9')
}

// Int reads an integer. Integral numbers written with a fraction or exponent
// ("3.0", "3e2") are accepted; "3.5" is KindType, as are integers outside the
// int range.
func (d *Decoder) Int() (int, *ocpp.ValidationError) {
	d.ws()
	if !d.isNumberStart() {
		return 0, d.typeErr("integer")
	}
	s := d.s
	i := d.i
	neg := false
	if s[i] == '-' {
		neg = true
		i++
	}
	// fast path: up to 18 digits, no fraction/exponent
	var n uint64
	j := i
	for j < len(s) && j-i < 19 && s[j] >= '0' && s[j] <= '9' {
		n = n*10 + uint64(s[j]-'0')
		j++
	}
	if j > i && j-i <= 18 && (j-i == 1 || s[i] != '0') &&
		(j == len(s) || (s[j] != '.' && s[j] != 'e' && s[j] != 'E' && (s[j] < '0' || s[j] > '9'))) {
		d.i = j
		if neg {
			return -int(n), nil
		}
		return int(n), nil
	}
	end, _, err := d.numberEnd()
	if err != nil {
		return 0, err
	}
	lit := s[d.i:end]
	d.i = end
	v, ok, integral := parseIntLit(lit)
	if !integral {
		return 0, newErr(ocpp.KindType, "expected integer, got "+lit)
	}
	if !ok {
		return 0, newErr(ocpp.KindType, "integer "+lit+" is out of range")
	}
	return v, nil
}

// parseIntLit converts a syntactically valid JSON number literal to int
// exactly. integral reports whether the value is a whole number; ok whether
// it fits in int.
func parseIntLit(lit string) (v int, ok, integral bool) {
	neg := false
	if lit[0] == '-' {
		neg = true
		lit = lit[1:]
	}
	// split mantissa digits and exponent
	digits := make([]byte, 0, len(lit))
	exp := 0
	i := 0
	for i < len(lit) && lit[i] >= '0' && lit[i] <= '9' {
		digits = append(digits, lit[i])
		i++
	}
	if i < len(lit) && lit[i] == '.' {
		i++
		for i < len(lit) && lit[i] >= '0' && lit[i] <= '9' {
			digits = append(digits, lit[i])
			exp--
			i++
		}
	}
	if i < len(lit) && (lit[i] == 'e' || lit[i] == 'E') {
		i++
		eneg := false
		if lit[i] == '+' || lit[i] == '-' {
			eneg = lit[i] == '-'
			i++
		}
		e := 0
		for ; i < len(lit); i++ {
			if e < 1e9 {
				e = e*10 + int(lit[i]-'0')
			}
		}
		if eneg {
			e = -e
		}
		exp += e
	}
	// strip leading zeros
	k := 0
	for k < len(digits) && digits[k] == '0' {
		k++
	}
	digits = digits[k:]
	// strip trailing zeros
	for len(digits) > 0 && digits[len(digits)-1] == '0' {
		digits = digits[:len(digits)-1]
		exp++
	}
	if len(digits) == 0 {
		return 0, true, true
	}
	if exp < 0 {
		return 0, false, false
	}
	if len(digits)+exp > 19 {
		return 0, false, true
	}
	var n uint64
	for _, c := range digits {
		n = n*10 + uint64(c-'0')
	}
	for ; exp > 0; exp-- {
		if n > math.MaxUint64/10 {
			return 0, false, true
		}
		n *= 10
	}
	if neg {
		if n > 1<<63 {
			return 0, false, true
		}
		return int(-int64(n)), true, true
	}
	if n > math.MaxInt64 {
		return 0, false, true
	}
	return int(n), true, true
}

// Number reads a number (KindType for other values or numbers that overflow
// float64) and also returns its literal text.
func (d *Decoder) Number() (float64, string, *ocpp.ValidationError) {
	d.ws()
	if !d.isNumberStart() {
		return 0, "", d.typeErr("number")
	}
	end, _, err := d.numberEnd()
	if err != nil {
		return 0, "", err
	}
	lit := d.s[d.i:end]
	d.i = end
	f, perr := strconv.ParseFloat(lit, 64)
	if perr != nil && (math.IsInf(f, 0) || math.IsNaN(f)) {
		return 0, "", newErr(ocpp.KindType, "number "+lit+" is out of range")
	}
	return f, lit, nil
}

// Float reads a number.
func (d *Decoder) Float() (float64, *ocpp.ValidationError) {
	f, _, err := d.Number()
	return f, err
}

// Bool reads true or false (KindType for other values).
func (d *Decoder) Bool() (bool, *ocpp.ValidationError) {
	d.ws()
	s := d.s[d.i:]
	if len(s) >= 4 && s[:4] == "true" {
		d.i += 4
		return true, nil
	}
	if len(s) >= 5 && s[:5] == "false" {
		d.i += 5
		return false, nil
	}
	return false, d.typeErr("boolean")
}

// DateTime reads a string and parses it leniently (KindProperty when
// unparsable).
func (d *Decoder) DateTime() (ocpp.DateTime, *ocpp.ValidationError) {
	s, err := d.String()
	if err != nil {
		return ocpp.DateTime{}, err
	}
	t, perr := ocpp.ParseDateTime(s)
	if perr != nil {
		return ocpp.DateTime{}, BadDateTime(s)
	}
	return t, nil
}

// Raw reads any JSON value and returns it compacted (insignificant
// whitespace removed, otherwise verbatim).
func (d *Decoder) Raw() (json.RawMessage, *ocpp.ValidationError) {
	d.ws()
	start := d.i
	if err := d.Skip(); err != nil {
		return nil, err
	}
	return appendCompact(make([]byte, 0, d.i-start), d.s[start:d.i]), nil
}

// appendCompact appends the valid JSON text v without whitespace outside strings.
func appendCompact(b []byte, v string) []byte {
	inStr := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if inStr {
			b = append(b, c)
			if c == '\\' {
				i++
				b = append(b, v[i])
			} else if c == '"' {
				inStr = false
			}
			continue
		}
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		case '"':
			inStr = true
		}
		b = append(b, c)
	}
	return b
}

// Skip consumes one JSON value of any type, checking its syntax.
func (d *Decoder) Skip() *ocpp.ValidationError {
	d.ws()
	if d.i >= len(d.s) {
		return d.unexpected()
	}
	switch c := d.s[d.i]; {
	case c == '"':
		_, err := d.str()
		return err
	case c == '{':
		if err := d.BeginObject(); err != nil {
			return err
		}
		for first := true; ; first = false {
			_, more, err := d.ObjectKey(first)
			if err != nil {
				return err
			}
			if !more {
				return nil
			}
			if err := d.Skip(); err != nil {
				return err
			}
		}
	case c == '[':
		if err := d.BeginArray(); err != nil {
			return err
		}
		for first := true; ; first = false {
			more, err := d.ArrayNext(first)
			if err != nil {
				return err
			}
			if !more {
				return nil
			}
			if err := d.Skip(); err != nil {
				return err
			}
		}
	case c == 't':
		return d.lit("true")
	case c == 'f':
		return d.lit("false")
	case c == 'n':
		return d.lit("null")
	case c == '-' || (c >= '0' && c <= '9'):
		end, _, err := d.numberEnd()
		if err != nil {
			return err
		}
		d.i = end
		return nil
	}
	return d.unexpected()
}

func (d *Decoder) lit(l string) *ocpp.ValidationError {
	if len(d.s)-d.i >= len(l) && d.s[d.i:d.i+len(l)] == l {
		d.i += len(l)
		return nil
	}
	return d.unexpected()
}

// ---- checks shared by decoders and Validate ----

// DecimalPlaces returns the number of decimal places of the exact value of a
// JSON number literal ("1.50" → 1, "2e-3" → 3, "15" → 0).
func DecimalPlaces(lit string) int {
	i := 0
	if i < len(lit) && lit[i] == '-' {
		i++
	}
	for i < len(lit) && lit[i] >= '0' && lit[i] <= '9' {
		i++
	}
	frac := ""
	if i < len(lit) && lit[i] == '.' {
		i++
		j := i
		for i < len(lit) && lit[i] >= '0' && lit[i] <= '9' {
			i++
		}
		frac = lit[j:i]
	}
	for len(frac) > 0 && frac[len(frac)-1] == '0' {
		frac = frac[:len(frac)-1]
	}
	places := len(frac)
	if i < len(lit) && (lit[i] == 'e' || lit[i] == 'E') {
		i++
		neg := false
		if i < len(lit) && (lit[i] == '+' || lit[i] == '-') {
			neg = lit[i] == '-'
			i++
		}
		e := 0
		for ; i < len(lit); i++ {
			if e < 1e9 {
				e = e*10 + int(lit[i]-'0')
			}
		}
		if neg {
			places += e
		} else {
			places -= e
		}
	}
	if places < 0 {
		return 0
	}
	return places
}

// FloatDecimalPlaces is DecimalPlaces of the shortest decimal representation
// of f (the representation AppendFloat writes).
func FloatDecimalPlaces(f float64) int {
	var buf [32]byte
	return DecimalPlaces(string(strconv.AppendFloat(buf[:0], f, 'e', -1, 64)))
}

// Unmarshal runs decode over data with default options, for the generated
// UnmarshalJSON methods. A JSON null is a no-op (encoding/json convention).
func Unmarshal(data []byte, decode func(*Decoder) *ocpp.ValidationError) error {
	var d Decoder
	d.Init(data, ocpp.DecodeOptions{})
	if d.IsNull() {
		d.ws()
		if d.i == len(d.s) {
			return nil
		}
		d.i = 0
	}
	return d.Finish(decode(&d))
}
