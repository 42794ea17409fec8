-- The operator console (issue 6): users with roles and their browser
-- sessions, each station's connection periods (for the status report),
-- alerts and their webhook deliveries, and the operator's alert settings.
-- PostgreSQL flavour; keep in step with ../sqlite.

-- +goose Up
-- Console users. operator_id NULL: a platform administrator (role admin).
-- Only an argon2id hash of the password is kept (PHC string format).
CREATE TABLE users (
    id              text COLLATE "C"    NOT NULL PRIMARY KEY, -- usr_...
    operator_id     text COLLATE "C"    REFERENCES operators (id),
    email           text COLLATE "C"    NOT NULL,             -- lower case
    name            text COLLATE "C"    NOT NULL DEFAULT '',
    role            text COLLATE "C"    NOT NULL CHECK (role IN ('admin', 'owner', 'technician', 'finance')),
    password_hash   text COLLATE "C"    NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    disabled_at     timestamptz,
    last_sign_in_at timestamptz,
    CHECK ((operator_id IS NULL) = (role = 'admin'))
);
CREATE UNIQUE INDEX users_email ON users (email);
CREATE INDEX users_operator ON users (operator_id, id);

-- Console sign-ins. Only the SHA-256 of the cookie's token is kept; the
-- CSRF token is sent in a header by the console's scripts.
CREATE TABLE console_sessions (
    hash         bytea    NOT NULL PRIMARY KEY,
    user_id      text COLLATE "C"    NOT NULL REFERENCES users (id),
    csrf_token   text COLLATE "C"    NOT NULL,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL
);
CREATE INDEX console_sessions_user ON console_sessions (user_id);
CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);

-- When each station was connected. disconnected_at NULL: still connected
-- (or the server stopped first: closed at start-up at the last seen time).
CREATE TABLE station_connections (
    id              bigserial NOT NULL PRIMARY KEY,
    station_id      text COLLATE "C"    NOT NULL REFERENCES stations (id),
    protocol        text COLLATE "C"    NOT NULL DEFAULT '',
    connected_at    timestamptz NOT NULL,
    disconnected_at timestamptz
);
CREATE INDEX station_connections_station ON station_connections (station_id, connected_at);
CREATE INDEX station_connections_open ON station_connections (station_id) WHERE disconnected_at IS NULL;

-- Alerts: kind offline | faulted | payment_stuck; subject says what it is
-- about (station id, "station/connector", or payment id). At most one open
-- alert per operator, kind and subject.
CREATE TABLE alerts (
    id              text COLLATE "C"    NOT NULL PRIMARY KEY, -- alr_...
    operator_id     text COLLATE "C"    NOT NULL REFERENCES operators (id),
    kind            text COLLATE "C"    NOT NULL,
    subject         text COLLATE "C"    NOT NULL,
    station_id      text COLLATE "C",
    connector_id    integer,
    payment_id      text COLLATE "C",
    message         text COLLATE "C"    NOT NULL DEFAULT '',
    opened_at       timestamptz NOT NULL,
    resolved_at     timestamptz,
    acknowledged_at timestamptz,
    acknowledged_by text COLLATE "C"    NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX alerts_open ON alerts (operator_id, kind, subject) WHERE resolved_at IS NULL;
CREATE INDEX alerts_operator ON alerts (operator_id, opened_at);

-- The outbox of alert webhooks: one row per alert event to deliver, to
-- the operator's webhook URL as it is at each attempt.
CREATE TABLE alert_deliveries (
    id              bigserial NOT NULL PRIMARY KEY,
    alert_id        text COLLATE "C"    NOT NULL REFERENCES alerts (id),
    event           text COLLATE "C"    NOT NULL, -- alert.opened | alert.resolved
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    delivered_at    timestamptz,
    failed_at       timestamptz,          -- gave up
    last_error      text COLLATE "C"    NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    UNIQUE (alert_id, event)
);
CREATE INDEX alert_deliveries_due ON alert_deliveries (next_attempt_at) WHERE delivered_at IS NULL AND failed_at IS NULL;

-- The operator's alert settings. The webhook secret signs deliveries.
ALTER TABLE operators ADD COLUMN alert_webhook_url text COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE operators ADD COLUMN alert_webhook_secret text COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE operators ADD COLUMN alert_offline_minutes integer NOT NULL DEFAULT 10;
ALTER TABLE operators ADD COLUMN alert_payment_stuck_minutes integer NOT NULL DEFAULT 30;

-- A site's own GST/ABN details (a car park owned by another entity);
-- empty: the operator's.
ALTER TABLE sites ADD COLUMN legal_name text COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE sites ADD COLUMN tax_id text COLLATE "C" NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE sites DROP COLUMN tax_id;
ALTER TABLE sites DROP COLUMN legal_name;
ALTER TABLE operators DROP COLUMN alert_payment_stuck_minutes;
ALTER TABLE operators DROP COLUMN alert_offline_minutes;
ALTER TABLE operators DROP COLUMN alert_webhook_secret;
ALTER TABLE operators DROP COLUMN alert_webhook_url;
DROP TABLE alert_deliveries;
DROP TABLE alerts;
DROP TABLE station_connections;
DROP TABLE console_sessions;
DROP TABLE users;
