-- The double-entry money ledger (internal/ledger). PostgreSQL flavour; keep
-- in step with ../sqlite.
--
-- Amounts are bigint minor units. An entry's amount is signed: debits
-- positive, credits negative, so a balanced transaction sums to 0. An
-- entry's status is its transaction's status. Entries and transactions are
-- append-only: the triggers below refuse every UPDATE, DELETE and TRUNCATE
-- except a hold's one move from pending to posted or voided.

-- +goose Up
-- One row per (kind, owner, currency), created by its first entry; the four
-- sums are maintained by every write (store.CheckLedger compares them with
-- the entries).
CREATE TABLE ledger_accounts (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind            text COLLATE "C" NOT NULL,
    owner           text COLLATE "C" NOT NULL DEFAULT '',
    currency        text COLLATE "C" NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    debits_posted   bigint      NOT NULL DEFAULT 0 CHECK (debits_posted >= 0),
    credits_posted  bigint      NOT NULL DEFAULT 0 CHECK (credits_posted >= 0),
    debits_pending  bigint      NOT NULL DEFAULT 0 CHECK (debits_pending >= 0),
    credits_pending bigint      NOT NULL DEFAULT 0 CHECK (credits_pending >= 0),
    created_at      timestamptz NOT NULL,
    UNIQUE (kind, owner, currency),
    -- a wallet is never overdrawn, pending holds included
    CHECK (kind <> 'wallet' OR credits_posted - debits_posted - debits_pending >= 0)
);

CREATE TABLE ledger_transactions (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    idempotency_key text COLLATE "C" NOT NULL UNIQUE CHECK (idempotency_key <> ''),
    kind            text COLLATE "C" NOT NULL,
    reference       text COLLATE "C" NOT NULL DEFAULT '',
    status          text COLLATE "C" NOT NULL CHECK (status IN ('pending', 'posted', 'voided')),
    -- a capture or void: the hold it resolves; UNIQUE: at most one each
    resolves        bigint UNIQUE REFERENCES ledger_transactions (id),
    fingerprint     bytea       NOT NULL, -- sha256 of the content, to tell a replay from a reused key
    created_at      timestamptz NOT NULL,
    CHECK (status = 'posted' OR kind = 'hold'),
    CHECK ((resolves IS NULL) = (kind NOT IN ('capture', 'void')))
);
CREATE INDEX ledger_transactions_reference ON ledger_transactions (reference, id);

CREATE TABLE ledger_entries (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tx_id      bigint NOT NULL REFERENCES ledger_transactions (id),
    account_id bigint NOT NULL REFERENCES ledger_accounts (id),
    amount     bigint NOT NULL CHECK (amount <> 0 AND amount BETWEEN -1000000000000000 AND 1000000000000000)
);
CREATE INDEX ledger_entries_tx ON ledger_entries (tx_id);
CREATE INDEX ledger_entries_account ON ledger_entries (account_id, id);

-- +goose StatementBegin
CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION ledger_transactions_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.kind = 'hold' AND OLD.status = 'pending' AND NEW.status IN ('posted', 'voided')
       AND (to_jsonb(NEW) - 'status') = (to_jsonb(OLD) - 'status') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'ledger_transactions: only a pending hold may change, to posted or voided';
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION ledger_accounts_identity() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.id, NEW.kind, NEW.owner, NEW.currency, NEW.created_at)
       IS NOT DISTINCT FROM (OLD.id, OLD.kind, OLD.owner, OLD.currency, OLD.created_at) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'ledger_accounts: only the sums may change';
END
$$;
-- +goose StatementEnd

CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_transactions_forward_only BEFORE UPDATE ON ledger_transactions
    FOR EACH ROW EXECUTE FUNCTION ledger_transactions_forward_only();
CREATE TRIGGER ledger_transactions_no_delete BEFORE DELETE ON ledger_transactions
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_transactions_no_truncate BEFORE TRUNCATE ON ledger_transactions
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_accounts_identity BEFORE UPDATE ON ledger_accounts
    FOR EACH ROW EXECUTE FUNCTION ledger_accounts_identity();
CREATE TRIGGER ledger_accounts_no_delete BEFORE DELETE ON ledger_accounts
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_accounts_no_truncate BEFORE TRUNCATE ON ledger_accounts
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();

-- +goose Down
DROP TABLE ledger_entries;
DROP TABLE ledger_transactions;
DROP TABLE ledger_accounts;
DROP FUNCTION ledger_append_only();
DROP FUNCTION ledger_transactions_forward_only();
DROP FUNCTION ledger_accounts_identity();
