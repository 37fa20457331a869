package warm

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mnemo-mcp/mnemo/pkg/memory"
	"github.com/mnemo-mcp/mnemo/pkg/service"
)

// fakeRecaller answers every recall with one hit naming the query, or
// blocks until its context ends when block is set.
type fakeRecaller struct {
	calls   atomic.Int32
	block   bool
	ctxErr  chan error
	lastReq atomic.Pointer[service.RecallRequest]
}

func (f *fakeRecaller) Recall(ctx context.Context, req service.RecallRequest) (service.RecallResult, error) {
	f.calls.Add(1)
	f.lastReq.Store(&req)
	if f.block {
		<-ctx.Done()
		if f.ctxErr != nil {
			f.ctxErr <- ctx.Err()
		}
		return service.RecallResult{}, ctx.Err()
	}
	if req.Query == "bad" {
		return service.RecallResult{}, errors.Join(errors.New("query is bad"), service.ErrInvalidInput)
	}
	return service.RecallResult{
		Results: []memory.Hit{{Memory: memory.Memory{ID: "01ARZ3NDEKTSV4RRFFQ69G5FAV", Content: "about " + req.Query, Vector: []float32{1, 2}}, Similarity: 0.9, SemanticRank: 1}},
		Model:   "fake", Semantic: true, Mode: memory.ModeHybrid,
	}, nil
}

// shortDir returns a temp dir whose socket paths stay under the 108-byte
// limit of unix socket addresses, whatever the test's name.
func shortDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "mw")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return filepath.Join(d, "run")
}

