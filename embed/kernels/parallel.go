package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/gomlx/gomlx/backends"
)

// minParallel is the fewest elements an op splits across cores for: below
// it a goroutine hand-off costs more than it saves (a 12-token query's
// activations are 4.6K elements per op, an 8 × 256 batch's 786K).
const minParallel = 1 << 15

// hits counts, per op, the calls the fast executors took (tests check
// that a case meant for them did not fall back).
var hits [backends.OpTypeLast]atomic.Int64

func hit(op backends.OpType) { hits[op].Add(1) }

// parallel runs fn over [0, n) split across the cores (Split) when the
// op touches at least minParallel elements. simplego runs a BERT pass's
// ops one after another (each depends on the last), so an op has the
// cores to itself.
func parallel(n, elements int, fn func(from, to int)) {
	if elements < minParallel {
		fn(0, n)
		return
	}
	Split(n, max(1, n/(4*runtime.GOMAXPROCS(0))), fn)
}

// Split runs fn over [0, n) in pieces of grain items on up to GOMAXPROCS
// goroutines, the caller's included, each taking the next piece when it
// is done with the last. Fixed halves waited for the slower core: with a
// third process busy on the machine, one half of every op ran late.
func Split(n, grain int, fn func(from, to int)) {
	grain = max(grain, 1)
	pieces := (n + grain - 1) / grain
	workers := min(runtime.GOMAXPROCS(0)/max(1, int(passes.Load())), pieces)
	if workers < 2 {
		fn(0, n)
		return
	}
	var next atomic.Int64
	work := func() {
		for {
			i := int(next.Add(1) - 1)
			if i >= pieces {
				return
			}
			fn(i*grain, min((i+1)*grain, n))
		}
	}
	var wg sync.WaitGroup
	for range workers - 1 {
		wg.Go(work)
	}
	work()
	wg.Wait()
}

// passes counts the forward passes running; an op of one of several
// concurrent passes keeps to its own goroutine, since the passes already
// share out the cores.
var passes atomic.Int32

// BeginPass marks a forward pass as running until end is called.
func BeginPass() (end func()) {
	passes.Add(1)
	return func() { passes.Add(-1) }
}
