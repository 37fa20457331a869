package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/mnemo-mcp/mnemo/embed"
	"github.com/mnemo-mcp/mnemo/internal/testmodels"
	"github.com/mnemo-mcp/mnemo/pkg/memory"
	"github.com/mnemo-mcp/mnemo/pkg/sqlite"
)

// TestHybridWithMiniLM checks the three rankings with real embeddings from
// the semantically seeded MiniLM-shaped model: a memory that only shares
// words with the query, one that only shares meaning, and one that shares
// both are each found by the modes that should find them.
func TestHybridWithMiniLM(t *testing.T) {
	if testing.Short() {
		t.Skip("loads the MiniLM model")
	}
	dir := testmodels.Dir(t, testmodels.MiniLM)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	e, err := embed.Load(ctx, embed.Options{Model: dir, Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	model := e.Info().ModelID

	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "mnemo.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	const (
		both     = "The doctor prescribed antibiotics for the infection."
		semOnly  = "The physician gave her medicine to treat the illness."
		kwOnly   = "The prescribed format for commit messages is described in CONTRIBUTING.md."
		nearDupe = "The doctor prescribed antibiotics for an infection."
	)
	texts := []string{both, semOnly, kwOnly,
		"He plays guitar in a rock band.",
		"The quarterly spreadsheet has several formula errors.",
		"The children played football in the park.",
		"The spacecraft entered orbit around Mars.",
	}
	vecs, err := e.EmbedDocuments(ctx, texts)
	if err != nil {
		t.Fatal(err)
	}
	id := map[string]string{}
	for i, text := range texts {
		m := memory.Memory{Content: text, Project: "/proj", Source: memory.SourceCLI, Vector: vecs[i], Model: model}
		r, err := s.Put(ctx, &m)
		if err != nil {
			t.Fatal(err)
		}
		id[text] = r.ID
	}
	name := map[string]string{id[both]: "both", id[semOnly]: "semantic-only", id[kwOnly]: "keyword-only"}
	const query = "doctor prescribed antibiotics"
	qv, err := e.EmbedQuery(ctx, query)
	if err != nil {
		t.Fatal(err)
	}
	search := func(mode memory.Mode, vec []float32) []memory.Hit {
		t.Helper()
		hits, err := s.Search(ctx, memory.Query{Text: query, Vector: vec, Model: model, Mode: mode, K: 10})
		if err != nil {
			t.Fatal(err)
		}
		for i, h := range hits {
			t.Logf("%-8s %d. %-13s score %.4f kw %d sem %d sim %.3f  %q", mode, i+1, name[h.Memory.ID],
				h.Score, h.KeywordRank, h.SemanticRank, h.Similarity, h.Memory.Content)
		}
		return hits
	}
	rank := func(hits []memory.Hit, text string) int {
		for i, h := range hits {
			if h.Memory.ID == id[text] {
				return i + 1
			}
		}
		return 0
	}

	kw := search(memory.ModeKeyword, qv)
	if len(kw) != 2 || rank(kw, both) != 1 || rank(kw, kwOnly) != 2 {
		t.Errorf("keyword mode: want exactly [both, keyword-only], got ranks both=%d kw-only=%d of %d",
			rank(kw, both), rank(kw, kwOnly), len(kw))
	}
	if rank(kw, semOnly) != 0 {
		t.Error("keyword mode found the memory that shares no word with the query")
	}

	sem := search(memory.ModeSemantic, qv)
	if r1, r2 := rank(sem, both), rank(sem, semOnly); !(r1 <= 2 && r2 <= 2 && r1 > 0 && r2 > 0) {
		t.Errorf("semantic mode: want both and semantic-only as the top two, got ranks %d and %d", r1, r2)
	}
	if rank(sem, kwOnly) <= rank(sem, semOnly) {
		t.Errorf("semantic mode ranks keyword-only (%d) above semantic-only (%d)", rank(sem, kwOnly), rank(sem, semOnly))
	}

	hyb := search(memory.ModeHybrid, qv)
	if rank(hyb, both) != 1 {
		t.Errorf("hybrid mode: both-match at rank %d, want 1", rank(hyb, both))
	}
	if r := rank(hyb, semOnly); r == 0 || r > 3 || hyb[r-1].KeywordRank != 0 || hyb[r-1].SemanticRank == 0 {
		t.Errorf("hybrid mode: semantic-only at rank %d, want in the top 3, found by the semantic ranking only", r)
	}
	if r := rank(hyb, kwOnly); r == 0 || r > 3 || hyb[r-1].KeywordRank == 0 {
		t.Errorf("hybrid mode: keyword-only at rank %d, want in the top 3 with a keyword rank", r)
	}

	// Without a query vector (model not ready) hybrid answers by keyword.
	if noVec := search(memory.ModeHybrid, nil); len(noVec) != 2 || rank(noVec, semOnly) != 0 {
		t.Errorf("hybrid without vector: %d hits, semantic-only at %d; want the keyword results", len(noVec), rank(noVec, semOnly))
	}

	// Near-duplicate detection at the service's 0.95 threshold.
	dv, err := e.EmbedDocuments(ctx, []string{nearDupe})
	if err != nil {
		t.Fatal(err)
	}
	sim, err := s.Similar(ctx, dv[0], model, "/proj", 0.95, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(sim) != 1 || sim[0].Memory.ID != id[both] {
		t.Errorf("Similar(%q) = %d hits, want exactly the both-match", nearDupe, len(sim))
	}
	for _, h := range sim {
		t.Logf("similar: %.4f %q", h.Similarity, h.Memory.Content)
	}
}
