package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chargestar/chargestar/internal/model"
)

// TestStore runs every subtest against a fresh SQLite file and, when
// CHARGESTAR_TEST_POSTGRES_URL is set, against a fresh PostgreSQL schema.
func TestStore(t *testing.T) {
	tests := []struct {
		name string
		fn   func(t *testing.T, h *harness)
	}{
		{"OpenMigratePing", testOpenMigratePing},
		{"Operators", testOperators},
		{"APITokens", testAPITokens},
		{"Sites", testSites},
		{"Stations", testStations},
		{"StationUpdates", testStationUpdates},
		{"StatusEvents", testStatusEvents},
		{"IDTokens", testIDTokens},
		{"SessionLifecycle16", testSessionLifecycle16},
		{"SessionLifecycle2x", testSessionLifecycle2x},
		{"SupersededAndCorrected", testSupersededAndCorrected},
		{"OutOfOrderStart", testOutOfOrderStart},
		{"StopEnergy", testStopEnergy},
		{"ListSessions", testListSessions},
		{"TransactionIDsConcurrent", testTransactionIDsConcurrent},
		{"MeterValues", testMeterValues},
		{"Messages", testMessages},
		{"LogMessagesNeverBlocks", testLogMessagesNeverBlocks},
		{"BatchFailureIsolation", testBatchFailureIsolation},
		{"BatchOrdering", testBatchOrdering},
		{"CloseFlushes", testCloseFlushes},
		{"CanceledWrite", testCanceledWrite},
		{"Timestamps", testTimestamps},
		{"TransactionEvents", testTransactionEvents},
		{"AppendTransactionEvent", testAppendTransactionEvent},
		{"StationVariables", testStationVariables},
		{"StationEvents", testStationEvents},
		{"MeterStartUnknown", testMeterStartUnknown},
		{"MigrateDown", testMigrateDown},
		{"Ledger", testLedger},
		{"SandboxPayments", testSandboxPayments},
	}
	for _, backend := range backendNames {
		t.Run(backend, func(t *testing.T) {
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					tc.fn(t, newHarness(t, backend))
				})
			}
		})
	}
}

func TestOpenRejectsUnknownDSN(t *testing.T) {
	for _, dsn := range []string{"", "mysql://x", "/tmp/x.db", "sqlite:", "sqlite::memory:"} {
		_, err := Open(context.Background(), dsn, Options{})
		if err == nil {
			t.Fatalf("Open(%q) succeeded", dsn)
		}
		if dsn == "mysql://x" && !strings.Contains(err.Error(), "sqlite:PATH") {
			t.Errorf("Open(%q) error %q does not name the accepted forms", dsn, err)
		}
	}
}

func mustNotFound(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("%s: got %v, want ErrNotFound", what, err)
	}
}

func mustConflict(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, ErrConflict) {
		t.Errorf("%s: got %v, want ErrConflict", what, err)
	}
}

// must(f())(t) returns f's value, failing the test if f failed.
func must[T any](v T, err error) func(testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func testOpenMigratePing(t *testing.T, h *harness) {
	ctx := context.Background()
	s := h.open(Options{})
	if s.Dialect() != h.backend {
		t.Errorf("Dialect() = %q, want %q", s.Dialect(), h.backend)
	}
	check(t, s.Ping(ctx))
	check(t, s.Migrate(ctx)) // nothing pending: a no-op
	if h.backend == "sqlite" {
		for pragma, want := range map[string]string{"journal_mode": "wal", "synchronous": "2", "foreign_keys": "1", "temp_store": "2"} {
			var got string
			check(t, s.wdb.QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got))
			if got != want {
				t.Errorf("writer PRAGMA %s = %s, want %s", pragma, got, want)
			}
		}
		var qo string
		check(t, s.rdb.QueryRowContext(ctx, "PRAGMA query_only").Scan(&qo))
		if qo != "1" {
			t.Errorf("read pool is not query_only")
		}
		n := h.open(Options{SQLiteSynchronous: "normal"})
		var sync string
		check(t, n.wdb.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync))
		if sync != "1" {
			t.Errorf("SQLiteSynchronous NORMAL: PRAGMA synchronous = %s", sync)
		}
		if _, err := Open(ctx, h.dsn, Options{SQLiteSynchronous: "OFF"}); err == nil {
			t.Error("SQLiteSynchronous OFF accepted")
		}
	}
	// a second store on the same database sees the same data
	op := must(s.CreateOperator(ctx, model.Operator{Name: "A"}))(t)
	s2 := h.open(Options{})
	got := must(s2.GetOperator(ctx, op.ID))(t)
	if got != op {
		t.Errorf("second store read %+v, want %+v", got, op)
	}
}

func testOperators(t *testing.T, h *harness) {
	ctx := context.Background()
	s := h.open(Options{})
	a := must(s.CreateOperator(ctx, model.Operator{Name: "A", Currency: "AUD", Country: "AU"}))(t)
	if !strings.HasPrefix(a.ID, "op_") || len(a.ID) < 3+16 || a.CreatedAt.IsZero() {
		t.Fatalf("created operator %+v: want an op_ id and CreatedAt", a)
	}
	b := must(s.CreateOperator(ctx, model.Operator{ID: "op_fixed", Name: "B", CreatedAt: time.Date(2024, 1, 2, 3, 4, 5, 6000, time.UTC)}))(t)
	if b.ID != "op_fixed" {
		t.Fatalf("explicit id not kept: %q", b.ID)
	}
	_, err := s.CreateOperator(ctx, model.Operator{ID: "op_fixed", Name: "dup"})
	mustConflict(t, "duplicate operator", err)
	if _, err := s.CreateOperator(ctx, model.Operator{}); err == nil {
		t.Error("operator without name accepted")
	}
	got := must(s.GetOperator(ctx, a.ID))(t)
	if got != a {
		t.Errorf("GetOperator = %+v, want %+v", got, a)
	}
	_, err = s.GetOperator(ctx, "op_missing")
	mustNotFound(t, "GetOperator missing", err)
	list := must(s.ListOperators(ctx))(t)
	want := []model.Operator{a, b}
	slices.SortFunc(want, func(x, y model.Operator) int { return strings.Compare(x.ID, y.ID) })
	if !reflect.DeepEqual(list, want) {
		t.Errorf("ListOperators = %+v, want %+v", list, want)
	}
}

func testAPITokens(t *testing.T, h *harness) {
	ctx := context.Background()
	s := h.open(Options{})
	opA := must(s.CreateOperator(ctx, model.Operator{Name: "A"}))(t)
	opB := must(s.CreateOperator(ctx, model.Operator{Name: "B"}))(t)
	hash := []byte("0123456789abcdef0123456789abcdef")
	tok := must(s.CreateAPIToken(ctx, model.APIToken{OperatorID: opA.ID, Name: "ci", Hash: hash}))(t)
	if !strings.HasPrefix(tok.ID, "tok_") || tok.RevokedAt != nil {
		t.Fatalf("created token %+v", tok)
	}
	_, err := s.CreateAPIToken(ctx, model.APIToken{OperatorID: opB.ID, Hash: hash})
	mustConflict(t, "duplicate hash", err)
	_, err = s.CreateAPIToken(ctx, model.APIToken{OperatorID: "op_nope", Hash: []byte("x")})
	mustNotFound(t, "token of unknown operator", err)
	admin := must(s.CreateAPIToken(ctx, model.APIToken{Name: "root", Hash: []byte("admin-hash")}))(t)

	got := must(s.GetAPITokenByHash(ctx, hash))(t)
	if !reflect.DeepEqual(got, tok) {
		t.Errorf("GetAPITokenByHash = %+v, want %+v", got, tok)
	}
	gotAdmin := must(s.GetAPITokenByHash(ctx, []byte("admin-hash")))(t)
	if gotAdmin.OperatorID != "" || gotAdmin.ID != admin.ID {
		t.Errorf("admin token = %+v", gotAdmin)
	}
	_, err = s.GetAPITokenByHash(ctx, []byte("nope"))
	mustNotFound(t, "unknown hash", err)

	mustNotFound(t, "revoke foreign token", s.RevokeAPIToken(ctx, opB.ID, tok.ID))
	mustNotFound(t, "revoke admin token as operator", s.RevokeAPIToken(ctx, opA.ID, admin.ID))
	mustNotFound(t, "revoke unknown token", s.RevokeAPIToken(ctx, opA.ID, "tok_nope"))
	check(t, s.RevokeAPIToken(ctx, opA.ID, tok.ID))
	got = must(s.GetAPITokenByHash(ctx, hash))(t)
	if got.RevokedAt == nil {
		t.Fatal("token not revoked")
	}
	first := *got.RevokedAt
	check(t, s.RevokeAPIToken(ctx, "", tok.ID)) // again, as administrator: keeps the first time
	got = must(s.GetAPITokenByHash(ctx, hash))(t)
	if !got.RevokedAt.Equal(first) {
		t.Errorf("revocation time changed from %v to %v", first, *got.RevokedAt)
	}
	check(t, s.RevokeAPIToken(ctx, "", admin.ID))
}

