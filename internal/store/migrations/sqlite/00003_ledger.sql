-- The double-entry money ledger (internal/ledger). SQLite flavour; keep in
-- step with ../postgres.
--
-- Amounts are INTEGER minor units. An entry's amount is signed: debits
-- positive, credits negative, so a balanced transaction sums to 0. An
-- entry's status is its transaction's status. Entries and transactions are
-- append-only: the triggers below refuse every UPDATE and DELETE except a
-- hold's one move from pending to posted or voided.

-- +goose Up
-- One row per (kind, owner, currency), created by its first entry; the four
-- sums are maintained by every write (store.CheckLedger compares them with
-- the entries).
CREATE TABLE ledger_accounts (
    id              INTEGER NOT NULL PRIMARY KEY,
    kind            TEXT    NOT NULL,
    owner           TEXT    NOT NULL DEFAULT '',
    currency        TEXT    NOT NULL CHECK (length(currency) = 3 AND currency GLOB '[A-Z][A-Z][A-Z]'),
    debits_posted   INTEGER NOT NULL DEFAULT 0 CHECK (debits_posted >= 0),
    credits_posted  INTEGER NOT NULL DEFAULT 0 CHECK (credits_posted >= 0),
    debits_pending  INTEGER NOT NULL DEFAULT 0 CHECK (debits_pending >= 0),
    credits_pending INTEGER NOT NULL DEFAULT 0 CHECK (credits_pending >= 0),
    created_at      INTEGER NOT NULL,
    UNIQUE (kind, owner, currency),
    -- a wallet is never overdrawn, pending holds included
    CHECK (kind <> 'wallet' OR credits_posted - debits_posted - debits_pending >= 0)
) STRICT;

CREATE TABLE ledger_transactions (
    id              INTEGER NOT NULL PRIMARY KEY,
    idempotency_key TEXT    NOT NULL UNIQUE CHECK (idempotency_key <> ''),
    kind            TEXT    NOT NULL,
    reference       TEXT    NOT NULL DEFAULT '',
    status          TEXT    NOT NULL CHECK (status IN ('pending', 'posted', 'voided')),
    -- a capture or void: the hold it resolves; UNIQUE: at most one each
    resolves        INTEGER UNIQUE REFERENCES ledger_transactions (id),
    fingerprint     BLOB    NOT NULL, -- sha256 of the content, to tell a replay from a reused key
    created_at      INTEGER NOT NULL,
    CHECK (status = 'posted' OR kind = 'hold'),
    CHECK ((resolves IS NULL) = (kind NOT IN ('capture', 'void')))
) STRICT;
CREATE INDEX ledger_transactions_reference ON ledger_transactions (reference, id);

CREATE TABLE ledger_entries (
    id         INTEGER NOT NULL PRIMARY KEY,
    tx_id      INTEGER NOT NULL REFERENCES ledger_transactions (id),
    account_id INTEGER NOT NULL REFERENCES ledger_accounts (id),
    amount     INTEGER NOT NULL CHECK (amount <> 0 AND amount BETWEEN -1000000000000000 AND 1000000000000000)
) STRICT;
CREATE INDEX ledger_entries_tx ON ledger_entries (tx_id);
CREATE INDEX ledger_entries_account ON ledger_entries (account_id, id);

-- +goose StatementBegin
CREATE TRIGGER ledger_entries_no_update BEFORE UPDATE ON ledger_entries
BEGIN
    SELECT RAISE(ABORT, 'ledger_entries are append-only');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER ledger_entries_no_delete BEFORE DELETE ON ledger_entries
BEGIN
    SELECT RAISE(ABORT, 'ledger_entries are append-only');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER ledger_transactions_forward_only BEFORE UPDATE ON ledger_transactions
WHEN NOT (OLD.kind = 'hold' AND OLD.status = 'pending' AND NEW.status IN ('posted', 'voided')
          AND NEW.id = OLD.id AND NEW.idempotency_key = OLD.idempotency_key AND NEW.kind = OLD.kind
          AND NEW.reference = OLD.reference AND NEW.resolves IS OLD.resolves
          AND NEW.fingerprint = OLD.fingerprint AND NEW.created_at = OLD.created_at)
BEGIN
    SELECT RAISE(ABORT, 'ledger_transactions: only a pending hold may change, to posted or voided');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER ledger_transactions_no_delete BEFORE DELETE ON ledger_transactions
BEGIN
    SELECT RAISE(ABORT, 'ledger_transactions are append-only');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER ledger_accounts_identity BEFORE UPDATE ON ledger_accounts
WHEN NEW.id <> OLD.id OR NEW.kind <> OLD.kind OR NEW.owner <> OLD.owner OR NEW.currency <> OLD.currency
  OR NEW.created_at <> OLD.created_at
BEGIN
    SELECT RAISE(ABORT, 'ledger_accounts: only the sums may change');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER ledger_accounts_no_delete BEFORE DELETE ON ledger_accounts
BEGIN
    SELECT RAISE(ABORT, 'ledger_accounts are never deleted');
END;
-- +goose StatementEnd

-- +goose Down
DROP TABLE ledger_entries;
DROP TABLE ledger_transactions;
DROP TABLE ledger_accounts;
