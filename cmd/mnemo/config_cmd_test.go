package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mnemo-mcp/mnemo/pkg/config"
)

// The config file is read by every command (here: the data dir of
// remember and list), the environment overrides it, and `mnemo config`
// shows each setting with its source, passwords hidden.
func TestConfigFileCommand(t *testing.T) {
	home := cliEnv(t, "")
	fileHome := filepath.Join(home, "from-file")
	cfgPath := filepath.Join(home, "config.toml")
	text := "# mine\nhome = \"" + fileHome + "\"\nstore = \"postgres://me:s3cret@db.internal/mnemo\"\nlog_level = \"debug\"\n"
	if err := os.WriteFile(cfgPath, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("MNEMO_CONFIG", cfgPath)
	t.Setenv("MNEMO_HOME", "")
	t.Setenv("MNEMO_LOG_LEVEL", "warn")

	r := mnemoExec(t, "", "config", "--json")
	if r.code != 0 {
		t.Fatalf("config --json: %s", r)
	}
	got := jsonLines[configJSON](t, r.stdout)[0]
	src := map[string]config.Setting{}
	for _, s := range got.Settings {
		src[s.Name] = s
	}
	if got.File != cfgPath || !got.FileExists || src["MNEMO_HOME"].Value != fileHome || src["MNEMO_HOME"].Source != config.SourceFile ||
		src["MNEMO_LOG_LEVEL"].Value != "warn" || src["MNEMO_LOG_LEVEL"].Source != config.SourceEnv ||
		src["MNEMO_REDACT"].Source != config.SourceDefault {
		t.Errorf("config --json: %+v", got)
	}
	if strings.Contains(r.stdout, "s3cret") || !strings.Contains(src["MNEMO_STORE"].Value, "db.internal") {
		t.Errorf("the store password is printed or the store is missing: %s", r.stdout)
	}
	// A password given as a parameter, or in a keyword/value string, is
	// hidden too.
	for _, store := range []string{"postgres://me@db.internal/mnemo?password=s3cret", "host=db.internal user=me password=s3cret"} {
		t.Setenv("MNEMO_STORE", store)
		if r := mnemoExec(t, "", "config"); r.code != 0 || strings.Contains(r.stdout, "s3cret") || !strings.Contains(r.stdout, "db.internal") {
			t.Errorf("config with MNEMO_STORE=%s: %s", strings.ReplaceAll(store, "s3cret", "…"), r)
		}
	}
	t.Setenv("MNEMO_STORE", "")
	r = mnemoExec(t, "", "config")
	if r.code != 0 || !strings.Contains(r.stdout, "config file: "+cfgPath) || !strings.Contains(r.stdout, "MNEMO_HOME") ||
		!strings.Contains(r.stdout, " file") || !strings.Contains(r.stdout, " env") || strings.Contains(r.stdout, "s3cret") {
		t.Errorf("config: %s", r)
	}

	// Every command reads it: the data dir comes from the file.
	if err := os.WriteFile(cfgPath, []byte("home = \""+fileHome+"\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustCLI(t, "", "remember", "stored where the config file says")
	if _, err := os.Stat(filepath.Join(fileHome, "mnemo.db")); err != nil {
		t.Errorf("remember did not use the file's home: %v", err)
	}
	// A bad line: every command names the file and the line.
	if err := os.WriteFile(cfgPath, []byte("home = \""+fileHome+"\"\nofline = 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = mnemoExec(t, "", "list")
	if r.code != 1 || !strings.Contains(r.stderr, cfgPath+":2: unknown setting \"ofline\"") {
		t.Errorf("bad config line: %s", r)
	}
}
