package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/user"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"golang.org/x/term"

	"github.com/mnemo-mcp/mnemo/embed"
	"github.com/mnemo-mcp/mnemo/pkg/config"
	"github.com/mnemo-mcp/mnemo/pkg/humantime"
	"github.com/mnemo-mcp/mnemo/pkg/logging"
	"github.com/mnemo-mcp/mnemo/pkg/memory"
	"github.com/mnemo-mcp/mnemo/pkg/project"
	"github.com/mnemo-mcp/mnemo/pkg/service"
	"github.com/mnemo-mcp/mnemo/pkg/spool"
)

// modelLoad says whether and how openApp starts the embedding model.
type modelLoad int

const (
	// modelNone opens no model: commands that only read or write rows
	// (list, forget, stats, export, import) start instantly.
	modelNone modelLoad = iota
	// modelBackground starts loading and returns at once (serve, hooks):
	// the service answers by keyword until the model is ready.
	modelBackground
	// modelSync loads the model before openApp returns (CLI remember,
	// recall, reembed). A load failure is not an openApp error: it is in
	// app.modelErr and the service's ModelStatus, and the command decides.
	modelSync
)

// appOptions configures openApp.
type appOptions struct {
	// process names the entry point in logs ("remember", "serve", "hook").
	process string
	// source stamps memories written without an explicit source.
	source memory.Source
	// model selects whether and how the embedding model is loaded.
	model modelLoad
	// modelName overrides MNEMO_MODEL (the --model flag); "" keeps config.
	modelName string
	// stderrLevel is the lowest level logged to stderr: "" = the configured
	// level (MNEMO_LOG_LEVEL), "off" = nothing on stderr. CLI commands use
	// "warn"; the log file always gets the configured level.
	stderrLevel string
	// progress receives model download/load progress lines (nil: none).
	progress io.Writer
	// embedMissing starts a background job that, once the model is ready,
	// embeds the memories stored without a vector (written while a model
	// loaded, by hooks, or imported). Long-lived processes (serve) set it;
	// Close stops it.
	embedMissing bool
	// writes marks a command that writes the store: it first stores what
	// earlier processes spooled because the store was busy (captured notes,
	// recorded uses), in the background; Close waits a little for it.
	writes bool
	// readOnlyOK marks a reading command: a store this user may read but
	// not write opens read-only, with a one-line note on stderr.
	readOnlyOK bool
	// drainEvery, for a long-lived process (serve), applies the spool again
	// at this interval: hooks keep spooling while it runs.
	drainEvery time.Duration
}

// Bounds of the background work an app finishes at Close. A command's
// answer is out by then, but the user waits for the process to exit; what
// does not make it stays spooled for the next process.
const (
	closeUsesWait  = time.Second     // recording the uses of this process's recalls
	closeDrainWait = 2 * time.Second // applying the spool
)

// app is the runtime a command works with: configuration, logger, store,
// engine and the memory service over them.
type app struct {
	cfg     config.Config
	log     *slog.Logger
	store   memory.Store
	engine  *embed.Engine // nil with modelNone
	emb     *engineEmbedder
	svc     *service.Service
	project string

	closers []func() error
}

// openApp builds config → logger → store → engine → service. Close the app
// when done. The context bounds opening the store and a synchronous model
// load, not the app's lifetime.
func openApp(ctx context.Context, env *runEnv, o appOptions) (*app, error) {
	cfg, err := config.FromEnv()
	if err != nil {
		return nil, err
	}
	if o.modelName != "" {
		cfg.Model = o.modelName
	}
	if err := cfg.EnsureHome(); err != nil {
		return nil, err
	}
	a := &app{cfg: cfg}
	a.log = newAppLogger(env, cfg, o, &a.closers)

	cwd, _ := os.Getwd()
	a.project = project.Detect(os.Getenv, cwd)

	st, err := openStore(ctx, cfg, a.log, 0, o.readOnlyOK)
	if err != nil {
		a.Close()
		return nil, err
	}
	if note := readOnlyNote(st); note != "" && env.stderr != nil {
		fmt.Fprintln(env.stderr, note)
	}
	a.store = st
	a.closers = append(a.closers, st.Close)

	if o.model != modelNone {
		eo := engineOptions(cfg, a.log)
		// An idle server releases the model after MNEMO_KEEP_ALIVE and
		// reloads it on the next call; short-lived commands never idle.
		eo.KeepAlive = cfg.KeepAlive
		if o.progress != nil {
			eo.Progress = o.progress
		}
		a.engine = embed.New(eo)
		a.closers = append(a.closers, a.engine.Close)
		a.emb = newEngineEmbedder(a.engine, cfg.Model)
		if o.model == modelSync {
			if err := a.emb.Wait(ctx); err != nil && ctx.Err() != nil {
				a.Close()
				return nil, ctx.Err()
			}
		}
	}

	so := service.Options{
		Store:           st,
		Project:         a.project,
		Source:          o.source,
		Author:          author(),
		MaxContentBytes: cfg.MaxContentBytes,
		Logger:          a.log,
		KeepSecrets:     !cfg.Redact,
		SpillUses:       spillUses(cfg.Home, a.log),
	}
	if a.emb != nil {
		so.Embedder = a.emb
	}
	a.svc, err = service.New(so)
	if err != nil {
		a.Close()
		return nil, err
	}
	a.closers = append(a.closers, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), closeUsesWait)
		defer cancel()
		return a.svc.Close(ctx)
	})
	if o.writes {
		a.startDrain(o.drainEvery)
	}
	if o.embedMissing && a.emb != nil {
		a.startEmbedMissing()
	}
	return a, nil
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
// does not wait for it); Close waits up to closeDrainWait for it to finish.
func (a *app) startDrain(every time.Duration) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			r, err := spool.Drain(ctx, spool.Dir(a.cfg.Home), a.store, a.log)
			if err != nil && ctx.Err() == nil {
				a.log.Warn("storing spooled writes failed; they stay spooled for the next process", "err", err, "left", r.Left)
			}
			if r.Files > 0 {
				a.log.Info("stored spooled writes", "files", r.Files, "notes", r.Notes, "already_stored", r.Dups,
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
		case <-time.After(closeDrainWait):
			// The store is busy; a write in flight finishes or rolls
			// back on its own, and the file stays for the next process.
		}
		cancel()
		return nil
	})
}

