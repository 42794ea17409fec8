package receipt

import (
	"testing"
)

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
