#!/usr/bin/env node
// Builds mnemo's npm packages from a GoReleaser dist/ (make release-snapshot
// or a release): one package per platform holding the binary (with "os" and
// "cpu" so npm installs only the matching one), and the main package with
// the launcher (npm/mnemo/) depending on all of them optionally — the layout
// esbuild and other native CLIs use. No install scripts, no download.
//
//   node scripts/npm-pack.mjs [--dist dist] [--out dist/npm] [--scope @mnemo-mcp]
//
// Writes <out>/<package>/ directories and, with npm pack, <out>/*.tgz.
// Publish the platform packages first, then the main one.
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { values: opt } = parseArgs({
  options: {
    dist: { type: "string", default: path.join(root, "dist") },
    out: { type: "string" },
    scope: { type: "string", default: process.env.NPM_SCOPE || "@mnemo-mcp" },
    "no-pack": { type: "boolean", default: false },
  },
});
const dist = path.resolve(opt.dist);
const out = path.resolve(opt.out || path.join(dist, "npm"));
const scope = opt.scope.startsWith("@") ? opt.scope : `@${opt.scope}`;

const NODE_OS = { darwin: "darwin", linux: "linux", windows: "win32" };
const NODE_CPU = { amd64: "x64", arm64: "arm64" };

const metadata = JSON.parse(readFileSync(path.join(dist, "metadata.json"), "utf8"));
const version = metadata.version;
if (!/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(version)) {
  throw new Error(`GoReleaser's version ${JSON.stringify(version)} is not a semver npm accepts`);
}
const artifacts = JSON.parse(readFileSync(path.join(dist, "artifacts.json"), "utf8"))
  .filter((a) => a.type === "Binary" && a.extra?.ID === "mnemo");
if (artifacts.length === 0) throw new Error(`no mnemo binaries in ${dist}/artifacts.json`);

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const main = JSON.parse(readFileSync(path.join(root, "npm", "mnemo", "package.json"), "utf8"));
const common = {
  version,
  license: main.license,
  homepage: main.homepage,
  repository: main.repository,
};

const optional = {};
const dirs = [];
for (const a of artifacts.sort((x, y) => x.path.localeCompare(y.path))) {
  const os = NODE_OS[a.goos], cpu = NODE_CPU[a.goarch];
  if (!os || !cpu) throw new Error(`no npm platform for ${a.goos}/${a.goarch}`);
  const name = `${scope}/mnemo-${os}-${cpu}`;
  const dir = path.join(out, `mnemo-${os}-${cpu}`);
  const exe = os === "win32" ? "mnemo.exe" : "mnemo";
  mkdirSync(path.join(dir, "bin"), { recursive: true });
  copyFileSync(path.resolve(root, a.path), path.join(dir, "bin", exe));
  chmodSync(path.join(dir, "bin", exe), 0o755);
  copyFileSync(path.join(root, "LICENSE"), path.join(dir, "LICENSE"));
  writeFileSync(path.join(dir, "README.md"),
    `# ${name}\n\nThe mnemo binary for ${os}/${cpu}. Install \`${scope}/mnemo\`, not this package: ` +
    "it picks the right binary for the platform.\n");
  writeFileSync(path.join(dir, "package.json"), JSON.stringify({
    name,
    ...common,
    description: `mnemo's static binary for ${os}/${cpu} (installed by ${scope}/mnemo)`,
    os: [os],
    cpu: [cpu],
    files: [`bin/${exe}`, "README.md", "LICENSE"],
    preferUnplugged: true,
  }, null, 2) + "\n");
  optional[name] = version;
  dirs.push(dir);
}

const mainDir = path.join(out, "mnemo");
cpSync(path.join(root, "npm", "mnemo"), mainDir, { recursive: true });
copyFileSync(path.join(root, "LICENSE"), path.join(mainDir, "LICENSE"));
chmodSync(path.join(mainDir, "bin", "mnemo.js"), 0o755);
writeFileSync(path.join(mainDir, "package.json"), JSON.stringify({
  ...main,
  name: `${scope}/mnemo`,
  version,
  optionalDependencies: optional,
}, null, 2) + "\n");
dirs.push(mainDir);

for (const dir of dirs) {
  if (!opt["no-pack"]) {
    execFileSync("npm", ["pack", "--silent", "--pack-destination", out], { cwd: dir, stdio: ["ignore", "ignore", "inherit"] });
  }
  console.log(path.relative(process.cwd(), dir));
}
