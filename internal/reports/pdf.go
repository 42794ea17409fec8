package reports

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/chargestar/chargestar/internal/billing"
	"github.com/chargestar/chargestar/internal/pdfdoc"
)

// Printable reports: a title, what the report covers (operator, period,
// time zone, grouping), a table of the rows with its header repeated on
// every page, and a totals row — on A4, portrait for narrow tables and
// landscape for wide ones, laid out here and written by internal/pdfdoc
// (the built-in Helvetica fonts, nothing embedded). The same Table always
// gives the same bytes.

// Table is a report to print.
type Table struct {
	Title    string // "Revenue report"
	Operator string // the operator's name; "All operators" for the platform
	// From is the first day, To the first day not included (YYYY-MM-DD,
	// in Timezone), as the API reports them.
	From, To    string
	Timezone    string
	Period      Period
	By          GroupBy
	GeneratedAt time.Time // printed and the PDF's creation date; zero: omitted
	Columns     []Column
	Rows        [][]string
	// Totals is the last row, in bold under a rule; nil: none.
	Totals []string
	// Note is a line under the table (e.g. "Amounts in AUD, GST included").
	Note string
}

// Column is a table column.
type Column struct {
	Title string
	// Numeric columns are right-aligned and never wrapped.
	Numeric bool
}

// RevenueTable is a revenue report's rows as a printable table.
func RevenueTable(rows []Row, totals Row, period Period, by GroupBy) Table {
	t := Table{Title: "Revenue report", Period: period, By: by}
	t.Columns = []Column{{Title: "Period"}}
	if by != ByNone {
		t.Columns = append(t.Columns, Column{Title: pdfGroupTitle(by)})
	}
	for _, c := range []string{"Sessions", "Energy (kWh)", "Gross", "GST", "Provider fees", "Platform fees", "Refunds", "Net"} {
		t.Columns = append(t.Columns, Column{Title: c, Numeric: true})
	}
	cells := func(label, key string, r Row) []string {
		m := func(v int64) string { return billing.FormatMoney(v, r.Currency) }
		out := []string{label}
		if by != ByNone {
			out = append(out, key)
		}
		return append(out, strconv.Itoa(r.Sessions), pdfKwh(r.EnergyWh), m(r.Gross), m(r.Tax), m(r.ProviderFee), m(r.PlatformFee),
			m(r.Refunds), m(r.Net))
	}
	currencies := map[string]bool{}
	for _, r := range rows {
		t.Rows = append(t.Rows, cells(pdfPeriodLabel(r.Start, period), r.Key, r))
		currencies[r.Currency] = true
	}
	if len(rows) > 0 {
		t.Totals = cells("Total", "", totals)
	}
	if len(currencies) == 1 {
		t.Note = "Amounts in " + totals.Currency + ", tax included in gross; net is gross less tax, fees and refunds (net of their tax)."
	}
	return t
}

// UsageTable is a usage report's rows as a printable table. connectors is
// the number of connectors of the whole report (all keys), for the total
// utilisation over [from, to).
func UsageTable(rows []UsageRow, period Period, by GroupBy, from, to time.Time, connectors int) Table {
	t := Table{Title: "Usage report", Period: period, By: by}
	t.Columns = []Column{{Title: "Period"}}
	if by != ByNone {
		t.Columns = append(t.Columns, Column{Title: pdfGroupTitle(by)})
	}
	for _, c := range []string{"Sessions", "Energy (kWh)", "Occupied (h)", "Utilisation"} {
		t.Columns = append(t.Columns, Column{Title: c, Numeric: true})
	}
	var tot UsageRow
	for _, r := range rows {
		row := []string{pdfPeriodLabel(r.Start, period)}
		if by != ByNone {
			row = append(row, r.Key)
		}
		t.Rows = append(t.Rows, append(row, strconv.Itoa(r.Sessions), pdfKwh(r.EnergyWh), pdfHours(r.OccupiedSeconds), pdfPct(r.Utilisation)))
		tot.Sessions += r.Sessions
		tot.EnergyWh += r.EnergyWh
		tot.OccupiedSeconds += r.OccupiedSeconds
	}
	if len(rows) > 0 {
		util := "–"
		if span := to.Sub(from).Seconds(); connectors > 0 && span > 0 {
			util = pdfPct(float64(tot.OccupiedSeconds) / (float64(connectors) * span) * 100)
		}
		row := []string{"Total"}
		if by != ByNone {
			row = append(row, "")
		}
		t.Totals = append(row, strconv.Itoa(tot.Sessions), pdfKwh(tot.EnergyWh), pdfHours(tot.OccupiedSeconds), util)
	}
	t.Note = "Occupied: connector time in sessions. Utilisation: occupied time over the connectors' time in the period."
	return t
}

