package sessionbilling

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"
	"time"

	"github.com/chargestar/chargestar/internal/billing"
	"github.com/chargestar/chargestar/internal/csms"
	"github.com/chargestar/chargestar/internal/ledger"
	"github.com/chargestar/chargestar/internal/model"
	"github.com/chargestar/chargestar/internal/payments"
	"github.com/chargestar/chargestar/internal/store"
)

// live is what the ingest path needs to know of a paid session without a
// read: its payment and limits.
type live struct {
	PaymentID     string
	Currency      string
	StopAtCost    int64
	BudgetWh      int64
	BudgetSeconds int64
}

var zeroTime time.Time

// jobParallelism bounds the outbox calls in flight (a station may take
// its whole call timeout to answer).
const jobParallelism = 16

// Run runs the service's workers until ctx ends: station notifications,
// the outbox, and the sweep of deadlines (which also recovers anything a
// crash interrupted).
func (s *Service) Run(ctx context.Context) {
	// Jobs claimed by the previous process (killed, or stopped mid-call)
	// are due again now, not when their leases end.
	if n, err := s.store.ReleasePaymentJobs(ctx, s.now()); err != nil {
		s.log.Error("releasing the payment jobs of the previous run", "err", err)
	} else if n > 0 {
		s.log.Info("payment jobs resumed from the previous run", "jobs", n)
	}
	s.loadLive(ctx)
	var wg sync.WaitGroup
	wg.Add(3 + len(s.notes))
	for _, ch := range s.notes {
		go func() { defer wg.Done(); s.runNotes(ctx, ch) }()
	}
	go func() { defer wg.Done(); s.runMetered(ctx) }()
	go func() { defer wg.Done(); s.runOutbox(ctx) }()
	go func() { defer wg.Done(); s.runSweep(ctx) }()
	wg.Wait()
}

func (s *Service) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// loadLive fills the live-session cache from the database (after a
// restart).
func (s *Service) loadLive(ctx context.Context) {
	after := ""
	for {
		ps, err := s.store.ListSessionPayments(ctx, store.SessionPaymentFilter{States: []string{string(StateCharging)}, AfterID: after, Limit: 1000})
		if err != nil {
			s.log.Error("loading live sessions", "err", err)
			return
		}
		for _, p := range ps {
			s.remember(p)
		}
		if len(ps) < 1000 {
			return
		}
		after = ps[len(ps)-1].ID
	}
}

func (s *Service) remember(p store.SessionPayment) {
	if p.SessionID == "" {
		return
	}
	s.live.Store(p.SessionID, live{PaymentID: p.ID, Currency: p.Currency, StopAtCost: p.StopAtCost, BudgetWh: p.BudgetWh, BudgetSeconds: p.BudgetSeconds})
}

func (s *Service) forget(sessionID string) {
	s.live.Delete(sessionID)
	s.costs.Delete(sessionID)
}

// Station notifications (csms.SessionObserver). They arrive on the ingest
// path and are only queued here.

// SessionStarted implements csms.SessionObserver.
func (s *Service) SessionStarted(sess model.Session) { s.enqueue(note{kind: "started", sess: sess}) }

// SessionStopped implements csms.SessionObserver.
func (s *Service) SessionStopped(sess model.Session) { s.enqueue(note{kind: "stopped", sess: sess}) }

// SessionMetered implements csms.SessionObserver: a paid session's running
// cost is recomputed (coalesced: a burst of readings is priced once).
func (s *Service) SessionMetered(ref csms.SessionRef) {
	if _, ok := s.live.Load(ref.SessionID); !ok {
		return
	}
	s.meteredMu.Lock()
	s.metered[ref.SessionID] = struct{}{}
	s.meteredMu.Unlock()
	select {
	case s.meteredKick <- struct{}{}:
	default:
	}
}

// noteShards is how many sessions are billed at once.
const noteShards = 8

func (s *Service) enqueue(n note) {
	h := fnv.New32a()
	h.Write([]byte(n.sess.ID))
	select {
	case s.notes[h.Sum32()%uint32(len(s.notes))] <- n:
	default:
		// The sweep finds starts and stops in the database; a dropped
		// meter note only delays a running cost.
		s.log.Debug("billing notification queue full; the sweep will catch up", "kind", n.kind, "session_id", n.sess.ID)
	}
}

