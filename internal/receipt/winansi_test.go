package receipt

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
		if got := string(toWinAnsi(in)); got != want {
			t.Errorf("toWinAnsi(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTextWidth(t *testing.T) {
	for _, c := range []struct {
		s    string
		f    font
		size float64
		want float64 // from the AFM widths, by hand
	}{
		{"Hello", helvetica, 10, (722 + 556 + 222 + 222 + 556) / 100.0},
		{"$14.25", helvetica, 10, (556*5 + 278) / 100.0},
		{"$14.25", helveticaBold, 12, (556*5 + 278) * 12 / 1000.0},
		{"@W", helvetica, 1, (1015 + 944) / 1000.0},
		{"@W", helveticaBold, 1, (975 + 944) / 1000.0},
		{"Total", helveticaBold, 10, (611 + 611 + 333 + 556 + 278) / 100.0},
		{"•—×é€", helvetica, 10, (350 + 1000 + 584 + 556 + 556) / 100.0},
		{"", helvetica, 10, 0},
	} {
		got := textWidth(toWinAnsi(c.s), c.f, c.size)
		if math.Abs(got-c.want) > 1e-9 {
			t.Errorf("textWidth(%q, %v, %v) = %v, want %v", c.s, c.f, c.size, got, c.want)
		}
	}
	// Digits are all 556 in both fonts: amounts line up like tabular figures.
	for d := byte('0'); d <= '9'; d++ {
		if helveticaWidths[d-32] != 556 || helveticaBoldWidths[d-32] != 556 {
			t.Errorf("digit %c is not 556 wide", d)
		}
	}
}

func TestWrap(t *testing.T) {
	text := "Idle fee after the grace period of fifteen minutes"
	width := textWidth(toWinAnsi("Idle fee after the"), helvetica, 10) + 1
	lines := wrapText(text, helvetica, 10, width)
	want := []string{"Idle fee after the", "grace period of", "fifteen minutes"}
	if len(lines) != len(want) {
		t.Fatalf("wrap = %q, want %q", lines, want)
	}
	for i := range want {
		if string(lines[i]) != want[i] {
			t.Errorf("line %d = %q, want %q", i, lines[i], want[i])
		}
		if w := textWidth(lines[i], helvetica, 10); w > width {
			t.Errorf("line %q is %v wide, over %v", lines[i], w, width)
		}
	}
	// A word wider than the column is broken inside.
	long := wrapText("XXXXXXXXXXXXXXXXXXXX", helvetica, 10, 30)
	if len(long) < 2 {
		t.Errorf("long word not broken: %q", long)
	}
	for _, l := range long {
		if w := textWidth(l, helvetica, 10); w > 30 {
			t.Errorf("piece %q is %v wide", l, w)
		}
	}
	// Newlines always break; "" is no line.
	if got := wrapText("a\nb", helvetica, 10, 500); len(got) != 2 {
		t.Errorf("newline: %q", got)
	}
	if got := wrapText("", helvetica, 10, 500); len(got) != 0 {
		t.Errorf("empty: %q", got)
	}
}
