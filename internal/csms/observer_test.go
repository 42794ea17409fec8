package csms_test

import (
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/chargestar/chargestar/internal/csms"
	"github.com/chargestar/chargestar/internal/model"
	"github.com/chargestar/chargestar/internal/servertest"
)

type recorder struct {
	mu     sync.Mutex
	events []string
}

func (r *recorder) add(s string)                     { r.mu.Lock(); r.events = append(r.events, s); r.mu.Unlock() }
func (r *recorder) SessionStarted(s model.Session)   { r.add("started " + s.StationID) }
func (r *recorder) SessionMetered(s csms.SessionRef) { r.add("metered " + s.StationID) }
func (r *recorder) SessionStopped(s model.Session) {
	r.add("stopped " + s.StationID + " " + s.StopReason)
}
func (r *recorder) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.events...)
}

// TestSessionObserver: billing hears of starts, meter values and stops of
// 1.6 and 2.x sessions alike.
func TestSessionObserver(t *testing.T) {
	rec := &recorder{}
	srv := servertest.Start(t, servertest.Options{CSMSOptions: []csms.Option{csms.WithSessionObserver(rec)}})
	op := srv.Operator(t, "Obs")
	srv.IDToken(t, op.ID, "TAG-1", "Accepted", nil)
	ts := time.Now().UTC().Format(time.RFC3339)

	srv.Station(t, op.ID, "OBS-16", "")
	st := srv.Connect(t, "OBS-16")
	st.Boot()
	start := st.CallOK("StartTransaction", `{"connectorId":1,"idTag":"TAG-1","meterStart":1000,"timestamp":"`+ts+`"}`)
	tx := int(start["transactionId"].(float64))
	st.CallOK("MeterValues", `{"connectorId":1,"transactionId":`+itoa(tx)+`,"meterValue":[{"timestamp":"`+ts+`","sampledValue":[{"value":"1500"}]}]}`)
	st.CallOK("StopTransaction", `{"transactionId":`+itoa(tx)+`,"meterStop":2000,"timestamp":"`+ts+`","reason":"EVDisconnected"}`)

	srv.Station(t, op.ID, "OBS-2", "")
	st2, _, err := srv.Dial(t, "OBS-2", servertest.DialOptions{Subprotocols: []string{"ocpp2.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	st2.Boot2()
	mv := `"meterValue":[{"timestamp":"` + ts + `","sampledValue":[{"value":100}]}]`
	st2.CallOK("TransactionEvent", `{"eventType":"Started","timestamp":"`+ts+`","triggerReason":"Authorized","seqNo":0,"transactionInfo":{"transactionId":"T2"},"evse":{"id":1},`+mv+`}`)
	st2.CallOK("TransactionEvent", `{"eventType":"Updated","timestamp":"`+ts+`","triggerReason":"MeterValuePeriodic","seqNo":1,"transactionInfo":{"transactionId":"T2"},`+mv+`}`)
	st2.CallOK("TransactionEvent", `{"eventType":"Ended","timestamp":"`+ts+`","triggerReason":"StopAuthorized","seqNo":2,"transactionInfo":{"transactionId":"T2","stoppedReason":"Remote"}}`)

	want := []string{"started OBS-16", "metered OBS-16", "stopped OBS-16 EVDisconnected",
		"started OBS-2", "metered OBS-2", "metered OBS-2", "stopped OBS-2 Remote"}
	got := rec.list()
	if len(got) != len(want) {
		t.Fatalf("events %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("events %q, want %q", got, want)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
