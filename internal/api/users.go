package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/chargestar/chargestar/internal/access"
	"github.com/chargestar/chargestar/internal/store"
)

// Console users. An owner manages its operator's users; the platform
// administrator manages everyone's, and other administrators. Passwords are
// hashed with argon2id (internal/access) before they reach the store.

type userStore interface {
	CreateUser(ctx context.Context, u store.User) (store.User, error)
	GetUser(ctx context.Context, operatorID, id string) (store.User, error)
	ListUsers(ctx context.Context, operatorID string) ([]store.User, error)
	UpdateUser(ctx context.Context, u store.User) (store.User, error)
}

// User is a console user.
type User struct {
	ID           string     `json:"id" example:"usr_abcdefghijklmnopqrstuvwx"`
	OperatorID   *string    `json:"operator_id" doc:"null for a platform administrator."`
	Email        string     `json:"email" example:"ops@example.com"`
	Name         string     `json:"name"`
	Role         string     `json:"role" enum:"admin,owner,technician,finance" doc:"owner: everything of the operator; technician: the network and remote commands, no money; finance: payments, refunds, tariffs and reports, stations read-only; admin: platform administrator."`
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
	DisabledAt   *time.Time `json:"disabled_at" doc:"When the user was disabled (cannot sign in); null while active."`
	LastSignInAt *time.Time `json:"last_sign_in_at"`
}

// CreateUserRequest is the body of POST /api/v1/users.
type CreateUserRequest struct {
	OperatorID string `json:"operator_id,omitempty" doc:"The user's operator. An operator's owner may omit it (its own); an administrator gives it, or omits it for another administrator (role admin)."`
	Email      string `json:"email" maxLength:"254" example:"ops@example.com"`
	Name       string `json:"name,omitempty" maxLength:"200"`
	Role       string `json:"role" enum:"admin,owner,technician,finance"`
	Password   string `json:"password" minLength:"10" maxLength:"200" doc:"10 to 200 characters. Only an argon2id hash is kept."`
}

// UpdateUserRequest is the body of PATCH /api/v1/users/{userId}.
type UpdateUserRequest struct {
	Name     *string `json:"name,omitempty" maxLength:"200"`
	Role     *string `json:"role,omitempty" enum:"owner,technician,finance"`
	Password *string `json:"password,omitempty" minLength:"10" maxLength:"200" doc:"A new password; the user's console sessions end."`
	Disabled *bool   `json:"disabled,omitempty" doc:"true disables the user (its console sessions end at once); false enables it again."`
}

// ChangePasswordRequest is the body of POST /api/v1/me/password.
type ChangePasswordRequest struct {
	CurrentPassword string `json:"current_password" maxLength:"200"`
	Password        string `json:"password" minLength:"10" maxLength:"200" doc:"The new password, 10 to 200 characters."`
}

// Me is the answer of GET /api/v1/me.
type Me struct {
	Kind       string  `json:"kind" enum:"user,token,admin_token" doc:"A console user's session, an operator's API token, or an administrator token."`
	Role       string  `json:"role" enum:"admin,owner,technician,finance" doc:"What the caller may do; an operator API token acts as owner."`
	OperatorID *string `json:"operator_id" doc:"null for the platform administrator."`
	User       *User   `json:"user" doc:"The signed-in console user; null for API tokens."`
}

func userOut(u store.User) User {
	return User{ID: u.ID, OperatorID: strPtr(u.OperatorID), Email: u.Email, Name: u.Name, Role: u.Role, CreatedAt: utc(u.CreatedAt),
		UpdatedAt: utc(u.UpdatedAt), DisabledAt: utcPtr(u.DisabledAt), LastSignInAt: utcPtr(u.LastSignInAt)}
}

