package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgvector/pgvector-go"

	"github.com/mnemo-mcp/mnemo/pkg/memory"
)

// MaxIndexedDims is the largest dimension pgvector's HNSW index takes for
// the vector type; vectors of more dimensions are always searched exactly.
const MaxIndexedDims = 2000

type indexKey struct {
	model string
	dims  int
}

// indexName is the name of the HNSW index of one (model, dims) pair: a hash
// of the model id keeps it a short, safe identifier whatever the id holds.
func indexName(model string, dims int) string {
	sum := sha256.Sum256([]byte(model))
	return "memories_hnsw_" + hex.EncodeToString(sum[:6]) + "_" + strconv.Itoa(dims)
}

// quoteLiteral renders s as an SQL string literal. The model id is embedded
// in the vector queries, not passed as a parameter, so that the planner can
// match the partial index predicate (model = '…') even for a generic plan of
// a cached prepared statement. Connections run with
// standard_conforming_strings on (Open sets it), so only quotes need doubling.
func quoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// vectorExpr is the expression ranked by cosine distance: the cast matches
// the partial HNSW index's expression so the planner can walk the index; the
// bare column cannot use any index, which makes the scan exact.
func (s *Store) vectorExpr(dims int) string {
	if s.o.exact || dims > MaxIndexedDims {
		return "m.embedding"
	}
	return "(m.embedding::vector(" + strconv.Itoa(dims) + "))"
}

// ensureIndex makes sure vectors of (model, dims) have their HNSW index,
// creating it unless vector_indexes says it exists. It runs before the first
// vector of a pair is written, so the build indexes nothing and is quick (one
// scan of the table under a SHARE lock); an advisory lock keeps racing
// processes from building it twice.
//
// Failing to create it (say, the role does not own the table) is not an
// error for the write that asked: the vector is stored, searches of the pair
// scan exactly, and the store logs a warning and tries again later.
func (s *Store) ensureIndex(ctx context.Context, model string, dims int) {
	if dims > MaxIndexedDims || dims <= 0 {
		return
	}
	key := indexKey{model, dims}
	s.idxMu.Lock()
	skip := s.indexes[key] || time.Now().Before(s.indexRetry[key])
	s.idxMu.Unlock()
	if skip {
		return
	}
	err := s.createIndex(ctx, model, dims)
	s.idxMu.Lock()
	defer s.idxMu.Unlock()
	if err != nil {
		s.indexRetry[key] = time.Now().Add(10 * time.Minute)
		s.o.log.Warn("no HNSW index for these vectors; their searches scan exactly", "model", model, "dims", dims, "err", err)
		return
	}
	s.indexes[key] = true
}

