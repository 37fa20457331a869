package marks

import (
	"os"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestStyles(t *testing.T) {
	kinds := []Kind{OK, Warn, Fail, Info}
	for _, s := range []Style{Plain, Symbols, Colour} {
		for _, k := range kinds {
			m := s.Mark(k)
			visible := m
			if i := strings.Index(m, "m"); s == Colour && strings.HasPrefix(m, "\033[") {
				visible = strings.TrimSuffix(m[i+1:], "\033[0m")
			}
			if n := utf8.RuneCountInString(visible); n != s.Width() {
				t.Errorf("style %d kind %d: %q is %d columns, want %d", s, k, m, n, s.Width())
			}
			hasEsc := strings.Contains(m, "\033")
			if hasEsc != (s == Colour && k != Info) {
				t.Errorf("style %d kind %d: %q escape codes %v", s, k, m, hasEsc)
			}
			ascii := true
			for _, r := range m {
				ascii = ascii && r < utf8.RuneSelf
			}
			if ascii != (s == Plain || k == Warn) {
				t.Errorf("style %d kind %d: %q ASCII %v", s, k, m, ascii)
			}
		}
	}
	if Plain.Mark(Fail) != "FAIL" || Plain.Mark(OK) != "ok  " || Plain.Word(OK) != "ok" || Symbols.Word(Fail) != "✘" {
		t.Errorf("plain marks: %q %q %q", Plain.Mark(Fail), Plain.Mark(OK), Plain.Word(OK))
	}
	if Plain.Arrow() != "->" || Colour.Arrow() != "→" {
		t.Error("arrows")
	}
}

// Anything but a terminal gets words, whatever NO_COLOR says; terminals are
// tested through the binary (cmd/mnemo tty_test.go).
func TestForNonTerminal(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	t.Setenv("NO_COLOR", "")
	if For(w) != Plain || For(&strings.Builder{}) != Plain {
		t.Error("a pipe or a buffer is not a terminal")
	}
}
