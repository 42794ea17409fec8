package receipt

import (
	"bytes"
	"flag"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func renderHTML(t *testing.T, r Receipt) string {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteHTML(&buf, r); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// htmlText is the document's text as a reader sees it: tags dropped,
// entities decoded, whitespace collapsed.
func htmlText(doc string) string {
	doc = regexp.MustCompile(`(?s)<style>.*?</style>|<title>.*?</title>`).ReplaceAllString(doc, " ")
	doc = regexp.MustCompile(`<[^>]*>`).ReplaceAllString(doc, " ")
	return strings.Join(strings.Fields(html.UnescapeString(doc)), " ")
}

func TestWriteHTML(t *testing.T) {
	doc := renderHTML(t, sampleReceipt(t))
	for _, want := range []string{
		"<!DOCTYPE html>\n",
		`<html lang="en">`,
		`<meta charset="utf-8">`,
		`<meta name="viewport" content="width=device-width, initial-scale=1">`,
		"<title>Tax invoice K7QM-4XPD — Acme Parking</title>",
		"<h1>Tax invoice</h1>",
		`<time datetime="2026-03-03T14:05:00&#43;11:00">3 Mar 2026 14:05 AEDT</time>`,
		"@media print",
		"@page",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("document lacks %q", want)
		}
	}
	text := htmlText(doc)
	for _, want := range sampleText {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q", want)
		}
	}
	// Standalone: nothing to run, nothing to fetch.
	for _, bad := range []string{"<script", "<link", "<img", "src=", "href=", "url(", "@import", "http:", "https:"} {
		if strings.Contains(strings.ToLower(doc), bad) {
			t.Errorf("document contains %q", bad)
		}
	}
	if strings.Contains(text, "Refunded") {
		t.Error("Refunded shown with nothing refunded")
	}
}

func TestWriteHTMLTaxExclusive(t *testing.T) {
	text := htmlText(renderHTML(t, exclusiveReceipt(t)))
	for _, want := range []string{"Subtotal excl. GST $11.14", "GST (10%) $1.11", "Total (AUD) $12.25"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "Total price includes GST") {
		t.Error("tax-exclusive receipt says the total includes GST")
	}
}

func TestWriteHTMLNoTax(t *testing.T) {
	r := sampleReceipt(t)
	r.Seller.TaxID = ""
	r.TaxName, r.TaxRate, r.Tax, r.ExclTax = "", "", 0, r.Total
	text := htmlText(renderHTML(t, r))
	if !strings.HasPrefix(text, "Receipt K7QM-4XPD") {
		t.Errorf("title: %.40q", text)
	}
	for _, bad := range []string{"Tax invoice", "GST", "ABN"} {
		if strings.Contains(text, bad) {
			t.Errorf("receipt without tax says %q", bad)
		}
	}
}

func TestWriteHTMLTaxFreeLine(t *testing.T) {
	r := sampleReceipt(t)
	r.Lines = append(r.Lines, Line{Description: "Parking", Quantity: "1", UnitPrice: "$0.00", TaxFree: true})
	text := htmlText(renderHTML(t, r))
	for _, want := range []string{"Parking *", "* No GST is payable on items marked *."} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q", want)
		}
	}
}

func TestWriteHTMLEscapes(t *testing.T) {
	r := sampleReceipt(t)
	r.Seller.Name = `<script>alert("seller")</script>`
	r.Seller.Address = `"><img src=x onerror=alert(1)>`
	r.SiteName = `</dd></dl><iframe src="https://evil.example">`
	r.Lines[0].Description = `<svg onload=alert(2)>`
	r.Status = `Paid' onmouseover='alert(3)`
	r.Code = `"><script>x</script>`
	for name, write := range map[string]func(*bytes.Buffer, Receipt) error{
		"WriteHTML":         func(b *bytes.Buffer, r Receipt) error { return WriteHTML(b, r) },
		"WriteHTMLFragment": func(b *bytes.Buffer, r Receipt) error { return WriteHTMLFragment(b, r) },
	} {
		var buf bytes.Buffer
		if err := write(&buf, r); err != nil {
			t.Fatal(err)
		}
		doc := buf.String()
		for _, bad := range []string{"<script", "<img", "<iframe", "<svg", "onmouseover='"} {
			if strings.Contains(doc, bad) {
				t.Errorf("%s: hostile input became markup: %q", name, bad)
			}
		}
		text := htmlText(doc)
		for _, want := range []string{r.Seller.Name, r.Lines[0].Description, r.Status} {
			if !strings.Contains(text, want) {
				t.Errorf("%s: hostile text not shown as text: %q", name, want)
			}
		}
	}
}

func TestWriteHTMLFragment(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteHTMLFragment(&buf, sampleReceipt(t)); err != nil {
		t.Fatal(err)
	}
	frag := buf.String()
	if !strings.HasPrefix(frag, `<article class="receipt" aria-label="Tax invoice K7QM-4XPD">`) ||
		!strings.HasSuffix(frag, "</article>\n") {
		t.Errorf("not a single <article>:\n%s", frag)
	}
	for _, bad := range []string{"<html", "<head>", "<body", "<style", "<!DOCTYPE"} {
		if strings.Contains(frag, bad) {
			t.Errorf("fragment contains %q", bad)
		}
	}
	// The same receipt as the document's.
	doc := renderHTML(t, sampleReceipt(t))
	if !strings.Contains(doc, frag) {
		t.Error("the document does not contain the fragment")
	}
}

// TestHTMLGolden pins the markup; after an intended change, review the
// diff of go test ./internal/receipt -run Golden -update.
func TestHTMLGolden(t *testing.T) {
	doc := renderHTML(t, sampleReceipt(t))
	path := filepath.Join("testdata", "receipt.golden.html")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/receipt -run Golden -update)", err)
	}
	if doc != string(want) {
		t.Errorf("WriteHTML differs from %s; if intended, rerun with -update and review the diff", path)
	}
}
