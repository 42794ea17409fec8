package store

// The money ledger's persistence. The rules are internal/ledger's (pure
// code); this file stores its transactions through the group committer and
// answers balance, reference and invariant queries. Schema: migration
// 00003_ledger and README.md.

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/chargestar/chargestar/internal/ledger"
	"github.com/jackc/pgx/v5/pgconn"
)

// PostLedger stores a hold or a plain transaction (a capture or void goes
// through CapturePending or VoidPending, which read the hold in the same
// write). It is idempotent by tx.Key: if the key is already stored with the
// same content, nothing is written and the first result is returned with
// Replayed set; with different content the error is ErrConflict and
// ledger.ErrKeyReused. Guarded accounts (tx.Guards) that would go below
// zero fail with ledger.ErrInsufficientFunds; an invalid transaction with
// ledger.ErrInvalid. A nil error means the transaction is committed. If ctx
// ends while the write runs, the caller gets ctx.Err() but the transaction
// may still commit: posting it again under the same key tells which.
func (s *Store) PostLedger(ctx context.Context, tx ledger.Transaction) (ledger.Result, error) {
	if tx.Resolves != "" {
		return ledger.Result{}, fmt.Errorf("store: post ledger transaction %s: %w: a capture or void goes through CapturePending or VoidPending", tx.Key, ledger.ErrInvalid)
	}
	if err := tx.Validate(); err != nil {
		return ledger.Result{}, fmt.Errorf("store: post ledger transaction: %w", err)
	}
	var res ledger.Result
	err := s.ledgerWrite(ctx, func(ctx context.Context, w *wtx) error {
		var err error
		res, err = s.postLedger(ctx, w, tx, nil)
		return err
	})
	if err != nil {
		return ledger.Result{}, wrap("post ledger transaction", err)
	}
	return res, nil
}

// CapturePending captures the hold stored under holdKey: ledger.Capture
// builds the capture from the stored hold, and the hold moves from pending
// to posted in the same database transaction. Replays are as PostLedger's.
// An unknown hold is ErrNotFound and ledger.ErrUnknownHold; a hold already
// captured or voided (by another key) is ErrConflict and
// ledger.ErrNotPending.
func (s *Store) CapturePending(ctx context.Context, holdKey string, p ledger.CaptureParams) (ledger.Result, error) {
	return s.resolveHold(ctx, "capture ledger hold", holdKey, func(hold ledger.Transaction) (ledger.Transaction, error) {
		return ledger.Capture(hold, p)
	})
}

// VoidPending voids the hold stored under holdKey; otherwise as
// CapturePending.
func (s *Store) VoidPending(ctx context.Context, holdKey string, p ledger.VoidParams) (ledger.Result, error) {
	return s.resolveHold(ctx, "void ledger hold", holdKey, func(hold ledger.Transaction) (ledger.Transaction, error) {
		return ledger.Void(hold, p)
	})
}

func (s *Store) resolveHold(ctx context.Context, what, holdKey string, build func(ledger.Transaction) (ledger.Transaction, error)) (ledger.Result, error) {
	var res ledger.Result
	err := s.ledgerWrite(ctx, func(ctx context.Context, w *wtx) error {
		var err error
		res, err = s.resolveHoldIn(ctx, w, holdKey, build)
		return err
	})
	if err != nil {
		return ledger.Result{}, wrap(what, err)
	}
	return res, nil
}

// resolveHoldIn reads the hold under holdKey, builds its capture or void
// and posts it, inside the write transaction w.
func (s *Store) resolveHoldIn(ctx context.Context, w *wtx, holdKey string, build func(ledger.Transaction) (ledger.Transaction, error)) (ledger.Result, error) {
	hold, ok, err := s.ledgerTxByKey(ctx, w, holdKey)
	if err != nil {
		return ledger.Result{}, err
	}
	if !ok || hold.Kind != ledger.KindHold {
		return ledger.Result{}, reject(fmt.Errorf("%w: %w: %q", ErrNotFound, ledger.ErrUnknownHold, holdKey))
	}
	tx, err := build(hold.Transaction)
	if err != nil {
		return ledger.Result{}, reject(err)
	}
	return s.postLedger(ctx, w, tx, &hold)
}

// ledgerWriteAttempts bounds how often a ledger write is submitted when
// PostgreSQL aborts it to break a deadlock.
const ledgerWriteAttempts = 5

