package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/chargestar/chargestar/internal/model"
)

// Group commit.
//
// Every write goes through one committer goroutine per store (commitLoop).
// A caller wraps its write in an op, enqueues it and blocks until the
// transaction holding it has committed or failed. The committer takes what
// is queued (up to BatchMaxSize ops, lingering up to BatchMaxDelay while
// more keep arriving), runs it all in ONE transaction and commits once, so
// one fsync (SQLite) or one WAL flush (PostgreSQL) serves many callers.
//
// Append-only rows (meter values, and the best-effort message log, which has
// its own non-blocking queue) are collected and written with multi-row
// INSERTs. Consecutive meter-value ops are coalesced, but they are flushed
// before any other op runs, so every op sees the effects of the ops queued
// before it, exactly as if each had its own transaction.
//
// If a batch fails it is rolled back and each op is re-run in its own
// transaction, so one bad op fails only its caller. An op must therefore be
// pure database work that can run more than once: it computes its results
// afresh on every run and has no side effects outside the transaction.
//
// An op reports an expected outcome that is not a database failure (not
// found, conflict) with reject(err): the caller gets err and the batch goes
// on. An op may reject only before it has written anything.

// batchTimeout bounds one transaction of the committer, so that a hung
// database connection cannot stall the store forever.
const batchTimeout = 30 * time.Second

// maxRowsPerInsert bounds the rows of one multi-row INSERT (besides the
// dialect's bind-parameter limit). Row counts are split into powers of two
// (22 rows: 16 + 4 + 2), so that a handful of statement texts serve every
// batch and stay prepared.
const maxRowsPerInsert = 256

// op is one queued write.
type op struct {
	ctx  context.Context
	run  func(ctx context.Context, w *wtx) error // nil for a pure append
	rows []any                                   // meter-value rows to append (meterValueCols each)
	te   []any                                   // transaction-event rows to append (transactionEventTable)
	done chan error
}

// rejection carries an op's expected failure (see reject).
type rejection struct{ err error }

func (r *rejection) Error() string { return r.err.Error() }
func (r *rejection) Unwrap() error { return r.err }

// reject wraps an expected outcome (ErrNotFound, ErrConflict, a validation
// error) that must not fail the rest of the batch. Only valid before the op
// has written anything.
func reject(err error) error { return &rejection{err} }

// wtx is the write transaction an op runs in.
type wtx struct {
	s  *Store
	tx *sql.Tx
	mv []any // meter-value rows not yet inserted
	te []any // transaction-event rows not yet inserted
}