func pdfGroupTitle(by GroupBy) string {
	if by == BySite {
		return "Site"
	}
	return "Station"
}

func pdfKwh(wh int64) string { return strconv.FormatFloat(float64(wh)/1000, 'f', 3, 64) }

func pdfHours(s int64) string { return strconv.FormatFloat(float64(s)/3600, 'f', 2, 64) }

func pdfPct(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) + "%" }

// pdfPeriodLabel names a bucket: "Mon 2 Mar 2026", "Week of 2 Mar 2026",
// "March 2026".
func pdfPeriodLabel(start time.Time, p Period) string {
	switch p {
	case Week:
		return "Week of " + start.Format("2 Jan 2006")
	case Month:
		return start.Format("January 2006")
	}
	return start.Format("Mon 2 Jan 2006")
}

// Page geometry, in points (A4; landscape for wide tables).
const (
	pdfA4Short   = 595.28
	pdfA4Long    = 841.89
	pdfMargin    = 40.0
	pdfCellPad   = 5.0
	pdfFontSize  = 8.5
	pdfRowLead   = 11.0
	pdfHeadLead  = 12.0
	pdfInk       = 0.1
	pdfMuted     = 0.38
	pdfHair      = 0.78
	pdfMaxKeyPct = 0.4 // a text column never takes more than this of the width
)

// WritePDF writes t as a PDF: A4, its rows on as many pages as they need,
// every page numbered.
func WritePDF(w io.Writer, t Table) error {
	if len(t.Columns) == 0 {
		return fmt.Errorf("reports: a table needs columns")
	}
	for i, r := range append(append([][]string(nil), t.Rows...), t.Totals) {
		if r != nil && len(r) != len(t.Columns) {
			return fmt.Errorf("reports: row %d has %d cells for %d columns", i, len(r), len(t.Columns))
		}
	}
	width, height := pdfA4Short, pdfA4Long
	if len(t.Columns) > 6 {
		width, height = pdfA4Long, pdfA4Short
	}
	l := &pdfLayout{width: width, height: height, t: t}
	l.columns()
	l.run()
	info := []string{"/Title " + pdfdoc.TextString(t.Title)}
	if t.Operator != "" {
		info = append(info, "/Author "+pdfdoc.TextString(t.Operator))
	}
	if !t.GeneratedAt.IsZero() {
		info = append(info, "/CreationDate ("+pdfdoc.Date(t.GeneratedAt)+")")
	}
	pages := make([][]byte, len(l.pages))
	for i, p := range l.pages {
		pages[i] = p.Bytes()
	}
	return pdfdoc.Write(w, pdfdoc.Document{Width: width, Height: height, Pages: pages, Info: info})
}

type pdfLayout struct {
	width, height float64
	t             Table
	x, w          []float64 // each column's left edge and width
	pages         []*bytes.Buffer
	cur           *bytes.Buffer
	y             float64
}

// columns sizes the columns to their widest cell; when the table is too
// wide, text columns give up width (their cells wrap) down to their
// header's width.
func (l *pdfLayout) columns() {
	n := len(l.t.Columns)
	l.w = make([]float64, n)
	measure := func(i int, s string, f pdfdoc.Font) {
		l.w[i] = max(l.w[i], pdfdoc.TextWidth(pdfdoc.WinAnsi(s), f, pdfFontSize)+2*pdfCellPad)
	}
	for i, c := range l.t.Columns {
		measure(i, c.Title, pdfdoc.HelveticaBold)
	}
	for _, r := range l.t.Rows {
		for i, s := range r {
			measure(i, s, pdfdoc.Helvetica)
		}
	}
	for i, s := range l.t.Totals {
		measure(i, s, pdfdoc.HelveticaBold)
	}
	avail := l.width - 2*pdfMargin
	total := 0.0
	for _, v := range l.w {
		total += v
	}
	for i, c := range l.t.Columns {
		if total <= avail {
			break
		}
		if c.Numeric {
			continue
		}
		floor := pdfdoc.TextWidth(pdfdoc.WinAnsi(c.Title), pdfdoc.HelveticaBold, pdfFontSize) + 2*pdfCellPad
		target := max(floor, min(l.w[i]-(total-avail), avail*pdfMaxKeyPct))
		if target < l.w[i] {
			total -= l.w[i] - target
			l.w[i] = target
		}
	}
	// Spread what is left over the numeric columns: the table spans the page.
	if total < avail {
		numeric := 0
		for _, c := range l.t.Columns {
			if c.Numeric {
				numeric++
			}
		}
		for i, c := range l.t.Columns {
			switch {
			case numeric == 0:
				l.w[i] += (avail - total) / float64(n)
			case c.Numeric:
				l.w[i] += (avail - total) / float64(numeric)
			}
		}
	}
	l.x = make([]float64, n)
	x := pdfMargin
	for i := range l.w {
		l.x[i] = x
		x += l.w[i]
	}
}

