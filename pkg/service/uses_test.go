package service

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mnemo-mcp/mnemo/internal/locktest"
	"github.com/mnemo-mcp/mnemo/pkg/memory"
	"github.com/mnemo-mcp/mnemo/pkg/sqlite"
)

// A recall answers while another connection (another process) holds the
// store's write lock, and the use it records lands once the lock is gone.
func TestRecallDoesNotWaitForWriteLock(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "mnemo.db")
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := newSvc(t, st, newFakeEmbedder("m", true), "p")
	rem, err := s.Remember(ctx, RememberRequest{Content: "the staging database listens on port 5433"})
	if err != nil {
		t.Fatal(err)
	}
	before, _ := st.Get(ctx, rem.ID)
	time.Sleep(5 * time.Millisecond) // accessed_at has millisecond precision

	release := locktest.Hold(t, path)
	type answer struct {
		res RecallResult
		err error
	}
	ch := make(chan answer, 1)
	go func() {
		r, err := s.Recall(ctx, RecallRequest{Query: "staging database port"})
		ch <- answer{r, err}
	}()
	var a answer
	select {
	case a = <-ch: // the lock is still held here
	case <-time.After(30 * time.Second):
		release()
		t.Fatal("recall waited for the write lock another connection holds")
	}
	if a.err != nil || len(a.res.Results) != 1 || a.res.Results[0].Memory.ID != rem.ID {
		t.Fatalf("recall under a held lock: %+v %v", a.res, a.err)
	}
	release()
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	s.Close(cctx)
	after, err := st.Get(ctx, rem.ID)
	if err != nil || !after.AccessedAt.After(before.AccessedAt) {
		t.Fatalf("use not recorded after the lock was released: before %v after %v (%v)", before.AccessedAt, after.AccessedAt, err)
	}
}

// Close does not wait for a lock that stays held: what could not be
// recorded goes to SpillUses.
func TestCloseSpillsUsesWhileLocked(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "mnemo.db")
	st, err := sqlite.Open(ctx, path, sqlite.WithBusyTimeout(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var mu sync.Mutex
	var spilled []string
	s, err := New(Options{Store: st, Project: "p", SpillUses: func(ids []string) {
		mu.Lock()
		spilled = append(spilled, ids...)
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	rem, _ := s.Remember(ctx, RememberRequest{Content: "alpha beta"})
	release := locktest.Hold(t, path)
	defer release()
	if res, err := s.Recall(ctx, RecallRequest{Query: "alpha", Mode: memory.ModeKeyword}); err != nil || len(res.Results) != 1 {
		t.Fatalf("recall: %+v %v", res, err)
	}
	cctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	s.Close(cctx)
	mu.Lock()
	defer mu.Unlock()
	if !slices.Contains(spilled, rem.ID) {
		t.Fatalf("spilled %v, want %s", spilled, rem.ID)
	}
}

// A recall with NoUse records nothing; RecordUse records exactly the ids
// given (the prompt hook's injected memories).
func TestNoUseAndRecordUse(t *testing.T) {
	forEachStore(t, func(t *testing.T, newStore func() memory.Store) {
		ctx := context.Background()
		st := newStore()
		s, err := New(Options{Store: st, Project: "p"})
		if err != nil {
			t.Fatal(err)
		}
		a, _ := s.Remember(ctx, RememberRequest{Content: "alpha beta"})
		b, _ := s.Remember(ctx, RememberRequest{Content: "alpha gamma"})
		res, err := s.Recall(ctx, RecallRequest{Query: "alpha", Mode: memory.ModeKeyword, NoUse: true})
		if err != nil || len(res.Results) != 2 {
			t.Fatalf("recall: %+v %v", res, err)
		}
		s.RecordUse([]string{b.ID, ""})
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		s.Close(cctx)
		ma, _ := st.Get(ctx, a.ID)
		mb, _ := st.Get(ctx, b.ID)
		if ma.RecallCount != 0 || mb.RecallCount != 1 {
			t.Fatalf("recall counts %d and %d, want 0 (recalled, not used) and 1 (used)", ma.RecallCount, mb.RecallCount)
		}
	})
}