// ExecContext, QueryContext and QueryRowContext make wtx a dbtx; on SQLite
// they use the committer's prepared statements (see wstmt).
func (w *wtx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if st := w.s.wstmt(q); st != nil {
		return w.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return w.tx.ExecContext(ctx, q, args...)
}

func (w *wtx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := w.s.wstmt(q); st != nil {
		return w.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return w.tx.QueryContext(ctx, q, args...)
}

func (w *wtx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	if st := w.s.wstmt(q); st != nil {
		return w.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return w.tx.QueryRowContext(ctx, q, args...)
}

func (w *wtx) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return w.ExecContext(ctx, q, args...)
}

func (w *wtx) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return w.QueryRowContext(ctx, q, args...)
}

// maxCachedStmts bounds each prepared-statement cache.
const maxCachedStmts = 256

// wstmt returns the committer's prepared statement for q (SQLite only), or
// nil: then q runs unprepared and is queued for preparing after the
// transaction. modernc's SQLite has no statement cache and parsing is a
// large share of a small write; statements are prepared outside any
// transaction because the write pool's only connection is busy inside one
// (Tx.StmtContext then reuses them on that connection). PostgreSQL needs no
// such cache: pgx prepares and caches statements per connection.
func (s *Store) wstmt(q string) *sql.Stmt {
	if !s.d.sqlite() {
		return nil
	}
	if st, ok := s.wstmts[q]; ok {
		return st
	}
	if len(s.wstmts)+len(s.wpending) < maxCachedStmts {
		if s.wpending == nil {
			s.wpending = make(map[string]bool)
		}
		s.wpending[q] = true
	}
	return nil
}

// prepareWStmts prepares the statements wstmt queued (committer, outside
// transactions).
func (s *Store) prepareWStmts() {
	if len(s.wpending) == 0 {
		return
	}
	if s.wstmts == nil {
		s.wstmts = make(map[string]*sql.Stmt)
	}
	ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
	defer cancel()
	for q := range s.wpending {
		st, err := s.wdb.PrepareContext(ctx, q)
		if err != nil { // e.g. the schema is not migrated yet: try again later
			s.log.Debug("store: statement not prepared", "err", err)
			continue
		}
		s.wstmts[q] = st
	}
	clear(s.wpending)
}

// flush inserts the pending meter-value rows.
func (w *wtx) flush(ctx context.Context) error {
	if len(w.te) > 0 {
		err := w.s.insertRows(ctx, w, transactionEventTable, w.te)
		clear(w.te)
		w.te = w.te[:0]
		if err != nil {
			return err
		}
	}
	if len(w.mv) == 0 {
		return nil
	}
	err := w.s.insertRows(ctx, w, meterValueTable, w.mv)
	clear(w.mv)
	w.mv = w.mv[:0]
	return err
}

// submit enqueues o and waits for its transaction. If ctx ends first it
// returns ctx.Err(); the write may still commit (every write of the OCPP
// hot path is idempotent, so the caller can safely repeat it).
func (s *Store) submit(ctx context.Context, o *op) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	o.ctx = ctx
	o.done = make(chan error, 1)
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return ErrClosed
	}
	select {
	case s.ops <- o:
	case <-ctx.Done():
		s.mu.RUnlock()
		return ctx.Err()
	}
	s.mu.RUnlock()
	s.submitted.Add(1)
	select {
	case err := <-o.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// write submits fn as an op.
func (s *Store) write(ctx context.Context, fn func(ctx context.Context, w *wtx) error) error {
	return s.submit(ctx, &op{run: fn})
}

// LogMessages queues message-log entries for the committer. It never
// blocks: when the queue is full (or the store is closing) entries are
// dropped and counted in DroppedLogMessages.
func (s *Store) LogMessages(entries ...model.MessageLogEntry) {
	if len(entries) == 0 {
		return
	}
	if !s.mu.TryRLock() { // only Close takes the write lock
		s.dropped.Add(int64(len(entries)))
		return
	}
	defer s.mu.RUnlock()
	if s.closed {
		s.dropped.Add(int64(len(entries)))
		return
	}
	now := time.Now()
	for i, e := range entries {
		if e.At.IsZero() {
			e.At = now
		}
		select {
		case s.logq <- e:
		default:
			s.dropped.Add(int64(len(entries) - i))
			return
		}
	}
}

// commitLoop is the committer goroutine. It is started by Open and ends
// when Close closes s.stop, after committing everything queued.
func (s *Store) commitLoop() {
	defer close(s.done)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var batch []*op
	var logs []model.MessageLogEntry
	w := &wtx{s: s}
	for {
		batch, logs = batch[:0], logs[:0]
		select {
		case o := <-s.ops:
			batch = append(batch, o)
		case e := <-s.logq:
			logs = append(logs, e)
		case <-s.stop:
			s.drain(w)
			return
		}
		batch, logs = s.gather(batch, logs, timer)
		s.runBatch(w, batch, logs)
		clear(batch)
		clear(logs)
	}
}

func (s *Store) maxLogsPerBatch() int { return 4 * s.opts.BatchMaxSize }

// gather adds to a started batch whatever is queued and, unless the batch is
// full or gathering is disabled, what callers queue while it lingers.
func (s *Store) gather(batch []*op, logs []model.MessageLogEntry, timer *time.Timer) ([]*op, []model.MessageLogEntry) {
	batch, logs = s.takeQueued(batch, logs)
	if s.opts.BatchMaxDelay <= 0 || len(batch) >= s.opts.BatchMaxSize {
		return batch, logs
	}
	if s.opts.gatherTimer {
		return s.gatherTimer(batch, logs, timer)
	}
	// Linger while the queue grows: yield so that callers just released by
	// the previous commit can queue their next write, take what came, and
	// stop at the first round that brought nothing (or at BatchMaxDelay).
	deadline := time.Now().Add(s.opts.BatchMaxDelay)
	for len(batch) < s.opts.BatchMaxSize && time.Now().Before(deadline) {
		n := len(batch) + len(logs)
		runtime.Gosched()
		batch, logs = s.takeQueued(batch, logs)
		if len(batch)+len(logs) == n {
			break
		}
	}
	return batch, logs
}

// gatherTimer waits the whole BatchMaxDelay for more writes (unless the
// batch fills up).
func (s *Store) gatherTimer(batch []*op, logs []model.MessageLogEntry, timer *time.Timer) ([]*op, []model.MessageLogEntry) {
	timer.Reset(s.opts.BatchMaxDelay)
	defer timer.Stop()
	for len(batch) < s.opts.BatchMaxSize {
		lq := s.logq
		if len(logs) >= s.maxLogsPerBatch() {
			lq = nil
		}
		select {
		case o := <-s.ops:
			batch = append(batch, o)
		case e := <-lq:
			logs = append(logs, e)
		case <-timer.C:
			return batch, logs
		case <-s.stop:
			return batch, logs
		}
	}
	return batch, logs
}

// takeQueued moves what is queued now into the batch, without waiting.
func (s *Store) takeQueued(batch []*op, logs []model.MessageLogEntry) ([]*op, []model.MessageLogEntry) {
ops:
	for len(batch) < s.opts.BatchMaxSize {
		select {
		case o := <-s.ops:
			batch = append(batch, o)
		default:
			break ops
		}
	}
	for len(logs) < s.maxLogsPerBatch() {
		select {
		case e := <-s.logq:
			logs = append(logs, e)
		default:
			return batch, logs
		}
	}
	return batch, logs
}

// drain commits everything still queued; called once no op can be added.
func (s *Store) drain(w *wtx) {
	for {
		batch, logs := s.takeQueued(nil, nil)
		if len(batch) == 0 && len(logs) == 0 {
			return
		}
		s.runBatch(w, batch, logs)
	}
}

// runBatch commits batch and logs in one transaction, or, if that fails,
// each op in a transaction of its own.
func (s *Store) runBatch(w *wtx, batch []*op, logs []model.MessageLogEntry) {
	live := batch[:0]
	for _, o := range batch {
		if err := o.ctx.Err(); err != nil {
			o.done <- err // the caller gave up before the write started
			continue
		}
		live = append(live, o)
	}
	if len(live) == 0 && len(logs) == 0 {
		return
	}
	s.batches.Add(1)
	s.batchedOps.Add(int64(len(live)))
	defer s.prepareWStmts()
	results := make([]error, len(live))
	began := time.Now()
	err := s.inTx(w, func(ctx context.Context) error {
		for i, o := range live {
			if err := s.apply(ctx, w, o); err != nil {
				var rj *rejection
				if errors.As(err, &rj) {
					results[i] = rj.err
					continue
				}
				return err
			}
		}
		if err := w.flush(ctx); err != nil {
			return err
		}
		return s.insertLogs(ctx, w, logs)
	})
	if f := s.opts.OnBatch; f != nil {
		f(len(live), len(logs), time.Since(began), err)
	}
	if err == nil {
		s.loggedMessages.Add(int64(len(logs)))
		for i, o := range live {
			o.done <- results[i]
		}
		return
	}
	s.failedBatches.Add(1)
	if len(live)+min(len(logs), 1) > 1 {
		s.log.Warn("store: batch failed, retrying its writes one by one", "ops", len(live), "log_entries", len(logs), "err", err)
	}
	for _, o := range live {
		var res error
		err := s.inTx(w, func(ctx context.Context) error {
			res = nil
			if err := s.apply(ctx, w, o); err != nil {
				var rj *rejection
				if errors.As(err, &rj) {
					res = rj.err
					return nil
				}
				return err
			}
			return w.flush(ctx)
		})
		if err != nil {
			res = err
		}
		o.done <- res
	}
	if len(logs) > 0 {
		if err := s.inTx(w, func(ctx context.Context) error { return s.insertLogs(ctx, w, logs) }); err != nil {
			s.dropped.Add(int64(len(logs)))
			s.log.Warn("store: message log entries dropped", "count", len(logs), "err", err)
		} else {
			s.loggedMessages.Add(int64(len(logs)))
		}
	}
}

// apply runs one op inside the batch transaction.
func (s *Store) apply(ctx context.Context, w *wtx, o *op) (err error) {
	if o.run == nil {
		w.mv = append(w.mv, o.rows...)
		w.te = append(w.te, o.te...)
		return nil
	}
	if err := w.flush(ctx); err != nil {
		return err
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("store: write panicked: %v", p)
		}
	}()
	return o.run(ctx, w)
}

