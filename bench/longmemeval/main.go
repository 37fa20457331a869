// Command longmemeval measures mnemo's retrieval quality on LongMemEval
// (Wu et al., ICLR 2025, https://github.com/xiaowu0162/LongMemEval): for
// each question it stores the question's haystack in a fresh temporary
// SQLite store through mnemo's memory service (one memory per session or
// per turn), recalls with the question in hybrid, semantic and keyword
// modes, and reports R@5 and R@10 — the share of questions with at least
// one evidence session/turn in the top k (LongMemEval's recall_any@k) —
// plus recall_all@k, per question type and overall.
//
//	go run ./bench/longmemeval -data longmemeval_s.json                   # turn level, all-MiniLM-L6-v2
//	go run ./bench/longmemeval -data longmemeval_s.json -granularity session -limit 50
//
// The corpus follows LongMemEval's own retrieval setup (src/retrieval in
// its repository): user turns only unless -roles all; at session level a
// session's kept turns are joined by a space. Abstention questions (_abs)
// have no evidence and are skipped; a question whose evidence is not in
// the kept turns (an assistant-only answer with -roles user) is counted
// apart, not scored. Memories are written with no model (as the hooks
// do) and embedded in batches by the service's Reembed, which gives the
// vectors Remember would have given, much faster.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mnemo-mcp/mnemo/embed"
	"github.com/mnemo-mcp/mnemo/internal/app"
	"github.com/mnemo-mcp/mnemo/pkg/config"
	"github.com/mnemo-mcp/mnemo/pkg/memory"
	"github.com/mnemo-mcp/mnemo/pkg/service"
	"github.com/mnemo-mcp/mnemo/pkg/sqlite"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "longmemeval:", err)
		}
		os.Exit(1)
	}
}

// options are the command's flags.
type options struct {
	data, model, gran, roles, types, out, tmp string
	modes                                     []memory.Mode
	limit                                     int
	json, keepSecrets, quiet                  bool
}

