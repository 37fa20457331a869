// Package config resolves mnemo's settings from the environment, so every
// entry point (CLI, MCP server, hooks) agrees on where data and models live.
package config

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/mnemo-mcp/mnemo/pkg/fsguard"
)

// DefaultModel is the Hugging Face repository used when MNEMO_MODEL is unset.
// It is the engine's own default (embed.DefaultModel; a test in cmd/mnemo
// holds them equal): config does not import the engine.
const DefaultModel = "sentence-transformers/all-MiniLM-L6-v2"

// Config is the resolved configuration of one mnemo process: one field per
// variable of Vars (env.go), which documents each.
type Config struct {
	// ConfigFile is the configuration file read (MNEMO_CONFIG, default the
	// platform's config folder); it need not exist.
	ConfigFile string

	// Home holds the store and logs (MNEMO_HOME; default: see defaultHome).
	Home string
	// PlatformHome is the platform's data dir (Home's default for a new
	// install), LegacyHome ~/.local/share/mnemo when that is another folder
	// (earlier versions kept the store there on every system). Both are
	// worked out whether MNEMO_HOME is set or not, for doctor.
	PlatformHome, LegacyHome string
	// MoveTo is set when MNEMO_HOME is unset, the store is still in
	// LegacyHome (= Home) and PlatformHome has none: the store is to move
	// there (internal/app does it, package storemove, before opening it).
	MoveTo string
	// Model is a local model folder or a Hugging Face repo id (MNEMO_MODEL).
	Model string
	// CacheDir holds downloaded models (MNEMO_CACHE, default ~/.cache/mnemo).
	CacheDir string
	// Offline forbids any network access (MNEMO_OFFLINE=1).
	Offline bool
	// HubURL is where models are downloaded from (MNEMO_HUB_URL, default
	// https://huggingface.co).
	HubURL string
	// Store is a store URL; empty means the SQLite file in Home (MNEMO_STORE).
	Store string
	// MaxContentBytes bounds one memory's content (MNEMO_MAX_CONTENT, default 64 KiB).
	MaxContentBytes int
	// HookBudget bounds how long a hook may take (MNEMO_HOOK_BUDGET, default 2s).
	HookBudget time.Duration
	// KeepAlive is how long an idle server keeps the model loaded
	// (MNEMO_KEEP_ALIVE, default 10m; 0 keeps it forever).
	KeepAlive time.Duration
	// LogLevel is debug, info, warn or error (MNEMO_LOG_LEVEL, default info).
	LogLevel string
	// Redact removes credentials and <private> blocks before anything is
	// stored (MNEMO_REDACT, default on; "off" stores text verbatim).
	Redact bool

	// ModelWait bounds how long an MCP recall (or remember) waits for a
	// model still loading (MNEMO_MODEL_WAIT, default 3s; 0 = not at all).
	ModelWait time.Duration

	// RecencyHalfLife is the age at which recall ranking counts a memory
	// half as recent as a new one (MNEMO_RECENCY_HALF_LIFE, default 30d;
	// 0 turns recency off). Stored negative when off, as service.Options wants.
	RecencyHalfLife time.Duration

	// HookCapture makes session-end/pre-compact hooks store "remember:"
	// lines (MNEMO_HOOK_CAPTURE).
	HookCapture bool
	// HookWarm lets a hook ask a running server (MNEMO_HOOK_WARM, default true).
	HookWarm bool
	// HookLocalModel loads the model in a hook when no server answers
	// (MNEMO_HOOK_LOCAL_MODEL).
	HookLocalModel bool
	// HookMinSimilarity is the cosine a memory needs to be injected by
	// user-prompt-submit (MNEMO_HOOK_MIN_SIMILARITY, default 0.40).
	HookMinSimilarity float64

	// Kernels caps the engine's compute kernels: "" (auto), off, or a
	// kernel set of this build (MNEMO_KERNELS; the engine checks the set).
	Kernels string
	// GoMLXConfig replaces the GoMLX backend configuration, for experiments
	// (MNEMO_GOMLX_CONFIG).
	GoMLXConfig string
	// GraphRewrite rewrites the model's graph for the fast GEMM path at
	// load (MNEMO_GRAPH_REWRITE, default true).
	GraphRewrite bool

	// BenchScale scales the number of timed calls of `mnemo bench`
	// (MNEMO_BENCH_SCALE, default 1).
	BenchScale float64
}

// FromEnv reads the configuration from the process environment. A value a
// variable does not accept is an error naming the variable and what it
// wants, whichever command reads it.
//
// The configuration file (MNEMO_CONFIG, default the platform's config
// folder: ~/.config/mnemo/config.toml) sets what the environment does not.
func FromEnv() (Config, error) { return fromLookup(os.LookupEnv) }

