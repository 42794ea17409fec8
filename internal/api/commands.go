package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/chargestar/chargestar/internal/csms"
	"github.com/chargestar/chargestar/internal/ocpp"
	"github.com/chargestar/chargestar/internal/ocpp/ocppj"
)

// CommandResult is the answer to a remote command.
type CommandResult struct {
	Status   string          `json:"status" doc:"The status field of the station's answer, or Accepted when the answer has none (e.g. 1.6 GetConfiguration)." example:"Accepted"`
	Response json.RawMessage `json:"response" doc:"The station's answer (CALLRESULT payload), verbatim."`
	Action   string          `json:"action,omitempty" doc:"For a version-neutral command: the OCPP action that was sent." example:"RequestStartTransaction"`
}

var actionRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]{0,63}$`)

func (h *handler) command(w http.ResponseWriter, r *http.Request, p principal) error {
	st, err := h.stationFor(r, p)
	if err != nil {
		return err
	}
	action := r.PathValue("action")
	if csms.IsNeutralCommand(action) {
		return h.neutralCommand(w, r, p, action)
	}
	if !actionRE.MatchString(action) {
		return errorf(http.StatusBadRequest, codeUnknownCommand, "%q is not an OCPP action name", action)
	}
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	payload := bytes.TrimSpace(body)
	if len(payload) == 0 {
		payload = []byte("{}")
	}
	if !json.Valid(payload) {
		return errorf(http.StatusBadRequest, codeInvalidJSON, "the request body is not valid JSON; send the %s request payload as a JSON object", action)
	}
	if payload[0] != '{' {
		return errorf(http.StatusBadRequest, codeInvalidJSON, "the request body must be a JSON object: the %s request payload", action)
	}
	res, err := h.csms.Command(r.Context(), st.ID, action, payload)
	if err != nil {
		return commandError(err, st.ID, st.Protocol, action)
	}
	return writeCommandResult(w, st.ID, "", res.Payload)
}

// writeCommandResult answers with the station's reply; neutral is the
// action a version-neutral command was sent as ("" for a plain one).
func writeCommandResult(w http.ResponseWriter, stationID, neutral string, payload []byte) error {
	action := neutral
	status := "Accepted"
	var answer struct {
		Status json.RawMessage `json:"status"`
	}
	if json.Unmarshal(payload, &answer) == nil {
		var s string
		if json.Unmarshal(answer.Status, &s) == nil && s != "" {
			status = s
		}
	}
	resp := json.RawMessage(payload)
	if !json.Valid(resp) {
		return errorf(http.StatusBadGateway, codeStationError, "station %q answered with a payload that is not JSON", stationID)
	}
	writeJSON(w, http.StatusOK, CommandResult{Status: status, Response: resp, Action: action})
	return nil
}

// commandError maps the errors of csms.Service.Command.
func commandError(err error, stationID, protocol, action string) error {
	var (
		ve *ocpp.ValidationError
		ce *ocppj.CallError
	)
	switch {
	case errors.Is(err, csms.ErrNotConnected):
		return errorf(http.StatusConflict, codeNotConnected, "station %q is not connected", stationID)
	case errors.Is(err, csms.ErrUnknownCommand):
		if protocol == "" {
			protocol = "the station's protocol"
		}
		return errorf(http.StatusBadRequest, codeUnknownCommand, "%s is not a command the server can send in %s", action, protocol)
	case errors.As(err, &ve):
		path := ve.Path
		if path == "" {
			path = "(root)"
		}
		return errorf(http.StatusBadRequest, codeInvalidPayload, "%s payload: %s violation at %s: %s", action, ve.Kind, path, ve.Msg)
	case errors.Is(err, csms.ErrTimeout):
		return errorf(http.StatusGatewayTimeout, codeStationTimeout, "station %q did not answer %s in time", stationID, action)
	case errors.As(err, &ce):
		code := ce.RawCode
		if code == "" {
			code = ce.Code.String()
		}
		msg := fmt.Sprintf("station %q answered %s with CALLERROR %s", stationID, action, code)
		if d := strings.TrimSpace(ce.Description); d != "" {
			msg += ": " + d
		}
		return errorf(http.StatusBadGateway, codeStationError, "%s", msg)
	}
	return err
}
