package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mnemo-mcp/mnemo/pkg/vecindex"
)

// reloadThreshold: when more ids than this changed since the last catch-up,
// reloading every vector is cheaper than fetching the changed rows one by one.
const reloadThreshold = 20000

// index returns this process's vector index, loading it (and the keyword
// index beside it, in a process that warmed its indexes: kwmem.go) on
// first use and otherwise catching up with commits made by any other
// connection (other processes and this process's own writes alike).
func (s *Store) index(ctx context.Context) (*vecindex.Index, error) {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	if s.watch == nil {
		c, err := s.db.Conn(ctx)
		if err != nil {
			return nil, err
		}
		s.watch = c
	}
	// Read data_version before the data: a commit landing in between makes
	// the next check differ, costing one harmless extra catch-up.
	var dv int64
	if err := s.watch.QueryRowContext(ctx, "PRAGMA data_version").Scan(&dv); err != nil {
		s.dropWatch()
		return nil, err
	}
	if s.loaded && dv == s.dataVersion {
		return s.idx, nil
	}
	var err error
	if !s.loaded {
		err = s.loadAll(ctx)
	} else {
		err = s.catchUp(ctx)
	}
	if err != nil {
		s.dropWatch()
		return nil, err
	}
	s.dataVersion = dv
	return s.idx, nil
}

// dropWatch forgets the dedicated connection after an error (its state is
// unknown); the next search opens a fresh one and reloads.
func (s *Store) dropWatch() {
	if s.watch != nil {
		s.watch.Close()
		s.watch = nil
	}
	s.loaded = false
}

// readTx starts a read (deferred, not IMMEDIATE) transaction on the watch
// connection, so everything it reads is one snapshot.
func (s *Store) readTx(ctx context.Context) (*sql.Tx, error) {
	return s.watch.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
}

