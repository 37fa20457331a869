//go:build !linux && !darwin && !windows

package doctor

import "time"

// scanProcesses has no process table to read here; doctor lists only servers that
// answer on their warm socket.
func scanProcesses(exe string, now time.Time) []Process { return nil }
