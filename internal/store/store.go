// Package store persists Charge Star's data in embedded SQLite (the default)
// or PostgreSQL through one database/sql implementation. Writes on the OCPP
// hot path go through a group committer (see commit.go and README.md).
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chargestar/chargestar/internal/model"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationsFS embed.FS

// Defaults of Options.
const (
	DefaultBatchMaxDelay   = 2 * time.Millisecond
	DefaultBatchMaxSize    = 1000
	DefaultMessageLogQueue = 10000
)

// Options configures Open.
type Options struct {
	// Logger receives the store's warnings and migration progress; nil
	// discards them.
	Logger *slog.Logger
	// Migrate applies pending migrations on Open.
	Migrate bool
	// BatchMaxDelay bounds how long the committer, after taking the first
	// queued write of a batch, keeps gathering more (only while fewer than
	// BatchMaxSize are queued). It does not sleep: it yields to let callers
	// queue and stops at the first round that brought nothing, so an idle
	// store adds no latency (see README.md). 0 selects
	// DefaultBatchMaxDelay; negative: no gathering, each batch is what is
	// queued when the committer becomes free.
	BatchMaxDelay time.Duration
	// BatchMaxSize bounds the writes committed in one transaction
	// (0: DefaultBatchMaxSize).
	BatchMaxSize int
	// MessageLogQueue bounds the message-log entries waiting to be written;
	// beyond it LogMessages drops (0: DefaultMessageLogQueue).
	MessageLogQueue int
	// SQLiteSynchronous is SQLite's PRAGMA synchronous for the write
	// connection: "FULL" (default: a committed write survives power loss) or
	// "NORMAL" (WAL stays consistent, but the last commits may be lost on
	// power loss). Ignored for PostgreSQL.
	SQLiteSynchronous string
	// OnBatch, if set, is called after every committed or failed batch
	// with its number of writes and message-log rows and how long the
	// transaction took (metrics).
	OnBatch func(writes, logRows int, took time.Duration, err error)

	// gatherTimer makes the committer wait the whole BatchMaxDelay (unless
	// the batch fills): tests use it to hold writes in a batch; measured, it
	// only adds latency.
	gatherTimer bool
}

// Store is the database. Its methods are safe for concurrent use.
type Store struct {
	d    *dialect
	log  *slog.Logger
	opts Options

	wdb    *sql.DB // writes: SQLite's single connection, or the PostgreSQL pool
	rdb    *sql.DB // reads: SQLite's read pool, or the same PostgreSQL pool
	cdb    *sql.DB // SQLite: the checkpointer's connection (nil for PostgreSQL)
	ckDone chan struct{}

	pgLockID int64 // advisory lock for migrations (PostgreSQL)

	ops     chan *op
	logq    chan model.MessageLogEntry
	dropped atomic.Int64

	// committer counters (see Stats)
	submitted, batches, batchedOps, failedBatches, loggedMessages atomic.Int64

	mu     sync.RWMutex // guards closed against submitters
	closed bool

	stop      chan struct{} // closed by Close: committer drains and exits
	done      chan struct{} // closed by the committer on exit
	closeOnce sync.Once
	closeErr  error

	stmtText sync.Map // multi-row INSERT texts by table and row count

	// SQLite prepared statements: the committer's (committer only) and the
	// read pool's (string → *sql.Stmt).
	wstmts   map[string]*sql.Stmt
	wpending map[string]bool
	rstmts   sync.Map
	nrstmts  atomic.Int64
}

// Open connects to dsn, which is "sqlite:PATH" (the parent directory is
// created) or "postgres://…" / "postgresql://…", and starts the committer.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.BatchMaxDelay == 0 {
		opts.BatchMaxDelay = DefaultBatchMaxDelay
	}
	if opts.BatchMaxSize <= 0 {
		opts.BatchMaxSize = DefaultBatchMaxSize
	}
	if opts.MessageLogQueue <= 0 {
		opts.MessageLogQueue = DefaultMessageLogQueue
	}
	s := &Store{
		log:  opts.Logger,
		opts: opts,
		ops:  make(chan *op, opts.BatchMaxSize),
		logq: make(chan model.MessageLogEntry, opts.MessageLogQueue),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	var err error
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		s.d = dialectSQLite
		err = s.openSQLite(ctx, strings.TrimPrefix(dsn, "sqlite:"))
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		s.d = dialectPostgres
		err = s.openPostgres(ctx, dsn)
	default:
		return nil, fmt.Errorf("store: unsupported DSN %q: want sqlite:PATH, postgres://… or postgresql://…", redactDSN(dsn))
	}
	if err != nil {
		return nil, err
	}
	if opts.Migrate {
		if err := s.Migrate(ctx); err != nil {
			s.closeDBs()
			return nil, err
		}
	}
	go s.commitLoop()
	if s.cdb != nil {
		s.ckDone = make(chan struct{})
		go s.checkpointLoop()
	}
	return s, nil
}

