package ui

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mnemo-mcp/mnemo/pkg/memory"
	"github.com/mnemo-mcp/mnemo/pkg/service"
	"github.com/mnemo-mcp/mnemo/pkg/sqlite"
)

const testPort = 18080

// fixture is a Server over a real SQLite store (keyword search only) and a
// logged-in session.
type fixture struct {
	t      *testing.T
	srv    *Server
	svc    *service.Service
	cookie *http.Cookie
	csrf   string
	dir    string
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	dir := t.(interface{ TempDir() string }).TempDir()
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "mnemo.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	svc, err := service.New(service.Options{Store: st, Project: "proj", Author: "ann@host"})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Options{Svc: svc, LogPath: filepath.Join(dir, "mnemo.log"), Token: "secret-token"})
	if err != nil {
		t.Fatal(err)
	}
	srv.SetPort(testPort)
	f := &fixture{srv: srv, svc: svc, dir: dir}
	if tt, ok := t.(*testing.T); ok {
		f.t = tt
	}
	rec := f.raw(httptest.NewRequest("GET", "http://127.0.0.1:18080/?token=secret-token", nil))
	if rec.Code != 200 {
		t.Fatalf("login: %d %s", rec.Code, rec.Body)
	}
	for _, c := range rec.Result().Cookies() {
		if c.Name == CookieName {
			f.cookie = c
		}
	}
	if f.cookie == nil {
		t.Fatal("login set no cookie")
	}
	return f
}

func (f *fixture) raw(r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, r)
	return rec
}

