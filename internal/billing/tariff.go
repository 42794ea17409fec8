package billing

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Dimension is what a price component charges for (OCPI TariffDimensionType).
type Dimension string

const (
	// DimEnergy is charged per kWh; step_size is in Wh.
	DimEnergy Dimension = "ENERGY"
	// DimFlat is a fixed fee per session (per reservation in a
	// reservation element); step_size does not apply.
	DimFlat Dimension = "FLAT"
	// DimParkingTime is charged per hour plugged in and not charging
	// ("idle"); step_size is in seconds.
	DimParkingTime Dimension = "PARKING_TIME"
	// DimTime is charged per hour charging (per hour reserved in a
	// reservation element); step_size is in seconds.
	DimTime Dimension = "TIME"
)

// TariffType is the OCPI tariff type; it does not change how a session is
// priced, only which tariff applies to it.
type TariffType string

// OCPI tariff types.
const (
	TariffAdHocPayment TariffType = "AD_HOC_PAYMENT"
	TariffProfileCheap TariffType = "PROFILE_CHEAP"
	TariffProfileFast  TariffType = "PROFILE_FAST"
	TariffProfileGreen TariffType = "PROFILE_GREEN"
	TariffRegular      TariffType = "REGULAR"
)

// ReservationRestriction marks an element as pricing a reservation rather
// than the charging session.
type ReservationRestriction string

const (
	// Reservation elements price a reservation, used or expired.
	Reservation ReservationRestriction = "RESERVATION"
	// ReservationExpires elements price a reservation that expired without
	// a charging session; they take precedence over Reservation elements
	// for such reservations.
	ReservationExpires ReservationRestriction = "RESERVATION_EXPIRES"
)

// TaxIncluded is OCPI 2.3's statement of whether the tariff's prices
// include taxes.
type TaxIncluded string

// OCPI 2.3 TaxIncluded values; "" is a 2.2.1 tariff that does not say
// (prices exclude VAT, and each component's vat is added).
const (
	TaxIncludedYes TaxIncluded = "YES"
	TaxIncludedNo  TaxIncluded = "NO"
	TaxIncludedNA  TaxIncluded = "N/A"
)

// Tariff is a tariff in the OCPI 2.2.1 Tariff object shape, with the OCPI
// 2.3 tax_included field and Charge Star's extensions. It is frozen when a
// session starts and priced with Price.
//
// JSON is the OCPI object; the Charge Star extensions live in one object
// under the key "chargestar" so that they cannot collide with a future
// OCPI field and an OCPI peer can ignore them:
//
//	"chargestar": {
//	  "tax": {"name": "GST", "rate": 0.1, "included": true, "rounding": "half_up"},
//	  "parking_grace_seconds": 900,
//	  "hold_amount": 5000,
//	  "charge_zero_energy": false
//	}
type Tariff struct {
	CountryCode string
	PartyID     string
	ID          string
	// Currency is the ISO 4217 code of every price in the tariff.
	Currency string
	Type     TariffType
	AltText  []DisplayText
	AltURL   string
	// MinPrice and MaxPrice bound the session total (OCPI min_price and
	// max_price); nil when unbounded.
	MinPrice *PriceBound
	MaxPrice *PriceBound
	Elements []Element
	// StartDateTime and EndDateTime bound when the tariff may be chosen for
	// a new session (see ActiveAt); a session keeps the tariff it started
	// with, so they do not affect pricing.
	StartDateTime *time.Time
	EndDateTime   *time.Time
	// EnergyMix is kept as received; pricing does not read it.
	EnergyMix   json.RawMessage
	TaxIncluded TaxIncluded
	LastUpdated time.Time

	// Charge Star extensions.

	// Tax is the operator's tax rule: one rate for every component, whether
	// component prices include it (Australian operators quote GST
	// inclusive), and how it is rounded. When nil, tax follows OCPI: each
	// component's vat percentage on prices that exclude it.
	Tax *Tax
	// ParkingGrace is idle time that is free: the first ParkingGrace of
	// every continuous stretch of plugged-in-not-charging time is not
	// billed as PARKING_TIME. Zero means none.
	ParkingGrace time.Duration
	// HoldAmount is the pre-authorisation taken on the driver's card when
	// the driver sets no budget, in minor units, tax included. Zero means
	// the tariff has none (see HoldFor).
	HoldAmount int64
	// ChargeZeroEnergy: a session that delivered no energy (the car was
	// full, the cable faulty) still pays what the tariff prices without
	// energy (its FLAT session fee, parking). By default such a session is
	// free and its hold released: a driver who got nothing pays nothing.
	ChargeZeroEnergy bool
}