func testSites(t *testing.T, h *harness) {
	ctx := context.Background()
	s := h.open(Options{})
	opA := must(s.CreateOperator(ctx, model.Operator{Name: "A"}))(t)
	opB := must(s.CreateOperator(ctx, model.Operator{Name: "B"}))(t)
	site := must(s.CreateSite(ctx, model.Site{OperatorID: opA.ID, Name: "Level 2", Address: "1 Main St", Timezone: "Australia/Sydney"}))(t)
	if !strings.HasPrefix(site.ID, "site_") {
		t.Fatalf("site id %q", site.ID)
	}
	siteB := must(s.CreateSite(ctx, model.Site{OperatorID: opB.ID, Name: "B1"}))(t)
	_, err := s.CreateSite(ctx, model.Site{OperatorID: "op_nope", Name: "x"})
	mustNotFound(t, "site of unknown operator", err)
	_, err = s.CreateSite(ctx, model.Site{ID: site.ID, OperatorID: opA.ID})
	mustConflict(t, "duplicate site id", err)

	got := must(s.GetSite(ctx, opA.ID, site.ID))(t)
	if got != site {
		t.Errorf("GetSite = %+v, want %+v", got, site)
	}
	_, err = s.GetSite(ctx, opB.ID, site.ID)
	mustNotFound(t, "foreign site", err)
	if got := must(s.GetSite(ctx, "", site.ID))(t); got != site {
		t.Errorf("GetSite any operator = %+v", got)
	}
	if l := must(s.ListSites(ctx, opA.ID))(t); len(l) != 1 || l[0] != site {
		t.Errorf("ListSites(A) = %+v", l)
	}
	if l := must(s.ListSites(ctx, opB.ID))(t); len(l) != 1 || l[0] != siteB {
		t.Errorf("ListSites(B) = %+v", l)
	}
	if l := must(s.ListSites(ctx, ""))(t); len(l) != 2 {
		t.Errorf("ListSites(all) = %d sites", len(l))
	}
}

func testStations(t *testing.T, h *harness) {
	ctx := context.Background()
	s := h.open(Options{})
	opA := must(s.CreateOperator(ctx, model.Operator{Name: "A"}))(t)
	opB := must(s.CreateOperator(ctx, model.Operator{Name: "B"}))(t)
	siteA := must(s.CreateSite(ctx, model.Site{OperatorID: opA.ID, Name: "A1"}))(t)
	siteB := must(s.CreateSite(ctx, model.Site{OperatorID: opB.ID, Name: "B1"}))(t)

	st := must(s.CreateStation(ctx, model.Station{ID: "CP-1", OperatorID: opA.ID, SiteID: siteA.ID, PasswordHash: []byte("pw")}))(t)
	if st.CreatedAt.IsZero() {
		t.Fatal("CreatedAt not set")
	}
	_, err := s.CreateStation(ctx, model.Station{ID: "CP-1", OperatorID: opB.ID})
	mustConflict(t, "duplicate station", err)
	_, err = s.CreateStation(ctx, model.Station{ID: "CP-X", OperatorID: opA.ID, SiteID: siteB.ID})
	mustNotFound(t, "station on another operator's site", err)
	_, err = s.CreateStation(ctx, model.Station{ID: "CP-Y", OperatorID: "op_nope"})
	mustNotFound(t, "station of unknown operator", err)

	got := must(s.GetStation(ctx, "CP-1"))(t)
	if !reflect.DeepEqual(got, st) {
		t.Errorf("GetStation = %+v, want %+v", got, st)
	}
	_, err = s.GetStation(ctx, "CP-nope")
	mustNotFound(t, "unknown station", err)

	for i := 2; i <= 5; i++ {
		must(s.CreateStation(ctx, model.Station{ID: "CP-" + strconv.Itoa(i), OperatorID: opA.ID}))(t)
	}
	must(s.CreateStation(ctx, model.Station{ID: "CP-B", OperatorID: opB.ID, SiteID: siteB.ID}))(t)
	ids := func(l []model.Station) []string {
		var out []string
		for _, x := range l {
			out = append(out, x.ID)
		}
		return out
	}
	if got := ids(must(s.ListStations(ctx, StationFilter{OperatorID: opA.ID, Limit: 2}))(t)); !slices.Equal(got, []string{"CP-1", "CP-2"}) {
		t.Errorf("page 1 = %v", got)
	}
	if got := ids(must(s.ListStations(ctx, StationFilter{OperatorID: opA.ID, Limit: 2, After: "CP-2"}))(t)); !slices.Equal(got, []string{"CP-3", "CP-4"}) {
		t.Errorf("page 2 = %v", got)
	}
	if got := ids(must(s.ListStations(ctx, StationFilter{SiteID: siteB.ID}))(t)); !slices.Equal(got, []string{"CP-B"}) {
		t.Errorf("by site = %v", got)
	}
	if got := ids(must(s.ListStations(ctx, StationFilter{}))(t)); len(got) != 6 {
		t.Errorf("all = %v", got)
	}
}

func testStationUpdates(t *testing.T, h *harness) {
	ctx := context.Background()
	s := h.open(Options{})
	opA, st := fixture(t, s)
	opB := must(s.CreateOperator(ctx, model.Operator{Name: "B"}))(t)
	siteA := must(s.CreateSite(ctx, model.Site{OperatorID: opA.ID}))(t)
	siteB := must(s.CreateSite(ctx, model.Site{OperatorID: opB.ID}))(t)

	// UpdateStation: operator-editable fields only
	retired := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	edit := st
	edit.SiteID, edit.PasswordHash, edit.RetiredAt = siteA.ID, []byte("hash"), &retired
	edit.Vendor = "ignored"
	up := must(s.UpdateStation(ctx, edit))(t)
	if up.SiteID != siteA.ID || string(up.PasswordHash) != "hash" || up.RetiredAt == nil || !up.RetiredAt.Equal(retired) || up.Vendor != "" {
		t.Errorf("UpdateStation = %+v", up)
	}
	edit.SiteID = siteB.ID
	_, err := s.UpdateStation(ctx, edit)
	mustNotFound(t, "move to a foreign site", err)
	foreign := st
	foreign.OperatorID = opB.ID
	_, err = s.UpdateStation(ctx, foreign)
	mustNotFound(t, "update as another operator", err)
	_, err = s.UpdateStation(ctx, model.Station{ID: "CP-nope"})
	mustNotFound(t, "update unknown station", err)
	edit.SiteID, edit.PasswordHash, edit.RetiredAt = "", nil, nil
	up = must(s.UpdateStation(ctx, edit))(t)
	if up.SiteID != "" || up.PasswordHash != nil || up.RetiredAt != nil {
		t.Errorf("clearing fields: %+v", up)
	}

	// RecordBoot / RecordConnected / TouchStations
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	check(t, s.RecordConnected(ctx, st.ID, "ocpp1.6", t0))
	boot := BootRecord{StationID: st.ID, Vendor: "ABB", Model: "Terra", SerialNumber: "SN1", ChargeBoxSerial: "CB1",
		FirmwareVersion: "1.2.3", ICCID: "8961", IMSI: "5050", MeterType: "DC", MeterSerialNumber: "M1",
		RegistrationStatus: "Accepted", HeartbeatInterval: 300, At: t0.Add(time.Second)}
	check(t, s.RecordBoot(ctx, boot))
	got := must(s.GetStation(ctx, st.ID))(t)
	if got.Protocol != "ocpp1.6" || got.Vendor != "ABB" || got.Model != "Terra" || got.SerialNumber != "SN1" ||
		got.ChargeBoxSerial != "CB1" || got.FirmwareVersion != "1.2.3" || got.ICCID != "8961" || got.IMSI != "5050" ||
		got.MeterType != "DC" || got.MeterSerialNumber != "M1" || got.RegistrationStatus != "Accepted" ||
		got.HeartbeatInterval != 300 || !got.LastBootAt.Equal(t0.Add(time.Second)) || !got.LastSeenAt.Equal(t0.Add(time.Second)) {
		t.Errorf("after boot: %+v", got)
	}
	mustNotFound(t, "boot of unknown station", s.RecordBoot(ctx, BootRecord{StationID: "CP-nope", At: t0}))
	mustNotFound(t, "connect of unknown station", s.RecordConnected(ctx, "CP-nope", "ocpp1.6", t0))

	st2 := must(s.CreateStation(ctx, model.Station{ID: st.ID + "-2", OperatorID: opA.ID}))(t)
	check(t, s.TouchStations(ctx, map[string]time.Time{
		st.ID:     t0, // older than stored: ignored
		st2.ID:    t0.Add(time.Hour),
		"CP-nope": t0, // unknown: ignored
	}))
	if got := must(s.GetStation(ctx, st.ID))(t); !got.LastSeenAt.Equal(t0.Add(time.Second)) {
		t.Errorf("touch went backwards: %v", got.LastSeenAt)
	}
	if got := must(s.GetStation(ctx, st2.ID))(t); got.LastSeenAt == nil || !got.LastSeenAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("touch not applied: %v", got.LastSeenAt)
	}
	many := map[string]time.Time{}
	for i := range 1200 { // more than one statement's worth
		many[fmt.Sprintf("ghost-%d", i)] = t0
	}
	many[st.ID] = t0.Add(2 * time.Hour)
	check(t, s.TouchStations(ctx, many))
	if got := must(s.GetStation(ctx, st.ID))(t); !got.LastSeenAt.Equal(t0.Add(2 * time.Hour)) {
		t.Errorf("bulk touch: %v", got.LastSeenAt)
	}
	check(t, s.RecordConnected(ctx, st.ID, "", t0)) // empty protocol keeps the stored one
	if got := must(s.GetStation(ctx, st.ID))(t); got.Protocol != "ocpp1.6" || !got.LastSeenAt.Equal(t0.Add(2*time.Hour)) {
		t.Errorf("connect with empty protocol: %q %v", got.Protocol, got.LastSeenAt)
	}

	// firmware / diagnostics status: a late, older notification is ignored
	check(t, s.RecordFirmwareStatus(ctx, st.ID, "Installed", t0.Add(2*time.Minute)))
	check(t, s.RecordFirmwareStatus(ctx, st.ID, "Downloading", t0.Add(time.Minute)))
	check(t, s.RecordDiagnosticsStatus(ctx, st.ID, "Uploaded", t0.Add(3*time.Minute)))
	got = must(s.GetStation(ctx, st.ID))(t)
	if got.FirmwareStatus != "Installed" || !got.FirmwareStatusAt.Equal(t0.Add(2*time.Minute)) ||
		got.DiagnosticsStatus != "Uploaded" || !got.DiagnosticsAt.Equal(t0.Add(3*time.Minute)) {
		t.Errorf("firmware/diagnostics: %+v", got)
	}
	mustNotFound(t, "firmware of unknown station", s.RecordFirmwareStatus(ctx, "CP-nope", "Idle", t0))
	mustNotFound(t, "diagnostics of unknown station", s.RecordDiagnosticsStatus(ctx, "CP-nope", "Idle", t0))
}

