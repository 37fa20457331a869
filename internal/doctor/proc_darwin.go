//go:build darwin

package doctor

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// scanProcesses lists processes (not this one) whose executable is exe or
// whose name is mnemo, with their age: macOS has no /proc, so the process
// table comes from sysctl kern.proc.all and each command line from
// kern.procargs2 (readable for this user's processes only; others show
// their name).
func scanProcesses(exe string, now time.Time) []Process {
	kps, err := unix.SysctlKinfoProcSlice("kern.proc.all")
	if err != nil {
		return nil
	}
	self := os.Getpid()
	var out []Process
	for _, kp := range kps {
		pid := int(kp.Proc.P_pid)
		if pid <= 0 || pid == self {
			continue
		}
		comm := unix.ByteSliceToString(kp.Proc.P_comm[:])
		path, args := procArgs(pid)
		isMnemo := (exe != "" && path == exe) || comm == "mnemo" || filepath.Base(path) == "mnemo"
		if !isMnemo {
			continue
		}
		cmd := strings.Join(args, " ")
		if cmd == "" {
			cmd = comm
		}
		p := Process{PID: pid, Cmdline: cmd}
		if st := kp.Proc.P_starttime; st.Sec > 0 {
			p.Started = time.Unix(int64(st.Sec), int64(st.Usec)*1000)
			p.AgeSec = int64(now.Sub(p.Started).Seconds())
		}
		out = append(out, p)
	}
	return out
}

// procArgs reads kern.procargs2: argc (int32), the executable's path, NUL
// padding, then argc NUL-terminated arguments.
func procArgs(pid int) (string, []string) {
	raw, err := unix.SysctlRaw("kern.procargs2", pid)
	if err != nil || len(raw) < 4 {
		return "", nil
	}
	argc := int(binary.LittleEndian.Uint32(raw[:4]))
	rest := raw[4:]
	i := bytes.IndexByte(rest, 0)
	if i < 0 {
		return "", nil
	}
	path := string(rest[:i])
	rest = bytes.TrimLeft(rest[i:], "\x00")
	var args []string
	for len(args) < argc && len(rest) > 0 {
		j := bytes.IndexByte(rest, 0)
		if j < 0 {
			j = len(rest)
		}
		args = append(args, string(rest[:j]))
		rest = rest[min(j+1, len(rest)):]
	}
	return path, args
}
