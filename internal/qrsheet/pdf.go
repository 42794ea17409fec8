package qrsheet

import (
	"bytes"
	"compress/zlib"
	"crypto/sha256"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf16"

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

	info := "<< "
	if s.Title != "" {
		info += "/Title " + pdfTextString(s.Title) + " "
	}
	info += "/Producer (Charge Star) >>"

	// Objects: 1 catalog, 2 page tree, 3–4 fonts, 5 info, then a page
	// and its content stream for each page.
	const firstPage = 6
	kids := make([]string, pages)
	for i := range kids {
		kids[i] = fmt.Sprintf("%d 0 R", firstPage+2*i)
	}
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R /Lang (en) >>",
		fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), pages),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
		info,
	}
	for i, content := range contents {
		objs = append(objs, fmt.Sprintf(
			"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %s %s] /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents %d 0 R >>",
			num(pageWidth), num(pageHeight), firstPage+2*i+1))
		stream, err := deflate(content.Bytes())
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
	_, err = w.Write(out.Bytes())
	return err
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
		num(grey), f.resource(), num(size), num(x), num(y), pdfString(s))
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

// round2 rounds to a hundredth, the precision num writes.
func round2(v float64) float64 {
	return math.Round(v*100) / 100
}

// num formats a coordinate or size: at most two decimals (a hundredth of
// a point is far below what anyone sees), no trailing zeros.
func num(v float64) string {
	v = round2(v)
	if v == 0 {
		return "0" // not "-0"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}
