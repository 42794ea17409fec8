package qrsheet

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"

	"rsc.io/qr"
)

// The PNG is the PDF's layout on a pixel grid: A4 at 150 dpi, the pages
// stacked top to bottom in one image. Everything is placed on whole
// pixels and every QR module is a whole number of pixels square, so the
// code is crisp (no anti-aliased module edges for a scanner to misread)
// when the image is shown or printed at 100%.

// Page geometry, in pixels at 150 dpi (points × 150/72).
const (
	pxPageW  = 1240 // 210 mm
	pxPageH  = 1754 // 297 mm
	pxMargin = 59   // 10 mm
	pxCellW  = (pxPageW - 2*pxMargin) / cols
	pxCellH  = (pxPageH - 2*pxMargin) / rows
	pxPad    = 28
	// Crop marks, dashes and the footer as in the PDF.
	pxMarkNear = 12
	pxMarkFar  = 50
	pxDash     = 8
	pxDashGap  = 6
	pxFootTop  = pxPageH - 23 - glyphH*pxFootScale // top of the footer's capitals
)

// Bitmap text: scale (pixels per font pixel) and line height of each kind.
const (
	pxTitleScale = 3
	pxTitleLead  = 33
	pxLineScale  = 2
	pxLineLead   = 22
	pxFootScale  = 2
	pxTextGap    = 4
	pxTextBox    = pxCellW - 2*pxPad
)

// pxMinModule is the smallest module WritePNG accepts: with fewer than 2
// pixels a module, resampling by a viewer or printer can merge modules.
const pxMinModule = 2

var (
	pxWhite   = color.Gray{Y: 0xff}
	pxInk     = color.Gray{Y: 0x00}
	pxSoftInk = color.Gray{Y: 0x33}
	pxMuted   = color.Gray{Y: 0x73}
	pxCut     = color.Gray{Y: 0x8c}
	pxMark    = color.Gray{Y: 0x00}
)

// WritePNG writes s as one greyscale PNG: each page of the PDF layout,
// 1240 × 1754 pixels (A4 at 150 dpi), stacked vertically, so a sheet of
// more than 6 stickers is a taller image. QR modules are whole pixels and
// the text is a built-in 5×7 bitmap font scaled up. Nothing is written
// unless the whole sheet renders.
func WritePNG(w io.Writer, s Sheet) error {
	codes, err := encodeAll(s)
	if err != nil {
		return err
	}
	pages := pageCount(len(s.Stickers))
	img := image.NewGray(image.Rect(0, 0, pxPageW, pxPageH*pages))
	fillRect(img, img.Rect, pxWhite)
	for p := range pages {
		top := p * pxPageH
		used := min(perPage, len(s.Stickers)-p*perPage)
		pxGuides(img, top, used)
		foot := fitLine(toFontCodes(footerText(s.Title, p, pages)), pxCellW-2*pxMarkNear-8,
			func(b []byte) float64 { return float64(bitmapWidth(b, pxFootScale)) }, codeEllipsis)
		drawBitmapText(img, pxMargin+pxMarkNear+4, top+pxFootTop, pxFootScale, pxMuted, foot)
	}
	for i, st := range s.Stickers {
		page, col, row := cellOf(i)
		x := pxMargin + col*pxCellW
		y := page*pxPageH + pxMargin + row*pxCellH
		if err := pxSticker(img, x, y, st, codes[i]); err != nil {
			return fmt.Errorf("qrsheet: sticker %d: %w", i+1, err)
		}
	}
	return png.Encode(w, img)
}

// pxLayout is where a sticker's parts go in its cell.
type pxLayout struct {
	block  image.Rectangle // the code with its quiet zone
	module int             // pixels per module
	title  [][]byte        // font codes, one per line
	lines  [][]byte
}

