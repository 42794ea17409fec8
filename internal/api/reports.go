package api

import (
	"bytes"
	"encoding/csv"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/chargestar/chargestar/internal/billing"
	"github.com/chargestar/chargestar/internal/model"
	"github.com/chargestar/chargestar/internal/reports"
	"github.com/chargestar/chargestar/internal/store"
)

// Revenue reports: settled sessions by day, week or month (in a time
// zone), optionally by site or station, as JSON or CSV. The figures
// reconcile with the ledger (see internal/reports).

// RevenueReport is a revenue report.
type RevenueReport struct {
	Period   string        `json:"period" enum:"day,week,month"`
	By       string        `json:"by,omitempty" enum:"site,station"`
	Timezone string        `json:"timezone"`
	From     string        `json:"from" doc:"First day included (YYYY-MM-DD, in timezone)."`
	To       string        `json:"to" doc:"First day not included."`
	Rows     []reports.Row `json:"rows"`
	Totals   reports.Row   `json:"totals"`
}

var revenueQuery = []param{
	operatorFilter,
	{name: "from", desc: "First day (YYYY-MM-DD) in timezone; default: 30 days before to.", schema: map[string]any{"type": "string", "format": "date"}},
	{name: "to", desc: "Day after the last (YYYY-MM-DD); default: tomorrow.", schema: map[string]any{"type": "string", "format": "date"}},
	{name: "period", desc: "day (default), week (from Monday) or month.", schema: map[string]any{"type": "string", "enum": []string{"day", "week", "month"}}},
	{name: "by", desc: "Split rows by site or station as well.", schema: map[string]any{"type": "string", "enum": []string{"site", "station"}}},
	{name: "timezone", desc: "IANA time zone of the days (default Australia/Sydney for an AU operator, else UTC).", schema: map[string]any{"type": "string"}},
	{name: "format", desc: "json (default), csv or pdf (a printable A4 report: what it covers, the rows and a totals row). Without it, " +
		"Accept: application/pdf or text/csv (preferred over application/json) asks for that format.",
		schema: map[string]any{"type": "string", "enum": []string{"json", "csv", "pdf"}}},
}

var revenueMedia = []string{"application/json", "text/csv", "application/pdf"}

// reportParams are a report request's parameters, checked.
type reportParams struct {
	operatorID string
	from, to   time.Time
	period     reports.Period
	by         reports.GroupBy
	loc        *time.Location
	format     string
}

func (h *handler) reportQuery(r *http.Request, p principal) (reportParams, error) {
	var rq reportParams
	q := r.URL.Query()
	opID, err := h.filterOperator(r, p)
	if err != nil {
		return rq, err
	}
	rq.operatorID = opID
	tzName := q.Get("timezone")
	if tzName == "" {
		tzName = "UTC"
		if opID != "" {
			if o, err := h.getOperatorByID(r.Context(), opID); err == nil && o.Country == "AU" {
				tzName = "Australia/Sydney"
			}
		}
	}
	loc, err := time.LoadLocation(tzName)
	if err != nil {
		return rq, errorf(http.StatusBadRequest, codeInvalidRequest, "timezone %q is not an IANA time zone", tzName)
	}
	rq.loc = loc
	day := func(name string, def time.Time) (time.Time, error) {
		v := q.Get(name)
		if v == "" {
			return def, nil
		}
		t, err := time.ParseInLocation("2006-01-02", v, loc)
		if err != nil {
			return time.Time{}, errorf(http.StatusBadRequest, codeInvalidRequest, "%s must be a date YYYY-MM-DD", name)
		}
		return t, nil
	}
	now := h.now().In(loc)
	tomorrow := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, loc)
	if rq.to, err = day("to", tomorrow); err != nil {
		return rq, err
	}
	if rq.from, err = day("from", rq.to.AddDate(0, 0, -30)); err != nil {
		return rq, err
	}
	if !rq.from.Before(rq.to) || rq.to.Sub(rq.from) > 3*366*24*time.Hour {
		return rq, errorf(http.StatusBadRequest, codeInvalidRequest, "from must be before to, and at most three years apart")
	}
	rq.period = reports.Period(q.Get("period"))
	if rq.period == "" {
		rq.period = reports.Day
	}
	if rq.period != reports.Day && rq.period != reports.Week && rq.period != reports.Month {
		return rq, errorf(http.StatusBadRequest, codeInvalidRequest, "period must be day, week or month")
	}
	rq.by = reports.GroupBy(q.Get("by"))
	if rq.by != reports.ByNone && rq.by != reports.BySite && rq.by != reports.ByStation {
		return rq, errorf(http.StatusBadRequest, codeInvalidRequest, "by must be site or station")
	}
	rq.format = q.Get("format")
	if rq.format != "" && rq.format != "json" && rq.format != "csv" && rq.format != "pdf" {
		return rq, errorf(http.StatusBadRequest, codeInvalidRequest, "format must be json, csv or pdf")
	}
	if rq.format == "" {
		rq.format = acceptedReportFormat(r.Header.Get("Accept"))
	}
	return rq, nil
}

