//go:build !unix

package embed

func peakRSSMB() float64    { return 0 }
func currentRSSMB() float64 { return 0 }

func cpuSeconds() float64 { return 0 }
