// Package app assembles what a mnemo process works with, in one order:
// configuration → logger → store (SQLite or PostgreSQL, as MNEMO_STORE
// says) → embedding engine → memory service, and takes it down in reverse.
// The CLI's commands, serve and the hooks use it; cmd/mnemo keeps flags and
// output only.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/user"
	"time"

	"github.com/mnemo-mcp/mnemo/embed"
	"github.com/mnemo-mcp/mnemo/pkg/config"
	"github.com/mnemo-mcp/mnemo/pkg/logging"
	"github.com/mnemo-mcp/mnemo/pkg/memory"
	"github.com/mnemo-mcp/mnemo/pkg/postgres"
	"github.com/mnemo-mcp/mnemo/pkg/project"
	"github.com/mnemo-mcp/mnemo/pkg/service"
	"github.com/mnemo-mcp/mnemo/pkg/spool"
	"github.com/mnemo-mcp/mnemo/pkg/sqlite"
)

// ModelLoad says whether and how Open starts the embedding model.
type ModelLoad int

const (
	// ModelNone opens no model: commands that only read or write rows
	// (list, forget, stats, export, import) start instantly.
	ModelNone ModelLoad = iota
	// ModelBackground starts loading and returns at once (serve, hooks):
	// the service answers by keyword until the model is ready.
	ModelBackground
	// ModelSync loads the model before Open returns (CLI remember,
	// recall, reembed). A load failure is not an Open error: it is in
	// app.modelErr and the service's ModelStatus, and the command decides.
	ModelSync
)

// Options configures Open.
type Options struct {
	// Process names the entry point in logs ("remember", "serve", "hook").
	Process string
	// Source stamps memories written without an explicit source.
	Source memory.Source
	// Model selects whether and how the embedding model is loaded.
	Model ModelLoad
	// ModelName overrides MNEMO_MODEL (the --model flag); "" keeps config.
	ModelName string
	// StderrLevel is the lowest level logged to stderr: "" = the configured
	// level (MNEMO_LOG_LEVEL), "off" = nothing on stderr. CLI commands use
	// "warn"; the log file always gets the configured level.
	StderrLevel string
	// Progress receives model download/load progress lines (nil: none).
	Progress io.Writer
	// QuietModel: the command reports the model's state itself (ModelHelp),
	// so the engine's retries and errors go to the log file only, not to
	// Stderr as a burst of WARN/ERROR lines before the command's message.
	QuietModel bool
	// EmbedMissing starts a background job that, once the model is ready,
	// embeds the memories without a vector of it: stored without one
	// (written while a model loaded, by hooks, or imported), then those
	// with another model's vector (service.EmbedBackground, low priority).
	// Long-lived processes (serve) set it; Close stops it.
	EmbedMissing bool
	// Writes marks a command that writes the store: it first stores what
	// earlier processes spooled because the store was busy (captured notes,
	// recorded uses), in the background; Close waits a little for it.
	Writes bool
	// ReadOnlyOK marks a reading command: a store this user may read but
	// not write opens read-only, with a one-line note on stderr.
	ReadOnlyOK bool
	// DrainEvery, for a long-lived process (serve), applies the spool again
	// at this interval: hooks keep spooling while it runs.
	DrainEvery time.Duration
	// Stderr receives the log lines at StderrLevel and the read-only note
	// (nil: none).
	Stderr io.Writer
}

// Bounds of the background work an app finishes at Close. A command's
// answer is out by then, but the user waits for the process to exit; what
// does not make it stays spooled for the next process.
const (
	CloseUsesWait  = time.Second     // recording the uses of this process's recalls
	CloseDrainWait = 2 * time.Second // applying the spool
)

// App is what a command works with: configuration, logger, store,
// engine and the memory service over them.
type App struct {
	Cfg     config.Config
	Log     *slog.Logger
	Store   memory.Store
	Engine  *embed.Engine // nil with ModelNone
	Emb     *Embedder     // nil with ModelNone
	Svc     *service.Service
	Project string

	closers []func() error
}

