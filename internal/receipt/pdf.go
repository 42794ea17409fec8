package receipt

import (
	"bytes"
	"compress/zlib"
	"crypto/sha256"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
)

// The PDF is written by hand: a receipt needs text, rules and two fonts,
// which PDF 1.4 gives with a few hundred lines and no dependency. The
// fonts are the built-in Helvetica and Helvetica-Bold (nothing embedded),
// text is WinAnsi-encoded (winansi.go), content streams are deflated, and
// the output depends only on the Receipt: no clock, no map order, no
// random IDs.

// Page geometry, in points (1/72 inch).
const (
	pageWidth    = 595.28 // A4: 210 mm
	pageHeight   = 841.89 // 297 mm
	margin       = 50.0
	contentLeft  = margin
	contentRight = pageWidth - margin
	contentTop   = pageHeight - margin
	// contentBottom is as low as content goes; below it is the footer.
	contentBottom = margin
	footerBase    = margin - 20
)

// Grey levels for the fill (text) and stroke (rules) colours.
const (
	ink   = 0.1
	muted = 0.38
	hair  = 0.75
)

// Charges table columns: left edges and widths; amounts are right-aligned
// at contentRight.
const (
	colDesc   = contentLeft
	colDescW  = 205.0
	colQty    = contentLeft + 215
	colQtyW   = 100.0
	colUnit   = contentLeft + 325
	colUnitW  = 95.0
	amountCol = contentRight - 90 // right edge of total labels
)

// Label and value columns of the labelled rows.
const (
	valueCol = contentLeft + 130
	valueW   = contentRight - valueCol
)

// WritePDF writes r as a PDF 1.4 document: one A4 page, or more when the
// charges do not fit, each continuation page headed with the title and
// code and repeating the table header, and all pages numbered. The same
// Receipt always gives the same bytes; /CreationDate is IssuedAt.
func WritePDF(w io.Writer, r Receipt) error {
	v := r.view()
	pages := layoutPDF(v)

	loc := r.Location
	if loc == nil {
		loc = time.UTC
	}
	info := "<< /Title " + pdfTextString(v.Title+" "+v.Code)
	if v.Seller.Name != "" {
		info += " /Author " + pdfTextString(v.Seller.Name)
	}
	info += " /Producer (Charge Star)"
	if !r.IssuedAt.IsZero() {
		info += " /CreationDate (" + pdfDate(r.IssuedAt.In(loc)) + ")"
	}
	info += " >>"

	// Objects: 1 catalog, 2 page tree, 3–4 fonts, 5 info, then a page
	// and its content stream for each page.
	const firstPage = 6
	kids := make([]string, len(pages))
	for i := range pages {
		kids[i] = fmt.Sprintf("%d 0 R", firstPage+2*i)
	}
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R /Lang (en) >>",
		fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), len(pages)),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
		info,
	}
	for i, content := range pages {
		objs = append(objs, fmt.Sprintf(
			"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %s %s] /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents %d 0 R >>",
			num(pageWidth), num(pageHeight), firstPage+2*i+1))
		stream, err := deflate(content)
		if err != nil {
			return err
		}
		objs = append(objs, fmt.Sprintf("<< /Length %d /Filter /FlateDecode >>\nstream\n", len(stream))+
			string(stream)+"\nendstream")
	}

	var out bytes.Buffer
	// The second line's high bytes tell transfer tools the file is binary.
	out.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(objs))
	for i, obj := range objs {
		offsets[i] = out.Len()
		fmt.Fprintf(&out, "%d 0 obj\n%s\nendobj\n", i+1, obj)
	}
	// A file identifier derived from the content, so it is stable too.
	sum := sha256.Sum256(out.Bytes())
	id := fmt.Sprintf("<%x>", sum[:16])

	xref := out.Len()
	fmt.Fprintf(&out, "xref\n0 %d\n", len(objs)+1)
	// Each entry is exactly 20 bytes, ending in space and line feed.
	out.WriteString("0000000000 65535 f \n")
	for _, off := range offsets {
		fmt.Fprintf(&out, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&out, "trailer\n<< /Size %d /Root 1 0 R /Info 5 0 R /ID [%s %s] >>\nstartxref\n%d\n%%%%EOF\n",
		len(objs)+1, id, id, xref)
	_, err := w.Write(out.Bytes())
	return err
}

