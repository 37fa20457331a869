package project

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mnemo-mcp/mnemo/pkg/memory"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func realDir(t *testing.T) string {
	d, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestDetect(t *testing.T) {
	root := realDir(t)
	repo := filepath.Join(root, "repo")
	deep := filepath.Join(repo, "a", "b")
	plain := filepath.Join(root, "plain", "x")
	wt := filepath.Join(root, "worktree")
	for _, d := range []string{filepath.Join(repo, ".git"), deep, plain, wt} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// A worktree or submodule has a .git file, not a directory.
	if err := os.WriteFile(filepath.Join(wt, ".git"), []byte("gitdir: elsewhere\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		env  map[string]string
		cwd  string
		want string
	}{
		{"env wins", map[string]string{EnvProjectDir: plain}, deep, plain},
		{"env cleaned", map[string]string{EnvProjectDir: plain + "/../x/"}, deep, plain},
		{"env relative to cwd", map[string]string{EnvProjectDir: "a"}, repo, filepath.Join(repo, "a")},
		{"blank env ignored", map[string]string{EnvProjectDir: "  "}, deep, repo},
		{"git root of cwd", nil, deep, repo},
		{"git root is cwd", nil, repo, repo},
		{".git file", nil, wt, wt},
		{"no git: cwd", nil, plain, plain},
		{"nothing: global", nil, "", memory.GlobalProject},
	}
	for _, c := range cases {
		var env func(string) string
		if c.env != nil {
			env = envOf(c.env)
		}
		if got := Detect(env, c.cwd); got != c.want {
			t.Errorf("%s: Detect = %q, want %q", c.name, got, c.want)
		}
	}
}

func TestDetectResolvesSymlinks(t *testing.T) {
	root := realDir(t)
	target := filepath.Join(root, "target")
	link := filepath.Join(root, "link")
	os.MkdirAll(target, 0o755)
	if err := os.Symlink(target, link); err != nil {
		t.Skip("symlinks not supported:", err)
	}
	if got := Detect(nil, link); got != target {
		t.Errorf("Detect via symlink = %q, want %q", got, target)
	}
}

func TestNameAlwaysValid(t *testing.T) {
	long := "/" + strings.Repeat("very-long-directory-name/", 20) + "project"
	ctrl := "/tmp/odd\x01name"
	seen := map[string]bool{}
	for _, p := range []string{long, long + "2", ctrl, "/tmp/ok", "/tmp/" + strings.Repeat("é", 200)} {
		n := Name(p)
		if err := memory.ValidateProject(n); err != nil {
			t.Errorf("Name(%.30q…) = %q: %v", p, n, err)
		}
		if Name(p) != n {
			t.Errorf("Name(%.30q…) is not stable", p)
		}
		if seen[n] {
			t.Errorf("Name collision for %.30q…", p)
		}
		seen[n] = true
	}
	if n := Name(long); !strings.HasSuffix(strings.SplitN(n, "#", 2)[0], "project") {
		t.Errorf("shortened name %q lost the directory's own name", n)
	}
}
