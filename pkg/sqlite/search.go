package sqlite

import (
	"context"
	"fmt"
	"strings"
	"unicode"

	"github.com/mnemo-mcp/mnemo/pkg/memory"
	"github.com/mnemo-mcp/mnemo/pkg/vecindex"
)

// maxSupersededFastPath: up to this many superseded memories, an unfiltered
// keyword search over-fetches by their number instead of filtering every match.
const maxSupersededFastPath = 1000

// maxQueryTerms bounds the FTS query built from user text.
const maxQueryTerms = 64

// FTSQuery turns arbitrary user text into a safe FTS5 query: every word (a
// run of letters, digits and marks) becomes a quoted string, and the strings
// are OR-ed, so bm25 ranks memories by how many and how rare the matched
// words are. Operators and punctuation in the text (AND, NEAR, *, ^, :, ",
// parentheses) are never interpreted. It returns "" when the text has no
// words.
func FTSQuery(text string) string {
	return strings.Join(ftsPhrases(queryWords(text)), " OR ")
}

// queryWords returns the distinct lower-case words of text that a keyword
// search looks for (stop words dropped unless nothing else is left), at
// most maxQueryTerms.
func queryWords(text string) []string {
	words := strings.FieldsFunc(text, func(r rune) bool {
		return !(unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsNumber(r) || unicode.IsMark(r))
	})
	// Stop words only dilute bm25 (and make a query touch most rows), so
	// they are dropped unless the text has nothing else.
	var content []string
	for _, w := range words {
		if w = strings.ToLower(w); !memory.IsStopWord(w) {
			content = append(content, w)
		}
	}
	if len(content) > 0 {
		words = content
	}
	seen := map[string]bool{}
	var out []string
	for _, w := range words {
		w = strings.ToLower(w)
		if seen[w] {
			continue
		}
		seen[w] = true
		out = append(out, w)
		if len(out) == maxQueryTerms {
			break
		}
	}
	return out
}

// ftsPhrases quotes each word as an FTS5 string: operators and punctuation
// are never interpreted.
func ftsPhrases(words []string) []string {
	terms := make([]string, len(words))
	for i, w := range words {
		// Words hold no quote character, but double any anyway: the
		// quoting must stay correct if the word rule ever changes.
		terms[i] = `"` + strings.ReplaceAll(w, `"`, `""`) + `"`
	}
	return terms
}

// Search ranks memories for q; see memory.Store. Behaviour by mode:
//   - keyword: FTS5 bm25 only; Score is -bm25 (higher is better).
//   - semantic: exact cosine over this process's in-memory vectors of
//     q.Model; Score is the cosine.
//   - hybrid: both rankings, each CandidateDepth(K) deep, fused by
//     memory.Fuse (RRF); Score is the fused score.
//
// When q.Vector is nil (no model ready), semantic and hybrid searches answer
// with the keyword ranking alone, exactly as keyword mode; the caller reports
// that semantic search was not used. Hit.Memory carries no Vector (Model and
// Dims are set). Memories deleted between ranking and loading are skipped.
func (s *Store) Search(ctx context.Context, q memory.Query) ([]memory.Hit, error) {
	q, err := q.Normalize()
	if err != nil {
		return nil, err
	}
	if q.Mode != memory.ModeHybrid {
		if q, err = q.ResolveVector(ctx); err != nil {
			return nil, err
		}
	}
	useKw, useSem, depth := q.Rankings()

	var kw, sem []memory.Ranked
	// The two rankings are independent: in a hybrid search the keyword
	// one runs beside the vector scan.
	var kwErr error
	kwDone := make(chan struct{})
	if useKw {
		// Its own copies: q is reassigned below, once the vector is in.
		text, filter := q.Text, q.Filter
		go func() {
			defer close(kwDone)
			kw, kwErr = s.keywordRank(ctx, text, filter, depth)
		}()
	} else {
		close(kwDone)
	}
	if q.Embed != nil {
		// Hybrid with the vector still to compute: it is computed here,
		// beside the keyword ranking. Without one the answer is the
		// keyword ranking alone. A keyword ranking through FTS5 takes a
		// core for milliseconds, and the embedder keeps to the other
		// one; the in-memory index's is short, and the embedder uses
		// every core.
		ectx := ctx
		if useKw && !s.keywordIndexLoaded() {
			ectx = memory.WithWorkBeside(ctx)
		}
		if q, err = q.ResolveVector(ectx); err != nil {
			<-kwDone
			return nil, err
		}
		useSem = q.Vector != nil
	}
	var idx *vecindex.Index
	if useSem {
		if idx, err = s.index(ctx); err != nil {
			<-kwDone
			return nil, err
		}
		f := q.Filter
		for _, r := range idx.Search(q.Model, q.Vector, depth, -2, func(m *vecindex.Attrs) bool {
			return f.Keep(m.Project, m.Tags, memory.UnixMilliTime(m.Created), m.Superseded, m.Pinned)
		}) {
			sem = append(sem, memory.Ranked{ID: r.ID, Score: float64(r.Score)})
		}
	}
	<-kwDone
	if kwErr != nil {
		return nil, kwErr
	}

	// Only the best K are kept: a Hit is a whole Memory wide, and fused
	// rankings run to twice the depth.
	hits := make([]memory.Hit, 0, q.K)
	switch {
	case useSem && useKw:
		fused := memory.Fuse(kw, sem)
		for _, f := range fused[:min(len(fused), q.K)] {
			h := memory.Hit{Score: f.Score, KeywordRank: f.KeywordRank, SemanticRank: f.SemanticRank, Similarity: f.Similarity}
			h.Memory.ID = f.ID
			if f.SemanticRank == 0 { // found by keywords only: its cosine is still known
				if c, ok := idx.Similarity(q.Model, f.ID, q.Vector); ok {
					h.Similarity = float64(c)
				}
			}
			hits = append(hits, h)
		}
	case useSem:
		for i, r := range sem[:min(len(sem), q.K)] {
			h := memory.Hit{Score: r.Score, SemanticRank: i + 1, Similarity: r.Score}
			h.Memory.ID = r.ID
			hits = append(hits, h)
		}
	default:
		for i, r := range kw[:min(len(kw), q.K)] {
			h := memory.Hit{Score: r.Score, KeywordRank: i + 1}
			h.Memory.ID = r.ID
			hits = append(hits, h)
		}
	}
	return s.fill(ctx, hits)
}

