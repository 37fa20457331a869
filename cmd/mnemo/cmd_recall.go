package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/mnemo-mcp/mnemo/internal/app"
	"github.com/mnemo-mcp/mnemo/pkg/humantime"
	"github.com/mnemo-mcp/mnemo/pkg/memory"
	"github.com/mnemo-mcp/mnemo/pkg/service"
)

func init() {
	register(&command{
		name:    "recall",
		summary: "search memories by meaning and keywords",
		usage:   "QUERY [--k N] [--mode hybrid|semantic|keyword] [--tags a,b [--all-tags]] [--project P | --all] [--since 7d] [--until DATE] [--include-superseded] [--why] [--json]",
		examples: []string{
			`mnemo recall "which port does staging use"`,
			"mnemo recall deploy --k 3 --tags ops --since 7d",
			`mnemo recall "postgres pool" --mode keyword --all --json`,
		},
		details: scoreHelp,
		run:     runRecall,
	})
}

// hitJSON is one recall result as `recall --json` prints it.
type hitJSON struct {
	memoryJSON
	// Score is the recall score (docs/ranking.md, `mnemo help recall`);
	// Match says which ranking found the memory.
	Score        float64 `json:"score"`
	Match        string  `json:"match"`
	Similarity   float64 `json:"similarity,omitempty"`
	KeywordRank  int     `json:"keyword_rank,omitempty"`
	SemanticRank int     `json:"semantic_rank,omitempty"`
	// Why holds the components of Score (docs/ranking.md).
	Why *memory.ScoreParts `json:"why,omitempty"`
}

