// Package doctor checks a mnemo installation and says what needs the user:
// the model, the store, running mnemo processes, the Claude Code
// registration and hooks, and recent errors in the log.
package doctor

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/mnemo-mcp/mnemo/embed"
	"github.com/mnemo-mcp/mnemo/internal/app"
	"github.com/mnemo-mcp/mnemo/internal/claudecode"
	"github.com/mnemo-mcp/mnemo/internal/marks"
	"github.com/mnemo-mcp/mnemo/internal/storemove"
	"github.com/mnemo-mcp/mnemo/internal/warm"
	"github.com/mnemo-mcp/mnemo/pkg/config"
	"github.com/mnemo-mcp/mnemo/pkg/memory"
	"github.com/mnemo-mcp/mnemo/pkg/sqlite"
	"github.com/mnemo-mcp/mnemo/pkg/tailfile"
)

// Status of one check.
type Status string

const (
	OK   Status = "ok"
	Warn Status = "warn" // worth knowing, nothing broken
	Fail Status = "fail" // needs the user: doctor exits non-zero
)

// Check is one line of the report.
type Check struct {
	Name    string `json:"name"`
	Status  Status `json:"status"`
	Summary string `json:"summary"`
	Fix     string `json:"fix,omitempty"`
}

// ModelReport describes the embedding model.
type ModelReport struct {
	Configured string `json:"configured"`
	ID         string `json:"id,omitempty"` // what vectors are stamped with
	Found      bool   `json:"found"`
	Path       string `json:"path,omitempty"`
	SHA256     string `json:"sha256,omitempty"`
	// Verified is true when the sha256 matched what the download cache
	// recorded; a local folder has no record and is only hashed.
	Verified bool  `json:"verified"`
	LoadMS   int64 `json:"load_ms,omitempty"`
	Dims     int   `json:"dims,omitempty"`
	// Kernels: the compute paths the engine runs on (embed.Info.Kernels).
	Kernels string `json:"kernels,omitempty"`
	Error   string `json:"error,omitempty"`
}

// StoreReport describes the SQLite store.
type StoreReport struct {
	Path         string         `json:"path"`
	Exists       bool           `json:"exists"`
	SizeBytes    int64          `json:"size_bytes"` // file + -wal + -shm
	JournalMode  string         `json:"journal_mode,omitempty"`
	ReadOnly     string         `json:"read_only,omitempty"` // why the store is read-only for this user ("" = writable)
	Integrity    string         `json:"integrity,omitempty"` // "ok" or the problems
	Total        int            `json:"total"`
	ByProject    map[string]int `json:"by_project,omitempty"`
	ByModel      map[string]int `json:"by_model,omitempty"`
	NeedReembed  int            `json:"need_reembed"` // memories without a vector of the configured model
	SchemaVers   int            `json:"schema_version,omitempty"`
	Error        string         `json:"error,omitempty"`
	CheckedModel string         `json:"checked_model,omitempty"`
	// MixedDims lists models whose vectors have more than one size
	// (model → dims → count): the minority can never match a search.
	MixedDims map[string]map[int]int `json:"mixed_dims,omitempty"`
	// BadVectors are vectors that cannot be read as numbers (wrong length,
	// non-finite values); at most maxBadVectors.
	BadVectors []sqlite.BadVector `json:"bad_vectors,omitempty"`
}

// maxBadVectors bounds StoreReport.BadVectors.
const maxBadVectors = 100

// Process is a running mnemo process.
type Process struct {
	PID     int       `json:"pid"`
	Cmdline string    `json:"cmdline"`
	Started time.Time `json:"started,omitzero"`
	AgeSec  int64     `json:"age_s"`
	Warm    bool      `json:"warm_socket"` // answers on $MNEMO_HOME/run
}

// ClaudeReport describes the Claude Code integration.
type ClaudeReport struct {
	Registrations []claudecode.Registration `json:"registrations"`
	// Hooks maps settings file → event → mnemo hook commands.
	Hooks map[string]map[string][]string `json:"hooks"`
	CLI   string                         `json:"claude_cli,omitempty"`
}

// LogEntry is an error from the log file.
type LogEntry struct {
	Time string `json:"time"`
	Proc string `json:"proc,omitempty"`
	Msg  string `json:"msg"`
	Err  string `json:"err,omitempty"`
}

