// Package storemove moves the store from the data dir every mnemo before
// the platform folders used (~/.local/share/mnemo, on every system) to the
// platform's data dir, once, when a process starts.
//
// A store may be open in other processes, older mnemo versions included, so
// the move is careful:
//
//   - A lock file beside the legacy folder (.mnemo.move.lock) orders the
//     processes of this version: the one that gets it exclusively decides
//     and moves; the others wait on it shared, then use the result. A
//     process that keeps using the legacy folder (the move could not be
//     done) holds it shared for its whole life, so no move starts under it.
//   - Processes of any version that have the store open hold SQLite's own
//     lock on it: the mover opens the store in SQLite's exclusive locking
//     mode, which fails while any other connection exists. When that fails,
//     nothing moves: the store is used where it is, and a later start tries
//     again. Otherwise the mover checkpoints the WAL into the store file.
//   - On one file system the folder is renamed (atomic): a process that
//     opened the store just before follows it, as its files are the same.
//     Otherwise, holding the exclusive lock (no one can open the store), the
//     mover copies the folder's files into a temporary sibling of the
//     target, fsyncs them, verifies them (sizes; SQLite integrity check and
//     the row count of every table) and renames the copy into place; only
//     then is the old folder renamed aside and removed, unless someone
//     opened its store meanwhile. A note in the old folder (MOVED) says
//     where the store went.
//
// The commit point is the target's mnemo.db appearing, complete: before it
// the legacy folder is the store and is untouched (but for a WAL
// checkpoint); after it the target is. A start after an interruption redoes
// the copy, or finishes removing the old folder.
package storemove

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/gofrs/flock"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver

	"github.com/mnemo-mcp/mnemo/pkg/spool"
)

// DBName is the store's file in a data dir.
const DBName = "mnemo.db"

// NoteName is the note left in the old folder once its store is copied to
// the new place.
const NoteName = "MOVED"

// Options says what to move where.
type Options struct {
	// From is the legacy data dir, To the platform's.
	From, To string
	// Wait bounds how long a process waits for another one moving the
	// store (0: DefaultWait).
	Wait time.Duration
}

// KeptJoined is Result.Kept for a process that found others of this version
// using the store in place, and joined them.
const KeptJoined = "another mnemo process is using it there"

// DefaultWait is how long a process waits for another one's move by default.
const DefaultWait = 2 * time.Minute

// Result says where the store is after Settle.
type Result struct {
	// Home is the data dir to use: To, or From when the store stays there
	// for now.
	Home string
	// Moved: this process moved the store; Copied: by copying it (From and
	// To are on different file systems).
	Moved, Copied bool
	// Kept says why the store stays in From for now ("" when it does not).
	Kept string
	// Leftover is a problem met removing the old folder after the move
	// (the store itself is in To).
	Leftover string

	held *flock.Flock
}

// Release drops the shared lock a process using the legacy folder in place
// holds (Settle's caller keeps it for the process's life; tests release it).
func (r *Result) Release() {
	if r.held != nil {
		r.held.Unlock()
		r.held = nil
	}
}

// TestStep, when a test sets it, is called at each step of a move; a test
// that re-executes mnemo kills the process there.
var TestStep func(step string)

// TestForceCopy, set by a test, makes a move copy even where a rename would do.
var TestForceCopy bool

func step(name string) {
	if TestStep != nil {
		TestStep(name)
	}
}

// LockPath is the lock file that orders the processes moving (or using in
// place) the legacy data dir from.
func LockPath(from string) string {
	return filepath.Join(filepath.Dir(from), "."+filepath.Base(from)+".move.lock")
}

// stagePath is the temporary sibling of to a copy is built in.
func stagePath(to string) string {
	return filepath.Join(filepath.Dir(to), "."+filepath.Base(to)+".moving")
}

// TrashPath is where the old folder goes, after the move, to be removed.
func TrashPath(from string) string {
	return filepath.Join(filepath.Dir(from), "."+filepath.Base(from)+".moved")
}

// HasStore reports whether dir holds a store.
func HasStore(dir string) bool {
	st, err := os.Stat(filepath.Join(dir, DBName))
	return err == nil && st.Mode().IsRegular()
}

