package hooks

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"unicode"

	"github.com/mnemo-mcp/mnemo/pkg/tailfile"
)

// Capture limits: a transcript can be tens of MB of tool output; only its
// tail is read, and a session cannot flood the store.
const (
	maxTranscriptBytes = 16 << 20
	maxCaptured        = 20
	maxCapturedBytes   = 4 << 10
)

// captureMarkers start a line of a user message that asks mnemo to keep it.
var captureMarkers = []string{"#remember:", "#remember", "remember:"}

// transcriptLine is the part of a Claude Code transcript (JSONL) line we read.
type transcriptLine struct {
	Type    string `json:"type"`
	IsMeta  bool   `json:"isMeta"`
	Message struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	} `json:"message"`
}

// readTranscriptTail returns the last maxTranscriptBytes of the transcript,
// starting at a line boundary.
func readTranscriptTail(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("transcript %s is not a regular file", path)
	}
	return tailfile.Read(f, maxTranscriptBytes)
}

// capturedNotes extracts what the user explicitly asked to keep: lines of
// user messages that start with "remember:" or "#remember" (case-insensitive),
// in transcript order, de-duplicated, at most maxCaptured.
func capturedNotes(transcript []byte) []string {
	var out []string
	seen := map[string]bool{}
	for _, line := range bytes.Split(transcript, []byte{'\n'}) {
		if !bytes.Contains(line, []byte(`"user"`)) || !bytes.Contains(bytes.ToLower(line), []byte("remember")) {
			continue
		}
		var tl transcriptLine
		if json.Unmarshal(line, &tl) != nil || tl.Type != "user" || tl.IsMeta || tl.Message.Role != "user" {
			continue
		}
		for _, text := range messageTexts(tl.Message.Content) {
			for _, l := range strings.Split(text, "\n") {
				note, ok := noteFromLine(l)
				if !ok || seen[note] {
					continue
				}
				seen[note] = true
				out = append(out, note)
				if len(out) == maxCaptured {
					return out
				}
			}
		}
	}
	return out
}

// messageTexts returns the text of a message content: a string, or the text
// blocks of a content array (tool results are not the user's words).
func messageTexts(raw json.RawMessage) []string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return []string{s}
	}
	var blocks []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if json.Unmarshal(raw, &blocks) != nil {
		return nil
	}
	var out []string
	for _, b := range blocks {
		if b.Type == "text" {
			out = append(out, b.Text)
		}
	}
	return out
}

// noteFromLine returns the note of a "remember: …" line.
func noteFromLine(l string) (string, bool) {
	t := strings.TrimSpace(l)
	low := strings.ToLower(t)
	for _, m := range captureMarkers {
		if !strings.HasPrefix(low, m) {
			continue
		}
		rest := t[len(m):]
		if m == "#remember" && rest != "" && !unicode.IsSpace(rune(rest[0])) {
			return "", false // "#rememberable" is not a marker
		}
		note := strings.TrimSpace(rest)
		if note == "" {
			return "", false
		}
		return shortenKeep(note, maxCapturedBytes), true
	}
	return "", false
}

// shortenKeep cuts an over-long note on a rune boundary (no flattening: the
// stored memory keeps the user's text as written).
func shortenKeep(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut]
}
