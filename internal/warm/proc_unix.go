//go:build unix

package warm

import (
	"errors"
	"syscall"
)

// processAlive reports whether a process with this pid exists (it may
// belong to another user: EPERM still means alive).
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
