package hub

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mnemo-mcp/mnemo/embed/hub/hubtest"
	"github.com/mnemo-mcp/mnemo/internal/testmodels"
)

func newFakeHub(t *testing.T) *hubtest.Hub {
	return hubtest.New(t, testmodels.Dir(t, testmodels.BertTiny))
}

func client(h *hubtest.Hub, cache string) Client {
	return Client{URL: h.URL() + "/", CacheDir: cache}
}

func fakeRef(t *testing.T) Ref {
	r, err := ParseRef(hubtest.Repo)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func ensure(t *testing.T, c Client, verify bool) Model {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	m, err := c.Ensure(ctx, fakeRef(t), verify)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func cachedOnnx(cache string) string {
	return filepath.Join(cache, "models", "test-org", "bert-tiny", "onnx", "model.onnx")
}

func TestDownloadThenOffline(t *testing.T) {
	h := newFakeHub(t)
	cache := t.TempDir()
	var progress bytes.Buffer
	c := client(h, cache)
	c.Progress = &progress
	m := ensure(t, c, false)
	if m.Dir != filepath.Join(cache, "models", "test-org", "bert-tiny") || m.OnnxFile != "onnx/model.onnx" || m.OnnxSHA != h.Sum {
		t.Errorf("model %+v", m)
	}
	if sum, err := FileSHA256(cachedOnnx(cache)); err != nil || sum != h.Sum {
		t.Errorf("cached ONNX sha256 %s, %v", sum, err)
	}
	if _, err := os.Stat(filepath.Join(m.Dir, ManifestName)); err != nil {
		t.Errorf("no manifest: %v", err)
	}
	for _, want := range []string{"downloading " + hubtest.Repo, "onnx/model.onnx", "100%", "ready in"} {
		if !strings.Contains(progress.String(), want) {
			t.Errorf("progress output lacks %q:\n%s", want, progress.String())
		}
	}
	// Optional files the repo lacks were asked for once and skipped.
	if g := h.Gets(); g["config_sentence_transformers.json"] != 1 || g["model.onnx"] != 0 {
		t.Errorf("hub requests: %v", g)
	}
	parts, _ := filepath.Glob(filepath.Join(cache, "models", "*", "*", "*.part"))
	if len(parts) != 0 {
		t.Errorf("leftover partial files: %v", parts)
	}

	// Offline, the cache answers and no request is made.
	_, _, before := h.Counts()
	c.Offline = true
	if m2 := ensure(t, c, false); m2 != m {
		t.Errorf("offline: %+v, want %+v", m2, m)
	}
	if _, _, after := h.Counts(); after != before {
		t.Errorf("offline lookup made %d requests", after-before)
	}
}

func TestOfflineNotCached(t *testing.T) {
	h := newFakeHub(t)
	c := client(h, t.TempDir())
	c.Offline = true
	_, err := c.Ensure(context.Background(), fakeRef(t), false)
	if !errors.Is(err, ErrNotCached) {
		t.Fatalf("offline with empty cache: %v", err)
	}
	for _, want := range []string{hubtest.Repo, "offline", "never been downloaded", "mnemo pull " + hubtest.Repo, "MNEMO_MODEL"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if _, _, n := h.Counts(); n != 0 {
		t.Errorf("offline mode made %d requests", n)
	}
}

func TestDownloadResumesInterruptedTransfer(t *testing.T) {
	h := newFakeHub(t)
	h.InterruptFirst(1)
	if m := ensure(t, client(h, t.TempDir()), false); m.OnnxSHA != h.Sum {
		t.Fatal("wrong model downloaded")
	}
	full, ranges, _ := h.Counts()
	half := int64(len(h.ONNX) / 2)
	if full != 1 || len(ranges) != 1 || ranges[0] != half {
		t.Fatalf("ONNX requests: %d from byte 0, ranged from %v; want one full then one resumed at %d", full, ranges, half)
	}
}

func TestDownloadResumesPartialFileFromEarlierProcess(t *testing.T) {
	h := newFakeHub(t)
	cache := t.TempDir()
	// An earlier process died a third of the way in.
	must(t, os.MkdirAll(filepath.Dir(cachedOnnx(cache)), 0o755))
	third := len(h.ONNX) / 3
	must(t, os.WriteFile(cachedOnnx(cache)+".part", h.ONNX[:third], 0o644))
	ensure(t, client(h, cache), false)
	if sum, _ := FileSHA256(cachedOnnx(cache)); sum != h.Sum {
		t.Fatal("wrong model downloaded")
	}
	full, ranges, _ := h.Counts()
	if full != 0 || len(ranges) != 1 || ranges[0] != int64(third) {
		t.Fatalf("ONNX requests: %d full, ranges %v; want one resumed at %d", full, ranges, third)
	}

	// A stale partial file from a different version fails the checksum
	// after resuming; the download starts over and succeeds.
	h2 := newFakeHub(t)
	cache2 := t.TempDir()
	must(t, os.MkdirAll(filepath.Dir(cachedOnnx(cache2)), 0o755))
	must(t, os.WriteFile(cachedOnnx(cache2)+".part", bytes.Repeat([]byte{7}, third), 0o644))
	ensure(t, client(h2, cache2), false)
	if sum, _ := FileSHA256(cachedOnnx(cache2)); sum != h.Sum {
		t.Fatal("wrong model downloaded after a stale partial file")
	}
	if full, ranges, _ := h2.Counts(); full != 1 || len(ranges) != 1 {
		t.Fatalf("stale partial: %d full, ranges %v; want one resume, then one fresh download", full, ranges)
	}
}

func TestDownloadRejectsCorruptFile(t *testing.T) {
	h := newFakeHub(t)
	h.Corrupt(true)
	cache := t.TempDir()
	_, err := client(h, cache).Ensure(context.Background(), fakeRef(t), false)
	if err == nil || !strings.Contains(err.Error(), "sha256 mismatch") || !strings.Contains(err.Error(), h.Sum) {
		t.Fatalf("corrupt download: %v", err)
	}
	dir := filepath.Join(cache, "models", "test-org", "bert-tiny")
	for _, p := range []string{cachedOnnx(cache), cachedOnnx(cache) + ".part", filepath.Join(dir, ManifestName)} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s left in place after a failed download", p)
		}
	}
	// Once the hub serves good bytes, the same cache recovers.
	h.Corrupt(false)
	ensure(t, client(h, cache), false)
}

func TestVerifyRepairsDamagedFile(t *testing.T) {
	h := newFakeHub(t)
	cache := t.TempDir()
	ensure(t, client(h, cache), false)
	// Same size, different bytes: the size check cannot see it, the sha can.
	damaged := bytes.Clone(h.ONNX)
	damaged[len(damaged)-10] ^= 1
	must(t, os.WriteFile(cachedOnnx(cache), damaged, 0o644))
	if m := ensure(t, client(h, cache), false); m.OnnxSHA != h.Sum {
		t.Fatalf("the manifest's sha256 is %s", m.OnnxSHA)
	}
	if full, _, _ := h.Counts(); full != 1 {
		t.Fatal("a lookup without verify downloaded again")
	}
	var progress bytes.Buffer
	c := client(h, cache)
	c.Progress = &progress
	ensure(t, c, true)
	if sum, _ := FileSHA256(cachedOnnx(cache)); sum != h.Sum || !strings.Contains(progress.String(), "damaged") {
		t.Fatalf("verify did not repair the file (sha %s):\n%s", sum, progress.String())
	}
}

func TestHubErrors(t *testing.T) {
	h := newFakeHub(t)
	c := client(h, t.TempDir())
	ref, err := ParseRef("test-org/does-not-exist")
	must(t, err)
	_, err = c.Ensure(context.Background(), ref, false)
	if !errors.Is(err, ErrInvalidModel) || !strings.Contains(err.Error(), "has no ONNX model") {
		t.Errorf("missing repo: %v", err)
	}
	h.Status(http.StatusUnauthorized)
	_, err = client(h, t.TempDir()).Ensure(context.Background(), fakeRef(t), false)
	if err == nil || !strings.Contains(err.Error(), "gated or private") {
		t.Errorf("401: %v", err)
	}
	h.Status(http.StatusServiceUnavailable)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = client(h, t.TempDir()).Ensure(ctx, fakeRef(t), false)
	if err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("503: %v", err)
	}
}

