//go:build unix

package main

import (
	"runtime"
	"syscall"
)

// peakRSSMiB is this process's peak resident set in MiB (getrusage's
// ru_maxrss: KiB on Linux and the BSDs, bytes on macOS), or 0 if unknown.
func peakRSSMiB() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil || ru.Maxrss <= 0 {
		return 0
	}
	kib := float64(ru.Maxrss)
	if runtime.GOOS == "darwin" || runtime.GOOS == "ios" {
		kib /= 1024
	}
	return round2(kib / 1024)
}
