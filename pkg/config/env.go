package config

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Var is one environment variable mnemo reads. Vars is the only place the
// program reads MNEMO_* variables (a test in this package greps the code for
// strays); `mnemo help environment` prints it, and README's configuration
// table is checked against it.
type Var struct {
	Name    string
	Default string // as the user would write it; "" = unset
	Meaning string
	// set parses a value (trimmed, non-empty) into c; its error says what
	// the variable wants (FromEnv adds the name and the value). nil for a
	// variable read only by tests and benchmarks (TestOnly).
	set func(c *Config, v string) error
	// derived: Default is shown, not parsed; FromEnv works the default out
	// (it depends on the user's folders).
	derived bool
}

// TestOnly reports whether only tests and benchmarks read the variable: such
// variables are read by the tests themselves (in _test.go files, and by
// internal/testmodels through TestModels), never by the program.
func (v Var) TestOnly() bool { return v.set == nil }

// Vars lists every environment variable, the program's first, then those
// only tests and benchmarks read.
var Vars = []Var{
	{configVar, "~/.config/mnemo/config.toml (macOS: ~/Library/Application Support/mnemo/config.toml, Windows: %AppData%\\mnemo\\config.toml)",
		"a configuration file of `key = value` lines (`model = \"…\"`, `offline = 1`) for the variables below; a variable set in the environment overrides it; `mnemo config` shows each setting and where it came from",
		func(c *Config, v string) error { return nil }, true},
	{"MNEMO_HOME", `~/.local/share/mnemo (macOS: ~/Library/Application Support/mnemo, Windows: %LOCALAPPDATA%\mnemo)`,
		"store (`mnemo.db`), logs (`logs/mnemo.log`), server sockets (`run/`); created 0700, and refused (with the `chmod`/`chown` that fixes it) when another user owns it or may write to it, or to the store or logs in it; unset, a store still in `~/.local/share/mnemo` moves to the default on start (see [Platforms](#platforms))",
		func(c *Config, v string) error { c.Home = v; return nil }, true},
	{"MNEMO_MODEL", DefaultModel, "a local model folder or a Hugging Face repo id",
		func(c *Config, v string) error { c.Model = v; return nil }, false},
	{"MNEMO_CACHE", "~/.cache/mnemo", "downloaded models",
		func(c *Config, v string) error { c.CacheDir = v; return nil }, true},
	{"MNEMO_OFFLINE", "0", "`1` never touches the network", boolVar(func(c *Config) *bool { return &c.Offline }), false},
	{"MNEMO_HUB_URL", "https://huggingface.co", "where models are downloaded from: a Hugging Face mirror or proxy",
		func(c *Config, v string) error {
			if !strings.HasPrefix(v, "https://") && !strings.HasPrefix(v, "http://") {
				return errors.New("want an http:// or https:// URL")
			}
			c.HubURL = v
			return nil
		}, false},
	{"MNEMO_STORE", "", "`postgres://…` for a shared team store (PostgreSQL + pgvector); unset: SQLite in `MNEMO_HOME`",
		func(c *Config, v string) error { c.Store = v; return nil }, false},
	{"MNEMO_MAX_CONTENT", "65536", "largest memory, in bytes",
		func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				return errors.New("want a positive number of bytes")
			}
			c.MaxContentBytes = n
			return nil
		}, false},
	{"MNEMO_HOOK_BUDGET", "2s", "time a hook may take before it answers with what it has",
		durationVar(func(c *Config) *time.Duration { return &c.HookBudget }, "2s or 10m"), false},
	{"MNEMO_KEEP_ALIVE", "10m", "idle time after which a server releases the model (`0`: never)",
		durationVar(func(c *Config) *time.Duration { return &c.KeepAlive }, "2s or 10m"), false},
	{"MNEMO_LOG_LEVEL", "info", "`debug`, `info`, `warn`, `error`",
		func(c *Config, v string) error {
			switch v = strings.ToLower(v); v {
			case "debug", "info", "warn", "warning", "error":
				c.LogLevel = v
				return nil
			}
			return errors.New("want debug, info, warn or error")
		}, false},
	{"MNEMO_REDACT", "on", "`off` stores text verbatim; by default credentials and `<private>…</private>` are removed before anything is stored (see [Secrets](#secrets))",
		func(c *Config, v string) error {
			switch strings.ToLower(v) {
			case "on", "1", "true", "yes":
				c.Redact = true
			case "off", "0", "false", "no":
				c.Redact = false
			default:
				return errors.New("want on or off")
			}
			return nil
		}, false},
	{"MNEMO_MODEL_WAIT", "3s", "how long an MCP `recall` waits for a model still loading (with progress notifications) before answering by keyword (`0`: at once)",
		durationVar(func(c *Config) *time.Duration { return &c.ModelWait }, "3s or 500ms (0 = answer by keyword at once)"), false},
	{"MNEMO_RECENCY_HALF_LIFE", "30d", "recall ranking: the age at which a memory counts half as recent as a new one (`90d`, `720h`; `0`: recency off); see docs/ranking.md",
		func(c *Config, v string) error {
			d, err := parseDays(v)
			if err != nil {
				return errors.New("want a duration such as 30d, 12h or 0 (off)")
			}
			if d == 0 {
				d = -1 // off
			}
			c.RecencyHalfLife = d
			return nil
		}, false},
	{"MNEMO_HOOK_MIN_SIMILARITY", "0.40", "cosine a memory needs to be injected by the `UserPromptSubmit` hook",
		func(c *Config, v string) error {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || !(f > 0 && f <= 1) {
				return errors.New("want a cosine similarity above 0 and at most 1, such as 0.4")
			}
			c.HookMinSimilarity = f
			return nil
		}, false},
	{"MNEMO_HOOK_CAPTURE", "0", "`1`: `session-end`/`pre-compact` hooks store your `remember: …` lines", boolVar(func(c *Config) *bool { return &c.HookCapture }), false},
	{"MNEMO_HOOK_WARM", "1", "`0`: hooks never ask a running server", boolVar(func(c *Config) *bool { return &c.HookWarm }), false},
	{"MNEMO_HOOK_LOCAL_MODEL", "0", "`1`: without a running server, a hook loads the model itself (hybrid recall, slower)", boolVar(func(c *Config) *bool { return &c.HookLocalModel }), false},
	{"MNEMO_KERNELS", "auto", "caps the engine's compute kernels: `auto`, `off` (simplego's own) or a set of this build (`avx512`, `avx2`, `neon`, `generic`)",
		func(c *Config, v string) error {
			if strings.ContainsAny(v, " \t,=") {
				return errors.New("want auto, off or one kernel set such as avx2")
			}
			if v == "auto" {
				v = ""
			}
			c.Kernels = v
			return nil
		}, false},
	{"MNEMO_GRAPH_REWRITE", "1", "`0` loads the model's graph as it is, without the rewrite for the fast GEMM path (for A/B runs)", boolVar(func(c *Config) *bool { return &c.GraphRewrite }), false},
	{"MNEMO_GOMLX_CONFIG", "", "replaces the GoMLX simplego backend configuration, for experiments (`docs/perf.md`)",
		func(c *Config, v string) error { c.GoMLXConfig = v; return nil }, false},
	{"MNEMO_BENCH_SCALE", "1", "scales the number of timed calls of `mnemo bench`",
		func(c *Config, v string) error {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || !(f > 0) || f > 1e6 {
				return errors.New("want a positive number")
			}
			c.BenchScale = f
			return nil
		}, false},

	// Read only by tests and benchmarks.
	{Name: "MNEMO_TEST_MODELS", Default: "../shared/models", Meaning: "the shared test models (internal/testmodels)"},
	{Name: "MNEMO_TEST_POSTGRES", Meaning: "a PostgreSQL URL: the store tests and conformance suite also run against PostgreSQL"},
	{Name: "MNEMO_TEST_KERNELS", Meaning: "caps the kernel level of the engine's and kernels' tests (`make test-kernels`)"},
	{Name: "MNEMO_OP_PROFILE", Meaning: "`1`: the engine's benchmarks time every graph op"},
	{Name: "MNEMO_BENCH_PG_N", Default: "100000", Meaning: "memories in the PostgreSQL search benchmarks"},
	{Name: "MNEMO_BENCH_DIR", Meaning: "keeps the SQLite benchmarks' store in this folder"},
	{Name: "MNEMO_BENCH_BIN", Meaning: "a built mnemo binary for the hook latency benchmark"},
	{Name: "MNEMO_UI_BIN", Meaning: "a built mnemo binary: `mnemo ui`'s browser test runs against it (`make test-ui`)"},
	{Name: "MNEMO_TEST_MOVE_FAULT", Meaning: "cmd/mnemo's helper process: `copy` makes a move of the store copy, `kill:STEP` kills the process at that step of the move (internal/storemove)"},
	{Name: "MNEMO_UI_SCREENSHOTS", Meaning: "folder for the browser test's screenshots (`make test-ui`: artifacts/ui)"},
}

