// 16 `mnemo serve` processes started at the same moment on one fresh store,
// each remembering 10 memories and recalling one of its own: all succeed and
// all 160 rows are there afterwards.
import { test } from "node:test";
import assert from "node:assert/strict";

import { connectSDK, mnemo, mnemoEnv, outputValidators, checkStructured, tempDir } from "./lib.mjs";

const PROCESSES = 16;
const EACH = 10;

test(`${PROCESSES} concurrent servers × ${EACH} memories on one fresh store`, async (t) => {
  const home = await tempDir(t);
  const env = mnemoEnv(home);

  async function worker(p) {
    const srv = await connectSDK(env, { cwd: home, name: `worker-${p}` });
    try {
      const { tools } = await srv.client.listTools();
      const v = outputValidators(tools);
      const ids = [];
      for (let i = 0; i < EACH; i++) {
        const r = await srv.client.callTool({
          name: "remember",
          arguments: { content: `worker ${p} memory ${i}: token w${p}m${i}x about topic ${(p * EACH + i) % 7}`, tags: [`w${p}`] },
        }, undefined, { timeout: 120_000 });
        ids.push(checkStructured(v, "remember", r).id);
      }
      const mine = (p * 3) % EACH;
      const rec = checkStructured(v, "recall", await srv.client.callTool({
        name: "recall", arguments: { query: `w${p}m${mine}x`, k: 5, project: "*" },
      }, undefined, { timeout: 120_000 }));
      assert.ok(rec.results.some((x) => x.id === ids[mine]), `worker ${p} recalls its own memory ${mine}: ${JSON.stringify(rec)}`);
      return { ids, exit: await srv.close(), stderr: srv.stderr() };
    } catch (e) {
      await srv.close();
      e.message += `\nworker ${p} stderr:\n${srv.stderr()}`;
      throw e;
    }
  }

  const results = await Promise.allSettled(Array.from({ length: PROCESSES }, (_, p) => worker(p)));
  const failed = results.filter((r) => r.status === "rejected");
  assert.equal(failed.length, 0, failed.map((r) => String(r.reason?.stack || r.reason)).join("\n---\n"));
  for (const [p, r] of results.entries()) {
    assert.equal(r.value.exit.code, 0, `worker ${p} exit: ${JSON.stringify(r.value.exit)}\n${r.value.stderr}`);
  }
  const ids = new Set(results.flatMap((r) => r.value.ids));
  assert.equal(ids.size, PROCESSES * EACH, "every remember got its own id");

  // Count through the CLI: a separate process reading the same store.
  const stats = mnemo(["stats", "--json"], env);
  assert.equal(stats.status, 0, stats.stderr);
  assert.equal(JSON.parse(stats.stdout).total, PROCESSES * EACH, stats.stdout);
  const list = mnemo(["list", "--all", "--json", "--limit", "200"], env);
  assert.equal(list.status, 0, list.stderr);
  const listed = new Set(list.stdout.trim().split("\n").map((l) => JSON.parse(l).id));
  for (const id of ids) assert.ok(listed.has(id), `memory ${id} is in the store`);
});
