//go:build unix

package embed

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
)

// peakRSSMB is the process's peak resident set size in MB (whole test
// binary, so run one benchmark per process for a per-benchmark figure).
func peakRSSMB() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	if runtime.GOOS == "darwin" {
		return float64(ru.Maxrss) / 1e6 // bytes
	}
	return float64(ru.Maxrss) / 1024 // KiB
}

// currentRSSMB is the process's resident set now (VmRSS, Linux only; 0
// elsewhere), in MiB.
func currentRSSMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// cpuSeconds is the CPU time (user + system) the process has used: a
// benchmark's CPU time per call moves less with other processes' load
// than its wall time.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
