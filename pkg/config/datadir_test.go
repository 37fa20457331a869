package config

import (
	"errors"
	"path/filepath"
	"testing"
)

// The data dir follows each system's convention for a new install, keeps an
// existing ~/.local/share/mnemo where it is, and XDG_DATA_HOME wins.
func TestDefaultHomePerPlatform(t *testing.T) {
	home := filepath.FromSlash("/u/ann")
	legacy := filepath.Join(home, ".local", "share", "mnemo")
	none := func(string) bool { return false }
	onlyLegacy := func(p string) bool { return p == legacy }
	userHome := func() (string, error) { return home, nil }
	cases := []struct {
		goos string
		env  map[string]string
		dirs func(string) bool
		want string
	}{
		{"linux", nil, none, legacy},
		{"darwin", nil, none, filepath.Join(home, "Library", "Application Support", "mnemo")},
		{"windows", map[string]string{"LOCALAPPDATA": filepath.FromSlash("/u/ann/AppData/Local")}, none, filepath.Join(home, "AppData", "Local", "mnemo")},
		{"windows", nil, none, filepath.Join(home, "AppData", "Local", "mnemo")},
		{"darwin", nil, onlyLegacy, legacy},
		{"windows", map[string]string{"LOCALAPPDATA": "/x"}, onlyLegacy, legacy},
		{"darwin", map[string]string{"XDG_DATA_HOME": "/xdg"}, onlyLegacy, filepath.Join("/xdg", "mnemo")},
		{"freebsd", nil, none, legacy},
	}
	for _, c := range cases {
		get := func(k string) string { return c.env[k] }
		got, err := defaultHome(c.goos, get, userHome, c.dirs)
		if err != nil || got != c.want {
			t.Errorf("%s %v: %q, %v; want %q", c.goos, c.env, got, err, c.want)
		}
	}
	_, err := defaultHome("linux", func(string) string { return "" }, func() (string, error) { return "", errors.New("no home") }, none)
	if err == nil {
		t.Error("no home directory and no MNEMO_HOME: want an error")
	}
}
