package sim

import (
	"container/heap"
	"context"
	"sync"
	"time"
)

// scheduler wakes stations at the times they ask for, with one timer for
// all of them instead of one per station. A station has one wake channel
// (capacity 1); a wake is a hint to look at the clock, so a spurious or
// merged wake is harmless.
type scheduler struct {
	mu   sync.Mutex
	h    wakeHeap
	kick chan struct{}
}

type wakeEntry struct {
	at int64 // unix nanos
	ch chan struct{}
}

type wakeHeap []wakeEntry

func (h wakeHeap) Len() int           { return len(h) }
func (h wakeHeap) Less(i, j int) bool { return h[i].at < h[j].at }
func (h wakeHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *wakeHeap) Push(x any)        { *h = append(*h, x.(wakeEntry)) }
func (h *wakeHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = wakeEntry{}
	*h = old[:len(old)-1]
	return e
}

func newScheduler() *scheduler { return &scheduler{kick: make(chan struct{}, 1)} }

// at asks for a wake of ch at t.
func (s *scheduler) at(t time.Time, ch chan struct{}) {
	ns := t.UnixNano()
	s.mu.Lock()
	heap.Push(&s.h, wakeEntry{at: ns, ch: ch})
	first := s.h[0].at == ns
	s.mu.Unlock()
	if first {
		select {
		case s.kick <- struct{}{}:
		default:
		}
	}
}

// run fires wakes until ctx is done.
func (s *scheduler) run(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		now := time.Now().UnixNano()
		next := int64(-1)
		s.mu.Lock()
		for len(s.h) > 0 {
			if s.h[0].at > now {
				next = s.h[0].at
				break
			}
			e := heap.Pop(&s.h).(wakeEntry)
			select {
			case e.ch <- struct{}{}:
			default:
			}
		}
		if cap(s.h) > 1024 && len(s.h) < cap(s.h)/4 {
			s.h = append(wakeHeap(nil), s.h...) // give back the memory of a past burst
		}
		s.mu.Unlock()
		d := time.Hour
		if next >= 0 {
			d = time.Duration(next - now)
		}
		timer.Reset(d)
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-s.kick:
		}
	}
}
