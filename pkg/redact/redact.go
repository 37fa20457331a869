// Package redact removes credentials from text before mnemo stores it.
//
// What it finds: cloud keys (AWS access key ids, AWS secret keys in
// assignments, GCP API keys and service-account private keys, Azure AD
// client secrets, storage account keys and SAS signatures), GitHub, GitLab,
// Slack, Stripe, OpenAI, Anthropic, Hugging Face, npm, PyPI and other
// provider tokens, private key blocks, JSON Web Tokens, passwords in
// connection strings (postgres://user:pass@host), bearer/basic
// authorization headers, and values assigned to credential names
// (password=…, secret: …, api_key = "…", AWS_SECRET_ACCESS_KEY=…). Text
// between <private> and </private> is removed whole. Each secret is
// replaced by a marker that names its kind, "[REDACTED:github-pat]";
// the surrounding text ("password=") stays so the memory still reads.
// Every other verbatim occurrence of a secret found once is replaced too.
//
// Why a ported rule table and not gitleaks itself: the provider rules are
// gitleaks' (v8.30.1, MIT, see rules.go and LICENSE-gitleaks), the field's
// standard. Depending on github.com/zricethezav/gitleaks/v8 was measured:
// +5.8 MB on a 29.1 MB stripped binary (+20%, 68 more go.mod lines: viper,
// cobra, zerolog, archive readers) and 110–290 ms to build its detector
// (222 rules, TOML parse and regexp compile) in every process that stores
// something — a hook or a CLI remember pays it each time — and even
// unused it made `mnemo version` ~5 ms slower (package init, page-in).
// Its allowlists also keep documentation keys (AKIA…EXAMPLE) that a memory
// store should drop. The 46 rules ported here compile lazily, on first use, in about
// 3 ms, add 45 KB to the binary and nothing to start-up.
//
// Positional rules (assignments, connection strings, bearer headers) are
// mnemo's own: a value in a password or secret position is redacted unless
// it is a placeholder ($VAR, ${VAR}, <…>, {{…}}, ***), code (cfg.Password,
// load_key()) or, after a spaced colon, a plain word ("secret: rotate it
// monthly"); a value in a token or key position only when it looks random
// (12+ characters, letters and digits, entropy ≥ 3 bits per character).
package redact

import (
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode"
)

// Finding says what was redacted: the kind of secret and how many times.
// It never carries the secret.
type Finding struct {
	Kind  string `json:"kind"`
	Count int    `json:"count"`
}

// Kinds of findings that are not provider rule ids.
const (
	KindPrivate    = "private"  // a <private>…</private> block
	KindPassword   = "password" // password=…, passwd: …
	KindSecret     = "secret"   // secret=…, client_secret: …, credentials=…
	KindToken      = "token"    // token=… with a random-looking value
	KindAPIKey     = "api-key"  // api_key=…, access_key=… with a random-looking value
	KindAWSSecret  = "aws-secret-access-key"
	KindAzureStore = "azure-storage-account-key"
)

// PrivateMarker replaces a <private>…</private> block.
const PrivateMarker = "[private text removed]"

// Marker is the text that replaces a secret of kind.
func Marker(kind string) string { return "[REDACTED:" + kind + "]" }

// String returns text with every secret replaced by its marker, and what
// was replaced (sorted by kind). Text without secrets is returned as is.
// The result is stable: redacting it again changes nothing.
func String(text string) (string, []Finding) {
	counts := map[string]int{}
	// A replacement can, in principle, expose a new match; a few passes
	// reach the fixed point that makes String idempotent.
	for pass := 0; pass < 4; pass++ {
		out, n := redactOnce(text, counts)
		text = out
		if n == 0 {
			break
		}
	}
	return text, sorted(counts)
}

// Empty reports whether text holds nothing but markers, whitespace and
// punctuation: what is left of a note that was all secret or all private.
func Empty(text string) bool {
	compileOnce.Do(compile)
	for _, r := range markerRe.ReplaceAllString(text, "") {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return false
		}
	}
	return true
}

