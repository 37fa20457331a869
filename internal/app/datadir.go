package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/mnemo-mcp/mnemo/internal/storemove"
	"github.com/mnemo-mcp/mnemo/pkg/config"
)

// DataDir says what settling the data dir did (SettleHome): the store moved
// from the legacy folder to the platform's, stays there for now, or nothing.
type DataDir struct {
	From, To string
	Moved    bool   // this process moved the store
	Copied   bool   // by copying it (another file system)
	Kept     string // why the store stays in From for now
	Leftover string // what could not be cleaned up after a move
}

// held keeps, for the process's life, the shared lock of a process using the
// legacy folder in place (no move starts under it).
var (
	heldMu sync.Mutex
	held   []storemove.Result
)

// LoadConfig is config.FromEnv with the data dir settled (SettleHome): what
// every command that opens the store starts from. wait bounds waiting for
// another process moving the store (0: storemove.DefaultWait).
func LoadConfig(ctx context.Context, wait time.Duration) (config.Config, DataDir, error) {
	cfg, err := config.FromEnv()
	if err != nil {
		return cfg, DataDir{}, err
	}
	d, err := SettleHome(ctx, &cfg, wait)
	return cfg, d, err
}

// SettleHome is the one place the data dir is settled before anything opens
// a file in it. When MNEMO_HOME is unset and the store is still in the
// folder earlier versions used (~/.local/share/mnemo) while the platform's
// data dir has none, the store moves there (package storemove: locked,
// atomic or verified, never while another process has it open); cfg.Home is
// then the platform's folder. A store that cannot move now is used where it
// is, and moves at a later start. The process that moves it says so on
// stderr when that is a terminal; Log puts it in the log.
func SettleHome(ctx context.Context, cfg *config.Config, wait time.Duration) (DataDir, error) {
	var o storemove.Options
	switch {
	case cfg.MoveTo != "":
		o = storemove.Options{From: cfg.Home, To: cfg.MoveTo, Wait: wait}
	case cfg.LegacyHome != "" && cfg.Home == cfg.PlatformHome:
		// Finish a move an interruption cut short (cheap otherwise).
		o = storemove.Options{From: cfg.LegacyHome, To: cfg.Home, Wait: wait}
	default:
		return DataDir{}, nil
	}
	r, err := storemove.Settle(ctx, o)
	if err != nil {
		return DataDir{From: o.From, To: o.To}, err
	}
	if r.Kept != "" {
		heldMu.Lock()
		held = append(held, r)
		heldMu.Unlock()
	}
	cfg.Home = r.Home
	if r.Home == o.To {
		cfg.MoveTo = ""
	}
	d := DataDir{From: o.From, To: o.To, Moved: r.Moved, Copied: r.Copied, Kept: r.Kept, Leftover: r.Leftover}
	if d.Moved && term.IsTerminal(int(os.Stderr.Fd())) {
		fmt.Fprintf(os.Stderr, "mnemo: moved your memory store from %s to %s (this system's data folder)\n", d.From, d.To)
	}
	return d, nil
}

// Log records in log what SettleHome did, if anything.
func (d DataDir) Log(log *slog.Logger) {
	switch {
	case d.Moved:
		log.Info("moved the store to this system's data folder", "from", d.From, "to", d.To, "copied", d.Copied)
	case d.Kept == storemove.KeptJoined:
		log.Debug("the store stays in the legacy data folder for now", "dir", d.From, "why", d.Kept)
	case d.Kept != "":
		log.Info("the store stays in the legacy data folder for now; it moves at a later start", "dir", d.From, "to", d.To, "why", d.Kept)
	}
	if d.Leftover != "" {
		log.Warn("after moving the store: "+d.Leftover, "from", d.From, "to", d.To)
	}
}
