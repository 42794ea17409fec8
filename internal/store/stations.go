package store

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/chargestar/chargestar/internal/model"
)

const stationCols = `id, operator_id, site_id, password_hash, protocol, vendor, model, serial_number,
	charge_box_serial, firmware_version, iccid, imsi, meter_type, meter_serial_number,
	registration_status, heartbeat_interval, last_boot_at, last_seen_at, firmware_status,
	firmware_status_at, diagnostics_status, diagnostics_at, created_at, retired_at`

func scanStation(sc interface{ Scan(...any) error }) (model.Station, error) {
	var x model.Station
	err := sc.Scan(&x.ID, &x.OperatorID, nstrCol(&x.SiteID), &x.PasswordHash, &x.Protocol, &x.Vendor, &x.Model,
		&x.SerialNumber, &x.ChargeBoxSerial, &x.FirmwareVersion, &x.ICCID, &x.IMSI, &x.MeterType,
		&x.MeterSerialNumber, &x.RegistrationStatus, &x.HeartbeatInterval, ntsCol(&x.LastBootAt),
		ntsCol(&x.LastSeenAt), &x.FirmwareStatus, ntsCol(&x.FirmwareStatusAt), &x.DiagnosticsStatus,
		ntsCol(&x.DiagnosticsAt), tsCol(&x.CreatedAt), ntsCol(&x.RetiredAt))
	if len(x.PasswordHash) == 0 {
		x.PasswordHash = nil
	}
	return x, err
}

// CreateStation inserts st (ID = its OCPP identity), setting CreatedAt when
// empty. ErrConflict if the ID exists; ErrNotFound if the operator, or the
// site within that operator, does not.
func (s *Store) CreateStation(ctx context.Context, st model.Station) (model.Station, error) {
	if st.ID == "" || st.OperatorID == "" {
		return model.Station{}, fmt.Errorf("store: station id and operator are required")
	}
	if st.CreatedAt.IsZero() {
		st.CreatedAt = time.Now()
	}
	st.CreatedAt = normTime(st.CreatedAt)
	st.LastBootAt = normTimePtr(st.LastBootAt)
	st.LastSeenAt = normTimePtr(st.LastSeenAt)
	st.FirmwareStatusAt = normTimePtr(st.FirmwareStatusAt)
	st.DiagnosticsAt = normTimePtr(st.DiagnosticsAt)
	st.RetiredAt = normTimePtr(st.RetiredAt)
	if len(st.PasswordHash) == 0 {
		st.PasswordHash = nil
	} else {
		st.PasswordHash = slices.Clone(st.PasswordHash)
	}
	d := s.d
	err := s.write(ctx, func(ctx context.Context, w *wtx) error {
		if err := w.requireOperator(ctx, st.OperatorID); err != nil {
			return err
		}
		if err := w.requireSite(ctx, st.OperatorID, st.SiteID); err != nil {
			return err
		}
		res, err := w.exec(ctx, `INSERT INTO stations (`+stationCols+`) VALUES
			($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24)
			ON CONFLICT DO NOTHING`,
			st.ID, st.OperatorID, nullIfEmpty(st.SiteID), nullBytes(st.PasswordHash), st.Protocol, st.Vendor, st.Model,
			st.SerialNumber, st.ChargeBoxSerial, st.FirmwareVersion, st.ICCID, st.IMSI, st.MeterType,
			st.MeterSerialNumber, st.RegistrationStatus, st.HeartbeatInterval, d.nts(st.LastBootAt),
			d.nts(st.LastSeenAt), st.FirmwareStatus, d.nts(st.FirmwareStatusAt), st.DiagnosticsStatus,
			d.nts(st.DiagnosticsAt), d.ts(st.CreatedAt), d.nts(st.RetiredAt))
		if err != nil {
			return err
		}
		return rejectIfNone(res, ErrConflict)
	})
	if err != nil {
		return model.Station{}, wrap("create station", err)
	}
	return st, nil
}

// requireSite rejects with ErrNotFound unless siteID is "" or a site of operatorID.
func (w *wtx) requireSite(ctx context.Context, operatorID, siteID string) error {
	if siteID == "" {
		return nil
	}
	return w.requireRow(ctx, `SELECT 1 FROM sites WHERE id = $1 AND operator_id = $2`, "site", siteID, operatorID)
}

// GetStation returns the station id (of any operator: stations are looked
// up by their OCPP identity; callers check OperatorID for tenancy).
func (s *Store) GetStation(ctx context.Context, id string) (model.Station, error) {
	st, err := scanStation(s.queryRow(ctx, `SELECT `+stationCols+` FROM stations WHERE id = $1`, id))
	return st, wrapRead("get station", err)
}

// ListStations returns stations ordered by id.
func (s *Store) ListStations(ctx context.Context, f StationFilter) ([]model.Station, error) {
	limit := clampLimit(f.Limit, 100, 1000)
	rows, err := s.query(ctx, `SELECT `+stationCols+` FROM stations
		WHERE ($1 = '' OR operator_id = $1) AND ($2 = '' OR site_id = $2) AND id > $3
		ORDER BY id LIMIT $4`, f.OperatorID, f.SiteID, f.After, limit)
	if err != nil {
		return nil, wrap("list stations", err)
	}
	return collect(rows, scanStation, "list stations")
}

