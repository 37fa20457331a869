// Package hub resolves mnemo's model references and keeps the model
// cache: a reference names a local folder (or an .onnx file in one) or a
// Hugging Face repository ("org/name[@revision]"); a repository is
// downloaded, resumably and checked file by file (size, sha256, JSON or
// ONNX that parses), into the cache under a lock, so concurrent processes
// download it once. A manifest, written last, marks a complete download.
// The engine (package embed) loads what this package puts on disk.
package hub

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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
)

// DefaultModel is the Hugging Face repository a reference of "" names: the
// model real users get.
const DefaultModel = "sentence-transformers/all-MiniLM-L6-v2"

// ErrNotCached is wrapped by the error for a Hugging Face model that is not in
// the cache while Offline forbids downloading it.
var ErrNotCached = errors.New("model not in cache")

// ErrInvalidModel is wrapped by every error that says a model folder is
// unusable (missing or ambiguous files, unsupported outputs, mismatched
// dimensions, unreadable ONNX), so callers can tell "fix your model" apart
// from "try again later". Package embed's ErrInvalidModel is this error.
var ErrInvalidModel = errors.New("invalid model")

func invalid(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidModel, fmt.Sprintf(format, a...))
}

// DefaultURL is the Hugging Face hub's base URL.
const DefaultURL = "https://huggingface.co"

// Ref is a parsed model reference: a local folder or a hub repository.
type Ref struct {
	ID       string // the model's name as mnemo reports it (embed.Info.ModelID)
	Dir      string // local folder (absolute), for local models
	OnnxFile string // chosen ONNX file relative to Dir, when the user named one
	Repo     string // "org/name", for hub models
	Revision string // branch, tag or commit; "main" by default
}

// Local reports whether r names a folder on disk rather than a repository.
func (r Ref) Local() bool { return r.Dir != "" }

var (
	repoIDRe   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$`)
	revisionRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]*$`)
)

// ParseRef decides whether s names a local model (a folder, or an .onnx
// file inside one) or a Hugging Face repo id ("org/name" or
// "org/name@revision"); "" is DefaultModel. An existing path always
// wins. Errors wrap ErrInvalidModel.
func ParseRef(s string) (Ref, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		s = DefaultModel
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
			return Ref{}, invalid("model path %s: %v", s, err)
		}
		if st.IsDir() {
			return Ref{ID: filepath.Base(abs), Dir: abs}, nil
		}
		if !strings.HasSuffix(abs, ".onnx") {
			return Ref{}, invalid("model path %s is a file; want a model folder or an .onnx file inside one", s)
		}
		// An .onnx file: its folder is the model folder, or the folder above
		// for the Hugging Face layout (onnx/model.onnx next to tokenizer.json).
		dir := filepath.Dir(abs)
		if filepath.Base(dir) == "onnx" && !exists(filepath.Join(dir, "tokenizer.json")) &&
			exists(filepath.Join(filepath.Dir(dir), "tokenizer.json")) {
			dir = filepath.Dir(dir)
		}
		rel, _ := filepath.Rel(dir, abs)
		return Ref{ID: filepath.Base(dir), Dir: dir, OnnxFile: filepath.ToSlash(rel)}, nil
	}
	repo, rev, hasRev := strings.Cut(s, "@")
	if looksLikePath(s) {
		return Ref{}, invalid("model folder %s does not exist", s)
	}
	if !repoIDRe.MatchString(repo) || (hasRev && (!revisionRe.MatchString(rev) || strings.Contains(rev, ".."))) {
		return Ref{}, invalid("%q is neither an existing model folder nor a Hugging Face repo id like %s", s, DefaultModel)
	}
	if rev == "" {
		rev = "main"
	}
	id := repo
	if rev != "main" {
		id += "@" + rev
	}
	return Ref{ID: id, Repo: repo, Revision: rev}, nil
}