// keywordExact returns up to limit ids matching the FTS query fq, best
// bm25 first (ties: later insertion first), with Score = -bm25, ranked by
// FTS5 itself: exact, but FTS5's bm25 visits every row that matches any
// term (keywordRank uses it only when that is few rows).
//
// FTS5 ranks on its own table first; the filters, when there are any, join
// the narrow covering index memories_filter rather than the wide rows.
func (s *Store) keywordExact(ctx context.Context, fq string, f memory.Filter, limit int) ([]memory.Ranked, error) {
	if fq == "" {
		return nil, nil
	}
	filtered := len(f.Projects)+len(f.TagsAny)+len(f.TagsAll) > 0 || !f.Since.IsZero() || !f.Until.IsZero() || f.PinnedOnly
	// Hiding superseded versions is a filter too, but usually a tiny one:
	// the unfiltered fast path ranks limit + (number of superseded
	// memories, counted on a partial index) rows and drops the superseded
	// ones, which still leaves the limit best current ones.
	extra := 0
	if !filtered && !f.IncludeSuperseded {
		if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM memories INDEXED BY memories_superseded_by WHERE superseded_by <> ''`).Scan(&extra); err != nil {
			return nil, fmt.Errorf("keyword search: %w", err)
		}
		filtered = extra > maxSupersededFastPath
	}
	var q string
	var args []any
	if filtered {
		conds, fargs := whereFilter(f, []string{"memories_fts MATCH ?"}, []any{fq})
		idx := "INDEXED BY memories_filter"
		if f.PinnedOnly {
			idx = "" // pinned is not in the covering index
		}
		q = `SELECT m.id, memories_fts.rank FROM memories_fts
			JOIN memories m ` + idx + ` ON m.rid = memories_fts.rowid` + where(conds) + `
			ORDER BY memories_fts.rank, memories_fts.rowid DESC LIMIT ?`
		args = append(fargs, limit)
	} else {
		hide := ""
		if !f.IncludeSuperseded {
			hide = ` WHERE m.superseded_by = ''`
		}
		q = `SELECT m.id, r.rank FROM (
				SELECT rowid, rank FROM memories_fts WHERE memories_fts MATCH ?
				ORDER BY rank, rowid DESC LIMIT ?) r
			JOIN memories m INDEXED BY memories_filter ON m.rid = r.rowid` + hide + `
			ORDER BY r.rank, r.rowid DESC LIMIT ?`
		args = []any{fq, limit + extra, limit}
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("keyword search: %w", err)
	}
	defer rows.Close()
	var out []memory.Ranked
	for rows.Next() {
		var r memory.Ranked
		if err := rows.Scan(&r.ID, &r.Score); err != nil {
			return nil, err
		}
		r.Score = -r.Score
		out = append(out, r)
	}
	return out, rows.Err()
}

// fill loads the memories (without vectors) of hits, keeping their order and
// dropping hits whose memory was deleted meanwhile.
func (s *Store) fill(ctx context.Context, hits []memory.Hit) ([]memory.Hit, error) {
	if len(hits) == 0 {
		return []memory.Hit{}, nil
	}
	args := make([]any, len(hits))
	for i, h := range hits {
		args[i] = h.Memory.ID
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+memoryCols+` FROM memories WHERE id IN (`+placeholders(len(args))+`)`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	byID := make(map[string]memory.Memory, len(hits))
	for rows.Next() {
		m, err := scanMemory(rows, false)
		if err != nil {
			return nil, err
		}
		byID[m.ID] = m
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := hits[:0]
	for _, h := range hits {
		if m, ok := byID[h.Memory.ID]; ok {
			h.Memory = m
			out = append(out, h)
		}
	}
	return out, nil
}

// Similar returns memories of project whose vector of model has cosine ≥
// threshold with vec, most similar first, at most limit
// (memory.PrepareSimilar). Score and Similarity are the cosine;
// SemanticRank the rank.
func (s *Store) Similar(ctx context.Context, vec []float32, model, project string, threshold float64, limit int) ([]memory.Hit, error) {
	v, limit, err := memory.PrepareSimilar(vec, model, project, limit)
	if err != nil {
		return nil, err
	}
	idx, err := s.index(ctx)
	if err != nil {
		return nil, err
	}
	var hits []memory.Hit
	for i, r := range idx.Search(model, v, limit, float32(threshold), func(m *vecindex.Attrs) bool { return m.Project == project && !m.Superseded }) {
		h := memory.Hit{Score: float64(r.Score), SemanticRank: i + 1, Similarity: float64(r.Score)}
		h.Memory.ID = r.ID
		hits = append(hits, h)
	}
	return s.fill(ctx, hits)
}
