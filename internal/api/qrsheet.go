package api

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"

	"github.com/chargestar/chargestar/internal/qrsheet"
)

// The printable QR sticker sheet of a station: one sticker per connector,
// each encoding the driver app's address for it (/app/s/{station}/{n}).

var qrSheetQuery = []param{
	{name: "format", desc: "pdf (default, A4, vector codes for print) or png (150 dpi).", schema: map[string]any{"type": "string", "enum": []string{"pdf", "png"}}},
	{name: "connectors", desc: "How many connectors to print stickers for when the station has not reported them yet (1–64; default: the reported connectors, else 1).",
		schema: map[string]any{"type": "integer", "minimum": 1, "maximum": 64}},
}

var qrSheetMedia = []string{"application/pdf", "image/png"}

func (h *handler) stationQRSheet(w http.ResponseWriter, r *http.Request, p principal) error {
	st, err := h.stationFor(r, p)
	if err != nil {
		return err
	}
	format := r.URL.Query().Get("format")
	if format == "" {
		format = "pdf"
	}
	if format != "pdf" && format != "png" {
		return errorf(http.StatusBadRequest, codeInvalidRequest, "format must be pdf or png, not %q", format)
	}
	var ids []int
	if v := r.URL.Query().Get("connectors"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 64 {
			return errorf(http.StatusBadRequest, codeInvalidRequest, "connectors must be a number from 1 to 64")
		}
		for i := 1; i <= n; i++ {
			ids = append(ids, i)
		}
	} else {
		cs, err := h.store.ListConnectors(r.Context(), st.ID)
		if err != nil {
			return err
		}
		for _, c := range cs {
			if c.ConnectorID > 0 {
				ids = append(ids, c.ConnectorID)
			}
		}
		if len(ids) == 0 {
			ids = []int{1}
		}
	}
	op, err := h.getOperatorByID(r.Context(), st.OperatorID)
	if err != nil {
		return err
	}
	site := ""
	if st.SiteID != "" {
		if s, err := h.store.GetSite(r.Context(), st.OperatorID, st.SiteID); err == nil {
			site = s.Name
		}
	}
	base := h.publicURL
	if base == "" {
		base = requestBaseURL(r)
	}
	sheet := qrsheet.Sheet{Title: st.ID + " QR stickers", Stickers: qrsheet.StickersFor(base, st.ID, op.Name, site, ids)}
	var buf bytes.Buffer
	ctype := "application/pdf"
	if format == "png" {
		ctype = "image/png"
		err = qrsheet.WritePNG(&buf, sheet)
	} else {
		err = qrsheet.WritePDF(&buf, sheet)
	}
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", `inline; filename="qr-`+safeFileName(st.ID)+`.`+format+`"`)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
	return nil
}

// requestBaseURL is the scheme and host the request came to, for links
// when no public URL is configured.
func requestBaseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func safeFileName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}
