// Package qrsheet renders printable QR sticker sheets for charging
// stations. Car-park operators print a sheet and stick one sticker on each
// connector; a driver scans it with a phone camera and lands on the driver
// app's pay-and-charge page for that connector (internal/driverapp serves
// GET /app/s/{stationId}/{connectorId}).
//
// A sheet is A4 portrait with 2 columns × 3 rows of stickers per page,
// separated by dashed cut lines with crop marks in the margin. WritePDF is
// what operators print: the QR modules are vector rectangles, so they stay
// sharp on any printer. WritePNG is the same sheet as one raster image, for
// previews and for tools that only take pictures.
//
// The package is pure: no I/O other than the writer it is given, no clock,
// no randomness. The same Sheet always gives the same bytes.
package qrsheet

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"rsc.io/qr"
)

// Sticker is one connector's sticker.
type Sticker struct {
	StationID   string
	ConnectorID int
	URL         string   // what the QR encodes
	Title       string   // e.g. "Scan to charge"
	Lines       []string // e.g. {"Acme Parking — Wynyard Level 2", "Station CP-0001 · Connector 1", "Pay by card, no app needed"}
}

// Sheet is a document of stickers, laid out in order, six to a page.
type Sheet struct {
	Title    string // document title, e.g. "CP-0001 QR stickers"
	Stickers []Sticker
}

// Standard wording of StickersFor.
const (
	stickerTitle = "Scan to charge"
	payLine      = "Pay by card, no app needed"
)

// Grid of stickers on a page.
const (
	cols    = 2
	rows    = 3
	perPage = cols * rows
)

// quietZone is the white border, in modules, that the QR specification
// requires around a symbol: scanners find the finder patterns by the
// contrast against it, so nothing else is ever drawn there.
const quietZone = 4

// ErrNoStickers is returned for a sheet without stickers: printing an
// empty sheet is always a mistake upstream.
var ErrNoStickers = errors.New("qrsheet: sheet has no stickers")

// StickerURL is the driver app's address for a connector:
// {baseURL}/app/s/{stationID}/{connectorID}. The station id is
// path-escaped, so ids with spaces or slashes stay one path segment (the
// app's router unescapes it back). A trailing slash on baseURL is dropped
// so that "https://x/" and "https://x" give the same link.
func StickerURL(baseURL, stationID string, connectorID int) string {
	return strings.TrimRight(baseURL, "/") + "/app/s/" + url.PathEscape(stationID) + "/" + strconv.Itoa(connectorID)
}

// StickersFor builds one sticker per connector, in the order of
// connectorIDs (used as given: OCPP numbers a station's connectors from 1),
// with the standard wording: what to do, where the station is, which
// connector this is, and that no app is needed. An empty operatorName or
// siteName is left out of the location line; with both empty that line is
// omitted.
func StickersFor(baseURL, stationID, operatorName, siteName string, connectorIDs []int) []Sticker {
	place := operatorName + siteName
	if operatorName != "" && siteName != "" {
		place = operatorName + " — " + siteName
	}
	stickers := make([]Sticker, 0, len(connectorIDs))
	for _, id := range connectorIDs {
		var lines []string
		if place != "" {
			lines = append(lines, place)
		}
		lines = append(lines,
			"Station "+stationID+" · Connector "+strconv.Itoa(id),
			payLine)
		stickers = append(stickers, Sticker{
			StationID:   stationID,
			ConnectorID: id,
			URL:         StickerURL(baseURL, stationID, id),
			Title:       stickerTitle,
			Lines:       lines,
		})
	}
	return stickers
}

// encode is the sticker's QR symbol. Level M (15% of the codewords can be
// lost) is the usual choice for printed codes: it survives scuffs and
// glare on a sticker outdoors while keeping the modules large.
func encode(i int, s Sticker) (*qr.Code, error) {
	if s.URL == "" {
		return nil, fmt.Errorf("qrsheet: sticker %d (station %q connector %d) has no URL", i+1, s.StationID, s.ConnectorID)
	}
	c, err := qr.Encode(s.URL, qr.M)
	if err != nil {
		return nil, fmt.Errorf("qrsheet: sticker %d: %w", i+1, err)
	}
	return c, nil
}

