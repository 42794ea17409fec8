// Package reports turns settled sessions into an operator's figures:
// pure aggregation (no I/O) over rows the store reads, bucketed by day,
// week or month in the site's time zone. The figures reconcile with the
// ledger: what the ledger books to an operator (payable and tax) is what
// these reports show, refunds included.
package reports

import (
	"fmt"
	"slices"
	"time"
)

// Sale is one settled session payment, as reports need it.
type Sale struct {
	PaymentID string
	StationID string
	SiteID    string // "" when the station has no site
	SettledAt time.Time
	Currency  string
	Gross     int64 // captured, tax included
	Tax       int64 // the tax within Gross
	Refunded  int64 // refunded so far, tax included
	RefundTax int64 // the tax within Refunded
	EnergyWh  int64
	// ProviderFee and PlatformFee are the shares of Gross booked to the
	// provider and the platform (0 today: see docs/billing.md).
	ProviderFee, PlatformFee int64
}

// Period is a report's time bucket.
type Period string

const (
	Day   Period = "day"
	Week  Period = "week" // ISO weeks, starting Monday
	Month Period = "month"
)

// GroupBy says how rows are split besides time.
type GroupBy string

const (
	ByNone    GroupBy = ""
	BySite    GroupBy = "site"
	ByStation GroupBy = "station"
)

// Row is one line of a revenue report.
type Row struct {
	Start       time.Time `json:"start"` // the bucket's start, in the report's time zone
	Key         string    `json:"key,omitempty"`
	Currency    string    `json:"currency"`
	Sessions    int       `json:"sessions"`
	EnergyWh    int64     `json:"energy_wh"`
	Gross       int64     `json:"gross"`
	Tax         int64     `json:"tax"`
	ProviderFee int64     `json:"provider_fees"`
	PlatformFee int64     `json:"platform_fees"`
	Refunds     int64     `json:"refunds"`
	// Net is what the operator keeps: gross − tax − fees − (refunds −
	// their tax).
	Net int64 `json:"net"`
}

// Revenue aggregates sales into rows, oldest first, then by key.
func Revenue(sales []Sale, period Period, by GroupBy, loc *time.Location) ([]Row, error) {
	if loc == nil {
		loc = time.UTC
	}
	type k struct {
		start time.Time
		key   string
		cur   string
	}
	acc := map[k]*Row{}
	for _, s := range sales {
		start, err := bucket(s.SettledAt.In(loc), period)
		if err != nil {
			return nil, err
		}
		key := ""
		switch by {
		case BySite:
			key = s.SiteID
		case ByStation:
			key = s.StationID
		case ByNone:
		default:
			return nil, fmt.Errorf("reports: unknown grouping %q", by)
		}
		id := k{start, key, s.Currency}
		r := acc[id]
		if r == nil {
			r = &Row{Start: start, Key: key, Currency: s.Currency}
			acc[id] = r
		}
		r.Sessions++
		r.EnergyWh += s.EnergyWh
		r.Gross += s.Gross
		r.Tax += s.Tax - s.RefundTax
		r.ProviderFee += s.ProviderFee
		r.PlatformFee += s.PlatformFee
		r.Refunds += s.Refunded
		r.Net += s.Gross - s.Tax - s.ProviderFee - s.PlatformFee - (s.Refunded - s.RefundTax)
	}
	out := make([]Row, 0, len(acc))
	for _, r := range acc {
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b Row) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		if a.Key != b.Key {
			if a.Key < b.Key {
				return -1
			}
			return 1
		}
		if a.Currency < b.Currency {
			return -1
		}
		if a.Currency > b.Currency {
			return 1
		}
		return 0
	})
	return out, nil
}

// bucket is the start of t's period, in t's location.
func bucket(t time.Time, p Period) (time.Time, error) {
	y, m, d := t.Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, t.Location())
	switch p {
	case Day:
		return day, nil
	case Week:
		wd := (int(day.Weekday()) + 6) % 7 // Monday 0
		return day.AddDate(0, 0, -wd), nil
	case Month:
		return time.Date(y, m, 1, 0, 0, 0, 0, t.Location()), nil
	}
	return time.Time{}, fmt.Errorf("reports: unknown period %q", p)
}

// Totals adds rows up (one currency).
func Totals(rows []Row) Row {
	var t Row
	for _, r := range rows {
		t.Currency = r.Currency
		t.Sessions += r.Sessions
		t.EnergyWh += r.EnergyWh
		t.Gross += r.Gross
		t.Tax += r.Tax
		t.ProviderFee += r.ProviderFee
		t.PlatformFee += r.PlatformFee
		t.Refunds += r.Refunds
		t.Net += r.Net
	}
	return t
}
