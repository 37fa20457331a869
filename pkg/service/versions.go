package service

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/mnemo-mcp/mnemo/pkg/memory"
)

// Versions: a new memory may supersede older ones (RememberRequest.Supersedes,
// Edit). The old versions are kept, marked superseded_by the new one, and
// hidden from recall and lists unless asked for; Show walks the chain.

// checkSupersedes validates the ids a new memory replaces: each a memory id
// that exists, at most memory.MaxSupersedes, duplicates dropped.
func (s *Service) checkSupersedes(ctx context.Context, ids []string) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	if len(ids) > memory.MaxSupersedes {
		return nil, invalidf("supersedes names %d memories; at most %d", len(ids), memory.MaxSupersedes)
	}
	var out []string
	seen := map[string]bool{}
	for _, id := range ids {
		id = strings.TrimSpace(id)
		if !memory.ValidID(id) {
			return nil, invalidf("supersedes: %q is not a memory id (26-character ULID)", id)
		}
		if seen[id] {
			continue
		}
		seen[id] = true
		if _, err := s.store.Get(ctx, id); err != nil {
			if errors.Is(err, memory.ErrNotFound) {
				return nil, invalidf("supersedes: no memory with id %s (list or recall shows the ids)", id)
			}
			return nil, fmt.Errorf("supersedes: get %s: %w", id, err)
		}
		out = append(out, id)
	}
	return out, nil
}

// supersedeHint suggests superseding the near-duplicates a new memory has.
func supersedeHint(r RememberResult) string {
	if len(r.SimilarTo) == 0 || r.Duplicate {
		return ""
	}
	ids := make([]string, len(r.SimilarTo))
	for i, x := range r.SimilarTo {
		ids[i] = x.ID
	}
	return fmt.Sprintf("near-duplicate of %s: if this memory replaces it, remember the same content again with supersedes=[%s] "+
		"(CLI: --supersedes); the old version is then kept as history and no longer recalled",
		strings.Join(ids, ", "), strings.Join(ids, ", "))
}

// Edit corrects one memory: it stores a new version with req.Content (the
// old version's project, and its tags and metadata unless given) that
// supersedes req.ID.
func (s *Service) Edit(ctx context.Context, req EditRequest) (RememberResult, error) {
	old, err := s.Get(ctx, req.ID)
	if err != nil {
		return RememberResult{}, err
	}
	if old.SupersededBy != "" {
		return RememberResult{}, invalidf("memory %s was already replaced by %s; edit the current version", old.ID, old.SupersededBy)
	}
	tags, md := req.Tags, req.Metadata
	if tags == nil {
		tags = old.Tags
	}
	if md == nil {
		md = old.Metadata
	}
	res, err := s.Remember(ctx, RememberRequest{
		Content: req.Content, Tags: tags, Project: old.Project, Metadata: md,
		Source: req.Source, ModelWait: req.ModelWait, Supersedes: []string{old.ID},
	})
	if err != nil {
		return res, err
	}
	if res.Duplicate && res.ID == old.ID {
		return res, invalidf("the new content is the same as memory %s's; nothing to change", old.ID)
	}
	return res, nil
}

// Pin pins (pinned true) or unpins memories.
func (s *Service) Pin(ctx context.Context, ids []string, pinned bool) (PinResult, error) {
	if len(ids) == 0 {
		return PinResult{}, invalidf("no ids: name the memories to pin")
	}
	if len(ids) > MaxForgetIDs {
		return PinResult{}, invalidf("%d ids; at most %d at once", len(ids), MaxForgetIDs)
	}
	var clean []string
	for _, id := range ids {
		id = strings.TrimSpace(id)
		if !memory.ValidID(id) {
			return PinResult{}, invalidf("id %q is not a memory id (26-character ULID)", id)
		}
		clean = append(clean, id)
	}
	missing, err := s.store.SetPinned(ctx, clean, pinned)
	if err != nil {
		return PinResult{}, fmt.Errorf("pin: %w", err)
	}
	res := PinResult{Pinned: pinned, Missing: missing, Changed: []string{}}
	gone := map[string]bool{}
	for _, id := range missing {
		gone[id] = true
	}
	for _, id := range clean {
		if !gone[id] {
			res.Changed = append(res.Changed, id)
		}
	}
	return res, nil
}

// maxChain bounds the versions Show walks (a chain is a list; this only
// guards against a damaged store that loops).
const maxChain = 1000

// Show returns one memory whole: with its vector status and every version
// of it, oldest first.
func (s *Service) Show(ctx context.Context, id string) (Shown, error) {
	m, err := s.Get(ctx, id)
	if err != nil {
		return Shown{}, err
	}
	out := Shown{Memory: m, Vector: s.vectorStatus(m)}
	out.Memory.Vector = nil
	// Back: what this version replaced, and what those replaced.
	var back []memory.Memory
	seen := map[string]bool{m.ID: true}
	queue := append([]string(nil), m.Supersedes...)
	for len(queue) > 0 && len(seen) < maxChain {
		x := queue[0]
		queue = queue[1:]
		if seen[x] {
			continue
		}
		seen[x] = true
		o, err := s.store.Get(ctx, x)
		if errors.Is(err, memory.ErrNotFound) {
			continue // forgotten since
		}
		if err != nil {
			return Shown{}, err
		}
		back = append(back, o)
		queue = append(queue, o.Supersedes...)
	}
	// Forward: the newer versions.
	var fwd []memory.Memory
	for next := m.SupersededBy; next != "" && !seen[next] && len(seen) < maxChain; {
		seen[next] = true
		o, err := s.store.Get(ctx, next)
		if errors.Is(err, memory.ErrNotFound) {
			break
		}
		if err != nil {
			return Shown{}, err
		}
		fwd = append(fwd, o)
		next = o.SupersededBy
	}
	all := append(back, m)
	all = append(all, fwd...)
	// Oldest first: ids are ULIDs, sortable by creation time.
	for i := 1; i < len(all); i++ {
		for j := i; j > 0 && all[j].ID < all[j-1].ID; j-- {
			all[j], all[j-1] = all[j-1], all[j]
		}
	}
	out.Current = m.ID
	if len(fwd) > 0 {
		out.Current = fwd[len(fwd)-1].ID
	}
	for _, v := range all {
		out.Versions = append(out.Versions, VersionRef{ID: v.ID, CreatedAt: v.CreatedAt, SupersededBy: v.SupersededBy, Preview: preview(v.Content, 80)})
	}
	return out, nil
}

// vectorStatus says whether m's vector is from the model this process uses.
func (s *Service) vectorStatus(m memory.Memory) VectorStatus {
	v := VectorStatus{Model: m.Model, Dims: m.Dims}
	cur := ""
	if s.emb != nil {
		cur = s.emb.Model().ID
	}
	switch {
	case m.Dims == 0 || m.Model == "":
		v.Status = "missing: reembed or a running server adds it"
	case cur != "" && m.Model != cur:
		v.Status = fmt.Sprintf("other model (current %s): a running server re-embeds it", cur)
	case cur == "":
		v.Status = "stored (no model configured to compare)"
	default:
		v.Current, v.Status = true, "current"
	}
	return v
}

// preview is the first n runes of text on one line.
func preview(text string, n int) string {
	text = strings.Join(strings.Fields(text), " ")
	if utf8.RuneCountInString(text) <= n {
		return text
	}
	r := []rune(text)
	return string(r[:n-1]) + "…"
}
