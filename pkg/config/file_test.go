package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// The file sets what the environment does not; the environment wins; each
// setting says where it came from.
func TestConfigFileAndPrecedence(t *testing.T) {
	p := writeConfig(t, `# mnemo settings
model = "/models/from-file"   # a comment
MNEMO_OFFLINE = 1
log_level = 'debug'
keep_alive = 30m
hub_url = "https://mirror.example/hf"
`)
	env := map[string]string{"MNEMO_CONFIG": p, "MNEMO_HOME": "/h", "MNEMO_LOG_LEVEL": "warn"}
	c, settings, err := resolve(lookup(env))
	if err != nil {
		t.Fatal(err)
	}
	if c.Model != "/models/from-file" || !c.Offline || c.LogLevel != "warn" || c.KeepAlive.Minutes() != 30 || c.HubURL != "https://mirror.example/hf" || c.ConfigFile != p {
		t.Fatalf("config: %+v", c)
	}
	src := map[string]Setting{}
	for _, s := range settings {
		src[s.Name] = s
	}
	for name, want := range map[string]Source{"MNEMO_MODEL": SourceFile, "MNEMO_LOG_LEVEL": SourceEnv, "MNEMO_HOME": SourceEnv,
		"MNEMO_REDACT": SourceDefault, "MNEMO_OFFLINE": SourceFile} {
		if src[name].Source != want {
			t.Errorf("%s: source %q, want %q", name, src[name].Source, want)
		}
	}
	if src["MNEMO_LOG_LEVEL"].Value != "warn" || src["MNEMO_CACHE"].Value == "" || src["MNEMO_CACHE"].Value != c.CacheDir {
		t.Errorf("values: %+v %+v", src["MNEMO_LOG_LEVEL"], src["MNEMO_CACHE"])
	}
}

// A bad file is an error naming the file, the line and the setting.
func TestConfigFileErrors(t *testing.T) {
	for text, want := range map[string]string{
		"model = \"x\"\nmodle = \"y\"\n":     ":2: unknown setting \"modle\"",
		"[mnemo]\nmodel = \"x\"\n":           ":1: sections are not supported",
		"offline = maybe\n":                  ":1: MNEMO_OFFLINE=\"maybe\": want 1/0/true/false",
		"model = \"x\nother":                 ":1: model: unterminated string",
		"model = \"a\"\nMNEMO_MODEL = \"b\"": ":2: MNEMO_MODEL is already set on line 1",
		"just words\n":                       ":1: want `key = value`",
		"test_models = \"/x\"\n":             "unknown setting",
	} {
		p := writeConfig(t, text)
		_, err := fromLookup(lookup(map[string]string{"MNEMO_CONFIG": p, "MNEMO_HOME": "/h"}))
		if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", text, err, want)
		}
	}
	// MNEMO_CONFIG names a file that is not there: an error; the default
	// path missing is not.
	if _, err := fromLookup(lookup(map[string]string{"MNEMO_CONFIG": "/no/such/config.toml", "MNEMO_HOME": "/h"})); err == nil {
		t.Error("a missing MNEMO_CONFIG file was not an error")
	}
	if _, err := fromLookup(lookup(map[string]string{"HOME": t.TempDir(), "MNEMO_HOME": "/h"})); err != nil {
		t.Errorf("no file at the default path: %v", err)
	}
}

func TestDefaultConfigPath(t *testing.T) {
	get := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	for _, c := range []struct {
		goos string
		env  map[string]string
		want string
	}{
		{"linux", map[string]string{"HOME": "/home/u"}, "/home/u/.config/mnemo/config.toml"},
		{"linux", map[string]string{"HOME": "/home/u", "XDG_CONFIG_HOME": "/xdg"}, "/xdg/mnemo/config.toml"},
		{"darwin", map[string]string{"HOME": "/Users/u"}, "/Users/u/Library/Application Support/mnemo/config.toml"},
		{"windows", map[string]string{"AppData": `C:\Users\u\AppData\Roaming`}, filepath.Join(`C:\Users\u\AppData\Roaming`, "mnemo", "config.toml")},
		{"linux", map[string]string{}, ""},
	} {
		if got := defaultConfigPath(c.goos, get(c.env)); got != c.want {
			t.Errorf("%s %v: %q, want %q", c.goos, c.env, got, c.want)
		}
	}
}
