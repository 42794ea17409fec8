-- Billing of charging sessions (internal/billing, internal/sessionbilling):
-- tariffs and where they apply, the payment of each session with its
-- lifecycle state, the outbox of provider and station calls, webhook
-- de-duplication, and NextCharge driver accounts (RFID cards backed by a
-- prepaid wallet or a saved card). Money is integer minor units; the money
-- itself is booked in the ledger (00003), never here. SQLite flavour; keep
-- in step with ../postgres.

-- +goose Up
-- The seller's details printed on receipts and how payments settle.
ALTER TABLE operators ADD COLUMN legal_name TEXT NOT NULL DEFAULT '';
ALTER TABLE operators ADD COLUMN tax_id TEXT NOT NULL DEFAULT '';      -- ABN for Australian operators
ALTER TABLE operators ADD COLUMN address TEXT NOT NULL DEFAULT '';
ALTER TABLE operators ADD COLUMN settlement_mode TEXT NOT NULL DEFAULT 'platform'; -- platform | direct
ALTER TABLE operators ADD COLUMN merchant_account TEXT NOT NULL DEFAULT '';      -- direct: the provider account

-- Tariffs in the OCPI tariff shape (body: billing.Tariff JSON). Editing a
-- tariff never changes a session: the session's payment keeps a copy.
CREATE TABLE tariffs (
    id          TEXT    NOT NULL PRIMARY KEY, -- trf_...
    operator_id TEXT    NOT NULL REFERENCES operators (id),
    name        TEXT    NOT NULL DEFAULT '',
    body        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (id, operator_id)
) STRICT;
CREATE INDEX tariffs_operator ON tariffs (operator_id, id);

-- Which tariff applies where: scope 'operator' (scope_id = the operator),
-- 'site' or 'station'. The most specific assignment wins.
CREATE TABLE tariff_assignments (
    operator_id TEXT    NOT NULL REFERENCES operators (id),
    scope       TEXT    NOT NULL CHECK (scope IN ('operator', 'site', 'station')),
    scope_id    TEXT    NOT NULL,
    tariff_id   TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (operator_id, scope, scope_id),
    FOREIGN KEY (tariff_id, operator_id) REFERENCES tariffs (id, operator_id)
) STRICT;

