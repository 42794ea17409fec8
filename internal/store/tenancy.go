package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/chargestar/chargestar/internal/model"
)

// Operators, API tokens and sites. These are rare writes; they go through
// the committer like every other write so that the store has one writer and
// one shutdown path.

const operatorCols = `id, name, currency, country, created_at, legal_name, tax_id, address, settlement_mode, merchant_account,
	alert_webhook_url, alert_webhook_secret, alert_offline_minutes, alert_payment_stuck_minutes`

func scanOperator(sc interface{ Scan(...any) error }) (model.Operator, error) {
	var o model.Operator
	err := sc.Scan(&o.ID, &o.Name, &o.Currency, &o.Country, tsCol(&o.CreatedAt), &o.LegalName, &o.TaxID, &o.Address,
		&o.SettlementMode, &o.MerchantAccount, &o.AlertWebhookURL, &o.AlertWebhookSecret, &o.AlertOfflineMinutes, &o.AlertPaymentStuckMinutes)
	return o, err
}

// alertDefaults fills the alert thresholds left 0.
func alertDefaults(o *model.Operator) {
	if o.AlertOfflineMinutes <= 0 {
		o.AlertOfflineMinutes = model.DefaultAlertOfflineMinutes
	}
	if o.AlertPaymentStuckMinutes <= 0 {
		o.AlertPaymentStuckMinutes = model.DefaultAlertPaymentStuckMinutes
	}
}