// Element is an OCPI TariffElement: price components that apply while its
// restrictions hold.
type Element struct {
	PriceComponents []PriceComponent `json:"price_components"`
	Restrictions    *Restrictions    `json:"restrictions,omitempty"`
}

// PriceComponent is one price of one dimension (OCPI PriceComponent).
type PriceComponent struct {
	Type Dimension `json:"type"`
	// Price per unit (kWh, hour, or the fee), in major units of the
	// tariff's currency, excluding tax unless the tariff says prices
	// include it (Tax.Included, or tax_included YES).
	Price Decimal `json:"price"`
	// VAT is the OCPI 2.2.1 VAT percentage of this component (10 for
	// 10%); nil means none applies. With a Tax it must be absent or equal
	// Tax's rate.
	VAT *Decimal `json:"vat,omitempty"`
	// StepSize is the billing block: Wh for ENERGY, seconds for TIME and
	// PARKING_TIME, ignored for FLAT. 0 and 1 mean no rounding beyond the
	// unit.
	StepSize int64 `json:"step_size"`
}

// Restrictions say when an element applies (OCPI TariffRestrictions). Every
// restriction that is set must hold; times and dates are the site's local
// time. Lower bounds are inclusive and upper bounds exclusive.
type Restrictions struct {
	StartTime   string                 `json:"start_time,omitempty"` // "HH:MM", local, inclusive
	EndTime     string                 `json:"end_time,omitempty"`   // "HH:MM", local, exclusive; before StartTime crosses midnight
	StartDate   string                 `json:"start_date,omitempty"` // "YYYY-MM-DD", local, inclusive
	EndDate     string                 `json:"end_date,omitempty"`   // "YYYY-MM-DD", local, exclusive
	MinKWh      *Decimal               `json:"min_kwh,omitempty"`    // energy so far in the session
	MaxKWh      *Decimal               `json:"max_kwh,omitempty"`
	MinCurrent  *Decimal               `json:"min_current,omitempty"` // A, summed over phases
	MaxCurrent  *Decimal               `json:"max_current,omitempty"`
	MinPower    *Decimal               `json:"min_power,omitempty"` // kW
	MaxPower    *Decimal               `json:"max_power,omitempty"`
	MinDuration *int64                 `json:"min_duration,omitempty"` // seconds since the session started
	MaxDuration *int64                 `json:"max_duration,omitempty"`
	DayOfWeek   []string               `json:"day_of_week,omitempty"` // "MONDAY" … "SUNDAY", local
	Reservation ReservationRestriction `json:"reservation,omitempty"`
}

// PriceBound is an amount with and without tax (OCPI Price), in major units;
// used for min_price and max_price. Either side may be absent.
//
// It reads both the OCPI 2.2.1 shape {"excl_vat", "incl_vat"} and the 2.3
// shape {"before_taxes", "taxes": [{"name", "percentage", "amount"}]}
// (incl = before_taxes + the taxes' amounts); it is written in the 2.2.1
// shape.
type PriceBound struct {
	ExclVAT *Decimal
	InclVAT *Decimal
}

// DisplayText is a text in one language (OCPI DisplayText).
type DisplayText struct {
	Language string `json:"language"`
	Text     string `json:"text"`
}

