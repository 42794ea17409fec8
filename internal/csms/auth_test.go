package csms

import "testing"

func TestStationPasswordHash(t *testing.T) {
	h := HashStationPassword("Initial-Passw0rd-16x")
	if !CheckStationPassword(h, "Initial-Passw0rd-16x") {
		t.Fatal("right password refused")
	}
	for _, bad := range []string{"", "initial-passw0rd-16x", "Initial-Passw0rd-16", "Initial-Passw0rd-16xx"} {
		if CheckStationPassword(h, bad) {
			t.Fatalf("wrong password %q accepted", bad)
		}
	}
	if CheckStationPassword(nil, "") || CheckStationPassword([]byte("short"), "short") {
		t.Fatal("malformed hash accepted")
	}
	if string(HashStationPassword("x")) == string(HashStationPassword("x")) {
		t.Fatal("hashes must be salted")
	}
	two := HashStationPassword("4f4341", "OCA")
	if !CheckStationPassword(two, "4f4341") || !CheckStationPassword(two, "OCA") || CheckStationPassword(two, "oca") {
		t.Fatal("multi-password hash")
	}
}