func testStatusEvents(t *testing.T, h *harness) {
	ctx := context.Background()
	s := h.open(Options{})
	_, st := fixture(t, s)
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	ev := func(conn int, status string, at time.Time) model.StatusEvent {
		return model.StatusEvent{StationID: st.ID, ConnectorID: conn, Status: status, ErrorCode: "NoError", Timestamp: at}
	}
	check(t, s.RecordStatus(ctx, ev(1, "Charging", t0.Add(2*time.Minute))))
	check(t, s.RecordStatus(ctx, ev(1, "Preparing", t0.Add(time.Minute)))) // older, delivered late
	check(t, s.RecordStatus(ctx, ev(0, "Available", t0)))
	check(t, s.RecordStatus(ctx, model.StatusEvent{StationID: st.ID, ConnectorID: 2, Status: "Faulted",
		ErrorCode: "GroundFailure", Info: "i", VendorID: "v", VendorErrorCode: "E1", Timestamp: t0}))
	check(t, s.RecordStatus(ctx, ev(2, "Available", t0))) // same timestamp: the later report wins
	mustNotFound(t, "status of unknown station", s.RecordStatus(ctx, model.StatusEvent{StationID: "CP-nope", Status: "Available"}))

	cs := must(s.ListConnectors(ctx, st.ID))(t)
	if len(cs) != 3 || cs[0].ConnectorID != 0 || cs[1].ConnectorID != 1 || cs[2].ConnectorID != 2 {
		t.Fatalf("connectors = %+v", cs)
	}
	if cs[1].Status != "Charging" || !cs[1].StatusAt.Equal(t0.Add(2*time.Minute)) || cs[1].UpdatedAt.IsZero() {
		t.Errorf("connector 1 = %+v (an older event overwrote a newer one?)", cs[1])
	}
	if cs[2].Status != "Available" || cs[2].ErrorCode != "NoError" {
		t.Errorf("connector 2 = %+v", cs[2])
	}

	events := must(s.ListStatusEvents(ctx, st.ID, time.Time{}, 0))(t)
	if len(events) != 5 {
		t.Fatalf("%d events, want 5 (history keeps every notification)", len(events))
	}
	for i := 1; i < len(events); i++ {
		if events[i].Timestamp.Before(events[i-1].Timestamp) {
			t.Errorf("events not ordered by timestamp: %v", events)
		}
	}
	if e := events[0]; e.ID == 0 || e.ReceivedAt.IsZero() || e.StationID != st.ID {
		t.Errorf("event = %+v", e)
	}
	if got := must(s.ListStatusEvents(ctx, st.ID, t0.Add(time.Minute), 0))(t); len(got) != 2 {
		t.Errorf("since: %d events, want 2", len(got))
	}
	if got := must(s.ListStatusEvents(ctx, st.ID, time.Time{}, 2))(t); len(got) != 2 {
		t.Errorf("limit: %d events", len(got))
	}

	op2, st2 := fixture(t, s)
	_ = op2
	check(t, s.RecordStatus(ctx, ev(1, "Available", t0)))
	check(t, s.RecordStatus(ctx, model.StatusEvent{StationID: st2.ID, ConnectorID: 1, Status: "Unavailable", Timestamp: t0}))
	m := must(s.ListConnectorsOf(ctx, []string{st.ID, st2.ID, "CP-nope"}))(t)
	if len(m) != 2 || len(m[st.ID]) != 3 || len(m[st2.ID]) != 1 || m[st2.ID][0].Status != "Unavailable" {
		t.Errorf("ListConnectorsOf = %+v", m)
	}
	if m := must(s.ListConnectorsOf(ctx, nil))(t); len(m) != 0 {
		t.Errorf("ListConnectorsOf(nil) = %+v", m)
	}
}

func testIDTokens(t *testing.T, h *harness) {
	ctx := context.Background()
	s := h.open(Options{})
	opA := must(s.CreateOperator(ctx, model.Operator{Name: "A"}))(t)
	opB := must(s.CreateOperator(ctx, model.Operator{Name: "B"}))(t)
	exp := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	tok := must(s.CreateIDToken(ctx, model.IDToken{OperatorID: opA.ID, IDToken: "AbCd1234", ExpiresAt: &exp, ParentIDTag: "FLEET"}))(t)
	if tok.Status != model.TokenAccepted || tok.CreatedAt.IsZero() || tok.UpdatedAt.IsZero() {
		t.Fatalf("created token %+v", tok)
	}
	_, err := s.CreateIDToken(ctx, model.IDToken{OperatorID: opA.ID, IDToken: "abcd1234"})
	mustConflict(t, "same token, other case", err)
	must(s.CreateIDToken(ctx, model.IDToken{OperatorID: opB.ID, IDToken: "ABCD1234"}))(t) // other operator: fine
	_, err = s.CreateIDToken(ctx, model.IDToken{OperatorID: "op_nope", IDToken: "X"})
	mustNotFound(t, "token of unknown operator", err)
	if _, err := s.CreateIDToken(ctx, model.IDToken{OperatorID: opA.ID, IDToken: "Y", Status: "Bogus"}); err == nil {
		t.Error("invalid status accepted")
	}

	got := must(s.GetIDToken(ctx, opA.ID, "ABCD1234"))(t)
	if !reflect.DeepEqual(got, tok) {
		t.Errorf("GetIDToken = %+v, want %+v", got, tok)
	}
	if got.IDToken != "AbCd1234" {
		t.Errorf("token not stored as given: %q", got.IDToken)
	}
	_, err = s.GetIDToken(ctx, opB.ID+"x", "abcd1234")
	mustNotFound(t, "token of another operator", err)

	for _, v := range []string{"c3", "B2", "a1", "D4"} {
		must(s.CreateIDToken(ctx, model.IDToken{OperatorID: opA.ID, IDToken: v, Status: model.TokenBlocked}))(t)
	}
	names := func(l []model.IDToken) []string {
		var out []string
		for _, x := range l {
			out = append(out, x.IDToken)
		}
		return out
	}
	if got := names(must(s.ListIDTokens(ctx, opA.ID, 2, ""))(t)); !slices.Equal(got, []string{"a1", "AbCd1234"}) {
		t.Errorf("page 1 = %v", got)
	}
	if got := names(must(s.ListIDTokens(ctx, opA.ID, 2, "ABCD1234"))(t)); !slices.Equal(got, []string{"B2", "c3"}) {
		t.Errorf("page 2 = %v", got)
	}
	if got := names(must(s.ListIDTokens(ctx, opB.ID, 0, ""))(t)); !slices.Equal(got, []string{"ABCD1234"}) {
		t.Errorf("operator B = %v", got)
	}

	upd := must(s.SetIDTokenStatus(ctx, opA.ID, "abcd1234", model.TokenBlocked))(t)
	if upd.Status != model.TokenBlocked || upd.IDToken != "AbCd1234" || upd.UpdatedAt.Before(tok.UpdatedAt) {
		t.Errorf("SetIDTokenStatus = %+v", upd)
	}
	_, err = s.SetIDTokenStatus(ctx, opA.ID, "nope", model.TokenBlocked)
	mustNotFound(t, "status of unknown token", err)
	if _, err := s.SetIDTokenStatus(ctx, opA.ID, "a1", "Bogus"); err == nil {
		t.Error("invalid status accepted")
	}
	if got := must(s.GetIDToken(ctx, opB.ID, "abcd1234"))(t); got.Status != model.TokenAccepted {
		t.Errorf("other operator's token changed: %+v", got)
	}
}

