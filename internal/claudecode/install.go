package claudecode

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/mnemo-mcp/mnemo/internal/marks"
	"github.com/mnemo-mcp/mnemo/pkg/config"
	"github.com/mnemo-mcp/mnemo/pkg/project"
)

// ServerName is the name mnemo registers under in Claude Code.
const ServerName = "mnemo"

// DefaultHookTimeout is the timeout (seconds) written for mnemo's hooks.
// The hook bounds itself by MNEMO_HOOK_BUDGET (2 s); Claude Code's timeout
// is only a backstop and must not cut the budget short.
const DefaultHookTimeout = 10

// Setup describes one installation of mnemo into Claude Code.
type Setup struct {
	Scope      string // "user" or "project"
	Home       string // the user's home (settings under Home/.claude)
	ProjectDir string // project root (scope project)
	Exe        string // absolute path of the mnemo binary
	Capture    bool   // also install session-end/pre-compact capture hooks
	Timeout    int    // hook timeout in seconds; 0 = DefaultHookTimeout
	// Env is recorded in the MCP registration (`claude mcp add -e`) and
	// put in front of each hook command (NAME=value): the MNEMO_* settings
	// in effect at install time, so that the server and the hooks Claude
	// Code starts use the same model and store.
	Env map[string]string
	// ConfigFile is the user's mnemo config file (config.toml), named in
	// the messages that say where a setting belongs instead.
	ConfigFile string
}

// Validate checks the scope and paths.
func (s Setup) Validate() error {
	switch s.Scope {
	case "user":
		if s.Home == "" {
			return errors.New("no home directory: set HOME")
		}
	case "project":
		if s.ProjectDir == "" {
			return errors.New("no project directory")
		}
	default:
		return fmt.Errorf("scope %q: want user or project", s.Scope)
	}
	if !filepath.IsAbs(s.Exe) {
		return fmt.Errorf("binary path %q is not absolute", s.Exe)
	}
	for k := range s.Env {
		if !validEnvName(k) {
			return fmt.Errorf("environment variable name %q: want letters, digits and _", k)
		}
	}
	return nil
}

// SettingsPath is the settings.json the hooks go into.
func (s Setup) SettingsPath() string {
	if s.Scope == "project" {
		return filepath.Join(s.ProjectDir, ".claude", "settings.json")
	}
	return filepath.Join(s.Home, ".claude", "settings.json")
}

// MCPConfigPath is the file in which `claude mcp add --scope` records the
// server: ~/.claude.json for user scope, <project>/.mcp.json for project.
func (s Setup) MCPConfigPath() string {
	if s.Scope == "project" {
		return filepath.Join(s.ProjectDir, ".mcp.json")
	}
	return filepath.Join(s.Home, ".claude.json")
}

// Hooks are the hook entries this setup installs.
func (s Setup) Hooks() []Hook {
	t := s.Timeout
	if t <= 0 {
		t = DefaultHookTimeout
	}
	hs := []Hook{
		{Event: "UserPromptSubmit", Command: HookCommand(s.Exe, "user-prompt-submit", false, s.Env), Timeout: t},
		{Event: "SessionStart", Command: HookCommand(s.Exe, "session-start", false, s.Env), Timeout: t},
	}
	if s.Capture {
		hs = append(hs,
			Hook{Event: "SessionEnd", Command: HookCommand(s.Exe, "session-end", true, s.Env), Timeout: t},
			Hook{Event: "PreCompact", Command: HookCommand(s.Exe, "pre-compact", true, s.Env), Timeout: t},
		)
	}
	return hs
}

// ErrNoClaude: the claude CLI is not on PATH, so the MCP registration was
// printed for the user to run, not done (the hooks were written).
var ErrNoClaude = errors.New("the claude CLI is not on PATH: the MCP server is not registered (run the command printed above)")

