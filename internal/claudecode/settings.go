// Package claudecode connects mnemo to Claude Code: it merges mnemo's hooks
// into a settings.json (and takes them out again) without disturbing the
// user's other settings, registers `mnemo serve` as an MCP server through the
// `claude` CLI, and tells doctor what is installed.
package claudecode

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/mnemo-mcp/mnemo/pkg/config"
)

// Hook is one hook command mnemo wants under a Claude Code event.
type Hook struct {
	Event   string // Claude Code's event name, e.g. "UserPromptSubmit"
	Command string // shell command line
	Timeout int    // seconds
}

// hookEvents are the Claude Code events mnemo may install hooks for; mnemo's
// entries are removed from all of them on uninstall.
var hookEvents = []string{"UserPromptSubmit", "SessionStart", "SessionEnd", "PreCompact"}

// mnemoEvents are the event arguments of `mnemo hook`.
var mnemoEvents = map[string]bool{
	"user-prompt-submit": true, "session-start": true, "session-end": true, "pre-compact": true,
	"userpromptsubmit": true, "sessionstart": true, "sessionend": true, "precompact": true,
}

// IsMnemoHook reports whether a hook command line is one of mnemo's:
// `[NAME=value …] <…/mnemo or …/exeName> hook [--flags] EVENT`. exeName is
// the base name of the installing binary (it may not be called mnemo).
func IsMnemoHook(command, exeName string) bool {
	words := commandWords(command)
	if len(words) < 3 {
		return false
	}
	base := filepath.Base(words[0])
	if base != "mnemo" && base != "mnemo.exe" && (exeName == "" || base != exeName) {
		return false
	}
	if words[1] != "hook" {
		return false
	}
	for _, w := range words[2:] {
		if strings.HasPrefix(w, "-") {
			continue
		}
		return mnemoEvents[strings.ToLower(w)]
	}
	return false
}

// HookExe is the program a hook command line runs: its first word after
// any NAME=value assignments ("" for an empty command).
func HookExe(command string) string {
	if words := commandWords(command); len(words) > 0 {
		return words[0]
	}
	return ""
}

// HookEnv is the environment a hook command line sets for mnemo: its
// leading NAME=value assignments (nil when there are none).
func HookEnv(command string) map[string]string {
	var env map[string]string
	for _, w := range shellWords(command) {
		if !isAssignment(w) {
			break
		}
		if env == nil {
			env = map[string]string{}
		}
		name, val, _ := strings.Cut(w, "=")
		env[name] = val
	}
	return env
}

// MaskHookCommand is a hook command line with the credentials of its
// settings masked (config.MaskCredential), for printing.
func MaskHookCommand(command string) string {
	for k, v := range HookEnv(command) {
		if m := config.MaskCredential(k, v); m != v {
			command = strings.ReplaceAll(command, k+"="+ShellQuote(v), k+"="+ShellQuote(m))
		}
	}
	return command
}

// commandWords is the command line's words without the leading NAME=value
// assignments that set its environment.
func commandWords(command string) []string {
	words := shellWords(command)
	for len(words) > 0 && isAssignment(words[0]) {
		words = words[1:]
	}
	return words
}

// isAssignment reports whether an (unquoted) word is NAME=value.
func isAssignment(w string) bool {
	name, _, ok := strings.Cut(w, "=")
	return ok && validEnvName(name)
}

