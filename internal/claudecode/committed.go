package claudecode

import (
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strings"

	"github.com/mnemo-mcp/mnemo/internal/marks"
	"github.com/mnemo-mcp/mnemo/pkg/config"
)

// A project-scope install writes the MNEMO_* settings into .mcp.json and
// .claude/settings.json, files meant to be committed and shared. A
// credential must never go there: install refuses, writes nothing, and
// says where the setting belongs instead. A path inside the installer's
// home folder is only warned about: it may be deliberate.

// EnvIssue is a MNEMO_* setting unfit for files meant to be committed.
type EnvIssue struct {
	Name string // the variable
	// Why says what is wrong, in words; for a credential it never holds
	// the value.
	Why        string
	Credential bool // a credential (install refuses); else a path in the user's home
}

// CommittedEnvIssues checks the settings a project-scope install would
// write: credentials (config.Credential) and paths inside home
// (config.UnderHome), sorted by name.
func CommittedEnvIssues(env map[string]string, home string) []EnvIssue {
	var out []EnvIssue
	for _, k := range slices.Sorted(maps.Keys(env)) {
		v := env[k]
		if kind, ok := config.Credential(k, v); ok {
			out = append(out, EnvIssue{Name: k, Why: "holds " + kind, Credential: true})
		} else if config.UnderHome(k, v, home) {
			out = append(out, EnvIssue{Name: k, Why: fmt.Sprintf("is %s, inside your home folder, which other machines do not have", v)})
		}
	}
	return out
}

// CredentialError is a project-scope install refused because a MNEMO_*
// setting holds a credential. Its message names the variables and what
// to do, never the values.
type CredentialError struct {
	Issues     []EnvIssue // the credentials
	Files      []string   // the files that would have held them
	ConfigFile string     // the user's mnemo config file ("" unknown)
	Capture    bool       // install was asked for --capture
}

func (e *CredentialError) Error() string {
	var b strings.Builder
	names := make([]string, len(e.Issues))
	for i, is := range e.Issues {
		names[i] = is.Name
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s %s", is.Name, is.Why)
	}
	fmt.Fprintf(&b, ": a credential must not go into files meant to be committed, and a project-scope install records the MNEMO_* settings in %s. Nothing was written. Instead:\n",
		strings.Join(e.Files, " and "))
	cfg := e.ConfigFile
	if cfg == "" {
		cfg = "~/.config/mnemo/config.toml"
	}
	var keys, unset []string
	for _, n := range names {
		key := n
		if v, ok := config.Lookup(n); ok {
			key = v.FileKey()
		}
		keys = append(keys, key+` = "…"`)
		unset = append(unset, n+"=")
	}
	again := "mnemo install --scope project"
	if e.Capture {
		again += " --capture"
	}
	fmt.Fprintf(&b, "  - put it in your own config file, which the server and the hooks read (each teammate their own): %s in %s, then install without it: %s %s\n",
		strings.Join(keys, ", "), cfg, strings.Join(unset, " "), again)
	if slices.Contains(names, "MNEMO_STORE") {
		fmt.Fprintf(&b, "  - or keep the password out of MNEMO_STORE: put it in %s (a line host:port:database:user:password, mode 0600; PGPASSFILE names another file), which mnemo's PostgreSQL driver reads (as it reads PGPASSWORD from the environment Claude Code runs in), and set MNEMO_STORE to the URL without it\n", pgpassFile())
	}
	b.WriteString("  - or install for yourself only, in files that are not shared: mnemo install --scope user")
	return b.String()
}

// checkCommitted refuses a project-scope install whose settings hold a
// credential, and warns about paths inside the installer's home.
func (o *Options) checkCommitted(s Setup) error {
	if s.Scope != "project" {
		return nil
	}
	files := []string{s.MCPConfigPath(), s.SettingsPath()}
	var creds []EnvIssue
	for _, is := range CommittedEnvIssues(s.Env, s.Home) {
		if is.Credential {
			creds = append(creds, is)
			continue
		}
		key := is.Name
		if v, ok := config.Lookup(is.Name); ok {
			key = v.FileKey()
		}
		cfg := s.ConfigFile
		if cfg == "" {
			cfg = "your mnemo config file"
		}
		fmt.Fprintf(o.Out, "%s %s %s; it goes into %s, files meant to be committed\n%s %s unless every machine has that path, put %s = \"…\" in %s and install without it: %s= mnemo install --scope project\n",
			o.Marks.Mark(marks.Warn), is.Name, is.Why, strings.Join(files, " and "),
			strings.Repeat(" ", o.Marks.Width()), o.Marks.Arrow(), key, cfg, is.Name)
	}
	if len(creds) > 0 {
		return &CredentialError{Issues: creds, Files: files, ConfigFile: s.ConfigFile, Capture: s.Capture}
	}
	return nil
}

// masked is s with every credential in its settings hidden, for printing
// what would be written or run (a dry run, the claude command line).
func (s Setup) masked() Setup {
	var env map[string]string
	for k, v := range s.Env {
		if _, ok := config.Credential(k, v); ok {
			if env == nil {
				env = maps.Clone(s.Env)
			}
			env[k] = config.MaskCredential(k, v)
		}
	}
	if env != nil {
		s.Env = env
	}
	return s
}

// pgpassFile is where the PostgreSQL driver (pgx, as libpq) looks for
// passwords by default.
func pgpassFile() string {
	if runtime.GOOS == "windows" {
		return `%APPDATA%\postgresql\pgpass.conf`
	}
	return "~/.pgpass"
}