// Report is everything doctor found.
type Report struct {
	OK        bool          `json:"ok"` // false when something needs the user
	Checks    []Check       `json:"checks"`
	Home      string        `json:"home"`
	Model     ModelReport   `json:"model"`
	Store     StoreReport   `json:"store"`
	Processes []Process     `json:"processes"`
	Claude    ClaudeReport  `json:"claude"`
	LogPath   string        `json:"log_path"`
	LogErrors []LogEntry    `json:"log_errors"`
	Took      time.Duration `json:"-"`
}

// Options says where to look.
type Options struct {
	Config     config.Config
	Exe        string // this binary, to recognise mnemo processes and hooks
	UserHome   string // for ~/.claude.json and ~/.claude/settings.json
	ProjectDir string // project root for .mcp.json and .claude/settings.json
	ClaudeCLI  string // path of claude, "" when not on PATH
	// SkipModel skips loading the model (it costs seconds).
	SkipModel bool
	// OpenStore opens the store MNEMO_STORE names (PostgreSQL), as every
	// command does (internal/app); doctor then checks that store. nil: a
	// configured MNEMO_STORE is only reported, not checked.
	OpenStore func(ctx context.Context) (memory.Store, error)
	Now       func() time.Time
}

// Run performs every check.
func Run(ctx context.Context, o Options) Report {
	if o.Now == nil {
		o.Now = time.Now
	}
	start := o.Now()
	r := Report{Home: o.Config.Home, LogPath: o.Config.LogPath()}
	r.checkHome(o)
	r.checkLegacy(o)
	r.checkModel(ctx, o)
	r.checkStore(ctx, o)
	r.checkProcesses(ctx, o)
	r.checkClaude(o)
	r.checkLog(o)
	r.OK = true
	for _, c := range r.Checks {
		if c.Status == Fail {
			r.OK = false
		}
	}
	r.Took = o.Now().Sub(start)
	return r
}

func (r *Report) add(name string, st Status, fix, format string, args ...any) {
	r.Checks = append(r.Checks, Check{Name: name, Status: st, Summary: fmt.Sprintf(format, args...), Fix: fix})
}

// checkHome reports a data dir (or store, or log) that another user owns
// or may write to: every other command refuses to use it.
func (r *Report) checkHome(o Options) {
	if _, err := os.Stat(o.Config.Home); err != nil {
		return // created private by the first command that needs it
	}
	if err := o.Config.CheckHome(); err != nil {
		r.add("home", Fail, "fix the permissions as the message says, or set MNEMO_HOME to a folder of your own", "%v", err)
		return
	}
	r.add("home", OK, "", "%s: yours, not writable by others", o.Config.Home)
}

// checkLegacy reports a store in the folder every mnemo before the platform
// folders used (~/.local/share/mnemo), and why it is there: not moved yet
// (and what holds it), or not used.
func (r *Report) checkLegacy(o Options) {
	c := o.Config
	legacy := c.LegacyHome
	if legacy == "" {
		return
	}
	if trash := storemove.TrashPath(legacy); storemove.HasStore(trash) {
		r.add("legacy store", Warn, "the next mnemo start removes it if nothing wrote to it since; otherwise check what it holds (MNEMO_HOME="+trash+" mnemo list) before removing it",
			"%s: the old folder of the store moved to %s, not removed yet", trash, c.PlatformHome)
	}
	if !storemove.HasStore(legacy) {
		return
	}
	if c.MoveTo != "" {
		if why := storemove.InUse(legacy); why != "" {
			fix := "it moves at the first mnemo start when no other mnemo process has it open: quit the running mnemo processes (Claude Code sessions), then run any mnemo command"
			if strings.Contains(why, "symbolic link") {
				fix = "set MNEMO_HOME to the folder it points to, to keep the store there; or move that folder to " + c.MoveTo + " yourself, with no mnemo running"
			}
			r.add("legacy store", Warn, fix,
				"the store is still in the legacy folder %s, not yet moved to %s: %s", legacy, c.MoveTo, why)
		} else {
			r.add("legacy store", Warn, "the next mnemo command moves it (or run: mnemo stats)",
				"the store is still in the legacy folder %s; the next mnemo start moves it to %s", legacy, c.MoveTo)
		}
		return
	}
	if filepath.Clean(legacy) == filepath.Clean(c.Home) {
		return // MNEMO_HOME names it
	}
	exportFix := fmt.Sprintf("if it holds memories you want: MNEMO_HOME=%s mnemo export > old.jsonl && mnemo import old.jsonl; then remove %s", legacy, legacy)
	switch to := storemove.MovedTo(legacy); {
	case to != "":
		r.add("legacy store", Warn, "the next mnemo start removes it if nothing wrote to it since; otherwise: "+exportFix,
			"%s: a leftover copy of the store moved to %s, not removed yet", legacy, to)
	case filepath.Clean(c.Home) != filepath.Clean(c.PlatformHome):
		r.add("legacy store", Warn, exportFix, "%s holds a store that is not used: MNEMO_HOME is %s", legacy, c.Home)
	default:
		r.add("legacy store", Warn, exportFix, "%s holds a store that is not used: %s has its own store, which mnemo uses", legacy, c.Home)
	}
}

