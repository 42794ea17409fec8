package api

import (
	"encoding/json"
	"github.com/chargestar/chargestar/internal/access"
	"net/http"
)

// route is one API operation: what serves it and what documents it. The
// route table is the single source of both the ServeMux registrations and
// the OpenAPI document.
type route struct {
	method  string
	pattern string            // ServeMux pattern, also the OpenAPI path ("{$}" dropped)
	public  bool              // served without a token
	need    access.Permission // what the principal's role must allow (access.View: every role)
	handle  func(w http.ResponseWriter, r *http.Request, p principal) error

	id      string // OpenAPI operationId
	tag     string
	summary string
	desc    string
	query   []param
	body    any      // a value of the request body type; nil: no body
	bodyOpt bool     // the body may be omitted
	ok      int      // success status
	resp    any      // a value of the success body type; nil: no content (or media)
	media   []string // media types of a non-JSON success body (resp nil), e.g. text/html
	errs    []int
}

// param documents a query parameter.
type param struct {
	name     string
	desc     string
	schema   map[string]any
	required bool
}

var (
	limitParam = param{name: "limit", desc: "Page size (default 100).",
		schema: map[string]any{"type": "integer", "minimum": 1, "maximum": maxLimit, "default": defaultLimit}}
	cursorParam = param{name: "cursor", desc: "The next_cursor of the previous page; omit for the first page.",
		schema: map[string]any{"type": "string"}}
	operatorFilter = param{name: "operator_id", desc: "Only this operator's resources. An operator token may give only its own id (another answers 404).",
		schema: map[string]any{"type": "string"}}
	idTokenOperator = param{name: "operator_id", desc: "The operator whose id token is meant. An administrator token needs it only when several operators have the token; an operator token may give only its own id.",
		schema: map[string]any{"type": "string"}}
)

// pathParams documents the path wildcards, which have one meaning each.
var pathParams = map[string]param{
	"operatorId": {desc: "Operator id (op_…).", schema: map[string]any{"type": "string"}},
	"tokenId":    {desc: "API token id (tok_…), as returned when the token was created.", schema: map[string]any{"type": "string"}},
	"siteId":     {desc: "Site id (site_…).", schema: map[string]any{"type": "string"}},
	"stationId":  {desc: stationIDDoc, schema: map[string]any{"type": "string", "pattern": stationIDPattern, "maxLength": 48}},
	"action": {desc: "OCPP action of the station's protocol version, e.g. Reset, UnlockConnector, RemoteStartTransaction (1.x), RequestStartTransaction (2.x).",
		schema: map[string]any{"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9]*$", "maxLength": 64}},
	"idToken":   {desc: "The id token value (matched case-insensitively); percent-encode characters that are special in a URL path.", schema: map[string]any{"type": "string"}},
	"sessionId": {desc: "Session id (ses_…).", schema: map[string]any{"type": "string"}},
	"tariffId":  {desc: "Tariff id (trf_…).", schema: map[string]any{"type": "string"}},
	"paymentId": {desc: "Payment id (pay_…).", schema: map[string]any{"type": "string"}},
	"userId":    {desc: "Console user id (usr_…).", schema: map[string]any{"type": "string"}},
	"accountId": {desc: "NextCharge driver account id (acc_…).", schema: map[string]any{"type": "string"}},
	"alertId":   {desc: "Alert id (alr_…).", schema: map[string]any{"type": "string"}},
}

const (
	tagMeta      = "meta"
	tagOperators = "operators"
	tagSites     = "sites"
	tagStations  = "stations"
	tagCommands  = "commands"
	tagIDTokens  = "id-tokens"
	tagSessions  = "sessions"
	tagTariffs   = "tariffs"
	tagPayments  = "payments"
	tagAccounts  = "driver-accounts"
	tagUsers     = "users"
)

