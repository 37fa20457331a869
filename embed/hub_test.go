package embed

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mnemo-mcp/mnemo/internal/testmodels"
)

const fakeRepo = "test-org/bert-tiny"

// fakeHub mimics the Hugging Face file URLs for one repository built from
// the shared bert-tiny files: /{repo}/resolve/{rev}/{path}. The ONNX file is
// "LFS": the hub answers 302 with X-Linked-Size / X-Linked-Etag (its sha256)
// and a CDN route serves the bytes with Range support. Other files are
// served directly with a git-sha1-like ETag, as the hub does.
type fakeHub struct {
	t     *testing.T
	srv   *httptest.Server
	files map[string]string // repo path → local file
	onnx  []byte
	sum   string

	mu         sync.Mutex
	hubGets    map[string]int // resolve requests per path
	onnxFull   int            // CDN responses that sent the ONNX from byte 0
	onnxRanges []int64        // start offsets of ranged CDN requests
	total      int            // all requests

	interruptFirst int   // abort this many ONNX transfers halfway
	corrupt        bool  // serve damaged ONNX bytes (with the true sha256)
	chunkDelay     bool  // trickle the ONNX so concurrent clients overlap
	status         int   // answer every resolve with this status, if set
	log            []int // statuses, for debugging
}

func newFakeHub(t *testing.T) *fakeHub {
	tiny := testmodels.Dir(t, testmodels.BertTiny)
	h := &fakeHub{t: t, hubGets: map[string]int{}, files: map[string]string{
		"onnx/model.onnx": filepath.Join(tiny, "model.onnx"),
	}}
	for _, f := range []string{"tokenizer.json", "config.json", "modules.json", "sentence_bert_config.json",
		"1_Pooling/config.json", "special_tokens_map.json", "tokenizer_config.json"} {
		h.files[f] = filepath.Join(tiny, f)
	}
	var err error
	if h.onnx, err = os.ReadFile(h.files["onnx/model.onnx"]); err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(h.onnx)
	h.sum = hex.EncodeToString(s[:])
	h.srv = httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *fakeHub) serve(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.total++
	h.mu.Unlock()
	if strings.HasPrefix(r.URL.Path, "/cdn/") {
		h.serveCDN(w, r)
		return
	}
	prefix := "/" + fakeRepo + "/resolve/main/"
	if !strings.HasPrefix(r.URL.Path, prefix) {
		http.Error(w, "Repository not found", http.StatusNotFound)
		return
	}
	p := strings.TrimPrefix(r.URL.Path, prefix)
	h.mu.Lock()
	h.hubGets[p]++
	status := h.status
	h.mu.Unlock()
	if status != 0 {
		http.Error(w, http.StatusText(status), status)
		return
	}
	local, ok := h.files[p]
	if !ok {
		http.Error(w, "Entry not found", http.StatusNotFound)
		return
	}
	w.Header().Set("X-Repo-Commit", "0123456789abcdef0123456789abcdef01234567")
	if p == "onnx/model.onnx" {
		w.Header().Set("X-Linked-Size", strconv.Itoa(len(h.onnx)))
		w.Header().Set("X-Linked-Etag", `"`+h.sum+`"`)
		w.Header().Set("ETag", `"`+h.sum+`"`)
		http.Redirect(w, r, "/cdn/"+h.sum, http.StatusFound)
		return
	}
	data, err := os.ReadFile(local)
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	w.Header().Set("ETag", `"da39a3ee5e6b4b0d3255bfef95601890afd80709"`) // git blob sha1: not a sha256
	http.ServeContent(w, r, p, time.Time{}, bytes.NewReader(data))
}

