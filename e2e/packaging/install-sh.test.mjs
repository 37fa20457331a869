// scripts/install.sh against the snapshot's archives served by a local HTTP
// server (127.0.0.1): run by dash (POSIX sh), as a user, into a throw-away
// dir; checksums are verified and a tampered archive installs nothing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";

import { ensureDir, runAsync, tempDir } from "../lib.mjs";
import { DIST, ROOT, distVersion, startStaticServer } from "./lib.mjs";

const SCRIPT = path.join(ROOT, "scripts", "install.sh");
const SH = existsSync("/bin/dash") ? "/bin/dash" : "sh";
const QEMU = process.env.QEMU_ARM64 || "qemu-aarch64-static";

function install(args, env = {}) {
  return runAsync(SH, [SCRIPT, ...args], { env: { PATH: process.env.PATH, HOME: env.HOME || "/nonexistent", ...env } });
}

test("install.sh: downloads, verifies and installs the binary for this platform and for linux/arm64", async (t) => {
  const version = distVersion();
  const srv = await startStaticServer(DIST);
  t.after(() => srv.stop());
  const home = await tempDir(t, "mnemo-install-");

  // Defaults: ~/.local/bin under HOME; version taken from SHA256SUMS.
  const r = await install(["--base-url", srv.url], { HOME: home });
  assert.equal(r.code, 0, `install.sh: ${r.stdout}\n${r.stderr}`);
  assert.match(r.stderr, /checksum verified/);
  assert.match(r.stderr, /is not on your PATH/);
  const bin = path.join(home, ".local", "bin", "mnemo");
  const v = await runAsync(bin, ["version"], { env: { HOME: home, MNEMO_HOME: path.join(home, "data") } });
  assert.equal(v.code, 0, v.stderr);
  assert.equal(v.stdout.split("\n")[0], `mnemo ${version}`);
  assert.deepEqual(readdirSync(path.dirname(bin)), ["mnemo"], "no temporary files left");

  // Again over the installed one (an upgrade), into a chosen dir, arm64.
  const dir = path.join(home, "other bin");
  const a = await install(["--dir", dir, "--base-url", `${srv.url}/`, "--arch", "arm64"], { HOME: home, MNEMO_INSTALL_DIR: "/ignored" });
  assert.equal(a.code, 0, `install.sh --arch arm64: ${a.stderr}`);
  assert.match(a.stderr, /linux_arm64/);
  const q = await runAsync(QEMU, [path.join(dir, "mnemo"), "version"], { env: { HOME: home, MNEMO_HOME: path.join(home, "data") } });
  assert.equal(q.code, 0, q.stderr);
  assert.equal(q.stdout.split("\n")[0], `mnemo ${version}`);
  assert.match(q.stdout, /linux\/arm64/);

  // The documented form: the script on stdin (curl … | sh).
  const piped = path.join(home, "piped");
  const p = spawnSync(SH, ["-s", "--", "--dir", piped, "--base-url", srv.url], {
    input: readFileSync(SCRIPT), encoding: "utf8", env: { PATH: process.env.PATH, HOME: home }, timeout: 120_000,
  });
  assert.equal(p.status, 0, `sh -s < install.sh: ${p.stderr}`);
  assert.ok(existsSync(path.join(piped, "mnemo")));
});

test("install.sh: a tampered archive or a platform without a build installs nothing", async (t) => {
  const version = distVersion();
  const work = await tempDir(t, "mnemo-install-bad-");
  const served = await ensureDir(path.join(work, "served"));
  const name = `mnemo_${version}_linux_amd64.tar.gz`;
  copyFileSync(path.join(DIST, "SHA256SUMS"), path.join(served, "SHA256SUMS"));
  const archive = readFileSync(path.join(DIST, name));
  archive[archive.length - 100] ^= 0xff;
  writeFileSync(path.join(served, name), archive);
  const srv = await startStaticServer(served);
  t.after(() => srv.stop());

  const dir = path.join(work, "bin");
  const r = await install(["--dir", dir, "--base-url", srv.url, "--os", "linux", "--arch", "amd64"]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /checksum mismatch/);
  assert.ok(!existsSync(path.join(dir, "mnemo")), "nothing installed");

  const w = await install(["--dir", dir, "--base-url", srv.url, "--os", "windows", "--arch", "amd64"]);
  assert.notEqual(w.code, 0);
  assert.match(w.stderr, /no mnemo build for windows\/amd64/);

  const missing = await install(["--dir", dir, "--base-url", `${srv.url}/nothing-here`]);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /cannot download .*SHA256SUMS/);
  assert.ok(!existsSync(path.join(dir, "mnemo")), "nothing installed");
});
