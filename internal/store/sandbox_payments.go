package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Persistence of the built-in sandbox payment provider
// (internal/payments/sandbox), migration 00004. The sandbox stands in for an
// external card acquirer: its tables are its own and reference nothing of
// ours. The acquirer's rules (holds, captures, idempotency, events) live in
// the sandbox package; this file gives it rows and one transaction at a
// time: SandboxWrite runs the sandbox's function inside a group-commit op,
// so the idempotency check, the state change and the webhook event it emits
// commit together or not at all. Because the committer runs ops one after
// another, two calls with the same idempotency key never both see it unused.

// SandboxPayment is a payment (hold) of the sandbox acquirer.
type SandboxPayment struct {
	ID             string
	Status         string // pending, authorized, captured, voided, expired, failed, canceled
	Amount         int64  // the hold, minor units
	AmountCaptured int64
	AmountRefunded int64
	ApplicationFee int64
	Currency       string
	Description    string
	Metadata       map[string]string
	SettlementMode string
	Account        string
	CustomerRef    string
	PaymentMethod  string
	CheckoutID     string
	CardBrand      string
	CardLast4      string
	CardExpMonth   int
	CardExpYear    int
	DeclineCode    string
	// Version is the row's version, for optimistic concurrency: an update
	// applies only to the version it was read at (and increments it).
	Version       int64
	CreatedAt     time.Time
	UpdatedAt     time.Time
	AuthorizedAt  *time.Time
	HoldExpiresAt *time.Time
	CapturedAt    *time.Time
	ReleasedAt    *time.Time // voided, expired or canceled
}

// SandboxCheckout is a hosted page of the sandbox acquirer.
type SandboxCheckout struct {
	ID             string
	Kind           string // "payment" or "setup"
	Status         string // open, completed, expired
	Amount         int64
	Currency       string
	Description    string
	SuccessURL     string
	CancelURL      string
	Metadata       map[string]string
	SettlementMode string
	Account        string
	CustomerRef    string
	SaveCard       bool
	PaymentID      string // kind payment: the payment the page authorises
	PaymentMethod  string // the card saved (setup, or payment with SaveCard)
	LastError      string // the last decline, shown on the page
	Version        int64
	CreatedAt      time.Time
	ExpiresAt      time.Time
	CompletedAt    *time.Time
}

// SandboxPaymentMethod is a saved card: never its number.
type SandboxPaymentMethod struct {
	ID          string
	CustomerRef string
	Account     string
	CardBrand   string
	CardLast4   string
	ExpMonth    int
	ExpYear     int
	Outcome     string // how the simulated issuer answers later holds
	CreatedAt   time.Time
}

// SandboxRefund is money returned of a captured sandbox payment.
type SandboxRefund struct {
	ID        string
	PaymentID string
	Amount    int64
	Currency  string
	Reason    string
	Metadata  map[string]string
	CreatedAt time.Time
}

// Sandbox event delivery states.
const (
	SandboxEventPending   = "pending"
	SandboxEventDelivered = "delivered"
	SandboxEventFailed    = "failed" // gave up after the last attempt
)

// SandboxEvent is a webhook event in the sandbox's outbox.
type SandboxEvent struct {
	Seq           int64 // assigned by the database, in insertion order
	ID            string
	Type          string
	Payload       []byte // the JSON body delivered
	Status        string
	Attempts      int
	NextAttemptAt time.Time
	LastError     string
	CreatedAt     time.Time
	DeliveredAt   *time.Time
}

// SandboxIdempotency is a used idempotency key: what the first request was
// (a fingerprint of its operation and parameters) and what it got.
type SandboxIdempotency struct {
	Key         string
	Operation   string
	Fingerprint string
	Response    []byte
	CreatedAt   time.Time
}

// SandboxDelivery is the outcome of one delivery attempt of an event.
type SandboxDelivery struct {
	At        time.Time
	Delivered bool
	// NextAttemptAt is when to try again after a failure; zero gives up
	// (the event becomes failed).
	NextAttemptAt time.Time
	Error         string
}

// SandboxTx is the write transaction of SandboxWrite. Its methods may only
// be used inside the function given to SandboxWrite.
type SandboxTx struct {
	ctx   context.Context
	w     *wtx
	d     *dialect
	wrote bool
}

