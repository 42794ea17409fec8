package receipt

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/chargestar/chargestar/internal/pdfdoc"
	"github.com/chargestar/chargestar/internal/pdfdoc/pdftest"
	"github.com/chargestar/chargestar/internal/testutil"
)

func renderPDF(t *testing.T, r Receipt) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WritePDF(&buf, r); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// parsedPDF is what checkPDF learnt from a file.
type parsedPDF struct {
	objects map[int]string // object number → body, between "obj" and "endobj"
	pages   []pdfPage      // in /Kids order
}

type pdfPage struct {
	shows []textShow // every Tj, in order
}

// textShow is one string shown: where, in which font, and its text
// decoded from WinAnsi to UTF-8.
type textShow struct {
	font       string
	size, x, y float64
	text       string
}

// text is the page's strings, one per line.
func (p pdfPage) text() string {
	var b strings.Builder
	for _, s := range p.shows {
		b.WriteString(s.text)
		b.WriteByte('\n')
	}
	return b.String()
}

func (p parsedPDF) text() string {
	var b strings.Builder
	for _, pg := range p.pages {
		b.WriteString(pg.text())
	}
	return b.String()
}

var (
	showOp = regexp.MustCompile(`^([\d.]+) g BT (/F[12]) ([\d.]+) Tf ([\d.-]+) ([\d.-]+) Td \((.*)\) Tj ET$`)
)

// checkPDF checks the file's structure (pdftest.Read) and that every page
// is A4, then collects the text each page shows.
func checkPDF(t *testing.T, file []byte) parsedPDF {
	t.Helper()
	f := pdftest.Read(t, file)
	p := parsedPDF{objects: f.Objects}
	for i, pg := range f.Pages {
		if pg.MediaBox != pdftest.A4 {
			t.Fatalf("page %d: MediaBox %s, want A4", i+1, pg.MediaBox)
		}
		p.pages = append(p.pages, parsePage(t, pg.Content))
	}
	return p
}

// parsePage reads the content stream operators WritePDF emits: one text
// show or rule per line.
func parsePage(t *testing.T, content []byte) pdfPage {
	t.Helper()
	var p pdfPage
	for _, line := range strings.Split(strings.TrimSuffix(string(content), "\n"), "\n") {
		if strings.HasSuffix(line, " l S") {
			continue
		}
		m := showOp.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("unexpected content line %q", line)
		}
		size, _ := strconv.ParseFloat(m[3], 64)
		x, _ := strconv.ParseFloat(m[4], 64)
		y, _ := strconv.ParseFloat(m[5], 64)
		p.shows = append(p.shows, textShow{font: m[2], size: size, x: x, y: y, text: pdftest.Unescape(t, m[6])})
	}
	return p
}

func TestWritePDF(t *testing.T) {
	file := renderPDF(t, sampleReceipt(t))
	p := checkPDF(t, file)
	if len(p.pages) != 1 {
		t.Fatalf("%d pages, want 1", len(p.pages))
	}
	text := p.text()
	for _, want := range sampleText {
		if !strings.Contains(text, want) {
			t.Errorf("PDF text lacks %q", want)
		}
	}
	if strings.Contains(text, "Page 1") {
		t.Error("a one-page receipt is numbered")
	}
	// The title is the first and largest text on the page.
	if s := p.pages[0].shows[0]; s.text != "Tax invoice" || s.font != "/F2" || s.size != 20 {
		t.Errorf("first text shown: %+v", s)
	}
	info := p.objects[5]
	for _, want := range []string{
		"/Title " + pdfdoc.TextString("Tax invoice K7QM-4XPD"),
		"/Author " + pdfdoc.TextString("Acme Parking"),
		"/CreationDate (D:20260303140500+11'00')",
	} {
		if !strings.Contains(info, want) {
			t.Errorf("info %q lacks %q", info, want)
		}
	}
}

