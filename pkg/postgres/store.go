// Package postgres is mnemo's shared team store: memory.Store on PostgreSQL
// with pgvector (pgx v5, pgvector-go), selected by MNEMO_STORE=postgres://….
//
// How it behaves like the SQLite store, and where a server changes things:
//   - The same validation (memory.Prepare, Query.Normalize), the same exact
//     dedup (UNIQUE (project, content_hash), INSERT … ON CONFLICT DO NOTHING
//     then read the existing row, so racing writers agree), the same RRF
//     fusion (memory.Fuse) and candidate depth (memory.CandidateDepth).
//   - Semantic ranking runs in the server: an HNSW index per (model, dims),
//     created on demand, queried with hnsw.ef_search ≥ the candidate count
//     and strict-order iterative scans so filters cannot starve the result.
//     WithExactSearch switches to an exact scan (the recall baseline).
//   - Keyword ranking is PostgreSQL full-text search (tsvector, 'english'
//     configuration, GIN) ranked by ts_rank_cd; query words are ORed.
//   - Several users and machines share one database: every memory records
//     its author (user@host, filled in from this process when empty);
//     projects are shared by name and a search sees only the projects its
//     filter names.
//   - A small connection pool (DefaultMaxConns) per process: each Claude
//     session runs its own mnemo process, and a team of them must fit in the
//     server's max_connections.
//   - Writes are detached from the caller's cancellation once started
//     (bounded by a timeout), so a shutdown cannot abandon one half-way.
package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/user"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	pgxvec "github.com/pgvector/pgvector-go/pgx"

	"github.com/mnemo-mcp/mnemo/pkg/memory"
)

// DefaultMaxConns is the pool size of one process: enough for a search and
// a write at once, small enough that dozens of sessions share one server.
const DefaultMaxConns = 4

// IsURL reports whether s names a PostgreSQL store (postgres:// or
// postgresql://), as MNEMO_STORE does to select this package.
func IsURL(s string) bool {
	s = strings.TrimSpace(s)
	i := strings.Index(s, "://")
	if i < 0 {
		return false
	}
	switch strings.ToLower(s[:i]) {
	case "postgres", "postgresql":
		return true
	}
	return false
}

// Option configures Open.
type Option func(*options)

type options struct {
	maxConns     int32
	exact        bool
	efSearch     int
	author       string
	log          *slog.Logger
	now          func() time.Time
	writeTimeout time.Duration
	indexTimeout time.Duration
}

// WithMaxConns sets the pool size (default DefaultMaxConns, or the URL's
// pool_max_conns when it has one).
func WithMaxConns(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.maxConns = int32(n)
		}
	}
}

// WithExactSearch makes semantic rankings scan every vector of the query's
// model exactly instead of walking the HNSW index: slower, recall 1. It is
// the baseline the benchmarks measure the index against.
func WithExactSearch(exact bool) Option { return func(o *options) { o.exact = exact } }

// DefaultEfSearch is the least hnsw.ef_search a semantic ranking uses
// (pgvector's own default is 40); a ranking deeper than this uses its depth.
// docs/postgres.md has the recall and latency it buys.
const DefaultEfSearch = 100

// WithEfSearch sets the least hnsw.ef_search of a semantic ranking (default
// DefaultEfSearch; 1..1000): higher finds the true nearest neighbours more
// often and costs time.
func WithEfSearch(n int) Option {
	return func(o *options) {
		if n >= 1 && n <= 1000 {
			o.efSearch = n
		}
	}
}

// WithAuthor sets the author recorded on memories written without one
// (default: this process's user@host).
func WithAuthor(a string) Option { return func(o *options) { o.author = a } }

// WithLogger sets where the store logs index creation and retries.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// Store implements memory.Store on PostgreSQL + pgvector.
type Store struct {
	pool *pgxpool.Pool
	o    options
	path string // URL without password, for Stats
	// iterative is true when pgvector (≥ 0.8) has iterative index scans.
	iterative bool

	idxMu      sync.Mutex
	indexes    map[indexKey]bool      // (model, dims) pairs known to have an HNSW index
	indexRetry map[indexKey]time.Time // pairs whose index could not be made: not before then

	closeOnce sync.Once
}

var _ memory.Store = (*Store)(nil)