// SandboxWrite runs fn in a write transaction of the group committer and
// commits it. fn must be pure database work through tx: it may run more than
// once (a failed batch is re-run op by op), so it recomputes everything on
// each run. If fn fails before writing anything its error is returned and
// other writes of the batch go on; if it fails after writing, its
// transaction rolls back. fn's errors are returned as they are.
func (s *Store) SandboxWrite(ctx context.Context, fn func(tx *SandboxTx) error) error {
	return s.write(ctx, func(ctx context.Context, w *wtx) error {
		tx := &SandboxTx{ctx: ctx, w: w, d: s.d}
		if err := fn(tx); err != nil {
			if !tx.wrote {
				return reject(err)
			}
			return err
		}
		return nil
	})
}

func (tx *SandboxTx) exec(what, q string, args ...any) (sql.Result, error) {
	tx.wrote = true
	res, err := tx.w.exec(tx.ctx, q, args...)
	return res, wrap(what, err)
}

// oneRow turns an UPDATE that matched no row into ErrConflict: the row was
// changed since it was read (or does not exist).
func oneRow(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n != 1 {
		return fmt.Errorf("%w: sandbox row changed since it was read", ErrConflict)
	}
	return nil
}

func encodeMetadata(md map[string]string) string {
	if len(md) == 0 {
		return "{}"
	}
	b, _ := json.Marshal(md) // a map of strings always encodes
	return string(b)
}

// metadataCol scans a metadata JSON text column into a map (nil when empty).
type metadataCol struct{ dst *map[string]string }

func (m metadataCol) Scan(v any) error {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case []byte:
		s = string(x)
	case nil:
	default:
		return fmt.Errorf("store: cannot scan %T into metadata", v)
	}
	*m.dst = nil
	if s == "" || s == "{}" {
		return nil
	}
	return json.Unmarshal([]byte(s), m.dst)
}

// Payments.

const sandboxPaymentCols = `id, status, amount, amount_captured, amount_refunded, application_fee, currency,
	description, metadata, settlement_mode, account, customer_ref, payment_method_ref, checkout_id,
	card_brand, card_last4, card_exp_month, card_exp_year, decline_code, version,
	created_at, updated_at, authorized_at, hold_expires_at, captured_at, released_at`

func scanSandboxPayment(sc interface{ Scan(...any) error }) (SandboxPayment, error) {
	var p SandboxPayment
	err := sc.Scan(&p.ID, &p.Status, &p.Amount, &p.AmountCaptured, &p.AmountRefunded, &p.ApplicationFee, &p.Currency,
		&p.Description, metadataCol{&p.Metadata}, &p.SettlementMode, &p.Account, &p.CustomerRef, &p.PaymentMethod, &p.CheckoutID,
		&p.CardBrand, &p.CardLast4, &p.CardExpMonth, &p.CardExpYear, &p.DeclineCode, &p.Version,
		tsCol(&p.CreatedAt), tsCol(&p.UpdatedAt), ntsCol(&p.AuthorizedAt), ntsCol(&p.HoldExpiresAt), ntsCol(&p.CapturedAt), ntsCol(&p.ReleasedAt))
	return p, err
}

// SandboxPayment reads a sandbox payment (ErrNotFound).
func (s *Store) SandboxPayment(ctx context.Context, id string) (SandboxPayment, error) {
	p, err := scanSandboxPayment(s.queryRow(ctx, `SELECT `+sandboxPaymentCols+` FROM sandbox_payments WHERE id = $1`, id))
	return p, wrapRead("get sandbox payment", err)
}

// Payment reads a payment inside the transaction (ErrNotFound).
func (tx *SandboxTx) Payment(id string) (SandboxPayment, error) {
	p, err := scanSandboxPayment(tx.w.queryRow(tx.ctx, `SELECT `+sandboxPaymentCols+` FROM sandbox_payments WHERE id = $1`, id))
	return p, wrapRead("get sandbox payment", err)
}

