// The official TypeScript SDK client (StdioClientTransport) against
// `mnemo serve`: every tool called and its structuredContent validated
// against its outputSchema, progress during a slow first recall, and a clean
// exit when the client closes.
import { test } from "node:test";
import assert from "node:assert/strict";

import { connectSDK, mnemoEnv, outputValidators, checkStructured, tempDir, BERT_TINY, MINILM } from "./lib.mjs";

const TOOLS = ["edit", "embed", "forget", "list_memories", "pin", "recall", "remember", "similarity"];

test("SDK client: every tool, structuredContent valid against outputSchema", async (t) => {
  const home = await tempDir(t);
  const srv = await connectSDK(mnemoEnv(home, { model: MINILM, extra: { MNEMO_MODEL_WAIT: "60s" } }), { cwd: home });
  const { client } = srv;
  try {
    const info = client.getServerVersion();
    assert.equal(info.name, "mnemo");
    const instructions = client.getInstructions();
    assert.ok(instructions && instructions.length < 2048 && /recall/.test(instructions), "instructions under 2 KB mentioning recall");

    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((x) => x.name).sort(), TOOLS);
    for (const tool of tools) {
      assert.ok(tool.description.length > 40, `${tool.name} has a description for the model`);
      assert.equal(tool.inputSchema.type, "object");
      assert.equal(tool.outputSchema?.type, "object", `${tool.name} has an outputSchema`);
      assert.equal(typeof tool.annotations?.readOnlyHint, "boolean", `${tool.name} annotations`);
    }
    const ann = Object.fromEntries(tools.map((x) => [x.name, x.annotations]));
    for (const ro of ["recall", "list_memories", "embed", "similarity"]) assert.equal(ann[ro].readOnlyHint, true, ro);
    assert.equal(ann.forget.destructiveHint, true);
    assert.equal(ann.remember.idempotentHint, true);
    const v = outputValidators(tools);
    const call = async (name, args) => checkStructured(v, name, await client.callTool({ name, arguments: args }, undefined, { timeout: 120_000 }));

    // Semantics matter here: MiniLM-shaped model, and recall may wait for it.
    const facts = [
      "The production database is PostgreSQL 16 running on db1.internal",
      "The user prefers concise answers without emojis",
      "Release builds are made with make release and signed with cosign",
    ];
    const ids = [];
    for (const content of facts) {
      const r = await call("remember", { content, tags: ["e2e"] });
      assert.equal(r.duplicate, false);
      ids.push(r.id);
    }
    const again = await call("remember", { content: facts[0] });
    assert.equal(again.duplicate, true);
    assert.equal(again.id, ids[0]);

    const rec = await call("recall", { query: "which database does production use", k: 2 });
    assert.equal(rec.semantic, true, `recall semantic once the model is loaded: ${JSON.stringify(rec)}`);
    assert.ok(rec.model, "recall names its model");
    assert.ok(rec.results.length >= 1 && rec.results.length <= 2);
    assert.equal(rec.results[0].id, ids[0], `best hit is the database fact: ${JSON.stringify(rec.results)}`);

    const kw = await call("recall", { query: "cosign", mode: "keyword", project: "*" });
    assert.equal(kw.mode, "keyword");
    assert.equal(kw.results[0].id, ids[2]);

    const list = await call("list_memories", { limit: 2 });
    assert.equal(list.count, 2);
    assert.equal(list.next_offset, 2);
    assert.equal(list.memories[0].id, ids[2], "newest first");

    const emb = await call("embed", { texts: ["hello world", "goodbye"] });
    assert.equal(emb.vectors.length, 2);
    assert.equal(emb.vectors[0].length, emb.dimensions);
    assert.equal(emb.dimensions, 384);
    const norm = Math.sqrt(emb.vectors[0].reduce((s, x) => s + x * x, 0));
    assert.ok(Math.abs(norm - 1) < 1e-3, `vectors are L2-normalised (norm ${norm})`);

    const sim = await call("similarity", { query: "a cat sat on the mat", candidates: ["stock markets fell sharply", "a kitten is sitting on a rug"] });
    assert.equal(sim.results.length, 2);
    assert.equal(sim.results[0].index, 1, `the paraphrase ranks first: ${JSON.stringify(sim.results)}`);
    assert.ok(sim.results[0].similarity >= sim.results[1].similarity);

    const fg = await call("forget", { ids: [ids[1]] });
    assert.deepEqual(fg.deleted, [ids[1]]);

    // Tool errors the model can act on, not protocol errors.
    const unknown = await client.callTool({ name: "forget", arguments: { id: ids[1] } });
    assert.equal(unknown.isError, true);
    assert.match(unknown.content[0].text, new RegExp(ids[1]));
    const bad = await client.callTool({ name: "recall", arguments: { query: "x", k: 500 } });
    assert.equal(bad.isError, true);
    assert.match(bad.content[0].text, /\bk\b.*between 1 and 50/); // names the argument and its range
    const wrongType = await client.callTool({ name: "embed", arguments: { texts: "not an array" } });
    assert.equal(wrongType.isError, true);
    assert.match(wrongType.content[0].text, /texts.*array/);

    // Resources.
    const { resources } = await client.listResources();
    assert.ok(resources.some((r) => r.uri === "memory://recent"));
    const { resourceTemplates } = await client.listResourceTemplates();
    assert.ok(resourceTemplates.some((r) => r.uriTemplate === "memory://{id}"));
    const one = await client.readResource({ uri: `memory://${ids[0]}` });
    assert.equal(JSON.parse(one.contents[0].text).content, facts[0]);
  } finally {
    const how = await srv.close();
    assert.deepEqual(how, { code: 0, signal: null, killed: false }, `server exit on close; stderr:\n${srv.stderr()}`);
  }
});

