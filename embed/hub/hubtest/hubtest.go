// Package hubtest serves a fake Hugging Face hub for tests of model
// downloads (package hub and the engine above it).
package hubtest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Repo is the one repository the fake hub holds.
const Repo = "test-org/bert-tiny"

// Hub mimics the Hugging Face file URLs for Repo, built from a model folder
// (model.onnx, tokenizer.json and the usual configs): /{repo}/resolve/{rev}/{path}.
// The ONNX file, served as onnx/model.onnx, is "LFS": the hub answers 302
// with X-Linked-Size / X-Linked-Etag (its sha256) and a CDN route serves the
// bytes with Range support. Other files are served directly with a
// git-sha1-like ETag, as the hub does.
type Hub struct {
	srv   *httptest.Server
	files map[string]string // repo path → local file
	ONNX  []byte            // the ONNX file's bytes
	Sum   string            // and their sha256

	mu         sync.Mutex
	hubGets    map[string]int // resolve requests per path
	onnxFull   int            // CDN responses that sent the ONNX from byte 0
	onnxRanges []int64        // start offsets of ranged CDN requests
	total      int            // all requests

	interruptFirst int  // abort this many ONNX transfers halfway
	corrupt        bool // serve damaged ONNX bytes (with the true sha256)
	chunkDelay     bool // trickle the ONNX so concurrent clients overlap
	status         int  // answer every resolve with this status, if set
}

// New starts a fake hub serving the model folder dir; it stops when t ends.
func New(t testing.TB, dir string) *Hub {
	h := &Hub{hubGets: map[string]int{}, files: map[string]string{
		"onnx/model.onnx": filepath.Join(dir, "model.onnx"),
	}}
	for _, f := range []string{"tokenizer.json", "config.json", "modules.json", "sentence_bert_config.json",
		"1_Pooling/config.json", "special_tokens_map.json", "tokenizer_config.json"} {
		h.files[f] = filepath.Join(dir, f)
	}
	var err error
	if h.ONNX, err = os.ReadFile(h.files["onnx/model.onnx"]); err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(h.ONNX)
	h.Sum = hex.EncodeToString(s[:])
	h.srv = httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(h.srv.Close)
	return h
}

// URL is the hub's base URL.
func (h *Hub) URL() string { return h.srv.URL }

// InterruptFirst makes the next n ONNX transfers stop halfway.
func (h *Hub) InterruptFirst(n int) { h.mu.Lock(); h.interruptFirst = n; h.mu.Unlock() }

// Corrupt makes the CDN serve damaged ONNX bytes (the hub still gives the
// true sha256), or good ones again.
func (h *Hub) Corrupt(on bool) { h.mu.Lock(); h.corrupt = on; h.mu.Unlock() }

// Trickle slows the ONNX transfer (~0.3 s for bert-tiny), so concurrent
// clients overlap.
func (h *Hub) Trickle(on bool) { h.mu.Lock(); h.chunkDelay = on; h.mu.Unlock() }

// Status makes every resolve request answer status (0: serve normally).
func (h *Hub) Status(status int) { h.mu.Lock(); h.status = status; h.mu.Unlock() }

// Counts reports the ONNX transfers from byte 0, the start offsets of
// resumed ones, and all requests so far.
func (h *Hub) Counts() (full int, ranges []int64, total int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.onnxFull, append([]int64(nil), h.onnxRanges...), h.total
}

// Gets is how many times each repository path was asked for.
func (h *Hub) Gets() map[string]int {
	h.mu.Lock()
	defer h.mu.Unlock()
	m := make(map[string]int, len(h.hubGets))
	for k, v := range h.hubGets {
		m[k] = v
	}
	return m
}

func (h *Hub) serve(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.total++
	h.mu.Unlock()
	if strings.HasPrefix(r.URL.Path, "/cdn/") {
		h.serveCDN(w, r)
		return
	}
	prefix := "/" + Repo + "/resolve/main/"
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
		w.Header().Set("X-Linked-Size", strconv.Itoa(len(h.ONNX)))
		w.Header().Set("X-Linked-Etag", `"`+h.Sum+`"`)
		w.Header().Set("ETag", `"`+h.Sum+`"`)
		http.Redirect(w, r, "/cdn/"+h.Sum, http.StatusFound)
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

func (h *Hub) serveCDN(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	corrupt, chunkDelay := h.corrupt, h.chunkDelay
	h.mu.Unlock()
	body := h.ONNX
	if corrupt {
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
		if chunkDelay {
			w.(http.Flusher).Flush()
			time.Sleep(15 * time.Millisecond)
		}
	}
}
