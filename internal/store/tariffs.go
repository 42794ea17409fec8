package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Tariffs, where they apply, and NextCharge driver accounts (migration
// 00005). The tariff body is stored as the billing package's JSON (the
// OCPI tariff object); the store does not interpret it.

// Tariff is a stored tariff.
type Tariff struct {
	ID         string // "trf_…"
	OperatorID string
	Name       string
	Body       []byte // billing.Tariff JSON
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Tariff assignment scopes, from the least to the most specific.
const (
	ScopeOperator = "operator"
	ScopeSite     = "site"
	ScopeStation  = "station"
)

// TariffAssignment says which tariff applies to an operator's stations, a
// site's or one station's.
type TariffAssignment struct {
	OperatorID string
	Scope      string // ScopeOperator (ScopeID is the operator), ScopeSite, ScopeStation
	ScopeID    string
	TariffID   string
	CreatedAt  time.Time
}

const tariffCols = `id, operator_id, name, body, created_at, updated_at`

func scanTariff(sc interface{ Scan(...any) error }) (Tariff, error) {
	var t Tariff
	var body string
	err := sc.Scan(&t.ID, &t.OperatorID, &t.Name, &body, tsCol(&t.CreatedAt), tsCol(&t.UpdatedAt))
	t.Body = []byte(body)
	return t, err
}

// SaveTariff inserts t (assigning "trf_…" when ID is empty) or, when a tariff
// with its ID exists for the same operator, replaces its name and body.
// ErrNotFound when the ID belongs to another operator.
func (s *Store) SaveTariff(ctx context.Context, t Tariff) (Tariff, error) {
	if t.OperatorID == "" || len(t.Body) == 0 {
		return Tariff{}, fmt.Errorf("store: save tariff: operator and body are required")
	}
	if t.ID == "" {
		t.ID = newID("trf_")
	}
	now := normTime(time.Now())
	err := s.write(ctx, func(ctx context.Context, w *wtx) error {
		var owner string
		err := w.queryRow(ctx, `SELECT operator_id FROM tariffs WHERE id = $1`, t.ID).Scan(&owner)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			_, err = w.exec(ctx, `INSERT INTO tariffs (`+tariffCols+`) VALUES ($1, $2, $3, $4, $5, $5)`,
				t.ID, t.OperatorID, t.Name, string(t.Body), s.d.ts(now))
			return err
		case err != nil:
			return err
		case owner != t.OperatorID:
			return reject(ErrNotFound)
		}
		_, err = w.exec(ctx, `UPDATE tariffs SET name = $2, body = $3, updated_at = $4 WHERE id = $1`,
			t.ID, t.Name, string(t.Body), s.d.ts(now))
		return err
	})
	if err != nil {
		return Tariff{}, wrap("save tariff", err)
	}
	return s.GetTariff(ctx, t.OperatorID, t.ID)
}

// GetTariff returns an operator's tariff ("" operator: any operator's).
func (s *Store) GetTariff(ctx context.Context, operatorID, id string) (Tariff, error) {
	t, err := scanTariff(s.queryRow(ctx, `SELECT `+tariffCols+` FROM tariffs WHERE id = $1 AND ($2 = '' OR operator_id = $2)`, id, operatorID))
	return t, wrapRead("get tariff", err)
}

// ListTariffs returns an operator's tariffs ("" operator: all), by id.
func (s *Store) ListTariffs(ctx context.Context, operatorID string) ([]Tariff, error) {
	rows, err := s.query(ctx, `SELECT `+tariffCols+` FROM tariffs WHERE $1 = '' OR operator_id = $1 ORDER BY id`, operatorID)
	if err != nil {
		return nil, wrap("list tariffs", err)
	}
	return collect(rows, scanTariff, "list tariffs")
}

// DeleteTariff deletes an operator's tariff. ErrConflict while it is
// assigned somewhere; sessions keep their frozen copies.
func (s *Store) DeleteTariff(ctx context.Context, operatorID, id string) error {
	err := s.write(ctx, func(ctx context.Context, w *wtx) error {
		var n int
		if err := w.queryRow(ctx, `SELECT count(*) FROM tariff_assignments WHERE tariff_id = $1`, id).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return reject(fmt.Errorf("%w: the tariff is assigned; unassign it first", ErrConflict))
		}
		res, err := w.exec(ctx, `DELETE FROM tariffs WHERE id = $1 AND operator_id = $2`, id, operatorID)
		if err != nil {
			return err
		}
		return rejectIfNone(res, ErrNotFound)
	})
	return wrap("delete tariff", err)
}

