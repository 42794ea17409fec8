package sim

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// Histogram records durations in a fixed set of log-linear buckets: exact
// below 256 ns, then 128 buckets per power of two, so every reported value
// is within 0.8% of a recorded one. Memory is fixed (about 35 KiB) whatever
// the number of samples, and Record is lock-free, so every station of a
// fleet can record into one histogram.
type Histogram struct {
	counts [histBuckets]atomic.Uint64
}

const (
	histSubBits = 7
	histSub     = 1 << histSubBits // buckets per power of two
	histMaxBits = 42               // values up to 2^42 ns (73 minutes); larger ones land in the last bucket
	histBuckets = (histMaxBits-histSubBits)*histSub + histSub
)

// bucketOf returns the bucket of a value in nanoseconds.
func bucketOf(v uint64) int {
	if v < 2*histSub {
		return int(v)
	}
	shift := bits.Len64(v) - histSubBits - 1
	i := shift*histSub + int(v>>uint(shift))
	if i >= histBuckets {
		return histBuckets - 1
	}
	return i
}

// bucketHigh returns the highest value that falls in bucket i.
func bucketHigh(i int) uint64 {
	if i < 2*histSub {
		return uint64(i)
	}
	shift := i/histSub - 1
	m := uint64(i - shift*histSub)
	return (m+1)<<uint(shift) - 1
}

// Record adds one duration (negative ones count as zero).
func (h *Histogram) Record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[bucketOf(uint64(d))].Add(1)
}

// Snapshot returns a copy of the counts so far.
func (h *Histogram) Snapshot() HistogramSnapshot {
	s := HistogramSnapshot{counts: make([]uint64, histBuckets)}
	for i := range h.counts {
		c := h.counts[i].Load()
		s.counts[i] = c
		s.n += c
	}
	return s
}

// HistogramSnapshot is a point-in-time copy of a Histogram; the difference
// of two snapshots is the histogram of the samples recorded between them.
type HistogramSnapshot struct {
	counts []uint64
	n      uint64
}

// Count returns the number of samples.
func (s HistogramSnapshot) Count() uint64 { return s.n }

// Sub returns the samples of s not in prev (an earlier snapshot of the same histogram).
func (s HistogramSnapshot) Sub(prev HistogramSnapshot) HistogramSnapshot {
	out := HistogramSnapshot{counts: make([]uint64, histBuckets)}
	for i := range out.counts {
		var p uint64
		if prev.counts != nil {
			p = prev.counts[i]
		}
		out.counts[i] = s.counts[i] - p
		out.n += out.counts[i]
	}
	return out
}

// Quantile returns the value at quantile q (0..1): the highest value of the
// bucket holding the q·n-th sample; 0 when empty.
func (s HistogramSnapshot) Quantile(q float64) time.Duration {
	if s.n == 0 {
		return 0
	}
	target := uint64(q*float64(s.n) + 0.5)
	if target < 1 {
		target = 1
	}
	if target > s.n {
		target = s.n
	}
	var seen uint64
	for i, c := range s.counts {
		seen += c
		if seen >= target {
			return time.Duration(bucketHigh(i))
		}
	}
	return time.Duration(bucketHigh(histBuckets - 1))
}

// Max returns the largest sample (to the bucket's precision); 0 when empty.
func (s HistogramSnapshot) Max() time.Duration {
	for i := len(s.counts) - 1; i >= 0; i-- {
		if s.counts[i] > 0 {
			return time.Duration(bucketHigh(i))
		}
	}
	return 0
}

// Mean returns the mean of the samples (to the buckets' precision).
func (s HistogramSnapshot) Mean() time.Duration {
	if s.n == 0 {
		return 0
	}
	var sum float64
	for i, c := range s.counts {
		if c > 0 {
			sum += float64(c) * float64(bucketHigh(i))
		}
	}
	return time.Duration(sum / float64(s.n))
}
