//go:build unix

package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEnsureHomeRefusesUnsafeHome is issue 13's attack: another user
// pre-creates MNEMO_HOME (mode 1777) with a 0666 mnemo.db and
// logs/mnemo.log as a symlink. Each of these is refused with an error that
// names the path and the fix.
func TestEnsureHomeRefusesUnsafeHome(t *testing.T) {
	fresh := func(t *testing.T) Config {
		c := Config{Home: filepath.Join(t.TempDir(), "mnemo")}
		if err := c.EnsureHome(); err != nil {
			t.Fatalf("a fresh home: %v", err)
		}
		return c
	}
	cases := []struct {
		name  string
		spoil func(c Config) string // returns the path the error must name
		want  []string
	}{
		{"world-writable home", func(c Config) string {
			os.Chmod(c.Home, os.ModeSticky|0o777)
			return c.Home
		}, []string{"writable by others", "chmod 700", "MNEMO_HOME"}},
		{"group-writable home", func(c Config) string {
			os.Chmod(c.Home, 0o770)
			return c.Home
		}, []string{"writable by its group", "chmod 700"}},
		{"world-writable store", func(c Config) string {
			os.WriteFile(c.DBPath(), nil, 0o600)
			os.Chmod(c.DBPath(), 0o666)
			return c.DBPath()
		}, []string{"writable by others", "chmod 600"}},
		{"world-writable log dir", func(c Config) string {
			os.Mkdir(filepath.Dir(c.LogPath()), 0o700)
			os.Chmod(filepath.Dir(c.LogPath()), 0o777)
			return filepath.Dir(c.LogPath())
		}, []string{"writable by others"}},
		{"log is a symlink", func(c Config) string {
			os.Mkdir(filepath.Dir(c.LogPath()), 0o700)
			os.Symlink(filepath.Join(t.TempDir(), "victim"), c.LogPath())
			return c.LogPath()
		}, []string{"symlink", "remove it"}},
		{"home of another user", func(c Config) string {
			if os.Geteuid() != 0 {
				t.Skip("needs root to chown (CI runs as root); pkg/fsguard covers it with an injected uid")
			}
			os.Chown(c.Home, 4242, 4242)
			return c.Home
		}, []string{"belongs to uid 4242", "chown"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := fresh(t)
			path := tc.spoil(c)
			err := c.EnsureHome()
			if err == nil {
				t.Fatalf("EnsureHome accepted it")
			}
			for _, w := range append(tc.want, path) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}
