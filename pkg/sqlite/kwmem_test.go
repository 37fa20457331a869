package sqlite

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mnemo-mcp/mnemo/pkg/memory"
)

// kwVocab mixes stems shared by several words, case, diacritics, numbers
// and stop words, so the in-memory index is checked against FTS5's own
// tokenizer on what differs between them.
var kwVocab = strings.Fields(`deploy deploying deployed deployment Deploys build builds builder
	server servers cache caching cached index indexes indexing query queries latency token
	tokens café cafe résumé resume naïve über 42 2024 v1 x86_64 the a of and to is
	migration migrations connection connections golang rust schema network release
	zebra quokka yak`)

func kwText(rng *rand.Rand) string {
	n := 1 + rng.IntN(25)
	ws := make([]string, n)
	for i := range ws {
		// Skewed: the first words are in most memories.
		ws[i] = kwVocab[int(math.Pow(rng.Float64(), 2)*float64(len(kwVocab)))]
	}
	return strings.Join(ws, " ") + "."
}

// The in-memory keyword index ranks exactly as FTS5's bm25 does, with
// filters, and after another process has added, deleted, superseded and
// pinned memories (caught up through the change log).
func TestKeywordInMemoryMatchesFTS5(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "mnemo.db")
	s, other := openAt(t, path), openAt(t, path) // two processes
	rng := rand.New(rand.NewPCG(7, 8))
	var ids []string
	put := func(n int) {
		for range n {
			m := memory.Memory{Content: kwText(rng), Project: fmt.Sprint("p", rng.IntN(3)), Tags: []string{fmt.Sprint("t", rng.IntN(4))}, Source: memory.SourceCLI}
			r, err := other.Put(ctx, &m)
			if err != nil {
				t.Fatal(err)
			}
			if !r.Duplicate {
				ids = append(ids, r.ID)
			}
		}
	}
	put(500)
	if err := s.WarmIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	compare := func(round string) {
		t.Helper()
		for i := range 150 {
			nw := 1 + rng.IntN(5)
			ws := make([]string, nw)
			for j := range ws {
				ws[j] = kwVocab[rng.IntN(len(kwVocab))]
			}
			q := strings.Join(ws, " ")
			var f memory.Filter
			switch i % 4 {
			case 1:
				f.Projects = []string{"p1"}
			case 2:
				f.TagsAny = []string{"t2"}
				f.IncludeSuperseded = true
			case 3:
				f.PinnedOnly = true
			}
			limit := 1 + rng.IntN(30)
			got, exact, err := s.keywordRanked(ctx, q, f, limit)
			if err != nil {
				t.Fatal(err)
			}
			want, err := s.keywordExact(ctx, FTSQuery(q), f, limit)
			if err != nil {
				t.Fatal(err)
			}
			if !exact || len(got) != len(want) {
				t.Fatalf("%s %q %+v: %d hits (exact %v), FTS5 %d", round, q, f, len(got), exact, len(want))
			}
			for j := range want {
				if got[j].ID != want[j].ID || math.Abs(got[j].Score-want[j].Score) > 1e-9*math.Max(1, math.Abs(want[j].Score)) {
					t.Fatalf("%s %q %+v hit %d: %s %.12f, FTS5 %s %.12f", round, q, f, j, got[j].ID, got[j].Score, want[j].ID, want[j].Score)
				}
			}
		}
	}
	compare("loaded")

	// Another process changes the store.
	if _, err := other.Delete(ctx, ids[:60]); err != nil {
		t.Fatal(err)
	}
	for i := 60; i < 80; i++ {
		m := memory.Memory{Content: kwText(rng) + " amended", Project: "p1", Source: memory.SourceCLI, Supersedes: []string{ids[i]}}
		if _, err := other.Put(ctx, &m); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := other.SetPinned(ctx, ids[100:140], true); err != nil {
		t.Fatal(err)
	}
	put(200)
	compare("caught up")
}

// A process that warmed its indexes ranks keywords in memory, not through
// FTS5: with FTS5's index emptied behind its back (no change is logged),
// the memories are still found. One that loaded its vector index for a
// search by meaning alone (the CLI) keeps no keyword index and asks FTS5.
func TestKeywordUsesInMemoryIndex(t *testing.T) {
	ctx := context.Background()
	q := memory.Query{Text: "beta", Mode: memory.ModeKeyword, K: 5}
	for _, warm := range []bool{false, true} {
		s := openTemp(t)
		ids := putTexts(t, s, []string{"alpha beta", "beta gamma", "gamma delta"})
		load := func(ctx context.Context) error { _, err := s.index(ctx); return err }
		if warm {
			load = s.WarmIndexes
		}
		if err := load(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := s.db.ExecContext(ctx, `DELETE FROM memories_fts`); err != nil {
			t.Fatal(err)
		}
		hits, err := s.Search(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case warm && (len(hits) != 2 || hits[0].Memory.ID != ids[1] || hits[1].Memory.ID != ids[0]):
			t.Fatalf("warmed: hits %+v, want %s then %s from the in-memory index", hits, ids[1], ids[0])
		case !warm && len(hits) != 0:
			t.Fatalf("not warmed: hits %+v from a keyword index, want FTS5's (emptied: none)", hits)
		}
	}
}
