// Package soak repeats mnemo's reliability scenarios against the real binary
// for as long as asked and prints one summary line. It is `make soak`, not
// part of `make test`: without MNEMO_SOAK the test skips at once.
//
//	make soak SOAK=5m                      # SQLite store in a fresh MNEMO_HOME
//	make soak SOAK=5m SOAK_STORE=postgres  # MNEMO_TEST_POSTGRES, a fresh schema
//
// Each round runs, at once: SOAK_SERVERS `mnemo serve` processes writing
// SOAK_WRITES memories each over MCP, SOAK_CLI `mnemo remember` writers,
// SOAK_HOOKS capture hooks (two notes each) and as many prompt hooks and
// CLI recalls; then SOAK_KILLS servers SIGKILLed in the middle of their
// writes; then one server fed hostile input (1,000 pipelined requests, a
// 10 MB argument, 100k-deep JSON, NUL bytes, wrong types, garbage). After
// the rounds one writing command stores what hooks spooled, and every write
// that was acknowledged (an MCP result that is not an error, a CLI exit 0,
// a capture hook that returned; a kill's acknowledged writes are the
// answers read before the kill) must be in the store exactly once.
package soak

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

type tally struct {
	mu          sync.Mutex
	acked       map[string]int // content → acknowledgements
	errors      int
	errSamples  []string
	kills       int
	hostileRuns int
	hostileOK   int
	recalls     int
}

func (t *tally) ack(content string) {
	t.mu.Lock()
	t.acked[content]++
	t.mu.Unlock()
}

func (t *tally) fail(format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.errors++
	if len(t.errSamples) < 10 {
		t.errSamples = append(t.errSamples, fmt.Sprintf(format, args...))
	}
}

func envInt(k string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(k)); err == nil && v > 0 {
		return v
	}
	return def
}

type soak struct {
	t     *testing.T
	bin   string
	env   []string
	home  string
	tag   string
	tally *tally
}

func TestSoak(t *testing.T) {
	d, err := time.ParseDuration(os.Getenv("MNEMO_SOAK"))
	if err != nil || d <= 0 {
		t.Skip("set MNEMO_SOAK=5m (make soak) to run the soak test")
	}
	bin := os.Getenv("MNEMO_BIN")
	if bin == "" {
		t.Fatal("MNEMO_BIN must name the mnemo binary (make soak builds it)")
	}
	store := os.Getenv("SOAK_STORE")
	if store == "" {
		store = "sqlite"
	}
	home := t.TempDir()
	var rb [4]byte
	rand.Read(rb[:])
	s := &soak{t: t, bin: bin, home: home, tag: "soak" + hex.EncodeToString(rb[:]), tally: &tally{acked: map[string]int{}}}
	s.env = append(os.Environ(),
		"MNEMO_HOME="+home, "MNEMO_CACHE="+filepath.Join(home, "cache"), "MNEMO_OFFLINE=1",
		// No model: this is about the store; every process starts at once.
		"MNEMO_MODEL="+filepath.Join(home, "no-model"), "MNEMO_MODEL_WAIT=0",
		"MNEMO_LOG_LEVEL=warn", "MNEMO_HOOK_WARM=0", "CLAUDE_PROJECT_DIR="+filepath.Join(home, "proj"))
	switch store {
	case "sqlite":
		s.env = append(s.env, "MNEMO_STORE=")
	case "postgres":
		s.env = append(s.env, "MNEMO_STORE="+freshSchema(t))
	default:
		t.Fatalf("SOAK_STORE=%q: sqlite or postgres", store)
	}

	servers, writes := envInt("SOAK_SERVERS", 32), envInt("SOAK_WRITES", 20)
	clis, hooks, kills := envInt("SOAK_CLI", 4), envInt("SOAK_HOOKS", 30), envInt("SOAK_KILLS", 10)
	start := time.Now()
	rounds := 0
	for rounds == 0 || time.Since(start) < d {
		s.load(rounds, servers, writes, clis, hooks)
		for k := range kills {
			s.kill(rounds, k)
		}
		s.hostile(rounds)
		rounds++
	}
	acked, present, lost, dups := s.verify()
	integrity := s.integrity(store)
	tl := s.tally
	line := fmt.Sprintf("soak store=%s time=%s rounds=%d acknowledged=%d present=%d lost=%d duplicated=%d errors=%d kills=%d hostile=%d/%d recalls=%d integrity=%s",
		store, time.Since(start).Round(time.Second), rounds, acked, present, lost, dups, tl.errors, tl.kills, tl.hostileOK, tl.hostileRuns, tl.recalls, integrity)
	fmt.Println(line)
	for _, e := range tl.errSamples {
		t.Log("error:", e)
	}
	if lost > 0 || tl.errors > 0 {
		if b, err := os.ReadFile(filepath.Join(home, "logs", "mnemo.log")); err == nil {
			n := 0
			for _, l := range strings.Split(string(b), "\n") {
				if strings.Contains(l, "level=WARN") || strings.Contains(l, "level=ERROR") {
					if n++; n <= 20 {
						t.Log("log:", l)
					}
				}
			}
		}
	}
	if lost > 0 || dups > 0 || tl.errors > 0 || integrity != "ok" || tl.hostileOK != tl.hostileRuns {
		t.Fatal(line)
	}
}

