//go:build !unix

package mcpserver

import "os"

// ReserveStdout returns os.Stdout unchanged where file descriptors cannot be
// re-pointed portably; logs still never go to stdout.
func ReserveStdout() (*os.File, error) { return os.Stdout, nil }
