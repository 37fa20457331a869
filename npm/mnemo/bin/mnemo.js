#!/usr/bin/env node
// The `mnemo` command of the npm package: finds the native binary that npm
// installed as one of this package's optionalDependencies (only the one
// matching this platform installs, by its "os"/"cpu" fields) and runs it
// with the same arguments and stdio. No post-install download, no network.
//
// `mnemo install` registers the native binary itself with Claude Code (it
// resolves its own path), so MCP sessions start without Node in between.
"use strict";

const { spawn } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

function fail(msg) {
  process.stderr.write(`mnemo (npm): ${msg}\n`);
  process.exit(1);
}

function binaryPath() {
  const override = process.env.MNEMO_BINARY_PATH;
  if (override) return override;
  const pkg = require("../package.json");
  const suffix = `-${process.platform}-${process.arch}`;
  const names = Object.keys(pkg.optionalDependencies || {});
  const name = names.find((n) => n.endsWith(suffix));
  if (!name) {
    const supported = names.map((n) => n.slice(n.lastIndexOf("/") + 1).replace(/^mnemo-/, "")).join(", ");
    fail(`no prebuilt binary for ${process.platform}/${process.arch} (built for: ${supported}). ` +
      "Build from source instead: CGO_ENABLED=0 go install github.com/mnemo-mcp/mnemo/cmd/mnemo@latest");
  }
  const exe = process.platform === "win32" ? "mnemo.exe" : "mnemo";
  let bin;
  try {
    bin = require.resolve(`${name}/bin/${exe}`);
  } catch {
    fail(`the package ${name}@${pkg.version} that holds the binary for this platform is not installed. ` +
      "npm skips optional dependencies with --omit=optional (or --no-optional); reinstall without it: " +
      `npm i -g ${pkg.name}`);
  }
  if (process.platform !== "win32") {
    try {
      fs.accessSync(bin, fs.constants.X_OK);
    } catch {
      try { fs.chmodSync(bin, 0o755); } catch { /* spawn reports it */ }
    }
  }
  return bin;
}

const bin = binaryPath();
const child = spawn(bin, process.argv.slice(2), { stdio: "inherit", windowsHide: true });
// Signals meant for mnemo (Ctrl-C, a client stopping its server) reach it;
// the shim then exits the way mnemo did.
const forward = (sig) => () => { try { child.kill(sig); } catch { /* gone */ } };
const signals = ["SIGINT", "SIGTERM", "SIGHUP"];
const handlers = signals.map((s) => [s, forward(s)]);
for (const [s, h] of handlers) process.on(s, h);
child.on("error", (err) => fail(`cannot run ${bin}: ${err.message}`));
child.on("exit", (code, signal) => {
  for (const [s, h] of handlers) process.off(s, h);
  if (signal) {
    process.kill(process.pid, signal);
    return;
  }
  process.exit(code ?? 1);
});
