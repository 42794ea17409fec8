package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/chargestar/chargestar/internal/model"
	"github.com/chargestar/chargestar/internal/store"
)

// Variable is one attribute of a variable of an OCPP 2.x station's device
// model, as the station last reported it or as last read or written by a
// GetVariables/SetVariables command.
type Variable struct {
	Component         string    `json:"component" example:"SampledDataCtrlr"`
	ComponentInstance string    `json:"component_instance,omitempty"`
	EVSEID            int       `json:"evse_id,omitempty" doc:"The EVSE the component belongs to; absent for the station as a whole."`
	ConnectorID       int       `json:"connector_id,omitempty"`
	Variable          string    `json:"variable" example:"TxUpdatedInterval"`
	VariableInstance  string    `json:"variable_instance,omitempty"`
	AttributeType     string    `json:"attribute_type" enum:"Actual,Target,MinSet,MaxSet"`
	Value             string    `json:"value"`
	Mutability        string    `json:"mutability,omitempty" enum:"ReadOnly,WriteOnly,ReadWrite"`
	Persistent        bool      `json:"persistent"`
	Constant          bool      `json:"constant"`
	DataType          string    `json:"data_type,omitempty" example:"integer"`
	Unit              string    `json:"unit,omitempty"`
	ValuesList        string    `json:"values_list,omitempty"`
	Status            string    `json:"status,omitempty" doc:"The attribute status of the last GetVariables/SetVariables answer; absent when it came from a report."`
	UpdatedAt         time.Time `json:"updated_at"`
}

// StationEvent is a noteworthy event a station reported.
type StationEvent struct {
	ID         int64     `json:"id"`
	Kind       string    `json:"kind" enum:"security,notify,settlement" doc:"security: SecurityEventNotification; notify: OCPP 2.x NotifyEvent; settlement: OCPP 2.1 NotifySettlement."`
	Type       string    `json:"type" doc:"The security event type, the component and variable of a 2.x event with its trigger, or the settlement status."`
	Severity   *int      `json:"severity,omitempty"`
	TechInfo   string    `json:"tech_info"`
	Payload    string    `json:"payload,omitempty" doc:"The event as the station sent it (JSON), when it has more than the fields above."`
	Timestamp  time.Time `json:"timestamp" doc:"The station's timestamp."`
	ReceivedAt time.Time `json:"received_at"`
}

func (h *handler) listVariables(w http.ResponseWriter, r *http.Request, p principal) error {
	st, err := h.stationFor(r, p)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	vars, err := h.store.ListStationVariables(r.Context(), st.ID, store.VariableFilter{
		Component: q.Get("component"), Variable: q.Get("variable"), Limit: 10000})
	if err != nil {
		return err
	}
	out := make([]Variable, len(vars))
	for i, v := range vars {
		out[i] = Variable{Component: v.Component, ComponentInstance: v.ComponentInstance, EVSEID: v.EVSEID,
			ConnectorID: v.ConnectorID, Variable: v.Variable, VariableInstance: v.VariableInstance,
			AttributeType: v.AttributeType, Value: v.Value, Mutability: v.Mutability, Persistent: v.Persistent,
			Constant: v.Constant, DataType: v.DataType, Unit: v.Unit, ValuesList: v.ValuesList, Status: v.Status,
			UpdatedAt: utc(v.UpdatedAt)}
	}
	writeJSON(w, http.StatusOK, newList(out, ""))
	return nil
}

func (h *handler) listStationEvents(w http.ResponseWriter, r *http.Request, p principal) error {
	st, err := h.stationFor(r, p)
	if err != nil {
		return err
	}
	pg, before, err := parseIDPage(r)
	if err != nil {
		return err
	}
	kind := r.URL.Query().Get("kind")
	switch kind {
	case "", model.EventSecurity, model.EventNotify, model.EventSettlement:
	default:
		return badParam("kind", "must be security, notify or settlement")
	}
	evs, err := h.store.ListStationEvents(r.Context(), store.StationEventFilter{StationID: st.ID, Kind: kind, Before: before, Limit: pg.limit + 1})
	if err != nil {
		return err
	}
	evs, next := trimPage(evs, pg.limit, func(e model.StationEvent) string { return strconv.FormatInt(e.ID, 10) })
	out := make([]StationEvent, len(evs))
	for i, e := range evs {
		out[i] = StationEvent{ID: e.ID, Kind: e.Kind, Type: e.Type, TechInfo: e.TechInfo, Payload: e.Payload,
			Timestamp: utc(e.Timestamp), ReceivedAt: utc(e.ReceivedAt)}
		if e.Severity >= 0 {
			sev := e.Severity
			out[i].Severity = &sev
		}
	}
	writeJSON(w, http.StatusOK, newList(out, next))
	return nil
}
