package kernels

import (
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
)

// An op-level profile of simplego graphs: the time each op type spends, by
// output shape. pprof shows kernels; this shows which graph ops they serve
// (what the choice of kernels to write here was based on). Enabled from
// tests and benchmarks (MNEMO_OP_PROFILE=1 in embed's benchmarks).

type opKey struct {
	op    backends.OpType
	shape string
}

type opStat struct {
	calls int
	total time.Duration
}

var profile struct {
	mu    sync.Mutex
	on    bool
	stats map[opKey]*opStat
	saved [backends.OpTypeLast]executor
}

// StartProfile wraps every executor with a timer. Call it after Install
// to time the executors Install put in place.
func StartProfile() error {
	if err := findNodeLayout(); err != nil {
		return err
	}
	profile.mu.Lock()
	defer profile.mu.Unlock()
	if profile.on {
		return nil
	}
	profile.on = true
	profile.stats = map[opKey]*opStat{}
	profile.saved = nodeExecutors
	for op, exec := range nodeExecutors {
		if exec == nil {
			continue
		}
		nodeExecutors[op] = func(b *simplego.Backend, n *simplego.Node, in []*simplego.Buffer, owned []bool) (*simplego.Buffer, error) {
			start := time.Now()
			out, err := exec(b, n, in, owned)
			d := time.Since(start)
			k := opKey{backends.OpType(op), nodeShape(n).String()}
			profile.mu.Lock()
			s := profile.stats[k]
			if s == nil {
				s = &opStat{}
				profile.stats[k] = s
			}
			s.calls++
			s.total += d
			profile.mu.Unlock()
			return out, err
		}
	}
	return nil
}

// StopProfile restores the executors and writes the profile, largest
// total first, with each row's share of all timed op time.
func StopProfile(w io.Writer) {
	profile.mu.Lock()
	defer profile.mu.Unlock()
	if !profile.on {
		return
	}
	nodeExecutors = profile.saved
	profile.on = false
	keys := make([]opKey, 0, len(profile.stats))
	var all time.Duration
	for k, s := range profile.stats {
		keys = append(keys, k)
		all += s.total
	}
	slices.SortFunc(keys, func(a, b opKey) int { return int(profile.stats[b].total - profile.stats[a].total) })
	fmt.Fprintf(w, "%-28s %-28s %7s %10s %6s\n", "op", "output", "calls", "total", "share")
	for _, k := range keys {
		s := profile.stats[k]
		fmt.Fprintf(w, "%-28s %-28s %7d %10s %5.1f%%\n", k.op, k.shape, s.calls, s.total.Round(time.Microsecond), 100*float64(s.total)/float64(all))
	}
}
