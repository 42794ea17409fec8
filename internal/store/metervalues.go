package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/chargestar/chargestar/internal/model"
)

// meterValueTable is the hot append-only table of meter values.
var meterValueTable = &table{name: "meter_values", cols: []string{
	"station_id", "connector_id", "session_id", "transaction_id", "ts", "context",
	"energy_wh", "power_w", "soc", "samples", "received_at",
}}

const meterValueCols = `id, station_id, connector_id, session_id, transaction_id, ts, context, energy_wh, power_w, soc, samples, received_at`

// AppendMeterValues stores meter values (one row per timestamped value),
// batched with other writes into multi-row INSERTs; it returns once they
// are committed. ReceivedAt defaults to now.
func (s *Store) AppendMeterValues(ctx context.Context, mvs []model.MeterValue) error {
	if len(mvs) == 0 {
		return nil
	}
	// Encode here, in the caller's goroutine, so the committer only binds.
	now := time.Now()
	rows := make([]any, 0, len(mvs)*len(meterValueTable.cols))
	for i := range mvs {
		mv := &mvs[i]
		if mv.StationID == "" || mv.Timestamp.IsZero() {
			return fmt.Errorf("store: append meter values: station id and timestamp are required")
		}
		samples := mv.Samples
		if samples == nil {
			samples = []model.SampledValue{}
		}
		js, err := json.Marshal(samples)
		if err != nil {
			return fmt.Errorf("store: append meter values: %w", err)
		}
		recv := mv.ReceivedAt
		if recv.IsZero() {
			recv = now
		}
		rows = append(rows, mv.StationID, mv.ConnectorID, nullIfEmpty(mv.SessionID), nullIfEmpty(mv.TransactionID),
			s.d.ts(mv.Timestamp), mv.Context, nullFloat(mv.EnergyWh), nullFloat(mv.PowerW), nullFloat(mv.SoC),
			string(js), s.d.ts(recv))
	}
	return wrap("append meter values", s.submit(ctx, &op{rows: rows}))
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
