//go:build unix

package mcpserver

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// ReserveStdout keeps file descriptor 1 for the protocol alone: it returns a
// duplicate of the process's stdout for the transport to write to, and points
// fd 1 at stderr, so a stray print from any library (the model runtime, a
// dependency's debug output) can never corrupt the JSON-RPC stream.
func ReserveStdout() (*os.File, error) {
	fd, err := unix.Dup(int(os.Stdout.Fd()))
	if err != nil {
		return nil, fmt.Errorf("duplicate stdout: %w", err)
	}
	unix.CloseOnExec(fd)
	if err := unix.Dup2(int(os.Stderr.Fd()), int(os.Stdout.Fd())); err != nil {
		_ = unix.Close(fd)
		return nil, fmt.Errorf("redirect stdout to stderr: %w", err)
	}
	return os.NewFile(uintptr(fd), "/dev/stdout (protocol)"), nil
}