func (h *fakeHub) serveCDN(w http.ResponseWriter, r *http.Request) {
	body := h.onnx
	if h.corrupt {
		body = bytes.Clone(body)
		body[len(body)/2] ^= 0xff
	}
	start := int64(0)
	if rg := r.Header.Get("Range"); rg != "" {
		v := strings.TrimSuffix(strings.TrimPrefix(rg, "bytes="), "-")
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n >= int64(len(body)) {
			w.Header().Set("Content-Range", fmt.Sprintf("bytes */%d", len(body)))
			w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
			return
		}
		start = n
	}
	h.mu.Lock()
	interrupt := h.interruptFirst > 0
	if interrupt {
		h.interruptFirst--
	}
	if start == 0 {
		h.onnxFull++
	} else {
		h.onnxRanges = append(h.onnxRanges, start)
	}
	h.mu.Unlock()
	w.Header().Set("Content-Length", strconv.FormatInt(int64(len(body))-start, 10))
	w.Header().Set("ETag", `"cdn-etag-not-a-sha"`)
	if start > 0 {
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, len(body)-1, len(body)))
		w.WriteHeader(http.StatusPartialContent)
	}
	rest := body[start:]
	if interrupt {
		// Send half, then drop the connection mid-body.
		w.Write(rest[:len(rest)/2])
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	}
	const chunk = 1 << 20
	for len(rest) > 0 {
		n := min(chunk, len(rest))
		if _, err := w.Write(rest[:n]); err != nil {
			return
		}
		rest = rest[n:]
		if h.chunkDelay {
			w.(http.Flusher).Flush()
			time.Sleep(15 * time.Millisecond)
		}
	}
}

func (h *fakeHub) opts(cache string) Options {
	return Options{Model: fakeRepo, HubURL: h.srv.URL, CacheDir: cache, NoWarmup: true}
}

func (h *fakeHub) counts() (full int, ranges []int64, total int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.onnxFull, append([]int64(nil), h.onnxRanges...), h.total
}

func cachedOnnx(cache string) string {
	return filepath.Join(cache, "models", "test-org", "bert-tiny", "onnx", "model.onnx")
}

func TestDownloadThenOffline(t *testing.T) {
	h := newFakeHub(t)
	g := testmodels.LoadGolden(t, testmodels.BertTiny)
	cache := t.TempDir()
	var progress bytes.Buffer
	o := h.opts(cache)
	o.Progress = &progress
	e := loadTest(t, o)
	v, err := e.Embed(context.Background(), g.Sentences[:1])
	must(t, err)
	checkClose(t, "downloaded model", v[0], g.Embeddings[0])
	info := e.Info()
	if info.ModelID != fakeRepo || info.SHA256 != h.sum || info.OnnxFile != "onnx/model.onnx" ||
		info.Path != filepath.Join(cache, "models", "test-org", "bert-tiny") {
		t.Errorf("info %+v", info)
	}
	for _, want := range []string{"downloading " + fakeRepo, "onnx/model.onnx", "100%", "ready in"} {
		if !strings.Contains(progress.String(), want) {
			t.Errorf("progress output lacks %q:\n%s", want, progress.String())
		}
	}
	// Optional files the repo lacks were asked for once and skipped.
	if h.hubGets["config_sentence_transformers.json"] != 1 || h.hubGets["model.onnx"] != 0 {
		t.Errorf("hub requests: %v", h.hubGets)
	}
	parts, _ := filepath.Glob(filepath.Join(cache, "models", "*", "*", "*.part"))
	if len(parts) != 0 {
		t.Errorf("leftover partial files: %v", parts)
	}

	// A second engine, offline, uses the cache and makes no request.
	_, _, before := h.counts()
	o.Offline = true
	e2 := loadTest(t, o)
	if e2.Info().SHA256 != h.sum {
		t.Fatal("offline engine loaded something else")
	}
	if _, _, after := h.counts(); after != before {
		t.Errorf("offline load made %d requests", after-before)
	}
}

