// The npm packages built from the snapshot (scripts/npm-pack.mjs), for real:
// published to a local verdaccio on loopback, installed with `npm i -g` into
// a throw-away prefix, run, registered with Claude Code by `mnemo install`
// (→ `claude mcp list` shows ✔ Connected), and run through `npx -y`. Also
// measures what the npm launcher and npx add to an MCP handshake.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, realpathSync, renameSync } from "node:fs";
import path from "node:path";

import { ensureDir, mnemoEnv, nodeBin, runAsync, tempDir } from "../lib.mjs";
import { DIST, ROOT, distVersion, handshakeMs, median, startRegistry } from "./lib.mjs";

const SCOPE = "@mnemo-mcp";
const MAIN = `${SCOPE}/mnemo`;
const HANDSHAKES = Number(process.env.MNEMO_NPX_RUNS || 7);

test("npm: publish to a local registry, npm i -g, mnemo install, claude mcp list ✔ Connected, npx", async (t) => {
  const version = distVersion();
  const work = await tempDir(t, "mnemo-npm-");
  const out = path.join(work, "npm");
  const pack = await runAsync("node", [path.join(ROOT, "scripts", "npm-pack.mjs"), "--dist", DIST, "--out", out, "--scope", SCOPE]);
  assert.equal(pack.code, 0, `npm-pack: ${pack.stdout}\n${pack.stderr}`);
  const tarballs = readdirSync(out).filter((f) => f.endsWith(".tgz"));
  assert.equal(tarballs.length, 6, `5 platform packages + the main one: ${tarballs}`);

  const reg = await startRegistry(await ensureDir(path.join(work, "registry")));
  t.after(() => reg.stop());
  const home = await ensureDir(path.join(work, "home"));
  const npmEnv = {
    PATH: process.env.PATH,
    HOME: home,
    npm_config_userconfig: reg.npmrc,
    npm_config_registry: reg.url,
    npm_config_cache: path.join(work, "npm-cache"),
    npm_config_update_notifier: "false",
    npm_config_fund: "false",
    npm_config_audit: "false",
  };
  const npm = (args, opts = {}) => runAsync("npm", args, { env: npmEnv, timeout: 300_000, ...opts });

  // Platform packages first: the main package's optionalDependencies name them.
  const order = [...tarballs.filter((f) => !/^mnemo-mcp-mnemo-\d/.test(f)), ...tarballs.filter((f) => /^mnemo-mcp-mnemo-\d/.test(f))];
  assert.match(order.at(-1), /^mnemo-mcp-mnemo-\d/);
  for (const f of order) {
    const r = await npm(["publish", path.join(out, f), "--tag", "latest"]);
    assert.equal(r.code, 0, `npm publish ${f}: ${r.stdout}\n${r.stderr}\n${reg.log()}`);
  }
  const view = await npm(["view", MAIN, "--json"]);
  assert.equal(view.code, 0, view.stderr);
  const meta = JSON.parse(view.stdout);
  assert.equal(meta.version, version);
  assert.deepEqual(Object.keys(meta.optionalDependencies).sort(),
    ["darwin-arm64", "darwin-x64", "linux-arm64", "linux-x64", "win32-x64"].map((p) => `${SCOPE}/mnemo-${p}`));

  // npm i -g into a throw-away prefix: only this platform's binary arrives.
  const prefix = path.join(work, "prefix");
  const inst = await npm(["i", "-g", "--prefix", prefix, MAIN]);
  assert.equal(inst.code, 0, `npm i -g: ${inst.stdout}\n${inst.stderr}`);
  // A global package keeps its dependencies in its own node_modules.
  const mainDir = path.join(prefix, "lib", "node_modules", SCOPE, "mnemo");
  const depsDir = path.join(mainDir, "node_modules", SCOPE);
  assert.deepEqual(readdirSync(depsDir), ["mnemo-linux-x64"], `optional dependencies installed under ${depsDir}`);
  const shim = path.join(prefix, "bin", "mnemo");
  const nativeBin = path.join(depsDir, "mnemo-linux-x64", "bin", "mnemo");

  const data = await ensureDir(path.join(work, "data"));
  const env = {
    ...npmEnv,
    // claude from e2e/node_modules; the installed mnemo first on PATH.
    PATH: [path.join(prefix, "bin"), path.dirname(nodeBin("claude")), process.env.PATH].join(path.delimiter),
    XDG_CONFIG_HOME: path.join(home, ".config"),
    DISABLE_AUTOUPDATER: "1",
    DISABLE_TELEMETRY: "1",
    DISABLE_ERROR_REPORTING: "1",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    ...mnemoEnv(data),
  };
  const ver = await runAsync(shim, ["version"], { env });
  assert.equal(ver.code, 0, ver.stderr);
  assert.equal(ver.stdout.split("\n")[0], `mnemo ${version}`);
  assert.match(ver.stdout, /^CGO_ENABLED +0$/m);
  // The launcher passes the exit code through.
  const bad = await runAsync(shim, ["no-such-command"], { env });
  assert.notEqual(bad.code, 0);

  // mnemo install registers the native binary itself (no Node in between).
  const project = await ensureDir(path.join(home, "project"));
  const mi = await runAsync(shim, ["install"], { env, cwd: project, timeout: 180_000 });
  assert.equal(mi.code, 0, `mnemo install: ${mi.stdout}\n${mi.stderr}`);
  const list = await runAsync(nodeBin("claude"), ["mcp", "list"], { env, cwd: project, timeout: 180_000 });
  assert.equal(list.code, 0, `claude mcp list: ${list.stdout}\n${list.stderr}`);
  const line = list.stdout.split("\n").find((l) => l.startsWith("mnemo:"));
  assert.ok(line, `mnemo listed:\n${list.stdout}`);
  assert.match(line, /✔ Connected/, list.stdout);
  assert.ok(line.includes(realpathSync(nativeBin)), `registered the native binary ${nativeBin}: ${line}`);

  // npx -y with an empty npx cache: fetches from the registry, runs.
  const npx = (args) => runAsync("npx", ["-y", `${MAIN}@${version}`, ...args], { env, timeout: 300_000 });
  const nv = await npx(["version"]);
  assert.equal(nv.code, 0, `npx: ${nv.stdout}\n${nv.stderr}`);
  assert.equal(nv.stdout.split("\n")[0], `mnemo ${version}`);

  // What each way of starting the server costs before `initialize` is
  // answered (cold process, model not loaded; the npx cache is warm now, the
  // registry is on loopback, so real npx is slower by a registry round trip).
  const serveEnv = { ...env };
  const forms = {
    "native binary": [nativeBin, ["serve"]],
    "npm launcher (mnemo on PATH)": [shim, ["serve"]],
    "npx -y": ["npx", ["-y", `${MAIN}@${version}`, "serve"]],
  };
  const medians = {};
  for (const [name, [cmd, args]] of Object.entries(forms)) {
    await handshakeMs(cmd, args, serveEnv); // warm the page cache
    const xs = [];
    for (let i = 0; i < HANDSHAKES; i++) xs.push(await handshakeMs(cmd, args, serveEnv));
    medians[name] = median(xs);
  }
  const base = medians["native binary"];
  const report = Object.entries(medians)
    .map(([n, m]) => `${n}: median ${m.toFixed(0)} ms (+${(m - base).toFixed(0)} ms)`).join("; ");
  t.diagnostic(`MCP handshake, ${HANDSHAKES} runs each: ${report}`);
  console.log(`# npx-overhead ${JSON.stringify(medians)}`);
  assert.ok(existsSync(nativeBin));

  // Installed without optional dependencies: the launcher says what to do.
  renameSync(path.join(depsDir, "mnemo-linux-x64"), path.join(work, "moved-away"));
  const missing = await runAsync(shim, ["version"], { env });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /--omit=optional/);
});
