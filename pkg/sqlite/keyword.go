package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/mnemo-mcp/mnemo/pkg/memory"
)

// Keyword search that stays flat as the store grows.
//
// FTS5's bm25() visits every row that matches any query term and, to weigh
// each term, counts all the rows that contain it: a query with a common word
// costs a scan of every memory holding that word (239 ms at 100k memories
// whose words are all common). keywordRank bounds that work:
//
//  1. Probe each term: its newest keywordProbe+1 matching rows, newest
//     first, which FTS5 returns without visiting older ones. A term with at
//     most keywordProbe rows is rare: the probe holds all of them, and its
//     document frequency is exact.
//  2. When every term is rare, or the store is small (keywordExactRows),
//     FTS5 ranks the matching rows itself (keywordExact): exact, and cheap.
//  3. Otherwise the candidates are every row of the rare terms (all of
//     them: a memory that holds a rare query word is always considered,
//     however common the other words are) plus the newest
//     keywordCommonCandidates rows passing the filter that hold any common
//     term. Candidates are scored here with FTS5's own bm25 formula over
//     every query term, from their text (tokenized exactly as the index
//     does: tokenize.go), the index's row count and average length, and
//     each term's document frequency: counted for rare terms, estimated for
//     common ones from how densely their newest rows are spread (a common
//     term's weight is small, and its error smaller).
//
// The result is exact when the candidates' k-th score is at least the most
// a memory holding only common terms could score (MaxScore's bound), or
// when the common terms' candidates were all of their rows; otherwise the
// memories that hold only common words are drawn from the newest ones.
// The work is bounded by the number of terms times keywordProbe plus
// keywordCommonCandidates rows, whatever the size of the store (a filter
// that keeps few memories makes the common-term query read more rows to
// find its candidates).

// Tuning of the bounded keyword search (docs/perf.md has the measurements).
const (
	// keywordProbe: a term matching more rows than this is common.
	keywordProbe = 128
	// keywordRareBudget bounds the rows of the terms counted as rare
	// (a long query of moderately rare words): past it, the more frequent
	// ones count as common.
	keywordRareBudget = 1024
	// keywordCommonCandidates: rows drawn for the common terms.
	keywordCommonCandidates = 256
	// keywordAndWindow: the newest rowids searched for memories holding
	// every common term.
	keywordAndWindow = 32768
	// keywordExactRows: a store of at most this many memories is ranked
	// by FTS5 exactly whatever the words (its bm25 visits every matching
	// row, a few ms at this size); the bounded, approximate ranking is for
	// larger ones, where that visit grows with the store.
	keywordExactRows = 2000
)

// bm25 parameters of FTS5's bm25() (fts5_aux.c).
const (
	bm25K1 = 1.2
	bm25B  = 0.75
)

// kwTerm is one query phrase.
type kwTerm struct {
	phrase string // quoted for MATCH
	stem   string // its one token
	n      int    // probe: rows found, at most probe+1
	last   int64  // the oldest rowid the probe found
	common bool
	df     float64
}

// kwTuning lets tests shrink the bounds so small stores take the bounded
// path.
type kwTuning struct{ probe, rareBudget, common, andWindow, exactRows int }

func (s *Store) kwTune() kwTuning {
	if s.kwTuning != (kwTuning{}) {
		return s.kwTuning
	}
	return kwTuning{keywordProbe, keywordRareBudget, keywordCommonCandidates, keywordAndWindow, keywordExactRows}
}

// keywordRank returns up to limit ids matching text, best bm25 first (ties:
// later insertion first), with Score = -bm25 (see above).
func (s *Store) keywordRank(ctx context.Context, text string, f memory.Filter, limit int) ([]memory.Ranked, error) {
	r, _, err := s.keywordRanked(ctx, text, f, limit)
	return r, err
}

