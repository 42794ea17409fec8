package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// contractRoutes is every route of the brief and the public contract. The
// document, the route table and this list must be the same set.
var contractRoutes = []string{
	"GET /api/v1/",
	"GET /api/v1/openapi.json",
	"POST /api/v1/operators",
	"GET /api/v1/operators",
	"GET /api/v1/operators/{operatorId}",
	"POST /api/v1/operators/{operatorId}/tokens",
	"DELETE /api/v1/operators/{operatorId}/tokens/{tokenId}",
	"POST /api/v1/sites",
	"GET /api/v1/sites",
	"GET /api/v1/sites/{siteId}",
	"POST /api/v1/stations",
	"GET /api/v1/stations",
	"GET /api/v1/stations/{stationId}",
	"PATCH /api/v1/stations/{stationId}",
	"GET /api/v1/stations/{stationId}/messages",
	"GET /api/v1/stations/{stationId}/status-events",
	"GET /api/v1/stations/{stationId}/variables",
	"GET /api/v1/stations/{stationId}/events",
	"POST /api/v1/stations/{stationId}/commands/{action}",
	"POST /api/v1/id-tokens",
	"GET /api/v1/id-tokens",
	"GET /api/v1/id-tokens/{idToken}",
	"PATCH /api/v1/id-tokens/{idToken}",
	"POST /api/v1/id-tokens/{idToken}/block",
	"GET /api/v1/sessions",
	"GET /api/v1/sessions/{sessionId}",
	"GET /api/v1/sessions/{sessionId}/meter-values",
	"GET /api/v1/sessions/{sessionId}/receipt",
	"PATCH /api/v1/operators/{operatorId}",
	"POST /api/v1/tariffs",
	"GET /api/v1/tariffs",
	"GET /api/v1/tariffs/{tariffId}",
	"PUT /api/v1/tariffs/{tariffId}",
	"DELETE /api/v1/tariffs/{tariffId}",
	"PUT /api/v1/tariff-assignments",
	"GET /api/v1/tariff-assignments",
	"DELETE /api/v1/tariff-assignments",
	"GET /api/v1/stations/{stationId}/tariff",
	"GET /api/v1/stations/{stationId}/qr-sheet",
	"GET /api/v1/reports/revenue",
	"GET /api/v1/reports/usage",
	"GET /api/v1/payments",
	"GET /api/v1/payments/{paymentId}",
	"POST /api/v1/payments/{paymentId}/stop",
	"POST /api/v1/payments/{paymentId}/refunds",
	"GET /api/v1/payments/{paymentId}/refunds",
	"GET /api/v1/payments/{paymentId}/receipt",
	"POST /api/v1/driver-accounts",
	"GET /api/v1/driver-accounts",
	"GET /api/v1/driver-accounts/{accountId}",
	"POST /api/v1/driver-accounts/{accountId}/cards",
	"GET /api/v1/driver-accounts/{accountId}/cards",
	"POST /api/v1/driver-accounts/{accountId}/top-ups",
	"POST /api/v1/driver-accounts/{accountId}/card-setup",
}

var wildcardInPath = regexp.MustCompile(`\{[A-Za-z]+\}`)

// concretePath fills a documented path's wildcards with a value.
func concretePath(path string) string {
	return wildcardInPath.ReplaceAllString(path, "x1")
}

func TestOpenAPIDocumentListsExactlyTheServedRoutes(t *testing.T) {
	e := newEnv(t)
	docOps := e.doc.docOps()

	want := slices.Clone(contractRoutes)
	// The console's concerns list their routes beside their tests.
	for _, more := range [][]string{userContractRoutes, liveContractRoutes, alertContractRoutes, statusReportContractRoutes, tariffPreviewContractRoutes, networkContractRoutes} {
		want = append(want, more...)
	}
	sort.Strings(want)
	if !slices.Equal(docOps, want) {
		t.Errorf("documented operations differ from the contract routes:\n doc:  %v\n want: %v", docOps, want)
	}

	var table []string
	for _, rt := range e.h.routes {
		table = append(table, rt.method+" "+openAPIPath(rt.pattern))
	}
	sort.Strings(table)
	if !slices.Equal(docOps, table) {
		t.Errorf("documented operations differ from the handler's route table:\n doc:   %v\n table: %v", docOps, table)
	}

	// Every documented operation is served: with the admin token it never
	// answers route_not_found or method_not_allowed.
	for _, op := range docOps {
		method, path, _ := strings.Cut(op, " ")
		r := e.do(method, concretePath(path), e.admin, "{}")
		if c := r.errorCode(); c == codeRouteNotFound || c == codeMethodNotAllowed || r.status == http.StatusMethodNotAllowed {
			t.Errorf("%s is documented but not served: %s", op, r)
		}
	}

	// No method is served on a documented path beyond the documented ones:
	// every other method answers 405 with the documented methods in Allow.
	byPath := map[string][]string{}
	for _, op := range docOps {
		method, path, _ := strings.Cut(op, " ")
		byPath[path] = append(byPath[path], method)
	}
	for path, methods := range byPath {
		for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
			if slices.Contains(methods, m) {
				continue
			}
			r := e.do(m, concretePath(path), e.admin, "{}")
			if r.status != http.StatusMethodNotAllowed || r.errorCode() != codeMethodNotAllowed {
				t.Errorf("%s %s: got %s, want 405 method_not_allowed", m, path, r)
				continue
			}
			allow := r.header.Get("Allow")
			for _, dm := range methods {
				if !strings.Contains(allow, dm) {
					t.Errorf("%s %s: Allow %q lacks documented %s", m, path, allow, dm)
				}
			}
		}
	}
}

