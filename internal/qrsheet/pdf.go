package qrsheet

import (
	"bytes"
	"fmt"
	"github.com/chargestar/chargestar/internal/pdfdoc"
	"io"
	"math"

	"rsc.io/qr"
)

// The PDF is written by hand, like internal/receipt's: a sticker sheet
// needs filled rectangles, lines and two built-in fonts, which PDF 1.4
// gives in a few hundred lines with no dependency. Content streams are
// deflated and nothing depends on the clock or map order, so the output
// is a function of the Sheet alone.

// Page geometry, in points (1/72 inch).
const (
	pageWidth  = 595.28 // A4: 210 mm
	pageHeight = 841.89 // 297 mm
	// margin is 10 mm: outside most printers' unprintable border, and
	// room for the crop marks.
	margin = 28.35
	cellW  = (pageWidth - 2*margin) / cols
	cellH  = (pageHeight - 2*margin) / rows
	// cellPad keeps the quiet zone and text clear of the cut line, so a
	// cut a few millimetres off does not eat into either.
	cellPad = 14.0
	// Crop marks run from markFar to markNear points from the grid,
	// leaving a gap so they never show on a sticker cut slightly inside.
	markNear = 6.0
	markFar  = 24.0
)

// Sticker text: the title in bold, then the lines, centred under the code.
const (
	titleSize = 14.0
	titleLead = 18.0
	lineSize  = 9.0
	lineLead  = 12.0
	// textGap separates the quiet zone from the first line of text.
	textGap  = 2.0
	footSize = 7.0
	footBase = 11.0              // baseline of the page footer, above the page edge
	textBox  = cellW - 2*cellPad // width the text wraps to
)

// Grey levels (0 black, 1 white).
const (
	ink      = 0.0
	softInk  = 0.2
	muted    = 0.45
	cutGrey  = 0.55
	markGrey = 0.0
)

// minModule is the smallest module, in points, a sticker may get before
// WritePDF refuses: 1 pt is 0.35 mm, about the least that phone cameras
// read reliably from arm's length.
const minModule = 1.0

// WritePDF writes s as a PDF 1.4 document: A4 portrait pages of 2 × 3
// stickers, as many pages as needed, with dashed cut lines around each
// sticker and crop marks in the margin. Each QR code is drawn as vector
// filled rectangles, one per horizontal run of dark modules, inside its
// 4-module quiet zone; the sticker's title and lines are set in Helvetica
// under it. Nothing is written unless the whole sheet renders.
func WritePDF(w io.Writer, s Sheet) error {
	codes, err := encodeAll(s)
	if err != nil {
		return err
	}
	pages := pageCount(len(s.Stickers))
	contents := make([]*bytes.Buffer, pages)
	for p := range contents {
		contents[p] = new(bytes.Buffer)
		used := min(perPage, len(s.Stickers)-p*perPage)
		drawGuides(contents[p], used)
		foot := fitLine(toWinAnsi(footerText(s.Title, p, pages)), cellW-2*markNear-4,
			func(b []byte) float64 { return textWidth(b, helvetica, footSize) }, 0x85) // "…"
		showText(contents[p], margin+markNear+2, footBase, helvetica, footSize, muted, foot)
	}
	for i, st := range s.Stickers {
		page, col, row := cellOf(i)
		x := margin + float64(col)*cellW
		y := pageHeight - margin - float64(row+1)*cellH
		if err := drawSticker(contents[page], x, y, st, codes[i]); err != nil {
			return fmt.Errorf("qrsheet: sticker %d: %w", i+1, err)
		}
	}

	var info []string
	if s.Title != "" {
		info = append(info, "/Title "+pdfdoc.TextString(s.Title))
	}
	pageBytes := make([][]byte, len(contents))
	for i, c := range contents {
		pageBytes[i] = c.Bytes()
	}
	return pdfdoc.Write(w, pdfdoc.Document{Width: pageWidth, Height: pageHeight, Pages: pageBytes, Info: info})
}

