package postgres

import (
	"fmt"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/pgvector/pgvector-go"

	"github.com/mnemo-mcp/mnemo/pkg/memory"
	"github.com/mnemo-mcp/mnemo/pkg/memory/storetest"
)

// A database written by the mnemo before versions and pins (schema 1, built
// here by its released migration, never edited) opens with nothing lost or
// changed, and every memory is current, unpinned and unused.
func TestMigrationFromSchema1KeepsEverything(t *testing.T) {
	u := freshSchema(t)
	ctx := tctx(t)
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE TABLE schema_migrations (version integer PRIMARY KEY,
		applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, migrations[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES (1)`); err != nil {
		t.Fatal(err)
	}
	const rows = 3
	for i := range rows {
		content := fmt.Sprintf("note %d about migrations", i)
		at := memory.UnixMilliTime(int64(1_700_000_000_000 + i))
		if _, err := conn.Exec(ctx, `INSERT INTO memories (id, content, content_hash, project, tags, metadata, source, author,
			created_at, updated_at, accessed_at, embedding, model, dims) VALUES ($1, $2, $3, 'p', '{a}', '{"k":1}', 'cli', 'me@host', $4, $4, $4, $5, 'm', 8)`,
			memory.NewID(at), content, memory.ContentHash(content), at, pgvector.NewVector(storetest.Vec(1, 0.5))); err != nil {
			t.Fatal(err)
		}
	}
	dump := func() []string {
		rs, err := conn.Query(ctx, `SELECT id, content, content_hash, project, tags::text, metadata::text, source, author,
			created_at, updated_at, accessed_at, embedding::text, model, dims FROM memories ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		defer rs.Close()
		var out []string
		for rs.Next() {
			vals, err := rs.Values()
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprint(vals...))
		}
		return out
	}
	before := dump()

	s := openURL(t, u)
	if st, err := s.Stats(ctx); err != nil || st.SchemaVers != SchemaVersion || st.Total != rows {
		t.Fatalf("after migration: %+v, %v", st, err)
	}
	if after := dump(); !slices.Equal(before, after) {
		t.Errorf("stored columns changed by the migration:\nbefore %v\nafter  %v", before, after)
	}
	ms, err := s.List(ctx, memory.ListOptions{})
	if err != nil || len(ms) != rows {
		t.Fatalf("List: %d memories, %v", len(ms), err)
	}
	for _, m := range ms {
		if m.SupersededBy != "" || m.Supersedes != nil || m.Pinned || m.RecallCount != 0 || m.Dims != 8 || m.Author != "me@host" {
			t.Errorf("migrated memory: %+v", m)
		}
	}
	hits, err := s.Search(ctx, memory.Query{Text: "migrations", Vector: storetest.Vec(1, 0.5), Model: "m", K: 10})
	if err != nil || len(hits) != rows {
		t.Errorf("hybrid search after migration: %d hits, %v", len(hits), err)
	}
}