func (s *Service) runNotes(ctx context.Context, notes <-chan note) {
	for {
		select {
		case <-ctx.Done():
			return
		case n := <-notes:
			var err error
			switch n.kind {
			case "started":
				err = s.sessionStarted(ctx, n.sess)
			case "stopped":
				err = s.sessionStopped(ctx, n.sess.ID)
			}
			if err != nil && ctx.Err() == nil {
				s.log.Warn("billing a session event", "kind", n.kind, "session_id", n.sess.ID, "err", err)
			}
		}
	}
}

// runMetered reprices the live sessions that got readings.
func (s *Service) runMetered(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.meteredKick:
		}
		s.meteredMu.Lock()
		ids := make([]string, 0, len(s.metered))
		for id := range s.metered {
			ids = append(ids, id)
		}
		clear(s.metered)
		s.meteredMu.Unlock()
		for _, id := range ids {
			if err := s.sessionMetered(ctx, id); err != nil && ctx.Err() == nil {
				s.log.Warn("pricing a live session", "session_id", id, "err", err)
			}
		}
	}
}

// sessionStarted ties a session to the payment of its id token.
func (s *Service) sessionStarted(ctx context.Context, sess model.Session) error {
	if sess.IDTag == "" {
		return nil
	}
	if _, err := s.store.FindSessionPayment(ctx, store.SessionPaymentFind{SessionID: sess.ID}); err == nil {
		return nil
	}
	p, err := s.store.FindSessionPayment(ctx, store.SessionPaymentFind{OpenToken: sess.IDTag, StationID: sess.StationID})
	if errors.Is(err, store.ErrNotFound) {
		return nil // not a paid token (an operator's own card)
	}
	if err != nil {
		return err
	}
	if State(p.State) != StateAuthorized || p.Purpose != "session" {
		return nil
	}
	p, err = s.move(ctx, p.ID, EvStarted, nil, func(p *store.SessionPayment, _ *store.SessionPaymentChange) error {
		p.SessionID = sess.ID
		if sess.ConnectorID > 0 {
			p.ConnectorID = sess.ConnectorID
		}
		started := sess.StartedAt
		p.StartedAt = &started
		return nil
	})
	if errors.Is(err, ErrStale) {
		return nil
	}
	if err != nil {
		return err
	}
	s.remember(p)
	// Readings that arrived before the payment was tied were not priced
	// (the session was not known to be paid): price it now.
	if err := s.sessionMetered(ctx, sess.ID); err != nil {
		s.log.Warn("pricing a session just tied to its payment", "session_id", sess.ID, "err", err)
	}
	if sess.Status == model.SessionCompleted {
		return s.sessionStopped(ctx, sess.ID)
	}
	// A session may have ended before it was tied (a crash in between).
	if cur, err := s.store.GetSession(ctx, "", sess.ID); err == nil && cur.Status == model.SessionCompleted {
		return s.sessionStopped(ctx, sess.ID)
	}
	return nil
}

// sessionStopped settles a finished session's payment.
func (s *Service) sessionStopped(ctx context.Context, sessionID string) error {
	p, err := s.store.FindSessionPayment(ctx, store.SessionPaymentFind{SessionID: sessionID})
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if State(p.State) != StateCharging {
		return nil
	}
	sess, err := s.store.GetSession(ctx, "", sessionID)
	if err != nil {
		return err
	}
	if sess.Status != model.SessionCompleted {
		return nil
	}
	cost, err := s.price(ctx, p, sess)
	if err != nil {
		return err
	}
	_, err = s.move(ctx, p.ID, EvStopped, nil, s.stoppedEdit(sess, cost))
	if errors.Is(err, ErrStale) {
		err = nil
	}
	if err == nil {
		s.forget(sessionID)
	}
	return err
}

// price prices a session under its payment's frozen tariff.
func (s *Service) price(ctx context.Context, p store.SessionPayment, sess model.Session) (billing.Cost, error) {
	t, err := billing.ParseTariff(p.Tariff)
	if err != nil {
		return billing.Cost{}, fmt.Errorf("payment %s tariff: %w", p.ID, err)
	}
	loc, err := time.LoadLocation(p.Timezone)
	if err != nil || p.Timezone == "" {
		loc = time.UTC
	}
	mvs, err := s.store.ListMeterValues(ctx, sess.ID, 10000)
	if err != nil {
		return billing.Cost{}, err
	}
	return billing.Price(t, loc, UsageOf(sess, mvs))
}