func deflate(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw := zlib.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// pdfLayout places the receipt on pages top to bottom: y is the top of
// the space left on the current page.
type pdfLayout struct {
	pages []*bytes.Buffer
	cur   *bytes.Buffer
	y     float64
	// continued heads every page after the first.
	continued []byte
	// repeat, when set, redraws what a page break must repeat (the
	// charges table header).
	repeat func()
}

func layoutPDF(v view) [][]byte {
	l := &pdfLayout{continued: toWinAnsi(v.Title + " " + v.Code + " (continued)")}
	l.newPage()

	// Title, and the code opposite it.
	l.text(contentLeft, l.y-20, helveticaBold, 20, ink, toWinAnsi(v.Title))
	code := toWinAnsi(v.Code)
	l.textRight(contentRight, l.y-20, helveticaBold, 12, ink, code)
	l.y -= 30
	l.rule(contentLeft, contentRight, l.y, 1.2, ink)
	l.y -= 10

	// The seller on the left, the date of issue and code on the right.
	top := l.y
	y := top
	sellerW := 290.0
	for _, line := range wrapText(v.Seller.Name, helveticaBold, 11, sellerW) {
		l.text(contentLeft, y-11, helveticaBold, 11, ink, line)
		y -= 15
	}
	for _, s := range []string{v.Seller.LegalName, v.Seller.TaxID, v.Seller.Address} {
		for _, line := range wrapText(s, helvetica, 10, sellerW) {
			l.text(contentLeft, y-10, helvetica, 10, ink, line)
			y -= 14
		}
	}
	right := top
	for _, f := range []field{v.Issued, {Label: "Receipt code", Value: v.Code}} {
		l.textRight(contentRight, right-9, helvetica, 8.5, muted, toWinAnsi(f.Label))
		right -= 12
		l.textRight(contentRight, right-10, helvetica, 10, ink, toWinAnsi(f.Value))
		right -= 17
	}
	l.y = min(y, right)

	l.heading("Charging session", 14)
	l.fields(v.Session)

	l.heading("Charges", 40)
	header := func() {
		base := l.y - 9
		l.text(colDesc, base, helveticaBold, 8.5, muted, toWinAnsi("Description"))
		l.text(colQty, base, helveticaBold, 8.5, muted, toWinAnsi("Quantity"))
		l.text(colUnit, base, helveticaBold, 8.5, muted, toWinAnsi("Unit price"))
		l.textRight(contentRight, base, helveticaBold, 8.5, muted, toWinAnsi("Amount"))
		l.y -= 13
		l.rule(contentLeft, contentRight, l.y, 0.8, ink)
	}
	header()
	l.repeat = header
	const lead = 12.0 // 10 pt text
	for _, line := range v.Lines {
		desc := line.Description
		if line.TaxFree {
			desc += taxFreeMark
		}
		cells := [][][]byte{
			wrapText(desc, helvetica, 10, colDescW),
			wrapText(line.Quantity, helvetica, 10, colQtyW),
			wrapText(line.UnitPrice, helvetica, 10, colUnitW),
		}
		n := max(1, len(cells[0]), len(cells[1]), len(cells[2]))
		h := float64(n)*lead + 4
		l.need(h)
		base := l.y - 11.5 // 2 pt padding, then the first line
		for c, x := range []float64{colDesc, colQty, colUnit} {
			for i, s := range cells[c] {
				l.text(x, base-float64(i)*lead, helvetica, 10, ink, s)
			}
		}
		l.textRight(contentRight, base, helvetica, 10, ink, toWinAnsi(line.Amount))
		l.y -= h
		l.rule(contentLeft, contentRight, l.y, 0.4, hair)
	}
	l.repeat = nil

	// Totals and the tax statements stay together on one page.
	block := 6.0
	for _, t := range v.Totals {
		block += 16
		if t.Strong {
			block += 6
		}
	}
	var notes [][]byte
	for _, s := range []string{v.TaxNote, v.TaxFreeNote} {
		notes = append(notes, wrapText(s, helvetica, 10, contentRight-contentLeft)...)
	}
	block += float64(len(notes))*14 + 4
	l.need(block)
	l.y -= 6
	for _, t := range v.Totals {
		f, size := helvetica, 10.0
		if t.Strong {
			f, size = helveticaBold, 12
			l.y -= 3
			l.rule(amountCol-150, contentRight, l.y, 1.2, ink)
			l.y -= 3
		}
		l.textRight(amountCol, l.y-size-1, f, size, ink, toWinAnsi(t.Label))
		l.textRight(contentRight, l.y-size-1, f, size, ink, toWinAnsi(t.Amount))
		l.y -= 16
	}
	l.y -= 4
	for _, s := range notes {
		l.textRight(contentRight, l.y-10, helvetica, 10, ink, s)
		l.y -= 14
	}

	if len(v.Payment) > 0 {
		// A few rows: kept together with their heading.
		l.heading("Payment", fieldsHeight(v.Payment))
		l.fields(v.Payment)
	}

	// Number the pages once their count is known.
	if n := len(l.pages); n > 1 {
		for i, p := range l.pages {
			l.cur = p
			l.text(contentLeft, footerBase, helvetica, 8, muted, code)
			l.textRight(contentRight, footerBase, helvetica, 8, muted, toWinAnsi(fmt.Sprintf("Page %d of %d", i+1, n)))
		}
	}
	out := make([][]byte, len(l.pages))
	for i, p := range l.pages {
		out[i] = p.Bytes()
	}
	return out
}

// newPage starts a page; after the first it draws the continuation head
// and whatever must repeat.
func (l *pdfLayout) newPage() {
	l.cur = new(bytes.Buffer)
	l.pages = append(l.pages, l.cur)
	l.y = contentTop
	if len(l.pages) == 1 {
		return
	}
	l.text(contentLeft, l.y-10, helveticaBold, 10, muted, l.continued)
	l.y -= 16
	l.rule(contentLeft, contentRight, l.y, 0.4, hair)
	l.y -= 10
	if l.repeat != nil {
		l.repeat()
	}
}

// need starts a new page unless h more points fit on this one.
func (l *pdfLayout) need(h float64) {
	if l.y-h < contentBottom {
		l.newPage()
	}
}

// heading writes a section heading, kept on one page with the keep
// points that follow it.
func (l *pdfLayout) heading(s string, keep float64) {
	l.need(34 + keep)
	l.y -= 14
	l.text(contentLeft, l.y-11, helveticaBold, 11, ink, toWinAnsi(s))
	l.y -= 16
	l.rule(contentLeft, contentRight, l.y, 0.4, hair)
	l.y -= 4
}

// fieldLead is the line spacing of labelled rows.
const fieldLead = 14.0

// fieldsHeight is the height fields takes for rows.
func fieldsHeight(rows []field) float64 {
	h := 0.0
	for _, f := range rows {
		h += float64(max(1, len(wrapText(f.Value, helvetica, 10, valueW)))) * fieldLead
	}
	return h
}

// fields writes labelled rows, values wrapped in their column.
func (l *pdfLayout) fields(rows []field) {
	const lead = fieldLead
	for _, f := range rows {
		lines := wrapText(f.Value, helvetica, 10, valueW)
		h := float64(max(1, len(lines))) * lead
		l.need(h)
		l.text(contentLeft, l.y-10, helvetica, 10, muted, toWinAnsi(f.Label))
		for i, s := range lines {
			l.text(valueCol, l.y-10-float64(i)*lead, helvetica, 10, ink, s)
		}
		l.y -= h
	}
}

// text shows WinAnsi-encoded s with its baseline starting at (x, y).
func (l *pdfLayout) text(x, y float64, f font, size, grey float64, s []byte) {
	if len(s) == 0 {
		return
	}
	fmt.Fprintf(l.cur, "%s g BT %s %s Tf %s %s Td %s Tj ET\n",
		num(grey), f.resource(), num(size), num(x), num(y), pdfString(s))
}

// textRight shows s ending exactly at x, measured with the font metrics.
func (l *pdfLayout) textRight(x, y float64, f font, size, grey float64, s []byte) {
	l.text(x-textWidth(s, f, size), y, f, size, grey, s)
}

// rule draws a horizontal line.
func (l *pdfLayout) rule(x1, x2, y, width, grey float64) {
	fmt.Fprintf(l.cur, "%s G %s w %s %s m %s %s l S\n",
		num(grey), num(width), num(x1), num(y), num(x2), num(y))
}

// wrapText encodes s and breaks it into lines no wider than width: at
// each "\n", then at spaces, and inside a word only when the word alone
// is too wide (a long station id). "" gives no lines.
func wrapText(s string, f font, size, width float64) [][]byte {
	if s == "" {
		return nil
	}
	var lines [][]byte
	for _, para := range strings.Split(s, "\n") {
		lines = append(lines, wrap(toWinAnsi(para), f, size, width)...)
	}
	return lines
}

func wrap(b []byte, f font, size, width float64) [][]byte {
	var lines [][]byte
	for {
		if textWidth(b, f, size) <= width {
			if len(b) > 0 || len(lines) == 0 {
				lines = append(lines, b)
			}
			return lines
		}
		// fit is how many bytes fit; at least one, or nothing would
		// ever be placed.
		fit, w := 0, 0.0
		for fit < len(b) {
			w += textWidth(b[fit:fit+1], f, size)
			if w > width {
				break
			}
			fit++
		}
		fit = max(fit, 1)
		cut := fit
		// Break at the last space that fits (a space just past the
		// edge is fine: it is not drawn).
		if i := bytes.LastIndexByte(b[:min(fit+1, len(b))], ' '); i > 0 {
			cut = i
		}
		lines = append(lines, bytes.TrimRight(b[:cut], " "))
		b = bytes.TrimLeft(b[cut:], " ")
	}
}

// pdfString is a PDF literal string of WinAnsi bytes. Only the backslash
// and parentheses need escaping; other bytes stand for themselves.
func pdfString(b []byte) string {
	var s strings.Builder
	s.WriteByte('(')
	for _, c := range b {
		if c == '\\' || c == '(' || c == ')' {
			s.WriteByte('\\')
		}
		s.WriteByte(c)
	}
	s.WriteByte(')')
	return s.String()
}

// pdfTextString is a string for the document information dictionary.
// Those are not in WinAnsi but in PDFDocEncoding or UTF-16BE; UTF-16BE
// with a byte order mark, in hex, carries any text exactly.
func pdfTextString(s string) string {
	var b strings.Builder
	b.WriteString("<FEFF")
	for _, u := range utf16.Encode([]rune(s)) {
		fmt.Fprintf(&b, "%04X", u)
	}
	b.WriteByte('>')
	return b.String()
}

// pdfDate is a PDF date, D:YYYYMMDDHHmmSS with the offset from UTC.
func pdfDate(t time.Time) string {
	_, off := t.Zone()
	if off == 0 {
		return "D:" + t.Format("20060102150405") + "Z"
	}
	sign := '+'
	if off < 0 {
		sign, off = '-', -off
	}
	return fmt.Sprintf("D:%s%c%02d'%02d'", t.Format("20060102150405"), sign, off/3600, off%3600/60)
}

// num formats a coordinate or size: at most two decimals (a hundredth of
// a point is far below what anyone sees), no trailing zeros.
func num(v float64) string {
	v = math.Round(v*100) / 100
	if v == 0 {
		return "0" // not "-0"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}