func (s *soak) cmd(ctx context.Context, args ...string) *exec.Cmd {
	c := exec.CommandContext(ctx, s.bin, args...)
	c.Env = s.env
	c.Dir = s.home
	return c
}

// mcpProc is one `mnemo serve` with its pipes.
type mcpProc struct {
	cmd   *exec.Cmd
	in    io.WriteCloser
	lines *bufio.Scanner
}

func (s *soak) startServe(ctx context.Context) (*mcpProc, error) {
	c := s.cmd(ctx, "serve")
	in, err := c.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := c.StdoutPipe()
	if err != nil {
		return nil, err
	}
	c.Stderr = io.Discard
	if err := c.Start(); err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	p := &mcpProc{cmd: c, in: in, lines: sc}
	io.WriteString(in, `{"jsonrpc":"2.0","id":"init","method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"soak","version":"0"}}}`+"\n"+
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`+"\n")
	return p, nil
}

type rpcMsg struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  *struct {
		IsError bool `json:"isError"`
		Content []struct {
			Text string `json:"text"`
		} `json:"content"`
	} `json:"result"`
	Error *struct {
		Message string `json:"message"`
	} `json:"error"`
}

func rememberLine(id int, content string) string {
	b, _ := json.Marshal(content)
	return fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"remember","arguments":{"content":%s}}}`+"\n", id, b)
}

// load runs servers, CLI writers, capture hooks, prompt hooks and CLI
// recalls all at once.
func (s *soak) load(round, servers, writes, clis, hooks int) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	for sv := range servers {
		wg.Go(func() { s.server(ctx, round, sv, writes) })
	}
	for c := range clis {
		wg.Go(func() {
			for i := range 5 {
				content := fmt.Sprintf("%s round %d cli %d note %d", s.tag, round, c, i)
				if out, err := s.cmd(ctx, "remember", content).CombinedOutput(); err != nil {
					s.tally.fail("cli remember: %v: %s", err, out)
					continue
				}
				s.tally.ack(content)
			}
			if out, err := s.cmd(ctx, "recall", s.tag, "note", "--mode", "keyword", "--all").CombinedOutput(); err != nil {
				s.tally.fail("cli recall: %v: %s", err, out)
			} else {
				s.tally.mu.Lock()
				s.tally.recalls++
				s.tally.mu.Unlock()
			}
		})
	}
	for h := range hooks {
		wg.Go(func() { s.hooks(ctx, round, h) })
	}
	wg.Wait()
}

func (s *soak) server(ctx context.Context, round, sv, writes int) {
	p, err := s.startServe(ctx)
	if err != nil {
		s.tally.fail("start serve: %v", err)
		return
	}
	contents := map[string]string{}
	var b strings.Builder
	for i := range writes {
		content := fmt.Sprintf("%s round %d server %d note %d", s.tag, round, sv, i)
		contents[strconv.Itoa(i)] = content
		b.WriteString(rememberLine(i, content))
	}
	b.WriteString(`{"jsonrpc":"2.0","id":"recall","method":"tools/call","params":{"name":"recall","arguments":{"query":"note server"}}}` + "\n")
	go func() { io.WriteString(p.in, b.String()) }()
	answered := 0
	for answered < writes+1 && p.lines.Scan() {
		var m rpcMsg
		if json.Unmarshal(p.lines.Bytes(), &m) != nil || m.JSONRPC != "2.0" {
			s.tally.fail("serve stdout line is not JSON-RPC: %.200q", p.lines.Text())
			continue
		}
		id := strings.Trim(string(m.ID), `"`)
		if id == "init" || id == "" {
			continue
		}
		answered++
		ok := m.Result != nil && !m.Result.IsError
		if id == "recall" {
			if ok {
				s.tally.mu.Lock()
				s.tally.recalls++
				s.tally.mu.Unlock()
			} else {
				s.tally.fail("mcp recall: %s", p.lines.Text())
			}
			continue
		}
		if !ok {
			s.tally.fail("mcp remember: %.300s", p.lines.Text())
			continue
		}
		s.tally.ack(contents[id])
	}
	if answered < writes+1 {
		s.tally.fail("serve answered %d of %d requests", answered, writes+1)
	}
	p.in.Close()
	if err := p.cmd.Wait(); err != nil {
		s.tally.fail("serve exit: %v", err)
	}
}

