-- OCPP 2.x: transaction-event replay detection, the device model, station
-- events, sessions whose meter start is unknown. PostgreSQL flavour; keep in
-- step with ../sqlite.

-- +goose Up
-- One row per TransactionEventRequest; the key recognises a replay (the same
-- station, transaction and seqNo). Hot (one per event): no foreign keys.
CREATE TABLE transaction_events (
    station_id     text COLLATE "C" NOT NULL,
    transaction_id text COLLATE "C" NOT NULL,
    seq_no         bigint      NOT NULL,
    event_type     text        NOT NULL,
    trigger_reason text        NOT NULL DEFAULT '',
    charging_state text        NOT NULL DEFAULT '',
    offline        boolean     NOT NULL DEFAULT false,
    ts             timestamptz NOT NULL,
    received_at    timestamptz NOT NULL,
    PRIMARY KEY (station_id, transaction_id, seq_no) -- unique: replays
);

-- A 2.x station's device model: one row per variable attribute, as last
-- reported (NotifyReport, GetVariables) or set (SetVariables). The key
-- columns are COLLATE "C": byte order (as in SQLite) for the listing, and
-- lower() folds ASCII only, as SQLite's does.
CREATE TABLE station_variables (
    station_id         text COLLATE "C" NOT NULL REFERENCES stations (id),
    component          text COLLATE "C" NOT NULL,
    component_instance text COLLATE "C" NOT NULL DEFAULT '',
    evse_id            integer     NOT NULL DEFAULT 0,
    connector_id       integer     NOT NULL DEFAULT 0,
    variable           text COLLATE "C" NOT NULL,
    variable_instance  text COLLATE "C" NOT NULL DEFAULT '',
    attribute_type     text COLLATE "C" NOT NULL DEFAULT 'Actual',
    value              text        NOT NULL DEFAULT '',
    mutability         text        NOT NULL DEFAULT '',
    persistent         boolean     NOT NULL DEFAULT false,
    constant           boolean     NOT NULL DEFAULT false,
    data_type          text        NOT NULL DEFAULT '',
    unit               text        NOT NULL DEFAULT '',
    values_list        text        NOT NULL DEFAULT '',
    status             text        NOT NULL DEFAULT '',
    updated_at         timestamptz NOT NULL,
    PRIMARY KEY (station_id, component, component_instance, evse_id, connector_id,
                 variable, variable_instance, attribute_type)
);

-- Security events, 2.x monitoring events, 2.1 settlements.
CREATE TABLE station_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    station_id  text COLLATE "C" NOT NULL REFERENCES stations (id),
    kind        text        NOT NULL,
    type        text        NOT NULL DEFAULT '',
    severity    integer     NOT NULL DEFAULT -1,
    tech_info   text        NOT NULL DEFAULT '',
    payload     text        NOT NULL DEFAULT '',
    ts          timestamptz NOT NULL,
    received_at timestamptz NOT NULL
);
CREATE INDEX station_events_station ON station_events (station_id, id);

-- 2.x: the station reported no energy register at start (meter_start_wh is
-- 0 until the first reading, SetSessionMeterStart or the stop fixes it).
ALTER TABLE sessions ADD COLUMN meter_start_unknown boolean NOT NULL DEFAULT false;

-- 2.x: the seqNo of the TransactionEvent a meter value came in. Periodic
-- readings (most of a 2.x station's traffic) are recorded only here, not in
-- transaction_events: one row per reading instead of two, and replays are
-- still recognised after a reconnection (the core reads the numbers back).
ALTER TABLE meter_values ADD COLUMN seq_no integer;

-- +goose Down
ALTER TABLE meter_values DROP COLUMN seq_no;
ALTER TABLE sessions DROP COLUMN meter_start_unknown;
DROP TABLE station_events;
DROP TABLE station_variables;
DROP TABLE transaction_events;
