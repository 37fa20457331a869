// Package embed is mnemo's embedding engine: it turns text into L2-normalised
// sentence vectors with a transformer run in-process by hugot's pure-Go
// backend (GoMLX simplego). No native runtime and no cgo, so any number of
// mnemo processes can start and stop at once without sharing anything that
// can deadlock or crash.
//
// The engine resolves the model (local folder, or a Hugging Face repo id
// downloaded once into a shared cache), loads it in the background, tokenises
// and truncates text itself (hugot's pipeline does not truncate and fails past
// 512 tokens), pads inputs to a small set of shapes so GoMLX compiles a
// bounded number of graphs, pools and normalises the token vectors, and keeps
// an LRU cache of recent vectors.
package embed

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/url"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mnemo-mcp/mnemo/embed/hub"
	"github.com/mnemo-mcp/mnemo/embed/kernels"

	"github.com/mnemo-mcp/mnemo/pkg/logging"
)

// ErrEmptyText is wrapped by the error Embed returns for an empty or
// whitespace-only text; the error message names the text's index.
var ErrEmptyText = errors.New("empty or whitespace-only text")

// DefaultModel is the model an engine loads when Options.Model is "" (the
// Hugging Face repository real users get; hub.DefaultModel).
const DefaultModel = hub.DefaultModel

// ErrClosed is returned by calls on an engine after Close.
var ErrClosed = errors.New("embedding engine is closed")

// Options configure an Engine. The zero value embeds with the default model
// from the default cache, online.
type Options struct {
	Model    string       // local model folder, path to an .onnx file in one, or Hugging Face repo id ("org/name[@revision]"); "" = DefaultModel
	CacheDir string       // download cache root; "" = the user's cache dir + "/mnemo"
	Offline  bool         // never touch the network
	Logger   *slog.Logger // nil = discard
	Progress io.Writer    // download progress (stderr in the CLI); nil = silent
	HubURL   string       // base URL of the Hugging Face hub; "" = https://huggingface.co
	// CacheEntries bounds the LRU of (model sha256, text) → vector; 0 = 4096,
	// < 0 disables the cache. An entry costs dims×4 bytes plus ~100 bytes
	// (the text itself is not kept, only its hash).
	CacheEntries int

	// Kernels caps the compute kernels (embed/kernels): "" or "auto" for
	// the best this CPU runs, "avx512", "avx2", "neon" or "generic" for
	// that set, "off" for simplego's own. The first engine of a process
	// decides for all. (The CLI fills it from MNEMO_KERNELS; the engine
	// reads no environment.)
	Kernels string
	// GoMLXConfig replaces the GoMLX simplego configuration the forward
	// pass runs with, for experiments (docs/perf.md); "" = the one mnemo's
	// kernels choose (MNEMO_GOMLX_CONFIG).
	GoMLXConfig string
	// NoGraphRewrite loads the model's graph as it is, without the
	// rewrite for the fast GEMM path (MNEMO_GRAPH_REWRITE=0).
	NoGraphRewrite bool

	// MaxBatch is the most texts in one forward pass (default 32).
	MaxBatch int
	// MaxBatchTokens bounds padded tokens (batch × sequence) in one forward
	// pass, which bounds the activations' memory (default 512, e.g. 2 texts
	// of 256 tokens or 8 of 64). A larger batch becomes several passes,
	// run Parallel at a time.
	MaxBatchTokens int
	// Parallel is how many forward passes may run at once (default
	// GOMAXPROCS, at most 4). A pass alone spreads each op over the cores;
	// passes side by side keep each op on one core, with no hand-off per
	// op: an 8 × 256 batch as four passes of 2 × 256, two at a time, ran
	// 20–25% faster than one pass of 8 on 2 cores, with less memory
	// (docs/perf.md).
	Parallel int
	// SequenceBuckets and BatchBuckets are the padded shapes GoMLX compiles
	// graphs for; nil = defaults (see DefaultSequenceBuckets). The model's
	// max sequence length is always added as the last sequence bucket.
	SequenceBuckets []int
	BatchBuckets    []int
	// ExactShapes disables bucketing: every new (batch, length) compiles a
	// new graph and the graph cache is unbounded. For benchmarks only.
	ExactShapes bool
	// NoWarmup skips compiling the single-short-text graph during load,
	// and the short-query graphs compiled after it (precompile.go).
	NoWarmup bool
	// KeepAlive is how long the model stays in memory after the last call;
	// past it the engine releases the model (session, weights, compiled
	// graphs, vector cache) and returns the memory to the OS, and the next
	// call reloads it on its own clock. 0 = keep it forever (the default for
	// the library; the server passes config.KeepAlive, 10m by default).
	KeepAlive time.Duration
}