// ActiveAt reports whether the tariff may be chosen for a session starting
// at t (start_date_time inclusive, end_date_time exclusive).
func (t *Tariff) ActiveAt(at time.Time) bool {
	if t.StartDateTime != nil && at.Before(*t.StartDateTime) {
		return false
	}
	if t.EndDateTime != nil && !at.Before(*t.EndDateTime) {
		return false
	}
	return true
}

// ParseTariff reads a tariff from JSON (an OCPI Tariff object, optionally
// with Charge Star extensions) and validates it.
func ParseTariff(data []byte) (*Tariff, error) {
	var t Tariff
	if err := json.Unmarshal(data, &t); err != nil {
		return nil, fmt.Errorf("billing: tariff: %w", err)
	}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	return &t, nil
}

type priceWire struct {
	ExclVAT     *Decimal `json:"excl_vat,omitempty"`
	InclVAT     *Decimal `json:"incl_vat,omitempty"`
	BeforeTaxes *Decimal `json:"before_taxes,omitempty"`
	Taxes       []struct {
		Name       string   `json:"name"`
		Percentage *Decimal `json:"percentage,omitempty"`
		Amount     Decimal  `json:"amount"`
	} `json:"taxes,omitempty"`
}

// UnmarshalJSON reads the 2.2.1 or 2.3 Price shape.
func (p *PriceBound) UnmarshalJSON(b []byte) error {
	var w priceWire
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*p = PriceBound{ExclVAT: w.ExclVAT, InclVAT: w.InclVAT}
	if w.BeforeTaxes != nil {
		if p.ExclVAT != nil {
			return fmt.Errorf("price has both excl_vat and before_taxes")
		}
		p.ExclVAT = w.BeforeTaxes
		if len(w.Taxes) > 0 && p.InclVAT == nil {
			incl := *w.BeforeTaxes
			for _, tx := range w.Taxes {
				incl = incl.Add(tx.Amount)
			}
			p.InclVAT = &incl
		}
	}
	return nil
}

// MarshalJSON writes the 2.2.1 shape.
func (p PriceBound) MarshalJSON() ([]byte, error) {
	return json.Marshal(priceWire{ExclVAT: p.ExclVAT, InclVAT: p.InclVAT})
}

type tariffWire struct {
	CountryCode   string          `json:"country_code,omitempty"`
	PartyID       string          `json:"party_id,omitempty"`
	ID            string          `json:"id,omitempty"`
	Currency      string          `json:"currency"`
	Type          TariffType      `json:"type,omitempty"`
	AltText       []DisplayText   `json:"tariff_alt_text,omitempty"`
	AltURL        string          `json:"tariff_alt_url,omitempty"`
	MinPrice      *PriceBound     `json:"min_price,omitempty"`
	MaxPrice      *PriceBound     `json:"max_price,omitempty"`
	Elements      []Element       `json:"elements"`
	StartDateTime string          `json:"start_date_time,omitempty"`
	EndDateTime   string          `json:"end_date_time,omitempty"`
	EnergyMix     json.RawMessage `json:"energy_mix,omitempty"`
	TaxIncluded   TaxIncluded     `json:"tax_included,omitempty"`
	LastUpdated   string          `json:"last_updated,omitempty"`
	ChargeStar    *extensionsWire `json:"chargestar,omitempty"`
}

type extensionsWire struct {
	Tax                 *Tax  `json:"tax,omitempty"`
	ParkingGraceSeconds int64 `json:"parking_grace_seconds,omitempty"`
	HoldAmount          int64 `json:"hold_amount,omitempty"`
	ChargeZeroEnergy    bool  `json:"charge_zero_energy,omitempty"`
}

