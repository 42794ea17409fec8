package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/chargestar/chargestar/internal/ledger"
	"github.com/chargestar/chargestar/internal/reports"
)

// Payments of charging sessions and wallet top-ups (migration 00005): the
// row internal/sessionbilling's state machine moves forward, the outbox of
// calls each move needs, and the webhook events already applied.
//
// Every move is one ChangeSessionPayment: the row's new state (guarded by
// its version), the ledger transaction that books the money, the outbox
// jobs and the webhook event id, all in one database transaction. A crash
// leaves either all of it or none, and a job re-run after a crash sends
// the provider the same idempotency key.

// ErrDuplicateEvent: the webhook event was applied before.
var ErrDuplicateEvent = errors.New("store: webhook event already applied")

// ErrPaymentChanged: the payment's version moved since it was read (another
// writer moved it first); read it again and decide again. It is an
// ErrConflict.
var ErrPaymentChanged = fmt.Errorf("%w: the payment changed since it was read", ErrConflict)

// SessionPayment is the payment of one charging session (Purpose
// "session") or of a wallet top-up ("topup").
type SessionPayment struct {
	ID                string // "pay_…"
	OperatorID        string // the seller; "" for a top-up
	Purpose           string // "session" or "topup"
	Method            string // "card" (hosted page), "saved_card", "wallet"
	State             string // see internal/sessionbilling
	StationID         string
	ConnectorID       int
	AccountID         string // the driver account (RFID, top-up)
	IDToken           string // the token the session starts with
	SessionID         string // "" until the station started
	Provider          string
	ProviderPaymentID string
	CheckoutID        string
	CheckoutURL       string
	SettlementMode    string
	MerchantAccount   string
	Currency          string
	HoldAmount        int64
	StopAtCost        int64
	BudgetWh          int64
	BudgetSeconds     int64
	TariffID          string
	Tariff            []byte // frozen billing.Tariff JSON
	Timezone          string
	RunningCost       int64
	AmountTotal       int64
	AmountTax         int64
	AmountCaptured    int64
	AmountRefunded    int64
	Cost              []byte // the final billing.Cost JSON
	CardBrand         string
	CardLast4         string
	DeclineCode       string
	EndReason         string
	Email             string
	AccessHash        []byte
	ReceiptCode       string
	Version           int64
	CreatedAt         time.Time
	UpdatedAt         time.Time
	ExpiresAt         *time.Time
	AuthorizedAt      *time.Time
	StartDeadline     *time.Time
	HoldExpiresAt     *time.Time
	StartedAt         *time.Time
	StoppedAt         *time.Time
	SettledAt         *time.Time
}

const sessionPaymentCols = `id, operator_id, purpose, method, state, station_id, connector_id, account_id, id_token,
	id_token_key, session_id, provider, provider_payment_id, checkout_id, checkout_url, settlement_mode, merchant_account, currency,
	hold_amount, stop_at_cost, budget_wh, budget_seconds, tariff_id, tariff, timezone, running_cost, amount_total,
	amount_tax, amount_captured, amount_refunded, cost, card_brand, card_last4, decline_code, end_reason, email,
	access_hash, receipt_code, version, created_at, updated_at, expires_at, authorized_at, start_deadline,
	hold_expires_at, started_at, stopped_at, settled_at`

