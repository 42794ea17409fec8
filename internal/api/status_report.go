package api

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chargestar/chargestar/internal/access"
	"github.com/chargestar/chargestar/internal/reports"
	"github.com/chargestar/chargestar/internal/store"
)

// The status report: uptime, availability, faults and offline periods of
// an operator's stations over a range of days (internal/reports.Status;
// the store reads station_connections and status_events).

type statusReportStore interface {
	StatusReportInput(ctx context.Context, f store.StatusReportFilter) ([]reports.StatusStation, []reports.Connection, []reports.StatusChange, error)
}

// StatusReport is a status report.
type StatusReport struct {
	Period   string `json:"period" enum:"day,week,month"`
	By       string `json:"by,omitempty" enum:"site,station"`
	Timezone string `json:"timezone"`
	From     string `json:"from" doc:"First day included (YYYY-MM-DD, in timezone)."`
	To       string `json:"to" doc:"First day not included."`
	SiteID   string `json:"site_id,omitempty" doc:"The site asked for, if any."`
	// StationID is the station asked for, if any.
	StationID   string    `json:"station_id,omitempty" doc:"The station asked for, if any."`
	GeneratedAt time.Time `json:"generated_at" doc:"The report's now: connections still open end here, and later time is not counted."`
	// The figures (see internal/reports.Status).
	Rows     []reports.StatusRow     `json:"rows"`
	Stations []reports.StationStatus `json:"stations"`
	Totals   reports.StatusTotals    `json:"totals"`
}

var statusReportQuery = slices.Concat(revenueQuery, []param{
	{name: "site_id", desc: "Only this site's stations.", schema: map[string]any{"type": "string"}},
	{name: "station_id", desc: "Only this station.", schema: map[string]any{"type": "string"}},
})

const statusReportDoc = "Per station and connector over [from, to), and per day, week or month in a time zone (optionally by site or station): " +
	"uptime (time connected over the time observed), availability (time a connector was usable: its station connected and neither it nor " +
	"connector 0 last reported Faulted or Unavailable), fault notifications by error code (status Faulted or an error code other than NoError) " +
	"and the periods each station was offline. A station is observed from its registration (or from) to its retirement (or to, or now); " +
	"stations retired before from are left out. Before a connector's first status it counts as usable. The figures reconcile with the " +
	"stored connection periods and status events: offline_seconds is the sum of offline_periods, and the rows add up to the totals. " +
	"CSV: one line per station and per connector, then the total; PDF: one line per station, then the total."

func (h *handler) statusReportRoutes() []route {
	return []route{
		{method: "GET", pattern: "/api/v1/reports/status", handle: h.statusReport,
			id: "statusReport", tag: tagPayments, need: access.View, summary: "Station status report: uptime, availability, faults, offline periods (JSON or CSV)",
			desc: statusReportDoc, query: statusReportQuery, ok: 200, resp: StatusReport{}, media: revenueMedia, errs: []int{e400, e401, e404}},
	}
}

