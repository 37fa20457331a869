package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mnemo-mcp/mnemo/internal/app"
	"github.com/mnemo-mcp/mnemo/pkg/memory"
	"github.com/mnemo-mcp/mnemo/pkg/postgres"
	"github.com/mnemo-mcp/mnemo/pkg/sqlite"
)

// migratePGURL returns a URL of a fresh schema on MNEMO_TEST_POSTGRES
// (dropped after the test); it skips without a server, except in CI.
func migratePGURL(t *testing.T) string {
	t.Helper()
	base := os.Getenv("MNEMO_TEST_POSTGRES")
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("MNEMO_TEST_POSTGRES is unset in CI (scripts/ci-postgres.sh starts the server); failing, not skipping")
		}
		t.Skip("MNEMO_TEST_POSTGRES unset")
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	b := make([]byte, 6)
	rand.Read(b)
	schema := "mnemo_migrate_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS vector SCHEMA public;
		CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public; CREATE SCHEMA `+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(ctx, base)
		if err == nil {
			c.Exec(ctx, `DROP SCHEMA `+schema+` CASCADE`)
			c.Close(ctx)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema+",public")
	u.RawQuery = q.Encode()
	return u.String()
}

func migrateCLI(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(args, &runEnv{stdin: strings.NewReader(""), stdout: &out, stderr: &errb})
	return code, out.String(), errb.String()
}

func TestMigrateSQLiteToPostgres(t *testing.T) {
	pgURL := migratePGURL(t)
	t.Setenv("MNEMO_HOME", t.TempDir())
	t.Setenv("MNEMO_STORE", "")
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "local.db")
	src, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2025, 6, 1, 9, 0, 0, 0, time.UTC)
	const n = 230
	for i := range n {
		m := memory.Memory{
			Content:    fmt.Sprintf("memory number %d about topic %d", i, i%7),
			Project:    []string{"/src/shop", "/src/bank", memory.GlobalProject}[i%3],
			Tags:       []string{fmt.Sprintf("t%d", i%4)},
			Metadata:   map[string]any{"i": float64(i), "nested": map[string]any{"ok": true}},
			Source:     memory.SourceMCP,
			Author:     []string{"ann@laptop", ""}[i%2],
			CreatedAt:  base.Add(time.Duration(i) * time.Minute),
			UpdatedAt:  base.Add(time.Duration(i)*time.Minute + time.Second),
			AccessedAt: base.Add(time.Duration(i)*time.Minute + 2*time.Second),
		}
		switch i % 5 {
		case 0: // no vector yet
		case 1:
			m.Vector, m.Model = []float32{1, float32(i), 0, 0.5}, "old/model"
		default:
			v := make([]float32, 8)
			v[0], v[i%8] = 1, float32(i)/10
			m.Vector, m.Model = v, "new/model"
		}
		if _, err := src.Put(ctx, &m); err != nil {
			t.Fatal(err)
		}
	}
	want, err := src.List(ctx, memory.ListOptions{})
	if err != nil || len(want) != n {
		t.Fatalf("source has %d memories (%v)", len(want), err)
	}
	src.Close()

	migrate := func() app.MigrateResult {
		t.Helper()
		code, out, errOut := migrateCLI("migrate", "--from", "sqlite:"+path, "--to", pgURL, "--batch", "40", "--json")
		if code != 0 {
			t.Fatalf("migrate exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
		}
		if !strings.Contains(errOut, "migrate: ") {
			t.Errorf("no progress on stderr: %q", errOut)
		}
		var r app.MigrateResult
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("migrate --json output %q: %v", out, err)
		}
		if pw := migratePassword(pgURL); pw != "" && strings.Contains(out+errOut, pw) {
			t.Errorf("migrate output shows the password: %s", out)
		}
		return r
	}
	r := migrate()
	if r.Read != n || r.Copied != n || r.Present != 0 || r.Failed != 0 {
		t.Fatalf("first migrate = %+v, want %d copied", r, n)
	}

	dst, err := postgres.Open(ctx, pgURL)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	got, err := dst.List(ctx, memory.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("target has %d memories, want %d", len(got), n)
	}
	for i, w := range want {
		g := got[i]
		if w.Author == "" {
			if g.Author == "" {
				t.Errorf("%s: author not filled in", g.ID)
			}
			w.Author = g.Author // the target records who migrated it
		}
		if !migrateSameMemory(w, g) {
			t.Errorf("memory %d differs after migrate:\n src %+v\n dst %+v", i, w, g)
		}
	}
	st, _ := dst.Stats(ctx)
	if st.ByModel["new/model"] != n*3/5 || st.ByModel["old/model"] != n/5 || st.ByModel[""] != n/5 {
		t.Errorf("target ByModel = %v", st.ByModel)
	}

	// Again: nothing new, nothing duplicated.
	r = migrate()
	if r.Read != n || r.Copied != 0 || r.Present != n || r.Failed != 0 {
		t.Errorf("second migrate = %+v, want all %d present", r, n)
	}
	if st, _ := dst.Stats(ctx); st.Total != n {
		t.Errorf("after second migrate target has %d memories", st.Total)
	}
	// The migrated vectors are searchable under their model.
	q := make([]float32, 8)
	q[0] = 1
	hits, err := dst.Search(ctx, memory.Query{Vector: q, Model: "new/model", Mode: memory.ModeSemantic, K: 5})
	if err != nil || len(hits) != 5 {
		t.Errorf("semantic search on migrated memories: %d hits, %v", len(hits), err)
	}
}

func migratePassword(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return ""
	}
	p, _ := u.User.Password()
	return p
}

func migrateSameMemory(a, b memory.Memory) bool {
	if a.ID != b.ID || a.Content != b.Content || a.ContentHash != b.ContentHash || a.Project != b.Project ||
		a.Source != b.Source || a.Author != b.Author || a.Model != b.Model || a.Dims != b.Dims ||
		!a.CreatedAt.Equal(b.CreatedAt) || !a.UpdatedAt.Equal(b.UpdatedAt) || !a.AccessedAt.Equal(b.AccessedAt) ||
		!reflect.DeepEqual(a.Tags, b.Tags) || !reflect.DeepEqual(a.Metadata, b.Metadata) || len(a.Vector) != len(b.Vector) {
		return false
	}
	for i := range a.Vector {
		if math.Abs(float64(a.Vector[i]-b.Vector[i])) > 1e-7 {
			return false
		}
	}
	return true
}

func TestMigrateUsageErrors(t *testing.T) {
	t.Setenv("MNEMO_HOME", t.TempDir())
	t.Setenv("MNEMO_STORE", "")
	if code, _, errOut := migrateCLI("migrate"); code != 2 || !strings.Contains(errOut, "--to") {
		t.Errorf("migrate without --to: exit %d, %q", code, errOut)
	}
	if code, _, errOut := migrateCLI("migrate", "--to", "mysql://x/y", "--from", "sqlite:"+filepath.Join(t.TempDir(), "none.db")); code != 1 ||
		!strings.Contains(errOut, "no SQLite store") {
		t.Errorf("migrate from a missing file: exit %d, %q", code, errOut)
	}
	dir := t.TempDir()
	s, err := sqlite.Open(context.Background(), filepath.Join(dir, "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if code, _, errOut := migrateCLI("migrate", "--from", "sqlite:"+filepath.Join(dir, "a.db"), "--to", "mysql://x/y"); code != 1 ||
		!strings.Contains(errOut, "not a store") {
		t.Errorf("migrate to an unknown store: exit %d, %q", code, errOut)
	}
	if code, _, errOut := migrateCLI("migrate", "--from", "sqlite:"+filepath.Join(dir, "a.db"), "--to", "sqlite:"+filepath.Join(dir, "a.db")); code != 2 ||
		!strings.Contains(errOut, "same store") {
		t.Errorf("migrate onto itself: exit %d, %q", code, errOut)
	}
	if code, _, _ := migrateCLI("migrate", "--to", "postgres://h/db", "--batch", "0"); code != 2 {
		t.Errorf("--batch 0: exit %d, want 2", code)
	}
}