func (f *fixture) get(path string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("GET", "http://127.0.0.1:18080"+path, nil)
	r.AddCookie(f.cookie)
	return f.raw(r)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// token reads the session's CSRF token from a page, as a browser would.
func (f *fixture) token() string {
	if f.csrf == "" {
		body := f.get("/memory/" + f.anyID()).Body.String()
		m := csrfRE.FindStringSubmatch(body)
		if m == nil {
			f.t.Fatalf("no csrf token in page:\n%s", body)
		}
		f.csrf = m[1]
	}
	return f.csrf
}

func (f *fixture) anyID() string {
	ms, err := f.svc.List(context.Background(), service.ListRequest{Project: "*", Limit: 1})
	if err != nil || len(ms) == 0 {
		f.t.Fatal("no memory to read a page of", err)
	}
	return ms[0].ID
}

func (f *fixture) post(path string, form url.Values, origin string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("POST", "http://127.0.0.1:18080"+path, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if origin != "" {
		r.Header.Set("Origin", origin)
	}
	r.AddCookie(f.cookie)
	return f.raw(r)
}

func (f *fixture) remember(content string, tags []string, project string, md map[string]any, src memory.Source) string {
	res, err := f.svc.Remember(context.Background(), service.RememberRequest{Content: content, Tags: tags, Project: project, Metadata: md, Source: src})
	if err != nil {
		f.t.Fatal(err)
	}
	return res.ID
}

const self = "http://127.0.0.1:18080"

func TestLoginCookie(t *testing.T) {
	f := newFixture(t)
	if !f.cookie.HttpOnly || f.cookie.SameSite != http.SameSiteStrictMode || f.cookie.Value == "secret-token" {
		t.Fatalf("cookie %+v: want HttpOnly, SameSite=Strict, not the token itself", f.cookie)
	}
	if rec := f.get("/"); rec.Code != 200 {
		t.Fatalf("with cookie: %d", rec.Code)
	}
}

func TestRefusals(t *testing.T) {
	f := newFixture(t)
	id := f.remember("a memory to forget", nil, "", nil, "")
	csrf := f.token()
	cases := []struct {
		name string
		req  func() *http.Request
		want int
	}{
		{"wrong token", func() *http.Request {
			return httptest.NewRequest("GET", self+"/?token=guess", nil)
		}, http.StatusUnauthorized},
		{"no cookie", func() *http.Request { return httptest.NewRequest("GET", self+"/", nil) }, http.StatusUnauthorized},
		{"unknown cookie", func() *http.Request {
			r := httptest.NewRequest("GET", self+"/", nil)
			r.AddCookie(&http.Cookie{Name: CookieName, Value: "forged"})
			return r
		}, http.StatusUnauthorized},
		{"no cookie on static", func() *http.Request { return httptest.NewRequest("GET", self+"/static/style.css", nil) }, http.StatusUnauthorized},
		{"no cookie on events", func() *http.Request { return httptest.NewRequest("GET", self+"/events", nil) }, http.StatusUnauthorized},
		{"foreign Host (DNS rebinding)", func() *http.Request {
			r := httptest.NewRequest("GET", "http://evil.example:18080/", nil)
			r.AddCookie(f.cookie)
			return r
		}, http.StatusMisdirectedRequest},
		{"foreign Host with the token", func() *http.Request {
			return httptest.NewRequest("GET", "http://evil.example:18080/?token=secret-token", nil)
		}, http.StatusMisdirectedRequest},
		{"loopback Host on another port", func() *http.Request {
			r := httptest.NewRequest("GET", "http://127.0.0.1:9999/", nil)
			r.AddCookie(f.cookie)
			return r
		}, http.StatusMisdirectedRequest},
		{"cross-origin POST", func() *http.Request {
			r := httptest.NewRequest("POST", self+"/memory/"+id+"/forget", strings.NewReader("csrf="+csrf))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.Header.Set("Origin", "http://evil.example")
			r.AddCookie(f.cookie)
			return r
		}, http.StatusForbidden},
		{"cross-site fetch without Origin", func() *http.Request {
			r := httptest.NewRequest("POST", self+"/memory/"+id+"/forget", strings.NewReader("csrf="+csrf))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.Header.Set("Sec-Fetch-Site", "cross-site")
			r.AddCookie(f.cookie)
			return r
		}, http.StatusForbidden},
		{"missing CSRF token", func() *http.Request {
			r := httptest.NewRequest("POST", self+"/memory/"+id+"/forget", strings.NewReader("back=/"))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.Header.Set("Origin", self)
			r.AddCookie(f.cookie)
			return r
		}, http.StatusForbidden},
		{"wrong CSRF token", func() *http.Request {
			r := httptest.NewRequest("POST", self+"/memory/"+id+"/forget", strings.NewReader("csrf=nope"))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.Header.Set("Origin", self)
			r.AddCookie(f.cookie)
			return r
		}, http.StatusForbidden},
		{"DELETE", func() *http.Request {
			r := httptest.NewRequest("DELETE", self+"/memory/"+id, nil)
			r.AddCookie(f.cookie)
			return r
		}, http.StatusMethodNotAllowed},
		{"state change by GET", func() *http.Request {
			r := httptest.NewRequest("GET", self+"/undo?key="+id, nil)
			r.AddCookie(f.cookie)
			return r
		}, http.StatusMethodNotAllowed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := f.raw(c.req())
			if rec.Code != c.want {
				t.Fatalf("status %d, want %d: %s", rec.Code, c.want, rec.Body)
			}
			if rec.Header().Get("Content-Security-Policy") == "" {
				t.Fatal("refusal without a Content-Security-Policy")
			}
		})
	}
	if _, err := f.svc.Get(context.Background(), id); err != nil {
		t.Fatalf("a refused forget deleted the memory: %v", err)
	}
}

func TestCSP(t *testing.T) {
	f := newFixture(t)
	rec := f.get("/")
	csp := rec.Header().Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "frame-ancestors 'none'", "form-action 'self'"} {
		if !strings.Contains(csp, want) {
			t.Fatalf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Fatalf("CSP allows inline code: %q", csp)
	}
	if strings.Contains(rec.Body.String(), "<script>") {
		t.Fatal("a page carries inline script")
	}
}

func TestScriptInMemoryIsText(t *testing.T) {
	f := newFixture(t)
	evil := `<script>alert("x")</script><img src=x onerror=alert(1)> "quoted" evil`
	id := f.remember(evil, []string{"xss"}, "", map[string]any{"note": "<b>bold</b>"}, "")
	for _, path := range []string{"/", "/memory/" + id, "/search?mode=keyword&q=evil", "/memory/" + id + "/forget", "/?tag=xss"} {
		body := f.get(path).Body.String()
		if strings.Contains(body, "<script>alert") || strings.Contains(body, "<img src=x") || strings.Contains(body, "<b>bold") {
			t.Fatalf("%s: memory text rendered as markup:\n%s", path, body)
		}
		if !strings.Contains(body, "&lt;script&gt;alert(") {
			t.Fatalf("%s: escaped memory text missing:\n%s", path, body)
		}
	}
}

func TestBrowseFilters(t *testing.T) {
	f := newFixture(t)
	f.remember("alpha note in proj", []string{"red"}, "", map[string]any{"session_id": "s-1"}, memory.SourceHook)
	f.remember("beta note in other", []string{"blue"}, "other", nil, memory.SourceMCP)
	f.remember("gamma global note", nil, memory.GlobalProject, nil, memory.SourceCLI)
	cases := map[string][]string{
		"/":                     {"alpha", "beta", "gamma"},
		"/?project=other":       {"beta"},
		"/?tag=red":             {"alpha"},
		"/?source=mcp":          {"beta"},
		"/?session=s-1":         {"alpha"},
		"/?author=ann%40host":   {"alpha", "beta", "gamma"},
		"/?author=bob":          {},
		"/?since=1h":            {"alpha", "beta", "gamma"},
		"/?until=2000-01-01":    {},
		"/?project=global&tag=": {"gamma"},
	}
	for path, want := range cases {
		rec := f.get(path)
		if rec.Code != 200 {
			t.Fatalf("%s: %d %s", path, rec.Code, rec.Body)
		}
		body := rec.Body.String()
		for _, w := range []string{"alpha", "beta", "gamma"} {
			has := strings.Contains(body, w+" ")
			if has != contains(want, w) {
				t.Errorf("%s: shows %q = %v, want %v", path, w, has, !has)
			}
		}
	}
	body := f.get("/").Body.String()
	for _, w := range []string{"all (3)", "proj (1)", "other (1)"} {
		if !strings.Contains(body, w) {
			t.Errorf("project counts: %q missing", w)
		}
	}
	if rec := f.get("/?since=yesterday-ish"); rec.Code != 400 {
		t.Errorf("bad since: %d", rec.Code)
	}
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func TestBrowsePaging(t *testing.T) {
	f := newFixture(t)
	for i := range PageSize + 5 {
		f.remember("note number "+string(rune('A'+i%26))+string(rune('a'+i/26)), nil, "", nil, memory.SourceHook)
	}
	p1 := f.get("/").Body.String()
	if strings.Count(p1, `class="memory"`) != PageSize || !strings.Contains(p1, `rel="next"`) {
		t.Fatalf("page 1: want %d memories and a next link", PageSize)
	}
	p2 := f.get("/?page=2").Body.String()
	if n := strings.Count(p2, `class="memory"`); n != 5 || strings.Contains(p2, `rel="next"`) || !strings.Contains(p2, `rel="prev"`) {
		t.Fatalf("page 2: %d memories", n)
	}
	// The scanning path (a filter the store cannot apply) pages alike.
	p2 = f.get("/?source=hook&page=2").Body.String()
	if n := strings.Count(p2, `class="memory"`); n != 5 {
		t.Fatalf("scanned page 2: %d memories", n)
	}
}

func TestSearchShowsWhy(t *testing.T) {
	f := newFixture(t)
	f.remember("The staging database listens on port 5433", []string{"infra"}, "", nil, "")
	f.remember("Lunch is at noon", nil, "", nil, "")
	rec := f.get("/search?q=staging+port&mode=hybrid")
	body := rec.Body.String()
	if rec.Code != 200 || !strings.Contains(body, "staging database") || strings.Contains(body, "Lunch") {
		t.Fatalf("search: %d\n%s", rec.Code, body)
	}
	// No model: hybrid degrades to keyword and says so.
	for _, w := range []string{"mode keyword", "keyword rank 1", "score ", "answered by keyword"} {
		if !strings.Contains(body, w) {
			t.Errorf("search page lacks %q", w)
		}
	}
	if rec := f.get("/search?q=x&mode=psychic"); rec.Code != 400 {
		t.Errorf("bad mode: %d", rec.Code)
	}
	if rec := f.get("/search"); rec.Code != 200 {
		t.Errorf("empty search page: %d", rec.Code)
	}
}

func TestForgetAndUndo(t *testing.T) {
	f := newFixture(t)
	id := f.remember("forget me, then bring me back", []string{"keep"}, "", map[string]any{"k": "v"}, memory.SourceMCP)
	before, _ := f.svc.Get(context.Background(), id)
	if rec := f.get("/memory/" + id + "/forget?back=/"); rec.Code != 200 || !strings.Contains(rec.Body.String(), "confirm-forget") {
		t.Fatalf("confirmation page: %d", rec.Code)
	}
	csrf := f.token()
	rec := f.post("/memory/"+id+"/forget", url.Values{"csrf": {csrf}, "back": {"/"}}, self)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("forget: %d %s", rec.Code, rec.Body)
	}
	if _, err := f.svc.Get(context.Background(), id); err == nil {
		t.Fatal("still there after forget")
	}
	loc := rec.Header().Get("Location")
	page := f.get(loc).Body.String()
	if !strings.Contains(page, `id="undo"`) {
		t.Fatalf("no undo after forget (%s):\n%s", loc, page)
	}
	rec = f.post("/undo", url.Values{"csrf": {csrf}, "key": {id}}, self)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("undo: %d %s", rec.Code, rec.Body)
	}
	after, err := f.svc.Get(context.Background(), id)
	if err != nil {
		t.Fatalf("undo did not restore the memory: %v", err)
	}
	if after.Content != before.Content || after.Source != before.Source || after.Metadata["k"] != "v" ||
		!after.CreatedAt.Equal(before.CreatedAt) || strings.Join(after.Tags, ",") != "keep" {
		t.Fatalf("restored %+v, want %+v", after, before)
	}
	if rec := f.post("/undo", url.Values{"csrf": {csrf}, "key": {id}}, self); rec.Code != 404 {
		t.Fatalf("second undo: %d", rec.Code)
	}
}

