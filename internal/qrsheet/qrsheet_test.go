package qrsheet

import (
	"bytes"
	"errors"
	"github.com/chargestar/chargestar/internal/testutil"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"rsc.io/qr"
)

// sampleSheet is n stickers of one station with the standard wording.
func sampleSheet(n int) Sheet {
	ids := make([]int, n)
	for i := range ids {
		ids[i] = i + 1
	}
	return Sheet{
		Title:    "CP-0001 QR stickers",
		Stickers: StickersFor("https://charge.example.com", "CP-0001", "Acme Parking", "Wynyard Level 2", ids),
	}
}

func TestStickersFor(t *testing.T) {
	got := StickersFor("https://charge.example.com/", "CP-0001", "Acme Parking", "Wynyard Level 2", []int{1, 2})
	want := []Sticker{
		{
			StationID: "CP-0001", ConnectorID: 1,
			URL:   "https://charge.example.com/app/s/CP-0001/1",
			Title: "Scan to charge",
			Lines: []string{"Acme Parking — Wynyard Level 2", "Station CP-0001 · Connector 1", "Pay by card, no app needed"},
		},
		{
			StationID: "CP-0001", ConnectorID: 2,
			URL:   "https://charge.example.com/app/s/CP-0001/2",
			Title: "Scan to charge",
			Lines: []string{"Acme Parking — Wynyard Level 2", "Station CP-0001 · Connector 2", "Pay by card, no app needed"},
		},
	}
	if len(got) != len(want) {
		t.Fatalf("%d stickers, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.StationID != w.StationID || g.ConnectorID != w.ConnectorID || g.URL != w.URL || g.Title != w.Title || !slices.Equal(g.Lines, w.Lines) {
			t.Errorf("sticker %d:\n got %+v\nwant %+v", i, g, w)
		}
	}

	if got := StickersFor("https://x", "CP", "", "", []int{1}); len(got) != 1 ||
		!slices.Equal(got[0].Lines, []string{"Station CP · Connector 1", "Pay by card, no app needed"}) {
		t.Errorf("without operator and site: %q", got[0].Lines)
	}
	if got := StickersFor("https://x", "CP", "", "Level 2", []int{1}); got[0].Lines[0] != "Level 2" {
		t.Errorf("site only: %q", got[0].Lines)
	}
	if got := StickersFor("https://x", "CP", "Acme", "", []int{1}); got[0].Lines[0] != "Acme" {
		t.Errorf("operator only: %q", got[0].Lines)
	}
	if got := StickersFor("https://x", "CP", "Acme", "", nil); len(got) != 0 {
		t.Errorf("no connectors gave %d stickers", len(got))
	}
}

func TestStickerURLEscapesStationID(t *testing.T) {
	for id, want := range map[string]string{
		"CP-0001":        "https://charge.example.com/app/s/CP-0001/3",
		"Level 2 bay 7":  "https://charge.example.com/app/s/Level%202%20bay%207/3",
		"site/a/CP1":     "https://charge.example.com/app/s/site%2Fa%2FCP1/3",
		"CP?x=1#frag":    "https://charge.example.com/app/s/CP%3Fx=1%23frag/3",
		"Café%":          "https://charge.example.com/app/s/Caf%C3%A9%25/3",
		"../../admin/x":  "https://charge.example.com/app/s/..%2F..%2Fadmin%2Fx/3",
		"station\\back?": "https://charge.example.com/app/s/station%5Cback%3F/3",
	} {
		got := StickersFor("https://charge.example.com", id, "", "", []int{3})[0].URL
		if got != want {
			t.Errorf("station %q: URL %q, want %q", id, got, want)
		}
		// The station id stays one path segment: exactly /app/s/{id}/{n}.
		if rest := strings.TrimPrefix(got, "https://charge.example.com/app/s/"); strings.Count(rest, "/") != 1 {
			t.Errorf("station %q: %q is not one segment", id, rest)
		}
	}
	for _, base := range []string{"https://charge.example.com", "https://charge.example.com/", "https://charge.example.com//"} {
		if got := StickerURL(base, "CP", 1); got != "https://charge.example.com/app/s/CP/1" {
			t.Errorf("base %q: %q", base, got)
		}
	}
}

