package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// dialect holds the few differences between SQLite and PostgreSQL. All SQL
// in this package is written once, with $N placeholders (which modernc's
// SQLite driver binds by number too), ON CONFLICT upserts and RETURNING,
// which both databases understand; what differs goes through here.
type dialect struct {
	name string // "sqlite" or "postgres"
	// maxParams bounds the bind parameters of one statement
	// (SQLITE_MAX_VARIABLE_NUMBER is 32766, PostgreSQL's wire limit 65535).
	maxParams int
}

var (
	dialectSQLite   = &dialect{name: "sqlite", maxParams: 32766}
	dialectPostgres = &dialect{name: "postgres", maxParams: 65535}
)

func (d *dialect) sqlite() bool { return d.name == "sqlite" }

// normTime is the form every time takes in the store: UTC, microsecond
// precision (what PostgreSQL keeps), no monotonic reading.
func normTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func normTimePtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	n := normTime(*t)
	return &n
}

// ts encodes a time parameter: SQLite stores INTEGER Unix microseconds,
// PostgreSQL timestamptz.
func (d *dialect) ts(t time.Time) any {
	t = normTime(t)
	if d.sqlite() {
		return t.UnixMicro()
	}
	return t
}

// nts encodes an optional time parameter.
func (d *dialect) nts(t *time.Time) any {
	if t == nil {
		return nil
	}
	return d.ts(*t)
}

// contains returns a case-sensitive substring test of column against the
// parameter placeholder p.
func (d *dialect) contains(column, p string) string {
	if d.sqlite() {
		return "instr(" + column + ", " + p + ") > 0"
	}
	return "strpos(" + column + ", " + p + ") > 0"
}

// nextTransactionID allocates the next OCPP 1.6 transaction id inside the
// write transaction tx.
func (d *dialect) nextTransactionID(ctx context.Context, tx dbtx) (int64, error) {
	var q string
	if d.sqlite() {
		q = `UPDATE counters SET value = value + 1 WHERE name = 'transaction_id' RETURNING value`
	} else {
		q = `SELECT nextval('transaction_id_seq')`
	}
	var id int64
	if err := tx.QueryRowContext(ctx, q).Scan(&id); err != nil {
		return 0, fmt.Errorf("allocate transaction id: %w", err)
	}
	return id, nil
}

// isUniqueViolation reports whether err is a unique / primary key violation.
func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// dbtx is what both *sql.Tx and *sql.DB offer.
type dbtx interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// appendParam appends the placeholder of the i-th (1-based) parameter of a
// statement whose parameters all appear in order. SQLite gets an anonymous
// "?": its numbered "$N" are named parameters, resolved by a linear search
// per parameter, which is quadratic in a statement of many rows.
func (d *dialect) appendParam(b []byte, i int) []byte {
	if d.sqlite() {
		return append(b, '?')
	}
	return strconv.AppendInt(append(b, '$'), int64(i), 10)
}

// placeholders returns n placeholders from the from-th on, comma-separated,
// for IN lists (parameters in order).
func (d *dialect) placeholders(from, n int) string {
	b := make([]byte, 0, n*4)
	for i := range n {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = d.appendParam(b, from+i)
	}
	return string(b)
}
