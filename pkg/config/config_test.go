package config

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func lookup(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestDefaults(t *testing.T) {
	c, err := fromLookup(lookup(map[string]string{"XDG_DATA_HOME": "/data"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Home != filepath.Join("/data", "mnemo") || c.Model != DefaultModel || c.MaxContentBytes != 64<<10 ||
		c.HookBudget != 2*time.Second || c.KeepAlive != 10*time.Minute || c.Offline || c.LogLevel != "info" ||
		c.ModelWait != 3*time.Second || !c.GraphRewrite || c.BenchScale != 1 || c.Kernels != "" || c.Store != "" {
		t.Fatalf("unexpected defaults: %+v", c)
	}
	if c.DBPath() != "/data/mnemo/mnemo.db" {
		t.Fatal(c.DBPath())
	}
}

func TestOverridesAndErrors(t *testing.T) {
	c, err := fromLookup(lookup(map[string]string{"MNEMO_HOME": "/h", "MNEMO_OFFLINE": "1", "MNEMO_HOOK_BUDGET": "500ms", "MNEMO_MODEL": "/m"}))
	if err != nil || c.Home != "/h" || !c.Offline || c.HookBudget != 500*time.Millisecond || c.Model != "/m" {
		t.Fatalf("%+v %v", c, err)
	}
	for k, v := range map[string]string{"MNEMO_OFFLINE": "maybe", "MNEMO_MAX_CONTENT": "-1", "MNEMO_KEEP_ALIVE": "soon"} {
		_, err := fromLookup(lookup(map[string]string{"MNEMO_HOME": "/h", k: v}))
		if err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s=%s: want an error naming the variable, got %v", k, v, err)
		}
	}
}

func TestRedact(t *testing.T) {
	for v, want := range map[string]bool{"": true, "on": true, "1": true, "off": false, "OFF": false, "0": false, "false": false} {
		c, err := fromLookup(lookup(map[string]string{"MNEMO_HOME": "/h", "MNEMO_REDACT": v}))
		if err != nil || c.Redact != want {
			t.Errorf("MNEMO_REDACT=%q: Redact=%v err=%v, want %v", v, c.Redact, err, want)
		}
	}
	if _, err := fromLookup(lookup(map[string]string{"MNEMO_HOME": "/h", "MNEMO_REDACT": "sometimes"})); err == nil || !strings.Contains(err.Error(), "MNEMO_REDACT") {
		t.Errorf("MNEMO_REDACT=sometimes: want an error naming the variable, got %v", err)
	}
}