func (r *Report) checkModel(ctx context.Context, o Options) {
	m := &r.Model
	m.Configured = o.Config.Model
	if o.SkipModel {
		r.add("model", Warn, "", "%s: not loaded (--skip-model)", m.Configured)
		return
	}
	// Offline on purpose: doctor reports a missing model, it never
	// downloads one.
	lctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	eo := app.EngineOptions(o.Config, nil)
	eo.Offline = true
	e, err := embed.Load(lctx, eo)
	if err != nil {
		m.Error = err.Error()
		fix := "run: mnemo pull   (downloads " + m.Configured + " into " + o.Config.CacheDir + " when online); or MNEMO_MODEL=/path/to/folder; or MNEMO_OFFLINE=1 for keyword search only"
		if st, serr := os.Stat(m.Configured); serr == nil && st.IsDir() {
			fix = "check the model folder " + m.Configured + " (model.onnx, tokenizer.json) or set MNEMO_MODEL"
		}
		// The reason as the user's configuration has it: doctor itself
		// loads offline, which is no reason to blame MNEMO_OFFLINE.
		r.add("model", Fail, fix, "%s: cannot load: %s", m.Configured, app.ModelReason(o.Config, err))
		return
	}
	defer e.Close()
	info := e.Info()
	m.Found, m.ID, m.Path, m.SHA256, m.Dims, m.LoadMS = true, info.ModelID, info.Path, info.SHA256, info.Dims, info.LoadTime.Milliseconds()
	local := false
	if st, err := os.Stat(m.Configured); err == nil && st.IsDir() {
		local = true
	}
	// The engine refuses a cached model whose sha256 differs from the one
	// recorded at download, so a cached model that loaded is verified.
	m.Verified = !local
	verified := "sha256 verified against the download cache"
	if local {
		verified = "local folder, sha256 " + shortSHA(info.SHA256) + " (no recorded sum to verify against)"
	}
	r.add("model", OK, "", "%s: %d dims, loaded in %s, %s", info.ModelID, info.Dims, info.LoadTime.Round(time.Millisecond), verified)
	m.Kernels = info.Kernels
	if info.KernelsDegraded {
		fix := "this CPU could run faster kernels than the ones running; unset MNEMO_KERNELS if it is set, otherwise report `mnemo version` and mnemo.log's warning"
		r.add("engine", Warn, fix, "%s", info.Kernels)
	} else {
		r.add("engine", OK, "", "%s", info.Kernels)
	}
}

func shortSHA(s string) string {
	if len(s) > 12 {
		return s[:12] + "…"
	}
	return s
}

// checkConfiguredStore checks the store MNEMO_STORE names: that it opens
// and answers, what it holds, and which memories lack a vector of the
// configured model.
func (r *Report) checkConfiguredStore(ctx context.Context, o Options) {
	s := &r.Store
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	store, err := o.OpenStore(sctx)
	if err != nil {
		s.Error = err.Error()
		r.add("store", Fail, "check MNEMO_STORE (URL, password, network) and that the server runs", "cannot open the store MNEMO_STORE names: %v", err)
		return
	}
	defer store.Close()
	s.Exists = true
	stats, err := store.Stats(sctx)
	if err != nil {
		s.Error = err.Error()
		r.add("store", Fail, "", "the store MNEMO_STORE names: %v", err)
		return
	}
	s.Total, s.ByProject, s.ByModel, s.SchemaVers = stats.Total, stats.ByProject, stats.ByModel, stats.SchemaVers
	model := r.Model.ID
	if model == "" {
		model = expectedModelID(r.Model.Configured)
	}
	s.CheckedModel = model
	s.NeedReembed = s.Total - s.ByModel[model]
	r.add("store", OK, "", "the store MNEMO_STORE names: %d memories in %d projects", s.Total, len(s.ByProject))
	if s.NeedReembed > 0 {
		r.addNeedReembed(s, model)
	}
}

