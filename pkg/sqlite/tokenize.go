package sqlite

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// The keyword search scores candidate memories itself (keyword.go), so it
// must see their text as the FTS index does: memories_fts uses
// tokenize = 'porter unicode61 remove_diacritics 2'. tokenize reproduces
// that tokenizer: runs of letters, numbers and private-use characters
// (combining marks continue a token) folded to lower case without
// diacritics, then SQLite's Porter stemmer (tokens of 3 to 64 bytes).
// ASCII text is tokenized exactly as FTS5 does (TestTokenizeMatchesFTS5 and
// its fuzz test compare the two); for other scripts the case folding and
// diacritic removal follow Go's Unicode tables, which can differ from
// SQLite's Unicode 6.1 tables on rare characters: a candidate's score may
// then differ slightly, never which memories match (FTS5 itself decides
// that).

// tokenize calls fn with each token of text, in order.
func tokenize(text string, buf []byte, fn func(tok []byte)) []byte {
	return foldTokens(text, buf, func(tok []byte) { fn(porterStem(tok)) })
}

// foldTokens calls fn with each token of text folded but not yet stemmed;
// fn may modify tok.
func foldTokens(text string, buf []byte, fn func(tok []byte)) []byte {
	i := 0
	for i < len(text) {
		// Skip separators.
		c := text[i]
		if c < utf8.RuneSelf {
			if !asciiTokenChar(c) {
				i++
				continue
			}
		} else {
			r, n := utf8.DecodeRuneInString(text[i:])
			if !tokenStart(r) {
				i += n
				continue
			}
		}
		// A token: fold into buf.
		buf = buf[:0]
		for i < len(text) {
			c := text[i]
			if c < utf8.RuneSelf {
				if !asciiTokenChar(c) {
					break
				}
				if c >= 'A' && c <= 'Z' {
					c += 'a' - 'A'
				}
				buf = append(buf, c)
				i++
				continue
			}
			r, n := utf8.DecodeRuneInString(text[i:])
			if !tokenStart(r) && !unicode.Is(unicode.Mn, r) {
				break
			}
			buf = appendFolded(buf, r)
			i += n
		}
		fn(buf)
	}
	return buf
}

func asciiTokenChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// tokenStart: unicode61's default token categories, L* N* Co.
func tokenStart(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Co, r)
}

// appendFolded appends r lower-cased with its diacritics removed
// (remove_diacritics 2); a lone combining mark folds to nothing.
func appendFolded(buf []byte, r rune) []byte {
	if unicode.Is(unicode.Mn, r) {
		return buf
	}
	r = unicode.ToLower(r)
	if r == 'ς' {
		r = 'σ' // SQLite folds case; lower-casing keeps the final sigma
	}
	var tmp [16]byte
	d := norm.NFD.AppendString(tmp[:0], string(r))
	if len(d) > 0 {
		base, n := utf8.DecodeRune(d)
		rest := d[n:]
		allMarks := true
		for len(rest) > 0 {
			m, k := utf8.DecodeRune(rest)
			if !unicode.Is(unicode.Mn, m) {
				allMarks = false
				break
			}
			rest = rest[k:]
		}
		if allMarks && base < utf8.RuneSelf {
			r = base // SQLite's table maps to ASCII letters only
		}
	}
	return utf8.AppendRune(buf, r)
}

// porterMaxToken: longer tokens (in bytes) are not stemmed, as in FTS5.
const porterMaxToken = 64

// porterStem stems a folded token in place and returns the stem, following
// SQLite's FTS5 Porter tokenizer step by step.
func porterStem(b []byte) []byte {
	if len(b) > porterMaxToken || len(b) < 3 {
		return b
	}
	// Step 1a.
	n := len(b)
	if b[n-1] == 's' {
		switch {
		case b[n-2] == 'e':
			if n > 4 && b[n-4] == 's' && b[n-3] == 's' || n > 3 && b[n-3] == 'i' {
				n -= 2
			} else {
				n--
			}
		case b[n-2] != 's':
			n--
		}
	}
	b = b[:n]
	// Step 1b.
	nb, ok := step1b(b)
	b = nb
	if ok {
		if nb, ok := step1b2(b); ok {
			b = nb
		} else {
			n := len(b)
			c := b[n-1]
			if !isVowel(c, false) && c != 'l' && c != 's' && c != 'z' && n > 1 && c == b[n-2] {
				b = b[:n-1]
			} else if mEq1(b) && oStar(b) {
				b = append(b, 'e')
			}
		}
	}
	// Step 1c.
	if n := len(b); n > 0 && b[n-1] == 'y' && hasVowel(b[:n-1]) {
		b[n-1] = 'i'
	}
	b = applyRules(b, step2Rules, mGt0)
	b = applyRules(b, step3Rules, mGt0)
	b = step4(b)
	// Step 5a.
	if n := len(b); n > 0 && b[n-1] == 'e' {
		if mGt1(b[:n-1]) || mEq1(b[:n-1]) && !oStar(b[:n-1]) {
			b = b[:n-1]
		}
	}
	// Step 5b.
	if n := len(b); n > 1 && b[n-1] == 'l' && b[n-2] == 'l' && mGt1(b[:n-1]) {
		b = b[:n-1]
	}
	return b
}

