// Package pdfdoc writes small PDF 1.4 documents by hand: text in the two
// standard Helvetica fonts and vector drawing, no embedded fonts or
// images, deflated content, a correct cross-reference table, and output
// that depends only on the input (receipts are re-issued byte for byte).
// Receipts (internal/receipt) and QR sticker sheets (internal/qrsheet)
// lay out their pages and hand the content streams to Write.
package pdfdoc

// The PDF uses two of the standard 14 fonts, which every PDF reader has
// built in, so nothing is embedded and the file stays a few kilobytes. Their
// only single-byte encoding that covers what receipts say ("•", "—", "é",
// "€") is WinAnsiEncoding, i.e. Windows code page 1252, so text is
// converted to it here, and measured with the fonts' published metrics so
// that amounts can be right-aligned exactly.

// WinAnsi converts UTF-8 text to Windows-1252 bytes for a PDF string.
// Tab, line feed and carriage return become spaces (a stray newline in a
// one-line field should read as a word break, not as garbage); any other
// control character, invalid UTF-8 and any character code page 1252 does
// not have (Korean won "₩", CJK, emoji) become "?", so a document always
// renders and the loss is visible rather than silent.
func WinAnsi(s string) []byte {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		b = append(b, winAnsiByte(r))
	}
	return b
}

// winAnsiByte returns the Windows-1252 code of r, or '?' (see WinAnsi).
// A switch rather than a map keeps the table constant.
func winAnsiByte(r rune) byte {
	switch {
	case r == '\t' || r == '\n' || r == '\r':
		return ' '
	case r >= 0x20 && r < 0x7f, r >= 0xa0 && r <= 0xff:
		// ASCII and Latin-1 coincide with code page 1252 there.
		return byte(r)
	}
	switch r {
	case '€':
		return 0x80
	case '‚':
		return 0x82
	case 'ƒ':
		return 0x83
	case '„':
		return 0x84
	case '…':
		return 0x85
	case '†':
		return 0x86
	case '‡':
		return 0x87
	case 'ˆ':
		return 0x88
	case '‰':
		return 0x89
	case 'Š':
		return 0x8a
	case '‹':
		return 0x8b
	case 'Œ':
		return 0x8c
	case 'Ž':
		return 0x8e
	case '‘':
		return 0x91
	case '’':
		return 0x92
	case '“':
		return 0x93
	case '”':
		return 0x94
	case '•':
		return 0x95
	case '–':
		return 0x96
	case '—':
		return 0x97
	case '˜':
		return 0x98
	case '™':
		return 0x99
	case 'š':
		return 0x9a
	case '›':
		return 0x9b
	case 'œ':
		return 0x9c
	case 'ž':
		return 0x9e
	case 'Ÿ':
		return 0x9f
	}
	return '?'
}

// Font is one of the two fonts a document declares (see Write).
type Font int

const (
	Helvetica     Font = iota // /F1
	HelveticaBold             // /F2
)

// Resource is the font's name in the page resources.
func (f Font) Resource() string {
	if f == HelveticaBold {
		return "/F2"
	}
	return "/F1"
}

// TextWidth is the advance width, in points, of WinAnsi-encoded text set
// in f at size points. Bytes below 32 never reach here (WinAnsi removes
// them) and are measured as a space all the same.
func TextWidth(b []byte, f Font, size float64) float64 {
	table := &helveticaWidths
	if f == HelveticaBold {
		table = &helveticaBoldWidths
	}
	units := 0
	for _, c := range b {
		if c < 32 {
			c = ' '
		}
		units += int(table[c-32])
	}
	return float64(units) * size / 1000
}

// helveticaWidths are the advance widths (1/1000 em) of Helvetica for
// WinAnsiEncoding codes 32–255, from Adobe's Helvetica.afm. Codes the
// encoding leaves undefined (127, 129, 141, 143, 144, 157) show as a
// bullet in most readers and are given its width, 350.
var helveticaWidths = [224]uint16{
	278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, // 32–47
	556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, // 48–63
	1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, // 64–79
	667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, // 80–95
	333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, // 96–111
	556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, 350, // 112–127
	556, 350, 222, 556, 333, 1000, 556, 556, 333, 1000, 667, 333, 1000, 350, 611, 350, // 128–143
	350, 222, 222, 333, 333, 350, 556, 1000, 333, 1000, 500, 333, 944, 350, 500, 667, // 144–159
	278, 333, 556, 556, 556, 556, 260, 556, 333, 737, 370, 556, 584, 333, 737, 333, // 160–175
	400, 584, 333, 333, 333, 556, 537, 278, 333, 333, 365, 556, 834, 834, 834, 611, // 176–191
	667, 667, 667, 667, 667, 667, 1000, 722, 667, 667, 667, 667, 278, 278, 278, 278, // 192–207
	722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667, 611, // 208–223
	556, 556, 556, 556, 556, 556, 889, 500, 556, 556, 556, 556, 278, 278, 278, 278, // 224–239
	556, 556, 556, 556, 556, 556, 556, 584, 611, 556, 556, 556, 556, 500, 556, 500, // 240–255
}

// helveticaBoldWidths are the same for Helvetica-Bold (Helvetica-Bold.afm).
var helveticaBoldWidths = [224]uint16{
	278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, // 32–47
	556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611, // 48–63
	975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722, 778, // 64–79
	667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584, 556, // 80–95
	333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611, // 96–111
	611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584, 350, // 112–127
	556, 350, 278, 556, 500, 1000, 556, 556, 333, 1000, 667, 333, 1000, 350, 611, 350, // 128–143
	350, 278, 278, 500, 500, 350, 556, 1000, 333, 1000, 556, 333, 944, 350, 500, 667, // 144–159
	278, 333, 556, 556, 556, 556, 280, 556, 333, 737, 370, 556, 584, 333, 737, 333, // 160–175
	400, 584, 333, 333, 333, 611, 556, 278, 333, 333, 365, 556, 834, 834, 834, 611, // 176–191
	722, 722, 722, 722, 722, 722, 1000, 722, 667, 667, 667, 667, 278, 278, 278, 278, // 192–207
	722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667, 611, // 208–223
	556, 556, 556, 556, 556, 556, 889, 556, 556, 556, 556, 556, 278, 278, 278, 278, // 224–239
	611, 611, 611, 611, 611, 611, 611, 584, 611, 611, 611, 611, 611, 556, 611, 556, // 240–255
}
