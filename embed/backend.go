package embed

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	gomlxcontext "github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/mnemo-mcp/mnemo/embed/kernels"
	"github.com/mnemo-mcp/mnemo/embed/kernels/vec"
	"github.com/mnemo-mcp/mnemo/embed/onnxrewrite"
)

// backendConfig is the GoMLX simplego configuration the forward pass runs
// with: kernels.BackendConfig once mnemo's kernels are installed,
// simplego's default otherwise. hugot creates its backend as plain "go";
// mnemo swaps in its own before the first graph is built (graphs, and
// with them the matmul execution paths, are chosen lazily at the first
// call of each shape). Options.GoMLXConfig overrides it for experiments
// (docs/perf.md).
func (rt *loaded) backendConfig() string {
	if rt.gomlxConfig != "" {
		return rt.gomlxConfig
	}
	return kernels.BackendConfig()
}

// installKernels puts mnemo's kernels (embed/kernels) in place, once per
// process: the best this CPU runs, or the level Options.Kernels names
// (MNEMO_KERNELS); "off" keeps simplego's own, for A/B runs and as an escape
// hatch. What did not install is worth a warning: the engine then runs
// slower, and doctor says so.
func installKernels(level string, log *slog.Logger) (kernels.Report, error) {
	switch level {
	case "off":
		return kernels.Report{Level: "off", Best: vec.Best(), Err: errors.New("turned off (MNEMO_KERNELS=off)")}, nil
	case "", "auto":
		level = ""
	default:
		if !slices.Contains(vec.Built(), level) {
			return kernels.Report{}, fmt.Errorf("MNEMO_KERNELS=%q: not a kernel set of this build; use auto, off or one of %v", level, vec.Built())
		}
	}
	r := kernels.Install(level)
	if r.Err != nil && log != nil {
		log.Warn("mnemo's kernels did not all install; the engine runs slower", "kernels", r.String())
	}
	return r, nil
}

// kernels describes the compute paths this loaded model runs on (Info).
func (rt *loaded) kernels() (desc string, degraded bool) {
	r := rt.kernelReport
	desc = r.String()
	if r.Level == "off" {
		desc = "simplego's own kernels (portable Go): turned off with MNEMO_KERNELS=off"
	}
	if cfg := rt.backendConfig(); cfg != kernels.BackendConfig() {
		desc += ", GoMLX config " + cfg + " (MNEMO_GOMLX_CONFIG)"
	}
	if rt.packedWeights > 0 {
		desc += fmt.Sprintf(", %d weights packed", rt.packedWeights)
	}
	if rt.mappedBytes > 0 {
		desc += fmt.Sprintf(", %.1f MB of weights mapped from the graph cache", float64(rt.mappedBytes)/1e6)
	}
	return desc, r.Degraded()
}

// tuneBackend replaces hugot's GoMLX backend and executor with ones built
// from backendConfig (the executor even when the config is simplego's
// default). The weights stay where hugot put them (gm.Ctx).
func (rt *loaded) tuneBackend(modelDir string, rewritten bool) error {
	gm := rt.pipe.Model.GoMLXModel
	if gm == nil {
		return fmt.Errorf("hugot session has no GoMLX model")
	}
	ext := externalIndex(gm.OnnxModel, modelDir)
	dropONNXWeights(gm.OnnxModel)
	cfg := rt.backendConfig()
	b := gm.Backend // simplego's default config: hugot's backend will do
	if cfg != "" {
		quietGoMLX()
		var err error
		if b, err = simplego.New(cfg); err != nil {
			return fmt.Errorf("GoMLX backend config %q: %w", cfg, err)
		}
	}
	// The executor is always mnemo's, so that every graph it builds is
	// counted (rt.graphs).
	exec, err := gomlxcontext.NewExec(b, gm.Ctx, rt.countGraphs(gm.Call))
	if err != nil {
		if b != gm.Backend {
			b.Finalize()
		}
		return fmt.Errorf("GoMLX executor: %w", err)
	}
	exec.SetMaxCache(gm.MaxCache)
	gm.Exec.Finalize()
	if b != gm.Backend {
		gm.Backend.Finalize()
	}
	ctx := gm.Ctx
	gm.Exec, gm.Backend = exec, b
	release := func() {}
	var unmaps []func() error
	gm.Destroy = func() {
		release() // before the weights' buffers go back to the pool
		exec.Finalize()
		ctx.Finalize()
		b.Finalize()
		// Only now: the backend's pool held the mapped buffers until it
		// was finalized (kernels.WrapFloat32).
		for _, unmap := range unmaps {
			_ = unmap()
		}
	}
	// Packed weights can only be read by mnemo's GEMM, which every MatMul
	// reaches only in the rewritten graph (2-D products) on the default
	// packgemm config; anything else keeps them row-major.
	pack := rewritten && cfg != "" && cfg == kernels.BackendConfig()
	var packable map[string]bool
	if pack {
		if packable = matmulOnlyWeights(gm.OnnxModel); packable == nil {
			pack = false
		}
	}
	rt.mappedBytes, err = weightsToDevice(ctx, b, ext, packable, &unmaps)
	if err != nil {
		return err
	}
	if pack {
		release, rt.packedWeights = packMatmulWeights(packable, ctx, b)
	}
	return nil
}

