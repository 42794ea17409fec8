package conformance

import (
	"testing"
	"time"

	"github.com/chargestar/chargestar/internal/servertest"
)

// OCPP 2.0.1 Core, block C (authorization), and TC_E_38_CSMS which the
// certification matrix lists among them.

func TestTC_C_02_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	e.addTokens()
	st := e.booted201("CS-C02", 1)
	status201(t, st, 1, 1, "Occupied") // no cable lock: the EV is plugged in first
	info := authorize201(t, st, invalidTag)
	wantTokenStatus(t, "AuthorizeResponse", info, "Invalid", "Unknown")
	if ss := e.sessions("CS-C02"); len(ss) != 0 {
		t.Fatalf("an unknown token made sessions: %v", ss)
	}
}

func TestTC_C_06_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	e.addTokens()
	st := e.booted201("CS-C06", 1)
	status201(t, st, 1, 1, "Occupied")
	wantTokenStatus(t, "AuthorizeResponse", authorize201(t, st, blockedTag), "Blocked", "Invalid")
}

func TestTC_C_07_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	e.addTokens()
	st := e.booted201("CS-C07", 1)
	status201(t, st, 1, 1, "Occupied")
	info := authorize201(t, st, expiredTag)
	wantTokenStatus(t, "AuthorizeResponse", info, "Expired", "Invalid")
	if _, ok := info["cacheExpiryDateTime"]; ok {
		t.Fatalf("expired token answered with a cacheExpiryDateTime: %v", info)
	}
}

func TestTC_E_38_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	e.addTokens()
	st := e.booted201("CS-E38", 1)
	x := newTx(t, st, "TX-E38", 1)
	x.evConnectedPreSession(100)
	x.authorized(validTag)
	// The power path is closed but the EV does not take energy yet.
	x.send(txe{typ: "Updated", trigger: "ChargingStateChanged", state: "SuspendedEV"})
	e.waitConnector("CS-E38", 1, "SuspendedEV")
	x.energyTransferStarted()
	e.waitConnector("CS-E38", 1, "Charging")
	wantOpen(t, e.session201("CS-E38", "TX-E38"), 1, validTag)
}

func TestTC_C_39_CSMS(t *testing.T) { t.Parallel(); tcC39(t, servertest.Options{}) }

func tcC39(t *testing.T, opts servertest.Options) {
	e := newEnv(t, opts)
	e.addGroupToken(groupTagA, groupTag)
	e.addGroupToken(groupTagB, groupTag)
	st := e.booted201("CS-C39", 1)

	// 1–2: the second card of the group.
	info := authorize201(t, st, groupTagB)
	wantTokenStatus(t, "AuthorizeResponse", info, "Accepted")
	wantGroup(t, "AuthorizeResponse", info, groupTag)
	// 3–4: the transaction is authorised with the first card.
	x := newTx(t, st, "TX-C39", 1)
	x.evConnectedPreSession(0)
	m := x.send(txe{typ: "Updated", trigger: "Authorized", token: groupTagA})
	info = tokenInfo(t, "TransactionEventResponse", m)
	wantTokenStatus(t, "TransactionEventResponse (Authorized)", info, "Accepted")
	wantGroup(t, "TransactionEventResponse (Authorized)", info, groupTag)
	x.energyTransferStarted()
	// 6–9: the second card of the group stops it.
	info = authorize201(t, st, groupTagB)
	wantTokenStatus(t, "AuthorizeResponse", info, "Accepted")
	wantGroup(t, "AuthorizeResponse", info, groupTag)
	m = x.send(txe{typ: "Updated", trigger: "StopAuthorized", state: "EVConnected", token: groupTagB})
	info = tokenInfo(t, "TransactionEventResponse", m)
	wantTokenStatus(t, "TransactionEventResponse (StopAuthorized)", info, "Accepted")
	wantGroup(t, "TransactionEventResponse (StopAuthorized)", info, groupTag)
	// 10–11: EVConnectedPostSession, EVDisconnected.
	x.evDisconnected(7000)
	s := e.session201("CS-C39", "TX-C39")
	wantEnded(t, s, "EVDisconnected", 7000)
	if s.IDTag != groupTagA {
		t.Fatalf("session id_tag %q, want %s (the card that authorised it)", s.IDTag, groupTagA)
	}
}