func runRecall(ctx context.Context, env *runEnv, args []string) error {
	c := commands["recall"]
	fs := newFlagSet(env, c)
	var f commonFlags
	f.addJSON(fs)
	f.addScope(fs, "search")
	f.addTags(fs, "only memories with any of these comma-separated tags")
	f.addModel(fs)
	k := fs.Int("k", service.DefaultK, fmt.Sprintf("number of results (1-%d)", service.MaxRecallK))
	mode := fs.String("mode", string(memory.ModeHybrid), "hybrid, semantic or keyword (keyword needs no model)")
	allTags := fs.Bool("all-tags", false, "require all --tags instead of any")
	since := fs.String("since", "", "only memories created since: a date (2026-01-02), RFC 3339 time, or age (12h, 7d, 2w)")
	until := fs.String("until", "", "only memories created before this date, time or age")
	inclSup := fs.Bool("include-superseded", false, "also search old versions that newer memories replaced")
	why := fs.Bool("why", false, "show the components of each score: relevance, recency, use, pinned (docs/ranking.md)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	query := strings.TrimSpace(strings.Join(pos, " "))
	if query == "" {
		return usageErr(env, "recall needs a QUERY")
	}
	if *k < 1 || *k > service.MaxRecallK {
		return usageErr(env, "--k %d: want a number of results from 1 to %d", *k, service.MaxRecallK)
	}
	scope, err := f.scope(env)
	if err != nil {
		return err
	}
	m := memory.Mode(*mode)
	if !m.Valid() {
		return usageErr(env, "--mode %q: want hybrid, semantic or keyword", *mode)
	}
	now := time.Now()
	sinceT, err := parseTimeFlag("since", *since, now)
	if err != nil {
		return usageErr(env, "%v", err)
	}
	untilT, err := parseTimeFlag("until", *until, now)
	if err != nil {
		return usageErr(env, "%v", err)
	}

	// The model loads while the store opens; Recall validates the request
	// first and then waits for the model (ModelWait).
	load := app.ModelBackground
	if m == memory.ModeKeyword {
		load = app.ModelNone
	}
	a, err := app.Open(ctx, app.Options{Stderr: env.stderr, Process: "recall", ReadOnlyOK: true, Source: memory.SourceCLI, Model: load,
		ModelName: f.model, StderrLevel: "warn", Progress: env.stderr, QuietModel: true})
	if err != nil {
		return err
	}
	defer a.Close()
	res, err := a.Svc.Recall(ctx, service.RecallRequest{
		Query: query, K: *k, Tags: f.tagList(), TagsAll: *allTags, Project: scope, Mode: m,
		Since: sinceT, Until: untilT, ModelWait: cliModelWait, IncludeSuperseded: *inclSup,
	})
	if err != nil {
		return err
	}
	if m != memory.ModeKeyword && !res.Semantic {
		why := res.Note
		if err := a.ModelErr(); err != nil {
			why = app.ModelReason(a.Cfg, err)
		}
		if m == memory.ModeSemantic {
			// Asked for meaning only: a keyword answer would not be one.
			if err := a.ModelErr(); err != nil {
				return fmt.Errorf("%s\n  or search by keyword: mnemo recall --mode keyword", app.ModelHelp(a.Cfg, err))
			}
			return fmt.Errorf("model %s unavailable: %s (use --mode keyword to search without it)", a.Cfg.Model, why)
		}
		// Hybrid: answer by keyword, as the MCP server does, and say so.
		fmt.Fprintf(env.stderr, "mnemo: answered by keyword only: model %s is not available: %s (mnemo doctor says more)\n", a.Cfg.Model, why)
	} else if res.Note != "" {
		fmt.Fprintf(env.stderr, "mnemo: %s\n", res.Note)
	}
	if f.json {
		for _, h := range res.Results {
			if err := writeJSONLine(env.stdout, hitJSON{memoryJSON: toMemoryJSON(h.Memory), Score: h.Score, Match: matchLabel(h),
				Similarity: h.Similarity, KeywordRank: h.KeywordRank, SemanticRank: h.SemanticRank, Why: h.Why}); err != nil {
				return err
			}
		}
		return nil
	}
	if len(res.Results) == 0 {
		if note := elsewhereNote(ctx, a, scope, "search them"); note != "" {
			fmt.Fprintf(env.stdout, "no memories in this project match %q; %s\n", shorten(query, 60), note)
		} else {
			fmt.Fprintf(env.stdout, "no memories match %q\n", shorten(query, 60))
		}
		return nil
	}
	tw := newTable(env.stdout)
	if *why {
		fmt.Fprintln(tw, "#\tID\tSCORE\tRELEVANCE\tRECENCY\tUSE\tPIN\tAGE\tPROJECT\tCONTENT")
	} else {
		fmt.Fprintln(tw, "#\tID\tSCORE\tMATCH\tAGE\tPROJECT\tTAGS\tCONTENT")
	}
	for i, h := range res.Results {
		content := h.Memory.Content
		if h.Memory.SupersededBy != "" {
			content = "(superseded by " + h.Memory.SupersededBy + ") " + content
		}
		if h.Memory.Pinned {
			content = "[pinned] " + content
		}
		if *why && h.Why != nil {
			pin := ""
			if h.Why.Pinned {
				pin = "yes"
			}
			fmt.Fprintf(tw, "%d\t%s\t%.4f\t%.3f\t%.3f\t%.3f\t%s\t%s\t%s\t%s\n", i+1, h.Memory.ID, h.Score, h.Why.Relevance, h.Why.Recency, h.Why.Use, pin,
				humantime.Ago(now, h.Memory.CreatedAt), shortenLeft(h.Memory.Project, 24), shorten(content, 60))
			continue
		}
		fmt.Fprintf(tw, "%d\t%s\t%.4f\t%s\t%s\t%s\t%s\t%s\n", i+1, h.Memory.ID, h.Score, matchLabel(h), humantime.Ago(now, h.Memory.CreatedAt),
			shortenLeft(h.Memory.Project, 24), shorten(tagString(h.Memory.Tags), 24), shorten(content, 72))
	}
	return tw.Flush()
}

// scoreHelp documents the SCORE column (recall's help prints it).
const scoreHelp = `SCORE is one number with the same meaning in every mode (docs/ranking.md):
  relevance (0 to 1: 1 = first in every ranking the mode ran, keyword and/or
  meaning) times a small boost for recent and often-recalled memories, so
  0 to 1; a pinned memory gets +1 and stays on top. --why shows the parts.
MATCH says which ranking found it: words, meaning, or both.
--json keeps the raw components: score, why, similarity (cosine),
keyword_rank, semantic_rank.`

// matchLabel says which ranking found the hit.
func matchLabel(h memory.Hit) string {
	switch {
	case h.KeywordRank > 0 && h.SemanticRank > 0:
		return "both"
	case h.SemanticRank > 0:
		return "meaning"
	default:
		return "words"
	}
}
