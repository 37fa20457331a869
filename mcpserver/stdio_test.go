package mcpserver

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// stdioPeer drives ServeStdio over pipes with raw JSON-RPC lines, the way a
// real client does.
type stdioPeer struct {
	t    *testing.T
	in   *io.PipeWriter // client → server
	out  *bufio.Reader  // server → client
	done chan error     // ServeStdio's result
}

func startStdio(t *testing.T, ctx context.Context, svc Memories, o StdioOptions) *stdioPeer {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	p := &stdioPeer{t: t, in: inW, out: bufio.NewReader(outR), done: make(chan error, 1)}
	srv := NewServer(Ready(svc), Options{ModelWait: 50 * time.Millisecond})
	go func() {
		err := ServeStdio(ctx, srv, inR, outW, o)
		_ = outW.Close()
		p.done <- err
	}()
	t.Cleanup(func() { _ = inW.Close(); _ = outR.Close() })
	return p
}

func (p *stdioPeer) send(msg string) {
	p.t.Helper()
	if _, err := io.WriteString(p.in, msg+"\n"); err != nil {
		p.t.Fatalf("send: %v", err)
	}
}

// readAll collects every line the server writes until it closes stdout.
func (p *stdioPeer) readAll() []map[string]any {
	p.t.Helper()
	var msgs []map[string]any
	for {
		line, err := p.out.ReadBytes('\n')
		if len(line) > 0 {
			var m map[string]any
			if jerr := json.Unmarshal(line, &m); jerr != nil {
				p.t.Fatalf("non-JSON on stdout: %q", line)
			}
			msgs = append(msgs, m)
		}
		if err != nil {
			return msgs
		}
	}
}

func (p *stdioPeer) wait() error {
	p.t.Helper()
	select {
	case err := <-p.done:
		return err
	case <-time.After(time.Minute): // a hang, not a timing assertion
		p.t.Fatal("ServeStdio did not return")
		return nil
	}
}

const initMsgs = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}
{"jsonrpc":"2.0","method":"notifications/initialized"}`

func byID(msgs []map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, m := range msgs {
		if id, ok := m["id"]; ok {
			out[fmt.Sprint(id)] = m
		}
	}
	return out
}

// Requests sent just before stdin closes are all answered, and the writes
// among them are committed, before ServeStdio returns nil.
func TestStdioEOFAnswersEverything(t *testing.T) {
	svc := newFake()
	svc.onRemember = func(context.Context) { time.Sleep(20 * time.Millisecond) } // a write in flight at EOF
	p := startStdio(t, context.Background(), svc, StdioOptions{})
	go func() {
		p.send(initMsgs)
		for i := 0; i < 12; i++ {
			p.send(fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"remember","arguments":{"content":"fact %d"}}}`, 100+i, i))
		}
		p.send(`{"jsonrpc":"2.0","id":"last","method":"tools/call","params":{"name":"recall","arguments":{"query":"fact"}}}`)
		_ = p.in.Close()
	}()
	msgs := p.readAll()
	if err := p.wait(); err != nil {
		t.Fatalf("ServeStdio after EOF: %v", err)
	}
	ids := byID(msgs)
	for i := 0; i < 12; i++ {
		m := ids[fmt.Sprint(100+i)]
		if m == nil || m["result"] == nil {
			t.Errorf("remember %d: no result (got %v)", i, m)
		}
	}
	if ids["last"] == nil {
		t.Error("recall sent before EOF was not answered")
	}
	if n := len(svc.mems); n != 12 {
		t.Errorf("%d memories committed, want 12", n)
	}
}

// Cancelling the context (SIGTERM, parent gone) mid-write: the write
// completes and is answered; ServeStdio then returns.
func TestStdioShutdownFinishesWrite(t *testing.T) {
	svc := newFake()
	started := make(chan struct{})
	release := make(chan struct{})
	svc.onRemember = func(ctx context.Context) {
		close(started)
		<-release
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := startStdio(t, ctx, svc, StdioOptions{})
	p.send(initMsgs)
	p.send(`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"remember","arguments":{"content":"written while shutting down"}}}`)
	<-started
	cancel()
	go func() {
		time.Sleep(10 * time.Millisecond)
		close(release)
	}()
	msgs := p.readAll()
	if err := p.wait(); err != nil {
		t.Fatalf("ServeStdio after cancel: %v", err)
	}
	if m := byID(msgs)["7"]; m == nil || m["result"] == nil {
		t.Fatalf("remember in flight at shutdown was not answered: %v", msgs)
	}
	if len(svc.mems) != 1 {
		t.Fatalf("write in flight at shutdown lost")
	}
}

// A handler that never returns cannot hold the process past the grace period.
func TestStdioGraceBound(t *testing.T) {
	svc := newFake()
	block := make(chan struct{})
	defer close(block)
	started := make(chan struct{})
	svc.onRemember = func(context.Context) { close(started); <-block }
	ctx, cancel := context.WithCancel(context.Background())
	p := startStdio(t, ctx, svc, StdioOptions{Grace: 50 * time.Millisecond})
	p.send(initMsgs)
	p.send(`{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"remember","arguments":{"content":"stuck"}}}`)
	<-started
	cancel()
	if err := p.wait(); err != nil {
		t.Fatalf("ServeStdio: %v", err)
	}
}

// Garbage on stdin gets a JSON-RPC parse error, not a crash, and does not
// confuse shutdown accounting.
func TestStdioGarbageLine(t *testing.T) {
	p := startStdio(t, context.Background(), newFake(), StdioOptions{})
	go func() {
		p.send(initMsgs)
		p.send(`this is not json`)
		p.send(`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`)
		_ = p.in.Close()
	}()
	msgs := p.readAll()
	if err := p.wait(); err != nil {
		t.Fatal(err)
	}
	var parseErr bool
	for _, m := range msgs {
		if e, ok := m["error"].(map[string]any); ok && strings.Contains(fmt.Sprint(e["message"]), "Parse") {
			parseErr = true
		}
	}
	if !parseErr || byID(msgs)["2"] == nil {
		t.Fatalf("messages: %v", msgs)
	}
}

// Lines longer than the pump's buffer (a 64 KiB memory is a longer line)
// pass through whole and are accounted for.
func TestStdioLongLines(t *testing.T) {
	svc := newFake()
	p := startStdio(t, context.Background(), svc, StdioOptions{})
	big := strings.Repeat("long memory text ", 3800) // ~64 KB: fits the content limit
	huge := strings.Repeat("x", 300<<10)             // over it: a tool error
	go func() {
		p.send(initMsgs)
		p.send(fmt.Sprintf(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"remember","arguments":{"content":%q}}}`, big))
		p.send(fmt.Sprintf(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"remember","arguments":{"content":%q}}}`, huge))
		_ = p.in.Close()
	}()
	msgs := byID(p.readAll())
	if err := p.wait(); err != nil {
		t.Fatal(err)
	}
	if r, _ := msgs["1"]["result"].(map[string]any); r == nil || r["isError"] == true {
		t.Errorf("64 KB remember: %v", msgs["1"])
	}
	if r, _ := msgs["2"]["result"].(map[string]any); r == nil || r["isError"] != true {
		t.Errorf("oversized remember: want a tool error, got %v", msgs["2"])
	}
	if len(svc.mems) != 1 || len(svc.mems[firstID(svc)].Content) != len(big) {
		t.Errorf("stored %d memories", len(svc.mems))
	}
}

func firstID(f *fakeMemories) string {
	for id := range f.mems {
		return id
	}
	return ""
}