// InsertPayment adds a payment; its Version becomes 1.
func (tx *SandboxTx) InsertPayment(p SandboxPayment) error {
	d := tx.d
	_, err := tx.exec("insert sandbox payment", `INSERT INTO sandbox_payments (`+sandboxPaymentCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, 1, $20, $21, $22, $23, $24, $25)`,
		p.ID, p.Status, p.Amount, p.AmountCaptured, p.AmountRefunded, p.ApplicationFee, p.Currency,
		p.Description, encodeMetadata(p.Metadata), p.SettlementMode, p.Account, p.CustomerRef, p.PaymentMethod, p.CheckoutID,
		p.CardBrand, p.CardLast4, p.CardExpMonth, p.CardExpYear, p.DeclineCode,
		d.ts(p.CreatedAt), d.ts(p.UpdatedAt), d.nts(p.AuthorizedAt), d.nts(p.HoldExpiresAt), d.nts(p.CapturedAt), d.nts(p.ReleasedAt))
	return err
}

// UpdatePayment writes p's mutable fields over the row at p.Version and
// increments its version; ErrConflict when the row changed meanwhile.
func (tx *SandboxTx) UpdatePayment(p SandboxPayment) error {
	d := tx.d
	return oneRow(tx.exec("update sandbox payment", `UPDATE sandbox_payments SET
			status = $3, amount_captured = $4, amount_refunded = $5, application_fee = $6,
			customer_ref = $7, payment_method_ref = $8, card_brand = $9, card_last4 = $10,
			card_exp_month = $11, card_exp_year = $12, decline_code = $13, updated_at = $14,
			authorized_at = $15, hold_expires_at = $16, captured_at = $17, released_at = $18,
			version = version + 1
		WHERE id = $1 AND version = $2`,
		p.ID, p.Version, p.Status, p.AmountCaptured, p.AmountRefunded, p.ApplicationFee,
		p.CustomerRef, p.PaymentMethod, p.CardBrand, p.CardLast4, p.CardExpMonth, p.CardExpYear, p.DeclineCode,
		d.ts(p.UpdatedAt), d.nts(p.AuthorizedAt), d.nts(p.HoldExpiresAt), d.nts(p.CapturedAt), d.nts(p.ReleasedAt)))
}

// HoldsExpiredBy lists authorised payments whose hold lapsed by now, oldest
// first, at most limit.
func (tx *SandboxTx) HoldsExpiredBy(now time.Time, limit int) ([]SandboxPayment, error) {
	rows, err := tx.w.QueryContext(tx.ctx, `SELECT `+sandboxPaymentCols+` FROM sandbox_payments
		WHERE status = 'authorized' AND hold_expires_at <= $1 ORDER BY hold_expires_at LIMIT $2`, tx.d.ts(now), limit)
	if err != nil {
		return nil, wrap("list expired sandbox holds", err)
	}
	defer rows.Close()
	var out []SandboxPayment
	for rows.Next() {
		p, err := scanSandboxPayment(rows)
		if err != nil {
			return nil, wrap("list expired sandbox holds", err)
		}
		out = append(out, p)
	}
	return out, wrap("list expired sandbox holds", rows.Err())
}

// Checkouts.

const sandboxCheckoutCols = `id, kind, status, amount, currency, description, success_url, cancel_url, metadata,
	settlement_mode, account, customer_ref, save_card, payment_id, payment_method_ref, last_error, version,
	created_at, expires_at, completed_at`

func scanSandboxCheckout(sc interface{ Scan(...any) error }) (SandboxCheckout, error) {
	var c SandboxCheckout
	err := sc.Scan(&c.ID, &c.Kind, &c.Status, &c.Amount, &c.Currency, &c.Description, &c.SuccessURL, &c.CancelURL, metadataCol{&c.Metadata},
		&c.SettlementMode, &c.Account, &c.CustomerRef, &c.SaveCard, &c.PaymentID, &c.PaymentMethod, &c.LastError, &c.Version,
		tsCol(&c.CreatedAt), tsCol(&c.ExpiresAt), ntsCol(&c.CompletedAt))
	return c, err
}

// SandboxCheckout reads a sandbox hosted page (ErrNotFound).
func (s *Store) SandboxCheckout(ctx context.Context, id string) (SandboxCheckout, error) {
	c, err := scanSandboxCheckout(s.queryRow(ctx, `SELECT `+sandboxCheckoutCols+` FROM sandbox_checkouts WHERE id = $1`, id))
	return c, wrapRead("get sandbox checkout", err)
}

// Checkout reads a hosted page inside the transaction (ErrNotFound).
func (tx *SandboxTx) Checkout(id string) (SandboxCheckout, error) {
	c, err := scanSandboxCheckout(tx.w.queryRow(tx.ctx, `SELECT `+sandboxCheckoutCols+` FROM sandbox_checkouts WHERE id = $1`, id))
	return c, wrapRead("get sandbox checkout", err)
}

// InsertCheckout adds a hosted page; its Version becomes 1.
func (tx *SandboxTx) InsertCheckout(c SandboxCheckout) error {
	d := tx.d
	_, err := tx.exec("insert sandbox checkout", `INSERT INTO sandbox_checkouts (`+sandboxCheckoutCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, 1, $17, $18, $19)`,
		c.ID, c.Kind, c.Status, c.Amount, c.Currency, c.Description, c.SuccessURL, c.CancelURL, encodeMetadata(c.Metadata),
		c.SettlementMode, c.Account, c.CustomerRef, c.SaveCard, c.PaymentID, c.PaymentMethod, c.LastError,
		d.ts(c.CreatedAt), d.ts(c.ExpiresAt), d.nts(c.CompletedAt))
	return err
}

