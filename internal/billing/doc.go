// Package billing is the pure pricing core of Charge Star: tariffs, what a
// charging session costs under one, how to say a tariff in plain words, and
// how large a card hold must be. It does no I/O; payments, the ledger and
// the session payment lifecycle are built on it.
//
// # Model
//
// A Tariff has the shape of the OCPI 2.2.1 Tariff object (read with OCPI
// 2.3's tax_included and Price shape): a currency, and Elements in order,
// each with PriceComponents — ENERGY per kWh, TIME per hour charging,
// PARKING_TIME per hour plugged in and not charging ("idle"), FLAT per
// session — and optional Restrictions saying when the element applies.
// Charge Star adds, under the JSON key "chargestar": the operator's Tax
// (one rate, prices inclusive or exclusive of it, its rounding), a parking
// grace period, and the default hold amount. Prices are Decimals: exact
// rationals (math/big), never floats; see Decimal for why.
//
// A session's Usage is a timeline: start, stop (zero while live) and meter
// samples (time, energy register, power and current if known, charging
// state if known). Consecutive samples bound intervals; an interval is
// charging per the last explicit flag, else when energy flowed (see
// Sample). The engine cuts the timeline into segments at every instant a
// restriction can change — local times of day and midnights in the site's
// time zone (a boundary in a DST-repeated hour is cut at both occurrences,
// one in a skipped hour at the clock change), DST transitions, start +
// min/max_duration, the end of each grace period, and the interpolated
// instants where the session's energy crosses a min/max_kwh — sharing each
// interval's energy out in proportion to time, exactly.
//
// # Pricing rules (OCPI, as read here)
//
//   - Elements are evaluated in order; for each segment and each dimension
//     the first element that has a component of that dimension and whose
//     restrictions all hold prices it. None: that dimension is free there.
//   - Restrictions: lower bounds inclusive, upper bounds exclusive;
//     start_time/end_time, start_date/end_date and day_of_week read the
//     site's wall clock; an end_time before the start_time crosses
//     midnight, equal times mean all day; day and time are checked
//     independently. min/max_kwh read the session's energy so far,
//     min/max_duration the time since start, min/max_power the interval's
//     average power, min/max_current the reported current — a period
//     without a current reading matches no current restriction.
//   - FLAT is charged once per session, from the first element with a FLAT
//     component that matches the first segment where any does; reservation
//     elements price a ReservationUsage the same way (RESERVATION_EXPIRES
//     elements first for an expired one), always before the session.
//   - step_size: each dimension's billed volume forms runs; a run is
//     rounded up once, to the step of the element that priced its last
//     part, and the round-up is billed at that element's price. A run ends
//     when the session stops, or when the dimension starts accruing under
//     no price component (its element switched to one without it, or a
//     grace period began) — OCPI's "switching to a Tariff Element without
//     that price component". Dimensions are rounded independently: the
//     Tariffs module's complex example rounds charging 147→150 min and
//     parking 42→45 min in one session. Its step-size example #1 instead
//     says two parking minutes fall "within the extra 5 minutes of
//     charging"; no rule says so, and the CDR module's reading (only the
//     last dimension rounded) contradicts the complex example; we follow
//     the rule, and TestOCPIWorkedExamples documents the difference.
//   - A live session's running cost applies all of this except the
//     round-up of each dimension's still-open run, which depends on the
//     element in force when the run ends. So running costs never decrease
//     as samples arrive and never exceed the final cost. (A final cost
//     itself can be lower for a slightly longer session, whose run ends on
//     a cheaper element that bills the round-up: that is OCPI's rule, not
//     an accident; see TestFinalCostCanDropAtCheaperElement.)
//   - Parking grace (extension): the first ParkingGrace of every continuous
//     idle stretch is free.
//   - min_price and max_price bound the session total: the totals excluding
//     and including tax are clamped independently (OCPI: both rules
//     apply); a bound given on one side only is carried to the other at a
//     fixed rate (the Tax's, else the tariff's lowest VAT rate). A timeline
//     with nothing on it yet costs nothing, not even min_price.
//
// # Tax
//
// With a Tax (Charge Star's operators: GST 10%), every component is taxed
// at its rate and the tax is computed once, on the session total:
// total × rate/(1+rate) when prices include it (total/11 for GST), subtotal
// × rate when they exclude it — the ATO's rule, rounded to the nearest cent
// half up by default. Without a Tax, OCPI 2.2.1 applies: prices exclude
// VAT and each component's vat percentage is added (exactly per line, the
// sum rounded once). OCPI 2.3 tax_included YES/NO without a Tax or vat
// gives prices whose tax rate is unknown: priced as untaxed, TaxUnknown
// set.
//
// # Rounding
//
// Amounts are exact until one of these points, each rounded to a whole
// minor unit of the currency (ISO 4217 exponent: cents, yen) with the
// Tax's RoundingMode, half up by default:
//
//  1. each receipt line: billed volume × unit price (so lines add up);
//  2. the session's tax, once, from the exact tax of the rounded lines;
//  3. min/max_price converted to minor units (a minimum up, a maximum down,
//     so "never below/above" holds; sub-minor-unit bounds are refused by
//     Validate), and a bound's missing side carried at a fixed rate.
//
// Per-dimension tax is the session's tax shared out by largest remainder,
// an allocation that always adds up, not a further rounding. Describe
// rounds prices for display only.
//
// # Entry points
//
//   - ParseTariff, (*Tariff).Validate: read and check a tariff.
//   - Price: the running or final Cost of a Usage.
//   - Describe: the tariff in plain words with a worked example.
//   - HoldFor: the pre-authorisation and the stop threshold for a budget.
//   - FormatMoney, FormatPrice, MinorUnits: currency formatting.
package billing
