package ui

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mnemo-mcp/mnemo/pkg/humantime"
	"github.com/mnemo-mcp/mnemo/pkg/jsonl"
	"github.com/mnemo-mcp/mnemo/pkg/memory"
	"github.com/mnemo-mcp/mnemo/pkg/service"
)

// PageSize is how many memories one browse page shows.
const PageSize = 25

// scanBatch is the page size used to scan the store when a filter the
// store cannot apply (source, author, session) is set.
const scanBatch = 200

// view is one memory as the templates show it.
type view struct {
	memory.Memory
	Session      string
	VectorStatus string // "current", "other", "none"
	MetadataJSON string
	Age          string
	// Search only: why it ranked.
	Hit *memory.Hit
	// One memory's page only: every version of it, oldest first (empty
	// when it has no other version).
	Versions []service.VersionRef
}

// page is what every template gets.
type page struct {
	Title   string
	Nav     string
	CSRF    string
	Version string
	Flash   string
	UndoKey string
	// UndoDrop is the memory an undo forgets: an edit's new version.
	UndoDrop string
	Back     string
	Data     any
}

func (s *Server) newPage(r *http.Request, title, nav string) page {
	sess := sessionOf(r)
	return page{Title: title, Nav: nav, CSRF: sess.csrf, Version: s.currentVersion(r.Context()), Back: r.URL.RequestURI()}
}

func (s *Server) render(w http.ResponseWriter, name string, p page) {
	var buf bytes.Buffer
	if err := s.tmpl.ExecuteTemplate(&buf, name, p); err != nil {
		s.log.Error("ui: render", "template", name, "err", err)
		http.Error(w, "internal error rendering the page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = buf.WriteTo(w)
}

// fail answers an error: the caller's input is a 400 with the service's
// message, an unknown id a 404, anything else a 500 (logged).
func (s *Server) fail(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, service.ErrInvalidInput), errors.Is(err, memory.ErrInvalid):
		http.Error(w, err.Error(), http.StatusBadRequest)
	case errors.Is(err, memory.ErrNotFound):
		http.Error(w, err.Error(), http.StatusNotFound)
	default:
		s.log.Error("ui: request failed", "err", err)
		http.Error(w, "internal error: "+err.Error(), http.StatusInternalServerError)
	}
}

func (s *Server) toView(m memory.Memory) view {
	v := view{Memory: m, Age: humantime.Ago(s.o.Now(), m.CreatedAt)}
	v.Vector = nil
	if sid, ok := m.Metadata["session_id"].(string); ok {
		v.Session = sid
	}
	switch {
	case m.Model == "":
		v.VectorStatus = "none"
	case m.Model == s.svc.ModelStatus().Model:
		v.VectorStatus = "current"
	default:
		v.VectorStatus = "other"
	}
	if len(m.Metadata) > 0 {
		b, _ := json.MarshalIndent(m.Metadata, "", "  ")
		v.MetadataJSON = string(b)
	}
	return v
}

// ------------------------------------------------------------------ browse

type browseFilter struct {
	Project, Tag, Since, Until, Source, Author, Session string
	Page                                                int
}

func (f browseFilter) query(page int) string {
	q := url.Values{}
	for k, v := range map[string]string{"project": f.Project, "tag": f.Tag, "since": f.Since, "until": f.Until,
		"source": f.Source, "author": f.Author, "session": f.Session} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if page > 1 {
		q.Set("page", strconv.Itoa(page))
	}
	if len(q) == 0 {
		return "/"
	}
	return "/?" + q.Encode()
}

type projectCount struct {
	Name  string
	Count int
}

type browseData struct {
	F          browseFilter
	Projects   []projectCount
	Total      int
	Memories   []view
	PrevURL    string
	NextURL    string
	Sources    []memory.Source
	FilterNote string
}