// keywordRanked is keywordRank; exact reports whether the ranking is
// provably bm25's.
func (s *Store) keywordRanked(ctx context.Context, text string, f memory.Filter, limit int) (out []memory.Ranked, exact bool, err error) {
	words := queryWords(text)
	if len(words) == 0 {
		return nil, true, nil
	}
	phrases := ftsPhrases(words)
	fq := strings.Join(phrases, " OR ")
	tune := s.kwTune()

	terms := make([]*kwTerm, len(words))
	for i, w := range words {
		var toks []string
		tokenize(w, nil, func(t []byte) { toks = append(toks, string(t)) })
		if len(toks) != 1 {
			// Not one token to FTS5 (a phrase, or nothing): leave the
			// ranking to FTS5.
			r, err := s.keywordExact(ctx, fq, f, limit)
			return r, true, err
		}
		terms[i] = &kwTerm{phrase: phrases[i], stem: toks[0]}
	}
	// A process that keeps indexes in memory ranks there: exact, and
	// cheap whatever the words.
	if kw, err := s.loadedKeywordIndex(ctx); err != nil {
		return nil, false, fmt.Errorf("keyword search: %w", err)
	} else if kw != nil {
		return keywordInMemory(kw, terms, f, limit), true, nil
	}

	// 1. Probes.
	stmt, err := s.db.PrepareContext(ctx, `SELECT COUNT(*), COALESCE(MIN(rowid), 0) FROM (
		SELECT rowid FROM memories_fts WHERE memories_fts MATCH ? ORDER BY rowid DESC LIMIT ?)`)
	if err != nil {
		return nil, false, fmt.Errorf("keyword search: %w", err)
	}
	defer stmt.Close()
	anyCommon := false
	for _, t := range terms {
		if err := stmt.QueryRowContext(ctx, t.phrase, tune.probe+1).Scan(&t.n, &t.last); err != nil {
			return nil, false, fmt.Errorf("keyword search: %w", err)
		}
		if t.n > tune.probe {
			t.common, anyCommon = true, true
		}
	}
	// 2. Few matching rows: FTS5 ranks them.
	if !anyCommon {
		r, err := s.keywordExact(ctx, fq, f, limit)
		return r, true, err
	}

	// 3. Bounded: statistics of the index.
	st, ok, err := s.ftsStats(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("keyword search: %w", err)
	}
	if !ok || st.rows <= float64(tune.exactRows) {
		r, err := s.keywordExact(ctx, fq, f, limit)
		return r, true, err
	}
	byRows := append([]*kwTerm(nil), terms...)
	sort.SliceStable(byRows, func(i, j int) bool { return byRows[i].n < byRows[j].n })
	rare := 0
	for _, t := range byRows {
		if !t.common && rare+t.n > tune.rareBudget {
			t.common = true
		}
		if t.common {
			t.df = st.estimateDF(t.n, t.last)
		} else {
			rare += t.n
			t.df = float64(t.n)
		}
	}

	cands := map[int64]struct{}{}
	var rarePh, common, universal []string
	for _, t := range terms {
		switch {
		case !t.common:
			if t.n > 0 {
				rarePh = append(rarePh, t.phrase)
			}
		case t.df < st.rows/2:
			common = append(common, t.phrase)
		default:
			// A term in most rows weighs almost nothing in bm25 (its
			// idf is FTS5's floor, 1e-6): drawing candidates by it
			// would only draw the newest rows.
			universal = append(universal, t.phrase)
		}
	}
	if len(common) == 0 {
		common = universal
	}
	if len(rarePh) > 0 {
		rows, err := queryRowidsQ(ctx, s.db, `SELECT rowid FROM memories_fts WHERE memories_fts MATCH ?`, strings.Join(rarePh, " OR "))
		if err != nil {
			return nil, false, fmt.Errorf("keyword search: %w", err)
		}
		for _, r := range rows {
			cands[r] = struct{}{}
		}
	}
	// Memories holding every common term first (they score highest
	// unless a rare term decides), then the newest holding any.
	draw := func(match string, from int64) ([]int64, error) {
		conds, args := whereFilter(f, []string{"memories_fts MATCH ?", "memories_fts.rowid >= ?"}, []any{match, from})
		q := `SELECT memories_fts.rowid FROM memories_fts JOIN memories m INDEXED BY memories_filter ON m.rid = memories_fts.rowid` +
			where(conds) + ` ORDER BY memories_fts.rowid DESC LIMIT ?`
		if f.PinnedOnly {
			q = strings.Replace(q, "INDEXED BY memories_filter ", "", 1)
		}
		return queryRowidsQ(ctx, s.db, q, append(args, tune.common)...)
	}
	commonComplete, allComplete := true, false
	if len(common) > 1 {
		// Bounded too: only the newest andWindow rowids are searched.
		from := max(st.minRid, st.maxRid-int64(tune.andWindow)+1)
		rows, err := draw(strings.Join(common, " AND "), from)
		if err != nil {
			return nil, false, fmt.Errorf("keyword search: %w", err)
		}
		for _, r := range rows {
			cands[r] = struct{}{}
		}
		allComplete = len(rows) < tune.common && from == st.minRid
	}
	if len(common) > 0 {
		rows, err := draw(strings.Join(common, " OR "), st.minRid)
		if err != nil {
			return nil, false, fmt.Errorf("keyword search: %w", err)
		}
		for _, r := range rows {
			cands[r] = struct{}{}
		}
		commonComplete = len(rows) < tune.common
	}

	scored, err := s.scoreCandidates(ctx, cands, terms, st, f)
	if err != nil {
		return nil, false, fmt.Errorf("keyword search: %w", err)
	}
	sort.Slice(scored, func(i, j int) bool {
		if scored[i].score != scored[j].score {
			return scored[i].score > scored[j].score
		}
		return scored[i].rid > scored[j].rid
	})
	if len(scored) > limit {
		scored = scored[:limit]
	}
	// MaxScore: a memory that is not a candidate holds no rare term, so
	// it scores at most the common terms' idf × (k1 + 1); when every
	// memory holding all the drawn common terms is a candidate, it also
	// lacks one of those.
	var bound, least float64
	least = math.Inf(1)
	drawn := map[string]bool{}
	for _, p := range common {
		drawn[p] = true
	}
	for _, t := range terms {
		if t.common {
			ub := st.idf(t.df) * (bm25K1 + 1)
			bound += ub
			if drawn[t.phrase] {
				least = min(least, ub)
			}
		}
	}
	if allComplete {
		bound -= least
	}
	exact = commonComplete || len(scored) == limit && scored[limit-1].score > bound
	out = make([]memory.Ranked, len(scored))
	for i, c := range scored {
		out[i] = memory.Ranked{ID: c.id, Score: c.score}
	}
	return out, exact, nil
}

