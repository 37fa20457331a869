package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/mnemo-mcp/mnemo/pkg/memory"
)

// Put inserts m unless the same content already exists in the same project.
// The caller's m is completed (ID, hash, times, normalised tags) only when a
// row was written. An ID supplied by the caller (import) that already exists
// with the same content is reported as a duplicate; with other content it is
// an ErrInvalid error.
func (s *Store) Put(ctx context.Context, m *memory.Memory) (memory.PutResult, error) {
	p, err := memory.PreparePut(m, s.o.now())
	if err != nil {
		return memory.PutResult{}, err
	}
	var res memory.PutResult
	err = s.write(ctx, "put", func(ctx context.Context, tx *sql.Tx) error {
		res, err = putTx(ctx, tx, &p)
		return err
	})
	if err != nil {
		return memory.PutResult{}, err
	}
	if !res.Duplicate {
		*m = p
	}
	return res, nil
}

// putTx inserts one prepared memory inside a write transaction.
func putTx(ctx context.Context, tx *sql.Tx, p *memory.Memory) (memory.PutResult, error) {
	var existing string
	err := tx.QueryRowContext(ctx, `SELECT id FROM memories WHERE project = ? AND content_hash = ?`,
		p.Project, p.ContentHash).Scan(&existing)
	switch {
	case err == nil:
		// The same content again, naming versions it replaces: the
		// existing memory becomes their successor.
		if err := supersedeTx(ctx, tx, existing, slices.DeleteFunc(slices.Clone(p.Supersedes), func(x string) bool { return x == existing })); err != nil {
			return memory.PutResult{}, err
		}
		return memory.PutResult{ID: existing, Duplicate: true}, nil
	case !errors.Is(err, sql.ErrNoRows):
		return memory.PutResult{}, err
	}
	var hash string
	err = tx.QueryRowContext(ctx, `SELECT content_hash FROM memories WHERE id = ?`, p.ID).Scan(&hash)
	switch {
	case err == nil && hash == p.ContentHash:
		return memory.PutResult{ID: p.ID, Duplicate: true}, nil
	case err == nil:
		return memory.PutResult{}, fmt.Errorf("%w: id %s already exists with other content", memory.ErrInvalid, p.ID)
	case !errors.Is(err, sql.ErrNoRows):
		return memory.PutResult{}, err
	}
	if p.SupersededBy != "" {
		// A successor that is not stored (yet) hides nothing: an import
		// bringing it later marks this memory through its Supersedes.
		var one int
		switch err := tx.QueryRowContext(ctx, `SELECT 1 FROM memories WHERE id = ?`, p.SupersededBy).Scan(&one); {
		case errors.Is(err, sql.ErrNoRows):
			p.SupersededBy = ""
		case err != nil:
			return memory.PutResult{}, err
		}
	}
	tags, _ := json.Marshal(p.Tags)
	supersedes, _ := json.Marshal(p.Supersedes)
	if p.Supersedes == nil {
		supersedes = []byte("[]")
	}
	md, err := memory.MetadataJSON(p.Metadata)
	if err != nil {
		return memory.PutResult{}, err
	}
	var vec any // NULL when there is no vector
	if len(p.Vector) > 0 {
		vec = encodeVector(p.Vector)
	}
	// ON CONFLICT DO NOTHING backs the check above: even if it were ever
	// skipped, the UNIQUE constraint keeps exact duplicates out.
	r, err := tx.ExecContext(ctx, `
INSERT INTO memories (id, content, content_hash, project, tags, metadata, source, author,
	created_at, updated_at, accessed_at, vector, model, dims,
	supersedes, superseded_by, pinned, recall_count)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (project, content_hash) DO NOTHING`,
		p.ID, p.Content, p.ContentHash, p.Project, string(tags), string(md), string(p.Source), p.Author,
		p.CreatedAt.UnixMilli(), p.UpdatedAt.UnixMilli(), p.AccessedAt.UnixMilli(), vec, p.Model, p.Dims,
		string(supersedes), p.SupersededBy, p.Pinned, p.RecallCount)
	if err != nil {
		return memory.PutResult{}, err
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return memory.PutResult{}, fmt.Errorf("put %s: duplicate appeared inside the write transaction", p.ID)
	}
	if len(p.Tags) > 0 {
		if _, err := tx.ExecContext(ctx, `INSERT INTO memory_tags (tag, rid)
			SELECT json_each.value, memories.rid FROM json_each(?), memories WHERE memories.id = ?`,
			string(tags), p.ID); err != nil {
			return memory.PutResult{}, err
		}
	}
	if err := logChange(ctx, tx, p.ID, "put"); err != nil {
		return memory.PutResult{}, err
	}
	if err := supersedeTx(ctx, tx, p.ID, p.Supersedes); err != nil {
		return memory.PutResult{}, err
	}
	return memory.PutResult{ID: p.ID}, nil
}

