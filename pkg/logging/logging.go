// Package logging sets up mnemo's structured logs: stderr plus an appending
// log file under the data dir that several processes share. Logs never go to
// stdout, which belongs to the MCP protocol and to hook output.
package logging

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/mnemo-mcp/mnemo/pkg/fsguard"
)

// MaxFileBytes is the size past which the log file is rotated (once, to
// mnemo.log.1) when a process opens it.
const MaxFileBytes = 5 << 20

// Options selects where logs go.
type Options struct {
	Level   string    // debug, info, warn, error
	Path    string    // log file; empty for none
	Stderr  io.Writer // nil for none (hooks keep stderr quiet)
	Process string    // added to every record, e.g. "serve", "hook"
}

// New returns a logger and a closer for its file. A log file that cannot be
// opened is not fatal: mnemo keeps working and says so on stderr.
func New(o Options) (*slog.Logger, func() error) {
	level := ParseLevel(o.Level)
	var handlers []slog.Handler
	closer := func() error { return nil }
	if o.Stderr != nil {
		handlers = append(handlers, slog.NewTextHandler(o.Stderr, &slog.HandlerOptions{Level: level}))
	}
	if o.Path != "" {
		f, err := openRotating(o.Path)
		if err != nil {
			if o.Stderr != nil {
				fmt.Fprintf(o.Stderr, "mnemo: log file disabled: %v\n", err)
			}
		} else {
			handlers = append(handlers, slog.NewJSONHandler(f, &slog.HandlerOptions{Level: level}))
			closer = f.Close
		}
	}
	var h slog.Handler = fanout(handlers)
	l := slog.New(h).With("pid", os.Getpid())
	if o.Process != "" {
		l = l.With("proc", o.Process)
	}
	return l, closer
}

// Discard is a logger that drops everything (tests, quiet commands).
func Discard() *slog.Logger { return slog.New(fanout(nil)) }

// ParseLevel maps a level name to slog's level; unknown names mean info.
func ParseLevel(s string) slog.Level {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug
	case "warn", "warning":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}

// openRotating opens the shared log file for appending. The folder must be
// the user's own (fsguard), and the file is opened without following a
// symlink: a link planted there must not make mnemo append to a file of
// someone else's choosing.
func openRotating(path string) (*os.File, error) {
	if err := fsguard.EnsureDir(filepath.Dir(path)); err != nil {
		return nil, err
	}
	if st, err := os.Lstat(path); err == nil && st.Mode().IsRegular() && st.Size() > MaxFileBytes {
		// Several processes may race to rotate; losing the race is harmless.
		_ = os.Rename(path, path+".1")
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND|fsguard.NoFollow, 0o600)
	if err != nil {
		if st, lerr := os.Lstat(path); lerr == nil && st.Mode()&fs.ModeSymlink != 0 {
			return nil, fmt.Errorf("%w: %s is a symlink: another user may have planted it; remove it (mnemo creates the log again)", fsguard.ErrUnsafe, path)
		}
		return nil, err
	}
	if err := fsguard.CheckOpened(f); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

type fanout []slog.Handler

func (f fanout) Enabled(ctx context.Context, l slog.Level) bool {
	for _, h := range f {
		if h.Enabled(ctx, l) {
			return true
		}
	}
	return false
}

func (f fanout) Handle(ctx context.Context, r slog.Record) error {
	var errs []error
	for _, h := range f {
		if h.Enabled(ctx, r.Level) {
			errs = append(errs, h.Handle(ctx, r.Clone()))
		}
	}
	return errors.Join(errs...)
}

func (f fanout) WithAttrs(as []slog.Attr) slog.Handler {
	out := make(fanout, len(f))
	for i, h := range f {
		out[i] = h.WithAttrs(as)
	}
	return out
}

func (f fanout) WithGroup(name string) slog.Handler {
	out := make(fanout, len(f))
	for i, h := range f {
		out[i] = h.WithGroup(name)
	}
	return out
}
