// Package ocpp2 adapts OCPP 2.0.1-J and 2.1-J to the version-neutral core:
// it decodes the station's CALLs with the generated v201 or v21 types, calls
// csms.Service and encodes the answers; and it vets remote commands against
// the version's schemas.
//
// The two versions share almost every message, but the generated types live
// in two packages. The 2.0.1 code (v201.go) is therefore written once and
// v21_gen.go is generated from it by renaming (go generate; see
// internal/csms/ocpp2/gen21); what only 2.1 has (transaction limits,
// settlements, the new notifications) is hand-written in v21.go.
//
// A 2.x station reports connectors per EVSE, with five statuses, and the
// state of charging inside its transaction events. The rest of Charge Star
// sees one connector per EVSE (connector_id = EVSE id) with the nine 1.6
// statuses: evseTracker (status.go) derives them from both sources.
package ocpp2

import (
	"context"
	"github.com/chargestar/chargestar/internal/billing"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/chargestar/chargestar/internal/csms"
	"github.com/chargestar/chargestar/internal/model"
	"github.com/chargestar/chargestar/internal/ocpp"
	"github.com/chargestar/chargestar/internal/ocpp/ocppj"
)

// Subprotocol names.
const (
	Version201 = "ocpp2.0.1"
	Version21  = "ocpp2.1"
)

// Adapter serves one 2.x station link.
type Adapter struct {
	svc     *csms.Service
	link    *csms.Link
	version string
	evses   evseTracker

	handle   func(a *Adapter, ctx context.Context, action string, payload, dst []byte) ([]byte, error)
	check    func(action string, payload []byte) error
	answered func(a *Adapter, ctx context.Context, action string, request, response []byte)
}

// New201 returns the adapter for a 2.0.1 link.
func New201(svc *csms.Service, l *csms.Link) *Adapter {
	return newAdapter(svc, l, Version201, (*Adapter).handleV201, checkV201, (*Adapter).answeredV201)
}

// New21 returns the adapter for a 2.1 link.
func New21(svc *csms.Service, l *csms.Link) *Adapter {
	return newAdapter(svc, l, Version21, (*Adapter).handleV21, checkV21, (*Adapter).answeredV21)
}

func newAdapter(svc *csms.Service, l *csms.Link, version string,
	handle func(*Adapter, context.Context, string, []byte, []byte) ([]byte, error),
	check func(string, []byte) error,
	answered func(*Adapter, context.Context, string, []byte, []byte)) *Adapter {
	l.TransactionsOutliveStatus()
	return &Adapter{svc: svc, link: l, version: version, handle: handle, check: check, answered: answered}
}

// Version implements csms.Protocol.
func (a *Adapter) Version() string { return a.version }

// CheckCommand implements csms.Protocol.
func (a *Adapter) CheckCommand(action string, payload []byte) error { return a.check(action, payload) }

// CommandAnswered implements csms.CommandObserver.
func (a *Adapter) CommandAnswered(ctx context.Context, action string, request, response []byte) {
	a.answered(a, ctx, action, request, response)
}

// allowedBeforeAccepted are the messages a station may send while its
// registration is Pending (B02.FR.01–03: it answers the CSMS's requests,
// and a GetBaseReport is answered with NotifyReport messages).
var allowedBeforeAccepted = map[string]bool{"BootNotification": true, "NotifyReport": true}

// HandleCall implements ocppj.Handler.
func (a *Adapter) HandleCall(ctx context.Context, action string, payload []byte, dst []byte) ([]byte, error) {
	if !allowedBeforeAccepted[action] && !a.link.Accepted() {
		return nil, csms.ErrNotAccepted
	}
	out, err := a.handle(a, ctx, action, payload, dst)
	if err != nil {
		return nil, a.svc.AnswerError(a.link, action, err)
	}
	return out, nil
}

// decodeOpts: unknown properties are skipped, not refused (vendors add
// fields; refusing a TransactionEvent over one would lose a billable
// session); every other schema rule is enforced.
var decodeOpts = ocpp.DecodeOptions{}

// strictOpts is for our own commands: what we send must be exact.
var strictOpts = ocpp.DecodeOptions{DisallowUnknownFields: true}

// unsupported answers an action the CSMS does not take from stations.
func unsupported(action string, known, fromStation bool) error {
	if known && !fromStation {
		return ocppj.Errorf(ocppj.NotSupported, "%s is sent by the CSMS, not by a Charging Station", action)
	}
	return ocppj.Errorf(ocppj.NotImplemented, "unknown action %q", action)
}

// sample converts a 2.x sampled value into the neutral form: the number
// as text with the unit multiplier applied, so that an energy register in
// kWh×10³ reads as the Wh it is.
// A signed value's signature is kept in the message log only.
func sample(value float64, context, measurand, phase, location, unit string, multiplier *int) model.SampledValue {
	text := strconv.FormatFloat(value, 'f', -1, 64)
	if multiplier != nil && *multiplier != 0 {
		// Shift the decimal point of the shortest text of the number the
		// station sent: exact, where value*10^m in binary is not.
		if t, ok := csms.ShiftDecimal(text, *multiplier); ok {
			text = t
		} else {
			text = strconv.FormatFloat(value*math.Pow10(*multiplier), 'f', -1, 64)
		}
	}
	return model.SampledValue{Value: text, Context: context, Measurand: measurand, Phase: phase, Location: location, Unit: unit}
}

