package main

import (
	"strings"
	"testing"

	"github.com/mnemo-mcp/mnemo/embed"
	"github.com/mnemo-mcp/mnemo/internal/app"
	"github.com/mnemo-mcp/mnemo/pkg/config"
	"github.com/mnemo-mcp/mnemo/pkg/service"
)

// The engine owns its default model and config does not import the engine;
// the two constants must name the same model.
func TestDefaultModelAgrees(t *testing.T) {
	if config.DefaultModel != embed.DefaultModel {
		t.Fatalf("config.DefaultModel %q, embed.DefaultModel %q", config.DefaultModel, embed.DefaultModel)
	}
}

// engineOptions carries the engine's switches from the configuration.
func TestEngineOptionsFromConfig(t *testing.T) {
	o := app.EngineOptions(config.Config{Model: "m", Kernels: "avx2", GoMLXConfig: "x", GraphRewrite: false}, nil)
	if o.Model != "m" || o.Kernels != "avx2" || o.GoMLXConfig != "x" || !o.NoGraphRewrite {
		t.Fatalf("%+v", o)
	}
}

func TestHelpEnvironment(t *testing.T) {
	code, stdout, stderr := runCLI("", "help", "environment")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, v := range config.Vars {
		if !strings.Contains(stdout, v.Name) {
			t.Errorf("help environment lacks %s", v.Name)
		}
	}
}

// MNEMO_MAX_CONTENT's documented default is the service's own limit.
func TestMaxContentDefaultIsTheService(t *testing.T) {
	t.Setenv("MNEMO_MAX_CONTENT", "")
	cfg, err := config.FromEnv()
	if err != nil || cfg.MaxContentBytes != service.DefaultMaxContentBytes {
		t.Fatalf("config %d (%v), service %d", cfg.MaxContentBytes, err, service.DefaultMaxContentBytes)
	}
}
