// Claude Code CLI (@anthropic-ai/claude-code): with a throwaway HOME and no
// login, `claude mcp add` registers `mnemo serve` and `claude mcp list`
// health-checks it as ✔ Connected.
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";

import { BIN, ensureDir, mnemoEnv, nodeBin, runAsync, tempDir } from "./lib.mjs";

test("Claude Code: claude mcp add, then claude mcp list shows mnemo ✔ Connected", async (t) => {
  const home = await tempDir(t, "mnemo-e2e-claude-");
  const project = await ensureDir(path.join(home, "project"));
  const env = {
    PATH: process.env.PATH,
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, ".config"),
    DISABLE_AUTOUPDATER: "1",
    DISABLE_TELEMETRY: "1",
    DISABLE_ERROR_REPORTING: "1",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
  };
  const claude = (...args) => runAsync(nodeBin("claude"), args, { env, cwd: project, timeout: 180_000 });

  const serverEnv = mnemoEnv(path.join(home, "mnemo"));
  const envFlags = Object.entries(serverEnv).flatMap(([k, v]) => ["-e", `${k}=${v}`]);
  const add = await claude("mcp", "add", "mnemo", ...envFlags, "--", BIN, "serve");
  assert.equal(add.code, 0, `claude mcp add: exit ${add.code}\n${add.stdout}\n${add.stderr}`);

  const list = await claude("mcp", "list");
  assert.equal(list.code, 0, `claude mcp list: exit ${list.code}\n${list.stdout}\n${list.stderr}`);
  const line = list.stdout.split("\n").find((l) => l.startsWith("mnemo:"));
  assert.ok(line, `mnemo listed:\n${list.stdout}`);
  assert.match(line, /✔ Connected/, list.stdout);
  assert.ok(line.includes(BIN), line);
});
