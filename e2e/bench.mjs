#!/usr/bin/env node
// Benchmarks of `mnemo serve` as a client sees it (not a test: nothing is
// asserted; numbers go to docs/mcp-bench.md).
//
//   MNEMO_BIN=$PWD/bin/mnemo node e2e/bench.mjs [--runs 15] [--queries 50] [--sizes 1000,10000] [--model minilm-l6-synthetic] [--keep DIR] [--recall-only]
//
// --keep DIR keeps each size's store in DIR/<size> and reuses it on the next
// run (importing 100k memories takes minutes), so two binaries can be
// compared on the same store; --recall-only skips the handshake part.
//
// 1. Handshake: spawn `mnemo serve`, write `initialize` at once, time until its
//    answer (and until tools/list is answered), over several cold starts. The
//    model is never loaded yet at that point: it loads in the background.
// 2. Recall latency end to end through the TypeScript SDK client
//    (StdioClientTransport) on stores of 1k and 10k memories, after the model
//    is ready and has had two quiet seconds (as a session's server has): median
//    / p90 / p99 over distinct queries.
import { spawn } from "node:child_process";
import { access, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";

import { BIN, connectSDK, mnemo, mnemoEnv, MINILM } from "./lib.mjs";

const { values: opt } = parseArgs({
  options: {
    runs: { type: "string", default: "15" },
    queries: { type: "string", default: "50" },
    sizes: { type: "string", default: "1000,10000" },
    model: { type: "string", default: MINILM },
    keep: { type: "string" },
    "recall-only": { type: "boolean", default: false },
  },
});
const RUNS = Number(opt.runs);
const QUERIES = Number(opt.queries);
const SIZES = opt.sizes.split(",").map(Number).filter(Boolean);

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { n: s.length, min: s[0], median: q(0.5), p90: q(0.9), p99: q(0.99), max: s[s.length - 1] };
};
const fmt = (st) => `median ${st.median.toFixed(1)} ms · p90 ${st.p90.toFixed(1)} · p99 ${st.p99.toFixed(1)} · min ${st.min.toFixed(1)} · max ${st.max.toFixed(1)} (n=${st.n})`;

async function tempHome() {
  return mkdtemp(path.join(tmpdir(), "mnemo-bench-"));
}

// One cold start: ms from spawn to the initialize answer and to tools/list.
function handshakeOnce(env) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const p = spawn(BIN, ["serve"], { env: { ...process.env, ...env }, stdio: ["pipe", "pipe", "ignore"] });
    let buf = "", init = 0;
    p.on("error", reject);
    p.stdout.on("data", (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const msg = JSON.parse(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        if (msg.id === 1) {
          init = performance.now() - t0;
          p.stdin.write(JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }) + "\n");
          p.stdin.write(JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" }) + "\n");
        } else if (msg.id === 2) {
          const tools = performance.now() - t0;
          p.stdin.end();
          p.on("close", () => resolve({ init, tools }));
        }
      }
    });
    p.stdin.write(JSON.stringify({
      jsonrpc: "2.0", id: 1, method: "initialize",
      params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "bench", version: "0" } },
    }) + "\n");
  });
}

async function benchHandshake(label, envFor) {
  const init = [], tools = [];
  for (let i = 0; i < RUNS; i++) {
    const { env, cleanup } = await envFor();
    const r = await handshakeOnce(env);
    init.push(r.init);
    tools.push(r.tools);
    await cleanup?.();
  }
  console.log(`handshake, ${label}: initialize ${fmt(stats(init))}`);
  console.log(`handshake, ${label}: tools/list  ${fmt(stats(tools))}`);
  return { init: stats(init), tools: stats(tools) };
}

const WORDS = ("deploy build database cache index query latency server client token model vector memory project config " +
  "release branch commit review test bench kernel thread process signal socket network disk backup restore schema " +
  "migration user preference editor terminal shell script python golang rust docker cluster node pod secret key").split(" ");

function sentence(i) {
  // Deterministic, varied sentences so that rankings have work to do.
  let x = (i * 2654435761) >>> 0;
  const w = [];
  for (let k = 0; k < 12; k++) {
    x = (x * 1103515245 + 12345) >>> 0;
    w.push(WORDS[x % WORDS.length]);
  }
  return `Note ${i}: the ${w[0]} ${w[1]} uses ${w[2]} ${w[3]} because ${w[4]} ${w[5]} ${w[6]}; remember ${w[7]} ${w[8]} for ${w[9]} ${w[10]} ${w[11]}.`;
}

// The model's id and dimension, as the server reports them (embed tool).
let modelInfo;
async function getModelInfo(env, cwd) {
  if (modelInfo) return modelInfo;
  const srv = await connectSDK(env, { cwd, name: "bench-probe" });
  try {
    const r = await srv.client.callTool({ name: "embed", arguments: { texts: ["probe"] } }, undefined, { timeout: 300_000 });
    if (r.isError) throw new Error(`embed: ${JSON.stringify(r.content)}`);
    modelInfo = { model: r.structuredContent.model, dims: r.structuredContent.dimensions };
    return modelInfo;
  } finally {
    await srv.close();
  }
}