// startServer runs s until the test ends and waits for its socket.
func startServer(t *testing.T, s *Server) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	path := SocketPath(s.Dir, os.Getpid())
	for i := 0; i < 500; i++ {
		if _, err := os.Stat(path); err == nil {
			return
		}
		select {
		case err := <-done:
			t.Fatalf("Serve returned early: %v", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("socket %s never appeared", path)
}

func TestRecallSameUserAccepted(t *testing.T) {
	dir := shortDir(t)
	f := &fakeRecaller{}
	startServer(t, &Server{Dir: dir, Recaller: f})

	st, err := os.Stat(dir)
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("run dir mode = %v, %v; want 0700", st.Mode().Perm(), err)
	}
	sock, err := os.Stat(SocketPath(dir, os.Getpid()))
	if err != nil || sock.Mode().Perm() != 0o600 || sock.Mode()&os.ModeSocket == 0 {
		t.Fatalf("socket mode = %v, %v; want a 0600 socket", sock.Mode(), err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := Recall(ctx, dir, service.RecallRequest{Query: "sourdough", Project: "p", K: 3, ModelWait: 250 * time.Millisecond, IgnorePins: true})
	if err != nil {
		t.Fatalf("Recall: %v", err)
	}
	if len(res.Results) != 1 || res.Results[0].Memory.Content != "about sourdough" || !res.Semantic {
		t.Fatalf("result = %+v", res)
	}
	if res.Results[0].Memory.Vector != nil {
		t.Errorf("vector sent over the socket: %v", res.Results[0].Memory.Vector)
	}
	got := f.lastReq.Load()
	if got.Project != "p" || got.K != 3 || got.ModelWait != 250*time.Millisecond || !got.IgnorePins {
		t.Errorf("server got request %+v", *got)
	}

	// Input errors come back as service.ErrInvalidInput.
	if _, err := Recall(ctx, dir, service.RecallRequest{Query: "bad"}); !errors.Is(err, service.ErrInvalidInput) {
		t.Errorf("bad query: err = %v, want ErrInvalidInput", err)
	}

	infos := (&Client{Dir: dir}).Servers(ctx)
	if len(infos) != 1 || infos[0].PID != os.Getpid() {
		t.Errorf("Servers = %+v", infos)
	}
}

func TestPeerOfOtherUserRejected(t *testing.T) {
	dir := shortDir(t)
	f := &fakeRecaller{}
	var seen atomic.Int64
	seen.Store(-1)
	// Simulate a peer of another uid: the check function refuses it.
	startServer(t, &Server{Dir: dir, Recaller: f, AllowUID: func(uid int) bool { seen.Store(int64(uid)); return false }})

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := Recall(ctx, dir, service.RecallRequest{Query: "x"})
	if err == nil || !errors.Is(err, ErrNoServer) {
		t.Fatalf("Recall from a refused peer: err = %v, want ErrNoServer", err)
	}
	if f.calls.Load() != 0 {
		t.Errorf("refused peer reached the service %d times", f.calls.Load())
	}
	if int(seen.Load()) != os.Getuid() {
		t.Errorf("check saw uid %d, want the real peer uid %d (SO_PEERCRED)", seen.Load(), os.Getuid())
	}
}

func TestClientRejectsServerOfOtherUser(t *testing.T) {
	dir := shortDir(t)
	f := &fakeRecaller{}
	startServer(t, &Server{Dir: dir, Recaller: f})
	cl := &Client{Dir: dir, AllowUID: func(int) bool { return false }}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := cl.Recall(ctx, service.RecallRequest{Query: "x"}); !errors.Is(err, ErrNoServer) {
		t.Fatalf("err = %v, want ErrNoServer", err)
	}
	if f.calls.Load() != 0 {
		t.Errorf("untrusted server was sent the request")
	}
}

// deadPID returns the pid of a process that has exited.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skipf("cannot run true: %v", err)
	}
	pid := cmd.Process.Pid
	if processAlive(pid) {
		t.Skipf("pid %d was reused", pid)
	}
	return pid
}

// leaveSocket creates a socket file nobody listens on, as a killed server
// leaves behind.
func leaveSocket(t *testing.T, path string) {
	t.Helper()
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	l.SetUnlinkOnClose(false)
	l.Close()
}

func TestStaleSocketsRemoved(t *testing.T) {
	dir := shortDir(t)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	stale := SocketPath(dir, deadPID(t))
	leaveSocket(t, stale)
	// A refusing socket of a live pid (pid reuse) older than staleAge.
	reused := SocketPath(dir, os.Getppid())
	leaveSocket(t, reused)
	old := time.Now().Add(-time.Minute)
	if err := os.Chtimes(reused, old, old); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "notes.txt")
	os.WriteFile(other, []byte("x"), 0o600)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := Recall(ctx, dir, service.RecallRequest{Query: "x"})
	if !errors.Is(err, ErrNoServer) {
		t.Fatalf("err = %v, want ErrNoServer", err)
	}
	for _, p := range []string{stale, reused} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("stale socket %s still there (err %v)", p, err)
		}
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("unrelated file removed: %v", err)
	}

	// A starting server also sweeps stale sockets, and a live one is used.
	leaveSocket(t, stale)
	f := &fakeRecaller{}
	startServer(t, &Server{Dir: dir, Recaller: f})
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("server start left stale socket %s", stale)
	}
	if _, err := Recall(ctx, dir, service.RecallRequest{Query: "x"}); err != nil {
		t.Fatalf("Recall with live server: %v", err)
	}
}

func TestNoDirIsNoServer(t *testing.T) {
	_, err := Recall(context.Background(), filepath.Join(t.TempDir(), "absent"), service.RecallRequest{Query: "x"})
	if !errors.Is(err, ErrNoServer) {
		t.Fatalf("err = %v, want ErrNoServer", err)
	}
}

func TestBudgetRespected(t *testing.T) {
	dir := shortDir(t)
	f := &fakeRecaller{block: true, ctxErr: make(chan error, 1)}
	startServer(t, &Server{Dir: dir, Recaller: f})

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := Recall(ctx, dir, service.RecallRequest{Query: "x"})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the caller's deadline", err)
	}
	// The client's budget travels with the request: the server's work is
	// cancelled too instead of running on for nobody.
	select {
	case err := <-f.ctxErr:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("server ctx ended with %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("server request was never cancelled")
	}
}