// startEmbedMissing runs service.EmbedMissing in the background; Close
// cancels it and waits, before the engine and store close.
func (a *app) startEmbedMissing() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		n, err := a.svc.EmbedMissing(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			a.log.Warn("embedding memories stored without a vector failed", "embedded", n, "err", err)
		case n > 0:
			a.log.Info("embedded memories stored without a vector", "count", n)
		}
	}()
	a.closers = append(a.closers, func() error { cancel(); <-done; return nil })
}

// modelErr is the model's load error (nil when ready, loading or none).
func (a *app) modelErr() error {
	if a.emb == nil {
		return nil
	}
	return a.emb.LoadError()
}

// Close releases the engine, the store and the log file, in that order.
func (a *app) Close() error {
	var errs []error
	for i := len(a.closers) - 1; i >= 0; i-- {
		errs = append(errs, a.closers[i]())
	}
	a.closers = nil
	return errors.Join(errs...)
}

// newAppLogger logs to the log file at the configured level and to stderr
// at stderrLevel.
func newAppLogger(env *runEnv, cfg config.Config, o appOptions, closers *[]func() error) *slog.Logger {
	proc := o.process
	fileLog, closeFile := logging.New(logging.Options{Level: cfg.LogLevel, Path: cfg.LogPath(), Stderr: nil, Process: proc})
	*closers = append(*closers, closeFile)
	if o.stderrLevel == "off" || env.stderr == nil {
		return fileLog
	}
	level := o.stderrLevel
	if level == "" {
		level = cfg.LogLevel
	}
	errLog, _ := logging.New(logging.Options{Level: level, Stderr: env.stderr, Process: proc})
	return slog.New(slog.NewMultiHandler(fileLog.Handler(), errLog.Handler()))
}

