package api

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/chargestar/chargestar/internal/model"
	"github.com/chargestar/chargestar/internal/store"
)

// Session is a charging session.
type Session struct {
	ID            string     `json:"id" example:"ses_abcdefghijklmnopqrstuvwx"`
	OperatorID    string     `json:"operator_id"`
	StationID     string     `json:"station_id"`
	ConnectorID   int        `json:"connector_id" doc:"For 2.x stations, the EVSE id."`
	TransactionID string     `json:"transaction_id" doc:"The station-facing transaction id: a 1.6 integer as decimal text, or the 2.x station's string."`
	IDTag         string     `json:"id_tag" doc:"The id token that started the session."`
	ReservationID *int       `json:"reservation_id"`
	Status        string     `json:"status" enum:"active,completed"`
	StartedAt     time.Time  `json:"started_at"`
	StoppedAt     *time.Time `json:"stopped_at" doc:"null while active."`
	MeterStartWh  int64      `json:"meter_start_wh" doc:"Energy register at the start, Wh."`
	MeterStopWh   *int64     `json:"meter_stop_wh" doc:"Energy register at the stop, Wh; null while active."`
	EnergyWh      int64      `json:"energy_wh" doc:"Energy so far (active: from the latest meter value) or the final energy (completed), Wh."`
	StopReason    *string    `json:"stop_reason" doc:"OCPP stop reason, e.g. Local, Remote, EVDisconnected; null while active."`
	StopSource    *string    `json:"stop_source" enum:"station,estimated" doc:"station: the station reported the stop; estimated: closed by the server (superseded or rebooted station) until the station reports it. null while active."`
	AmountTotal   int64      `json:"amount_total" doc:"Price in minor units of currency, tax included."`
	AmountTax     int64      `json:"amount_tax" doc:"Tax part of amount_total, minor units."`
	Currency      string     `json:"currency" doc:"ISO 4217." example:"AUD"`
	PaymentStatus string     `json:"payment_status" enum:"none,authorized,captured,voided,failed"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
}

// MeterValue is one timestamped group of sampled values.
type MeterValue struct {
	ID            int64          `json:"id"`
	ConnectorID   int            `json:"connector_id"`
	TransactionID string         `json:"transaction_id"`
	Timestamp     time.Time      `json:"timestamp" doc:"The station's timestamp."`
	Context       string         `json:"context" doc:"Reading context of the first sample, e.g. Sample.Periodic, Transaction.End."`
	EnergyWh      *float64       `json:"energy_wh" doc:"Import energy register in Wh, when sampled."`
	PowerW        *float64       `json:"power_w" doc:"Active import power in W, when sampled."`
	SoC           *float64       `json:"soc" doc:"State of charge in %, when sampled."`
	Samples       []SampledValue `json:"samples"`
	ReceivedAt    time.Time      `json:"received_at"`
}

// SampledValue is one sampled value as the station sent it.
type SampledValue struct {
	Value     string `json:"value" doc:"As sent, unparsed."`
	Context   string `json:"context,omitempty"`
	Format    string `json:"format,omitempty"`
	Measurand string `json:"measurand,omitempty"`
	Phase     string `json:"phase,omitempty"`
	Location  string `json:"location,omitempty"`
	Unit      string `json:"unit,omitempty"`
}

func sessionOut(s model.Session) Session {
	return Session{
		ID: s.ID, OperatorID: s.OperatorID, StationID: s.StationID, ConnectorID: s.ConnectorID,
		TransactionID: s.TransactionID, IDTag: s.IDTag, ReservationID: s.ReservationID, Status: s.Status,
		StartedAt: utc(s.StartedAt), StoppedAt: utcPtr(s.StoppedAt), MeterStartWh: s.MeterStartWh,
		MeterStopWh: s.MeterStopWh, EnergyWh: s.EnergyWh, StopReason: strPtr(s.StopReason),
		StopSource: strPtr(s.StopSource), AmountTotal: s.AmountTotal, AmountTax: s.AmountTax,
		Currency: s.Currency, PaymentStatus: s.PaymentStatus, CreatedAt: utc(s.CreatedAt), UpdatedAt: utc(s.UpdatedAt),
	}
}

func (h *handler) listSessions(w http.ResponseWriter, r *http.Request, p principal) error {
	pg, err := parsePage(r)
	if err != nil {
		return err
	}
	opID, err := h.filterOperator(r, p)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	status := q.Get("status")
	if status != "" && status != model.SessionActive && status != model.SessionCompleted {
		return badParam("status", "must be active or completed")
	}
	stationID := q.Get("station_id")
	if stationID != "" {
		st, err := h.store.GetStation(r.Context(), stationID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && !p.canSee(st.OperatorID)) {
			return notFound("station", stationID)
		}
		if err != nil {
			return err
		}
	}
	ss, err := h.store.ListSessions(r.Context(), store.SessionFilter{
		OperatorID: opID, StationID: stationID, Status: status, Limit: pg.limit + 1, Before: pg.cursor,
	})
	if errors.Is(err, store.ErrNotFound) {
		// The cursor's session is unknown (or another operator's).
		return errBadCursor()
	}
	if err != nil {
		return err
	}
	ss, next := trimPage(ss, pg.limit, func(s model.Session) string { return s.ID })
	out := make([]Session, len(ss))
	for i, s := range ss {
		out[i] = sessionOut(s)
	}
	writeJSON(w, http.StatusOK, newList(out, next))
	return nil
}

// sessionFor returns the path's {sessionId} session when p may see it.
func (h *handler) sessionFor(r *http.Request, p principal) (model.Session, error) {
	id := r.PathValue("sessionId")
	s, err := h.store.GetSession(r.Context(), p.scope(), id)
	if errors.Is(err, store.ErrNotFound) {
		return model.Session{}, notFound("session", id)
	}
	return s, err
}

func (h *handler) getSession(w http.ResponseWriter, r *http.Request, p principal) error {
	s, err := h.sessionFor(r, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sessionOut(s))
	return nil
}

// maxMeterValuesFetch is the store's limit for one meter-value read; the
// store has no cursor for them, so pages are offsets within that window.
const maxMeterValuesFetch = 10000

func (h *handler) listMeterValues(w http.ResponseWriter, r *http.Request, p principal) error {
	s, err := h.sessionFor(r, p)
	if err != nil {
		return err
	}
	pg, err := parsePage(r)
	if err != nil {
		return err
	}
	offset := 0
	if pg.cursor != "" {
		if offset, err = strconv.Atoi(pg.cursor); err != nil || offset <= 0 || offset >= maxMeterValuesFetch {
			return errBadCursor()
		}
	}
	fetch := min(offset+pg.limit+1, maxMeterValuesFetch)
	mvs, err := h.store.ListMeterValues(r.Context(), s.ID, fetch)
	if err != nil {
		return err
	}
	if offset > len(mvs) {
		offset = len(mvs)
	}
	mvs = mvs[offset:]
	next := ""
	if len(mvs) > pg.limit {
		mvs = mvs[:pg.limit]
		if offset+pg.limit < maxMeterValuesFetch {
			next = encodeCursor(strconv.Itoa(offset + pg.limit))
		}
	}
	out := make([]MeterValue, len(mvs))
	for i, mv := range mvs {
		samples := make([]SampledValue, len(mv.Samples))
		for j, sv := range mv.Samples {
			samples[j] = SampledValue(sv)
		}
		out[i] = MeterValue{ID: mv.ID, ConnectorID: mv.ConnectorID, TransactionID: mv.TransactionID,
			Timestamp: utc(mv.Timestamp), Context: mv.Context, EnergyWh: mv.EnergyWh, PowerW: mv.PowerW,
			SoC: mv.SoC, Samples: samples, ReceivedAt: utc(mv.ReceivedAt)}
	}
	writeJSON(w, http.StatusOK, newList(out, next))
	return nil
}