func testSessionLifecycle16(t *testing.T, h *harness) {
	ctx := context.Background()
	s := h.open(Options{})
	op, st := fixture(t, s)
	opB, stB := fixture(t, s)
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	p := StartSessionParams{OperatorID: op.ID, StationID: st.ID, ConnectorID: 1, IDTag: "TAG1", StartedAt: t0, MeterStartWh: 1000, ReservationID: ptr(7)}
	ses, created, err := s.StartSession(ctx, p)
	check(t, err)
	if !created || !strings.HasPrefix(ses.ID, "ses_") || ses.TransactionID == "" || ses.Status != model.SessionActive ||
		ses.PaymentStatus != model.PaymentNone || ses.Currency != "AUD" || ses.OperatorID != op.ID ||
		ses.ReservationID == nil || *ses.ReservationID != 7 || !ses.StartedAt.Equal(t0) {
		t.Fatalf("started %+v created=%v", ses, created)
	}
	if _, err := strconv.Atoi(ses.TransactionID); err != nil {
		t.Errorf("1.6 transaction id %q is not an integer", ses.TransactionID)
	}
	// replay: same start, id tag in another case
	p2 := p
	p2.IDTag = "tag1"
	again, created, err := s.StartSession(ctx, p2)
	check(t, err)
	if created || again.ID != ses.ID || again.TransactionID != ses.TransactionID {
		t.Errorf("replayed start: created=%v %+v, want the existing session", created, again)
	}
	// not a replay: another meter start
	_, _, err = s.StartSession(ctx, StartSessionParams{OperatorID: opB.ID, StationID: st.ID, ConnectorID: 2, StartedAt: t0})
	mustNotFound(t, "start on another operator's station", err)
	_, _, err = s.StartSession(ctx, StartSessionParams{StationID: "CP-nope", ConnectorID: 1, StartedAt: t0})
	mustNotFound(t, "start on unknown station", err)

	got := must(s.GetSession(ctx, op.ID, ses.ID))(t)
	if !reflect.DeepEqual(got, ses) {
		t.Errorf("GetSession = %+v, want %+v", got, ses)
	}
	must(s.GetSession(ctx, "", ses.ID))(t)
	_, err = s.GetSession(ctx, opB.ID, ses.ID)
	mustNotFound(t, "foreign session", err)
	_, err = s.GetSession(ctx, op.ID, "ses_nope")
	mustNotFound(t, "unknown session", err)
	if got := must(s.GetSessionByTransaction(ctx, st.ID, ses.TransactionID))(t); got.ID != ses.ID {
		t.Errorf("by transaction = %+v", got)
	}
	_, err = s.GetSessionByTransaction(ctx, stB.ID, ses.TransactionID)
	mustNotFound(t, "transaction of another station", err)
	if got := must(s.ActiveSession(ctx, st.ID, 1))(t); got.ID != ses.ID {
		t.Errorf("ActiveSession = %+v", got)
	}
	_, err = s.ActiveSession(ctx, st.ID, 2)
	mustNotFound(t, "no active session on connector 2", err)
	if n := must(s.CountActiveSessionsForToken(ctx, op.ID, "tag1"))(t); n != 1 {
		t.Errorf("CountActiveSessionsForToken = %d", n)
	}
	if n := must(s.CountActiveSessionsForToken(ctx, opB.ID, "TAG1"))(t); n != 0 {
		t.Errorf("other operator's count = %d", n)
	}

	// live energy from meter values
	mv := func(at time.Time, wh *float64) model.MeterValue {
		return model.MeterValue{StationID: st.ID, ConnectorID: 1, SessionID: ses.ID, TransactionID: ses.TransactionID,
			Timestamp: at, EnergyWh: wh, Samples: []model.SampledValue{{Value: "x"}}}
	}
	check(t, s.AppendMeterValues(ctx, []model.MeterValue{
		mv(t0.Add(2*time.Minute), ptr(1600.4)),
		mv(t0.Add(time.Minute), ptr(1300.0)), // older, delivered late
		mv(t0.Add(3*time.Minute), nil),       // no energy sample
	}))
	if got := must(s.GetSession(ctx, op.ID, ses.ID))(t); got.EnergyWh != 600 {
		t.Errorf("live EnergyWh = %d, want 600", got.EnergyWh)
	}
	active := must(s.ListActiveSessions(ctx, st.ID))(t)
	if len(active) != 1 || active[0].EnergyWh != 600 {
		t.Errorf("ListActiveSessions = %+v", active)
	}
	if got := must(s.ActiveSession(ctx, st.ID, 1))(t); got.EnergyWh != 600 {
		t.Errorf("ActiveSession EnergyWh = %d", got.EnergyWh)
	}

	// stop
	stopAt := t0.Add(30 * time.Minute)
	stopped, outcome, err := s.StopSession(ctx, StopSessionParams{StationID: st.ID, TransactionID: ses.TransactionID,
		StoppedAt: stopAt, MeterStopWh: ptr(int64(2500)), Reason: "Local", IDTag: "TAG1", TransactionData: true})
	check(t, err)
	if outcome != Stopped || stopped.Status != model.SessionCompleted || stopped.EnergyWh != 1500 ||
		*stopped.MeterStopWh != 2500 || !stopped.StoppedAt.Equal(stopAt) || stopped.StopSource != model.StopSourceStation ||
		stopped.StopReason != "Local" || stopped.StopIDTag != "TAG1" || !stopped.TransactionData {
		t.Fatalf("stopped %+v outcome %v", stopped, outcome)
	}
	// replay of the stop
	again, outcome, err = s.StopSession(ctx, StopSessionParams{StationID: st.ID, TransactionID: ses.TransactionID,
		StoppedAt: stopAt.Add(time.Minute), MeterStopWh: ptr(int64(9999)), Reason: "Other"})
	check(t, err)
	if outcome != AlreadyStopped || !reflect.DeepEqual(again, stopped) {
		t.Errorf("replayed stop: %v %+v", outcome, again)
	}
	if got := must(s.GetSession(ctx, op.ID, ses.ID))(t); !reflect.DeepEqual(got, stopped) {
		t.Errorf("after stop GetSession = %+v, want %+v", got, stopped)
	}
	_, _, err = s.StopSession(ctx, StopSessionParams{StationID: st.ID, TransactionID: "424242", StoppedAt: stopAt})
	mustNotFound(t, "stop of unknown transaction", err)
	_, err = s.ActiveSession(ctx, st.ID, 1)
	mustNotFound(t, "active after stop", err)
	if n := must(s.CountActiveSessionsForToken(ctx, op.ID, "TAG1"))(t); n != 0 {
		t.Errorf("count after stop = %d", n)
	}
	// a replayed start after the stop still finds the session
	again, created, err = s.StartSession(ctx, p)
	check(t, err)
	if created || again.ID != ses.ID || again.Status != model.SessionCompleted {
		t.Errorf("start replayed after stop: created=%v %+v", created, again)
	}
	// a new session on the same connector gets a new transaction id
	next, created, err := s.StartSession(ctx, StartSessionParams{StationID: st.ID, ConnectorID: 1, IDTag: "TAG1", StartedAt: t0.Add(time.Hour), MeterStartWh: 2500, Currency: "NZD"})
	check(t, err)
	if !created || next.TransactionID == ses.TransactionID || next.ID == ses.ID || next.Currency != "NZD" || next.OperatorID != op.ID {
		t.Errorf("next session %+v", next)
	}
}

