package mcpserver

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/server"

	"github.com/mnemo-mcp/mnemo/pkg/logging"
)

// StdioOptions configures ServeStdio.
type StdioOptions struct {
	// Grace bounds how long shutdown waits for requests already read to be
	// answered (default 10s). Past it ServeStdio returns anyway.
	Grace  time.Duration
	Logger *slog.Logger
	// OnFirstAnswer, if set, is called (once, on its own goroutine) after
	// the first answer has been written, typically the initialize result:
	// the moment heavy start-up work can begin without slowing the handshake.
	OnFirstAnswer func()
}

// DefaultGrace is StdioOptions.Grace's default.
const DefaultGrace = 10 * time.Second

// maxLine bounds one JSON-RPC message on stdin; larger lines are passed to
// mcp-go as they are (it answers with an error), never buffered whole here.
const maxLine = 64 << 20

// ServeStdio serves srv as newline-delimited JSON-RPC over in and out until
// in reaches EOF or ctx is cancelled (a signal, the parent process gone).
//
// Either way shutdown is graceful: no further input is accepted, every
// request already read is answered (bounded by Grace), and only then does
// the mcp-go transport see end of input and stop. mcp-go on its own cancels
// and drops tool calls still queued when input ends, which could lose a
// remember the client sent just before closing stdin.
func ServeStdio(ctx context.Context, srv *server.MCPServer, in io.Reader, out io.Writer, o StdioOptions) error {
	if o.Grace <= 0 {
		o.Grace = DefaultGrace
	}
	if o.Logger == nil {
		o.Logger = logging.Discard()
	}
	log := o.Logger
	t := newTracker()
	pr, pw := io.Pipe()
	inputDone := make(chan error, 1) // the pump's end: nil on EOF
	go func() { inputDone <- pump(in, pw, t) }()

	stdio := server.NewStdioServer(srv)
	stdio.SetErrorLogger(slog.NewLogLogger(log.Handler(), slog.LevelWarn))
	listenDone := make(chan error, 1)
	go func() {
		listenDone <- stdio.Listen(context.WithoutCancel(ctx), pr, &responseWriter{w: out, t: t, first: o.OnFirstAnswer})
	}()

	var inputErr error
	select {
	case inputErr = <-inputDone:
		log.Debug("stdin closed; finishing requests in flight", "pending", t.len(), "err", inputErr)
	case <-ctx.Done():
		log.Info("shutting down; finishing requests in flight", "cause", context.Cause(ctx), "pending", t.len())
	case err := <-listenDone: // the transport failed on its own (stdout gone)
		_ = pr.Close()
		return err
	}
	t.stop() // accept no more input
	grace := time.NewTimer(o.Grace)
	defer grace.Stop()
	select {
	case <-t.drained():
	case err := <-listenDone: // the transport failed on its own (stdout gone)
		return err
	case <-grace.C:
		log.Warn("requests still running after the shutdown grace period; exiting without their answers", "pending", t.len(), "grace", o.Grace)
		_ = pw.Close()
		return inputErr
	}
	_ = pw.Close() // end of input for mcp-go: it stops its workers and returns
	select {
	case err := <-listenDone:
		if err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
		return inputErr
	case <-grace.C:
		log.Warn("transport did not stop within the grace period", "grace", o.Grace)
		return inputErr
	}
}

// pump copies JSON-RPC lines from in to the transport, recording each
// request's id so shutdown knows what is still owed an answer.
func pump(in io.Reader, pw *io.PipeWriter, t *tracker) error {
	r := bufio.NewReaderSize(in, 64<<10)
	for {
		line, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// An oversized line: forward it in pieces without inspecting it.
			long := append([]byte(nil), line...)
			for errors.Is(err, bufio.ErrBufferFull) && len(long) < maxLine {
				line, err = r.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		if len(line) > 0 {
			if !t.admit(line) {
				return nil // shutting down: input is no longer read
			}
			if _, werr := pw.Write(line); werr != nil {
				return werr
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

// tracker records requests read and not yet answered.
type tracker struct {
	mu      sync.Mutex
	pending map[string]bool
	stopped bool
	empty   chan struct{} // closed when stopped and nothing is pending
}

func newTracker() *tracker {
	return &tracker{pending: map[string]bool{}, empty: make(chan struct{})}
}

type rpcEnvelope struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Params struct {
		RequestID json.RawMessage `json:"requestId"`
	} `json:"params"`
	Result json.RawMessage `json:"result"`
	Error  json.RawMessage `json:"error"`
}

func hasID(id json.RawMessage) bool {
	return len(id) > 0 && !bytes.Equal(id, []byte("null"))
}

// admit notes a line read from the client; false once shutdown has begun.
func (t *tracker) admit(line []byte) bool {
	var e rpcEnvelope
	parsed := json.Unmarshal(line, &e) == nil
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return false
	}
	if parsed && e.Method != "" {
		switch {
		case hasID(e.ID):
			t.pending[string(e.ID)] = true
		case e.Method == "notifications/cancelled" && hasID(e.Params.RequestID):
			// A cancelled request may get no answer at all.
			delete(t.pending, string(e.Params.RequestID))
		}
	}
	return true
}

// answered notes a response written to the client.
func (t *tracker) answered(line []byte) {
	var e rpcEnvelope
	if json.Unmarshal(line, &e) != nil || e.Method != "" || !hasID(e.ID) {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.pending, string(e.ID))
	t.checkLocked()
}

func (t *tracker) stop() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stopped = true
	t.checkLocked()
}

func (t *tracker) checkLocked() {
	if t.stopped && len(t.pending) == 0 {
		select {
		case <-t.empty:
		default:
			close(t.empty)
		}
	}
}

func (t *tracker) drained() <-chan struct{} { return t.empty }

func (t *tracker) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.pending)
}

// responseWriter passes the transport's output through and marks requests
// answered. mcp-go writes each message with one Write call.
type responseWriter struct {
	w     io.Writer
	t     *tracker
	first func()
	once  sync.Once
}

func (r *responseWriter) Write(p []byte) (int, error) {
	n, err := r.w.Write(p)
	r.t.answered(p)
	if r.first != nil {
		r.once.Do(func() { go r.first() })
	}
	return n, err
}
