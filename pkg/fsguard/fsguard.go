// Package fsguard checks that the files and folders mnemo keeps private
// (MNEMO_HOME, the store, the logs, the warm-socket folder run/) belong to
// the user running mnemo and cannot be written by anyone else. Another user
// who can write there, or who created them, could read every memory, swap
// the store, or point the log at a file of their choosing; mnemo refuses
// to use such a path and says how to fix it.
//
// The checks need Unix owners and permission bits; on other systems (Windows,
// whose ACLs Go does not expose) they pass.
package fsguard

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// currentUID is the uid paths must belong to; tests replace it.
var currentUID = os.Getuid

// ErrUnsafe is wrapped by every refusal.
var ErrUnsafe = errors.New("unsafe permissions")

// EnsureDir creates dir (and its parents) with mode 0700 when it is
// missing, then checks it like CheckDir.
func EnsureDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	return CheckDir(dir)
}

// CheckDir refuses a directory that another user owns or that group or
// others may write to. A symlink to a directory is followed (a home on
// another disk is common); the directory it leads to is checked.
func CheckDir(dir string) error {
	st, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return fmt.Errorf("%w: %s is not a directory", ErrUnsafe, dir)
	}
	return check(dir, st, "chmod 700")
}

// CheckFile refuses an existing file that is a symlink or a special file
// (device, pipe, socket), that another user owns, or that group or others
// may write to. A missing file is fine (mnemo creates it private), and so is
// a directory, which opening the file then reports in its own words.
func CheckFile(path string) error {
	st, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if st.IsDir() {
		return nil // not a place anyone can be tricked into writing: opening it fails with its own error
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%w: %s is a %s, not a regular file: another user may have planted it; "+
			"remove it (mnemo creates it again) or set MNEMO_HOME to a folder of your own", ErrUnsafe, path, kind(st.Mode()))
	}
	return check(path, st, "chmod 600")
}

// CheckOpened checks a file already opened (by a caller that opened it
// without following symlinks, see NoFollow) like CheckFile.
func CheckOpened(f *os.File) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%w: %s is a %s, not a regular file", ErrUnsafe, f.Name(), kind(st.Mode()))
	}
	return check(f.Name(), st, "chmod 600")
}

// check applies the owner and permission rules to st (the file at path);
// chmod is the command that fixes the permissions.
func check(path string, st fs.FileInfo, chmod string) error {
	if !enforced {
		return nil
	}
	me := currentUID()
	if uid, ok := ownerUID(st); ok && uid != me {
		return fmt.Errorf("%w: %s belongs to uid %d, not to you (uid %d): another user could read or replace your memories; "+
			"fix: chown %d %s (as root), or set MNEMO_HOME to a folder of your own", ErrUnsafe, path, uid, me, me, path)
	}
	if perm := st.Mode().Perm(); perm&0o022 != 0 {
		who := "others"
		if perm&0o002 == 0 {
			who = "its group"
		}
		return fmt.Errorf("%w: %s is writable by %s (mode %04o): they could read or replace your memories; "+
			"fix: %s %s, or set MNEMO_HOME to a folder of your own", ErrUnsafe, path, who, octal(st.Mode()), chmod, path)
	}
	return nil
}

// octal is a mode as chmod writes it, sticky/setuid/setgid bits included.
func octal(m fs.FileMode) uint32 {
	o := uint32(m.Perm())
	if m&fs.ModeSticky != 0 {
		o |= 0o1000
	}
	if m&fs.ModeSetgid != 0 {
		o |= 0o2000
	}
	if m&fs.ModeSetuid != 0 {
		o |= 0o4000
	}
	return o
}

func kind(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "symlink"
	case m.IsDir():
		return "directory"
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeDevice != 0:
		return "device"
	}
	return "special file"
}
