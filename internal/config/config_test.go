package config

import (
	"flag"
	"testing"
	"time"
)

func TestParseFlagEnvDefaultOrder(t *testing.T) {
	env := map[string]string{"CHARGESTAR_ADDR": ":9090", "CHARGESTAR_DB": "sqlite:/env.db", "CHARGESTAR_PING_INTERVAL": "5s"}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	addr := fs.String("addr", ":8080", "")
	db := fs.String("db", "sqlite:./data/chargestar.db", "")
	pay := fs.String("payments", "sandbox", "")
	ping := fs.Duration("ping-interval", time.Minute, "")
	if err := Parse(fs, []string{"--db", "sqlite:/flag.db"}, func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if *addr != ":9090" || *db != "sqlite:/flag.db" || *pay != "sandbox" || *ping != 5*time.Second {
		t.Fatalf("addr=%s db=%s payments=%s ping=%s", *addr, *db, *pay, *ping)
	}
}

func TestParseErrorsNameTheSetting(t *testing.T) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.Duration("ping-interval", time.Minute, "")
	err := Parse(fs, nil, func(k string) string {
		if k == "CHARGESTAR_PING_INTERVAL" {
			return "often"
		}
		return ""
	})
	if !IsUsage(err) || err.Error() == "" || !contains(err.Error(), "CHARGESTAR_PING_INTERVAL") {
		t.Fatalf("got %v", err)
	}
	fs2 := flag.NewFlagSet("serve", flag.ContinueOnError)
	err = Parse(fs2, []string{"--nope"}, func(string) string { return "" })
	if !IsUsage(err) || !contains(err.Error(), "nope") {
		t.Fatalf("got %v", err)
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