func (h *handler) userRoutes() []route {
	return []route{
		{method: "GET", pattern: "/api/v1/me", handle: h.me,
			id: "getMe", tag: tagUsers, summary: "Who the caller is and what its role allows",
			ok: 200, resp: Me{}, errs: []int{e401}},
		{method: "POST", pattern: "/api/v1/me/password", handle: h.changeOwnPassword,
			id: "changeOwnPassword", tag: tagUsers, summary: "Change the signed-in console user's own password",
			desc: "For console users (any role): the current password must be given. Every console session of the user ends, " +
				"this one included, so the user signs in again. 400 wrong_password when the current password is wrong; " +
				"400 invalid_request for an API token, which has no password.",
			body: ChangePasswordRequest{}, ok: 204, errs: []int{e400, e401, e403, e413}},
		{method: "POST", pattern: "/api/v1/users", handle: h.createUser, need: access.ManageOperator,
			id: "createUser", tag: tagUsers, summary: "Create a console user",
			desc: "409 conflict when the email already has a user (an email signs in to one user, platform-wide). " +
				"Only an administrator creates administrators.",
			body: CreateUserRequest{}, ok: 201, resp: User{}, errs: []int{e400, e401, e403, e404, e409, e413}},
		{method: "GET", pattern: "/api/v1/users", handle: h.listUsers, need: access.ManageOperator,
			id: "listUsers", tag: tagUsers, summary: "List console users, ordered by id",
			desc:  "An administrator without operator_id sees every user, administrators included.",
			query: []param{operatorFilter, limitParam, cursorParam}, ok: 200, resp: List[User]{}, errs: []int{e400, e401, e403, e404}},
		{method: "GET", pattern: "/api/v1/users/{userId}", handle: h.getUser, need: access.ManageOperator,
			id: "getUser", tag: tagUsers, summary: "Get a console user", ok: 200, resp: User{}, errs: []int{e400, e401, e403, e404}},
		{method: "PATCH", pattern: "/api/v1/users/{userId}", handle: h.updateUser, need: access.ManageOperator,
			id: "updateUser", tag: tagUsers, summary: "Change a user's name, role or password, or disable it",
			desc: "Fields left out are unchanged. A new password, a new role or disabling ends the user's console sessions. " +
				"409 last_owner when the change would leave the operator without an active owner.",
			body: UpdateUserRequest{}, ok: 200, resp: User{}, errs: []int{e400, e401, e403, e404, e409, e413}},
	}
}

