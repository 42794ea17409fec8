package sim

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// DialerConfig configures how stations open their connections.
type DialerConfig struct {
	// LocalAddrs are source addresses used in turn, one per connection;
	// empty lets the system choose. Spreading 18,000 connections to one
	// server port over several loopback addresses keeps the client's
	// ephemeral ports (and the TIME_WAIT left by a reconnection storm)
	// from running out: each source address has its own port range.
	LocalAddrs []netip.Addr
	// Timeout bounds the TCP connect (default 10s).
	Timeout time.Duration
}

// Dialer opens the stations' TCP connections; its Client is the HTTP
// client the WebSocket handshakes go through. One Dialer serves a fleet.
type Dialer struct {
	cfg    DialerConfig
	next   atomic.Uint64
	client *http.Client
}

// NewDialer returns a Dialer.
func NewDialer(cfg DialerConfig) *Dialer {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	d := &Dialer{cfg: cfg}
	d.client = &http.Client{Transport: &http.Transport{
		Proxy:              nil, // stations talk to the CSMS directly
		DialContext:        d.dialContext,
		ForceAttemptHTTP2:  false,
		DisableCompression: true,
		// An upgraded connection keeps the transport's buffers for its life.
		ReadBufferSize:      1024,
		WriteBufferSize:     1024,
		TLSHandshakeTimeout: cfg.Timeout,
		MaxIdleConnsPerHost: -1,
	}}
	return d
}

// Client returns the HTTP client for the WebSocket handshakes.
func (d *Dialer) Client() *http.Client { return d.client }

func (d *Dialer) dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	nd := net.Dialer{Timeout: d.cfg.Timeout, KeepAlive: -1, Control: bindNoPort}
	if n := len(d.cfg.LocalAddrs); n > 0 {
		ip := d.cfg.LocalAddrs[int(d.next.Add(1)%uint64(n))]
		nd.LocalAddr = &net.TCPAddr{IP: ip.AsSlice()}
	}
	c, err := nd.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	if h, ok := ctx.Value(connHolderKey{}).(*connHolder); ok {
		h.nc = c
	}
	return c, nil
}

// connectionsPerLocalAddr is how many connections "auto" puts on one
// loopback source address: well under the 28,000 ephemeral ports of the
// default range, leaving room for a storm's TIME_WAIT.
const connectionsPerLocalAddr = 8000

// LocalAddrs interprets the --local-addrs setting for a fleet of n
// stations dialing target (a ws:// URL):
//
//	auto    loopback target and more than 1,000 stations: one source
//	        address per 8,000 stations, from 127.0.0.2; else none
//	none    the system chooses ("" and "off" too)
//	K       K loopback addresses 127.0.0.2 … 127.0.0.(K+1)
//	A,B,…   these addresses
func LocalAddrs(spec, target string, n int) ([]netip.Addr, error) {
	spec = strings.TrimSpace(spec)
	loop := loopbackTarget(target)
	switch strings.ToLower(spec) {
	case "", "none", "off":
		return nil, nil
	case "auto":
		if !loop || n <= 1000 {
			return nil, nil
		}
		return loopbackRange((n + connectionsPerLocalAddr - 1) / connectionsPerLocalAddr), nil
	}
	if k, err := strconv.Atoi(spec); err == nil {
		if k < 1 || k > 250 {
			return nil, fmt.Errorf("a count of local addresses must be 1 to 250, got %d", k)
		}
		if !loop {
			return nil, fmt.Errorf("a count of loopback source addresses needs a loopback target, not %s", target)
		}
		return loopbackRange(k), nil
	}
	var out []netip.Addr
	for _, p := range strings.Split(spec, ",") {
		a, err := netip.ParseAddr(strings.TrimSpace(p))
		if err != nil {
			return nil, fmt.Errorf("%q is not an IP address", p)
		}
		out = append(out, a)
	}
	return out, nil
}

func loopbackRange(k int) []netip.Addr {
	out := make([]netip.Addr, k)
	for i := range out {
		out[i] = netip.AddrFrom4([4]byte{127, 0, 0, byte(2 + i)})
	}
	return out
}

// loopbackTarget reports whether a URL's host is an IPv4 loopback address or localhost.
func loopbackTarget(target string) bool {
	u, err := url.Parse(target)
	if err != nil {
		return false
	}
	h := u.Hostname()
	if h == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(h)
	return err == nil && a.Is4() && a.IsLoopback()
}