// sessionMetered prices a live session and stops it at its limits.
func (s *Service) sessionMetered(ctx context.Context, sessionID string) error {
	v, ok := s.live.Load(sessionID)
	if !ok {
		return nil
	}
	lv := v.(live)
	p, err := s.store.GetSessionPayment(ctx, lv.PaymentID)
	if err != nil {
		return err
	}
	if State(p.State) != StateCharging {
		return nil
	}
	sess, err := s.store.GetSession(ctx, "", sessionID)
	if err != nil {
		return err
	}
	cost, err := s.price(ctx, p, sess)
	if err != nil {
		return err
	}
	s.costs.Store(sessionID, csms.Cost{Total: cost.Total, Currency: cost.Currency})
	reason := ""
	switch {
	case p.StopAtCost > 0 && cost.Total >= p.StopAtCost:
		reason = "budget_cost"
	case p.BudgetWh > 0 && sess.EnergyWh >= p.BudgetWh:
		reason = "budget_energy"
	case p.BudgetSeconds > 0 && s.now().Sub(sess.StartedAt) >= time.Duration(p.BudgetSeconds)*time.Second:
		reason = "budget_time"
	}
	if reason != "" {
		s.log.Info("session reached its limit; stopping it", "payment_id", p.ID, "session_id", sessionID, "reason", reason, "cost", cost.Total)
		_, err = s.requestStop(ctx, p, reason)
	}
	return err
}

// The outbox.

func (s *Service) runOutbox(ctx context.Context) {
	var mu sync.Mutex
	inflight := map[int64]bool{}
	sem := make(chan struct{}, jobParallelism)
	var wg sync.WaitGroup
	defer wg.Wait()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		jobs, err := s.store.DuePaymentJobs(ctx, s.now(), 200)
		if err != nil && ctx.Err() == nil {
			s.log.Warn("reading the payment outbox", "err", err)
		}
		for _, j := range jobs {
			mu.Lock()
			busy := inflight[j.ID]
			if !busy {
				inflight[j.ID] = true
			}
			mu.Unlock()
			if busy {
				continue
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			wg.Add(1)
			go func(j store.PaymentJob) {
				defer wg.Done()
				s.runJob(ctx, j)
				mu.Lock()
				delete(inflight, j.ID)
				mu.Unlock()
				<-sem
			}(j)
		}
		select {
		case <-ctx.Done():
			return
		case <-s.kick:
		case <-tick.C:
		}
	}
}

// errRetry: the job could not run yet (station offline); try again later
// without counting it as a failure worth a warning.
type errRetry struct {
	after time.Duration
	why   string
}

func (e errRetry) Error() string { return e.why }

// jobLease is how long a claimed job is left to its worker before it is
// due again (a station may take its whole call timeout to answer).
const jobLease = 2 * time.Minute

func (s *Service) runJob(ctx context.Context, j store.PaymentJob) {
	now := s.now()
	claimed, err := s.store.ClaimPaymentJob(ctx, j.ID, now, now.Add(jobLease))
	if err != nil || !claimed {
		return
	}
	err = s.doJob(ctx, j)
	if err == nil {
		return
	}
	if ctx.Err() != nil {
		// Shutting down: give the job back, due at once for the next run.
		if ferr := s.store.FinishPaymentJob(context.WithoutCancel(ctx), j.ID, "interrupted by shutdown", s.now()); ferr != nil {
			s.log.Warn("giving back a payment job", "job_id", j.ID, "err", ferr)
		}
		return
	}
	delay := time.Duration(1<<min(j.Attempts, 9)) * time.Second // 1 s … ~8.5 min
	var r errRetry
	if errors.As(err, &r) {
		delay = r.after
	} else {
		s.log.Warn("payment job failed; will retry", "job", j.Kind, "payment_id", j.PaymentID, "attempt", j.Attempts+1, "err", err)
	}
	if ferr := s.store.FinishPaymentJob(context.WithoutCancel(ctx), j.ID, err.Error(), s.now().Add(delay)); ferr != nil {
		s.log.Error("recording a payment job's failure", "job_id", j.ID, "err", ferr)
	}
}

