package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Question is one LongMemEval instance as published (longmemeval_s.json,
// longmemeval_m.json, longmemeval_oracle.json: a JSON array of these). Only
// the fields the retrieval evaluation needs are decoded; answer is a string
// or a number in the published files, so it stays raw.
type Question struct {
	QuestionID         string          `json:"question_id"`
	QuestionType       string          `json:"question_type"`
	Question           string          `json:"question"`
	Answer             json.RawMessage `json:"answer"`
	QuestionDate       string          `json:"question_date"`
	HaystackSessionIDs []string        `json:"haystack_session_ids"`
	HaystackDates      []string        `json:"haystack_dates"`
	HaystackSessions   [][]Turn        `json:"haystack_sessions"`
	AnswerSessionIDs   []string        `json:"answer_session_ids"`
}

// Turn is one message of a haystack session; HasAnswer marks the turns
// that hold the evidence (turn-level labels).
type Turn struct {
	Role      string `json:"role"`
	Content   string `json:"content"`
	HasAnswer bool   `json:"has_answer,omitempty"`
}

// Abstention questions (id ending in _abs) have no evidence to retrieve;
// LongMemEval leaves them out of retrieval metrics, and so do we.
func (q Question) Abstention() bool { return strings.HasSuffix(q.QuestionID, "_abs") }

// validate checks what the harness relies on.
func (q Question) validate() error {
	if q.QuestionID == "" || q.Question == "" {
		return fmt.Errorf("question without question_id or question")
	}
	if len(q.HaystackSessionIDs) != len(q.HaystackSessions) {
		return fmt.Errorf("question %s: %d haystack_session_ids for %d haystack_sessions", q.QuestionID, len(q.HaystackSessionIDs), len(q.HaystackSessions))
	}
	return nil
}

// readQuestions streams the JSON array (the S file is ~270 MB; decoding it
// one question at a time keeps memory flat) and calls fn for each question.
func readQuestions(r io.Reader, fn func(Question) error) error {
	dec := json.NewDecoder(r)
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("read LongMemEval file: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return fmt.Errorf("LongMemEval file: want a JSON array of questions, got %v", tok)
	}
	for i := 0; dec.More(); i++ {
		var q Question
		if err := dec.Decode(&q); err != nil {
			return fmt.Errorf("LongMemEval question %d: %w", i, err)
		}
		if err := q.validate(); err != nil {
			return fmt.Errorf("LongMemEval question %d: %w", i, err)
		}
		if err := fn(q); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return fmt.Errorf("LongMemEval file: %w", err)
	}
	return nil
}

// Doc is one retrievable unit: a session (its turns joined) or one turn.
type Doc struct {
	ID       string // session id, or session id + "_" + 1-based turn number
	Text     string
	Evidence bool
}

// Granularity of what is stored as one memory.
const (
	GranSession = "session"
	GranTurn    = "turn"
)

// docs builds a question's corpus as LongMemEval's retrieval evaluation
// does: at session level, one document per session (the kept turns joined
// by a space), evidence when it is an answer session and, when only user
// turns are kept, a user turn of it carries has_answer; at turn level, one
// document per kept turn, evidence when has_answer is set in an answer
// session. roles is "user" (LongMemEval's setting) or "all".
func docs(q Question, gran, roles string) []Doc {
	answer := map[string]bool{}
	for _, id := range q.AnswerSessionIDs {
		answer[id] = true
	}
	keep := func(t Turn) bool { return roles == "all" || t.Role == "user" }
	var out []Doc
	for i, sess := range q.HaystackSessions {
		sid := q.HaystackSessionIDs[i]
		switch gran {
		case GranSession:
			var parts []string
			labelled := false
			for _, t := range sess {
				if keep(t) && strings.TrimSpace(t.Content) != "" {
					parts = append(parts, t.Content)
					labelled = labelled || t.HasAnswer
				}
			}
			if len(parts) == 0 {
				continue
			}
			ev := answer[sid] && (roles == "all" || labelled)
			out = append(out, Doc{ID: sid, Text: strings.Join(parts, " "), Evidence: ev})
		case GranTurn:
			for j, t := range sess {
				if !keep(t) || strings.TrimSpace(t.Content) == "" {
					continue
				}
				out = append(out, Doc{ID: fmt.Sprintf("%s_%d", sid, j+1), Text: t.Content, Evidence: answer[sid] && t.HasAnswer})
			}
		}
	}
	return out
}
