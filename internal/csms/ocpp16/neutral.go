package ocpp16

import (
	"strconv"

	"github.com/chargestar/chargestar/internal/csms"
	"github.com/chargestar/chargestar/internal/ocpp"
	"github.com/chargestar/chargestar/internal/ocpp/v16"
)

// TranslateCommand implements csms.CommandTranslator for OCPP 1.6.
func (a *Adapter) TranslateCommand(c csms.NeutralCommand) (string, []byte, error) {
	var (
		action string
		msg    ocpp.Message
	)
	switch c.Name {
	case csms.CmdStart:
		if c.IDToken == "" {
			return "", nil, csms.BadCommandf("start needs an id_token")
		}
		req := &v16.RemoteStartTransactionRequest{IDTag: c.IDToken}
		if c.ConnectorID > 0 {
			req.ConnectorID = &c.ConnectorID
		}
		action, msg = "RemoteStartTransaction", req
	case csms.CmdStop:
		id, err := strconv.Atoi(c.TransactionID)
		if err != nil {
			return "", nil, csms.BadCommandf("stop needs the transaction's id (an integer for OCPP 1.6), got %q", c.TransactionID)
		}
		action, msg = "RemoteStopTransaction", &v16.RemoteStopTransactionRequest{TransactionID: id}
	case csms.CmdReset:
		t := v16.ResetTypeSoft
		if c.Hard {
			t = v16.ResetTypeHard
		}
		action, msg = "Reset", &v16.ResetRequest{Type: t}
	case csms.CmdUnlock:
		if c.ConnectorID < 1 {
			return "", nil, csms.BadCommandf("unlock needs a connector_id of 1 or more")
		}
		action, msg = "UnlockConnector", &v16.UnlockConnectorRequest{ConnectorID: c.ConnectorID}
	case csms.CmdAvailability:
		t := v16.AvailabilityTypeInoperative
		if c.Operative {
			t = v16.AvailabilityTypeOperative
		}
		action, msg = "ChangeAvailability", &v16.ChangeAvailabilityRequest{ConnectorID: c.ConnectorID, Type: t}
	case csms.CmdTrigger:
		req := &v16.TriggerMessageRequest{RequestedMessage: v16.MessageTrigger(c.Message)}
		if c.ConnectorID > 0 {
			req.ConnectorID = &c.ConnectorID
		}
		action, msg = "TriggerMessage", req
	case csms.CmdClearCache:
		action, msg = "ClearCache", &v16.ClearCacheRequest{}
	case csms.CmdGetConfiguration:
		action, msg = "GetConfiguration", &v16.GetConfigurationRequest{Key: c.Keys}
	case csms.CmdSetConfiguration:
		if c.Key == "" {
			return "", nil, csms.BadCommandf("set-configuration needs a key")
		}
		action, msg = "ChangeConfiguration", &v16.ChangeConfigurationRequest{Key: c.Key, Value: c.Value}
	default:
		return "", nil, csms.ErrUnknownCommand
	}
	if err := msg.Validate(); err != nil {
		return action, nil, err
	}
	return action, msg.AppendOCPP(nil), nil
}
