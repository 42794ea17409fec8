package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/chargestar/chargestar/internal/access"
	"github.com/chargestar/chargestar/internal/model"
	"github.com/chargestar/chargestar/internal/store"
)

// The live board: every station of an operator with its connectors and
// their sessions (GET /board), and a stream of the stations as they
// change (GET /board/events, server-sent events fed by the live.Broker
// the CSMS core nudges).

// liveStore is what the board reads beyond the station routes.
type liveStore interface {
	ActiveSessionsOf(ctx context.Context, stationIDs []string) (map[string][]store.LiveSession, error)
}

// Board is the answer of GET /api/v1/board.
type Board struct {
	Stations    []BoardStation `json:"stations" doc:"Ordered by id."`
	GeneratedAt time.Time      `json:"generated_at" doc:"When the board was read."`
}

// BoardStation is one station as the live board shows it.
type BoardStation struct {
	ID              string           `json:"id" example:"CP-0001"`
	OperatorID      string           `json:"operator_id"`
	SiteID          *string          `json:"site_id" doc:"null when not assigned to a site."`
	SiteName        *string          `json:"site_name" doc:"The site's name; null without a site."`
	Connected       bool             `json:"connected" doc:"Whether the station has a live connection now; a station that is not connected is offline and its connectors' statuses are the last it reported."`
	Protocol        *string          `json:"protocol" doc:"Last negotiated protocol (ocpp1.6, ocpp2.0.1, ocpp2.1, …); null before the first connection."`
	Vendor          string           `json:"vendor"`
	Model           string           `json:"model"`
	FirmwareVersion string           `json:"firmware_version"`
	LastSeenAt      *time.Time       `json:"last_seen_at" doc:"When the station was last heard from (updated every few seconds while connected)."`
	RetiredAt       *time.Time       `json:"retired_at" doc:"When the station was retired; null while in service."`
	Connectors      []BoardConnector `json:"connectors" doc:"Connectors from 1 up (for 2.x stations the EVSE id)."`
}

// BoardConnector is a connector's last status and its active session.
type BoardConnector struct {
	ConnectorID int           `json:"connector_id" minimum:"1"`
	Status      string        `json:"status" doc:"Last reported status (OCPP 1.6 names; 2.x states are mapped onto them); empty when a session runs on a connector whose status was never reported."`
	ErrorCode   string        `json:"error_code" doc:"OCPP 1.6 ChargePointErrorCode; NoError when fine." example:"NoError"`
	StatusAt    *time.Time    `json:"status_at" doc:"The station's timestamp of the status; null when never reported."`
	Session     *BoardSession `json:"session" doc:"The connector's active session; null when none."`
}

// BoardSession is an active session on the board.
type BoardSession struct {
	ID        string    `json:"id" example:"ses_01HV…"`
	StartedAt time.Time `json:"started_at"`
	EnergyWh  int64     `json:"energy_wh" minimum:"0" doc:"Energy delivered so far, from the latest meter reading."`
	PowerW    *float64  `json:"power_w" doc:"Active import power (Power.Active.Import) of the latest meter value that has it, in W; null when the station reported none."`
	IDTag     string    `json:"id_tag" doc:"The id token the session is charged to."`
}

// boardStatuses are the values of the status filter.
var boardStatuses = []string{"Offline", "Available", "Preparing", "Charging", "SuspendedEV", "SuspendedEVSE", "Finishing", "Reserved", "Unavailable", "Faulted"}

var (
	boardSiteParam    = param{name: "site_id", desc: "Only the stations of this site.", schema: map[string]any{"type": "string"}}
	boardStationParam = param{name: "station_id", desc: "Only this station (404 when it is not the caller's).",
		schema: map[string]any{"type": "string"}}
	boardQuery = []param{operatorFilter, boardSiteParam, boardStationParam,
		{name: "status", desc: "Offline: only stations without a live connection. A connector status: only connected stations with a connector in that status.",
			schema: map[string]any{"type": "string", "enum": boardStatuses}},
		{name: "q", desc: "Only stations whose id contains this text (case-insensitive).", schema: map[string]any{"type": "string", "maxLength": 48}}}
	boardEventsQuery = []param{operatorFilter, boardSiteParam, boardStationParam}
)