// Open builds config → logger → store → engine → service. Close the app
// when done. The context bounds opening the store and a synchronous model
// load, not the app's lifetime.
func Open(ctx context.Context, o Options) (*App, error) {
	cfg, moved, err := LoadConfig(ctx, 0)
	if err != nil {
		return nil, err
	}
	if o.ModelName != "" {
		cfg.Model = o.ModelName
	}
	if err := cfg.EnsureHome(); err != nil {
		return nil, err
	}
	a := &App{Cfg: cfg}
	var fileLog *slog.Logger
	a.Log, fileLog = newLogger(cfg, o, &a.closers)
	moved.Log(a.Log)

	cwd, _ := os.Getwd()
	a.Project = project.Detect(os.Getenv, cwd)

	st, err := OpenStore(ctx, cfg, a.Log, 0, o.ReadOnlyOK)
	if err != nil {
		a.Close()
		return nil, err
	}
	if note := ReadOnlyNote(st); note != "" && o.Stderr != nil {
		fmt.Fprintln(o.Stderr, note)
	}
	a.Store = st
	a.closers = append(a.closers, st.Close)

	if o.Model != ModelNone {
		engineLog := a.Log
		if o.QuietModel {
			engineLog = fileLog
		}
		eo := EngineOptions(cfg, engineLog)
		// An idle server releases the model after MNEMO_KEEP_ALIVE and
		// reloads it on the next call; short-lived commands never idle.
		eo.KeepAlive = cfg.KeepAlive
		if o.Progress != nil {
			eo.Progress = o.Progress
		}
		a.Engine = embed.New(eo)
		a.closers = append(a.closers, a.Engine.Close)
		a.Emb = NewEmbedder(a.Engine, cfg.Model)
		if o.Model == ModelSync {
			if err := a.Emb.Wait(ctx); err != nil && ctx.Err() != nil {
				a.Close()
				return nil, ctx.Err()
			}
		}
	}

	var emb service.Embedder
	if a.Emb != nil {
		emb = a.Emb
	}
	a.Svc, err = NewService(cfg, st, emb, a.Project, o.Source, a.Log)
	if err != nil {
		a.Close()
		return nil, err
	}
	a.closers = append(a.closers, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), CloseUsesWait)
		defer cancel()
		return a.Svc.Close(ctx)
	})
	if o.Writes {
		a.startDrain(o.DrainEvery)
	}
	if o.EmbedMissing && a.Emb != nil {
		a.startEmbedMissing()
	}
	return a, nil
}

// NewService is the memory service over st (and emb, nil for none) as the
// configuration wants it: the one place that turns a Config into
// service.Options, for Open and for the hooks' own store opener.
func NewService(cfg config.Config, st memory.Store, emb service.Embedder, project string, source memory.Source, log *slog.Logger) (*service.Service, error) {
	return service.New(service.Options{
		Store:           st,
		Embedder:        emb,
		Project:         project,
		Source:          source,
		Author:          Author(),
		MaxContentBytes: cfg.MaxContentBytes,
		Logger:          log,
		KeepSecrets:     !cfg.Redact,
		SpillUses:       spillUses(cfg.Home, log),
		HalfLife:        cfg.RecencyHalfLife,
	})
}

// spillUses spools the recalled memories whose use the store was too busy
// to record before the process ends; the next writing process records them.
func spillUses(home string, log *slog.Logger) func([]string) {
	return func(ids []string) {
		if _, err := spool.Write(spool.Dir(home), spool.Record{Kind: spool.KindTouch, IDs: ids}); err != nil {
			log.Warn("could not spool memory uses for later", "ids", len(ids), "err", err)
		}
	}
}

// startDrain applies the spool in the background (the command's own work
// does not wait for it); Close waits up to CloseDrainWait for it to finish.
func (a *App) startDrain(every time.Duration) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			r, err := spool.Drain(ctx, spool.Dir(a.Cfg.Home), a.Store, a.Log)
			if err != nil && ctx.Err() == nil {
				a.Log.Warn("storing spooled writes failed; they stay spooled for the next process", "err", err, "left", r.Left)
			}
			if r.Files > 0 {
				a.Log.Info("stored spooled writes", "files", r.Files, "notes", r.Notes, "already_stored", r.Dups,
					"uses", r.Touched, "dropped", r.Dropped)
			}
			if every <= 0 {
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(every):
			}
		}
	}()
	a.closers = append(a.closers, func() error {
		if every > 0 {
			cancel() // a server stops its loop at once
		}
		select {
		case <-done:
		case <-time.After(CloseDrainWait):
			// The store is busy; a write in flight finishes or rolls
			// back on its own, and the file stays for the next process.
		}
		cancel()
		return nil
	})
}

// startEmbedMissing loads the store's in-memory indexes once the model is
// ready (service.WarmIndexes), then runs service.EmbedBackground: the
// memories without a vector of the running model (none yet, or another
// model's) get one, at low priority, with progress in the log. Close
// cancels it and waits, before the engine and store close.
func (a *App) startEmbedMissing() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := a.Svc.WarmIndexes(ctx); err != nil && ctx.Err() == nil {
			a.Log.Warn("loading the store's in-memory indexes failed; the first recall tries again", "err", err)
		}
		var last time.Time
		n, err := a.Svc.EmbedBackground(ctx, func(p service.BackgroundProgress) {
			switch {
			case p.Finished:
				if p.Done > 0 {
					a.Log.Info("background embedding done: every memory has a vector of the current model", "embedded", p.Done)
				}
			case last.IsZero() || time.Since(last) >= 10*time.Second:
				last = time.Now()
				a.Log.Info("background embedding", "done", p.Done, "of", p.Total,
					"without_vector", p.Missing, "other_model", p.Other)
			}
		})
		if err != nil && ctx.Err() == nil {
			a.Log.Warn("background embedding failed; recalls cannot compare the memories left by meaning (run mnemo reembed)", "embedded", n, "err", err)
		}
	}()
	a.closers = append(a.closers, func() error { cancel(); <-done; return nil })
}

// ModelErr is the model's load error (nil when ready, loading or none).
func (a *App) ModelErr() error {
	if a.Emb == nil {
		return nil
	}
	return a.Emb.LoadError()
}

