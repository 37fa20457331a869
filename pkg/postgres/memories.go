package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgvector/pgvector-go"

	"github.com/mnemo-mcp/mnemo/pkg/memory"
)

// Put inserts m unless the same content already exists in the same project.
// The caller's m is completed (ID, hash, times, normalised tags, author) only
// when a row was written. An ID supplied by the caller (import, migrate) that
// already exists with the same content is reported as a duplicate; with other
// content it is an ErrInvalid error.
func (s *Store) Put(ctx context.Context, m *memory.Memory) (memory.PutResult, error) {
	p, err := memory.PreparePut(m, s.o.now())
	if err != nil {
		return memory.PutResult{}, err
	}
	if p.Author == "" {
		p.Author = s.o.author
	}
	md, err := memory.MetadataJSON(p.Metadata) // memory.Prepare refused NUL, which jsonb cannot store
	if err != nil {
		return memory.PutResult{}, err
	}
	if err := ctx.Err(); err != nil {
		return memory.PutResult{}, err
	}
	if len(p.Vector) > 0 {
		s.ensureIndex(ctx, p.Model, p.Dims)
	}
	if err := ctx.Err(); err != nil {
		return memory.PutResult{}, err
	}
	// The INSERT is one atomic statement, so no transaction is needed (and
	// a new memory costs one round trip); detached like every write.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.o.writeTimeout)
	defer cancel()
	var res memory.PutResult
	// A row that conflicts but is deleted before we read it leaves nothing to
	// report: try again (bounded; it takes a delete racing every attempt).
	for attempt := 0; ; attempt++ {
		var retry bool
		if len(p.Supersedes) == 0 {
			res, retry, err = putRow(wctx, s.pool, &p, md)
		} else {
			// A new version and the marking of the old ones commit together.
			err = pgx.BeginFunc(wctx, s.pool, func(tx pgx.Tx) error {
				var err error
				if res, retry, err = putRow(wctx, tx, &p, md); err != nil || retry {
					return err
				}
				// A duplicate naming versions it replaces: the existing
				// memory becomes their successor.
				_, err = tx.Exec(wctx, `UPDATE memories SET superseded_by = $1 WHERE id = ANY($2) AND id <> $1`, res.ID, p.Supersedes)
				return err
			})
		}
		if err != nil {
			return memory.PutResult{}, err
		}
		if !retry {
			break
		}
		if attempt == 5 {
			return memory.PutResult{}, fmt.Errorf("put %s: conflicting row kept disappearing", p.ID)
		}
	}
	if !res.Duplicate {
		*m = p
	}
	return res, nil
}

// querier is what putRow needs of a pool or a transaction.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func supersedesArray(ids []string) []string {
	if ids == nil {
		return []string{}
	}
	return ids
}

// putRow inserts one prepared memory, or reports the row it duplicates.
func putRow(ctx context.Context, tx querier, p *memory.Memory, md []byte) (res memory.PutResult, retry bool, err error) {
	var vec any // NULL when there is no vector
	if len(p.Vector) > 0 {
		vec = pgvector.NewVector(p.Vector)
	}
	// ON CONFLICT DO NOTHING (no target) covers both the id and the
	// (project, content_hash) constraint: a racing writer of the same content
	// waits for ours to commit, then inserts nothing, and reads our row below.
	var id string
	err = tx.QueryRow(ctx, `
INSERT INTO memories (id, content, content_hash, project, tags, metadata, source, author,
	created_at, updated_at, accessed_at, embedding, model, dims,
	supersedes, superseded_by, pinned, recall_count)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,
	-- a successor that is not stored (yet) hides nothing: an import bringing
	-- it later marks this memory through its supersedes
	CASE WHEN $16::text <> '' AND EXISTS (SELECT 1 FROM memories WHERE id = $16::text) THEN $16::text ELSE '' END,
	$17, $18)
ON CONFLICT DO NOTHING
RETURNING id, superseded_by`,
		p.ID, p.Content, p.ContentHash, p.Project, p.Tags, string(md), string(p.Source), p.Author,
		p.CreatedAt, p.UpdatedAt, p.AccessedAt, vec, p.Model, p.Dims,
		supersedesArray(p.Supersedes), p.SupersededBy, p.Pinned, p.RecallCount).Scan(&id, &p.SupersededBy)
	if err == nil {
		return memory.PutResult{ID: id}, false, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return res, false, err
	}
	// Nothing inserted: the same content in the project, or the same id.
	err = tx.QueryRow(ctx, `SELECT id FROM memories WHERE project = $1 AND content_hash = $2`,
		p.Project, p.ContentHash).Scan(&id)
	if err == nil {
		return memory.PutResult{ID: id, Duplicate: true}, false, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return res, false, err
	}
	var hash string
	err = tx.QueryRow(ctx, `SELECT content_hash FROM memories WHERE id = $1`, p.ID).Scan(&hash)
	switch {
	case err == nil && hash == p.ContentHash:
		return memory.PutResult{ID: p.ID, Duplicate: true}, false, nil
	case err == nil:
		return res, false, fmt.Errorf("%w: id %s already exists with other content", memory.ErrInvalid, p.ID)
	case errors.Is(err, pgx.ErrNoRows):
		return res, true, nil // the conflicting row was deleted meanwhile
	}
	return res, false, err
}

