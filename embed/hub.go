package embed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gofrs/flock"
	"github.com/gomlx/onnx-gomlx/onnx/parser"

	"github.com/mnemo-mcp/mnemo/pkg/config"
)

// ErrNotCached is wrapped by the error for a Hugging Face model that is not in
// the cache while Offline forbids downloading it.
var ErrNotCached = errors.New("model not in cache")

// modelRef is a parsed Options.Model: a local folder or a hub repository.
type modelRef struct {
	id       string // Info.ModelID
	dir      string // local folder (absolute), for local models
	onnxFile string // chosen ONNX file relative to dir, when the user named one
	repo     string // "org/name", for hub models
	revision string // branch, tag or commit; "main" by default
}

var (
	repoIDRe   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$`)
	revisionRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]*$`)
)

// parseModelRef decides whether s names a local model (a folder, or an .onnx
// file inside one) or a Hugging Face repo id ("org/name" or
// "org/name@revision"). An existing path always wins.
func parseModelRef(s string) (modelRef, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		s = config.DefaultModel
	}
	p := s
	if strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			p = filepath.Join(home, p[2:])
		}
	}
	if st, err := os.Stat(p); err == nil {
		abs, err := filepath.Abs(p)
		if err != nil {
			return modelRef{}, invalid("model path %s: %v", s, err)
		}
		if st.IsDir() {
			return modelRef{id: filepath.Base(abs), dir: abs}, nil
		}
		if !strings.HasSuffix(abs, ".onnx") {
			return modelRef{}, invalid("model path %s is a file; want a model folder or an .onnx file inside one", s)
		}
		// An .onnx file: its folder is the model folder, or the folder above
		// for the Hugging Face layout (onnx/model.onnx next to tokenizer.json).
		dir := filepath.Dir(abs)
		if filepath.Base(dir) == "onnx" && !exists(filepath.Join(dir, "tokenizer.json")) &&
			exists(filepath.Join(filepath.Dir(dir), "tokenizer.json")) {
			dir = filepath.Dir(dir)
		}
		rel, _ := filepath.Rel(dir, abs)
		return modelRef{id: filepath.Base(dir), dir: dir, onnxFile: filepath.ToSlash(rel)}, nil
	}
	repo, rev, hasRev := strings.Cut(s, "@")
	if looksLikePath(s) {
		return modelRef{}, invalid("model folder %s does not exist", s)
	}
	if !repoIDRe.MatchString(repo) || (hasRev && (!revisionRe.MatchString(rev) || strings.Contains(rev, ".."))) {
		return modelRef{}, invalid("%q is neither an existing model folder nor a Hugging Face repo id like %s", s, config.DefaultModel)
	}
	if rev == "" {
		rev = "main"
	}
	id := repo
	if rev != "main" {
		id += "@" + rev
	}
	return modelRef{id: id, repo: repo, revision: rev}, nil
}

