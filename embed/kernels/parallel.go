package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gomlx/gomlx/backends"
)

// minParallel is the fewest elements an op splits across cores for: below
// it a hand-off costs more than it saves (a 12-token query's activations
// are 4.6K elements per op, an 8 × 256 batch's 786K).
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

// Split runs fn over [0, n) in pieces of grain items, on the caller's
// goroutine and the helper workers (the crew) that are free, each taking
// the next piece when it is done with the last. Pieces are taken, not
// assigned: with a third process busy on the machine, fixed halves waited
// for the slower core, and a helper that is not running yet simply finds
// no piece left.
func Split(n, grain int, fn func(from, to int)) {
	grain = max(grain, 1)
	pieces := (n + grain - 1) / grain
	if pieces < 2 || runtime.GOMAXPROCS(0)/max(1, int(passes.Load())) < 2 {
		fn(0, n)
		return
	}
	j := &job{fn: fn, n: n, grain: grain, pieces: int64(pieces)}
	if !crew.post(j) {
		fn(0, n)
		return
	}
	j.work(false)
	crew.finish(j)
}

// helpersHot reports whether a helper is spinning, ready to take a piece
// of a Split at once. Products too small to be worth waking a parked
// helper for split only then (gemmOne).
func helpersHot() bool { return crew.spinning.Load() > 0 }

// A job is one Split's work, shared by its caller and the crew.
type job struct {
	fn     func(from, to int)
	n      int
	grain  int
	pieces int64
	next   atomic.Int64 // the next piece to take
	done   atomic.Int64 // pieces finished
}

// work takes and runs pieces until none is left. A helper's pieces are
// counted (helped) before they count as done, so once a Split returns
// every piece a helper ran for it is in CrewStats: counted after, a
// helper descheduled between the two showed its pieces in the next
// test's window (TestSoloPassKeepsToItsGoroutine failed so in CI).
func (j *job) work(byHelper bool) {
	for {
		i := j.next.Add(1) - 1
		if i >= j.pieces {
			return
		}
		from := int(i) * j.grain
		j.fn(from, min(from+j.grain, j.n))
		if byHelper {
			helped.Add(1)
		}
		j.done.Add(1)
	}
}

// helped counts the pieces helpers ran (tests check the crew works).
var helped atomic.Int64

// The crew: GOMAXPROCS-1 helper goroutines, started on first use, which
// spin (up to maxSpinners of them) while a single forward pass runs and
// park otherwise. A goroutine started per Split (as before) cost a futex
// wake-up of an idle core for every op, tens of microseconds on a VM: a
// 12-token query's 36 products ran slower split than on one core
// (docs/perf.md, round 4). A spinning helper takes a piece within a
// fraction of a microsecond, so the products of a short query can be
// shared out: it is bound by streaming the weights from memory, and each
// core streams its own half.
//
// Spinning costs a core while it lasts, so it lasts only while exactly
// one pass runs (BeginPass) and for spinGrace after a piece or a pass
// ends; several passes at once each keep to one core (Split runs them
// inline) and the helpers park.
type workerCrew struct {
	startOnce sync.Once
	size      int
	spinWake  chan struct{} // wakes a helper that may spin (index < maxSpinners)
	jobWake   chan struct{} // wakes any helper, for a posted job
	current   atomic.Pointer[job]
	spinning  atomic.Int32
	lastBusy  atomic.Int64 // nanotime of the last job posted or pass begun
	// stalledUntil: no spinning before this nanotime; standDown: the
	// length of the last stand-down (stall).
	stalledUntil atomic.Int64
	standDown    atomic.Int64
	lastStrike   atomic.Int64 // nanotime of the last strike
}

var crew workerCrew

// maxSpinners caps the helpers that spin: a short query's products are
// bound by memory bandwidth, which a few cores saturate, and more
// spinning helpers would only burn a laptop's cores. The others (on
// machines with more than four cores) wake for a posted job only, and
// park as soon as it is done.
const maxSpinners = 3

// yieldEvery is how often a spinning helper lets other goroutines run.
const yieldEvery = time.Millisecond

