package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mnemo-mcp/mnemo/internal/warm"
	"github.com/mnemo-mcp/mnemo/pkg/service"
)

// TestServeWarmSocketServesHooks: a running `mnemo serve` opens its warm
// socket, a hook (a fresh process in real life) recalls through the server's
// loaded model — a paraphrase that shares no word with the memory is
// injected — and the socket is gone once the server exits.
func TestServeWarmSocketServesHooks(t *testing.T) {
	home := hookEnv(t)
	work := filepath.Join(home, "work", "projServe")
	os.MkdirAll(work, 0o700)
	a := seedApp(t, work, memStock, memDoctor) // sets MNEMO_MODEL to MiniLM
	a.Close()

	cmd, stdin, _, stderr := startServeProcess(t)
	if _, err := stdin.Write([]byte(serveInit)); err != nil {
		t.Fatal(err)
	}
	sock := warm.SocketPath(warm.Dir(home), cmd.Process.Pid)

	// Wait until the server's model is loaded, asking through the socket as a
	// hook would (semantic only once the model is ready).
	deadline := time.Now().Add(2 * time.Minute)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		res, err := warm.Recall(ctx, warm.Dir(home), service.RecallRequest{Query: "warm-up", Project: "*"})
		cancel()
		if err == nil && res.Semantic {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("server never answered semantically on %s (last err %v)\nstderr:\n%s", sock, err, stderr)
		}
		time.Sleep(200 * time.Millisecond)
	}

	t.Setenv("MNEMO_MODEL", filepath.Join(home, "no-model-here")) // the hook itself loads no model
	got := hookContext(t, hookRun(t, promptInput(t, work, "Shares dropped steeply on Wall Street after the announcement."), "user-prompt-submit"), "UserPromptSubmit")
	if !strings.Contains(got, memStock) || strings.Contains(got, memDoctor) {
		t.Fatalf("hook through serve's warm socket should inject only the stock memory:\n%s", got)
	}

	stdin.Close() // EOF: the server exits and removes its socket
	if err := cmd.Wait(); err != nil {
		t.Fatalf("serve exit: %v\nstderr:\n%s", err, stderr)
	}
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Fatalf("warm socket %s left behind after exit (stat err %v)", sock, err)
	}
}
