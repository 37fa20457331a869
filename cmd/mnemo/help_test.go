package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// go test ./cmd/mnemo/ -run TestHelpSnapshots -update rewrites
// testdata/help/*.txt after an intended change to a command's help.
var updateHelp = flag.Bool("update", false, "rewrite testdata/help/*.txt from the commands' help")

const helpSnapDir = "../../testdata/help"

// Every command's help is snapshot-tested, like the MCP tool schemas: a
// change to a flag, its wording or an example shows up in review.
func TestHelpSnapshots(t *testing.T) {
	t.Setenv("MNEMO_HOOK_CAPTURE", "")
	topics := append(commandNames(), "")
	seen := map[string]bool{}
	for _, name := range topics {
		file := name
		args := []string{"help", name}
		if name == "" {
			file, args = "mnemo", []string{"help"}
		}
		seen[file+".txt"] = true
		code, stdout, stderr := runCLI("", args...)
		if code != 0 || stderr != "" {
			t.Errorf("mnemo %s: exit %d, stderr %q", strings.Join(args, " "), code, stderr)
			continue
		}
		path := filepath.Join(helpSnapDir, file+".txt")
		if *updateHelp {
			if err := os.MkdirAll(helpSnapDir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(stdout), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("%s: no snapshot (%v); run go test ./cmd/mnemo/ -run TestHelpSnapshots -update", file, err)
			continue
		}
		if string(want) != stdout {
			t.Errorf("help for %q differs from %s (go test ./cmd/mnemo/ -run TestHelpSnapshots -update after an intended change)\n--- got:\n%s", file, path, stdout)
		}
	}
	// No snapshot of a command that is gone.
	entries, _ := os.ReadDir(helpSnapDir)
	for _, e := range entries {
		if !seen[e.Name()] {
			if *updateHelp {
				os.Remove(filepath.Join(helpSnapDir, e.Name()))
				continue
			}
			t.Errorf("%s: snapshot of no command; run with -update to remove it", e.Name())
		}
	}
}

// mnemo help CMD and mnemo CMD --help print the same, on stdout, with the
// flags in their --long form and examples.
func TestHelpCommandEqualsFlagHelp(t *testing.T) {
	for _, name := range commandNames() {
		code1, out1, err1 := runCLI("", "help", name)
		code2, out2, err2 := runCLI("", name, "--help")
		code3, out3, _ := runCLI("", name, "-h")
		if code1 != 0 || code2 != 0 || code3 != 0 || err1 != "" || err2 != "" {
			t.Errorf("%s: exits %d/%d/%d, stderr %q / %q", name, code1, code2, code3, err1, err2)
		}
		if out1 != out2 || out1 != out3 {
			t.Errorf("%s: help CMD and CMD --help differ:\n%s\n---\n%s", name, out1, out2)
		}
		i := strings.Index(out1, "\nExamples:\n  ")
		if !strings.HasPrefix(out1, "Usage: mnemo "+name) || i < 0 {
			t.Errorf("%s: help lacks usage or examples (add 2 or 3 to its command):\n%s", name, out1)
			continue
		}
		if n := strings.Count(out1[i:], "\n  "); n < 2 || n > 3 {
			t.Errorf("%s: %d examples, want 2 or 3", name, n)
		}
		for _, line := range strings.Split(out1, "\n") {
			if strings.HasPrefix(line, "  -") && !strings.HasPrefix(line, "  --") {
				t.Errorf("%s: flag listed in its short form: %q", name, line)
			}
		}
	}
	code, out, _ := runCLI("", "help", "recall")
	if code != 0 || !strings.Contains(out, "  --k int\n") || !strings.Contains(out, "  --all-tags\n") {
		t.Errorf("help recall lacks its flags:\n%s", out)
	}
	code, out, errOut := runCLI("", "--help")
	if code != 0 || !strings.Contains(out, "Commands:") || !strings.Contains(out, "Exit status:") || errOut != "" {
		t.Errorf("mnemo --help: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// Exit status 2 for every kind of command-line mistake, with a suggestion
// for a typo; 1 for a failure; the statuses are documented in help.
func TestUsageErrorsExit2WithSuggestion(t *testing.T) {
	cliEnv(t, filepath.Join(t.TempDir(), "no-such-model"))
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"remeber", "x"}, `unknown command "remeber"; did you mean "remember"?`},
		{[]string{"lsit"}, `did you mean "list"?`},
		{[]string{"help", "nosuch"}, `no help topic "nosuch"`},
		{[]string{"help", "recal"}, `did you mean "recall"?`},
		{[]string{"help", "enviroment"}, `did you mean "environment"?`},
		{[]string{"recall", "x", "--kk", "3"}, `did you mean --k?`},
		{[]string{"list", "--limt", "3"}, `did you mean --limit?`},
		{[]string{"recall", "x", "--k", "many"}, `invalid value "many" for flag -k`},
		{[]string{"completion", "bsh"}, `did you mean "bash"?`},
		{[]string{"completion"}, `completion needs one shell`},
		{[]string{}, "Usage: mnemo COMMAND"},
	} {
		code, stdout, stderr := runCLI("", c.args...)
		if code != exitUsage || !strings.Contains(stderr, c.want) || stdout != "" {
			t.Errorf("mnemo %s: want exit 2 and %q on stderr; got %d, stdout %q, stderr %q", strings.Join(c.args, " "), c.want, code, stdout, stderr)
		}
	}
	if _, out, _ := runCLI("", "help", "exit-codes"); !strings.Contains(out, "2  usage") || !strings.Contains(out, "1  failure") {
		t.Errorf("help exit-codes: %q", out)
	}
}

func TestEditDistanceAndSuggest(t *testing.T) {
	for _, c := range []struct {
		a, b string
		d    int
	}{{"", "abc", 3}, {"remeber", "remember", 1}, {"recal", "recall", 1}, {"lsit", "list", 1}, {"kitten", "sitting", 3}} {
		if got := editDistance(c.a, c.b); got != c.d {
			t.Errorf("editDistance(%q, %q) = %d, want %d", c.a, c.b, got, c.d)
		}
	}
	if s := suggest("xyzzy", commandNames()); s != "" {
		t.Errorf("suggest(xyzzy) = %q, want none", s)
	}
	if s := suggest("mig", commandNames()); s != "migrate" {
		t.Errorf("suggest(mig) = %q, want migrate (prefix)", s)
	}
}

// The bash script, sourced in a real bash, completes a command and a flag.
func TestCompletionBash(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	code, script, stderr := runCLI("", "completion", "bash")
	if code != 0 {
		t.Fatalf("completion bash: exit %d %s", code, stderr)
	}
	file := filepath.Join(t.TempDir(), "mnemo.bash")
	if err := os.WriteFile(file, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	complete := func(words ...string) string {
		t.Helper()
		sh := `source "$1"; shift; complete -p mnemo >/dev/null || exit 3
COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); _mnemo; printf '%s\n' "${COMPREPLY[@]}"`
		out, err := exec.Command(bash, append([]string{"--norc", "--noprofile", "-c", sh, "bash", file}, words...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("bash: %v\n%s", err, out)
		}
		return strings.TrimSpace(string(out))
	}
	if got := complete("mnemo", "rec"); got != "recall" {
		t.Errorf("mnemo rec<TAB> = %q, want recall", got)
	}
	if got := complete("mnemo", "re"); !strings.Contains(got, "remember") || !strings.Contains(got, "reembed") {
		t.Errorf("mnemo re<TAB> = %q", got)
	}
	if got := complete("mnemo", "recall", "deploy", "--al"); got != "--all\n--all-tags" {
		t.Errorf("mnemo recall deploy --al<TAB> = %q, want --all --all-tags", got)
	}
	if got := complete("mnemo", "list", "--li"); got != "--limit" {
		t.Errorf("mnemo list --li<TAB> = %q, want --limit", got)
	}
	if got := complete("mnemo", "help", "env"); got != "environment" {
		t.Errorf("mnemo help env<TAB> = %q", got)
	}
}

// completionShell is the path of a shell the completion tests run. Without
// it the test is skipped, but not under CI=true: .ci/run installs zsh and
// fish, and a missing one there is a failure.
func completionShell(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not installed (.ci/run installs it); CI=true: failing, not skipping", name)
		}
		t.Skipf("no %s", name)
	}
	return p
}

// completionScript writes `mnemo completion shell` to dir/name.
func completionScript(t *testing.T, shell, dir, name string) string {
	t.Helper()
	code, script, stderr := runCLI("", "completion", shell)
	if code != 0 {
		t.Fatalf("completion %s: exit %d %s", shell, code, stderr)
	}
	file := filepath.Join(dir, name)
	if err := os.WriteFile(file, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// checkCompletions runs the same completions in every shell's test.
func checkCompletions(t *testing.T, complete func(line string) []string) {
	t.Helper()
	for line, want := range map[string][]string{
		"mnemo rec":                {"recall"},
		"mnemo recall deploy --al": {"--all", "--all-tags"},
		"mnemo list --li":          {"--limit"},
		"mnemo completion f":       {"fish"},
		"mnemo help env":           {"environment"},
	} {
		got := complete(line)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s<TAB> = %q, want %q", line, got, want)
		}
	}
	if got := complete("mnemo re"); !slices.Contains(got, "remember") || !slices.Contains(got, "reembed") || slices.Contains(got, "list") {
		t.Errorf("mnemo re<TAB> = %q", got)
	}
}

// zshCapture completes a line in an interactive zsh on a pseudo-terminal
// (zsh/zpty) with the completion system and the script loaded, as a user's
// TAB does, and writes the matches offered to OUT: compadd is wrapped to
// record what it adds (calls that only compute matches, -O/-A/-D, pass
// through), and a comppostfunc says the completion is over.
const zshCapture = `zmodload zsh/zpty || exit 3
script=$1 out=$2 line=$3
zpty z zsh -f -i
zpty -w z "PROMPT= RPROMPT=; OUT=${(q)out}"
zpty -w z 'autoload -Uz compinit && compinit -u -D'
zpty -w z "source ${(q)script}"
zpty -w z 'compadd() {
  if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return; fi
  local -a __hits; builtin compadd -A __hits "$@"
  (( $#__hits )) && print -rl -- $__hits >> $OUT
  builtin compadd "$@"
}'
zpty -w z 'comppostfuncs=(__capture_done); __capture_done() { print -n >> $OUT.done }'
zpty -w -n z "$line"$'\t'
for i in {1..600}; do
  [[ -e $out.done ]] && break
  zpty -r -t z junk 2>/dev/null
  sleep 0.05
done
zpty -d z
[[ -e $out.done ]] || { print -u2 "zsh: the completion did not finish"; exit 4 }
`

func TestCompletionZsh(t *testing.T) {
	zsh := completionShell(t, "zsh")
	dir := t.TempDir()
	script := completionScript(t, "zsh", dir, "_mnemo")
	capture := filepath.Join(dir, "capture.zsh")
	if err := os.WriteFile(capture, []byte(zshCapture), 0o644); err != nil {
		t.Fatal(err)
	}
	n := 0
	checkCompletions(t, func(line string) []string {
		t.Helper()
		n++
		out := filepath.Join(dir, fmt.Sprintf("out%d", n))
		cmd := exec.Command(zsh, "-f", capture, script, out, line)
		cmd.Dir = dir // an empty folder: no file names among the matches
		cmd.Env = append(os.Environ(), "HOME="+dir)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("zsh, completing %q: %v\n%s", line, err, b)
		}
		b, _ := os.ReadFile(out)
		return strings.Fields(string(b))
	})
}

func TestCompletionFish(t *testing.T) {
	fish := completionShell(t, "fish")
	dir := t.TempDir()
	script := completionScript(t, "fish", dir, "mnemo.fish")
	checkCompletions(t, func(line string) []string {
		t.Helper()
		// complete -C prints what TAB would offer, "match<TAB>description".
		cmd := exec.Command(fish, "--no-config", "-c", "source $argv[1]; and complete -C $argv[2]", script, line)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_CONFIG_HOME="+dir, "XDG_DATA_HOME="+dir)
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("fish, completing %q: %v\n%s", line, err, b)
		}
		var got []string
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if m, _, _ := strings.Cut(l, "\t"); m != "" {
				got = append(got, m)
			}
		}
		return got
	})
}
