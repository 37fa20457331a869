// Helpers of the packaging tests: the GoReleaser dist/ under test, a local
// npm registry (verdaccio) and a static HTTP server, both on loopback only.
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

export const PACKAGING_DIR = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(PACKAGING_DIR, "..", "..");
export const DIST = path.resolve(process.env.MNEMO_DIST || path.join(ROOT, "dist"));

/** GoReleaser's version of the dist under test. */
export function distVersion() {
  const meta = path.join(DIST, "metadata.json");
  if (!existsSync(meta)) throw new Error(`${meta} missing: run make release-snapshot first`);
  return JSON.parse(readFileSync(meta, "utf8")).version;
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function waitFor(url, child, what, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} did not answer ${url} within ${timeoutMs} ms`);
}

/**
 * Starts verdaccio on 127.0.0.1 with its own config and storage in dir and
 * no uplink (nothing is fetched from the internet), creates a user and
 * writes an npmrc that points npm at it. Returns { url, npmrc, stop() }.
 */
export async function startRegistry(dir) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  const config = path.join(dir, "verdaccio.yaml");
  await writeFile(config, [
    `storage: ${JSON.stringify(path.join(dir, "storage"))}`,
    "auth:",
    "  htpasswd:",
    `    file: ${JSON.stringify(path.join(dir, "htpasswd"))}`,
    "uplinks: {}",
    // A platform package is ~10 MB gzipped: above verdaccio's 10mb default.
    "max_body_size: 200mb",
    "packages:",
    "  '**':",
    "    access: $all",
    "    publish: $authenticated",
    "    unpublish: $authenticated",
    "server:",
    "  keepAliveTimeout: 60",
    "log: { type: stdout, format: pretty, level: warn }",
    "",
  ].join("\n"));
  const bin = path.join(PACKAGING_DIR, "node_modules", ".bin", "verdaccio");
  const child = spawn(bin, ["--config", config, "--listen", `127.0.0.1:${port}`], {
    cwd: dir, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, VERDACCIO_APPDIR: dir },
  });
  let log = "";
  child.stdout.on("data", (d) => { log += d; });
  child.stderr.on("data", (d) => { log += d; });
  const stop = () => new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", resolve);
    child.kill("SIGTERM");
  });
  try {
    await waitFor(`${url}-/ping`, child, "verdaccio");
    const r = await fetch(`${url}-/user/org.couchdb.user:ci`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "ci", password: "ci-password-not-secret" }),
    });
    const body = await r.json();
    if (!r.ok || !body.token) throw new Error(`verdaccio: create user: ${r.status} ${JSON.stringify(body)}`);
    const npmrc = path.join(dir, "npmrc");
    await writeFile(npmrc, `registry=${url}\n//127.0.0.1:${port}/:_authToken=${body.token}\n`);
    return { url, npmrc, stop, log: () => log };
  } catch (err) {
    await stop();
    throw new Error(`${err.message}\n${log}`);
  }
}

/** Serves dir over HTTP on 127.0.0.1 (python3 -m http.server). */
export async function startStaticServer(dir) {
  const port = await freePort();
  const child = spawn("python3", ["-m", "http.server", String(port), "--bind", "127.0.0.1", "--directory", dir], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let log = "";
  child.stderr.on("data", (d) => { log += d; });
  const url = `http://127.0.0.1:${port}`;
  const stop = () => new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", resolve);
    child.kill("SIGTERM");
  });
  try {
    await waitFor(`${url}/`, child, "python3 -m http.server");
  } catch (err) {
    await stop();
    throw new Error(`${err.message}\n${log}`);
  }
  return { url, stop, log: () => log };
}

/**
 * Milliseconds from spawning `command args` to the MCP initialize result,
 * through the official SDK client, then closes it.
 */
export async function handshakeMs(command, args, env) {
  const t0 = performance.now();
  const transport = new StdioClientTransport({ command, args, env, stderr: "pipe" });
  const client = new Client({ name: "mnemo-packaging", version: "1.0.0" }, { capabilities: {} });
  await client.connect(transport);
  const ms = performance.now() - t0;
  await client.close();
  return ms;
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
