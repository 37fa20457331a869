// compare.mjs prints one table from two files of `mnemo bench --json` lines:
// mnemo (first) against onnxruntime-node (second), ratio per scenario.
//
//   node bench/compare.mjs mnemo.jsonl ort.jsonl
import fs from "node:fs";
import os from "node:os";

const [mnemoFile, ortFile] = process.argv.slice(2);
if (!mnemoFile || !ortFile) {
  console.error("usage: node compare.mjs MNEMO.jsonl ORT.jsonl");
  process.exit(2);
}
const read = (f) => new Map(fs.readFileSync(f, "utf8").split("\n").filter((l) => l.trim().startsWith("{"))
  .map((l) => JSON.parse(l)).map((r) => [r.scenario, r]));
const m = read(mnemoFile);
const o = read(ortFile);
const shape = (r) => (r.scenario === "stream" ? "50×(5–30)" : `${r.batch}×${r.tokens}`);
const f1 = (x) => (x == null ? "–" : x.toFixed(1));
const ratio = (a, b) => (a == null || !b ? "–" : (a / b).toFixed(2) + "×");

const load = os.loadavg().map((x) => x.toFixed(2)).join(" ");
console.log(`${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC, ${os.cpus()[0]?.model ?? "cpu"} ×${os.cpus().length}, load average ${load}`);
console.log("");
console.log("| scenario | shape | mnemo median ms | ORT median ms | ratio | mnemo p90 ms | ORT p90 ms | mnemo tokens/s | ORT tokens/s | mnemo peak RSS | ORT peak RSS |");
console.log("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
for (const [name, a] of m) {
  const b = o.get(name) ?? {};
  console.log(`| ${name} | ${shape(a)} | ${f1(a.median_ms)} | ${f1(b.median_ms)} | ${ratio(a.median_ms, b.median_ms)} | ${f1(a.p90_ms)} | ${f1(b.p90_ms)} | ${Math.round(a.tokens_per_s)} | ${b.tokens_per_s == null ? "–" : Math.round(b.tokens_per_s)} | ${a.peak_rss_mib ? Math.round(a.peak_rss_mib) + " MiB" : "–"} | ${b.peak_rss_mib ? Math.round(b.peak_rss_mib) + " MiB" : "–"} |`);
}
console.log("");
console.log("ratio = mnemo median / onnxruntime-node median (lower is better; issue 6's goal is ≤ 2×).");
