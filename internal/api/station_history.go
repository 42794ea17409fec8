package api

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/chargestar/chargestar/internal/model"
	"github.com/chargestar/chargestar/internal/store"
)

// Message is one OCPP frame of a station's message log.
type Message struct {
	ID          int64     `json:"id"`
	At          time.Time `json:"at" doc:"When the frame was received or sent."`
	Direction   string    `json:"direction" enum:"in,out" doc:"in: station to server; out: server to station."`
	MessageType int       `json:"message_type" enum:"2,3,4,5,6" doc:"OCPP-J message type: 2 CALL, 3 CALLRESULT, 4 CALLERROR, 5 CALLRESULTERROR, 6 SEND."`
	MessageID   string    `json:"message_id"`
	Action      string    `json:"action" doc:"The action; for results and errors, the action of the call they answer."`
	Frame       string    `json:"frame" doc:"The whole frame as exchanged on the wire."`
}

// StatusEvent is one StatusNotification.
type StatusEvent struct {
	ID              int64     `json:"id"`
	ConnectorID     int       `json:"connector_id" doc:"0 is the station itself."`
	Status          string    `json:"status" doc:"OCPP 1.6 status name (2.x states mapped)."`
	ErrorCode       string    `json:"error_code"`
	Info            string    `json:"info"`
	VendorID        string    `json:"vendor_id"`
	VendorErrorCode string    `json:"vendor_error_code"`
	Timestamp       time.Time `json:"timestamp" doc:"The station's timestamp."`
	ReceivedAt      time.Time `json:"received_at"`
}

// parseIDPage reads the page parameters of a list paged newest first by
// row id: the cursor is the id the next page stays below.
func parseIDPage(r *http.Request) (page, int64, error) {
	pg, err := parsePage(r)
	if err != nil {
		return pg, 0, err
	}
	var before int64
	if pg.cursor != "" {
		if before, err = strconv.ParseInt(pg.cursor, 10, 64); err != nil || before <= 0 {
			return pg, 0, errBadCursor()
		}
	}
	return pg, before, nil
}

func (h *handler) listMessages(w http.ResponseWriter, r *http.Request, p principal) error {
	st, err := h.stationFor(r, p)
	if err != nil {
		return err
	}
	pg, before, err := parseIDPage(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	msgs, err := h.store.ListMessages(r.Context(), store.MessageFilter{
		StationID: st.ID, Action: q.Get("action"), Contains: q.Get("q"), Before: before, Limit: pg.limit + 1,
	})
	if err != nil {
		return err
	}
	msgs, next := trimPage(msgs, pg.limit, func(m model.MessageLogEntry) string { return strconv.FormatInt(m.ID, 10) })
	out := make([]Message, len(msgs))
	for i, m := range msgs {
		out[i] = Message{ID: m.ID, At: utc(m.At), Direction: m.Direction, MessageType: m.MessageType,
			MessageID: m.MessageID, Action: m.Action, Frame: m.Payload}
	}
	writeJSON(w, http.StatusOK, newList(out, next))
	return nil
}

// maxStatusEventsFetch is the store's limit for one status-event read.
const maxStatusEventsFetch = 10000

// statusCursor is the position after which a status-event page starts:
// the store orders by (timestamp, id) and filters by timestamp only.
type statusCursor struct {
	ts time.Time
	id int64
}

func (c statusCursor) String() string {
	return c.ts.UTC().Format(time.RFC3339Nano) + "|" + strconv.FormatInt(c.id, 10)
}

func parseStatusCursor(s string) (statusCursor, bool) {
	ts, id, ok := strings.Cut(s, "|")
	if !ok {
		return statusCursor{}, false
	}
	t, err1 := time.Parse(time.RFC3339Nano, ts)
	n, err2 := strconv.ParseInt(id, 10, 64)
	return statusCursor{t, n}, err1 == nil && err2 == nil
}

func (h *handler) listStatusEvents(w http.ResponseWriter, r *http.Request, p principal) error {
	st, err := h.stationFor(r, p)
	if err != nil {
		return err
	}
	pg, err := parsePage(r)
	if err != nil {
		return err
	}
	var since time.Time
	if s := r.URL.Query().Get("since"); s != "" {
		if since, err = time.Parse(time.RFC3339, s); err != nil {
			return badParam("since", "must be an RFC 3339 date-time, e.g. 2026-01-02T15:04:05Z")
		}
	}
	var after *statusCursor
	if pg.cursor != "" {
		c, ok := parseStatusCursor(pg.cursor)
		if !ok {
			return errBadCursor()
		}
		after = &c
		if c.ts.After(since) {
			since = c.ts
		}
	}
	// Events at the cursor's timestamp up to its id come again and are
	// skipped; fetch a margin for them, widening it in the rare case that a
	// whole read was skipped.
	fetch := min(pg.limit+1+16, maxStatusEventsFetch)
	var evs []model.StatusEvent
	for {
		all, err := h.store.ListStatusEvents(r.Context(), st.ID, since, fetch)
		if err != nil {
			return err
		}
		evs = all[:0:0]
		for _, e := range all {
			if after != nil && (e.Timestamp.Before(after.ts) || e.Timestamp.Equal(after.ts) && e.ID <= after.id) {
				continue
			}
			evs = append(evs, e)
		}
		if len(evs) > pg.limit || len(all) < fetch || fetch == maxStatusEventsFetch {
			break
		}
		fetch = min(fetch*4, maxStatusEventsFetch)
	}
	evs, next := trimPage(evs, pg.limit, func(e model.StatusEvent) string {
		return statusCursor{e.Timestamp, e.ID}.String()
	})
	out := make([]StatusEvent, len(evs))
	for i, e := range evs {
		out[i] = StatusEvent{ID: e.ID, ConnectorID: e.ConnectorID, Status: e.Status, ErrorCode: e.ErrorCode, Info: e.Info,
			VendorID: e.VendorID, VendorErrorCode: e.VendorErrorCode, Timestamp: utc(e.Timestamp), ReceivedAt: utc(e.ReceivedAt)}
	}
	writeJSON(w, http.StatusOK, newList(out, next))
	return nil
}