func TestOpenAPIDocumentIsPublicAndComplete(t *testing.T) {
	e := newEnv(t)
	r := e.mustDo("GET", "/api/v1/openapi.json", "", nil, 200)
	doc := e.object(r)

	if doc["openapi"] != "3.1.0" {
		t.Errorf("openapi = %v, want 3.1.0", doc["openapi"])
	}
	comps := doc["components"].(map[string]any)
	bearer, _ := comps["securitySchemes"].(map[string]any)["bearerAuth"].(map[string]any)
	if bearer["type"] != "http" || bearer["scheme"] != "bearer" {
		t.Errorf("bearer security scheme = %v", bearer)
	}
	if sec, _ := doc["security"].([]any); len(sec) != 1 {
		t.Errorf("global security = %v, want bearerAuth", doc["security"])
	}
	errSchema, _ := comps["schemas"].(map[string]any)["Error"].(map[string]any)
	if errSchema == nil {
		t.Fatal("no Error schema")
	}
	if req, _ := errSchema["required"].([]any); len(req) != 1 || req[0] != "error" {
		t.Errorf("Error schema requires %v, want [error]", errSchema["required"])
	}

	for path, item := range doc["paths"].(map[string]any) {
		for method, o := range item.(map[string]any) {
			op := o.(map[string]any)
			name := strings.ToUpper(method) + " " + path
			if op["operationId"] == "" || op["summary"] == "" {
				t.Errorf("%s: missing operationId or summary", name)
			}
			public := false
			if sec, ok := op["security"].([]any); ok && len(sec) == 0 {
				public = true
			}
			wantPublic := path == "/api/v1/" || path == "/api/v1/openapi.json"
			if public != wantPublic {
				t.Errorf("%s: public = %v, want %v", name, public, wantPublic)
			}
			responses := op["responses"].(map[string]any)
			if !public && responses["401"] == nil {
				t.Errorf("%s: 401 not documented", name)
			}
			if responses["default"] == nil {
				t.Errorf("%s: no default (error) response", name)
			}
			for status, rv := range responses {
				if status[0] == '2' {
					continue
				}
				s := rv.(map[string]any)["content"].(map[string]any)["application/json"].(map[string]any)["schema"].(map[string]any)
				if s["$ref"] != "#/components/schemas/Error" {
					t.Errorf("%s %s: error response schema %v is not Error", name, status, s)
				}
			}
			if strings.Contains(path, "{") {
				params, _ := op["parameters"].([]any)
				for _, w := range wildcardInPath.FindAllString(path, -1) {
					found := false
					for _, p := range params {
						pm := p.(map[string]any)
						if "{"+pm["name"].(string)+"}" == w && pm["in"] == "path" && pm["required"] == true {
							found = true
						}
					}
					if !found {
						t.Errorf("%s: path parameter %s not documented", name, w)
					}
				}
			}
			// Actions named by their path take no body.
			bodyless := strings.HasSuffix(path, "/block") || strings.HasSuffix(path, "/stop")
			if (method == "post" || method == "patch" || method == "put") && op["requestBody"] == nil && !bodyless {
				t.Errorf("%s: no request body documented", name)
			}
		}
	}
	// Every component schema compiled (newDocChecker), and every $ref resolves.
	raw := string(r.body)
	for _, m := range regexp.MustCompile(`"#/components/schemas/([A-Za-z]+)"`).FindAllStringSubmatch(raw, -1) {
		if _, ok := e.doc.comps[m[1]]; !ok {
			t.Errorf("$ref to undefined schema %s", m[1])
		}
	}
}

