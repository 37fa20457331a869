package sqlite

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mnemo-mcp/mnemo/pkg/memory"
	"github.com/mnemo-mcp/mnemo/pkg/memory/storetest"
)

// Tests in this file re-execute the test binary as separate processes
// (TestHelperProcess), because the store's promises are about processes
// sharing one file, not goroutines sharing one handle.

const helperEnv = "MNEMO_SQLITE_HELPER"

// helper starts the test binary as a helper process in mode with extra env.
func helper(t *testing.T, mode string, env ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), append([]string{helperEnv + "=" + mode}, env...)...)
	return cmd
}

// runHelper runs a helper to completion and returns its stdout lines.
func runHelper(t *testing.T, mode string, env ...string) []string {
	t.Helper()
	cmd := helper(t, mode, env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helper %s: %v\nstderr:\n%s", mode, err, stderr.String())
	}
	return strings.Fields(string(out))
}

// TestHelperProcess is not a test: it is the body of the helper processes.
func TestHelperProcess(t *testing.T) {
	mode := os.Getenv(helperEnv)
	if mode == "" {
		t.Skip("helper process body; runs only when re-executed by another test")
	}
	err := helperMain(mode)
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper error:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func helperMain(mode string) error {
	ctx := context.Background()
	path := os.Getenv("DB")
	switch mode {
	case "writer":
		// Say we are ready, wait at the barrier, then open and write.
		fmt.Println("ready")
		barrier := os.Getenv("BARRIER")
		for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(time.Millisecond) {
			if _, err := os.Stat(barrier); err == nil {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("barrier %s never appeared", barrier)
			}
		}
		w := os.Getenv("WORKER")
		// First race on a series of fresh files: each one is a fresh
		// chance for the WAL switch and the migration to collide.
		if dir := os.Getenv("STORM"); dir != "" {
			for i := range 8 {
				s, err := Open(ctx, filepath.Join(dir, fmt.Sprintf("storm%d.db", i)))
				if err != nil {
					return fmt.Errorf("storm file %d: %w", i, err)
				}
				m := memory.Memory{Content: "storm from " + w, Project: "/storm", Source: memory.SourceCLI}
				_, err = s.Put(ctx, &m)
				s.Close()
				if err != nil {
					return fmt.Errorf("storm file %d: %w", i, err)
				}
			}
		}
		s, err := Open(ctx, path)
		if err != nil {
			return err
		}
		defer s.Close()
		n, _ := strconv.Atoi(os.Getenv("N"))
		for i := range n {
			m := memory.Memory{
				Content: fmt.Sprintf("process %s wrote item %d", w, i), Project: "/proj/" + w,
				Source: memory.SourceCLI, Tags: []string{"w" + w},
				Vector: storetest.Vec(1, float64(i), float64(len(w))), Model: "m",
			}
			r, err := s.Put(ctx, &m)
			if err != nil {
				return fmt.Errorf("put %d: %w", i, err)
			}
			if r.Duplicate {
				return fmt.Errorf("put %d: unexpected duplicate", i)
			}
		}
		return nil
	case "killable":
		// Write until killed, printing each id once its transaction committed.
		s, err := Open(ctx, path)
		if err != nil {
			return err
		}
		run := os.Getenv("RUN")
		for i := 0; ; i++ {
			m := memory.Memory{
				Content: fmt.Sprintf("run %s item %d %s", run, i, strings.Repeat("padding ", i%50)),
				Project: "/proj/kill", Source: memory.SourceCLI, Tags: []string{"kill", "run" + run},
				Vector: storetest.Vec(1, float64(i%7), float64(i%11)), Model: "m",
			}
			r, err := s.Put(ctx, &m)
			if err != nil {
				return err
			}
			fmt.Println(r.ID)
		}
	case "put":
		s, err := Open(ctx, path)
		if err != nil {
			return err
		}
		defer s.Close()
		var xs []float64
		for _, f := range strings.Split(os.Getenv("VEC"), ",") {
			x, _ := strconv.ParseFloat(f, 64)
			xs = append(xs, x)
		}
		vec := storetest.Vec(xs...)
		m := memory.Memory{Content: os.Getenv("CONTENT"), Project: "/proj/a", Source: memory.SourceCLI, Vector: vec, Model: "m"}
		r, err := s.Put(ctx, &m)
		if err != nil {
			return err
		}
		fmt.Println(r.ID)
		return nil
	case "delete":
		s, err := Open(ctx, path)
		if err != nil {
			return err
		}
		defer s.Close()
		_, err = s.Delete(ctx, []string{os.Getenv("ID")})
		return err
	case "setvector":
		s, err := Open(ctx, path)
		if err != nil {
			return err
		}
		defer s.Close()
		return s.SetVector(ctx, os.Getenv("ID"), storetest.Vec(0, 0, 0, 1), "m")
	}
	return fmt.Errorf("unknown helper mode %q", mode)
}

func TestManyProcessesWriteAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 16 processes")
	}
	const procs, each = 16, 200
	for _, fresh := range []bool{true, false} {
		name := map[bool]string{true: "fresh file", false: "existing file"}[fresh]
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			// A fresh MNEMO_HOME: not even the directory exists yet.
			path := filepath.Join(dir, "home", "mnemo", "mnemo.db")
			pre := 0
			if !fresh {
				s, err := Open(context.Background(), path)
				if err != nil {
					t.Fatal(err)
				}
				m := memory.Memory{Content: "already here", Project: "/proj/pre", Source: memory.SourceCLI}
				if _, err := s.Put(context.Background(), &m); err != nil {
					t.Fatal(err)
				}
				s.Close()
				pre = 1
			}
			barrier := filepath.Join(dir, "go")
			cmds := make([]*exec.Cmd, procs)
			stderrs := make([]*strings.Builder, procs)
			for i := range cmds {
				env := []string{"DB=" + path, "BARRIER=" + barrier, "N=" + strconv.Itoa(each), "WORKER=" + strconv.Itoa(i)}
				if fresh {
					env = append(env, "STORM="+filepath.Join(dir, "storm"))
				}
				cmd := helper(t, "writer", env...)
				stderrs[i] = &strings.Builder{}
				cmd.Stderr = stderrs[i]
				out, err := cmd.StdoutPipe()
				if err != nil {
					t.Fatal(err)
				}
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				cmds[i] = cmd
				// Wait for "ready" so all processes are past start-up and
				// polling the barrier when it appears.
				line, err := bufio.NewReader(out).ReadString('\n')
				if err != nil || strings.TrimSpace(line) != "ready" {
					t.Fatalf("process %d did not get ready: %q %v\n%s", i, line, err, stderrs[i])
				}
				go io.Copy(io.Discard, out)
			}
			start := time.Now()
			if err := os.WriteFile(barrier, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			for i, cmd := range cmds {
				if err := cmd.Wait(); err != nil {
					t.Errorf("process %d: %v\n%s", i, err, stderrs[i])
				} else if s := stderrs[i].String(); s != "" {
					t.Errorf("process %d wrote to stderr:\n%s", i, s)
				}
			}
			if t.Failed() {
				return
			}
			took := time.Since(start)
			t.Logf("%d processes wrote %d memories (one transaction each) in %v: %.0f writes/s",
				procs, procs*each, took.Round(time.Millisecond), float64(procs*each)/took.Seconds())
			s, err := Open(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			ctx := context.Background()
			if err := s.IntegrityCheck(ctx); err != nil {
				t.Fatal(err)
			}
			st, err := s.Stats(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if st.Total != procs*each+pre {
				t.Fatalf("Total = %d, want %d", st.Total, procs*each+pre)
			}
			for i := range procs {
				if n := st.ByProject["/proj/"+strconv.Itoa(i)]; n != each {
					t.Errorf("process %d: %d rows, want %d", i, n, each)
				}
			}
			if fresh {
				for i := range 8 {
					checkStorm(t, filepath.Join(dir, "storm", fmt.Sprintf("storm%d.db", i)), procs)
				}
			}
			if st.SchemaVers != SchemaVersion {
				t.Errorf("schema version %d, want %d (migrated twice or not at all?)", st.SchemaVers, SchemaVersion)
			}
			var changes, fts int
			s.DB().QueryRow(`SELECT COUNT(*) FROM changes WHERE op = 'put'`).Scan(&changes)
			s.DB().QueryRow(`SELECT COUNT(*) FROM memories_fts WHERE memories_fts MATCH '"process"'`).Scan(&fts)
			if changes != procs*each+pre || fts != procs*each {
				t.Errorf("change log has %d puts, FTS matches %d; want %d and %d", changes, fts, procs*each+pre, procs*each)
			}
			idx, err := s.index(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if idx.Len() != procs*each {
				t.Errorf("vector index holds %d, want %d", idx.Len(), procs*each)
			}
		})
	}
}

// checkStorm checks one storm file: sound, migrated once, one row per process.
func checkStorm(t *testing.T, path string, procs int) {
	t.Helper()
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.IntegrityCheck(context.Background()); err != nil {
		t.Fatal(err)
	}
	st, err := s.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Total != procs || st.SchemaVers != SchemaVersion {
		t.Errorf("%s: %d rows (want %d), schema %d", filepath.Base(path), st.Total, procs, st.SchemaVers)
	}
}

func TestKilledWriterLosesNothingCommitted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mnemo.db")
	var committed []string
	for run := range 3 {
		cmd := helper(t, "killable", "DB="+path, "RUN="+strconv.Itoa(run))
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		for n := 100 + rand.IntN(100); n > 0 && sc.Scan(); n-- {
			committed = append(committed, sc.Text())
		}
		time.Sleep(time.Duration(rand.IntN(5)) * time.Millisecond) // land somewhere inside a write
		if err := cmd.Process.Kill(); err != nil {                 // SIGKILL on Unix
			t.Fatal(err)
		}
		// Keep the ids printed before the kill took effect: they committed too.
		for sc.Scan() {
			committed = append(committed, sc.Text())
		}
		err = cmd.Wait()
		if err == nil || strings.Contains(stderr.String(), "helper error") {
			t.Fatalf("run %d: writer was not killed mid-stream: %v\n%s", run, err, stderr.String())
		}

		s, err := Open(context.Background(), path)
		if err != nil {
			t.Fatalf("run %d: open after kill: %v", run, err)
		}
		ctx := context.Background()
		if err := s.IntegrityCheck(ctx); err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		for _, id := range committed {
			if !memory.ValidID(id) {
				t.Fatalf("writer printed %q, not an id", id)
			}
			if _, err := s.Get(ctx, id); err != nil {
				t.Fatalf("run %d: committed memory %s lost: %v", run, id, err)
			}
		}
		st, err := s.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// At most the one write in flight at the kill committed unreported.
		if st.Total < len(committed) || st.Total > len(committed)+1 {
			t.Fatalf("run %d: %d rows after kill, %d reported committed", run, st.Total, len(committed))
		}
		committed = committed[:0]
		all, err := s.List(ctx, memory.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range all { // carry every row into the next run's check
			committed = append(committed, m.ID)
		}
		s.Close()
	}
}

func TestCrossProcessFreshness(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mnemo.db")
	ctx := context.Background()
	b, err := Open(ctx, path) // process B: this test process
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	seed := memory.Memory{Content: "seed memory about gardening", Project: "/proj/a", Source: memory.SourceCLI, Vector: storetest.Vec(1), Model: "m"}
	if _, err := b.Put(ctx, &seed); err != nil {
		t.Fatal(err)
	}
	sem := memory.Query{Vector: storetest.Vec(0, 0, 1), Model: "m", Mode: memory.ModeSemantic, K: 5}
	kw := memory.Query{Text: "marker", Mode: memory.ModeKeyword, K: 5}
	hyb := memory.Query{Text: "marker", Vector: storetest.Vec(0, 0, 1), Model: "m", K: 5}
	if hits, err := b.Search(ctx, sem); err != nil || len(hits) != 1 { // loads B's index
		t.Fatalf("initial search: %v %v", hits, err)
	}

	// Process A writes; B's next searches find it.
	id := runHelper(t, "put", "DB="+path, "CONTENT=cross process freshness marker", "VEC=0,0,1")[0]
	for _, q := range []memory.Query{sem, kw, hyb} {
		hits, err := b.Search(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(hits) == 0 || hits[0].Memory.ID != id {
			t.Errorf("%s search in B after A's put: top %v, want %s", q.Mode, ids(hits), id)
		}
	}
	if hits, err := b.Similar(ctx, storetest.Vec(0, 0, 1), "m", "/proj/a", 0.95, 5); err != nil || len(hits) != 1 || hits[0].Memory.ID != id {
		t.Errorf("Similar in B after A's put: %v %v", ids(hits), err)
	}

	// A re-embeds the seed; B's semantic ranking follows.
	runHelper(t, "setvector", "DB="+path, "ID="+seed.ID)
	hits, err := b.Search(ctx, memory.Query{Vector: storetest.Vec(0, 0, 0, 1), Model: "m", Mode: memory.ModeSemantic, K: 1})
	if err != nil || len(hits) != 1 || hits[0].Memory.ID != seed.ID || hits[0].Similarity < 0.999 {
		t.Errorf("B after A's SetVector: %+v %v", hits, err)
	}

	// A deletes; B's results drop it.
	runHelper(t, "delete", "DB="+path, "ID="+id)
	for _, q := range []memory.Query{sem, kw, hyb} {
		hits, err := b.Search(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(ids(hits), id) {
			t.Errorf("%s search in B still returns %s after A deleted it", q.Mode, id)
		}
	}
}

func ids(hits []memory.Hit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.Memory.ID
	}
	return out
}
