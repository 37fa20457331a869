package postgres

import (
	"context"
	"fmt"
	"math"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgvector/pgvector-go"

	"github.com/mnemo-mcp/mnemo/pkg/memory"
)

// Benchmarks against MNEMO_TEST_POSTGRES (skipped without it):
//
//	eval "$(bash scripts/ci-postgres.sh)"
//	go test -run '^$' -bench . -benchtime 200x -timeout 30m ./pkg/postgres/
//
// The search benchmarks use a data set of MNEMO_BENCH_PG_N (default 100000)
// memories with 384-dimensional unit vectors, kept in a schema named after
// its size and kind so that later runs skip seeding (drop it with
// DROP SCHEMA mnemo_bench_… CASCADE). Two kinds:
//   - random: uniformly random directions, the hardest case for HNSW (no
//     structure to exploit) and not what sentence embeddings look like;
//   - clustered: 1,000 random centres with points scattered around them
//     (cosine ≈ 0.7 to their centre), closer to real embeddings of text
//     about a limited set of topics.
//
// Queries are fresh points drawn from the same distribution.

const benchDims = 384

func benchN() int {
	if v, err := strconv.Atoi(os.Getenv("MNEMO_BENCH_PG_N")); err == nil && v > 0 {
		return v
	}
	return 100_000
}

// benchData generates the vectors of one data set kind deterministically.
type benchData struct {
	kind    string
	rng     *testRand
	centres [][]float32
}

func newBenchData(kind string, seed uint64) *benchData {
	d := &benchData{kind: kind, rng: newRand(seed)}
	if kind == "clustered" {
		c := newRand(42) // the same centres for data and queries
		for range 1000 {
			d.centres = append(d.centres, c.unitVector(benchDims))
		}
	}
	return d
}

func (d *benchData) next() []float32 {
	if d.kind != "clustered" {
		return d.rng.unitVector(benchDims)
	}
	c := d.centres[d.rng.r.IntN(len(d.centres))]
	noise := d.rng.unitVector(benchDims)
	v := make([]float32, benchDims)
	var n float64
	for i := range v {
		v[i] = c[i] + noise[i] // equal parts centre and random direction: cosine ≈ 0.71
		n += float64(v[i]) * float64(v[i])
	}
	n = math.Sqrt(n)
	for i := range v {
		v[i] = float32(float64(v[i]) / n)
	}
	return v
}

const benchModel = "bench/random-384"

