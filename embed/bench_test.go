package embed

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mnemo-mcp/mnemo/embed/kernels"
	"github.com/mnemo-mcp/mnemo/internal/testmodels"
)

// Benchmarks run on the MiniLM-shaped model (exactly all-MiniLM-L6-v2's
// architecture). Run them, for both builds, with e.g.
//
//	CGO_ENABLED=0 go test -run '^$' -bench . -benchtime 5x ./embed/
//	CGO_ENABLED=0 go test -run '^$' -bench . -benchtime 5x ./embed/
//
// Results are in docs/engine-bench.md.

// benchWords are common words that are one word piece each, so a text of
// n-2 of them is n tokens with [CLS] and [SEP].
var benchWords = strings.Fields(`the people in our city often walk along the river after work and talk
about books music food travel family history science weather sports games money time water light
house school market garden road train music night morning summer winter friend teacher doctor
student country world story paper letter window door table chair computer phone program system`)

// textOfTokens returns a distinct text of exactly n tokens (special tokens
// included), varied by seed so the LRU cache cannot help.
func textOfTokens(tb testing.TB, e *Engine, n, seed int) string {
	tb.Helper()
	words := make([]string, 0, n)
	for i := 0; len(words) < n-2; i++ {
		words = append(words, benchWords[(seed*7+i*(seed%5+1))%len(benchWords)])
	}
	text := strings.Join(words, " ")
	got, err := e.CountTokens(text)
	if err != nil {
		tb.Fatal(err)
	}
	if got != n && n <= e.Info().MaxTokens {
		tb.Fatalf("text has %d tokens, want %d: %q", got, n, text)
	}
	return text
}

func benchEngine(b *testing.B, o Options) *Engine {
	b.Helper()
	o.Model = testmodels.Dir(b, testmodels.MiniLM)
	o.CacheEntries = -1 // measure the model, not the cache
	e := loadTest(b, o)
	if !o.NoWarmup && !o.ExactShapes {
		waitPrecompiled(b, e) // its compiles would land in the timed calls
	}
	return e
}

// profileOps times every graph op of the calls that follow when
// MNEMO_OP_PROFILE=1, and prints the table when the benchmark ends
// (docs/perf.md). Call it after the warm-up.
func profileOps(b *testing.B) {
	benchCPUStart = cpuSeconds()
	if os.Getenv("MNEMO_OP_PROFILE") != "1" {
		return
	}
	if err := kernels.StartProfile(); err != nil {
		b.Fatalf("op profile: %v", err)
	}
	b.Cleanup(func() { kernels.StopProfile(os.Stderr) })
}

// benchCPUStart is the process's CPU time when the timed calls began
// (profileOps, called just before them).
var benchCPUStart float64

func reportRate(b *testing.B, tokensPerCall int) {
	perCall := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(perCall*1000, "ms/call")
	b.ReportMetric(float64(tokensPerCall)/perCall, "tokens/s")
	b.ReportMetric(0, "ns/op")
	if rss := peakRSSMB(); rss > 0 {
		b.ReportMetric(rss, "peak-RSS-MB")
	}
	if cpu := cpuSeconds() - benchCPUStart; cpuSeconds() > 0 {
		b.ReportMetric(cpu*1000/float64(b.N), "cpu-ms/call")
	}
	helped, stood := kernels.CrewStats()
	b.ReportMetric(float64(helped)/float64(b.N), "helper-pieces/call")
	b.ReportMetric(float64(stood), "stand-downs")
}

// BenchmarkQuery is one 12-token query (the recall path).
func BenchmarkQuery(b *testing.B) {
	e := benchEngine(b, Options{})
	texts := make([]string, 64)
	for i := range texts {
		texts[i] = textOfTokens(b, e, 12, i)
	}
	ctx := context.Background()
	if _, err := e.EmbedQuery(ctx, "warm up"); err != nil {
		b.Fatal(err)
	}
	profileOps(b)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := e.EmbedQuery(ctx, texts[i%len(texts)]); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b, 12)
}

// BenchmarkSentences is 32 sentences of 40 tokens in one call (a batch of
// memories being stored).
func BenchmarkSentences(b *testing.B) {
	benchBatch(b, 32, 40)
}

// BenchmarkDocuments is 8 documents of 256 tokens (the truncation limit).
func BenchmarkDocuments(b *testing.B) {
	benchBatch(b, 8, 256)
}

func benchBatch(b *testing.B, n, tokens int) {
	e := benchEngine(b, Options{})
	ctx := context.Background()
	// Warm the shape outside the timer; later calls use new texts of the same shape.
	if _, err := e.Embed(ctx, batchTexts(b, e, n, tokens, 1000)); err != nil {
		b.Fatal(err)
	}
	calls := make([][]string, 4)
	for i := range calls {
		calls[i] = batchTexts(b, e, n, tokens, i*n)
	}
	profileOps(b)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := e.Embed(ctx, calls[i%len(calls)]); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b, n*tokens)
}

func batchTexts(b *testing.B, e *Engine, n, tokens, seed int) []string {
	t := make([]string, n)
	for i := range t {
		t[i] = textOfTokens(b, e, tokens, seed+i)
	}
	return t
}

