//go:build linux

package doctor

import (
	"github.com/mnemo-mcp/mnemo/internal/testfs"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/mnemo-mcp/mnemo/internal/asuser"
)

// doctor counts this user's mnemo processes only: another user's `mnemo
// serve` works on that user's data dir.
func TestScanProcessesOnlyThisUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("starting a process as another user needs root (CI runs as root)")
	}
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep")
	}
	dir, err := os.MkdirTemp("", "mnemo-proc-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	fake := filepath.Join(dir, "mnemo") // a process whose command line is `…/mnemo 30`
	testfs.CopyExecutable(t, sleep, fake)

	start := func(other bool) int {
		cmd := exec.Command(fake, "30")
		if other {
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: asuser.Nobody, Gid: asuser.Nobody}}
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		return cmd.Process.Pid
	}
	mine, theirs := start(false), start(true)
	time.Sleep(50 * time.Millisecond) // exec done: /proc shows the new command line
	found := map[int]bool{}
	for _, p := range scanProcesses("", time.Now()) {
		found[p.PID] = true
	}
	if !found[mine] {
		t.Errorf("this user's mnemo process %d not found", mine)
	}
	if found[theirs] {
		t.Errorf("another user's mnemo process %d counted", theirs)
	}
}
