package ui

// The browser test: a real `mnemo ui` (MNEMO_UI_BIN, built by `make
// test-ui`) on a seeded store, driven by headless Chromium over the Chrome
// DevTools Protocol (chromedp, a test-only dependency: it is not linked into
// mnemo). It asserts on the DOM and saves screenshots for CI's artifacts.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/mnemo-mcp/mnemo/pkg/jsonl"
	"github.com/mnemo-mcp/mnemo/pkg/memory"
)

func chromiumPath() string {
	for _, p := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	return ""
}

// writeJSONL writes memories as an import file.
func writeJSONL(t *testing.T, path string, ms []memory.Memory) {
	t.Helper()
	var buf bytes.Buffer
	for _, m := range ms {
		if err := jsonl.Write(&buf, m, false); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

func mem(t time.Time, content, project string, tags ...string) memory.Memory {
	return memory.Memory{ID: memory.NewID(t), Content: content, Project: project, Tags: tags, Source: memory.SourceMCP,
		Author: "ann@laptop", Metadata: map[string]any{"session_id": "sess-42"}, CreatedAt: t, UpdatedAt: t, AccessedAt: t}
}

func TestBrowser(t *testing.T) {
	bin := os.Getenv("MNEMO_UI_BIN")
	if bin == "" {
		t.Skip("MNEMO_UI_BIN unset: `make test-ui` builds mnemo and runs this test")
	}
	chrome := chromiumPath()
	if chrome == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium not installed (.ci/run installs it)")
		}
		t.Skip("chromium not installed")
	}
	shots := os.Getenv("MNEMO_UI_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	env := append(os.Environ(), "MNEMO_HOME="+home, "MNEMO_OFFLINE=1", "MNEMO_LOG_LEVEL=info")
	if models := os.Getenv("MNEMO_TEST_MODELS"); models != "" {
		env = append(env, "MNEMO_MODEL="+filepath.Join(models, "minilm-l6-synthetic"))
	}
	run := func(args ...string) {
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("mnemo %v: %v\n%s", args, err, out)
		}
	}

	// The seeded store: a few projects, a session, and hostile text.
	now := time.Now().Add(-time.Hour)
	seedFile := filepath.Join(home, "seed.jsonl")
	ms := []memory.Memory{
		mem(now.Add(-72*time.Hour), "The staging database listens on port 5433", "webshop", "infra", "db"),
		mem(now.Add(-48*time.Hour), "Deploys go through the blue-green pipeline on Fridays", "webshop", "deploy"),
		mem(now.Add(-30*time.Hour), `<script>document.title="pwned"</script> never run me`, "scratch"),
		mem(now.Add(-20*time.Hour), "The user prefers tabs over spaces in Go code", memory.GlobalProject, "style"),
		mem(now.Add(-10*time.Hour), "Ask before force-pushing to main", memory.GlobalProject, "git"),
	}
	writeJSONL(t, seedFile, ms)
	run("import", seedFile)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ui := exec.CommandContext(ctx, bin, "ui", "--no-open", "--port", "0")
	ui.Env = env
	var stderr bytes.Buffer
	ui.Stderr = &stderr
	stdout, err := ui.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := ui.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ui.Process.Signal(os.Interrupt); _ = ui.Wait() }()
	sc := bufio.NewScanner(stdout)
	var url string
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "mnemo ui: "); ok {
			url = u
			break
		}
	}
	if !strings.HasPrefix(url, "http://127.0.0.1:") || !strings.Contains(url, "token=") {
		t.Fatalf("no URL printed (%q); stderr:\n%s", url, stderr.String())
	}
	go func() { // drain
		for sc.Scan() {
		}
	}()
	base := url[:strings.Index(url, "/?")]

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chrome),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1200, 900),
	}
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()

	fail := func(what string, err error) {
		t.Helper()
		// What the page showed, for the log and the artifacts.
		dctx, dcancel := context.WithTimeout(bctx, 5*time.Second)
		defer dcancel()
		if html, herr := chromedp.Run(dctx, chromedp.OuterHTML(chromedp.CSS("body"))); herr == nil {
			t.Logf("page at failure:\n%s", html)
		}
		if buf, serr := chromedp.Run(dctx, chromedp.FullScreenshot(100)); serr == nil {
			_ = os.WriteFile(filepath.Join(shots, "failure.png"), buf, 0o644)
		}
		t.Fatalf("%s: %v\nmnemo ui stderr:\n%s", what, err, stderr.String())
	}
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, scancel := context.WithTimeout(bctx, 20*time.Second)
		defer scancel()
		if err := chromedp.Do(sctx, steps...); err != nil {
			fail(what, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			fail("text of "+sel, err)
		}
		return v
	}
	count := func(sel string) int {
		t.Helper()
		v, err := chromedp.Run(bctx, chromedp.Evaluate[int](`document.querySelectorAll(`+"`"+sel+"`"+`).length`))
		if err != nil {
			fail("count "+sel, err)
		}
		return v
	}
	shot := func(name string) {
		t.Helper()
		sctx, scancel := context.WithTimeout(bctx, 20*time.Second)
		defer scancel()
		buf, err := chromedp.Run(sctx, chromedp.FullScreenshot(100))
		if err != nil {
			fail("screenshot "+name, err)
		}
		if err := os.WriteFile(filepath.Join(shots, name+".png"), buf, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	visible := func(sel string) chromedp.Action[chromedp.Void] { return chromedp.WaitVisible(chromedp.CSS(sel)) }
	click := func(sel string) chromedp.Action[chromedp.Void] { return chromedp.Click(chromedp.CSS(sel)) }
	articles := "#memories article.memory"

	// The first run starts the browser, for bctx's whole life; later steps
	// get their own time limits.
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}

	// Browse: the token becomes a cookie, every memory is listed, newest
	// first, and the script in a memory is text.
	do("browse", chromedp.Navigate(url), visible("#memories"))
	shot("browse")
	if n := count(articles); n != len(ms) {
		t.Fatalf("browse shows %d memories, want %d", n, len(ms))
	}
	title, err := chromedp.Run(bctx, chromedp.Title())
	if err != nil {
		fail("title", err)
	}
	evil := text("#memories article:nth-child(3) .content")
	if strings.Contains(title, "pwned") || !strings.Contains(evil, `<script>document.title="pwned"</script>`) {
		t.Fatalf("script memory: title %q, text %q", title, evil)
	}
	if first := text("#memories article:first-child .content"); !strings.Contains(first, "force-pushing") {
		t.Fatalf("newest first: first is %q", first)
	}
	loc, err := chromedp.Run(bctx, chromedp.Location())
	if err != nil || strings.Contains(loc, "token=") {
		t.Fatalf("token still in the address bar: %s %v", loc, err)
	}

	// Filter by project.
	do("filter", chromedp.Navigate(base+"/?project=webshop"), visible("#memories"))
	if n := count(articles); n != 2 {
		t.Fatalf("project filter shows %d, want 2", n)
	}

	// Search (hybrid; the model loads on first use, keyword meanwhile).
	do("search", chromedp.Navigate(base+"/search"), visible("#q"),
		chromedp.SetValue(chromedp.CSS("#q"), "staging database port"), click("#search-go"), visible("#search-info"))
	shot("search")
	if hit := text("#results article:first-child"); !strings.Contains(hit, "staging database") || !strings.Contains(hit, "score") {
		t.Fatalf("search: info %q, first hit %q", text("#search-info"), hit)
	}

	// Edit: a new version with the same project and tags.
	const edited = "The staging database listens on port 6543"
	do("edit", click("#results article:first-child a.id"), visible("#edit"),
		chromedp.SetValue(chromedp.CSS("#edit"), edited), click("#save-edit"), visible("#flash"))
	shot("edit")
	if flash, content := text("#flash"), text("#content"); !strings.Contains(flash, "Saved as") || content != edited {
		t.Fatalf("edit: flash %q content %q", flash, content)
	}

	// Forget, with confirmation, then undo.
	do("forget", click("#forget"), visible("#confirm-forget"))
	shot("forget-confirm")
	do("confirm", click("#confirm-forget"), visible("#undo"))
	shot("forgotten")
	// Forgetting the new version makes the one it replaced current again.
	if n := count(articles); n != len(ms) {
		t.Fatalf("after forget %d memories, want %d (the previous version back)", n, len(ms))
	}
	do("undo", click("#undo"), visible("#content"))
	if flash, content := text("#flash"), text("#content"); content != edited || !strings.Contains(flash, "Restored") {
		t.Fatalf("undo: flash %q content %q", flash, content)
	}

	// Health.
	do("health", chromedp.Navigate(base+"/health"), visible("svg.chart"))
	shot("health")
	// Every stored memory counts, the edit's previous version included.
	if total := text("#total"); strings.TrimSpace(total) != fmt.Sprint(len(ms)+1) {
		t.Fatalf("health total %q", total)
	}

	// Live: another process writes; the open page reloads by itself.
	do("live: open", chromedp.Navigate(base+"/"), visible("#memories"))
	other := filepath.Join(home, "other.jsonl")
	writeJSONL(t, other, []memory.Memory{mem(time.Now(), "Written by another session just now", "webshop")})
	run("import", other)
	do("live: update", chromedp.WaitVisible(chromedp.Search(`//p[contains(@class,"content")][contains(., "another session")]`)))

	// 375 px wide: nothing wider than the screen.
	do("narrow", chromedp.EmulateViewport(375, 800), chromedp.Navigate(base+"/"), visible("#memories"))
	shot("narrow-375")
	width, err := chromedp.Run(bctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	if err != nil || width > 375 {
		t.Fatalf("page is %d px wide at a 375 px viewport (%v)", width, err)
	}

	// Reading works without JavaScript.
	do("no script", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	}), chromedp.Navigate(base+"/"), visible("#memories"))
	if n := count(articles); n != len(ms)+1 {
		t.Fatalf("without JavaScript %d memories, want %d", n, len(ms)+1)
	}
}
