package billing

import (
	"fmt"
	"math/big"
	"strings"
	"time"
)

// FieldError is one problem with a tariff, naming the field in its JSON
// path ("elements[1].price_components[0].step_size").
type FieldError struct {
	Field   string
	Message string
}

func (e FieldError) Error() string { return e.Field + ": " + e.Message }

// ValidationError lists every problem found in a tariff, so that an
// operator fixing a tariff in the console sees them all at once.
type ValidationError []FieldError

func (v ValidationError) Error() string {
	parts := make([]string, len(v))
	for i, e := range v {
		parts[i] = e.Error()
	}
	return "billing: invalid tariff: " + strings.Join(parts, "; ")
}

// Limits that keep every computation far from int64 overflow and reject
// prices that can only be typing mistakes.
const (
	maxUnitPrice = 1_000_000   // major units per kWh, hour or fee
	maxStepSize  = 100_000_000 // Wh or seconds
)

// Validate checks the tariff and returns a ValidationError listing every
// problem, or nil.
func (t *Tariff) Validate() error {
	var v ValidationError
	add := func(field, format string, args ...any) {
		v = append(v, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}

	if t.Currency == "" {
		add("currency", "is required")
	} else if _, ok := lookupCurrency(t.Currency); !ok {
		add("currency", "%q is not a supported ISO 4217 currency", t.Currency)
	}
	switch t.Type {
	case "", TariffAdHocPayment, TariffProfileCheap, TariffProfileFast, TariffProfileGreen, TariffRegular:
	default:
		add("type", "%q is not an OCPI tariff type", t.Type)
	}
	switch t.TaxIncluded {
	case "", TaxIncludedYes, TaxIncludedNo, TaxIncludedNA:
	default:
		add("tax_included", "%q is not YES, NO or N/A", t.TaxIncluded)
	}
	if t.StartDateTime != nil && t.EndDateTime != nil && !t.StartDateTime.Before(*t.EndDateTime) {
		add("end_date_time", "must be after start_date_time")
	}
	if len(t.Elements) == 0 {
		add("elements", "at least one element is required")
	}
	for i, e := range t.Elements {
		t.validateElement(fmt.Sprintf("elements[%d]", i), e, add)
	}
	validatePrice("min_price", t.MinPrice, t.Currency, add)
	validatePrice("max_price", t.MaxPrice, t.Currency, add)
	if t.MinPrice != nil && t.MaxPrice != nil && len(v) == 0 {
		// Compare both sides, a side that is not given carried at the
		// bound rate: min incl_vat 27.45 and max excl_vat 22.14 at 20%
		// (26.57 incl) contradict each other.
		rate := boundRate(t)
		minE, minI := t.MinPrice.exactSides(rate)
		maxE, maxI := t.MaxPrice.exactSides(rate)
		if maxE.Cmp(minE) < 0 {
			add("max_price", "is below min_price excluding tax (%s < %s)", maxE.FloatString(2), minE.FloatString(2))
		} else if maxI.Cmp(minI) < 0 {
			add("max_price", "is below min_price including tax (%s < %s)", maxI.FloatString(2), minI.FloatString(2))
		}
	}
	if t.Tax != nil {
		t.validateTax(add)
	}
	if t.ParkingGrace < 0 {
		add("chargestar.parking_grace_seconds", "must not be negative")
	} else if t.ParkingGrace > maxSeconds*time.Second {
		add("chargestar.parking_grace_seconds", "is out of range")
	} else if t.ParkingGrace%time.Second != 0 {
		add("chargestar.parking_grace_seconds", "must be whole seconds")
	}
	if t.HoldAmount < 0 {
		add("chargestar.hold_amount", "must not be negative")
	}
	if len(v) == 0 {
		return nil
	}
	return v
}

func (t *Tariff) validateElement(path string, e Element, add func(string, string, ...any)) {
	if len(e.PriceComponents) == 0 {
		add(path+".price_components", "at least one price component is required")
	}
	reservation := e.Restrictions != nil && e.Restrictions.Reservation != ""
	seen := map[Dimension]bool{}
	for j, c := range e.PriceComponents {
		cp := fmt.Sprintf("%s.price_components[%d]", path, j)
		if seen[c.Type] {
			add(cp+".type", "a second %s component in the same element would never apply", c.Type)
		}
		seen[c.Type] = true
		switch c.Type {
		case DimEnergy, DimParkingTime:
			if reservation {
				add(cp+".type", "a reservation element can only have FLAT and TIME components")
			}
		case DimFlat, DimTime:
		default:
			add(cp+".type", "%q is not ENERGY, FLAT, PARKING_TIME or TIME", c.Type)
		}
		if c.Price.Sign() < 0 {
			add(cp+".price", "must not be negative")
		} else if c.Price.rat().Cmp(big.NewRat(maxUnitPrice, 1)) > 0 {
			add(cp+".price", "%s is implausibly large", c.Price)
		}
		if c.StepSize < 0 {
			add(cp+".step_size", "must not be negative")
		} else if c.StepSize > maxStepSize {
			add(cp+".step_size", "%d is out of range", c.StepSize)
		}
		if c.VAT != nil {
			if c.VAT.Sign() < 0 || c.VAT.rat().Cmp(big.NewRat(100, 1)) >= 0 {
				add(cp+".vat", "must be a percentage from 0 to below 100")
			}
			if t.TaxIncluded == TaxIncludedNA && !c.VAT.IsZero() {
				add(cp+".vat", "tax_included is N/A but the component has VAT")
			}
			if t.Tax != nil && !c.VAT.Equal(t.Tax.Rate.Mul(DecimalFromInt(100))) {
				add(cp+".vat", "%s%% disagrees with chargestar.tax.rate %s", c.VAT, t.Tax.Rate)
			}
		}
	}
	if e.Restrictions != nil {
		validateRestrictions(path+".restrictions", e.Restrictions, add)
	}
}

func validateRestrictions(path string, r *Restrictions, add func(string, string, ...any)) {
	if r.StartTime != "" {
		if _, err := parseClock(r.StartTime); err != nil {
			add(path+".start_time", "%v", err)
		}
	}
	if r.EndTime != "" {
		if _, err := parseClock(r.EndTime); err != nil {
			add(path+".end_time", "%v", err)
		}
	}
	var start, end int
	var err error
	if r.StartDate != "" {
		if start, err = parseCivilDate(r.StartDate); err != nil {
			add(path+".start_date", "%v", err)
		}
	}
	if r.EndDate != "" {
		if end, err = parseCivilDate(r.EndDate); err != nil {
			add(path+".end_date", "%v", err)
		}
	}
	if start != 0 && end != 0 && end <= start {
		add(path+".end_date", "must be after start_date (end_date is exclusive)")
	}
	bounds := func(name string, lo, hi *Decimal) {
		if lo != nil && lo.Sign() < 0 {
			add(path+".min_"+name, "must not be negative")
		}
		if hi != nil && hi.Sign() < 0 {
			add(path+".max_"+name, "must not be negative")
		}
		if lo != nil && hi != nil && hi.Cmp(*lo) <= 0 {
			add(path+".max_"+name, "must be above min_%s, or the element never applies", name)
		}
	}
	bounds("kwh", r.MinKWh, r.MaxKWh)
	bounds("current", r.MinCurrent, r.MaxCurrent)
	bounds("power", r.MinPower, r.MaxPower)
	for _, d := range []struct {
		name string
		v    *int64
	}{{"min_duration", r.MinDuration}, {"max_duration", r.MaxDuration}} {
		if d.v != nil && (*d.v < 0 || *d.v > maxSeconds) {
			add(path+"."+d.name, "%d is out of range", *d.v)
		}
	}
	if r.MinDuration != nil && r.MaxDuration != nil && *r.MaxDuration <= *r.MinDuration {
		add(path+".max_duration", "must be above min_duration, or the element never applies")
	}
	for i, d := range r.DayOfWeek {
		if _, ok := weekdayByName(d); !ok || d != strings.ToUpper(d) {
			add(fmt.Sprintf("%s.day_of_week[%d]", path, i), "%q is not MONDAY … SUNDAY", d)
		}
	}
	switch r.Reservation {
	case "", Reservation, ReservationExpires:
	default:
		add(path+".reservation", "%q is not RESERVATION or RESERVATION_EXPIRES", r.Reservation)
	}
}

// validatePrice checks a min_price/max_price: an amount of money, so in
// whole minor units of the currency (€0.55, not €0.555; ¥12, not ¥12.16).
func validatePrice(path string, p *PriceBound, cur string, add func(string, string, ...any)) {
	if p == nil {
		return
	}
	exp, known := MinorUnits(cur)
	if p.ExclVAT == nil && p.InclVAT == nil {
		add(path, "needs excl_vat, incl_vat or both")
	}
	for _, s := range []struct {
		name string
		v    *Decimal
	}{{"excl_vat", p.ExclVAT}, {"incl_vat", p.InclVAT}} {
		if s.v == nil {
			continue
		}
		if s.v.Sign() < 0 {
			add(path+"."+s.name, "must not be negative")
		} else if s.v.rat().Cmp(big.NewRat(100_000_000, 1)) > 0 {
			add(path+"."+s.name, "%s is implausibly large", s.v)
		} else if places, ok := s.v.decimalPlaces(); known && (!ok || places > exp) {
			add(path+"."+s.name, "%s is not a whole number of %s minor units", s.v, cur)
		}
	}
	if p.ExclVAT != nil && p.InclVAT != nil && p.InclVAT.Cmp(*p.ExclVAT) < 0 {
		add(path+".incl_vat", "is below excl_vat")
	}
}

func (t *Tariff) validateTax(add func(string, string, ...any)) {
	x := t.Tax
	if x.Name == "" {
		add("chargestar.tax.name", "is required (e.g. GST)")
	}
	if x.Rate.Sign() < 0 || x.Rate.Cmp(DecimalFromInt(1)) >= 0 {
		add("chargestar.tax.rate", "%s is not a fraction from 0 to below 1 (10%% is 0.1)", x.Rate)
	}
	if !x.Rounding.valid() {
		add("chargestar.tax.rounding", "%q is not half_up, half_even, down or up", x.Rounding)
	}
	switch t.TaxIncluded {
	case TaxIncludedYes:
		if !x.Included {
			add("chargestar.tax.included", "is false but tax_included is YES")
		}
	case TaxIncludedNo:
		if x.Included {
			add("chargestar.tax.included", "is true but tax_included is NO")
		}
	case TaxIncludedNA:
		if !x.Rate.IsZero() {
			add("chargestar.tax", "tax_included is N/A but a tax rate is set")
		}
	}
}

// parseClock reads OCPI's "HH:MM" (24 h, leading zeros) into seconds after
// midnight.
func parseClock(s string) (int, error) {
	if len(s) != 5 || s[2] != ':' || !isDigits(s[:2]) || !isDigits(s[3:]) {
		return 0, fmt.Errorf("%q is not HH:MM", s)
	}
	h := int(s[0]-'0')*10 + int(s[1]-'0')
	m := int(s[3]-'0')*10 + int(s[4]-'0')
	if h > 23 || m > 59 {
		return 0, fmt.Errorf("%q is not a time of day", s)
	}
	return h*3600 + m*60, nil
}

// parseCivilDate reads "YYYY-MM-DD" into the number YYYYMMDD, which orders
// like the dates.
func parseCivilDate(s string) (int, error) {
	d, err := time.Parse("2006-01-02", s)
	if err != nil || len(s) != 10 {
		return 0, fmt.Errorf("%q is not a YYYY-MM-DD date", s)
	}
	return civilDate(d), nil
}

func civilDate(t time.Time) int {
	y, m, d := t.Date()
	return y*10000 + int(m)*100 + d
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}