type kwScored struct {
	rid   int64
	id    string
	score float64
}

// scoreCandidates loads the candidates that pass f and scores each with
// FTS5's bm25 over every term; rows matching no term are dropped.
func (s *Store) scoreCandidates(ctx context.Context, cands map[int64]struct{}, terms []*kwTerm, st ftsStats, f memory.Filter) ([]kwScored, error) {
	idf := make([]float64, len(terms))
	stemIdx := map[string][]int{}
	for i, t := range terms {
		idf[i] = st.idf(t.df)
		stemIdx[t.stem] = append(stemIdx[t.stem], i)
	}
	avgdl := st.tokens / st.rows
	freq := make([]float64, len(terms))
	var out []kwScored
	var buf []byte

	rids := make([]any, 0, len(cands))
	for r := range cands {
		rids = append(rids, r)
	}
	// A token can stem to a query stem only if it starts with all but the
	// stem's last two bytes (no Porter rule rewrites more of a word), so
	// most tokens are rejected without stemming; stems are memoised.
	prefixes := make([]string, 0, len(terms))
	for _, t := range terms {
		prefixes = append(prefixes, t.stem[:max(len(t.stem)-2, 0)])
	}
	stems := map[string]string{}
	var word []byte
	// In batches: SQLite bounds the number of parameters.
	const batch = 500
	for start := 0; start < len(rids); start += batch {
		part := rids[start:min(start+batch, len(rids))]
		conds, args := whereFilter(f, []string{"m.rid IN (" + placeholders(len(part)) + ")"}, part)
		rows, err := s.db.QueryContext(ctx, `SELECT m.rid, m.id, m.content FROM memories m`+where(conds), args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var c kwScored
			var content sql.RawBytes
			if err := rows.Scan(&c.rid, &c.id, &content); err != nil {
				rows.Close()
				return nil, err
			}
			clear(freq)
			dl, hit := 0, false
			buf = foldTokens(string(content), buf, func(tok []byte) {
				dl++
				could := false
				for _, p := range prefixes {
					if len(tok) >= len(p) && string(tok[:len(p)]) == p {
						could = true
						break
					}
				}
				if !could {
					return
				}
				st, ok := stems[string(tok)]
				if !ok {
					word = append(word[:0], tok...)
					st = string(porterStem(word))
					stems[string(tok)] = st
				}
				for _, i := range stemIdx[st] {
					freq[i]++
					hit = true
				}
			})
			if !hit {
				continue
			}
			// The same arithmetic, in the same order, as fts5Bm25Function.
			d := float64(dl)
			for i := range terms {
				c.score += idf[i] * ((freq[i] * (bm25K1 + 1.0)) / (freq[i] + bm25K1*(1-bm25B+bm25B*d/avgdl)))
			}
			out = append(out, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ftsStats is what bm25 needs of the whole index.
type ftsStats struct {
	rows, tokens   float64 // rows indexed, tokens in them
	minRid, maxRid int64
}

// idf is FTS5's: log((N - n + 0.5) / (n + 0.5)), at least 1e-6.
func (st ftsStats) idf(df float64) float64 {
	v := math.Log((st.rows - df + 0.5) / (df + 0.5))
	if v <= 0 {
		v = 1e-6
	}
	return v
}

// estimateDF estimates the rows holding a common term from its probe (its
// newest n rows, the oldest of them last): as dense over the whole rowid
// range as over the span the probe covered.
func (st ftsStats) estimateDF(count int, last int64) float64 {
	n := float64(count)
	span := float64(st.maxRid - last + 1)
	all := float64(st.maxRid - st.minRid + 1)
	if span <= 0 || all <= 0 {
		return st.rows
	}
	return min(max(n*all/span, n), st.rows)
}

// ftsStats reads the index's row and token counts from FTS5's averages
// record (id 1 of its data table: varint row count, then one varint token
// total per column; FTS5's file format, stable across versions) and the
// range of row ids. ok is false when the record is absent or unreadable:
// the caller then lets FTS5 rank.
func (s *Store) ftsStats(ctx context.Context) (st ftsStats, ok bool, err error) {
	var blk []byte
	err = s.db.QueryRowContext(ctx, `SELECT block FROM memories_fts_data WHERE id = 1`).Scan(&blk)
	if err == sql.ErrNoRows {
		return st, false, nil
	}
	if err != nil {
		return st, false, err
	}
	nRow, n := ftsVarint(blk)
	if n == 0 {
		return st, false, nil
	}
	nTok, m := ftsVarint(blk[n:])
	if m == 0 || nRow == 0 || nTok == 0 {
		return st, false, nil
	}
	var lo, hi sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT (SELECT MIN(rid) FROM memories), (SELECT MAX(rid) FROM memories)`).Scan(&lo, &hi); err != nil {
		return st, false, err
	}
	if !lo.Valid || !hi.Valid {
		return st, false, nil
	}
	return ftsStats{rows: float64(nRow), tokens: float64(nTok), minRid: lo.Int64, maxRid: hi.Int64}, true, nil
}

// ftsVarint decodes SQLite's varint (big-endian 7-bit groups, the ninth
// byte whole); n = 0 when b ends first.
func ftsVarint(b []byte) (v uint64, n int) {
	for i := 0; i < len(b) && i < 9; i++ {
		if i == 8 {
			return v<<8 | uint64(b[i]), 9
		}
		v = v<<7 | uint64(b[i]&0x7f)
		if b[i]&0x80 == 0 {
			return v, i + 1
		}
	}
	return 0, 0
}

func queryRowidsQ(ctx context.Context, db *sql.DB, q string, args ...any) ([]int64, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return scanRowids(rows)
}

func scanRowids(rows *sql.Rows) ([]int64, error) {
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var r int64
		if err := rows.Scan(&r); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
