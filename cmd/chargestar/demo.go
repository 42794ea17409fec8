package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/chargestar/chargestar/internal/access"
	"github.com/chargestar/chargestar/internal/config"
	"github.com/chargestar/chargestar/internal/ledger"
	"github.com/chargestar/chargestar/internal/model"
	"github.com/chargestar/chargestar/internal/server"
	"github.com/chargestar/chargestar/internal/sim"
	"github.com/chargestar/chargestar/internal/store"
)

const demoSynopsis = `Usage: chargestar demo [flags]

Runs the whole system on a fresh temporary SQLite database seeded with a demo
operator, site, stations and RFID tags, with simulated OCPP 1.6 stations
connected and charging, and prints the URLs to open. The database is deleted
on exit unless --keep is given. CHARGESTAR_ADMIN_TOKEN, when set, is used as
the administrator token; otherwise one is generated and printed.`

func demoCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	var f serverFlags
	f.register(fs, "", "text")
	stations := fs.Int("stations", 6, "simulated stations")
	connectors := fs.Int("connectors", 2, "connectors per station")
	meterInterval := fs.Duration("meter-interval", 10*time.Second, "MeterValues interval of the simulated stations")
	sessionDuration := fs.Duration("session-duration", 3*time.Minute, "mean length of a simulated charging session")
	idle := fs.Duration("idle", 30*time.Second, "mean gap between simulated sessions on a connector")
	keep := fs.Bool("keep", false, "keep the temporary database directory on exit")
	if err := parseOrHelp(fs, args, stdout, demoSynopsis); err != nil {
		return err
	}
	if f.db != "" {
		return config.Usagef("--db / CHARGESTAR_DB: demo always runs on a fresh temporary database; use serve for %q", f.db)
	}
	if *stations < 1 || *stations > 1000 {
		return config.Usagef("--stations / CHARGESTAR_STATIONS must be between 1 and 1000")
	}
	if *connectors < 1 || *connectors > 8 {
		return config.Usagef("--connectors / CHARGESTAR_CONNECTORS must be between 1 and 8")
	}
	f.db = "sqlite:placeholder"
	if err := f.check(); err != nil {
		return err
	}
	if f.logLevel == "info" && os.Getenv("CHARGESTAR_LOG_LEVEL") == "" && !flagGiven(fs, "log-level") {
		f.logLevel = "warn" // the banner is the demo's output; keep the log for problems
	}
	log, _ := f.logger(stderr)

	dir, err := os.MkdirTemp("", "chargestar-demo-")
	if err != nil {
		return err
	}
	if !*keep {
		defer os.RemoveAll(dir)
	}
	f.db = "sqlite:" + dir + "/demo.db"
	cfg := f.serverConfig(log)
	if cfg.AdminToken == "" {
		cfg.AdminToken = "demo-" + randomHex(12)
	}
	if !flagGiven(fs, "heartbeat-interval") && os.Getenv("CHARGESTAR_HEARTBEAT_INTERVAL") == "" {
		cfg.HeartbeatInterval = time.Minute
	}
	srv, err := server.Open(ctx, cfg)
	if err != nil {
		return err
	}

	fleetCfg := sim.FleetConfig{
		Count: *stations, IDPrefix: "DEMO", Concurrency: 20,
		// Every OCPP version the server speaks, side by side.
		Protocols: sim.Protocols,
		Station: sim.Config{
			URL:        "ws://" + loopback(srv.Addr()) + "/ocpp",
			Connectors: *connectors, MeterInterval: *meterInterval, SessionDuration: *sessionDuration, Idle: *idle,
			Vendor: "ChargeStar", Model: "Demo-22", Firmware: "1.4.2",
			// The last connector of each station waits for app drivers.
			AppConnectors: 1,
			// Drivers at the first connector tap NextCharge wallet cards,
			// so paid sessions (and revenue) accrue while the demo runs;
			// the others use the operator's fleet cards.
			IDTag: func(stationID string, connector int) string {
				if connector == 1 {
					return demoFleetWalletCard(stationID)
				}
				return sim.DefaultIDTag(stationID, connector)
			},
		},
	}
	seed, err := seedDemo(ctx, srv.Store, sim.FleetIDs(fleetCfg), *connectors)
	if err != nil {
		srv.Store.Close()
		return fmt.Errorf("seeding the demo: %w", err)
	}
	fleet, err := sim.NewFleet(fleetCfg)
	if err != nil {
		srv.Store.Close()
		return err
	}

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- srv.Run(runCtx) }()
	simCtx, stopSim := context.WithCancel(context.Background())
	simDone := make(chan error, 1)
	go func() { simDone <- fleet.Run(simCtx) }()

	base := srv.BaseURL()
	ids := sim.FleetIDs(fleetCfg)
	opToken := seed.token
	fmt.Fprintf(stdout, `
Charge Star demo is running.

  Stations        %d simulated stations (%s … %s) speaking %s in turn,
                  %d connectors each, drivers arriving and charging
  Console         %s/console/
                  sign in as %s / %s   (owner of "Demo Car Parks")
                  or as %s / %s   (owner of "Harbourside EV": sees none of it)
  Driver app      %s/app/s/%s/%d   (what the station's QR code opens; card 4242 4242 4242 4242;
                  the last connector of every station is kept free for app drivers)
  QR stickers     %s/api/v1/stations/%s/qr-sheet   (with the operator token)
  NextCharge card %s (an RFID card on a prepaid wallet holding $100)
  OCPP endpoint   ws://%s/ocpp/{stationId}
  REST API        %s/api/v1/            (OpenAPI: %s/api/v1/openapi.json)
  Health          %s/healthz
  Metrics         %s/metrics
  Admin token     %s
  Operator token  %s   (sees only "Demo Car Parks")
  Database        %s%s

Try:
  curl -s -H 'Authorization: Bearer %s' %s/api/v1/stations/%s
  curl -s -H 'Authorization: Bearer %s' '%s/api/v1/sessions?station_id=%s'
  curl -s -H 'Authorization: Bearer %s' -X POST -d '{"type":"soft"}' %s/api/v1/stations/%s/commands/reset

Press Ctrl-C to stop.
`, len(ids), ids[0], ids[len(ids)-1], strings.Join(sim.Protocols, ", "), *connectors, base, seed.owner.email, seed.owner.password,
		seed.otherOwner.email, seed.otherOwner.password,
		base, ids[0], *connectors, base, ids[0], demoWalletCard, loopback(srv.Addr()), base, base, base, base,
		cfg.AdminToken, opToken, strings.TrimPrefix(f.db, "sqlite:"), map[bool]string{true: " (kept)", false: " (deleted on exit)"}[*keep],
		opToken, base, ids[0], opToken, base, ids[0], opToken, base, ids[0])

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-served:
	}
	fmt.Fprintln(stdout, "\nStopping: stations end their sessions, then the server shuts down…")
	stopSim()
	select {
	case <-simDone:
	case <-time.After(20 * time.Second):
	}
	stop()
	if runErr == nil {
		runErr = <-served
	}
	return runErr
}

