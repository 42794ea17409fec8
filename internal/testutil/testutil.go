// Package testutil holds helpers shared by the test suites: locating the
// read-only specification material in ../shared and deciding whether a test
// whose real dependency is missing may skip.
package testutil

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// StrictEnv names the variable CI sets so that a test which would skip for a
// missing dependency (PostgreSQL, Chromium, Node peers, ../shared) fails instead.
const StrictEnv = "CHARGESTAR_TEST_STRICT"

// Strict reports whether skips for missing dependencies are forbidden.
func Strict() bool { return os.Getenv(StrictEnv) == "1" }

// SkipOrFail skips the test with reason, or fails it when CHARGESTAR_TEST_STRICT=1.
func SkipOrFail(t testing.TB, reason string) {
	t.Helper()
	if Strict() {
		t.Fatalf("%s (%s=1 forbids skipping)", reason, StrictEnv)
	}
	t.Skip(reason)
}

// RepoRoot returns the repository root (the directory holding go.mod of the
// main module), found from this source file's location.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// SharedDir returns the path of the shared specification folder (the one
// holding ocpp-spec/, ocpi-examples/, conformance/), or "" if none is found.
// Order: $CHARGESTAR_SHARED_DIR, <repo>/../shared, /work/shared.
func SharedDir() string {
	candidates := []string{os.Getenv("CHARGESTAR_SHARED_DIR"), filepath.Join(RepoRoot(), "..", "shared"), "/work/shared"}
	for _, c := range candidates {
		if c == "" {
			continue
		}
		if st, err := os.Stat(filepath.Join(c, "ocpp-spec")); err == nil && st.IsDir() {
			return c
		}
	}
	return ""
}

// RequireSharedDir returns SharedDir or skips (fails under strict mode).
func RequireSharedDir(t testing.TB) string {
	t.Helper()
	d := SharedDir()
	if d == "" {
		SkipOrFail(t, "shared specification folder not found (set CHARGESTAR_SHARED_DIR)")
	}
	return d
}
