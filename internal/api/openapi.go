package api

import (
	"encoding/json"
	"fmt"
	"github.com/chargestar/chargestar/internal/access"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/chargestar/chargestar/internal/version"
)

func apiVersion() string { return version.Version() }

// openAPIPath turns a ServeMux pattern into an OpenAPI path.
func openAPIPath(pattern string) string { return strings.TrimSuffix(pattern, "{$}") }

var wildcardRE = regexp.MustCompile(`\{([A-Za-z]+)\}`)

// errorDocs describes the error statuses; every error body is the Error schema.
var errorDocs = map[int]string{
	http.StatusBadRequest: "Invalid request. Codes: invalid_json (not a JSON object, unknown field, wrong JSON type), " +
		"invalid_request (a field's value; the message names the field), invalid_parameter (a query parameter), " +
		"and for commands invalid_payload (the payload fails the action's schema; the message gives the JSON path) " +
		"and unknown_command; ambiguous_id_token when an administrator names an id token several operators have " +
		"without operator_id; invalid_tariff (the tariff object is not a valid OCPI tariff, or not in the operator's currency), " +
		"invalid_budget (the budget cannot price a session) and invalid_abn (an AU operator's tax_id is not a valid ABN).",
	http.StatusUnauthorized: "Missing, unknown or revoked bearer token (unauthorized).",
	http.StatusForbidden:    "The action needs a platform-administrator token (forbidden).",
	http.StatusNotFound: "No such resource, or a resource of another operator: the two answers are identical (not_found). " +
		"no_tariff: no tariff applies to the station; no_receipt: the payment or session has no receipt (not settled yet, or not paid through billing).",
	http.StatusConflict: "Conflict: station_exists, id_token_exists, station_not_connected for a command, tariff_assigned (delete a tariff still assigned), " +
		"not_a_session (stop a top-up), account_not_eligible (the driver account cannot do that), conflict (any other).",
	http.StatusRequestEntityTooLarge: "The body is larger than 1 MiB (body_too_large).",
	http.StatusBadGateway: "The station answered with a CALLERROR (station_error); the message has its error code and description. " +
		"For payments: the payment provider refused or failed (payment_provider_error).",
	http.StatusGatewayTimeout: "The station did not answer in time (station_timeout).",
}

// typeDocs describes the component schemas.
var typeDocs = map[string]string{
	"Error":             "The body of every non-2xx answer.",
	"Operator":          "A tenant: a charging network operator owning sites, stations and id tokens.",
	"NewAPIToken":       "A freshly created API token. The token value is shown only in this answer.",
	"Site":              "A place with stations, in one timezone.",
	"Station":           "A charging station (OCPP charge point), identified by its OCPP identity.",
	"Connector":         "One connector (2.x: EVSE) of a station, with its last reported status.",
	"Message":           "One OCPP frame exchanged with a station.",
	"StatusEvent":       "One StatusNotification as the station sent it.",
	"CommandResult":     "The station's answer to a remote command.",
	"IDToken":           "An RFID card or other token the operator authorises directly.",
	"Session":           "A charging session (OCPP transaction).",
	"MeterValue":        "One timestamped group of sampled values.",
	"SampledValue":      "One sampled value as the station sent it (OCPP 1.6 vocabulary; 2.x values are mapped).",
	"Tariff":            "An operator's price list: an OCPI tariff object with a name and its plain-words description.",
	"TariffDescription": "A tariff in plain words, as drivers see it; every price tax-inclusive.",
	"TariffAssignment":  "Which tariff applies to an operator's stations, a site's or one station's.",
	"StationTariff":     "The tariff in force at a station, and the hold a session there would take.",
	"Payment":           "The payment of a charging session, or of a NextCharge wallet top-up. Amounts in minor units of currency.",
	"DriverAccount":     "A NextCharge driver account (platform-wide): RFID cards paying from a prepaid wallet or a saved card.",
	"Wallet":            "A driver account's prepaid balance, minor units of the account's currency.",
	"DriverCard":        "An RFID card of a NextCharge driver account.",
	"TopUp":             "An opened wallet top-up: send the driver to checkout_url.",
	"CardSetup":         "An opened card-setup page: send the driver to checkout_url.",
}