// AssignTariff makes a tariff apply at a scope, replacing the scope's
// earlier assignment. The tariff, and the site or station, must be the
// operator's (ErrNotFound otherwise).
func (s *Store) AssignTariff(ctx context.Context, a TariffAssignment) (TariffAssignment, error) {
	a.CreatedAt = normTime(time.Now())
	if a.Scope == ScopeOperator {
		a.ScopeID = a.OperatorID
	}
	err := s.write(ctx, func(ctx context.Context, w *wtx) error {
		var q string
		switch a.Scope {
		case ScopeOperator:
			q = `SELECT count(*) FROM operators WHERE id = $1 AND id = $2`
		case ScopeSite:
			q = `SELECT count(*) FROM sites WHERE id = $1 AND operator_id = $2`
		case ScopeStation:
			q = `SELECT count(*) FROM stations WHERE id = $1 AND operator_id = $2`
		default:
			return reject(fmt.Errorf("store: unknown tariff scope %q", a.Scope))
		}
		var n int
		if err := w.queryRow(ctx, q, a.ScopeID, a.OperatorID).Scan(&n); err != nil {
			return err
		}
		var m int
		if err := w.queryRow(ctx, `SELECT count(*) FROM tariffs WHERE id = $1 AND operator_id = $2`, a.TariffID, a.OperatorID).Scan(&m); err != nil {
			return err
		}
		if n == 0 || m == 0 {
			return reject(ErrNotFound)
		}
		_, err := w.exec(ctx, `INSERT INTO tariff_assignments (operator_id, scope, scope_id, tariff_id, created_at)
			VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (operator_id, scope, scope_id) DO UPDATE SET tariff_id = excluded.tariff_id, created_at = excluded.created_at`,
			a.OperatorID, a.Scope, a.ScopeID, a.TariffID, s.d.ts(a.CreatedAt))
		return err
	})
	if err != nil {
		return TariffAssignment{}, wrap("assign tariff", err)
	}
	return a, nil
}

// UnassignTariff removes the assignment at a scope (ErrNotFound when none).
func (s *Store) UnassignTariff(ctx context.Context, operatorID, scope, scopeID string) error {
	if scope == ScopeOperator {
		scopeID = operatorID
	}
	err := s.write(ctx, func(ctx context.Context, w *wtx) error {
		res, err := w.exec(ctx, `DELETE FROM tariff_assignments WHERE operator_id = $1 AND scope = $2 AND scope_id = $3`, operatorID, scope, scopeID)
		if err != nil {
			return err
		}
		return rejectIfNone(res, ErrNotFound)
	})
	return wrap("unassign tariff", err)
}

// ListTariffAssignments returns an operator's assignments ("" operator: all).
func (s *Store) ListTariffAssignments(ctx context.Context, operatorID string) ([]TariffAssignment, error) {
	rows, err := s.query(ctx, `SELECT operator_id, scope, scope_id, tariff_id, created_at FROM tariff_assignments
		WHERE $1 = '' OR operator_id = $1 ORDER BY operator_id, scope, scope_id`, operatorID)
	if err != nil {
		return nil, wrap("list tariff assignments", err)
	}
	return collect(rows, func(sc interface{ Scan(...any) error }) (TariffAssignment, error) {
		var a TariffAssignment
		err := sc.Scan(&a.OperatorID, &a.Scope, &a.ScopeID, &a.TariffID, tsCol(&a.CreatedAt))
		return a, err
	}, "list tariff assignments")
}

