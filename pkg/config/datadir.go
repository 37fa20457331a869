package config

import (
	"fmt"
	"os"
	"path/filepath"
)

// homes is where the data dir is when MNEMO_HOME is unset.
type homes struct {
	// Home is the data dir this process uses (before any move).
	Home string
	// Platform is the platform's data dir: $XDG_DATA_HOME/mnemo when
	// XDG_DATA_HOME is set (any system), else ~/Library/Application
	// Support/mnemo on macOS, %LOCALAPPDATA%\mnemo on Windows,
	// ~/.local/share/mnemo elsewhere.
	Platform string
	// Legacy is ~/.local/share/mnemo, where every mnemo before the platform
	// folders kept its store on every system; "" when it is Platform.
	Legacy string
	// MoveTo is Platform when the store is still in Legacy and Platform has
	// none: Home is then Legacy, and internal/app moves the store (package
	// storemove) before anything opens it.
	MoveTo string
}

// defaultHome works out the data dir when MNEMO_HOME is unset: the
// platform's folder, unless the store is still in the legacy folder and the
// platform's folder has none, in which case the legacy folder until the
// store is moved (HasStore says whether a folder holds a store).
func defaultHome(goos string, get func(string) string, userHome func() (string, error), hasStore func(string) bool) (homes, error) {
	h, herr := userHome()
	var platform string
	switch base := get("XDG_DATA_HOME"); {
	case base != "":
		platform = filepath.Join(base, "mnemo")
	case herr != nil || h == "":
		return homes{}, fmt.Errorf("cannot find a home directory for the data dir; set MNEMO_HOME: %v", herr)
	case goos == "darwin" || goos == "ios":
		platform = filepath.Join(h, "Library", "Application Support", "mnemo")
	case goos == "windows":
		base := get("LOCALAPPDATA")
		if base == "" {
			base = filepath.Join(h, "AppData", "Local")
		}
		platform = filepath.Join(base, "mnemo")
	default:
		platform = filepath.Join(h, ".local", "share", "mnemo")
	}
	r := homes{Home: platform, Platform: platform}
	if herr != nil || h == "" {
		return r, nil
	}
	legacy := filepath.Join(h, ".local", "share", "mnemo")
	if filepath.Clean(legacy) == filepath.Clean(platform) {
		return r, nil
	}
	r.Legacy = legacy
	if !hasStore(platform) && hasStore(legacy) {
		r.Home, r.MoveTo = legacy, platform
	}
	return r, nil
}

// HasStore reports whether the data dir dir holds a SQLite store (mnemo.db).
func HasStore(dir string) bool {
	st, err := os.Stat(filepath.Join(dir, "mnemo.db"))
	return err == nil && st.Mode().IsRegular()
}
