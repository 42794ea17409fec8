package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/chargestar/chargestar/internal/store"
)

// Error codes: the "code" of an error answer. They are part of the API;
// add to them, never rename.
const (
	codeInvalidJSON      = "invalid_json"      // 400: the body is not JSON, not an object, has an unknown field or a field of the wrong JSON type
	codeInvalidRequest   = "invalid_request"   // 400: a field's value is not acceptable (the message names the field)
	codeInvalidParameter = "invalid_parameter" // 400: a query parameter is not acceptable (limit, cursor, filters)
	codeInvalidPayload   = "invalid_payload"   // 400: a command payload fails the action's schema (the message gives the JSON path)
	codeUnknownCommand   = "unknown_command"   // 400: the action is not a command of the station's protocol
	codeUnauthorized     = "unauthorized"      // 401: no, unknown or revoked bearer token
	codeForbidden        = "forbidden"         // 403: the action needs a platform-administrator token, or a role the user lacks
	codeCSRF             = "csrf_failed"       // 403: a console request changing something without the session's CSRF header
	codeNotFound         = "not_found"         // 404: no such resource, or one of another operator
	codeRouteNotFound    = "route_not_found"   // 404: no such route
	codeMethodNotAllowed = "method_not_allowed"
	codeStationExists    = "station_exists"        // 409
	codeIDTokenExists    = "id_token_exists"       // 409
	codeConflict         = "conflict"              // 409: any other unique key
	codeNotConnected     = "station_not_connected" // 409
	codeBodyTooLarge     = "body_too_large"        // 413
	codeInternal         = "internal_error"        // 500
	codeUnavailable      = "unavailable"           // 503: shutting down
	codeStationError     = "station_error"         // 502: the station answered CALLERROR
	codeStationTimeout   = "station_timeout"       // 504
	codeAmbiguousIDToken = "ambiguous_id_token"    // 400: an administrator named an id token several operators have

	// Billing.
	codeInvalidTariff      = "invalid_tariff"         // 400: the tariff object is not a valid OCPI tariff, or not in the operator's currency
	codeInvalidBudget      = "invalid_budget"         // 400: the budget cannot price a session under the tariff
	codeInvalidABN         = "invalid_abn"            // 400: an Australian operator's tax_id is not a valid ABN
	codeNoTariff           = "no_tariff"              // 404: no tariff applies to the station
	codeNoReceipt          = "no_receipt"             // 404: the payment or session has no receipt (yet)
	codeTariffAssigned     = "tariff_assigned"        // 409: a tariff still assigned cannot be deleted
	codeNotASession        = "not_a_session"          // 409: a top-up has no session to stop
	codeNotRefundable      = "not_refundable"         // 409: the payment is not captured, or the refund exceeds what is left
	codeWrongPassword      = "wrong_password"         // 400: the current password given to change it is wrong
	codeLastOwner          = "last_owner"             // 409: the change would leave the operator without an active owner
	codeAccountIneligible  = "account_not_eligible"   // 409: the driver account cannot do that (closed, or not wallet-funded for a top-up)
	codePaymentProvider    = "payment_provider_error" // 502: the payment provider refused or failed
	codeBillingUnavailable = "billing_unavailable"    // 503: the server runs without session billing
)

// Error is the body of every non-2xx answer.
type Error struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail says what went wrong.
type ErrorDetail struct {
	Code    string `json:"code" pattern:"^[a-z][a-z0-9_]*$" doc:"Stable, machine-readable snake_case code, e.g. not_found, invalid_request, station_not_connected." example:"not_found"`
	Message string `json:"message" doc:"Human-readable explanation; may change between versions." example:"station \"CP-1\" not found"`
}

// apiError is an error with its HTTP answer.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func errorf(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

// notFound is the answer for an unknown resource and for one of another
// operator alike: the message must not tell them apart.
func notFound(kind, id string) *apiError {
	return errorf(http.StatusNotFound, codeNotFound, "%s %q not found", kind, id)
}

// invalid is a 400 for one request field.
func invalid(field, format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: codeInvalidRequest, message: field + ": " + fmt.Sprintf(format, args...)}
}

// badParam is a 400 for one query parameter.
func badParam(name, format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: codeInvalidParameter, message: name + ": " + fmt.Sprintf(format, args...)}
}

func errInternal() *apiError {
	return errorf(http.StatusInternalServerError, codeInternal, "internal error; the server log has the details")
}

// fail writes err as an error answer. Errors that are not *apiError are
// mapped (store sentinels, context) or logged and answered 500 without
// their text, which may describe internals.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	switch {
	case errors.As(err, &ae):
	case errors.Is(err, store.ErrNotFound):
		ae = errorf(http.StatusNotFound, codeNotFound, "not found")
	case errors.Is(err, store.ErrConflict):
		ae = errorf(http.StatusConflict, codeConflict, "conflicts with an existing resource")
	case errors.Is(err, store.ErrClosed):
		ae = errorf(http.StatusServiceUnavailable, codeUnavailable, "the server is shutting down; retry shortly")
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		// The client went away; nobody reads this answer.
		ae = errorf(http.StatusServiceUnavailable, codeUnavailable, "request canceled")
	default:
		h.log.Error("api: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		ae = errInternal()
	}
	writeError(w, ae)
}

func writeError(w http.ResponseWriter, e *apiError) {
	if e.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="chargestar"`)
	}
	writeJSON(w, e.status, Error{Error: ErrorDetail{Code: e.code, Message: e.message}})
}

// writeJSON writes v as the JSON answer with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only a programming error (an unmarshalable type) gets here.
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"code":"internal_error","message":"encoding the answer failed"}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
