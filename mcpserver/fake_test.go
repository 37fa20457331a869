package mcpserver

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mnemo-mcp/mnemo/pkg/memory"
	"github.com/mnemo-mcp/mnemo/pkg/service"
)

// fakeMemories is an in-memory Memories for the server's unit tests. Its
// "embedding" is a bag of letters, enough to order similarity results.
type fakeMemories struct {
	mu       sync.Mutex
	mems     map[string]memory.Memory
	ready    bool          // model loaded
	loadErr  string        // model failed
	waitStep time.Duration // how often OnWait fires while not ready
	failWith error         // returned by every call when set
	// rememberWait is the ModelWait of the last Remember request.
	rememberWait time.Duration
	lastRec      service.RecallRequest
	lastList     service.ListRequest
	// remembered is closed-over by tests that need to observe write contexts.
	onRemember func(ctx context.Context)
}

func newFake() *fakeMemories {
	return &fakeMemories{mems: map[string]memory.Memory{}, ready: true, waitStep: 10 * time.Millisecond}
}

const fakeModel = "fake/letters"
const fakeDims = 26

func letters(s string) []float32 {
	v := make([]float32, fakeDims)
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' {
			v[r-'a']++
		}
	}
	var n float64
	for _, x := range v {
		n += float64(x * x)
	}
	if n > 0 {
		for i := range v {
			v[i] /= float32(math.Sqrt(n))
		}
	}
	return v
}

func dot(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i] * b[i])
	}
	return s
}

