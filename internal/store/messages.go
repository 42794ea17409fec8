package store

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/chargestar/chargestar/internal/model"
)

// messageLogTable is the hot append-only, best-effort table of OCPP frames.
var messageLogTable = &table{name: "message_log", cols: []string{
	"station_id", "at", "direction", "message_type", "message_id", "action", "payload",
}}

const messageLogCols = `id, station_id, at, direction, message_type, message_id, action, payload`

// insertLogs writes message-log entries (committer only).
func (s *Store) insertLogs(ctx context.Context, tx dbtx, logs []model.MessageLogEntry) error {
	if len(logs) == 0 {
		return nil
	}
	args := make([]any, 0, len(logs)*len(messageLogTable.cols))
	for i := range logs {
		e := &logs[i]
		args = append(args, cleanText(e.StationID), s.d.ts(e.At), e.Direction, e.MessageType,
			cleanText(e.MessageID), cleanText(e.Action), cleanText(e.Payload))
	}
	return s.insertRows(ctx, tx, messageLogTable, args)
}

// cleanText makes s storable as PostgreSQL text (valid UTF-8 without NUL),
// so that one malformed frame cannot fail a batch.
func cleanText(s string) string {
	if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

func scanMessage(sc interface{ Scan(...any) error }) (model.MessageLogEntry, error) {
	var e model.MessageLogEntry
	err := sc.Scan(&e.ID, &e.StationID, tsCol(&e.At), &e.Direction, &e.MessageType, &e.MessageID, &e.Action, &e.Payload)
	return e, err
}

// ListMessages returns message-log entries, newest first
// (limit: default 100, max 1000).
func (s *Store) ListMessages(ctx context.Context, f MessageFilter) ([]model.MessageLogEntry, error) {
	var (
		where []string
		args  []any
	)
	next := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if f.StationID != "" {
		where = append(where, "station_id = "+next(f.StationID))
	}
	if f.Action != "" {
		where = append(where, "action = "+next(f.Action))
	}
	if f.Contains != "" {
		where = append(where, s.d.contains("payload", next(f.Contains)))
	}
	if f.Before > 0 {
		where = append(where, "id < "+next(f.Before))
	}
	q := `SELECT ` + messageLogCols + ` FROM message_log`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY id DESC LIMIT ` + next(clampLimit(f.Limit, 100, 1000))
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, wrap("list messages", err)
	}
	return collect(rows, scanMessage, "list messages")
}

// pruneChunk bounds the rows one prune transaction deletes, so that pruning
// never holds the committer (and SQLite's write lock) for long.
const pruneChunk = 5000

// PruneMessages deletes message-log entries older than before, in chunks
// of pruneChunk rows, each its own write; it returns how many it deleted.
func (s *Store) PruneMessages(ctx context.Context, before time.Time) (int64, error) {
	t := s.d.ts(before)
	var total int64
	for {
		// Rows are appended in time order: when the oldest is recent enough
		// there is nothing to do (and no reason to scan the table for it).
		var oldest time.Time
		err := s.rdb.QueryRowContext(ctx, `SELECT at FROM message_log ORDER BY id LIMIT 1`).Scan(tsCol(&oldest))
		if errors.Is(err, sql.ErrNoRows) || err == nil && !oldest.Before(before) {
			return total, nil
		}
		if err != nil {
			return total, wrap("prune messages", err)
		}
		var n int64
		err = s.write(ctx, func(ctx context.Context, w *wtx) error {
			res, err := w.exec(ctx, `DELETE FROM message_log WHERE id IN
				(SELECT id FROM message_log WHERE at < $1 ORDER BY id LIMIT $2)`, t, pruneChunk)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		if err != nil {
			return total, wrap("prune messages", err)
		}
		total += n
		if n < pruneChunk {
			return total, nil
		}
	}
}