// ledgerWrite submits fn as a write and submits it again, after a short
// random pause, when PostgreSQL aborted its transaction as a deadlock victim
// or for a serialization failure. Two instances on one database can
// deadlock over account and hold rows: a batch holds the rows of its earlier
// writes while it waits for a row the other instance's batch holds. The
// committer already re-runs a failed batch write by write, but a single
// write can lose a second deadlock. Submitting it again is safe: an aborted
// transaction committed nothing, and every ledger write is idempotent by key.
func (s *Store) ledgerWrite(ctx context.Context, fn func(ctx context.Context, w *wtx) error) error {
	for attempt := 1; ; attempt++ {
		err := s.write(ctx, fn)
		if err == nil || attempt == ledgerWriteAttempts || !isTransientPG(err) {
			return err
		}
		s.log.Debug("store: ledger write aborted by the database, submitting it again", "attempt", attempt, "err", err)
		pause := time.Duration(1 + rand.Int64N(int64(attempt)*int64(5*time.Millisecond)))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
	}
}

// isTransientPG reports whether err is PostgreSQL's deadlock_detected or
// serialization_failure: the transaction was rolled back and may be retried.
func isTransientPG(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001")
}

// storedTx is a ledger transaction as read back, with its fingerprint.
type storedTx struct {
	ledger.Transaction
	fp []byte
}

// errLedgerKeyRace: another writer stored the key between our check and our
// insert after we had written; the batch is rolled back and the op re-run,
// which then finds the key.
var errLedgerKeyRace = errors.New("store: ledger key stored concurrently")

// postLedger applies tx inside the write transaction w. hold is the stored
// hold tx resolves (nil unless tx is a capture or void). Everything that can
// refuse the transaction runs before the first write, so refusals are
// rejections that leave the rest of the batch alone. The hold's move is a
// conditional UPDATE (… AND status = 'pending'), so that of two writers
// (two instances on one PostgreSQL database) only one can resolve it; the
// UNIQUE resolves column is the second line of defence.
func (s *Store) postLedger(ctx context.Context, w *wtx, tx ledger.Transaction, hold *storedTx) (ledger.Result, error) {
	fp := tx.Fingerprint()
	if res, ok, err := s.ledgerReplay(ctx, w, tx.Key, fp); err != nil || ok {
		return res, err
	}
	var holdTx *ledger.Transaction
	if hold != nil {
		if hold.Status != ledger.Pending {
			return ledger.Result{}, reject(fmt.Errorf("%w: %w: %s is %s", ErrConflict, ledger.ErrNotPending, hold.Key, hold.Status))
		}
		holdTx = &hold.Transaction
	}
	eff, err := ledger.Effects(tx, holdTx)
	if err != nil {
		return ledger.Result{}, reject(err)
	}
	if guards := tx.Guards(); len(guards) > 0 {
		before := make(map[ledger.Account]ledger.Balance, len(guards))
		for _, a := range guards {
			b, err := s.ledgerBalance(ctx, w, a)
			if err != nil {
				return ledger.Result{}, err
			}
			before[a] = b
		}
		if err := ledger.CheckFunds(tx, func(a ledger.Account) ledger.Balance { return before[a] }, eff); err != nil {
			return ledger.Result{}, reject(err)
		}
	}

	now := normTime(time.Now())
	var resolves any
	if hold != nil {
		to := ledger.Voided
		if tx.Kind == ledger.KindCapture {
			to = ledger.Posted
		}
		r, err := w.exec(ctx, `UPDATE ledger_transactions SET status = $1 WHERE id = $2 AND status = 'pending'`, string(to), hold.ID)
		if err != nil {
			return ledger.Result{}, err
		}
		if n, err := r.RowsAffected(); err != nil {
			return ledger.Result{}, err
		} else if n == 0 {
			// Resolved by another writer since we read it (nothing written yet).
			if res, ok, err := s.ledgerReplay(ctx, w, tx.Key, fp); err != nil || ok {
				return res, err
			}
			return ledger.Result{}, reject(fmt.Errorf("%w: %w: %s was resolved concurrently", ErrConflict, ledger.ErrNotPending, hold.Key))
		}
		resolves = hold.ID
	}
	var id int64
	err = w.queryRow(ctx, `INSERT INTO ledger_transactions (idempotency_key, kind, reference, status, resolves, fingerprint, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (idempotency_key) DO NOTHING RETURNING id`,
		tx.Key, string(tx.Kind), tx.Reference, string(tx.Status), resolves, fp, s.d.ts(now)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		if hold == nil { // nothing written yet: answer as the replay it is
			if res, ok, err := s.ledgerReplay(ctx, w, tx.Key, fp); err != nil || ok {
				return res, err
			}
		}
		return ledger.Result{}, errLedgerKeyRace
	}
	if err != nil {
		return ledger.Result{}, err
	}
	ids, err := s.applyLedgerEffects(ctx, w, eff, now)
	if err != nil {
		return ledger.Result{}, err
	}
	if len(tx.Entries) > 0 {
		rows := make([]any, 0, 3*len(tx.Entries))
		for _, e := range tx.Entries {
			rows = append(rows, id, ids[e.Account], e.Signed())
		}
		if err := s.insertRows(ctx, w, ledgerEntryTable, rows); err != nil {
			return ledger.Result{}, err
		}
	}
	out := tx
	out.ID, out.CreatedAt, out.Guard = id, now, nil
	return ledger.Result{Tx: out}, nil
}

