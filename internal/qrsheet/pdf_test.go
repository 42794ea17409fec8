package qrsheet

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"rsc.io/qr"

	"github.com/chargestar/chargestar/internal/pdfdoc"
	"github.com/chargestar/chargestar/internal/pdfdoc/pdftest"
)

func renderPDF(t *testing.T, s Sheet) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WritePDF(&buf, s); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// pdfPage is what parsePage read from one page's content stream.
type pdfPage struct {
	codes []pdfCode
	shows []pdfShow
}

// pdfCode is one QR symbol as drawn: the white quiet-zone square, the
// module size and origin of the symbol, and the module rectangles in
// module units (x, y from the bottom-left, width, height).
type pdfCode struct {
	white     [4]float64 // x, y, w, h
	module    float64
	originX   float64
	originY   float64
	rects     [][4]int
	stickerAt int // index of the page's first text show after the code
}

type pdfShow struct {
	font       string
	size, x, y float64
	text       string
}

var (
	// The operators WritePDF emits, one kind per line.
	opShow    = regexp.MustCompile(`^([\d.]+) g BT (/F[12]) ([\d.]+) Tf ([\d.-]+) ([\d.-]+) Td \((.*)\) Tj ET$`)
	opQuiet   = regexp.MustCompile(`^q 1 g ([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+) re f$`)
	opCM      = regexp.MustCompile(`^([\d.]+) 0 0 ([\d.]+) ([\d.]+) ([\d.]+) cm$`)
	opModule  = regexp.MustCompile(`^(\d+) (\d+) (\d+) 1 re$`)
	opSegment = regexp.MustCompile(`^[\d.]+ [\d.]+ m [\d.]+ [\d.]+ l$`)
	opStroke  = regexp.MustCompile(`^[\d.]+ G 0.5 w( \[4 3\] 0 d)?$`)
)

// checkPDF checks the file's structure (pdftest.Read) and that every page
// is A4, then parses each page's content stream.
func checkPDF(t *testing.T, file []byte) []pdfPage {
	t.Helper()
	var pages []pdfPage
	for i, pg := range pdftest.Read(t, file).Pages {
		if pg.MediaBox != pdftest.A4 {
			t.Fatalf("page %d: MediaBox %s, want A4", i+1, pg.MediaBox)
		}
		pages = append(pages, parsePage(t, pg.Content))
	}
	return pages
}

// parsePage reads a content stream line by line and fails on any line
// that is not one of the operators WritePDF emits, in its place.
func parsePage(t *testing.T, content []byte) pdfPage {
	t.Helper()
	var p pdfPage
	var code *pdfCode // the symbol being read, between cm and "f Q"
	lines := strings.Split(strings.TrimSuffix(string(content), "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if code != nil {
			if line == "f Q" {
				p.codes = append(p.codes, *code)
				code = nil
				continue
			}
			m := opModule.FindStringSubmatch(line)
			if m == nil {
				t.Fatalf("line %d in a QR code: %q", i, line)
			}
			x, _ := strconv.Atoi(m[1])
			y, _ := strconv.Atoi(m[2])
			w, _ := strconv.Atoi(m[3])
			code.rects = append(code.rects, [4]int{x, y, w, 1})
			continue
		}
		if m := opQuiet.FindStringSubmatch(line); m != nil {
			if i+2 >= len(lines) || lines[i+2] != "0 g" {
				t.Fatalf("line %d: quiet zone not followed by cm and 0 g", i)
			}
			cm := opCM.FindStringSubmatch(lines[i+1])
			if cm == nil || cm[1] != cm[2] {
				t.Fatalf("line %d: %q is not a square scaling cm", i+1, lines[i+1])
			}
			code = &pdfCode{stickerAt: len(p.shows)}
			for k := range 4 {
				code.white[k] = atof(t, m[k+1])
			}
			code.module, code.originX, code.originY = atof(t, cm[1]), atof(t, cm[3]), atof(t, cm[4])
			i += 2
			continue
		}
		if m := opShow.FindStringSubmatch(line); m != nil {
			p.shows = append(p.shows, pdfShow{font: m[2], size: atof(t, m[3]), x: atof(t, m[4]), y: atof(t, m[5]), text: pdftest.Unescape(t, m[6])})
			continue
		}
		if opSegment.MatchString(line) || opStroke.MatchString(line) || line == "S" || line == "S [] 0 d" {
			continue
		}
		t.Fatalf("unexpected content line %d: %q", i, line)
	}
	if code != nil {
		t.Fatal("content ends inside a QR code")
	}
	return p
}