// acceptedReportFormat reads Accept: "pdf" or "csv" when the client
// prefers application/pdf or text/csv to JSON, else "json".
func acceptedReportFormat(accept string) string {
	q := map[string]float64{}
	for part := range strings.SplitSeq(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		v := 1.0
		if s, ok := params["q"]; ok {
			if v, err = strconv.ParseFloat(s, 64); err != nil {
				v = 0
			}
		}
		q[mt] = max(q[mt], v)
	}
	best, format := q["application/json"], "json"
	for _, c := range []struct{ mt, format string }{{"application/pdf", "pdf"}, {"text/csv", "csv"}} {
		if v := q[c.mt]; v > 0 && v > best {
			best, format = v, c.format
		}
	}
	return format
}

// writeReportPDF writes a report's table as a PDF download.
func (h *handler) writeReportPDF(w http.ResponseWriter, r *http.Request, rq reportParams, t reports.Table, name string) error {
	t.Operator = "All operators"
	if rq.operatorID != "" {
		o, err := h.getOperatorByID(r.Context(), rq.operatorID)
		if err != nil {
			return err
		}
		t.Operator = o.Name
	}
	t.From, t.To, t.Timezone = rq.from.Format("2006-01-02"), rq.to.Format("2006-01-02"), rq.loc.String()
	t.GeneratedAt = h.now().In(rq.loc).Truncate(time.Second)
	var buf bytes.Buffer
	if err := reports.WritePDF(&buf, t); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`-`+t.From+`-`+t.To+`.pdf"`)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
	return nil
}

// siteNames names the report's site keys "Name (site_…)" for print.
func (h *handler) siteNames(r *http.Request, opID string) map[string]string {
	names := map[string]string{}
	sites, err := h.store.ListSites(r.Context(), opID)
	if err != nil {
		return names
	}
	for _, s := range sites {
		names[s.ID] = s.Name + " (" + s.ID + ")"
	}
	return names
}

