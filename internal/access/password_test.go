package access

import (
	"errors"
	"strings"
	"testing"
)

func TestPasswordHashRoundTrip(t *testing.T) {
	h, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash %q is not the PHC argon2id form", h)
	}
	if !CheckPassword(h, "correct horse battery") {
		t.Error("the right password does not match")
	}
	for _, wrong := range []string{"correct horse batterY", "", "correct horse battery ", strings.Repeat("x", MaxPasswordLen+1)} {
		if CheckPassword(h, wrong) {
			t.Errorf("%q matches", wrong)
		}
	}
	h2, _ := HashPassword("correct horse battery")
	if h2 == h {
		t.Error("two hashes of one password are equal: the salt is not fresh")
	}
}

func TestPasswordPolicy(t *testing.T) {
	for _, pw := range []string{"short", "123456789", strings.Repeat("a", MaxPasswordLen+1)} {
		if _, err := HashPassword(pw); !errors.Is(err, ErrWeakPassword) {
			t.Errorf("%d chars: %v, want ErrWeakPassword", len(pw), err)
		}
	}
	if err := CheckPasswordPolicy("ten chars!"); err != nil {
		t.Error(err)
	}
}

func TestMalformedHashesNeverMatch(t *testing.T) {
	for _, h := range []string{"", "plain", "$argon2i$v=19$m=19456,t=2,p=1$c2FsdA$a2V5", "$argon2id$v=19$m=0,t=2,p=1$c2FsdA$a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=18$m=19456,t=2,p=1$c2FsdA$a2V5a2V5a2V5a2V5a2V5", "$argon2id$v=19$m=19456,t=2,p=1$!!$a2V5"} {
		if CheckPassword(h, "anything-at-all") {
			t.Errorf("%q matches", h)
		}
	}
}

// BenchmarkCheckPassword is the cost of one sign-in attempt (and of the
// dummy check for an unknown email).
func BenchmarkCheckPassword(b *testing.B) {
	h, _ := HashPassword("correct horse battery")
	b.ReportAllocs()
	for b.Loop() {
		CheckPassword(h, "correct horse battery")
	}
}
