package embed

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mnemo-mcp/mnemo/internal/testmodels"
)

// loadTest loads a shared test model, closing it when the test ends.
func loadTest(t testing.TB, o Options) *Engine {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	e, err := Load(ctx, o)
	if err != nil {
		t.Fatalf("load %s: %v", o.Model, err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

func cosine(a, b []float32) float64 {
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	return dot / math.Sqrt(na*nb)
}

func maxAbsDiff(a, b []float32) float64 {
	var m float64
	for i := range a {
		m = max(m, math.Abs(float64(a[i])-float64(b[i])))
	}
	return m
}

// checkClose fails unless got matches want to the golden tolerance.
func checkClose(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d dims, want %d", what, len(got), len(want))
	}
	if c, d := cosine(got, want), maxAbsDiff(got, want); c < 0.9999 || d > 1e-4 {
		t.Errorf("%s: cosine %.7f (want ≥ 0.9999), max abs diff %.2e (want ≤ 1e-4)", what, c, d)
	}
}

func TestGoldenParity(t *testing.T) {
	for _, name := range []string{testmodels.BertTiny, testmodels.MiniLM} {
		t.Run(name, func(t *testing.T) {
			dir := testmodels.Dir(t, name)
			g := testmodels.LoadGolden(t, name)
			e := loadTest(t, Options{Model: dir, CacheEntries: -1})
			ctx := context.Background()
			info := e.Info()
			if info.Dims != g.Dim || info.MaxTokens != g.MaxLength || info.SHA256 != g.ModelSHA256 || info.Pooling != "mean" {
				t.Fatalf("info %+v; golden dim %d max_length %d sha %s", info, g.Dim, g.MaxLength, g.ModelSHA256)
			}
			for i, s := range g.Sentences {
				ids, err := e.Tokenize(ctx, s)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(ids, g.TokenIDs[i]) {
					t.Errorf("sentence %d %q: token ids\n got %v\nwant %v", i, s, ids, g.TokenIDs[i])
				}
			}
			// One at a time: every text runs alone, padded only to its
			// sequence bucket.
			for i, s := range g.Sentences {
				v, err := e.Embed(ctx, []string{s})
				if err != nil {
					t.Fatal(err)
				}
				checkClose(t, fmt.Sprintf("single %d %q", i, s), v[0], g.Embeddings[i])
			}
			// All together: sorted by length into sub-batches of bucket
			// sizes (16+8+4+2 for 30), each padded to its longest text.
			vs, err := e.Embed(ctx, g.Sentences)
			if err != nil {
				t.Fatal(err)
			}
			for i := range g.Sentences {
				checkClose(t, fmt.Sprintf("batch %d %q", i, g.Sentences[i]), vs[i], g.Embeddings[i])
			}
		})
	}
}

// TestPaddedBatchesMixedLengths forces sequence padding well past each
// text's length (one long text in every sub-batch) and odd batch sizes, and
// still wants the golden vectors: padding must be masked out.
func TestPaddedBatchesMixedLengths(t *testing.T) {
	dir := testmodels.Dir(t, testmodels.BertTiny)
	g := testmodels.LoadGolden(t, testmodels.BertTiny)
	long := strings.Repeat("the committee reviewed every clause of the agreement again ", 12)
	for _, maxBatch := range []int{3, 7, 32} {
		e := loadTest(t, Options{Model: dir, CacheEntries: -1, MaxBatch: maxBatch, NoWarmup: true})
		ref, err := e.Embed(context.Background(), []string{long})
		if err != nil {
			t.Fatal(err)
		}
		texts := append([]string{}, g.Sentences...)
		texts = append(texts, long)
		vs, err := e.Embed(context.Background(), texts)
		if err != nil {
			t.Fatal(err)
		}
		for i := range g.Sentences {
			checkClose(t, fmt.Sprintf("maxBatch %d, text %d", maxBatch, i), vs[i], g.Embeddings[i])
		}
		checkClose(t, "long text", vs[len(vs)-1], ref[0])
	}
	// And an explicit bucket-padded forward: a short text in one pass with
	// a text near the top bucket.
	e := loadTest(t, Options{Model: dir, CacheEntries: -1, NoWarmup: true})
	rt, _ := e.acquire(context.Background())
	defer e.mu.RUnlock()
	short := rt.tokenize(g.Sentences[28]) // "cat"
	longIDs := rt.tokenize(long)
	vs, err := rt.forward(context.Background(), [][]int{longIDs, short})
	if err != nil {
		t.Fatal(err)
	}
	checkClose(t, "cat padded to "+fmt.Sprint(rt.seqBucket(len(longIDs))), vs[1], g.Embeddings[28])
}

func TestLongInputTruncated(t *testing.T) {
	e := loadTest(t, Options{Model: testmodels.Dir(t, testmodels.BertTiny), CacheEntries: -1})
	ctx := context.Background()
	var b strings.Builder
	words := strings.Fields("memory retrieval works when the vectors agree about meaning across many different sentences and topics")
	for i := 0; b.Len() < 7500; i++ {
		b.WriteString(words[i%len(words)])
		b.WriteString(" ")
	}
	text := b.String()
	n, err := e.CountTokens(text)
	if err != nil {
		t.Fatal(err)
	}
	if n < 1000 {
		t.Fatalf("test text has %d tokens, want ≥ 1000", n)
	}
	ids, err := e.Tokenize(ctx, text)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 256 || ids[0] != 101 || ids[255] != 102 {
		t.Fatalf("truncated to %d tokens, first %d last %d; want 256, [CLS]=101 … [SEP]=102", len(ids), ids[0], ids[len(ids)-1])
	}
	v, err := e.Embed(ctx, []string{text})
	if err != nil {
		t.Fatalf("embedding a %d-token text: %v", n, err)
	}

	// The same as running the explicit truncated id sequence…
	rt, _ := e.acquire(ctx)
	full := rt.encode(text)
	want := append(append([]int{}, full[:255]...), 102)
	if !slices.Equal(ids, want) {
		t.Fatalf("truncation is not [CLS] + first 254 pieces + [SEP]")
	}
	direct, err := rt.forward(ctx, [][]int{want})
	// …and as embedding the text those 254 pieces decode to.
	decoded := rt.tk.Decode(full[1:255])
	e.mu.RUnlock()
	if err != nil {
		t.Fatal(err)
	}
	checkClose(t, "long text vs its truncated ids", v[0], direct[0])
	if c, _ := e.CountTokens(decoded); c != 256 {
		t.Fatalf("decoded truncation has %d tokens, want 256", c)
	}
	v2, err := e.Embed(ctx, []string{decoded})
	if err != nil {
		t.Fatal(err)
	}
	checkClose(t, "long text vs its decoded truncation", v[0], v2[0])

	// And truncation really changed something: the whole text differs from
	// a 100-token prefix.
	short, _ := e.Embed(ctx, []string{rt.tk.Decode(full[1:100])})
	if maxAbsDiff(short[0], v[0]) == 0 {
		t.Fatalf("a 100-token prefix embeds identically; the comparison above proves nothing")
	}
}

func TestConcurrentMatchesSerial(t *testing.T) {
	dir := testmodels.Dir(t, testmodels.BertTiny)
	g := testmodels.LoadGolden(t, testmodels.BertTiny)
	e := loadTest(t, Options{Model: dir, CacheEntries: -1, Parallel: 4})
	ctx := context.Background()
	serial := make([][]float32, len(g.Sentences))
	for i, s := range g.Sentences {
		v, err := e.Embed(ctx, []string{s})
		if err != nil {
			t.Fatal(err)
		}
		serial[i] = v[0]
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range 3 {
				// Each worker sends its own mix: single texts and batches.
				i := (w*7 + r*5) % len(g.Sentences)
				texts := []string{g.Sentences[i]}
				if (w+r)%2 == 0 {
					texts = append(texts, g.Sentences[(i+1)%len(g.Sentences)], g.Sentences[(i+13)%len(g.Sentences)])
				}
				vs, err := e.Embed(ctx, texts)
				if err != nil {
					errs <- err
					return
				}
				for k, text := range texts {
					j := slices.Index(g.Sentences, text)
					if d := maxAbsDiff(vs[k], serial[j]); d > 1e-5 {
						errs <- fmt.Errorf("worker %d: %q differs from the serial run by %.2e", w, text, d)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestEmptyText(t *testing.T) {
	e := New(Options{Model: testmodels.Dir(t, testmodels.BertTiny), NoWarmup: true})
	defer e.Close()
	ctx := context.Background()
	for _, texts := range [][]string{{""}, {"ok", "  \t\n"}, {"a", "b", "\u00a0"}} {
		_, err := e.Embed(ctx, texts)
		if !errors.Is(err, ErrEmptyText) {
			t.Fatalf("Embed(%q) = %v, want ErrEmptyText", texts, err)
		}
		if want := fmt.Sprintf("text %d", len(texts)-1); !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name the index (%s)", err, want)
		}
	}
	if _, err := e.EmbedQuery(ctx, " "); !errors.Is(err, ErrEmptyText) {
		t.Errorf("EmbedQuery(blank) = %v, want ErrEmptyText", err)
	}
	if _, err := e.EmbedDocuments(ctx, []string{"x", ""}); !errors.Is(err, ErrEmptyText) {
		t.Errorf("EmbedDocuments(blank) = %v, want ErrEmptyText", err)
	}
	if v, err := e.Embed(ctx, nil); err != nil || len(v) != 0 {
		t.Errorf("Embed(nil) = %v, %v; want no vectors, no error", v, err)
	}
}

func TestBackgroundLoadAndClose(t *testing.T) {
	dir := testmodels.Dir(t, testmodels.BertTiny)
	e := New(Options{Model: dir})
	if got := e.Info().ModelID; got != testmodels.BertTiny {
		t.Errorf("ModelID before load = %q, want %q", got, testmodels.BertTiny)
	}
	// Wait with an already-cancelled context returns at once with ctx's error
	// (unless the load won the race, which it cannot in a few µs).
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := e.Wait(ctx); !errors.Is(err, context.Canceled) && err != nil {
		t.Errorf("Wait(cancelled) = %v", err)
	}
	if err := e.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !e.Ready() {
		t.Fatal("not Ready after Wait")
	}
	info := e.Info()
	if info.LoadTime <= 0 || info.Dims != 128 || len(info.SHA256) != 64 || info.Path != dir {
		t.Errorf("Info after load: %+v", info)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if e.Ready() {
		t.Error("Ready after Close")
	}
	if _, err := e.Embed(context.Background(), []string{"x"}); !errors.Is(err, ErrClosed) {
		t.Errorf("Embed after Close = %v, want ErrClosed", err)
	}
	if err := e.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
}

func TestCache(t *testing.T) {
	e := loadTest(t, Options{Model: testmodels.Dir(t, testmodels.BertTiny), CacheEntries: 3})
	ctx := context.Background()
	a, err := e.Embed(ctx, []string{"alpha", "beta", "alpha"})
	if err != nil {
		t.Fatal(err)
	}
	if e.cache.len() != 2 || !slices.Equal(a[0], a[2]) {
		t.Fatalf("cache has %d entries (want 2: duplicates embed once)", e.cache.len())
	}
	a[0][0] = 42 // callers own their vectors
	b, _ := e.Embed(ctx, []string{"alpha"})
	if b[0][0] == 42 || !slices.Equal(b[0], a[2]) {
		t.Fatal("cached vector was shared with a caller or differs")
	}
	_, _ = e.Embed(ctx, []string{"gamma", "delta", "epsilon"})
	if e.cache.len() != 3 {
		t.Fatalf("cache holds %d entries, bound is 3", e.cache.len())
	}
	// The query prefix is part of the key.
	q, _ := e.EmbedQuery(ctx, "alpha")
	if maxAbsDiff(q, b[0]) > 1e-5 { // MiniLM-style model: no prefix, same vector
		t.Fatal("EmbedQuery without a prefix differs from Embed")
	}
}

// TestLongTextCutBeforeTokenizing: a long text is cut after a few hundred
// words before tokenising (speed), and must give exactly the ids that
// tokenising all of it and truncating gives.
func TestLongTextCutBeforeTokenizing(t *testing.T) {
	e := loadTest(t, Options{Model: testmodels.Dir(t, testmodels.BertTiny), NoWarmup: true})
	rt, err := e.acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer e.mu.RUnlock()
	for _, text := range []string{
		strings.Repeat("padding ", 2000),
		strings.Repeat("The committee reviewed every clause, again! ", 300),
		strings.Repeat("antidisestablishmentarianism ", 400),
		strings.Repeat("\u200b ", 600) + strings.Repeat("word ", 100), // words that tokenise to nothing
		strings.Repeat("x", 5000),
	} {
		enc := rt.tk.EncodeWithAnnotations(text)
		want := truncate(enc.IDs, enc.SpecialTokensMask, rt.info.MaxTokens)
		if got := rt.tokenize(text); !slices.Equal(got, want) {
			t.Errorf("%.40q…: cut tokenisation differs:\n got %v\nwant %v", text, got, want)
		}
	}
	if got := cutWords("a b  c\td e", 3); got != "a b  c" {
		t.Errorf("cutWords = %q", got)
	}
}

// A batch cut into many passes run side by side gives the vectors one
// pass gives (up to padding's rounding), in the caller's order.
func TestBatchAsParallelPassesMatchesOnePass(t *testing.T) {
	dir := testmodels.Dir(t, testmodels.BertTiny)
	g := testmodels.LoadGolden(t, testmodels.BertTiny)
	ctx := context.Background()
	one := loadTest(t, Options{Model: dir, CacheEntries: -1, Parallel: 1, MaxBatchTokens: 1 << 20})
	many := loadTest(t, Options{Model: dir, CacheEntries: -1, Parallel: 3, MaxBatchTokens: 24})
	want, err := one.Embed(ctx, g.Sentences)
	if err != nil {
		t.Fatal(err)
	}
	got, err := many.Embed(ctx, g.Sentences)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d vectors, want %d", len(got), len(want))
	}
	for i := range want {
		if d := maxAbsDiff(got[i], want[i]); d > 1e-5 {
			t.Fatalf("%q: differs by %.2e between one pass and many", g.Sentences[i], d)
		}
	}
}
