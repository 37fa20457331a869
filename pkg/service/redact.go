package service

import (
	"github.com/mnemo-mcp/mnemo/pkg/memory"
	"github.com/mnemo-mcp/mnemo/pkg/redact"
)

// prepareForStore is where text becomes storable: credentials and
// <private> blocks are redacted from the content and from every string in
// the metadata (pkg/redact) unless Options.KeepSecrets says to store text
// verbatim (MNEMO_REDACT=off). Remember and Import both pass through it, so
// nothing the MCP server, the CLI, the hooks or an import writes skips it.
// The findings say what was removed (kind and count, never the secret).
//
// Content that was nothing but secrets or private text is refused (an
// input error): a memory reading "[private text removed]" helps nobody.
func (s *Service) prepareForStore(content string, md map[string]any) (string, map[string]any, []redact.Finding, error) {
	if s.keepSecrets {
		return content, md, nil, nil
	}
	out, found := redact.String(content)
	if found != nil && redact.Empty(out) {
		return "", nil, found, invalidf("content is nothing but redacted text (%s); nothing was stored", redact.Summary(found))
	}
	if md != nil {
		var mdFound []redact.Finding
		md, mdFound = redactMetadata(md)
		found = redact.Merge(found, mdFound)
	}
	if found != nil {
		s.log.Info("redacted before storing", "redacted", redact.Summary(found))
	}
	return out, md, found, nil
}

// redactTags redacts each tag (unless secrets are kept), copying the list
// only when one changes.
func (s *Service) redactTags(tags []string) ([]string, []redact.Finding) {
	if s.keepSecrets {
		return tags, nil
	}
	var all []redact.Finding
	var out []string
	for i, t := range tags {
		r, f := redact.String(t)
		if len(f) == 0 {
			continue
		}
		if out == nil {
			out = append([]string(nil), tags...)
		}
		out[i] = r
		all = redact.Merge(all, f)
	}
	if out == nil {
		return tags, nil
	}
	s.log.Info("redacted tags before storing", "redacted", redact.Summary(all))
	return out, all
}

// redactMetadata redacts every string value (and key) in a JSON object,
// copying only what changes.
func redactMetadata(md map[string]any) (map[string]any, []redact.Finding) {
	v, found := redactValue(md)
	return v.(map[string]any), found
}

func redactValue(v any) (any, []redact.Finding) {
	switch x := v.(type) {
	case string:
		out, f := redact.String(x)
		return out, f
	case []any:
		var all []redact.Finding
		var cp []any
		for i, e := range x {
			r, f := redactValue(e)
			if len(f) > 0 {
				if cp == nil {
					cp = append([]any(nil), x...)
				}
				cp[i] = r
				all = redact.Merge(all, f)
			}
		}
		if cp == nil {
			return x, nil
		}
		return cp, all
	case map[string]any:
		var all []redact.Finding
		var cp map[string]any
		for k, e := range x {
			nk, kf := redact.String(k)
			r, f := redactValue(e)
			if len(f) > 0 || len(kf) > 0 {
				if cp == nil {
					cp = make(map[string]any, len(x))
					for k2, e2 := range x {
						cp[k2] = e2
					}
				}
				delete(cp, k)
				cp[nk] = r
				all = redact.Merge(all, redact.Merge(kf, f))
			}
		}
		if cp == nil {
			return x, nil
		}
		return cp, all
	}
	return v, nil
}

// redactImported redacts one imported memory in place. A vector that came
// with the line described the text before redaction, so it is dropped and
// the memory is embedded again; the content hash follows the new content.
func (s *Service) redactImported(m *memory.Memory) ([]redact.Finding, error) {
	content, md, found, err := s.prepareForStore(m.Content, m.Metadata)
	if err != nil {
		return nil, err
	}
	// Tags are not embedded: a redacted tag keeps the vector.
	tags, tagsFound := s.redactTags(m.Tags)
	if len(tagsFound) > 0 {
		if m.Tags, err = memory.NormalizeTags(tags); err != nil {
			return nil, invalidFrom("tags", err)
		}
	}
	if len(found) > 0 {
		m.Content, m.Metadata = content, md
		m.ContentHash = memory.ContentHash(content)
		m.Vector, m.Model, m.Dims = nil, "", 0
	}
	return redact.Merge(found, tagsFound), nil
}
