//go:build unix

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mnemo-mcp/mnemo/internal/asuser"
)

// Issue 13 #6: with a store this user may read but not write, the reading
// commands (list, recall, export, stats, doctor) work, read-only, with a
// one-line note; the writing commands say why they cannot. Root ignores
// file modes, so as root the checks re-run as an unprivileged user who owns
// MNEMO_HOME but whose store file is 0444.
func TestReadOnlyStoreCommands(t *testing.T) {
	home := os.Getenv("MNEMO_HOME")
	if !asuser.IsChild() {
		home = cliEnv(t, filepath.Join(t.TempDir(), "no-model"))
		mustCLI(t, "", "remember", "the read-only store still answers questions", "--project", "global")
		if os.Geteuid() == 0 {
			out, err := asuser.Rerun(t, "TestReadOnlyStoreCommands", nil, home)
			if err != nil || !strings.Contains(out, "--- PASS") {
				t.Fatalf("as uid %d: %v\n%s", asuser.Nobody, err, out)
			}
			t.Log(out)
			return
		}
	}
	db := filepath.Join(home, "mnemo.db")
	if err := os.Chmod(db, 0o444); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(db, 0o600)

	note := "opened the store read-only"
	for _, args := range [][]string{
		{"list", "--all"},
		{"recall", "read-only store", "--mode", "keyword", "--all"},
		{"export", "--all"},
		{"stats"},
	} {
		r := mnemoCLI(t, "", args...)
		t.Logf("mnemo %s: exit %d: %s", args[0], r.code, r.stderr)
		if r.code != 0 || !strings.Contains(r.stdout, "read-only store still answers") && args[0] != "stats" {
			t.Errorf("mnemo %s on a read-only store: %s", strings.Join(args, " "), r)
		}
		if strings.Count(r.stderr, note) != 1 || strings.Count(strings.TrimSpace(r.stderr), "\n") > 1 {
			t.Errorf("mnemo %s: want one note line saying the store is read-only: %q", args[0], r.stderr)
		}
	}
	r := mnemoCLI(t, "", "doctor", "--skip-model", "--json")
	var rep struct {
		Store struct {
			ReadOnly  string `json:"read_only"`
			Integrity string `json:"integrity"`
			Total     int    `json:"total"`
		} `json:"store"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || rep.Store.ReadOnly == "" || rep.Store.Integrity != "ok" || rep.Store.Total != 1 {
		t.Errorf("doctor on a read-only store: %+v %v\n%s", rep, err, r)
	}
	for _, args := range [][]string{{"remember", "a new fact"}, {"forget", "01JD0000000000000000000000"}} {
		r := mnemoCLI(t, "", args...)
		t.Logf("mnemo %s: exit %d: %s", args[0], r.code, r.stderr)
		if r.code == 0 || !strings.Contains(r.stderr, "read-only") || !strings.Contains(r.stderr, "not writable by you") {
			t.Errorf("mnemo %s on a read-only store must say why it cannot write: %s", args[0], r)
		}
	}
}
