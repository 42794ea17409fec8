-- The built-in sandbox payment provider (internal/payments/sandbox): it stands
-- in for an external card acquirer, so its state lives in tables of its own,
-- with no foreign keys into ours (an acquirer knows nothing of our sessions;
-- the tables could be dropped without touching Charge Star's data). Card
-- numbers are never stored, only brand, last four digits and expiry. Money is
-- integer minor units. PostgreSQL flavour; keep in step with ../sqlite.

-- +goose Up
-- Hosted pages: kind 'payment' (places a hold) or 'setup' (saves a card).
-- status: open → completed | expired.
CREATE TABLE sandbox_checkouts (
    id                 text COLLATE "C" NOT NULL PRIMARY KEY,
    kind               text        NOT NULL,
    status             text        NOT NULL,
    amount             bigint      NOT NULL DEFAULT 0,
    currency           text        NOT NULL DEFAULT '',
    description        text        NOT NULL DEFAULT '',
    success_url        text        NOT NULL,
    cancel_url         text        NOT NULL DEFAULT '',
    metadata           text        NOT NULL DEFAULT '{}',
    settlement_mode    text        NOT NULL,
    account            text COLLATE "C" NOT NULL DEFAULT '',
    customer_ref       text COLLATE "C" NOT NULL DEFAULT '',
    save_card          boolean     NOT NULL DEFAULT false,
    payment_id         text COLLATE "C" NOT NULL DEFAULT '',
    payment_method_ref text COLLATE "C" NOT NULL DEFAULT '',
    last_error         text        NOT NULL DEFAULT '',
    version            bigint      NOT NULL DEFAULT 1,
    created_at         timestamptz NOT NULL,
    expires_at         timestamptz NOT NULL,
    completed_at       timestamptz
);
-- The expiry sweep's work list.
CREATE INDEX sandbox_checkouts_open ON sandbox_checkouts (expires_at) WHERE status = 'open';

-- Payments: pending → authorized → captured | voided | expired; pending →
-- canceled (page expired); failed (off-session decline).
CREATE TABLE sandbox_payments (
    id                 text COLLATE "C" NOT NULL PRIMARY KEY,
    status             text        NOT NULL,
    amount             bigint      NOT NULL,
    amount_captured    bigint      NOT NULL DEFAULT 0,
    amount_refunded    bigint      NOT NULL DEFAULT 0,
    application_fee    bigint      NOT NULL DEFAULT 0,
    currency           text        NOT NULL,
    description        text        NOT NULL DEFAULT '',
    metadata           text        NOT NULL DEFAULT '{}',
    settlement_mode    text        NOT NULL,
    account            text COLLATE "C" NOT NULL DEFAULT '',
    customer_ref       text COLLATE "C" NOT NULL DEFAULT '',
    payment_method_ref text COLLATE "C" NOT NULL DEFAULT '',
    checkout_id        text COLLATE "C" NOT NULL DEFAULT '',
    card_brand         text        NOT NULL DEFAULT '',
    card_last4         text        NOT NULL DEFAULT '',
    card_exp_month     integer     NOT NULL DEFAULT 0,
    card_exp_year      integer     NOT NULL DEFAULT 0,
    decline_code       text        NOT NULL DEFAULT '',
    version            bigint      NOT NULL DEFAULT 1,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    authorized_at      timestamptz,
    hold_expires_at    timestamptz,
    captured_at        timestamptz,
    released_at        timestamptz
);
-- The expiry sweep's work list: holds by expiry.
CREATE INDEX sandbox_payments_held ON sandbox_payments (hold_expires_at) WHERE status = 'authorized';

-- Saved cards. outcome is the sandbox's simulation of the issuer for later
-- off-session holds ('approve' or 'insufficient_funds'), not card data.
CREATE TABLE sandbox_payment_methods (
    id           text COLLATE "C" NOT NULL PRIMARY KEY,
    customer_ref text COLLATE "C" NOT NULL,
    account      text COLLATE "C" NOT NULL DEFAULT '',
    card_brand   text        NOT NULL,
    card_last4   text        NOT NULL,
    exp_month    integer     NOT NULL,
    exp_year     integer     NOT NULL,
    outcome      text        NOT NULL,
    created_at   timestamptz NOT NULL
);

CREATE TABLE sandbox_refunds (
    id         text COLLATE "C" NOT NULL PRIMARY KEY,
    payment_id text COLLATE "C" NOT NULL REFERENCES sandbox_payments (id),
    amount     bigint      NOT NULL,
    currency   text        NOT NULL,
    reason     text        NOT NULL DEFAULT '',
    metadata   text        NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL
);
CREATE INDEX sandbox_refunds_payment ON sandbox_refunds (payment_id, created_at);

-- Webhook outbox: written in the same transaction as the change it reports;
-- the deliverer sends pending events (retrying with backoff) and marks them
-- delivered, or failed after the last attempt.
CREATE TABLE sandbox_events (
    seq             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id              text COLLATE "C" NOT NULL UNIQUE,
    type            text        NOT NULL,
    payload         text        NOT NULL,
    status          text        NOT NULL DEFAULT 'pending',
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    last_error      text        NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    delivered_at    timestamptz
);
CREATE INDEX sandbox_events_due ON sandbox_events (next_attempt_at, seq) WHERE status = 'pending';

-- Idempotency keys: the fingerprint of the first request and its outcome,
-- replayed for the same key.
CREATE TABLE sandbox_idempotency (
    key         text COLLATE "C" NOT NULL PRIMARY KEY,
    operation   text        NOT NULL,
    fingerprint text        NOT NULL,
    response    text        NOT NULL,
    created_at  timestamptz NOT NULL
);

-- +goose Down
DROP TABLE sandbox_idempotency;
DROP TABLE sandbox_events;
DROP TABLE sandbox_refunds;
DROP TABLE sandbox_payment_methods;
DROP TABLE sandbox_payments;
DROP TABLE sandbox_checkouts;