func (h *handler) me(w http.ResponseWriter, r *http.Request, p principal) error {
	out := Me{Role: string(p.role()), OperatorID: strPtr(p.operatorID)}
	switch {
	case p.userID != "":
		out.Kind = "user"
		u, err := h.store.GetUser(r.Context(), "", p.userID)
		if err != nil {
			return err
		}
		uo := userOut(u)
		out.User = &uo
	case p.admin:
		out.Kind = "admin_token"
	default:
		out.Kind = "token"
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func checkRole(field, v string, allowAdmin bool) (access.Role, error) {
	r := access.Role(v)
	if !r.Valid() || (r == access.Admin && !allowAdmin) {
		if allowAdmin {
			return "", invalid(field, "must be one of owner, technician, finance, admin")
		}
		return "", invalid(field, "must be one of owner, technician, finance")
	}
	return r, nil
}

func (h *handler) createUser(w http.ResponseWriter, r *http.Request, p principal) error {
	var req CreateUserRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		return err
	}
	email, err := checkEmail("email", req.Email)
	if err != nil {
		return err
	}
	email = strings.ToLower(email)
	name, err := checkText("name", req.Name, 0, 200)
	if err != nil {
		return err
	}
	role, err := checkRole("role", req.Role, p.admin)
	if err != nil {
		return err
	}
	var opID string
	switch {
	case role == access.Admin:
		if req.OperatorID != "" {
			return invalid("operator_id", "must be omitted for an administrator")
		}
	default:
		if opID, err = p.ownerFor(req.OperatorID); err != nil {
			return err
		}
		if err := h.requireOperator(r, opID); err != nil {
			return err
		}
	}
	hash, err := access.HashPassword(req.Password)
	if err != nil {
		return invalid("password", "%v", err)
	}
	u, err := h.store.CreateUser(r.Context(), store.User{OperatorID: opID, Email: email, Name: name, Role: string(role), PasswordHash: hash})
	if errors.Is(err, store.ErrConflict) {
		return errorf(http.StatusConflict, codeConflict, "a user with email %s exists", email)
	}
	if err != nil {
		return err
	}
	w.Header().Set("Location", Prefix+"users/"+u.ID)
	writeJSON(w, http.StatusCreated, userOut(u))
	return nil
}

func (h *handler) listUsers(w http.ResponseWriter, r *http.Request, p principal) error {
	pg, err := parsePage(r)
	if err != nil {
		return err
	}
	opID, err := h.filterOperator(r, p)
	if err != nil {
		return err
	}
	users, err := h.store.ListUsers(r.Context(), opID)
	if err != nil {
		return err
	}
	users, next := paginate(users, func(u store.User) string { return u.ID }, pg)
	out := make([]User, len(users))
	for i, u := range users {
		out[i] = userOut(u)
	}
	writeJSON(w, http.StatusOK, newList(out, next))
	return nil
}

func (h *handler) userFor(r *http.Request, p principal) (store.User, error) {
	id := r.PathValue("userId")
	u, err := h.store.GetUser(r.Context(), p.scope(), id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !p.admin && u.OperatorID == "") {
		return store.User{}, notFound("user", id)
	}
	return u, err
}

func (h *handler) getUser(w http.ResponseWriter, r *http.Request, p principal) error {
	u, err := h.userFor(r, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, userOut(u))
	return nil
}

func (h *handler) updateUser(w http.ResponseWriter, r *http.Request, p principal) error {
	var req UpdateUserRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		return err
	}
	u, err := h.userFor(r, p)
	if err != nil {
		return err
	}
	wasOwner := u.Role == string(access.Owner) && u.DisabledAt == nil
	if req.Name != nil {
		if u.Name, err = checkText("name", *req.Name, 0, 200); err != nil {
			return err
		}
	}
	if req.Role != nil {
		if u.Role == string(access.Admin) {
			return invalid("role", "an administrator's role cannot change")
		}
		role, err := checkRole("role", *req.Role, false)
		if err != nil {
			return err
		}
		u.Role = string(role)
	}
	if req.Password != nil {
		if u.PasswordHash, err = access.HashPassword(*req.Password); err != nil {
			return invalid("password", "%v", err)
		}
	}
	if req.Disabled != nil {
		switch {
		case *req.Disabled && u.DisabledAt == nil:
			now := h.now()
			u.DisabledAt = &now
		case !*req.Disabled:
			u.DisabledAt = nil
		}
	}
	if wasOwner && (u.Role != string(access.Owner) || u.DisabledAt != nil) {
		if err := h.keepAnOwner(r, u); err != nil {
			return err
		}
	}
	u, err = h.store.UpdateUser(r.Context(), u)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("user", r.PathValue("userId"))
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, userOut(u))
	return nil
}

// keepAnOwner refuses a change that leaves u's operator without an active
// owner: nobody could then manage its users and tokens from the console.
func (h *handler) keepAnOwner(r *http.Request, u store.User) error {
	users, err := h.store.ListUsers(r.Context(), u.OperatorID)
	if err != nil {
		return err
	}
	for _, o := range users {
		if o.ID != u.ID && o.Role == string(access.Owner) && o.DisabledAt == nil {
			return nil
		}
	}
	return errorf(http.StatusConflict, codeLastOwner, "this is the operator's last active owner: make another user owner first")
}

func (h *handler) changeOwnPassword(w http.ResponseWriter, r *http.Request, p principal) error {
	var req ChangePasswordRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		return err
	}
	if p.userID == "" {
		return invalid("current_password", "an API token has no password; sign in to the console as a user")
	}
	u, err := h.store.GetUser(r.Context(), "", p.userID)
	if err != nil {
		return err
	}
	if !access.CheckPassword(u.PasswordHash, req.CurrentPassword) {
		return errorf(http.StatusBadRequest, codeWrongPassword, "the current password is wrong")
	}
	if u.PasswordHash, err = access.HashPassword(req.Password); err != nil {
		return invalid("password", "%v", err)
	}
	if _, err := h.store.UpdateUser(r.Context(), u); err != nil {
		return err
	}
	h.log.Info("console user changed their password", "user_id", u.ID)
	w.WriteHeader(http.StatusNoContent)
	return nil
}
