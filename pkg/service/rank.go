package service

import (
	"context"
	"fmt"
	"time"

	"github.com/mnemo-mcp/mnemo/pkg/memory"
)

// Recall's final ranking (memory.Ranker has the formula; docs/ranking.md
// explains it): the store ranks candidateK(k) memories by keyword and
// vector, pinned memories passing the filter join them, and every candidate
// is scored by relevance, recency and use, plus the pin boost.

// maxPinnedCandidates bounds the pinned memories added to one recall.
const maxPinnedCandidates = 50

// candidateK is how many ranked memories the store returns for a recall of
// k: deeper than k so that recency and use can lift a slightly less
// relevant memory into the top k.
func candidateK(k int) int {
	return min(max(3*k, k+10), memory.MaxK)
}

// rank scores the store's hits and the pinned memories the query's filter
// keeps, and returns the best k.
func (s *Service) rank(ctx context.Context, q memory.Query, hits []memory.Hit, k int, ignorePins bool) ([]memory.Hit, error) {
	kw, sem, _ := q.Rankings()
	r := memory.Ranker{Now: s.now(), HalfLife: s.halfLife, Keyword: kw, Semantic: sem, IgnorePins: ignorePins}
	if ignorePins {
		return nonNil(r.Rank(hits, k)), nil
	}
	in := make(map[string]bool, len(hits))
	for _, h := range hits {
		in[h.Memory.ID] = true
	}
	f := q.Filter
	f.PinnedOnly = true
	pinned, err := s.store.List(ctx, memory.ListOptions{Filter: f, Limit: maxPinnedCandidates})
	if err != nil {
		return nil, fmt.Errorf("pinned memories: %w", err)
	}
	for _, m := range pinned {
		if !in[m.ID] {
			m.Vector = nil
			hits = append(hits, memory.Hit{Memory: m})
		}
	}
	return nonNil(r.Rank(hits, k)), nil
}

func nonNil(hits []memory.Hit) []memory.Hit {
	if hits == nil {
		return []memory.Hit{}
	}
	return hits
}

// embeddedCount caches how many memories lack a vector of one model.
type embeddedCount struct {
	model string
	at    time.Time
	n     int
	why   string
}

// embeddedTTL is how long a count of memories without a current vector is
// reused: it needs a scan of the store, and a recall must stay cheap.
const embeddedTTL = 10 * time.Second

// notEmbedded counts the memories a semantic ranking by model cannot see
// (no vector, or another model's), with the reason, from the store's
// statistics (cached for embeddedTTL). A failure counts nothing.
func (s *Service) notEmbedded(ctx context.Context, model string) (int, string) {
	s.embeddedMu.Lock()
	defer s.embeddedMu.Unlock()
	now := s.now()
	if c := s.embedded; c.model == model && !c.at.IsZero() && now.Sub(c.at) < embeddedTTL && now.After(c.at.Add(-time.Second)) {
		return c.n, c.why
	}
	var missing, other int
	if vc, ok := s.store.(memory.VectorCounter); ok {
		var err error
		if missing, other, err = vc.CountUnembedded(ctx, model); err != nil {
			s.log.Warn("recall: could not count memories without a vector", "err", err)
			return 0, ""
		}
	} else {
		st, err := s.store.Stats(ctx)
		if err != nil {
			s.log.Warn("recall: could not count memories without a vector", "err", err)
			return 0, ""
		}
		missing = st.ByModel[""]
		other = st.Total - missing - st.ByModel[model]
	}
	n, why := missing+other, ""
	switch {
	case missing > 0 && other > 0:
		why = fmt.Sprintf("%d have no vector yet and %d have a vector from another model; a running `mnemo serve` embeds them in the background (or run `mnemo reembed`)", missing, other)
	case missing > 0:
		why = fmt.Sprintf("%d have no vector yet; a running `mnemo serve` embeds them in the background (or run `mnemo reembed`)", missing)
	case other > 0:
		why = fmt.Sprintf("%d have a vector from another model; a running `mnemo serve` re-embeds them in the background (or run `mnemo reembed`)", other)
	}
	s.embedded = embeddedCount{model: model, at: now, n: n, why: why}
	return n, why
}
