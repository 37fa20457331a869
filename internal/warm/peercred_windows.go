//go:build windows

package warm

import (
	"fmt"
	"net"
	"os"
	"unsafe"

	"golang.org/x/sys/windows"
)

// sioAFUnixGetPeerPID is SIO_AF_UNIX_GETPEERPID (afunix.h,
// _WSAIOR(IOC_VENDOR, 256)): the process id of the peer of a connected
// AF_UNIX socket, recorded by the kernel at connect time (Windows 10 1803+).
const sioAFUnixGetPeerPID = 0x58000100

// peerUID checks that the process at the other end of c runs as this
// process's user (the same SID) — Windows has no uids. It returns
// os.Getuid() (-1 on Windows) for the same user, so AllowUID's default
// "uid == os.Getuid()" admits exactly the same user, and an error otherwise:
// a peer whose process cannot be opened or whose token cannot be read is
// refused (fail closed).
func peerUID(c *net.UnixConn) (int, error) {
	pid, err := peerPID(c)
	if err != nil {
		return -1, err
	}
	peer, err := processUserSID(pid)
	if err != nil {
		return -1, fmt.Errorf("peer process %d: %w", pid, err)
	}
	me, err := windows.GetCurrentProcessToken().GetTokenUser()
	if err != nil {
		return -1, fmt.Errorf("this process's user: %w", err)
	}
	if !peer.Equals(me.User.Sid) {
		return -1, fmt.Errorf("peer process %d runs as %s, not as this user %s", pid, peer, me.User.Sid)
	}
	return os.Getuid(), nil
}

func peerPID(c *net.UnixConn) (uint32, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return 0, err
	}
	var pid uint32
	var ioErr error
	if err := rc.Control(func(fd uintptr) {
		var n uint32
		ioErr = windows.WSAIoctl(windows.Handle(fd), sioAFUnixGetPeerPID, nil, 0,
			(*byte)(unsafe.Pointer(&pid)), uint32(unsafe.Sizeof(pid)), &n, nil, 0)
	}); err != nil {
		return 0, err
	}
	if ioErr != nil {
		return 0, fmt.Errorf("SIO_AF_UNIX_GETPEERPID: %w", ioErr)
	}
	if pid == 0 {
		return 0, fmt.Errorf("SIO_AF_UNIX_GETPEERPID: no peer process")
	}
	return pid, nil
}

// processUserSID is the user SID of process pid's token.
func processUserSID(pid uint32) (*windows.SID, error) {
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, pid)
	if err != nil {
		return nil, fmt.Errorf("open process: %w", err)
	}
	defer windows.CloseHandle(h)
	var tok windows.Token
	if err := windows.OpenProcessToken(h, windows.TOKEN_QUERY, &tok); err != nil {
		return nil, fmt.Errorf("open token: %w", err)
	}
	defer tok.Close()
	u, err := tok.GetTokenUser()
	if err != nil {
		return nil, fmt.Errorf("token user: %w", err)
	}
	// u lives in a buffer owned by tok's query; copy the SID out.
	return u.User.Sid.Copy()
}
