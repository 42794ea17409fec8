//go:build unix

package sim

import "syscall"

// FDLimit returns the process's open-file limits (soft, hard). Go raises
// the soft limit to the hard one at start-up, so soft is what is usable.
func FDLimit() (soft, hard uint64, err error) {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return 0, 0, err
	}
	return uint64(r.Cur), uint64(r.Max), nil
}