const boardEventsDoc = "A text/event-stream of the caller's stations as they change (connection, connector status, sessions starting, " +
	"metered or stopping): `event: station` with `data:` a BoardStation as JSON, at most one per station every half second; " +
	"`event: reload` when changes were too many to follow (read GET /board again); a `: ping` comment every 15 seconds. " +
	"Filters as for GET /board (operator_id, site_id, station_id); status and q are left to the client, since a station " +
	"moves in and out of them. The stream ends after 15 minutes, when the server shuts down, or when the client goes away; " +
	"EventSource reconnects by itself (read the board again then: changes in between are not replayed). " +
	"503 unavailable when the server runs without live updates."

func (h *handler) liveRoutes() []route {
	read := []int{e400, e401, e404}
	return []route{
		{method: "GET", pattern: "/api/v1/board", handle: h.getBoard, need: access.View,
			id: "getBoard", tag: tagStations, summary: "The live board: every station with its connectors and active sessions",
			desc: "One read of everything a live view shows: each station's connection, its connectors' statuses and the " +
				"session on each (energy so far, power now). GET /board/events streams the changes.",
			query: boardQuery, ok: 200, resp: Board{}, errs: read},
		{method: "GET", pattern: "/api/v1/board/events", handle: h.boardEvents, need: access.View,
			id: "streamBoardEvents", tag: tagStations, summary: "The live board's changes (server-sent events)", desc: boardEventsDoc,
			query: boardEventsQuery, ok: 200, media: []string{"text/event-stream"}, errs: read},
	}
}

// boardFilter is a board request's filters, checked.
type boardFilter struct {
	operatorID string // "" for an administrator without operator_id: all
	siteID     string
	stationID  string
	status     string
	q          string
}

func (h *handler) parseBoardFilter(r *http.Request, p principal) (boardFilter, error) {
	var f boardFilter
	var err error
	if f.operatorID, err = h.filterOperator(r, p); err != nil {
		return f, err
	}
	q := r.URL.Query()
	if f.siteID = q.Get("site_id"); f.siteID != "" {
		if err := h.siteOf(r, p.scope(), f.siteID); err != nil {
			return f, err
		}
	}
	if f.stationID = q.Get("station_id"); f.stationID != "" {
		st, err := h.store.GetStation(r.Context(), f.stationID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && (!p.canSee(st.OperatorID) || (f.operatorID != "" && st.OperatorID != f.operatorID))) {
			return f, notFound("station", f.stationID)
		}
		if err != nil {
			return f, err
		}
	}
	if f.status = q.Get("status"); f.status != "" && !slices.Contains(boardStatuses, f.status) {
		return f, badParam("status", "must be one of %s", strings.Join(boardStatuses, ", "))
	}
	if f.q = strings.TrimSpace(q.Get("q")); len(f.q) > 48 {
		return f, badParam("q", "must have at most 48 characters")
	}
	return f, nil
}

// matches applies the filters that depend on the station's state.
func (f boardFilter) matches(b BoardStation) bool {
	if f.q != "" && !strings.Contains(strings.ToLower(b.ID), strings.ToLower(f.q)) {
		return false
	}
	switch f.status {
	case "":
		return true
	case "Offline":
		return !b.Connected
	}
	if !b.Connected {
		return false
	}
	for _, c := range b.Connectors {
		if c.Status == f.status {
			return true
		}
	}
	return false
}

// scoped reports whether a station is within the operator, site and
// station filters.
func (f boardFilter) scoped(st model.Station) bool {
	return (f.operatorID == "" || st.OperatorID == f.operatorID) &&
		(f.siteID == "" || st.SiteID == f.siteID) &&
		(f.stationID == "" || st.ID == f.stationID)
}