// Settle moves the store from o.From to o.To if it is still in From and To
// has none, and says where it is. It fails only when another process is
// moving it for longer than o.Wait: the caller then must not open either
// folder.
func Settle(ctx context.Context, o Options) (Result, error) {
	if o.Wait <= 0 {
		o.Wait = DefaultWait
	}
	if HasStore(o.To) {
		return Result{Home: o.To, Leftover: finishLeftover(o)}, nil
	}
	if !HasStore(o.From) {
		return Result{Home: o.To}, nil
	}
	lk := flock.New(LockPath(o.From))
	// Not got: another process is moving the store (it holds the lock
	// exclusively: wait for it), or processes use it in place (shared:
	// join them at once; it moves at a start when none does).
	got, err := lk.TryLock()
	if err != nil {
		return Result{Home: o.From, Kept: fmt.Sprintf("cannot lock %s: %v", lk.Path(), err)}, nil
	}
	if got {
		r, moved := func() (Result, bool) {
			defer lk.Unlock()
			return settleLocked(ctx, o)
		}()
		if moved || r.Home == o.To {
			return r, nil
		}
		// Not moved: use the legacy folder like the others, below.
		kept := r.Kept
		r2, err := waitShared(ctx, o, lk)
		if r2.Kept != "" {
			r2.Kept = kept
		}
		return r2, err
	}
	return waitShared(ctx, o, lk)
}

// waitShared waits for the lock shared (another process may be moving the
// store), then says where the store is, holding the lock if it stays in From.
func waitShared(ctx context.Context, o Options, lk *flock.Flock) (Result, error) {
	wctx, cancel := context.WithTimeout(ctx, o.Wait)
	defer cancel()
	got, err := lk.TryRLockContext(wctx, 50*time.Millisecond)
	if !got {
		return Result{}, fmt.Errorf("another mnemo process is moving the store from %s to %s (lock %s held for over %s): %v; try again when it is done",
			o.From, o.To, lk.Path(), o.Wait, err)
	}
	switch {
	case HasStore(o.To):
		lk.Unlock()
		return Result{Home: o.To}, nil
	case HasStore(o.From):
		return Result{Home: o.From, Kept: KeptJoined, held: lk}, nil
	}
	lk.Unlock()
	return Result{Home: o.To}, nil
}

// settleLocked runs under the exclusive lock: it checks again, then moves.
func settleLocked(ctx context.Context, o Options) (Result, bool) {
	if HasStore(o.To) {
		return Result{Home: o.To}, false
	}
	if !HasStore(o.From) {
		return Result{Home: o.To}, false
	}
	r, err := move(ctx, o)
	if err != nil {
		return Result{Home: o.From, Kept: err.Error()}, false
	}
	return r, true
}

// errInUse is the move's error when another process has the store open.
var errInUse = errors.New("another process has the store open (a running mnemo, perhaps an older version); it moves at a start when none has")

// move moves the store, holding SQLite's exclusive lock on it throughout.
// An error means nothing moved (To has no store).
func move(ctx context.Context, o Options) (Result, error) {
	if st, err := os.Lstat(o.From); err == nil && st.Mode()&os.ModeSymlink != 0 {
		// The user put the store elsewhere on purpose: leave it there.
		return Result{}, fmt.Errorf("%s is a symbolic link: mnemo does not move it (set MNEMO_HOME to where it points to keep it, or move it yourself)", o.From)
	}
	p, err := openProbe(ctx, filepath.Join(o.From, DBName))
	if err != nil {
		return Result{}, err
	}
	defer func() { p.close() }() // p changes below
	counts, err := p.prepare(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("prepare the store for the move: %w", err)
	}
	step("probed")
	if err := os.MkdirAll(filepath.Dir(o.To), 0o700); err != nil {
		return Result{}, fmt.Errorf("create %s: %w", filepath.Dir(o.To), err)
	}
	if _, err := os.Lstat(o.To); errors.Is(err, os.ErrNotExist) && !TestForceCopy {
		// The probe closes first (Windows renames no folder with a file
		// open in it; SQLite's close deletes the WAL by its old path). A
		// process opening the store now follows it: its files are the
		// same, renamed.
		os.Remove(filepath.Join(o.From, NoteName)) // of an earlier, unfinished copy
		p.close()
		err := os.Rename(o.From, o.To)
		if err == nil {
			syncDir(filepath.Dir(o.To))
			syncDir(filepath.Dir(o.From))
			step("renamed")
			return Result{Home: o.To, Moved: true}, nil
		}
		// Another file system (or, on Windows, a file open in the folder):
		// copy, if no one has opened the store meanwhile.
		if p, err = openProbe(ctx, filepath.Join(o.From, DBName)); err != nil {
			return Result{}, err
		}
		if counts, err = p.prepare(ctx); err != nil {
			return Result{}, fmt.Errorf("prepare the store for the move: %w", err)
		}
	}
	if err := copyMove(ctx, o, p, counts); err != nil {
		return Result{}, err
	}
	r := Result{Home: o.To, Moved: true, Copied: true}
	r.Leftover = removeOld(o, p)
	return r, nil
}

