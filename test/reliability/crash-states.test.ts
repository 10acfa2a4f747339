/**
 * The states a crash (SIGKILL, power loss) can leave in a store, made by hand one by one — an empty lock, a
 * lock of a dead process, a lock's temporary file, an output without metadata, a build directory left in
 * tmp/, a torn metadata temp file, a torn metadata file, torn layer-cache files, an image output without
 * metadata — and the next run must finish with the uninterrupted run's output paths, leave no lock, and
 * `makes verify` must be clean. crash.test.ts reaches such states by killing makes at random moments.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, utimes, writeFile } from "node:fs/promises";
import { spawnSync } from "node:child_process";
import { hostname } from "node:os";
import { join } from "node:path";
import { StoreLayout } from "@makes/core";
import { makeProject, runMakes, shown, stdoutLines, tempDir } from "../helpers/project.ts";
import { CRASH_MAKES_TS as MAKES_TS } from "./crash-project.ts";
import { checkStore, contentDigests, figures, listDir } from "./support.ts";

/** The crash states themselves, made by hand: each must leave the next run able to finish with the right output. */
test("the states a crash can leave behind do not block or mislead the next run", { timeout: 180_000 }, async (t) => {
  const project = await makeProject(t, { "makes.ts": MAKES_TS });
  const work = await tempDir(t, "makes-crash-states-");
  const refStore = join(work, "reference");
  const ref = await runMakes(project, ["run", "/top", "/image", "--store", refStore]);
  assert.equal(ref.code, 0, shown(ref));
  const refDigests = await contentDigests(refStore);
  const [topPath, imagePath] = stdoutLines(ref);
  const topHash = (topPath ?? "").split("/").pop()?.slice(0, 32) ?? "";
  const imageHash = (imagePath ?? "").split("/").pop()?.slice(0, 32) ?? "";

  /** The pid of a process that has exited: what a crashed makes's files are named with. */
  const DEAD = spawnSync("true").pid;
  const states: Record<string, (layout: StoreLayout) => Promise<void>> = {
    // Before the fix, a kill between creating the lock (O_EXCL) and writing its owner left an empty
    // lock that every later run waited on forever. Locks are now linked into place with their owner
    // in them; an empty one (an older makes, or a file system without hardlinks) is stale after 10 s.
    "an empty lock file a minute old": async (l) => {
      await mkdir(l.locksDir, { recursive: true });
      await writeFile(l.lockPath(topHash), "");
      const old = new Date(Date.now() - 60_000);
      await utimes(l.lockPath(topHash), old, old);
    },
    "a lock's temporary file (killed before linking it into place)": async (l) => {
      await mkdir(l.locksDir, { recursive: true });
      await writeFile(`${l.lockPath(topHash)}.${DEAD}.abcd.tmp`, `${DEAD} ${hostname()}`);
    },
    "a lock held by a dead process": async (l) => {
      await mkdir(l.locksDir, { recursive: true });
      await writeFile(l.lockPath(topHash), `${DEAD} ${hostname()}`);
    },
    // killed between the rename into store/ and writing the metadata
    "an output without metadata": async (l) => {
      await mkdir(join(l.storeDir, `${topHash}-e`, "share"), { recursive: true });
      await writeFile(join(l.storeDir, `${topHash}-e`, "share", "half"), "half-written");
    },
    "a build directory left in tmp/": async (l) => {
      await mkdir(join(l.tmpDir, `${topHash}-${DEAD}-abcdef`, `${topHash}-e`), { recursive: true });
      await writeFile(join(l.tmpDir, `${topHash}-${DEAD}-abcdef`, `${topHash}-e`, "x"), "partial");
    },
    "a torn metadata temp file": async (l) => {
      await mkdir(l.metaDir, { recursive: true });
      await writeFile(join(l.metaDir, `${topHash}.json.${DEAD}.abcd.tmp`), '{"format":1,"hash":"');
    },
    "a torn metadata file (a disk that lost a write)": async (l) => {
      await mkdir(l.metaDir, { recursive: true });
      await writeFile(l.metaPath(topHash), '{"format":1,"hash":"');
    },
    "a torn layer in the layer cache's tmp/ and a cache record whose blob is gone": async (l) => {
      await mkdir(join(l.root, "oci-cache", "tmp"), { recursive: true });
      await writeFile(join(l.root, "oci-cache", "tmp", "layer-0123456789abcdef"), Buffer.alloc(1000, 1));
      await mkdir(join(l.root, "oci-cache", "layers"), { recursive: true });
      // a record for a layer key that some later run will ask for is not knowable here; a stray one must be harmless
      await writeFile(join(l.root, "oci-cache", "layers", `${"0".repeat(64)}.json`), JSON.stringify({ diffId: "sha256:00", digest: `sha256:${"1".repeat(64)}`, size: 5, mediaType: "x", warnings: [] }));
    },
    "an image output without metadata": async (l) => {
      await mkdir(join(l.storeDir, `${imageHash}-image`, "blobs"), { recursive: true });
      await writeFile(join(l.storeDir, `${imageHash}-image`, "index.json"), "{");
    },
  };
  const failures: string[] = [];
  for (const [what, make] of Object.entries(states)) {
    const store = join(work, what.replace(/[^a-z]+/g, "-"));
    await make(new StoreLayout(store));
    const next = await runMakes(project, ["run", "/top", "/image", "--store", store], { timeoutMs: 30_000 }).catch((err: unknown) => ({ code: -1, signal: null, stdout: "", stderr: String(err) }));
    const expected = [topPath, imagePath].map((p) => (p ?? "").replace(refStore, store)).join("\n") + "\n";
    if (next.code !== 0 || next.stdout !== expected) {
      failures.push(`${what}: ${shown(next)}`);
      continue;
    }
    const state = await checkStore(store, refDigests);
    for (const p of state.problems.filter((p) => !p.includes("0000000000000000"))) failures.push(`${what}: ${p}`);
    const v = await runMakes(project, ["verify", "--store", store]);
    if (v.code !== 0) failures.push(`${what}: makes verify: ${shown(v)}`);
    const locks = await listDir(new StoreLayout(store).locksDir);
    if (locks.length > 0) failures.push(`${what}: locks left after a clean run: ${locks.join(", ")}`);
    const tmp = await listDir(new StoreLayout(store).tmpDir);
    if (tmp.length > 0) failures.push(`${what}: tmp/ left after a clean run: ${tmp.join(", ")}`);
  }
  t.diagnostic(figures("crash-states", { states: Object.keys(states).length, failures: failures.length }));
  assert.deepEqual(failures, []);
});
