// Package pdftest reads back, for tests, the PDF files internal/pdfdoc
// writes (receipts, QR sticker sheets, reports): it checks the file's
// structure as a reader would and hands each page's content stream to the
// caller, who checks the operators its own layout emits.
package pdftest

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// File is what Read learnt from a file.
type File struct {
	Objects map[int]string // object number → body, between "obj" and "endobj"
	Pages   []Page         // in /Kids order
}

// Page is one page object with its inflated content stream.
type Page struct {
	Object   string // the page object's body
	MediaBox string // e.g. "[0 0 595.28 841.89]"
	Content  []byte
}

var (
	objHeader   = regexp.MustCompile(`^(\d+) 0 obj\n`)
	objLine     = regexp.MustCompile(`(?m)^\d+ 0 obj$`)
	xrefEntry   = regexp.MustCompile(`^(\d{10}) (\d{5}) ([nf]) \n$`)
	trailerSize = regexp.MustCompile(`/Size (\d+)`)
	refs        = regexp.MustCompile(`(\d+) 0 R`)
	contentsRef = regexp.MustCompile(`/Contents (\d+) 0 R`)
	mediaBox    = regexp.MustCompile(`/MediaBox (\[[^\]]*\])`)
	streamHead  = regexp.MustCompile(`^<< /Length (\d+) /Filter /FlateDecode >>\nstream\n`)
)

// Read checks the file structure from the end, as a reader does:
// startxref points at the xref table, every in-use entry at its "N 0 obj",
// every object in the file is in the table, the trailer's /Size is the
// table's, the catalog leads to the page tree whose /Count is its number of
// kids, the fonts are WinAnsi Helvetica and Helvetica-Bold; then it
// inflates each page's content stream (checking its /Length).
func Read(t testing.TB, file []byte) File {
	t.Helper()
	if !bytes.HasPrefix(file, []byte("%PDF-1.4\n%")) {
		t.Fatalf("header: %q", file[:min(len(file), 16)])
	}
	if !bytes.HasSuffix(file, []byte("\n%%EOF\n")) {
		t.Fatalf("no %%%%EOF at the end: %q", file[max(0, len(file)-16):])
	}
	i := bytes.LastIndex(file, []byte("startxref\n"))
	if i < 0 {
		t.Fatal("no startxref")
	}
	xref, err := strconv.Atoi(strings.TrimSpace(string(file[i+len("startxref\n") : len(file)-len("%%EOF\n")])))
	if err != nil {
		t.Fatalf("startxref: %v", err)
	}
	if !bytes.HasPrefix(file[xref:], []byte("xref\n0 ")) {
		t.Fatalf("startxref %d points at %q", xref, file[xref:min(len(file), xref+10)])
	}
	rest := file[xref+len("xref\n"):]
	headerEnd := bytes.IndexByte(rest, '\n')
	var first, count int
	if _, err := fmt.Sscanf(string(rest[:headerEnd]), "%d %d", &first, &count); err != nil || first != 0 {
		t.Fatalf("xref subsection %q: %v", rest[:headerEnd], err)
	}
	entries := rest[headerEnd+1:]
	if len(entries) < 20*count {
		t.Fatalf("xref has room for fewer than %d entries", count)
	}
	trailer := string(entries[20*count:])
	if !strings.HasPrefix(trailer, "trailer\n<<") {
		t.Fatalf("after %d xref entries: %.20q", count, trailer)
	}
	if m := trailerSize.FindStringSubmatch(trailer); m == nil || m[1] != strconv.Itoa(count) {
		t.Fatalf("trailer /Size %v, xref has %d entries", m, count)
	}
	if !strings.Contains(trailer, "/Root 1 0 R") || !strings.Contains(trailer, "/Info 5 0 R") {
		t.Fatalf("trailer: %q", trailer)
	}

	f := File{Objects: map[int]string{}}
	for n := range count {
		e := xrefEntry.FindSubmatch(entries[20*n : 20*n+20])
		if e == nil {
			t.Fatalf("xref entry %d is %q, not 20 bytes in the form nnnnnnnnnn ggggg n", n, entries[20*n:20*n+20])
		}
		if n == 0 {
			if string(e[2]) != "65535" || string(e[3]) != "f" {
				t.Fatalf("entry 0 is not the free list head: %q", e[0])
			}
			continue
		}
		off, _ := strconv.Atoi(string(e[1]))
		if string(e[3]) != "n" || off >= xref {
			t.Fatalf("entry %d: %q", n, e[0])
		}
		h := objHeader.FindSubmatch(file[off:])
		if h == nil || string(h[1]) != strconv.Itoa(n) {
			t.Fatalf("xref offset %d of object %d points at %.12q", off, n, file[off:])
		}
		body := file[off+len(h[0]):]
		end := bytes.Index(body, []byte("\nendobj\n"))
		if end < 0 {
			t.Fatalf("object %d has no endobj", n)
		}
		f.Objects[n] = string(body[:end])
	}
	if got := len(objLine.FindAll(file, -1)); got != count-1 {
		t.Fatalf("%d objects in the file, %d in the xref", got, count-1)
	}

	if !strings.Contains(f.Objects[1], "/Type /Catalog") || !strings.Contains(f.Objects[1], "/Pages 2 0 R") {
		t.Fatalf("catalog: %q", f.Objects[1])
	}
	tree := f.Objects[2]
	kids := refs.FindAllStringSubmatch(tree[strings.Index(tree, "/Kids"):], -1)
	if !strings.Contains(tree, fmt.Sprintf("/Count %d", len(kids))) {
		t.Fatalf("page tree %q: /Count is not the number of kids", tree)
	}
	for n, name := range map[int]string{3: "/Helvetica ", 4: "/Helvetica-Bold "} {
		if o := f.Objects[n]; !strings.Contains(o, "/BaseFont "+name) || !strings.Contains(o, "/Encoding /WinAnsiEncoding") {
			t.Fatalf("font object %d: %q", n, o)
		}
	}
	for _, k := range kids {
		n, _ := strconv.Atoi(k[1])
		page := f.Objects[n]
		mb := mediaBox.FindStringSubmatch(page)
		if !strings.Contains(page, "/Type /Page ") || !strings.Contains(page, "/Parent 2 0 R") || mb == nil {
			t.Fatalf("page object %d: %q", n, page)
		}
		c := contentsRef.FindStringSubmatch(page)
		if c == nil {
			t.Fatalf("page %d has no /Contents", n)
		}
		cn, _ := strconv.Atoi(c[1])
		f.Pages = append(f.Pages, Page{Object: page, MediaBox: mb[1], Content: Inflate(t, f.Objects[cn])})
	}
	return f
}