// The document describes the wire format the handlers produce: a station
// answer with every field filled in validates against Station.
func TestOpenAPISchemasMatchEncodedTypes(t *testing.T) {
	e := newEnv(t)
	for name, v := range map[string]any{
		"Station":  e.h.stationOut(stationWithEverything(), nil),
		"Session":  sessionOut(sessionWithEverything()),
		"IDToken":  idTokenOut(idTokenWithEverything()),
		"Operator": operatorOut(operatorWithEverything()),
		"Payment":  paymentOut(paymentWithEverything()),
		"Tariff":   e.a.tariff,
		"DriverAccount": DriverAccount{ID: "acc_x", Email: "a@b.example", Currency: "AUD", Funding: "card", Status: "closed",
			CardBrand: strPtr("visa"), CardLast4: strPtr("4242"), Wallet: &Wallet{Balance: 100, Available: 50, Pending: 50}, CreatedAt: tFull.UTC(), UpdatedAt: tFull.UTC()},
	} {
		b, _ := json.Marshal(v)
		e.doc.validate(t, name, e.doc.comps[name], &resp{status: 200, header: http.Header{"Content-Type": {"application/json"}}, body: b})
	}
}

func TestAPIIndexIsPublic(t *testing.T) {
	e := newEnv(t)
	var idx Index
	e.decode(e.mustDo("GET", "/api/v1/", "", nil, 200), &idx)
	if idx.OpenAPI != "/api/v1/openapi.json" {
		t.Errorf("index = %+v", idx)
	}
}

// The handler works mounted the way the server mounts it: on a ServeMux
// at /api/v1/ behind a real HTTP server.
func TestMountedUnderServerMux(t *testing.T) {
	e := newEnv(t)
	mux := http.NewServeMux()
	mux.Handle("/api/v1/", New(Deps{Store: e.st, CSMS: e.svc, AdminToken: adminToken}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok")) })
	srv := httptest.NewServer(mux)
	defer srv.Close()

	req, _ := http.NewRequest("GET", srv.URL+"/api/v1/stations/"+e.a.station, nil)
	req.Header.Set("Authorization", "Bearer "+e.a.token)
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var st Station
	if err := json.NewDecoder(res.Body).Decode(&st); err != nil || res.StatusCode != 200 || st.ID != e.a.station || !st.Connected {
		t.Fatalf("GET station over HTTP: %d %+v %v", res.StatusCode, st, err)
	}
	res2, err := srv.Client().Get(srv.URL + "/api/v1/nope")
	if err != nil {
		t.Fatal(err)
	}
	defer res2.Body.Close()
	var body Error
	if err := json.NewDecoder(res2.Body).Decode(&body); err != nil || res2.StatusCode != 404 || body.Error.Code != codeRouteNotFound {
		t.Fatalf("unknown route over HTTP: %d %+v %v", res2.StatusCode, body, err)
	}
}

// The document is a valid OpenAPI 3.1 document: it validates against the
// OpenAPI Initiative's schema (testdata/oas-3.1, see SOURCE.md), with
// every schema object checked against the OpenAPI base dialect.
func TestOpenAPIDocumentValidatesAgainstTheOAS31Schema(t *testing.T) {
	c := jsonschema.NewCompiler()
	for file, id := range map[string]string{
		"schema.json":              "https://spec.openapis.org/oas/3.1/schema/2021-04-15",
		"schema-base.json":         "https://spec.openapis.org/oas/3.1/schema-base/2021-04-15",
		"dialect-base.schema.json": "https://spec.openapis.org/oas/3.1/dialect/base",
		"meta-base.schema.json":    "https://spec.openapis.org/oas/3.1/meta/base",
	} {
		f, err := os.Open(filepath.Join("testdata", "oas-3.1", file))
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if err := c.AddResource(id, doc); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
	}
	oas, err := c.Compile("https://spec.openapis.org/oas/3.1/schema-base/2021-04-15")
	if err != nil {
		t.Fatal(err)
	}
	h := newHandler(Deps{})
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(h.openapi))
	if err != nil {
		t.Fatal(err)
	}
	if err := oas.Validate(doc); err != nil {
		t.Fatalf("the OpenAPI document is not valid OpenAPI 3.1: %#v", err)
	}
}
