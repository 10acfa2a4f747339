/**
 * Crash safety (issue 5, cases caching 13): `makes` is killed with SIGKILL at many moments spread over a
 * build of several derivations and over an image build. After every kill: each store path that looks
 * valid (has metadata) verifies and has exactly the content of an uninterrupted build, no half-written
 * path looks valid, out-links and layer-cache records point only at whole things, `makes verify` is
 * clean; and the next run completes and prints the same output path as an uninterrupted run.
 * The crash states themselves, made one by one, are in crash-states.test.ts.
 *
 * Default: 52 kill moments (26 + 26, two at a time on separate stores); MAKES_SLOW=1: 200. The moments are
 * stratified over an uninterrupted run (one random moment in each of N equal slices) and anchored to its
 * `--reporter json` events; the seed is printed and MAKES_RELIABILITY_SEED=<seed> replays the same moments.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { Store, StoreLayout, verifyStore } from "@makes/core";
import type { ChildProcess } from "node:child_process";
import { finished, makeProject, runMakes, shown, spawnMakes, stdoutLines, tempDir, type MakesResult } from "../helpers/project.ts";
import { CRASH_MAKES_TS as MAKES_TS } from "./crash-project.ts";
import { checkStore, contentDigests, figures, killOrphanedBuilders, prng, processAlive, seedFromEnv, sleep, SLOW } from "./support.ts";

const execFileP = promisify(execFile);

interface Reference {
  readonly path: string;
  readonly digests: Map<string, string>;
  /** When each event of `--reporter json` arrived, in ms after the spawn (index 0 is the spawn itself). */
  readonly anchors: number[];
}

const KILLS = Number(process.env.MAKES_CRASH_KILLS ?? (SLOW ? 100 : 26)); // per scenario
/** Kill moments tried at once (each on its own store). */
const PARALLEL = Number(process.env.MAKES_CRASH_PARALLEL ?? 2);

async function copyStoreFrom(from: string, to: string, hashes: ReadonlySet<string>): Promise<void> {
  const src = new StoreLayout(from);
  const dst = new StoreLayout(to);
  await new Store(to).init();
  for (const entry of await readdir(src.storeDir)) {
    if (!hashes.has(entry.slice(0, 32))) continue;
    await execFileP("cp", ["-a", join(src.storeDir, entry), dst.storeDir]);
    await execFileP("cp", ["-a", src.metaPath(entry.slice(0, 32)), dst.metaDir]);
  }
}

/** Counts the JSON event lines a running makes prints on stderr; resolves once `count` were seen (or it exited). */
function eventsSeen(child: ChildProcess, count: number): Promise<void> {
  return new Promise((resolve) => {
    if (count === 0) return resolve();
    let seen = 0;
    let rest = "";
    const onData = (chunk: string | Buffer): void => {
      const lines = (rest + chunk.toString()).split("\n");
      rest = lines.pop() ?? "";
      seen += lines.filter((l) => l.startsWith("{")).length;
      if (seen >= count) {
        child.stderr?.off("data", onData);
        resolve();
      }
    };
    child.stderr?.on("data", onData);
    child.on("close", () => resolve());
  });
}

/** Runs makes uninterrupted with --reporter json and notes when each event arrived. */
async function timedRun(project: string, job: string, store: string): Promise<{ result: MakesResult; anchors: number[] }> {
  const started = Date.now();
  const child = spawnMakes(project, ["run", job, "--store", store, "--reporter", "json"]);
  const done = finished(child, 120_000);
  const anchors = [0];
  let rest = "";
  child.stderr?.on("data", (chunk: string | Buffer) => {
    const lines = (rest + chunk.toString()).split("\n");
    rest = lines.pop() ?? "";
    for (const l of lines) if (l.startsWith("{")) anchors.push(Date.now() - started);
  });
  return { result: await done, anchors };
}

