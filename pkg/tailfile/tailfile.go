// Package tailfile reads the end of a line-oriented file that may be large
// (a log, a Claude Code transcript) without loading all of it.
package tailfile

import (
	"bytes"
	"io"
	"os"
)

// Read returns at most max bytes from the end of f, starting at the first
// full line: a partial first line is dropped so callers parse whole lines.
func Read(f *os.File, max int64) ([]byte, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	off := max64(st.Size()-max, 0)
	data, err := io.ReadAll(io.NewSectionReader(f, off, st.Size()-off))
	if err != nil {
		return nil, err
	}
	if off > 0 {
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			data = data[i+1:]
		} else {
			data = nil // one line longer than max: no whole line to give
		}
	}
	return data, nil
}

func max64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}
