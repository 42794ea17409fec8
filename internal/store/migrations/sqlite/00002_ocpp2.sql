-- OCPP 2.x: transaction-event replay detection, the device model, station
-- events, sessions whose meter start is unknown. SQLite flavour; keep in step
-- with ../postgres.

-- +goose Up
-- One row per TransactionEventRequest; the key recognises a replay (the same
-- station, transaction and seqNo). Hot (one per event): no foreign keys.
CREATE TABLE transaction_events (
    station_id     TEXT    NOT NULL,
    transaction_id TEXT    NOT NULL,
    seq_no         INTEGER NOT NULL,
    event_type     TEXT    NOT NULL,
    trigger_reason TEXT    NOT NULL DEFAULT '',
    charging_state TEXT    NOT NULL DEFAULT '',
    offline        INTEGER NOT NULL DEFAULT 0,
    ts             INTEGER NOT NULL,
    received_at    INTEGER NOT NULL,
    PRIMARY KEY (station_id, transaction_id, seq_no) -- unique: replays
) STRICT, WITHOUT ROWID; -- one B-tree instead of table + key index: half the pages touched per event

-- A 2.x station's device model: one row per variable attribute, as last
-- reported (NotifyReport, GetVariables) or set (SetVariables).
CREATE TABLE station_variables (
    station_id         TEXT    NOT NULL REFERENCES stations (id),
    component          TEXT    NOT NULL,
    component_instance TEXT    NOT NULL DEFAULT '',
    evse_id            INTEGER NOT NULL DEFAULT 0,
    connector_id       INTEGER NOT NULL DEFAULT 0,
    variable           TEXT    NOT NULL,
    variable_instance  TEXT    NOT NULL DEFAULT '',
    attribute_type     TEXT    NOT NULL DEFAULT 'Actual',
    value              TEXT    NOT NULL DEFAULT '',
    mutability         TEXT    NOT NULL DEFAULT '',
    persistent         INTEGER NOT NULL DEFAULT 0,
    constant           INTEGER NOT NULL DEFAULT 0,
    data_type          TEXT    NOT NULL DEFAULT '',
    unit               TEXT    NOT NULL DEFAULT '',
    values_list        TEXT    NOT NULL DEFAULT '',
    status             TEXT    NOT NULL DEFAULT '',
    updated_at         INTEGER NOT NULL,
    PRIMARY KEY (station_id, component, component_instance, evse_id, connector_id,
                 variable, variable_instance, attribute_type)
) STRICT;

-- Security events, 2.x monitoring events, 2.1 settlements.
CREATE TABLE station_events (
    id          INTEGER NOT NULL PRIMARY KEY,
    station_id  TEXT    NOT NULL REFERENCES stations (id),
    kind        TEXT    NOT NULL,
    type        TEXT    NOT NULL DEFAULT '',
    severity    INTEGER NOT NULL DEFAULT -1,
    tech_info   TEXT    NOT NULL DEFAULT '',
    payload     TEXT    NOT NULL DEFAULT '',
    ts          INTEGER NOT NULL,
    received_at INTEGER NOT NULL
) STRICT;
CREATE INDEX station_events_station ON station_events (station_id, id);

-- 2.x: the station reported no energy register at start (meter_start_wh is
-- 0 until the first reading, SetSessionMeterStart or the stop fixes it).
ALTER TABLE sessions ADD COLUMN meter_start_unknown INTEGER NOT NULL DEFAULT 0;

-- 2.x: the seqNo of the TransactionEvent a meter value came in. Periodic
-- readings (most of a 2.x station's traffic) are recorded only here, not in
-- transaction_events: one row per reading instead of two, and replays are
-- still recognised after a reconnection (the core reads the numbers back).
ALTER TABLE meter_values ADD COLUMN seq_no INTEGER;

-- +goose Down
ALTER TABLE meter_values DROP COLUMN seq_no;
ALTER TABLE sessions DROP COLUMN meter_start_unknown;
DROP TABLE station_events;
DROP TABLE station_variables;
DROP TABLE transaction_events;
