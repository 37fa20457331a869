package main

import (
	"runtime"
	"testing"
)

// bench's peak RSS comes from getrusage (Linux, macOS) or the peak working
// set (Windows), not /proc: it must see memory this process touched.
func TestPeakRSSSeesTouchedMemory(t *testing.T) {
	switch runtime.GOOS {
	case "linux", "darwin", "windows", "freebsd":
	default:
		t.Skip("no peak RSS source on " + runtime.GOOS)
	}
	buf := make([]byte, 64<<20)
	for i := 0; i < len(buf); i += 4096 {
		buf[i] = 1
	}
	got := peakRSSMiB()
	runtime.KeepAlive(buf)
	if got < 64 {
		t.Fatalf("peak RSS %.1f MiB after touching 64 MiB", got)
	}
}
