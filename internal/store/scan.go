package store

import (
	"database/sql"
	"fmt"
	"time"
)

// Scanners that map the two databases' column representations onto the
// model's plain Go types.

// timeScanner scans a NOT NULL timestamp: time.Time (PostgreSQL) or INTEGER
// Unix microseconds (SQLite). The result is always UTC.
type timeScanner struct{ dst *time.Time }

func (s timeScanner) Scan(v any) error {
	t, ok, err := scanTimeValue(v)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("store: NULL in a NOT NULL timestamp column")
	}
	*s.dst = t
	return nil
}

// nullTimeScanner scans a nullable timestamp into a *time.Time (nil for NULL).
type nullTimeScanner struct{ dst **time.Time }

func (s nullTimeScanner) Scan(v any) error {
	t, ok, err := scanTimeValue(v)
	if err != nil {
		return err
	}
	if !ok {
		*s.dst = nil
		return nil
	}
	*s.dst = &t
	return nil
}

func scanTimeValue(v any) (time.Time, bool, error) {
	switch x := v.(type) {
	case nil:
		return time.Time{}, false, nil
	case time.Time:
		return x.UTC(), true, nil
	case int64:
		return time.UnixMicro(x).UTC(), true, nil
	case string:
		t, err := time.Parse(time.RFC3339Nano, x)
		return t.UTC(), err == nil, err
	case []byte:
		t, err := time.Parse(time.RFC3339Nano, string(x))
		return t.UTC(), err == nil, err
	default:
		return time.Time{}, false, fmt.Errorf("store: cannot scan %T into a time", v)
	}
}

func tsCol(dst *time.Time) sql.Scanner   { return timeScanner{dst} }
func ntsCol(dst **time.Time) sql.Scanner { return nullTimeScanner{dst} }

// nullStringScanner scans a nullable text column into a string ("" for NULL).
type nullStringScanner struct{ dst *string }

func (s nullStringScanner) Scan(v any) error {
	var ns sql.NullString
	if err := ns.Scan(v); err != nil {
		return err
	}
	*s.dst = ns.String
	return nil
}

func nstrCol(dst *string) sql.Scanner { return nullStringScanner{dst} }

// nullIfEmpty maps "" to NULL for optional references.
func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// nullBytes maps an empty slice to NULL.
func nullBytes(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// nullInt maps a nil *int to NULL.
func nullInt(p *int) any {
	if p == nil {
		return nil
	}
	return int64(*p)
}

func nullInt64(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

func nullFloat(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// clampLimit applies a listing's default and maximum page size.
func clampLimit(n, def, max int) int {
	if n <= 0 {
		return def
	}
	if n > max {
		return max
	}
	return n
}
