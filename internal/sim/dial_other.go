//go:build !linux

package sim

import "syscall"

func bindNoPort(network, address string, c syscall.RawConn) error { return nil }
