-- Charge Star schema, SQLite flavour. Keep in step with ../postgres.
--
-- Conventions:
--   * timestamps are INTEGER microseconds since the Unix epoch, UTC (exact,
--     compact, ordered); the store converts to and from time.Time;
--   * money is INTEGER minor units;
--   * "" in the model is NULL only for optional references (site_id,
--     api_tokens.operator_id, meter_values.session_id/transaction_id);
--   * tables are STRICT so a wrong type is an error, not a silent coercion.

-- +goose Up
CREATE TABLE operators (
    id         TEXT    NOT NULL PRIMARY KEY,
    name       TEXT    NOT NULL,
    currency   TEXT    NOT NULL DEFAULT '',
    country    TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE api_tokens (
    id          TEXT    NOT NULL PRIMARY KEY,
    operator_id TEXT    REFERENCES operators (id), -- NULL: platform administrator
    name        TEXT    NOT NULL DEFAULT '',
    hash        BLOB    NOT NULL UNIQUE,             -- sha256 of the bearer token
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
) STRICT;
CREATE INDEX api_tokens_operator ON api_tokens (operator_id, id);

CREATE TABLE sites (
    id          TEXT    NOT NULL PRIMARY KEY,
    operator_id TEXT    NOT NULL REFERENCES operators (id),
    name        TEXT    NOT NULL DEFAULT '',
    address     TEXT    NOT NULL DEFAULT '',
    timezone    TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    UNIQUE (id, operator_id) -- target of stations' tenancy-safe foreign key
) STRICT;
CREATE INDEX sites_operator ON sites (operator_id, id);

CREATE TABLE stations (
    id                  TEXT    NOT NULL PRIMARY KEY, -- OCPP identity
    operator_id         TEXT    NOT NULL REFERENCES operators (id),
    site_id             TEXT,
    password_hash       BLOB,
    protocol            TEXT    NOT NULL DEFAULT '',
    vendor              TEXT    NOT NULL DEFAULT '',
    model               TEXT    NOT NULL DEFAULT '',
    serial_number       TEXT    NOT NULL DEFAULT '',
    charge_box_serial   TEXT    NOT NULL DEFAULT '',
    firmware_version    TEXT    NOT NULL DEFAULT '',
    iccid               TEXT    NOT NULL DEFAULT '',
    imsi                TEXT    NOT NULL DEFAULT '',
    meter_type          TEXT    NOT NULL DEFAULT '',
    meter_serial_number TEXT    NOT NULL DEFAULT '',
    registration_status TEXT    NOT NULL DEFAULT '',
    heartbeat_interval  INTEGER NOT NULL DEFAULT 0,
    last_boot_at        INTEGER,
    last_seen_at        INTEGER,
    firmware_status     TEXT    NOT NULL DEFAULT '',
    firmware_status_at  INTEGER,
    diagnostics_status  TEXT    NOT NULL DEFAULT '',
    diagnostics_at      INTEGER,
    created_at          INTEGER NOT NULL,
    retired_at          INTEGER,
    -- a station's site must belong to the station's operator
    FOREIGN KEY (site_id, operator_id) REFERENCES sites (id, operator_id)
) STRICT;
CREATE INDEX stations_operator ON stations (operator_id, id);
CREATE INDEX stations_site ON stations (site_id, id);

CREATE TABLE connectors (
    station_id        TEXT    NOT NULL REFERENCES stations (id),
    connector_id      INTEGER NOT NULL,
    status            TEXT    NOT NULL DEFAULT '',
    error_code        TEXT    NOT NULL DEFAULT '',
    info              TEXT    NOT NULL DEFAULT '',
    vendor_id         TEXT    NOT NULL DEFAULT '',
    vendor_error_code TEXT    NOT NULL DEFAULT '',
    status_at         INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    PRIMARY KEY (station_id, connector_id)
) STRICT;

CREATE TABLE status_events (
    id                INTEGER NOT NULL PRIMARY KEY,
    station_id        TEXT    NOT NULL REFERENCES stations (id),
    connector_id      INTEGER NOT NULL,
    status            TEXT    NOT NULL DEFAULT '',
    error_code        TEXT    NOT NULL DEFAULT '',
    info              TEXT    NOT NULL DEFAULT '',
    vendor_id         TEXT    NOT NULL DEFAULT '',
    vendor_error_code TEXT    NOT NULL DEFAULT '',
    ts                INTEGER NOT NULL,
    received_at       INTEGER NOT NULL
) STRICT;
CREATE INDEX status_events_station_ts ON status_events (station_id, ts, id);

CREATE TABLE id_tokens (
    operator_id   TEXT    NOT NULL REFERENCES operators (id),
    id_token      TEXT    NOT NULL,          -- as given
    id_token_key  TEXT    NOT NULL,          -- case-folded by the store: the match key
    status        TEXT    NOT NULL,
    expires_at    INTEGER,
    parent_id_tag TEXT    NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (operator_id, id_token_key)
) STRICT;

-- The 1.6 transaction id counter, bumped in the same write transaction that
-- inserts the session (PostgreSQL uses a SEQUENCE).
CREATE TABLE counters (
    name  TEXT    NOT NULL PRIMARY KEY,
    value INTEGER NOT NULL
) STRICT;
INSERT INTO counters (name, value) VALUES ('transaction_id', 0);

CREATE TABLE sessions (
    id               TEXT    NOT NULL PRIMARY KEY, -- public id, ses_...
    operator_id      TEXT    NOT NULL REFERENCES operators (id),
    station_id       TEXT    NOT NULL REFERENCES stations (id),
    connector_id     INTEGER NOT NULL,
    transaction_id   TEXT    NOT NULL,             -- station-facing id
    id_tag           TEXT    NOT NULL DEFAULT '',
    id_tag_key       TEXT    NOT NULL DEFAULT '',  -- case-folded id_tag
    reservation_id   INTEGER,
    status           TEXT    NOT NULL CHECK (status IN ('active', 'completed')),
    started_at       INTEGER NOT NULL,
    stopped_at       INTEGER,
    meter_start_wh   INTEGER NOT NULL,
    meter_stop_wh    INTEGER,
    energy_wh        INTEGER NOT NULL DEFAULT 0 CHECK (energy_wh >= 0),
    stop_reason      TEXT    NOT NULL DEFAULT '',
    stop_id_tag      TEXT    NOT NULL DEFAULT '',
    stop_source      TEXT    NOT NULL DEFAULT '',
    transaction_data INTEGER NOT NULL DEFAULT 0,
    -- billing (filled in by the billing work; minor units)
    amount_total     INTEGER NOT NULL DEFAULT 0,
    amount_tax       INTEGER NOT NULL DEFAULT 0,
    currency         TEXT    NOT NULL DEFAULT '',
    payment_status   TEXT    NOT NULL DEFAULT 'none',
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    UNIQUE (station_id, transaction_id)
) STRICT;
-- at most one active session per connector; finds it
CREATE UNIQUE INDEX sessions_active_connector ON sessions (station_id, connector_id) WHERE status = 'active';
-- concurrent-use checks of a token
CREATE INDEX sessions_active_token ON sessions (operator_id, id_tag_key) WHERE status = 'active';
-- idempotent 1.6 start replays
CREATE INDEX sessions_station_start ON sessions (station_id, connector_id, started_at);
-- listings, newest first
CREATE INDEX sessions_operator_created ON sessions (operator_id, created_at, id);
CREATE INDEX sessions_station_created ON sessions (station_id, created_at, id);
CREATE INDEX sessions_status_created ON sessions (status, created_at, id);

-- Hot append-only table: no foreign keys.
CREATE TABLE meter_values (
    id             INTEGER NOT NULL PRIMARY KEY,
    station_id     TEXT    NOT NULL,
    connector_id   INTEGER NOT NULL,
    session_id     TEXT,
    transaction_id TEXT,
    ts             INTEGER NOT NULL,
    context        TEXT    NOT NULL DEFAULT '',
    energy_wh      REAL,
    power_w        REAL,
    soc            REAL,
    samples        TEXT    NOT NULL, -- JSON array of model.SampledValue
    received_at    INTEGER NOT NULL
) STRICT;
CREATE INDEX meter_values_session_ts ON meter_values (session_id, ts);
-- Only meter values outside a session (clock-aligned readings of an idle
-- connector) are indexed by station: an index over every row would put each
-- new row on a different page (one per station) and double the write cost
-- of ingest. Session meter values are found through their session.
CREATE INDEX meter_values_station_ts ON meter_values (station_id, ts) WHERE session_id IS NULL;

-- Hot append-only table, best effort: no foreign keys.
CREATE TABLE message_log (
    id           INTEGER NOT NULL PRIMARY KEY,
    station_id   TEXT    NOT NULL,
    at           INTEGER NOT NULL,
    direction    TEXT    NOT NULL,
    message_type INTEGER NOT NULL,
    message_id   TEXT    NOT NULL DEFAULT '',
    action       TEXT    NOT NULL DEFAULT '',
    payload      TEXT    NOT NULL
) STRICT;
CREATE INDEX message_log_station ON message_log (station_id, id);

-- +goose Down
DROP TABLE message_log;
DROP TABLE meter_values;
DROP TABLE sessions;
DROP TABLE counters;
DROP TABLE id_tokens;
DROP TABLE status_events;
DROP TABLE connectors;
DROP TABLE stations;
DROP TABLE sites;
DROP TABLE api_tokens;
DROP TABLE operators;