// Columns every memory read selects, in scanMemory's order (alias m).
const memoryCols = `m.id, m.content, m.content_hash, m.project, m.tags, m.metadata, m.source, m.author,
	m.created_at, m.updated_at, m.accessed_at, m.model, m.dims, m.supersedes, m.superseded_by, m.pinned, m.recall_count`

// scanMemory reads memoryCols and then one scan destination per extra column.
func scanMemory(row pgx.Row, extra ...any) (memory.Memory, error) {
	var (
		m      memory.Memory
		md     []byte
		source string
	)
	dest := []any{&m.ID, &m.Content, &m.ContentHash, &m.Project, &m.Tags, &md, &source, &m.Author,
		&m.CreatedAt, &m.UpdatedAt, &m.AccessedAt, &m.Model, &m.Dims, &m.Supersedes, &m.SupersededBy, &m.Pinned, &m.RecallCount}
	dest = append(dest, extra...)
	if err := row.Scan(dest...); err != nil {
		return m, err
	}
	m.Source = memory.Source(source)
	m.CreatedAt = m.CreatedAt.UTC()
	m.UpdatedAt = m.UpdatedAt.UTC()
	m.AccessedAt = m.AccessedAt.UTC()
	if m.Tags == nil {
		m.Tags = []string{}
	}
	if len(m.Supersedes) == 0 {
		m.Supersedes = nil
	}
	if err := json.Unmarshal(md, &m.Metadata); err != nil {
		return m, fmt.Errorf("memory %s: stored metadata: %w", m.ID, err)
	}
	if m.Metadata == nil {
		m.Metadata = map[string]any{}
	}
	return m, nil
}

// scanWithVector reads memoryCols followed by the embedding.
func scanWithVector(row pgx.Row) (memory.Memory, error) {
	var vec *pgvector.Vector
	m, err := scanMemory(row, &vec)
	if err == nil && vec != nil {
		m.Vector = vec.Slice()
	}
	return m, err
}

// collect reads rows of memoryCols followed by the embedding.
func collect(rows pgx.Rows) ([]memory.Memory, error) {
	defer rows.Close()
	var out []memory.Memory
	for rows.Next() {
		m, err := scanWithVector(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// Get returns one memory with its vector.
func (s *Store) Get(ctx context.Context, id string) (memory.Memory, error) {
	row := s.pool.QueryRow(ctx, `SELECT `+memoryCols+`, m.embedding FROM memories m WHERE m.id = $1`, id)
	m, err := scanWithVector(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return memory.Memory{}, fmt.Errorf("%w: %s", memory.ErrNotFound, id)
	}
	return m, err
}

// Delete removes memories and returns the ids that did not exist.
func (s *Store) Delete(ctx context.Context, ids []string) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var deleted map[string]bool
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `DELETE FROM memories WHERE id = ANY($1) RETURNING id`, ids)
		if err != nil {
			return err
		}
		deleted = map[string]bool{}
		var id string
		if _, err = pgx.ForEachRow(rows, []any{&id}, func() error { deleted[id] = true; return nil }); err != nil {
			return err
		}
		// The versions they replaced are current again.
		_, err = tx.Exec(ctx, `UPDATE memories SET superseded_by = '' WHERE superseded_by = ANY($1)`, ids)
		return err
	})
	if err != nil {
		return nil, err
	}
	var missing []string
	seen := map[string]bool{}
	for _, id := range ids {
		if !deleted[id] && !seen[id] {
			missing = append(missing, id)
		}
		seen[id] = true
	}
	return missing, nil
}