func testSessionLifecycle2x(t *testing.T, h *harness) {
	ctx := context.Background()
	s := h.open(Options{})
	_, st := fixture(t, s)
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	p := StartSessionParams{StationID: st.ID, ConnectorID: 1, TransactionID: "a1b2-c3d4", IDTag: "EMAID1", StartedAt: t0, MeterStartWh: 10}
	ses, created, err := s.StartSession(ctx, p)
	check(t, err)
	if !created || ses.TransactionID != "a1b2-c3d4" {
		t.Fatalf("2.x start %+v", ses)
	}
	p.StartedAt = t0.Add(time.Second) // 2.x replays match on the transaction id alone
	again, created, err := s.StartSession(ctx, p)
	check(t, err)
	if created || again.ID != ses.ID {
		t.Errorf("2.x replay created=%v %+v", created, again)
	}
	stopped, outcome, err := s.StopSession(ctx, StopSessionParams{StationID: st.ID, TransactionID: "a1b2-c3d4", StoppedAt: t0.Add(time.Hour), MeterStopWh: ptr(int64(5))})
	check(t, err)
	if outcome != Stopped || stopped.EnergyWh != 0 {
		t.Errorf("meter going backwards must give 0 energy: %+v", stopped)
	}
}

func testSupersededAndCorrected(t *testing.T, h *harness) {
	ctx := context.Background()
	s := h.open(Options{})
	_, st := fixture(t, s)
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	a, _, err := s.StartSession(ctx, StartSessionParams{StationID: st.ID, ConnectorID: 1, IDTag: "A", StartedAt: t0, MeterStartWh: 100})
	check(t, err)
	check(t, s.AppendMeterValues(ctx, []model.MeterValue{{StationID: st.ID, ConnectorID: 1, SessionID: a.ID, Timestamp: t0.Add(time.Minute), EnergyWh: ptr(450.0)}}))
	// the station lost the stop of A and starts B on the same connector
	bStart := t0.Add(10 * time.Minute)
	b, created, err := s.StartSession(ctx, StartSessionParams{StationID: st.ID, ConnectorID: 1, IDTag: "B", StartedAt: bStart, MeterStartWh: 500})
	check(t, err)
	if !created {
		t.Fatal("B not created")
	}
	gotA := must(s.GetSession(ctx, "", a.ID))(t)
	if gotA.Status != model.SessionCompleted || gotA.StopSource != model.StopSourceEstimated || gotA.StopReason != "Other" ||
		!gotA.StoppedAt.Equal(bStart) || *gotA.MeterStopWh != 450 || gotA.EnergyWh != 350 {
		t.Fatalf("superseded A = %+v", gotA)
	}
	if act := must(s.ActiveSession(ctx, st.ID, 1))(t); act.ID != b.ID {
		t.Errorf("active = %s, want B", act.ID)
	}
	// a superseded session without meter values stops at its start reading
	c, _, err := s.StartSession(ctx, StartSessionParams{StationID: st.ID, ConnectorID: 1, IDTag: "C", StartedAt: bStart.Add(time.Minute), MeterStartWh: 600})
	check(t, err)
	gotB := must(s.GetSession(ctx, "", b.ID))(t)
	if *gotB.MeterStopWh != 500 || gotB.EnergyWh != 0 || gotB.StopSource != model.StopSourceEstimated {
		t.Errorf("superseded B = %+v", gotB)
	}
	_ = c

	// the station's own StopTransaction for A arrives: it corrects the estimate
	corr, outcome, err := s.StopSession(ctx, StopSessionParams{StationID: st.ID, TransactionID: a.TransactionID,
		StoppedAt: t0.Add(5 * time.Minute), MeterStopWh: ptr(int64(480)), Reason: "EVDisconnected", Source: model.StopSourceStation})
	check(t, err)
	if outcome != Corrected || corr.StopSource != model.StopSourceStation || corr.EnergyWh != 380 ||
		!corr.StoppedAt.Equal(t0.Add(5*time.Minute)) || corr.StopReason != "EVDisconnected" {
		t.Errorf("corrected A = %v %+v", outcome, corr)
	}
	// and its replay changes nothing
	again, outcome, err := s.StopSession(ctx, StopSessionParams{StationID: st.ID, TransactionID: a.TransactionID,
		StoppedAt: t0.Add(6 * time.Minute), MeterStopWh: ptr(int64(999))})
	check(t, err)
	if outcome != AlreadyStopped || !reflect.DeepEqual(again, corr) {
		t.Errorf("replay after correction: %v %+v", outcome, again)
	}
	// an estimated stop does not override an estimated stop
	_, outcome, err = s.StopSession(ctx, StopSessionParams{StationID: st.ID, TransactionID: b.TransactionID, Source: model.StopSourceEstimated})
	check(t, err)
	if outcome != AlreadyStopped {
		t.Errorf("estimated over estimated: %v", outcome)
	}
	// the core may close a session as estimated itself (station rebooted)
	est, outcome, err := s.StopSession(ctx, StopSessionParams{StationID: st.ID, TransactionID: c.TransactionID, StoppedAt: bStart.Add(time.Hour), Source: model.StopSourceEstimated, Reason: "Reboot"})
	check(t, err)
	if outcome != Stopped || est.StopSource != model.StopSourceEstimated {
		t.Errorf("estimated stop: %v %+v", outcome, est)
	}
}

func testOutOfOrderStart(t *testing.T, h *harness) {
	ctx := context.Background()
	s := h.open(Options{})
	_, st := fixture(t, s)
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	newer, _, err := s.StartSession(ctx, StartSessionParams{StationID: st.ID, ConnectorID: 1, IDTag: "N", StartedAt: t0.Add(time.Hour), MeterStartWh: 900})
	check(t, err)
	// an older start delivered late from the station's offline queue
	older, created, err := s.StartSession(ctx, StartSessionParams{StationID: st.ID, ConnectorID: 1, IDTag: "O", StartedAt: t0, MeterStartWh: 100})
	check(t, err)
	if !created || older.Status != model.SessionCompleted || older.StopSource != model.StopSourceEstimated ||
		!older.StoppedAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("late older start = %+v", older)
	}
	if act := must(s.ActiveSession(ctx, st.ID, 1))(t); act.ID != newer.ID {
		t.Errorf("active = %+v, want the newer session", act)
	}
	// its stop arrives: corrects it
	_, outcome, err := s.StopSession(ctx, StopSessionParams{StationID: st.ID, TransactionID: older.TransactionID, StoppedAt: t0.Add(30 * time.Minute), MeterStopWh: ptr(int64(800))})
	check(t, err)
	if outcome != Corrected {
		t.Errorf("outcome %v", outcome)
	}
}

func testStopEnergy(t *testing.T, h *harness) {
	ctx := context.Background()
	s := h.open(Options{})
	_, st := fixture(t, s)
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	start := func(conn int) model.Session {
		x, _, err := s.StartSession(ctx, StartSessionParams{StationID: st.ID, ConnectorID: conn, StartedAt: t0, MeterStartWh: 1000})
		check(t, err)
		return x
	}
	// nil meter stop: last energy register reading
	a := start(1)
	check(t, s.AppendMeterValues(ctx, []model.MeterValue{
		{StationID: st.ID, ConnectorID: 1, SessionID: a.ID, Timestamp: t0.Add(time.Minute), EnergyWh: ptr(1200.0)},
		{StationID: st.ID, ConnectorID: 1, SessionID: a.ID, Timestamp: t0.Add(2 * time.Minute), EnergyWh: ptr(1333.0)},
	}))
	x, _, err := s.StopSession(ctx, StopSessionParams{StationID: st.ID, TransactionID: a.TransactionID, StoppedAt: t0.Add(time.Hour)})
	check(t, err)
	if *x.MeterStopWh != 1333 || x.EnergyWh != 333 {
		t.Errorf("nil meter stop with readings: %+v", x)
	}
	// nil meter stop, no readings: the start
	b := start(2)
	x, _, err = s.StopSession(ctx, StopSessionParams{StationID: st.ID, TransactionID: b.TransactionID, StoppedAt: t0.Add(time.Hour)})
	check(t, err)
	if *x.MeterStopWh != 1000 || x.EnergyWh != 0 {
		t.Errorf("nil meter stop without readings: %+v", x)
	}
	// a meter going backwards: never negative
	c := start(3)
	check(t, s.AppendMeterValues(ctx, []model.MeterValue{{StationID: st.ID, ConnectorID: 3, SessionID: c.ID, Timestamp: t0.Add(time.Minute), EnergyWh: ptr(10.0)}}))
	if got := must(s.GetSession(ctx, "", c.ID))(t); got.EnergyWh != 0 {
		t.Errorf("live energy below start: %d", got.EnergyWh)
	}
	x, _, err = s.StopSession(ctx, StopSessionParams{StationID: st.ID, TransactionID: c.TransactionID, StoppedAt: t0.Add(time.Hour), MeterStopWh: ptr(int64(5))})
	check(t, err)
	if x.EnergyWh != 0 {
		t.Errorf("negative energy: %+v", x)
	}
}

