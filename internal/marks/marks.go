// Package marks renders the status marks at the start of mnemo's report
// lines (doctor, install): coloured symbols on a terminal, the same symbols
// without colour on a terminal when NO_COLOR is set (https://no-color.org)
// or TERM is dumb, and plain words when the output is not a terminal — a
// pipe, a file, a log — where people grep for them ("^FAIL") and a symbol
// or an escape code would only get in the way.
//
// The caller decides the Style once for a writer (For) and passes it to
// whatever prints marks; the zero Style is Plain.
package marks

import (
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// Style is how marks are written.
type Style int

const (
	Plain   Style = iota // words, padded to one width: not a terminal
	Symbols              // ✔ ! ✘ •, no colour: a terminal with NO_COLOR or TERM=dumb
	Colour               // ✔ ! ✘ • in green, yellow, red: a terminal
)

// Kind is what a mark says.
type Kind int

const (
	OK   Kind = iota // done, or nothing to do
	Warn             // works, but look at it
	Fail             // needs the user
	Info             // a note: a dry run, a step taken anyway
)

var (
	words   = [...]string{OK: "ok  ", Warn: "warn", Fail: "FAIL", Info: "info"}
	symbols = [...]string{OK: "✔", Warn: "!", Fail: "✘", Info: "•"}
	colours = [...]string{OK: "32", Warn: "33", Fail: "31", Info: ""}
)

// For is the style for output to w: Plain unless w is a terminal; then
// Symbols when NO_COLOR is set to anything but "" or TERM is "dumb", else
// Colour.
func For(w io.Writer) Style {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return Plain
	}
	if os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return Symbols
	}
	return Colour
}

// Mark is k's mark in this style. Every mark of a style takes the same
// number of columns (Width), so the text after it lines up.
func (s Style) Mark(k Kind) string {
	switch s {
	case Symbols:
		return symbols[k]
	case Colour:
		if colours[k] == "" {
			return symbols[k]
		}
		return "\033[" + colours[k] + "m" + symbols[k] + "\033[0m"
	default:
		return words[k]
	}
}

// Word is k's mark as a word without padding, for prose ("FAIL above").
func (s Style) Word(k Kind) string {
	if s == Plain {
		return strings.TrimSpace(words[k])
	}
	return symbols[k]
}

// Width is the number of columns a mark takes.
func (s Style) Width() int {
	if s == Plain {
		return len(words[OK])
	}
	return 1
}

// Arrow introduces what to do about a problem: → on a terminal, -> off one.
func (s Style) Arrow() string {
	if s == Plain {
		return "->"
	}
	return "→"
}
