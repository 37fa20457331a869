package sqlite

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mnemo-mcp/mnemo/pkg/memory"
)

// Benchmarks (not tests): search latency with the query embedding excluded,
// write throughput, and the memory one process needs for its vector index.
// Stores are synthetic: random unit 384-d vectors (all-MiniLM-L6-v2's size)
// and 12-word texts drawn from a Zipf-distributed 5,000-word vocabulary.
// See docs/store-bench.md for numbers and commands.

const benchDims = 384

var (
	benchMu     sync.Mutex
	benchStores = map[int]string{} // size → database path, built once per run
	benchDir    string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

func randUnit(r *rand.Rand, d int) []float32 {
	v := make([]float32, d)
	var n float64
	for i := range v {
		x := r.NormFloat64()
		v[i] = float32(x)
		n += x * x
	}
	n = math.Sqrt(n)
	for i := range v {
		v[i] = float32(float64(v[i]) / n)
	}
	return v
}

type textGen struct{ z *rand.Zipf }

func newTextGen(r *rand.Rand) textGen { return textGen{rand.NewZipf(r, 1.1, 2, 4999)} }

func (g textGen) words(n int) string {
	w := make([]string, n)
	for i := range w {
		w[i] = fmt.Sprintf("w%d", g.z.Uint64())
	}
	return strings.Join(w, " ")
}

func benchMemory(r *rand.Rand, g textGen, i int) memory.Memory {
	return memory.Memory{
		Content: fmt.Sprintf("%s (note %d)", g.words(12), i), Project: fmt.Sprintf("/proj/%d", i%10),
		Source: memory.SourceCLI, Tags: []string{fmt.Sprintf("t%d", i%20)},
		Vector: randUnit(r, benchDims), Model: "bench/model",
	}
}

// benchStore returns the path of a store holding n synthetic memories,
// building it (1,000 rows per transaction) the first time.
func benchStore(b *testing.B, n int) string {
	benchMu.Lock()
	defer benchMu.Unlock()
	if p, ok := benchStores[n]; ok {
		return p
	}
	if keep := os.Getenv("MNEMO_BENCH_DIR"); keep != "" {
		// Reuse stores across runs (they take a while to build).
		path := filepath.Join(keep, fmt.Sprintf("bench%d.db", n))
		if _, err := os.Stat(path); err == nil {
			benchStores[n] = path
			return path
		}
		if err := os.MkdirAll(keep, 0o700); err != nil {
			b.Fatal(err)
		}
		return buildBenchStore(b, n, path)
	}
	if benchDir == "" {
		d, err := os.MkdirTemp("", "mnemo-bench-")
		if err != nil {
			b.Fatal(err)
		}
		benchDir = d
	}
	return buildBenchStore(b, n, filepath.Join(benchDir, fmt.Sprintf("bench%d.db", n)))
}

func buildBenchStore(b *testing.B, n int, path string) string {
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	r := rand.New(rand.NewPCG(uint64(n), 7))
	g := newTextGen(r)
	start := time.Now()
	fill(b, s, n, func(i int) memory.Memory { return benchMemory(r, g, i) })
	b.Logf("built %d memories in %v", n, time.Since(start).Round(time.Millisecond))
	benchStores[n] = path
	return path
}

func BenchmarkSearch(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		for _, mode := range []memory.Mode{memory.ModeSemantic, memory.ModeKeyword, memory.ModeHybrid} {
			b.Run(fmt.Sprintf("n=%dk/%s", n/1000, mode), func(b *testing.B) {
				path := benchStore(b, n)
				ctx := context.Background()
				s, err := Open(ctx, path)
				if err != nil {
					b.Fatal(err)
				}
				defer s.Close()
				r := rand.New(rand.NewPCG(1, 2))
				g := newTextGen(r)
				queries := make([]memory.Query, 64)
				for i := range queries {
					queries[i] = memory.Query{Text: g.words(3), Vector: randUnit(r, benchDims), Model: "bench/model", Mode: mode, K: 10}
				}
				if _, err := s.Search(ctx, queries[0]); err != nil { // loads the index
					b.Fatal(err)
				}
				b.ResetTimer()
				cpu0 := cpuTime()
				for i := 0; i < b.N; i++ {
					if _, err := s.Search(ctx, queries[i%len(queries)]); err != nil {
						b.Fatal(err)
					}
				}
				reportCPU(b, cpu0)
			})
		}
	}
}

