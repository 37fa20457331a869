package tailfile

import (
	"os"
	"path/filepath"
	"testing"
)

func TestRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.log")
	if err := os.WriteFile(path, []byte("first line\nsecond\nthird\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, tc := range []struct {
		max  int64
		want string
	}{
		{1 << 20, "first line\nsecond\nthird\n"}, // whole file
		{10, "third\n"},                          // "d\nthird\n": the partial line is dropped
		{3, ""},                                  // inside the last line: nothing whole
	} {
		got, err := Read(f, tc.max)
		if err != nil || string(got) != tc.want {
			t.Errorf("Read(max=%d) = %q, %v; want %q", tc.max, got, err, tc.want)
		}
	}
}
