package api

import (
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/chargestar/chargestar/internal/model"
	"github.com/chargestar/chargestar/internal/store"
)

// IDToken is an id token an operator authorises directly.
type IDToken struct {
	IDToken     string     `json:"id_token" doc:"The token as stations send it (matched case-insensitively)." example:"04A2B3C4D5E6F7"`
	OperatorID  string     `json:"operator_id"`
	Status      string     `json:"status" enum:"Accepted,Blocked,Expired,Invalid"`
	ExpiresAt   *time.Time `json:"expires_at" doc:"After this the token is answered Expired; null: never."`
	ParentIDTag *string    `json:"parent_id_tag" doc:"Group token (OCPP parentIdTag / groupIdToken); null when none."`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
}

// CreateIDTokenRequest is the body of POST /api/v1/id-tokens.
type CreateIDTokenRequest struct {
	IDToken     string `json:"id_token" minLength:"1" maxLength:"36" pattern:"^[!-~]{1,36}$" doc:"1 to 36 printable ASCII characters without spaces (OCPP 2.x idToken holds 36; 1.6 stations send at most 20)."`
	OperatorID  string `json:"operator_id,omitempty" doc:"The owning operator. An operator token may omit it (its own) but not name another; an administrator token must give it."`
	Status      string `json:"status,omitempty" enum:"Accepted,Blocked" doc:"Default Accepted."`
	ExpiresAt   string `json:"expires_at,omitempty" format:"date-time" doc:"RFC 3339; after it the token is answered Expired."`
	ParentIDTag string `json:"parent_id_tag,omitempty" maxLength:"36" pattern:"^[!-~]{1,36}$" doc:"Group token (OCPP parentIdTag)."`
}

// UpdateIDTokenRequest is the body of PATCH /api/v1/id-tokens/{idToken}.
type UpdateIDTokenRequest struct {
	Status string `json:"status" enum:"Accepted,Blocked"`
}

func idTokenOut(t model.IDToken) IDToken {
	return IDToken{IDToken: t.IDToken, OperatorID: t.OperatorID, Status: t.Status, ExpiresAt: utcPtr(t.ExpiresAt),
		ParentIDTag: strPtr(t.ParentIDTag), CreatedAt: utc(t.CreatedAt), UpdatedAt: utc(t.UpdatedAt)}
}

func checkIDTokenValue(field, v string, required bool) error {
	if v == "" {
		if required {
			return invalid(field, "is required")
		}
		return nil
	}
	if len(v) > 36 {
		return invalid(field, "must have at most 36 characters")
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '!' || v[i] > '~' {
			return invalid(field, "must be printable ASCII without spaces")
		}
	}
	return nil
}

func checkTokenStatus(field, s string) error {
	if s != model.TokenAccepted && s != model.TokenBlocked {
		return invalid(field, "must be Accepted or Blocked")
	}
	return nil
}

func (h *handler) createIDToken(w http.ResponseWriter, r *http.Request, p principal) error {
	var req CreateIDTokenRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		return err
	}
	if err := checkIDTokenValue("id_token", req.IDToken, true); err != nil {
		return err
	}
	opID, err := p.ownerFor(req.OperatorID)
	if err != nil {
		return err
	}
	if req.Status == "" {
		req.Status = model.TokenAccepted
	}
	if err := checkTokenStatus("status", req.Status); err != nil {
		return err
	}
	var expires *time.Time
	if req.ExpiresAt != "" {
		t, err := time.Parse(time.RFC3339, req.ExpiresAt)
		if err != nil {
			return invalid("expires_at", "must be an RFC 3339 date-time, e.g. 2027-01-31T00:00:00Z")
		}
		expires = &t
	}
	if err := checkIDTokenValue("parent_id_tag", req.ParentIDTag, false); err != nil {
		return err
	}
	if err := h.requireOperator(r, opID); err != nil {
		return err
	}
	now := h.now()
	t, err := h.store.CreateIDToken(r.Context(), model.IDToken{
		OperatorID: opID, IDToken: req.IDToken, Status: req.Status, ExpiresAt: expires,
		ParentIDTag: req.ParentIDTag, CreatedAt: now, UpdatedAt: now,
	})
	switch {
	case errors.Is(err, store.ErrConflict):
		return errorf(http.StatusConflict, codeIDTokenExists, "the operator already has id token %q (id tokens match case-insensitively)", req.IDToken)
	case errors.Is(err, store.ErrNotFound):
		return notFound("operator", opID)
	case err != nil:
		return err
	}
	w.Header().Set("Location", Prefix+"id-tokens/"+url.PathEscape(t.IDToken))
	writeJSON(w, http.StatusCreated, idTokenOut(t))
	return nil
}