// CreateOperator inserts o, assigning an "op_…" ID and CreatedAt when empty.
// ErrConflict if the ID exists.
func (s *Store) CreateOperator(ctx context.Context, o model.Operator) (model.Operator, error) {
	if o.Name == "" {
		return model.Operator{}, fmt.Errorf("store: operator name is required")
	}
	if o.ID == "" {
		o.ID = newID(prefixOperator)
	}
	if o.CreatedAt.IsZero() {
		o.CreatedAt = time.Now()
	}
	o.CreatedAt = normTime(o.CreatedAt)
	if o.SettlementMode == "" {
		o.SettlementMode = model.SettlementPlatform
	}
	alertDefaults(&o)
	err := s.write(ctx, func(ctx context.Context, w *wtx) error {
		res, err := w.exec(ctx, `INSERT INTO operators (`+operatorCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) ON CONFLICT DO NOTHING`,
			o.ID, o.Name, o.Currency, o.Country, s.d.ts(o.CreatedAt), o.LegalName, o.TaxID, o.Address, o.SettlementMode, o.MerchantAccount,
			o.AlertWebhookURL, o.AlertWebhookSecret, o.AlertOfflineMinutes, o.AlertPaymentStuckMinutes)
		if err != nil {
			return err
		}
		return rejectIfNone(res, ErrConflict)
	})
	if err != nil {
		return model.Operator{}, wrap("create operator", err)
	}
	return o, nil
}

// UpdateOperator writes o's name, seller details, settlement arrangement
// and alert settings (currency and country are fixed at creation: money
// already booked is in that currency). ErrNotFound for an unknown operator.
func (s *Store) UpdateOperator(ctx context.Context, o model.Operator) (model.Operator, error) {
	if o.SettlementMode == "" {
		o.SettlementMode = model.SettlementPlatform
	}
	alertDefaults(&o)
	err := s.write(ctx, func(ctx context.Context, w *wtx) error {
		res, err := w.exec(ctx, `UPDATE operators SET name = $2, legal_name = $3, tax_id = $4, address = $5,
			settlement_mode = $6, merchant_account = $7, alert_webhook_url = $8, alert_webhook_secret = $9,
			alert_offline_minutes = $10, alert_payment_stuck_minutes = $11 WHERE id = $1`,
			o.ID, o.Name, o.LegalName, o.TaxID, o.Address, o.SettlementMode, o.MerchantAccount,
			o.AlertWebhookURL, o.AlertWebhookSecret, o.AlertOfflineMinutes, o.AlertPaymentStuckMinutes)
		if err != nil {
			return err
		}
		return rejectIfNone(res, ErrNotFound)
	})
	if err != nil {
		return model.Operator{}, wrap("update operator", err)
	}
	return s.GetOperator(ctx, o.ID)
}

// GetOperator returns the operator id.
func (s *Store) GetOperator(ctx context.Context, id string) (model.Operator, error) {
	o, err := scanOperator(s.queryRow(ctx, `SELECT `+operatorCols+` FROM operators WHERE id = $1`, id))
	return o, wrapRead("get operator", err)
}

// ListOperators returns every operator, ordered by id.
func (s *Store) ListOperators(ctx context.Context) ([]model.Operator, error) {
	rows, err := s.query(ctx, `SELECT `+operatorCols+` FROM operators ORDER BY id`)
	if err != nil {
		return nil, wrap("list operators", err)
	}
	return collect(rows, scanOperator, "list operators")
}

const apiTokenCols = `id, operator_id, name, hash, created_at, revoked_at`

func scanAPIToken(sc interface{ Scan(...any) error }) (model.APIToken, error) {
	var t model.APIToken
	err := sc.Scan(&t.ID, nstrCol(&t.OperatorID), &t.Name, &t.Hash, tsCol(&t.CreatedAt), ntsCol(&t.RevokedAt))
	return t, err
}

// CreateAPIToken stores t (its Hash being the SHA-256 of the bearer token),
// assigning a "tok_…" ID and CreatedAt when empty. OperatorID "" makes a
// platform-administrator token. ErrConflict if the hash or ID exists;
// ErrNotFound if the operator does not.
func (s *Store) CreateAPIToken(ctx context.Context, t model.APIToken) (model.APIToken, error) {
	if len(t.Hash) == 0 {
		return model.APIToken{}, fmt.Errorf("store: api token hash is required")
	}
	if t.ID == "" {
		t.ID = newID(prefixToken)
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = time.Now()
	}
	t.CreatedAt = normTime(t.CreatedAt)
	t.RevokedAt = normTimePtr(t.RevokedAt)
	t.Hash = append([]byte(nil), t.Hash...)
	err := s.write(ctx, func(ctx context.Context, w *wtx) error {
		if t.OperatorID != "" {
			if err := w.requireOperator(ctx, t.OperatorID); err != nil {
				return err
			}
		}
		res, err := w.exec(ctx, `INSERT INTO api_tokens (`+apiTokenCols+`) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
			t.ID, nullIfEmpty(t.OperatorID), t.Name, t.Hash, s.d.ts(t.CreatedAt), s.d.nts(t.RevokedAt))
		if err != nil {
			return err
		}
		return rejectIfNone(res, ErrConflict)
	})
	if err != nil {
		return model.APIToken{}, wrap("create api token", err)
	}
	return t, nil
}

// GetAPITokenByHash returns the token whose hash is hash, revoked or not
// (the caller checks RevokedAt).
func (s *Store) GetAPITokenByHash(ctx context.Context, hash []byte) (model.APIToken, error) {
	t, err := scanAPIToken(s.queryRow(ctx, `SELECT `+apiTokenCols+` FROM api_tokens WHERE hash = $1`, hash))
	return t, wrapRead("get api token", err)
}

// RevokeAPIToken marks the token revoked (keeping the first revocation
// time). operatorID "" may revoke any token; otherwise a token of another
// operator (or an administrator token) is ErrNotFound.
func (s *Store) RevokeAPIToken(ctx context.Context, operatorID, id string) error {
	now := s.d.ts(time.Now())
	err := s.write(ctx, func(ctx context.Context, w *wtx) error {
		res, err := w.exec(ctx, `UPDATE api_tokens SET revoked_at = coalesce(revoked_at, $3)
			WHERE id = $1 AND ($2 = '' OR operator_id = $2)`, id, operatorID, now)
		if err != nil {
			return err
		}
		return rejectIfNone(res, ErrNotFound)
	})
	return wrap("revoke api token", err)
}