func TestParseRef(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		in, id, repo, rev, err string
	}{
		{"", "sentence-transformers/all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2", "main", ""},
		{"BAAI/bge-small-en-v1.5", "BAAI/bge-small-en-v1.5", "BAAI/bge-small-en-v1.5", "main", ""},
		{"org/name@v1.0", "org/name@v1.0", "org/name", "v1.0", ""},
		{dir, filepath.Base(dir), "", "", ""},
		{"./no/such/folder", "", "", "", "does not exist"},
		{"/abs/missing", "", "", "", "does not exist"},
		{"just-a-name", "", "", "", "neither"},
		{"org/name@a..b", "", "", "", "neither"},
	} {
		r, err := ParseRef(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) || !errors.Is(err, ErrInvalidModel) {
				t.Errorf("%q: err %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || r.ID != c.id || r.Repo != c.repo || (c.repo != "" && r.Revision != c.rev) || r.Local() != (c.repo == "") {
			t.Errorf("%q: %+v %v", c.in, r, err)
		}
	}
}

func TestParseRefOnnxFile(t *testing.T) {
	// An .onnx file in the Hugging Face layout: the model folder is the one
	// above onnx/, holding tokenizer.json.
	dir := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(dir, "onnx"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "tokenizer.json"), []byte("{}"), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "onnx", "model_O2.onnx"), nil, 0o644))
	r, err := ParseRef(filepath.Join(dir, "onnx", "model_O2.onnx"))
	if err != nil || r.Dir != dir || r.OnnxFile != "onnx/model_O2.onnx" || r.ID != filepath.Base(dir) {
		t.Fatalf("%+v %v", r, err)
	}
	if _, err := ParseRef(filepath.Join(dir, "tokenizer.json")); err == nil || !strings.Contains(err.Error(), "is a file") {
		t.Fatalf("a non-ONNX file: %v", err)
	}
}