// TestEncodeIsLevelM checks that what the sheets draw is rsc.io/qr's own
// symbol at level M, and, independently of that library, that the symbol
// is well formed: finder patterns in three corners, and both copies of the
// format information valid BCH codewords naming level M. Reading the
// format bits at their standard places also proves the matrix is not
// transposed or mirrored by the Black(x, y) convention.
func TestEncodeIsLevelM(t *testing.T) {
	for _, u := range []string{
		"https://charge.example.com/app/s/CP-0001/1",
		"https://charge.example.com/app/s/Level%202%20bay%207/12",
		"HTTPS://X.EXAMPLE/APP/S/CP1/1",                                                           // alphanumeric mode
		"https://charge.example.com/app/s/" + strings.Repeat("a-very-long-station-id-", 8) + "/1", // version ≥ 7: version blocks
	} {
		c, err := encode(0, Sticker{URL: u})
		if err != nil {
			t.Fatal(err)
		}
		ref, err := qr.Encode(u, qr.M)
		if err != nil {
			t.Fatal(err)
		}
		if c.Size != ref.Size || !bytes.Equal(c.Bitmap, ref.Bitmap) {
			t.Fatalf("%q: matrix differs from qr.Encode(text, qr.M)", u)
		}
		if (c.Size-17)%4 != 0 || c.Size < 21 {
			t.Fatalf("%q: size %d is not 17+4v", u, c.Size)
		}
		checkFinders(t, c)
		f1, f2 := formatBits(c)
		if f1 != f2 {
			t.Errorf("%q: format copies differ: %015b %015b", u, f1, f2)
		}
		data, ok := decodeFormat(f1)
		if !ok {
			t.Errorf("%q: format bits %015b are not a BCH codeword", u, f1)
		}
		if level := data >> 3; level != 0b00 { // L 01, M 00, Q 11, H 10
			t.Errorf("%q: error correction level bits %02b, want 00 (M)", u, level)
		}
		// The module above the bottom-left finder's separator is always
		// dark.
		if !c.Black(8, c.Size-8) {
			t.Errorf("%q: the dark module is light", u)
		}
	}
}

// checkFinders checks the 7×7 finder patterns and their light separators.
func checkFinders(t *testing.T, c *qr.Code) {
	t.Helper()
	for _, o := range [][2]int{{0, 0}, {c.Size - 7, 0}, {0, c.Size - 7}} {
		for dy := -1; dy <= 7; dy++ {
			for dx := -1; dx <= 7; dx++ {
				x, y := o[0]+dx, o[1]+dy
				if x < 0 || y < 0 || x >= c.Size || y >= c.Size {
					continue
				}
				// Distance from the centre ring: 0–1 the 3×3 core,
				// 2 light ring, 3 dark ring, 4 separator.
				d := max(abs(dx-3), abs(dy-3))
				want := d != 2 && d != 4
				if c.Black(x, y) != want {
					t.Fatalf("finder at %v: module (%d,%d) dark=%v", o, x, y, !want)
				}
			}
		}
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// formatBits reads the two copies of the 15 format bits, most significant
// first, in the order of ISO/IEC 18004 figure 25 (as zxing reads them).
func formatBits(c *qr.Code) (first, second int) {
	bit := func(v int, x, y int) int {
		v <<= 1
		if c.Black(x, y) {
			v |= 1
		}
		return v
	}
	for x := range 6 {
		first = bit(first, x, 8)
	}
	first = bit(first, 7, 8)
	first = bit(first, 8, 8)
	first = bit(first, 8, 7)
	for y := 5; y >= 0; y-- {
		first = bit(first, 8, y)
	}
	n := c.Size
	for y := n - 1; y >= n-7; y-- {
		second = bit(second, 8, y)
	}
	for x := n - 8; x < n; x++ {
		second = bit(second, x, 8)
	}
	return first, second
}

// decodeFormat unmasks format bits and checks their BCH(15,5) code,
// returning the 5 data bits (level and mask).
func decodeFormat(bits int) (data int, ok bool) {
	bits ^= 0x5412
	data = bits >> 10
	rem := data << 10
	for i := 14; i >= 10; i-- {
		if rem&(1<<i) != 0 {
			rem ^= 0x537 << (i - 10)
		}
	}
	return data, bits == data<<10|rem
}

func TestDarkRuns(t *testing.T) {
	c, err := qr.Encode("https://charge.example.com/app/s/CP-0001/1", qr.M)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]bool, c.Size*c.Size)
	for _, r := range darkRuns(c) {
		if r.n < 1 {
			t.Fatalf("empty run %+v", r)
		}
		// Maximal: light (or the edge) on both sides.
		if c.Black(r.x-1, r.y) || c.Black(r.x+r.n, r.y) {
			t.Fatalf("run %+v is not maximal", r)
		}
		for x := r.x; x < r.x+r.n; x++ {
			if got[r.y*c.Size+x] {
				t.Fatalf("module (%d,%d) in two runs", x, r.y)
			}
			got[r.y*c.Size+x] = true
		}
	}
	for y := range c.Size {
		for x := range c.Size {
			if got[y*c.Size+x] != c.Black(x, y) {
				t.Fatalf("module (%d,%d): runs say %v", x, y, got[y*c.Size+x])
			}
		}
	}
}

