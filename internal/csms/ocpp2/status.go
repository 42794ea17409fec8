package ocpp2

import (
	"sort"
	"sync"
)

// 2.x connector statuses (ConnectorStatusEnumType).
const (
	connAvailable   = "Available"
	connOccupied    = "Occupied"
	connReserved    = "Reserved"
	connUnavailable = "Unavailable"
	connFaulted     = "Faulted"
)

// evseTracker derives, per EVSE, the OCPP 1.6 status the rest of Charge
// Star uses from what a 2.x station reports in two places: connector
// statuses (StatusNotification, NotifyEvent AvailabilityState) and the
// state of charging in its transaction events. 2.x Occupied becomes
// Preparing (plugged in or authorised, no transaction yet), Charging,
// SuspendedEV or SuspendedEVSE (by the transaction's charging state) or
// Finishing (the transaction ended, the cable is still in).
type evseTracker struct {
	mu    sync.Mutex
	evses map[int]*evseState
}

type evseState struct {
	connectors    map[int]string // 2.x connector id → 2.x status
	txActive      bool
	chargingState string // of the active transaction, "" unknown
	ended         bool   // a transaction ended while the EVSE was occupied
	reported      string // the 1.6 status last recorded
}

func (t *evseTracker) get(evse int) *evseState {
	if t.evses == nil {
		t.evses = make(map[int]*evseState, 2)
	}
	e := t.evses[evse]
	if e == nil {
		e = &evseState{connectors: make(map[int]string, 1)}
		t.evses[evse] = e
	}
	return e
}

// connector records a connector status and returns the EVSE's derived
// status and whether it differs from the one last recorded.
func (t *evseTracker) connector(evse, connector int, status string) (string, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.get(evse)
	e.connectors[connector] = status
	if status == connAvailable && !e.txActive {
		e.ended = false
	}
	return e.derive()
}

// transaction records a transaction's progress on an EVSE: active or not,
// and its charging state ("" keeps the last known).
func (t *evseTracker) transaction(evse int, active bool, chargingState string) (string, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.get(evse)
	if active {
		e.ended = false
		if chargingState != "" {
			e.chargingState = chargingState
		}
	} else {
		if e.txActive {
			e.ended = true
		}
		e.chargingState = ""
	}
	e.txActive = active
	return e.derive()
}

// derive computes the 1.6 status; changed reports whether it differs from
// the last recorded one (and remembers it as recorded).
func (e *evseState) derive() (string, bool) {
	st := e.status16()
	if st == "" || st == e.reported {
		return st, false
	}
	e.reported = st
	return st, true
}

func (e *evseState) status16() string {
	var statuses []string
	ids := make([]int, 0, len(e.connectors))
	for id := range e.connectors {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	for _, id := range ids {
		statuses = append(statuses, e.connectors[id])
	}
	has := func(s string) bool {
		for _, x := range statuses {
			if x == s {
				return true
			}
		}
		return false
	}
	all := func(s string) bool {
		for _, x := range statuses {
			if x != s {
				return false
			}
		}
		return len(statuses) > 0
	}
	switch {
	case e.txActive:
		switch e.chargingState {
		case "Charging":
			return "Charging"
		case "SuspendedEV":
			return "SuspendedEV"
		case "SuspendedEVSE":
			return "SuspendedEVSE"
		}
		if has(connFaulted) && !has(connOccupied) {
			return "Faulted"
		}
		return "Preparing" // EVConnected or Idle: authorised or plugged in, no energy yet
	case has(connOccupied):
		if e.ended {
			return "Finishing"
		}
		return "Preparing"
	case has(connReserved):
		return "Reserved"
	case all(connFaulted):
		return "Faulted"
	case all(connUnavailable):
		return "Unavailable"
	case has(connAvailable):
		return "Available"
	case has(connFaulted):
		return "Faulted"
	case has(connUnavailable):
		return "Unavailable"
	}
	return ""
}
