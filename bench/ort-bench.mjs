// ort-bench.mjs runs the `mnemo bench` scenarios on onnxruntime-node (the
// engine fastembed-js and most Node memory servers use), with the same model
// folder, the same texts, the same tokenisation (@huggingface/tokenizers,
// which made the golden ids) and the same pooling (mean over the attention
// mask, L2 norm, token_type_ids zero). It prints one JSON line per scenario
// in `mnemo bench --json`'s format, so `make bench-compare` can put both side
// by side.
//
//   node bench/ort-bench.mjs --model ../shared/models/minilm-l6-synthetic [--threads 2]
//
// MNEMO_BENCH_SCALE scales the number of timed calls, as for mnemo bench.
// Keep the scenario list, word list and text construction in step with
// cmd/mnemo/cmd_bench.go.
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import ort from "onnxruntime-node";
import { Tokenizer } from "@huggingface/tokenizers";

const { values: args } = parseArgs({
  options: {
    model: { type: "string", default: process.env.MNEMO_MODEL || "../shared/models/minilm-l6-synthetic" },
    threads: { type: "string", default: "2" },
    onnx: { type: "string", default: "model.onnx" },
    golden: { type: "string" }, // check the pipeline against a golden file first
    "embed-stdin": { type: "boolean", default: false }, // embed stdin lines and exit (cold-start.sh)
  },
});
const scale = Number(process.env.MNEMO_BENCH_SCALE || "1");
if (!(scale > 0)) throw new Error(`MNEMO_BENCH_SCALE=${process.env.MNEMO_BENCH_SCALE}: want a positive number`);

const dir = args.model;
const readJSON = (f) => JSON.parse(fs.readFileSync(path.join(dir, f), "utf8"));
const tokenizer = new Tokenizer(readJSON("tokenizer.json"), readJSON("tokenizer_config.json"));
const countTokens = (text) => tokenizer.encode(text).ids.length;

const session = await ort.InferenceSession.create(path.join(dir, args.onnx), {
  intraOpNumThreads: Number(args.threads),
  interOpNumThreads: 1,
  executionMode: "sequential",
  graphOptimizationLevel: "all",
});
const needsTypeIds = session.inputNames.includes("token_type_ids");
const outName = session.outputNames.includes("last_hidden_state") ? "last_hidden_state" : session.outputNames[0];

// embed runs one padded batch and returns mean-pooled, L2-normalised vectors.
async function embed(texts) {
  const enc = texts.map((t) => tokenizer.encode(t).ids);
  const b = enc.length;
  const L = Math.max(...enc.map((e) => e.length));
  const ids = new BigInt64Array(b * L);
  const mask = new BigInt64Array(b * L);
  enc.forEach((e, i) => e.forEach((id, j) => { ids[i * L + j] = BigInt(id); mask[i * L + j] = 1n; }));
  const feeds = {
    input_ids: new ort.Tensor("int64", ids, [b, L]),
    attention_mask: new ort.Tensor("int64", mask, [b, L]),
  };
  if (needsTypeIds) feeds.token_type_ids = new ort.Tensor("int64", new BigInt64Array(b * L), [b, L]);
  const out = (await session.run(feeds))[outName];
  const H = out.dims[2];
  const data = out.data;
  return enc.map((e, i) => {
    const v = new Float32Array(H);
    for (let j = 0; j < e.length; j++) for (let k = 0; k < H; k++) v[k] += data[(i * L + j) * H + k];
    let ss = 0;
    for (let k = 0; k < H; k++) { v[k] /= e.length; ss += v[k] * v[k]; }
    const inv = 1 / Math.sqrt(ss);
    for (let k = 0; k < H; k++) v[k] *= inv;
    return v;
  });
}

if (args.golden) {
  // The harness is only a fair reference if it computes the same vectors.
  const g = JSON.parse(fs.readFileSync(args.golden, "utf8"));
  const vs = [];
  for (const s of g.sentences) vs.push((await embed([s]))[0]);
  let worst = 0;
  vs.forEach((v, i) => v.forEach((x, k) => { worst = Math.max(worst, Math.abs(x - g.embeddings[i][k])); }));
  if (worst > 1e-4) throw new Error(`golden check failed: max abs diff ${worst}`);
  console.error(`golden check: ${vs.length} sentences, max abs diff ${worst.toExponential(2)}`);
}