func testListSessions(t *testing.T, h *harness) {
	ctx := context.Background()
	s := h.open(Options{})
	opA, stA := fixture(t, s)
	opB, stB := fixture(t, s)
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	var all []model.Session
	for i := range 7 {
		st := stA
		if i%3 == 2 {
			st = stB
		}
		x, _, err := s.StartSession(ctx, StartSessionParams{StationID: st.ID, ConnectorID: i + 1, StartedAt: t0.Add(time.Duration(i) * time.Minute)})
		check(t, err)
		all = append(all, x)
	}
	_, _, err := s.StopSession(ctx, StopSessionParams{StationID: all[0].StationID, TransactionID: all[0].TransactionID, StoppedAt: t0.Add(time.Hour)})
	check(t, err)
	ids := func(l []model.Session) []string {
		var out []string
		for _, x := range l {
			out = append(out, x.ID)
		}
		return out
	}
	// newest first = reverse creation order
	want := func(idx ...int) []string {
		var out []string
		for _, i := range idx {
			out = append(out, all[i].ID)
		}
		return out
	}
	if got := ids(must(s.ListSessions(ctx, SessionFilter{}))(t)); !slices.Equal(got, want(6, 5, 4, 3, 2, 1, 0)) {
		t.Errorf("all = %v, want %v", got, want(6, 5, 4, 3, 2, 1, 0))
	}
	if got := ids(must(s.ListSessions(ctx, SessionFilter{OperatorID: opA.ID}))(t)); !slices.Equal(got, want(6, 4, 3, 1, 0)) {
		t.Errorf("operator A = %v", got)
	}
	if got := ids(must(s.ListSessions(ctx, SessionFilter{OperatorID: opB.ID, StationID: stB.ID}))(t)); !slices.Equal(got, want(5, 2)) {
		t.Errorf("operator B = %v", got)
	}
	if got := ids(must(s.ListSessions(ctx, SessionFilter{OperatorID: opB.ID, StationID: stA.ID}))(t)); len(got) != 0 {
		t.Errorf("foreign station = %v", got)
	}
	if got := ids(must(s.ListSessions(ctx, SessionFilter{Status: model.SessionCompleted}))(t)); !slices.Equal(got, want(0)) {
		t.Errorf("completed = %v", got)
	}
	if got := ids(must(s.ListSessions(ctx, SessionFilter{OperatorID: opA.ID, Status: model.SessionActive, Limit: 2}))(t)); !slices.Equal(got, want(6, 4)) {
		t.Errorf("active page 1 = %v", got)
	}
	if got := ids(must(s.ListSessions(ctx, SessionFilter{OperatorID: opA.ID, Status: model.SessionActive, Limit: 2, Before: all[4].ID}))(t)); !slices.Equal(got, want(3, 1)) {
		t.Errorf("active page 2 = %v", got)
	}
	_, err = s.ListSessions(ctx, SessionFilter{OperatorID: opB.ID, Before: all[4].ID})
	mustNotFound(t, "cursor of another operator", err)
}

