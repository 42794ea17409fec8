package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestUsersAndConsoleSessions(t *testing.T) {
	for _, b := range backendNames {
		t.Run(b, func(t *testing.T) {
			s := newHarness(t, b).open(Options{})
			ctx := context.Background()
			op, _ := fixture(t, s)
			u, err := s.CreateUser(ctx, User{OperatorID: op.ID, Email: " Ops@Example.COM ", Name: "Ops", Role: "owner", PasswordHash: "$argon2id$x"})
			if err != nil {
				t.Fatal(err)
			}
			if u.Email != "ops@example.com" {
				t.Errorf("email %q not normalised", u.Email)
			}
			if _, err := s.CreateUser(ctx, User{Email: "OPS@example.com", Role: "admin", PasswordHash: "h"}); !errors.Is(err, ErrConflict) {
				t.Errorf("duplicate email: %v", err)
			}
			admin, err := s.CreateUser(ctx, User{Email: "root@example.com", Role: "admin", PasswordHash: "h"})
			if err != nil {
				t.Fatal(err)
			}
			// The schema refuses an operator user without an operator.
			if _, err := s.CreateUser(ctx, User{Email: "x@example.com", Role: "owner", PasswordHash: "h"}); err == nil {
				t.Error("an owner without an operator was stored")
			}
			got, err := s.GetUserByEmail(ctx, "OPS@EXAMPLE.COM")
			if err != nil || got.ID != u.ID {
				t.Fatalf("by email: %v %+v", err, got)
			}
			if _, err := s.GetUser(ctx, "op_other", u.ID); !errors.Is(err, ErrNotFound) {
				t.Errorf("another operator's user: %v", err)
			}
			if all, _ := s.ListUsers(ctx, ""); len(all) != 2 {
				t.Errorf("all users: %d", len(all))
			}
			if mine, _ := s.ListUsers(ctx, op.ID); len(mine) != 1 || mine[0].ID != u.ID {
				t.Errorf("operator's users: %+v", mine)
			}

			now := time.Now()
			cs := ConsoleSession{Hash: []byte("0123456789abcdef0123456789abcdef"), User: u, CSRFToken: "csrf", ExpiresAt: now.Add(time.Hour)}
			if err := s.CreateConsoleSession(ctx, cs); err != nil {
				t.Fatal(err)
			}
			got2, err := s.GetConsoleSession(ctx, cs.Hash, now)
			if err != nil || got2.User.ID != u.ID || got2.CSRFToken != "csrf" || got2.User.LastSignInAt == nil {
				t.Fatalf("session: %v %+v", err, got2)
			}
			if _, err := s.GetConsoleSession(ctx, cs.Hash, now.Add(2*time.Hour)); !errors.Is(err, ErrNotFound) {
				t.Errorf("expired session: %v", err)
			}
			if err := s.ExtendConsoleSession(ctx, cs.Hash, now, now.Add(3*time.Hour)); err != nil {
				t.Fatal(err)
			}
			if _, err := s.GetConsoleSession(ctx, cs.Hash, now.Add(2*time.Hour)); err != nil {
				t.Errorf("extended session: %v", err)
			}
			// A new password ends the user's sessions; a name change does not.
			u.Name = "Operations"
			if u, err = s.UpdateUser(ctx, u); err != nil || u.Name != "Operations" {
				t.Fatalf("update: %v", err)
			}
			if _, err := s.GetConsoleSession(ctx, cs.Hash, now); err != nil {
				t.Errorf("session after a name change: %v", err)
			}
			u.PasswordHash = "$argon2id$y"
			if _, err := s.UpdateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			if _, err := s.GetConsoleSession(ctx, cs.Hash, now); !errors.Is(err, ErrNotFound) {
				t.Errorf("session after a password change: %v", err)
			}
			other := admin
			other.OperatorID = op.ID // an operator cannot update a user not its own
			if _, err := s.UpdateUser(ctx, other); !errors.Is(err, ErrNotFound) {
				t.Errorf("cross-operator update: %v", err)
			}
			if err := s.CreateConsoleSession(ctx, ConsoleSession{Hash: []byte("fedcba9876543210fedcba9876543210"), User: admin, CSRFToken: "c", ExpiresAt: now.Add(-time.Minute)}); err != nil {
				t.Fatal(err)
			}
			if err := s.PruneConsoleSessions(ctx, now); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestConnectionPeriods(t *testing.T) {
	for _, b := range backendNames {
		t.Run(b, func(t *testing.T) {
			s := newHarness(t, b).open(Options{})
			ctx := context.Background()
			_, st := fixture(t, s)
			t0 := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
			if err := s.RecordConnected(ctx, st.ID, "ocpp1.6", t0); err != nil {
				t.Fatal(err)
			}
			// A reconnection before the old socket closed ends the old period.
			if err := s.RecordConnected(ctx, st.ID, "ocpp1.6", t0.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			if err := s.RecordDisconnected(ctx, st.ID, t0.Add(2*time.Hour)); err != nil {
				t.Fatal(err)
			}
			if err := s.RecordConnected(ctx, st.ID, "ocpp1.6", t0.Add(3*time.Hour)); err != nil {
				t.Fatal(err)
			}
			// A disconnection at 2h30 matches no period (the station was
			// offline then) and changes nothing.
			if err := s.RecordDisconnected(ctx, st.ID, t0.Add(150*time.Minute)); err != nil {
				t.Fatal(err)
			}
			// The station drops at 3h30 and is back at 4h, but the
			// reconnection is written first: the old period still ends
			// at 3h30, and the new one stays open.
			if err := s.RecordConnected(ctx, st.ID, "ocpp1.6", t0.Add(4*time.Hour)); err != nil {
				t.Fatal(err)
			}
			if err := s.RecordDisconnected(ctx, st.ID, t0.Add(210*time.Minute)); err != nil {
				t.Fatal(err)
			}
			// The server dies; at start-up the open period ends at last seen.
			if err := s.TouchStations(ctx, map[string]time.Time{st.ID: t0.Add(5 * time.Hour)}); err != nil {
				t.Fatal(err)
			}
			n, err := s.CloseStaleConnections(ctx)
			if err != nil || n != 1 {
				t.Fatalf("closed %d: %v", n, err)
			}
			rows, err := s.query(ctx, `SELECT connected_at, disconnected_at FROM station_connections WHERE station_id = $1 ORDER BY connected_at`, st.ID)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var got [][2]time.Time
			for rows.Next() {
				var a time.Time
				var d *time.Time
				if err := rows.Scan(tsCol(&a), ntsCol(&d)); err != nil {
					t.Fatal(err)
				}
				if d == nil {
					t.Fatalf("period from %v still open", a)
				}
				got = append(got, [2]time.Time{a, *d})
			}
			want := [][2]time.Time{{t0, t0.Add(time.Hour)}, {t0.Add(time.Hour), t0.Add(2 * time.Hour)},
				{t0.Add(3 * time.Hour), t0.Add(210 * time.Minute)}, {t0.Add(4 * time.Hour), t0.Add(5 * time.Hour)}}
			if len(got) != len(want) {
				t.Fatalf("periods %v, want %v", got, want)
			}
			for i := range want {
				if !got[i][0].Equal(want[i][0]) || !got[i][1].Equal(want[i][1]) {
					t.Errorf("period %d: %v, want %v", i, got[i], want[i])
				}
			}
		})
	}
}