// spinGrace is how long a helper keeps spinning with no job and no single
// pass running: long enough to span the gap between two queries of a
// stream (tokenising, pooling), short enough not to be noticed.
const spinGrace = 2 * time.Millisecond

var epoch = time.Now()

func nanotime() int64 { return int64(time.Since(epoch)) }

func (c *workerCrew) start() {
	c.startOnce.Do(func() {
		c.size = max(0, runtime.GOMAXPROCS(0)-1)
		c.spinWake = make(chan struct{}, maxSpinners)
		c.jobWake = make(chan struct{}, max(1, c.size))
		for i := range c.size {
			go c.helper(i < maxSpinners)
		}
	})
}

// rouse makes sure the helpers that may spin are spinning; unless forced,
// not during a stand-down (stall). A posted job forces it, and also wakes
// the helpers that may not spin: the job is either large (worth a wake-up
// even when the helpers park again soon after) or was split only because
// helpers were spinning already.
func (c *workerCrew) rouse(force bool) {
	c.start()
	now := nanotime()
	c.lastBusy.Store(now)
	if !force && c.stalled(now) {
		return
	}
	for range min(c.size, maxSpinners) - int(c.spinning.Load()) {
		select {
		case c.spinWake <- struct{}{}:
		default:
		}
	}
	if force {
		for range c.size - maxSpinners {
			select {
			case c.jobWake <- struct{}{}:
			default:
			}
		}
	}
}

// post makes j the crew's current job; false when another Split holds the
// crew (a concurrent pass, or a Split inside a piece).
func (c *workerCrew) post(j *job) bool {
	c.start()
	if c.size == 0 || !c.current.CompareAndSwap(nil, j) {
		return false
	}
	c.rouse(true)
	return true
}

// finish waits for the pieces helpers took and releases the crew. A
// piece is a few microseconds of work; a wait past waitStallAfter means
// the helper's thread lost its core to another process while it held the
// piece, so the crew stands down for a while (stall) and the waiting
// caller sleeps rather than spin on the core the helper needs.
func (c *workerCrew) finish(j *job) {
	start, struck := int64(0), false
	for spins := 0; j.done.Load() < j.pieces; spins++ {
		if spins&63 != 63 {
			continue
		}
		now := nanotime()
		if start == 0 {
			start = now
		} else if now-start > int64(waitStallAfter) {
			if !struck {
				c.stall(now)
				struck = true
			}
			time.Sleep(20 * time.Microsecond)
		}
	}
	c.current.CompareAndSwap(j, nil)
}

// waitStallAfter: a caller waiting this long for a piece a helper took
// stalls the crew at once. A piece is microseconds of assembly, which the
// Go runtime does not preempt: only the operating system, handing the
// helper's core to another process, makes it late.
const waitStallAfter = 200 * time.Microsecond

// stallAfter: a helper silent for this long, holding a piece or between
// two looks for one, was descheduled (a strike): the machine may have
// fewer free cores than GOMAXPROCS says. The operating system takes a
// core away for a time slice, milliseconds; the Go runtime's own pauses
// (a garbage collection's mark worker on the helper's P) are a few
// hundred microseconds and are not counted.
const stallAfter = time.Millisecond

// After a stall the crew stops spinning for a while: minStandDown at
// first, doubling for each stall that follows soon after the last stand-
// down ended, up to maxStandDown. A one-off (a timer interrupt, another
// tenant's burst) costs a few queries; a busy machine (a build, a test
// suite), where a spinning helper takes CPU time from the very caller it
// is meant to help, soon keeps the crew down for a second at a time.
const (
	minStandDown = 10 * time.Millisecond
	maxStandDown = time.Second
)

// strikeWindow: a helper silent for longer than stallAfter is a strike;
// two strikes within strikeWindow are a stall. One alone is most often
// the Go runtime's, not the machine's: a garbage collection's mark worker
// took the helper's P for a few hundred microseconds, every few dozen
// queries, and standing down for each left 16-token queries on one core
// four fifths of the time. A machine short of cores strikes every few
// milliseconds.
const strikeWindow = 50 * time.Millisecond

