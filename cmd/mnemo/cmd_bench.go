package main

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/mnemo-mcp/mnemo/embed"
	"github.com/mnemo-mcp/mnemo/internal/app"
	"github.com/mnemo-mcp/mnemo/pkg/config"
	"github.com/mnemo-mcp/mnemo/pkg/logging"
)

func init() {
	register(&command{
		name:    "bench",
		summary: "measure the embedding engine on this machine (q12, s40, l256, stream scenarios)",
		usage:   "[--model M] [--json]",
		examples: []string{
			"mnemo bench                       # the four scenarios with the configured model",
			"mnemo bench --json > bench.json    # the same, for scripts",
			"MNEMO_BENCH_SCALE=0.2 mnemo bench   # fewer timed calls, a quick look",
		},
		run: runBench,
	})
}

// benchScenario is one workload: calls of batch texts of tokens tokens each
// (special tokens included). stream varies the length per call instead.
type benchScenario struct {
	name   string
	batch  int
	tokens int
	calls  int
	stream bool
}

// benchScenarios are the workloads of issue 6, the same ones bench/ runs
// on onnxruntime-node: one short query, a batch of sentences, a batch of
// documents at the truncation limit, and a stream of short queries of
// varying length (the recall path of a live session).
func benchScenarios(scale float64) []benchScenario {
	n := func(calls int) int { return max(1, int(float64(calls)*scale+0.5)) }
	return []benchScenario{
		{name: "q12", batch: 1, tokens: 12, calls: n(30)},
		{name: "s40", batch: 32, tokens: 40, calls: n(5)},
		{name: "l256", batch: 8, tokens: 256, calls: n(5)},
		{name: "stream", batch: 1, calls: 50, stream: true},
	}
}

// streamTokens is the length of the i-th stream query: 5…30 tokens, spread
// so neighbouring queries differ.
func streamTokens(i int) int { return 5 + (i*7)%26 }

// benchResult is one `bench --json` line (bench/ prints the same fields).
type benchResult struct {
	Engine     string  `json:"engine"`
	Scenario   string  `json:"scenario"`
	Batch      int     `json:"batch"`
	Tokens     int     `json:"tokens"` // per text; 0 for stream (5–30)
	Calls      int     `json:"calls"`
	MedianMS   float64 `json:"median_ms"`
	P90MS      float64 `json:"p90_ms"`
	TokensPerS float64 `json:"tokens_per_s"`
	PeakRSSMiB float64 `json:"peak_rss_mib,omitempty"`
}

func runBench(ctx context.Context, env *runEnv, args []string) error {
	c := commands["bench"]
	fs := newFlagSet(env, c)
	model := fs.String("model", "", "model folder, .onnx file, or Hugging Face repo id (default: $MNEMO_MODEL, else "+config.DefaultModel+")")
	asJSON := fs.Bool("json", false, `print one JSON object per scenario and line: {"scenario", "median_ms", "p90_ms", "tokens_per_s", "peak_rss_mib", …}`)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErr(env, "bench takes no arguments")
	}
	cfg, moved, err := app.LoadConfig(ctx, 0) // it logs in the data dir: settle it first
	if err != nil {
		return err
	}
	// MNEMO_BENCH_SCALE shrinks (or grows) the number of timed calls; the
	// tests run with a small value. The stream is always 50 queries.
	scale := cfg.BenchScale
	if *model != "" {
		cfg.Model = *model
	}
	log, closeLog := logging.New(logging.Options{Level: cfg.LogLevel, Path: cfg.LogPath(), Process: "bench"})
	defer closeLog()
	moved.Log(log)

	// The cache is off: every call must run the model.
	eo := app.EngineOptions(cfg, log)
	eo.Progress, eo.CacheEntries = env.stderr, -1
	eng, err := embed.Load(ctx, eo)
	if err != nil {
		if ctx.Err() == nil && app.IsUnreachable(err) {
			return errors.New(app.ModelHelp(cfg, err))
		}
		return err
	}
	defer eng.Close()
	info := eng.Info()
	if !*asJSON {
		fmt.Fprintf(env.stdout, "model %s: %d dims, max %d tokens, loaded in %s; %s, GOMAXPROCS %d, peak RSS after load %s\n",
			info.ModelID, info.Dims, info.MaxTokens, info.LoadTime.Round(10*time.Millisecond),
			runtime.Version(), runtime.GOMAXPROCS(0), fmtMiB(peakRSSMiB()))
		fmt.Fprintf(env.stdout, "kernels: %s\n", info.Kernels)
		fmt.Fprintf(env.stdout, "%-8s %9s %10s %10s %12s %10s\n", "scenario", "shape", "median ms", "p90 ms", "tokens/s", "peak RSS")
	}
	tb := &benchTexts{eng: eng}
	scenarios := benchScenarios(scale)
	status := newStatusLine(env.stderr)
	status.delay = 0 // each scenario takes seconds: show it from the start
	for i, sc := range scenarios {
		if err := ctx.Err(); err != nil {
			return err
		}
		status.set("bench: scenario %s (%d of %d), %d calls…", sc.name, i+1, len(scenarios), sc.calls)
		r, err := runScenario(ctx, eng, tb, sc)
		status.clear()
		if err != nil {
			return fmt.Errorf("scenario %s: %w", sc.name, err)
		}
		if *asJSON {
			if err := writeJSONLine(env.stdout, r); err != nil {
				return err
			}
			continue
		}
		shape := fmt.Sprintf("%d×%d", r.Batch, r.Tokens)
		if sc.stream {
			shape = "50×(5–30)"
		}
		fmt.Fprintf(env.stdout, "%-8s %9s %10.1f %10.1f %12.0f %10s\n", r.Scenario, shape, r.MedianMS, r.P90MS, r.TokensPerS, fmtMiB(r.PeakRSSMiB))
	}
	return nil
}

