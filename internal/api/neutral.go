package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/chargestar/chargestar/internal/csms"
)

// NeutralCommandRequest is the body of a version-neutral command; which
// fields matter depends on the command (see the operation's description).
type NeutralCommandRequest struct {
	ConnectorID   *int     `json:"connector_id,omitempty" doc:"start, unlock, availability (0: the whole station), trigger: the connector (for OCPP 2.x, the EVSE id)."`
	IDToken       string   `json:"id_token,omitempty" doc:"start: the token the session is charged to."`
	SessionID     string   `json:"session_id,omitempty" doc:"stop: the session to stop (or give transaction_id)."`
	TransactionID string   `json:"transaction_id,omitempty" doc:"stop: the station's transaction id."`
	Type          string   `json:"type,omitempty" enum:"soft,hard" doc:"reset: soft waits until the station is idle (2.x OnIdle), hard reboots now (2.x Immediate). Default soft."`
	Operative     *bool    `json:"operative,omitempty" doc:"availability: true makes the connector available, false takes it out of service."`
	Message       string   `json:"message,omitempty" enum:"BootNotification,Heartbeat,StatusNotification,MeterValues,FirmwareStatusNotification,DiagnosticsStatusNotification" doc:"trigger: the message the station should send now (DiagnosticsStatusNotification is LogStatusNotification on 2.x)."`
	Keys          []string `json:"keys,omitempty" doc:"get-configuration: 1.6 configuration keys, or Component.Variable for 2.x; none reads all on 1.6."`
	Key           string   `json:"key,omitempty" doc:"set-configuration: a 1.6 key, or Component.Variable for 2.x."`
	Value         string   `json:"value,omitempty" doc:"set-configuration: the new value."`
}

const neutralCommandDoc = " Version-neutral commands (lower-case {action}) say the same thing to a station of any " +
	"OCPP version, with a body of NeutralCommandRequest fields: start {connector_id,id_token}, " +
	"stop {session_id | transaction_id}, reset {type: soft|hard}, unlock {connector_id}, " +
	"availability {connector_id, operative}, trigger {message, connector_id?}, clear-cache {}, " +
	"get-configuration {keys}, set-configuration {key, value}. The answer carries, besides status and " +
	"response, the OCPP action that was sent."

func (h *handler) neutralCommand(w http.ResponseWriter, r *http.Request, p principal, name string) error {
	st, err := h.stationFor(r, p)
	if err != nil {
		return err
	}
	var req NeutralCommandRequest
	if err := decodeJSON(w, r, &req, true); err != nil {
		return err
	}
	c := csms.NeutralCommand{Name: name, IDToken: strings.TrimSpace(req.IDToken), TransactionID: req.TransactionID,
		Message: req.Message, Keys: req.Keys, Key: req.Key, Value: req.Value}
	if req.ConnectorID != nil {
		if *req.ConnectorID < 0 {
			return invalid("connector_id", "must not be negative")
		}
		c.ConnectorID = *req.ConnectorID
	}
	switch name {
	case csms.CmdStop:
		if req.SessionID != "" {
			sess, err := h.store.GetSession(r.Context(), st.OperatorID, req.SessionID)
			if err != nil || sess.StationID != st.ID {
				return notFound("session", req.SessionID)
			}
			c.TransactionID = sess.TransactionID
		}
		if c.TransactionID == "" {
			return invalid("session_id", "give the session to stop (session_id or transaction_id)")
		}
	case csms.CmdReset:
		switch req.Type {
		case "", "soft":
		case "hard":
			c.Hard = true
		default:
			return invalid("type", "must be soft or hard")
		}
	case csms.CmdAvailability:
		if req.Operative == nil {
			return invalid("operative", "is required: true or false")
		}
		c.Operative = *req.Operative
	case csms.CmdTrigger:
		switch req.Message {
		case csms.TriggerBoot, csms.TriggerHeartbeat, csms.TriggerStatus, csms.TriggerMeterValues, csms.TriggerFirmware, csms.TriggerDiagnostics:
		default:
			return invalid("message", "must be one of BootNotification, Heartbeat, StatusNotification, MeterValues, FirmwareStatusNotification, DiagnosticsStatusNotification")
		}
	}
	action, res, err := h.csms.SendNeutral(r.Context(), st.ID, c)
	if errors.Is(err, csms.ErrBadCommand) {
		return errorf(http.StatusBadRequest, codeInvalidRequest, "%s", strings.TrimPrefix(err.Error(), csms.ErrBadCommand.Error()+": "))
	}
	if err != nil {
		if action == "" {
			action = name
		}
		return commandError(err, st.ID, st.Protocol, action)
	}
	return writeCommandResult(w, st.ID, action, res.Payload)
}