// UpdateStation saves the operator-editable fields of st (SiteID,
// PasswordHash, RetiredAt) and returns the whole station. st.OperatorID, if
// set, must be the station's operator (else ErrNotFound); the site must
// belong to the station's operator (else ErrNotFound).
func (s *Store) UpdateStation(ctx context.Context, st model.Station) (model.Station, error) {
	retired := normTimePtr(st.RetiredAt)
	var hash []byte
	if len(st.PasswordHash) > 0 {
		hash = slices.Clone(st.PasswordHash)
	}
	var out model.Station
	err := s.write(ctx, func(ctx context.Context, w *wtx) error {
		var operatorID string
		if err := w.queryRow(ctx, `SELECT operator_id FROM stations WHERE id = $1`, st.ID).Scan(&operatorID); err != nil {
			return rejectNoRows(err)
		}
		if st.OperatorID != "" && st.OperatorID != operatorID {
			return reject(ErrNotFound)
		}
		if err := w.requireSite(ctx, operatorID, st.SiteID); err != nil {
			return err
		}
		x, err := scanStation(w.queryRow(ctx, `UPDATE stations SET site_id = $2, password_hash = $3, retired_at = $4
			WHERE id = $1 RETURNING `+stationCols, st.ID, nullIfEmpty(st.SiteID), nullBytes(hash), s.d.nts(retired)))
		out = x
		return err
	})
	if err != nil {
		return model.Station{}, wrap("update station", err)
	}
	return out, nil
}

// laterOf is SQL for the later of column and the time parameter p (either
// may be NULL).
func laterOf(column, p string) string {
	return `CASE WHEN ` + column + ` IS NULL OR ` + column + ` < ` + p + ` THEN ` + p + ` ELSE ` + column + ` END`
}

// RecordBoot stores what a BootNotification said (and that the station was
// seen). ErrNotFound for an unknown station.
func (s *Store) RecordBoot(ctx context.Context, b BootRecord) error {
	if b.At.IsZero() {
		b.At = time.Now()
	}
	at := s.d.ts(b.At)
	err := s.write(ctx, func(ctx context.Context, w *wtx) error {
		res, err := w.exec(ctx, `UPDATE stations SET
			protocol = CASE WHEN $2 = '' THEN protocol ELSE $2 END,
			vendor = $3, model = $4, serial_number = $5, charge_box_serial = $6, firmware_version = $7,
			iccid = $8, imsi = $9, meter_type = $10, meter_serial_number = $11, registration_status = $12,
			heartbeat_interval = $13, last_boot_at = $14, last_seen_at = `+laterOf("last_seen_at", "$14")+`
			WHERE id = $1`,
			b.StationID, b.Protocol, b.Vendor, b.Model, b.SerialNumber, b.ChargeBoxSerial, b.FirmwareVersion,
			b.ICCID, b.IMSI, b.MeterType, b.MeterSerialNumber, b.RegistrationStatus, b.HeartbeatInterval, at)
		if err != nil {
			return err
		}
		return rejectIfNone(res, ErrNotFound)
	})
	return wrap("record boot", err)
}

// RecordConnected stores the negotiated protocol of a new connection and
// that the station was seen at at. ErrNotFound for an unknown station.
func (s *Store) RecordConnected(ctx context.Context, stationID, protocol string, at time.Time) error {
	if at.IsZero() {
		at = time.Now()
	}
	t := s.d.ts(at)
	err := s.write(ctx, func(ctx context.Context, w *wtx) error {
		res, err := w.exec(ctx, `UPDATE stations SET protocol = CASE WHEN $2 = '' THEN protocol ELSE $2 END,
			last_seen_at = `+laterOf("last_seen_at", "$3")+` WHERE id = $1`, stationID, protocol, t)
		if err != nil {
			return err
		}
		if err := rejectIfNone(res, ErrNotFound); err != nil {
			return err
		}
		// A connection replacing one whose end was never recorded (a
		// reconnection before the old socket closed) ends the old period.
		if _, err := w.exec(ctx, `UPDATE station_connections SET disconnected_at = $2
			WHERE station_id = $1 AND disconnected_at IS NULL AND connected_at <= $2`, stationID, t); err != nil {
			return err
		}
		_, err = w.exec(ctx, `INSERT INTO station_connections (station_id, protocol, connected_at) VALUES ($1, $2, $3)`, stationID, protocol, t)
		return err
	})
	return wrap("record connected", err)
}

