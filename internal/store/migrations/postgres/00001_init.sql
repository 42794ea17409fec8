-- Charge Star schema, PostgreSQL flavour. Keep in step with ../sqlite.
--
-- Conventions:
--   * timestamps are timestamptz (microsecond precision), written and read as UTC;
--   * money is bigint minor units;
--   * identifiers and match keys use COLLATE "C": byte order, the same order
--     SQLite gives, so cursors page identically on both databases, and cheaper
--     comparisons than a linguistic collation;
--   * "" in the model is NULL only for optional references (site_id,
--     api_tokens.operator_id, meter_values.session_id/transaction_id).

-- +goose Up
CREATE TABLE operators (
    id         text COLLATE "C" NOT NULL PRIMARY KEY,
    name       text        NOT NULL,
    currency   text        NOT NULL DEFAULT '',
    country    text        NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL
);

CREATE TABLE api_tokens (
    id          text COLLATE "C" NOT NULL PRIMARY KEY,
    operator_id text COLLATE "C" REFERENCES operators (id), -- NULL: platform administrator
    name        text        NOT NULL DEFAULT '',
    hash        bytea       NOT NULL UNIQUE,                 -- sha256 of the bearer token
    created_at  timestamptz NOT NULL,
    revoked_at  timestamptz
);
CREATE INDEX api_tokens_operator ON api_tokens (operator_id, id);

CREATE TABLE sites (
    id          text COLLATE "C" NOT NULL PRIMARY KEY,
    operator_id text COLLATE "C" NOT NULL REFERENCES operators (id),
    name        text        NOT NULL DEFAULT '',
    address     text        NOT NULL DEFAULT '',
    timezone    text        NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL,
    UNIQUE (id, operator_id) -- target of stations' tenancy-safe foreign key
);
CREATE INDEX sites_operator ON sites (operator_id, id);

CREATE TABLE stations (
    id                  text COLLATE "C" NOT NULL PRIMARY KEY, -- OCPP identity
    operator_id         text COLLATE "C" NOT NULL REFERENCES operators (id),
    site_id             text COLLATE "C",
    password_hash       bytea,
    protocol            text        NOT NULL DEFAULT '',
    vendor              text        NOT NULL DEFAULT '',
    model               text        NOT NULL DEFAULT '',
    serial_number       text        NOT NULL DEFAULT '',
    charge_box_serial   text        NOT NULL DEFAULT '',
    firmware_version    text        NOT NULL DEFAULT '',
    iccid               text        NOT NULL DEFAULT '',
    imsi                text        NOT NULL DEFAULT '',
    meter_type          text        NOT NULL DEFAULT '',
    meter_serial_number text        NOT NULL DEFAULT '',
    registration_status text        NOT NULL DEFAULT '',
    heartbeat_interval  integer     NOT NULL DEFAULT 0,
    last_boot_at        timestamptz,
    last_seen_at        timestamptz,
    firmware_status     text        NOT NULL DEFAULT '',
    firmware_status_at  timestamptz,
    diagnostics_status  text        NOT NULL DEFAULT '',
    diagnostics_at      timestamptz,
    created_at          timestamptz NOT NULL,
    retired_at          timestamptz,
    -- a station's site must belong to the station's operator
    FOREIGN KEY (site_id, operator_id) REFERENCES sites (id, operator_id)
);
CREATE INDEX stations_operator ON stations (operator_id, id);
CREATE INDEX stations_site ON stations (site_id, id);

CREATE TABLE connectors (
    station_id        text COLLATE "C" NOT NULL REFERENCES stations (id),
    connector_id      integer     NOT NULL,
    status            text        NOT NULL DEFAULT '',
    error_code        text        NOT NULL DEFAULT '',
    info              text        NOT NULL DEFAULT '',
    vendor_id         text        NOT NULL DEFAULT '',
    vendor_error_code text        NOT NULL DEFAULT '',
    status_at         timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    PRIMARY KEY (station_id, connector_id)
);

