package main

import (
	"strings"
	"unicode"
)

// splitWords splits a camelCase / PascalCase / snake_case name into words.
// Boundaries: lower→upper ("idTag" → id|Tag), an upper-case run followed by
// a lower-case letter ("ACCharging" → AC|Charging), letter↔digit
// ("iso15118" → iso|15118) and any non-alphanumeric character (dropped).
func splitWords(s string) []string {
	var words []string
	rs := []rune(s)
	start := -1
	flush := func(end int) {
		if start >= 0 && end > start {
			words = append(words, string(rs[start:end]))
		}
		start = -1
	}
	for i, r := range rs {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			flush(i)
			continue
		}
		if start < 0 {
			start = i
			continue
		}
		p := rs[i-1]
		switch {
		case unicode.IsDigit(r) != unicode.IsDigit(p):
			flush(i)
			start = i
		case unicode.IsUpper(r) && unicode.IsLower(p):
			flush(i)
			start = i
		case unicode.IsLower(r) && unicode.IsUpper(p) && i-1 > start:
			// "ACCharging": the 'C' before "harging" starts a new word
			flush(i - 1)
			start = i - 1
		}
	}
	flush(len(rs))
	return words
}

// goName converts a JSON property or schema type name to an exported Go
// identifier, applying initialisms: idTag → IDTag, connectorId →
// ConnectorID, evseId → EVSEID, iccid → ICCID, ocppCsmsUrl → OCPPCSMSURL,
// IdTokenType → IDTokenType, limit_L2 → LimitL2.
func goName(s string) string {
	var b strings.Builder
	for _, w := range splitWords(s) {
		if up, ok := initialisms[strings.ToLower(w)]; ok {
			b.WriteString(up)
			continue
		}
		r := []rune(w)
		r[0] = unicode.ToUpper(r[0])
		b.WriteString(string(r))
	}
	return b.String()
}

// constSuffix converts an enum value to the suffix of its Go constant:
// "Energy.Active.Import.Register" → EnergyActiveImportRegister, "L1-N" →
// L1N, "kWh" → KWh. Digit groups separated in the value stay separated by
// an underscore ("ISO15118-2" is not run into "ISO151182").
func constSuffix(v string) string {
	var b strings.Builder
	prevDigit := false
	for _, part := range strings.FieldsFunc(v, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		r := []rune(part)
		if prevDigit && unicode.IsDigit(r[0]) {
			b.WriteByte('_')
		}
		r[0] = unicode.ToUpper(r[0])
		b.WriteString(string(r))
		prevDigit = unicode.IsDigit(r[len(r)-1])
	}
	return b.String()
}

// lowerFirst returns s with its first letter in lower case (for unexported names).
func lowerFirst(s string) string {
	r := []rune(s)
	// lower a leading initialism as a whole: IDTagInfo → idTagInfo, EVSE → evse
	n := 0
	for n < len(r) && unicode.IsUpper(r[n]) {
		n++
	}
	if n == 0 {
		return s
	}
	if n > 1 && n < len(r) {
		n-- // keep the upper-case letter that starts the next word
	}
	for i := 0; i < n; i++ {
		r[i] = unicode.ToLower(r[i])
	}
	return string(r)
}
