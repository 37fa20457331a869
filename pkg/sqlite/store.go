// Package sqlite is mnemo's default memory store: one SQLite file (pure-Go
// driver modernc.org/sqlite, no cgo) that any number of mnemo processes read
// and write at the same time without losing a write.
//
// How it stays safe with many processes:
//   - WAL journal, synchronous=NORMAL, busy_timeout (15 s by default) on
//     every connection, foreign_keys on.
//   - Every write transaction starts with BEGIN IMMEDIATE (the `_txlock=
//     immediate` DSN option, verified by a test), so a writer takes the write
//     lock up front and waits for it under busy_timeout instead of failing
//     with SQLITE_BUSY when it upgrades a read lock. A write that still meets
//     SQLITE_BUSY is retried a few times with backoff.
//   - Commits run on context.WithoutCancel(ctx) with a bounded timeout, so a
//     shutdown that cancels a request context cannot abandon a write
//     half-way; a context already cancelled before the write starts does stop it.
//   - Opening retries with backoff: switching a fresh file to WAL returns
//     SQLITE_BUSY immediately (busy_timeout does not cover it) when many
//     processes start together. Migrations run in a BEGIN IMMEDIATE
//     transaction that re-reads PRAGMA user_version, so none is applied twice.
//
// Each process keeps its vectors in memory (package vecindex), loaded on the
// first search and kept current from the append-only `changes` table: before
// each search the store asks PRAGMA data_version on one dedicated connection
// (the value is per connection) and, only when another connection committed,
// reads the log rows after the last sequence number it applied.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite"

	"github.com/mnemo-mcp/mnemo/pkg/memory"
	"github.com/mnemo-mcp/mnemo/pkg/vecindex"
)

// SQLite primary result codes the store reacts to.
const (
	codeBusy   = 5
	codeLocked = 6
)

// DefaultBusyTimeout is how long a connection waits for a lock held by
// another connection or process before SQLITE_BUSY.
const DefaultBusyTimeout = 15 * time.Second

// Option configures Open.
type Option func(*options)

type options struct {
	busyTimeout time.Duration
	openTimeout time.Duration
	log         *slog.Logger
	now         func() time.Time
	roFallback  bool
}

// WithReadOnlyFallback lets Open fall back to opening the store read-only
// when this user may read it but not write it (file or folder permissions,
// a read-only file system). Reading commands use it; Store.ReadOnly says
// whether it happened, and every write then fails with memory.ErrReadOnly.
func WithReadOnlyFallback() Option { return func(o *options) { o.roFallback = true } }

// WithBusyTimeout sets busy_timeout (default DefaultBusyTimeout). Values
// under one second are raised to one second.
func WithBusyTimeout(d time.Duration) Option {
	return func(o *options) {
		if d < time.Second {
			d = time.Second
		}
		o.busyTimeout = d
	}
}

// WithOpenTimeout bounds how long Open keeps retrying a busy fresh file
// (default 60 s).
func WithOpenTimeout(d time.Duration) Option { return func(o *options) { o.openTimeout = d } }

// WithLogger sets where the store logs retries and slow catch-ups.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// Store implements memory.Store on one SQLite file.
type Store struct {
	path string
	db   *sql.DB // every connection: WAL, busy_timeout, foreign_keys, BEGIN IMMEDIATE
	o    options

	writeSem chan struct{} // capacity 1: serialises this process's writes

	// Vector and keyword indexes and their catch-up state, guarded by
	// syncMu.
	syncMu      sync.Mutex
	watch       *sql.Conn // dedicated: PRAGMA data_version is per connection
	loaded      bool
	dataVersion int64
	lastSeq     int64
	idx         *vecindex.Index
	kw          *keywordIndex // nil unless wantKeywords
	// wantKeywords: this process keeps a keyword index (WarmIndexes).
	wantKeywords bool

	closeOnce sync.Once
	closeErr  error

	// readOnly is why the store was opened read-only ("" = read-write).
	readOnly string

	// testHookWriteStarted, when set by a test, runs once a write is past
	// its cancellation check.
	testHookWriteStarted func()
	// kwTuning, when set by a test, replaces the keyword search's bounds.
	kwTuning kwTuning
}

