package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Console users and their browser sessions (migration 00006). Passwords
// are hashed by the caller (internal/console/password.go); the store keeps
// the PHC string and never sees a password.

// User is a console user: a platform administrator (OperatorID "", role
// admin) or an operator's owner, technician or finance user.
type User struct {
	ID           string // "usr_…"
	OperatorID   string
	Email        string // lower case, unique platform-wide
	Name         string
	Role         string
	PasswordHash string
	CreatedAt    time.Time
	UpdatedAt    time.Time
	DisabledAt   *time.Time
	LastSignInAt *time.Time
}

// ConsoleSession is a signed-in browser: the user and the session's CSRF
// token. Only the SHA-256 of the cookie's token is stored.
type ConsoleSession struct {
	Hash       []byte
	User       User
	CSRFToken  string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	LastSeenAt time.Time
}

const userCols = `id, operator_id, email, name, role, password_hash, created_at, updated_at, disabled_at, last_sign_in_at`

func scanUser(sc interface{ Scan(...any) error }) (User, error) {
	var u User
	err := sc.Scan(&u.ID, nstrCol(&u.OperatorID), &u.Email, &u.Name, &u.Role, &u.PasswordHash,
		tsCol(&u.CreatedAt), tsCol(&u.UpdatedAt), ntsCol(&u.DisabledAt), ntsCol(&u.LastSignInAt))
	return u, err
}

