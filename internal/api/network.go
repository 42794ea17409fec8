package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/chargestar/chargestar/internal/access"
	"github.com/chargestar/chargestar/internal/model"
	"github.com/chargestar/chargestar/internal/store"
)

// The network as the console edits it: a site's details (its name,
// address, time zone and its own GST/ABN details) and the list of an
// operator's API tokens (ids and names only; a token's secret is shown once,
// when it is created, and only its hash is kept).

type networkStore interface {
	UpdateSite(ctx context.Context, s model.Site) (model.Site, error)
	ListAPITokens(ctx context.Context, operatorID string) ([]model.APIToken, error)
}

// UpdateSiteRequest is the body of PATCH /api/v1/sites/{siteId}.
type UpdateSiteRequest struct {
	Name      Optional[string] `json:"name,omitzero" nullable:"false" minLength:"1" maxLength:"200"`
	Address   Optional[string] `json:"address,omitzero" maxLength:"500" doc:"null or \"\" clears it."`
	Timezone  Optional[string] `json:"timezone,omitzero" nullable:"false" doc:"IANA timezone name; \"\" is UTC. Reports and tariffs' times of day are in it." example:"Australia/Sydney"`
	LegalName Optional[string] `json:"legal_name,omitzero" maxLength:"200" doc:"The site's own seller; null or \"\": the operator's."`
	TaxID     Optional[string] `json:"tax_id,omitzero" maxLength:"50" doc:"The site's own tax registration number; for an AU operator a valid ABN (400 invalid_abn otherwise), stored as \"51 824 753 556\". null or \"\": the operator's."`
}

// APIToken is an operator's API token as listed: never its secret.
type APIToken struct {
	ID         string     `json:"id" doc:"Token id (tok_…), for revoking it." example:"tok_abcdefghijklmnopqrstuvwx"`
	OperatorID string     `json:"operator_id"`
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"created_at"`
	RevokedAt  *time.Time `json:"revoked_at" doc:"When the token was revoked; null while it works."`
}

func (h *handler) networkRoutes() []route {
	return []route{
		{method: "PATCH", pattern: "/api/v1/sites/{siteId}", handle: h.updateSite, need: access.ManageNetwork,
			id: "updateSite", tag: tagSites, summary: "Change a site's name, address, time zone or tax details",
			desc: "Fields left out are unchanged. A site's legal_name and tax_id are its own seller details (a car park owned by another " +
				"entity); empty, the operator's apply. An AU operator's site tax_id must be a valid ABN (400 invalid_abn).",
			body: UpdateSiteRequest{}, ok: 200, resp: Site{}, errs: []int{e400, e401, e403, e404, e413}},
		{method: "GET", pattern: "/api/v1/operators/{operatorId}/tokens", handle: h.listTokens, need: access.ManageOperator,
			id: "listAPITokens", tag: tagOperators, summary: "List an operator's API tokens, ordered by id",
			desc:  "Administrator, or a token or owner of the same operator. Ids, names and dates only: a token's secret is shown once, when it is created.",
			query: []param{limitParam, cursorParam}, ok: 200, resp: List[APIToken]{}, errs: []int{e400, e401, e403, e404}},
	}
}

// siteTaxID checks a site's tax id ("" is the operator's): for an AU
// operator it must be an ABN, which is returned in its usual grouping.
func siteTaxID(op model.Operator, taxID string) (string, error) {
	if taxID == "" || op.Country != "AU" {
		return taxID, nil
	}
	abn, ok := normalizeABN(taxID)
	if !ok {
		return "", errorf(http.StatusBadRequest, codeInvalidABN,
			"tax_id: %q is not a valid Australian Business Number (11 digits with a valid ABN checksum)", taxID)
	}
	return abn, nil
}

func (h *handler) updateSite(w http.ResponseWriter, r *http.Request, p principal) error {
	id := r.PathValue("siteId")
	s, err := h.store.GetSite(r.Context(), p.scope(), id)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("site", id)
	}
	if err != nil {
		return err
	}
	var req UpdateSiteRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		return err
	}
	if req.Name.Set {
		if req.Name.Null {
			return invalid("name", "must not be null")
		}
		if s.Name, err = checkText("name", req.Name.Value, 1, 200); err != nil {
			return err
		}
	}
	if err := optionalText("address", req.Address, &s.Address, 500); err != nil {
		return err
	}
	if req.Timezone.Set {
		if req.Timezone.Null {
			return invalid("timezone", "must not be null (\"\" is UTC)")
		}
		if s.Timezone, err = checkTimezone("timezone", req.Timezone.Value); err != nil {
			return err
		}
	}
	if err := optionalText("legal_name", req.LegalName, &s.LegalName, 200); err != nil {
		return err
	}
	if err := optionalText("tax_id", req.TaxID, &s.TaxID, 50); err != nil {
		return err
	}
	if req.TaxID.Set {
		op, err := h.getOperatorByID(r.Context(), s.OperatorID)
		if err != nil {
			return err
		}
		if s.TaxID, err = siteTaxID(op, s.TaxID); err != nil {
			return err
		}
	}
	s, err = h.store.UpdateSite(r.Context(), s)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("site", id)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, siteOut(s))
	return nil
}

func (h *handler) listTokens(w http.ResponseWriter, r *http.Request, p principal) error {
	pg, err := parsePage(r)
	if err != nil {
		return err
	}
	o, err := h.operatorFor(r, p)
	if err != nil {
		return err
	}
	toks, err := h.store.ListAPITokens(r.Context(), o.ID)
	if err != nil {
		return err
	}
	toks, next := paginate(toks, func(t model.APIToken) string { return t.ID }, pg)
	out := make([]APIToken, len(toks))
	for i, t := range toks {
		out[i] = APIToken{ID: t.ID, OperatorID: t.OperatorID, Name: t.Name, CreatedAt: utc(t.CreatedAt), RevokedAt: utcPtr(t.RevokedAt)}
	}
	writeJSON(w, http.StatusOK, newList(out, next))
	return nil
}