func scanSessionPayment(sc interface{ Scan(...any) error }) (SessionPayment, error) {
	var p SessionPayment
	var tariff, cost string
	err := sc.Scan(&p.ID, &p.OperatorID, &p.Purpose, &p.Method, &p.State, &p.StationID, &p.ConnectorID, &p.AccountID, &p.IDToken,
		new(string), nstrCol(&p.SessionID), &p.Provider, &p.ProviderPaymentID, &p.CheckoutID, &p.CheckoutURL, &p.SettlementMode, &p.MerchantAccount, &p.Currency,
		&p.HoldAmount, &p.StopAtCost, &p.BudgetWh, &p.BudgetSeconds, &p.TariffID, &tariff, &p.Timezone, &p.RunningCost, &p.AmountTotal,
		&p.AmountTax, &p.AmountCaptured, &p.AmountRefunded, &cost, &p.CardBrand, &p.CardLast4, &p.DeclineCode, &p.EndReason, &p.Email,
		&p.AccessHash, nstrCol(&p.ReceiptCode), &p.Version, tsCol(&p.CreatedAt), tsCol(&p.UpdatedAt), ntsCol(&p.ExpiresAt), ntsCol(&p.AuthorizedAt), ntsCol(&p.StartDeadline),
		ntsCol(&p.HoldExpiresAt), ntsCol(&p.StartedAt), ntsCol(&p.StoppedAt), ntsCol(&p.SettledAt))
	if tariff != "" {
		p.Tariff = []byte(tariff)
	}
	if cost != "" {
		p.Cost = []byte(cost)
	}
	return p, err
}

func (s *Store) sessionPaymentArgs(p SessionPayment) []any {
	return []any{p.ID, p.OperatorID, p.Purpose, p.Method, p.State, p.StationID, p.ConnectorID, p.AccountID, p.IDToken,
		tokenKey(p.IDToken), nullIfEmpty(p.SessionID), p.Provider, p.ProviderPaymentID, p.CheckoutID, p.CheckoutURL, p.SettlementMode, p.MerchantAccount, p.Currency,
		p.HoldAmount, p.StopAtCost, p.BudgetWh, p.BudgetSeconds, p.TariffID, string(p.Tariff), p.Timezone, p.RunningCost, p.AmountTotal,
		p.AmountTax, p.AmountCaptured, p.AmountRefunded, string(p.Cost), p.CardBrand, p.CardLast4, p.DeclineCode, p.EndReason, p.Email,
		nullBytes(p.AccessHash), nullIfEmpty(p.ReceiptCode), p.Version, s.d.ts(p.CreatedAt), s.d.ts(p.UpdatedAt), s.d.nts(p.ExpiresAt), s.d.nts(p.AuthorizedAt), s.d.nts(p.StartDeadline),
		s.d.nts(p.HoldExpiresAt), s.d.nts(p.StartedAt), s.d.nts(p.StoppedAt), s.d.nts(p.SettledAt)}
}

// PaymentJob is an outbox entry: a call to make because of a state move.
type PaymentJob struct {
	ID        int64
	PaymentID string
	Kind      string // e.g. "capture", "void", "remote_start", "remote_stop"
	// IdemKey is unique: enqueuing a job whose key exists does nothing, so
	// a move replayed after a crash does not call twice.
	IdemKey   string
	DueAt     time.Time
	Attempts  int
	LastError string
	DoneAt    *time.Time
	CreatedAt time.Time
}

// WebhookRecord identifies an applied provider event.
type WebhookRecord struct {
	Provider  string
	EventID   string
	Type      string
	PaymentID string
}

// SessionPaymentChange is one move of a payment, applied atomically.
type SessionPaymentChange struct {
	// Payment is the row as it is to be. Its Version must be the version it
	// was read at; the row is written only if that is still the stored
	// version (ErrConflict otherwise: read again and decide again). A
	// payment with Version 0 is inserted.
	Payment SessionPayment
	// Webhook, when set, is recorded; if it was recorded before, nothing is
	// written and the error is ErrDuplicateEvent.
	Webhook *WebhookRecord
	// Ledger is posted (a hold, a top-up), or, with HoldKey set, the hold
	// under HoldKey is captured (Capture) or voided (Void).
	Ledger  *ledger.Transaction
	HoldKey string
	Capture *ledger.CaptureParams
	Void    *ledger.VoidParams
	// Jobs are enqueued (each once per IdemKey).
	Jobs []PaymentJob
	// DoneJob marks an outbox job done in the same transaction.
	DoneJob int64
	// Refund, when set, is inserted (new id) or has its state, provider
	// id, error and settlement time updated.
	Refund *PaymentRefund
	// Session, when the payment has a session, is updated with the
	// payment's status and amounts (sessions.payment_status, amount_total,
	// amount_tax), which the sessions API shows.
	SessionStatus string
}