var _ memory.Store = (*Store)(nil)

// Open opens (creating if needed) the store at path: the directory is
// created 0700 and the file 0600. It retries while other processes hold the
// file during their own set-up, up to the open timeout.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	o := options{busyTimeout: DefaultBusyTimeout, openTimeout: 60 * time.Second, now: time.Now}
	for _, f := range opts {
		f(&o)
	}
	if o.log == nil {
		o.log = slog.New(slog.DiscardHandler)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("store path %q: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, fmt.Errorf("create store directory: %w", err)
	}
	// Create the file ourselves so it is 0600 whatever the umask; SQLite
	// gives the -wal and -shm files the same mode as the database file.
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		if cause := readOnlyCause(abs, err); cause != "" {
			if o.roFallback {
				return openReadOnly(ctx, abs, o, cause)
			}
			return nil, notWritable(abs, cause)
		}
		return nil, fmt.Errorf("open store file: %w", err)
	}
	f.Close()

	db, err := sql.Open("sqlite", dsn(abs, o, false))
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	db.SetConnMaxIdleTime(0)
	s := &Store{path: abs, db: db, o: o, idx: vecindex.New(), writeSem: make(chan struct{}, 1)}

	octx, cancel := context.WithTimeout(ctx, o.openTimeout)
	defer cancel()
	if err := retry(octx, o.log, "set up store", func() error { return s.setup(octx) }); err != nil {
		db.Close()
		// The file is writable but SQLite cannot write beside it (the
		// folder is read-only: no -wal/-shm) or the file system refuses.
		if isReadOnlyErr(err) {
			cause := fmt.Sprintf("%v (is the folder %s writable?)", err, filepath.Dir(abs))
			if o.roFallback {
				return openReadOnly(ctx, abs, o, cause)
			}
			return nil, notWritable(abs, cause)
		}
		return nil, fmt.Errorf("set up store %s: %w", abs, err)
	}
	return s, nil
}

// setup switches the file to WAL and applies pending migrations.
func (s *Store) setup(ctx context.Context) error {
	var mode string
	if err := s.db.QueryRowContext(ctx, "PRAGMA journal_mode=WAL").Scan(&mode); err != nil {
		return fmt.Errorf("set WAL mode: %w", err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("journal mode is %q, want wal (is the file on a network filesystem?)", mode)
	}
	return s.migrate(ctx)
}

func (s *Store) migrate(ctx context.Context) error {
	var v int
	if err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return err
	}
	if v == SchemaVersion {
		return nil
	}
	if v > SchemaVersion {
		return fmt.Errorf("store schema version %d is newer than this mnemo understands (%d): upgrade mnemo", v, SchemaVersion)
	}
	tx, err := s.db.BeginTx(ctx, nil) // BEGIN IMMEDIATE (DSN _txlock)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// Re-read under the write lock: another process may have migrated.
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return err
	}
	if v > SchemaVersion {
		return fmt.Errorf("store schema version %d is newer than this mnemo understands (%d): upgrade mnemo", v, SchemaVersion)
	}
	for ; v < SchemaVersion; v++ {
		if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
			return fmt.Errorf("migration %d: %w", v+1, err)
		}
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", SchemaVersion)); err != nil {
		return err
	}
	return tx.Commit()
}

// dsn is the connection string of the store file: pragmas on every
// connection and BEGIN IMMEDIATE for writes, or read-only.
func dsn(abs string, o options, readOnly bool) string {
	q := url.Values{}
	// Order matters: busy_timeout first so the other pragmas wait for locks.
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", o.busyTimeout.Milliseconds()))
	if readOnly {
		q.Set("mode", "ro")
	} else {
		q.Add("_pragma", "foreign_keys(1)")
		q.Add("_pragma", "synchronous(NORMAL)")
		q.Set("_txlock", "immediate")
	}
	return "file:" + (&url.URL{Path: abs}).EscapedPath() + "?" + q.Encode()
}

