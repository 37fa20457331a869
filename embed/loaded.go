package embed

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/mnemo-mcp/mnemo/embed/hub"
	"github.com/mnemo-mcp/mnemo/embed/kernels"

	"github.com/gomlx/go-huggingface/tokenizers/api"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	gomlxcontext "github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/knights-analytics/hugot"
	"github.com/knights-analytics/hugot/backends"
	"github.com/knights-analytics/hugot/options"
	"github.com/knights-analytics/hugot/pipelines"
)

// loaded is a model ready to run: the hugot GO session that owns the GoMLX
// graph, and the pieces mnemo drives itself (tokenizer, output choice,
// shape buckets, pooling).
type loaded struct {
	info    Info
	session *hugot.Session
	pipe    *pipelines.FeatureExtractionPipeline
	tk      api.Tokenizer
	pieces  *pieces // tk a few hundred bytes at a time; nil: whole texts (tokenize.go)

	outIdx  int  // which model output holds the vectors
	perTok  bool // output is per token (pooled here) rather than per text
	pooling string

	packedWeights int   // weights packed in place for mnemo's GEMM (packweights.go)
	mappedBytes   int64 // weights mapped from the graph cache's file (backend.go)
	kernelReport  kernels.Report
	gomlxConfig   string // Options.GoMLXConfig

	exact        bool  // no shape buckets (benchmarks)
	seqBuckets   []int // ascending; last = MaxTokens
	batchBuckets []int // ascending; first = 1

	graphs *atomic.Int64 // graphs built (compiled) so far, for tests and logs
}

// outputs mnemo can use, in order of preference.
var (
	tokenOutputs    = []string{"last_hidden_state", "token_embeddings"}
	sentenceOutputs = []string{"sentence_embedding"}
)

