package api

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chargestar/chargestar/internal/csms"
	"github.com/chargestar/chargestar/internal/model"
	"github.com/chargestar/chargestar/internal/store"
)

func TestCreateStation(t *testing.T) {
	e := newEnv(t)
	pw8, pw40 := "abcd1234", strings.Repeat("p", 40)
	e.run(t, []scenario{
		{name: "id and operator_id are enough", method: "POST", path: "/api/v1/stations", token: e.admin,
			body: map[string]any{"id": "CP-NEW", "operator_id": e.a.op.ID}, status: 201,
			check: func(t *testing.T, r *resp) {
				var st Station
				e.decode(r, &st)
				if st.ID != "CP-NEW" || st.OperatorID != e.a.op.ID || st.SiteID != nil || st.Connected || st.Protocol != nil ||
					st.PasswordSet || len(st.Connectors) != 0 || st.RetiredAt != nil {
					t.Errorf("station = %+v", st)
				}
				if loc := r.header.Get("Location"); loc != "/api/v1/stations/CP-NEW" {
					t.Errorf("Location = %q", loc)
				}
			}},
		{name: "operator token omits operator_id", method: "POST", path: "/api/v1/stations", token: e.a.token,
			body: map[string]any{"id": "CP-OWN", "site_id": e.a.site.ID}, status: 201,
			check: func(t *testing.T, r *resp) {
				var st Station
				e.decode(r, &st)
				if st.OperatorID != e.a.op.ID || st.SiteID == nil || *st.SiteID != e.a.site.ID {
					t.Errorf("station = %+v", st)
				}
			}},
		{name: "every allowed character", method: "POST", path: "/api/v1/stations", token: e.a.token,
			body: map[string]any{"id": "a.b_c:d*e+f|g@h-9Z"}, status: 201},
		{name: "48 characters", method: "POST", path: "/api/v1/stations", token: e.a.token,
			body: map[string]any{"id": strings.Repeat("x", 48)}, status: 201},
		{name: "password of 8", method: "POST", path: "/api/v1/stations", token: e.a.token,
			body: map[string]any{"id": "CP-PW8", "password": pw8}, status: 201,
			check: func(t *testing.T, r *resp) {
				if !e.object(r)["password_set"].(bool) {
					t.Error("password_set false")
				}
				st, _ := e.st.GetStation(e.ctx, "CP-PW8")
				if !csms.CheckStationPassword(st.PasswordHash, pw8) || strings.Contains(string(st.PasswordHash), pw8) {
					t.Errorf("stored password hash does not verify or holds the password")
				}
			}},
		{name: "password of 40", method: "POST", path: "/api/v1/stations", token: e.a.token, body: map[string]any{"id": "CP-PW40", "password": pw40}, status: 201},
		{name: "password of 7", method: "POST", path: "/api/v1/stations", token: e.a.token, body: map[string]any{"id": "CP-PW7", "password": "1234567"}, status: 400, code: codeInvalidRequest, msg: "password"},
		{name: "password of 41", method: "POST", path: "/api/v1/stations", token: e.a.token, body: map[string]any{"id": "CP-PW41", "password": pw40 + "x"}, status: 400, code: codeInvalidRequest, msg: "password"},
		{name: "password not ASCII", method: "POST", path: "/api/v1/stations", token: e.a.token, body: map[string]any{"id": "CP-PWU", "password": "pässwörter"}, status: 400, code: codeInvalidRequest, msg: "password"},
		{name: "duplicate", method: "POST", path: "/api/v1/stations", token: e.a.token, body: map[string]any{"id": e.a.station}, status: 409, code: codeStationExists},
		{name: "duplicate of another operator's id", method: "POST", path: "/api/v1/stations", token: e.a.token, body: map[string]any{"id": e.b.station}, status: 409, code: codeStationExists},
		{name: "site of another operator", method: "POST", path: "/api/v1/stations", token: e.a.token, body: map[string]any{"id": "CP-X", "site_id": e.b.site.ID}, status: 404, code: codeNotFound},
		{name: "unknown site", method: "POST", path: "/api/v1/stations", token: e.a.token, body: map[string]any{"id": "CP-X", "site_id": "site_nope"}, status: 404, code: codeNotFound},
		{name: "another operator", method: "POST", path: "/api/v1/stations", token: e.a.token, body: map[string]any{"id": "CP-X", "operator_id": e.b.op.ID}, status: 404, code: codeNotFound},
		{name: "admin without operator", method: "POST", path: "/api/v1/stations", token: e.admin, body: map[string]any{"id": "CP-X"}, status: 400, code: codeInvalidRequest, msg: "operator_id"},
		{name: "admin with unknown operator", method: "POST", path: "/api/v1/stations", token: e.admin, body: map[string]any{"id": "CP-X", "operator_id": "op_nope"}, status: 404, code: codeNotFound},
	})
	for _, id := range []string{"", strings.Repeat("x", 49), "a/b", "a b", ".", "..", "é", "a=b", "a#b", "a?b", "a%b", "a\nb"} {
		e.run(t, []scenario{{name: fmt.Sprintf("invalid id %q", id), method: "POST", path: "/api/v1/stations", token: e.a.token,
			body: map[string]any{"id": id}, status: 400, code: codeInvalidRequest, msg: "id"}})
	}
	// A station id with special characters is reachable in a URL path, raw or percent-encoded.
	for _, p := range []string{"a.b_c:d*e+f|g@h-9Z", url.PathEscape("a.b_c:d*e+f|g@h-9Z"), "a.b_c:d*e+f%7Cg@h-9Z"} {
		if st := e.object(e.mustDo("GET", "/api/v1/stations/"+p, e.a.token, nil, 200)); st["id"] != "a.b_c:d*e+f|g@h-9Z" {
			t.Errorf("GET %s = %v", p, st["id"])
		}
	}
}

