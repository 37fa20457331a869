// MCP Inspector CLI (@modelcontextprotocol/inspector --cli) against
// `mnemo serve`: schemas pass its --strict portability check, a remember →
// recall round trip works across two server processes, and forgetting an
// unknown id is a tool error (the CLI's tool-error exit), not a crash.
import { test } from "node:test";
import assert from "node:assert/strict";

import { BIN, mnemoEnv, nodeBin, runAsync, tempDir } from "./lib.mjs";

function inspector(env, cwd, ...args) {
  const envFlags = Object.entries(env).flatMap(([k, v]) => ["-e", `${k}=${v}`]);
  return runAsync(nodeBin("mcp-inspector"), ["--cli", ...envFlags, BIN, "serve", ...args], {
    cwd,
    env: { ...process.env, MCP_CATALOG_PATH: `${cwd}/inspector-catalog.json` },
  });
}

function json(r) {
  try {
    return JSON.parse(r.stdout);
  } catch (e) {
    throw new Error(`inspector output is not JSON (exit ${r.code}): ${e}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  }
}

test("Inspector CLI --strict: tools/list is schema-portable", async (t) => {
  const home = await tempDir(t);
  const r = await inspector(mnemoEnv(home), home, "--strict", "--method", "tools/list");
  assert.equal(r.code, 0, `exit ${r.code} (6 = portability errors)\nstderr:\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /(Error|Warning): tool "/, "no portability findings");
  const names = json(r).tools.map((x) => x.name).sort();
  assert.deepEqual(names, ["edit", "embed", "forget", "list_memories", "pin", "recall", "remember", "similarity"]);
});

test("Inspector CLI: remember → recall round trip", async (t) => {
  const home = await tempDir(t);
  const env = mnemoEnv(home);
  const rem = await inspector(env, home, "--method", "tools/call", "--tool-name", "remember",
    "--tool-arg", "content=The staging database listens on port 5433", "--tool-arg", 'tags=["db","staging"]');
  assert.equal(rem.code, 0, rem.stderr);
  const stored = json(rem).structuredContent;
  assert.match(stored.id, /^[0-9A-HJKMNP-TV-Z]{26}$/);

  // A second server process on the same store finds it.
  const rec = await inspector(env, home, "--method", "tools/call", "--tool-name", "recall",
    "--tool-arg", "query=staging database port", "--tool-arg", "k=3");
  assert.equal(rec.code, 0, rec.stderr);
  const found = json(rec).structuredContent;
  assert.ok(found.results.some((x) => x.id === stored.id && x.tags.includes("staging")), JSON.stringify(found));

  // Resources through the Inspector too.
  const res = await inspector(env, home, "--method", "resources/read", "--uri", `memory://${stored.id}`);
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stdout, /5433/);
});

test("Inspector CLI: forgetting an unknown id is a tool error", async (t) => {
  const home = await tempDir(t);
  const r = await inspector(mnemoEnv(home), home, "--method", "tools/call", "--tool-name", "forget",
    "--tool-arg", "id=01HZY3G7Q5E2M8R9T0V1W2X3Y4");
  const out = json(r);
  assert.equal(out.isError, true, r.stdout);
  assert.match(out.content[0].text, /01HZY3G7Q5E2M8R9T0V1W2X3Y4/);
  assert.notEqual(r.code, 0, "the CLI reports the tool error in its exit status");
  assert.doesNotMatch(r.stderr, /panic/);
});