func (r *Report) checkStore(ctx context.Context, o Options) {
	s := &r.Store
	if o.Config.Store != "" {
		s.Path = "(MNEMO_STORE)" // the URL may hold a password
		if o.OpenStore == nil {
			r.add("store", Warn, "", "MNEMO_STORE is set: doctor checks only the local SQLite store")
			return
		}
		r.checkConfiguredStore(ctx, o)
		return
	}
	s.Path = o.Config.DBPath()
	st, err := os.Stat(s.Path)
	if os.IsNotExist(err) {
		r.add("store", Warn, "", "%s does not exist yet (created by the first remember)", s.Path)
		return
	}
	s.Exists = true
	s.SizeBytes = st.Size()
	for _, suf := range []string{"-wal", "-shm"} {
		if fi, err := os.Stat(s.Path + suf); err == nil {
			s.SizeBytes += fi.Size()
		}
	}
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	store, err := sqlite.Open(sctx, s.Path, sqlite.WithOpenTimeout(20*time.Second), sqlite.WithReadOnlyFallback())
	if err != nil {
		s.Error = err.Error()
		r.add("store", Fail, "another process may hold a lock; if it persists, stop mnemo processes and retry", "cannot open %s: %v", s.Path, err)
		return
	}
	defer store.Close()
	if ro := store.ReadOnly(); ro != "" {
		s.ReadOnly = ro
		r.add("store access", Warn, "to write (remember, forget, import, serve), fix the permissions or use another MNEMO_HOME",
			"%s is read-only for you: %s; reading commands work", s.Path, ro)
	}
	if err := store.DB().QueryRowContext(sctx, "PRAGMA journal_mode").Scan(&s.JournalMode); err != nil {
		s.JournalMode = "unknown: " + err.Error()
	}
	if err := store.IntegrityCheck(sctx); err != nil {
		s.Integrity = err.Error()
	} else {
		s.Integrity = "ok"
	}
	stats, err := store.Stats(sctx)
	if err != nil {
		s.Error = err.Error()
	} else {
		s.Total, s.ByProject, s.ByModel, s.SchemaVers = stats.Total, stats.ByProject, stats.ByModel, stats.SchemaVers
		for m, sizes := range stats.DimsByModel {
			if len(sizes) > 1 {
				if s.MixedDims == nil {
					s.MixedDims = map[string]map[int]int{}
				}
				s.MixedDims[m] = sizes
			}
		}
	}
	if s.Integrity == "ok" {
		if s.BadVectors, err = store.CheckVectors(sctx, maxBadVectors); err != nil {
			s.Error = "check vectors: " + err.Error()
		}
	}
	model := r.Model.ID
	if model == "" {
		model = expectedModelID(r.Model.Configured)
	}
	s.CheckedModel = model
	s.NeedReembed = s.Total - s.ByModel[model]

	switch {
	case s.Integrity != "ok":
		r.add("store", Fail, "restore from a backup or export what is readable: mnemo export > backup.jsonl", "%s: %s", s.Path, s.Integrity)
	case s.Error != "":
		r.add("store", Fail, "", "%s: %s", s.Path, s.Error)
	case !strings.EqualFold(s.JournalMode, "wal"):
		r.add("store", Fail, "open it once with mnemo (it sets WAL) or check the file system supports WAL", "%s: journal_mode=%s, want wal", s.Path, s.JournalMode)
	default:
		r.add("store", OK, "", "%s: %s, WAL, integrity ok, %d memories in %d projects", s.Path, humanBytes(s.SizeBytes), s.Total, len(s.ByProject))
	}
	for _, m := range sortedKeys(s.MixedDims) {
		var parts []string
		for _, d := range sortedKeys(s.MixedDims[m]) {
			parts = append(parts, fmt.Sprintf("%d × %d dims", s.MixedDims[m][d], d))
		}
		r.add("vectors", Warn, "run: mnemo reembed   (it replaces the vectors whose size is not the model's; with another model loaded it re-embeds them all)",
			"model %s has vectors of several sizes (%s): the ones of the wrong size never match a search", m, strings.Join(parts, ", "))
	}
	if n := len(s.BadVectors); n > 0 {
		more := ""
		if n == maxBadVectors {
			more = " or more"
		}
		b := s.BadVectors[0]
		r.add("vectors", Warn, "run: mnemo reembed   (it replaces them)",
			"%d%s stored vectors cannot be used (e.g. %s of %s: %s)", n, more, b.ID, b.Model, b.Reason)
	}
	if s.Error == "" && s.NeedReembed > 0 {
		r.addNeedReembed(s, model)
	}
}

