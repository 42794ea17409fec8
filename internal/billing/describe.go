package billing

import (
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// DescribeOptions configures Describe. The zero value describes a 40 kWh,
// one-hour session starting on a Monday at 10:00 in UTC; the console's live
// preview and the driver app pass the site's time zone (and may pass the
// next real start).
type DescribeOptions struct {
	// Location is the site's time zone, for the worked example (time-of-day
	// prices); nil is UTC.
	Location *time.Location
	// ExampleStart is when the worked example starts; zero is Monday
	// 3 March 2025, 10:00 local.
	ExampleStart time.Time
	// ExampleEnergyWh is the example's energy; 0 is 40 kWh.
	ExampleEnergyWh int64
	// ExampleDuration is the example's charging time; 0 is one hour.
	ExampleDuration time.Duration
	// ExampleIdle is idle time after charging in the example; 0 is none.
	ExampleIdle time.Duration
}

// Description is a tariff in plain words for a driver, prices tax-inclusive.
type Description struct {
	// Parts are the phrases, in the order energy, charging time, fees,
	// idle, reservation, bounds, tax: "$0.55 per kWh", "$1.00 session fee",
	// "idle $0.10/min after 15 min", "prices include GST".
	Parts []string
	// Summary is the parts joined with " · ".
	Summary string
	// Example is a worked example: "a 40 kWh, 1 h session costs $23.00".
	Example string
	// ExampleCost is the example's cost, as Price computed it.
	ExampleCost Cost
}

// Describe describes the tariff to a driver in plain words, every price
// including tax, with a worked example priced by the engine itself (so the
// words can never disagree with the bill).
func Describe(t *Tariff, opts DescribeOptions) (Description, error) {
	if t == nil {
		return Description{}, errors.New("billing: no tariff")
	}
	if err := t.Validate(); err != nil {
		return Description{}, err
	}
	c := compile(t)
	d := describer{c: c, cur: t.Currency}
	var energy, timeParts, fees, idle, reservation []string
	for _, it := range d.items(c.session, dEnergy) {
		energy = append(energy, d.energy(it.cp, it.words))
	}
	times := d.items(c.session, dTime)
	perMin := d.perMinute(times)
	for _, it := range times {
		timeParts = append(timeParts, d.timePhrase(it.cp, "charging", it.words, perMin))
	}
	for _, it := range d.items(c.session, dFlat) {
		if it.cp.price.Sign() > 0 {
			fees = append(fees, join(d.fee(it.cp)+" session fee", it.words))
		}
	}
	parking := d.items(c.session, dParking)
	perMin = d.perMinute(parking)
	for _, it := range parking {
		idle = append(idle, d.idle(it.cp, t.ParkingGrace, it.words, perMin))
	}
	resTimes := d.items(c.resExpired, dTime)
	perMin = d.perMinute(resTimes)
	for _, it := range d.items(c.resExpired, dFlat) { // every reservation element, expiry ones first
		if it.cp.price.Sign() == 0 {
			continue
		}
		if it.expired {
			reservation = append(reservation, join(d.fee(it.cp)+" if a reservation expires unused", it.words))
		} else {
			reservation = append(reservation, join(d.fee(it.cp)+" reservation fee", it.words))
		}
	}
	for _, it := range resTimes {
		if it.cp.price.Sign() == 0 {
			continue
		}
		label := "reservation"
		if it.expired {
			label = "expired reservation"
		}
		reservation = append(reservation, d.timePhrase(it.cp, label, it.words, perMin))
	}
	var parts []string
	parts = append(parts, energy...)
	parts = append(parts, timeParts...)
	parts = append(parts, fees...)
	parts = append(parts, idle...)
	parts = append(parts, reservation...)
	if p := d.bound(t.MinPrice); p != "" {
		parts = append(parts, "minimum "+p)
	}
	if p := d.bound(t.MaxPrice); p != "" {
		parts = append(parts, "capped at "+p)
	}
	if allFree(c) {
		parts = []string{"free of charge"}
	}
	if note := d.taxNote(); note != "" {
		parts = append(parts, note)
	}

	ex, err := describeExample(t, opts)
	if err != nil {
		return Description{}, err
	}
	return Description{
		Parts:       parts,
		Summary:     strings.Join(parts, " · "),
		Example:     ex.text,
		ExampleCost: ex.cost,
	}, nil
}

type example struct {
	text string
	cost Cost
}

func describeExample(t *Tariff, opts DescribeOptions) (example, error) {
	loc := opts.Location
	if loc == nil {
		loc = time.UTC
	}
	wh := opts.ExampleEnergyWh
	if wh <= 0 {
		wh = 40_000
	}
	dur := opts.ExampleDuration
	if dur <= 0 {
		dur = time.Hour
	}
	start := opts.ExampleStart
	if start.IsZero() {
		start = time.Date(2025, time.March, 3, 10, 0, 0, 0, loc)
	}
	charging, idle := true, false
	u := Usage{
		Start: start,
		Stop:  start.Add(dur + opts.ExampleIdle),
		Samples: []Sample{
			{At: start, EnergyWh: 0, Charging: &charging},
			{At: start.Add(dur), EnergyWh: wh, Charging: &idle},
		},
	}
	cost, err := Price(t, loc, u)
	if err != nil {
		return example{}, err
	}
	kwh := DecimalFromRat(big.NewRat(wh, 1000)).Round(3, HalfUp)
	text := fmt.Sprintf("a %s kWh, %s session", kwh, FormatDuration(dur))
	if opts.ExampleIdle > 0 {
		text += fmt.Sprintf(" with %s idle", FormatDuration(opts.ExampleIdle))
	}
	text += " costs " + FormatMoney(cost.Total, t.Currency)
	return example{text: text, cost: cost}, nil
}

type describer struct {
	c   *compiled
	cur string
}

// item is one element's component of one dimension, with the words for
// when it applies.
type item struct {
	cp      *cComponent
	words   string
	expired bool // a RESERVATION_EXPIRES element
}

// items lists the components of dimension dm among the candidate elements,
// in order, each with the words for when it applies. Elements are matched
// first-first, so a "ladder" of upper bounds (max_power 16, then max_power
// 32, then no restriction) reads as the ranges it prices: "below 16 kW",
// "at 16 to 32 kW", "at 32 kW or more".
func (d describer) items(candidates []int, dm dim) []item {
	var out []item
	var prev *Restrictions
	for _, i := range candidates {
		e := d.c.elements[i]
		if e.comp[dm] == nil {
			continue
		}
		r := withoutReservation(d.c.t.Elements[i].Restrictions)
		out = append(out, item{cp: e.comp[dm], words: ladderWords(prev, r), expired: e.r.reservation == ReservationExpires})
		prev = r
	}
	return out
}

// ladderWords describes r, an element that applies only where the element
// before it (prev, of the same dimension) did not.
func ladderWords(prev, r *Restrictions) string {
	pk, pv := singleUpperBound(prev)
	if pk == "" {
		if isEmpty(r) && prev != nil && !isEmpty(prev) {
			return "otherwise"
		}
		return restrictionWords(r)
	}
	if isEmpty(r) {
		return restrictionWords(lowerBound(pk, pv))
	}
	if k, v := singleUpperBound(r); k == pk && v.Cmp(pv) > 0 {
		lo := lowerBound(pk, pv)
		setUpper(lo, k, v)
		return restrictionWords(lo)
	}
	return restrictionWords(r)
}

// singleUpperBound returns the kind and value of r's only restriction when
// that is an upper bound (max_kwh, max_power, max_current, max_duration).
func singleUpperBound(r *Restrictions) (string, Decimal) {
	if r == nil {
		return "", Decimal{}
	}
	x := *r
	var kind string
	var v Decimal
	take := func(name string, p **Decimal) {
		if *p != nil {
			if kind != "" {
				kind = "several"
			} else {
				kind, v = name, **p
			}
			*p = nil
		}
	}
	take("kwh", &x.MaxKWh)
	take("power", &x.MaxPower)
	take("current", &x.MaxCurrent)
	if x.MaxDuration != nil {
		dv := DecimalFromInt(*x.MaxDuration)
		dp := &dv
		take("duration", &dp)
		x.MaxDuration = nil
	}
	if x.MinKWh != nil && x.MinKWh.IsZero() {
		x.MinKWh = nil
	}
	if x.MinDuration != nil && *x.MinDuration == 0 {
		x.MinDuration = nil
	}
	if kind == "several" || !isEmpty(&x) {
		return "", Decimal{}
	}
	return kind, v
}

func lowerBound(kind string, v Decimal) *Restrictions {
	r := &Restrictions{}
	switch kind {
	case "kwh":
		r.MinKWh = &v
	case "power":
		r.MinPower = &v
	case "current":
		r.MinCurrent = &v
	case "duration":
		s := v.rat().Num().Int64()
		r.MinDuration = &s
	}
	return r
}

func setUpper(r *Restrictions, kind string, v Decimal) {
	switch kind {
	case "kwh":
		r.MaxKWh = &v
	case "power":
		r.MaxPower = &v
	case "current":
		r.MaxCurrent = &v
	case "duration":
		s := v.rat().Num().Int64()
		r.MaxDuration = &s
	}
}

func isEmpty(r *Restrictions) bool {
	return r == nil || (r.StartTime == "" && r.EndTime == "" && r.StartDate == "" && r.EndDate == "" &&
		r.MinKWh == nil && r.MaxKWh == nil && r.MinCurrent == nil && r.MaxCurrent == nil &&
		r.MinPower == nil && r.MaxPower == nil && r.MinDuration == nil && r.MaxDuration == nil &&
		len(r.DayOfWeek) == 0 && r.Reservation == "")
}

// inclusive returns a component's price with tax, as a driver pays it.
func (d describer) inclusive(cp *cComponent) Decimal {
	p := new(big.Rat).Set(cp.price)
	if !d.c.basis.included {
		p.Mul(p, new(big.Rat).Add(big.NewRat(1, 1), cp.rate))
	}
	return Decimal{p}
}

// unitPrice formats a tax-inclusive unit price: exactly when that takes at
// most one digit beyond the currency's ("€0.275"), otherwise rounded to
// the currency's digits (€1.90 + 5.2% VAT = €1.9988 shows as "€2.00").
func (d describer) unitPrice(p Decimal) string {
	exp, _ := MinorUnits(d.cur)
	if places, ok := p.decimalPlaces(); !ok || places > exp+1 {
		p = p.Round(exp, HalfUp)
	}
	return FormatPrice(p, d.cur)
}

// fee formats a FLAT price to the minor unit, as it is charged.
func (d describer) fee(cp *cComponent) string {
	exp, _ := MinorUnits(d.cur)
	return FormatPrice(d.inclusive(cp).Round(exp, HalfUp), d.cur)
}

func (d describer) energy(cp *cComponent, q string) string {
	if cp.price.Sign() == 0 {
		return join("energy free", q)
	}
	s := join(d.unitPrice(d.inclusive(cp))+" per kWh", q)
	if cp.step > 1 {
		s += ", billed per " + DecimalFromRat(big.NewRat(cp.step, 1000)).String() + " kWh"
	}
	return s
}

// perMinute decides the unit of a time dimension's prices: per minute when
// every price is a whole number of minor units per minute ($6.00/h is
// "$0.10/min", how idle fees are quoted), per hour otherwise — one unit
// for the whole dimension, so prices compare at a glance.
func (d describer) perMinute(items []item) bool {
	exp, _ := MinorUnits(d.cur)
	any := false
	for _, it := range items {
		if it.cp.price.Sign() == 0 {
			continue
		}
		places, ok := d.inclusive(it.cp).Quo(DecimalFromInt(60)).decimalPlaces()
		if !ok || places > exp {
			return false
		}
		any = true
	}
	return any
}

func (d describer) timePhrase(cp *cComponent, label, q string, perMin bool) string {
	if cp.price.Sign() == 0 {
		return join(label+" free", q)
	}
	return join(d.rate(cp, perMin)+" "+label, q) + stepWords(cp)
}

func (d describer) idle(cp *cComponent, grace time.Duration, q string, perMin bool) string {
	if cp.price.Sign() == 0 {
		return join("idle free", q)
	}
	s := "idle " + d.rate(cp, perMin)
	if grace > 0 {
		s += " after " + FormatDuration(grace)
	}
	return join(s, q) + stepWords(cp)
}

func (d describer) rate(cp *cComponent, perMin bool) string {
	perHour := d.inclusive(cp)
	if perMin {
		return FormatPrice(perHour.Quo(DecimalFromInt(60)), d.cur) + "/min"
	}
	return d.unitPrice(perHour) + " per hour"
}

func stepWords(cp *cComponent) string {
	if cp.step < 120 {
		return ""
	}
	return ", billed per " + FormatDuration(time.Duration(cp.step)*time.Second)
}

func (d describer) bound(p *PriceBound) string {
	if p == nil {
		return ""
	}
	b := d.c.basis
	switch {
	case p.InclVAT != nil:
		return FormatPrice(*p.InclVAT, d.cur)
	case b.single != nil:
		return FormatPrice(p.ExclVAT.Mul(Decimal{new(big.Rat).Add(big.NewRat(1, 1), b.single)}), d.cur)
	}
	return FormatPrice(*p.ExclVAT, d.cur)
}

func (d describer) taxNote() string {
	b := d.c.basis
	switch {
	case d.c.t.TaxIncluded == TaxIncludedNA:
		return ""
	case b.unknown && b.included:
		return "prices include taxes"
	case b.unknown:
		return "plus taxes"
	case b.single != nil && b.single.Sign() > 0:
		return "prices include " + b.name
	case b.single == nil && anyPositiveVAT(d.c.t):
		return "prices include " + b.name
	}
	return ""
}

func anyPositiveVAT(t *Tariff) bool {
	for _, e := range t.Elements {
		for _, c := range e.PriceComponents {
			if c.VAT != nil && c.VAT.Sign() > 0 {
				return true
			}
		}
	}
	return false
}

func allFree(c *compiled) bool {
	for _, e := range c.elements {
		for _, cp := range e.comp {
			if cp != nil && cp.price.Sign() > 0 {
				return false
			}
		}
	}
	return c.t.MinPrice == nil
}

func withoutReservation(r *Restrictions) *Restrictions {
	if r == nil {
		return nil
	}
	cp := *r
	cp.Reservation = ""
	return &cp
}

func join(s, q string) string {
	if q == "" {
		return s
	}
	return s + " " + q
}

// restrictionWords says when an element applies: "Mon–Fri 09:00–18:00",
// "after 1 kWh", "below 16 kW", "in the first 30 min".
func restrictionWords(r *Restrictions) string {
	if r == nil {
		return ""
	}
	var w []string
	if days := dayWords(r.DayOfWeek); days != "" {
		w = append(w, days)
	}
	switch {
	case r.StartTime != "" && r.EndTime != "" && r.StartTime != r.EndTime:
		w = append(w, r.StartTime+"–"+r.EndTime)
	case r.StartTime != "" && r.EndTime == "":
		w = append(w, "from "+r.StartTime)
	case r.EndTime != "" && r.StartTime == "":
		w = append(w, "until "+r.EndTime)
	}
	if r.StartDate != "" {
		w = append(w, "from "+r.StartDate)
	}
	if r.EndDate != "" {
		w = append(w, "before "+r.EndDate)
	}
	w = appendRange(w, r.MinKWh, r.MaxKWh, "kWh", "for the first %s", "after %s", "from %s to %s")
	w = appendRange(w, r.MinPower, r.MaxPower, "kW", "below %s", "at %s or more", "at %s–%s")
	w = appendRange(w, r.MinCurrent, r.MaxCurrent, "A", "below %s", "at %s or more", "at %s–%s")
	var minD, maxD *Decimal
	if r.MinDuration != nil && *r.MinDuration > 0 {
		v := DecimalFromInt(*r.MinDuration)
		minD = &v
	}
	if r.MaxDuration != nil {
		v := DecimalFromInt(*r.MaxDuration)
		maxD = &v
	}
	if minD != nil || maxD != nil {
		secs := func(d *Decimal) string { return FormatDuration(time.Duration(d.rat().Num().Int64()) * time.Second) }
		switch {
		case minD != nil && maxD != nil:
			w = append(w, fmt.Sprintf("from %s to %s", secs(minD), secs(maxD)))
		case maxD != nil:
			w = append(w, "in the first "+secs(maxD))
		default:
			w = append(w, "after "+secs(minD))
		}
	}
	return strings.Join(w, " ")
}

func appendRange(w []string, lo, hi *Decimal, unit, onlyMax, onlyMin, both string) []string {
	if lo != nil && lo.IsZero() {
		lo = nil
	}
	q := func(d *Decimal) string { return d.String() + " " + unit }
	switch {
	case lo != nil && hi != nil:
		return append(w, fmt.Sprintf(both, lo.String(), q(hi)))
	case hi != nil:
		return append(w, fmt.Sprintf(onlyMax, q(hi)))
	case lo != nil:
		return append(w, fmt.Sprintf(onlyMin, q(lo)))
	}
	return w
}

// dayWords writes days as ranges in week order: "Mon–Fri", "Sat–Sun",
// "Mon, Wed".
func dayWords(days []string) string {
	if len(days) == 0 {
		return ""
	}
	var set [7]bool // Monday first
	for _, d := range days {
		if wd, ok := weekdayByName(d); ok {
			set[(int(wd)+6)%7] = true
		}
	}
	names := [7]string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}
	var out []string
	for i := 0; i < 7; {
		if !set[i] {
			i++
			continue
		}
		j := i
		for j+1 < 7 && set[j+1] {
			j++
		}
		switch {
		case j == i:
			out = append(out, names[i])
		case j == i+1:
			out = append(out, names[i], names[j])
		default:
			out = append(out, names[i]+"–"+names[j])
		}
		i = j + 1
	}
	if len(out) == 1 && out[0] == "Mon–Sun" {
		return ""
	}
	return strings.Join(out, ", ")
}

