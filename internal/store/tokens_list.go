package store

import (
	"context"

	"github.com/chargestar/chargestar/internal/model"
)

// ListAPITokens returns the API tokens of operatorID (never the platform
// administrator's), revoked ones included, ordered by id. The hashes are
// not read: a list has no use for them.
func (s *Store) ListAPITokens(ctx context.Context, operatorID string) ([]model.APIToken, error) {
	rows, err := s.query(ctx, `SELECT id, operator_id, name, created_at, revoked_at FROM api_tokens
		WHERE operator_id = $1 ORDER BY id`, operatorID)
	if err != nil {
		return nil, wrap("list api tokens", err)
	}
	return collect(rows, func(sc interface{ Scan(...any) error }) (model.APIToken, error) {
		var t model.APIToken
		err := sc.Scan(&t.ID, nstrCol(&t.OperatorID), &t.Name, tsCol(&t.CreatedAt), ntsCol(&t.RevokedAt))
		return t, err
	}, "list api tokens")
}