// CreateUser inserts u with a new "usr_…" id. ErrConflict when the email
// is taken (by any operator: an email signs in to one user).
func (s *Store) CreateUser(ctx context.Context, u User) (User, error) {
	u.Email = strings.ToLower(strings.TrimSpace(u.Email))
	if u.Email == "" || u.Role == "" || u.PasswordHash == "" {
		return User{}, fmt.Errorf("store: create user: email, role and password hash are required")
	}
	u.ID = newID("usr_")
	now := normTime(time.Now())
	u.CreatedAt, u.UpdatedAt = now, now
	err := s.write(ctx, func(ctx context.Context, w *wtx) error {
		// ON CONFLICT rather than catching the violation: on PostgreSQL a
		// failed statement would abort the whole batched transaction.
		res, err := w.exec(ctx, `INSERT INTO users (`+userCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $7, NULL, NULL) ON CONFLICT DO NOTHING`,
			u.ID, nullIfEmpty(u.OperatorID), u.Email, u.Name, u.Role, u.PasswordHash, s.d.ts(now))
		if err != nil {
			return err
		}
		return rejectIfNone(res, fmt.Errorf("%w: a user with this email exists", ErrConflict))
	})
	if err != nil {
		return User{}, wrap("create user", err)
	}
	return u, nil
}

// GetUser returns a user; operatorID "" matches any operator.
func (s *Store) GetUser(ctx context.Context, operatorID, id string) (User, error) {
	u, err := scanUser(s.queryRow(ctx, `SELECT `+userCols+` FROM users WHERE id = $1 AND ($2 = '' OR operator_id = $2)`, id, operatorID))
	return u, wrapRead("get user", err)
}

// GetUserByEmail returns the user signing in with email.
func (s *Store) GetUserByEmail(ctx context.Context, email string) (User, error) {
	u, err := scanUser(s.queryRow(ctx, `SELECT `+userCols+` FROM users WHERE email = $1`, strings.ToLower(strings.TrimSpace(email))))
	return u, wrapRead("get user by email", err)
}

// ListUsers returns an operator's users ("": every user), by id.
func (s *Store) ListUsers(ctx context.Context, operatorID string) ([]User, error) {
	rows, err := s.query(ctx, `SELECT `+userCols+` FROM users WHERE $1 = '' OR operator_id = $1 ORDER BY id`, operatorID)
	if err != nil {
		return nil, wrap("list users", err)
	}
	return collect(rows, scanUser, "list users")
}

// UpdateUser writes u's name, role, password hash and disabled time. A
// changed password or a disabled user ends the user's console sessions,
// in the same transaction.
func (s *Store) UpdateUser(ctx context.Context, u User) (User, error) {
	now := normTime(time.Now())
	err := s.write(ctx, func(ctx context.Context, w *wtx) error {
		old, err := scanUser(w.queryRow(ctx, `SELECT `+userCols+` FROM users WHERE id = $1 AND ($2 = '' OR operator_id = $2)`, u.ID, u.OperatorID))
		if errors.Is(err, sql.ErrNoRows) {
			return reject(ErrNotFound)
		}
		if err != nil {
			return err
		}
		res, err := w.exec(ctx, `UPDATE users SET name = $2, role = $3, password_hash = $4, disabled_at = $5, updated_at = $6 WHERE id = $1`,
			u.ID, u.Name, u.Role, u.PasswordHash, s.d.nts(normTimePtr(u.DisabledAt)), s.d.ts(now))
		if err != nil {
			return err
		}
		if err := rejectIfNone(res, ErrNotFound); err != nil {
			return err
		}
		if old.PasswordHash != u.PasswordHash || u.DisabledAt != nil || old.Role != u.Role {
			_, err = w.exec(ctx, `DELETE FROM console_sessions WHERE user_id = $1`, u.ID)
		}
		return err
	})
	if err != nil {
		return User{}, wrap("update user", err)
	}
	return s.GetUser(ctx, "", u.ID)
}

// CreateConsoleSession stores a signed-in browser and the user's sign-in
// time.
func (s *Store) CreateConsoleSession(ctx context.Context, cs ConsoleSession) error {
	now := normTime(time.Now())
	err := s.write(ctx, func(ctx context.Context, w *wtx) error {
		if _, err := w.exec(ctx, `INSERT INTO console_sessions (hash, user_id, csrf_token, created_at, expires_at, last_seen_at)
			VALUES ($1, $2, $3, $4, $5, $4)`, cs.Hash, cs.User.ID, cs.CSRFToken, s.d.ts(now), s.d.ts(cs.ExpiresAt)); err != nil {
			return err
		}
		_, err := w.exec(ctx, `UPDATE users SET last_sign_in_at = $2 WHERE id = $1`, cs.User.ID, s.d.ts(now))
		return err
	})
	return wrap("create console session", err)
}

// GetConsoleSession returns the session with the token hash, with its
// user. ErrNotFound when unknown or expired at now.
func (s *Store) GetConsoleSession(ctx context.Context, hash []byte, now time.Time) (ConsoleSession, error) {
	var cs ConsoleSession
	u := &cs.User
	err := s.queryRow(ctx, `SELECT c.hash, c.csrf_token, c.created_at, c.expires_at, c.last_seen_at,
		u.id, u.operator_id, u.email, u.name, u.role, u.password_hash, u.created_at, u.updated_at, u.disabled_at, u.last_sign_in_at
		FROM console_sessions c JOIN users u ON u.id = c.user_id WHERE c.hash = $1 AND c.expires_at > $2`, hash, s.d.ts(now)).Scan(
		&cs.Hash, &cs.CSRFToken, tsCol(&cs.CreatedAt), tsCol(&cs.ExpiresAt), tsCol(&cs.LastSeenAt),
		&u.ID, nstrCol(&u.OperatorID), &u.Email, &u.Name, &u.Role, &u.PasswordHash, tsCol(&u.CreatedAt), tsCol(&u.UpdatedAt),
		ntsCol(&u.DisabledAt), ntsCol(&u.LastSignInAt))
	return cs, wrapRead("get console session", err)
}

// ExtendConsoleSession moves a session's expiry (sliding sessions).
func (s *Store) ExtendConsoleSession(ctx context.Context, hash []byte, seen, expires time.Time) error {
	err := s.write(ctx, func(ctx context.Context, w *wtx) error {
		_, err := w.exec(ctx, `UPDATE console_sessions SET last_seen_at = $2, expires_at = $3 WHERE hash = $1`, hash, s.d.ts(seen), s.d.ts(expires))
		return err
	})
	return wrap("extend console session", err)
}

// DeleteConsoleSession signs a browser out.
func (s *Store) DeleteConsoleSession(ctx context.Context, hash []byte) error {
	err := s.write(ctx, func(ctx context.Context, w *wtx) error {
		_, err := w.exec(ctx, `DELETE FROM console_sessions WHERE hash = $1`, hash)
		return err
	})
	return wrap("delete console session", err)
}

// PruneConsoleSessions deletes sessions expired before now.
func (s *Store) PruneConsoleSessions(ctx context.Context, now time.Time) error {
	err := s.write(ctx, func(ctx context.Context, w *wtx) error {
		_, err := w.exec(ctx, `DELETE FROM console_sessions WHERE expires_at <= $1`, s.d.ts(now))
		return err
	})
	return wrap("prune console sessions", err)
}
