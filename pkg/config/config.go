// Package config resolves mnemo's settings from the environment, so every
// entry point (CLI, MCP server, hooks) agrees on where data and models live.
package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/mnemo-mcp/mnemo/pkg/fsguard"
)

// DefaultModel is the Hugging Face repository used when MNEMO_MODEL is unset.
const DefaultModel = "sentence-transformers/all-MiniLM-L6-v2"

// Config is the resolved configuration of one mnemo process.
type Config struct {
	// Home holds the store and logs (MNEMO_HOME, default ~/.local/share/mnemo).
	Home string
	// Model is a local model folder or a Hugging Face repo id (MNEMO_MODEL).
	Model string
	// CacheDir holds downloaded models (MNEMO_CACHE, default ~/.cache/mnemo).
	CacheDir string
	// Offline forbids any network access (MNEMO_OFFLINE=1).
	Offline bool
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
}

// FromEnv reads the configuration from the process environment.
func FromEnv() (Config, error) { return fromLookup(os.LookupEnv) }

func fromLookup(lookup func(string) (string, bool)) (Config, error) {
	get := func(k string) string { v, _ := lookup(k); return strings.TrimSpace(v) }
	c := Config{
		Home:            get("MNEMO_HOME"),
		Model:           get("MNEMO_MODEL"),
		CacheDir:        get("MNEMO_CACHE"),
		Store:           get("MNEMO_STORE"),
		LogLevel:        strings.ToLower(get("MNEMO_LOG_LEVEL")),
		MaxContentBytes: 64 << 10,
		HookBudget:      2 * time.Second,
		KeepAlive:       10 * time.Minute,
		Redact:          true,
	}
	if c.Home == "" {
		base := get("XDG_DATA_HOME")
		if base == "" {
			h, err := os.UserHomeDir()
			if err != nil {
				return c, fmt.Errorf("cannot find a home directory for the data dir; set MNEMO_HOME: %w", err)
			}
			base = filepath.Join(h, ".local", "share")
		}
		c.Home = filepath.Join(base, "mnemo")
	}
	if c.CacheDir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			base = filepath.Join(c.Home, "cache")
		}
		c.CacheDir = filepath.Join(base, "mnemo")
	}
	if c.Model == "" {
		c.Model = DefaultModel
	}
	if c.LogLevel == "" {
		c.LogLevel = "info"
	}
	var err error
	if v := get("MNEMO_OFFLINE"); v != "" {
		if c.Offline, err = strconv.ParseBool(v); err != nil {
			return c, fmt.Errorf("MNEMO_OFFLINE=%q: want 1/0/true/false", v)
		}
	}
	if v := get("MNEMO_MAX_CONTENT"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return c, fmt.Errorf("MNEMO_MAX_CONTENT=%q: want a positive number of bytes", v)
		}
		c.MaxContentBytes = n
	}
	switch v := strings.ToLower(get("MNEMO_REDACT")); v {
	case "", "on", "1", "true", "yes":
	case "off", "0", "false", "no":
		c.Redact = false
	default:
		return c, fmt.Errorf("MNEMO_REDACT=%q: want on or off", v)
	}
	if c.HookBudget, err = duration(get, "MNEMO_HOOK_BUDGET", c.HookBudget); err != nil {
		return c, err
	}
	if c.KeepAlive, err = duration(get, "MNEMO_KEEP_ALIVE", c.KeepAlive); err != nil {
		return c, err
	}
	return c, nil
}

func duration(get func(string) string, key string, def time.Duration) (time.Duration, error) {
	v := get(key)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return def, fmt.Errorf("%s=%q: want a duration such as 2s or 10m", key, v)
	}
	return d, nil
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
