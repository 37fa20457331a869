package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"modernc.org/sqlite"

	"github.com/mnemo-mcp/mnemo/pkg/memory"
	"github.com/mnemo-mcp/mnemo/pkg/vecindex"
)

// SQLite primary result codes that mean "you may not write here".
const (
	codePerm     = 3
	codeReadOnly = 8
	codeCantOpen = 14
)

// ReadOnly returns why the store was opened read-only, "" when it is
// read-write.
func (s *Store) ReadOnly() string { return s.readOnly }

// readOnlyCause explains an error opening the store file for writing when
// it is a permission problem ("" otherwise): the file's or the folder's
// mode, or a read-only file system.
func readOnlyCause(abs string, err error) string {
	switch {
	case errors.Is(err, syscall.EROFS):
		return "it is on a read-only file system"
	case !errors.Is(err, fs.ErrPermission):
		return ""
	}
	if fi, serr := os.Stat(abs); serr == nil {
		return fmt.Sprintf("the file is not writable by you (mode %s%s)", fi.Mode().Perm(), ownerNote(fi))
	}
	if fi, serr := os.Stat(filepath.Dir(abs)); serr == nil {
		return fmt.Sprintf("its folder is not writable by you (mode %s%s)", fi.Mode().Perm(), ownerNote(fi))
	}
	return err.Error()
}

// isReadOnlyErr reports whether a SQLite error means the file or its folder
// cannot be written.
func isReadOnlyErr(err error) bool {
	var e *sqlite.Error
	if errors.As(err, &e) {
		switch e.Code() & 0xff {
		case codePerm, codeReadOnly, codeCantOpen:
			return true
		}
	}
	return errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS)
}

// notWritable is the error of a writing command on a store it may not write.
func notWritable(abs, cause string) error {
	return fmt.Errorf("%w: cannot write %s: %s; reading commands (list, recall, export, stats, doctor) still work, read-only; to write, fix the permissions or use another MNEMO_HOME",
		memory.ErrReadOnly, abs, cause)
}

// openReadOnly opens an existing store for reading only: no WAL switch, no
// migrations, no writes. The schema must already be this build's.
func openReadOnly(ctx context.Context, abs string, o options, cause string) (*Store, error) {
	if _, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("open store %s read-only (%s): %w", abs, cause, err)
	}
	try := func(immutable bool) (*sql.DB, int, error) {
		d := dsn(abs, o, true)
		if immutable {
			d += "&immutable=1"
		}
		db, err := sql.Open("sqlite", d)
		if err != nil {
			return nil, 0, fmt.Errorf("open sqlite: %w", err)
		}
		db.SetMaxOpenConns(8)
		db.SetMaxIdleConns(8)
		octx, cancel := context.WithTimeout(ctx, o.openTimeout)
		defer cancel()
		var v int
		err = retry(octx, o.log, "open store read-only", func() error {
			return db.QueryRowContext(octx, "PRAGMA user_version").Scan(&v)
		})
		if err != nil {
			db.Close()
			return nil, 0, err
		}
		return db, v, nil
	}
	db, v, err := try(false)
	if err != nil && isReadOnlyErr(err) {
		// A WAL store needs its -shm file, which a read-only folder does
		// not let SQLite create: read the file as it is instead. Commits
		// still only in a -wal file, and any made while we read, are not
		// seen.
		db, v, err = try(true)
		if err == nil {
			cause += "; read as a snapshot: writes by others while this runs are not seen"
		}
	}
	if err != nil {
		return nil, fmt.Errorf("open store %s read-only (%s): %w", abs, cause, err)
	}
	s := &Store{path: abs, db: db, o: o, idx: vecindex.New(), writeSem: make(chan struct{}, 1), readOnly: cause}
	if v != SchemaVersion {
		db.Close()
		return nil, fmt.Errorf("store %s has schema version %d and this mnemo needs %d; upgrading it needs write access (%s)", abs, v, SchemaVersion, cause)
	}
	o.log.Info("store opened read-only", "path", abs, "why", cause)
	return s, nil
}