func TestOfflineNotCached(t *testing.T) {
	h := newFakeHub(t)
	o := h.opts(t.TempDir())
	o.Offline = true
	_, err := Load(context.Background(), o)
	if !errors.Is(err, ErrNotCached) {
		t.Fatalf("offline with empty cache: %v", err)
	}
	for _, want := range []string{fakeRepo, "offline", "never been downloaded", "mnemo pull " + fakeRepo, "MNEMO_MODEL"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if _, _, n := h.counts(); n != 0 {
		t.Errorf("offline mode made %d requests", n)
	}
}

func TestDownloadResumesInterruptedTransfer(t *testing.T) {
	h := newFakeHub(t)
	h.interruptFirst = 1
	cache := t.TempDir()
	e := loadTest(t, h.opts(cache))
	if e.Info().SHA256 != h.sum {
		t.Fatal("wrong model loaded")
	}
	full, ranges, _ := h.counts()
	half := int64(len(h.onnx) / 2)
	if full != 1 || len(ranges) != 1 || ranges[0] != half {
		t.Fatalf("ONNX requests: %d from byte 0, ranged from %v; want one full then one resumed at %d", full, ranges, half)
	}
}

func TestDownloadResumesPartialFileFromEarlierProcess(t *testing.T) {
	h := newFakeHub(t)
	cache := t.TempDir()
	// An earlier process died a third of the way in.
	must(t, os.MkdirAll(filepath.Dir(cachedOnnx(cache)), 0o755))
	third := len(h.onnx) / 3
	must(t, os.WriteFile(cachedOnnx(cache)+".part", h.onnx[:third], 0o644))
	e := loadTest(t, h.opts(cache))
	if e.Info().SHA256 != h.sum {
		t.Fatal("wrong model loaded")
	}
	full, ranges, _ := h.counts()
	if full != 0 || len(ranges) != 1 || ranges[0] != int64(third) {
		t.Fatalf("ONNX requests: %d full, ranges %v; want one resumed at %d", full, ranges, third)
	}

	// A stale partial file from a different version fails the checksum
	// after resuming; the download starts over and succeeds.
	h2 := newFakeHub(t)
	cache2 := t.TempDir()
	must(t, os.MkdirAll(filepath.Dir(cachedOnnx(cache2)), 0o755))
	must(t, os.WriteFile(cachedOnnx(cache2)+".part", bytes.Repeat([]byte{7}, third), 0o644))
	e2 := loadTest(t, h2.opts(cache2))
	if e2.Info().SHA256 != h.sum {
		t.Fatal("wrong model loaded after a stale partial file")
	}
	if full, ranges, _ := h2.counts(); full != 1 || len(ranges) != 1 {
		t.Fatalf("stale partial: %d full, ranges %v; want one resume, then one fresh download", full, ranges)
	}
}

func TestDownloadRejectsCorruptFile(t *testing.T) {
	h := newFakeHub(t)
	h.corrupt = true
	cache := t.TempDir()
	_, err := Load(context.Background(), h.opts(cache))
	if err == nil || !strings.Contains(err.Error(), "sha256 mismatch") || !strings.Contains(err.Error(), h.sum) {
		t.Fatalf("corrupt download: %v", err)
	}
	dir := filepath.Join(cache, "models", "test-org", "bert-tiny")
	for _, p := range []string{cachedOnnx(cache), cachedOnnx(cache) + ".part", filepath.Join(dir, manifestName)} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s left in place after a failed download", p)
		}
	}
	// Once the hub serves good bytes, the same cache recovers.
	h.corrupt = false
	loadTest(t, h.opts(cache))
}