// args collects positional query arguments and hands out their $n.
type args []any

func (a *args) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}

// ms truncates a filter bound to the millisecond precision memories keep,
// exactly as the SQLite store compares unix milliseconds.
func ms(t time.Time) time.Time { return time.UnixMilli(t.UnixMilli()).UTC() }

// filterConds returns SQL conditions (on alias m) for f, which must be
// normalised, adding their arguments to a.
func filterConds(f memory.Filter, a *args) []string {
	var conds []string
	if len(f.Projects) > 0 {
		conds = append(conds, "m.project = ANY("+a.add(f.Projects)+")")
	}
	if len(f.TagsAny) > 0 {
		conds = append(conds, "m.tags && "+a.add(f.TagsAny)+"::text[]")
	}
	if len(f.TagsAll) > 0 {
		conds = append(conds, "m.tags @> "+a.add(f.TagsAll)+"::text[]")
	}
	if !f.Since.IsZero() {
		conds = append(conds, "m.created_at >= "+a.add(ms(f.Since)))
	}
	if !f.Until.IsZero() {
		conds = append(conds, "m.created_at < "+a.add(ms(f.Until)))
	}
	if !f.IncludeSuperseded {
		conds = append(conds, "m.superseded_by = ''")
	}
	if f.PinnedOnly {
		conds = append(conds, "m.pinned")
	}
	return conds
}

func where(conds []string) string {
	if len(conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(conds, " AND ")
}

// List returns memories (with vectors) newest first: by created_at, then id.
// Limit ≤ 0 means no limit.
func (s *Store) List(ctx context.Context, o memory.ListOptions) ([]memory.Memory, error) {
	f, err := o.Filter.Normalize()
	if err != nil {
		return nil, err
	}
	if o.Offset < 0 {
		return nil, fmt.Errorf("%w: negative offset", memory.ErrInvalid)
	}
	var a args
	q := `SELECT ` + memoryCols + `, m.embedding FROM memories m` + where(filterConds(f, &a)) +
		` ORDER BY m.created_at DESC, m.id DESC`
	if o.Limit > 0 {
		q += ` LIMIT ` + a.add(o.Limit)
	}
	if o.Offset > 0 {
		q += ` OFFSET ` + a.add(o.Offset)
	}
	rows, err := s.pool.Query(ctx, q, a...)
	if err != nil {
		return nil, err
	}
	return collect(rows)
}

// SetVector stamps a memory's vector with model (re-embedding). It does not
// change updated_at: the memory's content did not change.
func (s *Store) SetVector(ctx context.Context, id string, vec []float32, model string) error {
	if strings.TrimSpace(model) == "" {
		return fmt.Errorf("%w: a vector needs the model id that made it", memory.ErrInvalid)
	}
	v, err := memory.PrepareVector(vec)
	if err != nil {
		return err
	}
	if err := memory.NoNUL("model", model); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.ensureIndex(ctx, model, len(v))
	return s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		t, err := tx.Exec(ctx, `UPDATE memories SET embedding = $1, model = $2, dims = $3 WHERE id = $4`,
			pgvector.NewVector(v), model, len(v), id)
		if err != nil {
			return err
		}
		if t.RowsAffected() == 0 {
			return fmt.Errorf("%w: %s", memory.ErrNotFound, id)
		}
		return nil
	})
}

