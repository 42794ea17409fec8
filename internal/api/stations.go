package api

import (
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"time"

	"github.com/chargestar/chargestar/internal/csms"
	"github.com/chargestar/chargestar/internal/model"
	"github.com/chargestar/chargestar/internal/store"
)

// Station is a charging station with its connectors.
type Station struct {
	ID                  string      `json:"id" example:"CP-0001"`
	OperatorID          string      `json:"operator_id"`
	SiteID              *string     `json:"site_id" doc:"null when not assigned to a site."`
	Connected           bool        `json:"connected" doc:"Whether the station has a live connection to this server now."`
	Protocol            *string     `json:"protocol" enum:"ocpp1.5-soap,ocpp1.6-soap,ocpp1.6,ocpp2.0.1,ocpp2.1" doc:"Last negotiated protocol; null before the first connection."`
	Vendor              string      `json:"vendor" doc:"As the station reported at boot; empty before."`
	Model               string      `json:"model"`
	SerialNumber        string      `json:"serial_number"`
	ChargeBoxSerial     string      `json:"charge_box_serial_number" doc:"OCPP 1.6 chargeBoxSerialNumber."`
	FirmwareVersion     string      `json:"firmware_version"`
	ICCID               string      `json:"iccid"`
	IMSI                string      `json:"imsi"`
	MeterType           string      `json:"meter_type"`
	MeterSerialNumber   string      `json:"meter_serial_number"`
	RegistrationStatus  *string     `json:"registration_status" enum:"Accepted,Pending,Rejected" doc:"The answer to the station's last BootNotification; null if it never booted."`
	HeartbeatInterval   int         `json:"heartbeat_interval" doc:"Heartbeat interval told to the station, in seconds (0 before its first boot)."`
	LastBootAt          *time.Time  `json:"last_boot_at"`
	LastSeenAt          *time.Time  `json:"last_seen_at" doc:"When the station was last heard from (updated every few seconds while connected)."`
	FirmwareStatus      *string     `json:"firmware_status" doc:"Last FirmwareStatusNotification status."`
	FirmwareStatusAt    *time.Time  `json:"firmware_status_at"`
	DiagnosticsStatus   *string     `json:"diagnostics_status" doc:"Last DiagnosticsStatusNotification / LogStatusNotification status."`
	DiagnosticsStatusAt *time.Time  `json:"diagnostics_status_at"`
	PasswordSet         bool        `json:"password_set" doc:"Whether OCPP Basic authentication (security profile 1) is on."`
	RetiredAt           *time.Time  `json:"retired_at" doc:"When the station was retired; null while in service."`
	CreatedAt           time.Time   `json:"created_at"`
	Connectors          []Connector `json:"connectors" doc:"Connectors from 1 up, as the station reported them (connector 0, the station itself, is not listed). For 2.x stations connector_id is the EVSE id."`
}

// Connector is one connector's last reported status.
type Connector struct {
	ConnectorID     int       `json:"connector_id" minimum:"1"`
	Status          string    `json:"status" enum:"Available,Preparing,Charging,SuspendedEV,SuspendedEVSE,Finishing,Reserved,Unavailable,Faulted" doc:"OCPP 1.6 status names; 2.x states are mapped onto them."`
	ErrorCode       string    `json:"error_code" doc:"OCPP 1.6 ChargePointErrorCode; NoError when fine." example:"NoError"`
	Info            string    `json:"info"`
	VendorID        string    `json:"vendor_id"`
	VendorErrorCode string    `json:"vendor_error_code"`
	StatusAt        time.Time `json:"status_at" doc:"The station's timestamp of the status."`
}

// CreateStationRequest is the body of POST /api/v1/stations.
type CreateStationRequest struct {
	ID                 string  `json:"id" pattern:"^[A-Za-z0-9._:*+|@-]{1,48}$" maxLength:"48" doc:"The station's OCPP identity (see the stationId path parameter)."`
	OperatorID         string  `json:"operator_id,omitempty" doc:"The owning operator. An operator token may omit it (its own) but not name another; an administrator token must give it."`
	SiteID             string  `json:"site_id,omitempty" doc:"A site of the same operator."`
	RegistrationStatus string  `json:"registration_status,omitempty" enum:"Accepted,Pending,Rejected" doc:"Accepted (the default) lets the station operate at its next BootNotification; Pending holds it at boot so that it can be configured first (commands may be sent to it, it may send nothing but BootNotification); Rejected refuses it. A change while the station is connected asks it to boot again (TriggerMessage BootNotification)."`
	Password           *string `json:"password,omitempty" minLength:"8" maxLength:"40" doc:"Enables OCPP Basic authentication (security profile 1) with this password. 8 to 40 printable ASCII characters: OCPP security profile 1 (the OCPP 1.6 security whitepaper; BasicAuthPassword in 2.0.1) carries the password in a station configuration value of at most 40 characters. Use a random secret of 16 or more characters. Only a salted hash is stored."`
}