// Effective is the configuration with each setting's value and source
// (environment, file, default), for `mnemo config`.
func Effective() (Config, []Setting, error) { return resolve(os.LookupEnv) }

func fromLookup(lookup func(string) (string, bool)) (Config, error) {
	c, _, err := resolve(lookup)
	return c, err
}

func resolve(lookup func(string) (string, bool)) (Config, []Setting, error) {
	get := func(k string) string { v, _ := lookup(k); return strings.TrimSpace(v) }
	var c Config
	for _, v := range Vars {
		if v.set == nil || v.derived || v.Default == "" {
			continue // read by tests only, worked out below, or unset
		}
		if err := v.set(&c, v.Default); err != nil {
			panic(fmt.Sprintf("config: default of %s does not parse: %v", v.Name, err)) // caught by every test
		}
	}
	// The first bad value is the error; the rest is still resolved, so that
	// a hook, which fails open, can log the error where its logs go.
	var bad error
	c.ConfigFile = get(configVar)
	required := c.ConfigFile != ""
	if !required {
		c.ConfigFile = defaultConfigPath(runtime.GOOS, get)
	}
	file, err := readConfigFile(c.ConfigFile, required)
	if err != nil {
		bad = err
	}
	var settings []Setting
	for _, v := range Vars {
		if v.set == nil || v.Name == configVar {
			continue
		}
		val, src := get(v.Name), SourceEnv
		where := v.Name
		if val == "" {
			if fv, ok := file[v.Name]; ok {
				val, src = fv.value, SourceFile
				where = fmt.Sprintf("%s:%d: %s", c.ConfigFile, fv.line, v.Name)
			}
		}
		if val != "" {
			if err := v.set(&c, val); err != nil && bad == nil {
				bad = fmt.Errorf("%s=%q: %v", where, val, err)
			}
			settings = append(settings, Setting{Name: v.Name, Value: val, Source: src})
			continue
		}
		settings = append(settings, Setting{Name: v.Name, Value: v.Default, Source: SourceDefault})
	}
	hs, herr := defaultHome(runtime.GOOS, get, os.UserHomeDir, HasStore)
	c.PlatformHome, c.LegacyHome = hs.Platform, hs.Legacy
	if c.Home == "" {
		if herr != nil {
			return c, settings, herr
		}
		c.Home, c.MoveTo = hs.Home, hs.MoveTo
	}
	if c.CacheDir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			base = filepath.Join(c.Home, "cache")
		}
		c.CacheDir = filepath.Join(base, "mnemo")
		// Windows's cache and data conventions are the same folder
		// (%LOCALAPPDATA%): keep models apart from the store.
		// (The data dir the store is moving to counts as the data dir.)
		home := c.Home
		if c.MoveTo != "" {
			home = c.MoveTo
		}
		if filepath.Clean(c.CacheDir) == filepath.Clean(home) {
			c.CacheDir = filepath.Join(home, "cache")
		}
	}
	// The derived defaults as they were worked out.
	for i, st := range settings {
		if st.Source != SourceDefault {
			continue
		}
		switch st.Name {
		case "MNEMO_HOME":
			settings[i].Value = c.Home
		case "MNEMO_CACHE":
			settings[i].Value = c.CacheDir
		}
	}
	return c, settings, bad
}

// DBPath is the SQLite store's file.
func (c Config) DBPath() string { return filepath.Join(c.Home, "mnemo.db") }

// LogPath is the log file under the data dir.
func (c Config) LogPath() string { return filepath.Join(c.Home, "logs", "mnemo.log") }

// EnsureHome creates the data dir with owner-only permissions, and refuses
// one (or a store or log file in it) that another user owns or may write
// to: that user could read every memory, replace the store, or turn the log
// into a symlink to a file of their choosing (fsguard says how to fix it).
func (c Config) EnsureHome() error {
	if err := os.MkdirAll(c.Home, 0o700); err != nil {
		return fmt.Errorf("create data dir %s: %w", c.Home, err)
	}
	return c.CheckHome()
}

// CheckHome checks an existing data dir as EnsureHome does, creating nothing.
func (c Config) CheckHome() error {
	if err := fsguard.CheckDir(c.Home); err != nil {
		return fmt.Errorf("data dir (MNEMO_HOME) refused: %w", err)
	}
	logs := filepath.Dir(c.LogPath())
	if _, err := os.Lstat(logs); err == nil {
		if err := fsguard.CheckDir(logs); err != nil {
			return fmt.Errorf("log dir refused: %w", err)
		}
	}
	db := c.DBPath()
	for _, p := range []string{db, db + "-wal", db + "-shm", c.LogPath(), c.LogPath() + ".1"} {
		if err := fsguard.CheckFile(p); err != nil {
			return fmt.Errorf("data dir (MNEMO_HOME) refused: %w", err)
		}
	}
	return nil
}
