package doctor

import (
	"github.com/mnemo-mcp/mnemo/internal/testfs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// TestScanHelperProcess is the process TestScanProcessesFindsMnemo looks
// for: a copy of this test binary named mnemo, idling until killed.
func TestScanHelperProcess(t *testing.T) {
	if os.Getenv("MNEMO_DOCTOR_SCAN_HELPER") != "1" {
		t.Skip("helper process")
	}
	time.Sleep(time.Minute)
}

// The process scan (/proc on Linux, sysctl on macOS, Toolhelp on Windows)
// finds a running mnemo by its name, with its start time.
func TestScanProcessesFindsMnemo(t *testing.T) {
	switch runtime.GOOS {
	case "linux", "darwin", "windows":
	default:
		t.Skip("no process scan on " + runtime.GOOS)
	}
	name := "mnemo"
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	bin := filepath.Join(t.TempDir(), name)
	testfs.CopyExecutable(t, os.Args[0], bin)
	cmd := exec.Command(bin, "-test.run=^TestScanHelperProcess$")
	cmd.Env = append(os.Environ(), "MNEMO_DOCTOR_SCAN_HELPER=1")
	before := time.Now().Add(-2 * time.Second)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	var found *Process
	for i := 0; i < 100 && found == nil; i++ {
		for _, p := range scanProcesses("", time.Now()) {
			if p.PID == cmd.Process.Pid {
				found = &p
				break
			}
		}
		if found == nil {
			time.Sleep(50 * time.Millisecond)
		}
	}
	if found == nil {
		t.Fatalf("scanProcesses did not find %s (pid %d)", bin, cmd.Process.Pid)
	}
	if found.Cmdline == "" {
		t.Errorf("no command line: %+v", found)
	}
	if found.Started.Before(before) || found.Started.After(time.Now().Add(2*time.Second)) {
		t.Errorf("start time %v, want about now", found.Started)
	}
	for _, p := range scanProcesses("", time.Now()) {
		if p.PID == os.Getpid() {
			t.Errorf("the scan lists the calling process")
		}
	}
}
