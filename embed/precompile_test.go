package embed

import (
	"context"
	"testing"
	"time"

	"github.com/mnemo-mcp/mnemo/internal/testmodels"
)

// waitPrecompiled waits for the precompile of the engine's current model to
// end and returns that model.
func waitPrecompiled(tb testing.TB, e *Engine) *loaded {
	tb.Helper()
	e.mu.RLock()
	done, rt := e.precompiled, e.rt
	e.mu.RUnlock()
	if done == nil {
		tb.Fatal("no precompile started")
	}
	select {
	case <-done:
	case <-time.After(time.Minute):
		tb.Fatal("precompile did not end within a minute")
	}
	return rt
}

// Once the engine is ready and its precompile ended, a query of any length
// up to precompileMaxTokens runs on a graph already compiled; a longer one
// compiles its own (which shows that the count sees compiles).
func TestPrecompileShortQueries(t *testing.T) {
	e := loadTest(t, Options{Model: testmodels.Dir(t, testmodels.BertTiny), CacheEntries: -1})
	rt := waitPrecompiled(t, e)
	want := 0 // the warm-up's graph, then one per bucket up to the limit
	for _, n := range rt.seqBuckets {
		if n <= precompileMaxTokens {
			want++
		}
	}
	if got := rt.graphs.Load(); got != int64(want) {
		t.Fatalf("%d graphs compiled by load and precompile, want %d (buckets %v)", got, want, rt.seqBuckets)
	}
	ctx := context.Background()
	for n := 3; n <= precompileMaxTokens; n++ {
		if _, err := e.EmbedQuery(ctx, textOfTokens(t, e, n, n)); err != nil {
			t.Fatal(err)
		}
		if got := rt.graphs.Load(); got != int64(want) {
			t.Fatalf("a query of %d tokens compiled a graph (%d graphs, want %d)", n, got, want)
		}
	}
	if _, err := e.EmbedQuery(ctx, textOfTokens(t, e, precompileMaxTokens+1, 1)); err != nil {
		t.Fatal(err)
	}
	if got := rt.graphs.Load(); got != int64(want+1) {
		t.Fatalf("a query of %d tokens: %d graphs, want %d (a new one)", precompileMaxTokens+1, got, want+1)
	}
}

// A call in flight holds the precompile back; it resumes when the engine is
// quiet again.
func TestPrecompileWaitsForCalls(t *testing.T) {
	e := loadTest(t, Options{Model: testmodels.Dir(t, testmodels.BertTiny)})
	e.mu.RLock()
	rt := e.rt
	e.mu.RUnlock()
	e.ka.inflight.Add(1) // as acquireModel does
	time.Sleep(3 * precompileQuiet)
	if got := rt.graphs.Load(); got != 1 {
		t.Errorf("%d graphs while a call was in flight, want only the warm-up's", got)
	}
	e.ka.touch()
	e.ka.inflight.Add(-1)
	if rt := waitPrecompiled(t, e); rt.graphs.Load() < 2 {
		t.Errorf("precompile compiled nothing after the call ended")
	}
}

// Close ends a precompile at once, and a keep-alive unload ends it too;
// the model reloaded afterwards gets its own. Run with -race.
func TestPrecompileStopsOnCloseAndUnload(t *testing.T) {
	dir := testmodels.Dir(t, testmodels.BertTiny)
	e := loadTest(t, Options{Model: dir})
	e.mu.RLock()
	done := e.precompiled
	e.mu.RUnlock()
	t0 := time.Now()
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
		if d := time.Since(t0); d > precompileQuiet {
			t.Errorf("precompile ended %v after Close", d)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("precompile still running 10 s after Close")
	}

	// Keep-alives about as long as precompileQuiet: the model is released
	// before the precompile starts, or while it runs.
	for _, ka := range []time.Duration{precompileQuiet / 2, precompileQuiet + 5*time.Millisecond, precompileQuiet + 20*time.Millisecond} {
		e = loadTest(t, Options{Model: dir, KeepAlive: ka})
		first := waitPrecompiled(t, e)
		waitUnloaded(t, e)
		if _, err := e.EmbedQuery(context.Background(), "reload the model"); err != nil {
			t.Fatal(err)
		}
		if rt := waitPrecompiled(t, e); rt == first {
			t.Fatal("no precompile for the reloaded model")
		}
		waitUnloaded(t, e)
	}
}
