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
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mnemo-mcp/mnemo/pkg/service"
)

// staleAge is how old a socket that refuses connections must be before a
// client deletes it: a live server accepts from the moment its socket file
// exists, so a refusing socket older than this belongs to no server.
const staleAge = 5 * time.Second

// Client talks to the servers in Dir.
type Client struct {
	Dir string
	// AllowUID decides whether a server may be trusted; nil means only this
	// process's own uid.
	AllowUID func(uid int) bool
	Log      *slog.Logger
}

// Recall asks the newest live server in dir to recall; see Client.Recall.
func Recall(ctx context.Context, dir string, req service.RecallRequest) (service.RecallResult, error) {
	return (&Client{Dir: dir}).Recall(ctx, req)
}

// Recall sends req to the newest live server, trying older ones when a
// server is busy or its connection fails, and removing sockets of servers
// that are gone. It returns ErrNoServer (wrapped) when none answered, and
// ctx's error when the budget ran out first.
func (cl *Client) Recall(ctx context.Context, req service.RecallRequest) (service.RecallResult, error) {
	resp, err := cl.do(ctx, Request{Op: "recall", Recall: toWire(req)})
	if err != nil {
		return service.RecallResult{}, err
	}
	if resp.Recall == nil {
		return service.RecallResult{}, errors.New("warm: server answered without a result")
	}
	return *resp.Recall, nil
}

// RecordUse asks a running server to record the memories of ids as used
// (see service.Service.RecordUse); ErrNoServer (wrapped) when none answered.
func RecordUse(ctx context.Context, dir string, ids []string) error {
	_, err := (&Client{Dir: dir}).do(ctx, Request{Op: "use", IDs: ids})
	return err
}

// Servers pings every live server in dir (for doctor) and returns what each
// says about itself. Stale sockets are removed on the way.
func (cl *Client) Servers(ctx context.Context) []Info {
	var out []Info
	for _, s := range cl.sockets() {
		c, err := cl.dial(ctx, s)
		if err != nil {
			continue
		}
		resp, err := roundTrip(ctx, c, Request{V: ProtocolVersion, Op: "ping"})
		c.Close()
		if err == nil && resp.OK && resp.Info != nil {
			resp.Info.Socket = s.path
			out = append(out, *resp.Info)
		}
	}
	return out
}

type socketFile struct {
	path  string
	pid   int
	mtime time.Time
}

// sockets lists dir/<pid>.sock newest first, deleting those whose process
// is gone.
func (cl *Client) sockets() []socketFile {
	ents, err := os.ReadDir(cl.Dir)
	if err != nil {
		return nil
	}
	var out []socketFile
	for _, e := range ents {
		name := e.Name()
		pid, err := strconv.Atoi(strings.TrimSuffix(name, ".sock"))
		if err != nil || !strings.HasSuffix(name, ".sock") || e.Type()&os.ModeSocket == 0 {
			continue
		}
		path := filepath.Join(cl.Dir, name)
		if !processAlive(pid) {
			cl.remove(path, "process gone")
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		out = append(out, socketFile{path: path, pid: pid, mtime: info.ModTime()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].mtime.After(out[j].mtime) })
	return out
}

// removeStale deletes sockets of processes that no longer exist.
func removeStale(dir string, log *slog.Logger) {
	(&Client{Dir: dir, Log: log}).sockets()
}

func (cl *Client) remove(path, why string) {
	if err := os.Remove(path); err == nil && cl.Log != nil {
		cl.Log.Debug("warm: removed stale socket", "socket", path, "why", why)
	}
}

func (cl *Client) dial(ctx context.Context, s socketFile) (*net.UnixConn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", s.path)
	if err != nil {
		if errors.Is(err, syscall.ECONNREFUSED) && time.Since(s.mtime) > staleAge {
			cl.remove(s.path, "connection refused")
		}
		return nil, err
	}
	uc := c.(*net.UnixConn)
	allow := cl.AllowUID
	if allow == nil {
		me := os.Getuid()
		allow = func(uid int) bool { return uid == me }
	}
	if uid, err := peerUID(uc); err != nil || !allow(uid) {
		uc.Close()
		return nil, fmt.Errorf("server %s runs as uid %d, not this user (%v)", s.path, uid, err)
	}
	return uc, nil
}

// do sends req to servers newest first until one answers.
func (cl *Client) do(ctx context.Context, req Request) (Response, error) {
	req.V = ProtocolVersion
	var errs []error
	for _, s := range cl.sockets() {
		if err := ctx.Err(); err != nil {
			return Response{}, err
		}
		c, err := cl.dial(ctx, s)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if dl, ok := ctx.Deadline(); ok {
			req.TimeoutMS = max(1, time.Until(dl).Milliseconds())
		}
		resp, err := roundTrip(ctx, c, req)
		c.Close()
		switch {
		case err != nil:
			if cause := budgetSpent(ctx, err); cause != nil {
				return Response{}, fmt.Errorf("warm: %s: %w", s.path, cause)
			}
			errs = append(errs, fmt.Errorf("%s: %w", s.path, err))
		case resp.Busy:
			errs = append(errs, fmt.Errorf("%s: busy", s.path))
		case !resp.OK:
			if resp.Timeout || ctx.Err() != nil {
				cause := ctx.Err()
				if cause == nil {
					cause = context.DeadlineExceeded
				}
				return Response{}, fmt.Errorf("warm: server %d: %w", s.pid, cause)
			}
			if resp.Invalid {
				return Response{}, fmt.Errorf("warm: %s: %w", resp.Error, service.ErrInvalidInput)
			}
			return Response{}, fmt.Errorf("warm: server %d: %s", s.pid, resp.Error)
		default:
			return resp, nil
		}
	}
	if len(errs) == 0 {
		return Response{}, ErrNoServer
	}
	return Response{}, fmt.Errorf("%w: %w", ErrNoServer, errors.Join(errs...))
}

// roundTrip writes one request line and reads one response line, bounded
// by ctx.
// budgetSpent is ctx's error when a failed round trip ran out of the
// caller's budget. The connection's deadline is ctx's, and its timer can
// fire a moment before ctx's own: a timeout at or past the deadline is the
// budget too, not a server that failed (a flaky test showed it).
func budgetSpent(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	var ne net.Error
	if dl, ok := ctx.Deadline(); ok && errors.As(err, &ne) && ne.Timeout() && !time.Now().Before(dl) {
		return context.DeadlineExceeded
	}
	return nil
}

func roundTrip(ctx context.Context, c *net.UnixConn, req Request) (Response, error) {
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	b, err := json.Marshal(req)
	if err != nil {
		return Response{}, err
	}
	if _, err := c.Write(append(b, '\n')); err != nil {
		return Response{}, err
	}
	line, err := readLine(bufio.NewReaderSize(c, 64<<10))
	if err != nil {
		if errors.Is(err, errEOF) {
			return Response{}, errors.New("server closed the connection")
		}
		return Response{}, err
	}
	var resp Response
	if err := json.Unmarshal(line, &resp); err != nil {
		return Response{}, fmt.Errorf("bad response: %w", err)
	}
	return resp, nil
}