// DefaultSequenceBuckets are the padded sequence lengths (tokens, special
// tokens included). A forward pass costs about linearly in the padded
// length, so short queries, the common case, get steps of 4 tokens (a
// 12-token query runs at 12, not 16: a third faster); longer inputs get
// ~1.25× spacing. Each new (batch, length) pair costs one graph compile
// (~30–60 ms for MiniLM, once per process) and the graph count stays
// bounded by len(batch buckets) × len(sequence buckets).
var DefaultSequenceBuckets = []int{8, 12, 16, 20, 24, 28, 32, 40, 48, 64, 80, 96, 128, 160, 192, 256, 320, 384, 512}

// DefaultBatchBuckets are the batch sizes of forward passes. Requests are
// split into sub-batches of exactly these sizes, so no compute is wasted on
// padded rows.
var DefaultBatchBuckets = []int{1, 2, 4, 8, 16, 32}

// Info describes the loaded model.
type Info struct {
	ModelID        string        // repo id, or the model folder's base name
	Path           string        // model folder on disk
	OnnxFile       string        // ONNX file relative to Path
	Dims           int           // vector dimensions
	MaxTokens      int           // truncation limit, special tokens included
	SHA256         string        // of the .onnx file
	Pooling        string        // mean, cls, max, mean_sqrt_len, lasttoken, or "model" when the graph pools
	QueryPrefix    string        // prepended by EmbedQuery
	DocumentPrefix string        // prepended by EmbedDocuments
	LoadTime       time.Duration // resolve + download + load + warm-up
	// Kernels says which compute paths the forward pass runs on (mnemo's
	// AVX-512 GEMM, packed weights, vectorised executors, or the portable
	// ones), for doctor and bench. KernelsDegraded is true when this build
	// and CPU could run the fast paths but some did not install (a GoMLX
	// upgrade that moved simplego's internals, say), unasked.
	Kernels         string
	KernelsDegraded bool
}

// Engine embeds text. It is safe for concurrent use.
type Engine struct {
	o      Options
	log    *slog.Logger
	ref    hub.Ref
	life   context.Context // the load's, and the precompile's; Close cancels it
	cancel context.CancelFunc
	done   chan struct{} // closed when loading finished (rt or err set)

	// Written by the loader before done is closed; read-only afterwards.
	info Info
	err  error
	res  hub.Model // where the model was found, for reloads

	mu     sync.RWMutex // held shared by work on rt, exclusively by Close and unload
	rt     *loaded      // set by the loader; swapped (under mu) by unload/reload
	closed bool
	// precompiled is closed when the precompile of the current rt ended
	// (precompile.go); nil if none ran. Set with rt.
	precompiled chan struct{}

	ka keepAlive

	sem   chan struct{} // bounds concurrent forward passes
	cache *lru
}

// New returns at once and resolves, downloads if needed, and loads the model
// in a background goroutine. Use Ready or Wait to learn when it is usable;
// Embed waits by itself.
func New(o Options) *Engine {
	if o.Model == "" {
		o.Model = DefaultModel
	}
	if o.Logger == nil {
		o.Logger = logging.Discard()
	}
	if o.HubURL == "" {
		o.HubURL = "https://huggingface.co"
	}
	o.HubURL = strings.TrimRight(o.HubURL, "/")
	if o.CacheEntries == 0 {
		o.CacheEntries = 4096
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 32
	}
	if o.MaxBatchTokens <= 0 {
		o.MaxBatchTokens = 512
	}
	if o.Parallel <= 0 {
		o.Parallel = min(runtime.GOMAXPROCS(0), 4)
	}
	if o.SequenceBuckets == nil {
		o.SequenceBuckets = DefaultSequenceBuckets
	}
	if o.BatchBuckets == nil {
		o.BatchBuckets = DefaultBatchBuckets
	}
	ctx, cancel := context.WithCancel(context.Background())
	e := &Engine{
		o:      o,
		log:    o.Logger.With("component", "embed"),
		life:   ctx,
		cancel: cancel,
		done:   make(chan struct{}),
		sem:    make(chan struct{}, o.Parallel),
		cache:  newLRU(o.CacheEntries),
	}
	e.ref, e.err = hub.ParseRef(o.Model)
	e.info.ModelID = e.ref.ID
	go e.load(ctx)
	return e
}

