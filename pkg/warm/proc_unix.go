//go:build unix

package warm

import (
	"errors"
	"io/fs"
	"syscall"
)

// ownerUID returns the uid that owns a file.
func ownerUID(fi fs.FileInfo) (int, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return -1, false
	}
	return int(st.Uid), true
}

// processAlive reports whether a process with this pid exists (it may
// belong to another user: EPERM still means alive).
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
