// Package webhooksig signs and verifies webhook deliveries the way Stripe
// does: a header "t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">".
// The sandbox payment provider signs its events with it and the alert
// webhooks sign theirs, so an operator's receiver can use any Stripe-style
// verifier. Several v1 values may be given (during a secret rotation).
package webhooksig

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrInvalid: the signature header is missing, malformed, does not match
// or is outside the replay window.
var ErrInvalid = errors.New("webhook signature invalid")

// Sign returns the header value signing payload sent at t.
func Sign(secret []byte, t time.Time, payload []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, payload))
}

func mac(secret []byte, ts string, payload []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(payload)
	return m.Sum(nil)
}

// Verify checks a signature header against payload at now: one of its v1
// signatures must match, and its time be within tolerance of now, either
// way (a delivery recorded and replayed later is refused, as is one from a
// clock far ahead). Errors wrap ErrInvalid and say what is wrong.
func Verify(secret []byte, header string, payload []byte, now time.Time, tolerance time.Duration) error {
	if header == "" {
		return fmt.Errorf("%w: no signature header", ErrInvalid)
	}
	var ts string
	var sigs [][]byte
	for part := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return fmt.Errorf("%w: malformed signature header", ErrInvalid)
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			if b, err := hex.DecodeString(v); err == nil {
				sigs = append(sigs, b)
			}
		}
	}
	t, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return fmt.Errorf("%w: the signature header needs t= and v1=", ErrInvalid)
	}
	want := mac(secret, ts, payload)
	matched := false
	for _, s := range sigs {
		matched = matched || hmac.Equal(s, want)
	}
	if !matched {
		return fmt.Errorf("%w: no signature matches", ErrInvalid)
	}
	if age := now.Sub(time.Unix(t, 0)); age > tolerance || age < -tolerance {
		return fmt.Errorf("%w: signed at %s, outside the %s replay window", ErrInvalid, time.Unix(t, 0).UTC().Format(time.RFC3339), tolerance)
	}
	return nil
}