func (h *handler) listIDTokens(w http.ResponseWriter, r *http.Request, p principal) error {
	pg, err := parsePage(r)
	if err != nil {
		return err
	}
	opID, err := h.filterOperator(r, p)
	if err != nil {
		return err
	}
	if opID == "" {
		return badParam("operator_id", "is required with an administrator token")
	}
	toks, err := h.store.ListIDTokens(r.Context(), opID, pg.limit+1, pg.cursor)
	if err != nil {
		return err
	}
	toks, next := trimPage(toks, pg.limit, func(t model.IDToken) string { return t.IDToken })
	out := make([]IDToken, len(toks))
	for i, t := range toks {
		out[i] = idTokenOut(t)
	}
	writeJSON(w, http.StatusOK, newList(out, next))
	return nil
}

// idTokenFor finds the path's {idToken} among the tokens p may see. An
// administrator without operator_id gets the token if exactly one
// operator has it.
func (h *handler) idTokenFor(r *http.Request, p principal) (model.IDToken, error) {
	value := r.PathValue("idToken")
	opID := r.URL.Query().Get("operator_id")
	ctx := r.Context()
	if !p.admin {
		if opID != "" && opID != p.operatorID {
			return model.IDToken{}, notFound("id token", value)
		}
		opID = p.operatorID
	}
	if opID != "" {
		t, err := h.store.GetIDToken(ctx, opID, value)
		if errors.Is(err, store.ErrNotFound) {
			return model.IDToken{}, notFound("id token", value)
		}
		return t, err
	}
	ops, err := h.store.ListOperators(ctx)
	if err != nil {
		return model.IDToken{}, err
	}
	var found []model.IDToken
	for _, o := range ops {
		t, err := h.store.GetIDToken(ctx, o.ID, value)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return model.IDToken{}, err
		}
		found = append(found, t)
	}
	switch len(found) {
	case 0:
		return model.IDToken{}, notFound("id token", value)
	case 1:
		return found[0], nil
	}
	return model.IDToken{}, errorf(http.StatusBadRequest, codeAmbiguousIDToken,
		"%d operators have id token %q; name one with the operator_id query parameter", len(found), value)
}

func (h *handler) getIDToken(w http.ResponseWriter, r *http.Request, p principal) error {
	t, err := h.idTokenFor(r, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, idTokenOut(t))
	return nil
}

func (h *handler) setIDTokenStatus(w http.ResponseWriter, r *http.Request, t model.IDToken, status string) error {
	t, err := h.store.SetIDTokenStatus(r.Context(), t.OperatorID, t.IDToken, status)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("id token", r.PathValue("idToken"))
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, idTokenOut(t))
	return nil
}

func (h *handler) updateIDToken(w http.ResponseWriter, r *http.Request, p principal) error {
	t, err := h.idTokenFor(r, p)
	if err != nil {
		return err
	}
	var req UpdateIDTokenRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		return err
	}
	if req.Status == "" {
		return invalid("status", "is required")
	}
	if err := checkTokenStatus("status", req.Status); err != nil {
		return err
	}
	return h.setIDTokenStatus(w, r, t, req.Status)
}

func (h *handler) blockIDToken(w http.ResponseWriter, r *http.Request, p principal) error {
	t, err := h.idTokenFor(r, p)
	if err != nil {
		return err
	}
	return h.setIDTokenStatus(w, r, t, model.TokenBlocked)
}