func TestServeCleansUpOnCancel(t *testing.T) {
	dir := shortDir(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, dir, &fakeRecaller{}, nil) }()
	path := SocketPath(dir, os.Getpid())
	for i := 0; i < 500; i++ {
		if _, err := os.Stat(path); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("socket left after shutdown: %v", err)
	}
}

func TestProtocolErrors(t *testing.T) {
	dir := shortDir(t)
	startServer(t, &Server{Dir: dir, Recaller: &fakeRecaller{}})
	c, err := net.Dial("unix", SocketPath(dir, os.Getpid()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	uc := c.(*net.UnixConn)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, req := range []Request{{V: 99, Op: "ping"}, {V: ProtocolVersion, Op: "nope"}, {V: ProtocolVersion, Op: "recall"}} {
		resp, err := roundTrip(ctx, uc, req)
		if err != nil {
			t.Fatalf("%+v: %v", req, err)
		}
		if resp.OK || !resp.Invalid || resp.Error == "" {
			t.Errorf("%+v: response %+v, want an invalid-request error", req, resp)
		}
	}
}

// A data dir too deep for a socket address (macOS allows 104 bytes) gets a
// short socket dir that every process of that data dir agrees on, and
// servers and clients work through it.
func TestDirFallsBackWhenSocketPathTooLong(t *testing.T) {
	short := t.TempDir()
	if got := Dir(short); got != filepath.Join(short, "run") {
		t.Fatalf("Dir(%q) = %q, want home/run", short, got)
	}
	deep := filepath.Join(t.TempDir(), strings.Repeat("d", 60), strings.Repeat("e", 60))
	d := Dir(deep)
	if d == filepath.Join(deep, "run") {
		t.Fatalf("Dir kept a socket dir whose paths exceed %d bytes: %s", maxSocketPath, d)
	}
	if n := len(SocketPath(d, maxPID)) + len(".tmp"); n >= maxSocketPath {
		t.Fatalf("fallback socket path is %d bytes, limit %d", n, maxSocketPath)
	}
	if Dir(deep) != d || Dir(deep+string(filepath.Separator)) != d {
		t.Fatalf("Dir is not stable for one data dir")
	}
	if Dir(deep+"x") == d {
		t.Fatalf("two data dirs share the fallback socket dir %s", d)
	}
	t.Cleanup(func() { os.RemoveAll(d) })

	f := &fakeRecaller{}
	startServer(t, &Server{Dir: d, Recaller: f})
	res, err := (&Client{Dir: d}).Recall(context.Background(), service.RecallRequest{Query: "deep"})
	if err != nil || len(res.Results) != 1 {
		t.Fatalf("recall through the fallback dir: %v %+v", err, res)
	}
}

// usingRecaller also records uses (as *service.Service does).
type usingRecaller struct {
	fakeRecaller
	mu   sync.Mutex
	used []string
}

func (u *usingRecaller) RecordUse(ids []string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.used = append(u.used, ids...)
}

// NoUse crosses the socket, and a "use" request reaches the service; a
// server whose recaller records no uses says so.
func TestRecordUseThroughServer(t *testing.T) {
	dir := shortDir(t)
	u := &usingRecaller{}
	startServer(t, &Server{Dir: dir, Recaller: u})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := Recall(ctx, dir, service.RecallRequest{Query: "q", NoUse: true}); err != nil {
		t.Fatal(err)
	}
	if got := u.lastReq.Load(); !got.NoUse {
		t.Errorf("server got request %+v, want NoUse", *got)
	}
	if err := RecordUse(ctx, dir, []string{"a", "b"}); err != nil {
		t.Fatal(err)
	}
	u.mu.Lock()
	if !slices.Equal(u.used, []string{"a", "b"}) {
		t.Errorf("recorded %v, want [a b]", u.used)
	}
	u.mu.Unlock()

	other := shortDir(t)
	startServer(t, &Server{Dir: other, Recaller: &fakeRecaller{}})
	if err := RecordUse(ctx, other, []string{"a"}); err == nil {
		t.Error("a server that records no uses accepted a use request")
	}
}