// Error statuses, short for the route table.
const (
	e400 = http.StatusBadRequest
	e401 = http.StatusUnauthorized
	e403 = http.StatusForbidden
	e404 = http.StatusNotFound
	e409 = http.StatusConflict
	e413 = http.StatusRequestEntityTooLarge
	e502 = http.StatusBadGateway
	e504 = http.StatusGatewayTimeout
)

const driverAccountsDoc = "Platform administrator only: NextCharge accounts are platform-wide, and to an operator token they do not exist (404)."

// Index is the answer of GET /api/v1/.
type Index struct {
	Name    string `json:"name" example:"Charge Star REST API"`
	Version string `json:"version" doc:"Server version."`
	OpenAPI string `json:"openapi" doc:"Path of the OpenAPI document." example:"/api/v1/openapi.json"`
}

// routeTable lists every route.
func (h *handler) routeTable() []route {
	read := []int{e400, e401, e404}
	write := []int{e400, e401, e404, e413}
	routes := []route{
		{method: "GET", pattern: "/api/v1/{$}", public: true, handle: h.index,
			id: "getIndex", tag: tagMeta, summary: "API index", desc: "Public. Names the server version and the OpenAPI document.",
			ok: 200, resp: Index{}},
		{method: "GET", pattern: "/api/v1/openapi.json", public: true, handle: h.serveOpenAPI,
			id: "getOpenAPI", tag: tagMeta, summary: "This OpenAPI 3.1 document", desc: "Public (no token needed).",
			ok: 200, resp: json.RawMessage(nil)},

		// Operators and their API tokens.
		{method: "POST", pattern: "/api/v1/operators", handle: h.createOperator,
			id: "createOperator", tag: tagOperators, summary: "Create an operator (administrator only)",
			body: CreateOperatorRequest{}, ok: 201, resp: Operator{}, errs: []int{e400, e401, e403, e413}},
		{method: "GET", pattern: "/api/v1/operators", handle: h.listOperators,
			id: "listOperators", tag: tagOperators, summary: "List operators",
			desc:  "The administrator sees every operator; an operator token sees only its own.",
			query: []param{limitParam, cursorParam}, ok: 200, resp: List[Operator]{}, errs: []int{e400, e401}},
		{method: "GET", pattern: "/api/v1/operators/{operatorId}", handle: h.getOperator,
			id: "getOperator", tag: tagOperators, summary: "Get an operator", ok: 200, resp: Operator{}, errs: read},
		{method: "PATCH", pattern: "/api/v1/operators/{operatorId}", handle: h.updateOperator,
			id: "updateOperator", need: access.ManageOperator, tag: tagOperators, summary: "Change an operator's name, seller details or settlement",
			desc: "Administrator, or a token of the same operator. Fields left out are unchanged. The seller details " +
				"(legal_name, tax_id, address) are printed on receipts; an AU operator's tax_id must be a valid ABN (400 invalid_abn). " +
				"settlement_mode direct needs a merchant_account. Currency and country are fixed.",
			body: UpdateOperatorRequest{}, ok: 200, resp: Operator{}, errs: write},
		{method: "POST", pattern: "/api/v1/operators/{operatorId}/tokens", handle: h.createToken,
			id: "createAPIToken", need: access.ManageOperator, tag: tagOperators, summary: "Create an API token for an operator",
			desc: "Administrator, or a token of the same operator. The token is in the answer once and never again: " +
				"only its SHA-256 hash is stored.",
			body: CreateTokenRequest{}, bodyOpt: true, ok: 201, resp: NewAPIToken{}, errs: write},
		{method: "DELETE", pattern: "/api/v1/operators/{operatorId}/tokens/{tokenId}", handle: h.revokeToken,
			id: "revokeAPIToken", need: access.ManageOperator, tag: tagOperators, summary: "Revoke an API token",
			desc: "The token stops working at once. Revoking a revoked token succeeds again.",
			ok:   204, errs: []int{e400, e401, e404}},

		// Sites.
		{method: "POST", pattern: "/api/v1/sites", handle: h.createSite,
			id: "createSite", need: access.ManageNetwork, tag: tagSites, summary: "Create a site", body: CreateSiteRequest{}, ok: 201, resp: Site{}, errs: write},
		{method: "GET", pattern: "/api/v1/sites", handle: h.listSites,
			id: "listSites", tag: tagSites, summary: "List sites", query: []param{operatorFilter, limitParam, cursorParam},
			ok: 200, resp: List[Site]{}, errs: read},
		{method: "GET", pattern: "/api/v1/sites/{siteId}", handle: h.getSite,
			id: "getSite", tag: tagSites, summary: "Get a site", ok: 200, resp: Site{}, errs: read},

		// Stations.
		{method: "POST", pattern: "/api/v1/stations", handle: h.createStation,
			id: "createStation", need: access.ManageNetwork, tag: tagStations, summary: "Register a station",
			desc: "Only a registered station may connect to /ocpp/{stationId}. id and operator_id are enough; " +
				"connectors appear as the station reports them.",
			body: CreateStationRequest{}, ok: 201, resp: Station{}, errs: []int{e400, e401, e404, e409, e413}},
		{method: "GET", pattern: "/api/v1/stations", handle: h.listStations,
			id: "listStations", tag: tagStations, summary: "List stations, ordered by id",
			query: []param{operatorFilter, {name: "site_id", desc: "Only the stations of this site.", schema: map[string]any{"type": "string"}}, limitParam, cursorParam},
			ok:    200, resp: List[Station]{}, errs: read},
		{method: "GET", pattern: "/api/v1/stations/{stationId}", handle: h.getStation,
			id: "getStation", tag: tagStations, summary: "Get a station with its connectors", ok: 200, resp: Station{}, errs: read},
		{method: "PATCH", pattern: "/api/v1/stations/{stationId}", handle: h.updateStation,
			id: "updateStation", need: access.ManageNetwork, tag: tagStations, summary: "Change a station's site, password or retirement",
			desc: "Fields left out are unchanged. A new password takes effect at the station's next connection.",
			body: UpdateStationRequest{}, ok: 200, resp: Station{}, errs: write},
		{method: "GET", pattern: "/api/v1/stations/{stationId}/messages", handle: h.listMessages,
			id: "listStationMessages", tag: tagStations, summary: "The station's OCPP message log, newest first",
			query: []param{
				{name: "action", desc: "Only frames of this action (results and errors carry the action of the call they answer).", schema: map[string]any{"type": "string"}},
				{name: "q", desc: "Only frames whose text contains this substring (case-sensitive).", schema: map[string]any{"type": "string"}},
				limitParam, cursorParam},
			ok: 200, resp: List[Message]{}, errs: read},
		{method: "GET", pattern: "/api/v1/stations/{stationId}/status-events", handle: h.listStatusEvents,
			id: "listStationStatusEvents", tag: tagStations, summary: "The station's status notifications, oldest first",
			query: []param{
				{name: "since", desc: "Only events with a station timestamp at or after this RFC 3339 time.", schema: map[string]any{"type": "string", "format": "date-time"}},
				limitParam, cursorParam},
			ok: 200, resp: List[StatusEvent]{}, errs: read},
		{method: "GET", pattern: "/api/v1/stations/{stationId}/variables", handle: h.listVariables,
			id: "listStationVariables", tag: tagStations, summary: "The device model of an OCPP 2.x station",
			desc: "Every variable attribute the station reported (NotifyReport, after a GetBaseReport or GetReport command) or that a GetVariables/SetVariables command read or wrote; empty for 1.x stations.",
			query: []param{
				{name: "component", desc: "Only this component (case-insensitive).", schema: map[string]any{"type": "string"}},
				{name: "variable", desc: "Only this variable (case-insensitive).", schema: map[string]any{"type": "string"}}},
			ok: 200, resp: List[Variable]{}, errs: read},
		{method: "GET", pattern: "/api/v1/stations/{stationId}/events", handle: h.listStationEvents,
			id: "listStationEvents", tag: tagStations, summary: "Events the station reported, newest first",
			desc: "Security events, OCPP 2.x monitoring events (NotifyEvent) and OCPP 2.1 payment settlements (NotifySettlement).",
			query: []param{
				{name: "kind", desc: "Only events of this kind.", schema: map[string]any{"type": "string", "enum": []string{"security", "notify", "settlement"}}},
				limitParam, cursorParam},
			ok: 200, resp: List[StationEvent]{}, errs: read},
		{method: "POST", pattern: "/api/v1/stations/{stationId}/commands/{action}", handle: h.command,
			id: "sendCommand", need: access.OperateStations, tag: tagCommands, summary: "Send a remote-management command to a connected station",
			desc: commandDoc + neutralCommandDoc, body: json.RawMessage(nil), bodyOpt: true, ok: 200, resp: CommandResult{},
			errs: []int{e400, e401, e404, e409, e413, e502, e504}},

		// Id tokens.
		{method: "POST", pattern: "/api/v1/id-tokens", handle: h.createIDToken,
			id: "createIDToken", need: access.ManageNetwork, tag: tagIDTokens, summary: "Register an id token (RFID card, fleet or staff token)",
			body: CreateIDTokenRequest{}, ok: 201, resp: IDToken{}, errs: []int{e400, e401, e404, e409, e413}},
		{method: "GET", pattern: "/api/v1/id-tokens", handle: h.listIDTokens,
			id: "listIDTokens", tag: tagIDTokens, summary: "List an operator's id tokens, ordered case-insensitively",
			desc: "An administrator token must give operator_id.",
			query: []param{{name: "operator_id", desc: "The operator (required with an administrator token; an operator token may give only its own).", schema: map[string]any{"type": "string"}},
				limitParam, cursorParam},
			ok: 200, resp: List[IDToken]{}, errs: read},
		{method: "GET", pattern: "/api/v1/id-tokens/{idToken}", handle: h.getIDToken,
			id: "getIDToken", tag: tagIDTokens, summary: "Get an id token", query: []param{idTokenOperator},
			ok: 200, resp: IDToken{}, errs: read},
		{method: "PATCH", pattern: "/api/v1/id-tokens/{idToken}", handle: h.updateIDToken,
			id: "updateIDToken", need: access.ManageNetwork, tag: tagIDTokens, summary: "Change an id token's status", query: []param{idTokenOperator},
			body: UpdateIDTokenRequest{}, ok: 200, resp: IDToken{}, errs: write},
		{method: "POST", pattern: "/api/v1/id-tokens/{idToken}/block", handle: h.blockIDToken,
			id: "blockIDToken", need: access.ManageNetwork, tag: tagIDTokens, summary: "Block an id token", desc: "Same as PATCH with {\"status\":\"Blocked\"}.",
			query: []param{idTokenOperator}, ok: 200, resp: IDToken{}, errs: read},

		// Sessions.
		{method: "GET", pattern: "/api/v1/sessions", handle: h.listSessions,
			id: "listSessions", tag: tagSessions, summary: "List charging sessions, newest first",
			query: []param{operatorFilter,
				{name: "station_id", desc: "Only this station's sessions.", schema: map[string]any{"type": "string"}},
				{name: "status", desc: "Only active or only completed sessions.", schema: map[string]any{"type": "string", "enum": []any{"active", "completed"}}},
				limitParam, cursorParam},
			ok: 200, resp: List[Session]{}, errs: read},
		{method: "GET", pattern: "/api/v1/sessions/{sessionId}", handle: h.getSession,
			id: "getSession", tag: tagSessions, summary: "Get a session", ok: 200, resp: Session{}, errs: read},
		{method: "GET", pattern: "/api/v1/sessions/{sessionId}/meter-values", handle: h.listMeterValues,
			id: "listSessionMeterValues", tag: tagSessions, summary: "The session's meter values, oldest first",
			query: []param{limitParam, cursorParam}, ok: 200, resp: List[MeterValue]{}, errs: read},
		{method: "GET", pattern: "/api/v1/sessions/{sessionId}/receipt", handle: h.sessionReceipt,
			id: "getSessionReceipt", need: access.ViewMoney, tag: tagSessions, summary: "The session's receipt (HTML or PDF)", desc: receiptDoc,
			query: receiptQuery, ok: 200, media: receiptMedia, errs: read},

		// Tariffs and where they apply.
		{method: "POST", pattern: "/api/v1/tariffs", handle: h.createTariff,
			id: "createTariff", need: access.ManagePrices, tag: tagTariffs, summary: "Create a tariff",
			desc: "The tariff is an OCPI Tariff object, validated (400 invalid_tariff, the message saying what is wrong) and stored " +
				"in canonical form; its currency must be the operator's. The answer describes it in plain words.",
			body: CreateTariffRequest{}, ok: 201, resp: Tariff{}, errs: write},
		{method: "GET", pattern: "/api/v1/tariffs", handle: h.listTariffs,
			id: "listTariffs", tag: tagTariffs, summary: "List tariffs, ordered by id",
			query: []param{operatorFilter, limitParam, cursorParam}, ok: 200, resp: List[Tariff]{}, errs: read},
		{method: "GET", pattern: "/api/v1/tariffs/{tariffId}", handle: h.getTariff,
			id: "getTariff", tag: tagTariffs, summary: "Get a tariff", ok: 200, resp: Tariff{}, errs: read},
		{method: "PUT", pattern: "/api/v1/tariffs/{tariffId}", handle: h.updateTariff,
			id: "updateTariff", need: access.ManagePrices, tag: tagTariffs, summary: "Replace a tariff's name and body",
			desc: "Applies to sessions started from now on; sessions already started keep the tariff they started with.",
			body: UpdateTariffRequest{}, ok: 200, resp: Tariff{}, errs: write},
		{method: "DELETE", pattern: "/api/v1/tariffs/{tariffId}", handle: h.deleteTariff,
			id: "deleteTariff", need: access.ManagePrices, tag: tagTariffs, summary: "Delete a tariff",
			desc: "409 tariff_assigned while it is assigned anywhere; remove its assignments first.",
			ok:   204, errs: []int{e400, e401, e404, e409}},
		{method: "PUT", pattern: "/api/v1/tariff-assignments", handle: h.assignTariff,
			id: "assignTariff", need: access.ManagePrices, tag: tagTariffs, summary: "Make a tariff apply to an operator's stations, a site's or one station's",
			desc: "Replaces the scope's earlier assignment. A station is priced with its own assignment, else its site's, else its operator's.",
			body: AssignTariffRequest{}, ok: 200, resp: TariffAssignment{}, errs: write},
		{method: "GET", pattern: "/api/v1/tariff-assignments", handle: h.listAssignments,
			id: "listTariffAssignments", tag: tagTariffs, summary: "List tariff assignments, ordered by operator, scope and scope id",
			query: []param{operatorFilter, limitParam, cursorParam}, ok: 200, resp: List[TariffAssignment]{}, errs: read},
		{method: "DELETE", pattern: "/api/v1/tariff-assignments", handle: h.unassignTariff,
			id: "unassignTariff", need: access.ManagePrices, tag: tagTariffs, summary: "Remove the tariff assignment of a scope",
			query: assignmentQuery, ok: 204, errs: read},
		{method: "GET", pattern: "/api/v1/stations/{stationId}/tariff", handle: h.stationTariff,
			id: "getStationTariff", tag: tagTariffs, summary: "The tariff in force at a station, with a quote",
			desc: "The station's tariff (its own assignment, else its site's, else its operator's), described in the site's time zone, " +
				"and the hold a session would take for the budget. 404 no_tariff when no tariff applies; 400 invalid_budget when the budget " +
				"cannot price a session (too small, or no budget and the tariff has no hold amount).",
			query: quoteParams, ok: 200, resp: StationTariff{}, errs: read},

		// Payments and receipts.
		{method: "GET", pattern: "/api/v1/payments", handle: h.listPayments,
			id: "listPayments", need: access.ViewMoney, tag: tagPayments, summary: "List payments, ordered by id",
			desc:  "An operator token lists its sessions' payments; the administrator also sees NextCharge wallet top-ups.",
			query: paymentQuery, ok: 200, resp: List[Payment]{}, errs: read},
		{method: "GET", pattern: "/api/v1/payments/{paymentId}", handle: h.getPayment,
			id: "getPayment", need: access.ViewMoney, tag: tagPayments, summary: "Get a payment", ok: 200, resp: Payment{}, errs: read},
		{method: "POST", pattern: "/api/v1/payments/{paymentId}/stop", handle: h.stopPayment,
			id: "stopPayment", need: access.ManageMoney, tag: tagPayments, summary: "Stop a paid session",
			desc: "Asks the station to stop the session (the capture follows its stop report); a session not started yet is canceled " +
				"and its hold released. A payment already settled is answered as it is. No body. 409 not_a_session for a top-up.",
			ok: 200, resp: Payment{}, errs: []int{e400, e401, e404, e409}},
		{method: "GET", pattern: "/api/v1/reports/revenue", handle: h.revenueReport,
			id: "revenueReport", need: access.ViewMoney, tag: tagPayments, summary: "Revenue report (JSON or CSV)",
			desc: "Captured session payments settled in [from, to), by day, week or month in a time zone, optionally by site or station: " +
				"sessions, energy, gross, GST, provider and platform fees, refunds and the operator's net. The totals reconcile with the ledger: " +
				"net is what is booked to the operator's payable account, tax what is booked to its tax payable account.",
			query: revenueQuery, ok: 200, resp: RevenueReport{}, media: revenueMedia, errs: read},
		{method: "GET", pattern: "/api/v1/reports/usage", handle: h.usageReport,
			id: "usageReport", tag: tagPayments, summary: "Usage report (JSON or CSV)",
			desc: "Sessions that started, their energy, the connector time occupied and the utilisation of the connectors, by day, week or month " +
				"in a time zone, optionally by site or station; and a heat map of occupied connector-minutes by weekday and hour.",
			query: revenueQuery, ok: 200, resp: UsageReport{}, media: revenueMedia, errs: read},
		{method: "GET", pattern: "/api/v1/stations/{stationId}/qr-sheet", handle: h.stationQRSheet,
			id: "getStationQRSheet", tag: tagStations, summary: "Printable QR sticker sheet (PDF or PNG)",
			desc: "One sticker per connector, each a QR code of the driver app's address for it ({public URL}/app/s/{stationId}/{connectorId}) with the " +
				"operator, site, station and connector printed under it: what a driver scans to pay and charge.",
			query: qrSheetQuery, ok: 200, media: qrSheetMedia, errs: read},
		{method: "POST", pattern: "/api/v1/payments/{paymentId}/refunds", handle: h.createRefund,
			id: "createRefund", need: access.ManageMoney, tag: tagPayments, summary: "Refund a captured session payment",
			desc: "Refunds amount (omitted: everything not yet refunded) of a captured session payment, with its share of GST. " +
				"The refund is recorded at once (202, state pending) and made at the provider under its own idempotency key; " +
				"the ledger books it when the provider confirms. 409 not_refundable when the payment is not captured or the amount exceeds what is left.",
			body: CreateRefundRequest{}, bodyOpt: true, ok: 202, resp: Refund{}, errs: []int{e400, e401, e404, e409, e413, e502}},
		{method: "GET", pattern: "/api/v1/payments/{paymentId}/refunds", handle: h.listRefunds,
			id: "listRefunds", need: access.ViewMoney, tag: tagPayments, summary: "A payment's refunds, oldest first", ok: 200, resp: List[Refund]{}, errs: read},
		{method: "GET", pattern: "/api/v1/payments/{paymentId}/receipt", handle: h.paymentReceipt,
			id: "getPaymentReceipt", need: access.ViewMoney, tag: tagPayments, summary: "The payment's receipt (HTML or PDF)", desc: receiptDoc,
			query: receiptQuery, ok: 200, media: receiptMedia, errs: read},

		// NextCharge driver accounts (platform administrator only).
		{method: "POST", pattern: "/api/v1/driver-accounts", handle: h.createDriverAccount,
			id: "createDriverAccount", tag: tagAccounts, summary: "Create a NextCharge driver account", desc: driverAccountsDoc,
			body: CreateDriverAccountRequest{}, ok: 201, resp: DriverAccount{}, errs: write},
		{method: "GET", pattern: "/api/v1/driver-accounts", handle: h.listDriverAccounts,
			id: "listDriverAccounts", tag: tagAccounts, summary: "List driver accounts, ordered by id", desc: driverAccountsDoc,
			query: []param{limitParam, cursorParam}, ok: 200, resp: List[DriverAccount]{}, errs: read},
		{method: "GET", pattern: "/api/v1/driver-accounts/{accountId}", handle: h.getDriverAccount,
			id: "getDriverAccount", tag: tagAccounts, summary: "Get a driver account with its wallet balance", desc: driverAccountsDoc,
			ok: 200, resp: DriverAccount{}, errs: read},
		{method: "POST", pattern: "/api/v1/driver-accounts/{accountId}/cards", handle: h.createDriverCard,
			id: "createDriverCard", tag: tagAccounts, summary: "Register an RFID card for a driver account, or change its status",
			desc: driverAccountsDoc + " 409 id_token_exists when the token belongs to another account.",
			body: CreateDriverCardRequest{}, ok: 201, resp: DriverCard{}, errs: []int{e400, e401, e404, e409, e413}},
		{method: "GET", pattern: "/api/v1/driver-accounts/{accountId}/cards", handle: h.listDriverCards,
			id: "listDriverCards", tag: tagAccounts, summary: "List a driver account's RFID cards", desc: driverAccountsDoc,
			query: []param{limitParam, cursorParam}, ok: 200, resp: List[DriverCard]{}, errs: read},
		{method: "POST", pattern: "/api/v1/driver-accounts/{accountId}/top-ups", handle: h.createTopUp,
			id: "createTopUp", tag: tagAccounts, summary: "Open a hosted payment page topping up a wallet",
			desc: driverAccountsDoc + " The wallet is credited when the driver has paid. 409 account_not_eligible unless the account " +
				"is active and wallet-funded.",
			body: TopUpRequest{}, ok: 201, resp: TopUp{}, errs: []int{e400, e401, e404, e409, e413, e502}},
		{method: "POST", pattern: "/api/v1/driver-accounts/{accountId}/card-setup", handle: h.createCardSetup,
			id: "createCardSetup", tag: tagAccounts, summary: "Open a hosted page saving the card a driver account pays with",
			desc: driverAccountsDoc + " Once the card is saved the account is card-funded.",
			body: CardSetupRequest{}, bodyOpt: true, ok: 201, resp: CardSetup{}, errs: []int{e400, e401, e404, e409, e413, e502}},
	}
	// Routes of the console's concerns, each with its own file.
	for _, more := range [][]route{h.userRoutes(), h.liveRoutes(), h.alertRoutes(), h.statusReportRoutes(), h.tariffPreviewRoutes(), h.networkRoutes()} {
		routes = append(routes, more...)
	}
	return routes
}

func (h *handler) index(w http.ResponseWriter, _ *http.Request, _ principal) error {
	writeJSON(w, http.StatusOK, Index{Name: "Charge Star REST API", Version: apiVersion(), OpenAPI: Prefix + "openapi.json"})
	return nil
}

func (h *handler) serveOpenAPI(w http.ResponseWriter, _ *http.Request, _ principal) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(h.openapi)
	return nil
}