// Load is New followed by Wait: it returns a ready engine or the load error.
func Load(ctx context.Context, o Options) (*Engine, error) {
	e := New(o)
	if err := e.Wait(ctx); err != nil {
		_ = e.Close()
		return nil, err
	}
	return e, nil
}

func (e *Engine) load(ctx context.Context) {
	defer close(e.done)
	if e.err != nil {
		return // Options.Model did not parse; the error names it
	}
	start, heapBefore := time.Now(), liveHeap()
	e.log.Info("loading embedding model", "model", e.ref.ID)
	r, err := e.resolve(ctx)
	if err != nil {
		e.err = err
		if ctx.Err() == nil && unreachable(err) {
			// Offline, or the hub cannot be reached: the machine's state,
			// not mnemo's fault. The command says so (and doctor's model
			// check), so the log does not count it as an error.
			e.log.Warn("embedding model not available: cannot fetch it", "model", e.ref.ID, "err", err)
			return
		}
		e.logFailure("embedding model unavailable", ctx, "model", e.ref.ID, "err", err)
		return
	}
	dir := r.Dir
	rt, err := loadModel(ctx, dir, r.OnnxFile, e.ref.ID, e.o)
	if err == nil && r.OnnxSHA != "" && rt.info.SHA256 != r.OnnxSHA {
		rt.close()
		err = fmt.Errorf("%w: cached %s is damaged (sha256 %s, downloaded as %s); run `mnemo pull %s` to fetch it again",
			ErrInvalidModel, filepath.Join(dir, rt.info.OnnxFile), rt.info.SHA256, r.OnnxSHA, e.ref.ID)
	}
	if err != nil {
		e.err = err
		e.logFailure("embedding model failed to load", ctx, "model", e.ref.ID, "path", dir, "err", err)
		return
	}
	warm := time.Duration(0)
	if !e.o.NoWarmup {
		// Compile the graph every short query uses now, in the background,
		// rather than on the first caller's clock. It is also the
		// executor's first graph build, which must run alone (reload).
		t := time.Now()
		if _, err := rt.forward(context.Background(), [][]int{rt.warmupIDs()}); err != nil {
			rt.close()
			e.err = fmt.Errorf("model %s: first forward pass failed: %w", dir, err)
			e.log.Error("embedding model failed to run", "model", e.ref.ID, "err", e.err)
			return
		}
		warm = time.Since(t)
	}
	e.rt = rt
	e.res = r
	e.ka.loads.Add(1)
	e.ka.touch()
	e.info = rt.info
	e.info.LoadTime = time.Since(start)
	tightenGC(heapBefore)
	e.armKeepAlive()
	e.startPrecompile(rt)
	e.log.Info("embedding model ready", "model", e.info.ModelID, "path", e.info.Path,
		"dims", e.info.Dims, "max_tokens", e.info.MaxTokens, "pooling", e.info.Pooling,
		"load_time", e.info.LoadTime.Round(time.Millisecond).String(), "warmup", warm.Round(time.Millisecond).String())
}

// logFailure logs a failed load, quietly when Close cancelled it.
// unreachable reports whether err says the model could not be fetched:
// not in the cache while offline, or the hub could not be reached.
func unreachable(err error) bool {
	var op *net.OpError
	var dns *net.DNSError
	var ue *url.Error
	return errors.Is(err, ErrNotCached) || errors.As(err, &op) || errors.As(err, &dns) || errors.As(err, &ue)
}

func (e *Engine) logFailure(msg string, ctx context.Context, args ...any) {
	if ctx.Err() != nil {
		e.log.Info("embedding model load cancelled", args...)
		return
	}
	e.log.Error(msg, args...)
}

// Ready reports whether the engine is usable without waiting: the model
// loaded and the engine is open. It stays true while the model is unloaded
// after KeepAlive, since the next call reloads it transparently; Loaded
// reports whether the weights are in memory right now.
func (e *Engine) Ready() bool {
	select {
	case <-e.done:
		e.mu.RLock()
		defer e.mu.RUnlock()
		return e.err == nil && !e.closed
	default:
		return false
	}
}

// Wait blocks until the model is loaded (nil) or failed to load (the load
// error). Cancelling ctx ends the wait, not the load.
func (e *Engine) Wait(ctx context.Context) error {
	select {
	case <-e.done:
		return e.err
	case <-ctx.Done():
		return fmt.Errorf("waiting for embedding model %s: %w", e.ref.ID, ctx.Err())
	}
}