// encodeAll encodes every sticker up front, so that a bad sticker fails the
// whole sheet before anything is written.
func encodeAll(s Sheet) ([]*qr.Code, error) {
	if len(s.Stickers) == 0 {
		return nil, ErrNoStickers
	}
	codes := make([]*qr.Code, len(s.Stickers))
	for i, st := range s.Stickers {
		c, err := encode(i, st)
		if err != nil {
			return nil, err
		}
		codes[i] = c
	}
	return codes, nil
}

// run is a horizontal stretch of n dark modules in row y starting at
// column x. Drawing runs rather than single modules makes the PDF smaller
// and leaves no seams between neighbouring modules in a row.
type run struct{ x, y, n int }

// darkRuns lists the dark runs of c, row by row, left to right.
func darkRuns(c *qr.Code) []run {
	var runs []run
	for y := range c.Size {
		for x := 0; x < c.Size; {
			if !c.Black(x, y) {
				x++
				continue
			}
			start := x
			for x < c.Size && c.Black(x, y) {
				x++
			}
			runs = append(runs, run{start, y, x - start})
		}
	}
	return runs
}

// pageCount is how many pages n stickers take.
func pageCount(n int) int {
	return max(1, (n+perPage-1)/perPage)
}

// cellOf is where the i-th sticker goes: its page, and its column and row
// (row 0 at the top), filling each page row by row.
func cellOf(i int) (page, col, row int) {
	return i / perPage, i % cols, i % perPage / cols
}

// cutEdges tells which edges of the cell of the k-th of used stickers on
// a page get a cut line. Every cell draws its top and left edges; the
// right and bottom only where no used cell follows, so a line shared by
// two stickers is drawn once and its dashes are not doubled.
func cutEdges(k, used int) (top, left, right, bottom bool) {
	col := k % cols
	return true, true, col == cols-1 || k+1 >= used, k+cols >= used
}

// gridLines is how many vertical and horizontal grid lines bound the used
// cells of a page; crop marks show where they meet the page edge, for a
// guillotine cut through the whole sheet.
func gridLines(used int) (vertical, horizontal int) {
	vertical = cols + 1
	if used < cols {
		vertical = used + 1
	}
	return vertical, (used+cols-1)/cols + 1
}

// footerText is the small line at the foot of each page that tells
// printed pages apart.
func footerText(title string, page, pages int) string {
	s := fmt.Sprintf("Page %d of %d", page+1, pages)
	if title != "" {
		s = title + " · " + s
	}
	return s
}

// wrap breaks b into lines no wider than width as measure measures them:
// at spaces, and inside a word only when the word alone is too wide (a
// long station id). An empty b gives no lines.
func wrap(b []byte, width float64, measure func([]byte) float64) [][]byte {
	if len(b) == 0 {
		return nil
	}
	var lines [][]byte
	for {
		if measure(b) <= width {
			if len(b) > 0 || len(lines) == 0 {
				lines = append(lines, b)
			}
			return lines
		}
		// fit is how many bytes fit; at least one, or nothing would
		// ever be placed.
		fit := 1
		for fit < len(b) && measure(b[:fit+1]) <= width {
			fit++
		}
		cut := fit
		// Break at the last space that fits (a space just past the
		// edge is fine: it is not drawn).
		if i := lastSpace(b[:min(fit+1, len(b))]); i > 0 {
			cut = i
		}
		lines = append(lines, trimSpaces(b[:cut], false))
		b = trimSpaces(b[cut:], true)
	}
}

func lastSpace(b []byte) int {
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == ' ' {
			return i
		}
	}
	return -1
}

// trimSpaces removes spaces from the left or the right end of b.
func trimSpaces(b []byte, left bool) []byte {
	if left {
		for len(b) > 0 && b[0] == ' ' {
			b = b[1:]
		}
		return b
	}
	for len(b) > 0 && b[len(b)-1] == ' ' {
		b = b[:len(b)-1]
	}
	return b
}

// fitLine is b cut to fit width, ending in ellipsis when cut: for the
// one-line page footer, where wrapping would run into the crop marks.
func fitLine(b []byte, width float64, measure func([]byte) float64, ellipsis byte) []byte {
	if measure(b) <= width {
		return b
	}
	for n := len(b) - 1; n > 0; n-- {
		// A fresh slice each time: appending to b's prefix would
		// overwrite b itself.
		s := append(slices.Clip(trimSpaces(b[:n], false)), ellipsis)
		if measure(s) <= width {
			return s
		}
	}
	return nil
}
