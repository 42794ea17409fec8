package conformance

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"math"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chargestar/chargestar/internal/servertest"
)

// TestHandshakeFirstFrameRightAfterUpgrade: a station may send its first
// frame (the BootNotification) as soon as it has read the 101 answer, and
// real stations do. The server must read that frame intact however soon it
// arrives. A raw TCP client makes the timing as tight as a fast station.
func TestHandshakeFirstFrameRightAfterUpgrade(t *testing.T) {
	t.Parallel()
	e := newEnv(t, servertest.Options{})
	addr := strings.TrimPrefix(e.srv.URL, "http://")

	// Several stations at once, as after a network outage: the window is
	// small, and load makes it wider.
	const stations, tries = 8, 50
	type result struct {
		lost, total int
		first       string
	}
	results := make(chan result, stations)
	for s := range stations {
		id := fmt.Sprintf("CPFAST-%d", s)
		e.addStation(id)
		go func() {
			var r result
			for i := range tries {
				msgID := fmt.Sprintf("fast-%d", i)
				got, err := bootRightAfterUpgrade(addr, id, msgID)
				r.total++
				switch {
				case err != nil:
					r.lost++
					if r.first == "" {
						r.first = err.Error()
					}
				case !strings.HasPrefix(got, `[3,"`+msgID+`",`):
					r.lost++
					if r.first == "" {
						r.first = "unexpected answer " + got
					}
				}
				for j := 0; e.srv.CSMS.Connected(id) && j < 500; j++ {
					time.Sleep(2 * time.Millisecond)
				}
			}
			results <- r
		}()
	}
	var lost, total int
	var first string
	for range stations {
		r := <-results
		lost, total = lost+r.lost, total+r.total
		if first == "" {
			first = r.first
		}
	}
	if lost > 0 {
		t.Fatalf("%d of %d first frames sent right after the 101 answer were lost or garbled; first failure: %s", lost, total, first)
	}
}

// bootRightAfterUpgrade opens a WebSocket by hand, writes a BootNotification
// the moment the 101 answer is read, and returns the server's first frame.
func bootRightAfterUpgrade(addr, stationID, msgID string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	req := "GET /ocpp/" + stationID + " HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ocpp1.6\r\n\r\n"
	if _, err := c.Write([]byte(req)); err != nil {
		return "", err
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		return "", fmt.Errorf("handshake: HTTP %d", resp.StatusCode)
	}
	if _, err := c.Write(maskedText(fmt.Sprintf(`[2,%q,"BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}]`, msgID))); err != nil {
		return "", err
	}
	var hdr [2]byte
	if _, err := readFull(br, hdr[:]); err != nil {
		return "", fmt.Errorf("no answer: %w", err)
	}
	n := int(hdr[1] & 0x7f)
	switch n {
	case 126:
		var ext [2]byte
		if _, err := readFull(br, ext[:]); err != nil {
			return "", err
		}
		n = int(binary.BigEndian.Uint16(ext[:]))
	case 127:
		return "", fmt.Errorf("unexpected huge frame")
	}
	body := make([]byte, n)
	if _, err := readFull(br, body); err != nil {
		return "", err
	}
	if hdr[0]&0x0f == 0x8 { // close
		return "", fmt.Errorf("server closed the connection: %q", body)
	}
	return string(body), nil
}

