package service

import (
	"context"
	"errors"
	"hash/fnv"
	"math"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/mnemo-mcp/mnemo/pkg/memory"
)

// fakeEmbedder embeds text as a normalised bag of hashed words, so texts
// sharing words are similar and identical texts have cosine 1. Its model can
// be made to load late or fail.
type fakeEmbedder struct {
	mu      sync.Mutex
	id      string
	dims    int
	ready   bool
	loadErr error
	loaded  chan struct{} // closed when loading ends (ready or failed)
	calls   int
	failOn  string // EmbedDocuments fails for a text containing this
}

func newFakeEmbedder(id string, ready bool) *fakeEmbedder {
	f := &fakeEmbedder{id: id, dims: 64, ready: ready, loaded: make(chan struct{})}
	if ready {
		close(f.loaded)
	}
	return f
}

// finish ends a pending load, successfully when err is nil.
func (f *fakeEmbedder) finish(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ready, f.loadErr = err == nil, err
	close(f.loaded)
}

func (f *fakeEmbedder) Ready() bool { f.mu.Lock(); defer f.mu.Unlock(); return f.ready }
func (f *fakeEmbedder) LoadError() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.loadErr
}

func (f *fakeEmbedder) Wait(ctx context.Context) error {
	select {
	case <-f.loaded:
		return f.LoadError()
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (f *fakeEmbedder) Model() ModelInfo {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.ready {
		return ModelInfo{ID: f.id}
	}
	return ModelInfo{ID: f.id, Dims: f.dims, LoadTime: 42 * time.Millisecond}
}

func (f *fakeEmbedder) vec(text string) []float32 {
	v := make([]float32, f.dims)
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		h := fnv.New32a()
		h.Write([]byte(w))
		v[h.Sum32()%uint32(f.dims)]++
	}
	var n float64
	for _, x := range v {
		n += float64(x * x)
	}
	if n == 0 {
		v[0], n = 1, 1
	}
	for i := range v {
		v[i] /= float32(math.Sqrt(n))
	}
	return v
}

func (f *fakeEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	if !f.Ready() {
		return nil, errors.New("fake model not loaded")
	}
	f.mu.Lock()
	f.calls++
	fail := f.failOn
	f.mu.Unlock()
	out := make([][]float32, len(texts))
	for i, t := range texts {
		if fail != "" && strings.Contains(t, fail) {
			return nil, errors.New("fake embedding failure")
		}
		out[i] = f.vec(t)
	}
	return out, nil
}

func (f *fakeEmbedder) EmbedDocuments(ctx context.Context, texts []string) ([][]float32, error) {
	return f.Embed(ctx, texts)
}

func (f *fakeEmbedder) EmbedQuery(ctx context.Context, text string) ([]float32, error) {
	v, err := f.Embed(ctx, []string{text})
	if err != nil {
		return nil, err
	}
	return v[0], nil
}

// fakeStore is a small in-memory memory.Store: keyword ranking counts query
// words in the content, semantic ranking is exact cosine over vectors of the
// query's model, hybrid fuses both with memory.Fuse.
type fakeStore struct {
	mu       sync.Mutex
	ms       map[string]*memory.Memory
	touched  map[string]int
	touchErr error
}

func newFakeStore() *fakeStore {
	return &fakeStore{ms: map[string]*memory.Memory{}, touched: map[string]int{}}
}

func (s *fakeStore) Put(ctx context.Context, m *memory.Memory) (memory.PutResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if strings.TrimSpace(m.Content) == "" || !m.Source.Valid() || memory.ValidateProject(m.Project) != nil {
		return memory.PutResult{}, errors.New("fake store: invalid memory reached the store")
	}
	h := memory.ContentHash(m.Content)
	for _, o := range s.ms {
		if o.ContentHash == h && o.Project == m.Project {
			for _, old := range m.Supersedes {
				if x, ok := s.ms[old]; ok && old != o.ID {
					x.SupersededBy = o.ID
				}
			}
			return memory.PutResult{ID: o.ID, Duplicate: true}, nil
		}
	}
	c := *m
	now := time.Now().UTC()
	if c.ID == "" {
		c.ID = memory.NewID(now)
	}
	if _, dup := s.ms[c.ID]; dup {
		return memory.PutResult{}, errors.New("fake store: id exists")
	}
	c.ContentHash = h
	if c.CreatedAt.IsZero() {
		c.CreatedAt = now
	}
	if c.Vector != nil {
		c.Dims = len(c.Vector)
	}
	if _, ok := s.ms[c.SupersededBy]; !ok {
		c.SupersededBy = ""
	}
	s.ms[c.ID] = &c
	for _, old := range c.Supersedes {
		if o, ok := s.ms[old]; ok {
			o.SupersededBy = c.ID
		}
	}
	return memory.PutResult{ID: c.ID}, nil
}

func (s *fakeStore) SetPinned(ctx context.Context, ids []string, pinned bool) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var missing []string
	for _, id := range ids {
		if m, ok := s.ms[id]; ok {
			m.Pinned = pinned
		} else {
			missing = append(missing, id)
		}
	}
	return missing, nil
}

func (s *fakeStore) Get(ctx context.Context, id string) (memory.Memory, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.ms[id]
	if !ok {
		return memory.Memory{}, memory.ErrNotFound
	}
	return *m, nil
}