// Info describes the model. Before the model is ready only ModelID is set.
func (e *Engine) Info() Info {
	select {
	case <-e.done:
		return e.info
	default:
		return Info{ModelID: e.ref.ID}
	}
}

// Close stops a load in progress (a download is abandoned, resumable later),
// waits for in-flight calls, and frees the model. Later calls return
// ErrClosed. Close is idempotent.
func (e *Engine) Close() error {
	e.cancel()
	<-e.done
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil
	}
	e.closed = true
	e.ka.stop()
	e.cache.clear()
	if e.rt != nil {
		defer relaxGC()
		return e.rt.close()
	}
	return nil
}

// acquire waits for the model and pins it against Close; release with
// e.mu.RUnlock.
func (e *Engine) acquire(ctx context.Context) (*loaded, error) {
	if err := e.Wait(ctx); err != nil {
		return nil, err
	}
	e.mu.RLock()
	if e.closed {
		e.mu.RUnlock()
		return nil, ErrClosed
	}
	return e.rt, nil
}

// CountTokens returns how many tokens text has, special tokens included,
// before truncation. It waits for the model's tokenizer.
func (e *Engine) CountTokens(text string) (int, error) {
	rt, err := e.acquire(context.Background())
	if err != nil {
		return 0, err
	}
	defer e.mu.RUnlock()
	return len(rt.encode(text)), nil
}

// Tokenize returns the token ids the model sees for text: special tokens
// included, truncated to Info().MaxTokens.
func (e *Engine) Tokenize(ctx context.Context, text string) ([]int, error) {
	rt, err := e.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer e.mu.RUnlock()
	return rt.tokenize(text), nil
}

// Embed returns one L2-normalised vector per text, in order. Texts are used
// as given (no prefix); long texts are truncated to the model's limit. It
// waits for the model to load.
func (e *Engine) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	return e.embed(ctx, texts, "")
}

// EmbedQuery embeds a search query, with the model's query prefix if it has
// one (e5: "query: ", bge: its instruction, nomic: "search_query: ").
func (e *Engine) EmbedQuery(ctx context.Context, text string) ([]float32, error) {
	if err := checkTexts([]string{text}); err != nil {
		return nil, err
	}
	if err := e.Wait(ctx); err != nil {
		return nil, err
	}
	v, err := e.embed(ctx, []string{text}, e.info.QueryPrefix)
	if err != nil {
		return nil, err
	}
	return v[0], nil
}

// EmbedDocuments embeds texts to be searched, with the model's document
// prefix if it has one.
func (e *Engine) EmbedDocuments(ctx context.Context, texts []string) ([][]float32, error) {
	if err := checkTexts(texts); err != nil {
		return nil, err
	}
	if err := e.Wait(ctx); err != nil {
		return nil, err
	}
	return e.embed(ctx, texts, e.info.DocumentPrefix)
}

func checkTexts(texts []string) error {
	for i, t := range texts {
		if strings.TrimSpace(t) == "" {
			return fmt.Errorf("text %d: %w", i, ErrEmptyText)
		}
	}
	return nil
}

// pending is one distinct text of a request that missed the cache.
type pending struct {
	key  [32]byte
	ids  []int
	dest []int // indexes in the request that want this vector
}

// tokenizeAll sets every p.ids, on as many cores as there are texts and
// cores: the Go tokenizer takes ~0.4 ms for 256 tokens (tokenize.go).
func tokenizeAll(rt *loaded, todo []*pending, text func(*pending) string) {
	workers := min(len(todo), runtime.GOMAXPROCS(0))
	if workers <= 1 {
		for _, p := range todo {
			p.ids = rt.tokenize(text(p))
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(len(todo)); i = next.Add(1) - 1 {
				todo[i].ids = rt.tokenize(text(todo[i]))
			}
		})
	}
	wg.Wait()
}

