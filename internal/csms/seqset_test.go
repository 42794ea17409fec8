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