// reembedHint is what doctor advises for memories without a vector of the
// configured model; it says what mnemo serve does (service.EmbedBackground).
const reembedHint = "a running mnemo serve embeds them in the background at low priority, vectorless ones first, " +
	"then those of another model (progress in its log); or run: mnemo reembed"

// addNeedReembed reports the memories recalls cannot compare by meaning.
func (r *Report) addNeedReembed(s *StoreReport, model string) {
	missing := s.ByModel[""]
	other := s.NeedReembed - missing
	r.add("vectors", Warn, reembedHint, "%d of %d memories have no vector from %s (%d without any, %d from another model): recalls find them by keyword only",
		s.NeedReembed, s.Total, model, missing, other)
}

// expectedModelID is the id vectors of a model that was not loaded are
// stamped with, as the engine names it: a local folder's base name (the
// folder of an .onnx file), else the repo id, with @revision unless main.
func expectedModelID(configured string) string {
	if st, err := os.Stat(configured); err == nil {
		p := filepath.Clean(configured)
		if !st.IsDir() {
			p = filepath.Dir(p)
		}
		return filepath.Base(p)
	}
	return strings.TrimSuffix(configured, "@main")
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func (r *Report) checkProcesses(ctx context.Context, o Options) {
	procs := scanProcesses(o.Exe, o.Now())
	pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	warmPIDs := map[int]warm.Info{}
	for _, in := range (&warm.Client{Dir: warm.Dir(o.Config.Home)}).Servers(pctx) {
		warmPIDs[in.PID] = in
	}
	for i := range procs {
		if in, ok := warmPIDs[procs[i].PID]; ok {
			procs[i].Warm = true
			procs[i].Started = in.Started
			procs[i].AgeSec = int64(o.Now().Sub(in.Started).Seconds())
			delete(warmPIDs, procs[i].PID)
		}
	}
	// Servers /proc did not show (other platforms, renamed binaries).
	for pid, in := range warmPIDs {
		procs = append(procs, Process{PID: pid, Cmdline: "mnemo serve", Started: in.Started, AgeSec: int64(o.Now().Sub(in.Started).Seconds()), Warm: true})
	}
	sort.Slice(procs, func(i, j int) bool { return procs[i].PID < procs[j].PID })
	r.Processes = procs
	if procs == nil {
		r.Processes = []Process{}
	}
	serves, warmN := 0, 0
	for _, p := range procs {
		if strings.Contains(p.Cmdline, " serve") {
			serves++
		}
		if p.Warm {
			warmN++
		}
	}
	r.add("processes", OK, "", "%d mnemo processes running (%d serve, %d with a warm socket for hooks)", len(procs), serves, warmN)
}

func (r *Report) checkClaude(o Options) {
	c := &r.Claude
	c.CLI = o.ClaudeCLI
	c.Registrations = []claudecode.Registration{}
	c.Hooks = map[string]map[string][]string{}
	files := []string{filepath.Join(o.UserHome, ".claude.json")}
	if o.ProjectDir != "" {
		files = append(files, filepath.Join(o.ProjectDir, ".mcp.json"))
	}
	for _, f := range files {
		regs, err := claudecode.ReadRegistrations(f, o.ProjectDir)
		if err != nil {
			r.add("claude-mcp", Warn, "", "cannot read %s: %v", f, err)
			continue
		}
		c.Registrations = append(c.Registrations, regs...)
	}
	exeName := filepath.Base(o.Exe)
	settings := []string{filepath.Join(o.UserHome, ".claude", "settings.json")}
	if o.ProjectDir != "" {
		settings = append(settings,
			filepath.Join(o.ProjectDir, ".claude", "settings.json"),
			filepath.Join(o.ProjectDir, ".claude", "settings.local.json"))
	}
	events := map[string]bool{}
	var missingBins, hookFiles []string
	for _, f := range settings {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		hooks, err := claudecode.InstalledHooks(data, exeName)
		if err != nil {
			r.add("claude-hooks", Warn, "", "cannot read %s: %v", f, err)
			continue
		}
		if len(hooks) > 0 {
			c.Hooks[f] = hooks
			hookFiles = append(hookFiles, f)
		}
		for ev, cmds := range hooks {
			events[ev] = true
			for _, cmd := range cmds {
				if bin := claudecode.HookExe(cmd); bin != "" && !executable(bin) {
					missingBins = append(missingBins, bin)
				}
			}
		}
	}

	if len(c.Registrations) == 0 {
		r.add("claude-mcp", Fail, "run: mnemo install", "mnemo is not registered as an MCP server with Claude Code (checked %s)", strings.Join(files, ", "))
	} else {
		var parts []string
		var bad []string
		for _, reg := range c.Registrations {
			parts = append(parts, fmt.Sprintf("%s scope: %s %s", reg.Scope, reg.Command, strings.Join(reg.Args, " ")))
			if !executable(reg.Command) && !strings.Contains(reg.Command, "/") {
				continue // a bare name resolved through PATH by Claude Code
			}
			if !executable(reg.Command) {
				bad = append(bad, reg.Command)
			}
		}
		if len(bad) > 0 {
			r.add("claude-mcp", Fail, "run: mnemo install   (re-registers this binary)", "registered binary missing: %s", strings.Join(bad, ", "))
		} else {
			r.add("claude-mcp", OK, "", "registered (%s)", strings.Join(parts, "; "))
		}
	}
	var have []string
	for ev := range events {
		have = append(have, ev)
	}
	sort.Strings(have)
	switch {
	case !events["UserPromptSubmit"] || !events["SessionStart"]:
		r.add("claude-hooks", Fail, "run: mnemo install", "hooks missing: UserPromptSubmit and SessionStart wanted, found [%s]", strings.Join(have, ", "))
	case len(missingBins) > 0:
		r.add("claude-hooks", Fail, "run: mnemo install   (rewrites the hook commands)", "hook commands point at missing binaries: %s", strings.Join(missingBins, ", "))
	default:
		r.add("claude-hooks", OK, "", "hooks installed: %s", strings.Join(have, ", "))
	}
	r.checkClaudeEnv(o, hookFiles)
	r.checkCommittedCredentials(o)
	// The report is printed (--json): credentials in the recorded
	// settings are shown masked.
	for i, reg := range c.Registrations {
		c.Registrations[i].Env = maskEnv(reg.Env)
	}
	for _, hooks := range c.Hooks {
		for ev, cmds := range hooks {
			for i, cmd := range cmds {
				hooks[ev][i] = claudecode.MaskHookCommand(cmd)
			}
		}
	}
}

// checkClaudeEnv warns when mnemo's hooks run with other MNEMO_* settings
// than the MCP server (the hooks and the registration were changed apart:
// one re-registered by hand, or edited), so that the hooks read another
// store or model than the server writes. Each settings file's hooks are
// compared with the registration of the same scope (install records the
// same settings in both, so running it again is the fix), or, when that
// scope has none, with the one Claude Code starts for this project; hooks
// of another scope that also run here with other settings are named too.
func (r *Report) checkClaudeEnv(o Options, hookFiles []string) {
	regs := r.Claude.Registrations
	eff, ok := claudecode.Effective(regs)
	if !ok || len(hookFiles) == 0 {
		return
	}
	var problems, fixes []string
	fixed := map[string]bool{}
	for _, f := range hookFiles {
		scope := r.hookScope(o, f)
		want, same := eff, false
		for _, reg := range regs {
			if reg.Scope == scope {
				want, same = reg, true
			}
		}
		var differ []string
		for _, cmds := range r.Claude.Hooks[f] {
			for _, cmd := range cmds {
				differ = append(differ, envDiff(claudecode.HookEnv(cmd), want.Env)...)
			}
		}
		if len(differ) == 0 && same && eff.Scope != scope {
			// In step with its own scope's registration, but Claude Code
			// starts another scope's server here: compare with that too.
			for _, cmds := range r.Claude.Hooks[f] {
				for _, cmd := range cmds {
					differ = append(differ, envDiff(claudecode.HookEnv(cmd), eff.Env)...)
				}
			}
			if len(differ) > 0 {
				slices.Sort(differ)
				problems = append(problems, fmt.Sprintf("hooks in %s also run in this project, whose server is the one in %s (%s scope): %s",
					f, eff.File, eff.Scope, strings.Join(slices.Compact(differ), ", ")))
				if !fixed["cross"] {
					fixed["cross"] = true
					fixes = append(fixes, "install both scopes with the same MNEMO_* settings, or take one out (mnemo uninstall --scope user|project)")
				}
			}
			continue
		}
		if len(differ) == 0 {
			continue
		}
		slices.Sort(differ)
		problems = append(problems, fmt.Sprintf("hooks in %s vs server in %s (%s scope): %s",
			f, want.File, want.Scope, strings.Join(slices.Compact(differ), ", ")))
		fix := "run: mnemo install"
		if scope == "project" {
			fix += " --scope project"
		}
		if !fixed[fix] {
			fixed[fix] = true
			fixes = append(fixes, fix+"   (from a shell with the MNEMO_* settings you want: it records the same ones in the hooks and the registration)")
		}
	}
	if len(problems) == 0 {
		r.add("claude-env", OK, "", "the hooks and the MCP server run with the same MNEMO_* settings")
		return
	}
	r.add("claude-env", Warn, strings.Join(fixes, "; "),
		"the hooks run with other MNEMO_* settings than the MCP server: %s", strings.Join(problems, "; "))
}

// checkCommittedCredentials warns when the project's files meant to be
// committed (.mcp.json, .claude/settings.json) record a MNEMO_* setting
// that holds a credential: written by hand, or by an install from before
// project-scope installs refused them.
func (r *Report) checkCommittedCredentials(o Options) {
	if o.ProjectDir == "" {
		return
	}
	found := map[string]map[string]bool{} // file → variables
	note := func(file string, env map[string]string) {
		for _, is := range claudecode.CommittedEnvIssues(env, "") {
			if is.Credential {
				if found[file] == nil {
					found[file] = map[string]bool{}
				}
				found[file][is.Name] = true
			}
		}
	}
	for _, reg := range r.Claude.Registrations {
		if reg.Scope == "project" {
			note(reg.File, reg.Env)
		}
	}
	settings := filepath.Join(o.ProjectDir, ".claude", "settings.json")
	for _, cmds := range r.Claude.Hooks[settings] {
		for _, cmd := range cmds {
			note(settings, claudecode.HookEnv(cmd))
		}
	}
	if len(found) == 0 {
		return
	}
	var parts []string
	var names []string
	for _, f := range sortedKeys(found) {
		vars := sortedKeys(found[f])
		parts = append(parts, fmt.Sprintf("%s in %s", strings.Join(vars, ", "), f))
		for _, v := range vars {
			if !slices.Contains(names, v) {
				names = append(names, v)
			}
		}
	}
	unset := strings.Join(names, "= ") + "="
	r.add("claude-secrets", Warn,
		fmt.Sprintf("move the setting to your config.toml (or the password to ~/.pgpass), run: %s mnemo install --scope project   (which rewrites both files without it), delete the .claude/settings.json.bak-* backups that keep it, and if a file with it was ever committed, change the credential", unset),
		"a credential is recorded in files meant to be committed: %s", strings.Join(parts, "; "))
}

// hookScope is the scope of a settings file: user (~/.claude), project
// (<project>/.claude/settings.json) or local (settings.local.json).
func (r *Report) hookScope(o Options, file string) string {
	switch {
	case filepath.Base(file) == "settings.local.json":
		return "local"
	case o.ProjectDir != "" && file == filepath.Join(o.ProjectDir, ".claude", "settings.json"):
		return "project"
	}
	return "user"
}

// envDiff names the variables set differently in a and b (never the
// values: they may be credentials).
func envDiff(hook, server map[string]string) []string {
	var out []string
	for k, v := range hook {
		sv, ok := server[k]
		switch {
		case !ok:
			out = append(out, k+" set only in the hooks")
		case sv != v:
			out = append(out, k+" differs")
		}
	}
	for k := range server {
		if _, ok := hook[k]; !ok {
			out = append(out, k+" set only for the server")
		}
	}
	return out
}

// maskEnv is env with credentials masked (config.MaskCredential).
func maskEnv(env map[string]string) map[string]string {
	if len(env) == 0 {
		return env
	}
	out := make(map[string]string, len(env))
	for k, v := range env {
		out[k] = config.MaskCredential(k, v)
	}
	return out
}

func executable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode().Perm()&0o111 != 0
}