func TestEditAndTags(t *testing.T) {
	f := newFixture(t)
	id := f.remember("the build uses go 1.25", []string{"build"}, "other", map[string]any{"session_id": "s-9"}, memory.SourceHook)
	csrf := f.token()
	rec := f.post("/memory/"+id+"/edit", url.Values{"csrf": {csrf}, "content": {"the build uses go 1.26"}}, self)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("edit: %d %s", rec.Code, rec.Body)
	}
	newID := strings.TrimPrefix(strings.Split(rec.Header().Get("Location"), "?")[0], "/memory/")
	m, err := f.svc.Get(context.Background(), newID)
	if err != nil {
		t.Fatal(err)
	}
	if m.Content != "the build uses go 1.26" || m.Project != "other" || m.Source != memory.SourceHook || m.Metadata["session_id"] != "s-9" || strings.Join(m.Tags, ",") != "build" {
		t.Fatalf("edited memory %+v", m)
	}
	// The old text is kept as the previous version, replaced by the new.
	old, err := f.svc.Get(context.Background(), id)
	if err != nil || old.SupersededBy != newID {
		t.Fatalf("old version: %+v %v, want superseded by %s", old, err, newID)
	}
	page := f.get("/memory/" + newID).Body.String()
	if !strings.Contains(page, `id="versions"`) || !strings.Contains(page, id) || !strings.Contains(page, "replaced by "+newID) {
		t.Fatalf("the new version's page does not show the history:\n%s", page)
	}
	rec = f.post("/memory/"+newID+"/tags", url.Values{"csrf": {csrf}, "tags": {"Build, toolchain"}}, self)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("tags: %d %s", rec.Code, rec.Body)
	}
	tagged := strings.TrimPrefix(strings.Split(rec.Header().Get("Location"), "?")[0], "/memory/")
	m, err = f.svc.Get(context.Background(), tagged)
	if err != nil || strings.Join(m.Tags, ",") != "build,toolchain" || m.Content != "the build uses go 1.26" {
		t.Fatalf("retagged %+v %v", m, err)
	}
	if rec := f.post("/memory/"+tagged+"/edit", url.Values{"csrf": {csrf}, "content": {"  "}}, self); rec.Code != 400 {
		t.Fatalf("empty edit: %d", rec.Code)
	}
	if rec := f.post("/memory/"+tagged+"/tags", url.Values{"csrf": {csrf}, "tags": {strings.Repeat("x", 300)}}, self); rec.Code != 400 {
		t.Fatalf("bad tag: %d %s", rec.Code, rec.Body)
	}
	if _, err := f.svc.Get(context.Background(), tagged); err != nil {
		t.Fatalf("a refused edit lost the memory: %v", err)
	}
}

