package config

import (
	"fmt"
	"os"
	"path/filepath"
)

// defaultHome is the data dir when MNEMO_HOME is unset:
//
//   - $XDG_DATA_HOME/mnemo when XDG_DATA_HOME is set, on any system (an
//     explicit choice);
//   - ~/.local/share/mnemo when that folder exists: every mnemo before this
//     one kept its store there on every system, and a store is used where
//     it is, never moved behind the back of processes that may have it open
//     (MNEMO_HOME chooses another place);
//   - otherwise the system's convention: ~/Library/Application Support/mnemo
//     on macOS, %LOCALAPPDATA%\mnemo on Windows, ~/.local/share/mnemo (XDG's
//     default) elsewhere.
func defaultHome(goos string, get func(string) string, userHome func() (string, error), isDir func(string) bool) (string, error) {
	if base := get("XDG_DATA_HOME"); base != "" {
		return filepath.Join(base, "mnemo"), nil
	}
	h, err := userHome()
	if err != nil || h == "" {
		return "", fmt.Errorf("cannot find a home directory for the data dir; set MNEMO_HOME: %v", err)
	}
	legacy := filepath.Join(h, ".local", "share", "mnemo")
	if isDir(legacy) {
		return legacy, nil
	}
	switch goos {
	case "darwin", "ios":
		return filepath.Join(h, "Library", "Application Support", "mnemo"), nil
	case "windows":
		base := get("LOCALAPPDATA")
		if base == "" {
			base = filepath.Join(h, "AppData", "Local")
		}
		return filepath.Join(base, "mnemo"), nil
	}
	return legacy, nil
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
