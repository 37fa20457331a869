package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/mnemo-mcp/mnemo/embed/kernels"
	"github.com/mnemo-mcp/mnemo/embed/kernels/vec"
	"github.com/mnemo-mcp/mnemo/pkg/config"
)

// Set at build time (GoReleaser, make build):
//
//	go build -ldflags "-X main.version=v1.2.3 -X main.commit=<sha> -X main.date=<RFC 3339>"
//
// A plain `go install …@vX.Y.Z` leaves them empty; version then comes from
// the module version and commit/date from the VCS stamp when there is one.
var (
	version = "dev"
	commit  = ""
	date    = ""
)

func init() {
	register(&command{
		name:    "version",
		summary: "print version, Go version, build settings and the default model",
		usage:   "[--json]",
		examples: []string{
			"mnemo version",
			"mnemo --version",
			"mnemo version --json | jq -r .kernels",
		},
		run: runVersion,
	})
}

// versionJSON is `mnemo version --json`.
type versionJSON struct {
	Version       string            `json:"version"`
	Commit        string            `json:"commit,omitempty"`
	Date          string            `json:"date,omitempty"`
	Go            string            `json:"go"`
	OS            string            `json:"os"`
	Arch          string            `json:"arch"`
	Kernels       string            `json:"kernels"`
	KernelsBuilt  []string          `json:"kernels_built"`
	GoMLX         string            `json:"gomlx,omitempty"`
	GoMLXVerified bool              `json:"gomlx_verified"`
	Build         map[string]string `json:"build"`
	DefaultModel  string            `json:"default_model"`
	Model         string            `json:"model,omitempty"`
}

func runVersion(_ context.Context, env *runEnv, args []string) error {
	fs := newFlagSet(env, commands["version"])
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErr(env, "version takes no arguments")
	}
	v := version
	settings := map[string]string{}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version // go install …@vX.Y.Z
		}
		for _, s := range bi.Settings {
			settings[s.Key] = s.Value
		}
	}
	c, d := commit, date
	if c == "" {
		c = settings["vcs.revision"]
	}
	if d == "" {
		d = settings["vcs.time"]
	}
	cfg, cfgErr := config.FromEnv() // version reports what it can even then
	gomlx, gomlxErr := kernels.GoMLX()
	cgo := settings["CGO_ENABLED"]
	if cgo == "" {
		cgo = "(unknown)"
	}
	buildKeys := []string{"-tags", "GOEXPERIMENT", "GOAMD64", "GOARM64", "vcs.modified"}
	model := ""
	if cfgErr == nil && cfg.Model != config.DefaultModel {
		model = cfg.Model
	}
	if *asJSON {
		build := map[string]string{"CGO_ENABLED": cgo}
		for _, k := range buildKeys {
			if s := settings[k]; s != "" {
				build[k] = s
			}
		}
		return writeJSONLine(env.stdout, versionJSON{Version: v, Commit: c, Date: d, Go: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH,
			Kernels: kernelLine(cfg.Kernels), KernelsBuilt: vec.Built(), GoMLX: gomlx, GoMLXVerified: gomlxErr == nil,
			Build: build, DefaultModel: config.DefaultModel, Model: model})
	}
	w := env.stdout
	fmt.Fprintf(w, "mnemo %s\n", v)
	if c != "" {
		fmt.Fprintf(w, "commit        %s\n", c)
	}
	if d != "" {
		fmt.Fprintf(w, "date          %s\n", d)
	}
	fmt.Fprintf(w, "go            %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(w, "kernels       %s (built: %s)\n", kernelLine(cfg.Kernels), strings.Join(vec.Built(), ", "))
	if gomlx != "" {
		ok := "verified"
		if gomlxErr != nil {
			ok = "NOT verified, simplego's own kernels: " + gomlxErr.Error()
		}
		fmt.Fprintf(w, "GoMLX         %s, %s\n", gomlx, ok)
	}
	fmt.Fprintf(w, "CGO_ENABLED   %s\n", cgo)
	for _, k := range buildKeys {
		if s, ok := settings[k]; ok && s != "" {
			fmt.Fprintf(w, "%-13s %s\n", k, s)
		}
	}
	fmt.Fprintf(w, "default model %s\n", config.DefaultModel)
	if model != "" {
		fmt.Fprintf(w, "MNEMO_MODEL   %s\n", model)
	}
	return nil
}

// kernelLine says which kernel set this CPU runs, and the cap
// MNEMO_KERNELS puts on it.
func kernelLine(v string) string {
	best := vec.Best()
	switch v {
	case "", "auto":
		return best + " on this CPU"
	case "off":
		return "simplego's own (MNEMO_KERNELS=off; this CPU runs " + best + ")"
	default:
		return v + " (MNEMO_KERNELS; this CPU runs " + best + ")"
	}
}