func testTransactionIDsConcurrent(t *testing.T, h *harness) {
	ctx := context.Background()
	s := h.open(Options{})
	_, st := fixture(t, s)
	_, st2 := fixture(t, s)
	const workers, per = 16, 10
	var (
		mu  sync.Mutex
		ids = map[string]bool{}
		wg  sync.WaitGroup
	)
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	errs := make(chan error, workers*per)
	for w := range workers {
		wg.Go(func() {
			for i := range per {
				station := st.ID
				if w%2 == 1 {
					station = st2.ID
				}
				x, created, err := s.StartSession(ctx, StartSessionParams{StationID: station, ConnectorID: w*per + i + 1, StartedAt: t0, MeterStartWh: int64(i)})
				if err != nil || !created {
					errs <- fmt.Errorf("start: created=%v err=%v", created, err)
					continue
				}
				mu.Lock()
				if ids[x.TransactionID] {
					errs <- fmt.Errorf("duplicate transaction id %s", x.TransactionID)
				}
				ids[x.TransactionID] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if len(ids) != workers*per {
		t.Errorf("%d distinct transaction ids, want %d", len(ids), workers*per)
	}
	st1 := s.Stats()
	t.Logf("%d writes in %d batches", st1.BatchedOps, st1.Batches)
}

func testMeterValues(t *testing.T, h *harness) {
	ctx := context.Background()
	s := h.open(Options{})
	_, st := fixture(t, s)
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 123456000, time.UTC)
	samples := []model.SampledValue{
		{Value: "1234.5", Context: "Sample.Periodic", Format: "Raw", Measurand: "Energy.Active.Import.Register", Location: "Outlet", Unit: "Wh"},
		{Value: "7200", Measurand: "Power.Active.Import", Phase: "L1", Unit: "W"},
	}
	in := []model.MeterValue{
		{StationID: st.ID, ConnectorID: 1, SessionID: "ses_x", TransactionID: "17", Timestamp: t0.Add(time.Minute), Context: "Sample.Periodic",
			EnergyWh: ptr(1234.5), PowerW: ptr(7200.0), SoC: ptr(55.0), Samples: samples, ReceivedAt: t0.Add(2 * time.Minute)},
		{StationID: st.ID, ConnectorID: 1, SessionID: "ses_x", TransactionID: "17", Timestamp: t0, Context: "Transaction.Begin"},
		{StationID: st.ID, ConnectorID: 0, Timestamp: t0}, // not tied to a session
	}
	check(t, s.AppendMeterValues(ctx, in))
	check(t, s.AppendMeterValues(ctx, nil))
	if err := s.AppendMeterValues(ctx, []model.MeterValue{{StationID: st.ID}}); err == nil {
		t.Error("meter value without timestamp accepted")
	}
	got := must(s.ListMeterValues(ctx, "ses_x", 0))(t)
	if len(got) != 2 {
		t.Fatalf("%d meter values", len(got))
	}
	if got[0].Context != "Transaction.Begin" || got[0].EnergyWh != nil || got[0].PowerW != nil || len(got[0].Samples) != 0 || got[0].Samples == nil {
		t.Errorf("first (oldest) = %+v", got[0])
	}
	want := in[0]
	want.ID = got[1].ID
	want.Timestamp, want.ReceivedAt = normTime(want.Timestamp), normTime(want.ReceivedAt)
	if !reflect.DeepEqual(got[1], want) {
		t.Errorf("meter value round trip:\n got %+v\nwant %+v", got[1], want)
	}
	if got[0].ReceivedAt.IsZero() || got[0].ID == 0 {
		t.Errorf("ReceivedAt / ID not set: %+v", got[0])
	}
	if l := must(s.ListMeterValues(ctx, "ses_x", 1))(t); len(l) != 1 || l[0].Context != "Transaction.Begin" {
		t.Errorf("limit 1 = %+v", l)
	}
	// many rows in one call: more than one INSERT statement
	big := make([]model.MeterValue, 1234)
	for i := range big {
		big[i] = model.MeterValue{StationID: st.ID, ConnectorID: 2, SessionID: "ses_big", Timestamp: t0.Add(time.Duration(i) * time.Second), EnergyWh: ptr(float64(i))}
	}
	check(t, s.AppendMeterValues(ctx, big))
	if l := must(s.ListMeterValues(ctx, "ses_big", 10000))(t); len(l) != 1234 || *l[1233].EnergyWh != 1233 {
		t.Errorf("big append: %d rows", len(l))
	}
}

func testMessages(t *testing.T, h *harness) {
	ctx := context.Background()
	s := h.open(Options{BatchMaxDelay: -1})
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	entries := []model.MessageLogEntry{
		{StationID: "CP-1", At: t0, Direction: model.DirectionIn, MessageType: 2, MessageID: "m1", Action: "BootNotification", Payload: `[2,"m1","BootNotification",{"chargePointVendor":"ABB"}]`},
		{StationID: "CP-1", At: t0.Add(time.Second), Direction: model.DirectionOut, MessageType: 3, MessageID: "m1", Action: "BootNotification", Payload: `[3,"m1",{"status":"Accepted"}]`},
		{StationID: "CP-2", At: t0.Add(2 * time.Second), Direction: model.DirectionIn, MessageType: 2, MessageID: "m2", Action: "Heartbeat", Payload: `[2,"m2","Heartbeat",{}]`},
		{StationID: "CP-1", At: t0.Add(time.Hour), Direction: model.DirectionIn, MessageType: 2, MessageID: "m3", Action: "Heartbeat", Payload: "[2,\"m3\",\"Heartbeat\",{\"bad\":\"\x00\xff\"}]"},
	}
	s.LogMessages(entries...)
	s.LogMessages()
	// best effort: wait until the committer wrote them
	var all []model.MessageLogEntry
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		all = must(s.ListMessages(ctx, MessageFilter{}))(t)
		if len(all) == 4 {
			break
		}
	}
	if len(all) != 4 {
		t.Fatalf("%d messages logged, want 4", len(all))
	}
	if all[0].MessageID != "m3" || all[3].MessageID != "m1" || all[0].ID <= all[1].ID {
		t.Errorf("not newest first: %+v", all)
	}
	want := entries[1]
	want.ID = all[2].ID
	if all[2] != want {
		t.Errorf("round trip: got %+v, want %+v", all[2], want)
	}
	if !strings.Contains(all[0].Payload, "\uFFFD") {
		t.Errorf("invalid text not made storable: %q", all[0].Payload)
	}
	count := func(f MessageFilter) int { return len(must(s.ListMessages(ctx, f))(t)) }
	if n := count(MessageFilter{StationID: "CP-1"}); n != 3 {
		t.Errorf("station filter: %d", n)
	}
	if n := count(MessageFilter{Action: "Heartbeat"}); n != 2 {
		t.Errorf("action filter: %d", n)
	}
	if n := count(MessageFilter{Contains: `"status":"Accepted"`}); n != 1 {
		t.Errorf("contains filter: %d", n)
	}
	if n := count(MessageFilter{Contains: `chargepointvendor`}); n != 0 {
		t.Errorf("contains must be case-sensitive: %d", n)
	}
	if n := count(MessageFilter{StationID: "CP-1", Before: all[0].ID}); n != 2 {
		t.Errorf("before cursor: %d", n)
	}
	if n := count(MessageFilter{Limit: 1}); n != 1 {
		t.Errorf("limit: %d", n)
	}
	n, err := s.PruneMessages(ctx, t0.Add(time.Minute))
	check(t, err)
	if n != 3 {
		t.Errorf("pruned %d, want 3", n)
	}
	if rest := must(s.ListMessages(ctx, MessageFilter{}))(t); len(rest) != 1 || rest[0].MessageID != "m3" {
		t.Errorf("after prune: %+v", rest)
	}
	// pruning more than one chunk
	bulk := make([]model.MessageLogEntry, pruneChunk+10)
	for i := range bulk {
		// the log is appended in server-clock order: later rows, later times
		bulk[i] = model.MessageLogEntry{StationID: "CP-3", At: t0.Add(2 * time.Hour), Direction: model.DirectionIn, MessageType: 2, Payload: "[]"}
	}
	s2 := h.open(Options{MessageLogQueue: len(bulk)})
	s2.LogMessages(bulk...)
	check(t, s2.Close()) // flushes the log queue
	n, err = s.PruneMessages(ctx, t0.Add(90*time.Minute))
	check(t, err)
	if n != 1 {
		t.Errorf("prune up to the bulk: %d, want 1 (m3)", n)
	}
	n, err = s.PruneMessages(ctx, t0.Add(3*time.Hour))
	check(t, err)
	if n != int64(len(bulk)) {
		t.Errorf("bulk prune: %d, want %d", n, len(bulk))
	}
	n, err = s.PruneMessages(ctx, t0.Add(3*time.Hour))
	check(t, err)
	if n != 0 {
		t.Errorf("prune of an empty log: %d", n)
	}
	if d := s.DroppedLogMessages() + s2.DroppedLogMessages(); d != 0 {
		t.Errorf("%d messages dropped", d)
	}
}

// blockCommitter queues a write that holds the committer until release is
// closed; it returns once the committer is inside it.
func blockCommitter(t *testing.T, s *Store) (release func(), done <-chan error) {
	t.Helper()
	inside := make(chan struct{})
	rel := make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		errc <- s.write(context.Background(), func(ctx context.Context, w *wtx) error {
			select {
			case <-inside:
			default:
				close(inside)
			}
			<-rel
			return nil
		})
	}()
	select {
	case <-inside:
	case <-time.After(10 * time.Second):
		t.Fatal("committer never ran the blocking write")
	}
	return func() { close(rel) }, errc
}

func testLogMessagesNeverBlocks(t *testing.T, h *harness) {
	ctx := context.Background()
	const queue = 50
	s := h.open(Options{MessageLogQueue: queue, BatchMaxDelay: -1})
	release, done := blockCommitter(t, s)
	e := model.MessageLogEntry{StationID: "CP-1", Direction: model.DirectionIn, MessageType: 2, Payload: "[]"}
	start := time.Now()
	for range 10 * queue {
		s.LogMessages(e)
	}
	s.LogMessages(e, e, e)
	elapsed := time.Since(start)
	if elapsed > 2*time.Second { // generous for -race on a loaded machine; it is microseconds
		t.Errorf("LogMessages took %v with the committer blocked", elapsed)
	}
	dropped := s.DroppedLogMessages()
	if dropped < 10*queue+3-queue {
		t.Errorf("dropped %d, want ≥ %d", dropped, 10*queue+3-queue)
	}
	release()
	check(t, <-done)
	check(t, s.Close())
	s2 := h.open(Options{})
	logged := len(must(s2.ListMessages(ctx, MessageFilter{Limit: 1000}))(t))
	if int64(logged)+dropped != 10*queue+3 {
		t.Errorf("logged %d + dropped %d ≠ sent %d", logged, dropped, 10*queue+3)
	}
	// after Close, LogMessages drops and does not block either
	s.LogMessages(e)
	if s.DroppedLogMessages() != dropped+1 {
		t.Errorf("LogMessages after Close not counted as dropped")
	}
}

func testBatchFailureIsolation(t *testing.T, h *harness) {
	ctx := context.Background()
	// a long delay so that everything queued below lands in one batch
	s := h.open(Options{BatchMaxDelay: 300 * time.Millisecond, gatherTimer: true})
	op, st := fixture(t, s)
	release, blocked := blockCommitter(t, s)

	const good = 12
	var wg sync.WaitGroup
	errs := make([]error, good)
	for i := range good {
		wg.Go(func() {
			switch i % 3 {
			case 0:
				_, errs[i] = s.CreateSite(ctx, model.Site{OperatorID: op.ID, Name: fmt.Sprint("site", i)})
			case 1:
				errs[i] = s.AppendMeterValues(ctx, []model.MeterValue{{StationID: st.ID, ConnectorID: 1, SessionID: "ses_iso", Timestamp: time.Now()}})
			case 2:
				_, _, errs[i] = s.StartSession(ctx, StartSessionParams{StationID: st.ID, ConnectorID: 100 + i, StartedAt: time.Now()})
			}
		})
	}
	var badErr, rejErr error
	wg.Go(func() {
		badErr = s.write(ctx, func(ctx context.Context, w *wtx) error {
			_, err := w.exec(ctx, `INSERT INTO no_such_table VALUES (1)`)
			return err
		})
	})
	wg.Go(func() { // a rejection does not fail the batch
		_, rejErr = s.CreateStation(ctx, model.Station{ID: st.ID, OperatorID: op.ID})
	})
	wg.Go(func() { // a panicking write fails only its caller
		_ = s.write(ctx, func(ctx context.Context, w *wtx) error { panic("boom") })
	})
	s.LogMessages(model.MessageLogEntry{StationID: st.ID, Direction: model.DirectionIn, MessageType: 2, Payload: "[]"})
	// wait until all are queued behind the blocking write, then let it go
	for deadline := time.Now().Add(10 * time.Second); s.Stats().Submitted < 2+good+3+1 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	before := s.Stats()
	release()
	check(t, <-blocked)
	wg.Wait()
	if badErr == nil {
		t.Error("the failing write reported success")
	}
	mustConflict(t, "rejected write", rejErr)
	for i, err := range errs {
		if err != nil {
			t.Errorf("write %d failed with its batch: %v", i, err)
		}
	}
	after := s.Stats()
	if after.FailedBatches == before.FailedBatches {
		t.Errorf("no batch failed: %+v → %+v (were the writes batched?)", before, after)
	}
	if n := len(must(s.ListSites(ctx, op.ID))(t)); n != 4 {
		t.Errorf("%d sites, want 4", n)
	}
	if n := len(must(s.ListMeterValues(ctx, "ses_iso", 0))(t)); n != 4 {
		t.Errorf("%d meter values, want 4", n)
	}
	if n := len(must(s.ListActiveSessions(ctx, st.ID))(t)); n != 4 {
		t.Errorf("%d sessions, want 4", n)
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if len(must(s.ListMessages(ctx, MessageFilter{}))(t)) == 1 {
			return
		}
	}
	t.Error("message log entry of the failed batch not written")
}

// testBatchOrdering checks that writes in one batch see each other in
// queue order: meter values appended before a stop count for its energy.
func testBatchOrdering(t *testing.T, h *harness) {
	ctx := context.Background()
	s := h.open(Options{BatchMaxDelay: 200 * time.Millisecond, gatherTimer: true})
	_, st := fixture(t, s)
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	ses, _, err := s.StartSession(ctx, StartSessionParams{StationID: st.ID, ConnectorID: 1, StartedAt: t0, MeterStartWh: 0})
	check(t, err)
	release, blocked := blockCommitter(t, s)
	base := s.Stats().Submitted
	var wg sync.WaitGroup
	wg.Go(func() {
		check(t, s.AppendMeterValues(ctx, []model.MeterValue{{StationID: st.ID, ConnectorID: 1, SessionID: ses.ID, Timestamp: t0.Add(time.Minute), EnergyWh: ptr(777.0)}}))
	})
	for s.Stats().Submitted < base+1 {
		time.Sleep(time.Millisecond)
	}
	var stopped model.Session
	wg.Go(func() {
		var err error
		stopped, _, err = s.StopSession(ctx, StopSessionParams{StationID: st.ID, TransactionID: ses.TransactionID, StoppedAt: t0.Add(time.Hour)})
		check(t, err)
	})
	for s.Stats().Submitted < base+2 {
		time.Sleep(time.Millisecond)
	}
	before := s.Stats().Batches
	release()
	check(t, <-blocked)
	wg.Wait()
	if b := s.Stats().Batches - before; b != 1 {
		t.Logf("the two writes took %d batches", b)
	}
	if stopped.EnergyWh != 777 {
		t.Errorf("stop in the same batch did not see the meter value queued before it: %+v", stopped)
	}
}

func testCloseFlushes(t *testing.T, h *harness) {
	ctx := context.Background()
	s0 := h.open(Options{})
	_, st := fixture(t, s0)
	check(t, s0.Close())
	// only a full batch or Close ends this store's wait for more writes
	s := h.open(Options{BatchMaxDelay: time.Hour, gatherTimer: true})
	const n = 20
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			errs[i] = s.AppendMeterValues(ctx, []model.MeterValue{{StationID: st.ID, ConnectorID: 1, SessionID: "ses_close", Timestamp: time.Now()}})
		})
	}
	for deadline := time.Now().Add(10 * time.Second); s.Stats().Submitted < n && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	s.LogMessages(model.MessageLogEntry{StationID: st.ID, Direction: model.DirectionIn, MessageType: 2, Payload: "[]"})
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	// Close refuses new writes at once, even while the committer is busy
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		s.mu.RLock()
		c := s.closed
		s.mu.RUnlock()
		if c || time.Now().After(deadline) {
			break
		}
	}
	if _, err := s.CreateOperator(ctx, model.Operator{Name: "late"}); !errors.Is(err, ErrClosed) {
		t.Errorf("write during Close: %v, want ErrClosed", err)
	}
	check(t, <-closed)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("queued write %d: %v", i, err)
		}
	}
	check(t, s.Close()) // twice is fine
	if err := s.AppendMeterValues(ctx, []model.MeterValue{{StationID: st.ID, Timestamp: time.Now()}}); !errors.Is(err, ErrClosed) {
		t.Errorf("write after Close: %v", err)
	}
	if _, _, err := s.StartSession(ctx, StartSessionParams{StationID: st.ID, ConnectorID: 1}); !errors.Is(err, ErrClosed) {
		t.Errorf("start after Close: %v", err)
	}
	s2 := h.open(Options{})
	if got := len(must(s2.ListMeterValues(ctx, "ses_close", 0))(t)); got != n {
		t.Errorf("%d meter values survived Close, want %d", got, n)
	}
	if got := len(must(s2.ListMessages(ctx, MessageFilter{}))(t)); got != 1 {
		t.Errorf("%d log entries survived Close, want 1", got)
	}
}

