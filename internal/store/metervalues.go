package store

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/chargestar/chargestar/internal/ocpp/jsonx"
	"time"
	"unsafe"

	"github.com/chargestar/chargestar/internal/model"
)

// meterValueTable is the hot append-only table of meter values.
var meterValueTable = &table{name: "meter_values", cols: []string{
	"station_id", "connector_id", "session_id", "transaction_id", "ts", "context",
	"energy_wh", "power_w", "soc", "samples", "received_at", "seq_no",
}}

const meterValueCols = `id, station_id, connector_id, session_id, transaction_id, ts, context, energy_wh, power_w, soc, samples, received_at`

// AppendMeterValues stores meter values (one row per timestamped value),
// batched with other writes into multi-row INSERTs; it returns once they
// are committed. ReceivedAt defaults to now.
func (s *Store) AppendMeterValues(ctx context.Context, mvs []model.MeterValue) error {
	if len(mvs) == 0 {
		return nil
	}
	rows, err := s.meterValueRows(mvs)
	if err != nil {
		return err
	}
	return wrap("append meter values", s.submit(ctx, &op{rows: rows}))
}

// meterValueRows encodes meter values as rows of meterValueTable. It runs in
// the caller's goroutine, so that the committer only binds.
func (s *Store) meterValueRows(mvs []model.MeterValue) ([]any, error) {
	now := time.Now()
	rows := make([]any, 0, len(mvs)*len(meterValueTable.cols))
	for i := range mvs {
		mv := &mvs[i]
		if mv.StationID == "" || mv.Timestamp.IsZero() {
			return nil, fmt.Errorf("store: append meter values: station id and timestamp are required")
		}
		js := appendSamples(make([]byte, 0, samplesSize(mv.Samples)), mv.Samples)
		recv := mv.ReceivedAt
		if recv.IsZero() {
			recv = now
		}
		rows = append(rows, mv.StationID, mv.ConnectorID, nullIfEmpty(mv.SessionID), nullIfEmpty(mv.TransactionID),
			s.d.ts(mv.Timestamp), mv.Context, nullFloat(mv.EnergyWh), nullFloat(mv.PowerW), nullFloat(mv.SoC),
			// js is never written again: share its bytes instead of copying
			// them into a string (this is a hot path: one per meter value).
			unsafe.String(unsafe.SliceData(js), len(js)), s.d.ts(recv), seqArg(mv))
	}
	return rows, nil
}

// seqArg is a meter value's TransactionEvent seqNo, or NULL.
func seqArg(mv *model.MeterValue) any {
	if !mv.HasSeqNo {
		return nil
	}
	return mv.SeqNo
}

// samplesSize estimates appendSamples' output length, so the buffer is
// allocated once.
func samplesSize(samples []model.SampledValue) int {
	n := 2
	for _, sv := range samples {
		n += 16 + len(sv.Value) + len(sv.Context) + len(sv.Format) + len(sv.Measurand) + len(sv.Phase) + len(sv.Location) + len(sv.Unit)
		n += 14 * 6 // the optional keys and quotes
	}
	return n
}

// appendSamples encodes samples as the JSON array json.Marshal would
// produce (model.SampledValue's tags), without reflection: this runs for
// every meter value on the ingest path.
func appendSamples(b []byte, samples []model.SampledValue) []byte {
	b = append(b, '[')
	for i, sv := range samples {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"value":`...)
		b = jsonx.AppendString(b, sv.Value)
		for _, f := range [...]struct{ name, v string }{
			{`,"context":`, sv.Context}, {`,"format":`, sv.Format}, {`,"measurand":`, sv.Measurand},
			{`,"phase":`, sv.Phase}, {`,"location":`, sv.Location}, {`,"unit":`, sv.Unit},
		} {
			if f.v != "" {
				b = append(b, f.name...)
				b = jsonx.AppendString(b, f.v)
			}
		}
		b = append(b, '}')
	}
	return append(b, ']')
}

func scanMeterValue(sc interface{ Scan(...any) error }) (model.MeterValue, error) {
	var (
		mv      model.MeterValue
		samples string
	)
	err := sc.Scan(&mv.ID, &mv.StationID, &mv.ConnectorID, nstrCol(&mv.SessionID), nstrCol(&mv.TransactionID),
		tsCol(&mv.Timestamp), &mv.Context, &mv.EnergyWh, &mv.PowerW, &mv.SoC, &samples, tsCol(&mv.ReceivedAt))
	if err != nil {
		return mv, err
	}
	if err := json.Unmarshal([]byte(samples), &mv.Samples); err != nil {
		return mv, fmt.Errorf("meter value %d samples: %w", mv.ID, err)
	}
	return mv, nil
}

// ListMeterValues returns the session's meter values, oldest first
// (limit: default 1000, max 10000).
func (s *Store) ListMeterValues(ctx context.Context, sessionID string, limit int) ([]model.MeterValue, error) {
	limit = clampLimit(limit, 1000, 10000)
	rows, err := s.query(ctx, `SELECT `+meterValueCols+` FROM meter_values
		WHERE session_id = $1 ORDER BY ts, id LIMIT $2`, sessionID, limit)
	if err != nil {
		return nil, wrap("list meter values", err)
	}
	return collect(rows, scanMeterValue, "list meter values")
}

// LatestMeterValues returns the session's newest meter values, newest
// first (limit: default 1, max 100): a live page's current power.
func (s *Store) LatestMeterValues(ctx context.Context, sessionID string, limit int) ([]model.MeterValue, error) {
	limit = clampLimit(limit, 1, 100)
	rows, err := s.query(ctx, `SELECT `+meterValueCols+` FROM meter_values
		WHERE session_id = $1 ORDER BY ts DESC, id DESC LIMIT $2`, sessionID, limit)
	if err != nil {
		return nil, wrap("latest meter values", err)
	}
	return collect(rows, scanMeterValue, "latest meter values")
}
