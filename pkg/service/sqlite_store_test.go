package service

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/mnemo-mcp/mnemo/pkg/memory"
	"github.com/mnemo-mcp/mnemo/pkg/sqlite"
)

// The service tests also run over the real SQLite store.
func init() {
	storeFactories["sqlite"] = func(t *testing.T) memory.Store {
		st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "mnemo.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
}

// besideEmbedder records which way each query was embedded.
type besideEmbedder struct {
	*fakeEmbedder
	beside, full int
}

func (b *besideEmbedder) EmbedQuery(ctx context.Context, text string) ([]float32, error) {
	b.full++
	return b.fakeEmbedder.EmbedQuery(ctx, text)
}

func (b *besideEmbedder) EmbedQueryBeside(ctx context.Context, text string) ([]float32, error) {
	b.beside++
	return b.fakeEmbedder.EmbedQuery(ctx, text)
}

// A hybrid recall embeds its query on one core only while the store ranks
// keywords through FTS5 beside it; once the store keeps a keyword index in
// memory (WarmIndexes, as serve does), the keyword ranking is short and
// the query is embedded with every core.
func TestHybridEmbedsBesideOnlyAnFTSRanking(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "mnemo.db")
	open := func() memory.Store {
		st, err := sqlite.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	// Written by another process: remembering loads the writer's indexes
	// (it looks for near-duplicates by meaning).
	emb := &besideEmbedder{fakeEmbedder: newFakeEmbedder("m", true)}
	if _, err := newSvc(t, open(), emb, "p").Remember(ctx, RememberRequest{Content: "the build server deploys on friday"}); err != nil {
		t.Fatal(err)
	}
	s := newSvc(t, open(), emb, "p")
	for i, want := range [][2]int{{1, 0}, {2, 0}, {2, 1}, {2, 2}} {
		if i == 2 {
			if err := s.WarmIndexes(ctx); err != nil {
				t.Fatal(err)
			}
		}
		r, err := s.Recall(ctx, RecallRequest{Query: "build server", Mode: memory.ModeHybrid, NoUse: true})
		if err != nil {
			t.Fatal(err)
		}
		if !r.Semantic || len(r.Results) != 1 {
			t.Fatalf("recall %d: %+v", i, r)
		}
		if emb.beside != want[0] || emb.full != want[1] {
			t.Fatalf("after recall %d: %d embedded beside, %d with every core; want %v", i, emb.beside, emb.full, want)
		}
	}
}

// WarmIndexes loads the store's indexes before any recall: the first
// hybrid recall already ranks keywords in memory.
func TestWarmIndexes(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "mnemo.db")
	writer, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close()
	m := memory.Memory{Content: "the build server deploys on friday", Project: "p", Source: memory.SourceCLI}
	if _, err := writer.Put(ctx, &m); err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	emb := &besideEmbedder{fakeEmbedder: newFakeEmbedder("m", true)}
	s := newSvc(t, st, emb, "p")
	if err := s.WarmIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Recall(ctx, RecallRequest{Query: "build server", NoUse: true}); err != nil {
		t.Fatal(err)
	}
	if emb.beside != 0 || emb.full != 1 {
		t.Fatalf("%d embedded beside, %d with every core: the indexes were not loaded", emb.beside, emb.full)
	}
	if err := newSvc(t, newFakeStore(), emb, "p").WarmIndexes(ctx); err != nil {
		t.Fatalf("a store without indexes: %v", err)
	}
}
