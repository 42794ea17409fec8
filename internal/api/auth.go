package api

import (
	"time"

	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"github.com/chargestar/chargestar/internal/access"
	"net/http"
	"strings"

	"github.com/chargestar/chargestar/internal/store"
)

// principal is who a request acts for: the platform administrator, or one
// operator; through an API token or a console user's signed-in browser.
type principal struct {
	admin      bool
	operatorID string      // "" for the administrator
	userID     string      // the console user; "" for an API token
	userRole   access.Role // the console user's role; "" for an API token
	email      string      // the console user's email, for audit fields
}

// role is what the principal may do: a console user's role; an API token
// of an operator acts as its owner, the administrator's as administrator.
func (p principal) role() access.Role {
	switch {
	case p.admin:
		return access.Admin
	case p.userRole != "":
		return p.userRole
	}
	return access.Owner
}

// ConsoleCookie is the cookie of a console user's signed-in browser; its
// value is a token whose SHA-256 is the console_sessions key.
const ConsoleCookie = "chargestar_console"

// CSRFHeader carries the console session's CSRF token on every request
// that changes something; a cookie alone never authorises a change.
const CSRFHeader = "X-CSRF-Token"

// ConsoleSessionTTL is how long a console sign-in lasts without use; each
// use slides it (at most once a minute).
const ConsoleSessionTTL = 12 * time.Hour

// tokenPrefix starts every API token this package issues.
const tokenPrefix = "cs_"

// newAPIToken returns a fresh bearer token ("cs_" + 32 random bytes,
// base64url) and the SHA-256 hash that is all the store keeps of it.
func newAPIToken() (token string, hash []byte) {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	token = tokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	return token, hashToken(token)
}

func hashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

func errUnauthorized(msg string) *apiError {
	return errorf(http.StatusUnauthorized, codeUnauthorized, "%s", msg)
}

// authenticate resolves the bearer token of r.
func (h *handler) authenticate(r *http.Request) (principal, error) {
	header := r.Header.Get("Authorization")
	if header == "" {
		if c, err := r.Cookie(ConsoleCookie); err == nil && c.Value != "" {
			return h.authenticateConsole(r, c.Value)
		}
	}
	scheme, token, ok := strings.Cut(header, " ")
	if header == "" || !ok || !strings.EqualFold(scheme, "Bearer") {
		return principal{}, errUnauthorized("missing bearer token: send Authorization: Bearer <token>")
	}
	token = strings.TrimSpace(token)
	if token == "" {
		return principal{}, errUnauthorized("missing bearer token: send Authorization: Bearer <token>")
	}
	hash := hashToken(token)
	// Hashes have one length, so the comparison takes the same time
	// whatever the length of the token tried.
	if h.hasAdmin && subtle.ConstantTimeCompare(hash, h.adminHash[:]) == 1 {
		return principal{admin: true}, nil
	}
	invalid := errUnauthorized("invalid or revoked API token")
	if !strings.HasPrefix(token, tokenPrefix) {
		return principal{}, invalid
	}
	t, err := h.store.GetAPITokenByHash(r.Context(), hash)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return principal{}, invalid
	case err != nil:
		return principal{}, err
	case t.RevokedAt != nil:
		return principal{}, invalid
	case t.OperatorID == "":
		return principal{admin: true}, nil
	}
	return principal{operatorID: t.OperatorID}, nil
}

// canSee reports whether p may see a resource of operatorID.
func (p principal) canSee(operatorID string) bool { return p.admin || p.operatorID == operatorID }

// scope is the operator id to pass to store look-ups that take one:
// "" (any) for the administrator.
func (p principal) scope() string { return p.operatorID }

// forbidAdminOnly is the 403 for a platform-level action; it names no
// other operator's resource, so it is not a tenancy answer.
func errAdminOnly(what string) *apiError {
	return errorf(http.StatusForbidden, codeForbidden, "only a platform administrator token may %s", what)
}

// ownerFor resolves the operator_id of a create request: an operator token
// may omit it (its own) but not name another (404, as for any foreign
// resource); an administrator must give it.
func (p principal) ownerFor(requested string) (string, error) {
	if p.admin {
		if requested == "" {
			return "", invalid("operator_id", "is required with an administrator token")
		}
		return requested, nil
	}
	if requested == "" || requested == p.operatorID {
		return p.operatorID, nil
	}
	return "", notFound("operator", requested)
}

// filterOperator resolves an operator_id query filter: the administrator
// may filter by any (or none); an operator token only by its own.
func (h *handler) filterOperator(r *http.Request, p principal) (string, error) {
	requested := r.URL.Query().Get("operator_id")
	if !p.admin {
		if requested == "" || requested == p.operatorID {
			return p.operatorID, nil
		}
		return "", notFound("operator", requested)
	}
	if requested == "" {
		return "", nil
	}
	if err := h.requireOperator(r, requested); err != nil {
		return "", err
	}
	return requested, nil
}

// requireOperator answers 404 unless the operator exists.
func (h *handler) requireOperator(r *http.Request, id string) error {
	if _, err := h.store.GetOperator(r.Context(), id); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return notFound("operator", id)
		}
		return err
	}
	return nil
}

// authenticateConsole resolves a console session cookie. Requests that may
// change something must also carry the session's CSRF token in a header,
// which another site's page cannot set.
func (h *handler) authenticateConsole(r *http.Request, token string) (principal, error) {
	now := h.now()
	cs, err := h.store.GetConsoleSession(r.Context(), hashToken(token), now)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return principal{}, errUnauthorized("your console session has ended: sign in again")
	case err != nil:
		return principal{}, err
	case cs.User.DisabledAt != nil:
		return principal{}, errUnauthorized("this user is disabled")
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
	default:
		got := r.Header.Get(CSRFHeader)
		if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(cs.CSRFToken)) != 1 {
			return principal{}, errorf(http.StatusForbidden, codeCSRF, "missing or wrong %s header: reload the console page", CSRFHeader)
		}
	}
	if now.Sub(cs.LastSeenAt) > time.Minute {
		if err := h.store.ExtendConsoleSession(r.Context(), cs.Hash, now, now.Add(ConsoleSessionTTL)); err != nil {
			h.log.Warn("extending a console session failed", "user_id", cs.User.ID, "err", err)
		}
	}
	role := access.Role(cs.User.Role)
	return principal{admin: role == access.Admin, operatorID: cs.User.OperatorID, userID: cs.User.ID, userRole: role, email: cs.User.Email}, nil
}