func TestGetStationShape(t *testing.T) {
	e := newEnv(t)
	at := time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)
	if err := e.st.RecordBoot(e.ctx, store.BootRecord{StationID: e.a.station, Protocol: "ocpp1.6", Vendor: "ACME", Model: "Wallbox",
		SerialNumber: "SN1", FirmwareVersion: "1.2.3", RegistrationStatus: "Accepted", HeartbeatInterval: 300, At: at}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []model.StatusEvent{
		{StationID: e.a.station, ConnectorID: 0, Status: "Available", ErrorCode: "NoError", Timestamp: at},
		{StationID: e.a.station, ConnectorID: 2, Status: "Faulted", ErrorCode: "GroundFailure", Info: "RCD", VendorErrorCode: "E42", Timestamp: at},
		{StationID: e.a.station, ConnectorID: 1, Status: "Charging", ErrorCode: "NoError", Timestamp: at},
	} {
		if err := e.st.RecordStatus(e.ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	r := e.mustDo("GET", "/api/v1/stations/"+e.a.station, e.a.token, nil, 200)
	m := e.object(r)
	for _, k := range []string{"id", "operator_id", "site_id", "connected", "protocol", "vendor", "model", "serial_number",
		"firmware_version", "registration_status", "last_boot_at", "last_seen_at", "heartbeat_interval", "password_set", "connectors"} {
		if _, ok := m[k]; !ok {
			t.Errorf("station lacks %q: %s", k, r.body)
		}
	}
	var st Station
	e.decode(r, &st)
	if !st.Connected || *st.Protocol != "ocpp1.6" || st.Vendor != "ACME" || st.Model != "Wallbox" || st.SerialNumber != "SN1" ||
		st.FirmwareVersion != "1.2.3" || *st.RegistrationStatus != "Accepted" || st.HeartbeatInterval != 300 ||
		!st.LastBootAt.Equal(at) || st.LastSeenAt == nil {
		t.Errorf("station = %+v", st)
	}
	want := []Connector{
		{ConnectorID: 1, Status: "Charging", ErrorCode: "NoError", StatusAt: at},
		{ConnectorID: 2, Status: "Faulted", ErrorCode: "GroundFailure", Info: "RCD", VendorErrorCode: "E42", StatusAt: at},
	}
	if !slices.Equal(st.Connectors, want) {
		t.Errorf("connectors = %+v, want %+v (connector 0 not listed)", st.Connectors, want)
	}
	for _, c := range m["connectors"].([]any) {
		for _, k := range []string{"connector_id", "status", "error_code", "info", "vendor_error_code", "status_at"} {
			if _, ok := c.(map[string]any)[k]; !ok {
				t.Errorf("connector lacks %q", k)
			}
		}
	}
	// The idle station is not connected.
	if e.object(e.mustDo("GET", "/api/v1/stations/"+e.a.idle, e.a.token, nil, 200))["connected"] != false {
		t.Error("idle station reported connected")
	}
	e.run(t, []scenario{
		{name: "unknown", method: "GET", path: "/api/v1/stations/CS-NOPE", token: e.a.token, status: 404, code: codeNotFound},
		{name: "foreign", method: "GET", path: "/api/v1/stations/" + e.b.station, token: e.a.token, status: 404, code: codeNotFound},
		{name: "admin sees any", method: "GET", path: "/api/v1/stations/" + e.b.station, token: e.admin, status: 200},
	})
}

func TestListStations(t *testing.T) {
	e := newEnv(t)
	var want []string
	for i := range 7 {
		id := fmt.Sprintf("CS-A-%02d", i)
		want = append(want, id)
		e.mustDo("POST", "/api/v1/stations", e.a.token, map[string]any{"id": id}, 201)
	}
	want = append(want, e.a.station, e.a.idle)
	slices.Sort(want)
	for _, limit := range []int{1, 3, 500} {
		all := e.listAll("/api/v1/stations", e.a.token, limit, idKey)
		var got []string
		for _, s := range all {
			got = append(got, s["id"].(string))
		}
		if !slices.Equal(got, want) {
			t.Errorf("limit %d: %v, want %v", limit, got, want)
		}
	}
	if all := e.listAll("/api/v1/stations", e.admin, 4, idKey); len(all) != len(want)+2 {
		t.Errorf("admin lists %d stations, want %d", len(all), len(want)+2)
	}
	if bs := e.listAll("/api/v1/stations?operator_id="+e.b.op.ID, e.admin, 4, idKey); len(bs) != 2 {
		t.Errorf("admin filtered to B lists %d", len(bs))
	}
	site := e.listAll("/api/v1/stations?site_id="+e.a.site.ID, e.a.token, 4, idKey)
	if len(site) != 1 || site[0]["id"] != e.a.station || site[0]["connected"] != true {
		t.Errorf("site filter lists %v", site)
	}
	e.run(t, []scenario{
		{name: "site of another operator", method: "GET", path: "/api/v1/stations?site_id=" + e.b.site.ID, token: e.a.token, status: 404, code: codeNotFound},
		{name: "another operator", method: "GET", path: "/api/v1/stations?operator_id=" + e.b.op.ID, token: e.a.token, status: 404, code: codeNotFound},
	})
}

func TestUpdateStation(t *testing.T) {
	e := newEnv(t)
	path := "/api/v1/stations/" + e.a.idle
	var site2 Site
	e.decode(e.mustDo("POST", "/api/v1/sites", e.a.token, map[string]any{"name": "Second"}, 201), &site2)
	get := func() Station {
		var st Station
		e.decode(e.mustDo("GET", path, e.a.token, nil, 200), &st)
		return st
	}
	e.run(t, []scenario{
		{name: "assign site", method: "PATCH", path: path, token: e.a.token, body: map[string]any{"site_id": site2.ID}, status: 200,
			check: func(t *testing.T, r *resp) {
				if st := get(); st.SiteID == nil || *st.SiteID != site2.ID {
					t.Errorf("site = %v", st.SiteID)
				}
			}},
		{name: "empty patch changes nothing", method: "PATCH", path: path, token: e.a.token, body: map[string]any{}, status: 200,
			check: func(t *testing.T, r *resp) {
				if st := get(); st.SiteID == nil || *st.SiteID != site2.ID {
					t.Errorf("site = %v", st.SiteID)
				}
			}},
		{name: "set password", method: "PATCH", path: path, token: e.a.token, body: map[string]any{"password": "s3cret-s3cret"}, status: 200,
			check: func(t *testing.T, r *resp) {
				st, _ := e.st.GetStation(e.ctx, e.a.idle)
				if !get().PasswordSet || !csms.CheckStationPassword(st.PasswordHash, "s3cret-s3cret") {
					t.Error("password not set")
				}
				if s := get(); s.SiteID == nil {
					t.Error("setting the password dropped the site")
				}
			}},
		{name: "clear password", method: "PATCH", path: path, token: e.a.token, body: `{"password":null}`, status: 200,
			check: func(t *testing.T, r *resp) {
				if get().PasswordSet {
					t.Error("password still set")
				}
			}},
		{name: "unassign site with null", method: "PATCH", path: path, token: e.a.token, body: `{"site_id":null}`, status: 200,
			check: func(t *testing.T, r *resp) {
				if st := get(); st.SiteID != nil {
					t.Errorf("site = %v", *st.SiteID)
				}
			}},
		{name: "retire", method: "PATCH", path: path, token: e.a.token, body: map[string]any{"retired": true}, status: 200,
			check: func(t *testing.T, r *resp) {
				if st := get(); st.RetiredAt == nil {
					t.Error("not retired")
				}
			}},
		{name: "back in service", method: "PATCH", path: path, token: e.a.token, body: map[string]any{"retired": false}, status: 200,
			check: func(t *testing.T, r *resp) {
				if st := get(); st.RetiredAt != nil {
					t.Error("still retired")
				}
			}},
		{name: "retired null", method: "PATCH", path: path, token: e.a.token, body: `{"retired":null}`, status: 400, code: codeInvalidRequest, msg: "retired"},
		{name: "short password", method: "PATCH", path: path, token: e.a.token, body: map[string]any{"password": "short"}, status: 400, code: codeInvalidRequest, msg: "password"},
		{name: "foreign site", method: "PATCH", path: path, token: e.a.token, body: map[string]any{"site_id": e.b.site.ID}, status: 404, code: codeNotFound},
		{name: "admin cannot put A's station on B's site", method: "PATCH", path: path, token: e.admin, body: map[string]any{"site_id": e.b.site.ID}, status: 404, code: codeNotFound},
		{name: "unknown field", method: "PATCH", path: path, token: e.a.token, body: map[string]any{"operator_id": e.b.op.ID}, status: 400, code: codeInvalidJSON, msg: "operator_id"},
		{name: "foreign station", method: "PATCH", path: "/api/v1/stations/" + e.b.idle, token: e.a.token, body: map[string]any{"retired": true}, status: 404, code: codeNotFound},
	})
	// B's station is untouched by A's attempt.
	if st := e.object(e.mustDo("GET", "/api/v1/stations/"+e.b.idle, e.b.token, nil, 200)); st["retired_at"] != nil {
		t.Error("A retired B's station")
	}
}

func TestStationMessages(t *testing.T) {
	e := newEnv(t)
	base := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	var entries []model.MessageLogEntry
	for i := range 10 {
		action := "Heartbeat"
		if i%3 == 0 {
			action = "StatusNotification"
		}
		entries = append(entries, model.MessageLogEntry{StationID: e.a.station, At: base.Add(time.Duration(i) * time.Second),
			Direction: model.DirectionIn, MessageType: 2, MessageID: fmt.Sprint("m", i), Action: action,
			Payload: fmt.Sprintf(`[2,"m%d","%s",{"n":%d}]`, i, action, i)})
	}
	entries = append(entries, model.MessageLogEntry{StationID: e.b.station, At: base, Direction: model.DirectionIn, MessageType: 2,
		MessageID: "b1", Action: "Heartbeat", Payload: `[2,"b1","Heartbeat",{}]`})
	e.st.LogMessages(entries...)
	// The message log is written asynchronously.
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, err := e.st.ListMessages(e.ctx, store.MessageFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) >= len(entries) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("message log has %d of %d entries", len(got), len(entries))
		}
		time.Sleep(10 * time.Millisecond)
	}
	all := e.listAll("/api/v1/stations/"+e.a.station+"/messages", e.a.token, 3, idKey)
	if len(all) != 10 {
		t.Fatalf("got %d messages, want 10", len(all))
	}
	for i, m := range all {
		if want := fmt.Sprint("m", 9-i); m["message_id"] != want {
			t.Errorf("message %d = %v, want %s (newest first)", i, m["message_id"], want)
		}
	}
	if m := all[0]; m["direction"] != "in" || m["message_type"] != float64(2) || m["action"] != "StatusNotification" || m["frame"] != `[2,"m9","StatusNotification",{"n":9}]` {
		t.Errorf("message = %v", m)
	}
	if sn := e.listAll("/api/v1/stations/"+e.a.station+"/messages?action=StatusNotification", e.a.token, 2, idKey); len(sn) != 4 {
		t.Errorf("action filter: %d, want 4", len(sn))
	}
	if q := e.listAll("/api/v1/stations/"+e.a.station+"/messages?q="+url.QueryEscape(`"n":7`), e.a.token, 2, idKey); len(q) != 1 || q[0]["message_id"] != "m7" {
		t.Errorf("q filter: %v", q)
	}
	if b := e.listAll("/api/v1/stations/"+e.b.station+"/messages", e.b.token, 5, idKey); len(b) != 1 {
		t.Errorf("B's log: %v", b)
	}
}