// author is user@host, recorded on new memories.
func author() string {
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

// engineEmbedder adapts *embed.Engine to service.Embedder: it remembers the
// load error (the engine reports it through Wait) and exposes model info
// without touching the engine before it is ready.
type engineEmbedder struct {
	e    *embed.Engine
	name string // configured model, reported if the engine names none

	done chan struct{}
	err  error // load error, set before done is closed
}

func newEngineEmbedder(e *embed.Engine, name string) *engineEmbedder {
	a := &engineEmbedder{e: e, name: name, done: make(chan struct{})}
	go func() {
		a.err = e.Wait(context.Background())
		close(a.done)
	}()
	return a
}

func (a *engineEmbedder) Ready() bool { return a.e.Ready() }

func (a *engineEmbedder) Wait(ctx context.Context) error {
	select {
	case <-a.done:
		return a.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (a *engineEmbedder) LoadError() error {
	select {
	case <-a.done:
		return a.err
	default:
		return nil
	}
}

func (a *engineEmbedder) Model() service.ModelInfo {
	in := a.e.Info() // only ModelID until the model is ready
	if in.ModelID == "" {
		in.ModelID = a.name
	}
	return service.ModelInfo{ID: in.ModelID, Dims: in.Dims, LoadTime: in.LoadTime}
}

func (a *engineEmbedder) EmbedQuery(ctx context.Context, text string) ([]float32, error) {
	return a.e.EmbedQuery(ctx, text)
}

func (a *engineEmbedder) EmbedDocuments(ctx context.Context, texts []string) ([][]float32, error) {
	return a.e.EmbedDocuments(ctx, texts)
}

func (a *engineEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	return a.e.Embed(ctx, texts)
}

// ---------------------------------------------------------------------------
// Shared pieces of the memory commands (remember, recall, forget, list,
// stats, export, import, reembed): flags, argument parsing and output.

// commonFlags are the flags most memory commands share.
type commonFlags struct {
	json    bool
	project string
	all     bool
	tags    string
	model   string
}

func (c *commonFlags) addJSON(fs *flag.FlagSet) {
	fs.BoolVar(&c.json, "json", false, "print one JSON object per line (for scripts)")
}

func (c *commonFlags) addScope(fs *flag.FlagSet, what string) {
	fs.StringVar(&c.project, "project", "", what+" this project and global memories (default: the current project)")
	fs.BoolVar(&c.all, "all", false, what+" every project")
}

func (c *commonFlags) addTags(fs *flag.FlagSet, usage string) {
	fs.StringVar(&c.tags, "tags", "", usage)
}

func (c *commonFlags) addModel(fs *flag.FlagSet) {
	fs.StringVar(&c.model, "model", "", "embedding model: local folder or Hugging Face repo id (default $MNEMO_MODEL)")
}

// scope is the service's project selector for --project/--all.
func (c *commonFlags) scope(env *runEnv) (string, error) {
	if c.all && c.project != "" {
		return "", usageErr(env, "--project and --all exclude each other")
	}
	if c.all {
		return "*", nil
	}
	return c.project, nil
}

// tagList splits "a, b,c" into tags (validation is the service's).
func (c *commonFlags) tagList() []string { return splitList(c.tags) }

func splitList(s string) []string {
	var out []string
	for _, t := range strings.Split(s, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// usageErr reports a command-line mistake: the message, then usage, exit 2.
func usageErr(env *runEnv, format string, args ...any) error {
	fmt.Fprintf(env.stderr, "mnemo: "+format+"\n", args...)
	return errUsage
}

// writeJSONLine writes v as one line of JSON.
func writeJSONLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// shorten collapses whitespace and cuts s to at most n runes with "…".
func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// shortenLeft keeps the end of s (project paths differ at the end).
func shortenLeft(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return "…" + string(r[len(r)-n+1:])
}

// tagString renders tags as "#a #b".
func tagString(tags []string) string {
	if len(tags) == 0 {
		return "-"
	}
	return "#" + strings.Join(tags, " #")
}

// parseTimeFlag reads --since/--until with humantime.Parse, as the MCP
// server reads recall's since: an RFC 3339 time, a date (the user's
// midnight) or an age such as 30m, 12h, 1.5d, 2w meaning that long before now.
func parseTimeFlag(name, s string, now time.Time) (time.Time, error) {
	if strings.TrimSpace(s) == "" {
		return time.Time{}, nil
	}
	t, err := humantime.Parse(s, now)
	if err != nil {
		return time.Time{}, fmt.Errorf("--%s %q: want %s", name, strings.TrimSpace(s), humantime.Forms)
	}
	return t, nil
}

// memoryJSON is a memory as the memory commands print it with --json
// (no vector: scripts want the text, and vectors are export's business).
type memoryJSON struct {
	ID         string         `json:"id"`
	Content    string         `json:"content"`
	Project    string         `json:"project"`
	Tags       []string       `json:"tags"`
	Metadata   map[string]any `json:"metadata,omitempty"`
	Source     memory.Source  `json:"source,omitempty"`
	CreatedAt  time.Time      `json:"created_at"`
	AccessedAt time.Time      `json:"accessed_at,omitzero"`
	Model      string         `json:"model,omitempty"`
}

func toMemoryJSON(m memory.Memory) memoryJSON {
	tags := m.Tags
	if tags == nil {
		tags = []string{}
	}
	md := m.Metadata
	if len(md) == 0 {
		md = nil
	}
	return memoryJSON{ID: m.ID, Content: m.Content, Project: m.Project, Tags: tags, Metadata: md,
		Source: m.Source, CreatedAt: m.CreatedAt, AccessedAt: m.AccessedAt, Model: m.Model}
}

// newTable returns an aligned-column writer; Flush it.
func newTable(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0) }

// isTerminal reports whether w (a reader or writer) is an interactive terminal.
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// engineOptions are the engine's options the configuration decides: the
// model, its cache, and the engine's own switches (MNEMO_KERNELS,
// MNEMO_GOMLX_CONFIG, MNEMO_GRAPH_REWRITE); the engine reads no
// environment itself.
func engineOptions(cfg config.Config, log *slog.Logger) embed.Options {
	return embed.Options{
		Model: cfg.Model, CacheDir: cfg.CacheDir, Offline: cfg.Offline, Logger: log,
		Kernels: cfg.Kernels, GoMLXConfig: cfg.GoMLXConfig, NoGraphRewrite: !cfg.GraphRewrite,
	}
}