// UpdateStationRequest is the body of PATCH /api/v1/stations/{stationId}.
type UpdateStationRequest struct {
	SiteID             Optional[string] `json:"site_id,omitzero" doc:"A site of the station's operator; null or \"\" unassigns."`
	Password           Optional[string] `json:"password,omitzero" minLength:"8" maxLength:"40" doc:"A new Basic-authentication password, or null to turn Basic authentication off. 8 to 40 printable ASCII characters: OCPP security profile 1 (the OCPP 1.6 security whitepaper; BasicAuthPassword in 2.0.1) carries the password in a station configuration value of at most 40 characters. Use a random secret of 16 or more characters. Only a salted hash is stored."`
	Retired            Optional[bool]   `json:"retired,omitzero" nullable:"false" doc:"true retires the station (it keeps its history), false puts it back in service."`
	RegistrationStatus Optional[string] `json:"registration_status,omitzero" nullable:"false" enum:"Accepted,Pending,Rejected" doc:"Accepted (the default) lets the station operate at its next BootNotification; Pending holds it at boot so that it can be configured first (commands may be sent to it, it may send nothing but BootNotification); Rejected refuses it. A change while the station is connected asks it to boot again (TriggerMessage BootNotification)."`
}

var stationIDRE = regexp.MustCompile(stationIDPattern)

func checkStationID(id string) error {
	if id == "" {
		return invalid("id", "is required")
	}
	if !stationIDRE.MatchString(id) || id == "." || id == ".." {
		return invalid("id", "must be 1 to 48 characters of A-Z a-z 0-9 . _ : * + | @ - (and not . or ..)")
	}
	return nil
}

func checkStationPassword(field, pw string) error {
	if len(pw) < 8 || len(pw) > 40 {
		return invalid(field, "must have 8 to 40 characters (OCPP security profile 1)")
	}
	for i := 0; i < len(pw); i++ {
		if pw[i] < 0x20 || pw[i] > 0x7e {
			return invalid(field, "must be printable ASCII")
		}
	}
	return nil
}

func (h *handler) stationOut(st model.Station, conns []model.Connector) Station {
	out := Station{
		ID: st.ID, OperatorID: st.OperatorID, SiteID: strPtr(st.SiteID), Connected: h.csms.Connected(st.ID),
		Protocol: strPtr(st.Protocol), Vendor: st.Vendor, Model: st.Model, SerialNumber: st.SerialNumber,
		ChargeBoxSerial: st.ChargeBoxSerial, FirmwareVersion: st.FirmwareVersion, ICCID: st.ICCID, IMSI: st.IMSI,
		MeterType: st.MeterType, MeterSerialNumber: st.MeterSerialNumber, RegistrationStatus: strPtr(st.RegistrationStatus),
		HeartbeatInterval: st.HeartbeatInterval, LastBootAt: utcPtr(st.LastBootAt), LastSeenAt: utcPtr(st.LastSeenAt),
		FirmwareStatus: strPtr(st.FirmwareStatus), FirmwareStatusAt: utcPtr(st.FirmwareStatusAt),
		DiagnosticsStatus: strPtr(st.DiagnosticsStatus), DiagnosticsStatusAt: utcPtr(st.DiagnosticsAt),
		PasswordSet: len(st.PasswordHash) > 0, RetiredAt: utcPtr(st.RetiredAt), CreatedAt: utc(st.CreatedAt),
		Connectors: []Connector{},
	}
	for _, c := range conns {
		if c.ConnectorID < 1 {
			continue
		}
		out.Connectors = append(out.Connectors, Connector{
			ConnectorID: c.ConnectorID, Status: c.Status, ErrorCode: c.ErrorCode, Info: c.Info,
			VendorID: c.VendorID, VendorErrorCode: c.VendorErrorCode, StatusAt: utc(c.StatusAt),
		})
	}
	return out
}

// stationFor returns the path's {stationId} station when p may see it.
func (h *handler) stationFor(r *http.Request, p principal) (model.Station, error) {
	id := r.PathValue("stationId")
	st, err := h.store.GetStation(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !p.canSee(st.OperatorID)) {
		return model.Station{}, notFound("station", id)
	}
	return st, err
}

// siteOf checks that siteID is a site of operatorID (404 otherwise).
func (h *handler) siteOf(r *http.Request, operatorID, siteID string) error {
	_, err := h.store.GetSite(r.Context(), operatorID, siteID)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("site", siteID)
	}
	return err
}

