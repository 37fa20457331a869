package sqlite

import (
	"context"

	"github.com/mnemo-mcp/mnemo/pkg/kwindex"
	"github.com/mnemo-mcp/mnemo/pkg/memory"
	"github.com/mnemo-mcp/mnemo/pkg/vecindex"
)

// The keyword side of a search in a process that keeps indexes in memory
// (package kwindex). It is loaded and caught up with the vector index
// (sync.go), so a process builds it only once it searches by meaning: a
// long-running server does, the CLI answering one keyword query does not
// (it asks FTS5: keyword.go). Its ranking is FTS5's bm25 exactly, over
// every matching memory, whatever the words.

type keywordIndex = kwindex.Index[vecindex.Meta]

// newKeywordIndex returns an empty keyword index that tokenizes as
// memories_fts does (tokenize.go).
func newKeywordIndex() *keywordIndex {
	var word []byte
	return kwindex.New[vecindex.Meta](foldTokens, func(tok []byte) []byte {
		word = append(word[:0], tok...)
		return porterStem(word)
	})
}

// indexesLoaded reports whether this process keeps its indexes.
func (s *Store) indexesLoaded() bool {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	return s.loaded
}

// WarmIndexes loads this process's vector and keyword indexes now
// (memory.IndexWarmer), or catches them up.
func (s *Store) WarmIndexes(ctx context.Context) error {
	_, err := s.index(ctx)
	return err
}

// loadedKeywordIndex returns the keyword index caught up with the store,
// or nil when this process has not loaded its indexes.
func (s *Store) loadedKeywordIndex(ctx context.Context) (*keywordIndex, error) {
	if !s.indexesLoaded() {
		return nil, nil
	}
	if _, err := s.index(ctx); err != nil {
		return nil, err
	}
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	return s.kw, nil
}

// keywordInMemory ranks by the in-memory index: the best limit memories
// passing f holding any of the terms' stems.
func keywordInMemory(kw *keywordIndex, terms []*kwTerm, f memory.Filter, limit int) []memory.Ranked {
	stems := make([]string, len(terms))
	for i, t := range terms {
		stems[i] = t.stem
	}
	hits := kw.Search(stems, limit, func(m *vecindex.Meta) bool {
		return f.Keep(m.Project, m.Tags, memory.UnixMilliTime(m.Created), m.Superseded, m.Pinned)
	})
	out := make([]memory.Ranked, len(hits))
	for i, h := range hits {
		out[i] = memory.Ranked{ID: h.Meta.ID, Score: h.Score}
	}
	return out
}
