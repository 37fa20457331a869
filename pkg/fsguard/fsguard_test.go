//go:build unix

package fsguard

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// asUID makes the checks compare owners with uid (so a test running as any
// user, root in CI included, sees its own files as another user's).
func asUID(t *testing.T, uid int) {
	t.Helper()
	old := currentUID
	currentUID = func() int { return uid }
	t.Cleanup(func() { currentUID = old })
}

func wantRefused(t *testing.T, err error, fragments ...string) {
	t.Helper()
	if !errors.Is(err, ErrUnsafe) {
		t.Fatalf("want a refusal (ErrUnsafe), got %v", err)
	}
	for _, f := range fragments {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("error %q does not mention %q", err, f)
		}
	}
}

func TestDirChecks(t *testing.T) {
	base := t.TempDir()
	own := filepath.Join(base, "own")
	if err := EnsureDir(own); err != nil {
		t.Fatalf("a fresh private dir: %v", err)
	}
	if st, _ := os.Stat(own); st.Mode().Perm() != 0o700 {
		t.Errorf("EnsureDir made mode %v, want 0700", st.Mode().Perm())
	}

	open := filepath.Join(base, "open")
	os.Mkdir(open, 0o700)
	os.Chmod(open, os.ModeSticky|0o777) // as /tmp: what the attacker of issue 13 pre-creates
	wantRefused(t, EnsureDir(open), open, "writable by others", "mode 1777", "chmod 700 "+open, "MNEMO_HOME")

	group := filepath.Join(base, "group")
	os.Mkdir(group, 0o700)
	os.Chmod(group, 0o770)
	wantRefused(t, CheckDir(group), "writable by its group")

	asUID(t, os.Getuid()+4242)
	wantRefused(t, CheckDir(own), own, "belongs to uid", "not to you", "chown")
}

func TestFileChecks(t *testing.T) {
	dir := t.TempDir()
	if err := CheckFile(filepath.Join(dir, "missing")); err != nil {
		t.Fatalf("a missing file is fine (mnemo creates it private): %v", err)
	}
	ok := filepath.Join(dir, "ok")
	os.WriteFile(ok, nil, 0o600)
	if err := CheckFile(ok); err != nil {
		t.Fatal(err)
	}
	shared := filepath.Join(dir, "shared.db")
	os.WriteFile(shared, nil, 0o600)
	os.Chmod(shared, 0o666)
	wantRefused(t, CheckFile(shared), shared, "writable by others", "chmod 600")

	link := filepath.Join(dir, "mnemo.log")
	os.Symlink(ok, link)
	wantRefused(t, CheckFile(link), link, "symlink")

	f, err := os.Open(ok)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := CheckOpened(f); err != nil {
		t.Fatal(err)
	}
	asUID(t, os.Getuid()+4242)
	wantRefused(t, CheckFile(ok), "belongs to uid")
	wantRefused(t, CheckOpened(f), "belongs to uid")
}

// TestOwnedByAnotherUser uses a real foreign owner where the test may
// create one (root, as in CI).
func TestOwnedByAnotherUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to chown")
	}
	dir := filepath.Join(t.TempDir(), "home")
	os.Mkdir(dir, 0o700)
	if err := os.Chown(dir, 4242, 4242); err != nil {
		t.Fatal(err)
	}
	wantRefused(t, EnsureDir(dir), dir, "belongs to uid 4242")
}