func looksLikePath(s string) bool {
	return filepath.IsAbs(s) || strings.HasPrefix(s, ".") || strings.HasPrefix(s, "~") ||
		strings.Contains(s, `\`) || strings.Count(s, "/") > 1 || strings.HasSuffix(s, ".onnx")
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

// Model is a model folder on disk, ready to load.
type Model struct {
	Dir      string
	OnnxFile string // relative to Dir; "" = find it
	OnnxSHA  string // expected sha256 of the ONNX file when the cache knows it
}

// CacheRoot is mnemo's cache folder: dir, or by default the user's cache
// folder + "/mnemo". Models live under its models/, rewritten graphs under
// its graphs/.
func CacheRoot(dir string) string {
	if dir != "" {
		return dir
	}
	if base, err := os.UserCacheDir(); err == nil {
		return filepath.Join(base, "mnemo")
	}
	return filepath.Join(os.TempDir(), "mnemo-cache")
}

// ModelDir is where the hub model ref lives under the cache root:
// models/{org}/{name}[@{revision}].
func ModelDir(root string, ref Ref) string {
	org, name, _ := strings.Cut(ref.Repo, "/")
	if ref.Revision != "main" {
		name += "@" + strings.ReplaceAll(ref.Revision, "/", "_")
	}
	return filepath.Join(root, "models", org, name)
}

// FileSHA256 is the hex sha256 of a file's contents.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// ManifestName marks a complete, verified download. It is written last
// (atomically), so a folder without it is never loaded.
const ManifestName = ".mnemo-download.json"

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
	data, err := os.ReadFile(filepath.Join(dir, ManifestName))
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

// Client fetches hub models into the cache. The zero value downloads from
// DefaultURL into CacheRoot("").
type Client struct {
	URL      string       // base URL of a Hugging Face compatible server; "" = DefaultURL
	CacheDir string       // cache root; "" = CacheRoot("")
	Offline  bool         // never touch the network: a model not in the cache is ErrNotCached
	Progress io.Writer    // download progress for people (stderr in the CLI); nil = silent
	Logger   *slog.Logger // nil = discard
}

// Ensure returns the cached folder of the hub model ref, downloading it if
// needed. Across processes, a file lock next to the folder makes one
// process download while the others wait and then use its result. verify
// re-hashes the cached files, and downloads again any that is damaged.
func (c Client) Ensure(ctx context.Context, ref Ref, verify bool) (Model, error) {
	if ref.Local() {
		return Model{Dir: ref.Dir, OnnxFile: ref.OnnxFile}, nil
	}
	return newHub(c).ensure(ctx, ref, verify)
}

func newHub(c Client) *hub {
	if c.URL == "" {
		c.URL = DefaultURL
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return &hub{
		base:     strings.TrimRight(c.URL, "/"),
		root:     CacheRoot(c.CacheDir),
		offline:  c.Offline,
		progress: c.Progress,
		log:      c.Logger,
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

// ensure is Client.Ensure for a hub model.
func (h *hub) ensure(ctx context.Context, ref Ref, verify bool) (Model, error) {
	dir := ModelDir(h.root, ref)
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
		return Model{}, fmt.Errorf("%w: offline mode (MNEMO_OFFLINE) is on and model %s is not in the cache at %s (%s); "+
			"run `mnemo pull %s` while online, or set MNEMO_MODEL to a local model folder", ErrNotCached, ref.ID, dir, what, ref.ID)
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return Model{}, fmt.Errorf("create model cache: %w", err)
	}
	lock := flock.New(dir + ".lock")
	ok, err := lock.TryLock()
	if err != nil {
		return Model{}, fmt.Errorf("lock %s: %w", lock.Path(), err)
	}
	if !ok {
		h.say("mnemo: another mnemo process is downloading %s; waiting for it\n", ref.ID)
		h.log.Info("waiting for another process to download the model", "model", ref.ID, "lock", lock.Path())
		if _, err := lock.TryLockContext(ctx, 100*time.Millisecond); err != nil {
			return Model{}, fmt.Errorf("waiting for the download of %s: %w", ref.ID, err)
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
func (h *hub) cached(dir string, verify bool) (Model, bool) {
	m, err := readManifest(dir)
	if err != nil {
		return Model{}, false
	}
	if miss := m.missing(dir); len(miss) > 0 {
		h.log.Warn("cached model is incomplete; downloading again", "dir", dir, "missing", miss)
		return Model{}, false
	}
	if verify {
		for _, f := range m.Files {
			p := filepath.Join(dir, filepath.FromSlash(f.Path))
			if sum, err := FileSHA256(p); err != nil || sum != f.SHA256 {
				h.say("mnemo: cached %s is damaged; downloading it again\n", f.Path)
				h.log.Warn("cached model file damaged", "file", p, "sha256", sum, "want", f.SHA256)
				_ = os.Remove(p)
				return Model{}, false
			}
		}
	}
	return Model{Dir: dir, OnnxFile: m.Onnx, OnnxSHA: m.sha(m.Onnx)}, true
}

func (h *hub) download(ctx context.Context, ref Ref, dir string) (Model, error) {
	start := time.Now()
	h.say("mnemo: downloading %s from %s into %s\n", ref.ID, h.base, dir)
	h.log.Info("downloading model", "model", ref.ID, "hub", h.base, "dir", dir)
	m := &manifest{Repo: ref.Repo, Revision: ref.Revision}
	add := func(f manifestFile, commit string) {
		m.Files = append(m.Files, f)
		if m.Commit == "" {
			m.Commit = commit
		}
	}
	for _, c := range onnxCandidates {
		f, commit, found, err := h.fetch(ctx, ref, c, dir)
		if err != nil {
			return Model{}, err
		}
		if found {
			m.Onnx = c
			add(f, commit)
			break
		}
	}
	if m.Onnx == "" {
		return Model{}, fmt.Errorf("%w: %s has no ONNX model (looked for %s); pick a repository with an ONNX export, or convert the model and point MNEMO_MODEL at the folder",
			ErrInvalidModel, ref.ID, strings.Join(onnxCandidates, ", "))
	}
	// Weights stored beside a large graph (ONNX external data).
	optional := append([]string{m.Onnx + "_data"}, optionalFiles...)
	for _, p := range requiredFiles {
		f, commit, found, err := h.fetch(ctx, ref, p, dir)
		if err != nil {
			return Model{}, err
		}
		if !found {
			return Model{}, fmt.Errorf("%w: %s has no %s", ErrInvalidModel, ref.ID, p)
		}
		add(f, commit)
	}
	for i := 0; i < len(optional); i++ {
		p := optional[i]
		f, commit, found, err := h.fetch(ctx, ref, p, dir)
		if err != nil {
			return Model{}, err
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
	if err := writeFileAtomic(filepath.Join(dir, ManifestName), m); err != nil {
		return Model{}, err
	}
	h.say("mnemo: %s ready in %s (%s)\n", ref.ID, dir, time.Since(start).Round(100*time.Millisecond))
	h.log.Info("model downloaded", "model", ref.ID, "dir", dir, "commit", m.Commit, "took", time.Since(start).Round(time.Millisecond))
	return Model{Dir: dir, OnnxFile: m.Onnx, OnnxSHA: m.sha(m.Onnx)}, nil
}

// fileURL is the Hub's file URL: {base}/{repo}/resolve/{revision}/{path}.
func (h *hub) fileURL(ref Ref, p string) string {
	return h.base + "/" + ref.Repo + "/resolve/" + url.PathEscape(ref.Revision) + "/" + p
}

// fetch downloads one repository file into dir, resuming a partial
// download and retrying transient failures. found is false for a 404.
func (h *hub) fetch(ctx context.Context, ref Ref, p, dir string) (f manifestFile, commit string, found bool, err error) {
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
				err = fmt.Errorf("download %s from %s: %w", p, ref.ID, err)
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

func (h *hub) tryFetch(ctx context.Context, ref Ref, p, dst string, fresh bool) (f manifestFile, commit string, found, retry bool, err error) {
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
	pw := newProgress(h.progress, ref.ID+" "+p, offset, total)
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
	sum, err := FileSHA256(part)
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