func TestStationStatusEvents(t *testing.T) {
	e := newEnv(t)
	base := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	// Several events share timestamps: the cursor must neither skip nor repeat them.
	var want []string
	for i := range 9 {
		ts := base.Add(time.Duration(i/3) * time.Minute)
		status := []string{"Available", "Preparing", "Charging"}[i%3]
		if err := e.st.RecordStatus(e.ctx, model.StatusEvent{StationID: e.a.station, ConnectorID: 1 + i%2, Status: status, ErrorCode: "NoError", Timestamp: ts}); err != nil {
			t.Fatal(err)
		}
		want = append(want, fmt.Sprint(ts.Format(time.RFC3339), status))
	}
	for _, limit := range []int{1, 2, 4, 100} {
		all := e.listAll("/api/v1/stations/"+e.a.station+"/status-events", e.a.token, limit, idKey)
		var got []string
		for _, ev := range all {
			got = append(got, fmt.Sprint(ev["timestamp"], ev["status"]))
		}
		if !slices.Equal(got, want) {
			t.Errorf("limit %d: %v, want %v", limit, got, want)
		}
	}
	since := url.QueryEscape(base.Add(2 * time.Minute).Format(time.RFC3339))
	if late := e.listAll("/api/v1/stations/"+e.a.station+"/status-events?since="+since, e.a.token, 2, idKey); len(late) != 3 {
		t.Errorf("since filter: %d events, want 3", len(late))
	}
	if b := e.listAll("/api/v1/stations/"+e.b.station+"/status-events", e.b.token, 2, idKey); len(b) != 0 {
		t.Errorf("B sees %v", b)
	}
}
