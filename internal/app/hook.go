package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/mnemo-mcp/mnemo/internal/hooks"
	"github.com/mnemo-mcp/mnemo/pkg/config"
	"github.com/mnemo-mcp/mnemo/pkg/memory"
	"github.com/mnemo-mcp/mnemo/pkg/service"
)

// HookOpener opens, for a hook, the configured store and a service over it
// for the hook's project: keyword-only when emb is nil (no model load), or
// with the model the hook loads itself (MNEMO_HOOK_LOCAL_MODEL). Busy waits
// are bounded by the hook budget, not the store's usual 15 s, so a locked
// store cannot hold up the prompt.
func HookOpener(cfg config.Config, log *slog.Logger, emb service.Embedder) func(context.Context, string) (hooks.Memories, func() error, error) {
	return func(ctx context.Context, proj string) (hooks.Memories, func() error, error) {
		st, err := OpenStore(ctx, cfg, log, cfg.HookBudget, true) // capture's writes fail clearly; its notes stay spooled
		if err != nil {
			return nil, nil, err
		}
		svc, err := NewService(cfg, st, emb, proj, memory.SourceHook, log)
		if err != nil {
			st.Close()
			return nil, nil, err
		}
		closeFn := func() error {
			// The answer is out; the prompt waits for our exit, so uses the
			// store is too busy to record at once are spooled instead.
			ctx, cancel := context.WithTimeout(context.Background(), hookUsesWait)
			defer cancel()
			svc.Close(ctx)
			return st.Close()
		}
		return svc, closeFn, nil
	}
}

// hookUsesWait bounds how long a hook, after answering, tries to record the
// uses of its recall before spooling them.
const hookUsesWait = 250 * time.Millisecond