// ledgerReplay returns the stored transaction under key as a replay if its
// fingerprint is fp, a rejection (ErrKeyReused) if it differs, and ok=false
// if the key is not stored.
func (s *Store) ledgerReplay(ctx context.Context, w *wtx, key string, fp []byte) (ledger.Result, bool, error) {
	prev, ok, err := s.ledgerTxByKey(ctx, w, key)
	if err != nil || !ok {
		return ledger.Result{}, false, err
	}
	if !bytes.Equal(prev.fp, fp) {
		return ledger.Result{}, true, reject(fmt.Errorf("%w: %w: %q", ErrConflict, ledger.ErrKeyReused, key))
	}
	return ledger.Result{Tx: prev.Transaction, Replayed: true}, true, nil
}

var ledgerEntryTable = &table{name: "ledger_entries", cols: []string{"tx_id", "account_id", "amount"}}

// applyLedgerEffects adds the effects (from ledger.Effects: sorted by
// account, one per account) to the accounts' sums, creating accounts on
// first use, and returns the accounts' ids.
//
// It takes two statements: an INSERT … ON CONFLICT DO NOTHING of the
// accounts with zero sums, then one UPDATE adding each account's signed
// changes. Both databases check CHECK constraints on an upsert's proposed
// row before ON CONFLICT applies, so an upsert carrying the changes would
// trip over a negative change (a resolved hold leaving pending) or a wallet
// debit on its own; the UPDATE's rows are checked as they end up.
func (s *Store) applyLedgerEffects(ctx context.Context, w *wtx, eff []ledger.Balance, now time.Time) (map[ledger.Account]int64, error) {
	create := make([]any, 0, 4*len(eff))
	change := make([]any, 0, 7*len(eff))
	for _, d := range eff {
		a := d.Account
		create = append(create, string(a.Kind), a.Owner, a.Currency, s.d.ts(now))
		change = append(change, string(a.Kind), a.Owner, a.Currency, d.DebitsPosted, d.CreditsPosted, d.DebitsPending, d.CreditsPending)
	}
	if _, err := w.exec(ctx, `INSERT INTO ledger_accounts (kind, owner, currency, created_at) VALUES `+s.d.valuesList(len(eff), 4)+`
		ON CONFLICT (kind, owner, currency) DO NOTHING`, create...); err != nil {
		return nil, fmt.Errorf("create ledger accounts: %w", err)
	}
	var vals string
	if s.d.sqlite() {
		vals = s.d.valuesList(len(eff), 7)
	} else { // VALUES columns need types in PostgreSQL
		vals = s.d.valuesList(len(eff), 7, "::text", "::text", "::text", "::bigint", "::bigint", "::bigint", "::bigint")
	}
	rows, err := w.QueryContext(ctx, `UPDATE ledger_accounts SET
			debits_posted = ledger_accounts.debits_posted + v.dp,
			credits_posted = ledger_accounts.credits_posted + v.cp,
			debits_pending = ledger_accounts.debits_pending + v.dq,
			credits_pending = ledger_accounts.credits_pending + v.cq
		FROM (SELECT column1 AS kind, column2 AS owner, column3 AS currency, column4 AS dp, column5 AS cp,
			column6 AS dq, column7 AS cq FROM (VALUES `+vals+`) AS x) AS v
		WHERE ledger_accounts.kind = v.kind AND ledger_accounts.owner = v.owner AND ledger_accounts.currency = v.currency
		RETURNING ledger_accounts.id, ledger_accounts.kind, ledger_accounts.owner, ledger_accounts.currency`, change...)
	if err != nil {
		return nil, fmt.Errorf("update ledger accounts: %w", err)
	}
	defer rows.Close()
	ids := make(map[ledger.Account]int64, len(eff))
	for rows.Next() {
		var (
			id   int64
			kind string
			a    ledger.Account
		)
		if err := rows.Scan(&id, &kind, &a.Owner, &a.Currency); err != nil {
			return nil, err
		}
		a.Kind = ledger.Kind(kind)
		ids[a] = id
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("update ledger accounts: %w", err)
	}
	if len(ids) != len(eff) {
		return nil, fmt.Errorf("update ledger accounts: %d of %d updated", len(ids), len(eff))
	}
	return ids, nil
}

