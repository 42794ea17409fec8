-- Billing of charging sessions (internal/billing, internal/sessionbilling):
-- tariffs and where they apply, the payment of each session with its
-- lifecycle state, the outbox of provider and station calls, webhook
-- de-duplication, and NextCharge driver accounts (RFID cards backed by a
-- prepaid wallet or a saved card). Money is integer minor units; the money
-- itself is booked in the ledger (00003), never here. PostgreSQL flavour;
-- keep in step with ../sqlite.

-- +goose Up
-- The seller's details printed on receipts and how payments settle.
ALTER TABLE operators ADD COLUMN legal_name text NOT NULL DEFAULT '';
ALTER TABLE operators ADD COLUMN tax_id text NOT NULL DEFAULT '';      -- ABN for Australian operators
ALTER TABLE operators ADD COLUMN address text NOT NULL DEFAULT '';
ALTER TABLE operators ADD COLUMN settlement_mode text NOT NULL DEFAULT 'platform'; -- platform | direct
ALTER TABLE operators ADD COLUMN merchant_account text NOT NULL DEFAULT '';      -- direct: the provider account

-- Tariffs in the OCPI tariff shape (body: billing.Tariff JSON). Editing a
-- tariff never changes a session: the session's payment keeps a copy.
CREATE TABLE tariffs (
    id          text COLLATE "C"    NOT NULL PRIMARY KEY, -- trf_...
    operator_id text COLLATE "C"    NOT NULL REFERENCES operators (id),
    name        text    NOT NULL DEFAULT '',
    body        text    NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    UNIQUE (id, operator_id)
);
CREATE INDEX tariffs_operator ON tariffs (operator_id, id);

-- Which tariff applies where: scope 'operator' (scope_id = the operator),
-- 'site' or 'station'. The most specific assignment wins.
CREATE TABLE tariff_assignments (
    operator_id text COLLATE "C"    NOT NULL REFERENCES operators (id),
    scope       text COLLATE "C"    NOT NULL CHECK (scope IN ('operator', 'site', 'station')),
    scope_id    text COLLATE "C"    NOT NULL,
    tariff_id   text COLLATE "C"    NOT NULL,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (operator_id, scope, scope_id),
    FOREIGN KEY (tariff_id, operator_id) REFERENCES tariffs (id, operator_id)
);