func (s *Store) createIndex(ctx context.Context, model string, dims int) error {
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM vector_indexes WHERE model = $1 AND dims = $2`,
		model, dims).Scan(&n); err != nil || n > 0 {
		return err
	}
	h := fnv.New32a()
	fmt.Fprintf(h, "%d\x00%s", dims, model)
	name := indexName(model, dims)
	// Detached from the caller like a write, with room for a large build.
	ictx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.o.indexTimeout)
	defer cancel()
	created := false
	err := pgx.BeginFunc(ictx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ictx, `SELECT pg_advisory_xact_lock($1, $2)`, indexLockSpace, int32(h.Sum32())); err != nil {
			return err
		}
		if err := tx.QueryRow(ictx, `SELECT count(*) FROM vector_indexes WHERE model = $1 AND dims = $2`,
			model, dims).Scan(&n); err != nil || n > 0 {
			return err
		}
		d := strconv.Itoa(dims)
		if _, err := tx.Exec(ictx, `CREATE INDEX IF NOT EXISTS `+name+` ON memories USING hnsw ((embedding::vector(`+d+
			`)) vector_cosine_ops) WHERE model = `+quoteLiteral(model)+` AND dims = `+d); err != nil {
			return fmt.Errorf("create HNSW index for %s (%d dims): %w", model, dims, err)
		}
		// IF NOT EXISTS also skips when another kind of object has the name.
		var ok bool
		if err := tx.QueryRow(ictx, `SELECT EXISTS (SELECT 1 FROM pg_index WHERE indexrelid = to_regclass($1) AND indisvalid)`,
			name).Scan(&ok); err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("create HNSW index for %s (%d dims): the name %s is taken by something that is not a valid index", model, dims, name)
		}
		created = true
		_, err := tx.Exec(ictx, `INSERT INTO vector_indexes (model, dims, index_name) VALUES ($1, $2, $3)
			ON CONFLICT DO NOTHING`, model, dims, name)
		return err
	})
	if err == nil && created {
		s.o.log.Info("created HNSW index", "model", model, "dims", dims, "index", name)
	}
	return err
}

// semanticRanking returns up to n memories of model (vectors of len(vec)
// dimensions) passing the conditions, nearest first, with cosine similarity.
// It runs in tx so the per-query index settings (SET LOCAL) apply.
func (s *Store) semanticRanking(ctx context.Context, tx pgx.Tx, vec []float32, model string, conds []string, a args, n int) ([]memory.Ranked, error) {
	if strings.IndexByte(model, 0) >= 0 {
		return nil, nil // no stored vector can carry such a model id
	}
	if !s.o.exact {
		// The index walk keeps ef_search candidates: at least as many as we
		// want back. Strict-order iterative scans (pgvector ≥ 0.8) continue
		// past them when filters reject some, and keep exact distance order.
		ef := max(n, s.o.efSearch)
		set := `SELECT set_config('hnsw.ef_search', $1, true)`
		if s.iterative {
			set += `, set_config('hnsw.iterative_scan', 'strict_order', true)`
		}
		if _, err := tx.Exec(ctx, set, strconv.Itoa(min(ef, 1000))); err != nil {
			return nil, err
		}
	}
	q, a := s.semanticSQL(vec, model, conds, a, n)
	rows, err := tx.Query(ctx, q, a...)
	if err != nil {
		return nil, err
	}
	var (
		out  []memory.Ranked
		id   string
		dist float64
	)
	if _, err := pgx.ForEachRow(rows, []any{&id, &dist}, func() error {
		out = append(out, memory.Ranked{ID: id, Score: 1 - dist})
		return nil
	}); err != nil {
		return nil, err
	}
	// Equal distances: newer first, like memory.Fuse's tie-break.
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Score != out[j].Score {
			return out[i].Score > out[j].Score
		}
		return out[i].ID > out[j].ID
	})
	return out, nil
}

// semanticSQL is the query of semanticRanking: ids and cosine distances of
// the n vectors of (model, len(vec)) nearest to vec passing conds.
func (s *Store) semanticSQL(vec []float32, model string, conds []string, a args, n int) (string, args) {
	dims := len(vec)
	expr := s.vectorExpr(dims)
	d := strconv.Itoa(dims)
	qv := a.add(pgvector.NewVector(vec))
	conds = append([]string{"m.model = " + quoteLiteral(model), "m.dims = " + d, "m.embedding IS NOT NULL"}, conds...)
	q := `SELECT m.id, ` + expr + ` <=> ` + qv + ` FROM memories m` + where(conds) +
		` ORDER BY ` + expr + ` <=> ` + qv + ` LIMIT ` + a.add(n)
	return q, a
}

// tsQuery turns the query text into an OR of its lexemes, normalised by the
// same configuration (mnemo_english) as the stored tsvector (so e-mail addresses,
// URLs and hyphenated words are split the same way on both sides). NULL,
// which matches nothing, when the text has no lexeme (only stop words).
const tsQuery = `(SELECT string_agg('''' || replace(replace(w, '\', '\\'), '''', '''''') || '''', ' | ')
	FROM unnest(tsvector_to_array(to_tsvector('mnemo_english', %s))) AS w)::tsquery`

// keywordRanking returns up to n memories passing the conditions that match
// text, best first by ts_rank_cd (normalised by document length).
func keywordRanking(ctx context.Context, tx pgx.Tx, text string, conds []string, a args, n int) ([]memory.Ranked, error) {
	// PostgreSQL text cannot hold NUL or invalid UTF-8: such bytes separate
	// words like any other punctuation.
	text = strings.ReplaceAll(strings.ToValidUTF8(text, " "), "\x00", " ")
	if strings.TrimSpace(text) == "" {
		return nil, nil
	}
	tq := fmt.Sprintf(tsQuery, a.add(text))
	conds = append([]string{"m.tsv @@ kq.q"}, conds...)
	q := `WITH kq AS (SELECT ` + tq + ` AS q)
SELECT m.id, ts_rank_cd(m.tsv, kq.q, 1) AS r FROM memories m, kq` + where(conds) +
		` ORDER BY r DESC, m.id DESC LIMIT ` + a.add(n)
	rows, err := tx.Query(ctx, q, a...)
	if err != nil {
		return nil, err
	}
	var (
		out  []memory.Ranked
		id   string
		rank float64
	)
	_, err = pgx.ForEachRow(rows, []any{&id, &rank}, func() error {
		out = append(out, memory.Ranked{ID: id, Score: rank})
		return nil
	})
	return out, err
}

// Search ranks memories for q; see memory.Store. Behaviour by mode, as in
// the SQLite store:
//   - keyword: full-text ranking only; Score is ts_rank_cd (higher is better).
//   - semantic: cosine over the vectors of q.Model (HNSW, or exact with
//     WithExactSearch); Score is the cosine.
//   - hybrid: both rankings, each memory.CandidateDepth(K) deep, fused by
//     memory.Fuse (RRF); Score is the fused score, and Similarity is the
//     cosine even for memories only the keyword ranking found.
//
// When q.Vector is nil (no model ready), semantic and hybrid searches answer
// with the keyword ranking alone, exactly as keyword mode. Hit.Memory carries
// no Vector (Model and Dims are set). Both rankings and the loading of the
// memories read one snapshot (a REPEATABLE READ, read-only transaction).
func (s *Store) Search(ctx context.Context, q memory.Query) ([]memory.Hit, error) {
	q, err := q.Normalize()
	if err != nil {
		return nil, err
	}
	// The server ranks both ways in one transaction: the vector is
	// computed first.
	if q, err = q.ResolveVector(ctx); err != nil {
		return nil, err
	}
	useKw, useSem, depth := q.Rankings()
	var fa args
	conds := filterConds(q.Filter, &fa)
	hits := []memory.Hit{}
	err = s.read(ctx, func(tx pgx.Tx) error {
		var kw, sem []memory.Ranked
		var err error
		if useKw {
			if kw, err = keywordRanking(ctx, tx, q.Text, conds, slices.Clone(fa), depth); err != nil {
				return fmt.Errorf("keyword search: %w", err)
			}
		}
		if useSem {
			if sem, err = s.semanticRanking(ctx, tx, q.Vector, q.Model, conds, slices.Clone(fa), depth); err != nil {
				return fmt.Errorf("semantic search: %w", err)
			}
		}
		switch {
		case useSem && useKw:
			for _, f := range memory.Fuse(kw, sem) {
				hits = append(hits, memory.Hit{Memory: memory.Memory{ID: f.ID}, Score: f.Score,
					KeywordRank: f.KeywordRank, SemanticRank: f.SemanticRank, Similarity: f.Similarity})
			}
		case useSem:
			for i, r := range sem {
				hits = append(hits, memory.Hit{Memory: memory.Memory{ID: r.ID}, Score: r.Score, SemanticRank: i + 1, Similarity: r.Score})
			}
		default:
			for i, r := range kw {
				hits = append(hits, memory.Hit{Memory: memory.Memory{ID: r.ID}, Score: r.Score, KeywordRank: i + 1})
			}
		}
		if len(hits) > q.K {
			hits = hits[:q.K]
		}
		var simOf []float32 // hybrid: the cosine of keyword-only hits is still known
		if useSem && useKw {
			simOf = q.Vector
		}
		hits, err = fillHits(ctx, tx, hits, simOf, q.Model)
		return err
	})
	if err != nil {
		return nil, err
	}
	return hits, nil
}

// read runs fn in a read-only REPEATABLE READ transaction: one snapshot for
// the rankings and the rows they name, and a scope for SET LOCAL.
func (s *Store) read(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, fn)
}

// fillHits loads the memories (without vectors) of ranked hits, keeping the
// order and dropping any deleted since it was ranked. With vec, hits that
// have no Similarity yet get the cosine of their vector of model to vec.
func fillHits(ctx context.Context, tx pgx.Tx, hits []memory.Hit, vec []float32, model string) ([]memory.Hit, error) {
	if len(hits) == 0 {
		return hits, nil
	}
	ids := make([]string, len(hits))
	for i, h := range hits {
		ids[i] = h.Memory.ID
	}
	var (
		a   args
		sim = "NULL::float8"
	)
	idsArg := a.add(ids)
	if vec != nil {
		sim = "CASE WHEN m.model = " + a.add(model) + " AND m.dims = " + a.add(len(vec)) +
			" THEN 1 - (m.embedding <=> " + a.add(pgvector.NewVector(vec)) + ") END"
	}
	rows, err := tx.Query(ctx, `SELECT `+memoryCols+`, `+sim+` FROM memories m WHERE m.id = ANY(`+idsArg+`)`, a...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	type loaded struct {
		m   memory.Memory
		sim *float64
	}
	byID := make(map[string]loaded, len(hits))
	for rows.Next() {
		var l loaded
		var err error
		if l.m, err = scanMemory(rows, &l.sim); err != nil {
			return nil, err
		}
		byID[l.m.ID] = l
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := hits[:0]
	for _, h := range hits {
		if l, ok := byID[h.Memory.ID]; ok {
			h.Memory = l.m
			if h.SemanticRank == 0 && l.sim != nil {
				h.Similarity = *l.sim
			}
			out = append(out, h)
		}
	}
	return out, nil
}

// Similar returns memories in project whose vector (of model) has cosine ≥
// threshold with vec, most similar first, at most limit
// (memory.PrepareSimilar, as every store).
func (s *Store) Similar(ctx context.Context, vec []float32, model, project string, threshold float64, limit int) ([]memory.Hit, error) {
	v, limit, err := memory.PrepareSimilar(vec, model, project, limit)
	if err != nil {
		return nil, err
	}
	hits := []memory.Hit{}
	err = s.read(ctx, func(tx pgx.Tx) error {
		var a args
		conds := []string{"m.project = " + a.add(project), "m.superseded_by = ''"}
		sem, err := s.semanticRanking(ctx, tx, v, model, conds, a, limit)
		if err != nil {
			return err
		}
		for i, r := range sem {
			if r.Score < threshold {
				break
			}
			hits = append(hits, memory.Hit{Memory: memory.Memory{ID: r.ID}, Score: r.Score, SemanticRank: i + 1, Similarity: r.Score})
		}
		hits, err = fillHits(ctx, tx, hits, nil, "")
		return err
	})
	if err != nil {
		return nil, err
	}
	return hits, nil
}