const siteCols = `id, operator_id, name, address, timezone, created_at, legal_name, tax_id`

func scanSite(sc interface{ Scan(...any) error }) (model.Site, error) {
	var x model.Site
	err := sc.Scan(&x.ID, &x.OperatorID, &x.Name, &x.Address, &x.Timezone, tsCol(&x.CreatedAt), &x.LegalName, &x.TaxID)
	return x, err
}

// CreateSite inserts site, assigning a "site_…" ID and CreatedAt when empty.
// ErrNotFound if the operator does not exist; ErrConflict if the ID does.
func (s *Store) CreateSite(ctx context.Context, site model.Site) (model.Site, error) {
	if site.OperatorID == "" {
		return model.Site{}, fmt.Errorf("store: site operator is required")
	}
	if site.ID == "" {
		site.ID = newID(prefixSite)
	}
	if site.CreatedAt.IsZero() {
		site.CreatedAt = time.Now()
	}
	site.CreatedAt = normTime(site.CreatedAt)
	err := s.write(ctx, func(ctx context.Context, w *wtx) error {
		if err := w.requireOperator(ctx, site.OperatorID); err != nil {
			return err
		}
		res, err := w.exec(ctx, `INSERT INTO sites (`+siteCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
			site.ID, site.OperatorID, site.Name, site.Address, site.Timezone, s.d.ts(site.CreatedAt), site.LegalName, site.TaxID)
		if err != nil {
			return err
		}
		return rejectIfNone(res, ErrConflict)
	})
	if err != nil {
		return model.Site{}, wrap("create site", err)
	}
	return site, nil
}

// GetSite returns the site id of operatorID ("" = any operator).
func (s *Store) GetSite(ctx context.Context, operatorID, id string) (model.Site, error) {
	x, err := scanSite(s.queryRow(ctx, `SELECT `+siteCols+` FROM sites WHERE id = $1 AND ($2 = '' OR operator_id = $2)`, id, operatorID))
	return x, wrapRead("get site", err)
}

// ListSites returns the sites of operatorID ("" = all), ordered by id.
func (s *Store) ListSites(ctx context.Context, operatorID string) ([]model.Site, error) {
	rows, err := s.query(ctx, `SELECT `+siteCols+` FROM sites WHERE ($1 = '' OR operator_id = $1) ORDER BY id`, operatorID)
	if err != nil {
		return nil, wrap("list sites", err)
	}
	return collect(rows, scanSite, "list sites")
}

// requireOperator rejects with ErrNotFound unless the operator exists.
func (w *wtx) requireOperator(ctx context.Context, id string) error {
	return w.requireRow(ctx, `SELECT 1 FROM operators WHERE id = $1`, "operator", id)
}

// requireRow rejects with ErrNotFound (naming what) unless q returns a row.
func (w *wtx) requireRow(ctx context.Context, q, what string, args ...any) error {
	var one int
	err := w.queryRow(ctx, q, args...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return reject(fmt.Errorf("%w: %s %v", ErrNotFound, what, args[0]))
	}
	return err
}

// rejectIfNone rejects with err when res affected no row.
func rejectIfNone(res sql.Result, err error) error {
	n, e := res.RowsAffected()
	if e != nil {
		return e
	}
	if n == 0 {
		return reject(err)
	}
	return nil
}

// collect scans all rows with scan.
func collect[T any](rows *sql.Rows, scan func(interface{ Scan(...any) error }) (T, error), what string) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, wrap(what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(what, err)
	}
	return out, nil
}

// wrap prefixes a database error with the operation; the store's sentinel
// errors and context errors pass through unchanged so that errors.Is works
// and messages stay short.
func wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrConflict) || errors.Is(err, ErrClosed) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if isUniqueViolation(err) {
		return fmt.Errorf("%w: %s: %v", ErrConflict, what, err)
	}
	return fmt.Errorf("store: %s: %w", what, err)
}

// wrapRead is wrap that turns sql.ErrNoRows into ErrNotFound.
func wrapRead(what string, err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return wrap(what, err)
}
