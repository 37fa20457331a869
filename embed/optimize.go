package embed

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"github.com/mnemo-mcp/mnemo/embed/onnxrewrite"
	"k8s.io/klog/v2"
)

// rewrittenModel returns a folder holding the model with its graph
// rewritten for the fast GEMM path (package onnxrewrite), creating it in the
// cache on first use: the tokenizer and config files are copied beside
// the rewritten model.onnx, so hugot loads it as it would the original.
// ok is false when the model needs no rewrite, rewrite is false
// (Options.NoGraphRewrite) or the cache is unusable; the caller then loads
// the original.
func rewrittenModel(cacheRoot, dir, onnxRel, sha string, rewrite bool) (rdir string, ok bool, err error) {
	if !rewrite { // Options.NoGraphRewrite
		return "", false, nil
	}
	src := filepath.Join(dir, filepath.FromSlash(onnxRel))
	// The copied tokenizer/config files are part of the entry too.
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00", sha, onnxrewrite.Version)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return "", false, err
	}
	for _, e := range ents {
		if info, err := os.Stat(filepath.Join(dir, e.Name())); err == nil && info.Mode().IsRegular() && !strings.Contains(e.Name(), ".onnx") {
			fmt.Fprintf(h, "%s\x00%d\x00%d\x00", e.Name(), info.Size(), info.ModTime().UnixNano())
		}
	}
	root := filepath.Join(cacheRoot, "graphs")
	rdir = filepath.Join(root, filepath.Base(dir)+"-"+hex.EncodeToString(h.Sum(nil)[:8]))
	defer func() { pruneGraphs(root, rdir, time.Now()) }()
	if _, err := os.Stat(filepath.Join(rdir, "model.onnx")); err == nil {
		touch(rdir)
		return rdir, true, nil
	}
	if _, err := os.Stat(filepath.Join(rdir, "no-rewrite")); err == nil {
		touch(rdir)
		return "", false, nil
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", false, err
	}
	tmp, err := os.MkdirTemp(root, ".tmp-")
	if err != nil {
		return "", false, err
	}
	defer os.RemoveAll(tmp)
	model, err := os.ReadFile(src)
	if err != nil {
		return "", false, err
	}
	out, data, n, err := onnxrewrite.RewriteExternal(model)
	if err != nil {
		return "", false, err
	}
	if n == 0 {
		// Remember that this model has nothing to rewrite.
		_ = os.WriteFile(filepath.Join(tmp, "no-rewrite"), nil, 0o644)
		_ = os.Rename(tmp, rdir)
		return "", false, nil
	}
	if err := os.WriteFile(filepath.Join(tmp, "model.onnx"), out, 0o644); err != nil {
		return "", false, err
	}
	if data.Size() > 0 {
		if err := writeFileFrom(filepath.Join(tmp, onnxrewrite.ExternalDataFile), func(w io.Writer) error {
			_, err := data.WriteTo(w)
			return err
		}); err != nil {
			return "", false, err
		}
	}
	model, data = nil, nil
	// The model's bytes and the rewrite are garbage now: hand the pages
	// back before the model loads, or they sit under the load's RSS peak
	// (first load on a machine: 290 → ~150 MiB, docs/perf.md).
	runtime.GC()
	debug.FreeOSMemory()
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".onnx") || strings.HasSuffix(e.Name(), ".onnx_data") {
			continue
		}
		// Stat, not e.Info: test and user folders often hold symlinks.
		if info, err := os.Stat(filepath.Join(dir, e.Name())); err != nil || !info.Mode().IsRegular() || info.Size() > 32<<20 {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return "", false, err
		}
		if err := os.WriteFile(filepath.Join(tmp, e.Name()), b, 0o644); err != nil {
			return "", false, err
		}
	}
	if err := os.Rename(tmp, rdir); err != nil {
		// Another process got there first: use its copy.
		if _, serr := os.Stat(filepath.Join(rdir, "model.onnx")); serr == nil {
			return rdir, true, nil
		}
		return "", false, err
	}
	return rdir, true, nil
}