// queryer is what the ledger's loaders need: the write transaction, or the
// read pool (readPool) or a read transaction.
type queryer interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

// readPool runs queries on the read pool with its prepared statements.
type readPool struct{ s *Store }

func (r readPool) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return r.s.query(ctx, q, args...)
}

// ledgerTxQuery selects transactions with their entries, one row per entry
// (one row with NULL entry columns for a transaction without entries);
// loadLedgerTxs groups them.
const ledgerTxQuery = `SELECT t.id, t.idempotency_key, t.kind, t.reference, t.status, coalesce(h.idempotency_key, ''),
		t.fingerprint, t.created_at, a.kind, a.owner, a.currency, e.amount
	FROM ledger_transactions t
	LEFT JOIN ledger_transactions h ON h.id = t.resolves
	LEFT JOIN ledger_entries e ON e.tx_id = t.id
	LEFT JOIN ledger_accounts a ON a.id = e.account_id`

func (s *Store) loadLedgerTxs(ctx context.Context, q queryer, where string, args ...any) ([]storedTx, error) {
	rows, err := q.QueryContext(ctx, ledgerTxQuery+" "+where+" ORDER BY t.id, e.id", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []storedTx
	for rows.Next() {
		var (
			t                  storedTx
			kind, status       string
			aKind, owner, curr sql.NullString
			amount             sql.NullInt64
		)
		if err := rows.Scan(&t.ID, &t.Key, &kind, &t.Reference, &status, &t.Resolves, &t.fp, tsCol(&t.CreatedAt),
			&aKind, &owner, &curr, &amount); err != nil {
			return nil, err
		}
		if n := len(out); n == 0 || out[n-1].ID != t.ID {
			t.Kind, t.Status = ledger.TxKind(kind), ledger.Status(status)
			out = append(out, t)
		}
		if amount.Valid {
			e := ledger.Entry{Account: ledger.Account{Kind: ledger.Kind(aKind.String), Owner: owner.String, Currency: curr.String},
				Side: ledger.Debit, Amount: amount.Int64}
			if e.Amount < 0 {
				e.Side, e.Amount = ledger.Credit, -e.Amount
			}
			last := &out[len(out)-1]
			last.Entries = append(last.Entries, e)
		}
	}
	return out, rows.Err()
}

// ledgerTxByKey reads the transaction stored under key.
func (s *Store) ledgerTxByKey(ctx context.Context, q queryer, key string) (storedTx, bool, error) {
	txs, err := s.loadLedgerTxs(ctx, q, `WHERE t.idempotency_key = $1`, key)
	if err != nil || len(txs) == 0 {
		return storedTx{}, false, err
	}
	return txs[0], true, nil
}

// LedgerTransaction returns the transaction stored under an idempotency
// key (a hold with its current status), or ErrNotFound.
func (s *Store) LedgerTransaction(ctx context.Context, key string) (ledger.Transaction, error) {
	t, ok, err := s.ledgerTxByKey(ctx, readPool{s}, key)
	if err != nil {
		return ledger.Transaction{}, wrap("ledger transaction", err)
	}
	if !ok {
		return ledger.Transaction{}, ErrNotFound
	}
	return t.Transaction, nil
}

// LedgerByReference returns the transactions with a reference (a session
// or payment id), oldest first.
func (s *Store) LedgerByReference(ctx context.Context, reference string) ([]ledger.Transaction, error) {
	txs, err := s.loadLedgerTxs(ctx, readPool{s}, `WHERE t.reference = $1`, reference)
	if err != nil {
		return nil, wrap("ledger by reference", err)
	}
	out := make([]ledger.Transaction, len(txs))
	for i, t := range txs {
		out[i] = t.Transaction
	}
	return out, nil
}

const ledgerBalanceCols = `kind, owner, currency, debits_posted, credits_posted, debits_pending, credits_pending`

func scanLedgerBalance(sc interface{ Scan(...any) error }) (ledger.Balance, error) {
	var (
		b    ledger.Balance
		kind string
	)
	err := sc.Scan(&kind, &b.Account.Owner, &b.Account.Currency, &b.DebitsPosted, &b.CreditsPosted, &b.DebitsPending, &b.CreditsPending)
	b.Account.Kind = ledger.Kind(kind)
	return b, err
}

// ledgerBalance reads an account's balance (zero if it does not exist).
func (s *Store) ledgerBalance(ctx context.Context, q queryer, a ledger.Account) (ledger.Balance, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+ledgerBalanceCols+` FROM ledger_accounts
		WHERE kind = $1 AND owner = $2 AND currency = $3`, string(a.Kind), a.Owner, a.Currency)
	if err != nil {
		return ledger.Balance{}, err
	}
	bs, err := collect(rows, scanLedgerBalance, "ledger balance")
	if err != nil || len(bs) == 0 {
		return ledger.Balance{Account: a}, err
	}
	return bs[0], nil
}

