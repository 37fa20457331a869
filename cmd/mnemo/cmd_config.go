package main

import (
	"context"
	"fmt"
	"os"

	"github.com/mnemo-mcp/mnemo/pkg/config"
)

func init() {
	register(&command{
		name:    "config",
		summary: "print the effective settings and where each came from (environment, config file, default)",
		usage:   "[--json]",
		details: `The config file holds "key = value" lines (flat TOML) for the MNEMO_* variables,
named with or without MNEMO_ and in any case; a variable set in the environment
overrides the file. It is MNEMO_CONFIG, or ~/.config/mnemo/config.toml
(macOS: ~/Library/Application Support/mnemo/config.toml, Windows:
%AppData%\mnemo\config.toml). For example:

  model = "/models/all-MiniLM-L6-v2"
  offline = 1
  log_level = "debug"`,
		examples: []string{
			"mnemo config                         # every setting, its value and its source",
			"mnemo config --json | jq -r '.settings[] | select(.source != \"default\") | .name'",
			"MNEMO_CONFIG=./team.toml mnemo config",
		},
		run: runConfig,
	})
}

// configJSON is `mnemo config --json`.
type configJSON struct {
	File       string           `json:"file"`
	FileExists bool             `json:"file_exists"`
	Settings   []config.Setting `json:"settings"`
}

func runConfig(_ context.Context, env *runEnv, args []string) error {
	fs := newFlagSet(env, commands["config"])
	asJSON := fs.Bool("json", false, "print one JSON object: the file and every setting with its value and source")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErr(env, "config takes no arguments")
	}
	cfg, settings, err := config.Effective()
	if err != nil {
		return err
	}
	exists := false
	if cfg.ConfigFile != "" {
		if st, err := os.Stat(cfg.ConfigFile); err == nil && st.Mode().IsRegular() {
			exists = true
		}
	}
	for i, s := range settings {
		settings[i].Value = config.MaskCredential(s.Name, s.Value)
	}
	if *asJSON {
		return writeJSONLine(env.stdout, configJSON{File: cfg.ConfigFile, FileExists: exists, Settings: settings})
	}
	switch {
	case cfg.ConfigFile == "":
		fmt.Fprintln(env.stdout, "config file: none (no home folder; set MNEMO_CONFIG)")
	case exists:
		fmt.Fprintf(env.stdout, "config file: %s\n", cfg.ConfigFile)
	default:
		fmt.Fprintf(env.stdout, "config file: %s (none there; create it to set what the environment does not)\n", cfg.ConfigFile)
	}
	fmt.Fprintln(env.stdout)
	tw := newTable(env.stdout)
	fmt.Fprintln(tw, "SETTING\tVALUE\tSOURCE")
	for _, s := range settings {
		v := s.Value
		if v == "" {
			v = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Name, v, s.Source)
	}
	return tw.Flush()
}