// AddCommand is the claude CLI invocation that registers mnemo.
// The -e options follow the name: claude's -e takes several values and
// would swallow a name after it.
func (s Setup) AddCommand() []string {
	argv := []string{"claude", "mcp", "add", "--scope", s.Scope, ServerName}
	for _, k := range slices.Sorted(maps.Keys(s.Env)) {
		argv = append(argv, "-e", k+"="+s.Env[k])
	}
	return append(argv, "--", s.Exe, "serve")
}

// RemoveCommand is the claude CLI invocation that unregisters mnemo.
func (s Setup) RemoveCommand() []string {
	return []string{"claude", "mcp", "remove", "--scope", s.Scope, ServerName}
}

// exeName is the installing binary's base name (matched as mnemo's too).
func (s Setup) exeName() string { return filepath.Base(s.Exe) }

// Registration is an MCP server entry found in a Claude Code config file.
type Registration struct {
	File    string            `json:"file"`
	Scope   string            `json:"scope"`
	Command string            `json:"command"`
	Args    []string          `json:"args"`
	Env     map[string]string `json:"env,omitempty"`
}

// ReadRegistration returns mnemo's entry in the mcpServers of a config
// file (~/.claude.json or .mcp.json); ok is false when there is none. With
// projectDir set, the local-scope entry of that project in ~/.claude.json
// (projects[dir].mcpServers) is looked up too.
func ReadRegistration(path, projectDir string) (reg Registration, ok bool, err error) {
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return reg, false, nil
	}
	if err != nil {
		return reg, false, err
	}
	var doc struct {
		MCPServers map[string]Registration `json:"mcpServers"`
		Projects   map[string]struct {
			MCPServers map[string]Registration `json:"mcpServers"`
		} `json:"projects"`
	}
	if len(strings.TrimSpace(string(data))) == 0 {
		return reg, false, nil
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return reg, false, fmt.Errorf("%s: %w", path, err)
	}
	if r, ok := doc.MCPServers[ServerName]; ok {
		r.File, r.Scope = path, "user"
		if filepath.Base(path) == ".mcp.json" {
			r.Scope = "project"
		}
		return r, true, nil
	}
	if projectDir != "" {
		if p, ok := doc.Projects[projectDir]; ok {
			if r, ok := p.MCPServers[ServerName]; ok {
				r.File, r.Scope = path, "local"
				return r, true, nil
			}
		}
	}
	return reg, false, nil
}

// ReadRegistrations returns every entry of mnemo in a config file: the
// user-scope one (mcpServers), and with projectDir set the local-scope one
// of that project in ~/.claude.json (projects[dir].mcpServers).
func ReadRegistrations(path, projectDir string) ([]Registration, error) {
	var out []Registration
	reg, ok, err := ReadRegistration(path, "")
	if err != nil || !ok && projectDir == "" {
		return nil, err
	}
	if ok {
		out = append(out, reg)
	}
	if projectDir != "" && filepath.Base(path) != ".mcp.json" {
		// Without a user-scope entry, ReadRegistration looks the local one
		// up; with one, it stops there: look again without it.
		data, err := os.ReadFile(path)
		if err != nil {
			return out, nil
		}
		var doc struct {
			Projects map[string]struct {
				MCPServers map[string]Registration `json:"mcpServers"`
			} `json:"projects"`
		}
		if json.Unmarshal(data, &doc) == nil {
			if r, ok := doc.Projects[projectDir].MCPServers[ServerName]; ok {
				r.File, r.Scope = path, "local"
				out = append(out, r)
			}
		}
	}
	return out, nil
}

// Effective is the registration Claude Code uses of several: local scope
// over project over user, as Claude Code resolves one name registered in
// several scopes. ok is false for none.
func Effective(regs []Registration) (Registration, bool) {
	for _, scope := range []string{"local", "project", "user"} {
		for _, r := range regs {
			if r.Scope == scope {
				return r, true
			}
		}
	}
	return Registration{}, false
}