func TestWrap(t *testing.T) {
	measure := func(b []byte) float64 { return float64(len(b)) }
	for _, tc := range []struct {
		in    string
		width float64
		want  []string
	}{
		{"", 10, nil},
		{"short", 10, []string{"short"}},
		{"Pay by card, no app needed", 12, []string{"Pay by card,", "no app", "needed"}},
		{"Station ABCDEFGHIJKLMNOP", 10, []string{"Station", "ABCDEFGHIJ", "KLMNOP"}},
		{"a  b", 1, []string{"a", "b"}},
	} {
		var got []string
		for _, l := range wrap([]byte(tc.in), tc.width, measure) {
			got = append(got, string(l))
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("wrap(%q, %v) = %q, want %q", tc.in, tc.width, got, tc.want)
		}
	}
	if got := string(fitLine([]byte("abcdef ghij"), 8, measure, '~')); got != "abcdef~" {
		t.Errorf("fitLine = %q", got)
	}
	if got := string(fitLine([]byte("abc"), 8, measure, '~')); got != "abc" {
		t.Errorf("fitLine = %q", got)
	}
}

func TestPageGrid(t *testing.T) {
	for n, want := range map[int]int{1: 1, 5: 1, 6: 1, 7: 2, 12: 2, 13: 3} {
		if got := pageCount(n); got != want {
			t.Errorf("pageCount(%d) = %d, want %d", n, got, want)
		}
	}
	if p, c, r := cellOf(7); p != 1 || c != 1 || r != 0 {
		t.Errorf("cellOf(7) = %d %d %d", p, c, r)
	}
	// Every edge of the used cells is drawn exactly once.
	for used := 1; used <= perPage; used++ {
		count := map[[4]int]int{}
		for k := range used {
			_, col, row := cellOf(k)
			t, l, r, b := cutEdges(k, used)
			if t {
				count[[4]int{col, row, col + 1, row}]++
			}
			if l {
				count[[4]int{col, row, col, row + 1}]++
			}
			if r {
				count[[4]int{col + 1, row, col + 1, row + 1}]++
			}
			if b {
				count[[4]int{col, row + 1, col + 1, row + 1}]++
			}
		}
		for k := range used {
			_, col, row := cellOf(k)
			for _, e := range [][4]int{
				{col, row, col + 1, row}, {col, row, col, row + 1},
				{col + 1, row, col + 1, row + 1}, {col, row + 1, col + 1, row + 1},
			} {
				if count[e] != 1 {
					t.Errorf("%d used: edge %v drawn %d times", used, e, count[e])
				}
			}
		}
	}
}

