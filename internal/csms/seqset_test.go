package csms

import (
	"math/rand/v2"
	"testing"
)

func TestSeqSet(t *testing.T) {
	for trial := range 200 {
		r := rand.New(rand.NewPCG(uint64(trial), 7))
		var q seqSet
		seen := map[int]bool{}
		for range 60 {
			n := r.IntN(40)
			if q.has(n) != seen[n] {
				t.Fatalf("trial %d: has(%d) = %v, want %v", trial, n, q.has(n), seen[n])
			}
			q.add(n)
			seen[n] = true
		}
		for n := range 45 {
			if q.has(n) != seen[n] {
				t.Fatalf("trial %d: final has(%d) = %v, want %v", trial, n, q.has(n), seen[n])
			}
		}
	}
	var q seqSet
	for n := range 1000 {
		q.add(n)
	}
	if q.above != nil || q.next != 1000 {
		t.Fatalf("in-order numbers are not compact: next %d, above %v", q.next, q.above)
	}
}

func TestShiftDecimal(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{
		{"16.345", 3, "16345"}, {"16.3456", 3, "16345.6"}, {"0.001", 3, "1"}, {"12", 3, "12000"},
		{"1234", -3, "1.234"}, {"5", -3, "0.005"}, {"-2.5", 1, "-25"}, {"0", 3, "0"}, {"-0.0", 2, "0"},
		{"007.50", 0, "7.5"}, {"+1.5", 1, "15"},
	} {
		if got, ok := ShiftDecimal(c.in, c.n); !ok || got != c.want {
			t.Errorf("ShiftDecimal(%q, %d) = %q, %v; want %q", c.in, c.n, got, ok, c.want)
		}
	}
	for _, bad := range []string{"", "1e3", "abc", "1.2.3", "."} {
		if got, ok := ShiftDecimal(bad, 3); ok {
			t.Errorf("ShiftDecimal(%q) = %q, want not ok", bad, got)
		}
	}
}
