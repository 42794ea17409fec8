package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chargestar/chargestar/internal/model"
)

// OCPP 2.x: transaction events (replay detection), the device model
// (station variables) and station events.

const transactionEventCols = `station_id, transaction_id, seq_no, event_type, trigger_reason, charging_state, offline, ts, received_at`

func scanTransactionEvent(sc interface{ Scan(...any) error }) (model.TransactionEvent, error) {
	var e model.TransactionEvent
	err := sc.Scan(&e.StationID, &e.TransactionID, &e.SeqNo, &e.EventType, &e.TriggerReason, &e.ChargingState,
		&e.Offline, tsCol(&e.Timestamp), tsCol(&e.ReceivedAt))
	return e, err
}

// RecordTransactionEvent stores a 2.x TransactionEventRequest, batched with
// other writes. An event whose (station, transaction, seqNo) is already
// stored is a replay: nothing changes and dup is true. ReceivedAt defaults
// to now and Timestamp to ReceivedAt. The station is not checked (a hot
// table without foreign keys, like meter values).
func (s *Store) RecordTransactionEvent(ctx context.Context, ev model.TransactionEvent) (dup bool, err error) {
	if ev.StationID == "" || ev.TransactionID == "" {
		return false, fmt.Errorf("store: record transaction event: station id and transaction id are required")
	}
	if ev.ReceivedAt.IsZero() {
		ev.ReceivedAt = time.Now()
	}
	if ev.Timestamp.IsZero() {
		ev.Timestamp = ev.ReceivedAt
	}
	args := []any{ev.StationID, ev.TransactionID, ev.SeqNo, cleanText(ev.EventType), cleanText(ev.TriggerReason),
		cleanText(ev.ChargingState), ev.Offline, s.d.ts(ev.Timestamp), s.d.ts(ev.ReceivedAt)}
	err = s.write(ctx, func(ctx context.Context, w *wtx) error {
		dup = false
		res, err := w.exec(ctx, `INSERT INTO transaction_events (`+transactionEventCols+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`, args...)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		dup = n == 0
		return err
	})
	if err != nil {
		return false, wrap("record transaction event", err)
	}
	return dup, nil
}

// transactionEventTable is transaction_events for multi-row appends; a row
// already there (a replay) is skipped.
var transactionEventTable = &table{name: "transaction_events", cols: strings.Split(strings.ReplaceAll(transactionEventCols, " ", ""), ","),
	onConflict: `ON CONFLICT DO NOTHING`}

// AppendTransactionEvent stores a 2.x transaction event and its meter
// values as one pure append, merged with other appends into multi-row
// INSERTs of the same batch: the ingest path of 2.x, where an event is what
// a MeterValues is in 1.6. A row already stored (a replay) is skipped, but
// its meter values are not: callers must recognise replays first (the core
// keeps the sequence numbers it has seen; see RecordTransactionEvent for the
// checked form).
//
// With readingOnly the event is a periodic reading: only its meter values
// are stored, each carrying the event's seqNo (TransactionSeqNos finds it
// there), which halves the rows of a 2.x station's main traffic.
func (s *Store) AppendTransactionEvent(ctx context.Context, ev model.TransactionEvent, mvs []model.MeterValue, readingOnly bool) error {
	if ev.StationID == "" || ev.TransactionID == "" {
		return fmt.Errorf("store: append transaction event: station id and transaction id are required")
	}
	if ev.ReceivedAt.IsZero() {
		ev.ReceivedAt = time.Now()
	}
	if ev.Timestamp.IsZero() {
		ev.Timestamp = ev.ReceivedAt
	}
	for i := range mvs {
		mvs[i].SeqNo, mvs[i].HasSeqNo = ev.SeqNo, true
	}
	rows, err := s.meterValueRows(mvs)
	if err != nil {
		return err
	}
	if readingOnly && len(mvs) > 0 {
		return wrap("append transaction event", s.submit(ctx, &op{rows: rows}))
	}
	te := []any{ev.StationID, ev.TransactionID, ev.SeqNo, cleanText(ev.EventType), cleanText(ev.TriggerReason),
		cleanText(ev.ChargingState), ev.Offline, s.d.ts(ev.Timestamp), s.d.ts(ev.ReceivedAt)}
	return wrap("append transaction event", s.submit(ctx, &op{rows: rows, te: te}))
}

// TransactionSeqNos returns the seqNos stored of a station's 2.x
// transaction: its recorded events and the periodic readings of its session
// (sessionID; "" if none).
func (s *Store) TransactionSeqNos(ctx context.Context, stationID, transactionID, sessionID string) ([]int, error) {
	rows, err := s.query(ctx, `SELECT seq_no FROM transaction_events WHERE station_id = $1 AND transaction_id = $2
		UNION SELECT seq_no FROM meter_values WHERE session_id = $3 AND seq_no IS NOT NULL`, stationID, transactionID, sessionID)
	if err != nil {
		return nil, wrap("transaction seqNos", err)
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var n int
		if err := rows.Scan(&n); err != nil {
			return nil, wrap("transaction seqNos", err)
		}
		out = append(out, n)
	}
	return out, wrap("transaction seqNos", rows.Err())
}

// ListTransactionEvents returns the events of a station's transaction in
// seqNo order.
func (s *Store) ListTransactionEvents(ctx context.Context, stationID, transactionID string) ([]model.TransactionEvent, error) {
	rows, err := s.query(ctx, `SELECT `+transactionEventCols+` FROM transaction_events
		WHERE station_id = $1 AND transaction_id = $2 ORDER BY seq_no`, stationID, transactionID)
	if err != nil {
		return nil, wrap("list transaction events", err)
	}
	return collect(rows, scanTransactionEvent, "list transaction events")
}

// stationVariableKey is the unique key of station_variables (after the
// station id), in its column order.
const stationVariableKey = `component, component_instance, evse_id, connector_id, variable, variable_instance, attribute_type`

const stationVariableCols = `station_id, ` + stationVariableKey + `,
	value, mutability, persistent, constant, data_type, unit, values_list, status, updated_at`

// fullVariable is true (in the upsert) when the incoming row carries
// characteristics, i.e. came from a full report.
const fullVariable = `(excluded.mutability <> '' OR excluded.data_type <> '')`

// keepUnlessFull is the upsert assignment of a characteristic column.
func keepUnlessFull(col string) string {
	return col + ` = CASE WHEN ` + fullVariable + ` THEN excluded.` + col + ` ELSE station_variables.` + col + ` END`
}

// stationVariableTable upserts device-model rows with multi-row statements.
var stationVariableTable = &table{
	name: "station_variables",
	cols: []string{"station_id", "component", "component_instance", "evse_id", "connector_id", "variable",
		"variable_instance", "attribute_type", "value", "mutability", "persistent", "constant", "data_type",
		"unit", "values_list", "status", "updated_at"},
	onConflict: `ON CONFLICT (station_id, ` + stationVariableKey + `) DO UPDATE SET
		value = excluded.value, status = excluded.status, updated_at = excluded.updated_at, ` +
		keepUnlessFull("mutability") + `, ` + keepUnlessFull("persistent") + `, ` + keepUnlessFull("constant") + `, ` +
		keepUnlessFull("data_type") + `, ` + keepUnlessFull("unit") + `, ` + keepUnlessFull("values_list"),
}

func scanStationVariable(sc interface{ Scan(...any) error }) (model.StationVariable, error) {
	var v model.StationVariable
	err := sc.Scan(&v.StationID, &v.Component, &v.ComponentInstance, &v.EVSEID, &v.ConnectorID, &v.Variable,
		&v.VariableInstance, &v.AttributeType, &v.Value, &v.Mutability, &v.Persistent, &v.Constant, &v.DataType,
		&v.Unit, &v.ValuesList, &v.Status, tsCol(&v.UpdatedAt))
	return v, err
}

// hasCharacteristics: the variable came from a full report (NotifyReport),
// not from a Get/SetVariables result, which carries only a value and a
// status.
func hasCharacteristics(v *model.StationVariable) bool { return v.Mutability != "" || v.DataType != "" }

// compareVariableKey orders variables by their key (the listing's order).
func compareVariableKey(a, b *model.StationVariable) int {
	return cmp.Or(
		strings.Compare(a.Component, b.Component),
		strings.Compare(a.ComponentInstance, b.ComponentInstance),
		cmp.Compare(a.EVSEID, b.EVSEID),
		cmp.Compare(a.ConnectorID, b.ConnectorID),
		strings.Compare(a.Variable, b.Variable),
		strings.Compare(a.VariableInstance, b.VariableInstance),
		strings.Compare(a.AttributeType, b.AttributeType),
	)
}

// UpsertStationVariables stores device-model variables of a station in one
// write (multi-row upserts). Value, status and updated_at are always
// overwritten; mutability, persistent, constant, data type, unit and values
// list only when the incoming row has characteristics (Mutability or
// DataType set: a full report), otherwise the stored ones are kept (a
// Get/SetVariables result). AttributeType "" is OCPP's default "Actual";
// UpdatedAt zero is now. Rows of the slice with the same key apply in
// order. ErrNotFound for an unknown station.
func (s *Store) UpsertStationVariables(ctx context.Context, stationID string, vars []model.StationVariable) error {
	if len(vars) == 0 {
		return nil
	}
	if stationID == "" {
		return fmt.Errorf("store: upsert station variables: station id is required")
	}
	now := time.Now()
	rows := make([]model.StationVariable, 0, len(vars))
	for _, v := range vars {
		if v.Component == "" || v.Variable == "" {
			return fmt.Errorf("store: upsert station variables: component and variable are required")
		}
		v.StationID = stationID
		if v.AttributeType == "" {
			v.AttributeType = "Actual"
		}
		if v.UpdatedAt.IsZero() {
			v.UpdatedAt = now
		}
		for _, p := range []*string{&v.Component, &v.ComponentInstance, &v.Variable, &v.VariableInstance,
			&v.AttributeType, &v.Value, &v.Mutability, &v.DataType, &v.Unit, &v.ValuesList, &v.Status} {
			*p = cleanText(*p)
		}
		rows = append(rows, v)
	}
	// One row per key: PostgreSQL refuses a statement that upserts a row
	// twice. Merge duplicates as if they were applied one after another.
	// The stable sort also gives concurrent writers one lock order.
	slices.SortStableFunc(rows, func(a, b model.StationVariable) int { return compareVariableKey(&a, &b) })
	merged := rows[:0]
	for _, v := range rows {
		if n := len(merged); n > 0 && compareVariableKey(&merged[n-1], &v) == 0 {
			m := &merged[n-1]
			m.Value, m.Status, m.UpdatedAt = v.Value, v.Status, v.UpdatedAt
			if hasCharacteristics(&v) {
				m.Mutability, m.Persistent, m.Constant = v.Mutability, v.Persistent, v.Constant
				m.DataType, m.Unit, m.ValuesList = v.DataType, v.Unit, v.ValuesList
			}
			continue
		}
		merged = append(merged, v)
	}
	args := make([]any, 0, len(merged)*len(stationVariableTable.cols))
	for i := range merged {
		v := &merged[i]
		args = append(args, stationID, v.Component, v.ComponentInstance, v.EVSEID, v.ConnectorID, v.Variable,
			v.VariableInstance, v.AttributeType, v.Value, v.Mutability, v.Persistent, v.Constant, v.DataType,
			v.Unit, v.ValuesList, v.Status, s.d.ts(v.UpdatedAt))
	}
	err := s.write(ctx, func(ctx context.Context, w *wtx) error {
		if err := w.requireStation(ctx, stationID); err != nil {
			return err
		}
		return s.insertRows(ctx, w, stationVariableTable, args)
	})
	return wrap("upsert station variables", err)
}

// asciiLower folds ASCII letters only, as SQLite's lower() and
// PostgreSQL's under COLLATE "C" do (OCPP identifier strings are ASCII).
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// ListStationVariables returns a station's device-model variables ordered by
// component, component instance, EVSE, connector, variable, variable
// instance and attribute type (limit: default 1000, max 10000).
func (s *Store) ListStationVariables(ctx context.Context, stationID string, f VariableFilter) ([]model.StationVariable, error) {
	args := []any{stationID}
	next := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	q := `SELECT ` + stationVariableCols + ` FROM station_variables WHERE station_id = $1`
	if f.Component != "" {
		q += ` AND lower(component) = ` + next(asciiLower(cleanText(f.Component)))
	}
	if f.Variable != "" {
		q += ` AND lower(variable) = ` + next(asciiLower(cleanText(f.Variable)))
	}
	q += ` ORDER BY ` + stationVariableKey + ` LIMIT ` + next(clampLimit(f.Limit, 1000, 10000))
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, wrap("list station variables", err)
	}
	return collect(rows, scanStationVariable, "list station variables")
}

// stationEventTable is the station events' multi-row INSERT.
var stationEventTable = &table{name: "station_events", cols: []string{
	"station_id", "kind", "type", "severity", "tech_info", "payload", "ts", "received_at",
}}

const stationEventCols = `id, station_id, kind, type, severity, tech_info, payload, ts, received_at`

func scanStationEvent(sc interface{ Scan(...any) error }) (model.StationEvent, error) {
	var e model.StationEvent
	err := sc.Scan(&e.ID, &e.StationID, &e.Kind, &e.Type, &e.Severity, &e.TechInfo, &e.Payload,
		tsCol(&e.Timestamp), tsCol(&e.ReceivedAt))
	return e, err
}

// RecordStationEvents stores station events (security events, 2.x
// monitoring events, settlements) in one write. ReceivedAt defaults to now
// and Timestamp to ReceivedAt. ErrNotFound (and nothing stored) if a station
// is unknown.
func (s *Store) RecordStationEvents(ctx context.Context, evs ...model.StationEvent) error {
	if len(evs) == 0 {
		return nil
	}
	now := time.Now()
	var stations []string
	args := make([]any, 0, len(evs)*len(stationEventTable.cols))
	for _, e := range evs {
		if e.StationID == "" || e.Kind == "" {
			return fmt.Errorf("store: record station events: station id and kind are required")
		}
		if e.ReceivedAt.IsZero() {
			e.ReceivedAt = now
		}
		if e.Timestamp.IsZero() {
			e.Timestamp = e.ReceivedAt
		}
		stations = append(stations, e.StationID)
		args = append(args, e.StationID, cleanText(e.Kind), cleanText(e.Type), e.Severity, cleanText(e.TechInfo),
			cleanText(e.Payload), s.d.ts(e.Timestamp), s.d.ts(e.ReceivedAt))
	}
	slices.Sort(stations)
	stations = slices.Compact(stations)
	err := s.write(ctx, func(ctx context.Context, w *wtx) error {
		for _, id := range stations {
			if err := w.requireStation(ctx, id); err != nil {
				return err
			}
		}
		return s.insertRows(ctx, w, stationEventTable, args)
	})
	return wrap("record station events", err)
}

// ListStationEvents returns station events, newest first
// (limit: default 100, max 1000).
func (s *Store) ListStationEvents(ctx context.Context, f StationEventFilter) ([]model.StationEvent, error) {
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
	if f.Kind != "" {
		where = append(where, "kind = "+next(f.Kind))
	}
	if f.Before > 0 {
		where = append(where, "id < "+next(f.Before))
	}
	q := `SELECT ` + stationEventCols + ` FROM station_events`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY id DESC LIMIT ` + next(clampLimit(f.Limit, 100, 1000))
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, wrap("list station events", err)
	}
	return collect(rows, scanStationEvent, "list station events")
}
