// Shared helpers of the end-to-end tests: they drive the real `mnemo` binary
// ($MNEMO_BIN) with real third-party MCP clients, each test on a fresh data
// dir, offline, with the small test models from $MNEMO_TEST_MODELS.
import { spawn, spawnSync } from "node:child_process";
import { mkdtemp, mkdir, rm } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { Ajv } from "ajv";

export const E2E_DIR = path.dirname(fileURLToPath(import.meta.url));
export const BIN = process.env.MNEMO_BIN;
if (!BIN || !existsSync(BIN)) {
  throw new Error(`MNEMO_BIN must name the built mnemo binary (got ${JSON.stringify(BIN)}); run via e2e/run.sh or make test-e2e`);
}
export const MODELS = process.env.MNEMO_TEST_MODELS || path.resolve(E2E_DIR, "..", "..", "shared", "models");
export const BERT_TINY = "bert-tiny-synthetic";
export const MINILM = "minilm-l6-synthetic";

export function modelDir(name) {
  const dir = path.join(MODELS, name);
  if (!existsSync(path.join(dir, "model.onnx"))) {
    throw new Error(`test model ${name} not found at ${dir} (set MNEMO_TEST_MODELS)`);
  }
  return dir;
}

export function nodeBin(name) {
  return path.join(E2E_DIR, "node_modules", ".bin", name);
}

/** A fresh temporary directory, removed when the test ends. */
export async function tempDir(t, prefix = "mnemo-e2e-") {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** The environment of a mnemo process on data dir `home`. */
export function mnemoEnv(home, { model = BERT_TINY, extra = {} } = {}) {
  return {
    MNEMO_HOME: home,
    MNEMO_CACHE: path.join(home, "cache"),
    MNEMO_MODEL: modelDir(model),
    MNEMO_OFFLINE: "1",
    MNEMO_LOG_LEVEL: "warn",
    ...extra,
  };
}

/** Runs a mnemo CLI command to completion. */
export function mnemo(args, env, opts = {}) {
  const r = spawnSync(BIN, args, { env: { ...process.env, ...env }, encoding: "utf8", timeout: 120_000, ...opts });
  if (r.error) throw r.error;
  return r;
}

/**
 * Starts `mnemo serve` through the SDK's StdioClientTransport and connects
 * an SDK Client. Returns { client, transport, stderr(), close() } where
 * close() reports how the server process ended.
 */
export async function connectSDK(env, { cwd, name = "mnemo-e2e" } = {}) {
  const transport = new StdioClientTransport({
    command: BIN,
    args: ["serve"],
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    cwd,
    stderr: "pipe",
  });
  let stderr = "";
  transport.stderr?.on("data", (d) => { stderr += d; });
  const client = new Client({ name, version: "1.0.0" }, { capabilities: {} });
  await client.connect(transport);
  // The transport keeps the child private; keep a handle to see how it exits.
  const child = transport._process;
  const exited = new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once("exit", (code, signal) => resolve({ code, signal }));
  });
  return {
    client,
    transport,
    stderr: () => stderr,
    /** Closes the client (stdin EOF); resolves to {code, signal, killed}. */
    async close() {
      let killed = false;
      const kill = child.kill.bind(child);
      child.kill = (sig) => { killed = true; return kill(sig); }; // the SDK escalates to signals only if EOF did not end the server
      await client.close();
      const how = await exited;
      return { ...how, killed };
    },
  };
}

/** Compiles every tool's outputSchema with ajv in strict mode. */
export function outputValidators(tools) {
  const ajv = new Ajv({ strict: true, allErrors: true });
  const out = {};
  for (const tool of tools) {
    if (!tool.outputSchema) throw new Error(`tool ${tool.name} has no outputSchema`);
    out[tool.name] = ajv.compile(tool.outputSchema);
  }
  return out;
}

/** Asserts structuredContent validates; returns it. */
export function checkStructured(validators, name, result) {
  if (result.isError) {
    throw new Error(`${name}: unexpected tool error: ${JSON.stringify(result.content)}`);
  }
  const sc = result.structuredContent;
  if (!sc) throw new Error(`${name}: no structuredContent`);
  const validate = validators[name];
  if (!validate(sc)) {
    throw new Error(`${name}: structuredContent does not match outputSchema: ${JSON.stringify(validate.errors)}\n${JSON.stringify(sc)}`);
  }
  if (!result.content?.some((c) => c.type === "text" && c.text)) {
    throw new Error(`${name}: no text content for clients that ignore structuredContent`);
  }
  return sc;
}

/** Runs a command asynchronously, collecting output. */
export function runAsync(cmd, args, { env, cwd, timeout = 120_000 } = {}) {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { env, cwd, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "", stderr = "";
    p.stdout.on("data", (d) => { stdout += d; });
    p.stderr.on("data", (d) => { stderr += d; });
    const timer = setTimeout(() => p.kill("SIGKILL"), timeout);
    p.on("error", reject);
    p.on("close", (code, signal) => { clearTimeout(timer); resolve({ code, signal, stdout, stderr }); });
  });
}

export async function ensureDir(dir) {
  await mkdir(dir, { recursive: true });
  return dir;
}