// inTx runs fn in a write transaction on w and commits it.
func (s *Store) inTx(w *wtx, fn func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
	defer cancel()
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	w.tx = tx
	clear(w.mv)
	w.mv = w.mv[:0]
	clear(w.te)
	w.te = w.te[:0]
	defer func() { w.tx = nil }()
	if err := fn(ctx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// table describes a table for multi-row INSERTs.
type table struct {
	name string
	cols []string
	// onConflict, if set, is appended to every INSERT (an upsert clause).
	onConflict string
}

// insertRows inserts rows (len(t.cols) values each, flattened) with
// multi-row INSERT statements of power-of-two row counts.
func (s *Store) insertRows(ctx context.Context, tx dbtx, t *table, args []any) error {
	nc := len(t.cols)
	limit := min(s.d.maxParams/nc, maxRowsPerInsert)
	for len(args) > 0 {
		n := pow2Chunk(len(args)/nc, limit)
		if _, err := tx.ExecContext(ctx, s.insertSQL(t, n), args[:n*nc]...); err != nil {
			return fmt.Errorf("store: insert into %s: %w", t.name, err)
		}
		args = args[n*nc:]
	}
	return nil
}

// pow2Chunk is the largest power of two ≤ min(n, limit) (n, limit ≥ 1).
// Splitting variable-size bulk statements into power-of-two chunks keeps the
// number of distinct statement texts small, so they stay prepared.
func pow2Chunk(n, limit int) int {
	c := 1
	for c*2 <= min(n, limit) {
		c *= 2
	}
	return c
}

type stmtKey struct {
	t *table
	n int
}

// insertSQL returns INSERT INTO t (cols) VALUES (…), … for n rows.
func (s *Store) insertSQL(t *table, n int) string {
	if q, ok := s.stmtText.Load(stmtKey{t, n}); ok {
		return q.(string)
	}
	q := "INSERT INTO " + t.name + " (" + strings.Join(t.cols, ", ") + ") VALUES " + s.d.valuesList(n, len(t.cols))
	if t.onConflict != "" {
		q += " " + t.onConflict
	}
	s.stmtText.Store(stmtKey{t, n}, q)
	return q
}