// FormatDuration writes a duration for a driver: "15 min", "1 h",
// "2 h 27 min", "45 s".
func FormatDuration(d time.Duration) string {
	d = d.Truncate(time.Second)
	h := int64(d / time.Hour)
	m := int64(d % time.Hour / time.Minute)
	s := int64(d % time.Minute / time.Second)
	var parts []string
	if h > 0 {
		parts = append(parts, fmt.Sprintf("%d h", h))
	}
	if m > 0 {
		parts = append(parts, fmt.Sprintf("%d min", m))
	}
	if s > 0 || len(parts) == 0 {
		parts = append(parts, fmt.Sprintf("%d s", s))
	}
	return strings.Join(parts, " ")
}

// describeLine writes a receipt line's description in the tariff's price
// basis: "Energy 20.450 kWh × $0.55/kWh", "Idle 45 min × $5.00/h".
func (e *engine) describeLine(l Line, el cElement) string {
	cur := e.c.t.Currency
	price := FormatPrice(l.UnitPrice, cur)
	q := restrictionWords(withoutReservation(e.c.t.Elements[el.index].Restrictions))
	var s string
	switch l.Kind {
	case LineSessionFee:
		s = "Session fee"
	case LineReservationFee:
		s = "Reservation fee"
		if el.r.reservation == ReservationExpires {
			s = "Expired reservation fee"
		}
	case LineEnergy:
		s = fmt.Sprintf("Energy %s kWh × %s/kWh", l.Quantity.StringFixed(3), price)
	case LineChargingTime:
		s = fmt.Sprintf("Charging %s × %s/h", FormatDuration(l.Duration), price)
	case LineIdle:
		s = fmt.Sprintf("Idle %s × %s/h", FormatDuration(l.Duration), price)
	case LineReservationTime:
		s = fmt.Sprintf("Reservation %s × %s/h", FormatDuration(l.Duration), price)
	}
	if q != "" {
		s += " (" + q + ")"
	}
	return s
}
