// Package ui is `mnemo ui`: a local web viewer to browse, search and curate
// memories, served by the standard library on 127.0.0.1 only. Pages are
// rendered on the server (html/template escapes every memory's text, which
// is untrusted), so reading works without JavaScript; the one small script
// only reloads the page when another process writes.
//
// A local web server is an attack surface. Every request must carry the
// session cookie, which only the holder of the per-run token printed on the
// terminal can obtain; the Host header must name the loopback address
// (DNS rebinding); state changes must be POSTs from this origin carrying the
// session's CSRF token; and a strict Content-Security-Policy forbids inline
// script and any other origin.
package ui

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	embedpkg "github.com/mnemo-mcp/mnemo/embed"
	"github.com/mnemo-mcp/mnemo/pkg/memory"
	"github.com/mnemo-mcp/mnemo/pkg/service"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// CookieName is the session cookie's name.
const CookieName = "mnemo_ui"

// csp forbids inline script and every other origin; the chart is inline
// SVG markup, styles come from the one stylesheet.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// Options configures a Server.
type Options struct {
	// Svc is the memory service every read and write goes through.
	Svc *service.Service
	// Engine returns the embedding engine when it was started (nil: not
	// loaded); the health page shows its model and kernels.
	Engine func() *embedpkg.Engine
	// LogPath is the log file the health page reads recent errors from.
	LogPath string
	// Token is the per-run secret of the printed URL ("" = a random one).
	Token string
	// Logger receives request failures (default: discard).
	Logger *slog.Logger
	// PollEvery is how often the live view checks the store for other
	// processes' writes (default 2s).
	PollEvery time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Server is the web viewer's HTTP handler.
type Server struct {
	o     Options
	svc   *service.Service
	log   *slog.Logger
	token string
	tmpl  *template.Template
	mux   *http.ServeMux

	// port is the port the listener is bound to; the Host and Origin
	// checks accept only the loopback names with it.
	port string

	mu       sync.Mutex
	sessions map[string]*session

	statsCache   memory.Stats
	statsVersion string

	watch *watcher
	// closing is closed when Serve stops: event streams end at once
	// instead of holding the shutdown.
	closing   chan struct{}
	closeOnce sync.Once
}

// session is one browser's state: its CSRF token and the memories it
// forgot, kept so that a forget can be undone.
type session struct {
	csrf      string
	forgotten map[string]memory.Memory // undo key → the memory, with its vector
	order     []string
}

// maxUndo bounds the forgotten memories a session keeps for undo.
const maxUndo = 100

// New returns a Server; call SetPort before serving (Serve does).
func New(o Options) (*Server, error) {
	if o.Svc == nil {
		return nil, errors.New("ui: a service is required")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.PollEvery <= 0 {
		o.PollEvery = 2 * time.Second
	}
	if o.Engine == nil {
		o.Engine = func() *embedpkg.Engine { return nil }
	}
	if o.Token == "" {
		o.Token = randomToken()
	}
	t, err := template.New("").Funcs(funcs).ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("ui: templates: %w", err)
	}
	s := &Server{o: o, svc: o.Svc, log: o.Logger, token: o.Token, tmpl: t, sessions: map[string]*session{}, closing: make(chan struct{})}
	s.watch = newWatcher(o.Svc.Store(), o.PollEvery, o.Logger)
	s.routes()
	return s, nil
}

// Token is the per-run secret the printed URL carries.
func (s *Server) Token() string { return s.token }

// SetPort tells the server which port it is reached on.
func (s *Server) SetPort(port int) { s.port = strconv.Itoa(port) }

// Listen binds 127.0.0.1:port (0 = any free port); never another address.
func Listen(port int) (net.Listener, error) {
	return net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
}

// Serve serves on ln until ctx is done.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	s.SetPort(ln.Addr().(*net.TCPAddr).Port)
	hs := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go s.watch.run(wctx)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		s.closeOnce.Do(func() { close(s.closing) })
		sctx, c := context.WithTimeout(context.Background(), 2*time.Second)
		defer c()
		_ = hs.Shutdown(sctx)
		return nil
	}
}

// URL is the address to open: it carries the token once.
func (s *Server) URL() string {
	return "http://127.0.0.1:" + s.port + "/?token=" + s.token
}

