-- The built-in sandbox payment provider (internal/payments/sandbox): it stands
-- in for an external card acquirer, so its state lives in tables of its own,
-- with no foreign keys into ours (an acquirer knows nothing of our sessions;
-- the tables could be dropped without touching Charge Star's data). Card
-- numbers are never stored, only brand, last four digits and expiry. Money is
-- integer minor units. SQLite flavour; keep in step with ../postgres.

-- +goose Up
-- Hosted pages: kind 'payment' (places a hold) or 'setup' (saves a card).
-- status: open → completed | expired.
CREATE TABLE sandbox_checkouts (
    id                 TEXT    NOT NULL PRIMARY KEY,
    kind               TEXT    NOT NULL,
    status             TEXT    NOT NULL,
    amount             INTEGER NOT NULL DEFAULT 0,
    currency           TEXT    NOT NULL DEFAULT '',
    description        TEXT    NOT NULL DEFAULT '',
    success_url        TEXT    NOT NULL,
    cancel_url         TEXT    NOT NULL DEFAULT '',
    metadata           TEXT    NOT NULL DEFAULT '{}',
    settlement_mode    TEXT    NOT NULL,
    account            TEXT    NOT NULL DEFAULT '',
    customer_ref       TEXT    NOT NULL DEFAULT '',
    save_card          INTEGER NOT NULL DEFAULT 0,
    payment_id         TEXT    NOT NULL DEFAULT '',
    payment_method_ref TEXT    NOT NULL DEFAULT '',
    last_error         TEXT    NOT NULL DEFAULT '',
    version            INTEGER NOT NULL DEFAULT 1,
    created_at         INTEGER NOT NULL,
    expires_at         INTEGER NOT NULL,
    completed_at       INTEGER
) STRICT;
-- The expiry sweep's work list.
CREATE INDEX sandbox_checkouts_open ON sandbox_checkouts (expires_at) WHERE status = 'open';

-- Payments: pending → authorized → captured | voided | expired; pending →
-- canceled (page expired); failed (off-session decline).
CREATE TABLE sandbox_payments (
    id                 TEXT    NOT NULL PRIMARY KEY,
    status             TEXT    NOT NULL,
    amount             INTEGER NOT NULL,
    amount_captured    INTEGER NOT NULL DEFAULT 0,
    amount_refunded    INTEGER NOT NULL DEFAULT 0,
    application_fee    INTEGER NOT NULL DEFAULT 0,
    currency           TEXT    NOT NULL,
    description        TEXT    NOT NULL DEFAULT '',
    metadata           TEXT    NOT NULL DEFAULT '{}',
    settlement_mode    TEXT    NOT NULL,
    account            TEXT    NOT NULL DEFAULT '',
    customer_ref       TEXT    NOT NULL DEFAULT '',
    payment_method_ref TEXT    NOT NULL DEFAULT '',
    checkout_id        TEXT    NOT NULL DEFAULT '',
    card_brand         TEXT    NOT NULL DEFAULT '',
    card_last4         TEXT    NOT NULL DEFAULT '',
    card_exp_month     INTEGER NOT NULL DEFAULT 0,
    card_exp_year      INTEGER NOT NULL DEFAULT 0,
    decline_code       TEXT    NOT NULL DEFAULT '',
    version            INTEGER NOT NULL DEFAULT 1,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    authorized_at      INTEGER,
    hold_expires_at    INTEGER,
    captured_at        INTEGER,
    released_at        INTEGER
) STRICT;
-- The expiry sweep's work list: holds by expiry.
CREATE INDEX sandbox_payments_held ON sandbox_payments (hold_expires_at) WHERE status = 'authorized';

-- Saved cards. outcome is the sandbox's simulation of the issuer for later
-- off-session holds ('approve' or 'insufficient_funds'), not card data.
CREATE TABLE sandbox_payment_methods (
    id           TEXT    NOT NULL PRIMARY KEY,
    customer_ref TEXT    NOT NULL,
    account      TEXT    NOT NULL DEFAULT '',
    card_brand   TEXT    NOT NULL,
    card_last4   TEXT    NOT NULL,
    exp_month    INTEGER NOT NULL,
    exp_year     INTEGER NOT NULL,
    outcome      TEXT    NOT NULL,
    created_at   INTEGER NOT NULL
) STRICT;

CREATE TABLE sandbox_refunds (
    id         TEXT    NOT NULL PRIMARY KEY,
    payment_id TEXT    NOT NULL REFERENCES sandbox_payments (id),
    amount     INTEGER NOT NULL,
    currency   TEXT    NOT NULL,
    reason     TEXT    NOT NULL DEFAULT '',
    metadata   TEXT    NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX sandbox_refunds_payment ON sandbox_refunds (payment_id, created_at);

-- Webhook outbox: written in the same transaction as the change it reports;
-- the deliverer sends pending events (retrying with backoff) and marks them
-- delivered, or failed after the last attempt.
CREATE TABLE sandbox_events (
    seq             INTEGER NOT NULL PRIMARY KEY,
    id              TEXT    NOT NULL UNIQUE,
    type            TEXT    NOT NULL,
    payload         TEXT    NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    delivered_at    INTEGER
) STRICT;
CREATE INDEX sandbox_events_due ON sandbox_events (next_attempt_at, seq) WHERE status = 'pending';

-- Idempotency keys: the fingerprint of the first request and its outcome,
-- replayed for the same key.
CREATE TABLE sandbox_idempotency (
    key         TEXT    NOT NULL PRIMARY KEY,
    operation   TEXT    NOT NULL,
    fingerprint TEXT    NOT NULL,
    response    TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;

-- +goose Down
DROP TABLE sandbox_idempotency;
DROP TABLE sandbox_events;
DROP TABLE sandbox_refunds;
DROP TABLE sandbox_payment_methods;
DROP TABLE sandbox_payments;
DROP TABLE sandbox_checkouts;
