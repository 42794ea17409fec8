package csms

import (
	"errors"

	"github.com/chargestar/chargestar/internal/ocpp"
	"github.com/chargestar/chargestar/internal/ocpp/ocppj"
)

// CallErrorFor turns a payload validation error into the RPC error to
// answer with; other errors pass through unchanged.
func CallErrorFor(err error) error {
	var ve *ocpp.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	code := ocppj.FormationViolation
	switch ve.Kind {
	case ocpp.KindType:
		code = ocppj.TypeConstraintViolation
	case ocpp.KindOccurrence:
		code = ocppj.OccurrenceConstraintViolation
	case ocpp.KindProperty:
		code = ocppj.PropertyConstraintViolation
	}
	desc := ve.Msg
	if ve.Path != "" {
		desc = ve.Path + ": " + ve.Msg
	}
	return &ocppj.CallError{Code: code, Description: truncate(desc, 255)}
}

// AnswerError turns an adapter's error into what the station is answered:
// payload problems become the matching RPC error, RPC errors pass through,
// and anything else (a database failure, say) is logged with its cause and
// answered InternalError without details.
func (s *Service) AnswerError(l *Link, action string, err error) error {
	var ce *ocppj.CallError
	if errors.As(err, &ce) {
		return ce
	}
	var ve *ocpp.ValidationError
	if errors.As(err, &ve) {
		return CallErrorFor(ve)
	}
	s.log.Error("handling a station message failed", "station_id", l.StationID, "action", action, "err", err)
	return &ocppj.CallError{Code: ocppj.InternalError, Description: "internal error; the message was not processed, please retry"}
}

// ErrNotAccepted is answered to a station that sends anything but a
// BootNotification before being accepted (OCPP 2.0.1 B02.FR.09/B03.FR.07;
// 1.6 §4.2 forbids the station to send them).
var ErrNotAccepted = &ocppj.CallError{Code: ocppj.SecurityError, Description: "station not accepted: send BootNotification first"}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