func (e *Engine) embed(ctx context.Context, texts []string, prefix string) ([][]float32, error) {
	if err := checkTexts(texts); err != nil {
		return nil, err
	}
	rt, err := e.acquireModel(ctx)
	if err != nil {
		return nil, err
	}
	defer e.releaseModel()

	out := make([][]float32, len(texts))
	var todo []*pending
	byKey := map[[32]byte]*pending{}
	for i, t := range texts {
		k := cacheKey(rt.info.SHA256, prefix, t)
		if v, ok := e.cache.get(k); ok {
			out[i] = v
			continue
		}
		if p, ok := byKey[k]; ok {
			p.dest = append(p.dest, i)
			continue
		}
		p := &pending{key: k, dest: []int{i}}
		byKey[k] = p
		todo = append(todo, p)
	}
	if len(todo) == 0 {
		return out, nil
	}
	tokenizeAll(rt, todo, func(p *pending) string { return prefix + texts[p.dest[0]] })
	// Longest first: each sub-batch holds texts of similar length, so little
	// compute goes to padding.
	sort.SliceStable(todo, func(a, b int) bool { return len(todo[a].ids) > len(todo[b].ids) })
	var chunks [][]*pending
	for start := 0; start < len(todo); {
		n := rt.chunkSize(len(todo[start].ids), len(todo)-start, e.o.MaxBatch, e.o.MaxBatchTokens)
		chunks = append(chunks, todo[start:start+n])
		start += n
	}
	run := func(chunk []*pending) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		seqs := make([][]int, len(chunk))
		for i, p := range chunk {
			seqs[i] = p.ids
		}
		vecs, err := e.forward(ctx, rt, seqs)
		if err != nil {
			return err
		}
		for i, p := range chunk {
			e.cache.put(p.key, vecs[i])
			for j, d := range p.dest {
				if j == 0 {
					out[d] = vecs[i]
				} else {
					out[d] = slices.Clone(vecs[i])
				}
			}
		}
		return nil
	}
	if e.o.Parallel < 2 || len(chunks) < 2 {
		for _, c := range chunks {
			if err := run(c); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	// Several passes at once (Options.Parallel), each on its own share of
	// the cores; forward bounds how many run.
	errs := make([]error, len(chunks))
	var wg sync.WaitGroup
	for i, c := range chunks {
		wg.Go(func() { errs[i] = run(c) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// forward runs one sub-batch under the concurrency limit. The pass itself is
// not interrupted by ctx: hugot would return early and leave the computation
// running on tensors it is about to free.
func (e *Engine) forward(ctx context.Context, rt *loaded, seqs [][]int) ([][]float32, error) {
	select {
	case e.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-e.sem }()
	longest := 0
	for _, s := range seqs {
		longest = max(longest, len(s))
	}
	defer gcForBatch(len(seqs) * longest)() // a pass pads to its longest
	if ctx.Value(besideKey{}) != nil {
		defer kernels.BeginSoloPass()()
	} else {
		defer kernels.BeginPass()()
	}
	return rt.forward(context.WithoutCancel(ctx), seqs)
}

// Beside marks ctx for an embedding that runs beside other work of this
// process (a hybrid recall's query, embedded while the store ranks by
// keyword): its forward passes keep to one core (kernels.BeginSoloPass)
// instead of sharing their ops out among the cores the other work needs.
func Beside(ctx context.Context) context.Context {
	return context.WithValue(ctx, besideKey{}, true)
}

type besideKey struct{}

func cacheKey(modelSHA, prefix, text string) [32]byte {
	h := sha256.New()
	h.Write([]byte(modelSHA))
	h.Write([]byte{0})
	h.Write([]byte(prefix))
	h.Write([]byte(text))
	var k [32]byte
	h.Sum(k[:0])
	return k
}

// pool reduces the per-token vectors of one text (padding already removed)
// to one vector.
func pool(mode string, tokens [][]float32, dims int) ([]float32, error) {
	if len(tokens) == 0 {
		return nil, errors.New("model returned no token vectors")
	}
	v := make([]float32, dims)
	switch mode {
	case "cls":
		copy(v, tokens[0])
	case "lasttoken":
		copy(v, tokens[len(tokens)-1])
	case "max":
		copy(v, tokens[0])
		for _, t := range tokens[1:] {
			for k, x := range t {
				v[k] = max(v[k], x)
			}
		}
	case "mean", "mean_sqrt_len":
		for _, t := range tokens {
			for k, x := range t {
				v[k] += x
			}
		}
		d := float32(len(tokens))
		if mode == "mean_sqrt_len" {
			d = float32(math.Sqrt(float64(len(tokens))))
		}
		for k := range v {
			v[k] /= d
		}
	default:
		return nil, fmt.Errorf("unsupported pooling %q", mode)
	}
	return v, nil
}

// normalize scales v to unit L2 norm in place and rejects vectors a broken
// model could produce (NaN, Inf, all zero).
func normalize(v []float32) error {
	var ss float64
	for _, x := range v {
		f := float64(x)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return errors.New("model produced a non-finite value")
		}
		ss += f * f
	}
	if ss == 0 {
		return errors.New("model produced an all-zero vector")
	}
	inv := 1 / math.Sqrt(ss)
	for i, x := range v {
		v[i] = float32(float64(x) * inv)
	}
	return nil
}