func isVowel(c byte, yIsVowel bool) bool {
	return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u' || yIsVowel && c == 'y'
}

// gobbleVC returns the length of the first vowel run followed by a
// consonant in s (0 when there is none); prevCons says whether the byte
// before s was a consonant (for 'y').
func gobbleVC(s []byte, prevCons bool) int {
	cons := prevCons
	i := 0
	for ; i < len(s); i++ {
		cons = !isVowel(s[i], cons)
		if !cons {
			break
		}
	}
	for i++; i < len(s); i++ {
		cons = !isVowel(s[i], cons)
		if cons {
			return i + 1
		}
	}
	return 0
}

func mGt0(s []byte) bool { return gobbleVC(s, false) > 0 }

func mGt1(s []byte) bool {
	n := gobbleVC(s, false)
	return n > 0 && gobbleVC(s[n:], true) > 0
}

func mEq1(s []byte) bool {
	n := gobbleVC(s, false)
	return n > 0 && gobbleVC(s[n:], true) == 0
}

// oStar: s ends consonant-vowel-consonant, the last not w, x or y.
func oStar(s []byte) bool {
	n := len(s)
	if n == 0 {
		return false
	}
	if c := s[n-1]; c == 'w' || c == 'x' || c == 'y' {
		return false
	}
	mask, cons := 0, false
	for _, c := range s {
		cons = !isVowel(c, cons)
		mask <<= 1
		if cons {
			mask |= 1
		}
	}
	return mask&7 == 5
}

// hasVowel: (*v*), where y after the first byte counts as a vowel.
func hasVowel(s []byte) bool {
	for i, c := range s {
		if isVowel(c, i > 0) {
			return true
		}
	}
	return false
}

func hasSuffix(b []byte, suf string) bool {
	return len(b) > len(suf) && string(b[len(b)-len(suf):]) == suf
}

func step1b(b []byte) ([]byte, bool) {
	switch {
	case hasSuffix(b, "eed"):
		if mGt0(b[:len(b)-3]) {
			return b[:len(b)-1], false
		}
		return b, false
	case hasSuffix(b, "ed"):
		if hasVowel(b[:len(b)-2]) {
			return b[:len(b)-2], true
		}
	case hasSuffix(b, "ing"):
		if hasVowel(b[:len(b)-3]) {
			return b[:len(b)-3], true
		}
	}
	return b, false
}

func step1b2(b []byte) ([]byte, bool) {
	for _, suf := range [...]string{"at", "bl", "iz"} {
		if hasSuffix(b, suf) {
			return append(b, 'e'), true
		}
	}
	return b, false
}

type porterRule struct{ suffix, out string }

// The rules of steps 2 and 3, grouped as SQLite groups them: by the
// second-to-last byte, the first matching suffix of the group is the only
// one tried.
var step2Rules = map[byte][]porterRule{
	'a': {{"ational", "ate"}, {"tional", "tion"}},
	'c': {{"enci", "ence"}, {"anci", "ance"}},
	'e': {{"izer", "ize"}},
	'g': {{"logi", "log"}},
	'l': {{"bli", "ble"}, {"alli", "al"}, {"entli", "ent"}, {"eli", "e"}, {"ousli", "ous"}},
	'o': {{"ization", "ize"}, {"ation", "ate"}, {"ator", "ate"}},
	's': {{"alism", "al"}, {"iveness", "ive"}, {"fulness", "ful"}, {"ousness", "ous"}},
	't': {{"aliti", "al"}, {"iviti", "ive"}, {"biliti", "ble"}},
}

var step3Rules = map[byte][]porterRule{
	'a': {{"ical", "ic"}},
	's': {{"ness", ""}},
	't': {{"icate", "ic"}, {"iciti", "ic"}},
	'u': {{"ful", ""}},
	'v': {{"ative", ""}},
	'z': {{"alize", "al"}},
}

func applyRules(b []byte, rules map[byte][]porterRule, cond func([]byte) bool) []byte {
	if len(b) < 2 {
		return b
	}
	for _, r := range rules[b[len(b)-2]] {
		if hasSuffix(b, r.suffix) {
			stem := b[:len(b)-len(r.suffix)]
			if cond(stem) {
				return append(stem, r.out...)
			}
			return b
		}
	}
	return b
}

var step4Rules = map[byte][]string{
	'a': {"al"},
	'c': {"ance", "ence"},
	'e': {"er"},
	'i': {"ic"},
	'l': {"able", "ible"},
	'n': {"ant", "ement", "ment", "ent"},
	'o': {"ion", "ou"},
	's': {"ism"},
	't': {"ate", "iti"},
	'u': {"ous"},
	'v': {"ive"},
	'z': {"ize"},
}

func step4(b []byte) []byte {
	if len(b) < 2 {
		return b
	}
	for _, suf := range step4Rules[b[len(b)-2]] {
		if hasSuffix(b, suf) {
			stem := b[:len(b)-len(suf)]
			ok := mGt1(stem)
			if suf == "ion" {
				c := stem[len(stem)-1]
				ok = (c == 's' || c == 't') && ok
			}
			if ok {
				return stem
			}
			return b
		}
	}
	return b
}