func (h *handler) getBoard(w http.ResponseWriter, r *http.Request, p principal) error {
	f, err := h.parseBoardFilter(r, p)
	if err != nil {
		return err
	}
	now := h.now()
	var sts []model.Station
	if f.stationID != "" {
		st, err := h.store.GetStation(r.Context(), f.stationID)
		if err != nil {
			return err
		}
		if f.scoped(st) {
			sts = append(sts, st)
		}
	} else {
		for after := ""; ; {
			page, err := h.store.ListStations(r.Context(), store.StationFilter{OperatorID: f.operatorID, SiteID: f.siteID, Limit: 1000, After: after})
			if err != nil {
				return err
			}
			sts = append(sts, page...)
			if len(page) < 1000 {
				break
			}
			after = page[len(page)-1].ID
		}
	}
	all, err := h.boardStations(r.Context(), sts)
	if err != nil {
		return err
	}
	out := Board{Stations: make([]BoardStation, 0, len(all)), GeneratedAt: utc(now)}
	for _, b := range all {
		if f.matches(b) {
			out.Stations = append(out.Stations, b)
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// boardStations builds the board rows of stations with three reads (their
// connectors, their active sessions, the sites), whatever their number.
func (h *handler) boardStations(ctx context.Context, sts []model.Station) ([]BoardStation, error) {
	if len(sts) == 0 {
		return nil, nil
	}
	ids := make([]string, len(sts))
	ops := map[string]bool{}
	for i, st := range sts {
		ids[i] = st.ID
		if st.SiteID != "" {
			ops[st.OperatorID] = true
		}
	}
	conns, err := h.store.ListConnectorsOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	sessions, err := h.store.ActiveSessionsOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	siteNames := map[string]string{}
	scope := ""
	if len(ops) == 1 {
		for op := range ops {
			scope = op
		}
	}
	if len(ops) > 0 {
		sites, err := h.store.ListSites(ctx, scope)
		if err != nil {
			return nil, err
		}
		for _, s := range sites {
			siteNames[s.ID] = s.Name
		}
	}
	out := make([]BoardStation, len(sts))
	for i, st := range sts {
		out[i] = h.boardStation(st, conns[st.ID], sessions[st.ID], siteNames)
	}
	return out, nil
}

func (h *handler) boardStation(st model.Station, conns []model.Connector, sessions []store.LiveSession, siteNames map[string]string) BoardStation {
	b := BoardStation{
		ID: st.ID, OperatorID: st.OperatorID, SiteID: strPtr(st.SiteID), Connected: h.csms.Connected(st.ID),
		Protocol: strPtr(st.Protocol), Vendor: st.Vendor, Model: st.Model, FirmwareVersion: st.FirmwareVersion,
		LastSeenAt: utcPtr(st.LastSeenAt), RetiredAt: utcPtr(st.RetiredAt), Connectors: []BoardConnector{},
	}
	if st.SiteID != "" {
		if name, ok := siteNames[st.SiteID]; ok {
			b.SiteName = &name
		}
	}
	byConn := map[int]*BoardSession{}
	for _, s := range sessions {
		byConn[s.ConnectorID] = &BoardSession{ID: s.ID, StartedAt: utc(s.StartedAt), EnergyWh: s.EnergyWh, PowerW: s.PowerW, IDTag: s.IDTag}
	}
	for _, c := range conns {
		if c.ConnectorID < 1 {
			continue
		}
		at := utc(c.StatusAt)
		b.Connectors = append(b.Connectors, BoardConnector{ConnectorID: c.ConnectorID, Status: c.Status, ErrorCode: c.ErrorCode,
			StatusAt: &at, Session: byConn[c.ConnectorID]})
		delete(byConn, c.ConnectorID)
	}
	// A session on a connector that never reported a status (a station
	// that starts charging before its first StatusNotification).
	for id, s := range byConn {
		if id < 1 {
			continue
		}
		b.Connectors = append(b.Connectors, BoardConnector{ConnectorID: id, Session: s})
	}
	slices.SortFunc(b.Connectors, func(x, y BoardConnector) int { return x.ConnectorID - y.ConnectorID })
	return b
}

// The stream's pace: at most one update per station per liveInterval, a
// comment every livePing, and a fresh request (authenticated again) every
// liveMaxAge.
var (
	liveInterval = 500 * time.Millisecond
	livePing     = 15 * time.Second
	liveMaxAge   = 15 * time.Minute
)

func (h *handler) boardEvents(w http.ResponseWriter, r *http.Request, p principal) error {
	f, err := h.parseBoardFilter(r, p)
	if err != nil {
		return err
	}
	if h.live == nil {
		return errorf(http.StatusServiceUnavailable, codeUnavailable, "live updates are not available on this server")
	}
	sub := h.live.Subscribe()
	defer sub.Close()
	select {
	case <-sub.Done():
		return errorf(http.StatusServiceUnavailable, codeUnavailable, "the server is shutting down; retry shortly")
	default:
	}
	ctx := r.Context()
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{}) // a stream outlives any write timeout
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Accel-Buffering", "no") // nginx: do not buffer
	w.WriteHeader(http.StatusOK)
	// retry: how long EventSource waits before reconnecting.
	if _, err := fmt.Fprint(w, "retry: 3000\n: live\n\n"); err != nil {
		return nil
	}
	if err := rc.Flush(); err != nil {
		h.log.Warn("board events: the response cannot be streamed", "err", err)
		return nil
	}

	foreign := map[string]bool{} // stations known to be out of scope (their operator never changes)
	ping := time.NewTicker(livePing)
	defer ping.Stop()
	maxAge := time.NewTimer(liveMaxAge)
	defer maxAge.Stop()
	var last time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-sub.Done():
			return nil
		case <-maxAge.C:
			return nil
		case <-ping.C:
			if _, err := fmt.Fprint(w, ": ping\n\n"); err != nil || rc.Flush() != nil {
				return nil
			}
			continue
		case <-sub.Ready():
		}
		// Coalesce: nudges arriving within liveInterval of the last
		// update wait for the next one, and are read back once.
		if wait := time.Until(last.Add(liveInterval)); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil
			case <-sub.Done():
				t.Stop()
				return nil
			case <-t.C:
			}
		}
		last = time.Now()
		ids, overflow := sub.Take()
		if overflow {
			if _, err := fmt.Fprint(w, "event: reload\ndata: {}\n\n"); err != nil || rc.Flush() != nil {
				return nil
			}
			continue
		}
		events, err := h.boardChanges(ctx, f, ids, foreign)
		if err != nil {
			if ctx.Err() == nil {
				h.log.Warn("board events: reading changed stations failed", "err", err)
			}
			return nil // the client reconnects and reads the board again
		}
		for _, b := range events {
			js, err := json.Marshal(b)
			if err != nil {
				return nil
			}
			if _, err := fmt.Fprintf(w, "event: station\ndata: %s\n\n", js); err != nil {
				return nil
			}
		}
		if len(events) > 0 && rc.Flush() != nil {
			return nil
		}
	}
}

// boardChanges reads back the changed stations that are within the
// stream's scope. Stations of another operator are remembered in foreign
// and never read again.
func (h *handler) boardChanges(ctx context.Context, f boardFilter, ids []string, foreign map[string]bool) ([]BoardStation, error) {
	var sts []model.Station
	for _, id := range ids {
		if foreign[id] || (f.stationID != "" && id != f.stationID) {
			continue
		}
		st, err := h.store.GetStation(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if f.operatorID != "" && st.OperatorID != f.operatorID {
			if len(foreign) < 100_000 {
				foreign[id] = true
			}
			continue
		}
		if f.scoped(st) {
			sts = append(sts, st)
		}
	}
	return h.boardStations(ctx, sts)
}
