package webhooksig

import (
	"errors"
	"testing"
	"time"
)

func TestSignVerify(t *testing.T) {
	secret, body := []byte("whsec_test"), []byte(`{"type":"x"}`)
	at := time.Unix(1_800_000_000, 0)
	h := Sign(secret, at, body)
	if err := Verify(secret, h, body, at.Add(time.Minute), 5*time.Minute); err != nil {
		t.Fatalf("a fresh signature: %v", err)
	}
	// A rotation: an old and a new signature, either verifies.
	if err := Verify(secret, "t=1800000000,v1=00ff,"+h[len("t=1800000000,"):], body, at, time.Minute); err != nil {
		t.Errorf("several v1 values: %v", err)
	}
	for name, c := range map[string]struct {
		secret []byte
		header string
		body   []byte
		now    time.Time
	}{
		"wrong secret":    {[]byte("other"), h, body, at},
		"changed body":    {secret, h, []byte(`{"type":"y"}`), at},
		"replayed later":  {secret, h, body, at.Add(10 * time.Minute)},
		"from the future": {secret, h, body, at.Add(-10 * time.Minute)},
		"no header":       {secret, "", body, at},
		"malformed":       {secret, "garbage", body, at},
		"no v1":           {secret, "t=1800000000", body, at},
		"no t":            {secret, h[len("t=1800000000,"):], body, at},
	} {
		if err := Verify(c.secret, c.header, c.body, c.now, 5*time.Minute); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
}
