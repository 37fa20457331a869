//go:build !linux && !darwin && !windows

package warm

import (
	"errors"
	"net"
)

// peerUID is not implemented here; without it the server refuses every
// connection (fail closed) and hooks fall back to the store.
func peerUID(c *net.UnixConn) (int, error) {
	return -1, errors.New("peer credentials are not supported on this platform")
}
