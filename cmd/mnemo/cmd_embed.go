package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/mnemo-mcp/mnemo/embed"
	"github.com/mnemo-mcp/mnemo/internal/app"
	"github.com/mnemo-mcp/mnemo/pkg/config"
	"github.com/mnemo-mcp/mnemo/pkg/logging"
)

func init() {
	register(&command{
		name:    "embed",
		summary: "embed texts (arguments, or one per stdin line) and print vectors or a summary",
		usage:   "[--model M] [--json] [--query | --document] [TEXT…]",
		examples: []string{
			`mnemo embed "first text" "second text"    # dims, norms and pairwise cosine`,
			"mnemo embed --json --skip-empty < notes.txt   # one JSON vector per non-empty line",
			`mnemo embed --query --json "how do I deploy?"`,
		},
		run: runEmbed,
	})
}

// embedChunk is how many stdin lines are embedded (and printed) at a time,
// so a large input streams in bounded memory.
const embedChunk = 256

// maxCosineTexts is the most texts the human summary compares pairwise.
const maxCosineTexts = 10

// embedLine is one `embed --json` output line.
type embedLine struct {
	Text      string    `json:"text"`
	Embedding []float32 `json:"embedding"`
}

func runEmbed(ctx context.Context, env *runEnv, args []string) error {
	c := commands["embed"]
	fs := newFlagSet(env, c)
	model := fs.String("model", "", "model folder, .onnx file, or Hugging Face repo id (default: $MNEMO_MODEL, else "+config.DefaultModel+")")
	asJSON := fs.Bool("json", false, `print one JSON object per line: {"text": …, "embedding": […]}`)
	query := fs.Bool("query", false, "embed as search queries (adds the model's query prefix, if it has one)")
	document := fs.Bool("document", false, "embed as documents (adds the model's document prefix, if it has one)")
	skipEmpty := fs.Bool("skip-empty", false, "skip empty stdin lines (counted on stderr) instead of refusing the input")
	texts, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if *query && *document {
		return usageErr(env, "--query and --document exclude each other")
	}
	cfg, moved, err := app.LoadConfig(ctx, 0) // it logs in the data dir: settle it first
	if err != nil {
		return err
	}
	if *model != "" {
		cfg.Model = *model
	}
	log, closeLog := logging.New(logging.Options{Level: cfg.LogLevel, Path: cfg.LogPath(), Process: "embed"})
	defer closeLog()
	moved.Log(log)

	var embedBatch func([]string) ([][]float32, error)
	// The model loads while stdin is read.
	eng := app.NewEngine(cfg, log, env.stderr)
	defer eng.Close()

	run := func(batch []string) ([][]float32, error) {
		vecs, err := embedBatch(batch)
		if err != nil && ctx.Err() == nil && app.IsUnreachable(err) {
			return nil, errors.New(app.ModelHelp(cfg, err))
		}
		return vecs, err
	}
	embedBatch = func(batch []string) ([][]float32, error) {
		switch {
		case *query:
			out := make([][]float32, len(batch))
			for i, t := range batch {
				v, err := eng.EmbedQuery(ctx, t)
				if err != nil {
					return nil, err
				}
				out[i] = v
			}
			return out, nil
		case *document:
			return eng.EmbedDocuments(ctx, batch)
		}
		return eng.Embed(ctx, batch)
	}

	p := &embedPrinter{w: env.stdout, json: *asJSON, eng: eng}
	if len(texts) > 0 {
		for i, t := range texts {
			if strings.TrimSpace(t) == "" {
				return usageErr(env, "argument %d is empty; every argument is one text", i+1)
			}
		}
		vecs, err := run(texts)
		if err != nil {
			return err
		}
		if err := p.print(texts, vecs); err != nil {
			return err
		}
		return p.finish()
	}

	sc := bufio.NewScanner(env.stdin)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var batch []string
	line, batchStart, skipped := 0, 0, 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		vecs, err := run(batch)
		if err != nil {
			return err
		}
		err = p.print(batch, vecs)
		batch = batch[:0]
		return err
	}
	for sc.Scan() {
		line++
		t := strings.TrimSuffix(sc.Text(), "\r")
		if strings.TrimSpace(t) == "" {
			if *skipEmpty {
				skipped++
				continue
			}
			return fmt.Errorf("stdin line %d is empty: every line is one text, and mnemo skips nothing silently (--skip-empty skips empty lines)", line)
		}
		if len(batch) == 0 {
			batchStart = line
		}
		batch = append(batch, t)
		if len(batch) == embedChunk {
			if err := flush(); err != nil {
				return fmt.Errorf("lines %d-%d: %w", batchStart, line, err)
			}
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return fmt.Errorf("stdin line %d is longer than 16 MiB", line+1)
		}
		return fmt.Errorf("read stdin: %w", err)
	}
	if line == skipped {
		return usageErr(env, "no texts: give TEXT arguments or lines on stdin")
	}
	if err := flush(); err != nil {
		return err
	}
	if skipped > 0 {
		fmt.Fprintf(env.stderr, "mnemo: skipped %d empty %s (--skip-empty)\n", skipped, pluralWord(skipped, "line", "lines"))
	}
	return p.finish()
}

// embedPrinter writes JSON lines as vectors arrive, or a human summary:
// model line, one entry per text, and pairwise cosines for 2–10 texts.
type embedPrinter struct {
	w      io.Writer
	json   bool
	eng    *embed.Engine
	n      int
	texts  []string // kept for the cosine table while there are few
	vecs   [][]float32
	header bool
}

func (p *embedPrinter) print(texts []string, vecs [][]float32) error {
	for i, t := range texts {
		p.n++
		if p.json {
			if err := writeJSONLine(p.w, embedLine{Text: t, Embedding: vecs[i]}); err != nil {
				return err
			}
			continue
		}
		if !p.header {
			p.header = true
			in := p.eng.Info()
			fmt.Fprintf(p.w, "model %s: %d dims, max %d tokens, %s pooling, loaded in %s\n",
				in.ModelID, in.Dims, in.MaxTokens, in.Pooling, in.LoadTime.Round(10*time.Millisecond))
		}
		ntok, _ := p.eng.CountTokens(t)
		fmt.Fprintf(p.w, "[%d] %s (%d tokens)\n    %s  norm %.4f\n", p.n, embedQuote(t, 70), ntok, embedPreview(vecs[i], 5), embedNorm(vecs[i]))
		if p.n <= maxCosineTexts {
			p.texts = append(p.texts, t)
			p.vecs = append(p.vecs, vecs[i])
		}
	}
	return nil
}

func (p *embedPrinter) finish() error {
	if p.json || p.n < 2 || p.n > maxCosineTexts {
		return nil
	}
	fmt.Fprintln(p.w, "cosine similarity:")
	for i := range p.vecs {
		for j := i + 1; j < len(p.vecs); j++ {
			fmt.Fprintf(p.w, "  [%d] ~ [%d]  %.4f\n", i+1, j+1, embedDot(p.vecs[i], p.vecs[j]))
		}
	}
	return nil
}

func embedQuote(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		s = string(r[:n-1]) + "…"
	}
	return fmt.Sprintf("%q", s)
}

func embedPreview(v []float32, n int) string {
	var b strings.Builder
	b.WriteString("[")
	for i := 0; i < n && i < len(v); i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%.4f", v[i])
	}
	if len(v) > n {
		b.WriteString(", …")
	}
	b.WriteString("]")
	return b.String()
}

func embedNorm(v []float32) float64 { return math.Sqrt(embedDot(v, v)) }

// embedDot of unit vectors is their cosine.
func embedDot(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}
