// Package alerts tells an operator when something needs looking at: a
// station offline for too long, a connector faulted, a session payment
// stuck. Evaluate (pure) says which alerts should be open given the
// operator's state; the Worker reads that state periodically, opens and
// resolves alerts in the store so the open set follows it, and delivers
// each opening and resolution as a signed webhook (webhook.go).
package alerts

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/chargestar/chargestar/internal/sessionbilling"
)

// Kind is what an alert is about.
type Kind string

const (
	// Offline: a station has not been connected for longer than the
	// operator's offline threshold. Subject: the station id.
	Offline Kind = "offline"
	// Faulted: a connector's current status is Faulted. Subject:
	// "stationID/connectorID".
	Faulted Kind = "faulted"
	// PaymentStuck: a session payment has been in a state that should
	// pass quickly for longer than the operator's threshold. Subject: the
	// payment id.
	PaymentStuck Kind = "payment_stuck"
)

// Kinds lists every kind.
var Kinds = []Kind{Offline, Faulted, PaymentStuck}

// Settings are an operator's alert thresholds.
type Settings struct {
	OfflineAfter      time.Duration
	PaymentStuckAfter time.Duration
}

// Station is a station's connectivity.
type Station struct {
	ID        string
	Retired   bool
	Connected bool
	// OfflineSince is when it was last known connected: the end of its
	// latest connection period, else its last seen time. Zero: it never
	// connected, and a station registered ahead of its installation is
	// not down, so it does not alert.
	OfflineSince time.Time
}

// Connector is a connector's current status.
type Connector struct {
	StationID   string
	ConnectorID int
	Status      string
	ErrorCode   string
	Since       time.Time // the status's timestamp
}

// Payment is a session payment not in a final state.
type Payment struct {
	ID          string
	StationID   string
	ConnectorID int
	State       string
	// Since is when it entered State (authorized_at for authorized,
	// stopped_at for stopped).
	Since time.Time
}

// Want is an alert that should be open.
type Want struct {
	Kind        Kind
	Subject     string
	StationID   string
	ConnectorID *int
	PaymentID   string
	Message     string
	Since       time.Time // when the condition began
}

// Evaluate returns the alerts that should be open at now, ordered by kind
// and subject. Retired stations never alert (their payments still do:
// money held is not retired with the station).
func Evaluate(now time.Time, s Settings, stations []Station, connectors []Connector, payments []Payment) []Want {
	var out []Want
	retired := map[string]bool{}
	for _, st := range stations {
		if st.Retired {
			retired[st.ID] = true
			continue
		}
		if st.Connected || st.OfflineSince.IsZero() {
			continue
		}
		if off := now.Sub(st.OfflineSince); off > s.OfflineAfter {
			out = append(out, Want{Kind: Offline, Subject: st.ID, StationID: st.ID, Since: st.OfflineSince,
				Message: fmt.Sprintf("Station %s has been offline since %s.", st.ID, st.OfflineSince.UTC().Format(time.RFC3339))})
		}
	}
	for _, c := range connectors {
		if retired[c.StationID] || c.Status != "Faulted" {
			continue
		}
		id := c.ConnectorID
		msg := fmt.Sprintf("Connector %d of station %s is faulted", id, c.StationID)
		if c.ErrorCode != "" && c.ErrorCode != "NoError" {
			msg += " (" + c.ErrorCode + ")"
		}
		out = append(out, Want{Kind: Faulted, Subject: c.StationID + "/" + strconv.Itoa(id), StationID: c.StationID,
			ConnectorID: &id, Since: c.Since, Message: msg + "."})
	}
	for _, p := range payments {
		var what string
		switch sessionbilling.State(p.State) {
		case sessionbilling.StateAuthorized:
			what = "authorised but the session has not started"
		case sessionbilling.StateStopped:
			what = "stopped but not settled (captured or released)"
		default:
			continue // charging takes as long as it takes; the rest is final or holds no money
		}
		if p.Since.IsZero() || now.Sub(p.Since) <= s.PaymentStuckAfter {
			continue
		}
		w := Want{Kind: PaymentStuck, Subject: p.ID, StationID: p.StationID, PaymentID: p.ID, Since: p.Since,
			Message: fmt.Sprintf("Payment %s at station %s has been %s since %s.", p.ID, p.StationID, what, p.Since.UTC().Format(time.RFC3339))}
		if p.ConnectorID > 0 {
			id := p.ConnectorID
			w.ConnectorID = &id
		}
		out = append(out, w)
	}
	slices.SortFunc(out, func(a, b Want) int {
		if c := cmp.Compare(a.Kind, b.Kind); c != 0 {
			return c
		}
		return cmp.Compare(a.Subject, b.Subject)
	})
	return out
}
