//go:build !unix && !windows

package main

// peakRSSMiB is unknown here (bench prints n/a).
func peakRSSMiB() float64 { return 0 }
