package pdfdoc

import (
	"math"
	"testing"
)

// cp1252High is code page 1252 at 0x80–0x9F, typed out independently of
// winAnsiByte; U+FFFD marks the five codes it leaves undefined.
const cp1252High = "€\uFFFD‚ƒ„…†‡ˆ‰Š‹Œ\uFFFDŽ\uFFFD\uFFFD‘’“”•–—˜™š›œ\uFFFDžŸ"

func TestWinAnsiByte(t *testing.T) {
	for r, want := range map[rune]byte{
		'A': 'A', '$': '$', '~': '~', ' ': ' ',
		'(': '(', ')': ')', '\\': '\\',
		'€': 0x80, '‚': 0x82, '…': 0x85, '‘': 0x91, '’': 0x92, '“': 0x93, '”': 0x94,
		'•': 0x95, '–': 0x96, '—': 0x97, '™': 0x99, 'Ÿ': 0x9f,
		'\u00a0': 0xa0, '£': 0xa3, '¥': 0xa5, '©': 0xa9, '°': 0xb0, '·': 0xb7,
		'×': 0xd7, 'é': 0xe9, 'ü': 0xfc, 'ÿ': 0xff,
		// Whitespace controls read as spaces.
		'\t': ' ', '\n': ' ', '\r': ' ',
		// Not in code page 1252.
		'₩': '?', '中': '?', '😀': '?', '\u2009': '?', '\u2212': '?', 'Ā': '?',
		0x00: '?', 0x1b: '?', 0x7f: '?',
		// C1 controls are not the characters code page 1252 puts there.
		0x80: '?', 0x95: '?', 0x9f: '?',
		'\uFFFD': '?',
	} {
		if got := winAnsiByte(r); got != want {
			t.Errorf("winAnsiByte(%U) = %#x, want %#x", r, got, want)
		}
	}
}

func TestWinAnsiTable(t *testing.T) {
	// Every defined code from 0x20 round-trips through its character.
	high := []rune(cp1252High)
	if len(high) != 32 {
		t.Fatalf("cp1252High has %d runes", len(high))
	}
	for c := 0x20; c <= 0xff; c++ {
		r := rune(c)
		switch {
		case c == 0x7f:
			continue
		case c >= 0x80 && c < 0xa0:
			r = high[c-0x80]
			if r == '\uFFFD' {
				continue
			}
		}
		if got := winAnsiByte(r); got != byte(c) {
			t.Errorf("winAnsiByte(%q) = %#x, want %#x", r, got, c)
		}
	}
}

func TestToWinAnsi(t *testing.T) {
	for in, want := range map[string]string{
		"":                          "",
		"Visa •••• 4242":            "Visa \x95\x95\x95\x95 4242",
		"No charge — hold released": "No charge \x97 hold released",
		"2 × $0.55":                 "2 \xd7 $0.55",
		"Café €5":                   "Caf\xe9 \x805",
		"₩500":                      "?500",
		"line\none":                 "line one",
		"bad \xff byte":             "bad ? byte", // invalid UTF-8
	} {
		if got := string(WinAnsi(in)); got != want {
			t.Errorf("WinAnsi(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTextWidth(t *testing.T) {
	for _, c := range []struct {
		s    string
		f    Font
		size float64
		want float64 // from the AFM widths, by hand
	}{
		{"Hello", Helvetica, 10, (722 + 556 + 222 + 222 + 556) / 100.0},
		{"$14.25", Helvetica, 10, (556*5 + 278) / 100.0},
		{"$14.25", HelveticaBold, 12, (556*5 + 278) * 12 / 1000.0},
		{"@W", Helvetica, 1, (1015 + 944) / 1000.0},
		{"@W", HelveticaBold, 1, (975 + 944) / 1000.0},
		{"Total", HelveticaBold, 10, (611 + 611 + 333 + 556 + 278) / 100.0},
		{"•—×é€", Helvetica, 10, (350 + 1000 + 584 + 556 + 556) / 100.0},
		{"", Helvetica, 10, 0},
	} {
		got := TextWidth(WinAnsi(c.s), c.f, c.size)
		if math.Abs(got-c.want) > 1e-9 {
			t.Errorf("TextWidth(%q, %v, %v) = %v, want %v", c.s, c.f, c.size, got, c.want)
		}
	}
	// Digits are all 556 in both fonts: amounts line up like tabular figures.
	for d := byte('0'); d <= '9'; d++ {
		if helveticaWidths[d-32] != 556 || helveticaBoldWidths[d-32] != 556 {
			t.Errorf("digit %c is not 556 wide", d)
		}
	}
}
