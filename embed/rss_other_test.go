//go:build !unix

package embed

func peakRSSMB() float64 { return 0 }
