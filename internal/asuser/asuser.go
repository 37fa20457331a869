//go:build unix

// Package asuser lets a test check file-permission behaviour when the tests
// run as root (as in CI), where file modes are not enforced: it re-runs one
// test of the current test binary as an unprivileged user.
package asuser

import (
	"github.com/mnemo-mcp/mnemo/internal/testfs"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// Nobody is the uid and gid the test is re-run as.
const Nobody = 65534

// EnvChild is set in the environment of the re-run test.
const EnvChild = "MNEMO_TEST_ASUSER_CHILD"

// IsChild reports whether this process is a re-run started by Rerun.
func IsChild() bool { return os.Getenv(EnvChild) == "1" }

// Rerun runs the test named test (the whole name, anchored) of this test
// binary as uid/gid Nobody with env added, and returns its combined output.
// Every path in own is chowned (recursively) to Nobody and the folders
// leading to it are made traversable. It must be called as root.
func Rerun(t *testing.T, test string, env []string, own ...string) (string, error) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("asuser.Rerun needs root")
	}
	// The test binary lives in a private build folder: copy it somewhere
	// the other user can execute it.
	binDir, err := os.MkdirTemp("", "mnemo-asuser-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(binDir) })
	os.Chmod(binDir, 0o755)
	bin := filepath.Join(binDir, "test.bin")
	testfs.CopyExecutable(t, os.Args[0], bin)
	for _, p := range own {
		filepath.Walk(p, func(path string, _ os.FileInfo, err error) error {
			if err == nil {
				os.Lchown(path, Nobody, Nobody)
			}
			return nil
		})
		for d := filepath.Dir(p); d != "/" && d != "."; d = filepath.Dir(d) {
			if fi, err := os.Stat(d); err == nil && fi.Mode().Perm()&0o001 == 0 {
				os.Chmod(d, fi.Mode().Perm()|0o111)
			}
		}
	}
	cmd := exec.Command(bin, "-test.run=^"+test+"$", "-test.count=1", "-test.v")
	cmd.Env = append(append(os.Environ(), EnvChild+"=1", "HOME="+binDir), env...)
	cmd.Dir = binDir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: Nobody, Gid: Nobody}}
	out, err := cmd.CombinedOutput()
	return string(out), err
}
