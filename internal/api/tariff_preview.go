package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/chargestar/chargestar/internal/access"
	"github.com/chargestar/chargestar/internal/billing"
	"github.com/chargestar/chargestar/internal/model"
	"github.com/chargestar/chargestar/internal/store"
)

// The tariff preview: what example sessions would cost under a tariff
// being edited (or a stored one), priced by the billing engine itself —
// billing.Price, the function that prices real sessions — so the console's
// live preview can never disagree with the bill.

// TariffPreviewRequest is the body of POST /api/v1/tariff-preview.
type TariffPreviewRequest struct {
	OperatorID string                 `json:"operator_id,omitempty" doc:"The operator whose currency and time zone apply. An operator token may omit it (its own); an administrator token must give it with a tariff object (with tariff_id the tariff's operator applies)."`
	Tariff     json.RawMessage        `json:"tariff,omitempty" doc:"An OCPI Tariff object, as in POST /tariffs (not stored). Give this or tariff_id."`
	TariffID   string                 `json:"tariff_id,omitempty" doc:"A stored tariff to preview instead of a tariff object."`
	Sessions   []TariffPreviewSession `json:"sessions,omitempty" doc:"Example sessions to price (at most 20); omitted: one 40 kWh, one-hour session."`
	Timezone   string                 `json:"timezone,omitempty" doc:"IANA time zone of the sessions' wall clock (time-of-day prices); default: the time zone of the operator's first site that has one, else Australia/Sydney for an AU operator, else UTC."`
}

// TariffPreviewSession is one example session: it charges for duration_s
// (or minutes), delivering energy_wh evenly, then stays plugged in, idle,
// for idle_s.
type TariffPreviewSession struct {
	EnergyWh  int64  `json:"energy_wh" minimum:"0" maximum:"1000000" doc:"Energy delivered, Wh."`
	DurationS int64  `json:"duration_s,omitempty" minimum:"0" maximum:"604800" doc:"Charging time, seconds. Give this or minutes."`
	Minutes   int64  `json:"minutes,omitempty" minimum:"0" maximum:"10080" doc:"Charging time, minutes (instead of duration_s)."`
	Start     string `json:"start,omitempty" format:"date-time" doc:"When the session starts (RFC 3339); default: now."`
	IdleS     int64  `json:"idle_s,omitempty" minimum:"0" maximum:"604800" doc:"Time plugged in after charging, not charging (parking/idle fees), seconds."`
	MaxPowerW int64  `json:"max_power_w,omitempty" minimum:"0" maximum:"1000000" doc:"The connector's power, W: the energy is delivered at this power and the rest of the charging time is spent suspended (not charging, so it counts as idle). 400 when the energy cannot be delivered in the time at this power."`
}

// TariffPreview is the answer of POST /api/v1/tariff-preview.
type TariffPreview struct {
	Currency         string              `json:"currency" example:"AUD"`
	Timezone         string              `json:"timezone" doc:"The time zone the sessions were priced in."`
	PricesIncludeTax bool                `json:"prices_include_tax" doc:"The tariff's prices (and the lines' amounts) include tax."`
	TaxName          string              `json:"tax_name,omitempty" example:"GST"`
	Description      TariffDescription   `json:"description" doc:"The tariff in plain words, as drivers see it."`
	Items            []TariffPreviewItem `json:"items" doc:"One per session, in the order given."`
}

// TariffPreviewItem is one example session and its price.
type TariffPreviewItem struct {
	EnergyWh  int64               `json:"energy_wh"`
	DurationS int64               `json:"duration_s" doc:"Charging time, seconds."`
	IdleS     int64               `json:"idle_s"`
	MaxPowerW int64               `json:"max_power_w,omitempty"`
	Start     time.Time           `json:"start"`
	Stop      time.Time           `json:"stop"`
	Summary   string              `json:"summary" doc:"The session and its price in words." example:"a 40 kWh, 1 h session costs $23.00"`
	Total     int64               `json:"total" doc:"What the driver pays, minor units, tax included."`
	Tax       int64               `json:"tax" doc:"The tax (GST) within total, minor units."`
	ExclTax   int64               `json:"excl_tax" doc:"total − tax."`
	Lines     []TariffPreviewLine `json:"lines" doc:"The receipt's lines: itemised components (session fee, energy, charging time, idle, min/max price adjustments)."`
}

// TariffPreviewLine is one receipt line of a preview.
type TariffPreviewLine struct {
	Kind        string `json:"kind" enum:"session_fee,energy,charging_time,idle,reservation_fee,reservation_time,minimum_price,maximum_price"`
	Description string `json:"description" example:"Energy 40.000 kWh × $0.55/kWh"`
	Quantity    string `json:"quantity" doc:"Billed quantity in unit (after step sizes), a decimal." example:"40.000"`
	Unit        string `json:"unit" example:"kWh"`
	UnitPrice   string `json:"unit_price" doc:"The component's price per unit in major units, in the tariff's price basis, a decimal." example:"0.55"`
	Amount      int64  `json:"amount" doc:"Minor units, in the tariff's price basis (tax included when prices_include_tax)."`
}