// doJob runs one job. It returns nil once the job is done (and marked so).
func (s *Service) doJob(ctx context.Context, j store.PaymentJob) error {
	p, err := s.store.GetSessionPayment(ctx, j.PaymentID)
	if err != nil {
		return err
	}
	done := func() error { return s.store.FinishPaymentJob(ctx, j.ID, "", time.Time{}) }
	switch j.Kind {
	case jobRemoteStart:
		if State(p.State) != StateAuthorized {
			return done()
		}
		return s.remoteStart(ctx, p, done)
	case jobRemoteStop:
		if State(p.State) != StateCharging {
			return done()
		}
		return s.remoteStop(ctx, p, j, done)
	case jobCapture:
		if p.Purpose == "topup" && State(p.State) == StateAuthorized {
			if p, err = s.move(ctx, p.ID, EvStopped, nil, nil); err != nil {
				return err
			}
		}
		if State(p.State) != StateStopped {
			return done()
		}
		return s.capture(ctx, p, j)
	case jobVoid:
		if State(p.State) != StateStopped {
			return done()
		}
		return s.void(ctx, p, j)
	case jobRefund:
		return s.refund(ctx, p, j)
	case jobReceiptEmail:
		if err := s.emailReceipt(ctx, p); err != nil {
			if j.Attempts >= 8 {
				s.log.Error("giving up on a receipt email", "payment_id", p.ID, "err", err)
				return done()
			}
			return err
		}
		return done()
	}
	s.log.Error("unknown payment job", "kind", j.Kind, "job_id", j.ID)
	return done()
}

func (s *Service) remoteStart(ctx context.Context, p store.SessionPayment, done func() error) error {
	st := s.stationsOrNil()
	if st == nil || !st.Connected(p.StationID) {
		return errRetry{after: 2 * time.Second, why: "station offline"}
	}
	action, res, err := st.SendNeutral(ctx, p.StationID, csms.NeutralCommand{Name: csms.CmdStart, ConnectorID: p.ConnectorID, IDToken: p.IDToken})
	if errors.Is(err, csms.ErrNotConnected) {
		return errRetry{after: 2 * time.Second, why: "station offline"}
	}
	if err != nil {
		return err
	}
	if status := replyStatus(res); status != "Accepted" {
		s.log.Info("station refused the remote start; releasing the hold", "payment_id", p.ID, "station_id", p.StationID, "action", action, "status", status)
		_, err := s.moveIgnoringStale(ctx, p.ID, EvNoStart, nil, s.releaseEdit("station_rejected"))
		if err != nil {
			return err
		}
	}
	return done()
}

func (s *Service) remoteStop(ctx context.Context, p store.SessionPayment, j store.PaymentJob, done func() error) error {
	st := s.stationsOrNil()
	if st == nil || !st.Connected(p.StationID) {
		return errRetry{after: 15 * time.Second, why: "station offline"}
	}
	sess, err := s.store.GetSession(ctx, "", p.SessionID)
	if err != nil {
		return err
	}
	if sess.Status != model.SessionActive {
		return done()
	}
	_, res, err := st.SendNeutral(ctx, p.StationID, csms.NeutralCommand{Name: csms.CmdStop, TransactionID: sess.TransactionID})
	if errors.Is(err, csms.ErrNotConnected) {
		return errRetry{after: 15 * time.Second, why: "station offline"}
	}
	if err != nil {
		return err
	}
	if status := replyStatus(res); status != "Accepted" && j.Attempts < 5 {
		return fmt.Errorf("station answered the remote stop with %q", status)
	}
	return done()
}

func replyStatus(res csms.CommandResult) string {
	var r struct {
		Status string `json:"status"`
	}
	_ = json.Unmarshal(res.Payload, &r)
	return r.Status
}