// A4 is the MediaBox of an A4 portrait page.
const A4 = "[0 0 595.28 841.89]"

// Inflate checks a stream object's /Length against its data and inflates
// it.
func Inflate(t testing.TB, obj string) []byte {
	t.Helper()
	m := streamHead.FindStringSubmatch(obj)
	if m == nil {
		t.Fatalf("stream object: %.60q", obj)
	}
	length, _ := strconv.Atoi(m[1])
	data := obj[len(m[0]):]
	if len(data) != length+len("\nendstream") || !strings.HasSuffix(data, "\nendstream") {
		t.Fatalf("/Length %d, but %d bytes before endstream", length, len(data)-len("\nendstream"))
	}
	zr, err := zlib.NewReader(strings.NewReader(data[:length]))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// cp1252High is code page 1252 at 0x80–0x9F, for decoding (typed out
// independently of the encoder, as in internal/pdfdoc's tests).
const cp1252High = "€\uFFFD‚ƒ„…†‡ˆ‰Š‹Œ\uFFFDŽ\uFFFD\uFFFD‘’“”•–—˜™š›œ\uFFFDžŸ"

// Unescape decodes a literal string's body: only \\, \( and \) are
// expected, and unescaped parentheses are an error; bytes are WinAnsi.
func Unescape(t testing.TB, s string) string {
	t.Helper()
	high := []rune(cp1252High)
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\':
			i++
			if i == len(s) || !strings.ContainsRune(`\()`, rune(s[i])) {
				t.Fatalf("bad escape in %q", s)
			}
			c = s[i]
		case '(', ')':
			t.Fatalf("unescaped parenthesis in %q", s)
		}
		if c >= 0x80 && c < 0xa0 {
			b.WriteRune(high[c-0x80])
		} else {
			b.WriteRune(rune(c)) // ASCII and Latin-1
		}
	}
	return b.String()
}
