package sqlite

import (
	"context"
	"sync"

	"github.com/mnemo-mcp/mnemo/pkg/kwindex"
	"github.com/mnemo-mcp/mnemo/pkg/memory"
	"github.com/mnemo-mcp/mnemo/pkg/vecindex"
)

// The keyword side of a search in a process that keeps indexes in memory
// (package kwindex). It is loaded and caught up with the vector index
// (sync.go), in a process that asked for it (WarmIndexes: a long-running
// server); a CLI answering one query asks FTS5 (keyword.go): building the
// index to answer once would cost more than it saves (0.6 s at 100k
// memories). Its ranking is FTS5's bm25 exactly, over every matching
// memory, whatever the words.

type keywordIndex struct {
	*kwindex.Index[kwMeta]
	names kwNames
}

// kwMeta is what the keyword index keeps of a memory for filters. It
// holds no pointer (its project and tags are numbers in the index's
// names): a collection need not follow 100k of them.
type kwMeta struct {
	created            int64
	project, tags      uint32
	superseded, pinned bool
}

// kwNames numbers the keyword index's projects and tag lists; searches
// read it while a catch-up may add to it.
type kwNames struct {
	mu sync.RWMutex
	vecindex.Names
}

// newKeywordIndex returns an empty keyword index that tokenizes as
// memories_fts does (tokenize.go).
func newKeywordIndex() *keywordIndex {
	var word []byte
	return &keywordIndex{
		Index: kwindex.New[kwMeta](foldTokens, func(tok []byte) []byte {
			word = append(word[:0], tok...)
			return porterStem(word)
		}),
	}
}

// upsert indexes a memory's text with its metadata.
func (kw *keywordIndex) upsert(m *vecindex.Meta, rid int64, content string) {
	kw.names.mu.Lock()
	p, t := kw.names.Number(m.Project, m.Tags)
	kw.names.mu.Unlock()
	kw.Upsert(m.ID, rid, kwMeta{created: m.Created, project: p, tags: t, superseded: m.Superseded, pinned: m.Pinned}, content)
}

// keywordIndexLoaded reports whether this process keeps a keyword index.
func (s *Store) keywordIndexLoaded() bool {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	return s.loaded && s.kw != nil
}

// WarmIndexes loads this process's vector and keyword indexes now
// (memory.IndexWarmer), or catches them up; from then on the process
// keeps both.
func (s *Store) WarmIndexes(ctx context.Context) error {
	s.syncMu.Lock()
	s.wantKeywords = true
	if s.loaded && s.kw == nil {
		s.loaded = false // loaded for a search by meaning alone: again, with keywords
	}
	s.syncMu.Unlock()
	_, err := s.index(ctx)
	return err
}

// loadedKeywordIndex returns the keyword index caught up with the store,
// or nil when this process keeps none.
func (s *Store) loadedKeywordIndex(ctx context.Context) (*keywordIndex, error) {
	if !s.keywordIndexLoaded() {
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
	n := &kw.names
	hits := kw.Search(stems, limit, func(m *kwMeta) bool {
		n.mu.RLock()
		project, tags := n.Project(m.project), n.Tags(m.tags)
		n.mu.RUnlock()
		return f.Keep(project, tags, memory.UnixMilliTime(m.created), m.superseded, m.pinned)
	})
	out := make([]memory.Ranked, len(hits))
	for i, h := range hits {
		out[i] = memory.Ranked{ID: h.Key, Score: h.Score}
	}
	return out
}