func loadModel(ctx context.Context, dir, onnxFile, id string, o Options) (rt *loaded, err error) {
	spec, err := inspectModel(dir, onnxFile)
	if err != nil {
		return nil, err
	}
	if !spec.HasPromptCfg {
		spec.QueryPrefix, spec.DocumentPrefix = familyPrefixes(id)
	}
	onnxPath := filepath.Join(dir, filepath.FromSlash(spec.OnnxRel))

	// Hash the ONNX file (Info, the vector cache and the rewritten-graph
	// cache key need it) while the tokenizer and session get ready.
	type hashResult struct {
		sum string
		err error
	}
	hashc := make(chan hashResult, 1)
	go func() {
		s, err := hub.FileSHA256(onnxPath)
		hashc <- hashResult{s, err}
	}()
	defer func() {
		h := <-hashc
		if err == nil && h.err != nil {
			rt.close()
			rt, err = nil, invalid("read %s: %v", onnxPath, h.err)
		}
		if rt != nil {
			rt.info.SHA256 = h.sum
		}
	}()

	rt = &loaded{
		graphs:  new(atomic.Int64),
		pooling: spec.Pooling,
		exact:   o.ExactShapes,
		info: Info{
			ModelID:        id,
			Path:           dir,
			OnnxFile:       spec.OnnxRel,
			MaxTokens:      spec.MaxSeqLen,
			Pooling:        spec.Pooling,
			QueryPrefix:    spec.QueryPrefix,
			DocumentPrefix: spec.DocumentPrefix,
		},
	}
	rt.seqBuckets = seqBuckets(o.SequenceBuckets, spec.MaxSeqLen)
	rt.batchBuckets = batchBuckets(o.BatchBuckets, o.MaxBatch)

	var sessOpts []options.WithOption
	if !o.ExactShapes {
		// With both bucket lists set, hugot pads every input to a bucket and
		// caps GoMLX's graph cache at len(batch)×len(seq) graphs.
		sessOpts = append(sessOpts,
			options.WithGoMLXBatchBuckets(rt.batchBuckets),
			options.WithGoMLXSequenceBuckets(rt.seqBuckets))
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// The session's context is not the load's: cancelling a load must not
	// later poison a session that loaded fine.
	rt.session, err = hugot.NewGoSession(context.Background(), sessOpts...)
	if err != nil {
		return nil, fmt.Errorf("start hugot GO session: %w", err)
	}
	// The graph rewritten for the fast GEMM path, cached beside the
	// download cache; the original if it cannot be (logged, not fatal).
	loadDir, loadOnnx := dir, filepath.Base(spec.OnnxRel)
	// The cache is keyed by the file's sha256, so one model at many paths
	// (symlinks, test copies) shares one entry.
	h := <-hashc
	hashc <- h // for the deferred check
	if h.err != nil {
		// Reported by the deferred check; load the original meanwhile.
	} else if rdir, ok, rerr := rewrittenModel(hub.CacheRoot(o.CacheDir), dir, spec.OnnxRel, h.sum, !o.NoGraphRewrite); ok {
		loadDir, loadOnnx = rdir, "model.onnx"
	} else if rerr != nil && o.Logger != nil {
		o.Logger.Warn("embedding model graph not rewritten; using the original (slower)", "model", onnxPath, "err", rerr)
	}
	newPipe := func(name string) error {
		return catch(func() error {
			var perr error
			rt.pipe, perr = hugot.NewPipeline(rt.session, hugot.FeatureExtractionConfig{
				ModelPath:    loadDir,
				Name:         name,
				OnnxFilename: loadOnnx,
			})
			return perr
		})
	}
	err = newPipe("mnemo-embed")
	if err != nil && loadDir != dir {
		// A model the rewrite does not suit (external data files, say):
		// the original still loads.
		if o.Logger != nil {
			o.Logger.Warn("rewritten embedding graph failed to load; using the original", "model", onnxPath, "err", err)
		}
		loadDir, loadOnnx = dir, filepath.Base(spec.OnnxRel)
		err = newPipe("mnemo-embed-original")
	}
	if err != nil {
		rt.close()
		return nil, invalid("cannot load ONNX model %s: %v", onnxPath, err)
	}
	rt.gomlxConfig = o.GoMLXConfig
	if rt.kernelReport, err = installKernels(o.Kernels, o.Logger); err != nil {
		rt.close()
		return nil, err
	}
	if err := rt.tuneBackend(loadDir, loadDir != dir); err != nil {
		rt.close()
		return nil, err
	}
	rt.info.Kernels, rt.info.KernelsDegraded = rt.kernels()
	model := rt.pipe.Model
	if model.Tokenizer == nil || model.Tokenizer.GoTokenizer == nil {
		rt.close()
		return nil, invalid("model folder %s: tokenizer.json did not load", dir)
	}
	rt.tk = model.Tokenizer.GoTokenizer.Tokenizer
	// Our own settings: special tokens on, and their mask so truncation
	// keeps [CLS]…[SEP] whatever the tokenizer's special tokens are. The
	// hugot MaxLen setting is not honoured by the Go tokenizer; we truncate.
	if err := rt.tk.With(api.EncodeOptions{AddSpecialTokens: true, IncludeSpecialTokensMask: true}); err != nil {
		rt.close()
		return nil, fmt.Errorf("configure tokenizer: %w", err)
	}
	rt.pieces = newPieces(rt.tk, filepath.Join(loadDir, "tokenizer.json"))

	if err := rt.pickOutput(model.OutputsMeta, onnxPath); err != nil {
		rt.close()
		return nil, err
	}
	dims := int(model.OutputsMeta[rt.outIdx].Dimensions[len(model.OutputsMeta[rt.outIdx].Dimensions)-1])
	if dims <= 0 {
		// Dynamic hidden size in the graph: ask the model.
		v, err := rt.forward(context.Background(), [][]int{rt.warmupIDs()})
		if err != nil {
			rt.close()
			return nil, invalid("model %s: first forward pass failed: %v", onnxPath, err)
		}
		dims = len(v[0])
	}
	rt.info.Dims = dims
	if spec.HiddenSize > 0 && dims != spec.HiddenSize && rt.perTok {
		rt.close()
		return nil, invalid("model %s outputs %d-dimensional token vectors but %s says hidden_size %d: the folder mixes files from different models",
			onnxPath, dims, filepath.Join(dir, "config.json"), spec.HiddenSize)
	}
	if spec.PoolingDim > 0 && dims != spec.PoolingDim {
		rt.close()
		return nil, invalid("model %s outputs %d-dimensional vectors but the pooling config says word_embedding_dimension %d: the folder mixes files from different models",
			onnxPath, dims, spec.PoolingDim)
	}
	return rt, nil
}

// pickOutput chooses the model output to embed with: token vectors that
// mnemo pools (preferred, so pooling follows the folder's config), else a
// sentence vector the graph already pooled.
func (rt *loaded) pickOutput(outs []backends.InputOutputInfo, onnxPath string) error {
	names := make([]string, len(outs))
	for i, o := range outs {
		names[i] = o.Name
	}
	for _, want := range tokenOutputs {
		if i := slices.Index(names, want); i >= 0 && len(outs[i].Dimensions) == 3 {
			rt.outIdx, rt.perTok = i, true
			return nil
		}
	}
	for _, want := range sentenceOutputs {
		if i := slices.Index(names, want); i >= 0 && len(outs[i].Dimensions) == 2 {
			rt.outIdx, rt.perTok = i, false
			rt.pooling, rt.info.Pooling = "model", "model"
			return nil
		}
	}
	return invalid("model %s has outputs [%s]; mnemo needs %s (token vectors, [batch, tokens, hidden]) or %s ([batch, hidden])",
		onnxPath, strings.Join(names, ", "), strings.Join(tokenOutputs, " or "), strings.Join(sentenceOutputs, " or "))
}

func seqBuckets(want []int, maxLen int) []int {
	var b []int
	for _, n := range want {
		if n > 0 && n < maxLen {
			b = append(b, n)
		}
	}
	b = append(b, maxLen)
	slices.Sort(b)
	return slices.Compact(b)
}

func batchBuckets(want []int, maxBatch int) []int {
	b := []int{1}
	for _, n := range want {
		if n > 1 && n <= maxBatch {
			b = append(b, n)
		}
	}
	slices.Sort(b)
	return slices.Compact(b)
}

func (rt *loaded) warmupIDs() []int { return rt.tokenize("hello world") }

// seqBucket is the padded length a sequence of n tokens runs at.
func (rt *loaded) seqBucket(n int) int {
	if rt.exact {
		return n
	}
	for _, b := range rt.seqBuckets {
		if n <= b {
			return b
		}
	}
	return n // cannot happen: tokenize truncates to the last bucket
}

// chunkSize is how many of the remaining texts (sorted longest first, the
// first being firstLen tokens) go into the next forward pass: the largest
// batch bucket that fits the batch and token budgets, so no row is padding.
func (rt *loaded) chunkSize(firstLen, remaining, maxBatch, maxTokens int) int {
	l := rt.seqBucket(firstLen)
	if rt.exact {
		return max(1, min(remaining, maxBatch, maxTokens/l))
	}
	best := 1
	for _, b := range rt.batchBuckets {
		if b <= remaining && b <= maxBatch && b*l <= maxTokens {
			best = max(best, b)
		}
	}
	return best
}

// forward runs token id sequences through the model and returns pooled,
// L2-normalised vectors. Inputs are built by hugot's CreateInputTensors,
// which pads them to the session's buckets (padding is masked out);
// token_type_ids are all zero.
func (rt *loaded) forward(ctx context.Context, seqs [][]int) (vecs [][]float32, err error) {
	batch := newBatch(seqs)
	defer func() { err = errors.Join(err, batch.Destroy()) }()
	err = catch(func() error {
		if err := backends.CreateInputTensors(batch, rt.pipe.Model, rt.pipe.Runtime); err != nil {
			return err
		}
		return backends.RunSessionOnBatch(ctx, batch, rt.pipe.BasePipeline)
	})
	if err != nil {
		return nil, fmt.Errorf("forward pass (%d texts, %d tokens): %w", len(seqs), batch.MaxSequenceLength, err)
	}
	if rt.outIdx >= len(batch.OutputValues) {
		return nil, fmt.Errorf("forward pass returned %d outputs, want output %d", len(batch.OutputValues), rt.outIdx)
	}
	vecs = make([][]float32, len(seqs))
	switch out := batch.OutputValues[rt.outIdx].(type) {
	case [][][]float32: // [batch][valid tokens][hidden], padding already dropped
		if len(out) < len(seqs) {
			return nil, fmt.Errorf("forward pass returned %d rows for %d texts", len(out), len(seqs))
		}
		for i := range seqs {
			if len(out[i]) != len(seqs[i]) {
				return nil, fmt.Errorf("forward pass returned %d token vectors for %d tokens", len(out[i]), len(seqs[i]))
			}
			dims := len(out[i][0])
			if vecs[i], err = pool(rt.pooling, out[i], dims); err != nil {
				return nil, err
			}
		}
	case [][]float32:
		if len(out) < len(seqs) {
			return nil, fmt.Errorf("forward pass returned %d rows for %d texts", len(out), len(seqs))
		}
		for i := range seqs {
			vecs[i] = slices.Clone(out[i])
		}
	default:
		return nil, fmt.Errorf("unexpected model output type %T", out)
	}
	for i := range vecs {
		if err := normalize(vecs[i]); err != nil {
			return nil, err
		}
	}
	return vecs, nil
}

// newBatch is hugot's input for token id sequences: attention on every
// token, token_type_ids all zero.
func newBatch(seqs [][]int) *backends.PipelineBatch {
	batch := backends.NewBatch(len(seqs))
	batch.Input = make([]backends.TokenizedInput, len(seqs))
	for i, ids := range seqs {
		n := len(ids)
		tok, mask := make([]uint32, n), make([]uint32, n)
		for j, id := range ids {
			tok[j], mask[j] = uint32(id), 1
		}
		batch.Input[i] = backends.TokenizedInput{
			TokenIDs: tok, TypeIDs: make([]uint32, n), AttentionMask: mask, MaxAttentionIndex: n - 1,
		}
		batch.MaxSequenceLength = max(batch.MaxSequenceLength, n)
	}
	return batch
}

// compile builds and compiles, without running it, the graph a batch of
// one text of n tokens runs on (precompile.go). The inputs are made as
// forward makes them, so the graph is the one forward then finds in
// GoMLX's cache.
func (rt *loaded) compile(n int) (err error) {
	ids := rt.warmupIDs() // [CLS] hello world [SEP], then [SEP] as filler
	seq := make([]int, n)
	for i := range seq {
		seq[i] = ids[min(i, len(ids)-1)]
	}
	batch := newBatch([][]int{seq})
	defer func() { err = errors.Join(err, batch.Destroy()) }()
	return catch(func() error {
		if err := backends.CreateInputTensors(batch, rt.pipe.Model, rt.pipe.Runtime); err != nil {
			return err
		}
		return rt.pipe.Model.GoMLXModel.Exec.PreCompile(batch.InputValues.([]*tensors.Tensor))
	})
}

// countGraphs wraps the function GoMLX calls to build a graph, once per
// new input shape, so rt.graphs counts the graphs compiled.
func (rt *loaded) countGraphs(call func(*gomlxcontext.Context, []*graph.Node) []*graph.Node) func(*gomlxcontext.Context, []*graph.Node) []*graph.Node {
	return func(ctx *gomlxcontext.Context, in []*graph.Node) []*graph.Node {
		rt.graphs.Add(1)
		return call(ctx, in)
	}
}

func (rt *loaded) close() error {
	if rt == nil || rt.session == nil {
		return nil
	}
	err := rt.session.Destroy()
	rt.session = nil
	return err
}

// catch turns a panic in hugot/GoMLX (which use panics internally) into an
// error, so a bad model cannot take the process down.
func catch(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return f()
}

// tokenizerOnly is what stays of rt after a keep-alive unload: the
// tokenizer and settings (small), so CountTokens and Tokenize need no
// reload, but no session.
func (rt *loaded) tokenizerOnly() *loaded {
	c := *rt
	c.session, c.pipe = nil, nil
	return &c
}
