package embed

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func gcPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

// While a model is loaded the GC target is tight, except during a large
// pass, and the default again once the model is unloaded.
func TestGCTarget(t *testing.T) {
	t.Setenv("GOGC", "")
	defer relaxGC()
	weights := make([]byte, 64<<20) // a model's worth of live heap
	for i := range weights {
		weights[i] = byte(i)
	}
	defer runtime.KeepAlive(weights)
	tightenGC(0)
	tight := gcPercent()
	if tight < 5 || tight >= 100 {
		t.Fatalf("GC percent after load = %d, want 5…99", tight)
	}
	gcForBatch(largeBatchTokens - 1)()
	if got := gcPercent(); got != tight {
		t.Fatalf("a small pass changed the GC percent to %d", got)
	}
	doneA := gcForBatch(8 * 256)
	doneB := gcForBatch(32 * 40)
	if got := gcPercent(); got != 100 {
		t.Fatalf("GC percent during large passes = %d, want 100", got)
	}
	doneA()
	if got := gcPercent(); got != 100 {
		t.Fatalf("GC percent with one large pass still running = %d, want 100", got)
	}
	doneB()
	if got := gcPercent(); got != tight {
		t.Fatalf("GC percent after the large passes = %d, want %d", got, tight)
	}
	relaxGC()
	if got := gcPercent(); got != 100 {
		t.Fatalf("GC percent after unload = %d, want 100", got)
	}
	gcForBatch(8 * 256)()
	if got := gcPercent(); got != 100 {
		t.Fatalf("GC percent without a model = %d, want 100", got)
	}
}

// A GOGC the user set is left alone.
func TestGCTargetRespectsGOGC(t *testing.T) {
	t.Setenv("GOGC", "150")
	before := gcPercent()
	tightenGC(0)
	if got := gcPercent(); got != before {
		t.Fatalf("GC percent changed to %d with GOGC set", got)
	}
}

// What is live beyond the model (a store's indexes) widens the runway
// after the next collection, by half its size, and narrows it
// again once it is gone; what was live before the load counts as such.
func TestGCTargetFollowsOtherHeap(t *testing.T) {
	t.Setenv("GOGC", "")
	defer relaxGC()
	const mb = 1 << 20
	keepBefore = make([]*int, 4<<20) // 32 MB live before the load, with pointers
	runtime.GC()
	heapBefore := liveHeap() // read before the load, as the engine does
	weights := make([]byte, 64<<20)
	for i := range weights {
		weights[i] = byte(i)
	}
	tightenGC(heapBefore)
	gcTarget.Lock()
	model := gcTarget.model
	gcTarget.Unlock()
	if model < 56*mb || model > 72*mb {
		t.Fatalf("the model's heap counted as %d MB, want about 64", model/mb)
	}
	// runway ≈ gcHeadroom + (live - model) / 2, once a collection has
	// seen the heap.
	runwayNear := func(what string, other float64) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			runtime.GC()
			time.Sleep(10 * time.Millisecond) // the finalizer runs after the collection
			live := float64(liveHeap())
			runway := float64(gcPercent()) * live / 100
			want := gcHeadroom + (live-float64(model))/otherHeadroomDiv
			if runway > want-0.02*live && runway < want+0.02*live && (other == 0 || live-float64(model) >= other) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: runway %.0f MB of a %.0f MB heap, want about %.0f", what, runway/mb, live/mb, want/mb)
			}
		}
	}
	runwayNear("after the load", 32*mb)
	tight := gcPercent()
	keepOther = make([]*int, 16<<20) // 128 MB more, live
	runwayNear("with an index", 160*mb)
	if got := gcPercent(); got <= tight {
		t.Fatalf("GC percent %d with 128 MB more live, was %d: the runway did not grow", got, tight)
	}
	keepOther, keepBefore = nil, nil
	runwayNear("index and the rest gone", 0)
	if got := gcPercent(); got >= tight {
		t.Fatalf("GC percent %d with the rest gone, was %d with it", got, tight)
	}
	runtime.KeepAlive(weights)
}

// Live heap beside the model in TestGCTargetFollowsOtherHeap (package
// variables: a local one the compiler may consider dead early).
var keepBefore, keepOther []*int
