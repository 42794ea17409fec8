package receipt

import (
	"regexp"
	"testing"
)

func TestNewCode(t *testing.T) {
	canonical := regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$`)
	const n = 2000
	seen := make(map[string]bool, n)
	// symbols[i] is the set of symbols seen at position i: with 2,000
	// codes every one of the 32 turns up at every position unless some
	// bits of the 40 are stuck (a missing symbol by chance: ~1e-27).
	var symbols [codeLen]map[byte]bool
	for i := range symbols {
		symbols[i] = map[byte]bool{}
	}
	for range n {
		c := NewCode()
		if !canonical.MatchString(c) {
			t.Fatalf("NewCode() = %q, not XXXX-XXXX in Crockford base32", c)
		}
		if got, ok := NormalizeCode(c); !ok || got != c {
			t.Fatalf("NormalizeCode(%q) = %q, %v", c, got, ok)
		}
		if seen[c] {
			t.Fatalf("NewCode repeated %q", c)
		}
		seen[c] = true
		for i, j := 0, 0; i < len(c); i++ {
			if c[i] != '-' {
				symbols[j][c[i]] = true
				j++
			}
		}
	}
	for i, s := range symbols {
		if len(s) != 32 {
			t.Errorf("position %d: %d symbols seen in %d codes, want 32", i, len(s), n)
		}
	}
}

func TestNormalizeCode(t *testing.T) {
	accept := map[string]string{
		"K7QM-4XPD":       "K7QM-4XPD",
		"k7qm-4xpd":       "K7QM-4XPD",
		"K7QM4XPD":        "K7QM-4XPD",
		" k7qm 4xpd ":     "K7QM-4XPD",
		"K7-QM-4X-PD":     "K7QM-4XPD",
		"k7qm\t4xpd\n":    "K7QM-4XPD",
		"OoIi-LlZZ":       "0011-11ZZ",
		"0123-4567":       "0123-4567",
		"89AB-CDEF":       "89AB-CDEF",
		"GHJK-MNPQ":       "GHJK-MNPQ",
		"RSTV-WXYZ":       "RSTV-WXYZ",
		"rstv wxyz":       "RSTV-WXYZ",
		"--K7QM-4XPD--":   "K7QM-4XPD",
		"K 7 Q M 4 X P D": "K7QM-4XPD",
	}
	for in, want := range accept {
		if got, ok := NormalizeCode(in); !ok || got != want {
			t.Errorf("NormalizeCode(%q) = %q, %v; want %q, true", in, got, ok, want)
		}
	}
	for _, in := range []string{
		"",
		"-",
		"K7QM-4XP",   // 7 symbols
		"K7QM-4XPDA", // 9
		"K7QU-4XPD",  // U is not Crockford
		"k7qu-4xpd",
		"K7QM_4XPD", // other punctuation
		"K7QM.4XPD",
		"K7QM-4XPÉ", // non-ASCII
		"K7QM-4XP*", // Crockford's check symbols are not used
		"K7QM-4XPD-K7QM",
	} {
		if got, ok := NormalizeCode(in); ok {
			t.Errorf("NormalizeCode(%q) = %q, true; want rejection", in, got)
		}
	}
}
