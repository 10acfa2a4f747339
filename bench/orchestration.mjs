#!/usr/bin/env node
// Benchmark (a) of issue 4: a fully cached run of a generated monorepo, makes against Turborepo.
//
//   npm run build && node bench/orchestration.mjs [--packages 1000] [--files 10000] [--runs 5] [--keep] [--json]
//
// To measure again without the long first runs: --keep once, then --workspace DIR --turbo-dir DIR.
//
// 1. Generates the workspace (bench/generate-monorepo.mjs) in a temporary directory, a git repository.
// 2. Installs turbo into another temporary directory (`npm install turbo`; the npm package carries its
//    native binary in an optional dependency, @turbo/<os>-<arch>) and runs that binary directly, with
//    TURBO_TELEMETRY_DISABLED=1, no daemon (turbo 2 no longer uses one for `turbo run`) and the local
//    cache only (--cache=local:rw: no remote cache is configured either).
// 3. Builds everything once with each tool, then one unmeasured warm-up run each, then RUNS measured
//    runs of each, alternating makes and turbo so that both see the same machine load.
//    makes: `makes run '/p*/build' --reporter plain`; turbo: `turbo run build --ui=stream`.
//    Every measured run is checked to be fully cached (nothing rebuilt), or the benchmark fails.
// 4. Prints the medians of wall time (and of CPU time, user + sys, when GNU time is at /usr/bin/time:
//    it is steadier than wall time on a busy machine), the ratio makes ÷ turbo, and all of it as JSON
//    with --json.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, cpus, loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { dependencies, generate } from "./generate-monorepo.mjs";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const MAKES_BIN = join(REPO, "packages", "cli", "bin", "makes.js");

const { values: opts } = parseArgs({
  options: {
    packages: { type: "string", default: "1000" },
    files: { type: "string", default: "" },
    runs: { type: "string", default: "5" },
    turbo: { type: "string", default: "2" },
    keep: { type: "boolean", default: false },
    workspace: { type: "string" },
    "turbo-dir": { type: "string" },
    json: { type: "boolean", default: false },
  },
});
const N = Number(opts.packages);
const FILES = opts.files === "" ? 10 * N : Number(opts.files);
const RUNS = Number(opts.runs);

const log = (text) => process.stderr.write(`${text}\n`);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmt = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);

const GNU_TIME = "/usr/bin/time";
const haveTime = spawnSync(GNU_TIME, ["-f", "%U", "true"]).status === 0;
const CPU_MARK = "@@cpu ";

/**
 * Runs a command to completion; returns its wall time (ms), its CPU time (user + sys, ms, or undefined
 * without GNU time) and its output. Throws on a non-zero exit.
 */