const apiDescription = `The REST API of Charge Star, a charging-station management system.

Authentication: every route except this document and the index needs ` + "`Authorization: Bearer <token>`" + `.
A token is either the platform-administrator token (CHARGESTAR_ADMIN_TOKEN) or an API token of one operator
(POST /api/v1/operators/{operatorId}/tokens). An operator token sees only its operator's resources: a resource
of another operator answers 404 exactly like one that does not exist.

Conventions: JSON in and out (receipts, the one exception, are HTML or PDF documents); unknown request fields are rejected; money is an integer number of minor units
(cents) beside an ISO 4217 currency; times are RFC 3339 in UTC. Lists answer {"items":[…],"next_cursor":"…"}:
pass next_cursor as the cursor parameter for the next page (it is empty on the last page); limit is 1–500
(default 100). Every non-2xx answer is {"error":{"code":"snake_case_code","message":"human text"}}.`

const stationIDPattern = `^[A-Za-z0-9._:*+|@-]{1,48}$`

const stationIDDoc = "The station's OCPP identity, the last path segment of its OCPP URL: 1–48 characters " +
	"of A–Z, a–z, 0–9 and . _ : * + | @ -, matched exactly (case-sensitive). The set keeps the " +
	"id usable as one URL path segment (| may be sent percent-encoded as %7C); \".\" and \"..\" are refused " +
	"because a URL path cannot carry them."

const commandDoc = "The body is the request payload of {action} in the station's OCPP version " +
	"(e.g. Reset {\"type\":\"Soft\"} for 1.6, RequestStartTransaction {\"idToken\":{…},\"remoteStartId\":1} for 2.x); " +
	"an empty body is {}. It is checked against the action's schema before it is sent (400 invalid_payload, the " +
	"message giving the JSON path; 400 unknown_command when the protocol has no such command). " +
	"The answer is 200 {\"status\":…,\"response\":{…}}: status is the status field of the station's answer " +
	"(\"Accepted\" when the answer has none) and response the answer verbatim. A station that is not connected " +
	"answers 409 station_not_connected; one that does not answer in time 504 station_timeout; one that answers " +
	"with a CALLERROR 502 station_error."

// mediaDoc is the OpenAPI media type object of a non-JSON answer: text
// is a string; binary content (a PDF) has no schema (OpenAPI 3.1).
func mediaDoc(mediaType string) map[string]any {
	if strings.HasPrefix(mediaType, "text/") {
		return map[string]any{"schema": map[string]any{"type": "string"}}
	}
	return map[string]any{}
}

// mustRenderOpenAPI builds the OpenAPI 3.1 document of the routes. A route
// the generator cannot describe is a programming error, caught by tests.
func mustRenderOpenAPI(routes []route) []byte {
	b, err := renderOpenAPI(routes)
	if err != nil {
		panic(err)
	}
	return b
}