func (s *Store) openSQLite(ctx context.Context, path string) error {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return fmt.Errorf("store: sqlite DSN needs a file path: sqlite:PATH")
	}
	if strings.ContainsAny(path, "?#") {
		return fmt.Errorf("store: sqlite path %q must not contain '?' or '#'", path)
	}
	sync := strings.ToUpper(s.opts.SQLiteSynchronous)
	switch sync {
	case "":
		sync = "FULL"
	case "FULL", "NORMAL", "EXTRA":
	default:
		return fmt.Errorf("store: SQLiteSynchronous %q: want FULL or NORMAL", s.opts.SQLiteSynchronous)
	}
	path = filepath.Clean(path)
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return fmt.Errorf("store: create database directory: %w", err)
	}
	// mmap lets reads of the database file skip a system call per page;
	// the writer's larger page cache keeps the hot index pages (meter values
	// by session and station) in memory, which profiling showed dominating
	// ingest when they were re-read from the file.
	common := "_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=mmap_size(1073741824)"
	// One connection for all writes: SQLite has one writer anyway, and the
	// committer is its only user. BEGIN IMMEDIATE takes the write lock up
	// front, so a transaction never fails upgrading a read lock.
	w, err := sql.Open("sqlite", path+"?"+common+"&_pragma=journal_mode(WAL)&_pragma=synchronous("+sync+")&_pragma=temp_store(MEMORY)&_pragma=cache_size(-65536)&_pragma=wal_autocheckpoint(0)&_txlock=immediate")
	if err != nil {
		return fmt.Errorf("store: open sqlite: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	// Connect now so that the file is in WAL mode before readers open it.
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	// Readers: a pool of query-only connections; WAL readers see the last
	// commit and neither block nor are blocked by the writer.
	r, err := sql.Open("sqlite", path+"?"+common+"&_pragma=query_only(1)&_pragma=cache_size(-16384)")
	if err != nil {
		w.Close()
		return fmt.Errorf("store: open sqlite: %w", err)
	}
	n := max(4, 2*runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	r.SetConnMaxIdleTime(5 * time.Minute)
	// Checkpoints (copying the WAL back into the database file) run on a
	// connection of their own, off the committer's path: in the commit path
	// they made every ~1000th commit slow, the tail of ingest latency; in
	// the background one checkpoint also writes each page once however many
	// commits changed it.
	c, err := sql.Open("sqlite", path+"?"+common)
	if err != nil {
		w.Close()
		r.Close()
		return fmt.Errorf("store: open sqlite: %w", err)
	}
	c.SetMaxOpenConns(1)
	c.SetMaxIdleConns(1)
	c.SetConnMaxIdleTime(0)
	s.wdb, s.rdb, s.cdb = w, r, c
	return nil
}

// checkpointInterval is how often the SQLite WAL is checkpointed.
const checkpointInterval = time.Second

// checkpointLoop checkpoints the SQLite WAL until Close. PASSIVE neither
// waits for nor blocks the writer and readers.
func (s *Store) checkpointLoop() {
	defer close(s.ckDone)
	t := time.NewTicker(checkpointInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			if _, err := s.cdb.Exec(`PRAGMA wal_checkpoint(PASSIVE)`); err != nil {
				s.log.Warn("store: WAL checkpoint failed", "err", err)
			}
		}
	}
}

func (s *Store) openPostgres(ctx context.Context, dsn string) error {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return fmt.Errorf("store: parse postgres DSN: %w", err)
	}
	db := stdlib.OpenDB(*cfg)
	n := max(8, 4*runtime.GOMAXPROCS(0))
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	db.SetConnMaxIdleTime(5 * time.Minute)
	db.SetConnMaxLifetime(time.Hour)
	// Migrations hold an advisory lock so that several instances starting at
	// once migrate one at a time; the id depends on the schema so that
	// separate schemas (tests) do not wait for each other.
	var schema string
	if err := db.QueryRowContext(ctx, `SELECT coalesce(current_schema(), '')`).Scan(&schema); err != nil {
		db.Close()
		return fmt.Errorf("store: connect postgres: %w", err)
	}
	h := fnv.New64a()
	h.Write([]byte("chargestar-migrations:" + schema))
	s.pgLockID = int64(h.Sum64() >> 1)
	s.wdb, s.rdb = db, db
	return nil
}