CREATE TABLE status_events (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    station_id        text COLLATE "C" NOT NULL REFERENCES stations (id),
    connector_id      integer     NOT NULL,
    status            text        NOT NULL DEFAULT '',
    error_code        text        NOT NULL DEFAULT '',
    info              text        NOT NULL DEFAULT '',
    vendor_id         text        NOT NULL DEFAULT '',
    vendor_error_code text        NOT NULL DEFAULT '',
    ts                timestamptz NOT NULL,
    received_at       timestamptz NOT NULL
);
CREATE INDEX status_events_station_ts ON status_events (station_id, ts, id);

CREATE TABLE id_tokens (
    operator_id   text COLLATE "C" NOT NULL REFERENCES operators (id),
    id_token      text        NOT NULL,            -- as given
    id_token_key  text COLLATE "C" NOT NULL,       -- case-folded by the store: the match key
    status        text        NOT NULL,
    expires_at    timestamptz,
    parent_id_tag text        NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    PRIMARY KEY (operator_id, id_token_key)
);

-- 1.6 transaction ids (OCPP 1.6 transactionId is a 32-bit integer).
CREATE SEQUENCE transaction_id_seq AS integer START WITH 1;

CREATE TABLE sessions (
    id               text COLLATE "C" NOT NULL PRIMARY KEY, -- public id, ses_...
    operator_id      text COLLATE "C" NOT NULL REFERENCES operators (id),
    station_id       text COLLATE "C" NOT NULL REFERENCES stations (id),
    connector_id     integer     NOT NULL,
    transaction_id   text COLLATE "C" NOT NULL,            -- station-facing id
    id_tag           text        NOT NULL DEFAULT '',
    id_tag_key       text COLLATE "C" NOT NULL DEFAULT '', -- case-folded id_tag
    reservation_id   integer,
    status           text        NOT NULL CHECK (status IN ('active', 'completed')),
    started_at       timestamptz NOT NULL,
    stopped_at       timestamptz,
    meter_start_wh   bigint      NOT NULL,
    meter_stop_wh    bigint,
    energy_wh        bigint      NOT NULL DEFAULT 0 CHECK (energy_wh >= 0),
    stop_reason      text        NOT NULL DEFAULT '',
    stop_id_tag      text        NOT NULL DEFAULT '',
    stop_source      text        NOT NULL DEFAULT '',
    transaction_data boolean     NOT NULL DEFAULT false,
    -- billing (filled in by the billing work; minor units)
    amount_total     bigint      NOT NULL DEFAULT 0,
    amount_tax       bigint      NOT NULL DEFAULT 0,
    currency         text        NOT NULL DEFAULT '',
    payment_status   text        NOT NULL DEFAULT 'none',
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    UNIQUE (station_id, transaction_id)
);
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
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    station_id     text COLLATE "C" NOT NULL,
    connector_id   integer     NOT NULL,
    session_id     text COLLATE "C",
    transaction_id text COLLATE "C",
    ts             timestamptz NOT NULL,
    context        text        NOT NULL DEFAULT '',
    energy_wh      double precision,
    power_w        double precision,
    soc            double precision,
    samples        text        NOT NULL, -- JSON array of model.SampledValue
    received_at    timestamptz NOT NULL
);
CREATE INDEX meter_values_session_ts ON meter_values (session_id, ts);
-- Only meter values outside a session (clock-aligned readings of an idle
-- connector) are indexed by station: an index over every row would put each
-- new row on a different page (one per station) and double the write cost
-- of ingest. Session meter values are found through their session.
CREATE INDEX meter_values_station_ts ON meter_values (station_id, ts) WHERE session_id IS NULL;

-- Hot append-only table, best effort: no foreign keys.
CREATE TABLE message_log (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    station_id   text COLLATE "C" NOT NULL,
    at           timestamptz NOT NULL,
    direction    text        NOT NULL,
    message_type smallint    NOT NULL,
    message_id   text        NOT NULL DEFAULT '',
    action       text        NOT NULL DEFAULT '',
    payload      text        NOT NULL
);
CREATE INDEX message_log_station ON message_log (station_id, id);

-- +goose Down
DROP TABLE message_log;
DROP TABLE meter_values;
DROP TABLE sessions;
DROP SEQUENCE transaction_id_seq;
DROP TABLE id_tokens;
DROP TABLE status_events;
DROP TABLE connectors;
DROP TABLE stations;
DROP TABLE sites;
DROP TABLE api_tokens;
DROP TABLE operators;
