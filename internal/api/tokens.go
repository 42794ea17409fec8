package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/chargestar/chargestar/internal/model"
	"github.com/chargestar/chargestar/internal/store"
)

// CreateTokenRequest is the (optional) body of POST /api/v1/operators/{operatorId}/tokens.
type CreateTokenRequest struct {
	Name string `json:"name,omitempty" maxLength:"100" doc:"What the token is for, e.g. \"billing export\"."`
}

// NewAPIToken is a created API token, with its secret.
type NewAPIToken struct {
	ID         string    `json:"id" doc:"Token id (tok_…), for revoking it." example:"tok_abcdefghijklmnopqrstuvwx"`
	Token      string    `json:"token" pattern:"^cs_[A-Za-z0-9_-]{43}$" doc:"The bearer token. Shown only now: store it safely."`
	OperatorID string    `json:"operator_id"`
	Name       string    `json:"name"`
	CreatedAt  time.Time `json:"created_at"`
}

func (h *handler) createToken(w http.ResponseWriter, r *http.Request, p principal) error {
	o, err := h.operatorFor(r, p)
	if err != nil {
		return err
	}
	var req CreateTokenRequest
	if err := decodeJSON(w, r, &req, true); err != nil {
		return err
	}
	name := ""
	if req.Name != "" {
		if name, err = checkText("name", req.Name, 1, 100); err != nil {
			return err
		}
	}
	secret, hash := newAPIToken()
	t, err := h.store.CreateAPIToken(r.Context(), model.APIToken{OperatorID: o.ID, Name: name, Hash: hash, CreatedAt: h.now()})
	if errors.Is(err, store.ErrNotFound) {
		return notFound("operator", o.ID)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, NewAPIToken{ID: t.ID, Token: secret, OperatorID: t.OperatorID, Name: t.Name, CreatedAt: utc(t.CreatedAt)})
	return nil
}

func (h *handler) revokeToken(w http.ResponseWriter, r *http.Request, p principal) error {
	o, err := h.operatorFor(r, p)
	if err != nil {
		return err
	}
	id := r.PathValue("tokenId")
	if err := h.store.RevokeAPIToken(r.Context(), o.ID, id); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return notFound("API token", id)
		}
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