func TestErrors(t *testing.T) {
	long := Sticker{URL: "https://x/app/s/CP/1", Title: "Scan", Lines: slices.Repeat([]string{"a line of text"}, 40)}
	for name, s := range map[string]Sheet{
		"empty":     {Title: "x"},
		"no URL":    {Stickers: []Sticker{{StationID: "CP", ConnectorID: 1}}},
		"too long":  {Stickers: []Sticker{{URL: strings.Repeat("x", 3000)}}},
		"too wordy": {Stickers: []Sticker{long}},
	} {
		for format, write := range map[string]func(*bytes.Buffer, Sheet) error{
			"PDF": func(b *bytes.Buffer, s Sheet) error { return WritePDF(b, s) },
			"PNG": func(b *bytes.Buffer, s Sheet) error { return WritePNG(b, s) },
		} {
			var buf bytes.Buffer
			err := write(&buf, s)
			if err == nil {
				t.Errorf("%s %s: no error", format, name)
			}
			if buf.Len() != 0 {
				t.Errorf("%s %s: %d bytes written before the error", format, name, buf.Len())
			}
			if name == "empty" && !errors.Is(err, ErrNoStickers) {
				t.Errorf("%s empty: %v", format, err)
			}
		}
	}
}

// TestScanRoundTrip decodes the rendered sheets with a real QR reader,
// zbarimg, when the machine has it: the strongest check that phones will
// read the stickers. The other tests pin the matrix and its drawing.
func TestScanRoundTrip(t *testing.T) {
	zbar, err := exec.LookPath("zbarimg")
	if err != nil {
		testutil.SkipOrFail(t, "zbarimg not on PATH (Debian package zbar-tools): the scan round trip is not checked; TestPNGModules and TestPDFModules check the drawn matrix instead")
	}
	s := sampleSheet(7)
	s.Stickers = append(s.Stickers, StickersFor("https://charge.example.com", "Level 2/bay 7", "Café Ünïcode", "Site", []int{1})...)
	var want []string
	for _, st := range s.Stickers {
		want = append(want, st.URL)
	}
	slices.Sort(want)

	dir := t.TempDir()
	scan := func(file string) {
		t.Helper()
		out, err := exec.Command(zbar, "--quiet", "--raw", file).Output()
		if err != nil {
			t.Fatalf("zbarimg %s: %v", filepath.Base(file), err)
		}
		got := strings.Fields(string(out))
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s decodes to\n%q\nwant\n%q", filepath.Base(file), got, want)
		}
	}

	var img bytes.Buffer
	if err := WritePNG(&img, s); err != nil {
		t.Fatal(err)
	}
	pngFile := filepath.Join(dir, "sheet.png")
	if err := os.WriteFile(pngFile, img.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	scan(pngFile)

	// The PDF too, rasterised as a printer would, when pdftoppm is here.
	pdftoppm, err := exec.LookPath("pdftoppm")
	if err != nil {
		t.Log("pdftoppm not on PATH: the PDF is not scanned")
		return
	}
	var doc bytes.Buffer
	if err := WritePDF(&doc, s); err != nil {
		t.Fatal(err)
	}
	pdfFile := filepath.Join(dir, "sheet.pdf")
	if err := os.WriteFile(pdfFile, doc.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(pdftoppm, "-r", "150", "-gray", "-png", pdfFile, filepath.Join(dir, "page")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, out)
	}
	pages, _ := filepath.Glob(filepath.Join(dir, "page*.png"))
	args := append([]string{"--quiet", "--raw"}, pages...)
	out, err := exec.Command(zbar, args...).Output()
	if err != nil {
		t.Fatalf("zbarimg on PDF pages: %v", err)
	}
	got := strings.Fields(string(out))
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("PDF decodes to\n%q\nwant\n%q", got, want)
	}
}

func TestFitLineLeavesInputAlone(t *testing.T) {
	in := []byte("Station CP-0001 QR stickers · Page 1 of 2")
	orig := string(in)
	got := fitLine(in, 12, func(b []byte) float64 { return float64(len(b)) }, '~')
	if string(got) != "Station CP-~" {
		t.Errorf("fitLine = %q", got)
	}
	if string(in) != orig {
		t.Errorf("fitLine changed its input to %q", in)
	}
}
