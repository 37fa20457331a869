package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/mnemo-mcp/mnemo/pkg/memory"
)

// putTexts stores texts in order (the first is the oldest) and returns
// their ids.
func putTexts(t *testing.T, s *Store, texts []string) []string {
	t.Helper()
	ctx := context.Background()
	ids := make([]string, len(texts))
	err := s.write(ctx, "test fill", func(ctx context.Context, tx *sql.Tx) error {
		for i, c := range texts {
			p, err := memory.Prepare(memory.Memory{Content: c, Project: "p", Source: memory.SourceCLI}, s.o.now())
			if err != nil {
				return err
			}
			if _, err := putTx(ctx, tx, &p); err != nil {
				return err
			}
			ids[i] = p.ID
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// tinyBounds makes a store of a few hundred memories take the bounded
// keyword path.
func tinyBounds(s *Store) {
	s.kwTuning = kwTuning{probe: 16, rareBudget: 64, common: 24, andWindow: 1 << 20}
}

// A memory holding a rare query word is found however common the query's
// other words are, even when it is the oldest memory of the store.
func TestKeywordRareTermAmongCommonOnes(t *testing.T) {
	s := openTemp(t)
	tinyBounds(s)
	texts := []string{"the zebra crossing near the build server deploy"}
	for i := range 400 {
		texts = append(texts, fmt.Sprintf("build server deploy pipeline step %d of the release", i))
	}
	ids := putTexts(t, s, texts)
	got, _, err := s.keywordRanked(context.Background(), "build server deploy zebra", memory.Filter{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 10 || got[0].ID != ids[0] {
		t.Fatalf("first hit %v, want the zebra memory %s", got, ids[0])
	}
	// The same through Search, in every mode that ranks by keyword.
	hits, err := s.Search(context.Background(), memory.Query{Text: "deploy zebra server build", Mode: memory.ModeKeyword, K: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) == 0 || hits[0].Memory.ID != ids[0] {
		t.Fatalf("Search: first hit %+v, want %s", hits, ids[0])
	}
}

// bm25 of the bounded path equals FTS5's bm25() when every weight is known
// exactly: rare terms (counted) and terms in at least half the rows (their
// idf is FTS5's floor, 1e-6, whatever the estimate).
func TestKeywordBoundedMatchesFTS5(t *testing.T) {
	s := openTemp(t)
	var texts []string
	for i := range 300 {
		var b strings.Builder
		fmt.Fprintf(&b, "alpha memory note %d", i)
		if i%2 == 0 {
			b.WriteString(" beta")
		}
		if i%37 == 0 {
			b.WriteString(" deploying the gamma service, deployed again")
		}
		if i%53 == 0 {
			b.WriteString(" gamma deltas delta")
		}
		if i%3 == 0 {
			b.WriteString(" with a longer tail of words to vary the length")
		}
		texts = append(texts, b.String())
	}
	putTexts(t, s, texts)
	ctx := context.Background()
	for _, q := range []string{"alpha beta gamma deploys", "delta alpha", "beta gamma delta deploy", "alpha beta"} {
		want, err := s.keywordExact(ctx, FTSQuery(q), memory.Filter{}, 5)
		if err != nil {
			t.Fatal(err)
		}
		tinyBounds(s)
		got, exact, err := s.keywordRanked(ctx, q, memory.Filter{}, 5)
		s.kwTuning = kwTuning{}
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%q: exact=%v", q, exact)
		if !exact {
			if q != "alpha beta" {
				t.Errorf("%q: the bounded ranking should be provably exact", q)
			}
			continue
		}
		if len(got) != len(want) {
			t.Fatalf("%q: %d hits, FTS5 %d", q, len(got), len(want))
		}
		for i := range want {
			if got[i].ID != want[i].ID || math.Abs(got[i].Score-want[i].Score) > 1e-9*math.Max(1, math.Abs(want[i].Score)) {
				t.Errorf("%q hit %d: %s %.12f, FTS5 %s %.12f", q, i, got[i].ID, got[i].Score, want[i].ID, want[i].Score)
			}
		}
	}
}

// On a store this small every term is rare: FTS5 ranks, exactly.
func TestKeywordSmallStoreIsExact(t *testing.T) {
	s := openTemp(t)
	putTexts(t, s, []string{"alpha beta", "beta gamma", "gamma alpha alpha", "delta"})
	ctx := context.Background()
	got, exact, err := s.keywordRanked(ctx, "alpha gamma", memory.Filter{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	want, err := s.keywordExact(ctx, FTSQuery("alpha gamma"), memory.Filter{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if !exact || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v (exact %v), want %v", got, exact, want)
	}
}

// Filters apply to the bounded path's candidates: superseded and other
// projects' memories never appear.
func TestKeywordBoundedFilters(t *testing.T) {
	s := openTemp(t)
	tinyBounds(s)
	ctx := context.Background()
	var texts []string
	for i := range 200 {
		texts = append(texts, fmt.Sprintf("common words everywhere %d", i))
	}
	putTexts(t, s, texts)
	other := memory.Memory{Content: "common words rare kiwi", Project: "other", Source: memory.SourceCLI}
	if _, err := s.Put(ctx, &other); err != nil {
		t.Fatal(err)
	}
	mine := memory.Memory{Content: "common words rare kiwi here", Project: "p", Source: memory.SourceCLI}
	if _, err := s.Put(ctx, &mine); err != nil {
		t.Fatal(err)
	}
	got, _, err := s.keywordRanked(ctx, "common words kiwi", memory.Filter{Projects: []string{"p"}}, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 || got[0].ID != mine.ID {
		t.Fatalf("got %v, want %s first", got, mine.ID)
	}
	for _, r := range got {
		if r.ID == other.ID {
			t.Fatalf("another project's memory %s returned", other.ID)
		}
	}
}

// A store of at most keywordExactRows memories is ranked by FTS5 exactly,
// however common the words: the bounded path's approximation is only for
// stores where FTS5's visit of every matching row grows costly.
func TestKeywordStoreUnderExactRowsIsExact(t *testing.T) {
	s := openTemp(t)
	var texts []string
	for i := range 300 {
		texts = append(texts, fmt.Sprintf("build server deploy pipeline step %d of release %d", i, i%7))
	}
	putTexts(t, s, texts)
	ctx := context.Background()
	tinyBounds(s)
	s.kwTuning.exactRows = 1000 // every word is common to the probe, but the store is small
	got, exact, err := s.keywordRanked(ctx, "deploy release pipeline", memory.Filter{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	want, err := s.keywordExact(ctx, FTSQuery("deploy release pipeline"), memory.Filter{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if !exact || len(got) != len(want) {
		t.Fatalf("exact=%v, %d hits; want FTS5's %d", exact, len(got), len(want))
	}
	for i := range want {
		if got[i].ID != want[i].ID {
			t.Fatalf("hit %d is %s, FTS5 ranks %s", i, got[i].ID, want[i].ID)
		}
	}
	s.kwTuning.exactRows = 100 // larger than that: the bounded path
	if _, exact, err := s.keywordRanked(ctx, "deploy release pipeline", memory.Filter{}, 10); err != nil || exact {
		t.Fatalf("a store over exactRows: exact=%v err=%v, want the bounded path", exact, err)
	}
}
