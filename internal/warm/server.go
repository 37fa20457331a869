package warm

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/mnemo-mcp/mnemo/pkg/fsguard"
	"github.com/mnemo-mcp/mnemo/pkg/logging"
	"github.com/mnemo-mcp/mnemo/pkg/service"
)

// Recaller is what the server needs from the memory service.
type Recaller interface {
	Recall(ctx context.Context, req service.RecallRequest) (service.RecallResult, error)
}

// useRecorder is optionally implemented by the Recaller (*service.Service
// does); "use" requests need it.
type useRecorder interface {
	RecordUse(ids []string)
}

// modelStatuser is optionally implemented by the Recaller (*service.Service
// does); ping then reports the model's state.
type modelStatuser interface {
	ModelStatus() service.ModelStatus
}

// Server limits.
const (
	maxConns       = 16               // concurrent connections; more get "busy"
	idleTimeout    = 30 * time.Second // a connection with no request is closed
	maxRequestTime = 30 * time.Second // cap on a client's timeout_ms
	maxUseIDs      = 100              // ids in one "use" request
)

// Server answers warm requests on $dir/<pid>.sock.
type Server struct {
	Dir      string
	Recaller Recaller
	Log      *slog.Logger
	// AllowUID decides whether a peer may use the server; nil allows only
	// this process's own uid. Tests inject a refusal here.
	AllowUID func(uid int) bool

	started time.Time
}

// Serve listens on dir/<pid>.sock and answers recall requests through r
// until ctx is done, then closes the listener, removes its socket, waits
// for requests in flight and returns nil. It returns an error only when it
// cannot listen. Call it in its own goroutine from `mnemo serve`:
//
//	go func() {
//		if err := warm.Serve(ctx, warm.Dir(cfg.Home), svc, log); err != nil {
//			log.Warn("warm socket disabled", "err", err)
//		}
//	}()
func Serve(ctx context.Context, dir string, r Recaller, log *slog.Logger) error {
	return (&Server{Dir: dir, Recaller: r, Log: log}).Serve(ctx)
}

// Serve runs the server; see the package function Serve.
func (s *Server) Serve(ctx context.Context) error {
	if s.Log == nil {
		s.Log = logging.Discard()
	}
	if s.AllowUID == nil {
		me := os.Getuid()
		s.AllowUID = func(uid int) bool { return uid == me }
	}
	s.started = time.Now()
	if err := prepareDir(s.Dir); err != nil {
		return err
	}
	removeStale(s.Dir, s.Log)
	path := SocketPath(s.Dir, os.Getpid())
	// The socket is bound and listening under a temporary name, then
	// renamed into place: a socket file appears at bind, before listen,
	// and a client dialling in between was refused (a flaky test showed
	// it). Clients skip names that are not <pid>.sock.
	tmp := path + ".tmp"
	if runtime.GOOS == "windows" {
		// An AF_UNIX socket there is a reparse point that no documentation
		// promises survives a rename, and file modes mean nothing: bind the
		// final name (a client that dials between bind and listen is
		// refused and falls back); the peer's SID is checked on every
		// connection (peercred_windows.go).
		tmp = path
	}
	_ = os.Remove(path) // left by an earlier process with our pid
	_ = os.Remove(tmp)
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: tmp, Net: "unix"})
	if err != nil {
		return fmt.Errorf("warm: listen on %s: %w", tmp, err)
	}
	l.SetUnlinkOnClose(false) // it would unlink the temporary name: removed below
	if tmp != path {
		// The directory is already 0700; 0600 on the socket is defence in depth.
		if err := os.Chmod(tmp, 0o600); err != nil {
			l.Close()
			_ = os.Remove(tmp)
			return fmt.Errorf("warm: chmod %s: %w", tmp, err)
		}
		if err := os.Rename(tmp, path); err != nil {
			l.Close()
			_ = os.Remove(tmp)
			return fmt.Errorf("warm: publish %s: %w", path, err)
		}
	}
	s.Log.Debug("warm: listening", "socket", path)

	stop := context.AfterFunc(ctx, func() { l.Close() })
	defer stop()
	var wg sync.WaitGroup
	sem := make(chan struct{}, maxConns)
	defer func() {
		l.Close()
		_ = os.Remove(path)
		wg.Wait()
	}()
	for {
		c, err := l.AcceptUnix()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			s.Log.Warn("warm: accept failed", "err", err)
			select {
			case <-time.After(50 * time.Millisecond):
			case <-ctx.Done():
				return nil
			}
			continue
		}
		select {
		case sem <- struct{}{}:
		default:
			writeResponse(c, Response{Busy: true, Error: "server busy"})
			c.Close()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			s.handleConn(ctx, c)
		}()
	}
}

