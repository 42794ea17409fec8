package csms

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"strings"
	"time"

	"github.com/chargestar/chargestar/internal/model"
	"github.com/chargestar/chargestar/internal/store"
)

// Authorization statuses, in the OCPP 1.6 vocabulary (2.x adapters map them).
const (
	AuthAccepted     = "Accepted"
	AuthBlocked      = "Blocked"
	AuthExpired      = "Expired"
	AuthInvalid      = "Invalid"
	AuthConcurrentTx = "ConcurrentTx"
)

// AuthResult is the answer to an authorisation question about an id token.
type AuthResult struct {
	Status      string
	ExpiresAt   *time.Time
	ParentIDTag string
}

// AuthPurpose says why a token is being checked.
type AuthPurpose int

const (
	AuthForAuthorize AuthPurpose = iota // Authorize.req: may it start?
	AuthForStart                        // StartTransaction: the session is being started
	AuthForStop                         // StopTransaction: informational
)

// Authorizer decides whether an id token may charge at a station. The
// default checks the operator's own tokens; billing wraps it to add driver
// accounts (prepaid wallets, saved cards).
type Authorizer interface {
	Authorize(ctx context.Context, l *Link, idTag string, purpose AuthPurpose) (AuthResult, error)
}

// TokenAuthorizer authorises the id tokens an operator registered.
type TokenAuthorizer struct {
	Store interface {
		GetIDToken(ctx context.Context, operatorID, idToken string) (model.IDToken, error)
		CountActiveSessionsForToken(ctx context.Context, operatorID, idTag string) (int, error)
	}
	Now func() time.Time
}

// Authorize implements Authorizer.
func (a *TokenAuthorizer) Authorize(ctx context.Context, l *Link, idTag string, purpose AuthPurpose) (AuthResult, error) {
	tok, err := a.Store.GetIDToken(ctx, l.OperatorID, idTag)
	if errors.Is(err, store.ErrNotFound) {
		return AuthResult{Status: AuthInvalid}, nil
	}
	if err != nil {
		return AuthResult{}, err
	}
	res := AuthResult{Status: tok.Status, ExpiresAt: tok.ExpiresAt, ParentIDTag: tok.ParentIDTag}
	now := time.Now()
	if a.Now != nil {
		now = a.Now()
	}
	if res.Status == model.TokenAccepted && tok.ExpiresAt != nil && !tok.ExpiresAt.After(now) {
		res.Status = AuthExpired
	}
	if res.Status != model.TokenAccepted {
		return res, nil
	}
	// A token already charging somewhere may not start another session.
	// At start time the new session is not stored yet, so any open one
	// counts. OCPP 1.6 reserves ConcurrentTx for StartTransaction answers:
	// Authorize says Accepted, and the start is refused if still concurrent.
	if purpose == AuthForStart {
		n, err := a.Store.CountActiveSessionsForToken(ctx, l.OperatorID, idTag)
		if err != nil {
			return AuthResult{}, err
		}
		if n > 0 {
			res.Status = AuthConcurrentTx
		}
	}
	return res, nil
}

// Station passwords (OCPP security profile 1, HTTP Basic) are stored as
// salt ‖ SHA-256(salt ‖ password). A slow hash (bcrypt, argon2) would cost
// tens of milliseconds per connection, and 18,000 stations reconnect at once
// after an outage; station passwords are machine-generated secrets (the 1.6
// security whitepaper asks for 16–40 bytes), so a salted fast hash is
// the right trade here, unlike for human passwords.
const saltLen = 16

// HashStationPassword returns the stored form of a station password. With
// several passwords (alternative spellings of one secret, see
// StationPasswordChanged) the hashes are concatenated and any one matches.
func HashStationPassword(passwords ...string) []byte {
	out := make([]byte, 0, len(passwords)*(saltLen+sha256.Size))
	for _, pw := range passwords {
		salt := make([]byte, saltLen)
		if _, err := rand.Read(salt); err != nil {
			panic(err) // crypto/rand never fails on supported platforms
		}
		sum := sha256.Sum256(append(append([]byte(nil), salt...), pw...))
		out = append(append(out, salt...), sum[:]...)
	}
	return out
}

// CheckStationPassword reports whether password matches the stored hash.
func CheckStationPassword(hash []byte, password string) bool {
	const n = saltLen + sha256.Size
	if len(hash) == 0 || len(hash)%n != 0 {
		return false
	}
	ok := 0
	for ; len(hash) > 0; hash = hash[n:] {
		sum := sha256.Sum256(append(append([]byte(nil), hash[:saltLen]...), password...))
		ok |= subtle.ConstantTimeCompare(sum[:], hash[saltLen:n])
	}
	return ok == 1
}

// StationPasswordChanged stores a station's new Basic-auth password after
// the station accepted it (1.6 AuthorizationKey, 2.x BasicAuthPassword).
// More than one password may be given when the spec is read two ways by
// stations (1.6 sends the key hex encoded: some stations then authenticate
// with the decoded bytes, others with the hex text).
func (s *Service) StationPasswordChanged(ctx context.Context, stationID string, passwords ...string) error {
	st, err := s.store.GetStation(ctx, stationID)
	if err != nil {
		return err
	}
	st.PasswordHash = HashStationPassword(passwords...)
	if _, err := s.store.UpdateStation(ctx, st); err != nil {
		s.log.Error("storing the station's new password failed: it will be refused at its next connection", "station_id", stationID, "err", err)
		return err
	}
	s.log.Info("station password changed", "station_id", stationID)
	return nil
}

// normalizeIDTag trims what some stations pad id tags with.
func normalizeIDTag(s string) string { return strings.TrimSpace(s) }
