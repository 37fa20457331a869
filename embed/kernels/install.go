package kernels

import (
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/mnemo-mcp/mnemo/embed/kernels/vec"
)

// VerifiedGoMLX is the GoMLX version whose simplego internals this
// package was checked against (simplego.go, gemm.go). Any other version
// gets nothing installed: a changed executor signature would still link
// through go:linkname and be called with the wrong layout.
const VerifiedGoMLX = "v0.27.3"

const gomlxModule = "github.com/gomlx/gomlx"

// Report says what Install put in place.
type Report struct {
	// Level is the vec implementation in use ("avx512", "avx2", "neon",
	// "generic"); Best is the best this CPU could run.
	Level, Best string
	// GEMM: mnemo's GEMM is registered with packgemm. Executors: the
	// element-wise executors replace simplego's.
	GEMM, Executors bool
	// Err is why something did not install (nil when all did).
	Err error
}

// Degraded reports whether this machine could run a faster path than the
// one installed.
func (r Report) Degraded() bool {
	return r.Err != nil || !r.GEMM || !r.Executors || r.Level != r.Best
}

// String describes the report for people: "avx512 kernels: mnemo GEMM,
// vectorised executors".
func (r Report) String() string {
	if !r.GEMM && !r.Executors {
		s := "simplego's own kernels (portable Go)"
		if r.Err != nil {
			s += ": " + r.Err.Error()
		}
		return s
	}
	parts := []string{r.Level + " kernels"}
	if r.GEMM {
		parts = append(parts, "mnemo GEMM")
	}
	if r.Executors {
		parts = append(parts, "vectorised executors")
	}
	s := strings.Join(parts, ", ")
	if r.Level != r.Best {
		s += fmt.Sprintf(" (this CPU could run %s)", r.Best)
	}
	if r.Err != nil {
		s += "; " + r.Err.Error()
	}
	return s
}

var state struct {
	mu        sync.Mutex
	done      bool
	report    Report
	gemm      atomic.Bool
	executors atomic.Bool
}

// Install selects the kernels (level "" for the best this CPU runs, or
// one of vec.Levels() to cap it), registers mnemo's GEMM with packgemm
// and replaces simplego's executors for FusedSoftmax, FusedDense, Add,
// Sub, Mul, Div, ReduceSum, Transpose, BroadcastInDim, Gather and
// FusedScaledDotProductAttention, each keeping the executor it replaced
// for the cases it does not take.
// Process-wide: the first call decides (later calls return its report).
// It installs nothing, and says why, when the GoMLX in this binary is not
// the verified version or simplego's internals are not laid out as
// expected; the engine then runs simplego's own kernels.
func Install(level string) Report {
	state.mu.Lock()
	defer state.mu.Unlock()
	if state.done {
		return state.report
	}
	state.done = true
	r := Report{Best: vec.Best()}
	if level != "" {
		if err := vec.Use(level); err != nil {
			r.Err = err
		}
	}
	r.Level = vec.Active()
	if err := checkGoMLX(buildInfo()); err != nil {
		r.Err = err
		state.report = r
		return r
	}
	if err := installGEMM(); err != nil {
		r.Err = errors.Join(r.Err, fmt.Errorf("GEMM not installed: %w", err))
	} else {
		r.GEMM = true
		state.gemm.Store(true)
	}
	if err := installExecutors(); err != nil {
		r.Err = errors.Join(r.Err, fmt.Errorf("executors not installed: %w", err))
	} else {
		r.Executors = true
		state.executors.Store(true)
	}
	state.report = r
	return r
}

// Installed returns the report of the Install that ran, if any.
func Installed() (Report, bool) {
	state.mu.Lock()
	defer state.mu.Unlock()
	return state.report, state.done
}

// GoMLX returns the GoMLX version this binary holds ("" when its build
// information does not say) and the version guard's verdict on it: nil
// when Install would put the kernels in place.
func GoMLX() (version string, err error) {
	bi := buildInfo()
	if bi != nil {
		for _, d := range bi.Deps {
			if d.Path == gomlxModule {
				version = d.Version
			}
		}
	}
	return version, checkGoMLX(bi)
}

func buildInfo() *debug.BuildInfo {
	bi, _ := debug.ReadBuildInfo()
	return bi
}

// checkGoMLX is the version guard. A test binary's build info lists no
// modules; there go.mod is checked instead (TestGoModPinsVerifiedGoMLX).
func checkGoMLX(bi *debug.BuildInfo) error {
	if bi == nil {
		return errors.New("no build information in this binary: cannot verify the GoMLX version")
	}
	if len(bi.Deps) == 0 && testing.Testing() {
		return nil
	}
	for _, d := range bi.Deps {
		if d.Path != gomlxModule {
			continue
		}
		if d.Replace != nil {
			return fmt.Errorf("%s is replaced (%s %s): mnemo's kernels are verified only against %s", gomlxModule, d.Replace.Path, d.Replace.Version, VerifiedGoMLX)
		}
		if d.Version != VerifiedGoMLX {
			return fmt.Errorf("%s %s: mnemo's kernels are verified only against %s", gomlxModule, d.Version, VerifiedGoMLX)
		}
		return nil
	}
	return fmt.Errorf("%s not in this binary's build information", gomlxModule)
}

// installExecutors swaps the executor table's entries (simplego.go).
func installExecutors() error {
	if err := findNodeLayout(); err != nil {
		return err
	}
	wrap := map[backends.OpType]func(executor) executor{
		backends.OpTypeFusedSoftmax:                   softmaxExec,
		backends.OpTypeFusedDense:                     denseExec,
		backends.OpTypeReduceSum:                      reduceSumExec,
		backends.OpTypeTranspose:                      transposeExec,
		backends.OpTypeBroadcastInDim:                 broadcastExec,
		backends.OpTypeGather:                         gatherExec,
		backends.OpTypeFusedScaledDotProductAttention: sdpaExec,
	}
	for _, op := range []backends.OpType{backends.OpTypeAdd, backends.OpTypeSub, backends.OpTypeMul, backends.OpTypeDiv} {
		wrap[op] = func(prev executor) executor { return binaryExec(op, prev) }
	}
	for op := range wrap {
		if nodeExecutors[op] == nil {
			return errors.New("simplego has no executor for " + op.String())
		}
	}
	for op, w := range wrap {
		nodeExecutors[op] = w(nodeExecutors[op])
	}
	return nil
}

// BackendConfig is the simplego configuration the forward pass should run
// with once Install has run: packgemm routes every float32 DotGeneral in
// matmul order (after the graph rewrite: every linear layer and both
// attention products) through packgemm's registrations, where mnemo's
// GEMM sits first. ops_sequential: simplego otherwise runs each op on a
// new goroutine, whose stack then grows on every product and which is
// woken through a futex; a BERT pass is a chain of ops, and the
// executors and the GEMM split their own work over the cores, so ops run
// one after another in the caller's goroutine (a 12-token query 6.8 →
// 5.2 ms, docs/perf.md). "" (simplego's default) when the GEMM did not
// install.
func BackendConfig() string {
	if state.gemm.Load() {
		return "packgemm,ops_sequential"
	}
	return ""
}