// copyMove copies From into a temporary sibling of To, verifies it and
// renames it into place (To's mnemo.db appearing is the commit point).
func copyMove(ctx context.Context, o Options, p *probe, counts map[string]int64) error {
	stage := stagePath(o.To)
	if err := os.RemoveAll(stage); err != nil { // an interrupted copy: redo
		return fmt.Errorf("remove the unfinished copy %s: %w", stage, err)
	}
	if err := os.Mkdir(stage, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", stage, err)
	}
	fail := func(err error) error {
		os.RemoveAll(stage)
		os.Remove(filepath.Join(o.From, NoteName))
		return err
	}
	if err := copyTree(o.From, stage, p); err != nil {
		return fail(fmt.Errorf("copy %s to %s: %w", o.From, stage, err))
	}
	step("copied")
	if err := syncTree(stage); err != nil {
		return fail(err)
	}
	step("synced")
	if err := verify(ctx, filepath.Join(stage, DBName), counts); err != nil {
		return fail(fmt.Errorf("the copy of the store in %s does not check out: %w", stage, err))
	}
	if err := syncTree(stage); err != nil {
		return fail(err)
	}
	step("verified")
	if err := writeNote(o); err != nil {
		return fail(err)
	}
	step("noted")
	if _, err := os.Lstat(o.To); errors.Is(err, os.ErrNotExist) {
		if err := os.Rename(stage, o.To); err != nil {
			return fail(fmt.Errorf("rename %s to %s: %w", stage, o.To, err))
		}
		syncDir(filepath.Dir(o.To))
	} else {
		// To exists without a store (logs, a model cache): what is not
		// there yet goes in first, the store last.
		if err := mergeInto(stage, o.To); err != nil {
			return fail(err)
		}
		step("merged")
		if err := os.Rename(filepath.Join(stage, DBName), filepath.Join(o.To, DBName)); err != nil {
			return fail(fmt.Errorf("rename the store into %s: %w", o.To, err))
		}
		syncDir(o.To)
		os.RemoveAll(stage)
	}
	step("committed")
	return nil
}

// copyTree copies the regular files and folders of from into to: not the
// server sockets (run/), nor SQLite's shared-memory file, nor an empty WAL.
// The store is copied first. The source files stay open until p closes:
// closing a file of this process would drop SQLite's POSIX lock on it.
func copyTree(from, to string, p *probe) error {
	var files []string
	err := filepath.WalkDir(from, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		if rel == "." {
			return nil
		}
		if rel == "run" || rel == NoteName || rel == DBName+"-shm" {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		switch {
		case d.IsDir():
			return os.Mkdir(filepath.Join(to, rel), 0o700)
		case d.Type().IsRegular():
			files = append(files, rel)
		}
		return nil // sockets, symlinks: left behind
	})
	if err != nil {
		return err
	}
	sort.SliceStable(files, func(i, j int) bool { return files[i] == DBName && files[j] != DBName })
	for i, rel := range files {
		if err := copyFile(filepath.Join(from, rel), filepath.Join(to, rel), p); err != nil {
			return err
		}
		if i == 0 {
			step("copying")
		}
	}
	return nil
}

func copyFile(src, dst string, p *probe) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	p.keep = append(p.keep, in)
	st, err := in.Stat()
	if err != nil {
		return err
	}
	if filepath.Base(src) == DBName+"-wal" && st.Size() == 0 {
		return nil
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	n, err := io.Copy(out, in)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	// Sizes: the store cannot change under the lock; a log another process
	// appends to may grow, which is fine.
	if n < st.Size() || (filepath.Base(src) != "mnemo.log" && n != st.Size()) {
		return fmt.Errorf("copy %s: %d bytes copied of %d", src, n, st.Size())
	}
	return nil
}

