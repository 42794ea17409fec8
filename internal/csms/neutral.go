package csms

import (
	"context"
	"errors"
	"fmt"
)

// Version-neutral commands: what an operator means, whatever the station
// speaks. Each adapter says them in its protocol (a 1.6 RemoteStart-
// Transaction is a 2.x RequestStartTransaction); the answer is the
// station's own, verbatim, beside the action that carried it.
const (
	CmdStart            = "start"             // start charging on a connector for an id token
	CmdStop             = "stop"              // stop a transaction
	CmdReset            = "reset"             // reboot the station (soft: when idle; hard: now)
	CmdUnlock           = "unlock"            // release the cable of a connector
	CmdAvailability     = "availability"      // make a connector (0: the station) operative or not
	CmdTrigger          = "trigger"           // ask the station to send a message now
	CmdClearCache       = "clear-cache"       // clear the authorisation cache
	CmdGetConfiguration = "get-configuration" // read configuration keys (2.x: Component.Variable)
	CmdSetConfiguration = "set-configuration" // write one configuration key
)

// NeutralCommands lists the version-neutral commands.
var NeutralCommands = []string{CmdStart, CmdStop, CmdReset, CmdUnlock, CmdAvailability, CmdTrigger,
	CmdClearCache, CmdGetConfiguration, CmdSetConfiguration}

// IsNeutralCommand reports whether name is a version-neutral command.
func IsNeutralCommand(name string) bool {
	for _, c := range NeutralCommands {
		if c == name {
			return true
		}
	}
	return false
}

// Trigger messages of CmdTrigger, in the neutral vocabulary; adapters map
// them ("diagnostics" is 1.6 DiagnosticsStatusNotification and 2.x
// LogStatusNotification).
const (
	TriggerBoot        = "BootNotification"
	TriggerHeartbeat   = "Heartbeat"
	TriggerStatus      = "StatusNotification"
	TriggerMeterValues = "MeterValues"
	TriggerFirmware    = "FirmwareStatusNotification"
	TriggerDiagnostics = "DiagnosticsStatusNotification"
)

// NeutralCommand is a version-neutral command with its parameters; which
// ones matter depends on Name.
type NeutralCommand struct {
	Name          string
	ConnectorID   int      // start, unlock, availability (0: whole station), trigger (0: any)
	IDToken       string   // start
	TransactionID string   // stop
	Hard          bool     // reset: now, even during a transaction
	Operative     bool     // availability
	Message       string   // trigger: one of the Trigger* names
	Keys          []string // get-configuration; none: all
	Key, Value    string   // set-configuration
}

// CommandTranslator is implemented by adapters: it says a neutral command
// in the adapter's protocol. An error is the caller's (bad parameters for
// this protocol) and wraps ErrBadCommand.
type CommandTranslator interface {
	TranslateCommand(c NeutralCommand) (action string, payload []byte, err error)
}

// ErrBadCommand: the neutral command's parameters do not make a command
// of the station's protocol.
var ErrBadCommand = errors.New("csms: bad command parameters")

// BadCommandf returns an ErrBadCommand with an explanation.
func BadCommandf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrBadCommand}, args...)...)
}

// SendNeutral translates a neutral command for the station's protocol and
// sends it like Command; it returns the OCPP action used.
func (s *Service) SendNeutral(ctx context.Context, stationID string, c NeutralCommand) (string, CommandResult, error) {
	return s.sendTranslated(ctx, stationID, func(p Protocol) (string, []byte, error) {
		tr, ok := p.(CommandTranslator)
		if !ok {
			return "", nil, ErrUnknownCommand
		}
		return tr.TranslateCommand(c)
	})
}

// sendTranslated sends what build says in the protocol of the station's
// live link: the one path of version-neutral commands and billing pushes.
func (s *Service) sendTranslated(ctx context.Context, stationID string, build func(Protocol) (string, []byte, error)) (string, CommandResult, error) {
	l, ok := s.Link(stationID)
	if !ok {
		return "", CommandResult{}, ErrNotConnected
	}
	action, payload, err := build(l.proto)
	if err != nil {
		return action, CommandResult{}, err
	}
	res, err := s.Command(ctx, stationID, action, payload)
	return action, res, err
}
