// Package spool keeps writes that could not reach the store in time — notes
// a capture hook was asked to keep, and which memories a recall returned —
// as small fsynced files under MNEMO_HOME/spool, until a process that can
// write the store applies them (any writing command, and serve).
//
// Why files and not a retry: a hook has a budget of about two seconds and
// then exits. When another process holds the store's write lock for longer,
// the only way not to lose what the user asked to keep is to put it
// somewhere durable that no lock guards.
//
// Applying is idempotent, so a file applied twice (two processes draining at
// once, or a process killed after the commit but before removing the file)
// changes nothing the second time: a note carries the memory id it was given
// when it was spooled, and the store refuses a second copy by id and by
// content hash; a use record only moves a last-accessed time forward.
package spool

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/mnemo-mcp/mnemo/pkg/fsguard"
	"github.com/mnemo-mcp/mnemo/pkg/memory"
)

// Kinds of record.
const (
	KindNote  = "note"  // a memory to store (with its id assigned already)
	KindTouch = "touch" // memories a recall returned (last-accessed time)
)

// Record is one spooled write.
type Record struct {
	Kind string `json:"kind"`
	// Note is the memory to store (KindNote). Its ID is set when spooled.
	Note *memory.Memory `json:"note,omitempty"`
	// IDs are the memories used (KindTouch).
	IDs []string `json:"ids,omitempty"`
	// At is when the record was spooled.
	At time.Time `json:"at"`
}

// Dir is the spool folder under a data dir.
func Dir(home string) string { return filepath.Join(home, "spool") }

// suffix marks a complete spool file; anything else in the folder (a
// temporary file of a writer that died) is ignored.
const suffix = ".jsonl"

// Write stores recs durably as one new file in dir (created 0700; the file
// is 0600): written to a temporary name, fsynced, renamed, and the folder
// fsynced, so after Write returns the records survive a crash or power
// loss, and a reader never sees half a file. It returns the file's path
// (for Remove once the records are applied).
func Write(dir string, recs ...Record) (string, error) {
	if len(recs) == 0 {
		return "", nil
	}
	// Private like MNEMO_HOME: the notes are the user's words.
	if err := fsguard.EnsureDir(dir); err != nil {
		return "", fmt.Errorf("spool folder: %w", err)
	}
	var buf bytes.Buffer
	for _, r := range recs {
		if r.At.IsZero() {
			r.At = time.Now().UTC()
		}
		b, err := json.Marshal(r)
		if err != nil {
			return "", fmt.Errorf("spool record: %w", err)
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	name := fmt.Sprintf("%020d-%d-%s", time.Now().UnixNano(), os.Getpid(), hex.EncodeToString(rnd[:]))
	tmp := filepath.Join(dir, "."+name+".tmp")
	final := filepath.Join(dir, name+suffix)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("spool: %w", err)
	}
	_, werr := f.Write(buf.Bytes())
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp, final)
	}
	if werr != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("spool: %w", werr)
	}
	syncDir(dir)
	return final, nil
}

// Remove deletes a spool file whose records have been applied.
func Remove(path string) error {
	if path == "" {
		return nil
	}
	err := os.Remove(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil // another process applied it first
	}
	if err == nil {
		syncDir(filepath.Dir(path))
	}
	return err
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// Pending lists the complete spool files in dir, oldest first.
func Pending(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if e.Type().IsRegular() && strings.HasSuffix(e.Name(), suffix) && !strings.HasPrefix(e.Name(), ".") {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	sort.Strings(out) // names start with a zero-padded time
	return out, nil
}

// Read parses a spool file.
func Read(path string) ([]Record, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var recs []Record
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var r Record
		if err := json.Unmarshal(line, &r); err != nil {
			return nil, fmt.Errorf("%s line %d: %w", filepath.Base(path), n, err)
		}
		recs = append(recs, r)
	}
	return recs, sc.Err()
}

// Result says what Drain did.
type Result struct {
	Files   int // spool files fully applied and removed
	Notes   int // notes stored (new memories)
	Dups    int // notes that were already stored
	Touched int // memory uses recorded
	Dropped int // records refused by the store as invalid (logged, removed)
	Left    int // spool files still waiting (the store was busy or failed)
}

// Drain applies every spool file in dir to st, oldest first, and removes
// each file once all its records are applied. It stops at the first record
// the store could not take for a reason other than invalid content (busy,
// disk full …) and leaves that file and the later ones for the next process.
// A record the store refuses as invalid can never succeed: it is logged and
// dropped. An unreadable file is renamed *.bad and left for a human.
func Drain(ctx context.Context, dir string, st memory.Store, log *slog.Logger) (Result, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var res Result
	if err := fsguard.CheckDir(dir); errors.Is(err, os.ErrNotExist) {
		return res, nil
	} else if err != nil {
		// Another user could have planted records: store none of them.
		return res, fmt.Errorf("spool folder refused: %w", err)
	}
	files, err := Pending(dir)
	if err != nil {
		return res, err
	}
	for i, path := range files {
		if err := ctx.Err(); err != nil {
			res.Left = len(files) - i
			return res, err
		}
		recs, err := Read(path)
		if errors.Is(err, os.ErrNotExist) {
			continue // another process drained it
		}
		if err != nil {
			log.Error("spool file unreadable; moved aside", "file", path, "err", err)
			_ = os.Rename(path, path+".bad")
			continue
		}
		for _, r := range recs {
			if err := apply(ctx, st, r, &res); err != nil {
				if errors.Is(err, memory.ErrInvalid) {
					res.Dropped++
					log.Warn("spooled record refused by the store; dropped", "file", path, "kind", r.Kind, "err", err)
					continue
				}
				res.Left = len(files) - i
				return res, fmt.Errorf("apply %s: %w", filepath.Base(path), err)
			}
		}
		if err := Remove(path); err != nil {
			res.Left = len(files) - i
			return res, err
		}
		res.Files++
	}
	return res, nil
}

func apply(ctx context.Context, st memory.Store, r Record, res *Result) error {
	switch r.Kind {
	case KindNote:
		if r.Note == nil {
			return fmt.Errorf("%w: note record without a note", memory.ErrInvalid)
		}
		m := *r.Note
		put, err := st.Put(ctx, &m)
		if err != nil {
			return err
		}
		if put.Duplicate {
			res.Dups++
		} else {
			res.Notes++
		}
	case KindTouch:
		if err := st.Touch(ctx, r.IDs); err != nil {
			return err
		}
		res.Touched += len(r.IDs)
	default:
		return fmt.Errorf("%w: unknown spool record kind %q", memory.ErrInvalid, r.Kind)
	}
	return nil
}
