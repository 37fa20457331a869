//go:build unix

package fsguard

import (
	"io/fs"
	"syscall"
)

// enforced: Unix has owners and permission bits to check.
const enforced = true

// NoFollow is os.O_NOFOLLOW where the system has it: opening a symlink then
// fails instead of writing wherever it points.
const NoFollow = syscall.O_NOFOLLOW

// OwnerUID returns the uid that owns a file.
func OwnerUID(fi fs.FileInfo) (int, bool) { return ownerUID(fi) }

func ownerUID(fi fs.FileInfo) (int, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return -1, false
	}
	return int(st.Uid), true
}