// syncTree fsyncs every file and folder under dir, and dir's parent.
func syncTree(dir string) error {
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && !d.Type().IsRegular() {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := f.Sync(); err != nil && !d.IsDir() {
			return fmt.Errorf("fsync %s: %w", path, err)
		}
		return nil
	})
	syncDir(filepath.Dir(dir))
	return err
}

// syncDir fsyncs a folder, so a rename or new file in it survives a crash
// (best effort: Windows cannot open a folder for it).
func syncDir(dir string) {
	if f, err := os.Open(dir); err == nil {
		f.Sync()
		f.Close()
	}
}

// mergeInto moves what stage holds into the existing folder to, but for the
// store, which the caller renames last: entries to lacks are renamed in;
// folders both have are merged; files both have stay as to has them
// (logs), but spooled writes, which have unique names, all go in.
func mergeInto(stage, to string) error {
	entries, err := os.ReadDir(stage)
	if err != nil {
		return err
	}
	for _, e := range entries {
		src, dst := filepath.Join(stage, e.Name()), filepath.Join(to, e.Name())
		if e.Name() == DBName {
			continue
		}
		st, err := os.Lstat(dst)
		switch {
		case errors.Is(err, os.ErrNotExist):
			if err := os.Rename(src, dst); err != nil {
				return fmt.Errorf("move %s into %s: %w", e.Name(), to, err)
			}
		case err != nil:
			return err
		case e.IsDir() && st.IsDir():
			if err := mergeInto(src, dst); err != nil {
				return err
			}
		}
	}
	syncDir(to)
	return nil
}

// note is the MOVED file's content: where the store went, and the store's
// size and time when it was copied, so a later start knows the folder
// holds nothing newer before removing it.
type note struct {
	To      string    `json:"to"`
	Size    int64     `json:"size"`
	ModTime time.Time `json:"mtime"`
	Text    string    `json:"note"`
}

func writeNote(o Options) error {
	st, err := os.Stat(filepath.Join(o.From, DBName))
	if err != nil {
		return err
	}
	n := note{To: o.To, Size: st.Size(), ModTime: st.ModTime(),
		Text: "mnemo moved this store to " + o.To + "; this folder is a leftover copy and is removed at the next mnemo start"}
	b, _ := json.MarshalIndent(n, "", "  ")
	path := filepath.Join(o.From, NoteName)
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, err = f.Write(append(b, '\n'))
	if err == nil {
		err = f.Sync()
	}
	f.Close()
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	syncDir(o.From)
	return nil
}

// readNote reads the note in dir (ok false when there is none for to).
func readNote(dir, to string) (note, bool) {
	b, err := os.ReadFile(filepath.Join(dir, NoteName))
	if err != nil {
		return note{}, false
	}
	var n note
	if json.Unmarshal(b, &n) != nil || filepath.Clean(n.To) != filepath.Clean(to) {
		return note{}, false
	}
	return n, true
}

// unchanged reports whether the store in dir is as the note recorded it
// (no one wrote to it since the copy).
func unchanged(dir string, n note) bool {
	st, err := os.Stat(filepath.Join(dir, DBName))
	if err != nil || st.Size() != n.Size || !st.ModTime().Equal(n.ModTime) {
		return false
	}
	if wal, err := os.Stat(filepath.Join(dir, DBName+"-wal")); err == nil && wal.Size() > 0 {
		return false
	}
	return true
}

// removeOld removes the old folder once its store is in To: renamed aside
// (at once no store is there) while p still locks it, then deleted if no
// one opened it meanwhile. It returns what it could not do ("" when done).
func removeOld(o Options, p *probe) string {
	trash := TrashPath(o.From)
	if err := os.RemoveAll(trash); err != nil {
		return fmt.Sprintf("could not remove %s: %v", trash, err)
	}
	// The probe closes first: SQLite's close deletes the WAL by its path,
	// and Windows renames no folder with a file open in it. A process
	// that opens the store from now on writes to the folder renamed aside,
	// which removeTrash then keeps.
	p.close()
	if err := os.Rename(o.From, trash); err != nil {
		return fmt.Sprintf("could not remove the old folder %s (its note %s says where the store went): %v", o.From, NoteName, err)
	}
	syncDir(filepath.Dir(o.From))
	step("trashed")
	return removeTrash(o)
}

