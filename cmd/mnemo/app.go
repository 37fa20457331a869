package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"golang.org/x/term"

	"github.com/mnemo-mcp/mnemo/internal/app"
	"github.com/mnemo-mcp/mnemo/pkg/humantime"
	"github.com/mnemo-mcp/mnemo/pkg/memory"
)

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
	// Versions, pins and use, only when set.
	Pinned       bool     `json:"pinned,omitempty"`
	Supersedes   []string `json:"supersedes,omitempty"`
	SupersededBy string   `json:"superseded_by,omitempty"`
	RecallCount  int      `json:"recall_count,omitempty"`
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
		Source: m.Source, CreatedAt: m.CreatedAt, AccessedAt: m.AccessedAt, Model: m.Model,
		Pinned: m.Pinned, Supersedes: m.Supersedes, SupersededBy: m.SupersededBy, RecallCount: m.RecallCount}
}

// newTable returns an aligned-column writer; Flush it.
func newTable(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0) }

// isTerminal reports whether w (a reader or writer) is an interactive terminal.
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// elsewhereNote says how many memories exist outside the projects a
// command searched, and how to see them, for a list or recall that found
// nothing here ("" when there are none, or the search was --all).
func elsewhereNote(ctx context.Context, a *app.App, scope, verb string) string {
	if scope == "*" {
		return ""
	}
	st, err := a.Svc.Stats(ctx)
	if err != nil {
		return ""
	}
	here := scope
	if here == "" {
		here = a.Svc.Project()
	}
	n := st.Total - st.ByProject[here]
	if here != memory.GlobalProject {
		n -= st.ByProject[memory.GlobalProject]
	}
	if n <= 0 {
		return ""
	}
	others := 0
	for p, c := range st.ByProject {
		if p != here && p != memory.GlobalProject && c > 0 {
			others++
		}
	}
	return fmt.Sprintf("%d %s in %d other %s: %s with --all, or --project PROJECT for one (mnemo stats lists them)",
		n, pluralWord(n, "memory", "memories"), others, pluralWord(others, "project", "projects"), verb)
}

func pluralWord(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
