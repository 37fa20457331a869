package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"github.com/mnemo-mcp/mnemo/internal/testmodels"
)

// mnemo ui end to end in-process: the printed URL logs in (token →
// cookie), the page lists the store, and cancelling ends the server.
func TestUICommand(t *testing.T) {
	cliEnv(t, testmodels.Dir(t, testmodels.BertTiny))
	mustCLI(t, "", "remember", "ui command test <b>memory</b>")

	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- runUI(ctx, &runEnv{stdin: strings.NewReader(""), stdout: pw, stderr: io.Discard}, []string{"--no-open", "--port", "0"})
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	var url string
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "mnemo ui: "); ok {
			url = u
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("URL %q", url)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	if resp, err := c.Get(url); err != nil || resp.StatusCode != 200 {
		t.Fatalf("login: %v %v", resp, err)
	}
	resp, err := c.Get(url[:strings.Index(url, "/?")] + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "ui command test &lt;b&gt;memory&lt;/b&gt;") {
		t.Fatalf("page %d:\n%s", resp.StatusCode, body)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("ui returned %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ui did not stop when its context ended")
	}
}

func TestUIBadPort(t *testing.T) {
	cliEnv(t, testmodels.Dir(t, testmodels.BertTiny))
	if err := runUI(context.Background(), &runEnv{stdout: io.Discard, stderr: io.Discard}, []string{"--port", "70000"}); err == nil {
		t.Fatal("--port 70000 accepted")
	}
}