// Open connects to the database at url (a postgres:// URL or a libpq
// key=value string), applies pending migrations and returns the store.
// The server needs the pgvector extension installed; the first Open creates
// it in the database (which needs the right to CREATE EXTENSION once).
func Open(ctx context.Context, url string, opts ...Option) (*Store, error) {
	o := options{efSearch: DefaultEfSearch, now: time.Now, writeTimeout: 30 * time.Second, indexTimeout: 10 * time.Minute}
	for _, f := range opts {
		f(&o)
	}
	if o.log == nil {
		o.log = slog.New(slog.DiscardHandler)
	}
	if o.author == "" {
		o.author = defaultAuthor()
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx redacts the password in its parse errors.
		return nil, fmt.Errorf("postgres store: %w", err)
	}
	if o.maxConns > 0 {
		cfg.MaxConns = o.maxConns
	} else if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = DefaultMaxConns
	}
	cfg.MinConns = 0
	cfg.MaxConnIdleTime = 5 * time.Minute
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 15 * time.Second
	}
	// The embedded literals of the vector queries (see search.go) rely on
	// standard-conforming strings, the default since PostgreSQL 9.1.
	cfg.ConnConfig.RuntimeParams["standard_conforming_strings"] = "on"
	cfg.ConnConfig.RuntimeParams["application_name"] = "mnemo"
	cfg.AfterConnect = func(ctx context.Context, c *pgx.Conn) error {
		return pgxvec.RegisterTypes(ctx, c)
	}
	s := &Store{o: o, path: describe(cfg.ConnConfig), indexes: map[indexKey]bool{}, indexRetry: map[indexKey]time.Time{}}

	// Migrate on a plain connection first: the pool's connections register
	// the vector type, which exists only once migration 1 has run.
	if err := s.migrate(ctx, cfg.ConnConfig); err != nil {
		return nil, fmt.Errorf("postgres store %s: %w", s.path, err)
	}
	s.pool, err = pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres store %s: %w", s.path, err)
	}
	var ver string
	if err := s.pool.QueryRow(ctx, `SELECT extversion FROM pg_extension WHERE extname = 'vector'`).Scan(&ver); err != nil {
		s.pool.Close()
		return nil, fmt.Errorf("postgres store %s: pgvector version: %w", s.path, err)
	}
	s.iterative = versionAtLeast(ver, 0, 8)
	return s, nil
}

// migrate applies pending migrations in one transaction under an advisory
// lock, re-reading the applied versions after taking it.
func (s *Store) migrate(ctx context.Context, cc *pgx.ConnConfig) error {
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
		return fmt.Errorf("lock schema: %w", err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer     PRIMARY KEY,
		applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	var v int
	if err := tx.QueryRow(ctx, `SELECT COALESCE(max(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return err
	}
	if v > SchemaVersion {
		return fmt.Errorf("schema version %d is newer than this mnemo understands (%d): upgrade mnemo", v, SchemaVersion)
	}
	if v == SchemaVersion {
		return tx.Commit(ctx) // nothing to do; releases the lock
	}
	for ; v < SchemaVersion; v++ {
		if _, err := tx.Exec(ctx, migrations[v]); err != nil {
			if strings.Contains(err.Error(), `"vector"`) && strings.Contains(err.Error(), "extension") {
				return fmt.Errorf("migration %d: %w (the server needs the pgvector extension installed: see docs/postgres.md)", v+1, err)
			}
			return fmt.Errorf("migration %d: %w", v+1, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, v+1); err != nil {
			return err
		}
	}
	s.o.log.Info("postgres store migrated", "schema_version", SchemaVersion)
	return tx.Commit(ctx)
}

// write runs fn in a transaction and commits it. Once started the write is
// detached from ctx's cancellation and bounded by the write timeout instead,
// so a shutdown that cancels a request cannot abandon it half-way; a context
// already done before the write starts does stop it.
func (s *Store) write(ctx context.Context, fn func(ctx context.Context, tx pgx.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.o.writeTimeout)
	defer cancel()
	return pgx.BeginFunc(wctx, s.pool, func(tx pgx.Tx) error { return fn(wctx, tx) })
}

// Pool exposes the connection pool for diagnostics (doctor), migrate and tests.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Path returns the store's URL without its password.
func (s *Store) Path() string { return s.path }

// Close releases the pool. It is safe to call more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		if s.pool != nil {
			s.pool.Close()
		}
	})
	return nil
}

// versionAtLeast reports whether a "major.minor[.patch]" version is at
// least major.minor.
func versionAtLeast(v string, major, minor int) bool {
	var a, b int
	if _, err := fmt.Sscanf(v, "%d.%d", &a, &b); err != nil {
		return false
	}
	return a > major || (a == major && b >= minor)
}

// defaultAuthor is user@host of this process, as well as it can be told.
func defaultAuthor() string {
	name := os.Getenv("USER")
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	if name == "" {
		name = "unknown"
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown"
	}
	return name + "@" + host
}

// describe renders a connection config as a URL without the password.
func describe(cc *pgx.ConnConfig) string {
	u := url.URL{Scheme: "postgres", Host: cc.Host, Path: "/" + cc.Database}
	if cc.Port != 0 && !strings.HasPrefix(cc.Host, "/") {
		u.Host = fmt.Sprintf("%s:%d", cc.Host, cc.Port)
	}
	if strings.HasPrefix(cc.Host, "/") { // unix socket directory
		u.Host = ""
		u.RawQuery = url.Values{"host": {cc.Host}}.Encode()
	}
	if cc.User != "" {
		u.User = url.User(cc.User)
	}
	return u.String()
}