func (f *fakeMemories) Remember(ctx context.Context, req service.RememberRequest) (service.RememberResult, error) {
	if f.onRemember != nil {
		f.onRemember(ctx)
	}
	if err := ctx.Err(); err != nil {
		return service.RememberResult{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rememberWait = req.ModelWait
	if f.failWith != nil {
		return service.RememberResult{}, f.failWith
	}
	if len(req.Content) > service.DefaultMaxContentBytes { // as the service does
		return service.RememberResult{}, fmt.Errorf("content is %d bytes: %w", len(req.Content), service.ErrInvalidInput)
	}
	project := req.Project
	if project == "" {
		project = "testproj"
	}
	hash := memory.ContentHash(req.Content)
	var similar []service.SimilarRef
	for _, m := range f.mems {
		if m.Project != project {
			continue
		}
		if m.ContentHash == hash {
			return service.RememberResult{ID: m.ID, Duplicate: true, Project: project, Embedded: m.Vector != nil}, nil
		}
		if f.ready {
			if s := dot(letters(req.Content), m.Vector); s >= service.NearDuplicateThreshold {
				similar = append(similar, service.SimilarRef{ID: m.ID, Similarity: s})
			}
		}
	}
	now := time.Now()
	m := memory.Memory{ID: memory.NewID(now), Content: req.Content, ContentHash: hash, Project: project,
		Tags: req.Tags, Metadata: req.Metadata, Source: req.Source, CreatedAt: now, UpdatedAt: now}
	if f.ready {
		m.Vector, m.Model, m.Dims = letters(req.Content), fakeModel, fakeDims
	}
	f.mems[m.ID] = m
	return service.RememberResult{ID: m.ID, SimilarTo: similar, Project: project, Embedded: f.ready}, nil
}

func (f *fakeMemories) inScope(m memory.Memory, project string, tags []string) bool {
	switch project {
	case "*":
	case "":
		if m.Project != "testproj" && m.Project != memory.GlobalProject {
			return false
		}
	default:
		if m.Project != project && m.Project != memory.GlobalProject {
			return false
		}
	}
	if len(tags) == 0 {
		return true
	}
	for _, t := range tags {
		for _, mt := range m.Tags {
			if t == mt {
				return true
			}
		}
	}
	return false
}

func (f *fakeMemories) Recall(ctx context.Context, req service.RecallRequest) (service.RecallResult, error) {
	f.mu.Lock()
	f.lastRec = req
	ready, fail := f.ready, f.failWith
	f.mu.Unlock()
	if fail != nil {
		return service.RecallResult{}, fail
	}
	if req.Mode == "" {
		req.Mode = memory.ModeHybrid
	}
	semantic := req.Mode != memory.ModeKeyword
	if semantic && !ready {
		// Wait like the real service: OnWait ticks until ModelWait passes.
		start := time.Now()
		for elapsed := time.Duration(0); elapsed < req.ModelWait; elapsed = time.Since(start) {
			if req.OnWait != nil {
				req.OnWait(elapsed, req.ModelWait)
			}
			select {
			case <-ctx.Done():
				return service.RecallResult{}, ctx.Err()
			case <-time.After(f.waitStep):
			}
		}
		semantic = false
	}
	k := req.K
	if k == 0 {
		k = service.DefaultK
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	q := letters(req.Query)
	var hits []memory.Hit
	for _, m := range f.mems {
		if !f.inScope(m, req.Project, req.Tags) || (!req.Since.IsZero() && m.CreatedAt.Before(req.Since)) {
			continue
		}
		if semantic {
			s := dot(q, letters(m.Content))
			hits = append(hits, memory.Hit{Memory: m, Score: s, Similarity: s, SemanticRank: 1})
		} else if strings.Contains(strings.ToLower(m.Content), strings.ToLower(strings.Fields(req.Query)[0])) {
			hits = append(hits, memory.Hit{Memory: m, Score: 1, KeywordRank: 1})
		}
	}
	sort.Slice(hits, func(i, j int) bool { return hits[i].Score > hits[j].Score })
	if len(hits) > k {
		hits = hits[:k]
	}
	res := service.RecallResult{Results: hits, Semantic: semantic, Mode: req.Mode}
	if semantic {
		res.Model = fakeModel
	} else if req.Mode != memory.ModeKeyword {
		res.Mode = memory.ModeKeyword
	}
	return res, nil
}

func (f *fakeMemories) Forget(ctx context.Context, ids []string) (service.ForgetResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failWith != nil {
		return service.ForgetResult{}, f.failWith
	}
	var r service.ForgetResult
	for _, id := range ids {
		if _, ok := f.mems[id]; ok {
			delete(f.mems, id)
			r.Deleted = append(r.Deleted, id)
		} else {
			r.Missing = append(r.Missing, id)
		}
	}
	if len(r.Deleted) == 0 { // like the real service: all unknown is an error
		return r, fmt.Errorf("forget: %w", memory.ErrNotFound)
	}
	return r, nil
}

func (f *fakeMemories) List(ctx context.Context, req service.ListRequest) ([]memory.Memory, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastList = req
	if f.failWith != nil {
		return nil, f.failWith
	}
	var out []memory.Memory
	for _, m := range f.mems {
		if f.inScope(m, req.Project, req.Tags) {
			out = append(out, m)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID > out[j].ID })
	if req.Offset >= len(out) {
		return nil, nil
	}
	out = out[req.Offset:]
	if req.Limit > 0 && len(out) > req.Limit {
		out = out[:req.Limit]
	}
	return out, nil
}

func (f *fakeMemories) Get(ctx context.Context, id string) (memory.Memory, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, ok := f.mems[id]
	if !ok {
		return memory.Memory{}, fmt.Errorf("%w: %s", memory.ErrNotFound, id)
	}
	return m, nil
}

func (f *fakeMemories) Embed(ctx context.Context, texts []string) (service.EmbedResult, error) {
	if err := f.modelErr(); err != nil {
		return service.EmbedResult{}, err
	}
	r := service.EmbedResult{Model: fakeModel, Dims: fakeDims}
	for _, t := range texts {
		r.Vectors = append(r.Vectors, letters(t))
	}
	return r, nil
}

func (f *fakeMemories) Similarity(ctx context.Context, query string, candidates []string) (service.SimilarityResult, error) {
	if err := f.modelErr(); err != nil {
		return service.SimilarityResult{}, err
	}
	q := letters(query)
	r := service.SimilarityResult{Model: fakeModel}
	for i, c := range candidates {
		r.Results = append(r.Results, service.Scored{Index: i, Text: c, Similarity: dot(q, letters(c))})
	}
	sort.SliceStable(r.Results, func(i, j int) bool { return r.Results[i].Similarity > r.Results[j].Similarity })
	return r, nil
}

func (f *fakeMemories) modelErr() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failWith != nil {
		return f.failWith
	}
	if !f.ready {
		return fmt.Errorf("embed: %w", service.ErrModelUnavailable)
	}
	return nil
}

func (f *fakeMemories) ModelStatus() service.ModelStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	return service.ModelStatus{Model: fakeModel, Ready: f.ready, Error: f.loadErr, Dims: fakeDims}
}

var errInternal = errors.New("disk on fire")

// Edit and Pin: the fake keeps no versions; the tools' behaviour is tested
// over the real service (versions_test.go).
func (f *fakeMemories) Edit(ctx context.Context, req service.EditRequest) (service.RememberResult, error) {
	f.mu.Lock()
	old, ok := f.mems[req.ID]
	f.mu.Unlock()
	if !ok {
		return service.RememberResult{}, fmt.Errorf("no memory with id %s: %w", req.ID, memory.ErrNotFound)
	}
	return f.Remember(ctx, service.RememberRequest{Content: req.Content, Tags: req.Tags, Project: old.Project, Source: req.Source, Supersedes: []string{req.ID}})
}

func (f *fakeMemories) Pin(ctx context.Context, ids []string, pinned bool) (service.PinResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := service.PinResult{Pinned: pinned}
	for _, id := range ids {
		m, ok := f.mems[id]
		if !ok {
			r.Missing = append(r.Missing, id)
			continue
		}
		m.Pinned = pinned
		f.mems[id] = m
		r.Changed = append(r.Changed, id)
	}
	return r, nil
}