// Lookup returns the variable called name.
func Lookup(name string) (Var, bool) {
	for _, v := range Vars {
		if v.Name == name {
			return v, true
		}
	}
	return Var{}, false
}

func boolVar(field func(*Config) *bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return errors.New("want 1/0/true/false")
		}
		*field(c) = b
		return nil
	}
}

// parseDays reads a non-negative duration as time.ParseDuration does, or a
// number of days such as 30d or 1.5d.
func parseDays(v string) (time.Duration, error) {
	if strings.HasSuffix(v, "d") {
		f, err := strconv.ParseFloat(strings.TrimSuffix(v, "d"), 64)
		if err != nil || f < 0 || f > 100000 {
			return 0, errors.New("bad days")
		}
		return time.Duration(f * float64(24*time.Hour)), nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, errors.New("bad duration")
	}
	return d, nil
}

func durationVar(field func(*Config) *time.Duration, example string) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return fmt.Errorf("want a duration such as %s", example)
		}
		*field(c) = d
		return nil
	}
}

// PrintEnvironment writes the table for `mnemo help environment`.
func PrintEnvironment(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "VARIABLE\tDEFAULT\tMEANING")
	tests := false
	for _, v := range Vars {
		if v.TestOnly() && !tests {
			tests = true
			tw.Flush()
			fmt.Fprintln(w, "\nRead only by mnemo's tests and benchmarks:")
		}
		def := v.Default
		if def == "" {
			def = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", v.Name, def, strings.ReplaceAll(v.Meaning, "`", ""))
	}
	tw.Flush()
	fmt.Fprintln(w, "\nA value a variable does not accept is an error naming it. Empty means unset.")
}

// TestModels is MNEMO_TEST_MODELS (internal/testmodels' folder of test
// models), read here so that no MNEMO_* variable is read elsewhere.
func TestModels() string { return strings.TrimSpace(os.Getenv("MNEMO_TEST_MODELS")) }
