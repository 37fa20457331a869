// Package hooks implements mnemo's Claude Code hooks: it parses the JSON
// Claude Code writes to a hook's stdin, recalls or captures memories, and
// formats what Claude Code expects on stdout.
//
// Hooks fail open. A hook runs before every prompt, so any problem (bad
// input, a locked or missing store, no model, an unknown event) ends in exit
// status 0 with nothing on stdout and one line in the log, and a time budget
// bounds the whole run: when it is spent the hook answers with what it has.
package hooks

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
)

// MaxInputBytes bounds what a hook reads from stdin. Claude Code's hook input
// is small JSON; a larger input is refused rather than buffered.
const MaxInputBytes = 1 << 20

// Event is a hook event, named the way mnemo's command line spells it.
type Event string

// Events mnemo handles.
const (
	UserPromptSubmit Event = "user-prompt-submit"
	SessionStart     Event = "session-start"
	SessionEnd       Event = "session-end"
	PreCompact       Event = "pre-compact"
)

// Events lists every event in a stable order.
var Events = []Event{UserPromptSubmit, SessionStart, SessionEnd, PreCompact}

// ClaudeName is Claude Code's name of the event ("UserPromptSubmit").
func (e Event) ClaudeName() string {
	switch e {
	case UserPromptSubmit:
		return "UserPromptSubmit"
	case SessionStart:
		return "SessionStart"
	case SessionEnd:
		return "SessionEnd"
	case PreCompact:
		return "PreCompact"
	}
	return ""
}

// ParseEvent accepts mnemo's names (user-prompt-submit), Claude Code's
// (UserPromptSubmit) and the snake_case spelling, case-insensitively.
func ParseEvent(s string) (Event, error) {
	norm := strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || unicode.IsSpace(r) {
			return -1
		}
		return unicode.ToLower(r)
	}, s)
	for _, e := range Events {
		if strings.ReplaceAll(string(e), "-", "") == norm {
			return e, nil
		}
	}
	return "", fmt.Errorf("unknown hook event %q (want one of user-prompt-submit, session-start, session-end, pre-compact)", s)
}

// Input is the JSON Claude Code writes to a hook's stdin. Unknown fields are
// ignored; every field is optional.
type Input struct {
	SessionID      string `json:"session_id"`
	TranscriptPath string `json:"transcript_path"`
	Cwd            string `json:"cwd"`
	HookEventName  string `json:"hook_event_name"`
	Prompt         string `json:"prompt"`  // UserPromptSubmit
	Source         string `json:"source"`  // SessionStart: startup, resume, clear, compact
	Reason         string `json:"reason"`  // SessionEnd: clear, logout, prompt_input_exit, other
	Trigger        string `json:"trigger"` // PreCompact: manual, auto
	PermissionMode string `json:"permission_mode"`
}

// ErrInputTooLarge is returned when stdin holds more than MaxInputBytes.
var ErrInputTooLarge = errors.New("hook input is larger than 1 MiB")

// ReadInput reads at most MaxInputBytes from r and parses them.
func ReadInput(r io.Reader) (Input, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxInputBytes+1))
	if err != nil {
		return Input{}, fmt.Errorf("read hook input: %w", err)
	}
	if len(data) > MaxInputBytes {
		return Input{}, ErrInputTooLarge
	}
	return ParseInput(data)
}

// ParseInput parses one hook input object. It must be a single JSON object;
// empty input, other JSON values and trailing data are errors.
func ParseInput(data []byte) (Input, error) {
	var in Input
	if len(bytes.TrimSpace(data)) == 0 {
		return in, errors.New("hook input is empty")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	// Decode into a raw value first so a non-object ("null", "[]", "3")
	// is reported as such rather than silently yielding a zero Input.
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return Input{}, fmt.Errorf("hook input is not JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Input{}, errors.New("hook input has data after the JSON object")
	}
	if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '{' {
		return Input{}, errors.New("hook input is not a JSON object")
	}
	if err := json.Unmarshal(raw, &in); err != nil {
		return Input{}, fmt.Errorf("hook input: %w", err)
	}
	return in, nil
}