func (s *fakeStore) Delete(ctx context.Context, ids []string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var missing []string
	for _, id := range ids {
		if _, ok := s.ms[id]; !ok {
			missing = append(missing, id)
		}
		delete(s.ms, id)
		for _, m := range s.ms {
			if m.SupersededBy == id {
				m.SupersededBy = ""
			}
		}
	}
	return missing, nil
}

func (s *fakeStore) sorted(f memory.Filter) []memory.Memory {
	var out []memory.Memory
	for _, m := range s.ms {
		if f.Keep(m.Project, m.Tags, m.CreatedAt, m.SupersededBy != "", m.Pinned) {
			out = append(out, *m)
		}
	}
	for i := 1; i < len(out); i++ { // newest (largest id) first
		for j := i; j > 0 && out[j].ID > out[j-1].ID; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func (s *fakeStore) List(ctx context.Context, o memory.ListOptions) ([]memory.Memory, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	all := s.sorted(o.Filter)
	if o.Offset >= len(all) {
		return nil, nil
	}
	all = all[o.Offset:]
	if len(all) > o.Limit {
		all = all[:o.Limit]
	}
	return all, nil
}

func (s *fakeStore) Search(ctx context.Context, q memory.Query) ([]memory.Hit, error) {
	q, err := q.ResolveVector(ctx)
	if err != nil {
		return nil, err
	}
	if q.Vector == nil && q.Mode == memory.ModeHybrid {
		q.Mode = memory.ModeKeyword
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if q.Mode != memory.ModeKeyword && q.Vector == nil {
		return nil, errors.New("fake store: semantic search without a vector")
	}
	all := s.sorted(q.Filter)
	byID := map[string]memory.Memory{}
	var kw, sem []memory.Ranked
	words := strings.Fields(strings.ToLower(q.Text))
	for _, m := range all {
		byID[m.ID] = m
		n := 0
		for _, w := range words {
			n += strings.Count(strings.ToLower(m.Content), w)
		}
		if n > 0 {
			kw = append(kw, memory.Ranked{ID: m.ID, Score: float64(n)})
		}
		if q.Vector != nil && m.Model == q.Model && len(m.Vector) == len(q.Vector) {
			if c := Cosine(q.Vector, m.Vector); c > 0 {
				sem = append(sem, memory.Ranked{ID: m.ID, Score: c})
			}
		}
	}
	byScore := func(r []memory.Ranked) {
		for i := 1; i < len(r); i++ {
			for j := i; j > 0 && r[j].Score > r[j-1].Score; j-- {
				r[j], r[j-1] = r[j-1], r[j]
			}
		}
	}
	byScore(kw)
	byScore(sem)
	switch q.Mode {
	case memory.ModeKeyword:
		sem = nil
	case memory.ModeSemantic:
		kw = nil
	}
	var hits []memory.Hit
	for _, f := range memory.Fuse(kw, sem) {
		hits = append(hits, memory.Hit{Memory: byID[f.ID], Score: f.Score, KeywordRank: f.KeywordRank, SemanticRank: f.SemanticRank, Similarity: f.Similarity})
		if len(hits) == q.K {
			break
		}
	}
	return hits, nil
}

func (s *fakeStore) Similar(ctx context.Context, vec []float32, model, project string, threshold float64, limit int) ([]memory.Hit, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var hits []memory.Hit
	for _, m := range s.sorted(memory.Filter{Projects: []string{project}}) {
		if m.Model != model {
			continue
		}
		if c := Cosine(vec, m.Vector); c >= threshold {
			hits = append(hits, memory.Hit{Memory: m, Score: c, Similarity: c})
		}
	}
	if len(hits) > limit {
		hits = hits[:limit]
	}
	return hits, nil
}

func (s *fakeStore) SetVector(ctx context.Context, id string, vec []float32, model string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.ms[id]
	if !ok {
		return memory.ErrNotFound
	}
	m.Vector, m.Model, m.Dims = vec, model, len(vec)
	return nil
}

func (s *fakeStore) NeedEmbedding(ctx context.Context, model, afterID string, limit int) ([]memory.Memory, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	all := s.sorted(memory.Filter{})
	var out []memory.Memory
	for i := len(all) - 1; i >= 0 && len(out) < limit; i-- { // oldest first
		if m := all[i]; m.ID > afterID && (m.Vector == nil || m.Model != model) {
			out = append(out, m)
		}
	}
	return out, nil
}

func (s *fakeStore) Touch(ctx context.Context, ids []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		s.touched[id]++
		if m, ok := s.ms[id]; ok && s.touchErr == nil {
			m.RecallCount++
		}
	}
	return s.touchErr
}

func (s *fakeStore) Stats(ctx context.Context) (memory.Stats, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := memory.Stats{Total: len(s.ms), ByProject: map[string]int{}, ByModel: map[string]int{}, DimsByModel: map[string]map[int]int{}}
	for _, m := range s.ms {
		st.ByProject[m.Project]++
		st.ByModel[m.Model]++
		if len(m.Vector) > 0 {
			if st.DimsByModel[m.Model] == nil {
				st.DimsByModel[m.Model] = map[int]int{}
			}
			st.DimsByModel[m.Model][len(m.Vector)]++
		}
	}
	return st, nil
}

func (s *fakeStore) Close() error { return nil }