// RecordDisconnected ends at at the station's connection period that
// holds at. The order of writes does not matter: a disconnection written
// after the station's next connection (which ended the old period at its
// own time) moves that end back to at, and the newer period stays open.
func (s *Store) RecordDisconnected(ctx context.Context, stationID string, at time.Time) error {
	err := s.write(ctx, func(ctx context.Context, w *wtx) error {
		_, err := w.exec(ctx, `UPDATE station_connections SET disconnected_at = $2
			WHERE station_id = $1 AND connected_at <= $2 AND (disconnected_at IS NULL OR disconnected_at > $2)`, stationID, s.d.ts(at))
		return err
	})
	return wrap("record disconnected", err)
}

// CloseStaleConnections ends, at each station's last seen time, the
// connection periods left open by a server that stopped without recording
// them (a crash). Called at start-up, before stations reconnect.
func (s *Store) CloseStaleConnections(ctx context.Context) (int64, error) {
	var n int64
	err := s.write(ctx, func(ctx context.Context, w *wtx) error {
		res, err := w.exec(ctx, `UPDATE station_connections SET disconnected_at = COALESCE(
			(SELECT CASE WHEN st.last_seen_at > station_connections.connected_at THEN st.last_seen_at ELSE station_connections.connected_at END
			   FROM stations st WHERE st.id = station_connections.station_id), connected_at)
			WHERE disconnected_at IS NULL`)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, wrap("close stale connections", err)
	}
	return n, nil
}

// TouchStations sets last_seen_at = max(stored, given) for each station in
// seen, in one batched write. Unknown stations are ignored.
func (s *Store) TouchStations(ctx context.Context, seen map[string]time.Time) error {
	if len(seen) == 0 {
		return nil
	}
	ids := make([]string, 0, len(seen))
	for id := range seen {
		ids = append(ids, id)
	}
	slices.Sort(ids) // a stable lock order
	args := make([]any, 0, 2*len(ids))
	for _, id := range ids {
		args = append(args, id, s.d.ts(seen[id]))
	}
	err := s.write(ctx, func(ctx context.Context, w *wtx) error {
		return s.touchStations(ctx, w, args)
	})
	return wrap("touch stations", err)
}

// touchStations updates last_seen_at for (id, time) pairs with one
// UPDATE … FROM (VALUES …) per chunk.
func (s *Store) touchStations(ctx context.Context, w *wtx, args []any) error {
	for len(args) > 0 {
		n := pow2Chunk(len(args)/2, 256)
		var vals string
		if s.d.sqlite() {
			vals = s.d.valuesList(n, 2)
		} else {
			// VALUES columns need types in PostgreSQL.
			vals = s.d.valuesList(n, 2, "::text", "::timestamptz")
		}
		_, err := w.exec(ctx, `UPDATE stations SET last_seen_at = v.t
			FROM (SELECT column1 AS id, column2 AS t FROM (VALUES `+vals+`) AS x) AS v
			WHERE stations.id = v.id AND (stations.last_seen_at IS NULL OR stations.last_seen_at < v.t)`, args[:2*n]...)
		if err != nil {
			return err
		}
		args = args[2*n:]
	}
	return nil
}

// valuesList renders n rows of cols placeholders, "(…), (…)", parameters in
// order; casts (one per column) are appended to the placeholders of the
// first row only, which fixes the column types in PostgreSQL.
func (d *dialect) valuesList(n, cols int, casts ...string) string {
	b := make([]byte, 0, n*cols*6)
	p := 1
	for i := range n {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, '(')
		for j := range cols {
			if j > 0 {
				b = append(b, ", "...)
			}
			b = d.appendParam(b, p)
			if i == 0 && j < len(casts) {
				b = append(b, casts[j]...)
			}
			p++
		}
		b = append(b, ')')
	}
	return string(b)
}

// RecordFirmwareStatus stores a FirmwareStatusNotification unless a later
// one is already stored. ErrNotFound for an unknown station.
func (s *Store) RecordFirmwareStatus(ctx context.Context, stationID, status string, at time.Time) error {
	return wrap("record firmware status", s.recordStatusField(ctx, "firmware_status", "firmware_status_at", stationID, status, at))
}

// RecordDiagnosticsStatus stores a DiagnosticsStatusNotification /
// LogStatusNotification unless a later one is already stored. ErrNotFound
// for an unknown station.
func (s *Store) RecordDiagnosticsStatus(ctx context.Context, stationID, status string, at time.Time) error {
	return wrap("record diagnostics status", s.recordStatusField(ctx, "diagnostics_status", "diagnostics_at", stationID, status, at))
}

func (s *Store) recordStatusField(ctx context.Context, col, atCol, stationID, status string, at time.Time) error {
	if at.IsZero() {
		at = time.Now()
	}
	t := s.d.ts(at)
	newer := `(` + atCol + ` IS NULL OR ` + atCol + ` <= $3)`
	return s.write(ctx, func(ctx context.Context, w *wtx) error {
		res, err := w.exec(ctx, `UPDATE stations SET
			`+col+` = CASE WHEN `+newer+` THEN $2 ELSE `+col+` END,
			`+atCol+` = CASE WHEN `+newer+` THEN $3 ELSE `+atCol+` END
			WHERE id = $1`, stationID, status, t)
		if err != nil {
			return err
		}
		return rejectIfNone(res, ErrNotFound)
	})
}
