package store

import (
	"context"

	"github.com/chargestar/chargestar/internal/model"
)

// UpdateSite writes site's name, address, timezone and tax details (its
// operator and creation time are fixed) and returns the stored site.
// ErrNotFound unless site.ID is a site of site.OperatorID ("" = any
// operator).
func (s *Store) UpdateSite(ctx context.Context, site model.Site) (model.Site, error) {
	var out model.Site
	err := s.write(ctx, func(ctx context.Context, w *wtx) error {
		x, err := scanSite(w.queryRow(ctx, `UPDATE sites SET name = $3, address = $4, timezone = $5, legal_name = $6, tax_id = $7
			WHERE id = $1 AND ($2 = '' OR operator_id = $2) RETURNING `+siteCols,
			site.ID, site.OperatorID, site.Name, site.Address, site.Timezone, site.LegalName, site.TaxID))
		if err != nil {
			return rejectNoRows(err)
		}
		out = x
		return nil
	})
	if err != nil {
		return model.Site{}, wrap("update site", err)
	}
	return out, nil
}
