package embed

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mnemo-mcp/mnemo/embed/hub"
	"github.com/mnemo-mcp/mnemo/embed/hub/hubtest"
	"github.com/mnemo-mcp/mnemo/internal/testmodels"
)

// The engine over package hub: a downloaded model loads and embeds; the
// hub's own behaviour (resume, verify, locking, errors) is tested there.

func fakeHubOptions(t *testing.T) (*hubtest.Hub, Options) {
	h := hubtest.New(t, testmodels.Dir(t, testmodels.BertTiny))
	return h, Options{Model: hubtest.Repo, HubURL: h.URL(), CacheDir: t.TempDir(), NoWarmup: true}
}

func TestDownloadThenOffline(t *testing.T) {
	h, o := fakeHubOptions(t)
	g := testmodels.LoadGolden(t, testmodels.BertTiny)
	var progress bytes.Buffer
	o.Progress = &progress
	e := loadTest(t, o)
	v, err := e.Embed(context.Background(), g.Sentences[:1])
	must(t, err)
	checkClose(t, "downloaded model", v[0], g.Embeddings[0])
	info := e.Info()
	if info.ModelID != hubtest.Repo || info.SHA256 != h.Sum || info.OnnxFile != "onnx/model.onnx" ||
		info.Path != filepath.Join(o.CacheDir, "models", "test-org", "bert-tiny") {
		t.Errorf("info %+v", info)
	}
	if !strings.Contains(progress.String(), "ready in") {
		t.Errorf("no download progress:\n%s", progress.String())
	}
	if dir, err := CachedModelDir(o.CacheDir, o.Model); err != nil || dir != info.Path {
		t.Errorf("CachedModelDir %s, %v", dir, err)
	}

	// A second engine, offline, uses the cache and makes no request.
	_, _, before := h.Counts()
	o.Offline = true
	e2 := loadTest(t, o)
	if e2.Info().SHA256 != h.Sum {
		t.Fatal("offline engine loaded something else")
	}
	if _, _, after := h.Counts(); after != before {
		t.Errorf("offline load made %d requests", after-before)
	}
}

func TestOfflineNotCached(t *testing.T) {
	_, o := fakeHubOptions(t)
	o.Offline = true
	_, err := Load(context.Background(), o)
	if !errors.Is(err, ErrNotCached) || !strings.Contains(err.Error(), "mnemo pull "+hubtest.Repo) {
		t.Fatalf("offline with empty cache: %v", err)
	}
}

func TestCachedFileDamagedOnDisk(t *testing.T) {
	h, o := fakeHubOptions(t)
	e := loadTest(t, o)
	e.Close()
	onnx := filepath.Join(e.Info().Path, "onnx", "model.onnx")
	// Same size, different bytes: the size check cannot see it, the sha can.
	damaged := bytes.Clone(h.ONNX)
	damaged[len(damaged)-10] ^= 1
	must(t, os.WriteFile(onnx, damaged, 0o644))
	_, err := Load(context.Background(), o)
	if !errors.Is(err, ErrInvalidModel) || !strings.Contains(err.Error(), "damaged") || !strings.Contains(err.Error(), "mnemo pull") {
		t.Fatalf("damaged cache: %v", err)
	}
	dir, err := Pull(context.Background(), o)
	must(t, err)
	if sum, _ := hub.FileSHA256(onnx); sum != h.Sum || dir != e.Info().Path {
		t.Fatalf("pull did not repair the file (sha %s, dir %s)", sum, dir)
	}
	loadTest(t, o)
}