// removeTrash deletes the renamed-aside old folder, unless a process (an
// older mnemo that was waiting for the lock) has opened its store since.
func removeTrash(o Options) string {
	trash := TrashPath(o.From)
	if HasStore(trash) {
		q, err := openProbe(context.Background(), filepath.Join(trash, DBName))
		if err != nil {
			return fmt.Sprintf("left %s: %v", trash, err)
		}
		n, ok := readNote(trash, o.To)
		still := ok && unchanged(trash, n)
		q.close()
		if !still {
			return fmt.Sprintf("left %s: its store changed after it was copied to %s (an older mnemo wrote to it?); see what it holds before removing it", trash, o.To)
		}
	}
	if err := rescueSpool(trash, o.To); err != nil {
		return fmt.Sprintf("left %s: could not move its spooled writes to %s: %v", trash, o.To, err)
	}
	if err := os.RemoveAll(trash); err != nil {
		return fmt.Sprintf("could not remove %s: %v", trash, err)
	}
	syncDir(filepath.Dir(trash))
	step("removed")
	return ""
}

// rescueSpool moves into to's spool the spooled writes of the old folder
// dir that to's lacks: a hook of an older mnemo that found the store locked
// during the copy spooled its notes there. One already applied in to is
// applied again harmlessly (a spooled note has its id: a duplicate is seen).
func rescueSpool(dir, to string) error {
	files, err := spool.Pending(spool.Dir(dir))
	if err != nil || len(files) == 0 {
		return err
	}
	dst := spool.Dir(to)
	if err := os.MkdirAll(dst, 0o700); err != nil {
		return err
	}
	for _, f := range files {
		target := filepath.Join(dst, filepath.Base(f))
		if _, err := os.Lstat(target); err == nil {
			continue
		}
		if os.Rename(f, target) == nil {
			continue
		}
		// Another file system: copy under a name the spool ignores, then
		// rename it complete.
		tmp := filepath.Join(dst, "."+filepath.Base(f)+".tmp")
		os.Remove(tmp)
		if err := copyPlain(f, tmp); err != nil {
			return err
		}
		if err := os.Rename(tmp, target); err != nil {
			return err
		}
	}
	syncDir(dst)
	return nil
}

// copyPlain copies the file src to a new file dst, fsynced.
func copyPlain(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}

// finishLeftover finishes a move an interruption cut short after its
// commit: the old folder still there (with its note, and unchanged), or
// renamed aside but not deleted. Cheap when there is nothing to do.
func finishLeftover(o Options) string {
	if o.From == "" {
		return ""
	}
	_, trashErr := os.Lstat(TrashPath(o.From))
	n, noted := readNote(o.From, o.To)
	if trashErr != nil && !noted {
		return ""
	}
	lk := flock.New(LockPath(o.From))
	if ok, err := lk.TryLock(); !ok || err != nil {
		return "" // another process is at it, or uses the folder
	}
	defer lk.Unlock()
	if noted && HasStore(o.From) {
		p, err := openProbe(context.Background(), filepath.Join(o.From, DBName))
		if err != nil {
			return fmt.Sprintf("left %s (the store moved to %s): %v", o.From, o.To, err)
		}
		if !unchanged(o.From, n) {
			p.close()
			return fmt.Sprintf("left %s: its store changed after it was copied to %s (an older mnemo wrote to it?); see what it holds before removing it", o.From, o.To)
		}
		return removeOld(o, p)
	}
	if trashErr == nil {
		return removeTrash(o)
	}
	return ""
}

// probe is one SQLite connection to a store in exclusive locking mode: it
// exists only if no other connection (of any process) has the store open,
// and while it does none can open it.
type probe struct {
	db   *sql.DB
	conn *sql.Conn
	keep []*os.File // files of the store this process opened; closed after conn
}