// weightsToDevice hands every weight to the backend, one at a time. Left
// to the first forward pass, GoMLX copies them all at once and holds the
// host copies and the backend's until the next GC: twice the model's size
// at the process's RSS peak. A weight whose bytes sit in the rewritten
// model's external data file (ext) is freed first and read again from the
// file (page cache) straight into its backend buffer, so the new buffer
// reuses the old one's memory; others are copied, largest first.
//
// A large weight that is never written (not one of packable, which are
// packed in place later) is not read at all but mapped from that file
// (mapWeight): the word-embedding table, 47 MB of MiniLM's 90, of which a
// process only ever touches the rows of the tokens it sees, and whose
// pages every mnemo process on the machine shares. It returns the bytes
// mapped; unmaps gets the functions that release the mappings.
func weightsToDevice(ctx *gomlxcontext.Context, b backends.Backend, ext *extIndex, packable map[string]bool, unmaps *[]func() error) (mapped int64, err error) {
	type weight struct {
		v *gomlxcontext.Variable
		t *tensors.Tensor
	}
	var ws []weight
	for v := range ctx.IterVariables() {
		if t, err := v.Value(); err == nil && t != nil {
			ws = append(ws, weight{v, t})
		}
	}
	slices.SortStableFunc(ws, func(a, b weight) int { return int(b.t.Memory()) - int(a.t.Memory()) })
	var f *os.File
	var fileSize int64
	if ext != nil {
		var err error
		if f, err = os.Open(ext.path); err != nil {
			ext = nil
		} else {
			defer f.Close()
			if st, err := f.Stat(); err == nil {
				fileSize = st.Size()
			}
		}
	}
	runtime.GC()
	moved := 0
	for _, w := range ws {
		v, t := w.v, w.t
		if ref, ok := ext.lookup(v.Name()); ok && int64(t.Memory()) == ref.length {
			if ref.length >= mapMinBytes && !packable[v.Name()] && ref.offset+ref.length <= fileSize {
				if unmap, ok := mapWeight(f, ref, v, t, b); ok {
					*unmaps = append(*unmaps, unmap)
					mapped += ref.length
					continue
				}
			}
			shape := t.Shape()
			t.FinalizeAll()
			if ref.length >= 1<<20 {
				runtime.GC()
			}
			nt, err := tensors.FromShapeForBackend(b, 0, shape)
			if err != nil {
				return mapped, fmt.Errorf("weight %s: %w", v.Name(), err)
			}
			var rerr error
			nt.MutableBytes(func(data []byte) {
				_, rerr = f.ReadAt(data, ref.offset)
			})
			if rerr != nil {
				return mapped, fmt.Errorf("weight %s: read %s: %w", v.Name(), ext.path, rerr)
			}
			if err := v.SetValuePreservingOld(nt); err != nil {
				return mapped, fmt.Errorf("weight %s: %w", v.Name(), err)
			}
			continue
		}
		if err := t.ToDevice(b, 0); err != nil {
			return mapped, fmt.Errorf("move weight %s to the GoMLX backend: %w", v.Name(), err)
		}
		if moved += int(t.Memory()); moved >= 8<<20 {
			runtime.GC()
			moved = 0
		}
	}
	runtime.GC()
	return mapped, nil
}

