package storemove

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mnemo-mcp/mnemo/pkg/memory"
	"github.com/mnemo-mcp/mnemo/pkg/sqlite"
)

// makeStore creates a store with n memories in dir, plus a log and a
// spooled write, as a data dir of an earlier mnemo holds them.
func makeStore(t *testing.T, dir string, n int) {
	t.Helper()
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(dir, DBName))
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		m := memory.Memory{Content: fmt.Sprintf("memory number %d", i), Project: "p", Source: memory.SourceCLI}
		if _, err := s.Put(ctx, &m); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	must(t, os.MkdirAll(filepath.Join(dir, "logs"), 0o700))
	must(t, os.WriteFile(filepath.Join(dir, "logs", "mnemo.log"), []byte("{}\n"), 0o600))
	must(t, os.MkdirAll(filepath.Join(dir, "spool"), 0o700))
	must(t, os.WriteFile(filepath.Join(dir, "spool", "1.jsonl"), []byte("{}\n"), 0o600))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// count opens the store in dir as mnemo does and counts its memories.
func count(t *testing.T, dir string) int {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(dir, DBName))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ms, err := s.List(context.Background(), memory.ListOptions{Limit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	return len(ms)
}

func paths(t *testing.T) Options {
	root := t.TempDir()
	return Options{From: filepath.Join(root, "home", ".local", "share", "mnemo"), To: filepath.Join(root, "xdg", "mnemo")}
}

func exists(p string) bool { _, err := os.Lstat(p); return err == nil }

func TestSettleRenames(t *testing.T) {
	o := paths(t)
	makeStore(t, o.From, 25)
	r, err := Settle(context.Background(), o)
	if err != nil || r.Home != o.To || !r.Moved || r.Copied || r.Kept != "" {
		t.Fatalf("Settle: %+v, %v", r, err)
	}
	if exists(o.From) {
		t.Error("the old folder is still there")
	}
	if n := count(t, o.To); n != 25 {
		t.Errorf("%d memories after the move, want 25", n)
	}
	if !exists(filepath.Join(o.To, "spool", "1.jsonl")) {
		t.Error("the spooled write did not move")
	}
	// Once moved, nothing more happens.
	r, err = Settle(context.Background(), o)
	if err != nil || r.Home != o.To || r.Moved {
		t.Fatalf("second Settle: %+v, %v", r, err)
	}
}

// Copying (another file system), into a new folder and into one that exists
// without a store (a model cache, logs of commands that ran there).
func TestSettleCopies(t *testing.T) {
	for _, targetExists := range []bool{false, true} {
		t.Run(fmt.Sprint("target exists ", targetExists), func(t *testing.T) {
			TestForceCopy = true
			t.Cleanup(func() { TestForceCopy = false })
			o := paths(t)
			makeStore(t, o.From, 30)
			if targetExists {
				must(t, os.MkdirAll(filepath.Join(o.To, "logs"), 0o700))
				must(t, os.WriteFile(filepath.Join(o.To, "logs", "mnemo.log"), []byte("new\n"), 0o600))
				must(t, os.MkdirAll(filepath.Join(o.To, "cache"), 0o700))
			}
			r, err := Settle(context.Background(), o)
			if err != nil || r.Home != o.To || !r.Moved || !r.Copied || r.Leftover != "" {
				t.Fatalf("Settle: %+v, %v", r, err)
			}
			for _, p := range []string{o.From, TrashPath(o.From), stagePath(o.To)} {
				if exists(p) {
					t.Errorf("%s is still there", p)
				}
			}
			if n := count(t, o.To); n != 30 {
				t.Errorf("%d memories after the move, want 30", n)
			}
			if !exists(filepath.Join(o.To, "spool", "1.jsonl")) {
				t.Error("the spooled write did not move")
			}
			if targetExists {
				b, _ := os.ReadFile(filepath.Join(o.To, "logs", "mnemo.log"))
				if string(b) != "new\n" {
					t.Errorf("the target's log was replaced: %q", b)
				}
			}
		})
	}
}

// A store another process has open (here: another connection, as a running
// mnemo of any version holds one) does not move; it is used in place.
func TestSettleKeepsAStoreInUse(t *testing.T) {
	for _, copy := range []bool{false, true} {
		t.Run(fmt.Sprint("copy ", copy), func(t *testing.T) {
			TestForceCopy = copy
			t.Cleanup(func() { TestForceCopy = false })
			o := paths(t)
			makeStore(t, o.From, 3)
			s, err := sqlite.Open(context.Background(), filepath.Join(o.From, DBName))
			if err != nil {
				t.Fatal(err)
			}
			r, err := Settle(context.Background(), o)
			if err != nil || r.Home != o.From || r.Moved || r.Kept == "" {
				t.Fatalf("Settle with the store open: %+v, %v", r, err)
			}
			t.Logf("kept: %s", r.Kept)
			if why := InUse(o.From); why == "" {
				t.Error("InUse: the store is in use (this process holds the lock shared)")
			}
			r.Release()
			if why := InUse(o.From); why == "" {
				t.Error("InUse: another connection has the store open")
			}
			if exists(o.To) && HasStore(o.To) {
				t.Error("a store appeared in the target")
			}
			s.Close()
			r, err = Settle(context.Background(), o)
			if err != nil || r.Home != o.To || !r.Moved {
				t.Fatalf("Settle once the store is closed: %+v, %v", r, err)
			}
			if n := count(t, o.To); n != 3 {
				t.Errorf("%d memories, want 3", n)
			}
		})
	}
}

// A process using the store in place holds the lock shared; a move waits
// for none.
func TestSettleInPlaceHolderBlocksMove(t *testing.T) {
	o := paths(t)
	makeStore(t, o.From, 2)
	s, err := sqlite.Open(context.Background(), filepath.Join(o.From, DBName))
	if err != nil {
		t.Fatal(err)
	}
	first, err := Settle(context.Background(), o)
	s.Close()
	if err != nil || first.Home != o.From {
		t.Fatalf("first: %+v, %v", first, err)
	}
	// The store is closed now, but the first process still uses it.
	r, err := Settle(context.Background(), o)
	if err != nil || r.Home != o.From || r.Moved {
		t.Fatalf("second: %+v, %v", r, err)
	}
	r.Release()
	first.Release()
	r, err = Settle(context.Background(), o)
	if err != nil || r.Home != o.To || !r.Moved {
		t.Fatalf("third: %+v, %v", r, err)
	}
}

// Steps of the copy at which an interrupted move leaves the old folder to
// finish removing at the next start.
func TestSettleFinishesAfterInterruption(t *testing.T) {
	type kill struct{}
	for _, at := range []string{"probed", "copying", "copied", "synced", "verified", "noted", "merged", "committed", "trashed"} {
		t.Run(at, func(t *testing.T) {
			TestForceCopy = true
			TestStep = func(s string) {
				if s == at {
					panic(kill{})
				}
			}
			t.Cleanup(func() { TestForceCopy, TestStep = false, nil })
			o := paths(t)
			makeStore(t, o.From, 12)
			if at == "merged" {
				must(t, os.MkdirAll(o.To, 0o700))
			}
			func() {
				defer func() {
					if v := recover(); v != nil {
						if _, ok := v.(kill); !ok {
							panic(v)
						}
					}
				}()
				Settle(context.Background(), o)
				t.Fatalf("step %s never came", at)
			}()
			TestStep = nil
			// (The panic ran the deferred closes, as a dead process's
			// locks go with it. Real processes are killed in cmd/mnemo.)
			r, err := Settle(context.Background(), o)
			if err != nil || r.Home != o.To || r.Leftover != "" {
				t.Fatalf("Settle after the interruption: %+v, %v", r, err)
			}
			if n := count(t, o.To); n != 12 {
				t.Errorf("%d memories, want 12", n)
			}
			for _, p := range []string{o.From, TrashPath(o.From), stagePath(o.To)} {
				if exists(p) {
					t.Errorf("%s is still there", p)
				}
			}
		})
	}
}

// A copy that does not check out (here: damaged after it was written) is
// never put in place: the store stays where it is, whole.
func TestSettleRejectsABadCopy(t *testing.T) {
	for _, damage := range []string{"truncate", "drop rows"} {
		t.Run(damage, func(t *testing.T) {
			o := paths(t)
			makeStore(t, o.From, 40)
			TestForceCopy = true
			TestStep = func(s string) {
				if s != "synced" {
					return
				}
				db := filepath.Join(stagePath(o.To), DBName)
				switch damage {
				case "truncate":
					st, _ := os.Stat(db)
					must(t, os.Truncate(db, st.Size()/2))
				case "drop rows":
					s, err := sqlite.Open(context.Background(), db)
					must(t, err)
					_, err = s.DB().Exec("DELETE FROM memories WHERE rowid IN (SELECT rowid FROM memories LIMIT 1)")
					must(t, err)
					s.Close()
				}
			}
			t.Cleanup(func() { TestForceCopy, TestStep = false, nil })
			r, err := Settle(context.Background(), o)
			if err != nil || r.Home != o.From || r.Moved || !strings.Contains(r.Kept, "does not check out") {
				t.Fatalf("Settle: %+v, %v", r, err)
			}
			t.Log(r.Kept)
			r.Release()
			if HasStore(o.To) || exists(stagePath(o.To)) || exists(filepath.Join(o.From, NoteName)) {
				t.Error("a bad copy left something behind")
			}
			TestStep = nil
			if n := count(t, o.From); n != 40 {
				t.Errorf("%d memories in the old place, want 40", n)
			}
		})
	}
}

// A probe never creates a store where there is none.
func TestProbeCreatesNothing(t *testing.T) {
	p := filepath.Join(t.TempDir(), DBName)
	if _, err := openProbe(context.Background(), p); err == nil {
		t.Error("probe of a missing store: no error")
	}
	if exists(p) {
		t.Error("the probe created a store")
	}
}

// A write spooled in the old folder during the copy (a hook of an older
// mnemo found the store locked by the move) is not lost with the folder.
func TestSettleRescuesLateSpool(t *testing.T) {
	o := paths(t)
	makeStore(t, o.From, 5)
	TestForceCopy = true
	TestStep = func(s string) {
		if s == "verified" {
			must(t, os.WriteFile(filepath.Join(o.From, "spool", "2-late.jsonl"), []byte("{}\n"), 0o600))
		}
	}
	t.Cleanup(func() { TestForceCopy, TestStep = false, nil })
	r, err := Settle(context.Background(), o)
	if err != nil || !r.Moved || r.Leftover != "" {
		t.Fatalf("Settle: %+v, %v", r, err)
	}
	for _, f := range []string{"1.jsonl", "2-late.jsonl"} {
		if !exists(filepath.Join(o.To, "spool", f)) {
			t.Errorf("spool file %s did not reach the new place", f)
		}
	}
}

// A legacy folder that is a symbolic link (the user put the store elsewhere)
// is left as it is.
func TestSettleLeavesASymlink(t *testing.T) {
	o := paths(t)
	real := filepath.Join(filepath.Dir(o.To), "elsewhere")
	makeStore(t, real, 2)
	must(t, os.MkdirAll(filepath.Dir(o.From), 0o700))
	if err := os.Symlink(real, o.From); err != nil {
		t.Skipf("symlink: %v", err)
	}
	r, err := Settle(context.Background(), o)
	r.Release()
	if err != nil || r.Home != o.From || r.Moved || !strings.Contains(r.Kept, "symbolic link") {
		t.Fatalf("Settle: %+v, %v", r, err)
	}
	if HasStore(o.To) {
		t.Error("the store moved")
	}
	if why := InUse(o.From); !strings.Contains(why, "symbolic link") {
		t.Errorf("InUse: %q", why)
	}
}