// TestPDFRightAligned checks that amounts, measured with the AFM widths,
// end exactly at the right margin.
func TestPDFRightAligned(t *testing.T) {
	p := checkPDF(t, renderPDF(t, sampleReceipt(t)))
	amount := regexp.MustCompile(`^\$[\d,]+\.\d\d$|^Amount$|^K7QM-4XPD$`)
	checked := 0
	for _, s := range p.pages[0].shows {
		if !amount.MatchString(s.text) || s.x <= colUnit+colUnitW {
			continue // unit prices are left-aligned in their column
		}
		f := helvetica
		if s.font == "/F2" {
			f = helveticaBold
		}
		if right := s.x + textWidth(toWinAnsi(s.text), f, s.size); math.Abs(right-contentRight) > 0.01 {
			t.Errorf("%q ends at %.3f, not %.3f", s.text, right, contentRight)
		}
		checked++
	}
	// 3 lines, 2 totals, the header, the code twice.
	if checked < 8 {
		t.Errorf("only %d right-aligned strings found", checked)
	}
}

func TestPDFTaxExclusive(t *testing.T) {
	text := checkPDF(t, renderPDF(t, exclusiveReceipt(t))).text()
	for _, want := range []string{"Subtotal excl. GST\n$11.14", "GST (10%)\n$1.11", "Total (AUD)\n$12.25"} {
		if !strings.Contains(text, want) {
			t.Errorf("PDF text lacks %q", want)
		}
	}
	if strings.Contains(text, "includes GST") {
		t.Error("tax-exclusive receipt says the total includes GST")
	}
}

func TestPDFDeterministic(t *testing.T) {
	a := renderPDF(t, sampleReceipt(t))
	b := renderPDF(t, sampleReceipt(t))
	if !bytes.Equal(a, b) {
		t.Error("two renderings of one receipt differ")
	}
	r := sampleReceipt(t)
	r.Status = "Refunded"
	if bytes.Equal(a, renderPDF(t, r)) {
		t.Error("a different receipt gave the same bytes")
	}
}

// TestPDFEscapes puts PDF string syntax and characters outside WinAnsi in
// every kind of field.
func TestPDFEscapes(t *testing.T) {
	r := sampleReceipt(t)
	r.Seller.Name = `Acme (Parking) \ Co) Tj ET`
	r.SiteName = "Café Zürich — €, ×, ₩ and 中"
	r.Lines[0].Description = `Energy (peak) \n`
	r.Status = "No charge — hold released"
	text := checkPDF(t, renderPDF(t, r)).text()
	for _, want := range []string{
		`Acme (Parking) \ Co) Tj ET`,
		"Café Zürich — €, ×, ? and ?",
		`Energy (peak) \n`,
		"No charge — hold released",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("PDF text lacks %q", want)
		}
	}
}

func TestPDFManyLines(t *testing.T) {
	r := sampleReceipt(t)
	r.Lines = nil
	for i := 1; i <= 60; i++ {
		r.Lines = append(r.Lines, Line{
			Description: fmt.Sprintf("Energy, period %d", i),
			Quantity:    "0.341 kWh",
			UnitPrice:   "$0.55/kWh",
			Amount:      19,
		})
	}
	r.Lines[59].Amount += r.Total - 60*19
	p := checkPDF(t, renderPDF(t, r))
	if len(p.pages) < 2 {
		t.Fatalf("60 lines on %d page", len(p.pages))
	}
	first := p.pages[0].text()
	if !strings.Contains(first, "Energy, period 1\n") || strings.Contains(first, "Energy, period 60\n") {
		t.Error("page 1 does not start the charges")
	}
	for i, pg := range p.pages {
		text := pg.text()
		if strings.Contains(text, "Energy, period 60\n") && !strings.Contains(text, "Total price includes GST") {
			t.Errorf("page %d ends the charges without the totals", i+1)
		}
		if !strings.Contains(text, fmt.Sprintf("Page %d of %d", i+1, len(p.pages))) {
			t.Errorf("page %d is not numbered", i+1)
		}
		if i > 0 && !strings.HasPrefix(text, "Tax invoice K7QM-4XPD (continued)\n") {
			t.Errorf("page %d has no continuation head: %.80q", i+1, text)
		}
		// A page that continues the table repeats its header.
		if i > 0 && strings.Contains(text, "Energy, period") &&
			!strings.HasPrefix(text, "Tax invoice K7QM-4XPD (continued)\nDescription\nQuantity\nUnit price\nAmount\n") {
			t.Errorf("page %d does not repeat the table header: %.80q", i+1, text)
		}
		for _, s := range pg.shows {
			if s.y < footerBase || s.y > pageHeight-margin {
				t.Errorf("page %d: %q at y %.2f, outside the margins", i+1, s.text, s.y)
			}
		}
	}
	// The payment section is not split from its heading.
	for i, pg := range p.pages {
		text := pg.text()
		if strings.Contains(text, "Status\n") != strings.Contains(text, "Payment\n") {
			t.Errorf("page %d splits the payment section", i+1)
		}
	}
	// Every line is shown exactly once.
	all := p.text()
	for i := 1; i <= 60; i++ {
		if n := strings.Count(all, fmt.Sprintf("Energy, period %d\n", i)); n != 1 {
			t.Errorf("line %d shown %d times", i, n)
		}
	}
}