// UpdateCheckout writes c's mutable fields over the row at c.Version;
// ErrConflict when the row changed meanwhile.
func (tx *SandboxTx) UpdateCheckout(c SandboxCheckout) error {
	return oneRow(tx.exec("update sandbox checkout", `UPDATE sandbox_checkouts SET
			status = $3, customer_ref = $4, payment_method_ref = $5, last_error = $6, completed_at = $7,
			version = version + 1
		WHERE id = $1 AND version = $2`,
		c.ID, c.Version, c.Status, c.CustomerRef, c.PaymentMethod, c.LastError, tx.d.nts(c.CompletedAt)))
}

// CheckoutsExpiredBy lists open hosted pages that expired by now, oldest
// first, at most limit.
func (tx *SandboxTx) CheckoutsExpiredBy(now time.Time, limit int) ([]SandboxCheckout, error) {
	rows, err := tx.w.QueryContext(tx.ctx, `SELECT `+sandboxCheckoutCols+` FROM sandbox_checkouts
		WHERE status = 'open' AND expires_at <= $1 ORDER BY expires_at LIMIT $2`, tx.d.ts(now), limit)
	if err != nil {
		return nil, wrap("list expired sandbox checkouts", err)
	}
	defer rows.Close()
	var out []SandboxCheckout
	for rows.Next() {
		c, err := scanSandboxCheckout(rows)
		if err != nil {
			return nil, wrap("list expired sandbox checkouts", err)
		}
		out = append(out, c)
	}
	return out, wrap("list expired sandbox checkouts", rows.Err())
}

// Payment methods.

// PaymentMethod reads a saved card inside the transaction (ErrNotFound).
func (tx *SandboxTx) PaymentMethod(id string) (SandboxPaymentMethod, error) {
	var m SandboxPaymentMethod
	err := tx.w.queryRow(tx.ctx, `SELECT id, customer_ref, account, card_brand, card_last4, exp_month, exp_year, outcome, created_at
		FROM sandbox_payment_methods WHERE id = $1`, id).
		Scan(&m.ID, &m.CustomerRef, &m.Account, &m.CardBrand, &m.CardLast4, &m.ExpMonth, &m.ExpYear, &m.Outcome, tsCol(&m.CreatedAt))
	return m, wrapRead("get sandbox payment method", err)
}

