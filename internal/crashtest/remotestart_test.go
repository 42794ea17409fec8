package crashtest

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chargestar/chargestar/internal/store"
)

// TestCrashSafetyKillDuringRemoteStart kills the server, deterministically,
// while its outbox is in the middle of a call: the remote start of a paid
// session, sent to a station that is slow to answer. After the restart the
// station is back at once, so the remote start must be sent again within
// the recovery bound (-crash.recovery), and the session charge and be
// captured as usual. (The same holds for every outbox call — captures and
// voids too — but only a station's answer can be held back from here.)
func TestCrashSafetyKillDuringRemoteStart(t *testing.T) {
	if testing.Short() {
		t.Skip("crash-safety test: builds the server and kills it; skipped with -short")
	}
	e := newEnv(t, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	st := e.stations[0]
	stalled := make(chan string, 1)
	st.stall.Store(&stalled)

	r := &paidSession{k: 7, station: e.stationIDs[0], energyWh: energyOf(7)}
	var phase atomic.Value
	d := &driver{srv: e.srv, st: st, phase: &phase, hub: &phaseHub{}, logf: e.logf, jitter: func(time.Duration) time.Duration { return 0 },
		recovery: *recoveryFlag, abort: func(why string) { t.Error(why); cancel() }}
	for {
		co, status, err := postCheckout(ctx, e.srv.baseURL(), r.station)
		if err == nil && status == http.StatusCreated {
			r.paymentID, r.access = co.PaymentID, co.AccessToken
			d.pay(ctx, r, co.CheckoutURL)
			break
		}
		if ctx.Err() != nil {
			t.Fatal(ctx.Err())
		}
		sleep(ctx, 100*time.Millisecond)
	}
	if r.failed != "" {
		t.Fatal(r.failed)
	}
	var tag string
	select {
	case tag = <-stalled:
	case <-time.After(30 * time.Second):
		t.Fatalf("no RemoteStartTransaction within 30 s of paying (payment %s)", r.paymentID)
	}
	e.logf("the station holds the answer to RemoteStartTransaction %s; killing the server", tag)
	up := e.srv.kill()
	e.logf("killed after %s; restarting", up.Round(time.Millisecond))
	if err := e.srv.start(); err != nil {
		t.Fatal(err)
	}
	restarted := time.Now()
	if err := e.srv.waitHealthy(ctx, 30*time.Second); err != nil {
		t.Fatal(err)
	}

	// The paid session must now start, and charge, and be captured.
	select {
	case again := <-st.remote:
		e.logf("RemoteStartTransaction %s again %s after the restart", again, time.Since(restarted).Round(time.Millisecond))
		if again != tag {
			t.Fatalf("the remote start after the restart has idTag %s, want %s", again, tag)
		}
		// Hand it back to the driver, which runs the transaction.
		st.remote <- again
	case <-time.After(*recoveryFlag):
		t.Errorf("no RemoteStartTransaction within %s of the restart: the paid session is not started although its station is online. %s",
			*recoveryFlag, jobsOf(t, e.dbPath, r.paymentID))
		return
	}
	d.startAndCharge(ctx, r)
	if r.failed != "" {
		t.Fatal(r.failed)
	}
	deadline := time.Now().Add(*recoveryFlag)
	for {
		s, err := paymentState(ctx, httpClient, e.srv.baseURL(), r)
		if err == nil && isFinal(s) {
			r.finalState = s
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("payment %s still %q %s after the session ended. %s", r.paymentID, s, *recoveryFlag, jobsOf(t, e.dbPath, r.paymentID))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := e.srv.stop(); err != nil {
		t.Error(err)
	}
	sum := verify(t, e.dbPath, []*paidSession{r})
	if sum.captured != 1 {
		t.Errorf("the session was not captured: %+v", sum)
	}
}

// jobsOf describes a payment's outbox jobs, read from the live database.
func jobsOf(t *testing.T, dbPath, paymentID string) string {
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite:"+dbPath, store.Options{})
	if err != nil {
		return "(database: " + err.Error() + ")"
	}
	defer st.Close()
	p, err := st.GetSessionPayment(ctx, paymentID)
	if err != nil {
		return "(payment: " + err.Error() + ")"
	}
	jobs, err := st.PaymentJobs(ctx, paymentID)
	if err != nil {
		return "(jobs: " + err.Error() + ")"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Payment %s is %s; its outbox jobs:", p.ID, p.State)
	now := time.Now()
	for _, j := range jobs {
		fmt.Fprintf(&b, " [%s created %s ago, attempts %d, done %v, due in %s, last error %q]",
			j.Kind, now.Sub(j.CreatedAt).Round(time.Millisecond), j.Attempts, j.DoneAt != nil, j.DueAt.Sub(now).Round(time.Millisecond), j.LastError)
	}
	return b.String()
}