test("SDK client: progress notifications during a slow first recall, then an honest answer", async (t) => {
  const home = await tempDir(t);
  // A fresh process: the model starts loading at launch and the recall is
  // sent right after the handshake, with a progressToken (onprogress).
  const srv = await connectSDK(mnemoEnv(home, { model: MINILM, extra: { MNEMO_MODEL_WAIT: "30s" } }), { cwd: home });
  try {
    const progress = [];
    const res = await srv.client.callTool(
      { name: "recall", arguments: { query: "anything stored yet?" } },
      undefined,
      { onprogress: (p) => progress.push(p), timeout: 120_000, resetTimeoutOnProgress: true },
    );
    assert.equal(res.isError, undefined);
    t.diagnostic(`progress notifications during the first recall: ${progress.length}`);
    assert.ok(progress.length >= 1, "at least one progress notification while the model loads");
    for (let i = 1; i < progress.length; i++) assert.ok(progress[i].progress > progress[i - 1].progress, "progress increases");
    assert.match(progress[0].message, /model/);
    // The wait (30s) outlasts the load, so the answer is semantic.
    assert.equal(res.structuredContent.semantic, true, JSON.stringify(res.structuredContent));
  } finally {
    const how = await srv.close();
    assert.equal(how.code, 0, srv.stderr());
  }

  // With no wait allowed, a recall before the model is ready answers by
  // keyword at once and says so.
  const home2 = await tempDir(t);
  const srv2 = await connectSDK(mnemoEnv(home2, { model: MINILM, extra: { MNEMO_MODEL_WAIT: "0" } }), { cwd: home2 });
  try {
    const r = await srv2.client.callTool({ name: "recall", arguments: { query: "deploy steps" } });
    const sc = r.structuredContent;
    t.diagnostic(`recall with MNEMO_MODEL_WAIT=0 right after the handshake: semantic=${sc.semantic}`);
    if (sc.semantic === false) {
      assert.ok(sc.note && /load/.test(sc.note), `keyword-only answer says why: ${JSON.stringify(sc)}`);
      assert.match(r.content[0].text, /keyword only/);
    } else {
      // The model beat the handshake: nothing to degrade; still a valid answer.
      assert.ok(sc.model, JSON.stringify(sc));
    }
  } finally {
    assert.equal((await srv2.close()).code, 0, srv2.stderr());
  }
});

test("SDK client: clean exit (code 0, no signal) right after the handshake", async (t) => {
  const home = await tempDir(t);
  const srv = await connectSDK(mnemoEnv(home, { model: BERT_TINY }), { cwd: home });
  await srv.client.ping();
  const how = await srv.close();
  assert.deepEqual(how, { code: 0, signal: null, killed: false }, srv.stderr());
  assert.ok(!/panic|goroutine/.test(srv.stderr()), srv.stderr());
});