// isBusy reports whether err is SQLITE_BUSY or SQLITE_LOCKED (any extended code).
func isBusy(err error) bool {
	var e *sqlite.Error
	if errors.As(err, &e) {
		c := e.Code() & 0xff
		return c == codeBusy || c == codeLocked
	}
	return false
}

// retry runs fn until it succeeds, fails with an error other than BUSY, or
// ctx ends; waits grow from 5 ms to 500 ms with jitter.
func retry(ctx context.Context, log *slog.Logger, what string, fn func() error) error {
	wait := 5 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil || !isBusy(err) {
			return err
		}
		log.Debug("store busy, retrying", "op", what, "attempt", attempt, "err", err)
		d := wait/2 + time.Duration(rand.Int64N(int64(wait)))
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (gave up after %d attempts: %v)", err, attempt, ctx.Err())
		case <-time.After(d):
		}
		if wait < 500*time.Millisecond {
			wait *= 2
		}
	}
}

// writeTimeout bounds one write, retries included. It is longer than the
// busy timeout so that a write waiting for a busy store can still retry.
func (s *Store) writeTimeout() time.Duration { return 3*s.o.busyTimeout + 15*time.Second }

// write runs fn in a BEGIN IMMEDIATE transaction and commits it. Once
// started, the write is detached from ctx's cancellation (bounded by
// writeTimeout instead), so a shutdown cannot abandon it half-way. fn may run
// more than once when the store is busy; it must only use tx.
func (s *Store) write(ctx context.Context, what string, fn func(ctx context.Context, tx *sql.Tx) error) error {
	if s.readOnly != "" {
		return fmt.Errorf("%w: %s (%s)", memory.ErrReadOnly, s.path, s.readOnly)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.testHookWriteStarted != nil {
		s.testHookWriteStarted()
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.writeTimeout())
	defer cancel()
	// One writer at a time inside this process: goroutines queue here, in
	// order, instead of polling SQLite's sleep-based busy handler (which
	// cut parallel in-process throughput by 5x in BenchmarkPutParallel).
	select {
	case s.writeSem <- struct{}{}:
	case <-wctx.Done():
		return fmt.Errorf("waiting for this process's other writes: %w", wctx.Err())
	}
	defer func() { <-s.writeSem }()
	return retry(wctx, s.o.log, what, func() error {
		tx, err := s.db.BeginTx(wctx, nil) // _txlock=immediate → BEGIN IMMEDIATE
		if err != nil {
			return err
		}
		if err := fn(wctx, tx); err != nil {
			tx.Rollback()
			return err
		}
		return tx.Commit()
	})
}

// Path returns the database file's absolute path.
func (s *Store) Path() string { return s.path }

// DB exposes the underlying handle for diagnostics (doctor) and tests.
// Writes through it must use transactions (they are BEGIN IMMEDIATE).
func (s *Store) DB() *sql.DB { return s.db }

// IntegrityCheck runs PRAGMA integrity_check and returns an error listing
// the problems it reports, nil when the file is sound.
func (s *Store) IntegrityCheck(ctx context.Context) error {
	rows, err := s.db.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return err
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return err
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(problems) > 0 {
		return fmt.Errorf("integrity check of %s failed: %s", s.path, strings.Join(problems, "; "))
	}
	// The FTS index must agree with the table it indexes. (Its check is
	// an INSERT command, which a read-only store cannot run.)
	if s.readOnly != "" {
		return nil
	}
	if _, err := s.db.ExecContext(ctx, "INSERT INTO memories_fts (memories_fts, rank) VALUES ('integrity-check', 1)"); err != nil {
		return fmt.Errorf("full-text index of %s is inconsistent: %w", s.path, err)
	}
	return nil
}

// Close releases the store. It is safe to call more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.syncMu.Lock()
		if s.watch != nil {
			s.watch.Close()
			s.watch = nil
		}
		s.syncMu.Unlock()
		s.closeErr = s.db.Close()
	})
	return s.closeErr
}