-- NextCharge driver accounts: platform-wide (a NextCharge card works at
-- every operator's stations). The wallet balance is the ledger's wallet
-- account; the saved card lives at the provider (only its reference and
-- display details are here).
CREATE TABLE driver_accounts (
    id                 text COLLATE "C"    NOT NULL PRIMARY KEY, -- acc_...
    email              text    NOT NULL DEFAULT '',
    currency           text    NOT NULL,
    funding            text    NOT NULL CHECK (funding IN ('wallet', 'card')),
    customer_ref       text    NOT NULL DEFAULT '',
    payment_method_ref text    NOT NULL DEFAULT '',
    card_brand         text    NOT NULL DEFAULT '',
    card_last4         text    NOT NULL DEFAULT '',
    status             text    NOT NULL DEFAULT 'active', -- active | closed
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL
);

-- RFID cards of driver accounts. id_token_key is the case-folded token,
-- unique platform-wide.
CREATE TABLE driver_cards (
    id_token_key text COLLATE "C"    NOT NULL PRIMARY KEY,
    id_token     text    NOT NULL,
    account_id   text COLLATE "C"    NOT NULL REFERENCES driver_accounts (id),
    status       text    NOT NULL, -- Accepted | Blocked
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL
);
CREATE INDEX driver_cards_account ON driver_cards (account_id);

-- Drivers' passwordless sign-in: a code emailed to the address (only its
-- hash kept), then a browser session (only its token's hash kept).
CREATE INDEX driver_accounts_email ON driver_accounts (email);
CREATE TABLE driver_sign_ins (
    id          text COLLATE "C" NOT NULL PRIMARY KEY, -- sgn_...
    email       text        NOT NULL,
    code_hash   bytea       NOT NULL,
    attempts    bigint      NOT NULL DEFAULT 0,
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    created_at  timestamptz NOT NULL
);
CREATE TABLE driver_web_sessions (
    token_hash  bytea       NOT NULL PRIMARY KEY,
    account_id  text COLLATE "C" NOT NULL REFERENCES driver_accounts (id),
    expires_at  timestamptz NOT NULL,
    created_at  timestamptz NOT NULL
);

-- The payment of one charging session (purpose 'session') or one wallet
-- top-up (purpose 'topup'). state follows internal/sessionbilling's state
-- machine and only moves forward; version guards concurrent updates.
CREATE TABLE session_payments (
    id                  text COLLATE "C"    NOT NULL PRIMARY KEY, -- pay_...
    operator_id         text COLLATE "C"    NOT NULL DEFAULT '',  -- '' for a top-up
    purpose             text    NOT NULL CHECK (purpose IN ('session', 'topup')),
    method              text    NOT NULL CHECK (method IN ('card', 'saved_card', 'wallet')),
    state               text    NOT NULL,
    station_id          text COLLATE "C"    NOT NULL DEFAULT '',
    connector_id        bigint NOT NULL DEFAULT 0,
    account_id          text COLLATE "C"    NOT NULL DEFAULT '',
    id_token            text    NOT NULL DEFAULT '',
    id_token_key        text COLLATE "C"    NOT NULL DEFAULT '',
    session_id          text COLLATE "C"    UNIQUE,               -- set once the station started
    provider            text COLLATE "C"    NOT NULL DEFAULT '',
    provider_payment_id text COLLATE "C"    NOT NULL DEFAULT '',
    checkout_id         text COLLATE "C"    NOT NULL DEFAULT '',
    checkout_url        text    NOT NULL DEFAULT '',
    settlement_mode     text    NOT NULL DEFAULT 'platform',
    merchant_account    text    NOT NULL DEFAULT '',
    currency            text    NOT NULL,
    hold_amount         bigint NOT NULL DEFAULT 0,
    stop_at_cost        bigint NOT NULL DEFAULT 0,   -- 0: no cost stop needed
    budget_wh           bigint NOT NULL DEFAULT 0,
    budget_seconds      bigint NOT NULL DEFAULT 0,
    tariff_id           text COLLATE "C"    NOT NULL DEFAULT '',
    tariff              text    NOT NULL DEFAULT '',  -- frozen billing.Tariff JSON
    timezone            text    NOT NULL DEFAULT '',
    running_cost        bigint NOT NULL DEFAULT 0,
    amount_total        bigint NOT NULL DEFAULT 0,
    amount_tax          bigint NOT NULL DEFAULT 0,
    amount_captured     bigint NOT NULL DEFAULT 0,
    amount_refunded     bigint NOT NULL DEFAULT 0,
    cost                text    NOT NULL DEFAULT '',  -- final cost JSON (receipt lines)
    card_brand          text    NOT NULL DEFAULT '',
    card_last4          text    NOT NULL DEFAULT '',
    decline_code        text    NOT NULL DEFAULT '',
    end_reason          text    NOT NULL DEFAULT '',
    email               text    NOT NULL DEFAULT '',
    access_hash         bytea,                        -- SHA-256 of the driver's session link token
    receipt_code        text COLLATE "C"    UNIQUE,
    version             bigint NOT NULL DEFAULT 1,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    expires_at          timestamptz,                    -- quote: the hosted page's end
    authorized_at       timestamptz,
    start_deadline      timestamptz,                    -- authorized: void when not started by then
    hold_expires_at     timestamptz,
    started_at          timestamptz,
    stopped_at          timestamptz,
    settled_at          timestamptz
);
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
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    payment_id  text COLLATE "C"    NOT NULL REFERENCES session_payments (id),
    kind        text    NOT NULL,
    idem_key    text COLLATE "C"    NOT NULL UNIQUE,
    due_at      timestamptz NOT NULL,
    attempts    bigint NOT NULL DEFAULT 0,
    last_error  text    NOT NULL DEFAULT '',
    done_at     timestamptz,
    created_at  timestamptz NOT NULL
);
CREATE INDEX payment_jobs_due ON payment_jobs (due_at, id) WHERE done_at IS NULL;

-- Refunds of captured payments: requested (pending, with a job in the
-- outbox), then succeeded or failed at the provider.
CREATE TABLE payment_refunds (
    id                 text COLLATE "C" NOT NULL PRIMARY KEY, -- ref_...
    payment_id         text COLLATE "C" NOT NULL REFERENCES session_payments (id),
    amount             bigint      NOT NULL CHECK (amount > 0),
    tax                bigint      NOT NULL DEFAULT 0,
    reason             text        NOT NULL DEFAULT '',
    state              text        NOT NULL CHECK (state IN ('pending', 'succeeded', 'failed')),
    provider_refund_id text COLLATE "C" NOT NULL DEFAULT '',
    error              text        NOT NULL DEFAULT '',
    created_at         timestamptz NOT NULL,
    settled_at         timestamptz
);
CREATE INDEX payment_refunds_payment ON payment_refunds (payment_id, created_at);

-- Webhook events applied, by the provider's event id: a redelivery is
-- recognised and acknowledged without effect.
CREATE TABLE payment_webhook_events (
    provider    text COLLATE "C"    NOT NULL,
    event_id    text COLLATE "C"    NOT NULL,
    type        text    NOT NULL,
    payment_id  text COLLATE "C"    NOT NULL DEFAULT '',
    received_at timestamptz NOT NULL,
    PRIMARY KEY (provider, event_id)
);

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