// toMajor converts minor units into the decimal amount OCPP carries, with
// the currency's minor-unit exponent from billing (two decimals for a
// currency it does not know).
func toMajor(minor int64, currency string) float64 {
	digits, ok := billing.MinorUnits(currency)
	if !ok {
		digits = 2
	}
	return float64(minor) / math.Pow10(digits)
}

// noToken: the transaction runs without an id token (free vend, or the
// token is not known yet).
func noToken(tokenType string) bool { return tokenType == "NoAuthorization" }

// authorize answers an Authorize.
func (a *Adapter) authorize(ctx context.Context, idToken, tokenType string) (csms.AuthResult, error) {
	if noToken(tokenType) {
		return csms.AuthResult{Status: csms.AuthAccepted}, nil
	}
	return a.svc.Authorize(ctx, a.link, idToken)
}

// connectorStatus records a 2.x connector status as its EVSE's 1.6 status.
// Every report is recorded (history and timestamps); the raw 2.x status is
// kept in the event's info.
func (a *Adapter) connectorStatus(ctx context.Context, evse, connector int, status string, at time.Time) error {
	st, _ := a.evses.connector(evse, connector, status)
	if evse == 0 {
		// The station as a whole (no 2.x equivalent of 1.6 connector 0
		// exists, but be lenient with stations that send it).
		st = status
		if st == connOccupied {
			st = "Preparing"
		}
	}
	if st == "" {
		return nil
	}
	return a.svc.StatusNotification(ctx, a.link, model.StatusEvent{ConnectorID: evse, Status: st, ErrorCode: "NoError",
		Info: "connector " + strconv.Itoa(connector) + ": " + status, Timestamp: at})
}

// transactionProgress records the EVSE status a transaction event implies
// (Charging, SuspendedEV …) when it changed.
func (a *Adapter) transactionProgress(ctx context.Context, sess model.Session, ev csms.TxEvent) {
	evse := ev.EVSEID
	if evse == 0 {
		evse = sess.ConnectorID
	}
	if evse == 0 {
		return
	}
	st, changed := a.evses.transaction(evse, ev.EventType != csms.TxEnded, ev.ChargingState)
	if !changed {
		return
	}
	info := "transaction " + ev.EventType
	if ev.ChargingState != "" {
		info += ", " + ev.ChargingState
	}
	err := a.svc.StatusNotification(ctx, a.link, model.StatusEvent{ConnectorID: evse, Status: st, ErrorCode: "NoError",
		Info: info, Timestamp: ev.Timestamp})
	if err != nil {
		a.svc.Logger().Warn("recording a derived connector status failed", "station_id", a.link.StationID, "evse_id", evse, "err", err)
	}
}

// storeVariables records device-model values a command read or wrote.
func (a *Adapter) storeVariables(ctx context.Context, vars []model.StationVariable) {
	if err := a.svc.DeviceModel(ctx, a.link, vars); err != nil {
		a.svc.Logger().Warn("storing device-model values failed", "station_id", a.link.StationID, "err", err)
	}
}

// TranslateCommand implements csms.CommandTranslator.
func (a *Adapter) TranslateCommand(c csms.NeutralCommand) (string, []byte, error) {
	if a.version == Version21 {
		return translateV21(c)
	}
	return translateV201(c)
}

// splitKey splits a configuration key "Component.Variable".
func splitKey(k string) (component, variable string, ok bool) {
	component, variable, ok = strings.Cut(k, ".")
	return component, variable, ok && component != "" && variable != ""
}

// remoteStartID numbers a remote start (2.x remoteStartId): random, so that
// ids stay distinct across restarts and nodes without coordination.
func remoteStartID() int { return 1 + rand.IntN(math.MaxInt32-1) }

// CostUpdate implements csms.BillingTranslator.
func (a *Adapter) CostUpdate(transactionID string, c csms.Cost) (string, []byte, error) {
	if a.version == Version21 {
		return costUpdateV21(transactionID, c)
	}
	return costUpdateV201(transactionID, c)
}

// DefaultTariff implements csms.BillingTranslator.
func (a *Adapter) DefaultTariff(evseID int, t csms.StationTariff) (string, []byte, error) {
	if a.version == Version21 {
		return defaultTariffV21(evseID, t)
	}
	return defaultTariffV201(evseID, t)
}

// TransactionTariff implements csms.BillingTranslator.
func (a *Adapter) TransactionTariff(transactionID string, t csms.StationTariff) (string, []byte, error) {
	if a.version == Version21 {
		return transactionTariffV21(transactionID, t)
	}
	return transactionTariffV201(transactionID, t)
}

// attributeType is a variable attribute's type, Actual when absent (the
// schema's default).
func attributeType(t string) string {
	if t == "" {
		return "Actual"
	}
	return t
}