// InsertPaymentMethod saves a card.
func (tx *SandboxTx) InsertPaymentMethod(m SandboxPaymentMethod) error {
	_, err := tx.exec("insert sandbox payment method", `INSERT INTO sandbox_payment_methods
		(id, customer_ref, account, card_brand, card_last4, exp_month, exp_year, outcome, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		m.ID, m.CustomerRef, m.Account, m.CardBrand, m.CardLast4, m.ExpMonth, m.ExpYear, m.Outcome, tx.d.ts(m.CreatedAt))
	return err
}

// Refunds.

// InsertRefund records a refund.
func (tx *SandboxTx) InsertRefund(r SandboxRefund) error {
	_, err := tx.exec("insert sandbox refund", `INSERT INTO sandbox_refunds (id, payment_id, amount, currency, reason, metadata, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		r.ID, r.PaymentID, r.Amount, r.Currency, r.Reason, encodeMetadata(r.Metadata), tx.d.ts(r.CreatedAt))
	return err
}

// SandboxRefunds lists a payment's refunds, oldest first.
func (s *Store) SandboxRefunds(ctx context.Context, paymentID string) ([]SandboxRefund, error) {
	rows, err := s.query(ctx, `SELECT id, payment_id, amount, currency, reason, metadata, created_at
		FROM sandbox_refunds WHERE payment_id = $1 ORDER BY created_at, id`, paymentID)
	if err != nil {
		return nil, wrap("list sandbox refunds", err)
	}
	defer rows.Close()
	var out []SandboxRefund
	for rows.Next() {
		var r SandboxRefund
		if err := rows.Scan(&r.ID, &r.PaymentID, &r.Amount, &r.Currency, &r.Reason, metadataCol{&r.Metadata}, tsCol(&r.CreatedAt)); err != nil {
			return nil, wrap("list sandbox refunds", err)
		}
		out = append(out, r)
	}
	return out, wrap("list sandbox refunds", rows.Err())
}

// Idempotency keys.

// Idempotency reads a used idempotency key inside the transaction
// (ErrNotFound when unused).
func (tx *SandboxTx) Idempotency(key string) (SandboxIdempotency, error) {
	var r SandboxIdempotency
	var resp string
	err := tx.w.queryRow(tx.ctx, `SELECT key, operation, fingerprint, response, created_at FROM sandbox_idempotency WHERE key = $1`, key).
		Scan(&r.Key, &r.Operation, &r.Fingerprint, &resp, tsCol(&r.CreatedAt))
	r.Response = []byte(resp)
	return r, wrapRead("get sandbox idempotency key", err)
}

// InsertIdempotency records a used key (ErrConflict when it is used).
func (tx *SandboxTx) InsertIdempotency(r SandboxIdempotency) error {
	_, err := tx.exec("insert sandbox idempotency key", `INSERT INTO sandbox_idempotency (key, operation, fingerprint, response, created_at)
		VALUES ($1, $2, $3, $4, $5)`, r.Key, r.Operation, r.Fingerprint, string(r.Response), tx.d.ts(r.CreatedAt))
	return err
}

// Events.

// InsertEvent adds a webhook event to the outbox (status pending, due at
// NextAttemptAt, CreatedAt when zero).
func (tx *SandboxTx) InsertEvent(e SandboxEvent) error {
	if e.NextAttemptAt.IsZero() {
		e.NextAttemptAt = e.CreatedAt
	}
	_, err := tx.exec("insert sandbox event", `INSERT INTO sandbox_events (id, type, payload, status, attempts, next_attempt_at, created_at)
		VALUES ($1, $2, $3, 'pending', 0, $4, $5)`,
		e.ID, e.Type, string(e.Payload), tx.d.ts(e.NextAttemptAt), tx.d.ts(e.CreatedAt))
	return err
}

const sandboxEventCols = `seq, id, type, payload, status, attempts, next_attempt_at, last_error, created_at, delivered_at`

func scanSandboxEvents(rows *sql.Rows, err error) ([]SandboxEvent, error) {
	if err != nil {
		return nil, wrap("list sandbox events", err)
	}
	defer rows.Close()
	var out []SandboxEvent
	for rows.Next() {
		var e SandboxEvent
		var payload string
		if err := rows.Scan(&e.Seq, &e.ID, &e.Type, &payload, &e.Status, &e.Attempts, tsCol(&e.NextAttemptAt),
			&e.LastError, tsCol(&e.CreatedAt), ntsCol(&e.DeliveredAt)); err != nil {
			return nil, wrap("list sandbox events", err)
		}
		e.Payload = []byte(payload)
		out = append(out, e)
	}
	return out, wrap("list sandbox events", rows.Err())
}

// DueSandboxEvents lists pending events due by now, in the order they were
// emitted, at most limit.
func (s *Store) DueSandboxEvents(ctx context.Context, now time.Time, limit int) ([]SandboxEvent, error) {
	return scanSandboxEvents(s.query(ctx, `SELECT `+sandboxEventCols+` FROM sandbox_events
		WHERE status = 'pending' AND next_attempt_at <= $1 ORDER BY next_attempt_at, seq LIMIT $2`,
		s.d.ts(now), clampLimit(limit, 100, 1000)))
}

// SandboxEvents lists events emitted after the one with sequence number
// after (0: from the first), oldest first, at most limit.
func (s *Store) SandboxEvents(ctx context.Context, after int64, limit int) ([]SandboxEvent, error) {
	return scanSandboxEvents(s.query(ctx, `SELECT `+sandboxEventCols+` FROM sandbox_events
		WHERE seq > $1 ORDER BY seq LIMIT $2`, after, clampLimit(limit, 100, 1000)))
}

// RecordSandboxDelivery records a delivery attempt of a pending event:
// delivered, to be retried at NextAttemptAt, or given up. An event that is
// no longer pending is left as it is.
func (s *Store) RecordSandboxDelivery(ctx context.Context, id string, r SandboxDelivery) error {
	d := s.d
	status, next := SandboxEventPending, r.NextAttemptAt
	switch {
	case r.Delivered:
		status, next = SandboxEventDelivered, r.At
	case next.IsZero():
		status, next = SandboxEventFailed, r.At
	}
	var delivered any
	if r.Delivered {
		delivered = d.ts(r.At)
	}
	err := s.write(ctx, func(ctx context.Context, w *wtx) error {
		_, err := w.exec(ctx, `UPDATE sandbox_events SET status = $2, attempts = attempts + 1, next_attempt_at = $3,
				last_error = $4, delivered_at = $5
			WHERE id = $1 AND status = 'pending'`, id, status, d.ts(next), r.Error, delivered)
		return err
	})
	if err != nil && !errors.Is(err, context.Canceled) {
		return wrap("record sandbox delivery", err)
	}
	return err
}