// EffectiveTariff returns the tariff in force at a station: the station's
// own assignment, else its site's, else its operator's; with the scope it
// came from. ErrNotFound when none applies.
func (s *Store) EffectiveTariff(ctx context.Context, stationID string) (Tariff, string, error) {
	var scope string
	var t Tariff
	var body string
	err := s.queryRow(ctx, `SELECT a.scope, t.id, t.operator_id, t.name, t.body, t.created_at, t.updated_at
		FROM stations st
		JOIN tariff_assignments a ON a.operator_id = st.operator_id AND (
			(a.scope = 'station' AND a.scope_id = st.id) OR
			(a.scope = 'site' AND a.scope_id = st.site_id) OR
			(a.scope = 'operator' AND a.scope_id = st.operator_id))
		JOIN tariffs t ON t.id = a.tariff_id
		WHERE st.id = $1
		ORDER BY CASE a.scope WHEN 'station' THEN 0 WHEN 'site' THEN 1 ELSE 2 END
		LIMIT 1`, stationID).Scan(&scope, &t.ID, &t.OperatorID, &t.Name, &body, tsCol(&t.CreatedAt), tsCol(&t.UpdatedAt))
	t.Body = []byte(body)
	return t, scope, wrapRead("effective tariff", err)
}

// Driver accounts.

// Driver account funding.
const (
	FundingWallet = "wallet" // a prepaid balance (the ledger's wallet account)
	FundingCard   = "card"   // a card saved at the provider, held off-session
)