// NeedEmbedding lists memories with no vector or one from another model, in
// id order (oldest first), after afterID, at most limit (≤ 0: 100).
func (s *Store) NeedEmbedding(ctx context.Context, model, afterID string, limit int) ([]memory.Memory, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.pool.Query(ctx, `SELECT `+memoryCols+`, m.embedding FROM memories m
		WHERE (m.embedding IS NULL OR m.model <> $1) AND m.id > $2 ORDER BY m.id LIMIT $3`, model, afterID, limit)
	if err != nil {
		return nil, err
	}
	return collect(rows)
}

// Touch sets the last-accessed time of memories to now (never backwards);
// unknown ids are ignored.
func (s *Store) Touch(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	now := ms(s.o.now())
	return s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE memories SET accessed_at = greatest(accessed_at, $1),
			recall_count = recall_count + 1 WHERE id = ANY($2)`, now, ids)
		return err
	})
}

// CountUnembedded counts memories without a vector and with another model's
// (memory.VectorCounter), from the (model, dims) index: dims is 0 exactly
// when there is no embedding (a table constraint).
func (s *Store) CountUnembedded(ctx context.Context, model string) (missing, other int, err error) {
	err = s.pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE dims = 0), count(*) FILTER (WHERE dims > 0 AND model <> $1)
		FROM memories`, model).Scan(&missing, &other)
	return missing, other, err
}

// SetPinned pins or unpins memories and returns the ids that do not exist.
func (s *Store) SetPinned(ctx context.Context, ids []string, pinned bool) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	found := map[string]bool{}
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `UPDATE memories SET pinned = $1 WHERE id = ANY($2) RETURNING id`, pinned, ids)
		if err != nil {
			return err
		}
		clear(found)
		var id string
		_, err = pgx.ForEachRow(rows, []any{&id}, func() error { found[id] = true; return nil })
		return err
	})
	if err != nil {
		return nil, err
	}
	var missing []string
	seen := map[string]bool{}
	for _, id := range ids {
		if !found[id] && !seen[id] {
			missing = append(missing, id)
		}
		seen[id] = true
	}
	return missing, nil
}

// Stats counts memories per project and per model and reports the size of
// the memories table with its indexes and the schema version.
func (s *Store) Stats(ctx context.Context) (memory.Stats, error) {
	st := memory.Stats{ByProject: map[string]int{}, ByModel: map[string]int{}, Path: s.path}
	count := func(q string, into map[string]int) error {
		rows, err := s.pool.Query(ctx, q)
		if err != nil {
			return err
		}
		var k string
		var n int
		_, err = pgx.ForEachRow(rows, []any{&k, &n}, func() error { into[k] = n; return nil })
		return err
	}
	if err := count(`SELECT project, count(*) FROM memories GROUP BY project`, st.ByProject); err != nil {
		return st, err
	}
	if err := count(`SELECT CASE WHEN embedding IS NULL THEN '' ELSE model END, count(*) FROM memories GROUP BY 1`, st.ByModel); err != nil {
		return st, err
	}
	st.DimsByModel = map[string]map[int]int{}
	rows, err := s.pool.Query(ctx, `SELECT model, dims, count(*) FROM memories WHERE embedding IS NOT NULL GROUP BY model, dims`)
	if err != nil {
		return st, err
	}
	var model string
	var dims, n int
	if _, err := pgx.ForEachRow(rows, []any{&model, &dims, &n}, func() error {
		if st.DimsByModel[model] == nil {
			st.DimsByModel[model] = map[int]int{}
		}
		st.DimsByModel[model][dims] = n
		return nil
	}); err != nil {
		return st, err
	}
	for _, n := range st.ByProject {
		st.Total += n
	}
	if err := s.pool.QueryRow(ctx, `SELECT COALESCE(max(version), 0) FROM schema_migrations`).Scan(&st.SchemaVers); err != nil {
		return st, err
	}
	if err := s.pool.QueryRow(ctx, `SELECT pg_total_relation_size('memories')`).Scan(&st.SizeBytes); err != nil {
		return st, err
	}
	return st, nil
}
