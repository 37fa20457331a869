package config

import (
	"bytes"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// Every variable the program reads has a meaning, a unique name, and a
// default that parses; a value it does not accept is an error naming it.
func TestVarsTable(t *testing.T) {
	seen := map[string]bool{}
	for _, v := range Vars {
		if !strings.HasPrefix(v.Name, "MNEMO_") || seen[v.Name] {
			t.Errorf("%s: bad or duplicate name", v.Name)
		}
		seen[v.Name] = true
		if len(v.Meaning) < 10 {
			t.Errorf("%s: no meaning", v.Name)
		}
		if !v.TestOnly() && !v.derived && v.Default != "" {
			var c Config
			if err := v.set(&c, v.Default); err != nil {
				t.Errorf("%s: default %q does not parse: %v", v.Name, v.Default, err)
			}
		}
	}
	bad := map[string]string{
		"MNEMO_OFFLINE": "maybe", "MNEMO_MAX_CONTENT": "-1", "MNEMO_HOOK_BUDGET": "2", "MNEMO_KEEP_ALIVE": "soon",
		"MNEMO_LOG_LEVEL": "loud", "MNEMO_MODEL_WAIT": "-1s", "MNEMO_HOOK_MIN_SIMILARITY": "1.5",
		"MNEMO_HOOK_CAPTURE": "yes", "MNEMO_HOOK_WARM": "nope", "MNEMO_HOOK_LOCAL_MODEL": "on",
		"MNEMO_KERNELS": "avx2,avx512", "MNEMO_GRAPH_REWRITE": "off", "MNEMO_BENCH_SCALE": "0", "MNEMO_REDACT": "sometimes",
	}
	for _, v := range Vars {
		val, ok := bad[v.Name]
		if !ok {
			continue
		}
		delete(bad, v.Name)
		_, err := fromLookup(lookup(map[string]string{"MNEMO_HOME": "/h", v.Name: val}))
		if err == nil || !strings.Contains(err.Error(), v.Name) || !strings.Contains(err.Error(), "want") {
			t.Errorf("%s=%s: want an error naming the variable and what it wants, got %v", v.Name, val, err)
		}
	}
	for name := range bad {
		t.Errorf("%s: not in Vars", name)
	}
}

// The hooks' switches used to be read by an envBool that silently took a
// value it could not parse as the default (MNEMO_HOOK_LOCAL_MODEL=on was
// off, MNEMO_HOOK_WARM=nope was on). They are errors now, as everywhere.
func TestHookSwitches(t *testing.T) {
	c, err := fromLookup(lookup(map[string]string{"MNEMO_HOME": "/h"}))
	if err != nil || c.HookCapture || !c.HookWarm || c.HookLocalModel || c.HookMinSimilarity != 0.40 {
		t.Fatalf("defaults: %+v %v", c, err)
	}
	c, err = fromLookup(lookup(map[string]string{"MNEMO_HOME": "/h", "MNEMO_HOOK_CAPTURE": "1", "MNEMO_HOOK_WARM": "false",
		"MNEMO_HOOK_LOCAL_MODEL": "TRUE", "MNEMO_HOOK_MIN_SIMILARITY": " 0.55 "}))
	if err != nil || !c.HookCapture || c.HookWarm || !c.HookLocalModel || c.HookMinSimilarity != 0.55 {
		t.Fatalf("set: %+v %v", c, err)
	}
	for _, name := range []string{"MNEMO_HOOK_CAPTURE", "MNEMO_HOOK_WARM", "MNEMO_HOOK_LOCAL_MODEL"} {
		if _, err := fromLookup(lookup(map[string]string{"MNEMO_HOME": "/h", name: "on"})); err == nil {
			t.Errorf("%s=on: accepted", name)
		}
	}
}

// README's configuration table lists exactly the program's variables, with
// the table's defaults.
func TestREADMEConfigurationTable(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n## Configuration\n")
	if !ok {
		t.Fatal("README has no ## Configuration section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	row := regexp.MustCompile("(?m)^\\| `(MNEMO_[A-Z0-9_]+)` \\| ([^|]*) \\| ([^|]*) \\|$")
	readme, meaning := map[string]string{}, map[string]string{}
	for _, m := range row.FindAllStringSubmatch(section, -1) {
		readme[m[1]] = strings.Trim(strings.TrimSpace(m[2]), "`")
		meaning[m[1]] = strings.TrimSpace(m[3])
	}
	for _, v := range Vars {
		if v.TestOnly() {
			if _, ok := readme[v.Name]; ok {
				t.Errorf("README lists %s, which only tests read", v.Name)
			}
			continue
		}
		def, ok := readme[v.Name]
		if !ok {
			t.Errorf("README's configuration table lacks %s", v.Name)
			continue
		}
		want := v.Default
		if want == "" {
			want = "-"
		}
		if def != want {
			t.Errorf("README: %s defaults to %q; the table (pkg/config) says %q", v.Name, def, want)
		}
		if meaning[v.Name] != v.Meaning {
			t.Errorf("README: %s means %q; the table (pkg/config) says %q", v.Name, meaning[v.Name], v.Meaning)
		}
		delete(readme, v.Name)
	}
	for name := range readme {
		t.Errorf("README lists %s, which pkg/config does not know", name)
	}
}

// No package but this one reads a MNEMO_* variable, and every MNEMO_* name
// the program's code mentions is in Vars. Tests are not the program: test
// files, and test-support packages (non-test files that import "testing",
// such as internal/asuser), may read test-only variables and their own
// helper-process switches directly.
func TestNoStrayEnvironmentReads(t *testing.T) {
	out, err := exec.Command("go", "list", "-json", "github.com/mnemo-mcp/mnemo/...").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	direct := regexp.MustCompile(`os\.(Getenv|LookupEnv)\(\s*"MNEMO_`)
	name := regexp.MustCompile(`^MNEMO_[A-Z0-9_]+$`)
	nameIn := regexp.MustCompile(`MNEMO_[A-Z0-9_]+[A-Z0-9]`)
	checked := 0
	for dec.More() {
		var p struct {
			ImportPath string
			Dir        string
			GoFiles    []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		if p.ImportPath == "github.com/mnemo-mcp/mnemo/pkg/config" {
			continue
		}
		for _, f := range p.GoFiles {
			path := filepath.Join(p.Dir, f)
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			checked++
			if bytes.Contains(src, []byte("\n\t\"testing\"\n")) || bytes.Contains(src, []byte("import \"testing\"")) {
				continue // test support
			}
			if direct.Match(src) {
				t.Errorf("%s reads a MNEMO_* variable itself; add it to pkg/config's Vars and read Config", path)
			}
			file, err := parser.ParseFile(token.NewFileSet(), path, src, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(file, func(n ast.Node) bool {
				lit, ok := n.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					return true
				}
				s, err := strconv.Unquote(lit.Value)
				if err != nil {
					return true
				}
				for _, m := range nameIn.FindAllString(s, -1) {
					if _, ok := Lookup(m); !ok && name.MatchString(m) {
						t.Errorf("%s mentions %s, which pkg/config's Vars does not know", path, m)
					}
				}
				return true
			})
		}
	}
	if checked < 50 {
		t.Fatalf("only %d files checked", checked)
	}
}