func readFull(br *bufio.Reader, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := br.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// maskedText encodes a client text frame (clients must mask).
func maskedText(payload string) []byte {
	b := []byte{0x81}
	n := len(payload)
	switch {
	case n < 126:
		b = append(b, 0x80|byte(n))
	default:
		b = append(b, 0x80|126, byte(n>>8), byte(n))
	}
	mask := [4]byte{0x12, 0x34, 0x56, 0x78}
	b = append(b, mask[:]...)
	for i := 0; i < n; i++ {
		b = append(b, payload[i]^mask[i%4])
	}
	return b
}

// ---- PostgreSQL ----

// TestPostgres runs a representative subset on PostgreSQL (skipped unless
// CHARGESTAR_TEST_POSTGRES_URL is set; CI sets it).
func TestPostgres(t *testing.T) {
	t.Parallel()
	pg := servertest.Options{Postgres: true}
	t.Run("TC_001_CSMS boot", func(t *testing.T) { t.Parallel(); tc001ColdBoot(t, pg) })
	t.Run("full session", func(t *testing.T) { t.Parallel(); fullSession(t, pg) })
	t.Run("TC_039_CSMS offline transaction", func(t *testing.T) { t.Parallel(); tc039OfflineTransaction(t, pg) })
	t.Run("replays", func(t *testing.T) { t.Parallel(); replayScenario(t, pg) })
}

func TestFullSession(t *testing.T) {
	t.Parallel()
	fullSession(t, servertest.Options{})
}

// fullSession: boot, remote start, charge with periodic meter values,
// remote stop with transaction data; the stored session is complete.
func fullSession(t *testing.T, opts servertest.Options) {
	e := newEnv(t, opts)
	e.addTokens()
	st := e.bootedStation("CPFULL", 2)
	t0 := base()

	status(t, st, 2, "Preparing")
	e.remoteStatus(st, "RemoteStartTransaction", fmt.Sprintf(`{"connectorId":2,"idTag":%q}`, validTag), `{"status":"Accepted"}`, "Accepted")
	if s := authorize(t, st, validTag); s != "Accepted" {
		t.Fatalf("Authorize: %s", s)
	}
	txID, _ := startTx(t, st, 2, validTag, 123456, t0, "")
	status(t, st, 2, "Charging")
	for i := 1; i <= 6; i++ {
		st.CallOK("MeterValues", fmt.Sprintf(`{"connectorId":2,"transactionId":%d,"meterValue":[{"timestamp":%q,"sampledValue":[`+
			`{"value":"%.3f","context":"Sample.Periodic","measurand":"Energy.Active.Import.Register","unit":"kWh"},`+
			`{"value":"11000","measurand":"Power.Active.Import","unit":"W"},{"value":"%d","measurand":"SoC","unit":"Percent","location":"EV"}]}]}`,
			txID, ts(t0.Add(time.Duration(i)*5*time.Minute)), 123.456+float64(i)*0.9, 40+i*5))
	}
	s := e.sessionOf("CPFULL", txID)
	wantActive(t, s, 2, validTag, t0, 123456)
	if s.EnergyWh != 5400 {
		t.Fatalf("active session energy_wh %d, want 5400", s.EnergyWh)
	}
	e.remoteStatus(st, "RemoteStopTransaction", fmt.Sprintf(`{"transactionId":%d}`, txID), `{"status":"Accepted"}`, "Accepted")
	stop := t0.Add(31 * time.Minute)
	stopTx(t, st, txID, 129000, stop, validTag, "Remote",
		fmt.Sprintf(`,"transactionData":[{"timestamp":%q,"sampledValue":[{"value":"129.000","context":"Transaction.End","unit":"kWh"}]}]`, ts(stop)))
	status(t, st, 2, "Finishing")
	status(t, st, 2, "Available")

	s = e.sessionOf("CPFULL", txID)
	wantCompleted(t, s, t0, stop, 5544, "Remote")
	if s.MeterStopWh == nil || *s.MeterStopWh != 129000 || s.Currency != "AUD" || s.PaymentStatus == "" {
		t.Fatalf("completed session: %v", s)
	}
	var mvs struct {
		Items []struct {
			EnergyWh *float64 `json:"energy_wh"`
			PowerW   *float64 `json:"power_w"`
		} `json:"items"`
	}
	e.getJSON("/api/v1/sessions/"+s.ID+"/meter-values?limit=100", &mvs)
	if len(mvs.Items) != 7 || mvs.Items[0].EnergyWh == nil || math.Abs(*mvs.Items[0].EnergyWh-124356) > 0.01 || mvs.Items[0].PowerW == nil {
		t.Fatalf("meter values: %d items, first %+v; want 7, the first 124356 Wh with power", len(mvs.Items), mvs.Items)
	}
	e.wantConnector("CPFULL", 2, "Available", "")
}