func (l *pdfLayout) run() {
	t := l.t
	l.newPage()
	// Title and what the report covers.
	l.text(pdfMargin, l.y-18, pdfdoc.HelveticaBold, 18, pdfInk, t.Title)
	l.y -= 28
	l.rule(pdfMargin, l.width-pdfMargin, l.y, 1.2, pdfInk)
	l.y -= 6
	for _, f := range l.fields() {
		l.text(pdfMargin, l.y-10, pdfdoc.Helvetica, 9.5, pdfMuted, f[0])
		l.text(pdfMargin+95, l.y-10, pdfdoc.Helvetica, 9.5, pdfInk, f[1])
		l.y -= 13.5
	}
	l.y -= 10
	l.header()
	if len(t.Rows) == 0 {
		l.text(pdfMargin+pdfCellPad, l.y-pdfRowLead, pdfdoc.Helvetica, 9.5, pdfMuted, "Nothing in this period.")
		l.y -= pdfRowLead + 6
	}
	for _, r := range t.Rows {
		l.row(r, pdfdoc.Helvetica, false)
	}
	if t.Totals != nil {
		l.row(t.Totals, pdfdoc.HelveticaBold, true)
	}
	if t.Note != "" {
		l.need(20)
		l.y -= 8
		l.text(pdfMargin, l.y-9, pdfdoc.Helvetica, 8, pdfMuted, t.Note)
		l.y -= 12
	}
	n := len(l.pages)
	for i, p := range l.pages {
		l.cur = p
		foot := t.Title
		if t.Operator != "" {
			foot += " · " + t.Operator
		}
		l.text(pdfMargin, pdfMargin-18, pdfdoc.Helvetica, 8, pdfMuted, foot)
		s := fmt.Sprintf("Page %d of %d", i+1, n)
		l.textRight(l.width-pdfMargin, pdfMargin-18, pdfdoc.Helvetica, 8, pdfMuted, s)
	}
}

// fields are the labelled lines under the title.
func (l *pdfLayout) fields() [][2]string {
	t := l.t
	var out [][2]string
	if t.Operator != "" {
		out = append(out, [2]string{"Operator", t.Operator})
	}
	if from, err := time.Parse("2006-01-02", t.From); err == nil {
		if to, err := time.Parse("2006-01-02", t.To); err == nil {
			out = append(out, [2]string{"Period", from.Format("2 Jan 2006") + " to " + to.AddDate(0, 0, -1).Format("2 Jan 2006") + " (inclusive)"})
		}
	}
	if t.Timezone != "" {
		out = append(out, [2]string{"Time zone", t.Timezone})
	}
	g := "by " + string(t.Period)
	if t.Period == "" {
		g = "by day"
	}
	if t.By != ByNone {
		g += ", by " + string(t.By)
	}
	out = append(out, [2]string{"Grouping", g})
	if !t.GeneratedAt.IsZero() {
		out = append(out, [2]string{"Generated", t.GeneratedAt.Format("2 Jan 2006 15:04 MST")})
	}
	return out
}

func (l *pdfLayout) newPage() {
	l.cur = new(bytes.Buffer)
	l.pages = append(l.pages, l.cur)
	l.y = l.height - pdfMargin
}

// need starts a new page, with the table header, unless h more points fit.
func (l *pdfLayout) need(h float64) bool {
	if l.y-h >= pdfMargin {
		return false
	}
	l.newPage()
	l.text(pdfMargin, l.y-10, pdfdoc.HelveticaBold, 10, pdfMuted, l.t.Title+" (continued)")
	l.y -= 20
	l.header()
	return true
}

