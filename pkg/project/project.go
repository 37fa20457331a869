// Package project decides which project a memory belongs to by default.
//
// The project name is the absolute, cleaned path of the project's root
// directory (symlinks resolved when possible), e.g. "/home/ann/src/mnemo".
// A path is stable across sessions, unique per checkout, and readable in
// listings. The root is, in order of preference:
//  1. $CLAUDE_PROJECT_DIR (set by Claude Code for hooks and MCP servers);
//  2. the nearest ancestor of the working directory that holds .git (a
//     directory, or a file as in worktrees and submodules), found by walking
//     up the tree, without running git;
//  3. the working directory itself.
package project

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/mnemo-mcp/mnemo/pkg/memory"
)

// EnvProjectDir is the variable Claude Code sets to the project root.
const EnvProjectDir = "CLAUDE_PROJECT_DIR"

// Detect returns the project name for a process with environment env (nil
// means no variables) and working directory cwd. It returns
// memory.GlobalProject only when neither gives a directory.
func Detect(env func(string) string, cwd string) string {
	if env != nil {
		if dir := strings.TrimSpace(env(EnvProjectDir)); dir != "" {
			if !filepath.IsAbs(dir) && cwd != "" {
				dir = filepath.Join(cwd, dir)
			}
			return Name(dir)
		}
	}
	if strings.TrimSpace(cwd) == "" {
		return memory.GlobalProject
	}
	if root, ok := GitRoot(cwd); ok {
		return Name(root)
	}
	return Name(cwd)
}

// GitRoot walks up from dir to the nearest directory that contains .git.
func GitRoot(dir string) (string, bool) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", false
	}
	for d := abs; ; {
		if _, err := os.Stat(filepath.Join(d, ".git")); err == nil {
			return d, true
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", false
		}
		d = parent
	}
}

// Name turns a directory into a valid project name: the absolute cleaned
// path, with symlinks resolved when the path exists. A path that is not a
// valid project name as it is (longer than memory.MaxProjectLen, or with
// control characters) is shortened to its tail plus a hash of the whole, so
// the name stays stable and distinct.
func Name(dir string) string {
	p := filepath.Clean(dir)
	if abs, err := filepath.Abs(p); err == nil {
		p = abs
	}
	if real, err := filepath.EvalSymlinks(p); err == nil {
		p = real
	}
	if memory.ValidateProject(p) == nil {
		return p
	}
	sum := sha256.Sum256([]byte(p))
	suffix := "#" + hex.EncodeToString(sum[:6])
	clean := strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '?'
		}
		return r
	}, p)
	keep := memory.MaxProjectLen - len(suffix) - len("…")
	if len(clean) > keep {
		tail := clean[len(clean)-keep:]
		for len(tail) > 0 && !utf8Start(tail[0]) { // do not split a UTF-8 sequence
			tail = tail[1:]
		}
		clean = "…" + tail
	}
	return clean + suffix
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }
