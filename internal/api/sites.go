package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/chargestar/chargestar/internal/model"
	"github.com/chargestar/chargestar/internal/store"
)

// Site is a place with stations.
type Site struct {
	ID         string    `json:"id" example:"site_abcdefghijklmnopqrstuvwx"`
	OperatorID string    `json:"operator_id"`
	Name       string    `json:"name"`
	Address    string    `json:"address"`
	Timezone   string    `json:"timezone" doc:"IANA timezone name." example:"Australia/Sydney"`
	LegalName  string    `json:"legal_name" doc:"The site's own seller (a car park owned by another entity); \"\" means the operator's."`
	TaxID      string    `json:"tax_id" doc:"The site's own tax registration number (for AU operators an ABN, as \"51 824 753 556\"); \"\" means the operator's."`
	CreatedAt  time.Time `json:"created_at"`
}

// CreateSiteRequest is the body of POST /api/v1/sites.
type CreateSiteRequest struct {
	OperatorID string `json:"operator_id,omitempty" doc:"The owning operator. An operator token may omit it (its own); an administrator token must give it."`
	Name       string `json:"name" minLength:"1" maxLength:"200"`
	Address    string `json:"address,omitempty" maxLength:"500"`
	Timezone   string `json:"timezone,omitempty" doc:"IANA timezone name (default UTC)." example:"Australia/Sydney"`
	LegalName  string `json:"legal_name,omitempty" maxLength:"200" doc:"The site's own seller; omitted or \"\": the operator's."`
	TaxID      string `json:"tax_id,omitempty" maxLength:"50" doc:"The site's own tax registration number; for an AU operator a valid ABN (400 invalid_abn otherwise), stored as \"51 824 753 556\". Omitted or \"\": the operator's."`
}

func siteOut(s model.Site) Site {
	return Site{ID: s.ID, OperatorID: s.OperatorID, Name: s.Name, Address: s.Address, Timezone: s.Timezone,
		LegalName: s.LegalName, TaxID: s.TaxID, CreatedAt: utc(s.CreatedAt)}
}

// checkTimezone accepts an IANA timezone name ("" is UTC).
func checkTimezone(field, tz string) (string, error) {
	if tz == "" {
		return "UTC", nil
	}
	if tz == "Local" || len(tz) > 64 {
		return "", invalid(field, "%q is not an IANA timezone name", tz)
	}
	if _, err := time.LoadLocation(tz); err != nil {
		return "", invalid(field, "%q is not an IANA timezone name, e.g. Europe/Berlin", tz)
	}
	return tz, nil
}

func (h *handler) createSite(w http.ResponseWriter, r *http.Request, p principal) error {
	var req CreateSiteRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		return err
	}
	opID, err := p.ownerFor(req.OperatorID)
	if err != nil {
		return err
	}
	name, err := checkText("name", req.Name, 1, 200)
	if err != nil {
		return err
	}
	addr, err := checkText("address", req.Address, 0, 500)
	if err != nil {
		return err
	}
	tz, err := checkTimezone("timezone", req.Timezone)
	if err != nil {
		return err
	}
	legal, err := checkText("legal_name", req.LegalName, 0, 200)
	if err != nil {
		return err
	}
	taxID, err := checkText("tax_id", req.TaxID, 0, 50)
	if err != nil {
		return err
	}
	op, err := h.getOperatorByID(r.Context(), opID)
	if err != nil {
		return err
	}
	if taxID, err = siteTaxID(op, taxID); err != nil {
		return err
	}
	s, err := h.store.CreateSite(r.Context(), model.Site{OperatorID: opID, Name: name, Address: addr, Timezone: tz,
		LegalName: legal, TaxID: taxID, CreatedAt: h.now()})
	if errors.Is(err, store.ErrNotFound) {
		return notFound("operator", opID)
	}
	if err != nil {
		return err
	}
	w.Header().Set("Location", Prefix+"sites/"+s.ID)
	writeJSON(w, http.StatusCreated, siteOut(s))
	return nil
}

func (h *handler) listSites(w http.ResponseWriter, r *http.Request, p principal) error {
	pg, err := parsePage(r)
	if err != nil {
		return err
	}
	opID, err := h.filterOperator(r, p)
	if err != nil {
		return err
	}
	sites, err := h.store.ListSites(r.Context(), opID)
	if err != nil {
		return err
	}
	sites, next := paginate(sites, func(s model.Site) string { return s.ID }, pg)
	out := make([]Site, len(sites))
	for i, s := range sites {
		out[i] = siteOut(s)
	}
	writeJSON(w, http.StatusOK, newList(out, next))
	return nil
}

func (h *handler) getSite(w http.ResponseWriter, r *http.Request, p principal) error {
	id := r.PathValue("siteId")
	s, err := h.store.GetSite(r.Context(), p.scope(), id)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("site", id)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, siteOut(s))
	return nil
}