// demoTariff: 55c/kWh, a $1 session fee, idle time $12/h after 15 free
// minutes, GST included; $40 held per session.
const demoTariff = `{"country_code":"AU","party_id":"DCP","id":"WYNYARD-STD","currency":"AUD","type":"AD_HOC_PAYMENT",
  "elements":[{"price_components":[
    {"type":"ENERGY","price":0.55,"step_size":1},
    {"type":"FLAT","price":1.00,"step_size":1},
    {"type":"PARKING_TIME","price":12.00,"step_size":60}]}],
  "last_updated":"2026-01-01T00:00:00Z",
  "chargestar":{"tax":{"name":"GST","rate":0.1,"included":true},"parking_grace_seconds":900,"hold_amount":4000}}`

// demoWalletCard is the demo's NextCharge card (an RFID UID).
const demoWalletCard = "04C0FFEE42"

// demoFleetWalletCard is the NextCharge wallet card the simulated drivers
// of a station's first connector tap: one account per station, so two
// stations never start on one card at once.
func demoFleetWalletCard(stationID string) string { return "NC-" + stationID }

// demoSeed is what seedDemo made that the banner shows.
type demoSeed struct {
	token             string // the demo operator's API token
	owner, otherOwner demoUser
}

type demoUser struct{ email, password string }

