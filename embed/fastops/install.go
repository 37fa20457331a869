//go:build amd64 && goexperiment.simd

package fastops

import (
	"errors"
	"simd/archsimd"
	"sync"
	"sync/atomic"

	"github.com/gomlx/gomlx/backends"
)

var install struct {
	once sync.Once
	err  error
	done atomic.Bool
}

// Install replaces simplego's executors for FusedSoftmax, FusedDense,
// Add, Sub, Mul, Div, ReduceSum, Transpose, BroadcastInDim and Gather with this package's, process-wide and
// once; each keeps the executor it replaced for the cases it does not
// take. It fails, changing nothing, without AVX-512 or when simplego's
// internals are not laid out as this package expects.
func Install() error {
	install.once.Do(func() {
		if !archsimd.X86.AVX512() {
			install.err = errors.New("fast executors need AVX-512")
			return
		}
		if install.err = findNodeLayout(); install.err != nil {
			return
		}
		wrap := map[backends.OpType]func(executor) executor{
			backends.OpTypeFusedSoftmax:   softmaxExec,
			backends.OpTypeFusedDense:     denseExec,
			backends.OpTypeReduceSum:      reduceSumExec,
			backends.OpTypeTranspose:      transposeExec,
			backends.OpTypeBroadcastInDim: broadcastExec,
			backends.OpTypeGather:         gatherExec,
		}
		for _, op := range []backends.OpType{backends.OpTypeAdd, backends.OpTypeSub, backends.OpTypeMul, backends.OpTypeDiv} {
			wrap[op] = func(prev executor) executor { return binaryExec(op, prev) }
		}
		for op := range wrap {
			if nodeExecutors[op] == nil {
				install.err = errors.New("simplego has no executor for " + op.String())
				return
			}
		}
		for op, w := range wrap {
			nodeExecutors[op] = w(nodeExecutors[op])
		}
		install.done.Store(true)
	})
	return install.err
}

// Installed reports whether Install replaced simplego's executors.
func Installed() bool { return install.done.Load() }

// Supported reports whether this build and CPU can run the executors.
func Supported() bool { return archsimd.X86.AVX512() }
