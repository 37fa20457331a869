package postgres

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mnemo-mcp/mnemo/pkg/memory"
	"github.com/mnemo-mcp/mnemo/pkg/memory/storetest"
)

const (
	procWorkers  = 16
	procEach     = 40 // unique memories per process
	procShared   = 10 // contents every process writes (dedup races)
	helperEnvURL = "MNEMO_PG_HELPER_URL"
	helperEnvID  = "MNEMO_PG_HELPER_WORKER"
)

// TestSixteenProcesses runs 16 processes (this test binary re-executed as
// TestHelperProcess) that open the same fresh database at once — racing the
// migrations and the creation of the HNSW index — and write through it
// concurrently, some of them the same content. Nothing may be lost: every
// unique write is there, every shared content exactly once, and all the
// processes that wrote a shared content agree on its id.
func TestSixteenProcesses(t *testing.T) {
	u := freshSchema(t)
	var wg sync.WaitGroup
	outs := make([][]byte, procWorkers)
	errs := make([]error, procWorkers)
	for w := range procWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
			cmd.Env = append(os.Environ(), helperEnvURL+"="+u, helperEnvID+"="+strconv.Itoa(w))
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			outs[w], errs[w] = cmd.Output()
			if errs[w] != nil {
				errs[w] = fmt.Errorf("worker %d: %v\n%s", w, errs[w], stderr.String())
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}

	written := map[string]string{}  // id → content, from every process's report
	sharedID := map[string]string{} // shared content → the id every process must agree on
	for w, out := range outs {
		sc := bufio.NewScanner(bytes.NewReader(out))
		n := 0
		for sc.Scan() {
			kind, rest, ok := strings.Cut(sc.Text(), " ")
			if !ok || (kind != "PUT" && kind != "DUP") {
				continue // go test's own output
			}
			id, content, _ := strings.Cut(rest, " ")
			n++
			if strings.HasPrefix(content, "shared ") {
				if prev, ok := sharedID[content]; ok && prev != id {
					t.Errorf("worker %d: %q has id %s, another process got %s", w, content, id, prev)
				}
				sharedID[content] = id
			}
			if kind == "PUT" {
				if prev, ok := written[id]; ok {
					t.Errorf("id %s written twice (%q, %q)", id, prev, content)
				}
				written[id] = content
			}
		}
		if n != procEach+procShared {
			t.Errorf("worker %d reported %d writes, want %d", w, n, procEach+procShared)
		}
	}
	if want := procWorkers*procEach + procShared; len(written) != want {
		t.Errorf("processes wrote %d new memories, want %d", len(written), want)
	}

	s := openURL(t, u)
	all, err := s.List(tctx(t), memory.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]string{}
	for _, m := range all {
		stored[m.ID] = m.Content
	}
	if len(stored) != len(written) {
		t.Errorf("store holds %d memories, processes wrote %d", len(stored), len(written))
	}
	for id, content := range written {
		if stored[id] != content {
			t.Errorf("memory %s (%q) lost or changed: %q", id, content, stored[id])
		}
	}
	hits, err := s.Search(tctx(t), memory.Query{Vector: storetest.Vec(1), Model: "proc/model", Mode: memory.ModeSemantic, K: memory.MaxK})
	if err != nil || len(hits) != memory.MaxK {
		t.Errorf("semantic search after the run: %d hits, %v", len(hits), err)
	}
}

// TestHelperProcess is one writer of TestSixteenProcesses; it does nothing
// when run directly.
func TestHelperProcess(t *testing.T) {
	u := os.Getenv(helperEnvURL)
	if u == "" {
		t.Skip("helper process of TestSixteenProcesses")
	}
	w, _ := strconv.Atoi(os.Getenv(helperEnvID))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := Open(ctx, u, WithAuthor(fmt.Sprintf("worker%d@test", w)))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	put := func(content, project string, vec []float32) {
		m := memory.Memory{Content: content, Project: project, Source: memory.SourceHook, Vector: vec, Model: "proc/model"}
		r, err := s.Put(ctx, &m)
		if err != nil {
			t.Fatalf("put %q: %v", content, err)
		}
		kind := "PUT"
		if r.Duplicate {
			kind = "DUP"
		}
		fmt.Fprintf(out, "%s %s %s\n", kind, r.ID, content)
	}
	for i := range procEach {
		put(fmt.Sprintf("worker %d note %d", w, i), fmt.Sprintf("proj-%d", i%3), storetest.Vec(1, float64(w), float64(i)))
		if i%procShared == 0 {
			put(fmt.Sprintf("shared %d", i/procShared), "shared", storetest.Vec(1, float64(i)))
		}
		if i%8 == 0 {
			if _, err := s.Search(ctx, memory.Query{Text: "note", Vector: storetest.Vec(1, float64(w)), Model: "proc/model"}); err != nil {
				t.Fatalf("search: %v", err)
			}
		}
	}
	for i := procEach / procShared; i < procShared; i++ {
		put(fmt.Sprintf("shared %d", i), "shared", storetest.Vec(1, float64(i)))
	}
}