// drawGuides draws a page's dashed cut lines around the first used cells
// and the crop marks of the grid lines that bound them.
func drawGuides(b *bytes.Buffer, used int) {
	top := pageHeight - margin
	line := func(x1, y1, x2, y2 float64) {
		fmt.Fprintf(b, "%s %s m %s %s l\n", num(x1), num(y1), num(x2), num(y2))
	}
	fmt.Fprintf(b, "%s G 0.5 w [4 3] 0 d\n", num(cutGrey))
	for k := range used {
		_, col, row := cellOf(k)
		x0, x1 := margin+float64(col)*cellW, margin+float64(col+1)*cellW
		y1, y0 := top-float64(row)*cellH, top-float64(row+1)*cellH
		t, l, r, btm := cutEdges(k, used)
		if t {
			line(x0, y1, x1, y1)
		}
		if l {
			line(x0, y0, x0, y1)
		}
		if r {
			line(x1, y0, x1, y1)
		}
		if btm {
			line(x0, y0, x1, y0)
		}
	}
	b.WriteString("S [] 0 d\n")

	fmt.Fprintf(b, "%s G 0.5 w\n", num(markGrey))
	v, h := gridLines(used)
	bottom := top - float64(h-1)*cellH
	for i := range v {
		x := margin + float64(i)*cellW
		line(x, top+markNear, x, top+markFar)
		line(x, bottom-markNear, x, bottom-markFar)
	}
	right := margin + float64(v-1)*cellW
	for i := range h {
		y := top - float64(i)*cellH
		line(margin-markNear, y, margin-markFar, y)
		line(right+markNear, y, right+markFar, y)
	}
	b.WriteString("S\n")
}

// drawSticker draws one sticker in the cell whose bottom-left corner is
// (x, y): the code with its quiet zone, then the text under it, the two
// centred together in the cell.
func drawSticker(b *bytes.Buffer, x, y float64, st Sticker, c *qr.Code) error {
	title := wrap(toWinAnsi(st.Title), textBox, func(s []byte) float64 { return textWidth(s, helveticaBold, titleSize) })
	var lines [][]byte
	for _, l := range st.Lines {
		lines = append(lines, wrap(toWinAnsi(l), textBox, func(s []byte) float64 { return textWidth(s, helvetica, lineSize) })...)
	}
	textH := float64(len(title))*titleLead + float64(len(lines))*lineLead
	gap := 0.0
	if textH > 0 {
		gap = textGap
	}

	// The module size is rounded down to a hundredth of a point, as are
	// the corners, so every coordinate written is exact and the symbol
	// is a whole number of equal modules.
	n := c.Size + 2*quietZone
	side := min(cellW-2*cellPad, cellH-2*cellPad-gap-textH)
	module := math.Floor(side/float64(n)*100) / 100
	if module < minModule {
		return fmt.Errorf("text leaves room for a QR code of only %.2f pt per module (need %v)", max(module, 0), minModule)
	}
	block := module * float64(n)
	groupTop := y + cellH - (cellH-(block+gap+textH))/2
	bx := round2(x + (cellW-block)/2)
	by := round2(groupTop - block)

	// The quiet zone is painted white, not merely left blank, so it is
	// part of the drawing and nothing can end up inside it.
	fmt.Fprintf(b, "q 1 g %s %s %s %s re f\n", num(bx), num(by), num(block), num(block))
	// In module units with the origin at the symbol's bottom-left
	// corner, every rectangle is whole numbers. All runs are one path
	// and one fill, which renderers rasterise as a single shape: no
	// hairline seams between rows.
	edge := quietZone * module
	fmt.Fprintf(b, "%s 0 0 %s %s %s cm\n%s g\n", num(module), num(module), num(bx+edge), num(by+edge), num(ink))
	for _, r := range darkRuns(c) {
		fmt.Fprintf(b, "%d %d %d 1 re\n", r.x, c.Size-1-r.y, r.n)
	}
	b.WriteString("f Q\n")

	top := by - gap
	for _, l := range title {
		showCentred(b, x+cellW/2, baseline(top, titleLead, titleSize), helveticaBold, titleSize, ink, l)
		top -= titleLead
	}
	for _, l := range lines {
		showCentred(b, x+cellW/2, baseline(top, lineLead, lineSize), helvetica, lineSize, softInk, l)
		top -= lineLead
	}
	return nil
}

// baseline places text of size points in a line box of lead points whose
// top is top: Helvetica's capitals are 0.72 em tall, so this centres
// them, with room for descenders below.
func baseline(top, lead, size float64) float64 {
	return top - (lead-size)/2 - 0.8*size
}

// showCentred shows WinAnsi-encoded s centred on x.
func showCentred(b *bytes.Buffer, x, y float64, f font, size, grey float64, s []byte) {
	showText(b, x-textWidth(s, f, size)/2, y, f, size, grey, s)
}

// showText shows WinAnsi-encoded s with its baseline starting at (x, y).
func showText(b *bytes.Buffer, x, y float64, f font, size, grey float64, s []byte) {
	if len(s) == 0 {
		return
	}
	fmt.Fprintf(b, "%s g BT %s %s Tf %s %s Td %s Tj ET\n",
		num(grey), f.Resource(), num(size), num(x), num(y), pdfString(s))
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
	round2    = pdfdoc.Round2
)
