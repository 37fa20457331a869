package embed

import (
	"fmt"
	"os"

	"github.com/gomlx/gomlx/backends/simplego"
	gomlxcontext "github.com/gomlx/gomlx/pkg/ml/context"
)

// backendConfig is the GoMLX simplego configuration the forward pass runs
// with. hugot creates its backend as plain "go"; mnemo swaps in its own
// before the first graph is built (graphs, and with them the matmul
// execution paths, are chosen lazily at the first call of each shape).
// MNEMO_GOMLX_CONFIG overrides it for experiments (docs/perf.md).
func backendConfig() string {
	if v, ok := os.LookupEnv("MNEMO_GOMLX_CONFIG"); ok {
		return v
	}
	return defaultBackendConfig
}

// defaultBackendConfig enables packgemm, simplego's packed GEMM (AVX-512
// kernel under GOEXPERIMENT=simd, portable Go kernel otherwise), for every
// DotGeneral in matmul order: after the graph rewrite that is every linear
// layer and both attention products.
const defaultBackendConfig = "packgemm"

// tuneBackend replaces hugot's GoMLX backend and executor with ones built
// from backendConfig. The weights stay where hugot put them (gm.Ctx).
func (rt *loaded) tuneBackend(o Options) error {
	gm := rt.pipe.Model.GoMLXModel
	if gm == nil {
		return fmt.Errorf("hugot session has no GoMLX model")
	}
	dropONNXWeights(gm.OnnxModel)
	cfg := backendConfig()
	if cfg == "" {
		return nil
	}
	quietGoMLX()
	b, err := simplego.New(cfg)
	if err != nil {
		return fmt.Errorf("GoMLX backend config %q: %w", cfg, err)
	}
	exec, err := gomlxcontext.NewExec(b, gm.Ctx, gm.Call)
	if err != nil {
		b.Finalize()
		return fmt.Errorf("GoMLX executor: %w", err)
	}
	exec.SetMaxCache(gm.MaxCache)
	gm.Exec.Finalize()
	gm.Backend.Finalize()
	ctx := gm.Ctx
	gm.Exec, gm.Backend = exec, b
	gm.Destroy = func() {
		exec.Finalize()
		ctx.Finalize()
		b.Finalize()
	}
	return nil
}