// restoreTx makes the memories superseded by the deleted id current again,
// logging each so other processes' indexes show them.
func restoreTx(ctx context.Context, tx *sql.Tx, deleted string) error {
	rows, err := tx.QueryContext(ctx, `SELECT id FROM memories WHERE superseded_by = ?`, deleted)
	if err != nil {
		return err
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, id := range ids {
		if _, err := tx.ExecContext(ctx, `UPDATE memories SET superseded_by = '' WHERE id = ?`, id); err != nil {
			return err
		}
		if err := logChange(ctx, tx, id, "vector"); err != nil {
			return err
		}
	}
	return nil
}

// supersedeTx marks the memories of ids that exist as superseded by newID,
// logging each change so other processes' vector indexes hide them too.
func supersedeTx(ctx context.Context, tx *sql.Tx, newID string, ids []string) error {
	for _, id := range ids {
		r, err := tx.ExecContext(ctx, `UPDATE memories SET superseded_by = ? WHERE id = ?`, newID, id)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			continue
		}
		// 'vector': the row's index entry is read again (the change log's
		// CHECK allows no new op, and older processes must read it too).
		if err := logChange(ctx, tx, id, "vector"); err != nil {
			return err
		}
	}
	return nil
}

// encodeVector stores a vector as little-endian float32s.
func encodeVector(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func decodeVector(b []byte) ([]float32, error) {
	if len(b)%4 != 0 {
		return nil, fmt.Errorf("stored vector has %d bytes, not a multiple of 4", len(b))
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v, nil
}

// Columns every memory read selects, in scanMemory's order.
const memoryCols = `id, content, content_hash, project, tags, metadata, source, author,
	created_at, updated_at, accessed_at, model, dims, supersedes, superseded_by, pinned, recall_count`

type scanner interface{ Scan(dest ...any) error }

// scanMemory reads memoryCols, plus the vector when withVector (it must then
// be the next column).
func scanMemory(sc scanner, withVector bool) (memory.Memory, error) {
	var (
		m                 memory.Memory
		tags, md, source  string
		created, upd, acc int64
		vec               []byte
		supersedes        string
	)
	dest := []any{&m.ID, &m.Content, &m.ContentHash, &m.Project, &tags, &md, &source, &m.Author,
		&created, &upd, &acc, &m.Model, &m.Dims, &supersedes, &m.SupersededBy, &m.Pinned, &m.RecallCount}
	if withVector {
		dest = append(dest, &vec)
	}
	if err := sc.Scan(dest...); err != nil {
		return m, err
	}
	m.Source = memory.Source(source)
	m.CreatedAt = memory.UnixMilliTime(created)
	m.UpdatedAt = memory.UnixMilliTime(upd)
	m.AccessedAt = memory.UnixMilliTime(acc)
	if err := json.Unmarshal([]byte(tags), &m.Tags); err != nil {
		return m, fmt.Errorf("memory %s: stored tags: %w", m.ID, err)
	}
	if m.Tags == nil {
		m.Tags = []string{}
	}
	if err := json.Unmarshal([]byte(md), &m.Metadata); err != nil {
		return m, fmt.Errorf("memory %s: stored metadata: %w", m.ID, err)
	}
	if m.Metadata == nil {
		m.Metadata = map[string]any{}
	}
	if err := json.Unmarshal([]byte(supersedes), &m.Supersedes); err != nil {
		return m, fmt.Errorf("memory %s: stored supersedes: %w", m.ID, err)
	}
	if len(m.Supersedes) == 0 {
		m.Supersedes = nil
	}
	if withVector && vec != nil {
		v, err := decodeVector(vec)
		if err != nil {
			return m, fmt.Errorf("memory %s: %w", m.ID, err)
		}
		m.Vector = v
	}
	return m, nil
}

// Get returns one memory with its vector.
func (s *Store) Get(ctx context.Context, id string) (memory.Memory, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+memoryCols+`, vector FROM memories WHERE id = ?`, id)
	m, err := scanMemory(row, true)
	if errors.Is(err, sql.ErrNoRows) {
		return m, fmt.Errorf("%w: %s", memory.ErrNotFound, id)
	}
	return m, err
}

// Delete removes memories and returns the ids that did not exist.
func (s *Store) Delete(ctx context.Context, ids []string) ([]string, error) {
	var missing []string
	err := s.write(ctx, "delete", func(ctx context.Context, tx *sql.Tx) error {
		missing = missing[:0]
		for _, id := range ids {
			r, err := tx.ExecContext(ctx, `DELETE FROM memories WHERE id = ?`, id)
			if err != nil {
				return err
			}
			if n, _ := r.RowsAffected(); n == 0 {
				missing = append(missing, id)
				continue
			}
			if err := logChange(ctx, tx, id, "delete"); err != nil {
				return err
			}
			// The versions it replaced are current again.
			if err := restoreTx(ctx, tx, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return missing, nil
}

// whereFilter appends SQL conditions (on alias m) and their arguments for f,
// which must be normalised.
func whereFilter(f memory.Filter, conds []string, args []any) ([]string, []any) {
	if len(f.Projects) > 0 {
		conds = append(conds, "m.project IN ("+placeholders(len(f.Projects))+")")
		for _, p := range f.Projects {
			args = append(args, p)
		}
	}
	if len(f.TagsAny) > 0 {
		conds = append(conds, "m.rid IN (SELECT rid FROM memory_tags WHERE tag IN ("+placeholders(len(f.TagsAny))+"))")
		for _, t := range f.TagsAny {
			args = append(args, t)
		}
	}
	if len(f.TagsAll) > 0 {
		conds = append(conds, "m.rid IN (SELECT rid FROM memory_tags WHERE tag IN ("+placeholders(len(f.TagsAll))+
			") GROUP BY rid HAVING COUNT(*) = ?)")
		for _, t := range f.TagsAll {
			args = append(args, t)
		}
		args = append(args, len(f.TagsAll))
	}
	if !f.Since.IsZero() {
		conds = append(conds, "m.created_at >= ?")
		args = append(args, f.Since.UnixMilli())
	}
	if !f.Until.IsZero() {
		conds = append(conds, "m.created_at < ?")
		args = append(args, f.Until.UnixMilli())
	}
	if !f.IncludeSuperseded {
		conds = append(conds, "m.superseded_by = ''")
	}
	if f.PinnedOnly {
		conds = append(conds, "m.pinned <> 0")
	}
	return conds, args
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
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
	conds, args := whereFilter(f, nil, nil)
	from := ` FROM memories m`
	if f.PinnedOnly {
		// The few pinned memories, from their partial index: every recall
		// lists them, and a project's index would scan all its memories.
		from = ` FROM memories m INDEXED BY memories_pinned`
	}
	q := `SELECT ` + prefixCols("m.") + `, m.vector` + from + where(conds) +
		` ORDER BY m.created_at DESC, m.id DESC`
	limit := o.Limit
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	q += ` LIMIT ? OFFSET ?`
	args = append(args, limit, o.Offset)
	return s.queryMemories(ctx, q, args...)
}

// queryMemories runs a query selecting memoryCols plus the vector and scans
// every row.
func (s *Store) queryMemories(ctx context.Context, q string, args ...any) ([]memory.Memory, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []memory.Memory
	for rows.Next() {
		m, err := scanMemory(rows, true)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

func prefixCols(prefix string) string {
	cols := strings.Split(memoryCols, ",")
	for i, c := range cols {
		cols[i] = prefix + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
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
	return s.write(ctx, "set vector", func(ctx context.Context, tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, `UPDATE memories SET vector = ?, model = ?, dims = ? WHERE id = ?`,
			encodeVector(v), model, len(v), id)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return fmt.Errorf("%w: %s", memory.ErrNotFound, id)
		}
		return logChange(ctx, tx, id, "vector")
	})
}

// NeedEmbedding lists memories with no vector or one from another model, in
// id order (oldest first), after afterID, at most limit (≤ 0: 100).
func (s *Store) NeedEmbedding(ctx context.Context, model, afterID string, limit int) ([]memory.Memory, error) {
	if limit <= 0 {
		limit = 100
	}
	return s.queryMemories(ctx, `SELECT `+memoryCols+`, vector FROM memories
		WHERE (vector IS NULL OR model <> ?) AND id > ? ORDER BY id LIMIT ?`, model, afterID, limit)
}

// Touch sets the last-accessed time of memories to now; unknown ids are
// ignored. It writes no change-log row: vectors are not affected.
func (s *Store) Touch(ctx context.Context, ids []string) error {
	if len(ids) == 0 || s.readOnly != "" {
		return nil // best effort: a read-only store records no uses
	}
	now := s.o.now().UnixMilli()
	return s.write(ctx, "touch", func(ctx context.Context, tx *sql.Tx) error {
		return touchTx(ctx, tx, ids, now)
	})
}

func touchTx(ctx context.Context, tx *sql.Tx, ids []string, now int64) error {
	for start := 0; start < len(ids); start += 500 {
		batch := ids[start:min(start+500, len(ids))]
		args := []any{now}
		for _, id := range batch {
			args = append(args, id)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE memories SET accessed_at = max(accessed_at, ?),
			recall_count = recall_count + 1 WHERE id IN (`+
			placeholders(len(batch))+`)`, args...); err != nil {
			return err
		}
	}
	return nil
}

// CountUnembedded counts memories without a vector (empty model) and with
// another model's (memory.VectorCounter).
//
// It runs after every semantic recall (cached for seconds by the service),
// so it answers from this process's vector index, which the search has
// just brought up to date, and the row count FTS5 keeps: counting in SQL
// reads an index entry per memory.
func (s *Store) CountUnembedded(ctx context.Context, model string) (missing, other int, err error) {
	idx, err := s.index(ctx)
	if err != nil {
		return 0, 0, err
	}
	if st, ok, err := s.ftsStats(ctx); err == nil && ok {
		byModel := idx.CountByModel()
		vectors := 0
		for _, n := range byModel {
			vectors += n
		}
		if vectors <= int(st.rows) {
			return int(st.rows) - vectors, vectors - byModel[model], nil
		}
	}
	err = s.db.QueryRowContext(ctx, `SELECT COUNT(*) FILTER (WHERE model = ''), COUNT(*) FILTER (WHERE model <> '' AND model <> ?)
		FROM memories INDEXED BY memories_model`, model).Scan(&missing, &other)
	return missing, other, err
}

// SetPinned pins or unpins memories and returns the ids that do not exist.
// The change is logged so other processes' vector indexes see it.
func (s *Store) SetPinned(ctx context.Context, ids []string, pinned bool) ([]string, error) {
	var missing []string
	err := s.write(ctx, "pin", func(ctx context.Context, tx *sql.Tx) error {
		missing = missing[:0]
		for _, id := range ids {
			r, err := tx.ExecContext(ctx, `UPDATE memories SET pinned = ? WHERE id = ?`, pinned, id)
			if err != nil {
				return err
			}
			if n, _ := r.RowsAffected(); n == 0 {
				missing = append(missing, id)
				continue
			}
			if err := logChange(ctx, tx, id, "vector"); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return missing, nil
}

// ErrBusy is TryTouch's answer when the write lock was not free in time.
var ErrBusy = errors.New("store busy")

// TryTouch is Touch for callers that would rather not record than wait:
// it waits at most wait for this process's other writes and for the write
// lock (a busy_timeout of wait on its own connection, one attempt), and
// returns an error wrapping ErrBusy when another writer holds it. Recording
// uses is best effort; a recall's process must not linger for it.
func (s *Store) TryTouch(ctx context.Context, ids []string, wait time.Duration) error {
	if len(ids) == 0 || s.readOnly != "" {
		return nil
	}
	wait = max(wait, time.Millisecond)
	select {
	case s.writeSem <- struct{}{}:
	case <-time.After(wait):
		return fmt.Errorf("%w: this process's other writes", ErrBusy)
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-s.writeSem }()
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.writeTimeout())
	defer cancel()
	c, err := s.db.Conn(wctx)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.ExecContext(wctx, fmt.Sprintf("PRAGMA busy_timeout = %d", wait.Milliseconds())); err != nil {
		return err
	}
	defer func() {
		// Back to the store's busy timeout before the connection returns
		// to the pool; if that fails, the pool must not reuse it.
		if _, err := c.ExecContext(wctx, fmt.Sprintf("PRAGMA busy_timeout = %d", s.o.busyTimeout.Milliseconds())); err != nil {
			_ = c.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	tx, err := c.BeginTx(wctx, nil) // BEGIN IMMEDIATE
	if err != nil {
		if isBusy(err) {
			return fmt.Errorf("%w: %v", ErrBusy, err)
		}
		return err
	}
	if err := touchTx(wctx, tx, ids, s.o.now().UnixMilli()); err != nil {
		tx.Rollback()
		if isBusy(err) {
			return fmt.Errorf("%w: %v", ErrBusy, err)
		}
		return err
	}
	if err := tx.Commit(); err != nil {
		if isBusy(err) {
			return fmt.Errorf("%w: %v", ErrBusy, err)
		}
		return err
	}
	return nil
}

// Stats counts memories per project and per model and reports the file size
// (database plus WAL) and schema version.
func (s *Store) Stats(ctx context.Context) (memory.Stats, error) {
	st := memory.Stats{ByProject: map[string]int{}, ByModel: map[string]int{}, Path: s.path}
	var err error
	count := func(q string, into map[string]int) error {
		rows, err := s.db.QueryContext(ctx, q)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k string
			var n int
			if err := rows.Scan(&k, &n); err != nil {
				return err
			}
			into[k] = n
		}
		return rows.Err()
	}
	if err := count(`SELECT project, COUNT(*) FROM memories GROUP BY project`, st.ByProject); err != nil {
		return st, err
	}
	if err := count(`SELECT CASE WHEN vector IS NULL THEN '' ELSE model END, COUNT(*) FROM memories GROUP BY 1`, st.ByModel); err != nil {
		return st, err
	}
	if st.DimsByModel, err = dimsByModel(ctx, s.db); err != nil {
		return st, err
	}
	for _, n := range st.ByProject {
		st.Total += n
	}
	if err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&st.SchemaVers); err != nil {
		return st, err
	}
	for _, suffix := range []string{"", "-wal"} {
		if fi, err := os.Stat(s.path + suffix); err == nil {
			st.SizeBytes += fi.Size()
		}
	}
	return st, nil
}

// dimsByModel counts stored vectors by model and size (Stats.DimsByModel).
func dimsByModel(ctx context.Context, db *sql.DB) (map[string]map[int]int, error) {
	out := map[string]map[int]int{}
	rows, err := db.QueryContext(ctx, `SELECT model, dims, COUNT(*) FROM memories WHERE vector IS NOT NULL GROUP BY model, dims`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var model string
		var dims, n int
		if err := rows.Scan(&model, &dims, &n); err != nil {
			return nil, err
		}
		if out[model] == nil {
			out[model] = map[int]int{}
		}
		out[model][dims] = n
	}
	return out, rows.Err()
}

// BadVector is a stored vector that can never be compared: its bytes do not
// hold dims float32 values, or a value is not finite.
type BadVector struct {
	ID     string `json:"id"`
	Model  string `json:"model"`
	Reason string `json:"reason"`
}

// CheckVectors scans every stored vector and returns the bad ones (at most
// limit; ≤ 0 means all). Writes refuse such vectors, so they come from
// older versions, other tools or a damaged file; doctor reports them and
// reembed replaces them (memory.VectorChecker).
func (s *Store) CheckVectors(ctx context.Context, limit int) ([]BadVector, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, model, dims, vector FROM memories WHERE vector IS NOT NULL`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var bad []BadVector
	for rows.Next() {
		var id, model string
		var dims int
		var blob []byte
		if err := rows.Scan(&id, &model, &dims, &blob); err != nil {
			return bad, err
		}
		reason := ""
		if len(blob) != 4*dims {
			reason = fmt.Sprintf("%d bytes stored for %d dimensions", len(blob), dims)
		} else if v, err := decodeVector(blob); err != nil {
			reason = err.Error()
		} else {
			for i, x := range v {
				if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
					reason = fmt.Sprintf("value %d is %v", i, x)
					break
				}
			}
		}
		if reason != "" {
			bad = append(bad, BadVector{ID: id, Model: model, Reason: reason})
			if limit > 0 && len(bad) >= limit {
				break
			}
		}
	}
	return bad, rows.Err()
}

// BadVectorIDs lists the ids of the vectors CheckVectors finds
// (memory.VectorChecker).
func (s *Store) BadVectorIDs(ctx context.Context) ([]string, error) {
	bad, err := s.CheckVectors(ctx, 0)
	ids := make([]string, len(bad))
	for i, b := range bad {
		ids[i] = b.ID
	}
	return ids, err
}
