// A no-op `makes run` of an already-built job in a small project, against Node's own start-up
// (`node -e 0`), measured alternately in the same run. Prints the medians and the ratio.
// Usage: node bench/noop-run.mjs [runs=30]
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const runs = Number(process.argv[2] ?? 30);
const makes = resolve(import.meta.dirname, "..", "packages", "cli", "bin", "makes.js");
const dir = mkdtempSync(join(tmpdir(), "makes-noop-"));
mkdirSync(join(dir, "src"));
for (let i = 0; i < 20; i++) writeFileSync(join(dir, "src", `file${i}.txt`), `content ${i}\n`.repeat(100));
writeFileSync(
  join(dir, "makes.ts"),
  `export default ({ makeDerivation, projectPath }) => {
  const lib = makeDerivation({ name: "lib", env: { src: projectPath("/src") }, builder: "mkdir -p $out && cp -r $src/. $out/" });
  const app = makeDerivation({ name: "app", env: { lib }, builder: "mkdir -p $out && ls $lib > $out/list" });
  return { jobs: { "/lib": lib, "/app": app } };
};
`,
);

function time(cmd, args) {
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed: ${r.stderr}`);
  return Number(process.hrtime.bigint() - start) / 1e6;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

execFileSync(process.execPath, [makes, "run", "/app", "--reporter", "plain"], { cwd: dir, stdio: "ignore" });
const ours = [];
const node = [];
for (let i = 0; i < runs; i++) {
  node.push(time(process.execPath, ["-e", "0"]));
  ours.push(time(process.execPath, [makes, "run", "/app", "--reporter", "plain"]));
}
rmSync(dir, { recursive: true, force: true });
const m = median(ours);
const n = median(node);
console.log(`no-op makes run /app: median ${m.toFixed(1)} ms over ${runs} runs`);
console.log(`node -e 0:            median ${n.toFixed(1)} ms`);
console.log(`ratio makes ÷ node:   ${(m / n).toFixed(2)}  (difference ${(m - n).toFixed(1)} ms)`);