// mapMinBytes: weights at least this large are mapped rather than read
// when they can be (MiniLM: the 47 MB word-embedding table; the position
// table, 0.8 MB, is read).
const mapMinBytes = 1 << 20

// mapWeight gives variable v (now t, a host copy) the bytes at ref in f
// as a buffer over a file mapping; false, with t unchanged, if it cannot.
func mapWeight(f *os.File, ref extRef, v *gomlxcontext.Variable, t *tensors.Tensor, b backends.Backend) (unmap func() error, ok bool) {
	if t.DType() != dtypes.Float32 || ref.length%4 != 0 {
		return nil, false
	}
	data, unmap, err := mapFloats(f, ref.offset, int(ref.length/4))
	if err != nil {
		return nil, false
	}
	buf, err := kernels.WrapFloat32(b, data, t.Shape().Dimensions...)
	if err != nil {
		_ = unmap()
		return nil, false
	}
	nt, err := tensors.FromBuffer(b, buf)
	if err != nil {
		_ = unmap()
		return nil, false
	}
	if err := v.SetValuePreservingOld(nt); err != nil {
		// The caller reads the weight as usual. The mapping is left in
		// place: whether v kept nt is unknown, and no buffer may point
		// into an unmapped range.
		return nil, false
	}
	t.FinalizeAll() // the host copy
	return unmap, true
}

// extIndex maps GoMLX variable names to their bytes in the external data
// file of the rewritten model.
type extIndex struct {
	path string
	refs map[string]extRef
}

type extRef struct{ offset, length int64 }

func (x *extIndex) lookup(name string) (extRef, bool) {
	if x == nil {
		return extRef{}, false
	}
	r, ok := x.refs[name]
	return r, ok
}

// onnxGraph is the GraphProto of onnx-gomlx's parsed model (an internal
// type, hence reflection); ok is false if the layout is not the one
// expected. Callers recover from panics of the reflection that follows.
func onnxGraph(model any) (g reflect.Value, ok bool) {
	v := reflect.ValueOf(model)
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return reflect.Value{}, false
	}
	g = v.FieldByName("Proto").FieldByName("Graph")
	if g.Kind() != reflect.Pointer || g.IsNil() {
		return reflect.Value{}, false
	}
	return g.Elem(), true
}

// externalIndex reads, from the parsed ONNX protos (onnx-gomlx's internal
// type, hence reflection), where each initializer kept in onnxrewrite.ExternalDataFile
// lives. nil if none or the layout is not the one expected.
func externalIndex(model any, dir string) (x *extIndex) {
	defer func() {
		if recover() != nil {
			x = nil
		}
	}()
	g, ok := onnxGraph(model)
	if !ok {
		return nil
	}
	inits := g.FieldByName("Initializer")
	x = &extIndex{path: filepath.Join(dir, onnxrewrite.ExternalDataFile), refs: map[string]extRef{}}
	for i := range inits.Len() {
		t := inits.Index(i).Elem()
		name := t.FieldByName("Name").String()
		ed := t.FieldByName("ExternalData")
		var r extRef
		loc := ""
		for j := range ed.Len() {
			e := ed.Index(j).Elem()
			k, val := e.FieldByName("Key").String(), e.FieldByName("Value").String()
			switch k {
			case "location":
				loc = val
			case "offset":
				r.offset, _ = strconv.ParseInt(val, 10, 64)
			case "length":
				r.length, _ = strconv.ParseInt(val, 10, 64)
			}
		}
		if loc == onnxrewrite.ExternalDataFile && r.length > 0 {
			// onnx-gomlx names the variable after the initializer with its
			// scope separators replaced (onnxgomlx.SafeVarName).
			x.refs[strings.ReplaceAll(name, gomlxcontext.ScopeSeparator, "|")] = r
		}
	}
	if len(x.refs) == 0 {
		return nil
	}
	return x
}