// BenchmarkSearchFiltered: hybrid search restricted to one project of ten
// plus a tag, at 100k.
func BenchmarkSearchFiltered(b *testing.B) {
	path := benchStore(b, 100_000)
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	r := rand.New(rand.NewPCG(3, 4))
	g := newTextGen(r)
	f := memory.Filter{Projects: []string{"/proj/3", memory.GlobalProject}, TagsAny: []string{"t3", "t13"}}
	q := memory.Query{Text: g.words(3), Vector: randUnit(r, benchDims), Model: "bench/model", K: 10, Filter: f}
	if _, err := s.Search(ctx, q); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		if _, err := s.Search(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu0)
}

// reportCPU adds the process CPU time per operation: on a shared, loaded
// machine ns/op measures the queue as much as the code.
func reportCPU(b *testing.B, since time.Duration) {
	if d := cpuTime() - since; d > 0 {
		b.ReportMetric(float64(d.Microseconds())/1000/float64(b.N), "cpu-ms/op")
	}
}

// BenchmarkIndexLoad measures a process's first search at 100k (loading
// every vector) and the heap its index keeps afterwards.
func BenchmarkIndexLoad(b *testing.B) {
	// vectors: a process's first search by meaning (the CLI); warm: the
	// keyword index too (serve, WarmIndexes).
	b.Run("vectors", func(b *testing.B) { benchIndexLoad(b, false) })
	b.Run("warm", func(b *testing.B) { benchIndexLoad(b, true) })
}

func benchIndexLoad(b *testing.B, warm bool) {
	path := benchStore(b, 100_000)
	ctx := context.Background()
	var heapMB float64
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		s, err := Open(ctx, path)
		if err != nil {
			b.Fatal(err)
		}
		if warm {
			err = s.WarmIndexes(ctx)
		}
		idx, err2 := s.index(ctx)
		if err != nil || err2 != nil {
			b.Fatal(err, err2)
		}
		b.StopTimer()
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		heapMB = float64(after.HeapAlloc-before.HeapAlloc) / (1 << 20)
		if idx.Len() != 100_000 {
			b.Fatalf("index holds %d", idx.Len())
		}
		s.Close()
		b.StartTimer()
	}
	b.ReportMetric(heapMB, "heap-MB")
	reportCPU(b, cpu0)
}

// BenchmarkPut: one memory (384-d vector, FTS, tags) per write transaction.
func BenchmarkPut(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(b.TempDir(), "put.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	r := rand.New(rand.NewPCG(5, 6))
	g := newTextGen(r)
	ms := make([]memory.Memory, b.N)
	for i := range ms {
		ms[i] = benchMemory(r, g, i)
	}
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := range ms {
		if _, err := s.Put(ctx, &ms[i]); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu0)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "puts/s")
}

// BenchmarkPutParallel: Puts from 8 goroutines of one process.
func BenchmarkPutParallel(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(b.TempDir(), "put.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var mu sync.Mutex
	seed := uint64(0)
	b.SetParallelism(4) // × GOMAXPROCS goroutines
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		mu.Lock()
		seed++
		r := rand.New(rand.NewPCG(seed, 9))
		mu.Unlock()
		g := newTextGen(r)
		for i := 0; pb.Next(); i++ {
			m := benchMemory(r, g, int(seed)*1_000_000+i)
			if _, err := s.Put(ctx, &m); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "puts/s")
}
