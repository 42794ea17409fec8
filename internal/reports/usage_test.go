package reports

import (
	"testing"
	"time"
)

func TestUsage(t *testing.T) {
	syd, _ := time.LoadLocation("Australia/Sydney")
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, syd) // a Monday
	from, to := day, day.AddDate(0, 0, 2)
	uses := []Use{
		// 22:00–02:00 across midnight on station S1.
		{StationID: "S1", SiteID: "A", ConnectorID: 1, Start: day.Add(22 * time.Hour), Stop: day.Add(26 * time.Hour), EnergyWh: 30000},
		// 10:00–11:00 on S2.
		{StationID: "S2", SiteID: "A", ConnectorID: 1, Start: day.Add(10 * time.Hour), Stop: day.Add(11 * time.Hour), EnergyWh: 7000},
		// Started before the report: only its time inside counts.
		{StationID: "S1", SiteID: "A", ConnectorID: 2, Start: day.Add(-time.Hour), Stop: day.Add(time.Hour), EnergyWh: 5000},
	}
	rows, heat, err := Usage(uses, from, to, Day, ByNone, syd, map[string]int{"": 4})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 {
		t.Fatalf("rows: %+v", rows)
	}
	mon, tue := rows[0], rows[1]
	if mon.Sessions != 2 || mon.EnergyWh != 37000 || mon.OccupiedSeconds != (2+1+1)*3600 || tue.Sessions != 0 || tue.OccupiedSeconds != 2*3600 {
		t.Fatalf("days: %+v %+v", mon, tue)
	}
	if want := 4.0 * 3600 / (4 * 86400) * 100; mon.Utilisation < want-1e-9 || mon.Utilisation > want+1e-9 {
		t.Fatalf("utilisation %v, want %v", mon.Utilisation, want)
	}
	if heat[0][22] != 60 || heat[0][10] != 60 || heat[1][1] != 60 || heat[0][0] != 60 || heat[6][23] != 0 {
		t.Fatalf("heat map: mon22=%d mon10=%d tue01=%d mon00=%d", heat[0][22], heat[0][10], heat[1][1], heat[0][0])
	}
	byStation, _, _ := Usage(uses, from, to, Week, ByStation, syd, map[string]int{"S1": 2, "S2": 1})
	if len(byStation) != 2 || byStation[0].Key != "S1" || byStation[0].OccupiedSeconds != 5*3600 {
		t.Fatalf("by station: %+v", byStation)
	}
}
