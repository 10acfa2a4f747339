// Watch mode latency: the time from saving a source file to the rebuilt output of a small job being
// printed by `makes run --watch` (its store path on stdout, its content checked), over N saves.
// Baseline, measured in the same run and interleaved save by save on a twin project: what a user does
// without watch mode — save, then start `makes run` (the same job, the same edit) and wait for its path.
// Prints median and p90 of both, and their ratio. Goal (issue 4): watch median under 200 ms.
// Usage: node bench/watch-latency.mjs [saves=20] [--git]
// --git: both projects are git repositories with their files committed (most projects are; the listing then
// comes from git, see docs/inputs.md).
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const inGit = process.argv.includes("--git");
const saves = Number(process.argv.slice(2).find((a) => a !== "--git") ?? 20);
const makes = resolve(import.meta.dirname, "..", "packages", "cli", "bin", "makes.js");
const TIMEOUT_MS = 10_000;
/** Pause between saves, so each save is its own iteration (well past the 80 ms debounce). */
const GAP_MS = 150;

function project(name) {
  const dir = mkdtempSync(join(tmpdir(), `makes-watch-bench-${name}-`));
  mkdirSync(join(dir, "src"));
  for (let i = 0; i < 20; i++) writeFileSync(join(dir, "src", `file${i}.txt`), `content ${i}\n`.repeat(50));
  writeFileSync(join(dir, "src", "main.txt"), "initial\n");
  writeFileSync(
    join(dir, "makes.ts"),
    `export default ({ makeDerivation, projectPath }) => ({
  jobs: {
    "/small": makeDerivation({ name: "small", env: { src: projectPath("/src") }, builder: "mkdir -p $out && cp $src/main.txt $out/ && wc -c $src/*.txt > $out/sizes" }),
  },
});
`,
  );
  if (inGit) {
    const git = (...args) => spawnSync("git", ["-c", "user.name=bench", "-c", "user.email=bench@example.com", ...args], { cwd: dir });
    writeFileSync(join(dir, ".gitignore"), ".makes/\n");
    git("init", "-q");
    git("add", ".");
    git("commit", "-qm", "bench");
  }
  return dir;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => Number(process.hrtime.bigint()) / 1e6;
const sorted = (xs) => [...xs].sort((a, b) => a - b);
const median = (xs) => {
  const s = sorted(xs);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 0 ? ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2 : (s[mid] ?? 0);
};
const p90 = (xs) => sorted(xs)[Math.max(0, Math.ceil(0.9 * xs.length) - 1)] ?? 0;

const watched = project("watch");
const twin = project("run");
// Warm both stores (the first build, the config bundle) so every save rebuilds exactly one derivation.
for (const dir of [watched, twin]) {
  const r = spawnSync(process.execPath, [makes, "run", "/small", "--reporter", "plain"], { cwd: dir, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`makes run failed: ${r.stderr}`);
}

const child = spawn(process.execPath, [makes, "run", "--watch", "/small", "--reporter", "plain"], { cwd: watched, stdio: ["ignore", "pipe", "pipe"] });
let stdout = "";
let stderr = "";
let lineWaiter;
child.stdout.on("data", (chunk) => {
  stdout += chunk;
  lineWaiter?.();
});
child.stderr.on("data", (chunk) => {
  stderr += chunk;
  lineWaiter?.();
});

async function until(test, what) {
  const deadline = now() + TIMEOUT_MS;
  for (;;) {
    const found = test();
    if (found !== undefined) return found;
    if (now() > deadline) throw new Error(`timed out waiting for ${what}; stderr:\n${stderr}`);
    await new Promise((r) => {
      lineWaiter = r;
      setTimeout(r, 50);
    });
  }
}

const idleCount = () => (stderr.match(/^makes: watching /gm) ?? []).length;
await until(() => (idleCount() >= 1 && stdout.includes("\n") ? true : undefined), "the first build");

const watchMs = [];
const runMs = [];
try {
  for (let i = 0; i < saves; i++) {
    // Watch mode: save, wait for a new output path whose content is the saved one.
    const text = `save ${i}\n`;
    const seen = stdout.length;
    const idle = idleCount();
    const t0 = now();
    writeFileSync(join(watched, "src", "main.txt"), text);
    await until(() => {
      const paths = stdout.slice(seen).split("\n").filter((l) => l.startsWith("/"));
      return paths.find((p) => readFileSync(join(p, "main.txt"), "utf8") === text);
    }, `the output of save ${i}`);
    watchMs.push(now() - t0);
    await until(() => (idleCount() > idle ? true : undefined), "the idle line");

    // Baseline: save the twin project, start `makes run`, wait for its path.
    const t1 = now();
    writeFileSync(join(twin, "src", "main.txt"), text);
    const r = spawnSync(process.execPath, [makes, "run", "/small", "--reporter", "plain"], { cwd: twin, encoding: "utf8" });
    runMs.push(now() - t1);
    if (r.status !== 0 || readFileSync(join(r.stdout.trim(), "main.txt"), "utf8") !== text) throw new Error(`makes run failed: ${r.stderr}`);
    await sleep(GAP_MS);
  }
} finally {
  child.kill("SIGINT");
  await new Promise((r) => child.on("exit", r));
  rmSync(watched, { recursive: true, force: true });
  rmSync(twin, { recursive: true, force: true });
}

const fmt = (xs) => `median ${median(xs).toFixed(1)} ms, p90 ${p90(xs).toFixed(1)} ms`;
console.log(`save → rebuilt output, makes run --watch:  ${fmt(watchMs)}  (${saves} saves; includes the 80 ms debounce)`);
console.log(`save → rebuilt output, fresh makes run:    ${fmt(runMs)}  (baseline, interleaved)`);
console.log(`ratio watch ÷ baseline (medians):          ${(median(watchMs) / median(runMs)).toFixed(2)}`);
console.log(`goal: watch median under 200 ms — ${median(watchMs) < 200 ? "met" : "NOT met"}`);