func TestMemoryPageAndErrors(t *testing.T) {
	f := newFixture(t)
	id := f.remember("provenance please", nil, "", map[string]any{"session_id": "abc"}, memory.SourceHook)
	body := f.get("/memory/" + id).Body.String()
	for _, w := range []string{"ann@host", "hook", "abc", "vector", "none", "last recalled", `id="recall-count">0 times`} {
		if !strings.Contains(body, w) {
			t.Errorf("memory page lacks %q", w)
		}
	}
	if rec := f.get("/memory/01J9Z3M4Q8X1V2B3C4D5E6F7G8"); rec.Code != 404 {
		t.Errorf("unknown id: %d", rec.Code)
	}
	if rec := f.get("/memory/not-an-id"); rec.Code != 400 {
		t.Errorf("bad id: %d", rec.Code)
	}
	if got := safeBack("//evil.example/"); got != "/" {
		t.Errorf("safeBack let %q through", got)
	}
}

func TestHealth(t *testing.T) {
	f := newFixture(t)
	f.remember("one", nil, "", nil, "")
	f.remember("two", nil, "other", nil, "")
	log := `{"time":"2026-01-02T03:04:05Z","level":"ERROR","msg":"disk <full>","pid":1,"proc":"serve"}` + "\n" +
		`{"time":"2026-01-02T03:04:06Z","level":"INFO","msg":"fine"}` + "\n"
	if err := os.WriteFile(filepath.Join(f.dir, "mnemo.log"), []byte(log), 0o600); err != nil {
		t.Fatal(err)
	}
	body := f.get("/health").Body.String()
	for _, w := range []string{`id="total">2<`, `id="missing">2`, "disk &lt;full&gt;", "<svg", "<rect", "no embedding model configured"} {
		if !strings.Contains(body, w) {
			t.Errorf("health lacks %q", w)
		}
	}
	if strings.Contains(body, ">fine<") {
		t.Error("health shows INFO lines")
	}
}