// Migrate applies every pending migration.
func (s *Store) Migrate(ctx context.Context) error {
	p, err := s.migrations()
	if err != nil {
		return err
	}
	res, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	for _, r := range res {
		s.log.Info("store: applied migration", "version", r.Source.Version, "duration", r.Duration)
	}
	return nil
}

// migrations returns a goose provider of the embedded migrations on the
// write database.
func (s *Store) migrations() (*goose.Provider, error) {
	sub, err := fs.Sub(migrationsFS, "migrations/"+s.d.name)
	if err != nil {
		return nil, err
	}
	gd := goose.DialectSQLite3
	popts := []goose.ProviderOption{
		goose.WithDisableGlobalRegistry(true),
		goose.WithSlog(s.log),
	}
	if !s.d.sqlite() {
		gd = goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(s.pgLockID), lock.WithLockTimeout(1, 300))
		if err != nil {
			return nil, err
		}
		popts = append(popts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(gd, s.wdb, sub, popts...)
	if err != nil {
		return nil, fmt.Errorf("store: migrations: %w", err)
	}
	return p, nil
}

// rstmt returns a prepared statement for the read query q (SQLite only;
// see wstmt), or nil.
func (s *Store) rstmt(ctx context.Context, q string) *sql.Stmt {
	if !s.d.sqlite() {
		return nil
	}
	if v, ok := s.rstmts.Load(q); ok {
		return v.(*sql.Stmt)
	}
	if s.nrstmts.Load() >= maxCachedStmts {
		return nil
	}
	st, err := s.rdb.PrepareContext(ctx, q)
	if err != nil {
		return nil
	}
	if v, loaded := s.rstmts.LoadOrStore(q, st); loaded {
		st.Close()
		return v.(*sql.Stmt)
	}
	s.nrstmts.Add(1)
	return st
}

// query and queryRow run read queries on the read pool.
func (s *Store) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := s.rstmt(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return s.rdb.QueryContext(ctx, q, args...)
}

func (s *Store) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	if st := s.rstmt(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return s.rdb.QueryRowContext(ctx, q, args...)
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.rdb.PingContext(ctx); err != nil {
		return err
	}
	if s.wdb != s.rdb {
		return s.wdb.PingContext(ctx)
	}
	return nil
}

// Dialect is "sqlite" or "postgres".
func (s *Store) Dialect() string { return s.d.name }

// DroppedLogMessages counts message-log entries dropped because the queue
// was full, the store was closing, or writing them failed.
func (s *Store) DroppedLogMessages() int64 { return s.dropped.Load() }

// Stats are the committer's counters since Open.
type Stats struct {
	Submitted          int64 // writes accepted into the queue
	Batches            int64 // batch transactions attempted
	BatchedOps         int64 // writes in those batches (BatchedOps/Batches = mean batch size)
	FailedBatches      int64 // batches rolled back and re-run write by write
	LoggedMessages     int64 // message-log entries written
	DroppedLogMessages int64 // message-log entries dropped
}

// Stats returns the committer's counters.
func (s *Store) Stats() Stats {
	return Stats{
		Submitted:          s.submitted.Load(),
		Batches:            s.batches.Load(),
		BatchedOps:         s.batchedOps.Load(),
		FailedBatches:      s.failedBatches.Load(),
		LoggedMessages:     s.loggedMessages.Load(),
		DroppedLogMessages: s.dropped.Load(),
	}
}

// Close stops accepting writes (they fail with ErrClosed), commits everything
// already queued, waits for the committer and closes the databases. It is
// safe to call more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		close(s.stop)
		<-s.done
		if s.cdb != nil {
			<-s.ckDone
			// Leave a self-contained database file behind.
			if _, err := s.cdb.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
				s.log.Warn("store: final WAL checkpoint failed", "err", err)
			}
		}
		s.closeErr = s.closeDBs()
	})
	return s.closeErr
}

func (s *Store) closeDBs() error {
	var errs []error
	for _, st := range s.wstmts {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	s.rstmts.Range(func(_, v any) bool {
		errs = append(errs, v.(*sql.Stmt).Close())
		return true
	})
	if s.rdb != nil && s.rdb != s.wdb {
		errs = append(errs, s.rdb.Close())
	}
	if s.wdb != nil {
		errs = append(errs, s.wdb.Close())
	}
	if s.cdb != nil {
		errs = append(errs, s.cdb.Close())
	}
	return errors.Join(errs...)
}

// redactDSN hides a password in a DSN echoed in an error.
func redactDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return dsn
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