// masterPass plays TC_C_47–TC_C_49: transactions on EVSE 1 and 2 (tokens
// validTag, validTag2), a card of the MasterPassGroupId, and the
// transactions stopped with stoppedReason MasterPass by the given token.
func masterPass(t *testing.T, id string, stopAll bool, stopToken func(evse int) string) {
	e := newEnv(t, servertest.Options{})
	e.addTokens()
	e.addGroupToken(masterPassTag, masterPassGroup)
	st := e.booted201(id, 2)
	x1 := charging201(t, st, "TX-"+id+"-1", 1, validTag, 1000)
	x2 := charging201(t, st, "TX-"+id+"-2", 2, validTag2, 5000)

	info := authorize201(t, st, masterPassTag)
	wantTokenStatus(t, "AuthorizeResponse (master pass)", info, "Accepted")
	wantGroup(t, "AuthorizeResponse (master pass)", info, masterPassGroup)

	ends := map[int]float64{1: 3000, 2: 7000} // 2000 Wh each
	stop := []*tx201{x1}
	if stopAll {
		stop = append(stop, x2)
	}
	for _, x := range stop {
		at := time.Now()
		m := x.send(txe{typ: "Ended", trigger: "StopAuthorized", state: "Idle", reason: "MasterPass", evse: true, token: stopToken(x.evse), at: at,
			meter: []any{energyMV201(at, ends[x.evse], "Transaction.End")}})
		info := tokenInfo(t, "TransactionEventResponse (Ended, MasterPass)", m)
		wantTokenStatus(t, "TransactionEventResponse (Ended, MasterPass)", info, "Accepted")
		if stopToken(x.evse) == masterPassTag {
			wantGroup(t, "TransactionEventResponse (Ended, MasterPass)", info, masterPassGroup)
		}
	}
	wantEnded(t, e.session201(id, x1.id), "MasterPass", 2000)
	if stopAll {
		wantEnded(t, e.session201(id, x2.id), "MasterPass", 2000)
	} else {
		wantOpen(t, e.session201(id, x2.id), 2, validTag2)
	}
}

func TestTC_C_47_CSMS(t *testing.T) {
	t.Parallel()
	masterPass(t, "CS-C47", true, func(int) string { return masterPassTag })
}

func TestTC_C_48_CSMS(t *testing.T) {
	t.Parallel()
	masterPass(t, "CS-C48", false, func(int) string { return masterPassTag })
}

func TestTC_C_49_CSMS(t *testing.T) {
	t.Parallel()
	// Without a UI the station stops every transaction itself (E07); it
	// reports the stop with the master pass that caused it.
	masterPass(t, "CS-C49", true, func(int) string { return masterPassTag })
}

func TestTC_C_37_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	st := e.booted201("CS-C37", 1)
	e.remoteStatus201(st, "ClearCache", `{}`, `{"status":"Accepted"}`, "Accepted")
}

func TestTC_C_38_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	st := e.booted201("CS-C38", 1)
	e.remoteStatus201(st, "ClearCache", `{}`, `{"status":"Rejected"}`, "Rejected")
	heartbeat201(t, st)
}

func TestTC_C_08_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	e.addTokens()
	st := e.booted201("CS-C08", 1)
	x := newTx(t, st, "TX-C08", 1)
	x.evConnectedPreSession(0)
	// The token is in the station's cache: no AuthorizeRequest. The CSMS
	// checks it when the transaction event arrives (C12.FR.03).
	m := x.send(txe{typ: "Updated", trigger: "Authorized", token: validTag})
	wantTokenStatus(t, "TransactionEventResponse", tokenInfo(t, "TransactionEventResponse", m), "Accepted")
	wantOpen(t, e.session201("CS-C08", "TX-C08"), 1, validTag)
}

func TestTC_C_20_CSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	e.addTokens()
	st := e.booted201("CS-C20", 1)
	x := newTx(t, st, "TX-C20", 1)
	x.evConnectedPreSession(0)
	// Accepted in the station's cache, unknown to the CSMS.
	m := x.send(txe{typ: "Updated", trigger: "Authorized", token: invalidTag})
	wantTokenStatus(t, "TransactionEventResponse", tokenInfo(t, "TransactionEventResponse", m), "Invalid", "Unknown")
	// The station ends the transaction (E05, TxStopPoint Authorized).
	x.send(txe{typ: "Ended", trigger: "Deauthorized", reason: "DeAuthorized"})
	s := e.session201("CS-C20", "TX-C20")
	wantEnded(t, s, "DeAuthorized", 0)
}
