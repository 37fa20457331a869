// End to end with the real Claude Code CLI (pinned in package.json), offline:
// `mnemo install --scope user` into a throwaway HOME, then `claude -p`.
// Without credentials Claude Code stops at "Not logged in", but only after
// it has started the MCP servers and run the SessionStart and
// UserPromptSubmit hooks, which is what this test checks:
//   - stream-json init: mnemo connected, mcp__mnemo__recall among the tools;
//   - stream-json hook_response: SessionStart hook exit 0, success, with
//     mnemo's digest in its stdout;
//   - the --debug-file log: "MCP server "mnemo": Successfully connected" and
//     the UserPromptSubmit hook finished with status 0 and provided context
//     (Claude Code 2.1.332 reports UserPromptSubmit hooks only in its debug
//     log, and lists MCP tools only in the init message, not in the log).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, realpathSync, existsSync } from "node:fs";
import path from "node:path";

import { BIN, nodeBin, tempDir, mnemoEnv } from "./lib.mjs";

const MEMORY = "The doctor prescribed antibiotics for the infection.";
const PROMPT = "Which antibiotics did the doctor prescribe?";

function claudeEnv(home, data) {
  const env = { ...process.env, ...mnemoEnv(data) };
  // Never let a real credential or a project override leak in.
  for (const k of ["ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN", "CLAUDE_PROJECT_DIR", "CLAUDE_CONFIG_DIR", "MNEMO_HOOK_CAPTURE"]) {
    delete env[k];
  }
  return {
    ...env,
    HOME: home,
    PATH: `${path.dirname(nodeBin("claude"))}${path.delimiter}${process.env.PATH}`,
    DISABLE_AUTOUPDATER: "1",
    DISABLE_TELEMETRY: "1",
    DISABLE_ERROR_REPORTING: "1",
  };
}

function run(cmd, args, env, cwd) {
  const r = spawnSync(cmd, args, { env, cwd, encoding: "utf8", timeout: 120_000 });
  if (r.error) throw r.error;
  return r;
}

function jsonLines(text) {
  const out = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line));
    } catch {
      // non-JSON noise is not ours to judge
    }
  }
  return out;
}

test("claude -p connects mnemo and runs its SessionStart and UserPromptSubmit hooks", async (t) => {
  const root = await tempDir(t, "mnemo-claude-");
  const home = path.join(root, "home");
  const data = path.join(root, "data");
  const proj = path.join(root, "proj");
  for (const d of [home, data, proj]) mkdirSync(d, { recursive: true });
  const env = claudeEnv(home, data);
  const bin = realpathSync(BIN);

  let r = run(BIN, ["install", "--scope", "user"], env, proj);
  assert.equal(r.status, 0, `install failed:\n${r.stdout}\n${r.stderr}`);
  // The MNEMO_* settings in effect at install time are recorded with -e.
  assert.match(r.stdout, /ran claude mcp add --scope user mnemo (-e MNEMO_[A-Z_]+=\S+ )*-- \S+ serve/);
  assert.match(r.stdout, /-e MNEMO_HOME=\S+/);
  const settings = JSON.parse(readFileSync(path.join(home, ".claude", "settings.json"), "utf8"));
  const cmdOf = (ev) => settings.hooks[ev]?.[0]?.hooks?.[0]?.command;
  // The hooks carry the same settings, as NAME=value in front of the binary.
  const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const withEnv = (ev) => new RegExp(`^(MNEMO_[A-Z_]+=\\S+ )*${esc(bin)} hook ${ev}$`);
  assert.match(cmdOf("UserPromptSubmit"), withEnv("user-prompt-submit"));
  assert.match(cmdOf("SessionStart"), withEnv("session-start"));
  assert.ok(cmdOf("UserPromptSubmit").includes(`MNEMO_HOME=${data} `), cmdOf("UserPromptSubmit"));
  const claudeJSON = JSON.parse(readFileSync(path.join(home, ".claude.json"), "utf8"));
  assert.equal(claudeJSON.mcpServers?.mnemo?.command, bin);

  r = run(BIN, ["remember", MEMORY], env, proj);
  assert.equal(r.status, 0, `remember failed:\n${r.stderr}`);

  const debugFile = path.join(root, "claude-debug.txt");
  r = run(nodeBin("claude"), ["-p", PROMPT, "--debug-file", debugFile, "--output-format", "stream-json", "--verbose"], env, proj);
  const events = jsonLines(r.stdout);
  const log = existsSync(debugFile) ? readFileSync(debugFile, "utf8") : "";
  const context = `claude exit ${r.status}\nstdout:\n${r.stdout.slice(0, 4000)}\nstderr:\n${r.stderr.slice(0, 2000)}\ndebug log:\n${log.slice(0, 6000)}`;

  // It got as far as the API and stopped there for want of credentials.
  const result = events.find((e) => e.type === "result");
  assert.ok(result, `no result event\n${context}`);
  assert.match(String(result.result), /Not logged in|login|auth/i, context);

  const init = events.find((e) => e.type === "system" && e.subtype === "init");
  assert.ok(init, `no init event\n${context}`);
  assert.equal(init.mcp_servers.find((s) => s.name === "mnemo")?.status, "connected", context);
  assert.ok(init.tools.includes("mcp__mnemo__recall"), `mcp__mnemo__recall not among ${init.tools}`);

  const started = events.find((e) => e.subtype === "hook_response" && e.hook_event === "SessionStart");
  assert.ok(started, `no SessionStart hook response\n${context}`);
  assert.equal(started.exit_code, 0, context);
  assert.equal(started.outcome, "success", context);
  const digest = JSON.parse(started.stdout);
  assert.equal(digest.hookSpecificOutput.hookEventName, "SessionStart");
  assert.ok(digest.hookSpecificOutput.additionalContext.includes(MEMORY), started.stdout);

  assert.match(log, /MCP server "mnemo": Successfully connected/, context);
  assert.match(log, /Hooks: UserPromptSubmit \[[^\]]*hook user-prompt-submit\] finished with status 0/, context);
  assert.match(log, /Hook UserPromptSubmit \(UserPromptSubmit\) success/, context);
  assert.match(log, /Hook UserPromptSubmit \([^)]*hook user-prompt-submit\) provided additionalContext/, context);
  const injected = log.split("\n").find((l) => l.includes("Hooks: Parsed initial response") && l.includes('"UserPromptSubmit"'));
  assert.ok(injected && injected.includes(MEMORY), `UserPromptSubmit did not inject the memory\n${context}`);

  // Uninstall takes both out again.
  r = run(BIN, ["uninstall", "--scope", "user"], env, proj);
  assert.equal(r.status, 0, `uninstall failed:\n${r.stdout}\n${r.stderr}`);
  const after = JSON.parse(readFileSync(path.join(home, ".claude", "settings.json"), "utf8"));
  assert.equal(after.hooks, undefined, JSON.stringify(after));
  const claudeAfter = JSON.parse(readFileSync(path.join(home, ".claude.json"), "utf8"));
  assert.equal(claudeAfter.mcpServers?.mnemo, undefined);
});