func (s *Service) capture(ctx context.Context, p store.SessionPayment, j store.PaymentJob) error {
	amount := p.AmountTotal
	if p.Purpose == "topup" {
		amount = p.HoldAmount
	}
	if amount <= 0 {
		// Nothing to take (settled at zero after this job was queued).
		_, err := s.moveIgnoringStale(ctx, p.ID, EvVoided, nil, s.voidedEdit(j.ID))
		return err
	}
	if p.Method == "wallet" {
		_, err := s.moveIgnoringStale(ctx, p.ID, EvCaptured, nil, s.capturedEdit(amount, j.ID))
		return err
	}
	var fee int64
	if p.SettlementMode == model.SettlementDirect && s.cfg.PlatformFeeBasisPoints > 0 {
		fee = (amount - p.AmountTax) * s.cfg.PlatformFeeBasisPoints / 10000
	}
	pay, err := s.provider.Capture(ctx, payments.CaptureRequest{IdempotencyKey: captureKey(p.ID),
		Payment: payments.PaymentRef{ID: p.ProviderPaymentID, Account: p.MerchantAccount}, Amount: amount, ApplicationFee: fee,
		Metadata: map[string]string{"payment_id": p.ID, "session_id": p.SessionID}})
	if err != nil {
		if payments.Retryable(err) {
			return err
		}
		// Refused for good (the hold lapsed, the payment is gone): see
		// what the provider holds before giving up.
		cur, gerr := s.provider.GetPayment(ctx, payments.PaymentRef{ID: p.ProviderPaymentID, Account: p.MerchantAccount})
		if gerr == nil && cur.Status == payments.StatusCaptured {
			pay = cur
		} else {
			s.log.Error("capture refused; the driver owes the amount", "payment_id", p.ID, "amount", amount, "err", err)
			_, merr := s.moveIgnoringStale(ctx, p.ID, EvCaptureFailed, nil, s.captureFailedEdit(payments.DeclineCode(err), j.ID))
			return merr
		}
	}
	_, err = s.moveIgnoringStale(ctx, p.ID, EvCaptured, nil, s.capturedEdit(pay.AmountCaptured, j.ID))
	return err
}

func (s *Service) captureFailedEdit(code string, jobID int64) editFunc {
	return func(p *store.SessionPayment, c *store.SessionPaymentChange) error {
		now := s.now()
		p.SettledAt = &now
		p.DeclineCode = code
		c.DoneJob = jobID
		if p.Purpose != "topup" {
			// No money moved: the hold is released in the books. What is
			// owed stays on the payment (amount_total, state receivable).
			c.HoldKey = holdKey(p.ID)
			c.Void = &ledger.VoidParams{Key: voidKey(p.ID)}
		}
		return nil
	}
}

func (s *Service) void(ctx context.Context, p store.SessionPayment, j store.PaymentJob) error {
	if p.Method != "wallet" && p.ProviderPaymentID != "" {
		_, err := s.provider.Void(ctx, payments.VoidRequest{IdempotencyKey: voidKey(p.ID),
			Payment: payments.PaymentRef{ID: p.ProviderPaymentID, Account: p.MerchantAccount}})
		if err != nil {
			if payments.Retryable(err) {
				return err
			}
			cur, gerr := s.provider.GetPayment(ctx, payments.PaymentRef{ID: p.ProviderPaymentID, Account: p.MerchantAccount})
			if gerr != nil || (cur.Status != payments.StatusVoided && cur.Status != payments.StatusExpired && cur.Status != payments.StatusCanceled) {
				return err
			}
		}
	}
	_, err := s.moveIgnoringStale(ctx, p.ID, EvVoided, nil, s.voidedEdit(j.ID))
	return err
}

// The sweep: deadlines, and recovery of whatever a crash or a full queue
// left behind.

