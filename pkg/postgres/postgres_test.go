package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mnemo-mcp/mnemo/pkg/memory"
	"github.com/mnemo-mcp/mnemo/pkg/memory/storetest"
)

// The tests need a server: MNEMO_TEST_POSTGRES=postgres://… (scripts/ci-postgres.sh
// starts one and prints the line to export). Without it they skip, except in
// CI (CI=true), where a missing server is a failure.

func testURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("MNEMO_TEST_POSTGRES")
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("MNEMO_TEST_POSTGRES is unset in CI: start one with `bash scripts/ci-postgres.sh && . .ci-pg/env`; failing, not skipping")
		}
		t.Skip("MNEMO_TEST_POSTGRES unset; start one with `bash scripts/ci-postgres.sh && . .ci-pg/env` to test against PostgreSQL")
	}
	return u
}

var extOnce sync.Once

// freshSchema creates an empty schema for one test and returns a URL whose
// search_path puts it first (public second, where the extensions live). The
// schema is dropped when the test ends.
func freshSchema(t testing.TB) string {
	t.Helper()
	base := testURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to MNEMO_TEST_POSTGRES: %v", err)
	}
	defer conn.Close(ctx)
	// Extensions go to public once, so no test schema owns (and drops) them.
	var extErr error
	extOnce.Do(func() {
		_, extErr = conn.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS vector SCHEMA public;
			CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public`)
	})
	if extErr != nil {
		t.Fatalf("create extensions: %v", extErr)
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "mnemo_test_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return withParam(t, base, "search_path", schema+",public")
}

func withParam(t testing.TB, raw, k, v string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("MNEMO_TEST_POSTGRES must be a URL: %v", err)
	}
	q := u.Query()
	q.Set(k, v)
	u.RawQuery = q.Encode()
	return u.String()
}

func openURL(t testing.TB, u string, opts ...Option) *Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := Open(ctx, u, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func openFresh(t testing.TB, opts ...Option) *Store {
	return openURL(t, freshSchema(t), opts...)
}

func tctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) memory.Store { return openFresh(t) })
}

// The exact-scan configuration must behave identically.
func TestConformanceExactSearch(t *testing.T) {
	storetest.Run(t, func(t *testing.T) memory.Store { return openFresh(t, WithExactSearch(true)) })
}

func TestIsURL(t *testing.T) {
	for s, want := range map[string]bool{
		"postgres://u:p@h/db":        true,
		"postgresql://h:5432/db":     true,
		"POSTGRES://h/db":            true,
		" postgres://h/db ":          true,
		"sqlite:/tmp/x.db":           false,
		"/home/me/.local/mnemo.db":   false,
		"host=localhost dbname=x":    false,
		"mysql://h/db":               false,
		"":                           false,
		"postgres:/missing-slashes":  false,
		"file:///tmp/postgres://x":   false,
		"postgresx://h/db":           false,
		"https://example.org/postgr": false,
	} {
		if got := IsURL(s); got != want {
			t.Errorf("IsURL(%q) = %v, want %v", s, got, want)
		}
	}
}

// Processes starting together against a fresh database apply each migration
// exactly once.
func TestConcurrentOpenMigratesOnce(t *testing.T) {
	u := freshSchema(t)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := Open(tctx(t), u)
			if err == nil {
				s.Close()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	s := openURL(t, u)
	var n, v int
	if err := s.Pool().QueryRow(tctx(t), `SELECT count(*), max(version) FROM schema_migrations`).Scan(&n, &v); err != nil {
		t.Fatal(err)
	}
	if n != SchemaVersion || v != SchemaVersion {
		t.Errorf("schema_migrations has %d rows, max %d; want %d", n, v, SchemaVersion)
	}
	if st, err := s.Stats(tctx(t)); err != nil || st.SchemaVers != SchemaVersion {
		t.Errorf("Stats schema version = %d (%v)", st.SchemaVers, err)
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	u := freshSchema(t)
	s := openURL(t, u)
	if _, err := s.Pool().Exec(tctx(t), `INSERT INTO schema_migrations (version) VALUES ($1)`, SchemaVersion+1); err != nil {
		t.Fatal(err)
	}
	_, err := Open(tctx(t), u)
	if err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("Open on a newer schema: %v, want an upgrade error", err)
	}
}

func TestAuthorFilled(t *testing.T) {
	s := openFresh(t)
	m := memory.Memory{Content: "who wrote this", Project: "p", Source: memory.SourceCLI}
	r, err := s.Put(tctx(t), &m)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := s.Get(tctx(t), r.ID)
	if want := defaultAuthor(); got.Author != want || m.Author != want || !strings.Contains(want, "@") {
		t.Errorf("Author = %q (m: %q), want %q (user@host)", got.Author, m.Author, want)
	}
	s2 := openURL(t, freshSchema(t), WithAuthor("ann@laptop"))
	m = memory.Memory{Content: "x", Project: "p", Source: memory.SourceCLI}
	r, _ = s2.Put(tctx(t), &m)
	if got, _ := s2.Get(tctx(t), r.ID); got.Author != "ann@laptop" {
		t.Errorf("WithAuthor: Author = %q", got.Author)
	}
	m = memory.Memory{Content: "y", Project: "p", Source: memory.SourceCLI, Author: "bob@desk"}
	r, _ = s2.Put(tctx(t), &m)
	if got, _ := s2.Get(tctx(t), r.ID); got.Author != "bob@desk" {
		t.Errorf("explicit Author = %q, want it kept", got.Author)
	}
}

func TestStatsPathHidesPassword(t *testing.T) {
	s := openFresh(t)
	st, err := s.Stats(tctx(t))
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(testURL(t))
	if pw, ok := u.User.Password(); ok && strings.Contains(st.Path, pw) {
		t.Errorf("Stats.Path %q shows the password", st.Path)
	}
	if !strings.HasPrefix(st.Path, "postgres://") || st.SizeBytes <= 0 {
		t.Errorf("Stats = %+v", st)
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := Open(tctx(t), "postgres://u:secret@127.0.0.1:1/x?connect_timeout=2"); err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("Open(unreachable) = %v, want an error without the password", err)
	}
	if _, err := Open(tctx(t), "postgres://u:secret@h:notaport/x"); err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("Open(bad url) = %v, want an error without the password", err)
	}
}

// explainSemantic returns the plan of a semantic search of model's dims-sized
// vectors, with sequential scans discouraged so that a usable index shows.
func explainSemantic(t *testing.T, s *Store, model string, dims int, conds []string, a args) string {
	t.Helper()
	vec := make([]float32, dims)
	vec[0] = 1
	var plan strings.Builder
	err := s.read(tctx(t), func(tx pgx.Tx) error {
		if _, err := tx.Exec(tctx(t), `SET LOCAL enable_seqscan = off`); err != nil {
			return err
		}
		q, qa := s.semanticSQL(vec, model, conds, a, 10)
		rows, err := tx.Query(tctx(t), "EXPLAIN "+q, qa...)
		if err != nil {
			return err
		}
		var line string
		_, err = pgx.ForEachRow(rows, []any{&line}, func() error { plan.WriteString(line + "\n"); return nil })
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return plan.String()
}

// Each (model, dims) pair gets its own partial HNSW index, and the semantic
// query is written so the planner can use it, with and without filters; the
// exact configuration never does.
func TestHNSWIndexPerModel(t *testing.T) {
	u := freshSchema(t)
	s := openURL(t, u)
	exact := openURL(t, u, WithExactSearch(true))
	model := "org/it's-a \"model\""
	for i, dims := range []int{8, 16} {
		m := memory.Memory{Content: fmt.Sprintf("m%d", i), Project: "p", Source: memory.SourceCLI,
			Vector: storetest.Vec(1, float64(i)), Model: model}
		if dims == 16 {
			m.Vector = append(m.Vector, make([]float32, 8)...)
		}
		if _, err := s.Put(tctx(t), &m); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	rows, _ := s.Pool().Query(tctx(t), `SELECT index_name FROM vector_indexes WHERE model = $1 ORDER BY dims`, model)
	var n string
	if _, err := pgx.ForEachRow(rows, []any{&n}, func() error { names = append(names, n); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(names) != 2 {
		t.Fatalf("vector_indexes = %q, want one index per dims", names)
	}
	for i, dims := range []int{8, 16} {
		plan := explainSemantic(t, s, model, dims, nil, nil)
		if !strings.Contains(plan, names[i]) {
			t.Errorf("dims %d: plan does not use %s:\n%s", dims, names[i], plan)
		}
		var a args
		conds := filterConds(memory.Filter{Projects: []string{"p"}, TagsAny: []string{"x"}}, &a)
		if plan := explainSemantic(t, s, model, dims, conds, a); !strings.Contains(plan, names[i]) {
			t.Errorf("dims %d with filters: plan does not use %s:\n%s", dims, names[i], plan)
		}
		if plan := explainSemantic(t, exact, model, dims, nil, nil); strings.Contains(plan, "hnsw") {
			t.Errorf("exact search uses an index:\n%s", plan)
		}
	}
	// Another process learns of the index from vector_indexes, not by
	// building it again.
	s2 := openURL(t, u)
	if err := s2.createIndex(tctx(t), model, 8); err != nil {
		t.Fatal(err)
	}
	var count int
	if err := s.Pool().QueryRow(tctx(t), `SELECT count(*) FROM pg_indexes WHERE indexname LIKE 'memories_hnsw_%'
		AND schemaname = current_schema()`).Scan(&count); err != nil || count != 2 {
		t.Errorf("HNSW indexes = %d (%v), want 2", count, err)
	}
}

// Racing processes create one index for a new (model, dims) pair.
func TestEnsureIndexRace(t *testing.T) {
	u := freshSchema(t)
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := Open(tctx(t), u)
			if err != nil {
				errs[i] = err
				return
			}
			defer s.Close()
			m := memory.Memory{Content: fmt.Sprintf("racer %d", i), Project: "p", Source: memory.SourceCLI,
				Vector: storetest.Vec(1, float64(i)), Model: "race/model"}
			_, errs[i] = s.Put(tctx(t), &m)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	s := openURL(t, u)
	var n int
	if err := s.Pool().QueryRow(tctx(t), `SELECT count(*) FROM vector_indexes`).Scan(&n); err != nil || n != 1 {
		t.Errorf("vector_indexes rows = %d (%v), want 1", n, err)
	}
}

// Vectors wider than HNSW takes are stored and searched exactly.
func TestWideVectorsSearchedExactly(t *testing.T) {
	s := openFresh(t)
	dims := MaxIndexedDims + 48
	var want string
	for i := range 3 {
		v := make([]float32, dims)
		v[0], v[i+1] = 1, float32(i)
		m := memory.Memory{Content: fmt.Sprintf("wide %d", i), Project: "p", Source: memory.SourceCLI, Vector: v, Model: "big"}
		r, err := s.Put(tctx(t), &m)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			want = r.ID
		}
	}
	q := make([]float32, dims)
	q[0] = 1
	hits, err := s.Search(tctx(t), memory.Query{Vector: q, Model: "big", Mode: memory.ModeSemantic, K: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 3 || hits[0].Memory.ID != want || hits[0].Similarity < 0.9999 {
		t.Errorf("wide search = %+v", hits)
	}
}

// Projects are shared by name between users, and a filter sees only the
// projects it names.
func TestProjectsSharedAcrossUsers(t *testing.T) {
	u := freshSchema(t)
	ann := openURL(t, u, WithAuthor("ann@a"))
	bob := openURL(t, u, WithAuthor("bob@b"))
	put := func(s *Store, content, project string) string {
		m := memory.Memory{Content: content, Project: project, Source: memory.SourceMCP, Vector: storetest.Vec(1), Model: "m"}
		r, err := s.Put(tctx(t), &m)
		if err != nil {
			t.Fatal(err)
		}
		return r.ID
	}
	a := put(ann, "deploy with make release", "shop")
	put(bob, "deploy secrets live in vault", "bank")
	// Bob writing the same content in the same project finds Ann's memory.
	m := memory.Memory{Content: "deploy with make release", Project: "shop", Source: memory.SourceMCP}
	if r, err := bob.Put(tctx(t), &m); err != nil || !r.Duplicate || r.ID != a {
		t.Errorf("bob's duplicate = %+v, %v; want Ann's %s", r, err, a)
	}
	for _, mode := range []memory.Mode{memory.ModeKeyword, memory.ModeSemantic, memory.ModeHybrid} {
		hits, err := bob.Search(tctx(t), memory.Query{Text: "deploy", Vector: storetest.Vec(1), Model: "m", Mode: mode,
			Filter: memory.Filter{Projects: []string{"shop"}}})
		if err != nil {
			t.Fatal(err)
		}
		if len(hits) != 1 || hits[0].Memory.ID != a || hits[0].Memory.Author != "ann@a" {
			t.Errorf("%s search of shop = %+v, want Ann's memory only", mode, hits)
		}
	}
}

// The HNSW ranking agrees with the exact one on a small random set (it is
// approximate, so this asks for high recall, not identity).
func TestHNSWRecallSmall(t *testing.T) {
	u := freshSchema(t)
	s := openURL(t, u)
	exact := openURL(t, u, WithExactSearch(true))
	const n, dims = 600, 32
	rng := newRand(1)
	batch := make([]memory.Memory, 0, n)
	for i := range n {
		batch = append(batch, memory.Memory{Content: fmt.Sprintf("random %d", i), Project: "p", Source: memory.SourceImport,
			Vector: rng.unitVector(dims), Model: "rand"})
	}
	for i := range batch {
		if _, err := s.Put(tctx(t), &batch[i]); err != nil {
			t.Fatal(err)
		}
	}
	var found, total int
	for range 20 {
		q := memory.Query{Vector: rng.unitVector(dims), Model: "rand", Mode: memory.ModeSemantic, K: 10}
		want, err := exact.Search(tctx(t), q)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.Search(tctx(t), q)
		if err != nil {
			t.Fatal(err)
		}
		found += overlap(want, got)
		total += len(want)
	}
	if recall := float64(found) / float64(total); recall < 0.9 {
		t.Errorf("recall@10 of HNSW vs exact = %.3f, want ≥ 0.9", recall)
	}
}

func overlap(want, got []memory.Hit) int {
	in := map[string]bool{}
	for _, h := range want {
		in[h.Memory.ID] = true
	}
	n := 0
	for _, h := range got {
		if in[h.Memory.ID] {
			n++
		}
	}
	return n
}

// A write whose context is already cancelled does not start.
func TestCancelledWriteDoesNotStart(t *testing.T) {
	s := openFresh(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	m := memory.Memory{Content: "never", Project: "p", Source: memory.SourceCLI}
	if _, err := s.Put(ctx, &m); !errors.Is(err, context.Canceled) {
		t.Errorf("Put with a cancelled context: %v", err)
	}
	if st, _ := s.Stats(tctx(t)); st.Total != 0 {
		t.Errorf("Total = %d after a cancelled put", st.Total)
	}
}

func TestPoolSize(t *testing.T) {
	u := freshSchema(t)
	if s := openURL(t, u); s.Pool().Config().MaxConns != DefaultMaxConns {
		t.Errorf("default MaxConns = %d", s.Pool().Config().MaxConns)
	}
	if s := openURL(t, u, WithMaxConns(2)); s.Pool().Config().MaxConns != 2 {
		t.Errorf("WithMaxConns(2): MaxConns = %d", s.Pool().Config().MaxConns)
	}
	if s := openURL(t, withParam(t, u, "pool_max_conns", "7")); s.Pool().Config().MaxConns != 7 {
		t.Errorf("pool_max_conns=7: MaxConns = %d", s.Pool().Config().MaxConns)
	}
}

// Text PostgreSQL cannot store is refused as invalid input, not a server error.
func TestNULRejected(t *testing.T) {
	s := openFresh(t)
	for name, m := range map[string]memory.Memory{
		"content":  {Content: "a\x00b"},
		"model":    {Content: "x", Vector: storetest.Vec(1), Model: "m\x00"},
		"author":   {Content: "y", Author: "a\x00"},
		"metadata": {Content: "z", Metadata: map[string]any{"k": []any{"v\x00"}}},
		"meta key": {Content: "w", Metadata: map[string]any{"k\x00": 1}},
	} {
		m.Project, m.Source = "p", memory.SourceCLI
		if _, err := s.Put(tctx(t), &m); !errors.Is(err, memory.ErrInvalid) {
			t.Errorf("%s with NUL: %v, want ErrInvalid", name, err)
		}
	}
	// A literal backslash-u0000 is ordinary text.
	m := memory.Memory{Content: `JSON escapes NUL as \u0000`, Project: "p", Source: memory.SourceCLI,
		Metadata: map[string]any{"example": `\u0000`}}
	if _, err := s.Put(tctx(t), &m); err != nil {
		t.Errorf("literal \\u0000: %v", err)
	}
}

// A role that may not create the index still writes and finds vectors
// (exactly, by a scan).
func TestWritesWithoutIndex(t *testing.T) {
	u := freshSchema(t)
	s := openURL(t, u)
	// Make index creation fail (as it would for a role that does not own
	// the table) by taking the index's name with a table.
	name := indexName("blocked/model", 8)
	if _, err := s.Pool().Exec(tctx(t), `CREATE TABLE `+name+` (x int)`); err != nil {
		t.Fatal(err)
	}
	m := memory.Memory{Content: "still stored", Project: "p", Source: memory.SourceCLI, Vector: storetest.Vec(1), Model: "blocked/model"}
	r, err := s.Put(tctx(t), &m)
	if err != nil {
		t.Fatalf("Put without an index: %v", err)
	}
	var n int
	if err := s.Pool().QueryRow(tctx(t), `SELECT count(*) FROM vector_indexes WHERE model = 'blocked/model'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("vector_indexes claims an index that could not be made (%d, %v)", n, err)
	}
	hits, err := s.Search(tctx(t), memory.Query{Vector: storetest.Vec(1), Model: "blocked/model", Mode: memory.ModeSemantic})
	if err != nil || len(hits) != 1 || hits[0].Memory.ID != r.ID {
		t.Errorf("search without an index: %+v, %v", hits, err)
	}
}