// seedDemo creates the demo operator with its site, stations, tariff, RFID
// tags, wallet cards, console owner and API token; and a second operator
// with its own owner and station, to show that neither sees the other.
func seedDemo(ctx context.Context, st *store.Store, stationIDs []string, connectors int) (demoSeed, error) {
	var seed demoSeed
	op, err := st.CreateOperator(ctx, model.Operator{Name: "Demo Car Parks", Currency: "AUD", Country: "AU",
		LegalName: "Demo Car Parks Pty Ltd", TaxID: "51 824 753 556", Address: "1 Wynyard Lane, Sydney NSW 2000"})
	if err != nil {
		return seed, err
	}
	site, err := st.CreateSite(ctx, model.Site{OperatorID: op.ID, Name: "Wynyard Car Park, Level 2", Address: "1 Wynyard Lane, Sydney NSW 2000", Timezone: "Australia/Sydney"})
	if err != nil {
		return seed, err
	}
	for _, id := range stationIDs {
		if _, err := st.CreateStation(ctx, model.Station{ID: id, OperatorID: op.ID, SiteID: site.ID}); err != nil {
			return seed, err
		}
		for c := 1; c <= connectors; c++ {
			if _, err := st.CreateIDToken(ctx, model.IDToken{OperatorID: op.ID, IDToken: sim.DefaultIDTag(id, c), Status: model.TokenAccepted}); err != nil {
				return seed, err
			}
		}
		if err := seedWalletCard(ctx, st, "fleet-"+strings.ToLower(id)+"@example.com", demoFleetWalletCard(id), 5000_00); err != nil {
			return seed, err
		}
	}
	// The site's tariff, which the driver app quotes and bills.
	tariff, err := st.SaveTariff(ctx, store.Tariff{OperatorID: op.ID, Name: "Wynyard standard", Body: []byte(demoTariff)})
	if err != nil {
		return seed, err
	}
	if _, err := st.AssignTariff(ctx, store.TariffAssignment{OperatorID: op.ID, Scope: store.ScopeSite, ScopeID: site.ID, TariffID: tariff.ID}); err != nil {
		return seed, err
	}
	// A NextCharge card on a wallet holding $100, booked as a top-up.
	if err := seedWalletCard(ctx, st, "driver@example.com", demoWalletCard, 100_00); err != nil {
		return seed, err
	}
	// A blocked card, to try Authorize answers with.
	if _, err := st.CreateIDToken(ctx, model.IDToken{OperatorID: op.ID, IDToken: "LOST-CARD-0001", Status: model.TokenBlocked}); err != nil {
		return seed, err
	}
	b := make([]byte, 32)
	rand.Read(b)
	seed.token = "cs_" + base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(seed.token))
	if _, err := st.CreateAPIToken(ctx, model.APIToken{OperatorID: op.ID, Name: "demo", Hash: sum[:]}); err != nil {
		return seed, err
	}
	if seed.owner, err = seedOwner(ctx, st, op.ID, "owner@democarparks.example"); err != nil {
		return seed, err
	}

	// The other operator: one site, one station (not simulated), one owner.
	other, err := st.CreateOperator(ctx, model.Operator{Name: "Harbourside EV", Currency: "AUD", Country: "AU"})
	if err != nil {
		return seed, err
	}
	otherSite, err := st.CreateSite(ctx, model.Site{OperatorID: other.ID, Name: "Harbourside Marina", Timezone: "Australia/Sydney"})
	if err != nil {
		return seed, err
	}
	if _, err := st.CreateStation(ctx, model.Station{ID: "HARBOUR-01", OperatorID: other.ID, SiteID: otherSite.ID}); err != nil {
		return seed, err
	}
	seed.otherOwner, err = seedOwner(ctx, st, other.ID, "owner@harbourside.example")
	return seed, err
}

// seedWalletCard makes a NextCharge account funded by a wallet holding
// amount (booked as a top-up) with an RFID card.
func seedWalletCard(ctx context.Context, st *store.Store, email, card string, amount int64) error {
	acct, err := st.SaveDriverAccount(ctx, store.DriverAccount{Email: email, Currency: "AUD", Funding: store.FundingWallet})
	if err != nil {
		return err
	}
	if _, err := st.SaveDriverCard(ctx, store.DriverCard{IDToken: card, AccountID: acct.ID, Status: model.TokenAccepted}); err != nil {
		return err
	}
	topUp, err := ledger.WalletTopUp(ledger.TopUpParams{Key: "demo-topup:" + acct.ID, Reference: "demo", Wallet: ledger.WalletAccount(acct.ID, "AUD"),
		Provider: "sandbox", Amount: amount})
	if err != nil {
		return err
	}
	_, err = st.PostLedger(ctx, topUp)
	return err
}

// seedOwner creates an operator's console owner with a fresh password.
func seedOwner(ctx context.Context, st *store.Store, operatorID, email string) (demoUser, error) {
	u := demoUser{email: email, password: "demo-" + randomHex(6)}
	hash, err := access.HashPassword(u.password)
	if err != nil {
		return u, err
	}
	_, err = st.CreateUser(ctx, store.User{OperatorID: operatorID, Email: email, Name: "Demo owner", Role: string(access.Owner), PasswordHash: hash})
	return u, err
}

// loopback returns host:port to reach a listener from this machine.
func loopback(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok || tcp.IP.IsUnspecified() {
		if ok {
			return "localhost:" + strconv.Itoa(tcp.Port)
		}
		return a.String()
	}
	return a.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}
