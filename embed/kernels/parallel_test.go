package kernels

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// splitCovers checks one Split: every item once, in pieces within grain
// or inline as one call over [0, n). Safe to call from any goroutine.
func splitCovers(t *testing.T, n, grain int, piece func()) {
	t.Helper()
	if err := splitCheck(n, grain, piece); err != "" {
		t.Error(err)
	}
}

func splitCheck(n, grain int, piece func()) string {
	seen := make([]atomic.Int32, n)
	var bad atomic.Bool
	Split(n, grain, func(from, to int) {
		if from < 0 || to > n || from > to || (to-from > max(grain, 1) && (from != 0 || to != n)) {
			bad.Store(true)
			return
		}
		for i := from; i < to; i++ {
			seen[i].Add(1)
		}
		if piece != nil {
			piece()
		}
	})
	if bad.Load() {
		return fmt.Sprintf("n=%d grain=%d: a piece out of range or larger than grain", n, grain)
	}
	for i := range seen {
		if c := seen[i].Load(); c != 1 {
			return fmt.Sprintf("n=%d grain=%d: item %d covered %d times", n, grain, i, c)
		}
	}
	return ""
}

// waitFor polls cond for up to 10 s: a liveness check, not a timing one.
func waitFor(cond func() bool) bool {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Microsecond) {
		if cond() {
			return true
		}
	}
	return false
}

// Split covers [0, n) exactly once, in pieces of at most grain or inline
// as one call, with no pass running (no helper spinning) and at any
// GOMAXPROCS.
func TestSplit(t *testing.T) {
	for _, c := range [][2]int{{0, 1}, {1, 1}, {7, 1}, {12, 1}, {100, 7}, {5, 100}, {1000, 0}} {
		splitCovers(t, c[0], c[1], nil)
	}
}

// spinningAgain lifts any stand-down and rouses the crew, then reports
// whether a helper spins: on a loaded machine (CI runs packages side by
// side on two cores) a helper may rightly stall and park, and only a new
// pass or job would rouse it again.
func spinningAgain() bool {
	crew.stalledUntil.Store(0)
	crew.rouse(false)
	return helpersHot()
}

// With one pass running the crew spins and takes pieces; Splits from many
// goroutines at once, and a Split inside a piece, still cover every item
// once (only one holds the crew; the others run inline).
func TestSplitWithCrew(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("the crew needs GOMAXPROCS ≥ 2")
	}
	crew.stalledUntil.Store(0)
	end := BeginPass()
	defer end()
	if !waitFor(spinningAgain) {
		t.Fatal("no helper spinning during a pass")
	}
	// A helper takes pieces (retried: a helper that lost its core to
	// another process stands the crew down, which is correct but not
	// what this checks).
	before := helped.Load()
	for try := 0; try < 50 && helped.Load() == before; try++ {
		crew.stalledUntil.Store(0)
		crew.rouse(false)
		waitFor(spinningAgain)
		splitCovers(t, 64, 1, func() { time.Sleep(50 * time.Microsecond) })
	}
	if helped.Load() == before {
		t.Fatal("helpers ran no piece of a Split during a pass")
	}
	for _, c := range [][2]int{{0, 1}, {1, 1}, {2, 1}, {12, 1}, {48, 1}, {100, 7}, {1000, 3}} {
		splitCovers(t, c[0], c[1], nil)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				splitCovers(t, 37, 2, nil)
			}
		})
	}
	wg.Wait()
	var nested atomic.Value
	splitCovers(t, 16, 1, func() {
		if err := splitCheck(9, 1, nil); err != "" {
			nested.Store(err)
		}
	})
	if err := nested.Load(); err != nil {
		t.Fatal(err)
	}
}

// A solo pass (a query embedded beside other work) keeps its Splits to its
// own goroutine, even with helpers spinning from a pass just before, and
// lets them park: no helper takes a piece, so the caller never waits for
// one (which is what stalls the crew from the caller's side). The crew's
// stall count is not checked: a helper still spinning from the pass before
// may record its own descheduling as a strike, which is the machine's
// doing (under qemu, where CI runs this for arm64, a thread is often off
// its core for a millisecond), not the solo pass's.
func TestSoloPassKeepsToItsGoroutine(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("the crew needs GOMAXPROCS ≥ 2")
	}
	crew.stalledUntil.Store(0)
	endPass := BeginPass()
	waitFor(spinningAgain)
	endPass()
	end := BeginSoloPass()
	defer end()
	piecesBefore, _ := CrewStats()
	for range 20 {
		splitCovers(t, 64, 1, func() { time.Sleep(20 * time.Microsecond) })
	}
	if pieces, _ := CrewStats(); pieces != piecesBefore {
		t.Fatalf("during a solo pass helpers ran %d pieces; want none", pieces-piecesBefore)
	}
	if !waitFor(func() bool { return !helpersHot() }) {
		t.Fatal("helpers still spinning during a solo pass")
	}
}

// After the pass the helpers park; a stall stands the crew down.
func TestCrewParksAndStandsDown(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("the crew needs GOMAXPROCS ≥ 2")
	}
	crew.stalledUntil.Store(0)
	end := BeginPass()
	if !waitFor(spinningAgain) {
		t.Fatal("no helper spinning during a pass")
	}
	end()
	if !waitFor(func() bool { return !helpersHot() }) {
		t.Fatal("helpers still spinning after the pass ended")
	}
	crew.stall(nanotime())
	crew.stalledUntil.Store(nanotime() + int64(time.Minute)) // the test's sleep must not outlast it
	defer crew.stalledUntil.Store(0)
	end = BeginPass()
	defer end()
	time.Sleep(10 * time.Millisecond)
	if helpersHot() {
		t.Fatal("helpers spin although the crew stood down after a stall")
	}
	splitCovers(t, 100, 1, nil)
}

// Stand-downs double while stalls follow each other and start over after a
// quiet spell.
func TestCrewStandDownBacksOff(t *testing.T) {
	var c workerCrew
	now := int64(time.Hour)
	want := minStandDown
	for range 10 {
		c.stall(now)
		if got := time.Duration(c.standDown.Load()); got != want {
			t.Fatalf("stand-down %v, want %v", got, want)
		}
		if !c.stalled(now) || c.stalled(now+int64(want)) {
			t.Fatalf("stalled until %v after a stall at %v, want %v later", c.stalledUntil.Load(), now, want)
		}
		now += int64(want) + int64(time.Millisecond) // stalls again soon after it ended
		want = min(2*want, maxStandDown)
	}
	c.stall(now + int64(time.Minute))
	if got := time.Duration(c.standDown.Load()); got != minStandDown {
		t.Fatalf("after a quiet minute the stand-down is %v, want %v", got, minStandDown)
	}
}

// One silent spell of a helper (a strike: a garbage collection can cause
// one) does not stand the crew down; two within strikeWindow do.
func TestCrewStrikes(t *testing.T) {
	var c workerCrew
	now := int64(time.Hour)
	c.strike(now)
	if c.stalled(now) {
		t.Fatal("one strike stood the crew down")
	}
	now += int64(strikeWindow) + 1
	c.strike(now)
	if c.stalled(now) {
		t.Fatal("two strikes further apart than strikeWindow stood the crew down")
	}
	now += int64(strikeWindow) / 2
	c.strike(now)
	if !c.stalled(now) {
		t.Fatal("two strikes within strikeWindow did not stand the crew down")
	}
}
