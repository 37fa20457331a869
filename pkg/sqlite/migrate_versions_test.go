package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/mnemo-mcp/mnemo/pkg/memory"
	"github.com/mnemo-mcp/mnemo/pkg/memory/storetest"
)

// A store written by the mnemo before versions and pins (schema 2, built
// here by its own released migrations, which are never edited) opens with
// nothing lost or changed: every memory reads back as it was written, is
// current, unpinned and unused, and is found as before.
func TestMigrationFromSchema2KeepsEverything(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "mnemo.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range migrations[:2] {
		if _, err := db.Exec(m); err != nil {
			t.Fatal(err)
		}
	}
	vec := encodeVector(storetest.Vec(1, 0.5))
	const rows = 3
	for i := range rows {
		id := memory.NewID(memory.UnixMilliTime(int64(1_700_000_000_000 + i)))
		if _, err := db.Exec(`INSERT INTO memories (id, content, content_hash, project, tags, metadata, source, author,
			created_at, updated_at, accessed_at, vector, model, dims) VALUES (?, ?, ?, 'p', '["a"]', '{"k":1}', 'cli', 'me@host', ?, ?, ?, ?, 'm', 8)`,
			id, fmt.Sprintf("note %d about migrations", i), memory.ContentHash(fmt.Sprintf("note %d about migrations", i)),
			1_700_000_000_000+i, 1_700_000_000_100+i, 1_700_000_000_200+i, vec); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`INSERT INTO memory_tags (tag, rid) SELECT 'a', rid FROM memories WHERE id = ?`, id); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec(`PRAGMA user_version = 2`); err != nil {
		t.Fatal(err)
	}
	before := dumpRows(t, db)
	db.Close()

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("open a schema-2 store: %v", err)
	}
	st, err := s.Stats(ctx)
	if err != nil || st.SchemaVers != SchemaVersion || st.Total != rows {
		t.Fatalf("after migration: %+v, %v", st, err)
	}
	after := dumpRows(t, s.db)
	if !slices.Equal(before, after) {
		t.Errorf("stored columns changed by the migration:\nbefore %v\nafter  %v", before, after)
	}
	ms, err := s.List(ctx, memory.ListOptions{})
	if err != nil || len(ms) != rows {
		t.Fatalf("List: %d memories, %v", len(ms), err)
	}
	for _, m := range ms {
		if m.SupersededBy != "" || m.Supersedes != nil || m.Pinned || m.RecallCount != 0 || m.Dims != 8 ||
			m.Author != "me@host" || !slices.Equal(m.Tags, []string{"a"}) || m.Metadata["k"] != float64(1) {
			t.Errorf("migrated memory: %+v", m)
		}
	}
	hits, err := s.Search(ctx, memory.Query{Text: "migrations", Vector: storetest.Vec(1, 0.5), Model: "m", K: 10,
		Filter: memory.Filter{Projects: []string{"p"}, TagsAny: []string{"a"}}})
	if err != nil || len(hits) != rows || hits[0].SemanticRank == 0 || hits[0].KeywordRank == 0 {
		t.Errorf("hybrid search after migration: %d hits, %v", len(hits), err)
	}
	s.Close()

	// An older mnemo refuses this store (user_version above what it knows:
	// TestNewerSchemaIsRefused; checked by hand against a build of the
	// previous release too).
	db, _ = sql.Open("sqlite", path)
	defer db.Close()
	var v int
	if err := db.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil || v != 3 {
		t.Fatalf("user_version = %d, %v", v, err)
	}
}

// dumpRows renders every column a schema-2 store has, for every memory.
func dumpRows(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query(`SELECT rid, id, content, content_hash, project, tags, metadata, source, author,
		created_at, updated_at, accessed_at, hex(vector), model, dims FROM memories ORDER BY rid`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		vals := make([]any, 15)
		ptrs := make([]any, 15)
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprint(vals...))
	}
	return out
}
