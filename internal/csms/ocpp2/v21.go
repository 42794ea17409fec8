package ocpp2

import (
	"context"
	"strconv"

	"github.com/chargestar/chargestar/internal/csms"
	"github.com/chargestar/chargestar/internal/model"
	"github.com/chargestar/chargestar/internal/ocpp"
	"github.com/chargestar/chargestar/internal/ocpp/v21"
)

// What 2.1 has beyond the shared template (v21_gen.go).

// tokenTypeV21: 2.1 made the id token type an open string.
func tokenTypeV21(t string) string { return t }

// txResponseV21 adds the limit billing imposes on a running transaction
// (2.1 TransactionLimitType): the station stops by itself when the cost,
// energy or time reaches it, so a driver's hold is never exceeded even if
// the connection drops.
func txResponseV21(resp *v21.TransactionEventResponse, res csms.TxEventResult) {
	lim := res.Limit
	if lim == nil || res.Session.Status != model.SessionActive {
		return
	}
	var tl v21.TransactionLimit
	if lim.MaxCost != nil {
		v := toMajor(*lim.MaxCost, res.Session.Currency)
		tl.MaxCost = &v
	}
	if lim.MaxEnergyWh != nil {
		v := float64(*lim.MaxEnergyWh)
		tl.MaxEnergy = &v
	}
	if lim.MaxTime != nil {
		v := int(lim.MaxTime.Seconds())
		tl.MaxTime = &v
	}
	if tl.MaxCost != nil || tl.MaxEnergy != nil || tl.MaxTime != nil {
		resp.TransactionLimit = &tl
	}
}

// moreV21 handles the station messages new in 2.1 that Charge Star acts on.
func (a *Adapter) moreV21(ctx context.Context, action string, payload, dst []byte) ([]byte, bool, error) {
	switch action {
	case "NotifySettlement":
		// A payment terminal on the station settled a payment: kept as a
		// station event (billing reconciles it with the session).
		var req v21.NotifySettlementRequest
		if err := req.DecodeOCPP(payload, decodeOpts); err != nil {
			return nil, true, err
		}
		info := string(req.Status) + " " + strconv.FormatFloat(req.SettlementAmount, 'f', -1, 64) + " psp " + req.PSPRef
		if req.TransactionID != "" {
			info += " transaction " + req.TransactionID
		}
		if req.StatusInfo != "" {
			info += ": " + req.StatusInfo
		}
		ev := model.StationEvent{Kind: model.EventSettlement, Type: string(req.Status), Severity: -1, TechInfo: info,
			Payload: string(payload), Timestamp: req.SettlementTime.Time}
		if err := a.svc.StationEvents(ctx, a.link, ev); err != nil {
			return nil, true, err
		}
		// receiptUrl/receiptId of the answer are the CSMS's own receipt,
		// for the station to show as a QR code; billing has none for a
		// payment it did not take, so none is given.
		return (&v21.NotifySettlementResponse{}).AppendOCPP(dst), true, nil

	case "VatNumberValidation":
		// No VAT registry is consulted: the number is not confirmed.
		var req v21.VatNumberValidationRequest
		if err := req.DecodeOCPP(payload, decodeOpts); err != nil {
			return nil, true, err
		}
		resp := v21.VatNumberValidationResponse{VATNumber: req.VATNumber, EVSEID: req.EVSEID, Status: v21.GenericStatusRejected}
		return resp.AppendOCPP(dst), true, nil
	}
	return nil, false, nil
}

// acknowledgedV21 maps the informational messages of 2.1 to their fixed
// answers (checked against the schemas by TestAcknowledgedAnswersAreValid).
var acknowledgedV21 = func() map[string]string {
	m := map[string]string{
		"BatterySwap":              `{}`,
		"ClosePeriodicEventStream": `{}`,
		"NotifyDERAlarm":           `{}`,
		"NotifyDERStartStop":       `{}`,
		"NotifyPriorityCharging":   `{}`,
		"ReportDERControl":         `{}`,
		// A SEND: the answer is not sent, the message is kept in the log.
		"NotifyPeriodicEventStream": `{}`,
		// Charge Star does not consume event streams or dynamic schedules.
		"OpenPeriodicEventStream":   `{"status":"Rejected"}`,
		"PullDynamicScheduleUpdate": `{"status":"Rejected"}`,
		"GetCertificateChainStatus": `{"certificateStatus":[{"certificateHashData":{"hashAlgorithm":"SHA256","issuerNameHash":"-","issuerKeyHash":"-","serialNumber":"-"},"source":"OCSP","status":"Failed","nextUpdate":"1970-01-01T00:00:00Z"}]}`,
	}
	for k, v := range acknowledgedV201 {
		m[k] = v
	}
	return m
}()

// tariffV21 converts a station tariff into the 2.1 TariffType: prices in
// major units excluding tax, with the tax rate beside each component.
func tariffV21(t csms.StationTariff) v21.Tariff {
	major := func(minor int64) float64 { return toMajor(minor, t.Currency) }
	var taxes []v21.TaxRate
	if t.TaxPercent > 0 {
		name := t.TaxName
		if name == "" {
			name = "Tax"
		}
		taxes = []v21.TaxRate{{Type: name, Tax: t.TaxPercent}}
	}
	out := v21.Tariff{TariffID: t.ID, Currency: t.Currency}
	if t.Description != "" {
		lang := t.Language
		if lang == "" {
			lang = "en"
		}
		out.Description = []v21.MessageContent{{Format: "UTF8", Language: lang, Content: t.Description}}
	}
	if t.EnergyPerKWh > 0 {
		out.Energy = &v21.TariffEnergy{Prices: []v21.TariffEnergyPrice{{PriceKwh: major(t.EnergyPerKWh)}}, TaxRates: taxes}
	}
	if t.TimePerMinute > 0 {
		out.ChargingTime = &v21.TariffTime{Prices: []v21.TariffTimePrice{{PriceMinute: major(t.TimePerMinute)}}, TaxRates: taxes}
	}
	if t.IdlePerMinute > 0 {
		out.IdleTime = &v21.TariffTime{Prices: []v21.TariffTimePrice{{PriceMinute: major(t.IdlePerMinute)}}, TaxRates: taxes}
	}
	if t.FixedFee > 0 {
		out.FixedFee = &v21.TariffFixed{Prices: []v21.TariffFixedPrice{{PriceFixed: major(t.FixedFee)}}, TaxRates: taxes}
	}
	if t.MaxCostInclTax > 0 {
		v := major(t.MaxCostInclTax)
		out.MaxCost = &v21.Price{InclTax: &v}
	}
	if !t.ValidFrom.IsZero() {
		out.ValidFrom = &ocpp.DateTime{Time: t.ValidFrom}
	}
	return out
}

func defaultTariffV21(evseID int, t csms.StationTariff) (string, []byte, error) {
	msg := &v21.SetDefaultTariffRequest{EVSEID: evseID, Tariff: tariffV21(t)}
	if err := msg.Validate(); err != nil {
		return "SetDefaultTariff", nil, err
	}
	return "SetDefaultTariff", msg.AppendOCPP(nil), nil
}

func transactionTariffV21(transactionID string, t csms.StationTariff) (string, []byte, error) {
	msg := &v21.ChangeTransactionTariffRequest{TransactionID: transactionID, Tariff: tariffV21(t)}
	if err := msg.Validate(); err != nil {
		return "ChangeTransactionTariff", nil, err
	}
	return "ChangeTransactionTariff", msg.AppendOCPP(nil), nil
}
