package reports

import (
	"testing"
	"time"
)

func TestRevenueBucketsInTheSitesZone(t *testing.T) {
	syd, _ := time.LoadLocation("Australia/Sydney")
	// 23:30 UTC on Sunday 1 March is 10:30 on Monday 2 March in Sydney.
	sales := []Sale{
		{PaymentID: "a", StationID: "S1", SiteID: "A", SettledAt: time.Date(2026, 3, 1, 23, 30, 0, 0, time.UTC), Currency: "AUD", Gross: 1100, Tax: 100, EnergyWh: 20000},
		{PaymentID: "b", StationID: "S2", SiteID: "A", SettledAt: time.Date(2026, 3, 2, 5, 0, 0, 0, time.UTC), Currency: "AUD", Gross: 550, Tax: 50, Refunded: 220, RefundTax: 20, EnergyWh: 9000},
		{PaymentID: "c", StationID: "S3", SiteID: "B", SettledAt: time.Date(2026, 3, 8, 1, 0, 0, 0, time.UTC), Currency: "AUD", Gross: 330, Tax: 30, EnergyWh: 4000},
	}
	days, err := Revenue(sales, Day, ByNone, syd)
	if err != nil {
		t.Fatal(err)
	}
	if len(days) != 2 || days[0].Start.Day() != 2 || days[0].Sessions != 2 || days[0].Gross != 1650 || days[0].Tax != 130 ||
		days[0].Refunds != 220 || days[0].Net != 1650-150-200 {
		t.Fatalf("days: %+v", days)
	}
	weeks, _ := Revenue(sales, Week, BySite, syd)
	if len(weeks) != 2 || weeks[0].Key != "A" || weeks[0].Start.Weekday() != time.Monday || weeks[1].Key != "B" {
		t.Fatalf("weeks: %+v", weeks)
	}
	months, _ := Revenue(sales, Month, ByStation, syd)
	if len(months) != 3 {
		t.Fatalf("months: %+v", months)
	}
	tot := Totals(days)
	if tot.Gross != 1980 || tot.Sessions != 3 || tot.Net != 1980-180-200 || tot.EnergyWh != 33000 {
		t.Fatalf("totals: %+v", tot)
	}
	if _, err := Revenue(sales, "year", ByNone, syd); err == nil {
		t.Fatal("unknown period accepted")
	}
}
