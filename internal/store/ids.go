package store

import (
	"crypto/rand"
	"encoding/base32"
	"strings"
)

// ID prefixes of the public identifiers the store assigns.
const (
	prefixOperator = "op_"
	prefixToken    = "tok_"
	prefixSite     = "site_"
	prefixSession  = "ses_"
)

// idEncoding is lower-case base32 without padding: URL-safe, unambiguous in
// any case-insensitive context (and idTags are case-insensitive in OCPP).
var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// newID returns prefix followed by 120 random bits from crypto/rand
// (24 base32 characters).
func newID(prefix string) string {
	var b [15]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	return prefix + idEncoding.EncodeToString(b[:])
}

// tokenKey is the case-insensitive match key of an idTag, computed here
// rather than with SQL lower() so that both databases fold identically
// (SQLite's lower() only folds ASCII, PostgreSQL's follows the locale).
func tokenKey(idTag string) string { return strings.ToLower(idTag) }
