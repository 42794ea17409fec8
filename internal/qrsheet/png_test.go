package qrsheet

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"testing"

	"rsc.io/qr"
)

func renderPNG(t *testing.T, s Sheet) (image.Image, []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := WritePNG(&buf, s); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatalf("decoding the PNG: %v", err)
	}
	return img, buf.Bytes()
}

func TestPNGSize(t *testing.T) {
	for n, pages := range map[int]int{1: 1, 6: 1, 7: 2, 13: 3} {
		img, _ := renderPNG(t, sampleSheet(n))
		if got, want := img.Bounds(), image.Rect(0, 0, 1240, 1754*pages); got != want {
			t.Errorf("%d stickers: bounds %v, want %v", n, got, want)
		}
	}
}

func isWhite(c color.Color) bool {
	return color.GrayModel.Convert(c).(color.Gray).Y == 0xff
}

func isBlack(c color.Color) bool {
	return color.GrayModel.Convert(c).(color.Gray).Y == 0
}

// TestPNGModules samples every module of every code: the centre pixel
// must match the QR matrix, every pixel of the module must be the same
// (whole-pixel modules, nothing blurred), and the quiet zone around the
// symbol must be white throughout.
func TestPNGModules(t *testing.T) {
	s := sampleSheet(13)
	s.Stickers[8].URL += "/with-a-longer-path-for-a-bigger-version"
	img, _ := renderPNG(t, s)
	for i, st := range s.Stickers {
		c, err := qr.Encode(st.URL, qr.M)
		if err != nil {
			t.Fatal(err)
		}
		page, col, row := cellOf(i)
		cell := image.Rect(0, 0, pxCellW, pxCellH).Add(image.Pt(pxMargin+col*pxCellW, page*pxPageH+pxMargin+row*pxCellH))
		l, err := layoutPxSticker(cell.Min.X, cell.Min.Y, st, c)
		if err != nil {
			t.Fatal(err)
		}
		m := l.module
		if m < pxMinModule || l.block.Dx() != m*(c.Size+2*quietZone) || l.block.Dy() != l.block.Dx() {
			t.Fatalf("sticker %d: block %v for %d modules of %d px", i+1, l.block, c.Size, m)
		}
		if !l.block.In(cell.Inset(pxPad)) {
			t.Errorf("sticker %d: code %v not inside cell %v less padding", i+1, l.block, cell)
		}
		ox, oy := l.block.Min.X+quietZone*m, l.block.Min.Y+quietZone*m
		for y := range c.Size {
			for x := range c.Size {
				px, py := ox+x*m, oy+y*m
				centre := img.At(px+m/2, py+m/2)
				if isBlack(centre) != c.Black(x, y) || !isBlack(centre) && !isWhite(centre) {
					t.Fatalf("sticker %d: module (%d,%d) centre %v, dark=%v", i+1, x, y, centre, c.Black(x, y))
				}
				for yy := py; yy < py+m; yy++ {
					for xx := px; xx < px+m; xx++ {
						if img.At(xx, yy) != centre {
							t.Fatalf("sticker %d: module (%d,%d) not uniform at pixel (%d,%d)", i+1, x, y, xx, yy)
						}
					}
				}
			}
		}
		symbol := image.Rect(ox, oy, ox+c.Size*m, oy+c.Size*m)
		for y := l.block.Min.Y; y < l.block.Max.Y; y++ {
			for x := l.block.Min.X; x < l.block.Max.X; x++ {
				if !image.Pt(x, y).In(symbol) && !isWhite(img.At(x, y)) {
					t.Fatalf("sticker %d: quiet zone pixel (%d,%d) is %v", i+1, x, y, img.At(x, y))
				}
			}
		}
		// The text is under the code: ink between the code and the
		// bottom of the cell, none above the code.
		if !hasInk(img, image.Rect(cell.Min.X, l.block.Max.Y, cell.Max.X, cell.Max.Y-1)) {
			t.Errorf("sticker %d: no text under the code", i+1)
		}
		if hasInk(img, image.Rect(cell.Min.X+1, cell.Min.Y+1, cell.Max.X-1, l.block.Min.Y)) {
			t.Errorf("sticker %d: something drawn above the code", i+1)
		}
	}
}