// strike records a helper's silence; the second within strikeWindow
// stalls the crew.
func (c *workerCrew) strike(now int64) {
	if prev := c.lastStrike.Swap(now); prev != 0 && now-prev < int64(strikeWindow) {
		c.stall(now)
	}
}

// stall records that a helper was descheduled: no spinning and no
// small-product splits until the stand-down has passed.
func (c *workerCrew) stall(now int64) {
	stalls.Add(1)
	d := c.standDown.Load()
	if d == 0 || now-c.stalledUntil.Load() > 8*d {
		d = int64(minStandDown)
	} else {
		d = min(2*d, int64(maxStandDown))
	}
	c.standDown.Store(d)
	c.stalledUntil.Store(now + d)
}

// stalls counts stall calls (CrewStats).
var stalls atomic.Int64

// CrewStats reports how many Split pieces the helpers ran and how many
// times the crew stood down, since the process started (benchmarks
// report them).
func CrewStats() (helperPieces, standDowns int64) { return helped.Load(), stalls.Load() }

func (c *workerCrew) stalled(now int64) bool { return now < c.stalledUntil.Load() }

func (c *workerCrew) helper(spinner bool) {
	if !spinner {
		for range c.jobWake {
			c.spin(false)
		}
		return
	}
	for {
		select {
		case <-c.spinWake:
		case <-c.jobWake:
		}
		c.spin(true)
	}
}

// spin runs posted jobs until there has been nothing to do for spinGrace
// outside a single pass (at once for a helper that may not spin).
func (c *workerCrew) spin(spinner bool) {
	if spinner {
		c.spinning.Add(1)
		defer c.spinning.Add(-1)
	}
	last := nanotime()
	yielded := last
	for spins := 0; ; spins++ {
		if j := c.current.Load(); j != nil && j.next.Load() < j.pieces {
			j.work(true)
			last = nanotime()
			c.lastBusy.Store(last)
			continue
		}
		if !spinner {
			return
		}
		if spins&63 == 63 {
			now := nanotime()
			if now-last > int64(stallAfter) {
				c.strike(now) // 64 looks take well under a microsecond
			}
			last = now
			if c.stalled(now) || passes.Load() != 1 && now-c.lastBusy.Load() > int64(spinGrace) {
				return
			}
			// Let anything else that is runnable have this P now and
			// then (the runtime preempts a spinning loop only every
			// 10 ms). Not every few looks: a Gosched enters the
			// scheduler, which looks for work on the other Ps, sleeps
			// and wakes threads; at every 64 looks that was a fifth of
			// a 24-token query's CPU time (runtime.usleep, futex).
			if now-yielded > int64(yieldEvery) {
				runtime.Gosched()
				// Time spent running other goroutines is no stall.
				yielded = nanotime()
				last = yielded
			}
		}
	}
}

// passes counts the forward passes running; an op of one of several
// concurrent passes keeps to its own goroutine, since the passes already
// share out the cores.
var passes atomic.Int32

// BeginSoloPass marks a forward pass that runs beside other work of this
// process until end is called (a hybrid recall embeds its query while the
// store ranks by keyword): its ops keep to its own goroutine, and it
// neither rouses the crew nor keeps it spinning. Shared out, its pieces
// would wait for helpers whose cores the other work holds, and each such
// wait stands the crew down for the passes that follow (up to a second).
func BeginSoloPass() (end func()) {
	passes.Add(soloWeight)
	return func() { passes.Add(-soloWeight) }
}

// soloWeight counts a solo pass as more passes than any machine has cores,
// so Split shares out nothing while it runs and spinning helpers park.
const soloWeight = 1 << 16

// BeginPass marks a forward pass as running until end is called. A single
// pass keeps the crew spinning, so its ops can be shared out at once.
func BeginPass() (end func()) {
	if passes.Add(1) == 1 && runtime.GOMAXPROCS(0) > 1 {
		crew.rouse(false)
	}
	return func() {
		crew.lastBusy.Store(nanotime())
		passes.Add(-1)
	}
}