func (h *handler) createStation(w http.ResponseWriter, r *http.Request, p principal) error {
	var req CreateStationRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		return err
	}
	if err := checkStationID(req.ID); err != nil {
		return err
	}
	opID, err := p.ownerFor(req.OperatorID)
	if err != nil {
		return err
	}
	var hash []byte
	if req.Password != nil {
		if err := checkStationPassword("password", *req.Password); err != nil {
			return err
		}
		hash = csms.HashStationPassword(*req.Password)
	}
	if err := h.requireOperator(r, opID); err != nil {
		return err
	}
	if req.SiteID != "" {
		if err := h.siteOf(r, opID, req.SiteID); err != nil {
			return err
		}
	}
	if err := checkRegistration(req.RegistrationStatus, true); err != nil {
		return err
	}
	st, err := h.store.CreateStation(r.Context(), model.Station{
		ID: req.ID, OperatorID: opID, SiteID: req.SiteID, PasswordHash: hash, CreatedAt: h.now(),
		RegistrationStatus: req.RegistrationStatus,
	})
	switch {
	case errors.Is(err, store.ErrConflict):
		return errorf(http.StatusConflict, codeStationExists, "station id %q is already registered", req.ID)
	case errors.Is(err, store.ErrNotFound):
		// The operator or site went away between the checks and the insert.
		return notFound("operator or site", opID)
	case err != nil:
		return err
	}
	w.Header().Set("Location", Prefix+"stations/"+url.PathEscape(st.ID))
	writeJSON(w, http.StatusCreated, h.stationOut(st, nil))
	return nil
}

func (h *handler) listStations(w http.ResponseWriter, r *http.Request, p principal) error {
	pg, err := parsePage(r)
	if err != nil {
		return err
	}
	opID, err := h.filterOperator(r, p)
	if err != nil {
		return err
	}
	siteID := r.URL.Query().Get("site_id")
	if siteID != "" {
		if err := h.siteOf(r, p.scope(), siteID); err != nil {
			return err
		}
	}
	sts, err := h.store.ListStations(r.Context(), store.StationFilter{OperatorID: opID, SiteID: siteID, Limit: pg.limit + 1, After: pg.cursor})
	if err != nil {
		return err
	}
	sts, next := trimPage(sts, pg.limit, func(s model.Station) string { return s.ID })
	ids := make([]string, len(sts))
	for i, s := range sts {
		ids[i] = s.ID
	}
	conns, err := h.store.ListConnectorsOf(r.Context(), ids)
	if err != nil {
		return err
	}
	out := make([]Station, len(sts))
	for i, s := range sts {
		out[i] = h.stationOut(s, conns[s.ID])
	}
	writeJSON(w, http.StatusOK, newList(out, next))
	return nil
}

func (h *handler) getStation(w http.ResponseWriter, r *http.Request, p principal) error {
	st, err := h.stationFor(r, p)
	if err != nil {
		return err
	}
	conns, err := h.store.ListConnectors(r.Context(), st.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, h.stationOut(st, conns))
	return nil
}

func (h *handler) updateStation(w http.ResponseWriter, r *http.Request, p principal) error {
	st, err := h.stationFor(r, p)
	if err != nil {
		return err
	}
	var req UpdateStationRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		return err
	}
	if req.SiteID.Set {
		if req.SiteID.Null || req.SiteID.Value == "" {
			st.SiteID = ""
		} else {
			if err := h.siteOf(r, st.OperatorID, req.SiteID.Value); err != nil {
				return err
			}
			st.SiteID = req.SiteID.Value
		}
	}
	if req.Password.Set {
		if req.Password.Null {
			st.PasswordHash = nil
		} else {
			if err := checkStationPassword("password", req.Password.Value); err != nil {
				return err
			}
			st.PasswordHash = csms.HashStationPassword(req.Password.Value)
		}
	}
	if req.Retired.Set {
		switch {
		case req.Retired.Null:
			return invalid("retired", "must be true or false")
		case req.Retired.Value && st.RetiredAt == nil:
			now := h.now()
			st.RetiredAt = &now
		case !req.Retired.Value:
			st.RetiredAt = nil
		}
	}
	if req.RegistrationStatus.Set {
		if err := checkRegistration(req.RegistrationStatus.Value, false); err != nil {
			return err
		}
	}
	st, err = h.store.UpdateStation(r.Context(), st)
	if errors.Is(err, store.ErrNotFound) {
		// The station or site went away meanwhile.
		return notFound("station", r.PathValue("stationId"))
	}
	if err != nil {
		return err
	}
	if req.RegistrationStatus.Set && req.RegistrationStatus.Value != st.RegistrationStatus {
		if err := h.csms.SetRegistration(r.Context(), st.ID, req.RegistrationStatus.Value); err != nil {
			return err
		}
		st.RegistrationStatus = req.RegistrationStatus.Value
	}
	conns, err := h.store.ListConnectors(r.Context(), st.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, h.stationOut(st, conns))
	return nil
}

// checkRegistration checks a registration status given by the caller.
func checkRegistration(status string, optional bool) error {
	switch status {
	case "Accepted", "Pending", "Rejected":
		return nil
	case "":
		if optional {
			return nil
		}
	}
	return invalid("registration_status", "must be Accepted, Pending or Rejected")
}