func (s *Server) handleBrowse(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := browseFilter{
		Project: strings.TrimSpace(q.Get("project")), Tag: strings.TrimSpace(q.Get("tag")),
		Since: strings.TrimSpace(q.Get("since")), Until: strings.TrimSpace(q.Get("until")),
		Source: strings.TrimSpace(q.Get("source")), Author: strings.TrimSpace(q.Get("author")),
		Session: strings.TrimSpace(q.Get("session")), Page: 1,
	}
	if p, err := strconv.Atoi(q.Get("page")); err == nil && p > 1 && p < 1<<20 {
		f.Page = p
	}
	ms, more, err := s.browse(r.Context(), f)
	if err != nil {
		s.fail(w, err)
		return
	}
	p := s.newPage(r, "Memories", "browse")
	st, err := s.stats(r.Context(), p.Version)
	if err != nil {
		s.fail(w, err)
		return
	}
	d := browseData{F: f, Total: st.Total, Sources: []memory.Source{memory.SourceMCP, memory.SourceCLI, memory.SourceHook, memory.SourceImport}}
	for name, n := range st.ByProject {
		d.Projects = append(d.Projects, projectCount{name, n})
	}
	sort.Slice(d.Projects, func(i, j int) bool {
		if d.Projects[i].Count != d.Projects[j].Count {
			return d.Projects[i].Count > d.Projects[j].Count
		}
		return d.Projects[i].Name < d.Projects[j].Name
	})
	for _, m := range ms {
		d.Memories = append(d.Memories, s.toView(m))
	}
	if f.Page > 1 {
		d.PrevURL = f.query(f.Page - 1)
	}
	if more {
		d.NextURL = f.query(f.Page + 1)
	}
	if k := q.Get("undo"); k != "" && memory.ValidID(k) {
		p.Flash, p.UndoKey = "Memory "+k+" forgotten.", k
	}
	if m := q.Get("msg"); m != "" && len(m) < 200 {
		p.Flash = m
	}
	p.Data = d
	s.render(w, "browse.html", p)
}

// browse returns one page of memories matching f, newest first, and
// whether more follow. Project, tag and time go to the store; source,
// author and session (which the store cannot filter) are applied while
// scanning.
func (s *Server) browse(ctx context.Context, f browseFilter) ([]memory.Memory, bool, error) {
	now := s.o.Now()
	var filter memory.Filter
	if f.Project != "" {
		if err := memory.ValidateProject(f.Project); err != nil {
			return nil, false, badInput("project", err)
		}
		filter.Projects = []string{f.Project}
	}
	if f.Tag != "" {
		filter.TagsAny = []string{f.Tag}
	}
	var err error
	if f.Since != "" {
		if filter.Since, err = humantime.Parse(f.Since, now); err != nil {
			return nil, false, badInput("since", err)
		}
	}
	if f.Until != "" {
		if filter.Until, err = humantime.Parse(f.Until, now); err != nil {
			return nil, false, badInput("until", err)
		}
	}
	if filter, err = filter.Normalize(); err != nil {
		return nil, false, badInput("filter", err)
	}
	st := s.svc.Store()
	skip := (f.Page - 1) * PageSize
	if f.Source == "" && f.Author == "" && f.Session == "" {
		ms, err := st.List(ctx, memory.ListOptions{Filter: filter, Limit: PageSize + 1, Offset: skip})
		if err != nil {
			return nil, false, err
		}
		more := len(ms) > PageSize
		if more {
			ms = ms[:PageSize]
		}
		return stripVectors(ms), more, nil
	}
	keep := func(m memory.Memory) bool {
		if f.Source != "" && string(m.Source) != f.Source {
			return false
		}
		if f.Author != "" && m.Author != f.Author {
			return false
		}
		if f.Session != "" {
			if sid, _ := m.Metadata["session_id"].(string); sid != f.Session {
				return false
			}
		}
		return true
	}
	var out []memory.Memory
	for off := 0; ; off += scanBatch {
		ms, err := st.List(ctx, memory.ListOptions{Filter: filter, Limit: scanBatch, Offset: off})
		if err != nil {
			return nil, false, err
		}
		for _, m := range ms {
			if !keep(m) {
				continue
			}
			if skip > 0 {
				skip--
				continue
			}
			if len(out) == PageSize {
				return out, true, nil
			}
			m.Vector = nil
			out = append(out, m)
		}
		if len(ms) < scanBatch {
			return out, false, nil
		}
	}
}