func TestCacheLayout(t *testing.T) {
	if CacheRoot("/x") != "/x" || CacheRoot("") == "" {
		t.Fatal("CacheRoot")
	}
	r := Ref{ID: "org/name@refs/pr/1", Repo: "org/name", Revision: "refs/pr/1"}
	if got, want := ModelDir("/c", r), filepath.Join("/c", "models", "org", "name@refs_pr_1"); got != want {
		t.Fatalf("ModelDir %s, want %s", got, want)
	}
	r, _ = ParseRef("org/name")
	if got, want := ModelDir("/c", r), filepath.Join("/c", "models", "org", "name"); got != want {
		t.Fatalf("ModelDir %s, want %s", got, want)
	}
	// A local model needs no cache.
	local := Ref{ID: "m", Dir: "/models/m", OnnxFile: "model.onnx"}
	if m, err := (Client{Offline: true}).Ensure(context.Background(), local, true); err != nil || m.Dir != local.Dir || m.OnnxFile != local.OnnxFile {
		t.Fatalf("local: %+v %v", m, err)
	}
}

// TestHelperProcess is one of the "processes" of
// TestConcurrentProcessesDownloadOnce; it does nothing in a normal run.
func TestHelperProcess(t *testing.T) {
	if os.Getenv("MNEMO_HUB_HELPER") != "1" {
		t.Skip("helper process")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := Client{URL: os.Getenv("MNEMO_HELPER_HUB"), CacheDir: os.Getenv("MNEMO_HELPER_CACHE")}
	m, err := c.Ensure(ctx, fakeRef(t), false)
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(3)
	}
	sum, err := FileSHA256(filepath.Join(m.Dir, m.OnnxFile))
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(4)
	}
	fmt.Printf("%s %s\n", sum, m.OnnxSHA)
	os.Exit(0)
}

func TestConcurrentProcessesDownloadOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 16 processes")
	}
	h := newFakeHub(t)
	h.Trickle(true) // ~0.3 s transfer, so the processes overlap
	cache := t.TempDir()
	const procs = 16
	outs := make([]bytes.Buffer, procs)
	errs := make([]bytes.Buffer, procs)
	cmds := make([]*exec.Cmd, procs)
	for i := range cmds {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), "MNEMO_HUB_HELPER=1", "MNEMO_HELPER_HUB="+h.URL(), "MNEMO_HELPER_CACHE="+cache)
		cmd.Stdout, cmd.Stderr = &outs[i], &errs[i]
		must(t, cmd.Start())
		cmds[i] = cmd
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("process %d: %v\n%s", i, err, errs[i].String())
		}
	}
	for i := range outs {
		if want := h.Sum + " " + h.Sum + "\n"; outs[i].String() != want {
			t.Errorf("process %d printed %q, want %q", i, outs[i].String(), want)
		}
	}
	full, ranges, _ := h.Counts()
	if full != 1 || len(ranges) != 0 {
		t.Errorf("the ONNX file was sent %d times from byte 0 and %d times ranged; want exactly one download", full, len(ranges))
	}
	for p, n := range h.Gets() {
		if n != 1 {
			t.Errorf("%s requested %d times; want 1", p, n)
		}
	}
}