function timed(what, cmd, args, options) {
  const [file, argv] = haveTime ? [GNU_TIME, ["-f", `${CPU_MARK}%U %S`, cmd, ...args]] : [cmd, args];
  const start = process.hrtime.bigint();
  const r = spawnSync(file, argv, { encoding: "utf8", maxBuffer: 1 << 28, ...options });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status ?? r.signal}):\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-4000)}`);
  let stderr = r.stderr;
  let cpuMs;
  const at = stderr.lastIndexOf(CPU_MARK);
  if (haveTime && at >= 0) {
    const [user, sys] = stderr.slice(at + CPU_MARK.length).trim().split(" ").map(Number);
    cpuMs = (user + sys) * 1000;
    stderr = stderr.slice(0, at);
  }
  return { ms, cpuMs, stdout: r.stdout, stderr };
}

function installTurbo(version, reuse) {
  const arch = { x64: "64", arm64: "arm64" }[process.arch] ?? process.arch;
  const binIn = (dir) => join(dir, "node_modules", "@turbo", `${process.platform}-${arch}`, "bin", "turbo");
  if (reuse !== undefined) return { dir: resolve(reuse), bin: binIn(resolve(reuse)), reused: true };
  const dir = mkdtempSync(join(tmpdir(), "makes-bench-turbo-"));
  log(`installing turbo@${version} into ${dir}`);
  execFileSync("npm", ["init", "-y"], { cwd: dir, stdio: "ignore" });
  execFileSync("npm", ["install", "--no-audit", "--no-fund", `turbo@${version}`], { cwd: dir, stdio: ["ignore", "ignore", "inherit"] });
  return { dir, bin: binIn(dir), reused: false };
}

const reuseWorkspace = opts.workspace !== undefined;
const workspace = reuseWorkspace ? resolve(opts.workspace) : mkdtempSync(join(tmpdir(), "makes-bench-monorepo-"));
let turbo;
try {
  if (!existsSync(MAKES_BIN) || !existsSync(join(REPO, "packages", "cli", "dist-bundle", "main.js"))) {
    throw new Error("build makes first: npm run build");
  }
  let gen;
  if (reuseWorkspace) {
    const deps = dependencies(N);
    gen = { perPackage: Math.max(1, Math.round(FILES / N)), edges: deps.reduce((s, d) => s + d.length, 0) };
    if (!existsSync(join(workspace, "packages", `p${N - 1}`)) || existsSync(join(workspace, "packages", `p${N}`))) {
      throw new Error(`${workspace} is not a workspace of ${N} packages made by generate-monorepo.mjs`);
    }
    log(`reusing ${workspace}`);
  } else {
    log(`generating ${N} packages over ${FILES} files in ${workspace}`);
    gen = generate(workspace, N, FILES);
  }
  turbo = installTurbo(opts.turbo, opts["turbo-dir"]);
  if (!existsSync(turbo.bin)) throw new Error(`turbo's native binary is not at ${turbo.bin}`);
  const turboEnv = { ...process.env, TURBO_TELEMETRY_DISABLED: "1", TURBO_NO_UPDATE_NOTIFIER: "1", DO_NOT_TRACK: "1" };
  for (const name of Object.keys(turboEnv)) if (/^TURBO_(TOKEN|TEAM|API|REMOTE)/.test(name)) delete turboEnv[name];
  const makesEnv = { ...process.env };
  delete makesEnv.MAKES_STORE;
  const turboVersion = execFileSync(turbo.bin, ["--version"], { env: turboEnv, encoding: "utf8" }).trim();

  const makesRun = (what) => timed(`makes (${what})`, process.execPath, [MAKES_BIN, "run", "/p*/build", "--reporter", "plain"], { cwd: workspace, env: makesEnv });
  const turboRun = (what) => timed(`turbo (${what})`, turbo.bin, ["run", "build", "--ui=stream", "--cache=local:rw"], { cwd: workspace, env: turboEnv });
  const nodes = 2 * N; // a source tree and a build per package
  const makesCached = (r) => {
    const summary = r.stderr.trim().split("\n").pop() ?? "";
    if (!summary.includes(`0 built, ${nodes} cached, 0 failed`)) throw new Error(`makes did not run fully cached: ${summary}`);
  };
  const turboCached = (r) => {
    const out = r.stdout + r.stderr;
    if (!new RegExp(`Cached:\\s+${N} cached, ${N} total`).test(out)) throw new Error(`turbo did not run fully cached:\n${out.slice(-600)}`);
  };

  log("first full build with makes ...");
  const makesFirst = makesRun("first build");
  log(`  ${fmt(makesFirst.ms)}: ${makesFirst.stderr.trim().split("\n").pop()}`);
  log("first full run with turbo ...");
  const turboFirst = turboRun("first run");
  log(`  ${fmt(turboFirst.ms)}`);

  makesCached(makesRun("warm-up"));
  turboCached(turboRun("warm-up"));
  const makesMs = [];
  const turboMs = [];
  const makesCpu = [];
  const turboCpu = [];
  for (let i = 0; i < RUNS; i++) {
    const m = makesRun(`run ${i + 1}`);
    makesCached(m);
    makesMs.push(m.ms);
    if (m.cpuMs !== undefined) makesCpu.push(m.cpuMs);
    const t = turboRun(`run ${i + 1}`);
    turboCached(t);
    turboMs.push(t.ms);
    if (t.cpuMs !== undefined) turboCpu.push(t.cpuMs);
    const cpu = m.cpuMs === undefined || t.cpuMs === undefined ? "" : ` (CPU: makes ${fmt(m.cpuMs)}, turbo ${fmt(t.cpuMs)})`;
    log(`  run ${i + 1}: makes ${fmt(m.ms)}, turbo ${fmt(t.ms)}${cpu}`);
  }
  const stats = (xs) => ({ median: Math.round(median(xs)), min: Math.round(Math.min(...xs)), max: Math.round(Math.max(...xs)), all: xs.map(Math.round) });
  const result = {
    date: new Date().toISOString(),
    machine: { cpus: availableParallelism(), model: cpus()[0]?.model ?? "?", loadavg: loadavg().map((l) => Number(l.toFixed(2))) },
    versions: { node: process.version, turbo: turboVersion, makes: execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: REPO, encoding: "utf8" }).trim() },
    workspace: { packages: N, files: N * gen.perPackage, edges: gen.edges },
    runs: RUNS,
    // Only meaningful for a fresh workspace (with --workspace, both were already built).
    firstBuildMs: reuseWorkspace ? null : { makes: Math.round(makesFirst.ms), turbo: Math.round(turboFirst.ms) },
    cachedMs: { makes: stats(makesMs), turbo: stats(turboMs) },
    cachedCpuMs: makesCpu.length === RUNS && turboCpu.length === RUNS ? { makes: stats(makesCpu), turbo: stats(turboCpu) } : null,
    ratio: Number((median(makesMs) / median(turboMs)).toFixed(2)),
    cpuRatio: makesCpu.length === RUNS && turboCpu.length === RUNS ? Number((median(makesCpu) / median(turboCpu)).toFixed(2)) : null,
  };
  if (opts.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else {
    const c = result.cachedMs;
    process.stdout.write(
      [
        `fully cached run of ${N} build jobs over ${result.workspace.files} files (${gen.edges} dependency edges), median of ${RUNS}`,
        `| tool | median | min | max |`,
        `|---|---|---|---|`,
        `| makes (${result.versions.makes}, ${result.versions.node}) | ${fmt(c.makes.median)} | ${fmt(c.makes.min)} | ${fmt(c.makes.max)} |`,
        `| turbo ${turboVersion} | ${fmt(c.turbo.median)} | ${fmt(c.turbo.min)} | ${fmt(c.turbo.max)} |`,
        ...(result.cachedCpuMs === null ? [] : [`CPU time (user + sys), median: makes ${fmt(result.cachedCpuMs.makes.median)}, turbo ${fmt(result.cachedCpuMs.turbo.median)}, ratio ${result.cpuRatio}`]),
        `makes ÷ turbo = ${result.ratio} (load average ${result.machine.loadavg.join(" ")}, ${result.machine.cpus} CPUs)`,
        "",
      ].join("\n"),
    );
  }
} finally {
  if (opts.keep) log(`kept ${workspace}${turbo === undefined ? "" : ` and ${turbo.dir}`}`);
  else {
    if (!reuseWorkspace) rmSync(workspace, { recursive: true, force: true });
    if (turbo !== undefined && !turbo.reused) rmSync(turbo.dir, { recursive: true, force: true });
  }
}