// Runner runs a command in dir and returns its combined output.
type Runner func(ctx context.Context, dir string, argv []string) ([]byte, error)

// ExecRunner runs commands with os/exec.
func ExecRunner(ctx context.Context, dir string, argv []string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "DISABLE_AUTOUPDATER=1")
	return cmd.CombinedOutput()
}

// Options controls Install and Uninstall.
type Options struct {
	DryRun bool
	// Claude is the path of the claude CLI; "" means it is not installed
	// and the commands are printed for the user to run.
	Claude string
	Run    Runner // nil = ExecRunner
	Out    io.Writer
	// Marks is how the status marks of Out's lines are written (marks.For
	// Out); the zero value is plain words.
	Marks marks.Style
	Now   func() time.Time
}

func (o *Options) defaults() {
	if o.Run == nil {
		o.Run = ExecRunner
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Install merges mnemo's hooks into the settings and registers the MCP
// server. It is idempotent.
func Install(ctx context.Context, s Setup, o Options) error {
	o.defaults()
	if err := s.Validate(); err != nil {
		return err
	}
	if err := o.checkCommitted(s); err != nil {
		return err
	}
	path := s.SettingsPath()
	old, err := readSettings(path)
	if err != nil {
		return err
	}
	out, changed, err := MergeHooks(old, s.Hooks(), s.exeName())
	if err != nil {
		return fmt.Errorf("%s: %w (fix or move the file, then re-run)", path, err)
	}
	events := make([]string, 0, 4)
	for _, h := range s.Hooks() {
		events = append(events, h.Event)
	}
	if o.DryRun {
		// What is printed shows credentials masked: the same settings
		// with the masked values.
		if shown, _, err := MergeHooks(old, s.masked().Hooks(), s.exeName()); err == nil {
			out = shown
		}
	}
	if err := o.apply(path, out, changed, "hooks "+strings.Join(events, ", ")); err != nil {
		return err
	}
	return o.register(ctx, s)
}

// Uninstall removes mnemo's hooks from the settings and unregisters the
// MCP server; the user's other settings and hooks stay.
func Uninstall(ctx context.Context, s Setup, o Options) error {
	o.defaults()
	if err := s.Validate(); err != nil {
		return err
	}
	path := s.SettingsPath()
	old, err := readSettings(path)
	if err != nil {
		return err
	}
	if old == nil {
		fmt.Fprintf(o.Out, "%s hooks: %s does not exist; nothing to remove\n", o.Marks.Mark(marks.OK), path)
	} else {
		out, changed, err := RemoveHooks(old, s.exeName())
		if err != nil {
			return fmt.Errorf("%s: %w (fix or move the file, then re-run)", path, err)
		}
		if err := o.apply(path, out, changed, "removed mnemo's hooks"); err != nil {
			return err
		}
	}
	return o.unregister(ctx, s)
}

func readSettings(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return data, nil
}

func (o *Options) apply(path string, out []byte, changed bool, what string) error {
	switch {
	case !changed:
		fmt.Fprintf(o.Out, "%s hooks: %s already up to date\n", o.Marks.Mark(marks.OK), path)
	case o.DryRun:
		fmt.Fprintf(o.Out, "%s dry run: would write %s (%s):\n%s", o.Marks.Mark(marks.Info), path, what, out)
	default:
		backup, err := WriteSettings(path, out, o.Now())
		if err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		if backup != "" {
			fmt.Fprintf(o.Out, "%s hooks: %s in %s (backup: %s)\n", o.Marks.Mark(marks.OK), what, path, backup)
		} else {
			fmt.Fprintf(o.Out, "%s hooks: %s in %s (new file)\n", o.Marks.Mark(marks.OK), what, path)
		}
	}
	return nil
}

func (o *Options) register(ctx context.Context, s Setup) error {
	reg, ok, err := ReadRegistration(s.MCPConfigPath(), "")
	if err != nil {
		fmt.Fprintf(o.Out, "%s MCP: cannot read %s (%v); registering anyway\n", o.Marks.Mark(marks.Warn), s.MCPConfigPath(), err)
	}
	if ok && reg.Command == s.Exe && slices.Equal(reg.Args, []string{"serve"}) && maps.Equal(reg.Env, s.Env) {
		fmt.Fprintf(o.Out, "%s MCP: %s already registered in %s scope (%s)\n", o.Marks.Mark(marks.OK), ServerName, s.Scope, reg.File)
		return nil
	}
	var cmds [][]string
	if ok {
		cmds = append(cmds, s.RemoveCommand()) // registered with another binary or arguments
	}
	cmds = append(cmds, s.AddCommand())
	return o.runClaude(ctx, s, cmds)
}

func (o *Options) unregister(ctx context.Context, s Setup) error {
	_, ok, err := ReadRegistration(s.MCPConfigPath(), "")
	if err == nil && !ok {
		fmt.Fprintf(o.Out, "%s MCP: %s is not registered in %s scope\n", o.Marks.Mark(marks.OK), ServerName, s.Scope)
		return nil
	}
	return o.runClaude(ctx, s, [][]string{s.RemoveCommand()})
}

// runClaude runs the claude CLI commands, or prints them when claude is not
// installed or this is a dry run.
func (o *Options) runClaude(ctx context.Context, s Setup, cmds [][]string) (err error) {
	dir := s.Home
	if s.Scope == "project" {
		dir = s.ProjectDir // claude writes .mcp.json in its working directory
	}
	missing := false
	defer func() {
		if missing && err == nil {
			err = ErrNoClaude
		}
	}()
	for _, argv := range cmds {
		line := s.displayLine(argv)
		if o.DryRun {
			fmt.Fprintf(o.Out, "%s dry run: would run (in %s): %s\n", o.Marks.Mark(marks.Info), dir, line)
			continue
		}
		if o.Claude == "" {
			fmt.Fprintf(o.Out, "%s MCP: the claude CLI is not on PATH; run this yourself (in %s):\n    %s\n", o.Marks.Mark(marks.Fail), dir, line)
			missing = true
			continue
		}
		run := append([]string{o.Claude}, argv[1:]...)
		cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		out, err := o.Run(cctx, dir, run)
		cancel()
		if err != nil {
			return fmt.Errorf("%s: %w\n%s", line, err, s.hideCredentials(strings.TrimSpace(string(out))))
		}
		fmt.Fprintf(o.Out, "%s MCP: ran %s\n", o.Marks.Mark(marks.OK), line)
	}
	return nil
}

// hideCredentials masks the settings' credentials wherever text repeats
// them (claude's output on an error, say).
func (s Setup) hideCredentials(text string) string {
	for k, v := range s.Env {
		if _, ok := config.Credential(k, v); ok {
			text = strings.ReplaceAll(text, v, config.MaskCredential(k, v))
		}
	}
	return text
}

// displayLine is argv for people: a credential in a -e NAME=value is
// shown as NAME="$NAME", which a shell holding the setting expands, so
// the line can still be run but never shows the secret.
func (s Setup) displayLine(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = ShellQuote(a)
		if i == 0 || argv[i-1] != "-e" {
			continue
		}
		if name, val, ok := strings.Cut(a, "="); ok && validEnvName(name) {
			if _, secret := config.Credential(name, val); secret {
				q[i] = name + `="$` + name + `"`
			}
		}
	}
	return strings.Join(q, " ")
}

// ProjectRoot is the directory a project-scope install writes to:
// CLAUDE_PROJECT_DIR when set, else the nearest ancestor of dir holding
// .git, else dir itself (the same root pkg/project names projects by).
func ProjectRoot(getenv func(string) string, dir string) string {
	if p := getenv(project.EnvProjectDir); p != "" {
		return p
	}
	if root, ok := project.GitRoot(dir); ok {
		return root
	}
	return dir
}
