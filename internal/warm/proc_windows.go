//go:build windows

package warm

import (
	"errors"
	"io/fs"

	"golang.org/x/sys/windows"
)

// ownerUID: Windows files have owner SIDs, not uids; the peer check on
// every connection (peercred_windows.go) is what keeps other users out.
func ownerUID(fi fs.FileInfo) (int, bool) { return -1, false }

// stillActive is STILL_ACTIVE, the exit code of a process still running.
const stillActive = 259

// processAlive reports whether process pid is running. A process this user
// may not open (another user's) is alive.
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, uint32(pid))
	if err != nil {
		return errors.Is(err, windows.ERROR_ACCESS_DENIED)
	}
	defer windows.CloseHandle(h)
	var code uint32
	if err := windows.GetExitCodeProcess(h, &code); err != nil {
		return true
	}
	return code == stillActive
}