// touch marks a rewritten model's folder as used now (its modification
// time), which is what pruneGraphs keeps by.
func touch(dir string) {
	now := time.Now()
	_ = os.Chtimes(dir, now, now)
}

// Rewritten models are ~90 MB each (MiniLM) and a new one is made for
// every rewrite version (onnxrewrite.Version), every change to the model
// folder's files and every model folder: without pruning, a machine that
// upgraded mnemo a few times keeps them all.
const (
	// graphSupersededAfter: another entry of the same model folder, unused
	// this long, was made by an older mnemo or for the folder's older
	// files. Not at once: an older mnemo running beside this one may still
	// load its own (it would rewrite again, ~1 s, if this one removed it).
	graphSupersededAfter = 24 * time.Hour
	// graphUnusedAfter: any entry unused this long (a model no longer in
	// use, a test's temporary folder).
	graphUnusedAfter = 30 * 24 * time.Hour
)

// pruneGraphs removes the rewritten models under root that have not been
// used for a while: those of the same model folder as keep (named
// base-hash) unused for graphSupersededAfter, any unused for
// graphUnusedAfter. Folders being written (.tmp-*) are left alone; errors
// are ignored (another process may be pruning or loading too).
func pruneGraphs(root, keep string, now time.Time) {
	ents, err := os.ReadDir(root)
	if err != nil {
		return
	}
	base := filepath.Base(keep)
	if i := strings.LastIndexByte(base, '-'); i > 0 {
		base = base[:i+1]
	}
	for _, e := range ents {
		name := e.Name()
		if !e.IsDir() || strings.HasPrefix(name, ".") || filepath.Join(root, name) == keep {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		idle := now.Sub(info.ModTime())
		sameModel := strings.HasPrefix(name, base) && !strings.Contains(name[len(base):], "-")
		if idle > graphUnusedAfter || sameModel && idle > graphSupersededAfter {
			_ = os.RemoveAll(filepath.Join(root, name))
		}
	}
}

// dropONNXWeights frees the raw bytes of the large initializers in the
// parsed ONNX model that hugot keeps beside the GoMLX variables: once the
// variables are loaded, the graph needs only the initializers' shapes and
// the small integer constants (shape arithmetic, ≤ 10 000 elements, which
// onnx-gomlx may fold). Saves the model's size in RSS (88 MB for MiniLM).
// onnx-gomlx's model type is internal, so this goes through reflection and
// does nothing if the layout is not the one expected.
func dropONNXWeights(model any) (freed int) {
	defer func() {
		if recover() != nil {
			freed = 0
		}
	}()
	v := reflect.ValueOf(model)
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return 0
	}
	p := v.FieldByName("Proto")
	if !p.IsValid() {
		return 0
	}
	g := p.FieldByName("Graph")
	if !g.IsValid() || g.Kind() != reflect.Pointer || g.IsNil() {
		return 0
	}
	inits := g.Elem().FieldByName("Initializer")
	if !inits.IsValid() || inits.Kind() != reflect.Slice {
		return 0
	}
	const keep = 40_000 // bytes: 10 000 four-byte elements
	for i := range inits.Len() {
		t := inits.Index(i)
		if t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		for _, f := range []string{"RawData", "FloatData"} {
			d := t.FieldByName(f)
			if !d.IsValid() || d.Kind() != reflect.Slice || !d.CanSet() {
				continue
			}
			size := d.Len() * int(d.Type().Elem().Size())
			if size > keep {
				freed += size
				d.SetZero()
			}
		}
	}
	return freed
}

// quietGoMLX routes GoMLX's klog output (e.g. "AVX512 GEMM … still
// experimental!") away from stderr, which mnemo's CLI and hooks own.
var quietGoMLX = sync.OnceFunc(func() { klog.SetLogger(logr.Discard()) })

// writeFileFrom creates path with what write writes.
func writeFileFrom(path string, write func(io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