test(`SIGKILL at ${2 * KILLS} moments of a build and an image build never leaves a path that looks valid but is not`, { timeout: SLOW ? 3_600_000 : 900_000 }, async (t) => {
  const seed = seedFromEnv();
  console.log(`crash seed=${seed} (replay: MAKES_RELIABILITY_SEED=${seed})`);
  const random = prng(seed);
  const project = await makeProject(t, { "makes.ts": MAKES_TS });
  const work = await tempDir(t, "makes-crash-");

  // The uninterrupted runs: the output paths, every path's content digest, and when each event came.
  const refStore = join(work, "reference");
  const top = await timedRun(project, "/top", refStore);
  assert.equal(top.result.code, 0, shown(top.result));
  const topDigests = await contentDigests(refStore);
  const derivationHashes = new Set(topDigests.keys());
  const imageStart = join(work, "image-start");
  await copyStoreFrom(refStore, imageStart, derivationHashes);
  const image = await timedRun(project, "/image", imageStart);
  assert.equal(image.result.code, 0, shown(image.result));
  const scenarios: Array<{ job: string; ref: Reference; seedStore: boolean }> = [
    { job: "/top", ref: { path: stdoutLines(top.result)[0] ?? "", digests: topDigests, anchors: top.anchors }, seedStore: false },
    { job: "/image", ref: { path: (stdoutLines(image.result)[0] ?? "").replace(imageStart, "<store>"), digests: await contentDigests(imageStart), anchors: image.anchors }, seedStore: true },
  ];
  assert.equal(scenarios[0]?.ref.digests.size, 5);
  assert.equal(scenarios[1]?.ref.digests.size, 6);

  // The moments, each expressed as "after the k-th event, plus d ms", so that a slower machine still
  // kills in the same phase of the build. Half are stratified over the whole run (start-up included:
  // loading makes.ts, hashing), half over the part after the first event (building, installing,
  // writing layers, out-links), which start-up would otherwise crowd out on a loaded machine.
  interface Moment { scenario: (typeof scenarios)[number]; index: number; at: number; anchor: number; delay: number }
  const moments: Moment[] = [];
  for (const scenario of scenarios) {
    const anchors = scenario.ref.anchors;
    const end = anchors[anchors.length - 1] ?? 1000;
    const buildStart = anchors[1] ?? 0;
    const half = Math.ceil(KILLS / 2);
    for (let i = 0; i < KILLS; i++) {
      const [from, slot, slots] = i < half ? [0, i, half] : [buildStart, i - half, KILLS - half];
      const at = Math.round(from + ((end - from) * (slot + random())) / slots);
      let anchor = 0;
      while (anchor + 1 < anchors.length && (anchors[anchor + 1] ?? Infinity) <= at) anchor++;
      moments.push({ scenario, index: i, at, anchor, delay: at - (anchors[anchor] ?? 0) });
    }
  }

  const failures: string[] = [];
  const stats = {
    seed,
    moments: 0,
    killedWhileRunning: 0,
    finishedBeforeKill: 0,
    byPhase: { beforeAnyOutput: 0, someOutputsValid: 0, allOutputsValid: 0 } as Record<string, number>,
    byAnchor: {} as Record<string, number>,
    pathsWithoutMetaSeen: 0,
    tmpDirsLeft: 0,
    staleLocksOfDeadOwners: 0,
    orphanedBuilderProcesses: 0,
    cliVerifyRuns: 0,
    failures: 0,
  };
  const tryMoment = async (m: Moment): Promise<boolean> => {
    const { job, ref, seedStore } = m.scenario;
    const store = join(work, `${job.slice(1)}-${m.index}`);
    const refPath = ref.path.replace(refStore, store).replace("<store>", store);
    if (seedStore) await copyStoreFrom(refStore, store, derivationHashes);
    const child = spawnMakes(project, ["run", job, "--store", store, "--reporter", "json"]);
    const done = finished(child, 120_000);
    await eventsSeen(child, m.anchor);
    await sleep(m.delay);
    const wasRunning = child.exitCode === null && child.signalCode === null;
    child.kill("SIGKILL");
    const killed = await done;
    stats.moments++;
    const where = `${job} moment ${m.index} (event ${m.anchor} + ${m.delay} ms ≈ ${m.at} ms; seed ${seed})`;
    if (wasRunning && killed.signal === "SIGKILL") stats.killedWhileRunning++;
    else stats.finishedBeforeKill++;
    stats.byAnchor[`${job}#${m.anchor}`] = (stats.byAnchor[`${job}#${m.anchor}`] ?? 0) + 1;
    stats.orphanedBuilderProcesses += await killOrphanedBuilders(store);

    // The store at rest after the crash.
    const state = await checkStore(store, ref.digests);
    const total = ref.digests.size;
    const preexisting = seedStore ? derivationHashes.size : 0;
    const phase = state.valid.size <= preexisting ? "beforeAnyOutput" : state.valid.size < total ? "someOutputsValid" : "allOutputsValid";
    stats.byPhase[phase] = (stats.byPhase[phase] ?? 0) + 1;
    stats.pathsWithoutMetaSeen += state.invalidPaths.length;
    stats.tmpDirsLeft += state.tmpLeft.length;
    for (const p of state.problems) failures.push(`${where}: ${p}`);
    const verified = await verifyStore(new Store(store));
    if (verified.problems.length > 0) failures.push(`${where}: verifyStore: ${JSON.stringify(verified.problems)}`);
    if (SLOW || m.index % 4 === 0) {
      stats.cliVerifyRuns++;
      const v = await runMakes(project, ["verify", "--store", store]);
      // Killed before the store was created: nothing was written, and verify says there is no store there.
      const noStoreYet = !existsSync(store) && v.code === 2 && v.stderr.includes(`There is no store at ${store}`);
      if (v.code !== 0 && !noStoreYet) failures.push(`${where}: makes verify after the kill: ${shown(v)}`);
    }

    // The next run completes, with the uninterrupted run's output path and contents.
    const next = await runMakes(project, ["run", job, "--store", store], { timeoutMs: 60_000 }).catch((err: unknown) => ({ code: -1, signal: null, stdout: "", stderr: String(err) }));
    if (next.code !== 0 || next.stdout !== `${refPath}\n`) failures.push(`${where}: the next run: ${shown(next)}`);
    const after = await checkStore(store, ref.digests);
    for (const p of after.problems) failures.push(`${where}: after the next run: ${p}`);
    if (after.valid.size !== total) failures.push(`${where}: after the next run ${after.valid.size} of ${total} paths are valid`);
    // The crashed run's build directory and lock are gone once a run has found their owner dead.
    if (after.tmpLeft.length > 0) failures.push(`${where}: after the next run tmp/ still has ${after.tmpLeft.join(", ")}`);
    // A lock of the killed process stays only where no later run needed it (its path had become valid): it
    // names a dead owner and is taken over whenever it is needed. A lock's temporary file never stays.
    for (const file of after.locksLeft) {
      const owner = await readFile(join(store, "locks", file), "utf8").catch(() => "");
      const pid = Number(owner.split(" ")[0]);
      if (!file.endsWith(".lock") || (Number.isInteger(pid) && pid > 0 && processAlive(pid))) failures.push(`${where}: after the next run locks/ still has ${file} (${owner})`);
      else stats.staleLocksOfDeadOwners++;
    }
    await rm(store, { recursive: true, force: true });
    return wasRunning && killed.signal === "SIGKILL";
  };
  // A kill that came after makes had already exited is no crash: another moment replaces it.
  const queue = [...moments];
  let replacements = 0;
  await Promise.all(Array.from({ length: PARALLEL }, async () => {
    for (let m = queue.shift(); m !== undefined; m = queue.shift()) {
      const landed = await tryMoment(m);
      if (!landed && replacements < KILLS) {
        replacements++;
        const anchors = m.scenario.ref.anchors;
        const end = anchors[anchors.length - 1] ?? 1000;
        const at = Math.round(random() * end);
        let anchor = 0;
        while (anchor + 1 < anchors.length && (anchors[anchor + 1] ?? Infinity) <= at) anchor++;
        queue.push({ scenario: m.scenario, index: KILLS + replacements, at, anchor, delay: at - (anchors[anchor] ?? 0) });
      }
    }
  }));
  stats.failures = failures.length;
  t.diagnostic(figures("crash", { ...stats, referenceEventsMs: scenarios.map((s) => `${s.job}: ${s.ref.anchors.join(",")}`) }));
  assert.ok(stats.killedWhileRunning >= moments.length, `only ${stats.killedWhileRunning} of ${stats.moments} kills landed while makes was running`);
  assert.deepEqual(failures, []);
});
