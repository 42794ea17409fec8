package alerts

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chargestar/chargestar/internal/model"
	"github.com/chargestar/chargestar/internal/store"
)

// receiver is an operator's webhook endpoint: it records what arrives and
// answers with the status fail returns (200 by default).
type receiver struct {
	srv  *httptest.Server
	mu   sync.Mutex
	got  []received
	fail func(ev Event) int
	hold chan struct{} // when set, each request waits on it
}

type received struct {
	sig  string
	body []byte
	ev   Event
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		var ev Event
		if err := json.Unmarshal(body, &ev); err != nil {
			t.Errorf("webhook body %s: %v", body, err)
		}
		if r.hold != nil {
			<-r.hold
		}
		r.mu.Lock()
		r.got = append(r.got, received{sig: req.Header.Get(SignatureHeader), body: body, ev: ev})
		fail := r.fail
		r.mu.Unlock()
		if req.Header.Get("Content-Type") != "application/json" {
			t.Errorf("content type %q", req.Header.Get("Content-Type"))
		}
		if fail != nil {
			if code := fail(ev); code != 0 {
				w.WriteHeader(code)
				return
			}
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) take() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.got
	r.got = nil
	return out
}

type fixture struct {
	t      *testing.T
	ctx    context.Context
	st     *store.Store
	op     model.Operator
	rcv    *receiver
	t0     time.Time
	secret string
}