func stripVectors(ms []memory.Memory) []memory.Memory {
	for i := range ms {
		ms[i].Vector = nil
	}
	return ms
}

// stats is the store's summary, computed again only when the store's
// version changed (a count over every row costs more than the page).
func (s *Server) stats(ctx context.Context, version string) (memory.Stats, error) {
	s.mu.Lock()
	if version != "" && version == s.statsVersion {
		st := s.statsCache
		s.mu.Unlock()
		return st, nil
	}
	s.mu.Unlock()
	st, err := s.svc.Stats(ctx)
	if err != nil {
		return st, err
	}
	s.mu.Lock()
	s.statsCache, s.statsVersion = st, version
	s.mu.Unlock()
	return st, nil
}

type inputErr struct{ msg string }

func (e inputErr) Error() string        { return e.msg }
func (e inputErr) Is(target error) bool { return target == service.ErrInvalidInput }

func badInput(what string, err error) error { return inputErr{what + ": " + err.Error()} }

// ------------------------------------------------------------------ search

type searchData struct {
	Query, Mode, Project, Tag string
	Result                    *service.RecallResult
	Hits                      []view
	Took                      time.Duration
}

// searchWait is how long a search waits for a model that is loading
// before it answers by keyword (the note says so).
const searchWait = 3 * time.Second

func (s *Server) handleSearch(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d := searchData{Query: q.Get("q"), Mode: q.Get("mode"), Project: strings.TrimSpace(q.Get("project")), Tag: strings.TrimSpace(q.Get("tag"))}
	if d.Mode == "" {
		d.Mode = string(memory.ModeHybrid)
	}
	if strings.TrimSpace(d.Query) != "" {
		project := d.Project
		if project == "" {
			project = "*"
		}
		var tags []string
		if d.Tag != "" {
			tags = []string{d.Tag}
		}
		start := time.Now()
		res, err := s.svc.Recall(r.Context(), service.RecallRequest{Query: d.Query, K: 20, Project: project, Tags: tags,
			Mode: memory.Mode(d.Mode), ModelWait: searchWait})
		if err != nil {
			s.fail(w, err)
			return
		}
		d.Took = time.Since(start).Round(time.Millisecond)
		d.Result = &res
		for i := range res.Results {
			v := s.toView(res.Results[i].Memory)
			v.Hit = &res.Results[i]
			d.Hits = append(d.Hits, v)
		}
	}
	p := s.newPage(r, "Search", "search")
	p.Data = d
	s.render(w, "search.html", p)
}

// ------------------------------------------------------------------ one memory

func (s *Server) handleMemory(w http.ResponseWriter, r *http.Request) {
	m, err := s.svc.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, err)
		return
	}
	p := s.newPage(r, "Memory "+m.ID, "browse")
	q := r.URL.Query()
	if msg := q.Get("msg"); msg != "" && len(msg) < 200 {
		p.Flash = msg
		if k := q.Get("undo"); memory.ValidID(k) {
			p.UndoKey, p.UndoDrop = k, m.ID
		}
	}
	v := s.toView(m)
	if shown, err := s.svc.Show(r.Context(), m.ID); err == nil && len(shown.Versions) > 1 {
		v.Versions = shown.Versions
	}
	p.Data = v
	s.render(w, "memory.html", p)
}

func (s *Server) handleForgetConfirm(w http.ResponseWriter, r *http.Request) {
	m, err := s.svc.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, err)
		return
	}
	p := s.newPage(r, "Forget "+m.ID+"?", "browse")
	p.Back = safeBack(r.URL.Query().Get("back"))
	p.Data = s.toView(m)
	s.render(w, "forget.html", p)
}

