/**
 * Shared by the reliability tests: finding the processes a makes run started (its builders), reading a
 * store's state the way its layout defines it, and checking that every path that looks valid is whole.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { lstat, readdir, readFile, readlink } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { StoreLayout, treeDigest, type StoreMeta } from "@makes/core";

export const SLOW = process.env.MAKES_SLOW === "1";

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A small deterministic PRNG (mulberry32), so a run's random choices can be replayed from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function seedFromEnv(): number {
  const given = process.env.MAKES_RELIABILITY_SEED;
  return given === undefined ? (Date.now() ^ Math.floor(Math.random() * 0x7fffffff)) >>> 0 : Number(given) >>> 0;
}

export interface ProcInfo {
  readonly pid: number;
  readonly pgid: number;
  readonly cmdline: string;
}

/**
 * The live processes whose environment mentions `needle` (for builders: `out=<store>/tmp/…`, which only
 * makes's builders have). Zombies are left out: they are dead already.
 */
export async function processesWithEnv(needle: string): Promise<ProcInfo[]> {
  const found: ProcInfo[] = [];
  for (const name of await readdir("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid === process.pid) continue;
    try {
      const environ = await readFile(`/proc/${pid}/environ`, "latin1");
      if (!environ.includes(needle)) continue;
      const stat = await readFile(`/proc/${pid}/stat`, "latin1");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (fields[0] === "Z") continue;
      const cmdline = (await readFile(`/proc/${pid}/cmdline`, "latin1")).replace(/\0/g, " ").trim();
      found.push({ pid, pgid: Number(fields[2]), cmdline });
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

/** The builder processes of runs on `storeRoot` (bash and everything it started). */
export function buildersOf(storeRoot: string): Promise<ProcInfo[]> {
  return processesWithEnv(`out=${join(resolve(storeRoot), "tmp")}/`);
}

/**
 * Kills, by process group, the builders a SIGKILLed makes left behind (they are orphans now: nothing
 * else would stop them). Returns how many processes there were.
 */
export async function killOrphanedBuilders(storeRoot: string): Promise<number> {
  const procs = await buildersOf(storeRoot);
  for (const pgid of new Set(procs.map((p) => p.pgid))) {
    try {
      process.kill(-pgid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  for (let i = 0; i < 100 && (await buildersOf(storeRoot)).length > 0; i++) await sleep(20);
  return procs.length;
}

export { processAlive } from "../helpers/project.ts";

export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

export async function listDir(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => [] as string[]);
}

export interface StoreState {
  /** hash → meta, for every meta/<hash>.json (a meta file that does not parse is a failure, listed in problems). */
  readonly valid: Map<string, StoreMeta>;
  /** store/ entries without metadata: leftovers of a crash, invalid by construction. */
  readonly invalidPaths: string[];
  readonly tmpLeft: string[];
  readonly locksLeft: string[];
  readonly problems: string[];
}

/**
 * Everything the crash and concurrency tests require of a store at rest:
 * - every meta file parses, and names a store path that exists and whose digest is the recorded one
 *   (what `makes verify` checks), and — when `reference` is given — the digest an uninterrupted build gave;
 * - every out-link points to a valid path;
 * - every layer-cache record names a blob whose sha256 and size are the recorded ones.
 */
export async function checkStore(root: string, reference?: ReadonlyMap<string, string>): Promise<StoreState> {
  const layout = new StoreLayout(root);
  const valid = new Map<string, StoreMeta>();
  const problems: string[] = [];
  for (const file of await listDir(layout.metaDir)) {
    if (!file.endsWith(".json")) continue;
    const hash = file.slice(0, -5);
    let meta: StoreMeta;
    try {
      meta = JSON.parse(await readFile(join(layout.metaDir, file), "utf8")) as StoreMeta;
    } catch (err) {
      problems.push(`meta/${file} does not parse: ${String(err)}`);
      continue;
    }
    valid.set(hash, meta);
    const path = layout.storePath(meta.hash, meta.name);
    let digest: string;
    try {
      digest = (await treeDigest(path, { normalise: false })).digest;
    } catch {
      problems.push(`${path} has metadata but is missing`);
      continue;
    }
    if (digest !== meta.contentDigest) problems.push(`${path} looks valid but its content digest ${digest} is not the recorded ${meta.contentDigest}`);
    const expected = reference?.get(hash);
    if (reference !== undefined && expected === undefined) problems.push(`${path} is valid but no uninterrupted build produced it`);
    if (expected !== undefined && meta.contentDigest !== expected) problems.push(`${path} looks valid but differs from the uninterrupted build (${meta.contentDigest} ≠ ${expected})`);
  }
  const invalidPaths = (await listDir(layout.storeDir)).filter((e) => !valid.has(e.slice(0, 32)));
  // Out-links: `out/<job>`, or `out/<namespace>/<job>` for a project whose store is outside it.
  const outLinks: string[] = [];
  for (const name of await listDir(layout.outDir)) {
    const path = join(layout.outDir, name);
    if ((await lstat(path)).isDirectory()) for (const inner of await listDir(path)) outLinks.push(join(name, inner));
    else outLinks.push(name);
  }
  for (const name of outLinks) {
    if (name.endsWith(".tmp") || name.endsWith("/.project")) continue;
    const link = join(layout.outDir, name);
    try {
      const target = resolve(dirname(link), await readlink(link));
      const hash = target.split("/").pop()?.slice(0, 32) ?? "";
      if (!valid.has(hash)) problems.push(`out-link ${name} points to ${target}, which is not valid`);
    } catch (err) {
      problems.push(`out/${name} is not a symlink: ${String(err)}`);
    }
  }
  const cache = join(root, "oci-cache");
  for (const file of await listDir(join(cache, "layers"))) {
    if (!file.endsWith(".json")) continue;
    try {
      const record = JSON.parse(await readFile(join(cache, "layers", file), "utf8")) as { digest: string; size: number };
      const blob = join(cache, "blobs", "sha256", record.digest.replace(/^sha256:/, ""));
      const st = await lstat(blob);
      const sha = `sha256:${await sha256OfFile(blob)}`;
      if (sha !== record.digest || st.size !== record.size) problems.push(`layer cache record ${file} names a torn blob (${sha}, ${st.size} bytes)`);
    } catch (err) {
      problems.push(`layer cache record ${file}: ${String(err)}`);
    }
  }
  return { valid, invalidPaths, tmpLeft: await listDir(layout.tmpDir), locksLeft: await listDir(layout.locksDir), problems };
}

/** hash → content digest of every valid path of a store. */
export async function contentDigests(root: string): Promise<Map<string, string>> {
  const state = await checkStore(root);
  if (state.problems.length > 0) throw new Error(`the reference store is not clean:\n${state.problems.join("\n")}`);
  return new Map([...state.valid].map(([hash, meta]) => [hash, meta.contentDigest]));
}

/** A compact table for t.diagnostic. */
export function figures(name: string, values: Record<string, unknown>): string {
  return `figures ${name}: ${JSON.stringify(values)}`;
}