func (s *Service) runSweep(ctx context.Context) {
	tick := time.NewTicker(s.cfg.SweepInterval)
	defer tick.Stop()
	var lastOffline time.Time
	for {
		if err := s.Sweep(ctx, s.now().Sub(lastOffline) >= time.Minute); err != nil && ctx.Err() == nil {
			s.log.Warn("billing sweep", "err", err)
		}
		if s.now().Sub(lastOffline) >= time.Minute {
			lastOffline = s.now()
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// Sweep runs the deadline checks once; offline also checks live sessions
// of offline stations and expiring holds (the heavier part, run every
// minute by Run).
func (s *Service) Sweep(ctx context.Context, offline bool) error {
	started, stopped, err := s.store.SessionsToBill(ctx, 1000)
	if err != nil {
		return err
	}
	for _, l := range started {
		sess, err := s.store.GetSession(ctx, "", l.SessionID)
		if err == nil {
			err = s.sessionStarted(ctx, sess)
		}
		if err != nil {
			s.log.Warn("sweep: tying a session to its payment", "session_id", l.SessionID, "err", err)
		}
	}
	for _, l := range stopped {
		if err := s.sessionStopped(ctx, l.SessionID); err != nil {
			s.log.Warn("sweep: settling a session", "session_id", l.SessionID, "err", err)
		}
	}
	now := s.now()
	open, err := s.store.ListSessionPayments(ctx, store.SessionPaymentFilter{States: []string{string(StateQuote), string(StateAuthorized)}, Limit: 10000})
	if err != nil {
		return err
	}
	for _, p := range open {
		var err error
		switch State(p.State) {
		case StateQuote:
			if p.Method == "saved_card" && p.ExpiresAt != nil && now.After(*p.ExpiresAt) {
				err = s.recoverOffSessionHold(ctx, p)
			} else if p.ExpiresAt != nil && now.After(p.ExpiresAt.Add(time.Minute)) {
				if p.ProviderPaymentID != "" {
					if p, err = s.Reconcile(ctx, p.ID); err != nil {
						break
					}
				}
				if State(p.State) == StateQuote {
					_, err = s.moveIgnoringStale(ctx, p.ID, EvCheckoutClosed, nil, func(p *store.SessionPayment, _ *store.SessionPaymentChange) error {
						p.EndReason = "checkout_expired"
						return nil
					})
				}
			}
		case StateAuthorized:
			if p.Purpose == "session" && p.StartDeadline != nil && now.After(*p.StartDeadline) {
				s.log.Info("station did not start in time; releasing the hold", "payment_id", p.ID, "station_id", p.StationID)
				_, err = s.moveIgnoringStale(ctx, p.ID, EvNoStart, nil, s.releaseEdit(ReasonNoStart))
			}
		}
		if err != nil && !errors.Is(err, ErrImpossible) {
			s.log.Warn("sweep: payment deadline", "payment_id", p.ID, "err", err)
		}
	}
	if offline {
		return s.sweepLive(ctx, now)
	}
	return nil
}

// sweepLive finishes live sessions whose station has been offline past the
// deadline, or whose hold is about to expire, from their last reading.
func (s *Service) sweepLive(ctx context.Context, now time.Time) error {
	after := ""
	for {
		ps, err := s.store.ListSessionPayments(ctx, store.SessionPaymentFilter{States: []string{string(StateCharging)}, AfterID: after, Limit: 1000})
		if err != nil {
			return err
		}
		for _, p := range ps {
			reason := ""
			if p.HoldExpiresAt != nil && now.After(p.HoldExpiresAt.Add(-s.cfg.HoldMargin)) {
				reason = "hold_expiring"
			} else if st := s.stationsOrNil(); st != nil && !st.Connected(p.StationID) {
				station, err := s.store.GetStation(ctx, p.StationID)
				if err == nil && station.LastSeenAt != nil && now.Sub(*station.LastSeenAt) > s.cfg.OfflineStopDeadline {
					reason = "station_offline"
				}
			}
			if reason != "" {
				if err := s.FinishFromLastReading(ctx, p.ID, reason); err != nil {
					s.log.Warn("finishing a session from its last reading", "payment_id", p.ID, "err", err)
				}
			}
		}
		if len(ps) < 1000 {
			return nil
		}
		after = ps[len(ps)-1].ID
	}
}

// FinishFromLastReading ends a live session that its station cannot end
// (offline past the deadline, hold expiring): the session is closed at its
// last meter reading, as an estimate, and settled. A later stop report
// from the station corrects the session but not the payment: the driver
// pays at most what the readings showed.
func (s *Service) FinishFromLastReading(ctx context.Context, paymentID, reason string) error {
	p, err := s.store.GetSessionPayment(ctx, paymentID)
	if err != nil {
		return err
	}
	if State(p.State) != StateCharging {
		return nil
	}
	sess, err := s.store.GetSession(ctx, "", p.SessionID)
	if err != nil {
		return err
	}
	if sess.Status == model.SessionActive {
		mvs, err := s.store.ListMeterValues(ctx, sess.ID, 10000)
		if err != nil {
			return err
		}
		at := sess.StartedAt
		var last *int64
		for _, mv := range mvs {
			if mv.EnergyWh != nil && !mv.Timestamp.Before(at) {
				v := int64(*mv.EnergyWh + 0.5)
				last, at = &v, mv.Timestamp
			}
		}
		if _, _, err := s.store.StopSession(ctx, store.StopSessionParams{StationID: sess.StationID, TransactionID: sess.TransactionID,
			StoppedAt: at, MeterStopWh: last, Reason: "Other", Source: model.StopSourceEstimated}); err != nil {
			return err
		}
		s.log.Warn("session finished from its last reading", "payment_id", p.ID, "session_id", sess.ID, "reason", reason, "stopped_at", at)
	}
	if _, err := s.edit(ctx, p.ID, func(p *store.SessionPayment, _ *store.SessionPaymentChange) error {
		p.EndReason = reason
		return nil
	}); err != nil {
		return err
	}
	return s.sessionStopped(ctx, sess.ID)
}