func TestStaticAndEvents(t *testing.T) {
	f := newFixture(t)
	for _, p := range []string{"/static/style.css", "/static/live.js"} {
		if rec := f.get(p); rec.Code != 200 || rec.Body.Len() == 0 {
			t.Fatalf("%s: %d", p, rec.Code)
		}
	}
}

func TestEventsStream(t *testing.T) {
	f := newFixture(t)
	f.srv.o.PollEvery = 20 * time.Millisecond
	f.srv.watch.every = 20 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go f.srv.watch.run(ctx)
	ts := httptest.NewServer(f.srv)
	defer ts.Close()
	port := ts.Listener.Addr().String()[strings.LastIndex(ts.Listener.Addr().String(), ":")+1:]
	f.srv.port = port
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+"/events", nil)
	req.AddCookie(f.cookie)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	sc := bufio.NewScanner(resp.Body)
	var versions []string
	wrote := false
	deadline := time.AfterFunc(10*time.Second, cancel)
	defer deadline.Stop()
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			versions = append(versions, v)
			if wrote {
				break
			}
			if v != "" {
				wrote = true
				// Another "process" writes: the stream reports a new version.
				f.remember("written elsewhere", nil, "", nil, "")
			}
		}
	}
	if len(versions) < 2 || versions[len(versions)-1] == versions[len(versions)-2] {
		t.Fatalf("versions %v: want a new version after a write", versions)
	}
}

// plainStore hides the SQLite store's extras: the generic paths (what a
// PostgreSQL store gets) for the live version and the chart.
type plainStore struct{ memory.Store }