// Close releases the engine, the store and the log file, in that order.
func (a *App) Close() error {
	var errs []error
	for i := len(a.closers) - 1; i >= 0; i-- {
		errs = append(errs, a.closers[i]())
	}
	a.closers = nil
	return errors.Join(errs...)
}

// newLogger logs to the log file at the configured level and to stderr
// at stderrLevel; it also returns the log file's logger alone.
func newLogger(cfg config.Config, o Options, closers *[]func() error) (log, fileLog *slog.Logger) {
	proc := o.Process
	fileLog, closeFile := logging.New(logging.Options{Level: cfg.LogLevel, Path: cfg.LogPath(), Stderr: nil, Process: proc})
	*closers = append(*closers, closeFile)
	if o.StderrLevel == "off" || o.Stderr == nil {
		return fileLog, fileLog
	}
	level := o.StderrLevel
	if level == "" {
		level = cfg.LogLevel
	}
	errLog, _ := logging.New(logging.Options{Level: level, Stderr: o.Stderr, Process: proc})
	return slog.New(slog.NewMultiHandler(fileLog.Handler(), errLog.Handler())), fileLog
}

// Author is user@host, recorded on new memories.
func Author() string {
	name := "unknown"
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		return name
	}
	return name + "@" + host
}

// Embedder adapts *embed.Engine to service.Embedder: it remembers the
// load error (the engine reports it through Wait) and exposes model info
// without touching the engine before it is ready.
type Embedder struct {
	e    *embed.Engine
	name string // configured model, reported if the engine names none

	done chan struct{}
	err  error // load error, set before done is closed
}

func NewEmbedder(e *embed.Engine, name string) *Embedder {
	a := &Embedder{e: e, name: name, done: make(chan struct{})}
	go func() {
		a.err = e.Wait(context.Background())
		close(a.done)
	}()
	return a
}

func (a *Embedder) Ready() bool { return a.e.Ready() }

func (a *Embedder) Wait(ctx context.Context) error {
	select {
	case <-a.done:
		return a.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (a *Embedder) LoadError() error {
	select {
	case <-a.done:
		return a.err
	default:
		return nil
	}
}

func (a *Embedder) Model() service.ModelInfo {
	in := a.e.Info() // only ModelID until the model is ready
	if in.ModelID == "" {
		in.ModelID = a.name
	}
	return service.ModelInfo{ID: in.ModelID, Dims: in.Dims, LoadTime: in.LoadTime}
}

func (a *Embedder) EmbedQuery(ctx context.Context, text string) ([]float32, error) {
	return a.e.EmbedQuery(ctx, text)
}

// EmbedQueryBeside is EmbedQuery on one core (embed.Beside): the caller
// runs other work meanwhile (service.BesideEmbedder).
func (a *Embedder) EmbedQueryBeside(ctx context.Context, text string) ([]float32, error) {
	return a.EmbedQuery(embed.Beside(ctx), text)
}

func (a *Embedder) EmbedDocuments(ctx context.Context, texts []string) ([][]float32, error) {
	return a.e.EmbedDocuments(ctx, texts)
}

func (a *Embedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	return a.e.Embed(ctx, texts)
}

// OpenStore opens the store the configuration selects: PostgreSQL when
// MNEMO_STORE is a postgres:// URL (a team's shared memory), else the SQLite
// file in MNEMO_HOME. wait bounds opening and lock waits (0 = the stores'
// defaults); hooks pass their time budget so a busy store cannot stall a prompt.
// readOnlyOK lets a reading command open a SQLite store it may read but not
// write, read-only (every write then fails saying why).
func OpenStore(ctx context.Context, cfg config.Config, log *slog.Logger, wait time.Duration, readOnlyOK bool) (memory.Store, error) {
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

// ReadOnlyNote is the one line a reading command prints when it opened the
// store read-only ("" when the store is writable).
func ReadOnlyNote(st memory.Store) string {
	ro, ok := st.(interface{ ReadOnly() string })
	if !ok || ro.ReadOnly() == "" {
		return ""
	}
	return fmt.Sprintf("mnemo: note: opened the store read-only: %s", ro.ReadOnly())
}

// NewEngine starts the engine the configuration describes (loading in
// the background); progress, if not nil, shows a first download.
func NewEngine(cfg config.Config, log *slog.Logger, progress io.Writer) *embed.Engine {
	o := EngineOptions(cfg, log)
	o.Progress = progress
	return embed.New(o)
}

// EngineOptions are the engine's options the configuration decides: the
// model, its cache, and the engine's own switches (MNEMO_KERNELS,
// MNEMO_GOMLX_CONFIG, MNEMO_GRAPH_REWRITE); the engine reads no
// environment itself.
func EngineOptions(cfg config.Config, log *slog.Logger) embed.Options {
	return embed.Options{
		Model: cfg.Model, CacheDir: cfg.CacheDir, Offline: cfg.Offline, HubURL: cfg.HubURL, Logger: log,
		Kernels: cfg.Kernels, GoMLXConfig: cfg.GoMLXConfig, NoGraphRewrite: !cfg.GraphRewrite,
	}
}