// Bounds of a preview request.
const (
	maxPreviewSessions = 20
	maxPreviewSeconds  = 7 * 24 * 3600
	maxPreviewWh       = 1_000_000
)

// The route is /tariff-preview, not /tariffs/preview: under /tariffs/ the
// {tariffId} routes (GET, PUT, DELETE) would serve /tariffs/preview as the
// tariff "preview" (404) where every other documented path answers 405 to
// a method it does not have (TestOpenAPIDocumentListsExactlyTheServedRoutes).
func (h *handler) tariffPreviewRoutes() []route {
	return []route{
		{method: "POST", pattern: "/api/v1/tariff-preview", need: access.View, handle: h.previewTariff,
			id: "previewTariff", tag: tagTariffs, summary: "Price example sessions under a tariff (nothing is stored)",
			desc: "Prices each example session with the billing engine that prices real sessions, and describes the tariff in plain words: " +
				"what the console's tariff editor shows as you type. Give a tariff object (validated as in POST /tariffs: 400 invalid_tariff " +
				"with the message) or the id of a stored tariff.",
			body: TariffPreviewRequest{}, ok: 200, resp: TariffPreview{}, errs: []int{e400, e401, e404, e413}},
	}
}

func (h *handler) previewTariff(w http.ResponseWriter, r *http.Request, p principal) error {
	var req TariffPreviewRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		return err
	}
	ctx := r.Context()
	hasBody := len(strings.TrimSpace(string(req.Tariff))) > 0 && strings.TrimSpace(string(req.Tariff)) != "null"
	var (
		o    model.Operator
		body []byte
		err  error
	)
	switch {
	case hasBody && req.TariffID != "":
		return invalid("tariff_id", "give either tariff or tariff_id, not both")
	case req.TariffID != "":
		t, err := h.store.GetTariff(ctx, p.scope(), req.TariffID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && req.OperatorID != "" && t.OperatorID != req.OperatorID) {
			return notFound("tariff", req.TariffID)
		}
		if err != nil {
			return err
		}
		if o, err = h.getOperatorByID(ctx, t.OperatorID); err != nil {
			return err
		}
		body = t.Body
	case hasBody:
		opID, err := p.ownerFor(req.OperatorID)
		if err != nil {
			return err
		}
		if o, err = h.getOperatorByID(ctx, opID); err != nil {
			return err
		}
		if body, err = checkTariff(req.Tariff, o); err != nil {
			return err
		}
	default:
		return invalid("tariff", "is required (or tariff_id)")
	}
	tariff, err := billing.ParseTariff(body)
	if err != nil {
		return errorf(http.StatusBadRequest, codeInvalidTariff, "tariff: %s", cleanErr(err))
	}

	tzName := req.Timezone
	if tzName == "" {
		if tzName, err = h.operatorTimezone(r, o); err != nil {
			return err
		}
	}
	loc, err := time.LoadLocation(tzName)
	if err != nil || tzName == "Local" {
		return invalid("timezone", "%q is not an IANA time zone", tzName)
	}

	sessions := req.Sessions
	if len(sessions) == 0 {
		sessions = []TariffPreviewSession{{EnergyWh: 40_000, DurationS: 3600}}
	}
	if len(sessions) > maxPreviewSessions {
		return invalid("sessions", "at most %d sessions", maxPreviewSessions)
	}
	desc, err := billing.Describe(tariff, billing.DescribeOptions{Location: loc})
	if err != nil {
		return errorf(http.StatusBadRequest, codeInvalidTariff, "tariff: %s", cleanErr(err))
	}
	out := TariffPreview{Currency: tariff.Currency, Timezone: loc.String(), Description: describe(desc), Items: make([]TariffPreviewItem, 0, len(sessions))}
	now := h.now().Truncate(time.Second)
	for i, s := range sessions {
		usage, item, err := previewUsage(fmt.Sprintf("sessions[%d]", i), s, now, loc)
		if err != nil {
			return err
		}
		cost, err := billing.Price(tariff, loc, usage)
		if err != nil {
			return errorf(http.StatusBadRequest, codeInvalidTariff, "%s: %s", fmt.Sprintf("sessions[%d]", i), cleanErr(err))
		}
		out.PricesIncludeTax, out.TaxName = cost.PricesIncludeTax, cost.TaxName
		item.Total, item.Tax, item.ExclTax = cost.Total, cost.Tax, cost.ExclTax
		item.Summary = previewSummary(item, tariff.Currency)
		item.Lines = make([]TariffPreviewLine, len(cost.Lines))
		for j, l := range cost.Lines {
			item.Lines[j] = TariffPreviewLine{Kind: string(l.Kind), Description: l.Description, Quantity: decimalText(l.Quantity),
				Unit: l.Unit, UnitPrice: decimalText(l.UnitPrice), Amount: l.Amount}
		}
		out.Items = append(out.Items, item)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// operatorTimezone is the default time zone of an operator's prices: its
// first site's (by id) that names one, else Australia/Sydney in Australia,
// else UTC.
func (h *handler) operatorTimezone(r *http.Request, o model.Operator) (string, error) {
	sites, err := h.store.ListSites(r.Context(), o.ID)
	if err != nil {
		return "", err
	}
	for _, s := range sites {
		if s.Timezone != "" {
			return s.Timezone, nil
		}
	}
	if o.Country == "AU" {
		return "Australia/Sydney", nil
	}
	return "UTC", nil
}

// previewUsage checks an example session and builds its timeline: from
// start, charging (at max_power_w if given, else evenly) for the charging
// time, then idle.
func previewUsage(field string, s TariffPreviewSession, now time.Time, loc *time.Location) (billing.Usage, TariffPreviewItem, error) {
	var item TariffPreviewItem
	if s.EnergyWh < 0 || s.EnergyWh > maxPreviewWh {
		return billing.Usage{}, item, invalid(field+".energy_wh", "must be from 0 to %d", maxPreviewWh)
	}
	if s.DurationS != 0 && s.Minutes != 0 {
		return billing.Usage{}, item, invalid(field+".minutes", "give duration_s or minutes, not both")
	}
	dur := s.DurationS
	if s.Minutes != 0 {
		if s.Minutes < 0 || s.Minutes > maxPreviewSeconds/60 {
			return billing.Usage{}, item, invalid(field+".minutes", "must be from 1 to %d", maxPreviewSeconds/60)
		}
		dur = s.Minutes * 60
	}
	if dur <= 0 || dur > maxPreviewSeconds {
		return billing.Usage{}, item, invalid(field+".duration_s", "is required: from 1 to %d seconds (or minutes)", maxPreviewSeconds)
	}
	if s.IdleS < 0 || s.IdleS > maxPreviewSeconds {
		return billing.Usage{}, item, invalid(field+".idle_s", "must be from 0 to %d", maxPreviewSeconds)
	}
	if s.MaxPowerW < 0 || s.MaxPowerW > 1_000_000 {
		return billing.Usage{}, item, invalid(field+".max_power_w", "must be from 0 to 1000000")
	}
	start := now.In(loc)
	if s.Start != "" {
		t, err := time.Parse(time.RFC3339, s.Start)
		if err != nil {
			return billing.Usage{}, item, invalid(field+".start", "must be an RFC 3339 time, e.g. 2026-03-02T10:00:00+11:00")
		}
		start = t.In(loc)
	}
	charging := time.Duration(dur) * time.Second
	if s.MaxPowerW > 0 {
		// Wh·3600/W seconds at full power, rounded up to the second.
		need := time.Duration((s.EnergyWh*3600+s.MaxPowerW-1)/s.MaxPowerW) * time.Second
		if need > charging {
			return billing.Usage{}, item, invalid(field+".max_power_w", "%d Wh at %d W takes %s, more than the charging time %s",
				s.EnergyWh, s.MaxPowerW, need, charging)
		}
		charging = need
	}
	stop := start.Add(time.Duration(dur+s.IdleS) * time.Second)
	yes, no := true, false
	samples := []billing.Sample{{At: start, EnergyWh: 0, Charging: &yes}}
	if charging > 0 {
		samples = append(samples, billing.Sample{At: start.Add(charging), EnergyWh: s.EnergyWh, Charging: &no})
	}
	item = TariffPreviewItem{EnergyWh: s.EnergyWh, DurationS: dur, IdleS: s.IdleS, MaxPowerW: s.MaxPowerW, Start: start.UTC(), Stop: stop.UTC()}
	return billing.Usage{Start: start, Stop: stop, Samples: samples}, item, nil
}

// previewSummary says an example session and its price in words: "a 40
// kWh, 1 h session costs $23.00" (as billing.Describe's example says it).
func previewSummary(it TariffPreviewItem, currency string) string {
	kwh := billing.NewDecimal(it.EnergyWh, 3).StringFixed(3)
	kwh = strings.TrimRight(strings.TrimRight(kwh, "0"), ".")
	s := fmt.Sprintf("a %s kWh, %s session", kwh, billing.FormatDuration(time.Duration(it.DurationS)*time.Second))
	if it.IdleS > 0 {
		s += fmt.Sprintf(" with %s idle", billing.FormatDuration(time.Duration(it.IdleS)*time.Second))
	}
	return s + " costs " + billing.FormatMoney(it.Total, currency)
}

// decimalText writes d in decimals: exactly when its expansion ends, else
// to six places (10 s is 1/360 h).
func decimalText(d billing.Decimal) string {
	if s := d.String(); !strings.Contains(s, "/") {
		return s
	}
	return d.StringFixed(6)
}