// Merge adds b's counts to a's, sorted by kind.
func Merge(a, b []Finding) []Finding {
	if len(b) == 0 {
		return a
	}
	counts := map[string]int{}
	for _, f := range a {
		counts[f.Kind] += f.Count
	}
	for _, f := range b {
		counts[f.Kind] += f.Count
	}
	return sorted(counts)
}

// Summary renders findings for people: "aws-access-token ×1, private ×2".
func Summary(fs []Finding) string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = f.Kind + " ×" + strconv.Itoa(f.Count)
	}
	return strings.Join(parts, ", ")
}

// Total is the number of redactions in fs.
func Total(fs []Finding) int {
	n := 0
	for _, f := range fs {
		n += f.Count
	}
	return n
}

func sorted(counts map[string]int) []Finding {
	if len(counts) == 0 {
		return nil
	}
	out := make([]Finding, 0, len(counts))
	for k, n := range counts {
		out = append(out, Finding{Kind: k, Count: n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Kind < out[j].Kind })
	return out
}

type compiled struct {
	rule
	re     *regexp.Regexp
	groups bool
}

var (
	compileOnce sync.Once
	rules       []compiled
	privateRe   *regexp.Regexp // <private>…</private>, or <private>… to the end
	markerRe    *regexp.Regexp
)

// compile builds the rule table on first use, so processes that never
// store anything (recall, version, most hooks) never pay for it.
func compile() {
	all := append(append([]rule{}, gitleaksRules...), ownRules...)
	rules = make([]compiled, len(all))
	for i, r := range all {
		re := regexp.MustCompile(r.re)
		rules[i] = compiled{rule: r, re: re, groups: re.NumSubexp() > 0}
	}
	privateRe = regexp.MustCompile(`(?is)<private>.*?(?:</private>|\z)`)
	markerRe = regexp.MustCompile(`\[REDACTED:[a-z0-9-]+\]|\[private text removed\]`)
}

type span struct {
	start, end int
	kind       string
	prio       int
}

// redactOnce runs every rule once over text and replaces what they find.
func redactOnce(text string, counts map[string]int) (string, int) {
	accepted := scan(text)
	found := 0
	for _, s := range accepted {
		if s.kind != "" {
			found++
		}
	}
	if found == 0 {
		return text, 0
	}
	// Once a string is known to be a secret, it goes wherever it appears.
	extra := accepted
	searched := map[string]bool{}
	for _, s := range accepted {
		if s.kind == "" || s.kind == KindPrivate || s.end-s.start < 8 || searched[text[s.start:s.end]] {
			continue
		}
		secret := text[s.start:s.end]
		searched[secret] = true
		for off := 0; ; {
			j := strings.Index(text[off:], secret)
			if j < 0 {
				break
			}
			extra = append(extra, span{off + j, off + j + len(secret), s.kind, len(rules) + 1})
			off += j + len(secret)
		}
	}
	accepted = choose(extra)
	var b strings.Builder
	b.Grow(len(text))
	last, n := 0, 0
	for _, s := range accepted {
		if s.kind == "" {
			continue
		}
		b.WriteString(text[last:s.start])
		if s.kind == KindPrivate {
			b.WriteString(PrivateMarker)
		} else {
			b.WriteString(Marker(s.kind))
		}
		last = s.end
		counts[s.kind]++
		n++
	}
	b.WriteString(text[last:])
	return b.String(), n
}

// scan returns the non-overlapping spans of text that the rules find
// (kind "" marks a marker of ours, left as it is).
func scan(text string) []span {
	compileOnce.Do(compile)
	var spans []span
	// <private> blocks: never stored, whatever is inside.
	for _, m := range privateRe.FindAllStringIndex(text, -1) {
		spans = append(spans, span{m[0], m[1], KindPrivate, -2})
	}
	// Markers already in the text are left alone (idempotence), unless
	// they sit inside a private block.
	for _, m := range markerRe.FindAllStringIndex(text, -1) {
		spans = append(spans, span{m[0], m[1], "", -1})
	}
	lower := strings.ToLower(text)
	if len(lower) != len(text) {
		lower = "" // a rune changed width when lowered: scan everything
	}
	for i, r := range rules {
		for _, w := range r.windows(text, lower) {
			for _, m := range r.re.FindAllStringSubmatchIndex(text[w[0]:w[1]], -1) {
				for j := range m {
					if m[j] >= 0 {
						m[j] += w[0]
					}
				}
				if s, ok := r.secret(text, m); ok {
					s.prio = i
					spans = append(spans, s)
				}
			}
		}
	}
	return choose(spans)
}

// Window bounds around a keyword: a match holds its keyword, and no
// windowed rule matches more than a few hundred bytes, so scanning only
// near keywords finds the same secrets as scanning everything, several
// times faster on long notes (regexps without a literal prefix run the
// slow NFA over every byte). Windows start and end at whitespace so a
// token is never cut in two.
const (
	windowBefore = 320
	windowAfter  = 640
	windowSlack  = 256
)

// windows returns the byte ranges of text the rule must scan: none when
// no keyword occurs, the whole text for rules without keywords or with
// long matches, else merged windows around each keyword occurrence.
func (r compiled) windows(text, lower string) [][2]int {
	whole := [][2]int{{0, len(text)}}
	if len(r.keywords) == 0 {
		return whole
	}
	if lower == "" || len(text) <= windowBefore+windowAfter || r.long {
		for _, k := range r.keywords {
			if strings.Contains(lower, k) || lower == "" {
				return whole
			}
		}
		return nil
	}
	var out [][2]int
	for _, k := range r.keywords {
		for off := 0; ; {
			j := strings.Index(lower[off:], k)
			if j < 0 {
				break
			}
			pos := off + j
			out = append(out, [2]int{wordStart(text, pos-windowBefore), wordEnd(text, pos+len(k)+windowAfter)})
			off = pos + len(k)
		}
	}
	if len(out) == 0 {
		return nil
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	merged := out[:1]
	for _, w := range out[1:] {
		last := &merged[len(merged)-1]
		if w[0] <= last[1] {
			last[1] = max(last[1], w[1])
		} else {
			merged = append(merged, w)
		}
	}
	return merged
}

// wordStart moves i back to just after a whitespace byte (at most
// windowSlack bytes), or to 0.
func wordStart(text string, i int) int {
	if i <= 0 {
		return 0
	}
	for k := 0; k < windowSlack && i > 0; k, i = k+1, i-1 {
		if isSpace(text[i-1]) {
			return i
		}
	}
	return i
}

// wordEnd moves i forward to a whitespace byte (at most windowSlack
// bytes), or to the end.
func wordEnd(text string, i int) int {
	if i >= len(text) {
		return len(text)
	}
	for k := 0; k < windowSlack && i < len(text); k, i = k+1, i+1 {
		if isSpace(text[i]) {
			return i
		}
	}
	return i
}

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\t' || c == '\r' }

// choose keeps non-overlapping spans, preferring lower prio (earlier rules,
// markers and private blocks first), then the longer span; the result is
// sorted by position. Overlaps are checked against a map of the bytes
// taken, so the cost is linear in the spans' lengths.
func choose(spans []span) []span {
	sort.SliceStable(spans, func(i, j int) bool {
		a, b := spans[i], spans[j]
		if a.prio != b.prio {
			return a.prio < b.prio
		}
		if a.end-a.start != b.end-b.start {
			return a.end-a.start > b.end-b.start
		}
		return a.start < b.start
	})
	end := 0
	for _, s := range spans {
		end = max(end, s.end)
	}
	taken := make([]bool, end)
	var out []span
	for _, s := range spans {
		if s.end <= s.start || slices.Contains(taken[s.start:s.end], true) {
			continue
		}
		for i := s.start; i < s.end; i++ {
			taken[i] = true
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].start < out[j].start })
	return out
}

// secret extracts the secret of one match, or false when the rule's checks
// (entropy, placeholders, assignment semantics) reject it.
func (r compiled) secret(text string, m []int) (span, bool) {
	if r.id == "assignment" {
		return assignment(text, m)
	}
	start, end := m[0], m[1]
	if r.groups {
		for g := 1; 2*g+1 < len(m); g++ {
			if m[2*g] >= 0 {
				start, end = m[2*g], m[2*g+1]
				break
			}
		}
	}
	if start < 0 || end <= start {
		return span{}, false
	}
	v := text[start:end]
	if r.entropy > 0 && entropy(v) < r.entropy {
		return span{}, false
	}
	switch r.id {
	case "connection-string-password":
		if placeholder(v) {
			return span{}, false
		}
	case "bearer-token":
		if !credentialish(v) {
			return span{}, false
		}
	}
	return span{start: start, end: end, kind: r.id}, true
}

// maxAssignedValue bounds an assigned value: past it, it is prose or data,
// not a credential.
const maxAssignedValue = 256

// assignment judges name <op> value. Groups: 1 name, 2 operator, 3–6 the
// value (double-quoted, single-quoted, backquoted, bare).
func assignment(text string, m []int) (span, bool) {
	name := strings.ToLower(text[m[2]:m[3]])
	op := text[m[4]:m[5]]
	quoted := false
	start, end := -1, -1
	for g := 3; g <= 6; g++ {
		if m[2*g] >= 0 {
			start, end = m[2*g], m[2*g+1]
			quoted = g < 6
			break
		}
	}
	if start < 0 {
		return span{}, false
	}
	v := text[start:end]
	if len(v) > maxAssignedValue || ignoredName(name) || placeholder(v) || (!quoted && codeRef.MatchString(v)) {
		return span{}, false
	}
	kind := kindOf(name)
	switch kind {
	case KindPassword, KindSecret, KindAWSSecret:
		// An explicit password or secret: anything but a plain word after
		// a prose colon ("secret: keep it short") is one.
		spaced := op == ":" && !quoted && start > m[5]
		if spaced && plainWord(v) {
			return span{}, false
		}
		if strings.TrimSpace(v) == "" {
			return span{}, false
		}
	default:
		if !randomLooking(v) {
			return span{}, false
		}
	}
	return span{start: start, end: end, kind: kind}, true
}

// flatten drops separators from a name: AWS_SECRET-access.key → AWSSECRETaccesskey.
var flatten = strings.NewReplacer("_", "", "-", "", ".", "")

// kindOf names the secret an assignment's name announces.
func kindOf(name string) string {
	flat := flatten.Replace(name)
	switch {
	case strings.Contains(flat, "aws") && strings.Contains(flat, "secret"):
		return KindAWSSecret
	case strings.Contains(flat, "accountkey"):
		return KindAzureStore
	case strings.Contains(flat, "passw") || strings.Contains(flat, "pwd") || strings.Contains(flat, "passphrase"):
		return KindPassword
	case strings.Contains(flat, "secret") || strings.Contains(flat, "credential") || strings.Contains(flat, "privatekey"):
		return KindSecret
	case strings.Contains(flat, "token"):
		return KindToken
	}
	return KindAPIKey
}

// ignoredSuffixes end names that talk about a credential without holding
// one: password_length, token_url, secret_name, api_key_id, max_tokens …
var ignoredSuffixes = []string{
	"id", "ids", "name", "names", "size", "length", "len", "file", "path", "url", "uri", "endpoint",
	"type", "count", "ttl", "expiry", "expires", "expiresat", "env", "field", "header", "policy",
	"min", "max", "minimum", "maximum", "rounds", "iterations", "age", "days", "strength", "complexity",
	"scope", "scopes", "ref", "refs",
	"format", "hint", "reset", "rotation", "required", "tokens", "limit", "budget", "prefix", "suffix",
	"version", "provider", "manager", "store", "mode", "enabled", "hash", "algorithm", "kind",
}

func ignoredName(name string) bool {
	flat := flatten.Replace(name)
	for _, s := range ignoredSuffixes {
		if strings.HasSuffix(flat, s) {
			return true
		}
	}
	return false
}

var placeholderWords = map[string]bool{
	"null": true, "none": true, "nil": true, "true": true, "false": true, "empty": true, "undefined": true,
	"redacted": true, "placeholder": true, "example": true, "changeme": true, "password": true,
	"secret": true, "token": true, "xxx": true, "...": true, "…": true,
}

// placeholder reports values that stand for a secret without being one:
// $VAR, ${VAR}, %(var)s, <your-token>, {{ secrets.X }}, ***, xxxx,
// os.getenv("X"), process.env.X, or a marker of ours.
func placeholder(v string) bool {
	t := strings.TrimSpace(v)
	if t == "" {
		return true
	}
	l := strings.ToLower(t)
	if placeholderWords[l] || strings.HasPrefix(t, "[REDACTED") || strings.HasPrefix(t, PrivateMarker) {
		return true
	}
	switch {
	case strings.HasPrefix(t, "$"), strings.HasPrefix(t, "%"), strings.HasPrefix(t, "{{"),
		strings.HasPrefix(t, "<") && strings.HasSuffix(t, ">"),
		strings.HasPrefix(l, "process.env"), strings.HasPrefix(l, "os.environ"), strings.HasPrefix(l, "os.getenv"),
		strings.HasPrefix(l, "env("), strings.HasPrefix(l, "env."), strings.HasPrefix(l, "secrets."):
		return true
	}
	if strings.Trim(l, "*x.•-_") == "" { // ****, xxxx, ...
		return true
	}
	if strings.HasPrefix(l, "your") || strings.HasPrefix(l, "my-") || strings.HasPrefix(l, "my_") {
		return true // your_password, your-api-key, my_token
	}
	return false
}

// credentialish: a digit, or upper and lower case mixed ("dXNlcjpwYXNz"),
// as opposed to a word ("Bearer tokens", "basic authentication") or a
// placeholder in capitals (YOUR_TOKEN).
func credentialish(v string) bool {
	var lower, upper bool
	for _, r := range v {
		switch {
		case r >= '0' && r <= '9':
			return true
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= 'A' && r <= 'Z':
			upper = true
		}
	}
	return lower && upper && !plainWord(v)
}

// codeRef matches a bare value that is code, not a literal: a dotted
// reference (cfg.Password, args.token, self.secret) or a call
// (getPassword(), os.Getenv("X")).
var codeRef = regexp.MustCompile(`^(?:[A-Za-z_][A-Za-z_]*(?:\.[A-Za-z_][A-Za-z_]*)+|[A-Za-z_][\w.]*\(.*)$`)

// plainWord is a run of lower-case letters, capitalised or not: prose
// ("Password: Use the vault"), not a credential.
func plainWord(v string) bool {
	for i, r := range v {
		if (r < 'a' || r > 'z') && (i > 0 || r < 'A' || r > 'Z') {
			return false
		}
	}
	return true
}

// randomLooking: long enough, letters and digits, high entropy.
func randomLooking(v string) bool {
	if len(v) < 12 {
		return false
	}
	var letter, digit bool
	for _, r := range v {
		switch {
		case r >= '0' && r <= '9':
			digit = true
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
			letter = true
		}
	}
	return letter && digit && entropy(v) >= 3
}

// entropy is the Shannon entropy of s in bits per character (as gitleaks).
func entropy(s string) float64 {
	if s == "" {
		return 0
	}
	counts := map[rune]int{}
	n := 0
	for _, r := range s {
		counts[r]++
		n++
	}
	var h float64
	for _, c := range counts {
		p := float64(c) / float64(n)
		h -= p * math.Log2(p)
	}
	return h
}
