package sim

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// bindNoPort sets IP_BIND_ADDRESS_NO_PORT so that binding a source
// address does not reserve a port: the port is chosen at connect time,
// per destination, and TIME_WAIT ports can be reused for other
// destinations. Without it each bound address has one port per
// connection whatever the destination.
func bindNoPort(network, address string, c syscall.RawConn) error {
	c.Control(func(fd uintptr) {
		unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT, 1)
	})
	return nil
}