// hooks runs one capture hook (two notes) and one prompt hook.
func (s *soak) hooks(ctx context.Context, round, h int) {
	dir := filepath.Join(s.home, "transcripts")
	os.MkdirAll(dir, 0o700)
	tr := filepath.Join(dir, fmt.Sprintf("r%d-h%d.jsonl", round, h))
	var notes []string
	var b bytes.Buffer
	for j := range 2 {
		note := fmt.Sprintf("%s round %d hook %d note %d", s.tag, round, h, j)
		notes = append(notes, note)
		line, _ := json.Marshal(map[string]any{"type": "user", "message": map[string]any{"role": "user", "content": "remember: " + note}})
		b.Write(append(line, '\n'))
	}
	os.WriteFile(tr, b.Bytes(), 0o600)
	in, _ := json.Marshal(map[string]any{"session_id": fmt.Sprintf("s%d", h), "cwd": s.home, "transcript_path": tr, "hook_event_name": "SessionEnd", "reason": "other"})
	c := s.cmd(ctx, "hook", "--capture", "session-end")
	c.Stdin = bytes.NewReader(in)
	if out, err := c.CombinedOutput(); err != nil {
		s.tally.fail("capture hook: %v: %s", err, out)
	} else {
		for _, n := range notes {
			s.tally.ack(n)
		}
	}
	in, _ = json.Marshal(map[string]any{"session_id": fmt.Sprintf("s%d", h), "cwd": s.home, "hook_event_name": "UserPromptSubmit", "prompt": "what did the server note say?"})
	c = s.cmd(ctx, "hook", "user-prompt-submit")
	c.Stdin = bytes.NewReader(in)
	if out, err := c.Output(); err != nil {
		s.tally.fail("prompt hook: %v", err)
	} else if len(out) > 0 && !json.Valid(out) {
		s.tally.fail("prompt hook printed something that is not JSON: %.200q", out)
	}
}

// kill starts a server, writes until a random moment, SIGKILLs it; the
// writes it acknowledged before must survive.
func (s *soak) kill(round, k int) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p, err := s.startServe(ctx)
	if err != nil {
		s.tally.fail("start serve: %v", err)
		return
	}
	contents := map[string]string{}
	var b strings.Builder
	for i := range 2000 {
		content := strings.TrimSpace(fmt.Sprintf("%s round %d kill %d note %d %s", s.tag, round, k, i, strings.Repeat("pad ", i%40)))
		contents[strconv.Itoa(i)] = content
		b.WriteString(rememberLine(i, content))
	}
	go func() { io.WriteString(p.in, b.String()) }()
	deadline := time.Now().Add(time.Duration(300+mrand.IntN(700)) * time.Millisecond)
	var pending []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		for p.lines.Scan() {
			var m rpcMsg
			if json.Unmarshal(p.lines.Bytes(), &m) != nil || m.Result == nil || m.Result.IsError {
				continue
			}
			if c, ok := contents[strings.Trim(string(m.ID), `"`)]; ok {
				pending = append(pending, c) // acknowledged: the answer was read
			}
		}
	}()
	time.Sleep(time.Until(deadline))
	p.cmd.Process.Signal(syscall.SIGKILL)
	p.cmd.Wait()
	<-done
	for _, c := range pending {
		s.tally.ack(c)
	}
	s.tally.mu.Lock()
	s.tally.kills++
	s.tally.mu.Unlock()
}

