package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// ftsTokens returns the tokens FTS5 itself makes of text with memories_fts's
// tokenizer (through a temporary FTS5 table and its fts5vocab view).
func ftsTokens(t testing.TB, db *sql.Conn, text string) []string {
	t.Helper()
	ctx := context.Background()
	for _, q := range []string{
		`CREATE VIRTUAL TABLE IF NOT EXISTS temp.tok USING fts5 (x, tokenize = 'porter unicode61 remove_diacritics 2')`,
		`CREATE VIRTUAL TABLE IF NOT EXISTS temp.tok_i USING fts5vocab(temp, tok, instance)`,
		`DELETE FROM temp.tok`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO temp.tok (x) VALUES (?)`, text); err != nil {
		t.Fatal(err)
	}
	rows, err := db.QueryContext(ctx, `SELECT term FROM temp.tok_i ORDER BY doc, offset`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func goTokens(text string) []string {
	var out []string
	tokenize(text, nil, func(tok []byte) { out = append(out, string(tok)) })
	return out
}

func tokConn(t testing.TB) *sql.Conn {
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "tok.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	c, err := s.DB().Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Words chosen to walk every Porter rule (and its exceptions).
const porterWords = `caresses ponies ties caress cats feed agreed plastered bled motoring sing conflated troubled
sized hopping tanned falling hissing fizzed failing filing happy sky relational conditional rational valenci
hesitanci digitizer conformabli radicalli differentli vileli analogousli vietnamization predication operator
feudalism decisiveness hopefulness callousness formaliti sensitiviti sensibiliti triplicate formative formalize
electriciti electrical hopeful goodness revival allowance inference airliner gyroscopic adjustable defensible
irritant replacement adjustment dependent adoption homologou communism activate angulariti homologous effective
bowdlerize probate rate cease controll roll generalizations oscillators uses because remember deploying
databases queries indexes logging analysis yes xyz axe eye ay aed iing ed ing eeds bleed bying tying dying lying
sensational traditional abl ibl ion sion tion motion ation the a an of as at be by its it's don't e-mail x86_64
ÉCOLE café naïve Straße Ærø İstanbul ﬁne ＡＢＣ ½ ٣ 中文字 ß Σίσυφος résumé coöperate Z̄ a\u0301b`

func TestTokenizeMatchesFTS5(t *testing.T) {
	c := tokConn(t)
	texts := strings.Split(porterWords, "\n")
	texts = append(texts, "Note 12: the deploy build uses query cache because token; remember MIGRATION for rust.",
		"CamelCase snake_case kebab-case 127.0.0.1 v1.2.3 ID:42 #tag @user", "", "   ", "a", "ab", "abc",
		strings.Repeat("x", 64)+"ing", strings.Repeat("y", 70)+"ies")
	for _, text := range texts {
		want, got := ftsTokens(t, c, text), goTokens(text)
		if !slices.Equal(want, got) {
			for i := range max(len(want), len(got)) {
				var w, g string
				if i < len(want) {
					w = want[i]
				}
				if i < len(got) {
					g = got[i]
				}
				if w != g {
					t.Errorf("token %d of %q: FTS5 %q, tokenize %q", i, text, w, g)
				}
			}
		}
	}
}

// FuzzTokenize: memory text is untrusted; tokenize must never panic, and on
// ASCII text (which it must tokenize exactly as FTS5) must agree with it.
func FuzzTokenize(f *testing.F) {
	for _, s := range strings.Fields(porterWords) {
		f.Add(s)
	}
	f.Add("Note 1: the cache uses token because rust; remember x.")
	c := tokConn(f)
	f.Fuzz(func(t *testing.T, text string) {
		got := goTokens(text)
		if !utf8.ValidString(text) {
			return
		}
		for i := 0; i < len(text); i++ {
			if text[i] >= utf8.RuneSelf || text[i] == 0 {
				return
			}
		}
		if want := ftsTokens(t, c, text); !slices.Equal(want, got) {
			t.Fatalf("tokens of %q: FTS5 %q, tokenize %q", text, want, got)
		}
	})
}