// layoutPxSticker places st in the cell whose top-left corner is (x, y):
// the code and the text under it, the two centred together.
func layoutPxSticker(x, y int, st Sticker, c *qr.Code) (pxLayout, error) {
	var l pxLayout
	l.title = wrap(toFontCodes(st.Title), pxTextBox, func(b []byte) float64 { return float64(bitmapWidth(b, pxTitleScale)) })
	for _, s := range st.Lines {
		l.lines = append(l.lines, wrap(toFontCodes(s), pxTextBox, func(b []byte) float64 { return float64(bitmapWidth(b, pxLineScale)) })...)
	}
	textH := len(l.title)*pxTitleLead + len(l.lines)*pxLineLead
	gap := 0
	if textH > 0 {
		gap = pxTextGap
	}
	n := c.Size + 2*quietZone
	l.module = min(pxCellW-2*pxPad, pxCellH-2*pxPad-gap-textH) / n
	if l.module < pxMinModule {
		return l, fmt.Errorf("text leaves room for a QR code of only %d px per module (need %d)", max(l.module, 0), pxMinModule)
	}
	side := l.module * n
	bx := x + (pxCellW-side)/2
	by := y + (pxCellH-(side+gap+textH))/2
	l.block = image.Rect(bx, by, bx+side, by+side)
	return l, nil
}

// pxSticker draws one sticker in the cell whose top-left corner is (x, y).
func pxSticker(img *image.Gray, x, y int, st Sticker, c *qr.Code) error {
	l, err := layoutPxSticker(x, y, st, c)
	if err != nil {
		return err
	}
	fillRect(img, l.block, pxWhite)
	ox, oy := l.block.Min.X+quietZone*l.module, l.block.Min.Y+quietZone*l.module
	for _, r := range darkRuns(c) {
		x0, y0 := ox+r.x*l.module, oy+r.y*l.module
		fillRect(img, image.Rect(x0, y0, x0+r.n*l.module, y0+l.module), pxInk)
	}

	top := l.block.Max.Y
	if len(l.title)+len(l.lines) > 0 {
		top += pxTextGap
	}
	for _, s := range l.title {
		w := bitmapWidth(s, pxTitleScale)
		drawBitmapText(img, x+(pxCellW-w)/2, top+(pxTitleLead-(glyphH+descentH)*pxTitleScale)/2, pxTitleScale, pxInk, s)
		top += pxTitleLead
	}
	for _, s := range l.lines {
		w := bitmapWidth(s, pxLineScale)
		drawBitmapText(img, x+(pxCellW-w)/2, top+(pxLineLead-(glyphH+descentH)*pxLineScale)/2, pxLineScale, pxSoftInk, s)
		top += pxLineLead
	}
	return nil
}

// pxGuides draws the cut lines and crop marks of the page whose top edge
// is at row top, as drawGuides does for the PDF.
func pxGuides(img *image.Gray, top, used int) {
	gridTop := top + pxMargin
	for k := range used {
		_, col, row := cellOf(k)
		x0, y0 := pxMargin+col*pxCellW, gridTop+row*pxCellH
		x1, y1 := x0+pxCellW, y0+pxCellH
		t, l, r, b := cutEdges(k, used)
		if t {
			dashedH(img, x0, x1, y0)
		}
		if l {
			dashedV(img, x0, y0, y1)
		}
		if r {
			dashedV(img, x1, y0, y1)
		}
		if b {
			dashedH(img, x0, x1, y1)
		}
	}

	v, h := gridLines(used)
	bottom := gridTop + (h-1)*pxCellH
	for i := range v {
		x := pxMargin + i*pxCellW
		fillRect(img, image.Rect(x, gridTop-pxMarkFar, x+1, gridTop-pxMarkNear), pxMark)
		fillRect(img, image.Rect(x, bottom+pxMarkNear, x+1, bottom+pxMarkFar), pxMark)
	}
	right := pxMargin + (v-1)*pxCellW
	for i := range h {
		y := gridTop + i*pxCellH
		fillRect(img, image.Rect(pxMargin-pxMarkFar, y, pxMargin-pxMarkNear, y+1), pxMark)
		fillRect(img, image.Rect(right+pxMarkNear, y, right+pxMarkFar, y+1), pxMark)
	}
}

// dashedH draws a one-pixel dashed line along row y from x0 to x1.
func dashedH(img *image.Gray, x0, x1, y int) {
	for x := x0; x < x1; x += pxDash + pxDashGap {
		fillRect(img, image.Rect(x, y, min(x+pxDash, x1), y+1), pxCut)
	}
}

// dashedV draws a one-pixel dashed line along column x from y0 to y1.
func dashedV(img *image.Gray, x, y0, y1 int) {
	for y := y0; y < y1; y += pxDash + pxDashGap {
		fillRect(img, image.Rect(x, y, x+1, min(y+pxDash, y1)), pxCut)
	}
}
