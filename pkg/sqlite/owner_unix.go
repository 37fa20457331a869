//go:build unix

package sqlite

import (
	"fmt"
	"io/fs"
	"syscall"
)

// ownerNote names a file's owner uid when it is not the current user.
func ownerNote(fi fs.FileInfo) string {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != syscall.Geteuid() {
		return fmt.Sprintf(", owner uid %d", st.Uid)
	}
	return ""
}