-- NextCharge driver accounts: platform-wide (a NextCharge card works at
-- every operator's stations). The wallet balance is the ledger's wallet
-- account; the saved card lives at the provider (only its reference and
-- display details are here).
CREATE TABLE driver_accounts (
    id                 TEXT    NOT NULL PRIMARY KEY, -- acc_...
    email              TEXT    NOT NULL DEFAULT '',
    currency           TEXT    NOT NULL,
    funding            TEXT    NOT NULL CHECK (funding IN ('wallet', 'card')),
    customer_ref       TEXT    NOT NULL DEFAULT '',
    payment_method_ref TEXT    NOT NULL DEFAULT '',
    card_brand         TEXT    NOT NULL DEFAULT '',
    card_last4         TEXT    NOT NULL DEFAULT '',
    status             TEXT    NOT NULL DEFAULT 'active', -- active | closed
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
) STRICT;

-- RFID cards of driver accounts. id_token_key is the case-folded token,
-- unique platform-wide.
CREATE TABLE driver_cards (
    id_token_key TEXT    NOT NULL PRIMARY KEY,
    id_token     TEXT    NOT NULL,
    account_id   TEXT    NOT NULL REFERENCES driver_accounts (id),
    status       TEXT    NOT NULL, -- Accepted | Blocked
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX driver_cards_account ON driver_cards (account_id);

-- Drivers' passwordless sign-in: a code emailed to the address (only its
-- hash kept), then a browser session (only its token's hash kept).
CREATE INDEX driver_accounts_email ON driver_accounts (email);
CREATE TABLE driver_sign_ins (
    id          TEXT    NOT NULL PRIMARY KEY, -- sgn_...
    email       TEXT    NOT NULL,
    code_hash   BLOB    NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER,
    created_at  INTEGER NOT NULL
) STRICT;
CREATE TABLE driver_web_sessions (
    token_hash  BLOB    NOT NULL PRIMARY KEY,
    account_id  TEXT    NOT NULL REFERENCES driver_accounts (id),
    expires_at  INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;

-- The payment of one charging session (purpose 'session') or one wallet
-- top-up (purpose 'topup'). state follows internal/sessionbilling's state
-- machine and only moves forward; version guards concurrent updates.
CREATE TABLE session_payments (
    id                  TEXT    NOT NULL PRIMARY KEY, -- pay_...
    operator_id         TEXT    NOT NULL DEFAULT '',  -- '' for a top-up
    purpose             TEXT    NOT NULL CHECK (purpose IN ('session', 'topup')),
    method              TEXT    NOT NULL CHECK (method IN ('card', 'saved_card', 'wallet')),
    state               TEXT    NOT NULL,
    station_id          TEXT    NOT NULL DEFAULT '',
    connector_id        INTEGER NOT NULL DEFAULT 0,
    account_id          TEXT    NOT NULL DEFAULT '',
    id_token            TEXT    NOT NULL DEFAULT '',
    id_token_key        TEXT    NOT NULL DEFAULT '',
    session_id          TEXT    UNIQUE,               -- set once the station started
    provider            TEXT    NOT NULL DEFAULT '',
    provider_payment_id TEXT    NOT NULL DEFAULT '',
    checkout_id         TEXT    NOT NULL DEFAULT '',
    checkout_url        TEXT    NOT NULL DEFAULT '',
    settlement_mode     TEXT    NOT NULL DEFAULT 'platform',
    merchant_account    TEXT    NOT NULL DEFAULT '',
    currency            TEXT    NOT NULL,
    hold_amount         INTEGER NOT NULL DEFAULT 0,
    stop_at_cost        INTEGER NOT NULL DEFAULT 0,   -- 0: no cost stop needed
    budget_wh           INTEGER NOT NULL DEFAULT 0,
    budget_seconds      INTEGER NOT NULL DEFAULT 0,
    tariff_id           TEXT    NOT NULL DEFAULT '',
    tariff              TEXT    NOT NULL DEFAULT '',  -- frozen billing.Tariff JSON
    timezone            TEXT    NOT NULL DEFAULT '',
    running_cost        INTEGER NOT NULL DEFAULT 0,
    amount_total        INTEGER NOT NULL DEFAULT 0,
    amount_tax          INTEGER NOT NULL DEFAULT 0,
    amount_captured     INTEGER NOT NULL DEFAULT 0,
    amount_refunded     INTEGER NOT NULL DEFAULT 0,
    cost                TEXT    NOT NULL DEFAULT '',  -- final cost JSON (receipt lines)
    card_brand          TEXT    NOT NULL DEFAULT '',
    card_last4          TEXT    NOT NULL DEFAULT '',
    decline_code        TEXT    NOT NULL DEFAULT '',
    end_reason          TEXT    NOT NULL DEFAULT '',
    email               TEXT    NOT NULL DEFAULT '',
    access_hash         BLOB,                         -- SHA-256 of the driver's session link token
    receipt_code        TEXT    UNIQUE,
    version             INTEGER NOT NULL DEFAULT 1,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    expires_at          INTEGER,                      -- quote: the hosted page's end
    authorized_at       INTEGER,
    start_deadline      INTEGER,                      -- authorized: void when not started by then
    hold_expires_at     INTEGER,
    started_at          INTEGER,
    stopped_at          INTEGER,
    settled_at          INTEGER
) STRICT;
-- The state sweep's work list: payments not yet settled.
CREATE INDEX session_payments_open ON session_payments (state, updated_at)
    WHERE state IN ('quote', 'authorized', 'charging', 'stopped');
-- A one-off or RFID token finds its open payment.
CREATE INDEX session_payments_token ON session_payments (id_token_key, state);
CREATE INDEX session_payments_provider ON session_payments (provider, provider_payment_id);
CREATE INDEX session_payments_operator ON session_payments (operator_id, created_at);

-- The outbox: every call to the provider or a station that a state change
-- needs, written in the same transaction as the change. idem_key is the
-- provider's idempotency key, so a call retried after a crash has one
-- effect.
CREATE TABLE payment_jobs (
    id          INTEGER NOT NULL PRIMARY KEY,
    payment_id  TEXT    NOT NULL REFERENCES session_payments (id),
    kind        TEXT    NOT NULL,
    idem_key    TEXT    NOT NULL UNIQUE,
    due_at      INTEGER NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT    NOT NULL DEFAULT '',
    done_at     INTEGER,
    created_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX payment_jobs_due ON payment_jobs (due_at, id) WHERE done_at IS NULL;

-- Refunds of captured payments: requested (pending, with a job in the
-- outbox), then succeeded or failed at the provider.
CREATE TABLE payment_refunds (
    id                 TEXT    NOT NULL PRIMARY KEY, -- ref_...
    payment_id         TEXT    NOT NULL REFERENCES session_payments (id),
    amount             INTEGER NOT NULL CHECK (amount > 0),
    tax                INTEGER NOT NULL DEFAULT 0,
    reason             TEXT    NOT NULL DEFAULT '',
    state              TEXT    NOT NULL CHECK (state IN ('pending', 'succeeded', 'failed')),
    provider_refund_id TEXT    NOT NULL DEFAULT '',
    error              TEXT    NOT NULL DEFAULT '',
    created_at         INTEGER NOT NULL,
    settled_at         INTEGER
) STRICT;
CREATE INDEX payment_refunds_payment ON payment_refunds (payment_id, created_at);

-- Webhook events applied, by the provider's event id: a redelivery is
-- recognised and acknowledged without effect.
CREATE TABLE payment_webhook_events (
    provider    TEXT    NOT NULL,
    event_id    TEXT    NOT NULL,
    type        TEXT    NOT NULL,
    payment_id  TEXT    NOT NULL DEFAULT '',
    received_at INTEGER NOT NULL,
    PRIMARY KEY (provider, event_id)
) STRICT;

-- +goose Down
DROP TABLE payment_webhook_events;
DROP TABLE payment_refunds;
DROP TABLE payment_jobs;
DROP TABLE session_payments;
DROP TABLE driver_web_sessions;
DROP TABLE driver_sign_ins;
DROP TABLE driver_cards;
DROP TABLE driver_accounts;
DROP TABLE tariff_assignments;
DROP TABLE tariffs;
ALTER TABLE operators DROP COLUMN merchant_account;
ALTER TABLE operators DROP COLUMN settlement_mode;
ALTER TABLE operators DROP COLUMN address;
ALTER TABLE operators DROP COLUMN tax_id;
ALTER TABLE operators DROP COLUMN legal_name;
