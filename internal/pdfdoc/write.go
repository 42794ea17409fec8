package pdfdoc

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

// Document is what Write needs: the page size in points, each page's
// content stream (uncompressed; fonts are /F1 Helvetica and /F2
// Helvetica-Bold), and the information dictionary's entries, already in
// PDF syntax ("/Title " + TextString(…)).
type Document struct {
	Width, Height float64
	Pages         [][]byte
	Info          []string
}

// Write writes d as a PDF 1.4 file. Objects: 1 catalog, 2 page tree, 3–4
// fonts, 5 info, then a page and its content stream for each page.
func Write(w io.Writer, d Document) error {
	const firstPage = 6
	kids := make([]string, len(d.Pages))
	for i := range kids {
		kids[i] = fmt.Sprintf("%d 0 R", firstPage+2*i)
	}
	info := "<< " + strings.Join(append(append([]string(nil), d.Info...), "/Producer (Charge Star)"), " ") + " >>"
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R /Lang (en) >>",
		fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), len(d.Pages)),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
		info,
	}
	for i, content := range d.Pages {
		objs = append(objs, fmt.Sprintf(
			"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %s %s] /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents %d 0 R >>",
			Num(d.Width), Num(d.Height), firstPage+2*i+1))
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

// String is a PDF literal string of WinAnsi bytes. Only the backslash and
// parentheses need escaping; other bytes stand for themselves.
func String(b []byte) string {
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

// TextString is a string for the document information dictionary. Those
// are not in WinAnsi but in PDFDocEncoding or UTF-16BE; UTF-16BE with a
// byte order mark, in hex, carries any text exactly.
func TextString(s string) string {
	var b strings.Builder
	b.WriteString("<FEFF")
	for _, u := range utf16.Encode([]rune(s)) {
		fmt.Fprintf(&b, "%04X", u)
	}
	b.WriteByte('>')
	return b.String()
}

// Date is a PDF date, D:YYYYMMDDHHmmSS with the offset from UTC.
func Date(t time.Time) string {
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

// Round2 rounds to a hundredth, the precision Num writes.
func Round2(v float64) float64 { return math.Round(v*100) / 100 }

// Num formats a coordinate or size: at most two decimals (a hundredth of
// a point is far below what anyone sees), no trailing zeros.
func Num(v float64) string {
	v = Round2(v)
	if v == 0 {
		return "0" // not "-0"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}
