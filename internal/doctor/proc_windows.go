//go:build windows

package doctor

import (
	"os"
	"path/filepath"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

// scanProcesses lists processes (not this one) whose image is exe or is
// named mnemo.exe, with their age, from a Toolhelp snapshot of the process
// table. Another process's command line is not readable without reading
// its memory, so Cmdline is the image path.
func scanProcesses(exe string, now time.Time) []Process {
	snap, err := windows.CreateToolhelp32Snapshot(windows.TH32CS_SNAPPROCESS, 0)
	if err != nil {
		return nil
	}
	defer windows.CloseHandle(snap)
	self := uint32(os.Getpid())
	var out []Process
	var pe windows.ProcessEntry32
	pe.Size = uint32(unsafe.Sizeof(pe))
	for err := windows.Process32First(snap, &pe); err == nil; err = windows.Process32Next(snap, &pe) {
		if pe.ProcessID == 0 || pe.ProcessID == self {
			continue
		}
		name := windows.UTF16ToString(pe.ExeFile[:])
		path, started := processImage(pe.ProcessID)
		isMnemo := strings.EqualFold(name, "mnemo.exe") || (exe != "" && path != "" && strings.EqualFold(filepath.Clean(path), filepath.Clean(exe)))
		if !isMnemo {
			continue
		}
		if path == "" {
			path = name
		}
		p := Process{PID: int(pe.ProcessID), Cmdline: path}
		if !started.IsZero() {
			p.Started = started
			p.AgeSec = int64(now.Sub(started).Seconds())
		}
		out = append(out, p)
	}
	return out
}

// processImage is a process's executable path and start time, when this
// user may query it.
func processImage(pid uint32) (string, time.Time) {
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, pid)
	if err != nil {
		return "", time.Time{}
	}
	defer windows.CloseHandle(h)
	buf := make([]uint16, windows.MAX_LONG_PATH)
	n := uint32(len(buf))
	path := ""
	if windows.QueryFullProcessImageName(h, 0, &buf[0], &n) == nil {
		path = windows.UTF16ToString(buf[:n])
	}
	var created, exited, kernel, user windows.Filetime
	var started time.Time
	if windows.GetProcessTimes(h, &created, &exited, &kernel, &user) == nil {
		started = time.Unix(0, created.Nanoseconds())
	}
	return path, started
}
