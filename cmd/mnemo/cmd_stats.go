package main

import (
	"context"
	"fmt"
	"sort"

	"github.com/mnemo-mcp/mnemo/internal/app"
	"github.com/mnemo-mcp/mnemo/pkg/memory"
)

func init() {
	register(&command{
		name:    "stats",
		summary: "summarise the memory store",
		usage:   "[--json]",
		examples: []string{
			"mnemo stats",
			"mnemo stats --json | jq .total",
		},
		run: runStats,
	})
}

// statsJSON is what `stats --json` prints.
type statsJSON struct {
	memory.Stats
	CurrentProject string `json:"current_project"`
	Model          string `json:"model"` // configured model
}

func runStats(ctx context.Context, env *runEnv, args []string) error {
	c := commands["stats"]
	fs := newFlagSet(env, c)
	var f commonFlags
	f.addJSON(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErr(env, "stats takes no arguments")
	}
	a, err := app.Open(ctx, app.Options{Stderr: env.stderr, Process: "stats", ReadOnlyOK: true, Source: memory.SourceCLI, Model: app.ModelNone, StderrLevel: "warn"})
	if err != nil {
		return err
	}
	defer a.Close()
	st, err := a.Svc.Stats(ctx)
	if err != nil {
		return err
	}
	if f.json {
		return writeJSONLine(env.stdout, statsJSON{Stats: st, CurrentProject: a.Project, Model: a.Cfg.Model})
	}
	w := env.stdout
	fmt.Fprintf(w, "memories:        %d\n", st.Total)
	fmt.Fprintf(w, "store:           %s (%s, schema v%d)\n", st.Path, humanBytes(st.SizeBytes), st.SchemaVers)
	fmt.Fprintf(w, "current project: %s\n", a.Project)
	fmt.Fprintf(w, "model:           %s\n", a.Cfg.Model)
	if len(st.ByProject) > 0 {
		fmt.Fprintln(w, "\nby project:")
		tw := newTable(w)
		for _, k := range sortedByCount(st.ByProject) {
			fmt.Fprintf(tw, "  %s\t%d\n", k, st.ByProject[k])
		}
		tw.Flush()
	}
	if len(st.ByModel) > 0 {
		fmt.Fprintln(w, "\nvectors by model:")
		tw := newTable(w)
		for _, k := range sortedByCount(st.ByModel) {
			name := k
			if name == "" {
				name = "(none yet)"
			}
			fmt.Fprintf(tw, "  %s\t%d\n", name, st.ByModel[k])
		}
		tw.Flush()
		if len(st.ByModel) > 1 || st.ByModel[""] > 0 {
			fmt.Fprintln(w, "\nsome memories have no vector from the current model: run 'mnemo reembed'")
		}
	}
	return nil
}

func sortedByCount(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	return keys
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for x := n / unit; x >= unit; x /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