func (s *Store) loadAll(ctx context.Context) error {
	start := time.Now()
	tx, err := s.readTx(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var seq int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM changes`).Scan(&seq); err != nil {
		return err
	}
	idx := vecindex.New()
	// Size the slabs up front (counted on the narrow model index), so a
	// 100k load does not copy growing slabs over and over.
	hints, err := tx.QueryContext(ctx, `SELECT model, COUNT(*) FROM memories WHERE model <> '' GROUP BY model`)
	if err != nil {
		return err
	}
	for hints.Next() {
		var model string
		var n int
		if err := hints.Scan(&model, &n); err != nil {
			hints.Close()
			return err
		}
		idx.SizeHint(model, n)
	}
	hints.Close()
	// The keyword index, in a process that keeps one, holds every memory,
	// those without a vector too; the vector index alone needs neither
	// those nor the text.
	var kw *keywordIndex
	q := `SELECT ` + indexCols + ` FROM memories`
	if s.wantKeywords {
		kw = newKeywordIndex()
	} else {
		q = `SELECT ` + strings.Replace(indexCols, ", content", ", ''", 1) + ` FROM memories WHERE vector IS NOT NULL`
	}
	rows, err := tx.QueryContext(ctx, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	l := newLoader(idx, kw)
	for rows.Next() {
		if err := l.add(rows, true); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	memories := 0
	if kw != nil {
		kw.Trim()
		memories = kw.Len()
	}
	s.idx, s.kw, s.lastSeq, s.loaded = idx, kw, seq, true
	s.o.log.Debug("indexes loaded", "vectors", idx.Len(), "keyword_index", kw != nil, "memories", memories, "took", time.Since(start))
	return nil
}

// indexCols are the columns loader.add reads.
const indexCols = `rid, id, project, created_at, tags, model, superseded_by <> '', pinned <> 0, vector, content`

// loader adds rows to the indexes, sharing one copy of each distinct
// project, model and tag list among all rows it reads: both indexes keep
// them as numbers (one copy per distinct value), so what sharing saves is
// a string and a decoding of the tags' JSON per row while loading.
type loader struct {
	idx      *vecindex.Index
	kw       *keywordIndex
	projects map[string]string // projects and models
	tags     map[string][]string
}

func newLoader(idx *vecindex.Index, kw *keywordIndex) *loader {
	return &loader{idx: idx, kw: kw, projects: map[string]string{}, tags: map[string][]string{}}
}

// add reads a row of indexCols into the indexes; a row without a vector
// removes the id from the vector index. raw scans the bytes without an
// extra copy (only for *sql.Rows, which keep them valid until Next).
func (l *loader) add(sc scanner, raw bool) error {
	var (
		m                            vecindex.Meta
		rid                          int64
		project, model               string
		tagsRaw, blobRaw, contentRaw sql.RawBytes
		tagsS, contentS              string
		blobB                        []byte
		err                          error
	)
	if raw {
		err = sc.Scan(&rid, &m.ID, &project, &m.Created, &tagsRaw, &model, &m.Superseded, &m.Pinned, &blobRaw, &contentRaw)
	} else {
		err = sc.Scan(&rid, &m.ID, &project, &m.Created, &tagsS, &model, &m.Superseded, &m.Pinned, &blobB, &contentS)
		tagsRaw, blobRaw, contentRaw = sql.RawBytes(tagsS), sql.RawBytes(blobB), sql.RawBytes(contentS)
	}
	if err != nil {
		return err
	}
	if blobRaw != nil && len(blobRaw)%4 != 0 {
		return fmt.Errorf("memory %s: stored vector has %d bytes, not a multiple of 4", m.ID, len(blobRaw))
	}
	if p, ok := l.projects[project]; ok {
		m.Project = p
	} else {
		l.projects[project], m.Project = project, project
	}
	if p, ok := l.projects[model]; ok { // few models: one copy each (the index keeps one per vector)
		model = p
	} else {
		l.projects[model] = model
	}
	if t, ok := l.tags[string(tagsRaw)]; ok {
		m.Tags = t
	} else {
		if err := json.Unmarshal(tagsRaw, &m.Tags); err != nil {
			return fmt.Errorf("memory %s: stored tags: %w", m.ID, err)
		}
		l.tags[string(tagsRaw)] = m.Tags
	}
	if l.kw != nil {
		l.kw.upsert(&m, rid, string(contentRaw))
	}
	if blobRaw == nil {
		l.idx.Remove(m.ID)
		return nil
	}
	l.idx.UpsertLE(model, m, blobRaw)
	return nil
}

// catchUp applies the change log after lastSeq. Only each changed id's
// current row matters, read in the same snapshot as the log.
func (s *Store) catchUp(ctx context.Context) error {
	tx, err := s.readTx(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT seq, id FROM changes WHERE seq > ? ORDER BY seq`, s.lastSeq)
	if err != nil {
		return err
	}
	seq := s.lastSeq
	var ids []string
	seen := map[string]bool{}
	gap := false
	for rows.Next() {
		var id string
		prev := seq
		if err := rows.Scan(&seq, &id); err != nil {
			rows.Close()
			return err
		}
		if prev == s.lastSeq && seq != prev+1 {
			// The rows right after lastSeq were pruned (logChange):
			// this process fell too far behind to catch up by the log.
			gap = true
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if len(ids) == 0 {
		return nil // e.g. a Touch: nothing the index holds changed
	}
	if gap || len(ids) > reloadThreshold {
		tx.Rollback()
		return s.loadAll(ctx)
	}
	stmt, err := tx.PrepareContext(ctx, `SELECT `+indexCols+` FROM memories WHERE id = ?`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	l := newLoader(s.idx, s.kw)
	for _, id := range ids {
		err := l.add(stmt.QueryRowContext(ctx, id), false)
		if errors.Is(err, sql.ErrNoRows) {
			s.idx.Remove(id) // deleted
			if s.kw != nil {
				s.kw.Remove(id)
			}
			continue
		}
		if err != nil {
			return err
		}
	}
	s.lastSeq = seq
	return nil
}

// The change log is read only by processes catching up (catchUp reads the
// rows after the last sequence number it applied; loadAll and mnemo ui's
// watcher read its highest sequence number), so only its newest rows are
// needed. Every changeLogPruneEvery sequence numbers, the writer that takes
// the number deletes the rows more than changeLogKeep behind it, in the
// same transaction. A reader that finds a gap after its last sequence
// number (it fell further behind than that) reloads its index instead.
// The schema is unchanged, so older mnemo binaries still open the store;
// one that falls 10,000 changes behind (an idle server during a large
// import) does not see the gap and keeps a stale vector index until it
// restarts: nothing stored is lost, its semantic results lag.
const (
	changeLogKeep       = 10000
	changeLogPruneEvery = 1000
)

// logChange appends one change to the log, pruning old rows now and then.
func logChange(ctx context.Context, tx *sql.Tx, id, op string) error {
	r, err := tx.ExecContext(ctx, `INSERT INTO changes (id, op) VALUES (?, ?)`, id, op)
	if err != nil {
		return err
	}
	seq, err := r.LastInsertId()
	if err != nil {
		return err
	}
	if seq%changeLogPruneEvery == 0 && seq > changeLogKeep {
		if _, err := tx.ExecContext(ctx, `DELETE FROM changes WHERE seq <= ?`, seq-changeLogKeep); err != nil {
			return err
		}
	}
	return nil
}
