// Package locktest holds a SQLite store's write lock from another
// connection, as another process's long write would, for tests that check
// what must keep working meanwhile.
package locktest

import (
	"context"
	"database/sql"
	"net/url"
	"sync"
	"testing"

	_ "modernc.org/sqlite" // the driver mnemo's store uses
)

// Hold takes the write lock of the SQLite file at path with BEGIN IMMEDIATE
// on a connection of its own and keeps it until release is called (or the
// test ends). release rolls back and closes; it is safe to call twice.
func Hold(t testing.TB, path string) (release func()) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	ctx := context.Background()
	c, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatalf("take the write lock of %s: %v", path, err)
	}
	// A write inside the transaction: the lock is really held, as by a
	// writer in the middle of its work.
	if _, err := c.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS locktest_holder (x)"); err != nil {
		t.Fatalf("write under the lock: %v", err)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			c.ExecContext(ctx, "ROLLBACK")
			c.Close()
			db.Close()
		})
	}
	t.Cleanup(release)
	return release
}