func newFixture(t *testing.T) *fixture {
	ctx := t.Context()
	st, err := store.Open(ctx, "sqlite:"+t.TempDir()+"/db", store.Options{Migrate: true, BatchMaxDelay: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fixture{t: t, ctx: ctx, st: st, rcv: newReceiver(t), t0: time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC), secret: NewSecret()}
	f.op, err = st.CreateOperator(ctx, model.Operator{Name: "Alerted", Currency: "AUD", Country: "AU",
		AlertWebhookURL: f.rcv.srv.URL, AlertWebhookSecret: f.secret, AlertOfflineMinutes: 15, AlertPaymentStuckMinutes: 30})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) check(err error) {
	f.t.Helper()
	if err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) station(id string, retired *time.Time) {
	f.t.Helper()
	_, err := f.st.CreateStation(f.ctx, model.Station{ID: id, OperatorID: f.op.ID, CreatedAt: f.t0.Add(-time.Hour), RetiredAt: retired})
	f.check(err)
}

func (f *fixture) status(station string, conn int, status, code string, at time.Time) {
	f.t.Helper()
	f.check(f.st.RecordStatus(f.ctx, model.StatusEvent{StationID: station, ConnectorID: conn, Status: status, ErrorCode: code, Timestamp: at}))
}

func (f *fixture) payment(state string, since time.Time) store.SessionPayment {
	f.t.Helper()
	p := store.SessionPayment{OperatorID: f.op.ID, Purpose: "session", Method: "card", State: state, StationID: "UP", ConnectorID: 2,
		Currency: "AUD", HoldAmount: 5000, Provider: "sandbox", CreatedAt: since, UpdatedAt: since}
	if state == "authorized" {
		p.AuthorizedAt = &since
	} else {
		p.StoppedAt = &since
	}
	p, err := f.st.ChangeSessionPayment(f.ctx, store.SessionPaymentChange{Payment: p})
	f.check(err)
	return p
}

func (f *fixture) open() map[string]store.Alert {
	f.t.Helper()
	as, err := f.st.ListAlerts(f.ctx, store.AlertFilter{OperatorID: f.op.ID, State: "open"})
	f.check(err)
	out := map[string]store.Alert{}
	for _, a := range as {
		out[a.Kind+" "+a.Subject] = a
	}
	return out
}

// TestWorker runs the worker's ticks on a fake clock against a real store
// and a webhook receiver: alerts open when their condition has lasted,
// stay single, resolve when it ends, and every change is delivered once,
// signed.
func TestWorker(t *testing.T) {
	f := newFixture(t)
	t0 := f.t0
	w := NewWorker(f.st, Config{})
	f.station("UP", nil)
	f.station("DOWN", nil)
	f.station("NEVER", nil)
	f.station("GONE", ptr(t0.Add(-time.Minute)))
	f.check(f.st.RecordConnected(f.ctx, "UP", "ocpp1.6", t0.Add(-time.Hour)))
	f.check(f.st.RecordConnected(f.ctx, "DOWN", "ocpp1.6", t0.Add(-time.Hour)))
	f.check(f.st.RecordDisconnected(f.ctx, "DOWN", t0.Add(-20*time.Minute)))
	f.check(f.st.RecordConnected(f.ctx, "GONE", "ocpp1.6", t0.Add(-time.Hour)))
	f.check(f.st.RecordDisconnected(f.ctx, "GONE", t0.Add(-50*time.Minute)))
	f.status("UP", 1, "Faulted", "GroundFailure", t0.Add(-time.Minute))
	f.status("GONE", 1, "Faulted", "GroundFailure", t0.Add(-time.Hour))
	stuck := f.payment("authorized", t0.Add(-31*time.Minute))
	f.payment("stopped", t0.Add(-5*time.Minute)) // settling: not stuck yet

	if err := w.Tick(f.ctx, t0); err != nil {
		t.Fatal(err)
	}
	open := f.open()
	if len(open) != 3 || open["offline DOWN"].ID == "" || open["faulted UP/1"].ID == "" || open["payment_stuck "+stuck.ID].ID == "" {
		t.Fatalf("open after the first tick: %v", open)
	}
	if a := open["payment_stuck "+stuck.ID]; a.PaymentID != stuck.ID || a.StationID != "UP" || !a.OpenedAt.Equal(t0) {
		t.Errorf("payment alert: %+v", a)
	}
	got := f.rcv.take()
	if len(got) != 3 {
		t.Fatalf("%d webhooks, want 3", len(got))
	}
	for _, r := range got {
		if err := Verify(f.secret, r.sig, r.body, t0, 5*time.Minute); err != nil {
			t.Errorf("signature %q: %v", r.sig, err)
		}
		if err := Verify("whsec_wrong", r.sig, r.body, t0, 5*time.Minute); err == nil {
			t.Error("a wrong secret verifies")
		}
		if r.ev.Type != store.AlertOpened || r.ev.Alert.State != "open" || r.ev.Alert.OperatorID != f.op.ID || !r.ev.CreatedAt.Equal(t0) {
			t.Errorf("event %+v", r.ev)
		}
		if open[r.ev.Alert.Kind+" "+r.ev.Alert.Subject].ID != r.ev.Alert.ID {
			t.Errorf("event for an alert not open: %+v", r.ev)
		}
	}

	// Nothing changed: nothing new, nothing delivered again.
	if err := w.Tick(f.ctx, t0.Add(30*time.Second)); err != nil {
		t.Fatal(err)
	}
	if again := f.open(); len(again) != 3 || again["offline DOWN"].ID != open["offline DOWN"].ID {
		t.Fatalf("open after a quiet tick: %v", again)
	}
	if got := f.rcv.take(); len(got) != 0 {
		t.Fatalf("webhooks on a quiet tick: %d", len(got))
	}

	// DOWN comes back, the connector recovers: both resolve, each
	// delivered once.
	f.check(f.st.RecordConnected(f.ctx, "DOWN", "ocpp1.6", t0.Add(time.Minute)))
	f.status("UP", 1, "Available", "NoError", t0.Add(time.Minute))
	t1 := t0.Add(90 * time.Second)
	if err := w.Tick(f.ctx, t1); err != nil {
		t.Fatal(err)
	}
	if now := f.open(); len(now) != 1 || now["payment_stuck "+stuck.ID].ID == "" {
		t.Fatalf("open after recovery: %v", now)
	}
	got = f.rcv.take()
	if len(got) != 2 {
		t.Fatalf("%d webhooks, want 2", len(got))
	}
	for _, r := range got {
		if r.ev.Type != store.AlertResolved || r.ev.Alert.State != "resolved" || r.ev.Alert.ResolvedAt == nil || !r.ev.Alert.ResolvedAt.Equal(t1) {
			t.Errorf("event %+v", r.ev)
		}
		if err := Verify(f.secret, r.sig, r.body, t1, time.Minute); err != nil {
			t.Errorf("signature: %v", err)
		}
	}
	// Recurring: a new alert, not the old one reopened.
	f.status("UP", 1, "Faulted", "GroundFailure", t0.Add(2*time.Minute))
	if err := w.Tick(f.ctx, t0.Add(3*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if a := f.open()["faulted UP/1"]; a.ID == "" || a.ID == open["faulted UP/1"].ID {
		t.Errorf("recurring fault: %+v (first %s)", a, open["faulted UP/1"].ID)
	}
	f.rcv.take()

	// Retiring a station resolves its alerts.
	st, err := f.st.GetStation(f.ctx, "UP")
	f.check(err)
	retired := t0.Add(4 * time.Minute)
	st.RetiredAt = &retired
	_, err = f.st.UpdateStation(f.ctx, st)
	f.check(err)
	if err := w.Tick(f.ctx, t0.Add(5*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.open()["faulted UP/1"]; ok {
		t.Error("a retired station's alert stays open")
	}
}

// TestWebhookRetries: a delivery answered 500 is retried after its backoff
// (30 s), not before, and delivered then; one that keeps failing is given
// up after MaxAge.
func TestWebhookRetries(t *testing.T) {
	f := newFixture(t)
	t0 := f.t0
	var fails atomic.Int32
	fails.Store(1)
	f.rcv.fail = func(Event) int {
		if fails.Add(-1) >= 0 {
			return http.StatusInternalServerError
		}
		return 0
	}
	w := NewWorker(f.st, Config{MaxAge: time.Hour})
	f.station("S", nil)
	f.status("S", 1, "Faulted", "GroundFailure", t0)
	if err := w.Tick(f.ctx, t0); err != nil {
		t.Fatal(err)
	}
	a := f.open()["faulted S/1"]
	ds, err := f.st.AlertDeliveries(f.ctx, a.ID)
	f.check(err)
	if len(f.rcv.take()) != 1 || len(ds) != 1 || ds[0].DeliveredAt != nil || ds[0].Attempts != 1 || ds[0].LastError != "POST answered 500 Internal Server Error" ||
		!ds[0].NextAttemptAt.Equal(t0.Add(30*time.Second)) {
		t.Fatalf("after a 500: %+v", ds)
	}
	if err := w.Deliver(f.ctx, t0.Add(29*time.Second)); err != nil {
		t.Fatal(err)
	}
	if n := len(f.rcv.take()); n != 0 {
		t.Fatalf("retried before the backoff: %d", n)
	}
	if err := w.Deliver(f.ctx, t0.Add(30*time.Second)); err != nil {
		t.Fatal(err)
	}
	got := f.rcv.take()
	ds, _ = f.st.AlertDeliveries(f.ctx, a.ID)
	if len(got) != 1 || ds[0].DeliveredAt == nil || ds[0].Attempts != 2 {
		t.Fatalf("retry: %d webhooks, %+v", len(got), ds)
	}
	if got[0].ev.ID != "ald_"+itoa(ds[0].ID) {
		t.Errorf("event id %q", got[0].ev.ID)
	}

	// Failing for good: backoff doubles, then it is given up.
	f.rcv.fail = func(Event) int { return http.StatusBadGateway }
	f.status("S", 1, "Available", "NoError", t0.Add(time.Minute))
	now := t0.Add(2 * time.Minute)
	if err := w.Tick(f.ctx, now); err != nil {
		t.Fatal(err)
	}
	var waits []time.Duration
	for range 20 {
		ds, _ = f.st.AlertDeliveries(f.ctx, a.ID)
		d := ds[1]
		if d.FailedAt != nil {
			break
		}
		waits = append(waits, d.NextAttemptAt.Sub(now))
		now = d.NextAttemptAt
		if err := w.Deliver(f.ctx, now); err != nil {
			t.Fatal(err)
		}
	}
	want := []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 16 * time.Minute}
	if len(waits) != len(want) {
		t.Fatalf("waits %v, want %v", waits, want)
	}
	for i := range want {
		if waits[i] != want[i] {
			t.Fatalf("waits %v, want %v", waits, want)
		}
	}
	if d := ds[1]; d.FailedAt == nil || d.Attempts != 7 || d.DeliveredAt != nil {
		t.Fatalf("given up: %+v", d)
	}
	if n := len(f.rcv.take()); n != 7 {
		t.Fatalf("%d attempts reached the receiver, want 7", n)
	}

	// Turning the webhook off gives up what is queued.
	f.rcv.fail = nil
	f.status("S", 1, "Faulted", "GroundFailure", now)
	if err := w.CheckOperator(f.ctx, f.op, now.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	op := f.op
	op.AlertWebhookURL = ""
	_, err = f.st.UpdateOperator(f.ctx, op)
	f.check(err)
	if err := w.Deliver(f.ctx, now.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if n := len(f.rcv.take()); n != 0 {
		t.Fatalf("delivered after the webhook was turned off: %d", n)
	}
	ds, _ = f.st.AlertDeliveries(f.ctx, f.open()["faulted S/1"].ID)
	if len(ds) != 1 || ds[0].FailedAt == nil {
		t.Errorf("turned off: %+v", ds)
	}
}

// TestNoDuplicateDelivery: two workers (two instances on one database)
// delivering at the same moment send each event once.
func TestNoDuplicateDelivery(t *testing.T) {
	f := newFixture(t)
	t0 := f.t0
	for _, id := range []string{"S1", "S2", "S3", "S4", "S5"} {
		f.station(id, nil)
		f.status(id, 1, "Faulted", "GroundFailure", t0)
	}
	w1, w2 := NewWorker(f.st, Config{Parallel: 2}), NewWorker(f.st, Config{Parallel: 3})
	if err := w1.CheckOperator(f.ctx, f.op, t0); err != nil {
		t.Fatal(err)
	}
	if err := w2.CheckOperator(f.ctx, f.op, t0); err != nil { // a second evaluation changes nothing
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for _, w := range []*Worker{w1, w2, w1, w2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := w.Deliver(f.ctx, t0); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	got := f.rcv.take()
	seen := map[string]int{}
	for _, r := range got {
		seen[r.ev.ID]++
	}
	if len(got) != 5 || len(seen) != 5 {
		t.Fatalf("%d deliveries of %d events: %v", len(got), len(seen), seen)
	}
}

func ptr[T any](v T) *T { return &v }

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }
