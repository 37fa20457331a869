package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mnemo-mcp/mnemo/internal/locktest"
	"github.com/mnemo-mcp/mnemo/pkg/memory"
	"github.com/mnemo-mcp/mnemo/pkg/memory/storetest"
)

func TestOpenCreatesPrivateFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "home")
	s, err := Open(context.Background(), filepath.Join(dir, "mnemo.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	m := memory.Memory{Content: "x", Project: "p", Source: memory.SourceCLI}
	if _, err := s.Put(context.Background(), &m); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]os.FileMode{dir: 0o700, s.Path(): 0o600, s.Path() + "-wal": 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s mode %v, want %v", path, got, want)
		}
	}
}

func TestPragmas(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	for pragma, want := range map[string]string{
		"journal_mode": "wal", "synchronous": "1", "foreign_keys": "1", "busy_timeout": "15000",
	} {
		// Ask several pooled connections: every one must be configured.
		conns := make([]*sql.Conn, 3)
		for i := range conns {
			c, err := s.DB().Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			conns[i] = c
			var got string
			if err := c.QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("conn %d: PRAGMA %s = %q, want %q", i, pragma, got, want)
			}
		}
		for _, c := range conns {
			c.Close()
		}
	}
	var v int
	s.DB().QueryRow("PRAGMA user_version").Scan(&v)
	if v != SchemaVersion {
		t.Errorf("user_version = %d, want %d", v, SchemaVersion)
	}
}

// TestWritesBeginImmediate proves the _txlock=immediate DSN option takes
// effect: a transaction the store begins holds the write lock before its
// first statement, so another connection cannot start a write.
func TestWritesBeginImmediate(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	tx, err := s.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	other, err := sql.Open("sqlite", "file:"+s.Path()+"?_pragma=busy_timeout(0)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	_, err = other.Exec("INSERT INTO changes (id, op) VALUES ('x', 'put')")
	if !isBusy(err) {
		t.Fatalf("write on another connection while a store transaction is open: err = %v, want SQLITE_BUSY", err)
	}
	tx.Rollback()
	if _, err := other.Exec("DELETE FROM changes WHERE id = 'x'"); err != nil {
		t.Fatalf("after rollback the lock should be free: %v", err)
	}
}

// TestWriteSurvivesCancelledContext: a context cancelled while the write
// waits for the lock (as shutdown does) must not abandon it.
func TestWriteSurvivesCancelledContext(t *testing.T) {
	s := openTemp(t)
	other, err := sql.Open("sqlite", "file:"+s.Path()+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	s.testHookWriteStarted = func() { close(started) }
	ctx, cancel := context.WithCancel(context.Background())
	m := memory.Memory{Content: "must survive shutdown", Project: "p", Source: memory.SourceMCP}
	done := make(chan error, 1)
	go func() {
		_, err := s.Put(ctx, &m)
		done <- err
	}()
	<-started
	cancel()
	time.Sleep(50 * time.Millisecond) // let the cancellation be noticed, if it were
	if _, err := conn.ExecContext(context.Background(), "COMMIT"); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Put after cancellation: %v", err)
	}
	s.testHookWriteStarted = nil
	if _, err := s.Get(context.Background(), m.ID); err != nil {
		t.Fatalf("written memory missing: %v", err)
	}
	// A context cancelled before the write starts stops it cleanly.
	m2 := memory.Memory{Content: "never written", Project: "p", Source: memory.SourceMCP}
	if _, err := s.Put(ctx, &m2); !errors.Is(err, context.Canceled) {
		t.Fatalf("Put with a cancelled context: %v, want context.Canceled", err)
	}
}

func TestReopenKeepsDataAndSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mnemo.db")
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	m := memory.Memory{Content: "persisted", Project: "p", Source: memory.SourceCLI, Vector: storetest.Vec(1), Model: "m"}
	if _, err := s.Put(ctx, &m); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	s, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.Get(ctx, m.ID)
	if err != nil || got.Content != "persisted" || len(got.Vector) != 8 {
		t.Fatalf("after reopen: %+v %v", got, err)
	}
	if err := s.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestNewerSchemaIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mnemo.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	s.DB().Exec("PRAGMA user_version = 99")
	s.Close()
	if _, err := Open(context.Background(), path); err == nil {
		t.Fatal("opened a store with a newer schema")
	}
}

func TestFTSQuery(t *testing.T) {
	for in, want := range map[string]string{
		"":             "",
		"  ,;  ":       "",
		"Deploy world": `"deploy" OR "world"`,
		`a"b AND c*`:   `"b" OR "c"`,             // stop words "a", "and" dropped
		"What is it?":  `"what" OR "is" OR "it"`, // only stop words: kept
		"What is a good recipe for homemade bread?": `"good" OR "recipe" OR "homemade" OR "bread"`,
		"naïve café naïve":                          `"naïve" OR "café"`,
		"col:val NEAR(x, y)":                        `"col" OR "val" OR "near" OR "x" OR "y"`,
		"don't stop-believing":                      `"don" OR "t" OR "stop" OR "believing"`,
	} {
		if got := FTSQuery(in); got != want {
			t.Errorf("FTSQuery(%q) = %s, want %s", in, got, want)
		}
	}
}

func FuzzFTSQuery(f *testing.F) {
	for _, s := range []string{"hello", `"`, "NEAR(a b)", "a:b", "^x*", "😀 ∑", "\x00"} {
		f.Add(s)
	}
	s, err := Open(context.Background(), filepath.Join(f.TempDir(), "fuzz.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	m := memory.Memory{Content: "hello world", Project: "p", Source: memory.SourceCLI}
	if _, err := s.Put(context.Background(), &m); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if _, err := s.Search(context.Background(), memory.Query{Text: text, Mode: memory.ModeKeyword}); err != nil {
			t.Fatalf("Search(%q): %v", text, err)
		}
	})
}

// TryTouch gives up quickly, with ErrBusy, while another connection holds
// the write lock, and records the use once it is free.
func TestTryTouchDoesNotWaitForLock(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "mnemo.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	m := memory.Memory{Content: "used", Project: "p", Source: memory.SourceCLI}
	if _, err := s.Put(ctx, &m); err != nil {
		t.Fatal(err)
	}
	release := locktest.Hold(t, path)
	if err := s.TryTouch(ctx, []string{m.ID}, 20*time.Millisecond); !errors.Is(err, ErrBusy) {
		t.Fatalf("TryTouch under a held lock: %v, want ErrBusy", err)
	}
	release()
	time.Sleep(2 * time.Millisecond)
	if err := s.TryTouch(ctx, []string{m.ID}, 20*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Get(ctx, m.ID)
	if !got.AccessedAt.After(m.AccessedAt) {
		t.Fatalf("accessed_at %v not after %v", got.AccessedAt, m.AccessedAt)
	}
	// The pooled connection got the store's busy timeout back.
	for range 3 {
		var ms int64
		if err := s.DB().QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&ms); err != nil || ms != DefaultBusyTimeout.Milliseconds() {
			t.Fatalf("busy_timeout %d %v", ms, err)
		}
	}
}