// safeBack keeps a redirect on this server.
func safeBack(b string) string {
	if !strings.HasPrefix(b, "/") || strings.HasPrefix(b, "//") || strings.ContainsAny(b, "\\\r\n") {
		return "/"
	}
	return b
}

func withParam(back, k, v string) string {
	u, err := url.Parse(back)
	if err != nil {
		return "/"
	}
	q := u.Query()
	q.Del("undo")
	q.Del("msg")
	q.Set(k, v)
	u.RawQuery = q.Encode()
	return u.RequestURI()
}

// handleForget forgets one memory, keeping it (with its vector) in the
// session so the page can undo it.
func (s *Server) handleForget(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	m, err := s.svc.Get(ctx, r.PathValue("id"))
	if err != nil {
		s.fail(w, err)
		return
	}
	if _, err := s.svc.Forget(ctx, []string{m.ID}); err != nil {
		s.fail(w, err)
		return
	}
	key := s.keepForUndo(sessionOf(r), m)
	back := safeBack(r.PostForm.Get("back"))
	if strings.HasPrefix(back, "/memory/") {
		back = "/"
	}
	http.Redirect(w, r, withParam(back, "undo", key), http.StatusSeeOther)
}

// handleUndo stores a forgotten memory again as it was: same id, times,
// tags, metadata and vector (through the service's import).
func (s *Server) handleUndo(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	m, ok := s.takeUndo(sessionOf(r), r.PostForm.Get("key"))
	if !ok {
		http.Error(w, "nothing to undo: this memory was not forgotten in this session, or was already restored", http.StatusNotFound)
		return
	}
	// Undoing an edit forgets the new version first: with unchanged text
	// the old one would otherwise be taken for its duplicate.
	var dropped *memory.Memory
	if drop := r.PostForm.Get("drop"); drop != "" && drop != m.ID {
		if nm, err := s.svc.Get(ctx, drop); err == nil {
			if _, err := s.svc.Forget(ctx, []string{nm.ID}); err == nil {
				dropped = &nm
			}
		}
	}
	if err := s.restore(ctx, m); err != nil {
		s.keepForUndo(sessionOf(r), m)
		if dropped != nil {
			if rerr := s.restore(context.WithoutCancel(ctx), *dropped); rerr != nil {
				s.log.Error("ui: restoring an edit's new version after a failed undo", "id", dropped.ID, "err", rerr)
			}
		}
		s.fail(w, err)
		return
	}
	http.Redirect(w, r, "/memory/"+m.ID+"?msg="+url.QueryEscape("Restored."), http.StatusSeeOther)
}

func (s *Server) restore(ctx context.Context, m memory.Memory) error {
	var buf bytes.Buffer
	if err := jsonl.Write(&buf, m, len(m.Vector) > 0); err != nil {
		return err
	}
	res, err := s.svc.Import(ctx, &buf, service.ImportOptions{Project: m.Project})
	if err != nil {
		return err
	}
	if res.Imported+res.Duplicates == 0 {
		return errors.New("the memory could not be stored again")
	}
	return nil
}

// handleTags replaces a memory's tags.
func (s *Server) handleTags(w http.ResponseWriter, r *http.Request) {
	m, err := s.svc.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, err)
		return
	}
	s.replace(w, r, m, m.Content, splitTags(r.PostForm.Get("tags")))
}

// handlePin pins (pinned=1) or unpins a memory: pinned memories always
// compete in recall and the session-start hook always injects them.
func (s *Server) handlePin(w http.ResponseWriter, r *http.Request) {
	pinned := r.PostForm.Get("pinned") == "1"
	res, err := s.svc.Pin(r.Context(), []string{r.PathValue("id")}, pinned)
	if err != nil {
		s.fail(w, err)
		return
	}
	if len(res.Missing) > 0 {
		http.Error(w, "no memory "+res.Missing[0], http.StatusNotFound)
		return
	}
	msg := "Unpinned."
	if pinned {
		msg = "Pinned: it always competes in recall and every session starts with it."
	}
	http.Redirect(w, r, "/memory/"+r.PathValue("id")+"?msg="+url.QueryEscape(msg), http.StatusSeeOther)
}