func renderOpenAPI(routes []route) ([]byte, error) {
	g := newSchemaGen()
	errRef := g.ref(reflect.TypeFor[Error]())
	paths := map[string]map[string]any{}
	tags := []any{}
	seenTag := map[string]bool{}
	for _, rt := range routes {
		path := openAPIPath(rt.pattern)
		op := map[string]any{
			"operationId": rt.id,
			"summary":     rt.summary,
			"tags":        []any{rt.tag},
		}
		if desc := rt.desc + rolesDoc(rt); desc != "" {
			op["description"] = strings.TrimSpace(desc)
		}
		if !seenTag[rt.tag] {
			seenTag[rt.tag] = true
			tags = append(tags, map[string]any{"name": rt.tag})
		}
		params := []any{}
		for _, m := range wildcardRE.FindAllStringSubmatch(path, -1) {
			pp, ok := pathParams[m[1]]
			if !ok {
				return nil, fmt.Errorf("api: route %s %s: path parameter %s is not documented", rt.method, rt.pattern, m[1])
			}
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true,
				"description": pp.desc, "schema": pp.schema})
		}
		for _, q := range rt.query {
			params = append(params, map[string]any{"name": q.name, "in": "query", "required": q.required,
				"description": q.desc, "schema": q.schema})
		}
		if len(params) > 0 {
			op["parameters"] = params
		}
		if rt.public {
			op["security"] = []any{}
		}
		if rt.body != nil {
			s := g.schema(reflect.TypeOf(rt.body))
			if _, ok := rt.body.(json.RawMessage); ok {
				s = map[string]any{"type": "object", "description": "The OCPP request payload of the action."}
			}
			op["requestBody"] = map[string]any{
				"required": !rt.bodyOpt,
				"content":  map[string]any{"application/json": map[string]any{"schema": s}},
			}
		}
		responses := map[string]any{}
		ok := map[string]any{"description": http.StatusText(rt.ok)}
		switch {
		case rt.resp != nil:
			// JSON, and possibly alternatives of the same data (CSV).
			content := map[string]any{"application/json": map[string]any{"schema": g.schema(reflect.TypeOf(rt.resp))}}
			for _, m := range rt.media {
				if m != "application/json" {
					content[m] = mediaDoc(m)
				}
			}
			ok["content"] = content
		case len(rt.media) > 0:
			content := map[string]any{}
			for _, m := range rt.media {
				content[m] = mediaDoc(m)
			}
			ok["content"] = content
			if !slices.Contains(rt.media, "text/event-stream") { // a stream is not a document
				ok["headers"] = map[string]any{"Content-Disposition": map[string]any{
					"description": "inline, with the document's file name, e.g. inline; filename=\"receipt-7K3M-Q9XD.pdf\".",
					"schema":      map[string]any{"type": "string"}}}
			}
		}
		responses[strconv.Itoa(rt.ok)] = ok
		for _, code := range rt.errs {
			d, known := errorDocs[code]
			if !known {
				return nil, fmt.Errorf("api: route %s %s: error status %d is not documented", rt.method, rt.pattern, code)
			}
			responses[strconv.Itoa(code)] = map[string]any{"description": d,
				"content": map[string]any{"application/json": map[string]any{"schema": errRef}}}
		}
		responses["default"] = map[string]any{"description": "Unexpected error: internal_error (500) or unavailable (503, shutting down).",
			"content": map[string]any{"application/json": map[string]any{"schema": errRef}}}
		op["responses"] = responses
		if paths[path] == nil {
			paths[path] = map[string]any{}
		}
		method := strings.ToLower(rt.method)
		if _, dup := paths[path][method]; dup {
			return nil, fmt.Errorf("api: route %s %s registered twice", rt.method, rt.pattern)
		}
		paths[path][method] = op
	}
	doc := map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":       "Charge Star REST API",
			"version":     apiVersion(),
			"description": apiDescription,
		},
		"tags":  tags,
		"paths": paths,
		"components": map[string]any{
			"schemas": g.defs,
			"securitySchemes": map[string]any{
				"bearerAuth": map[string]any{
					"type": "http", "scheme": "bearer",
					"description": "The administrator token (CHARGESTAR_ADMIN_TOKEN) or an operator API token (cs_…).",
				},
			},
		},
		"security": []any{map[string]any{"bearerAuth": []any{}}},
	}
	return json.MarshalIndent(doc, "", "  ")
}

// rolesDoc names the console roles that may call a route (API tokens act
// as their operator's owner).
func rolesDoc(rt route) string {
	if rt.public || rt.need == access.View {
		return ""
	}
	var roles []string
	for _, r := range access.OperatorRoles {
		if access.Can(r, rt.need) {
			roles = append(roles, string(r))
		}
	}
	if len(roles) == 0 {
		return " Platform administrators only."
	}
	return " Console roles: " + strings.Join(roles, ", ") + " (403 forbidden for the others; an operator API token acts as owner)."
}