// benchStore opens (seeding on first use) the data set of kind with n
// memories and returns an HNSW store and an exact store on it.
func benchStore(b *testing.B, kind string, n int, opts ...Option) (hnsw, exact *Store) {
	b.Helper()
	base := os.Getenv("MNEMO_TEST_POSTGRES")
	if base == "" {
		b.Skip("MNEMO_TEST_POSTGRES unset")
	}
	ctx := context.Background()
	schema := fmt.Sprintf("mnemo_bench_%s_%d", kind, n)
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS vector SCHEMA public;
		CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public; CREATE SCHEMA IF NOT EXISTS `+schema); err != nil {
		b.Fatal(err)
	}
	conn.Close(ctx)
	u := withParam(b, base, "search_path", schema+",public")
	hnsw = openURL(b, u, opts...)
	exact = openURL(b, u, append(opts, WithExactSearch(true))...)
	var have int
	if err := hnsw.pool.QueryRow(ctx, `SELECT count(*) FROM memories`).Scan(&have); err != nil {
		b.Fatal(err)
	}
	if have == n {
		return hnsw, exact
	}
	if have != 0 {
		b.Fatalf("schema %s holds %d memories, not %d: drop it", schema, have, n)
	}
	start := time.Now()
	data := newBenchData(kind, 7)
	words := func(i int) string { // a few words from a 5,000-word vocabulary, for the keyword side
		r := data.rng.r
		return fmt.Sprintf("note %d about w%d w%d w%d and w%d", i, r.IntN(5000), r.IntN(5000), r.IntN(5000), r.IntN(5000))
	}
	created := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	rows := make([][]any, 0, n)
	for i := range n {
		content := words(i)
		t := created.Add(time.Duration(i) * time.Second)
		rows = append(rows, []any{memory.NewID(t), content, memory.ContentHash(content), fmt.Sprintf("project-%d", i%10),
			[]string{fmt.Sprintf("tag%d", i%20)}, "{}", "import", "bench@host", t, t, t,
			pgvector.NewVector(data.next()), benchModel, benchDims})
	}
	if _, err := hnsw.pool.CopyFrom(ctx, pgx.Identifier{"memories"}, []string{"id", "content", "content_hash", "project", "tags",
		"metadata", "source", "author", "created_at", "updated_at", "accessed_at", "embedding", "model", "dims"},
		pgx.CopyFromRows(rows)); err != nil {
		b.Fatal(err)
	}
	copied := time.Since(start)
	if err := hnsw.createIndex(ctx, benchModel, benchDims); err != nil { // builds over all rows
		b.Fatal(err)
	}
	if _, err := hnsw.pool.Exec(ctx, `VACUUM ANALYZE memories`); err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %s: %d memories in %s (COPY %s, HNSW build + analyze %s)", schema, n,
		time.Since(start).Round(time.Second), copied.Round(time.Second), (time.Since(start) - copied).Round(time.Second))
	return hnsw, exact
}

// benchText is the keyword side of the hybrid benchmark: three words of the
// vocabulary, each in about 0.08% of the memories.
const benchText = "w17 w4242 w999"

func benchQueries(kind string, n int) [][]float32 {
	d := newBenchData(kind, 99)
	out := make([][]float32, n)
	for i := range out {
		out[i] = d.next()
	}
	return out
}

// BenchmarkSearch measures one semantic search (K=10) and one hybrid search
// (K=10, semantic depth 100 fused with full text) at benchN memories.
func BenchmarkSearch(b *testing.B) {
	for _, kind := range []string{"random", "clustered"} {
		n := benchN()
		for _, mode := range []memory.Mode{memory.ModeSemantic, memory.ModeHybrid} {
			for _, index := range []string{"hnsw", "exact"} {
				b.Run(fmt.Sprintf("%s/n=%d/%s/%s", kind, n, mode, index), func(b *testing.B) {
					hnsw, exact := benchStore(b, kind, n)
					s := hnsw
					if index == "exact" {
						s = exact
					}
					qs := benchQueries(kind, 200)
					ctx := context.Background()
					query := func(i int) {
						q := memory.Query{Text: benchText, Vector: qs[i%len(qs)], Model: benchModel, Mode: mode, K: 10}
						if hits, err := s.Search(ctx, q); err != nil || len(hits) != 10 {
							b.Fatalf("search: %d hits, %v", len(hits), err)
						}
					}
					benchWarm(b, len(qs), index == "exact", query)
					for i := 0; b.Loop(); i++ {
						query(i)
					}
				})
			}
		}
	}
}

var benchTruth = map[string][][]memory.Hit{}

// benchWarm runs the queries once before the timer starts, so a benchmark
// measures a server whose working set is in memory (as on a steady server;
// the first query after a restart or after an exact scan evicted the index
// can take hundreds of milliseconds). An exact scan reads the whole table
// each time, so a few queries warm it.
func benchWarm(b *testing.B, n int, exact bool, query func(i int)) {
	if exact {
		n = min(n, 3)
	}
	for i := range n {
		query(i)
	}
	b.ResetTimer()
}

// BenchmarkRecall reports recall@10 of the HNSW semantic ranking against the
// exact one (the same 200 queries each time) for several ef_search floors;
// ns/op is the HNSW search.
func BenchmarkRecall(b *testing.B) {
	for _, kind := range []string{"random", "clustered"} {
		n := benchN()
		for _, ef := range []int{40, 100, 200, 400} {
			b.Run(fmt.Sprintf("%s/n=%d/ef_search=%d", kind, n, ef), func(b *testing.B) {
				hnsw, exact := benchStore(b, kind, n, WithEfSearch(ef))
				ctx := context.Background()
				qs := benchQueries(kind, 200)
				truth := benchTruth[kind]
				if truth == nil { // exact top 10 of each query, computed once per kind
					truth = make([][]memory.Hit, len(qs))
					for i, v := range qs {
						var err error
						if truth[i], err = exact.Search(ctx, memory.Query{Vector: v, Model: benchModel, Mode: memory.ModeSemantic, K: 10}); err != nil {
							b.Fatal(err)
						}
					}
					benchTruth[kind] = truth
				}
				var found, total int
				query := func(k int) {
					got, err := hnsw.Search(ctx, memory.Query{Vector: qs[k], Model: benchModel, Mode: memory.ModeSemantic, K: 10})
					if err != nil {
						b.Fatal(err)
					}
					found += overlap(truth[k], got)
					total += len(truth[k])
				}
				benchWarm(b, len(qs), false, query)
				found, total = 0, 0
				for i := 0; b.Loop(); i++ {
					query(i % len(qs))
				}
				b.ReportMetric(float64(found)/float64(total), "recall@10")
			})
		}
	}
}

// BenchmarkPut measures write throughput through Put (384-d vector, HNSW
// index maintained, one transaction per memory, synchronous commit) from one
// goroutine and from DefaultMaxConns goroutines sharing the pool.
func BenchmarkPut(b *testing.B) {
	for _, par := range []int{1, DefaultMaxConns} {
		b.Run(fmt.Sprintf("writers=%d", par), func(b *testing.B) {
			s := openFresh(b)
			data := newBenchData("random", uint64(par))
			vecs := make([][]float32, 4096)
			for i := range vecs {
				vecs[i] = data.next()
			}
			ctx := context.Background()
			// Create the index first so every measured Put maintains it.
			warm := memory.Memory{Content: "warm-up", Project: "bench", Source: memory.SourceCLI, Vector: vecs[0], Model: benchModel}
			if _, err := s.Put(ctx, &warm); err != nil {
				b.Fatal(err)
			}
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for range par {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						i := next.Add(1) - 1
						if i >= int64(b.N) {
							return
						}
						m := memory.Memory{Content: fmt.Sprintf("bench put %d", i), Project: "bench", Source: memory.SourceCLI,
							Vector: vecs[i%int64(len(vecs))], Model: benchModel}
						if _, err := s.Put(ctx, &m); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "puts/s")
		})
	}
}
