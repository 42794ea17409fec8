package ocpp2

import (
	"context"

	"github.com/chargestar/chargestar/internal/csms"
	"github.com/chargestar/chargestar/internal/ocpp/v201"
)

// What differs in 2.0.1 from the shared template (v201.go).

func tokenTypeV201(t string) v201.IDTokenEnum { return v201.IDTokenEnum(t) }

// txResponseV201: 2.0.1 has no transaction limits.
func txResponseV201(*v201.TransactionEventResponse, csms.TxEventResult) {}

// moreV201: 2.0.1 has no station messages beyond the template's.
func (a *Adapter) moreV201(context.Context, string, []byte, []byte) ([]byte, bool, error) {
	return nil, false, nil
}

// acknowledgedV201 maps the informational messages to their fixed answers
// (checked against the schemas by TestAcknowledgedAnswersAreValid).
var acknowledgedV201 = map[string]string{
	"ClearedChargingLimit":              `{}`,
	"NotifyChargingLimit":               `{}`,
	"NotifyCustomerInformation":         `{}`,
	"NotifyDisplayMessages":             `{}`,
	"NotifyMonitoringReport":            `{}`,
	"PublishFirmwareStatusNotification": `{}`,
	"ReportChargingProfiles":            `{}`,
	"ReservationStatusUpdate":           `{}`,
	// No schedule will follow: Charge Star does not plan ISO 15118 charging.
	"NotifyEVChargingNeeds":    `{"status":"Rejected"}`,
	"NotifyEVChargingSchedule": `{"status":"Accepted"}`,
	// No ISO 15118 PKI yet.
	"Get15118EVCertificate": `{"status":"Failed","exiResponse":""}`,
	"GetCertificateStatus":  `{"status":"Failed"}`,
}

// 2.0.1 stations cannot apply tariffs themselves.
func defaultTariffV201(int, csms.StationTariff) (string, []byte, error) {
	return "", nil, csms.ErrUnknownCommand
}

func transactionTariffV201(string, csms.StationTariff) (string, []byte, error) {
	return "", nil, csms.ErrUnknownCommand
}