// validEnvName reports whether name can be assigned in sh: a letter or _,
// then letters, digits and _.
func validEnvName(name string) bool {
	if name == "" {
		return false
	}
	for i, r := range name {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// HookCommand is the sh command line of `exe hook [--capture] event`, with
// env as NAME=value assignments in front (names sorted, values quoted), so
// the hook runs with the settings mnemo was installed with whatever
// Claude Code's own environment holds. Names must be valid (validEnvName).
func HookCommand(exe, event string, capture bool, env map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(env)) {
		b.WriteString(k + "=" + ShellQuote(env[k]) + " ")
	}
	b.WriteString(ShellQuote(exe) + " hook ")
	if capture {
		b.WriteString("--capture ")
	}
	return b.String() + event
}

// ShellQuote quotes s for sh when it holds anything but safe characters.
func ShellQuote(s string) string {
	safe := s != ""
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+:,@%=", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// shellWords splits a command line on blanks, honouring '…', "…" and
// backslash escapes (enough to read back what ShellQuote writes).
func shellWords(s string) []string {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	escaped := false
	for _, r := range s {
		switch {
		case escaped:
			cur.WriteRune(r)
			escaped = false
		case r == '\\' && quote != '\'':
			escaped, inWord = true, true
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t' || r == '\n':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// hookEntry is the part of a hook entry we read; the entry itself is kept raw.
type hookEntry struct {
	Type    string `json:"type"`
	Command string `json:"command"`
	Timeout int    `json:"timeout"`
}

// MergeHooks returns settings with want installed: for each event, mnemo's
// existing entry is updated in place (extra copies removed) or a new matcher
// group is appended; mnemo's entries under events not in want are removed.
// Everything else is kept. changed is false when the result is the same
// settings (re-running install is a no-op).
func MergeHooks(settings []byte, want []Hook, exeName string) (out []byte, changed bool, err error) {
	return editHooks(settings, want, exeName)
}

// RemoveHooks returns settings without any of mnemo's hook entries. Matcher
// groups, events and the "hooks" key that become empty only because of
// that are removed too.
func RemoveHooks(settings []byte, exeName string) (out []byte, changed bool, err error) {
	return editHooks(settings, nil, exeName)
}

// InstalledHooks lists mnemo's hook commands in settings by event.
func InstalledHooks(settings []byte, exeName string) (map[string][]string, error) {
	root, err := parseObject(settings)
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	hooksRaw, ok := root.get("hooks")
	if !ok {
		return out, nil
	}
	hooks, err := parseObject(hooksRaw)
	if err != nil {
		return nil, fmt.Errorf(`"hooks": %w`, err)
	}
	for _, ev := range hooks.keys {
		var groups []struct {
			Hooks []hookEntry `json:"hooks"`
		}
		if json.Unmarshal(hooks.vals[ev], &groups) != nil {
			continue
		}
		for _, g := range groups {
			for _, h := range g.Hooks {
				if IsMnemoHook(h.Command, exeName) {
					out[ev] = append(out[ev], h.Command)
				}
			}
		}
	}
	return out, nil
}

func editHooks(settings []byte, want []Hook, exeName string) ([]byte, bool, error) {
	root, err := parseObject(settings)
	if err != nil {
		return nil, false, fmt.Errorf("settings are not a JSON object: %w", err)
	}
	hooks := newObject()
	hadHooks := false
	if raw, ok := root.get("hooks"); ok && string(bytes.TrimSpace(raw)) != "null" {
		if hooks, err = parseObject(raw); err != nil {
			return nil, false, fmt.Errorf(`settings "hooks" is not a JSON object: %w`, err)
		}
		hadHooks = true
	}
	wantBy := map[string]Hook{}
	for _, h := range want {
		wantBy[h.Event] = h
	}
	events := append([]string(nil), hookEvents...)
	for _, h := range want {
		if !contains(events, h.Event) {
			events = append(events, h.Event)
		}
	}
	for _, ev := range events {
		w, wanted := wantBy[ev]
		raw, present := hooks.get(ev)
		var groups []json.RawMessage
		if present && string(bytes.TrimSpace(raw)) != "null" {
			if err := json.Unmarshal(raw, &groups); err != nil {
				return nil, false, fmt.Errorf(`settings "hooks.%s" is not an array: %w`, ev, err)
			}
		}
		newGroups, placed, err := editGroups(groups, w, wanted, exeName)
		if err != nil {
			return nil, false, fmt.Errorf(`settings "hooks.%s": %w`, ev, err)
		}
		if wanted && !placed {
			g := newObject()
			g.set("hooks", mustJSON([]json.RawMessage{entryJSON(nil, w)}))
			newGroups = append(newGroups, g.raw())
		}
		switch {
		case len(newGroups) > 0:
			hooks.set(ev, mustJSON(newGroups))
		case present && len(groups) > 0:
			hooks.del(ev) // emptied by removing mnemo's entries
		}
	}
	switch {
	case hooks.len() > 0:
		root.set("hooks", hooks.raw())
	case hadHooks && hadEntries(settings):
		root.del("hooks") // emptied by removing mnemo's entries
	}
	out, err := root.indent()
	if err != nil {
		return nil, false, err
	}
	before, err := normalise(settings)
	if err != nil {
		return nil, false, err
	}
	after, _ := normalise(out)
	return out, !bytes.Equal(before, after), nil
}

// hadEntries reports whether the original settings had any hook events at
// all (an originally empty "hooks": {} is kept as the user wrote it).
func hadEntries(settings []byte) bool {
	root, err := parseObject(settings)
	if err != nil {
		return false
	}
	raw, ok := root.get("hooks")
	if !ok {
		return false
	}
	h, err := parseObject(raw)
	return err == nil && h.len() > 0
}

// editGroups removes mnemo's entries from the matcher groups of one event
// and, when wanted, puts w in place of the first one. placed reports that.
func editGroups(groups []json.RawMessage, w Hook, wanted bool, exeName string) (out []json.RawMessage, placed bool, err error) {
	for _, graw := range groups {
		g, err := parseObject(graw)
		if err != nil {
			// Not ours to judge: keep what we do not understand.
			out = append(out, graw)
			continue
		}
		hraw, ok := g.get("hooks")
		if !ok {
			out = append(out, graw)
			continue
		}
		var entries []json.RawMessage
		if json.Unmarshal(hraw, &entries) != nil {
			out = append(out, graw)
			continue
		}
		var kept []json.RawMessage
		touched := false
		for _, eraw := range entries {
			var e hookEntry
			if json.Unmarshal(eraw, &e) == nil && IsMnemoHook(e.Command, exeName) {
				touched = true
				if wanted && !placed {
					kept = append(kept, entryJSON(eraw, w))
					placed = true
				}
				continue
			}
			kept = append(kept, eraw)
		}
		if !touched {
			out = append(out, graw)
			continue
		}
		if len(kept) == 0 {
			continue // the group held only mnemo's entries
		}
		g.set("hooks", mustJSON(kept))
		out = append(out, g.raw())
	}
	return out, placed, nil
}

// entryJSON renders w as a hook entry, keeping any other fields of an
// existing entry (a user's statusMessage, say).
func entryJSON(existing json.RawMessage, w Hook) json.RawMessage {
	e := newObject()
	if existing != nil {
		if o, err := parseObject(existing); err == nil {
			e = o
		}
	}
	e.set("type", mustJSON("command"))
	e.set("command", mustJSON(w.Command))
	if w.Timeout > 0 {
		e.set("timeout", mustJSON(w.Timeout))
	}
	return e.raw()
}

func mustJSON(v any) json.RawMessage {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err)
	}
	return bytes.TrimRight(b.Bytes(), "\n")
}

// normalise renders settings compactly for comparison (key order kept).
func normalise(data []byte) ([]byte, error) {
	if len(bytes.TrimSpace(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))) == 0 {
		return []byte("{}"), nil
	}
	o, err := parseObject(data)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	compact, _ := o.MarshalJSON()
	if err := json.Compact(&b, compact); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// WriteSettings writes data to path atomically (temp file + rename), keeping
// the file's mode, after copying the current file to path.bak-<timestamp>.
// It returns the backup's path ("" when there was no file to back up).
func WriteSettings(path string, data []byte, now time.Time) (backup string, err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	mode := os.FileMode(0o600)
	if old, err := os.ReadFile(path); err == nil {
		if st, err := os.Stat(path); err == nil {
			mode = st.Mode().Perm()
		}
		backup = path + ".bak-" + now.Format("20060102-150405")
		for i := 1; ; i++ {
			if _, err := os.Stat(backup); os.IsNotExist(err) {
				break
			}
			backup = fmt.Sprintf("%s.bak-%s-%d", path, now.Format("20060102-150405"), i)
		}
		if err := os.WriteFile(backup, old, mode); err != nil {
			return "", fmt.Errorf("write backup %s: %w", backup, err)
		}
	} else if !os.IsNotExist(err) {
		return "", err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".settings-*.json")
	if err != nil {
		return backup, err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return backup, err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return backup, err
	}
	if err := tmp.Close(); err != nil {
		return backup, err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return backup, err
	}
	return backup, nil
}
