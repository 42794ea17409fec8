package api

import (
	"io"
	"strings"
	"testing"

	"github.com/chargestar/chargestar/internal/access"
)

// networkProbes: operator A's token on operator B's site and tokens.
func networkProbes(e *env) map[string][]probe {
	b := e.b
	return map[string][]probe{
		"PATCH /api/v1/sites/{siteId}": {
			{method: "PATCH", path: "/api/v1/sites/" + b.site.ID, body: map[string]any{"name": "Evil"},
				unknownPath: "/api/v1/sites/site_nope", foreignID: b.site.ID, unknownID: "site_nope"},
			{method: "PATCH", path: "/api/v1/sites/" + b.site.ID, body: map[string]any{"tax_id": "51 824 753 556"},
				unknownPath: "/api/v1/sites/site_nope", foreignID: b.site.ID, unknownID: "site_nope"},
		},
		"GET /api/v1/operators/{operatorId}/tokens": {
			{method: "GET", path: "/api/v1/operators/" + b.op.ID + "/tokens", unknownPath: "/api/v1/operators/op_nope/tokens", foreignID: b.op.ID, unknownID: "op_nope"},
		},
	}
}

func networkBodyPaths(e *env) map[string]string {
	return map[string]string{"/api/v1/sites/{siteId}": "/api/v1/sites/" + e.a.site.ID}
}

// networkContractRoutes lists this file's routes for TestOpenAPIDocumentListsExactlyTheServedRoutes.
var networkContractRoutes = []string{"PATCH /api/v1/sites/{siteId}", "GET /api/v1/operators/{operatorId}/tokens"}

func TestSiteDetailsAreValidatedAndRoundTrip(t *testing.T) {
	e := newEnv(t)
	a := e.a
	var de Operator
	e.decode(e.mustDo("POST", "/api/v1/operators", e.admin, map[string]any{"name": "Berlin Laden", "currency": "EUR", "country": "DE"}, 201), &de)
	var deSite Site
	e.decode(e.mustDo("POST", "/api/v1/sites", e.admin, map[string]any{"operator_id": de.ID, "name": "Mitte"}, 201), &deSite)

	var created Site
	e.decode(e.mustDo("POST", "/api/v1/sites", a.token, map[string]any{"name": "Wharf", "timezone": "Australia/Perth",
		"legal_name": "Wharf Car Park Pty Ltd", "tax_id": "51824753556"}, 201), &created)
	if created.TaxID != "51 824 753 556" || created.LegalName != "Wharf Car Park Pty Ltd" || created.Timezone != "Australia/Perth" {
		t.Fatalf("created %+v", created)
	}
	path := "/api/v1/sites/" + created.ID
	site := func(t *testing.T) Site {
		var s Site
		e.decode(e.mustDo("GET", path, a.token, nil, 200), &s)
		return s
	}
	e.run(t, []scenario{
		{name: "create with a bad ABN", method: "POST", path: "/api/v1/sites", token: a.token,
			body: map[string]any{"name": "Bad", "tax_id": "51 824 753 557"}, status: 400, code: codeInvalidABN},
		{name: "bad ABN checksum", method: "PATCH", path: path, token: a.token, body: map[string]any{"tax_id": "51 824 753 557"}, status: 400, code: codeInvalidABN},
		{name: "ABN too short", method: "PATCH", path: path, token: a.token, body: map[string]any{"tax_id": "5182475355"}, status: 400, code: codeInvalidABN},
		{name: "ABN with letters", method: "PATCH", path: path, token: a.token, body: map[string]any{"tax_id": "51 824 753 55A"}, status: 400, code: codeInvalidABN},
		{name: "unknown timezone", method: "PATCH", path: path, token: a.token, body: map[string]any{"timezone": "Mars/Olympus"}, status: 400, code: codeInvalidRequest, msg: "timezone"},
		{name: "Local is not a timezone", method: "PATCH", path: path, token: a.token, body: map[string]any{"timezone": "Local"}, status: 400, code: codeInvalidRequest},
		{name: "null timezone", method: "PATCH", path: path, token: a.token, body: map[string]any{"timezone": nil}, status: 400, code: codeInvalidRequest},
		{name: "empty name", method: "PATCH", path: path, token: a.token, body: map[string]any{"name": "  "}, status: 400, code: codeInvalidRequest, msg: "name"},
		{name: "null name", method: "PATCH", path: path, token: a.token, body: map[string]any{"name": nil}, status: 400, code: codeInvalidRequest},
		{name: "legal name too long", method: "PATCH", path: path, token: a.token, body: map[string]any{"legal_name": strings.Repeat("x", 201)}, status: 400, code: codeInvalidRequest},
		{name: "nothing changed by refused requests", method: "GET", path: path, token: a.token, status: 200, check: func(t *testing.T, r *resp) {
			var s Site
			e.decode(r, &s)
			if s.Name != "Wharf" || s.Timezone != "Australia/Perth" || s.TaxID != "51 824 753 556" {
				t.Errorf("site %+v", s)
			}
		}},
		{name: "every field", method: "PATCH", path: path, token: a.token, status: 200,
			body: map[string]any{"name": " Wharf West ", "address": "1 Quay St, Sydney", "timezone": "Australia/Sydney",
				"legal_name": "Quay Parking Trust", "tax_id": "53 004 085 616"},
			check: func(t *testing.T, r *resp) {
				var s Site
				e.decode(r, &s)
				if s != site(t) {
					t.Errorf("answer %+v differs from a read %+v", s, site(t))
				}
				if s.Name != "Wharf West" || s.Address != "1 Quay St, Sydney" || s.Timezone != "Australia/Sydney" ||
					s.LegalName != "Quay Parking Trust" || s.TaxID != "53 004 085 616" || s.ID != created.ID ||
					s.OperatorID != a.op.ID || !s.CreatedAt.Equal(created.CreatedAt) {
					t.Errorf("site %+v", s)
				}
			}},
		{name: "fields left out are unchanged", method: "PATCH", path: path, token: a.token, body: map[string]any{"address": "2 Quay St"}, status: 200,
			check: func(t *testing.T, r *resp) {
				if s := site(t); s.Name != "Wharf West" || s.Address != "2 Quay St" || s.TaxID != "53 004 085 616" || s.Timezone != "Australia/Sydney" {
					t.Errorf("site %+v", s)
				}
			}},
		{name: "null and empty clear to the operator's", method: "PATCH", path: path, token: a.token, body: map[string]any{"legal_name": nil, "tax_id": ""}, status: 200,
			check: func(t *testing.T, r *resp) {
				if s := site(t); s.LegalName != "" || s.TaxID != "" {
					t.Errorf("site %+v", s)
				}
			}},
		{name: "empty timezone is UTC", method: "PATCH", path: path, token: a.token, body: map[string]any{"timezone": ""}, status: 200,
			check: func(t *testing.T, r *resp) {
				if s := site(t); s.Timezone != "UTC" {
					t.Errorf("site %+v", s)
				}
			}},
		{name: "a German operator's tax id is not an ABN", method: "PATCH", path: "/api/v1/sites/" + deSite.ID, token: e.admin,
			body: map[string]any{"tax_id": "DE123456789"}, status: 200, check: func(t *testing.T, r *resp) {
				if s := e.object(r); s["tax_id"] != "DE123456789" {
					t.Errorf("site %v", s)
				}
			}},
		{name: "the administrator edits any operator's site", method: "PATCH", path: path, token: e.admin, body: map[string]any{"name": "By admin"}, status: 200},
		{name: "unknown site", method: "PATCH", path: "/api/v1/sites/site_nope", token: a.token, body: map[string]any{"name": "x"}, status: 404, code: codeNotFound},
	})
}