// UnmarshalJSON reads an OCPI Tariff object. Fields the model does not know
// are ignored (OCPI peers add their own); values are parsed exactly.
func (t *Tariff) UnmarshalJSON(b []byte) error {
	var w tariffWire
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	out := Tariff{
		CountryCode: w.CountryCode, PartyID: w.PartyID, ID: w.ID,
		Currency: w.Currency, Type: w.Type, AltText: w.AltText, AltURL: w.AltURL,
		MinPrice: w.MinPrice, MaxPrice: w.MaxPrice, Elements: w.Elements,
		EnergyMix: w.EnergyMix, TaxIncluded: w.TaxIncluded,
	}
	var err error
	if out.StartDateTime, err = parseOptionalDateTime("start_date_time", w.StartDateTime); err != nil {
		return err
	}
	if out.EndDateTime, err = parseOptionalDateTime("end_date_time", w.EndDateTime); err != nil {
		return err
	}
	if w.LastUpdated != "" {
		if out.LastUpdated, err = parseDateTime(w.LastUpdated); err != nil {
			return fmt.Errorf("last_updated: %w", err)
		}
	}
	if e := w.ChargeStar; e != nil {
		out.Tax = e.Tax
		if e.ParkingGraceSeconds < 0 || e.ParkingGraceSeconds > int64(maxSeconds) {
			return fmt.Errorf("chargestar.parking_grace_seconds: %d is out of range", e.ParkingGraceSeconds)
		}
		out.ParkingGrace = time.Duration(e.ParkingGraceSeconds) * time.Second
		out.HoldAmount = e.HoldAmount
		out.ChargeZeroEnergy = e.ChargeZeroEnergy
	}
	*t = out
	return nil
}

// MarshalJSON writes the OCPI Tariff object with the "chargestar"
// extensions, so that a stored tariff reads back identical.
func (t Tariff) MarshalJSON() ([]byte, error) {
	w := tariffWire{
		CountryCode: t.CountryCode, PartyID: t.PartyID, ID: t.ID,
		Currency: t.Currency, Type: t.Type, AltText: t.AltText, AltURL: t.AltURL,
		MinPrice: t.MinPrice, MaxPrice: t.MaxPrice, Elements: t.Elements,
		EnergyMix: t.EnergyMix, TaxIncluded: t.TaxIncluded,
	}
	if w.Elements == nil {
		w.Elements = []Element{}
	}
	if t.StartDateTime != nil {
		w.StartDateTime = t.StartDateTime.UTC().Format(time.RFC3339Nano)
	}
	if t.EndDateTime != nil {
		w.EndDateTime = t.EndDateTime.UTC().Format(time.RFC3339Nano)
	}
	if !t.LastUpdated.IsZero() {
		w.LastUpdated = t.LastUpdated.UTC().Format(time.RFC3339Nano)
	}
	if t.Tax != nil || t.ParkingGrace != 0 || t.HoldAmount != 0 || t.ChargeZeroEnergy {
		w.ChargeStar = &extensionsWire{
			Tax:                 t.Tax,
			ParkingGraceSeconds: int64(t.ParkingGrace / time.Second),
			HoldAmount:          t.HoldAmount,
			ChargeZeroEnergy:    t.ChargeZeroEnergy,
		}
	}
	return json.Marshal(w)
}

// maxSeconds bounds durations given in seconds (grace, min/max_duration,
// step sizes): ten years is far beyond any session and keeps every
// conversion to time.Duration clear of overflow.
const maxSeconds = 10 * 366 * 24 * 3600

func parseOptionalDateTime(field, s string) (*time.Time, error) {
	if s == "" {
		return nil, nil
	}
	t, err := parseDateTime(s)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	return &t, nil
}

// parseDateTime reads an OCPI DateTime: RFC 3339, where a missing zone
// designator means UTC (OCPI: "all timestamps SHALL be in UTC").
func parseDateTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not an RFC 3339 date-time", s)
}

// weekdayByName maps OCPI DayOfWeek values to time.Weekday.
func weekdayByName(s string) (time.Weekday, bool) {
	switch strings.ToUpper(s) {
	case "MONDAY":
		return time.Monday, true
	case "TUESDAY":
		return time.Tuesday, true
	case "WEDNESDAY":
		return time.Wednesday, true
	case "THURSDAY":
		return time.Thursday, true
	case "FRIDAY":
		return time.Friday, true
	case "SATURDAY":
		return time.Saturday, true
	case "SUNDAY":
		return time.Sunday, true
	}
	return 0, false
}
