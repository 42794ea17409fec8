package receipt

import (
	"crypto/rand"
	"unicode"
)

// crockford is Douglas Crockford's base32 alphabet: digits and upper-case
// letters without I, L, O and U, so that a code read aloud, copied by
// hand or typed on a phone cannot be confused with 1, 0 or an obscenity.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// codeLen is the number of symbols in a receipt code (40 bits).
const codeLen = 8

// NewCode returns a fresh random receipt code, "XXXX-XXXX": 8 symbols of
// Crockford base32 from crypto/rand, 40 bits. That is short enough to read
// off a screen at a charger, and enough that guessing another driver's
// code is hopeless where lookups are rate limited; a code alone is not a
// credential for anything more than viewing the receipt.
func NewCode() string {
	var b [5]byte
	// crypto/rand.Read never returns an error (since Go 1.24 it crashes
	// the program instead if the system's generator fails).
	_, _ = rand.Read(b[:])
	v := uint64(b[0])<<32 | uint64(b[1])<<24 | uint64(b[2])<<16 | uint64(b[3])<<8 | uint64(b[4])
	var out [codeLen + 1]byte
	for i := codeLen - 1; i >= 0; i-- {
		pos := i
		if i >= codeLen/2 {
			pos++ // past the dash
		}
		out[pos] = crockford[v&31]
		v >>= 5
	}
	out[codeLen/2] = '-'
	return string(out[:])
}

// NormalizeCode turns what a driver typed into the canonical form of a
// receipt code, "XXXX-XXXX", and reports whether it is one. As Crockford
// base32 intends, it forgives the usual slips: lower case, a missing or
// extra dash, spaces, O for 0, and I or L for 1. Anything else — U, other
// punctuation, the wrong number of symbols — is not a code.
func NormalizeCode(s string) (string, bool) {
	var out [codeLen + 1]byte
	n := 0
	for _, r := range s {
		if r == '-' || unicode.IsSpace(r) {
			continue
		}
		c, ok := crockfordSymbol(r)
		if !ok || n == codeLen {
			return "", false
		}
		pos := n
		if n >= codeLen/2 {
			pos++
		}
		out[pos] = c
		n++
	}
	if n != codeLen {
		return "", false
	}
	out[codeLen/2] = '-'
	return string(out[:]), true
}

// crockfordSymbol maps a typed character to its canonical symbol.
func crockfordSymbol(r rune) (byte, bool) {
	if r >= 'a' && r <= 'z' {
		r -= 'a' - 'A'
	}
	switch r {
	case 'O':
		return '0', true
	case 'I', 'L':
		return '1', true
	case 'U':
		return 0, false
	}
	if r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' {
		return byte(r), true
	}
	return 0, false
}
