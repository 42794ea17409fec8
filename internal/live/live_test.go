package live

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/chargestar/chargestar/internal/csms"
)

var _ csms.StationWatcher = (*Broker)(nil)

func waitReady(t *testing.T, s *Subscription) {
	t.Helper()
	select {
	case <-s.Ready():
	case <-time.After(5 * time.Second):
		t.Fatal("the subscription was never signalled")
	}
}

func TestEverySubscriberGetsEachChangedStationOnce(t *testing.T) {
	b := New()
	s1, s2 := b.Subscribe(), b.Subscribe()
	defer s1.Close()
	defer s2.Close()
	for range 10 {
		b.StationChanged("CS-2")
		b.StationChanged("CS-1")
	}
	for _, s := range []*Subscription{s1, s2} {
		waitReady(t, s)
		ids, all := s.Take()
		if !slices.Equal(ids, []string{"CS-1", "CS-2"}) || all {
			t.Errorf("Take = %v %v, want [CS-1 CS-2] coalesced", ids, all)
		}
		select {
		case <-s.Ready():
			t.Error("signalled again with nothing new")
		default:
		}
		if ids, _ := s.Take(); len(ids) != 0 {
			t.Errorf("second Take = %v", ids)
		}
	}
}

func TestANudgeAfterTakeSignalsAgain(t *testing.T) {
	b := New()
	s := b.Subscribe()
	defer s.Close()
	b.StationChanged("CS-1")
	waitReady(t, s)
	s.Take()
	b.StationChanged("CS-1")
	waitReady(t, s)
	if ids, _ := s.Take(); !slices.Equal(ids, []string{"CS-1"}) {
		t.Errorf("Take = %v", ids)
	}
}

func TestAReaderThatNeverReadsDoesNotBlockTheCaller(t *testing.T) {
	b := New()
	s := b.Subscribe() // never read
	defer s.Close()
	done := make(chan struct{})
	go func() {
		for i := range maxPending + 10 {
			b.StationChanged(fmt.Sprint("CS-", i))
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("StationChanged blocked on a reader that does not read")
	}
	ids, all := s.Take()
	if len(ids) != maxPending || !all {
		t.Errorf("after overflow: %d ids, all=%v; want %d and all", len(ids), all, maxPending)
	}
}

func TestCloseUnsubscribes(t *testing.T) {
	b := New()
	s := b.Subscribe()
	if b.Subscribers() != 1 {
		t.Fatalf("subscribers = %d", b.Subscribers())
	}
	s.Close()
	s.Close() // twice is fine
	select {
	case <-s.Done():
	default:
		t.Fatal("Done not closed")
	}
	if b.Subscribers() != 0 {
		t.Fatalf("subscribers after Close = %d", b.Subscribers())
	}
	b.StationChanged("CS-1")
	if ids, _ := s.Take(); len(ids) != 0 {
		t.Errorf("a closed subscription got %v", ids)
	}
}

func TestBrokerCloseEndsEverySubscription(t *testing.T) {
	b := New()
	s := b.Subscribe()
	b.Close()
	select {
	case <-s.Done():
	case <-time.After(time.Second):
		t.Fatal("the subscription did not end with the broker")
	}
	s.Close() // after the broker's close: fine
	late := b.Subscribe()
	select {
	case <-late.Done():
	default:
		t.Fatal("a subscription after Close is not done")
	}
	b.StationChanged("CS-1") // no subscriber, no panic
}

// TestConcurrentNudgesAndSubscriptions is for -race: writers, readers and
// subscribe/unsubscribe at once; every station a reader is subscribed
// through is seen.
func TestConcurrentNudgesAndSubscriptions(t *testing.T) {
	b := New()
	const writers, perWriter = 8, 500
	reader := b.Subscribe()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				b.StationChanged(fmt.Sprintf("CS-%d-%d", w, i%50))
			}
		})
	}
	for range 4 {
		wg.Go(func() {
			for range 100 {
				s := b.Subscribe()
				b.StationChanged("CS-x")
				s.Take()
				s.Close()
			}
		})
	}
	seen := map[string]bool{}
	stop := make(chan struct{})
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		for {
			select {
			case <-reader.Ready():
				ids, _ := reader.Take()
				for _, id := range ids {
					seen[id] = true
				}
			case <-stop:
				ids, _ := reader.Take()
				for _, id := range ids {
					seen[id] = true
				}
				return
			}
		}
	}()
	wg.Wait()
	close(stop)
	<-readerDone
	reader.Close()
	if len(seen) != writers*50+1 {
		t.Errorf("the reader saw %d stations, want %d", len(seen), writers*50+1)
	}
}