func runScenario(ctx context.Context, eng *embed.Engine, tb *benchTexts, sc benchScenario) (benchResult, error) {
	r := benchResult{Engine: "mnemo", Scenario: sc.name, Batch: sc.batch, Tokens: sc.tokens, Calls: sc.calls}
	// Every call gets texts no other call used (the model would not notice,
	// but a cache would), built before the clock starts.
	calls := make([][]string, sc.calls)
	tokens := make([]int, sc.calls) // real tokens per call
	for i := range calls {
		n := sc.tokens
		if sc.stream {
			n = streamTokens(i)
		}
		calls[i] = make([]string, sc.batch)
		for j := range calls[i] {
			t, err := tb.text(n)
			if err != nil {
				return r, err
			}
			calls[i][j] = t
		}
		tokens[i] = n * sc.batch
	}
	// Warm-up: one untimed call at each shape the timed calls use, so graph
	// compilation is not measured.
	warm := map[int]bool{}
	for i := range calls {
		n := tokens[i]
		if warm[n] {
			continue
		}
		warm[n] = true
		w := make([]string, sc.batch)
		for j := range w {
			t, err := tb.text(n / sc.batch)
			if err != nil {
				return r, err
			}
			w[j] = t
		}
		if _, err := eng.Embed(ctx, w); err != nil {
			return r, err
		}
	}
	ms := make([]float64, len(calls))
	var total time.Duration
	var totalTokens int
	for i, texts := range calls {
		t := time.Now()
		if _, err := eng.Embed(ctx, texts); err != nil {
			return r, err
		}
		d := time.Since(t)
		ms[i] = float64(d.Microseconds()) / 1000
		total += d
		totalTokens += tokens[i]
	}
	r.MedianMS, r.P90MS = round2(percentile(ms, 0.5)), round2(percentile(ms, 0.9))
	if sc.stream {
		// Throughput over the whole stream: lengths vary per call.
		r.TokensPerS = float64(int(float64(totalTokens) / total.Seconds()))
	} else if r.MedianMS > 0 {
		r.TokensPerS = float64(int(float64(sc.batch*sc.tokens) / (r.MedianMS / 1000)))
	}
	r.PeakRSSMiB = peakRSSMiB()
	return r, nil
}

// percentile of xs by nearest rank (xs is sorted in place).
func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	if p == 0.5 && len(xs)%2 == 0 {
		return (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2
	}
	i := int(p*float64(len(xs))+0.999999) - 1
	return xs[min(max(i, 0), len(xs)-1)]
}

func round2(x float64) float64 { return float64(int(x*100+0.5)) / 100 }

// benchWordList holds common English words, most of them one word piece in
// BERT-style vocabularies. bench/bench.mjs uses the same list and the same
// construction, so both harnesses embed the same texts.
var benchWordList = strings.Fields(`the people in our city often walk along the river after work and talk
about books music food travel family history science weather sports games money time water light
house school market garden road train night morning summer winter friend teacher doctor
student country world story paper letter window door table chair computer phone program system`)

// benchTexts builds distinct texts of exact token counts with the model's
// own tokenizer.
type benchTexts struct {
	eng  *embed.Engine
	seed int
}

// text returns a new text of exactly n tokens, special tokens included.
// Words are added while they fit; a word that would overshoot (several word
// pieces) is skipped, so any WordPiece/BPE vocabulary converges.
func (b *benchTexts) text(n int) (string, error) {
	b.seed++
	s := b.seed
	var words []string
	cur, err := b.eng.CountTokens("x")
	if err != nil {
		return "", err
	}
	base := cur - 1 // special tokens
	if n <= base {
		return "", fmt.Errorf("cannot build a %d-token text: the model adds %d special tokens", n, base)
	}
	word := func(i int) string { return benchWordList[(s*7+i*(s%5+1))%len(benchWordList)] }
	// Fast path: every word one piece.
	for i := 0; i < n-base; i++ {
		words = append(words, word(i))
	}
	if c, err := b.eng.CountTokens(strings.Join(words, " ")); err != nil || c == n {
		return strings.Join(words, " "), err
	}
	words, cur = words[:0], base
	for i, misses := 0, 0; cur < n; i++ {
		w := word(i)
		cand := strings.Join(append(words, w), " ")
		c, err := b.eng.CountTokens(cand)
		if err != nil {
			return "", err
		}
		if c > n {
			if misses++; misses > 4*len(benchWordList) {
				return "", fmt.Errorf("cannot build a text of exactly %d tokens with this tokenizer", n)
			}
			continue
		}
		words, cur = append(words, w), c
	}
	return strings.Join(words, " "), nil
}

func fmtMiB(m float64) string {
	if m <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.0f MiB", m)
}