// ChangeSessionPayment applies one move of a payment (see
// SessionPaymentChange) and returns the row as stored. Ledger refusals
// (ledger.ErrInsufficientFunds on a wallet) change nothing and are
// returned as they are.
func (s *Store) ChangeSessionPayment(ctx context.Context, c SessionPaymentChange) (SessionPayment, error) {
	p := c.Payment
	if p.ID == "" {
		p.ID = newID("pay_")
	}
	now := normTime(time.Now())
	if p.CreatedAt.IsZero() {
		p.CreatedAt = now
	}
	p.UpdatedAt = now
	readVersion := p.Version
	p.Version = readVersion + 1
	err := s.ledgerWrite(ctx, func(ctx context.Context, w *wtx) error {
		// Everything that can refuse the move runs before the first write
		// (the committer's rule for rejections).
		if c.Webhook != nil {
			var n int
			if err := w.queryRow(ctx, `SELECT count(*) FROM payment_webhook_events WHERE provider = $1 AND event_id = $2`,
				c.Webhook.Provider, c.Webhook.EventID).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return reject(ErrDuplicateEvent)
			}
		}
		if readVersion > 0 {
			var v int64
			err := w.queryRow(ctx, `SELECT version FROM session_payments WHERE id = $1`, p.ID).Scan(&v)
			if errors.Is(err, sql.ErrNoRows) {
				return reject(ErrNotFound)
			}
			if err != nil {
				return err
			}
			if v != readVersion {
				return reject(fmt.Errorf("%w (%s)", ErrPaymentChanged, p.ID))
			}
		}
		// Ledger first: its refusals are rejections raised before it
		// writes.
		switch {
		case c.Capture != nil:
			if _, err := s.resolveHoldIn(ctx, w, c.HoldKey, func(h ledger.Transaction) (ledger.Transaction, error) {
				return ledger.Capture(h, *c.Capture)
			}); err != nil {
				return err
			}
		case c.Void != nil:
			if _, err := s.resolveHoldIn(ctx, w, c.HoldKey, func(h ledger.Transaction) (ledger.Transaction, error) {
				return ledger.Void(h, *c.Void)
			}); err != nil {
				return err
			}
		case c.Ledger != nil:
			if _, err := s.postLedger(ctx, w, *c.Ledger, nil); err != nil {
				return err
			}
		}
		if c.Webhook != nil {
			if _, err := w.exec(ctx, `INSERT INTO payment_webhook_events (provider, event_id, type, payment_id, received_at) VALUES ($1, $2, $3, $4, $5)`,
				c.Webhook.Provider, c.Webhook.EventID, c.Webhook.Type, c.Webhook.PaymentID, s.d.ts(now)); err != nil {
				return err
			}
		}
		args := s.sessionPaymentArgs(p)
		if readVersion == 0 {
			if _, err := w.exec(ctx, `INSERT INTO session_payments (`+sessionPaymentCols+`) VALUES (`+s.d.placeholders(1, len(args))+`)`, args...); err != nil {
				return err
			}
		} else {
			cols := strings.Split(sessionPaymentCols, ",")
			var set strings.Builder
			for i, col := range cols[1:] {
				if i > 0 {
					set.WriteString(", ")
				}
				fmt.Fprintf(&set, "%s = $%d", strings.TrimSpace(col), i+2)
			}
			res, err := w.exec(ctx, `UPDATE session_payments SET `+set.String()+` WHERE id = $1 AND version = $`+fmt.Sprint(len(args)+1),
				append(args, readVersion)...)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil || n != 1 {
				return fmt.Errorf("store: payment %s changed during its update (%d rows, %v)", p.ID, n, err)
			}
		}
		for _, j := range c.Jobs {
			due := j.DueAt
			if due.IsZero() {
				due = now
			}
			if _, err := w.exec(ctx, `INSERT INTO payment_jobs (payment_id, kind, idem_key, due_at, created_at) VALUES ($1, $2, $3, $4, $5)
				ON CONFLICT (idem_key) DO NOTHING`, p.ID, j.Kind, j.IdemKey, s.d.ts(due), s.d.ts(now)); err != nil {
				return err
			}
		}
		if r := c.Refund; r != nil {
			if r.CreatedAt.IsZero() {
				r.CreatedAt = now
			}
			if _, err := w.exec(ctx, `INSERT INTO payment_refunds (id, payment_id, amount, tax, reason, state, provider_refund_id, error, created_at, settled_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
				ON CONFLICT (id) DO UPDATE SET state = excluded.state, provider_refund_id = excluded.provider_refund_id,
				error = excluded.error, settled_at = excluded.settled_at`,
				r.ID, p.ID, r.Amount, r.Tax, r.Reason, r.State, r.ProviderRefundID, r.Error, s.d.ts(r.CreatedAt), s.d.nts(r.SettledAt)); err != nil {
				return err
			}
		}
		if c.DoneJob != 0 {
			if _, err := w.exec(ctx, `UPDATE payment_jobs SET done_at = $2 WHERE id = $1`, c.DoneJob, s.d.ts(now)); err != nil {
				return err
			}
		}
		if c.SessionStatus != "" && p.SessionID != "" {
			if _, err := w.exec(ctx, `UPDATE sessions SET payment_status = $2, amount_total = $3, amount_tax = $4, currency = $5 WHERE id = $1`,
				p.SessionID, c.SessionStatus, p.AmountTotal, p.AmountTax, p.Currency); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return SessionPayment{}, wrap("change session payment", err)
	}
	return s.GetSessionPayment(ctx, p.ID)
}

// GetSessionPayment reads a payment.
func (s *Store) GetSessionPayment(ctx context.Context, id string) (SessionPayment, error) {
	p, err := scanSessionPayment(s.queryRow(ctx, `SELECT `+sessionPaymentCols+` FROM session_payments WHERE id = $1`, id))
	return p, wrapRead("get session payment", err)
}

// SessionPaymentFind says which payment to find; the first field set is
// used.
type SessionPaymentFind struct {
	SessionID string
	// ProviderPayment with Provider: the provider's payment id.
	Provider, ProviderPayment string
	// CheckoutID with Provider: the hosted page.
	CheckoutID  string
	ReceiptCode string
	// OpenToken: the newest payment of the token that is authorised or
	// charging (with StationID, at that station only).
	OpenToken string
	StationID string
}

// FindSessionPayment finds one payment (ErrNotFound).
func (s *Store) FindSessionPayment(ctx context.Context, f SessionPaymentFind) (SessionPayment, error) {
	var where string
	var args []any
	switch {
	case f.SessionID != "":
		where, args = `session_id = $1`, []any{f.SessionID}
	case f.ProviderPayment != "":
		where, args = `provider = $1 AND provider_payment_id = $2`, []any{f.Provider, f.ProviderPayment}
	case f.CheckoutID != "":
		where, args = `provider = $1 AND checkout_id = $2`, []any{f.Provider, f.CheckoutID}
	case f.ReceiptCode != "":
		where, args = `receipt_code = $1`, []any{f.ReceiptCode}
	case f.OpenToken != "":
		where, args = `id_token_key = $1 AND state IN ('authorized', 'charging') AND ($2 = '' OR station_id = $2)`,
			[]any{tokenKey(f.OpenToken), f.StationID}
	default:
		return SessionPayment{}, ErrNotFound
	}
	p, err := scanSessionPayment(s.queryRow(ctx, `SELECT `+sessionPaymentCols+` FROM session_payments WHERE `+where+
		` ORDER BY created_at DESC, id LIMIT 1`, args...))
	return p, wrapRead("find session payment", err)
}

// SessionPaymentFilter selects payments to list.
type SessionPaymentFilter struct {
	OperatorID    string   // "" any
	States        []string // none: any
	UpdatedBefore time.Time
	AccountID     string
	AfterID       string // the page cursor: ids after this one
	Limit         int
}

// ListSessionPayments lists payments by id.
func (s *Store) ListSessionPayments(ctx context.Context, f SessionPaymentFilter) ([]SessionPayment, error) {
	where := []string{"($1 = '' OR operator_id = $1)", "($2 = '' OR account_id = $2)", "id > $3"}
	args := []any{f.OperatorID, f.AccountID, f.AfterID}
	if len(f.States) > 0 {
		ph := make([]string, len(f.States))
		for i, st := range f.States {
			args = append(args, st)
			ph[i] = fmt.Sprintf("$%d", len(args))
		}
		where = append(where, "state IN ("+strings.Join(ph, ", ")+")")
	}
	if !f.UpdatedBefore.IsZero() {
		args = append(args, s.d.ts(f.UpdatedBefore))
		where = append(where, fmt.Sprintf("updated_at < $%d", len(args)))
	}
	args = append(args, clampLimit(f.Limit, 100, 10000))
	rows, err := s.query(ctx, `SELECT `+sessionPaymentCols+` FROM session_payments WHERE `+strings.Join(where, " AND ")+
		fmt.Sprintf(` ORDER BY id LIMIT $%d`, len(args)), args...)
	if err != nil {
		return nil, wrap("list session payments", err)
	}
	return collect(rows, scanSessionPayment, "list session payments")
}

// DuePaymentJobs returns outbox jobs due at now, oldest first.
func (s *Store) DuePaymentJobs(ctx context.Context, now time.Time, limit int) ([]PaymentJob, error) {
	rows, err := s.query(ctx, `SELECT id, payment_id, kind, idem_key, due_at, attempts, last_error, done_at, created_at
		FROM payment_jobs WHERE done_at IS NULL AND due_at <= $1 ORDER BY due_at, id LIMIT $2`, s.d.ts(now), clampLimit(limit, 100, 1000))
	if err != nil {
		return nil, wrap("due payment jobs", err)
	}
	return collect(rows, scanPaymentJob, "due payment jobs")
}

// PaymentJobs returns a payment's outbox jobs (done or not), by id.
func (s *Store) PaymentJobs(ctx context.Context, paymentID string) ([]PaymentJob, error) {
	rows, err := s.query(ctx, `SELECT id, payment_id, kind, idem_key, due_at, attempts, last_error, done_at, created_at
		FROM payment_jobs WHERE payment_id = $1 ORDER BY id`, paymentID)
	if err != nil {
		return nil, wrap("payment jobs", err)
	}
	return collect(rows, scanPaymentJob, "payment jobs")
}

func scanPaymentJob(sc interface{ Scan(...any) error }) (PaymentJob, error) {
	var j PaymentJob
	err := sc.Scan(&j.ID, &j.PaymentID, &j.Kind, &j.IdemKey, tsCol(&j.DueAt), &j.Attempts, &j.LastError, ntsCol(&j.DoneAt), tsCol(&j.CreatedAt))
	return j, err
}

// ClaimPaymentJob takes a due job for one run: its due time moves to
// leaseUntil, so no other worker (of this process, whose list of due jobs
// may be stale, or of another instance) runs it meanwhile; if this one
// dies, the job is due again when the lease ends. False: someone else has
// it, or it is done.
func (s *Store) ClaimPaymentJob(ctx context.Context, id int64, now, leaseUntil time.Time) (bool, error) {
	var claimed bool
	err := s.write(ctx, func(ctx context.Context, w *wtx) error {
		res, err := w.exec(ctx, `UPDATE payment_jobs SET due_at = $3 WHERE id = $1 AND done_at IS NULL AND due_at <= $2`,
			id, s.d.ts(now), s.d.ts(leaseUntil))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		claimed = n == 1
		return err
	})
	if err != nil {
		// claimed is not read: after a canceled write the op may still
		// be running in the committer.
		return false, wrap("claim payment job", err)
	}
	return claimed, nil
}

// ReleasePaymentJobs makes every unfinished job due at now: at startup,
// the leases of a process that died (or stopped) mid-job are given up, and
// jobs waiting out a retry delay get one try at once. With one instance
// per database no live worker holds a lease then; a cluster needs lease
// owners first.
func (s *Store) ReleasePaymentJobs(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	err := s.write(ctx, func(ctx context.Context, w *wtx) error {
		res, err := w.exec(ctx, `UPDATE payment_jobs SET due_at = $1 WHERE done_at IS NULL AND due_at > $1`, s.d.ts(now))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, wrap("release payment jobs", err)
	}
	return n, nil
}

// FinishPaymentJob marks a job done (retryAt zero) or records a failed
// attempt and when to try again.
func (s *Store) FinishPaymentJob(ctx context.Context, id int64, lastErr string, retryAt time.Time) error {
	now := normTime(time.Now())
	err := s.write(ctx, func(ctx context.Context, w *wtx) error {
		if retryAt.IsZero() {
			_, err := w.exec(ctx, `UPDATE payment_jobs SET done_at = $2, attempts = attempts + 1, last_error = $3 WHERE id = $1`, id, s.d.ts(now), lastErr)
			return err
		}
		_, err := w.exec(ctx, `UPDATE payment_jobs SET due_at = $2, attempts = attempts + 1, last_error = $3 WHERE id = $1`, id, s.d.ts(retryAt), lastErr)
		return err
	})
	return wrap("finish payment job", err)
}

// SessionsToBill returns sessions whose payment has not caught up with
// them: payments still authorised whose token started a session, and
// payments charging whose session is completed. The sweep uses it to
// recover observer notifications lost in a crash.
func (s *Store) SessionsToBill(ctx context.Context, limit int) (started, stopped []SessionPaymentLink, err error) {
	q := func(what, sql string) ([]SessionPaymentLink, error) {
		rows, err := s.query(ctx, sql, clampLimit(limit, 100, 10000))
		if err != nil {
			return nil, wrap(what, err)
		}
		return collect(rows, func(sc interface{ Scan(...any) error }) (SessionPaymentLink, error) {
			var l SessionPaymentLink
			return l, sc.Scan(&l.PaymentID, &l.SessionID)
		}, what)
	}
	started, err = q("sessions to bill (started)", `SELECT p.id, s.id FROM session_payments p
		JOIN sessions s ON s.station_id = p.station_id AND s.id_tag_key = p.id_token_key AND s.created_at >= p.created_at
		WHERE p.state = 'authorized' AND p.purpose = 'session' AND p.id_token_key <> ''
		  AND NOT EXISTS (SELECT 1 FROM session_payments q WHERE q.session_id = s.id)
		ORDER BY p.id LIMIT $1`)
	if err != nil {
		return nil, nil, err
	}
	stopped, err = q("sessions to bill (stopped)", `SELECT p.id, s.id FROM session_payments p
		JOIN sessions s ON s.id = p.session_id
		WHERE p.state = 'charging' AND s.status = 'completed'
		ORDER BY p.id LIMIT $1`)
	return started, stopped, err
}

// SessionPaymentLink pairs a payment and a session.
type SessionPaymentLink struct{ PaymentID, SessionID string }

// PaymentRefund is a refund of (part of) a captured payment.
type PaymentRefund struct {
	ID               string // "ref_…"
	PaymentID        string
	Amount           int64 // minor units, tax included
	Tax              int64 // the tax within Amount
	Reason           string
	State            string // pending, succeeded, failed
	ProviderRefundID string
	Error            string
	CreatedAt        time.Time
	SettledAt        *time.Time
}

// NewRefundID returns a fresh refund id.
func NewRefundID() string { return newID("ref_") }

// PaymentRefunds lists a payment's refunds, oldest first.
func (s *Store) PaymentRefunds(ctx context.Context, paymentID string) ([]PaymentRefund, error) {
	rows, err := s.query(ctx, `SELECT id, payment_id, amount, tax, reason, state, provider_refund_id, error, created_at, settled_at
		FROM payment_refunds WHERE payment_id = $1 ORDER BY created_at, id`, paymentID)
	if err != nil {
		return nil, wrap("payment refunds", err)
	}
	return collect(rows, func(sc interface{ Scan(...any) error }) (PaymentRefund, error) {
		var r PaymentRefund
		err := sc.Scan(&r.ID, &r.PaymentID, &r.Amount, &r.Tax, &r.Reason, &r.State, &r.ProviderRefundID, &r.Error, tsCol(&r.CreatedAt), ntsCol(&r.SettledAt))
		return r, err
	}, "payment refunds")
}

// Sales returns the captured session payments settled in [from, to) as
// revenue reports read them ("" operator: every operator's).
func (s *Store) Sales(ctx context.Context, operatorID string, from, to time.Time) ([]reports.Sale, error) {
	rows, err := s.query(ctx, `SELECT p.id, p.station_id, COALESCE(st.site_id, ''), p.settled_at, p.currency, p.amount_captured, p.amount_tax,
		p.amount_refunded, CAST(COALESCE((SELECT SUM(r.tax) FROM payment_refunds r WHERE r.payment_id = p.id AND r.state = 'succeeded'), 0) AS BIGINT),
		COALESCE(se.energy_wh, 0)
		FROM session_payments p
		LEFT JOIN stations st ON st.id = p.station_id
		LEFT JOIN sessions se ON se.id = p.session_id
		WHERE p.purpose = 'session' AND p.state = 'captured' AND ($1 = '' OR p.operator_id = $1)
		  AND p.settled_at >= $2 AND p.settled_at < $3
		ORDER BY p.settled_at, p.id`, operatorID, s.d.ts(from), s.d.ts(to))
	if err != nil {
		return nil, wrap("sales", err)
	}
	return collect(rows, func(sc interface{ Scan(...any) error }) (reports.Sale, error) {
		var x reports.Sale
		err := sc.Scan(&x.PaymentID, &x.StationID, &x.SiteID, tsCol(&x.SettledAt), &x.Currency, &x.Gross, &x.Tax, &x.Refunded, &x.RefundTax, &x.EnergyWh)
		return x, err
	}, "sales")
}

// Uses returns the sessions overlapping [from, to) for usage reports (""
// operator: every operator's); a live session ends at now.
func (s *Store) Uses(ctx context.Context, operatorID string, from, to, now time.Time) ([]reports.Use, error) {
	rows, err := s.query(ctx, `SELECT se.id, se.station_id, COALESCE(st.site_id, ''), se.connector_id, se.started_at, se.stopped_at, se.energy_wh
		FROM sessions se LEFT JOIN stations st ON st.id = se.station_id
		WHERE ($1 = '' OR se.operator_id = $1) AND se.started_at < $3 AND (se.stopped_at IS NULL OR se.stopped_at >= $2)
		ORDER BY se.started_at, se.id LIMIT 200000`, operatorID, s.d.ts(from), s.d.ts(to))
	if err != nil {
		return nil, wrap("uses", err)
	}
	return collect(rows, func(sc interface{ Scan(...any) error }) (reports.Use, error) {
		var u reports.Use
		var stop *time.Time
		err := sc.Scan(&u.SessionID, &u.StationID, &u.SiteID, &u.ConnectorID, tsCol(&u.Start), ntsCol(&stop), &u.EnergyWh)
		u.Stop = now
		if stop != nil {
			u.Stop = *stop
		}
		return u, err
	}, "uses")
}
