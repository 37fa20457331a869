package sqlite

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mnemo-mcp/mnemo/pkg/memory"
)

// BenchmarkKeyword measures the bounded keyword search (keywordRank) at
// 100k memories and its quality against FTS5's exact bm25 ranking
// (keywordExact, run outside the timer) on two corpora:
//   - zipf: the store of BenchmarkSearch (12 words of a Zipf-distributed
//     5,000-word vocabulary), queries of 3 words drawn the same way;
//   - flat: e2e/bench.mjs's shape: 12 words drawn uniformly from 48, so
//     that every word is in ~22% of the memories, and queries of its words.
//
// Metrics: recall@10 and recall@120 (share of FTS5's top 10 / top 120, 120
// being a hybrid recall's keyword depth, that the bounded search also
// returns), score@10 (its top 10's summed bm25 over FTS5's top 10's) and
// exact (share of queries whose ranking is provably exact).
func BenchmarkKeyword(b *testing.B) {
	for _, corpus := range []string{"zipf", "flat"} {
		b.Run(corpus, func(b *testing.B) {
			s, queries := openKwCorpus(b, corpus)
			ctx := context.Background()
			var r10, r120, ratio, exact float64
			for _, q := range queries {
				want, err := s.keywordExact(ctx, FTSQuery(q), memory.Filter{}, 120)
				if err != nil {
					b.Fatal(err)
				}
				got, ex, err := s.keywordRanked(ctx, q, memory.Filter{}, 120)
				if err != nil {
					b.Fatal(err)
				}
				r10 += recallAt(want, got, 10)
				r120 += recallAt(want, got, 120)
				ratio += scoreRatio(want, got, 10)
				if ex {
					exact++
				}
			}
			n := float64(len(queries))
			b.ResetTimer()
			cpu0 := cpuTime()
			for i := 0; i < b.N; i++ {
				if _, err := s.keywordRank(ctx, queries[i%len(queries)], memory.Filter{}, 120); err != nil {
					b.Fatal(err)
				}
			}
			reportCPU(b, cpu0)
			b.ReportMetric(r10/n, "recall@10")
			b.ReportMetric(r120/n, "recall@120")
			b.ReportMetric(ratio/n, "score@10")
			b.ReportMetric(exact/n, "exact")
		})
	}
}

// BenchmarkKeywordExact is FTS5's own ranking of the same queries (the
// path every keyword search took before the bounded one).
func BenchmarkKeywordExact(b *testing.B) {
	for _, corpus := range []string{"zipf", "flat"} {
		b.Run(corpus, func(b *testing.B) {
			s, queries := openKwCorpus(b, corpus)
			ctx := context.Background()
			b.ResetTimer()
			cpu0 := cpuTime()
			for i := 0; i < b.N; i++ {
				if _, err := s.keywordExact(ctx, FTSQuery(queries[i%len(queries)]), memory.Filter{}, 120); err != nil {
					b.Fatal(err)
				}
			}
			reportCPU(b, cpu0)
		})
	}
}

var flatWords = strings.Fields(`deploy build database cache index query latency server client token model vector memory
project config release branch commit review test bench kernel thread process signal socket network disk backup restore
schema migration user preference editor terminal shell script python golang rust docker cluster node pod secret key`)

// openKwCorpus opens kwCorpus's store, closed when b ends.
func openKwCorpus(b *testing.B, corpus string) (*Store, []string) {
	path, queries := kwCorpus(b, corpus)
	s, err := Open(context.Background(), path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s, queries
}

// kwCorpus returns the 100k-memory store of a corpus ("zipf": the search
// benchmarks' Zipf text; "flat": e2e/bench.mjs's 48 equally common
// words) and 40 queries of its common words.
func kwCorpus(b *testing.B, corpus string) (path string, queries []string) {
	r := rand.New(rand.NewPCG(11, 12))
	if corpus == "zipf" {
		g := newTextGen(r)
		for range 40 {
			queries = append(queries, g.words(3))
		}
		return benchStore(b, 100_000), queries
	}
	for range 40 {
		queries = append(queries, flatSentence(r)[:60])
	}
	return flatStore(b, 100_000), queries
}

// flatSentence has e2e/bench.mjs's sentence shape (without its note number).
func flatSentence(r *rand.Rand) string {
	w := make([]string, 12)
	for i := range w {
		w[i] = flatWords[r.IntN(len(flatWords))]
	}
	return fmt.Sprintf(" the %s %s uses %s %s because %s %s %s; remember %s %s for %s %s %s.", w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7], w[8], w[9], w[10], w[11])
}

// flatStore is benchStore for the flat corpus (no vectors).
func flatStore(b *testing.B, n int) string {
	benchMu.Lock()
	defer benchMu.Unlock()
	dir := os.Getenv("MNEMO_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	path := filepath.Join(dir, fmt.Sprintf("flat%d.db", n))
	if _, err := os.Stat(path); err == nil {
		return path
	}
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	r := rand.New(rand.NewPCG(uint64(n), 8))
	fill(b, s, n, func(i int) memory.Memory {
		return memory.Memory{Content: fmt.Sprintf("Note %d:%s", i, flatSentence(r)), Project: "bench", Source: memory.SourceCLI}
	})
	return path
}

func recallAt(want, got []memory.Ranked, k int) float64 {
	in := map[string]bool{}
	for i := 0; i < k && i < len(want); i++ {
		in[want[i].ID] = true
	}
	if len(in) == 0 {
		return 1
	}
	o := 0
	for i := 0; i < k && i < len(got); i++ {
		if in[got[i].ID] {
			o++
		}
	}
	return float64(o) / float64(len(in))
}

// scoreRatio: got's top k summed bm25 over want's (1 = as good).
func scoreRatio(want, got []memory.Ranked, k int) float64 {
	var w, g float64
	for i := 0; i < k && i < len(want); i++ {
		w += want[i].Score
	}
	for i := 0; i < k && i < len(got); i++ {
		g += got[i].Score
	}
	if w == 0 {
		return 1
	}
	return g / w
}