// LedgerBalance returns an account's balance: its posted and pending sums
// by side (ledger.Balance's Posted, Pending and Available interpret them).
// An account without entries has a zero balance.
func (s *Store) LedgerBalance(ctx context.Context, a ledger.Account) (ledger.Balance, error) {
	if err := a.Validate(); err != nil {
		return ledger.Balance{}, fmt.Errorf("store: ledger balance: %w", err)
	}
	b, err := s.ledgerBalance(ctx, readPool{s}, a)
	if err != nil {
		return ledger.Balance{}, wrap("ledger balance", err)
	}
	return b, nil
}

// LedgerAccountFilter selects accounts. Zero fields do not filter.
type LedgerAccountFilter struct {
	Kind     ledger.Kind
	Owner    string
	Currency string
	Limit    int // default 1000, max 10000
}

// LedgerBalances returns the balances of the accounts f selects, ordered
// by kind, owner and currency.
func (s *Store) LedgerBalances(ctx context.Context, f LedgerAccountFilter) ([]ledger.Balance, error) {
	rows, err := s.query(ctx, `SELECT `+ledgerBalanceCols+` FROM ledger_accounts
		WHERE ($1 = '' OR kind = $1) AND ($2 = '' OR owner = $2) AND ($3 = '' OR currency = $3)
		ORDER BY kind, owner, currency LIMIT $4`, string(f.Kind), f.Owner, f.Currency, clampLimit(f.Limit, 1000, 10000))
	if err != nil {
		return nil, wrap("ledger balances", err)
	}
	return collect(rows, scanLedgerBalance, "ledger balances")
}

// PostingFilter pages through an account's entries, newest first.
type PostingFilter struct {
	Before int64 // cursor: entries with EntryID < Before
	Limit  int   // default 100, max 1000
}

// LedgerPostings lists the entries of an account with their transactions,
// newest first.
func (s *Store) LedgerPostings(ctx context.Context, a ledger.Account, f PostingFilter) ([]ledger.Posting, error) {
	rows, err := s.query(ctx, `SELECT e.id, e.amount, t.id, t.idempotency_key, t.kind, t.reference, t.status, t.created_at
		FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.tx_id
		WHERE e.account_id = (SELECT id FROM ledger_accounts WHERE kind = $1 AND owner = $2 AND currency = $3)
			AND ($4 = 0 OR e.id < $4)
		ORDER BY e.id DESC LIMIT $5`, string(a.Kind), a.Owner, a.Currency, f.Before, clampLimit(f.Limit, 100, 1000))
	if err != nil {
		return nil, wrap("ledger postings", err)
	}
	return collect(rows, func(sc interface{ Scan(...any) error }) (ledger.Posting, error) {
		var (
			p            ledger.Posting
			kind, status string
		)
		err := sc.Scan(&p.EntryID, &p.Amount, &p.TxID, &p.Key, &kind, &p.Reference, &status, tsCol(&p.CreatedAt))
		p.Kind, p.Status, p.Account, p.Side = ledger.TxKind(kind), ledger.Status(status), a, ledger.Debit
		if p.Amount < 0 {
			p.Side, p.Amount = ledger.Credit, -p.Amount
		}
		return p, err
	}, "ledger postings")
}