// hasInk reports whether r has any pixel darker than the cut lines'
// grey, i.e. text or modules rather than guides.
func hasInk(img image.Image, r image.Rectangle) bool {
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if color.GrayModel.Convert(img.At(x, y)).(color.Gray).Y < pxCut.Y {
				return true
			}
		}
	}
	return false
}

// TestPNGGuides checks the cut lines and crop marks are where the grid is:
// dashed grey along the top edge of the first cell, crop marks in the
// margin, and nothing in the unused part of a last page.
func TestPNGGuides(t *testing.T) {
	img, _ := renderPNG(t, sampleSheet(7))
	grey, white := 0, 0
	for x := pxMargin; x < pxMargin+pxCellW; x++ {
		switch c := img.At(x, pxMargin); {
		case c == pxCut:
			grey++
		case isWhite(c):
			white++
		default:
			t.Fatalf("cut line pixel (%d,%d) is %v", x, pxMargin, c)
		}
	}
	if grey == 0 || white == 0 {
		t.Errorf("top cut line: %d grey and %d white pixels, want dashes", grey, white)
	}
	// Crop mark above the left edge of the grid, in the margin.
	if !isBlack(img.At(pxMargin, pxMargin-pxMarkNear-1)) || !isWhite(img.At(pxMargin, pxMargin-pxMarkNear+1)) {
		t.Error("no crop mark above the grid's left edge")
	}
	// Page 2 holds one sticker: the cell to its right and the rows below
	// are blank.
	top := pxPageH + pxMargin
	if hasInk(img, image.Rect(pxMargin+pxCellW+2, top+2, pxPageW-pxMargin-2, top+pxCellH-2)) {
		t.Error("unused cell on the last page has ink")
	}
	if hasInk(img, image.Rect(pxMargin+2, top+pxCellH+pxMarkFar+2, pxPageW-pxMargin-2, 2*pxPageH-pxMargin-2)) {
		t.Error("unused rows on the last page have ink")
	}
}

func TestPNGDeterministic(t *testing.T) {
	_, a := renderPNG(t, sampleSheet(7))
	_, b := renderPNG(t, sampleSheet(7))
	if !bytes.Equal(a, b) {
		t.Fatal("two renders of the same sheet differ")
	}
}

func TestFontCodes(t *testing.T) {
	for in, want := range map[string]string{
		"Station CP-0001":         "Station CP-0001",
		"Acme — Level 2":          "Acme \x81 Level 2",
		"A · B":                   "A \x7f B",
		"Café Ünïcode":            "Cafe Unicode",
		"“quoted” ‘single’":       "\"quoted\" 'single'",
		"漢字\t€…":                  "?? \x82\x83",
		string([]byte{0xff, 'a'}): "?a",
	} {
		if got := string(toFontCodes(in)); got != want {
			t.Errorf("toFontCodes(%q) = %q, want %q", in, got, want)
		}
	}
	if codeMiddot != 0x7f || codeDash != 0x81 || codeEuro != 0x82 || codeEllipsis != 0x83 {
		t.Fatal("extra codes moved: update the table above")
	}
	// Every printable ASCII character but the space has a distinct,
	// non-empty glyph that fits the 5-pixel width.
	seen := map[[glyphH + descentH]uint8]byte{}
	for c := byte(33); c <= 126; c++ {
		g := glyph(c)
		empty := true
		for _, row := range g {
			if row != 0 {
				empty = false
			}
			if row >= 1<<glyphW {
				t.Errorf("glyph %q is wider than %d pixels", c, glyphW)
			}
		}
		if empty {
			t.Errorf("glyph %q is empty", c)
		}
		if d, ok := seen[g]; ok {
			t.Errorf("glyphs %q and %q are the same", d, c)
		}
		seen[g] = c
	}
	if glyph(0x90) != glyph('?') {
		t.Error("a code without a glyph does not draw as ?")
	}
	if got := bitmapWidth([]byte("ab"), 3); got != (2*advanceW-1)*3 {
		t.Errorf("bitmapWidth = %d", got)
	}
}