// maxLogTail is how much of the log's end doctor reads.
const maxLogTail = 512 << 10

func (r *Report) checkLog(o Options) {
	r.LogErrors = []LogEntry{}
	data, err := tailFile(r.LogPath, maxLogTail)
	if err != nil {
		if os.IsNotExist(err) {
			r.add("log", OK, "", "no log yet at %s", r.LogPath)
			return
		}
		r.add("log", Warn, "", "cannot read %s: %v", r.LogPath, err)
		return
	}
	warnings := 0
	for _, line := range strings.Split(string(data), "\n") {
		if !strings.Contains(line, `"level"`) {
			continue
		}
		var rec struct {
			Time  string `json:"time"`
			Level string `json:"level"`
			Msg   string `json:"msg"`
			Err   any    `json:"err"`
			Proc  string `json:"proc"`
		}
		if json.Unmarshal([]byte(line), &rec) != nil {
			continue
		}
		switch rec.Level {
		case "ERROR":
			e := LogEntry{Time: rec.Time, Proc: rec.Proc, Msg: rec.Msg}
			if rec.Err != nil {
				e.Err = fmt.Sprint(rec.Err)
			}
			r.LogErrors = append(r.LogErrors, e)
		case "WARN":
			warnings++
		}
	}
	if n := len(r.LogErrors); n > 5 {
		r.LogErrors = r.LogErrors[n-5:]
	}
	if len(r.LogErrors) == 0 {
		r.add("log", OK, "", "no errors in the recent log (%d warnings) — %s", warnings, r.LogPath)
		return
	}
	last := r.LogErrors[len(r.LogErrors)-1]
	r.add("log", Warn, "see "+r.LogPath, "%d recent errors; last at %s: %s %s", len(r.LogErrors), last.Time, last.Msg, last.Err)
}

