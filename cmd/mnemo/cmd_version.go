package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"golang.org/x/sys/cpu"

	"github.com/mnemo-mcp/mnemo/pkg/config"
)

// version is set at build time: go build -ldflags "-X main.version=v1.2.3".
var version = "dev"

func init() {
	register(&command{
		name:    "version",
		summary: "print version, Go version, build settings and the default model",
		usage:   "",
		run:     runVersion,
	})
}

func runVersion(_ context.Context, env *runEnv, args []string) error {
	fs := newFlagSet(env, commands["version"])
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
	w := env.stdout
	fmt.Fprintf(w, "mnemo %s\n", v)
	fmt.Fprintf(w, "go            %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	exp := settings["GOEXPERIMENT"]
	switch {
	case exp == "":
		exp = "(none): portable matmul kernels"
	case strings.Contains(exp, "simd"):
		exp += ": GoMLX AVX-512 matmul kernels compiled in"
	}
	fmt.Fprintf(w, "GOEXPERIMENT  %s\n", exp)
	cgo := settings["CGO_ENABLED"]
	if cgo == "" {
		cgo = "(unknown)"
	}
	fmt.Fprintf(w, "CGO_ENABLED   %s\n", cgo)
	if runtime.GOARCH == "amd64" {
		fmt.Fprintf(w, "cpu AVX-512   %v\n", cpu.X86.HasAVX512F)
	}
	for _, k := range []string{"-tags", "GOAMD64", "vcs.revision", "vcs.time", "vcs.modified"} {
		if s, ok := settings[k]; ok && s != "" {
			fmt.Fprintf(w, "%-13s %s\n", k, s)
		}
	}
	fmt.Fprintf(w, "default model %s\n", config.DefaultModel)
	if cfg, err := config.FromEnv(); err == nil && cfg.Model != config.DefaultModel {
		fmt.Fprintf(w, "MNEMO_MODEL   %s\n", cfg.Model)
	}
	return nil
}
