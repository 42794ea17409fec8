package crashtest

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chargestar/chargestar/internal/ledger"
	"github.com/chargestar/chargestar/internal/model"
	"github.com/chargestar/chargestar/internal/store"
)

var (
	kills        = flag.Int("crash.kills", 3, "crash test: how many times the server is killed with SIGKILL")
	sessionCount = flag.Int("crash.sessions", 12, "crash test: how many paid charging sessions are run")
	stationCount = flag.Int("crash.stations", 4, "crash test: how many simulated stations charge at once")
	seedFlag     = flag.Uint64("crash.seed", 0, "crash test: random seed (0: a new one, logged)")
	keepFlag     = flag.Bool("crash.keep", false, "crash test: keep the database and server log (their directory is logged)")
	recoveryFlag = flag.Duration("crash.recovery", 30*time.Second,
		"crash test: how long after a restart the server may take to finish what a kill interrupted (a remote start, a capture)")
)

// tariffJSON: $0.50/kWh and a $1.00 session fee, GST included; hold $50.
const tariffJSON = `{"country_code":"AU","party_id":"CST","id":"T1","currency":"AUD","type":"AD_HOC_PAYMENT",
 "elements":[{"price_components":[{"type":"ENERGY","price":0.50,"step_size":1},{"type":"FLAT","price":1.00,"step_size":1}]}],
 "last_updated":"2026-01-01T00:00:00Z",
 "chargestar":{"tax":{"name":"GST","rate":0.1,"included":true},"hold_amount":5000}}`

// energyOf is session k's energy: every session's is known, so is its price.
func energyOf(k int) int64 { return int64(k%20+1) * 1000 }

// priceOf is what a session of energy wh costs under tariffJSON, in cents.
func priceOf(wh int64) int64 { return wh/1000*50 + 100 }

// paidSession is what the driver and the station of one session know.
type paidSession struct {
	k          int
	station    string
	energyWh   int64 // what the station delivers (0 when the start was refused)
	paymentID  string
	access     string
	idTag      string
	txID       int
	startAuth  string // idTagInfo.status of the StartTransaction answer
	lostPosts  int    // checkout POSTs that failed without an answer (possible orphan quotes)
	failed     string // why the driver gave up, if it did
	finalState string // as the driver's API last showed it
	paidAt     time.Time
	startWait  time.Duration // from paying to the remote start
	done       bool
}

func TestCrashSafetySIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("crash-safety test: builds the server and kills it repeatedly (tens of seconds); skipped with -short")
	}
	nKills, nSessions, nStations := *kills, *sessionCount, *stationCount
	if nSessions < 1 || nStations < 1 || nKills < 0 {
		t.Fatal("-crash.sessions and -crash.stations must be at least 1, -crash.kills at least 0")
	}
	nStations = min(nStations, nSessions)
	seed := *seedFlag
	if seed == 0 {
		seed = rand.Uint64()
	}
	rng := rand.New(rand.NewPCG(seed, 0xC4A5))
	var rngMu sync.Mutex
	randN := func(d time.Duration) time.Duration {
		rngMu.Lock()
		defer rngMu.Unlock()
		return time.Duration(rng.Int64N(int64(d)))
	}
	t.Logf("seed %d: %d sessions on %d stations, %d kills", seed, nSessions, nStations, nKills)

	e := newEnv(t, nStations)
	ctx := context.Background()
	srv, stations, stationIDs, logf, sink, began := e.srv, e.stations, e.stationIDs, e.logf, e.srv.log, e.began

	// The drivers: one per station, its sessions one after another.
	recs := make([]*paidSession, nSessions)
	phases := make([]atomic.Value, nStations)
	for i := range phases {
		phases[i].Store("idle")
	}
	hub := &phaseHub{}
	runCtx, cancelRun := context.WithTimeout(ctx, 4*time.Minute+time.Duration(nSessions)*2*time.Second+time.Duration(nKills)*10*time.Second)
	defer cancelRun()
	// A step the server does not recover within the bound fails the test
	// at once: the run stops and the books are checked as they are.
	var abortOnce sync.Once
	var abortReason string
	abort := func(why string) {
		abortOnce.Do(func() {
			abortReason = why
			logf("ABORTING THE RUN: %s", why)
			cancelRun()
		})
	}
	var drWG sync.WaitGroup
	workStart := time.Now()
	for i := range nStations {
		drWG.Add(1)
		go func() {
			defer drWG.Done()
			d := &driver{srv: srv, st: stations[i], phase: &phases[i], hub: hub, logf: logf, jitter: randN,
				recovery: *recoveryFlag, abort: abort}
			for k := i; k < nSessions; k += nStations {
				r := &paidSession{k: k, station: stationIDs[i], energyWh: energyOf(k)}
				recs[k] = r
				d.session(runCtx, r)
				if runCtx.Err() != nil {
					return
				}
			}
			phases[i].Store("done")
		}()
	}
	driversDone := make(chan struct{})
	go func() { drWG.Wait(); close(driversDone) }()

	// The killer.
	type killRec struct {
		at, uptime time.Duration
		kind       string // start-up, random, aimed
		where      string
		last       string
	}
	var killLog []killRec
	killerDone := make(chan error, 1)
	go func() {
		for n := 1; n <= nKills; n++ {
			// Three kinds of kill: during start-up (the recovery), at a
			// random moment, and aimed at a step of a session.
			rngMu.Lock()
			kind := rng.IntN(8)
			delay := 50*time.Millisecond + time.Duration(rng.Int64N(int64(450*time.Millisecond)))
			if kind == 1 {
				// Now and then a longer life, so that the system gets on.
				delay += 500*time.Millisecond + time.Duration(rng.Int64N(int64(1500*time.Millisecond)))
			}
			tg := targets[rng.IntN(len(targets))]
			offset := time.Duration(rng.Int64N(int64(tg.upTo)))
			rngMu.Unlock()
			how := ""
			switch {
			case kind == 0:
				how = "during start-up"
				sleep(runCtx, delay/2)
			case kind < 4:
				if err := srv.waitHealthy(runCtx, 60*time.Second); err != nil {
					killerDone <- fmt.Errorf("before kill %d: %w", n, err)
					return
				}
				how = "at random"
				sleep(runCtx, delay)
			default:
				if err := srv.waitHealthy(runCtx, 60*time.Second); err != nil {
					killerDone <- fmt.Errorf("before kill %d: %w", n, err)
					return
				}
				select {
				case <-driversDone:
					how = "at random (the drivers are done)"
					sleep(runCtx, delay)
				default:
					if hub.await(runCtx, tg.phase, 5*time.Second) {
						how = fmt.Sprintf("aimed: %s after a driver entered %s", offset.Round(time.Millisecond/10), tg.phase)
						sleep(runCtx, offset)
					} else {
						how = fmt.Sprintf("at random (no driver entered %s within 5 s)", tg.phase)
					}
				}
			}
			if runCtx.Err() != nil {
				killerDone <- runCtx.Err()
				return
			}
			var where []string
			for i := range phases {
				where = append(where, stationIDs[i]+"="+phases[i].Load().(string))
			}
			last := lastMsg(sink.lastLine())
			up := srv.kill()
			kr := killRec{at: time.Since(began), uptime: up, kind: strings.Fields(how)[0], where: strings.Join(where, " "), last: last}
			killLog = append(killLog, kr)
			logf("KILL %d/%d %s, %s after the start; drivers: %s; server's last log: %s", n, nKills, how, up.Round(time.Millisecond),
				kr.where, kr.last)
			if err := srv.start(); err != nil {
				killerDone <- fmt.Errorf("restart after kill %d: %w", n, err)
				return
			}
		}
		killerDone <- nil
	}()

	select {
	case <-driversDone:
	case <-runCtx.Done():
	}
	drWG.Wait()
	if err := <-killerDone; err != nil && abortReason == "" {
		t.Errorf("killer: %v", err)
	}
	if abortReason != "" {
		t.Errorf("run aborted: %s", abortReason)
	}
	if err := srv.waitHealthy(ctx, 60*time.Second); err != nil {
		t.Fatalf("after the last kill: %v", err)
	}
	workTime := time.Since(workStart)
	logf("drivers finished in %s; waiting for every payment to settle", workTime.Round(time.Millisecond))

	// Let the server settle everything, watching through the driver API.
	settleStart := time.Now()
	settleDeadline := srv.recoveryDeadline(settleStart, *recoveryFlag)
	if abortReason != "" {
		settleDeadline = time.Now().Add(5 * time.Second)
	}
	client := &http.Client{Timeout: 5 * time.Second}
	for _, r := range recs {
		if r == nil || r.paymentID == "" {
			continue
		}
		for {
			st, err := paymentState(ctx, client, srv.baseURL(), r)
			if err == nil {
				r.finalState = st
				if isFinal(st) {
					break
				}
			}
			if time.Now().After(settleDeadline) {
				t.Errorf("session %d: payment %s still %q %s after the drivers finished and the server's last restart (err %v). %s",
					r.k, r.paymentID, r.finalState, *recoveryFlag, err, jobsOf(t, e.dbPath, r.paymentID))
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	settleTime := time.Since(settleStart)
	logf("settled in %s", settleTime.Round(time.Millisecond))

	// Stop the server, then read the books.
	if err := srv.stop(); err != nil {
		t.Errorf("graceful stop: %v", err)
	}
	for _, e := range srv.unexpectedExits() {
		t.Errorf("server: %s", e)
	}
	for _, r := range recs {
		switch {
		case r == nil && abortReason == "":
			t.Errorf("a session was never run (the run timed out)")
		case r == nil:
		case !r.done && abortReason == "":
			t.Errorf("session %d on %s: the driver did not finish: %s (payment %s)", r.k, r.station, r.failed, r.paymentID)
		}
	}

	sum := verify(t, e.dbPath, recs)
	var reconns, resends, callErrs int
	for _, s := range stations {
		a, b, c := s.stats()
		reconns, resends, callErrs = reconns+a, resends+b, callErrs+c
	}
	var slowest time.Duration
	for _, r := range recs {
		if r != nil && r.startWait > slowest {
			slowest = r.startWait
		}
	}
	kinds := map[string]int{}
	for _, k := range killLog {
		kinds[k.kind]++
	}
	t.Logf("SUMMARY seed=%d sessions=%d stations=%d kills=%d (aimed %d, random %d, during start-up %d) | paid=%d captured=%d voided=%d orphan quotes=%d | "+
		"total captured %d cents (expected %d) | slowest remote start %s | station reconnects=%d re-sent messages=%d CALLERRORs=%d | work %s, settle %s, total %s",
		seed, nSessions, nStations, len(killLog), kinds["aimed:"], kinds["at"], kinds["during"],
		sum.paid, sum.captured, sum.voided, sum.orphans, sum.capturedCents, sum.expectedCents, slowest.Round(time.Millisecond), reconns, resends, callErrs,
		workTime.Round(time.Millisecond), settleTime.Round(time.Millisecond), time.Since(began).Round(time.Millisecond))
}

// setup creates the operator, its stations and its tariff, before the
// server runs.
func setup(t *testing.T, dbPath string, n int) []string {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite:"+dbPath, store.Options{Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	op, err := st.CreateOperator(ctx, model.Operator{Name: "Crash Test Parking", Currency: "AUD", Country: "AU"})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range n {
		id := fmt.Sprintf("CRASH-%02d", i+1)
		if _, err := st.CreateStation(ctx, model.Station{ID: id, OperatorID: op.ID}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	tr, err := st.SaveTariff(ctx, store.Tariff{OperatorID: op.ID, Name: "Standard", Body: []byte(tariffJSON)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.AssignTariff(ctx, store.TariffAssignment{OperatorID: op.ID, Scope: store.ScopeOperator, TariffID: tr.ID}); err != nil {
		t.Fatal(err)
	}
	return ids
}

// lastMsg shortens a JSON log line to its message and a few fields.
func lastMsg(line string) string {
	var m map[string]any
	if json.Unmarshal([]byte(line), &m) != nil {
		if len(line) > 120 {
			line = line[:120]
		}
		return line
	}
	out := fmt.Sprint(m["msg"])
	for _, k := range []string{"job", "kind", "action", "payment_id", "transaction_id", "station_id", "type"} {
		if v, ok := m[k]; ok {
			out += fmt.Sprintf(" %s=%v", k, v)
		}
	}
	return fmt.Sprintf("%q", out)
}

func isFinal(state string) bool {
	switch state {
	case "captured", "voided", "receivable", "failed", "canceled":
		return true
	}
	return false
}

// driver plays one station's drivers, one session after another.
type driver struct {
	srv    *server
	st     *station
	phase  *atomic.Value
	hub    *phaseHub
	logf   func(string, ...any)
	jitter func(time.Duration) time.Duration
	meter  int64 // the station's energy register, Wh

	recovery time.Duration
	abort    func(why string)
}

var httpClient = &http.Client{
	Timeout:       5 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

func (d *driver) set(r *paidSession, phase string) {
	d.phase.Store(fmt.Sprintf("s%d:%s", r.k, phase))
	d.hub.enter(phase)
}

// phaseHub tells the killer when a driver enters a phase, for kills aimed
// at a step (the steps of a session take milliseconds; random kills alone
// seldom land in a checkout, a payment or a capture).
type phaseHub struct {
	mu   sync.Mutex
	want string
	ch   chan struct{}
}

func (h *phaseHub) enter(phase string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ch != nil && h.want == phase {
		close(h.ch)
		h.ch = nil
	}
}

// await waits until a driver enters phase; false after timeout.
func (h *phaseHub) await(ctx context.Context, phase string, timeout time.Duration) bool {
	ch := make(chan struct{})
	h.mu.Lock()
	h.want, h.ch = phase, ch
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		if h.ch == ch {
			h.ch = nil
		}
		h.mu.Unlock()
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-t.C:
	case <-ctx.Done():
	}
	return false
}

// Kill targets: a phase a driver enters and how long after it the kill
// lands, at most. After "pay" the kill lands in the payment page's POST or
// in the webhook that authorises the hold and the remote start it causes;
// after "stopped(capture)" (the StopTransaction answered) in the capture.
var targets = []struct {
	phase string
	upTo  time.Duration
}{
	{"checkout", 10 * time.Millisecond},
	{"pay", 40 * time.Millisecond},
	{"wait-remote-start", 20 * time.Millisecond},
	{"StartTransaction", 10 * time.Millisecond},
	{"MeterValues#1", 10 * time.Millisecond},
	{"StopTransaction", 10 * time.Millisecond},
	{"stopped(capture)", 15 * time.Millisecond},
}

func (d *driver) pause(ctx context.Context) {
	sleep(ctx, 5*time.Millisecond+d.jitter(60*time.Millisecond))
}

// charge is a stretch of charging between two messages.
func (d *driver) charge(ctx context.Context) {
	sleep(ctx, 50*time.Millisecond+d.jitter(250*time.Millisecond))
}

// stamp is a station timestamp, to the millisecond (a session's messages
// are milliseconds apart: with whole seconds its start and stop could
// share a timestamp, and a session of no duration is priced at no energy).
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }

// session runs session r: checkout, pay, the remote start, StartTransaction,
// MeterValues, StopTransaction. Every step is retried until the server
// answers it.
func (d *driver) session(ctx context.Context, r *paidSession) {
	fail := func(format string, args ...any) {
		r.failed = fmt.Sprintf(format, args...)
		d.logf("%s session %d: %s", r.station, r.k, r.failed)
	}
	// Checkout: not idempotent; a POST without an answer may have left a
	// quote behind, which nobody pays (an orphan).
	d.set(r, "checkout")
	for {
		co, status, err := postCheckout(ctx, d.srv.baseURL(), r.station)
		if ctx.Err() != nil {
			fail("checkout: %v", ctx.Err())
			return
		}
		if err == nil && status == http.StatusCreated {
			r.paymentID, r.access = co.PaymentID, co.AccessToken
			d.pay(ctx, r, co.CheckoutURL)
			break
		}
		if err != nil {
			r.lostPosts++
		}
		sleep(ctx, 50*time.Millisecond+d.jitter(100*time.Millisecond))
	}
	if r.failed != "" {
		return
	}
	d.startAndCharge(ctx, r)
}

// startAndCharge waits for the remote start of r's paid hold and runs its
// transaction.
func (d *driver) startAndCharge(ctx context.Context, r *paidSession) {
	fail := func(format string, args ...any) {
		r.failed = fmt.Sprintf(format, args...)
		d.logf("%s session %d: %s", r.station, r.k, r.failed)
	}

	// The remote start for the new hold.
	d.set(r, "wait-remote-start")
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	lastPoll := time.Now()
wait:
	for {
		select {
		case tag := <-d.st.remote:
			r.idTag = tag
			r.startWait = time.Since(r.paidAt)
			break wait
		case <-tick.C:
			if time.Since(lastPoll) >= 2*time.Second {
				lastPoll = time.Now()
				if st, err := paymentState(ctx, httpClient, d.srv.baseURL(), r); err == nil {
					r.finalState = st
					if isFinal(st) {
						fail("payment %s became %s without a remote start", r.paymentID, st)
						r.energyWh, r.done = 0, true
						return
					}
				}
			}
			if time.Now().After(d.srv.recoveryDeadline(r.paidAt, d.recovery)) {
				st, _ := paymentState(context.Background(), httpClient, d.srv.baseURL(), r)
				fail("no RemoteStartTransaction for payment %s within %s of paying or of the server's last restart, though the station is online "+
					"(the payment is %q)", r.paymentID, d.recovery, st)
				d.abort(fmt.Sprintf("session %d on %s: %s", r.k, r.station, r.failed))
				return
			}
		case <-ctx.Done():
			fail("waiting for the remote start: %v", ctx.Err())
			return
		}
	}
	d.pause(ctx)

	// The transaction. Each message is sent as built once: a re-send
	// after a reconnection is the same message.
	d.set(r, "StartTransaction")
	d.st.inTx.Store(true)
	start := d.meter
	res, err := d.st.call(ctx, "StartTransaction", map[string]any{"connectorId": 1, "idTag": r.idTag, "meterStart": start,
		"timestamp": stamp(time.Now())})
	if err != nil {
		fail("StartTransaction: %v", err)
		return
	}
	var sr struct {
		TransactionID int `json:"transactionId"`
		IDTagInfo     struct {
			Status string `json:"status"`
		} `json:"idTagInfo"`
	}
	if err := json.Unmarshal(res, &sr); err != nil {
		fail("StartTransaction answer %s: %v", res, err)
		return
	}
	r.txID, r.startAuth = sr.TransactionID, sr.IDTagInfo.Status
	stopReason := "Local"
	if r.startAuth != "Accepted" {
		// A station stops a transaction its token was refused for.
		d.logf("%s session %d: StartTransaction for %s answered idTagInfo %s; stopping it (DeAuthorized)", r.station, r.k, r.idTag, r.startAuth)
		r.energyWh, stopReason = 0, "DeAuthorized"
	} else {
		// Charging: two readings, a few hundred milliseconds apart.
		for i, wh := range []int64{r.energyWh / 3, 2 * r.energyWh / 3} {
			d.charge(ctx)
			d.set(r, fmt.Sprintf("MeterValues#%d", i+1))
			if _, err := d.st.call(ctx, "MeterValues", map[string]any{"connectorId": 1, "transactionId": r.txID,
				"meterValue": []any{map[string]any{"timestamp": stamp(time.Now()),
					"sampledValue": []any{map[string]any{"value": fmt.Sprint(start + wh), "context": "Sample.Periodic",
						"measurand": "Energy.Active.Import.Register", "unit": "Wh"}}}}}); err != nil {
				fail("MeterValues: %v", err)
				return
			}
		}
		d.charge(ctx)
	}
	d.set(r, "StopTransaction")
	if _, err := d.st.call(ctx, "StopTransaction", map[string]any{"transactionId": r.txID, "meterStop": start + r.energyWh,
		"timestamp": stamp(time.Now()), "reason": stopReason}); err != nil {
		fail("StopTransaction: %v", err)
		return
	}
	d.st.inTx.Store(false)
	d.meter = start + r.energyWh
	r.done = true
	d.set(r, "stopped(capture)")
	d.pause(ctx)
}

// pay submits the sandbox's hosted page with the approving test card; a
// double submit has no second effect, so it is retried until it answers.
func (d *driver) pay(ctx context.Context, r *paidSession, checkoutURL string) {
	d.set(r, "pay")
	form := url.Values{"card_number": {"4242424242424242"}, "exp": {"12/30"}, "cvc": {"123"}, "name": {"Crash Test"}}
	odd := 0
	for ctx.Err() == nil {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, checkoutURL, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := httpClient.Do(req)
		if err == nil {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			if resp.StatusCode == http.StatusSeeOther {
				r.paidAt = time.Now()
				return
			}
			odd++
			d.logf("%s session %d: paying answered %s: %.200s", r.station, r.k, resp.Status, b)
			if odd > 50 {
				r.failed = "paying: " + resp.Status
				return
			}
		}
		sleep(ctx, 50*time.Millisecond+d.jitter(100*time.Millisecond))
	}
	r.failed = "paying: " + ctx.Err().Error()
}

type checkoutResponse struct {
	PaymentID   string `json:"payment_id"`
	AccessToken string `json:"access_token"`
	CheckoutURL string `json:"checkout_url"`
}

func postCheckout(ctx context.Context, base, stationID string) (checkoutResponse, int, error) {
	var co checkoutResponse
	body := fmt.Sprintf(`{"station_id":%q,"connector_id":1}`, stationID)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/app/api/checkouts", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := httpClient.Do(req)
	if err != nil {
		return co, 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return co, 0, err
	}
	if resp.StatusCode != http.StatusCreated {
		return co, resp.StatusCode, nil
	}
	if err := json.Unmarshal(b, &co); err != nil || co.PaymentID == "" || co.CheckoutURL == "" {
		return co, 0, fmt.Errorf("checkout answer %s", b)
	}
	return co, resp.StatusCode, nil
}

// paymentState asks the driver API where a payment is.
func paymentState(ctx context.Context, client *http.Client, base string, r *paidSession) (string, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/app/api/payments/"+r.paymentID, nil)
	req.Header.Set("Authorization", "Bearer "+r.access)
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET payment: %s", resp.Status)
	}
	var v struct {
		State string `json:"state"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return "", err
	}
	return v.State, nil
}

type summary struct {
	paid, captured, voided, orphans int
	capturedCents, expectedCents    int64
}

// verify reads the stopped server's database and checks every payment,
// the ledger and the acquirer's side.
func verify(t *testing.T, dbPath string, recs []*paidSession) summary {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite:"+dbPath, store.Options{})
	if err != nil {
		t.Fatalf("opening the database to check it: %v", err)
	}
	defer st.Close()
	var sum summary
	byPayment := map[string]*paidSession{}
	for _, r := range recs {
		if r != nil && r.paymentID != "" {
			byPayment[r.paymentID] = r
		}
	}
	var all []store.SessionPayment
	after := ""
	for {
		ps, err := st.ListSessionPayments(ctx, store.SessionPaymentFilter{AfterID: after, Limit: 10000})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, ps...)
		if len(ps) < 10000 {
			break
		}
		after = ps[len(ps)-1].ID
	}
	seen := map[string]bool{}
	sessionsPerStation := map[string]int{}
	for _, p := range all {
		r := byPayment[p.ID]
		seen[p.ID] = true
		txs, err := st.LedgerByReference(ctx, p.ID)
		if err != nil {
			t.Fatalf("ledger of %s: %v", p.ID, err)
		}
		kinds := map[ledger.TxKind]int{}
		for _, tx := range txs {
			kinds[tx.Kind]++
		}
		var sp *store.SandboxPayment
		if p.ProviderPaymentID != "" {
			if x, err := st.SandboxPayment(ctx, p.ProviderPaymentID); err == nil {
				sp = &x
			} else if !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("sandbox payment %s: %v", p.ProviderPaymentID, err)
			}
		}
		spStatus, spCaptured := "none", int64(0)
		if sp != nil {
			spStatus, spCaptured = sp.Status, sp.AmountCaptured
		}
		desc := fmt.Sprintf("payment %s (state %s, end_reason %q, captured %d, ledger %v, acquirer %s/%d)",
			p.ID, p.State, p.EndReason, p.AmountCaptured, kinds, spStatus, spCaptured)
		if r != nil {
			desc = fmt.Sprintf("session %d on %s: %s", r.k, r.station, desc)
		}

		if p.AuthorizedAt == nil && (p.State == "quote" || p.State == "canceled" || p.State == "failed") {
			// Never held: an orphan quote (its checkout POST lost its
			// answer), or a session the driver could not pay.
			if r != nil {
				t.Errorf("%s: the driver paid, but no hold was ever recorded", desc)
				continue
			}
			sum.orphans++
			if len(txs) > 0 {
				t.Errorf("orphan quote %s has ledger transactions", desc)
			}
			if sp != nil && sp.Status != "pending" && sp.Status != "canceled" && sp.Status != "expired" {
				t.Errorf("orphan quote %s: the acquirer holds it as %s", desc, sp.Status)
			}
			continue
		}

		sum.paid++
		if r == nil {
			t.Errorf("%s: authorised, but no driver paid it", desc)
			continue
		}
		if p.IDToken != r.idTag {
			t.Errorf("%s: the station started it with idTag %q, the payment's is %q", desc, r.idTag, p.IDToken)
		}
		if kinds[ledger.KindHold] != 1 {
			t.Errorf("%s: %d hold transactions in the ledger, want 1", desc, kinds[ledger.KindHold])
		}
		if n := kinds[ledger.KindCapture] + kinds[ledger.KindVoid]; n != 1 {
			t.Errorf("%s: %d capture/void transactions in the ledger, want exactly 1", desc, n)
		}
		if kinds[ledger.KindRefund] != 0 {
			t.Errorf("%s: refunded", desc)
		}
		switch p.State {
		case "captured":
			sum.captured++
			sum.capturedCents += p.AmountCaptured
			want := priceOf(r.energyWh)
			sum.expectedCents += want
			if p.AmountCaptured != want || p.AmountTotal != want {
				t.Errorf("%s: captured %d (total %d), want %d for %d Wh", desc, p.AmountCaptured, p.AmountTotal, want, r.energyWh)
			}
			if kinds[ledger.KindCapture] != 1 {
				t.Errorf("%s: captured, but %d capture transactions in the ledger", desc, kinds[ledger.KindCapture])
			}
			if sp == nil || sp.Status != "captured" || sp.AmountCaptured != p.AmountCaptured {
				t.Errorf("%s: the acquirer disagrees with the capture", desc)
			}
		case "voided":
			sum.voided++
			if p.EndReason == "" {
				t.Errorf("%s: voided without a reason", desc)
			}
			if r.energyWh > 0 {
				t.Errorf("%s: voided although the station delivered %d Wh under it (the driver charged for free)", desc, r.energyWh)
			}
			if kinds[ledger.KindVoid] != 1 {
				t.Errorf("%s: voided, but %d void transactions in the ledger", desc, kinds[ledger.KindVoid])
			}
			if sp == nil || sp.Status != "voided" || sp.AmountCaptured != 0 {
				t.Errorf("%s: the acquirer disagrees with the void", desc)
			}
		default:
			t.Errorf("%s: not settled (want captured or voided)", desc)
		}
		if r.txID != 0 {
			sessionsPerStation[r.station]++
			if p.SessionID == "" {
				t.Errorf("%s: the station ran transaction %d for it, but the payment has no session", desc, r.txID)
				continue
			}
			sess, err := st.GetSession(ctx, "", p.SessionID)
			if err != nil {
				t.Errorf("%s: session %s: %v", desc, p.SessionID, err)
				continue
			}
			if sess.Status != model.SessionCompleted || sess.EnergyWh != r.energyWh || sess.TransactionID != fmt.Sprint(r.txID) {
				t.Errorf("%s: session %s is %s, %d Wh, transaction %s; want completed, %d Wh, transaction %d",
					desc, sess.ID, sess.Status, sess.EnergyWh, sess.TransactionID, r.energyWh, r.txID)
			}
		}
	}
	for id, r := range byPayment {
		if !seen[id] {
			t.Errorf("session %d: payment %s is not in the database", r.k, id)
		}
	}
	// Replayed StartTransactions must not have made extra sessions.
	for stationID, want := range sessionsPerStation {
		var n int
		before := ""
		for {
			ss, err := st.ListSessions(ctx, store.SessionFilter{StationID: stationID, Limit: 1000, Before: before})
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range ss {
				n++
				if s.Status != model.SessionCompleted {
					t.Errorf("station %s: session %s (transaction %s) is still %s", stationID, s.ID, s.TransactionID, s.Status)
				}
			}
			if len(ss) < 1000 {
				break
			}
			before = ss[len(ss)-1].ID
		}
		if n != want {
			t.Errorf("station %s has %d sessions, the station ran %d transactions", stationID, n, want)
		}
	}
	if err := st.CheckLedger(ctx); err != nil {
		t.Errorf("ledger: %v", err)
	}
	// A deterministic order for the per-session log.
	ks := make([]*paidSession, 0, len(recs))
	for _, r := range recs {
		if r != nil {
			ks = append(ks, r)
		}
	}
	sort.Slice(ks, func(i, j int) bool { return ks[i].k < ks[j].k })
	if testing.Verbose() && (t.Failed() || len(ks) <= 24) {
		for _, r := range ks {
			t.Logf("session %3d %s payment %s tx %d %5d Wh start %s after %s → %s (lost checkout POSTs %d)",
				r.k, r.station, r.paymentID, r.txID, r.energyWh, r.startAuth, r.startWait.Round(time.Millisecond), r.finalState, r.lostPosts)
		}
	}
	return sum
}