func (h *handler) statusReport(w http.ResponseWriter, r *http.Request, p principal) error {
	rq, err := h.reportQuery(r, p)
	if err != nil {
		return err
	}
	ctx := r.Context()
	q := r.URL.Query()
	siteID, stationID := q.Get("site_id"), q.Get("station_id")
	// A site or station of another operator (or of an operator other than
	// the operator_id given) answers 404, as an unknown one does.
	if siteID != "" {
		site, err := h.store.GetSite(ctx, p.scope(), siteID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && rq.operatorID != "" && site.OperatorID != rq.operatorID) {
			return notFound("site", siteID)
		}
		if err != nil {
			return err
		}
	}
	if stationID != "" {
		st, err := h.store.GetStation(ctx, stationID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && (!p.canSee(st.OperatorID) || rq.operatorID != "" && st.OperatorID != rq.operatorID)) {
			return notFound("station", stationID)
		}
		if err != nil {
			return err
		}
	}
	now := h.now()
	stations, conns, changes, err := h.store.StatusReportInput(ctx, store.StatusReportFilter{OperatorID: rq.operatorID, SiteID: siteID,
		StationID: stationID, From: rq.from, To: rq.to})
	if err != nil {
		return err
	}
	rep, err := reports.Status(reports.StatusInput{From: rq.from, To: rq.to, Now: now, Period: rq.period, By: rq.by, Loc: rq.loc,
		Stations: stations, Connections: conns, Changes: changes})
	if err != nil {
		return err
	}
	out := StatusReport{Period: string(rq.period), By: string(rq.by), Timezone: rq.loc.String(), From: rq.from.Format("2006-01-02"),
		To: rq.to.Format("2006-01-02"), SiteID: siteID, StationID: stationID, GeneratedAt: now.UTC().Truncate(time.Microsecond),
		Rows: rep.Rows, Stations: rep.Stations, Totals: rep.Totals}
	w.Header().Set("Vary", "Accept") // the format may come from Accept
	switch rq.format {
	case "pdf":
		return h.writeReportPDF(w, r, rq, statusTable(rep, rq.period, rq.by), "status")
	case "csv":
	default:
		writeJSON(w, http.StatusOK, out)
		return nil
	}
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	_ = cw.Write([]string{"station_id", "connector_id", "site_id", "observed_hours", "connected_hours", "uptime_pct",
		"available_hours", "availability_pct", "offline_periods", "offline_hours", "faults", "faults_by_code"})
	hours := func(s int64) string { return strconv.FormatFloat(float64(s)/3600, 'f', 2, 64) }
	pct := func(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }
	codes := func(fs []reports.FaultCount) string {
		parts := make([]string, len(fs))
		for i, f := range fs {
			parts[i] = f.ErrorCode + "=" + strconv.Itoa(f.Count)
		}
		return strings.Join(parts, " ")
	}
	for _, s := range rep.Stations {
		_ = cw.Write([]string{s.StationID, "", s.SiteID, hours(s.ObservedSeconds), hours(s.ConnectedSeconds), pct(s.UptimePct),
			hours(s.AvailableSeconds), pct(s.AvailabilityPct), strconv.Itoa(len(s.OfflinePeriods)), hours(s.OfflineSeconds),
			strconv.Itoa(s.Faults), codes(s.FaultsByCode)})
		for _, c := range s.Connectors {
			_ = cw.Write([]string{s.StationID, strconv.Itoa(c.ConnectorID), s.SiteID, hours(c.ObservedSeconds), "", "",
				hours(c.AvailableSeconds), pct(c.AvailabilityPct), "", "", strconv.Itoa(c.Faults), codes(c.FaultsByCode)})
		}
	}
	t := rep.Totals
	_ = cw.Write([]string{"total", "", "", hours(t.ObservedSeconds), hours(t.ConnectedSeconds), pct(t.UptimePct),
		hours(t.AvailableSeconds), pct(t.AvailabilityPct), strconv.Itoa(t.OfflinePeriods), hours(t.OfflineSeconds),
		strconv.Itoa(t.Faults), codes(t.FaultsByCode)})
	cw.Flush()
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="status-`+out.From+`-`+out.To+`.csv"`)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
	return nil
}

// statusTable is the status report's stations as a printable table.
func statusTable(rep reports.StatusReport, period reports.Period, by reports.GroupBy) reports.Table {
	t := reports.Table{Title: "Station status report", Period: period, By: by}
	t.Columns = []reports.Column{{Title: "Station"}, {Title: "Site"}, {Title: "Uptime %", Numeric: true}, {Title: "Availability %", Numeric: true},
		{Title: "Offline periods", Numeric: true}, {Title: "Offline (h)", Numeric: true}, {Title: "Faults", Numeric: true}, {Title: "Fault codes"}}
	pct := func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
	hours := func(s int64) string { return strconv.FormatFloat(float64(s)/3600, 'f', 1, 64) }
	codes := func(fs []reports.FaultCount) string {
		parts := make([]string, len(fs))
		for i, f := range fs {
			parts[i] = f.ErrorCode + " ×" + strconv.Itoa(f.Count)
		}
		return strings.Join(parts, ", ")
	}
	for _, s := range rep.Stations {
		t.Rows = append(t.Rows, []string{s.StationID, s.SiteID, pct(s.UptimePct), pct(s.AvailabilityPct), strconv.Itoa(len(s.OfflinePeriods)),
			hours(s.OfflineSeconds), strconv.Itoa(s.Faults), codes(s.FaultsByCode)})
	}
	tot := rep.Totals
	if len(rep.Stations) > 0 {
		t.Totals = []string{"Total", strconv.Itoa(tot.Stations) + " stations", pct(tot.UptimePct), pct(tot.AvailabilityPct),
			strconv.Itoa(tot.OfflinePeriods), hours(tot.OfflineSeconds), strconv.Itoa(tot.Faults), codes(tot.FaultsByCode)}
	}
	t.Note = "Uptime: time connected over time observed. Availability: connector time usable (station connected, connector neither Faulted nor Unavailable)."
	return t
}