func parseFlags(args []string, stderr io.Writer) (options, config.Config, error) {
	cfg, err := config.FromEnv()
	if err != nil {
		return options{}, cfg, err
	}
	var o options
	var modes string
	fs := flag.NewFlagSet("longmemeval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.data, "data", "", "LongMemEval JSON file (longmemeval_s.json, as published)")
	fs.StringVar(&o.model, "model", cfg.Model, "embedding model: local folder or Hugging Face repo id ($MNEMO_MODEL)")
	fs.StringVar(&o.gran, "granularity", GranTurn, "one memory per: turn or session")
	fs.StringVar(&o.roles, "roles", "user", "turns stored: user (LongMemEval's setting) or all")
	fs.StringVar(&modes, "modes", "hybrid,semantic,keyword", "recall modes to measure")
	fs.IntVar(&o.limit, "limit", 0, "stop after this many scored questions (0 = all)")
	fs.StringVar(&o.types, "types", "", "only these question types (comma-separated)")
	fs.StringVar(&o.out, "out", "", "write per-question results as JSON lines to this file")
	fs.StringVar(&o.tmp, "tmp", "", "directory for the temporary stores (default: the system's)")
	fs.BoolVar(&o.json, "json", false, "print the summary as one JSON object")
	fs.BoolVar(&o.keepSecrets, "keep-secrets", false, "store text verbatim (MNEMO_REDACT=off); by default it is redacted as mnemo does")
	fs.BoolVar(&o.quiet, "q", false, "no per-question progress on stderr")
	if err := fs.Parse(args); err != nil {
		return o, cfg, err
	}
	if o.data == "" || fs.NArg() > 0 {
		fs.Usage()
		return o, cfg, errors.New("-data FILE is required (and nothing else)")
	}
	if o.gran != GranTurn && o.gran != GranSession {
		return o, cfg, fmt.Errorf("-granularity %q: want turn or session", o.gran)
	}
	if o.roles != "user" && o.roles != "all" {
		return o, cfg, fmt.Errorf("-roles %q: want user or all", o.roles)
	}
	for _, m := range strings.Split(modes, ",") {
		m := memory.Mode(strings.TrimSpace(m))
		if !m.Valid() {
			return o, cfg, fmt.Errorf("-modes: %q is not hybrid, semantic or keyword", m)
		}
		o.modes = append(o.modes, m)
	}
	return o, cfg, nil
}

// Result is one question's outcome (a line of -out).
type Result struct {
	QuestionID   string                   `json:"question_id"`
	QuestionType string                   `json:"question_type"`
	Docs         int                      `json:"docs"`
	Evidence     []string                 `json:"evidence"`
	Scores       map[memory.Mode]Scores   `json:"scores"`
	Top          map[memory.Mode][]string `json:"top"` // ids of the top 10 documents
}

// Summary is the whole run's outcome.
type Summary struct {
	File        string                            `json:"file"`
	Model       string                            `json:"model"`
	Granularity string                            `json:"granularity"`
	Roles       string                            `json:"roles"`
	Scored      int                               `json:"scored"`
	Abstention  int                               `json:"abstention_skipped"`
	NoEvidence  int                               `json:"no_evidence_in_index"`
	ByMode      map[memory.Mode]map[string]*Tally `json:"by_mode"` // question type → tally; "overall" too
	Ingest      time.Duration                     `json:"ingest_ns"`
	RecallTime  map[memory.Mode]time.Duration     `json:"recall_ns"`
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	f, err := os.Open(o.data)
	if err != nil {
		return err
	}
	defer f.Close()
	var out io.Writer
	if o.out != "" {
		fo, err := os.Create(o.out)
		if err != nil {
			return err
		}
		defer fo.Close()
		out = fo
	}

	var emb *app.Embedder
	if needsModel(o.modes) {
		start := time.Now()
		eo := app.EngineOptions(cfg, nil) // as mnemo runs it (MNEMO_KERNELS …)
		eo.Model, eo.Progress = o.model, stderr
		e, err := embed.Load(ctx, eo)
		if err != nil {
			return fmt.Errorf("load model %s: %w", o.model, err)
		}
		defer e.Close()
		emb = app.NewEmbedder(e, o.model)
		if !o.quiet {
			fmt.Fprintf(stderr, "model %s loaded in %s\n", emb.Model().ID, time.Since(start).Round(time.Millisecond))
		}
	}
	types := map[string]bool{}
	for _, t := range strings.Split(o.types, ",") {
		if t = strings.TrimSpace(t); t != "" {
			types[t] = true
		}
	}

	sum := Summary{File: filepath.Base(o.data), Granularity: o.gran, Roles: o.roles,
		ByMode: map[memory.Mode]map[string]*Tally{}, RecallTime: map[memory.Mode]time.Duration{}}
	if emb != nil {
		sum.Model = emb.Model().ID
	}
	errStop := errors.New("limit reached")
	err = readQuestions(f, func(q Question) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if len(types) > 0 && !types[q.QuestionType] {
			return nil
		}
		if q.Abstention() {
			sum.Abstention++
			return nil
		}
		res, err := evalQuestion(ctx, q, o, emb, &sum)
		if err != nil {
			return fmt.Errorf("question %s: %w", q.QuestionID, err)
		}
		if res == nil {
			sum.NoEvidence++
			return nil
		}
		sum.Scored++
		for mode, s := range res.Scores {
			byType := sum.ByMode[mode]
			if byType == nil {
				byType = map[string]*Tally{}
				sum.ByMode[mode] = byType
			}
			for _, key := range []string{q.QuestionType, "overall"} {
				if byType[key] == nil {
					byType[key] = &Tally{}
				}
				byType[key].add(s)
			}
		}
		if out != nil {
			b, _ := json.Marshal(res)
			if _, err := fmt.Fprintf(out, "%s\n", b); err != nil {
				return err
			}
		}
		if !o.quiet {
			var parts []string
			for _, m := range o.modes {
				parts = append(parts, fmt.Sprintf("%s R@5 %v", m, res.Scores[m].Any[5]))
			}
			fmt.Fprintf(stderr, "[%d] %s %s (%d docs): %s\n", sum.Scored, q.QuestionID, q.QuestionType, res.Docs, strings.Join(parts, ", "))
		}
		if o.limit > 0 && sum.Scored >= o.limit {
			return errStop
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return err
	}
	if o.json {
		return json.NewEncoder(stdout).Encode(sum)
	}
	report(stdout, sum, o.modes)
	return nil
}

func needsModel(modes []memory.Mode) bool {
	for _, m := range modes {
		if m != memory.ModeKeyword {
			return true
		}
	}
	return false
}

// evalQuestion stores q's haystack in a fresh store and recalls q in each
// mode. It returns nil when no evidence document is in the corpus.
func evalQuestion(ctx context.Context, q Question, o options, emb *app.Embedder, sum *Summary) (*Result, error) {
	corpus := docs(q, o.gran, o.roles)
	evidence := map[string]bool{}
	for _, d := range corpus {
		if d.Evidence {
			evidence[d.ID] = true
		}
	}
	if len(evidence) == 0 {
		return nil, nil
	}
	dir, err := os.MkdirTemp(o.tmp, "mnemo-lme-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	st, err := sqlite.Open(ctx, filepath.Join(dir, "mnemo.db"))
	if err != nil {
		return nil, err
	}
	defer st.Close()

	// Write without a model (nothing waits on embedding), then let the
	// service embed everything in batches.
	start := time.Now()
	so := service.Options{Store: st, Project: "lme", MaxContentBytes: 4 << 20, KeepSecrets: o.keepSecrets}
	writer, err := service.New(so)
	if err != nil {
		return nil, err
	}
	docIDs := map[string][]string{} // memory id → document ids (identical documents share a memory)
	for _, d := range corpus {
		r, err := writer.Remember(ctx, service.RememberRequest{Content: d.Text})
		if err != nil {
			if errors.Is(err, service.ErrInvalidInput) {
				continue // empty after trimming, not UTF-8 …: not storable, as in real use
			}
			return nil, err
		}
		docIDs[r.ID] = append(docIDs[r.ID], d.ID)
	}
	if emb != nil {
		so.Embedder = emb
	}
	reader, err := service.New(so)
	if err != nil {
		return nil, err
	}
	if emb != nil {
		if _, err := reader.Reembed(ctx, nil); err != nil {
			return nil, fmt.Errorf("embed haystack: %w", err)
		}
	}
	sum.Ingest += time.Since(start)

	res := &Result{QuestionID: q.QuestionID, QuestionType: q.QuestionType, Docs: len(corpus),
		Scores: map[memory.Mode]Scores{}, Top: map[memory.Mode][]string{}}
	for id := range evidence {
		res.Evidence = append(res.Evidence, id)
	}
	sort.Strings(res.Evidence)
	maxK := Ks[len(Ks)-1]
	for _, mode := range o.modes {
		t := time.Now()
		rec, err := reader.Recall(ctx, service.RecallRequest{Query: q.Question, K: maxK, Mode: mode})
		if err != nil {
			return nil, fmt.Errorf("recall (%s): %w", mode, err)
		}
		sum.RecallTime[mode] += time.Since(t)
		if rec.Mode != mode {
			return nil, fmt.Errorf("recall (%s) answered in %s mode: %s", mode, rec.Mode, rec.Note)
		}
		ranked := make([][]string, len(rec.Results))
		for i, h := range rec.Results {
			ranked[i] = docIDs[h.Memory.ID]
			res.Top[mode] = append(res.Top[mode], ranked[i]...)
		}
		res.Scores[mode] = score(ranked, evidence)
	}
	return res, nil
}

// report prints one table: per mode, per question type and overall.
func report(w io.Writer, s Summary, modes []memory.Mode) {
	model := s.Model
	if model == "" {
		model = "none (keyword only)"
	}
	fmt.Fprintf(w, "LongMemEval %s: %d questions scored (%d abstention skipped, %d without evidence in the stored turns); %s level, roles %s; model %s\n",
		s.File, s.Scored, s.Abstention, s.NoEvidence, s.Granularity, s.Roles, model)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "mode\tquestion type\tn\tR@5\tR@10\tall@5\tall@10\t")
	for _, m := range modes {
		byType := s.ByMode[m]
		var keys []string
		for k := range byType {
			if k != "overall" {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		if byType["overall"] != nil {
			keys = append(keys, "overall")
		}
		for _, k := range keys {
			t := byType[k]
			fmt.Fprintf(tw, "%s\t%s\t%d\t%.1f%%\t%.1f%%\t%.1f%%\t%.1f%%\t\n", m, k, t.N, t.rate(t.Any[5]), t.rate(t.Any[10]), t.rate(t.All[5]), t.rate(t.All[10]))
		}
	}
	tw.Flush()
	if s.Scored > 0 {
		fmt.Fprintf(w, "ingest %s per question", (s.Ingest / time.Duration(s.Scored)).Round(time.Millisecond))
		for _, m := range modes {
			fmt.Fprintf(w, "; %s recall %s", m, (s.RecallTime[m] / time.Duration(s.Scored)).Round(100*time.Microsecond))
		}
		fmt.Fprintln(w)
	}
}
