package reports

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chargestar/chargestar/internal/pdfdoc/pdftest"
	"github.com/chargestar/chargestar/internal/testutil"
)

func sampleRevenue(t *testing.T, n int) Table {
	t.Helper()
	sydney, _ := time.LoadLocation("Australia/Sydney")
	var sales []Sale
	for i := range n {
		at := time.Date(2026, 3, 2, 9, 0, 0, 0, sydney).AddDate(0, 0, i/3)
		gross := int64(1100 + 37*i)
		sales = append(sales, Sale{PaymentID: fmt.Sprint(i), StationID: fmt.Sprintf("CP-%03d-A-VERY-LONG-STATION-IDENTIFIER", i%3), SettledAt: at,
			Currency: "AUD", Gross: gross, Tax: gross / 11, EnergyWh: 20_000 + int64(i)})
	}
	rows, err := Revenue(sales, Day, ByStation, sydney)
	if err != nil {
		t.Fatal(err)
	}
	tb := RevenueTable(rows, Totals(rows), Day, ByStation)
	tb.Operator, tb.From, tb.To, tb.Timezone = "Harbour Parking", "2026-03-01", "2026-04-01", "Australia/Sydney"
	tb.GeneratedAt = time.Date(2026, 4, 1, 9, 30, 0, 0, sydney)
	return tb
}

func render(t *testing.T, tb Table) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WritePDF(&buf, tb); err != nil {
		t.Fatal(err)
	}
	pdftest.Read(t, buf.Bytes()) // the structure, also where poppler is missing
	return buf.Bytes()
}

// pdftotext reads the file with poppler, an independent reader.
func pdftotext(t *testing.T, file []byte) string {
	t.Helper()
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		testutil.SkipOrFail(t, "pdftotext not on PATH (Debian: apt-get install poppler-utils)")
	}
	path := filepath.Join(t.TempDir(), "report.pdf")
	if err := os.WriteFile(path, file, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-enc", "UTF-8", "-layout", path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	if s := string(out); strings.Contains(s, "Syntax Error") || strings.Contains(s, "Syntax Warning") {
		t.Fatalf("pdftotext complained:\n%s", s)
	}
	return string(out)
}

// TestRevenuePDF: the report reads back with its heading, its rows and
// the totals row (sum of the sales, computed here); many rows run over
// pages, each numbered and with the header repeated; the same table
// gives the same bytes.
func TestRevenuePDF(t *testing.T) {
	tb := sampleRevenue(t, 90)
	file := render(t, tb)
	if !bytes.HasPrefix(file, []byte("%PDF-1.4")) || !bytes.HasSuffix(file, []byte("%%EOF\n")) {
		t.Fatalf("not a PDF: %q…", file[:16])
	}
	if !bytes.Equal(file, render(t, tb)) {
		t.Error("the same table gave different bytes")
	}
	var gross, tax int64
	for i := range 90 {
		g := int64(1100 + 37*i)
		gross += g
		tax += g / 11
	}
	text := pdftotext(t, file)
	pages := strings.Count(text, "\f")
	if pages < 2 {
		t.Errorf("90 rows on %d page(s)", pages)
	}
	for _, want := range []string{
		"Revenue report", "Harbour Parking", "1 Mar 2026 to 31 Mar 2026", "Australia/Sydney", "by day, by station",
		"Mon 2 Mar 2026", "Gross", "Net", "Total", "90",
		"$" + money(gross), "$" + money(tax), "$" + money(gross-tax),
		fmt.Sprintf("Page %d of %d", pages, pages), "Revenue report (continued)",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the PDF lacks %q:\n%s", want, text)
		}
	}
	// The long station ids wrap inside their column rather than run over the numbers.
	if strings.Contains(text, "CP-000-A-VERY-LONG-STATION-IDENTIFIER") && strings.Count(text, "Station") < pages {
		t.Errorf("header not repeated on every page")
	}
}

// money is minor units as FormatMoney writes them without the symbol: 1,234.56.
func money(v int64) string {
	s := fmt.Sprintf("%d.%02d", v/100, v%100)
	intPart, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String() + "." + frac
}

func TestUsagePDF(t *testing.T) {
	utc := time.UTC
	from, to := time.Date(2026, 3, 1, 0, 0, 0, 0, utc), time.Date(2026, 3, 3, 0, 0, 0, 0, utc)
	uses := []Use{
		{SessionID: "a", StationID: "CP-1", ConnectorID: 1, Start: from.Add(10 * time.Hour), Stop: from.Add(12 * time.Hour), EnergyWh: 30_000},
		{SessionID: "b", StationID: "CP-1", ConnectorID: 2, Start: from.Add(34 * time.Hour), Stop: from.Add(37 * time.Hour), EnergyWh: 45_500},
	}
	rows, _, err := Usage(uses, from, to, Day, ByNone, utc, map[string]int{"": 2})
	if err != nil {
		t.Fatal(err)
	}
	tb := UsageTable(rows, Day, ByNone, from, to, 2)
	tb.Operator, tb.From, tb.To, tb.Timezone = "Harbour Parking", "2026-03-01", "2026-03-03", "UTC"
	text := pdftotext(t, render(t, tb))
	// 5 h occupied of 2 connectors × 48 h = 5.2%.
	for _, want := range []string{"Usage report", "Sun 1 Mar 2026", "Mon 2 Mar 2026", "75.500", "5.00", "5.2%", "Utilisation"} {
		if !strings.Contains(text, want) {
			t.Errorf("the PDF lacks %q:\n%s", want, text)
		}
	}
	// An empty report still prints, and says so.
	empty := UsageTable(nil, Day, ByNone, from, to, 2)
	if text := pdftotext(t, render(t, empty)); !strings.Contains(text, "Nothing in this period") {
		t.Errorf("empty report:\n%s", text)
	}
	if err := WritePDF(&bytes.Buffer{}, Table{Columns: []Column{{Title: "A"}}, Rows: [][]string{{"x", "y"}}}); err == nil {
		t.Error("a row with too many cells was accepted")
	}
}