// TestPdftotext reads the PDF with an independent reader, poppler's
// pdftotext, when it is installed.
func TestPdftotext(t *testing.T) {
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		testutil.SkipOrFail(t, "pdftotext not on PATH (Debian: apt-get install poppler-utils); PDF checked by the structural tests only")
	}
	for _, c := range []struct {
		name       string
		r          Receipt
		total, gst string
	}{
		{"one page", sampleReceipt(t), "$14.25", "$1.30"},
		{"many lines", manyLines(t), "$6.00", "$0.55"},
	} {
		t.Run(c.name, func(t *testing.T) {
			file := renderPDF(t, c.r)
			pages := len(checkPDF(t, file).pages)
			path := filepath.Join(t.TempDir(), "receipt.pdf")
			if err := os.WriteFile(path, file, 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(bin, "-enc", "UTF-8", "-layout", path, "-").CombinedOutput()
			if err != nil {
				t.Fatalf("pdftotext: %v\n%s", err, out)
			}
			text := string(out)
			if strings.Contains(text, "Syntax Error") || strings.Contains(text, "Syntax Warning") {
				t.Errorf("pdftotext complained:\n%s", out)
			}
			for _, want := range []string{
				"Tax invoice", "K7QM-4XPD", "ABN 51 824 753 556", "3 Mar 2026 14:05 AEDT",
				c.total, c.gst, "Total price includes GST", "Visa •••• 4242",
				"12,345.678 kWh", "20.450 kWh",
			} {
				if !strings.Contains(text, want) {
					t.Errorf("pdftotext output lacks %q:\n%s", want, text)
				}
			}
			// pdftotext ends every page with a form feed.
			if got := strings.Count(text, "\f"); got != pages {
				t.Errorf("pdftotext saw %d pages, the file has %d", got, pages)
			}
		})
	}
}

func manyLines(t *testing.T) Receipt {
	r := sampleReceipt(t)
	r.Lines = nil
	for i := range 60 {
		r.Lines = append(r.Lines, Line{Description: fmt.Sprintf("Item %d", i+1), Quantity: "1", UnitPrice: "$0.10", Amount: 10})
	}
	r.Total, r.Tax, r.ExclTax = 600, 55, 545
	return r
}

func TestPDFHelpers(t *testing.T) {
	for in, want := range map[string]string{
		"":         "()",
		"abc":      "(abc)",
		`a(b)c\d`:  `(a\(b\)c\\d)`,
		"\x95\x97": "(\x95\x97)",
		"))((\\\\": `(\)\)\(\(\\\\)`,
	} {
		if got := pdfString([]byte(in)); got != want {
			t.Errorf("pdfString(%q) = %q, want %q", in, got, want)
		}
	}
	if got, want := pdfdoc.TextString("Tax invoice — é"), "<FEFF"+"0054006100780020"+"0069006E0076006F0069006300650020"+"2014"+"0020"+"00E9>"; got != want {
		t.Errorf("pdfTextString = %q, want %q", got, want)
	}
	if got, want := pdfdoc.TextString("😀"), "<FEFFD83DDE00>"; got != want {
		t.Errorf("pdfTextString outside the BMP = %q, want the surrogate pair %q", got, want)
	}
	for v, want := range map[float64]string{0: "0", -0.001: "0", 1.5: "1.5", 595.28: "595.28", 10.006: "10.01", 12: "12"} {
		if got := num(v); got != want {
			t.Errorf("num(%v) = %q, want %q", v, got, want)
		}
	}
}
