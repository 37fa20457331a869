package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mnemo-mcp/mnemo/pkg/memory"
	"github.com/mnemo-mcp/mnemo/pkg/sqlite"
)

// Issue 13 #11: on a store with damaged pages (here: two pages of the
// memories table overwritten with garbage), `mnemo export` — what doctor
// advises — exports every readable memory, reports the rows it skipped, and
// succeeds, instead of stopping at the first bad page.
func TestExportSkipsDamagedPages(t *testing.T) {
	home := cliEnv(t, filepath.Join(t.TempDir(), "no-model"))
	db := filepath.Join(home, "mnemo.db")
	st, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	const total = 400
	filler := strings.Repeat("padding words so that a page holds only a few rows ", 6)
	for i := range total {
		m := &memory.Memory{Content: fmt.Sprintf("memory RM%04dX %s", i, filler), Project: memory.GlobalProject, Source: memory.SourceCLI}
		if _, err := st.Put(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Close(); err != nil { // the last connection checkpoints the WAL into the file
		t.Fatal(err)
	}
	b, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	const pageSize = 4096
	damage := func(marker string) {
		i := bytes.Index(b, []byte(marker))
		if i < 0 {
			t.Fatalf("marker %s not in the file (WAL not checkpointed?)", marker)
		}
		page := i / pageSize
		copy(b[page*pageSize:(page+1)*pageSize], bytes.Repeat([]byte{0xA5}, pageSize))
	}
	damage("RM0100X")
	damage("RM0300X")
	if err := os.WriteFile(db, b, 0o600); err != nil {
		t.Fatal(err)
	}

	out := filepath.Join(t.TempDir(), "backup.jsonl")
	r := mnemoCLI(t, "", "export", "--all", "--out", out)
	if r.code != 0 {
		t.Fatalf("export of a damaged store failed: %s", r)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Count(string(data), "\n")
	for _, want := range []string{"RM0000X", "RM0090X", "RM0200X", "RM0399X"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("readable memory %s missing from the export", want)
		}
	}
	for _, lost := range []string{"RM0100X", "RM0300X"} {
		if strings.Contains(string(data), lost) {
			t.Errorf("memory %s was on a destroyed page but is in the export?", lost)
		}
	}
	if lines >= total || lines < total-40 {
		t.Errorf("exported %d of %d memories; two damaged pages hold far fewer", lines, total)
	}
	if !strings.Contains(r.stderr, "skipped unreadable rows") || !strings.Contains(r.stderr, "damaged") {
		t.Errorf("export did not report what it skipped: %s", r)
	}
	t.Logf("exported %d of %d; stderr:\n%s", lines, total, r.stderr)
}