// tailFile returns up to max bytes from the end of path, from a line start.
func tailFile(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return tailfile.Read(f, max)
}

// WriteText renders the report for people, plain (marks.Plain): one
// "ok"/"warn"/"FAIL" line per check, with the fix under each problem.
func (r Report) WriteText(w io.Writer) { r.WriteTextStyle(w, marks.Plain) }

// WriteTextStyle is WriteText with the marks in style st (✔ ! ✘ on a
// terminal, coloured unless NO_COLOR; the caller decides with marks.For).
func (r Report) WriteTextStyle(w io.Writer, st marks.Style) {
	indent := strings.Repeat(" ", st.Width()+1)
	for _, c := range r.Checks {
		mark := st.Mark(marks.OK)
		switch c.Status {
		case Warn:
			mark = st.Mark(marks.Warn)
		case Fail:
			mark = st.Mark(marks.Fail)
		}
		fmt.Fprintf(w, "%s %-13s %s\n", mark, c.Name, c.Summary)
		if c.Fix != "" && c.Status != OK {
			fmt.Fprintf(w, "%s%-13s %s %s\n", indent, "", st.Arrow(), c.Fix)
		}
	}
	if len(r.Store.ByProject) > 0 {
		fmt.Fprintf(w, "\nMemories per project:\n")
		writeCounts(w, r.Store.ByProject)
		fmt.Fprintf(w, "Vectors per model (\"\" = none yet):\n")
		writeCounts(w, r.Store.ByModel)
	}
	if len(r.Processes) > 0 {
		fmt.Fprintf(w, "\nRunning mnemo processes:\n")
		for _, p := range r.Processes {
			warmMark := ""
			if p.Warm {
				warmMark = "  [warm socket]"
			}
			fmt.Fprintf(w, "  %7d  up %-9s %s%s\n", p.PID, (time.Duration(p.AgeSec) * time.Second).String(), p.Cmdline, warmMark)
		}
	}
	if len(r.LogErrors) > 0 {
		fmt.Fprintf(w, "\nLast errors in %s:\n", r.LogPath)
		for _, e := range r.LogErrors {
			fmt.Fprintf(w, "  %s [%s] %s %s\n", e.Time, e.Proc, e.Msg, e.Err)
		}
	}
	if r.OK {
		fmt.Fprintln(w, "\nAll good.")
	} else {
		fmt.Fprintf(w, "\nSomething needs your attention (%s above).\n", st.Word(marks.Fail))
	}
}

func writeCounts(w io.Writer, m map[string]int) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "  %-40q %d\n", k, m[k])
	}
}

// sortedKeys returns a map's keys in order, for stable output.
func sortedKeys[K cmp.Ordered, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// ExpectedModelID is the id the configured model stamps its vectors with
// (expectedModelID), for commands that say whether a vector is current
// without loading the model (show).
func ExpectedModelID(configured string) string { return expectedModelID(configured) }