// ledgerReadTx begins a read-only transaction: one snapshot for several
// queries (SQLite WAL readers see the commit they started at; PostgreSQL
// REPEATABLE READ).
func (s *Store) ledgerReadTx(ctx context.Context) (*sql.Tx, error) {
	opts := &sql.TxOptions{ReadOnly: true}
	if !s.d.sqlite() {
		opts.Isolation = sql.LevelRepeatableRead
	}
	return s.rdb.BeginTx(ctx, opts)
}

// ledgerSnapshot reads the whole ledger from one snapshot, for
// ledger.Check.
func (s *Store) ledgerSnapshot(ctx context.Context) ([]ledger.Transaction, []ledger.Balance, error) {
	rtx, err := s.ledgerReadTx(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer rtx.Rollback()
	stored, err := s.loadLedgerTxs(ctx, rtx, "")
	if err != nil {
		return nil, nil, err
	}
	txs := make([]ledger.Transaction, len(stored))
	for i, t := range stored {
		txs[i] = t.Transaction
	}
	rows, err := rtx.QueryContext(ctx, `SELECT `+ledgerBalanceCols+` FROM ledger_accounts ORDER BY kind, owner, currency`)
	if err != nil {
		return nil, nil, err
	}
	bals, err := collect(rows, scanLedgerBalance, "ledger snapshot")
	return txs, bals, err
}

// ledgerChecks are CheckLedger's queries: each returns the rows that break
// an invariant, described by the columns' values after the message.
var ledgerChecks = []struct{ what, q string }{
	{"transaction unbalanced (key, currency, debits − credits)", `
		SELECT t.idempotency_key, a.currency, CAST(SUM(e.amount) AS BIGINT)
		FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.tx_id JOIN ledger_accounts a ON a.id = e.account_id
		GROUP BY t.id, t.idempotency_key, a.currency HAVING SUM(e.amount) <> 0`},
	{"entries do not net to zero (currency, status, sum)", `
		SELECT a.currency, t.status, CAST(SUM(e.amount) AS BIGINT)
		FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.tx_id JOIN ledger_accounts a ON a.id = e.account_id
		GROUP BY a.currency, t.status HAVING SUM(e.amount) <> 0`},
	{"bad kind, status or resolution (key, kind, status)", `
		SELECT idempotency_key, kind, status FROM ledger_transactions
		WHERE kind NOT IN ('hold', 'capture', 'void', 'refund', 'payout', 'fee', 'wallet_topup', 'adjustment')
			OR status NOT IN ('pending', 'posted', 'voided') OR (status <> 'posted' AND kind <> 'hold')
			OR (resolves IS NULL) <> (kind NOT IN ('capture', 'void'))`},
	{"hold state disagrees with its resolution (key, status, resolved by)", `
		SELECT h.idempotency_key, h.status, coalesce(r.kind, '') FROM ledger_transactions h
		LEFT JOIN ledger_transactions r ON r.resolves = h.id
		WHERE h.kind = 'hold' AND NOT ((h.status = 'pending' AND r.id IS NULL)
			OR (h.status = 'posted' AND coalesce(r.kind, '') = 'capture')
			OR (h.status = 'voided' AND coalesce(r.kind, '') = 'void'))`},
	{"resolves something that is not a hold (key, kind, resolved kind)", `
		SELECT r.idempotency_key, r.kind, h.kind FROM ledger_transactions r
		JOIN ledger_transactions h ON h.id = r.resolves WHERE h.kind <> 'hold'`},
	{"hold is not one funding debit and one in-flight credit (key, entries)", `
		SELECT t.idempotency_key, count(e.id) FROM ledger_transactions t
		LEFT JOIN ledger_entries e ON e.tx_id = t.id LEFT JOIN ledger_accounts a ON a.id = e.account_id
		WHERE t.kind = 'hold' GROUP BY t.id, t.idempotency_key
		HAVING count(e.id) <> 2
			OR SUM(CASE WHEN a.kind = 'in_flight' AND e.amount < 0 THEN 1 ELSE 0 END) <> 1
			OR SUM(CASE WHEN a.kind IN ('provider_clearing', 'operator_merchant', 'wallet') AND e.amount > 0 THEN 1 ELSE 0 END) <> 1`},
	{"entry not allowed in its transaction (key, kind, account kind)", `
		SELECT t.idempotency_key, t.kind, a.kind
		FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.tx_id JOIN ledger_accounts a ON a.id = e.account_id
		WHERE (a.kind = 'in_flight' AND t.kind NOT IN ('hold', 'capture')) OR t.kind = 'void'`},
	{"bad account (kind, owner, currency)", `
		SELECT kind, owner, currency FROM ledger_accounts
		WHERE kind NOT IN ('in_flight', 'provider_clearing', 'operator_merchant', 'operator_payable', 'tax_payable',
				'platform_fees', 'provider_fees', 'refunds', 'wallet')
			OR (kind IN ('platform_fees', 'refunds')) <> (owner = '')`},
	{"account sums differ from its entries (kind, owner, currency, stored Dr/Cr posted, Dr/Cr pending, entries Dr/Cr posted, Dr/Cr pending)", `
		SELECT a.kind, a.owner, a.currency, a.debits_posted, a.credits_posted, a.debits_pending, a.credits_pending,
			coalesce(x.dp, 0), coalesce(x.cp, 0), coalesce(x.dq, 0), coalesce(x.cq, 0)
		FROM ledger_accounts a LEFT JOIN (
			SELECT e.account_id,
				CAST(SUM(CASE WHEN t.status = 'posted' AND e.amount > 0 THEN e.amount ELSE 0 END) AS BIGINT) AS dp,
				CAST(SUM(CASE WHEN t.status = 'posted' AND e.amount < 0 THEN -e.amount ELSE 0 END) AS BIGINT) AS cp,
				CAST(SUM(CASE WHEN t.status = 'pending' AND e.amount > 0 THEN e.amount ELSE 0 END) AS BIGINT) AS dq,
				CAST(SUM(CASE WHEN t.status = 'pending' AND e.amount < 0 THEN -e.amount ELSE 0 END) AS BIGINT) AS cq
			FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.tx_id GROUP BY e.account_id) x ON x.account_id = a.id
		WHERE a.debits_posted <> coalesce(x.dp, 0) OR a.credits_posted <> coalesce(x.cp, 0)
			OR a.debits_pending <> coalesce(x.dq, 0) OR a.credits_pending <> coalesce(x.cq, 0)`},
	{"money resting in flight (owner, currency, posted debits, posted credits)", `
		SELECT owner, currency, debits_posted, credits_posted FROM ledger_accounts
		WHERE kind = 'in_flight' AND debits_posted <> credits_posted`},
	{"wallet overdrawn (owner, currency, available)", `
		SELECT owner, currency, credits_posted - debits_posted - debits_pending FROM ledger_accounts
		WHERE kind = 'wallet' AND credits_posted - debits_posted - debits_pending < 0`},
}

// CheckLedger verifies the ledger's invariants (see internal/ledger) with
// aggregate queries over one snapshot, so it scales with the database, not
// with memory: every transaction balances per currency; posted and pending
// entries each net to zero per currency; only holds are pending or voided
// and each resolved hold has exactly one capture or void; holds are one
// funding debit and one in-flight credit; in-flight accounts are touched
// only by holds and captures and hold nothing posted; wallets are not
// overdrawn; every account's stored sums equal its entries. It returns nil,
// a *ledger.InvariantError listing violations, or a database error.
func (s *Store) CheckLedger(ctx context.Context) error {
	rtx, err := s.ledgerReadTx(ctx)
	if err != nil {
		return wrap("check ledger", err)
	}
	defer rtx.Rollback()
	var violations []string
	for _, c := range ledgerChecks {
		rows, err := rtx.QueryContext(ctx, c.q+" LIMIT 20")
		if err != nil {
			return wrap("check ledger", fmt.Errorf("%s: %w", c.what, err))
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return wrap("check ledger", err)
			}
			parts := make([]string, len(vals))
			for i, v := range vals {
				if b, ok := v.([]byte); ok {
					v = string(b)
				}
				parts[i] = fmt.Sprint(v)
			}
			violations = append(violations, c.what+": "+strings.Join(parts, ", "))
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return wrap("check ledger", err)
		}
	}
	if len(violations) > 0 {
		return &ledger.InvariantError{Violations: violations}
	}
	return nil
}