func atof(t *testing.T, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestPDFPages(t *testing.T) {
	for n, want := range map[int]int{1: 1, 6: 1, 7: 2, 13: 3} {
		pages := checkPDF(t, renderPDF(t, sampleSheet(n)))
		if len(pages) != want {
			t.Errorf("%d stickers: %d pages, want %d", n, len(pages), want)
			continue
		}
		total := 0
		for i, p := range pages {
			wantHere := min(perPage, n-i*perPage)
			if len(p.codes) != wantHere {
				t.Errorf("%d stickers: page %d has %d codes, want %d", n, i+1, len(p.codes), wantHere)
			}
			total += len(p.codes)
			foot := p.shows[0].text
			if wantFoot := fmt.Sprintf("CP-0001 QR stickers · Page %d of %d", i+1, want); foot != wantFoot {
				t.Errorf("%d stickers: page %d footer %q, want %q", n, i+1, foot, wantFoot)
			}
		}
		if total != n {
			t.Errorf("%d stickers: %d codes drawn", n, total)
		}
	}
}

// TestPDFModules rebuilds each symbol from its rectangles and compares it
// with the QR matrix module by module, and checks the geometry: one
// rectangle per horizontal run, a whole quiet zone, inside its cell, with
// the sticker's text under it.
func TestPDFModules(t *testing.T) {
	s := sampleSheet(13)
	s.Stickers[4].URL += "/with-a-longer-path-for-a-bigger-version"
	pages := checkPDF(t, renderPDF(t, s))
	i := 0
	for pi, p := range pages {
		for k, got := range p.codes {
			st := s.Stickers[i]
			c, err := qr.Encode(st.URL, qr.M)
			if err != nil {
				t.Fatal(err)
			}
			dark := 0
			for y := range c.Size {
				for x := range c.Size {
					if c.Black(x, y) {
						dark++
					}
				}
			}
			if len(got.rects) != len(darkRuns(c)) || len(got.rects) > dark {
				t.Errorf("sticker %d: %d rectangles for %d runs of %d dark modules", i+1, len(got.rects), len(darkRuns(c)), dark)
			}
			drawn := make([]int, c.Size*c.Size)
			area := 0
			for _, r := range got.rects {
				area += r[2] * r[3]
				for x := r[0]; x < r[0]+r[2]; x++ {
					my := c.Size - 1 - r[1] // PDF y runs up
					if x < 0 || x >= c.Size || my < 0 || my >= c.Size {
						t.Fatalf("sticker %d: rectangle %v outside the symbol", i+1, r)
					}
					drawn[my*c.Size+x]++
				}
			}
			if area != dark {
				t.Errorf("sticker %d: rectangles cover %d modules, %d are dark", i+1, area, dark)
			}
			for y := range c.Size {
				for x := range c.Size {
					want := 0
					if c.Black(x, y) {
						want = 1
					}
					if drawn[y*c.Size+x] != want {
						t.Fatalf("sticker %d: module (%d,%d) drawn %d times, dark=%v", i+1, x, y, drawn[y*c.Size+x], c.Black(x, y))
					}
				}
			}

			// Quiet zone: the white square is the symbol plus 4 modules
			// each side.
			m := got.module
			side := m * float64(c.Size+2*quietZone)
			if !near(got.white[2], side) || !near(got.white[3], side) ||
				!near(got.originX, got.white[0]+quietZone*m) || !near(got.originY, got.white[1]+quietZone*m) {
				t.Errorf("sticker %d: quiet zone %v, module %v at (%v,%v)", i+1, got.white, m, got.originX, got.originY)
			}
			if m < minModule {
				t.Errorf("sticker %d: module %v pt", i+1, m)
			}
			// Inside its cell, clear of the cut lines.
			_, col, row := cellOf(i)
			cx, cy := margin+float64(col)*cellW, pageHeight-margin-float64(row+1)*cellH
			if got.white[0] < cx+cellPad-0.01 || got.white[0]+side > cx+cellW-cellPad+0.01 ||
				got.white[1] < cy+cellPad-0.01 || got.white[1]+side > cy+cellH-cellPad+0.01 {
				t.Errorf("sticker %d (page %d, #%d): quiet zone %v outside cell at (%v,%v)", i+1, pi+1, k+1, got.white, cx, cy)
			}
			// Its text follows it, under the quiet zone, centred on the
			// cell, title first in bold.
			shows := p.shows[got.stickerAt:]
			wantText := append([]string{st.Title}, st.Lines...)
			if len(shows) < len(wantText) {
				t.Fatalf("sticker %d: %d text lines after the code", i+1, len(shows))
			}
			for j, w := range wantText {
				sh := shows[j]
				if sh.text != w {
					t.Errorf("sticker %d line %d: %q, want %q", i+1, j, sh.text, w)
				}
				if sh.y+sh.size > got.white[1] || sh.y < cy+cellPad-3 {
					t.Errorf("sticker %d line %d: baseline %v not between the code (%v) and the cell bottom", i+1, j, sh.y, got.white[1])
				}
				f := helvetica
				if j == 0 {
					f = helveticaBold
				}
				mid := sh.x + textWidth(toWinAnsi(sh.text), f, sh.size)/2
				if !near(mid, cx+cellW/2) {
					t.Errorf("sticker %d line %d: centred on %v, cell centre %v", i+1, j, mid, cx+cellW/2)
				}
			}
			i++
		}
	}
	if i != len(s.Stickers) {
		t.Errorf("%d codes, want %d", i, len(s.Stickers))
	}
}

func near(a, b float64) bool {
	d := a - b
	return d < 0.02 && d > -0.02
}

func TestPDFText(t *testing.T) {
	s := Sheet{
		Title: "Süd (Ebene 2) \\ QR",
		Stickers: []Sticker{{
			URL:   "https://x/app/s/A/1",
			Title: "Scan to charge",
			Lines: []string{"Café (Nord) — Ebene 2", "Station A · Connector 1", "Pay by card, no app needed", "漢字"},
		}},
	}
	file := renderPDF(t, s)
	pages := checkPDF(t, file)
	var text []string
	for _, sh := range pages[0].shows {
		text = append(text, sh.text)
	}
	want := []string{"Süd (Ebene 2) \\ QR · Page 1 of 1", "Scan to charge", "Café (Nord) — Ebene 2", "Station A · Connector 1", "Pay by card, no app needed", "??"}
	if strings.Join(text, "\n") != strings.Join(want, "\n") {
		t.Errorf("text:\n%q\nwant\n%q", text, want)
	}
	// The document title goes to the info dictionary in UTF-16BE.
	if !bytes.Contains(file, []byte("/Title "+pdfdoc.TextString(s.Title))) {
		t.Error("no /Title in the info dictionary")
	}

	// A long line wraps within the cell rather than running over the cut.
	s.Stickers[0].Lines = []string{"Station " + strings.Repeat("VERYLONGSTATIONID", 5) + " · Connector 1"}
	pages = checkPDF(t, renderPDF(t, s))
	lines := pages[0].shows[2:]
	if len(lines) < 2 {
		t.Fatalf("long line not wrapped: %+v", lines)
	}
	for _, sh := range lines {
		if sh.x < margin+cellPad-0.01 || sh.x+textWidth(toWinAnsi(sh.text), helvetica, sh.size) > margin+cellW-cellPad+0.01 {
			t.Errorf("line %q runs outside the sticker", sh.text)
		}
	}
}

func TestPDFDeterministic(t *testing.T) {
	a := renderPDF(t, sampleSheet(7))
	b := renderPDF(t, sampleSheet(7))
	if !bytes.Equal(a, b) {
		t.Fatal("two renders of the same sheet differ")
	}
	c := renderPDF(t, sampleSheet(8))
	if bytes.Equal(a, c) {
		t.Fatal("different sheets render the same")
	}
}
