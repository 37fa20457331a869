package config

import (
	"errors"
	"path/filepath"
	"testing"
)

// The data dir follows each system's convention; a store still in the
// legacy ~/.local/share/mnemo is used there until it moves (MoveTo) when the
// platform's folder has none; XDG_DATA_HOME wins.
func TestDefaultHomePerPlatform(t *testing.T) {
	home := filepath.FromSlash("/u/ann")
	legacy := filepath.Join(home, ".local", "share", "mnemo")
	mac := filepath.Join(home, "Library", "Application Support", "mnemo")
	win := filepath.Join(home, "AppData", "Local", "mnemo")
	xdg := filepath.Join(filepath.FromSlash("/xdg"), "mnemo")
	none := func(string) bool { return false }
	onlyLegacy := func(p string) bool { return p == legacy }
	both := func(p string) bool { return true }
	userHome := func() (string, error) { return home, nil }
	cases := []struct {
		goos string
		env  map[string]string
		has  func(string) bool
		want homes
	}{
		{"linux", nil, none, homes{Home: legacy, Platform: legacy}},
		{"linux", nil, onlyLegacy, homes{Home: legacy, Platform: legacy}},
		{"darwin", nil, none, homes{Home: mac, Platform: mac, Legacy: legacy}},
		{"windows", map[string]string{"LOCALAPPDATA": filepath.FromSlash("/u/ann/AppData/Local")}, none, homes{Home: win, Platform: win, Legacy: legacy}},
		{"windows", nil, none, homes{Home: win, Platform: win, Legacy: legacy}},
		{"darwin", nil, onlyLegacy, homes{Home: legacy, Platform: mac, Legacy: legacy, MoveTo: mac}},
		{"darwin", nil, both, homes{Home: mac, Platform: mac, Legacy: legacy}},
		{"windows", map[string]string{"LOCALAPPDATA": "/x"}, onlyLegacy, homes{Home: legacy, Platform: filepath.Join("/x", "mnemo"), Legacy: legacy, MoveTo: filepath.Join("/x", "mnemo")}},
		{"darwin", map[string]string{"XDG_DATA_HOME": "/xdg"}, none, homes{Home: xdg, Platform: xdg, Legacy: legacy}},
		{"linux", map[string]string{"XDG_DATA_HOME": "/xdg"}, onlyLegacy, homes{Home: legacy, Platform: xdg, Legacy: legacy, MoveTo: xdg}},
		{"linux", map[string]string{"XDG_DATA_HOME": filepath.Join(home, ".local", "share")}, onlyLegacy, homes{Home: legacy, Platform: legacy}},
		{"freebsd", nil, none, homes{Home: legacy, Platform: legacy}},
	}
	for _, c := range cases {
		get := func(k string) string { return c.env[k] }
		got, err := defaultHome(c.goos, get, userHome, c.has)
		if err != nil || got != c.want {
			t.Errorf("%s %v: %+v, %v; want %+v", c.goos, c.env, got, err, c.want)
		}
	}
	noHome := func() (string, error) { return "", errors.New("no home") }
	if _, err := defaultHome("linux", func(string) string { return "" }, noHome, none); err == nil {
		t.Error("no home directory and no MNEMO_HOME: want an error")
	}
	got, err := defaultHome("linux", func(k string) string { return map[string]string{"XDG_DATA_HOME": "/xdg"}[k] }, noHome, none)
	if err != nil || got != (homes{Home: xdg, Platform: xdg}) {
		t.Errorf("XDG_DATA_HOME without a home directory: %+v, %v", got, err)
	}
}