// Deterministic pseudo-random unit vectors stand in for the stored
// embeddings: a search costs the same whatever the values, and embedding 10k
// texts with the pure-Go engine would take the bench most of an hour.
function unitVector(i, dims) {
  let x = (i * 2246822519 + 3266489917) >>> 0;
  const v = new Array(dims);
  let n = 0;
  for (let k = 0; k < dims; k++) {
    x = (x * 1664525 + 1013904223) >>> 0;
    v[k] = x / 4294967296 - 0.5;
    n += v[k] * v[k];
  }
  n = Math.sqrt(n);
  return v.map((y) => Math.round((y / n) * 1e6) / 1e6);
}

async function populate(home, env, n) {
  const { model, dims } = await getModelInfo(env, home);
  const file = path.join(home, "seed.jsonl");
  const lines = [];
  for (let i = 0; i < n; i++) {
    lines.push(JSON.stringify({ content: sentence(i), project: "bench", tags: [WORDS[i % WORDS.length]], vector: unitVector(i, dims), model, dims }));
  }
  await writeFile(file, lines.join("\n") + "\n");
  const t0 = performance.now();
  const r = mnemo(["import", file], env, { timeout: 3_600_000 });
  if (r.status !== 0) throw new Error(`import: ${r.stderr}`);
  console.log(`store of ${n} (vectors of ${model}, ${dims} dims): import ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

async function benchRecall(n) {
  const home = opt.keep ? path.resolve(opt.keep, String(n)) : await tempHome();
  try {
    const env = mnemoEnv(home, { model: opt.model, extra: { MNEMO_MODEL_WAIT: "120s", MNEMO_LOG_LEVEL: "error" } });
    const done = path.join(home, ".populated");
    if (!opt.keep || !(await access(done).then(() => true, () => false))) {
      await mkdir(home, { recursive: true });
      await populate(home, env, n);
      if (opt.keep) await writeFile(done, "");
    } else {
      console.log(`store of ${n}: reused from ${home}`);
    }
    const srv = await connectSDK(env, { cwd: home, name: "bench" });
    try {
      const call = (args) => srv.client.callTool({ name: "recall", arguments: args }, undefined, { timeout: 300_000 });
      // Warm: the first recall waits for the model and loads the index.
      const warm = await call({ query: "warm up", project: "*" });
      if (!warm.structuredContent.semantic) throw new Error(`model not ready: ${JSON.stringify(warm.structuredContent)}`);
      // A session's server sits idle for a while after it starts (the
      // user is typing), and in that time it compiles the graphs of short
      // queries (embed/precompile.go): only a quiet moment lets it, and
      // the queries below come back to back. Without this pause the first
      // query of each length pays a compile, a start-up cost.
      await new Promise((r) => setTimeout(r, 2000));
      // Modes interleaved query by query, so that none is favoured by what
      // ran before it, and each with its own query texts: the engine caches
      // query embeddings, so a repeated text measures the search alone
      // (reported separately as "hybrid, repeated query").
      const modes = ["hybrid", "semantic", "keyword", "hybrid, repeated query"];
      const times = Object.fromEntries(modes.map((m) => [m, []]));
      for (let i = 0; i < QUERIES; i++) {
        for (const [j, mode] of modes.entries()) {
          const repeated = mode.startsWith("hybrid,");
          const q = sentence(n + 1000 + (repeated ? 0 : i * 4 + j)).split(":")[1].slice(0, 60);
          const t0 = performance.now();
          const r = await call({ query: q, k: 10, project: "*", mode: mode.split(",")[0] });
          times[mode].push(performance.now() - t0);
          if (r.isError || r.structuredContent.results.length === 0) throw new Error(`recall failed: ${JSON.stringify(r)}`);
        }
      }
      const out = {};
      for (const mode of modes) {
        out[mode] = stats(times[mode]);
        console.log(`recall, ${n} memories, ${mode}, k=10: ${fmt(out[mode])}`);
      }
      return out;
    } finally {
      await srv.close();
    }
  } finally {
    if (!opt.keep) await rm(home, { recursive: true, force: true });
  }
}

console.log(`mnemo bench · ${BIN} · node ${process.version} · model ${opt.model} · ${RUNS} cold starts · ${QUERIES} queries per mode`);
if (!opt["recall-only"]) {
  await benchHandshake("fresh data dir", async () => {
    const home = await tempHome();
    return { env: mnemoEnv(home, { model: opt.model }), cleanup: () => rm(home, { recursive: true, force: true }) };
  });
  {
    const home = await tempHome();
    const env = mnemoEnv(home, { model: opt.model });
    await populate(home, env, 1000);
    await benchHandshake("existing store of 1000", async () => ({ env }));
    await rm(home, { recursive: true, force: true });
  }
}
for (const n of SIZES) await benchRecall(n);
