package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chargestar/chargestar/internal/model"
	"github.com/chargestar/chargestar/internal/testutil"
	_ "github.com/jackc/pgx/v5/stdlib" // "pgx" driver for the schema admin connection
)

// PostgresURLEnv names the variable holding the PostgreSQL URL the tests
// and benchmarks use; unset, the PostgreSQL half skips (fails when
// CHARGESTAR_TEST_STRICT=1).
const PostgresURLEnv = "CHARGESTAR_TEST_POSTGRES_URL"

var backendNames = []string{"sqlite", "postgres"}

// harness is one fresh database: a SQLite file in a temporary directory, or
// a PostgreSQL schema of its own, dropped at the end of the test.
type harness struct {
	tb      testing.TB
	backend string
	dsn     string
}

func newHarness(tb testing.TB, backend string) *harness {
	tb.Helper()
	h := &harness{tb: tb, backend: backend}
	switch backend {
	case "sqlite":
		// a directory that does not exist yet: Open creates it
		h.dsn = "sqlite:" + filepath.Join(tb.TempDir(), "data", "chargestar.db")
	case "postgres":
		base := os.Getenv(PostgresURLEnv)
		if base == "" {
			testutil.SkipOrFail(tb, PostgresURLEnv+" is not set")
		}
		h.dsn = freshSchema(tb, base)
	}
	return h
}

// freshSchema creates a randomly named schema and returns base with its
// search_path pointing there; the schema is dropped when the test ends.
func freshSchema(tb testing.TB, base string) string {
	tb.Helper()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		tb.Fatal(err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "cs_test_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		admin.Close()
		tb.Fatalf("create schema (is PostgreSQL up at %s?): %v", redactDSN(base), err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// open opens a store on the harness database (migrating it) and closes it
// when the test ends.
func (h *harness) open(opts Options) *Store {
	h.tb.Helper()
	opts.Migrate = true
	s, err := Open(context.Background(), h.dsn, opts)
	if err != nil {
		h.tb.Fatalf("open %s: %v", h.backend, err)
	}
	h.tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			h.tb.Errorf("close: %v", err)
		}
	})
	return s
}

// fixture creates an operator and a station of it.
func fixture(t testing.TB, s *Store) (model.Operator, model.Station) {
	t.Helper()
	ctx := context.Background()
	op, err := s.CreateOperator(ctx, model.Operator{Name: "Park & Charge", Currency: "AUD", Country: "AU"})
	if err != nil {
		t.Fatal(err)
	}
	st, err := s.CreateStation(ctx, model.Station{ID: "CP-" + newID("")[:8], OperatorID: op.ID})
	if err != nil {
		t.Fatal(err)
	}
	return op, st
}

func ptr[T any](v T) *T { return &v }