if (args["embed-stdin"]) {
  const lines = fs.readFileSync(0, "utf8").split("\n").filter((l) => l.trim());
  const vs = await embed(lines);
  console.log(JSON.stringify({ texts: vs.length, dims: vs[0].length }));
  process.exit(0);
}

// Same as benchWordList in cmd/mnemo/cmd_bench.go.
const words = `the people in our city often walk along the river after work and talk
about books music food travel family history science weather sports games money time water light
house school market garden road train night morning summer winter friend teacher doctor
student country world story paper letter window door table chair computer phone program system`.split(/\s+/);

let seed = 0;
// text returns a new text of exactly n tokens (special tokens included),
// built exactly as benchTexts.text in cmd_bench.go.
function text(n) {
  const s = ++seed;
  const base = countTokens("x") - 1;
  if (n <= base) throw new Error(`cannot build a ${n}-token text`);
  const word = (i) => words[(s * 7 + i * ((s % 5) + 1)) % words.length];
  let ws = [];
  for (let i = 0; i < n - base; i++) ws.push(word(i));
  if (countTokens(ws.join(" ")) === n) return ws.join(" ");
  ws = [];
  let cur = base;
  for (let i = 0, misses = 0; cur < n; i++) {
    const w = word(i);
    const c = countTokens([...ws, w].join(" "));
    if (c > n) {
      if (++misses > 4 * words.length) throw new Error(`cannot build a text of exactly ${n} tokens`);
      continue;
    }
    ws.push(w);
    cur = c;
  }
  return ws.join(" ");
}

const calls = (c) => Math.max(1, Math.round(c * scale));
const scenarios = [
  { name: "q12", batch: 1, tokens: 12, calls: calls(30) },
  { name: "s40", batch: 32, tokens: 40, calls: calls(5) },
  { name: "l256", batch: 8, tokens: 256, calls: calls(5) },
  { name: "stream", batch: 1, tokens: 0, calls: 50, stream: true },
];
const streamTokens = (i) => 5 + ((i * 7) % 26);

function percentile(xs, p) {
  xs.sort((a, b) => a - b);
  if (p === 0.5 && xs.length % 2 === 0) return (xs[xs.length / 2 - 1] + xs[xs.length / 2]) / 2;
  const i = Math.ceil(p * xs.length - 1e-6) - 1;
  return xs[Math.min(Math.max(i, 0), xs.length - 1)];
}
const round2 = (x) => Math.round(x * 100) / 100;

function peakRSSMiB() {
  try {
    const m = fs.readFileSync("/proc/self/status", "utf8").match(/^VmHWM:\s+(\d+) kB/m);
    if (m) return round2(Number(m[1]) / 1024);
  } catch {}
  return round2(process.resourceUsage().maxRSS / 1024);
}

for (const sc of scenarios) {
  const batches = [];
  const tokens = [];
  for (let i = 0; i < sc.calls; i++) {
    const n = sc.stream ? streamTokens(i) : sc.tokens;
    const b = [];
    for (let j = 0; j < sc.batch; j++) b.push(text(n));
    batches.push(b);
    tokens.push(n * sc.batch);
  }
  const warm = new Set();
  for (const n of tokens) {
    if (warm.has(n)) continue;
    warm.add(n);
    const w = [];
    for (let j = 0; j < sc.batch; j++) w.push(text(n / sc.batch));
    await embed(w);
  }
  const ms = [];
  let total = 0;
  let totalTokens = 0;
  for (let i = 0; i < batches.length; i++) {
    const t = process.hrtime.bigint();
    await embed(batches[i]);
    const d = Number(process.hrtime.bigint() - t) / 1e6;
    ms.push(d);
    total += d;
    totalTokens += tokens[i];
  }
  const median = round2(percentile(ms, 0.5));
  const p90 = round2(percentile(ms, 0.9));
  const tps = sc.stream ? Math.floor(totalTokens / (total / 1000)) : Math.floor((sc.batch * sc.tokens) / (median / 1000));
  console.log(JSON.stringify({
    engine: "onnxruntime-node", scenario: sc.name, batch: sc.batch, tokens: sc.tokens, calls: sc.calls,
    median_ms: median, p90_ms: p90, tokens_per_s: tps, peak_rss_mib: peakRSSMiB(),
  }));
}
