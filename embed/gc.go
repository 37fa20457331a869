package embed

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// gcHeadroom is how far the heap may grow past its live size while a
// model is loaded and only short inputs run, before the GC runs. 8 MiB
// until the word-embedding table left the heap (mapfile_unix.go): 4 MiB
// took a serve's peak RSS after 300 MCP calls from 145 to 138–140 MiB
// (bench/serve-rss.py), at the cost of twice as many collections,
// each marking a 41 MB pointer-free heap.
const gcHeadroom = 4 << 20

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
	tight int    // the percent set by tightenGC; 0: not tightened
	large int    // large passes running
	model uint64 // the live heap the model's load added
	gen   int    // tightenGC calls: a watch of an older one stops
}

// The rest of the live heap. A server that also keeps a store's indexes
// in memory (pkg/vecindex and pkg/kwindex: ~140 MB at 100k memories, much
// of it pointers, which a collection must follow) would, at a target of
// the model's heap plus gcHeadroom, collect every few dozen recalls, each
// collection marking all of it within a few MB of allocation: the recall
// in flight then assists the marking and waits 15–20 ms (the p99 of recall
// at 100k memories, docs/mcp-bench.md). So after every collection the
// target is set again from the live heap: gcHeadroom plus half of
// whatever is live beyond the model's heap. A server with a small store
// keeps the tight target; one with 100k memories collects every ~200
// recalls instead of ~40 (a quarter: ~90, which still left a collection
// in the p99 of most runs), for at most half again the memory its indexes
// take.
const otherHeadroomDiv = 2

// liveHeap is the live heap as of the last collection.
func liveHeap() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

// tightenGC sets the tight target once a model is loaded; before is the
// live heap before the load (liveHeap), so that what else is live (a
// store's indexes, on a reload) counts as the rest.
func tightenGC(before uint64) {
	if os.Getenv("GOGC") != "" {
		return
	}
	runtime.GC() // the live heap of the loaded model, not of the load
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 || s[0].Value.Uint64() == 0 {
		return
	}
	live := s[0].Value.Uint64()
	gcTarget.Lock()
	defer gcTarget.Unlock()
	gcTarget.model = live - min(live, before)
	gcTarget.gen++
	setTightLocked(live)
	watchGC(gcTarget.gen)
}

// setTightLocked sets the tight target for a live heap of live bytes.
func setTightLocked(live uint64) {
	runway := uint64(gcHeadroom)
	if live > gcTarget.model {
		runway += (live - gcTarget.model) / otherHeadroomDiv
	}
	pct := int(min(100, max(5, runway*100/max(live, 1))))
	gcTarget.tight = pct
	if gcTarget.large == 0 {
		debug.SetGCPercent(pct)
	}
}

// gcSentinel is garbage whose finalizer runs after a collection (large
// enough to be an object of its own, not packed with others).
type gcSentinel struct{ _ [64]byte }

// watchGC sets the tight target again after the next collection, and
// after each one following, until the model is unloaded or loaded again.
func watchGC(gen int) {
	runtime.SetFinalizer(&gcSentinel{}, func(*gcSentinel) {
		live := liveHeap()
		gcTarget.Lock()
		defer gcTarget.Unlock()
		if gcTarget.tight == 0 || gcTarget.gen != gen {
			return
		}
		if live > 0 {
			setTightLocked(live)
		}
		watchGC(gen)
	})
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
