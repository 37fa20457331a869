//go:build !unix && !windows

package warm

// processAlive cannot tell here; sockets are then only removed when a
// connection is refused.
func processAlive(pid int) bool { return true }