// DriverAccount is a NextCharge account.
type DriverAccount struct {
	ID               string // "acc_…"
	Email            string
	Currency         string
	Funding          string // FundingWallet or FundingCard
	CustomerRef      string // the provider's customer
	PaymentMethodRef string // the saved card (FundingCard)
	CardBrand        string
	CardLast4        string
	Status           string // "active" or "closed"
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// DriverCard is an RFID card of a driver account.
type DriverCard struct {
	IDToken   string
	AccountID string
	Status    string // Accepted or Blocked
	CreatedAt time.Time
	UpdatedAt time.Time
}

const driverAccountCols = `id, email, currency, funding, customer_ref, payment_method_ref, card_brand, card_last4, status, created_at, updated_at`

func scanDriverAccount(sc interface{ Scan(...any) error }) (DriverAccount, error) {
	var a DriverAccount
	err := sc.Scan(&a.ID, &a.Email, &a.Currency, &a.Funding, &a.CustomerRef, &a.PaymentMethodRef, &a.CardBrand, &a.CardLast4,
		&a.Status, tsCol(&a.CreatedAt), tsCol(&a.UpdatedAt))
	return a, err
}

// SaveDriverAccount inserts a (assigning "acc_…" when ID is empty) or
// replaces its mutable fields.
func (s *Store) SaveDriverAccount(ctx context.Context, a DriverAccount) (DriverAccount, error) {
	if a.ID == "" {
		a.ID = newID("acc_")
	}
	if a.Status == "" {
		a.Status = "active"
	}
	now := normTime(time.Now())
	err := s.write(ctx, func(ctx context.Context, w *wtx) error {
		_, err := w.exec(ctx, `INSERT INTO driver_accounts (`+driverAccountCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)
			ON CONFLICT (id) DO UPDATE SET email = excluded.email, funding = excluded.funding, customer_ref = excluded.customer_ref,
			payment_method_ref = excluded.payment_method_ref, card_brand = excluded.card_brand, card_last4 = excluded.card_last4,
			status = excluded.status, updated_at = excluded.updated_at`,
			a.ID, a.Email, a.Currency, a.Funding, a.CustomerRef, a.PaymentMethodRef, a.CardBrand, a.CardLast4, a.Status, s.d.ts(now))
		return err
	})
	if err != nil {
		return DriverAccount{}, wrap("save driver account", err)
	}
	return s.GetDriverAccount(ctx, a.ID)
}

// GetDriverAccount reads a driver account.
func (s *Store) GetDriverAccount(ctx context.Context, id string) (DriverAccount, error) {
	a, err := scanDriverAccount(s.queryRow(ctx, `SELECT `+driverAccountCols+` FROM driver_accounts WHERE id = $1`, id))
	return a, wrapRead("get driver account", err)
}

// ListDriverAccounts returns every driver account, by id.
func (s *Store) ListDriverAccounts(ctx context.Context) ([]DriverAccount, error) {
	rows, err := s.query(ctx, `SELECT `+driverAccountCols+` FROM driver_accounts ORDER BY id`)
	if err != nil {
		return nil, wrap("list driver accounts", err)
	}
	return collect(rows, scanDriverAccount, "list driver accounts")
}

// SaveDriverCard registers an RFID card for an account or changes its
// status. ErrConflict when the token belongs to another account;
// ErrNotFound for an unknown account.
func (s *Store) SaveDriverCard(ctx context.Context, c DriverCard) (DriverCard, error) {
	now := normTime(time.Now())
	err := s.write(ctx, func(ctx context.Context, w *wtx) error {
		var n int
		if err := w.queryRow(ctx, `SELECT count(*) FROM driver_accounts WHERE id = $1`, c.AccountID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return reject(ErrNotFound)
		}
		var owner string
		err := w.queryRow(ctx, `SELECT account_id FROM driver_cards WHERE id_token_key = $1`, tokenKey(c.IDToken)).Scan(&owner)
		if err == nil && owner != c.AccountID {
			return reject(ErrConflict)
		}
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		_, err = w.exec(ctx, `INSERT INTO driver_cards (id_token_key, id_token, account_id, status, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $5)
			ON CONFLICT (id_token_key) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at`,
			tokenKey(c.IDToken), c.IDToken, c.AccountID, c.Status, s.d.ts(now))
		return err
	})
	if err != nil {
		return DriverCard{}, wrap("save driver card", err)
	}
	return s.GetDriverCard(ctx, c.IDToken)
}

// GetDriverCard finds an RFID card by its token (case-insensitive).
func (s *Store) GetDriverCard(ctx context.Context, idToken string) (DriverCard, error) {
	var c DriverCard
	err := s.queryRow(ctx, `SELECT id_token, account_id, status, created_at, updated_at FROM driver_cards WHERE id_token_key = $1`,
		tokenKey(idToken)).Scan(&c.IDToken, &c.AccountID, &c.Status, tsCol(&c.CreatedAt), tsCol(&c.UpdatedAt))
	return c, wrapRead("get driver card", err)
}

// ListDriverCards returns an account's cards.
func (s *Store) ListDriverCards(ctx context.Context, accountID string) ([]DriverCard, error) {
	rows, err := s.query(ctx, `SELECT id_token, account_id, status, created_at, updated_at FROM driver_cards WHERE account_id = $1 ORDER BY id_token_key`, accountID)
	if err != nil {
		return nil, wrap("list driver cards", err)
	}
	return collect(rows, func(sc interface{ Scan(...any) error }) (DriverCard, error) {
		var c DriverCard
		err := sc.Scan(&c.IDToken, &c.AccountID, &c.Status, tsCol(&c.CreatedAt), tsCol(&c.UpdatedAt))
		return c, err
	}, "list driver cards")
}

// Drivers' passwordless sign-in.

// DriverSignIn is an emailed sign-in code waiting to be typed.
type DriverSignIn struct {
	ID        string // "sgn_…"
	Email     string
	CodeHash  []byte
	Attempts  int
	ExpiresAt time.Time
	UsedAt    *time.Time
	CreatedAt time.Time
}

// NewSignInID returns a fresh sign-in id (the code's hash covers it, so
// the caller needs it before storing).
func NewSignInID() string { return newID("sgn_") }

// CreateDriverSignIn stores a sign-in (assigning its id when empty).
func (s *Store) CreateDriverSignIn(ctx context.Context, in DriverSignIn) (DriverSignIn, error) {
	if in.ID == "" {
		in.ID = newID("sgn_")
	}
	in.CreatedAt = normTime(time.Now())
	err := s.write(ctx, func(ctx context.Context, w *wtx) error {
		_, err := w.exec(ctx, `INSERT INTO driver_sign_ins (id, email, code_hash, attempts, expires_at, created_at) VALUES ($1, $2, $3, 0, $4, $5)`,
			in.ID, in.Email, in.CodeHash, s.d.ts(in.ExpiresAt), s.d.ts(in.CreatedAt))
		return err
	})
	return in, wrap("create driver sign-in", err)
}

// GetDriverSignIn reads a sign-in.
func (s *Store) GetDriverSignIn(ctx context.Context, id string) (DriverSignIn, error) {
	var in DriverSignIn
	err := s.queryRow(ctx, `SELECT id, email, code_hash, attempts, expires_at, used_at, created_at FROM driver_sign_ins WHERE id = $1`, id).
		Scan(&in.ID, &in.Email, &in.CodeHash, &in.Attempts, tsCol(&in.ExpiresAt), ntsCol(&in.UsedAt), tsCol(&in.CreatedAt))
	return in, wrapRead("get driver sign-in", err)
}

// RecordDriverSignInAttempt counts a typed code and, when used, marks the
// sign-in used; only an unused sign-in under its attempt limit changes
// (false otherwise).
func (s *Store) RecordDriverSignInAttempt(ctx context.Context, id string, maxAttempts int, used bool) (bool, error) {
	var ok bool
	now := normTime(time.Now())
	err := s.write(ctx, func(ctx context.Context, w *wtx) error {
		var usedAt any
		if used {
			usedAt = s.d.ts(now)
		}
		res, err := w.exec(ctx, `UPDATE driver_sign_ins SET attempts = attempts + 1, used_at = $3
			WHERE id = $1 AND used_at IS NULL AND attempts < $2`, id, maxAttempts, usedAt)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		ok = n == 1
		return err
	})
	if err != nil {
		return false, wrap("record sign-in attempt", err)
	}
	return ok, nil
}

// DriverAccountByEmail finds the account of an address (the oldest, if
// several).
func (s *Store) DriverAccountByEmail(ctx context.Context, email string) (DriverAccount, error) {
	a, err := scanDriverAccount(s.queryRow(ctx, `SELECT `+driverAccountCols+` FROM driver_accounts WHERE email = $1 ORDER BY created_at, id LIMIT 1`, email))
	return a, wrapRead("driver account by email", err)
}

// CreateDriverWebSession stores a signed-in browser session.
func (s *Store) CreateDriverWebSession(ctx context.Context, tokenHash []byte, accountID string, expires time.Time) error {
	err := s.write(ctx, func(ctx context.Context, w *wtx) error {
		_, err := w.exec(ctx, `INSERT INTO driver_web_sessions (token_hash, account_id, expires_at, created_at) VALUES ($1, $2, $3, $4)`,
			tokenHash, accountID, s.d.ts(expires), s.d.ts(time.Now()))
		return err
	})
	return wrap("create driver web session", err)
}

// DriverWebSession returns the account of an unexpired browser session.
func (s *Store) DriverWebSession(ctx context.Context, tokenHash []byte, now time.Time) (string, error) {
	var id string
	err := s.queryRow(ctx, `SELECT account_id FROM driver_web_sessions WHERE token_hash = $1 AND expires_at > $2`, tokenHash, s.d.ts(now)).Scan(&id)
	return id, wrapRead("driver web session", err)
}

// DeleteDriverWebSession signs a browser out.
func (s *Store) DeleteDriverWebSession(ctx context.Context, tokenHash []byte) error {
	err := s.write(ctx, func(ctx context.Context, w *wtx) error {
		_, err := w.exec(ctx, `DELETE FROM driver_web_sessions WHERE token_hash = $1`, tokenHash)
		return err
	})
	return wrap("delete driver web session", err)
}