func looksLikePath(s string) bool {
	return filepath.IsAbs(s) || strings.HasPrefix(s, ".") || strings.HasPrefix(s, "~") ||
		strings.Contains(s, `\`) || strings.Count(s, "/") > 1 || strings.HasSuffix(s, ".onnx")
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

// resolved is a model folder on disk, ready to load.
type resolved struct {
	dir      string
	onnxFile string // relative to dir; "" = find it
	onnxSHA  string // expected sha256 of the ONNX file when the cache knows it
}

func (e *Engine) resolve(ctx context.Context) (resolved, error) {
	if e.ref.dir != "" {
		return resolved{dir: e.ref.dir, onnxFile: e.ref.onnxFile}, nil
	}
	return newHub(e.o, e.log).ensure(ctx, e.ref, false)
}

// Pull makes sure o.Model is available locally and returns its folder: a
// local folder is checked; a hub model is downloaded into the cache if
// missing, and an existing cached copy is re-verified file by file (sha256)
// and repaired. It does not load the model.
func Pull(ctx context.Context, o Options) (string, error) {
	ref, err := parseModelRef(o.Model)
	if err != nil {
		return "", err
	}
	if ref.dir != "" {
		if _, err := inspectModel(ref.dir, ref.onnxFile); err != nil {
			return "", err
		}
		return ref.dir, nil
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.HubURL == "" {
		o.HubURL = "https://huggingface.co"
	}
	o.HubURL = strings.TrimRight(o.HubURL, "/")
	r, err := newHub(o, o.Logger).ensure(ctx, ref, true)
	return r.dir, err
}

// CachedModelDir is where a hub model lives under cacheDir ("" = default).
func CachedModelDir(cacheDir, model string) (string, error) {
	ref, err := parseModelRef(model)
	if err != nil {
		return "", err
	}
	if ref.dir != "" {
		return ref.dir, nil
	}
	return modelCacheDir(defaultCacheDir(cacheDir), ref), nil
}

func defaultCacheDir(dir string) string {
	if dir != "" {
		return dir
	}
	if base, err := os.UserCacheDir(); err == nil {
		return filepath.Join(base, "mnemo")
	}
	return filepath.Join(os.TempDir(), "mnemo-cache")
}

func modelCacheDir(root string, ref modelRef) string {
	org, name, _ := strings.Cut(ref.repo, "/")
	if ref.revision != "main" {
		name += "@" + strings.ReplaceAll(ref.revision, "/", "_")
	}
	return filepath.Join(root, "models", org, name)
}

// manifestName marks a complete, verified download. It is written last
// (atomically), so a folder without it is never loaded.
const manifestName = ".mnemo-download.json"

type manifest struct {
	Repo       string         `json:"repo"`
	Revision   string         `json:"revision"`
	Commit     string         `json:"commit,omitempty"`
	Onnx       string         `json:"onnx"`
	Files      []manifestFile `json:"files"`
	Downloaded time.Time      `json:"downloaded"`
}

type manifestFile struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

func readManifest(dir string) (*manifest, error) {
	data, err := os.ReadFile(filepath.Join(dir, manifestName))
	if err != nil {
		return nil, err
	}
	var m manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// missing lists the manifest's files that are absent or have the wrong size.
func (m *manifest) missing(dir string) []string {
	var out []string
	for _, f := range m.Files {
		st, err := os.Stat(filepath.Join(dir, filepath.FromSlash(f.Path)))
		if err != nil || st.Size() != f.Size {
			out = append(out, f.Path)
		}
	}
	return out
}

func (m *manifest) sha(p string) string {
	for _, f := range m.Files {
		if f.Path == p {
			return f.SHA256
		}
	}
	return ""
}

// hub downloads model repositories from a Hugging Face compatible server.
type hub struct {
	base     string
	root     string
	offline  bool
	progress io.Writer
	log      *slog.Logger
	client   *http.Client
}

func newHub(o Options, log *slog.Logger) *hub {
	return &hub{
		base:     o.HubURL,
		root:     defaultCacheDir(o.CacheDir),
		offline:  o.Offline,
		progress: o.Progress,
		log:      log,
		client: &http.Client{
			// Redirects are followed by hand: the hub's first response
			// carries the size and sha256 of LFS files (X-Linked-*), the CDN's
			// does not.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

// Files fetched from a repository besides the ONNX model. Only tokenizer.json
// is required; the rest refine behaviour (limits, pooling, prefixes).
var (
	onnxCandidates = []string{"onnx/model.onnx", "model.onnx"}
	requiredFiles  = []string{"tokenizer.json"}
	optionalFiles  = []string{"config.json", "modules.json", "sentence_bert_config.json", "1_Pooling/config.json",
		"special_tokens_map.json", "tokenizer_config.json", "config_sentence_transformers.json"}
)

// ensure returns the cached folder of ref, downloading it if needed. Across
// processes, a file lock next to the folder makes one process download while
// the others wait and then use its result. verify re-hashes cached files.
func (h *hub) ensure(ctx context.Context, ref modelRef, verify bool) (resolved, error) {
	dir := modelCacheDir(h.root, ref)
	if r, ok := h.cached(dir, verify); ok {
		return r, nil
	}
	if h.offline {
		what := "it has never been downloaded"
		if m, err := readManifest(dir); err == nil {
			what = "these files are missing or damaged: " + strings.Join(m.missing(dir), ", ")
		} else if exists(dir) {
			what = "its download is incomplete"
		}
		return resolved{}, fmt.Errorf("%w: offline mode (MNEMO_OFFLINE) is on and model %s is not in the cache at %s (%s); "+
			"run `mnemo pull %s` while online, or set MNEMO_MODEL to a local model folder", ErrNotCached, ref.id, dir, what, ref.id)
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return resolved{}, fmt.Errorf("create model cache: %w", err)
	}
	lock := flock.New(dir + ".lock")
	ok, err := lock.TryLock()
	if err != nil {
		return resolved{}, fmt.Errorf("lock %s: %w", lock.Path(), err)
	}
	if !ok {
		h.say("mnemo: another mnemo process is downloading %s; waiting for it\n", ref.id)
		h.log.Info("waiting for another process to download the model", "model", ref.id, "lock", lock.Path())
		if _, err := lock.TryLockContext(ctx, 100*time.Millisecond); err != nil {
			return resolved{}, fmt.Errorf("waiting for the download of %s: %w", ref.id, err)
		}
	}
	defer lock.Unlock()
	// Whoever held the lock may have finished the job.
	if r, ok := h.cached(dir, false); ok {
		return r, nil
	}
	return h.download(ctx, ref, dir)
}

// cached returns the folder if a complete download is there.
func (h *hub) cached(dir string, verify bool) (resolved, bool) {
	m, err := readManifest(dir)
	if err != nil {
		return resolved{}, false
	}
	if miss := m.missing(dir); len(miss) > 0 {
		h.log.Warn("cached model is incomplete; downloading again", "dir", dir, "missing", miss)
		return resolved{}, false
	}
	if verify {
		for _, f := range m.Files {
			p := filepath.Join(dir, filepath.FromSlash(f.Path))
			if sum, err := hashFile(p); err != nil || sum != f.SHA256 {
				h.say("mnemo: cached %s is damaged; downloading it again\n", f.Path)
				h.log.Warn("cached model file damaged", "file", p, "sha256", sum, "want", f.SHA256)
				_ = os.Remove(p)
				return resolved{}, false
			}
		}
	}
	return resolved{dir: dir, onnxFile: m.Onnx, onnxSHA: m.sha(m.Onnx)}, true
}

func (h *hub) download(ctx context.Context, ref modelRef, dir string) (resolved, error) {
	start := time.Now()
	h.say("mnemo: downloading %s from %s into %s\n", ref.id, h.base, dir)
	h.log.Info("downloading model", "model", ref.id, "hub", h.base, "dir", dir)
	m := &manifest{Repo: ref.repo, Revision: ref.revision}
	add := func(f manifestFile, commit string) {
		m.Files = append(m.Files, f)
		if m.Commit == "" {
			m.Commit = commit
		}
	}
	for _, c := range onnxCandidates {
		f, commit, found, err := h.fetch(ctx, ref, c, dir)
		if err != nil {
			return resolved{}, err
		}
		if found {
			m.Onnx = c
			add(f, commit)
			break
		}
	}
	if m.Onnx == "" {
		return resolved{}, fmt.Errorf("%w: %s has no ONNX model (looked for %s); pick a repository with an ONNX export, or convert the model and point MNEMO_MODEL at the folder",
			ErrInvalidModel, ref.id, strings.Join(onnxCandidates, ", "))
	}
	// Weights stored beside a large graph (ONNX external data).
	optional := append([]string{m.Onnx + "_data"}, optionalFiles...)
	for _, p := range requiredFiles {
		f, commit, found, err := h.fetch(ctx, ref, p, dir)
		if err != nil {
			return resolved{}, err
		}
		if !found {
			return resolved{}, fmt.Errorf("%w: %s has no %s", ErrInvalidModel, ref.id, p)
		}
		add(f, commit)
	}
	for i := 0; i < len(optional); i++ {
		p := optional[i]
		f, commit, found, err := h.fetch(ctx, ref, p, dir)
		if err != nil {
			return resolved{}, err
		}
		if !found {
			continue
		}
		add(f, commit)
		if p == "modules.json" {
			// A pooling module in an unusual folder.
			var mods []struct{ Path, Type string }
			if data, err := os.ReadFile(filepath.Join(dir, p)); err == nil && json.Unmarshal(data, &mods) == nil {
				for _, md := range mods {
					cfg := path.Join(md.Path, "config.json")
					if strings.HasSuffix(md.Type, ".Pooling") && md.Path != "" && !strings.Contains(md.Path, "..") && cfg != "1_Pooling/config.json" {
						optional = append(optional, cfg)
					}
				}
			}
		}
	}
	m.Downloaded = time.Now().UTC()
	if err := writeFileAtomic(filepath.Join(dir, manifestName), m); err != nil {
		return resolved{}, err
	}
	h.say("mnemo: %s ready in %s (%s)\n", ref.id, dir, time.Since(start).Round(100*time.Millisecond))
	h.log.Info("model downloaded", "model", ref.id, "dir", dir, "commit", m.Commit, "took", time.Since(start).Round(time.Millisecond))
	return resolved{dir: dir, onnxFile: m.Onnx, onnxSHA: m.sha(m.Onnx)}, nil
}

// fileURL is the Hub's file URL: {base}/{repo}/resolve/{revision}/{path}.
func (h *hub) fileURL(ref modelRef, p string) string {
	return h.base + "/" + ref.repo + "/resolve/" + url.PathEscape(ref.revision) + "/" + p
}

// fetch downloads one repository file into dir, resuming a partial
// download and retrying transient failures. found is false for a 404.
func (h *hub) fetch(ctx context.Context, ref modelRef, p, dir string) (f manifestFile, commit string, found bool, err error) {
	dst := filepath.Join(dir, filepath.FromSlash(p))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return f, "", false, err
	}
	const attempts = 5
	fresh := false // after a failed checksum on resumed data, start over once
	for i := 0; ; i++ {
		var retry bool
		f, commit, found, retry, err = h.tryFetch(ctx, ref, p, dst, fresh)
		if err == nil || !retry || i+1 >= attempts || ctx.Err() != nil {
			if err != nil {
				err = fmt.Errorf("download %s from %s: %w", p, ref.id, err)
			}
			return f, commit, found, err
		}
		if errors.Is(err, errResumedChecksum) {
			fresh = true
		}
		h.log.Warn("download interrupted; retrying", "file", p, "attempt", i+1, "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(i+1) * 300 * time.Millisecond):
		}
	}
}

var errResumedChecksum = errors.New("checksum mismatch on resumed download")

// linkMeta is what the hub says about a file before redirecting to storage.
type linkMeta struct {
	size   int64
	sha256 string
	commit string
}

// get issues GET url (with Range from offset>0), following redirects itself
// and collecting the hub's X-Linked-Size / X-Linked-Etag / X-Repo-Commit.
func (h *hub) get(ctx context.Context, u string, offset int64) (*http.Response, linkMeta, error) {
	var meta linkMeta
	for hop := 0; hop < 10; hop++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, meta, err
		}
		req.Header.Set("User-Agent", "mnemo")
		if offset > 0 {
			req.Header.Set("Range", fmt.Sprintf("bytes=%d-", offset))
		}
		resp, err := h.client.Do(req)
		if err != nil {
			return nil, meta, err
		}
		if meta.size == 0 {
			if n, err := strconv.ParseInt(resp.Header.Get("X-Linked-Size"), 10, 64); err == nil {
				meta.size = n
			}
		}
		if meta.sha256 == "" {
			meta.sha256 = sha256Tag(resp.Header.Get("X-Linked-Etag"))
		}
		if meta.sha256 == "" && hop == 0 {
			// The hub's own ETag is the sha256 for LFS files (and a git
			// sha1 otherwise, which sha256Tag ignores). A CDN's is not.
			meta.sha256 = sha256Tag(resp.Header.Get("ETag"))
		}
		if meta.commit == "" {
			meta.commit = resp.Header.Get("X-Repo-Commit")
		}
		switch resp.StatusCode {
		case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
			loc, err := resp.Location()
			resp.Body.Close()
			if err != nil {
				return nil, meta, fmt.Errorf("redirect without location: %w", err)
			}
			u = loc.String()
			continue
		}
		return resp, meta, nil
	}
	return nil, meta, errors.New("too many redirects")
}

var hex64 = regexp.MustCompile(`^[0-9a-f]{64}$`)

// sha256Tag extracts a sha256 from an ETag-style header value, or "".
func sha256Tag(v string) string {
	v = strings.TrimPrefix(strings.TrimSpace(v), "W/")
	v = strings.ToLower(strings.Trim(v, `"`))
	if hex64.MatchString(v) {
		return v
	}
	return ""
}

func (h *hub) tryFetch(ctx context.Context, ref modelRef, p, dst string, fresh bool) (f manifestFile, commit string, found, retry bool, err error) {
	part := dst + ".part"
	var offset int64
	if fresh {
		_ = os.Remove(part)
	} else if st, err := os.Stat(part); err == nil {
		offset = st.Size()
	}
	resp, meta, err := h.get(ctx, h.fileURL(ref, p), offset)
	if err != nil {
		return f, "", false, true, err
	}
	defer resp.Body.Close()

	total := meta.size
	switch resp.StatusCode {
	case http.StatusOK:
		offset = 0 // the server ignored Range: start over
		if total == 0 && resp.ContentLength > 0 {
			total = resp.ContentLength
		}
	case http.StatusPartialContent:
		start, size, ok := parseContentRange(resp.Header.Get("Content-Range"))
		if !ok || start != offset {
			_ = os.Remove(part)
			return f, "", false, true, fmt.Errorf("server resumed at the wrong offset (%q for %d)", resp.Header.Get("Content-Range"), offset)
		}
		if total == 0 {
			total = size
		}
	case http.StatusRequestedRangeNotSatisfiable:
		_ = os.Remove(part) // our partial file is longer than the file: restart
		return f, "", false, true, errors.New("partial download does not match the remote file; restarting")
	case http.StatusNotFound:
		_ = os.Remove(part)
		return f, "", false, false, nil
	case http.StatusUnauthorized, http.StatusForbidden:
		return f, "", false, false, fmt.Errorf("%s: the repository does not exist, or is gated or private (check the name; for a gated model download it yourself and set MNEMO_MODEL to the folder)", resp.Status)
	default:
		err := fmt.Errorf("%s", resp.Status)
		return f, "", false, resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests, err
	}

	flags := os.O_CREATE | os.O_WRONLY
	if offset == 0 {
		flags |= os.O_TRUNC
	}
	out, err := os.OpenFile(part, flags, 0o644)
	if err != nil {
		return f, "", false, false, err
	}
	if _, err := out.Seek(offset, io.SeekStart); err != nil {
		out.Close()
		return f, "", false, false, err
	}
	pw := newProgress(h.progress, ref.id+" "+p, offset, total)
	n, copyErr := io.Copy(out, io.TeeReader(resp.Body, pw))
	pw.finish(copyErr == nil)
	syncErr := out.Sync()
	if err := errors.Join(out.Close(), syncErr); err != nil {
		return f, "", false, false, err
	}
	size := offset + n
	if copyErr != nil {
		// Keep the partial file: the next attempt (or process) resumes it.
		return f, "", false, true, fmt.Errorf("transfer interrupted after %d bytes: %w", size, copyErr)
	}
	if total > 0 && size < total {
		return f, "", false, true, fmt.Errorf("transfer ended early: %d of %d bytes", size, total)
	}
	if total > 0 && size > total {
		_ = os.Remove(part)
		return f, "", false, true, fmt.Errorf("received %d bytes, expected %d", size, total)
	}
	sum, err := hashFile(part)
	if err != nil {
		return f, "", false, false, err
	}
	if meta.sha256 != "" && sum != meta.sha256 {
		_ = os.Remove(part)
		if offset > 0 {
			return f, "", false, true, fmt.Errorf("%w: got %s, want %s", errResumedChecksum, sum, meta.sha256)
		}
		return f, "", false, false, fmt.Errorf("sha256 mismatch: got %s, the hub says %s; the damaged download was removed", sum, meta.sha256)
	}
	if err := checkFile(part, p); err != nil {
		_ = os.Remove(part)
		return f, "", false, false, err
	}
	if err := os.Rename(part, dst); err != nil {
		return f, "", false, false, err
	}
	syncDir(filepath.Dir(dst))
	return manifestFile{Path: p, Size: size, SHA256: sum}, meta.commit, true, false, nil
}

// checkFile makes sure a download is what its name says: JSON parses, ONNX
// parses as a model. Catches truncated or HTML error pages saved as files.
func checkFile(part, name string) error {
	switch {
	case strings.HasSuffix(name, ".json"):
		data, err := os.ReadFile(part)
		if err != nil {
			return err
		}
		if !json.Valid(data) {
			return fmt.Errorf("downloaded %s is not valid JSON", name)
		}
	case strings.HasSuffix(name, ".onnx"):
		m, err := parser.ParseFile(part)
		if err != nil {
			return fmt.Errorf("downloaded %s is not a valid ONNX model: %w", name, err)
		}
		_ = m.Close()
	}
	return nil
}

func parseContentRange(v string) (start, total int64, ok bool) {
	// "bytes 100-999/1000"
	v, found := strings.CutPrefix(v, "bytes ")
	if !found {
		return 0, 0, false
	}
	rng, tot, found := strings.Cut(v, "/")
	if !found {
		return 0, 0, false
	}
	s, _, found := strings.Cut(rng, "-")
	if !found {
		return 0, 0, false
	}
	start, err1 := strconv.ParseInt(s, 10, 64)
	total, err2 := strconv.ParseInt(tot, 10, 64)
	if err1 != nil {
		return 0, 0, false
	}
	if err2 != nil {
		total = 0 // "*": unknown
	}
	return start, total, true
}

func writeFileAtomic(p string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	err = errors.Join(err, tmp.Sync(), tmp.Close())
	if err == nil {
		err = os.Rename(tmp.Name(), p)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return err
	}
	syncDir(filepath.Dir(p))
	return nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}

func (h *hub) say(format string, a ...any) {
	if h.progress != nil {
		fmt.Fprintf(h.progress, format, a...)
	}
}
