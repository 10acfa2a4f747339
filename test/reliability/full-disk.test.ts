/**
 * Full disk (issue 5): the store on a small tmpfs that fills up at many different points of a build and
 * of an image build — while a builder writes its output, while the log or the metadata is written, while a
 * layer is tarred into the layer cache, when the inodes run out. Each size gives either a complete run or a
 * clear "no space left" error (exit 1, no stack trace, no internal error); either way no half-written path
 * looks valid, tmp/ and the layer cache's tmp/ are empty, no lock is left, `makes verify` is clean, and
 * once the disk is grown (remount) the next run completes with the uninterrupted run's output path.
 * The case of the bad-input suite (test/bad-input.test.ts, 15) is the one-size version of this.
 *
 * Needs root (mount -t tmpfs); skipped elsewhere. 12 sizes by default, 40 with MAKES_SLOW=1.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { makeProject, runMakes, shown, stdoutLines, tempDir, tryMountTmpfs } from "../helpers/project.ts";
import { checkStore, contentDigests, figures, listDir, prng, seedFromEnv, SLOW } from "./support.ts";

const SIZES = SLOW ? 40 : 12;

const MAKES_TS = `
export default ({ makeDerivation, makeContainerImage }: any) => {
  const mk = (name: string, kb: number, env: Record<string, unknown>) => makeDerivation({
    name, env,
    builder: \`mkdir -p $out/data; for i in 1 2 3 4; do shuf -i 1-100000000 -n \${Math.round(kb * 12)} --random-source=<(yes \${name}$i) > $out/data/f$i; done; for i in $(seq 1 20); do echo $i > $out/data/small$i; done; echo building \${name}; seq 1 2000\`,
  });
  const a = mk("a", 60, {}), b = mk("b", 120, {}), c = mk("c", 90, { a, b });
  return { jobs: { "/c": c, "/image": makeContainerImage({ layers: [c, a, b] }) } };
};
`;

test(`the store on a disk that fills up at ${SIZES} different points: a clear error, nothing half-written, recovery`, { timeout: SLOW ? 1_800_000 : 300_000 }, async (t) => {
  const project = await makeProject(t, { "makes.ts": MAKES_TS });
  const work = await tempDir(t, "makes-full-disk-");
  const probe = join(work, "probe");
  await mkdir(probe);
  if (!tryMountTmpfs(t, probe, "size=1m", "the full-disk sweep")) return;
  execFileSync("umount", [probe]);
  const seed = seedFromEnv();
  console.log(`full-disk seed=${seed} (replay: MAKES_RELIABILITY_SEED=${seed})`);
  const random = prng(seed);
  const refStore = join(work, "reference");
  const ref = await runMakes(project, ["run", "/image", "--store", refStore]);
  assert.equal(ref.code, 0, shown(ref));
  const refDigests = await contentDigests(refStore);
  const refPath = stdoutLines(ref)[0] ?? "";
  const du = Number(execFileSync("du", ["-sk", refStore], { encoding: "utf8" }).split("\t")[0]);

  const stats = { seed, sizes: 0, completed: 0, noSpaceErrors: 0, inodeLimited: 0, validBeforeRecovery: 0, failures: 0, referenceKiB: du };
  const failures: string[] = [];
  for (let i = 0; i < SIZES; i++) {
    // Sizes stratified from almost nothing to a little more than the whole store needs; a few with few inodes.
    const kib = Math.max(64, Math.round((du * 1.3 * (i + random())) / SIZES));
    const inodes = i % 4 === 3 ? 40 + Math.floor(random() * 60) : undefined;
    const mountPoint = join(work, `disk-${i}`);
    await mkdir(mountPoint);
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${kib}k${inodes === undefined ? "" : `,nr_inodes=${inodes}`}`, "tmpfs", mountPoint], { stdio: "pipe" });
    const where = `disk ${i} (${kib} KiB${inodes === undefined ? "" : `, ${inodes} inodes`}; seed ${seed})`;
    try {
      stats.sizes++;
      if (inodes !== undefined) stats.inodeLimited++;
      const r = await runMakes(project, ["run", "/image", "--store", mountPoint], { timeoutMs: 120_000 });
      if (r.code === 0) {
        stats.completed++;
        if (r.stdout !== `${refPath.replace(refStore, mountPoint)}\n`) failures.push(`${where}: completed with another path: ${shown(r)}`);
      } else {
        if (r.code !== 1 || !/no space left/i.test(r.stderr)) failures.push(`${where}: expected exit 1 and "no space left": ${shown(r)}`);
        else stats.noSpaceErrors++;
        if (/internal error|\n\s+at .+:\d+:\d+/.test(r.stderr)) failures.push(`${where}: a stack trace or an internal error: ${shown(r)}`);
        if (r.stdout !== "") failures.push(`${where}: printed an output path although it failed`);
      }
      const state = await checkStore(mountPoint, refDigests);
      stats.validBeforeRecovery += state.valid.size;
      for (const p of state.problems) failures.push(`${where}: ${p}`);
      if (state.tmpLeft.length > 0) failures.push(`${where}: tmp/ left: ${state.tmpLeft.join(", ")}`);
      if (state.locksLeft.length > 0) failures.push(`${where}: locks left: ${state.locksLeft.join(", ")}`);
      const cacheTmp = await listDir(join(mountPoint, "oci-cache", "tmp"));
      if (cacheTmp.length > 0) failures.push(`${where}: oci-cache/tmp left: ${cacheTmp.join(", ")}`);
      const v = await runMakes(project, ["verify", "--store", mountPoint]);
      if (v.code !== 0) failures.push(`${where}: makes verify on the full disk: ${shown(v)}`);
      // More room: the earlier outputs are kept and the run completes.
      execFileSync("mount", ["-o", "remount,size=64m,nr_inodes=100000", mountPoint], { stdio: "pipe" });
      const next = await runMakes(project, ["run", "/image", "--store", mountPoint], { timeoutMs: 120_000 });
      if (next.code !== 0 || next.stdout !== `${refPath.replace(refStore, mountPoint)}\n`) failures.push(`${where}: after growing the disk: ${shown(next)}`);
      const after = await checkStore(mountPoint, refDigests);
      for (const p of after.problems) failures.push(`${where}: after growing the disk: ${p}`);
      for (const hash of state.valid.keys()) if (!after.valid.has(hash)) failures.push(`${where}: ${hash} was valid before and is not after`);
    } finally {
      execFileSync("umount", [mountPoint]);
    }
  }
  stats.failures = failures.length;
  t.diagnostic(figures("full-disk", stats));
  assert.deepEqual(failures, []);
});