func (h *handler) revenueReport(w http.ResponseWriter, r *http.Request, p principal) error {
	rq, err := h.reportQuery(r, p)
	if err != nil {
		return err
	}
	w.Header().Set("Vary", "Accept") // the format may come from Accept
	opID, from, to, period, by, loc, format := rq.operatorID, rq.from, rq.to, rq.period, rq.by, rq.loc, rq.format
	sales, err := h.store.Sales(r.Context(), opID, from, to)
	if err != nil {
		return err
	}
	rows, err := reports.Revenue(sales, period, by, loc)
	if err != nil {
		return err
	}
	rep := RevenueReport{Period: string(period), By: string(by), Timezone: loc.String(), From: from.Format("2006-01-02"),
		To: to.Format("2006-01-02"), Rows: rows, Totals: reports.Totals(rows)}
	if rep.Rows == nil {
		rep.Rows = []reports.Row{}
	}
	switch format {
	case "pdf":
		if by == reports.BySite {
			names := h.siteNames(r, opID)
			for i := range rows {
				if n, ok := names[rows[i].Key]; ok {
					rows[i].Key = n
				}
			}
		}
		return h.writeReportPDF(w, r, rq, reports.RevenueTable(rows, rep.Totals, period, by), "revenue")
	case "csv":
	default:
		writeJSON(w, http.StatusOK, rep)
		return nil
	}
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	_ = cw.Write([]string{"period_start", "key", "currency", "sessions", "energy_kwh", "gross", "tax", "provider_fees", "platform_fees", "refunds", "net"})
	line := func(start, key string, x reports.Row) {
		m := func(v int64) string { return billing.FormatMoney(v, x.Currency)[len(currencySymbol(x.Currency)):] }
		_ = cw.Write([]string{start, key, x.Currency, strconv.Itoa(x.Sessions), strconv.FormatFloat(float64(x.EnergyWh)/1000, 'f', 3, 64),
			m(x.Gross), m(x.Tax), m(x.ProviderFee), m(x.PlatformFee), m(x.Refunds), m(x.Net)})
	}
	for _, x := range rows {
		line(x.Start.Format("2006-01-02"), x.Key, x)
	}
	if len(rows) > 0 {
		line("total", "", rep.Totals)
	}
	cw.Flush()
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="revenue-`+rep.From+`-`+rep.To+`.csv"`)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
	return nil
}

// currencySymbol is the prefix billing.FormatMoney puts before amounts.
func currencySymbol(code string) string {
	s := billing.FormatMoney(0, code)
	for i, r := range s {
		if r >= '0' && r <= '9' || r == '-' {
			return s[:i]
		}
	}
	return ""
}

// UsageReport is a usage report.
type UsageReport struct {
	Period   string             `json:"period" enum:"day,week,month"`
	By       string             `json:"by,omitempty" enum:"site,station"`
	Timezone string             `json:"timezone"`
	From     string             `json:"from"`
	To       string             `json:"to"`
	Rows     []reports.UsageRow `json:"rows"`
	// Heatmap is occupied connector-minutes by weekday (Monday first) and
	// hour of day.
	Heatmap [][]int64 `json:"heatmap" doc:"7 rows (Monday first) of 24 hours."`
}

func (h *handler) usageReport(w http.ResponseWriter, r *http.Request, p principal) error {
	rq, err := h.reportQuery(r, p)
	if err != nil {
		return err
	}
	w.Header().Set("Vary", "Accept") // the format may come from Accept
	uses, err := h.store.Uses(r.Context(), rq.operatorID, rq.from, rq.to, h.now())
	if err != nil {
		return err
	}
	// Connectors per row key, for utilisation.
	var stations []model.Station
	for after := ""; ; {
		page, err := h.store.ListStations(r.Context(), store.StationFilter{OperatorID: rq.operatorID, Limit: 1000, After: after})
		if err != nil {
			return err
		}
		stations = append(stations, page...)
		if len(page) < 1000 {
			break
		}
		after = page[len(page)-1].ID
	}
	ids := make([]string, len(stations))
	for i, st := range stations {
		ids[i] = st.ID
	}
	conns, err := h.store.ListConnectorsOf(r.Context(), ids)
	if err != nil {
		return err
	}
	counts := map[string]int{}
	for _, st := range stations {
		n := 0
		for _, c := range conns[st.ID] {
			if c.ConnectorID > 0 {
				n++
			}
		}
		switch rq.by {
		case reports.BySite:
			counts[st.SiteID] += n
		case reports.ByStation:
			counts[st.ID] += n
		default:
			counts[""] += n
		}
	}
	rows, heat, err := reports.Usage(uses, rq.from, rq.to, rq.period, rq.by, rq.loc, counts)
	if err != nil {
		return err
	}
	rep := UsageReport{Period: string(rq.period), By: string(rq.by), Timezone: rq.loc.String(), From: rq.from.Format("2006-01-02"),
		To: rq.to.Format("2006-01-02"), Rows: rows}
	for _, d := range heat {
		rep.Heatmap = append(rep.Heatmap, append([]int64(nil), d[:]...))
	}
	if rep.Rows == nil {
		rep.Rows = []reports.UsageRow{}
	}
	switch rq.format {
	case "pdf":
		total := 0
		for _, n := range counts {
			total += n
		}
		if rq.by == reports.BySite {
			names := h.siteNames(r, rq.operatorID)
			for i := range rows {
				if n, ok := names[rows[i].Key]; ok {
					rows[i].Key = n
				}
			}
		}
		return h.writeReportPDF(w, r, rq, reports.UsageTable(rows, rq.period, rq.by, rq.from, rq.to, total), "usage")
	case "csv":
	default:
		writeJSON(w, http.StatusOK, rep)
		return nil
	}
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	_ = cw.Write([]string{"period_start", "key", "sessions", "energy_kwh", "occupied_hours", "utilisation_pct"})
	for _, x := range rows {
		_ = cw.Write([]string{x.Start.Format("2006-01-02"), x.Key, strconv.Itoa(x.Sessions), strconv.FormatFloat(float64(x.EnergyWh)/1000, 'f', 3, 64),
			strconv.FormatFloat(float64(x.OccupiedSeconds)/3600, 'f', 2, 64), strconv.FormatFloat(x.Utilisation, 'f', 1, 64)})
	}
	cw.Flush()
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="usage-`+rep.From+`-`+rep.To+`.csv"`)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
	return nil
}