func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported systems
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// ServeHTTP applies the security checks to every request, then routes it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	// "same-origin", not "no-referrer": under no-referrer a browser sends
	// "Origin: null" with a form POST, and the Origin check needs the origin.
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")

	if !s.hostOK(r.Host) {
		http.Error(w, "refused: this server answers only to 127.0.0.1 and localhost", http.StatusMisdirectedRequest)
		return
	}
	if tok := r.URL.Query().Get("token"); tok != "" {
		s.login(w, r, tok)
		return
	}
	sess := s.session(r)
	if sess == nil {
		http.Error(w, "refused: no session. Open the URL `mnemo ui` printed (it carries a one-run token).", http.StatusUnauthorized)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		if r.Method != http.MethodPost {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if !s.originOK(r) {
			http.Error(w, "refused: cross-origin request", http.StatusForbidden)
			return
		}
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		if subtle.ConstantTimeCompare([]byte(r.PostForm.Get("csrf")), []byte(sess.csrf)) != 1 {
			http.Error(w, "refused: missing or wrong CSRF token; reload the page and try again", http.StatusForbidden)
			return
		}
	}
	s.mux.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, sess)))
}

type sessionKey struct{}

func sessionOf(r *http.Request) *session {
	s, _ := r.Context().Value(sessionKey{}).(*session)
	return s
}

// hostOK accepts the loopback names with the server's port: a DNS
// rebinding attack reaches us under a foreign name.
func (s *Server) hostOK(host string) bool {
	return host == "127.0.0.1:"+s.port || host == "localhost:"+s.port
}

// originOK accepts a state change only from this origin. A browser sends
// Origin with every POST; a request with neither Origin nor Sec-Fetch-Site
// is not from a browser page, and still needs the cookie and CSRF token.
func (s *Server) originOK(r *http.Request) bool {
	if o := r.Header.Get("Origin"); o != "" {
		return o == "http://127.0.0.1:"+s.port || o == "http://localhost:"+s.port
	}
	if sf := r.Header.Get("Sec-Fetch-Site"); sf != "" {
		return sf == "same-origin"
	}
	return true
}

// login exchanges the URL's token for a session cookie. The answer is a
// page that moves on to / by itself: a same-origin navigation, so the
// SameSite=Strict cookie is sent, and the token leaves the address bar.
func (s *Server) login(w http.ResponseWriter, r *http.Request, tok string) {
	if subtle.ConstantTimeCompare([]byte(tok), []byte(s.token)) != 1 {
		http.Error(w, "refused: wrong token. Open the URL this run of `mnemo ui` printed.", http.StatusUnauthorized)
		return
	}
	id := randomToken()
	s.mu.Lock()
	s.sessions[id] = &session{csrf: randomToken(), forgotten: map[string]memory.Memory{}}
	s.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprint(w, `<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=/"><title>mnemo</title><a href="/">continue</a>`)
}

func (s *Server) session(r *http.Request) *session {
	c, err := r.Cookie(CookieName)
	if err != nil || c.Value == "" {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions[c.Value]
}

// remember keeps a forgotten memory for undo and returns its undo key.
func (s *Server) keepForUndo(sess *session, m memory.Memory) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := m.ID
	sess.forgotten[key] = m
	sess.order = append(sess.order, key)
	if len(sess.order) > maxUndo {
		delete(sess.forgotten, sess.order[0])
		sess.order = sess.order[1:]
	}
	return key
}

func (s *Server) takeUndo(sess *session, key string) (memory.Memory, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := sess.forgotten[key]
	if ok {
		delete(sess.forgotten, key)
	}
	return m, ok
}

func (s *Server) routes() {
	m := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	m.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	m.HandleFunc("GET /{$}", s.handleBrowse)
	m.HandleFunc("GET /search", s.handleSearch)
	m.HandleFunc("GET /memory/{id}", s.handleMemory)
	m.HandleFunc("GET /memory/{id}/forget", s.handleForgetConfirm)
	m.HandleFunc("POST /memory/{id}/forget", s.handleForget)
	m.HandleFunc("POST /memory/{id}/tags", s.handleTags)
	m.HandleFunc("POST /memory/{id}/edit", s.handleEdit)
	m.HandleFunc("POST /memory/{id}/pin", s.handlePin)
	m.HandleFunc("POST /undo", s.handleUndo)
	m.HandleFunc("GET /health", s.handleHealth)
	m.HandleFunc("GET /events", s.handleEvents)
	s.mux = m
}
