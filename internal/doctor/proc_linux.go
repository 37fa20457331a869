//go:build linux

package doctor

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat start times: 100 on
// every Linux architecture Go supports (reading it needs sysconf, i.e. cgo).
const clockTicks = 100

// scanProcesses lists this user's processes (not this one) whose executable
// is exe or whose command line is `…/mnemo …`, with their age. Other users'
// mnemo processes use their own data dirs: none of doctor's business.
func scanProcesses(exe string, now time.Time) []Process {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	boot := bootTime()
	self, me := os.Getpid(), os.Geteuid()
	var out []Process
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		dir := filepath.Join("/proc", e.Name())
		if !ownedBy(dir, me) {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(dir, "cmdline"))
		if err != nil || len(raw) == 0 {
			continue
		}
		args := strings.Split(strings.TrimRight(string(raw), "\x00"), "\x00")
		target, _ := os.Readlink(filepath.Join(dir, "exe"))
		target = strings.TrimSuffix(target, " (deleted)")
		isMnemo := (exe != "" && target == exe) || filepath.Base(args[0]) == "mnemo" || filepath.Base(target) == "mnemo"
		if !isMnemo {
			continue
		}
		p := Process{PID: pid, Cmdline: strings.Join(args, " ")}
		if st := startTime(dir, boot); !st.IsZero() {
			p.Started = st
			p.AgeSec = int64(now.Sub(st).Seconds())
		}
		out = append(out, p)
	}
	return out
}

// ownedBy reports whether /proc/<pid> (dir) belongs to uid: the process's
// effective user.
func ownedBy(dir string, uid int) bool {
	fi, err := os.Stat(dir)
	if err != nil {
		return false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == uid
}

func bootTime() time.Time {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return time.Time{}
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			if s, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
				return time.Unix(s, 0)
			}
		}
	}
	return time.Time{}
}

// startTime reads field 22 (starttime, in clock ticks after boot) of
// /proc/<pid>/stat. The command name (field 2) may hold spaces, so fields
// are counted after its closing parenthesis.
func startTime(dir string, boot time.Time) time.Time {
	if boot.IsZero() {
		return time.Time{}
	}
	data, err := os.ReadFile(filepath.Join(dir, "stat"))
	if err != nil {
		return time.Time{}
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return time.Time{}
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state); starttime is field 22 → f[19].
	if len(f) < 20 {
		return time.Time{}
	}
	ticks, err := strconv.ParseInt(f[19], 10, 64)
	if err != nil {
		return time.Time{}
	}
	return boot.Add(time.Duration(ticks) * time.Second / clockTicks)
}
