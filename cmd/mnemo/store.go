package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/mnemo-mcp/mnemo/pkg/config"
	"github.com/mnemo-mcp/mnemo/pkg/memory"
	"github.com/mnemo-mcp/mnemo/pkg/postgres"
	"github.com/mnemo-mcp/mnemo/pkg/sqlite"
)

// openStore opens the store the configuration selects: PostgreSQL when
// MNEMO_STORE is a postgres:// URL (a team's shared memory), else the SQLite
// file in MNEMO_HOME. wait bounds opening and lock waits (0 = the stores'
// defaults); hooks pass their time budget so a busy store cannot stall a prompt.
// readOnlyOK lets a reading command open a SQLite store it may read but not
// write, read-only (every write then fails saying why).
func openStore(ctx context.Context, cfg config.Config, log *slog.Logger, wait time.Duration, readOnlyOK bool) (memory.Store, error) {
	switch {
	case cfg.Store == "":
	case postgres.IsURL(cfg.Store):
		if wait > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, wait)
			defer cancel()
		}
		st, err := postgres.Open(ctx, cfg.Store, postgres.WithLogger(log))
		if err != nil {
			return nil, fmt.Errorf("open PostgreSQL store (MNEMO_STORE): %w", err)
		}
		return st, nil
	default:
		return nil, fmt.Errorf("MNEMO_STORE=%q: want a postgres:// URL, or unset it for the local SQLite store", cfg.Store)
	}
	if err := cfg.EnsureHome(); err != nil {
		return nil, err
	}
	opts := []sqlite.Option{sqlite.WithLogger(log)}
	if readOnlyOK {
		opts = append(opts, sqlite.WithReadOnlyFallback())
	}
	if wait > 0 {
		opts = append(opts, sqlite.WithBusyTimeout(wait), sqlite.WithOpenTimeout(wait))
	}
	st, err := sqlite.Open(ctx, cfg.DBPath(), opts...)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", cfg.DBPath(), err)
	}
	return st, nil
}

// readOnlyNote is the one line a reading command prints when it opened the
// store read-only ("" when the store is writable).
func readOnlyNote(st memory.Store) string {
	ro, ok := st.(interface{ ReadOnly() string })
	if !ok || ro.ReadOnly() == "" {
		return ""
	}
	return fmt.Sprintf("mnemo: note: opened the store read-only: %s", ro.ReadOnly())
}