// SocketPath is the socket of the server with process id pid.
func SocketPath(dir string, pid int) string {
	return filepath.Join(dir, strconv.Itoa(pid)+".sock")
}

// prepareDir creates dir 0700, tightens one of ours to 0700, and refuses
// a symlink or a folder that another user owns (fsguard's check, the same
// as MNEMO_HOME's).
func prepareDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("warm: create %s: %w", dir, err)
	}
	st, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("warm: %w", err)
	}
	if !st.IsDir() {
		return fmt.Errorf("warm: %s is not a directory", dir)
	}
	if uid, ok := fsguard.OwnerUID(st); (!ok || uid == os.Getuid()) && st.Mode().Perm() != 0o700 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("warm: chmod %s: %w", dir, err)
		}
	}
	if err := fsguard.CheckDir(dir); err != nil {
		return fmt.Errorf("warm: %w", err)
	}
	return nil
}

func (s *Server) handleConn(ctx context.Context, c *net.UnixConn) {
	defer c.Close()
	uid, err := peerUID(c)
	if err != nil || !s.AllowUID(uid) {
		s.Log.Warn("warm: refused a connection from another user", "peer_uid", uid, "err", err)
		return
	}
	br := bufio.NewReaderSize(c, 64<<10)
	for {
		_ = c.SetReadDeadline(time.Now().Add(idleTimeout))
		line, err := readLine(br)
		if err != nil {
			if !errors.Is(err, errEOF) {
				s.Log.Debug("warm: connection ended", "err", err)
			}
			return
		}
		resp := s.answer(ctx, line)
		_ = c.SetWriteDeadline(time.Now().Add(idleTimeout))
		if err := writeResponse(c, resp); err != nil {
			s.Log.Debug("warm: write response", "err", err)
			return
		}
	}
}

func (s *Server) answer(ctx context.Context, line []byte) Response {
	var req Request
	if err := json.Unmarshal(line, &req); err != nil {
		return Response{Invalid: true, Error: "request is not JSON: " + err.Error()}
	}
	if req.V != ProtocolVersion {
		return Response{Invalid: true, Error: fmt.Sprintf("protocol version %d not supported (want %d)", req.V, ProtocolVersion)}
	}
	timeout := maxRequestTime
	if req.TimeoutMS > 0 && time.Duration(req.TimeoutMS)*time.Millisecond < timeout {
		timeout = time.Duration(req.TimeoutMS) * time.Millisecond
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	switch req.Op {
	case "ping":
		info := &Info{PID: os.Getpid(), Started: s.started}
		if ms, ok := s.Recaller.(modelStatuser); ok {
			st := ms.ModelStatus()
			info.Model = &st
		}
		return Response{OK: true, Info: info}
	case "use":
		ur, ok := s.Recaller.(useRecorder)
		if !ok {
			return Response{Error: "this server does not record uses"}
		}
		if len(req.IDs) > maxUseIDs {
			return Response{Invalid: true, Error: fmt.Sprintf("%d ids; at most %d", len(req.IDs), maxUseIDs)}
		}
		ur.RecordUse(req.IDs)
		return Response{OK: true}
	case "recall":
		if req.Recall == nil {
			return Response{Invalid: true, Error: "recall request without a recall object"}
		}
		res, err := s.Recaller.Recall(rctx, req.Recall.toService())
		if err != nil {
			return Response{Error: err.Error(), Invalid: errors.Is(err, service.ErrInvalidInput),
				Timeout: errors.Is(err, context.DeadlineExceeded) && rctx.Err() != nil && ctx.Err() == nil}
		}
		// Vectors are of no use to a hook and would multiply the reply size.
		for i := range res.Results {
			res.Results[i].Memory.Vector = nil
		}
		return Response{OK: true, Recall: &res}
	}
	return Response{Invalid: true, Error: fmt.Sprintf("unknown op %q", req.Op)}
}

var errEOF = errors.New("eof")

// readLine reads one '\n'-terminated line of at most maxLineBytes.
func readLine(br *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > maxLineBytes {
			return nil, fmt.Errorf("line longer than %d bytes", maxLineBytes)
		}
		switch {
		case err == nil:
			return line, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, os.ErrDeadlineExceeded):
			return nil, err
		default:
			if len(line) == 0 {
				return nil, errEOF
			}
			return nil, fmt.Errorf("incomplete line: %w", err)
		}
	}
}

func writeResponse(c net.Conn, r Response) error {
	b, err := json.Marshal(r)
	if err != nil {
		b, _ = json.Marshal(Response{Error: "encode response: " + err.Error()})
	}
	_, err = c.Write(append(b, '\n'))
	return err
}
