package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/mnemo-mcp/mnemo/pkg/memory"
)

var _ memory.Salvager = (*Store)(nil)

// salvageChunk is how many rowids Salvage reads per query while the table
// reads cleanly; a chunk that fails is read again row by row.
const salvageChunk = 256

// Salvage reads every memory row it can, by rowid, and reports the rowid
// ranges it could not read. A damaged page of the memories table fails any
// query that walks through it (SQLITE_CORRUPT, "database disk image is
// malformed"), which stops a normal listing at the first bad page; reading
// by rowid ranges, and row by row around a failure, reaches every row whose
// own page and path from the root are intact.
func (s *Store) Salvage(ctx context.Context, fn func(memory.Memory) error) ([]memory.SkippedRange, error) {
	maxRid, err := s.maxRowid(ctx)
	if err != nil {
		return nil, fmt.Errorf("find the extent of the memories table: %w", err)
	}
	var skipped []memory.SkippedRange
	skip := func(rid int64, err error) {
		msg := err.Error()
		if n := len(skipped); n > 0 && skipped[n-1].To == rid-1 && skipped[n-1].Error == msg {
			skipped[n-1].To = rid
			return
		}
		skipped = append(skipped, memory.SkippedRange{From: rid, To: rid, Error: msg})
	}
	q := `SELECT ` + memoryCols + `, vector FROM memories WHERE rid >= ? AND rid <= ? ORDER BY rid`
	for lo := int64(1); lo <= maxRid; lo += salvageChunk {
		if err := ctx.Err(); err != nil {
			return skipped, err
		}
		hi := min(lo+salvageChunk-1, maxRid)
		ms, err := s.queryMemories(ctx, q, lo, hi)
		if err == nil {
			for _, m := range ms {
				if err := fn(m); err != nil {
					return skipped, err
				}
			}
			continue
		}
		if ctx.Err() != nil {
			return skipped, ctx.Err()
		}
		// Something in this range is unreadable: row by row.
		for rid := lo; rid <= hi; rid++ {
			ms, err := s.queryMemories(ctx, q, rid, rid)
			if err != nil {
				if ctx.Err() != nil {
					return skipped, ctx.Err()
				}
				skip(rid, err)
				continue
			}
			for _, m := range ms {
				if err := fn(m); err != nil {
					return skipped, err
				}
			}
		}
	}
	return skipped, nil
}

// maxRowid is the largest rowid ever used in memories: MAX(rid) reads the
// table's rightmost pages; if those are damaged, the AUTOINCREMENT counter
// in sqlite_sequence (a separate table) still knows it.
func (s *Store) maxRowid(ctx context.Context) (int64, error) {
	var m sql.NullInt64
	err1 := s.db.QueryRowContext(ctx, `SELECT MAX(rid) FROM memories`).Scan(&m)
	var seq sql.NullInt64
	err2 := s.db.QueryRowContext(ctx, `SELECT seq FROM sqlite_sequence WHERE name = 'memories'`).Scan(&seq)
	if errors.Is(err2, sql.ErrNoRows) {
		err2 = nil
	}
	if err1 != nil && err2 != nil {
		return 0, errors.Join(err1, err2)
	}
	return max(m.Int64, seq.Int64), nil
}
