package store

import (
	"context"
	"fmt"
	"time"

	"github.com/chargestar/chargestar/internal/model"
)

const idTokenCols = `operator_id, id_token, status, expires_at, parent_id_tag, created_at, updated_at`

func scanIDToken(sc interface{ Scan(...any) error }) (model.IDToken, error) {
	var t model.IDToken
	err := sc.Scan(&t.OperatorID, &t.IDToken, &t.Status, ntsCol(&t.ExpiresAt), &t.ParentIDTag,
		tsCol(&t.CreatedAt), tsCol(&t.UpdatedAt))
	return t, err
}

func validTokenStatus(s string) bool {
	switch s {
	case model.TokenAccepted, model.TokenBlocked, model.TokenExpired, model.TokenInvalid:
		return true
	}
	return false
}

// CreateIDToken inserts t (Status defaults to Accepted; CreatedAt and
// UpdatedAt to now). ErrConflict if the operator already has the token in
// any letter case; ErrNotFound if the operator does not exist.
func (s *Store) CreateIDToken(ctx context.Context, t model.IDToken) (model.IDToken, error) {
	if t.OperatorID == "" || t.IDToken == "" {
		return model.IDToken{}, fmt.Errorf("store: id token operator and value are required")
	}
	if t.Status == "" {
		t.Status = model.TokenAccepted
	}
	if !validTokenStatus(t.Status) {
		return model.IDToken{}, fmt.Errorf("store: invalid id token status %q", t.Status)
	}
	now := time.Now()
	if t.CreatedAt.IsZero() {
		t.CreatedAt = now
	}
	if t.UpdatedAt.IsZero() {
		t.UpdatedAt = t.CreatedAt
	}
	t.CreatedAt, t.UpdatedAt, t.ExpiresAt = normTime(t.CreatedAt), normTime(t.UpdatedAt), normTimePtr(t.ExpiresAt)
	d := s.d
	err := s.write(ctx, func(ctx context.Context, w *wtx) error {
		if err := w.requireOperator(ctx, t.OperatorID); err != nil {
			return err
		}
		res, err := w.exec(ctx, `INSERT INTO id_tokens (`+idTokenCols+`, id_token_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT DO NOTHING`, t.OperatorID, t.IDToken, t.Status, d.nts(t.ExpiresAt), t.ParentIDTag,
			d.ts(t.CreatedAt), d.ts(t.UpdatedAt), tokenKey(t.IDToken))
		if err != nil {
			return err
		}
		return rejectIfNone(res, ErrConflict)
	})
	if err != nil {
		return model.IDToken{}, wrap("create id token", err)
	}
	return t, nil
}

// GetIDToken returns the operator's token matching idToken case-insensitively.
func (s *Store) GetIDToken(ctx context.Context, operatorID, idToken string) (model.IDToken, error) {
	t, err := scanIDToken(s.queryRow(ctx, `SELECT `+idTokenCols+` FROM id_tokens
		WHERE operator_id = $1 AND id_token_key = $2`, operatorID, tokenKey(idToken)))
	return t, wrapRead("get id token", err)
}

// ListIDTokens returns the operator's tokens ordered case-insensitively,
// those after the token after (limit: default 100, max 1000).
func (s *Store) ListIDTokens(ctx context.Context, operatorID string, limit int, after string) ([]model.IDToken, error) {
	limit = clampLimit(limit, 100, 1000)
	rows, err := s.query(ctx, `SELECT `+idTokenCols+` FROM id_tokens
		WHERE operator_id = $1 AND id_token_key > $2 ORDER BY id_token_key LIMIT $3`,
		operatorID, tokenKey(after), limit)
	if err != nil {
		return nil, wrap("list id tokens", err)
	}
	return collect(rows, scanIDToken, "list id tokens")
}

// SetIDTokenStatus changes a token's status and returns it.
func (s *Store) SetIDTokenStatus(ctx context.Context, operatorID, idToken, status string) (model.IDToken, error) {
	if !validTokenStatus(status) {
		return model.IDToken{}, fmt.Errorf("store: invalid id token status %q", status)
	}
	now := s.d.ts(time.Now())
	var out model.IDToken
	err := s.write(ctx, func(ctx context.Context, w *wtx) error {
		t, err := scanIDToken(w.queryRow(ctx, `UPDATE id_tokens SET status = $3, updated_at = $4
			WHERE operator_id = $1 AND id_token_key = $2 RETURNING `+idTokenCols,
			operatorID, tokenKey(idToken), status, now))
		out = t
		return rejectNoRows(err)
	})
	if err != nil {
		return model.IDToken{}, wrap("set id token status", err)
	}
	return out, nil
}