// openProbe opens path in exclusive locking mode; errInUse when another
// connection has it open.
func openProbe(ctx context.Context, path string) (*probe, error) {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(0)")
	q.Add("_pragma", "locking_mode(EXCLUSIVE)")
	q.Set("mode", "rw") // never create a store
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	dsn := "file:" + (&url.URL{Path: abs}).EscapedPath() + "?" + q.Encode() // as pkg/sqlite names it
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(ctx)
	if err == nil {
		// The first read takes the lock; BEGIN EXCLUSIVE takes it whole
		// (a store not in WAL mode), and exclusive mode keeps it.
		_, err = conn.ExecContext(ctx, "BEGIN EXCLUSIVE")
		if err == nil {
			_, err = conn.ExecContext(ctx, "COMMIT")
		}
	}
	if err != nil {
		if conn != nil {
			conn.Close()
		}
		db.Close()
		if strings.Contains(err.Error(), "SQLITE_BUSY") || strings.Contains(err.Error(), "locked") || strings.Contains(err.Error(), "busy") {
			return nil, errInUse
		}
		return nil, fmt.Errorf("open the store %s: %w", path, err)
	}
	return &probe{db: db, conn: conn}, nil
}

// prepare checkpoints the WAL into the store file and counts every table's
// rows.
func (p *probe) prepare(ctx context.Context) (map[string]int64, error) {
	var busy, logFrames, done int
	if err := p.conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logFrames, &done); err != nil {
		return nil, err
	}
	if busy != 0 {
		return nil, errInUse
	}
	return countRows(ctx, p.conn)
}

func (p *probe) close() {
	if p == nil {
		return
	}
	if p.conn != nil {
		p.conn.Close()
		p.db.Close()
		p.conn = nil
	}
	for _, f := range p.keep {
		f.Close()
	}
	p.keep = nil
}

// countRows counts the rows of every ordinary table.
func countRows(ctx context.Context, conn *sql.Conn) (map[string]int64, error) {
	rows, err := conn.QueryContext(ctx, "SELECT name FROM sqlite_master WHERE type = 'table' AND sql NOT LIKE 'CREATE VIRTUAL%' ORDER BY name")
	if err != nil {
		return nil, err
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, err
		}
		names = append(names, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	counts := map[string]int64{}
	for _, n := range names {
		var c int64
		if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM "`+strings.ReplaceAll(n, `"`, `""`)+`"`).Scan(&c); err != nil {
			return nil, fmt.Errorf("count %s: %w", n, err)
		}
		counts[n] = c
	}
	return counts, nil
}

// verify checks the copy of the store: SQLite's integrity check, and the
// same row count in every table as the original.
func verify(ctx context.Context, path string, want map[string]int64) error {
	p, err := openProbe(ctx, path)
	if err != nil {
		return err
	}
	defer p.close()
	var res string
	if err := p.conn.QueryRowContext(ctx, "PRAGMA integrity_check(1)").Scan(&res); err != nil {
		return fmt.Errorf("integrity check: %w", err)
	}
	if res != "ok" {
		return fmt.Errorf("integrity check: %s", res)
	}
	got, err := countRows(ctx, p.conn)
	if err != nil {
		return err
	}
	if len(got) != len(want) {
		return fmt.Errorf("%d tables, want %d", len(got), len(want))
	}
	for n, c := range want {
		if got[n] != c {
			return fmt.Errorf("table %s has %d rows, want %d", n, got[n], c)
		}
	}
	return nil
}

// InUse says why the store in dir cannot move now ("" when it could): a
// process of this version uses it in place, or a process of any version has
// it open. For doctor; it takes no lock for longer than the check.
func InUse(from string) string {
	if st, err := os.Lstat(from); err == nil && st.Mode()&os.ModeSymlink != 0 {
		return from + " is a symbolic link: mnemo does not move it"
	}
	lk := flock.New(LockPath(from))
	ok, err := lk.TryLock()
	if err != nil {
		return fmt.Sprintf("cannot lock %s: %v", lk.Path(), err)
	}
	if !ok {
		return "a running mnemo uses it there (or is moving it)"
	}
	defer lk.Unlock()
	p, err := openProbe(context.Background(), filepath.Join(from, DBName))
	if err != nil {
		return err.Error()
	}
	p.close()
	return ""
}

// MovedTo is where the note in dir says its store went ("" without a note).
func MovedTo(dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, NoteName))
	if err != nil {
		return ""
	}
	var n note
	if json.Unmarshal(b, &n) != nil {
		return ""
	}
	return n.To
}
