package embed

import (
	"time"
)

// Precompiling the short-query graphs.
//
// The warm-up pass compiles the graph of one text of up to 8 tokens; every
// other (batch, length) bucket costs one GoMLX graph compile on the first
// call that needs it (~15–60 ms for MiniLM), which in a running server is
// the p99 of recall: the first query of 9–12 tokens, the first of 13–16, …
// So once the model is ready the engine compiles, in the background, the
// batch-1 graphs of every sequence bucket up to precompileMaxTokens, where
// nearly all queries fall. Each graph keeps ~0.9 MB of heap (MiniLM, its
// nodes and compiled program; activations are allocated per pass), so nine
// more graphs cost ~8 MB, beside the model's ~90 MB of weights. Longer
// texts (documents) still compile on first use: their passes take long
// enough that a compile matters less, and they are not on recall's path.
//
// Locks. Compiling takes none that a forward pass needs: GoMLX's executor
// (graph.Exec.findOrCreateGraph) holds its cache mutex only to look a
// shape up and builds and compiles outside it, so a pass of another shape
// runs meanwhile, and a pass of the shape being compiled waits for that
// compile (which it would otherwise have had to do itself, for longer).
// hugot and onnx-gomlx add no lock; the context's variables are a sync map.
// (One exception: context.Exec swaps its context, unsynchronised, after
// its first graph build, so that build must run alone. The warm-up is it,
// at load and reload, and there is no precompile without the warm-up.)
// Compiling only (Exec.PreCompile, no pass) takes no forward slot (e.sem)
// and does not count as a pass for the kernels' crew. What it does hold is
// e.mu shared, like any call, so that Close and a keep-alive unload cannot
// free the session under it; since a waiting writer of a sync.RWMutex
// holds back new readers, a Close or unload that comes mid-compile delays
// calls by at most that one compile. Hence one shape at a time, each under
// its own lock, checking between shapes that the engine is still open and
// the model still the one it started with.
//
// CPU. A compile runs on one goroutine (one core). Shapes start only when
// no call is in flight and none started or ended for precompileQuiet, so
// the first one starts a little after the model is ready, and calls that
// arrive (or a stream of benchmark calls) hold the rest back. When many
// processes start at once, each compiles its shapes after its own load,
// ~0.2 s of one core in all. A lower OS priority for the compiling thread
// was not used: a call waiting for a shape it compiles would then wait at
// that low priority.
const (
	precompileMaxTokens = 64
	precompileQuiet     = 200 * time.Millisecond
)

// startPrecompile compiles the short-query graphs of rt in the background
// (see above). It is called where rt becomes the engine's model: before the
// load is done, or under e.mu after a reload.
func (e *Engine) startPrecompile(rt *loaded) {
	if e.o.NoWarmup || rt.exact {
		return
	}
	done := make(chan struct{})
	e.precompiled = done
	go e.precompile(rt, done)
}

func (e *Engine) precompile(rt *loaded, done chan struct{}) {
	defer close(done)
	start := time.Now()
	var lengths []int
	var took []string
	defer func() {
		e.log.Debug("precompiled short-query graphs", "model", rt.info.ModelID, "batch", 1, "lengths", lengths,
			"compile_times", took, "elapsed", time.Since(start).Round(time.Millisecond).String())
	}()
	for _, n := range rt.seqBuckets {
		if n > precompileMaxTokens {
			return
		}
		if !e.waitQuiet() {
			return
		}
		t := time.Now()
		compiled, ok, err := e.compileShape(rt, n)
		if err != nil {
			e.log.Debug("precompile stopped", "model", rt.info.ModelID, "length", n, "err", err)
			return
		}
		if !ok {
			return // closed, or the model was released
		}
		if compiled {
			lengths = append(lengths, n)
			took = append(took, time.Since(t).Round(100*time.Microsecond).String())
		}
	}
}

// waitQuiet waits until no call is in flight and none started or ended for
// precompileQuiet; false if the engine is closing.
func (e *Engine) waitQuiet() bool {
	for {
		wait := precompileQuiet - e.ka.idle()
		if e.ka.inflight.Load() > 0 {
			wait = precompileQuiet
		} else if wait <= 0 {
			return e.life.Err() == nil
		}
		select {
		case <-e.life.Done():
			return false
		case <-time.After(wait):
		}
	}
}

// compileShape compiles the graph of one text of n tokens if rt is still
// the engine's model (ok); compiled is false if the graph was there already
// (the warm-up's, or a call's; for the log only, so a call compiling
// another shape meanwhile may make it wrong).
func (e *Engine) compileShape(rt *loaded, n int) (compiled, ok bool, err error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed || e.rt != rt || e.life.Err() != nil {
		return false, false, nil
	}
	before := rt.graphs.Load()
	if err := rt.compile(n); err != nil {
		return false, false, err
	}
	return rt.graphs.Load() > before, true, nil
}