func testTimestamps(t *testing.T, h *harness) {
	ctx := context.Background()
	s := h.open(Options{})
	op, _ := fixture(t, s)
	sydney := time.FixedZone("AEST", 10*3600)
	times := []time.Time{
		time.Date(2025, 6, 1, 12, 0, 0, 123456789, sydney), // ns and a zone: stored as µs UTC
		time.Date(1969, 12, 31, 23, 59, 59, 999999000, time.UTC),
		time.Date(2099, 12, 31, 23, 59, 59, 1000, time.UTC),
		time.Date(2000, 2, 29, 0, 0, 0, 0, time.UTC),
		time.Now(), // with a monotonic reading
	}
	for i, tm := range times {
		want := tm.UTC().Truncate(time.Microsecond)
		st, err := s.CreateStation(ctx, model.Station{ID: fmt.Sprintf("TS-%d", i), OperatorID: op.ID, CreatedAt: tm, LastSeenAt: &tm})
		check(t, err)
		got := must(s.GetStation(ctx, st.ID))(t)
		for _, g := range []time.Time{got.CreatedAt, *got.LastSeenAt, st.CreatedAt, *st.LastSeenAt} {
			if g != want { // == : same instant, same location (UTC), no monotonic reading
				t.Errorf("time %d: stored %v (%s), want %v", i, g, g.Location(), want)
			}
		}
		ses, _, err := s.StartSession(ctx, StartSessionParams{StationID: st.ID, ConnectorID: 1, StartedAt: tm})
		check(t, err)
		if ses.StartedAt != want {
			t.Errorf("StartSession returned %v, want %v", ses.StartedAt, want)
		}
		// the replay lookup matches on the start time: it must round-trip exactly
		again, created, err := s.StartSession(ctx, StartSessionParams{StationID: st.ID, ConnectorID: 1, StartedAt: tm})
		check(t, err)
		if created || again.StartedAt != want || again.CreatedAt != ses.CreatedAt {
			t.Errorf("replay by start time %v: created=%v %v", tm, created, again.StartedAt)
		}
		if ev := must(s.ListStatusEvents(ctx, st.ID, want, 0))(t); len(ev) != 0 {
			t.Errorf("unexpected events %v", ev)
		}
		check(t, s.RecordStatus(ctx, model.StatusEvent{StationID: st.ID, ConnectorID: 1, Status: "Available", Timestamp: tm}))
		if ev := must(s.ListStatusEvents(ctx, st.ID, want, 0))(t); len(ev) != 1 || ev[0].Timestamp != want {
			t.Errorf("status event since its own time: %+v", ev)
		}
		if ev := must(s.ListStatusEvents(ctx, st.ID, want.Add(time.Microsecond), 0))(t); len(ev) != 0 {
			t.Errorf("status event after its time: %+v", ev)
		}
	}
}

func testCanceledWrite(t *testing.T, h *harness) {
	s := h.open(Options{})
	release, blocked := blockCommitter(t, s)
	base := s.Stats().Submitted
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := s.CreateOperator(ctx, model.Operator{ID: "op_canceled", Name: "x"})
		errc <- err
	}()
	for s.Stats().Submitted < base+1 {
		time.Sleep(time.Millisecond)
	}
	cancel() // while queued behind the blocking write
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("canceled write returned %v", err)
	}
	release()
	check(t, <-blocked)
	_, err := s.CreateOperator(context.Background(), model.Operator{Name: "after"}) // the committer is free again
	check(t, err)
	_, err = s.GetOperator(context.Background(), "op_canceled")
	mustNotFound(t, "write canceled while queued", err)
}