// handleEdit replaces a memory's text.
func (s *Server) handleEdit(w http.ResponseWriter, r *http.Request) {
	m, err := s.svc.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, err)
		return
	}
	content := strings.ReplaceAll(r.PostForm.Get("content"), "\r\n", "\n")
	if strings.TrimSpace(content) == "" {
		http.Error(w, "the new text is empty; to remove a memory, forget it", http.StatusBadRequest)
		return
	}
	tags := m.Tags
	if _, ok := r.PostForm["tags"]; ok {
		tags = splitTags(r.PostForm.Get("tags"))
	}
	s.replace(w, r, m, content, tags)
}

// editModelWait is how long an edit waits for the model (loaded on first
// use) so the new version is stored with its vector, as the CLI's remember
// does; past it the memory is stored without one and embedded later.
const editModelWait = 5 * time.Second

// replace stores an edit. New text is a new version that supersedes the
// old one (service.Edit: the old one is kept, hidden from recall and
// lists, and shown in the version history); undo forgets the new version,
// which makes the old one current again. A change of tags alone is stored
// as a new memory with the old one's project, metadata and source, and
// the old one forgotten (the store has no in-place update); unchanged text
// is not taken for a duplicate of itself because the old one goes first,
// and comes back if the new one cannot be stored.
func (s *Server) replace(w http.ResponseWriter, r *http.Request, old memory.Memory, content string, tags []string) {
	ctx := r.Context()
	if content == old.Content && sameTags(tags, old.Tags) {
		http.Redirect(w, r, "/memory/"+old.ID+"?msg="+url.QueryEscape("Nothing changed."), http.StatusSeeOther)
		return
	}
	if content != old.Content {
		res, err := s.svc.Edit(ctx, service.EditRequest{ID: old.ID, Content: content, Tags: tags, Source: old.Source, ModelWait: editModelWait})
		if err != nil {
			s.fail(w, err)
			return
		}
		s.keepForUndo(sessionOf(r), old)
		msg := "Saved as " + res.ID + ", a new version of " + old.ID + "."
		http.Redirect(w, r, "/memory/"+res.ID+"?undo="+old.ID+"&msg="+url.QueryEscape(msg), http.StatusSeeOther)
		return
	}
	if _, err := s.svc.Forget(ctx, []string{old.ID}); err != nil {
		s.fail(w, err)
		return
	}
	res, err := s.svc.Remember(ctx, service.RememberRequest{Content: content, Tags: tags, Project: old.Project,
		Metadata: old.Metadata, Source: old.Source, ModelWait: editModelWait})
	if err != nil {
		if rerr := s.restore(context.WithoutCancel(ctx), old); rerr != nil {
			s.log.Error("ui: restoring a memory after a failed edit", "id", old.ID, "err", rerr)
		}
		s.fail(w, err)
		return
	}
	s.keepForUndo(sessionOf(r), old)
	msg := "Saved as " + res.ID + " (replaces " + old.ID + ")."
	if res.Duplicate {
		msg = "That text is already stored as " + res.ID + "; " + old.ID + " was forgotten."
	}
	http.Redirect(w, r, "/memory/"+res.ID+"?undo="+old.ID+"&msg="+url.QueryEscape(msg), http.StatusSeeOther)
}

func splitTags(s string) []string {
	var out []string
	for _, t := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' }) {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

func sameTags(a, b []string) bool {
	na, err := memory.NormalizeTags(a)
	if err != nil {
		return false
	}
	nb, _ := memory.NormalizeTags(b)
	return strings.Join(na, ",") == strings.Join(nb, ",")
}