func TestGenericStorePaths(t *testing.T) {
	f := newFixture(t)
	f.remember("first", nil, "", nil, "")
	w := newWatcher(plainStore{f.svc.Store()}, time.Second, f.srv.log)
	v1, err := w.fingerprint(context.Background())
	if err != nil || v1 == "" {
		t.Fatalf("fingerprint %q %v", v1, err)
	}
	id := f.remember("second", nil, "", nil, "")
	v2, _ := w.fingerprint(context.Background())
	if _, err := f.svc.Forget(context.Background(), []string{id}); err != nil {
		t.Fatal(err)
	}
	v3, _ := w.fingerprint(context.Background())
	if v2 == v1 || v3 == v2 {
		t.Fatalf("versions %q %q %q: want a change after each write", v1, v2, v3)
	}
	times, err := createdTimes(context.Background(), plainStore{f.svc.Store()})
	if err != nil || len(times) != 1 {
		t.Fatalf("created times %v %v", times, err)
	}
}

// An edit can be undone: the new version is forgotten and the old one
// comes back as it was, also when only the tags changed (same text).
func TestUndoEdit(t *testing.T) {
	f := newFixture(t)
	id := f.remember("retag me", []string{"old"}, "", nil, memory.SourceMCP)
	csrf := f.token()
	rec := f.post("/memory/"+id+"/tags", url.Values{"csrf": {csrf}, "tags": {"new"}}, self)
	loc := rec.Header().Get("Location")
	newID := strings.TrimPrefix(strings.Split(loc, "?")[0], "/memory/")
	page := f.get(loc).Body.String()
	if !strings.Contains(page, `id="undo"`) || !strings.Contains(page, `name="drop" value="`+newID+`"`) {
		t.Fatalf("no undo after an edit:\n%s", page)
	}
	rec = f.post("/undo", url.Values{"csrf": {csrf}, "key": {id}, "drop": {newID}}, self)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("undo: %d %s", rec.Code, rec.Body)
	}
	if _, err := f.svc.Get(context.Background(), newID); err == nil {
		t.Fatal("the new version survived the undo")
	}
	m, err := f.svc.Get(context.Background(), id)
	if err != nil || strings.Join(m.Tags, ",") != "old" {
		t.Fatalf("old version %+v %v", m, err)
	}
}

func TestPinAndUnpin(t *testing.T) {
	f := newFixture(t)
	id := f.remember("deploys need two approvals", nil, "", nil, memory.SourceMCP)
	csrf := f.token()
	if body := f.get("/memory/" + id).Body.String(); !strings.Contains(body, `name="pinned" value="1"`) {
		t.Fatalf("an unpinned memory's page offers no Pin button:\n%s", body)
	}
	rec := f.post("/memory/"+id+"/pin", url.Values{"csrf": {csrf}, "pinned": {"1"}}, self)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("pin: %d %s", rec.Code, rec.Body)
	}
	if m, err := f.svc.Get(context.Background(), id); err != nil || !m.Pinned {
		t.Fatalf("not pinned: %+v %v", m, err)
	}
	if body := f.get("/memory/" + id).Body.String(); !strings.Contains(body, "Unpin") {
		t.Fatal("a pinned memory's page offers no Unpin button")
	}
	// Without the CSRF token nothing changes.
	if rec := f.post("/memory/"+id+"/pin", url.Values{"pinned": {"0"}}, self); rec.Code != http.StatusForbidden {
		t.Fatalf("pin without csrf: %d", rec.Code)
	}
	f.post("/memory/"+id+"/pin", url.Values{"csrf": {csrf}, "pinned": {"0"}}, self)
	if m, _ := f.svc.Get(context.Background(), id); m.Pinned {
		t.Fatal("still pinned after unpin")
	}
	if rec := f.post("/memory/01J9Z3M4Q8X1V2B3C4D5E6F7G8/pin", url.Values{"csrf": {csrf}, "pinned": {"1"}}, self); rec.Code != http.StatusNotFound {
		t.Fatalf("unknown id: %d", rec.Code)
	}
}