// BenchmarkLoad is the model load (parse ONNX, build the session, hash the
// file), without and with the warm-up pass that compiles the short-query
// graph.
func BenchmarkLoad(b *testing.B) {
	dir := testmodels.Dir(b, testmodels.MiniLM)
	// One untimed load first: the page cache and the backend's one-time
	// set-up should not count against whichever variant runs first.
	if e, err := Load(context.Background(), Options{Model: dir, NoWarmup: true}); err == nil {
		_ = e.Close()
	}
	for _, warm := range []bool{false, true} {
		b.Run(fmt.Sprintf("warmup=%v", warm), func(b *testing.B) {
			for b.Loop() {
				e, err := Load(context.Background(), Options{Model: dir, NoWarmup: !warm})
				if err != nil {
					b.Fatal(err)
				}
				_ = e.Close()
			}
			b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N), "ms/load")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// BenchmarkNewShape measures what a stream of differently sized queries
// costs. Each iteration embeds one query whose length (10, 13, 16, …
// tokens) the engine has not seen before. With exact shapes every
// iteration compiles a new graph; with buckets (8, 12, 16 … 32, 40, 48 …) the lengths
// fall into a few graphs, most already compiled. "same-shape" repeats one
// length: the cost of the forward pass alone.
func BenchmarkNewShape(b *testing.B) {
	for _, c := range []struct {
		name  string
		exact bool
		same  bool
	}{{"exact", true, false}, {"buckets", false, false}, {"same-shape", false, true}} {
		b.Run(c.name, func(b *testing.B) {
			e := benchEngine(b, Options{ExactShapes: c.exact, NoWarmup: true})
			ctx := context.Background()
			texts := make([]string, 200)
			for i := range texts {
				n := 10 + 3*i%240
				if c.same {
					n = 12
				}
				texts[i] = textOfTokens(b, e, n, i)
			}
			if c.same {
				if _, err := e.Embed(ctx, texts[len(texts)-1:]); err != nil {
					b.Fatal(err)
				}
			}
			var worst time.Duration
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				t := time.Now()
				if _, err := e.Embed(ctx, []string{texts[i%len(texts)]}); err != nil {
					b.Fatal(err)
				}
				worst = max(worst, time.Since(t))
			}
			b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N), "ms/query")
			b.ReportMetric(float64(worst.Microseconds())/1000, "worst-ms")
			b.ReportMetric(0, "ns/op")
			if rss := peakRSSMB(); rss > 0 {
				b.ReportMetric(rss, "peak-RSS-MB")
			}
		})
	}
}

// BenchmarkKeepAliveRSS measures what a keep-alive unload gives back: the
// resident set (VmRSS, Linux) with the model loaded after a query, a
// sentence batch and a document batch, then after the idle unload, then
// after the reload the next query triggers.
func BenchmarkKeepAliveRSS(b *testing.B) {
	for b.Loop() {
		e := benchEngine(b, Options{KeepAlive: 500 * time.Millisecond})
		ctx := context.Background()
		for _, c := range [][2]int{{1, 12}, {32, 40}, {8, 256}} {
			if _, err := e.Embed(ctx, batchTexts(b, e, c[0], c[1], 7)); err != nil {
				b.Fatal(err)
			}
		}
		loaded := currentRSSMB()
		for e.Loaded() {
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(100 * time.Millisecond)
		unloaded := currentRSSMB()
		t := time.Now()
		if _, err := e.EmbedQuery(ctx, "reload the model please"); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(time.Since(t).Milliseconds()), "reload-ms")
		b.ReportMetric(loaded, "RSS-loaded-MB")
		b.ReportMetric(unloaded, "RSS-unloaded-MB")
		b.ReportMetric(currentRSSMB(), "RSS-reloaded-MB")
		b.ReportMetric(0, "ns/op")
		_ = e.Close()
	}
}

// BenchmarkQueryLengths: one query of 8 to 32 tokens (the stream
// scenario's range), per length, with the share of the products' pieces
// the crew's helpers ran (kernels.CrewStats).
func BenchmarkQueryLengths(b *testing.B) {
	e := benchEngine(b, Options{})
	ctx := context.Background()
	for _, n := range []int{8, 12, 16, 20, 24, 28, 32} {
		texts := make([]string, 64)
		for i := range texts {
			texts[i] = textOfTokens(b, e, n, i)
		}
		if _, err := e.EmbedQuery(ctx, texts[63]); err != nil { // compile the shape
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("tokens=%d", n), func(b *testing.B) {
			profileOps(b)
			helped, _ := kernels.CrewStats()
			for i := 0; b.Loop(); i++ {
				if _, err := e.EmbedQuery(ctx, texts[i%63]); err != nil {
					b.Fatal(err)
				}
			}
			after, stood := kernels.CrewStats()
			b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N), "ms/call")
			b.ReportMetric(float64(after-helped)/float64(b.N), "helper-pieces/call")
			b.ReportMetric(float64(stood), "stand-downs")
			b.ReportMetric(0, "ns/op")
		})
	}
}
