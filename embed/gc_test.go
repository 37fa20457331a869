package embed

import (
	"runtime"
	"runtime/debug"
	"testing"
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
	tightenGC()
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
	tightenGC()
	if got := gcPercent(); got != before {
		t.Fatalf("GC percent changed to %d with GOGC set", got)
	}
}
