// Package live fans "station X changed" nudges out to the live views (the
// console's board and station pages, through the API's event stream).
//
// The Broker is the csms.StationWatcher: the core calls StationChanged on
// its ingest path after a change is stored, so it never blocks and never
// allocates per subscriber beyond a set entry. Each Subscription gathers
// the ids of the stations that changed since its reader last looked (a
// set: a station that changes ten times meanwhile is read back once) and
// signals on a one-slot channel. A nudge carries no data; readers read
// the station back from the store, which is the record.
package live

import (
	"slices"
	"sync"
)

// maxPending bounds a subscription's set: a reader that stopped reading
// holds at most this many ids (beyond it, it is told to reload everything).
const maxPending = 100_000

// Broker is a fan-out of station-changed nudges. The zero value is not
// usable; call New.
type Broker struct {
	mu     sync.RWMutex
	subs   map[*Subscription]struct{}
	closed bool
}

// New returns a broker with no subscribers.
func New() *Broker { return &Broker{subs: map[*Subscription]struct{}{}} }

// StationChanged nudges every subscription (csms.StationWatcher). It never
// blocks on a reader.
func (b *Broker) StationChanged(stationID string) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	for s := range b.subs {
		s.add(stationID)
	}
}

// Subscribe returns a new subscription; after Close, one that is already
// done.
func (b *Broker) Subscribe() *Subscription {
	s := &Subscription{b: b, pending: map[string]struct{}{}, ready: make(chan struct{}, 1), done: make(chan struct{})}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		s.closeOnce.Do(func() { close(s.done) })
		return s
	}
	b.subs[s] = struct{}{}
	return s
}

// Subscribers returns the number of open subscriptions.
func (b *Broker) Subscribers() int {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return len(b.subs)
}

// Close ends every subscription (their Done channels close) and makes
// later subscriptions done at once: the server is shutting down, and live
// streams must end so that shutdown need not wait for them.
func (b *Broker) Close() {
	b.mu.Lock()
	subs := b.subs
	b.subs = map[*Subscription]struct{}{}
	b.closed = true
	b.mu.Unlock()
	for s := range subs {
		s.closeOnce.Do(func() { close(s.done) })
	}
}

// Subscription is one reader's view of the nudges.
type Subscription struct {
	b         *Broker
	mu        sync.Mutex
	pending   map[string]struct{}
	overflow  bool
	ready     chan struct{} // one slot: something is pending
	done      chan struct{}
	closeOnce sync.Once
}

func (s *Subscription) add(id string) {
	s.mu.Lock()
	if len(s.pending) < maxPending {
		s.pending[id] = struct{}{}
	} else {
		s.overflow = true
	}
	s.mu.Unlock()
	select {
	case s.ready <- struct{}{}:
	default: // already signalled; the reader takes every pending id at once
	}
}

// Ready receives when station ids are pending.
func (s *Subscription) Ready() <-chan struct{} { return s.ready }

// Done is closed when the subscription ends (Close, or the broker's).
func (s *Subscription) Done() <-chan struct{} { return s.done }

// Take returns the pending station ids, sorted, and forgets them. all is
// true when ids were dropped because the reader fell far behind: it
// should then read everything it shows back.
func (s *Subscription) Take() (ids []string, all bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids = make([]string, 0, len(s.pending))
	for id := range s.pending {
		ids = append(ids, id)
	}
	clear(s.pending)
	all, s.overflow = s.overflow, false
	slices.Sort(ids)
	return ids, all
}

// Close unsubscribes; Done closes. Closing twice is fine.
func (s *Subscription) Close() {
	s.b.mu.Lock()
	delete(s.b.subs, s)
	s.b.mu.Unlock()
	s.closeOnce.Do(func() { close(s.done) })
}