func TestSiteEditNeedsTheNetworkRole(t *testing.T) {
	e := newEnv(t)
	path := "/api/v1/sites/" + e.a.site.ID
	for _, c := range []struct {
		role access.Role
		want int
	}{{access.Finance, 403}, {access.Technician, 200}, {access.Owner, 200}} {
		cookie, csrf := e.signInAs(e.a.op.ID, c.role)
		r := e.doCookie("PATCH", path, cookie, csrf, `{"address":"by `+string(c.role)+`"}`)
		b, _ := io.ReadAll(r.Body)
		if r.StatusCode != c.want {
			t.Errorf("%s: %d %s, want %d", c.role, r.StatusCode, b, c.want)
		}
	}
}

func TestAPITokenListShowsNoSecrets(t *testing.T) {
	e := newEnv(t)
	a := e.a
	path := "/api/v1/operators/" + a.op.ID + "/tokens"
	var tok NewAPIToken
	e.decode(e.mustDo("POST", path, a.token, map[string]any{"name": "billing export"}, 201), &tok)
	e.mustDo("DELETE", path+"/"+tok.ID, a.token, nil, 204)

	r := e.mustDo("GET", path, a.token, nil, 200)
	if strings.Contains(string(r.body), tok.Token) || strings.Contains(string(r.body), a.token) || strings.Contains(string(r.body), "hash") {
		t.Fatalf("the list shows a secret: %s", r.body)
	}
	var list List[APIToken]
	e.decode(r, &list)
	got := map[string]APIToken{}
	for _, it := range list.Items {
		got[it.ID] = it
		if it.OperatorID != a.op.ID {
			t.Errorf("another operator's token %+v", it)
		}
	}
	if len(got) != 2 || got[a.tokenID].Name != "tests" || got[a.tokenID].RevokedAt != nil ||
		got[tok.ID].Name != "billing export" || got[tok.ID].RevokedAt == nil {
		t.Errorf("tokens %+v", list.Items)
	}
	// Pages follow the cursor.
	if items := e.listAll(path, a.token, 1, idKey); len(items) != 2 {
		t.Errorf("paged: %v", items)
	}
	// Only owners list tokens.
	cookie, _ := e.signInAs(a.op.ID, access.Technician)
	if r := e.doCookie("GET", path, cookie, "", ""); r.StatusCode != 403 {
		t.Errorf("a technician lists tokens: %d", r.StatusCode)
	}
	cookie, _ = e.signInAs(a.op.ID, access.Owner)
	if r := e.doCookie("GET", path, cookie, "", ""); r.StatusCode != 200 {
		t.Errorf("an owner lists tokens: %d", r.StatusCode)
	}
}