func (l *pdfLayout) header() {
	l.fill(pdfMargin, l.y-pdfHeadLead-4, l.width-2*pdfMargin, pdfHeadLead+4, 0.93)
	base := l.y - pdfHeadLead + 1
	for i, c := range l.t.Columns {
		if c.Numeric {
			l.textRight(l.x[i]+l.w[i]-pdfCellPad, base, pdfdoc.HelveticaBold, pdfFontSize, pdfMuted, c.Title)
		} else {
			l.text(l.x[i]+pdfCellPad, base, pdfdoc.HelveticaBold, pdfFontSize, pdfMuted, c.Title)
		}
	}
	l.y -= pdfHeadLead + 4
	l.rule(pdfMargin, l.width-pdfMargin, l.y, 0.8, pdfInk)
}

func (l *pdfLayout) row(cells []string, f pdfdoc.Font, totals bool) {
	wrapped := make([][][]byte, len(cells))
	lines := 1
	for i, s := range cells {
		b := pdfdoc.WinAnsi(s)
		if l.t.Columns[i].Numeric {
			wrapped[i] = [][]byte{b}
		} else {
			wrapped[i] = pdfWrapBytes(b, f, pdfFontSize, l.w[i]-2*pdfCellPad)
		}
		lines = max(lines, len(wrapped[i]))
	}
	h := float64(lines)*pdfRowLead + 5
	if totals {
		h += 4
	}
	l.need(h)
	if totals {
		l.y -= 2
		l.rule(pdfMargin, l.width-pdfMargin, l.y, 1.2, pdfInk)
		l.y -= 2
	}
	base := l.y - pdfRowLead + 1.5
	for i := range cells {
		for j, line := range wrapped[i] {
			y := base - float64(j)*pdfRowLead
			if l.t.Columns[i].Numeric {
				l.showRight(l.x[i]+l.w[i]-pdfCellPad, y, f, pdfFontSize, pdfInk, line)
			} else {
				l.show(l.x[i]+pdfCellPad, y, f, pdfFontSize, pdfInk, line)
			}
		}
	}
	l.y -= float64(lines)*pdfRowLead + 5
	if !totals {
		l.rule(pdfMargin, l.width-pdfMargin, l.y, 0.4, pdfHair)
	}
}

// pdfWrapBytes breaks WinAnsi text into lines no wider than width: at spaces
// when it can, inside a word (a long station id) when it must.
func pdfWrapBytes(b []byte, f pdfdoc.Font, size, width float64) [][]byte {
	var out [][]byte
	width += 0.01 // a column sized to its widest cell holds it, rounding aside
	for pdfdoc.TextWidth(b, f, size) > width && len(b) > 1 {
		fit := 1
		for fit < len(b) && pdfdoc.TextWidth(b[:fit+1], f, size) <= width {
			fit++
		}
		cut := fit
		if i := bytes.LastIndexByte(b[:min(fit+1, len(b))], ' '); i > 0 {
			cut = i
		}
		out = append(out, bytes.TrimRight(b[:cut], " "))
		b = bytes.TrimLeft(b[cut:], " ")
	}
	return append(out, b)
}

func (l *pdfLayout) text(x, y float64, f pdfdoc.Font, size, grey float64, s string) {
	l.show(x, y, f, size, grey, pdfdoc.WinAnsi(s))
}

func (l *pdfLayout) textRight(x, y float64, f pdfdoc.Font, size, grey float64, s string) {
	l.showRight(x, y, f, size, grey, pdfdoc.WinAnsi(s))
}

func (l *pdfLayout) show(x, y float64, f pdfdoc.Font, size, grey float64, b []byte) {
	if len(b) == 0 {
		return
	}
	fmt.Fprintf(l.cur, "%s g BT %s %s Tf %s %s Td %s Tj ET\n", pdfdoc.Num(grey), f.Resource(), pdfdoc.Num(size),
		pdfdoc.Num(x), pdfdoc.Num(y), pdfdoc.String(b))
}

func (l *pdfLayout) showRight(x, y float64, f pdfdoc.Font, size, grey float64, b []byte) {
	l.show(x-pdfdoc.TextWidth(b, f, size), y, f, size, grey, b)
}

func (l *pdfLayout) rule(x1, x2, y, width, grey float64) {
	fmt.Fprintf(l.cur, "%s G %s w %s %s m %s %s l S\n", pdfdoc.Num(grey), pdfdoc.Num(width),
		pdfdoc.Num(x1), pdfdoc.Num(y), pdfdoc.Num(x2), pdfdoc.Num(y))
}

func (l *pdfLayout) fill(x, y, w, h, grey float64) {
	fmt.Fprintf(l.cur, "%s g %s %s %s %s re f\n", pdfdoc.Num(grey), pdfdoc.Num(x), pdfdoc.Num(y), pdfdoc.Num(w), pdfdoc.Num(h))
}
