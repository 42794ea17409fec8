package sessionbilling_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chargestar/chargestar/internal/servertest"
	"github.com/chargestar/chargestar/internal/sessionbilling"
)

// BenchmarkSessionsSettled measures complete paid sessions per second,
// end to end on one server: the driver's checkout (HTTP), the hosted page
// (HTTP form, the sandbox acquirer's hold and webhook), the remote start,
// the station's start and stop (OCPP 1.6 over WebSocket), pricing, the
// capture at the acquirer and the ledger bookings. Stations work in
// parallel, one session at a time each.
//
//	go test ./internal/sessionbilling -run '^$' -bench SessionsSettled -benchtime 2000x
func BenchmarkSessionsSettled(b *testing.B) {
	for _, db := range []string{"sqlite", "postgres"} {
		b.Run(db, func(b *testing.B) { benchSettled(b, db == "postgres") })
	}
}

func benchSettled(b *testing.B, postgres bool) {
	e := newEnv(b, servertest.Options{Postgres: postgres})
	const stations = 32
	sts := make([]*session16, stations)
	for i := range sts {
		sts[i] = &session16{t: b, st: e.station(fmt.Sprintf("BENCH%02d", i), "ocpp1.6")}
	}
	var next atomic.Int64
	var failed atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	for _, s := range sts {
		wg.Add(1)
		go func(s *session16) {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				if err := e.benchSession(s); err != nil {
					failed.Add(1)
					b.Error(err)
					return
				}
			}
		}(s)
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sessions/s")
	if failed.Load() == 0 {
		e.checkLedger()
	}
}

// benchSession runs one paid session on a station and waits for its
// capture.
func (e *env) benchSession(s *session16) error {
	c := e.checkout(s.st.ID, "")
	if resp := e.pay(c, "4242424242424242"); resp.StatusCode != http.StatusSeeOther {
		return fmt.Errorf("pay: %s", resp.Status)
	}
	// The remote start comes once the hold is booked.
	token := s.acceptRemoteStart()
	start := time.Now().Add(-time.Hour)
	s.start(token, start, 0)
	s.stop(start.Add(time.Hour), 20000, "Local")
	deadline := time.Now().Add(30 * time.Second)
	for !e.isState(c.PaymentID, sessionbilling.StateCaptured) {
		if time.Now().After(deadline) {
			return fmt.Errorf("payment %s not captured", c.PaymentID)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return nil
}

func (e *env) isState(id string, states ...sessionbilling.State) bool {
	p, err := e.srv.Store.GetSessionPayment(context.Background(), id)
	if err != nil {
		return false
	}
	for _, s := range states {
		if p.State == string(s) {
			return true
		}
	}
	return false
}
