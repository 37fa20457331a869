package embed

import (
	"os"
	"runtime/debug"
	"runtime/metrics"
)

// gcHeadroom is how far the heap may grow past its live size while a
// model is loaded before the GC runs.
const gcHeadroom = 24 << 20

// tightenGC lowers the GC target while a model is loaded. At GOGC=100
// the heap may grow to twice its live size between collections, and the
// live heap is mostly the model's weights (≈ 90 MB for MiniLM): a server
// answering queries drifted from 135 to 180 MiB of RSS within 300
// queries, on ~300 KB of garbage each; with the target at the live heap
// plus gcHeadroom it stays under 140 MiB (docs/perf.md). Weights are
// pointer-free, so a collection costs little however large they are. A
// GOGC the user set wins.
func tightenGC() {
	if os.Getenv("GOGC") != "" {
		return
	}
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return
	}
	live := s[0].Value.Uint64()
	if live == 0 {
		return
	}
	debug.SetGCPercent(int(min(100, max(20, gcHeadroom*100/live))))
}

// relaxGC restores the default target once no model is loaded.
func relaxGC() {
	if os.Getenv("GOGC") != "" {
		return
	}
	debug.SetGCPercent(100)
}
