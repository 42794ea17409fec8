//go:build !unix

package sim

import "errors"

// FDLimit is not known on this system.
func FDLimit() (soft, hard uint64, err error) { return 0, 0, errors.New("unknown") }
