package embed

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// gcHeadroom is how far the heap may grow past its live size while a
// model is loaded and only short inputs run, before the GC runs.
const gcHeadroom = 8 << 20

// largeBatchTokens: a pass over at least this many token positions runs
// with the default GC target (see gcForBatch).
const largeBatchTokens = 512

// The GC target while a model is loaded. At GOGC=100 the heap may grow to
// twice its live size between collections, and the live heap is mostly
// the model's weights (≈ 90 MB for MiniLM): a process answering queries
// drifted from 135 to 180 MiB of RSS within 300 queries, on ~120 KB of
// garbage each, and a `mnemo serve` sat at 155–160 MiB. With the target at
// the live heap plus gcHeadroom a server stays at 140–147 MiB over 1,000
// MCP calls (docs/perf.md); the weights are pointer-free, so a collection
// costs a few ms of one core however large they are. A large batch is
// different: its activations are hundreds of MB and simplego's buffer
// pools are emptied by every collection, so a tight target made an
// 8 × 256 batch 27% slower. Passes of largeBatchTokens or more run with
// the default target. A GOGC the user set wins throughout.
var gcTarget struct {
	sync.Mutex
	tight int // the percent set by tightenGC; 0: not tightened
	large int // large passes running
}

// tightenGC sets the tight target once a model is loaded.
func tightenGC() {
	if os.Getenv("GOGC") != "" {
		return
	}
	runtime.GC() // the live heap of the loaded model, not of the load
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 || s[0].Value.Uint64() == 0 {
		return
	}
	pct := int(min(100, max(5, gcHeadroom*100/s[0].Value.Uint64())))
	gcTarget.Lock()
	defer gcTarget.Unlock()
	gcTarget.tight = pct
	if gcTarget.large == 0 {
		debug.SetGCPercent(pct)
	}
}

// relaxGC restores the default target once no model is loaded.
func relaxGC() {
	if os.Getenv("GOGC") != "" {
		return
	}
	gcTarget.Lock()
	defer gcTarget.Unlock()
	gcTarget.tight = 0
	debug.SetGCPercent(100)
}

// gcForBatch runs a pass over tokens positions with the default GC target
// when it is a large one; call the returned function when it is done.
func gcForBatch(tokens int) (done func()) {
	if tokens < largeBatchTokens {
		return func() {}
	}
	gcTarget.Lock()
	defer gcTarget.Unlock()
	if gcTarget.tight == 0 {
		return func() {}
	}
	if gcTarget.large++; gcTarget.large == 1 {
		debug.SetGCPercent(100)
	}
	return func() {
		gcTarget.Lock()
		defer gcTarget.Unlock()
		if gcTarget.large--; gcTarget.large == 0 && gcTarget.tight != 0 {
			debug.SetGCPercent(gcTarget.tight)
		}
	}
}