// hostile feeds one server what a broken or malicious client might send;
// it must answer what can be answered, keep stdout protocol-only and stay up.
func (s *soak) hostile(round int) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s.tally.mu.Lock()
	s.tally.hostileRuns++
	s.tally.mu.Unlock()
	p, err := s.startServe(ctx)
	if err != nil {
		s.tally.fail("start serve: %v", err)
		return
	}
	var b strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&b, `{"jsonrpc":"2.0","id":"p%d","method":"tools/call","params":{"name":"recall","arguments":{"query":"pipelined %d","mode":"keyword"}}}`+"\n", i, i)
	}
	b.WriteString(`{"jsonrpc":"2.0","id":"big","method":"tools/call","params":{"name":"remember","arguments":{"content":"` + strings.Repeat("x", 10<<20) + `"}}}` + "\n")
	b.WriteString(`{"jsonrpc":"2.0","id":"deep","method":"tools/call","params":{"name":"recall","arguments":{"query":` + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + `}}}` + "\n")
	b.WriteString(`{"jsonrpc":"2.0","id":"nul","method":"tools/call","params":{"name":"remember","arguments":{"content":"a\u0000b"}}}` + "\n")
	b.WriteString(`{"jsonrpc":"2.0","id":"type","method":"tools/call","params":{"name":"remember","arguments":{"content":42,"tags":{"x":1}}}}` + "\n")
	b.WriteString("this is not json\x00\xff\n")
	b.WriteString(fmt.Sprintf(`{"jsonrpc":"2.0","id":"final","method":"tools/call","params":{"name":"remember","arguments":{"content":"%s round %d hostile survivor"}}}`+"\n", s.tag, round))
	// Then EOF: the server answers everything it read and exits, so the
	// answers are all read (they arrive in any order).
	go func() { io.WriteString(p.in, b.String()); p.in.Close() }()
	got := map[string]bool{}
	ok := true
	for p.lines.Scan() {
		var m rpcMsg
		if json.Unmarshal(p.lines.Bytes(), &m) != nil || m.JSONRPC != "2.0" {
			s.tally.fail("hostile: stdout line is not JSON-RPC: %.200q", p.lines.Text())
			ok = false
			continue
		}
		id := strings.Trim(string(m.ID), `"`)
		got[id] = true
		if id == "final" {
			if m.Result == nil || m.Result.IsError {
				s.tally.fail("hostile: the write after the hostile input failed: %.300s", p.lines.Text())
				ok = false
			} else {
				s.tally.ack(fmt.Sprintf("%s round %d hostile survivor", s.tag, round))
			}
		}
		for _, want := range []string{"big", "nul", "type"} {
			if id == want && (m.Result == nil || !m.Result.IsError) && m.Error == nil {
				s.tally.fail("hostile: %s was accepted: %.300s", id, p.lines.Text())
				ok = false
			}
		}
	}
	n := 0
	for i := range 1000 {
		if got["p"+strconv.Itoa(i)] {
			n++
		}
	}
	if n != 1000 || !got["final"] {
		s.tally.fail("hostile: %d of 1000 pipelined requests answered, final answered %v", n, got["final"])
		ok = false
	}
	if err := p.cmd.Wait(); err != nil {
		s.tally.fail("hostile: serve exit: %v", err)
		ok = false
	}
	if ok {
		s.tally.mu.Lock()
		s.tally.hostileOK++
		s.tally.mu.Unlock()
	}
}

// verify stores what is still spooled (a writing command does) and compares
// the store's contents with what was acknowledged.
func (s *soak) verify() (acked, present, lost, dups int) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for i := 0; i < 30; i++ {
		if out, err := s.cmd(ctx, "remember", s.tag+" drain").CombinedOutput(); err != nil {
			s.tally.fail("drain: %v: %s", err, out)
		}
		left, _ := filepath.Glob(filepath.Join(s.home, "spool", "*.jsonl"))
		if len(left) == 0 {
			break
		}
	}
	out, err := s.cmd(ctx, "export", "--all").Output()
	if err != nil {
		s.tally.fail("export: %v", err)
	}
	count := map[string]int{}
	for _, line := range bytes.Split(out, []byte("\n")) {
		var m struct {
			Content string `json:"content"`
		}
		if json.Unmarshal(line, &m) == nil && strings.HasPrefix(m.Content, s.tag) {
			count[m.Content]++
		}
	}
	for c := range s.tally.acked {
		acked++
		switch n := count[c]; {
		case n == 0:
			lost++
			if lost <= 5 {
				s.t.Logf("lost: %q", c)
			}
		case n > 1:
			dups++
			present++
		default:
			present++
		}
	}
	return acked, present, lost, dups
}

func (s *soak) integrity(store string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if store != "sqlite" {
		if out, err := s.cmd(ctx, "stats", "--json").CombinedOutput(); err != nil {
			return fmt.Sprintf("stats-failed(%v: %.100s)", err, out)
		}
		return "ok"
	}
	out, _ := s.cmd(ctx, "doctor", "--skip-model", "--json").Output()
	var rep struct {
		Store struct {
			Integrity string `json:"integrity"`
		} `json:"store"`
	}
	if err := json.Unmarshal(out, &rep); err != nil {
		return "doctor-failed"
	}
	if rep.Store.Integrity != "ok" {
		return strconv.Quote(rep.Store.Integrity)
	}
	return "ok"
}

// freshSchema makes a schema of its own in MNEMO_TEST_POSTGRES's database
// and returns a URL that uses it (dropped at the end).
func freshSchema(t *testing.T) string {
	base := os.Getenv("MNEMO_TEST_POSTGRES")
	if base == "" {
		t.Fatal("SOAK_STORE=postgres needs MNEMO_TEST_POSTGRES (eval \"$(bash scripts/ci-postgres.sh)\")")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS vector SCHEMA public; CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public`); err != nil {
		t.Fatal(err)
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "mnemo_soak_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if c, err := pgx.Connect(ctx, base); err == nil {
			c.Exec(ctx, `DROP SCHEMA `+schema+` CASCADE`)
			c.Close(ctx)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema+",public")
	u.RawQuery = q.Encode()
	return u.String()
}