func TestCachedFileDamagedOnDisk(t *testing.T) {
	h := newFakeHub(t)
	cache := t.TempDir()
	e := loadTest(t, h.opts(cache))
	e.Close()
	// Same size, different bytes: the size check cannot see it, the sha can.
	damaged := bytes.Clone(h.onnx)
	damaged[len(damaged)-10] ^= 1
	must(t, os.WriteFile(cachedOnnx(cache), damaged, 0o644))
	_, err := Load(context.Background(), h.opts(cache))
	if err == nil || !strings.Contains(err.Error(), "damaged") || !strings.Contains(err.Error(), "mnemo pull") {
		t.Fatalf("damaged cache: %v", err)
	}
	dir, err := Pull(context.Background(), h.opts(cache))
	must(t, err)
	if sum, _ := hashFile(cachedOnnx(cache)); sum != h.sum || dir != filepath.Dir(filepath.Dir(cachedOnnx(cache))) {
		t.Fatalf("pull did not repair the file (sha %s, dir %s)", sum, dir)
	}
	loadTest(t, h.opts(cache))
}

func TestHubErrors(t *testing.T) {
	h := newFakeHub(t)
	o := h.opts(t.TempDir())
	o.Model = "test-org/does-not-exist"
	_, err := Load(context.Background(), o)
	if !errors.Is(err, ErrInvalidModel) || !strings.Contains(err.Error(), "has no ONNX model") {
		t.Errorf("missing repo: %v", err)
	}
	h.status = http.StatusUnauthorized
	_, err = Load(context.Background(), h.opts(t.TempDir()))
	if err == nil || !strings.Contains(err.Error(), "gated or private") {
		t.Errorf("401: %v", err)
	}
	h.status = http.StatusServiceUnavailable
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = Load(ctx, h.opts(t.TempDir()))
	if err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("503: %v", err)
	}
}

func TestParseModelRef(t *testing.T) {
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
		r, err := parseModelRef(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: err %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || r.id != c.id || r.repo != c.repo || (c.repo != "" && r.revision != c.rev) {
			t.Errorf("%q: %+v %v", c.in, r, err)
		}
	}
}

// TestHelperProcess is one of the "processes" of
// TestConcurrentProcessesDownloadOnce; it does nothing in a normal run.
func TestHelperProcess(t *testing.T) {
	if os.Getenv("MNEMO_EMBED_HELPER") != "1" {
		t.Skip("helper process")
	}
	o := Options{Model: fakeRepo, HubURL: os.Getenv("MNEMO_HELPER_HUB"), CacheDir: os.Getenv("MNEMO_HELPER_CACHE"), NoWarmup: true}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	e, err := Load(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(3)
	}
	v, err := e.Embed(ctx, []string{"A cat sat on the mat."})
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(4)
	}
	fmt.Printf("%s %.6f\n", e.Info().SHA256, v[0][0])
	os.Exit(0)
}

func TestConcurrentProcessesDownloadOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 16 processes")
	}
	h := newFakeHub(t)
	h.chunkDelay = true // ~0.3 s transfer, so the processes overlap
	cache := t.TempDir()
	const procs = 16
	outs := make([]bytes.Buffer, procs)
	errs := make([]bytes.Buffer, procs)
	cmds := make([]*exec.Cmd, procs)
	for i := range cmds {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), "MNEMO_EMBED_HELPER=1", "MNEMO_HELPER_HUB="+h.srv.URL, "MNEMO_HELPER_CACHE="+cache)
		cmd.Stdout, cmd.Stderr = &outs[i], &errs[i]
		must(t, cmd.Start())
		cmds[i] = cmd
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("process %d: %v\n%s", i, err, errs[i].String())
		}
	}
	first := outs[0].String()
	for i := range outs {
		if outs[i].String() != first || !strings.HasPrefix(first, h.sum) {
			t.Errorf("process %d printed %q, process 0 %q", i, outs[i].String(), first)
		}
	}
	full, ranges, _ := h.counts()
	if full != 1 || len(ranges) != 0 {
		t.Errorf("the ONNX file was sent %d times from byte 0 and %d times ranged; want exactly one download", full, len(ranges))
	}
	for p, n := range h.hubGets {
		if n != 1 {
			t.Errorf("%s requested %d times; want 1", p, n)
		}
	}
}
