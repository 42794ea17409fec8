package receipt

import (
	"bytes"
	"fmt"
	"github.com/chargestar/chargestar/internal/pdfdoc"
	"io"
	"strings"
	"time"
)

// The PDF is laid out here and assembled by internal/pdfdoc: a receipt
// needs text, rules and two fonts, which PDF 1.4 gives with no dependency.
// The fonts are the built-in Helvetica and Helvetica-Bold (nothing
// embedded), text is WinAnsi-encoded, and the output depends only on the
// Receipt: no clock, no map order, no random IDs.

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
	info := []string{"/Title " + pdfdoc.TextString(v.Title+" "+v.Code)}
	if v.Seller.Name != "" {
		info = append(info, "/Author "+pdfdoc.TextString(v.Seller.Name))
	}
	if !r.IssuedAt.IsZero() {
		info = append(info, "/CreationDate ("+pdfdoc.Date(r.IssuedAt.In(loc))+")")
	}
	return pdfdoc.Write(w, pdfdoc.Document{Width: pageWidth, Height: pageHeight, Pages: pages, Info: info})
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
		num(grey), f.Resource(), num(size), num(x), num(y), pdfString(s))
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

// The PDF primitives are pdfdoc's; the short names keep the layout code
// readable.
type font = pdfdoc.Font

const (
	helvetica     = pdfdoc.Helvetica
	helveticaBold = pdfdoc.HelveticaBold
)

var (
	toWinAnsi = pdfdoc.WinAnsi
	textWidth = pdfdoc.TextWidth
	pdfString = pdfdoc.String
	num       = pdfdoc.Num
)
